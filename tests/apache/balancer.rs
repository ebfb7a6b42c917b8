//! Scale-out the standard Apache way (issue 8): a front Apache with mod_proxy_balancer over two
//! back-end Apaches running mod_classify, on loopback ports. Traffic is balanced, labels through
//! the front are sklearn's, a back end is taken out and restored, and a new model is rolled out
//! one back end at a time, all while clients keep sending requests and without a single failed
//! request. docs/scale-out.md describes the same setup and procedures.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use classify_core::Model;
use serde_json::Value;

use crate::httpd::{describe, golden, percent_encode, process_exists, Apache, Response};

const MODEL: &str = "count_word12_linearsvc_multi";
/// The model rolled out at the end: it disagrees with MODEL on some texts.
const NEW_MODEL: &str = "count_word23_nolower_ridge";
const MPM: &str = "event";
const MODULES: &str = "/usr/lib/apache2/modules";
/// Seconds a member that refused a connection stays out before the front tries it again.
const RETRY_SECONDS: u64 = 1;

/// Golden texts with what real sklearn answered, without the ones a URL path cannot carry.
fn golden_cases(model: &str) -> Vec<(String, String)> {
    let path = golden(&format!("{model}.cases.jsonl"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<(String, String)> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("golden case JSON"))
        .map(|case| {
            let text = case["text"].as_str().expect("text").to_owned();
            (text, case["label"].as_str().expect("label").to_owned())
        })
        .filter(|(text, _)| !text.is_empty() && !text.contains('\0'))
        .collect();
    assert!(cases.len() >= 100, "only {} usable golden cases", cases.len());
    cases
}

/// MODEL's golden texts with sklearn's label and the label NEW_MODEL gives them.
fn cases_with_new_labels() -> Vec<Case> {
    let new = Model::load(&golden(&format!("{NEW_MODEL}.model.json"))).expect("new model");
    golden_cases(MODEL)
        .into_iter()
        .map(|(text, label)| {
            let new_label = new.answer(&new.predict(&text)).to_string();
            Case { text, label, new_label }
        })
        .collect()
}

struct Case {
    text: String,
    label: String,
    new_label: String,
}

/// Copies a model into place by rename, as docs/scale-out.md says to roll one out.
fn install(model: &str, served: &Path) {
    let staged = served.with_extension("staged");
    fs::copy(golden(&format!("{model}.model.json")), &staged).expect("stage model");
    fs::rename(&staged, served).expect("rename model into place");
}

fn back_end(served: &Path) -> Apache {
    let body = format!(
        "<Location /classify>\n  SetHandler classify\n  ClassifyModel {}\n</Location>\n",
        served.display()
    );
    Apache::start(MPM, &body)
}

fn checksum(apache: &Apache) -> Value {
    apache.get("/classify", &[]).json()["checksum"].clone()
}

/// The front's configuration: the one docs/scale-out.md shows, with loopback ports.
fn front_config(back_ends: &[&Apache]) -> String {
    let modules: String = [
        ("proxy_module", "mod_proxy.so"),
        ("proxy_http_module", "mod_proxy_http.so"),
        ("proxy_balancer_module", "mod_proxy_balancer.so"),
        ("lbmethod_byrequests_module", "mod_lbmethod_byrequests.so"),
        ("slotmem_shm_module", "mod_slotmem_shm.so"),
    ]
    .iter()
    .map(|(name, file)| format!("LoadModule {name} {MODULES}/{file}\n"))
    .collect();
    let options = format!("retry={RETRY_SECONDS} ttl=3 connectiontimeout=1");
    let members: String = back_ends
        .iter()
        .map(|b| format!("  BalancerMember http://127.0.0.1:{} {options}\n", b.port))
        .collect();
    // The front is a plain httpd: it needs encoded slashes allowed to pass texts with "/".
    format!(
        "{modules}\
         AllowEncodedSlashes NoDecode\n\
         <Proxy balancer://classify>\n\
         {members}\
         \x20 ProxySet lbmethod=byrequests\n\
         </Proxy>\n\
         ProxyPass /classify balancer://classify/classify nocanon\n\
         <Location /balancer-manager>\n  SetHandler balancer-manager\n</Location>\n"
    )
}

fn access_log_lines(apache: &Apache) -> usize {
    fs::read_to_string(apache.path("access.log")).unwrap_or_default().lines().count()
}

fn classify(front: &Apache, text: &str) -> Response {
    front.get(&format!("/classify/{}", percent_encode(text)), &[])
}

/// The balancer-manager's XML view (it ignores parameters without a same-host Referer).
fn manager_xml(front: &Apache) -> String {
    let response =
        front.get("/balancer-manager?xml=1", &[("Referer", "http://127.0.0.1/balancer-manager")]);
    assert_eq!(response.status, 200, "balancer-manager: {}", response.text());
    response.text()
}

fn xml_field<'a>(xml: &'a str, field: &str) -> &'a str {
    let open = format!("<httpd:{field}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no {field} in:\n{xml}")) + open.len();
    let end = xml[start..].find("</httpd:").expect("closing tag") + start;
    &xml[start..end]
}

/// The front's status flags for one member, e.g. "Init Ok", "Init Drn Ok", "Init Err".
fn member_status(front: &Apache, member: &Apache) -> String {
    let xml = manager_xml(front);
    let name = format!("<httpd:name>http://127.0.0.1:{}</httpd:name>", member.port);
    let at = xml.find(&name).unwrap_or_else(|| panic!("{name} not in:\n{xml}"));
    xml_field(&xml[at..], "status").trim().to_owned()
}

/// Sets or clears the drain flag ("N") of one member, as the balancer-manager form does.
fn set_draining(front: &Apache, member: &Apache, on: bool) {
    let xml = manager_xml(front);
    let nonce = xml_field(&xml, "nonce");
    let form = format!(
        "b=classify&w={}&nonce={nonce}&w_status_N={}",
        percent_encode(&format!("http://127.0.0.1:{}", member.port)),
        u8::from(on)
    );
    let response = front.send(
        "POST",
        "/balancer-manager",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Referer", "http://127.0.0.1/balancer-manager"),
        ],
        form.as_bytes(),
    );
    assert_eq!(response.status, 200, "balancer-manager update: {}", response.text());
    let status = member_status(front, member);
    assert_eq!(status.contains("Drn"), on, "member {} status {status:?}", member.port);
}

fn pid_of(apache: &Apache) -> Option<i32> {
    fs::read_to_string(apache.path("httpd.pid")).ok()?.trim().parse().ok()
}

/// `apache2 -k graceful-stop`, then waits until the parent process is gone.
fn graceful_stop(apache: &Apache) {
    let pid = pid_of(apache).expect("back end's PID file");
    let output = apache.control(&["-k", "graceful-stop"]);
    assert!(output.status.success(), "graceful-stop failed: {}", describe(&output));
    let deadline = Instant::now() + Duration::from_secs(15);
    while process_exists(pid) {
        assert!(Instant::now() < deadline, "back end never stopped:\n{}", apache.error_log());
        thread::sleep(Duration::from_millis(50));
    }
    assert!(TcpStream::connect(("127.0.0.1", apache.port)).is_err(), "port still open");
}

/// Starts a stopped Apache again with the same configuration, hence on the same port.
fn start_again(apache: &Apache) {
    let output = apache.control(&["-k", "start"]);
    assert!(output.status.success(), "apache2 -k start failed: {}", describe(&output));
    let deadline = Instant::now() + Duration::from_secs(15);
    while pid_of(apache).is_none() || TcpStream::connect(("127.0.0.1", apache.port)).is_err() {
        assert!(Instant::now() < deadline, "back end did not restart:\n{}", apache.error_log());
        thread::sleep(Duration::from_millis(50));
    }
}

/// Clients sending requests through the front until stopped (or a time/count bound is hit),
/// recording every answer that is not 200 with sklearn's label (or, once `rolling_out` is set,
/// the new model's label).
struct Load {
    stop: Arc<AtomicBool>,
    rolling_out: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    fn start(front: &Arc<Apache>, cases: &Arc<Vec<Case>>, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let rolling_out = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let threads = (0..clients)
            .map(|client| {
                let (front, cases, rolling_out) =
                    (front.clone(), cases.clone(), rolling_out.clone());
                let (stop, answered, failures) = (stop.clone(), answered.clone(), failures.clone());
                thread::spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(40);
                    let mut i = client;
                    while !stop.load(Ordering::Relaxed)
                        && Instant::now() < deadline
                        && answered.load(Ordering::Relaxed) < 100_000
                    {
                        let Case { text, label, new_label } = &cases[i % cases.len()];
                        i += clients;
                        let response = classify(&front, text);
                        let answer = response.text();
                        let expected = answer == format!("{label}\n")
                            || (rolling_out.load(Ordering::Relaxed)
                                && answer == format!("{new_label}\n"));
                        if response.status != 200 || !expected {
                            failures.lock().expect("failures").push(format!(
                                "{} {:?} for {text:?} (sklearn: {label}, new model: {new_label})",
                                response.status,
                                response.text()
                            ));
                        }
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Load { stop, rolling_out, answered, failures, threads }
    }

    fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// Waits until the clients have had `n` more answers.
    fn wait_for(&self, n: usize) {
        let target = self.answered() + n;
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.answered() < target {
            assert!(Instant::now() < deadline, "clients stalled at {} answers", self.answered());
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("client thread");
        }
        let failures = self.failures.lock().expect("failures").clone();
        (self.answered.load(Ordering::Relaxed), failures)
    }
}

/// One cluster at a time: each test puts two clients' load through three Apaches, and timings
/// (retry windows, drains) are only meaningful when the tests do not compete for the CPUs.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A front over two back ends serving MODEL from files that can be replaced by rename.
struct Cluster {
    _models: tempfile::TempDir,
    served: [PathBuf; 2],
    back: [Apache; 2],
    front: Arc<Apache>,
    cases: Arc<Vec<Case>>,
    /// Last, so that it is released after the servers above have stopped (fields drop in order).
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Cluster {
    fn start() -> Cluster {
        // A test that failed while holding the lock poisoned it; the next one may still run.
        let turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let models = tempfile::tempdir().expect("temp dir");
        let served: [PathBuf; 2] = [0, 1].map(|i| models.path().join(format!("backend{i}.model")));
        for path in &served {
            install(MODEL, path);
        }
        let back = [back_end(&served[0]), back_end(&served[1])];
        let front = Arc::new(Apache::start(MPM, &front_config(&[&back[0], &back[1]])));
        let cases = Arc::new(cases_with_new_labels());
        Cluster { _models: models, served, back, front, cases, _turn: turn }
    }

    /// Requests each back end has logged so far.
    fn served_counts(&self) -> [usize; 2] {
        [access_log_lines(&self.back[0]), access_log_lines(&self.back[1])]
    }

    fn assert_no_crashed_children(&self) {
        for apache in [&self.back[0], &self.back[1], &*self.front] {
            apache.assert_no_crashed_children();
        }
    }
}

/// Stops the clients; every request they sent must have had the expected answer.
fn assert_no_failed_request(load: Load) {
    let (answered, failures) = load.finish();
    println!("{answered} requests under load, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {answered} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every golden text as a URL path and as a text/plain body gets sklearn's label through the
/// front, and each back end answers a fair share.
#[test]
fn balancer_spreads_traffic_and_keeps_sklearns_labels() {
    let cluster = Cluster::start();
    let (front, back) = (&cluster.front, &cluster.back);
    let before = cluster.served_counts();
    let mut sent = 0;
    for Case { text, label, .. } in cluster.cases.iter() {
        let response = classify(front, text);
        assert_eq!(response.status, 200, "GET {text:?}: {}", response.text());
        assert_eq!(response.text(), format!("{label}\n"), "GET {text:?}");
        let response = front.post("/classify", "text/plain", text.as_bytes());
        assert_eq!(response.status, 200, "POST {text:?}: {}", response.text());
        assert_eq!(response.text(), format!("{label}\n"), "POST {text:?}");
        sent += 2;
    }
    // A back end logs a request just after answering it: wait for the last line.
    let share = || [access_log_lines(&back[0]) - before[0], access_log_lines(&back[1]) - before[1]];
    let deadline = Instant::now() + Duration::from_secs(5);
    while share()[0] + share()[1] < sent && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let share = share();
    println!("balanced: {sent} requests through the front, back ends served {share:?}");
    assert_eq!(share[0] + share[1], sent, "every request reaches exactly one back end");
    for (i, n) in share.iter().enumerate() {
        assert!(*n * 10 >= sent * 4, "back end {i} served only {n} of {sent}: {share:?}");
    }
    cluster.assert_no_crashed_children();
}

/// Back end 1 is drained, stopped, put back in rotation while down, and restarted, while two
/// clients keep sending requests: none fails, and the restarted back end gets traffic again by
/// itself.
#[test]
fn balancer_loses_no_request_while_a_back_end_is_drained_stopped_and_restored() {
    let cluster = Cluster::start();
    let (front, back) = (&cluster.front, &cluster.back);
    let load = Load::start(front, &cluster.cases, 2);
    load.wait_for(100);

    // Drain it at the front, as an operator would before maintenance: no new requests go there.
    set_draining(front, &back[1], true);
    thread::sleep(Duration::from_millis(200)); // requests already on their way finish
    let drained_at = cluster.served_counts();
    load.wait_for(100);
    assert_eq!(access_log_lines(&back[1]), drained_at[1], "a drained member got requests");
    let while_drained = access_log_lines(&back[0]) - drained_at[0];

    // Stop it, then put it back in rotation while it is still down, as after a crash or a
    // forgotten drain: the front's connect is refused, it fails the request over to back end 0
    // (maxattempts defaults to members - 1) and keeps member 1 out for `retry` seconds at a time.
    graceful_stop(&back[1]);
    let refused_before = front.error_log().matches("AH00957").count();
    let down_at = cluster.served_counts();
    let down_since = Instant::now();
    set_draining(front, &back[1], false);
    load.wait_for(200);
    // Long enough for the front to retry the member at least once after `retry` seconds.
    while down_since.elapsed() < Duration::from_millis(RETRY_SECONDS * 1000 * 5 / 2) {
        thread::sleep(Duration::from_millis(50));
    }
    let refused = front.error_log().matches("AH00957").count() - refused_before;
    assert!(refused > 0, "the front never tried the stopped member:\n{}", front.error_log());
    // "Err" except for the instant between a retry and its refused connect.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !member_status(front, &back[1]).contains("Err") {
        assert!(Instant::now() < deadline, "{:?}", member_status(front, &back[1]));
        thread::sleep(Duration::from_millis(10));
    }
    let while_down = access_log_lines(&back[0]) - down_at[0];

    // Restore it on the same port: after `retry` seconds the front tries it again by itself.
    start_again(&back[1]);
    let restarted = Instant::now();
    let restored_at = cluster.served_counts();
    let deadline = restarted + Duration::from_secs(RETRY_SECONDS + 10);
    while access_log_lines(&back[1]) == restored_at[1] {
        assert!(Instant::now() < deadline, "the restarted back end never got traffic back");
        thread::sleep(Duration::from_millis(20));
    }
    let back_after = restarted.elapsed();
    let back_at = cluster.served_counts();
    load.wait_for(500);
    let after = [access_log_lines(&back[0]) - back_at[0], access_log_lines(&back[1]) - back_at[1]];
    println!(
        "out and back: drained: back end 0 served {while_drained}, back end 1 none; stopped: \
         {refused} refused connects failed over, back end 0 served {while_down}; restarted: back \
         end 1 had traffic again after {:.2} s, then served {after:?} (back end 0, back end 1)",
        back_after.as_secs_f64(),
    );
    assert_no_failed_request(load);
    assert!(back_after <= Duration::from_secs(RETRY_SECONDS + 5), "took {back_after:?}");
    assert!(after[1] * 10 >= (after[0] + after[1]) * 2, "restored back end: {after:?}");
    cluster.assert_no_crashed_children();
}

/// A new model is rolled out one back end at a time (drain, install by rename, graceful, check,
/// undrain) under load: no request fails (clients accept either model's label meanwhile), and
/// afterwards every answer is sklearn's for the new model.
#[test]
fn balancer_rolls_out_a_new_model_one_back_end_at_a_time() {
    let cluster = Cluster::start();
    let (front, back) = (&cluster.front, &cluster.back);
    assert!(
        cluster.cases.iter().any(|c| c.label != c.new_label),
        "the models must disagree somewhere"
    );
    let load = Load::start(front, &cluster.cases, 2);
    load.wait_for(100);
    let old_checksum = checksum(&back[0]);
    load.rolling_out.store(true, Ordering::Relaxed);
    let rollout_started = Instant::now();
    for (i, apache) in back.iter().enumerate() {
        set_draining(front, apache, true);
        thread::sleep(Duration::from_millis(200));
        install(NEW_MODEL, &cluster.served[i]);
        apache.graceful();
        let deadline = Instant::now() + Duration::from_secs(10);
        while checksum(apache) == old_checksum {
            assert!(Instant::now() < deadline, "back end {i} does not serve the new model");
            thread::sleep(Duration::from_millis(20));
        }
        set_draining(front, apache, false);
        load.wait_for(200);
    }
    let rollout = rollout_started.elapsed();
    assert_no_failed_request(load);
    let new_cases = golden_cases(NEW_MODEL);
    for (text, label) in &new_cases {
        assert_eq!(classify(front, text).text(), format!("{label}\n"), "new model, {text:?}");
    }
    println!(
        "new model on both back ends in {:.1} s, then sklearn's labels for all {} of its golden \
         texts",
        rollout.as_secs_f64(),
        new_cases.len()
    );
    cluster.assert_no_crashed_children();
}
