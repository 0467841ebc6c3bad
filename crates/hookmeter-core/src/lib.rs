//! hookmeter's pure core: what a hook payload or transcript line says was
//! used, and what that cost.
//!
//! - [`terms`]: the value types every layer speaks ([`terms::Usage`],
//!   budgets' [`terms::Period`] and [`terms::Scope`], [`terms::PayloadPolicy`],
//!   [`terms::Durability`], a reader's [`terms::Range`]); a leaf.
//! - [`collect`]: pure and total: a payload's usage, model and attribution,
//!   and a transcript line's usage.
//! - [`pricing`]: model name -> rates -> cost, from the embedded table plus
//!   the text of the user's `pricing.toml` and the `COST_PRICING_*`
//!   variables handed in; LiteLLM's price file converted to a
//!   `pricing.toml`.
//! - [`redact`]: what of a payload may reach disk: secrets blanked, cut to
//!   a byte limit.
//!
//! Why a crate of its own: the direction of the data is a compiler rule
//! here, not a review comment. This crate cannot see the daemon (the
//! `hookmeter` crate depends on it, never the reverse), and its
//! `Cargo.toml` names no async runtime, database, HTTP stack, file watcher
//! or network client, so nothing in it can block, write or listen.
//!
//! It must never do I/O (no files, sockets, clock or environment: the
//! caller reads them and passes the values in), never log, and never hold
//! global state beyond compiled constants. Its functions are total on any
//! input; the collector and redaction never panic on any JSON.

pub mod collect;
pub mod pricing;
pub mod redact;
pub mod terms;

#[cfg(test)]
mod purity;
