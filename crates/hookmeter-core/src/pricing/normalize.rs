//! Model-name normalization: the many spellings of one model (provider
//! routes, cloud regions, snapshot dates, Bedrock versions) reduced to the
//! spelling the price table uses.
//!
//! Table keys go through [`canonical`] too, so the table and the names it is
//! asked about always meet in the same alphabet.

/// Route prefixes of providers that run on the user's own hardware. Checked
/// before anything else, so `ollama/deepseek-r1` is never billed as DeepSeek's
/// hosted model. LiteLLM's `ollama_chat/` and `lm_studio/` spellings are folded
/// into the provider names the spec uses.
const LOCAL_PREFIXES: &[(&str, &str)] = &[
    ("ollama/", "ollama"),
    ("ollama_chat/", "ollama"),
    ("lmstudio/", "lmstudio"),
    ("lm_studio/", "lmstudio"),
    ("local/", "local"),
    ("cli/", "cli"),
    ("cli_bridge/", "cli_bridge"),
];

/// Whole model names that mean "ran locally" (agents report these when they
/// drive a local CLI or bridge rather than an API).
const LOCAL_NAMES: &[&str] = &["local", "cli", "cli_bridge", "ollama", "lmstudio"];

/// Cloud region prefixes of cross-region inference profiles (Bedrock). A
/// regional id the table lists is priced by its own entry (the facts'
/// regional uplift, 1.1x); one it does not list is tried again without the
/// prefix, at the first-party price.
const REGION_PREFIXES: &[&str] = &["us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "global."];

/// Vendor prefixes of Bedrock model ids (`anthropic.claude-...`).
const VENDOR_PREFIXES: &[&str] = &["anthropic.", "cohere.", "mistral.", "deepseek.", "openai."];

/// Characters that may follow a table key for a longer name to still count as
/// that model (`claude-opus` + `-4-6`, `gpt-4o` + `:latest`); anything else
/// means a different model (`gpt-4` is not a prefix of `gpt-4o`).
const BOUNDARIES: &[u8] = b"-:_@";

/// The local provider a model name denotes, if any. `name` must already be
/// lowercased and trimmed.
pub(crate) fn local_provider(name: &str) -> Option<&'static str> {
    if let Some(provider) = LOCAL_NAMES.iter().find(|n| **n == name) {
        return Some(provider);
    }
    LOCAL_PREFIXES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, provider)| *provider)
}

/// Lowercases and trims, drops every route prefix up to the last `/`
/// (`openai/`, `bedrock/us-east-1/`, `watsonx/ibm/`), then a region and a
/// vendor prefix (`us.anthropic.`), and turns `.` into `-` so
/// `gemini-2.5-flash` and `gemini-2-5-flash` are one name.
///
/// Applied to table keys and model names alike; it never strips suffixes, so
/// a dated key such as `gpt-4o-2024-05-13` keeps its date.
pub fn canonical(name: &str) -> String {
    display_name(name).replace('.', "-")
}

/// [`canonical`] without the `.` → `-` step: how a table key is shown
/// (`gpt-5.1`, `gemini-2.5-flash`, as the providers write them).
pub(crate) fn display_name(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    // rsplit always yields at least one piece, possibly empty.
    let mut rest = lower.rsplit('/').next().unwrap_or_default().trim();
    if let Some(stripped) = REGION_PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    if let Some(stripped) = VENDOR_PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    rest.to_string()
}

/// True when the name, after its route (`bedrock/`), starts with a cloud
/// region prefix (`us.`, `eu.`, ...): a regional spelling, whose price may
/// carry an uplift, so never the one that speaks for the bare name.
pub(crate) fn has_region_prefix(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    let last = lower.rsplit('/').next().unwrap_or_default().trim();
    REGION_PREFIXES
        .iter()
        .any(|prefix| last.starts_with(prefix))
}

/// Successively shorter spellings of a canonical name, to be tried in order:
/// the name itself, then without an `@...` tag (Vertex `@20251101`,
/// `@default`), then without a Bedrock version (`-v1:0`), then without a
/// snapshot date (`-20250929`, `-2025-08-07`). Trying after each step keeps a
/// dated key exact: `gpt-4o-2024-05-13-v1:0` finds `gpt-4o-2024-05-13` before
/// its date is dropped.
pub(crate) fn candidates(canonical: &str) -> Vec<&str> {
    let mut out = vec![canonical];
    let mut current = canonical;
    for strip in [strip_at_tag, strip_bedrock_version, strip_date] {
        let next = strip(current);
        if next != current && !next.is_empty() {
            out.push(next);
            current = next;
        }
    }
    out
}

/// The fully normalized name, every prefix and suffix rule applied
/// (`us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5`): a
/// stable spelling to group reports by. Local names are only lowercased.
pub fn normalize(model: &str) -> String {
    let lower = model.trim().to_lowercase();
    if local_provider(&lower).is_some() {
        return lower;
    }
    let canonical = canonical(&lower);
    candidates(&canonical)
        .last()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// True when `name` is `key` followed by a boundary character, i.e. a longer
/// spelling of the model `key` names, and what follows does not continue a
/// version number: `gpt-5` is not a prefix of `gpt-5-7` (`gpt-5.7`), nor
/// `claude-opus-4` of `claude-opus-4-9`, nor `codestral` of `codestral-2501`.
/// A name that only extends a key by a number is a version the table does
/// not know, not the key's model.
pub(crate) fn extends(name: &str, key: &str) -> bool {
    name.len() > key.len()
        && name.starts_with(key)
        && BOUNDARIES.contains(&name.as_bytes()[key.len()])
        && !continues_version(&name[key.len()..])
}

/// True when a remainder after a key starts a new version component:
/// `-7`, `-4-9`, `-2508` (canonical names write `.` as `-`).
fn continues_version(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() > 1 && bytes[0] == b'-' && bytes[1].is_ascii_digit()
}

/// The spellings of a lowercased, trimmed model name that a table key may
/// have, most specific first, each in canonical form (`.` as `-`): the
/// whole name with its route (`bedrock/us-east-1/moonshotai.kimi-k2.5`),
/// then with one leading route segment dropped at a time
/// (`us-east-1/moonshotai.kimi-k2.5`, `moonshotai.kimi-k2.5`), then without
/// region and vendor prefixes (`kimi-k2-5`, as [`canonical`]). A provider's
/// own price for a route is found before the first-party price.
pub(crate) fn spellings(lower: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |spelling: String| {
        if !spelling.is_empty() && !out.contains(&spelling) {
            out.push(spelling);
        }
    };
    let mut rest = lower.trim();
    loop {
        push(rest.replace('.', "-"));
        match rest.split_once('/') {
            Some((_, tail)) => rest = tail,
            None => break,
        }
    }
    push(canonical(lower));
    out
}

/// The canonical form of a table key: lowercased and trimmed, `.` as `-`,
/// its route kept (`openrouter/anthropic/claude-sonnet-4-5`). A key with a
/// route prices that route only; a bare key is the first-party price that
/// every spelling of the model falls back to.
pub(crate) fn key_id(key: &str) -> String {
    key.trim().to_lowercase().replace('.', "-")
}

fn strip_at_tag(name: &str) -> &str {
    name.split_once('@').map_or(name, |(head, _)| head)
}

/// Drops a trailing `-v<digits>:<anything without '-'>` (Bedrock's `-v1:0`,
/// `-v2:0`, `-v1:0:200k`). A bare `-v2` is left alone: it is part of names
/// like `granite-13b-chat-v2`, and prefix matching copes with Bedrock's
/// colon-less `-v1`.
fn strip_bedrock_version(name: &str) -> &str {
    let Some(pos) = name.rfind("-v") else {
        return name;
    };
    let tail = &name[pos + 2..];
    let Some((number, rest)) = tail.split_once(':') else {
        return name;
    };
    let is_version =
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && !rest.contains('-');
    if is_version {
        &name[..pos]
    } else {
        name
    }
}

/// Drops a trailing snapshot date, `-YYYYMMDD` or `-YYYY-MM-DD`. Shorter
/// numeric suffixes (`-0709`, `-2411`, `-08-2024`) name distinct models at
/// xAI, Mistral and Cohere and are left for exact or prefix matching.
fn strip_date(name: &str) -> &str {
    let bytes = name.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let n = bytes.len();
    if n > 9 && bytes[n - 9] == b'-' && digits(n - 8..n) {
        return &name[..n - 9];
    }
    if n > 11
        && bytes[n - 11] == b'-'
        && digits(n - 10..n - 6)
        && bytes[n - 6] == b'-'
        && digits(n - 5..n - 3)
        && bytes[n - 3] == b'-'
        && digits(n - 2..n)
    {
        return &name[..n - 11];
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_drops_routes_regions_and_dots() {
        assert_eq!(
            canonical(" Anthropic/Claude-Sonnet-4-5 "),
            "claude-sonnet-4-5"
        );
        assert_eq!(
            canonical("bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"),
            "claude-haiku-4-5-20251001-v1:0"
        );
        assert_eq!(
            canonical("us-gov.anthropic.claude-3-haiku"),
            "claude-3-haiku"
        );
        assert_eq!(canonical("gemini/gemini-2.5-flash"), "gemini-2-5-flash");
        assert_eq!(
            canonical("watsonx/ibm/granite-4-h-small"),
            "granite-4-h-small"
        );
        assert_eq!(canonical(""), "");
        assert_eq!(canonical("openai/"), "");
    }

    #[test]
    fn candidates_strip_one_kind_of_suffix_at_a_time() {
        assert_eq!(
            candidates("claude-sonnet-4-5-20250929-v1:0"),
            [
                "claude-sonnet-4-5-20250929-v1:0",
                "claude-sonnet-4-5-20250929",
                "claude-sonnet-4-5"
            ]
        );
        assert_eq!(
            candidates("claude-opus-4-5@20251101"),
            ["claude-opus-4-5@20251101", "claude-opus-4-5"]
        );
        assert_eq!(
            candidates("gpt-5-2025-08-07"),
            ["gpt-5-2025-08-07", "gpt-5"]
        );
        assert_eq!(candidates("granite-13b-chat-v2"), ["granite-13b-chat-v2"]);
        assert_eq!(candidates("command-r-08-2024"), ["command-r-08-2024"]);
        assert_eq!(candidates("grok-4-0709"), ["grok-4-0709"]);
        assert_eq!(candidates("claude-v2:1"), ["claude-v2:1", "claude"]);
        assert_eq!(candidates("-20250101"), ["-20250101"]);
    }

    #[test]
    fn local_names_and_routes() {
        assert_eq!(local_provider("ollama/qwen3:4b"), Some("ollama"));
        assert_eq!(local_provider("lmstudio/qwen"), Some("lmstudio"));
        assert_eq!(local_provider("cli_bridge"), Some("cli_bridge"));
        assert_eq!(local_provider("cli/claude"), Some("cli"));
        assert_eq!(local_provider("local"), Some("local"));
        assert_eq!(local_provider("localhost-model"), None);
        assert_eq!(local_provider("claude-cli"), None);
    }

    #[test]
    fn region_prefixes_are_recognised_after_the_route() {
        assert!(has_region_prefix("bedrock/us.anthropic.claude-haiku-4-5"));
        assert!(has_region_prefix("EU.anthropic.claude-haiku-4-5"));
        assert!(!has_region_prefix("anthropic.claude-haiku-4-5"));
        assert!(!has_region_prefix("azure/eu/gpt-5"));
        assert!(!has_region_prefix("usage-model"));
    }

    #[test]
    fn extends_requires_a_boundary() {
        assert!(extends("claude-opus-4-6-thinking", "claude-opus-4-6"));
        assert!(extends("gpt-4o:latest", "gpt-4o"));
        assert!(extends("claude-opus-4-6-v1", "claude-opus-4-6"));
        // Never inside a version number.
        assert!(!extends("claude-opus-4-6", "claude-opus"));
        assert!(!extends("claude-opus-4-9", "claude-opus-4"));
        assert!(!extends("gpt-5-7", "gpt-5"));
        assert!(!extends("grok-4-1-fast", "grok-4"));
        assert!(!extends("mistral-medium-2508", "mistral-medium"));
        assert!(!extends("gpt-4o", "gpt-4"));
        assert!(!extends("gpt-4", "gpt-4"));
    }

    #[test]
    fn normalize_reports_the_fully_stripped_name() {
        assert_eq!(
            normalize("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5"
        );
        assert_eq!(normalize("Ollama/Qwen3:4b"), "ollama/qwen3:4b");
    }
}
