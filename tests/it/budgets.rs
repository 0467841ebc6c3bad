//! Budgets (docs/budgets.md): `hookmeter budget set/status/clear`
//! against the real binary and a database filled through the real daemon,
//! and `GET /api/budgets`. Spend is checked against SQL over `cost_records`.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// Records of today (UTC) for two agents, one task among them.
fn seeded() -> (Home, Daemon) {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    // Seconds after midnight (UTC) today: inside today, this week and this
    // month whenever the test runs (in its first seconds, a little ahead).
    let midnight: jiff::Timestamp = format!("{}T00:00:00Z", today()).parse().unwrap();
    for (i, (agent, task, output)) in [
        ("alpha", Some("T-1"), 2000),
        ("alpha", None, 500),
        ("beta", Some("T-1"), 1000),
        ("beta", None, 300),
    ]
    .into_iter()
    .enumerate()
    {
        let ts = midnight
            .checked_add(jiff::SignedDuration::from_secs(1 + i as i64))
            .unwrap();
        let payload = json!({
            "hook_event_name": "PostToolUse",
            "hook_event_id": format!("b-{i}"),
            "session_id": format!("s-{i}"),
            "agent_id": agent,
            "task_id": task,
            "model": "claude-sonnet-4-5",
            "timestamp": ts.to_string(),
            "usage": {"input_tokens": 10000, "output_tokens": output},
        });
        let ack = client.roundtrip(payload.to_string().as_bytes());
        assert_eq!(ack["records"], 1, "{ack}");
    }
    (home, daemon)
}

fn budget(home: &Home, args: &[&str]) -> std::process::Output {
    home.command()
        .arg("budget")
        .args(args)
        .output()
        .expect("run hookmeter budget")
}

fn status(home: &Home) -> Vec<Value> {
    let mut cmd = home.command();
    cmd.args(["budget", "status", "--json", "--tz", "UTC"]);
    serde_json::from_str::<Value>(&succeed(&mut cmd))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// Cost of the records `condition` keeps from `since` (RFC 3339) on.
fn spent_since(home: &Home, since: &str, condition: &str) -> f64 {
    home.db()
        .query_row(
            &format!(
                "SELECT total(estimated_cost_usd) FROM cost_records
                 WHERE timestamp >= ?1 AND {condition}"
            ),
            [since],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn budgets_are_set_shown_with_their_spend_and_cleared() {
    let (home, daemon) = seeded();
    let out = budget(&home, &["set", "--daily", "10", "--monthly", "200"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "daily budget of everything set to $10.00\nmonthly budget of everything set to $200.00\n"
    );
    for args in [
        &["set", "--daily", "0.5", "--scope", "agent:alpha"][..],
        &["set", "--total", "5", "--scope", "task:T-1"],
        // Setting again replaces.
        &["set", "--daily", "0.25", "--scope", "agent:alpha"],
    ] {
        let out = budget(&home, args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }

    let shown = status(&home);
    let rows: Vec<(String, String, f64)> = shown
        .iter()
        .map(|s| {
            (
                s["scope"].as_str().unwrap().to_string(),
                s["period"].as_str().unwrap().to_string(),
                s["limit"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("".into(), "daily".into(), 10.0),
            ("".into(), "monthly".into(), 200.0),
            ("agent:alpha".into(), "daily".into(), 0.25),
            ("task:T-1".into(), "total".into(), 5.0),
        ]
    );
    let midnight = format!("{}T00:00:00.000Z", today());
    let first_of_month = format!("{}-01T00:00:00.000Z", &today()[..7]);
    let all_today = spent_since(&home, &midnight, "1");
    let all_month = spent_since(&home, &first_of_month, "1");
    let alpha_today = spent_since(&home, &midnight, "agent_id = 'alpha'");
    let task_ever: f64 = home
        .db()
        .query_row(
            "SELECT total(estimated_cost_usd) FROM cost_records WHERE task_id = 'T-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(alpha_today > 0.0 && alpha_today < all_today);
    for (row, want) in shown
        .iter()
        .zip([all_today, all_month, alpha_today, task_ever])
    {
        let spent = row["spent"].as_f64().unwrap();
        assert!(
            (spent - want).abs() < 1e-9,
            "{row}: spent {spent} != {want}"
        );
        let ratio = row["ratio"].as_f64().unwrap();
        assert!(
            (ratio - spent / row["limit"].as_f64().unwrap()).abs() < 1e-12,
            "{row}"
        );
    }
    // Today's period ends at the next midnight of the zone; a total never ends.
    let tomorrow = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap();
    assert_eq!(shown[0]["period_end"], format!("{tomorrow}T00:00:00.000Z"));
    assert_eq!(shown[3]["period_end"], Value::Null);

    // The API answers the same.
    let api = http_get(daemon.http(), "/api/budgets?tz=UTC").json();
    let api = api.as_array().unwrap();
    assert_eq!(api.len(), shown.len());
    for (a, s) in api.iter().zip(&shown) {
        for field in ["scope", "period", "limit", "period_start", "period_end"] {
            assert_eq!(a[field], s[field], "{field}");
        }
        assert!((a["spent"].as_f64().unwrap() - s["spent"].as_f64().unwrap()).abs() < 1e-9);
    }

    // The table names each budget.
    let mut cmd = home.command();
    let table = succeed(cmd.args(["budget", "status", "--tz", "UTC"]));
    assert!(table.contains("agent:alpha") && table.contains("task:T-1") && table.contains("(all)"));

    // Clearing: one scope, then one period, then the rest.
    let cleared = |args: &[&str]| {
        let mut cmd = home.command();
        succeed(cmd.arg("budget").arg("clear").args(args))
    };
    assert_eq!(cleared(&["--scope", "agent:alpha"]), "1 budget cleared.\n");
    assert_eq!(cleared(&["--daily"]), "1 budget cleared.\n");
    assert_eq!(status(&home).len(), 2);
    assert_eq!(cleared(&[]), "2 budgets cleared.\n");
    assert_eq!(status(&home), Vec::<Value>::new());
    let mut cmd = home.command();
    assert!(succeed(cmd.args(["budget", "status"])).starts_with("No budgets."));
    assert_eq!(http_get(daemon.http(), "/api/budgets").json(), json!([]));
}

#[test]
fn bad_budget_arguments_exit_2_with_one_line_and_change_nothing() {
    let home = Home::new();
    for (args, says) in [
        (&["set", "--daily", "-1"][..], "positive"),
        (&["set", "--weekly", "0"], "positive"),
        (&["set", "--daily", "nan"], "positive"),
        (&["set", "--daily", "3", "--scope", "team:red"], "--scope"),
        (&["set", "--daily", "3", "--scope", "agent:"], "--scope"),
        (&["set", "--total", "5"], "task"),
        (&["set", "--total", "5", "--scope", "agent:alpha"], "task"),
        (&["set", "--scope", "agent:alpha"], "at least one"),
        (&["status", "--tz", "Mars/Olympus"], "--tz"),
        (&["clear", "--scope", "nope"], "--scope"),
    ] {
        let out = budget(&home, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // A failed set stored no budget.
    let mut cmd = home.command();
    assert!(succeed(cmd.args(["budget", "status"])).starts_with("No budgets."));
    // Several periods at once are all or nothing.
    let out = budget(&home, &["set", "--daily", "3", "--weekly", "-2"]);
    assert_eq!(out.status.code(), Some(2));
    let mut cmd = home.command();
    assert!(succeed(cmd.args(["budget", "status"])).starts_with("No budgets."));
}
