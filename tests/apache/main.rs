//! Integration tests against a real Debian `apache2` running mod_classify: sklearn parity over HTTP
//! under every MPM, every request form and error status, configtest, and graceful restarts.

mod balancer;
mod hostile;
mod httpd;
mod log_codes;
mod metrics;
mod multi_label;
mod neighbors;
mod oip;
mod path_texts;
mod regression;
mod reload;

use std::fs;

use httpd::{golden, percent_encode, Apache, MPMS};
use serde_json::Value;

/// One golden case: a text and what real sklearn answered.
struct Case {
    text: String,
    label: String,
    scores: Vec<f64>,
}

fn cases(model: &str) -> Vec<Case> {
    let path = golden(&format!("{model}.cases.jsonl"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Case> = text
        .lines()
        .map(|line| {
            let case: Value = serde_json::from_str(line).expect("golden case JSON");
            Case {
                text: case["text"].as_str().expect("text").to_owned(),
                label: case["label"].as_str().expect("label").to_owned(),
                scores: case["scores"]
                    .as_array()
                    .expect("scores")
                    .iter()
                    .map(|v| v.as_f64().expect("score"))
                    .collect(),
            }
        })
        .collect();
    assert!(cases.len() >= 50, "{model}: only {} golden cases", cases.len());
    cases
}

fn location(path: &str, model: &str) -> String {
    format!(
        "<Location {path}>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        golden(&format!("{model}.model.json")).display()
    )
}

/// Plain models, format 2's steps, wrappers and projections (issue #17), and trees.
const PARITY_MODELS: [&str; 9] = [
    "count_word12_linearsvc_multi",
    "featureunion_word_char_weights_linearsvc",
    // Trees (issue #19).
    "randomforest_tfidf_multi",
    "decisiontree_count_bigrams",
    "tfidf_logreg_ovr_explicit",
    "torture_word_default",
    "selectkbest_chi2_linearsvc",
    "calibrated_linearsvc_sigmoid_ensemble_multi",
    "truncatedsvd_standardscaler_logreg",
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * 1f64.max(a.abs()).max(b.abs())
}

/// Every golden text, sent as a URL path (the seed's request) and as a text/plain body, gets
/// sklearn's label; JSON scores equal sklearn's decision values.
fn assert_labels_match_sklearn(mpm: &str) {
    let config: String =
        PARITY_MODELS.iter().enumerate().map(|(i, m)| location(&format!("/m{i}"), m)).collect();
    let apache = Apache::start(mpm, &config);
    let mut checked = 0;
    for (i, model) in PARITY_MODELS.iter().enumerate() {
        for case in cases(model) {
            // httpd itself refuses NUL bytes and (without a body) an empty path means metadata.
            if !case.text.is_empty() && !case.text.contains('\0') {
                let response = apache.get(&format!("/m{i}/{}", percent_encode(&case.text)), &[]);
                assert_eq!(response.status, 200, "{model} {:?}: {}", case.text, response.text());
                assert_eq!(response.text(), format!("{}\n", case.label), "{model} {:?}", case.text);
            }
            let response = apache.post(&format!("/m{i}"), "text/plain", case.text.as_bytes());
            assert_eq!(response.text(), format!("{}\n", case.label), "{model} {:?}", case.text);
            let request = serde_json::json!({ "text": case.text }).to_string();
            let answer =
                apache.post(&format!("/m{i}"), "application/json", request.as_bytes()).json();
            assert_eq!(answer["label"], case.label.as_str());
            if case.scores.len() > 1 {
                let scores = answer["scores"].as_object().expect("scores object");
                for (got, want) in scores.values().zip(&case.scores) {
                    let got = got.as_f64().expect("score");
                    assert!(close(got, *want), "{model} {:?}: {got} vs {want}", case.text);
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 600, "only {checked} texts checked");
    apache.assert_no_crashed_children();
}

#[test]
fn labels_match_sklearn_under_prefork() {
    assert_labels_match_sklearn("prefork");
}

#[test]
fn labels_match_sklearn_under_worker() {
    assert_labels_match_sklearn("worker");
}

#[test]
fn labels_match_sklearn_under_event() {
    assert_labels_match_sklearn("event");
}

fn limits_location() -> String {
    format!(
        "{}<Location /small>\n  SetHandler classify\n  ClassifyModel {}\n  ClassifyMaxBodySize 64\n  \
         ClassifyMaxBatch 2\n</Location>\n<Location /nomodel>\n  SetHandler classify\n</Location>\n\
         <Location /classify/json>\n  ClassifyDefaultFormat json\n</Location>\n",
        location("/classify", "count_word12_linearsvc_multi"),
        golden("count_word12_linearsvc_multi.model.json").display()
    )
}

/// Every request form of the handler answers as documented, under each MPM.
#[test]
fn request_forms() {
    for mpm in MPMS {
        let apache = Apache::start(mpm, &limits_location());
        let text = "arcade game with levels and high scores";
        let label = apache.get(&format!("/classify/{}", percent_encode(text)), &[]);
        assert_eq!((label.status, label.text().as_str()), (200, "games\n"), "{mpm}");
        assert!(label.header("Content-Type").unwrap_or("").starts_with("text/plain"));

        // A literal `%` in a text must survive: the path is decoded exactly once.
        let percent =
            apache.get("/classify/100%25%20free%2Bgames", &[("Accept", "application/json")]);
        let posted =
            apache.post("/classify", "application/json", br#"{"text": "100% free+games"}"#);
        assert_eq!(percent.status, 200, "{}", percent.text());
        assert_eq!(percent.json(), posted.json());

        // A nested <Location> with ClassifyDefaultFormat json inherits the model of its parent,
        // and its texts are read below it.
        let preferred = apache.get("/classify/json/arcade%20game", &[]);
        assert_eq!(preferred.status, 200, "{}", preferred.text());
        let asked = apache.get("/classify?text=arcade+game", &[("Accept", "application/json")]);
        assert_eq!(preferred.json(), asked.json());

        let query = apache.get("/classify?text=arcade+game+with+levels", &[]);
        assert_eq!(query.text(), "games\n");

        let json =
            apache.get("/classify?text=arcade+game&top=2", &[("Accept", "application/json")]);
        let answer = json.json();
        assert_eq!(answer["label"], "games");
        assert_eq!(answer["scores"].as_object().map(|s| s.len()), Some(6));
        assert_eq!(answer["top"].as_array().map(|t| t.len()), Some(2));
        assert_eq!(answer["top"][0]["label"], "games");

        let form =
            apache.post("/classify", "application/x-www-form-urlencoded", b"text=arcade+game");
        assert_eq!(form.text(), "games\n");
        let plain = apache.post("/classify", "text/plain; charset=utf-8", text.as_bytes());
        assert_eq!(plain.text(), "games\n");
        let single = apache.post("/classify", "application/json", br#"{"text": "arcade game"}"#);
        assert_eq!(single.json()["label"], "games");

        let batch = apache.post(
            "/classify",
            "application/json",
            br#"{"texts": ["arcade game", "network daemon for routing packets"]}"#,
        );
        let results = batch.json()["results"].clone();
        assert_eq!(results[0]["label"], "games");
        assert_eq!(results[1]["label"], "net");

        let metadata = apache.get("/classify", &[]).json();
        assert_eq!(metadata["classes"].as_array().map(|c| c.len()), Some(6));
        assert_eq!(metadata["estimator"], "LinearSVC");
        assert!(metadata["n_features"].as_u64().unwrap_or(0) > 0);
        assert!(metadata["checksum"].as_str().is_some());

        let head = apache.send("HEAD", &format!("/classify/{}", percent_encode(text)), &[], b"");
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());

        // Other URLs of the server are untouched: httpd still serves its files.
        fs::write(apache.path("hello.txt"), "static\n").expect("write static file");
        let file = apache.get("/hello.txt", &[]);
        assert_eq!((file.status, file.text().as_str()), (200, "static\n"));

        let access_log = fs::read_to_string(apache.path("access.log")).unwrap_or_default();
        assert!(access_log.contains(" 200 games"), "label note not logged:\n{access_log}");
        apache.assert_no_crashed_children();
    }
}

/// Each client error gets its status and a JSON error body, and the children survive.
#[test]
fn error_statuses_leave_children_alive() {
    for mpm in ["prefork", "event"] {
        let apache = Apache::start(mpm, &limits_location());
        let put = apache.send("PUT", "/classify/x", &[], b"x");
        assert_eq!(put.status, 405, "{mpm}");
        assert_eq!(put.header("Allow"), Some("GET, HEAD, POST"));
        assert!(put.json()["error"].is_string());

        let cases: Vec<(u16, httpd::Response)> = vec![
            (400, apache.get("/classify/%C3%28", &[])),
            (400, apache.get("/classify?text=%zz", &[])),
            (400, apache.get("/classify?text=%ff", &[])),
            (400, apache.post("/classify", "application/json", b"{\"text\": ")),
            (400, apache.post("/classify", "application/json", b"{\"text\": 42}")),
            (400, apache.post("/classify", "application/json", b"{\"other\": 1}")),
            (400, apache.post("/classify", "text/plain", b"\xff\xfe\xfd")),
            (400, apache.post("/classify", "application/x-www-form-urlencoded", b"nottext=1")),
            (413, apache.post("/small", "text/plain", &[b'a'; 65])),
            (413, apache.post("/small", "application/json", br#"{"texts": ["a", "b", "c"]}"#)),
            (415, apache.post("/classify", "image/png", b"\x89PNG")),
            (500, apache.get("/nomodel/x", &[])),
        ];
        for (i, (status, response)) in cases.iter().enumerate() {
            assert_eq!(response.status, *status, "{mpm} case {i}: {}", response.text());
            assert!(response.json()["error"].is_string(), "{mpm} case {i}");
        }
        let at_limit = apache.post("/small", "text/plain", &[b'a'; 64]);
        assert_eq!(at_limit.status, 200);
        let after = apache.get("/classify/arcade%20game", &[]);
        assert_eq!(after.text(), "games\n");
        apache.assert_no_crashed_children();
        assert!(apache.error_log().contains("CLS00012"), "missing-model error not logged");
    }
}

/// A copy of a binary model with `value` written at `at` bytes into section `tag`, and the
/// checksum recomputed: corrupt content that only validation can catch.
fn patch_section<const N: usize>(
    model: &[u8],
    tag: &[u8; 4],
    at: usize,
    value: [u8; N],
) -> Vec<u8> {
    let mut bytes = model.to_vec();
    let count = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let entry =
        (0..count).map(|i| 32 + i * 24).find(|&e| &bytes[e..e + 4] == tag).expect("section");
    let offset =
        u64::from_le_bytes(bytes[entry + 8..entry + 16].try_into().expect("8 bytes")) as usize;
    bytes[offset + at..offset + at + N].copy_from_slice(&value);
    let checksum = xxhash_rust::xxh3::xxh3_64(&bytes[32..]);
    bytes[16..24].copy_from_slice(&checksum.to_le_bytes());
    bytes
}

/// A JSON model text with one edit applied.
fn edited(model: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_str(model).expect("model JSON");
    edit(&mut value);
    value.to_string().into_bytes()
}

/// The binary form of a JSON model, as `classify convert` writes it.
fn binary_form(json_model: &std::path::Path) -> Vec<u8> {
    let model = classify_core::Model::load(json_model).expect("golden model loads");
    classify_core::model::binary::write(&model)
}

fn configtest(model_path: &str) -> (bool, String) {
    let body = format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModel {model_path}\n</Location>\n"
    );
    let apache = Apache::configure("event", &body);
    let output = apache.control(&["-t"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), format!("{stderr}|{}", apache.conf.display()))
}

/// Model files written into a temporary directory for the configtest cases.
struct BadModels {
    dir: tempfile::TempDir,
    good: std::path::PathBuf,
    good_text: String,
    good_binary: Vec<u8>,
}

impl BadModels {
    fn new() -> BadModels {
        let good = golden("count_word12_linearsvc_multi.model.json");
        let good_text = fs::read_to_string(&good).expect("golden model");
        let good_binary = binary_form(&good);
        BadModels { dir: tempfile::tempdir().expect("temp dir"), good, good_text, good_binary }
    }

    fn write(&self, name: &str, content: &[u8]) -> String {
        let path = self.dir.path().join(name);
        fs::write(&path, content).expect("write model");
        path.display().to_string()
    }

    /// A golden model's JSON with `edit` applied, written as `name`.
    fn edited(&self, name: &str, model: &str, edit: impl FnOnce(&mut Value)) -> String {
        let text = fs::read_to_string(golden(&format!("{model}.model.json"))).expect("model");
        self.write(name, &edited(&text, edit))
    }
}

/// Each model must fail `apache2 -t` with httpd's "Syntax error on line N of httpd.conf", the
/// directive's name and the expected reason.
fn assert_configtest_refuses(cases: &[(String, &str)]) {
    for (path, reason) in cases {
        let (ok, output) = configtest(path);
        println!(
            "{:<16} {}",
            path.rsplit('/').next().unwrap_or(""),
            output.lines().nth(1).unwrap_or("")
        );
        assert!(!ok, "configtest accepted {path}");
        assert!(output.contains("Syntax error on line"), "{output}");
        assert!(output.contains("httpd.conf"), "{output}");
        assert!(output.contains("ClassifyModel:"), "{output}");
        assert!(output.contains(reason), "expected {reason:?} in {output}");
    }
}

const GOOD: &str = "count_word12_linearsvc_multi";

#[test]
fn configtest_names_unreadable_and_corrupt_files() {
    let models = BadModels::new();
    let mut future: Value = serde_json::from_str(&models.good_text).expect("golden model JSON");
    future["format_version"] = serde_json::json!(9);
    let half = &models.good_text.as_bytes()[..models.good_text.len() / 2];
    assert_configtest_refuses(&[
        (models.dir.path().join("missing.json").display().to_string(), "No such file"),
        (models.write("empty.json", b""), "corrupt model"),
        (models.write("random.json", b"\x00\x9f\x13garbage"), "corrupt model"),
        (models.write("truncated.json", half), "corrupt model"),
        (models.write("version.json", future.to_string().as_bytes()), "version 9"),
        (models.dir.path().display().to_string(), "cannot read"),
        (models.write("model.pickle", b"\x80\x04\x95\x2a\x01\x00"), "this is a Python pickle"),
    ]);
}

#[test]
fn configtest_names_what_is_wrong_in_a_binary_model() {
    let models = BadModels::new();
    let binary = &models.good_binary;
    let mut flipped = binary.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let nan = patch_section(binary, b"COEF", 8, f64::NAN.to_le_bytes());
    let inf = patch_section(binary, b"COEF", 0, f64::INFINITY.to_le_bytes());
    let vend = patch_section(binary, b"VEND", 4, u32::MAX.to_le_bytes());
    assert_configtest_refuses(&[
        (models.write("flipped.model", &flipped), "checksum mismatch"),
        (models.write("short.model", &binary[..binary.len() - 100]), "header says"),
        (models.write("nan.model", &nan), "NaN is not a finite number"),
        (models.write("inf.model", &inf), "inf is not a finite number"),
        (models.write("vend.model", &vend), "outside the term text"),
    ]);
}

#[test]
fn configtest_names_the_field_of_an_invalid_json_model() {
    let models = BadModels::new();
    let pop = |value: &mut Value| {
        value.as_array_mut().map(|row| row.pop());
    };
    assert_configtest_refuses(&[
        (
            models.edited("narrow.json", GOOD, |m| pop(&mut m["classifier"]["coef"][0])),
            "classifier.coef[0]",
        ),
        (
            models.edited("rows.json", GOOD, |m| pop(&mut m["classifier"]["intercept"])),
            "classifier.intercept",
        ),
        (
            models.edited("twice.json", GOOD, |m| {
                m["vectorizer"]["vocabulary"][1] = m["vectorizer"]["vocabulary"][0].clone()
            }),
            "appears twice",
        ),
        (
            models.edited("typo.json", GOOD, |m| m["vectorizer"]["lowercse"] = Value::Bool(true)),
            "unknown field `lowercse`",
        ),
        (
            models.edited("idf.json", "tfidf_logreg_ovr_explicit", |m| pop(&mut m["tfidf"]["idf"])),
            "tfidf.idf",
        ),
        (
            models.edited("pattern.json", GOOD, |m| {
                m["vectorizer"]["token_pattern"] = Value::from("[a-z]+")
            }),
            "token_pattern",
        ),
    ]);
}

/// Format 2's sections (issue #17): a selection step and a calibrated wrapper.
#[test]
fn configtest_names_the_field_of_an_invalid_format_2_section() {
    let models = BadModels::new();
    assert_configtest_refuses(&[
        (
            models.edited("support.json", "selectkbest_chi2_linearsvc", |m| {
                m["steps"][0]["support"][0] = Value::from(u32::MAX)
            }),
            "steps[0].support[0]",
        ),
        (
            models.edited("calibrator.json", "calibrated_linearsvc_sigmoid_ensemble_multi", |m| {
                m["classifier"]["members"][1]["class_indices"][0] = Value::from(99)
            }),
            "classifier.members[1].class_indices[0]",
        ),
        (
            // A tree whose node points back at its parent: the walk would never end.
            models.edited("tree.json", "decisiontree_count_bigrams", |m| {
                m["classifier"]["trees"][0]["children_right"][1] = Value::from(0)
            }),
            "classifier.trees[0].children_right[1]",
        ),
        (
            models.edited("forest.json", "randomforest_tfidf_multi", |m| {
                m["classifier"]["trees"][2]["feature"][0] = Value::from(u32::MAX)
            }),
            "classifier.trees[2].feature[0]",
        ),
        (
            // A nearest-neighbour row pointing past the vectorizer's columns, and a regressor with
            // a target per row missing.
            models.edited("knn.json", "knn_tfidf_euclidean_uniform", |m| {
                m["classifier"]["fit_rows"]["indices"][3] = Value::from(u32::MAX)
            }),
            "classifier.fit_rows.indices[3]",
        ),
        (
            models.edited("knn_regressor.json", "knn_regressor_uniform", |m| {
                m["classifier"]["fit_targets"].as_array_mut().map(|targets| targets.pop());
            }),
            "classifier.fit_targets",
        ),
        (
            // A regressor (issue #19) whose weights do not match the vectorizer.
            models.write(
                "regressor.json",
                fs::read_to_string(
                    httpd::repo_root()
                        .join("crates/classify-core/testdata/tiny-regression.model.json"),
                )
                .expect("tiny regression model")
                .replace("[1.0, 0.5, -2.0, 0.25]", "[1.0, 0.5]")
                .as_bytes(),
            ),
            "classifier.coef",
        ),
        (
            // A kernel regressor (issue #19) with one dual coefficient fewer than its support
            // vectors.
            models.edited("svr.json", "svr_rbf_tfidf", |m| {
                m["classifier"]["dual_coef"].as_array_mut().expect("dual_coef").pop();
            }),
            "classifier.dual_coef",
        ),
        (
            // A multi-label model (issue #19) whose member answers three classes, not two.
            models.write(
                "multi-label.json",
                fs::read_to_string(
                    httpd::repo_root()
                        .join("crates/classify-core/testdata/tiny-multilabel.model.json"),
                )
                .expect("tiny multi-label model")
                .replacen(
                    r#""classes": [0, 1],
   "coef": [[-0.5"#,
                    r#""classes": [0, 1, 2],
   "coef": [[-0.5"#,
                    1,
                )
                .as_bytes(),
            ),
            "classifier.estimators[1]",
        ),
    ]);
}

#[test]
fn configtest_accepts_good_models_in_both_forms() {
    let models = BadModels::new();
    let (ok, output) = configtest(&models.good.display().to_string());
    assert!(ok, "configtest refused a good model: {output}");
    let (ok, output) = configtest(&models.write("good.model", &models.good_binary));
    assert!(ok, "configtest refused a good binary model: {output}");
}

/// The parent reads models as root, but a configtest run as the Apache user must say why it
/// cannot read one.
#[test]
#[ignore = "needs root to run apache2 -t as www-data; scripts/test runs it as root"]
fn configtest_as_the_apache_user_names_an_unreadable_model() {
    assert!(httpd::is_root(), "run as root: it runs apache2 -t as www-data");
    let model = golden("count_word12_linearsvc_multi.model.json");
    let body = "<Location /classify>\n  SetHandler classify\n  ClassifyModel MODEL\n</Location>\n";
    let apache = Apache::configure("event", body);
    let unreadable = apache.path("unreadable.json");
    fs::copy(&model, &unreadable).expect("copy model");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o000)).expect("chmod 000");
    fs::set_permissions(apache.dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let conf = fs::read_to_string(&apache.conf)
        .expect("conf")
        .replace("MODEL", &unreadable.display().to_string());
    fs::write(&apache.conf, conf).expect("conf");
    let output = std::process::Command::new("runuser")
        .args(["-u", "www-data", "--", "apache2", "-t", "-f"])
        .arg(&apache.conf)
        .output()
        .expect("runuser");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "configtest accepted an unreadable model");
    assert!(
        stderr.contains("Syntax error on line") && stderr.contains("Permission denied"),
        "{stderr}"
    );
}

/// Replacing the model file and asking for a graceful restart serves the new model; a broken
/// replacement is refused and the old model keeps serving.
#[test]
fn graceful_restart_serves_the_replaced_model() {
    let models = tempfile::tempdir().expect("temp dir");
    let served = models.path().join("served.json");
    // Alternates the JSON and the binary form: the server tells them apart by content.
    let install = |name: &str, binary: bool| {
        let staged = models.path().join("staged");
        let source = golden(&format!("{name}.model.json"));
        let content = if binary { binary_form(&source) } else { fs::read(&source).expect("read") };
        fs::write(&staged, content).expect("stage model");
        fs::rename(&staged, &served).expect("rename model into place");
    };
    install("count_word_linearsvc_binary", false);
    let body = format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        served.display()
    );
    let apache = Apache::start("event", &body);
    let classes = |apache: &Apache| apache.get("/classify", &[]).json()["classes"].clone();
    assert_eq!(classes(&apache), serde_json::json!(["games", "science"]));

    for round in 0..4 {
        let (name, expected_classes) = if round % 2 == 0 {
            ("count_word12_linearsvc_multi", 6)
        } else {
            ("count_word_linearsvc_binary", 2)
        };
        install(name, round % 3 != 0);
        apache.graceful();
        // Old children may still answer briefly; the new generation must take over.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let count = classes(&apache).as_array().map(|c| c.len()).unwrap_or(0);
            if count == expected_classes {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "round {round}: still {count} classes");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    apache.assert_no_crashed_children();
}

/// Two locations naming the same file share one load per configuration pass; a graceful restart
/// keeps a file that did not change and loads one that was replaced.
#[test]
fn one_load_per_distinct_file_and_unchanged_files_are_kept() {
    let models = tempfile::tempdir().expect("temp dir");
    let model = models.path().join("shared.model.json");
    fs::copy(golden("count_word12_linearsvc_multi.model.json"), &model).expect("copy model");
    let section = |path: &str, file: &std::path::Path| {
        format!(
            "<Location {path}>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
            file.display()
        )
    };
    let body = format!(
        "{}{}{}",
        section("/a", &model),
        section("/b", &model),
        location("/c", "count_word_linearsvc_binary"),
    );
    let apache = Apache::start("event", &body);
    let count = |apache: &Apache, tag: &str| {
        let needle = format!(
            "{tag}: {} model {}",
            if tag == "CLS00003" { "loaded" } else { "kept" },
            model.display()
        );
        apache.error_log().matches(&needle).count()
    };
    assert_eq!(count(&apache, "CLS00003"), 1, "{}", apache.error_log());
    let a = apache.get("/a", &[]).json();
    let b = apache.get("/b", &[]).json();
    assert_eq!(
        (a["loaded_at"].clone(), a["load_ms"].clone()),
        (b["loaded_at"].clone(), b["load_ms"].clone())
    );
    apache.graceful();
    assert_eq!(count(&apache, "CLS00003"), 1, "unchanged file reloaded:\n{}", apache.error_log());
    assert_eq!(count(&apache, "CLS00006"), 1, "{}", apache.error_log());
    assert_eq!(apache.get("/a/arcade%20game", &[]).text(), "games\n");

    // Replaced (same content, new file): loaded again.
    let staged = models.path().join("staged");
    fs::copy(&model, &staged).expect("stage");
    fs::rename(&staged, &model).expect("replace");
    apache.graceful();
    assert_eq!(count(&apache, "CLS00003"), 2, "{}", apache.error_log());
    apache.assert_no_crashed_children();
}

/// A panic inside the handler becomes a 500 with a logged reason, and the child keeps serving.
#[cfg(feature = "fault-injection")]
#[test]
fn a_panicking_request_gets_500_and_the_child_survives() {
    for mpm in ["prefork", "event"] {
        let apache = Apache::start(mpm, &location("/classify", "count_word12_linearsvc_multi"));
        for _ in 0..20 {
            let response = apache.get("/classify?classify-test-panic", &[]);
            assert_eq!(response.status, 500, "{mpm}: {}", response.text());
            assert_eq!(response.json()["error"], "internal error");
        }
        let after = apache.get("/classify/arcade%20game", &[]);
        assert_eq!((after.status, after.text().as_str()), (200, "games\n"));
        let log = apache.error_log();
        assert!(
            log.contains(
                "CLS00010: internal error in content_handler: fault injected by the test suite"
            ),
            "{log}"
        );
        // The guard reports the panic; no child died of it.
        for marker in ["exit signal", "Segmentation fault", "AH00052"] {
            assert!(!log.contains(marker), "{mpm}: {log}");
        }
    }
}

/// `explain=k` over HTTP equals numpy's product of sklearn's feature rows and coefficients.
#[test]
fn explanations_match_numpy() {
    let python = std::path::Path::new("/usr/bin/python3");
    let has_numpy = std::process::Command::new(python)
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|status| status.success());
    assert!(has_numpy, "this test compares with numpy: install Debian's python3-numpy");
    let mut config = String::new();
    for (i, model) in
        ["count_word12_linearsvc_multi", "count_word_linearsvc_binary"].iter().enumerate()
    {
        config.push_str(&location(&format!("/m{i}"), model));
    }
    let apache = Apache::start("event", &config);
    let mut compared = 0;
    for (i, model) in
        ["count_word12_linearsvc_multi", "count_word_linearsvc_binary"].iter().enumerate()
    {
        let output = std::process::Command::new(python)
            .arg(httpd::repo_root().join("tests/apache/explain_numpy.py"))
            .arg(golden(&format!("{model}.model.json")))
            .arg(golden(&format!("{model}.cases.jsonl")))
            .arg("5")
            .output()
            .expect("run explain_numpy.py");
        assert!(output.status.success(), "{}", httpd::describe(&output));
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let expected: Value = serde_json::from_str(line).expect("numpy line");
            let text = expected["text"].as_str().expect("text");
            let request = serde_json::json!({"text": text, "explain": 5}).to_string();
            let answer =
                apache.post(&format!("/m{i}"), "application/json", request.as_bytes()).json();
            let got = answer["explanation"].as_array().expect("explanation");
            let want = expected["explanation"].as_array().expect("expected");
            assert_eq!(got.len(), want.len(), "{model} {text:?}");
            for (g, w) in got.iter().zip(want) {
                assert_eq!(g["feature"], w[0], "{model} {text:?}: {answer}");
                let (g, w) =
                    (g["contribution"].as_f64().unwrap_or(f64::NAN), w[1].as_f64().unwrap_or(0.0));
                assert!(close(g, w), "{model} {text:?}: {g} vs numpy {w}");
            }
            compared += 1;
        }
    }
    assert!(compared > 200, "only {compared} explanations compared");
    apache.assert_no_crashed_children();
}

/// A FeatureUnion model (word and character branches, weighted) over HTTP: `explain=k` gives the
/// core's explanation, branch-named, and the inference protocol answers sklearn's labels.
#[test]
fn union_models_explain_and_answer_the_inference_protocol() {
    let name = "featureunion_word_char_weights_linearsvc";
    let body = format!(
        "{}<Location /v2>\n  SetHandler classify-v2\n</Location>\n",
        location("/union", name)
    );
    let apache = Apache::start("event", &body);
    let model = classify_core::Model::load(&golden(&format!("{name}.model.json"))).expect("model");
    let cases: Vec<Case> =
        cases(name).into_iter().filter(|c| !c.text.is_empty()).take(60).collect();
    let mut branches = std::collections::BTreeSet::new();
    for case in &cases {
        let request = serde_json::json!({"text": case.text, "explain": 5}).to_string();
        let answer = apache.post("/union", "application/json", request.as_bytes()).json();
        let prediction = model.predict(&case.text);
        let want = model.explain(&case.text, &prediction, 5);
        let got = answer["explanation"].as_array().expect("explanation");
        assert_eq!(got.len(), want.len(), "{:?}: {answer}", case.text);
        for (g, (feature, contribution)) in got.iter().zip(&want) {
            assert_eq!(g["feature"], feature.as_str(), "{:?}", case.text);
            assert_eq!(g["contribution"].as_f64(), Some(*contribution), "{:?}", case.text);
            branches.extend(feature.split_once(':').map(|(branch, _)| branch.to_owned()));
        }
    }
    assert!(branches.len() >= 2, "explanations name the union's branches: {branches:?}");

    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let request = serde_json::json!({
        "inputs": [{"name": "text", "shape": [texts.len()], "datatype": "BYTES", "data": texts}],
    });
    let answer = apache.post(
        &format!("/v2/models/{}/infer", "featureunion_word_char_weights_linearsvc"),
        "application/json",
        request.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    let labels = answer["outputs"]
        .as_array()
        .and_then(|outputs| outputs.iter().find(|o| o["name"] == "label"))
        .expect("label output");
    let got: Vec<&str> =
        labels["data"].as_array().expect("data").iter().map(|v| v.as_str().unwrap_or("")).collect();
    let want: Vec<&str> = cases.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(got, want);
    apache.assert_no_crashed_children();
}

/// A ClassifyModelName names its own section's model: one in a section without a model is a
/// warning at start-up, and the nested section still answers with the enclosing model.
#[test]
fn a_model_name_without_a_model_is_a_warning() {
    let body = format!(
        "{}<Location /classify/sub>\n  ClassifyModelName orphan\n</Location>\n",
        location("/classify", "count_word12_linearsvc_multi")
    );
    let apache = Apache::start("event", &body);
    let log = apache.error_log();
    assert!(log.contains("CLS00007: ClassifyModelName \"orphan\""), "{log}");
    // The nested section still inherits the model of /classify.
    assert_eq!(apache.get("/classify/sub/arcade%20game", &[]).text(), "games\n");
    apache.assert_no_crashed_children();
}

/// The URLs below a model's `<Location>` are not files: httpd's directory walk is skipped for
/// them, as for mod_proxy's, so `<Directory>` sections (Debian's `<Directory />` deny included)
/// do not apply, while `<Location>` access control does.
#[test]
fn location_access_control_applies_and_directory_sections_do_not() {
    let body = format!(
        "<Directory />\n  Require all denied\n</Directory>\n{}{}\
         <Location /closed>\n  Require all denied\n</Location>\n",
        location("/open", "count_word12_linearsvc_multi"),
        location("/closed", "count_word12_linearsvc_multi"),
    );
    for mpm in ["prefork", "event"] {
        let apache = Apache::start(mpm, &body);
        let open = apache.get("/open/arcade%20game", &[]);
        assert_eq!((open.status, open.text().as_str()), (200, "games\n"), "{mpm}");
        let closed = apache.get("/closed/arcade%20game", &[]);
        assert_eq!(closed.status, 403, "{mpm}: {}", closed.text());
        apache.assert_no_crashed_children();
    }
}

/// Resident KiB and size KiB of the executable mappings of `module` in process `pid`.
fn module_code_kib(pid: i32, module: &std::path::Path) -> (u64, u64) {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).expect("parent's smaps");
    let module = module.display().to_string();
    let (mut resident, mut size, mut in_module_code) = (0, 0, false);
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|range| range.contains('-')) && fields.len() >= 5 {
            in_module_code = fields.get(5) == Some(&module.as_str()) && fields[1].contains('x');
        } else if in_module_code {
            let kib = || fields.get(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            match fields.first() {
                Some(&"Size:") => size += kib(),
                Some(&"Rss:") => resident += kib(),
                _ => {}
            }
        }
    }
    (resident, size)
}

/// The parent ran the configuration and model-loading code, which its children never run; it
/// drops its pages of the module after loading (src/code_pages.rs), or every one of them would
/// count in Apache's memory. Before that change the parent kept ~97% of the code mapped.
#[test]
fn the_parent_drops_its_module_code_pages_after_loading() {
    let apache = Apache::start("prefork", &location("/classify", "count_word12_linearsvc_multi"));
    let pid = apache.pid().expect("parent pid");
    let module = fs::canonicalize(httpd::module_path()).expect("module path");
    let (resident, size) = module_code_kib(pid, &module);
    assert!(size > 0, "no executable mapping of {} in the parent", module.display());
    eprintln!("parent: {resident} of {size} KiB of the module's code resident");
    assert!(
        resident * 2 < size,
        "the parent keeps {resident} of {size} KiB of the module's code mapped"
    );
}
