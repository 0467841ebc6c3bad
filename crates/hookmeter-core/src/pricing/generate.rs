//! The built-in `prices.toml`, generated: LiteLLM's price file (the facts)
//! and `corrections.toml` in, the table's text out. Pure; the example
//! `gen_prices` reads and writes the files, and a unit test fails when the
//! checked-in table is not what this makes of the checked-in facts.
//!
//! # What the table must do
//!
//! Every priced facts key (modes `chat`, `responses` and `completion`, an
//! input and an output price, not both $0, not local) is a *target*: its
//! name, looked up in the table, must give its own rates, the rates its
//! provider charges (`openrouter/…`, `bedrock/…` and `azure/…` keys
//! included). So is each name a first-party key becomes once its route,
//! region and vendor are dropped (`kimi-k2-0905-preview` from
//! `moonshot/kimi-k2-0905-preview`), priced like the entry `pricing import`
//! would keep for it (the bare key, else the provider's own route); a name
//! only third-party hosts list (`deepinfra/…`) stays theirs. And each key
//! and alias `corrections.toml` adds.
//!
//! # Which targets become entries
//!
//! Most targets need no entry of their own: a dated key resolves to its
//! undated entry, `azure/gpt-5` to `gpt-5`, when the rates agree. The
//! generator starts from an empty table and, until every target resolves
//! to its rates by an exact match (see `PriceTable::lookup`: a spelling
//! of the name, not a prefix of it), adds the targets that do not, least
//! specific first (bare names, then dated ones, then regional, then each route depth): an entry
//! for `claude-opus-4-1` can make its dated and routed spellings right, so
//! they are tried again before they get their own.
//!
//! # Corrections
//!
//! `corrections.toml` holds the curated differences from the facts, each
//! with its reason and source: `[[correction]]` gives the listed keys a
//! whole price (keys the facts lack are added), `[[alias]]` makes one more
//! name price exactly like a target.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::file::{ModelSpec, PriceFile};
use super::import::candidate;
use super::normalize::{candidates, canonical, key_id};
use super::table::{MatchKind, PriceTable};

/// Which facts key speaks for a bare name: lowest first (see
/// `import::Candidate::rank`).
type Rank = (u8, bool, usize, String);

/// The curated differences from the facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    /// The day the facts were published; the table's `as_of`.
    pub as_of: String,
    /// Routes of clouds and hosts that resell other makers' models
    /// (`azure_ai/grok-code-fast-1`): never the first party of a bare name.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Prices that replace (or add to) the facts.
    #[serde(default)]
    pub correction: Vec<Correction>,
    /// More names for a model the table prices.
    #[serde(default)]
    pub alias: Vec<Alias>,
}

/// One curated price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// Facts keys (as written there) that take this price, or new keys.
    pub keys: Vec<String>,
    /// Why the facts are not used.
    pub reason: String,
    /// Where the price comes from.
    pub source: String,
    /// The whole price; without `provider`, a facts key keeps its own (an
    /// added key must name one).
    pub price: ModelSpec,
}

/// One more name for a target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// The name.
    pub name: String,
    /// The target (a facts key, a stripped name or a corrected key) it
    /// prices like.
    pub of: String,
    /// Why the name exists.
    pub reason: String,
}

/// A name the table must price, and at what.
#[derive(Debug, Clone)]
pub struct Target {
    /// The name, lowercased, route kept: what an entry for it is keyed by.
    pub key: String,
    /// Who bills it.
    pub provider: String,
    /// The rates it must resolve to.
    pub spec: ModelSpec,
    /// Set for a facts key: the key as the facts write it.
    pub facts_key: Option<String>,
    /// The correction or alias that set the price, shown above its entry.
    pub note: Option<String>,
}

/// The curated corrections the built-in table was generated with, which a
/// price update (`hookmeter pricing update`) applies to a newer facts file
/// too, so an update never brings back a data error the table fixed.
pub const CORRECTIONS: &str = include_str!("corrections.toml");

/// Why the table cannot be generated.
#[derive(thiserror::Error, Debug)]
pub enum GenerateError {
    /// The facts are not LiteLLM's price file.
    #[error("the facts file: {0}")]
    Facts(String),
    /// The corrections file does not parse or names nothing.
    #[error("corrections.toml: {0}")]
    Corrections(String),
    /// A candidate table does not load (a bug in the generator).
    #[error("a generated table does not load: {0}")]
    Table(String),
}

/// Every name the table must price: the facts' keys, with corrections
/// applied, the names they become without route, region and vendor, and
/// the corrections' added keys and aliases.
///
/// `unmet` decides what a correction the facts give no footing is: an
/// error (`None`, the built-in table: its corrections must all apply), or
/// a note pushed there and the correction passed over (a price update: a
/// newer facts file may no longer list a model a correction names, whose
/// built-in entry then still prices it).
pub fn targets(
    facts_json: &str,
    corrections: &Corrections,
    mut unmet: Option<&mut Vec<String>>,
) -> Result<Vec<Target>, GenerateError> {
    let root: Map<String, Value> = match serde_json::from_str(facts_json) {
        Ok(Value::Object(root)) => root,
        Ok(_) => return Err(GenerateError::Facts("not a JSON object".into())),
        Err(error) => return Err(GenerateError::Facts(error.to_string())),
    };
    let corrected: BTreeMap<String, &Correction> = corrections
        .correction
        .iter()
        .flat_map(|c| c.keys.iter().map(move |k| (key_id(k), c)))
        .collect();
    let note = |c: &Correction| format!("correction: {} (source: {})", c.reason, c.source);

    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    // Stripped name → (rank, target) of the facts key that wins it.
    let mut stripped: BTreeMap<String, (Rank, Target)> = BTreeMap::new();
    for (raw, value) in &root {
        let Ok(found) = candidate(raw, value) else {
            continue;
        };
        let key = raw.trim().to_lowercase();
        let mut target = Target {
            provider: provider_name(found.provider.as_deref().unwrap_or("unknown")),
            spec: found.spec,
            facts_key: Some(raw.clone()),
            note: None,
            key: key.clone(),
        };
        if let Some(c) = corrected.get(&key_id(&key)) {
            target.spec = c.price.clone();
            target.note = Some(note(c));
            if let Some(provider) = &c.price.provider {
                target.provider = provider.clone();
            }
        }
        target.spec.provider = Some(target.provider.clone());
        // Only the first party (a bare key, or the provider's own one-segment
        // route such as `moonshot/…`, `mistral/…`) speaks for the bare name,
        // dated or not: a host's price for another maker's model
        // (`deepinfra/anthropic/…`, `groq/moonshotai/…`) is that host's.
        let (class, _, segments, _) = &found.rank;
        let hosted = key
            .split_once('/')
            .is_some_and(|(route, _)| corrections.hosts.iter().any(|h| h == route));
        if *class <= 1 && *segments <= 1 && !hosted {
            let undated = candidates(&found.name).last().copied().unwrap_or_default();
            for name in [found.name.as_str(), undated] {
                let id = key_id(name);
                if name.is_empty() || id == key_id(&key) {
                    continue;
                }
                let named = Target {
                    key: name.to_string(),
                    facts_key: None,
                    ..target.clone()
                };
                match stripped.get(&id) {
                    Some((rank, _)) if *rank <= found.rank => {}
                    _ => {
                        stripped.insert(id, (found.rank.clone(), named));
                    }
                }
            }
        }
        // Two spellings of one key (`claude-3.5-sonnet`, `claude-3-5-sonnet`)
        // are one name: the first in the file's order stays.
        targets.entry(key_id(&key)).or_insert(target);
    }
    for (id, (_, target)) in stripped {
        targets.entry(id).or_insert(target);
    }
    for c in &corrections.correction {
        for key in &c.keys {
            let id = key_id(key);
            if targets.contains_key(&id) {
                continue;
            }
            let mut spec = c.price.clone();
            let Some(provider) = spec.provider.clone() else {
                let why = format!("the correction of {key:?} names no provider");
                match unmet.as_deref_mut() {
                    Some(notes) => {
                        notes.push(format!("{why} and the facts do not list it"));
                        continue;
                    }
                    None => return Err(GenerateError::Corrections(why)),
                }
            };
            spec.provider = Some(provider.clone());
            targets.insert(
                id,
                Target {
                    key: key.trim().to_lowercase(),
                    provider,
                    spec,
                    facts_key: None,
                    note: Some(note(c)),
                },
            );
        }
    }
    for alias in &corrections.alias {
        let Some(of) = targets.get(&key_id(&alias.of)).cloned() else {
            let why = format!(
                "alias {:?} is of {:?}, which the table does not price",
                alias.name, alias.of
            );
            match unmet.as_deref_mut() {
                Some(notes) => {
                    notes.push(why);
                    continue;
                }
                None => return Err(GenerateError::Corrections(why)),
            }
        };
        targets.insert(
            key_id(&alias.name),
            Target {
                key: alias.name.trim().to_lowercase(),
                facts_key: None,
                note: Some(format!("alias of {}: {}", of.key, alias.reason)),
                ..of
            },
        );
    }
    Ok(targets.into_values().collect())
}

/// The built-in table's text for `facts_json` (LiteLLM's price file) and
/// `corrections_toml`; every correction must apply.
pub fn generate(facts_json: &str, corrections_toml: &str) -> Result<String, GenerateError> {
    let corrections = parse_corrections(corrections_toml)?;
    let targets = targets(facts_json, &corrections, None)?;
    table_of(&targets, &corrections)
}

/// A price update's table: like [`generate`], except that a correction or
/// alias the newer facts give no footing is passed over, with a note of it
/// (the second value), instead of refusing the whole update.
pub fn generate_update(
    facts_json: &str,
    corrections_toml: &str,
) -> Result<(String, Vec<String>), GenerateError> {
    let corrections = parse_corrections(corrections_toml)?;
    let mut unmet = Vec::new();
    let targets = targets(facts_json, &corrections, Some(&mut unmet))?;
    Ok((table_of(&targets, &corrections)?, unmet))
}

fn parse_corrections(text: &str) -> Result<Corrections, GenerateError> {
    toml::from_str(text).map_err(|error| GenerateError::Corrections(error.to_string()))
}

/// The table that prices every target at its rates, with as few entries
/// as the lookup allows.
fn table_of(targets: &[Target], corrections: &Corrections) -> Result<String, GenerateError> {
    let mut emitted: BTreeSet<usize> = BTreeSet::new();
    loop {
        let table = PriceTable::of_file(file_of(targets, &emitted, &corrections.as_of))
            .map_err(|error| GenerateError::Table(error.to_string()))?;
        let wrong: Vec<usize> = (0..targets.len())
            .filter(|i| !emitted.contains(i))
            .filter(|&i| {
                let found = table.lookup(&targets[i].key);
                let spec = &targets[i].spec;
                found.kind != MatchKind::Exact
                    || found.rates != &spec.rates()
                    || found.history != spec.dated_rates().unwrap_or_default()
            })
            .collect();
        let Some(least) = wrong.iter().map(|&i| specificity(&targets[i].key)).min() else {
            break;
        };
        emitted.extend(
            wrong
                .into_iter()
                .filter(|&i| specificity(&targets[i].key) == least),
        );
    }
    render(targets, &emitted, &corrections.as_of)
}

/// How specific a name is, least first: route segments, a region or vendor
/// prefix, a dated or versioned suffix. Less specific entries are added
/// first, so the more specific names that agree with them need none.
fn specificity(key: &str) -> (usize, bool, bool) {
    let routes = key.matches('/').count();
    let last = key.rsplit('/').next().unwrap_or_default();
    let prefixed = canonical(last) != key_id(last);
    let suffixed = candidates(&key_id(last)).len() > 1;
    (routes, prefixed, suffixed)
}

fn file_of(targets: &[Target], emitted: &BTreeSet<usize>, as_of: &str) -> PriceFile {
    PriceFile {
        as_of: Some(as_of.to_string()),
        models: emitted
            .iter()
            .map(|&i| (targets[i].key.clone(), targets[i].spec.clone()))
            .collect(),
    }
}

fn render(
    targets: &[Target],
    emitted: &BTreeSet<usize>,
    as_of: &str,
) -> Result<String, GenerateError> {
    let mut out = String::from(HEADER);
    let _ = writeln!(out, "as_of = \"{as_of}\"");
    let mut order: Vec<&Target> = emitted.iter().map(|&i| &targets[i]).collect();
    order.sort_by(|a, b| {
        let routed = |t: &Target| t.key.contains('/');
        (routed(a), &a.provider, &a.key).cmp(&(routed(b), &b.provider, &b.key))
    });
    for target in order {
        let one = PriceFile {
            as_of: None,
            models: BTreeMap::from([(target.key.clone(), target.spec.clone())]),
        };
        let text = one
            .to_toml()
            .map_err(|error| GenerateError::Table(error.to_string()))?;
        out.push('\n');
        if let Some(note) = &target.note {
            for line in wrap(note) {
                let _ = writeln!(out, "# {line}");
            }
        }
        out.push_str(&text);
    }
    Ok(out)
}

/// A note as comment lines of at most about 76 characters.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + word.len() >= 76 {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The provider names the table uses for LiteLLM's `litellm_provider`
/// (the rest are LiteLLM's own: `openrouter`, `bedrock`, `azure`, …).
fn provider_name(litellm: &str) -> String {
    let name = match litellm {
        "gemini" | "vertex_ai-language-models" => "google",
        "cohere_chat" => "cohere",
        "watsonx" => "ibm",
        "text-completion-openai" => "openai",
        "bedrock_converse" => "bedrock",
        other if other.starts_with("vertex_ai") => "vertex_ai",
        other => other,
    };
    name.to_string()
}

const HEADER: &str = "\
# hookmeter's built-in price table, compiled into the binary.
#
# GENERATED: do not edit. Made from LiteLLM's price file (the facts,
# tests/fixtures/litellm-model-prices-<date>.json) and the curated
# corrections in corrections.toml next to this file by
#   cargo run -p hookmeter-core --example gen_prices
# A test fails when this file is not what the generator makes of them.
# docs/pricing.md says how the table is made and how names are matched.
#
# Every rate is USD per 1M tokens (the format of a user's pricing.toml).
# A key with a route (`openrouter/...`, `bedrock/...`) prices that route;
# a bare key is the first-party price every other spelling falls back to.
# Names that resolve to the right rates through another entry (dated
# snapshots, routes that charge the first-party price) have no entry.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specificity_orders_bare_then_dated_then_regional_then_routed() {
        let mut names = vec![
            "bedrock/us-east-1/anthropic.claude-x-v1:0",
            "us.anthropic.claude-x-20250101-v1:0",
            "claude-x-20250101",
            "openrouter/anthropic/claude-x",
            "claude-x",
        ];
        names.sort_by_key(|name| specificity(name));
        assert_eq!(
            names,
            [
                "claude-x",
                "claude-x-20250101",
                "us.anthropic.claude-x-20250101-v1:0",
                "openrouter/anthropic/claude-x",
                "bedrock/us-east-1/anthropic.claude-x-v1:0",
            ]
        );
    }

    #[test]
    fn a_routed_key_gets_an_entry_only_when_its_price_differs() {
        let facts = r#"{
            "m-1": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
            "m-1-20250101": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
            "cloud/m-1": {"mode": "chat", "litellm_provider": "cloud", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
            "dear/m-1": {"mode": "chat", "litellm_provider": "dear", "input_cost_per_token": 3e-6, "output_cost_per_token": 6e-6},
            "acme/m-2": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": 5e-6, "output_cost_per_token": 5e-6}
        }"#;
        let text = generate(facts, "as_of = \"2026-01-01\"\n").unwrap();
        let file = PriceFile::parse(&text, "generated").unwrap();
        let keys: Vec<&str> = file.models.keys().map(String::as_str).collect();
        assert_eq!(keys, ["dear/m-1", "m-1", "m-2"]);
        let table = PriceTable::of_file(file).unwrap();
        assert_eq!(table.lookup("dear/m-1").rates.input, 3.0);
        assert_eq!(table.lookup("cloud/m-1-20250101").rates.input, 1.0);
        assert_eq!(table.lookup("m-2").rates.input, 5.0);
        assert_eq!(table.lookup("m-2").provider, "acme");
    }

    #[test]
    fn corrections_replace_add_and_alias() {
        let facts = r#"{"m-1": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#;
        let corrections = r#"
            as_of = "2026-01-01"
            [[correction]]
            keys = ["m-1", "old-0"]
            reason = "the facts are wrong"
            source = "the vendor"
            price = { provider = "acme", input = 9, output = 9 }
            [[alias]]
            name = "m-one"
            of = "m-1"
            reason = "how agents call it"
        "#;
        let text = generate(facts, corrections).unwrap();
        assert!(text.contains("# correction: the facts are wrong (source: the vendor)"));
        let table = PriceTable::of_file(PriceFile::parse(&text, "g").unwrap()).unwrap();
        for name in ["m-1", "old-0", "m-one"] {
            assert_eq!(table.lookup(name).rates.input, 9.0, "{name}");
        }
        let unknown = r#"as_of = "x"
            [[alias]]
            name = "a"
            of = "nothing"
            reason = "r"
        "#;
        assert!(generate(facts, unknown).is_err());
    }
}
