//! Ingest: the edges where events arrive (Unix socket, spool directory,
//! `POST /hook`) and the one decoding step every source shares: bytes ->
//! [`HookEvent`] or [`Rejection`]. Sources own framing, limits and acks;
//! they never write to the database themselves, only through the writer.
//! The envelope `hookmeter send` writes and Claude Code's deny answer
//! ([`deny_decision`]) are defined here, where both the hook client and
//! `POST /hook` find them without importing each other.
//!
//! For users: docs/ingest.md.

pub mod codex;
pub mod fork;
pub mod gemini;
pub mod http;
pub mod import;
pub mod opencode;
pub mod otlp;
pub mod socket;
pub mod spool;
pub mod statusline;
pub mod transcript;
pub mod watch;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::collect::{collect, UsageFinding, UsageLimits};
use crate::record::{
    format_timestamp, Charge, HookEvent, RejectCode, Rejection, Source, TranscriptHint,
};
use crate::store::redact::{stored_payload, PayloadPolicy};

/// The envelope version `hookmeter send` writes.
pub const ENVELOPE_VERSION: u64 = 1;

/// Claude Code's answer to a PreToolUse hook that refuses the tool use:
/// what `hookmeter send` prints and `POST /hook` answers for a spent
/// enforced budget. Here, beside the envelope both speak, so that neither
/// edge imports the other.
pub fn deny_decision(reason: &str) -> String {
    serde_json::json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    })
    .to_string()
}

/// Turns received bytes into an event, the same way for every source.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// How much of each payload reaches the disk.
    pub policy: PayloadPolicy,
    /// Size cap under the truncated policy.
    pub payload_bytes: usize,
    /// `source` of the rows this decoder produces.
    pub source: Source,
    /// `source` of `rejected_events` rows: names the edge, e.g. `socket`.
    pub edge: &'static str,
    /// Per-call token ceilings: a usage over them is rejected, not priced,
    /// whichever edge it came through.
    pub usage_limits: UsageLimits,
}

/// Where in a source a piece of input sat, for error messages and `rejected_events.origin`.
pub type Origin = Option<String>;

/// Envelope fields an edge received beside the bytes (the HTTP headers
/// `X-Hookmeter-Agent`, `X-Hookmeter-Task`). An envelope in the bytes
/// themselves is more specific and wins; both win over the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeFields {
    pub agent_id: Option<String>,
    pub task_id: Option<String>,
}

impl Decoder {
    /// Decodes one event. `received_at` is when the edge got the bytes.
    pub fn decode(
        &self,
        bytes: &[u8],
        origin: Origin,
        received_at: jiff::Timestamp,
    ) -> Result<HookEvent, Rejection> {
        self.decode_with(bytes, origin, received_at, &EnvelopeFields::default())
    }

    /// [`Decoder::decode`], with envelope fields given beside the bytes.
    pub fn decode_with(
        &self,
        bytes: &[u8],
        origin: Origin,
        received_at: jiff::Timestamp,
        given: &EnvelopeFields,
    ) -> Result<HookEvent, Rejection> {
        let received = format_timestamp(received_at);
        let reject = |code: RejectCode, reason: String| Rejection {
            received_at: received.clone(),
            source: self.edge,
            origin: origin.clone(),
            reason,
            code,
            raw_text: String::from_utf8_lossy(bytes).into_owned(),
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            reject(
                RejectCode::NotUtf8,
                format!(
                    "input is not valid UTF-8 (bad byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| reject(RejectCode::NotJson, format!("input is not valid JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(reject(
                RejectCode::NotObject,
                format!("expected a JSON object, got {}", json_kind(&value)),
            ));
        };

        let envelope = if object.contains_key("hookmeter") {
            let envelope =
                Envelope::open(&mut object).map_err(|e| reject(RejectCode::BadEnvelope, e))?;
            Some(envelope)
        } else {
            None
        };
        let payload = match &envelope {
            Some(env) => &env.payload,
            None => &Value::Object(object),
        };

        let found = collect(payload);
        let usage = match found.usage {
            UsageFinding::Absent => None,
            UsageFinding::Found(usage) => match self.usage_limits.refusal(&usage) {
                None => Some(usage),
                Some(reason) => return Err(reject(RejectCode::ImplausibleUsage, reason)),
            },
            UsageFinding::Invalid(reason) => {
                return Err(reject(
                    RejectCode::InvalidUsage,
                    format!("usage cannot be trusted: {reason}"),
                ))
            }
        };
        let hook_event_id = found.event_id.clone().unwrap_or_else(|| {
            let occurrence = envelope.as_ref().and_then(|e| e.occurrence.as_deref());
            payload_hash(payload, occurrence)
        });
        let env_str = |pick: fn(&Envelope) -> &Option<String>| {
            envelope.as_ref().and_then(|e| pick(e).clone())
        };
        let agent_id = env_str(|e| &e.agent_id)
            .or_else(|| given.agent_id.clone())
            .or(found.agent_id)
            .unwrap_or_else(|| "unknown".to_string());
        let task_id = env_str(|e| &e.task_id)
            .or_else(|| given.task_id.clone())
            .or_else(|| string_field(payload, "task_id"));
        let timestamp = found
            .timestamp
            .or(envelope.as_ref().and_then(|e| e.received_at))
            .unwrap_or(received_at);
        let paths: Vec<String> = [&found.transcript_path, &found.agent_transcript_path]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let transcripts = (!paths.is_empty()).then_some(TranscriptHint {
            paths,
            ends_watch: matches!(
                found.event_name.as_deref(),
                Some("Stop" | "SubagentStop" | "SessionEnd")
            ),
            log: match (found.from_codex, found.from_gemini) {
                (true, _) => crate::record::AgentLog::Codex,
                (false, true) => crate::record::AgentLog::Gemini,
                (false, false) => crate::record::AgentLog::ClaudeCode,
            },
        });
        let charge = (usage.is_some() || found.reported_cost_usd.is_some()).then(|| Charge {
            usage: usage.unwrap_or_default(),
            billing: found.billing.clone(),
            reported_cost_usd: found.reported_cost_usd,
            service: found.service.clone().unwrap_or_else(|| "llm".to_string()),
        });

        let reported = statusline::report(found.event_name.as_deref(), payload);
        Ok(HookEvent {
            hook_event_id,
            received_at: received,
            timestamp: format_timestamp(timestamp),
            event_name: found.event_name,
            session_id: found.session_id,
            tool_name: found.tool_name,
            agent_id,
            task_id,
            prompt_id: found.prompt_id,
            project: found.cwd.as_deref().and_then(project_of),
            model: found.model,
            source: self.source,
            labels_json: envelope.as_ref().and_then(|e| e.labels_json()),
            payload_json: stored_payload(payload, self.policy, self.payload_bytes),
            charge,
            transcripts,
            reported,
        })
    }
}

/// What `hookmeter send` wraps around a payload (docs/hook-protocol.md#the-envelope).
struct Envelope {
    received_at: Option<jiff::Timestamp>,
    /// `received_at` as written, when the envelope says it is `distinct`:
    /// it tells this occurrence of the payload from an identical one sent
    /// at another moment (two Stops of one session are byte-identical).
    occurrence: Option<String>,
    agent_id: Option<String>,
    task_id: Option<String>,
    labels: Map<String, Value>,
    host: Option<String>,
    payload: Value,
}

impl Envelope {
    /// Takes the envelope apart; an envelope without a usable payload is
    /// rejected (the caller keeps the whole text, so nothing is lost).
    fn open(object: &mut Map<String, Value>) -> Result<Envelope, String> {
        match object.get("hookmeter").and_then(Value::as_u64) {
            Some(ENVELOPE_VERSION) => {}
            _ => {
                return Err(format!(
                    "unsupported envelope: \"hookmeter\" must be {ENVELOPE_VERSION}"
                ))
            }
        }
        let take_string = |object: &mut Map<String, Value>, key: &str| match object.remove(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let payload = match object.remove("payload") {
            Some(payload @ Value::Object(_)) => payload,
            Some(other) => {
                return Err(format!(
                    "envelope payload must be a JSON object, got {}",
                    json_kind(&other)
                ))
            }
            None if object.get("payload_truncated") == Some(&Value::Bool(true)) => {
                return Err("hook input exceeded hookmeter send's stdin limit and was cut; its first part is kept here".into())
            }
            None if object.contains_key("payload_raw") => {
                return Err("hook input was not valid JSON; it is kept verbatim here".into())
            }
            None => return Err("envelope has no payload".into()),
        };
        let labels = match object.remove("labels") {
            Some(Value::Object(labels)) => labels,
            _ => Map::new(),
        };
        // Only envelopes that say so: an older `send` wrote `received_at`
        // too, and an event it spooled may already be stored under the id of
        // its payload alone, which a redelivery must keep.
        let distinct = object.remove("distinct") == Some(Value::Bool(true));
        let received_at = take_string(object, "received_at");
        Ok(Envelope {
            occurrence: received_at.clone().filter(|_| distinct),
            received_at: received_at.and_then(|s| s.parse().ok()),
            agent_id: take_string(object, "agent_id"),
            task_id: take_string(object, "task_id"),
            host: take_string(object, "host"),
            labels,
            payload,
        })
    }

    /// Labels as stored: the envelope's labels plus the sending host.
    fn labels_json(&self) -> Option<String> {
        let mut labels = self.labels.clone();
        if let Some(host) = &self.host {
            labels
                .entry("host")
                .or_insert_with(|| Value::String(host.clone()));
        }
        (!labels.is_empty()).then(|| Value::Object(labels).to_string())
    }
}

/// Identity of an event that names none: a hash of its canonical JSON
/// (keys sorted), so the same payload redelivered, raw or in an envelope,
/// is the same event. Everything in the payload counts, Claude Code's
/// `prompt_id` among it, so events of two prompts differ.
///
/// With an `occurrence` (a `distinct` envelope's `received_at`, fixed once
/// per `hookmeter send`), it is hashed too: identical payloads sent by two
/// `send` runs are two events, and the same envelope redelivered is one.
/// Without one the hash is exactly what it always was, so ids of stored
/// events and of older envelopes still waiting in a spool do not change.
fn payload_hash(payload: &Value, occurrence: Option<&str>) -> String {
    let canonical = serde_json::to_vec(payload).unwrap_or_default();
    let mut hasher = Sha256::new();
    if let Some(at) = occurrence {
        // A prefix no JSON text starts with: an occurrence's hash cannot
        // equal a bare payload's.
        hasher.update(b"\0occurrence\0");
        hasher.update(at.as_bytes());
        hasher.update(b"\0");
    }
    hasher.update(&canonical);
    let digest = hasher.finalize();
    let mut id = String::with_capacity(7 + 32);
    id.push_str("sha256:");
    for byte in &digest[..16] {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

fn string_field(payload: &Value, key: &str) -> Option<String> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The project an event belongs to: the last component of its working directory.
pub(crate) fn project_of(cwd: &str) -> Option<String> {
    cwd.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

/// What kind of JSON value this is, as an error message names it ("an array").
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The next connection a listener accepts, or `None` once `shutdown` fires.
/// A failed accept (usually EMFILE: out of file descriptors) is logged and
/// retried after a pause instead of spinning on the error. Shared by the
/// socket and HTTP servers; `what` names the listener in the log.
pub async fn next_connection<S, A, F>(
    shutdown: &tokio_util::sync::CancellationToken,
    what: &str,
    mut accept: impl FnMut() -> F,
) -> Option<S>
where
    F: std::future::Future<Output = std::io::Result<(S, A)>>,
{
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => return Some(stream),
            Err(e) => {
                tracing::warn!(error = %e, "Could not accept {what} connection.");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder() -> Decoder {
        Decoder {
            policy: PayloadPolicy::Truncated,
            payload_bytes: 4096,
            source: Source::Hook,
            edge: "socket",
            usage_limits: UsageLimits::default(),
        }
    }

    fn now() -> jiff::Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    /// Codex's PostModelRequest carries the response's usage; the event is
    /// kept (agent `codex`, its session and project) but never charged, and
    /// its rollout is handed on marked as a rollout.
    #[test]
    fn a_codex_payload_is_codex_s_uncharged_and_names_its_rollout() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/codex/hooks/04-PostModelRequest.json"
        );
        let bytes = std::fs::read(path).unwrap();
        let event = decoder().decode(&bytes, None, now()).unwrap();
        assert_eq!(event.agent_id, "codex");
        assert_eq!(event.event_name.as_deref(), Some("PostModelRequest"));
        assert_eq!(event.project.as_deref(), Some("project"));
        assert!(event.session_id.is_some());
        assert!(event.charge.is_none(), "{:?}", event.charge);
        let hint = event.transcripts.expect("the rollout is named");
        assert_eq!(hint.log, crate::record::AgentLog::Codex);
        assert!(hint.paths[0].contains("/sessions/"));
        let claude = br#"{"hook_event_name":"Stop","session_id":"s","transcript_path":"/h/.claude/projects/p/s.jsonl"}"#;
        let hint = decoder()
            .decode(claude, None, now())
            .unwrap()
            .transcripts
            .unwrap();
        assert_eq!(hint.log, crate::record::AgentLog::ClaudeCode);
    }

    #[test]
    fn raw_and_enveloped_payloads_are_the_same_event() {
        let raw = br#"{"hook_event_name":"build_finished","session_id":"s","message":"hi"}"#;
        let a = decoder().decode(raw, None, now()).unwrap();
        let env = format!(
            r#"{{"hookmeter":1,"received_at":"2026-11-23T09:00:00Z","agent_id":"a1","labels":{{"team":"x"}},"host":"h","payload":{}}}"#,
            std::str::from_utf8(raw).unwrap()
        );
        let b = decoder().decode(env.as_bytes(), None, now()).unwrap();
        assert_eq!(a.hook_event_id, b.hook_event_id);
        assert!(a.hook_event_id.starts_with("sha256:"));
        assert_eq!(a.agent_id, "unknown");
        assert_eq!(b.agent_id, "a1");
        assert_eq!(a.timestamp, "2026-11-23T10:00:00.000Z");
        assert_eq!(b.timestamp, "2026-11-23T09:00:00.000Z");
        assert_eq!(b.labels_json.as_deref(), Some(r#"{"host":"h","team":"x"}"#));
    }

    fn envelope(payload: &str, received_at: &str, distinct: bool) -> Vec<u8> {
        let distinct = if distinct { r#""distinct":true,"# } else { "" };
        format!(r#"{{"hookmeter":1,{distinct}"received_at":"{received_at}","payload":{payload}}}"#)
            .into_bytes()
    }

    fn id_of(bytes: &[u8]) -> String {
        decoder().decode(bytes, None, now()).unwrap().hook_event_id
    }

    const STOP: &str = r#"{"hook_event_name":"Stop","session_id":"s","transcript_path":"/t.jsonl","stop_hook_active":false}"#;

    #[test]
    fn each_send_is_its_own_occurrence_and_a_redelivery_is_not() {
        let first = envelope(STOP, "2026-11-23T09:00:00.001Z", true);
        let second = envelope(STOP, "2026-11-23T09:05:00.002Z", true);
        assert_ne!(id_of(&first), id_of(&second), "two sends, two events");
        assert_eq!(
            id_of(&first),
            id_of(&first.clone()),
            "a redelivery is the same event"
        );
        assert!(id_of(&first).starts_with("sha256:"));
        assert_eq!(id_of(&first).len(), "sha256:".len() + 32);
        // A bare payload has no occurrence: its id is what it always was.
        assert_ne!(id_of(&first), id_of(STOP.as_bytes()));
    }

    #[test]
    fn an_older_sends_envelope_keeps_the_id_of_its_payload() {
        // Envelopes without `distinct` were written by a `send` that predates
        // it; the event may already be stored under the payload's own hash.
        let old = envelope(STOP, "2026-11-23T09:00:00.001Z", false);
        let older = envelope(STOP, "2026-11-23T09:05:00.002Z", false);
        assert_eq!(id_of(&old), id_of(STOP.as_bytes()));
        assert_eq!(id_of(&older), id_of(STOP.as_bytes()));
        // The hash of a bare payload is pinned (`printf %s JSON | sha256sum`,
        // first 32 digits): ids of stored events must not move.
        assert_eq!(
            id_of(br#"{"hook_event_name":"Stop","session_id":"s"}"#),
            "sha256:41ba0f55b07ee2497aa46f4472ab5b43"
        );
    }

    #[test]
    fn prompt_id_tells_two_prompts_apart_and_tool_keys_stay() {
        let stop = |prompt: &str| {
            format!(r#"{{"hook_event_name":"Stop","session_id":"s","prompt_id":"{prompt}"}}"#)
        };
        let a = id_of(stop("p-1").as_bytes());
        assert_ne!(a, id_of(stop("p-2").as_bytes()));
        assert_eq!(a, id_of(stop("p-1").as_bytes()));
        // A tool use is unique: its key ignores the envelope's moment.
        let tool = r#"{"hook_event_name":"PostToolUse","session_id":"s","tool_use_id":"toolu_1","prompt_id":"p-1"}"#;
        assert_eq!(
            id_of(&envelope(tool, "2026-11-23T09:00:00.001Z", true)),
            "s:toolu_1:PostToolUse"
        );
        assert_eq!(
            id_of(&envelope(tool, "2026-11-23T09:05:00.002Z", true)),
            "s:toolu_1:PostToolUse"
        );
    }

    #[test]
    fn implausible_usage_is_rejected_with_the_numbers_and_the_setting() {
        let payload = |input: u64, output: u64| {
            format!(
                r#"{{"model":"claude-opus-4-1","usage":{{"input_tokens":{input},"output_tokens":{output}}}}}"#
            )
        };
        let at_limits = decoder()
            .decode(payload(10_000_000, 1_000_000).as_bytes(), None, now())
            .expect("exactly at the limits is priced");
        let charge = at_limits.charge.expect("a charge");
        assert_eq!(
            (charge.usage.input, charge.usage.output),
            (10_000_000, 1_000_000)
        );

        let over = decoder()
            .decode(payload(10_000_001, 1).as_bytes(), Some("l1".into()), now())
            .unwrap_err();
        assert_eq!(over.code, RejectCode::ImplausibleUsage);
        assert_eq!(over.code.as_str(), "implausible_usage");
        assert!(
            over.reason.contains("10000001 prompt tokens"),
            "{}",
            over.reason
        );
        assert!(over.reason.contains("max_prompt_tokens"), "{}", over.reason);
        assert_eq!(over.raw_text, payload(10_000_001, 1));

        let over = decoder()
            .decode(payload(1, 1_000_001).as_bytes(), None, now())
            .unwrap_err();
        assert_eq!(over.code, RejectCode::ImplausibleUsage);
        assert!(over.reason.contains("max_output_tokens"), "{}", over.reason);

        // The limits are the decoder's, as configured.
        let tight = Decoder {
            usage_limits: UsageLimits {
                max_prompt_tokens: 10,
                max_output_tokens: 10,
            },
            ..decoder()
        };
        assert!(tight
            .decode(payload(11, 1).as_bytes(), None, now())
            .is_err());
        assert!(tight
            .decode(payload(10, 10).as_bytes(), None, now())
            .is_ok());
    }

    #[test]
    fn given_fields_sit_between_the_envelope_and_the_payload() {
        let given = EnvelopeFields {
            agent_id: Some("from-header".into()),
            task_id: Some("t-header".into()),
        };
        let raw = br#"{"hook_event_name":"x","agent_id":"from-payload","task_id":"t-payload"}"#;
        let a = decoder().decode_with(raw, None, now(), &given).unwrap();
        assert_eq!(
            (a.agent_id.as_str(), a.task_id.as_deref()),
            ("from-header", Some("t-header"))
        );
        let env =
            br#"{"hookmeter":1,"agent_id":"from-envelope","payload":{"hook_event_name":"x"}}"#;
        let b = decoder().decode_with(env, None, now(), &given).unwrap();
        assert_eq!(
            (b.agent_id.as_str(), b.task_id.as_deref()),
            ("from-envelope", Some("t-header"))
        );
        let c = decoder().decode(raw, None, now()).unwrap();
        assert_eq!(c.agent_id, "from-payload");
    }

    #[test]
    fn unusable_input_is_rejected_with_a_reason_and_kept() {
        let cases: &[(&[u8], &str)] = &[
            (b"not json", "not valid JSON"),
            (b"[1,2]", "got an array"),
            (b"\xff\xfe{}", "not valid UTF-8"),
            (br#"{"hookmeter":1,"payload_raw":"oops"}"#, "not valid JSON"),
            (br#"{"hookmeter":2,"payload":{}}"#, "unsupported envelope"),
            (
                br#"{"model":"gpt-5","usage":{"input_tokens":-5,"output_tokens":1}}"#,
                "usage cannot be trusted",
            ),
        ];
        for (bytes, want) in cases {
            let r = decoder()
                .decode(bytes, Some("l1".into()), now())
                .unwrap_err();
            assert!(r.reason.contains(want), "{:?}: {}", bytes, r.reason);
            assert_eq!(r.raw_text, String::from_utf8_lossy(bytes));
            assert_eq!(r.origin.as_deref(), Some("l1"));
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let r = decoder().decode(deep.as_bytes(), None, now()).unwrap_err();
        assert!(r.reason.contains("recursion limit"), "{}", r.reason);
    }

    #[test]
    fn project_is_the_last_cwd_component() {
        assert_eq!(project_of("/home/dev/shop/").as_deref(), Some("shop"));
        assert_eq!(project_of("/"), None);
    }

    mod properties {
        use super::*;
        use crate::pricing::PriceTable;
        use proptest::prelude::*;

        /// JSON biased toward the keys the collector looks at, so usage
        /// objects with hostile values are common, not a rare accident.
        fn json() -> impl Strategy<Value = Value> {
            let key = prop_oneof![
                Just("usage".to_string()),
                Just("input_tokens".to_string()),
                Just("output_tokens".to_string()),
                Just("cache_read_input_tokens".to_string()),
                Just("prompt_tokens".to_string()),
                Just("model".to_string()),
                Just("payload".to_string()),
                Just("hookmeter".to_string()),
                Just("session_id".to_string()),
                Just("timestamp".to_string()),
                "[a-z_]{1,8}",
            ];
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                prop_oneof![
                    Just("gpt-5".to_string()),
                    Just("claude-opus-4-6".to_string()),
                    ".{0,12}"
                ]
                .prop_map(Value::String),
            ];
            leaf.prop_recursive(5, 64, 8, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(key.clone(), inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn any_json_decodes_or_is_kept_and_never_prices_below_zero(value in json()) {
                let bytes = serde_json::to_vec(&value).unwrap();
                let prices = PriceTable::embedded();
                match decoder().decode(&bytes, None, now()) {
                    Ok(event) => {
                        prop_assert!(!event.hook_event_id.is_empty());
                        if let Some(charge) = event.charge {
                            let model = event.model.as_deref().unwrap_or("unknown");
                            let priced = prices.price(model, &charge.usage, &charge.billing, None);
                            prop_assert!(priced.cost_usd.is_finite() && priced.cost_usd >= 0.0);
                            prop_assert!(charge.reported_cost_usd.is_none_or(|c| c >= 0.0));
                        }
                    }
                    Err(rejection) => {
                        prop_assert!(!rejection.reason.is_empty());
                        prop_assert_eq!(rejection.raw_text.as_bytes(), &bytes[..]);
                    }
                }
            }

            #[test]
            fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                let _ = decoder().decode(&bytes, None, now());
            }
        }
    }
}
