//! Cost by prompt and by branch: the real Claude Code 2.1.197's transcripts
//! (captured with its OTel export, tests/fixtures/otel) imported, then
//! reported through the binary.

use crate::common;

use common::*;
use serde_json::Value;

/// The `text` capture: one session, two prompts (`-p`, then `--continue`),
/// one request each. The `tools` capture: one prompt, three requests.
const TEXT_PROMPTS: [&str; 2] = [
    "4061bfa5-ff03-45fa-bfad-2881f6d3851f",
    "bfa541b8-1b90-4d39-89f8-1b719207c0fa",
];
const TOOLS_PROMPT: &str = "ba3cc70e-7169-46aa-96e2-25a411ee5ebf";

fn imported() -> Home {
    let home = Home::new();
    let dir = home.path().join(".claude/projects/-home-dev-project");
    std::fs::create_dir_all(&dir).unwrap();
    for scenario in ["text", "tools"] {
        let from = fixtures().join(format!("otel/claude/{scenario}/json/transcript.jsonl"));
        std::fs::copy(from, dir.join(format!("{scenario}.jsonl"))).unwrap();
    }
    succeed(home.command().arg("import"));
    home
}

fn json_of(home: &Home, args: &[&str]) -> Value {
    let text = succeed(home.command().args(args));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// (key, records, cost) of each group, by key.
fn groups(report: &Value) -> Vec<(Option<String>, i64, f64)> {
    let mut out: Vec<_> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().map(str::to_owned),
                g["records"].as_i64().unwrap(),
                g["cost_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// (records, cost) of the stored records matching `condition`.
fn sql(home: &Home, condition: &str) -> (i64, f64) {
    home.db()
        .query_row(
            &format!(
                "SELECT count(*), total(estimated_cost_usd) FROM cost_records WHERE {condition}"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn each_request_is_reported_under_the_prompt_it_answers() {
    let home = imported();
    let report = json_of(
        &home,
        &["report", "--json", "--by", "prompt", "--period", "all"],
    );
    let got = groups(&report);
    let mut want: Vec<(Option<String>, i64)> = vec![
        (Some(TEXT_PROMPTS[0].to_owned()), 1),
        (Some(TEXT_PROMPTS[1].to_owned()), 1),
        (Some(TOOLS_PROMPT.to_owned()), 3),
    ];
    want.sort();
    let keys: Vec<(Option<String>, i64)> = got.iter().map(|g| (g.0.clone(), g.1)).collect();
    assert_eq!(keys, want, "{report}");
    for (key, _, cost) in &got {
        let key = key.as_deref().unwrap();
        let (_, want_cost) = sql(&home, &format!("prompt_id = '{key}'"));
        assert_cost(*cost, want_cost, key);
    }
}

#[test]
fn the_branch_is_the_transcripts_git_branch() {
    let home = imported();
    let report = json_of(
        &home,
        &["report", "--json", "--by", "branch", "--period", "all"],
    );
    let got = groups(&report);
    assert_eq!(got.len(), 1, "{report}");
    // The capture ran in a repository without commits: Claude Code writes HEAD.
    assert_eq!(got[0].0.as_deref(), Some("HEAD"));
    assert_eq!(got[0].1, 5);
    assert_cost(got[0].2, sql(&home, "1").1, "all records");
}

#[test]
fn a_sessions_prompts_add_up_to_the_session_and_records_without_one_show_as_none() {
    let home = imported();
    let session: String = home
        .db()
        .query_row(
            "SELECT session_id FROM cost_records WHERE prompt_id = ?1",
            [TEXT_PROMPTS[0]],
            |r| r.get(0),
        )
        .unwrap();
    // Two hook payloads with usage in the same session: one names its
    // prompt as Claude Code's hooks do (`prompt_id`), one names none.
    let daemon = home.start();
    let mut client = daemon.connect();
    for (id, prompt) in [("t-1", Some("p-hook")), ("t-2", None)] {
        let mut payload = serde_json::json!({
            "hook_event_name": "PostToolUse", "session_id": session, "agent_id": "brunel",
            "tool_name": "analyze", "tool_use_id": id, "model": "claude-haiku-4-5",
            "timestamp": "2026-12-06T17:00:00.000Z",
            "usage": {"input_tokens": 1200, "output_tokens": 300}
        });
        if let Some(prompt) = prompt {
            payload["prompt_id"] = prompt.into();
        }
        let ack = client.roundtrip(payload.to_string().as_bytes());
        assert_eq!(ack["ok"], true, "{ack}");
    }
    drop(client);
    daemon.stop();
    let detail = json_of(&home, &["sessions", &session, "--json"]);
    let prompts = detail["by_prompt"].as_array().unwrap();
    let ids: Vec<Option<&str>> = prompts.iter().map(|p| p["prompt_id"].as_str()).collect();
    // In the order they were first answered; ties by id, none first.
    assert_eq!(
        ids,
        [
            Some(TEXT_PROMPTS[0]),
            Some(TEXT_PROMPTS[1]),
            None,
            Some("p-hook")
        ],
        "{detail}"
    );
    let records: i64 = prompts.iter().map(|p| p["records"].as_i64().unwrap()).sum();
    let cost: f64 = prompts
        .iter()
        .map(|p| p["cost_usd"].as_f64().unwrap())
        .sum();
    assert_eq!(records, detail["records"].as_i64().unwrap());
    assert_cost(cost, detail["cost_usd"].as_f64().unwrap(), "the session");
    for p in prompts {
        assert!(
            p["first_at"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-12-06T")),
            "{p}"
        );
    }
    let table = succeed(home.command().args(["sessions", &session, "--tz", "UTC"]));
    assert!(table.contains("by prompt"), "{table}");
    assert!(
        table.contains(TEXT_PROMPTS[1]) && table.contains("(none)"),
        "{table}"
    );
    let by_prompt = json_of(
        &home,
        &[
            "report",
            "--json",
            "--by",
            "prompt",
            "--session",
            &session,
            "--period",
            "all",
        ],
    );
    let keys: Vec<Option<String>> = groups(&by_prompt).into_iter().map(|g| g.0).collect();
    assert!(keys.contains(&None), "{by_prompt}");
}
