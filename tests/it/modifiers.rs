//! Billing modifiers the usage reports, through the real daemon: a
//! geography and a service tier the table has rates for change the stored
//! cost; one it has no rate for is priced at the standard rates, flagged on
//! the record, counted by `doctor`, and priced by `reprice` once
//! pricing.toml gives the rate.

use crate::common;

use common::*;
use serde_json::json;

/// Stored cost and flag of the one record of `session`.
fn record(home: &Home, session: &str) -> (f64, Option<String>) {
    home.db()
        .query_row(
            "SELECT estimated_cost_usd, unpriced_modifiers FROM cost_records WHERE session_id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn reported_modifiers_are_priced_by_their_facts_and_flagged_without_one() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let million_in = json!({"input_tokens": 1_000_000, "output_tokens": 0});
    let events = [
        // Anthropic: the geography in the usage object; Opus 4.7 is $5 per
        // 1M input, 1.1x in the US per the facts.
        json!({"session_id": "geo-us", "model": "claude-opus-4-7",
               "message": {"usage": {"input_tokens": 1_000_000, "output_tokens": 0,
                                     "service_tier": "standard", "inference_geo": "us"}}}),
        json!({"session_id": "geo-global", "model": "claude-opus-4-7",
               "message": {"usage": {"input_tokens": 1_000_000, "output_tokens": 0,
                                     "inference_geo": "global"}}}),
        // OpenAI Responses: the tier on the response holding the usage;
        // GPT-5 flex input is $0.625 per 1M, priority $2.50.
        json!({"session_id": "flex", "model": "gpt-5",
               "response": {"service_tier": "flex", "usage": million_in}}),
        json!({"session_id": "priority", "model": "gpt-5",
               "response": {"service_tier": "priority", "usage": million_in}}),
        json!({"session_id": "default", "model": "gpt-5",
               "response": {"service_tier": "default", "usage": million_in}}),
        // No fact: GPT-5.1 has no flex price, Sonnet 4.5 no US factor.
        json!({"session_id": "flex-none", "model": "gpt-5.1",
               "response": {"service_tier": "flex", "usage": million_in}}),
        // (100k tokens: Sonnet bills a prompt over 200k at its long-context rates.)
        json!({"session_id": "geo-none", "model": "claude-sonnet-4-5",
               "message": {"usage": {"input_tokens": 100_000, "output_tokens": 0,
                                     "inference_geo": "us"}}}),
    ];
    for event in &events {
        assert_eq!(client.roundtrip(event.to_string().as_bytes())["ok"], true);
    }
    assert!(daemon.stop().success());

    let priced = |session: &str, want: f64| {
        let (cost, flag) = record(&home, session);
        assert_cost(cost, want, session);
        assert_eq!(flag, None, "{session}");
    };
    priced("geo-us", 5.5);
    priced("geo-global", 5.0);
    priced("flex", 0.625);
    priced("priority", 2.5);
    priced("default", 1.25);
    let (cost, flag) = record(&home, "flex-none");
    assert_cost(cost, 1.25, "gpt-5.1 flex without a fact");
    assert_eq!(flag.as_deref(), Some("service_tier=flex"));
    let (cost, flag) = record(&home, "geo-none");
    assert_cost(cost, 0.3, "sonnet 4.5 in the US without a fact");
    assert_eq!(flag.as_deref(), Some("inference_geo=us"));
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE service_tier = 'flex'"),
        2
    );

    // doctor counts them, with the fix.
    let text = String::from_utf8(home.command().arg("doctor").output().unwrap().stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("pricing.modifiers: "))
        .unwrap_or_else(|| panic!("no pricing.modifiers:\n{text}"));
    assert!(line.starts_with("warn"), "{line}");
    assert!(
        line.contains("2 records") && line.contains("gpt-5.1 service_tier=flex"),
        "{line}"
    );

    // pricing.toml gives GPT-5.1 a flex price: reprice applies the stored
    // tier and clears the flag.
    let pricing = home.config_file().with_file_name("pricing.toml");
    std::fs::create_dir_all(pricing.parent().unwrap()).unwrap();
    std::fs::write(
        pricing,
        "[models.\"gpt-5.1\"]\ninput = 1.25\noutput = 10\ncache_read = 0.125\n\
         service_tier = { flex = { input = 0.5, output = 4 } }\n",
    )
    .unwrap();
    let out = home.command().arg("reprice").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let (cost, flag) = record(&home, "flex-none");
    assert_cost(cost, 0.5, "gpt-5.1 flex repriced");
    assert_eq!(flag, None);
    assert_eq!(
        record(&home, "geo-none").1.as_deref(),
        Some("inference_geo=us")
    );
}

/// A request over the long-context threshold in a service tier: priced at
/// the tier's own long-context rates where the facts give them, else at the
/// standard long-context rates and flagged.
#[test]
fn a_long_request_in_a_tier_takes_the_tiers_long_context_rates() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    // 300k input tokens: over GPT-5.6's and GPT-5.4's 272k threshold.
    let long = json!({"input_tokens": 300_000, "output_tokens": 0});
    let events = [
        // GPT-5.6 flex above 272k: $5 per 1M input (standard long: $10).
        json!({"session_id": "flex-long", "model": "gpt-5.6",
               "response": {"service_tier": "flex", "usage": long}}),
        // Azure's GPT-5.4 priority above 272k: $10 per 1M (standard long: $5).
        json!({"session_id": "priority-long", "model": "azure/gpt-5.4",
               "response": {"service_tier": "priority", "usage": long}}),
        // GPT-5.6 has priority rates, but none above 272k in the facts.
        json!({"session_id": "priority-none", "model": "gpt-5.6",
               "response": {"service_tier": "priority", "usage": long}}),
    ];
    for event in &events {
        assert_eq!(client.roundtrip(event.to_string().as_bytes())["ok"], true);
    }
    assert!(daemon.stop().success());

    let (cost, flag) = record(&home, "flex-long");
    assert_cost(cost, 1.5, "gpt-5.6 flex over 272k");
    assert_eq!(flag, None);
    let (cost, flag) = record(&home, "priority-long");
    assert_cost(cost, 3.0, "azure gpt-5.4 priority over 272k");
    assert_eq!(flag, None);
    let (cost, flag) = record(&home, "priority-none");
    assert_cost(cost, 3.0, "gpt-5.6 priority over 272k without a fact");
    assert_eq!(flag.as_deref(), Some("service_tier=priority"));
}
