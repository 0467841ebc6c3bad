//! Arbitrary bytes through the decoding every source shares
//! (`Decoder::decode`: bytes -> JSON -> envelope -> collector), the pricing
//! of what it accepts, the Claude Code transcript line parser and the Codex
//! rollout reader.
//!
//! Property: nothing panics, and the invariants the product documents hold
//! (see README.md for the list).

#![no_main]

use std::sync::OnceLock;

use hookmeter::collect::codex::{no_usage_kind, CodexLine, CodexSkip, Rollout};
use hookmeter::collect::transcript::{
    merge_tool_names, parse_line, parse_line_full, TranscriptLine,
};
use hookmeter::collect::{Billing, Usage, UsageLimits, MAX_TOKENS};
use hookmeter::ingest::Decoder;
use hookmeter::pricing::PriceTable;
use hookmeter::record::{HookEvent, Source};
use hookmeter::store::redact::{PayloadPolicy, DEFAULT_PAYLOAD_LIMIT};
use libfuzzer_sys::fuzz_target;

/// Parsing the embedded table costs far more than one input: built once.
fn prices() -> &'static PriceTable {
    static PRICES: OnceLock<PriceTable> = OnceLock::new();
    PRICES.get_or_init(PriceTable::embedded)
}

fn received_at() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_000_000).unwrap()
}

fn decoder(policy: PayloadPolicy, payload_bytes: usize) -> Decoder {
    Decoder {
        policy,
        payload_bytes,
        source: Source::Hook,
        edge: "socket",
        usage_limits: UsageLimits::default(),
    }
}

/// A priced call: finite, never negative, and never cheaper with one more
/// output token (the tier is chosen by prompt tokens, so it cannot change).
/// Priced at the entries' undated rates (no time given).
fn check_price(model: &str, usage: &Usage, billing: &Billing) {
    let priced = prices().price(model, usage, billing, None);
    assert!(
        priced.cost_usd.is_finite() && priced.cost_usd >= 0.0,
        "cost {} for {model:?} {usage:?}",
        priced.cost_usd
    );
    let more = Usage {
        output: usage.output + 1,
        ..*usage
    };
    let more_cost = prices().price(model, &more, billing, None).cost_usd;
    assert!(
        more_cost >= priced.cost_usd,
        "one more output token made {model:?} cheaper: {more_cost} < {}",
        priced.cost_usd
    );
}

fn check_usage(usage: &Usage) {
    for count in [
        usage.input,
        usage.cache_read,
        usage.cache_write,
        usage.cache_write_1h,
        usage.output,
        usage.reasoning,
    ] {
        assert!(count <= MAX_TOKENS, "count over MAX_TOKENS: {usage:?}");
    }
}

/// The stored timestamp format: RFC 3339 UTC with milliseconds, which reads
/// back as a timestamp.
fn check_timestamp(text: &str) {
    assert!(
        text.ends_with('Z') && text.parse::<jiff::Timestamp>().is_ok(),
        "bad stored timestamp {text:?}"
    );
}

fn check_event(event: &HookEvent) {
    assert!(!event.hook_event_id.is_empty());
    assert!(!event.agent_id.is_empty());
    check_timestamp(&event.received_at);
    check_timestamp(&event.timestamp);
    if let Some(labels) = &event.labels_json {
        let value: serde_json::Value = serde_json::from_str(labels).expect("labels are JSON");
        assert!(value.is_object());
    }
    if let Some(charge) = &event.charge {
        check_usage(&charge.usage);
        // Nothing over the per-call limits is ever priced.
        assert_eq!(UsageLimits::default().refusal(&charge.usage), None);
        let model = event.model.as_deref().unwrap_or("unknown");
        check_price(model, &charge.usage, &charge.billing);
        if let Some(cost) = charge.reported_cost_usd {
            assert!(cost.is_finite() && cost >= 0.0, "reported cost {cost}");
        }
        assert!(matches!(charge.service.as_str(), "llm" | "tool" | "infra"));
    }
}

/// Everything but the stored payload, which is all a policy changes.
fn without_payload(event: &HookEvent) -> String {
    let mut event = event.clone();
    event.payload_json = None;
    format!("{event:?}")
}

fn check_decode(bytes: &[u8]) {
    let at = received_at();
    // A small cap proportional to the input makes most payloads take the
    // truncation path, at every size.
    let small = bytes.len() / 2;
    let full = decoder(PayloadPolicy::Full, DEFAULT_PAYLOAD_LIMIT).decode(bytes, None, at);
    let results = [
        decoder(PayloadPolicy::None, DEFAULT_PAYLOAD_LIMIT).decode(bytes, None, at),
        decoder(PayloadPolicy::Truncated, DEFAULT_PAYLOAD_LIMIT).decode(bytes, None, at),
        decoder(PayloadPolicy::Truncated, small).decode(bytes, None, at),
    ];
    match &full {
        Err(rejection) => {
            assert_eq!(rejection.raw_text, String::from_utf8_lossy(bytes));
            assert!(!rejection.reason.is_empty());
            assert_eq!(rejection.source, "socket");
            check_timestamp(&rejection.received_at);
            for other in &results {
                let other = other.as_ref().expect_err("only some policies rejected");
                assert_eq!(other.code, rejection.code);
                assert_eq!(other.reason, rejection.reason);
            }
        }
        Ok(event) => {
            check_event(event);
            let full_json = event.payload_json.as_deref().expect("full keeps a payload");
            serde_json::from_str::<serde_json::Value>(full_json).expect("stored payload is JSON");
            let [none, default, truncated] = &results;
            let none = none.as_ref().expect("only some policies accepted");
            assert_eq!(none.payload_json, None);
            for (other, limit) in [(default, DEFAULT_PAYLOAD_LIMIT), (truncated, small)] {
                let other = other.as_ref().expect("only some policies accepted");
                if let Some(stored) = &other.payload_json {
                    assert!(
                        stored.len() <= limit,
                        "stored {} bytes over the limit of {limit}",
                        stored.len()
                    );
                    serde_json::from_str::<serde_json::Value>(stored)
                        .expect("a truncated payload is still JSON");
                }
                if full_json.len() <= limit {
                    assert_eq!(other.payload_json.as_deref(), Some(full_json));
                }
            }
            for other in [none, default.as_ref().unwrap(), truncated.as_ref().unwrap()] {
                assert_eq!(without_payload(other), without_payload(event));
            }
        }
    }
}

fn check_transcript_line(line: &[u8]) {
    let parsed = parse_line(line);
    // The skeleton fast path and the full parse may differ only in speed.
    assert_eq!(
        parsed,
        parse_line_full(line),
        "skeleton and full parse disagree on {:?}",
        String::from_utf8_lossy(line)
    );
    let TranscriptLine::Usage(usage) = parsed else {
        return;
    };
    assert!(usage.key.starts_with("cc:"), "key {:?}", usage.key);
    assert!(!usage.session_id.is_empty() && !usage.message_id.is_empty());
    check_usage(&usage.usage);
    check_price(&usage.model, &usage.usage, &usage.billing);
    if let Some(cost) = usage.reported_cost_usd {
        assert!(cost.is_finite() && cost >= 0.0, "reported cost {cost}");
    }
    assert_eq!(usage.sidechain, usage.agent_id.is_some());
    // Tool names are stored comma-joined: none may hold a comma or repeat,
    // and joining them again changes nothing.
    for (i, name) in usage.tool_names.iter().enumerate() {
        assert!(!name.contains(','), "tool name with a comma: {name:?}");
        assert!(
            !usage.tool_names[..i].contains(name),
            "repeated tool {name:?}"
        );
    }
    let joined = merge_tool_names("", &usage.tool_names);
    assert_eq!(merge_tool_names(&joined, &usage.tool_names), joined);
    // A snapshot merged with itself is itself.
    let mut merged = usage.clone();
    merged.merge(&usage);
    assert_eq!(merged, usage);
}

/// The same lines as a Codex rollout: the fast paths (the kind told from
/// the first bytes, the skeleton) and the full parse give the same answers
/// and leave the same state, line after line, except on a line told from
/// its first bytes that is no JSON object of that kind past them (cut, or
/// its `type` repeated): that one is "no usage" and changes nothing.
fn check_rollout(bytes: &[u8]) {
    let mut fast = Rollout::new();
    let mut full = Rollout::new();
    for line in bytes.split(|&b| b == b'\n') {
        let before = fast.clone();
        let (a, b) = (fast.read_line(line), full.read_line_full(line));
        if let Some((kind, item)) = no_usage_kind(line) {
            assert_eq!(a, CodexLine::Skip(CodexSkip::NoUsage));
            assert_eq!(fast, before);
            let parsed = serde_json::from_slice::<serde_json::Value>(line).ok();
            let as_told = parsed.as_ref().is_some_and(|v| {
                v.get("type").and_then(|t| t.as_str()) == Some(kind)
                    && (item.is_none()
                        || v.get("payload").and_then(|p| p.get("type")).and_then(|t| t.as_str())
                            == item)
            });
            if !as_told {
                full = fast.clone();
                continue;
            }
        }
        assert_eq!(
            a,
            b,
            "fast paths and full parse disagree on rollout line {:?}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(fast, full);
    }
}

fuzz_target!(|bytes: &[u8]| {
    check_decode(bytes);
    // The same bytes as transcript lines: whole, and split on newlines as the
    // tail reads a file.
    check_transcript_line(bytes);
    if bytes.contains(&b'\n') {
        for line in bytes.split(|&b| b == b'\n') {
            check_transcript_line(line);
        }
    }
    check_rollout(bytes);
});
