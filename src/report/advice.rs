//! `report --advice`: suggestions to spend less, each with the numbers behind
//! it, computed from the records a report's range and filters keep.
//!
//! Three kinds, each a pure function over rows and the price table in force:
//!
//! - [`low_cache_reads`]: sessions that read little of their prompt from the
//!   provider's cache, with what they would have cost reading
//!   [`TARGET_CACHE_READ_RATIO`] of it from cache.
//! - [`cheaper_models`]: models used for many short outputs, with the next
//!   cheaper model of the same provider and family (see
//!   [`cheaper_candidates`]) and what those very records would have cost on it.
//! - [`costly_tasks`]: tasks costing more than twice the average task of
//!   their `type` label.
//!
//! [`advise`] reads the rows those functions need through
//! [`crate::query::advice`] (on a read-only connection from
//! [`crate::query::open`]), streamed, so memory stays flat however many
//! records the range holds; the SQL lives there, never here.
//!
//! Every price comes from the [`PriceTable`] passed in and every cost from
//! [`crate::pricing::cost`]: this module must never hold a price or a cost
//! formula of its own, and it never writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;
use schemars::JsonSchema;
use serde::Serialize;

use super::Format;
use crate::collect::{Billing, Usage};
use crate::present::{count, MoneySet, Table, View};
use crate::pricing::{cost, Entry, Match, MatchKind, PriceTable, Rates};
pub use crate::query::advice::{TaskRow, UsageRow};
use crate::query::{advice, Bounds, Filter, QueryError, Range};

/// A session reads "little" from cache below this share of its prompt. An
/// agent loop re-sends its whole history every turn, so a cached session
/// reads most of each prompt from cache; under 30% the cache is mostly
/// missed (no cache breakpoints, or pauses longer than the cache lives).
pub const LOW_CACHE_READ_RATIO: f64 = 0.30;

/// Sessions with fewer prompt tokens are left alone: 100k uncached tokens
/// cost $0.50 at Opus' $5/M input, and reading them from cache instead
/// would save under $0.45: below that, not worth anyone's attention.
pub const MIN_SESSION_PROMPT_TOKENS: u64 = 100_000;

/// The share of each prompt the estimate of a flagged session assumes read
/// from cache: well under what a cached agent loop reaches (nearly all of
/// its history each turn), so the saving shown is one a session can get.
pub const TARGET_CACHE_READ_RATIO: f64 = 0.80;

/// An output is short below this many tokens: a tool call or a one-line
/// answer, work a smaller model usually does as well.
pub const SHORT_OUTPUT_TOKENS: u64 = 300;

/// A model is suggested a cheaper one only with at least this many short
/// outputs in the range: a habit worth changing, not a handful of calls.
pub const MIN_SHORT_OUTPUT_RECORDS: u64 = 20;

/// A cheaper model is suggested only if it saves at least this share of
/// the records' cost: a change of model changes behaviour too, which a
/// saving of a few percent does not pay for (some entries differ by a few
/// cents per million tokens).
pub const MIN_SAVING_SHARE: f64 = 0.10;

/// A task is costly above this multiple of its type's average task.
pub const COSTLY_TASK_FACTOR: f64 = 2.0;

/// Types with fewer tasks have no meaningful average: with two tasks, one
/// can never cost more than twice the average (it would have to exceed the
/// sum of both), and one task is its own average.
pub const MIN_TASKS_OF_A_TYPE: usize = 3;

/// The label key whose value is a task's type (`hookmeter send --label
/// type=bugfix`).
pub const TASK_TYPE_LABEL: &str = "type";

/// A session short of cache reads.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LowCacheRead {
    pub session_id: String,
    /// Every model the session used, sorted.
    pub models: Vec<String>,
    pub records: u64,
    /// input + cache read + cache write tokens.
    pub prompt_tokens: u64,
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// cache_read_tokens / prompt_tokens.
    pub cache_read_ratio: f64,
    /// As recorded.
    pub cost_usd: f64,
    /// The same records at the list prices in force: what the estimate is
    /// compared with, so a price change since recording is no "saving".
    pub list_cost_usd: f64,
    /// [`TARGET_CACHE_READ_RATIO`], for programs reading the estimate.
    pub target_cache_read_ratio: f64,
    /// At list prices, had that share of each record's prompt been read from
    /// cache (taken from its uncached input) at its model's cache-read rate.
    pub cost_at_target_usd: f64,
    /// list_cost_usd − cost_at_target_usd.
    pub saving_usd: f64,
}

/// A model used for many short outputs, and the cheaper model suggested.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CheaperModel {
    /// The model as stored.
    pub model: String,
    pub provider: String,
    /// The table entry that prices `model`.
    pub price_key: String,
    /// [`SHORT_OUTPUT_TOKENS`]: the records counted have fewer output tokens.
    pub output_tokens_below: u64,
    /// How many records those are; every number below is theirs alone.
    pub short_output_records: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// As recorded.
    pub cost_usd: f64,
    /// At `price_key`'s list prices in force.
    pub list_cost_usd: f64,
    /// The table entry suggested instead.
    pub cheaper_model: String,
    /// The same records, tokens and fast flags, at its list prices.
    pub cheaper_cost_usd: f64,
    /// list_cost_usd − cheaper_cost_usd; at least [`MIN_SAVING_SHARE`] of
    /// list_cost_usd.
    pub saving_usd: f64,
}

/// A task costing more than [`COSTLY_TASK_FACTOR`] times its type's average.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CostlyTask {
    pub task_id: String,
    #[serde(rename = "type")]
    pub task_type: String,
    pub records: u64,
    pub cost_usd: f64,
    /// The average cost of a task of this type, this one included.
    pub type_average_cost_usd: f64,
    /// cost_usd / type_average_cost_usd.
    pub ratio: f64,
    /// How many tasks of this type the average is over.
    pub type_tasks: u64,
}

/// One suggestion; serialized with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suggestion {
    LowCacheRead(LowCacheRead),
    CheaperModel(CheaperModel),
    CostlyTask(CostlyTask),
}

/// Everything `report --advice` found, each kind sorted by what it is worth.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// The range the records were read from.
    pub range: Range,
    /// Largest saving first.
    pub low_cache_reads: Vec<LowCacheRead>,
    /// Largest saving first.
    pub cheaper_models: Vec<CheaperModel>,
    /// Highest ratio first.
    pub costly_tasks: Vec<CostlyTask>,
}

impl Advice {
    /// The advice as `report --advice --json` answers it: every suggestion,
    /// each with its `kind`, and the period read.
    pub fn answer(&self) -> AdviceReport {
        let advice = self
            .low_cache_reads
            .iter()
            .cloned()
            .map(Suggestion::LowCacheRead)
            .chain(
                self.cheaper_models
                    .iter()
                    .cloned()
                    .map(Suggestion::CheaperModel),
            )
            .chain(
                self.costly_tasks
                    .iter()
                    .cloned()
                    .map(Suggestion::CostlyTask),
            )
            .collect();
        AdviceReport {
            advice,
            period: Bounds::from(self.range),
        }
    }
}

/// `{"advice": [{"kind": ..., ...}], "period": {"from", "to"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AdviceReport {
    /// Low cache reads, then cheaper models, then costly tasks, each kind
    /// sorted by what it is worth.
    pub advice: Vec<Suggestion>,
    /// The instants the records were read from, `[from, to)`.
    pub period: Bounds,
}

/// Model names resolved once each: a computation prices the same few names
/// over and over.
struct Lookups<'t> {
    table: &'t PriceTable,
    found: HashMap<String, Match<'t>>,
}

impl<'t> Lookups<'t> {
    fn new(table: &'t PriceTable) -> Self {
        Lookups {
            table,
            found: HashMap::new(),
        }
    }

    fn get(&mut self, model: &str) -> &Match<'t> {
        if !self.found.contains_key(model) {
            self.found
                .insert(model.to_string(), self.table.lookup(model));
        }
        &self.found[model]
    }
}

/// `usage` with cache reads raised to `ratio` of its prompt, the tokens
/// taken from its uncached input (cache writes stay: a cache must be
/// written to be read). A record already reading that much is unchanged.
fn with_cache_reads(usage: &Usage, ratio: f64) -> Usage {
    let wanted = (usage.prompt_tokens() as f64 * ratio).floor() as u64;
    let moved = wanted.saturating_sub(usage.cache_read).min(usage.input);
    Usage {
        input: usage.input - moved,
        cache_read: usage.cache_read + moved,
        ..*usage
    }
}

/// Sessions whose cache reads are under [`LOW_CACHE_READ_RATIO`] of at
/// least [`MIN_SESSION_PROMPT_TOKENS`] prompt tokens, with the estimate at
/// [`TARGET_CACHE_READ_RATIO`]. Records without a session are not read;
/// sessions that cost nothing at list prices (local models) are left out.
pub fn low_cache_reads(
    rows: impl IntoIterator<Item = UsageRow>,
    prices: &PriceTable,
) -> Vec<LowCacheRead> {
    #[derive(Default)]
    struct Tally {
        models: BTreeSet<String>,
        records: u64,
        input: u64,
        cache_read: u64,
        cache_write: u64,
        cost: f64,
        list_cost: f64,
        cost_at_target: f64,
    }
    let mut lookups = Lookups::new(prices);
    let mut sessions: HashMap<String, Tally> = HashMap::new();
    for row in rows {
        let Some(session) = row.session_id else {
            continue;
        };
        let rates = lookups.get(&row.model).rates;
        let tally = sessions.entry(session).or_default();
        if !tally.models.contains(&row.model) {
            tally.models.insert(row.model.clone());
        }
        tally.records += 1;
        tally.input = tally.input.saturating_add(row.usage.input);
        tally.cache_read = tally.cache_read.saturating_add(row.usage.cache_read);
        tally.cache_write = tally.cache_write.saturating_add(row.usage.cache_write);
        tally.cost += row.cost_usd;
        tally.list_cost += cost(rates, &row.usage, &Billing::fast(row.fast)).usd;
        let cached = with_cache_reads(&row.usage, TARGET_CACHE_READ_RATIO);
        tally.cost_at_target += cost(rates, &cached, &Billing::fast(row.fast)).usd;
    }
    let mut found: Vec<LowCacheRead> = sessions
        .into_iter()
        .filter_map(|(session_id, t)| {
            let prompt = t
                .input
                .saturating_add(t.cache_read)
                .saturating_add(t.cache_write);
            if prompt < MIN_SESSION_PROMPT_TOKENS || t.list_cost <= 0.0 {
                return None;
            }
            let ratio = t.cache_read as f64 / prompt as f64;
            (ratio < LOW_CACHE_READ_RATIO).then(|| LowCacheRead {
                session_id,
                models: t.models.into_iter().collect(),
                records: t.records,
                prompt_tokens: prompt,
                input_tokens: t.input,
                cache_read_tokens: t.cache_read,
                cache_write_tokens: t.cache_write,
                cache_read_ratio: ratio,
                cost_usd: t.cost,
                list_cost_usd: t.list_cost,
                target_cache_read_ratio: TARGET_CACHE_READ_RATIO,
                cost_at_target_usd: t.cost_at_target,
                saving_usd: t.list_cost - t.cost_at_target,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.saving_usd
            .total_cmp(&a.saving_usd)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    found
}

/// The first `-`-separated word of a table key: `claude`, `gpt`, `gemini`,
/// `grok`, `mistral`, `o3`. Models sharing it are one line of products.
fn family(key: &str) -> &str {
    key.split('-').next().unwrap_or(key)
}

/// True when `candidate` charges no more than `model` for any kind of token
/// (input, output, cache read, both cache writes), so it is cheaper whatever
/// the mix. Long-context tiers and fast multipliers are not compared here:
/// re-pricing the records applies them where they matter.
fn no_dearer(candidate: &Rates, model: &Rates) -> bool {
    candidate.input <= model.input
        && candidate.output <= model.output
        && candidate.cache_read <= model.cache_read
        && candidate.cache_write_5m <= model.cache_write_5m
        && candidate.cache_write_1h <= model.cache_write_1h
}

/// The entries a model's records could move to: of the same provider and
/// family (see [`family`]) as the entry that prices `found`, another key,
/// and no dearer for any kind of token. None for a local model or one no
/// entry matched: its provider is not known.
pub fn cheaper_candidates<'t>(prices: &'t PriceTable, found: &Match<'t>) -> Vec<&'t Entry> {
    if matches!(found.kind, MatchKind::Local | MatchKind::Fallback) {
        return Vec::new();
    }
    prices
        .entries()
        .filter(|entry| {
            entry.provider() == found.provider
                && entry.key() != found.key
                && family(entry.key()) == family(found.key)
                && no_dearer(entry.rates(), found.rates)
        })
        .collect()
}

/// Models with at least [`MIN_SHORT_OUTPUT_RECORDS`] records of fewer than
/// [`SHORT_OUTPUT_TOKENS`] output tokens, and the cheaper model for them.
///
/// Every [candidate](cheaper_candidates) re-prices exactly those records
/// (their tokens and fast flags) with [`cost`]; of those that save at
/// least [`MIN_SAVING_SHARE`], the suggestion is the one that saves least:
/// the next price step down, the smallest change of model worth making.
/// (The cheapest would be a "nano" or a retired model for almost
/// everything.) The table knows no release or retirement dates, so the
/// step down can be an older model: the suggestion is a price, to be
/// checked against the work.
/// Among candidates at the same cost, the shortest key wins, then the first
/// in alphabetical order: same-priced entries are a family's snapshots, and
/// the family key (`claude-sonnet`) carries the family's current price.
/// A model with no candidate that saves is not suggested anything.
pub fn cheaper_models(
    rows: impl IntoIterator<Item = UsageRow>,
    prices: &PriceTable,
) -> Vec<CheaperModel> {
    struct Tally<'t> {
        found: Match<'t>,
        candidates: Vec<&'t Entry>,
        /// The records' cost at each candidate's rates, in `candidates` order.
        candidate_costs: Vec<f64>,
        records: u64,
        usage: Usage,
        cost: f64,
        list_cost: f64,
    }
    let mut models: HashMap<String, Option<Tally<'_>>> = HashMap::new();
    for row in rows {
        if row.usage.output >= SHORT_OUTPUT_TOKENS {
            continue;
        }
        if !models.contains_key(&row.model) {
            let found = prices.lookup(&row.model);
            let candidates = cheaper_candidates(prices, &found);
            // A model nothing can replace needs no tally.
            let tally = (!candidates.is_empty()).then(|| Tally {
                candidate_costs: vec![0.0; candidates.len()],
                found,
                candidates,
                records: 0,
                usage: Usage::default(),
                cost: 0.0,
                list_cost: 0.0,
            });
            models.insert(row.model.clone(), tally);
        }
        let Some(Some(t)) = models.get_mut(&row.model) else {
            continue;
        };
        t.records += 1;
        t.usage.input = t.usage.input.saturating_add(row.usage.input);
        t.usage.output = t.usage.output.saturating_add(row.usage.output);
        t.usage.cache_read = t.usage.cache_read.saturating_add(row.usage.cache_read);
        t.usage.cache_write = t.usage.cache_write.saturating_add(row.usage.cache_write);
        t.cost += row.cost_usd;
        t.list_cost += cost(t.found.rates, &row.usage, &Billing::fast(row.fast)).usd;
        for (candidate, total) in t.candidates.iter().zip(&mut t.candidate_costs) {
            *total += cost(candidate.rates(), &row.usage, &Billing::fast(row.fast)).usd;
        }
    }
    let mut found: Vec<CheaperModel> = models
        .into_iter()
        .filter_map(|(model, tally)| {
            let t = tally.filter(|t| t.records >= MIN_SHORT_OUTPUT_RECORDS)?;
            let (cheaper, cheaper_cost) = t
                .candidates
                .iter()
                .zip(&t.candidate_costs)
                .filter(|(_, c)| {
                    let saving = t.list_cost - **c;
                    saving > 0.0 && saving >= MIN_SAVING_SHARE * t.list_cost
                })
                .max_by(|(a, ca), (b, cb)| {
                    ca.total_cmp(cb)
                        .then_with(|| b.key().len().cmp(&a.key().len()))
                        .then_with(|| b.key().cmp(a.key()))
                })?;
            Some(CheaperModel {
                model,
                provider: t.found.provider.to_string(),
                price_key: t.found.key.to_string(),
                output_tokens_below: SHORT_OUTPUT_TOKENS,
                short_output_records: t.records,
                input_tokens: t.usage.input,
                output_tokens: t.usage.output,
                cache_read_tokens: t.usage.cache_read,
                cache_write_tokens: t.usage.cache_write,
                cost_usd: t.cost,
                list_cost_usd: t.list_cost,
                cheaper_model: cheaper.key().to_string(),
                cheaper_cost_usd: *cheaper_cost,
                saving_usd: t.list_cost - cheaper_cost,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.saving_usd
            .total_cmp(&a.saving_usd)
            .then_with(|| a.model.cmp(&b.model))
    });
    found
}

/// Tasks costing more than [`COSTLY_TASK_FACTOR`] times the average task of
/// their type, among types with at least [`MIN_TASKS_OF_A_TYPE`] tasks.
pub fn costly_tasks(tasks: &[TaskRow]) -> Vec<CostlyTask> {
    let mut by_type: BTreeMap<&str, Vec<&TaskRow>> = BTreeMap::new();
    for task in tasks {
        by_type.entry(&task.task_type).or_default().push(task);
    }
    let mut found = Vec::new();
    for (task_type, tasks) in by_type {
        if tasks.len() < MIN_TASKS_OF_A_TYPE {
            continue;
        }
        let average = tasks.iter().map(|t| t.cost_usd).sum::<f64>() / tasks.len() as f64;
        if average <= 0.0 {
            continue;
        }
        for task in tasks
            .iter()
            .filter(|t| t.cost_usd > COSTLY_TASK_FACTOR * average)
        {
            found.push(CostlyTask {
                task_id: task.task_id.clone(),
                task_type: task_type.to_string(),
                records: task.records,
                cost_usd: task.cost_usd,
                type_average_cost_usd: average,
                ratio: task.cost_usd / average,
                type_tasks: tasks.len() as u64,
            });
        }
    }
    found.sort_by(|a, b| {
        b.ratio
            .total_cmp(&a.ratio)
            .then_with(|| a.task_id.cmp(&b.task_id))
    });
    found
}

/// Reads what the three kinds need from the records `filter` keeps, and
/// computes them with `prices`.
pub fn advise(
    conn: &Connection,
    filter: &Filter,
    prices: &PriceTable,
) -> Result<Advice, QueryError> {
    let low_cache = advice::session_usage(conn, filter, |rows| low_cache_reads(rows, prices))?;
    let cheaper = advice::short_output_usage(conn, filter, SHORT_OUTPUT_TOKENS, |rows| {
        cheaper_models(rows, prices)
    })?;
    let tasks = advice::typed_tasks(conn, filter, TASK_TYPE_LABEL)?;
    Ok(Advice {
        range: filter.range,
        low_cache_reads: low_cache,
        cheaper_models: cheaper,
        costly_tasks: costly_tasks(&tasks),
    })
}

/// The advice as `report --advice` prints it: text, or JSON (see
/// [`Advice::answer`]). There is no CSV form: the kinds have different
/// fields.
pub fn render(advice: &Advice, period: &str, view: &View, format: Format) -> String {
    if format == Format::Json {
        return format!("{:#}\n", crate::query::json(&advice.answer()));
    }
    let mut out = format!("Advice for {period}, at the list prices in force\n");

    out.push_str(&format!(
        "\nSessions with a low cache-read ratio (under {:.0}% of at least {} prompt tokens)\n",
        LOW_CACHE_READ_RATIO * 100.0,
        count(MIN_SESSION_PROMPT_TOKENS as i64)
    ));
    if advice.low_cache_reads.is_empty() {
        out.push_str("  nothing to suggest\n");
    } else {
        let target = format!("at {:.0}% cache read", TARGET_CACHE_READ_RATIO * 100.0);
        let mut t = Table::new()
            .id("session")
            .text("models")
            .number("cache read")
            .number("prompt tokens")
            .number("cost")
            .number(&target)
            .number("saving");
        let found = &advice.low_cache_reads;
        let cost = MoneySet::of(found.iter().map(|s| s.list_cost_usd));
        let at_target = MoneySet::of(found.iter().map(|s| s.cost_at_target_usd));
        let saving = MoneySet::of(found.iter().map(|s| s.saving_usd));
        for s in found {
            t.row([
                s.session_id.clone(),
                s.models.join(" "),
                percent(s.cache_read_ratio),
                count(s.prompt_tokens as i64),
                cost.show(s.list_cost_usd),
                at_target.show(s.cost_at_target_usd),
                saving.show(s.saving_usd),
            ]);
        }
        out.push_str(&format!(
            "{}  {target}: the same records had {:.0}% of each prompt been read from \
             cache at its model's cache-read rate.\n",
            t.render(view.width),
            TARGET_CACHE_READ_RATIO * 100.0
        ));
    }

    out.push_str(&format!(
        "\nModels with many short outputs (at least {MIN_SHORT_OUTPUT_RECORDS} records under \
         {SHORT_OUTPUT_TOKENS} output tokens)\n"
    ));
    if advice.cheaper_models.is_empty() {
        out.push_str("  nothing to suggest\n");
    } else {
        let mut t = Table::new()
            .text("model")
            .number("short outputs")
            .number("cost")
            .text("cheaper model")
            .number("its cost")
            .number("saving");
        let found = &advice.cheaper_models;
        let cost = MoneySet::of(found.iter().map(|m| m.list_cost_usd));
        let cheaper = MoneySet::of(found.iter().map(|m| m.cheaper_cost_usd));
        let saving = MoneySet::of(found.iter().map(|m| m.saving_usd));
        for m in found {
            t.row([
                m.model.clone(),
                count(m.short_output_records as i64),
                cost.show(m.list_cost_usd),
                m.cheaper_model.clone(),
                cheaper.show(m.cheaper_cost_usd),
                saving.show(m.saving_usd),
            ]);
        }
        out.push_str(&format!(
            "{}  cheaper model: of the same provider and family, no dearer for any kind of \
             token, the next price down saving at least {:.0}% of those records' cost.\n",
            t.render(view.width),
            MIN_SAVING_SHARE * 100.0
        ));
    }

    out.push_str(&format!(
        "\nTasks costing more than {COSTLY_TASK_FACTOR}× the average of their label:{TASK_TYPE_LABEL} \
         (types with at least {MIN_TASKS_OF_A_TYPE} tasks)\n"
    ));
    if advice.costly_tasks.is_empty() {
        out.push_str("  nothing to suggest\n");
    } else {
        let mut t = Table::new()
            .text("task")
            .text("type")
            .number("cost")
            .number("type average")
            .number("ratio")
            .number("tasks of type");
        let found = &advice.costly_tasks;
        let cost = MoneySet::of(found.iter().map(|c| c.cost_usd));
        let average = MoneySet::of(found.iter().map(|c| c.type_average_cost_usd));
        for c in found {
            t.row([
                c.task_id.clone(),
                c.task_type.clone(),
                cost.show(c.cost_usd),
                average.show(c.type_average_cost_usd),
                format!("{:.2}×", c.ratio),
                count(c.type_tasks as i64),
            ]);
        }
        out.push_str(&t.render(view.width));
    }
    out
}

/// A ratio as a percentage with one decimal: `7.7%`.
fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, cache_read: u64, cache_write: u64, output: u64) -> Usage {
        Usage::of(input, cache_read, cache_write, output)
    }

    fn row(session: &str, model: &str, usage: Usage) -> UsageRow {
        UsageRow {
            session_id: Some(session.to_string()),
            model: model.to_string(),
            cost_usd: PriceTable::embedded()
                .price(model, &usage, &Billing::standard(), None)
                .cost_usd,
            usage,
            fast: false,
        }
    }

    fn task(id: &str, task_type: &str, cost_usd: f64) -> TaskRow {
        TaskRow {
            task_id: id.to_string(),
            task_type: task_type.to_string(),
            records: 1,
            cost_usd,
        }
    }

    #[test]
    fn sessions_missing_the_cache_are_flagged_with_an_estimate_from_the_table() {
        let prices = PriceTable::embedded();
        let rows = vec![
            // 156k prompt tokens, 9.6% read from cache.
            row("cold", "claude-sonnet-4-5", usage(60_000, 5_000, 0, 800)),
            row(
                "cold",
                "claude-sonnet-4-5",
                usage(60_000, 5_000, 1_000, 800),
            ),
            row("cold", "claude-haiku-4-5", usage(20_000, 5_000, 0, 100)),
            // 900k prompt tokens, 89% cached.
            row("warm", "claude-sonnet-4-5", usage(100_000, 800_000, 0, 900)),
            // Uncached but small.
            row("small", "claude-opus-4-6", usage(99_999, 0, 0, 10)),
            // Large and uncached, but free.
            row("local", "ollama/qwen3", usage(500_000, 0, 0, 10)),
            UsageRow {
                session_id: None,
                ..row("x", "claude-opus-4-6", usage(500_000, 0, 0, 10))
            },
        ];
        let found = low_cache_reads(rows, &prices);
        assert_eq!(found.len(), 1, "{found:#?}");
        let s = &found[0];
        assert_eq!(s.session_id, "cold");
        assert_eq!(s.models, ["claude-haiku-4-5", "claude-sonnet-4-5"]);
        assert_eq!((s.records, s.prompt_tokens), (3, 156_000));
        assert_eq!(s.cache_read_ratio, 15_000.0 / 156_000.0);

        let sonnet = prices.lookup("claude-sonnet-4-5").rates;
        let haiku = prices.lookup("claude-haiku-4-5").rates;
        // 80% of each prompt as cache reads, taken from its input.
        let want = cost(sonnet, &usage(13_000, 52_000, 0, 800), &Billing::standard()).usd
            + cost(
                sonnet,
                &usage(12_200, 52_800, 1_000, 800),
                &Billing::standard(),
            )
            .usd
            + cost(haiku, &usage(5_000, 20_000, 0, 100), &Billing::standard()).usd;
        assert!((s.cost_at_target_usd - want).abs() < 1e-12, "{s:?}");
        assert!((s.saving_usd - (s.list_cost_usd - want)).abs() < 1e-12);
        assert!(s.saving_usd > 0.0);
        assert!((s.list_cost_usd - s.cost_usd).abs() < 1e-12);
    }

    #[test]
    fn raising_cache_reads_takes_only_uncached_input() {
        assert_eq!(
            with_cache_reads(&usage(100, 0, 0, 5), 0.8),
            usage(20, 80, 0, 5)
        );
        // Writes stay writes; too little input moves what there is.
        assert_eq!(
            with_cache_reads(&usage(10, 0, 90, 5), 0.8),
            usage(0, 10, 90, 5)
        );
        // Already above the target: unchanged.
        assert_eq!(
            with_cache_reads(&usage(5, 95, 0, 5), 0.8),
            usage(5, 95, 0, 5)
        );
    }

    fn short_rows(model: &str, n: usize) -> Vec<UsageRow> {
        (0..n)
            .map(|i| row("s", model, usage(3_000 + i as u64, 20_000, 500, 120)))
            .collect()
    }

    #[test]
    fn an_expensive_model_with_many_short_outputs_gets_the_next_cheaper_price() {
        let prices = PriceTable::embedded();
        let mut rows = short_rows("claude-opus-4-6", 20);
        // Long outputs are not counted, nor do they change the numbers.
        rows.push(row("s", "claude-opus-4-6", usage(1_000_000, 0, 0, 300)));
        // 19 short outputs are not a habit.
        rows.extend(short_rows("gpt-5", 19));
        // Unknown and local models have no provider to stay with.
        rows.extend(short_rows("mystery-model", 30));
        rows.extend(short_rows("ollama/qwen3", 30));
        let found = cheaper_models(rows.clone(), &prices);
        assert_eq!(found.len(), 1, "{found:#?}");
        let m = &found[0];
        assert_eq!(m.model, "claude-opus-4-6");
        assert_eq!(m.provider, "anthropic");
        assert_eq!(m.short_output_records, 20);
        // The Sonnet entries tie on price; the shortest key wins the tie.
        assert_eq!(m.cheaper_model, "claude-4-sonnet");

        let cheaper = prices.lookup("claude-4-sonnet").rates;
        let own = prices.lookup("claude-opus-4-6").rates;
        let short = rows.iter().filter(|r| r.model == "claude-opus-4-6");
        let (mut list, mut want) = (0.0, 0.0);
        for r in short.filter(|r| r.usage.output < SHORT_OUTPUT_TOKENS) {
            list += cost(own, &r.usage, &Billing::standard()).usd;
            want += cost(cheaper, &r.usage, &Billing::standard()).usd;
        }
        assert!((m.cheaper_cost_usd - want).abs() < 1e-12);
        assert!((m.saving_usd - (list - want)).abs() < 1e-12);
        assert!(m.saving_usd > 0.0);
    }

    #[test]
    fn candidates_are_never_dearer_and_stay_in_provider_and_family() {
        let prices = PriceTable::embedded();
        for model in ["claude-opus-4-6", "gpt-5.5", "gemini-2.5-pro", "grok-4"] {
            let found = prices.lookup(model);
            let candidates = cheaper_candidates(&prices, &found);
            assert!(!candidates.is_empty(), "{model}");
            for c in candidates {
                assert_eq!(c.provider(), found.provider, "{model} → {}", c.key());
                assert_eq!(family(c.key()), family(found.key), "{model} → {}", c.key());
                assert!(no_dearer(c.rates(), found.rates), "{model} → {}", c.key());
                assert_ne!(c.key(), found.key);
            }
        }
        assert!(cheaper_candidates(&prices, &prices.lookup("ollama/x")).is_empty());
        assert!(cheaper_candidates(&prices, &prices.lookup("mystery")).is_empty());
    }

    #[test]
    fn the_cheapest_of_a_family_is_suggested_nothing() {
        let prices = PriceTable::embedded();
        for model in ["gpt-5-nano", "claude-3-haiku"] {
            let found = cheaper_models(short_rows(model, 40), &prices);
            assert!(found.is_empty(), "{found:#?}");
        }
    }

    #[test]
    fn entries_at_the_same_price_save_nothing_and_are_passed_over() {
        // claude-opus-4-5 costs what claude-opus and later Opus entries cost
        // (without fast mode): the suggestion is a step down, not a twin.
        let prices = PriceTable::embedded();
        let found = cheaper_models(short_rows("claude-opus-4-5", 20), &prices);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].cheaper_model, "claude-4-sonnet");
    }

    #[test]
    fn a_saving_of_a_few_percent_is_not_worth_a_change_of_model() {
        // gpt-5.5 is gpt-5.6 without the cache-write charge: a few percent
        // of these records, so the step down goes further.
        let prices = PriceTable::embedded();
        let found = cheaper_models(short_rows("gpt-5.6", 20), &prices);
        assert_eq!(found.len(), 1);
        let m = &found[0];
        assert!(!["gpt-5.5", "gpt-5.6-sol"].contains(&m.cheaper_model.as_str()));
        assert!(m.saving_usd >= MIN_SAVING_SHARE * m.list_cost_usd, "{m:?}");
        let twin = prices.lookup("gpt-5.5").rates;
        let rows = short_rows("gpt-5.6", 20);
        let twin_cost: f64 = rows
            .iter()
            .map(|r| cost(twin, &r.usage, &Billing::standard()).usd)
            .sum();
        assert!(twin_cost < m.list_cost_usd, "the twin does save something");
        assert!(m.list_cost_usd - twin_cost < MIN_SAVING_SHARE * m.list_cost_usd);
    }

    #[test]
    fn tasks_over_twice_their_type_average_are_flagged() {
        let tasks = [
            task("B-1", "bugfix", 1.0),
            task("B-2", "bugfix", 1.0),
            task("B-3", "bugfix", 1.0),
            task("B-4", "bugfix", 10.0),
            // Exactly twice the average (2, 1, 1, 0: average 1) is not more.
            task("R-1", "refactor", 2.0),
            task("R-2", "refactor", 1.0),
            task("R-3", "refactor", 1.0),
            task("R-4", "refactor", 0.0),
            // Two tasks make no average worth comparing with.
            task("F-1", "feature", 0.01),
            task("F-2", "feature", 100.0),
        ];
        let found = costly_tasks(&tasks);
        assert_eq!(found.len(), 1, "{found:#?}");
        let t = &found[0];
        assert_eq!(
            (t.task_id.as_str(), t.task_type.as_str()),
            ("B-4", "bugfix")
        );
        assert_eq!(t.type_average_cost_usd, 13.0 / 4.0);
        assert_eq!(t.ratio, 10.0 / 3.25);
        assert_eq!(t.type_tasks, 4);
        assert!(costly_tasks(&[]).is_empty());
    }

    /// Inserts one record into a fresh schema.
    fn insert(conn: &Connection, n: u32, agent: &str, r: &UsageRow, task: Option<(&str, &str)>) {
        conn.execute(
            "INSERT INTO cost_records (timestamp, session_id, agent_id, task_id, provider, model,
                 input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                 estimated_cost_usd, pricing_source, hook_event_id, source, labels_json)
             VALUES ('2026-09-20T10:00:00.000Z', ?1, ?2, ?3, 'anthropic', ?4, ?5, ?6, ?7, ?8,
                     ?9, 'embedded', ?10, 'hook', ?11)",
            rusqlite::params![
                r.session_id,
                agent,
                task.map(|t| t.0),
                r.model,
                r.usage.input as i64,
                r.usage.output as i64,
                r.usage.cache_read as i64,
                r.usage.cache_write as i64,
                r.cost_usd,
                format!("e-{n}"),
                task.map(|t| format!(r#"{{"{TASK_TYPE_LABEL}":"{}"}}"#, t.1)),
            ],
        )
        .unwrap();
    }

    #[test]
    fn advise_reads_the_records_the_filter_keeps() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        let prices = PriceTable::embedded();
        let mut n = 0;
        for r in short_rows("claude-opus-4-6", 25) {
            n += 1;
            insert(&conn, n, "main", &r, None);
        }
        let cold = row("cold", "claude-sonnet-4-5", usage(200_000, 0, 0, 900));
        n += 1;
        insert(&conn, n, "other", &cold, None);
        for (id, kind, input) in [
            ("T-1", "bugfix", 1_000),
            ("T-2", "bugfix", 1_000),
            ("T-3", "bugfix", 1_000),
            ("T-4", "bugfix", 30_000),
        ] {
            n += 1;
            let r = UsageRow {
                session_id: None,
                ..row("", "claude-sonnet-4-5", usage(input, 0, 0, 500))
            };
            insert(&conn, n, "other", &r, Some((id, kind)));
        }
        // A task labelled with two types is in neither.
        for kind in ["bugfix", "feature"] {
            n += 1;
            let r = UsageRow {
                session_id: None,
                ..row("", "claude-sonnet-4-5", usage(90_000, 0, 0, 500))
            };
            insert(&conn, n, "other", &r, Some(("T-5", kind)));
        }

        let all = advise(&conn, &Filter::default(), &prices).unwrap();
        crate::query::schema_check::assert_answer_fits_schema(&all.answer());
        assert_eq!(all.low_cache_reads.len(), 1);
        assert_eq!(all.cheaper_models.len(), 1);
        assert_eq!(all.costly_tasks.len(), 1, "{:#?}", all.costly_tasks);
        assert_eq!(all.costly_tasks[0].task_id, "T-4");
        assert_eq!(all.costly_tasks[0].type_tasks, 4);

        let main = Filter {
            agent: Some("main".into()),
            ..Filter::default()
        };
        let only_main = advise(&conn, &main, &prices).unwrap();
        assert!(only_main.low_cache_reads.is_empty());
        assert!(only_main.costly_tasks.is_empty());
        assert_eq!(only_main.cheaper_models, all.cheaper_models);

        let later = Filter {
            range: Range {
                from: Some("2026-09-21T00:00:00Z".parse().unwrap()),
                to: None,
            },
            ..Filter::default()
        };
        let none = advise(&conn, &later, &prices).unwrap();
        let json = crate::query::json(&none.answer());
        assert_eq!(json["advice"], serde_json::json!([]));
        assert_eq!(json["period"]["from"], "2026-09-21T00:00:00.000Z");
        assert_eq!(
            render(&none, "2026-09-21 → now", &View::utc(), Format::Table)
                .matches("nothing to suggest")
                .count(),
            3
        );

        let kinds: Vec<_> = crate::query::json(&all.answer())["advice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kinds, ["low_cache_read", "cheaper_model", "costly_task"]);
    }
}
