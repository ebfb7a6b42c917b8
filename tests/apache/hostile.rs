//! The hostile request battery (issue 7): malformed, oversized, lying and slow requests against a
//! real httpd under prefork and event. Every case must get its expected status (a JSON error when
//! the module answers; httpd's own answer where httpd refuses the request before any handler
//! runs), no child may crash, and correct labels must still be served afterwards.
//! `cargo test --test apache hostile -- --nocapture` prints the table of cases and outcomes.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::httpd::{golden, Apache, Response};

/// Who is expected to answer a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Answerer {
    /// mod_classify: the body must be JSON (an `{"error"}` object for 4xx/5xx).
    Module,
    /// httpd refuses the request before any handler runs (its own HTML error page).
    Httpd,
}

struct Case {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    answerer: Answerer,
}

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        && (method == "POST" || !body.is_empty())
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn post(target: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    request("POST", target, &[("Content-Type", content_type)], body)
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const LIMIT: usize = 4096;

fn cases() -> Vec<Case> {
    use Answerer::{Httpd, Module};
    let json = "application/json";
    let nested = format!("{{\"text\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let one_token = vec![b'a'; 1_000_000];
    let long_path = format!("/classify/{}", "word%20".repeat(1_000));
    let case = |name, request, status, answerer| Case { name, request, status, answerer };
    vec![
        case("invalid UTF-8 in path", request("GET", "/classify/%C3%28", &[], b""), 400, Module),
        case(
            "invalid UTF-8 in query",
            request("GET", "/classify?text=%ff%fe", &[], b""),
            400,
            Module,
        ),
        case("invalid UTF-8 in body", post("/classify", "text/plain", b"caf\xe9"), 400, Module),
        case(
            "invalid UTF-8 in JSON",
            post("/classify", json, b"{\"text\": \"\xff\"}"),
            400,
            Module,
        ),
        case("%00 in query text", request("GET", "/classify?text=a%00b", &[], b""), 200, Module),
        case("%00 in path", request("GET", "/classify/a%00b", &[], b""), 200, Module),
        case("%2F in path", request("GET", "/classify/a%2Fb", &[], b""), 200, Module),
        case("raw control byte in path", request("GET", "/classify/a\x01b", &[], b""), 400, Httpd),
        case("bad escape in path", request("GET", "/classify/%zz", &[], b""), 400, Httpd),
        case("bad escape in query", request("GET", "/classify?text=%zz", &[], b""), 400, Module),
        case(
            "truncated escape in query",
            request("GET", "/classify?text=%4", &[], b""),
            400,
            Module,
        ),
        case("1 MB single token", post("/big", "text/plain", &one_token), 200, Module),
        case("body at the limit", post("/classify", "text/plain", &[b'x'; LIMIT]), 200, Module),
        case(
            "body one over the limit",
            post("/classify", "text/plain", &[b'x'; LIMIT + 1]),
            413,
            Module,
        ),
        case(
            "chunked body",
            request(
                "POST",
                "/classify",
                &[("Transfer-Encoding", "chunked")],
                &chunked(b"arcade game", 3),
            ),
            200,
            Module,
        ),
        case(
            "chunked body over the limit",
            request(
                "POST",
                "/classify",
                &[("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")],
                &chunked(&[b'x'; LIMIT * 2], 1000),
            ),
            413,
            Module,
        ),
        case(
            "Content-Length longer than the body",
            {
                let mut r = request("POST", "/classify", &[("Content-Length", "100")], b"");
                r.extend_from_slice(b"only ten b");
                r
            },
            400,
            Httpd,
        ),
        case("malformed JSON", post("/classify", json, b"{text: 'x'}"), 400, Module),
        case("truncated JSON", post("/classify", json, b"{\"texts\": [\"a\", \"b"), 400, Module),
        case("JSON nested 10,000 deep", post("/big", json, nested.as_bytes()), 400, Module),
        case(
            "JSON text of wrong type",
            post("/classify", json, b"{\"text\": {\"a\": 1}}"),
            400,
            Module,
        ),
        case(
            "JSON texts of wrong type",
            post("/classify", json, b"{\"texts\": [1, 2]}"),
            400,
            Module,
        ),
        case(
            "JSON top of wrong type",
            post("/classify", json, b"{\"text\": \"a\", \"top\": -1}"),
            400,
            Module,
        ),
        case("JSON not an object", post("/classify", json, b"[\"a\"]"), 400, Module),
        case(
            "batch over ClassifyMaxBatch",
            post(
                "/classify",
                json,
                format!("{{\"texts\": [{}]}}", ["\"a\""; 11].join(",")).as_bytes(),
            ),
            413,
            Module,
        ),
        case("empty text/plain body", post("/classify", "text/plain", b""), 200, Module),
        case("empty JSON text", post("/classify", json, b"{\"text\": \"\"}"), 200, Module),
        case("empty JSON batch", post("/classify", json, b"{\"texts\": []}"), 200, Module),
        case("PUT", request("PUT", "/classify/x", &[], b"x"), 405, Module),
        case("DELETE", request("DELETE", "/classify/x", &[], b""), 405, Module),
        case("PATCH", request("PATCH", "/classify", &[], b"x"), 405, Module),
        case("unknown content type", post("/classify", "application/xml", b"<a/>"), 415, Module),
        // A path is text to classify, never a file name: "../" sequences are just words.
        case(
            "path traversal as text",
            request("GET", "/classify/..%2F..%2F..%2Fetc%2Fpasswd", &[], b""),
            200,
            Module,
        ),
        case(
            "path traversal in the query",
            request("GET", "/classify?text=..%2F..%2Fetc%2Fshadow", &[], b""),
            200,
            Module,
        ),
        case("long URL under the line limit", request("GET", &long_path, &[], b""), 200, Module),
        case(
            "URL over LimitRequestLine",
            request("GET", &format!("/classify/{}", "a".repeat(10_000)), &[], b""),
            414,
            Httpd,
        ),
    ]
}

fn config() -> String {
    let model = golden("count_word12_linearsvc_multi.model.json");
    format!(
        "Timeout 10\n\
         <Location /classify>\n  SetHandler classify\n  ClassifyModel {m}\n  \
         ClassifyMaxBodySize {LIMIT}\n  ClassifyMaxBatch 10\n</Location>\n\
         <Location /big>\n  SetHandler classify\n  ClassifyModel {m}\n</Location>\n",
        m = model.display()
    )
}

fn outcome(response: &Response, case: &Case) -> Result<(), String> {
    if response.status != case.status {
        return Err(format!("status {} (expected {})", response.status, case.status));
    }
    if case.answerer == Answerer::Httpd {
        return Ok(());
    }
    if case.status >= 400 {
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|_| format!("error body is not JSON: {:?}", response.text()))?;
        if !body["error"].is_string() {
            return Err(format!("no \"error\" in {body}"));
        }
        return Ok(());
    }
    // A label (text/plain) or a JSON answer: never empty.
    let text = response.text();
    let is_label = text.ends_with('\n') && !text.trim().is_empty() && !text.trim().contains('\n');
    if is_label || serde_json::from_slice::<serde_json::Value>(&response.body).is_ok() {
        Ok(())
    } else {
        Err(format!("neither a label nor JSON: {text:?}"))
    }
}

/// Holds `count` connections that trickle a request one byte at a time, as slow clients do.
fn slow_clients(port: u16, count: usize) -> Vec<TcpStream> {
    (0..count)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
            stream.write_all(b"GET /classify/slow HTTP/1.1\r\nHost: 12").ok()?;
            Some(stream)
        })
        .collect()
}

#[test]
fn hostile_requests_get_clear_answers_and_no_child_crashes() {
    let mut failures = Vec::new();
    println!("{:<8} {:<38} {:>8} {:>6}  outcome", "mpm", "case", "expected", "got");
    for mpm in ["prefork", "event"] {
        let apache = Apache::start(mpm, &config());
        let slow = slow_clients(apache.port, 30);
        for case in cases() {
            let started = Instant::now();
            let response = apache.request(&case.request);
            let verdict = outcome(&response, &case);
            println!(
                "{mpm:<8} {:<38} {:>8} {:>6}  {} ({} ms)",
                case.name,
                case.status,
                response.status,
                verdict.as_ref().map_or_else(|e| format!("FAIL: {e}"), |_| "ok".into()),
                started.elapsed().as_millis()
            );
            if let Err(reason) = verdict {
                failures.push(format!("{mpm} {}: {reason}", case.name));
            }
        }
        drop(slow);
        let after = apache.get("/classify/arcade%20game", &[]);
        assert_eq!((after.status, after.text().as_str()), (200, "games\n"), "{mpm} after battery");
        apache.assert_no_crashed_children();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(failures.is_empty(), "hostile cases failed:\n{}", failures.join("\n"));
}
