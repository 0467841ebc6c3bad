//! Pricing: model name → rates → cost.
//!
//! Owns the price table (built-in, user file, environment overrides), the
//! normalization that maps the many spellings of a model onto one table key,
//! the cost formula, and the conversion of LiteLLM's price file into a user
//! `pricing.toml`. Pure: no I/O (the caller reads the user's `pricing.toml`
//! and hands [`PriceTable::build`] its text), no clock, no globals, no
//! logging (problems that do not stop loading are returned by
//! [`PriceTable::warnings`] for the caller to log).
//!
//! - `rates`: [`Rates`], [`LongContext`] and [`cost`], the formula.
//! - `normalize`: model names to table keys.
//! - `file`: the TOML format shared by `prices.toml` and `pricing.toml`.
//! - `entry`: [`Entry`], one model's rates, and [`PricingSource`].
//! - `table`: [`PriceTable`]: merge, lookup, price.
//! - [`generate`]: the built-in `prices.toml` from the facts and the
//!   curated corrections.
//! - `overrides`: `COST_PRICING_*` variables.
//! - [`import`]: LiteLLM's `model_prices_and_context_window.json` to
//!   `pricing.toml` text, for `hookmeter pricing import`.
//! - [`set`]: one model's entry of `pricing.toml` written or updated, for
//!   `hookmeter pricing set`.
//!
//! # Cost
//!
//! Rates are USD per 1M tokens. For a call with usage `u`:
//!
//! ```text
//! cost = ( u.input                              × input
//!        + u.cache_read                         × cache_read
//!        + (u.cache_write − u.cache_write_1h)   × cache_write_5m
//!        + u.cache_write_1h                     × cache_write_1h
//!        + u.output                             × output ) / 1e6
//! ```
//!
//! When the whole prompt (`input + cache_read + cache_write`) exceeds the
//! model's long-context threshold, every rate is taken from the tier instead
//! (the whole request, not only the part above). In fast mode the total is
//! multiplied by the model's fast multiplier, if it has one.
//!
//! # Lookup
//!
//! 1. Lowercase and trim. `ollama/…`, `ollama_chat/…`, `lmstudio/…`,
//!    `lm_studio/…`, `local`, `cli`, `cli_bridge` (and `local/…`, `cli/…`,
//!    `cli_bridge/…`) are local: $0, source `local`, tokens still counted.
//! 2. The spellings a key may have, most specific first (`.` as `-`): the
//!    whole name with its route, then with each leading route segment
//!    dropped in turn, then without region (`us.`, `eu.`, …) and vendor
//!    (`anthropic.`) prefixes: the first-party name. Keys keep their route,
//!    so `openrouter/…` or a Bedrock regional id finds its own price first.
//! 3. Exact match on a key or alias, spelling by spelling, each also after
//!    dropping, one at a time, an `@tag` (`@20251101`), a Bedrock version
//!    (`-v1:0`) and a snapshot date (`-20250929`, `-2025-08-07`). Trying
//!    before each strip keeps dated keys with their own price exact
//!    (`gpt-4o-2024-05-13`).
//! 4. The longest key or alias the name extends, i.e. followed by `-`, `:`,
//!    `_` or `@`, but never across a version number (`gpt-5` is no prefix
//!    of `gpt-5-7`), never when another key shares more of the name
//!    (`grok-4-fast` is not `grok-4` beside `grok-4-fast-reasoning`), never
//!    onto the fallback's key.
//! 5. Otherwise the `claude-opus` entry's rates, provider `unknown`, source
//!    `fallback`: never silently $0.
//!
//! # The built-in table
//!
//! `prices.toml` is generated (see [`generate`]) from LiteLLM's price file
//! and `corrections.toml`; a test fails when it is edited by hand.
//!
//! # The price file format
//!
//! The built-in `prices.toml` and the user's `pricing.toml` share one
//! format:
//!
//! ```toml
//! as_of = "2026-08-01"                 # optional; shown by `pricing list`
//!
//! [models."claude-sonnet-4-5"]         # the key; normalized like a model name
//! provider = "anthropic"               # optional in a user file (see below)
//! aliases = ["claude-sonnet-4-5-20250929"]   # optional: other names of exactly this model
//! input = 3                            # required, USD per 1M tokens
//! output = 15                          # required
//! cache_read = 0.3                     # default: input
//! cache_write_5m = 3.75                # default: input (`cache_write` also accepted)
//! cache_write_1h = 6                   # default: cache_write_5m
//! fast_multiplier = 6                  # optional: whole cost × this in fast mode
//! long_context = { threshold = 200_000, input = 6, output = 22.5, cache_read = 0.6, cache_write_5m = 7.5, cache_write_1h = 12 }
//! #   optional; the tier's missing cache rates default from the tier's input
//! ```
//!
//! Rates must be numbers from 0 to 1,000,000; unknown fields are errors (a
//! typo must not silently leave a default in place). Errors name the file,
//! line and column.
//!
//! A user entry replaces the built-in entry with the same normalized key as
//! a whole (rates it leaves out take the defaults above, not the built-in
//! values), keeping the built-in aliases and provider unless it gives its
//! own; an entry with a new key is added, with the provider of whatever its
//! key would otherwise have matched, else of the bare key sharing the most
//! words with it (its family), else `unknown`. A user key that is a
//! built-in alias takes that name over. Replacing `claude-opus` also moves
//! the fallback.
//!
//! # Environment overrides
//!
//! `COST_PRICING_<KEY>_{INPUT,OUTPUT,CACHE_READ,CACHE_WRITE}`, applied after
//! the user file. KEY is a model key or alias upper-cased with every
//! non-alphanumeric as `_` (`CLAUDE_SONNET_4_5`), or a family: a `-`-separated
//! token of keys (`OPUS`, `SONNET`, `HAIKU`, `GPT`, `GEMINI`, `GROK`, …)
//! changing every entry that has it, the fallback included for `OPUS`. A
//! model's own variable wins over its family's. `CACHE_WRITE` sets the
//! 5-minute write; the 1-hour write follows only where it was left to its
//! default. An overridden entry's source is `env`. A value that is not a
//! number from 0 to 1,000,000 is an error naming the variable; a variable
//! naming no model or family is only a warning.
//!
//! For users: docs/pricing.md.

mod dated;
mod entry;
mod error;
mod file;
pub mod generate;
pub mod import;
mod memo;
mod normalize;
mod overrides;
mod rates;
pub mod set;
mod table;

#[cfg(test)]
mod facts_tests;
#[cfg(test)]
mod tests;

pub use dated::{in_force, DatedRates};
pub use entry::{Entry, PricingSource};
pub use error::PricingError;
pub use file::{
    Day, ModelSpec, Multiplier, PriceFile, PriceSpan, Rate, ServiceTierLongSpec, ServiceTierSpec,
    TierSpec,
};
pub use memo::Pricer;
pub use normalize::{canonical, normalize};
pub use rates::{
    cost, Cost, LongContext, Rates, TierLongContext, TierRates, MAX_FAST_MULTIPLIER, MAX_RATE,
};
pub use table::{Match, MatchKind, PriceTable, Priced, FALLBACK_KEY, UNKNOWN_PROVIDER};
