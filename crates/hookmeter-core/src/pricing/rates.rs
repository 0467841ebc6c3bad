//! Rates and the cost formula: the only arithmetic pricing does.

use serde::Serialize;

use crate::terms::Usage;

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
    };
}

/// The cost in USD of one call with `usage`, priced at `rates`.
///
/// `cost = (input·in + cache_read·cr + (cache_write − 1h)·cw5m + 1h·cw1h +
/// output·out) / 1e6`, with every rate taken from the long-context tier when
/// the prompt exceeds its threshold, and the total multiplied by the fast
/// multiplier when `fast` is set and the model has one.
///
/// Pure and total: the result is always finite and never negative, even for
/// hand-built `Rates` holding NaN, negative or infinite values (a NaN or
/// negative rate counts as 0, an infinite one as [`MAX_RATE`]). 1-hour
/// writes beyond `cache_write` (inconsistent usage) are capped at
/// `cache_write`, so no token is billed twice.
pub fn cost(rates: &Rates, usage: &Usage, fast: bool) -> f64 {
    let tier = rates
        .long_context
        .as_ref()
        .filter(|tier| usage.prompt_tokens() > tier.threshold);
    let (input, output, cache_read, write_5m, write_1h) = match tier {
        Some(t) => (
            t.input,
            t.output,
            t.cache_read,
            t.cache_write_5m,
            t.cache_write_1h,
        ),
        None => (
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
    let usd = micro_usd / 1e6;
    match rates.fast_multiplier {
        Some(multiplier) if fast => usd * sane(multiplier, MAX_FAST_MULTIPLIER),
        _ => usd,
    }
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
        let cost = cost(&sonnet_4_5(), &usage(0, 0, 100_000, 40_000, 0), false);
        assert!((cost - (0.06 * 3.75 + 0.04 * 6.0)).abs() < 1e-9);
    }

    #[test]
    fn the_tier_prices_the_whole_request_only_strictly_above_the_threshold() {
        let at = cost(&sonnet_4_5(), &usage(200_000, 0, 0, 0, 0), false);
        assert!((at - 0.6).abs() < 1e-9);
        let above = cost(&sonnet_4_5(), &usage(200_001, 0, 0, 0, 1_000), false);
        assert!((above - (200_001.0 * 6.0 + 1_000.0 * 22.5) / 1e6).abs() < 1e-9);
    }

    #[test]
    fn fast_without_a_multiplier_changes_nothing() {
        let u = usage(1_000, 0, 0, 0, 1_000);
        assert_eq!(
            cost(&sonnet_4_5(), &u, true),
            cost(&sonnet_4_5(), &u, false)
        );
        let fast = Rates {
            fast_multiplier: Some(6.0),
            ..sonnet_4_5()
        };
        assert!((cost(&fast, &u, true) - 6.0 * cost(&fast, &u, false)).abs() < 1e-12);
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
        };
        let c = cost(
            &hostile,
            &usage(u64::MAX, u64::MAX, u64::MAX, 3, u64::MAX),
            true,
        );
        assert!(c.is_finite() && c >= 0.0, "{c}");
    }

    #[test]
    fn one_hour_writes_beyond_the_total_are_capped() {
        let c = cost(&sonnet_4_5(), &usage(0, 0, 100, 1_000_000, 0), false);
        assert!((c - 100.0 * 6.0 / 1e6).abs() < 1e-12);
    }
}
