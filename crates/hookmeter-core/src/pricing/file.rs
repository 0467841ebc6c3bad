//! The price file format, shared by the built-in `prices.toml` and the
//! user's `pricing.toml`: parsing, validation and resolution of defaults.
//!
//! Validation happens while parsing, so a bad rate is reported with the
//! line and column the TOML parser knows, not later without context.

use std::collections::BTreeMap;

use serde::{de::Error as _, Deserialize, Deserializer, Serialize};

use super::error::PricingError;
use super::rates::{LongContext, Rates, TierLongContext, TierRates, MAX_FAST_MULTIPLIER, MAX_RATE};

/// A whole price file: an optional date and the models it prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    /// The day the prices were true (`"2026-08-01"`); shown by `pricing list`
    /// so a user can tell how stale a table is. A TOML date literal works too.
    #[serde(
        default,
        deserialize_with = "date_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub as_of: Option<String>,
    /// Model key (as written, normalized on load) to its prices.
    #[serde(default)]
    pub models: BTreeMap<String, ModelSpec>,
}

/// One model's prices as written in a file: optional fields keep their
/// defaults symbolic, so an override of `input` also moves the rates that
/// default to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Who bills the model. Optional in a user file: a replaced entry keeps
    /// its provider, a new one takes the provider of the entry its name would
    /// otherwise have matched, else "unknown".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Other names of exactly this model (dated snapshots, legacy spellings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// USD per 1M non-cached prompt tokens.
    pub input: Rate,
    /// USD per 1M generated tokens.
    pub output: Rate,
    /// USD per 1M cache hits; defaults to `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<Rate>,
    /// USD per 1M tokens written with the 5-minute lifetime (or without a
    /// lifetime); defaults to `input`.
    #[serde(
        default,
        alias = "cache_write",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_write_5m: Option<Rate>,
    /// USD per 1M tokens written with the 1-hour lifetime; defaults to
    /// `cache_write_5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<Rate>,
    /// The long-context tier, if the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<TierSpec>,
    /// Factor on the whole cost in fast mode, if the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_multiplier: Option<Multiplier>,
    /// The rates of the service tiers the model is sold at besides the
    /// standard one (`flex`, `priority`, `batch`), by tier name as the
    /// provider reports it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_tier: BTreeMap<String, ServiceTierSpec>,
    /// Factor on the whole cost by inference geography (`us = 1.1`), as the
    /// provider reports the geography.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inference_geo: BTreeMap<String, Multiplier>,
    /// Other rates the model had (or will have) for a span of days: a call
    /// made on one of those days is priced at the span's rates, any other
    /// call at the rates above. Written `[[models."x".history]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PriceSpan>,
}

/// Rates in force for a span of UTC days, both ends included: `from` (the
/// first day; open to the past when left out) to `until` (the last day;
/// open to the future when left out). The rate fields are a model's, with
/// the same defaults; a span says nothing of provider or aliases, which
/// belong to the model at every date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSpan {
    /// The first day the rates hold (`"2026-06-01"`).
    #[serde(
        default,
        deserialize_with = "day",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<Day>,
    /// The last day the rates hold (`"2026-08-31"`).
    #[serde(
        default,
        deserialize_with = "day",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<Day>,
    /// USD per 1M non-cached prompt tokens in the span.
    pub input: Rate,
    /// USD per 1M generated tokens in the span.
    pub output: Rate,
    /// Defaults to the span's `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<Rate>,
    /// Defaults to the span's `input`.
    #[serde(
        default,
        alias = "cache_write",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_write_5m: Option<Rate>,
    /// Defaults to the span's `cache_write_5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<Rate>,
    /// The long-context tier in the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<TierSpec>,
    /// The fast multiplier in the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_multiplier: Option<Multiplier>,
    /// The service tiers' rates in the span.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_tier: BTreeMap<String, ServiceTierSpec>,
    /// The geographies' factors in the span.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inference_geo: BTreeMap<String, Multiplier>,
}

/// A calendar day (UTC) of a price span, checked when the file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(jiff::civil::Date);

impl Day {
    /// The day as a date.
    pub fn date(self) -> jiff::civil::Date {
        self.0
    }

    /// The first instant of the day, UTC.
    pub fn start(self) -> jiff::Timestamp {
        self.0
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_or(jiff::Timestamp::MAX, |zoned| zoned.timestamp())
    }

    /// The first instant of the next day, UTC: where a span ending on this
    /// day stops.
    pub fn end(self) -> jiff::Timestamp {
        self.0
            .tomorrow()
            .map_or(jiff::Timestamp::MAX, |next| Day(next).start())
    }
}

impl std::str::FromStr for Day {
    type Err = String;

    fn from_str(text: &str) -> Result<Day, String> {
        text.trim()
            .parse::<jiff::civil::Date>()
            .map(Day)
            .map_err(|_| format!("{text:?} is not a day such as \"2026-08-31\""))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Accepts a span's day as a string or a bare TOML date.
fn day<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Day>, D::Error> {
    let text = match toml::Value::deserialize(deserializer)? {
        toml::Value::String(text) => text,
        toml::Value::Datetime(date) if date.time.is_none() && date.offset.is_none() => {
            date.to_string()
        }
        other => {
            return Err(D::Error::custom(format!(
                "a price span's from and until are days such as \"2026-08-31\"; found {other}"
            )))
        }
    };
    text.parse().map(Some).map_err(D::Error::custom)
}

/// A service tier's rates as written; a cache rate left out defaults to
/// the tier's input, as in [`ModelSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTierSpec {
    /// USD per 1M non-cached prompt tokens in the tier.
    pub input: Rate,
    /// USD per 1M generated tokens in the tier.
    pub output: Rate,
    /// Defaults to this tier's `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<Rate>,
    /// Defaults to this tier's `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<Rate>,
    /// The tier's rates over the model's long-context threshold (the
    /// model's `long_context.threshold`); without them a long request in
    /// the tier is priced at the model's long-context rates, flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<ServiceTierLongSpec>,
}

/// A service tier's rates over the model's long-context threshold, as
/// written; a cache rate left out defaults to their own `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTierLongSpec {
    /// USD per 1M non-cached prompt tokens in the tier over the threshold.
    pub input: Rate,
    /// USD per 1M generated tokens in the tier over the threshold.
    pub output: Rate,
    /// Defaults to `input` just above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<Rate>,
    /// Defaults to `input` just above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<Rate>,
}

/// A long-context tier as written; missing cache rates default from the
/// tier's own input, as in [`ModelSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Prompt tokens (input + cache read + cache write) above which the whole
    /// request is billed at this tier.
    pub threshold: u64,
    /// USD per 1M non-cached prompt tokens over the threshold.
    pub input: Rate,
    /// USD per 1M generated tokens over the threshold.
    pub output: Rate,
    /// Defaults to this tier's `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<Rate>,
    /// Defaults to this tier's `input`.
    #[serde(
        default,
        alias = "cache_write",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_write_5m: Option<Rate>,
    /// Defaults to this tier's `cache_write_5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<Rate>,
}

/// A price in USD per 1M tokens, checked to be a number from 0 to
/// [`MAX_RATE`]: a negative, NaN or infinite rate would make every cost it
/// touches meaningless, so it is refused where it is written.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Rate(f64);

impl Rate {
    /// A checked rate; the error says what is wrong, for the caller to put
    /// next to the file line or variable name.
    pub fn new(usd_per_million: f64) -> Result<Rate, String> {
        checked(usd_per_million, MAX_RATE, "a rate").map(Rate)
    }

    /// The rate in USD per 1M tokens.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Rate::new(f64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A factor on a call's whole cost (fast mode, an inference geography),
/// checked to be a number from 0 to [`MAX_FAST_MULTIPLIER`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Multiplier(f64);

impl Multiplier {
    /// A checked multiplier; the error says what is wrong.
    pub fn new(factor: f64) -> Result<Multiplier, String> {
        checked(factor, MAX_FAST_MULTIPLIER, "a price multiplier").map(Multiplier)
    }

    /// The factor.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Multiplier::new(f64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

fn checked(value: f64, max: f64, what: &str) -> Result<f64, String> {
    if value.is_nan() {
        Err(format!("{what} must be a number, not nan"))
    } else if value < 0.0 {
        Err(format!("{what} cannot be negative (got {value})"))
    } else if value > max {
        Err(format!("{what} cannot exceed {max} (got {value})"))
    } else {
        Ok(value)
    }
}

/// Accepts `as_of` as a string or as a bare TOML date.
fn date_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match toml::Value::deserialize(deserializer)? {
        toml::Value::String(text) => Ok(Some(text)),
        toml::Value::Datetime(date) => Ok(Some(date.to_string())),
        other => Err(D::Error::custom(format!(
            "as_of must be a date such as \"2026-08-01\"; found {}",
            other.type_str()
        ))),
    }
}

impl PriceFile {
    /// Parses and validates a price file. `origin` (its path, or "built-in
    /// prices.toml") is only used in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<PriceFile, PricingError> {
        toml::from_str(text).map_err(|error| PricingError::Parse {
            origin: origin.to_string(),
            message: error.to_string().trim_end().to_string(),
        })
    }

    /// Parses and validates a price file written as JSON with the same
    /// fields: the built-in table as the binary carries it.
    pub(crate) fn parse_json(text: &str, origin: &str) -> Result<PriceFile, PricingError> {
        serde_json::from_str(text).map_err(|error| PricingError::Parse {
            origin: origin.to_string(),
            message: error.to_string(),
        })
    }

    /// The file as TOML in the same format, e.g. for `pricing import` to
    /// write a user `pricing.toml`.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

impl ModelSpec {
    /// A spec with only the two required rates; every other rate defaults.
    pub fn new(input: Rate, output: Rate) -> ModelSpec {
        ModelSpec {
            provider: None,
            aliases: Vec::new(),
            input,
            output,
            cache_read: None,
            cache_write_5m: None,
            cache_write_1h: None,
            long_context: None,
            fast_multiplier: None,
            service_tier: BTreeMap::new(),
            inference_geo: BTreeMap::new(),
            history: Vec::new(),
        }
    }

    /// The rates with every default applied: cache read and 5-minute write
    /// default to input, 1-hour write to the 5-minute write; the same within
    /// the tier, from the tier's input.
    pub fn rates(&self) -> Rates {
        let (cache_read, cache_write_5m, cache_write_1h) = resolve_cache(
            self.input,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
        );
        Rates {
            input: self.input.get(),
            output: self.output.get(),
            cache_read,
            cache_write_5m,
            cache_write_1h,
            long_context: self.long_context.as_ref().map(TierSpec::rates),
            fast_multiplier: self.fast_multiplier.map(Multiplier::get),
            service_tiers: self
                .service_tier
                .iter()
                .map(|(name, tier)| (name.trim().to_lowercase(), tier.rates()))
                .collect(),
            inference_geo: self
                .inference_geo
                .iter()
                .map(|(geo, factor)| (geo.trim().to_lowercase(), factor.get()))
                .collect(),
        }
    }
}

impl ServiceTierSpec {
    fn rates(&self) -> TierRates {
        let input = self.input.get();
        TierRates {
            input,
            output: self.output.get(),
            cache_read: self.cache_read.map_or(input, Rate::get),
            cache_write: self.cache_write.map_or(input, Rate::get),
            long_context: self.long_context.as_ref().map(|long| {
                let input = long.input.get();
                TierLongContext {
                    input,
                    output: long.output.get(),
                    cache_read: long.cache_read.map_or(input, Rate::get),
                    cache_write: long.cache_write.map_or(input, Rate::get),
                }
            }),
        }
    }
}

impl TierSpec {
    fn rates(&self) -> LongContext {
        let (cache_read, cache_write_5m, cache_write_1h) = resolve_cache(
            self.input,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
        );
        LongContext {
            threshold: self.threshold,
            input: self.input.get(),
            output: self.output.get(),
            cache_read,
            cache_write_5m,
            cache_write_1h,
        }
    }
}

/// Cache rates a file left out are priced like plain input: a conservative
/// guess that never bills a cached token below what the provider lists.
fn resolve_cache(
    input: Rate,
    read: Option<Rate>,
    write_5m: Option<Rate>,
    write_1h: Option<Rate>,
) -> (f64, f64, f64) {
    let read = read.unwrap_or(input);
    let write_5m = write_5m.unwrap_or(input);
    let write_1h = write_1h.unwrap_or(write_5m);
    (read.get(), write_5m.get(), write_1h.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_cache_rates_default_to_input_then_to_the_5m_write() {
        let file = PriceFile::parse(
            r#"
            [models.m]
            input = 2
            output = 8
            long_context = { threshold = 1000, input = 4, output = 16, cache_write = 5 }
            "#,
            "test",
        )
        .unwrap();
        let rates = file.models["m"].rates();
        assert_eq!(
            (rates.cache_read, rates.cache_write_5m, rates.cache_write_1h),
            (2.0, 2.0, 2.0)
        );
        let tier = rates.long_context.unwrap();
        assert_eq!(
            (tier.cache_read, tier.cache_write_5m, tier.cache_write_1h),
            (4.0, 5.0, 5.0)
        );
    }

    #[test]
    fn a_service_tier_may_carry_long_context_rates_with_their_own_defaults() {
        let file = PriceFile::parse(
            r#"
            [models.m]
            input = 2.5
            output = 15
            long_context = { threshold = 272_000, input = 5, output = 22.5 }
            service_tier = { priority = { input = 5, output = 30, long_context = { input = 10, output = 45, cache_read = 1 } } }
            "#,
            "test",
        )
        .unwrap();
        let rates = file.models["m"].rates();
        let long = rates.service_tiers["priority"]
            .long_context
            .clone()
            .unwrap();
        assert_eq!(
            (long.input, long.output, long.cache_read, long.cache_write),
            (10.0, 45.0, 1.0, 10.0)
        );
        let again = PriceFile::parse(&file.to_toml().unwrap(), "test").unwrap();
        assert_eq!(again, file);
    }

    #[test]
    fn bad_rates_are_refused_with_their_line() {
        for (bad, needle) in [
            ("input = -1", "cannot be negative"),
            ("input = nan", "not nan"),
            ("input = inf", "cannot exceed"),
            ("input = \"3\"", "invalid type"),
        ] {
            let text = format!("[models.m]\noutput = 1\n{bad}\n");
            let error = PriceFile::parse(&text, "/some/pricing.toml").unwrap_err();
            let message = error.to_string();
            assert!(message.contains("/some/pricing.toml"), "{message}");
            assert!(message.contains("line 3"), "{message}");
            assert!(message.contains(needle), "{message}");
        }
    }

    #[test]
    fn a_bad_multiplier_names_no_mode_it_is_not_for() {
        for bad in ["fast_multiplier = -1", "inference_geo = { us = -1 }"] {
            let text = format!("[models.m]\ninput = 1\noutput = 1\n{bad}\n");
            let message = PriceFile::parse(&text, "f").unwrap_err().to_string();
            assert!(message.contains("a price multiplier"), "{message}");
            assert!(message.contains("cannot be negative"), "{message}");
        }
    }

    #[test]
    fn unknown_fields_and_missing_rates_are_errors() {
        let typo = PriceFile::parse("[models.m]\ninput = 1\noutput = 1\ncache_raed = 1\n", "f");
        assert!(typo.unwrap_err().to_string().contains("cache_raed"));
        let missing = PriceFile::parse("[models.m]\ninput = 1\n", "f");
        assert!(missing.unwrap_err().to_string().contains("output"));
    }

    #[test]
    fn as_of_may_be_a_bare_date_and_the_format_round_trips() {
        let file = PriceFile::parse(
            "as_of = 2026-08-01\n[models.\"gpt-5.1\"]\naliases = [\"gpt-5.1-codex\"]\ninput = 1.25\noutput = 10\n\
             fast_multiplier = 2\nlong_context = { threshold = 272_000, input = 2.5, output = 15 }\n",
            "f",
        )
        .unwrap();
        assert_eq!(file.as_of.as_deref(), Some("2026-08-01"));
        let again = PriceFile::parse(&file.to_toml().unwrap(), "f").unwrap();
        assert_eq!(again, file);
    }
}
