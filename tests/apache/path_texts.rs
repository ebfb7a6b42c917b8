//! The seed's `GET /<text>` answers every text (issue #18): a text with `/`, an encoded slash,
//! NUL, `%`, `+`, `?` or `#` reaches the model as the client wrote it, under httpd's stock
//! configuration (no `AllowEncodedSlashes`), while URLs outside the module's `<Location>` keep
//! httpd's own answers.

use serde_json::Value;

use crate::httpd::{golden, Apache};

/// A character n-gram model: every character of a text changes its scores.
const MODEL: &str = "count_char14_linearsvc";

/// (what the case is, the text, the text as the client writes it in the path)
const TEXTS: [(&str, &str, &str); 9] = [
    ("literal slash", "either/or", "either/or"),
    ("encoded slash", "either/or", "either%2For"),
    ("encoded slash, lower case", "either/or", "either%2for"),
    ("several slashes", "a//b/c", "a%2F%2Fb/c"),
    ("NUL", "a\0b", "a%00b"),
    ("literal percent", "100% sure", "100%25%20sure"),
    ("plus is not a space in a path", "C++ code", "C++%20code"),
    ("question mark", "why? because", "why%3F%20because"),
    ("hash", "tag#release", "tag%23release"),
];

fn configuration() -> String {
    format!(
        "<Location /chars>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        golden(&format!("{MODEL}.model.json")).display()
    )
}

fn scores_by_path(apache: &Apache, encoded: &str) -> (u16, Value) {
    let answer = apache.get(&format!("/chars/{encoded}"), &[("Accept", "application/json")]);
    let json = if answer.status == 200 { answer.json()["scores"].clone() } else { Value::Null };
    (answer.status, json)
}

fn scores_by_json(apache: &Apache, text: &str) -> Value {
    let body = serde_json::json!({ "text": text }).to_string();
    apache.post("/chars", "application/json", body.as_bytes()).json()["scores"].clone()
}

fn texts_round_trip(mpm: &str) {
    let apache = Apache::start(mpm, &configuration());
    let mut failures = Vec::new();
    for (case, text, encoded) in TEXTS {
        let (status, by_path) = scores_by_path(&apache, encoded);
        let by_json = scores_by_json(&apache, text);
        if status != 200 || by_path != by_json {
            failures.push(format!(
                "{case}: GET /chars/{encoded} gave {status} {by_path}, the \
                                   JSON text {text:?} gives {by_json}"
            ));
        }
        // The special character itself was seen: without it the scores differ.
        let without: String = text.chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect();
        if scores_by_json(&apache, &without) == by_path {
            failures.push(format!("{case}: {text:?} scored as {without:?}"));
        }
    }
    assert!(failures.is_empty(), "{mpm}:\n{}", failures.join("\n"));
    apache.assert_no_crashed_children();
}

#[test]
fn texts_with_reserved_characters_round_trip_under_prefork() {
    texts_round_trip("prefork");
}

#[test]
fn texts_with_reserved_characters_round_trip_under_event() {
    texts_round_trip("event");
}

/// Only the module's URLs leave httpd's decoding: elsewhere an encoded slash or NUL is still
/// httpd's 404.
#[test]
fn other_urls_keep_httpds_answers() {
    let apache = Apache::start("event", &configuration());
    assert_eq!(apache.get("/elsewhere/either%2For", &[]).status, 404);
    assert_eq!(apache.get("/elsewhere/a%00b", &[]).status, 404);
    // httpd's own refusal (AH00026, logged at info), not a file that happens to be missing.
    assert!(apache.error_log().contains("AH00026"), "{}", apache.error_log());
}
