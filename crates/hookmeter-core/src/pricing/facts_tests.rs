//! The built-in table against the facts it is generated from: the
//! checked-in `prices.toml` is the generator's output, and every priced key
//! of the facts resolves to its own rates, except the corrections listed
//! here.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::generate::{generate, CORRECTIONS};
use super::import::candidate;
use super::*;

/// LiteLLM's price file of 2026-08-01, the facts the table is made from.
const FACTS: &str = include_str!("../../../../tests/fixtures/litellm-model-prices-2026-08-01.json");
const PRICES: &str = include_str!("prices.toml");

/// The facts keys whose resolved rates differ from the facts, on purpose:
/// each is a `[[correction]]` of corrections.toml (data errors of the facts).
const EXPECTED_CORRECTIONS: &[&str] = &[
    "claude-3-haiku-20240307",
    "claude-3-opus-20240229",
    "claude-4-opus-20250514",
    "claude-4-sonnet-20250514",
    "claude-sonnet-4-20250514",
    "claude-sonnet-5",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
    "openrouter/google/gemini-3-pro-preview",
    "openrouter/google/gemini-3.1-pro-preview",
    "vertex_ai/gemini-3-pro-preview",
    "vertex_ai/gemini-3.1-pro-preview",
    "vertex_ai/gemini-3.1-pro-preview-customtools",
];

fn facts() -> Map<String, Value> {
    match serde_json::from_str(FACTS) {
        Ok(Value::Object(root)) => root,
        other => panic!("the facts file is not a JSON object: {other:?}"),
    }
}

#[test]
fn the_checked_in_table_is_what_the_generator_makes_of_the_facts() {
    let generated = generate(FACTS, CORRECTIONS).unwrap();
    assert!(
        generated == PRICES,
        "src/pricing/prices.toml is not what the generator makes of the facts and \
         corrections.toml; edit corrections.toml, not prices.toml, then run \
         `cargo run -p hookmeter-core --example gen_prices`"
    );
}

#[test]
fn every_priced_facts_key_resolves_exactly_to_its_own_rates() {
    let table = PriceTable::embedded();
    let mut checked = 0;
    let mut differing: Vec<String> = Vec::new();
    let mut by_mode: BTreeMap<String, usize> = BTreeMap::new();
    for (key, value) in &facts() {
        let Ok(expected) = candidate(key, value) else {
            continue;
        };
        checked += 1;
        *by_mode
            .entry(value["mode"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
        let found = table.lookup(key);
        assert_eq!(found.kind, MatchKind::Exact, "{key} matched {found:?}");
        assert_eq!(found.source, PricingSource::Embedded, "{key}");
        if found.rates != &expected.spec.rates() {
            differing.push(key.clone());
        }
    }
    differing.sort();
    assert_eq!(differing, EXPECTED_CORRECTIONS);
    // Every chat and responses model with token prices, not a sample.
    assert!(checked > 2000, "only {checked} priced keys: {by_mode:?}");
    assert!(
        by_mode["responses"] > 50 && by_mode["chat"] > 2000,
        "{by_mode:?}"
    );
}

#[test]
fn the_corrected_keys_carry_the_corrected_rates() {
    let table = PriceTable::embedded();
    let rates = |model: &str| table.lookup(model).rates.clone();
    assert_eq!(rates("claude-3-haiku-20240307").cache_write_1h, 0.5);
    assert_eq!(rates("claude-3-opus-20240229").cache_write_1h, 30.0);
    assert_eq!(rates("claude-4-opus-20250514").cache_write_1h, 30.0);
    for model in ["claude-sonnet-4-20250514", "claude-4-sonnet-20250514"] {
        let tier = rates(model).long_context.unwrap();
        assert_eq!(
            (rates(model).cache_write_1h, tier.cache_write_1h),
            (6.0, 12.0)
        );
    }
    // Dropped from the facts, kept for old records.
    assert_eq!(rates("claude-3-5-haiku-latest").input, 0.8);
    assert_eq!(rates("claude-3-5-sonnet-20241022").output, 15.0);
    assert_eq!(rates("gemini-1.5-pro").long_context.unwrap().input, 2.5);
}

/// `claude-sonnet-5`'s promotional $2/$10 (the facts' price) holds through
/// 2026-08-31; from the next day the Sonnet list price.
#[test]
fn the_promotional_price_holds_on_its_days_only() {
    let table = PriceTable::embedded();
    let found = table.lookup("claude-sonnet-5");
    let facts = facts();
    let promo = candidate("claude-sonnet-5", &facts["claude-sonnet-5"])
        .unwrap()
        .spec
        .rates();
    let at = |text: &str| Some(text.parse::<jiff::Timestamp>().unwrap());
    assert_eq!(found.rates_at(at("2026-08-01T09:00:00Z")), &promo);
    assert_eq!(found.rates_at(at("2026-08-31T23:59:59Z")), &promo);
    let list = found.rates_at(at("2026-09-01T00:00:00Z"));
    assert_eq!(
        (
            list.input,
            list.output,
            list.cache_read,
            list.cache_write_5m,
            list.cache_write_1h
        ),
        (3.0, 15.0, 0.3, 3.75, 6.0)
    );
    assert_eq!(list.inference_geo, promo.inference_geo);
    assert_eq!(found.rates, list);
    // The dated spelling is the same model, with the same history.
    let dated = table.lookup("claude-sonnet-5-20260601");
    assert_eq!(dated.rates_at(at("2026-08-02T00:00:00Z")), &promo);
}

/// A provider-routed name is priced at what that route charges, not the
/// first-party price (the facts' own numbers, per 1M tokens).
#[test]
fn routed_names_get_their_providers_price() {
    let table = PriceTable::embedded();
    let cases: &[(&str, f64, f64)] = &[
        ("claude-sonnet-4-5", 3.0, 15.0),
        // Bedrock's regional endpoints charge 10% more.
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.3, 16.5),
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            3.0,
            15.0,
        ),
        ("moonshot/kimi-k2-0905-preview", 0.6, 2.5),
        ("kimi-k2-0905-preview", 0.6, 2.5),
        ("grok-code-fast-1", 0.2, 1.5),
        ("xai/grok-4-1-fast-reasoning", 0.2, 0.5),
        ("mistral/devstral-2512", 0.4, 2.0),
    ];
    for &(model, input, output) in cases {
        let found = table.lookup(model);
        assert_eq!(
            (found.rates.input, found.rates.output),
            (input, output),
            "{model}: {found:?}"
        );
    }
    // A third-party host of an open model is not the first party's price.
    let groq = table.lookup("groq/moonshotai/kimi-k2-instruct-0905");
    let moonshot = table.lookup("kimi-k2-0905-preview");
    assert_eq!(groq.provider, "groq");
    assert_ne!(groq.rates, moonshot.rates);
}

/// Names that extend a key across a version number, or name a variant the
/// table prices differently, are unknown: the Opus fallback, marked.
#[test]
fn version_traps_fall_back_instead_of_borrowing_a_price() {
    let table = PriceTable::embedded();
    for model in [
        "gpt-5.7",
        "gpt-5-7",
        "gpt-5.7-codex",
        "gpt-6",
        "claude-opus-4-9",
        "claude-opus-4-9-20270101",
        "claude-opus-9",
        "claude-sonnet-4-7",
        "claude-sonnet-6",
        "claude-haiku-5",
        "anthropic/claude-opus-4-9",
        "us.anthropic.claude-opus-4-9-v1:0",
        "grok-4-2-fast",
        "grok-4.21-reasoning",
        "grok-4-fast",
        "gemini-3.7-flash",
        "gemini-2.5-flash-9",
        "o5",
        "o3-7",
        "codestral-2701",
        "mistral-medium-2701",
        "kimi-k2-0999-preview",
        "deepseek-v9",
        "claude-opus-latest-9",
    ] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Fallback, "{model}: {found:?}");
        assert_eq!(found.source, PricingSource::Fallback, "{model}");
        assert_eq!(found.provider, UNKNOWN_PROVIDER, "{model}");
        assert_eq!(found.rates.input, 5.0, "{model}");
    }
}

/// The names: each now finds its own facts entry, not a shorter
/// key's price.
#[test]
fn names_that_used_to_borrow_a_shorter_keys_price_find_their_own() {
    let table = PriceTable::embedded();
    for (model, key) in [
        ("grok-4-1-fast", "grok-4-1-fast"),
        ("grok-4-1-fast-reasoning", "grok-4-1-fast-reasoning"),
        ("grok-4.20-0309-reasoning", "grok-4.20-0309-reasoning"),
        ("mistral-medium-2508", "mistral-medium-2508"),
        ("o3-deep-research", "o3-deep-research"),
        ("o3-deep-research-2025-06-26", "o3-deep-research"),
    ] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Exact, "{model}: {found:?}");
        assert!(found.key.ends_with(key), "{model}: {}", found.key);
    }
}

/// Dated and versioned spellings still normalize to their model.
#[test]
fn dated_suffixes_still_normalize() {
    let table = PriceTable::embedded();
    for (model, key) in [
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-4-5@20251101", "claude-opus-4-5"),
        ("claude-opus-4-6-20260205", "claude-opus-4-6"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        (
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5",
        ),
    ] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Exact, "{model}: {found:?}");
        assert_eq!(found.source, PricingSource::Embedded, "{model}");
        assert_eq!(
            found.rates,
            table.lookup(key).rates,
            "{model} priced unlike {key}"
        );
    }
}

#[test]
fn the_facts_modifiers_reach_the_table() {
    let table = PriceTable::embedded();
    let gpt_5 = table.lookup("gpt-5").rates;
    assert_eq!(gpt_5.service_tiers["flex"].input, 0.625);
    assert_eq!(gpt_5.service_tiers["priority"].output, 20.0);
    assert!(!table
        .lookup("gpt-5.1")
        .rates
        .service_tiers
        .contains_key("flex"));
    assert_eq!(
        table.lookup("gpt-4o").rates.service_tiers["batch"].input,
        1.25
    );
    assert_eq!(
        table.lookup("claude-opus-4-7").rates.inference_geo["us"],
        1.1
    );
    assert!(table
        .lookup("claude-sonnet-4-5")
        .rates
        .inference_geo
        .is_empty());
    let marked = facts()
        .values()
        .filter(|v| v["provider_specific_entry"].get("us").is_some())
        .count();
    assert_eq!(marked, 8, "the facts mark 8 models with a US factor");
}

/// Every facts key that prices a service tier above its long-context
/// threshold (`input_cost_per_token_above_272k_tokens_priority` and the
/// like) resolves to those rates, read straight from the facts, corrected
/// keys included: a long request in that tier is priced, not flagged.
#[test]
fn every_tier_long_context_rate_of_the_facts_reaches_the_table() {
    let table = PriceTable::embedded();
    let per_million = |value: &Value| value.as_f64().map(|per_token| per_token * 1e6);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let mut keys = 0;
    let mut rates_checked = 0;
    for (key, value) in &facts() {
        let Value::Object(fields) = value else {
            continue;
        };
        let mut found_any = false;
        for (field, price) in fields {
            let Some((base, rest)) = field.split_once("_above_") else {
                continue;
            };
            let Some((tag, suffix)) = rest.split_once("_tokens_") else {
                continue;
            };
            let tier = match suffix {
                "priority" => "priority",
                "flex" => "flex",
                "batches" => "batch",
                _ => continue,
            };
            let expected = per_million(price).unwrap_or_else(|| panic!("{key}.{field}"));
            let found = table.lookup(key);
            let threshold = found
                .rates
                .long_context
                .as_ref()
                .unwrap_or_else(|| panic!("{key} has no long-context tier"))
                .threshold;
            assert_eq!(threshold.to_string(), tag.replace('k', "000"), "{key}");
            let long = found
                .rates
                .service_tiers
                .get(tier)
                .and_then(|t| t.long_context.as_ref())
                .unwrap_or_else(|| panic!("{key}: no {tier} rates above {tag}: {found:?}"));
            let actual = match base {
                "input_cost_per_token" => long.input,
                "output_cost_per_token" => long.output,
                "cache_read_input_token_cost" => long.cache_read,
                "cache_creation_input_token_cost" => long.cache_write,
                other => panic!("{key}: an unexpected tier field {other}"),
            };
            assert!(
                close(actual, expected),
                "{key}.{field}: {actual} ≠ {expected}"
            );
            rates_checked += 1;
            found_any = true;
        }
        keys += usize::from(found_any);
    }
    // The facts of 2026-08-01: 27 keys, 84 such rates.
    assert_eq!((keys, rates_checked), (27, 84));
}
