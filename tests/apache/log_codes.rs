//! docs/log-codes.md lists every `CLS000nn` code the module logs, and only those.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::httpd::repo_root;

/// Every `CLS000nn` in `text`.
fn codes_in(text: &str) -> BTreeSet<String> {
    text.match_indices("CLS000")
        .filter_map(|(at, _)| text.get(at..at + 8))
        .filter(|code| code[6..].bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

fn rust_sources(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.extend(codes_in(&fs::read_to_string(&path).expect("source file")));
        }
    }
}

#[test]
fn every_log_code_is_documented_and_every_documented_code_is_logged() {
    let mut logged = BTreeSet::new();
    rust_sources(&repo_root().join("src"), &mut logged);
    let table = fs::read_to_string(repo_root().join("docs/log-codes.md")).expect("log-codes.md");
    let documented: BTreeSet<String> =
        table.lines().filter(|line| line.starts_with("| `CLS")).flat_map(codes_in).collect();
    assert!(logged.len() >= 10, "found only {logged:?} in src/");
    let undocumented: Vec<_> = logged.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&logged).collect();
    assert!(undocumented.is_empty(), "logged but not in docs/log-codes.md: {undocumented:?}");
    assert!(stale.is_empty(), "in docs/log-codes.md but logged nowhere: {stale:?}");
}
