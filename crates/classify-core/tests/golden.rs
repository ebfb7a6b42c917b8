//! Golden parity tests: every model in `testdata/golden/` was trained and exported with real
//! scikit-learn by `scripts/make_golden.py`, which also recorded what sklearn computes for each test
//! text at every stage. Here the Rust core must reproduce all of it:
//!
//! - analyzer output (`build_analyzer()(text)`) exactly, where recorded (models with one
//!   top-level vectorizer),
//! - the feature row: indices exactly, values within 1e-12 (relative), where recorded (models whose
//!   rows are the plain vectorizer's output: no union, no steps),
//! - scores (`decision_function`, or the joint log-likelihood for naive Bayes) within 1e-9; for
//!   kernel SVMs (`svc_*`, `nusvc_*`) that is the row in the model's `decision_function_shape`,
//!   one value per class (ovr) or per pair of classes (ovo), one value for two classes; for the
//!   kinds of model format v2 what docs/model-format-v2.md's table says,
//! - probabilities (`predict_proba`) within 1e-9,
//! - the predicted label exactly, as `str(label)`; for a regressor, `predict`'s number
//!   (`"value"` in the case, the model's one score) within 1e-9; for a multi-label model
//!   (`OneVsRestClassifier` or `MultiOutputClassifier` fitted on an indicator matrix), the set of
//!   labels `predict` sets exactly (`"labels"`, as `str`, in the model's classes order), with one
//!   score (the member's decision value or class-1 probability) and one probability per label
//!   checked as above.
//!
//! `unicode.json` holds Python's own character tables (`re`'s `\w`, `str.isspace`, `str.lower`,
//! NFKD, `unicodedata.combining`) for every code point; the core's character classes are checked
//! against them one code point at a time.
//!
//! Regenerate the fixtures with `/usr/bin/python3 scripts/make_golden.py` (needs sklearn).
//!
//! `CLASSIFY_GOLDEN_DIR=DIR` checks the fixture set in DIR instead, e.g. one that
//! `make_golden.py --out DIR` wrote with another sklearn; a directory without models fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use classify_core::featurize::analyzer::{preprocess, StripAccents};
use classify_core::featurize::pychar::{is_space, is_word_char_in, UnicodeVersion};
use classify_core::{Model, Task};
use serde_json::Value;

const FEATURE_TOLERANCE: f64 = 1e-12;
const SCORE_TOLERANCE: f64 = 1e-9;
/// Failures printed per model and check before the rest are only counted.
const SHOWN_PER_KIND: usize = 3;

/// `$CLASSIFY_GOLDEN_DIR` when set (a fixture set `make_golden.py --out DIR` wrote, e.g. with
/// another sklearn), else the checked-in `testdata/golden`.
fn golden_dir() -> PathBuf {
    match std::env::var_os("CLASSIFY_GOLDEN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/golden"),
    }
}

/// The models of the fixture directory, sorted; panics when it cannot be read or holds none.
fn model_names() -> Vec<String> {
    let dir = golden_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!("cannot read the golden fixture directory {}: {e}", dir.display())
    });
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".model.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "no *.model.json in the golden fixture directory {}; write them with scripts/make_golden.py --out DIR",
        dir.display()
    );
    names
}

/// Which fixture set was checked, shown even when the tests pass (written to stderr directly,
/// past the test harness's capture): the directory, and the versions manifest.json names.
fn announce(what: &str, names: &[String], checked: usize) {
    use std::io::Write as _;
    let manifest = read_json(&golden_dir().join("manifest.json"));
    let version = |key: &str| manifest[key].as_str().unwrap_or("?").to_owned();
    let skipped: Vec<String> = manifest["skipped"]
        .as_array()
        .map(|list| list.iter().map(|s| s["name"].as_str().unwrap_or("?").to_owned()).collect())
        .unwrap_or_default();
    let mut line = format!(
        "golden ({what}): {} models, {checked} cases in {} (sklearn {}, numpy {}, Python {})",
        names.len(),
        golden_dir().display(),
        version("sklearn_version"),
        version("numpy_version"),
        version("python_version")
    );
    if !skipped.is_empty() {
        let _ = write!(
            line,
            "; {} skipped by make_golden.py (reasons in manifest.json): {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `|a - b| <= tol * max(1, |a|, |b|)`.
fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * 1f64.max(a.abs()).max(b.abs())
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("array of numbers")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect()
}

fn all_close(expected: &[f64], got: &[f64], tolerance: f64) -> bool {
    expected.len() == got.len() && expected.iter().zip(got).all(|(&e, &g)| close(e, g, tolerance))
}

/// Collects failures per (model, check) so one run shows everything that is wrong.
#[derive(Default)]
struct Report {
    failures: BTreeMap<(String, &'static str), (usize, String)>,
    checked: usize,
    /// Cases of multi-label models, so that a fixture set without any is noticed.
    multi_label: usize,
}

impl Report {
    fn fail(&mut self, model: &str, check: &'static str, text: &str, detail: String) {
        let entry = self.failures.entry((model.to_owned(), check)).or_insert((0, String::new()));
        entry.0 += 1;
        if entry.0 <= SHOWN_PER_KIND {
            let _ = writeln!(entry.1, "    text {:?}\n      {detail}", text);
        }
    }

    fn finish(self) {
        if self.failures.is_empty() {
            return;
        }
        let mut message = format!(
            "{} kinds of golden mismatch in {} checked cases:\n",
            self.failures.len(),
            self.checked
        );
        for ((model, check), (count, shown)) in &self.failures {
            let _ = writeln!(message, "  {model}: {check}: {count} case(s)\n{shown}");
        }
        panic!("{message}");
    }
}

fn check_model(name: &str, report: &mut Report, binary_form: bool) {
    let dir = golden_dir();
    let bytes = std::fs::read(dir.join(format!("{name}.model.json")))
        .unwrap_or_else(|e| panic!("cannot read {}/{name}.model.json: {e}", dir.display()));
    let loaded = Model::from_json(&bytes).and_then(|model| {
        if binary_form {
            Model::from_bytes(&classify_core::model::binary::write(&model))
        } else {
            Ok(model)
        }
    });
    let model = match loaded {
        Ok(model) => model,
        Err(e) => {
            report.fail(name, "load", "", format!("loading (binary form: {binary_form}): {e}"));
            return;
        }
    };
    let cases_path = dir.join(format!("{name}.cases.jsonl"));
    let cases = std::fs::read_to_string(&cases_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", cases_path.display()));
    let mut n_cases = 0;
    for (line_number, line) in cases.lines().enumerate() {
        let case: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", cases_path.display(), line_number + 1));
        n_cases += 1;
        report.checked += 1;
        let text = case["text"].as_str().expect("text");

        // Absent for models without one top-level vectorizer, null past the first texts.
        if let Some(expected) = case.get("analyzed").and_then(Value::as_array) {
            let expected: Vec<&str> = expected.iter().map(|v| v.as_str().unwrap()).collect();
            let mut got: Vec<String> = Vec::new();
            model.featurizer().analyze(text, |gram| got.push(gram.to_owned()));
            if got != expected {
                let first = expected
                    .iter()
                    .zip(&got)
                    .position(|(e, g)| e != g)
                    .unwrap_or(expected.len().min(got.len()));
                report.fail(
                    name,
                    "analyzer output",
                    text,
                    format!(
                        "sklearn {} grams, core {}; first difference at {first}: sklearn {:?} vs core {:?}",
                        expected.len(),
                        got.len(),
                        expected.get(first),
                        got.get(first)
                    ),
                );
            }
        }

        // Absent (or null) for models whose rows are not the plain vectorizer's output.
        if let Some(features) = case.get("features").filter(|f| !f.is_null()) {
            let expected_indices: Vec<u64> = features["indices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let expected_values = floats(&features["values"]);
            let row = model.featurizer().transform(text);
            let got_indices: Vec<u64> = row.entries.iter().map(|&(i, _)| u64::from(i)).collect();
            let got_values: Vec<f64> = row.entries.iter().map(|&(_, v)| v).collect();
            if got_indices != expected_indices {
                report.fail(
                    name,
                    "feature indices",
                    text,
                    format!(
                        "sklearn {expected_indices:?}\n      core    {got_indices:?}\n      (values sklearn {expected_values:?}\n              core    {got_values:?})"
                    ),
                );
            } else if !all_close(&expected_values, &got_values, FEATURE_TOLERANCE) {
                report.fail(
                    name,
                    "feature values",
                    text,
                    format!("sklearn {expected_values:?}\n      core    {got_values:?}"),
                );
            }
        }

        let prediction = model.predict(text);
        let expected_scores = floats(&case["scores"]);
        if !all_close(&expected_scores, &prediction.scores, SCORE_TOLERANCE) {
            report.fail(
                name,
                "scores",
                text,
                format!("sklearn {expected_scores:?}\n      core    {:?}", prediction.scores),
            );
        }
        match (&case["probabilities"], &prediction.probabilities) {
            (Value::Null, None) => {}
            (expected @ Value::Array(_), Some(got)) => {
                let expected = floats(expected);
                if !all_close(&expected, got, SCORE_TOLERANCE) {
                    report.fail(
                        name,
                        "probabilities",
                        text,
                        format!("sklearn {expected:?}\n      core    {got:?}"),
                    );
                }
            }
            (expected, got) => report.fail(
                name,
                "probabilities",
                text,
                format!("sklearn {expected} vs core {got:?}"),
            ),
        }
        // A regressor's answer is its one score, compared above within the tolerance; the
        // fixture records it as `"value"` and no label.
        if model.task() == Task::Regression {
            let expected_value = case["value"].as_f64().unwrap_or(f64::NAN);
            if !all_close(&[expected_value], &prediction.scores, SCORE_TOLERANCE) {
                report.fail(
                    name,
                    "value",
                    text,
                    format!("sklearn {expected_value} vs core {:?}", prediction.scores),
                );
            }
            continue;
        }
        // A multi-label model answers the labels whose members say so, in classes order.
        if model.task() == Task::MultiLabel {
            report.multi_label += 1;
            let expected: Option<Vec<String>> = case["labels"].as_array().map(|labels| {
                labels
                    .iter()
                    .map(|label| label.as_str().expect("labels: strings").to_owned())
                    .collect()
            });
            let got: Vec<String> =
                prediction.label_set.iter().map(|&i| model.classes()[i].to_string()).collect();
            if expected.as_ref() != Some(&got) {
                report.fail(
                    name,
                    "labels",
                    text,
                    format!("sklearn {} vs core {got:?}", case["labels"]),
                );
            }
            continue;
        }
        let expected_label = case["label"].as_str().unwrap();
        let got_label = model.answer(&prediction).to_string();
        if got_label != expected_label {
            report.fail(
                name,
                "label",
                text,
                format!("sklearn {expected_label:?} vs core {got_label:?}"),
            );
        }
    }
    if n_cases == 0 {
        report.fail(name, "cases", "", "the cases file is empty".into());
    }
}

#[test]
fn golden_directory_is_populated_and_matches_the_manifest() {
    let names = model_names();
    assert!(
        names.len() >= 20,
        "only {} golden models in {}; run /usr/bin/python3 scripts/make_golden.py",
        names.len(),
        golden_dir().display()
    );
    let manifest = read_json(&golden_dir().join("manifest.json"));
    let mut listed: Vec<String> = manifest["models"]
        .as_array()
        .expect("manifest.models")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, names, "manifest.json and the *.model.json files disagree");
    for name in &names {
        let cases = golden_dir().join(format!("{name}.cases.jsonl"));
        assert!(cases.is_file(), "{} is missing", cases.display());
    }
    // Models this sklearn could not build or the exporter refused: each named with its reason,
    // and none of them also present as a fixture.
    for skipped in manifest["skipped"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = skipped["name"].as_str().expect("manifest.skipped[].name");
        let reason = skipped["reason"].as_str().expect("manifest.skipped[].reason");
        assert!(!reason.trim().is_empty(), "manifest.json skips {name} without a reason");
        assert!(!names.iter().any(|n| n == name), "manifest.json skips {name}, which has fixtures");
    }
}

#[test]
fn golden_models_match_sklearn() {
    let names = model_names();
    let mut report = Report::default();
    for name in &names {
        check_model(name, &mut report, false);
    }
    announce("JSON form", &names, report.checked);
    assert!(report.checked > 1000, "only {} cases", report.checked);
    assert!(report.multi_label > 0, "no multi-label cases; run scripts/make_golden.py");
    report.finish();
}

/// The same checks after `classify convert`'s JSON → binary conversion.
#[test]
fn golden_models_match_sklearn_in_binary_form() {
    let names = model_names();
    let mut report = Report::default();
    for name in &names {
        check_model(name, &mut report, true);
    }
    announce("binary form", &names, report.checked);
    assert!(report.checked > 1000, "only {} cases", report.checked);
    report.finish();
}

// ---------------------------------------------------------------------------------------------
// Python's character tables, code point by code point.
//
// The fixtures come from Python 3.11, whose Unicode database is 14.0; Rust's standard library and
// the unicode-* crates carry a newer Unicode. Exported models declare their Python's version, and
// the core then treats the code points assigned after it as that Python does (unassigned). Every
// code point must behave identically: those Python knows, and those only the core's tables know.
// testdata/unicode/ holds the same tables from Python 3.9, 3.12 and 3.13 (Unicode 13.0, 15.0,
// 15.1; scripts/python_char_tables.py), checked the same way for their versions.

struct Tables {
    word: Vec<bool>,
    space: Vec<bool>,
    combining: Vec<bool>,
    assigned: Vec<bool>,
    lower: BTreeMap<u32, String>,
    nfkd: BTreeMap<u32, String>,
    version: String,
}

fn load_tables() -> Tables {
    tables_from(&golden_dir().join("unicode.json"))
}

fn tables_from(path: &Path) -> Tables {
    let value = read_json(path);
    let ranges = |key: &str| {
        let mut set = vec![false; 0x11_0000];
        for range in value[key].as_array().unwrap() {
            let (start, end) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
            for cp in start..=end {
                set[cp as usize] = true;
            }
        }
        set
    };
    let map = |key: &str| {
        value[key]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.parse::<u32>().unwrap(), v.as_str().unwrap().to_owned()))
            .collect::<BTreeMap<u32, String>>()
    };
    Tables {
        word: ranges("word"),
        space: ranges("space"),
        combining: ranges("combining"),
        assigned: ranges("assigned"),
        lower: map("lower"),
        nfkd: map("nfkd"),
        version: value["python_unicode_version"].as_str().unwrap_or("?").to_owned(),
    }
}

/// One character property compared over every scalar value, split by whether Python's Unicode
/// database has the code point assigned.
struct CharDiffs {
    what: &'static str,
    assigned: Vec<String>,
    newer: Vec<String>,
}

fn compare_chars(
    tables: &Tables,
    what: &'static str,
    mut differ: impl FnMut(u32, char) -> Option<String>,
) -> CharDiffs {
    let mut diffs = CharDiffs { what, assigned: Vec::new(), newer: Vec::new() };
    for cp in 0u32..0x11_0000 {
        let Some(c) = char::from_u32(cp) else { continue };
        if let Some(detail) = differ(cp, c) {
            let line = format!("U+{cp:04X} {c:?}: {detail}");
            if tables.assigned[cp as usize] {
                diffs.assigned.push(line);
            } else {
                diffs.newer.push(line);
            }
        }
    }
    diffs
}

/// The fixtures' Python as a model it exported declares it.
fn python_unicode(t: &Tables) -> Option<UnicodeVersion> {
    Some(UnicodeVersion::parse(&t.version).expect("the fixtures' Unicode version"))
}

fn word_diffs(t: &Tables) -> CharDiffs {
    compare_chars(t, "re's \\w (pychar::is_word_char_in)", |cp, c| {
        let (python, core) = (t.word[cp as usize], is_word_char_in(c, python_unicode(t)));
        (python != core).then(|| format!("Python {python}, core {core}"))
    })
}

fn space_diffs(t: &Tables) -> CharDiffs {
    compare_chars(t, "str.isspace (pychar::is_space)", |cp, c| {
        let (python, core) = (t.space[cp as usize], is_space(c));
        (python != core).then(|| format!("Python {python}, core {core}"))
    })
}

fn lower_diffs(t: &Tables) -> CharDiffs {
    compare_chars(t, "str.lower (analyzer::preprocess lowercase)", |cp, c| {
        let text = c.to_string();
        let python = t.lower.get(&cp).cloned().unwrap_or_else(|| text.clone());
        let core = preprocess(&text, true, None, python_unicode(t));
        (python != core).then(|| format!("Python {python:?}, core {core:?}"))
    })
}

fn nfkd_of(t: &Tables, cp: u32, c: char) -> String {
    t.nfkd.get(&cp).cloned().unwrap_or_else(|| c.to_string())
}

fn strip_unicode_diffs(t: &Tables) -> CharDiffs {
    compare_chars(t, "strip_accents='unicode' (analyzer::preprocess)", |cp, c| {
        // sklearn: an ASCII string unchanged, else NFKD without combining characters.
        let python: String = if c.is_ascii() {
            c.to_string()
        } else {
            nfkd_of(t, cp, c).chars().filter(|d| !t.combining[*d as usize]).collect()
        };
        let core =
            preprocess(&c.to_string(), false, Some(StripAccents::Unicode), python_unicode(t));
        (python != core).then(|| format!("sklearn {python:?}, core {core:?}"))
    })
}

fn strip_ascii_diffs(t: &Tables) -> CharDiffs {
    compare_chars(t, "strip_accents='ascii' (analyzer::preprocess)", |cp, c| {
        let python: String = nfkd_of(t, cp, c).chars().filter(char::is_ascii).collect();
        let core = preprocess(&c.to_string(), false, Some(StripAccents::Ascii), python_unicode(t));
        (python != core).then(|| format!("sklearn {python:?}, core {core:?}"))
    })
}

fn show(lines: &[String]) -> String {
    let mut shown = lines.iter().take(25).cloned().collect::<Vec<_>>().join("\n  ");
    if lines.len() > 25 {
        let _ = write!(shown, "\n  ... and {} more", lines.len() - 25);
    }
    shown
}

fn assert_assigned_match(diffs: CharDiffs, version: &str) {
    assert!(
        diffs.assigned.is_empty(),
        "{}: {} code points assigned in Python's Unicode {version} differ:\n  {}",
        diffs.what,
        diffs.assigned.len(),
        show(&diffs.assigned)
    );
}

#[test]
fn word_characters_are_pythons() {
    let t = load_tables();
    assert_assigned_match(word_diffs(&t), &t.version);
}

#[test]
fn space_characters_are_pythons() {
    let t = load_tables();
    assert_assigned_match(space_diffs(&t), &t.version);
}

#[test]
fn lowercase_is_pythons_str_lower() {
    let t = load_tables();
    assert_assigned_match(lower_diffs(&t), &t.version);
}

#[test]
fn strip_accents_unicode_is_sklearns_for_every_character() {
    let t = load_tables();
    assert_assigned_match(strip_unicode_diffs(&t), &t.version);
}

#[test]
fn strip_accents_ascii_is_sklearns_for_every_character() {
    let t = load_tables();
    assert_assigned_match(strip_ascii_diffs(&t), &t.version);
}

/// Characters assigned in a newer Unicode than the model's Python (3.11: Unicode 14.0) are word
/// characters, cased or decomposable in the core's own tables but not to that Python: with the
/// model's version they must behave as Python's unassigned code points. Lists every difference.
#[test]
fn characters_newer_than_pythons_unicode_are_unassigned_for_its_models() {
    let message = newer_character_differences(&load_tables());
    assert!(message.is_empty(), "{message}");
}

/// Every property of every code point, for other Pythons' tables with their own versions.
#[test]
fn other_pythons_match_the_core_at_their_unicode_versions() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/unicode");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("testdata/unicode")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "tables of Python 3.9, 3.12 and 3.13 in {directory:?}");
    let mut message = String::new();
    for path in &paths {
        let t = tables_from(path);
        for diffs in [
            word_diffs(&t),
            space_diffs(&t),
            lower_diffs(&t),
            strip_unicode_diffs(&t),
            strip_ascii_diffs(&t),
        ] {
            if !diffs.assigned.is_empty() {
                let _ = writeln!(
                    message,
                    "{}: {}: {} code points assigned in Unicode {} differ:\n  {}",
                    path.display(),
                    diffs.what,
                    diffs.assigned.len(),
                    t.version,
                    show(&diffs.assigned)
                );
            }
        }
        message.push_str(&newer_character_differences(&t));
    }
    assert!(message.is_empty(), "{message}");
}

/// The differences on code points the tables' Python has unassigned, one paragraph per
/// property; empty if there are none.
fn newer_character_differences(t: &Tables) -> String {
    let all = [
        word_diffs(t),
        space_diffs(t),
        lower_diffs(t),
        strip_unicode_diffs(t),
        strip_ascii_diffs(t),
    ];
    let mut message = String::new();
    for diffs in &all {
        if !diffs.newer.is_empty() {
            let _ = writeln!(
                message,
                "{}: {} code points unassigned in Python's Unicode {} differ:\n  {}",
                diffs.what,
                diffs.newer.len(),
                t.version,
                show(&diffs.newer)
            );
        }
    }
    message
}

/// Regenerates the fixtures with sklearn (`make_golden.py --check`, a few seconds) and fails if
/// they differ from the committed ones. Needs /usr/bin/python3 with the same sklearn 1.2.1, so it
/// is opt-in: `cargo test -p classify-core --test golden -- --ignored fixtures_are_fresh`.
#[test]
#[ignore = "needs /usr/bin/python3 with sklearn 1.2.1"]
fn fixtures_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = std::process::Command::new("/usr/bin/python3")
        .arg(root.join("scripts/make_golden.py"))
        .arg("--check")
        .output()
        .expect("cannot run /usr/bin/python3");
    assert!(
        output.status.success(),
        "make_golden.py --check: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
