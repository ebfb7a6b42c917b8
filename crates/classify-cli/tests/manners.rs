//! The command behaves as a Unix tool: a reader that goes away (`| head`) ends it quietly, and a
//! file that is not a model export is named for what it is, with the way to export it.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../classify-core/testdata/golden")
        .join(format!("{name}.model.json"))
}

/// `classify inspect M --top 100000 | head -c 100`: about 230 kB of output, far more than a
/// pipe buffers, so the writes after the reader closes fail with EPIPE.
#[test]
fn a_closed_pipe_ends_inspect_quietly() {
    let model = golden("count_word12_linearsvc_multi");
    let mut child = Command::new(env!("CARGO_BIN_EXE_classify"))
        .args(["inspect", "--top", "100000"])
        .arg(&model)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("classify runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).expect("the first 100 bytes");
    drop(stdout);
    let output = child.wait_with_output().expect("classify finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "status {:?}: {stderr}", output.status);
    assert_eq!(stderr, "", "nothing on stderr");
}

#[test]
fn a_pickle_given_as_a_model_is_named_with_the_way_to_export_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pickle = dir.path().join("model.pickle");
    // The start of what pickle.dump(protocol=4) writes for an sklearn estimator.
    std::fs::write(
        &pickle,
        b"\x80\x04\x95\x2a\x01\x00\x00\x00\x00\x00\x00\x8c\x1bsklearn.pipeline",
    )
    .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("inspect")
        .arg(&pickle)
        .output()
        .expect("classify runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("this is a Python pickle"), "{stderr}");
    assert!(stderr.contains("classify-export"), "{stderr}");
    assert!(!stderr.contains("JSON"), "{stderr}");
}

fn tiny_regression() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../classify-core/testdata/tiny-regression.model.json")
}

fn run_with_input(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_classify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("classify runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("input written");
    child.wait_with_output().expect("classify finishes")
}

/// A regressor's answers are numbers: plain, as `--scores` JSON lines, and `eval` reports
/// sklearn's MAE, RMSE and R² (here: |2.25 − 2.25| and |−1.5 − (−1)|).
#[test]
fn a_regressor_predicts_and_evaluates_numbers() {
    let model = tiny_regression();
    let model = model.to_str().expect("UTF-8 path");
    let plain = run_with_input(&["predict", "-m", model], "good phone\nbad\n");
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "2.25\n-1.5\n");
    let scores = run_with_input(&["predict", "--scores", "-m", model], "good phone\n");
    assert_eq!(String::from_utf8_lossy(&scores.stdout), "{\"value\":2.25}\n");
    let eval = run_with_input(
        &["eval", "--json", "-m", model, "--data", "-"],
        "2.25\tgood phone\n-1.0\tbad\n",
    );
    let figures: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("JSON");
    assert_eq!(figures["evaluation"]["mae"], 0.25);
    assert_eq!(figures["evaluation"]["n"], 2);
    let refused = run_with_input(&["eval", "-m", model, "--data", "-"], "high\tgood phone\n");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr.contains("\"high\" is not a number"), "{stderr}");
}
