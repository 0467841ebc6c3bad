//! Collector: one hook payload in, its token usage and attribution out
//! (docs/usage.md, docs/hook-protocol.md#identity-and-attribution).
//!
//! Owns the reading of every payload shape hookmeter accepts: where usage
//! sits and how each provider's counts normalize (`shapes`), which counts are
//! believable (`numbers`), how an event is identified and attributed
//! (`identity`), the per-session memory of models ([`SessionModels`]), and
//! the reading of one Claude Code transcript line ([`transcript`]), one Codex
//! rollout line ([`codex`]) and one OpenCode message ([`opencode`]).
//!
//! It must stay pure and total: it never fails, never panics, does no I/O and
//! reads no clock. A payload it cannot use yields empty fields, and a usage it
//! refuses yields a reason, never an error, so one odd payload can never stop
//! the pipeline. It only reads fixed paths, so a payload's depth costs nothing.

pub mod claude_code;
pub mod codex;
pub mod gemini;
mod identity;
mod numbers;
pub mod opencode;
pub mod otel;
mod plausible;
mod session;
mod shapes;
pub mod transcript;

use serde_json::Value;

pub use crate::terms::{Billing, Usage};
pub use numbers::MAX_TOKENS;
pub use plausible::UsageLimits;
pub use session::SessionModels;

/// Everything the collector reads out of one payload.
///
/// Every field is optional because every payload is: the caller fills the gaps
/// from the envelope and the daemon (docs/hook-protocol.md#identity-and-attribution).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    /// The hook event's name (`PostToolUse`, `AfterModel`, …): stored with
    /// every event, and part of a tool event's id.
    pub event_name: Option<String>,
    /// The agent session the event belongs to: groups costs per session and
    /// keys the session's last known model.
    pub session_id: Option<String>,
    /// The user prompt the event belongs to: Claude Code's `prompt_id`
    /// (on every hook event once the session has a prompt; the transcript's
    /// `promptId`, the OTel `prompt.id`), Codex's `turn_id`. Kept on the
    /// event's cost record, for cost by prompt.
    pub prompt_id: Option<String>,
    /// The tool a tool event is about, for cost by tool.
    pub tool_name: Option<String>,
    /// The tool call's own id, which makes a tool event's id stable across
    /// redeliveries.
    pub tool_use_id: Option<String>,
    /// The agent's working directory, from which the project is named.
    pub cwd: Option<String>,
    /// The Claude Code transcript holding the session's usage
    /// (docs/ingest.md#claude-code-transcripts).
    pub transcript_path: Option<String>,
    /// A subagent's own transcript, named on SubagentStop, read like the main one.
    pub agent_transcript_path: Option<String>,
    /// The payload is Codex's: its `transcript_path` is a rollout (read by
    /// the rollout reader, not as a Claude Code transcript), and it is never
    /// priced itself (docs/hook-protocol.md#codex-payloads).
    pub from_codex: bool,
    /// The payload is the Gemini CLI's: its `transcript_path` is a chat log
    /// (read by the chat reader), and it is never priced itself: its
    /// `AfterModel` usage is a streamed chunk's, trimmed, and the chat log
    /// records the response (docs/hook-protocol.md#gemini-cli-payloads).
    pub from_gemini: bool,
    /// The payload's own event id, or one built for a tool event; `None` tells
    /// the caller to hash the payload's bytes, so redelivery is still harmless.
    pub event_id: Option<String>,
    /// Who the event belongs to, when the payload says or is recognizably
    /// Claude Code's; the envelope's agent overrides it and `unknown` fills it.
    pub agent_id: Option<String>,
    /// When the event happened, per the payload; the caller falls back on the
    /// envelope's `received_at`, then on the time of receipt.
    pub timestamp: Option<jiff::Timestamp>,
    /// The model that served the call, when the payload names one; else the
    /// caller asks [`SessionModels`].
    pub model: Option<String>,
    /// The call's token counts, or why there are none worth pricing.
    pub usage: UsageFinding,
    /// The billing modifiers the usage reports (fast mode, service tier,
    /// inference geography), priced where the table has a fact for them.
    pub billing: Billing,
    /// A cost the source computed itself, kept beside hookmeter's estimate.
    pub reported_cost_usd: Option<f64>,
    /// `llm`, `tool` or `infra`: what kind of cost a cost entry is.
    pub service: Option<String>,
}

/// What a payload says about token usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum UsageFinding {
    /// No token counts anywhere: the event is stored, no cost record is made.
    #[default]
    Absent,
    /// Counts normalized across providers, every one within [`MAX_TOKENS`].
    Found(Usage),
    /// Counts were there but are not believable; the reason names the field
    /// and its value, e.g. `usage.input_tokens is negative (-5)`, so whoever
    /// emits the payload can fix it.
    Invalid(String),
}

impl UsageFinding {
    /// The usage, when there is one worth pricing.
    pub fn found(&self) -> Option<&Usage> {
        match self {
            UsageFinding::Found(usage) => Some(usage),
            _ => None,
        }
    }
}

/// Reads one payload. Pure and total: never panics, never errs, no I/O, no
/// clock. A payload that is not a JSON object yields `Collected::default()`.
pub fn collect(payload: &Value) -> Collected {
    let Some(object) = payload.as_object() else {
        return Collected::default();
    };
    let text = |keys: &[&str]| identity::text(object, keys).map(str::to_owned);

    let event_name = text(&["hook_event_name", "hookEventName", "event", "type"]);
    let session_id = text(&["session_id", "sessionId"]);
    let tool_use_id = text(&["tool_use_id"]);
    let found = shapes::find_usage(object);
    let carries_usage = !matches!(found.finding, UsageFinding::Absent);
    let from_codex = codex::is_hook_payload(object, event_name.as_deref(), carries_usage);
    let from_gemini = !from_codex && gemini::is_hook_payload(object, event_name.as_deref());
    // A Codex payload's usage (PostModelRequest's `token_usage`) is the
    // same response its rollout records, a Gemini CLI payload's (AfterModel,
    // once per streamed chunk) a trimmed part of what its chat log records:
    // priced from the log only, so a hook can never add a second record.
    let from_log_agent = from_codex || from_gemini;
    let search = match from_log_agent {
        true => shapes::UsageSearch::default(),
        false => found,
    };
    let reported_cost_usd = match from_log_agent {
        true => None,
        false => identity::reported_cost_usd(object),
    };
    Collected {
        event_id: identity::event_id(
            object,
            session_id.as_deref(),
            tool_use_id.as_deref(),
            event_name.as_deref(),
        ),
        agent_id: identity::agent_id(
            object,
            event_name.as_deref(),
            session_id.as_deref(),
            from_log_agent,
        )
        .or_else(|| from_codex.then(|| codex::AGENT.to_owned()))
        .or_else(|| from_gemini.then(|| gemini::AGENT.to_owned())),
        timestamp: identity::timestamp(object),
        model: identity::model(object),
        tool_name: text(&["tool_name"]),
        prompt_id: text(&["prompt_id", "promptId", "turn_id"]),
        cwd: text(&["cwd"]),
        transcript_path: text(&["transcript_path"]),
        agent_transcript_path: text(&["agent_transcript_path"]),
        from_codex,
        from_gemini,
        usage: search.finding,
        billing: search.billing,
        reported_cost_usd,
        service: identity::service(object),
        event_name,
        session_id,
        tool_use_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/hooks/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading fixture {path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing fixture {path}: {e}"))
    }

    fn usage_of(collected: &Collected) -> Usage {
        match &collected.usage {
            UsageFinding::Found(usage) => *usage,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    #[test]
    fn the_prompt_is_claude_codes_prompt_id_or_codexs_turn_id() {
        // Claude Code 2.1.197 puts `prompt_id` in every hook's common input.
        let claude = json!({"session_id": "s", "hook_event_name": "PostToolUse",
            "tool_name": "Bash", "prompt_id": "p-1", "transcript_path": "/t.jsonl"});
        assert_eq!(collect(&claude).prompt_id.as_deref(), Some("p-1"));
        let codex = json!({"session_id": "s", "hook_event_name": "Stop", "turn_id": "t-1",
            "transcript_path": "/r.jsonl", "permission_mode": "default"});
        assert_eq!(collect(&codex).prompt_id.as_deref(), Some("t-1"));
        assert_eq!(collect(&fixture("anthropic-usage")).prompt_id, None);
    }

    #[test]
    fn fixture_anthropic_usage() {
        let c = collect(&fixture("anthropic-usage"));
        assert_eq!(
            usage_of(&c),
            Usage {
                input: 1200,
                cache_read: 5000,
                cache_write: 800,
                output: 300,
                ..Usage::default()
            }
        );
        assert_eq!(c.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(c.agent_id.as_deref(), Some("brunel"));
        assert_eq!(c.event_name.as_deref(), Some("PostToolUse"));
        assert_eq!(c.session_id.as_deref(), Some("s-generic"));
        assert_eq!(c.tool_name.as_deref(), Some("analyze"));
        // No tool_use_id: the caller hashes the bytes.
        assert_eq!(c.event_id, None);
        assert!(!c.billing.fast);
    }

    #[test]
    fn fixture_nested_response_usage() {
        let c = collect(&fixture("nested-response-usage"));
        assert_eq!(
            usage_of(&c),
            Usage {
                input: 500,
                cache_read: 1500,
                output: 500,
                ..Usage::default()
            }
        );
        assert_eq!(c.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(c.agent_id.as_deref(), Some("marcus"));
        assert_eq!(c.event_id, None);
    }

    #[test]
    fn fixture_openai_responses() {
        let c = collect(&fixture("openai-responses"));
        assert_eq!(
            usage_of(&c),
            Usage {
                input: 2000,
                cache_read: 8000,
                output: 700,
                reasoning: 400,
                ..Usage::default()
            }
        );
        assert_eq!(c.model.as_deref(), Some("gpt-5"));
        assert_eq!(c.agent_id.as_deref(), Some("codex"));
        assert_eq!(c.event_id, None);
    }

    #[test]
    fn fixture_gemini_aftermodel() {
        let c = collect(&fixture("gemini-aftermodel"));
        assert_eq!(
            usage_of(&c),
            Usage {
                input: 3000,
                cache_read: 1000,
                output: 300,
                reasoning: 100,
                ..Usage::default()
            }
        );
        assert_eq!(c.model.as_deref(), Some("gemini-2.5-flash"));
        assert_eq!(
            c.timestamp,
            Some("2026-09-20T10:00:00Z".parse().expect("valid timestamp"))
        );
        assert_eq!(c.event_name.as_deref(), Some("AfterModel"));
        // Gemini CLI, not Claude Code, and it names no agent.
        assert_eq!(c.agent_id, None);
        assert_eq!(c.event_id, None);
    }

    #[test]
    fn fixture_local_ollama() {
        let c = collect(&fixture("local-ollama"));
        assert_eq!(
            usage_of(&c),
            Usage {
                input: 5000,
                output: 3000,
                ..Usage::default()
            }
        );
        assert_eq!(c.model.as_deref(), Some("ollama/qwen3:4b"));
        assert_eq!(c.agent_id.as_deref(), Some("bee-001"));
    }

    #[test]
    fn fixture_claude_posttooluse() {
        let c = collect(&fixture("claude-posttooluse"));
        assert_eq!(c.usage, UsageFinding::Absent);
        assert_eq!(c.agent_id.as_deref(), Some("claude-code"));
        assert_eq!(
            c.event_id.as_deref(),
            Some("s-session-1:toolu_s1:PostToolUse")
        );
        assert_eq!(c.tool_name.as_deref(), Some("Bash"));
        assert_eq!(c.tool_use_id.as_deref(), Some("toolu_s1"));
        assert_eq!(c.cwd.as_deref(), Some("/home/dev/shop"));
        assert_eq!(c.transcript_path.as_deref(), Some("TRANSCRIPT_PATH"));
        assert_eq!(c.model, None);
        assert_eq!(c.timestamp, None);
    }

    #[test]
    fn fixture_claude_sessionstart() {
        let c = collect(&fixture("claude-sessionstart"));
        assert_eq!(c.usage, UsageFinding::Absent);
        assert_eq!(c.agent_id.as_deref(), Some("claude-code"));
        assert_eq!(c.event_id, None);
        assert_eq!(c.event_name.as_deref(), Some("SessionStart"));
        assert_eq!(c.model.as_deref(), Some("claude-sonnet-4-5-20250929"));

        // The model SessionStart names carries over to the session's later events.
        let mut models = SessionModels::new(16);
        models.observe(&c);
        let stop = collect(&fixture("claude-stop"));
        assert_eq!(stop.model, None);
        assert_eq!(models.model_for(&stop), Some("claude-sonnet-4-5-20250929"));
    }

    #[test]
    fn fixture_claude_stop() {
        let c = collect(&fixture("claude-stop"));
        assert_eq!(c.usage, UsageFinding::Absent);
        assert_eq!(c.agent_id.as_deref(), Some("claude-code"));
        assert_eq!(c.event_id, None);
        assert_eq!(c.session_id.as_deref(), Some("s-session-1"));
    }

    /// The PostToolUse of Claude Code's Agent tool, keys as 2.1.197 sends
    /// them: `tool_response.usage` is the subagent's last API call, which its
    /// transcript already holds, so the event carries no usage of its own.
    #[test]
    fn the_agent_tools_usage_is_the_subagents_transcript_not_a_new_call() {
        let payload = json!({
            "hook_event_name": "PostToolUse",
            "session_id": "s-1",
            "transcript_path": "/home/dev/.claude/projects/-home-dev-shop/s-1.jsonl",
            "cwd": "/home/dev/shop",
            "tool_name": "Agent",
            "tool_use_id": "toolu_01",
            "tool_input": {"description": "look around", "prompt": "list files"},
            "tool_response": {
                "agentId": "a1b2c3",
                "agentType": "general-purpose",
                "status": "completed",
                "resolvedModel": "claude-haiku-4-5",
                "totalTokens": 5732,
                "usage": {
                    "input_tokens": 20,
                    "output_tokens": 12,
                    "cache_read_input_tokens": 5700,
                    "cache_creation_input_tokens": 0
                }
            }
        });
        let c = collect(&payload);
        assert_eq!(c.usage, UsageFinding::Absent);
        assert_eq!(c.tool_name.as_deref(), Some("Agent"));
        assert_eq!(c.agent_id.as_deref(), Some("claude-code"));
    }

    #[test]
    fn fixture_no_usage() {
        let c = collect(&fixture("no-usage"));
        assert_eq!(c.usage, UsageFinding::Absent);
        assert_eq!(c.model, None);
        assert_eq!(c.tool_name.as_deref(), Some("Read"));
        // A PostToolUse with a session id is Claude Code's event name, and
        // nothing says otherwise.
        assert_eq!(c.agent_id.as_deref(), Some("claude-code"));
    }

    #[test]
    fn every_fixture_with_a_cost_has_usage_and_the_others_do_not() {
        let expected = fixture("expected-cost-usd");
        for (name, cost) in expected.as_object().expect("an object of costs") {
            let c = collect(&fixture(name));
            assert_eq!(
                c.usage.found().is_some(),
                !cost.is_null(),
                "{name}: {:?}",
                c.usage
            );
        }
    }

    /// Every payload the real Codex 0.171.0 gave its hooks in one run
    /// (tests/fixtures/codex/hooks): Codex's, agent `codex`, its rollout as
    /// the transcript, and no usage, PostModelRequest's `token_usage`
    /// included: the rollout's record of that response is the only one.
    #[test]
    fn real_codex_hook_payloads() {
        let dir = format!(
            "{}/../../tests/fixtures/codex/hooks",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the fixtures directory") {
            let path = entry.expect("a directory entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a fixture");
            let payload: Value = serde_json::from_str(&text).expect("fixture JSON");
            let c = collect(&payload);
            let name = c.event_name.clone().expect("an event name");
            assert!(c.from_codex, "{name}");
            assert_eq!(c.agent_id.as_deref(), Some("codex"), "{name}");
            assert_eq!(c.usage, UsageFinding::Absent, "{name}");
            assert_eq!(c.reported_cost_usd, None, "{name}");
            assert_eq!(c.cwd.as_deref(), Some("/home/dev/project"), "{name}");
            assert!(c
                .transcript_path
                .as_deref()
                .is_some_and(|p| p.contains("/.codex/sessions/") && p.ends_with(".jsonl")));
            if name.ends_with("ToolUse") {
                assert_eq!(c.tool_name.as_deref(), Some("Bash"));
                assert!(c.event_id.is_some(), "a tool event's id is built");
            }
            if name == "PostModelRequest" {
                assert!(payload["token_usage"]["input_tokens"].as_u64().unwrap() > 0);
            }
            names.push(name);
        }
        names.sort();
        names.dedup();
        assert_eq!(
            names,
            [
                "PostModelRequest",
                "PostToolUse",
                "PreModelRequest",
                "PreToolUse",
                "SessionStart",
                "Stop",
                "UserPromptSubmit"
            ]
        );
    }

    #[test]
    fn codex_is_told_from_claude_code_by_what_only_codex_writes() {
        let claude = json!({"session_id": "s", "hook_event_name": "Stop", "permission_mode": "default",
            "transcript_path": "/home/u/.claude/projects/-p/0b6f.jsonl", "cwd": "/p"});
        assert!(!collect(&claude).from_codex);
        assert_eq!(collect(&claude).agent_id.as_deref(), Some("claude-code"));
        let display =
            json!({"session_id": "s", "hook_event_name": "MessageDisplay", "turn_id": "t"});
        assert!(!collect(&display).from_codex);
        for codex in [
            json!({"session_id": "s", "hook_event_name": "Stop",
                   "transcript_path": "/h/.codex/archived_sessions/rollout-2026-01-01T00-00-00-s.jsonl"}),
            json!({"session_id": "s", "hook_event_name": "Stop", "turn_id": "t"}),
            json!({"session_id": "s", "hook_event_name": "PostModelRequest",
                   "token_usage": {"input_tokens": 10, "output_tokens": 2}, "usage": {"input_tokens": 10}}),
        ] {
            let c = collect(&codex);
            assert!(c.from_codex, "{codex}");
            assert_eq!(c.agent_id.as_deref(), Some("codex"));
            assert_eq!(c.usage, UsageFinding::Absent, "never priced: {codex}");
        }
        // An agent the payload names itself is kept.
        let named = json!({"hook_event_name": "Stop", "turn_id": "t", "agent_id": "reviewer"});
        assert_eq!(collect(&named).agent_id.as_deref(), Some("reviewer"));
        // A `turn_id` alone does not make usage Codex's: another agent's
        // usage is kept and priced.
        let other = json!({"hook_event_name": "Stop", "turn_id": "t", "model": "gpt-5",
                           "usage": {"input_tokens": 100, "output_tokens": 10}});
        let c = collect(&other);
        assert!(!c.from_codex, "{other}");
        assert!(c.usage.found().is_some(), "{other}");
    }

    #[test]
    fn codex_lines() {
        let context = collect(&json!({
            "timestamp": "2025-10-01T12:00:00.000Z",
            "type": "turn_context",
            "payload": {"cwd": "/repo", "approval_policy": "on-request", "model": "gpt-5-codex"}
        }));
        assert_eq!(context.model.as_deref(), Some("gpt-5-codex"));
        assert_eq!(context.usage, UsageFinding::Absent);

        let count = collect(&json!({
            "timestamp": "2025-10-01T12:00:03.000Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "info": {"last_token_usage": {
                "input_tokens": 5000, "cached_input_tokens": 4000,
                "output_tokens": 300, "reasoning_output_tokens": 120, "total_tokens": 5300
            }}}
        }));
        assert_eq!(
            count.usage,
            UsageFinding::Found(Usage {
                input: 1000,
                cache_read: 4000,
                output: 300,
                reasoning: 120,
                ..Usage::default()
            })
        );
        assert_eq!(count.event_name.as_deref(), Some("event_msg"));
        assert!(count.timestamp.is_some());
    }

    #[test]
    fn opentelemetry_span() {
        let c = collect(&json!({
            "name": "chat claude-sonnet-4-5",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.response.model": "claude-sonnet-4-5-20250929",
                "gen_ai.usage.input_tokens": 6000,
                "gen_ai.usage.cache_read.input_tokens": 5000,
                "gen_ai.usage.output_tokens": 250
            }
        }));
        assert_eq!(c.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(
            c.usage,
            UsageFinding::Found(Usage {
                input: 1000,
                cache_read: 5000,
                output: 250,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn claude_transcript_line_in_fast_mode() {
        let c = collect(&json!({
            "type": "assistant", "sessionId": "s1", "timestamp": "2026-01-05T09:00:00.123Z",
            "costUSD": 0.25,
            "message": {"id": "msg_1", "model": "claude-opus-4-6", "usage": {
                "input_tokens": 10, "output_tokens": 50, "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 400,
                "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 300},
                "speed": "fast"
            }}
        }));
        assert!(c.billing.fast);
        assert_eq!(c.session_id.as_deref(), Some("s1"));
        assert_eq!(c.model.as_deref(), Some("claude-opus-4-6"));
        assert_eq!(c.reported_cost_usd, Some(0.25));
        let usage = usage_of(&c);
        assert_eq!((usage.cache_write, usage.cache_write_1h), (400, 300));
    }

    #[test]
    fn invalid_usage_is_reported_not_dropped() {
        let c = collect(&json!({
            "hook_event_name": "PostToolUse", "session_id": "s", "model": "gpt-4o",
            "usage": {"input_tokens": -5, "output_tokens": 3}
        }));
        assert_eq!(
            c.usage,
            UsageFinding::Invalid("usage.input_tokens is negative (-5)".to_owned())
        );
        // Everything else about the event is still read.
        assert_eq!(c.model.as_deref(), Some("gpt-4o"));
        assert_eq!(c.session_id.as_deref(), Some("s"));
    }

    #[test]
    fn cost_entries() {
        let c = collect(&json!({"service": "infra", "cost_usd": 1.5, "agent": "ci"}));
        assert_eq!(c.service.as_deref(), Some("infra"));
        assert_eq!(c.reported_cost_usd, Some(1.5));
        assert_eq!(c.agent_id.as_deref(), Some("ci"));
        assert_eq!(c.usage, UsageFinding::Absent);
    }

    #[test]
    fn event_name_aliases_are_strings_only() {
        let name = |v: Value| collect(&v).event_name;
        assert_eq!(
            name(json!({"hookEventName": "Stop"})).as_deref(),
            Some("Stop")
        );
        assert_eq!(
            name(json!({"event": "x", "type": "y"})).as_deref(),
            Some("x")
        );
        assert_eq!(
            name(json!({"event": {"k": 1}, "type": "y"})).as_deref(),
            Some("y")
        );
        assert_eq!(name(json!({"event": 3})), None);
    }

    #[test]
    fn non_objects_yield_nothing() {
        for payload in [
            json!(null),
            json!(true),
            json!(42),
            json!("usage"),
            json!([{"usage": {"input_tokens": 1}}]),
        ] {
            assert_eq!(collect(&payload), Collected::default(), "{payload}");
        }
    }

    #[test]
    fn deeply_nested_payloads_are_read_without_walking_them() {
        // Built by hand: `json!` would copy `deep` recursively at each level.
        let wrap = |key: &str, inner: Value| {
            let mut map = serde_json::Map::new();
            map.insert(key.to_owned(), inner);
            Value::Object(map)
        };
        let mut deep = json!({"usage": {"input_tokens": 7}});
        for _ in 0..100_000 {
            deep = wrap("response", deep);
        }
        let mut payload = wrap("message", deep);
        payload["usage"] = json!({"output_tokens": 1});
        assert_eq!(usage_of(&collect(&payload)).output, 1);
        // serde_json's Value drops recursively; unwind it by hand so the test
        // itself does not overflow the stack.
        let mut value = payload;
        loop {
            let next = match &mut value {
                Value::Object(map) => ["message", "response"].iter().find_map(|k| map.remove(*k)),
                _ => None,
            };
            match next {
                Some(inner) => value = inner,
                None => break,
            }
        }
    }

    /// JSON values biased towards the keys the collector looks at, so random
    /// payloads actually reach the usage arithmetic.
    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("usage".to_owned()),
            Just("response".to_owned()),
            Just("message".to_owned()),
            Just("tool_response".to_owned()),
            Just("llm_response".to_owned()),
            Just("usageMetadata".to_owned()),
            Just("payload".to_owned()),
            Just("info".to_owned()),
            Just("last_token_usage".to_owned()),
            Just("attributes".to_owned()),
            Just("input_tokens".to_owned()),
            Just("output_tokens".to_owned()),
            Just("cache_read_input_tokens".to_owned()),
            Just("cache_creation_input_tokens".to_owned()),
            Just("cache_creation".to_owned()),
            Just("ephemeral_1h_input_tokens".to_owned()),
            Just("ephemeral_5m_input_tokens".to_owned()),
            Just("prompt_tokens".to_owned()),
            Just("completion_tokens".to_owned()),
            Just("prompt_tokens_details".to_owned()),
            Just("completion_tokens_details".to_owned()),
            Just("input_tokens_details".to_owned()),
            Just("output_tokens_details".to_owned()),
            Just("cached_tokens".to_owned()),
            Just("reasoning_tokens".to_owned()),
            Just("cached_input_tokens".to_owned()),
            Just("reasoning_output_tokens".to_owned()),
            Just("promptTokenCount".to_owned()),
            Just("cachedContentTokenCount".to_owned()),
            Just("candidatesTokenCount".to_owned()),
            Just("thoughtsTokenCount".to_owned()),
            Just("gen_ai.usage.input_tokens".to_owned()),
            Just("gen_ai.usage.output_tokens".to_owned()),
            Just("gen_ai.usage.cache_read.input_tokens".to_owned()),
            Just("gen_ai.usage.cache_creation.input_tokens".to_owned()),
            Just("gen_ai.usage.reasoning.output_tokens".to_owned()),
            Just("model".to_owned()),
            Just("timestamp".to_owned()),
            Just("type".to_owned()),
            Just("session_id".to_owned()),
            Just("tool_use_id".to_owned()),
            Just("hook_event_name".to_owned()),
            Just("agent_id".to_owned()),
            Just("transcript_path".to_owned()),
            Just("costUSD".to_owned()),
            Just("speed".to_owned()),
            ".{0,12}",
        ];
        let number = prop_oneof![
            (0u64..2_000_000_000).prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from), // NaN and infinities become null
            (0u32..5000).prop_map(|n| Value::from(f64::from(n) + 0.5)),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number,
            ".{0,24}".prop_map(Value::String),
            Just(json!("fast")),
            Just(json!("turn_context")),
            Just(json!("2026-09-20T10:00:00Z")),
        ];
        leaf.prop_recursive(6, 96, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn assert_believable(collected: &Collected) {
        if let UsageFinding::Found(u) = &collected.usage {
            assert!(u.cache_write_1h <= u.cache_write, "{u:?}");
            assert!(u.reasoning <= u.output, "{u:?}");
            for n in [
                u.input,
                u.cache_read,
                u.cache_write,
                u.cache_write_1h,
                u.output,
                u.reasoning,
            ] {
                assert!(n <= MAX_TOKENS, "{u:?}");
            }
        }
        if let UsageFinding::Invalid(reason) = &collected.usage {
            assert!(!reason.is_empty());
            assert!(reason.len() < 1000, "reasons stay short: {reason}");
        }
        if let Some(cost) = collected.reported_cost_usd {
            assert!(cost.is_finite() && cost >= 0.0);
        }
        if let Some(model) = &collected.model {
            assert!(!model.trim().is_empty());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_json_is_collected_without_panicking(value in arbitrary_json()) {
            let collected = collect(&value);
            assert_believable(&collected);
            // Deterministic: no clock, no hidden state.
            prop_assert_eq!(collect(&value), collected);
        }

        #[test]
        fn any_usage_object_is_normalized_or_refused(
            location in prop::sample::select(vec![
                "usage", "response", "message", "tool_response", "llm_response", "attributes"
            ]),
            usage in prop::collection::vec(
                (prop::sample::select(vec![
                    "input_tokens", "output_tokens", "cache_read_input_tokens",
                    "cache_creation_input_tokens", "prompt_tokens", "completion_tokens",
                    "cached_input_tokens", "reasoning_output_tokens",
                    "promptTokenCount", "cachedContentTokenCount", "candidatesTokenCount",
                    "thoughtsTokenCount", "gen_ai.usage.input_tokens",
                    "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens",
                    "gen_ai.usage.cache_creation.input_tokens",
                ]), prop_oneof![
                    (0u64..=MAX_TOKENS).prop_map(Value::from),
                    (0u64..10_000).prop_map(Value::from),
                    any::<i64>().prop_map(Value::from),
                ]),
                0..8,
            ),
            details in (0u64..20_000, 0u64..20_000),
        ) {
            let mut object: serde_json::Map<String, Value> =
                usage.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            object.insert("prompt_tokens_details".into(), json!({"cached_tokens": details.0}));
            object.insert("completion_tokens_details".into(), json!({"reasoning_tokens": details.1}));
            object.insert("cache_creation".into(), json!({"ephemeral_1h_input_tokens": details.1}));
            let inner = match location {
                "usage" | "attributes" => Value::Object(object),
                "llm_response" => json!({"usageMetadata": object}),
                _ => json!({"usage": object}),
            };
            let payload = json!({ location: inner });
            assert_believable(&collect(&payload));
        }

        #[test]
        fn any_bytes_are_collected_without_panicking(
            bytes in prop::collection::vec(any::<u8>(), 0..512)
        ) {
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                assert_believable(&collect(&value));
            }
        }

        #[test]
        fn json_looking_text_is_collected_without_panicking(
            text in r#"\{("(usage|input_tokens|output_tokens|model|timestamp|response)":[-0-9.e{}\[\]",: a-z]{0,16},?){0,6}\}"#
        ) {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                assert_believable(&collect(&value));
            }
        }
    }
}
