//! Unknown models never hide: records priced at the fallback rates, sent
//! through the real daemon's socket, show in `today`, `report` (table and
//! JSON), the HTTP API, `/metrics` and `doctor`; `hookmeter pricing set`
//! prices such a model in the user's pricing.toml.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// Two models no table entry knows, and one it does.
const UNKNOWN_A: &str = "acme-coder-9000";
const UNKNOWN_B: &str = "zz-mystery-llm-7";
const KNOWN: &str = "claude-haiku-4-5";

/// An event that happened now (no timestamp in the payload).
fn event(id: &str, model: &str, input: u64, output: u64) -> Vec<u8> {
    json!({
        "hookmeter": 1,
        "agent_id": "codex",
        "payload": {
            "hook_event_name": "PostToolUse",
            "event_id": id,
            "session_id": "s-fallback",
            "model": model,
            "usage": {"input_tokens": input, "output_tokens": output},
        },
    })
    .to_string()
    .into_bytes()
}

/// A running daemon that stored one known and three unknown records.
fn seeded() -> (Home, Daemon) {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (id, model, input, output) in [
        ("k1", KNOWN, 10_000, 2_000),
        ("a1", UNKNOWN_A, 100_000, 20_000),
        ("a2", UNKNOWN_A, 50_000, 1_000),
        ("b1", UNKNOWN_B, 1_000, 100),
    ] {
        let ack = client.roundtrip(&event(id, model, input, output));
        assert_eq!(ack["ok"], true, "{id}: {ack}");
    }
    (home, daemon)
}

/// (records, cost) of the fallback-priced records, by SQL.
fn sql_fallback(home: &Home, condition: &str) -> (i64, f64) {
    home.db()
        .query_row(
            &format!(
                "SELECT count(*), total(estimated_cost_usd) FROM cost_records
                 WHERE pricing_source = 'fallback' AND {condition}"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

fn json_of(home: &Home, args: &[&str]) -> Value {
    let text = succeed(home.command().args(args));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// The answer's fallback part equals SQL's, model by model.
fn assert_fallback(answer: &Value, home: &Home, what: &str) {
    let part = &answer["fallback_priced"];
    let (records, cost) = sql_fallback(home, "1");
    assert_eq!(part["records"], records, "{what}: {answer}");
    assert_cost(part["cost_usd"].as_f64().unwrap(), cost, what);
    let models = part["models"].as_array().unwrap();
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [UNKNOWN_A, UNKNOWN_B],
        "{what}: most expensive first"
    );
    for m in models {
        let model = m["model"].as_str().unwrap();
        let (records, cost) = sql_fallback(home, &format!("model = '{model}'"));
        assert_eq!(m["records"], records, "{what}: {model}");
        assert_cost(m["cost_usd"].as_f64().unwrap(), cost, what);
    }
}

#[test]
fn fallback_priced_records_show_in_today_report_the_api_and_metrics() {
    let (home, daemon) = seeded();
    let (records, _) = sql_fallback(&home, "1");
    assert_eq!(
        records, 3,
        "the unknown models were priced at the fallback rates"
    );

    // Tables: a notice naming each model, the amount and the fix.
    for args in [&["today", "--tz", "UTC"][..], &["report", "--by", "agent"]] {
        let text = succeed(home.command().args(args));
        let notice = text
            .lines()
            .find(|l| l.starts_with("Fallback-priced: "))
            .unwrap_or_else(|| panic!("{args:?}: no notice:\n{text}"));
        assert!(
            notice.contains(UNKNOWN_A) && notice.contains(UNKNOWN_B),
            "{notice}"
        );
        assert!(
            notice.contains("2 records") && notice.contains("1 record"),
            "{notice}"
        );
        assert!(text.contains("hookmeter pricing set MODEL"), "{text}");
    }
    // A filter that keeps no fallback-priced record prints no notice.
    let known = succeed(home.command().args(["report", "--model", KNOWN]));
    assert!(!known.contains("Fallback"), "{known}");
    let known = json_of(&home, &["report", "--json", "--model", KNOWN]);
    assert_eq!(
        known["fallback_priced"],
        json!({"cost_usd": 0.0, "records": 0, "models": []})
    );
    let zero = known["fallback_priced"]["cost_usd"].as_f64().unwrap();
    assert!(zero.is_sign_positive(), "0, not -0: {known}");

    // JSON: the same numbers as SQL.
    assert_fallback(
        &json_of(&home, &["today", "--json", "--tz", "UTC"]),
        &home,
        "today",
    );
    assert_fallback(&json_of(&home, &["report", "--json"]), &home, "report");
    let addr = daemon.http();
    let api = http_get(addr, "/api/costs/summary?group_by=model").json();
    assert_fallback(&api, &home, "GET /api/costs/summary");

    // /metrics: one series per model, summing to SQL's, accepted by promtool.
    let text = http_get(addr, "/metrics").text();
    for model in [UNKNOWN_A, UNKNOWN_B] {
        let (records, cost) = sql_fallback(&home, &format!("model = '{model}'"));
        let value = |name: &str| -> f64 {
            let prefix = format!("{name}{{model=\"{model}\"}} ");
            let line = text
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("{prefix} missing:\n{text}"));
            line[prefix.len()..].parse().unwrap()
        };
        assert_cost(value("hookmeter_fallback_priced_cost_usd"), cost, model);
        assert_eq!(value("hookmeter_fallback_priced_records"), records as f64);
    }
    assert!(
        !text.contains(&format!(
            "hookmeter_fallback_priced_records{{model=\"{KNOWN}\"}}"
        )),
        "a known model is not fallback-priced"
    );
    common::promtool_check(&text);
}

#[test]
fn fallback_models_past_the_label_cap_are_summed_as_other_in_metrics() {
    let home = Home::new();
    home.write_config("[metrics]\nmax_label_values = 1\n");
    let daemon = home.start();
    let mut client = daemon.connect();
    for (id, model) in [
        ("a", UNKNOWN_A),
        ("b", UNKNOWN_B),
        ("c", "yet-another-model-3"),
    ] {
        assert_eq!(client.roundtrip(&event(id, model, 1_000, 10))["ok"], true);
    }
    let text = http_get(daemon.http(), "/metrics").text();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("hookmeter_fallback_priced_records{"))
        .collect();
    assert_eq!(series.len(), 2, "one named model and other: {series:?}");
    assert!(
        series.iter().any(|l| l.contains("model=\"other\"} 2")),
        "{series:?}"
    );
}

#[test]
fn doctor_lists_the_fallback_priced_models_with_the_fix() {
    let (home, daemon) = seeded();
    let text = String::from_utf8(home.command().arg("doctor").output().unwrap().stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("pricing.fallback: "))
        .unwrap_or_else(|| panic!("no pricing.fallback:\n{text}"));
    assert!(line.starts_with("warn"), "{line}");
    assert!(
        line.contains(UNKNOWN_A) && line.contains(UNKNOWN_B),
        "{line}"
    );
    assert!(line.contains("3 records"), "{line}");
    assert!(text.contains("hookmeter pricing set MODEL"), "{text}");
    drop(daemon);

    let clean = Home::new();
    let daemon = clean.start();
    let ack = daemon.connect().roundtrip(&event("k", KNOWN, 10, 10));
    assert_eq!(ack["ok"], true);
    let text = String::from_utf8(clean.command().arg("doctor").output().unwrap().stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("pricing.fallback: ")),
        "{text}"
    );
}

#[test]
fn pricing_set_writes_a_user_entry_that_check_and_a_reloaded_daemon_use() {
    let (home, daemon) = seeded();
    let out = succeed(home.command().args([
        "pricing",
        "set",
        UNKNOWN_A,
        "--input",
        "1",
        "--output",
        "2",
        "--cache-read",
        "0.1",
    ]));
    assert!(
        out.contains(&format!("Added the entry \"{UNKNOWN_A}\"")),
        "{out}"
    );
    assert!(out.contains("was priced by the fallback"), "{out}");
    assert!(out.contains("SIGHUP"), "{out}");

    let check = succeed(home.command().args(["pricing", "check", UNKNOWN_A]));
    assert!(
        check
            .lines()
            .any(|l| l.starts_with("source") && l.contains("user")),
        "{check}"
    );
    assert!(check.contains("cache read      0.1"), "{check}");

    // Updating keeps what was not given; the previous file is backed up.
    let out = succeed(
        home.command()
            .args(["pricing", "set", UNKNOWN_A, "--input", "3", "--output", "4"]),
    );
    assert!(out.contains("Updated the entry"), "{out}");
    assert!(out.contains("The previous file is saved as"), "{out}");
    let check = succeed(home.command().args(["pricing", "check", UNKNOWN_A]));
    assert!(check.contains("input           3"), "{check}");
    assert!(check.contains("cache read      0.1"), "{check}");

    // A daemon told to reload prices a new record with it.
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the reloaded daemon prices the model as the user entry",
        || {
            let id = format!("after-{}", home.count("SELECT count(*) FROM cost_records"));
            let ack = daemon
                .connect()
                .roundtrip(&event(&id, UNKNOWN_A, 1_000_000, 0));
            assert_eq!(ack["ok"], true);
            home.count(&format!(
                "SELECT count(*) FROM cost_records WHERE hook_event_id LIKE '%{id}%' AND pricing_source = 'user'"
            )) == 1
        },
        || daemon.log_text(),
    );
    let cost: f64 = home
        .db()
        .query_row(
            "SELECT estimated_cost_usd FROM cost_records WHERE pricing_source = 'user' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_cost(cost, 3.0, "1M input tokens at $3 per 1M");
}

#[test]
fn pricing_set_refuses_bad_values_and_leaves_the_file_alone() {
    let home = Home::new();
    succeed(
        home.command()
            .args(["pricing", "set", UNKNOWN_A, "--input", "1", "--output", "2"]),
    );
    let check_before = succeed(home.command().args(["pricing", "list"]));
    for args in [
        &["--input", "-1", "--output", "2"][..],
        &["--input", "nan", "--output", "2"],
        &["--input", "inf", "--output", "2"],
        &["--input", "1", "--output", "2", "--cache-read", "-0.5"],
        &[
            "--input",
            "1",
            "--output",
            "2",
            "--cache-write-1h",
            "2000000",
        ],
        &["--input", "1"],
        &["--input", "one", "--output", "2"],
    ] {
        let out = home
            .command()
            .args(["pricing", "set", UNKNOWN_B])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
            "{args:?}"
        );
    }
    let out = home
        .command()
        .args(["pricing", "set", "  ", "--input", "1", "--output", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        succeed(home.command().args(["pricing", "list"])),
        check_before
    );
}
