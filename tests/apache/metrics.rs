//! Metrics (issue 8): counters summed over every child, scraped in Prometheus format, surviving
//! graceful restarts, and shown by mod_status.

use std::collections::HashSet;
use std::fs;
use std::thread;

use crate::httpd::{golden, Apache};

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// The value of `series` in a `/metrics` scrape; panics naming it when it is missing.
pub(crate) fn value_of(text: &str, series: &str) -> f64 {
    metric(text, series).unwrap_or_else(|| panic!("{series} missing:\n{text}"))
}

/// Prefork settings that keep several children, and the log of each request's child PID that
/// `assert_several_children_answered` reads.
pub(crate) const SEVERAL_CHILDREN: &str = "StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\n\
     LogFormat \"%P\" pids\nCustomLog pids.log pids\n";

/// Checks, from `pids.log`, that more than one child answered (else summing over children
/// would go untested).
pub(crate) fn assert_several_children_answered(apache: &Apache) {
    let pids: HashSet<String> = fs::read_to_string(apache.path("pids.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(pids.len() > 1, "all requests went to one child: the test would prove nothing");
}

#[test]
fn counters_add_up_across_children_and_graceful_restarts() {
    let config = format!(
        "{SEVERAL_CHILDREN}\
         LoadModule status_module /usr/lib/apache2/modules/mod_status.so\n\
         <Location /a>\n  SetHandler classify\n  ClassifyModelName alpha\n  ClassifyModel {}\n</Location>\n\
         <Location /b>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n\
         <Location /metrics>\n  SetHandler classify-metrics\n</Location>\n\
         <Location /server-status>\n  SetHandler server-status\n</Location>\n",
        golden("count_word12_linearsvc_multi.model.json").display(),
        golden("count_word_linearsvc_binary.model.json").display(),
    );
    // Prefork: every request is served by one of several processes.
    let apache = Apache::start("prefork", &config);
    thread::scope(|scope| {
        for client in 0..4 {
            let apache = &apache;
            scope.spawn(move || {
                for i in 0..15 {
                    let ok = apache.get(&format!("/a/arcade%20game%20{client}%20{i}"), &[]);
                    assert_eq!(ok.status, 200);
                }
            });
        }
    });
    for _ in 0..7 {
        assert_eq!(apache.get("/a?text=%ff", &[]).status, 400);
    }
    for _ in 0..10 {
        let batch = apache.post("/b", "application/json", br#"{"texts": ["a", "b", "c"]}"#);
        assert_eq!(batch.status, 200);
    }
    assert_several_children_answered(&apache);

    let scrape = apache.get("/metrics", &[]);
    assert_eq!(scrape.status, 200);
    assert!(scrape.header("Content-Type").unwrap_or("").starts_with("text/plain; version=0.0.4"));
    let text = scrape.text();
    let value = |series: &str| value_of(&text, series);
    assert_eq!(value("classify_requests_total{model=\"alpha\",status=\"200\"}"), 60.0);
    assert_eq!(value("classify_requests_total{model=\"alpha\",status=\"400\"}"), 7.0);
    assert_eq!(value("classify_errors_total{model=\"alpha\",kind=\"client\"}"), 7.0);
    assert_eq!(value("classify_request_duration_seconds_count{model=\"alpha\"}"), 67.0);
    assert_eq!(
        value("classify_requests_total{model=\"count_word_linearsvc_binary\",status=\"200\"}"),
        10.0
    );
    assert_eq!(value("classify_texts_total{model=\"count_word_linearsvc_binary\"}"), 30.0);
    assert_eq!(value("classify_texts_total{model=\"alpha\"}"), 60.0);
    assert_eq!(value("classify_model_loads_total{model=\"alpha\"}"), 1.0);
    assert!(value("classify_model_load_seconds{model=\"alpha\"}") > 0.0);
    let generation = value("classify_config_generation");

    let status = apache.get("/server-status?auto", &[]).text();
    assert!(status.contains("ClassifyRequests[alpha]: 67"), "{status}");
    let html = apache.get("/server-status", &[]).text();
    assert!(html.contains("<h2>mod_classify</h2>"), "{html}");

    apache.graceful();
    for _ in 0..5 {
        assert_eq!(apache.get("/a/arcade%20game", &[]).status, 200);
    }
    let text = apache.get("/metrics", &[]).text();
    let value = |series: &str| value_of(&text, series);
    assert_eq!(value("classify_requests_total{model=\"alpha\",status=\"200\"}"), 65.0);
    // The model file did not change: the new generation kept it instead of loading it again.
    assert_eq!(value("classify_model_loads_total{model=\"alpha\"}"), 1.0);
    assert!(value("classify_config_generation") > generation);
    apache.assert_no_crashed_children();
}

/// Drift signals (issue #20) over several prefork children: the predicted-label distribution,
/// the out-of-vocabulary share of known texts, text lengths and (for a model with
/// probabilities) the confidence, each summed over every child.
#[test]
fn drift_signals_add_up_across_children() {
    let tiny = crate::httpd::repo_root().join("crates/classify-core/testdata/tiny.model.json");
    let config = format!(
        "{SEVERAL_CHILDREN}\
         <Location /tiny>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n\
         <Location /proba>\n  SetHandler classify\n  ClassifyModelName proba\n  ClassifyModel {}\n</Location>\n\
         <Location /metrics>\n  SetHandler classify-metrics\n</Location>\n",
        tiny.display(),
        golden("tfidf_logreg_ovr_explicit.model.json").display(),
    );
    let apache = Apache::start("prefork", &config);
    thread::scope(|scope| {
        for _ in 0..4 {
            let apache = &apache;
            scope.spawn(move || {
                for _ in 0..6 {
                    // 5 n-grams, 3 known (good, phone, "good phone"): OOV share 0.4; → pos.
                    assert_eq!(apache.get("/tiny/good%20phone%20zzz", &[]).text(), "pos\n");
                    // Fully known; → neg.
                    assert_eq!(apache.get("/tiny/bad", &[]).text(), "neg\n");
                    assert_eq!(apache.get("/proba/arcade%20game", &[]).status, 200);
                }
            });
        }
    });
    let batch = apache.post("/tiny", "application/json", br#"{"texts": ["bad", "bad"]}"#);
    assert_eq!(batch.status, 200);
    assert_several_children_answered(&apache);
    let text = apache.get("/metrics", &[]).text();
    let value = |series: &str| value_of(&text, series);
    assert_eq!(value("classify_predictions_total{model=\"tiny\",label=\"pos\"}"), 24.0);
    assert_eq!(value("classify_predictions_total{model=\"tiny\",label=\"neg\"}"), 26.0);
    assert_eq!(value("classify_oov_ratio_count{model=\"tiny\"}"), 50.0);
    assert!((value("classify_oov_ratio_sum{model=\"tiny\"}") - 24.0 * 0.4).abs() < 1e-6);
    assert_eq!(value("classify_oov_ratio_bucket{model=\"tiny\",le=\"0\"}"), 26.0);
    assert_eq!(value("classify_oov_ratio_bucket{model=\"tiny\",le=\"0.3\"}"), 26.0);
    assert_eq!(value("classify_oov_ratio_bucket{model=\"tiny\",le=\"0.4\"}"), 50.0);
    // "good phone zzz" has 14 characters, "bad" 3.
    assert_eq!(
        value("classify_text_length_characters_sum{model=\"tiny\"}"),
        24.0 * 14.0 + 26.0 * 3.0
    );
    assert_eq!(value("classify_confidence_count{model=\"tiny\"}"), 0.0);
    // The logistic model's confidence: every text counted, each a probability.
    assert_eq!(value("classify_confidence_count{model=\"proba\"}"), 24.0);
    let confidence = value("classify_confidence_sum{model=\"proba\"}");
    assert!(confidence > 0.0 && confidence <= 24.0, "{confidence}");
    let labels: f64 = text
        .lines()
        .filter(|line| line.starts_with("classify_predictions_total{model=\"proba\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(labels, 24.0);
}
