//! `hookmeter reconcile` (docs/cli.md#hookmeter-reconcile): the real Claude
//! Code's OTel exports (tests/fixtures/otel/claude) and the transcripts of
//! the same runs, imported into the real daemon, then reconciled through the
//! binary: no difference where the prices agree, a changed rate named with
//! both rates, a fallback-priced model named, requests seen by one source
//! only counted.

use crate::common;
use crate::otlp::{capture, content_type, import, ledger, post, post_capture};

use common::*;
use serde_json::Value;

fn reconcile(home: &Home, json: bool) -> String {
    let mut cmd = home.command();
    cmd.args(["reconcile", "--tz", "UTC"]);
    if json {
        cmd.arg("--json");
    }
    succeed(&mut cmd)
}

fn answer(home: &Home) -> Value {
    serde_json::from_str(&reconcile(home, true)).unwrap()
}

/// The causes of every session, flattened.
fn causes(answer: &Value) -> Vec<Value> {
    answer["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["causes"].as_array().unwrap().clone())
        .collect()
}

fn usd(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn the_captures_reconcile_to_no_difference_once_the_transcripts_are_read() {
    for scenario in ["text", "tools"] {
        let dir = capture(scenario, "json");
        let requests = ledger(&dir).len() as i64;
        let home = Home::new();
        home.write_config(HOOKS_ONLY);
        let daemon = home.start();
        post_capture(daemon.http(), &dir, "json");

        // Events alone: every request is seen by one source only.
        let before = answer(&home);
        assert_eq!(before["totals"]["reported_records"], requests);
        let event_only: i64 = causes(&before)
            .iter()
            .filter(|c| c["cause"] == "event_only")
            .map(|c| c["requests"].as_i64().unwrap())
            .sum();
        assert_eq!(event_only, requests, "{before:#}");

        import(&home, &dir.join("transcript.jsonl"));
        let after = answer(&home);
        assert_eq!(after["totals"]["reported_records"], requests, "{after:#}");
        assert!(usd(&after["totals"]["reported_cost_usd"]) > 0.0);
        assert!(
            usd(&after["totals"]["difference_usd"]).abs() < 1e-6,
            "{scenario}: {after:#}"
        );
        assert_eq!(causes(&after), Vec::<Value>::new(), "{scenario}");
        assert_eq!(after["sessions"].as_array().unwrap().len(), 1);
        // The API gives the same answer.
        let api = http_get(daemon.http(), "/api/costs/reconcile").json();
        assert_eq!(api, after);
        let text = reconcile(&home, false);
        assert!(
            text.contains("Every reported cost agrees with hookmeter's."),
            "{text}"
        );
        daemon.stop();
    }
}

#[test]
fn a_changed_rate_is_named_with_both_rates() {
    let dir = capture("tools", "json");
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    // Sonnet 4.5 at twice its list rates, as a stale table would have it.
    std::fs::write(
        home.config_file().with_file_name("pricing.toml"),
        "[models.\"claude-sonnet-4-5\"]\ninput = 6\noutput = 30\ncache_read = 0.6\n\
         cache_write_5m = 7.5\ncache_write_1h = 12\n",
    )
    .unwrap();
    let daemon = home.start();
    post_capture(daemon.http(), &dir, "json");
    import(&home, &dir.join("transcript.jsonl"));
    let found = answer(&home);
    let totals = &found["totals"];
    let ours = usd(&totals["our_cost_of_reported_usd"]);
    let reported = usd(&totals["reported_cost_usd"]);
    assert!((ours - 2.0 * reported).abs() < 1e-5, "{found:#}");
    let rates: Vec<&Value> = found["sessions"][0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cause"] == "rate")
        .collect();
    let [rate] = rates[..] else {
        panic!("{found:#}")
    };
    assert_eq!(rate["model"], "claude-sonnet-4-5");
    assert_eq!(rate["records"], 3);
    let (our_rate, their_rate) = (
        usd(&rate["our_usd_per_mtok"]),
        usd(&rate["reported_usd_per_mtok"]),
    );
    assert!(their_rate > 0.0);
    assert!((our_rate - 2.0 * their_rate).abs() < 1e-3, "{rate:#}");
    let text = reconcile(&home, false);
    assert!(
        text.contains("claude-sonnet-4-5: rate differs on 3 requests: ours $"),
        "{text}"
    );
    daemon.stop();
}

#[test]
fn a_fallback_priced_model_and_requests_of_one_source_are_named() {
    let dir = capture("text", "json");
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    // The first run's export only, its model renamed to one no table knows;
    // the second run is in the transcript alone.
    let first = std::fs::read_to_string(dir.join("001-logs.json"))
        .unwrap()
        .replace("claude-haiku-4-5", "claude-mystery-9");
    let answer_ = post(daemon.http(), content_type("json"), &[], first.as_bytes());
    assert_eq!(answer_.status, 200, "{}", answer_.text());
    let found = answer(&home);
    let all = causes(&found);
    assert!(
        all.iter()
            .any(|c| c["cause"] == "fallback" && c["model"] == "claude-mystery-9"),
        "{found:#}"
    );
    import(&home, &dir.join("transcript.jsonl"));
    let found = answer(&home);
    let all = causes(&found);
    let one_source: Vec<&Value> = all
        .iter()
        .filter(|c| c["cause"] == "transcript_only")
        .collect();
    assert_eq!(one_source.len(), 1, "{found:#}");
    assert_eq!(one_source[0]["records"], 1);
    let text = reconcile(&home, false);
    assert!(text.contains("priced at the fallback rates"), "{text}");
    assert!(
        text.contains("1 request seen only in the transcript (no OTel event)"),
        "{text}"
    );
    daemon.stop();
}
