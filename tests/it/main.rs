//! hookmeter's integration tests: one test crate, so the library and its
//! dependencies are linked once, not once per file. Each module is what one
//! file in `tests/` used to be; run one with `cargo test --test it faults::`
//! (the module path is the filter).
//!
//! Every test spawns the real `hookmeter` binary on a temp home
//! ([`common::Home`]) and talks to it the way users do. The tests share one
//! process, so nothing here may change process-wide state that another test
//! could see (environment, current directory, umask, signal handlers); the
//! one exception, the fault tests' raised open-file limit, only ever raises
//! it, and they hold the exclusive turn while they do (see [`common::Turn`]).
//!
//! - `common`: the harness (temp home, daemon, socket client, HTTP) and the
//!   turns: a fault test runs alone, every other test beside any but a fault test.
//! - `advice`, `alerts`, `budgets`, `reports`, `names`, `cli_output`: what people read.
//! - `bad_input`, `pipeline`, `transcripts`, `transcript_metrics`, `watch`, `fork`, `codex`,
//!   `opencode`, `missing_db`: data in, rows out.
//! - `cli_config`, `setup`, `codex_hooks`, `systemd`, `lifecycle`, `startup_log`, `completions`,
//!   `retention`: running it.
//! - `http`, `mcp`: the read surfaces other programs use.
//! - `security`: what hookmeter refuses.
//! - `faults`: kill -9, a frozen daemon, a full disk, 1,000 connections.
//!
//! Snapshots live in `tests/it/snapshots/`, named after the module path
//! (`it__http__*.snap`).

mod common;

mod advice;
mod alert_delivery;
mod alerts;
mod bad_input;
mod budgets;
mod cli_config;
mod cli_output;
mod codex;
mod codex_hooks;
mod codex_live;
mod completions;
mod dated;
mod fallback;
mod faults;
mod fork;
mod gemini;
mod gemini_hooks;
mod gemini_live;
mod http;
mod lifecycle;
mod mcp;
mod missing_db;
mod modifiers;
mod names;
mod opencode;
mod opencode_live;
mod otel_doctor;
mod otel_setup;
mod otlp;
mod otlp_limits;
mod otlp_sessions;
mod pipeline;
mod plan;
mod plan_budgets;
mod pricing_update;
mod prompts;
mod push;
mod reconcile;
mod reports;
mod retention;
mod security;
mod setup;
mod startup_log;
mod statusline;
mod systemd;
mod team;
mod transcript_metrics;
mod transcripts;
mod watch;
