//! Running the `classify` binary from the CLI's integration tests.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `classify ARGS`, feeding `stdin` (nothing when `None`) while it runs.
pub fn classify(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_classify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("classify runs");
    let input = stdin.unwrap_or_default().to_vec();
    let mut pipe = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let output = child.wait_with_output().expect("classify finishes");
    // A command refused before it reads its input closes the pipe: that is not a failure.
    match writer.join().expect("writer") {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {error}"),
        _ => {}
    }
    output
}

/// Its standard output, after checking it succeeded.
pub fn ok(output: Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "classify failed: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Its standard error, after checking it failed.
pub fn err(output: Output) -> String {
    assert!(!output.status.success(), "classify unexpectedly succeeded");
    String::from_utf8(output.stderr).expect("UTF-8 errors")
}
