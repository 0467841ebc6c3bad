//! Where each provider puts token usage in a payload, and how its counts map
//! onto the normalized [`Usage`] (docs/usage.md#usage-shapes).
//!
//! Owns the search order of usage locations and the per-provider arithmetic.
//! Looks only at fixed paths, so it never walks a payload's depth, and never
//! panics: arithmetic is checked and a count the data contradicts is refused
//! with a reason rather than guessed at.

use serde_json::{Map, Value};

use super::numbers::{count, details, Field, MAX_TOKENS};
use super::{Usage, UsageFinding};
use crate::terms::Billing;

/// Nested usage objects in the order they are looked for
/// (docs/usage.md#where-usage-is-found).
///
/// The first that holds any count wins, so a hook that wraps a provider
/// response is read at its own `usage` before the wrapped one.
///
/// Not `tool_response.usage`: Claude Code's Agent tool reports there the
/// usage of the subagent's last API call, which the subagent's transcript
/// holds too (under its message and request id); read from the hook as
/// well, that call was counted twice (seen with Claude Code 2.1.197 in the
/// real-agent harness, tests/agents).
const NESTED_LOCATIONS: &[(&[&str], &str)] = &[
    (&["usage"], "usage"),
    (&["response", "usage"], "response.usage"),
    (&["message", "usage"], "message.usage"),
    (
        &["llm_response", "usageMetadata"],
        "llm_response.usageMetadata",
    ),
    (&["usageMetadata"], "usageMetadata"),
    (
        &["payload", "info", "last_token_usage"],
        "payload.info.last_token_usage",
    ),
];

/// Where OpenTelemetry GenAI attributes may sit: flat on the payload (a span
/// exported as one JSON object) or in its `attributes` object.
const OTEL_LOCATIONS: &[(&[&str], &str)] = &[(&[], ""), (&["attributes"], "attributes")];

/// What the usage search found, with the facts read from the same object.
/// The default is no usage at all.
#[derive(Default)]
pub(super) struct UsageSearch {
    /// The verdict on the payload's token counts.
    pub(super) finding: UsageFinding,
    /// The billing modifiers read beside the counts (see [`billing`]).
    pub(super) billing: Billing,
}

/// Looks for token usage in every known location, first found wins.
///
/// A location holding no count is passed over; a location holding a count the
/// collector refuses ends the search, because a later location is likely the
/// same call seen through a wrapper, and pricing that instead would hide the
/// problem.
pub(super) fn find_usage(payload: &Map<String, Value>) -> UsageSearch {
    for (path, name) in NESTED_LOCATIONS {
        let Some(object) = object_at(payload, path) else {
            continue;
        };
        match normalize(object, name) {
            Ok(None) => continue,
            Ok(Some(usage)) => {
                let parent = object_at(payload, &path[..path.len() - 1]);
                return UsageSearch {
                    finding: UsageFinding::Found(usage),
                    billing: billing(object, parent),
                };
            }
            Err(reason) => return invalid(reason),
        }
    }
    for (path, name) in OTEL_LOCATIONS {
        let Some(object) = object_at(payload, path) else {
            continue;
        };
        match opentelemetry(object, name) {
            Ok(None) => continue,
            Ok(Some(usage)) => {
                return UsageSearch {
                    finding: UsageFinding::Found(usage),
                    billing: Billing::standard(),
                }
            }
            Err(reason) => return invalid(reason),
        }
    }
    UsageSearch {
        finding: UsageFinding::Absent,
        billing: Billing::standard(),
    }
}

fn invalid(reason: String) -> UsageSearch {
    UsageSearch {
        finding: UsageFinding::Invalid(reason),
        billing: Billing::standard(),
    }
}

/// The billing modifiers of the call whose usage object is `usage`:
/// Anthropic writes `speed`, `service_tier` and `inference_geo` in the usage
/// object itself; OpenAI's Responses API writes `service_tier` on the
/// response that holds the usage (`parent`). Fast mode is only believed in
/// the usage object, where Anthropic puts it.
pub(super) fn billing(usage: &Map<String, Value>, parent: Option<&Map<String, Value>>) -> Billing {
    let text = |key: &str| {
        usage
            .get(key)
            .or_else(|| parent.and_then(|p| p.get(key)))
            .and_then(Value::as_str)
    };
    Billing::new(
        usage.get("speed").and_then(Value::as_str) == Some("fast"),
        text("service_tier"),
        text("inference_geo"),
    )
}

/// The object at `path`, when every step is an object.
pub(super) fn object_at<'v>(
    object: &'v Map<String, Value>,
    path: &[&str],
) -> Option<&'v Map<String, Value>> {
    path.iter()
        .try_fold(object, |current, key| current.get(*key)?.as_object())
}

fn has(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).is_some_and(|v| !v.is_null())
}

/// Picks the provider shape by the keys present and normalizes it.
///
/// Shapes are told apart by keys rather than by location, because providers
/// are proxied and re-wrapped: an OpenAI chat usage may arrive under
/// `message.usage`, a Gemini one under `usage`.
fn normalize(object: &Map<String, Value>, within: &str) -> Result<Option<Usage>, String> {
    let usage = if [
        "promptTokenCount",
        "candidatesTokenCount",
        "cachedContentTokenCount",
        "thoughtsTokenCount",
    ]
    .iter()
    .any(|k| has(object, k))
    {
        gemini(object, within)?
    } else if has(object, "prompt_tokens") || has(object, "completion_tokens") {
        openai(object, within, &OPENAI_CHAT)?
    } else if has(object, "cached_input_tokens") || has(object, "reasoning_output_tokens") {
        codex(object, within)?
    } else if has(object, "input_tokens_details") || has(object, "output_tokens_details") {
        openai(object, within, &OPENAI_RESPONSES)?
    } else {
        anthropic(object, within)?
    };
    usage.map(|u| within_limits(u, within)).transpose()
}

/// Anthropic Messages usage; also the shape of local and generic agents that
/// report plain `input_tokens`/`output_tokens`. Sums are not held to the
/// per-call limit here: callers pass the usage through [`within_limits`].
pub(super) fn anthropic(
    object: &Map<String, Value>,
    within: &str,
) -> Result<Option<Usage>, String> {
    let f = |key| Field::new(within, key);
    let input = count(object, f("input_tokens"))?;
    let output = count(object, f("output_tokens"))?;
    let cache_read = count(object, f("cache_read_input_tokens"))?;
    let cache_write = count(object, f("cache_creation_input_tokens"))?;
    let breakdown_within = join(within, "cache_creation");
    let (write_5m, write_1h) = match details(object, f("cache_creation"))? {
        Some(breakdown) => (
            count(
                breakdown,
                Field::new(&breakdown_within, "ephemeral_5m_input_tokens"),
            )?,
            count(
                breakdown,
                Field::new(&breakdown_within, "ephemeral_1h_input_tokens"),
            )?,
        ),
        None => (None, None),
    };
    if [input, output, cache_read, cache_write, write_5m, write_1h]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    // The total is authoritative when given; the breakdown stands in for it
    // only when an SDK dropped the total.
    let cache_write =
        cache_write.unwrap_or_else(|| write_5m.unwrap_or(0).saturating_add(write_1h.unwrap_or(0)));
    Ok(Some(Usage {
        input: input.unwrap_or(0),
        cache_read: cache_read.unwrap_or(0),
        cache_write,
        // The 1-hour part is priced on top of nothing: it is a share of
        // `cache_write`, so it can never be more than all of it.
        cache_write_1h: write_1h.unwrap_or(0).min(cache_write),
        output: output.unwrap_or(0),
        reasoning: 0,
    }))
}

/// The key names of OpenAI's two usage shapes, which differ only in naming:
/// in both, the prompt total includes the cached part and the output total
/// includes reasoning.
struct OpenAiKeys {
    prompt: &'static str,
    output: &'static str,
    prompt_details: &'static str,
    output_details: &'static str,
}

/// Chat Completions: `prompt_tokens` / `completion_tokens`.
const OPENAI_CHAT: OpenAiKeys = OpenAiKeys {
    prompt: "prompt_tokens",
    output: "completion_tokens",
    prompt_details: "prompt_tokens_details",
    output_details: "completion_tokens_details",
};

/// Responses: `input_tokens` / `output_tokens`, told apart from Anthropic's
/// disjoint `input_tokens` by its `*_details` objects.
const OPENAI_RESPONSES: OpenAiKeys = OpenAiKeys {
    prompt: "input_tokens",
    output: "output_tokens",
    prompt_details: "input_tokens_details",
    output_details: "output_tokens_details",
};

fn openai(
    object: &Map<String, Value>,
    within: &str,
    keys: &OpenAiKeys,
) -> Result<Option<Usage>, String> {
    let f = |key| Field::new(within, key);
    let prompt = count(object, f(keys.prompt))?;
    let output = count(object, f(keys.output))?;
    let prompt_details = join(within, keys.prompt_details);
    let cached = match details(object, f(keys.prompt_details))? {
        Some(d) => count(d, Field::new(&prompt_details, "cached_tokens"))?,
        None => None,
    };
    let output_details = join(within, keys.output_details);
    let reasoning = match details(object, f(keys.output_details))? {
        Some(d) => count(d, Field::new(&output_details, "reasoning_tokens"))?,
        None => None,
    };
    if [prompt, output, cached, reasoning]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let input = uncached(
        prompt,
        f(keys.prompt),
        cached,
        Field::new(&prompt_details, "cached_tokens"),
    )?;
    let output = output.unwrap_or(0);
    Ok(Some(Usage {
        input,
        cache_read: cached.unwrap_or(0),
        output,
        reasoning: reasoning_share(reasoning, output),
        ..Usage::default()
    }))
}

/// Codex `token_count` (`last_token_usage`) and `codex exec --json` usage:
/// OpenAI Responses semantics with flat names, so `input_tokens` includes
/// `cached_input_tokens` and `output_tokens` includes `reasoning_output_tokens`.
pub(super) fn codex(object: &Map<String, Value>, within: &str) -> Result<Option<Usage>, String> {
    let f = |key| Field::new(within, key);
    let input_total = count(object, f("input_tokens"))?;
    let cached = count(object, f("cached_input_tokens"))?;
    let output = count(object, f("output_tokens"))?;
    let reasoning = count(object, f("reasoning_output_tokens"))?;
    if [input_total, cached, output, reasoning]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let input = uncached(
        input_total,
        f("input_tokens"),
        cached,
        f("cached_input_tokens"),
    )?;
    let output = output.unwrap_or(0);
    Ok(Some(Usage {
        input,
        cache_read: cached.unwrap_or(0),
        output,
        reasoning: reasoning_share(reasoning, output),
        ..Usage::default()
    }))
}

/// Gemini `usageMetadata`: thinking tokens are billed as output but reported
/// beside `candidatesTokenCount`, not inside it.
fn gemini(object: &Map<String, Value>, within: &str) -> Result<Option<Usage>, String> {
    let f = |key| Field::new(within, key);
    let prompt = count(object, f("promptTokenCount"))?;
    let cached = count(object, f("cachedContentTokenCount"))?;
    let candidates = count(object, f("candidatesTokenCount"))?;
    let thoughts = count(object, f("thoughtsTokenCount"))?;
    if [prompt, cached, candidates, thoughts]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let input = uncached(
        prompt,
        f("promptTokenCount"),
        cached,
        f("cachedContentTokenCount"),
    )?;
    let thoughts = thoughts.unwrap_or(0);
    Ok(Some(Usage {
        input,
        cache_read: cached.unwrap_or(0),
        output: candidates.unwrap_or(0).saturating_add(thoughts),
        reasoning: thoughts,
        ..Usage::default()
    }))
}

/// OpenTelemetry GenAI span attributes.
///
/// Per the GenAI semantic conventions, `gen_ai.usage.input_tokens` "SHOULD
/// include all types of input tokens, including cached tokens", and both
/// `gen_ai.usage.cache_read.input_tokens` and
/// `gen_ai.usage.cache_creation.input_tokens` "SHOULD be included in"
/// it. So non-cached input is the total minus both cache counts, and cache
/// counts larger than the total are a contradiction, refused like OpenAI's.
/// The older `prompt_tokens`/`completion_tokens` names and the underscore
/// cache names some instrumentations emit are read as aliases with the same
/// meaning.
fn opentelemetry(object: &Map<String, Value>, within: &str) -> Result<Option<Usage>, String> {
    let first = |keys: &[&'static str]| -> Result<(Option<u64>, &'static str), String> {
        for key in keys {
            if let Some(n) = count(object, Field::new(within, key))? {
                return Ok((Some(n), key));
            }
        }
        Ok((None, keys[0]))
    };
    let (input_total, input_key) =
        first(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"])?;
    let (output, _) = first(&[
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ])?;
    let (cache_read, read_key) = first(&[
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
    ])?;
    let (cache_write, write_key) = first(&[
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    ])?;
    let (reasoning, _) = first(&["gen_ai.usage.reasoning.output_tokens"])?;
    if [input_total, output, cache_read, cache_write, reasoning]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let total = input_total.unwrap_or(0);
    let read = cache_read.unwrap_or(0);
    let write = cache_write.unwrap_or(0);
    let Some(input) = total.checked_sub(read).and_then(|t| t.checked_sub(write)) else {
        return Err(format!(
            "{} ({read}) plus {} ({write}) exceed {} ({}), which by the OpenTelemetry \
             GenAI conventions includes them",
            Field::new(within, read_key).name(),
            Field::new(within, write_key).name(),
            Field::new(within, input_key).name(),
            shown(input_total),
        ));
    };
    let output = output.unwrap_or(0);
    let usage = Usage {
        input,
        cache_read: read,
        cache_write: write,
        cache_write_1h: 0,
        output,
        reasoning: reasoning_share(reasoning, output),
    };
    within_limits(usage, within).map(Some)
}

/// `total − cached`, where the provider's total includes the cached part.
///
/// A cached count larger than the total means the payload contradicts itself;
/// which number is wrong cannot be known, and either way the bill would be, so
/// the usage is refused rather than clamped.
fn uncached(
    total: Option<u64>,
    total_field: Field<'_>,
    cached: Option<u64>,
    cached_field: Field<'_>,
) -> Result<u64, String> {
    let cached_n = cached.unwrap_or(0);
    total.unwrap_or(0).checked_sub(cached_n).ok_or_else(|| {
        format!(
            "{} ({cached_n}) exceeds {} ({}), which includes it",
            cached_field.name(),
            total_field.name(),
            shown(total),
        )
    })
}

/// Reasoning is a share of output and never billed on its own, so a report
/// claiming more reasoning than output is capped rather than losing the bill.
fn reasoning_share(reasoning: Option<u64>, output: u64) -> u64 {
    reasoning.unwrap_or(0).min(output)
}

/// Sums of in-range counts (Gemini output, Anthropic's cache breakdown) can
/// still pass the per-call limit; such a total is refused like a single count.
pub(super) fn within_limits(usage: Usage, within: &str) -> Result<Usage, String> {
    let totals = [
        ("input", usage.input),
        ("cache read", usage.cache_read),
        ("cache write", usage.cache_write),
        ("output", usage.output),
    ];
    match totals.iter().find(|(_, n)| *n > MAX_TOKENS) {
        Some((what, n)) => Err(format!(
            "{} adds up to {n} {what} tokens, above the limit of {MAX_TOKENS} tokens per call",
            if within.is_empty() {
                "the payload"
            } else {
                within
            }
        )),
        None => Ok(usage),
    }
}

fn shown(n: Option<u64>) -> String {
    n.map_or_else(|| "missing".to_owned(), |n| n.to_string())
}

fn join(within: &str, key: &str) -> String {
    Field::new(within, key).name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(payload: Value) -> UsageFinding {
        find_usage(payload.as_object().expect("test payloads are objects")).finding
    }

    fn found(payload: Value) -> Usage {
        match find(payload.clone()) {
            UsageFinding::Found(usage) => usage,
            other => panic!("expected usage in {payload}, got {other:?}"),
        }
    }

    fn reason(payload: Value) -> String {
        match find(payload.clone()) {
            UsageFinding::Invalid(reason) => reason,
            other => panic!("expected a refusal of {payload}, got {other:?}"),
        }
    }

    #[test]
    fn anthropic_one_hour_writes_are_a_share_of_all_writes() {
        let usage = found(json!({"message": {"usage": {
            "input_tokens": 3, "output_tokens": 10,
            "cache_creation_input_tokens": 500,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 900}
        }}}));
        assert_eq!(usage.cache_write, 500);
        assert_eq!(usage.cache_write_1h, 500);
    }

    #[test]
    fn anthropic_breakdown_stands_in_for_a_missing_total() {
        let usage = found(json!({"usage": {
            "input_tokens": 3,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200}
        }}));
        assert_eq!(usage.cache_write, 300);
        assert_eq!(usage.cache_write_1h, 200);
    }

    #[test]
    fn openai_chat_with_reasoning() {
        let usage = found(json!({"usage": {
            "prompt_tokens": 1000, "completion_tokens": 600,
            "prompt_tokens_details": {"cached_tokens": 200},
            "completion_tokens_details": {"reasoning_tokens": 450}
        }}));
        assert_eq!(
            usage,
            Usage {
                input: 800,
                cache_read: 200,
                output: 600,
                reasoning: 450,
                ..Usage::default()
            }
        );
    }

    #[test]
    fn reasoning_above_output_is_capped_not_refused() {
        let usage = found(json!({"usage": {
            "prompt_tokens": 10, "completion_tokens": 5,
            "completion_tokens_details": {"reasoning_tokens": 50}
        }}));
        assert_eq!(usage.reasoning, 5);
    }

    #[test]
    fn codex_token_count_subtracts_cached_input() {
        let payload = json!({
            "timestamp": "2025-10-01T12:00:00.000Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "info": {
                "total_token_usage": {"input_tokens": 90000, "cached_input_tokens": 80000,
                    "output_tokens": 900, "reasoning_output_tokens": 300, "total_tokens": 90900},
                "last_token_usage": {"input_tokens": 12000, "cached_input_tokens": 9000,
                    "output_tokens": 500, "reasoning_output_tokens": 200, "total_tokens": 12500},
                "model_context_window": 272000
            }}
        });
        assert_eq!(
            found(payload),
            Usage {
                input: 3000,
                cache_read: 9000,
                output: 500,
                reasoning: 200,
                ..Usage::default()
            }
        );
    }

    #[test]
    fn codex_exec_turn_completed() {
        let usage = found(json!({"type": "turn.completed", "usage": {
            "input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122
        }}));
        assert_eq!(
            (usage.input, usage.cache_read, usage.output),
            (315, 24448, 122)
        );
    }

    #[test]
    fn codex_token_count_without_info_is_absent() {
        let payload =
            json!({"type": "event_msg", "payload": {"type": "token_count", "info": null}});
        assert_eq!(find(payload), UsageFinding::Absent);
    }

    #[test]
    fn opentelemetry_input_includes_cache_counts() {
        let flat = json!({
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 10000,
            "gen_ai.usage.output_tokens": 200,
            "gen_ai.usage.cache_read.input_tokens": 8000,
            "gen_ai.usage.cache_creation.input_tokens": 1500
        });
        let expected = Usage {
            input: 500,
            cache_read: 8000,
            cache_write: 1500,
            output: 200,
            ..Usage::default()
        };
        assert_eq!(found(flat.clone()), expected);
        assert_eq!(found(json!({"name": "chat", "attributes": flat})), expected);
    }

    #[test]
    fn opentelemetry_legacy_names() {
        let usage = found(json!({"attributes": {
            "gen_ai.usage.prompt_tokens": 700, "gen_ai.usage.completion_tokens": 70
        }}));
        assert_eq!((usage.input, usage.output), (700, 70));
    }

    #[test]
    fn opentelemetry_cache_above_input_is_refused() {
        let why = reason(json!({"attributes": {
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.cache_read.input_tokens": 80,
            "gen_ai.usage.cache_creation.input_tokens": 30
        }}));
        assert!(
            why.contains("attributes.gen_ai.usage.cache_read.input_tokens (80)")
                && why.contains("attributes.gen_ai.usage.input_tokens (100)"),
            "{why}"
        );
    }

    #[test]
    fn opentelemetry_bad_count_is_refused() {
        let why = reason(json!({"gen_ai.usage.output_tokens": "12"}));
        assert!(
            why.starts_with("gen_ai.usage.output_tokens is a string"),
            "{why}"
        );
    }

    #[test]
    fn cached_above_prompt_is_refused() {
        let why = reason(json!({"response": {"usage": {
            "prompt_tokens": 1000, "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 1500}
        }}}));
        assert_eq!(
            why,
            "response.usage.prompt_tokens_details.cached_tokens (1500) exceeds \
             response.usage.prompt_tokens (1000), which includes it"
        );
        let why = reason(json!({"usageMetadata": {"cachedContentTokenCount": 5}}));
        assert!(
            why.contains("usageMetadata.promptTokenCount (missing)"),
            "{why}"
        );
    }

    #[test]
    fn invalid_counts_are_refused_with_the_field_named() {
        let cases = [
            (
                json!({"usage": {"input_tokens": "1200"}}),
                "usage.input_tokens is a string (\"1200\")",
            ),
            (
                json!({"usage": {"input_tokens": -5}}),
                "usage.input_tokens is negative (-5)",
            ),
            (
                json!({"usage": {"output_tokens": 1.5}}),
                "usage.output_tokens is not a whole number (1.5)",
            ),
            (
                json!({"usage": {"output_tokens": 2_000_000_000u64}}),
                "usage.output_tokens is above the limit",
            ),
            (
                json!({"usage": {"output_tokens": false}}),
                "usage.output_tokens is a boolean (false)",
            ),
            (
                json!({"usage": {"input_tokens": 1, "input_tokens_details": {"cached_tokens": -1}}}),
                "usage.input_tokens_details.cached_tokens is negative (-1)",
            ),
            (
                json!({"usage": {"prompt_tokens": 1, "prompt_tokens_details": 7}}),
                "usage.prompt_tokens_details is a number (7); expected an object",
            ),
        ];
        for (payload, expected) in cases {
            let why = reason(payload);
            assert!(
                why.starts_with(expected),
                "{why:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn sums_above_the_limit_are_refused() {
        let why = reason(json!({"usageMetadata": {
            "candidatesTokenCount": MAX_TOKENS, "thoughtsTokenCount": MAX_TOKENS
        }}));
        assert!(why.contains("output tokens, above the limit"), "{why}");
    }

    #[test]
    fn empty_or_unrelated_usage_objects_are_passed_over() {
        assert_eq!(find(json!({"usage": {}})), UsageFinding::Absent);
        assert_eq!(
            find(json!({"usage": {"input_tokens": null, "output_tokens": null}})),
            UsageFinding::Absent
        );
        assert_eq!(find(json!({"usage": "high"})), UsageFinding::Absent);
        assert_eq!(
            find(json!({"usage": {"cpu_seconds": 4}})),
            UsageFinding::Absent
        );
        // Passing over an empty `usage` reaches the wrapped response's.
        let usage = found(json!({"usage": {}, "response": {"usage": {"output_tokens": 9}}}));
        assert_eq!(usage.output, 9);
    }

    #[test]
    fn a_refused_location_ends_the_search() {
        let why = reason(json!({
            "usage": {"input_tokens": -1},
            "response": {"usage": {"input_tokens": 5}}
        }));
        assert!(why.starts_with("usage.input_tokens"), "{why}");
    }

    #[test]
    fn zero_counts_are_found() {
        assert_eq!(
            found(json!({"usage": {"input_tokens": 0, "output_tokens": 0}})),
            Usage::default()
        );
    }

    #[test]
    fn service_tier_and_geography_are_read_from_the_usage_or_the_response_holding_it() {
        let anthropic = json!({"message": {"usage": {"input_tokens": 1,
            "service_tier": "priority", "inference_geo": "us"}}});
        let b = find_usage(anthropic.as_object().unwrap()).billing;
        assert_eq!(b.service_tier.as_deref(), Some("priority"));
        assert_eq!(b.inference_geo.as_deref(), Some("us"));
        let openai = json!({"response": {"service_tier": "flex", "usage": {"input_tokens": 1}}});
        let b = find_usage(openai.as_object().unwrap()).billing;
        assert_eq!(b.service_tier.as_deref(), Some("flex"));
        let standard = json!({"usage": {"input_tokens": 1, "service_tier": "standard",
            "inference_geo": "not_available"}});
        assert_eq!(
            find_usage(standard.as_object().unwrap()).billing,
            Billing::standard()
        );
    }

    #[test]
    fn fast_mode_is_read_from_the_usage_object() {
        let payload = json!({"message": {"usage": {"input_tokens": 1, "speed": "fast"}}});
        assert!(find_usage(payload.as_object().unwrap()).billing.fast);
        let payload = json!({"speed": "fast", "usage": {"input_tokens": 1}});
        assert!(!find_usage(payload.as_object().unwrap()).billing.fast);
    }
}
