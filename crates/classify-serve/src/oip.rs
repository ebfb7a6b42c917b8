//! The Open Inference Protocol (KServe V2, as Triton serves it over HTTP/REST) of the
//! `classify-v2` handler, as plain functions over plain values so that it is unit-tested without
//! Apache: health, server and model metadata, model readiness and inference, in JSON and with the
//! binary tensor data extension (which `tritonclient[http]` uses by default).
//!
//! Every named model takes one input tensor, `text` (`BYTES`, shape `[n]` or `[n, 1]`), and
//! answers the outputs `label` (`BYTES`, `[n]`: the label as the `classify` handler prints it),
//! `scores` (`FP64`, `[n, n_classes]`: `Model::class_scores`, row-major, classes in the order the
//! model metadata's `classes` lists) and, for models that have them, `probabilities` (`FP64`,
//! `[n, n_classes]`). A multi-label model's `label` is `[n, k]`, each row a text's labels padded
//! with empty strings to the most any text of the request got, and its `scores` and
//! `probabilities` are each label's own; a regressor answers `value` (`FP64`, `[n]`). Errors are `{"error": "..."}` with 400, 404, 405 (with `Allow`) or 413.

use serde_json::{json, Map, Value};

use crate::counters::AnswerTally;
use crate::protocol::{
    error_body, percent_decode, task_name, Limits, Method, ModelSource, Response,
};
use classify_core::model::{Model, Prediction, Task};

/// The server's name in the server metadata.
pub(crate) const SERVER_NAME: &str = "mod_classify";
/// The model platform in model metadata.
pub(crate) const PLATFORM: &str = "mod_classify";
/// The protocol extensions implemented.
pub(crate) const EXTENSIONS: &[&str] = &["binary_tensor_data"];
/// The one version every model has (a new model file is a new generation, not a version).
pub(crate) const MODEL_VERSION: &str = "1";
/// The request and response header giving the length of the JSON header in a body that carries
/// binary tensors after it.
pub(crate) const HEADER_LENGTH: &str = "Inference-Header-Content-Length";
/// The one input tensor's name.
pub(crate) const INPUT: &str = "text";
/// `Allow` for the GET endpoints.
pub(crate) const GET_METHODS: &str = "GET, HEAD";
/// `Allow` for the inference endpoint.
pub(crate) const POST_METHODS: &str = "POST";

const JSON: &str = "application/json";
const OCTETS: &str = "application/octet-stream";

/// A served model and the name clients address it by.
#[derive(Debug, Clone, Copy)]
pub struct NamedModel<'a> {
    pub name: &'a str,
    pub model: &'a Model,
    pub source: &'a ModelSource,
}

/// What the handler needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct V2Request<'a> {
    pub method: Method,
    /// The URL path below the `<Location>` (still percent-encoded), without the leading `/`:
    /// `""` for `GET /v2`, `"health/live"`, `"models/foo/infer"`, ...
    pub path: &'a str,
    /// The `Inference-Header-Content-Length` request header, if any.
    pub inference_header_length: Option<&'a str>,
    /// Read as the protocol's JSON (followed by binary tensors when `inference_header_length`
    /// is given) whatever `Content-Type` the client labelled it with, as Triton does.
    pub body: &'a [u8],
}

/// Answers one request with the named models.
pub fn answer_v2(models: &[NamedModel<'_>], request: &V2Request<'_>, limits: &Limits) -> Response {
    match answer_or_error(models, request, limits) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// A failed request: status, message and, for 405, the methods the endpoint allows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct V2Error {
    status: u16,
    message: String,
    allow: Option<&'static str>,
}

impl V2Error {
    fn new(status: u16, message: impl Into<String>) -> Self {
        V2Error { status, message: message.into(), allow: None }
    }

    fn bad(message: impl Into<String>) -> Self {
        V2Error::new(400, message)
    }

    fn into_response(self) -> Response {
        let mut response =
            response(self.status, JSON, error_body(&self.message), AnswerTally::default());
        response.allow = self.allow;
        response
    }
}

/// The one place a `Response` is built (its other fields keep their empty values).
fn response(
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    answers: AnswerTally,
) -> Response {
    Response { status, content_type, body, label: None, allow: None, headers: Vec::new(), answers }
}

/// The endpoints.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Server,
    Live,
    Ready,
    Model { name: String, version: Option<String>, action: Action },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Metadata,
    Ready,
    Infer,
}

fn route(path: &str) -> Result<Route, V2Error> {
    let path = path.trim_start_matches('/');
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let not_found = || V2Error::new(404, format!("no such endpoint: /{path}"));
    let route = match segments.as_slice() {
        [""] => Route::Server,
        ["health", "live"] => Route::Live,
        ["health", "ready"] => Route::Ready,
        ["models", name, rest @ ..] => {
            let (version, action) = match rest {
                [] => (None, Action::Metadata),
                ["ready"] => (None, Action::Ready),
                ["infer"] => (None, Action::Infer),
                ["versions", version] => (Some(*version), Action::Metadata),
                ["versions", version, "ready"] => (Some(*version), Action::Ready),
                ["versions", version, "infer"] => (Some(*version), Action::Infer),
                _ => return Err(not_found()),
            };
            let name =
                percent_decode(name, false, "model name").map_err(|e| V2Error::bad(e.message))?;
            let version = version
                .map(|v| percent_decode(v, false, "model version"))
                .transpose()
                .map_err(|e| V2Error::bad(e.message))?;
            Route::Model { name, version, action }
        }
        _ => return Err(not_found()),
    };
    Ok(route)
}

fn answer_or_error(
    models: &[NamedModel<'_>],
    request: &V2Request<'_>,
    limits: &Limits,
) -> Result<Response, V2Error> {
    let route = route(request.path)?;
    let (allow, allowed) = match route {
        Route::Model { action: Action::Infer, .. } => {
            (POST_METHODS, request.method == Method::Post)
        }
        _ => (GET_METHODS, matches!(request.method, Method::Get | Method::Head)),
    };
    if !allowed {
        return Err(V2Error {
            status: 405,
            message: format!("method not allowed here: use {allow}"),
            allow: Some(allow),
        });
    }
    match route {
        Route::Server => Ok(json_response(json!({
            "name": SERVER_NAME,
            "version": env!("CARGO_PKG_VERSION"),
            "extensions": EXTENSIONS,
        }))),
        Route::Live => Ok(json_response(json!({ "live": true }))),
        Route::Ready if models.is_empty() => {
            // The spec: a 4xx status means "not ready".
            let body = json!({ "ready": false, "error": "no model is loaded" });
            Ok(Response { status: 400, ..json_response(body) })
        }
        Route::Ready => Ok(json_response(json!({ "ready": true }))),
        Route::Model { name, version, action } => {
            let named = find_model(models, &name, version.as_deref())?;
            match action {
                Action::Metadata => Ok(json_response(model_metadata(named))),
                Action::Ready => Ok(json_response(json!({ "name": named.name, "ready": true }))),
                Action::Infer => infer(named, request, limits),
            }
        }
    }
}

fn find_model<'m, 'a>(
    models: &'m [NamedModel<'a>],
    name: &str,
    version: Option<&str>,
) -> Result<&'m NamedModel<'a>, V2Error> {
    let named = models.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = models.iter().take(20).map(|m| m.name).collect();
        V2Error::new(404, format!("unknown model {name:?}; models served here: {names:?}"))
    })?;
    match version {
        Some(version) if version != MODEL_VERSION => Err(V2Error::new(
            404,
            format!("model {name:?} has no version {version:?}; it has version {MODEL_VERSION:?}"),
        )),
        _ => Ok(named),
    }
}

fn json_response(value: Value) -> Response {
    let mut body = value.to_string().into_bytes();
    body.push(b'\n');
    response(200, JSON, body, AnswerTally::default())
}

/// The model metadata answer: the spec's fields, plus `classes` (the columns of `scores` and
/// `probabilities`) and `parameters` describing the model (scalar values, as the spec's
/// parameters are).
pub(crate) fn model_metadata(named: &NamedModel<'_>) -> Value {
    let model = named.model;
    let n_classes = model.classes().len();
    let label_shape: &[i64] = if model.task() == Task::MultiLabel { &[-1, -1] } else { &[-1] };
    let mut outputs = vec![
        tensor_metadata(Output::Label.name(), "BYTES", label_shape),
        tensor_metadata(Output::Scores.name(), "FP64", &[-1, n_classes as i64]),
    ];
    if model.task() == Task::Regression {
        outputs = vec![tensor_metadata(Output::Value.name(), "FP64", &[-1])];
    } else if model.has_probabilities() {
        outputs.push(tensor_metadata(
            Output::Probabilities.name(),
            "FP64",
            &[-1, n_classes as i64],
        ));
    }
    let classes: Vec<Value> = model.classes().iter().map(|c| c.to_json()).collect();
    json!({
        "name": named.name,
        "versions": [MODEL_VERSION],
        "platform": PLATFORM,
        "inputs": [tensor_metadata(INPUT, "BYTES", &[-1])],
        "outputs": outputs,
        "classes": classes,
        "parameters": {
            "estimator": model.estimator(),
            "task": task_name(model),
            "n_classes": n_classes,
            "n_features": model.n_features(),
            "probabilities": model.has_probabilities(),
            "checksum": format!("{:016x}", model.checksum()),
            "file": named.source.path,
            "loaded_at": named.source.loaded_at_unix,
            "load_ms": named.source.load_ms,
        },
    })
}

fn tensor_metadata(name: &str, datatype: &str, shape: &[i64]) -> Value {
    json!({ "name": name, "datatype": datatype, "shape": shape })
}

/// The outputs a model can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Label,
    Scores,
    Probabilities,
    /// A regressor's number (FP64, shape [n]).
    Value,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Output::Label => "label",
            Output::Scores => "scores",
            Output::Probabilities => "probabilities",
            Output::Value => "value",
        }
    }

    /// The outputs `model` answers, in their default order.
    fn all(model: &Model) -> &'static [Output] {
        if model.task() == Task::Regression {
            &[Output::Value]
        } else if model.has_probabilities() {
            &[Output::Label, Output::Scores, Output::Probabilities]
        } else {
            &[Output::Label, Output::Scores]
        }
    }
}

/// A JSON object field that is absent, `null`, or an object.
fn optional_object<'v>(
    object: &'v Map<String, Value>,
    field: &str,
    what: &str,
) -> Result<Option<&'v Map<String, Value>>, V2Error> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(V2Error::bad(format!("{what} \"{field}\" must be an object"))),
    }
}

fn optional_bool(
    parameters: Option<&Map<String, Value>>,
    name: &str,
    what: &str,
) -> Result<Option<bool>, V2Error> {
    match parameters.and_then(|p| p.get(name)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(V2Error::bad(format!("{what} parameter \"{name}\" must be a boolean"))),
    }
}

/// Refuses the parameters of extensions this server does not implement, rather than silently
/// answering something other than what the client asked for.
fn refuse_unsupported(parameters: Option<&Map<String, Value>>, what: &str) -> Result<(), V2Error> {
    let Some(parameters) = parameters else { return Ok(()) };
    for (name, extension) in
        [("shared_memory_region", "shared memory"), ("classification", "classification")]
    {
        if parameters.contains_key(name) {
            return Err(V2Error::bad(format!(
                "{what} parameter \"{name}\": the {extension} extension is not supported"
            )));
        }
    }
    Ok(())
}

/// `POST models/{name}/infer`.
fn infer(
    named: &NamedModel<'_>,
    request: &V2Request<'_>,
    limits: &Limits,
) -> Result<Response, V2Error> {
    let model = named.model;
    if request.body.len() > limits.max_body {
        return Err(V2Error::new(
            413,
            format!("request body over the limit of {} bytes", limits.max_body),
        ));
    }
    let (header, binary) = split_body(request.body, request.inference_header_length)?;
    // serde_json refuses invalid UTF-8 and bounds nesting depth (128).
    let value: Value = serde_json::from_slice(header)
        .map_err(|e| V2Error::bad(format!("malformed JSON inference request: {e}")))?;
    let Value::Object(object) = value else {
        return Err(V2Error::bad("the inference request must be a JSON object"));
    };
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.as_str()),
        Some(_) => return Err(V2Error::bad("\"id\" must be a string")),
    };
    let parameters = optional_object(&object, "parameters", "the request's")?;
    let binary_output =
        optional_bool(parameters, "binary_data_output", "request")?.unwrap_or(false);
    let texts = match object.get("inputs") {
        Some(Value::Array(inputs)) if inputs.len() == 1 => parse_input(&inputs[0], binary, limits)?,
        Some(Value::Array(inputs)) => {
            return Err(V2Error::bad(format!(
            "{} input tensors given: this model takes exactly one, {INPUT:?} (BYTES, shape [n])",
            inputs.len()
        )))
        }
        None | Some(Value::Null) => {
            return Err(V2Error::bad(format!(
                "the request has no \"inputs\": send one tensor, {INPUT:?} (BYTES, shape [n])"
            )))
        }
        Some(_) => return Err(V2Error::bad("\"inputs\" must be an array of tensors")),
    };
    let outputs = requested_outputs(model, object.get("outputs"), binary_output)?;

    let mut answers = AnswerTally::default();
    let predictions: Vec<_> = texts
        .iter()
        .map(|text| {
            let (prediction, counts) = model.predict_counted(text);
            answers.observe(model, text, &prediction, counts);
            prediction
        })
        .collect();
    let n = predictions.len();
    let n_classes = model.classes().len();
    let mut tensors = Vec::with_capacity(outputs.len());
    let mut binary_body = Vec::new();
    for &(output, as_binary) in &outputs {
        let tensor = match output {
            Output::Label if model.task() == Task::MultiLabel => {
                TensorData::Bytes(padded_label_sets(model, &predictions))
            }
            Output::Label => {
                let labels: Vec<String> =
                    predictions.iter().map(|p| model.answer(p).to_string()).collect();
                TensorData::Bytes(labels)
            }
            Output::Scores => {
                let mut values = Vec::with_capacity(n * n_classes);
                for prediction in &predictions {
                    values.extend(model.class_scores(prediction));
                }
                TensorData::Fp64(values)
            }
            Output::Probabilities => {
                let mut values = Vec::with_capacity(n * n_classes);
                for prediction in &predictions {
                    let probabilities = prediction.probabilities.as_deref().ok_or_else(|| {
                        V2Error::new(500, "internal error: the model gave no probabilities")
                    })?;
                    values.extend_from_slice(probabilities);
                }
                TensorData::Fp64(values)
            }
            Output::Value => TensorData::Fp64(predictions.iter().map(|p| p.scores[0]).collect()),
        };
        let shape: Vec<usize> = match (output, &tensor) {
            (Output::Label, TensorData::Bytes(labels)) if model.task() == Task::MultiLabel => {
                vec![n, labels.len().checked_div(n).unwrap_or(0)]
            }
            (Output::Value, _) | (_, TensorData::Bytes(_)) => vec![n],
            (_, TensorData::Fp64(_)) => vec![n, n_classes],
        };
        let mut entry = json!({
            "name": output.name(),
            "datatype": tensor.datatype(),
            "shape": shape,
        });
        if as_binary {
            let before = binary_body.len();
            tensor.write_binary(&mut binary_body);
            entry["parameters"] = json!({ "binary_data_size": binary_body.len() - before });
        } else {
            entry["data"] = tensor.into_json();
        }
        tensors.push(entry);
    }

    let mut header = json!({
        "model_name": named.name,
        "model_version": MODEL_VERSION,
        "outputs": tensors,
    });
    if let Some(id) = id {
        header["id"] = json!(id);
    }
    let mut body = header.to_string().into_bytes();
    // One text: its answer, for the `classify-label` request note.
    let label = match predictions.as_slice() {
        [prediction] => Some(model.answer(prediction).log_note()),
        _ => None,
    };
    let mut answer = if outputs.iter().any(|&(_, as_binary)| as_binary) {
        let header_length = body.len();
        body.extend_from_slice(&binary_body);
        let mut answer = response(200, OCTETS, body, answers);
        answer.headers.push((HEADER_LENGTH.to_owned(), header_length.to_string()));
        answer
    } else {
        body.push(b'\n');
        response(200, JSON, body, answers)
    };
    answer.label = label;
    Ok(answer)
}

/// A multi-label model's `label` tensor, row-major `[n, k]`: each text's labels in class order,
/// padded with empty strings to `k`, the most labels any text of the request got (BYTES tensors
/// are rectangular; 0 columns when no text got a label).
fn padded_label_sets(model: &Model, predictions: &[Prediction]) -> Vec<String> {
    let classes = model.classes();
    let width = predictions.iter().map(|p| p.label_set.len()).max().unwrap_or(0);
    let mut labels = Vec::with_capacity(predictions.len() * width);
    for prediction in predictions {
        labels.extend(prediction.label_set.iter().map(|&i| classes[i].to_string()));
        labels.resize(labels.len() + width - prediction.label_set.len(), String::new());
    }
    labels
}

/// Splits a body into its JSON header and the binary tensor data after it.
fn split_body<'b>(
    body: &'b [u8],
    header_length: Option<&str>,
) -> Result<(&'b [u8], &'b [u8]), V2Error> {
    let Some(raw) = header_length else { return Ok((body, &[])) };
    let length: usize = raw.trim().parse().map_err(|_| {
        V2Error::bad(format!("{HEADER_LENGTH}: {raw:?} is not a non-negative integer"))
    })?;
    if length > body.len() {
        return Err(V2Error::bad(format!(
            "{HEADER_LENGTH} is {length} but the body has only {} bytes",
            body.len()
        )));
    }
    Ok(body.split_at(length))
}

/// Reads the one input tensor's texts, from its JSON `data` or from the binary data.
fn parse_input(input: &Value, binary: &[u8], limits: &Limits) -> Result<Vec<String>, V2Error> {
    let Value::Object(input) = input else {
        return Err(V2Error::bad("each input tensor must be a JSON object"));
    };
    match input.get("name") {
        Some(Value::String(name)) if name == INPUT => {}
        Some(Value::String(name)) => {
            return Err(V2Error::bad(format!(
                "unknown input {name:?}: this model takes one input, {INPUT:?}"
            )))
        }
        _ => return Err(V2Error::bad("the input tensor needs a \"name\" string")),
    }
    match input.get("datatype") {
        Some(Value::String(datatype)) if datatype == "BYTES" => {}
        Some(Value::String(datatype)) => {
            return Err(V2Error::bad(format!(
                "input {INPUT:?} has datatype {datatype:?}: it must be \"BYTES\" (texts)"
            )))
        }
        _ => return Err(V2Error::bad(format!("input {INPUT:?} needs a \"datatype\" string"))),
    }
    let shape: Vec<u64> = match input.get("shape") {
        Some(Value::Array(dims)) => dims.iter().map(Value::as_u64).collect::<Option<_>>(),
        _ => None,
    }
    .ok_or_else(|| {
        V2Error::bad(format!(
            "input {INPUT:?} needs a \"shape\": an array of non-negative integers"
        ))
    })?;
    let n = match shape.as_slice() {
        [n] | [n, 1] => *n,
        _ => {
            return Err(V2Error::bad(format!(
                "input {INPUT:?} has shape {shape:?}: it must be [n] or [n, 1] (n texts)"
            )))
        }
    };
    let n = usize::try_from(n).ok().filter(|&n| n <= limits.max_batch).ok_or_else(|| {
        V2Error::new(413, format!("batch of {n} texts is over the limit of {}", limits.max_batch))
    })?;
    let parameters = optional_object(input, "parameters", "the input's")?;
    refuse_unsupported(parameters, "input")?;
    let binary_size = match parameters.and_then(|p| p.get("binary_data_size")) {
        None | Some(Value::Null) => None,
        Some(size) => Some(size.as_u64().ok_or_else(|| {
            V2Error::bad("input parameter \"binary_data_size\" must be a non-negative integer")
        })?),
    };
    let data = input.get("data").filter(|d| !d.is_null());
    match (binary_size, data) {
        (Some(_), Some(_)) => Err(V2Error::bad(format!(
            "input {INPUT:?} has both \"data\" and \"binary_data_size\": send one"
        ))),
        (None, None) => Err(V2Error::bad(format!("input {INPUT:?} has no \"data\""))),
        (None, Some(data)) => {
            if !binary.is_empty() {
                return Err(V2Error::bad(format!(
                    "{} bytes follow the JSON header but no input has \"binary_data_size\"",
                    binary.len()
                )));
            }
            let mut texts = Vec::with_capacity(n);
            match data {
                Value::Array(_) => flatten_strings(data, n, &mut texts)?,
                _ => {
                    return Err(V2Error::bad(format!("input {INPUT:?} \"data\" must be an array")))
                }
            }
            if texts.len() != n {
                return Err(count_mismatch(&shape, texts.len()));
            }
            Ok(texts)
        }
        (Some(size), None) => {
            if size != binary.len() as u64 {
                return Err(V2Error::bad(format!(
                    "input {INPUT:?} has binary_data_size {size} but {} bytes follow the JSON \
                     header (is {HEADER_LENGTH} right?)",
                    binary.len()
                )));
            }
            decode_bytes_tensor(binary, &shape, n)
        }
    }
}

fn count_mismatch(shape: &[u64], count: usize) -> V2Error {
    V2Error::bad(format!("input {INPUT:?} has shape {shape:?} but {count} elements"))
}

/// Appends the strings of a JSON tensor (flat, or nested row-major) to `texts`, stopping once
/// there are more than `n`.
fn flatten_strings(data: &Value, n: usize, texts: &mut Vec<String>) -> Result<(), V2Error> {
    match data {
        Value::Array(items) => {
            for item in items {
                flatten_strings(item, n, texts)?;
                if texts.len() > n {
                    break;
                }
            }
            Ok(())
        }
        Value::String(text) => {
            texts.push(text.clone());
            Ok(())
        }
        other => Err(V2Error::bad(format!(
            "input {INPUT:?} data must be strings (BYTES), not {}",
            match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "an object",
            }
        ))),
    }
}

/// Decodes a binary BYTES tensor: elements of a 4-byte little-endian length and that many bytes,
/// each a UTF-8 text.
fn decode_bytes_tensor(mut data: &[u8], shape: &[u64], n: usize) -> Result<Vec<String>, V2Error> {
    let mut texts = Vec::with_capacity(n);
    while !data.is_empty() {
        if texts.len() == n {
            return Err(V2Error::bad(format!(
                "input {INPUT:?} has shape {shape:?} but its binary data holds more elements"
            )));
        }
        let index = texts.len();
        let truncated =
            || V2Error::bad(format!("input {INPUT:?}: binary element {index} is truncated"));
        let (length, rest) = data.split_first_chunk::<4>().ok_or_else(truncated)?;
        let length = u32::from_le_bytes(*length) as usize;
        if rest.len() < length {
            return Err(truncated());
        }
        let (element, rest) = rest.split_at(length);
        let text = std::str::from_utf8(element).map_err(|e| {
            V2Error::bad(format!(
                "input {INPUT:?}: element {index} is not valid UTF-8 (byte {})",
                e.valid_up_to()
            ))
        })?;
        texts.push(text.to_owned());
        data = rest;
    }
    if texts.len() != n {
        return Err(count_mismatch(shape, texts.len()));
    }
    Ok(texts)
}

/// The outputs to answer, in order, each with whether it goes binary.
fn requested_outputs(
    model: &Model,
    outputs: Option<&Value>,
    binary_default: bool,
) -> Result<Vec<(Output, bool)>, V2Error> {
    let available = Output::all(model);
    let items = match outputs {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(Value::Array(items)) => Some(items),
        Some(_) => return Err(V2Error::bad("\"outputs\" must be an array")),
    };
    let Some(items) = items else {
        return Ok(available.iter().map(|&output| (output, binary_default)).collect());
    };
    let mut requested: Vec<(Output, bool)> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(item) = item else {
            return Err(V2Error::bad("each requested output must be a JSON object"));
        };
        let Some(Value::String(name)) = item.get("name") else {
            return Err(V2Error::bad("each requested output needs a \"name\" string"));
        };
        let output = available.iter().copied().find(|o| o.name() == name).ok_or_else(|| {
            let names: Vec<&str> = available.iter().map(|o| o.name()).collect();
            V2Error::bad(format!("unknown output {name:?}: this model answers {names:?}"))
        })?;
        if requested.iter().any(|&(o, _)| o == output) {
            return Err(V2Error::bad(format!("output {name:?} is requested twice")));
        }
        let parameters = optional_object(item, "parameters", "the output's")?;
        refuse_unsupported(parameters, "output")?;
        let binary = optional_bool(parameters, "binary_data", "output")?.unwrap_or(binary_default);
        requested.push((output, binary));
    }
    Ok(requested)
}

/// An output tensor's elements.
enum TensorData {
    Bytes(Vec<String>),
    Fp64(Vec<f64>),
}

impl TensorData {
    fn datatype(&self) -> &'static str {
        match self {
            TensorData::Bytes(_) => "BYTES",
            TensorData::Fp64(_) => "FP64",
        }
    }

    /// The binary form: BYTES elements as 4-byte little-endian length + bytes, FP64 as
    /// little-endian IEEE 754.
    fn write_binary(&self, out: &mut Vec<u8>) {
        match self {
            TensorData::Bytes(items) => {
                for item in items {
                    // Labels and texts are far below 4 GiB; saturate rather than wrap.
                    let length = u32::try_from(item.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&length.to_le_bytes());
                    out.extend_from_slice(&item.as_bytes()[..length as usize]);
                }
            }
            TensorData::Fp64(values) => {
                out.reserve(values.len() * 8);
                for value in values {
                    out.extend_from_slice(&value.to_le_bytes());
                }
            }
        }
    }

    fn into_json(self) -> Value {
        match self {
            TensorData::Bytes(items) => json!(items),
            TensorData::Fp64(values) => json!(values),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::{golden, golden_path, tiny, tiny_multi_label, tiny_regression};

    /// The same with logistic-regression probabilities.
    const TINY_PROBA: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                       "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
        "classifier": {"kind": "linear", "estimator": "LogisticRegression", "classes": ["neg", "pos"],
                       "coef": [[1.0, 0.5, -2.0, 0.0]], "intercept": [-0.1],
                       "probability": "ovr_sigmoid"}
    }"#;

    fn tiny_proba() -> Model {
        Model::from_json(TINY_PROBA.as_bytes()).unwrap()
    }

    /// Answers a request with the given models, named, under `limits`.
    fn serve_with(
        models: &[(&str, &Model)],
        method: Method,
        path: &str,
        header_length: Option<&str>,
        body: &[u8],
        limits: &Limits,
    ) -> Response {
        let source = ModelSource { path: "/srv/m.model".into(), ..Default::default() };
        let named: Vec<NamedModel<'_>> = models
            .iter()
            .map(|&(name, model)| NamedModel { name, model, source: &source })
            .collect();
        let request = V2Request { method, path, inference_header_length: header_length, body };
        let response = answer_v2(&named, &request, limits);
        if response.status >= 400 {
            let error = json_of(&response);
            assert!(error["error"].is_string(), "error body {error}");
            assert_eq!(response.content_type, JSON);
        }
        response
    }

    fn get(path: &str) -> Response {
        let model = tiny();
        serve_with(&[("tiny", &model)], Method::Get, path, None, b"", &Limits::default())
    }

    /// POSTs a JSON inference request to the tiny model.
    fn infer_json(body: &Value) -> Response {
        let model = tiny();
        let body = body.to_string();
        let limits = Limits::default();
        serve_with(
            &[("tiny", &model)],
            Method::Post,
            "models/tiny/infer",
            None,
            body.as_bytes(),
            &limits,
        )
    }

    /// POSTs a JSON header followed by binary tensors to `model`.
    fn infer_binary(model: &Model, header: &Value, binary: &[u8]) -> Response {
        let (body, length) = binary_body(header, binary);
        let limits = Limits::default();
        let path = "models/m/infer";
        serve_with(&[("m", model)], Method::Post, path, Some(&length), &body, &limits)
    }

    fn binary_body(header: &Value, binary: &[u8]) -> (Vec<u8>, String) {
        let mut body = header.to_string().into_bytes();
        let length = body.len().to_string();
        body.extend_from_slice(binary);
        (body, length)
    }

    fn json_of(response: &Response) -> Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    /// A BYTES tensor in binary form.
    fn bytes_tensor(items: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for item in items {
            out.extend_from_slice(&(item.len() as u32).to_le_bytes());
            out.extend_from_slice(item);
        }
        out
    }

    fn read_bytes_tensor(mut data: &[u8]) -> Vec<String> {
        let mut items = Vec::new();
        while !data.is_empty() {
            let length = u32::from_le_bytes(data[..4].try_into().unwrap()) as usize;
            items.push(String::from_utf8(data[4..4 + length].to_vec()).unwrap());
            data = &data[4 + length..];
        }
        items
    }

    fn read_f64s(data: &[u8]) -> Vec<f64> {
        assert_eq!(data.len() % 8, 0);
        data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
    }

    /// A binary answer's JSON header and each output's binary data, by output name.
    fn split_binary_answer(response: &Response) -> (Value, Vec<(String, Vec<u8>)>) {
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        assert_eq!(response.content_type, OCTETS);
        let length = response
            .headers
            .iter()
            .find(|(name, _)| name == HEADER_LENGTH)
            .map(|(_, value)| value.parse::<usize>().unwrap())
            .expect("Inference-Header-Content-Length");
        let header: Value = serde_json::from_slice(&response.body[..length]).unwrap();
        let mut rest = &response.body[length..];
        let mut parts = Vec::new();
        for output in header["outputs"].as_array().unwrap() {
            if let Some(size) = output["parameters"]["binary_data_size"].as_u64() {
                assert!(output.get("data").is_none(), "binary output with data: {output}");
                let (part, tail) = rest.split_at(size as usize);
                parts.push((output["name"].as_str().unwrap().to_owned(), part.to_vec()));
                rest = tail;
            }
        }
        assert!(rest.is_empty(), "{} bytes after the last binary output", rest.len());
        (header, parts)
    }

    fn text_input(data: Value) -> Value {
        let n = data.as_array().map_or(0, Vec::len);
        json!({"name": "text", "datatype": "BYTES", "shape": [n], "data": data})
    }

    #[test]
    fn health_endpoints_answer_live_and_ready() {
        let live = get("health/live");
        assert_eq!((live.status, json_of(&live)), (200, json!({"live": true})));
        let ready = get("health/ready");
        assert_eq!((ready.status, json_of(&ready)), (200, json!({"ready": true})));
        // HEAD is a GET without a body (Apache drops it).
        let model = tiny();
        let head = serve_with(
            &[("m", &model)],
            Method::Head,
            "health/live",
            None,
            b"",
            &Limits::default(),
        );
        assert_eq!(head.status, 200);
    }

    #[test]
    fn no_model_is_not_ready_but_live() {
        let limits = Limits::default();
        let ready = serve_with(&[], Method::Get, "health/ready", None, b"", &limits);
        assert_eq!(ready.status, 400);
        assert_eq!(json_of(&ready)["ready"], false);
        assert_eq!(serve_with(&[], Method::Get, "health/live", None, b"", &limits).status, 200);
    }

    #[test]
    fn server_metadata_names_the_server_and_its_extensions() {
        let response = get("");
        assert_eq!(response.status, 200);
        assert_eq!(
            json_of(&response),
            json!({"name": "mod_classify", "version": env!("CARGO_PKG_VERSION"),
                   "extensions": ["binary_tensor_data"]})
        );
        // A trailing or leading slash is the same endpoint.
        assert_eq!(get("/").status, 200);
        assert_eq!(get("health/live/").status, 200);
    }

    #[test]
    fn model_metadata_describes_inputs_outputs_and_classes() {
        let body = json_of(&get("models/tiny"));
        assert_eq!(body["name"], "tiny");
        assert_eq!(body["versions"], json!(["1"]));
        assert_eq!(body["platform"], "mod_classify");
        assert_eq!(body["inputs"], json!([{"name": "text", "datatype": "BYTES", "shape": [-1]}]));
        assert_eq!(
            body["outputs"],
            json!([{"name": "label", "datatype": "BYTES", "shape": [-1]},
                   {"name": "scores", "datatype": "FP64", "shape": [-1, 2]}])
        );
        assert_eq!(body["classes"], json!(["neg", "pos"]));
        assert_eq!(body["parameters"]["estimator"], "LinearSVC");
        assert_eq!(body["parameters"]["n_features"], 4);
        assert_eq!(body["parameters"]["file"], "/srv/m.model");
        // Every parameter is a scalar, as the spec's parameters are.
        for (name, value) in body["parameters"].as_object().unwrap() {
            assert!(!value.is_array() && !value.is_object(), "{name}: {value}");
        }
        assert_eq!(json_of(&get("models/tiny/versions/1")), body);

        let model = tiny_proba();
        let limits = Limits::default();
        let response = serve_with(&[("p", &model)], Method::Get, "models/p", None, b"", &limits);
        let outputs = json_of(&response)["outputs"].clone();
        assert_eq!(
            outputs[2],
            json!({"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]})
        );
    }

    #[test]
    fn model_ready_by_name_and_version() {
        let response = get("models/tiny/ready");
        assert_eq!(
            (response.status, json_of(&response)),
            (200, json!({"name": "tiny", "ready": true}))
        );
        assert_eq!(get("models/tiny/versions/1/ready").status, 200);
        assert_eq!(get("models/tiny/versions/2/ready").status, 404);
        assert_eq!(get("models/tiny/versions/2").status, 404);
        let unknown = get("models/nope/ready");
        assert_eq!(unknown.status, 404);
        assert!(json_of(&unknown)["error"].as_str().unwrap().contains("nope"));
        assert_eq!(get("models/nope").status, 404);
    }

    #[test]
    fn model_names_are_percent_decoded() {
        let model = tiny();
        let limits = Limits::default();
        let path = "models/my%20model/ready";
        let response = serve_with(&[("my model", &model)], Method::Get, path, None, b"", &limits);
        assert_eq!(response.status, 200);
        assert_eq!(get("models/%zz/ready").status, 400);
    }

    #[test]
    fn unknown_endpoints_are_404() {
        for path in
            ["v2", "health", "health/dead", "models", "models/tiny/config", "models/tiny/x/y"]
        {
            assert_eq!(get(path).status, 404, "{path}");
        }
    }

    #[test]
    fn wrong_methods_are_405_with_allow() {
        let model = tiny();
        let limits = Limits::default();
        for path in ["", "health/live", "health/ready", "models/tiny", "models/tiny/ready"] {
            for method in [Method::Post, Method::Other] {
                let response = serve_with(&[("tiny", &model)], method, path, None, b"", &limits);
                assert_eq!((response.status, response.allow), (405, Some(GET_METHODS)), "{path}");
            }
        }
        for method in [Method::Get, Method::Head, Method::Other] {
            let path = "models/tiny/infer";
            let response = serve_with(&[("tiny", &model)], method, path, None, b"", &limits);
            assert_eq!((response.status, response.allow), (405, Some(POST_METHODS)));
        }
    }

    #[test]
    fn json_inference_answers_labels_and_scores_and_echoes_the_id() {
        let response = infer_json(&json!({
            "id": "req-7",
            "inputs": [text_input(json!(["bad", "good phone"]))],
        }));
        assert_eq!(response.status, 200);
        assert_eq!(response.content_type, JSON);
        assert!(response.headers.is_empty());
        assert_eq!(response.label, None);
        assert_eq!(
            json_of(&response),
            json!({
                "model_name": "tiny", "model_version": "1", "id": "req-7",
                "outputs": [
                    {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["neg", "pos"]},
                    {"name": "scores", "datatype": "FP64", "shape": [2, 2],
                     "data": [2.1, -2.1, -1.4, 1.4]},
                ],
            })
        );
    }

    #[test]
    fn one_text_sets_the_label_note_and_no_id_is_echoed_as_none() {
        let response = infer_json(&json!({"inputs": [text_input(json!(["good"]))]}));
        assert_eq!(response.label.as_deref(), Some("pos"));
        assert!(json_of(&response).get("id").is_none());
    }

    #[test]
    fn shapes_n_by_1_and_nested_data_are_accepted() {
        let response = infer_json(&json!({"inputs": [{
            "name": "text", "datatype": "BYTES", "shape": [3, 1],
            "data": [["bad"], ["good"], ["phone"]],
        }]}));
        let body = json_of(&response);
        assert_eq!(body["outputs"][0]["data"], json!(["neg", "pos", "neg"]));
        assert_eq!(body["outputs"][0]["shape"], json!([3]));
        assert_eq!(body["outputs"][1]["shape"], json!([3, 2]));
    }

    #[test]
    fn an_empty_batch_gets_empty_outputs() {
        let body = json_of(&infer_json(&json!({"inputs": [text_input(json!([]))]})));
        assert_eq!(body["outputs"][0]["shape"], json!([0]));
        assert_eq!(body["outputs"][1]["shape"], json!([0, 2]));
        assert_eq!(body["outputs"][1]["data"], json!([]));
    }

    #[test]
    fn only_the_requested_outputs_are_answered_in_their_order() {
        let body = json_of(&infer_json(&json!({
            "inputs": [text_input(json!(["bad"]))],
            "outputs": [{"name": "scores"}],
        })));
        let outputs = body["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0]["name"], "scores");
        let body = json_of(&infer_json(&json!({
            "inputs": [text_input(json!(["bad"]))],
            "outputs": [{"name": "scores"}, {"name": "label", "parameters": {"binary_data": false}}],
        })));
        assert_eq!(body["outputs"][0]["name"], "scores");
        assert_eq!(body["outputs"][1]["data"], json!(["neg"]));
    }

    #[test]
    fn probabilities_are_an_output_of_models_that_have_them() {
        let model = tiny_proba();
        let header = json!({"inputs": [text_input(json!(["bad", "good phone"]))]});
        let body = header.to_string();
        let limits = Limits::default();
        let path = "models/p/infer";
        let response =
            serve_with(&[("p", &model)], Method::Post, path, None, body.as_bytes(), &limits);
        let answer = json_of(&response);
        assert_eq!(answer["outputs"][2]["name"], "probabilities");
        let mut expected = Vec::new();
        for text in ["bad", "good phone"] {
            expected.extend(model.predict(text).probabilities.unwrap());
        }
        assert_eq!(answer["outputs"][2]["data"], json!(expected));
        assert_eq!(answer["outputs"][2]["shape"], json!([2, 2]));
        // The tiny LinearSVC has none.
        let response = infer_json(&json!({
            "inputs": [text_input(json!(["bad"]))],
            "outputs": [{"name": "probabilities"}],
        }));
        assert_eq!(response.status, 400);
    }

    #[test]
    fn binary_inputs_are_read_after_the_json_header() {
        let texts: [&[u8]; 3] = [b"bad", b"good phone", "\u{e9}t\u{e9} good".as_bytes()];
        let binary = bytes_tensor(&texts);
        let header = json!({
            "id": "b1",
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [3],
                        "parameters": {"binary_data_size": binary.len()}}],
            "outputs": [{"name": "label", "parameters": {"binary_data": false}},
                        {"name": "scores", "parameters": {"binary_data": false}}],
        });
        let model = tiny();
        let response = infer_binary(&model, &header, &binary);
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        assert_eq!(response.content_type, JSON);
        let body = json_of(&response);
        assert_eq!(body["id"], "b1");
        assert_eq!(body["outputs"][0]["data"], json!(["neg", "pos", "pos"]));
    }

    #[test]
    fn binary_outputs_follow_the_json_header_in_output_order() {
        let model = tiny();
        let binary = bytes_tensor(&[b"bad", b"good phone"]);
        // As tritonclient sends it by default: binary input, binary_data on each output.
        let header = json!({
            "id": "x",
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2],
                        "parameters": {"binary_data_size": binary.len()}}],
            "outputs": [{"name": "label", "parameters": {"binary_data": true}},
                        {"name": "scores", "parameters": {"binary_data": true}}],
        });
        let response = infer_binary(&model, &header, &binary);
        let (answer, parts) = split_binary_answer(&response);
        assert_eq!(answer["id"], "x");
        assert_eq!(answer["outputs"][0]["shape"], json!([2]));
        assert_eq!(answer["outputs"][0]["datatype"], "BYTES");
        assert_eq!(answer["outputs"][1]["shape"], json!([2, 2]));
        assert_eq!(answer["outputs"][1]["datatype"], "FP64");
        assert_eq!(parts[0].0, "label");
        assert_eq!(read_bytes_tensor(&parts[0].1), ["neg", "pos"]);
        assert_eq!(parts[1].0, "scores");
        assert_eq!(read_f64s(&parts[1].1), [2.1, -2.1, -1.4, 1.4]);
    }

    #[test]
    fn binary_data_output_makes_every_output_binary_unless_overridden() {
        let model = tiny();
        let header = json!({
            "parameters": {"binary_data_output": true},
            "inputs": [text_input(json!(["bad"]))],
        });
        let response = infer_binary(&model, &header, b"");
        let (answer, parts) = split_binary_answer(&response);
        assert_eq!(parts.len(), 2);
        assert!(answer["outputs"][1].get("data").is_none());
        // Without the Inference-Header-Content-Length request header too.
        let response = infer_json(&header);
        let (_, parts) = split_binary_answer(&response);
        assert_eq!(read_f64s(&parts[1].1), [2.1, -2.1]);

        let header = json!({
            "parameters": {"binary_data_output": true},
            "inputs": [text_input(json!(["bad"]))],
            "outputs": [{"name": "label", "parameters": {"binary_data": false}}, {"name": "scores"}],
        });
        let (answer, parts) = split_binary_answer(&infer_json(&header));
        assert_eq!(answer["outputs"][0]["data"], json!(["neg"]));
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0, "scores");
    }

    #[test]
    fn golden_model_answers_as_predict_does_in_json_and_binary() {
        let name = "count_word12_linearsvc_multi";
        let model = golden(name);
        let path = golden_path(&format!("{name}.cases.jsonl"));
        let cases = std::fs::read_to_string(path).unwrap();
        let cases: Vec<Value> = cases.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
        let n_classes = model.classes().len();
        assert!(texts.len() > 10 && n_classes > 2);
        let mut labels = Vec::new();
        let mut scores = Vec::new();
        for (text, case) in texts.iter().zip(&cases) {
            let prediction = model.predict(text);
            labels.push(model.answer(&prediction).to_string());
            assert_eq!(labels.last().unwrap(), case["label"].as_str().unwrap());
            scores.extend(model.class_scores(&prediction));
        }
        let limits = Limits { max_batch: texts.len(), ..Limits::default() };
        let items: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        let binary = bytes_tensor(&items);
        let header = json!({
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [texts.len()],
                        "parameters": {"binary_data_size": binary.len()}}],
            "outputs": [{"name": "label", "parameters": {"binary_data": true}},
                        {"name": "scores", "parameters": {"binary_data": true}}],
        });
        let (body, length) = binary_body(&header, &binary);
        let path = "models/golden/infer";
        let models = [("golden", &model)];
        let response = serve_with(&models, Method::Post, path, Some(&length), &body, &limits);
        let (answer, parts) = split_binary_answer(&response);
        assert_eq!(answer["outputs"][1]["shape"], json!([texts.len(), n_classes]));
        assert_eq!(read_bytes_tensor(&parts[0].1), labels);
        let binary_scores = read_f64s(&parts[1].1);
        assert_eq!(binary_scores.len(), scores.len());
        for (got, want) in binary_scores.iter().zip(&scores) {
            assert_eq!(got.to_bits(), want.to_bits());
        }

        let body = json!({"inputs": [text_input(json!(texts))]}).to_string();
        let response = serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        let answer = json_of(&response);
        assert_eq!(answer["outputs"][0]["data"], json!(labels));
        assert_eq!(answer["outputs"][1]["data"], json!(scores));
    }

    #[test]
    fn malformed_requests_are_400() {
        let bad = |body: Value| {
            let response = infer_json(&body);
            assert_eq!(response.status, 400, "{body}: {}", String::from_utf8_lossy(&response.body));
            json_of(&response)["error"].as_str().unwrap().to_owned()
        };
        let ok = text_input(json!(["bad"]));
        bad(json!([ok]));
        bad(json!({}));
        bad(json!({"inputs": []}));
        bad(json!({"inputs": [ok, ok]}));
        bad(json!({"inputs": ok}));
        bad(json!({"inputs": ["text"]}));
        bad(json!({"id": 5, "inputs": [ok]}));
        bad(json!({"parameters": [], "inputs": [ok]}));
        bad(json!({"parameters": {"binary_data_output": "yes"}, "inputs": [ok]}));
        let error = bad(json!({"inputs": [{"name": "words", "datatype": "BYTES", "shape": [1],
                                           "data": ["x"]}]}));
        assert!(error.contains("words"), "{error}");
        bad(json!({"inputs": [{"datatype": "BYTES", "shape": [1], "data": ["x"]}]}));
        let error = bad(json!({"inputs": [{"name": "text", "datatype": "FP32", "shape": [1],
                                           "data": [1.0]}]}));
        assert!(error.contains("FP32"), "{error}");
        bad(json!({"inputs": [{"name": "text", "shape": [1], "data": ["x"]}]}));
        for shape in [
            json!([]),
            json!([2, 2]),
            json!([1, 1, 1]),
            json!([-1]),
            json!(["1"]),
            json!(1),
            Value::Null,
        ] {
            bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": shape,
                                   "data": ["a", "b"]}]}));
        }
        let error = bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [3],
                                           "data": ["a", "b"]}]}));
        assert!(error.contains("2 elements"), "{error}");
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1],
                               "data": ["a", "b"]}]}));
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [5]}]}));
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": "a"}]}));
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1]}]}));
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"],
                               "parameters": {"binary_data_size": 0}}]}));
        bad(json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"],
                               "parameters": {"shared_memory_region": "r"}}]}));
        bad(json!({"inputs": [ok], "outputs": {"name": "label"}}));
        bad(json!({"inputs": [ok], "outputs": ["label"]}));
        bad(json!({"inputs": [ok], "outputs": [{"parameters": {}}]}));
        let error = bad(json!({"inputs": [ok], "outputs": [{"name": "logits"}]}));
        assert!(error.contains("logits"), "{error}");
        bad(json!({"inputs": [ok], "outputs": [{"name": "label"}, {"name": "label"}]}));
        bad(json!({"inputs": [ok], "outputs": [{"name": "label",
                                                 "parameters": {"binary_data": 1}}]}));
        bad(json!({"inputs": [ok], "outputs": [{"name": "label",
                                                 "parameters": {"classification": 2}}]}));
    }

    #[test]
    fn bodies_that_are_not_json_are_400() {
        let model = tiny();
        let limits = Limits::default();
        let post = |body: &[u8], length: Option<&str>| {
            let models = [("tiny", &model)];
            serve_with(&models, Method::Post, "models/tiny/infer", length, body, &limits).status
        };
        assert_eq!(post(b"", None), 400);
        assert_eq!(post(b"{\"inputs\": ", None), 400);
        assert_eq!(post(b"\xff\xfe", None), 400);
        let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(post(nested.as_bytes(), None), 400);
        let deep = format!(
            r#"{{"inputs": [{{"name": "text", "datatype": "BYTES", "shape": [1], "data": {}"a"{}}}]}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        assert_eq!(post(deep.as_bytes(), None), 400);
    }

    #[test]
    fn bad_binary_data_is_400() {
        let model = tiny();
        let header = |n: usize, size: usize| {
            json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [n],
                               "parameters": {"binary_data_size": size}}]})
        };
        let status = |header: &Value, binary: &[u8]| infer_binary(&model, header, binary).status;
        let two = bytes_tensor(&[b"bad", b"good"]);
        assert_eq!(status(&header(2, two.len()), &two), 200);
        // Sizes that disagree with the body.
        assert_eq!(status(&header(2, two.len() + 1), &two), 400);
        assert_eq!(status(&header(2, two.len() - 1), &two), 400);
        // Element counts that disagree with the shape.
        assert_eq!(status(&header(3, two.len()), &two), 400);
        assert_eq!(status(&header(1, two.len()), &two), 400);
        // A truncated length prefix, and an element longer than what is left.
        assert_eq!(status(&header(3, two.len() + 2), &[two.as_slice(), &[1, 0]].concat()), 400);
        let mut long = two.clone();
        long.extend_from_slice(&100u32.to_le_bytes());
        long.extend_from_slice(b"short");
        assert_eq!(status(&header(3, long.len()), &long), 400);
        // Invalid UTF-8 in an element.
        let invalid = bytes_tensor(&[b"ok", b"\xff\xfe"]);
        let response = infer_binary(&model, &header(2, invalid.len()), &invalid);
        assert_eq!(response.status, 400);
        assert!(json_of(&response)["error"].as_str().unwrap().contains("UTF-8"));
        // Bytes after a JSON-only request.
        assert_eq!(status(&json!({"inputs": [text_input(json!(["bad"]))]}), b"junk"), 400);
        // A negative size.
        let negative = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [0],
                                          "parameters": {"binary_data_size": -1}}]});
        assert_eq!(status(&negative, b""), 400);
    }

    #[test]
    fn bad_header_lengths_are_400() {
        let model = tiny();
        let limits = Limits::default();
        let body = json!({"inputs": [text_input(json!(["bad"]))]}).to_string();
        let post = |length: &str| {
            let models = [("tiny", &model)];
            let path = "models/tiny/infer";
            serve_with(&models, Method::Post, path, Some(length), body.as_bytes(), &limits).status
        };
        assert_eq!(post(&body.len().to_string()), 200);
        assert_eq!(post(&format!(" {} ", body.len())), 200);
        for length in
            ["", "-1", "abc", "1e3", "99999999999999999999999", &(body.len() + 1).to_string()]
        {
            assert_eq!(post(length), 400, "{length:?}");
        }
        // A header length cutting the JSON short.
        assert_eq!(post(&(body.len() - 1).to_string()), 400);
    }

    #[test]
    fn limits_give_413() {
        let model = tiny();
        let models = [("tiny", &model)];
        let path = "models/tiny/infer";
        let body = json!({"inputs": [text_input(json!(["a", "b", "c"]))]}).to_string();
        let limits = Limits { max_body: body.len() - 1, ..Limits::default() };
        let response = serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        assert_eq!(response.status, 413);
        let limits = Limits { max_batch: 2, ..Limits::default() };
        let response = serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        assert_eq!(response.status, 413);
        // The shape alone is enough to refuse, whatever the data.
        let body = json!({"inputs": [{"name": "text", "datatype": "BYTES",
                                      "shape": [u64::MAX], "data": []}]})
        .to_string();
        let response = serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        assert_eq!(response.status, 413);
        let limits = Limits { max_batch: 3, ..Limits::default() };
        let body = json!({"inputs": [text_input(json!(["a", "b", "c"]))]}).to_string();
        let response = serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        assert_eq!(response.status, 200);
    }

    #[test]
    fn every_cut_of_a_binary_request_is_answered() {
        // Each prefix and each one-byte corruption of a valid binary request gets an answer with
        // a valid status and, for errors, a JSON error body (serve_with checks it).
        let model = tiny();
        let binary = bytes_tensor(&[b"bad", "good \u{e9}".as_bytes(), b""]);
        let header = json!({
            "id": "cut",
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [3],
                        "parameters": {"binary_data_size": binary.len()}}],
            "outputs": [{"name": "label", "parameters": {"binary_data": true}},
                        {"name": "scores"}],
        });
        let (body, length) = binary_body(&header, &binary);
        let models = [("m", &model)];
        let limits = Limits::default();
        let path = "models/m/infer";
        for end in 0..=body.len() {
            let response =
                serve_with(&models, Method::Post, path, Some(&length), &body[..end], &limits);
            assert!(matches!(response.status, 200 | 400), "prefix {end}: {}", response.status);
            assert_eq!(response.status == 200, end == body.len());
        }
        for i in 0..body.len() {
            for byte in [0u8, b'"', b'9', 0xff] {
                let mut corrupt = body.clone();
                corrupt[i] = byte;
                let response =
                    serve_with(&models, Method::Post, path, Some(&length), &corrupt, &limits);
                assert!(
                    matches!(response.status, 200 | 400 | 413),
                    "byte {i}: {}",
                    response.status
                );
            }
        }
    }

    #[test]
    fn a_regressor_answers_one_fp64_value_per_text() {
        let model = tiny_regression();
        let models = [("rating", &model)];
        let request = json!({"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                                         "data": ["good phone", "bad"]}]});
        let body = request.to_string();
        let limits = Limits::default();
        let post = |path| serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        let answer = json_of(&post("models/rating/infer"));
        assert_eq!(
            answer["outputs"],
            json!([{"name": "value", "datatype": "FP64", "shape": [2], "data": [2.25, -1.5]}])
        );
        let metadata = serve_with(&models, Method::Get, "models/rating", None, b"", &limits);
        let metadata = json_of(&metadata);
        assert_eq!(
            metadata["outputs"],
            json!([{"name": "value", "datatype": "FP64", "shape": [-1]}])
        );
        assert_eq!(metadata["parameters"]["task"], "regression");
    }

    #[test]
    fn a_multi_label_model_answers_label_rows_padded_to_the_most_labels() {
        let model = tiny_multi_label();
        let models = [("tags", &model)];
        let request = json!({"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES",
                                         "data": ["crash bug", "typo", "nothing"]}]});
        let body = request.to_string();
        let limits = Limits::default();
        let post = |path| serve_with(&models, Method::Post, path, None, body.as_bytes(), &limits);
        let answer = json_of(&post("models/tags/infer"));
        assert_eq!(
            answer["outputs"][0],
            json!({"name": "label", "datatype": "BYTES", "shape": [3, 2],
                   "data": ["bug", "urgent", "docs", "", "", ""]})
        );
        assert_eq!(answer["outputs"][1]["shape"], json!([3, 3]));
        assert_eq!(answer["outputs"][1]["data"].as_array().unwrap()[..3], [1.0, -0.75, 1.0]);
        let one = json!({"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES",
                                     "data": ["nothing"]}]})
        .to_string();
        let none =
            serve_with(&models, Method::Post, "models/tags/infer", None, one.as_bytes(), &limits);
        assert_eq!(json_of(&none)["outputs"][0]["shape"], json!([1, 0]));
        assert_eq!(none.label.as_deref(), Some(""));
        let metadata =
            json_of(&serve_with(&models, Method::Get, "models/tags", None, b"", &limits));
        assert_eq!(metadata["outputs"][0]["shape"], json!([-1, -1]));
        assert_eq!(metadata["parameters"]["task"], "multi_label");
    }
}
