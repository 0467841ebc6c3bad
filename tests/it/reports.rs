//! The reading commands: `report`, `today`, `sessions`, `tail`, against a
//! database seeded through the real daemon.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

use common::*;
use serde_json::{json, Value};

/// One seeded event: when, who, which model, how many tokens.
struct Seed {
    at: &'static str,
    session: &'static str,
    agent: &'static str,
    model: &'static str,
    task: Option<&'static str>,
    team: Option<&'static str>,
    cwd: &'static str,
    tool: &'static str,
    input: u64,
    output: u64,
}

const SEEDS: &[Seed] = &[
    Seed {
        at: "2026-09-20T08:00:00Z",
        session: "s-a",
        agent: "claude-code",
        model: "claude-sonnet-4-5",
        task: Some("T-1"),
        team: Some("red"),
        cwd: "/w/shop",
        tool: "Read",
        input: 1000,
        output: 200,
    },
    Seed {
        at: "2026-09-20T09:15:00Z",
        session: "s-a",
        agent: "claude-code",
        model: "claude-haiku-4-5",
        task: Some("T-1"),
        team: Some("red"),
        cwd: "/w/shop",
        tool: "Bash",
        input: 5000,
        output: 100,
    },
    // 16:30 UTC is already the 21st in Tokyo (UTC+9).
    Seed {
        at: "2026-09-20T16:30:00Z",
        session: "s-b",
        agent: "codex",
        model: "gpt-5",
        task: None,
        team: Some("blue"),
        cwd: "/w/api",
        tool: "Edit",
        input: 20000,
        output: 3000,
    },
    Seed {
        at: "2026-09-21T10:00:00Z",
        session: "s-b",
        agent: "codex",
        model: "gpt-5",
        task: Some("T-2"),
        team: None,
        cwd: "/w/api",
        tool: "Read",
        input: 800,
        output: 50,
    },
    Seed {
        at: "2026-09-21T23:59:59Z",
        session: "s-a",
        agent: "claude-code",
        model: "claude-sonnet-4-5",
        task: None,
        team: Some("red"),
        cwd: "/w/shop",
        tool: "Read",
        input: 300,
        output: 900,
    },
    Seed {
        at: "2026-09-22T00:00:00Z",
        session: "s-c",
        agent: "claude-code",
        model: "claude-sonnet-4-5",
        task: None,
        team: None,
        cwd: "/w/api",
        tool: "Grep",
        input: 42,
        output: 7,
    },
];

fn envelope(seed: &Seed, n: usize) -> String {
    let mut labels = serde_json::Map::new();
    if let Some(team) = seed.team {
        labels.insert("team".into(), json!(team));
    }
    let mut env = json!({
        "hookmeter": 1,
        "agent_id": seed.agent,
        "labels": labels,
        "payload": {
            "hook_event_name": "PostToolUse",
            "event_id": format!("seed-{n}"),
            "session_id": seed.session,
            "cwd": seed.cwd,
            "tool_name": seed.tool,
            "timestamp": seed.at,
            "model": seed.model,
            "usage": {"input_tokens": seed.input, "output_tokens": seed.output},
        },
    });
    if let Some(task) = seed.task {
        env["task_id"] = json!(task);
    }
    env.to_string()
}

/// A daemon with the seeds stored (and stopped again: readers need no daemon).
fn seeded() -> Home {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (n, seed) in SEEDS.iter().enumerate() {
        let ack = client.roundtrip(envelope(seed, n).as_bytes());
        assert_eq!(ack["ok"], true, "seed {n}: {ack}");
    }
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records"),
        SEEDS.len() as i64
    );
    assert!(daemon.stop().success());
    home
}

fn run(home: &Home, args: &[&str]) -> Output {
    home.command().args(args).output().unwrap()
}

fn stdout_of(home: &Home, args: &[&str]) -> String {
    succeed(home.command().args(args))
}

fn json_of(home: &Home, args: &[&str]) -> Value {
    let text = stdout_of(home, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// (records, cost, input tokens) summed by SQL over the same records.
fn sql_totals(home: &Home, condition: &str) -> (i64, f64, i64) {
    home.db()
        .query_row(
            &format!(
                "SELECT count(*), total(estimated_cost_usd), coalesce(sum(input_tokens), 0)
                 FROM cost_records WHERE {condition}"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

fn assert_totals(report: &Value, want: (i64, f64, i64), what: &str) {
    assert_eq!(report["total_records"], want.0, "{what}: {report}");
    assert_cost(report["total_cost_usd"].as_f64().unwrap(), want.1, what);
    assert_eq!(report["total_input_tokens"], want.2, "{what}");
    // And the groups add up to the totals.
    let groups = report["groups"].as_array().unwrap();
    let records: i64 = groups.iter().map(|g| g["records"].as_i64().unwrap()).sum();
    let cost: f64 = groups.iter().map(|g| g["cost_usd"].as_f64().unwrap()).sum();
    assert_eq!(records, want.0, "{what}: groups");
    assert_cost(cost, want.1, what);
}

#[test]
fn report_totals_equal_the_sum_over_cost_records_for_each_filter() {
    let home = seeded();
    let cases: &[(&[&str], &str)] = &[
        (&["--by", "model"], "1"),
        (&["--by", "agent", "--by", "model"], "1"),
        (&["--by", "label:team"], "1"),
        (&["--by", "tool"], "1"),
        (&["--by", "task"], "1"),
        (
            &["--by", "session", "--agent", "claude-code"],
            "agent_id = 'claude-code'",
        ),
        (&["--by", "provider", "--model", "gpt-5"], "model = 'gpt-5'"),
        (&["--by", "day", "--project", "api"], "project = 'api'"),
        (&["--by", "hour", "--task", "T-1"], "task_id = 'T-1'"),
        (&["--by", "model", "--session", "s-a"], "session_id = 's-a'"),
        (
            &[
                "--by",
                "agent",
                "--since",
                "2026-09-20T09:00:00Z",
                "--until",
                "2026-09-21T10:00:00Z",
            ],
            "timestamp >= '2026-09-20T09:00:00.000Z' AND timestamp < '2026-09-21T10:00:00.000Z'",
        ),
        (
            &[
                "--by",
                "model",
                "--since",
                "2026-09-21",
                "--until",
                "2026-09-21",
                "--tz",
                "UTC",
            ],
            "timestamp >= '2026-09-21' AND timestamp < '2026-09-22'",
        ),
        (&["--period", "all"], "1"),
    ];
    for (args, condition) in cases {
        let mut full = vec!["report", "--json"];
        full.extend_from_slice(args);
        let report = json_of(&home, &full);
        assert_totals(&report, sql_totals(&home, condition), &format!("{args:?}"));
    }
}

#[test]
fn days_are_those_of_the_chosen_time_zone() {
    let home = seeded();
    let days = |tz: &str| -> Vec<(String, i64)> {
        let report = json_of(&home, &["report", "--json", "--by", "day", "--tz", tz]);
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().unwrap().to_string(),
                    g["records"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let day = |d: &str, n: i64| (d.to_string(), n);
    assert_eq!(
        days("UTC"),
        [
            day("2026-09-20", 3),
            day("2026-09-21", 2),
            day("2026-09-22", 1)
        ]
    );
    // Tokyo is UTC+9: 16:30 on the 20th and 23:59:59 on the 21st move a day on.
    assert_eq!(
        days("Asia/Tokyo"),
        [
            day("2026-09-20", 2),
            day("2026-09-21", 2),
            day("2026-09-22", 2)
        ]
    );
    // Kolkata is UTC+5:30: 23:59:59 and 00:00:00 UTC fall on the same local day.
    assert_eq!(
        days("Asia/Kolkata"),
        [
            day("2026-09-20", 3),
            day("2026-09-21", 1),
            day("2026-09-22", 2)
        ]
    );
}

#[test]
fn json_and_csv_outputs_keep_their_shape() {
    let home = seeded();
    let window = [
        "--since",
        "2026-09-20T00:00:00Z",
        "--until",
        "2026-09-23T00:00:00Z",
    ];
    let mut args = vec!["report", "--json", "--by", "agent", "--by", "model"];
    args.extend(window);
    insta::assert_json_snapshot!("report_by_agent_and_model", json_of(&home, &args));
    let mut args = vec!["report", "--csv", "--by", "label:team"];
    args.extend(window);
    insta::assert_snapshot!("report_by_team_csv", stdout_of(&home, &args));
    insta::assert_json_snapshot!(
        "session_s_a",
        json_of(&home, &["sessions", "s-a", "--json"])
    );
    insta::assert_json_snapshot!("sessions", json_of(&home, &["sessions", "--json"]));
}

#[test]
fn the_human_table_shows_each_group_and_the_total() {
    let home = seeded();
    let text = stdout_of(&home, &["report", "--by", "agent", "--tz", "UTC"]);
    for want in ["agent", "claude-code", "codex", "total", "$"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // The total row is set apart by a rule and carries the database's
    // total, with the decimals of its column.
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.last().unwrap();
    assert!(total.starts_with("total "), "{text}");
    assert!(lines[lines.len() - 2].starts_with('─'), "{text}");
    let (_, cost, _) = sql_totals(&home, "1");
    let shown = total.split_whitespace().last().unwrap();
    let decimals = shown.rsplit_once('.').unwrap().1.len();
    let value: f64 = shown
        .trim_start_matches('$')
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(
        (value - cost).abs() <= 0.5 * 10f64.powi(-(decimals as i32)),
        "{shown} for {cost}"
    );
    for row in &lines[3..lines.len() - 2] {
        let cell = row.split_whitespace().last().unwrap();
        assert_eq!(cell.rsplit_once('.').unwrap().1.len(), decimals, "{row}");
    }
}

#[test]
fn today_counts_only_today() {
    let home = seeded();
    let daemon = home.start();
    // No timestamp in the payload: it happened now.
    let now = json!({
        "session_id": "s-now", "model": "claude-haiku-4-5",
        "usage": {"input_tokens": 10, "output_tokens": 5}
    });
    assert_eq!(
        daemon.connect().roundtrip(now.to_string().as_bytes())["ok"],
        true
    );
    let today = json_of(&home, &["today", "--json", "--tz", "UTC"]);
    assert_eq!(today["group_by"], json!(["model"]));
    assert_eq!(today["total_records"], 1, "{today}");
    assert_eq!(today["groups"][0]["key"], "claude-haiku-4-5");
    assert_totals(&today, sql_totals(&home, "session_id = 's-now'"), "today");
}

#[test]
fn sessions_list_and_one_session_by_model_and_tool() {
    let home = seeded();
    let list = json_of(&home, &["sessions", "--json"]);
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s-c", "s-a", "s-b"], "most recently active first");
    let one = json_of(&home, &["sessions", "s-a", "--json"]);
    let (records, cost, _) = sql_totals(&home, "session_id = 's-a'");
    assert_eq!(one["records"], records);
    assert_cost(one["cost_usd"].as_f64().unwrap(), cost, "s-a");
    let keys = |field: &str, name: &str| -> Vec<String> {
        one[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g[name].as_str().unwrap().to_string())
            .collect()
    };
    let mut models = keys("by_model", "model");
    models.sort();
    assert_eq!(models, ["claude-haiku-4-5", "claude-sonnet-4-5"]);
    let mut tools = keys("by_tool", "tool");
    tools.sort();
    assert_eq!(tools, ["Bash", "Read"]);
    // An unknown session is empty, not an error.
    let none = json_of(&home, &["sessions", "nope", "--json"]);
    assert_eq!(none["records"], 0);
    assert_eq!(none["by_model"], json!([]));
    let text = stdout_of(&home, &["sessions", "nope"]);
    assert!(text.contains("no records"), "{text}");
}

#[test]
fn tail_prints_the_latest_and_follows_across_a_restart() {
    let home = seeded();
    let last = stdout_of(&home, &["tail", "-n", "2", "--json"]);
    let ids: Vec<i64> = last
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let max = home.count("SELECT max(id) FROM cost_records");
    assert_eq!(ids, [max - 1, max]);

    let mut follower = home
        .command()
        .args(["tail", "-f", "-n", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    let send_one = |session: &str| {
        let daemon = home.start();
        let event = json!({
            "session_id": session, "model": "gpt-5",
            "usage": {"input_tokens": 1, "output_tokens": 1}
        });
        assert_eq!(
            daemon.connect().roundtrip(event.to_string().as_bytes())["ok"],
            true
        );
        daemon
    };
    let daemon = send_one("s-live-1");
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["session_id"], "s-live-1");
    assert!(daemon.stop().success());
    // A new daemon process on the same database: tail keeps following.
    let daemon = send_one("s-live-2");
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["session_id"], "s-live-2");
    assert!(second["id"].as_i64() > first["id"].as_i64());
    drop(daemon);
    let _ = follower.kill();
    let _ = follower.wait();
}

#[test]
fn bad_values_exit_2_with_one_clear_line() {
    let home = seeded();
    let cases: &[(&[&str], &str)] = &[
        (&["report", "--period", "fortnight"], "fortnight"),
        (&["report", "--by", "color"], "color"),
        (&["report", "--by", "a", "--by", "b", "--by", "c"], "--by"),
        (
            &["report", "--by", "agent", "--by", "model", "--by", "day"],
            "at most two",
        ),
        (&["report", "--tz", "Mars/Olympus"], "Mars/Olympus"),
        (&["report", "--since", "last tuesday"], "last tuesday"),
        (
            &["report", "--since", "2026-09-22", "--until", "2026-09-20"],
            "before it starts",
        ),
        (&["report", "--json", "--csv"], "--csv"),
        (&["report", "--bogus"], "--bogus"),
    ];
    for (args, fragment) in cases {
        let out = run(&home, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(fragment), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn reprice_applies_the_prices_in_force_and_dry_run_writes_nothing() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let events = [
        json!({"session_id": "s-r", "model": "claude-sonnet-4-5", "timestamp": "2026-09-20T08:00:00Z",
               "usage": {"input_tokens": 100000, "output_tokens": 1000}}),
        // Fast mode: the stored cost carries the model's fast multiplier.
        json!({"type": "assistant", "sessionId": "s-r", "timestamp": "2026-09-20T09:00:00Z",
               "message": {"id": "msg_fast", "model": "claude-opus-4-6",
                           "usage": {"input_tokens": 1000, "output_tokens": 500, "speed": "fast"}}}),
    ];
    for event in &events {
        assert_eq!(client.roundtrip(event.to_string().as_bytes())["ok"], true);
    }
    assert!(daemon.stop().success());
    let cost_of = |model: &str| -> (f64, String) {
        home.db()
            .query_row(
                "SELECT estimated_cost_usd, pricing_source FROM cost_records WHERE model = ?1",
                [model],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let (sonnet, source) = cost_of("claude-sonnet-4-5");
    assert_eq!(source, "embedded");
    let (opus, _) = cost_of("claude-opus-4-6");
    let fast_col = "SELECT count(*) FROM cost_records WHERE fast = 1";
    assert_eq!(home.count(fast_col), 1);

    // Sonnet's input price doubles from the embedded $3 per million.
    let reprice = |args: &[&str]| -> String {
        succeed(
            home.command()
                .env("COST_PRICING_CLAUDE_SONNET_4_5_INPUT", "6")
                .arg("reprice")
                .args(args),
        )
    };
    let dry = reprice(&["--dry-run"]);
    assert!(dry.contains("would change 1 of 2 priced records"), "{dry}");
    // The table of models: the record's cost before and after, and the change.
    let row = dry
        .lines()
        .find(|l| l.starts_with("claude-sonnet-4-5 "))
        .unwrap_or_else(|| panic!("no sonnet row: {dry}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["claude-sonnet-4-5", "1", "$0.32", "$0.62", "+$0.30"],
        "{dry}"
    );
    assert!(dry.contains("nothing was written"), "{dry}");
    assert_eq!(cost_of("claude-sonnet-4-5").0, sonnet, "dry run wrote");

    let done = reprice(&[]);
    assert!(done.contains("changed 1 of 2 priced records"), "{done}");
    let (after, source) = cost_of("claude-sonnet-4-5");
    assert_cost(after, sonnet + 100_000.0 * 3.0 / 1e6, "repriced sonnet");
    assert_eq!(source, "env");
    // The fast record is priced as it was: its fast mode was kept.
    assert_cost(cost_of("claude-opus-4-6").0, opus, "fast opus");
    // Summaries (the rollup) follow.
    let report = json_of(&home, &["report", "--json", "--by", "model"]);
    assert_totals(&report, sql_totals(&home, "1"), "after reprice");
    assert_rollup_matches(&home);
    assert!(reprice(&[]).contains("changed 0 of 2"));
    // --since leaves older records alone.
    let out = home
        .command()
        .args(["reprice", "--since", "2026-09-21", "--dry-run"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("of 0 priced records"));
    // --from is not --since: said so, exit 2, nothing done.
    let out = home
        .command()
        .args(["reprice", "--from", "2026-09-21"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "hookmeter: there is no --from option; did you mean --since?\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn from_and_to_point_to_since_and_until_and_a_bad_zone_is_one_line() {
    let home = seeded();
    let cases: &[(&[&str], &str)] = &[
        (
            &["report", "--from", "2026-09-20"],
            "hookmeter: there is no --from option; did you mean --since?\n",
        ),
        (
            &["report", "--by", "day", "--to", "2026-09-21"],
            "hookmeter: there is no --to option; did you mean --until?\n",
        ),
        (
            &["today", "--tz", "Mars/Base"],
            "hookmeter: --tz: unknown time zone \"Mars/Base\"; give an IANA name such as Europe/Paris or UTC\n",
        ),
        (
            &["tail", "--tz", "Mars/Base"],
            "hookmeter: --tz: unknown time zone \"Mars/Base\"; give an IANA name such as Europe/Paris or UTC\n",
        ),
    ];
    for (args, said) in cases {
        let out = run(&home, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), *said, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// The one range rule (query::FilterSpec): a period must start before it
/// ends. An equal pair is refused as empty, a reversed one as ending
/// before it starts, and a date as --until still includes that day.
#[test]
fn an_empty_or_reversed_period_is_refused() {
    let home = seeded();
    let t = "2026-09-20T10:00:00Z";
    let cases: &[(&[&str], &str)] = &[
        (
            &["report", "--since", t, "--until", t],
            "the period is empty",
        ),
        (
            &["report", "--since", "2026-09-21", "--until", "2026-09-20"],
            "the period is empty",
        ),
        (
            &["report", "--since", "2026-09-22", "--until", "2026-09-20"],
            "before it starts",
        ),
        (
            &["report", "--json", "--since", t, "--until", t],
            "the period is empty",
        ),
    ];
    for (args, fragment) in cases {
        let out = run(&home, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(fragment), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let one_day = run(
        &home,
        &["report", "--since", "2026-09-20", "--until", "2026-09-20"],
    );
    assert_eq!(one_day.status.code(), Some(0));
    let bad_flag = run(&home, &["report", "--until", "someday"]);
    assert!(String::from_utf8_lossy(&bad_flag.stderr).contains("--until: "));
}
