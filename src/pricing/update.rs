//! `hookmeter pricing update`, the part without I/O: LiteLLM's price file
//! checked, turned into the text of the update layer, and compared with the
//! layer in force (which rates change, which models are new, which the new
//! file no longer lists). Fetching and writing are
//! [`crate::user_files::price_update`]'s.
//!
//! The layer is made the way the built-in table is: the core's generator
//! over the new facts with the same curated corrections
//! ([`generate::CORRECTIONS`]), so an update brings new prices but never
//! back a data error the table corrects, and routed and regional names keep
//! their own provider's rates.
//!
//! The update layer is a price file of its own (`pricing-update.toml`
//! beside the database), merged between the built-in table and the user's
//! `pricing.toml` ([`PriceTable::build_layered`]): an update replaces the
//! whole layer and never touches `pricing.toml`, so the user's own entries
//! win over it and survive every update.
//!
//! For users: docs/pricing.md#hookmeter-pricing-update.

use std::collections::HashSet;
use std::fmt::Write as _;

use hookmeter_core::pricing::generate::{self, GenerateError};
use hookmeter_core::pricing::import::{self, ImportError};
use hookmeter_core::pricing::{canonical, MatchKind, PriceFile, PriceTable, Rates};

/// Fewer priced models than this is not LiteLLM's whole price file (it
/// prices thousands): a truncated download, an error page that happens to
/// be JSON, or some other file. Refused, so a bad download never empties
/// the layer.
pub const MIN_MODELS: usize = 100;

/// Added models listed by name; more are counted.
const ADDED_SHOWN: usize = 20;

/// Why an update is refused; nothing was written.
#[derive(thiserror::Error, Debug)]
pub enum PlanError {
    /// Not LiteLLM's price file, or nothing in it usable.
    #[error("{0}")]
    NotLiteLlm(ImportError),
    /// LiteLLM-shaped, but too small to be the whole price file.
    #[error(
        "{origin} prices {models} models, {why}: it looks cut short or is not LiteLLM's whole price file"
    )]
    Implausible {
        /// The file or URL.
        origin: String,
        /// The models it prices.
        models: usize,
        /// The rule it breaks.
        why: String,
    },
    /// The generator could not make a table of it.
    #[error("{0}")]
    NotGenerated(GenerateError),
    /// The layer written from it would not load: a bug here.
    #[error("the update does not form a loadable price file (a bug in hookmeter; please report it): {0}")]
    Invalid(String),
}

/// One model whose rates an update changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The model key.
    pub model: String,
    /// Each rate that changes: its name, the old and the new value.
    pub rates: Vec<(&'static str, f64, f64)>,
}

/// A model of the previous layer the new file no longer lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// The model key.
    pub model: String,
    /// What prices it after the update: `claude-opus (fallback)`.
    pub now: String,
}

/// What an update would write and change.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The whole new layer file.
    pub text: String,
    /// The models it prices.
    pub models: usize,
    /// Models priced before (exactly) whose rates change.
    pub changed: Vec<Change>,
    /// Models no entry priced exactly before.
    pub added: Vec<String>,
    /// Models of the previous layer missing from the new one.
    pub dropped: Vec<Dropped>,
    /// Corrections of the built-in table the new file gives no footing
    /// (it no longer lists their model), passed over: the built-in entry
    /// still prices that model.
    pub unmet: Vec<String>,
}

/// Checks `json` (LiteLLM's price file, read from `origin`) and plans the
/// new layer, dated `today` (`YYYY-MM-DD`), against `previous`, the text of
/// the layer in force (`None` without one).
pub fn plan(
    json: &str,
    origin: &str,
    previous: Option<&str>,
    today: &str,
) -> Result<Plan, PlanError> {
    let imported = import::from_litellm(json, origin).map_err(PlanError::NotLiteLlm)?;
    let models = imported.models.len();
    let implausible = |why: String| PlanError::Implausible {
        origin: origin.to_string(),
        models,
        why,
    };
    if models < MIN_MODELS {
        return Err(implausible(format!("fewer than {MIN_MODELS}")));
    }
    // A previous layer that does not parse is replaced, not compared.
    let previous_file =
        previous.and_then(|text| PriceFile::parse(text, "the previous update").ok());
    if let Some(before) = previous_file.as_ref().map(|file| file.models.len()) {
        if models * 2 < before {
            return Err(implausible(format!(
                "less than half of the {before} the update in force prices"
            )));
        }
    }

    let (generated, unmet) =
        generate::generate_update(json, generate::CORRECTIONS).map_err(PlanError::NotGenerated)?;
    let generated = PriceFile::parse(&generated, origin)
        .map_err(|error| PlanError::Invalid(error.to_string()))?;
    let file = PriceFile {
        as_of: Some(today.to_string()),
        models: generated.models,
    };
    let body = file
        .to_toml()
        .map_err(|error| PlanError::Invalid(error.to_string()))?;
    let source = origin.replace(['\n', '\r'], " ");
    let text = format!(
        "# hookmeter price update, USD per 1M tokens: LiteLLM's prices as of `as_of`,\n\
         # merged over the built-in table and under your pricing.toml.\n\
         # Written by `hookmeter pricing update` from\n\
         #   {source}\n\
         # and replaced whole by the next update: put your own prices in pricing.toml.\n\n{body}"
    );
    let no_env = Vec::<(String, String)>::new;
    let new = PriceTable::build_layered(Some(("the new update", &text)), None, no_env())
        .map_err(|error| PlanError::Invalid(error.to_string()))?;
    let old = previous_file
        .is_some()
        .then(|| {
            PriceTable::build_layered(previous.map(|t| ("the previous update", t)), None, no_env())
                .ok()
        })
        .flatten()
        .unwrap_or_else(PriceTable::embedded);

    let mut changed = Vec::new();
    let mut added = Vec::new();
    for key in file.models.keys() {
        let before = old.lookup(key);
        let after = new.lookup(key);
        if before.kind != MatchKind::Exact {
            added.push(key.clone());
            continue;
        }
        let rates = rate_changes(before.rates, after.rates);
        if !rates.is_empty() {
            changed.push(Change {
                model: key.clone(),
                rates,
            });
        }
    }
    let kept: HashSet<String> = file.models.keys().map(|key| canonical(key)).collect();
    let dropped = previous_file
        .map(|before| {
            before
                .models
                .keys()
                .filter(|key| !kept.contains(&canonical(key)))
                .map(|key| {
                    let found = new.lookup(key);
                    Dropped {
                        model: key.clone(),
                        now: format!("{} ({})", found.key, found.source),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Plan {
        text,
        models,
        changed,
        added,
        dropped,
        unmet,
    })
}

/// The rates that differ between `old` and `new`, by the names
/// `pricing check` gives them.
fn rate_changes(old: &Rates, new: &Rates) -> Vec<(&'static str, f64, f64)> {
    let mut out: Vec<(&'static str, f64, f64)> = [
        ("input", old.input, new.input),
        ("output", old.output, new.output),
        ("cache read", old.cache_read, new.cache_read),
        ("cache write 5m", old.cache_write_5m, new.cache_write_5m),
        ("cache write 1h", old.cache_write_1h, new.cache_write_1h),
        (
            "fast mode",
            old.fast_multiplier.unwrap_or(1.0),
            new.fast_multiplier.unwrap_or(1.0),
        ),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .collect();
    // A tier that appears or goes shows as its rates from or to 0.
    let tier = |rates: &Rates| {
        rates
            .long_context
            .as_ref()
            .map_or((0.0, 0.0, 0.0), |t| (t.threshold as f64, t.input, t.output))
    };
    let (before, after) = (tier(old), tier(new));
    for (name, a, b) in [
        ("long context threshold", before.0, after.0),
        ("long context input", before.1, after.1),
        ("long context output", before.2, after.2),
    ] {
        if a != b {
            out.push((name, a, b));
        }
    }
    out
}

/// What the command prints about a plan: the date and size of the new
/// layer, every changed rate (old → new), the added models and a warning
/// per dropped one.
pub fn render(plan: &Plan, origin: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "LiteLLM prices from {origin}: {} models.", plan.models);
    if plan.changed.is_empty() {
        let _ = writeln!(out, "No rate of a model priced before changes.");
    } else {
        let _ = writeln!(
            out,
            "{} models change (USD per 1M tokens):",
            plan.changed.len()
        );
        let width = plan
            .changed
            .iter()
            .map(|c| c.model.len())
            .max()
            .unwrap_or(0);
        for change in &plan.changed {
            let rates: Vec<String> = change
                .rates
                .iter()
                .map(|(name, old, new)| format!("{name} {old} → {new}"))
                .collect();
            let _ = writeln!(out, "  {:<width$}  {}", change.model, rates.join(", "));
        }
    }
    if !plan.added.is_empty() {
        let shown: Vec<&str> = plan
            .added
            .iter()
            .take(ADDED_SHOWN)
            .map(String::as_str)
            .collect();
        let more = plan.added.len().saturating_sub(ADDED_SHOWN);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{} models added (not priced exactly before): {}{tail}.",
            plan.added.len(),
            shown.join(", ")
        );
    }
    for note in &plan.unmet {
        let _ = writeln!(out, "note: a correction was passed over: {note}.");
    }
    for dropped in &plan.dropped {
        let _ = writeln!(
            out,
            "warning: {} is no longer in LiteLLM's file; it is now priced as {}.",
            dropped.model, dropped.now
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A LiteLLM-shaped file of `n` made-up models plus `extra` entries.
    fn litellm(n: usize, extra: &str) -> String {
        let mut entries: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#""acme-model-{i}": {{"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}"#
                )
            })
            .collect();
        if !extra.is_empty() {
            entries.push(extra.to_string());
        }
        format!("{{{}}}", entries.join(",\n"))
    }

    const HAIKU_4_5: &str = r#""claude-haiku-4-5": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05}"#;

    #[test]
    fn a_first_update_adds_its_models_and_changes_built_in_rates() {
        let plan = plan(&litellm(120, HAIKU_4_5), "f.json", None, "2026-12-06").unwrap();
        assert_eq!(plan.models, 121);
        assert_eq!(plan.added.len(), 120);
        let sonnet = plan
            .changed
            .iter()
            .find(|c| c.model == "claude-haiku-4-5")
            .unwrap();
        assert!(sonnet.rates.contains(&("input", 1.0, 3.0)), "{sonnet:?}");
        let table = PriceTable::build_layered(Some(("u", &plan.text)), None, Vec::new()).unwrap();
        assert_eq!(table.update_as_of(), Some("2026-12-06"));
        assert_eq!(table.lookup("claude-haiku-4-5").rates.input, 3.0);
        assert_eq!(table.lookup("acme-model-7").source.as_str(), "update");
        let text = render(&plan, "f.json");
        assert!(
            text.contains("claude-haiku-4-5  input 1 → 3, output 5 → 15"),
            "{text}"
        );
        assert!(text.contains("and 100 more"), "{text}");
    }

    #[test]
    fn against_the_previous_layer_only_differences_show_and_dropped_models_warn() {
        let first = plan(&litellm(150, HAIKU_4_5), "f.json", None, "2026-12-01").unwrap();
        let second = plan(&litellm(120, ""), "f.json", Some(&first.text), "2026-12-06").unwrap();
        assert!(second.added.is_empty() && second.changed.is_empty());
        assert_eq!(second.dropped.len(), 31);
        let sonnet = second
            .dropped
            .iter()
            .find(|d| d.model == "claude-haiku-4-5")
            .unwrap();
        assert_eq!(sonnet.now, "claude-haiku-4-5 (embedded)");
        let text = render(&second, "f.json");
        assert!(
            text.contains("warning: acme-model-149 is no longer in LiteLLM's file"),
            "{text}"
        );
    }

    #[test]
    fn the_facts_the_built_in_table_was_made_from_change_no_rate() {
        // The update of the same facts keeps every correction: nothing the
        // built-in table prices changes (an update converted as `pricing
        // import` does would undo the corrections).
        let facts = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/litellm-model-prices-2026-08-01.json"
        ))
        .unwrap();
        let plan = plan(&facts, "facts", None, "2026-12-06").unwrap();
        let changed: Vec<&str> = plan.changed.iter().map(|c| c.model.as_str()).collect();
        assert_eq!(changed, Vec::<&str>::new());
        assert_eq!(plan.unmet, Vec::<String>::new());
        let table = PriceTable::build_layered(Some(("u", &plan.text)), None, Vec::new()).unwrap();
        let embedded = PriceTable::embedded();
        for name in [
            "claude-3-haiku-20240307",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "claude-opus-4-6@default",
            "gemini-3-pro-preview",
        ] {
            assert_eq!(
                table.lookup(name).rates,
                embedded.lookup(name).rates,
                "{name}"
            );
        }
    }

    #[test]
    fn small_or_shrunken_files_are_refused() {
        let error = plan(&litellm(10, ""), "f.json", None, "2026-12-06").unwrap_err();
        assert!(
            matches!(error, PlanError::Implausible { models: 10, .. }),
            "{error}"
        );
        let big = plan(&litellm(300, ""), "f.json", None, "2026-12-01").unwrap();
        // The layer prices the file's 300 models and the corrections' own keys.
        let before = PriceFile::parse(&big.text, "big").unwrap().models.len();
        assert!(before >= 300, "{before}");
        let error = plan(&litellm(140, ""), "f.json", Some(&big.text), "2026-12-06").unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("less than half of the {before}")),
            "{error}"
        );
        let error = plan("<html>", "f.json", None, "2026-12-06").unwrap_err();
        assert!(
            error.to_string().contains("not a LiteLLM price file"),
            "{error}"
        );
    }
}
