//! Nearest-neighbour models (issue #19) in a real Apache: the golden fixtures' classifiers and
//! regressor answer what sklearn answered, and the error log's load line says how much memory
//! each model's training rows take.

use serde_json::{json, Value};

use crate::httpd::{golden, percent_encode, Apache};

/// A label as text: a string as it is, an integer in decimal.
fn label_text(label: &Value) -> String {
    label.as_str().map_or_else(|| label.to_string(), str::to_owned)
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * 1f64.max(got.abs()).max(want.abs())
}

/// Every golden text of a kNN classifier (sparse euclidean, cosine with distance weights, dense
/// after TruncatedSVD) and regressor: the label as a URL path, and the label, probabilities
/// and number as JSON.
#[test]
fn golden_nearest_neighbour_models_answer_sklearn() {
    let models = [
        "knn_tfidf_euclidean_uniform",
        "knn_tfidf_cosine_distance",
        "knn_truncatedsvd_kd_tree",
        "knn_regressor_distance",
    ];
    let mut body = String::new();
    for (i, model) in models.iter().enumerate() {
        body.push_str(&format!(
            "<Location /k{i}>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
            golden(&format!("{model}.model.json")).display()
        ));
    }
    // Each model's classes as the answers name them (none for the regressor).
    let classes: Vec<Vec<String>> = models
        .iter()
        .map(|model| {
            let text = std::fs::read_to_string(golden(&format!("{model}.model.json")))
                .expect("golden model");
            let file: Value = serde_json::from_str(&text).expect("model JSON");
            let labels = file["classifier"]["classes"].as_array().cloned().unwrap_or_default();
            labels.iter().map(label_text).collect()
        })
        .collect();
    let apache = Apache::start("event", &body);
    let mut checked = 0;
    for (i, model) in models.iter().enumerate() {
        let cases =
            std::fs::read_to_string(golden(&format!("{model}.cases.jsonl"))).expect("golden cases");
        for line in cases.lines() {
            let case: Value = serde_json::from_str(line).expect("case JSON");
            let text = case["text"].as_str().expect("text");
            let request = json!({ "text": text }).to_string();
            let answer =
                apache.post(&format!("/k{i}"), "application/json", request.as_bytes()).json();
            if let Some(want) = case["value"].as_f64() {
                let got = answer["value"].as_f64().expect("value");
                assert!(close(got, want), "{model} {text:?}: {got} vs sklearn {want}");
            } else {
                let want = case["label"].as_str().expect("label");
                assert_eq!(label_text(&answer["label"]), want, "{model} {text:?}");
                let probabilities = case["probabilities"].as_array().expect("probabilities");
                for (class, want) in classes[i].iter().zip(probabilities) {
                    let (got, want) = (&answer["probabilities"][class], want.as_f64());
                    let got = got.as_f64().expect("a probability per class");
                    assert!(close(got, want.expect("number")), "{model} {text:?} {class}: {got}");
                }
                if !text.is_empty() && !text.contains('\0') {
                    let path = format!("/k{i}/{}", percent_encode(text));
                    assert_eq!(
                        apache.get(&path, &[]).text(),
                        format!("{want}\n"),
                        "{model} {text:?}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 250, "only {checked} texts checked");
    let log = apache.error_log();
    let loads: Vec<&str> = log.lines().filter(|line| line.contains("CLS00003")).collect();
    assert_eq!(loads.len(), models.len(), "{log}");
    for line in loads {
        assert!(line.contains(" training rows x ") && line.contains("bytes"), "{line}");
    }
    apache.assert_no_crashed_children();
}
