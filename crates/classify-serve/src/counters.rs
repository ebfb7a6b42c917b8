//! Request metrics as the server exposes them: which statuses and latency buckets are counted, and
//! the Prometheus text and mod_status renderings of a snapshot. Counting itself happens in shared
//! memory owned by the Apache parent (see the module's `src/shared_counters.rs`); this file is the part
//! that needs no Apache.

use std::fmt::Write;

use classify_core::model::Answer;

/// HTTP statuses counted one by one; anything else is counted as "other".
pub const STATUSES: [u16; 8] = [200, 400, 404, 405, 413, 415, 500, 0];

/// Upper bounds (seconds) of the request-duration histogram buckets; the last bucket is +Inf.
pub const BUCKETS: [f64; 12] =
    [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/// The index in `STATUSES` that counts `status`.
pub fn status_index(status: u16) -> usize {
    STATUSES.iter().position(|&s| s == status).unwrap_or(STATUSES.len() - 1)
}

/// The histogram bucket (index into `BUCKETS`, or `BUCKETS.len()` for +Inf) of a duration.
pub fn bucket_index(seconds: f64) -> usize {
    BUCKETS.iter().position(|&le| seconds <= le).unwrap_or(BUCKETS.len())
}

/// The kinds of answer counted: a class, a non-empty or an empty set of labels, a number.
pub const ANSWER_KINDS: [&str; 4] = ["label", "label_set", "empty_label_set", "value"];

/// The texts one response answered, by kind of answer, and how many labels the multi-label
/// answers among them held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerTally {
    /// Per entry of `ANSWER_KINDS`.
    pub by_kind: [u64; ANSWER_KINDS.len()],
    pub labels_in_sets: u64,
}

impl AnswerTally {
    pub fn count(&mut self, answer: &Answer<'_>) {
        let kind = match answer {
            Answer::Label(_) => 0,
            Answer::Labels(labels) if labels.is_empty() => 2,
            Answer::Labels(labels) => {
                self.labels_in_sets += labels.len() as u64;
                1
            }
            Answer::Value(_) => 3,
        };
        self.by_kind[kind] += 1;
    }

    /// Texts answered, whatever the kind.
    pub fn texts(&self) -> u64 {
        self.by_kind.iter().sum()
    }
}

/// One model's counters, summed over every child and thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelCounters {
    pub model: String,
    /// Per entry of `STATUSES`.
    pub requests: [u64; STATUSES.len()],
    /// Per bucket of `BUCKETS`, then +Inf; not cumulative.
    pub duration_buckets: [u64; BUCKETS.len() + 1],
    pub duration_sum_seconds: f64,
    /// Texts classified (a batch counts each text), by kind of answer.
    pub answers: AnswerTally,
    /// Times the model was loaded (start-up and graceful restarts).
    pub loads: u64,
    /// Duration of the last load.
    pub last_load_seconds: f64,
}

/// The Prometheus text exposition (version 0.0.4) of the counters.
pub fn render_prometheus(models: &[ModelCounters], generation: i64) -> String {
    let mut out = String::new();
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "classify_requests_total",
        "counter",
        "Requests answered, by model and HTTP status.",
    );
    for counters in models {
        let model = label_value(&counters.model);
        for (status, count) in STATUSES.iter().zip(&counters.requests) {
            let status = if *status == 0 { "other".to_owned() } else { status.to_string() };
            let _ = writeln!(
                out,
                "classify_requests_total{{model=\"{model}\",status=\"{status}\"}} {count}"
            );
        }
    }
    family(
        &mut out,
        "classify_errors_total",
        "counter",
        "Requests answered with an error, by model and kind (client: 4xx, internal: 5xx).",
    );
    for counters in models {
        let model = label_value(&counters.model);
        let (client, internal) =
            STATUSES.iter().zip(&counters.requests).fold((0, 0), |(c, i), (s, n)| match s {
                400..=499 => (c + n, i),
                500..=599 => (c, i + n),
                _ => (c, i),
            });
        let _ =
            writeln!(out, "classify_errors_total{{model=\"{model}\",kind=\"client\"}} {client}");
        let _ = writeln!(
            out,
            "classify_errors_total{{model=\"{model}\",kind=\"internal\"}} {internal}"
        );
    }
    family(
        &mut out,
        "classify_request_duration_seconds",
        "histogram",
        "Time from the handler's start to its answer.",
    );
    for counters in models {
        let model = label_value(&counters.model);
        let mut cumulative = 0;
        for (index, count) in counters.duration_buckets.iter().enumerate() {
            cumulative += count;
            let le = BUCKETS.get(index).map_or("+Inf".to_owned(), |le| le.to_string());
            let _ = writeln!(out, "classify_request_duration_seconds_bucket{{model=\"{model}\",le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "classify_request_duration_seconds_sum{{model=\"{model}\"}} {}",
            counters.duration_sum_seconds
        );
        let _ = writeln!(
            out,
            "classify_request_duration_seconds_count{{model=\"{model}\"}} {cumulative}"
        );
    }
    let per_model = |out: &mut String,
                     name: &str,
                     kind: &str,
                     help: &str,
                     value: &dyn Fn(&ModelCounters) -> String| {
        family(out, name, kind, help);
        for counters in models {
            let _ = writeln!(
                out,
                "{name}{{model=\"{}\"}} {}",
                label_value(&counters.model),
                value(counters)
            );
        }
    };
    per_model(
        &mut out,
        "classify_texts_total",
        "counter",
        "Texts classified (each text of a batch counts).",
        &|c| c.answers.texts().to_string(),
    );
    family(
        &mut out,
        "classify_answers_total",
        "counter",
        "Texts answered, by kind of answer: a class (label), a multi-label model's labels \
         (label_set) or none of them (empty_label_set), a regressor's number (value).",
    );
    for counters in models {
        let model = label_value(&counters.model);
        for (kind, count) in ANSWER_KINDS.iter().zip(&counters.answers.by_kind) {
            let _ = writeln!(
                out,
                "classify_answers_total{{model=\"{model}\",kind=\"{kind}\"}} {count}"
            );
        }
    }
    per_model(
        &mut out,
        "classify_answer_labels_total",
        "counter",
        "Labels given in multi-label answers (divided by the label_set and empty_label_set \
         answers: the mean number of labels per text).",
        &|c| c.answers.labels_in_sets.to_string(),
    );
    per_model(
        &mut out,
        "classify_model_loads_total",
        "counter",
        "Times the model file was loaded (a graceful restart keeps a file that did not change).",
        &|c| c.loads.to_string(),
    );
    per_model(
        &mut out,
        "classify_model_load_seconds",
        "gauge",
        "Duration of the model's last load.",
        &|c| c.last_load_seconds.to_string(),
    );
    family(
        &mut out,
        "classify_config_generation",
        "gauge",
        "Apache configuration generation of the answering child (graceful restarts increase it).",
    );
    let _ = writeln!(out, "classify_config_generation {generation}");
    out
}

/// A mod_status section: an HTML table, or `key: value` lines for `?auto`.
pub fn render_status(models: &[ModelCounters], short: bool) -> String {
    let mut out = String::new();
    for counters in models {
        let total: u64 = counters.requests.iter().sum();
        let errors: u64 = total - counters.requests[0];
        let mean_ms =
            if total == 0 { 0.0 } else { counters.duration_sum_seconds * 1000.0 / total as f64 };
        if short {
            let _ = writeln!(out, "ClassifyRequests[{}]: {total}", counters.model);
            let _ = writeln!(out, "ClassifyErrors[{}]: {errors}", counters.model);
            let _ = writeln!(out, "ClassifyMeanMs[{}]: {mean_ms:.3}", counters.model);
        } else {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{total}</td><td>{errors}</td><td>{}</td><td>{mean_ms:.3}</td><td>{}</td></tr>",
                html_escape(&counters.model),
                counters.answers.texts(),
                counters.loads
            );
        }
    }
    if short {
        return out;
    }
    format!(
        "<hr><h2>mod_classify</h2>\n<table border=\"1\"><tr><th>model</th><th>requests</th>\
         <th>errors</th><th>texts</th><th>mean ms</th><th>loads</th></tr>\n{out}</table>\n"
    )
}

/// Escapes a Prometheus label value.
fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn html_escape(value: &str) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_count_as_other_and_durations_find_their_bucket() {
        assert_eq!(STATUSES[status_index(503)], 0);
        assert_eq!(status_index(413), 4);
        assert_eq!(bucket_index(0.000_01), 0);
        assert_eq!(bucket_index(0.003), 6);
        assert_eq!(bucket_index(10.0), BUCKETS.len());
    }

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let mut counters = ModelCounters { model: "m\"1".into(), ..Default::default() };
        counters.requests[0] = 3;
        counters.requests[1] = 1;
        counters.duration_buckets[0] = 2;
        counters.duration_buckets[5] = 2;
        let text = render_prometheus(&[counters], 3);
        assert!(
            text.contains("classify_requests_total{model=\"m\\\"1\",status=\"200\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("classify_errors_total{model=\"m\\\"1\",kind=\"client\"} 1"),
            "{text}"
        );
        assert!(text.contains("le=\"0.00005\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 4"), "{text}");
        assert!(text.contains("classify_request_duration_seconds_count{model=\"m\\\"1\"} 4"));
        assert!(text.contains("classify_config_generation 3"));
    }

    #[test]
    fn answers_are_counted_by_kind() {
        let (a, b) = (classify_core::Label::Str("a".into()), classify_core::Label::Int(2));
        let mut tally = AnswerTally::default();
        for answer in [
            Answer::Label(&a),
            Answer::Labels(vec![&a, &b]),
            Answer::Labels(vec![]),
            Answer::Labels(vec![&b]),
            Answer::Value(1.5),
        ] {
            tally.count(&answer);
        }
        assert_eq!((tally.by_kind, tally.labels_in_sets, tally.texts()), ([1, 2, 1, 1], 3, 5));
        let counters = ModelCounters { model: "tags".into(), answers: tally, ..Default::default() };
        let text = render_prometheus(&[counters], 1);
        assert!(
            text.contains("classify_answers_total{model=\"tags\",kind=\"label_set\"} 2"),
            "{text}"
        );
        assert!(text.contains("classify_answer_labels_total{model=\"tags\"} 3"), "{text}");
        assert!(text.contains("classify_texts_total{model=\"tags\"} 5"), "{text}");
    }
}
