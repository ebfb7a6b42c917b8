//! `classify train` / `classify eval` end to end through the binary: a model trained and saved
//! predicts after loading exactly what it predicted in training, in both forms; the same seed
//! gives the same bytes; bad data lines and options get messages naming them.

mod common;

use common::{classify, err, ok};
use std::path::{Path, PathBuf};

/// A small three-class corpus with some overlap between classes.
fn corpus(dir: &Path) -> PathBuf {
    let topics = [
        ("games", ["arcade", "shooter", "puzzle", "levels", "player", "score"]),
        ("net", ["http", "server", "proxy", "socket", "network", "client"]),
        ("doc", ["manual", "documentation", "guide", "html", "reference", "pages"]),
    ];
    let mut lines = String::new();
    for i in 0..60 {
        let (label, words) = topics[i % 3];
        let (_, other) = topics[(i + 1) % 3];
        let text = format!(
            "{} {} {} and {} with the {}",
            words[i % 6],
            words[(i / 3) % 6],
            words[(i / 2 + 1) % 6],
            other[i % 6],
            words[(i + 4) % 6]
        );
        lines.push_str(&format!("{label}\t{text}\n"));
    }
    let path = dir.join("data.tsv");
    std::fs::write(&path, lines).expect("corpus written");
    path
}

fn texts(data: &Path) -> String {
    let data = std::fs::read_to_string(data).expect("corpus");
    data.lines().map(|line| line.split_once('\t').expect("tab").1.to_owned() + "\n").collect()
}

#[test]
fn trained_model_predicts_the_same_after_save_and_load_in_both_forms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = corpus(dir.path());
    let data_arg = data.to_str().expect("path");
    let json = dir.path().join("m.model.json");
    let bin = dir.path().join("m.model");
    for output in [&json, &bin] {
        let args = ["train", "--data", data_arg, "--ngram", "1,2", "--tfidf", "-o"];
        let mut args = args.to_vec();
        args.push(output.to_str().expect("path"));
        ok(classify(&args, None));
    }
    let inputs = texts(&data);
    let from_json =
        ok(classify(&["predict", "--model", json.to_str().unwrap()], Some(inputs.as_bytes())));
    let from_bin =
        ok(classify(&["predict", "--model", bin.to_str().unwrap()], Some(inputs.as_bytes())));
    assert_eq!(from_json, from_bin);
    // The training texts are separable: every label comes back.
    let corpus = std::fs::read_to_string(&data).expect("corpus");
    let expected: Vec<&str> = corpus.lines().map(|l| l.split_once('\t').expect("tab").0).collect();
    assert_eq!(from_json.lines().collect::<Vec<_>>(), expected);

    let report = ok(classify(
        &["eval", "--model", bin.to_str().unwrap(), "--data", data_arg, "--json"],
        None,
    ));
    let report: serde_json::Value = serde_json::from_str(&report).expect("JSON report");
    assert_eq!(report["evaluation"]["accuracy"], 1.0);
    assert_eq!(report["evaluation"]["documents"], 60);
    let table = ok(classify(
        &["eval", "--model", bin.to_str().unwrap(), "--data", "-"],
        Some(&std::fs::read(&data).unwrap()),
    ));
    assert!(table.contains("macro-F1   1.0000"), "{table}");
    assert!(table.contains("confusion matrix"), "{table}");
}

#[test]
fn same_seed_same_model_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = corpus(dir.path());
    let mut models = Vec::new();
    for (name, threads) in [("a.json", "1"), ("b.json", "2")] {
        let output = dir.path().join(name);
        let args = [
            "train",
            "--data",
            data.to_str().unwrap(),
            "--seed",
            "5",
            "--threads",
            threads,
            "--algo",
            "logreg",
            "-o",
            output.to_str().unwrap(),
        ];
        ok(classify(&args, None));
        models.push(std::fs::read(output).expect("model"));
    }
    assert!(models[0] == models[1], "the same seed gave different models");
}

#[test]
fn held_out_and_cross_validation_figures_are_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = corpus(dir.path());
    let data = data.to_str().unwrap();
    let out = ok(classify(&["train", "--data", data, "--test-split", "0.25", "--json"], None));
    let figures: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(figures["held-out"]["documents"], 15);
    let out = ok(classify(&["train", "--data", data, "--cv", "3"], None));
    assert!(out.starts_with("3-fold cross-validation\naccuracy"), "{out}");
}

#[test]
fn bad_lines_and_options_are_named() {
    let cases: [(&[u8], &str); 3] = [
        (b"a\tfine\nb\tfine\nno tab\n", "standard input, line 3: no tab"),
        (b"a\tfine\nb\tcaf\xe9\n", "standard input, line 2: not valid UTF-8"),
        (b"a\tfine\n\tno label\n", "standard input, line 2: empty label"),
    ];
    for (input, expected) in cases {
        let message = err(classify(&["train", "--data", "-", "-o", "/nonexistent/m"], Some(input)));
        assert!(message.contains(expected), "{message}");
    }
    let message =
        err(classify(&["train", "--data", "-", "-o", "x", "-C=-1"], Some(b"a\tx\nb\ty\n")));
    assert!(message.contains("-C: -1 must be a positive number"), "{message}");
    let message = err(classify(&["train", "--data", "-", "-o", "x", "--ngram", "3,1"], None));
    assert!(message.contains("expected MIN,MAX"), "{message}");
}

#[test]
fn svc_separates_the_toy_set_and_predicts_the_same_after_load_for_each_kernel() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = corpus(dir.path());
    let data_arg = data.to_str().expect("path");
    let inputs = texts(&data);
    let corpus = std::fs::read_to_string(&data).expect("corpus");
    let expected: Vec<&str> = corpus.lines().map(|l| l.split_once('\t').expect("tab").0).collect();
    for kernel in ["rbf", "linear", "poly"] {
        let json = dir.path().join(format!("{kernel}.json"));
        let bin = dir.path().join(format!("{kernel}.model"));
        for output in [&json, &bin] {
            let args =
                ["train", "--data", data_arg, "--algo", "svc", "--kernel", kernel, "-C", "10"];
            let mut args = args.to_vec();
            args.extend(["--coef0", "1", "-o", output.to_str().expect("path")]);
            ok(classify(&args, None));
        }
        let model: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).expect("model")).expect("JSON model");
        assert_eq!(model["classifier"]["kernel"], kernel);
        assert_eq!(model["classifier"]["dual_coef"].as_array().expect("rows").len(), 2);
        let from_json =
            ok(classify(&["predict", "--model", json.to_str().unwrap()], Some(inputs.as_bytes())));
        let from_bin =
            ok(classify(&["predict", "--model", bin.to_str().unwrap()], Some(inputs.as_bytes())));
        assert_eq!(from_json, from_bin, "{kernel}");
        assert_eq!(from_json.lines().collect::<Vec<_>>(), expected, "{kernel} separates");
    }
}

#[test]
fn svc_with_two_classes_answers_both() {
    let input = b"yes\tgood great fine\nyes\tgreat good\nno\tbad awful poor\nno\tpoor bad\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.model");
    let model = model.to_str().unwrap();
    ok(classify(&["train", "--data", "-", "--algo", "svc", "-C", "10", "-o", model], Some(input)));
    let out = ok(classify(&["predict", "--model", model], Some(b"good great\nbad poor\n")));
    assert_eq!(out, "yes\nno\n");
}

#[test]
fn svc_refuses_options_it_has_not() {
    let message = err(classify(&["train", "--data", "-", "-o", "x", "--kernel", "rbf"], None));
    assert!(message.contains("--kernel applies to --algo svc only"), "{message}");
    let message =
        err(classify(&["train", "--data", "-", "-o", "x", "--algo", "svc", "--gamma=-1"], None));
    assert!(message.contains("expected scale, auto or a positive number"), "{message}");
}

/// `--algo ridge` and `--algo linear-svr` learn numbers from `NUMBER<TAB>text` lines: the model
/// answers numbers, the held-out report is sklearn's regression figures, and a label that is not
/// a number is named.
#[test]
fn regressors_learn_numbers_from_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("rating.model");
    // The number is 1 per "good" minus 1 per "bad": a linear function of the word counts.
    let mut data = String::new();
    for i in 0..60 {
        let (good, bad) = (i % 4, i % 3);
        let text = format!("{}{}phone {i}", "good ".repeat(good), "bad ".repeat(bad));
        data.push_str(&format!("{}\t{text}\n", good as f64 - bad as f64));
    }
    let model_arg = model.to_str().expect("UTF-8 path");
    for solver in
        [&["--algo", "ridge", "--alpha", "0.01"][..], &["--algo", "linear-svr", "-C", "10"]]
    {
        let mut args =
            vec!["train", "--data", "-", "--test-split", "0.25", "--json", "-o", model_arg];
        args.extend_from_slice(solver);
        let report: serde_json::Value =
            serde_json::from_str(&ok(classify(&args, Some(data.as_bytes())))).expect("JSON report");
        let r2 = report["held-out"]["r2"].as_f64().expect("R²");
        assert!(r2 > 0.99, "{solver:?}: {report}");
        let predicted = ok(classify(&["predict", "-m", model_arg], Some(b"good good phone\n")));
        let value: f64 = predicted.trim().parse().expect("a number");
        assert!((value - 2.0).abs() < 0.1, "{solver:?}: {value}");
        let estimator = ok(classify(&["inspect", model_arg], None));
        let expected = if solver[1] == "ridge" { "Ridge" } else { "LinearSVR" };
        assert!(estimator.contains(expected), "{estimator}");
    }
    let cv = ["train", "--algo", "ridge", "--alpha", "0.01", "--data", "-", "--cv", "3", "--json"];
    let cv: serde_json::Value =
        serde_json::from_str(&ok(classify(&cv, Some(data.as_bytes())))).expect("JSON figures");
    assert_eq!(cv["cv"]["r2"].as_array().map(Vec::len), Some(3), "{cv}");
    assert!(cv["cv"]["r2_mean"].as_f64().expect("mean R²") > 0.99, "{cv}");
    for algo in ["ridge", "linear-svr"] {
        let refused = classify(
            &["train", "--algo", algo, "--data", "-", "-o", model_arg],
            Some(b"high\tgood\nlow\tbad\n"),
        );
        let stderr = err(refused);
        assert!(stderr.contains("\"high\" is not a number"), "{stderr}");
        assert!(stderr.contains(&format!("--algo {algo}")), "{stderr}");
    }
}

/// A regressor's answers are numbers: plain, as `--scores` JSON lines, and `eval` reports
/// sklearn's MAE, RMSE and R² (here: |2.25 − 2.25| and |−1.5 − (−1)|).
#[test]
fn a_regressor_predicts_and_evaluates_numbers() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../classify-core/testdata/tiny-regression.model.json");
    let model = model.to_str().expect("UTF-8 path");
    let plain = ok(classify(&["predict", "-m", model], Some(b"good phone\nbad\n")));
    assert_eq!(plain, "2.25\n-1.5\n");
    let scores = ok(classify(&["predict", "--scores", "-m", model], Some(b"good phone\n")));
    assert_eq!(scores, "{\"value\":2.25}\n");
    let eval = ["eval", "--json", "-m", model, "--data", "-"];
    let eval = ok(classify(&eval, Some(b"2.25\tgood phone\n-1.0\tbad\n")));
    let figures: serde_json::Value = serde_json::from_str(&eval).expect("JSON");
    assert_eq!(figures["evaluation"]["mae"], 0.25);
    assert_eq!(figures["evaluation"]["n"], 2);
    let refused = classify(&["eval", "-m", model, "--data", "-"], Some(b"high\tgood phone\n"));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = err(refused);
    assert!(stderr.contains("\"high\" is not a number"), "{stderr}");
}

/// `--multi-label` learns one problem per label from `label1,label2<TAB>text` lines (a text may
/// have none): the model answers every label that applies, tab-separated; `eval` reports the
/// multi-label figures; other algorithms are refused with the ones that work.
#[test]
fn multi_label_learns_every_label_of_a_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("tags.model");
    let model_arg = model.to_str().expect("UTF-8 path");
    // "python" and "web" come from their own words, independently: texts have 0, 1 or 2 tags.
    let mut data = String::new();
    for i in 0..80 {
        let (python, web) = (i % 2 == 0, i % 3 == 0);
        let mut words = vec![format!("filler{}", i % 7)];
        let mut tags = Vec::new();
        if python {
            words.push("django pip".to_owned());
            tags.push("python");
        }
        if web {
            words.push("http browser".to_owned());
            tags.push("web");
        }
        data.push_str(&format!("{}\t{}\n", tags.join(","), words.join(" ")));
    }
    for algo in ["linear-svm", "logreg"] {
        let args = [
            "train",
            "--multi-label",
            "--algo",
            algo,
            "--data",
            "-",
            "--test-split",
            "0.25",
            "--json",
            "-o",
            model_arg,
        ];
        let report: serde_json::Value =
            serde_json::from_str(&ok(classify(&args, Some(data.as_bytes())))).expect("JSON");
        // Every set exact; sample F1 still counts a text with no tags as 0, as sklearn does.
        assert_eq!(report["held-out"]["subset_accuracy"], 1.0, "{algo}: {report}");
        assert_eq!(report["held-out"]["macro_f1"], 1.0, "{algo}: {report}");
        assert_eq!(report["held-out"]["hamming_loss"], 0.0, "{algo}: {report}");
        let texts = b"django pip http browser filler1\nhttp browser\nfiller3\n";
        let predicted = ok(classify(&["predict", "-m", model_arg], Some(texts)));
        assert_eq!(predicted, "python\tweb\nweb\n\n", "{algo}");
    }
    let scores = ok(classify(&["predict", "--scores", "-m", model_arg], Some(b"django\n")));
    let scores: serde_json::Value = serde_json::from_str(&scores).expect("JSON line");
    assert_eq!(scores["labels"], serde_json::json!(["python"]), "{scores}");
    assert_eq!(scores["probabilities"].as_array().map(Vec::len), Some(2), "{scores}");
    let eval = ["eval", "--json", "-m", model_arg, "--data", "-"];
    let eval = ok(classify(&eval, Some(b"python,web\tdjango http\n\tfiller2\n")));
    let figures: serde_json::Value = serde_json::from_str(&eval).expect("JSON");
    assert_eq!(figures["evaluation"]["texts"], 2, "{figures}");
    assert_eq!(figures["evaluation"]["subset_accuracy"], 1.0, "{figures}");
    let cv = ["train", "--multi-label", "--data", "-", "--cv", "2", "--json"];
    let cv: serde_json::Value =
        serde_json::from_str(&ok(classify(&cv, Some(data.as_bytes())))).expect("JSON figures");
    assert_eq!(cv["cv"]["sample_f1"].as_array().map(Vec::len), Some(2), "{cv}");
    let refused = classify(
        &["train", "--multi-label", "--algo", "ridge", "--data", "-", "-o", model_arg],
        Some(data.as_bytes()),
    );
    let stderr = err(refused);
    assert!(stderr.contains("--algo linear-svm or --algo logreg"), "{stderr}");
}

/// `predict --threads N` and `eval --threads N` answer in input order, exactly as one thread.
#[test]
fn threads_change_nothing_but_the_speed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = corpus(dir.path());
    let model = dir.path().join("m.model");
    let model_arg = model.to_str().expect("UTF-8 path");
    let data_arg = data.to_str().expect("UTF-8 path");
    ok(classify(&["train", "--data", data_arg, "-o", model_arg], None));
    let texts = texts(&data).repeat(50);
    let one = ok(classify(
        &["predict", "--threads", "1", "--scores", "-m", model_arg],
        Some(texts.as_bytes()),
    ));
    for threads in ["2", "7"] {
        let many = ok(classify(
            &["predict", "--threads", threads, "--scores", "-m", model_arg],
            Some(texts.as_bytes()),
        ));
        assert_eq!(many, one, "--threads {threads}");
    }
    assert_eq!(one.lines().count(), texts.lines().count());
    let eval = |threads| {
        ok(classify(
            &["eval", "--json", "--threads", threads, "-m", model_arg, "--data", data_arg],
            None,
        ))
    };
    assert_eq!(eval("1"), eval("3"));
}
