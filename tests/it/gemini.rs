//! Gemini CLI chat logs through the real binary: `hookmeter import` on the
//! logs the real Gemini CLI wrote (tests/fixtures/gemini/real, with the mock
//! API's ledger of what each response billed), on the hand-made older
//! single-JSON form, and on bad ones.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::codex::copy_tree;
use crate::common::{assert_cost, fixtures, Home};

/// The captured scenarios of real Gemini CLI runs.
pub(crate) const SCENARIOS: [&str; 4] = ["text", "thinking", "tool", "resume"];

/// A response as the mock billed it: its `usageMetadata` counts and the
/// cost the harness's ledger worked out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Billed {
    model: String,
    prompt: i64,
    cached: i64,
    candidates: i64,
    thoughts: i64,
    tool: i64,
    cost: f64,
}

pub(crate) fn ledger_of(scenario: &str) -> Vec<Billed> {
    let text =
        std::fs::read_to_string(fixtures().join(format!("gemini/real/{scenario}/ledger.jsonl")))
            .unwrap();
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let n = |k: &str| v[k].as_i64().unwrap();
            Billed {
                model: v["model"].as_str().unwrap().to_owned(),
                prompt: n("prompt_tokens"),
                cached: n("cached_tokens"),
                candidates: n("candidates_tokens"),
                thoughts: n("thoughts_tokens"),
                tool: n("tool_use_prompt_tokens"),
                cost: v["cost_usd"].as_f64().unwrap(),
            }
        })
        .collect()
}

/// A `GEMINI_CLI_HOME` in `home` whose `.gemini/tmp/<scenario>/` holds each
/// scenario's project directory as the CLI left it.
pub(crate) fn gemini_home(home: &Home, scenarios: &[&str]) -> PathBuf {
    let root = home.path().join("gemini-home");
    for scenario in scenarios {
        let to = root.join(".gemini/tmp").join(scenario);
        std::fs::create_dir_all(&to).unwrap();
        copy_tree(
            &fixtures().join(format!("gemini/real/{scenario}/tmp/project")),
            &to,
        );
    }
    root
}

fn import(home: &Home, gemini: &Path, args: &[&str]) -> (bool, String) {
    let out = home
        .command()
        .env("GEMINI_CLI_HOME", gemini)
        .arg("import")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The records of one session, in time order, as the ledger states them.
pub(crate) fn records_of(
    home: &Home,
    session: &str,
) -> Vec<(Billed, String, String, Option<String>)> {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT model, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens,
                    estimated_cost_usd, agent_id, project, tool_name
             FROM cost_records WHERE session_id = ?1 ORDER BY timestamp, id",
        )
        .unwrap();
    stmt.query_map([session], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, f64>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .map(
        |(model, input, cache_read, output, reasoning, cost, agent, project, tool)| {
            (
                // Back to the API's terms: prompt = uncached + cached (the
                // tool-use prompt is billed as input beside it, and the ledger
                // states it apart); thoughts are output's reasoning share.
                Billed {
                    model,
                    prompt: input + cache_read,
                    cached: cache_read,
                    candidates: output - reasoning,
                    thoughts: reasoning,
                    tool: 0,
                    cost,
                },
                agent,
                project,
                tool,
            )
        },
    )
    .collect()
}

/// Each scenario's records equal its ledger, response by response: model,
/// tokens in the API's terms, cost, agent and project.
pub(crate) fn assert_ledger(home: &Home, scenarios: &[&str]) {
    for scenario in scenarios {
        let ledger = ledger_of(scenario);
        let rows = records_of(home, &session_of(scenario));
        assert_eq!(rows.len(), ledger.len(), "{scenario}");
        for ((got, agent, project, _), want) in rows.iter().zip(&ledger) {
            assert_eq!(agent, "gemini-cli");
            assert_eq!(project, "project", "the .project_root's last name");
            assert_eq!(got.model, want.model);
            assert_eq!(
                (got.prompt, got.cached, got.candidates, got.thoughts),
                (
                    want.prompt + want.tool,
                    want.cached,
                    want.candidates,
                    want.thoughts
                ),
                "{scenario}"
            );
            assert_cost(got.cost, want.cost, scenario);
        }
    }
}

/// The session id in a captured scenario's chat log header.
pub(crate) fn session_of(scenario: &str) -> String {
    let chats = fixtures().join(format!("gemini/real/{scenario}/tmp/project/chats"));
    let file = std::fs::read_dir(chats)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(file).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header["sessionId"].as_str().unwrap().to_owned()
}

#[test]
fn imported_chat_logs_equal_the_mock_ledger_and_a_second_import_adds_nothing() {
    let home = Home::new();
    let gemini = gemini_home(&home, &SCENARIOS);
    let total: usize = SCENARIOS.iter().map(|s| ledger_of(s).len()).sum();
    assert_eq!(total, 8, "the captured scenarios billed 8 responses");

    let (ok, out) = import(&home, &gemini, &["--agent", "gemini"]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("{total} added")), "{out}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records"),
        total as i64
    );
    assert_ledger(&home, &SCENARIOS);
    // The tool call is on the message that made it, given by its second write.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records WHERE tool_name = 'run_shell_command'"),
        2
    );
    // The thinking scenario is over gemini-2.5-pro's 200k tier: its ledger
    // cost, matched above, is at the long-context rates.
    // Again: nothing added or changed (the tool message's two writes are
    // two reads of one record, both already stored).
    let (ok, again) = import(&home, &gemini, &[]);
    assert!(ok, "{again}");
    assert!(again.contains("0 added, 0 updated"), "{again}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records"),
        total as i64
    );
    let (ok, named) = import(
        &home,
        &gemini,
        &[gemini.join(".gemini/tmp").to_str().unwrap()],
    );
    assert!(ok, "{named}");
    assert!(named.contains("0 added"), "{named}");
}

#[test]
fn the_older_single_json_form_and_its_resumed_jsonl_copy_count_once() {
    let home = Home::new();
    let root = home.path().join("gemini-home");
    let project = root.join(".gemini/tmp/legacy");
    std::fs::create_dir_all(&project).unwrap();
    copy_tree(&fixtures().join("gemini/legacy/tmp/project"), &project);
    let (ok, out) = import(&home, &root, &["--agent", "gemini"]);
    assert!(ok, "{out}");
    assert!(out.contains("3 added"), "{out}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records WHERE agent_id = 'gemini-cli' AND project = 'legacy-project'"),
        3
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records WHERE model = 'gemini-2.5-flash'"),
        1
    );

    // A resume converts the file to JSONL (`<name>.jsonl`): the header, then
    // every message again. Nothing is added.
    let chats = project.join("chats");
    let legacy: Value = serde_json::from_slice(
        &std::fs::read(chats.join("session-2025-09-01T10-00-5e551011.json")).unwrap(),
    )
    .unwrap();
    let mut jsonl = String::new();
    let mut header = legacy.clone();
    header.as_object_mut().unwrap().remove("messages");
    jsonl.push_str(&format!("{header}\n"));
    for message in legacy["messages"].as_array().unwrap() {
        jsonl.push_str(&format!("{message}\n"));
    }
    std::fs::write(chats.join("session-2025-09-01T10-00-5e551011.jsonl"), jsonl).unwrap();
    let (ok, out) = import(&home, &root, &["--agent", "gemini"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("0 added, 0 updated, 6 already stored"),
        "{out}"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM cost_records"), 3);
}

#[test]
fn a_truncated_log_an_unknown_type_and_a_stray_header_file_are_counted_never_fatal() {
    let home = Home::new();
    let root = home.path().join("gemini-home");
    let chats = root.join(".gemini/tmp/bad/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let header = r#"{"sessionId":"b0000000-0000-4000-8000-000000000001","projectHash":"h","startTime":"2026-01-01T00:00:00.000Z","lastUpdated":"2026-01-01T00:00:00.000Z","kind":"main"}"#;
    let good = r#"{"id":"m1","timestamp":"2026-01-01T00:00:01.000Z","type":"gemini","content":"ok","tokens":{"input":1000,"output":10,"cached":0,"thoughts":0,"tool":0,"total":1010},"model":"gemini-2.5-pro"}"#;
    let unknown =
        r#"{"id":"m2","timestamp":"2026-01-01T00:00:02.000Z","type":"hologram","content":"?"}"#;
    let cut =
        r#"{"id":"m3","timestamp":"2026-01-01T00:00:03.000Z","type":"gemini","tokens":{"input":50"#;
    std::fs::write(
        chats.join("session-2026-01-01T00-00-b0000000.jsonl"),
        format!("{header}\n{good}\n{unknown}\n{cut}"),
    )
    .unwrap();
    // The stray file a resume leaves: a header and nothing else.
    std::fs::write(
        chats.join("session-2026-01-01T00-05-b0000000.jsonl"),
        format!("{header}\n"),
    )
    .unwrap();
    let (ok, out) = import(&home, &root, &["--agent", "gemini"]);
    assert!(ok, "{out}");
    assert!(out.contains("1 added"), "{out}");
    assert!(
        out.contains("Gemini CLI lines: 1 of an unknown type, 0 with token counts refused"),
        "{out}"
    );
    // No directory named `bad` is a project path: the directory's name is.
    assert_eq!(
        home.count(
            "SELECT COUNT(*) FROM cost_records WHERE project = 'bad' AND input_tokens = 1000"
        ),
        1
    );
}
