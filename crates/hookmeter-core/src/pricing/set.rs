//! `hookmeter pricing set MODEL`: one model's entry of the user's
//! `pricing.toml` written or updated. Pure: the current file's text in, the
//! new text and what changed out; the command reads and writes the file.
//!
//! The entry is found by normalized name, so `pricing set` on a spelling of a
//! key already in the file updates that entry (under its spelling) rather
//! than adding a second one the loader would refuse. The rates given replace
//! the entry's; the rates not given keep the entry's own (a new entry leaves
//! them to the loader's defaults), and so do its provider, aliases,
//! long-context tier and fast multiplier. Comments are not kept (the file is
//! written anew, as `pricing import` does). The result is checked to load
//! before it is returned.
//!
//! For users: docs/pricing.md#hookmeter-pricing-set.

use super::error::PricingError;
use super::file::{ModelSpec, PriceFile, Rate};
use super::normalize::canonical;
use super::table::PriceTable;
use super::{PricingSource, Rates};

/// The rates `pricing set` was given: input and output always, the cache
/// rates when the user named them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GivenRates {
    pub input: Rate,
    pub output: Rate,
    pub cache_read: Option<Rate>,
    pub cache_write_5m: Option<Rate>,
    pub cache_write_1h: Option<Rate>,
}

/// Why the file cannot be written; the user file is then as it was.
#[derive(thiserror::Error, Debug)]
pub enum SetError {
    /// No model name, or one with nothing left once normalized.
    #[error("the model name {0:?} is empty once trimmed and its route prefixes dropped")]
    EmptyName(String),
    /// The current user file does not load.
    #[error("{0}\nFix it or move it away, then run `hookmeter pricing set` again.")]
    Existing(PricingError),
    /// The new file would not load (a rate out of range, a name clash).
    #[error("the new pricing file would not load: {0}")]
    Invalid(String),
}

/// How the model was priced before and after, as the whole table (the
/// environment's overrides included) prices it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// The key of the entry that prices the model (the fallback's key when
    /// none matched).
    pub key: String,
    pub source: PricingSource,
    pub rates: Rates,
}

/// The user's pricing file after `pricing set`.
#[derive(Debug, Clone)]
pub struct Written {
    /// The whole new `pricing.toml`, checked to load.
    pub text: String,
    /// The key of the entry written, as the file spells it.
    pub key: String,
    /// True when the file had no entry for the model.
    pub added: bool,
    pub before: Pricing,
    pub after: Pricing,
}

/// Writes `rates` into the entry for `model` of the user file (`existing`:
/// its path and text, `None` when there is none). `env` is the environment's
/// `COST_PRICING_*` variables, so that before and after are priced as a
/// daemon would price them.
pub fn set(
    existing: Option<(&str, &str)>,
    env: &[(String, String)],
    model: &str,
    rates: &GivenRates,
) -> Result<Written, SetError> {
    let name = model.trim();
    let id = canonical(name);
    if id.is_empty() {
        return Err(SetError::EmptyName(model.to_string()));
    }
    let table_before =
        PriceTable::build(existing, env.iter().cloned()).map_err(SetError::Existing)?;
    let mut file = match existing {
        Some((origin, text)) => PriceFile::parse(text, origin).map_err(SetError::Existing)?,
        None => PriceFile::default(),
    };
    let found = file.models.keys().find(|key| canonical(key) == id).cloned();
    let added = found.is_none();
    let key = found.unwrap_or_else(|| name.to_string());
    let spec = match file.models.remove(&key) {
        Some(mut spec) => {
            spec.input = rates.input;
            spec.output = rates.output;
            spec.cache_read = rates.cache_read.or(spec.cache_read);
            spec.cache_write_5m = rates.cache_write_5m.or(spec.cache_write_5m);
            spec.cache_write_1h = rates.cache_write_1h.or(spec.cache_write_1h);
            spec
        }
        None => ModelSpec {
            cache_read: rates.cache_read,
            cache_write_5m: rates.cache_write_5m,
            cache_write_1h: rates.cache_write_1h,
            ..ModelSpec::new(rates.input, rates.output)
        },
    };
    file.models.insert(key.clone(), spec);

    let body = file
        .to_toml()
        .map_err(|error| SetError::Invalid(error.to_string()))?;
    let text = format!(
        "# hookmeter user prices, USD per 1M tokens, merged over the built-in table\n\
         # (same format as the built-in prices.toml; `hookmeter pricing list` shows the result).\n\
         # Last written by `hookmeter pricing set` ({key}); comments are not kept.\n\n{body}"
    );
    let origin = existing.map_or("the new pricing.toml", |(origin, _)| origin);
    let table_after = PriceTable::build(Some((origin, &text)), env.iter().cloned())
        .map_err(|error| SetError::Invalid(error.to_string()))?;
    let pricing = |table: &PriceTable| {
        let found = table.lookup(name);
        Pricing {
            key: found.key.to_string(),
            source: found.source,
            rates: found.rates.clone(),
        }
    };
    Ok(Written {
        before: pricing(&table_before),
        after: pricing(&table_after),
        text,
        key,
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(input: f64, output: f64) -> GivenRates {
        GivenRates {
            input: Rate::new(input).unwrap(),
            output: Rate::new(output).unwrap(),
            cache_read: None,
            cache_write_5m: None,
            cache_write_1h: None,
        }
    }

    #[test]
    fn an_unknown_model_gets_a_user_entry_and_leaves_the_fallback() {
        let written = set(None, &[], "acme-coder-9", &given(1.0, 2.0)).unwrap();
        assert!(written.added);
        assert_eq!(written.before.source, PricingSource::Fallback);
        assert_eq!(written.after.source, PricingSource::User);
        assert_eq!(written.after.key, "acme-coder-9");
        assert_eq!(
            (written.after.rates.input, written.after.rates.output),
            (1.0, 2.0)
        );
        // Defaults as the loader gives them: cache rates follow input.
        assert_eq!(written.after.rates.cache_read, 1.0);
        let file = PriceFile::parse(&written.text, "t").unwrap();
        assert_eq!(file.models.len(), 1);
    }

    #[test]
    fn an_entry_already_there_is_updated_keeping_what_was_not_given() {
        let existing = "as_of = \"2026-08-01\"\n\
            [models.\"Acme-Coder-9\"]\nprovider = \"acme\"\ninput = 5\noutput = 9\ncache_read = 0.5\n\
            [models.other-model]\ninput = 1\noutput = 1\n";
        let mut rates = given(3.0, 4.0);
        rates.cache_write_5m = Some(Rate::new(6.0).unwrap());
        let written = set(Some(("p.toml", existing)), &[], "acme-coder-9", &rates).unwrap();
        assert!(!written.added);
        assert_eq!(written.key, "Acme-Coder-9", "the file's own spelling");
        assert_eq!(written.before.rates.input, 5.0);
        let after = &written.after.rates;
        assert_eq!(
            (
                after.input,
                after.output,
                after.cache_read,
                after.cache_write_5m
            ),
            (3.0, 4.0, 0.5, 6.0)
        );
        let file = PriceFile::parse(&written.text, "t").unwrap();
        assert_eq!(file.as_of.as_deref(), Some("2026-08-01"));
        assert_eq!(file.models.len(), 2);
        assert_eq!(
            file.models["Acme-Coder-9"].provider.as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn a_broken_file_or_an_empty_name_is_refused() {
        let broken = set(
            Some(("p.toml", "[models.x]\ninput = 1\n")),
            &[],
            "m",
            &given(1.0, 1.0),
        );
        assert!(matches!(broken, Err(SetError::Existing(_))), "{broken:?}");
        let empty = set(None, &[], "  openrouter/ ", &given(1.0, 1.0));
        assert!(matches!(empty, Err(SetError::EmptyName(_))), "{empty:?}");
    }

    #[test]
    fn an_environment_override_still_wins_and_is_reported() {
        let env = [(
            "COST_PRICING_ACME_CODER_9_INPUT".to_string(),
            "7".to_string(),
        )];
        // The variable names no entry before the set: only a warning.
        let written = set(None, &env, "acme-coder-9", &given(1.0, 2.0)).unwrap();
        assert_eq!(written.after.source, PricingSource::Env);
        assert_eq!(written.after.rates.input, 7.0);
    }
}
