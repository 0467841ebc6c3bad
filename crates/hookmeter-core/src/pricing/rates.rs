//! Rates and the cost formula: the only arithmetic pricing does.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::terms::{Billing, Usage};

/// The largest rate accepted, in USD per 1M tokens ($1 per token). Far above
/// any real price (the dearest listed is $600), low enough that no token
/// count can push a cost to infinity.
pub const MAX_RATE: f64 = 1_000_000.0;

/// The largest fast-mode multiplier accepted (real ones are 2 and 6).
pub const MAX_FAST_MULTIPLIER: f64 = 100.0;

/// What one model charges, in USD per 1M tokens, with every default already
/// resolved: pricing never has to guess at cost time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// Prompt tokens read at the full price (cache hits excluded).
    pub input: f64,
    /// Generated tokens, reasoning included.
    pub output: f64,
    /// Prompt tokens served from the provider's cache.
    pub cache_read: f64,
    /// Tokens written to the cache with the default 5-minute lifetime (and
    /// every cache write of providers without a lifetime split).
    pub cache_write_5m: f64,
    /// Tokens written to the cache with Anthropic's 1-hour lifetime.
    pub cache_write_1h: f64,
    /// Dearer rates for a request whose whole prompt exceeds a threshold.
    pub long_context: Option<LongContext>,
    /// Factor on the whole cost of a request made in fast mode; `None` means
    /// the model has no fast mode and a fast flag changes nothing.
    pub fast_multiplier: Option<f64>,
    /// Rates of the service tiers the model is sold at besides the standard
    /// one (OpenAI's `flex`, `priority`, `batch`), by tier name; a tier not
    /// listed has no fact and is priced at the standard rates, flagged.
    pub service_tiers: BTreeMap<String, TierRates>,
    /// Factor on the whole cost by inference geography (Anthropic's `us`:
    /// 1.1); a geography not listed is priced at 1×, flagged.
    pub inference_geo: BTreeMap<String, f64>,
}

/// A service tier's rates. They replace the standard rates for a request
/// below the long-context threshold, and above it when the tier has rates
/// of its own there (`long_context`); a long request in a tier without
/// them is priced at the standard long-context rates and flagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRates {
    /// Input rate in the tier.
    pub input: f64,
    /// Output rate in the tier.
    pub output: f64,
    /// Cache read rate in the tier.
    pub cache_read: f64,
    /// Cache write rate in the tier (both lifetimes: providers that sell
    /// tiers have no lifetime split).
    pub cache_write: f64,
    /// The tier's rates for a request over the model's long-context
    /// threshold (OpenAI's priority above 272k, Gemini's above 200k), when
    /// the facts give them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_context: Option<TierLongContext>,
}

/// A service tier's rates over the model's long-context threshold: every
/// token of such a request in the tier is billed at them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierLongContext {
    /// Input rate in the tier over the threshold.
    pub input: f64,
    /// Output rate in the tier over the threshold.
    pub output: f64,
    /// Cache read rate in the tier over the threshold.
    pub cache_read: f64,
    /// Cache write rate in the tier over the threshold (both lifetimes).
    pub cache_write: f64,
}

/// The cost of one call and the modifiers it reported that the rates have
/// no fact for.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    /// USD, finite and never negative.
    pub usd: f64,
    /// The reported modifiers priced at the standard rates because the
    /// model's rates say nothing about them, as `service_tier=flex`,
    /// `inference_geo=us` or `speed=fast`, comma-separated; `None` when
    /// every modifier was priced by a fact.
    pub unpriced: Option<String>,
}

/// A long-context tier: when a request's prompt (input + cache read + cache
/// write) exceeds `threshold` tokens, every token of that request, output
/// included, is billed at these rates instead (Anthropic's rule, which OpenAI,
/// Google and xAI follow too).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongContext {
    /// Prompt size in tokens above which the tier applies (strictly above).
    pub threshold: u64,
    /// Input rate over the threshold.
    pub input: f64,
    /// Output rate over the threshold.
    pub output: f64,
    /// Cache read rate over the threshold.
    pub cache_read: f64,
    /// 5-minute cache write rate over the threshold.
    pub cache_write_5m: f64,
    /// 1-hour cache write rate over the threshold.
    pub cache_write_1h: f64,
}

impl Rates {
    /// Rates of a model that costs nothing (local providers).
    pub const FREE: Rates = Rates {
        input: 0.0,
        output: 0.0,
        cache_read: 0.0,
        cache_write_5m: 0.0,
        cache_write_1h: 0.0,
        long_context: None,
        fast_multiplier: None,
        service_tiers: BTreeMap::new(),
        inference_geo: BTreeMap::new(),
    };
}

/// The cost in USD of one call with `usage` and `billing`, priced at
/// `rates`.
///
/// `cost = (input·in + cache_read·cr + (cache_write − 1h)·cw5m + 1h·cw1h +
/// output·out) / 1e6`, with every rate taken from the long-context tier when
/// the prompt exceeds its threshold (the call's service tier's own
/// long-context rates when the model lists them), else from the call's
/// service tier when the model lists it; the total multiplied by the fast multiplier when the
/// call is fast and the model has one, and by the geography's factor when
/// the model lists the call's geography. A modifier without such a fact
/// changes nothing and is named in [`Cost::unpriced`].
///
/// Pure and total: the result is always finite and never negative, even for
/// hand-built `Rates` holding NaN, negative or infinite values (a NaN or
/// negative rate counts as 0, an infinite one as [`MAX_RATE`]). 1-hour
/// writes beyond `cache_write` (inconsistent usage) are capped at
/// `cache_write`, so no token is billed twice.
pub fn cost(rates: &Rates, usage: &Usage, billing: &Billing) -> Cost {
    let mut unpriced: Vec<String> = Vec::new();
    let long = rates
        .long_context
        .as_ref()
        .filter(|tier| usage.prompt_tokens() > tier.threshold);
    let service = billing.service_tier.as_deref().and_then(|name| {
        let tier = rates.service_tiers.get(name);
        match (long, tier.map(|t| (t, t.long_context.as_ref()))) {
            (None, Some((tier, _))) => Some(Tier::Short(tier)),
            (Some(_), Some((_, Some(tier_long)))) => Some(Tier::Long(tier_long)),
            _ => {
                unpriced.push(format!("service_tier={name}"));
                None
            }
        }
    });
    let (input, output, cache_read, write_5m, write_1h) = match (long, service) {
        (_, Some(Tier::Long(t))) => (
            t.input,
            t.output,
            t.cache_read,
            t.cache_write,
            t.cache_write,
        ),
        (None, Some(Tier::Short(t))) => (
            t.input,
            t.output,
            t.cache_read,
            t.cache_write,
            t.cache_write,
        ),
        (Some(t), _) => (
            t.input,
            t.output,
            t.cache_read,
            t.cache_write_5m,
            t.cache_write_1h,
        ),
        (None, None) => (
            rates.input,
            rates.output,
            rates.cache_read,
            rates.cache_write_5m,
            rates.cache_write_1h,
        ),
    };
    let written_1h = usage.cache_write_1h.min(usage.cache_write);
    let written_5m = usage.cache_write - written_1h;

    let micro_usd = tokens(usage.input) * sane(input, MAX_RATE)
        + tokens(usage.cache_read) * sane(cache_read, MAX_RATE)
        + tokens(written_5m) * sane(write_5m, MAX_RATE)
        + tokens(written_1h) * sane(write_1h, MAX_RATE)
        + tokens(usage.output) * sane(output, MAX_RATE);
    let mut usd = micro_usd / 1e6;
    if billing.fast {
        match rates.fast_multiplier {
            Some(multiplier) => usd *= sane(multiplier, MAX_FAST_MULTIPLIER),
            None => unpriced.push("speed=fast".to_string()),
        }
    }
    if let Some(geo) = billing.inference_geo.as_deref() {
        match rates.inference_geo.get(geo) {
            Some(&factor) => usd *= sane(factor, MAX_FAST_MULTIPLIER),
            None => unpriced.push(format!("inference_geo={geo}")),
        }
    }
    Cost {
        usd,
        unpriced: (!unpriced.is_empty()).then(|| unpriced.join(",")),
    }
}

/// The service tier rates that price a call: the tier's own, or its
/// long-context ones for a request over the threshold.
enum Tier<'a> {
    Short(&'a TierRates),
    Long(&'a TierLongContext),
}

/// Token counts as f64: exact up to 2^53 tokens, which no real call reaches.
fn tokens(count: u64) -> f64 {
    count as f64
}

/// A rate the formula can trust: NaN and negatives become 0, anything above
/// `max` (infinity included) becomes `max`.
fn sane(value: f64, max: f64) -> f64 {
    if value.is_nan() || value <= 0.0 {
        0.0
    } else {
        value.min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sonnet_4_5() -> Rates {
        Rates {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write_5m: 3.75,
            cache_write_1h: 6.0,
            long_context: Some(LongContext {
                threshold: 200_000,
                input: 6.0,
                output: 22.5,
                cache_read: 0.6,
                cache_write_5m: 7.5,
                cache_write_1h: 12.0,
            }),
            fast_multiplier: None,
            service_tiers: BTreeMap::new(),
            inference_geo: BTreeMap::new(),
        }
    }

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

    #[test]
    fn splits_cache_writes_by_lifetime() {
        let cost = cost(
            &sonnet_4_5(),
            &usage(0, 0, 100_000, 40_000, 0),
            &Billing::fast(false),
        )
        .usd;
        assert!((cost - (0.06 * 3.75 + 0.04 * 6.0)).abs() < 1e-9);
    }

    #[test]
    fn the_tier_prices_the_whole_request_only_strictly_above_the_threshold() {
        let at = cost(
            &sonnet_4_5(),
            &usage(200_000, 0, 0, 0, 0),
            &Billing::fast(false),
        )
        .usd;
        assert!((at - 0.6).abs() < 1e-9);
        let above = cost(
            &sonnet_4_5(),
            &usage(200_001, 0, 0, 0, 1_000),
            &Billing::fast(false),
        )
        .usd;
        assert!((above - (200_001.0 * 6.0 + 1_000.0 * 22.5) / 1e6).abs() < 1e-9);
    }

    #[test]
    fn fast_without_a_multiplier_changes_nothing() {
        let u = usage(1_000, 0, 0, 0, 1_000);
        assert_eq!(
            cost(&sonnet_4_5(), &u, &Billing::fast(true)).usd,
            cost(&sonnet_4_5(), &u, &Billing::fast(false)).usd
        );
        let fast = Rates {
            fast_multiplier: Some(6.0),
            ..sonnet_4_5()
        };
        assert!(
            (cost(&fast, &u, &Billing::fast(true)).usd
                - 6.0 * cost(&fast, &u, &Billing::fast(false)).usd)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn hostile_rates_never_give_nan_or_negative_costs() {
        let hostile = Rates {
            input: f64::NAN,
            output: -5.0,
            cache_read: f64::INFINITY,
            cache_write_5m: f64::NEG_INFINITY,
            cache_write_1h: 1.0,
            long_context: None,
            fast_multiplier: Some(f64::NAN),
            service_tiers: BTreeMap::from([(
                "flex".to_string(),
                TierRates {
                    input: f64::NAN,
                    output: f64::INFINITY,
                    cache_read: -1.0,
                    cache_write: 1.0,
                    long_context: Some(TierLongContext {
                        input: f64::INFINITY,
                        output: f64::NAN,
                        cache_read: -1.0,
                        cache_write: f64::INFINITY,
                    }),
                },
            )]),
            inference_geo: BTreeMap::from([("us".to_string(), f64::INFINITY)]),
        };
        let c = cost(
            &hostile,
            &usage(u64::MAX, u64::MAX, u64::MAX, 3, u64::MAX),
            &Billing::new(true, Some("flex"), Some("us")),
        )
        .usd;
        assert!(c.is_finite() && c >= 0.0, "{c}");
    }

    #[test]
    fn one_hour_writes_beyond_the_total_are_capped() {
        let c = cost(
            &sonnet_4_5(),
            &usage(0, 0, 100, 1_000_000, 0),
            &Billing::fast(false),
        )
        .usd;
        assert!((c - 100.0 * 6.0 / 1e6).abs() < 1e-12);
    }

    /// GPT-5's standard, flex and priority rates (the facts' values).
    fn gpt_5() -> Rates {
        let tier = |input: f64, output: f64, cache_read: f64| TierRates {
            input,
            output,
            cache_read,
            cache_write: input,
            long_context: None,
        };
        Rates {
            input: 1.25,
            output: 10.0,
            cache_read: 0.125,
            cache_write_5m: 1.25,
            cache_write_1h: 1.25,
            long_context: None,
            fast_multiplier: None,
            service_tiers: BTreeMap::from([
                ("flex".to_string(), tier(0.625, 5.0, 0.0625)),
                ("priority".to_string(), tier(2.5, 20.0, 0.25)),
            ]),
            inference_geo: BTreeMap::new(),
        }
    }

    fn tier(name: &str) -> Billing {
        Billing::new(false, Some(name), None)
    }

    #[test]
    fn a_listed_service_tier_prices_at_its_own_rates() {
        let u = usage(1_000_000, 1_000_000, 0, 0, 1_000_000);
        let flex = cost(&gpt_5(), &u, &tier("flex"));
        assert_eq!(flex.unpriced, None);
        assert!((flex.usd - (0.625 + 0.0625 + 5.0)).abs() < 1e-9, "{flex:?}");
        let priority = cost(&gpt_5(), &u, &tier("priority"));
        assert!((priority.usd - (2.5 + 0.25 + 20.0)).abs() < 1e-9);
        let standard = cost(&gpt_5(), &u, &Billing::standard());
        assert!((standard.usd - (1.25 + 0.125 + 10.0)).abs() < 1e-9);
    }

    #[test]
    fn a_tier_without_a_fact_is_standard_and_flagged() {
        let u = usage(1_000_000, 0, 0, 0, 1_000_000);
        let standard = cost(&gpt_5(), &u, &Billing::standard()).usd;
        let batch = cost(&gpt_5(), &u, &tier("batch"));
        assert_eq!(batch.usd, standard);
        assert_eq!(batch.unpriced.as_deref(), Some("service_tier=batch"));
        let scale = cost(&sonnet_4_5(), &u, &tier("scale"));
        assert_eq!(scale.unpriced.as_deref(), Some("service_tier=scale"));
    }

    #[test]
    fn a_long_request_in_a_tier_is_priced_at_the_long_context_rates_and_flagged() {
        let rates = Rates {
            service_tiers: gpt_5().service_tiers,
            ..sonnet_4_5()
        };
        let long = usage(200_001, 0, 0, 0, 0);
        let priced = cost(&rates, &long, &tier("flex"));
        assert_eq!(priced.usd, cost(&rates, &long, &Billing::standard()).usd);
        assert_eq!(priced.unpriced.as_deref(), Some("service_tier=flex"));
        let short = usage(1_000_000 / 10, 0, 0, 0, 0);
        assert_eq!(cost(&rates, &short, &tier("flex")).unpriced, None);
    }

    /// GPT-5.4 as Azure sells it (the facts' `azure/gpt-5.4`): a 272k
    /// long-context tier, and priority rates both below and above it.
    fn gpt_5_4() -> Rates {
        Rates {
            input: 2.5,
            output: 15.0,
            cache_read: 0.25,
            cache_write_5m: 2.5,
            cache_write_1h: 2.5,
            long_context: Some(LongContext {
                threshold: 272_000,
                input: 5.0,
                output: 22.5,
                cache_read: 0.5,
                cache_write_5m: 5.0,
                cache_write_1h: 5.0,
            }),
            fast_multiplier: None,
            service_tiers: BTreeMap::from([(
                "priority".to_string(),
                TierRates {
                    input: 5.0,
                    output: 30.0,
                    cache_read: 0.5,
                    cache_write: 5.0,
                    long_context: Some(TierLongContext {
                        input: 10.0,
                        output: 45.0,
                        cache_read: 1.0,
                        cache_write: 10.0,
                    }),
                },
            )]),
            inference_geo: BTreeMap::new(),
        }
    }

    #[test]
    fn a_long_request_in_a_tier_with_long_context_rates_is_priced_at_them() {
        let long = usage(300_000, 100_000, 0, 0, 10_000);
        let priority = cost(&gpt_5_4(), &long, &tier("priority"));
        assert_eq!(priority.unpriced, None);
        let expected = (300_000.0 * 10.0 + 100_000.0 * 1.0 + 10_000.0 * 45.0) / 1e6;
        assert!((priority.usd - expected).abs() < 1e-9, "{priority:?}");
        // Below the threshold the tier's own rates, as before.
        let short = usage(200_000, 0, 0, 0, 10_000);
        let below = cost(&gpt_5_4(), &short, &tier("priority"));
        assert_eq!(below.unpriced, None);
        assert!((below.usd - (200_000.0 * 5.0 + 10_000.0 * 30.0) / 1e6).abs() < 1e-9);
        // A tier the model does not list stays standard long-context, flagged.
        let flex = cost(&gpt_5_4(), &long, &tier("flex"));
        assert_eq!(flex.unpriced.as_deref(), Some("service_tier=flex"));
        assert_eq!(flex.usd, cost(&gpt_5_4(), &long, &Billing::standard()).usd);
    }

    #[test]
    fn a_long_request_in_a_tier_without_long_context_rates_is_standard_long_and_flagged() {
        let mut rates = gpt_5_4();
        rates
            .service_tiers
            .get_mut("priority")
            .expect("the fixture has a priority tier")
            .long_context = None;
        let long = usage(300_000, 0, 0, 0, 10_000);
        let priced = cost(&rates, &long, &tier("priority"));
        assert_eq!(priced.unpriced.as_deref(), Some("service_tier=priority"));
        let standard_long = (300_000.0 * 5.0 + 10_000.0 * 22.5) / 1e6;
        assert!((priced.usd - standard_long).abs() < 1e-9, "{priced:?}");
    }

    #[test]
    fn a_listed_geography_multiplies_the_whole_cost_fast_included() {
        let opus = Rates {
            fast_multiplier: Some(6.0),
            inference_geo: BTreeMap::from([("us".to_string(), 1.1)]),
            ..sonnet_4_5()
        };
        let u = usage(1_000, 0, 2_000, 500, 3_000);
        let base = cost(&opus, &u, &Billing::standard()).usd;
        let us = cost(&opus, &u, &Billing::new(false, None, Some("us")));
        assert_eq!(us.unpriced, None);
        assert!((us.usd - 1.1 * base).abs() < 1e-12);
        let both = cost(&opus, &u, &Billing::new(true, None, Some("us"))).usd;
        assert!((both - 6.6 * base).abs() < 1e-12);
    }

    #[test]
    fn a_geography_or_fast_mode_without_a_fact_is_standard_and_flagged() {
        let u = usage(1_000, 0, 0, 0, 1_000);
        let base = cost(&sonnet_4_5(), &u, &Billing::standard()).usd;
        let eu = cost(
            &sonnet_4_5(),
            &u,
            &Billing::new(true, Some("flex"), Some("eu")),
        );
        assert_eq!(eu.usd, base);
        assert_eq!(
            eu.unpriced.as_deref(),
            Some("service_tier=flex,speed=fast,inference_geo=eu")
        );
    }
}
