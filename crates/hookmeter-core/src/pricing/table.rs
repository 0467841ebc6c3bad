//! The price table in force: built-in prices, then the user's file, then the
//! environment, merged once at load; afterwards only looked up.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use super::dated::{in_force, DatedRates};
use super::entry::{Draft, Entry, Origin, PricingSource};
use super::error::PricingError;
use super::file::{ModelSpec, PriceFile};
use super::normalize::{candidates, extends, key_id, local_provider, spellings};
use super::overrides;
use super::rates::{cost, Rates};
use crate::terms::{Billing, Usage};

/// The built-in table, compiled in so the binary prices correctly with no
/// file on disk: `prices.toml` as JSON, which the build script writes
/// (`build.rs` says why not the TOML itself).
pub(super) const EMBEDDED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/prices.json"));

/// How the built-in table is named in error messages.
pub(super) const EMBEDDED_ORIGIN: &str = "built-in prices.toml";

/// The entry whose rates price a model no entry matches. Opus is the dearest
/// current family, so an unknown model is over- rather than under-counted.
pub const FALLBACK_KEY: &str = "claude-opus";

/// The provider reported for models no entry matches.
pub const UNKNOWN_PROVIDER: &str = "unknown";

/// Opus list prices, used only if a table somehow lacks [`FALLBACK_KEY`]
/// (the built-in one always has it, and user files can only add).
const OPUS_LIST_PRICE: Rates = Rates {
    input: 5.0,
    output: 25.0,
    cache_read: 0.5,
    cache_write_5m: 6.25,
    cache_write_1h: 10.0,
    long_context: None,
    fast_multiplier: None,
    service_tiers: BTreeMap::new(),
    inference_geo: BTreeMap::new(),
};

/// The rates of local models, as a static so a [`Match`] can borrow them.
static FREE: Rates = Rates::FREE;

/// How a model name found its rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The normalized name is a key or alias (possibly after dropping an
    /// `@tag`, a Bedrock version or a snapshot date).
    Exact,
    /// The longest key or alias the name extends (`claude-opus-9-x` →
    /// `claude-opus`).
    Prefix,
    /// A local provider, $0.
    Local,
    /// Nothing matched.
    Fallback,
}

impl MatchKind {
    /// A short word for `pricing check`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Prefix => "prefix",
            MatchKind::Local => "local",
            MatchKind::Fallback => "fallback",
        }
    }
}

/// The answer to "what does this model cost": the entry found, how, and
/// the name as normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    /// The name after normalization, in the spelling that matched (for a
    /// prefix match: before suffixes were stripped; for the fallback: fully
    /// stripped).
    pub normalized: String,
    /// How the rates were found.
    pub kind: MatchKind,
    /// The entry whose rates apply: a table key, the local provider's name,
    /// or [`FALLBACK_KEY`].
    pub key: &'a str,
    /// Who bills the model; [`UNKNOWN_PROVIDER`] for the fallback.
    pub provider: &'a str,
    /// The rates that apply at no particular time: the entry's undated
    /// rates (see [`Match::rates_at`]).
    pub rates: &'a Rates,
    /// The entry's dated rates, which win over `rates` on their days.
    pub history: &'a [DatedRates],
    /// Where the rates come from.
    pub source: PricingSource,
}

impl<'a> Match<'a> {
    /// The rates in force at `at` (a call's own time): the span of the
    /// history holding then, else [`Match::rates`]. `None` gives
    /// [`Match::rates`].
    pub fn rates_at(&self, at: Option<Timestamp>) -> &'a Rates {
        in_force(self.rates, self.history, at)
    }
}

/// One call priced: what the writer stores with a cost record.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    /// The estimated cost in USD; finite and never negative.
    pub cost_usd: f64,
    /// Who bills the model (`anthropic`, `ollama`, `unknown`, ...).
    pub provider: String,
    /// The entry whose rates applied (see [`Match::key`]).
    pub model_key: String,
    /// Where those rates come from.
    pub source: PricingSource,
    /// The billing modifiers the call reported that the rates have no fact
    /// for (`service_tier=flex`, `inference_geo=us`, `speed=fast`): priced
    /// at the standard rates and stored with the record so that a report can
    /// say so. Never set for a local model, which is free whatever it says.
    pub unpriced_modifiers: Option<String>,
}

impl Priced {
    /// The name reports group `model`'s record under: the key of the entry
    /// that priced it, so the spellings of one entry (`claude-sonnet-4-5`,
    /// `claude-sonnet-4-5-20250929`, `anthropic.claude-sonnet-4-5-…-v1:0`)
    /// are one row. A record no entry priced (the fallback, a local model)
    /// keeps its own name: the fallback's key names rates, not a model, and
    /// two unknown models are not one.
    pub fn report_name<'a>(&'a self, model: &'a str) -> &'a str {
        match self.source {
            PricingSource::Fallback | PricingSource::Local => model,
            _ => &self.model_key,
        }
    }
}

/// What is known about the user file that was merged, for `pricing list` and
/// `config` to show.
#[derive(Debug, Clone)]
struct UserFile {
    /// The path as given.
    path: String,
    /// The file's own `as_of`, if it has one.
    as_of: Option<String>,
    /// How many models it defines.
    models: usize,
}

/// The prices in force. Built once (at start and on SIGHUP) and then shared
/// read-only; cheap to clone.
#[derive(Debug, Clone)]
pub struct PriceTable {
    /// The built-in table's date.
    as_of: String,
    /// Every entry, sorted by provider then key.
    entries: Vec<Entry>,
    /// Every key and alias, in canonical form, to its entry in `entries`.
    index: HashMap<String, usize>,
    /// The rates of [`FALLBACK_KEY`] with overrides applied, so `OPUS`
    /// overrides reach unknown models too.
    fallback: Rates,
    /// The history of [`FALLBACK_KEY`], if it has one.
    fallback_history: Vec<DatedRates>,
    /// The update layer merged in (`hookmeter pricing update`), if one was
    /// found and is not older than the built-in table.
    update_file: Option<UserFile>,
    /// The user file merged in, if one was found.
    user_file: Option<UserFile>,
    /// Things worth telling the user that do not stop pricing: unknown
    /// `COST_PRICING_*` variables, aliases shadowed by keys.
    warnings: Vec<String>,
}

impl PriceTable {
    /// The built-in table alone.
    pub fn embedded() -> PriceTable {
        // The built-in file is a constant of the binary and a unit test
        // builds it, so this cannot fail at run time.
        Self::build(None, Vec::new()).expect("the built-in prices.toml is valid")
    }

    /// The built-in table, with the user's `pricing.toml` merged in
    /// (`user` is its origin, the path shown in errors, and its text; `None`
    /// when there is no file) and then the `COST_PRICING_*` variables of
    /// `env` applied (other variables are ignored). Reading the file is the
    /// caller's (the hookmeter crate's `pricing::load`): this crate does no
    /// I/O.
    ///
    /// A user entry replaces the built-in entry of the same normalized key
    /// (keeping its aliases, and its provider unless the user gives one) or
    /// adds a new one.
    pub fn build(
        user: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PriceTable, PricingError> {
        Self::build_layered(None, user, env)
    }

    /// Like [`PriceTable::build`], with the update layer (`update`: its
    /// origin and text, as `hookmeter pricing update` writes it) merged
    /// between the built-in table and the user file: the update replaces
    /// built-in entries, the user file replaces both. A layer whose `as_of`
    /// is older than the built-in table's (a binary upgraded since the
    /// update) is left out with a warning: it would bring back older prices.
    pub fn build_layered(
        update: Option<(&str, &str)>,
        user: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PriceTable, PricingError> {
        let builtin = PriceFile::parse_json(EMBEDDED_JSON, EMBEDDED_ORIGIN)?;
        Self::build_over(builtin, update, user, env)
    }

    /// A table of `file` alone, as if it were the built-in one: how the
    /// generator of `prices.toml` checks what a candidate table resolves.
    pub(crate) fn of_file(file: PriceFile) -> Result<PriceTable, PricingError> {
        Self::build_over(file, None, None, Vec::new())
    }

    fn build_over(
        builtin: PriceFile,
        update: Option<(&str, &str)>,
        user: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PriceTable, PricingError> {
        let builtin_as_of = builtin.as_of.unwrap_or_default();
        let mut drafts = entries_of(builtin.models, EMBEDDED_ORIGIN, Origin::Embedded)?;
        let mut warnings = Vec::new();

        let update_file = match update {
            None => None,
            Some((origin, text)) => {
                let file = PriceFile::parse(text, origin)?;
                match file.as_of.as_deref() {
                    Some(as_of) if as_of < builtin_as_of.as_str() => {
                        warnings.push(format!(
                            "the price update {origin} (as of {as_of}) is older than the built-in table (as of {builtin_as_of}) and is not used; run `hookmeter pricing update`"
                        ));
                        None
                    }
                    _ => {
                        let models = file.models.len();
                        let added = entries_of(file.models, origin, Origin::Update)?;
                        merge(&mut drafts, added);
                        Some(UserFile {
                            path: origin.to_string(),
                            as_of: file.as_of,
                            models,
                        })
                    }
                }
            }
        };

        let user_file = match user {
            None => None,
            Some((origin, text)) => {
                let file = PriceFile::parse(text, origin)?;
                let models = file.models.len();
                let added = entries_of(file.models, origin, Origin::User)?;
                merge(&mut drafts, added);
                Some(UserFile {
                    path: origin.to_string(),
                    as_of: file.as_of,
                    models,
                })
            }
        };

        for draft in &mut drafts {
            if draft.entry.provider.is_empty() {
                draft.entry.provider = UNKNOWN_PROVIDER.to_string();
            }
        }
        overrides::apply(&mut drafts, env, &mut warnings)?;
        // Into a new vector, not collected in place: that would keep the
        // drafts' allocation, nearly twice the entries' size, for good.
        let mut entries = Vec::with_capacity(drafts.len());
        entries.extend(drafts.into_iter().map(Draft::finish));
        entries.sort_by(|a, b| (&a.provider, &a.key).cmp(&(&b.provider, &b.key)));
        let index = index_of(&entries, &mut warnings);
        let fallback_entry = entries.iter().find(|entry| entry.id == FALLBACK_KEY);
        let fallback = fallback_entry.map_or(OPUS_LIST_PRICE, |entry| entry.rates.clone());
        let fallback_history = fallback_entry.map_or_else(Vec::new, |entry| entry.history.clone());

        Ok(PriceTable {
            as_of: builtin_as_of,
            entries,
            index,
            fallback,
            fallback_history,
            update_file,
            user_file,
            warnings,
        })
    }

    /// The date the built-in prices were true.
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// The update layer merged in, if one was found and used.
    pub fn update_file(&self) -> Option<&str> {
        self.update_file.as_ref().map(|file| file.path.as_str())
    }

    /// The update layer's `as_of`: the day `hookmeter pricing update` wrote it.
    pub fn update_as_of(&self) -> Option<&str> {
        self.update_file
            .as_ref()
            .and_then(|file| file.as_of.as_deref())
    }

    /// How many models the update layer defines (0 without one).
    pub fn update_models(&self) -> usize {
        self.update_file.as_ref().map_or(0, |file| file.models)
    }

    /// The date of the newest prices in force: the update layer's `as_of`
    /// when one is used, else the built-in table's. What `doctor` ages.
    pub fn prices_as_of(&self) -> &str {
        self.update_as_of().unwrap_or(&self.as_of)
    }

    /// The user file merged in, if one was found.
    pub fn user_file(&self) -> Option<&str> {
        self.user_file.as_ref().map(|file| file.path.as_str())
    }

    /// The user file's own `as_of`, if it gives one.
    pub fn user_as_of(&self) -> Option<&str> {
        self.user_file
            .as_ref()
            .and_then(|file| file.as_of.as_deref())
    }

    /// How many models the user file defines (0 without one).
    pub fn user_models(&self) -> usize {
        self.user_file.as_ref().map_or(0, |file| file.models)
    }

    /// Problems that did not stop loading but deserve a log line: unknown
    /// `COST_PRICING_*` variables, conflicting family overrides, aliases
    /// shadowed by keys.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every entry, sorted by provider then key (for `pricing list` and the
    /// HTTP API).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.entries.iter()
    }

    /// The rates for `model`: a local provider ($0), else the first exact
    /// match of the normalized name (tried again after each suffix strip),
    /// else the longest key it extends, else the Opus fallback. See the
    /// module docs for the normalization rules.
    pub fn lookup(&self, model: &str) -> Match<'_> {
        let lower = model.trim().to_lowercase();
        if let Some(provider) = local_provider(&lower) {
            return Match {
                normalized: lower,
                kind: MatchKind::Local,
                key: provider,
                provider,
                rates: &FREE,
                history: &[],
                source: PricingSource::Local,
            };
        }
        let (normalized, found) = find(&self.index, &lower);
        match found {
            Some((i, kind)) => {
                let entry = &self.entries[i];
                Match {
                    normalized,
                    kind,
                    key: &entry.key,
                    provider: &entry.provider,
                    rates: &entry.rates,
                    history: &entry.history,
                    source: entry.source(),
                }
            }
            None => Match {
                normalized,
                kind: MatchKind::Fallback,
                key: FALLBACK_KEY,
                provider: UNKNOWN_PROVIDER,
                rates: &self.fallback,
                history: &self.fallback_history,
                source: PricingSource::Fallback,
            },
        }
    }

    /// Prices one call of `model` made at `at` (the record's own time;
    /// `None` for the undated rates) with its token counts and the billing
    /// modifiers it reported.
    pub fn price(
        &self,
        model: &str,
        usage: &Usage,
        billing: &Billing,
        at: Option<Timestamp>,
    ) -> Priced {
        let found = self.lookup(model);
        priced(
            found.rates_at(at),
            usage,
            billing,
            found.provider,
            found.key,
            found.source,
        )
    }
}

/// The [`Priced`] answer of a call priced at `rates`, found as `key` of
/// `provider` from `source`: the one place that decides what a record says.
pub(super) fn priced(
    rates: &Rates,
    usage: &Usage,
    billing: &Billing,
    provider: &str,
    key: &str,
    source: PricingSource,
) -> Priced {
    let cost = cost(rates, usage, billing);
    Priced {
        cost_usd: cost.usd,
        provider: provider.to_string(),
        model_key: key.to_string(),
        source,
        unpriced_modifiers: cost.unpriced.filter(|_| source != PricingSource::Local),
    }
}

/// Finds the lowercased name `lower` in `index`: exact on each of its
/// spellings (route kept first, see [`spellings`]) and each spelling's
/// suffix candidates, then by prefix (see [`prefix_match`]). Returns the
/// spelling that matched (or the fully stripped one) and the entry.
fn find(index: &HashMap<String, usize>, lower: &str) -> (String, Option<(usize, MatchKind)>) {
    let spellings = spellings(lower);
    for spelling in &spellings {
        for name in candidates(spelling) {
            if let Some(&i) = index.get(name) {
                return (name.to_string(), Some((i, MatchKind::Exact)));
            }
        }
    }
    for spelling in &spellings {
        if let Some(i) = prefix_match(index, spelling) {
            return (spelling.clone(), Some((i, MatchKind::Prefix)));
        }
    }
    let stripped = spellings
        .last()
        .map(|last| candidates(last).last().copied().unwrap_or(last).to_string())
        .unwrap_or_default();
    (stripped, None)
}

/// The entry of the longest key `name` extends (see [`extends`]: never
/// across a version number), unless another key shares a longer part of
/// the name: then the name is a variant the table does not know
/// (`grok-4-fast` is not `grok-4` when `grok-4-fast-reasoning` exists).
/// The fallback's key is no prefix: a name it would price is unknown.
fn prefix_match(index: &HashMap<String, usize>, name: &str) -> Option<usize> {
    let (key, &i) = index
        .iter()
        .filter(|(key, _)| key.as_str() != FALLBACK_KEY && extends(name, key))
        .max_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| b.0.cmp(a.0)))?;
    let closer = index
        .keys()
        .any(|other| other != key && shared_words(name, other) > key.len());
    (!closer).then_some(i)
}

/// The length of the longest common start of `a` and `b` that ends at a
/// word boundary of both (the end of the name or a boundary character).
fn shared_words(a: &str, b: &str) -> usize {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let at_boundary = |s: &str, n: usize| n == s.len() || b"-:_@/".contains(&s.as_bytes()[n]);
    (0..=common)
        .rev()
        .find(|&n| at_boundary(a, n) && at_boundary(b, n))
        .unwrap_or(0)
}

/// The entries one file defines, with keys checked for collisions once
/// normalized.
fn entries_of(
    models: BTreeMap<String, ModelSpec>,
    origin: &str,
    from: Origin,
) -> Result<Vec<Draft>, PricingError> {
    // The file is consumed: each spec moves into its entry rather than being
    // copied, so loading the 2,000-entry built-in table never holds it twice.
    let mut written: HashMap<String, String> = HashMap::with_capacity(models.len());
    let mut entries = Vec::with_capacity(models.len());
    for (raw_key, spec) in models {
        let id = checked_id(&raw_key, origin)?;
        if let Some(first) = written.insert(id.clone(), raw_key.clone()) {
            return Err(PricingError::DuplicateKey {
                origin: origin.to_string(),
                first,
                second: raw_key,
                normalized: id,
            });
        }
        let mut aliases: Vec<String> = Vec::new();
        for raw_alias in &spec.aliases {
            let alias_id = checked_id(raw_alias, origin)?;
            if alias_id != id && !aliases.iter().any(|a| key_id(a) == alias_id) {
                aliases.push(raw_alias.trim().to_lowercase());
            }
        }
        let history = spec.dated_rates().map_err(|message| PricingError::Parse {
            origin: origin.to_string(),
            message: format!("model {raw_key:?}: {message}"),
        })?;
        entries.push(Draft {
            entry: Entry {
                key: raw_key.trim().to_lowercase(),
                id,
                provider: spec.provider.clone().unwrap_or_default(),
                written_aliases: aliases.len(),
                aliases,
                rates: spec.rates(),
                history,
                origin: from,
                env_vars: Vec::new(),
            },
            spec,
        });
    }
    Ok(entries)
}

/// The canonical form of a key or alias, refused when nothing is left of it.
fn checked_id(raw: &str, origin: &str) -> Result<String, PricingError> {
    let name = key_id(raw);
    if name.is_empty() {
        return Err(PricingError::EmptyKey {
            origin: origin.to_string(),
            key: raw.to_string(),
        });
    }
    Ok(name)
}

/// Merges the user's entries into the built-in ones: same key replaces
/// (the built-in aliases and provider carry over unless the user says
/// otherwise), a new key is added with the provider its name would have
/// matched.
fn merge(entries: &mut Vec<Draft>, user: Vec<Draft>) {
    let builtin_index = index_of(entries, &mut Vec::new());
    for mut draft in user {
        let added = &mut draft.entry;
        if let Some(existing) = entries.iter_mut().find(|e| e.entry.id == added.id) {
            if added.provider.is_empty() {
                added.provider = std::mem::take(&mut existing.entry.provider);
            }
            for alias in std::mem::take(&mut existing.entry.aliases) {
                let alias_id = key_id(&alias);
                if alias_id != added.id && !added.aliases.iter().any(|a| key_id(a) == alias_id) {
                    added.aliases.push(alias);
                }
            }
            // The whole draft: the replaced entry's spec goes with it.
            *existing = draft;
            continue;
        }
        if added.provider.is_empty() {
            // What the name would have matched, else its family: the bare
            // key sharing the most words with it (`claude-opus-7` is
            // Anthropic's even though no key prices it).
            let family = || {
                builtin_index
                    .iter()
                    .filter(|(id, _)| !id.contains('/'))
                    .map(|(id, &i)| {
                        (
                            shared_words(&added.id, id),
                            std::cmp::Reverse(id.as_str()),
                            i,
                        )
                    })
                    .filter(|(shared, _, _)| *shared > 0)
                    .max()
                    .map(|(_, _, i)| i)
            };
            added.provider = match find(&builtin_index, &added.id).1 {
                Some((i, _)) => entries[i].entry.provider.clone(),
                None => family().map_or_else(
                    || UNKNOWN_PROVIDER.to_string(),
                    |i| entries[i].entry.provider.clone(),
                ),
            };
        }
        entries.push(draft);
    }
}

/// Every key and alias to its entry. Keys always win over aliases (a user
/// key named like a built-in alias takes that name over); between aliases,
/// the user's win. Only an alias the user file wrote is worth a warning when
/// a key shadows it: one a replaced entry carried over from the built-in
/// table is shadowed exactly as it would be on the built-in entry.
fn index_of(entries: &[impl AsRef<Entry>], warnings: &mut Vec<String>) -> HashMap<String, usize> {
    let entries: Vec<&Entry> = entries.iter().map(AsRef::as_ref).collect();
    let mut index: HashMap<String, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| (entry.id.clone(), i))
        .collect();
    for pass in [Origin::Embedded, Origin::Update, Origin::User] {
        for (i, entry) in entries.iter().enumerate() {
            if entry.origin != pass {
                continue;
            }
            for (position, alias) in entry.aliases.iter().enumerate() {
                let alias_id = key_id(alias);
                if let Some(&owner) = index.get(&alias_id) {
                    if entries[owner].id == alias_id {
                        let written = position < entry.written_aliases;
                        if pass == Origin::User && written {
                            warnings.push(format!(
                                "alias {alias:?} of {:?} is ignored: it is the key of another model; rename the alias or drop it",
                                entry.key
                            ));
                        }
                        continue;
                    }
                }
                index.insert(alias_id, i);
            }
        }
    }
    index
}
