//! End-to-end benchmark of the core pipeline, everything measured in one run
//! so the ratios compare like with like on a noisy machine:
//!
//! (a) socket ingest throughput, 1 and 8 connections, events with usage,
//!     against the ceiling: a plain rusqlite bulk insert of the same rows
//!     (hook_events + cost_records, same schema) in one transaction;
//! (b) `hookmeter send` end to end (spawn -> ack) against a python3 script
//!     doing the same socket round trip;
//! (c) daemon RSS idle and peak under the load of (a);
//! (d) the cost of the rollup triggers (schema v3): the same 1-connection
//!     load against a database with the three `cost_rollup_*` triggers and
//!     one without them, alternating, BENCH_ROLLUP_ROUNDS times each; and
//!     the ceiling of (a) with and without them.
//!
//! Sizes: BENCH_EVENTS (default 200000), BENCH_SENDS (default 300),
//! BENCH_ROLLUP_ROUNDS (default 2; 0 skips (d)).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hookmeter");

/// The 1-connection ingest rate that BENCHMARKS.md reports for the core
/// pipeline (issue 2), measured before the rollups existed: with them, ingest
/// should be at most 10 % slower. A figure from another run on a shared
/// machine, so (d) also measures both side by side.
const CORE_ISSUE_RATE: f64 = 42_940.0;

/// The triggers that keep `cost_rollup_hourly` (schema.sql).
const ROLLUP_TRIGGERS: [&str; 3] = [
    "cost_rollup_on_insert",
    "cost_rollup_on_update",
    "cost_rollup_on_delete",
];

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
        let socket = dir.join("hm.sock");
        let child = Command::new(BIN)
            .arg("serve")
            .env("HOME", dir)
            .env("HOOKMETER_CONFIG", dir.join("none.toml"))
            .env("TELEMETRY_DB_PATH", dir.join("telemetry.db"))
            .env("HOOKMETER_SOCKET", &socket)
            .env("HOOKMETER_SPOOL", dir.join("spool"))
            .env("RUST_LOG", "warn")
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

/// Drops the rollup triggers from a database the daemon has created. The
/// daemon leaves them dropped: it applies schema.sql only when
/// `PRAGMA user_version` is below its own, and this database is current.
fn drop_rollup_triggers(conn: &rusqlite::Connection) {
    for trigger in ROLLUP_TRIGGERS {
        conn.execute_batch(&format!("DROP TRIGGER {trigger};"))
            .unwrap();
    }
}

/// How many rollup triggers the database has.
fn rollup_triggers(conn: &rusqlite::Connection) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'cost_rollup_%'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// The ceiling: the same rows inserted by plain rusqlite in one transaction,
/// into `<name>.db` (a new database with hookmeter's schema, without the
/// rollup triggers unless `rollups`).
fn ceiling(dir: &Path, name: &str, events: usize, rollups: bool) -> f64 {
    let mut conn = hookmeter::store::open_writer(
        &dir.join(format!("{name}.db")),
        hookmeter::config::Durability::Normal,
    )
    .unwrap();
    if !rollups {
        drop_rollup_triggers(&conn);
    }
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

/// (d): events/s over 1 connection against a database with the rollup
/// triggers and one without, `rounds` times each, alternating which goes
/// first; each run on a freshly started daemon. Returns (with, without).
fn rollup_rates(dir: &Path, events: usize, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    if rounds == 0 {
        return (Vec::new(), Vec::new());
    }
    let with = dir.join("rollups-on");
    let without = dir.join("rollups-off");
    for d in [&with, &without] {
        std::fs::create_dir_all(d).unwrap();
        // The daemon creates the database with the whole schema, then stops.
        drop(Daemon::start(d));
    }
    drop_rollup_triggers(&rusqlite::Connection::open(without.join("telemetry.db")).unwrap());

    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut order = [(&with, true), (&without, false)];
        if round % 2 == 0 {
            order.reverse();
        }
        for (d, rollups) in order {
            let daemon = Daemon::start(d);
            let run = format!("rollups-{rollups}-{round}");
            let rate = socket_throughput(&daemon.socket, &run, events, 1);
            drop(daemon);
            let rates = if rollups { &mut on } else { &mut off };
            rates.push(rate);
        }
    }

    // The rollup followed every insert on one side and none on the other.
    let conn = rusqlite::Connection::open(with.join("telemetry.db")).unwrap();
    let (records, rolled): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM cost_records), (SELECT total(records) FROM cost_rollup_hourly)",
            [],
            |r| Ok((r.get(0)?, r.get::<_, f64>(1)? as i64)),
        )
        .unwrap();
    assert_eq!((records, rolled), ((events * rounds) as i64, records));
    assert_eq!(rollup_triggers(&conn), 3);
    let conn = rusqlite::Connection::open(without.join("telemetry.db")).unwrap();
    let rolled: i64 = conn
        .query_row("SELECT count(*) FROM cost_rollup_hourly", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rolled, 0, "the daemon recreated the rollup triggers");
    assert_eq!(rollup_triggers(&conn), 0);
    (on, off)
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

    let ceiling_rate = ceiling(dir.path(), "ceiling", events, true);
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
    let (on, off) = rollup_rates(dir.path(), events, rollup_rounds);
    let (ceiling_on, ceiling_off) = if rollup_rounds > 0 {
        (
            ceiling(dir.path(), "ceiling-rollups-on", events, true),
            ceiling(dir.path(), "ceiling-rollups-off", events, false),
        )
    } else {
        (0.0, 0.0)
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

    if rollup_rounds == 0 {
        return;
    }
    println!(
        "\n## Rollup triggers: ingest with and without ({events} events per run, 1 connection, \
         {rollup_rounds} rounds, alternating)\n"
    );
    println!("| run | without rollups (events/s) | with rollups (events/s) | with ÷ without |");
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
        "| socket ingest, mean | {without:.0} | {with:.0} | {:.1} % |",
        100.0 * with / without
    );
    println!(
        "| rusqlite bulk insert (ceiling), one txn | {ceiling_off:.0} | {ceiling_on:.0} | {:.1} % |",
        100.0 * ceiling_on / ceiling_off
    );
    println!(
        "\nwith rollups vs without, same run: {:.1} % (target ≥ 90 %); vs the core issue's \
         {CORE_ISSUE_RATE:.0}/s (BENCHMARKS.md, another run): {:.1} %",
        100.0 * with / without,
        100.0 * with / CORE_ISSUE_RATE
    );
}
