//! The push to a central PostgreSQL (docs/push.md), against a throwaway
//! cluster each test starts itself with Debian's PostgreSQL binaries
//! (`initdb`, `pg_ctl`) in a temp dir, on a free loopback port, as the
//! `postgres` user when the tests run as root. Without those binaries the
//! tests say so and pass, except under CI, where they must run.

use crate::common;

use std::io::{BufRead, Write};
use std::process::Output;

use common::postgres::*;
use common::*;

/// A home whose config file turns the push on, retrying fast.
fn push_home(url: &str) -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "{HOOKS_ONLY}\n[push]\npostgres = {url:?}\nuser = \"ann\"\nbackoff_min_ms = 20\nbackoff_max_ms = 200\nbatch = 3\n\n[push.labels]\nteam = \"shop\"\n"
    ));
    home
}

fn push(home: &Home, args: &[&str]) -> Output {
    home.command().arg("push").args(args).output().unwrap()
}

/// Every local record as the central table should have it: id, key,
/// output tokens and cost.
fn local_rows(home: &Home) -> Vec<String> {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT id || ' ' || hook_event_id || ' ' || output_tokens || ' ' || printf('%.9f', estimated_cost_usd)
             FROM cost_records ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn central_rows(cluster: &Cluster) -> Vec<String> {
    let text = cluster.sql(
        "SELECT local_id || ' ' || record_key || ' ' || output_tokens || ' ' || to_char(estimated_cost_usd, 'FM0.000000000')
         FROM hookmeter.cost_records ORDER BY local_id",
    );
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn wait_central_equals_local(cluster: &Cluster, home: &Home, daemon: &Daemon) {
    wait_until(
        "the central records to equal the local ones",
        || central_rows(cluster) == local_rows(home),
        || {
            format!(
                "local {:?}\ncentral {:?}\n{}",
                local_rows(home),
                central_rows(cluster),
                daemon.log_text()
            )
        },
    );
}

/// doctor's `push` finding: (status, finding, fix), and the whole output
/// (to check that no password is in it).
fn doctor_push(home: &Home) -> (String, String, String, String) {
    let out = home
        .command()
        .current_dir(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let findings: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let push = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "push")
        .unwrap_or_else(|| panic!("no push check: {text}"));
    let field = |name: &str| push[name].as_str().unwrap_or_default().to_string();
    (field("status"), field("finding"), field("fix"), text)
}

fn event(id: &str, output: u64) -> Vec<u8> {
    serde_json::json!({
        "event_id": id, "session_id": "s", "model": "claude-sonnet-4-5",
        "timestamp": "2026-09-20T10:00:00Z",
        "usage": {"input_tokens": 1000, "output_tokens": output}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn init_twice_is_harmless_and_once_pushes_everything_or_says_why_not() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = push_home(&cluster.url());
    // Before --init: --once fails and says what to do.
    {
        let daemon = home.start_with(|cmd| {
            cmd.env(
                "HOOKMETER_PUSH_URL",
                "postgres://hm@127.0.0.1:1/postgres?sslmode=disable",
            );
        });
        let mut client = daemon.connect();
        for i in 0..5 {
            let ack = client.roundtrip(&event(&format!("e{i}"), 10 + i));
            assert_eq!(ack["ok"], true, "{ack}");
        }
        daemon.stop();
    }
    let out = push(&home, &["--once"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("push --init"), "{err}");
    let (status, finding, fix, text) = doctor_push(&home);
    assert_eq!(status, "fail", "{finding}");
    assert!(fix.contains("push --init"), "{fix}");
    assert!(finding.contains("5 changes pending"), "{finding}");
    assert!(!text.contains(PASSWORD), "{text}");

    for want in ["Created", "up to date"] {
        let out = push(&home, &["--init"]);
        assert!(out.status.success(), "{out:?}");
        assert!(stdout(&out).contains(want), "{}", stdout(&out));
    }
    assert_eq!(
        cluster.sql("SELECT version FROM hookmeter.schema_version"),
        "1"
    );

    let out = push(&home, &["--once"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("Pushed 5 changes"),
        "{}",
        stdout(&out)
    );
    assert_eq!(central_rows(&cluster), local_rows(&home));
    assert_eq!(
        cluster.sql("SELECT DISTINCT user_name || ' ' || labels::text FROM hookmeter.cost_records"),
        "ann {\"team\": \"shop\"}"
    );
    // The views answer from the same rows.
    let local_total: f64 = home
        .db()
        .query_row(
            "SELECT sum(estimated_cost_usd) FROM cost_records",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (records, cost) = {
        let text =
            cluster.sql("SELECT sum(records) || ' ' || sum(cost_usd) FROM hookmeter.daily_spend");
        let (r, c) = text.split_once(' ').unwrap();
        (r.to_string(), c.parse::<f64>().unwrap())
    };
    assert_eq!(records, "5");
    assert_cost(cost, local_total, "daily_spend");
    assert_eq!(
        cluster.sql("SELECT session_id || ' ' || records FROM hookmeter.sessions"),
        "s 5"
    );
    // Nothing pending: pushes nothing, still succeeds.
    let out = push(&home, &["--once"]);
    assert!(stdout(&out).contains("Pushed 0 changes"), "{out:?}");

    let (status, finding, _, text) = doctor_push(&home);
    assert_eq!(status, "ok", "{finding}");
    assert!(
        finding.contains("central schema version 1; 0 changes pending"),
        "{finding}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    let status = stdout(&push(&home, &["--status"]));
    assert!(status.contains("pending      0"), "{status}");
    assert!(status.contains("central schema version 1"), "{status}");
    assert!(!status.contains(PASSWORD), "{status}");
    let config = stdout(&home.command().arg("config").output().unwrap());
    assert!(config.contains("push.postgres"), "{config}");
    assert!(!config.contains(PASSWORD), "{config}");

    // A server that is gone: exit 2 with the reason, and --status says so.
    cluster.stop();
    let out = push(&home, &["--once"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connect"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    let status = stdout(&push(&home, &["--status"]));
    assert!(status.contains("unreachable"), "{status}");
    assert!(status.contains("last error"), "{status}");
    let (status, finding, _, _) = doctor_push(&home);
    assert_eq!(status, "warn", "{finding}");
}

#[test]
fn a_daemon_pushes_live_keeps_the_larger_snapshot_and_catches_up_after_an_outage() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = push_home(&cluster.url());
    assert!(push(&home, &["--init"]).status.success());
    let daemon = home.start();
    let mut client = daemon.connect();
    for i in 0..4 {
        client.roundtrip(&event(&format!("e{i}"), 10));
    }
    wait_central_equals_local(&cluster, &home, &daemon);
    // A larger snapshot of e0 updates the row centrally; a smaller one changes nothing.
    client.roundtrip(&event("e0", 900));
    client.roundtrip(&event("e0", 50));
    wait_central_equals_local(&cluster, &home, &daemon);
    assert_eq!(
        cluster.sql("SELECT output_tokens FROM hookmeter.cost_records WHERE record_key = 'e0'"),
        "900"
    );
    wait_for_metric(&daemon, "hookmeter_push_lag_records", |v| v == 0.0);

    // The server goes away: ingestion goes on, the push waits and retries.
    cluster.stop();
    for i in 4..9 {
        let ack = client.roundtrip(&event(&format!("e{i}"), 20));
        assert_eq!(ack["ok"], true, "{ack}");
    }
    wait_for_metric(
        &daemon,
        "hookmeter_push_errors_total{reason=\"connect\"}",
        |v| v > 0.0,
    );
    cluster.pg_ctl_start();
    wait_central_equals_local(&cluster, &home, &daemon);
    assert_eq!(
        cluster.sql("SELECT count(*) FROM hookmeter.cost_records"),
        "9"
    );
    wait_for_metric(&daemon, "hookmeter_push_lag_records", |v| v == 0.0);
    assert!(common::metric(daemon.http(), "hookmeter_push_records_total").unwrap() >= 10.0);
    let log = daemon.log_text();
    assert!(!log.contains(PASSWORD), "the password in the log:\n{log}");

    // Killed (-9) while it pushes batches of 3: the restarted daemon goes
    // on from its cursor, and nothing arrives twice.
    for i in 9..39 {
        client.roundtrip(&event(&format!("e{i}"), 30));
    }
    daemon.signal(libc::SIGKILL);
    daemon.wait_exit();
    let daemon = home.start();
    wait_central_equals_local(&cluster, &home, &daemon);
    assert_eq!(
        cluster.sql(
            "SELECT count(*) || ' ' || count(DISTINCT record_key) FROM hookmeter.cost_records"
        ),
        "39 39"
    );
    daemon.stop();
}

#[test]
fn under_ingestion_that_never_pauses_the_push_still_sends_every_max_delay() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = push_home(&cluster.url());
    // The push waits for a lull in the writer's commits; a feeder that
    // commits every 20 ms never gives one, so only max_delay lets it through.
    let config = std::fs::read_to_string(home.config_file()).unwrap();
    home.write_config(&config.replace("[push]\n", "[push]\nmax_delay_ms = 300\n"));
    assert!(push(&home, &["--init"]).status.success());
    let daemon = home.start();
    // The first pass (at start, with nothing to send) is over.
    wait_for_metric(&daemon, "hookmeter_push_lag_records", |v| v == 0.0);
    // Lines are written every 10 ms without waiting for their acks (a
    // thread of its own reads those), so commits follow each other closely
    // however long one takes to be acknowledged.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = daemon.connect();
    let acks = std::thread::spawn({
        let reader = client.reader;
        move || reader.lines().map_while(Result::ok).count()
    });
    let feeder = std::thread::spawn({
        let stop = stop.clone();
        let mut stream = client.stream;
        move || {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut line = event(&format!("f{sent}"), 10);
                line.push(b'\n');
                stream.write_all(&line).unwrap();
                sent += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            sent
        }
    });
    wait_until(
        "records pushed while events keep arriving",
        || cluster.sql("SELECT count(*) FROM hookmeter.cost_records") != "0",
        || daemon.log_text(),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = feeder.join().unwrap();
    assert_eq!(acks.join().unwrap(), sent, "every event acked");
    wait_central_equals_local(&cluster, &home, &daemon);
    daemon.stop();
}

#[test]
fn a_wrong_port_is_retried_until_fixed_and_a_deleted_record_is_deleted_centrally() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = push_home(&cluster.url());
    assert!(push(&home, &["--init"]).status.success());
    // The wrong port first (the environment wins over the file).
    let wrong = format!(
        "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        free_port()
    );
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_PUSH_URL", &wrong);
    });
    let capture = fixtures().join("otel/codex/text/json");
    let body = std::fs::read(capture.join("002-logs.json")).unwrap();
    let answer = http_request(
        daemon.http(),
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    wait_for_metric(
        &daemon,
        "hookmeter_push_errors_total{reason=\"connect\"}",
        |v| v > 0.0,
    );
    assert_eq!(
        cluster.sql("SELECT count(*) FROM hookmeter.cost_records"),
        "0"
    );
    let log = daemon.log_text();
    assert!(!log.contains(PASSWORD), "the password in the log:\n{log}");
    daemon.stop();
    // Fixed: the file's URL; everything arrives.
    let daemon = home.start();
    wait_central_equals_local(&cluster, &home, &daemon);
    let otel = home.count("SELECT count(*) FROM cost_records WHERE source = 'otel'");
    assert!(otel > 0);
    // The session's own log replaces the event records: deleted here,
    // so deleted centrally.
    let copy = home
        .path()
        .join("logs/sessions/rollout-2026-12-06T16-24-39-capture.jsonl");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(capture.join("rollout.jsonl"), &copy).unwrap();
    succeed(home.command().arg("import").arg(&copy));
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE source = 'otel'"),
        0
    );
    wait_central_equals_local(&cluster, &home, &daemon);
    assert_eq!(
        cluster.sql("SELECT count(*) FROM hookmeter.cost_records WHERE source = 'otel'"),
        "0"
    );
    assert_eq!(
        home.count("SELECT count(*) FROM record_tombstones"),
        0,
        "pushed tombstones are dropped"
    );
    daemon.stop();
}

#[test]
fn tls_require_verify_ca_and_verify_full_connect_and_a_wrong_name_or_no_tls_is_refused() {
    let Some(cluster) = Cluster::start_with(true) else {
        return;
    };
    let home = push_home(&cluster.url());
    let ca = cluster.dir.path().join("ca.pem");
    let url = |host: &str, mode: &str| {
        format!(
            "postgres://{USER}:{PASSWORD}@{host}:{}/postgres?sslmode={mode}&sslrootcert={}",
            cluster.port,
            ca.display()
        )
    };
    let init = |url: &str| {
        home.command()
            .env("HOOKMETER_PUSH_URL", url)
            .args(["push", "--init"])
            .output()
            .unwrap()
    };
    for (host, mode) in [
        ("127.0.0.1", "require"),
        ("127.0.0.1", "prefer"),
        ("127.0.0.1", "verify-ca"),
        ("localhost", "verify-full"),
    ] {
        let out = init(&url(host, mode));
        assert!(out.status.success(), "{host} {mode}: {out:?}");
    }
    // The server takes TCP connections with TLS only.
    let out = init(&url("127.0.0.1", "disable"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no encryption"), "{err}");
    // The certificate names localhost, not 127.0.0.1: verify-full refuses.
    let out = init(&url("127.0.0.1", "verify-full"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    // Records pushed over TLS.
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_PUSH_URL", url("localhost", "verify-full"));
    });
    let mut client = daemon.connect();
    client.roundtrip(&event("t1", 5));
    wait_central_equals_local(&cluster, &home, &daemon);
    daemon.stop();
}

/// Posts the Codex capture's OTel export, then imports the same run's
/// rollout, which replaces the event records (deleting them).
fn replace_event_records(home: &Home, daemon: &Daemon) {
    let capture = fixtures().join("otel/codex/text/json");
    let body = std::fs::read(capture.join("002-logs.json")).unwrap();
    let answer = http_request(
        daemon.http(),
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(home.count("SELECT count(*) FROM cost_records WHERE source = 'otel'") > 0);
    let copy = home
        .path()
        .join("logs/sessions/rollout-2026-12-06T16-24-39-capture.jsonl");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(capture.join("rollout.jsonl"), &copy).unwrap();
    succeed(home.command().arg("import").arg(&copy));
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE source = 'otel'"),
        0
    );
}

#[test]
fn a_database_that_never_pushed_keeps_no_tombstones() {
    // No server needed: the push is off.
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    replace_event_records(&home, &daemon);
    assert_eq!(home.count("SELECT count(*) FROM record_tombstones"), 0);
    assert_eq!(
        home.count("SELECT count(*) FROM meta WHERE key = 'machine_id'"),
        0
    );
    // Every record still has its change number, for a push set up later.
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE rev = 0"),
        0
    );
    daemon.stop();
}
