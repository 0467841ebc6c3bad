//! Identity and attribution of one payload: which event it is, whose it is,
//! when it happened, which model ran (docs/hook-protocol.md#identity-and-attribution,
//! docs/usage.md#which-model).
//!
//! Owns the rules that make a redelivered event the same event and that
//! recognize a Claude Code payload. Reads only fixed keys, never the clock:
//! a missing time stays missing and the caller decides what stands in.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::claude_code;
use super::shapes::object_at;

/// Hook events Claude Code emits; with a `session_id` they mark its payloads.
const CLAUDE_CODE_EVENTS: &[&str] = &[
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "Notification",
    "UserPromptSubmit",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "SessionStart",
    "SessionEnd",
];

/// Hook events only Gemini CLI emits. Its payloads also carry `session_id`
/// and `transcript_path`, so without this list they would pass for Claude
/// Code's.
pub(super) const GEMINI_CLI_EVENTS: &[&str] = &[
    "BeforeTool",
    "AfterTool",
    "BeforeAgent",
    "AfterAgent",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "PreCompress",
];

/// Longest string accepted as a model name. Model names key the price table
/// and group reports; a longer value is not a model name but a misplaced blob.
const MAX_MODEL_LEN: usize = 256;

/// The first of `keys` holding a string with something besides whitespace,
/// trimmed: ids and names are compared across sources (hook payloads,
/// transcripts), and stray whitespace would split one session into two.
pub(super) fn text<'v>(object: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v str> {
    keys.iter()
        .filter_map(|key| object.get(*key)?.as_str())
        .map(str::trim)
        .find(|s| !s.is_empty())
}

/// The payload's own event id; a tool event's id built from its parts; else
/// `None`, and the caller hashes the payload's bytes
/// (docs/hook-protocol.md#identity-and-attribution).
///
/// A tool event needs all three parts: without the event name a PreToolUse and
/// its PostToolUse would share an id and one would overwrite the other.
pub(super) fn event_id(
    payload: &Map<String, Value>,
    session_id: Option<&str>,
    tool_use_id: Option<&str>,
    event_name: Option<&str>,
) -> Option<String> {
    for key in ["hook_event_id", "event_id"] {
        match payload.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => return Some(s.trim().to_owned()),
            // Some emitters number their events; the number is still theirs.
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => return Some(n.to_string()),
            _ => {}
        }
    }
    match (session_id, tool_use_id, event_name) {
        (Some(session), Some(tool_use), Some(event)) => {
            Some(format!("{session}:{tool_use}:{event}"))
        }
        _ => None,
    }
}

/// Who the event belongs to: the payload's own `agent_id`/`agent`, else
/// `claude-code` for a Claude Code payload, else `None`
/// (docs/hook-protocol.md#identity-and-attribution). A Codex payload
/// (`from_codex`) is never Claude Code's; the caller names its agent.
///
/// Claude Code puts the subagent's id in `agent_id` on subagent events; that
/// id becomes `subagent:<id>`, the name its transcript lines are recorded
/// under (docs/ingest.md#claude-code-transcripts), so the hook event and the
/// usage agree.
pub(super) fn agent_id(
    payload: &Map<String, Value>,
    event_name: Option<&str>,
    session_id: Option<&str>,
    from_codex: bool,
) -> Option<String> {
    let from_claude_code = !from_codex && is_claude_code(payload, event_name, session_id);
    match text(payload, &["agent_id", "agent"]) {
        Some(agent) if from_claude_code && is_subagent_event(payload, event_name) => {
            Some(claude_code::subagent(agent))
        }
        Some(agent) => Some(agent.to_owned()),
        None => from_claude_code.then(|| claude_code::MAIN_AGENT.to_owned()),
    }
}

fn is_claude_code(
    payload: &Map<String, Value>,
    event_name: Option<&str>,
    session_id: Option<&str>,
) -> bool {
    if text(payload, &["permission_mode"]).is_some() {
        return true;
    }
    if event_name.is_some_and(|e| GEMINI_CLI_EVENTS.contains(&e)) {
        return false;
    }
    text(payload, &["transcript_path"]).is_some()
        || (session_id.is_some() && event_name.is_some_and(|e| CLAUDE_CODE_EVENTS.contains(&e)))
}

fn is_subagent_event(payload: &Map<String, Value>, event_name: Option<&str>) -> bool {
    matches!(event_name, Some("SubagentStart" | "SubagentStop"))
        || text(payload, &["agent_type", "agent_transcript_path"]).is_some()
}

/// The payload's `timestamp` when it names a real instant: an RFC 3339 string
/// with an offset, or a number of seconds, milliseconds, microseconds or
/// nanoseconds since the Unix epoch, told apart by magnitude.
///
/// Magnitude is unambiguous for any date between 1973 and 5138: 1e11 seconds
/// is the year 5138, 1e11 milliseconds is 1973. Negative numbers are refused:
/// no agent ran before 1970, so one is a bug, not a time.
pub(super) fn timestamp(payload: &Map<String, Value>) -> Option<Timestamp> {
    match payload.get("timestamp")? {
        Value::String(s) => s.trim().parse::<Timestamp>().ok(),
        Value::Number(n) => {
            let value = n.as_f64()?;
            if value < 0.0 {
                return None;
            }
            let nanos_per_unit = if value < 1e11 {
                1e9
            } else if value < 1e14 {
                1e6
            } else if value < 1e17 {
                1e3
            } else {
                1.0
            };
            // Integers take the exact path; an f64 only carries ~16 digits,
            // which would blur nanoseconds of a large integer.
            let nanos = match n.as_u64() {
                Some(whole) => i128::from(whole) * nanos_per_unit as i128,
                None => (value * nanos_per_unit) as i128,
            };
            Timestamp::from_nanosecond(nanos).ok()
        }
        _ => None,
    }
}

/// The model that served the call, from the first place that names one
/// (docs/usage.md#which-model), trimmed.
///
/// A `model` object carries its name in `id` (Claude Code's status line
/// shape). Codex names the model once per turn in a `turn_context` line.
pub(super) fn model(payload: &Map<String, Value>) -> Option<String> {
    let named_at = |path: &[&str], key: &str| model_name(object_at(payload, path)?.get(key)?);
    // The served model (`gen_ai.response.model`) is more precise than the
    // requested one, so it is looked at first wherever it sits.
    let places: [(&[&str], &str); 9] = [
        (&[], "model"),
        (&["response"], "model"),
        (&["message"], "model"),
        (&["llm_request"], "model"),
        (&["tool_response"], "resolvedModel"),
        (&[], "gen_ai.response.model"),
        (&["attributes"], "gen_ai.response.model"),
        (&[], "gen_ai.request.model"),
        (&["attributes"], "gen_ai.request.model"),
    ];
    places
        .iter()
        .find_map(|(path, key)| named_at(path, key))
        .or_else(|| {
            (text(payload, &["type"]) == Some("turn_context"))
                .then(|| named_at(&["payload"], "model"))
                .flatten()
        })
        .map(str::to_owned)
}

/// The name in one `model` field: a string, or an object carrying it in
/// `id`; trimmed, and a blob too long to be a name is no name.
pub(super) fn model_name(value: &Value) -> Option<&str> {
    let name = match value {
        Value::String(s) => s,
        Value::Object(o) => o.get("id")?.as_str()?,
        _ => return None,
    };
    let name = name.trim();
    (!name.is_empty() && name.len() <= MAX_MODEL_LEN).then_some(name)
}

/// A cost the source computed itself: `costUSD` (old Claude Code transcript
/// lines) or `cost_usd` (non-LLM cost entries).
///
/// Only a number from 0 to a million dollars is believed; one call costing
/// more is a unit mistake (cents, micro-dollars), not a bill.
pub(super) fn reported_cost_usd(payload: &Map<String, Value>) -> Option<f64> {
    const MAX_REPORTED_COST_USD: f64 = 1_000_000.0;
    ["costUSD", "cost_usd"].iter().find_map(|key| {
        let cost = payload.get(*key)?.as_f64()?;
        (cost.is_finite() && (0.0..=MAX_REPORTED_COST_USD).contains(&cost)).then_some(cost)
    })
}

/// The payload's `service` when it is one the database knows: `llm`,
/// `tool` or `infra` (docs/schema.md#cost_records).
pub(super) fn service(payload: &Map<String, Value>) -> Option<String> {
    text(payload, &["service"])
        .filter(|s| matches!(*s, "llm" | "tool" | "infra"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        value
            .as_object()
            .expect("test payloads are objects")
            .clone()
    }

    fn ts(value: Value) -> Option<String> {
        timestamp(&obj(json!({ "timestamp": value }))).map(|t| t.to_string())
    }

    #[test]
    fn timestamps_by_magnitude() {
        let at = Some("2026-09-20T10:00:00Z".to_owned());
        assert_eq!(ts(json!("2026-09-20T10:00:00Z")), at);
        assert_eq!(ts(json!("2026-09-20T12:00:00+02:00")), at);
        assert_eq!(ts(json!(1_789_898_400u64)), at);
        assert_eq!(ts(json!(1_789_898_400_000u64)), at);
        assert_eq!(ts(json!(1_789_898_400_000_000u64)), at);
        assert_eq!(ts(json!(1_789_898_400_000_000_000u64)), at);
        assert_eq!(ts(json!(1_789_898_400.0)), at);
        assert_eq!(
            ts(json!(1_789_898_400.5)),
            Some("2026-09-20T10:00:00.5Z".to_owned())
        );
    }

    #[test]
    fn invalid_timestamps_are_none() {
        for bad in [
            json!("yesterday"),
            json!("2026-09-20T10:00:00"), // no offset: which zone?
            json!(""),
            json!(-1),
            json!(-1.5),
            json!(true),
            json!(null),
            json!({"seconds": 1}),
            json!(1e300),
            json!(1e30),
        ] {
            assert_eq!(ts(bad.clone()), None, "{bad}");
        }
    }

    #[test]
    fn model_first_place_wins() {
        let payload = obj(json!({
            "response": {"model": "gpt-4o-mini"},
            "attributes": {"gen_ai.request.model": "gpt-4o"}
        }));
        assert_eq!(model(&payload).as_deref(), Some("gpt-4o-mini"));
        let payload = obj(json!({
            "attributes": {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"}
        }));
        assert_eq!(model(&payload).as_deref(), Some("gpt-4o-2024-08-06"));
    }

    #[test]
    fn model_skips_empty_oversized_and_non_strings() {
        let payload = obj(json!({
            "model": "  ",
            "response": {"model": 5},
            "message": {"model": "x".repeat(MAX_MODEL_LEN + 1)},
            "llm_request": {"model": " gemini-2.5-pro "}
        }));
        assert_eq!(model(&payload).as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(model(&obj(json!({"model": ""}))), None);
    }

    #[test]
    fn model_object_and_agent_tool() {
        let payload = obj(json!({"model": {"id": "claude-opus-4-1", "display_name": "Opus"}}));
        assert_eq!(model(&payload).as_deref(), Some("claude-opus-4-1"));
        let payload = obj(json!({"tool_response": {"resolvedModel": "claude-haiku-4-5"}}));
        assert_eq!(model(&payload).as_deref(), Some("claude-haiku-4-5"));
    }

    #[test]
    fn codex_turn_context_names_the_model() {
        let line =
            obj(json!({"type": "turn_context", "payload": {"cwd": "/r", "model": "gpt-5-codex"}}));
        assert_eq!(model(&line).as_deref(), Some("gpt-5-codex"));
        // An envelope's inner payload is not a turn context.
        let envelope = obj(json!({"hookmeter": 1, "payload": {"model": "gpt-5"}}));
        assert_eq!(model(&envelope), None);
    }

    #[test]
    fn event_id_prefers_the_payloads_own() {
        let payload = obj(json!({"hook_event_id": "ev-1", "event_id": "ev-2"}));
        assert_eq!(
            event_id(&payload, Some("s"), Some("t"), Some("PostToolUse")).as_deref(),
            Some("ev-1")
        );
        let payload = obj(json!({"event_id": 42}));
        assert_eq!(event_id(&payload, None, None, None).as_deref(), Some("42"));
        let payload = obj(json!({"event_id": ""}));
        assert_eq!(
            event_id(&payload, Some("s"), Some("t"), Some("PreToolUse")).as_deref(),
            Some("s:t:PreToolUse")
        );
        assert_eq!(
            event_id(&payload, None, Some("t"), Some("PreToolUse")),
            None
        );
        assert_eq!(event_id(&payload, Some("s"), Some("t"), None), None);
    }

    #[test]
    fn claude_code_is_recognized() {
        let agent = |v: Value| {
            let p = obj(v);
            let event = text(&p, &["hook_event_name"]);
            let session = text(&p, &["session_id"]);
            agent_id(&p, event, session, false)
        };
        let cc = Some("claude-code".to_owned());
        assert_eq!(agent(json!({"transcript_path": "/t.jsonl"})), cc);
        assert_eq!(agent(json!({"permission_mode": "plan"})), cc);
        assert_eq!(
            agent(json!({"hook_event_name": "Stop", "session_id": "s"})),
            cc
        );
        assert_eq!(agent(json!({"hook_event_name": "Stop"})), None);
        assert_eq!(
            agent(json!({"hook_event_name": "Custom", "session_id": "s"})),
            None
        );
        assert_eq!(
            agent(
                json!({"hook_event_name": "AfterModel", "session_id": "s", "transcript_path": "/g"})
            ),
            None
        );
        assert_eq!(
            agent(json!({"agent_id": "brunel", "transcript_path": "/t"})),
            Some("brunel".to_owned())
        );
        assert_eq!(
            agent(json!({"agent": " bee-001 "})),
            Some("bee-001".to_owned())
        );
        assert_eq!(
            agent(json!({"hook_event_name": "SubagentStop", "session_id": "s",
                "transcript_path": "/t", "agent_id": "a1b2", "agent_transcript_path": "/a"})),
            Some("subagent:a1b2".to_owned())
        );
    }

    #[test]
    fn reported_cost_must_be_a_plausible_amount() {
        let cost = |v: Value| reported_cost_usd(&obj(v));
        assert_eq!(cost(json!({"costUSD": 0.0123})), Some(0.0123));
        assert_eq!(cost(json!({"cost_usd": 2})), Some(2.0));
        assert_eq!(cost(json!({"costUSD": -1, "cost_usd": 0.5})), Some(0.5));
        assert_eq!(cost(json!({"costUSD": "0.5"})), None);
        assert_eq!(cost(json!({"costUSD": 1e12})), None);
        assert_eq!(cost(json!({})), None);
    }

    #[test]
    fn service_is_one_of_three() {
        assert_eq!(
            service(&obj(json!({"service": "tool"}))).as_deref(),
            Some("tool")
        );
        assert_eq!(service(&obj(json!({"service": "gpu"}))), None);
        assert_eq!(service(&obj(json!({"service": 1}))), None);
    }
}
