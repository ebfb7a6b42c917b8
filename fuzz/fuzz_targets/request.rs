//! Any request the handler can see — method, path text, query, content type, Accept and body —
//! gets an answer with a valid status, never a panic; every error answer is a JSON object with an
//! "error" string.
#![no_main]

use std::sync::OnceLock;

use classify_serve::protocol::{answer, Limits, Method, ModelSource, Request};
use classify_core::Model;
use libfuzzer_sys::fuzz_target;

const TINY: &str = r#"{
    "format": "mod_classify-model", "format_version": 1,
    "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                   "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
    "classifier": {"kind": "linear", "estimator": "LogisticRegression", "classes": ["neg", "pos"],
                   "coef": [[1.0, 0.5, -2.0, 0.0]], "intercept": [-0.1],
                   "probability": "ovr_sigmoid"}
}"#;

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::from_bytes(TINY.as_bytes()).expect("tiny model"))
}

/// Splits the input into the request's fields at 0xFF bytes (which never occur in UTF-8).
fn fields(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&byte| byte == 0xFF).collect()
}

fuzz_target!(|data: &[u8]| {
    let parts = fields(data);
    let text = |i: usize| parts.get(i).and_then(|p| std::str::from_utf8(p).ok());
    let method = match parts.first().and_then(|p| p.first()) {
        Some(0) => Method::Get,
        Some(1) => Method::Head,
        Some(2) => Method::Post,
        _ => Method::Other,
    };
    let request = Request {
        method: Some(method),
        path_text: text(1).unwrap_or(""),
        query: text(2),
        content_type: text(3),
        accept: text(4),
        prefer_json: parts.first().is_some_and(|p| p.len() > 1 && p[1] & 1 == 1),
        // ClassifyPage On: browsers' GETs of the location get the try-it page.
        page: parts.first().is_some_and(|p| p.len() > 1 && p[1] & 2 == 2),
        model_name: text(6),
        body: parts.get(5).copied().unwrap_or(b""),
    };
    let limits = Limits { max_body: 4096, max_batch: 8, max_top: 4 };
    let response = answer(model(), &ModelSource::default(), &request, &limits);
    assert!(matches!(response.status, 200 | 400 | 405 | 413 | 415), "status {}", response.status);
    if response.status >= 400 {
        let body: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON error body");
        assert!(body["error"].is_string(), "error body {body}");
    }
});
