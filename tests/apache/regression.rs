//! A regressor served by the module (issue #19): every request form answers the number, under
//! prefork and event, with the errors and the access-log note of a classifier's.

use serde_json::{json, Value};

use crate::httpd::{golden, percent_encode, repo_root, Apache};

/// classify-core's tiny Ridge model: "good phone" → 2.25, "bad" → -1.5, "" → 0.5.
fn model_path() -> String {
    repo_root()
        .join("crates/classify-core/testdata/tiny-regression.model.json")
        .display()
        .to_string()
}

fn configuration() -> String {
    format!(
        "<Location /rating>\n  SetHandler classify\n  ClassifyModel {}\n  ClassifyModelName rating\n\
         </Location>\n<Location /v2>\n  SetHandler classify-v2\n</Location>\n",
        model_path()
    )
}

fn every_request_form_answers_the_number(mpm: &str) {
    let apache = Apache::start(mpm, &configuration());
    let json = [("Accept", "application/json")];
    assert_eq!(apache.get("/rating/good%20phone", &[]).text(), "2.25\n", "{mpm}");
    assert_eq!(apache.get("/rating?text=bad", &[]).text(), "-1.5\n");
    assert_eq!(apache.post("/rating", "text/plain", b"good phone").text(), "2.25\n");
    assert_eq!(apache.get("/rating/good%20phone", &json).json(), json!({"value": 2.25}));
    let batch = apache.post("/rating", "application/json", br#"{"texts": ["good phone", ""]}"#);
    assert_eq!(batch.json(), json!({"results": [{"value": 2.25}, {"value": 0.5}]}));
    let explained = apache.get("/rating?text=bad+phone&explain=1", &json).json();
    assert_eq!(explained["explanation"], json!([{"feature": "phone", "contribution": 0.25}]));
    let metadata = apache.get("/rating", &[]).json();
    assert_eq!(
        (metadata["task"].clone(), metadata["estimator"].clone()),
        (json!("regression"), json!("Ridge"))
    );

    let top = apache.get("/rating?text=bad&top=2", &json);
    assert_eq!(top.status, 400, "{}", top.text());
    assert!(top.json()["error"].as_str().unwrap_or("").contains("answers a number"));

    let request = json!({"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                                     "data": ["good phone", "bad"]}]});
    let infer =
        apache.post("/v2/models/rating/infer", "application/json", request.to_string().as_bytes());
    assert_eq!(infer.status, 200, "{}", infer.text());
    let outputs: Value = infer.json()["outputs"].clone();
    assert_eq!(
        outputs,
        json!([{"name": "value", "datatype": "FP64", "shape": [2], "data": [2.25, -1.5]}])
    );
    apache.assert_no_crashed_children();
}

#[test]
fn a_regressor_answers_every_request_form_under_prefork() {
    every_request_form_answers_the_number("prefork");
}

#[test]
fn a_regressor_answers_every_request_form_under_event() {
    every_request_form_answers_the_number("event");
}

/// The access log's `classify-label` note carries the number.
#[test]
fn the_access_log_note_is_the_number() {
    let apache = Apache::start("event", &configuration());
    assert_eq!(apache.get("/rating/good%20phone", &[]).status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(apache.path("access.log")).unwrap_or_default();
        if log.contains("\"GET /rating/good%20phone HTTP/1.1\" 200 2.25") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "access log: {log}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Real sklearn regressors, linear, trees and a kernel SVR (golden fixtures), over HTTP: every
/// text's number as sklearn's `predict` gave it, within 1e-9, as a URL path and as a JSON body.
#[test]
fn golden_regressors_answer_sklearns_numbers() {
    let models = [
        "ridge_tfidf_words",
        "gridsearch_union_ridge",
        "truncatedsvd_ridge",
        "randomforestregressor_tfidf",
        "decisiontreeregressor_count_bigrams",
        "svr_rbf_tfidf",
    ];
    let mut body = String::new();
    for (i, model) in models.iter().enumerate() {
        body.push_str(&format!(
            "<Location /r{i}>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
            golden(&format!("{model}.model.json")).display()
        ));
    }
    let apache = Apache::start("event", &body);
    let mut checked = 0;
    for (i, model) in models.iter().enumerate() {
        let path = golden(&format!("{model}.cases.jsonl"));
        let cases = std::fs::read_to_string(&path).expect("golden cases");
        for line in cases.lines() {
            let case: Value = serde_json::from_str(line).expect("case JSON");
            let (text, want) =
                (case["text"].as_str().expect("text"), case["value"].as_f64().expect("value"));
            let close = |got: f64| (got - want).abs() <= 1e-9 * 1f64.max(got.abs()).max(want.abs());
            if !text.is_empty() && !text.contains('\0') {
                let answer = apache.get(&format!("/r{i}/{}", percent_encode(text)), &[]);
                let got: f64 = answer.text().trim().parse().expect("a number");
                assert!(close(got), "{model} {text:?}: {got} vs sklearn {want}");
            }
            let request = json!({ "text": text }).to_string();
            let got = apache.post(&format!("/r{i}"), "application/json", request.as_bytes()).json()
                ["value"]
                .as_f64()
                .expect("value");
            assert!(close(got), "{model} {text:?}: {got} vs sklearn {want}");
            checked += 1;
        }
    }
    assert!(checked >= 200, "only {checked} texts checked");
    apache.assert_no_crashed_children();
}
