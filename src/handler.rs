//! The request hooks: claiming the module's URLs before httpd maps them to files, and the content
//! handlers `classify` (the model's answers), `classify-v2` (the Open Inference Protocol) and
//! `classify-metrics` (Prometheus counters), plus the module's section of mod_status. Each reads
//! the request through `apache::Request`, lets `classify_serve` decide the answer, and writes it
//! back. No `unsafe` here: the guard around each of these is in `apache::hooks`.

use std::time::Instant;

use classify_serve::counters::{self, AnswerTally};
use classify_serve::oip::{answer_v2, NamedModel as NamedModelView, V2Request};
use classify_serve::protocol::{self, Method, Request as ApiRequest};

use crate::apache::{self, BodyError, Level, Location, Request, Status};
use crate::{log_request, shared_counters};

/// The content handler: answers the handler names this module owns.
pub(crate) fn content(request: &mut Request<'_>) -> Status {
    match request.handler() {
        Some("classify") => classify(request),
        Some("classify-metrics") => metrics(request),
        Some("classify-v2") => inference_protocol(request),
        _ => Status::Declined,
    }
}

/// `classify`: one model's answers (texts from the path, the query or the body).
fn classify(request: &mut Request<'_>) -> Status {
    // Lets the test suite prove that a panic becomes a 500 and leaves the child serving.
    #[cfg(feature = "fault-injection")]
    if request.query().is_some_and(|query| query.contains("classify-test-panic")) {
        panic!("fault injected by the test suite");
    }
    let started = Instant::now();
    let Some(location) = request.location() else {
        return internal_error(request, "CLS00011: no configuration for this location");
    };
    let (status, answers) = answer_classify(request, &location);
    if let Some(slot) = location.section.and_then(|section| section.metrics_slot) {
        let answered = if status == Status::Ok { request.status() } else { 0 };
        let seconds = started.elapsed().as_secs_f64();
        shared_counters::record_request(slot, answered, seconds, &answers);
    }
    status
}

/// Answers one `classify` request; returns the hook's status and the texts it answered.
fn answer_classify(request: &mut Request<'_>, location: &Location<'_>) -> (Status, AnswerTally) {
    // Borrowed (the section outlives the request), not cloned: under worker and event every
    // thread's clone would write the same shared count.
    let Some(loaded) = location.section.and_then(|section| section.model.as_deref()) else {
        let message = "CLS00012: SetHandler classify is set here but no ClassifyModel is \
                       configured for this location; add `ClassifyModel /path/to/model` to the \
                       same <Location>";
        return (internal_error(request, message), AnswerTally::default());
    };
    let limits = location.limits();
    let body = match read_body(request, limits.max_body) {
        Ok(body) => body,
        Err(status) => return (status, AnswerTally::default()),
    };
    let raw_path = request.raw_path().to_owned();
    let page = location.settings.page.unwrap_or(false);
    // Only the page shows the name: other requests do not pay for it.
    let model_name = page.then(|| location.section.and_then(|s| s.model_name())).flatten();
    let api_request = ApiRequest {
        method: Some(request.method()),
        path_text: text_below_location(&raw_path, location.path),
        query: request.query(),
        content_type: request.header(c"Content-Type"),
        accept: request.header(c"Accept"),
        prefer_json: location.settings.prefer_json.unwrap_or(false),
        page,
        model_name: model_name.as_deref(),
        body: &body,
    };
    let response = protocol::answer(&loaded.model, &loaded.source, &api_request, &limits);
    send(request, &response);
    (Status::Ok, response.answers)
}

/// The body of a POST (empty for other methods), or the status already answered for it.
fn read_body(request: &mut Request<'_>, limit: usize) -> Result<Vec<u8>, Status> {
    if request.method() != Method::Post {
        return Ok(Vec::new());
    }
    match request.read_body(limit) {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => {
            let message = format!("request body over the limit of {limit} bytes");
            Err(client_error(request, 413, &message))
        }
        Err(BodyError::Status(status)) => Err(Status::HttpError(status)),
    }
}

/// `classify-metrics`: every model's counters in Prometheus text format.
fn metrics(request: &mut Request<'_>) -> Status {
    if request.method() != Method::Get {
        let body = protocol::error_body("method not allowed: use GET or HEAD");
        request.respond(405, c"application/json", Some("GET, HEAD"), &body);
        return Status::Ok;
    }
    let mut snapshot = shared_counters::snapshot();
    // Label counters are by class index: name them after the model each name serves.
    let named = request.server_state().map(|state| state.named()).unwrap_or_default();
    for counters in &mut snapshot {
        if let Some(entry) = named.iter().find(|entry| entry.name == counters.model) {
            counters.classes = entry.model.model.classes().iter().map(|c| c.to_string()).collect();
        }
    }
    let text = counters::render_prometheus(&snapshot, apache::config_generation());
    request.respond(200, c"text/plain; version=0.0.4; charset=utf-8", None, text.as_bytes());
    Status::Ok
}

/// `classify-v2`: the Open Inference Protocol (KServe V2) over every named model.
fn inference_protocol(request: &mut Request<'_>) -> Status {
    let started = Instant::now();
    let location = request.location();
    let limits = location.as_ref().map(|location| location.limits()).unwrap_or_default();
    let location_path = location.and_then(|location| location.path);
    let body = match read_body(request, limits.max_body) {
        Ok(body) => body,
        Err(status) => return status,
    };
    let raw_path = request.raw_path().to_owned();
    let path = inference_path(&raw_path, location_path);
    let v2_request = V2Request {
        method: request.method(),
        path,
        inference_header_length: request.header(c"Inference-Header-Content-Length"),
        body: &body,
    };
    let named = request.server_state().map(|state| state.named()).unwrap_or_default();
    let views: Vec<NamedModelView<'_>> = named
        .iter()
        .map(|entry| NamedModelView {
            name: &entry.name,
            model: &entry.model.model,
            source: &entry.model.source,
        })
        .collect();
    let response = answer_v2(&views, &v2_request, &limits);
    // Requests about one model count in that model's metrics.
    let model_name = path
        .trim_start_matches('/')
        .strip_prefix("models/")
        .map(|rest| rest.split('/').next().unwrap_or(""));
    let slot = model_name.and_then(|name| {
        named.iter().find(|entry| entry.name == name).and_then(|entry| entry.metrics_slot)
    });
    send(request, &response);
    if let Some(slot) = slot {
        let seconds = started.elapsed().as_secs_f64();
        shared_counters::record_request(slot, response.status, seconds, &response.answers);
    }
    Status::Ok
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

/// mod_status's hook: a mod_classify section in /server-status (`?auto`: plain lines).
pub(crate) fn status_section(request: &mut Request<'_>, short: bool) -> Status {
    request.write(counters::render_status(&shared_counters::snapshot(), short).as_bytes());
    Status::Ok
}

/// Writes a core `Response`: logs client errors, sets the label note and headers, sends.
fn send(request: &mut Request<'_>, response: &protocol::Response) {
    if response.status >= 400 {
        let message = String::from_utf8_lossy(&response.body).trim().to_owned();
        log_request!(request, Level::Info, "CLS00013: {} {message}", response.status);
    }
    if let Some(label) = &response.label {
        request.set_note(c"classify-label", label);
    }
    let content_type = match response.content_type {
        ct if ct.starts_with("application/json") => c"application/json",
        ct if ct.starts_with("application/octet-stream") => c"application/octet-stream",
        // The try-it page and its assets (ClassifyPage On).
        ct if ct.starts_with("text/html") => c"text/html; charset=utf-8",
        ct if ct.starts_with("text/javascript") => c"text/javascript; charset=utf-8",
        ct if ct.starts_with("text/css") => c"text/css; charset=utf-8",
        ct if ct.starts_with("image/svg+xml") => c"image/svg+xml",
        _ => c"text/plain; charset=utf-8",
    };
    for (name, value) in &response.headers {
        request.set_header(name, value);
    }
    request.respond(response.status, content_type, response.allow, &response.body);
}

/// The file name `pre_translate_name` gives the requests it claims. Like mod_proxy's "proxy:"
/// names, it is one no file-serving module will open.
const CLAIMED_FILENAME: &str = "classify:";

/// Claims the URLs this module answers, before httpd decodes them and maps them to files.
///
/// httpd decodes the path after this hook and answers 404 to a `%2F` (unless
/// `AllowEncodedSlashes`, which cannot go in a `<Location>`) or a `%00` before any handler runs;
/// `DONE` skips that decoding, and the handler decodes the text from the request line itself.
/// httpd's own translation would then join the document root and the text into a file name (a
/// text over PATH_MAX gets a 403, AH00127) and its directory walk would `stat` it (a word over
/// NAME_MAX gets a 403); neither has meaning for a model, so the claimed request gets a file name
/// of its own, which `translate_name` and `map_to_storage` recognise. This hook runs after the
/// `<Location>` walk, so the configuration tells whether a model answers this URL; every other
/// URL is left to httpd as it is, and `<Location>` access control still applies (httpd walks
/// locations again afterwards).
pub(crate) fn pre_translate_name(request: &mut Request<'_>) -> Status {
    if answered_here(request) {
        request.set_filename(CLAIMED_FILENAME);
        Status::Done
    } else {
        Status::Declined
    }
}

/// Keeps httpd's translation (the document root joined with the path) away from the requests
/// `pre_translate_name` claimed.
pub(crate) fn translate_name(request: &mut Request<'_>) -> Status {
    if is_claimed(request) {
        Status::Ok
    } else {
        Status::Declined
    }
}

/// Skips the directory walk for the URLs `pre_translate_name` claimed, as mod_proxy does for its
/// "proxy:" names. httpd resets the request to the server's default configuration before this
/// hook, so the claim is recognised by its file name, not by the `<Location>`: deciding by the
/// configuration here never matched, and every request paid for a walk of `/classify:` (a
/// `getcwd`, two failed `stat`s and a failed `/.htaccess` open).
pub(crate) fn map_to_storage(request: &mut Request<'_>) -> Status {
    if is_claimed(request) {
        Status::Ok
    } else {
        Status::Declined
    }
}

fn is_claimed(request: &Request<'_>) -> bool {
    request.filename() == Some(CLAIMED_FILENAME)
}

/// Whether the configuration puts a model in a `<Location>` covering this request's path.
fn answered_here(request: &Request<'_>) -> bool {
    let Some(location) = request.location() else { return false };
    let has_model = location.section.is_some_and(|section| section.has_model());
    match (has_model, location.path) {
        (true, Some(path)) => request.raw_path().starts_with(path.trim_end_matches('/')),
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

fn client_error(request: &mut Request<'_>, status: u16, message: &str) -> Status {
    log_request!(request, Level::Info, "CLS00014: {status} {message}");
    request.respond(status, c"application/json", None, &protocol::error_body(message));
    Status::Ok
}

fn internal_error(request: &mut Request<'_>, message: &str) -> Status {
    log_request!(request, Level::Error, "{message}");
    request.respond(500, c"application/json", None, &protocol::error_body("internal error"));
    Status::Ok
}
