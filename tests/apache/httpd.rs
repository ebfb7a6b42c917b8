//! A real Debian `apache2` for tests: a generated config in a temp dir, a free loopback port, the
//! module under test, stopped by its PID on drop, and an error log that is checked for crashed
//! children.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const MPMS: [&str; 3] = ["prefork", "worker", "event"];

/// The module built by this `cargo test` run. Cargo builds the package's library (cdylib + rlib)
/// for its integration tests into target/<profile>/deps/, but copies it up to target/<profile>/
/// only on `cargo build`, so the copy next to this test executable is the fresh one.
pub fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps_dir = exe.parent().expect("target/<profile>/deps");
    let module = deps_dir.join("libmod_classify.so");
    assert!(module.exists(), "{} missing: build the workspace first", module.display());
    module
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A golden model exported from real sklearn by scripts/make_golden.py.
pub fn golden(name: &str) -> PathBuf {
    repo_root().join("crates/classify-core/testdata/golden").join(name)
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

pub struct Apache {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub conf: PathBuf,
}

impl Apache {
    /// Writes a config for `mpm` with `body` (sections and directives) appended.
    pub fn configure(mpm: &str, body: &str) -> Apache {
        let dir =
            tempfile::Builder::new().prefix("mod_classify-test-").tempdir().expect("temp dir");
        let port = free_port();
        let conf = dir.path().join("httpd.conf");
        let root = dir.path().display();
        let user = if is_root() { "User www-data\nGroup www-data\n" } else { "" };
        let mpm_tuning = match mpm {
            "prefork" => "StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\n",
            _ => "StartServers 2\nThreadsPerChild 8\nMinSpareThreads 8\nMaxSpareThreads 16\n",
        };
        let text = format!(
            "ServerRoot {root}\n\
             PidFile {root}/httpd.pid\n\
             ErrorLog {root}/error.log\n\
             LogLevel info\n\
             Listen 127.0.0.1:{port}\n\
             ServerName 127.0.0.1\n\
             {user}\
             LoadModule mpm_{mpm}_module /usr/lib/apache2/modules/mod_mpm_{mpm}.so\n\
             LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n\
             {mpm_tuning}\
             LoadModule classify_module {module}\n\
             LogFormat \"%h \\\"%r\\\" %>s %{{classify-label}}n\" classify\n\
             CustomLog {root}/access.log classify\n\
             DocumentRoot {root}\n\
             {body}\n",
            module = module_path().display(),
        );
        fs::write(&conf, text).expect("write httpd.conf");
        Apache { dir, port, conf }
    }

    /// Configures and starts; panics with the error log if the server does not answer.
    pub fn start(mpm: &str, body: &str) -> Apache {
        let apache = Apache::configure(mpm, body);
        let output = apache.control(&["-k", "start"]);
        assert!(output.status.success(), "apache2 -k start failed: {}", describe(&output));
        apache.wait_until_answering();
        apache
    }

    /// Runs `apache2 -f <conf> <args>`.
    pub fn control(&self, args: &[&str]) -> Output {
        Command::new("apache2")
            .arg("-f")
            .arg(&self.conf)
            .args(args)
            .output()
            .expect("run apache2 (Debian package apache2)")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn error_log(&self) -> String {
        fs::read_to_string(self.path("error.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<i32> {
        fs::read_to_string(self.path("httpd.pid")).ok()?.trim().parse().ok()
    }

    fn wait_until_answering(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.pid().is_some() && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("apache2 did not start; error log:\n{}", self.error_log());
    }

    /// Asks for a graceful restart and waits until the parent has re-read its configuration.
    pub fn graceful(&self) {
        let generations_before = self.error_log().matches("resuming normal operations").count();
        let output = self.control(&["-k", "graceful"]);
        assert!(output.status.success(), "apache2 -k graceful failed: {}", describe(&output));
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.error_log().matches("resuming normal operations").count() <= generations_before {
            assert!(
                Instant::now() < deadline,
                "graceful restart never completed:\n{}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The crash markers httpd writes when a child dies of a signal.
    pub fn assert_no_crashed_children(&self) {
        let log = self.error_log();
        for marker in ["exit signal", "Segmentation fault", "AH00052", "panicked"] {
            assert!(!log.contains(marker), "error log shows a crashed child ({marker}):\n{log}");
        }
    }

    pub fn request(&self, raw: &[u8]) -> Response {
        http(self.port, raw)
    }

    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", target, headers, b"")
    }

    pub fn post(&self, target: &str, content_type: &str, body: &[u8]) -> Response {
        self.send("POST", target, &[("Content-Type", content_type)], body)
    }

    pub fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut raw =
            format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" || !body.is_empty() {
            raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(body);
        self.request(&bytes)
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else { return };
        // The server's parent stops its children itself.
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while process_exists(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Whether the tests run as root: /proc/self belongs to the process's effective user.
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

/// Whether process `pid` still exists (the Apache parents are not our children, so a stopped
/// one leaves no zombie behind).
pub fn process_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("not JSON ({e}): status {} body {:?}", self.status, self.text())
        })
    }
}

/// One HTTP/1.1 exchange on a fresh connection (the request should say `Connection: close`).
pub fn http(port: u16, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to apache2");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    stream.write_all(raw).expect("send request");
    // Half-close: a request that promised more body than it sent ends here instead of waiting
    // for httpd's Timeout.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Response {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("end of response headers");
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else { return out };
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
