//! The Open Inference Protocol (KServe V2) handler, `classify-v2`, on a real httpd: endpoints over
//! raw HTTP, and the real third-party client `tritonclient[http]` when the test run has it
//! (scripts/test installs it in a virtualenv and sets CLASSIFY_TRITON_PYTHON).

use std::fs;
use std::process::Command;

use serde_json::{json, Value};

use crate::httpd::{golden, repo_root, Apache};

fn config() -> String {
    format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModelName alpha\n  ClassifyModel {}\n</Location>\n\
         <Location /beta>\n  SetHandler classify\n  ClassifyModelName beta\n  ClassifyModel {}\n</Location>\n\
         <Location /v2>\n  SetHandler classify-v2\n</Location>\n",
        golden("count_word12_linearsvc_multi.model.json").display(),
        golden("svc_rbf_probability_tri.model.json").display(),
    )
}

/// (text, label) pairs sklearn gave for a golden model.
fn expected(model: &str, count: usize) -> Vec<(String, String)> {
    fs::read_to_string(golden(&format!("{model}.cases.jsonl")))
        .expect("golden cases")
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|case| {
            (
                case["text"].as_str().unwrap_or("").to_owned(),
                case["label"].as_str().unwrap_or("").to_owned(),
            )
        })
        .take(count)
        .collect()
}

#[test]
fn inference_protocol_endpoints_answer_as_the_spec_says() {
    let apache = Apache::start("event", &config());
    assert_eq!(apache.get("/v2/health/live", &[]).json(), json!({"live": true}));
    assert_eq!(apache.get("/v2/health/ready", &[]).json()["ready"], true);
    assert_eq!(apache.get("/v2", &[]).json()["name"], "mod_classify");
    let metadata = apache.get("/v2/models/alpha", &[]).json();
    assert_eq!(metadata["name"], "alpha");
    assert_eq!(metadata["inputs"][0]["datatype"], "BYTES");
    assert_eq!(apache.get("/v2/models/beta/ready", &[]).json()["ready"], true);
    let unknown = apache.get("/v2/models/nope", &[]);
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"].is_string());

    let cases = expected("count_word12_linearsvc_multi", 40);
    let texts: Vec<&str> = cases.iter().map(|(text, _)| text.as_str()).collect();
    let request = json!({
        "id": "request-7",
        "inputs": [{"name": "text", "shape": [texts.len()], "datatype": "BYTES", "data": texts}],
    });
    let answer =
        apache.post("/v2/models/alpha/infer", "application/json", request.to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["id"], "request-7");
    let outputs = answer["outputs"].as_array().expect("outputs");
    let labels = outputs.iter().find(|o| o["name"] == "label").expect("label output");
    let got: Vec<&str> =
        labels["data"].as_array().expect("data").iter().map(|v| v.as_str().unwrap_or("")).collect();
    let want: Vec<&str> = cases.iter().map(|(_, label)| label.as_str()).collect();
    assert_eq!(got, want);
    let scores = outputs.iter().find(|o| o["name"] == "scores").expect("scores output");
    assert_eq!(scores["shape"], json!([texts.len(), 6]));

    let bad = apache.post("/v2/models/alpha/infer", "application/json", b"{\"inputs\": 3}");
    assert_eq!(bad.status, 400);
    let metrics_free = apache.send("DELETE", "/v2/models/alpha", &[], b"");
    assert_eq!(metrics_free.status, 405);
    apache.assert_no_crashed_children();
}

#[test]
#[ignore = "needs tritonclient[http] from PyPI: scripts/test installs it and runs this test"]
fn tritonclient_gets_sklearn_labels() {
    let python = std::env::var("CLASSIFY_TRITON_PYTHON").expect(
        "set CLASSIFY_TRITON_PYTHON to a python with tritonclient[http] (scripts/test does)",
    );
    let apache = Apache::start("event", &config());
    for (name, model) in
        [("alpha", "count_word12_linearsvc_multi"), ("beta", "svc_rbf_probability_tri")]
    {
        let expected_path = apache.path(&format!("{name}.expected.jsonl"));
        let lines: Vec<String> = expected(model, 60)
            .into_iter()
            .map(|(text, label)| json!({"text": text, "label": label}).to_string())
            .collect();
        fs::write(&expected_path, lines.join("\n")).expect("write expected labels");
        let output = Command::new(&python)
            .arg(repo_root().join("tests/python/v2_tritonclient.py"))
            .args(["--url", &format!("127.0.0.1:{}", apache.port), "--model", name, "--expected"])
            .arg(&expected_path)
            .output()
            .expect("run tritonclient check");
        assert!(
            output.status.success(),
            "tritonclient check of {name} failed:\n{}",
            crate::httpd::describe(&output)
        );
    }
    apache.assert_no_crashed_children();
}
