//! `GET /metrics`: the Prometheus text format, version 0.0.4.
//!
//! Cost, token, record and event counters are read from the tables the
//! triggers keep (summed over every hour), so they resume where they were
//! after a restart. The writer's batch and commit histograms live in memory
//! and start from zero with the process, as Prometheus expects of a process's
//! own counters, and so do the transcript tail's and the guard's, which
//! [`crate::internal_events`] keeps. No session or task label: they would grow without bound
//! (a budget's scope may name a task: budgets are few and set by hand).
//!
//! For users: docs/metrics.md.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::internal_events::{TranscriptCounts, WatchCounts};
use crate::query::{self, EventCounter, FallbackModel, UsageCounter};
use crate::store::writer::HistogramSnapshot;

/// The content type of text format 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Everything one scrape shows.
pub struct Scrape {
    /// `hookmeter_info`'s labels: this build's version and the host name.
    pub version: &'static str,
    pub host: String,
    pub usage: Vec<UsageCounter>,
    pub events: Vec<EventCounter>,
    /// Operations per writer transaction.
    pub batch_size: HistogramSnapshot,
    /// Writer transaction time, in microseconds.
    pub commit_micros: HistogramSnapshot,
    pub failed_commits: u64,
    /// `None` when the spool directory cannot be read.
    pub spool_files: Option<usize>,
    /// Every budget and its spend this period (days, weeks, months in UTC).
    pub budgets: Vec<crate::budget::Status>,
    /// Each agent's latest use of each plan window (empty when unreadable).
    pub plan: Vec<query::plan::PlanObservation>,
    /// HTTP requests refused before any route saw them, by reason, since
    /// the daemon started.
    pub refused: Vec<(&'static str, u64)>,
    /// What the transcript tail read, refused and restarted, since the
    /// daemon started.
    pub transcripts: TranscriptCounts,
    /// The roots watched for agent log files and what the watch found.
    pub watch: WatchCounts,
    /// The records priced at the fallback rates, by model (capped like the
    /// usage counters' labels).
    pub fallback: Vec<FallbackModel>,
    /// `/v1/logs` exports by outcome and their log records by worth, since
    /// the daemon started.
    pub otlp_exports: Vec<(&'static str, u64)>,
    pub otlp_records: Vec<(&'static str, u64)>,
    /// Codex and Gemini CLI records made from OTel events, removed when the
    /// session's own log was read, since the daemon started.
    pub session_events_replaced: u64,
    pub otlp_metric_exports: Vec<(&'static str, u64)>,
    pub otlp_metrics: u64,
    /// Whether the OTLP/gRPC listener is serving.
    pub grpc_listening: bool,
    /// OTel requests by what the transcript said of them (the database's).
    pub otel_agreement: query::OtelAgreement,
    /// Codex and Gemini CLI sessions recorded from their events, by agent
    /// (the database's).
    pub otel_sessions: Vec<(String, i64)>,
    /// The push's counters; `None` when `[push]` is off.
    pub push: Option<PushScrape>,
}

/// What `/metrics` shows of the push.
#[derive(Debug, Clone, Default)]
pub struct PushScrape {
    pub records: u64,
    /// Changes not pushed yet; `None` before the first look.
    pub lag: Option<i64>,
    /// Unix seconds of the last committed batch; `None` before one.
    pub last_success: Option<i64>,
    pub errors: Vec<(&'static str, u64)>,
}

impl PushScrape {
    fn of(stats: &crate::push::PushStats) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let lag = stats.lag.load(Relaxed);
        let last = stats.last_success.load(Relaxed);
        PushScrape {
            records: stats.records.load(Relaxed),
            lag: (lag >= 0).then_some(lag),
            last_success: (last > 0).then_some(last),
            errors: stats.errors_by_reason(),
        }
    }
}

pub async fn get_metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let spool = state.spool.clone();
    let max_label_values = state.metrics.max_label_values;
    let (usage, events, spool_files, budgets, fallback, otel_agreement, otel_sessions, plan) = state
        .readers
        .run(move |conn| {
            let plan = query::plan::plan_latest(conn).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "Cannot read the plan's use for /metrics.");
                Vec::new()
            });
            let budgets = crate::budget::status(conn, jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC)
                .unwrap_or_else(|e| {
                    // The cost counters still answer; the budget gauges are left out.
                    tracing::warn!(error = %e, "Cannot read the budgets for /metrics.");
                    Vec::new()
                });
            let spool_files = match crate::ingest::spool::waiting(&spool) {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::debug!(error = %e, spool = %spool.display(), "Cannot count spool files.");
                    None
                }
            };
            Ok((
                query::capped_usage_counters(conn, max_label_values)?,
                query::event_counters(conn)?,
                spool_files,
                budgets,
                capped_fallback(
                    query::fallback_priced(conn, &query::Filter::default())?.models,
                    max_label_values,
                ),
                query::otel_agreement(conn)?,
                query::otel_sessions(conn)?,
                plan,
            ))
        })
        .await?;
    let stats = state.writer.stats();
    let scrape = Scrape {
        version: env!("CARGO_PKG_VERSION"),
        host: state.metrics.host.clone(),
        usage,
        events,
        batch_size: stats.batch_size.snapshot(),
        commit_micros: stats.commit_micros.snapshot(),
        failed_commits: stats
            .failed_commits
            .load(std::sync::atomic::Ordering::Relaxed),
        spool_files,
        budgets,
        plan,
        refused: state.refusals.counts(),
        transcripts: state.transcripts.counts(),
        watch: state.transcripts.watch.counts(),
        fallback,
        otlp_exports: state.otlp.exports_by_outcome(),
        otlp_records: state.otlp.records_by_outcome(),
        session_events_replaced: stats
            .session_events_replaced
            .load(std::sync::atomic::Ordering::Relaxed),
        otlp_metric_exports: state.otlp.metric_exports_by_outcome(),
        otlp_metrics: state.otlp.metrics_received(),
        grpc_listening: state.grpc_listening,
        otel_agreement,
        otel_sessions,
        push: state.push.as_deref().map(PushScrape::of),
    };
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&scrape)).into_response())
}

/// The exposition text of `scrape`.
pub fn render(scrape: &Scrape) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "hookmeter_up",
        "gauge",
        "1 while the daemon serves.",
    );
    out.push_str("hookmeter_up 1\n");

    family(
        &mut out,
        "hookmeter_info",
        "gauge",
        "Always 1; its labels name this daemon's version and host.",
    );
    sample(
        &mut out,
        "hookmeter_info",
        &[("version", scrape.version), ("host", &scrape.host)],
        1.0,
    );

    family(
        &mut out,
        "hookmeter_cost_usd_total",
        "counter",
        "Estimated cost of every cost record, in USD, by provider, model and agent (values past \
         metrics.max_label_values are summed as 'other').",
    );
    for u in &scrape.usage {
        let labels = usage_labels(u);
        sample(
            &mut out,
            "hookmeter_cost_usd_total",
            &labels,
            u.totals.cost_usd,
        );
    }

    family(
        &mut out,
        "hookmeter_tokens_total",
        "counter",
        "Tokens of every cost record by provider, model, agent and type (cache_write includes \
         cache_write_1h; output includes reasoning).",
    );
    for u in &scrape.usage {
        let t = &u.totals;
        for (kind, n) in [
            ("input", t.input_tokens),
            ("output", t.output_tokens),
            ("cache_read", t.cache_read_tokens),
            ("cache_write", t.cache_write_tokens),
            ("cache_write_1h", t.cache_write_1h_tokens),
            ("reasoning", t.reasoning_tokens),
        ] {
            let mut labels = usage_labels(u);
            labels.push(("type", kind));
            sample(&mut out, "hookmeter_tokens_total", &labels, n as f64);
        }
    }

    family(
        &mut out,
        "hookmeter_records_total",
        "counter",
        "Cost records stored.",
    );
    let records: i64 = scrape.usage.iter().map(|u| u.totals.records).sum();
    sample(&mut out, "hookmeter_records_total", &[], records as f64);

    // Gauges, not counters: `pricing set` then `reprice` moves records out.
    family(
        &mut out,
        "hookmeter_fallback_priced_cost_usd",
        "gauge",
        "Estimated cost of the records priced at the fallback (Opus) rates because no price table \
         entry knows their model, in USD, by model (values past metrics.max_label_values are \
         summed as 'other'). `hookmeter pricing set MODEL` prices one.",
    );
    for m in &scrape.fallback {
        let labels = [("model", m.model.as_str())];
        sample(
            &mut out,
            "hookmeter_fallback_priced_cost_usd",
            &labels,
            m.cost_usd,
        );
    }
    family(
        &mut out,
        "hookmeter_fallback_priced_records",
        "gauge",
        "Records priced at the fallback rates, by model (capped like the cost's).",
    );
    for m in &scrape.fallback {
        let labels = [("model", m.model.as_str())];
        sample(
            &mut out,
            "hookmeter_fallback_priced_records",
            &labels,
            m.records as f64,
        );
    }

    family(
        &mut out,
        "hookmeter_events_total",
        "counter",
        "Events accepted or rejected, by outcome, source and rejection reason.",
    );
    for e in &scrape.events {
        let labels = [
            ("outcome", e.outcome.as_str()),
            ("source", e.source.as_str()),
            ("reason", e.reason.as_str()),
        ];
        sample(&mut out, "hookmeter_events_total", &labels, e.events as f64);
    }

    histogram(
        &mut out,
        "hookmeter_writer_batch_size",
        "Operations (events, rejections, transcript batches) committed per writer transaction, since the daemon started.",
        &scrape.batch_size,
        1.0,
    );
    histogram(
        &mut out,
        "hookmeter_writer_commit_seconds",
        "Time from the start of a writer transaction to its commit, since the daemon started.",
        &scrape.commit_micros,
        1e6,
    );
    family(
        &mut out,
        "hookmeter_writer_failed_commits_total",
        "counter",
        "Writer transactions that failed (their events stayed with their senders), since the daemon started.",
    );
    sample(
        &mut out,
        "hookmeter_writer_failed_commits_total",
        &[],
        scrape.failed_commits as f64,
    );

    if let Some(push) = &scrape.push {
        push_families(&mut out, push);
    }

    family(
        &mut out,
        "hookmeter_http_refused_total",
        "counter",
        "HTTP requests refused before any route saw them, by reason (content_type, origin, host), \
         since the daemon started. They stored nothing.",
    );
    for (reason, n) in &scrape.refused {
        sample(
            &mut out,
            "hookmeter_http_refused_total",
            &[("reason", reason)],
            *n as f64,
        );
    }

    transcripts(&mut out, &scrape.transcripts);
    watch(&mut out, &scrape.watch);
    otlp(&mut out, scrape);

    family(
        &mut out,
        "hookmeter_spool_files",
        "gauge",
        "Files waiting in the spool directory (rejected/ not counted).",
    );
    if let Some(n) = scrape.spool_files {
        sample(&mut out, "hookmeter_spool_files", &[], n as f64);
    }

    // Budgets are few and set by hand, so their scope is a bounded label.
    // A plan budget's limit and use are percentages: it has a ratio but no
    // dollar gauges (its use is hookmeter_plan_used_ratio's).
    type Gauge = fn(&crate::budget::Status) -> Option<f64>;
    let gauges: [(&str, &str, Gauge); 3] = [
        (
            "hookmeter_budget_limit_usd",
            "A budget's limit in USD, by scope ('' for everything) and period.",
            |s| s.budget.limit_pct().is_none().then_some(s.budget.limit_usd),
        ),
        (
            "hookmeter_budget_spent_usd",
            "Spent in a budget's current period (days, weeks, months in UTC; total: all time), in USD.",
            |s| s.budget.limit_pct().is_none().then_some(s.spent_usd),
        ),
        (
            "hookmeter_budget_ratio",
            "Spent divided by limit for each budget (1 = spent); for a plan window, its use divided by the budget's alert percentage.",
            |s| Some(s.ratio()),
        ),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, "gauge", help);
        for s in &scrape.budgets {
            let scope = s.budget.scope.key();
            let labels = [
                ("scope", scope.as_str()),
                ("period", s.budget.period.name()),
            ];
            if let Some(value) = value(s) {
                sample(&mut out, name, &labels, value);
            }
        }
    }

    // Agents and windows are few: a bounded label set.
    family(
        &mut out,
        "hookmeter_plan_used_ratio",
        "gauge",
        "The latest reported use of an agent's plan window (five_hour, seven_day, or <minutes>m), \
         as a fraction (1 = the limit).",
    );
    for p in &scrape.plan {
        let labels = [
            ("agent", p.agent_id.as_str()),
            ("window", p.window.as_str()),
        ];
        sample(
            &mut out,
            "hookmeter_plan_used_ratio",
            &labels,
            p.used_pct / 100.0,
        );
    }
    family(
        &mut out,
        "hookmeter_plan_resets_at_timestamp_seconds",
        "gauge",
        "When an agent's plan window starts afresh, in Unix seconds (left out when not reported).",
    );
    for p in &scrape.plan {
        let at = p
            .resets_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if let Some(at) = at {
            let labels = [
                ("agent", p.agent_id.as_str()),
                ("window", p.window.as_str()),
            ];
            sample(
                &mut out,
                "hookmeter_plan_resets_at_timestamp_seconds",
                &labels,
                at.as_second() as f64,
            );
        }
    }
    out
}

/// The fallback-priced models as /metrics labels them: the first `max`
/// models by first appearance keep their name (so a series never changes
/// its label when another model shows up), the rest are summed under
/// [`query::OTHER_LABEL`]. Ordered by first appearance.
fn capped_fallback(mut models: Vec<FallbackModel>, max: usize) -> Vec<FallbackModel> {
    models.sort_by(|a, b| a.first_at.cmp(&b.first_at).then(a.model.cmp(&b.model)));
    if models.len() <= max {
        return models;
    }
    let rest = models.split_off(max);
    let mut other = FallbackModel {
        model: query::OTHER_LABEL.to_string(),
        records: 0,
        cost_usd: 0.0,
        first_at: rest[0].first_at.clone(),
        last_at: String::new(),
    };
    for m in rest {
        other.records += m.records;
        other.cost_usd += m.cost_usd;
        other.last_at = other.last_at.max(m.last_at);
    }
    models.push(other);
    models
}

/// The transcript tail's counters, each its own series: they nest
/// (implausible lines are skipped lines, skipped lines are lines), so one
/// series with an `outcome` label would invite a wrong sum.
fn transcripts(out: &mut String, t: &TranscriptCounts) {
    let counters = [
        (
            "hookmeter_transcript_lines_total",
            "Complete transcript lines read, since the daemon started.",
            t.lines,
        ),
        (
            "hookmeter_transcript_skipped_lines_total",
            "Transcript lines read that were not usage (not JSON, not an assistant turn, synthetic, \
             errors, implausible usage), since the daemon started.",
            t.skipped_lines,
        ),
        (
            "hookmeter_transcript_implausible_lines_total",
            "Skipped transcript lines whose usage is over [limits] max_prompt_tokens or \
             max_output_tokens (not priced), since the daemon started.",
            t.implausible_lines,
        ),
        (
            "hookmeter_transcript_records_total",
            "Transcript usage records (a message's snapshots read together count once) \
             committed by the writer with their offset, since the daemon started; a file read \
             again counts again, while its keys keep one cost record each.",
            t.records,
        ),
        (
            "hookmeter_transcript_refused_paths_total",
            "Transcript paths named by hooks and refused (outside the roots, a symlink out of \
             them, not a regular file), nothing read, since the daemon started.",
            t.refused_paths,
        ),
        (
            "hookmeter_transcript_vanished_files_total",
            "Followed transcripts that disappeared, since the daemon started.",
            t.missing,
        ),
    ];
    for (name, help, value) in counters {
        family(out, name, "counter", help);
        sample(out, name, &[], value as f64);
    }
    let name = "hookmeter_transcript_restarts_total";
    family(
        out,
        name,
        "counter",
        "Transcripts read again from the start, by reason (truncated: shorter than its offset; \
         rotated: replaced by another file), since the daemon started.",
    );
    for (reason, n) in [("truncated", t.truncations), ("rotated", t.rotations)] {
        sample(out, name, &[("reason", reason)], n as f64);
    }
    let name = "hookmeter_transcript_codex_skipped_lines_total";
    family(
        out,
        name,
        "counter",
        "Codex rollout lines skipped (counted in the skipped lines too), by reason \
         (unknown_type: a line type this version does not know; null_info: a token_count \
         with info null; repeated_total: a token_count repeating the thread total before it; \
         invalid_usage: token counts refused, a response's cost lost), since the daemon started.",
    );
    let c = &t.codex;
    for (reason, n) in [
        ("unknown_type", c.unknown_type),
        ("null_info", c.null_info),
        ("repeated_total", c.repeated_total),
        ("invalid_usage", c.invalid_usage),
    ] {
        sample(out, name, &[("reason", reason)], n as f64);
    }
    let name = "hookmeter_transcript_gemini_skipped_lines_total";
    family(
        out,
        name,
        "counter",
        "Gemini CLI chat log lines and messages skipped (their lines counted in the skipped \
         lines too), by reason (unknown_type: a line or message type this version does not \
         know; invalid_usage: token counts refused, a response's cost lost), since the daemon \
         started.",
    );
    let g = &t.gemini;
    for (reason, n) in [
        ("unknown_type", g.unknown_type),
        ("invalid_usage", g.invalid_usage),
    ] {
        sample(out, name, &[("reason", reason)], n as f64);
    }
    let name = "hookmeter_transcript_opencode_reads_total";
    family(
        out,
        name,
        "counter",
        "Reads of OpenCode databases by the daemon, by outcome (done: read; busy: locked by a \
         writer, read again at the next poll; failed: not readable as OpenCode's database, \
         read again once its files change), since the daemon started.",
    );
    let o = &t.opencode;
    for (outcome, n) in [("done", o.done), ("busy", o.busy), ("failed", o.failed)] {
        sample(out, name, &[("outcome", outcome)], n as f64);
    }
}

/// The watch of the agents' log roots: how each root is followed now, the
/// files it knows, and what it found and refused.
fn watch(out: &mut String, w: &WatchCounts) {
    let name = "hookmeter_watch_roots";
    family(
        out,
        name,
        "gauge",
        "Log roots the daemon watches for agent log files, by how (notify: file system \
         notifications; scan: a periodic walk; missing: not there yet, looked for periodically).",
    );
    for (how, n) in [
        ("notify", w.roots_notified),
        ("scan", w.roots_scanned),
        ("missing", w.roots_missing),
    ] {
        sample(out, name, &[("state", how)], n as f64);
    }
    family(
        out,
        "hookmeter_watch_files",
        "gauge",
        "Agent log files under the watched roots.",
    );
    sample(out, "hookmeter_watch_files", &[], w.files as f64);
    let counters = [
        (
            "hookmeter_watch_files_found_total",
            "Agent log files the watch handed to the transcript tail (each file once), since the \
             daemon started.",
            w.files_found,
        ),
        (
            "hookmeter_watch_files_gone_total",
            "Agent log files the watch knew that disappeared (deleted, or moved out of the \
             roots), since the daemon started; what they gave stays stored.",
            w.files_gone,
        ),
        (
            "hookmeter_watch_refused_paths_total",
            "Symlinks under a watched root, not followed and nothing read through them (each \
             once), since the daemon started.",
            w.refused_paths,
        ),
        (
            "hookmeter_watch_scans_total",
            "Walks of a whole watched root, since the daemon started.",
            w.scans,
        ),
    ];
    for (name, help, value) in counters {
        family(out, name, "counter", help);
        sample(out, name, &[], value as f64);
    }
}

fn usage_labels(u: &UsageCounter) -> Vec<(&'static str, &str)> {
    vec![
        ("provider", u.provider.as_str()),
        ("model", u.model.as_str()),
        ("agent", u.agent.as_str()),
    ]
}

/// The push's series (docs/metrics.md#push).
fn push_families(out: &mut String, push: &PushScrape) {
    family(
        out,
        "hookmeter_push_records_total",
        "counter",
        "Changes (records inserted or updated, records deleted) the central server committed, since the daemon started.",
    );
    sample(
        out,
        "hookmeter_push_records_total",
        &[],
        push.records as f64,
    );
    if let Some(lag) = push.lag {
        family(
            out,
            "hookmeter_push_lag_records",
            "gauge",
            "Changes not pushed yet, as of the push's last pass.",
        );
        sample(out, "hookmeter_push_lag_records", &[], lag as f64);
    }
    if let Some(at) = push.last_success {
        family(
            out,
            "hookmeter_push_last_success_timestamp_seconds",
            "gauge",
            "When the central server last committed a batch, Unix seconds.",
        );
        sample(
            out,
            "hookmeter_push_last_success_timestamp_seconds",
            &[],
            at as f64,
        );
    }
    family(
        out,
        "hookmeter_push_errors_total",
        "counter",
        "Failed push passes by reason (connect, schema, server, local), since the daemon started. Nothing is lost: the pass is tried again.",
    );
    for reason in ["connect", "schema", "server", "local"] {
        let n = push
            .errors
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n);
        sample(
            out,
            "hookmeter_push_errors_total",
            &[("reason", reason)],
            n as f64,
        );
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The OTLP receiver's families.
fn otlp(out: &mut String, scrape: &Scrape) {
    family(
        out,
        "hookmeter_otlp_exports_total",
        "counter",
        "OTLP logs exports received at /v1/logs and over gRPC, by outcome (accepted, malformed, \
         incomplete, too_large, encoding, unavailable), since the daemon started.",
    );
    for (outcome, n) in &scrape.otlp_exports {
        sample(
            out,
            "hookmeter_otlp_exports_total",
            &[("outcome", outcome)],
            *n as f64,
        );
    }
    family(
        out,
        "hookmeter_otlp_log_records_total",
        "counter",
        "Log records of accepted OTLP exports, by what they were worth (usage, no_usage, \
         missing_attribute, invalid_count, superseded_by_log: a Codex or Gemini CLI event of a \
         session whose own log hookmeter reads), since the daemon started.",
    );
    for (outcome, n) in &scrape.otlp_records {
        sample(
            out,
            "hookmeter_otlp_log_records_total",
            &[("outcome", outcome)],
            *n as f64,
        );
    }
    family(
        out,
        "hookmeter_otel_session_records_replaced_total",
        "counter",
        "Codex and Gemini CLI records made from OTel events, removed when the session's own \
         log was read and recorded it instead (one source per session), since the daemon started.",
    );
    sample(
        out,
        "hookmeter_otel_session_records_replaced_total",
        &[],
        scrape.session_events_replaced as f64,
    );
    family(
        out,
        "hookmeter_otel_sessions",
        "gauge",
        "Codex and Gemini CLI sessions recorded from their OTel events because hookmeter has \
         not read their own log, by agent.",
    );
    for (agent, n) in &scrape.otel_sessions {
        sample(
            out,
            "hookmeter_otel_sessions",
            &[("agent", agent)],
            *n as f64,
        );
    }
    family(
        out,
        "hookmeter_otlp_metric_exports_total",
        "counter",
        "OTLP metrics exports received (/v1/metrics, gRPC MetricsService), by outcome, since \
         the daemon started. Their points never add cost records.",
    );
    for (outcome, n) in &scrape.otlp_metric_exports {
        sample(
            out,
            "hookmeter_otlp_metric_exports_total",
            &[("outcome", outcome)],
            *n as f64,
        );
    }
    family(
        out,
        "hookmeter_otlp_metrics_total",
        "counter",
        "Metrics in accepted OTLP metrics exports, read and set aside, since the daemon started.",
    );
    sample(
        out,
        "hookmeter_otlp_metrics_total",
        &[],
        scrape.otlp_metrics as f64,
    );
    family(
        out,
        "hookmeter_otlp_grpc_listening",
        "gauge",
        "1 when the OTLP/gRPC listener serves, 0 when it is off or its default port was taken.",
    );
    sample(
        out,
        "hookmeter_otlp_grpc_listening",
        &[],
        u8::from(scrape.grpc_listening).into(),
    );
    family(
        out,
        "hookmeter_otel_requests",
        "gauge",
        "Claude Code requests whose OTel event is stored, by what the transcript said \
         (event_only: no line seen; agree; disagree: the event's counts stand).",
    );
    let a = &scrape.otel_agreement;
    for (transcript, n) in [
        ("event_only", a.event_only),
        ("agree", a.agree),
        ("disagree", a.disagree),
    ] {
        sample(
            out,
            "hookmeter_otel_requests",
            &[("transcript", transcript)],
            n as f64,
        );
    }
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, text)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(text));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A histogram whose stored values divided by `per_unit` are in the unit of
/// its name. (Dividing keeps `500 / 1e6` printing as `0.0005`; multiplying
/// by `1e-6` would not.)
fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot, per_unit: f64) {
    family(out, name, "histogram", help);
    let bucket = format!("{name}_bucket");
    for (bound, count) in &h.cumulative {
        let le = number(*bound as f64 / per_unit);
        sample(out, &bucket, &[("le", &le)], *count as f64);
    }
    sample(out, &bucket, &[("le", "+Inf")], h.count as f64);
    sample(out, &format!("{name}_sum"), &[], h.sum as f64 / per_unit);
    sample(out, &format!("{name}_count"), &[], h.count as f64);
}

/// A label value as the format wants it: `\`, `"` and line feeds escaped.
fn escape_label(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A sample value: Rust's shortest round-trip decimal, or the format's
/// names for the non-finite values.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Totals;

    fn scrape() -> Scrape {
        let histogram = HistogramSnapshot {
            cumulative: vec![(500, 1), (2_500, 3)],
            count: 4,
            sum: 9_000,
        };
        Scrape {
            version: "1.2.3",
            host: "build-host".into(),
            usage: vec![UsageCounter {
                provider: "anthropic".into(),
                model: "we\"ird\\mo\ndel".into(),
                agent: "claude-code".into(),
                totals: Totals {
                    records: 2,
                    cost_usd: 0.0126,
                    input_tokens: 10,
                    output_tokens: 5,
                    ..Totals::default()
                },
            }],
            events: vec![EventCounter {
                outcome: "accepted".into(),
                source: "http".into(),
                reason: String::new(),
                events: 3,
            }],
            batch_size: histogram.clone(),
            commit_micros: histogram,
            failed_commits: 0,
            spool_files: Some(2),
            budgets: Vec::new(),
            plan: Vec::new(),
            refused: vec![("content_type", 4), ("origin", 0), ("host", 1)],
            transcripts: TranscriptCounts {
                lines: 7,
                skipped_lines: 3,
                truncations: 1,
                ..TranscriptCounts::default()
            },
            watch: WatchCounts::default(),
            fallback: vec![fallback_model(
                "mystery-9",
                3,
                1.5,
                "2026-09-20T10:00:00.000Z",
            )],
            otlp_exports: vec![("accepted", 2), ("malformed", 1)],
            otlp_records: vec![("usage", 3), ("no_usage", 9)],
            session_events_replaced: 0,
            otel_sessions: vec![("codex".into(), 1)],
            otlp_metric_exports: vec![("accepted", 4)],
            otlp_metrics: 7,
            grpc_listening: false,
            push: None,
            otel_agreement: query::OtelAgreement {
                event_only: 1,
                agree: 2,
                disagree: 0,
            },
        }
    }

    fn fallback_model(model: &str, records: i64, cost_usd: f64, first_at: &str) -> FallbackModel {
        FallbackModel {
            model: model.into(),
            records,
            cost_usd,
            first_at: first_at.into(),
            last_at: first_at.into(),
        }
    }

    #[test]
    fn fallback_models_past_the_cap_are_summed_as_other_in_first_seen_order() {
        let models = vec![
            fallback_model("late", 1, 4.0, "2026-09-22T00:00:00.000Z"),
            fallback_model("first", 2, 1.0, "2026-09-20T00:00:00.000Z"),
            fallback_model("later", 3, 2.0, "2026-09-23T00:00:00.000Z"),
        ];
        let capped = capped_fallback(models.clone(), 3);
        let names: Vec<_> = capped.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(names, ["first", "late", "later"]);
        let capped = capped_fallback(models, 1);
        let names: Vec<_> = capped.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(names, ["first", "other"]);
        assert_eq!((capped[1].records, capped[1].cost_usd), (4, 6.0));
    }

    #[test]
    fn labels_are_escaped_and_every_family_is_typed() {
        let text = render(&scrape());
        assert!(text.contains(
            "hookmeter_cost_usd_total{provider=\"anthropic\",model=\"we\\\"ird\\\\mo\\ndel\",agent=\"claude-code\"} 0.0126\n"
        ), "{text}");
        assert!(text.contains("type=\"cache_write_1h\"} 0\n"));
        assert!(text.contains("hookmeter_records_total 2\n"));
        assert!(text.contains(
            "hookmeter_events_total{outcome=\"accepted\",source=\"http\",reason=\"\"} 3\n"
        ));
        assert!(text.contains("hookmeter_spool_files 2\n"));
        assert!(text.contains("hookmeter_fallback_priced_cost_usd{model=\"mystery-9\"} 1.5\n"));
        assert!(text.contains("hookmeter_fallback_priced_records{model=\"mystery-9\"} 3\n"));
        assert!(text.contains("hookmeter_http_refused_total{reason=\"content_type\"} 4\n"));
        assert!(text.contains("hookmeter_otlp_exports_total{outcome=\"malformed\"} 1\n"));
        assert!(text.contains("hookmeter_otlp_log_records_total{outcome=\"no_usage\"} 9\n"));
        assert!(text.contains("hookmeter_otlp_metric_exports_total{outcome=\"accepted\"} 4\n"));
        assert!(text.contains("hookmeter_otlp_metrics_total 7\n"));
        assert!(text.contains("hookmeter_otlp_grpc_listening 0\n"));
        assert!(text.contains("hookmeter_otel_requests{transcript=\"agree\"} 2\n"));
        assert!(text.contains("hookmeter_http_refused_total{reason=\"origin\"} 0\n"));
        assert!(text.contains("hookmeter_info{version=\"1.2.3\",host=\"build-host\"} 1\n"));
        assert!(text.contains("hookmeter_transcript_lines_total 7\n"));
        assert!(text.contains("hookmeter_transcript_skipped_lines_total 3\n"));
        assert!(text.contains("hookmeter_transcript_records_total 0\n"));
        assert!(text.contains("hookmeter_transcript_restarts_total{reason=\"truncated\"} 1\n"));
        assert!(text.contains("hookmeter_transcript_restarts_total{reason=\"rotated\"} 0\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(
                text.contains(&format!("# TYPE {family} "))
                    || text.contains(&format!("# TYPE {name} ")),
                "{name} has no TYPE line"
            );
        }
    }

    #[test]
    fn histograms_are_cumulative_in_the_unit_of_their_name() {
        let text = render(&scrape());
        assert!(
            text.contains("hookmeter_writer_commit_seconds_bucket{le=\"0.0005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("hookmeter_writer_commit_seconds_bucket{le=\"0.0025\"} 3\n"));
        assert!(text.contains("hookmeter_writer_commit_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(text.contains("hookmeter_writer_commit_seconds_sum 0.009\n"));
        assert!(text.contains("hookmeter_writer_batch_size_bucket{le=\"2500\"} 3\n"));
        assert!(text.contains("hookmeter_writer_batch_size_count 4\n"));
    }
}
