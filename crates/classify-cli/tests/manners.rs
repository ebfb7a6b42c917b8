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
