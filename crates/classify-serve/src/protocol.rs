//! The HTTP protocol of the `classify` handler, as plain functions over plain values so that it is
//! unit-tested and fuzzed without Apache: which texts a request carries (path, query, form, plain or
//! JSON body), which answer it gets (label as text/plain, or JSON with scores), and which error.
//! The Apache module only copies request fields in and the `Response` out.

use serde_json::{json, Map, Value};

use crate::counters::AnswerTally;
use classify_core::model::format::VectorizerSpec;
use classify_core::model::{KernelParams, Model, Prediction, Task};

/// Limits that bound the work one request can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Most texts in one JSON batch.
    pub max_batch: usize,
    /// Most classes listed by `top=k`.
    pub max_top: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 1 << 20, max_batch: 1000, max_top: 1000 }
    }
}

/// The HTTP method, reduced to what the handler distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// What the handler needs to know about a request. Strings are raw (still percent-encoded).
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: Option<Method>,
    /// The part of the URL path after the `<Location>`, without the leading `/`.
    pub path_text: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub accept: Option<&'a str>,
    /// Answer in JSON even without `Accept: application/json` (`ClassifyDefaultFormat json`).
    pub prefer_json: bool,
    /// `ClassifyPage On`: a browser's GET with no text gets the try-it page.
    pub page: bool,
    /// The model's name (`ClassifyModelName`, or the file's stem), for the page's title.
    pub model_name: Option<&'a str>,
    pub body: &'a [u8],
}

/// Where the served model came from, for the metadata answer.
#[derive(Debug, Clone, Default)]
pub struct ModelSource {
    pub path: String,
    pub loaded_at_unix: u64,
    pub load_ms: f64,
}

/// The answer to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The answer as the `classify-label` request note holds it (single-text requests): the
    /// label, the labels comma-joined, or the number.
    pub label: Option<String>,
    /// Methods to list in an `Allow` header (405 answers).
    pub allow: Option<&'static str>,
    /// Further response headers, as (name, value), e.g. the Open Inference Protocol's
    /// `Inference-Header-Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The texts classified to answer, by kind of answer (for metrics).
    pub answers: AnswerTally,
}

/// The methods the handler serves, for `Allow`.
pub(crate) const ALLOWED_METHODS: &str = "GET, HEAD, POST";

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// Answers one request with the given model.
pub fn answer(
    model: &Model,
    source: &ModelSource,
    request: &Request<'_>,
    limits: &Limits,
) -> Response {
    match answer_or_error(model, source, request, limits) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// A client error: status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientError {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl ClientError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        ClientError { status, message: message.into() }
    }

    fn into_response(self) -> Response {
        let allow = (self.status == 405).then_some(ALLOWED_METHODS);
        Response {
            status: self.status,
            content_type: JSON,
            body: error_body(&self.message),
            label: None,
            allow,
            headers: Vec::new(),
            answers: AnswerTally::default(),
        }
    }
}

/// `{"error": message}` as bytes.
pub fn error_body(message: &str) -> Vec<u8> {
    let mut body = json!({ "error": message }).to_string().into_bytes();
    body.push(b'\n');
    body
}

/// What the client asked to have classified.
#[derive(Debug, PartialEq)]
enum Input {
    Metadata,
    One(String),
    Batch(Vec<String>),
}

/// What the client asked to see besides the label.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extras {
    /// `top=k`: the k best classes.
    pub(crate) top: Option<usize>,
    /// `explain=k`: the k features that contributed most to the predicted class.
    pub(crate) explain: Option<usize>,
    /// `places=1`: with `explain`, where in the text each explained n-gram was read.
    pub(crate) places: bool,
}

impl Extras {
    /// Fields set in `later` override those in `self`; counts are capped by `limits`.
    fn merged(self, later: Extras, limits: &Limits) -> Extras {
        Extras {
            top: later.top.or(self.top).map(|k| k.min(limits.max_top)),
            explain: later.explain.or(self.explain).map(|k| k.min(limits.max_top)),
            places: later.places || self.places,
        }
    }
}

fn answer_or_error(
    model: &Model,
    source: &ModelSource,
    request: &Request<'_>,
    limits: &Limits,
) -> Result<Response, ClientError> {
    if let Some(page) = crate::page::answer(model, source, request) {
        return Ok(page);
    }
    let method = request.method.unwrap_or(Method::Other);
    if method == Method::Other {
        return Err(ClientError::new(405, "method not allowed: use GET, HEAD or POST"));
    }
    let query = parse_query(request.query.unwrap_or(""), "query string")?;
    let mut json = request.prefer_json || accepts_json(request.accept);
    let mut extras = Extras::default().merged(query.extras, limits);
    let input = match method {
        Method::Post => {
            if request.body.len() > limits.max_body {
                return Err(ClientError::new(
                    413,
                    format!("request body over the limit of {} bytes", limits.max_body),
                ));
            }
            let body = parse_body(request.content_type, request.body)?;
            json |= body.json;
            extras = extras.merged(body.extras, limits);
            body.input
        }
        _ => match (request.path_text.is_empty(), query.text) {
            (false, _) => Input::One(percent_decode(request.path_text, false, "URL path")?),
            (true, Some(text)) => Input::One(text),
            (true, None) => Input::Metadata,
        },
    };
    if let (Some(_), Some(reason)) = (extras.explain, model.explanation_unavailable()) {
        return Err(ClientError::new(400, reason));
    }
    if extras.top.is_some() && model.task() == Task::Regression {
        return Err(ClientError::new(
            400,
            format!("top= ranks classes, but this model ({}) answers a number", model.estimator()),
        ));
    }
    match input {
        Input::Metadata => Ok(json_response(metadata(model, source), None, AnswerTally::default())),
        Input::One(text) => {
            let (prediction, counts) = model.predict_counted(&text);
            let answer = model.answer(&prediction);
            let note = answer.log_note();
            let mut answers = AnswerTally::default();
            answers.observe(model, &text, &prediction, counts);
            if json {
                let answer = prediction_json(model, &text, &prediction, extras);
                Ok(json_response(answer, Some(note), answers))
            } else {
                let mut body = answer.to_string().into_bytes();
                body.push(b'\n');
                Ok(Response {
                    status: 200,
                    content_type: TEXT,
                    body,
                    label: Some(note),
                    allow: None,
                    headers: Vec::new(),
                    answers,
                })
            }
        }
        Input::Batch(texts) => {
            if texts.len() > limits.max_batch {
                return Err(ClientError::new(
                    413,
                    format!(
                        "batch of {} texts is over the limit of {}",
                        texts.len(),
                        limits.max_batch
                    ),
                ));
            }
            let mut answers = AnswerTally::default();
            let results: Vec<Value> = texts
                .iter()
                .map(|text| {
                    let (prediction, counts) = model.predict_counted(text);
                    answers.observe(model, text, &prediction, counts);
                    prediction_json(model, text, &prediction, extras)
                })
                .collect();
            Ok(json_response(json!({ "results": results }), None, answers))
        }
    }
}

fn json_response(value: Value, label: Option<String>, answers: AnswerTally) -> Response {
    let mut body = value.to_string().into_bytes();
    body.push(b'\n');
    Response {
        status: 200,
        content_type: JSON,
        body,
        label,
        allow: None,
        headers: Vec::new(),
        answers,
    }
}

/// `{"label": L, "scores": {...}, "probabilities": {...}, "top": [...], "explanation": [...]}`
/// for the prediction `prediction` of `text`; a multi-label model's has `"labels": [...]` (its
/// scores and probabilities are each label's own), a regressor's is `{"value": x, "explanation": ...}`.
pub(crate) fn prediction_json(
    model: &Model,
    text: &str,
    prediction: &Prediction,
    extras: Extras,
) -> Value {
    let mut answer = Map::new();
    if model.task() == Task::Regression {
        answer.insert("value".into(), model.answer(prediction).to_json());
        insert_explanation(&mut answer, model, text, prediction, extras);
        return Value::Object(answer);
    }
    let classes = model.classes();
    let scores = model.class_scores(prediction);
    let multi_label = model.task() == Task::MultiLabel;
    let key = if multi_label { "labels" } else { "label" };
    answer.insert(key.into(), model.answer(prediction).to_json());
    let by_class = |values: &[f64]| -> Map<String, Value> {
        classes.iter().zip(values).map(|(c, v)| (c.to_string(), json!(v))).collect()
    };
    answer.insert("scores".into(), Value::Object(by_class(&scores)));
    if let Some(probabilities) = &prediction.probabilities {
        answer.insert("probabilities".into(), Value::Object(by_class(probabilities)));
    }
    if let Some(k) = extras.top {
        let ranking = prediction.probabilities.as_ref().unwrap_or(&scores);
        let mut order: Vec<usize> = (0..classes.len()).collect();
        // Stable sort: equal values keep class order, like sklearn's lowest-index tie rule.
        order.sort_by(|&a, &b| ranking[b].total_cmp(&ranking[a]));
        // The predicted class leads even where the ranking disagrees with the prediction (an SVC
        // decides by one-vs-one votes, and sklearn's probabilities are fitted separately). A
        // multi-label model's labels are ranked by their own scores alone.
        let predicted = order.iter().position(|&i| i == prediction.class_index);
        if let (false, Some(position)) = (multi_label, predicted) {
            order[..=position].rotate_right(1);
        }
        let top: Vec<Value> = order
            .iter()
            .take(k)
            .map(|&i| {
                let mut entry = json!({ "label": classes[i].to_json(), "score": scores[i] });
                if let Some(p) = &prediction.probabilities {
                    entry["probability"] = json!(p[i]);
                }
                entry
            })
            .collect();
        answer.insert("top".into(), Value::Array(top));
    }
    insert_explanation(&mut answer, model, text, prediction, extras);
    Value::Object(answer)
}

/// `"explanation": [{"feature", "contribution"}, ...]` when the request asked for one.
fn insert_explanation(
    answer: &mut Map<String, Value>,
    model: &Model,
    text: &str,
    prediction: &Prediction,
    extras: Extras,
) {
    if let Some(k) = extras.explain {
        let explained = model.explain(text, prediction, k);
        let places = extras.places.then(|| {
            let features: Vec<&str> = explained.iter().map(|(f, _)| f.as_str()).collect();
            model.feature_places(text, &features)
        });
        let explanation: Vec<Value> = explained
            .iter()
            .enumerate()
            .map(|(i, (feature, contribution))| {
                let mut entry = json!({"feature": feature, "contribution": contribution});
                // Character ranges of the text, when the model can place its n-grams.
                if let Some(Some(places)) = &places {
                    entry["places"] = json!(places[i]);
                }
                entry
            })
            .collect();
        answer.insert("explanation".into(), Value::Array(explanation));
    }
}

/// "classification", "multi_label" or "regression": what the model's answers are.
pub(crate) fn task_name(model: &Model) -> &'static str {
    model.task().name()
}

/// The model metadata answer of `GET /loc`.
pub fn metadata(model: &Model, source: &ModelSource) -> Value {
    let file = model.settings();
    let classes: Vec<Value> = model.classes().iter().map(|c| c.to_json()).collect();
    let describe = |vectorizer: &VectorizerSpec, tfidf: bool| {
        json!({
            "kind": vectorizer.kind,
            "analyzer": vectorizer.analyzer,
            "ngram_range": vectorizer.ngram_range,
            "lowercase": vectorizer.lowercase,
            "strip_accents": vectorizer.strip_accents,
            "binary": vectorizer.binary,
            "tfidf": tfidf,
        })
    };
    let vectorizer = match (&file.vectorizer, &file.union) {
        (Some(vectorizer), _) => describe(vectorizer, file.tfidf.is_some()),
        (None, Some(union)) => json!({"union": union
            .branches
            .iter()
            .map(|branch| {
                let mut part = describe(&branch.vectorizer, branch.tfidf.is_some());
                part["name"] = json!(branch.name);
                part["weight"] = json!(branch.weight);
                part
            })
            .collect::<Vec<_>>()}),
        (None, None) => Value::Null,
    };
    let mut answer = json!({
        "task": task_name(model),
        "classes": classes,
        "estimator": model.estimator(),
        "vectorizer": vectorizer,
        "n_features": model.n_features(),
        "probabilities": model.has_probabilities(),
        "format_version": file.format_version,
        "file": source.path,
        "loaded_at": source.loaded_at_unix,
        "load_ms": source.load_ms,
        "checksum": format!("{:016x}", model.checksum()),
    });
    if !file.steps.is_empty() {
        answer["steps"] = json!(file.steps.iter().map(|s| s.estimator()).collect::<Vec<_>>());
    }
    if let Some(kernel) = model.classifier().as_kernel() {
        let mut about = kernel_metadata(kernel.params(), kernel.support_vectors().len());
        about["n_support"] = json!(kernel.n_support());
        answer["kernel"] = about;
    }
    if let Some(regressor) = model.classifier().as_kernel_regressor() {
        // As a kernel SVM's, without n_support: a regressor's vectors belong to no class.
        answer["kernel"] = kernel_metadata(regressor.params(), regressor.support_vectors().len());
    }
    if let Some(trees) = model.classifier().as_trees() {
        let size = trees.size();
        answer["trees"] = json!({"trees": size.trees, "nodes": size.nodes, "leaves": size.leaves});
    }
    answer
}

/// Whether the client's `Accept` header asks for JSON.
fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|item| {
            let media = item.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case(JSON)
        })
    })
}

#[derive(Debug, Default)]
struct Query {
    text: Option<String>,
    extras: Extras,
}

/// Parses `text=...&top=k&explain=k` (a query string, or a form body as `what` says).
fn parse_query(query: &str, what: &str) -> Result<Query, ClientError> {
    let mut parsed = Query::default();
    for (key, value) in form_pairs(query, what)? {
        match key.as_str() {
            "text" => parsed.text = Some(value),
            "top" => parsed.extras.top = Some(parse_count("top", &value)?),
            "explain" => parsed.extras.explain = Some(parse_count("explain", &value)?),
            "places" => parsed.extras.places = parse_flag("places", &value)?,
            _ => {}
        }
    }
    Ok(parsed)
}

fn parse_flag(name: &str, value: &str) -> Result<bool, ClientError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ClientError::new(400, format!("{name}={value:?} is not 1, 0, true or false"))),
    }
}

fn parse_count(name: &str, value: &str) -> Result<usize, ClientError> {
    value.parse::<usize>().map_err(|_| {
        ClientError::new(400, format!("{name}={value:?} is not a non-negative integer"))
    })
}

/// A POST body, decoded.
struct Body {
    input: Input,
    /// Whether the body was JSON (then so is the answer).
    json: bool,
    extras: Extras,
}

/// Decodes a POST body into the texts it carries and the extras it asks for.
fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Body, ClientError> {
    let media = content_type
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_else(|| "text/plain".into());
    match media.as_str() {
        "text/plain" | "" => {
            let input = Input::One(utf8(body, "request body")?.to_owned());
            Ok(Body { input, json: false, extras: Extras::default() })
        }
        "application/x-www-form-urlencoded" => {
            let form = parse_query(utf8(body, "request body")?, "form body")?;
            let text =
                form.text.ok_or_else(|| ClientError::new(400, "form body has no text= field"))?;
            Ok(Body { input: Input::One(text), json: false, extras: form.extras })
        }
        "application/json" => {
            let (input, extras) = parse_json_body(body)?;
            Ok(Body { input, json: true, extras })
        }
        other => Err(ClientError::new(
            415,
            format!(
                "content type {other:?} not supported: send text/plain, \
                 application/x-www-form-urlencoded (text=...) or application/json"
            ),
        )),
    }
}

fn parse_json_body(body: &[u8]) -> Result<(Input, Extras), ClientError> {
    // serde_json refuses invalid UTF-8 and bounds nesting depth (128), so hostile JSON is an error,
    // never a stack overflow.
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ClientError::new(400, format!("malformed JSON body: {e}")))?;
    let Value::Object(object) = value else {
        return Err(ClientError::new(
            400,
            "JSON body must be an object with \"text\" or \"texts\"",
        ));
    };
    let count = |name: &str| match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
            ClientError::new(400, format!("\"{name}\" must be a non-negative integer"))
        }),
    };
    let places = match object.get("places") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(places)) => *places,
        Some(_) => return Err(ClientError::new(400, "\"places\" must be true or false")),
    };
    let extras = Extras { top: count("top")?, explain: count("explain")?, places };
    let input = match (object.get("text"), object.get("texts")) {
        (Some(Value::String(text)), None) => Input::One(text.clone()),
        (Some(_), None) => return Err(ClientError::new(400, "\"text\" must be a string")),
        (None, Some(Value::Array(items))) => {
            let texts = items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) => Ok(text.clone()),
                    _ => Err(ClientError::new(400, format!("\"texts\"[{i}] must be a string"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Input::Batch(texts)
        }
        (None, Some(_)) => {
            return Err(ClientError::new(400, "\"texts\" must be an array of strings"))
        }
        (Some(_), Some(_)) => {
            return Err(ClientError::new(400, "send either \"text\" or \"texts\", not both"))
        }
        (None, None) => {
            return Err(ClientError::new(400, "JSON body has no \"text\" or \"texts\" field"))
        }
    };
    Ok((input, extras))
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, ClientError> {
    std::str::from_utf8(bytes).map_err(|e| {
        ClientError::new(400, format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()))
    })
}

/// Splits `a=b&c=d` and decodes each side as `application/x-www-form-urlencoded`.
fn form_pairs(form: &str, what: &str) -> Result<Vec<(String, String)>, ClientError> {
    form.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(key, true, what)?, percent_decode(value, true, what)?))
        })
        .collect()
}

/// The value of one hexadecimal digit (no sign, unlike `u8::from_str_radix`, which reads
/// `%+f` as 15).
fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

/// Strict percent-decoding: `%` must be followed by two hex digits and the result must be UTF-8.
/// In forms and query strings `+` means a space; in a path it is a literal `+`.
pub(crate) fn percent_decode(
    raw: &str,
    plus_is_space: bool,
    what: &str,
) -> Result<String, ClientError> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    // Texts are mostly runs of plain bytes between escapes: copy each run whole.
    let is_special = |byte: &u8| *byte == b'%' || (plus_is_space && *byte == b'+');
    while let Some(run) = bytes[i..].iter().position(is_special) {
        decoded.extend_from_slice(&bytes[i..i + run]);
        i += run;
        if bytes[i] == b'+' {
            decoded.push(b' ');
            i += 1;
            continue;
        }
        let high = bytes.get(i + 1).copied().and_then(hex_digit);
        let low = bytes.get(i + 2).copied().and_then(hex_digit);
        let (Some(high), Some(low)) = (high, low) else {
            let message = format!("bad percent-encoding in the {what} at byte {i}");
            return Err(ClientError::new(400, message));
        };
        decoded.push(high << 4 | low);
        i += 3;
    }
    decoded.extend_from_slice(&bytes[i..]);
    String::from_utf8(decoded).map_err(|e| {
        ClientError::new(
            400,
            format!("the {what} decodes to invalid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// The metadata answer's `kernel` object of a kernel SVM or regressor.
fn kernel_metadata(params: KernelParams, support_vectors: usize) -> Value {
    json!({
        "kernel": params.kind,
        "gamma": params.gamma,
        "coef0": params.coef0,
        "degree": params.degree,
        "support_vectors": support_vectors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{golden, tiny, tiny_multi_label, tiny_regression};

    fn model() -> Model {
        tiny()
    }

    fn get(path_text: &str, query: Option<&str>, accept: Option<&str>) -> Response {
        let request =
            Request { method: Some(Method::Get), path_text, query, accept, ..Default::default() };
        answer(&model(), &ModelSource::default(), &request, &Limits::default())
    }

    fn post(content_type: &str, body: &[u8]) -> Response {
        let request = Request {
            method: Some(Method::Post),
            content_type: Some(content_type),
            body,
            ..Default::default()
        };
        answer(&model(), &ModelSource::default(), &request, &Limits::default())
    }

    fn json_body(response: &Response) -> Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn path_text_is_answered_with_the_bare_label() {
        let response = get("good%20phone", None, None);
        assert_eq!((response.status, response.body.as_slice()), (200, b"pos\n".as_slice()));
        assert_eq!(response.label.as_deref(), Some("pos"));
    }

    #[test]
    fn plus_in_a_path_is_literal_but_a_space_in_a_query() {
        assert_eq!(percent_decode("a+b", false, "p").unwrap(), "a+b");
        assert_eq!(percent_decode("a+b", true, "p").unwrap(), "a b");
        assert_eq!(percent_decode("run+of%20text+", true, "p").unwrap(), "run of text ");
        assert_eq!(percent_decode("run+of%20text+", false, "p").unwrap(), "run+of text+");
    }

    #[test]
    fn percent_escapes_take_exactly_two_hex_digits() {
        assert_eq!(percent_decode("%41%c3%A9%2b", false, "p").unwrap(), "Aé+");
        for bad in ["%+f", "%4", "%", "%g1", "%-1", "a%%"] {
            let err = percent_decode(bad, false, "URL path").unwrap_err();
            assert_eq!(err.status, 400, "{bad}");
        }
    }

    #[test]
    fn accept_json_gives_scores_for_every_class() {
        let response = get("", Some("text=bad"), Some("text/html, application/json;q=0.9"));
        let body = json_body(&response);
        assert_eq!(body["label"], "neg");
        assert_eq!(body["scores"]["neg"], json!(2.1));
        assert_eq!(body["scores"]["pos"], json!(-2.1));
    }

    #[test]
    fn preferring_json_answers_json_without_accept() {
        let request = Request {
            method: Some(Method::Get),
            path_text: "bad",
            prefer_json: true,
            ..Default::default()
        };
        let response = answer(&model(), &ModelSource::default(), &request, &Limits::default());
        assert_eq!(json_body(&response)["label"], "neg");
    }

    #[test]
    fn explanations_list_the_largest_contributions_to_the_predicted_class() {
        let answer = json_body(&get("", Some("text=good+phone+good&explain=2"), Some(JSON)));
        assert_eq!(answer["label"], "pos");
        assert_eq!(
            answer["explanation"],
            json!([{"feature": "good", "contribution": 2.0},
                   {"feature": "good phone", "contribution": 0.5}])
        );
        // The first class of a binary model scores -d: its contributions are negated.
        let answer = json_body(&post("application/json", br#"{"text": "bad", "explain": 5}"#));
        assert_eq!(answer["label"], "neg");
        assert_eq!(answer["explanation"], json!([{"feature": "bad", "contribution": 2.0}]));
    }

    #[test]
    fn no_text_gives_metadata() {
        let body = json_body(&get("", None, None));
        assert_eq!(body["classes"], json!(["neg", "pos"]));
        assert_eq!(body["n_features"], 4);
    }

    #[test]
    fn json_batch_answers_in_order() {
        let response = post("application/json", br#"{"texts": ["bad", "good"], "top": 1}"#);
        let body = json_body(&response);
        assert_eq!(body["results"][0]["label"], "neg");
        assert_eq!(body["results"][1]["label"], "pos");
        assert_eq!(body["results"][1]["top"][0]["label"], "pos");
    }

    #[test]
    fn form_body_needs_a_text_field() {
        assert_eq!(post("application/x-www-form-urlencoded", b"text=good+phone").status, 200);
        assert_eq!(post("application/x-www-form-urlencoded", b"other=1").status, 400);
    }

    #[test]
    fn client_errors_have_their_statuses() {
        assert_eq!(get("%zz", None, None).status, 400);
        assert_eq!(get("%ff", None, None).status, 400);
        assert_eq!(post("application/json", b"{\"text\": 5}").status, 400);
        assert_eq!(post("application/json", b"{\"text\": ").status, 400);
        assert_eq!(post("text/plain", b"\xff\xfe").status, 400);
        assert_eq!(post("image/png", b"x").status, 415);
        let request = Request { method: Some(Method::Other), ..Default::default() };
        let response = answer(&model(), &ModelSource::default(), &request, &Limits::default());
        assert_eq!((response.status, response.allow), (405, Some(ALLOWED_METHODS)));
    }

    #[test]
    fn deeply_nested_json_is_a_client_error() {
        let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(post("application/json", body.as_bytes()).status, 400);
    }

    #[test]
    fn kernel_models_show_their_kernel_and_lead_top_with_the_label() {
        let model = golden("svc_rbf_probability_tri");
        let metadata = metadata(&model, &ModelSource::default());
        assert_eq!(metadata["kernel"]["kernel"], "rbf");
        assert!(metadata["kernel"]["support_vectors"].as_u64().unwrap() > 0);
        for text in ["game", "science%20data%20analysis", "x11%20window%20manager"] {
            let request = Request {
                method: Some(Method::Get),
                query: Some("top=3"),
                accept: Some(JSON),
                path_text: text,
                ..Default::default()
            };
            let response = answer(&model, &ModelSource::default(), &request, &Limits::default());
            let body = json_body(&response);
            assert_eq!(body["top"][0]["label"], body["label"], "{text}: {body}");
            assert_eq!(body["top"].as_array().unwrap().len(), 3);
        }
    }

    #[test]
    fn limits_give_413() {
        let limits = Limits { max_body: 4, max_batch: 1, max_top: 10 };
        let big = Request {
            method: Some(Method::Post),
            content_type: Some("text/plain"),
            body: b"12345",
            ..Default::default()
        };
        assert_eq!(answer(&model(), &ModelSource::default(), &big, &limits).status, 413);
        let batch = Request {
            method: Some(Method::Post),
            content_type: Some("application/json"),
            body: br#"{"texts":["a","b"]}"#,
            ..Default::default()
        };
        assert_eq!(answer(&model(), &ModelSource::default(), &batch, &limits).status, 413);
    }

    fn answer_regression(request: Request<'_>) -> Response {
        answer(&tiny_regression(), &ModelSource::default(), &request, &Limits::default())
    }

    fn request<'a>(path_text: &'a str, query: Option<&'a str>, body: &'a [u8]) -> Request<'a> {
        Request {
            method: Some(if body.is_empty() { Method::Get } else { Method::Post }),
            path_text,
            query,
            content_type: (!body.is_empty()).then_some("application/json"),
            accept: Some("application/json"),
            prefer_json: false,
            page: false,
            model_name: None,
            body,
        }
    }

    #[test]
    fn a_regressor_answers_its_number_in_every_form() {
        let text = Request { accept: None, ..request("good%20phone", None, b"") };
        let plain = answer_regression(text);
        assert_eq!((plain.status, plain.body.as_slice()), (200, &b"2.25\n"[..]));
        assert_eq!(plain.label.as_deref(), Some("2.25"));
        let json = answer_regression(request("good%20phone", None, b""));
        assert_eq!(serde_json::from_slice::<Value>(&json.body).unwrap(), json!({"value": 2.25}));
        let batch = answer_regression(request("", None, br#"{"texts": ["good phone", "bad"]}"#));
        let batch: Value = serde_json::from_slice(&batch.body).unwrap();
        assert_eq!(batch, json!({"results": [{"value": 2.25}, {"value": -1.5}]}));
        let explained = answer_regression(request("", Some("text=good+phone&explain=2"), b""));
        let explained: Value = serde_json::from_slice(&explained.body).unwrap();
        assert_eq!(
            explained["explanation"],
            json!([{"feature": "good", "contribution": 1.0},
                   {"feature": "good phone", "contribution": 0.5}])
        );
        let metadata: Value =
            serde_json::from_slice(&answer_regression(request("", None, b"")).body).unwrap();
        assert_eq!(
            (metadata["task"].clone(), metadata["classes"].clone()),
            (json!("regression"), json!([]))
        );
    }

    #[test]
    fn top_is_refused_for_a_regressor() {
        let refused = answer_regression(request("", Some("text=good&top=2"), b""));
        assert_eq!(refused.status, 400);
        assert!(String::from_utf8_lossy(&refused.body).contains("answers a number"));
    }

    fn answer_multi_label(request: Request<'_>) -> Response {
        answer(&tiny_multi_label(), &ModelSource::default(), &request, &Limits::default())
    }

    #[test]
    fn a_multi_label_model_answers_its_label_set_in_every_form() {
        let text = Request { accept: None, ..request("crash%20bug", None, b"") };
        let plain = answer_multi_label(text);
        assert_eq!((plain.status, plain.body.as_slice()), (200, &b"bug\turgent\n"[..]));
        assert_eq!(plain.label.as_deref(), Some("bug,urgent"));
        let none = answer_multi_label(Request { accept: None, ..request("nothing", None, b"") });
        assert_eq!((none.body.as_slice(), none.label.as_deref()), (&b"\n"[..], Some("")));
        let json = answer_multi_label(request("crash%20bug", None, b""));
        assert_eq!(
            serde_json::from_slice::<Value>(&json.body).unwrap(),
            json!({"labels": ["bug", "urgent"],
                   "scores": {"bug": 1.0, "docs": -0.75, "urgent": 1.0}})
        );
        let batch =
            answer_multi_label(request("", None, br#"{"texts": ["crash bug", "typo", "x"]}"#));
        let batch: Value = serde_json::from_slice(&batch.body).unwrap();
        let sets: Vec<Value> =
            batch["results"].as_array().unwrap().iter().map(|r| r["labels"].clone()).collect();
        assert_eq!(sets, [json!(["bug", "urgent"]), json!(["docs"]), json!([])]);
        // top= ranks the labels by their own scores; ties keep class order.
        let top = answer_multi_label(request("", Some("text=crash+bug&top=3"), b""));
        let top: Value = serde_json::from_slice(&top.body).unwrap();
        let ranked: Vec<&Value> =
            top["top"].as_array().unwrap().iter().map(|t| &t["label"]).collect();
        assert_eq!(ranked, [&json!("bug"), &json!("urgent"), &json!("docs")]);
        let metadata: Value =
            serde_json::from_slice(&answer_multi_label(request("", None, b"")).body).unwrap();
        assert_eq!(metadata["task"], "multi_label");
    }

    #[test]
    fn places_give_the_characters_each_explained_ngram_was_read_from() {
        let body = br#"{"text": "Good phone, good!", "explain": 3, "places": true}"#;
        let answer = json_body(&post("application/json", body));
        assert_eq!(
            answer["explanation"],
            json!([{"feature": "good", "contribution": 2.0, "places": [[0, 4], [12, 16]]},
                   {"feature": "good phone", "contribution": 0.5, "places": [[0, 10]]},
                   {"feature": "phone", "contribution": 0.0, "places": [[5, 10]]}])
        );
        // Without places=, today's answer, unchanged.
        let plain = json_body(&post("application/json", br#"{"text": "good", "explain": 1}"#));
        assert_eq!(plain["explanation"], json!([{"feature": "good", "contribution": 1.0}]));
        let refused = post("application/json", br#"{"text": "good", "places": 3}"#);
        assert_eq!(refused.status, 400);
    }
}
