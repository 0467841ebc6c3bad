//! hookmeter: coding-agent hook events in, priced `cost_records` out.
//!
//! The pure core is a crate of its own, `hookmeter_core`: the value types
//! every layer speaks (`hookmeter_core::terms`: usage, budget period and
//! scope, payload policy, durability, a reader's time range), the
//! collector, pricing and payload redaction, with no tokio or rusqlite
//! dependency. This crate is the shell
//! around it: I/O at the edges, the database, the daemon and the CLI.
//!
//! The modules follow the data, which moves one way (a test, `layering`,
//! fails on an import circle or an import against the flow):
//!
//! - [`ingest`]: the edges events arrive at (Unix socket, spool directory,
//!   `POST /hook`), the one decoder every source shares (bytes -> event or
//!   rejection), the Claude Code transcript tail, the watch that finds the
//!   agents' log files under their roots without hooks, `import` of
//!   transcripts on disk, and the OTLP/HTTP logs decoder (`ingest::otlp`).
//! - [`collect`]: pure and total: a payload's usage, model and attribution,
//!   and a transcript line's usage. It lives in the core crate,
//!   `hookmeter_core` (`crates/hookmeter-core`), and is named here at its
//!   old path.
//! - [`pricing`]: model name -> rates -> cost. The table, the formula and
//!   LiteLLM's price file converted to a `pricing.toml` are the core's
//!   (re-exported here); this crate adds the edge: reading the user's
//!   `pricing.toml` and the price update layer ([`pricing::load_layered`]),
//!   the text of `pricing list` / `pricing check`, and `pricing update`'s
//!   check and comparison of LiteLLM's file (`pricing::update`, no I/O).
//! - [`store`]: SQLite: the schema, the single writer thread (batched
//!   transactions, acks after commit), and every other write (budgets,
//!   alerts). All SQL that writes lives here. Payload redaction is the
//!   core's (`hookmeter_core::redact`, also at `store::redact`).
//! - [`query`]: what readers ask (summaries, pages of records, sessions,
//!   lifetime counters, advice's rows, budgets, transcript offsets, the
//!   database's health), on read-only connections; summaries and pages read
//!   the daily and hourly rollups where they answer. Also the one filter
//!   parser every reading surface shares (`FilterSpec`), and the answer
//!   types (`Serialize` + `JsonSchema`) that `--json`, the HTTP API and MCP
//!   all serialize. All SQL that reads
//!   lives here; every other module calls these functions and never writes
//!   SQL (a test, `layering`, holds them to it). `query::team` reads the
//!   central PostgreSQL the push fills, in a read-only transaction, into
//!   the same summaries (`report --team`).
//! - [`push`]: the cost records sent to a central PostgreSQL, exactly
//!   once (`hookmeter push`, and a task of the daemon): changes above a
//!   cursor read locally, upserted centrally (`store::central`), the
//!   cursor advanced after the server's commit.
//! - [`budget`]: spending limits per period and scope, and how much of each
//!   is spent; threshold alerts recorded once per period and delivered (log,
//!   webhook, command); the guard that enforced, spent budgets answer from.
//! - [`mcp`]: `hookmeter mcp`, the MCP server on stdio: the cost of a task,
//!   a session, a period and the budgets as tools, over `query` and `budget`.
//! - [`present`]: how numbers, amounts, times and tables read for a
//!   person: one money format, times that say their zone, one table style
//!   fitted to the terminal.
//! - [`report`]: the reading commands (`report`, `today`, `sessions`,
//!   `tail`, `reconcile`) and how they print: tables, JSON, CSV; `report --advice`;
//!   `report --team`, over the team's central database.
//! - [`http`]: the HTTP server: the JSON API over `query`, `/metrics`,
//!   `/healthz`, `POST /hook` (an ingest edge, in `ingest::http`) and
//!   `POST /v1/logs` (OTLP/HTTP logs, decoded by `ingest::otlp`).
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
//!   where each setting came from (`hookmeter config`); below the readers
//!   and writers it configures, it imports none of them.
//! - [`user_files`]: files written for the user (`pricing import` into
//!   `pricing.toml`; the price update layer, downloaded with conditional
//!   requests), backed up and replaced atomically.
//! - [`statusline`]: `hookmeter statusline`, Claude Code's status line:
//!   one line of figures read from the database (read-only, never waiting
//!   on the daemon), and what Claude Code reported handed to the daemon
//!   through the spool.
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
pub mod push;
pub mod query;
pub mod record;
pub mod report;
pub mod send;
pub mod setup;
pub mod statusline;
pub mod store;
pub mod systemd;
pub mod user_files;

/// The pure core's collector, named at its old path.
pub use hookmeter_core::collect;

#[cfg(test)]
mod layering;
