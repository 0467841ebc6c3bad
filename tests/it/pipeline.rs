//! Hook payloads in, priced rows out: every fixture through every source.

use crate::common;

use common::*;
use serde_json::Value;

#[test]
fn every_fixture_through_send_lands_with_its_expected_cost() {
    let home = Home::new();
    let daemon = home.start();
    for (name, payload, _) in hook_fixtures() {
        let out = home.send(
            &payload,
            &["--label", &format!("fixture={name}"), "--agent", "tester"],
        );
        assert!(out.status.success(), "{name}: send failed");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{name}: send printed on stdout");
    }
    let db = home.db();
    for (name, _, want) in hook_fixtures() {
        let events: i64 = db
            .query_row(
                "SELECT count(*) FROM hook_events WHERE json_extract(labels_json, '$.fixture') = ?1",
                [&name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(events, 1, "{name}: hook event stored once");
        let costs: Vec<(f64, String)> = db
            .prepare("SELECT estimated_cost_usd, agent_id FROM cost_records WHERE json_extract(labels_json, '$.fixture') = ?1")
            .unwrap()
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        match want {
            Some(want) => {
                assert_eq!(costs.len(), 1, "{name}: one cost record");
                assert_cost(costs[0].0, want, &name);
                assert_eq!(costs[0].1, "tester", "{name}: envelope agent wins");
            }
            None => assert!(costs.is_empty(), "{name}: no cost record expected"),
        }
    }
    assert!(
        home.spool_files().is_empty(),
        "send spooled although the daemon was up"
    );
    drop(daemon);
}

#[test]
fn every_fixture_through_the_socket_is_acked_after_commit_and_redelivery_is_one_row() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (name, payload, want) in hook_fixtures() {
        let line: Value = serde_json::from_slice(&payload).unwrap();
        let line = line.to_string();
        let ack = client.roundtrip(line.as_bytes());
        assert_eq!(ack["ok"], true, "{name}: {ack}");
        let id = ack["id"].as_str().unwrap().to_string();
        // The ack comes after the commit: the row is readable right now.
        let db = home.db();
        let rows: Vec<f64> = db
            .prepare("SELECT estimated_cost_usd FROM cost_records WHERE hook_event_id = ?1")
            .unwrap()
            .query_map([&id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ack["records"], rows.len(), "{name}: ack counts the records");
        match want {
            Some(want) => assert_cost(rows[0], want, &name),
            None => assert!(rows.is_empty(), "{name}"),
        }
        // Redelivery: same id, still exactly one row of each kind.
        let again = client.roundtrip(line.as_bytes());
        assert_eq!(again["id"], ack["id"], "{name}");
        let n: i64 = db
            .query_row(
                "SELECT count(*) FROM hook_events WHERE hook_event_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{name}: redelivery made a second hook event");
        let n: i64 = db
            .query_row(
                "SELECT count(*) FROM cost_records WHERE hook_event_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n,
            want.map_or(0, |_| 1),
            "{name}: redelivery made a second cost record"
        );
    }
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        hook_fixtures().len() as i64
    );
    assert_rollup_matches(&home);
    drop(daemon);
}

#[test]
fn a_larger_snapshot_of_the_same_event_replaces_the_record_and_a_smaller_one_does_not() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    // A streaming source repeats one call (same event id) with growing counts.
    let snapshot = |output: u64| {
        serde_json::json!({
            "event_id": "call-1", "session_id": "s", "model": "claude-sonnet-4-5",
            "timestamp": "2026-09-20T10:00:00Z",
            "usage": {"input_tokens": 1000, "output_tokens": output}
        })
        .to_string()
    };
    let cost = || -> (i64, i64) {
        home.db()
            .query_row(
                "SELECT count(*), max(output_tokens) FROM cost_records",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    for (output, want) in [(10, 10), (500, 500), (200, 500)] {
        let ack = client.roundtrip(snapshot(output).as_bytes());
        assert_eq!(ack["ok"], true, "{ack}");
        assert_eq!(
            cost(),
            (1, want),
            "after a snapshot with {output} output tokens"
        );
        assert_rollup_matches(&home);
    }
    let events = "SELECT events FROM event_counts WHERE outcome = 'accepted'";
    assert_eq!(home.count(events), 1, "one event, delivered three times");
    drop(daemon);
}

#[test]
fn spool_files_present_before_start_and_dropped_while_running_are_ingested() {
    let home = Home::new();
    std::fs::create_dir_all(home.spool()).unwrap();
    let fixtures = hook_fixtures();
    let (early, late) = fixtures.split_at(fixtures.len() / 2);
    for (name, payload, _) in early {
        std::fs::write(home.spool().join(format!("{name}.json")), payload).unwrap();
    }
    // A file still being written (dotfile / .tmp) must be left alone.
    std::fs::write(
        home.spool().join(".half.json.tmp"),
        b"{\"hook_event_name\":",
    )
    .unwrap();
    let daemon = home.start();
    // NDJSON: several events in one file, written the atomic way (tmp + rename).
    let ndjson: String = late
        .iter()
        .map(|(_, p, _)| serde_json::from_slice::<Value>(p).unwrap().to_string() + "\n")
        .collect();
    home.spool_drop("batch.ndjson", ndjson.as_bytes());

    wait_until(
        "the spool to drain",
        || home.spool_files() == vec![".half.json.tmp".to_string()],
        || format!("{:?}\n{}", home.spool_files(), daemon.log_text()),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        fixtures.len() as i64
    );
    assert!(
        home.rejected_files().is_empty(),
        "{:?}",
        home.rejected_files()
    );
    // Each expected cost appears exactly once.
    let db = home.db();
    let mut costs: Vec<f64> = db
        .prepare("SELECT estimated_cost_usd FROM cost_records ORDER BY estimated_cost_usd")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut want: Vec<f64> = fixtures.iter().filter_map(|f| f.2).collect();
    want.sort_by(f64::total_cmp);
    costs.sort_by(f64::total_cmp);
    assert_eq!(costs.len(), want.len());
    for (got, want) in costs.iter().zip(&want) {
        assert_cost(*got, *want, "spool");
    }
    // Redelivery through the spool changes nothing.
    let (name, payload, _) = &fixtures[0];
    home.spool_drop(&format!("{name}-again.json"), payload);
    wait_until(
        "the redelivered file to be taken",
        || home.spool_files().len() == 1,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        fixtures.len() as i64
    );
    drop(daemon);
}

#[test]
fn send_spools_when_the_daemon_is_down_and_the_next_start_drains_it() {
    let home = Home::new();
    let fixtures = hook_fixtures();
    for (name, payload, _) in &fixtures {
        let out = home.send(payload, &["--label", &format!("fixture={name}")]);
        assert!(out.status.success());
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        home.spool_files().len(),
        fixtures.len(),
        "one spool file per event"
    );
    let daemon = home.start();
    wait_until(
        "the spool to drain",
        || home.spool_files().is_empty(),
        || daemon.log_text(),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        fixtures.len() as i64
    );
    let anthropic: f64 = home
        .db()
        .query_row(
            "SELECT estimated_cost_usd FROM cost_records WHERE json_extract(labels_json,'$.fixture')='anthropic-usage'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_cost(anthropic, 0.0126, "anthropic-usage via spool");
    drop(daemon);
}

#[test]
fn session_model_prices_a_later_event_without_one() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let start = r#"{"hook_event_name":"SessionStart","session_id":"s-m","model":"claude-haiku-4-5-20251001"}"#;
    assert_eq!(client.roundtrip(start.as_bytes())["ok"], true);
    let later = r#"{"hook_event_name":"PostToolUse","session_id":"s-m","tool_use_id":"t1","usage":{"input_tokens":1000,"output_tokens":1000}}"#;
    let ack = client.roundtrip(later.as_bytes());
    assert_eq!(ack["records"], 1, "{ack}");
    let (model, cost): (String, f64) = home
        .db()
        .query_row(
            "SELECT model, estimated_cost_usd FROM cost_records WHERE session_id='s-m'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(model, "claude-haiku-4-5-20251001");
    assert_cost(cost, 0.006, "haiku 1000 in + 1000 out");
    drop(daemon);
    // After a restart the memory is empty; the stored events still know.
    let daemon = home.start();
    let mut client = daemon.connect();
    let after = r#"{"hook_event_name":"PostToolUse","session_id":"s-m","tool_use_id":"t2","usage":{"input_tokens":1000,"output_tokens":0}}"#;
    assert_eq!(client.roundtrip(after.as_bytes())["records"], 1);
    let model: String = home
        .db()
        .query_row(
            "SELECT model FROM cost_records WHERE hook_event_id='s-m:t2:PostToolUse'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(model, "claude-haiku-4-5-20251001");
}

#[test]
fn unknown_models_are_priced_as_opus_and_marked_fallback() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let line = r#"{"session_id":"s-u","model":"mystery-model-9","usage":{"input_tokens":1000000,"output_tokens":0}}"#;
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    let (cost, source): (f64, String) = home
        .db()
        .query_row(
            "SELECT estimated_cost_usd, pricing_source FROM cost_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(source, "fallback");
    assert!(cost > 0.0, "fallback must never be $0");
    drop(daemon);
}

#[test]
fn an_event_over_the_socket_line_limit_travels_through_the_spool() {
    let home = Home::new();
    home.write_config("[limits]\nmax_line_bytes = 65536\n");
    let daemon = home.start();
    let big = format!(
        r#"{{"hook_event_name":"PostToolUse","session_id":"s-big","tool_use_id":"t-big","model":"gpt-5","usage":{{"input_tokens":1000,"output_tokens":100}},"tool_response":{{"stdout":"{}"}}}}"#,
        "x".repeat(200_000)
    );
    let out = home.send(big.as_bytes(), &[]);
    assert!(out.status.success() && out.stdout.is_empty());
    wait_until(
        "the big event to land",
        || home.count("SELECT count(*) FROM cost_records WHERE session_id='s-big'") == 1,
        || daemon.log_text(),
    );
    assert_eq!(home.count("SELECT count(*) FROM rejected_events"), 0);
    wait_until(
        "the spool to drain",
        || home.spool_files().is_empty(),
        || daemon.log_text(),
    );
    // The stored payload obeys the default policy: truncated to 4 KiB.
    let stored: String = home
        .db()
        .query_row(
            "SELECT payload_json FROM hook_events WHERE session_id='s-big'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.len() <= 4096, "{}", stored.len());
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["truncated"], true);
    drop(daemon);
}

#[test]
fn send_still_delivers_when_the_config_file_is_broken() {
    let home = Home::new();
    let daemon = home.start();
    home.write_config("this is = = not toml");
    let (_, payload, want) = hook_fixtures()
        .into_iter()
        .find(|f| f.0 == "anthropic-usage")
        .unwrap();
    let out = home.send(&payload, &[]);
    assert!(out.status.success() && out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("config"),
        "says why on stderr"
    );
    let cost: f64 = home
        .db()
        .query_row("SELECT estimated_cost_usd FROM cost_records", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_cost(cost, want.unwrap(), "anthropic-usage");
    drop(daemon);
}

#[test]
fn secrets_in_payloads_never_reach_the_database() {
    let home = Home::new();
    let daemon = home.start();
    let line = r#"{"hook_event_name":"PostToolUse","session_id":"s-sec","tool_use_id":"t1","tool_input":{"command":"curl -H 'Authorization: Bearer abcdef0123456789abcdef' https://x","api_key":"sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"},"model":"gpt-5","usage":{"input_tokens":1,"output_tokens":1}}"#;
    assert_eq!(daemon.connect().roundtrip(line.as_bytes())["ok"], true);
    let db = home.db();
    let stored: String = db
        .query_row("SELECT payload_json FROM hook_events", [], |r| r.get(0))
        .unwrap();
    assert!(!stored.contains("abcdef0123456789abcdef"), "{stored}");
    assert!(!stored.contains("sk-ant-api03"), "{stored}");
    assert!(stored.contains("[REDACTED]"), "{stored}");
    // Stored once: the cost record points at it by hook_event_id.
    let copies = home.count("SELECT count(*) FROM cost_records WHERE payload_json IS NOT NULL");
    assert_eq!(copies, 0);
    drop(daemon);
}
