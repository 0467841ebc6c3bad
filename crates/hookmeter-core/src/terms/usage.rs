//! The one normalized shape of token usage every provider's counts are mapped to.

use serde::{Deserialize, Serialize};

/// Token counts of one model call, normalized across providers
/// (docs/usage.md#usage-shapes).
///
/// The categories are disjoint except where noted, so a price is the sum of
/// each count times its rate: `input` never includes cached tokens, and
/// `cache_write` already includes `cache_write_1h`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens read at the full input rate (cached ones excluded).
    pub input: u64,
    /// Prompt tokens served from the provider's cache.
    pub cache_read: u64,
    /// Prompt tokens written to the cache, all lifetimes together.
    pub cache_write: u64,
    /// The part of `cache_write` written with the 1-hour lifetime.
    pub cache_write_1h: u64,
    /// Generated tokens, reasoning included.
    pub output: u64,
    /// The part of `output` spent on reasoning; informational, never billed twice.
    pub reasoning: u64,
}

impl Usage {
    /// Every prompt-side token: what long-context thresholds are measured against.
    pub fn prompt_tokens(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// True when the call counted no tokens at all.
    pub fn is_empty(&self) -> bool {
        self.prompt_tokens() == 0 && self.output == 0
    }

    /// A usage of these four counts, the rest zero. Public for the tests of
    /// both crates (a `cfg(test)` item of this crate is invisible to the
    /// hookmeter crate's tests).
    pub fn of(input: u64, cache_read: u64, cache_write: u64, output: u64) -> Usage {
        Usage {
            input,
            cache_read,
            cache_write,
            output,
            ..Usage::default()
        }
    }
}
