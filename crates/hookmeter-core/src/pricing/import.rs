//! `hookmeter pricing import`: LiteLLM's `model_prices_and_context_window.json`
//! turned into entries of the user's `pricing.toml`, merged with the entries
//! already there. Pure: text in, text out; the command reads and writes the
//! files.
//!
//! # Conversion
//!
//! - Kept: entries whose `mode` is `chat`, `completion` or `responses`
//!   (OpenAI's Responses-API models such as `gpt-5-codex`, billed per token
//!   like chat) with both `input_cost_per_token` and `output_cost_per_token`.
//! - Rates are USD per token × 1e6, by moving the decimal point of the
//!   number as written, so `3e-06` becomes exactly 3.
//! - `cache_read` ← `cache_read_input_token_cost` (else DeepSeek's
//!   `input_cost_per_token_cache_hit`), `cache_write_5m` ←
//!   `cache_creation_input_token_cost`, `cache_write_1h` ←
//!   `cache_creation_input_token_cost_above_1hr`, `fast_multiplier` ←
//!   `provider_specific_entry.fast`, `inference_geo` ← the other entries of
//!   `provider_specific_entry` (`us`), `service_tier.flex` / `.priority` /
//!   `.batch` ← the `…_flex`, `…_priority`, `…_batches` input, output and
//!   cache rates, and a tier's `long_context` ← its rates above the
//!   long-context threshold kept (`…_above_272k_tokens_priority`). Rates
//!   LiteLLM leaves out take the loader's defaults.
//! - `long_context` ← the `…_above_<N>k_tokens` rates. A rate the tier does
//!   not list is the base rate (what LiteLLM itself charges above the
//!   threshold), except the 1-hour write, which follows the tier's own
//!   5-minute write when the tier has one. Of several thresholds the lowest
//!   is kept (the table has one tier per model).
//! - Skipped, and counted by reason: other modes; entries without both
//!   per-token prices; prices that are not numbers from 0 to 1,000,000 per
//!   1M; entries priced $0 for both input and output (LiteLLM's way of
//!   listing a model it has no price for: imported, they would price real
//!   calls at $0, which hookmeter never does silently); local models
//!   (`ollama/…`, $0 by rule whatever a file says).
//! - Names are keys as the table shows them: route, region and vendor
//!   prefixes dropped. When several entries land on one name, one is kept:
//!   a bare key (`gpt-5.4`, LiteLLM's first-party spelling) before the
//!   provider's own route (`gemini/…`, `xai/…`) before any other route or
//!   cloud (`azure/…`, `openrouter/…`); without a region prefix (`us.`)
//!   before with one, since regional uplifts are not modelled; then the
//!   fewest route segments; then alphabetical order.
//! - `provider` is left out when the name matches a built-in entry, so the
//!   loader keeps the built-in provider (`google`, not LiteLLM's
//!   `vertex_ai-language-models`); otherwise it is LiteLLM's
//!   `litellm_provider`.
//!
//! # Merge
//!
//! An imported entry replaces the user file's entry with the same
//! normalized name; the file's other entries and its `as_of` are kept.
//! Comments are not (the file is written anew). The result is checked to
//! load before it is returned.
//!
//! For users: docs/pricing.md#hookmeter-pricing-import.

use std::collections::btree_map::Entry as Slot;
use std::collections::{BTreeMap, HashSet};
use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use super::file::{
    ModelSpec, Multiplier, PriceFile, Rate, ServiceTierLongSpec, ServiceTierSpec, TierSpec,
};
use super::normalize::{canonical, display_name, has_region_prefix, local_provider};
use super::table::{MatchKind, PriceTable};

/// LiteLLM modes priced per token like a chat completion.
const TOKEN_MODES: &[&str] = &["chat", "completion", "responses"];

/// Why an entry of the LiteLLM file was not imported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// The value is not a JSON object.
    NotAnObject,
    /// No `mode`, or not a word (LiteLLM's `sample_spec` documents the
    /// format, its mode is a sentence).
    NoMode,
    /// A mode not priced per token (`embedding`, `image_generation`, ...).
    Mode(String),
    /// Runs on the user's machine: $0 by rule.
    Local,
    /// Nothing is left of the name once prefixes are dropped.
    EmptyName,
    /// Lacks a per-token input or output price (priced per image, second,
    /// character...).
    NoTokenPrices,
    /// A price that is not a number from 0 to 1,000,000 per 1M tokens.
    BadPrice,
    /// Input and output both $0.
    Free,
    /// Another entry with the same name once normalized was kept.
    Duplicate,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotAnObject => f.write_str("not a model (not a JSON object)"),
            Skip::NoMode => f.write_str("not a model (no mode)"),
            Skip::Mode(mode) => write!(f, "mode {mode}"),
            Skip::Local => f.write_str("local model ($0 by rule)"),
            Skip::EmptyName => f.write_str("empty name once prefixes are dropped"),
            Skip::NoTokenPrices => f.write_str("no per-token input and output price"),
            Skip::BadPrice => f.write_str("price not a number from 0 to 1000000 per 1M"),
            Skip::Free => f.write_str("priced $0 (LiteLLM lists no price)"),
            Skip::Duplicate => f.write_str("same model as a kept entry once normalized"),
        }
    }
}

/// What a LiteLLM price file yields.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// Model key, as the table shows it, to its prices.
    pub models: BTreeMap<String, ModelSpec>,
    /// Why the other entries were left out, and how many for each reason.
    pub skipped: BTreeMap<Skip, usize>,
    /// Top-level entries read, kept and skipped alike.
    pub entries: usize,
    /// Imported models that list more than one long-context threshold, of
    /// which only the lowest was kept.
    pub extra_tiers: usize,
}

/// The user's pricing file after an import.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The whole new `pricing.toml`, checked to load.
    pub text: String,
    /// Models written from the import.
    pub imported: usize,
    /// Of those, how many replace a built-in entry.
    pub replaced_builtin: usize,
    /// Entries of the previous file replaced by imported ones.
    pub replaced_user: usize,
    /// Entries of the previous file kept as they were.
    pub kept_user: usize,
}

/// Why an import cannot go ahead; the user file is left as it was.
#[derive(thiserror::Error, Debug)]
pub enum ImportError {
    /// The input is not JSON, or not an object of model names.
    #[error("{origin} is not a LiteLLM price file: {reason}")]
    NotLiteLlm {
        /// The input file.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The input has no model this import can use.
    #[error(
        "{origin} has no chat or completion model with per-token input and output prices; nothing to import"
    )]
    Nothing {
        /// The input file.
        origin: String,
    },
    /// The user file that would be merged into does not load.
    #[error("{0}\nFix it or move it away, then import again.")]
    Existing(super::error::PricingError),
    /// The merged file would not load: a bug here, not in the user's input.
    #[error("the imported prices do not form a loadable pricing file (a bug in hookmeter; please report it): {0}")]
    Invalid(String),
}

/// One usable entry of the LiteLLM file, before duplicates are settled.
/// The generator of the built-in table reads the facts through it too.
pub(super) struct Candidate {
    /// The key as the table shows it (`gemini-2.5-pro`).
    pub(super) name: String,
    /// Which of several entries with one name wins: lowest first.
    pub(super) rank: (u8, bool, usize, String),
    /// LiteLLM's `litellm_provider`.
    pub(super) provider: Option<String>,
    /// The prices; `provider` is decided once the winner is known.
    pub(super) spec: ModelSpec,
    /// More than one long-context threshold was listed.
    extra_tiers: bool,
}

/// Converts a LiteLLM `model_prices_and_context_window.json`. `origin` (the
/// file's name) is only used in error messages.
pub fn from_litellm(json: &str, origin: &str) -> Result<Imported, ImportError> {
    let root: Map<String, Value> = match serde_json::from_str(json) {
        Ok(Value::Object(root)) => root,
        Ok(_) => {
            return Err(ImportError::NotLiteLlm {
                origin: origin.to_string(),
                reason: "expected a JSON object keyed by model name".into(),
            })
        }
        Err(error) => {
            return Err(ImportError::NotLiteLlm {
                origin: origin.to_string(),
                reason: error.to_string(),
            })
        }
    };
    let mut out = Imported {
        entries: root.len(),
        ..Imported::default()
    };
    let mut kept: BTreeMap<String, Candidate> = BTreeMap::new();
    for (key, value) in &root {
        let candidate = match candidate(key, value) {
            Ok(candidate) => candidate,
            Err(skip) => {
                *out.skipped.entry(skip).or_default() += 1;
                continue;
            }
        };
        match kept.entry(canonical(&candidate.name)) {
            Slot::Vacant(slot) => {
                slot.insert(candidate);
            }
            Slot::Occupied(mut slot) => {
                *out.skipped.entry(Skip::Duplicate).or_default() += 1;
                if candidate.rank < slot.get().rank {
                    slot.insert(candidate);
                }
            }
        }
    }
    if kept.is_empty() {
        return Err(ImportError::Nothing {
            origin: origin.to_string(),
        });
    }
    let builtin = PriceTable::embedded();
    for (_, mut candidate) in kept {
        let known = matches!(
            builtin.lookup(&candidate.name).kind,
            MatchKind::Exact | MatchKind::Prefix
        );
        candidate.spec.provider = if known { None } else { candidate.provider };
        out.extra_tiers += usize::from(candidate.extra_tiers);
        out.models.insert(candidate.name, candidate.spec);
    }
    Ok(out)
}

/// One entry converted, or why it cannot be.
pub(super) fn candidate(key: &str, value: &Value) -> Result<Candidate, Skip> {
    let Value::Object(entry) = value else {
        return Err(Skip::NotAnObject);
    };
    match entry.get("mode").and_then(Value::as_str) {
        Some(mode) if TOKEN_MODES.contains(&mode) => {}
        Some(mode)
            if !mode.is_empty() && mode.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            return Err(Skip::Mode(mode.to_string()))
        }
        _ => return Err(Skip::NoMode),
    }
    let lower = key.trim().to_lowercase();
    let name = display_name(&lower);
    if local_provider(&lower).is_some() || local_provider(&name).is_some() {
        return Err(Skip::Local);
    }
    if canonical(&name).is_empty() {
        return Err(Skip::EmptyName);
    }
    let (Some(input), Some(output)) = (
        rate(entry, "input_cost_per_token")?,
        rate(entry, "output_cost_per_token")?,
    ) else {
        return Err(Skip::NoTokenPrices);
    };
    if input.get() == 0.0 && output.get() == 0.0 {
        return Err(Skip::Free);
    }
    let mut spec = ModelSpec::new(input, output);
    spec.cache_read = match rate(entry, "cache_read_input_token_cost")? {
        Some(read) => Some(read),
        None => rate(entry, "input_cost_per_token_cache_hit")?,
    };
    spec.cache_write_5m = rate(entry, "cache_creation_input_token_cost")?;
    spec.cache_write_1h = rate(entry, "cache_creation_input_token_cost_above_1hr")?;
    spec.fast_multiplier = entry
        .get("provider_specific_entry")
        .and_then(|specific| specific.get("fast"))
        .and_then(Value::as_f64)
        .and_then(|factor| Multiplier::new(factor).ok());
    spec.inference_geo = inference_geo(entry);
    let (long_context, tag, extra_tiers) = long_context(entry, &spec)?;
    spec.long_context = long_context;
    spec.service_tier = service_tiers(entry, tag)?;

    let provider = entry
        .get("litellm_provider")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase);
    let segments = lower.matches('/').count();
    let class = if segments == 0 && name == lower {
        0
    } else if provider
        .as_deref()
        .is_some_and(|p| lower.split('/').next() == Some(p) && segments > 0)
    {
        1
    } else {
        2
    };
    Ok(Candidate {
        rank: (class, has_region_prefix(&lower), segments, lower.clone()),
        name,
        provider,
        spec,
        extra_tiers,
    })
}

/// The service tiers LiteLLM lists by suffix (`input_cost_per_token_flex`,
/// `…_priority`, `…_batches`), under the name the provider reports
/// (`flex`, `priority`, `batch`). A tier needs its input and output rates;
/// its cache rates follow the tier's input when not listed. The tier's
/// rates over the long-context threshold kept (`tag`, as `272k`) come from
/// `…_above_272k_tokens_priority` when both input and output are listed,
/// their cache rates again following their own input; without them a long
/// request in the tier is priced at the standard long-context rates and
/// flagged.
fn service_tiers(
    entry: &Map<String, Value>,
    tag: Option<&str>,
) -> Result<BTreeMap<String, ServiceTierSpec>, Skip> {
    let mut tiers = BTreeMap::new();
    for (suffix, name) in [
        ("flex", "flex"),
        ("priority", "priority"),
        ("batches", "batch"),
    ] {
        let field = |base: &str| rate(entry, &format!("{base}_{suffix}"));
        let (Some(input), Some(output)) = (
            field("input_cost_per_token")?,
            field("output_cost_per_token")?,
        ) else {
            continue;
        };
        tiers.insert(
            name.to_string(),
            ServiceTierSpec {
                input,
                output,
                cache_read: field("cache_read_input_token_cost")?,
                cache_write: field("cache_creation_input_token_cost")?,
                long_context: match tag {
                    Some(tag) => tier_long_context(entry, tag, suffix)?,
                    None => None,
                },
            },
        );
    }
    Ok(tiers)
}

/// A service tier's rates above the long-context threshold `tag`
/// (`input_cost_per_token_above_272k_tokens_priority`), when the entry
/// lists both its input and output.
fn tier_long_context(
    entry: &Map<String, Value>,
    tag: &str,
    suffix: &str,
) -> Result<Option<ServiceTierLongSpec>, Skip> {
    let field = |base: &str| rate(entry, &format!("{base}_above_{tag}_tokens_{suffix}"));
    let (Some(input), Some(output)) = (
        field("input_cost_per_token")?,
        field("output_cost_per_token")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(ServiceTierLongSpec {
        input,
        output,
        cache_read: field("cache_read_input_token_cost")?,
        cache_write: field("cache_creation_input_token_cost")?,
    }))
}

/// The geographies `provider_specific_entry` prices apart (`{"us": 1.1}`):
/// every entry of it but `fast`, which is the fast multiplier.
fn inference_geo(entry: &Map<String, Value>) -> BTreeMap<String, Multiplier> {
    let Some(Value::Object(specific)) = entry.get("provider_specific_entry") else {
        return BTreeMap::new();
    };
    specific
        .iter()
        .filter(|(name, _)| name.as_str() != "fast")
        .filter_map(|(name, factor)| {
            let factor = Multiplier::new(factor.as_f64()?).ok()?;
            Some((name.trim().to_lowercase(), factor))
        })
        .collect()
}

/// The lowest long-context tier the entry lists (see the module docs for
/// the rates it does not list), the threshold as the field names write it
/// (`272k`), and whether it lists more than one.
fn long_context<'e>(
    entry: &'e Map<String, Value>,
    base: &ModelSpec,
) -> Result<(Option<TierSpec>, Option<&'e str>, bool), Skip> {
    let mut thresholds: Vec<(u64, &str)> = entry
        .keys()
        .filter_map(|field| {
            field
                .strip_prefix("input_cost_per_token_above_")
                .or_else(|| field.strip_prefix("output_cost_per_token_above_"))
        })
        .filter_map(|rest| rest.strip_suffix("_tokens"))
        .filter_map(|tag| threshold(tag).map(|tokens| (tokens, tag)))
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup_by_key(|(tokens, _)| *tokens);
    let Some(&(threshold, tag)) = thresholds.first() else {
        return Ok((None, None, false));
    };
    let above = |field: &str| rate(entry, &format!("{field}_above_{tag}_tokens"));
    let own_write_5m = above("cache_creation_input_token_cost")?;
    let tier = TierSpec {
        threshold,
        input: above("input_cost_per_token")?.unwrap_or(base.input),
        output: above("output_cost_per_token")?.unwrap_or(base.output),
        cache_read: above("cache_read_input_token_cost")?.or(base.cache_read),
        cache_write_5m: own_write_5m.or(base.cache_write_5m),
        cache_write_1h: match above("cache_creation_input_token_cost_above_1hr")? {
            Some(write_1h) => Some(write_1h),
            // Left out, it follows the tier's own 5-minute write.
            None if own_write_5m.is_some() => None,
            None => base.cache_write_1h,
        },
    };
    Ok((Some(tier), Some(tag), thresholds.len() > 1))
}

/// `200k` → 200,000; `1m` → 1,000,000; `5000` → 5,000.
fn threshold(tag: &str) -> Option<u64> {
    let (digits, unit) = match tag.as_bytes().last()? {
        b'k' | b'K' => (&tag[..tag.len() - 1], 1_000),
        b'm' | b'M' => (&tag[..tag.len() - 1], 1_000_000),
        _ => (tag, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// The per-token price in `field` as a rate per 1M tokens: `None` when
/// absent or null, [`Skip::BadPrice`] when it is not a valid price.
fn rate(entry: &Map<String, Value>, field: &str) -> Result<Option<Rate>, Skip> {
    match entry.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_f64()
            .map(per_million)
            .and_then(|usd| Rate::new(usd).ok())
            .map(Some)
            .ok_or(Skip::BadPrice),
        Some(_) => Err(Skip::BadPrice),
    }
}

/// `per_token` × 1e6, by moving the decimal point of its shortest decimal
/// form: multiplying would turn 3e-06 into 2.9999999999999996.
fn per_million(per_token: f64) -> f64 {
    let written = format!("{per_token:e}");
    let shifted = written
        .split_once('e')
        .and_then(|(mantissa, exponent)| {
            let exponent: i32 = exponent.parse().ok()?;
            format!("{mantissa}e{}", exponent + 6).parse::<f64>().ok()
        })
        .unwrap_or(per_token * 1e6);
    // -0 would be written as `-0.0`.
    if shifted == 0.0 {
        0.0
    } else {
        shifted
    }
}

/// Merges `imported` into the user's current file (`existing`: its path and
/// text, `None` when there is none) and renders the new file. `source`
/// names the LiteLLM file in the header comment.
pub fn merge(
    imported: &Imported,
    existing: Option<(&str, &str)>,
    source: &str,
) -> Result<Merged, ImportError> {
    let mut file = match existing {
        Some((origin, text)) => {
            // The whole loader, not only the parser: a file with two spellings
            // of one key is refused here rather than blamed on the import.
            PriceTable::build(Some((origin, text)), Vec::new()).map_err(ImportError::Existing)?;
            PriceFile::parse(text, origin).map_err(ImportError::Existing)?
        }
        None => PriceFile::default(),
    };
    let new_ids: HashSet<String> = imported.models.keys().map(|key| canonical(key)).collect();
    let before = file.models.len();
    file.models
        .retain(|key, _| !new_ids.contains(&canonical(key)));
    let kept_user = file.models.len();
    let builtin_ids: HashSet<String> = PriceTable::embedded()
        .entries()
        .map(|entry| entry.id().to_string())
        .collect();
    file.models.extend(imported.models.clone());

    let source = source.replace(['\n', '\r'], " ");
    let body = file
        .to_toml()
        .map_err(|error| ImportError::Invalid(error.to_string()))?;
    let text = format!(
        "# hookmeter user prices, USD per 1M tokens, merged over the built-in table\n\
         # (same format as the built-in prices.toml; `hookmeter pricing list` shows the result).\n\
         # Last written by `hookmeter pricing import` from\n\
         #   {source}\n\
         # Imported entries replace entries of the same name; other entries are kept,\n\
         # comments are not.\n\n{body}"
    );
    PriceTable::build(Some(("the imported pricing.toml", &text)), Vec::new())
        .map_err(|error| ImportError::Invalid(error.to_string()))?;
    Ok(Merged {
        text,
        imported: imported.models.len(),
        replaced_builtin: new_ids.intersection(&builtin_ids).count(),
        replaced_user: before - kept_user,
        kept_user,
    })
}

/// What `pricing import` prints: what was written where, what was skipped
/// and why, and how to make a running daemon use it.
pub fn summary(
    imported: &Imported,
    merged: &Merged,
    source: &str,
    target: &str,
    backup: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Imported {} models from {source} into {target}.",
        merged.imported
    );
    let _ = writeln!(
        out,
        "  {} of them replace built-in entries.",
        merged.replaced_builtin
    );
    let _ = writeln!(
        out,
        "  Entries already in the file: {} replaced, {} kept.",
        merged.replaced_user, merged.kept_user
    );
    let skipped: usize = imported.skipped.values().sum();
    let _ = writeln!(out, "Skipped {skipped} of {} entries:", imported.entries);
    let mut reasons: Vec<(&Skip, &usize)> = imported.skipped.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let width = reasons
        .first()
        .map_or(1, |(_, count)| count.to_string().len());
    for (reason, count) in reasons {
        let _ = writeln!(out, "  {count:>width$}  {reason}");
    }
    if imported.extra_tiers > 0 {
        let _ = writeln!(
            out,
            "{} models list more than one long-context threshold; the lowest was kept.",
            imported.extra_tiers
        );
    }
    if let Some(backup) = backup {
        let _ = writeln!(out, "The previous file is saved as {backup}.");
    }
    out.push_str(
        "`hookmeter pricing check MODEL` shows which entry prices a model. A running daemon\n\
         uses the new prices after SIGHUP (systemctl --user kill -s HUP hookmeter) or a restart.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::terms::Usage;

    /// A LiteLLM-shaped file covering each rule once.
    const SAMPLE: &str = r#"{
        "sample_spec": {"mode": "one of: chat, embedding", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "acme-coder-7": {"litellm_provider": "acme", "mode": "chat",
            "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "cache_read_input_token_cost_above_200k_tokens": 6e-07,
            "provider_specific_entry": {"us": 1.1, "fast": 6.0}},
        "us.anthropic.acme-coder-7": {"litellm_provider": "bedrock", "mode": "chat",
            "input_cost_per_token": 3.3e-06, "output_cost_per_token": 1.65e-05},
        "openrouter/acme/acme-coder-7": {"litellm_provider": "openrouter", "mode": "chat",
            "input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05},
        "gemini/gemini-9-pro": {"litellm_provider": "gemini", "mode": "chat",
            "input_cost_per_token": 2e-06, "output_cost_per_token": 1.2e-05},
        "vertex_ai/gemini-9-pro": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
            "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1.5e-05},
        "deepseek/deepseek-v9": {"litellm_provider": "deepseek", "mode": "chat",
            "input_cost_per_token": 2.8e-07, "output_cost_per_token": 4.2e-07,
            "input_cost_per_token_cache_hit": 2.8e-08},
        "gpt-9-codex": {"litellm_provider": "openai", "mode": "responses",
            "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05},
        "text-embedding-9": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 1e-07, "output_cost_per_token": 0},
        "dall-e-9": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04},
        "ollama/llama9": {"litellm_provider": "ollama", "mode": "chat", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "free/exp-9": {"litellm_provider": "free", "mode": "chat", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "video-9": {"litellm_provider": "x", "mode": "chat", "input_cost_per_second": 0.001},
        "bad-9": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": "cheap", "output_cost_per_token": 1e-06},
        "negative-9": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": -1e-06, "output_cost_per_token": 1e-06},
        "fallback_generalizations": {"rules": []},
        "note": "not an object"
    }"#;

    fn imported() -> Imported {
        from_litellm(SAMPLE, "sample.json").unwrap()
    }

    fn skipped(imported: &Imported, reason: Skip) -> usize {
        imported.skipped.get(&reason).copied().unwrap_or(0)
    }

    #[test]
    fn rates_are_per_million_with_cache_tier_and_fast_mode_carried() {
        let imported = imported();
        let spec = &imported.models["acme-coder-7"];
        let rates = spec.rates();
        assert_eq!((rates.input, rates.output), (3.0, 15.0));
        assert_eq!(
            (rates.cache_read, rates.cache_write_5m, rates.cache_write_1h),
            (0.3, 3.75, 6.0)
        );
        assert_eq!(rates.fast_multiplier, Some(6.0));
        let tier = rates.long_context.unwrap();
        assert_eq!(tier.threshold, 200_000);
        assert_eq!((tier.input, tier.output, tier.cache_read), (6.0, 22.5, 0.6));
        // Not listed for the tier: the base rates, as LiteLLM charges them.
        assert_eq!((tier.cache_write_5m, tier.cache_write_1h), (3.75, 6.0));
        assert_eq!(spec.provider.as_deref(), Some("acme"));

        let deepseek = imported.models["deepseek-v9"].rates();
        assert_eq!(deepseek.cache_read, 0.028);
        assert!(imported.models.contains_key("gpt-9-codex"));
    }

    #[test]
    fn per_million_moves_the_decimal_point_exactly() {
        assert_eq!(per_million(3e-06), 3.0);
        assert_eq!(per_million(1.25e-07), 0.125);
        assert_eq!(per_million(3.75e-06), 3.75);
        assert_eq!(per_million(2.8e-08), 0.028);
        assert_eq!(per_million(0.135), 135_000.0);
        assert_eq!(per_million(0.0), 0.0);
        assert_eq!(per_million(-0.0).to_string(), "0");
    }

    #[test]
    fn one_entry_per_name_first_party_before_routes_and_regions() {
        let imported = imported();
        // Bare key beats the regional and the reseller spelling.
        assert_eq!(imported.models["acme-coder-7"].input.get(), 3.0);
        // The provider's own route beats another cloud's.
        assert_eq!(imported.models["gemini-9-pro"].input.get(), 2.0);
        assert_eq!(skipped(&imported, Skip::Duplicate), 3);
    }

    #[test]
    fn skips_are_counted_by_reason_and_account_for_every_entry() {
        let imported = imported();
        assert_eq!(skipped(&imported, Skip::NoMode), 2);
        assert_eq!(skipped(&imported, Skip::NotAnObject), 1);
        assert_eq!(skipped(&imported, Skip::Mode("embedding".into())), 1);
        assert_eq!(skipped(&imported, Skip::Mode("image_generation".into())), 1);
        assert_eq!(skipped(&imported, Skip::Local), 1);
        assert_eq!(skipped(&imported, Skip::Free), 1);
        assert_eq!(skipped(&imported, Skip::NoTokenPrices), 1);
        assert_eq!(skipped(&imported, Skip::BadPrice), 2);
        let skipped: usize = imported.skipped.values().sum();
        assert_eq!(imported.models.len() + skipped, imported.entries);
    }

    #[test]
    fn known_names_keep_the_built_in_provider() {
        let json = r#"{"vertex_ai/gemini-2.5-pro": {"litellm_provider": "vertex_ai-language-models",
            "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-05}}"#;
        let imported = from_litellm(json, "f").unwrap();
        assert_eq!(imported.models["gemini-2.5-pro"].provider, None);
        let merged = merge(&imported, None, "f").unwrap();
        let table = PriceTable::build(Some(("p", &merged.text)), Vec::new()).unwrap();
        assert_eq!(table.lookup("gemini-2.5-pro").provider, "google");
        assert_eq!(merged.replaced_builtin, 1);
    }

    #[test]
    fn not_litellm_or_nothing_usable_is_an_error() {
        for bad in ["[1, 2]", "{not json", "\"text\""] {
            let error = from_litellm(bad, "x.json").unwrap_err().to_string();
            assert!(
                error.contains("x.json is not a LiteLLM price file"),
                "{error}"
            );
        }
        let error = from_litellm(r#"{"e": {"mode": "embedding"}}"#, "x.json")
            .unwrap_err()
            .to_string();
        assert!(error.contains("nothing to import"), "{error}");
    }

    #[test]
    fn merge_replaces_same_names_keeps_the_rest_and_loads() {
        let existing = "as_of = \"2026-01-01\"\n\
                        [models.\"acme-coder-7\"]\ninput = 1\noutput = 2\n\
                        [models.\"gemini-9.pro\"]\ninput = 1\noutput = 2\n\
                        [models.\"my-own-model\"]\ninput = 0.5\noutput = 1\n";
        let imported = imported();
        let merged = merge(&imported, Some(("pricing.toml", existing)), "sample.json").unwrap();
        assert_eq!(merged.imported, imported.models.len());
        assert_eq!((merged.replaced_user, merged.kept_user), (2, 1));
        assert!(merged.text.starts_with('#'));
        assert!(merged.text.contains("sample.json"));

        let table = PriceTable::build(Some(("p", &merged.text)), Vec::new()).unwrap();
        assert_eq!(table.user_as_of(), Some("2026-01-01"));
        assert_eq!(table.user_models(), imported.models.len() + 1);
        assert_eq!(table.lookup("my-own-model").rates.input, 0.5);
        let acme = table.lookup("acme-coder-7");
        assert_eq!(acme.source.as_str(), "user");
        assert_eq!(acme.rates.input, 3.0);
        let cost = |tokens: u64| {
            let usage = Usage {
                input: tokens,
                output: tokens,
                ..Usage::default()
            };
            table
                .price(
                    "acme-coder-7",
                    &usage,
                    &crate::terms::Billing::standard(),
                    None,
                )
                .cost_usd
        };
        assert!((cost(100_000) - (0.3 + 1.5)).abs() < 1e-9);
        // Over the 200k threshold the whole request takes the tier's rates.
        assert!((cost(1_000_000) - (6.0 + 22.5)).abs() < 1e-9);
        assert_eq!(table.lookup("gemini-9-pro").rates.input, 2.0);
    }

    #[test]
    fn a_broken_existing_file_stops_the_merge() {
        for existing in [
            "[models.m\n",
            "[models.\"a.1\"]\ninput = 1\noutput = 1\n[models.\"a-1\"]\ninput = 1\noutput = 1\n",
        ] {
            let error = merge(&imported(), Some(("pricing.toml", existing)), "s")
                .unwrap_err()
                .to_string();
            assert!(error.contains("pricing.toml"), "{error}");
            assert!(error.contains("move it away"), "{error}");
        }
    }

    #[test]
    fn summary_counts_what_was_written_and_skipped() {
        let imported = imported();
        let merged = merge(&imported, None, "sample.json").unwrap();
        let text = summary(&imported, &merged, "sample.json", "/c/pricing.toml", None);
        assert!(text.starts_with(&format!(
            "Imported {} models from sample.json into /c/pricing.toml.",
            imported.models.len()
        )));
        assert!(
            text.contains("  3  same model as a kept entry once normalized"),
            "{text}"
        );
        assert!(!text.contains("saved as"), "{text}");
    }

    proptest! {
        #[test]
        fn any_json_converts_or_errs_without_panicking(text in ".{0,200}") {
            let _ = from_litellm(&text, "p");
        }

        #[test]
        fn any_per_token_price_converts_to_within_rounding_of_times_a_million(
            per_token in 1e-12f64..1.0
        ) {
            let exact = per_token * 1e6;
            prop_assert!((per_million(per_token) - exact).abs() <= exact * 1e-12);
        }
    }
}
