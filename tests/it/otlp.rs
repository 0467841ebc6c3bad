//! `POST /v1/logs` (docs/ingest.md#opentelemetry): the real Claude Code's
//! OTLP exports (tests/fixtures/otel/claude, captured from 2.1.197 over
//! http/json and http/protobuf) into the real daemon: records equal to the
//! mock's ledger, one row per request with the transcript of the same run
//! read before or after, and bad exports answered per OTLP/HTTP, counted,
//! kept, the daemon serving on.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::*;
use hookmeter::ingest::otlp::wire;
use prost::Message;
use serde_json::Value;

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");

pub(crate) fn capture(scenario: &str, encoding: &str) -> PathBuf {
    fixtures().join("otel/claude").join(scenario).join(encoding)
}

/// The logs exports of a capture, in the order they were sent.
pub(crate) fn exports(dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("-logs.json") || n.ends_with("-logs.bin"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no logs export in {}", dir.display());
    names
        .iter()
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .collect()
}

/// (input, output, cache read, cache write total, 1-hour writes) by request id.
pub(crate) type Counts = BTreeMap<String, (i64, i64, i64, i64, i64)>;

pub(crate) fn ledger(dir: &Path) -> Counts {
    std::fs::read_to_string(dir.join("ledger.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let u = &v["usage"];
            let n = |k: &str| u[k].as_i64().unwrap();
            (
                v["requestId"].as_str().unwrap().to_string(),
                (
                    n("input"),
                    n("output"),
                    n("cache_read"),
                    n("cache_write_5m") + n("cache_write_1h"),
                    n("cache_write_1h"),
                ),
            )
        })
        .collect()
}

/// The records by request id (through `otel_requests` or `api_messages`).
pub(crate) fn records(home: &Home) -> Counts {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT a.request_id, c.input_tokens, c.output_tokens, c.cache_read_tokens,
                    c.cache_write_tokens, c.cache_write_1h_tokens
             FROM cost_records c JOIN api_messages a ON a.record_id = c.id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let counts: Counts = rows.iter().cloned().collect();
    assert_eq!(
        counts.len(),
        rows.len(),
        "a request counted twice: {rows:?}"
    );
    counts
}

/// The ledger's counts without the 1-hour split (what an event alone knows).
fn without_split(counts: &Counts) -> Counts {
    counts
        .iter()
        .map(|(k, (i, o, r, w, _))| (k.clone(), (*i, *o, *r, *w, 0)))
        .collect()
}

pub(crate) fn post(
    addr: SocketAddr,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut headers = vec![("Content-Type", content_type)];
    headers.extend_from_slice(extra);
    http_request(addr, "POST", "/v1/logs", &headers, body)
}

pub(crate) fn content_type(encoding: &str) -> &'static str {
    match encoding {
        "json" => "application/json",
        _ => "application/x-protobuf",
    }
}

pub(crate) fn post_capture(addr: SocketAddr, dir: &Path, encoding: &str) {
    for body in exports(dir) {
        let answer = post(addr, content_type(encoding), &[], &body);
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.header("content-type"), Some(content_type(encoding)));
        match encoding {
            "json" => assert_eq!(answer.json(), serde_json::json!({})),
            _ => {
                let r = wire::ExportLogsServiceResponse::decode(&answer.body[..]).unwrap();
                assert_eq!(r.partial_success, None);
            }
        }
    }
}

pub(crate) fn import(home: &Home, transcript: &Path) {
    succeed(home.command().arg("import").arg(transcript));
}

fn reported_costs(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM cost_records WHERE reported_cost_usd > 0")
}

#[test]
fn claude_codes_exports_import_to_its_ledger_and_the_transcript_after_adds_no_row() {
    for scenario in ["text", "tools"] {
        for encoding in ["json", "protobuf"] {
            let dir = capture(scenario, encoding);
            let want = ledger(&dir);
            let home = Home::new();
            home.write_config(HOOKS_ONLY);
            let daemon = home.start();
            let addr = daemon.http();
            post_capture(addr, &dir, encoding);
            assert_eq!(
                records(&home),
                without_split(&want),
                "{scenario}/{encoding}"
            );
            assert_eq!(reported_costs(&home), want.len() as i64);
            // Every event names its prompt, which becomes the record's.
            assert_eq!(
                home.count("SELECT count(*) FROM cost_records WHERE prompt_id IS NOT NULL"),
                want.len() as i64
            );
            // Redelivered: nothing changes.
            post_capture(addr, &dir, encoding);
            assert_eq!(records(&home), without_split(&want));
            // The transcript of the same run: the same rows, now with the
            // 1-hour split the event could not tell.
            import(&home, &dir.join("transcript.jsonl"));
            assert_eq!(
                records(&home),
                want,
                "{scenario}/{encoding} after the transcript"
            );
            assert_eq!(
                home.count("SELECT count(*) FROM cost_records"),
                want.len() as i64
            );
            assert_eq!(
                home.count("SELECT count(*) FROM otel_requests WHERE agrees = 1"),
                want.len() as i64
            );
            assert_eq!(
                metric(addr, "hookmeter_otel_requests{transcript=\"agree\"}"),
                Some(want.len() as f64)
            );
            assert_eq!(
                metric(addr, "hookmeter_otlp_log_records_total{outcome=\"usage\"}"),
                Some(2.0 * want.len() as f64)
            );
            assert_rollup_matches(&home);
            daemon.stop();
        }
    }
}

#[test]
fn the_transcript_first_then_the_export_confirms_the_same_rows() {
    let dir = capture("tools", "json");
    let want = ledger(&dir);
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    import(&home, &dir.join("transcript.jsonl"));
    assert_eq!(records(&home), want);
    assert_eq!(reported_costs(&home), 0);
    let daemon = home.start();
    let addr = daemon.http();
    post_capture(addr, &dir, "json");
    assert_eq!(records(&home), want);
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records"),
        want.len() as i64
    );
    assert_eq!(reported_costs(&home), want.len() as i64);
    assert_eq!(
        home.count("SELECT count(*) FROM otel_requests WHERE agrees = 1"),
        want.len() as i64
    );
    assert_rollup_matches(&home);
}

#[test]
fn a_gzipped_export_and_a_protobuf_one_built_here_import_alike() {
    let dir = capture("text", "json");
    let want = ledger(&dir);
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    for body in exports(&dir) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        let answer = post(
            addr,
            "application/json",
            &[("Content-Encoding", "gzip")],
            &gz.finish().unwrap(),
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    assert_eq!(records(&home), without_split(&want));

    // One request more, in protobuf made with the daemon's own messages.
    let request = export_of(vec![api_request("req_built_here", Some(7))]);
    let answer = post(addr, PROTOBUF.1, &[], &request.encode_to_vec());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let built: (i64, i64, String) = home
        .db()
        .query_row(
            "SELECT output_tokens, cache_read_tokens, source FROM cost_records
             WHERE hook_event_id = 'cc:s-built::req_built_here'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(built, (7, 40, "otel".to_string()));
}

pub(crate) fn kv(key: &str, value: wire::Value) -> wire::KeyValue {
    wire::KeyValue {
        key: key.into(),
        value: Some(wire::AnyValue { value: Some(value) }),
    }
}

/// A Claude Code `api_request` record; `output` `None` leaves the count out.
pub(crate) fn api_request(request_id: &str, output: Option<i64>) -> wire::LogRecord {
    let text = |s: &str| wire::Value::StringValue(s.into());
    let mut attributes = vec![
        kv("session.id", text("s-built")),
        kv("event.name", text("api_request")),
        kv("model", text("claude-haiku-4-5")),
        kv("input_tokens", wire::Value::IntValue(10)),
        kv("cache_read_tokens", wire::Value::IntValue(40)),
        kv("cache_creation_tokens", wire::Value::IntValue(0)),
        kv("cost_usd", wire::Value::DoubleValue(0.0001)),
        kv("request_id", text(request_id)),
    ];
    if let Some(output) = output {
        attributes.push(kv("output_tokens", wire::Value::IntValue(output)));
    }
    wire::LogRecord {
        time_unix_nano: 1_796_574_274_608_000_000,
        observed_time_unix_nano: 0,
        body: Some(wire::AnyValue {
            value: Some(text("claude_code.api_request")),
        }),
        attributes,
    }
}

pub(crate) fn export_of(records: Vec<wire::LogRecord>) -> wire::ExportLogsServiceRequest {
    wire::ExportLogsServiceRequest {
        resource_logs: vec![wire::ResourceLogs {
            resource: Some(wire::Resource {
                attributes: vec![kv(
                    "service.name",
                    wire::Value::StringValue("claude-code".into()),
                )],
            }),
            scope_logs: vec![wire::ScopeLogs {
                log_records: records,
            }],
        }],
    }
}

#[test]
fn bad_exports_are_answered_per_otlp_counted_kept_and_the_daemon_serves_on() {
    let home = Home::new();
    home.write_config("[otlp]\nmax_body = 65536\n");
    let daemon = home.start();
    let addr = daemon.http();
    let rejected = |code: &str| {
        home.count(&format!(
            "SELECT count(*) FROM rejected_events WHERE source = 'otlp' AND reason_code = '{code}'"
        ))
    };

    let answer = post(addr, "application/json", &[], b"{\"resourceLogs\": 3");
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["code"], 3, "{}", answer.text());
    assert_eq!(rejected("not_json"), 1);

    let answer = post(addr, PROTOBUF.1, &[], b"\x0a\xff\xff\xff\x0f");
    assert_eq!(answer.status, 400);
    let status = wire::Status::decode(&answer.body[..]).unwrap();
    assert_eq!(status.code, 3);
    assert!(status.message.contains("protobuf"), "{}", status.message);
    assert_eq!(rejected("not_protobuf"), 1);

    let answer = post(addr, "text/plain", &[], b"{}");
    assert_eq!(answer.status, 415);
    let answer = post(
        addr,
        "application/json",
        &[("Content-Encoding", "br")],
        b"{}",
    );
    assert_eq!(answer.status, 415);

    let answer = post(addr, "application/json", &[], &vec![b' '; 100_000]);
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(rejected("line_too_long"), 1);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 50 * 1024 * 1024]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 65536);
    let answer = post(
        addr,
        "application/json",
        &[("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert!(answer.text().contains("inflates past"), "{}", answer.text());
    assert_eq!(rejected("line_too_long"), 2);

    // An unknown event: accepted, nothing stored, counted as no usage.
    let mut other = api_request("req_other", Some(1));
    other.attributes[1] = kv("event.name", wire::Value::StringValue("tool_result".into()));
    other.body = None;
    let answer = post(
        addr,
        PROTOBUF.1,
        &[],
        &export_of(vec![other]).encode_to_vec(),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        metric(
            addr,
            "hookmeter_otlp_log_records_total{outcome=\"no_usage\"}"
        ),
        Some(1.0)
    );

    // A usage event without its output count, beside a whole one: a
    // partial success, the incomplete one kept with its reason.
    let export = export_of(vec![
        api_request("req_missing", None),
        api_request("req_whole", Some(3)),
    ]);
    let answer = post(addr, PROTOBUF.1, &[], &export.encode_to_vec());
    assert_eq!(answer.status, 200);
    let response = wire::ExportLogsServiceResponse::decode(&answer.body[..]).unwrap();
    let partial = response.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("output_tokens"),
        "{}",
        partial.error_message
    );
    assert_eq!(rejected("incomplete_event"), 1);
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 1);

    for (outcome, n) in [
        ("accepted", 2.0),
        ("malformed", 2.0),
        ("too_large", 2.0),
        ("encoding", 1.0),
    ] {
        let series = format!("hookmeter_otlp_exports_total{{outcome=\"{outcome}\"}}");
        assert_eq!(metric(addr, &series), Some(n), "{series}");
    }
    assert_eq!(
        metric(
            addr,
            "hookmeter_http_refused_total{reason=\"content_type\"}"
        ),
        Some(1.0)
    );
    // Still serving: a good export goes in.
    post_capture(addr, &capture("text", "protobuf"), "protobuf");
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 3);
}

#[test]
fn the_token_host_and_origin_rules_hold_for_exports() {
    let home = Home::new();
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP_TOKEN", "otlp-secret");
    });
    let addr = daemon.http();
    let body = export_of(vec![api_request("req_guarded", Some(2))]).encode_to_vec();
    assert_eq!(post(addr, PROTOBUF.1, &[], &body).status, 401);
    let wrong = [("Authorization", "Bearer nope")];
    assert_eq!(post(addr, PROTOBUF.1, &wrong, &body).status, 401);
    let token = ("Authorization", "Bearer otlp-secret");
    let page = [token, ("Origin", "http://evil.example")];
    assert_eq!(post(addr, PROTOBUF.1, &page, &body).status, 403);
    let answer = http_request_as(
        addr,
        "evil.example",
        "POST",
        "/v1/logs",
        &[PROTOBUF, token],
        &body,
    );
    assert_eq!(answer.status, 421);
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    // As Claude Code sends it (OTEL_EXPORTER_OTLP_HEADERS): accepted.
    assert_eq!(post(addr, PROTOBUF.1, &[token], &body).status, 200);
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 1);
}

/// The text capture's transcript with its first request's output count
/// lowered, as an early snapshot would show it.
fn early_snapshot_transcript(home: &Home) -> PathBuf {
    let dir = capture("text", "json");
    let text = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
    assert_eq!(text.matches("\"output_tokens\":9").count(), 1);
    let path = home.path().join("early.jsonl");
    std::fs::write(
        &path,
        text.replace("\"output_tokens\":9", "\"output_tokens\":2"),
    )
    .unwrap();
    path
}

#[test]
fn a_transcript_that_disagrees_gives_way_to_the_event_in_either_order_and_is_counted() {
    let dir = capture("text", "json");
    // With the 1-hour split the transcript brings.
    let want = ledger(&dir);
    for event_first in [true, false] {
        let home = Home::new();
        home.write_config(HOOKS_ONLY);
        let transcript = early_snapshot_transcript(&home);
        if !event_first {
            import(&home, &transcript);
        }
        let daemon = home.start();
        let addr = daemon.http();
        post_capture(addr, &dir, "json");
        if event_first {
            import(&home, &transcript);
        }
        // The event's counts stand (the ledger's), one row per request.
        assert_eq!(records(&home), want, "event first: {event_first}");
        assert_eq!(
            home.count("SELECT count(*) FROM cost_records"),
            want.len() as i64
        );
        assert_eq!(
            home.count("SELECT count(*) FROM otel_requests WHERE agrees = 0"),
            1,
            "event first: {event_first}"
        );
        assert_eq!(
            metric(addr, "hookmeter_otel_requests{transcript=\"disagree\"}"),
            Some(1.0)
        );
        assert_rollup_matches(&home);
        daemon.stop();
    }
}

/// OTLP/gRPC through the real daemon: a unary call made here with hyper's
/// HTTP/2 client, framed by hand; the answer's message and `grpc-status`.
pub(crate) mod grpc {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    pub(crate) const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    /// The address of this run's gRPC listener, from its log line.
    pub(crate) fn grpc_addr(daemon: &Daemon) -> SocketAddr {
        let mut found = None;
        wait_until(
            "OTLP/gRPC to listen",
            || {
                found = daemon
                    .run_log()
                    .lines()
                    .find_map(|line| line.split("OTLP/gRPC listening on ").nth(1))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|addr| addr.trim_end_matches('.').parse().ok());
                found.is_some()
            },
            || daemon.log_text(),
        );
        found.unwrap()
    }

    pub(crate) fn framed(message: &[u8]) -> Vec<u8> {
        let mut body = vec![0];
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(message);
        body
    }

    /// (grpc-status, grpc-message, the answer's bytes).
    pub(crate) fn call(
        addr: SocketAddr,
        path: &str,
        metadata: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u32, String, Vec<u8>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .unwrap();
            tokio::spawn(conn);
            let mut request = hyper::Request::post(format!("http://{addr}{path}"))
                .header("content-type", "application/grpc")
                .header("te", "trailers");
            for (k, v) in metadata {
                request = request.header(*k, *v);
            }
            let request = request.body(Full::new(Bytes::from(body))).unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let collected = response.into_body().collect().await.unwrap();
            let trailers = collected.trailers().cloned().unwrap_or_default();
            let bytes = collected.to_bytes().to_vec();
            let status = trailers["grpc-status"].to_str().unwrap().parse().unwrap();
            let message = trailers
                .get("grpc-message")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, message, bytes)
        })
    }

    pub(crate) fn start(home: &Home, config: &str) -> Daemon {
        home.write_config(config);
        home.start_with(|cmd| {
            cmd.env("HOOKMETER_OTLP_GRPC", "127.0.0.1:0");
        })
    }

    #[test]
    fn a_grpc_export_writes_its_requests_once_and_bad_ones_get_grpc_statuses() {
        let home = Home::new();
        let daemon = start(&home, "[otlp]\nmax_body = 65536\n");
        let addr = grpc_addr(&daemon);

        let export = export_of(vec![api_request("req_grpc_1", Some(5))]).encode_to_vec();
        for _ in 0..2 {
            let (status, message, bytes) = call(addr, LOGS, &[], framed(&export));
            assert_eq!(status, 0, "{message}");
            let answer = wire::ExportLogsServiceResponse::decode(&bytes[5..]).unwrap();
            assert_eq!(answer.partial_success, None);
        }
        let got = records(&home);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got["req_grpc_1"].1, 5);

        // gzip, as grpc-encoding says.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&export_of(vec![api_request("req_grpc_2", Some(7))]).encode_to_vec())
            .unwrap();
        let mut body = framed(&gz.finish().unwrap());
        body[0] = 1;
        let (status, message, _) = call(addr, LOGS, &[("grpc-encoding", "gzip")], body);
        assert_eq!(status, 0, "{message}");
        assert_eq!(records(&home)["req_grpc_2"].1, 7);

        // Malformed protobuf and a broken frame: 3, kept, nothing stored.
        let (status, message, _) = call(addr, LOGS, &[], framed(b"\x0a\xff\xff\xff\x0f"));
        assert_eq!(status, 3, "{message}");
        let (status, message, _) = call(addr, LOGS, &[], vec![0, 0, 0, 0, 9, 1]);
        assert_eq!(status, 3, "{message}");
        assert_eq!(
            home.count("SELECT count(*) FROM rejected_events WHERE source = 'otlp'"),
            2
        );

        // Over max_body: 8 RESOURCE_EXHAUSTED.
        let (status, message, _) = call(addr, LOGS, &[], framed(&vec![0u8; 100_000]));
        assert_eq!(status, 8, "{message}");
        assert!(message.contains("max_body"), "{message}");

        // Metrics: accepted and counted, no record.
        let (status, message, _) = call(addr, METRICS, &[], framed(b""));
        assert_eq!(status, 0, "{message}");
        let (status, _, _) = call(addr, "/no.Such/Method", &[], framed(b""));
        assert_eq!(status, 12);
        assert_eq!(records(&home).len(), 2);

        let metrics = http_get(daemon.http(), "/metrics").text();
        assert!(
            metrics.contains("hookmeter_otlp_metric_exports_total{outcome=\"accepted\"} 1\n"),
            "{metrics}"
        );
        assert!(
            metrics.contains("hookmeter_otlp_exports_total{outcome=\"too_large\"} 1\n"),
            "{metrics}"
        );
        // The daemon serves on.
        let (status, _, _) = call(addr, LOGS, &[], framed(&export));
        assert_eq!(status, 0);
    }

    #[test]
    fn with_a_token_a_grpc_export_needs_it() {
        let home = Home::new();
        let daemon = start(&home, "[http]\ntoken = \"s3cret\"\n");
        let addr = grpc_addr(&daemon);
        let export = export_of(vec![api_request("req_tok", Some(1))]).encode_to_vec();
        let (status, _, _) = call(addr, LOGS, &[], framed(&export));
        assert_eq!(status, 16);
        let (status, _, _) = call(
            addr,
            LOGS,
            &[("authorization", "Bearer nope")],
            framed(&export),
        );
        assert_eq!(status, 16);
        assert_eq!(records(&home).len(), 0);
        let (status, m, _) = call(
            addr,
            LOGS,
            &[("authorization", "Bearer s3cret")],
            framed(&export),
        );
        assert_eq!(status, 0, "{m}");
        assert_eq!(records(&home).len(), 1);
    }

    /// Holds 127.0.0.1:4317, OTLP/gRPC's default: bound here when free; when
    /// another process (a local collector) holds it, that is the same case.
    fn hold_the_default_port() -> Option<std::net::TcpListener> {
        match std::net::TcpListener::bind("127.0.0.1:4317") {
            Ok(listener) => Some(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => None,
            Err(e) => panic!("cannot set up: neither bound nor found 127.0.0.1:4317 taken: {e}"),
        }
    }

    #[test]
    fn the_default_grpc_port_taken_is_warned_about_and_the_daemon_serves_on() {
        let _held = hold_the_default_port();
        let home = Home::new();
        let daemon = home.start_with(|cmd| {
            cmd.env_remove("HOOKMETER_OTLP_GRPC");
        });
        // The socket answers before the listeners are bound: wait for the
        // dashboard's line, logged after both.
        wait_until(
            "the daemon to be ready",
            || daemon.run_log().contains("hookmeter is ready"),
            || daemon.log_text(),
        );
        let log = daemon.run_log();
        assert!(
            log.contains("default address 127.0.0.1:4317 cannot be used")
                && log.contains("serves without OTLP/gRPC")
                && log.contains("HOOKMETER_OTLP_GRPC"),
            "{log}"
        );
        assert!(!log.contains("OTLP/gRPC listening on"), "{log}");
        let metrics = http_get(daemon.http(), "/metrics").text();
        assert!(
            metrics.contains("hookmeter_otlp_grpc_listening 0\n"),
            "{metrics}"
        );
        // The rest serves: an export over HTTP still lands.
        let export = export_of(vec![api_request("req_default", Some(3))]).encode_to_vec();
        let answer = post(daemon.http(), "application/x-protobuf", &[], &export);
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(records(&home)["req_default"].1, 3);
    }

    #[test]
    fn a_grpc_address_the_user_set_that_is_taken_stops_the_start_with_exit_2() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let home = Home::new();
        let daemon = home.spawn_with(|cmd| {
            cmd.env("HOOKMETER_OTLP_GRPC", &addr);
        });
        assert_eq!(daemon.wait_exit().code(), Some(2));
        let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
        assert!(
            log.contains(&format!("cannot listen for OTLP/gRPC on {addr}")),
            "{log}"
        );
        assert!(!home.socket().exists(), "the socket is not left behind");
        drop(taken);
    }

    #[test]
    fn a_grpc_listener_that_serves_shows_in_metrics() {
        let home = Home::new();
        let daemon = start(&home, "");
        grpc_addr(&daemon);
        let metrics = http_get(daemon.http(), "/metrics").text();
        assert!(
            metrics.contains("hookmeter_otlp_grpc_listening 1\n"),
            "{metrics}"
        );
    }
}
