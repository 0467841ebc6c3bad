//! The rows the pipeline hands to the writer. Ingest builds them (with the
//! collector's help); the store persists them. Neither side owns the other,
//! so these types live here, upstream of both.

use crate::collect::{Billing, Usage};

/// Where an event entered the daemon; becomes `source` of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Unix socket or spool file written by a hook.
    Hook,
    /// `POST /hook`.
    Http,
    /// A Claude Code transcript read live, because a hook named it.
    Transcript,
    /// A transcript loaded by `hookmeter import`.
    Import,
    /// An agent's own OpenTelemetry log event, posted to `/v1/logs`.
    Otel,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Hook => "hook",
            Source::Http => "http",
            Source::Transcript => "transcript",
            Source::Import => "import",
            Source::Otel => "otel",
        }
    }
}

/// One accepted event, ready to be written: attribution resolved, usage
/// extracted but not yet priced (the writer prices it, because only the
/// writer knows a session's last model and holds the table SIGHUP reloads).
#[derive(Debug, Clone)]
pub struct HookEvent {
    /// Stable identity: redelivery of the same event maps to the same rows.
    pub hook_event_id: String,
    /// When the daemon (or `hookmeter send`) received it, RFC 3339 UTC ms.
    pub received_at: String,
    /// When it happened, RFC 3339 UTC ms: the payload's, else `received_at`.
    pub timestamp: String,
    pub event_name: Option<String>,
    pub session_id: Option<String>,
    pub tool_name: Option<String>,
    pub agent_id: String,
    pub task_id: Option<String>,
    /// The user prompt the event belongs to (see `Collected::prompt_id`).
    pub prompt_id: Option<String>,
    /// Last path component of the payload's `cwd`.
    pub project: Option<String>,
    /// Model named by the payload itself, if any.
    pub model: Option<String>,
    pub source: Source,
    /// Envelope labels as a JSON object, `None` when there are none.
    pub labels_json: Option<String>,
    /// Payload as the storage policy allows it on disk (redacted, maybe truncated).
    pub payload_json: Option<String>,
    /// What this event costs, when it carries usage or a reported cost.
    pub charge: Option<Charge>,
    /// Transcripts the event names, for the transcript tail (not stored).
    pub transcripts: Option<TranscriptHint>,
    /// What the agent reported about itself (a `hookmeter.statusline`
    /// event): the session's own total and the plan's use.
    pub reported: Option<AgentReport>,
}

/// What an agent states about its own spending, as `hookmeter statusline`
/// hands it over (docs/hook-protocol.md#statusline-events).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentReport {
    /// The session's whole cost as the agent counts it (Claude Code's
    /// `cost.total_cost_usd`).
    pub session_cost_usd: Option<f64>,
    /// Each plan window's use, as reported.
    pub plan: Vec<PlanWindow>,
    /// `plan_usage.source` and `session_reported_costs.source`.
    pub source: &'static str,
}

/// One plan window's use at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanWindow {
    /// `five_hour` or `seven_day`; another length as `<minutes>m`.
    pub window: String,
    /// 0-100 as reported (over 100 when the agent says so).
    pub used_pct: f64,
    /// When the window starts afresh, RFC 3339 UTC.
    pub resets_at: Option<String>,
}

/// What a hook event says about the transcripts to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptHint {
    /// `transcript_path`, and `agent_transcript_path` on SubagentStop.
    pub paths: Vec<String>,
    /// The event ends the session's activity for now (Stop, SubagentStop,
    /// SessionEnd): read a last time, then stop watching.
    pub ends_watch: bool,
    /// Whose log the paths are: a Claude Code payload names transcripts, a
    /// Codex payload its rollout, which only the rollout reader can read.
    pub log: AgentLog,
}

/// Usage of one API message read from a transcript, ready to be priced.
#[derive(Debug, Clone)]
pub struct TranscriptRecord {
    /// The message as the transcript line(s) show it, snapshots merged.
    pub line: crate::collect::transcript::TranscriptUsage,
    /// Last path component of the line's `cwd`.
    pub project: Option<String>,
    /// `transcript` (live) or `import`.
    pub source: Source,
    /// Whose log the line came from, which decides how its repeats reconcile.
    pub log: AgentLog,
}

/// The agent log a [`TranscriptRecord`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentLog {
    /// A Claude Code transcript: one API message over several lines.
    ClaudeCode,
    /// A Codex rollout: one line per billed response, final as written.
    Codex,
    /// A Gemini CLI chat log: one message per billed response, written
    /// again as its tool calls arrive.
    Gemini,
    /// An OpenCode database (or its older JSON storage): one message per
    /// model step, final once the step is completed.
    OpenCode,
}

/// Records read from one transcript file, committed together with the
/// offset they were read up to, so a restart neither re-counts nor misses.
#[derive(Debug, Clone)]
pub struct TranscriptBatch {
    pub records: Vec<TranscriptRecord>,
    /// Where reading stopped; `None` for `import`, which keeps no offsets.
    pub offset: Option<TranscriptOffset>,
    /// Plan use the lines reported (a Codex rollout's `rate_limits`).
    pub plan: Vec<PlanObservation>,
}

/// One plan window's use read from a log line: kept when it differs from
/// the observation before it in time, so a second read adds nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanObservation {
    /// The line's time, in the database's format.
    pub observed_at: String,
    pub agent_id: &'static str,
    pub session_id: Option<String>,
    /// `plan_usage.source`.
    pub source: &'static str,
    pub window: PlanWindow,
}

/// A transcript file's read position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptOffset {
    /// Canonical path of the file.
    pub path: String,
    /// Bytes of complete lines consumed.
    pub offset: u64,
    /// Inode of the file read: a different inode means it was replaced.
    pub inode: u64,
}

/// The billable part of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub usage: Usage,
    /// The billing modifiers the usage reported (fast mode, service tier,
    /// inference geography).
    pub billing: Billing,
    /// A cost the source stated itself (`costUSD`, `cost_usd`).
    pub reported_cost_usd: Option<f64>,
    /// `llm` unless the payload says `tool` or `infra`.
    pub service: String,
}

/// Something the daemon could not use, kept verbatim so nothing is lost.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub received_at: String,
    /// `socket`, `spool` or `http`.
    pub source: &'static str,
    /// Spool file and line, when the event came from a file.
    pub origin: Option<String>,
    pub reason: String,
    /// The reason's kind: the `reason` label of the rejected-events counter.
    pub code: RejectCode,
    /// The bytes received, as lossy UTF-8.
    pub raw_text: String,
}

/// Why input was rejected, in a few fixed kinds; the full reason says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCode {
    NotUtf8,
    NotJson,
    NotObject,
    BadEnvelope,
    InvalidUsage,
    /// Believable counts, but more than one call can plausibly count
    /// (`[limits] max_prompt_tokens`, `max_output_tokens`).
    ImplausibleUsage,
    LineTooLong,
    IdleTimeout,
    SpoolFile,
    /// An OTLP export whose protobuf does not decode.
    NotProtobuf,
    /// A gzip body that does not inflate.
    BadGzip,
    /// An OTel usage event without an attribute a record needs.
    IncompleteEvent,
}

impl RejectCode {
    /// The label stored in `rejected_events.reason_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::NotUtf8 => "not_utf8",
            RejectCode::NotJson => "not_json",
            RejectCode::NotObject => "not_object",
            RejectCode::BadEnvelope => "bad_envelope",
            RejectCode::InvalidUsage => "invalid_usage",
            RejectCode::ImplausibleUsage => "implausible_usage",
            RejectCode::LineTooLong => "line_too_long",
            RejectCode::IdleTimeout => "idle_timeout",
            RejectCode::SpoolFile => "spool_file",
            RejectCode::NotProtobuf => "not_protobuf",
            RejectCode::BadGzip => "bad_gzip",
            RejectCode::IncompleteEvent => "incomplete_event",
        }
    }
}

/// The instant a stored timestamp names, for pricing a record at its own
/// time; one that does not parse (never written by hookmeter) is now.
pub fn instant(timestamp: &str) -> jiff::Timestamp {
    timestamp.parse().unwrap_or_else(|_| jiff::Timestamp::now())
}

/// The one timestamp format of the database: RFC 3339, UTC, milliseconds, `Z`.
/// Fixed width, so text order is time order and `substr(timestamp,1,10)` is the day.
pub fn format_timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc_millis() {
        let ts: jiff::Timestamp = "2026-09-20T12:00:00.5+02:00".parse().unwrap();
        assert_eq!(format_timestamp(ts), "2026-09-20T10:00:00.500Z");
        let ts: jiff::Timestamp = "2026-09-20T10:00:00Z".parse().unwrap();
        assert_eq!(format_timestamp(ts), "2026-09-20T10:00:00.000Z");
    }
}
