//! Budgets on a plan window (docs/budgets.md#plan-windows) against the real
//! daemon: Claude Code's statusline handoffs and a Codex rollout's
//! `rate_limits` cross a `--plan` budget's `--at` once per window, again
//! after the window resets, and `budget status` shows the window's use.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// Claude Code's statusline input reporting the 5-hour window at `used`,
/// resetting at `resets_at` (Unix seconds).
fn statusline_input(session: &str, used: f64, resets_at: i64) -> Vec<u8> {
    json!({
        "session_id": session,
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/dev/shop", "project_dir": "/home/dev/shop"},
        "version": "2.1.197",
        "cost": {"total_cost_usd": 0.5},
        "rate_limits": {"five_hour": {"used_percentage": used, "resets_at": resets_at}},
    })
    .to_string()
    .into_bytes()
}

/// `hookmeter statusline` fed `input`, as Claude Code runs it; the line
/// of the tightest budget it prints.
fn statusline(home: &Home, input: &[u8]) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = home
        .command()
        .args(["statusline", "--plain", "--format", "{budget}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    stdout(&child.wait_with_output().unwrap())
}

/// The alerts recorded, `scope period threshold spent limit`, in firing order.
fn alerts(home: &Home) -> Vec<String> {
    let conn = home.db();
    let mut stmt = conn
        .prepare(
            "SELECT scope || ' ' || period || ' ' || threshold_pct || ' ' || spent_usd || ' ' || limit_usd
             FROM alerts ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// How many budget checks this run of the daemon has logged.
fn checks(daemon: &Daemon) -> usize {
    daemon
        .run_log()
        .lines()
        .filter(|l| l.contains("Budgets checked."))
        .count()
}

fn budget_status(home: &Home) -> Vec<Value> {
    let out = succeed(
        home.command()
            .args(["budget", "status", "--json", "--tz", "UTC"]),
    );
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_five_hour_budget_alerts_once_per_window_and_again_after_the_reset() {
    let home = Home::new();
    home.write_config(&format!(
        "{HOOKS_ONLY}[alerts]\ntz = \"UTC\"\ncheck_secs = 1\n"
    ));
    let set = succeed(home.command().args([
        "budget",
        "set",
        "--plan",
        "five_hour",
        "--at",
        "80",
        "--enforce",
    ]));
    assert_eq!(
        set,
        "5-hour plan window budget of everything set to alert at 80%, enforced\n"
    );
    let daemon = home.start();
    let reset = jiff::Timestamp::now().as_second() + 2 * 3600;
    let rows = |n: i64| {
        wait_until(
            &format!("{n} plan_usage rows"),
            || home.count("SELECT count(*) FROM plan_usage") == n,
            || daemon.log_text(),
        )
    };

    let pre_tool_use = |id: &str| claude_tool_event("s1", "PreToolUse", id, Some("claude-code"));
    statusline(&home, &statusline_input("s1", 79.0, reset));
    rows(1);
    assert_eq!(
        stdout(&home.send(&pre_tool_use("t1"), &[])),
        "",
        "79 %: allowed"
    );
    statusline(&home, &statusline_input("s1", 83.0, reset));
    rows(2);
    wait_until(
        "the 83 % alert",
        || !alerts(&home).is_empty(),
        || daemon.run_log(),
    );
    assert_eq!(alerts(&home), [" plan:five_hour 100.0 83.0 80.0"]);
    let log = daemon.run_log();
    assert!(
        log.contains("the 5-hour plan window of everything is at 83% (alert at 80%), resets at "),
        "{log}"
    );
    // Enforced: the guard knew before the alert was recorded.
    let denied = stdout(&home.send(&pre_tool_use("t2"), &[]));
    let decision: Value = serde_json::from_str(denied.trim_end()).unwrap();
    let reason = decision["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("the 5-hour plan window of all agents is at 83% (the budget stops at 80%); it resets at "),
        "{reason}"
    );

    // Higher in the same window: no new alert, however many checks pass.
    statusline(&home, &statusline_input("s1", 90.0, reset));
    rows(3);
    let seen = checks(&daemon);
    wait_until(
        "two checks after the 90 % row",
        || checks(&daemon) >= seen + 2,
        || daemon.run_log(),
    );
    assert_eq!(alerts(&home).len(), 1, "{:?}", alerts(&home));

    // The window resets: 85 % of the next one alerts again.
    statusline(&home, &statusline_input("s1", 85.0, reset + 5 * 3600));
    rows(4);
    // What the statusline reads is what the database holds when it runs.
    let line = statusline(&home, &statusline_input("s1", 85.0, reset + 5 * 3600));
    assert_eq!(line.trim_end(), "budget plan:five_hour 106%");
    wait_for_metric(
        &daemon,
        "hookmeter_budget_ratio{scope=\"\",period=\"plan:five_hour\"}",
        |r| r == 85.0 / 80.0,
    );
    wait_until(
        "the alert of the next window",
        || alerts(&home).len() == 2,
        || daemon.run_log(),
    );
    assert_eq!(alerts(&home)[1], " plan:five_hour 100.0 85.0 80.0");

    let status = budget_status(&home);
    assert_eq!(status.len(), 1, "{status:?}");
    let s = &status[0];
    assert_eq!(s["scope"], "");
    assert_eq!(s["period"], "plan:five_hour");
    assert_eq!(s["spent"], 85.0);
    assert_eq!(s["limit"], 80.0);
    assert_eq!(s["ratio"], 85.0 / 80.0);
    let end = jiff::Timestamp::from_second(reset + 5 * 3600).unwrap();
    let start = jiff::Timestamp::from_second(reset).unwrap();
    let shown = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    assert_eq!(s["period_end"], shown(end));
    assert_eq!(s["period_start"], shown(start));
    let table = succeed(home.command().args(["budget", "status", "--tz", "UTC"]));
    assert!(table.contains("plan:five_hour"), "{table}");
    assert!(table.contains("85%") && table.contains("80%"), "{table}");
    assert!(daemon.stop().success());
}

#[test]
fn a_codex_rollouts_rate_limits_cross_an_agents_seven_day_budget() {
    let home = Home::new();
    home.write_config(&format!("{HOOKS_ONLY}[alerts]\ntz = \"UTC\"\n"));
    let (relative, text) = crate::plan::rollout_with_limits();
    let codex = home.path().join("codex-home");
    let path = codex.join("sessions").join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    succeed(
        home.command()
            .env("CODEX_HOME", &codex)
            .args(["import", "--agent", "codex"]),
    );
    for args in [
        &["--plan", "seven_day", "--at", "3", "--scope", "agent:codex"][..],
        // Codex's 5-hour use stays under this; no Claude Code use at all.
        &[
            "--plan",
            "five_hour",
            "--at",
            "90",
            "--scope",
            "agent:codex",
        ],
        &[
            "--plan",
            "five_hour",
            "--at",
            "50",
            "--scope",
            "agent:claude-code",
        ],
    ] {
        succeed(home.command().args(["budget", "set"]).args(args));
    }
    // The check at start finds the use imported before it.
    let daemon = home.start();
    wait_until(
        "the 7-day alert",
        || home.db_path().exists() && !alerts(&home).is_empty(),
        || daemon.run_log(),
    );
    let seen = checks(&daemon);
    wait_until(
        "another check",
        || checks(&daemon) > seen,
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());
    assert_eq!(alerts(&home), ["agent:codex plan:seven_day 100.0 4.0 3.0"]);

    let status = budget_status(&home);
    let shown: Vec<(&str, &str, f64)> = status
        .iter()
        .map(|s| {
            (
                s["scope"].as_str().unwrap(),
                s["period"].as_str().unwrap(),
                s["limit"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("agent:claude-code", "plan:five_hour", 50.0),
            ("agent:codex", "plan:five_hour", 90.0),
            ("agent:codex", "plan:seven_day", 3.0),
        ]
    );
    // No Claude Code use reported: nothing used, no window known.
    assert_eq!(status[0]["spent"], 0.0);
    assert_eq!(status[0]["period_end"], Value::Null);

    // Cleared by window and scope.
    let cleared = succeed(home.command().args([
        "budget",
        "clear",
        "--plan",
        "five_hour",
        "--scope",
        "agent:codex",
    ]));
    assert_eq!(cleared, "1 budget cleared.\n");
    assert_eq!(budget_status(&home).len(), 2);
}

#[test]
fn plan_budget_arguments_that_cannot_work_exit_2_and_store_nothing() {
    let home = Home::new();
    for (args, says) in [
        (&["--plan", "five_hour", "--at", "0"][..], Some("--at")),
        (&["--plan", "five_hour", "--at", "150"], Some("--at")),
        (&["--plan", "five_hour", "--at", "-5"], Some("--at")),
        (&["--plan", "daily", "--at", "80"], Some("--plan")),
        (
            &["--plan", "five_hour", "--at", "80", "--scope", "task:x"],
            Some("task:x"),
        ),
        (
            &[
                "--plan",
                "seven_day",
                "--at",
                "80",
                "--scope",
                "project:shop",
            ],
            Some("project:shop"),
        ),
        // Flags clap refuses, with its usage text.
        (&["--plan", "five_hour"], None),
        (&["--at", "80"], None),
        (&["--plan", "five_hour", "--at", "80", "--daily", "3"], None),
    ] {
        let out = home
            .command()
            .args(["budget", "set"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if let Some(says) = says {
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.contains(says), "{args:?}: {stderr}");
        }
    }
    let out = home
        .command()
        .args(["budget", "clear", "--plan", "hourly"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(succeed(home.command().args(["budget", "status"])).starts_with("No budgets."));
}

#[test]
fn the_config_files_plan_budgets_are_stored_and_bad_ones_refused() {
    let home = Home::new();
    home.write_config(
        "[[budgets]]\nplan = \"five_hour\"\nat = 75\nscope = \"agent:claude-code\"\n",
    );
    let daemon = home.start();
    let status = budget_status(&home);
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["period"], "plan:five_hour");
    assert_eq!(status[0]["limit"], 75.0);
    assert!(daemon.stop().success());
    for bad in [
        "[[budgets]]\nplan = \"five_hour\"\n",
        "[[budgets]]\nplan = \"monthly\"\nat = 50\n",
        "[[budgets]]\nplan = \"five_hour\"\nat = 50\ndaily = 3\n",
        "[[budgets]]\nplan = \"five_hour\"\nat = 500\n",
    ] {
        home.write_config(bad);
        let out = home.command().args(["config"]).output().unwrap();
        assert!(!out.status.success(), "{bad}: {out:?}");
    }
}
