//! The `classify` content handler: declines what is not ours, reads the request through the safe
//! `Req` view, lets `classify_core::protocol` decide the answer, and writes it back.

use std::os::raw::c_int;

use classify_core::protocol::{self, Method, Request};

use crate::ffi;
use crate::guard;
use crate::log::{self, Level};
use crate::request::{BodyError, Req};

const HANDLER_NAME: &str = "classify";

pub unsafe extern "C" fn classify_handler(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let mut req = unsafe { Req::new(raw) };
    if req.handler() != Some(HANDLER_NAME) {
        return ffi::DECLINED;
    }
    match guard::catch(|| handle(&mut req)) {
        Ok(status) => status,
        Err(panic) => {
            log::request(raw, Level::Error, &format!("CLS00010: internal error: {panic}"));
            // SAFETY: same live request; Req holds no borrow across the panic.
            let mut req = unsafe { Req::new(raw) };
            req.respond(500, c"application/json", None, &protocol::error_body("internal error"));
            ffi::OK as c_int
        }
    }
}

fn handle(req: &mut Req) -> c_int {
    // Lets the test suite prove that a panic becomes a 500 and leaves the child serving.
    #[cfg(feature = "fault-injection")]
    if req.query().is_some_and(|query| query.contains("classify-test-panic")) {
        panic!("fault injected by the test suite");
    }
    let Some(config) = req.dir_config().copied() else {
        return internal_error(req, "CLS00011: no configuration for this location");
    };
    let Some(loaded) = config.model() else {
        return internal_error(
            req,
            "CLS00012: SetHandler classify is set here but no ClassifyModel is configured for this \
             location; add `ClassifyModel /path/to/model` to the same <Location>",
        );
    };
    let limits = config.limits();
    let method = req.method();
    let body = if method == Method::Post {
        match req.read_body(limits.max_body) {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                let message = format!("request body over the limit of {} bytes", limits.max_body);
                return client_error(req, 413, &message);
            }
            Err(BodyError::Status(status)) => return status,
        }
    } else {
        Vec::new()
    };
    let raw_path = req.raw_path().to_owned();
    let path_text = text_below_location(&raw_path, config.location());
    let request = Request {
        method: Some(method),
        path_text,
        query: req.query(),
        content_type: req.header(c"Content-Type"),
        accept: req.header(c"Accept"),
        prefer_json: config.prefer_json.unwrap_or(false),
        body: &body,
    };
    let response = protocol::answer(&loaded.model, &loaded.source, &request, &limits);
    if response.status >= 400 {
        let message = String::from_utf8_lossy(&response.body).trim().to_owned();
        log::request(req.raw(), Level::Info, &format!("CLS00013: {} {message}", response.status));
    }
    if let Some(label) = &response.label {
        req.set_note(c"classify-label", label);
    }
    let content_type = if response.content_type.starts_with("application/json") {
        c"application/json"
    } else {
        c"text/plain; charset=utf-8"
    };
    req.respond(response.status, content_type, response.allow, &response.body);
    ffi::OK as c_int
}

/// Claims the URLs this module answers before httpd maps them to files. httpd's own translation
/// would join the document root and the text into a file name (a text over PATH_MAX gets a 403,
/// AH00127) and its directory walk would `stat` it (a word over NAME_MAX gets a 403); neither has
/// meaning for a model. Both hooks run before `SetHandler` is applied, so they go by the
/// configuration: a model named in a `<Location>` that covers the request's path. `<Location>`
/// access control still applies: httpd walks locations again afterwards.
pub unsafe extern "C" fn classify_translate_name(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let mut req = unsafe { Req::new(raw) };
    match guard::catch(|| answered_here(&req)) {
        Ok(true) => {
            // Like mod_proxy's "proxy:" names: a file name no file-serving module will open.
            req.set_filename("classify:");
            ffi::OK as c_int
        }
        Ok(false) => ffi::DECLINED,
        Err(panic) => {
            log::request(raw, Level::Error, &format!("CLS00015: internal error: {panic}"));
            ffi::DECLINED
        }
    }
}

/// Skips the directory walk (see `classify_translate_name`) for the URLs this module answers.
pub unsafe extern "C" fn classify_map_to_storage(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let req = unsafe { Req::new(raw) };
    match guard::catch(|| answered_here(&req)) {
        Ok(true) => ffi::OK as c_int,
        Ok(false) => ffi::DECLINED,
        Err(panic) => {
            log::request(raw, Level::Error, &format!("CLS00016: internal error: {panic}"));
            ffi::DECLINED
        }
    }
}

/// Whether the configuration puts a model in a `<Location>` covering this request's path.
fn answered_here(req: &Req) -> bool {
    let Some(config) = req.dir_config() else { return false };
    match (config.model, config.location()) {
        (Some(_), Some(location)) => req.raw_path().starts_with(location.trim_end_matches('/')),
        _ => false,
    }
}

/// The part of the raw URL path below the `<Location>` prefix, without its leading slash.
fn text_below_location<'a>(raw_path: &'a str, location: Option<&str>) -> &'a str {
    let rest = match location {
        Some(location) => raw_path.strip_prefix(location.trim_end_matches('/')).unwrap_or(""),
        None => "",
    };
    rest.strip_prefix('/').unwrap_or(rest)
}

fn client_error(req: &mut Req, status: u16, message: &str) -> c_int {
    log::request(req.raw(), Level::Info, &format!("CLS00014: {status} {message}"));
    req.respond(status, c"application/json", None, &protocol::error_body(message));
    ffi::OK as c_int
}

fn internal_error(req: &mut Req, message: &str) -> c_int {
    log::request(req.raw(), Level::Error, message);
    req.respond(500, c"application/json", None, &protocol::error_body("internal error"));
    ffi::OK as c_int
}
