//! The content handlers: `classify` (the model's answers) and `classify-metrics` (Prometheus
//! counters). Each declines what is not its own, reads the request through the safe `Req` view,
//! lets `classify_core` decide the answer, and writes it back.

use std::os::raw::c_int;
use std::time::Instant;

use classify_serve::counters;
use classify_serve::oip::{answer_v2, NamedModel as NamedModelView, V2Request};
use classify_serve::protocol::{self, Method, Request};

use crate::ffi;
use crate::guard;
use crate::log::{self, Level};
use crate::models;
use crate::request::{BodyError, Req};
use crate::shared_counters;

pub unsafe extern "C" fn classify_handler(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let mut req = unsafe { Req::new(raw) };
    match req.handler() {
        Some("classify") => {}
        Some("classify-metrics") => return serve_metrics(raw),
        Some("classify-v2") => return serve_inference_v2(raw),
        _ => return ffi::DECLINED,
    }
    let started = Instant::now();
    let (code, texts) = match guard::catch(|| handle(&mut req)) {
        Ok(outcome) => outcome,
        Err(panic) => {
            log::request(raw, Level::Error, &format!("CLS00010: internal error: {panic}"));
            // SAFETY: same live request; Req holds no borrow across the panic.
            let mut req = unsafe { Req::new(raw) };
            req.respond(500, c"application/json", None, &protocol::error_body("internal error"));
            (ffi::OK as c_int, 0)
        }
    };
    // Counting must never fail a request that was answered.
    let _ = guard::catch(|| {
        // SAFETY: same live request, after the handler is done with it.
        let req = unsafe { Req::new(raw) };
        if let Some(slot) = req.dir_config().and_then(|config| config.metrics_slot) {
            let status = if code == ffi::OK as c_int { req.status() } else { code };
            let seconds = started.elapsed().as_secs_f64();
            shared_counters::record_request(
                slot,
                u16::try_from(status).unwrap_or(0),
                seconds,
                texts as u64,
            );
        }
    });
    code
}

/// `classify-metrics`: every model's counters in Prometheus text format.
fn serve_metrics(raw: *mut ffi::request_rec) -> c_int {
    let outcome = guard::catch(|| {
        // SAFETY: httpd passes the live request it is processing.
        let mut req = unsafe { Req::new(raw) };
        if req.method() != Method::Get {
            let body = protocol::error_body("method not allowed: use GET or HEAD");
            req.respond(405, c"application/json", Some("GET, HEAD"), &body);
            return;
        }
        // SAFETY: ap_state_query only reads httpd's global state.
        let generation = unsafe { ffi::ap_state_query(ffi::AP_SQ_CONFIG_GEN as c_int) };
        let text = counters::render_prometheus(&shared_counters::snapshot(), i64::from(generation));
        req.respond(200, c"text/plain; version=0.0.4; charset=utf-8", None, text.as_bytes());
    });
    if let Err(panic) = outcome {
        log::request(raw, Level::Error, &format!("CLS00017: internal error: {panic}"));
        // SAFETY: same live request.
        let mut req = unsafe { Req::new(raw) };
        req.respond(500, c"application/json", None, &protocol::error_body("internal error"));
    }
    ffi::OK as c_int
}

/// `classify-v2`: the Open Inference Protocol (KServe V2) over every named model.
fn serve_inference_v2(raw: *mut ffi::request_rec) -> c_int {
    let started = Instant::now();
    let outcome = guard::catch(|| {
        // SAFETY: httpd passes the live request it is processing.
        let mut req = unsafe { Req::new(raw) };
        let limits = req.dir_config().map(|config| config.limits()).unwrap_or_default();
        let method = req.method();
        let body = if method == Method::Post {
            match req.read_body(limits.max_body) {
                Ok(body) => body,
                Err(BodyError::TooLarge) => {
                    let message =
                        format!("request body over the limit of {} bytes", limits.max_body);
                    return client_error(&mut req, 413, &message);
                }
                Err(BodyError::Status(status)) => return status,
            }
        } else {
            Vec::new()
        };
        let raw_path = req.raw_path().to_owned();
        let location = req.dir_config().and_then(|config| config.location());
        let path = inference_path(&raw_path, location);
        let request = V2Request {
            method,
            path,
            inference_header_length: req.header(c"Inference-Header-Content-Length"),
            body: &body,
        };
        let (response, slot) = models::with_named(|named| {
            let views: Vec<NamedModelView<'_>> = named
                .iter()
                .map(|entry| NamedModelView {
                    name: &entry.name,
                    model: &entry.model.model,
                    source: &entry.model.source,
                })
                .collect();
            let response = answer_v2(&views, &request, &limits);
            // Requests about one model count in that model's metrics.
            let name = path
                .trim_start_matches('/')
                .strip_prefix("models/")
                .map(|rest| rest.split('/').next().unwrap_or(""));
            let slot = name.and_then(|name| {
                named.iter().find(|entry| entry.name == name).and_then(|entry| entry.metrics_slot)
            });
            (response, slot)
        });
        send(&mut req, &response);
        if let Some(slot) = slot {
            let seconds = started.elapsed().as_secs_f64();
            shared_counters::record_request(slot, response.status, seconds, response.texts as u64);
        }
        ffi::OK as c_int
    });
    outcome.unwrap_or_else(|panic| {
        log::request(raw, Level::Error, &format!("CLS00019: internal error: {panic}"));
        // SAFETY: same live request.
        let mut req = unsafe { Req::new(raw) };
        req.respond(500, c"application/json", None, &protocol::error_body("internal error"));
        ffi::OK as c_int
    })
}

/// The inference API path below its `<Location>`: below a location with a mod_classify directive,
/// else below the first `/v2` segment (the protocol's paths all start with /v2).
fn inference_path<'a>(raw_path: &'a str, location: Option<&str>) -> &'a str {
    if let Some(location) = location {
        if let Some(rest) = raw_path.strip_prefix(location.trim_end_matches('/')) {
            return rest.trim_start_matches('/');
        }
    }
    match raw_path.find("/v2") {
        Some(at) => raw_path[at + 3..].trim_start_matches('/'),
        None => "",
    }
}

/// mod_status's `status_hook`: a mod_classify section in /server-status (`?auto`: plain lines).
pub unsafe extern "C" fn status_hook(raw: *mut ffi::request_rec, flags: c_int) -> c_int {
    let outcome = guard::catch(|| {
        // SAFETY: mod_status passes the live request it is answering.
        let mut req = unsafe { Req::new(raw) };
        let short = flags & STATUS_SHORT != 0;
        req.write(counters::render_status(&shared_counters::snapshot(), short).as_bytes());
    });
    if let Err(panic) = outcome {
        log::request(raw, Level::Error, &format!("CLS00018: internal error: {panic}"));
    }
    ffi::OK as c_int
}

/// mod_status.h's AP_STATUS_SHORT: a machine-readable (`?auto`) report.
const STATUS_SHORT: c_int = 0x1;

/// Answers one `classify` request; returns the handler's result and how many texts it classified.
fn handle(req: &mut Req) -> (c_int, usize) {
    // Lets the test suite prove that a panic becomes a 500 and leaves the child serving.
    #[cfg(feature = "fault-injection")]
    if req.query().is_some_and(|query| query.contains("classify-test-panic")) {
        panic!("fault injected by the test suite");
    }
    let Some(config) = req.dir_config().copied() else {
        return (internal_error(req, "CLS00011: no configuration for this location"), 0);
    };
    let Some(loaded) = config.model() else {
        let code = internal_error(
            req,
            "CLS00012: SetHandler classify is set here but no ClassifyModel is configured for this \
             location; add `ClassifyModel /path/to/model` to the same <Location>",
        );
        return (code, 0);
    };
    let limits = config.limits();
    let method = req.method();
    let body = if method == Method::Post {
        match req.read_body(limits.max_body) {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                let message = format!("request body over the limit of {} bytes", limits.max_body);
                return (client_error(req, 413, &message), 0);
            }
            Err(BodyError::Status(status)) => return (status, 0),
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
    send(req, &response);
    (ffi::OK as c_int, response.texts)
}

/// Writes a core `Response`: logs client errors, sets the label note and headers, sends.
fn send(req: &mut Req, response: &protocol::Response) {
    if response.status >= 400 {
        let message = String::from_utf8_lossy(&response.body).trim().to_owned();
        log::request(req.raw(), Level::Info, &format!("CLS00013: {} {message}", response.status));
    }
    if let Some(label) = &response.label {
        req.set_note(c"classify-label", label);
    }
    let content_type = match response.content_type {
        ct if ct.starts_with("application/json") => c"application/json",
        ct if ct.starts_with("application/octet-stream") => c"application/octet-stream",
        _ => c"text/plain; charset=utf-8",
    };
    for (name, value) in &response.headers {
        req.set_header(name, value);
    }
    req.respond(response.status, content_type, response.allow, &response.body);
}

/// The file name `classify_translate_name` gives the requests it claims. Like mod_proxy's
/// "proxy:" names, it is one no file-serving module will open.
const CLAIMED_FILENAME: &str = "classify:";

/// Claims the URLs this module answers before httpd maps them to files. httpd's own translation
/// would join the document root and the text into a file name (a text over PATH_MAX gets a 403,
/// AH00127) and its directory walk would `stat` it (a word over NAME_MAX gets a 403); neither has
/// meaning for a model. This hook runs before `SetHandler` is applied, so it goes by the
/// configuration: a model named in a `<Location>` that covers the request's path. `<Location>`
/// access control still applies: httpd walks locations again afterwards.
pub unsafe extern "C" fn classify_translate_name(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let mut req = unsafe { Req::new(raw) };
    match guard::catch(|| answered_here(&req)) {
        Ok(true) => {
            req.set_filename(CLAIMED_FILENAME);
            ffi::OK as c_int
        }
        Ok(false) => ffi::DECLINED,
        Err(panic) => {
            log::request(raw, Level::Error, &format!("CLS00015: internal error: {panic}"));
            ffi::DECLINED
        }
    }
}

/// Skips the directory walk for the URLs `classify_translate_name` claimed, as mod_proxy does
/// for its "proxy:" names. httpd resets the request to the server's default configuration before
/// this hook, so the claim is recognised by its file name, not by the `<Location>`: deciding by
/// the configuration here never matched, and every request paid for a walk of `/classify:` (a
/// `getcwd`, two failed `stat`s and a failed `/.htaccess` open).
pub unsafe extern "C" fn classify_map_to_storage(raw: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request it is processing.
    let req = unsafe { Req::new(raw) };
    match guard::catch(|| req.filename() == Some(CLAIMED_FILENAME)) {
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
