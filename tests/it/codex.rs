//! Codex rollouts through the real binary: `hookmeter import` on rollouts the
//! real Codex CLI wrote (tests/fixtures/codex/real, with the mock API's
//! ledger of what each response billed) and on hand-made bad ones.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{assert_cost, fixtures, Home};

/// A response as the mock billed it, priced at the facts' rates.
#[derive(Debug)]
pub(crate) struct Billed {
    key: String,
    model: String,
    input: i64,
    cached: i64,
    output: i64,
    reasoning: i64,
}

/// USD per token from the facts (LiteLLM's price file): input, cache read, output.
fn facts_rates(model: &str) -> (f64, f64, f64) {
    let facts: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("litellm-model-prices-2026-08-01.json")).unwrap(),
    )
    .unwrap();
    let m = &facts[model];
    let rate = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("{model}: {k}"));
    (
        rate("input_cost_per_token"),
        rate("cache_read_input_token_cost"),
        rate("output_cost_per_token"),
    )
}

impl Billed {
    /// OpenAI semantics: cached input is part of input and billed at the
    /// cache-read rate; reasoning is part of output.
    fn cost(&self) -> f64 {
        let (input, cache_read, output) = facts_rates(&self.model);
        (self.input - self.cached) as f64 * input
            + self.cached as f64 * cache_read
            + self.output as f64 * output
    }
}

/// The captured scenarios of real Codex runs (tests/fixtures/codex/real).
pub(crate) const SCENARIOS: [&str; 3] = ["text", "shell", "resume"];

/// Every response the mock billed in the captured scenarios.
fn ledger() -> Vec<Billed> {
    ledger_of(&SCENARIOS)
}

/// The responses the mock billed in `scenarios`.
pub(crate) fn ledger_of(scenarios: &[&str]) -> Vec<Billed> {
    let mut billed = Vec::new();
    for scenario in scenarios {
        let text =
            std::fs::read_to_string(fixtures().join(format!("codex/real/{scenario}/ledger.jsonl")))
                .unwrap();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let n = |k: &str| v[k].as_i64().unwrap();
            billed.push(Billed {
                key: format!("codex:{}", v["id"].as_str().unwrap()),
                model: v["model"].as_str().unwrap().to_owned(),
                input: n("input_tokens"),
                cached: n("cached_tokens"),
                output: n("output_tokens"),
                reasoning: n("reasoning_tokens"),
            });
        }
    }
    billed
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A CODEX_HOME in `home` holding the real rollouts in `sessions/`.
fn codex_home(home: &Home) -> PathBuf {
    let codex = home.path().join("codex-home");
    let sessions = codex.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    for scenario in ["text", "shell", "resume"] {
        copy_tree(
            &fixtures().join(format!("codex/real/{scenario}/sessions")),
            &sessions,
        );
    }
    codex
}

/// Each billed response is one cost record of agent `codex`, project
/// `project`, with the mock's model, token counts and cost.
pub(crate) fn assert_ledger(home: &Home, ledger: &[Billed]) {
    let db = home.db();
    for billed in ledger {
        let row: (String, String, String, i64, i64, i64, i64, f64) = db
            .query_row(
                "SELECT agent_id, project, model, input_tokens, cache_read_tokens, output_tokens,
                        reasoning_tokens, estimated_cost_usd
                 FROM cost_records WHERE hook_event_id = ?1",
                [&billed.key],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}", billed.key));
        assert_eq!(row.0, "codex");
        assert_eq!(row.1, "project");
        assert_eq!(row.2, billed.model);
        assert_eq!(
            (row.3, row.4, row.5, row.6),
            (
                billed.input - billed.cached,
                billed.cached,
                billed.output,
                billed.reasoning
            ),
            "{}",
            billed.key
        );
        assert_cost(row.7, billed.cost(), &billed.key);
    }
}

fn import(home: &Home, codex: &Path, args: &[&str]) -> (bool, String) {
    let out = home
        .command()
        .env("CODEX_HOME", codex)
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

#[test]
fn imported_rollouts_equal_the_mock_ledger_and_a_second_import_adds_nothing() {
    let home = Home::new();
    let codex = codex_home(&home);
    let ledger = ledger();
    assert_eq!(ledger.len(), 8, "the captured scenarios billed 8 responses");

    let (ok, out) = import(&home, &codex, &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "{} added, 0 updated, 0 already stored",
            ledger.len()
        )),
        "{out}"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records"),
        ledger.len() as i64
    );
    assert_ledger(&home, &ledger);
    // The fork's one response is its own session's, not the parent's.
    let sessions = home.count("SELECT COUNT(DISTINCT session_id) FROM cost_records");
    assert_eq!(sessions, 4);
    // The shell calls are on the responses that made them.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records WHERE tool_name = 'shell'"),
        2
    );
    // A response's key is its identity: no `api_messages` rows, which
    // reconcile Claude Code's messages across request ids.
    assert_eq!(home.count("SELECT COUNT(*) FROM api_messages"), 0);

    let (ok, again) = import(&home, &codex, &["--agent", "codex"]);
    assert!(ok, "{again}");
    assert!(
        again.contains(&format!(
            "0 added, 0 updated, {} already stored",
            ledger.len()
        )),
        "{again}"
    );
    // Named on the command line, the same files add nothing either.
    let (ok, named) = import(&home, &codex, &[codex.join("sessions").to_str().unwrap()]);
    assert!(ok, "{named}");
    assert!(named.contains("0 added"), "{named}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM cost_records"),
        ledger.len() as i64
    );
}

#[test]
fn bad_rollout_lines_are_counted_and_never_fatal_and_an_archived_session_is_read() {
    let home = Home::new();
    let codex = home.path().join("codex-home");
    let archived = codex.join("archived_sessions");
    std::fs::create_dir_all(&archived).unwrap();
    copy_tree(&fixtures().join("codex/bad/sessions"), &archived);
    let path = fixtures().join(
        "codex/bad/sessions/2026/11/30/rollout-2026-11-30T09-00-00-0190a000-0000-7000-8000-000000000001.jsonl",
    );

    // What the file bills, worked out here from its lines: each token_count
    // whose thread total moved is one response, at its last_token_usage.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut expected = Vec::new();
    let mut last_total = None;
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let info = &v["payload"]["info"];
        if v["payload"]["type"] != "token_count" || !info.is_object() {
            continue;
        }
        let total = info["total_token_usage"]["total_tokens"].clone();
        if last_total.as_ref() == Some(&total) {
            continue;
        }
        last_total = Some(total);
        let last = &info["last_token_usage"];
        let n = |k: &str| last[k].as_i64().unwrap();
        expected.push(Billed {
            key: String::new(),
            model: "gpt-5".into(),
            input: n("input_tokens"),
            cached: n("cached_input_tokens"),
            output: n("output_tokens"),
            reasoning: n("reasoning_output_tokens"),
        });
    }
    assert_eq!(expected.len(), 2);

    let (ok, out) = import(&home, &codex, &["--agent", "codex"]);
    assert!(ok, "{out}");
    assert!(out.contains("2 added"), "{out}");
    assert!(
        out.contains(
            "Codex lines: 1 of an unknown type, 1 token_count without info, 2 repeating the total before"
        ),
        "{out}"
    );
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT input_tokens, cache_read_tokens, output_tokens, reasoning_tokens,
                    estimated_cost_usd, project, model
             FROM cost_records ORDER BY timestamp",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64, i64, f64, String, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(
            (row.0, row.1, row.2, row.3),
            (
                want.input - want.cached,
                want.cached,
                want.output,
                want.reasoning
            )
        );
        assert_cost(row.4, want.cost(), "legacy rollout response");
        assert_eq!((row.5.as_str(), row.6.as_str()), ("legacy-shop", "gpt-5"));
    }

    // The half-written last line is finished later: it counts then, once.
    let copy = archived.join("2026/11/30").join(path.file_name().unwrap());
    let mut grown = text.clone();
    grown.push_str(
        r#"1000,"output_tokens":400,"reasoning_output_tokens":0,"total_tokens":9400},"last_token_usage":{"input_tokens":2000,"cached_input_tokens":1000,"output_tokens":80,"reasoning_output_tokens":0,"total_tokens":2080}}}}"#,
    );
    grown.push('\n');
    std::fs::write(&copy, grown).unwrap();
    let (ok, out) = import(&home, &codex, &["--agent", "codex"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 added, 0 updated, 2 already stored"),
        "{out}"
    );
}
