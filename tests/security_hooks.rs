//! Issue 16, the hook side, against the real daemon and binary: `POST /hook`
//! enforces budgets exactly as `hookmeter send` does (Claude Code's deny
//! decision for a PreToolUse in a spent, enforced scope, `{}` otherwise),
//! `install-hooks --http` writes `type: "http"` hooks that carry the token
//! only as a reference to the environment, and doctor warns about an HTTP
//! API without a token on a machine with other login accounts.

mod common;

use std::net::SocketAddr;
use std::process::Output;

use common::*;
use serde_json::json;

/// A PostToolUse the daemon records at exactly `usd` for `agent`.
fn cost_line(id: &str, agent: &str, usd: f64) -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": "s-http",
        "agent_id": agent,
        "service": "infra",
        "cost_usd": usd,
    })
    .to_string()
    .into_bytes()
}

/// A Claude Code hook payload of `event` (PreToolUse, PostToolUse) by
/// `agent`, when given.
fn tool_event(event: &str, agent: Option<&str>, id: &str) -> Vec<u8> {
    let mut payload = json!({
        "session_id": "s-http",
        "hook_event_name": event,
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_use_id": id,
        "cwd": "/home/dev/shop",
    });
    if let Some(agent) = agent {
        payload["agent_id"] = json!(agent);
    }
    payload.to_string().into_bytes()
}

/// `POST /hook` as Claude Code's http hooks send it: a JSON body.
fn post_hook(addr: SocketAddr, body: &[u8], extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    http_request(addr, "POST", "/hook", &headers, body)
}

fn budget_set(home: &Home, args: &[&str]) {
    let mut cmd = home.command();
    cmd.args(["budget", "set"]).args(args);
    succeed(&mut cmd);
}

/// Thresholds recorded as reached, `scope period pct`.
fn fired(home: &Home) -> Vec<String> {
    let conn = home.db();
    let mut stmt = conn
        .prepare("SELECT scope || ' ' || period || ' ' || threshold_pct FROM alerts ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn post_hook_answers_a_spent_enforced_scope_with_the_deny_decision_send_prints() {
    let home = Home::new();
    home.write_config("[alerts]\ntz = \"UTC\"\n");
    let daemon = home.start();
    let addr = daemon.http();
    budget_set(
        &home,
        &["--daily", "0.001", "--scope", "agent:alpha", "--enforce"],
    );
    budget_set(&home, &["--daily", "0.001", "--scope", "agent:beta"]);

    // Not spent yet: `{}`, like send's empty stdout.
    let before = post_hook(addr, &tool_event("PreToolUse", Some("alpha"), "t0"), &[]);
    assert_eq!((before.status, before.text()), (200, "{}".to_string()));

    for (id, agent) in [("e1", "alpha"), ("e2", "beta")] {
        let ack = daemon.connect().roundtrip(&cost_line(id, agent, 0.01));
        assert_eq!(ack["records"], 1, "{ack}");
    }
    // The guard is updated before a crossing is recorded: once both are in
    // the alerts table, the guard knows both budgets are spent.
    wait_until(
        "both budgets spent",
        || {
            let fired = fired(&home);
            ["agent:alpha daily 100", "agent:beta daily 100"]
                .iter()
                .all(|want| fired.iter().any(|f| f.starts_with(want)))
        },
        || daemon.run_log(),
    );

    let printed = stdout(&home.send(&tool_event("PreToolUse", Some("alpha"), "t1"), &[]));
    assert!(
        printed.contains(r#""permissionDecision":"deny""#),
        "send must deny first: {printed}"
    );
    let denied = post_hook(addr, &tool_event("PreToolUse", Some("alpha"), "t2"), &[]);
    assert_eq!(denied.status, 200, "{}", denied.text());
    assert_eq!(denied.header("content-type"), Some("application/json"));
    // Byte for byte what send prints, without its final newline.
    assert_eq!(denied.text(), printed.trim_end_matches('\n'));
    let decision = denied.json();
    assert_eq!(
        decision["hookSpecificOutput"]["permissionDecision"], "deny",
        "{decision}"
    );
    let reason = decision["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("daily budget of agent:alpha is spent"),
        "{reason}"
    );
    // The agent named by the header counts as on the socket.
    let by_header = post_hook(
        addr,
        &tool_event("PreToolUse", None, "t3"),
        &[("X-Hookmeter-Agent", "alpha")],
    );
    assert_eq!(by_header.text(), denied.text());

    // Not a PreToolUse, not enforced, another scope: `{}`.
    for (what, body) in [
        (
            "a PostToolUse",
            tool_event("PostToolUse", Some("alpha"), "p1"),
        ),
        (
            "a budget not enforced",
            tool_event("PreToolUse", Some("beta"), "t4"),
        ),
        (
            "a scope with no budget",
            tool_event("PreToolUse", Some("gamma"), "t5"),
        ),
    ] {
        let answer = post_hook(addr, &body, &[]);
        assert_eq!(
            (answer.status, answer.text()),
            (200, "{}".to_string()),
            "{what}"
        );
    }
    // A denied event is still recorded, like every other.
    assert_eq!(
        home.count(
            "SELECT count(*) FROM hook_events WHERE event_name = 'PreToolUse' AND source = 'http'"
        ),
        5
    );
    assert!(daemon.stop().success());
}
