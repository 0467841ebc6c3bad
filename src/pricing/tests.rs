//! Tests of pricing's edge: the user's `pricing.toml` read from disk, the
//! environment's overrides as `pricing check` explains them, and the text
//! of `pricing list` / `pricing check`.

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use hookmeter_core::terms::Usage;

const TOLERANCE: f64 = 1e-9;

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A scratch file under the system temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "hookmeter-pricing-test-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_user_file_replaces_and_adds_entries() {
    let file = TempFile::with(
        "replace-add.toml",
        r#"
        as_of = "2026-09-01"

        [models.claude-sonnet-4-5]     # negotiated price; no tier in our contract
        input = 2
        output = 10

        [models."acme/acme-coder-1.5"]
        provider = "acme"
        input = 0.5
        output = 1
        cache_read = 0.05

        [models.claude-opus-7]         # provider inferred from the family
        input = 4
        output = 20
        "#,
    );
    let table = load(Some(&file.0), no_env()).unwrap();
    assert_eq!(table.user_as_of(), Some("2026-09-01"));
    assert_eq!(table.user_models(), 3);

    let replaced = table.lookup("claude-sonnet-4-5-20250929");
    assert_eq!(replaced.source, PricingSource::User);
    assert_eq!(replaced.provider, "anthropic", "provider carried over");
    assert_eq!(replaced.key, "claude-sonnet-4-5", "aliases carried over");
    assert_eq!(
        replaced.rates.cache_read, 2.0,
        "defaults come from the user's input"
    );
    assert!(replaced.rates.long_context.is_none());

    // A key with a route prices that route.
    let added = table.price(
        "acme/acme-coder-1.5",
        &Usage::of(1_000_000, 1_000_000, 0, 0),
        &crate::collect::Billing::standard(),
        None,
    );
    assert_eq!(
        (added.provider.as_str(), added.source),
        ("acme", PricingSource::User)
    );
    assert!((added.cost_usd - 0.55).abs() < TOLERANCE);
    assert_eq!(table.lookup("claude-opus-7").provider, "anthropic");
    assert_eq!(table.lookup("claude-opus-7-20270101").key, "claude-opus-7");

    // Untouched entries keep their built-in source.
    assert_eq!(table.lookup("gpt-5").source, PricingSource::Embedded);
}

#[test]
fn a_user_key_named_like_a_built_in_alias_takes_the_name_over() {
    let file = TempFile::with(
        "alias-takeover.toml",
        "[models.claude-sonnet-4-5-20250929]\ninput = 1\noutput = 1\n",
    );
    let table = load(Some(&file.0), no_env()).unwrap();
    assert_eq!(table.lookup("claude-sonnet-4-5-20250929").rates.input, 1.0);
    assert_eq!(table.lookup("claude-sonnet-4-5").rates.input, 3.0);
}

#[test]
fn a_missing_user_file_is_fine() {
    let path = std::env::temp_dir().join("hookmeter-pricing-test-does-not-exist.toml");
    let table = load(Some(&path), no_env()).unwrap();
    assert!(table.user_file().is_none());
    assert!(load(None, no_env()).is_ok());
}

#[test]
fn a_bad_user_file_is_an_error_naming_path_and_line() {
    let file = TempFile::with(
        "bad-value.toml",
        "[models.my-model]\ninput = 1\noutput = -2\n",
    );
    let message = load(Some(&file.0), no_env()).unwrap_err().to_string();
    assert!(message.contains(&file.0.display().to_string()), "{message}");
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("negative"), "{message}");

    let file = TempFile::with("not-toml.toml", "[models.x\ninput = 1\n");
    let error = load(Some(&file.0), no_env()).unwrap_err();
    assert!(matches!(error, PricingError::Parse { .. }));
    assert!(error.to_string().contains(&file.0.display().to_string()));

    let file = TempFile::with(
        "duplicate.toml",
        "[models.\"gpt-5.9\"]\ninput = 1\noutput = 1\n[models.gpt-5-9]\ninput = 2\noutput = 2\n",
    );
    let error = load(Some(&file.0), no_env()).unwrap_err();
    assert!(
        matches!(error, PricingError::DuplicateKey { .. }),
        "{error}"
    );
}

#[test]
fn an_unreadable_user_file_is_an_error_naming_the_path() {
    // A directory exists but cannot be read as a file.
    let dir = std::env::temp_dir();
    let error = load(Some(&dir), no_env()).unwrap_err();
    assert!(matches!(error, PricingError::Read { .. }));
    assert!(error.to_string().contains(&dir.display().to_string()));
}

#[test]
fn env_overrides_by_model_key_and_by_family() {
    let table = load(
        None,
        env(&[
            ("COST_PRICING_CLAUDE_SONNET_4_5_INPUT", "2"),
            ("COST_PRICING_SONNET_INPUT", "2.5"),
            ("COST_PRICING_SONNET_OUTPUT", "12"),
            ("COST_PRICING_GPT_CACHE_READ", "0"),
            ("COST_PRICING_GPT_5_1_CACHE_WRITE", "1"),
            ("PATH", "/usr/bin"),
        ]),
    )
    .unwrap();
    assert!(table.warnings().is_empty(), "{:?}", table.warnings());

    let own = table.lookup("claude-sonnet-4-5");
    assert_eq!(own.source, PricingSource::Env);
    assert_eq!(
        own.rates.input, 2.0,
        "a model's own variable wins over its family's"
    );
    assert_eq!(
        own.rates.output, 12.0,
        "the family still sets what the model's own does not"
    );
    assert_eq!(own.rates.cache_read, 0.3, "other rates are kept");

    let family = table.lookup("claude-sonnet-4-6");
    assert_eq!(
        (family.rates.input, family.source),
        (2.5, PricingSource::Env)
    );
    assert_eq!(
        table.lookup("claude-opus-4-6").source,
        PricingSource::Embedded
    );

    assert_eq!(table.lookup("gpt-4o").rates.cache_read, 0.0);
    let codex = table.lookup("gpt-5.1").rates;
    assert_eq!((codex.cache_write_5m, codex.cache_write_1h), (1.0, 1.0));

    let check = render_check(&table, "claude-sonnet-4-5", None);
    assert!(
        check.contains("COST_PRICING_CLAUDE_SONNET_4_5_INPUT"),
        "{check}"
    );
    assert!(check.contains("COST_PRICING_SONNET_OUTPUT"), "{check}");
}

#[test]
fn the_list_is_dated_and_shows_every_entry() {
    let table = PriceTable::embedded();
    let list = render_list(&table, None);
    assert!(
        list.lines().next().unwrap().contains("2026-08-01"),
        "{list}"
    );
    for entry in table.entries() {
        assert!(list.contains(entry.key()), "{}", entry.key());
    }
    let sonnet = list
        .lines()
        .find(|line| line.starts_with("claude-sonnet-4-5 "))
        .unwrap();
    assert!(sonnet.contains(">200k: 6/22.5/0.6/7.5/12"), "{sonnet}");
    let regional = list
        .lines()
        .find(|line| line.starts_with("us.anthropic.claude-sonnet-4-5-20250929-v1:0 "))
        .unwrap();
    assert!(regional.contains("bedrock"), "{regional}");
    assert!(list.contains("x6"));
}

#[test]
fn check_explains_the_match() {
    let table = PriceTable::embedded();
    let check = render_check(&table, "anthropic/claude-sonnet-4-5-20250929", None);
    assert!(
        check.contains("normalized   claude-sonnet-4-5\n"),
        "{check}"
    );
    assert!(check.contains("exact: claude-sonnet-4-5\n"), "{check}");
    assert!(check.contains("embedded"), "{check}");
    assert!(check.contains("over 200k prompt tokens"), "{check}");

    let check = render_check(&table, "claude-opus-4-6-thinking", None);
    assert!(check.contains("prefix: claude-opus-4-6"), "{check}");
    let check = render_check(&table, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", None);
    assert!(
        check.contains("exact: us.anthropic.claude-sonnet-4-5-20250929-v1:0\n"),
        "{check}"
    );
    let check = render_check(&table, "mystery-model", None);
    assert!(check.contains("none: priced as claude-opus"), "{check}");
    assert!(
        check.contains("hookmeter pricing set mystery-model --input USD --output USD"),
        "{check}"
    );
    assert!(check.contains("fallback"), "{check}");
    let check = render_check(&table, "ollama/qwen3:4b", None);
    assert!(check.contains("local provider ollama"), "{check}");
}

fn at(text: &str) -> Option<jiff::Timestamp> {
    Some(text.parse().unwrap())
}

/// `--at` picks the rates in force then; the history spans are listed
/// whatever the time.
#[test]
fn check_shows_the_rates_in_force_at_a_time_and_the_history() {
    let table = PriceTable::embedded();
    let promo = render_check(&table, "claude-sonnet-5", at("2026-08-15T12:00:00Z"));
    assert!(
        promo.contains("at           2026-08-15T12:00:00Z: the history span until 2026-08-31\n"),
        "{promo}"
    );
    assert!(promo.contains("  input           2\n"), "{promo}");
    assert!(promo.contains("  output          10\n"), "{promo}");
    let after = render_check(&table, "claude-sonnet-5", at("2026-09-01T00:00:00Z"));
    assert!(after.contains("no history span holds then"), "{after}");
    assert!(after.contains("  input           3\n"), "{after}");
    assert!(after.contains("  output          15\n"), "{after}");
    for text in [
        &promo,
        &after,
        &render_check(&table, "claude-sonnet-5", None),
    ] {
        assert!(
            text.contains(
                "history      until 2026-08-31: input 2, output 10, cache read 0.2, \
                 cache write 5m 2.5, cache write 1h 4\n"
            ),
            "{text}"
        );
    }
    // Without `--at`: the undated rates, and no `at` line.
    let undated = render_check(&table, "claude-sonnet-5", None);
    assert!(!undated.contains("\nat "), "{undated}");
    assert!(undated.contains("  input           3\n"), "{undated}");
    // A model without history has one price at every time.
    let gpt = render_check(&table, "gpt-5", at("2020-01-01T00:00:00Z"));
    assert!(gpt.contains("the entry's only rates"), "{gpt}");
    assert!(!gpt.contains("history "), "{gpt}");
}

#[test]
fn check_shows_service_tiers_with_their_long_context_rates() {
    let table = PriceTable::embedded();
    let azure = render_check(&table, "azure/gpt-5.4", None);
    assert!(
        azure.contains(
            "  service tier    priority: input 5, output 30, cache read 0.5, cache write 5; \
             over 272k: input 10, output 45, cache read 1, cache write 10\n"
        ),
        "{azure}"
    );
    let no_long = render_check(&table, "gpt-5.6", None);
    assert!(
        no_long.contains("over 272k: the long-context rates, flagged"),
        "{no_long}"
    );
    let opus = render_check(&table, "claude-opus-4-7", None);
    assert!(
        opus.contains("  inference geo   us: x1.1 on the whole cost\n"),
        "{opus}"
    );
}

#[test]
fn the_list_shows_every_history_span() {
    let table = PriceTable::embedded();
    let list = render_list(&table, None);
    let (_, dated) = list
        .split_once("Dated prices")
        .unwrap_or_else(|| panic!("no dated prices in the list:\n{list}"));
    assert!(
        dated.contains("  claude-sonnet-5  until 2026-08-31: input 2, output 10,"),
        "{dated}"
    );
    let spans: usize = table.entries().map(|e| e.history().len()).sum();
    let lines = dated
        .lines()
        .filter(|line| line.contains(": input "))
        .count();
    assert_eq!(lines, spans, "{dated}");
}

/// Any text, and names built on the table's own keys (the ones that reach
/// the exact, alias and prefix branches of the explanation).
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

proptest! {
    #[test]
    fn check_explains_any_name_without_panicking(model in any_model()) {
        let _ = render_check(&PriceTable::embedded(), &model, None);
    }
}
