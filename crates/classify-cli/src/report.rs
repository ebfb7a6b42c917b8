//! `classify eval --report`: one self-contained HTML file (inline SVG and CSS, no script, nothing
//! fetched) showing a classifier's evaluation: the headline figures, a confusion-matrix heat map
//! with its counts, per-class precision/recall/F1 bars, the most frequent confusions with
//! example texts, and the model's metadata. `--report-svg` writes the heat map alone.
//!
//! Every cell of the heat map carries `data-true`, `data-predicted` and `data-count`, so tests
//! (and anyone scripting around the file) read the counts without parsing the drawing.

use std::fmt::Write;

use classify_core::Model;
use classify_serve::html::escape;
use classify_train::evaluation::Evaluation;

/// A misclassified text: its true and predicted labels.
pub(crate) struct Mistake<'a> {
    pub(crate) truth: &'a str,
    pub(crate) predicted: &'a str,
    pub(crate) text: &'a str,
}

/// Example texts shown per confusion, and confusions listed.
const EXAMPLES_PER_CONFUSION: usize = 3;
const CONFUSIONS_LISTED: usize = 10;
/// Longest example text shown, in characters.
const EXAMPLE_CHARS: usize = 300;

/// The whole report page.
pub(crate) fn html(
    model: &Model,
    model_path: &str,
    data_name: &str,
    evaluation: &Evaluation,
    mistakes: &[Mistake<'_>],
) -> String {
    let mut page = String::new();
    let title = format!("Evaluation of {} on {}", file_name(model_path), file_name(data_name));
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        page,
        "<section class=\"figures\">\
         <div><span class=\"figure\" id=\"documents\">{}</span>texts</div>\
         <div><span class=\"figure\" id=\"accuracy\">{:.4}</span>accuracy</div>\
         <div><span class=\"figure\" id=\"macro-f1\">{:.4}</span>macro F1</div></section>",
        evaluation.total(),
        evaluation.accuracy(),
        evaluation.macro_f1()
    );
    let _ = write!(
        page,
        "<h2>Confusion matrix</h2>\n<p>Rows: the true label; columns: the predicted one. A cell's \
         colour is its share of its row.</p>\n<div class=\"scroll\">{}</div>\n",
        confusion_svg(evaluation)
    );
    let _ = write!(
        page,
        "<h2>Per class</h2>\n<div class=\"scroll\">{}</div>\n{}",
        class_bars_svg(evaluation),
        class_table(evaluation)
    );
    page.push_str(&confusions(evaluation, mistakes));
    page.push_str(&metadata(model, model_path, data_name));
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;\
padding:0 1rem;color:#1b1b1b}h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}\
.figures{display:flex;gap:1rem;flex-wrap:wrap}.figures div{border:1px solid #ccc;\
border-radius:6px;padding:.6rem 1rem;min-width:8rem}.figure{display:block;font-size:1.6rem;\
font-weight:600}.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0}\
td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}q{display:block;color:#444}\
svg text{font-family:system-ui,sans-serif}";

/// The heat map: one cell per (true, predicted) pair, shaded by its share of the row.
pub(crate) fn confusion_svg(evaluation: &Evaluation) -> String {
    let labels = evaluation.labels();
    let confusion = evaluation.confusion();
    let n = labels.len();
    let cell = 34.0;
    let margin =
        12.0 + 7.0 * labels.iter().map(|l| l.chars().count().min(24)).max().unwrap_or(4) as f64;
    let size = margin + cell * n as f64 + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"confusion\" width=\"{size:.0}\" \
         height=\"{size:.0}\" viewBox=\"0 0 {size:.0} {size:.0}\" role=\"img\" \
         aria-label=\"Confusion matrix\"><style>.c{{font-size:11px;text-anchor:middle;\
         dominant-baseline:central}}.l{{font-size:11px}}</style>"
    );
    for (i, label) in labels.iter().enumerate() {
        let middle = margin + cell * (i as f64 + 0.5);
        let shown = escape(&shorten(label, 24));
        let _ = write!(
            svg,
            "<text class=\"l\" x=\"{:.1}\" y=\"{middle:.1}\" text-anchor=\"end\" \
             dominant-baseline=\"central\">{shown}</text>\
             <text class=\"l\" transform=\"translate({middle:.1} {:.1}) rotate(-60)\">{shown}</text>",
            margin - 6.0,
            margin - 6.0
        );
    }
    for (t, row) in confusion.iter().enumerate() {
        let row_total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let share = if row_total == 0 { 0.0 } else { count as f64 / row_total as f64 };
            // Correct answers in blue, confusions in red; white for none.
            let (r, g, b) = if t == p { (33, 102, 172) } else { (178, 24, 43) };
            let mix = |c: u8| (255.0 - (255.0 - c as f64) * share).round() as u8;
            let ink = if share > 0.55 { "#fff" } else { "#1b1b1b" };
            let (x, y) = (margin + cell * p as f64, margin + cell * t as f64);
            let _ = write!(
                svg,
                "<g><title>{} → {}: {count}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" \
                 width=\"{cell}\" height=\"{cell}\" fill=\"rgb({},{},{})\" stroke=\"#eee\" \
                 data-true=\"{}\" data-predicted=\"{}\" data-count=\"{count}\"/>",
                escape(&labels[t]),
                escape(&labels[p]),
                mix(r),
                mix(g),
                mix(b),
                escape(&labels[t]),
                escape(&labels[p]),
            );
            if count > 0 {
                let _ = write!(
                    svg,
                    "<text class=\"c\" x=\"{:.1}\" y=\"{:.1}\" fill=\"{ink}\">{count}</text>",
                    x + cell / 2.0,
                    y + cell / 2.0
                );
            }
            svg.push_str("</g>");
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Three horizontal bars per class: precision, recall, F1.
fn class_bars_svg(evaluation: &Evaluation) -> String {
    let labels = evaluation.labels();
    let label_width =
        12.0 + 7.0 * labels.iter().map(|l| l.chars().count().min(24)).max().unwrap_or(4) as f64;
    let (bar, gap, scale) = (7.0, 8.0, 360.0);
    let group = 3.0 * bar + gap;
    let height = 30.0 + group * labels.len() as f64;
    let width = label_width + scale + 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"per-class\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-label=\"Precision, recall and F1 per class\"><style>text{{font-size:11px}}</style>"
    );
    let series = [("precision", "#4393c3"), ("recall", "#92c5de"), ("F1", "#2166ac")];
    for (k, (name, colour)) in series.iter().enumerate() {
        let x = label_width + 110.0 * k as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"13\">{name}</text>",
            x + 14.0
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let figures = evaluation.class(i);
        let top = 24.0 + group * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" dominant-baseline=\"central\">{}</text>",
            label_width - 6.0,
            top + 1.5 * bar,
            escape(&shorten(label, 24))
        );
        for (k, value) in [figures.precision, figures.recall, figures.f1].iter().enumerate() {
            let y = top + bar * k as f64;
            let _ = write!(
                svg,
                "<rect x=\"{label_width:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar}\" \
                 fill=\"{}\"><title>{} {}: {value:.4}</title></rect>",
                scale * value,
                series[k].1,
                escape(label),
                series[k].0
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" dominant-baseline=\"central\">{:.2}</text>",
            label_width + scale * figures.f1 + 4.0,
            top + 2.5 * bar,
            figures.f1
        );
    }
    svg.push_str("</svg>");
    svg
}

fn class_table(evaluation: &Evaluation) -> String {
    let mut table = String::from(
        "<table id=\"classes\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>\
         <th>support</th></tr>\n",
    );
    for (i, label) in evaluation.labels().iter().enumerate() {
        let c = evaluation.class(i);
        let _ = writeln!(
            table,
            "<tr><td>{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td>\
             <td class=\"n\">{:.4}</td><td class=\"n\">{}</td></tr>",
            escape(label),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    table.push_str("</table>\n");
    table
}

/// The most frequent (true, predicted) confusions, with a few of their texts.
fn confusions(evaluation: &Evaluation, mistakes: &[Mistake<'_>]) -> String {
    let labels = evaluation.labels();
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for (t, row) in evaluation.confusion().iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            if t != p && count > 0 {
                pairs.push((count, t, p));
            }
        }
    }
    // Most frequent first; equal counts in label order.
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut html = String::from("<h2>Most frequent confusions</h2>\n");
    if pairs.is_empty() {
        html.push_str("<p>None: every text got its true label.</p>\n");
        return html;
    }
    html.push_str(
        "<table id=\"confusions\"><tr><th>true</th><th>predicted</th><th>texts</th>\
         <th>examples</th></tr>\n",
    );
    for &(count, t, p) in pairs.iter().take(CONFUSIONS_LISTED) {
        let examples: String = mistakes
            .iter()
            .filter(|m| m.truth == labels[t] && m.predicted == labels[p])
            .take(EXAMPLES_PER_CONFUSION)
            .map(|m| format!("<q>{}</q>", escape(&shorten(m.text, EXAMPLE_CHARS))))
            .collect();
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{count}</td><td>{examples}</td></tr>",
            escape(&labels[t]),
            escape(&labels[p])
        );
    }
    html.push_str("</table>\n");
    html
}

fn metadata(model: &Model, model_path: &str, data_name: &str) -> String {
    let mut rows = vec![
        ("model file", model_path.to_owned()),
        ("estimator", model.estimator().to_owned()),
        ("classes", model.classes().len().to_string()),
        ("features", model.n_features().to_string()),
        ("probabilities", model.has_probabilities().to_string()),
        ("checksum", format!("{:016x}", model.checksum())),
        ("evaluated on", data_name.to_owned()),
    ];
    for (key, value) in &model.settings().metadata {
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        rows.push((key.as_str(), value));
    }
    let mut html = String::from("<h2>Model</h2>\n<table id=\"model\">\n");
    for (key, value) in rows {
        let _ = writeln!(html, "<tr><th>{}</th><td>{}</td></tr>", escape(key), escape(&value));
    }
    html.push_str("</table>\n");
    html
}

/// At most `limit` characters, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_carry_their_counts() {
        let classes = ["a".to_owned(), "<b>".to_owned()];
        let evaluation = Evaluation::new(&classes, [("a", "a"), ("a", "<b>"), ("<b>", "<b>")]);
        let svg = confusion_svg(&evaluation);
        assert!(
            svg.contains("data-true=\"a\" data-predicted=\"&lt;b&gt;\" data-count=\"1\""),
            "{svg}"
        );
        assert!(
            svg.contains("data-true=\"&lt;b&gt;\" data-predicted=\"a\" data-count=\"0\""),
            "{svg}"
        );
        assert!(!svg.contains("<b>"), "{svg}");
    }

    #[test]
    fn long_texts_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("ééé", 2), "éé…");
        assert_eq!(shorten("ab", 2), "ab");
    }
}
