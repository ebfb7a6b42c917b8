//! Request metrics as the server exposes them: which statuses and latency buckets are counted, and
//! the Prometheus text and mod_status renderings of a snapshot. Counting itself happens in shared
//! memory owned by the Apache parent (see the module's `src/shared_counters.rs`); this file is the part
//! that needs no Apache.

use std::fmt::Write;

use crate::html::escape;
use classify_core::featurize::NgramCounts;
use classify_core::model::{Answer, Model, Prediction, Task};

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

/// Upper bounds of the out-of-vocabulary share histogram (a text whose n-grams are all known
/// counts in the first bucket).
pub const OOV_BOUNDS: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// Upper bounds of the text length histogram, in characters.
pub const LENGTH_BOUNDS: [f64; 11] =
    [16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0];
/// Upper bounds of the histogram of the predicted class's probability.
pub const CONFIDENCE_BOUNDS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// Buckets a histogram holds: the most bounds of any, plus +Inf.
pub const HISTOGRAM_BUCKETS: usize = 12;

/// One histogram's counts: per bucket (not cumulative; the last is +Inf), their sum and number.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Histogram {
    pub buckets: [u64; HISTOGRAM_BUCKETS],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, bounds: &[f64], value: f64) {
        let bucket = bounds.iter().position(|&le| value <= le).unwrap_or(bounds.len());
        self.buckets[bucket] += 1;
        self.sum += value;
        self.count += 1;
    }
}

/// What one response answered: texts by kind of answer, the labels given, and the drift
/// signals of its texts (how much of each the vocabulary knew, its length, the model's
/// confidence).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerTally {
    /// Per entry of `ANSWER_KINDS`.
    pub by_kind: [u64; ANSWER_KINDS.len()],
    pub labels_in_sets: u64,
    /// The class index of every label answered (one per text for a classifier, each label of
    /// a multi-label answer).
    pub labels: Vec<u32>,
    pub oov_ratio: Histogram,
    pub length: Histogram,
    pub confidence: Histogram,
}

impl AnswerTally {
    /// Counts one text's answer and its drift signals; `counts` from `Model::predict_counted`.
    pub fn observe(
        &mut self,
        model: &Model,
        text: &str,
        prediction: &Prediction,
        counts: Option<NgramCounts>,
    ) {
        self.count(&model.answer(prediction));
        match model.task() {
            Task::Classification => self.labels.push(prediction.class_index as u32),
            Task::MultiLabel => self.labels.extend(prediction.label_set.iter().map(|&i| i as u32)),
            Task::Regression => {}
        }
        if let Some(ratio) = counts.and_then(|counts| counts.oov_ratio()) {
            self.oov_ratio.observe(&OOV_BOUNDS, ratio);
        }
        self.length.observe(&LENGTH_BOUNDS, text.chars().count() as f64);
        if let Some(confidence) = model.confidence(prediction) {
            self.confidence.observe(&CONFIDENCE_BOUNDS, confidence);
        }
    }

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
    /// Texts classified (a batch counts each text), by kind of answer, with their drift signals.
    pub answers: AnswerTally,
    /// Answers per class index (`AnswerTally::labels` summed); the last entry counts every
    /// index past the ones kept.
    pub label_counts: Vec<u64>,
    /// The served model's class names, by index (set by whoever can see the model).
    pub classes: Vec<String>,
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
    family(
        &mut out,
        "classify_predictions_total",
        "counter",
        "Answers by predicted label (each label of a multi-label answer counts): the predicted \
         class distribution.",
    );
    for counters in models {
        let model = label_value(&counters.model);
        let last = counters.label_counts.len().saturating_sub(1);
        for (index, count) in counters.label_counts.iter().enumerate() {
            let name = match counters.classes.get(index) {
                Some(name) if index < last => name.clone(),
                _ if index == last && counters.classes.len() > last => "(other labels)".to_owned(),
                _ => continue,
            };
            let _ = writeln!(
                out,
                "classify_predictions_total{{model=\"{model}\",label=\"{}\"}} {count}",
                label_value(&name)
            );
        }
    }
    /// One drift histogram's family: name, help, bucket bounds, and where a tally keeps it.
    struct Family {
        name: &'static str,
        help: &'static str,
        bounds: &'static [f64],
        histogram: fn(&AnswerTally) -> &Histogram,
    }
    let histograms = [
        Family {
            name: "classify_oov_ratio",
            help: "Share of a text's n-grams that are not in the model's vocabulary (hashing \
                   vectorizers: not counted).",
            bounds: &OOV_BOUNDS,
            histogram: |a| &a.oov_ratio,
        },
        Family {
            name: "classify_text_length_characters",
            help: "Length of the texts classified, in characters.",
            bounds: &LENGTH_BOUNDS,
            histogram: |a| &a.length,
        },
        Family {
            name: "classify_confidence",
            help: "The predicted class's probability (models with probabilities only).",
            bounds: &CONFIDENCE_BOUNDS,
            histogram: |a| &a.confidence,
        },
    ];
    for Family { name, help, bounds, histogram } in histograms {
        family(&mut out, name, "histogram", help);
        for counters in models {
            let model = label_value(&counters.model);
            let histogram = histogram(&counters.answers);
            let mut cumulative = 0;
            for (index, count) in histogram.buckets[..=bounds.len()].iter().enumerate() {
                cumulative += count;
                let le = bounds.get(index).map_or("+Inf".to_owned(), |le| le.to_string());
                let _ =
                    writeln!(out, "{name}_bucket{{model=\"{model}\",le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{name}_sum{{model=\"{model}\"}} {}", histogram.sum);
            let _ = writeln!(out, "{name}_count{{model=\"{model}\"}} {cumulative}");
        }
    }
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
        let mean = |h: &Histogram| if h.count == 0 { f64::NAN } else { h.sum / h.count as f64 };
        let answers = &counters.answers;
        let (oov, length, confidence) =
            (mean(&answers.oov_ratio), mean(&answers.length), mean(&answers.confidence));
        if short {
            let _ = writeln!(out, "ClassifyRequests[{}]: {total}", counters.model);
            let _ = writeln!(out, "ClassifyErrors[{}]: {errors}", counters.model);
            let _ = writeln!(out, "ClassifyMeanMs[{}]: {mean_ms:.3}", counters.model);
            let _ = writeln!(out, "ClassifyMeanOovRatio[{}]: {oov:.4}", counters.model);
            let _ = writeln!(out, "ClassifyMeanTextLength[{}]: {length:.1}", counters.model);
            let _ = writeln!(out, "ClassifyMeanConfidence[{}]: {confidence:.4}", counters.model);
        } else {
            let shown = |value: f64, digits: usize| {
                if value.is_nan() {
                    "-".to_owned()
                } else {
                    format!("{value:.digits$}")
                }
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{total}</td><td>{errors}</td><td>{}</td><td>{mean_ms:.3}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&counters.model),
                answers.texts(),
                shown(oov, 4),
                shown(length, 1),
                shown(confidence, 4),
                counters.loads
            );
        }
    }
    if short {
        return out;
    }
    format!(
        "<hr><h2>mod_classify</h2>\n<table border=\"1\"><tr><th>model</th><th>requests</th>\
         <th>errors</th><th>texts</th><th>mean ms</th><th>mean OOV share</th>\
         <th>mean length (chars)</th><th>mean confidence</th><th>loads</th></tr>\n{out}</table>\n"
    )
}

/// Escapes a Prometheus label value.
fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
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

    #[test]
    fn drift_signals_are_histograms_and_labels_are_named() {
        let model = crate::fixtures::tiny();
        let mut tally = AnswerTally::default();
        for text in ["good phone zzz", "bad", "", "good"] {
            let (prediction, counts) = model.predict_counted(text);
            tally.observe(&model, text, &prediction, counts);
        }
        // OOV shares 0.4, 0, 0 (the empty text has no n-grams and is not counted).
        assert_eq!(tally.oov_ratio.count, 3);
        assert!((tally.oov_ratio.sum - 0.4).abs() < 1e-12);
        assert_eq!(tally.oov_ratio.buckets[0], 2);
        assert_eq!(tally.oov_ratio.buckets[4], 1);
        assert_eq!((tally.length.count, tally.length.sum), (4, 21.0));
        assert_eq!(tally.confidence.count, 0, "LinearSVC has no probabilities");
        let mut label_counts = vec![0; 4];
        for &label in &tally.labels {
            label_counts[label as usize] += 1;
        }
        let counters = ModelCounters {
            model: "tiny".into(),
            answers: tally,
            label_counts,
            classes: vec!["neg".into(), "pos".into()],
            ..Default::default()
        };
        let text = render_prometheus(&[counters], 1);
        assert!(
            text.contains("classify_predictions_total{model=\"tiny\",label=\"pos\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("classify_predictions_total{model=\"tiny\",label=\"neg\"} 2"),
            "{text}"
        );
        assert!(text.contains("classify_oov_ratio_bucket{model=\"tiny\",le=\"0\"} 2"), "{text}");
        assert!(text.contains("classify_oov_ratio_bucket{model=\"tiny\",le=\"+Inf\"} 3"), "{text}");
        assert!(text.contains("classify_text_length_characters_sum{model=\"tiny\"} 21"), "{text}");
        assert!(text.contains("classify_confidence_count{model=\"tiny\"} 0"), "{text}");
    }

    /// The Grafana dashboard shipped in docs/ plots only series this module exports.
    #[test]
    fn the_dashboard_uses_the_exported_metric_names() {
        let dashboard = include_str!("../../../docs/grafana/mod_classify-drift.json");
        let exported = render_prometheus(&[ModelCounters::default()], 1);
        let families: Vec<&str> = exported
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE ")?.split(' ').next())
            .collect();
        let mut used = 0;
        for (index, _) in dashboard.match_indices("classify_") {
            let name: String = dashboard[index..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).filter(|f| families.contains(f)))
                .unwrap_or(&name);
            assert!(families.contains(&family), "the dashboard uses {name}, which is not exported");
            used += 1;
        }
        assert!(used >= 10, "the dashboard should plot the drift families; found {used} uses");
    }
}
