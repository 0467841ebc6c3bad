//! OTLP exports at the sizes a misbehaving or very busy exporter sends: a
//! 100 MB body (with a length, chunked, over gRPC) and one export of
//! 100,000 `api_request` records. Each is answered per protocol and counted,
//! nothing is stored half, the daemon never holds the 100 MB, and it serves
//! on. (Malformed bodies, unknown events and missing attributes are in
//! `otlp::bad_exports_are_answered_per_otlp_counted_kept_and_the_daemon_serves_on`.)

use crate::common::*;
use crate::otlp::{api_request, export_of, grpc, kv, records};

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

use hookmeter::ingest::otlp::wire;
use prost::Message;

const PROTOBUF: &str = "application/x-protobuf";

/// 100 MB: the size the issue names.
const HUGE: usize = 100 * 1024 * 1024;

/// A daemon that read or kept the 100 MB would be over this.
const RSS_BOUND_KIB: u64 = 80 * 1024;

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The first bytes of a well-formed `ExportLogsServiceRequest` of `total`
/// bytes: one record whose string body is what follows (`total` minus this
/// prefix, any byte but a multi-byte UTF-8 one). Streamed, never built whole.
fn huge_export_prefix(total: usize) -> Vec<u8> {
    // Fields from the outside in: resource_logs (1), scope_logs (2),
    // log_records (2), body (5), string_value (1); each a tag byte and a
    // varint length. Five varints of at most 4 bytes for lengths under 256 MiB.
    let overhead = |inner: usize| {
        let mut v = Vec::new();
        varint(inner, &mut v);
        1 + v.len()
    };
    // Solve for the string's length so the whole is `total` bytes.
    let mut text = total - 5 * 5;
    loop {
        let mut len = text;
        let mut prefix = 0;
        for _ in 0..5 {
            prefix += overhead(len);
            len += overhead(len);
        }
        if text + prefix == total {
            break;
        }
        text = total - prefix;
    }
    let mut lengths = vec![text];
    for _ in 0..4 {
        let inner = *lengths.last().unwrap();
        lengths.push(inner + overhead(inner));
    }
    let mut prefix = Vec::new();
    for (tag, len) in [0x0a, 0x12, 0x12, 0x2a, 0x0a]
        .into_iter()
        .zip(lengths.iter().rev())
    {
        prefix.push(tag);
        varint(*len, &mut prefix);
    }
    assert_eq!(prefix.len() + text, total);
    prefix
}

/// The pieces of a `total`-byte export built by [`huge_export_prefix`],
/// a MiB each.
fn huge_export(total: usize) -> impl Iterator<Item = Vec<u8>> + Send + 'static {
    let prefix = huge_export_prefix(total);
    let block = 1 << 20;
    let mut left = total;
    let mut first = Some(prefix);
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let mut piece = first.take().unwrap_or_default();
        let n = (block - piece.len().min(block)).min(left - piece.len());
        piece.resize(piece.len() + n, b'x');
        left -= piece.len();
        Some(piece)
    })
}

/// POSTs an export of `total` bytes to /v1/logs, with a Content-Length or
/// chunked, its `pieces` written by a thread of their own while the answer
/// is read: the daemon answers an export over the limit before reading it
/// all, then closes the connection, so writes after the answer may fail.
fn post_export(
    addr: SocketAddr,
    total: usize,
    chunked: bool,
    pieces: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the HTTP API");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let length = if chunked {
        "Transfer-Encoding: chunked\r\n".to_string()
    } else {
        format!("Content-Length: {total}\r\n")
    };
    let head = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: {PROTOBUF}\r\n{length}\r\n"
    );
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        writer.write_all(head.as_bytes())?;
        for piece in pieces {
            if chunked {
                writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
                writer.write_all(&piece)?;
                writer.write_all(b"\r\n")?;
            } else {
                writer.write_all(&piece)?;
            }
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n")?;
        }
        writer.flush()
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after the answer: keep what arrived.
            Err(e) => {
                assert!(!raw.is_empty(), "no HTTP response: {e}");
                break;
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    // Whether the rest of a refused body could be written does not matter.
    let _ = sender.join().unwrap();
    parse_response(&raw)
}

fn vm_rss_kib(daemon: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

fn exports(addr: SocketAddr, outcome: &str) -> f64 {
    metric(
        addr,
        &format!("hookmeter_otlp_exports_total{{outcome=\"{outcome}\"}}"),
    )
    .unwrap_or(0.0)
}

fn one_good_export(addr: SocketAddr, request_id: &str) {
    let body = export_of(vec![api_request(request_id, Some(2))]).encode_to_vec();
    let answer = http_request(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", PROTOBUF)],
        &body,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
}

#[test]
fn a_100_mb_export_with_a_length_or_chunked_is_refused_413_counted_and_never_held() {
    // What is sent is an export (here a small one of the same making).
    let small: Vec<u8> = huge_export(3000).flatten().collect();
    let export = wire::ExportLogsServiceRequest::decode(&small[..]).unwrap();
    let body = &export.resource_logs[0].scope_logs[0].log_records[0].body;
    match body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(wire::Value::StringValue(text)) => assert!(text.len() > 2900, "{}", text.len()),
        other => panic!("{other:?}"),
    }

    let home = Home::new();
    home.write_config("[otlp]\ngrpc = \"off\"\n");
    let daemon = home.start();
    let addr = daemon.http();

    for (n, chunked) in [false, true].into_iter().enumerate() {
        let answer = post_export(addr, HUGE, chunked, huge_export(HUGE));
        assert_eq!(answer.status, 413, "chunked {chunked}: {}", answer.text());
        let status = wire::Status::decode(&answer.body[..]).expect("an OTLP Status");
        assert!(status.message.contains("max_body"), "{}", status.message);
        assert_eq!(exports(addr, "too_large"), (n + 1) as f64);
        let rss = vm_rss_kib(&daemon);
        assert!(
            rss < RSS_BOUND_KIB,
            "the daemon holds {rss} KiB after a refused 100 MB export (chunked {chunked})"
        );
    }
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    // Kept: the reason and the first bytes only, never the body.
    let kept = home.count(
        "SELECT max(length(raw_text)) FROM rejected_events \
         WHERE source = 'otlp' AND reason_code = 'line_too_long'",
    );
    assert!(kept < 1024 * 1024, "{kept} bytes kept of a refused export");
    assert_eq!(exports(addr, "accepted"), 0.0);

    one_good_export(addr, "req_after_huge");
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 1);
    assert_eq!(exports(addr, "accepted"), 1.0);
}

#[test]
fn a_100_mb_export_over_grpc_is_resource_exhausted_and_the_daemon_serves_on() {
    let home = Home::new();
    let daemon = grpc::start(&home, "");
    let addr = grpc::grpc_addr(&daemon);

    // One gRPC message frame: uncompressed, its length, the export.
    let mut frame = Vec::with_capacity(5 + HUGE);
    frame.push(0);
    frame.extend_from_slice(&(HUGE as u32).to_be_bytes());
    huge_export(HUGE).for_each(|piece| frame.extend_from_slice(&piece));
    let (status, text, _) = grpc::call(addr, grpc::LOGS, &[], frame);
    assert_eq!(status, 8, "{text}");
    assert!(text.contains("max_body"), "{text}");
    assert_eq!(exports(daemon.http(), "too_large"), 1.0);
    let rss = vm_rss_kib(&daemon);
    assert!(
        rss < RSS_BOUND_KIB,
        "the daemon holds {rss} KiB after a refused 100 MB gRPC export"
    );
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);

    let export = export_of(vec![api_request("req_grpc_after", Some(4))]).encode_to_vec();
    let (status, text, _) = grpc::call(addr, grpc::LOGS, &[], grpc::framed(&export));
    assert_eq!(status, 0, "{text}");
    assert_eq!(records(&home).len(), 1);
}

const RECORDS: usize = 100_000;

/// claude-haiku-4-5's embedded rates, USD per million tokens (prices.toml):
/// input, output, cache read, cache write (5 minutes).
const HAIKU_4_5: [f64; 4] = [1.0, 5.0, 0.1, 1.25];

/// Record `i` of the big export: distinct request id, tokens that vary.
fn big_record(i: usize) -> (wire::LogRecord, [i64; 4], f64) {
    let tokens = [
        (3 + i % 97) as i64,
        (20 + i % 311) as i64,
        (1_000 + i % 4_001) as i64,
        (i % 53) as i64,
    ];
    let reported = (i % 1000) as f64 * 1e-6;
    let mut record = api_request(&format!("req_big_{i:06}"), Some(tokens[1]));
    for (key, value) in [
        ("input_tokens", tokens[0]),
        ("cache_read_tokens", tokens[2]),
        ("cache_creation_tokens", tokens[3]),
    ] {
        let at = record.attributes.iter().position(|a| a.key == key).unwrap();
        record.attributes[at] = kv(key, wire::Value::IntValue(value));
    }
    let at = record
        .attributes
        .iter()
        .position(|a| a.key == "cost_usd")
        .unwrap();
    record.attributes[at] = kv("cost_usd", wire::Value::DoubleValue(reported));
    (record, tokens, reported)
}

#[test]
fn an_export_of_100k_records_is_413_by_default_and_stored_whole_once_under_a_raised_limit() {
    let mut records = Vec::with_capacity(RECORDS);
    let (mut sent, mut reported, mut expected_cost) = ([0i64; 4], 0.0, 0.0);
    for i in 0..RECORDS {
        let (record, tokens, cost) = big_record(i);
        records.push(record);
        for (k, t) in tokens.iter().enumerate() {
            sent[k] += t;
            expected_cost += *t as f64 * HAIKU_4_5[k] / 1e6;
        }
        reported += cost;
    }
    let body = export_of(records).encode_to_vec();
    assert!(body.len() > 4 * 1024 * 1024, "{} bytes", body.len());
    let post = |addr| post_export(addr, body.len(), false, std::iter::once(body.clone()));

    // The default max_body (4 MiB): refused whole.
    let home = Home::new();
    home.write_config("[otlp]\ngrpc = \"off\"\n");
    let daemon = home.start();
    let answer = post(daemon.http());
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert!(wire::Status::decode(&answer.body[..]).is_ok());
    assert_eq!(exports(daemon.http(), "too_large"), 1.0);
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    one_good_export(daemon.http(), "req_after_big");
    drop(daemon);

    // Raised: all of it, once, however often it is sent.
    let home = Home::new();
    home.write_config("[otlp]\ngrpc = \"off\"\nmax_body = 67108864\n");
    let daemon = home.start();
    for round in 1..=2 {
        let answer = post(daemon.http());
        assert_eq!(answer.status, 200, "round {round}: {}", answer.text());
        let response = wire::ExportLogsServiceResponse::decode(&answer.body[..]).unwrap();
        assert_eq!(response.partial_success, None, "round {round}");
        let (count, input, output, read, write, cost, reported_sum): (
            i64,
            i64,
            i64,
            i64,
            i64,
            f64,
            f64,
        ) = home
            .db()
            .query_row(
                "SELECT count(*), total(input_tokens), total(output_tokens),
                        total(cache_read_tokens), total(cache_write_tokens),
                        total(estimated_cost_usd), total(reported_cost_usd)
                 FROM cost_records",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, f64>(1)? as i64,
                        r.get::<_, f64>(2)? as i64,
                        r.get::<_, f64>(3)? as i64,
                        r.get::<_, f64>(4)? as i64,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(count, RECORDS as i64, "round {round}");
        assert_eq!([input, output, read, write], sent, "round {round}");
        assert!(
            (cost - expected_cost).abs() < 1e-9,
            "round {round}: cost {cost} against {expected_cost} from the rates"
        );
        assert!(
            (reported_sum - reported).abs() < 1e-9,
            "round {round}: reported {reported_sum} against {reported} sent"
        );
        assert_eq!(
            home.count("SELECT count(DISTINCT request_id) FROM api_messages"),
            RECORDS as i64
        );
    }
    assert_eq!(exports(daemon.http(), "accepted"), 2.0);
    assert_eq!(http_get(daemon.http(), "/healthz").status, 200);
}

#[test]
fn an_export_cut_off_mid_body_is_counted_incomplete_and_nothing_is_kept() {
    // An agent exiting in the middle of its export: the length promised, half
    // the body sent, the connection closed.
    let home = Home::new();
    home.write_config("[otlp]\ngrpc = \"off\"\n");
    let daemon = home.start();
    let addr = daemon.http();
    let body = export_of(vec![api_request("req_cut", Some(5))]).encode_to_vec();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {PROTOBUF}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    stream.shutdown(Shutdown::Both).unwrap();
    drop(stream);

    wait_for_metric(
        &daemon,
        "hookmeter_otlp_exports_total{outcome=\"incomplete\"}",
        |n| n == 1.0,
    );
    assert_eq!(exports(addr, "malformed"), 0.0);
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    assert_eq!(
        home.count("SELECT count(*) FROM rejected_events WHERE source = 'otlp'"),
        0
    );
    // The exporter, alive again, sends it whole: one record.
    one_good_export(addr, "req_cut");
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 1);
}
