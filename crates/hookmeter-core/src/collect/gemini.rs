//! Gemini CLI chat logs: the files the CLI keeps under
//! `~/.gemini/tmp/<project>/chats/`, in, the usage of each billed model
//! message out (docs/ingest.md#gemini-cli-chat-logs).
//!
//! Two forms. The current one (`session-<time>-<id8>.jsonl`) is an
//! append-only event log, read in order through a [`Chat`]:
//! - a header, `{"sessionId", "projectHash", "startTime", "kind", …}`,
//!   written again (same session) each time the session is resumed;
//! - `{"$set": {…}}` metadata updates; a `$set.messages` replaces the
//!   history the CLI shows (a new session's context, a resume's copy of the
//!   earlier messages), its messages read like any other;
//! - `{"$rewindTo": "<id>"}`: the CLI drops later messages from what it
//!   shows, but they were billed, so nothing is taken back;
//! - messages, `{"id", "timestamp", "type", "content", …}`; a `gemini`
//!   message carries the response's `tokens` (`input`, `output`, `cached`,
//!   `thoughts`, `tool`, `total`, straight from `usageMetadata`) and the
//!   requested `model`. The CLI writes a message again whenever it changes
//!   (its tool calls arrive after its tokens), so an id is seen several
//!   times: its key is `gemini:<session id>:<message id>`, the same from
//!   any copy, any file, a re-read or an import.
//!
//! The older form (`session-*.json`) is one object, the header's fields
//! beside a `messages` array, read whole by [`read_document`].
//!
//! Counts follow Gemini's semantics: `input` (`promptTokenCount`) includes
//! `cached`; `thoughts` are beside `output` and billed as output; `tool`
//! (`toolUsePromptTokenCount`, the prompts of tool use) is beside `input`
//! and billed as input. Pure and total: no I/O, no clock, never a panic; an
//! unknown line is skipped and counted, never fatal.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use super::identity::{model_name, text, timestamp};
use super::shapes::within_limits;
use super::{Usage, MAX_TOKENS};

/// The agent every Gemini CLI record is kept under.
pub const AGENT: &str = "gemini-cli";

/// The prefix of every Gemini record key.
const KEY_PREFIX: &str = "gemini:";

/// Whether a file name is a Gemini CLI chat log's: `session-*.jsonl` (or
/// the older `session-*.json`) of a main session, `<session id>.jsonl` of a
/// subagent (under `chats/<parent session id>/`, which the caller checks).
pub fn is_chat_name(name: &str) -> bool {
    name.starts_with("session-") && (name.ends_with(".jsonl") || name.ends_with(".json"))
}

/// Whether `path` is a Gemini CLI chat log by its name and place:
/// `chats/session-*.jsonl` (or the older `chats/session-*.json`) of a
/// session, `chats/<parent session id>/*.jsonl` of a subagent. Only the
/// path's text is looked at.
pub fn is_chat_path(path: &Path) -> bool {
    let named_chats = |p: Option<&Path>| p.and_then(Path::file_name).is_some_and(|n| n == "chats");
    let parent = path.parent();
    let session = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_chat_name)
        && named_chats(parent);
    let subagent = path.extension().is_some_and(|e| e == "jsonl")
        && named_chats(parent.and_then(Path::parent));
    session || subagent
}

/// Whether a hook payload is the Gemini CLI's
/// (docs/hook-protocol.md#gemini-cli-payloads). Its payloads look like
/// Claude Code's (`session_id`, `transcript_path`, `cwd`,
/// `hook_event_name`, `timestamp`), so the tell is a `transcript_path` that
/// is a chat log, or one of the CLI's own event names on a payload with a
/// `transcript_path` (the CLI always sends one, empty when it records no
/// chat). A payload with Gemini usage but no `transcript_path` is someone
/// else's (a script's `AfterModel`-like event) and is priced as usual.
pub fn is_hook_payload(payload: &Map<String, Value>, event_name: Option<&str>) -> bool {
    match payload.get("transcript_path").and_then(Value::as_str) {
        Some(path) => {
            is_chat_path(Path::new(path))
                || event_name.is_some_and(|e| super::identity::GEMINI_CLI_EVENTS.contains(&e))
        }
        None => false,
    }
}

/// One billed model message, as a chat log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GeminiUsage {
    /// The record's idempotency key: `gemini:<session id>:<message id>`.
    pub key: String,
    /// The Gemini CLI session the message belongs to.
    pub session_id: String,
    /// When the message was written; `None` when absent or unreadable.
    pub timestamp: Option<jiff::Timestamp>,
    /// The model the request asked for (the message's `model`; empty when
    /// it names none).
    pub model: String,
    /// The response's token counts: `input` without the cached part, the
    /// tool-use prompt added; `output` with the thoughts.
    pub usage: Usage,
    /// Tools the message called (`toolCalls[].name`), in order, each once.
    pub tool_names: Vec<String>,
    /// The id of the user message this one answers: the last user message
    /// before it that is a prompt, not only tool results. The chat log names
    /// no prompt id of its own (the OTel `prompt_id` is another value).
    pub prompt_id: Option<String>,
}

/// Why a line yields no usage. Most lines are headers, metadata and user
/// messages: only [`GeminiSkip::InvalidUsage`] and [`GeminiSkip::NoSession`]
/// lose a response's cost, and [`GeminiSkip::UnknownType`] says the format
/// moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeminiSkip {
    /// Not JSON: garbage, or a line cut short.
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// Neither a header, a metadata update, a rewind nor a message of a
    /// known type; skipped and counted.
    UnknownType,
    /// A known line that carries no new usage: a header, metadata, a user
    /// message, a model message without tokens, a message seen before.
    NoUsage,
    /// Usage before any header: no session to key it by.
    NoSession,
    /// Token counts refused, with the field and its value.
    InvalidUsage(String),
}

impl GeminiSkip {
    /// A short fixed label, fit for a counter key.
    pub fn label(&self) -> &'static str {
        match self {
            GeminiSkip::NotJson => "not json",
            GeminiSkip::NotObject => "not an object",
            GeminiSkip::UnknownType => "unknown line type",
            GeminiSkip::NoUsage => "no usage",
            GeminiSkip::NoSession => "no session",
            GeminiSkip::InvalidUsage(_) => "invalid usage",
        }
    }
}

impl fmt::Display for GeminiSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeminiSkip::InvalidUsage(detail) => write!(f, "{}: {detail}", self.label()),
            other => f.write_str(other.label()),
        }
    }
}

/// What one line gave: the records it holds (a `$set.messages` may hold
/// several) and, for each message or line that gave none, why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeminiLine {
    pub usages: Vec<GeminiUsage>,
    pub skips: Vec<GeminiSkip>,
}

/// Message types the CLI writes (`MessageRecord.type`).
const MESSAGE_TYPES: &[&str] = &["user", "gemini", "info", "error", "warning"];

/// What a chat log has said so far that later lines need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chat {
    /// The header's `sessionId`: a resume writes the header again with the
    /// same id, and a second header never takes the first one's place.
    session_id: Option<String>,
    /// What each message id was last given as: its usage and tools, and
    /// the prompt it answered when first read. A repeated write adds
    /// nothing unless it brings new tools.
    seen: HashMap<String, (Usage, Vec<String>, Option<String>)>,
    /// The latest prompt: the id of the last user message that is not
    /// only tool results.
    prompt: Option<String>,
}

impl Chat {
    pub fn new() -> Chat {
        Chat::default()
    }

    /// The session the header named, once read.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Reads the next line (without its newline). Pure and total.
    pub fn read_line(&mut self, line: &[u8]) -> GeminiLine {
        let mut out = GeminiLine::default();
        match serde_json::from_slice::<Value>(line) {
            Err(_) => out.skips.push(GeminiSkip::NotJson),
            Ok(Value::Object(object)) => self.read_object(&object, &mut out),
            Ok(_) => out.skips.push(GeminiSkip::NotObject),
        }
        out
    }

    fn read_object(&mut self, object: &Map<String, Value>, out: &mut GeminiLine) {
        if let Some(Value::Object(set)) = object.get("$set") {
            match set.get("messages") {
                Some(Value::Array(messages)) => {
                    for message in messages {
                        self.read_message_value(message, out);
                    }
                    if messages.is_empty() {
                        out.skips.push(GeminiSkip::NoUsage);
                    }
                }
                _ => out.skips.push(GeminiSkip::NoUsage),
            }
            return;
        }
        if text(object, &["$rewindTo"]).is_some() {
            // Billed all the same: the rewound messages keep their records.
            out.skips.push(GeminiSkip::NoUsage);
            return;
        }
        if text(object, &["id"]).is_some() {
            self.read_message(object, out);
            return;
        }
        if let (Some(session), Some(_)) =
            (text(object, &["sessionId"]), text(object, &["projectHash"]))
        {
            self.header(session);
            // A resumed older-form session's header carries no messages,
            // but a partial record may: read them like a `$set`'s.
            if let Some(Value::Array(messages)) = object.get("messages") {
                for message in messages {
                    self.read_message_value(message, out);
                }
            }
            if out.usages.is_empty() && out.skips.is_empty() {
                out.skips.push(GeminiSkip::NoUsage);
            }
            return;
        }
        out.skips.push(GeminiSkip::UnknownType);
    }

    fn header(&mut self, session: &str) {
        if self.session_id.is_none() {
            self.session_id = Some(session.to_owned());
        }
    }

    fn read_message_value(&mut self, message: &Value, out: &mut GeminiLine) {
        match message {
            Value::Object(m) if text(m, &["id"]).is_some() => self.read_message(m, out),
            Value::Object(_) => out.skips.push(GeminiSkip::UnknownType),
            _ => out.skips.push(GeminiSkip::NotObject),
        }
    }

    fn read_message(&mut self, message: &Map<String, Value>, out: &mut GeminiLine) {
        match self.message(message) {
            Ok(Some(usage)) => out.usages.push(usage),
            Ok(None) => out.skips.push(GeminiSkip::NoUsage),
            Err(skip) => out.skips.push(skip),
        }
    }

    fn message(&mut self, message: &Map<String, Value>) -> Result<Option<GeminiUsage>, GeminiSkip> {
        let kind = text(message, &["type"]).unwrap_or("");
        if !MESSAGE_TYPES.contains(&kind) {
            return Err(GeminiSkip::UnknownType);
        }
        if kind == "user" && is_prompt(message) {
            self.prompt = text(message, &["id"]).map(str::to_owned);
        }
        if kind != "gemini" {
            return Ok(None);
        }
        let tokens = match message.get("tokens") {
            Some(Value::Object(tokens)) => tokens,
            // Written before its response's usage arrived, or a resume's
            // copy with the counts left out: the write with them counts.
            None | Some(Value::Null) => return Ok(None),
            Some(_) => return Err(GeminiSkip::InvalidUsage("tokens is not an object".into())),
        };
        let usage = usage_of(tokens)?;
        let id = text(message, &["id"]).unwrap_or_default();
        let session = self.session_id.clone().ok_or(GeminiSkip::NoSession)?;
        let tools = tool_names(message);
        let key = format!("{KEY_PREFIX}{session}:{id}");
        let prompt_id = if let Some((seen_usage, seen_tools, prompt)) = self.seen.get_mut(&key) {
            let new_tools = tools.iter().any(|t| !seen_tools.contains(t));
            if *seen_usage == usage && !new_tools {
                return Ok(None);
            }
            *seen_usage = usage;
            for tool in &tools {
                if !seen_tools.contains(tool) {
                    seen_tools.push(tool.clone());
                }
            }
            prompt.clone()
        } else {
            self.seen
                .insert(key.clone(), (usage, tools.clone(), self.prompt.clone()));
            self.prompt.clone()
        };
        Ok(Some(GeminiUsage {
            key,
            session_id: session,
            timestamp: timestamp(message),
            model: message
                .get("model")
                .and_then(model_name)
                .unwrap_or_default()
                .to_owned(),
            usage,
            tool_names: tools,
            prompt_id,
        }))
    }
}

/// A user message is a prompt unless all its content is tool results
/// (`functionResponse` parts, which the CLI writes as a user message
/// before the request that reads them).
fn is_prompt(message: &Map<String, Value>) -> bool {
    match message.get("content") {
        Some(Value::Array(parts)) => parts.iter().any(|part| {
            part.as_object()
                .is_none_or(|p| !p.contains_key("functionResponse"))
        }),
        _ => true,
    }
}

/// Reads a chat log in the older single-JSON form: one object, the header's
/// fields beside `messages`. Pure and total.
pub fn read_document(bytes: &[u8]) -> GeminiLine {
    Chat::new().read_line(bytes)
}

/// `toolCalls[].name`, in order, each once.
fn tool_names(message: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(Value::Array(calls)) = message.get("toolCalls") {
        for call in calls.iter().filter_map(Value::as_object) {
            if let Some(name) = text(call, &["name"]) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}

/// A count of `tokens`: absent or `null` is 0; anything but a whole number
/// from 0 to [`MAX_TOKENS`] is refused.
fn count(tokens: &Map<String, Value>, key: &str) -> Result<u64, GeminiSkip> {
    match tokens.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(value) => value
            .as_u64()
            .filter(|n| *n <= MAX_TOKENS)
            .ok_or_else(|| GeminiSkip::InvalidUsage(format!("tokens.{key} is {value}"))),
    }
}

/// A message's `tokens` in hookmeter's terms.
fn usage_of(tokens: &Map<String, Value>) -> Result<Usage, GeminiSkip> {
    let input = count(tokens, "input")?;
    let cached = count(tokens, "cached")?;
    let output = count(tokens, "output")?;
    let thoughts = count(tokens, "thoughts")?;
    let tool = count(tokens, "tool")?;
    let uncached = input.checked_sub(cached).ok_or_else(|| {
        GeminiSkip::InvalidUsage(format!(
            "tokens.cached ({cached}) exceeds tokens.input ({input}), which includes it"
        ))
    })?;
    let usage = Usage {
        input: uncached + tool,
        cache_read: cached,
        output: output + thoughts,
        reasoning: thoughts,
        ..Usage::default()
    };
    within_limits(usage, "tokens").map_err(GeminiSkip::InvalidUsage)
}

#[cfg(test)]
mod tests;
