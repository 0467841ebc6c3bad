//! OpenCode's database followed live, with no hook and no import: the
//! daemon's watch finds `opencode.db` under a temporary
//! `$HOME/.local/share/opencode`, and the tail reads it by rowid while a
//! writer here (WAL mode, as OpenCode keeps it) writes the rows the real
//! OpenCode 1.18.33 wrote (tests/fixtures/opencode/real), the way it writes
//! them: an assistant step inserted when it starts, with zero tokens and no
//! `time.completed`, and rewritten once when it ends.

use rusqlite::Connection;
use serde_json::Value;

use crate::common::*;
use crate::opencode::{assert_ledger, data_dir, import, ledger, rebuild, stored};

/// A captured scenario's `message` and `part` rows, in rowid order, and an
/// empty database with its schema (WAL mode) at the data directory.
struct Replay {
    messages: Vec<(String, String, i64, i64, String)>,
    parts: Vec<(String, String, String, i64, i64, String)>,
    db: Connection,
}

fn replay(home: &Home, scenario: &str) -> Replay {
    let scratch = rebuild(scenario, &home.path().join("scratch.db"), false);
    let messages = scratch
        .prepare(
            "SELECT id, session_id, time_created, time_updated, data FROM message ORDER BY rowid",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let parts = scratch
        .prepare(
            "SELECT id, message_id, session_id, time_created, time_updated, data FROM part
             ORDER BY rowid",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let db = rebuild(scenario, &data_dir(home).join("opencode.db"), true);
    db.execute_batch("DELETE FROM part; DELETE FROM message;")
        .unwrap();
    Replay {
        messages,
        parts,
        db,
    }
}

impl Replay {
    /// Message `i` as OpenCode inserts it: an assistant step at its start.
    fn start(&self, i: usize) -> bool {
        let (id, session, created, updated, data) = &self.messages[i];
        let mut row: Value = serde_json::from_str(data).unwrap();
        let step = row["role"] == "assistant";
        if step {
            row["tokens"] = serde_json::json!(
                {"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}});
            row["cost"] = 0.into();
            row["time"].as_object_mut().unwrap().remove("completed");
        }
        self.db
            .execute(
                "INSERT INTO message (id, session_id, time_created, time_updated, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![id, session, created, updated - 1, row.to_string()],
            )
            .unwrap();
        step
    }

    /// Message `i`'s parts, then its final row: the step ends.
    fn finish(&self, i: usize) {
        let (id, _, _, updated, data) = &self.messages[i];
        for (part, message, session, created, part_updated, part_data) in &self.parts {
            if message == id {
                self.db
                    .execute(
                        "INSERT INTO part (id, message_id, session_id, time_created, time_updated, data)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        rusqlite::params![part, message, session, created, part_updated, part_data],
                    )
                    .unwrap();
            }
        }
        self.db
            .execute(
                "UPDATE message SET data = ?1, time_updated = ?2 WHERE id = ?3",
                rusqlite::params![data, updated, id],
            )
            .unwrap();
    }
}

fn records(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM cost_records")
}

/// Rows the daemon has read (a step read unfinished and again finished
/// counts twice).
const ROWS_READ: &str = "hookmeter_transcript_lines_total";
const READS_DONE: &str = "hookmeter_transcript_opencode_reads_total{outcome=\"done\"}";
const READS_BUSY: &str = "hookmeter_transcript_opencode_reads_total{outcome=\"busy\"}";

#[test]
fn steps_written_while_the_daemon_runs_are_recorded_once_each_when_they_end() {
    let home = Home::new();
    let replay = replay(&home, "chat-tool");
    let billed = ledger("chat-tool");
    let daemon = home.start();
    wait_for_metric(&daemon, READS_DONE, |n| n >= 1.0);

    let mut read = 0.0;
    let mut steps = 0;
    for i in 0..replay.messages.len() {
        let step = replay.start(i);
        // The daemon sees the row unfinished: no record yet.
        read += 1.0;
        wait_for_metric(&daemon, ROWS_READ, |n| n >= read);
        assert_eq!(records(&home), steps, "an unfinished step is no record");
        replay.finish(i);
        if step {
            steps += 1;
            read += 1.0;
            wait_until(
                "the finished step's record",
                || records(&home) == steps,
                || daemon.log_text(),
            );
        }
    }
    assert_eq!(steps as usize, billed.len());
    assert_ledger(&stored(&home), &billed, "chat-tool, live");
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE source = 'transcript'"),
        steps
    );
    wait_for_metric(&daemon, "hookmeter_watch_files_found_total", |n| n == 1.0);
    assert_eq!(daemon.stop().code(), Some(0));

    // A restart reads on from the stored cursor: nothing new, nothing again.
    let daemon = home.start();
    wait_for_metric(&daemon, READS_DONE, |n| n >= 1.0);
    wait_for_metric(&daemon, ROWS_READ, |n| n == 0.0);
    assert_eq!(records(&home), steps);
    assert_eq!(daemon.stop().code(), Some(0));

    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("0 added, 0 updated, {steps} already stored")),
        "{out}"
    );

    // doctor finds the database and the daemon's cursor at its last row.
    let out = home.command().args(["doctor", "--json"]).output().unwrap();
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let opencode = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "opencode")
        .unwrap();
    assert_eq!(opencode["status"], "ok", "{opencode}");
    let finding = opencode["finding"].as_str().unwrap();
    assert!(
        finding.contains("opencode.db: read to its last row"),
        "{finding}"
    );
}

/// The daemon stops while a step is unfinished; the step ends while it is
/// down. The stored cursor stands before that step, so the next start
/// reads it again and records it.
#[test]
fn a_step_that_ends_while_the_daemon_is_down_is_recorded_at_the_next_start() {
    let home = Home::new();
    let replay = replay(&home, "chat-continue");
    let billed = ledger("chat-continue");
    let last = replay
        .messages
        .iter()
        .rposition(|m| m.4.contains("\"assistant\""))
        .unwrap();
    let daemon = home.start();
    for i in 0..last {
        replay.start(i);
        replay.finish(i);
    }
    replay.start(last);
    let earlier = billed.len() as i64 - 1;
    wait_until(
        "the steps before the last",
        || records(&home) == earlier,
        || daemon.log_text(),
    );
    wait_for_metric(&daemon, ROWS_READ, |n| n >= (last + 1) as f64);
    assert_eq!(daemon.stop().code(), Some(0));

    replay.finish(last);
    for i in last + 1..replay.messages.len() {
        replay.start(i);
        replay.finish(i);
    }
    let daemon = home.start();
    wait_until(
        "the step that ended while down",
        || records(&home) == billed.len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(&stored(&home), &billed, "chat-continue, across a restart");
    assert_eq!(daemon.stop().code(), Some(0));
}

/// A writer holding the database locked (an exclusive transaction in
/// rollback mode) makes the daemon's reads busy: counted, never waited on
/// for long, and the records arrive once the lock is gone.
#[test]
fn a_locked_database_is_counted_busy_and_read_once_the_lock_is_gone() {
    let home = Home::new();
    let locked = rebuild("chat-text", &data_dir(&home).join("opencode.db"), false);
    locked
        .execute_batch("BEGIN EXCLUSIVE; UPDATE session SET title = 'busy';")
        .unwrap();
    let daemon = home.start();
    wait_for_metric(&daemon, READS_BUSY, |n| n >= 2.0);
    assert_eq!(records(&home), 0);
    locked.execute_batch("COMMIT").unwrap();
    wait_until(
        "the records after the lock",
        || records(&home) == ledger("chat-text").len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(
        &stored(&home),
        &ledger("chat-text"),
        "chat-text, after a lock",
    );
    assert_eq!(daemon.stop().code(), Some(0));
}
