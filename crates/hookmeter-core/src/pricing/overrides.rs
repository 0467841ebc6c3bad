//! `COST_PRICING_<KEY>_<RATE>` environment overrides: the quickest way to
//! correct one price on one machine without writing a file.
//!
//! KEY is either a model key written the shell way (upper case, every
//! non-alphanumeric as `_`: `CLAUDE_SONNET_4_5`, `GPT_5_1`) or a family: one
//! `-`-separated token of keys (`OPUS`, `SONNET`, `GPT`, `GEMINI`, `GROK`),
//! which changes every entry whose key has that token. A model's own variable
//! wins over its family's. RATE is `INPUT`, `OUTPUT`, `CACHE_READ` or
//! `CACHE_WRITE` (the 5-minute write; the 1-hour one follows it only where
//! the file left it to its default).

use std::collections::{BTreeSet, HashMap};

use super::entry::Draft;
use super::error::PricingError;
use super::file::Rate;

/// Only variables with this prefix are read; every other one is ignored.
const PREFIX: &str = "COST_PRICING_";

/// Which rate a variable sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Field {
    Input,
    Output,
    CacheRead,
    CacheWrite,
}

/// Variable-name suffixes. `_CACHE_READ` and `_CACHE_WRITE` are listed before
/// anything they could be confused with.
const SUFFIXES: &[(&str, Field)] = &[
    ("_CACHE_READ", Field::CacheRead),
    ("_CACHE_WRITE", Field::CacheWrite),
    ("_INPUT", Field::Input),
    ("_OUTPUT", Field::Output),
];

/// One parsed variable.
struct Override {
    /// The variable's full name, for messages and `pricing check`.
    var: String,
    /// The KEY part, as written.
    key: String,
    /// The rate it sets.
    field: Field,
    /// The value, validated.
    rate: Rate,
}

/// Applies the `COST_PRICING_*` variables of `env` to `entries`' specs.
/// A value that is not a price is an error naming the variable; a variable
/// that names no rate, model or family only earns a warning, so an unrelated
/// tool's variable cannot stop the daemon.
pub(crate) fn apply(
    entries: &mut [Draft],
    env: impl IntoIterator<Item = (String, String)>,
    warnings: &mut Vec<String>,
) -> Result<(), PricingError> {
    let mut overrides = Vec::new();
    for (var, value) in env {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        let Some((key, field)) = SUFFIXES
            .iter()
            .find_map(|(suffix, field)| rest.strip_suffix(suffix).map(|key| (key, *field)))
        else {
            warnings.push(format!(
                "{var} is ignored: pricing variables are named COST_PRICING_<MODEL or FAMILY>_<INPUT|OUTPUT|CACHE_READ|CACHE_WRITE>"
            ));
            continue;
        };
        let rate = parse_rate(&var, &value)?;
        if key.is_empty() {
            warnings.push(format!(
                "{var} is ignored: it names no model or family (e.g. COST_PRICING_SONNET_INPUT)"
            ));
            continue;
        }
        overrides.push(Override {
            key: key.to_string(),
            var,
            field,
            rate,
        });
    }
    // Sorted so that which of two conflicting family variables wins does not
    // depend on the order of the process environment.
    overrides.sort_by(|a, b| a.var.cmp(&b.var));

    let mut by_family = Vec::new();
    let mut by_model = Vec::new();
    for o in overrides {
        let models: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, draft)| {
                env_name(draft.entry.key()) == o.key
                    || (draft.entry.aliases().iter()).any(|alias| env_name(alias) == o.key)
            })
            .map(|(i, _)| i)
            .collect();
        if !models.is_empty() {
            by_model.push((o, models));
            continue;
        }
        let token = o.key.to_ascii_lowercase();
        let family: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, draft)| draft.entry.id().split('-').any(|part| part == token))
            .map(|(i, _)| i)
            .collect();
        if family.is_empty() {
            warnings.push(format!(
                "{} is ignored: {} is neither a model key nor a family token of the price table (see `hookmeter pricing list`)",
                o.var, o.key
            ));
        } else {
            by_family.push((o, family));
        }
    }

    // Families first, so a model's own variable overwrites its family's.
    let mut set_by: HashMap<(usize, Field), (String, f64)> = HashMap::new();
    let mut conflicts = BTreeSet::new();
    for (o, targets) in &by_family {
        for &i in targets {
            if let Some((earlier, value)) = set_by.get(&(i, o.field)) {
                if *value != o.rate.get() {
                    conflicts.insert((earlier.clone(), o.var.clone()));
                }
            }
            set_by.insert((i, o.field), (o.var.clone(), o.rate.get()));
            set(&mut entries[i].spec, o.field, o.rate);
        }
    }
    for (o, targets) in &by_model {
        for &i in targets {
            set_by.insert((i, o.field), (o.var.clone(), o.rate.get()));
            set(&mut entries[i].spec, o.field, o.rate);
        }
    }
    for (earlier, later) in conflicts {
        warnings.push(format!(
            "{earlier} and {later} set the same rate of some models to different values; {later} wins there (set a model's own variable to decide)"
        ));
    }

    let mut applied: Vec<_> = set_by.into_iter().collect();
    applied.sort_by_key(|(entry_field, _)| *entry_field);
    for ((i, _), (var, _)) in applied {
        entries[i].entry.note_env_var(&var);
    }
    Ok(())
}

/// A model key as a shell variable would spell it: `gpt-5-1` → `GPT_5_1`.
pub(crate) fn env_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn set(spec: &mut super::file::ModelSpec, field: Field, rate: Rate) {
    match field {
        Field::Input => spec.input = rate,
        Field::Output => spec.output = rate,
        Field::CacheRead => spec.cache_read = Some(rate),
        Field::CacheWrite => spec.cache_write_5m = Some(rate),
    }
}

fn parse_rate(var: &str, value: &str) -> Result<Rate, PricingError> {
    let invalid = |reason: String| PricingError::Env {
        var: var.to_string(),
        value: value.to_string(),
        reason,
    };
    let number: f64 = value
        .trim()
        .parse()
        .map_err(|_| invalid("it is not a number".to_string()))?;
    Rate::new(number).map_err(invalid)
}
