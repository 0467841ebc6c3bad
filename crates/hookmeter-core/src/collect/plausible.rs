//! How many tokens one model call may plausibly count
//! (docs/usage.md#implausible-usage).
//!
//! Owns the per-call ceilings above which a usage is refused instead of
//! priced, and the wording of that refusal. The ceilings are an input (the
//! daemon resolves them from `[limits]`), never a global, so the rule stays
//! a pure function of the usage and the limits.

use super::Usage;

/// Per-call ceilings on a usage, each well above any real context window or
/// output limit: a usage over one is a bug or a forgery, and pricing it would
/// put an absurd cost in the database (or spend an enforced budget at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLimits {
    /// Most prompt-side tokens (input + cache read + cache write) one call
    /// may count; `[limits] max_prompt_tokens`.
    pub max_prompt_tokens: u64,
    /// Most output tokens (reasoning included) one call may count;
    /// `[limits] max_output_tokens`.
    pub max_output_tokens: u64,
}

impl Default for UsageLimits {
    fn default() -> Self {
        UsageLimits {
            max_prompt_tokens: 10_000_000,
            max_output_tokens: 1_000_000,
        }
    }
}

impl UsageLimits {
    /// Why `usage` is refused, naming the count, the limit and the setting
    /// that raises it; `None` when it is within both limits (a count exactly
    /// at a limit is plausible).
    pub fn refusal(&self, usage: &Usage) -> Option<String> {
        let prompt = usage.prompt_tokens();
        if prompt > self.max_prompt_tokens {
            return Some(format!(
                "implausible usage: {prompt} prompt tokens (input {} + cache read {} + cache write {}) \
                 in one call, above the limit of {}; not priced. If this is real, raise \
                 `[limits] max_prompt_tokens` in the config file",
                usage.input, usage.cache_read, usage.cache_write, self.max_prompt_tokens
            ));
        }
        if usage.output > self.max_output_tokens {
            return Some(format!(
                "implausible usage: {} output tokens in one call, above the limit of {}; \
                 not priced. If this is real, raise `[limits] max_output_tokens` in the config file",
                usage.output, self.max_output_tokens
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usage(input: u64, cache_read: u64, cache_write: u64, output: u64) -> Usage {
        Usage::of(input, cache_read, cache_write, output)
    }

    #[test]
    fn at_the_limit_is_plausible_and_one_more_is_not() {
        let limits = UsageLimits::default();
        assert_eq!(limits.refusal(&usage(10_000_000, 0, 0, 1_000_000)), None);
        assert_eq!(
            limits.refusal(&usage(4_000_000, 3_000_000, 3_000_000, 0)),
            None
        );

        let why = limits
            .refusal(&usage(4_000_000, 3_000_000, 3_000_001, 0))
            .expect("over the prompt limit");
        for part in [
            "10000001 prompt tokens",
            "input 4000000",
            "cache read 3000000",
            "cache write 3000001",
            "limit of 10000000",
            "max_prompt_tokens",
        ] {
            assert!(why.contains(part), "{part:?} in {why}");
        }

        let why = limits
            .refusal(&usage(1, 0, 0, 1_000_001))
            .expect("over the output limit");
        for part in [
            "1000001 output tokens",
            "limit of 1000000",
            "max_output_tokens",
        ] {
            assert!(why.contains(part), "{part:?} in {why}");
        }
    }

    #[test]
    fn the_limits_are_an_input() {
        let tight = UsageLimits {
            max_prompt_tokens: 100,
            max_output_tokens: 10,
        };
        assert_eq!(tight.refusal(&usage(100, 0, 0, 10)), None);
        assert!(tight.refusal(&usage(0, 101, 0, 0)).is_some());
        assert!(tight.refusal(&usage(0, 0, 0, 11)).is_some());
    }

    proptest! {
        #[test]
        fn refused_exactly_when_a_total_is_over_its_limit(
            input in 0u64..2_000_000_000,
            cache_read in 0u64..2_000_000_000,
            cache_write in 0u64..2_000_000_000,
            output in 0u64..2_000_000_000,
            max_prompt_tokens in 0u64..3_000_000_000,
            max_output_tokens in 0u64..3_000_000_000,
        ) {
            let limits = UsageLimits { max_prompt_tokens, max_output_tokens };
            let u = usage(input, cache_read, cache_write, output);
            let over = input + cache_read + cache_write > max_prompt_tokens
                || output > max_output_tokens;
            prop_assert_eq!(limits.refusal(&u).is_some(), over);
        }
    }
}
