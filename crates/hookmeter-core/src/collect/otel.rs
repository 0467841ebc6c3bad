//! An agent's own OpenTelemetry log records → usage (docs/ingest.md#opentelemetry).
//!
//! The wire formats (OTLP protobuf and JSON) are decoded at the edge into
//! [`LogRecord`]s, plain data; this module decides what a record is worth:
//! a Claude Code `api_request` event is one billed request ([`ApiRequest`]),
//! so is a Codex `codex.sse_event` of kind `response.completed` that
//! carries counts and a Gemini CLI `gemini_cli.api_response`
//! ([`SessionResponse`]); any other event is no usage, and a usage event
//! that lacks what a record needs is skipped with a reason. Pure and total:
//! every record gets an answer, none panics.

use crate::terms::{Billing, Usage};

/// One OTLP `AnyValue`, as far as usage needs it. Arrays, maps and bytes
/// carry nothing a usage event uses; they are kept as [`AnyValue::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnyValue {
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Other,
}

/// One log record with the attributes of its resource, decoded from either
/// encoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord {
    /// `time_unix_nano`, else `observed_time_unix_nano`; 0 when neither.
    pub time_unix_nano: u64,
    /// The body, when it is a value (Claude Code: `claude_code.<event>`).
    pub body: Option<AnyValue>,
    /// The record's attributes, in order.
    pub attributes: Vec<(String, AnyValue)>,
    /// Its resource's attributes (`service.name`, `service.version`).
    pub resource: Vec<(String, AnyValue)>,
}

impl LogRecord {
    fn attribute(&self, key: &str) -> Option<&AnyValue> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn text(&self, key: &str) -> Option<&str> {
        match self.attribute(key)? {
            AnyValue::String(s) if !s.trim().is_empty() => Some(s.trim()),
            _ => None,
        }
    }

    fn service(&self) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .and_then(|(_, v)| match v {
                AnyValue::String(s) => Some(s.as_str()),
                _ => None,
            })
    }

    /// The event's name: the `event.name` attribute, else a body
    /// `claude_code.<name>`.
    fn event_name(&self) -> Option<&str> {
        self.text("event.name").or(match &self.body {
            Some(AnyValue::String(body)) => body.strip_prefix("claude_code."),
            _ => None,
        })
    }
}

/// The resource `service.name` of Claude Code's exporter.
pub const CLAUDE_CODE_SERVICE: &str = "claude-code";

/// One billed request as Claude Code's `api_request` event reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// `request_id`: the transcript line's `requestId`, what the two share.
    pub request_id: String,
    /// `session.id`: the transcript's `sessionId`.
    pub session_id: String,
    /// `prompt.id`: the transcript's `promptId`, the prompt this request served.
    pub prompt_id: Option<String>,
    /// `model`, as sent.
    pub model: String,
    /// The event's counts. `cache_creation_tokens` holds 5-minute and
    /// 1-hour writes together: the event does not split them, so
    /// `cache_write_1h` is 0 here (a transcript line of the same request
    /// brings the split).
    pub usage: Usage,
    /// `speed: "fast"` is fast mode; the event says nothing of tiers.
    pub billing: Billing,
    /// `cost_usd`: the agent's own price of the request, kept as reported.
    pub reported_cost_usd: Option<f64>,
    /// `event.timestamp`, else the record's time.
    pub timestamp: Option<jiff::Timestamp>,
}

/// The resource `service.name` of Gemini CLI's exporter.
pub const GEMINI_CLI_SERVICE: &str = "gemini-cli";

/// Whose event a [`SessionResponse`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAgent {
    /// Codex: `codex.sse_event`, kind `response.completed`.
    Codex,
    /// Gemini CLI: `gemini_cli.api_response`.
    GeminiCli,
}

impl SessionAgent {
    /// The agent name its records are kept under: the same as the records
    /// its own log (rollout, chat log) gives, so a session's records are
    /// one agent's whichever source recorded them.
    pub fn agent_id(self) -> &'static str {
        match self {
            SessionAgent::Codex => crate::collect::codex::AGENT,
            SessionAgent::GeminiCli => crate::collect::gemini::AGENT,
        }
    }
}

/// One billed response as Codex's or Gemini CLI's usage event reports it.
/// Unlike Claude Code's, neither event carries an id its agent's own log
/// shares (no response id, no request id): a response is linked to its log
/// only by its session, so the store records a session from one source
/// (docs/ingest.md#one-source-per-session).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionResponse {
    pub agent: SessionAgent,
    /// The record's idempotency key, the same when an export is delivered
    /// again: `otel:<agent>:<session>:<event.timestamp>:<input>:<output>`
    /// (the event's own counts, as sent).
    pub key: String,
    /// Codex `conversation.id` (the rollout's session id); Gemini CLI
    /// `session.id` (the chat log's `sessionId`).
    pub session_id: String,
    /// `model`, as sent.
    pub model: String,
    /// The counts in hookmeter's terms, as the agent's log reader makes
    /// them: `input` without the cached part.
    pub usage: Usage,
    /// `event.timestamp`, else the record's time.
    pub timestamp: Option<jiff::Timestamp>,
}

/// What one log record is to the cost pipeline.
// Unboxed on purpose, as a transcript line's answer: it lives only until
// the caller has sorted it, and most records of an export are usage-less.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// A billed request.
    Request(ApiRequest),
    /// A billed response of a Codex or Gemini CLI session.
    Response(SessionResponse),
    /// An event that carries no usage (a prompt, a tool decision, another
    /// agent's event): nothing to bill, nothing wrong.
    NoUsage,
    /// A usage event that cannot become a record, and why.
    Skip(SkipReason),
}

/// Why a usage event yields no record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A needed attribute is absent or not of its type.
    Missing(&'static str),
    /// A token count below zero or past [`crate::collect::MAX_TOKENS`].
    InvalidCount(&'static str),
}

impl SkipReason {
    /// The label of the skip counter.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Missing(_) => "missing_attribute",
            SkipReason::InvalidCount(_) => "invalid_count",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Missing(key) => write!(f, "usage event without {key}"),
            SkipReason::InvalidCount(key) => {
                write!(f, "usage event whose {key} is not a token count")
            }
        }
    }
}

/// What `record` is worth: a Claude Code `api_request` event is a request,
/// a Codex or Gemini CLI usage event a session's response, anything else
/// no usage.
pub fn map(record: &LogRecord) -> Mapped {
    match record.text("event.name") {
        Some("codex.sse_event") => return codex_response(record),
        Some("gemini_cli.api_response") => return gemini_response(record),
        _ => {}
    }
    let claude = record.service() == Some(CLAUDE_CODE_SERVICE)
        || matches!(&record.body, Some(AnyValue::String(b)) if b == "claude_code.api_request");
    if !claude || record.event_name() != Some("api_request") {
        return Mapped::NoUsage;
    }
    match api_request(record) {
        Ok(request) => Mapped::Request(request),
        Err(reason) => Mapped::Skip(reason),
    }
}

/// Attribute `key` as a required string.
fn required(record: &LogRecord, key: &'static str) -> Result<String, SkipReason> {
    record
        .text(key)
        .map(str::to_owned)
        .ok_or(SkipReason::Missing(key))
}

/// Attribute `key` as a token count: an int, an int written as text
/// (Codex sends some counts as strings, and OTLP/JSON writes int64 so), or
/// a whole, non-negative double (an exporter that sends numbers as doubles).
fn count(record: &LogRecord, key: &'static str) -> Result<u64, SkipReason> {
    let n = match record.attribute(key) {
        Some(AnyValue::Int(n)) => *n,
        Some(AnyValue::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| SkipReason::InvalidCount(key))?,
        Some(AnyValue::Double(d)) if d.fract() == 0.0 && *d >= 0.0 => *d as i64,
        None => return Err(SkipReason::Missing(key)),
        Some(_) => return Err(SkipReason::InvalidCount(key)),
    };
    u64::try_from(n)
        .ok()
        .filter(|n| *n <= crate::collect::MAX_TOKENS)
        .ok_or(SkipReason::InvalidCount(key))
}

/// [`count`], 0 when the attribute is absent.
fn count_or_zero(record: &LogRecord, key: &'static str) -> Result<u64, SkipReason> {
    match count(record, key) {
        Err(SkipReason::Missing(_)) => Ok(0),
        other => other,
    }
}

/// `event.timestamp`, else the record's time.
fn event_time(record: &LogRecord) -> Option<jiff::Timestamp> {
    record
        .text("event.timestamp")
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .or_else(|| {
            let nanos = i128::from(record.time_unix_nano);
            (nanos > 0)
                .then(|| jiff::Timestamp::from_nanosecond(nanos).ok())
                .flatten()
        })
}

/// Codex's `codex.sse_event`: only kind `response.completed` is usage, and
/// Codex sends it twice per response, first with only its duration: the
/// one with `input_token_count` is the response's.
fn codex_response(record: &LogRecord) -> Mapped {
    if record.text("event.kind") != Some("response.completed")
        || record.attribute("input_token_count").is_none()
    {
        return Mapped::NoUsage;
    }
    // OpenAI semantics, as the rollout reader's: input includes the cached
    // tokens, output the reasoning. `tool_token_count` is input + output
    // (a total despite its name) and `cache_write_token_count` bills
    // nothing on OpenAI's rates: neither is added.
    let usage = (|| {
        let input = count(record, "input_token_count")?;
        let cached = count_or_zero(record, "cached_token_count")?;
        let output = count(record, "output_token_count")?;
        let reasoning = count_or_zero(record, "reasoning_token_count")?;
        Ok(Usage {
            input: input
                .checked_sub(cached)
                .ok_or(SkipReason::InvalidCount("cached_token_count"))?,
            cache_read: cached,
            output,
            reasoning: reasoning.min(output),
            ..Usage::default()
        })
    })();
    session_response(record, SessionAgent::Codex, "conversation.id", usage)
}

/// Gemini CLI's `gemini_cli.api_response`, in the chat log reader's terms:
/// `input_token_count` includes the cached tokens; the tool-use prompt is
/// input and the thoughts are output, both billed at those rates.
fn gemini_response(record: &LogRecord) -> Mapped {
    let usage = (|| {
        let input = count(record, "input_token_count")?;
        let cached = count_or_zero(record, "cached_content_token_count")?;
        let output = count(record, "output_token_count")?;
        let thoughts = count_or_zero(record, "thoughts_token_count")?;
        let tool = count_or_zero(record, "tool_token_count")?;
        let usage = Usage {
            input: input
                .checked_sub(cached)
                .ok_or(SkipReason::InvalidCount("cached_content_token_count"))?
                + tool,
            cache_read: cached,
            output: output + thoughts,
            reasoning: thoughts,
            ..Usage::default()
        };
        // Sums of two counts, each within the limit, may not be; the
        // count added is the one named.
        super::shapes::within_limits(usage, "api_response").map_err(|_| {
            SkipReason::InvalidCount(if usage.input > crate::collect::MAX_TOKENS {
                "tool_token_count"
            } else {
                "thoughts_token_count"
            })
        })
    })();
    session_response(record, SessionAgent::GeminiCli, "session.id", usage)
}

fn session_response(
    record: &LogRecord,
    agent: SessionAgent,
    session_key: &'static str,
    usage: Result<Usage, SkipReason>,
) -> Mapped {
    let response = (|| {
        let usage = usage?;
        let session_id = required(record, session_key)?;
        let model = required(record, "model")?;
        let stamp = record.text("event.timestamp").unwrap_or_default();
        let key = format!(
            "otel:{}:{session_id}:{stamp}:{}:{}",
            agent.agent_id(),
            usage.prompt_tokens(),
            usage.output
        );
        Ok(SessionResponse {
            agent,
            key,
            session_id,
            model,
            usage,
            timestamp: event_time(record),
        })
    })();
    match response {
        Ok(response) => Mapped::Response(response),
        Err(reason) => Mapped::Skip(reason),
    }
}

fn api_request(record: &LogRecord) -> Result<ApiRequest, SkipReason> {
    let text = |key: &'static str| required(record, key);
    let count = |key: &'static str| count(record, key);
    let usage = Usage {
        input: count("input_tokens")?,
        output: count("output_tokens")?,
        cache_read: count("cache_read_tokens")?,
        cache_write: count("cache_creation_tokens")?,
        ..Usage::default()
    };
    let reported_cost_usd = match record.attribute("cost_usd") {
        Some(AnyValue::Double(d)) => Some(*d),
        Some(AnyValue::Int(n)) => Some(*n as f64),
        _ => None,
    }
    .filter(|c| c.is_finite() && *c >= 0.0);
    let timestamp = event_time(record);
    Ok(ApiRequest {
        request_id: text("request_id")?,
        session_id: text("session.id")?,
        prompt_id: record.text("prompt.id").map(str::to_owned),
        model: text("model")?,
        usage,
        billing: Billing {
            fast: record.text("speed") == Some("fast"),
            ..Billing::default()
        },
        reported_cost_usd,
        timestamp,
    })
}

/// The idempotency key of a record made from an event before any
/// transcript line of its request: `cc:<session>::<request id>`, the
/// transcript's key with the message id it cannot know left empty. The
/// transcript line that arrives later gives the record its own key.
pub fn event_key(request: &ApiRequest) -> String {
    format!("cc:{}::{}", request.session_id, request.request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AnyValue {
        AnyValue::String(v.into())
    }

    fn api_request_record() -> LogRecord {
        let attrs = [
            ("session.id", s("sess-1")),
            ("event.name", s("api_request")),
            ("event.timestamp", s("2026-12-06T16:24:34.608Z")),
            ("prompt.id", s("prompt-1")),
            ("model", s("claude-haiku-4-5")),
            ("input_tokens", AnyValue::Int(1200)),
            ("output_tokens", AnyValue::Int(9)),
            ("cache_read_tokens", AnyValue::Int(0)),
            ("cache_creation_tokens", s("3100")),
            ("cost_usd", AnyValue::Double(0.00512)),
            ("request_id", s("req_1")),
        ];
        LogRecord {
            time_unix_nano: 1_796_574_274_608_000_000,
            body: Some(s("claude_code.api_request")),
            attributes: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            resource: vec![("service.name".into(), s("claude-code"))],
        }
    }

    #[test]
    fn an_api_request_event_is_a_request_with_its_counts_and_cost() {
        let Mapped::Request(r) = map(&api_request_record()) else {
            panic!("not a request");
        };
        assert_eq!(r.request_id, "req_1");
        assert_eq!(r.session_id, "sess-1");
        assert_eq!(r.prompt_id.as_deref(), Some("prompt-1"));
        assert_eq!(r.model, "claude-haiku-4-5");
        assert_eq!(
            (r.usage.input, r.usage.output, r.usage.cache_read),
            (1200, 9, 0)
        );
        assert_eq!((r.usage.cache_write, r.usage.cache_write_1h), (3100, 0));
        assert_eq!(r.reported_cost_usd, Some(0.00512));
        assert_eq!(r.timestamp.unwrap().to_string(), "2026-12-06T16:24:34.608Z");
        assert_eq!(event_key(&r), "cc:sess-1::req_1");
    }

    #[test]
    fn other_events_are_no_usage_and_missing_attributes_a_skip() {
        let mut other = api_request_record();
        other.attributes[1].1 = s("user_prompt");
        other.body = Some(s("claude_code.user_prompt"));
        assert_eq!(map(&other), Mapped::NoUsage);
        let mut foreign = api_request_record();
        foreign.resource = vec![("service.name".into(), s("codex_exec"))];
        foreign.body = None;
        assert_eq!(map(&foreign), Mapped::NoUsage);
        for key in ["request_id", "session.id", "model", "output_tokens"] {
            let mut r = api_request_record();
            r.attributes.retain(|(k, _)| k != key);
            assert_eq!(map(&r), Mapped::Skip(SkipReason::Missing(key)));
        }
        let mut negative = api_request_record();
        negative.attributes[5].1 = AnyValue::Int(-1);
        assert_eq!(
            map(&negative),
            Mapped::Skip(SkipReason::InvalidCount("input_tokens"))
        );
    }

    #[test]
    fn without_event_timestamp_the_record_time_stands_in() {
        let mut r = api_request_record();
        r.attributes.retain(|(k, _)| k != "event.timestamp");
        let Mapped::Request(r) = map(&r) else {
            panic!("not a request")
        };
        assert_eq!(r.timestamp.unwrap().to_string(), "2026-12-06T16:24:34.608Z");
    }

    fn record(attrs: Vec<(&str, AnyValue)>, service: &str) -> LogRecord {
        LogRecord {
            time_unix_nano: 0,
            body: None,
            attributes: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            resource: vec![("service.name".into(), s(service))],
        }
    }

    /// The two `response.completed` events of one response, as the real
    /// Codex 0.171.0 sent them (tests/fixtures/otel/codex/text).
    fn codex_completed() -> (LogRecord, LogRecord) {
        let common = || {
            vec![
                ("event.name", s("codex.sse_event")),
                ("event.kind", s("response.completed")),
                ("event.timestamp", s("2026-12-06T16:24:38.708Z")),
                ("conversation.id", s("01a24c2b-f3a9-7983-81f4-e0d7c3bc6c90")),
                ("model", s("gpt-5.1-codex")),
            ]
        };
        let mut first = common();
        first.push(("duration_ms", s("0")));
        let mut counted = common();
        counted.extend([
            ("input_token_count", s("2300")),
            ("output_token_count", s("40")),
            ("cached_token_count", AnyValue::Int(1920)),
            ("cache_write_token_count", AnyValue::Int(0)),
            ("reasoning_token_count", AnyValue::Int(16)),
            ("tool_token_count", s("2340")),
        ]);
        (record(first, "codex_exec"), record(counted, "codex_exec"))
    }

    #[test]
    fn codex_counts_only_the_completed_event_with_counts_in_openai_terms() {
        let (first, counted) = codex_completed();
        assert_eq!(map(&first), Mapped::NoUsage);
        let Mapped::Response(r) = map(&counted) else {
            panic!("not a response");
        };
        assert_eq!(r.agent, SessionAgent::Codex);
        assert_eq!(r.session_id, "01a24c2b-f3a9-7983-81f4-e0d7c3bc6c90");
        assert_eq!(r.model, "gpt-5.1-codex");
        // 2300 in, of which 1920 cached; 40 out, of which 16 reasoning;
        // the tool "count" (a total) adds nothing.
        let u = r.usage;
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (380, 1920, 40, 16)
        );
        assert_eq!((u.cache_write, u.cache_write_1h), (0, 0));
        assert_eq!(r.timestamp.unwrap().to_string(), "2026-12-06T16:24:38.708Z");
        assert_eq!(
            r.key,
            "otel:codex:01a24c2b-f3a9-7983-81f4-e0d7c3bc6c90:2026-12-06T16:24:38.708Z:2300:40"
        );
        let mut delta = counted.clone();
        delta.attributes[1].1 = s("response.output_text.delta");
        assert_eq!(map(&delta), Mapped::NoUsage);
    }

    #[test]
    fn gemini_api_response_in_the_chat_readers_terms() {
        // As the real Gemini CLI 0.61.0 sent it (tests/fixtures/otel/gemini/tool).
        let attrs = vec![
            ("session.id", s("78d711bc-672f-4900-ad45-80152177ab31")),
            ("event.name", s("gemini_cli.api_response")),
            ("event.timestamp", s("2026-12-06T16:24:42.961Z")),
            ("model", s("gemini-2.5-pro")),
            ("input_token_count", AnyValue::Int(2300)),
            ("output_token_count", AnyValue::Int(25)),
            ("cached_content_token_count", AnyValue::Int(1900)),
            ("thoughts_token_count", AnyValue::Int(16)),
            ("tool_token_count", AnyValue::Int(4)),
            ("total_token_count", AnyValue::Int(2341)),
            ("prompt_id", s("78d711bc-672f-4900-ad45-80152177ab31")),
        ];
        let Mapped::Response(r) = map(&record(attrs, "gemini-cli")) else {
            panic!("not a response");
        };
        assert_eq!(r.agent, SessionAgent::GeminiCli);
        assert_eq!(r.agent.agent_id(), "gemini-cli");
        assert_eq!(r.session_id, "78d711bc-672f-4900-ad45-80152177ab31");
        let u = r.usage;
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (404, 1900, 41, 16)
        );
    }

    #[test]
    fn a_session_usage_event_without_what_a_record_needs_is_a_skip() {
        let (_, counted) = codex_completed();
        for key in ["conversation.id", "model", "output_token_count"] {
            let mut r = counted.clone();
            r.attributes.retain(|(k, _)| k != key);
            assert_eq!(map(&r), Mapped::Skip(SkipReason::Missing(key)));
        }
        let mut more_cached = counted.clone();
        for (k, v) in &mut more_cached.attributes {
            if k == "cached_token_count" {
                *v = AnyValue::Int(5000);
            }
        }
        assert_eq!(
            map(&more_cached),
            Mapped::Skip(SkipReason::InvalidCount("cached_token_count"))
        );
        let mut text = counted;
        for (k, v) in &mut text.attributes {
            if k == "input_token_count" {
                *v = s("many");
            }
        }
        assert_eq!(
            map(&text),
            Mapped::Skip(SkipReason::InvalidCount("input_token_count"))
        );
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = AnyValue> {
        use proptest::prelude::*;
        prop_oneof![
            any::<i64>().prop_map(AnyValue::Int),
            (0i64..5000).prop_map(AnyValue::Int),
            (0i64..5000).prop_map(|n| s(&n.to_string())),
            ".{0,6}".prop_map(|t| s(&t)),
            any::<f64>().prop_map(AnyValue::Double),
            Just(AnyValue::Other),
        ]
    }

    proptest::proptest! {
        /// Any attributes of a Codex or Gemini CLI usage event get an
        /// answer, and a response's counts are the event's: its prompt
        /// (input and cache read) is the input count as sent (Gemini adds
        /// the tool-use prompt), its output at least its reasoning.
        #[test]
        fn session_usage_events_are_total_and_keep_the_counts(
            codex in proptest::bool::ANY,
            values in proptest::collection::vec(any_value(), 6),
            drop in proptest::option::of(0usize..6),
        ) {
            let keys: [&str; 6] = if codex {
                ["input_token_count", "output_token_count", "cached_token_count",
                 "reasoning_token_count", "tool_token_count", "cache_write_token_count"]
            } else {
                ["input_token_count", "output_token_count", "cached_content_token_count",
                 "thoughts_token_count", "tool_token_count", "total_token_count"]
            };
            let mut attrs = if codex {
                vec![
                    ("event.name", s("codex.sse_event")),
                    ("event.kind", s("response.completed")),
                    ("conversation.id", s("c")),
                ]
            } else {
                vec![("event.name", s("gemini_cli.api_response")), ("session.id", s("g"))]
            };
            attrs.push(("model", s("m")));
            for (i, (key, value)) in keys.iter().zip(values).enumerate() {
                if drop != Some(i) {
                    attrs.push((key, value));
                }
            }
            let record = record(attrs, "any");
            // A count as sent: an int, digits, or a whole double (-0.0 too).
            let as_sent = |key: &str| match record.attribute(key) {
                Some(AnyValue::Int(n)) => Some(*n as u64),
                Some(AnyValue::String(t)) => t.parse().ok(),
                Some(AnyValue::Double(d)) if d.fract() == 0.0 && *d >= 0.0 => Some(*d as u64),
                _ => None,
            };
            match map(&record) {
                Mapped::Response(r) => {
                    let tool = if codex { 0 } else { as_sent("tool_token_count").unwrap_or(0) };
                    proptest::prop_assert_eq!(
                        Some(r.usage.input + r.usage.cache_read),
                        as_sent("input_token_count").map(|n| n + tool)
                    );
                    proptest::prop_assert!(r.usage.reasoning <= r.usage.output);
                }
                Mapped::Skip(_) => {}
                Mapped::NoUsage => proptest::prop_assert!(codex),
                Mapped::Request(_) => proptest::prop_assert!(false, "not Claude Code's"),
            }
        }
    }
}
