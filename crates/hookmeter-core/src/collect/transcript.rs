//! Claude Code transcripts: one JSONL line in, the usage it shows for one API
//! message out (docs/ingest.md#claude-code-transcripts).
//!
//! Owns what a transcript line means for cost: which lines carry billable
//! usage (assistant lines with `message.usage`, neither `<synthetic>` nor an
//! API error), the key that makes a message the same message whether it is
//! captured live or imported later, whose message it is (main thread or a
//! subagent), and how the snapshots Claude Code writes of one message fold
//! into one ([`TranscriptUsage::merge`]).
//!
//! Token counts are read and refused by the collector's own Anthropic rules,
//! never by rules of its own, so a transcript and a hook payload holding the
//! same usage agree. Like the rest of the collector it is pure and total: no
//! I/O, no clock, never a panic. Reading files from an offset, holding back a
//! half-written last line, and dropping sidechain replays of main-thread
//! messages (which needs the whole session, not one line) belong to the
//! caller.

use std::fmt;

use serde_json::{Map, Value};

use super::claude_code;
use super::identity::{model_name, reported_cost_usd, text, timestamp};
use super::shapes::{anthropic, billing, within_limits};
use super::{Billing, Usage};

/// The model Claude Code writes on messages it made up itself (API error
/// notices, canned replies such as "No response requested."): no API call,
/// so nothing to bill.
const SYNTHETIC_MODEL: &str = "<synthetic>";

/// Where a transcript line keeps its usage, as refusal reasons name it.
const USAGE_FIELD: &str = "message.usage";

/// One assistant API message's usage as one transcript line shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptUsage {
    /// The record's idempotency key, `cc:<sessionId>:<message.id>:<requestId>`
    /// (`cc:<sessionId>:<message.id>` without a `requestId`): the same in a
    /// live read and an import, so neither counts a message twice.
    pub key: String,
    /// The Claude Code session the line belongs to (`sessionId`).
    pub session_id: String,
    /// The API message's id (`message.id`); with the session, what tells a
    /// sidechain replay from a message of its own.
    pub message_id: String,
    /// The API request's id (`requestId`); old transcripts lack it.
    pub request_id: Option<String>,
    /// When the line was written; `None` when absent or unreadable, and the
    /// caller decides what stands in.
    pub timestamp: Option<jiff::Timestamp>,
    /// `message.model` as written (e.g. `claude-sonnet-4-5-20250929`), trimmed;
    /// empty when the line names none, and the caller falls back on the
    /// session's last known model (docs/usage.md#which-model).
    pub model: String,
    /// The message's token counts, normalized and validated like any
    /// Anthropic usage, 1-hour cache writes included.
    pub usage: Usage,
    /// The billing modifiers of the usage object (`speed: "fast"`,
    /// `service_tier`, `inference_geo`), priced where the table has a fact.
    pub billing: Billing,
    /// Names of the `tool_use` blocks in this line's `message.content`, in
    /// order, each once; [`TranscriptUsage::merge`] gathers a message's
    /// tools across its lines.
    pub tool_names: Vec<String>,
    /// `isSidechain == true`: the line is a subagent's.
    pub sidechain: bool,
    /// For a sidechain line, `subagent:<agentId>` (`subagent:<agent_type>`
    /// without an `agentId`, `subagent:unknown` without either); `None` on
    /// the main thread, whose agent the caller knows.
    pub agent_id: Option<String>,
    /// The session's working directory, from which the project is named.
    pub cwd: Option<String>,
    /// The legacy `costUSD` old Claude Code versions wrote, finite and ≥ 0,
    /// kept beside hookmeter's own estimate.
    pub reported_cost_usd: Option<f64>,
    /// The line is a forked session's copy of a message its parent made
    /// (docs/ingest.md#forked-sessions): it says so (`forkedFrom`, written
    /// by `/branch` and the SDK's `forkSession`), or [`TranscriptUsage::mark_copy`]
    /// found it dated before its file began (`--fork-session`, which copies
    /// lines unmarked). The original's session wins over a copy's whichever
    /// is read first.
    pub copied: bool,
    /// The prompt this message answers (`promptId`, the OTel `prompt.id`).
    /// Claude Code writes it on the user lines only (the prompt and each
    /// tool result), so the reader fills it from the last one before the
    /// message ([`prompt_id_in`]); `None` when no line of the file says.
    pub prompt_id: Option<String>,
    /// The git branch of the session's working directory (`gitBranch`, on
    /// every line; `HEAD` when detached), `None` outside a repository.
    pub git_branch: Option<String>,
}

/// What one transcript line is to the cost pipeline.
// Unboxed on purpose: a line's answer lives only until the caller has folded
// it in, so the bytes a skip wastes cost less than a heap allocation for
// every usage line would.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TranscriptLine {
    /// A snapshot of one API message's usage.
    Usage(TranscriptUsage),
    /// Nothing to bill, and why.
    Skip(SkipReason),
}

/// Why a line yields no usage.
///
/// Most lines of a transcript are prompts, tool results and summaries, so
/// every reason but [`SkipReason::InvalidUsage`] is routine; that one means
/// a real message's cost is lost and is worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Not JSON: garbage, or a line cut short (a half-written last line).
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// Not an assistant line (`type` is `user`, `summary`, …).
    NotAssistant,
    /// An assistant line without token counts in `message.usage`.
    NoUsage,
    /// A message Claude Code made up itself (model `<synthetic>`).
    Synthetic,
    /// An API error notice (`isApiErrorMessage: true`).
    ApiError,
    /// Usage without a `message.id`, so no key to count it once by.
    NoMessageId,
    /// Usage without a `sessionId`, so no key to count it once by.
    NoSessionId,
    /// Token counts the collector refuses; the detail names the field and
    /// its value, e.g. `message.usage.input_tokens is negative (-5)`.
    InvalidUsage(String),
}

impl SkipReason {
    /// A short fixed label, fit for a metric name or a counter key.
    pub fn label(&self) -> &'static str {
        match self {
            SkipReason::NotJson => "not json",
            SkipReason::NotObject => "not an object",
            SkipReason::NotAssistant => "not assistant",
            SkipReason::NoUsage => "no usage",
            SkipReason::Synthetic => "synthetic",
            SkipReason::ApiError => "api error",
            SkipReason::NoMessageId => "no message id",
            SkipReason::NoSessionId => "no session id",
            SkipReason::InvalidUsage(_) => "invalid usage",
        }
    }
}

/// The label, followed for refused counts by what was wrong with them.
impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::InvalidUsage(detail) => write!(f, "{}: {detail}", self.label()),
            other => f.write_str(other.label()),
        }
    }
}

/// Reads one transcript line (`line` excludes its trailing newline). Pure and
/// total: any bytes in, a usage snapshot or the reason there is none out.
pub fn parse_line(line: &[u8]) -> TranscriptLine {
    match read_line(line) {
        Ok(usage) => TranscriptLine::Usage(usage),
        Err(reason) => TranscriptLine::Skip(reason),
    }
}

/// [`parse_line`] without the skeleton fast path: the full parse alone. For
/// the `collector` fuzz target, which checks that both read a line alike.
#[doc(hidden)]
pub fn parse_line_full(line: &[u8]) -> TranscriptLine {
    let value = serde_json::from_slice::<Value>(line).map_err(|_| SkipReason::NotJson);
    match value.and_then(|value| read_value(&value)) {
        Ok(usage) => TranscriptLine::Usage(usage),
        Err(reason) => TranscriptLine::Skip(reason),
    }
}

fn read_line(bytes: &[u8]) -> Result<TranscriptUsage, SkipReason> {
    // serde_json caps nesting depth, so a deep line can do no more than fail
    // here. It checks UTF-8 only in the strings it keeps, not in those the
    // skeleton skips, so the whole line is checked first: a bad byte anywhere
    // makes a line not JSON on both paths. The skeleton is the fast path; any
    // line it cannot take is read in full, with the same rules, so the two
    // can only differ in speed.
    let text = std::str::from_utf8(bytes).map_err(|_| SkipReason::NotJson)?;
    let value = match serde_json::from_str::<Object<Skeleton>>(text) {
        Ok(Object(skeleton)) => skeleton.into_value(),
        Err(_) => serde_json::from_str(text).map_err(|_| SkipReason::NotJson)?,
    };
    read_value(&value)
}

/// The few fields of a transcript line the parser reads. Deserializing into
/// it skips everything else (text, thinking, tool inputs and results: most
/// of a line's bytes) without building values for it.
#[derive(serde::Deserialize)]
struct Skeleton {
    #[serde(rename = "type")]
    kind: Option<Value>,
    #[serde(rename = "isApiErrorMessage")]
    api_error: Option<Value>,
    message: Option<Object<MessageSkeleton>>,
    #[serde(rename = "sessionId")]
    session_id: Option<Value>,
    #[serde(rename = "requestId")]
    request_id: Option<Value>,
    timestamp: Option<Value>,
    #[serde(rename = "isSidechain")]
    sidechain: Option<Value>,
    #[serde(rename = "agentId")]
    agent_id: Option<Value>,
    #[serde(rename = "agentType")]
    agent_type_camel: Option<Value>,
    agent_type: Option<Value>,
    cwd: Option<Value>,
    #[serde(rename = "costUSD")]
    cost_usd_camel: Option<Value>,
    cost_usd: Option<Value>,
    #[serde(rename = "forkedFrom")]
    forked_from: Option<Value>,
    #[serde(rename = "promptId")]
    prompt_id: Option<Value>,
    #[serde(rename = "gitBranch")]
    git_branch: Option<Value>,
}

/// A skeleton struct read from a JSON object only. A derived struct also
/// takes its fields in order from an array, which the full parse reads as
/// no object at all; refusing one sends the line to the full parse.
pub(super) struct Object<T>(pub(super) T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

#[derive(serde::Deserialize)]
struct MessageSkeleton {
    id: Option<Value>,
    model: Option<Value>,
    usage: Option<Value>,
    content: Option<Blocks>,
}

/// `message.content`: the blocks' type and name when it is a list, nothing
/// otherwise (a plain string content has no tool calls).
struct Blocks(Vec<Object<BlockSkeleton>>);

#[derive(serde::Deserialize)]
struct BlockSkeleton {
    #[serde(rename = "type")]
    kind: Option<Value>,
    name: Option<Value>,
}

impl<'de> serde::Deserialize<'de> for Blocks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Blocks;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("message content")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Blocks, A::Error> {
                let mut blocks = Vec::new();
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(Blocks(blocks))
            }
            fn visit_str<E>(self, _: &str) -> Result<Blocks, E> {
                Ok(Blocks(Vec::new()))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl Skeleton {
    /// The line again, as a JSON object holding only the fields read.
    fn into_value(self) -> Value {
        let mut line = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(key.to_owned(), value);
            }
        };
        put(&mut line, "type", self.kind);
        put(&mut line, "isApiErrorMessage", self.api_error);
        put(&mut line, "sessionId", self.session_id);
        put(&mut line, "requestId", self.request_id);
        put(&mut line, "timestamp", self.timestamp);
        put(&mut line, "isSidechain", self.sidechain);
        put(&mut line, "agentId", self.agent_id);
        put(&mut line, "agentType", self.agent_type_camel);
        put(&mut line, "agent_type", self.agent_type);
        put(&mut line, "cwd", self.cwd);
        put(&mut line, "costUSD", self.cost_usd_camel);
        put(&mut line, "cost_usd", self.cost_usd);
        put(&mut line, "forkedFrom", self.forked_from);
        put(&mut line, "promptId", self.prompt_id);
        put(&mut line, "gitBranch", self.git_branch);
        if let Some(Object(message)) = self.message {
            let mut m = Map::new();
            put(&mut m, "id", message.id);
            put(&mut m, "model", message.model);
            put(&mut m, "usage", message.usage);
            if let Some(Blocks(blocks)) = message.content {
                let blocks = blocks
                    .into_iter()
                    .map(|Object(b)| {
                        let mut block = Map::new();
                        put(&mut block, "type", b.kind);
                        put(&mut block, "name", b.name);
                        Value::Object(block)
                    })
                    .collect();
                m.insert("content".to_owned(), Value::Array(blocks));
            }
            line.insert("message".to_owned(), Value::Object(m));
        }
        Value::Object(line)
    }
}

/// The parser's rules, on a line already parsed (in full or as a skeleton).
fn read_value(value: &Value) -> Result<TranscriptUsage, SkipReason> {
    let line = value.as_object().ok_or(SkipReason::NotObject)?;
    if text(line, &["type"]) != Some("assistant") {
        return Err(SkipReason::NotAssistant);
    }
    // Only the flag marks an API error. Claude Code also writes a top-level
    // `error` (`rate_limit`, `authentication_failed`, …) on those lines, but
    // always beside the flag and a `<synthetic>` model, so keying on `error`
    // would catch no more error lines and could drop a billed message that
    // merely mentions one.
    if is_true(line, "isApiErrorMessage") {
        return Err(SkipReason::ApiError);
    }
    let message = line
        .get("message")
        .and_then(Value::as_object)
        .ok_or(SkipReason::NoUsage)?;
    // The collector's reading of a name, on `message.model` alone: the other
    // places a hook payload may name its model are no part of a transcript
    // line, and the skeleton keeps none of them.
    let model = message
        .get("model")
        .and_then(model_name)
        .map(str::to_owned)
        .unwrap_or_default();
    if model == SYNTHETIC_MODEL {
        return Err(SkipReason::Synthetic);
    }
    let usage_object = message
        .get("usage")
        .and_then(Value::as_object)
        .ok_or(SkipReason::NoUsage)?;
    let usage = anthropic(usage_object, USAGE_FIELD)
        .and_then(|usage| {
            usage
                .map(|usage| within_limits(usage, USAGE_FIELD))
                .transpose()
        })
        .map_err(SkipReason::InvalidUsage)?
        .ok_or(SkipReason::NoUsage)?;
    let message_id = text(message, &["id"]).ok_or(SkipReason::NoMessageId)?;
    let session_id = text(line, &["sessionId"]).ok_or(SkipReason::NoSessionId)?;
    let request_id = text(line, &["requestId"]);
    let key = match request_id {
        Some(request) => format!("cc:{session_id}:{message_id}:{request}"),
        None => format!("cc:{session_id}:{message_id}"),
    };
    let sidechain = is_true(line, "isSidechain");
    Ok(TranscriptUsage {
        key,
        session_id: session_id.to_owned(),
        message_id: message_id.to_owned(),
        request_id: request_id.map(str::to_owned),
        timestamp: timestamp(line),
        model,
        usage,
        billing: billing(usage_object, None),
        tool_names: tool_names(message),
        sidechain,
        agent_id: sidechain.then(|| subagent_id(line)),
        cwd: text(line, &["cwd"]).map(str::to_owned),
        reported_cost_usd: reported_cost_usd(line),
        // Any value: Claude Code writes an object naming the parent session
        // and message, and a copy is a copy whatever it names.
        copied: line.get("forkedFrom").is_some_and(|v| !v.is_null()),
        prompt_id: text(line, &["promptId"]).map(str::to_owned),
        git_branch: text(line, &["gitBranch"]).map(str::to_owned),
    })
}

/// The key a transcript line names its prompt by, as Claude Code writes it
/// (`JSON.stringify`: no spaces).
pub const PROMPT_KEY: &[u8] = b"\"promptId\":\"";

/// The `promptId` a raw transcript line names, the last if several, found
/// without parsing the line: every user line carries one, and most of a
/// transcript's bytes are those lines' prompts and tool results. Inside a
/// JSON string a quote is always escaped, so an unescaped `"promptId":"`
/// is a key; a value that is not a plain id (empty, over 128 bytes, with
/// an escape) is not taken.
pub fn prompt_id_in(line: &[u8]) -> Option<&str> {
    let at = line
        .windows(PROMPT_KEY.len())
        .enumerate()
        .rev()
        .find(|&(at, w)| w == PROMPT_KEY && (at == 0 || line[at - 1] != b'\\'))?
        .0;
    let value = &line[at + PROMPT_KEY.len()..];
    let end = value.iter().position(|&b| b == b'"')?;
    let id = std::str::from_utf8(&value[..end]).ok()?;
    let plain = !id.is_empty() && id.len() <= 128 && !id.contains('\\');
    plain.then_some(id)
}

/// When a transcript line says it was written (`timestamp`), whatever its
/// type; `None` for a line without one or not JSON. The caller reads a
/// file's first dated line with it: when the session that writes the file
/// began, for [`TranscriptUsage::mark_copy`].
pub fn line_timestamp(line: &[u8]) -> Option<jiff::Timestamp> {
    #[derive(serde::Deserialize)]
    struct Dated {
        timestamp: Option<Value>,
    }
    let Object(Dated { timestamp: stamp }) = serde_json::from_slice(line).ok()?;
    let mut map = Map::new();
    map.insert("timestamp".to_owned(), stamp?);
    timestamp(&map)
}

/// Only a JSON `true` counts: a flag that decides whether money is counted
/// is not guessed from `"true"` or `1`.
fn is_true(line: &Map<String, Value>, key: &str) -> bool {
    line.get(key).and_then(Value::as_bool) == Some(true)
}

/// `subagent:<id>`, the name hook events of the same subagent are recorded
/// under too. Transcript keys are camelCase; hook payloads spell the type
/// `agent_type`, so both spellings are read.
fn subagent_id(line: &Map<String, Value>) -> String {
    let name = text(line, &["agentId"])
        .or_else(|| text(line, &["agentType", "agent_type"]))
        .unwrap_or("unknown");
    claude_code::subagent(name)
}

/// The `tool_use` names of a message's content blocks, in order, each once.
///
/// Each name is kept once because a message's tools are stored comma-joined
/// and re-merged whenever a line is read again: a message that shows `Read`
/// twice in one line must come out as it does when its blocks are spread
/// over two lines. A name with a comma is dropped: the API allows none, and
/// it would split into two names in the joined list.
fn tool_names(message: &Map<String, Value>) -> Vec<String> {
    let Some(blocks) = message.get("content").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for block in blocks.iter().filter_map(Value::as_object) {
        if text(block, &["type"]) != Some("tool_use") {
            continue;
        }
        if let Some(name) = text(block, &["name"]) {
            if !name.contains(',') && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

impl TranscriptUsage {
    /// Marks the line a copy when it is dated before `began`, the timestamp
    /// of its file's first dated line. A session writes its own lines as it
    /// goes, so none of them is older than the file's first; a fork made
    /// with `--fork-session` writes its own first line (the queued prompt),
    /// then its parent's lines as they were, dates included.
    pub fn mark_copy(&mut self, began: Option<jiff::Timestamp>) {
        if let (Some(at), Some(began)) = (self.timestamp, began) {
            self.copied |= at < began;
        }
    }

    /// Folds a later snapshot of the same message into this one.
    ///
    /// Token counts come from the larger snapshot (more output, then a
    /// larger prompt), whichever order the two arrive in; tool names are
    /// appended in order without duplicates; fast mode holds if either
    /// snapshot says so; the timestamp is the larger snapshot's, when the
    /// message was complete (the earlier one when both are equal), which
    /// is also the day other tools such as ccusage bill it to. The identity fields (key, ids, thread, agent) are this
    /// snapshot's: snapshots of one key share them. Merging snapshots of
    /// different keys is the caller's mistake and yields a meaningless mix.
    pub fn merge(&mut self, later: &TranscriptUsage) {
        let ours = snapshot_rank(&self.usage);
        let theirs = snapshot_rank(&later.usage);
        self.timestamp = match ours.cmp(&theirs) {
            std::cmp::Ordering::Less => later.timestamp.or(self.timestamp),
            std::cmp::Ordering::Greater => self.timestamp.or(later.timestamp),
            std::cmp::Ordering::Equal => match (self.timestamp, later.timestamp) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        };
        if theirs > ours {
            self.usage = later.usage;
        }
        // A message one snapshot shows as its own is the session's own.
        self.copied &= later.copied;
        // Billing is a property of the request, not of a snapshot: once any
        // snapshot records fast mode or a modifier, it holds, in whichever
        // order they arrive.
        self.billing.fast |= later.billing.fast;
        if self.billing.service_tier.is_none() {
            self.billing
                .service_tier
                .clone_from(&later.billing.service_tier);
        }
        if self.billing.inference_geo.is_none() {
            self.billing
                .inference_geo
                .clone_from(&later.billing.inference_geo);
        }
        for name in &later.tool_names {
            if !self.tool_names.contains(name) {
                self.tool_names.push(name.clone());
            }
        }
        if self.model.is_empty() {
            self.model.clone_from(&later.model);
        }
        if self.request_id.is_none() {
            self.request_id.clone_from(&later.request_id);
        }
        if self.cwd.is_none() {
            self.cwd.clone_from(&later.cwd);
        }
        if self.prompt_id.is_none() {
            self.prompt_id.clone_from(&later.prompt_id);
        }
        if self.git_branch.is_none() {
            self.git_branch.clone_from(&later.git_branch);
        }
        // A cost reported per snapshot grows with its output, like the counts;
        // the larger is the later, in whichever order they arrive.
        self.reported_cost_usd = match (self.reported_cost_usd, later.reported_cost_usd) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Orders snapshots of one message. Output grows as the message streams, so
/// the one with more output is the later; prompt counts, fixed per request,
/// decide between equal outputs; the other fields only make the order total,
/// so two different snapshots never tie and merging is order-independent.
pub fn snapshot_rank(usage: &Usage) -> (u64, u64, u64, u64, u64, u64, u64) {
    (
        usage.output,
        usage.prompt_tokens(),
        usage.input,
        usage.cache_read,
        usage.cache_write,
        usage.cache_write_1h,
        usage.reasoning,
    )
}

/// Appends `more` to a comma-joined list of tool names, skipping names
/// already in it, so that reading a line again leaves a stored record's
/// `tool_name` as it was: `"Edit"` + `["Read"]` is `"Edit,Read"`,
/// `"Edit,Read"` + `["Edit"]` is `"Edit,Read"`, `""` + `["Bash"]` is `"Bash"`.
pub fn merge_tool_names(existing: &str, more: &[String]) -> String {
    let mut joined = existing.to_owned();
    for name in more {
        if name.is_empty() || joined.split(',').any(|n| n == name) {
            continue;
        }
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(name);
    }
    joined
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::collect::MAX_TOKENS;
    use crate::pricing::PriceTable;
    use proptest::prelude::*;
    use serde_json::json;

    /// The skeleton fast path and the full parse agree on any line.
    fn both_ways(
        bytes: &[u8],
    ) -> (
        Result<TranscriptUsage, SkipReason>,
        Result<TranscriptUsage, SkipReason>,
    ) {
        let full = match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => read_value(&value),
            Err(_) => Err(SkipReason::NotJson),
        };
        (read_line(bytes), full)
    }

    #[test]
    fn the_skeleton_reads_every_fixture_line_like_the_full_parse() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/claude/projects/-home-dev-shop/s-session-1.jsonl"
        );
        let text = std::fs::read(path).unwrap();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let (fast, full) = both_ways(line);
            assert_eq!(fast, full, "{}", String::from_utf8_lossy(line));
        }
        // Shapes the skeleton must pass on to the full parse, or read the same.
        for odd in [
            r#"{"type":"assistant","message":"not an object"}"#,
            r#"{"type":"assistant","message":{"id":"m","content":[1,2],"usage":{"input_tokens":1}},"sessionId":"s"}"#,
            r#"{"type":"assistant","type":"user"}"#,
            r#"[1]"#,
            r#"{"type":"assistant","message":{"id":"m","model":"x","content":"text only","usage":{"input_tokens":1,"output_tokens":2}},"sessionId":"s"}"#,
        ] {
            let (fast, full) = both_ways(odd.as_bytes());
            assert_eq!(fast, full, "{odd}");
        }
    }

    /// Found by the `collector` fuzz target: serde_json checks UTF-8 only in
    /// strings it keeps, so the skeleton, which skips `uuid`, billed a line
    /// the full parse refuses as not JSON.
    #[test]
    fn a_bad_byte_in_a_skipped_field_is_not_json_on_both_paths() {
        let line = b"{\"type\":\"assistant\",\"sessionId\":\"s\",\"uuid\":\"u-\xff\",\
            \"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}";
        let (fast, full) = both_ways(line);
        assert_eq!(fast, Err(SkipReason::NotJson));
        assert_eq!(full, Err(SkipReason::NotJson));
    }

    /// Found by the `collector` fuzz target: the full parse looked for the
    /// model wherever a hook payload may name one (here `message.message`),
    /// the skeleton only in `message.model`, so one line read as `<synthetic>`
    /// and the other as a message without usage.
    #[test]
    fn the_model_is_read_from_message_model_alone() {
        let line = br#"{"type":"assistant","sessionId":"s","message":{"id":"m","message":{"model":"<synthetic>"}}}"#;
        let (fast, full) = both_ways(line);
        assert_eq!(fast, Err(SkipReason::NoUsage));
        assert_eq!(full, Err(SkipReason::NoUsage));
        let line = br#"{"type":"assistant","sessionId":"s","message":{"id":"m","response":{"model":"gpt-5"},"usage":{"input_tokens":1,"output_tokens":2}}}"#;
        let (fast, full) = both_ways(line);
        assert_eq!(fast, full);
        assert_eq!(fast.unwrap().model, "");
    }

    /// A derived struct also reads its fields in order from an array, so the
    /// skeleton billed lines, messages and tool blocks written as arrays,
    /// which the full parse reads as no object.
    #[test]
    fn an_array_in_place_of_an_object_is_read_alike_on_both_paths() {
        let line = br#"["assistant",null,{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":2},"content":null},"s",null,null,null,null,null,null,null,null,null]"#;
        let (fast, full) = both_ways(line);
        assert_eq!(fast, Err(SkipReason::NotObject));
        assert_eq!(full, Err(SkipReason::NotObject));
        let line = br#"{"type":"assistant","sessionId":"s","message":["m","x",{"input_tokens":1,"output_tokens":2},null]}"#;
        let (fast, full) = both_ways(line);
        assert_eq!(fast, Err(SkipReason::NoUsage));
        assert_eq!(full, Err(SkipReason::NoUsage));
        let line = br#"{"type":"assistant","sessionId":"s","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":2},"content":[["tool_use","Read"]]}}"#;
        let (fast, full) = both_ways(line);
        assert_eq!(fast, full);
        assert_eq!(fast.unwrap().tool_names, Vec::<String>::new());
    }

    const TRANSCRIPT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/claude/projects/-home-dev-shop/s-session-1.jsonl"
    );
    const EXPECTED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/transcript-expected.json"
    );

    fn parse(value: &Value) -> TranscriptLine {
        parse_line(value.to_string().as_bytes())
    }

    fn usage_line(value: &Value) -> TranscriptUsage {
        match parse(value) {
            TranscriptLine::Usage(usage) => usage,
            TranscriptLine::Skip(reason) => panic!("expected usage in {value}, got {reason}"),
        }
    }

    fn skip_reason(value: &Value) -> SkipReason {
        match parse(value) {
            TranscriptLine::Skip(reason) => reason,
            TranscriptLine::Usage(usage) => panic!("expected a skip of {value}, got {usage:?}"),
        }
    }

    /// An assistant line as Claude Code 2.x writes one.
    fn assistant(usage: Value) -> Value {
        json!({
            "parentUuid": null, "isSidechain": false, "cwd": "/home/dev/shop",
            "sessionId": "s1", "version": "2.1.90",
            "message": {
                "id": "msg_1", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": "ok"}],
                "usage": usage
            },
            "requestId": "req_1", "type": "assistant", "uuid": "u1",
            "timestamp": "2026-09-20T10:00:00.000Z"
        })
    }

    fn small_usage() -> Value {
        json!({"input_tokens": 4, "output_tokens": 6, "cache_read_input_tokens": 10,
               "cache_creation_input_tokens": 20})
    }

    /// Parses the fixture's complete lines and folds them by key, as the
    /// transcript reader does, then drops sidechain replays of main-thread
    /// messages. Returns the records in order of first appearance and the
    /// skip labels in line order.
    fn read_fixture(reverse: bool) -> (Vec<TranscriptUsage>, Vec<&'static str>) {
        let bytes =
            std::fs::read(TRANSCRIPT).unwrap_or_else(|e| panic!("reading {TRANSCRIPT}: {e}"));
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // No newline after the half-written last line: it is not a line yet.
        lines.pop();
        if reverse {
            lines.reverse();
        }
        let mut records: Vec<TranscriptUsage> = Vec::new();
        let mut skips = Vec::new();
        for line in lines {
            match parse_line(line) {
                TranscriptLine::Usage(snapshot) => {
                    match records.iter_mut().find(|r| r.key == snapshot.key) {
                        Some(record) => record.merge(&snapshot),
                        None => records.push(snapshot),
                    }
                }
                TranscriptLine::Skip(reason) => skips.push(reason.label()),
            }
        }
        let main_thread: HashSet<(String, String)> = records
            .iter()
            .filter(|r| !r.sidechain)
            .map(|r| (r.session_id.clone(), r.message_id.clone()))
            .collect();
        records.retain(|r| {
            !(r.sidechain && main_thread.contains(&(r.session_id.clone(), r.message_id.clone())))
        });
        (records, skips)
    }

    #[test]
    fn fixture_transcript_yields_the_expected_records() {
        let expected: Value = serde_json::from_slice(
            &std::fs::read(EXPECTED).unwrap_or_else(|e| panic!("reading {EXPECTED}: {e}")),
        )
        .expect("the expected records are JSON");
        let expected_records = expected["records"].as_array().expect("a records array");
        let (records, skips) = read_fixture(false);

        assert_eq!(
            skips,
            ["not assistant", "not assistant", "synthetic", "api error"]
        );
        let ids: Vec<&str> = records.iter().map(|r| r.message_id.as_str()).collect();
        let expected_ids: Vec<&str> = expected_records
            .iter()
            .map(|r| r["message"].as_str().expect("a message id"))
            .collect();
        assert_eq!(ids, expected_ids);
        assert_eq!(records.len() as u64, expected["record_count"]);

        let prices = PriceTable::embedded();
        let mut total = 0.0;
        for (record, want) in records.iter().zip(expected_records) {
            let id = &record.message_id;
            assert_eq!(record.session_id, expected["session_id"], "{id}");
            let u = record.usage;
            assert_eq!(u.input, want["input_tokens"], "{id}");
            assert_eq!(u.output, want["output_tokens"], "{id}");
            assert_eq!(u.cache_read, want["cache_read_tokens"], "{id}");
            assert_eq!(u.cache_write, want["cache_write_tokens"], "{id}");
            assert_eq!(u.cache_write_1h, want["cache_write_1h_tokens"], "{id}");
            let tool_name = merge_tool_names("", &record.tool_names);
            match want["tool_name"].as_str() {
                Some(names) => assert_eq!(tool_name, names, "{id}"),
                None => assert_eq!(tool_name, "", "{id}"),
            }
            assert_eq!(Value::Bool(record.sidechain), want["subagent"], "{id}");
            assert_eq!(record.agent_id.is_some(), record.sidechain, "{id}");
            let model_key = want["model_key"].as_str().expect("a model key");
            assert!(
                record.model.starts_with(model_key),
                "{id}: {}",
                record.model
            );
            let priced = prices.price(&record.model, &record.usage, &record.billing, None);
            assert_eq!(priced.model_key, model_key, "{id}");
            let cost = want["cost_usd"].as_f64().expect("a cost");
            assert!(
                (priced.cost_usd - cost).abs() < 1e-9,
                "{id}: {} != {cost}",
                priced.cost_usd
            );
            total += priced.cost_usd;
        }
        let expected_total = expected["total_cost_usd"].as_f64().expect("a total");
        assert!(
            (total - expected_total).abs() < 1e-9,
            "{total} != {expected_total}"
        );

        let by_id = |id: &str| records.iter().find(|r| r.message_id == id).unwrap();
        // Two snapshots: the larger output wins, and with it its time.
        let a = by_id("msg_sA");
        assert_eq!(a.key, "cc:s-session-1:msg_sA:req_sA");
        assert_eq!(a.timestamp, Some("2026-09-20T10:00:02Z".parse().unwrap()));
        assert_eq!(a.model, "claude-sonnet-4-5-20250929");
        assert_eq!(a.cwd.as_deref(), Some("/home/dev/shop"));
        assert_eq!(a.reported_cost_usd, None);
        // The Read line comes second with less output; its tool still counts.
        assert_eq!(by_id("msg_sB").tool_names, ["Edit", "Read"]);
        assert_eq!(by_id("msg_sB").usage.output, 340);
        let c = by_id("msg_sC");
        assert_eq!(c.agent_id.as_deref(), Some("subagent:a1b2c3"));
        let e = by_id("msg_sE");
        assert!(e.billing.fast);
        assert!(records
            .iter()
            .filter(|r| r.message_id != "msg_sE")
            .all(|r| !r.billing.fast));
        let g = by_id("msg_sG");
        assert_eq!(g.key, "cc:s-session-1:msg_sG");
        assert_eq!(g.request_id, None);
    }

    #[test]
    fn fixture_snapshots_merge_to_the_same_counts_in_either_order() {
        let (forward, _) = read_fixture(false);
        let (mut backward, _) = read_fixture(true);
        backward.reverse();
        let counts = |records: &[TranscriptUsage]| -> Vec<(String, Usage, bool)> {
            records
                .iter()
                .map(|r| (r.key.clone(), r.usage, r.billing.fast))
                .collect()
        };
        assert_eq!(counts(&forward), counts(&backward));
        // Tool names follow the order lines were read in.
        let b = backward.iter().find(|r| r.message_id == "msg_sB").unwrap();
        assert_eq!(b.tool_names, ["Read", "Edit"]);
    }

    #[test]
    fn the_replay_in_the_fixture_is_a_sidechain_copy_of_a_main_message() {
        let bytes = std::fs::read(TRANSCRIPT).unwrap();
        let replays: Vec<TranscriptUsage> = bytes
            .split(|b| *b == b'\n')
            .filter_map(|line| match parse_line(line) {
                TranscriptLine::Usage(u) if u.sidechain && u.message_id == "msg_sB" => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(replays.len(), 1);
        // A key of its own: only the (session, message) rule catches it.
        assert_eq!(replays[0].key, "cc:s-session-1:msg_sB:req_sB-replay");
        assert_eq!(replays[0].agent_id.as_deref(), Some("subagent:a1b2c3"));
    }

    #[test]
    fn a_half_written_line_is_not_usage_until_complete() {
        let bytes = std::fs::read(TRANSCRIPT).unwrap();
        assert!(!bytes.ends_with(b"\n"), "the fixture ends mid-line");
        let half = bytes.split(|b| *b == b'\n').next_back().unwrap();
        assert_eq!(parse_line(half), TranscriptLine::Skip(SkipReason::NotJson));
        // Every line cut anywhere short of its end, as a reader racing the
        // writer may see it, is refused, never read as a smaller usage.
        for line in bytes.split(|b| *b == b'\n') {
            let trimmed = line.trim_ascii_end();
            for cut in 0..trimmed.len() {
                assert_eq!(
                    parse_line(&trimmed[..cut]),
                    TranscriptLine::Skip(SkipReason::NotJson),
                    "{}",
                    String::from_utf8_lossy(&trimmed[..cut])
                );
            }
        }
    }

    #[test]
    fn a_line_marked_forked_from_another_session_is_a_copy() {
        let mut line = assistant(small_usage());
        assert!(!usage_line(&line).copied);
        // As `/branch` and the SDK's forkSession write it.
        line["forkedFrom"] = json!({"sessionId": "parent", "messageUuid": "u1"});
        assert!(usage_line(&line).copied);
        line["forkedFrom"] = json!(null);
        assert!(!usage_line(&line).copied);
    }

    #[test]
    fn a_line_dated_before_its_file_began_is_a_copy() {
        let line = assistant(small_usage()); // dated 2026-09-20T10:00:00Z
        let at = |s: &str| Some(s.parse::<jiff::Timestamp>().unwrap());
        for (began, copied) in [
            (at("2026-09-20T10:00:00.001Z"), true),
            (at("2026-09-20T10:00:00Z"), false),
            (at("2026-09-20T09:00:00Z"), false),
            (None, false),
        ] {
            let mut u = usage_line(&line);
            u.mark_copy(began);
            assert_eq!(u.copied, copied, "{began:?}");
        }
        // Undated, it cannot be told: it stays the file's own.
        let mut undated = line.clone();
        undated.as_object_mut().unwrap().remove("timestamp");
        let mut u = usage_line(&undated);
        u.mark_copy(at("2030-01-01T00:00:00Z"));
        assert!(!u.copied);
        // Marked once, a later date never unmarks it.
        let mut forked = line.clone();
        forked["forkedFrom"] = json!({"sessionId": "parent"});
        let mut u = usage_line(&forked);
        u.mark_copy(at("2020-01-01T00:00:00Z"));
        assert!(u.copied);
    }

    #[test]
    fn a_message_is_a_copy_only_when_every_snapshot_is() {
        let line = usage_line(&assistant(small_usage()));
        let copy = TranscriptUsage {
            copied: true,
            ..line.clone()
        };
        let mut merged = copy.clone();
        merged.merge(&copy);
        assert!(merged.copied);
        merged.merge(&line);
        assert!(!merged.copied);
        let mut own = line.clone();
        own.merge(&copy);
        assert!(!own.copied);
    }

    #[test]
    fn the_date_of_any_line_is_read_for_where_its_file_began() {
        let dated = br#"{"type":"queue-operation","operation":"enqueue","timestamp":"2026-12-06T13:59:33.256Z","sessionId":"f"}"#;
        assert_eq!(
            line_timestamp(dated),
            Some("2026-12-06T13:59:33.256Z".parse().unwrap())
        );
        for undated in [
            &br#"{"type":"mode","mode":"normal","sessionId":"f"}"#[..],
            br#"{"timestamp":"yesterday"}"#,
            br#"[1,2]"#,
            b"not json",
            br#"{"timestamp":"2026-12-06T13:59:33.2"#,
        ] {
            assert_eq!(
                line_timestamp(undated),
                None,
                "{}",
                String::from_utf8_lossy(undated)
            );
        }
    }

    #[test]
    fn a_line_without_request_id_is_keyed_by_message() {
        let mut line = assistant(small_usage());
        line.as_object_mut().unwrap().remove("requestId");
        let u = usage_line(&line);
        assert_eq!(u.key, "cc:s1:msg_1");
        assert_eq!(u.request_id, None);
        // An empty requestId is no requestId.
        line["requestId"] = json!("  ");
        assert_eq!(usage_line(&line).key, "cc:s1:msg_1");
        line["requestId"] = json!("req_9");
        assert_eq!(usage_line(&line).key, "cc:s1:msg_1:req_9");
    }

    #[test]
    fn an_ordinary_line_is_read_whole() {
        let mut line = assistant(json!({
            "input_tokens": 3, "output_tokens": 340, "cache_read_input_tokens": 26000,
            "cache_creation_input_tokens": 1200,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 1200},
            "service_tier": "standard"
        }));
        line["message"]["content"] = json!([
            {"type": "text", "text": "reading"},
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {}},
            {"type": "tool_use", "id": "t2", "name": "Edit", "input": {}},
            {"type": "tool_use", "id": "t3", "name": "Read", "input": {}},
            {"type": "tool_use", "id": "t4", "input": {}},
            {"type": "tool_use", "id": "t5", "name": "a,b"},
            "not a block"
        ]);
        assert_eq!(
            usage_line(&line),
            TranscriptUsage {
                key: "cc:s1:msg_1:req_1".to_owned(),
                session_id: "s1".to_owned(),
                message_id: "msg_1".to_owned(),
                request_id: Some("req_1".to_owned()),
                timestamp: Some("2026-09-20T10:00:00Z".parse().unwrap()),
                model: "claude-sonnet-4-5-20250929".to_owned(),
                usage: Usage {
                    input: 3,
                    cache_read: 26000,
                    cache_write: 1200,
                    cache_write_1h: 1200,
                    output: 340,
                    reasoning: 0,
                },
                billing: Billing::standard(),
                tool_names: vec!["Read".to_owned(), "Edit".to_owned()],
                sidechain: false,
                agent_id: None,
                cwd: Some("/home/dev/shop".to_owned()),
                reported_cost_usd: None,
                copied: false,
                prompt_id: None,
                git_branch: None,
            }
        );
    }

    #[test]
    fn windows_line_endings_are_tolerated() {
        let mut bytes = assistant(small_usage()).to_string().into_bytes();
        bytes.extend_from_slice(b"\r");
        assert!(matches!(parse_line(&bytes), TranscriptLine::Usage(_)));
    }

    #[test]
    fn sidechain_lines_name_their_subagent() {
        let mut line = assistant(small_usage());
        line["isSidechain"] = json!(true);
        line["agentId"] = json!("a1b2c3");
        line["agent_type"] = json!("Explore");
        assert_eq!(
            usage_line(&line).agent_id.as_deref(),
            Some("subagent:a1b2c3")
        );
        line.as_object_mut().unwrap().remove("agentId");
        let u = usage_line(&line);
        assert!(u.sidechain);
        assert_eq!(u.agent_id.as_deref(), Some("subagent:Explore"));
        line.as_object_mut().unwrap().remove("agent_type");
        line["agentType"] = json!("Plan");
        assert_eq!(usage_line(&line).agent_id.as_deref(), Some("subagent:Plan"));
        line.as_object_mut().unwrap().remove("agentType");
        assert_eq!(
            usage_line(&line).agent_id.as_deref(),
            Some("subagent:unknown")
        );
        // The main thread's agent is the caller's to name, whatever the line says.
        line["isSidechain"] = json!(false);
        line["agentId"] = json!("a1b2c3");
        assert_eq!(usage_line(&line).agent_id, None);
        // Only a JSON true makes a sidechain.
        line["isSidechain"] = json!("true");
        assert!(!usage_line(&line).sidechain);
    }

    #[test]
    fn legacy_cost_usd_is_kept_when_believable() {
        let mut line = assistant(small_usage());
        line["costUSD"] = json!(0.0123);
        assert_eq!(usage_line(&line).reported_cost_usd, Some(0.0123));
        for bad in [json!(-1.0), json!("0.5"), json!(null), json!(1e12)] {
            line["costUSD"] = bad.clone();
            assert_eq!(usage_line(&line).reported_cost_usd, None, "{bad}");
        }
    }

    #[test]
    fn fast_mode_and_one_hour_writes() {
        let line = assistant(json!({
            "input_tokens": 6, "output_tokens": 136, "cache_read_input_tokens": 16410,
            "cache_creation_input_tokens": 8837,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 8837},
            "speed": "fast"
        }));
        let u = usage_line(&line);
        assert!(u.billing.fast);
        assert_eq!((u.usage.cache_write, u.usage.cache_write_1h), (8837, 8837));
        let mut standard = line.clone();
        standard["message"]["usage"]["speed"] = json!("standard");
        assert!(!usage_line(&standard).billing.fast);
        // Only the usage object records the speed.
        let mut elsewhere = assistant(small_usage());
        elsewhere["speed"] = json!("fast");
        assert!(!usage_line(&elsewhere).billing.fast);
    }

    #[test]
    fn api_errors_and_synthetic_messages_are_skipped() {
        let mut error = assistant(small_usage());
        error["isApiErrorMessage"] = json!(true);
        assert_eq!(skip_reason(&error), SkipReason::ApiError);
        // The shape Claude Code really writes: no id, no usage, synthetic model.
        let written = json!({
            "type": "assistant", "sessionId": "s1", "isApiErrorMessage": true,
            "error": "rate_limit", "apiErrorStatus": 429,
            "message": {"model": "<synthetic>", "content": [{"type": "text", "text": "API Error"}]}
        });
        assert_eq!(skip_reason(&written), SkipReason::ApiError);
        // `error` alone does not drop a message with real usage (see read_line).
        let mut mentions_error = assistant(small_usage());
        mentions_error["error"] = json!("max_output_tokens");
        assert!(matches!(parse(&mentions_error), TranscriptLine::Usage(_)));

        let mut synthetic = assistant(small_usage());
        synthetic["message"]["model"] = json!("<synthetic>");
        assert_eq!(skip_reason(&synthetic), SkipReason::Synthetic);
        synthetic["message"]["model"] = json!(" <synthetic> ");
        assert_eq!(skip_reason(&synthetic), SkipReason::Synthetic);
    }

    #[test]
    fn lines_that_are_not_assistant_usage_say_why() {
        let cases = [
            (
                json!({"type": "user", "sessionId": "s1",
                    "message": {"role": "user", "content": "hi", "usage": {"input_tokens": 1}}}),
                SkipReason::NotAssistant,
            ),
            (
                json!({"type": "summary", "summary": "Build fix", "leafUuid": "u9"}),
                SkipReason::NotAssistant,
            ),
            (
                json!({"sessionId": "s1", "message": {"id": "m", "usage": {"input_tokens": 1}}}),
                SkipReason::NotAssistant,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1"}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1", "message": "hi"}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1", "message": {"id": "m"}}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1",
                    "message": {"id": "m", "usage": null}}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1",
                    "message": {"id": "m", "usage": {}}}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1",
                    "message": {"id": "m", "usage": {"service_tier": "standard"}}}),
                SkipReason::NoUsage,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1",
                    "message": {"usage": {"input_tokens": 1}}}),
                SkipReason::NoMessageId,
            ),
            (
                json!({"type": "assistant", "sessionId": "s1",
                    "message": {"id": 7, "usage": {"input_tokens": 1}}}),
                SkipReason::NoMessageId,
            ),
            (
                json!({"type": "assistant",
                    "message": {"id": "m", "usage": {"input_tokens": 1}}}),
                SkipReason::NoSessionId,
            ),
            (
                json!({"type": "assistant", "session_id": "s1",
                    "message": {"id": "m", "usage": {"input_tokens": 1}}}),
                SkipReason::NoSessionId,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(skip_reason(&line), reason, "{line}");
        }
    }

    #[test]
    fn garbage_and_non_objects_are_skipped() {
        for bytes in [
            &b""[..],
            b"   ",
            b"\xff\xfe\x00garbage",
            b"{\"type\":\"assistant\"",
            b"{\"type\":\"assistant\"}}",
            b"{\"type\":\"\xff\"}",
            b"not json at all",
        ] {
            assert_eq!(
                parse_line(bytes),
                TranscriptLine::Skip(SkipReason::NotJson),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        for value in [
            json!(null),
            json!(1),
            json!("assistant"),
            json!([assistant(small_usage())]),
        ] {
            assert_eq!(skip_reason(&value), SkipReason::NotObject, "{value}");
        }
        // Deeper than serde_json's nesting limit: refused, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_line(deep.as_bytes()),
            TranscriptLine::Skip(SkipReason::NotJson)
        );
    }

    #[test]
    fn unbelievable_counts_are_skipped_with_the_field_named() {
        let cases = [
            (
                json!({"input_tokens": -5, "output_tokens": 1}),
                "message.usage.input_tokens is negative (-5)",
            ),
            (
                json!({"output_tokens": 5_000_000_000u64}),
                "message.usage.output_tokens is above the limit",
            ),
            (
                json!({"output_tokens": 1e300}),
                "message.usage.output_tokens is above the limit",
            ),
            (
                json!({"output_tokens": "12"}),
                "message.usage.output_tokens is a string",
            ),
            (
                json!({"output_tokens": 1.5}),
                "message.usage.output_tokens is not a whole number",
            ),
            (
                json!({"input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": -1}}),
                "message.usage.cache_creation.ephemeral_1h_input_tokens is negative",
            ),
            // Each part within the limit, their sum not.
            (
                json!({"cache_creation": {"ephemeral_5m_input_tokens": MAX_TOKENS,
                                       "ephemeral_1h_input_tokens": MAX_TOKENS}}),
                "message.usage adds up to",
            ),
        ];
        for (usage, expected) in cases {
            let reason = skip_reason(&assistant(usage.clone()));
            assert_eq!(reason.label(), "invalid usage");
            let shown = reason.to_string();
            assert!(
                shown.starts_with(&format!("invalid usage: {expected}")),
                "{usage}: {shown}"
            );
        }
        // The largest believable count is a count.
        let u = usage_line(&assistant(json!({"output_tokens": MAX_TOKENS})));
        assert_eq!(u.usage.output, MAX_TOKENS);
    }

    #[test]
    fn skip_labels_are_the_documented_ones() {
        assert_eq!(SkipReason::NotJson.to_string(), "not json");
        assert_eq!(SkipReason::NotObject.to_string(), "not an object");
        assert_eq!(SkipReason::NoMessageId.label(), "no message id");
        assert_eq!(
            SkipReason::InvalidUsage("x is negative (-1)".to_owned()).to_string(),
            "invalid usage: x is negative (-1)"
        );
    }

    #[test]
    fn merging_keeps_the_larger_snapshot_and_every_tool() {
        let mut first = usage_line(&assistant(small_usage()));
        first.tool_names = vec!["Edit".to_owned()];
        first.reported_cost_usd = Some(0.02);
        let mut second = first.clone();
        second.usage.output = 3;
        second.tool_names = vec!["Read".to_owned(), "Edit".to_owned()];
        second.timestamp = Some("2026-09-20T09:59:59Z".parse().unwrap());
        second.billing.fast = true;
        second.reported_cost_usd = Some(0.01);
        let mut merged = first.clone();
        merged.merge(&second);
        assert_eq!(merged.usage, first.usage);
        assert_eq!(merged.tool_names, ["Edit", "Read"]);
        assert_eq!(
            merged.timestamp, first.timestamp,
            "the larger snapshot's time"
        );
        assert!(merged.billing.fast);
        assert_eq!(merged.reported_cost_usd, Some(0.02));
        // Equal output: the larger prompt wins.
        let mut bigger_prompt = first.clone();
        bigger_prompt.usage.cache_read += 1;
        let mut merged = first.clone();
        merged.merge(&bigger_prompt);
        assert_eq!(merged.usage, bigger_prompt.usage);
        // Merging a snapshot with itself changes nothing.
        let mut same = first.clone();
        same.merge(&first);
        assert_eq!(same, first);
    }

    #[test]
    fn merging_fills_what_the_first_snapshot_lacked() {
        let full = usage_line(&assistant(small_usage()));
        let mut bare = full.clone();
        bare.timestamp = None;
        bare.model = String::new();
        bare.cwd = None;
        bare.reported_cost_usd = None;
        bare.merge(&full);
        assert_eq!(bare, full);
    }

    #[test]
    fn tool_names_merge_without_duplicates() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(merge_tool_names("Edit", &names(&["Read"])), "Edit,Read");
        assert_eq!(
            merge_tool_names("Edit,Read", &names(&["Edit"])),
            "Edit,Read"
        );
        assert_eq!(merge_tool_names("", &names(&["Bash", "Read"])), "Bash,Read");
        assert_eq!(merge_tool_names("", &names(&["Bash", "Bash", ""])), "Bash");
        assert_eq!(merge_tool_names("Edit", &[]), "Edit");
        assert_eq!(merge_tool_names("", &[]), "");
        // A name is matched whole, not as a prefix of another.
        assert_eq!(
            merge_tool_names("ReadMany", &names(&["Read"])),
            "ReadMany,Read"
        );
    }

    fn arbitrary_usage() -> impl Strategy<Value = Usage> {
        let n = || prop_oneof![0u64..50, 0u64..=MAX_TOKENS];
        (n(), n(), n(), n(), n(), n()).prop_map(
            |(input, cache_read, cache_write, share_1h, output, reasoning)| Usage {
                input,
                cache_read,
                cache_write,
                cache_write_1h: share_1h.min(cache_write),
                output,
                reasoning: reasoning.min(output),
            },
        )
    }

    fn arbitrary_snapshot() -> impl Strategy<Value = TranscriptUsage> {
        let tools = prop::collection::vec(
            prop::sample::select(vec!["Bash", "Read", "Edit", "Grep"]).prop_map(str::to_owned),
            0..4,
        );
        (
            arbitrary_usage(),
            any::<bool>(),
            proptest::option::of(0i64..4_000_000_000),
            tools,
            proptest::option::of(0.0f64..10.0),
        )
            .prop_map(|(usage, fast, seconds, mut tool_names, cost)| {
                tool_names.dedup();
                TranscriptUsage {
                    key: "cc:s:m:r".to_owned(),
                    session_id: "s".to_owned(),
                    message_id: "m".to_owned(),
                    request_id: Some("r".to_owned()),
                    timestamp: seconds.map(|s| jiff::Timestamp::from_second(s).unwrap()),
                    model: "claude-sonnet-4-5".to_owned(),
                    usage,
                    billing: Billing::fast(fast),
                    tool_names,
                    sidechain: false,
                    agent_id: None,
                    cwd: None,
                    reported_cost_usd: cost,
                    copied: false,
                    prompt_id: None,
                    git_branch: None,
                }
            })
    }

    /// JSON biased towards the keys a transcript line is read at, so random
    /// lines reach the usage arithmetic and the key building.
    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            prop::sample::select(vec![
                "type",
                "message",
                "usage",
                "id",
                "model",
                "content",
                "name",
                "sessionId",
                "requestId",
                "isSidechain",
                "isApiErrorMessage",
                "agentId",
                "agent_type",
                "costUSD",
                "cwd",
                "timestamp",
                "forkedFrom",
                "speed",
                "input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
                "cache_creation",
                "ephemeral_5m_input_tokens",
                "ephemeral_1h_input_tokens",
                "error",
            ])
            .prop_map(str::to_owned),
            ".{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (0u64..5000).prop_map(Value::from),
            prop::sample::select(vec![
                "assistant",
                "tool_use",
                "fast",
                "<synthetic>",
                "Read",
                "s1",
                "msg_1",
                "2026-09-20T10:00:00Z",
            ])
            .prop_map(Value::from),
            ".{0,16}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn assert_believable(parsed: &TranscriptLine) {
        match parsed {
            TranscriptLine::Usage(u) => {
                assert!(u.key.starts_with("cc:"), "{u:?}");
                assert!(u
                    .key
                    .contains(&format!(":{}:{}", u.session_id, u.message_id)));
                assert!(!u.session_id.is_empty() && !u.message_id.is_empty());
                assert_ne!(u.model, SYNTHETIC_MODEL);
                assert!(u.usage.cache_write_1h <= u.usage.cache_write, "{u:?}");
                for n in [
                    u.usage.input,
                    u.usage.cache_read,
                    u.usage.cache_write,
                    u.usage.output,
                ] {
                    assert!(n <= MAX_TOKENS, "{u:?}");
                }
                assert_eq!(u.sidechain, u.agent_id.is_some());
                if let Some(cost) = u.reported_cost_usd {
                    assert!(cost.is_finite() && cost >= 0.0);
                }
                assert!(u
                    .tool_names
                    .iter()
                    .all(|n| !n.is_empty() && !n.contains(',')));
            }
            TranscriptLine::Skip(reason) => {
                assert!(!reason.to_string().is_empty());
                assert!(
                    reason.to_string().len() < 1000,
                    "reasons stay short: {reason}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_skeleton_agrees_with_the_full_parse(value in arbitrary_json()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            let (fast, full) = both_ways(&bytes);
            prop_assert_eq!(fast, full);
        }

        #[test]
        fn any_bytes_are_read_without_panicking(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let parsed = parse_line(&bytes);
            assert_believable(&parsed);
            prop_assert_eq!(parse_line(&bytes), parsed);
        }

        #[test]
        fn any_json_is_read_without_panicking(value in arbitrary_json()) {
            let parsed = parse(&value);
            assert_believable(&parsed);
        }

        #[test]
        fn any_assistant_usage_is_read_or_refused_as_usage(
            usage in prop::collection::vec(
                (prop::sample::select(vec![
                    "input_tokens", "output_tokens", "cache_read_input_tokens",
                    "cache_creation_input_tokens", "cache_creation", "speed",
                ]), prop_oneof![
                    (0u64..=MAX_TOKENS).prop_map(Value::from),
                    any::<i64>().prop_map(Value::from),
                    any::<f64>().prop_map(Value::from),
                    Just(json!({"ephemeral_1h_input_tokens": 7, "ephemeral_5m_input_tokens": 3})),
                    Just(json!({"ephemeral_1h_input_tokens": -7})),
                    Just(json!("fast")),
                ]),
                0..6,
            ),
        ) {
            let object: Map<String, Value> =
                usage.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let parsed = parse(&assistant(Value::Object(object)));
            assert_believable(&parsed);
            if let TranscriptLine::Skip(reason) = &parsed {
                prop_assert!(
                    matches!(reason, SkipReason::NoUsage | SkipReason::InvalidUsage(_)),
                    "{}", reason
                );
            }
        }

        #[test]
        fn merging_counts_is_order_independent(
            a in arbitrary_snapshot(),
            b in arbitrary_snapshot(),
            c in arbitrary_snapshot(),
        ) {
            let mut ab = a.clone();
            ab.merge(&b);
            let mut ba = b.clone();
            ba.merge(&a);
            prop_assert_eq!(ab.usage, ba.usage);
            prop_assert_eq!(ab.billing.fast, ba.billing.fast);
            prop_assert_eq!(ab.timestamp, ba.timestamp);
            prop_assert_eq!(ab.reported_cost_usd, ba.reported_cost_usd);
            let tools = |u: &TranscriptUsage| u.tool_names.iter().cloned().collect::<HashSet<_>>();
            prop_assert_eq!(tools(&ab), tools(&ba));
            // The winner is one of the snapshots, never a mix of them.
            prop_assert!(ab.usage == a.usage || ab.usage == b.usage);

            let mut ab_c = ab.clone();
            ab_c.merge(&c);
            let mut bc = b.clone();
            bc.merge(&c);
            let mut a_bc = a.clone();
            a_bc.merge(&bc);
            prop_assert_eq!(ab_c.usage, a_bc.usage);

            // Reading a snapshot again is harmless.
            let mut again = ab.clone();
            again.merge(&b);
            prop_assert_eq!(again, ab);
        }

        #[test]
        fn tool_name_merging_is_idempotent(
            existing in prop::collection::vec(
                prop::sample::select(vec!["Bash", "Read", "Edit"]),
                0..4,
            ),
            more in prop::collection::vec(
                prop::sample::select(vec!["Bash", "Read", "Grep"]).prop_map(str::to_owned),
                0..4,
            ),
        ) {
            let once = merge_tool_names(&existing.join(","), &more);
            prop_assert_eq!(merge_tool_names(&once, &more), once.clone());
            prop_assert!(once.starts_with(&existing.join(",")));
            for name in &more {
                prop_assert!(once.split(',').any(|n| n == name));
            }
        }
    }

    #[test]
    fn a_prompt_id_is_read_from_a_key_never_from_a_string_value() {
        let user =
            br#"{"parentUuid":null,"promptId":"p-1","type":"user","message":{"content":"x"}}"#;
        assert_eq!(prompt_id_in(user), Some("p-1"));
        // Quoted inside a string (a tool result showing a transcript), every
        // quote is escaped: no key there, and the line's own key wins.
        let quoted =
            br#"{"type":"user","promptId":"p-2","message":{"content":"{\"promptId\":\"p-9\"}"}}"#;
        assert_eq!(prompt_id_in(quoted), Some("p-2"));
        assert_eq!(prompt_id_in(br#"{"promptId":""}"#), None);
        assert_eq!(prompt_id_in(br#"{"promptId":"a\"b"}"#), None);
        assert_eq!(prompt_id_in(br#"{"type":"assistant"}"#), None);
    }
}
