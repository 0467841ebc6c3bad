//! OpenCode messages: one row of its `message` table (or one file of its
//! older JSON storage, `storage/message/<session>/<message>.json`) in, the
//! usage of one finished model step out (docs/ingest.md#opencode).
//!
//! OpenCode keeps one assistant message per model step, its `data` a JSON
//! object with `role`, `modelID`, `providerID`, `cost`, `tokens {input,
//! output, reasoning, cache {read, write}}`, `time {created, completed}` and
//! `path {cwd, root}`. The row is written when the step starts, with zero
//! tokens and no `time.completed`, and rewritten as it goes; a step is
//! finished, its tokens final, once `time.completed` is set. An unfinished
//! step is no record yet: it becomes one when a later read finds it
//! completed, under the same key (`opencode:<message id>`), so reading the
//! same row twice, live or by import, never counts it twice.
//!
//! OpenCode's own token semantics, checked against the mock's ledger for an
//! OpenAI-compatible provider and for Anthropic: `input` excludes the cache
//! (prompt − cached for OpenAI-compatible APIs; Anthropic's `input_tokens`
//! as sent), and `output` excludes `reasoning` (completion − reasoning for
//! OpenAI-compatible APIs; Anthropic does not split its output, so there
//! `reasoning` is 0). Reasoning is billed as output, so the record's output
//! is `output + reasoning`. OpenCode's `cost` is its own estimate from the
//! prices it knows, kept as the reported cost beside hookmeter's.
//!
//! Pure and total: no I/O, no clock, never a panic.

use std::fmt;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::identity::{model_name, text};
use super::numbers::{count, details, Field};
use super::shapes::within_limits;
use super::transcript::TranscriptUsage;
use super::{Billing, Usage};

/// The agent every OpenCode record is kept under.
pub const AGENT: &str = "opencode";

/// The prefix of every OpenCode record key.
const KEY_PREFIX: &str = "opencode:";

/// A cost above this for one step is a unit mistake, not a bill.
const MAX_REPORTED_COST_USD: f64 = 1_000_000.0;

/// One stored message, as the caller read it: the row's `id` and
/// `session_id` columns and its `data`, or a JSON storage file (whose
/// object carries `id` and `sessionID` itself; pass `None` for both).
#[derive(Debug, Clone, Copy)]
pub struct MessageRow<'a> {
    pub id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub data: &'a [u8],
}

/// What one message is to the cost pipeline.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum OpenCodeMessage {
    /// A finished step, in the shape the writer takes transcript records in;
    /// its `tool_names` are empty (tools are parts: see [`tool_name`]).
    Step(TranscriptUsage),
    Skip(OpenCodeSkip),
}

/// Why a message yields no record. Only [`OpenCodeSkip::InvalidUsage`] and
/// the missing ids lose a step's cost; [`OpenCodeSkip::Unfinished`] is a
/// step still streaming, read again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenCodeSkip {
    NotJson,
    NotObject,
    /// A user message, or a role OpenCode did not write before.
    NotAssistant,
    /// An assistant step without `time.completed`: its tokens may still move.
    Unfinished,
    /// A finished step without `tokens`, or with every count zero (an
    /// aborted or failed step that billed nothing).
    NoUsage,
    NoMessageId,
    NoSessionId,
    /// Token counts the collector refuses, with the field and its value.
    InvalidUsage(String),
}

impl OpenCodeSkip {
    /// A short fixed label, fit for a counter key.
    pub fn label(&self) -> &'static str {
        match self {
            OpenCodeSkip::NotJson => "not json",
            OpenCodeSkip::NotObject => "not an object",
            OpenCodeSkip::NotAssistant => "not assistant",
            OpenCodeSkip::Unfinished => "unfinished step",
            OpenCodeSkip::NoUsage => "no usage",
            OpenCodeSkip::NoMessageId => "no message id",
            OpenCodeSkip::NoSessionId => "no session id",
            OpenCodeSkip::InvalidUsage(_) => "invalid usage",
        }
    }
}

impl fmt::Display for OpenCodeSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenCodeSkip::InvalidUsage(detail) => write!(f, "{}: {detail}", self.label()),
            other => f.write_str(other.label()),
        }
    }
}

/// Reads one stored message.
pub fn read_message(row: MessageRow<'_>) -> OpenCodeMessage {
    match step(row) {
        Ok(usage) => OpenCodeMessage::Step(usage),
        Err(skip) => OpenCodeMessage::Skip(skip),
    }
}

fn step(row: MessageRow<'_>) -> Result<TranscriptUsage, OpenCodeSkip> {
    let value: Value = serde_json::from_slice(row.data).map_err(|_| OpenCodeSkip::NotJson)?;
    let data = value.as_object().ok_or(OpenCodeSkip::NotObject)?;
    if text(data, &["role"]) != Some("assistant") {
        return Err(OpenCodeSkip::NotAssistant);
    }
    let time = data.get("time").and_then(Value::as_object);
    let completed = time
        .and_then(|t| t.get("completed"))
        .is_some_and(|c| !c.is_null());
    if !completed {
        return Err(OpenCodeSkip::Unfinished);
    }
    let usage = tokens(data)
        .map_err(OpenCodeSkip::InvalidUsage)?
        .filter(|u| !u.is_empty())
        .ok_or(OpenCodeSkip::NoUsage)?;
    let id = nonempty(row.id)
        .or_else(|| text(data, &["id"]))
        .ok_or(OpenCodeSkip::NoMessageId)?;
    let session_id = nonempty(row.session_id)
        .or_else(|| text(data, &["sessionID"]))
        .ok_or(OpenCodeSkip::NoSessionId)?;
    let key = format!("{KEY_PREFIX}{id}");
    Ok(TranscriptUsage {
        message_id: key.clone(),
        key,
        session_id: session_id.to_owned(),
        request_id: None,
        timestamp: time.and_then(|t| millis(t.get("created")?)),
        model: data
            .get("modelID")
            .and_then(model_name)
            .unwrap_or("")
            .to_owned(),
        usage,
        billing: Billing::default(),
        tool_names: Vec::new(),
        sidechain: false,
        agent_id: Some(AGENT.to_owned()),
        cwd: project_dir(data),
        reported_cost_usd: data
            .get("cost")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite() && (0.0..=MAX_REPORTED_COST_USD).contains(c)),
        copied: false,
        // The user message this step answers: what was asked.
        prompt_id: text(data, &["parentID"]).map(str::to_owned),
        git_branch: None,
    })
}

/// The step's counts, reasoning billed as output (OpenCode keeps it apart).
fn tokens(data: &Map<String, Value>) -> Result<Option<Usage>, String> {
    let Some(tokens) = details(data, Field::new("", "tokens"))? else {
        return Ok(None);
    };
    let f = |key| Field::new("tokens", key);
    let input = count(tokens, f("input"))?;
    let output = count(tokens, f("output"))?;
    let reasoning = count(tokens, f("reasoning"))?;
    let (read, write) = match details(tokens, f("cache"))? {
        Some(cache) => (
            count(cache, Field::new("tokens.cache", "read"))?,
            count(cache, Field::new("tokens.cache", "write"))?,
        ),
        None => (None, None),
    };
    if [input, output, reasoning, read, write]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let reasoning = reasoning.unwrap_or(0);
    let usage = Usage {
        input: input.unwrap_or(0),
        cache_read: read.unwrap_or(0),
        cache_write: write.unwrap_or(0),
        output: output.unwrap_or(0).saturating_add(reasoning),
        reasoning,
        ..Usage::default()
    };
    within_limits(usage, "tokens").map(Some)
}

/// The directory the project is named from: the worktree root OpenCode
/// found (`path.root`), or where it ran (`path.cwd`) outside a repository,
/// where the root is `/`.
fn project_dir(data: &Map<String, Value>) -> Option<String> {
    let path = data.get("path")?.as_object()?;
    let root = text(path, &["root"]).filter(|r| !r.trim_end_matches('/').is_empty());
    root.or_else(|| text(path, &["cwd"])).map(str::to_owned)
}

/// A time OpenCode keeps in milliseconds since the epoch.
fn millis(value: &Value) -> Option<Timestamp> {
    let ms = value.as_i64()?;
    Timestamp::from_millisecond(ms).ok()
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The tool a `part` row calls, when it is a tool part (`{"type": "tool",
/// "tool": "bash", …}`): named on its message's record.
pub fn tool_name(part: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(part).ok()?;
    let part = value.as_object()?;
    (text(part, &["type"]) == Some("tool"))
        .then(|| text(part, &["tool"]))
        .flatten()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn read(id: &str, session: &str, data: Value) -> OpenCodeMessage {
        let bytes = serde_json::to_vec(&data).unwrap();
        read_message(MessageRow {
            id: Some(id),
            session_id: Some(session),
            data: &bytes,
        })
    }

    fn step_of(message: OpenCodeMessage) -> TranscriptUsage {
        match message {
            OpenCodeMessage::Step(s) => s,
            OpenCodeMessage::Skip(why) => panic!("skipped: {why}"),
        }
    }

    /// A finished step as OpenCode 1.18.33 wrote it for the OpenAI-compatible
    /// mock (tests/fixtures/opencode/real/chat-tool): the API billed 2000
    /// prompt tokens with 512 cached and 60 completion tokens with 20 of
    /// reasoning.
    fn chat_step() -> Value {
        json!({"parentID":"msg_u","role":"assistant","mode":"build","agent":"build",
            "path":{"cwd":"/home/dev/project","root":"/"},"cost":0.002524,
            "tokens":{"total":2060,"input":1488,"output":40,"reasoning":20,"cache":{"write":0,"read":512}},
            "modelID":"gpt-5.1-codex","providerID":"mock",
            "time":{"created":1796571615332_i64,"completed":1796571615818_i64},"finish":"tool-calls"})
    }

    #[test]
    fn a_step_answers_the_user_message_it_names_as_parent() {
        let s = step_of(read("msg_a", "ses_1", chat_step()));
        assert_eq!(s.prompt_id.as_deref(), Some("msg_u"));
        assert_eq!(s.git_branch, None);
    }

    #[test]
    fn an_openai_compatible_step_bills_what_the_api_billed() {
        let s = step_of(read("msg_a", "ses_1", chat_step()));
        assert_eq!(s.key, "opencode:msg_a");
        assert_eq!(s.session_id, "ses_1");
        assert_eq!(s.model, "gpt-5.1-codex");
        // Input without the cache, output with the reasoning: 1488 + 512 is
        // the API's 2000 prompt tokens, 40 + 20 its 60 completion tokens.
        assert_eq!(
            (
                s.usage.input,
                s.usage.cache_read,
                s.usage.cache_write,
                s.usage.output,
                s.usage.reasoning
            ),
            (1488, 512, 0, 60, 20)
        );
        assert_eq!(s.reported_cost_usd, Some(0.002524));
        assert_eq!(s.agent_id.as_deref(), Some("opencode"));
        assert_eq!(s.cwd.as_deref(), Some("/home/dev/project"));
        assert_eq!(s.timestamp.unwrap().as_millisecond(), 1796571615332);
    }

    #[test]
    fn an_anthropic_step_keeps_its_cache_write() {
        let data = json!({"role":"assistant","modelID":"claude-sonnet-4-5","providerID":"anthropic",
            "cost":0.01125,"path":{"cwd":"/home/dev/project/sub","root":"/home/dev/project"},
            "tokens":{"total":2970,"input":900,"output":70,"reasoning":0,"cache":{"write":2000,"read":0}},
            "time":{"created":1,"completed":2}});
        let s = step_of(read("msg_b", "ses_2", data));
        assert_eq!(
            (s.usage.input, s.usage.cache_write, s.usage.output),
            (900, 2000, 70)
        );
        assert_eq!(
            s.cwd.as_deref(),
            Some("/home/dev/project"),
            "the worktree root names the project"
        );
    }

    #[test]
    fn an_unfinished_step_is_not_a_record_until_completed() {
        let mut data = chat_step();
        data["time"] = json!({"created": 1796571615332_i64});
        assert_eq!(
            read("m", "s", data.clone()),
            OpenCodeMessage::Skip(OpenCodeSkip::Unfinished)
        );
        data["time"]["completed"] = json!(null);
        assert_eq!(
            read("m", "s", data),
            OpenCodeMessage::Skip(OpenCodeSkip::Unfinished)
        );
    }

    #[test]
    fn what_bills_nothing_is_skipped_with_its_reason() {
        let skip = |data: Value| match read("m", "s", data) {
            OpenCodeMessage::Skip(why) => why,
            other => panic!("not skipped: {other:?}"),
        };
        assert_eq!(
            skip(json!({"role":"user","time":{"created":1}})),
            OpenCodeSkip::NotAssistant
        );
        assert_eq!(skip(json!([1])), OpenCodeSkip::NotObject);
        let mut zero = chat_step();
        zero["tokens"] = json!({"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}});
        assert_eq!(skip(zero), OpenCodeSkip::NoUsage);
        let mut none = chat_step();
        none.as_object_mut().unwrap().remove("tokens");
        assert_eq!(skip(none), OpenCodeSkip::NoUsage);
        let mut bad = chat_step();
        bad["tokens"]["input"] = json!(-5);
        assert!(matches!(skip(bad), OpenCodeSkip::InvalidUsage(d) if d.contains("tokens.input")));
        let garbage = read_message(MessageRow {
            id: Some("m"),
            session_id: Some("s"),
            data: b"{\"role\":",
        });
        assert_eq!(garbage, OpenCodeMessage::Skip(OpenCodeSkip::NotJson));
    }

    #[test]
    fn a_json_storage_file_names_its_own_ids() {
        let mut data = chat_step();
        data["id"] = json!("msg_file");
        data["sessionID"] = json!("ses_file");
        let bytes = serde_json::to_vec(&data).unwrap();
        let s = step_of(read_message(MessageRow {
            id: None,
            session_id: None,
            data: &bytes,
        }));
        assert_eq!(
            (s.key.as_str(), s.session_id.as_str()),
            ("opencode:msg_file", "ses_file")
        );
        data.as_object_mut().unwrap().remove("sessionID");
        let bytes = serde_json::to_vec(&data).unwrap();
        let none = read_message(MessageRow {
            id: None,
            session_id: None,
            data: &bytes,
        });
        assert_eq!(none, OpenCodeMessage::Skip(OpenCodeSkip::NoSessionId));
    }

    #[test]
    fn a_cost_that_is_no_amount_is_not_reported() {
        for cost in [json!(-1.0), json!("0.1"), json!(1e9)] {
            let mut data = chat_step();
            data["cost"] = cost;
            assert_eq!(step_of(read("m", "s", data)).reported_cost_usd, None);
        }
    }

    #[test]
    fn tool_parts_name_their_tool() {
        let part =
            br#"{"type":"tool","tool":"bash","callID":"call_2","state":{"status":"completed"}}"#;
        assert_eq!(tool_name(part).as_deref(), Some("bash"));
        assert_eq!(tool_name(br#"{"type":"step-finish","tool":"x"}"#), None);
        assert_eq!(tool_name(b"not json"), None);
    }

    /// JSON built from the keys OpenCode writes, nested anyhow.
    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "role",
            "assistant",
            "tokens",
            "input",
            "output",
            "reasoning",
            "cache",
            "read",
            "write",
            "time",
            "created",
            "completed",
            "cost",
            "modelID",
            "path",
            "root",
            "cwd",
            "id",
            "sessionID",
            "type",
            "tool",
        ])
        .prop_map(str::to_owned);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(vec!["assistant", "user", "tool", "bash", "/", ""])
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_never_panics(data in arb_json(), id in prop::option::of(".{0,4}")) {
            let bytes = serde_json::to_vec(&data).unwrap();
            let answer = read_message(MessageRow { id: id.as_deref(), session_id: Some("s"), data: &bytes });
            if let OpenCodeMessage::Step(s) = answer {
                prop_assert!(s.key.starts_with("opencode:"));
                prop_assert!(!s.usage.is_empty());
            }
            let _ = tool_name(&bytes);
        }

        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = read_message(MessageRow { id: Some("m"), session_id: Some("s"), data: &data });
            let _ = tool_name(&data);
        }

        #[test]
        fn any_tokens_never_panic_and_never_lose_output(
            input in any::<i64>(), output in 0u64..2_000_000_000, reasoning in 0u64..2_000_000_000,
            cache_read in any::<u32>(), write in any::<u32>(), cost in any::<f64>(),
        ) {
            let data = json!({"role":"assistant","modelID":"m","cost":cost,
                "tokens":{"input":input,"output":output,"reasoning":reasoning,"cache":{"read":cache_read,"write":write}},
                "time":{"created":1,"completed":2}});
            if let OpenCodeMessage::Step(s) = read("m", "s", data) {
                prop_assert_eq!(s.usage.output, output + reasoning);
                prop_assert!(s.usage.reasoning <= s.usage.output);
                prop_assert!(s.reported_cost_usd.is_none_or(|c| c.is_finite() && c >= 0.0));
            }
        }
    }
}
