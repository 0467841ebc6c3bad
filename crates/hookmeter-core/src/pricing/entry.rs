//! One priced model of the table and where its rates came from: what the
//! table is made of and the environment's overrides change. Its own module
//! so that `overrides` works on entries without knowing the table that
//! holds them (and `table`, which applies the overrides, is not imported
//! back).

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::dated::DatedRates;
use super::file::ModelSpec;
use super::rates::Rates;

/// Where the rates that priced a call came from; stored with every cost
/// record as `pricing_source` so a report can say how trustworthy it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PricingSource {
    /// The built-in table.
    Embedded,
    /// The update layer `hookmeter pricing update` writes (LiteLLM's
    /// current prices), between the built-in table and `pricing.toml`.
    Update,
    /// The user's `pricing.toml`.
    User,
    /// A `COST_PRICING_*` environment variable changed the entry.
    Env,
    /// A local provider: $0 by rule, tokens still counted.
    Local,
    /// No entry matched; priced as [`super::FALLBACK_KEY`] so the cost is never
    /// silently $0.
    Fallback,
}

impl PricingSource {
    /// The name stored in the database and shown to users.
    pub fn as_str(&self) -> &'static str {
        match self {
            PricingSource::Embedded => "embedded",
            PricingSource::Update => "update",
            PricingSource::User => "user",
            PricingSource::Env => "env",
            PricingSource::Local => "local",
            PricingSource::Fallback => "fallback",
        }
    }
}

impl fmt::Display for PricingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which file an entry was last defined by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Embedded,
    Update,
    User,
}

/// An entry while the table is built: with its prices as written, which
/// the `COST_PRICING_*` overrides edit so that an override of `input` also
/// moves the rates that default to it. The written form is dropped once
/// the rates are resolved: the table keeps only what lookups need.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) entry: Entry,
    pub(crate) spec: ModelSpec,
}

impl Draft {
    /// The finished entry, its rates resolved from the spec.
    pub(super) fn finish(self) -> Entry {
        Entry {
            rates: self.spec.rates(),
            ..self.entry
        }
    }
}

impl AsRef<Entry> for Draft {
    fn as_ref(&self) -> &Entry {
        &self.entry
    }
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

/// One priced model of the table.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key as providers write it (`gpt-5.1`), route prefixes dropped:
    /// what users see and what a cost record's `model_key` holds.
    pub(super) key: String,
    /// `key` in canonical form (`gpt-5-1`): what names are matched against
    /// and what two files' keys are compared by.
    pub(super) id: String,
    /// Who bills the model.
    pub(super) provider: String,
    /// Other names of exactly this model, in display form.
    pub(super) aliases: Vec<String>,
    /// How many of `aliases`, from the front, the entry's own file wrote;
    /// the rest were carried over from the entry it replaced.
    pub(super) written_aliases: usize,
    /// The prices with defaults resolved: what costs are computed from.
    pub(super) rates: Rates,
    /// Rates of the spans of days the prices' history gives, which win over
    /// `rates` for a call made on one of those days.
    pub(super) history: Vec<DatedRates>,
    /// The file that defined the entry last.
    pub(super) origin: Origin,
    /// The `COST_PRICING_*` variables that changed the entry, for `pricing
    /// check` to show.
    pub(super) env_vars: Vec<String>,
}

impl Entry {
    /// The key, as providers write it (`gpt-5.1`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key in canonical form (`gpt-5-1`): lowercase, `.` as `-`.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Who bills the model.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Other names of exactly this model.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// The rates, defaults resolved.
    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The dated rates that win over [`Entry::rates`] on their days.
    pub fn history(&self) -> &[DatedRates] {
        &self.history
    }

    /// Where the rates come from.
    pub fn source(&self) -> PricingSource {
        match (self.env_vars.is_empty(), self.origin) {
            (false, _) => PricingSource::Env,
            (true, Origin::User) => PricingSource::User,
            (true, Origin::Update) => PricingSource::Update,
            (true, Origin::Embedded) => PricingSource::Embedded,
        }
    }

    /// The environment variables that changed this entry.
    pub fn env_vars(&self) -> &[String] {
        &self.env_vars
    }

    pub(crate) fn note_env_var(&mut self, var: &str) {
        if !self.env_vars.iter().any(|v| v == var) {
            self.env_vars.push(var.to_string());
        }
    }
}

/// Serialized for `GET /api/costs/pricing`: key, provider, aliases, rates,
/// history (only when there is one), source.
impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Entry", 6)?;
        s.serialize_field("key", &self.key)?;
        s.serialize_field("provider", &self.provider)?;
        s.serialize_field("aliases", &self.aliases)?;
        s.serialize_field("rates", &self.rates)?;
        if self.history.is_empty() {
            s.skip_field("history")?;
        } else {
            s.serialize_field("history", &self.history)?;
        }
        s.serialize_field("source", &self.source())?;
        s.end()
    }
}
