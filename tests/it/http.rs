//! The HTTP API (docs/http-api.md) of the real daemon, over a database seeded through
//! the real pipeline (the socket): every answer is checked against the
//! database itself, and the JSON shapes are pinned by snapshots.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::net::SocketAddr;

use common::*;
use serde_json::{json, Value};

/// Records of known shape, at fixed times (long past, so rolling windows
/// ending now never reach them): (id, session, agent, model, project, task,
/// tool, timestamp, input, output, cache read).
#[allow(clippy::type_complexity)]
#[rustfmt::skip]
const SEEDS: &[(
    &str,
    &str,
    &str,
    &str,
    &str,
    Option<&str>,
    &str,
    &str,
    u64,
    u64,
    u64,
)] = &[
    ("seed-1", "s1", "claude-code", "claude-sonnet-4-5", "shop", Some("T-1"), "Bash", "2025-03-10T09:15:00Z", 1200, 300, 5000),
    ("seed-2", "s1", "claude-code", "claude-sonnet-4-5", "shop", Some("T-1"), "Edit", "2025-03-10T09:45:00Z", 800, 150, 9000),
    ("seed-3", "s1", "claude-code", "claude-haiku-4-5", "shop", None, "Read", "2025-03-10T10:05:00Z", 3000, 100, 0),
    ("seed-4", "s2", "codex", "gpt-5", "api", Some("T-2"), "shell", "2025-03-10T23:30:00Z", 2000, 700, 8000),
    ("seed-5", "s2", "codex", "gpt-5", "api", Some("T-2"), "shell", "2025-03-11T01:10:00Z", 500, 50, 0),
    ("seed-6", "s3", "claude-code", "claude-opus-4-6", "api", None, "Bash", "2025-03-11T14:00:00Z", 100, 2000, 20000),
    ("seed-7", "s3", "subagent:explore", "claude-haiku-4-5", "api", None, "Grep", "2025-03-11T14:20:00Z", 4000, 400, 0),
];

fn seed_payload(i: usize) -> Value {
    let (id, session, agent, model, project, task, tool, ts, input, output, cache_read) = SEEDS[i];
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": session,
        "agent_id": agent,
        "model": model,
        "cwd": format!("/home/dev/{project}"),
        "task_id": task,
        "tool_name": tool,
        "timestamp": ts,
        "usage": {
            "input_tokens": input,
            "output_tokens": output,
            "cache_read_input_tokens": cache_read,
        },
    })
}

/// A daemon whose database holds the seeds, sent one by one over the socket.
fn seeded() -> (Home, Daemon, SocketAddr) {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for i in 0..SEEDS.len() {
        let ack = client.roundtrip(seed_payload(i).to_string().as_bytes());
        assert_eq!(ack["ok"], true, "{ack}");
        assert_eq!(ack["records"], 1, "{ack}");
    }
    let addr = daemon.http();
    (home, daemon, addr)
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let response = http_get(addr, path);
    assert_eq!(response.status, 200, "GET {path}: {}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "GET {path}"
    );
    response.json()
}

/// Count, cost, input and output tokens of the records `condition` keeps.
fn db_totals(home: &Home, condition: &str) -> (i64, f64, i64, i64) {
    home.db()
        .query_row(
            &format!(
                "SELECT count(*), total(estimated_cost_usd), coalesce(sum(input_tokens), 0),
                        coalesce(sum(output_tokens), 0)
                 FROM cost_records WHERE {condition}"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

/// The same filter as a query string and as SQL.
const FILTERS: &[(&str, &str)] = &[
    ("", "1"),
    ("agent_id=codex", "agent_id = 'codex'"),
    ("model=claude-haiku-4-5", "model = 'claude-haiku-4-5'"),
    ("session_id=s1", "session_id = 's1'"),
    ("task_id=T-2", "task_id = 'T-2'"),
    ("project=api", "project = 'api'"),
    ("provider=openai", "provider = 'openai'"),
    (
        "agent_id=claude-code&project=api",
        "agent_id = 'claude-code' AND project = 'api'",
    ),
    ("date_from=2025-03-11", "timestamp >= '2025-03-11'"),
    ("date_to=2025-03-10", "timestamp < '2025-03-11'"),
    (
        "date_from=2025-03-10T09:30:00Z&date_to=2025-03-11T01:10:00Z",
        "timestamp >= '2025-03-10T09:30' AND timestamp < '2025-03-11T01:10'",
    ),
    // Midnight in New York is 04:00 UTC in March 2025 (daylight time).
    (
        "date_from=2025-03-11&tz=America/New_York",
        "timestamp >= '2025-03-11T04:00'",
    ),
    ("time_range=all&session_id=s3", "session_id = 's3'"),
    ("agent_id=nobody", "agent_id = 'nobody'"),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Floats rounded to 9 decimals: sums of the same costs added in another
/// order differ in the last bits, which a snapshot must not see.
fn rounded(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let x = (n.as_f64().unwrap() * 1e9).round() / 1e9;
            json!(x)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, rounded(v))).collect())
        }
        other => other,
    }
}

#[test]
fn every_filter_gives_the_records_and_totals_the_database_has() {
    let (home, _daemon, addr) = seeded();
    for (query, condition) in FILTERS {
        let (count, cost, input, output) = db_totals(&home, condition);

        let page = get_json(addr, &format!("/api/costs?{query}&page_size=500"));
        assert_eq!(page["total"], count, "/api/costs?{query}");
        let records = page["records"].as_array().unwrap();
        assert_eq!(records.len() as i64, count, "/api/costs?{query}");
        let listed: f64 = records
            .iter()
            .map(|r| r["estimated_cost_usd"].as_f64().unwrap())
            .sum();
        assert!(
            close(listed, cost),
            "/api/costs?{query}: {listed} != {cost}"
        );
        let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

        let summary = get_json(addr, &format!("/api/costs/summary?{query}"));
        assert_eq!(summary["total_records"], count, "summary?{query}");
        assert!(
            close(summary["total_cost_usd"].as_f64().unwrap(), cost),
            "summary?{query}: {} != {cost}",
            summary["total_cost_usd"]
        );
        assert_eq!(summary["total_input_tokens"], input, "summary?{query}");
        assert_eq!(summary["total_output_tokens"], output, "summary?{query}");
        let grouped: f64 = summary["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["cost_usd"].as_f64().unwrap())
            .sum();
        assert!(close(grouped, cost), "summary?{query}: groups add up");

        let totals = get_json(addr, &format!("/api/summary?{query}"));
        assert_eq!(totals["records"], count, "/api/summary?{query}");
        assert!(close(totals["cost"]["total_usd"].as_f64().unwrap(), cost));
        assert_eq!(totals["tokens"]["input"], input);
    }
}

#[test]
fn pages_split_the_records_newest_first() {
    let (home, _daemon, addr) = seeded();
    let want: Vec<i64> = home
        .db()
        .prepare("SELECT id FROM cost_records ORDER BY id DESC LIMIT 3 OFFSET 3")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let page = get_json(addr, "/api/costs?page=2&page_size=3");
    let got: Vec<i64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        (page["page"].clone(), page["page_size"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(page["total"], SEEDS.len());
    let beyond = get_json(addr, "/api/costs?page=9&page_size=3");
    assert_eq!(beyond["records"], json!([]));
    assert_eq!(beyond["total"], SEEDS.len());

    insta::assert_json_snapshot!(
        "costs_session_s1_page_1",
        rounded(get_json(addr, "/api/costs?session_id=s1&page_size=2"))
    );
}

#[test]
fn summary_groups_equal_the_grouped_database() {
    let (home, _daemon, addr) = seeded();
    let db = home.db();
    for (by, column) in [
        ("agent", "agent_id"),
        ("model", "model"),
        ("provider", "provider"),
        ("project", "project"),
        ("session", "session_id"),
        ("tool", "tool_name"),
        ("task", "task_id"),
        ("prompt", "prompt_id"),
        ("branch", "git_branch"),
        ("day", "substr(timestamp, 1, 10)"),
    ] {
        let want: HashMap<Option<String>, (i64, f64)> = db
            .prepare(&format!(
                "SELECT {column}, count(*), total(estimated_cost_usd) FROM cost_records GROUP BY 1"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let summary = get_json(addr, &format!("/api/costs/summary?group_by={by}"));
        assert_eq!(summary["group_by"], json!([by]));
        let groups = summary["groups"].as_array().unwrap();
        assert_eq!(groups.len(), want.len(), "group_by={by}");
        for g in groups {
            let key = g["key"].as_str().map(str::to_string);
            let (records, cost) = want[&key];
            assert_eq!(g["records"], records, "group_by={by} {key:?}");
            assert!(
                close(g["cost_usd"].as_f64().unwrap(), cost),
                "group_by={by} {key:?}"
            );
            assert_eq!(g["keys"], json!([key]), "one level: keys holds the key");
        }
    }

    // Two levels: both keys, and the pairs of the database.
    let want: HashMap<(String, String), f64> = db
        .prepare(
            "SELECT substr(timestamp, 1, 10), model, total(estimated_cost_usd) FROM cost_records GROUP BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let summary = get_json(addr, "/api/costs/summary?group_by=day,model");
    let groups = summary["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.len());
    for g in groups {
        let keys = (
            g["keys"][0].as_str().unwrap().to_string(),
            g["keys"][1].as_str().unwrap().to_string(),
        );
        assert_eq!(g["key"], format!("{} / {}", keys.0, keys.1));
        assert!(close(g["cost_usd"].as_f64().unwrap(), want[&keys]));
    }
    let days: Vec<&str> = groups
        .iter()
        .map(|g| g["keys"][0].as_str().unwrap())
        .collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "days in time order");
    insta::assert_json_snapshot!("summary_by_day_and_model", rounded(summary));

    // Days of another zone: 23:30 and 01:10 UTC are both the 10th in New York.
    let ny = get_json(
        addr,
        "/api/costs/summary?group_by=day&tz=America/New_York&date_from=2025-03-10&date_to=2025-03-11",
    );
    insta::assert_json_snapshot!("summary_by_day_in_new_york", rounded(ny));
}

/// `active_hours`: the clock hours of the range holding records, as the
/// database counts them, whether the hourly rollup answers (whole hours),
/// the records do (the partial hours at a range's ends) or both.
#[test]
fn summary_counts_the_active_hours_of_its_range() {
    let (home, _daemon, addr) = seeded();
    let hours = |condition: &str| {
        home.count(&format!(
            "SELECT count(DISTINCT substr(timestamp, 1, 13)) FROM cost_records WHERE {condition}"
        ))
    };
    // The seeds' hours: 10th 09h (two records), 10h, 23h; 11th 01h, 14h (two).
    assert_eq!(hours("1"), 5);
    for (query, condition) in [
        ("", "1"),
        ("group_by=model", "1"),
        ("agent_id=claude-code", "agent_id = 'claude-code'"),
        ("session_id=s1", "session_id = 's1'"),
        ("task_id=T-2&group_by=day", "task_id = 'T-2'"),
        // Partial hours at both ends: 09:30 keeps 09:45, 14:10 keeps 14:00.
        (
            "date_from=2025-03-10T09:30:00Z&date_to=2025-03-11T14:10:00Z",
            "timestamp >= '2025-03-10T09:30:00.000Z' AND timestamp < '2025-03-11T14:10:00.000Z'",
        ),
        // Inside one hour, with nothing in it.
        (
            "date_from=2025-03-10T09:50:00Z&date_to=2025-03-10T09:55:00Z",
            "timestamp >= '2025-03-10T09:50:00.000Z' AND timestamp < '2025-03-10T09:55:00.000Z'",
        ),
        ("time_range=24h", "0"),
    ] {
        let summary = get_json(addr, &format!("/api/costs/summary?{query}"));
        assert_eq!(summary["active_hours"], hours(condition), "?{query}");
    }
    let partial = get_json(
        addr,
        "/api/costs/summary?date_from=2025-03-10T09:30:00Z&date_to=2025-03-11T14:10:00Z",
    );
    assert_eq!(partial["active_hours"], 5);
    assert_eq!(
        get_json(addr, "/api/costs/summary?time_range=24h")["active_hours"],
        0
    );
}

#[test]
fn a_rolling_window_keeps_only_what_is_recent() {
    let (home, daemon, addr) = seeded();
    // No timestamp in the payload: it happened when the daemon received it.
    let recent = json!({"hook_event_name": "Tick", "session_id": "now", "model": "gpt-5",
                        "usage": {"input_tokens": 10, "output_tokens": 5}});
    assert_eq!(
        daemon.connect().roundtrip(recent.to_string().as_bytes())["ok"],
        true
    );
    let (_, recent_cost, _, _) = db_totals(&home, "session_id = 'now'");
    let (all, all_cost, _, _) = db_totals(&home, "1");
    for window in ["1h", "24h", "7d", "30d"] {
        let summary = get_json(addr, &format!("/api/costs/summary?time_range={window}"));
        assert_eq!(summary["total_records"], 1, "{window}");
        assert!(close(
            summary["total_cost_usd"].as_f64().unwrap(),
            recent_cost
        ));
        assert!(summary["period"]["from"].is_string() && summary["period"]["to"].is_null());
    }
    let summary = get_json(addr, "/api/costs/summary?time_range=all");
    assert_eq!(summary["total_records"], all);
    assert!(close(summary["total_cost_usd"].as_f64().unwrap(), all_cost));
}

#[test]
fn sessions_list_and_break_down_like_the_database() {
    let (home, _daemon, addr) = seeded();
    let list = get_json(addr, "/api/costs/sessions");
    let sessions = home.count("SELECT count(DISTINCT session_id) FROM cost_records");
    assert_eq!(list["total"], sessions);
    assert_eq!(list["sessions"].as_array().unwrap().len() as i64, sessions);
    let second = get_json(addr, "/api/costs/sessions?page=2&page_size=1");
    assert_eq!(
        second["sessions"][0]["session_id"],
        list["sessions"][1]["session_id"]
    );
    assert_eq!(second["total"], sessions);
    insta::assert_json_snapshot!("sessions_list", rounded(list));

    let detail = get_json(addr, "/api/costs/sessions/s1");
    let (count, cost, input, _) = db_totals(&home, "session_id = 's1'");
    assert_eq!(detail["records"], count);
    assert!(close(detail["cost_usd"].as_f64().unwrap(), cost));
    assert_eq!(detail["input_tokens"], input);
    for (part, name, column) in [
        ("by_model", "model", "model"),
        ("by_tool", "tool", "tool_name"),
    ] {
        for row in detail[part].as_array().unwrap() {
            let value = row[name].as_str().unwrap();
            let (n, c, _, _) = db_totals(
                &home,
                &format!("session_id = 's1' AND {column} = '{value}'"),
            );
            assert_eq!(row["records"], n, "{part} {value}");
            assert!(
                close(row["cost_usd"].as_f64().unwrap(), c),
                "{part} {value}"
            );
        }
    }
    insta::assert_json_snapshot!("session_s1", rounded(detail));

    // Sorted by another column, either way; ties by id.
    for (sort, column) in [
        ("cost_usd", "total(estimated_cost_usd)"),
        ("records", "count(*)"),
        ("first_at", "min(timestamp)"),
        (
            "tokens",
            "sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)",
        ),
    ] {
        for order in ["desc", "asc"] {
            let page = get_json(
                addr,
                &format!("/api/costs/sessions?sort={sort}&order={order}"),
            );
            let got: Vec<&str> = page["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["session_id"].as_str().unwrap())
                .collect();
            let want: Vec<String> = home
                .db()
                .prepare(&format!(
                    "SELECT session_id FROM cost_records GROUP BY session_id
                     ORDER BY {column} {order}, session_id"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got, want, "sort={sort}&order={order}");
        }
    }

    let unknown = http_get(addr, "/api/costs/sessions/no-such-session");
    assert_eq!(unknown.status, 200, "{}", unknown.text());
    insta::assert_json_snapshot!("session_unknown", unknown.json());
}

#[test]
fn api_summary_gives_cost_by_provider() {
    let (home, _daemon, addr) = seeded();
    let summary = get_json(addr, "/api/summary");
    let by_provider = summary["cost"]["by_provider"].as_object().unwrap();
    let providers = home.count("SELECT count(DISTINCT provider) FROM cost_records");
    assert_eq!(by_provider.len() as i64, providers);
    for (provider, cost) in by_provider {
        let (_, want, _, _) = db_totals(&home, &format!("provider = '{provider}'"));
        assert!(close(cost.as_f64().unwrap(), want), "{provider}");
    }
    insta::assert_json_snapshot!("api_summary", rounded(summary));
    assert_eq!(get_json(addr, "/api/budgets"), json!([]));
}

#[test]
fn every_bad_parameter_is_a_400_naming_it() {
    let (_home, _daemon, addr) = seeded();
    let cases = [
        ("/api/costs/summary?group_by=color", "group_by"),
        ("/api/costs/summary?group_by=day,model,agent", "group_by"),
        ("/api/costs/summary?time_range=2w", "time_range"),
        ("/api/costs/summary?date_from=yesterday", "date_from"),
        ("/api/costs/summary?date_to=2025-02-30", "date_to"),
        (
            "/api/costs/summary?date_from=2025-03-11&date_to=2025-03-10",
            "date_from",
        ),
        ("/api/costs/summary?tz=Mars/Olympus", "tz"),
        ("/api/costs?page=0", "page"),
        ("/api/costs?page=two", "page"),
        ("/api/costs?page_size=501", "page_size"),
        ("/api/costs?page_size=0", "page_size"),
        ("/api/costs?date_from=2025-13-01", "date_from"),
        ("/api/costs/sessions?page_size=1000", "page_size"),
        ("/api/costs/sessions?sort=colour", "sort"),
        ("/api/costs/sessions?order=sideways", "order"),
        ("/api/summary?time_range=forever", "time_range"),
    ];
    let mut seen = Vec::new();
    for (path, param) in cases {
        let response = http_get(addr, path);
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        let error = response.json()["error"].as_str().unwrap().to_string();
        assert!(error.starts_with(&format!("{param}:")), "{path}: {error}");
        // The time zone library words its own part of that message.
        if param != "tz" {
            seen.push(json!({"path": path, "error": error}));
        }
    }
    insta::assert_json_snapshot!("bad_parameters", seen);

    // A parameter no endpoint knows is ignored.
    assert_eq!(http_get(addr, "/api/costs?colour=blue").status, 200);
    let missing = http_get(addr, "/api/nothing-here");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"]
        .as_str()
        .unwrap()
        .contains("/api/nothing-here"));
    let wrong_method = http_request(addr, "POST", "/api/costs", &[], b"");
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.json()["error"].is_string());
}

#[test]
fn post_hook_lands_every_fixture_with_its_cost_after_commit() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    for (name, payload, want) in hook_fixtures() {
        let response = http_request(
            addr,
            "POST",
            "/hook",
            &[
                JSON,
                ("X-Hookmeter-Agent", "tester"),
                ("X-Hookmeter-Task", "T-9"),
            ],
            &payload,
        );
        assert_eq!(response.status, 200, "{name}: {}", response.text());
        assert_eq!(response.json(), json!({}), "{name}");
        let id = response.header("x-hookmeter-event-id").unwrap().to_string();
        // Answered after the commit: the rows are readable now.
        let db = home.db();
        let source: String = db
            .query_row(
                "SELECT source FROM hook_events WHERE hook_event_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(source, "http", "{name}");
        let rows: Vec<(f64, String, Option<String>, String)> = db
            .prepare("SELECT estimated_cost_usd, agent_id, task_id, source FROM cost_records WHERE hook_event_id = ?1")
            .unwrap()
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            response.header("x-hookmeter-records"),
            Some(rows.len().to_string().as_str()),
            "{name}"
        );
        match want {
            Some(want) => {
                assert_eq!(rows.len(), 1, "{name}");
                assert_cost(rows[0].0, want, &name);
                assert_eq!(rows[0].1, "tester", "{name}: the header names the agent");
                assert_eq!(rows[0].2.as_deref(), Some("T-9"), "{name}: and the task");
                assert_eq!(rows[0].3, "http", "{name}");
            }
            None => assert!(rows.is_empty(), "{name}"),
        }
    }
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE source = 'http'"),
        hook_fixtures().len() as i64
    );
    // Delivered again: the same event, still one row.
    let (_, payload, _) = &hook_fixtures()[0];
    assert_eq!(
        http_request(addr, "POST", "/hook", &[JSON], payload).status,
        200
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE source = 'http'"),
        hook_fixtures().len() as i64
    );

    let costs = get_json(addr, "/api/costs?agent_id=tester&model=claude-sonnet-4-5");
    insta::assert_json_snapshot!("costs_after_post_hook", rounded(costs), {
        ".records[].id" => "[id]",
        ".records[].timestamp" => "[timestamp]",
    });
}

#[test]
fn a_bad_hook_body_is_kept_in_rejected_events_and_answered_400() {
    let home = Home::new();
    home.write_config("[limits]\nmax_line_bytes = 1024\n");
    let daemon = home.start();
    let addr = daemon.http();
    for (body, code) in [
        (&b"{\"session_id\": oops"[..], "not_json"),
        (b"[1, 2]", "not_object"),
        (
            br#"{"model":"gpt-5","usage":{"input_tokens":-5,"output_tokens":1}}"#,
            "invalid_usage",
        ),
    ] {
        let response = http_request(addr, "POST", "/hook", &[JSON], body);
        assert_eq!(response.status, 400, "{}", response.text());
        let error = response.json()["error"].as_str().unwrap().to_string();
        let (reason, raw): (String, String) = home
            .db()
            .query_row(
                "SELECT reason, raw_text FROM rejected_events WHERE source = 'http' AND reason_code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(reason, error);
        assert_eq!(raw.as_bytes(), body);
    }
    // Over limits.max_line_bytes: 413, its first bytes kept.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1500));
    let response = http_request(addr, "POST", "/hook", &[JSON], big.as_bytes());
    assert_eq!(response.status, 413, "{}", response.text());
    assert!(response.json()["error"]
        .as_str()
        .unwrap()
        .contains("limits.max_line_bytes"));
    let kept: i64 = home.count(
        "SELECT length(raw_text) FROM rejected_events WHERE source = 'http' AND reason_code = 'line_too_long'",
    );
    assert_eq!(kept, 1024);
    assert_eq!(home.count("SELECT count(*) FROM hook_events"), 0);
}

#[test]
fn post_hook_starts_following_the_transcript_it_names() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let dir = home.path().join(".claude/projects/-home-dev-shop");
    std::fs::create_dir_all(&dir).unwrap();
    let transcript = dir.join("s-session-1.jsonl");
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        &transcript,
    )
    .unwrap();
    let daemon = home.start();
    let addr = daemon.http();
    let hook = std::fs::read_to_string(fixtures().join("hooks/claude-posttooluse.json"))
        .unwrap()
        .replace("TRANSCRIPT_PATH", transcript.to_str().unwrap());
    let response = http_request(addr, "POST", "/hook", &[JSON], hook.as_bytes());
    assert_eq!(response.status, 200, "{}", response.text());
    let expected: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("transcript-expected.json")).unwrap(),
    )
    .unwrap();
    let want = expected["records"].as_array().unwrap().len() as i64;
    wait_until(
        "the transcript's records",
        || home.count("SELECT count(*) FROM cost_records WHERE source = 'transcript'") == want,
        || daemon.log_text(),
    );
}

/// One sample of the exposition format.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses Prometheus text format 0.0.4 strictly enough to catch what a
/// scraper would reject: every family has HELP and TYPE before its samples,
/// label values are quoted and escaped, no series appears twice.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: Vec<String> = Vec::new();
    let mut samples: Vec<Sample> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!helped.contains(&name.to_string()), "HELP twice for {name}");
            helped.push(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                helped.contains(&name.to_string()),
                "TYPE before HELP: {line}"
            );
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "{line}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{name}"
        );
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut label = String::new();
            loop {
                let (i, c) = chars.next().expect("unterminated labels");
                match c {
                    '}' => {
                        rest = &inner[i + 1..];
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().expect("unterminated value").1 {
                                '"' => break,
                                '\\' => match chars.next().unwrap().1 {
                                    '\\' => value.push('\\'),
                                    '"' => value.push('"'),
                                    'n' => value.push('\n'),
                                    other => panic!("bad escape \\{other} in {line}"),
                                },
                                '\n' => panic!("raw newline in {line}"),
                                c => value.push(c),
                            }
                        }
                        assert!(labels.insert(std::mem::take(&mut label), value).is_none());
                    }
                    c => label.push(c),
                }
            }
        }
        let value = rest.trim();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "{name} has no TYPE line before it"
        );
        let sample = Sample {
            name: name.to_string(),
            labels,
            value,
        };
        assert!(
            !samples
                .iter()
                .any(|s| s.name == sample.name && s.labels == sample.labels),
            "series twice: {line}"
        );
        samples.push(sample);
    }
    samples
}

fn metrics(addr: SocketAddr) -> Vec<Sample> {
    let response = http_get(addr, "/metrics");
    assert_eq!(response.status, 200);
    assert!(response
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    parse_metrics(&response.text())
}

fn sum_of(samples: &[Sample], name: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && keep(s))
        .map(|s| s.value)
        .sum()
}

/// The series that come from the database, which a restart must not change.
fn stored_series(samples: &[Sample]) -> Vec<Sample> {
    samples
        .iter()
        .filter(|s| {
            [
                "hookmeter_cost_usd_total",
                "hookmeter_tokens_total",
                "hookmeter_records_total",
                "hookmeter_events_total",
            ]
            .contains(&s.name.as_str())
        })
        .cloned()
        .collect()
}

#[test]
fn metrics_equal_the_database_and_survive_a_restart() {
    let (home, daemon, addr) = seeded();
    // One rejected line, so the events counter has both outcomes.
    assert_eq!(daemon.connect().roundtrip(b"not json")["ok"], false);
    let samples = metrics(addr);

    let (count, cost, input, output) = db_totals(&home, "1");
    let all = |_: &Sample| true;
    assert!(close(
        sum_of(&samples, "hookmeter_cost_usd_total", all),
        cost
    ));
    let tokens = |kind: &'static str| {
        move |s: &Sample| s.labels.get("type").map(String::as_str) == Some(kind)
    };
    assert_eq!(
        sum_of(&samples, "hookmeter_tokens_total", tokens("input")),
        input as f64
    );
    assert_eq!(
        sum_of(&samples, "hookmeter_tokens_total", tokens("output")),
        output as f64
    );
    let cache_read = home.count("SELECT sum(cache_read_tokens) FROM cost_records");
    assert_eq!(
        sum_of(&samples, "hookmeter_tokens_total", tokens("cache_read")),
        cache_read as f64
    );
    assert_eq!(
        sum_of(&samples, "hookmeter_records_total", all),
        count as f64
    );
    // Per series: the codex agent's cost alone.
    let (_, codex, _, _) = db_totals(&home, "agent_id = 'codex'");
    let codex_metric = sum_of(&samples, "hookmeter_cost_usd_total", |s| {
        s.labels["agent"] == "codex"
    });
    assert!(close(codex_metric, codex));
    for s in samples
        .iter()
        .filter(|s| s.name == "hookmeter_cost_usd_total")
    {
        let keys: Vec<&str> = s.labels.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["agent", "model", "provider"],
            "no session or task labels"
        );
    }
    let accepted = home.count("SELECT count(*) FROM hook_events");
    let outcome = |o: &'static str| move |s: &Sample| s.labels["outcome"] == o;
    assert_eq!(
        sum_of(&samples, "hookmeter_events_total", outcome("accepted")),
        accepted as f64
    );
    assert_eq!(
        sum_of(&samples, "hookmeter_events_total", outcome("rejected")),
        1.0
    );
    assert_eq!(sum_of(&samples, "hookmeter_up", all), 1.0);
    assert_eq!(sum_of(&samples, "hookmeter_spool_files", all), 0.0);
    // Every commit so far is in the histograms (one batch per acked line at least).
    let batches = sum_of(&samples, "hookmeter_writer_batch_size_count", all);
    let committed = sum_of(&samples, "hookmeter_writer_batch_size_sum", all);
    assert!(
        batches >= 1.0 && committed == (SEEDS.len() + 1) as f64,
        "{batches} {committed}"
    );

    let before = stored_series(&samples);
    assert!(before.len() > 10, "{before:?}");
    assert_eq!(daemon.stop().code(), Some(0));
    let daemon = home.start();
    let after = stored_series(&metrics(daemon.http()));
    assert_eq!(after, before, "counters resume from the database");
}

#[test]
fn promtool_accepts_the_metrics() {
    let (home, daemon, addr) = seeded();
    assert_eq!(daemon.connect().roundtrip(b"{\"broken\"")["ok"], false);
    // Budgets, so their gauges are checked too: the task's is spent.
    for args in [
        &["budget", "set", "--total", "0.001", "--scope", "task:T-1"][..],
        &["budget", "set", "--monthly", "100"],
    ] {
        succeed(home.command().args(args));
    }
    let text = http_get(addr, "/metrics").text();
    let api = http_get(addr, "/api/budgets").json();
    for budget in api.as_array().unwrap() {
        let labels = format!(
            "{{scope=\"{}\",period=\"{}\"}}",
            budget["scope"].as_str().unwrap(),
            budget["period"].as_str().unwrap()
        );
        for (name, field) in [
            ("hookmeter_budget_limit_usd", "limit"),
            ("hookmeter_budget_spent_usd", "spent"),
            ("hookmeter_budget_ratio", "ratio"),
        ] {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{name}{labels} ")))
                .unwrap_or_else(|| panic!("{name}{labels} missing:\n{text}"));
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            let want = budget[field].as_f64().unwrap();
            assert!(
                (value - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{line} vs {want}"
            );
        }
    }
    assert!(text.contains("hookmeter_budget_ratio{scope=\"task:T-1\",period=\"total\"}"));
    common::promtool_check(&text);
}

#[test]
fn the_dashboard_is_served_with_a_policy_that_keeps_it_on_this_host() {
    let (_home, _daemon, addr) = seeded();
    let mut total = 0;
    for (path, kind) in [
        ("/", "text/html; charset=utf-8"),
        ("/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "text/css; charset=utf-8"),
    ] {
        let response = http_get(addr, path);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("content-type"), Some(kind), "{path}");
        let policy = response.header("content-security-policy").unwrap();
        for rule in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
        ] {
            assert!(policy.contains(rule), "{path}: {policy}");
        }
        total += response.body.len();
    }
    // Far inside the 250 KB the whole page may transfer.
    assert!(total < 100 * 1024, "{total} bytes");
    let page = http_get(addr, "/").text();
    assert!(page.contains("/dashboard.js") && page.contains("/dashboard.css"));
    // Nothing from another host: no absolute URL in the page's files.
    for path in ["/", "/dashboard.js", "/dashboard.css"] {
        let text = http_get(addr, path).text();
        for scheme in ["http://", "https://", "//cdn", "@import"] {
            let stray = text.replace("http://www.w3.org/2000/svg", "");
            assert!(!stray.contains(scheme), "{path} names {scheme}");
        }
    }
}

#[test]
fn healthz_answers_when_the_writer_does() {
    let home = Home::new();
    let daemon = home.start();
    let response = http_get(daemon.http(), "/healthz");
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "ok");
}

#[test]
fn pricing_is_the_table_in_force_and_follows_a_reload() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    let table = get_json(addr, "/api/costs/pricing");
    let models = table["models"].as_array().unwrap();
    let shape = json!({
        "top": table.as_object().unwrap().keys().collect::<Vec<_>>(),
        "model": models[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        "rates": models[0]["rates"].as_object().unwrap().keys().collect::<Vec<_>>(),
    });
    insta::assert_json_snapshot!("pricing_shape", shape);
    // The rates shown are the ones that priced a posted event.
    let (_, payload, _) = hook_fixtures()
        .into_iter()
        .find(|(name, ..)| name == "anthropic-usage")
        .unwrap();
    let response = http_request(addr, "POST", "/hook", &[JSON], &payload);
    assert_eq!(response.status, 200);
    let row =
        |id: &str| -> (String, f64, [i64; 4]) {
            home.db()
            .query_row(
                "SELECT model, estimated_cost_usd, input_tokens, output_tokens, cache_read_tokens,
                        cache_write_tokens FROM cost_records WHERE hook_event_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])),
            )
            .unwrap()
        };
    let (model, cost, [input, output, cache_read, cache_write]) =
        row(response.header("x-hookmeter-event-id").unwrap());
    let check = get_json(addr, &format!("/api/costs/pricing?model={model}"));
    let found = &check["match"];
    assert_eq!(found["model"], model.as_str());
    let entry = models
        .iter()
        .find(|m| m["key"] == found["key"])
        .expect("the matched entry is in the table");
    assert_eq!(entry["rates"], found["rates"]);
    let rates = &found["rates"];
    let rate = |k: &str| rates[k].as_f64().unwrap();
    let priced = (input as f64 * rate("input")
        + output as f64 * rate("output")
        + cache_read as f64 * rate("cache_read")
        + cache_write as f64 * rate("cache_write_5m"))
        / 1e6;
    assert!(close(priced, cost), "{priced} != {cost}");

    // A user price file and SIGHUP: the API shows the new table, and it prices.
    let pricing = home.config_file().with_file_name("pricing.toml");
    std::fs::create_dir_all(pricing.parent().unwrap()).unwrap();
    std::fs::write(
        &pricing,
        "[models.\"hm-test-model\"]\ninput = 7\noutput = 11\n",
    )
    .unwrap();
    daemon.signal(libc::SIGHUP);
    let mut table = Value::Null;
    wait_until(
        "the reloaded table",
        || {
            table = get_json(addr, "/api/costs/pricing");
            table["user_file"]["models"] == 1
        },
        || daemon.log_text(),
    );
    let entry = table["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "hm-test-model")
        .expect("the user's model")
        .clone();
    assert_eq!(entry["source"], "user");
    let event = json!({"hook_event_name": "x", "model": "hm-test-model",
                       "usage": {"input_tokens": 1000, "output_tokens": 100}});
    let response = http_request(addr, "POST", "/hook", &[JSON], event.to_string().as_bytes());
    let (_, cost, _) = row(response.header("x-hookmeter-event-id").unwrap());
    let want = (1000.0 * entry["rates"]["input"].as_f64().unwrap()
        + 100.0 * entry["rates"]["output"].as_f64().unwrap())
        / 1e6;
    assert!(close(cost, want), "{cost} != {want}");
}

#[test]
fn a_long_read_transaction_does_not_hold_up_ingestion() {
    let (home, daemon, addr) = seeded();
    let reader = home.db();
    reader.execute_batch("BEGIN").unwrap();
    let before: i64 = reader
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    // While that snapshot is held: events over the socket and over HTTP.
    let mut client = daemon.connect();
    for i in 0..20 {
        let event = json!({"hook_event_name": "x", "hook_event_id": format!("during-{i}"),
                           "model": "gpt-5", "usage": {"input_tokens": 10, "output_tokens": 1}});
        let ack = client.roundtrip(event.to_string().as_bytes());
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let event = json!({"hook_event_name": "x", "hook_event_id": "during-http",
                       "model": "gpt-5", "usage": {"input_tokens": 10, "output_tokens": 1}});
    let posted = http_request(addr, "POST", "/hook", &[JSON], event.to_string().as_bytes());
    assert_eq!(posted.status, 200, "{}", posted.text());
    // The API reads a fresh snapshot and sees them ...
    assert_eq!(get_json(addr, "/api/costs")["total"], before + 21);
    // ... while the held transaction still sees its own: it really was open.
    let still: i64 = reader
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(still, before);
    reader.execute_batch("COMMIT").unwrap();
    let after: i64 = reader
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, before + 21);
}

fn loopback(addr: SocketAddr) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], addr.port()))
}

#[test]
fn off_loopback_every_endpoint_but_healthz_wants_the_token() {
    let home = Home::new();
    home.write_config("[http]\nlisten = \"0.0.0.0:0\"\ntoken = \"s3cret\"\n");
    let daemon = home.start_with(|cmd| {
        cmd.env_remove("HOOKMETER_HTTP");
    });
    let bound = daemon.http();
    assert!(bound.ip().is_unspecified(), "{bound}");
    let addr = loopback(bound);
    let event =
        br#"{"hook_event_name":"x","model":"gpt-5","usage":{"input_tokens":1,"output_tokens":1}}"#;
    for (method, path) in [
        ("GET", "/api/costs"),
        ("GET", "/api/costs/summary"),
        ("GET", "/api/costs/sessions/s1"),
        ("GET", "/api/costs/pricing"),
        ("GET", "/api/costs/reconcile"),
        ("GET", "/api/summary"),
        ("GET", "/api/budgets"),
        ("GET", "/metrics"),
        ("POST", "/hook"),
    ] {
        let body: &[u8] = if method == "POST" { event } else { b"" };
        for headers in [
            vec![],
            vec![("Authorization", "Bearer wrong")],
            vec![("Authorization", "s3cret")],
        ] {
            let denied = http_request(addr, method, path, &headers, body);
            assert_eq!(denied.status, 401, "{method} {path} {headers:?}");
            assert!(denied.json()["error"].is_string());
            assert_eq!(denied.header("www-authenticate"), Some("Bearer"));
        }
        let allowed = http_request(
            addr,
            method,
            path,
            &[("Authorization", "Bearer s3cret"), JSON],
            body,
        );
        assert_eq!(allowed.status, 200, "{method} {path}: {}", allowed.text());
    }
    assert_eq!(http_get(addr, "/healthz").status, 200);
    // The dashboard's files hold no data: the page loads, then asks for the token.
    for path in ["/", "/dashboard.js", "/dashboard.css"] {
        assert_eq!(http_get(addr, path).status, 200, "{path}");
    }
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        1,
        "only the allowed POST"
    );

    // The flag and the environment variable work the same way.
    drop(daemon);
    let other = Home::new();
    let daemon = other.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP_TOKEN", "t0ken")
            .args(["--http", "0.0.0.0:0"]);
    });
    let addr = loopback(daemon.http());
    assert_eq!(http_get(addr, "/api/costs").status, 401);
    let allowed = http_request(
        addr,
        "GET",
        "/api/costs",
        &[("Authorization", "Bearer t0ken")],
        b"",
    );
    assert_eq!(allowed.status, 200);
}

#[test]
fn off_loopback_without_a_token_the_daemon_refuses_to_start() {
    let home = Home::new();
    let daemon = home.spawn_with(|cmd| {
        cmd.env("HOOKMETER_HTTP", "0.0.0.0:0");
    });
    let log = {
        let status = daemon.wait_exit();
        assert_eq!(status.code(), Some(2));
        std::fs::read_to_string(home.path().join("daemon.log")).unwrap()
    };
    assert!(
        log.contains("0.0.0.0:0 is not loopback") && log.contains("HOOKMETER_HTTP_TOKEN"),
        "{log}"
    );
    assert!(!home.socket().exists());
}

#[test]
fn a_port_in_use_stops_the_daemon_with_advice() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let home = Home::new();
    let daemon = home.spawn_with(|cmd| {
        cmd.env("HOOKMETER_HTTP", &addr);
    });
    let status = daemon.wait_exit();
    assert!(!status.success(), "{status:?}");
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
    assert!(
        log.contains(&format!("cannot listen for HTTP on {addr}")),
        "{log}"
    );
    assert!(log.contains("--http") && log.contains("off"), "{log}");
    assert!(!home.socket().exists(), "the socket is not left behind");
    drop(taken);
}

#[test]
fn http_off_serves_the_socket_without_a_listener() {
    let home = Home::new();
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP", "off");
    });
    assert_eq!(
        daemon.connect().roundtrip(br#"{"hook_event_name":"Ping"}"#)["ok"],
        true
    );
    wait_until(
        "the ready line",
        || daemon.run_log().contains("hookmeter is ready."),
        || daemon.log_text(),
    );
    assert!(
        !daemon.run_log().contains("HTTP API listening"),
        "{}",
        daemon.run_log()
    );
}

#[test]
fn a_bad_listen_address_is_refused_with_exit_2() {
    let home = Home::new();
    let daemon = home.spawn_with(|cmd| {
        cmd.args(["--http", "localhost"]);
    });
    assert_eq!(daemon.wait_exit().code(), Some(2));
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
    assert!(
        log.contains("invalid HTTP listen address \"localhost\""),
        "{log}"
    );
}

#[test]
fn sigterm_stops_cleanly_with_http_connections_open() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    // One connection that never sends a request, one left half-way
    // through its headers, one kept alive after a request.
    let idle = std::net::TcpStream::connect(addr).unwrap();
    let mut partial = std::net::TcpStream::connect(addr).unwrap();
    partial
        .write_all(b"GET /api/costs HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let mut kept = std::net::TcpStream::connect(addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    std::io::Read::read_exact(&mut kept, &mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let log = daemon.log.clone();
    assert_eq!(daemon.stop().code(), Some(0));
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("Stopped cleanly."), "{log}");
    drop((idle, partial, kept));
}

#[test]
fn connections_over_the_limit_get_a_503_and_the_others_are_served() {
    let home = Home::new();
    home.write_config("[limits]\nmax_connections = 2\n");
    let daemon = home.start();
    let addr = daemon.http();
    let held: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // The two held connections may not have been accepted yet: wait until
    // the server counts them, i.e. a third is refused.
    let mut refused = None;
    wait_until(
        "a connection over the limit to be refused",
        || {
            let response = http_get(addr, "/healthz");
            let over = response.status == 503;
            refused = over.then_some(response);
            over
        },
        || daemon.log_text(),
    );
    let refused = refused.unwrap();
    assert_eq!(refused.json()["retry"], true);
    assert!(refused.json()["error"]
        .as_str()
        .unwrap()
        .contains("limit 2"));
    drop(held);
    wait_until(
        "the slots to free up",
        || http_get(addr, "/healthz").status == 200,
        || daemon.log_text(),
    );
}

#[test]
fn label_values_past_the_cap_are_other_and_the_totals_still_match() {
    let home = Home::new();
    home.write_config("[metrics]\nmax_label_values = 2\n");
    let daemon = home.start();
    let mut client = daemon.connect();
    // Four models and three agents, all in one hour: the first two by name
    // (claude-haiku-4-5, claude-opus-4-1; agents a1, a2) keep their labels.
    let models = [
        "gpt-5",
        "claude-opus-4-1",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
    ];
    for (i, model) in models.iter().enumerate() {
        for (j, agent) in ["a3", "a1", "a2"].iter().enumerate() {
            let line = serde_json::json!({
                "event_id": format!("cap-{i}-{j}"),
                "timestamp": "2026-09-20T10:15:00Z",
                "agent_id": agent,
                "model": model,
                "usage": {"input_tokens": 1000 * (i + 1), "output_tokens": 100 * (j + 1)},
            });
            assert_eq!(client.roundtrip(line.to_string().as_bytes())["ok"], true);
        }
    }
    let samples = metrics(daemon.http());
    let costs: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "hookmeter_cost_usd_total")
        .collect();
    let values = |label: &str| -> BTreeSet<&str> {
        costs.iter().map(|s| s.labels[label].as_str()).collect()
    };
    assert_eq!(
        values("model"),
        BTreeSet::from(["claude-haiku-4-5", "claude-opus-4-1", "other"])
    );
    assert_eq!(values("agent"), BTreeSet::from(["a1", "a2", "other"]));
    let (count, cost, input, _) = db_totals(&home, "1");
    assert_eq!(count, 12);
    let all = |_: &Sample| true;
    assert!(close(
        sum_of(&samples, "hookmeter_cost_usd_total", all),
        cost
    ));
    assert_eq!(
        sum_of(&samples, "hookmeter_tokens_total", |s| s.labels["type"]
            == "input"),
        input as f64
    );
    // A kept pair is exact; the rest is in the other buckets.
    let (_, haiku_a1, _, _) = db_totals(&home, "model = 'claude-haiku-4-5' AND agent_id = 'a1'");
    let series = sum_of(&samples, "hookmeter_cost_usd_total", |s| {
        s.labels["model"] == "claude-haiku-4-5" && s.labels["agent"] == "a1"
    });
    assert!(close(series, haiku_a1));
    let (_, other_models, _, _) = db_totals(
        &home,
        "model NOT IN ('claude-haiku-4-5', 'claude-opus-4-1')",
    );
    assert!(close(
        sum_of(&samples, "hookmeter_cost_usd_total", |s| s.labels["model"]
            == "other"),
        other_models
    ));

    // The info metric: this build's version and the machine's host name.
    let info: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "hookmeter_info")
        .collect();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].value, 1.0);
    assert_eq!(info[0].labels["version"], env!("CARGO_PKG_VERSION"));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(info[0].labels["host"], host.trim());
}

/// The one range rule (query::FilterSpec), as the API words it: an equal
/// or reversed pair of bounds names date_from; a date_to before the start
/// of time_range names date_to. A date as date_to includes that day.
#[test]
fn an_empty_range_is_a_400_naming_the_bound() {
    let (_home, _daemon, addr) = seeded();
    let t = "2026-09-20T10:00:00Z";
    let equal = format!("/api/costs?date_from={t}&date_to={t}");
    let cases = [
        (equal.as_str(), "date_from: must be before date_to"),
        (
            "/api/costs/summary?date_from=2025-03-11&date_to=2025-03-10",
            "date_from: must be before date_to",
        ),
        (
            "/api/costs/sessions?time_range=1h&date_to=2020-01-01",
            "date_to: must be after the start of time_range",
        ),
        (
            "/api/summary?time_range=24h&date_from=2020-01-01&date_to=2020-01-02",
            "date_to: must be after the start of time_range",
        ),
    ];
    for (path, says) in cases {
        let response = http_get(addr, path);
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        let error = response.json()["error"].as_str().unwrap().to_string();
        assert!(error.starts_with(says), "{path}: {error}");
    }
    let one_day = http_get(addr, "/api/costs?date_from=2025-03-10&date_to=2025-03-10");
    assert_eq!(one_day.status, 200, "{}", one_day.text());
}
