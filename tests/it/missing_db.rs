//! Reading commands pointed at a database that does not exist: one line on
//! stderr naming the path and what chose it, exit 2, nothing created; an
//! existing database with nothing in it is a true $0.00 (exit 0); `tail -f`
//! says it waits, then follows the database once a daemon creates it.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::{json, Value};

/// Every command that only reads the database (or reprices what is in it).
const READING: &[&[&str]] = &[
    &["today"],
    &["today", "--json"],
    &["report"],
    &["report", "--by", "model", "--csv"],
    &["report", "--advice"],
    &["sessions"],
    &["sessions", "s-1"],
    &["tail"],
    &["budget", "status"],
    &["reprice"],
];

/// Runs each reading command with `cmd`'s setup; each must fail with one
/// line naming `db` and `chosen_by`, print nothing on stdout, create nothing.
fn assert_refused(mut cmd: impl FnMut() -> Command, db: &Path, chosen_by: &str) {
    for args in READING {
        let out = cmd().args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "hookmeter: no database at {} ({chosen_by}",
                db.display()
            )),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("`hookmeter serve` creates it"), "{stderr}");
        assert!(!db.exists(), "{args:?} created {}", db.display());
    }
}

#[test]
fn a_missing_database_named_by_flag_env_or_file_is_an_error_naming_it() {
    let home = Home::new();
    let by_flag = home.path().join("no-such-dir/telemetry.db");
    assert_refused(
        || {
            let mut cmd = home.command();
            cmd.arg("--db").arg(&by_flag);
            cmd
        },
        &by_flag,
        "from --db",
    );

    // A misspelt path in the environment.
    let by_env = home.path().join("telemetri.db");
    assert_refused(
        || {
            let mut cmd = home.command();
            cmd.env("TELEMETRY_DB_PATH", &by_env);
            cmd
        },
        &by_env,
        "from TELEMETRY_DB_PATH",
    );

    let by_file = home.path().join("from-config.db");
    home.write_config(&format!("db = {:?}\n", by_file.to_str().unwrap()));
    assert_refused(
        || {
            let mut cmd = home.command();
            cmd.env_remove("TELEMETRY_DB_PATH");
            cmd
        },
        &by_file,
        &format!("from db in {}", home.config_file().display()),
    );

    // A misspelt variable name leaves the default in force: the message
    // says nothing chose the path.
    std::fs::remove_file(home.config_file()).unwrap();
    let default = home.path().join(".local/state/hookmeter/telemetry.db");
    assert_refused(
        || {
            let mut cmd = home.command();
            cmd.env_remove("TELEMETRY_DB_PATH")
                .env("TELEMETRY_DB_PAHT", &by_env);
            cmd
        },
        &default,
        "the default: neither --db, TELEMETRY_DB_PATH nor db in the config file is set",
    );
}

#[test]
fn an_empty_existing_database_reports_zero_and_succeeds() {
    let home = Home::new();
    // The daemon creates the database (schema, no rows) and stops.
    assert!(home.start().stop().success());
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);

    let today = succeed(home.command().args(["today", "--tz", "UTC"]));
    assert!(today.contains("$0.00"), "{today}");
    let report: Value =
        serde_json::from_str(&succeed(home.command().args(["report", "--json"]))).unwrap();
    assert_eq!(report["total_records"], 0);
    assert_eq!(report["total_cost_usd"], json!(0.0));
    assert_eq!(report["groups"], json!([]));
    for args in [
        &["sessions"][..],
        &["tail"],
        &["budget", "status"],
        &["reprice", "--dry-run"],
    ] {
        succeed(home.command().args(args));
    }
}

/// The first line `from` gives, or a failure after PATIENCE (a follower
/// that never prints must fail the test, not hang it).
fn first_line(from: impl std::io::Read + Send + 'static, what: &str) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(from).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("no line from {what}"))
}

/// A child killed when the test ends, however it ends.
struct Follower(Child);

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tail_follow_waits_for_the_database_and_says_so() {
    let home = Home::new();
    let mut follower = Follower(
        home.command()
            .args(["tail", "-f", "-n", "0", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let said = first_line(follower.0.stderr.take().unwrap(), "tail -f's stderr");
    assert_eq!(
        said.trim_end(),
        format!(
            "hookmeter: no database at {} yet (from TELEMETRY_DB_PATH); waiting for it to appear \
             (`hookmeter serve` creates it)",
            home.db_path().display()
        )
    );
    assert!(!home.db_path().exists(), "tail creates nothing");

    // Every record of the database that appears is new to the follower,
    // even with -n 0, however soon after its creation it lands.
    let daemon = home.start();
    let event = json!({
        "session_id": "s-after-wait", "model": "gpt-5",
        "usage": {"input_tokens": 1, "output_tokens": 1}
    });
    assert_eq!(
        daemon.connect().roundtrip(event.to_string().as_bytes())["ok"],
        true
    );
    let line = first_line(follower.0.stdout.take().unwrap(), "tail -f's stdout");
    let first: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(first["session_id"], "s-after-wait");
}
