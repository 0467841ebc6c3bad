//! hookmeter: coding-agent hook events in, priced `cost_records` out.
//!
//! The modules follow the data, which moves one way:
//!
//! - [`ingest`]: the edges events arrive at (Unix socket, spool directory,
//!   `POST /hook`), the one decoder every source shares (bytes -> event or
//!   rejection), the Claude Code transcript tail, and `import` of
//!   transcripts on disk.
//! - [`collect`]: pure and total: a payload's usage, model and attribution,
//!   and a transcript line's usage.
//! - [`pricing`]: pure: model name -> rates -> cost, from the embedded table
//!   plus the user's `pricing.toml` and `COST_PRICING_*` overrides; LiteLLM's
//!   price file converted to a `pricing.toml`.
//! - [`store`]: SQLite: the schema, the single writer thread (batched
//!   transactions, acks after commit), payload redaction, and every other
//!   write (budgets, alerts). All SQL that writes lives here.
//! - [`query`]: what readers ask (summaries, pages of records, sessions,
//!   lifetime counters, advice's rows, budgets, transcript offsets, the
//!   database's health), on read-only connections; summaries and pages read
//!   the daily and hourly rollups where they answer. All SQL that reads
//!   lives here; every other module calls these functions and never writes
//!   SQL (a test, `layering`, holds them to it).
//! - [`budget`]: spending limits per period and scope, and how much of each
//!   is spent; threshold alerts recorded once per period and delivered (log,
//!   webhook, command); the guard that enforced, spent budgets answer from.
//! - [`mcp`]: `hookmeter mcp`, the MCP server on stdio: the cost of a task,
//!   a session, a period and the budgets as tools, over `query` and `budget`.
//! - [`present`]: how numbers, amounts, times and tables read for a
//!   person: one money format, times that say their zone, one table style
//!   fitted to the terminal.
//! - [`report`]: the reading commands (`report`, `today`, `sessions`,
//!   `tail`) and how they print: tables, JSON, CSV; `report --advice`.
//! - [`http`]: the HTTP server: the JSON API over `query`, `/metrics`,
//!   `/healthz`, and `POST /hook` (an ingest edge, in `ingest::http`).
//! - [`record`]: the rows handed from ingest to the writer.
//! - [`internal_events`]: the daemon's own events (transcript tail,
//!   writer, HTTP guard), each logged and counted in one place for
//!   `/metrics`; a leaf that ingest, store and http report to.
//! - [`daemon`]: wiring and shutdown, driven by a caller-owned `Control`
//!   (the binary passes the signals); [`systemd`]: socket activation
//!   and `Type=notify` notifications. [`send`]: the hook client.
//! - [`fs`]: the owner-only directories hookmeter creates (a leaf, so the
//!   hook client needs no store).
//! - [`config`]: flags, environment and config file resolved once, with
//!   where each setting came from (`hookmeter config`).
//! - [`user_files`]: files written for the user (`pricing import` into
//!   `pricing.toml`), backed up and replaced atomically.
//! - [`setup`]: `install-hooks` (hookmeter's entries merged into Claude
//!   Code's `settings.json`) and `doctor` (read-only checks, with fixes).
pub mod budget;
pub mod config;
pub mod daemon;
pub mod fs;
pub mod http;
pub mod ingest;
pub mod internal_events;
pub mod mcp;
pub mod present;
pub mod pricing;
pub mod query;
pub mod record;
pub mod report;
pub mod send;
pub mod setup;
pub mod store;
pub mod systemd;
pub mod user_files;

/// The pure core's collector, named at its old path.
pub use hookmeter_core::collect;

#[cfg(test)]
mod layering;
