//! `report --advice` against a database seeded through the real daemon, with
//! data where the right suggestions are known. Expected numbers are worked
//! out here from the price table's rates and the stored records, not taken
//! from the code under test.

use crate::common;

use common::*;
use hookmeter::pricing::{PriceTable, Rates};
use serde_json::{json, Value};

/// Sessions: three uncached Sonnet calls, three cached ones.
const COLD: &str = "s-cold";
const WARM: &str = "s-warm";
/// 25 short Opus outputs: enough for a cheaper model.
const CHATTY: &str = "s-chatty";
const OPUS: &str = "claude-opus-4-6";
const OPUS_CALLS: u64 = 25;
/// The cheaper model the rule picks for Opus: the Sonnet price, one step
/// down; the Sonnet entries tie and the shortest key wins (LiteLLM's
/// legacy name of Sonnet 4, undated).
const EXPECTED_CHEAPER: &str = "claude-4-sonnet";

/// A hook payload with usage, as an agent's hook sends it.
fn payload(
    id: &str,
    session: &str,
    model: &str,
    input: u64,
    cache_read: u64,
    output: u64,
) -> Value {
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": session,
        "agent_id": "claude-code",
        "model": model,
        "cwd": "/w/shop",
        "tool_name": "Bash",
        "timestamp": "2026-09-20T10:00:00Z",
        "usage": {
            "input_tokens": input,
            "output_tokens": output,
            "cache_read_input_tokens": cache_read,
        },
    })
}

/// Tasks sent with `hookmeter send --task ID --label type=TYPE`: bugfix
/// B-4 costs about ten times B-1..B-3; feature has only two tasks.
const TASKS: &[(&str, &str, u64, u64)] = &[
    ("B-1", "bugfix", 1_000, 500),
    ("B-2", "bugfix", 1_000, 500),
    ("B-3", "bugfix", 1_000, 500),
    ("B-4", "bugfix", 20_000, 5_000),
    ("F-1", "feature", 1_000, 500),
    ("F-2", "feature", 50_000, 5_000),
];

/// The seeded home, daemon stopped (readers need none).
fn seeded() -> Home {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let mut events = Vec::new();
    for i in 0..3 {
        events.push(payload(
            &format!("cold-{i}"),
            COLD,
            "claude-sonnet-4-5",
            60_000,
            5_000,
            2_000,
        ));
        events.push(payload(
            &format!("warm-{i}"),
            WARM,
            "claude-sonnet-4-5",
            2_000,
            80_000,
            2_000,
        ));
    }
    for i in 0..OPUS_CALLS {
        events.push(payload(
            &format!("chatty-{i}"),
            CHATTY,
            OPUS,
            3_000 + i,
            20_000,
            120,
        ));
    }
    // Short outputs too, but too few to be a habit.
    for i in 0..10 {
        events.push(payload(
            &format!("codex-{i}"),
            "s-codex",
            "gpt-5",
            1_000,
            0,
            50,
        ));
    }
    for event in &events {
        let ack = client.roundtrip(event.to_string().as_bytes());
        assert_eq!(ack["records"], 1, "{event}: {ack}");
    }
    for (task, kind, input, output) in TASKS {
        let event = payload(
            &format!("task-{task}"),
            "s-tasks",
            "gpt-5",
            *input,
            0,
            *output,
        );
        let out = home.send(
            event.to_string().as_bytes(),
            &["--task", task, "--label", &format!("type={kind}")],
        );
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{task}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stored = home.count("SELECT count(*) FROM cost_records");
    assert_eq!(stored, (events.len() + TASKS.len()) as i64);
    assert!(daemon.stop().success());
    home
}

fn advice_json(home: &Home, extra: &[&str]) -> Value {
    let text = succeed(
        home.command()
            .args(["report", "--advice", "--json", "--period", "all"])
            .args(extra),
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn of_kind<'a>(advice: &'a Value, kind: &str) -> Vec<&'a Value> {
    advice["advice"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .collect()
}

/// The rates the daemon priced with: the built-in table (the test home has
/// no pricing.toml and no COST_PRICING_* variables).
fn rates(model: &str) -> Rates {
    PriceTable::embedded().lookup(model).rates.clone()
}

/// USD of a call without cache writes, written out from the rates.
fn priced(r: &Rates, input: u64, cache_read: u64, output: u64) -> f64 {
    (input as f64 * r.input + cache_read as f64 * r.cache_read + output as f64 * r.output) / 1e6
}

fn assert_relative(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is no number"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(f64::MIN_POSITIVE),
        "{what}: {got} != expected {want}"
    );
}

#[test]
fn advice_names_what_the_seeded_data_was_built_to_show() {
    let home = seeded();
    let advice = advice_json(&home, &[]);
    assert_eq!(advice["period"], json!({"from": null, "to": null}));

    // The uncached session and only it: the cached one, the short ones and
    // the small ones are not flagged.
    let low = of_kind(&advice, "low_cache_read");
    assert_eq!(low.len(), 1, "{advice:#}");
    let cold = low[0];
    assert_eq!(cold["session_id"], COLD);
    assert_eq!(cold["models"], json!(["claude-sonnet-4-5"]));
    assert_eq!(cold["records"], 3);
    assert_eq!(cold["prompt_tokens"], 3 * 65_000);
    assert_relative(&cold["cache_read_ratio"], 5_000.0 / 65_000.0, "ratio");
    let recorded: f64 = home
        .db()
        .query_row(
            "SELECT total(estimated_cost_usd) FROM cost_records WHERE session_id = ?1",
            [COLD],
            |r| r.get(0),
        )
        .unwrap();
    assert_relative(&cold["cost_usd"], recorded, "recorded cost");
    // At 80% cache reads, each 65,000-token prompt reads 52,000 from cache
    // and 13,000 at the input rate.
    let sonnet = rates("claude-sonnet-4-5");
    let list = 3.0 * priced(&sonnet, 60_000, 5_000, 2_000);
    let cached = 3.0 * priced(&sonnet, 13_000, 52_000, 2_000);
    assert_relative(&cold["target_cache_read_ratio"], 0.8, "target");
    assert_relative(&cold["list_cost_usd"], list, "list cost");
    assert_relative(&cold["cost_at_target_usd"], cached, "cost at 80%");
    assert_relative(&cold["saving_usd"], list - cached, "cache saving");

    // Opus with 25 short outputs gets Sonnet; gpt-5's 10 are too few.
    let cheaper = of_kind(&advice, "cheaper_model");
    assert_eq!(cheaper.len(), 1, "{advice:#}");
    let opus = cheaper[0];
    assert_eq!(opus["model"], OPUS);
    assert_eq!(opus["provider"], "anthropic");
    assert_eq!(opus["cheaper_model"], EXPECTED_CHEAPER);
    assert_eq!(opus["short_output_records"], OPUS_CALLS);
    assert_eq!(opus["output_tokens_below"], 300);
    let (own, other) = (rates(OPUS), rates(EXPECTED_CHEAPER));
    let (mut own_cost, mut other_cost) = (0.0, 0.0);
    for i in 0..OPUS_CALLS {
        own_cost += priced(&own, 3_000 + i, 20_000, 120);
        other_cost += priced(&other, 3_000 + i, 20_000, 120);
    }
    assert!(other_cost < own_cost);
    assert_relative(&opus["list_cost_usd"], own_cost, "Opus cost");
    assert_relative(&opus["cheaper_cost_usd"], other_cost, "Sonnet cost");
    assert_relative(&opus["saving_usd"], own_cost - other_cost, "model saving");

    // B-4 against the bugfix average; the other bugfixes are normal and
    // feature has too few tasks to average.
    let task_costs: Vec<(String, f64)> = home
        .db()
        .prepare(
            "SELECT task_id, total(estimated_cost_usd) FROM cost_records
             WHERE task_id LIKE 'B-%' GROUP BY task_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(task_costs.len(), 4);
    let average = task_costs.iter().map(|t| t.1).sum::<f64>() / 4.0;
    let b4 = task_costs.iter().find(|t| t.0 == "B-4").unwrap().1;
    let costly = of_kind(&advice, "costly_task");
    assert_eq!(costly.len(), 1, "{advice:#}");
    let task = costly[0];
    assert_eq!(task["task_id"], "B-4");
    assert_eq!(task["type"], "bugfix");
    assert_eq!(task["type_tasks"], 4);
    assert_relative(&task["cost_usd"], b4, "task cost");
    assert_relative(&task["type_average_cost_usd"], average, "type average");
    assert_relative(&task["ratio"], b4 / average, "task ratio");
    assert!(task["ratio"].as_f64().unwrap() > 2.0);
}

#[test]
fn filters_narrow_the_advice_and_the_text_shows_each_kind() {
    let home = seeded();

    let cold_only = advice_json(&home, &["--session", COLD]);
    let kinds: Vec<&Value> = cold_only["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["kind"])
        .collect();
    assert_eq!(kinds, [&json!("low_cache_read")], "{cold_only:#}");
    let opus_only = advice_json(&home, &["--model", OPUS, "--since", "2026-09-20"]);
    assert_eq!(of_kind(&opus_only, "cheaper_model").len(), 1);
    assert_eq!(opus_only["advice"].as_array().unwrap().len(), 1);
    assert_eq!(opus_only["period"]["to"], Value::Null);
    assert!(opus_only["period"]["from"]
        .as_str()
        .unwrap()
        .starts_with("2026-09-"));
    let later = advice_json(&home, &["--since", "2026-09-21T00:00:00Z"]);
    assert_eq!(later["advice"], json!([]));

    let text = succeed(home.command().args(["report", "--advice", "--tz", "UTC"]));
    for needle in [
        "Sessions with a low cache-read ratio",
        COLD,
        "Models with many short outputs",
        OPUS,
        EXPECTED_CHEAPER,
        "Tasks costing more than",
        "B-4",
        "bugfix",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(!text.contains(WARM), "{text}");
    assert!(!text.contains("nothing to suggest"), "{text}");
}

#[test]
fn no_data_means_nothing_to_suggest() {
    let home = Home::new();
    // An empty database (a missing one is an error: tests/missing_db.rs).
    assert!(home.start().stop().success());
    let text = succeed(
        home.command()
            .args(["report", "--advice", "--period", "all"]),
    );
    assert_eq!(text.matches("nothing to suggest").count(), 3, "{text}");
    let json = advice_json(&home, &[]);
    assert_eq!(json["advice"], json!([]));
}

#[test]
fn csv_and_by_do_not_fit_advice() {
    let home = Home::new();
    for extra in [&["--csv"][..], &["--by", "model"][..]] {
        let out = home
            .command()
            .args(["report", "--advice"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--advice"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
