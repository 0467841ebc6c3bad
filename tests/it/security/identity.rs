//! Distinct occurrences stay distinct, redeliveries stay one, and usage no
//! call can plausibly count is refused with a reason instead of priced
//! (docs/hook-protocol.md#identity-and-attribution, docs/usage.md#implausible-usage).
//! Everything against the real daemon: `hookmeter send`, the socket, the
//! spool and `POST /hook`.

use crate::common::*;
use serde_json::{json, Value};

/// Claude Code's Stop payload: nothing in it changes from one turn of a
/// session to the next.
fn stop() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "session_id": "s-ident",
        "transcript_path": "/nonexistent/s-ident.jsonl",
        "cwd": "/home/dev/shop",
        "permission_mode": "default",
        "hook_event_name": "Stop",
        "stop_hook_active": false
    }))
    .unwrap()
}

fn hook_events(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM hook_events")
}

fn assert_sent(out: &std::process::Output) {
    assert!(out.status.success(), "send failed: {out:?}");
    assert!(out.stdout.is_empty(), "send printed on stdout: {out:?}");
    assert!(out.stderr.is_empty(), "send complained: {out:?}");
}

/// Waits until the daemon has taken every file out of the spool (it deletes
/// a file only once its events are committed).
fn wait_spool_empty(home: &Home, daemon: &Daemon) {
    wait_until(
        "the spool to be drained",
        || home.spool_files().is_empty(),
        || format!("spool: {:?}\n{}", home.spool_files(), daemon.log_text()),
    );
}

#[test]
fn two_identical_stops_sent_by_two_send_runs_are_two_events() {
    let home = Home::new();
    let _daemon = home.start();
    assert_sent(&home.send(&stop(), &[]));
    assert_sent(&home.send(&stop(), &[]));
    assert_eq!(hook_events(&home), 2, "each turn's Stop is its own event");
    assert_eq!(
        home.count(
            "SELECT count(DISTINCT hook_event_id) FROM hook_events WHERE event_name = 'Stop'"
        ),
        2
    );
}

#[test]
fn the_same_envelope_line_twice_over_the_socket_is_one_event() {
    let home = Home::new();
    let daemon = home.start();
    let line = serde_json::to_vec(&json!({
        "hookmeter": 1,
        "received_at": "2026-11-23T09:00:00.123Z",
        "distinct": true,
        "payload": serde_json::from_slice::<Value>(&stop()).unwrap()
    }))
    .unwrap();
    let mut client = daemon.connect();
    let first = client.roundtrip(&line);
    let second = client.roundtrip(&line);
    assert_eq!(first["ok"], true, "{first}");
    assert_eq!(second["ok"], true, "{second}");
    assert_eq!(first["id"], second["id"], "a redelivery keeps its id");
    assert_eq!(hook_events(&home), 1);
}

#[test]
fn a_spool_file_delivered_twice_is_one_event() {
    let home = Home::new();
    // No daemon yet: send spools the event.
    assert_sent(&home.send(&stop(), &[]));
    let spooled = home.spool_files();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    let bytes = std::fs::read(home.spool().join(&spooled[0])).unwrap();

    let daemon = home.start();
    wait_spool_empty(&home, &daemon);
    assert_eq!(hook_events(&home), 1);

    // The same file copied back into the spool: a redelivery, not a new turn.
    home.spool_drop("copied-back.json", &bytes);
    wait_spool_empty(&home, &daemon);
    assert_eq!(hook_events(&home), 1);
    assert_eq!(home.count("SELECT count(*) FROM rejected_events"), 0);
}

#[test]
fn an_older_sends_spooled_envelope_is_still_the_event_already_stored() {
    // An envelope as `send` wrote it before `distinct` existed, still in a
    // spool when the daemon is upgraded; the event it holds may already be
    // stored under the id of its payload alone (here: delivered bare).
    let home = Home::new();
    let daemon = home.start();
    let ack = daemon.connect().roundtrip(&stop());
    assert_eq!(ack["ok"], true, "{ack}");
    let old = serde_json::to_vec(&json!({
        "hookmeter": 1,
        "received_at": "2026-11-23T09:00:00.123Z",
        "host": "build-1",
        "payload": serde_json::from_slice::<Value>(&stop()).unwrap()
    }))
    .unwrap();
    home.spool_drop("older-send.json", &old);
    wait_spool_empty(&home, &daemon);
    assert_eq!(hook_events(&home), 1);
    let id: String = home
        .db()
        .query_row("SELECT hook_event_id FROM hook_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(Value::String(id), ack["id"]);
}

#[test]
fn prompt_id_makes_each_prompts_event_distinct() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let stop_of = |prompt: &str| {
        let mut payload: Value = serde_json::from_slice(&stop()).unwrap();
        payload["prompt_id"] = json!(prompt);
        serde_json::to_vec(&payload).unwrap()
    };
    for line in [stop_of("p-1"), stop_of("p-2"), stop_of("p-1")] {
        let ack = client.roundtrip(&line);
        assert_eq!(ack["ok"], true, "{ack}");
    }
    assert_eq!(
        hook_events(&home),
        2,
        "one event per prompt, redelivery once"
    );
}

/// A payload priced at Opus rates with these counts.
fn usage_payload(id: &str, input: u64, output: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "hook_event_id": id,
        "hook_event_name": "PostToolUse",
        "session_id": "s-limits",
        "model": "claude-opus-4-1",
        "usage": {"input_tokens": input, "output_tokens": output}
    }))
    .unwrap()
}

fn rejected(home: &Home) -> Vec<(String, String, String)> {
    let conn = home.db();
    let mut stmt = conn
        .prepare("SELECT source, reason_code, reason FROM rejected_events ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

#[test]
fn implausible_usage_over_the_socket_is_rejected_with_a_reason_and_not_priced() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();

    // The forged record: a million output tokens is at the limit,
    // a million prompt tokens well under it; one more output token is not.
    let ack = client.roundtrip(&usage_payload("over", 1_000_000, 1_000_001));
    assert_eq!(ack["ok"], false, "{ack}");
    let error = ack["error"].as_str().unwrap();
    assert!(error.contains("1000001 output tokens"), "{error}");
    assert!(error.contains("max_output_tokens"), "{error}");
    assert!(ack.get("retry").is_none(), "{ack}");

    let ack = client.roundtrip(&usage_payload("prompt-over", 10_000_001, 1));
    assert_eq!(ack["ok"], false, "{ack}");
    assert!(
        ack["error"].as_str().unwrap().contains("max_prompt_tokens"),
        "{ack}"
    );

    let rows = rejected(&home);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (source, code, reason) in &rows {
        assert_eq!(source, "socket");
        assert_eq!(code, "implausible_usage");
        assert!(reason.contains("limit of"), "{reason}");
    }
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    assert_eq!(hook_events(&home), 0);

    // Exactly at both limits: believable, so priced.
    let ack = client.roundtrip(&usage_payload("at", 10_000_000, 1_000_000));
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(ack["records"], 1, "{ack}");
    let cost: f64 = home
        .db()
        .query_row(
            "SELECT estimated_cost_usd FROM cost_records WHERE hook_event_id = 'at'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(cost > 0.0, "priced: {cost}");
}

#[test]
fn implausible_usage_over_post_hook_is_a_400_with_the_reason() {
    let home = Home::new();
    let daemon = home.start();
    let addr = daemon.http();
    let json_body = [("Content-Type", "application/json")];

    let response = http_request(
        addr,
        "POST",
        "/hook",
        &json_body,
        &usage_payload("http-over", 1_000_000, 1_000_001),
    );
    assert_eq!(response.status, 400, "{}", response.text());
    let error = response.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("implausible usage"), "{error}");
    assert!(error.contains("max_output_tokens"), "{error}");
    let rows = rejected(&home);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("http", "implausible_usage")
    );
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);

    let response = http_request(
        addr,
        "POST",
        "/hook",
        &json_body,
        &usage_payload("http-at", 10_000_000, 1_000_000),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE hook_event_id = 'http-at'"),
        1
    );

    // Counted in /metrics by its reason.
    let metrics = http_get(addr, "/metrics").text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hookmeter_events_total")
                && l.contains("outcome=\"rejected\"")
                && l.contains("reason=\"implausible_usage\"")),
        "{metrics}"
    );
}

#[test]
fn the_limits_come_from_the_config_file() {
    let home = Home::new();
    home.write_config("[limits]\nmax_prompt_tokens = 1000\nmax_output_tokens = 100\n");
    let daemon = home.start();
    let mut client = daemon.connect();
    let ack = client.roundtrip(&usage_payload("cfg-over", 1000, 101));
    assert_eq!(ack["ok"], false, "{ack}");
    assert!(
        ack["error"].as_str().unwrap().contains("limit of 100;"),
        "{ack}"
    );
    let ack = client.roundtrip(&usage_payload("cfg-at", 1000, 100));
    assert_eq!(ack["ok"], true, "{ack}");

    let shown = succeed(home.command().args(["config", "--json"]));
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["limits.max_prompt_tokens"]["value"], 1000, "{shown}");
    assert_eq!(shown["limits.max_output_tokens"]["value"], 100, "{shown}");
    assert_eq!(
        shown["limits.max_output_tokens"]["origin"], "file",
        "{shown}"
    );
}
