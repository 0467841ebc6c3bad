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
//!     it), each on a fresh database, alternating, BENCH_ROLLUP_ROUNDS times.
//!
//! Sizes: BENCH_EVENTS (default 200000), BENCH_SENDS (default 300),
//! BENCH_ROLLUP_ROUNDS (default 2; 0 or no baseline binary skips (d)).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hookmeter");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A realistic hook payload with usage (~700 bytes), unique per (run, i).
fn payload(run: &str, i: usize) -> String {
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
        inp = 3 + i % 100,
        out = 50 + i % 900,
        cr = 20_000 + i % 5000,
        cw = i % 3000,
        d = i % 4000,
    )
}

struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        Daemon::start_bin(BIN, dir)
    }

    fn start_bin(bin: &str, dir: &Path) -> Daemon {
        let socket = dir.join("hm.sock");
        let child = Command::new(bin)
            .arg("serve")
            .env("HOME", dir)
            .env("HOOKMETER_CONFIG", dir.join("none.toml"))
            .env("TELEMETRY_DB_PATH", dir.join("telemetry.db"))
            .env("HOOKMETER_SOCKET", &socket)
            .env("HOOKMETER_SPOOL", dir.join("spool"))
            .env("RUST_LOG", "warn")
            .env("HOOKMETER_HTTP", "off")
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

fn main() {
    let events = env_usize("BENCH_EVENTS", 200_000);
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
    println!("| run | core pipeline build (events/s) | this build (events/s) | this ÷ core |");
    println!("|---|---|---|---|");
    for (round, (with, without)) in on.iter().zip(&off).enumerate() {
        println!(
            "| socket ingest, round {} | {without:.0} | {with:.0} | {:.1} % |",
            round + 1,
            100.0 * with / without
        );
    }
    let (with, without) = (mean(&on), mean(&off));
    println!(
        "| socket ingest, mean | {without:.0} | {with:.0} | {:.1} % (target ≥ 90 %) |",
        100.0 * with / without
    );
}
