//! Payload storage policy and secret redaction: decides what of a hook payload
//! may reach disk (`store_payloads = "none" | "truncated" | "full"`,
//! docs/schema.md#payload-storage-and-redaction).
//!
//! It owns two things: blanking secrets (by the key they sit under, and by the
//! shape of well-known credentials inside any string) and cutting a payload to
//! a byte limit while keeping the stored text valid JSON.
//!
//! It must never do I/O, never fail or panic on any JSON, and never touch token
//! counts: `input_tokens`, `max_tokens` and friends are data, not secrets. It
//! runs on every event, so it walks values iteratively (no recursion depth to
//! blow), compiles its pattern once, and runs that pattern only on strings a
//! cheap byte scan says could hold a secret.
//!
//! Redaction errs towards blanking: source code in a tool payload (say
//! `let token = load();`) loses the assigned value. Stored payloads are for
//! debugging; a leaked key is worse than a mangled line.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

// Named here too: `redact::PayloadPolicy` is the path callers knew.
pub use crate::terms::{PayloadPolicy, UnknownPayloadPolicy};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Byte limit for a stored payload under [`PayloadPolicy::Truncated`] when
/// the configuration names none: 4 KiB.
pub const DEFAULT_PAYLOAD_LIMIT: usize = 4096;

/// The text to store for `payload` under `policy`, secrets redacted.
///
/// `None` under [`PayloadPolicy::None`]. Under [`PayloadPolicy::Full`], the
/// whole redacted JSON. Under [`PayloadPolicy::Truncated`], the redacted JSON
/// when it fits in `limit` bytes; otherwise
/// `{"truncated":true,"original_bytes":N,"prefix":"…"}`, where `N` is the
/// length of the redacted JSON and `prefix` its start, cut at a char boundary
/// so the whole object stays within `limit` bytes and is still valid JSON.
/// When `limit` cannot hold even that object with an empty prefix (some 50
/// bytes), nothing is stored: `None`.
pub fn stored_payload(payload: &Value, policy: PayloadPolicy, limit: usize) -> Option<String> {
    if policy == PayloadPolicy::None {
        return None;
    }
    let mut redacted = payload.clone();
    redact(&mut redacted);
    // Serializing a `Value` cannot fail (its map keys are strings); `ok()?`
    // keeps this total without a panic path.
    let text = serde_json::to_string(&redacted).ok()?;
    match policy {
        PayloadPolicy::Truncated if text.len() > limit => truncation_marker(&text, limit),
        _ => Some(text),
    }
}

/// Wraps the start of `text` in the truncation object, sized to `limit`.
fn truncation_marker(text: &str, limit: usize) -> Option<String> {
    let head = format!(
        r#"{{"truncated":true,"original_bytes":{},"prefix":""#,
        text.len()
    );
    let tail = "\"}";
    let budget = limit.checked_sub(head.len() + tail.len())?;

    // The prefix is escaped when embedded, and JSON text is full of `"` and
    // `\`, so the cut is found by escaped length, not raw length. Only ASCII
    // is ever escaped, so bytes can be costed one by one and the cut moved
    // back to a char boundary.
    let mut cut = 0;
    let mut escaped_len = 0;
    for &byte in text.as_bytes() {
        let cost = escaped_byte_len(byte);
        if escaped_len + cost > budget {
            break;
        }
        escaped_len += cost;
        cut += 1;
    }
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }

    let mut out = String::with_capacity(head.len() + budget + tail.len());
    out.push_str(&head);
    push_json_escaped(&mut out, &text[..cut]);
    out.push_str(tail);
    Some(out)
}

/// Bytes that `byte` takes inside a JSON string as written by
/// [`push_json_escaped`].
fn escaped_byte_len(byte: u8) -> usize {
    match byte {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
        0x00..=0x1f => 6,
        _ => 1,
    }
}

/// Appends `s` escaped for a JSON string body. Kept here, not borrowed from
/// serde_json, so the byte count above and the bytes written cannot disagree.
fn push_json_escaped(out: &mut String, s: &str) {
    // Copy runs that need no escape in one go; escapes are all ASCII, so a
    // run never ends inside a multibyte char.
    let mut run_start = 0;
    for (at, &byte) in s.as_bytes().iter().enumerate() {
        if escaped_byte_len(byte) == 1 {
            continue;
        }
        out.push_str(&s[run_start..at]);
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            // Writing to a `String` cannot fail.
            control => drop(write!(out, "\\u{control:04x}")),
        }
        run_start = at + 1;
    }
    out.push_str(&s[run_start..]);
}

/// Redacts secrets in `value`, in place.
///
/// A value under a key that names a secret (`api_key`, `x-api-key`,
/// `Authorization`, `password`, `client_secret`, `access_token`, `token`,
/// `private_key`, `cookie`, …; case, `-` and `_` ignored) becomes
/// `"[REDACTED]"`, whatever its type, except `null` and booleans, which carry
/// nothing secret. Inside every other string, API keys (`sk-…`, `sk-ant-…`,
/// `AKIA…`, `ghp_…`, `github_pat_…`, `xoxb-…`, `AIza…`), `Bearer` tokens,
/// `password=…`-style assignments, passwords in URLs and PEM private key
/// blocks are replaced by `[REDACTED]`; the rest of the string stays.
///
/// Applying it twice gives the same result as applying it once.
pub fn redact(value: &mut Value) {
    let mut pending: Vec<&mut Value> = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::String(text) => redact_text(text),
            Value::Array(items) => pending.extend(items.iter_mut()),
            Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    if key_names_secret(key) && !matches!(field, Value::Null | Value::Bool(_)) {
                        *field = Value::String(REDACTED.to_owned());
                    } else {
                        pending.push(field);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// Endings of a normalized key (lowercase, ASCII alphanumerics only) whose
/// value is a secret. Matching the ending catches `OPENAI_API_KEY`,
/// `githubToken`, `AWS_SECRET_ACCESS_KEY`, `Set-Cookie`. `token` is singular
/// on purpose: token counts are `*_tokens` or `*TokenCount`.
const SECRET_KEY_ENDINGS: &[&[u8]] = &[
    b"apikey",
    b"password",
    b"passwd",
    b"passphrase",
    b"secret",
    b"token",
    b"privatekey",
    b"secretkey",
    b"accesskey",
    b"authorization",
    b"cookie",
    b"cookies",
    b"credential",
    b"credentials",
];

/// Normalized keys that name a secret only as a whole word: `auth` as a
/// suffix would catch `oauth` settings that are not credentials.
const SECRET_KEYS_EXACT: &[&[u8]] = &[b"auth"];

/// How far back a key is normalized: at least the longest entry above.
const SECRET_KEY_TAIL: usize = 16;

fn key_names_secret(key: &str) -> bool {
    // Normalize from the end into a fixed buffer: no allocation per key, and
    // only the ending matters. A key longer than the buffer keeps its last
    // bytes, which can never equal a (shorter) exact name.
    let mut tail = [0u8; SECRET_KEY_TAIL];
    let mut kept = 0;
    for &b in key.as_bytes().iter().rev() {
        if kept == SECRET_KEY_TAIL {
            break;
        }
        if b.is_ascii_alphanumeric() {
            kept += 1;
            tail[SECRET_KEY_TAIL - kept] = b.to_ascii_lowercase();
        }
    }
    let tail = &tail[SECRET_KEY_TAIL - kept..];
    SECRET_KEY_ENDINGS
        .iter()
        .any(|ending| tail.ends_with(ending))
        || SECRET_KEYS_EXACT.contains(&tail)
}

/// Every credential shape searched for inside strings, one alternation so a
/// string is scanned once. Named groups tell the replacement what to keep.
static SECRET_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    // `(?-u:\b)` is an ASCII word boundary: the Unicode one makes the regex
    // engine leave its fast path on any non-ASCII text.
    let pattern = [
        // PEM private keys; an unterminated block (a cut-off file) is blanked
        // to the end of the string.
        r"(?P<pem>-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----(?s:.*?-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|.*))",
        // `password=…`, `API_KEY: …`, `"token": "…"`. The keyword must end
        // the identifier, so `max_tokens=4096` is left alone; the identifier
        // holds no `-`, so it cannot swallow a key like `xoxb-…_token=`.
        r#"(?P<assign>(?-u:\b)[A-Za-z0-9_.]*?(?i-u:password|passwd|passphrase|secret[_\-]?key|secret|api[_\-]?key|access[_\-]?key|private[_\-]?key|token|auth(?:orization)?|cookie|credentials?)["']?[ \t]*[:=][ \t]*)(?P<assigned>(?:(?i-u:bearer|basic|digest|token)[ \t]+)?(?:"[^"\n]*"|'[^'\n]*'|[^\s"'&,;]+))"#,
        r"(?P<scheme>(?-u:\b)(?i-u:bearer)[ \t]+)[A-Za-z0-9._~+/=\-]{8,}",
        // `scheme://user:password@host`
        r"(?P<userinfo>(?-u:\b)[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+@",
        r"(?-u:\b)sk-[A-Za-z0-9_\-]{20,}",
        r"(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)",
        r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{20,}",
        r"(?-u:\b)github_pat_[A-Za-z0-9_]{20,}",
        r"(?-u:\b)xox[abposr]-[A-Za-z0-9\-]{10,}",
        r"(?-u:\b)AIza[0-9A-Za-z_\-]{35,}",
    ]
    .join("|");
    // The pattern is a constant; a failure here is a bug caught by every test.
    Regex::new(&pattern).expect("secret pattern compiles")
});

/// Passes of [`SECRET_IN_TEXT`] over one string at most; see [`redact_text`].
const MAX_REDACTION_PASSES: usize = 4;

fn redact_text(text: &mut String) {
    // A replacement can put `]` where a word character was, creating a word
    // boundary and so a match the pass before could not see. Repeating until
    // nothing changes keeps `redact` idempotent; text without secrets still
    // costs one scan, and text with them rarely more than two.
    for _ in 0..MAX_REDACTION_PASSES {
        if !may_hold_secret(text.as_bytes()) {
            return;
        }
        match SECRET_IN_TEXT.replace_all(text, replacement) {
            Cow::Owned(redacted) if redacted != *text => *text = redacted,
            _ => return,
        }
    }
}

fn replacement(caps: &Captures<'_>) -> String {
    if let Some(assign) = caps.name("assign") {
        let assigned = caps.name("assigned").map_or("", |m| m.as_str());
        // Keep the quotes so JSON or shell text embedded in the string stays
        // well-formed.
        return match assigned.as_bytes().first() {
            Some(&quote @ (b'"' | b'\'')) => {
                let quote = quote as char;
                format!("{}{quote}{REDACTED}{quote}", assign.as_str())
            }
            _ => format!("{}{REDACTED}", assign.as_str()),
        };
    }
    if let Some(scheme) = caps.name("scheme") {
        return format!("{}{REDACTED}", scheme.as_str());
    }
    if let Some(userinfo) = caps.name("userinfo") {
        return format!("{}{REDACTED}@", userinfo.as_str());
    }
    REDACTED.to_owned()
}

/// A necessary condition for [`SECRET_IN_TEXT`] to match: some trigger word
/// occurs (ASCII case ignored). One pass over the bytes; most strings in a
/// hook payload (paths, ids, short output) fail it and never reach the regex.
fn may_hold_secret(text: &[u8]) -> bool {
    // Nothing the pattern redacts is shorter than `auth=x`.
    if text.len() < 6 {
        return false;
    }
    let starts = |rest: &[u8], word: &[u8]| {
        rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word)
    };
    (0..text.len()).any(|at| {
        let rest = &text[at..];
        match rest[0].to_ascii_lowercase() {
            b'a' => {
                starts(rest, b"auth")
                    || starts(rest, b"api")
                    || starts(rest, b"access")
                    || starts(rest, b"akia")
                    || starts(rest, b"asia")
                    || starts(rest, b"aiza")
            }
            b'b' => starts(rest, b"bearer"),
            b'c' => starts(rest, b"cookie") || starts(rest, b"credential"),
            b'g' => {
                (starts(rest, b"gh") && rest.get(3) == Some(&b'_')) || starts(rest, b"github_pat_")
            }
            b'p' => starts(rest, b"pass") || starts(rest, b"private"),
            b's' => starts(rest, b"secret") || starts(rest, b"sk-"),
            b't' => starts(rest, b"token"),
            b'x' => starts(rest, b"xox"),
            b':' => starts(rest, b"://"),
            b'-' => starts(rest, b"-----begin"),
            _ => false,
        }
    })
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
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn redacted(value: Value) -> Value {
        let mut value = value;
        redact(&mut value);
        value
    }

    fn redacted_text(text: &str) -> String {
        match redacted(Value::String(text.to_owned())) {
            Value::String(s) => s,
            other => panic!("string became {other}"),
        }
    }

    #[test]
    fn policy_parses_its_three_names_only() {
        assert_eq!("none".parse(), Ok(PayloadPolicy::None));
        assert_eq!("truncated".parse(), Ok(PayloadPolicy::Truncated));
        assert_eq!("full".parse(), Ok(PayloadPolicy::Full));
        let err = "everything".parse::<PayloadPolicy>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown payload policy `everything`: expected one of none, truncated, full"
        );
        assert_eq!(PayloadPolicy::default(), PayloadPolicy::Truncated);
        for policy in [
            PayloadPolicy::None,
            PayloadPolicy::Truncated,
            PayloadPolicy::Full,
        ] {
            assert_eq!(policy.to_string().parse(), Ok(policy));
            let quoted = format!("\"{policy}\"");
            assert_eq!(
                serde_json::from_str::<PayloadPolicy>(&quoted).unwrap(),
                policy
            );
        }
    }

    #[test]
    fn values_under_secret_keys_are_redacted() {
        let value = redacted(json!({
            "api_key": "abc",
            "apiKey": "abc",
            "X-Api-Key": "abc",
            "Authorization": "Basic dXNlcjpwYXNz",
            "password": 12345,
            "passwd": "abc",
            "secret": "abc",
            "client_secret": "abc",
            "access_token": "abc",
            "refreshToken": "abc",
            "token": "abc",
            "GITHUB_TOKEN": "abc",
            "AWS_SECRET_ACCESS_KEY": "abc",
            "private_key": {"n": "abc", "d": "abc"},
            "Cookie": ["a=b"],
            "set-cookie": "a=b",
            "auth": "user:pw",
            "nested": [{"headers": {"authorization": "Bearer abc"}}],
        }));
        let text = value.to_string();
        assert!(!text.contains("abc"), "{text}");
        assert!(!text.contains("user:pw"), "{text}");
        assert_eq!(value["private_key"], REDACTED);
        assert_eq!(value["nested"][0]["headers"]["authorization"], REDACTED);
    }

    #[test]
    fn key_tail_holds_every_secret_key_name() {
        for name in SECRET_KEY_ENDINGS.iter().chain(SECRET_KEYS_EXACT) {
            assert!(
                name.len() <= SECRET_KEY_TAIL,
                "{}",
                String::from_utf8_lossy(name)
            );
        }
        assert!(key_names_secret("a_very_long_prefix_before_the_api_key"));
        assert!(!key_names_secret("a_very_long_prefix_before_auth"));
    }

    #[test]
    fn flags_under_secret_keys_and_lookalike_keys_stay() {
        let value = json!({
            "has_token": true,
            "password": null,
            "tokenizer": "cl100k",
            "author": "ada",
            "oauth_provider": "github",
            "keyboard": "us",
            "secret_name": "prod-db",
            "tokens": 12,
            "token_count": 12,
        });
        assert_eq!(redacted(value.clone()), value);
    }

    #[test]
    fn token_counts_are_not_secrets() {
        let usage = json!({
            "input_tokens": 1200,
            "output_tokens": 300,
            "cache_read_input_tokens": 5000,
            "cache_creation_input_tokens": 800,
            "cache_creation": {"ephemeral_1h_input_tokens": 10},
            "max_tokens": 4096,
            "max_output_tokens": 4096,
            "prompt_tokens_details": {"cached_tokens": 1500},
            "usageMetadata": {"promptTokenCount": 4000, "thoughtsTokenCount": 100},
            "note": "max_tokens=4096 and input_tokens: 12",
        });
        assert_eq!(redacted(usage.clone()), usage);
    }

    #[test]
    fn fixtures_without_secrets_come_back_unchanged() {
        for name in [
            "claude-posttooluse",
            "claude-sessionstart",
            "claude-stop",
            "anthropic-usage",
            "gemini-aftermodel",
            "nested-response-usage",
            "openai-responses",
            "local-ollama",
            "no-usage",
        ] {
            let payload = fixture(name);
            assert_eq!(redacted(payload.clone()), payload, "{name}");
            let stored = stored_payload(&payload, PayloadPolicy::Full, 0).unwrap();
            assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), payload);
        }
    }

    #[test]
    fn api_keys_inside_strings_are_redacted_and_the_rest_kept() {
        let cases = [
            ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv", "openai"),
            (
                "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUvWx-Yz0_AAAA",
                "anthropic",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "aws"),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github classic"),
            ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "github oauth"),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                "github fine-grained",
            ),
            ("xoxb-123456789012-1234567890123-AbCdEf", "slack bot"),
            ("xoxp-123456789012-1234567890123-AbCdEf", "slack user"),
            ("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "google"),
        ];
        for (key, kind) in cases {
            let text = format!("curl -d k={key} https://example.test/run");
            assert_eq!(
                redacted_text(&text),
                "curl -d k=[REDACTED] https://example.test/run",
                "{kind}"
            );
        }
    }

    #[test]
    fn assignments_of_secrets_are_redacted() {
        assert_eq!(
            redacted_text("export OPENAI_API_KEY=not-a-known-shape && run"),
            "export OPENAI_API_KEY=[REDACTED] && run"
        );
        assert_eq!(
            redacted_text("mysql --password=hunter2 -u root"),
            "mysql --password=[REDACTED] -u root"
        );
        assert_eq!(
            redacted_text("passwd: hunter2\nuser: ada"),
            "passwd: [REDACTED]\nuser: ada"
        );
        assert_eq!(
            redacted_text(r#"{"client_secret": "s3cr3t", "id": 1}"#),
            r#"{"client_secret": "[REDACTED]", "id": 1}"#
        );
        assert_eq!(
            redacted_text("GET /cb?access_token=abc123&state=x"),
            "GET /cb?access_token=[REDACTED]&state=x"
        );
        assert_eq!(
            redacted_text("Authorization: Basic dXNlcjpwYXNz"),
            "Authorization: [REDACTED]"
        );
    }

    #[test]
    fn bearer_tokens_are_redacted() {
        assert_eq!(
            redacted_text("curl -H 'X-Trace: 1' -H 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' url"),
            "curl -H 'X-Trace: 1' -H 'Bearer [REDACTED]' url"
        );
        assert_eq!(
            redacted_text("header bearer abcdefgh12345678 end"),
            "header bearer [REDACTED] end"
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redacted_text("DATABASE_URL is postgres://app:hunter2@db:5432/shop"),
            "DATABASE_URL is postgres://app:[REDACTED]@db:5432/shop"
        );
        let no_userinfo = "see http://localhost:8080/path@v2";
        assert_eq!(redacted_text(no_userinfo), no_userinfo);
    }

    #[test]
    fn pem_private_keys_are_redacted() {
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(
            redacted_text(&format!("key:\n{pem}\ndone")),
            "key:\n[REDACTED]\ndone"
        );
        let rsa =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
        assert_eq!(redacted_text(&format!("a {rsa} b")), "a [REDACTED] b");
        // A file cut off mid-key: everything after BEGIN is the key.
        assert_eq!(
            redacted_text("cat id: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"),
            "cat id: [REDACTED]"
        );
        let public = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----";
        assert_eq!(redacted_text(public), public);
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "cargo build --release",
            "/home/dev/shop/src/tokenizer.rs",
            "task-force meeting about risk-assessment-documents-for-q3",
            "the author said the token budget was 2000 tokens",
            "Bearer of bad news",
            "naïve café ünïcödé text with no secrets at all",
        ] {
            assert_eq!(redacted_text(text), text);
        }
    }

    #[test]
    fn redaction_is_idempotent_on_known_shapes() {
        let once = redacted(json!({
            "cmd": "export API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv; curl -H 'Authorization: Bearer abcdefgh1234'",
            "url": "redis://u:pw@host",
            "body": "{\"password\":\"x\"}",
        }));
        assert_eq!(redacted(once.clone()), once);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 100_000;
        let mut value = json!({"token": "abc"});
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        redact(&mut value);
        // Take the value apart by hand: the recursive `Drop` of a 100k-deep
        // `Value` would overflow the test thread's stack.
        let mut innermost = value;
        while let Value::Array(mut items) = innermost {
            innermost = items.pop().unwrap();
        }
        assert_eq!(innermost, json!({"token": REDACTED}));
    }

    #[test]
    fn policy_none_stores_nothing_and_full_stores_everything_redacted() {
        let payload = json!({"tool_input": {"command": "x".repeat(10_000)}, "api_key": "k"});
        assert_eq!(stored_payload(&payload, PayloadPolicy::None, 4096), None);
        let full = stored_payload(&payload, PayloadPolicy::Full, 4096).unwrap();
        assert!(full.len() > 10_000);
        let back: Value = serde_json::from_str(&full).unwrap();
        assert_eq!(back["api_key"], REDACTED);
    }

    #[test]
    fn truncated_payload_that_fits_is_stored_whole() {
        let payload = fixture("claude-posttooluse");
        let stored = stored_payload(&payload, PayloadPolicy::Truncated, DEFAULT_PAYLOAD_LIMIT);
        assert_eq!(stored, stored_payload(&payload, PayloadPolicy::Full, 0));
    }

    #[test]
    fn long_payload_is_cut_into_valid_json_within_the_limit() {
        let payload = json!({
            "secret": "s3cr3t",
            "tool_response": {"stdout": "line \"quoted\" \\ back\n".repeat(500)},
        });
        let full = stored_payload(&payload, PayloadPolicy::Full, 0).unwrap();
        let stored = stored_payload(&payload, PayloadPolicy::Truncated, 4096).unwrap();
        assert!(stored.len() <= 4096, "{} bytes", stored.len());
        // Escapes are dense here; the cut must still use the room it has.
        assert!(stored.len() > 4096 - 8, "{} bytes", stored.len());
        let marker: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(marker["truncated"], true);
        assert_eq!(marker["original_bytes"], full.len());
        let prefix = marker["prefix"].as_str().unwrap();
        assert!(full.starts_with(prefix));
        assert!(!stored.contains("s3cr3t"));
    }

    #[test]
    fn cut_falls_on_a_char_boundary_in_multibyte_text() {
        let payload = json!({"text": "日本語のテキスト🦀".repeat(300)});
        let full = stored_payload(&payload, PayloadPolicy::Full, 0).unwrap();
        for limit in 60..200 {
            let stored = stored_payload(&payload, PayloadPolicy::Truncated, limit).unwrap();
            assert!(stored.len() <= limit);
            let marker: Value = serde_json::from_str(&stored).unwrap();
            let prefix = marker["prefix"].as_str().unwrap();
            assert!(full.starts_with(prefix));
            // Within a char's width of the room left.
            assert!(stored.len() + 4 > limit, "limit {limit}: {stored}");
        }
    }

    #[test]
    fn limit_too_small_for_the_marker_stores_nothing() {
        let payload = json!({"text": "x".repeat(100)});
        assert_eq!(stored_payload(&payload, PayloadPolicy::Truncated, 10), None);
        assert_eq!(stored_payload(&payload, PayloadPolicy::Truncated, 0), None);
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            any::<String>(),
            "\\PC{0,40}",
            Just("Bearer abcdefgh12345678".to_owned()),
            Just("password=\"x\" ghp_16C7e42F292c6912E7710c838347Ae178B4a".to_owned()),
            Just("-----BEGIN EC PRIVATE KEY-----\nAAAA".to_owned()),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        let key = prop_oneof![
            any::<String>(),
            Just("token".to_owned()),
            Just("input_tokens".to_owned()),
            Just("X-Api-Key".to_owned()),
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// Text stitched from the pieces secrets are made of, so random cases
    /// land near the pattern's edges far more often than arbitrary strings.
    fn secretish_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("sk-"),
            Just("AKIA"),
            Just("ghp_"),
            Just("github_pat_"),
            Just("xoxb-"),
            Just("AIza"),
            Just("Bearer "),
            Just("password"),
            Just("Api-Key"),
            Just("token"),
            Just("auth"),
            Just("Cookie"),
            Just("://"),
            Just("@"),
            Just("="),
            Just(": "),
            Just("\""),
            Just("'"),
            Just("-----BEGIN RSA PRIVATE KEY-----"),
            Just("-----END RSA PRIVATE KEY-----"),
            Just("[REDACTED]"),
            Just("_"),
            Just("-"),
            Just(" "),
            Just("\n"),
            Just("A1b2C3d4E5f6G7h8I9j0"),
            Just("é"),
            Just("s"),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn quick_check_never_skips_a_secret(text in secretish_text()) {
            if !may_hold_secret(text.as_bytes()) {
                prop_assert!(!SECRET_IN_TEXT.is_match(&text), "{text:?}");
            }
        }

        #[test]
        fn redaction_of_secretish_text_is_idempotent(text in secretish_text()) {
            let once = redacted_text(&text);
            prop_assert_eq!(redacted_text(&once), once);
        }

        #[test]
        fn any_json_is_stored_as_valid_json_within_the_limit(
            payload in any_json(),
            limit in 0usize..600,
        ) {
            if let Some(stored) = stored_payload(&payload, PayloadPolicy::Truncated, limit) {
                prop_assert!(stored.len() <= limit, "{} > {limit}", stored.len());
                prop_assert!(serde_json::from_str::<Value>(&stored).is_ok(), "{stored}");
            } else {
                prop_assert!(limit < 64);
            }
            let full = stored_payload(&payload, PayloadPolicy::Full, limit).unwrap();
            prop_assert!(serde_json::from_str::<Value>(&full).is_ok());
        }

        #[test]
        fn redaction_is_idempotent(payload in any_json()) {
            let once = redacted(payload);
            prop_assert_eq!(redacted(once.clone()), once);
        }
    }
}
