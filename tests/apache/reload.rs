//! Reloading models while traffic flows (issue 7): graceful restarts under load alternate two
//! models and no request may fail or get an answer neither model gives; `apachectl graceful` to a
//! broken model is refused and the old model keeps serving.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use classify_core::Model;

use crate::httpd::{golden, percent_encode, Apache};

const MODEL_A: &str = "count_word12_linearsvc_multi";
const MODEL_B: &str = "count_word23_nolower_ridge";

fn install(source: &Path, served: &Path) {
    let staged = served.with_extension("staged");
    fs::copy(source, &staged).expect("stage model");
    fs::rename(&staged, served).expect("rename model into place");
}

/// Texts from the golden cases, with the labels each of the two models gives them.
fn texts_with_allowed_labels() -> Vec<(String, [String; 2])> {
    let a = Model::load(&golden(&format!("{MODEL_A}.model.json"))).expect("model A");
    let b = Model::load(&golden(&format!("{MODEL_B}.model.json"))).expect("model B");
    let cases = fs::read_to_string(golden(&format!("{MODEL_A}.cases.jsonl"))).expect("cases");
    cases
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|case| case["text"].as_str().map(str::to_owned))
        .filter(|text| !text.is_empty() && !text.contains('\0'))
        .take(100)
        .map(|text| {
            let labels =
                [a.answer(&a.predict(&text)).to_string(), b.answer(&b.predict(&text)).to_string()];
            (text, labels)
        })
        .collect()
}

#[test]
fn graceful_restarts_under_load_lose_no_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = dir.path().join("served.model");
    let sources =
        [golden(&format!("{MODEL_A}.model.json")), golden(&format!("{MODEL_B}.model.json"))];
    install(&sources[0], &served);
    let body = format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        served.display()
    );
    let apache = Arc::new(Apache::start("event", &body));
    let texts = Arc::new(texts_with_allowed_labels());
    assert!(
        texts.iter().any(|(_, labels)| labels[0] != labels[1]),
        "models must disagree somewhere"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (apache, texts, stop) = (apache.clone(), texts.clone(), stop.clone());
            let (answered, failures) = (answered.clone(), failures.clone());
            thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(120);
                let mut i = client;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let (text, labels) = &texts[i % texts.len()];
                    i += 4;
                    let response = apache.get(&format!("/classify/{}", percent_encode(text)), &[]);
                    let label = response.text().trim_end().to_owned();
                    if response.status != 200 || !labels.contains(&label) {
                        let mut failures = failures.lock().expect("failures");
                        failures.push(format!(
                            "{} {label:?} for {text:?} (allowed {labels:?})",
                            response.status
                        ));
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let checksum = |apache: &Apache| apache.get("/classify", &[]).json()["checksum"].clone();
    for round in 1..=10 {
        let before = checksum(&apache);
        install(&sources[round % 2], &served);
        apache.graceful();
        let deadline = Instant::now() + Duration::from_secs(10);
        while checksum(&apache) == before {
            assert!(Instant::now() < deadline, "round {round}: the new model is not served");
            thread::sleep(Duration::from_millis(20));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client thread");
    }
    let failures = failures.lock().expect("failures");
    let answered = answered.load(Ordering::Relaxed);
    println!("{answered} requests across 10 graceful restarts, {} failed", failures.len());
    assert!(answered > 100, "only {answered} requests were made");
    assert!(
        failures.is_empty(),
        "{} of {answered} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    apache.assert_no_crashed_children();
}

#[test]
fn apachectl_graceful_to_a_broken_model_keeps_the_old_one_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = dir.path().join("served.model");
    install(&golden(&format!("{MODEL_A}.model.json")), &served);
    let body = format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        served.display()
    );
    let apache = Apache::start("event", &body);
    let before = apache.get("/classify", &[]).json()["checksum"].clone();

    fs::write(dir.path().join("broken"), b"{\"format\": \"mod_classify-model\", \"format_ver")
        .expect("write");
    fs::rename(dir.path().join("broken"), &served).expect("rename broken model into place");
    let output = Command::new("apache2ctl")
        .arg("graceful")
        .env("APACHE_ARGUMENTS", format!("-f {}", apache.conf.display()))
        .output()
        .expect("run apache2ctl");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "apache2ctl graceful accepted a broken model: {said}");
    assert!(said.contains("ClassifyModel:") && said.contains("corrupt model"), "{said}");

    thread::sleep(Duration::from_millis(500));
    let after = apache.get("/classify", &[]).json();
    assert_eq!(after["checksum"], before, "the old model must keep serving");
    assert_eq!(apache.get("/classify/arcade%20game", &[]).text(), "games\n");
    apache.assert_no_crashed_children();
}
