//! Table-level tests: the built-in table, the shared fixtures' costs,
//! normalization through lookup, overrides and properties. Reading a
//! `pricing.toml` from disk and the `pricing` commands' text are the
//! hookmeter crate's (its `pricing` module has their tests).

use proptest::prelude::*;

use super::*;
use crate::terms::{Billing, Usage};

const TOLERANCE: f64 = 1e-9;

fn usage(input: u64, cache_read: u64, cache_write: u64, write_1h: u64, output: u64) -> Usage {
    Usage {
        input,
        cache_read,
        cache_write,
        cache_write_1h: write_1h,
        output,
        reasoning: 0,
    }
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_cost(table: &PriceTable, model: &str, u: Usage, fast: bool, expected: f64) {
    let priced = table.price(model, &u, &Billing::fast(fast), None);
    assert!(
        (priced.cost_usd - expected).abs() < TOLERANCE,
        "{model}: got {} want {expected}",
        priced.cost_usd
    );
}

// ------------------------------------------------------------ built-in table

#[test]
fn the_built_in_table_parses_and_is_dated() {
    let table = PriceTable::embedded();
    assert_eq!(table.as_of(), "2026-08-01");
    assert!(table.entries().count() > 100);
    assert!(table.warnings().is_empty(), "{:?}", table.warnings());
    assert!(table.user_file().is_none());
}

/// The binary carries `prices.toml` as JSON (build.rs); both must read as
/// the same file, to the last bit of every rate (a float parsed a shade off
/// would move costs without anyone changing a price).
#[test]
fn embedded_json_is_the_toml() {
    let from_json = file::PriceFile::parse_json(table::EMBEDDED_JSON, table::EMBEDDED_ORIGIN)
        .expect("the embedded JSON parses");
    let from_toml = file::PriceFile::parse(include_str!("prices.toml"), "prices.toml")
        .expect("prices.toml parses");
    assert_eq!(from_json.models.len(), from_toml.models.len());
    for (key, spec) in &from_toml.models {
        assert_eq!(from_json.models.get(key), Some(spec), "{key}");
    }
    assert_eq!(from_json, from_toml);
}

#[test]
fn every_built_in_entry_has_a_known_provider_and_coherent_rates() {
    for entry in PriceTable::embedded().entries() {
        let provider = entry.provider();
        assert!(
            !provider.is_empty() && provider != UNKNOWN_PROVIDER,
            "{}",
            entry.key()
        );
        assert_eq!(entry.source(), PricingSource::Embedded);
        let r = entry.rates();
        // These make cost monotonic in every token count: moving a write to
        // the 1h lifetime, or crossing the threshold, never lowers a cost.
        assert!(r.cache_write_1h >= r.cache_write_5m, "{}", entry.key());
        if let Some(t) = &r.long_context {
            assert!(
                t.input >= r.input && t.output >= r.output,
                "{}",
                entry.key()
            );
            assert!(t.cache_read >= r.cache_read, "{}", entry.key());
            assert!(t.cache_write_5m >= r.cache_write_5m, "{}", entry.key());
            assert!(t.cache_write_1h >= r.cache_write_1h, "{}", entry.key());
            assert!(t.cache_write_1h >= t.cache_write_5m, "{}", entry.key());
        }
    }
}

#[test]
fn every_alias_resolves_to_its_own_entry() {
    let table = PriceTable::embedded();
    for entry in table.entries() {
        for name in std::iter::once(entry.key()).chain(entry.aliases().iter().map(String::as_str)) {
            let found = table.lookup(name);
            assert_eq!(found.kind, MatchKind::Exact, "{name}");
            assert_eq!(found.key, entry.key(), "{name}");
        }
    }
}

#[test]
fn corrected_and_derived_facts() {
    let table = PriceTable::embedded();
    // LiteLLM's 1h write for claude-3-haiku (6.00) is a data error: 2x input.
    assert_eq!(
        table.lookup("claude-3-haiku-20240307").rates.cache_write_1h,
        0.5
    );
    assert_eq!(
        table.lookup("claude-3-opus-20240229").rates.cache_write_1h,
        30.0
    );
    assert_eq!(
        table
            .lookup("claude-3-5-haiku-20241022")
            .rates
            .cache_write_1h,
        1.6
    );
    assert_eq!(table.lookup("claude-3-5-haiku-latest").rates.input, 0.8);
    assert_eq!(
        table.lookup("claude-4-opus-20250514").rates.cache_write_1h,
        30.0
    );
    let fast = |m: &str| table.lookup(m).rates.fast_multiplier;
    assert_eq!(fast("claude-opus-4-6"), Some(6.0));
    assert_eq!(fast("claude-opus-4-7"), Some(6.0));
    assert_eq!(fast("claude-opus-4-8"), Some(2.0));
    assert_eq!(fast("claude-opus-5"), Some(2.0));
    assert_eq!(fast("claude-sonnet-4-5"), None);
    let tier = |m: &str| {
        table
            .lookup(m)
            .rates
            .long_context
            .clone()
            .map(|t| t.threshold)
    };
    assert_eq!(tier("gpt-5.4"), Some(272_000));
    assert_eq!(tier("gemini-1.5-pro"), Some(128_000));
    assert_eq!(tier("xai/grok-4-0709"), Some(128_000));
    assert_eq!(tier("xai/grok-4"), None);
    assert_eq!(tier("claude-sonnet-4-6"), None);
}

#[test]
fn the_table_can_be_shared_across_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn sendable<T: Send + Sync + std::error::Error + 'static>() {}
    shareable::<PriceTable>();
    sendable::<PricingError>();
}

// ------------------------------------------------------------ fixture costs

#[test]
fn hook_fixture_costs() {
    let table = PriceTable::embedded();
    // anthropic-usage.json
    assert_cost(
        &table,
        "claude-sonnet-4-5",
        usage(1200, 5000, 800, 0, 300),
        false,
        0.0126,
    );
    // nested-response-usage.json: 2000 prompt of which 1500 cached.
    assert_cost(
        &table,
        "gpt-4o-mini",
        usage(500, 1500, 0, 0, 500),
        false,
        0.0004875,
    );
    // openai-responses.json: 10000 input of which 8000 cached.
    assert_cost(&table, "gpt-5", usage(2000, 8000, 0, 0, 700), false, 0.0105);
    // gemini-aftermodel.json: 4000 prompt, 1000 cached, 200 + 100 thoughts.
    assert_cost(
        &table,
        "gemini-2.5-flash",
        usage(3000, 1000, 0, 0, 300),
        false,
        0.00168,
    );
    // local-ollama.json
    let local = table.price(
        "ollama/qwen3:4b",
        &usage(5000, 0, 0, 0, 3000),
        &Billing::fast(false),
        None,
    );
    assert_eq!(local.cost_usd, 0.0);
    assert_eq!(local.source, PricingSource::Local);
    assert_eq!(local.source.as_str(), "local");
    assert_eq!(local.provider, "ollama");
}

#[test]
fn transcript_fixture_costs() {
    let table = PriceTable::embedded();
    // (model as written in the transcript, usage, fast, cost) from
    // transcript-expected.json.
    let records = [
        (
            "claude-sonnet-4-5-20250929",
            usage(4, 0, 25277, 0, 97),
            false,
            0.09625575,
        ),
        (
            "claude-sonnet-4-5-20250929",
            usage(3, 26000, 1200, 1200, 340),
            false,
            0.020109,
        ),
        (
            "claude-haiku-4-5-20251001",
            usage(10, 700, 1200, 0, 30),
            false,
            0.00173,
        ),
        (
            "claude-opus-4-6",
            usage(6, 16410, 8837, 8837, 136),
            true,
            0.60003,
        ),
        (
            "claude-sonnet-4-5-20250929",
            usage(5000, 210000, 0, 0, 800),
            false,
            0.174,
        ),
        (
            "claude-sonnet-4-5-20250929",
            usage(2, 30000, 0, 0, 50),
            false,
            0.009756,
        ),
    ];
    let mut total = 0.0;
    for (model, u, fast, expected) in records {
        assert_cost(&table, model, u, fast, expected);
        total += table.price(model, &u, &Billing::fast(fast), None).cost_usd;
    }
    assert!((total - 0.90188075).abs() < TOLERANCE, "{total}");
}

// ------------------------------------------------------------ normalization

#[test]
fn provider_region_and_suffix_spellings_find_their_entry() {
    let table = PriceTable::embedded();
    for (model, key, provider) in [
        (
            "anthropic/claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5",
            "anthropic",
        ),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock",
        ),
        (
            "bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "bedrock",
        ),
        (
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5",
            "anthropic",
        ),
        (
            "vertex_ai/claude-opus-4-5@20251101",
            "claude-opus-4-5",
            "anthropic",
        ),
        (
            "vertex_ai/claude-opus-4@20250514",
            "claude-opus-4",
            "anthropic",
        ),
        ("CLAUDE-Opus-4-6-20260205", "claude-opus-4-6", "anthropic"),
        ("gemini/gemini-2.5-flash", "gemini-2.5-flash", "google"),
        ("gemini-2-5-flash", "gemini-2.5-flash", "google"),
        ("openai/gpt-4o", "gpt-4o", "openai"),
        // Its own entry: the facts give the snapshot no priority tier.
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "openai"),
        ("gpt-5-2025-08-07", "gpt-5", "openai"),
        ("gpt-5.1-codex", "gpt-5.1-codex", "openai"),
        ("gpt-5.1-codex-mini", "gpt-5.1-codex-mini", "openai"),
        ("claude-opus", "claude-opus", "anthropic"),
        (
            "watsonx/ibm/granite-13b-chat-v2",
            "watsonx/ibm/granite-13b-chat-v2",
            "ibm",
        ),
        ("xai/grok-4.3", "grok-4.3", "xai"),
        (
            "deepseek/deepseek-chat",
            "deepseek/deepseek-chat",
            "deepseek",
        ),
        ("deepseek-chat", "deepseek-chat", "deepseek"),
        (
            "mistral/mistral-large-2512",
            "mistral-large-2512",
            "mistral",
        ),
        ("command-r-08-2024", "command-r-08-2024", "cohere"),
    ] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Exact, "{model}");
        assert_eq!((found.key, found.provider), (key, provider), "{model}");
        assert_eq!(found.source, PricingSource::Embedded, "{model}");
    }
    // A regional endpoint costs what Bedrock charges for it: 1.1x.
    let u = usage(1000, 0, 0, 0, 1000);
    let regional = table.price(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        &u,
        &Billing::fast(false),
        None,
    );
    let first_party = table.price("claude-sonnet-4-5", &u, &Billing::fast(false), None);
    assert!((regional.cost_usd - first_party.cost_usd * 1.1).abs() < TOLERANCE);
}

#[test]
fn a_dated_key_with_its_own_price_wins_over_date_stripping() {
    let table = PriceTable::embedded();
    let old = table.lookup("openai/gpt-4o-2024-05-13");
    assert_eq!((old.key, old.kind), ("gpt-4o-2024-05-13", MatchKind::Exact));
    assert_eq!((old.rates.input, old.rates.output), (5.0, 15.0));
    let bedrock_style = table.lookup("gpt-4o-2024-05-13-v1:0");
    assert_eq!(bedrock_style.key, "gpt-4o-2024-05-13");
    assert_eq!(table.lookup("gpt-4o").rates.input, 2.5);
}

#[test]
fn longer_names_match_the_longest_key_they_extend() {
    let table = PriceTable::embedded();
    for (model, key) in [
        ("claude-opus-4-6-thinking", "claude-opus-4-6"),
        ("anthropic.claude-opus-4-5-v1", "claude-opus-4-5"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("gpt-4o:latest", "gpt-4o"),
        ("o4-mini-high", "o4-mini"),
    ] {
        let found = table.lookup(model);
        assert_eq!((found.key, found.kind), (key, MatchKind::Prefix), "{model}");
    }
    // Never across a version number, never onto the fallback's key, and
    // never when another key shares more of the name (a variant the table
    // prices differently: gpt-4o-audio-preview is not gpt-4o).
    for model in [
        "claude-opus-9-whatever",
        "claude-sonnet-7",
        "claude-haiku-5-20270101",
        "gpt-4o-audio",
        "gemini-2.5-flash-lite-preview",
    ] {
        assert_eq!(table.lookup(model).kind, MatchKind::Fallback, "{model}");
    }
    // A key is never matched in the middle of a word.
    assert_ne!(table.lookup("gpt-4o-audio").key, "gpt-4");
    assert_eq!(
        table.lookup("command-r7b-12-2024").key,
        "command-r7b-12-2024"
    );
}

#[test]
fn unknown_and_empty_names_fall_back_to_opus_never_zero() {
    let table = PriceTable::embedded();
    for model in ["totally-unknown-model", "", "   ", "openai/", "llama-3-70b"] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Fallback, "{model:?}");
        assert_eq!(found.source, PricingSource::Fallback);
        assert_eq!(found.provider, "unknown");
        assert_eq!(found.key, "claude-opus");
        let r = found.rates;
        assert_eq!(
            (
                r.input,
                r.output,
                r.cache_read,
                r.cache_write_5m,
                r.cache_write_1h
            ),
            (5.0, 25.0, 0.5, 6.25, 10.0)
        );
        let priced = table.price(
            model,
            &usage(1_000_000, 0, 0, 0, 0),
            &Billing::fast(false),
            None,
        );
        assert_eq!(priced.cost_usd, 5.0);
        assert_eq!(priced.source.as_str(), "fallback");
    }
    assert_eq!(
        table.lookup("Unknown-Model-20250101").normalized,
        "unknown-model"
    );
}

#[test]
fn local_providers_are_free_but_named() {
    let table = PriceTable::embedded();
    for (model, provider) in [
        ("ollama/qwen3:4b", "ollama"),
        ("ollama_chat/llama3", "ollama"),
        ("lmstudio/qwen2.5-coder", "lmstudio"),
        ("LOCAL", "local"),
        ("cli", "cli"),
        ("cli_bridge", "cli_bridge"),
        ("cli_bridge/claude-sonnet-4-5", "cli_bridge"),
        // A local model named like a hosted one is still local.
        ("ollama/deepseek-r1:8b", "ollama"),
    ] {
        let found = table.lookup(model);
        assert_eq!(found.kind, MatchKind::Local, "{model}");
        assert_eq!(found.provider, provider, "{model}");
        let priced = table.price(
            model,
            &usage(10, 10, 10, 10, 10),
            &Billing::fast(true),
            None,
        );
        assert_eq!(priced.cost_usd, 0.0);
        assert_eq!(priced.source, PricingSource::Local);
    }
}

// ------------------------------------------------------------ overrides

#[test]
fn only_aliases_the_user_wrote_are_warned_about_when_a_key_shadows_them() {
    // The replaced entry carries the built-in alias claude-sonnet-4-5-20250929
    // over; the user's own key of that name shadows it without a warning.
    let table = PriceTable::build(
        Some((
            "pricing.toml",
            "[models.claude-sonnet-4-5]\ninput = 3\noutput = 15\n\
             [models.claude-sonnet-4-5-20250929]\ninput = 1\noutput = 1\n",
        )),
        no_env(),
    )
    .unwrap();
    assert!(table.warnings().is_empty(), "{:?}", table.warnings());
    assert_eq!(table.lookup("claude-sonnet-4-5-20250929").rates.input, 1.0);

    let table = PriceTable::build(
        Some((
            "pricing.toml",
            "[models.my-a]\naliases = [\"my-b\"]\ninput = 1\noutput = 1\n\
             [models.my-b]\ninput = 2\noutput = 2\n",
        )),
        no_env(),
    )
    .unwrap();
    assert_eq!(table.warnings().len(), 1, "{:?}", table.warnings());
    assert!(table.warnings()[0].contains("\"my-b\""));
}

#[test]
fn an_opus_family_override_reaches_the_fallback() {
    let table = PriceTable::build(None, env(&[("COST_PRICING_OPUS_INPUT", "4")])).unwrap();
    let unknown = table.lookup("some-new-model");
    assert_eq!(
        (unknown.rates.input, unknown.source),
        (4.0, PricingSource::Fallback)
    );
    assert_eq!(table.lookup("claude-opus-4-1").rates.input, 4.0);
}

#[test]
fn cache_write_override_moves_the_1h_rate_only_where_it_was_defaulted() {
    let table = PriceTable::build(
        None,
        env(&[
            ("COST_PRICING_CLAUDE_HAIKU_4_5_CACHE_WRITE", "1.5"),
            ("COST_PRICING_GPT_4O_MINI_INPUT", "0.2"),
        ]),
    )
    .unwrap();
    let haiku = table.lookup("claude-haiku-4-5").rates;
    assert_eq!((haiku.cache_write_5m, haiku.cache_write_1h), (1.5, 2.0));
    // gpt-4o-mini's cache writes default to input, so they follow it.
    let mini = table.lookup("gpt-4o-mini").rates;
    assert_eq!(
        (mini.input, mini.cache_write_5m, mini.cache_read),
        (0.2, 0.2, 0.075)
    );
}

#[test]
fn a_bad_env_value_is_an_error_naming_the_variable() {
    for value in ["abc", "-1", "NaN", "inf", ""] {
        let error =
            PriceTable::build(None, env(&[("COST_PRICING_OPUS_OUTPUT", value)])).unwrap_err();
        assert!(matches!(error, PricingError::Env { .. }), "{value}");
        assert!(
            error.to_string().contains("COST_PRICING_OPUS_OUTPUT"),
            "{error}"
        );
    }
}

#[test]
fn unknown_pricing_variables_are_warnings_not_errors() {
    let table = PriceTable::build(
        None,
        env(&[
            ("COST_PRICING_OPSU_INPUT", "1"),
            ("COST_PRICING_OPUS_INPT", "1"),
            ("COST_PRICING_INPUT", "1"),
        ]),
    )
    .unwrap();
    let warnings = table.warnings().join("\n");
    assert!(warnings.contains("COST_PRICING_OPSU_INPUT"), "{warnings}");
    assert!(warnings.contains("COST_PRICING_OPUS_INPT"), "{warnings}");
    assert!(warnings.contains("COST_PRICING_INPUT"), "{warnings}");
    assert_eq!(
        table.lookup("claude-opus-4-6").source,
        PricingSource::Embedded
    );
}

#[test]
fn conflicting_family_overrides_are_resolved_deterministically_and_reported() {
    let pairs = [
        ("COST_PRICING_OPUS_INPUT", "4"),
        ("COST_PRICING_CLAUDE_INPUT", "3"),
    ];
    let forward = PriceTable::build(None, env(&pairs)).unwrap();
    let mut reversed_pairs = pairs;
    reversed_pairs.reverse();
    let reversed = PriceTable::build(None, env(&reversed_pairs)).unwrap();
    let a = forward.lookup("claude-opus-4-6").rates.input;
    assert_eq!(a, reversed.lookup("claude-opus-4-6").rates.input);
    assert_eq!(
        a, 4.0,
        "COST_PRICING_OPUS_* sorts after COST_PRICING_CLAUDE_*"
    );
    assert!(!forward.warnings().is_empty());
}

#[test]
fn entries_serialize_for_the_api() {
    let table = PriceTable::embedded();
    let json = serde_json::to_value(table.entries().collect::<Vec<_>>()).unwrap();
    let first = &json[0];
    assert!(first["key"].is_string() && first["rates"]["input"].is_number());
    assert_eq!(first["source"], "embedded");
}

// ------------------------------------------------------------ properties

fn any_model() -> impl Strategy<Value = String> {
    let keys: Vec<String> = PriceTable::embedded()
        .entries()
        .map(|entry| entry.key().to_string())
        .collect();
    prop_oneof![
        any::<String>(),
        "[a-z0-9./@:_-]{0,40}",
        (proptest::sample::select(keys), "[-:@._a-z0-9]{0,12}")
            .prop_map(|(key, tail)| format!("{key}{tail}")),
        proptest::sample::select(vec![
            "ollama/qwen3:4b".to_string(),
            "claude-opus-4-6".to_string(),
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_string(),
        ]),
    ]
}

fn any_usage() -> impl Strategy<Value = Usage> {
    let count = || 0u64..=1_000_000_000_000;
    (count(), count(), count(), count(), count(), count()).prop_map(
        |(input, cache_read, cache_write, write_1h, output, reasoning)| Usage {
            input,
            cache_read,
            cache_write,
            cache_write_1h: write_1h.min(cache_write),
            output,
            reasoning: reasoning.min(output),
        },
    )
}

proptest! {
    #[test]
    fn any_name_and_usage_price_to_a_finite_non_negative_cost(
        model in any_model(),
        u in any_usage(),
        fast in any::<bool>(),
    ) {
        let table = PriceTable::embedded();
        let priced = table.price(&model, &u, &Billing::fast(fast), None);
        prop_assert!(priced.cost_usd.is_finite());
        prop_assert!(priced.cost_usd >= 0.0);
        prop_assert!(!priced.provider.is_empty());
    }

    #[test]
    fn cost_never_falls_when_a_token_count_grows(
        model in any_model(),
        u in any_usage(),
        fast in any::<bool>(),
        field in 0usize..5,
        extra in 1u64..=1_000_000_000_000,
    ) {
        let table = PriceTable::embedded();
        let mut more = u;
        match field {
            0 => more.input += extra,
            1 => more.cache_read += extra,
            2 => more.cache_write += extra,
            3 => {
                // More of the writes at the 1-hour lifetime, same total.
                more.cache_write_1h = (u.cache_write_1h + extra).min(u.cache_write);
            }
            _ => more.output += extra,
        }
        let before = table.price(&model, &u, &Billing::fast(fast), None).cost_usd;
        let after = table.price(&model, &more, &Billing::fast(fast), None).cost_usd;
        // Moving tokens between two equal rates may round differently.
        prop_assert!(after >= before * (1.0 - 1e-12), "{before} -> {after}");
    }
}

#[test]
fn spellings_of_one_entry_are_reported_under_its_key() {
    let table = PriceTable::embedded();
    let name = |model: &str| {
        table
            .price(model, &Usage::default(), &Billing::default(), None)
            .report_name(model)
            .to_string()
    };
    for spelling in [
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "Claude-Sonnet-4.5",
        "claude-sonnet-4-5@20250929",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ] {
        assert_eq!(name(spelling), "claude-sonnet-4-5", "{spelling}");
    }
    // A route with a price of its own is its own entry, so its own row.
    assert_eq!(
        name("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    assert_eq!(name("gpt-5-2025-08-07"), "gpt-5");
    // Unknown and local models keep their own names, never the fallback's key.
    assert_eq!(name("acme-coder-9000"), "acme-coder-9000");
    assert_eq!(name("claude-opus-4-9"), "claude-opus-4-9");
    assert_eq!(name("ollama/qwen3-coder"), "ollama/qwen3-coder");
}
