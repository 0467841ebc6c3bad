//! Codex CLI rollouts: the JSONL files Codex writes under
//! `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`, one line in, the usage
//! of one billed model response out (docs/ingest.md#codex-rollouts).
//!
//! Unlike a Claude Code transcript line, a rollout line does not say whose it
//! is or which model served it: the session and its working directory come
//! from the `session_meta` line, the model from the latest `turn_context`.
//! So a rollout is read in order through a [`Rollout`], which keeps that
//! little state. A caller reading from an offset (a tail) keeps its
//! `Rollout` beside the offset, or feeds the lines before the offset again
//! and throws their answers away.
//!
//! Where the usage is, newest format first:
//! - `token_usage_record` (Codex 0.171): one line per model response, with
//!   its `response_id` and that response's `usage`. The response id is the
//!   record's key, whatever file shows it, so a fork or a resume that copies
//!   its parent's lines counts nothing again.
//! - `event_msg` `token_count` (every version): `info.last_token_usage` (the
//!   latest response) and `info.total_token_usage` (the thread's running
//!   total, which a fork carries over from its parent). Once a rollout has
//!   shown a `token_usage_record`, its `token_count` lines repeat what the
//!   records said and are skipped. Before that (older rollouts), each
//!   `token_count` whose total moved is one response, billed at its
//!   `last_token_usage`; a line repeating the previous total is skipped.
//!
//! Counts follow OpenAI's semantics (`input_tokens` includes
//! `cached_input_tokens`, `output_tokens` includes `reasoning_output_tokens`)
//! and are read and refused by the collector's own Codex shape, so a rollout
//! and a Codex hook payload agree. Pure and total: no I/O, no clock, never a
//! panic; an unknown line type is skipped and counted, never fatal.

use std::fmt;

use serde_json::{Map, Value};

use super::identity::{model_name, text, timestamp};
use super::shapes::{codex as codex_usage, within_limits};
use super::transcript::Object;
use super::Usage;

/// The agent every Codex record is kept under.
pub const AGENT: &str = "codex";

/// Hook events only Codex emits: it brackets each model request with them.
const CODEX_ONLY_EVENTS: &[&str] = &["PreModelRequest", "PostModelRequest"];

/// Whether a file name is a Codex rollout's (`rollout-*.jsonl`); Claude
/// Code names its transcripts `<session id>.jsonl`.
pub fn is_rollout_name(name: &str) -> bool {
    name.starts_with("rollout-") && name.ends_with(".jsonl")
}

/// Whether a hook payload is Codex's (docs/hook-protocol.md#codex-payloads).
/// Codex's payloads look like Claude Code's (`session_id`,
/// `transcript_path`, `permission_mode`, the same event names), so the tell
/// is what only Codex writes: a `transcript_path` that is a rollout, a
/// model-request event, or a `turn_id` on an event other than Claude Code's
/// `MessageDisplay` (its one event with a `turn_id`). A `turn_id` is the
/// weakest tell: another agent may send one too, so it counts only on a
/// payload that `carries_usage` not — Codex's own usage is never elsewhere
/// than in a model-request event, and another agent's usage must not be
/// dropped as Codex's.
pub fn is_hook_payload(
    payload: &Map<String, Value>,
    event_name: Option<&str>,
    carries_usage: bool,
) -> bool {
    let rollout = text(payload, &["transcript_path"])
        .and_then(|path| path.rsplit('/').next())
        .is_some_and(is_rollout_name);
    rollout
        || event_name.is_some_and(|e| CODEX_ONLY_EVENTS.contains(&e))
        || (!carries_usage
            && text(payload, &["turn_id"]).is_some()
            && event_name != Some("MessageDisplay"))
}

/// The prefix of every Codex record key.
const KEY_PREFIX: &str = "codex:";

/// One billed model response, as a rollout shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CodexUsage {
    /// The record's idempotency key: `codex:<response_id>` from a
    /// `token_usage_record`; for a rollout without those,
    /// `codex:tc:<line timestamp>:<thread total_tokens>`, which a copy of the
    /// line in another file keeps too. The same from a live read and an
    /// import.
    pub key: String,
    /// The Codex session (thread) the response belongs to.
    pub session_id: String,
    /// When the line was written; `None` when absent or unreadable.
    pub timestamp: Option<jiff::Timestamp>,
    /// The model of the latest `turn_context` (empty before any): the model
    /// the turn asked for, which Codex does not write per response.
    pub model: String,
    /// The response's token counts: `input` without the cached part.
    pub usage: Usage,
    /// Tools the response called (`function_call` and the like, by name),
    /// in order, each once.
    pub tool_names: Vec<String>,
    /// The session's working directory, from which the project is named.
    pub cwd: Option<String>,
    /// The turn (one user prompt and the responses that answer it) the
    /// response belongs to: the `token_usage_record`'s `turn_id`, else the
    /// latest `turn_context`'s. Codex's counterpart of Claude Code's prompt id.
    pub turn_id: Option<String>,
    /// `session_meta.payload.git.branch`, written when the session started
    /// inside a git repository.
    pub git_branch: Option<String>,
}

/// A plan's use as one `token_count` line's `rate_limits` reports it
/// (Codex reads it from its API's `x-codex-primary-*` and
/// `x-codex-secondary-*` response headers).
#[derive(Debug, Clone, PartialEq)]
pub struct CodexPlanUse {
    /// The rollout's session, when its `session_meta` came first.
    pub session_id: Option<String>,
    /// When the line was written: the observation's time, and what makes a
    /// second read of the same line recognisable.
    pub timestamp: jiff::Timestamp,
    /// `primary` then `secondary`, those with a use and a window length.
    pub windows: Vec<CodexPlanWindow>,
}

/// One window of [`CodexPlanUse`].
#[derive(Debug, Clone, PartialEq)]
pub struct CodexPlanWindow {
    /// `five_hour` (300 minutes), `seven_day` (10080 minutes), else the
    /// length as `<minutes>m`.
    pub window: String,
    /// `used_percent`, 0-100 as reported.
    pub used_pct: f64,
    /// `resets_at` (Unix seconds), or the line's time plus
    /// `resets_in_seconds` (older Codex).
    pub resets_at: Option<jiff::Timestamp>,
}

/// What one rollout line is to the cost pipeline.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CodexLine {
    Usage(CodexUsage),
    Skip(CodexSkip),
}

/// Why a line yields no usage. Most lines are prompts, items and events:
/// only [`CodexSkip::InvalidUsage`] and [`CodexSkip::NoSession`] lose a
/// response's cost, and [`CodexSkip::UnknownType`] says the format moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodexSkip {
    /// Not JSON: garbage, or a line cut short.
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// A line type this parser does not know; skipped and counted.
    UnknownType,
    /// A known line that carries no usage (messages, tool calls, settings).
    NoUsage,
    /// A `token_count` with `info: null` (rate limits only).
    NullInfo,
    /// A `token_count` repeating the thread total of the one before it.
    RepeatedTotal,
    /// A `token_count` of a rollout whose `token_usage_record` lines already
    /// counted its responses.
    CountedByRecord,
    /// Usage before any `session_meta`: no session to key it by.
    NoSession,
    /// Token counts the collector refuses, with the field and its value.
    InvalidUsage(String),
}

impl CodexSkip {
    /// A short fixed label, fit for a counter key.
    pub fn label(&self) -> &'static str {
        match self {
            CodexSkip::NotJson => "not json",
            CodexSkip::NotObject => "not an object",
            CodexSkip::UnknownType => "unknown line type",
            CodexSkip::NoUsage => "no usage",
            CodexSkip::NullInfo => "token_count without info",
            CodexSkip::RepeatedTotal => "repeated total",
            CodexSkip::CountedByRecord => "counted by token_usage_record",
            CodexSkip::NoSession => "no session",
            CodexSkip::InvalidUsage(_) => "invalid usage",
        }
    }
}

impl fmt::Display for CodexSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodexSkip::InvalidUsage(detail) => write!(f, "{}: {detail}", self.label()),
            other => f.write_str(other.label()),
        }
    }
}

/// Line types Codex writes that carry no usage of their own.
const KNOWN_TYPES: &[&str] = &[
    "session_meta",
    "turn_context",
    "response_item",
    "event_msg",
    "token_usage_record",
    "world_state",
    "compacted",
];

/// The `response_item` payload types whose lines the rules read: tool
/// calls, named on the next usage. Any other item is skipped unread.
const TOOL_ITEMS: &[&str] = &[
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "web_search_call",
];

/// How far into a line its kind is looked for before it is parsed instead.
const KIND_WITHIN: usize = 256;

/// The line type and payload type (`None` when the type alone decides) of a
/// line whose first bytes say no rule reads it: `world_state`, `compacted`,
/// an `event_msg` other than `token_count`, a `response_item` other than a
/// tool call. `None` sends the line to the parse: any other kind, or first
/// bytes not in the shape Codex writes (`{"timestamp":"…","ordinal":N,
/// "type":"…","payload":{"type":"…"`, no spaces, no escapes in these
/// strings), or a last byte that is not `}` (a line cut short).
///
/// The rest of the line is not looked at, so this and the parse disagree
/// only on a line that is no JSON object past its first bytes, or whose
/// `type` or payload `type` is repeated further on; both carry no usage
/// by what they start with.
#[doc(hidden)]
pub fn no_usage_kind(line: &[u8]) -> Option<(&str, Option<&str>)> {
    if line.last() != Some(&b'}') {
        return None;
    }
    let mut head = Head(&line[..line.len().min(KIND_WITHIN)]);
    head.eat(b"{")?;
    let mut kind = None;
    loop {
        let key = head.string()?;
        head.eat(b":")?;
        match key {
            "type" => {
                let name = head.string()?;
                if matches!(name, "world_state" | "compacted") {
                    return Some((name, None));
                }
                kind = Some(name);
            }
            "payload" => {
                head.eat(b"{\"type\":")?;
                let item = head.string()?;
                let skipped = match kind? {
                    "response_item" => !TOOL_ITEMS.contains(&item),
                    "event_msg" => item != "token_count",
                    _ => false,
                };
                return skipped.then_some((kind?, Some(item)));
            }
            _ => head.scalar()?,
        }
        head.eat(b",")?;
    }
}

/// The first bytes of a line, read from the front.
struct Head<'a>(&'a [u8]);

impl<'a> Head<'a> {
    fn eat(&mut self, expected: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(expected)?;
        Some(())
    }

    /// A string without escapes, so its bytes are its value.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b"\"")?;
        let end = self.0.iter().position(|&b| b == b'"' || b == b'\\')?;
        if self.0[end] != b'"' {
            return None;
        }
        let value = std::str::from_utf8(&self.0[..end]).ok()?;
        self.0 = &self.0[end + 1..];
        Some(value)
    }

    /// A string without escapes or a number: the value of a field before
    /// the kind (`timestamp`, `ordinal`).
    fn scalar(&mut self) -> Option<()> {
        if self.0.first() == Some(&b'"') {
            return self.string().map(drop);
        }
        let end = self
            .0
            .iter()
            .position(|&b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))?;
        if end == 0 {
            return None;
        }
        self.0 = &self.0[end..];
        Some(())
    }
}

/// What a rollout has said so far that later lines need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollout {
    /// `session_meta.payload.id`.
    session_id: Option<String>,
    /// `session_meta.payload.cwd`, then each `turn_context`'s.
    cwd: Option<String>,
    /// The latest `turn_context.payload.model`.
    model: Option<String>,
    /// The thread total of the latest `token_count` with info, to tell a
    /// repeated line from a new response.
    last_total: Option<Usage>,
    /// A `token_usage_record` was seen: `token_count` lines only repeat it.
    has_records: bool,
    /// Tools called since the last usage, for the next one.
    pending_tools: Vec<String>,
    /// The latest `turn_context.payload.turn_id`.
    turn_id: Option<String>,
    /// `session_meta.payload.git.branch`.
    git_branch: Option<String>,
    /// The plan use the line just read reported, until taken.
    plan: Option<CodexPlanUse>,
}

impl Rollout {
    pub fn new() -> Rollout {
        Rollout::default()
    }

    /// Reads the next line (without its newline). Pure and total.
    pub fn read_line(&mut self, line: &[u8]) -> CodexLine {
        match self.read(line) {
            Ok(usage) => CodexLine::Usage(usage),
            Err(skip) => CodexLine::Skip(skip),
        }
    }

    /// The plan use the last line read reported (a `token_count` with
    /// `rate_limits`), once: a line with usage can carry it too, so it is
    /// asked for beside [`Rollout::read_line`]'s answer.
    pub fn take_plan(&mut self) -> Option<CodexPlanUse> {
        self.plan.take()
    }

    /// [`Rollout::read_line`] without its fast paths (the kind told from
    /// the first bytes, the skeleton): the full parse alone. For the tests
    /// and the `collector` fuzz target, which check that both read any line
    /// alike but where [`no_usage_kind`] says they may not.
    #[doc(hidden)]
    pub fn read_line_full(&mut self, line: &[u8]) -> CodexLine {
        let value = serde_json::from_slice::<Value>(line).map_err(|_| CodexSkip::NotJson);
        match value.and_then(|value| self.read_value(&value)) {
            Ok(usage) => CodexLine::Usage(usage),
            Err(skip) => CodexLine::Skip(skip),
        }
    }

    fn read(&mut self, bytes: &[u8]) -> Result<CodexUsage, CodexSkip> {
        // Most lines, and most bytes (tool output, reasoning), are of kinds
        // no rule reads, named in their first bytes: told from those alone,
        // their rest is not even scanned. So a line of such a kind that is
        // broken further on counts as "no usage", not "not JSON": it carried
        // no usage either way.
        if no_usage_kind(bytes).is_some() {
            return Err(CodexSkip::NoUsage);
        }
        // The lines left still hold bytes no rule reads (the session's
        // instructions, tool arguments): the skeleton skips them without
        // building values. serde_json checks UTF-8 only in the
        // strings it keeps, so the whole line is checked first: a bad byte
        // anywhere makes a line not JSON on both paths. Any line the
        // skeleton cannot take (a payload that is no object, a repeated
        // key) is read in full by the same rules, so the skeleton and the
        // full parse differ in speed alone.
        let text = std::str::from_utf8(bytes).map_err(|_| CodexSkip::NotJson)?;
        let value = match serde_json::from_str::<Object<LineSkeleton>>(text) {
            Ok(Object(skeleton)) => skeleton.into_value(),
            Err(_) => serde_json::from_str(text).map_err(|_| CodexSkip::NotJson)?,
        };
        self.read_value(&value)
    }

    /// The rules, on a line parsed in full or as a skeleton.
    fn read_value(&mut self, value: &Value) -> Result<CodexUsage, CodexSkip> {
        self.plan = None;
        let line = value.as_object().ok_or(CodexSkip::NotObject)?;
        let kind = line.get("type").and_then(Value::as_str).unwrap_or("");
        let empty = Map::new();
        let payload = line
            .get("payload")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        match kind {
            "session_meta" => {
                self.session_meta(payload);
                Err(CodexSkip::NoUsage)
            }
            "turn_context" => {
                if let Some(model) = payload.get("model").and_then(model_name) {
                    self.model = Some(model.to_owned());
                }
                if let Some(cwd) = text(payload, &["cwd"]) {
                    self.cwd = Some(cwd.to_owned());
                }
                if let Some(turn) = text(payload, &["turn_id"]) {
                    self.turn_id = Some(turn.to_owned());
                }
                Err(CodexSkip::NoUsage)
            }
            "response_item" => {
                self.tool_call(payload);
                Err(CodexSkip::NoUsage)
            }
            "token_usage_record" => self.usage_record(line, payload),
            "event_msg" if text(payload, &["type"]) == Some("token_count") => {
                self.token_count(line, payload)
            }
            known if KNOWN_TYPES.contains(&known) => Err(CodexSkip::NoUsage),
            _ => Err(CodexSkip::UnknownType),
        }
    }

    fn session_meta(&mut self, payload: &Map<String, Value>) {
        // A rollout has one; a second (a copied parent's) names another
        // session and must not take this one's place.
        if self.session_id.is_none() {
            self.session_id = text(payload, &["id", "session_id"]).map(str::to_owned);
            self.cwd = text(payload, &["cwd"]).map(str::to_owned);
            self.git_branch = payload
                .get("git")
                .and_then(Value::as_object)
                .and_then(|git| text(git, &["branch"]))
                .map(str::to_owned);
            if let Some(model) = payload.get("model").and_then(model_name) {
                self.model = Some(model.to_owned());
            }
        }
    }

    /// A tool call item: its name goes on the next usage.
    fn tool_call(&mut self, payload: &Map<String, Value>) {
        let kind = text(payload, &["type"]).unwrap_or("");
        // Every kind named here must be in TOOL_ITEMS.
        let name = match kind {
            "function_call" | "custom_tool_call" => text(payload, &["name"]),
            "local_shell_call" => Some("local_shell"),
            "web_search_call" => Some("web_search"),
            _ => None,
        };
        if let Some(name) = name {
            if !self.pending_tools.iter().any(|t| t == name) {
                self.pending_tools.push(name.to_owned());
            }
        }
    }

    fn usage_record(
        &mut self,
        line: &Map<String, Value>,
        payload: &Map<String, Value>,
    ) -> Result<CodexUsage, CodexSkip> {
        self.has_records = true;
        let usage = read_usage(payload, "usage", "payload.usage")?;
        let Some(response) = text(payload, &["response_id"]) else {
            return Err(CodexSkip::NoUsage);
        };
        let session = text(payload, &["thread_id", "session_id"])
            .map(str::to_owned)
            .or_else(|| self.session_id.clone())
            .ok_or(CodexSkip::NoSession)?;
        if let Some(turn) = text(payload, &["turn_id"]) {
            self.turn_id = Some(turn.to_owned());
        }
        Ok(self.emit(format!("{KEY_PREFIX}{response}"), session, line, usage))
    }

    fn token_count(
        &mut self,
        line: &Map<String, Value>,
        payload: &Map<String, Value>,
    ) -> Result<CodexUsage, CodexSkip> {
        self.plan = plan_use(line, payload).map(|(timestamp, windows)| CodexPlanUse {
            session_id: self.session_id.clone(),
            timestamp,
            windows,
        });
        let info = match payload.get("info") {
            Some(Value::Object(info)) => info,
            _ => return Err(CodexSkip::NullInfo),
        };
        let total = read_usage(info, "total_token_usage", "payload.info.total_token_usage")?;
        let previous = self.last_total.replace(total);
        if self.has_records {
            return Err(CodexSkip::CountedByRecord);
        }
        if previous == Some(total) {
            return Err(CodexSkip::RepeatedTotal);
        }
        let last = match info.get("last_token_usage") {
            Some(Value::Object(_)) => {
                read_usage(info, "last_token_usage", "payload.info.last_token_usage")?
            }
            // Without the latest response's own counts, the total's growth
            // is that response; only the first line of a rollout has no
            // growth to measure and stands for itself.
            _ => match previous {
                Some(before) => growth(&total, &before).ok_or_else(|| {
                    CodexSkip::InvalidUsage(
                        "payload.info.total_token_usage shrank since the line before".into(),
                    )
                })?,
                None => total,
            },
        };
        let session = self.session_id.clone().ok_or(CodexSkip::NoSession)?;
        let stamp = text(line, &["timestamp"]).unwrap_or("");
        let key = format!(
            "{KEY_PREFIX}tc:{stamp}:{}",
            total.prompt_tokens() + total.output
        );
        Ok(self.emit(key, session, line, last))
    }

    fn emit(
        &mut self,
        key: String,
        session_id: String,
        line: &Map<String, Value>,
        usage: Usage,
    ) -> CodexUsage {
        CodexUsage {
            key,
            session_id,
            timestamp: timestamp(line),
            model: self.model.clone().unwrap_or_default(),
            usage,
            tool_names: std::mem::take(&mut self.pending_tools),
            cwd: self.cwd.clone(),
            turn_id: self.turn_id.clone(),
            git_branch: self.git_branch.clone(),
        }
    }
}

/// The windows of a `token_count` payload's `rate_limits`, with the line's
/// time; `None` without a time or a window worth keeping. A window without
/// a finite, non-negative `used_percent` or a positive `window_minutes` is
/// left out: its name could only be guessed.
fn plan_use(
    line: &Map<String, Value>,
    payload: &Map<String, Value>,
) -> Option<(jiff::Timestamp, Vec<CodexPlanWindow>)> {
    let limits = payload.get("rate_limits")?.as_object()?;
    let at = timestamp(line)?;
    let windows: Vec<CodexPlanWindow> = ["primary", "secondary"]
        .iter()
        .filter_map(|name| {
            let window = limits.get(*name)?.as_object()?;
            let used_pct = window
                .get("used_percent")
                .and_then(Value::as_f64)
                .filter(|p| p.is_finite() && *p >= 0.0)?;
            let minutes = window
                .get("window_minutes")
                .and_then(Value::as_i64)
                .filter(|m| *m > 0)?;
            let resets_at = match window.get("resets_at").and_then(Value::as_i64) {
                Some(seconds) => jiff::Timestamp::from_second(seconds).ok(),
                None => window
                    .get("resets_in_seconds")
                    .and_then(Value::as_i64)
                    .and_then(|s| at.checked_add(jiff::SignedDuration::from_secs(s)).ok()),
            };
            Some(CodexPlanWindow {
                window: plan_window_name(minutes),
                used_pct,
                resets_at,
            })
        })
        .collect();
    (!windows.is_empty()).then_some((at, windows))
}

/// The name `plan_usage` keeps a window of `minutes` under.
pub fn plan_window_name(minutes: i64) -> String {
    match minutes {
        300 => "five_hour".to_owned(),
        10_080 => "seven_day".to_owned(),
        other => format!("{other}m"),
    }
}

/// The Codex usage object `key` of `object`, read by the collector's Codex
/// shape; `within` names it in a refusal.
fn read_usage(object: &Map<String, Value>, key: &str, within: &str) -> Result<Usage, CodexSkip> {
    let usage = match object.get(key) {
        Some(Value::Object(usage)) => usage,
        None | Some(Value::Null) => return Err(CodexSkip::NoUsage),
        Some(_) => {
            return Err(CodexSkip::InvalidUsage(format!(
                "{within} is not an object"
            )));
        }
    };
    codex_usage(usage, within)
        .and_then(|u| u.map(|u| within_limits(u, within)).transpose())
        .map_err(CodexSkip::InvalidUsage)?
        .ok_or(CodexSkip::NoUsage)
}

/// The fields of a rollout line the rules read; deserializing into it
/// skips the rest (most of the bytes) without building values for it.
#[derive(serde::Deserialize)]
struct LineSkeleton {
    #[serde(rename = "type", default, deserialize_with = "kept")]
    kind: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    timestamp: Option<Value>,
    #[serde(default)]
    payload: Option<Object<PayloadSkeleton>>,
}

/// The union of what the rules read in any line type's payload.
#[derive(serde::Deserialize)]
struct PayloadSkeleton {
    #[serde(rename = "type", default, deserialize_with = "kept")]
    kind: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    id: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    session_id: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    thread_id: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    response_id: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    cwd: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    model: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    name: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    usage: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    info: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    turn_id: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    git: Option<Value>,
    #[serde(default, deserialize_with = "kept")]
    rate_limits: Option<Value>,
}

/// A field present in the line, `null` included: `Option<Value>` alone
/// would read `null` as absent, and the full parse keeps it.
fn kept<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    <Value as serde::Deserialize>::deserialize(deserializer).map(Some)
}

impl LineSkeleton {
    /// The line again, as a JSON object holding only the fields read.
    fn into_value(self) -> Value {
        let mut line = Map::new();
        put(&mut line, "type", self.kind);
        put(&mut line, "timestamp", self.timestamp);
        if let Some(Object(p)) = self.payload {
            let mut payload = Map::new();
            put(&mut payload, "type", p.kind);
            put(&mut payload, "id", p.id);
            put(&mut payload, "session_id", p.session_id);
            put(&mut payload, "thread_id", p.thread_id);
            put(&mut payload, "response_id", p.response_id);
            put(&mut payload, "cwd", p.cwd);
            put(&mut payload, "model", p.model);
            put(&mut payload, "name", p.name);
            put(&mut payload, "usage", p.usage);
            put(&mut payload, "info", p.info);
            put(&mut payload, "turn_id", p.turn_id);
            put(&mut payload, "git", p.git);
            put(&mut payload, "rate_limits", p.rate_limits);
            line.insert("payload".to_owned(), Value::Object(payload));
        }
        Value::Object(line)
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

/// `total − before`, field by field; `None` when any count went down.
fn growth(total: &Usage, before: &Usage) -> Option<Usage> {
    Some(Usage {
        input: total.input.checked_sub(before.input)?,
        cache_read: total.cache_read.checked_sub(before.cache_read)?,
        cache_write: total.cache_write.checked_sub(before.cache_write)?,
        cache_write_1h: total.cache_write_1h.checked_sub(before.cache_write_1h)?,
        output: total.output.checked_sub(before.output)?,
        reasoning: total.reasoning.checked_sub(before.reasoning)?,
    })
}

#[cfg(test)]
mod tests;
