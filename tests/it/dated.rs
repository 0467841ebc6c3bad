//! Dated prices through the real daemon: a model whose price changes
//! between two records' timestamps prices each at the rates of its own
//! day; `reprice` keeps them there, and after the history is edited shows
//! the difference before writing it.

use crate::common;

use common::*;
use serde_json::json;

fn cost(home: &Home, session: &str) -> f64 {
    home.db()
        .query_row(
            "SELECT estimated_cost_usd FROM cost_records WHERE session_id = ?1",
            [session],
            |r| r.get(0),
        )
        .unwrap()
}

/// `acme-dated-1` costs $4 per 1M input tokens, but $1 through 2026-05-31.
const PRICING: &str = "[models.\"acme-dated-1\"]\ninput = 4\noutput = 8\n\
    [[models.\"acme-dated-1\".history]]\nuntil = \"2026-05-31\"\ninput = 1\noutput = 2\n";

#[test]
fn records_before_and_after_a_price_change_keep_their_own_rates() {
    let home = Home::new();
    home.write_config("");
    let pricing = home.config_file().with_file_name("pricing.toml");
    std::fs::write(&pricing, PRICING).unwrap();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (session, timestamp) in [
        ("before", "2026-05-31T23:30:00Z"),
        ("after", "2026-06-01T00:30:00Z"),
    ] {
        let event = json!({"session_id": session, "model": "acme-dated-1",
            "timestamp": timestamp,
            "message": {"usage": {"input_tokens": 1_000_000, "output_tokens": 0}}});
        assert_eq!(client.roundtrip(event.to_string().as_bytes())["ok"], true);
    }
    assert!(daemon.stop().success());
    assert_cost(cost(&home, "before"), 1.0, "the promotion's last day");
    assert_cost(cost(&home, "after"), 4.0, "the day after");

    // Reprice with the same prices: each record at its own day's rate.
    let out = home.command().args(["reprice"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("changed 0 of 2"), "{said}");
    assert_cost(cost(&home, "before"), 1.0, "repriced, before");
    assert_cost(cost(&home, "after"), 4.0, "repriced, after");

    // The history corrected: the earlier rate was $2. A dry run shows the
    // difference and writes nothing; the real run writes it.
    std::fs::write(&pricing, PRICING.replace("input = 1\n", "input = 2\n")).unwrap();
    let dry = home
        .command()
        .args(["reprice", "--dry-run"])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{dry:?}");
    let said = String::from_utf8(dry.stdout).unwrap();
    assert!(said.contains("would change 1 of 2"), "{said}");
    assert!(said.contains("acme-dated-1"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert_cost(cost(&home, "before"), 1.0, "after a dry run");
    let out = home.command().args(["reprice"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_cost(cost(&home, "before"), 2.0, "the corrected history");
    assert_cost(cost(&home, "after"), 4.0, "the undated rate, untouched");
}

/// `pricing check --at` shows the rates of the user file's history span
/// holding then, the undated ones outside it; `check` and `list` show the
/// span itself; a time that is not one is refused with exit status 2.
#[test]
fn pricing_check_at_a_time_shows_the_rates_in_force_then() {
    let home = Home::new();
    home.write_config("");
    let pricing = home.config_file().with_file_name("pricing.toml");
    std::fs::write(&pricing, PRICING).unwrap();
    let run = |args: &[&str]| {
        let out = home.command().args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let input_line = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("input "))
            .unwrap_or_else(|| panic!("no input rate:\n{text}"))
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let span = "history      until 2026-05-31: input 1, output 2,";

    let (code, text, _) = run(&["pricing", "check", "acme-dated-1", "--at", "2026-05-31"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(input_line(&text), "1", "{text}");
    assert!(text.contains("the history span until 2026-05-31"), "{text}");
    assert!(text.contains(span), "{text}");

    let (code, text, _) = run(&[
        "pricing",
        "check",
        "acme-dated-1",
        "--at",
        "2026-06-01T00:30:00Z",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(input_line(&text), "4", "{text}");
    assert!(text.contains("no history span holds then"), "{text}");
    assert!(text.contains(span), "{text}");

    // Without --at: the undated rates, the span still listed.
    let (_, text, _) = run(&["pricing", "check", "acme-dated-1"]);
    assert_eq!(input_line(&text), "4", "{text}");
    assert!(text.contains(span), "{text}");

    let (code, list, _) = run(&["pricing", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        list.contains("  acme-dated-1  until 2026-05-31: input 1, output 2,"),
        "{list}"
    );

    let (code, _, err) = run(&["pricing", "check", "acme-dated-1", "--at", "last june"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--at") && err.contains("RFC 3339"), "{err}");
}
