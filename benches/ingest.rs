//! End-to-end benchmark of the core pipeline, everything measured in one run
//! so the ratios compare like with like on a noisy machine:
//!
//! (a) socket ingest throughput, 1 and 8 connections, events with usage,
//!     against the ceiling: a plain rusqlite bulk insert of the same rows
//!     (hook_events + cost_records, same schema) in one transaction;
//! (b) `hookmeter send` end to end (spawn -> ack) against a python3 script
//!     doing the same socket round trip;
//! (c) daemon RSS idle and peak under the load of (a);
//! (d) the cost of keeping the hourly rollup (issue 4): the same 1-connection
//!     load against this build and against a build of the core pipeline
//!     before the rollup existed (HOOKMETER_BASELINE_BIN; bench/run.sh builds
//!     it), each on a fresh database, alternating, BENCH_ROLLUP_ROUNDS times;
//! (e) OTLP/HTTP protobuf log ingest (issue 21): the same number of Claude
//!     Code `api_request` records as (a)'s events, in exports of
//!     BENCH_OTLP_BATCH (default 512) records like a real exporter's, over 1
//!     and 4 keep-alive connections, each export waiting for its 200 (sent
//!     after the writer committed), against (a)'s socket figures. The bodies
//!     are encoded before the clock starts.
//!
//! (f) with BENCH_PUSH_URL set (bench/push/run.sh sets it to a local
//!     PostgreSQL with the central schema), only this: socket ingest, 1
//!     connection, push off against push on (`HOOKMETER_PUSH_URL` in the
//!     daemon's environment, so the push task sends while events arrive),
//!     each on a fresh database, alternating, BENCH_PUSH_ROUNDS (default 3)
//!     times; after each push-on run `hookmeter push --once` must find the
//!     rest and exit 0.
//!
//! Sizes: BENCH_EVENTS (default 200000), BENCH_SENDS (default 300),
//! BENCH_ROLLUP_ROUNDS (default 2; 0 or no baseline binary skips (d)),
//! BENCH_OTLP_BATCH (default 512).

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hookmeter::ingest::otlp::wire;
use prost::Message;

const BIN: &str = env!("CARGO_BIN_EXE_hookmeter");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Event `i`'s usage, the same whichever way it is sent: input, output,
/// cache read, cache write tokens.
fn tokens(i: usize) -> [i64; 4] {
    [
        (3 + i % 100) as i64,
        (50 + i % 900) as i64,
        (20_000 + i % 5000) as i64,
        (i % 3000) as i64,
    ]
}

/// A realistic hook payload with usage (~700 bytes), unique per (run, i).
fn payload(run: &str, i: usize) -> String {
    let [inp, out, cr, cw] = tokens(i);
    format!(
        concat!(
            r#"{{"hook_event_name":"PostToolUse","session_id":"bench-{run}-{s}","tool_use_id":"toolu_{i:08}","#,
            r#""cwd":"/home/dev/project-{p}","agent_id":"agent-{a}","tool_name":"Bash","#,
            r#""tool_input":{{"command":"cargo test --workspace -- --nocapture","description":"Run the tests"}},"#,
            r#""tool_response":{{"stdout":"running 42 tests\ntest result: ok. 42 passed; 0 failed","stderr":"","interrupted":false}},"#,
            r#""model":"claude-sonnet-4-5-20250929","usage":{{"input_tokens":{inp},"output_tokens":{out},"#,
            r#""cache_read_input_tokens":{cr},"cache_creation_input_tokens":{cw},"#,
            r#""cache_creation":{{"ephemeral_5m_input_tokens":{cw},"ephemeral_1h_input_tokens":0}}}},"duration_ms":{d}}}"#
        ),
        run = run,
        s = i / 50,
        i = i,
        p = i % 7,
        a = i % 5,
        inp = inp,
        out = out,
        cr = cr,
        cw = cw,
        d = i % 4000,
    )
}

/// The attribute `key` with a string, integer or double value.
fn kv(key: &str, value: wire::Value) -> wire::KeyValue {
    wire::KeyValue {
        key: key.into(),
        value: Some(wire::AnyValue { value: Some(value) }),
    }
}

/// Record `i` as Claude Code's exporter sends it (the attributes of its
/// `claude_code.api_request` event, ~600 bytes encoded) with [`tokens`]'s
/// usage, unique per (run, i).
fn api_request(run: &str, i: usize) -> wire::LogRecord {
    use wire::Value::{DoubleValue, IntValue, StringValue};
    let text = |s: String| StringValue(s);
    let [inp, out, cr, cw] = tokens(i);
    // Sonnet 4.5 at USD 3 / 15 / 0.30 / 3.75 per million tokens: micro-USD per token.
    let micros = inp * 3 + out * 15 + cr * 3 / 10 + cw * 375 / 100;
    wire::LogRecord {
        time_unix_nano: 1_796_574_274_608_000_000 + i as u64 * 1_000_000,
        observed_time_unix_nano: 0,
        body: Some(wire::AnyValue {
            value: Some(text("claude_code.api_request".into())),
        }),
        attributes: vec![
            kv("user.id", text(format!("{:064x}", 7))),
            kv("session.id", text(format!("bench-{run}-{}", i / 50))),
            kv("terminal.type", text("non-interactive".into())),
            kv("event.name", text("api_request".into())),
            kv("event.timestamp", text("2026-12-06T16:24:34.608Z".into())),
            kv("event.sequence", IntValue(i as i64)),
            kv("prompt.id", text(format!("prompt-{run}-{}", i / 10))),
            kv("model", text("claude-sonnet-4-5-20250929".into())),
            kv("input_tokens", IntValue(inp)),
            kv("output_tokens", IntValue(out)),
            kv("cache_read_tokens", IntValue(cr)),
            kv("cache_creation_tokens", IntValue(cw)),
            kv("cost_usd", DoubleValue(micros as f64 / 1e6)),
            kv("cost_usd_micros", IntValue(micros)),
            kv("duration_ms", IntValue((i % 4000) as i64)),
            kv("request_id", text(format!("req_bench_{run}_{i:08}"))),
            kv("speed", text("normal".into())),
            kv("query_source", text("sdk".into())),
        ],
    }
}

/// `records` records of `run`, encoded as OTLP/HTTP protobuf exports of
/// `batch` records each, with Claude Code's resource.
fn otlp_exports(run: &str, records: usize, batch: usize) -> Vec<Vec<u8>> {
    let text = |s: &str| wire::Value::StringValue(s.into());
    let resource = wire::Resource {
        attributes: vec![
            kv("host.arch", text("amd64")),
            kv("os.type", text("linux")),
            kv("service.name", text("claude-code")),
            kv("service.version", text("2.1.197")),
        ],
    };
    (0..records)
        .step_by(batch)
        .map(|first| {
            let log_records = (first..(first + batch).min(records))
                .map(|i| api_request(run, i))
                .collect();
            wire::ExportLogsServiceRequest {
                resource_logs: vec![wire::ResourceLogs {
                    resource: Some(resource.clone()),
                    scope_logs: vec![wire::ScopeLogs { log_records }],
                }],
            }
            .encode_to_vec()
        })
        .collect()
}

struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        Daemon::launch(BIN, dir, None, None)
    }

    fn start_bin(bin: &str, dir: &Path) -> Daemon {
        Daemon::launch(bin, dir, None, None)
    }

    /// This build pushing to `push_url` (none: no push).
    fn start_push(dir: &Path, push_url: Option<&str>) -> Daemon {
        Daemon::launch(BIN, dir, None, push_url)
    }

    /// This build with its HTTP API (OTLP/HTTP included) on a free loopback
    /// port, returned; OTLP/gRPC off.
    fn start_http(dir: &Path) -> (Daemon, SocketAddr) {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let daemon = Daemon::launch(BIN, dir, Some(addr), None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "the HTTP API did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        (daemon, addr)
    }

    fn launch(bin: &str, dir: &Path, http: Option<SocketAddr>, push_url: Option<&str>) -> Daemon {
        let socket = dir.join("hm.sock");
        let mut command = Command::new(bin);
        if let Some(url) = push_url {
            command.env("HOOKMETER_PUSH_URL", url);
        }
        let child = command
            .arg("serve")
            .env("HOME", dir)
            .env("HOOKMETER_CONFIG", dir.join("none.toml"))
            .env("TELEMETRY_DB_PATH", dir.join("telemetry.db"))
            .env("HOOKMETER_SOCKET", &socket)
            .env("HOOKMETER_SPOOL", dir.join("spool"))
            .env("RUST_LOG", "warn")
            .env(
                "HOOKMETER_HTTP",
                http.map_or("off".to_string(), |a| a.to_string()),
            )
            .env("HOOKMETER_OTLP_GRPC", "off")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn daemon");
        let deadline = Instant::now() + Duration::from_secs(30);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Daemon { child, socket }
    }

    /// (VmRSS, VmHWM) in KiB.
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Daemon {
    /// CPU seconds spent so far, per thread name (writer vs runtime workers).
    fn cpu_by_thread(&self) -> Vec<(String, f64)> {
        let ticks = 100.0; // USER_HZ on Linux
        let mut by_name: Vec<(String, f64)> = Vec::new();
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).unwrap();
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = stat[open + 1..close].to_string();
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            let cpu = (fields[11].parse::<f64>().unwrap_or(0.0)
                + fields[12].parse::<f64>().unwrap_or(0.0))
                / ticks;
            match by_name.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 += cpu,
                None => by_name.push((name, cpu)),
            }
        }
        by_name
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Pipelines `lines` over `connections` sockets; returns events/s until the last ack.
fn socket_throughput(socket: &Path, run: &str, events: usize, connections: usize) -> f64 {
    let per = events / connections;
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|c| {
            let socket = socket.to_path_buf();
            let run = format!("{run}-c{c}");
            std::thread::spawn(move || {
                let stream = UnixStream::connect(&socket).unwrap();
                let reader = BufReader::new(stream.try_clone().unwrap());
                let writer = std::thread::spawn(move || {
                    let mut out = BufWriter::with_capacity(1 << 16, stream);
                    for i in 0..per {
                        out.write_all(payload(&run, i).as_bytes()).unwrap();
                        out.write_all(b"\n").unwrap();
                    }
                    out.flush().unwrap();
                });
                let ok = reader
                    .lines()
                    .take(per)
                    .filter(|line| line.as_ref().unwrap().contains("\"ok\":true"))
                    .count();
                writer.join().unwrap();
                ok
            })
        })
        .collect();
    let acked: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(acked, per * connections, "every event acked");
    acked as f64 / started.elapsed().as_secs_f64()
}

/// POSTs one protobuf export to /v1/logs on a keep-alive connection and
/// reads the whole answer; returns its status.
fn post_export(conn: &mut BufReader<TcpStream>, host: &str, body: &[u8]) -> u16 {
    let head = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = conn.get_mut();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        conn.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut answer = vec![0; length];
    conn.read_exact(&mut answer).unwrap();
    status
}

/// Sends `exports` over `connections` keep-alive connections, each export
/// after the previous one's 200; returns records/s until the last answer.
fn otlp_throughput(
    addr: SocketAddr,
    exports: Vec<Vec<u8>>,
    records: usize,
    connections: usize,
) -> f64 {
    let mut shares: Vec<Vec<Vec<u8>>> = (0..connections).map(|_| Vec::new()).collect();
    for (n, export) in exports.into_iter().enumerate() {
        shares[n % connections].push(export);
    }
    let host = addr.to_string();
    let started = Instant::now();
    let workers: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let host = host.clone();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut conn = BufReader::new(stream);
                for body in &share {
                    assert_eq!(
                        post_export(&mut conn, &host, body),
                        200,
                        "an export refused"
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    records as f64 / started.elapsed().as_secs_f64()
}

/// The ceiling: the same rows inserted by plain rusqlite in one transaction,
/// into `<name>.db` (a new database with hookmeter's schema).
fn ceiling(dir: &Path, name: &str, events: usize) -> f64 {
    let mut conn = hookmeter::store::open_writer(
        &dir.join(format!("{name}.db")),
        hookmeter::config::Durability::Normal,
    )
    .unwrap();
    let started = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut hook = tx
            .prepare(
                "INSERT INTO hook_events (hook_event_id, received_at, timestamp, event_name, session_id,
                 tool_name, agent_id, model, source, records, payload_json)
                 VALUES (?1, ?2, ?2, 'PostToolUse', ?3, 'Bash', ?4, 'claude-sonnet-4-5-20250929', 'hook', 1, ?5)",
            )
            .unwrap();
        let mut cost = tx
            .prepare(
                "INSERT INTO cost_records (timestamp, session_id, agent_id, project, provider, model,
                 input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated_cost_usd,
                 pricing_source, tool_name, hook_event_id, source)
                 VALUES (?1, ?2, ?3, ?4, 'anthropic', 'claude-sonnet-4-5-20250929', ?5, ?6, ?7, ?8, ?9,
                 'embedded', 'Bash', ?10, 'hook')",
            )
            .unwrap();
        for i in 0..events {
            let body = payload("ceiling", i);
            let id = format!("bench-{name}-{}:toolu_{i:08}:PostToolUse", i / 50);
            let ts = "2026-11-23T10:00:00.000Z";
            let session = format!("bench-{name}-{}", i / 50);
            let agent = format!("agent-{}", i % 5);
            hook.execute(rusqlite::params![id, ts, session, agent, body])
                .unwrap();
            cost.execute(rusqlite::params![
                ts,
                session,
                agent,
                format!("project-{}", i % 7),
                (3 + i % 100) as i64,
                (50 + i % 900) as i64,
                (20_000 + i % 5000) as i64,
                (i % 3000) as i64,
                0.01,
                id
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    events as f64 / started.elapsed().as_secs_f64()
}

/// (d): events/s over 1 connection, this build against `baseline`, each
/// on a fresh database and a freshly started daemon, `rounds` times,
/// alternating which goes first. Returns (this build, baseline).
fn rollup_rates(dir: &Path, baseline: &str, events: usize, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut now, mut before) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut order = [(BIN, true), (baseline, false)];
        if round % 2 == 0 {
            order.reverse();
        }
        for (bin, current) in order {
            let d = dir.join(format!("rollup-{current}-{round}"));
            std::fs::create_dir_all(&d).unwrap();
            let daemon = Daemon::start_bin(bin, &d);
            let rate = socket_throughput(&daemon.socket, "rollup", events, 1);
            drop(daemon);
            if current {
                // The rollup followed every record this build stored.
                let conn = rusqlite::Connection::open(d.join("telemetry.db")).unwrap();
                let (records, rolled): (i64, f64) = conn
                    .query_row(
                        "SELECT (SELECT count(*) FROM cost_records),
                                (SELECT total(records) FROM cost_rollup_hourly)",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!((records, rolled as i64), (events as i64, events as i64));
                now.push(rate);
            } else {
                before.push(rate);
            }
        }
    }
    (now, before)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Wall time of `runs` spawns of `cmd` fed `stdin`, sorted (ms).
fn spawn_latencies(runs: usize, stdin: &[u8], mut cmd: impl FnMut() -> Command) -> Vec<f64> {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let mut child = cmd()
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(stdin).unwrap();
            let status = child.wait().unwrap();
            assert!(status.success());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// (f): events/s with the push off and on, alternating, each run on a
/// fresh database.
fn push_rates(dir: &Path, url: &str, events: usize, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut order = [true, false];
        if round % 2 == 1 {
            order.reverse();
        }
        for pushing in order {
            let d = dir.join(format!("push-{pushing}-{round}"));
            std::fs::create_dir_all(&d).unwrap();
            let daemon = Daemon::start_push(&d, pushing.then_some(url));
            let rate = socket_throughput(&daemon.socket, &format!("push{round}"), events, 1);
            drop(daemon);
            if pushing {
                // Whatever the daemon had not pushed yet goes now: the run's
                // records all reach the server.
                let status = Command::new(BIN)
                    .args(["push", "--once"])
                    .env("HOME", &d)
                    .env("HOOKMETER_CONFIG", d.join("none.toml"))
                    .env("TELEMETRY_DB_PATH", d.join("telemetry.db"))
                    .env("HOOKMETER_PUSH_URL", url)
                    .status()
                    .expect("hookmeter push --once");
                assert!(status.success(), "push --once after round {round}");
                on.push(rate);
            } else {
                off.push(rate);
            }
            std::fs::remove_dir_all(&d).unwrap();
        }
    }
    (on, off)
}

/// An alternating comparison's table under `header`: each round's rates
/// (`on` against `off`) and their means, against the ≥ 90 % target.
fn print_rounds(header: &str, on: &[f64], off: &[f64]) {
    println!("{header}");
    println!("|---|---|---|---|");
    for (round, (with, without)) in on.iter().zip(off).enumerate() {
        println!(
            "| socket ingest, round {} | {without:.0} | {with:.0} | {:.1} % |",
            round + 1,
            100.0 * with / without
        );
    }
    let (with, without) = (mean(on), mean(off));
    println!(
        "| socket ingest, mean | {without:.0} | {with:.0} | {:.1} % (target ≥ 90 %) |",
        100.0 * with / without
    );
}

fn main() {
    let events = env_usize("BENCH_EVENTS", 200_000);
    if let Some(url) = std::env::var("BENCH_PUSH_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let rounds = env_usize("BENCH_PUSH_ROUNDS", 3);
        let dir = tempfile::Builder::new().prefix("hmb").tempdir().unwrap();
        let (on, off) = push_rates(dir.path(), &url, events, rounds);
        println!(
            "## Ingest with the push on ({events} events per run, 1 connection, {rounds} rounds, alternating)\n"
        );
        print_rounds(
            "| run | push off (events/s) | push on (events/s) | on ÷ off |",
            &on,
            &off,
        );
        return;
    }
    let sends = env_usize("BENCH_SENDS", 300);
    let rollup_rounds = env_usize("BENCH_ROLLUP_ROUNDS", 2);
    let dir = tempfile::Builder::new().prefix("hmb").tempdir().unwrap();

    let daemon = Daemon::start(dir.path());
    std::thread::sleep(Duration::from_secs(1));
    let (idle_rss, _) = daemon.rss_kib();

    let ceiling_rate = ceiling(dir.path(), "ceiling", events);
    let one = socket_throughput(&daemon.socket, "one", events, 1);
    let eight = socket_throughput(&daemon.socket, "eight", events, 8);
    let (_, peak_rss) = daemon.rss_kib();
    let cpu = daemon.cpu_by_thread();

    let body = payload("send", 1);
    let socket = daemon.socket.clone();
    let send = spawn_latencies(sends, body.as_bytes(), || {
        let mut c = Command::new(BIN);
        c.arg("send")
            .env("HOOKMETER_SOCKET", &socket)
            .env("HOOKMETER_SPOOL", dir.path().join("spool"))
            .env("HOOKMETER_CONFIG", dir.path().join("none.toml"))
            .env("HOOKMETER_SEND_TIMEOUT_MS", "2000");
        c
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/send_baseline.py");
    // The interpreter itself, not a version-manager shim (pyenv's adds ~80 ms
    // of bash per spawn, which would flatter hookmeter).
    let interpreter = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    let interpreter = String::from_utf8(interpreter.stdout)
        .unwrap()
        .trim()
        .to_string();
    let python = spawn_latencies(sends, body.as_bytes(), || {
        let mut c = Command::new(&interpreter);
        c.arg(&script).env("HOOKMETER_SOCKET", &socket);
        c
    });
    let spooled = std::fs::read_dir(dir.path().join("spool"))
        .map(|d| d.flatten().filter(|e| e.path().is_file()).count())
        .unwrap_or(0);
    drop(daemon);

    // (e), on a database of its own, with no other daemon running.
    let batch = env_usize("BENCH_OTLP_BATCH", 512);
    let otlp_dir = dir.path().join("otlp");
    std::fs::create_dir_all(&otlp_dir).unwrap();
    let (daemon, addr) = Daemon::start_http(&otlp_dir);
    let otlp: Vec<(usize, f64)> = [1, 4]
        .into_iter()
        .map(|connections| {
            let exports = otlp_exports(&format!("otlp{connections}"), events, batch);
            (
                connections,
                otlp_throughput(addr, exports, events, connections),
            )
        })
        .collect();
    drop(daemon);
    let stored: i64 = rusqlite::Connection::open(otlp_dir.join("telemetry.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 2 * events as i64, "every OTLP record stored once");

    // (d), with no other daemon running.
    let baseline = std::env::var("HOOKMETER_BASELINE_BIN")
        .ok()
        .filter(|b| !b.is_empty());
    let (on, off) = match &baseline {
        Some(bin) if rollup_rounds > 0 => rollup_rates(dir.path(), bin, events, rollup_rounds),
        _ => (Vec::new(), Vec::new()),
    };

    println!("## Core pipeline ({events} events, {sends} sends)\n");
    println!("| measure | hookmeter | baseline | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| socket ingest, 1 connection (events/s) | {one:.0} | {ceiling_rate:.0} (rusqlite bulk insert, one txn) | {:.0} % of ceiling | ≥ 50,000/s and ≥ 30 % |",
        100.0 * one / ceiling_rate
    );
    println!(
        "| socket ingest, 8 connections (events/s) | {eight:.0} | {ceiling_rate:.0} | {:.0} % of ceiling | ≥ 50,000/s and ≥ 30 % |",
        100.0 * eight / ceiling_rate
    );
    println!(
        "| send, spawn → ack, p50 (ms) | {:.2} | {:.2} (python3 script) | {:.1}× faster | p50 ≤ 3 ms, ≥ 5× |",
        pct(&send, 0.5),
        pct(&python, 0.5),
        pct(&python, 0.5) / pct(&send, 0.5)
    );
    println!(
        "| send, spawn → ack, p95 (ms) | {:.2} | {:.2} | {:.1}× | |",
        pct(&send, 0.95),
        pct(&python, 0.95),
        pct(&python, 0.95) / pct(&send, 0.95)
    );
    println!(
        "| daemon RSS idle (MB) | {:.1} | | | ≤ 15 MB |",
        idle_rss as f64 / 1024.0
    );
    println!(
        "| daemon peak RSS under load (MB) | {:.1} | | | ≤ 60 MB |",
        peak_rss as f64 / 1024.0
    );
    let socket_best = one.max(eight);
    for (connections, rate) in &otlp {
        println!(
            "| OTLP/HTTP protobuf ingest, {connections} connection{}, {batch} records/export, \
             200 after commit (records/s) | {rate:.0} | {socket_best:.0} (socket ingest above, the \
             faster of 1 and 8 connections) | {:.0} % of socket | ≥ 20,000/s and ≥ 50 % |",
            if *connections == 1 { "" } else { "s" },
            100.0 * rate / socket_best
        );
    }
    println!("\nsends that fell back to the spool: {spooled}");
    let cpu: Vec<String> = cpu.iter().map(|(n, s)| format!("{n} {s:.2} s")).collect();
    println!(
        "daemon CPU time by thread after the ingest runs: {}",
        cpu.join(", ")
    );

    if on.is_empty() {
        println!(
            "\n(d) not run: set HOOKMETER_BASELINE_BIN to a build of the core pipeline \
             (bench/run.sh does) and BENCH_ROLLUP_ROUNDS above 0"
        );
        return;
    }
    println!(
        "\n## Keeping the rollup: ingest against the core pipeline's build ({events} events per \
         run, 1 connection, {rollup_rounds} rounds, alternating)\n"
    );
    print_rounds(
        "| run | core pipeline build (events/s) | this build (events/s) | this ÷ core |",
        &on,
        &off,
    );
}
