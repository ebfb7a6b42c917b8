//! `classify eval --report`: the HTML report's confusion-matrix cells hold the counts
//! `classify eval --json` reports, texts are shown as text, and nothing is fetched from elsewhere.
//! (tests/browser renders it in a real browser.)

mod common;

use common::{classify, err, ok};
use std::path::Path;

/// The value of `attribute="..."` in `element` (an opening tag's text).
fn attribute<'a>(element: &'a str, attribute: &str) -> &'a str {
    let start =
        element.find(&format!(" {attribute}=\"")).expect("attribute present") + attribute.len() + 3;
    let end = element[start..].find('"').expect("closing quote");
    &element[start..start + end]
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_report_shows_the_counts_of_eval_json_and_never_runs_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.model");
    let model_arg = model.to_str().expect("UTF-8 path");
    let mut data = String::new();
    let topics = [
        ("games", "arcade shooter puzzle"),
        ("net", "http server proxy"),
        ("doc", "manual guide html"),
    ];
    for i in 0..45 {
        let (label, words) = topics[i % 3];
        let (_, other) = topics[(i + 1) % 3];
        // Every fifth text leans to another topic, so there are confusions to show.
        let text = if i % 5 == 0 { format!("{other} {i}") } else { format!("{words} {i}") };
        data.push_str(&format!("{label}\t{text}\n"));
    }
    ok(classify(&["train", "--data", "-", "-o", model_arg], Some(data.as_bytes())));
    let held_out = format!("{data}doc\t<script>alert(1)</script> arcade & \"x\"\n");
    let held_out_path = dir.path().join("held-out.tsv");
    std::fs::write(&held_out_path, &held_out).expect("held-out data");
    let data_arg = held_out_path.to_str().expect("UTF-8 path");
    let report = dir.path().join("report.html");
    let svg = dir.path().join("matrix.svg");
    let figures = ok(classify(
        &[
            "eval",
            "-m",
            model_arg,
            "--data",
            data_arg,
            "--json",
            "--report",
            report.to_str().expect("UTF-8"),
            "--report-svg",
            svg.to_str().expect("UTF-8"),
        ],
        None,
    ));
    let figures: serde_json::Value = serde_json::from_str(&figures).expect("JSON figures");
    let labels: Vec<&str> = figures["evaluation"]["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l.as_str().expect("label"))
        .collect();
    let matrix = &figures["evaluation"]["confusion_matrix"];
    let html = std::fs::read_to_string(&report).expect("report written");

    let cells: Vec<&str> =
        html.split("<rect ").skip(1).filter(|e| e.contains("data-count")).collect();
    assert_eq!(cells.len(), labels.len() * labels.len(), "one cell per pair");
    for cell in &cells {
        let truth = labels.iter().position(|l| *l == unescape(attribute(cell, "data-true")));
        let predicted =
            labels.iter().position(|l| *l == unescape(attribute(cell, "data-predicted")));
        let (truth, predicted) = (truth.expect("known label"), predicted.expect("known label"));
        let count: u64 = attribute(cell, "data-count").parse().expect("a count");
        assert_eq!(Some(count), matrix[truth][predicted].as_u64(), "{cell}");
    }
    let total: u64 = labels
        .iter()
        .enumerate()
        .map(|(t, _)| (0..labels.len()).map(|p| matrix[t][p].as_u64().unwrap_or(0)).sum::<u64>())
        .sum();
    assert_eq!(total, 46);
    assert!(html.contains(&format!(
        "id=\"accuracy\">{:.4}<",
        figures["evaluation"]["accuracy"].as_f64().unwrap_or(-1.0)
    )));

    // Self-contained and inert: no script, no fetched resource; the text shown escaped.
    assert!(!html.contains("<script"), "the held-out text became markup");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; arcade &amp; &quot;x&quot;"));
    for reference in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(reference), "the report refers to something outside: {reference}");
    }
    let svg = std::fs::read_to_string(&svg).expect("svg written");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("data-count").count(), labels.len() * labels.len());
    assert!(Path::new(&report).exists());
}

#[test]
fn a_report_needs_a_classifier() {
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../classify-core/testdata/tiny-regression.model.json"
    );
    let output = classify(
        &["eval", "-m", model, "--data", "-", "--report", "/dev/null"],
        Some(b"1\tgood\n"),
    );
    let stderr = err(output);
    assert!(stderr.contains("--report") && stderr.contains("answers a number"), "{stderr}");
}

#[test]
fn train_draws_its_held_out_evaluation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut data = String::new();
    for i in 0..40 {
        let (label, words) =
            if i % 2 == 0 { ("games", "arcade puzzle") } else { ("net", "http proxy") };
        data.push_str(&format!("{label}\t{words} {i}\n"));
    }
    let report = dir.path().join("held-out.html");
    let report_arg = report.to_str().expect("UTF-8");
    let model = dir.path().join("m.model");
    let args = [
        "train",
        "--data",
        "-",
        "--test-split",
        "0.25",
        "--json",
        "--report",
        report_arg,
        "-o",
        model.to_str().expect("UTF-8"),
    ];
    let figures: serde_json::Value =
        serde_json::from_str(&ok(classify(&args, Some(data.as_bytes())))).expect("JSON");
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(html.contains("(held out)"), "{html}");
    let held_out = figures["held-out"]["documents"].as_u64().expect("documents");
    assert!(html.contains(&format!("id=\"documents\">{held_out}<")), "{html}");
    let refused = classify(
        &["train", "--data", "-", "--report", report_arg, "-o", "/dev/null"],
        Some(data.as_bytes()),
    );
    assert!(err(refused).contains("--test-split"));
}
