//! OpenCode through the real binary: `hookmeter import` on databases the
//! real OpenCode 1.18.33 wrote (tests/fixtures/opencode/real, kept as SQL
//! dumps and rebuilt here with rusqlite), checked against the mock API's
//! ledger of what each answer billed; and on databases OpenCode is writing,
//! locked, or that are no database at all.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::Value;

use crate::common::{assert_cost, fixtures, Home};

/// The captured scenarios (tests/fixtures/opencode/real).
const SCENARIOS: [&str; 4] = ["chat-text", "chat-tool", "chat-continue", "anthropic"];

/// One conversation answer as the mock billed it, in hookmeter's terms.
#[derive(Debug)]
pub(crate) struct Billed {
    model: String,
    input: i64,
    cache_read: i64,
    cache_write: i64,
    output: i64,
    reasoning: i64,
    tool: Option<String>,
}

/// USD per token from the facts (LiteLLM's price file): input, cache read,
/// cache write, output.
fn facts_rates(model: &str) -> [f64; 4] {
    let facts: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("litellm-model-prices-2026-08-01.json")).unwrap(),
    )
    .unwrap();
    let m = &facts[model];
    let rate = |k: &str| m[k].as_f64().unwrap_or(0.0);
    [
        rate("input_cost_per_token"),
        rate("cache_read_input_token_cost"),
        rate("cache_creation_input_token_cost"),
        rate("output_cost_per_token"),
    ]
}

impl Billed {
    fn cost(&self) -> f64 {
        let [input, read, write, output] = facts_rates(&self.model);
        self.input as f64 * input
            + self.cache_read as f64 * read
            + self.cache_write as f64 * write
            + self.output as f64 * output
    }
}

/// The conversation answers the mock billed in `scenario`, in order. Its
/// `side` answers (OpenCode's request for a session title) are billed by
/// the API but written nowhere in OpenCode's database: left out.
pub(crate) fn ledger(scenario: &str) -> Vec<Billed> {
    let text =
        std::fs::read_to_string(fixtures().join(format!("opencode/real/{scenario}/ledger.jsonl")))
            .unwrap();
    let mut billed = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["kind"] == "side" {
            continue;
        }
        let u = &v["usage"];
        let n = |k: &str| u[k].as_i64().unwrap_or(0);
        let tool = v["tools"][0].as_str().map(str::to_owned);
        let model = v["model"].as_str().unwrap().to_owned();
        billed.push(match v["api"].as_str().unwrap() {
            // OpenAI semantics: prompt tokens include the cached ones,
            // completion tokens the reasoning.
            "chat" => Billed {
                model,
                input: n("input") - n("cached"),
                cache_read: n("cached"),
                cache_write: 0,
                output: n("output"),
                reasoning: n("reasoning"),
                tool,
            },
            "anthropic" => Billed {
                model,
                input: n("input"),
                cache_read: n("cache_read"),
                cache_write: n("cache_write_5m") + n("cache_write_1h"),
                output: n("output"),
                reasoning: 0,
                tool,
            },
            other => panic!("unknown api {other}"),
        });
    }
    billed
}

/// OpenCode's data directory under `home`, as OpenCode lays it out.
pub(crate) fn data_dir(home: &Home) -> PathBuf {
    home.path().join(".local/share/opencode")
}

/// Rebuilds a captured database at `path` from its dump.
pub(crate) fn rebuild(scenario: &str, path: &Path, wal: bool) -> Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let dump =
        std::fs::read_to_string(fixtures().join(format!("opencode/real/{scenario}/dump.sql")))
            .unwrap();
    let conn = Connection::open(path).unwrap();
    if wal {
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
    }
    conn.execute_batch(&dump).unwrap();
    conn
}

pub(crate) fn import(home: &Home, args: &[&str]) -> (bool, String) {
    let out = home.command().arg("import").args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One stored record, in the order of its timestamp.
#[derive(Debug)]
pub(crate) struct Stored {
    key: String,
    agent: String,
    session: String,
    project: String,
    model: String,
    tokens: (i64, i64, i64, i64, i64),
    cost: f64,
    reported: f64,
    tool: Option<String>,
}

pub(crate) fn stored(home: &Home) -> Vec<Stored> {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT hook_event_id, agent_id, session_id, project, model, input_tokens,
                    cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
                    estimated_cost_usd, reported_cost_usd, tool_name
             FROM cost_records ORDER BY timestamp, hook_event_id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Stored {
            key: r.get(0)?,
            agent: r.get(1)?,
            session: r.get(2)?,
            project: r.get(3)?,
            model: r.get(4)?,
            tokens: (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
            cost: r.get(10)?,
            reported: r.get(11)?,
            tool: r.get(12)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The records of one scenario's database equal its ledger, answer for
/// answer: tokens, cost at the facts' rates, OpenCode's own cost (its
/// config and built-in prices are the facts' too), one session, agent
/// `opencode`, project `project`, the tool on the step that called it.
pub(crate) fn assert_ledger(records: &[Stored], billed: &[Billed], scenario: &str) {
    assert_eq!(records.len(), billed.len(), "{scenario}: {records:#?}");
    for (record, billed) in records.iter().zip(billed) {
        let what = format!("{scenario} {}", record.key);
        assert!(record.key.starts_with("opencode:msg_"), "{what}");
        assert_eq!(record.agent, "opencode", "{what}");
        assert_eq!(record.project, "project", "{what}");
        assert_eq!(record.model, billed.model, "{what}");
        assert_eq!(
            record.tokens,
            (
                billed.input,
                billed.cache_read,
                billed.cache_write,
                billed.output,
                billed.reasoning
            ),
            "{what}"
        );
        assert_cost(record.cost, billed.cost(), &what);
        assert_cost(
            record.reported,
            billed.cost(),
            &format!("{what} (reported)"),
        );
        assert_eq!(record.tool, billed.tool, "{what}");
    }
    let sessions: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.session.as_str()).collect();
    assert_eq!(sessions.len(), 1, "{scenario}: one session, continued");
}

#[test]
fn imported_databases_equal_the_mock_ledger_and_a_second_import_adds_nothing() {
    for scenario in SCENARIOS {
        let home = Home::new();
        rebuild(scenario, &data_dir(&home).join("opencode.db"), true);
        let billed = ledger(scenario);
        assert!(!billed.is_empty(), "{scenario}");

        let (ok, out) = import(&home, &["--agent", "opencode"]);
        assert!(ok, "{scenario}: {out}");
        assert!(
            out.contains(&format!(
                "{} added, 0 updated, 0 already stored",
                billed.len()
            )),
            "{scenario}: {out}"
        );
        assert_ledger(&stored(&home), &billed, scenario);

        let (ok, again) = import(&home, &[]);
        assert!(ok, "{scenario}: {again}");
        assert!(
            again.contains(&format!(
                "0 added, 0 updated, {} already stored",
                billed.len()
            )),
            "{scenario}: {again}"
        );
    }
}

/// The older storage, one JSON file per message, made from the same rows:
/// the same records under the same keys, so a database and its JSON
/// storage read together count each step once.
#[test]
fn the_json_storage_gives_the_same_records_as_the_database() {
    let home = Home::new();
    let scratch = home.path().join("scratch.db");
    let conn = rebuild("chat-tool", &scratch, false);
    let storage = data_dir(&home).join("storage");
    let mut stmt = conn
        .prepare("SELECT id, session_id, data FROM message")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, session, data) in rows {
        let mut message: Value = serde_json::from_str(&data).unwrap();
        message["id"] = id.clone().into();
        message["sessionID"] = session.clone().into();
        let dir = storage.join("message").join(&session);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{id}.json")), message.to_string()).unwrap();
    }
    let mut parts = conn
        .prepare("SELECT id, message_id, data FROM part")
        .unwrap();
    let parts: Vec<(String, String, String)> = parts
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, message, data) in parts {
        let dir = storage.join("part").join(&message);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{id}.json")), data).unwrap();
    }

    let billed = ledger("chat-tool");
    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert_ledger(&stored(&home), &billed, "chat-tool (json storage)");

    rebuild("chat-tool", &data_dir(&home).join("opencode.db"), true);
    let (ok, both) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{both}");
    assert!(both.contains("0 added, 0 updated"), "{both}");
    assert_eq!(home.count("SELECT COUNT(*) FROM cost_records"), 2);
}

/// OpenCode keeps its database in WAL mode and writes it while running: a
/// write in progress neither blocks the import nor is read half-done.
#[test]
fn a_database_being_written_is_read_without_waiting_for_the_writer() {
    let home = Home::new();
    let writer = rebuild("chat-text", &data_dir(&home).join("opencode.db"), true);
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    // A step started but not committed: invisible to a reader.
    writer
        .execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data)
             SELECT 'msg_uncommitted', session_id, time_created, time_updated + 1, data
             FROM message WHERE data LIKE '%\"assistant\"%'",
            [],
        )
        .unwrap();

    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM cost_records"), 1, "{out}");
    writer.execute_batch("COMMIT").unwrap();

    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 added, 0 updated, 1 already stored"),
        "{out}"
    );
}

/// A database locked by a writer (one in rollback mode, mid-write) and a
/// file that is no database are each a file not imported, named with why;
/// the import goes on with the rest and a later one reads what it missed.
#[test]
fn a_locked_database_and_a_garbage_file_are_counted_and_never_fatal() {
    let home = Home::new();
    let locked_path = home.path().join("locked/opencode.db");
    let locked = rebuild("chat-tool", &locked_path, false);
    let garbage = home.path().join("garbage/opencode.db");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(
        &garbage,
        b"SQLite format 2\0 not a database at all".repeat(200),
    )
    .unwrap();
    let good = home.path().join("good/opencode.db");
    rebuild("chat-text", &good, true);

    locked
        .execute_batch("BEGIN EXCLUSIVE; UPDATE session SET title = 'busy';")
        .unwrap();
    let paths = [&locked_path, &garbage, &good].map(|p| p.to_str().unwrap().to_owned());
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (ok, out) = import(&home, &args);
    assert!(!ok, "a file not imported makes the exit status 1: {out}");
    assert!(
        out.contains(&format!("not imported: {}", locked_path.display())),
        "{out}"
    );
    assert!(out.contains("locked"), "{out}");
    assert!(
        out.contains(&format!("not imported: {}", garbage.display())),
        "{out}"
    );
    assert!(out.contains("1 added"), "the good database is read: {out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM cost_records"), 1);

    locked.execute_batch("COMMIT").unwrap();
    let (_, out) = import(&home, &args);
    assert!(
        out.contains("2 added, 0 updated, 1 already stored"),
        "{out}"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM cost_records"), 3);
}

/// A step in progress, as OpenCode 1.18.33 writes it when the step starts
/// (seen in a live run: zero tokens, no `time.completed`, until the step
/// and its tool calls end), is no record; once the row is rewritten
/// finished, the next import takes it, under the same key.
#[test]
fn a_step_in_progress_is_recorded_once_it_is_completed() {
    let home = Home::new();
    let db = rebuild("chat-tool", &data_dir(&home).join("opencode.db"), true);
    let last: (String, String) = db
        .query_row(
            "SELECT id, data FROM message WHERE data LIKE '%\"assistant\"%'
             ORDER BY time_created DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut started: Value = serde_json::from_str(&last.1).unwrap();
    started["tokens"] =
        serde_json::json!({"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}});
    started["cost"] = 0.into();
    started["time"].as_object_mut().unwrap().remove("completed");
    let rewrite = |data: &str| {
        db.execute(
            "UPDATE message SET data = ?1, time_updated = time_updated + 1 WHERE id = ?2",
            [data, &last.0],
        )
        .unwrap();
    };
    rewrite(&started.to_string());

    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 added, 0 updated, 0 already stored"),
        "{out}"
    );

    rewrite(&last.1);
    let (ok, out) = import(&home, &["--agent", "opencode"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 added, 0 updated, 1 already stored"),
        "{out}"
    );
    assert_ledger(
        &stored(&home),
        &ledger("chat-tool"),
        "chat-tool, finished late",
    );
}
