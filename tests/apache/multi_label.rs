//! A multi-label model served by the module (issue #19): every request form answers the label
//! set, under prefork and event; the access log joins the labels with commas; /metrics counts the
//! answers by kind over every child.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::httpd::{repo_root, Apache};
use crate::metrics::{assert_several_children_answered, value_of, SEVERAL_CHILDREN};

/// classify-core's tiny one-vs-rest model: "crash bug" → bug, urgent; "typo" → docs;
/// "nothing" → no label.
fn model_path() -> String {
    repo_root()
        .join("crates/classify-core/testdata/tiny-multilabel.model.json")
        .display()
        .to_string()
}

fn configuration(extra: &str) -> String {
    format!(
        "{extra}<Location /tags>\n  SetHandler classify\n  ClassifyModel {}\n  ClassifyModelName tags\n\
         </Location>\n<Location /v2>\n  SetHandler classify-v2\n</Location>\n\
         <Location /metrics>\n  SetHandler classify-metrics\n</Location>\n",
        model_path()
    )
}

fn every_request_form_answers_the_labels(mpm: &str) {
    let apache = Apache::start(mpm, &configuration(""));
    let json = [("Accept", "application/json")];
    assert_eq!(apache.get("/tags/crash%20bug", &[]).text(), "bug\turgent\n", "{mpm}");
    assert_eq!(apache.get("/tags?text=typo", &[]).text(), "docs\n");
    assert_eq!(apache.get("/tags/nothing", &[]).text(), "\n");
    assert_eq!(apache.post("/tags", "text/plain", b"crash bug").text(), "bug\turgent\n");
    assert_eq!(
        apache.get("/tags/crash%20bug", &json).json(),
        json!({"labels": ["bug", "urgent"], "scores": {"bug": 1.0, "docs": -0.75, "urgent": 1.0}})
    );
    let batch = apache.post("/tags", "application/json", br#"{"texts": ["typo", "nothing"]}"#);
    let results = batch.json()["results"].clone();
    assert_eq!(
        (results[0]["labels"].clone(), results[1]["labels"].clone()),
        (json!(["docs"]), json!([]))
    );
    let metadata = apache.get("/tags", &[]).json();
    assert_eq!(metadata["task"], "multi_label");
    assert_eq!(metadata["classes"], json!(["bug", "docs", "urgent"]));

    // Errors are a classifier's.
    assert_eq!(apache.get("/tags?text=%ff", &[]).status, 400);
    let explain = apache.get("/tags?text=bug&explain=2", &json);
    assert_eq!(explain.status, 400, "{}", explain.text());

    let request = json!({"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES",
                                     "data": ["crash bug", "typo", "nothing"]}]});
    let infer =
        apache.post("/v2/models/tags/infer", "application/json", request.to_string().as_bytes());
    assert_eq!(infer.status, 200, "{}", infer.text());
    assert_eq!(
        infer.json()["outputs"][0],
        json!({"name": "label", "datatype": "BYTES", "shape": [3, 2],
               "data": ["bug", "urgent", "docs", "", "", ""]})
    );
    apache.assert_no_crashed_children();
}

#[test]
fn a_multi_label_model_answers_every_request_form_under_prefork() {
    every_request_form_answers_the_labels("prefork");
}

#[test]
fn a_multi_label_model_answers_every_request_form_under_event() {
    every_request_form_answers_the_labels("event");
}

/// The access log's `classify-label` note holds the labels comma-joined (one log field).
#[test]
fn the_access_log_note_joins_the_labels_with_commas() {
    let apache = Apache::start("event", &configuration(""));
    assert_eq!(apache.get("/tags/crash%20bug", &[]).status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = fs::read_to_string(apache.path("access.log")).unwrap_or_default();
        if log.contains("\"GET /tags/crash%20bug HTTP/1.1\" 200 bug,urgent") {
            break;
        }
        assert!(Instant::now() < deadline, "access log: {log}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Answers by kind, summed over several prefork children.
#[test]
fn metrics_count_answers_by_kind_across_children() {
    let apache = Apache::start("prefork", &configuration(SEVERAL_CHILDREN));
    thread::scope(|scope| {
        for _ in 0..4 {
            let apache = &apache;
            scope.spawn(move || {
                for _ in 0..10 {
                    assert_eq!(apache.get("/tags/crash%20bug", &[]).status, 200);
                    assert_eq!(apache.get("/tags/nothing", &[]).status, 200);
                }
            });
        }
    });
    let batch = apache.post("/tags", "application/json", br#"{"texts": ["typo", "typo", "x"]}"#);
    assert_eq!(batch.status, 200);
    assert_several_children_answered(&apache);
    let text = apache.get("/metrics", &[]).text();
    let value = |series: &str| value_of(&text, series);
    // 40 two-label answers and 2 one-label ones; 40 + 1 empty sets.
    assert_eq!(value("classify_answers_total{model=\"tags\",kind=\"label_set\"}"), 42.0);
    assert_eq!(value("classify_answers_total{model=\"tags\",kind=\"empty_label_set\"}"), 41.0);
    assert_eq!(value("classify_answers_total{model=\"tags\",kind=\"label\"}"), 0.0);
    assert_eq!(value("classify_answer_labels_total{model=\"tags\"}"), 82.0);
    assert_eq!(value("classify_texts_total{model=\"tags\"}"), 83.0);
}

/// Real sklearn multi-label models (golden fixtures: one-vs-rest and multi-output, with a
/// MultiLabelBinarizer's names, after a selection step) over HTTP under prefork and event: every
/// text's label set as sklearn's `predict` gave it, as a URL path (tab-separated) and as JSON.
fn golden_models_answer_sklearns_label_sets(mpm: &str) {
    let models = [
        "multilabel_ovr_linearsvc_tfidf",
        "multilabel_ovr_multinomialnb",
        "multilabel_multioutput_randomforest",
        "multilabel_selectkbest_ovr_linearsvc",
        "multilabel_mlb_ovr_sgd_log",
    ];
    let mut body = String::new();
    for (i, model) in models.iter().enumerate() {
        body.push_str(&format!(
            "<Location /m{i}>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
            crate::httpd::golden(&format!("{model}.model.json")).display()
        ));
    }
    let apache = Apache::start(mpm, &body);
    let mut checked = 0;
    for (i, model) in models.iter().enumerate() {
        let cases = fs::read_to_string(crate::httpd::golden(&format!("{model}.cases.jsonl")))
            .expect("golden cases");
        for line in cases.lines() {
            let case: serde_json::Value = serde_json::from_str(line).expect("case JSON");
            let text = case["text"].as_str().expect("text");
            let want: Vec<String> = case["labels"]
                .as_array()
                .expect("labels")
                .iter()
                .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
                .collect();
            if !text.is_empty() && !text.contains('\0') {
                let path = format!("/m{i}/{}", crate::httpd::percent_encode(text));
                let got = apache.get(&path, &[]).text();
                assert_eq!(got, format!("{}\n", want.join("\t")), "{mpm} {model} {text:?}");
            }
            let request = json!({ "text": text }).to_string();
            let answer =
                apache.post(&format!("/m{i}"), "application/json", request.as_bytes()).json();
            let got: Vec<String> = answer["labels"]
                .as_array()
                .expect("labels")
                .iter()
                .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
                .collect();
            assert_eq!(got, want, "{mpm} {model} {text:?}");
            checked += 1;
        }
    }
    assert!(checked >= 300, "only {checked} texts checked");
    apache.assert_no_crashed_children();
}

#[test]
fn golden_multi_label_models_answer_sklearns_label_sets_under_prefork() {
    golden_models_answer_sklearns_label_sets("prefork");
}

#[test]
fn golden_multi_label_models_answer_sklearns_label_sets_under_event() {
    golden_models_answer_sklearns_label_sets("event");
}
