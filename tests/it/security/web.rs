//! What a web page the user visits, or another name rebound to this
//! machine, can do to the daemon (SECURITY.md, docs/http-api.md): the real
//! daemon on a temp dir, talked to over HTTP as a browser would.
//!
//! Sections: writes from web pages; the `Host` every route checks; the
//! headers of every answer.

use std::net::SocketAddr;

use crate::common::*;
use serde_json::{json, Value};

/// A usage a page would forge: a million tokens each way on an expensive
/// model, about $90 if it were priced.
fn forged_event() -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "session_id": "s-forged",
        "model": "claude-opus-4-1",
        "usage": {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    })
    .to_string()
    .into_bytes()
}

fn stored(home: &Home) -> [i64; 3] {
    [
        home.count("SELECT count(*) FROM cost_records"),
        home.count("SELECT count(*) FROM hook_events"),
        home.count("SELECT count(*) FROM rejected_events"),
    ]
}

/// `hookmeter_http_refused_total` for `reason`, as `/metrics` shows it.
fn refused(addr: SocketAddr, reason: &str) -> u64 {
    let text = http_get(addr, "/metrics").text();
    let series = format!("hookmeter_http_refused_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

fn error_of(response: &Response) -> String {
    response.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {}", response.text()))
        .to_string()
}

// ---- writes from web pages --------------------------------------------------

/// The bodies a page can send anywhere without a CORS preflight.
fn simple_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let json = forged_event();
    let mut multipart = b"--XyZ\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\n".to_vec();
    multipart.extend_from_slice(&json);
    multipart.extend_from_slice(b"\r\n--XyZ--\r\n");
    let mut form = b"event=".to_vec();
    form.extend_from_slice(&json);
    vec![
        ("text/plain", json.clone()),
        ("text/plain;charset=UTF-8", json.clone()),
        ("application/x-www-form-urlencoded", form),
        ("multipart/form-data; boundary=XyZ", multipart),
    ]
}

#[test]
fn a_write_that_is_not_json_or_from_another_origin_stores_nothing() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    let mut by_reason = [0u64; 2]; // content_type, origin
    for (content_type, body) in simple_bodies() {
        for origin in [None, Some("http://evil.example"), Some("null")] {
            let mut headers = vec![("Content-Type", content_type)];
            headers.extend(origin.map(|o| ("Origin", o)));
            let response = http_request(addr, "POST", "/hook", &headers, &body);
            let (want, reason) = match origin {
                None => (415, 0),
                Some(_) => (403, 1),
            };
            by_reason[reason] += 1;
            assert_eq!(
                response.status,
                want,
                "{content_type} from {origin:?}: {}",
                response.text()
            );
            let error = error_of(&response);
            match origin {
                None => assert!(error.contains("application/json"), "{error}"),
                Some(o) => assert!(error.contains(o), "{error}"),
            }
        }
    }
    // No Content-Type at all is not JSON either.
    let response = http_request(addr, "POST", "/hook", &[], &forged_event());
    assert_eq!(response.status, 415, "{}", response.text());
    by_reason[0] += 1;
    // JSON, but from a page of another origin: still refused.
    for origin in [
        "http://evil.example",
        "http://localhost:1",
        &format!("https://{addr}"),
        "null",
    ] {
        let response = http_request(
            addr,
            "POST",
            "/hook",
            &[JSON, ("Origin", origin)],
            &forged_event(),
        );
        assert_eq!(response.status, 403, "{origin}: {}", response.text());
        by_reason[1] += 1;
    }
    assert_eq!(
        stored(&home),
        [0, 0, 0],
        "no record, no event, not even a rejection"
    );
    assert_eq!(refused(addr, "content_type"), by_reason[0]);
    assert_eq!(refused(addr, "origin"), by_reason[1]);
    let log = daemon.run_log();
    for reason in ["content_type", "origin"] {
        assert!(
            log.lines().any(|l| l.contains("WARN")
                && l.contains("Refused an HTTP request")
                && l.contains(&format!("reason=\"{reason}\""))),
            "no WARN line for {reason}:\n{log}"
        );
    }

    // JSON from the daemon's own origin, or from no page at all, is stored.
    let own = format!("http://{addr}");
    let response = http_request(
        addr,
        "POST",
        "/hook",
        &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Origin", &own),
        ],
        &forged_event(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(stored(&home), [1, 1, 0]);
    // A bad JSON body is still kept as a rejection: the gate only turns
    // away what a page could forge.
    let response = http_request(addr, "POST", "/hook", &[JSON], b"{oops");
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(stored(&home), [1, 1, 1]);
}

// ---- the Host every route checks ------------------------------------------

/// Every route, with a body for the one that writes.
fn routes() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GET", "/api/costs"),
        ("GET", "/api/costs/summary"),
        ("GET", "/api/costs/sessions"),
        ("GET", "/api/costs/sessions/s-private-session"),
        ("GET", "/api/costs/pricing"),
        ("GET", "/api/costs/reconcile"),
        ("GET", "/api/summary"),
        ("GET", "/api/budgets"),
        ("GET", "/"),
        ("GET", "/dashboard.js"),
        ("GET", "/dashboard.css"),
        ("GET", "/metrics"),
        ("GET", "/healthz"),
        ("GET", "/no-such-page"),
        ("POST", "/hook"),
    ]
}

fn private_event() -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "session_id": "s-private-session",
        "tool_name": "PrivateTool",
        "cwd": "/home/dev/private-project",
        "model": "claude-opus-4-1",
        "usage": {"input_tokens": 123_457, "output_tokens": 7_654}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn a_foreign_host_gets_421_and_no_data_on_every_route() {
    let home = Home::new();
    home.write_config("[http]\nallowed_hosts = [\"build-host.lan\"]\n");
    let daemon = home.start();
    let addr = daemon.http();
    let port = addr.port();
    let seeded = http_request(addr, "POST", "/hook", &[JSON], &private_event());
    assert_eq!(seeded.status, 200, "{}", seeded.text());
    let cost = http_get(addr, "/api/summary").json()["cost"]["total_usd"]
        .as_f64()
        .unwrap();
    assert!(cost > 0.0);
    let before = stored(&home);

    // What a page must not read: anything from the database, or the page.
    let secrets = [
        "claude-opus".to_string(),
        "s-private-session".to_string(),
        "PrivateTool".to_string(),
        "private-project".to_string(),
        "123457".to_string(),
        format!("{cost}"),
        format!("{:.2}", cost),
        "hookmeter_".to_string(),
        "<html".to_string(),
        "status\":\"ok".to_string(),
    ];
    let foreign = [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost:{}", port.wrapping_add(1)),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("other-host.lan:{port}"),
        String::new(), // no Host at all
    ];
    let mut refusals = 0;
    for host in &foreign {
        for (method, path) in routes() {
            let body = if method == "POST" {
                private_event()
            } else {
                Vec::new()
            };
            let response = http_request_as(addr, host, method, path, &[JSON], &body);
            refusals += 1;
            assert_eq!(
                response.status,
                421,
                "{method} {path} as {host:?}: {}",
                response.text()
            );
            let text = response.text();
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{method} {path} as {host:?} shows {secret:?}: {text}"
                );
            }
            assert!(error_of(&response).contains("allowed_hosts"), "{text}");
        }
    }
    assert_eq!(stored(&home), before, "a refused POST /hook stored nothing");

    // Loopback names and addresses, and an allowed name, are served.
    let allowed = [
        "localhost".to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_string(),
        format!("[::1]:{port}"),
        format!("build-host.lan:{port}"),
        format!("BUILD-HOST.LAN.:{port}"),
    ];
    for host in &allowed {
        for (method, path) in routes() {
            let body = if method == "POST" {
                private_event()
            } else {
                Vec::new()
            };
            let response = http_request_as(addr, host, method, path, &[JSON], &body);
            let want = if path == "/no-such-page" { 404 } else { 200 };
            assert_eq!(
                response.status,
                want,
                "{method} {path} as {host:?}: {}",
                response.text()
            );
        }
        let costs: Value = http_request_as(addr, host, "GET", "/api/costs", &[], b"").json();
        assert_eq!(costs["records"][0]["model"], "claude-opus-4-1", "as {host}");
        // The daemon as reached by that name is its own origin.
        let own = format!("http://{host}");
        let posted = http_request_as(
            addr,
            host,
            "POST",
            "/hook",
            &[JSON, ("Origin", &own)],
            &private_event(),
        );
        assert_eq!(posted.status, 200, "as {host}: {}", posted.text());
    }
    assert_eq!(refused(addr, "host"), refusals);
    assert_eq!(refused(addr, "origin"), 0);

    // `hookmeter config` shows the setting and where it came from.
    let out = home.command().args(["config", "--json"]).output().unwrap();
    assert!(out.status.success());
    let config: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        config["http.allowed_hosts"],
        json!({"value": ["build-host.lan"], "origin": "file",
               "detail": home.config_file().to_str().unwrap()})
    );
}

// ---- the headers of every answer -------------------------------------------

#[test]
fn no_answer_may_be_framed_or_sniffed() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    let mut answers = vec![
        ("GET /", http_get(addr, "/")),
        ("GET /dashboard.js", http_get(addr, "/dashboard.js")),
        ("GET /dashboard.css", http_get(addr, "/dashboard.css")),
        ("GET /api/costs", http_get(addr, "/api/costs")),
        ("GET /metrics", http_get(addr, "/metrics")),
        ("GET /healthz", http_get(addr, "/healthz")),
        ("GET /nothing", http_get(addr, "/nothing")),
        (
            "POST /hook",
            http_request(addr, "POST", "/hook", &[JSON], &forged_event()),
        ),
        (
            "POST /hook text/plain",
            http_request(
                addr,
                "POST",
                "/hook",
                &[("Content-Type", "text/plain")],
                b"{}",
            ),
        ),
        (
            "foreign Host",
            http_request_as(addr, "evil.example", "GET", "/", &[], b""),
        ),
    ];
    for (what, response) in answers.drain(..) {
        assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        let policy = response
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no content-security-policy"));
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{what}: {policy}"
        );
    }
    // The dashboard keeps its own, stricter policy.
    let page = http_get(addr, "/");
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    // No answer invites another origin to read it.
    let read = http_request(
        addr,
        "GET",
        "/api/costs",
        &[("Origin", "http://evil.example")],
        b"",
    );
    assert_eq!(read.status, 200);
    assert_eq!(read.header("access-control-allow-origin"), None);
    let preflight = http_request(
        addr,
        "OPTIONS",
        "/hook",
        &[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    assert_ne!(preflight.status / 100, 2, "{}", preflight.text());
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}
