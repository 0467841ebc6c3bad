//! One model, one name: the spellings of a model that one price entry
//! prices are one row in every report (`report --by model`, the API's
//! `group_by=model`), a model filter takes either name, and each record
//! keeps the name its event gave.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// Four spellings of Claude Sonnet 4.5 (two Bedrock forms), a model the
/// table does not know, and a second unknown one a `pricing.toml` entry
/// will later price by prefix.
const MODELS: &[&str] = &[
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "acme-coder-9000",
    "acme-coder-pro",
];

fn seeded() -> Home {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (n, model) in MODELS.iter().enumerate() {
        let event = json!({"session_id": "s-n", "model": model, "event_id": format!("n-{n}"),
                           "timestamp": format!("2026-09-20T08:0{n}:00Z"),
                           "usage": {"input_tokens": 1000, "output_tokens": 100}});
        assert_eq!(client.roundtrip(event.to_string().as_bytes())["ok"], true);
    }
    assert!(daemon.stop().success());
    home
}

fn json_of(home: &Home, args: &[&str]) -> Value {
    let text = succeed(home.command().args(args));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// `(key, records)` of each group, sorted by key.
fn groups(report: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = report["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups: {report}"))
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["records"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn owned(rows: &[(&str, i64)]) -> Vec<(String, i64)> {
    rows.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[test]
fn the_spellings_of_one_entry_are_one_row_and_records_keep_their_names() {
    let home = seeded();
    // Bedrock's regional endpoint is priced apart (1.1×), so it stays apart;
    // unknown models keep their own names, never the fallback's key.
    let want = owned(&[
        ("acme-coder-9000", 1),
        ("acme-coder-pro", 1),
        ("claude-sonnet-4-5", 3),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1),
    ]);
    let report = json_of(&home, &["report", "--by", "model", "--json"]);
    assert_eq!(groups(&report), want, "{report}");
    let sonnet_cost: f64 = home
        .db()
        .query_row(
            "SELECT total(estimated_cost_usd) FROM cost_records WHERE model IN
                 ('claude-sonnet-4-5', 'claude-sonnet-4-5-20250929',
                  'anthropic.claude-sonnet-4-5-20250929-v1:0')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let row = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "claude-sonnet-4-5")
        .unwrap();
    assert_cost(row["cost_usd"].as_f64().unwrap(), sonnet_cost, "sonnet row");

    // A filter takes the grouped name (all three spellings) or a raw one
    // (that spelling only, as before).
    let filtered = |model: &str| -> i64 {
        json_of(&home, &["report", "--model", model, "--json"])["total_records"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(filtered("claude-sonnet-4-5"), 3);
    assert_eq!(filtered("claude-sonnet-4-5-20250929"), 1);
    assert_eq!(filtered("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), 1);

    // Every record keeps the name its event gave, beside the grouped one.
    let tail = succeed(home.command().args(["tail", "-n", "10", "--json"]));
    let mut raw: Vec<(String, String)> = tail
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            let name = |field: &str| r[field].as_str().unwrap().to_string();
            (name("model"), name("model_key"))
        })
        .collect();
    raw.sort();
    let sonnet = "claude-sonnet-4-5".to_string();
    let regional = "us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_string();
    let as_is = |m: &str| (m.to_string(), m.to_string());
    let want_raw = vec![
        as_is("acme-coder-9000"),
        as_is("acme-coder-pro"),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0".to_string(),
            sonnet.clone(),
        ),
        (sonnet.clone(), sonnet.clone()),
        ("claude-sonnet-4-5-20250929".to_string(), sonnet.clone()),
        (regional.clone(), regional.clone()),
    ];
    assert_eq!(raw, want_raw);
    assert_rollup_matches(&home);

    // The API groups and filters the same way.
    let daemon = home.start();
    let addr = daemon.http();
    let summary = http_get(addr, "/api/costs/summary?group_by=model&time_range=all").json();
    assert_eq!(groups(&summary), want, "{summary}");
    let page = http_get(addr, "/api/costs?model=claude-sonnet-4-5&time_range=all").json();
    let mut names: Vec<&str> = page["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records: {page}"))
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929"
        ]
    );
    assert!(daemon.stop().success());
}

#[test]
fn reprice_names_records_by_the_entry_that_prices_them_now() {
    let home = seeded();
    // An entry of the user's own prices `acme-coder-pro` by prefix.
    let pricing = home.config_file().with_file_name("pricing.toml");
    std::fs::create_dir_all(pricing.parent().unwrap()).unwrap();
    std::fs::write(&pricing, "[models.\"acme-coder\"]\ninput = 1\noutput = 2\n").unwrap();
    let out = succeed(home.command().arg("reprice"));
    assert!(out.contains("changed 1 of"), "{out}");
    let report = json_of(&home, &["report", "--by", "model", "--json"]);
    assert_eq!(
        groups(&report),
        owned(&[
            ("acme-coder", 1),
            ("acme-coder-9000", 1),
            ("claude-sonnet-4-5", 3),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1),
        ]),
        "{report}"
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE model = 'acme-coder-pro' AND model_key = 'acme-coder'"),
        1
    );
    assert_rollup_matches(&home);
}
