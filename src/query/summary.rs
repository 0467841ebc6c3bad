//! Cost summaries: totals grouped by up to a few dimensions.
//!
//! Where it can, a summary reads the rollups (`cost_rollup_daily` and
//! `cost_rollup_hourly`, kept equal to `cost_records` by the writer) for the
//! whole days and hours of its range and `cost_records` only for the partial
//! hours at either end ([`tiers`]), so its cost grows with the number of
//! days, not of records. Sessions, tools, tasks and
//! labels are not in the rollup; a summary that needs them reads
//! `cost_records`. Both paths give the same numbers.
//!
//! Days and hours are those of the report's time zone. Rows come out of SQL
//! in UTC time buckets (hours; minutes when a zone's offset is not whole
//! hours, so a bucket never straddles two local days) and are mapped to
//! local days here.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::Connection;
use schemars::JsonSchema;
use serde::Serialize;

use super::fallback::FallbackPriced;
use super::tiers::{self, Piece};
use super::{Dimension, Filter, QueryError, Range};

// Sums over a set of cost records. (Not a doc comment: the answers
// flatten it, and its description would become that of every row.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, JsonSchema)]
pub struct Totals {
    pub records: i64,
    pub cost_usd: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// Of the cache writes, those kept for an hour.
    pub cache_write_1h_tokens: i64,
    /// Of the output tokens, those spent reasoning.
    pub reasoning_tokens: i64,
}

impl Totals {
    pub(crate) fn add(&mut self, other: &Totals) {
        self.records += other.records;
        self.cost_usd += other.cost_usd;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.cache_write_1h_tokens += other.cache_write_1h_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }

    /// The eight sums in field order from column `first` on; a NULL sum
    /// (no rows) reads as 0.
    pub(crate) fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Totals> {
        let int = |i: usize| -> rusqlite::Result<i64> {
            Ok(row.get::<_, Option<i64>>(first + i)?.unwrap_or(0))
        };
        Ok(Totals {
            records: int(0)?,
            cost_usd: row.get::<_, Option<f64>>(first + 1)?.unwrap_or(0.0),
            input_tokens: int(2)?,
            output_tokens: int(3)?,
            cache_read_tokens: int(4)?,
            cache_write_tokens: int(5)?,
            cache_write_1h_tokens: int(6)?,
            reasoning_tokens: int(7)?,
        })
    }

    /// Every token counted, cache reads and writes included.
    pub fn tokens(&self) -> i64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// One group: its key at each level (`None` where records have no value).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub keys: Vec<Option<String>>,
    pub totals: Totals,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub dimensions: Vec<Dimension>,
    /// Time dimensions in time order; others by cost, largest first, each
    /// level within the one before.
    pub groups: Vec<Group>,
    pub totals: Totals,
    pub range: Range,
}

impl Summary {
    /// The summary as it is answered: `report --json`, `GET
    /// /api/costs/summary` and MCP's `get_cost_report`, with the
    /// fallback-priced part of the same filter
    /// ([`super::fallback_priced`]).
    pub fn answer(&self, fallback_priced: FallbackPriced) -> CostReport {
        CostReport {
            group_by: self.dimensions.iter().map(Dimension::name).collect(),
            groups: self
                .groups
                .iter()
                .map(|g| ReportGroup {
                    key: joined_key(&g.keys),
                    keys: g.keys.clone(),
                    totals: g.totals,
                })
                .collect(),
            total_cost_usd: self.totals.cost_usd,
            total_input_tokens: self.totals.input_tokens,
            total_output_tokens: self.totals.output_tokens,
            total_cache_read_tokens: self.totals.cache_read_tokens,
            total_cache_write_tokens: self.totals.cache_write_tokens,
            total_records: self.totals.records,
            period: Bounds::from(self.range),
            fallback_priced,
        }
    }

    /// The one-level groups as rows of `T` (a key and its totals), in the
    /// summary's order.
    pub fn rows<T>(&self, row: impl Fn(Option<String>, Totals) -> T) -> Vec<T> {
        rows(&self.groups, row)
    }
}

/// One-level groups as rows of `T`, from their first key and totals.
pub(crate) fn rows<T>(groups: &[Group], row: impl Fn(Option<String>, Totals) -> T) -> Vec<T> {
    groups
        .iter()
        .map(|g| row(g.keys.first().cloned().flatten(), g.totals))
        .collect()
}

/// A summary as it is answered. Its wire names are the contract
/// (docs/http-api.md); a program reading `report --json` sees the same.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CostReport {
    /// The dimensions grouped by, outer first.
    pub group_by: Vec<String>,
    /// Day and hour groups in time order, others most expensive first.
    pub groups: Vec<ReportGroup>,
    pub total_cost_usd: f64,
    pub total_input_tokens: i64,
    pub total_output_tokens: i64,
    pub total_cache_read_tokens: i64,
    pub total_cache_write_tokens: i64,
    pub total_records: i64,
    /// The instants the report covers, `[from, to)`; null is unbounded.
    pub period: Bounds,
    /// The part of the totals priced at the fallback rates because no
    /// table entry knows the model, and which models those are.
    pub fallback_priced: FallbackPriced,
}

/// One group of a summary: its keys and its totals.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ReportGroup {
    /// The keys joined by " / ", a missing one read "(none)"; at one level
    /// the key itself (null where the records had none).
    pub key: Option<String>,
    /// One key per level; null where the records had no value.
    pub keys: Vec<Option<String>>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// The ends of a range as answers give them: RFC 3339 UTC, `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Bounds {
    /// null: from the first record.
    pub from: Option<String>,
    /// null: up to now.
    pub to: Option<String>,
}

impl From<Range> for Bounds {
    fn from(range: Range) -> Self {
        let bound = |ts: Option<Timestamp>| ts.map(crate::record::format_timestamp);
        Bounds {
            from: bound(range.from),
            to: bound(range.to),
        }
    }
}

/// One model's share of a session or a task.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelCost {
    /// The model as the agent named it; null when the records had none.
    pub model: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// A group's keys as one string: `None` levels read `(none)`.
fn joined_key(keys: &[Option<String>]) -> Option<String> {
    match keys {
        [] => None,
        [one] => one.clone(),
        many => Some(
            many.iter()
                .map(|k| k.as_deref().unwrap_or("(none)"))
                .collect::<Vec<_>>()
                .join(" / "),
        ),
    }
}

/// Totals of the records `filter` keeps, grouped by `dimensions` (none: one
/// group holding everything).
pub fn summary(
    conn: &Connection,
    filter: &Filter,
    dimensions: &[Dimension],
    tz: &TimeZone,
) -> Result<Summary, QueryError> {
    if let Some(d) = dimensions.iter().find(|d| d.is_central()) {
        return Err(QueryError::Invalid(format!(
            "--by {}: only the team's central database knows it (`report --team URL`)",
            d.name()
        )));
    }
    let by_rollup = filter.fits_rollup()
        && dimensions.iter().all(|d| {
            matches!(
                d,
                Dimension::Agent
                    | Dimension::Model
                    | Dimension::Provider
                    | Dimension::Project
                    | Dimension::Day
                    | Dimension::Hour
            )
        });
    let plan = Plan {
        conn,
        filter,
        dimensions,
    };
    let mut parts = Parts::new(dimensions, tz);
    let whole = by_rollup && plan.read_rollup(&mut parts, Bucket::Hour)?;
    if !whole {
        parts = Parts::new(dimensions, tz);
        if !plan.read_records(&mut parts, filter.range, Bucket::Hour)? {
            parts = Parts::new(dimensions, tz);
            plan.read_records(&mut parts, filter.range, Bucket::Minute)?;
        }
    }
    Ok(parts.finish(filter.range))
}

/// How many clock hours of `filter`'s range hold at least one of its
/// records: what a spend rate "per active hour" divides by. Hours are UTC
/// hours, the buckets of `cost_rollup_hourly`; in a zone whose offset is
/// whole hours they are its local hours too. Whole hours are counted in the
/// hourly rollup, the partial hours at either end of the range in
/// `cost_records` (a filter on session or task reads the records alone).
pub fn active_hours(conn: &Connection, filter: &Filter) -> Result<i64, QueryError> {
    if !filter.fits_rollup() {
        return active_hours_of_records(conn, filter);
    }
    let mut hours = 0;
    for piece in tiers::pieces(filter.range, false) {
        hours += if piece.tier == tiers::Tier::Records {
            let edge = Filter {
                range: piece.range,
                ..filter.clone()
            };
            active_hours_of_records(conn, &edge)?
        } else {
            let (conditions, mut params) = filter.conditions(true);
            let mut sql = format!(
                "SELECT count(DISTINCT hour) FROM cost_rollup_hourly \
                 WHERE records > 0{conditions}"
            );
            let bounds = [(">=", piece.range.from), ("<", piece.range.to)];
            for (op, bound) in bounds {
                if let Some(ts) = bound {
                    params.push(tiers::Tier::Hours.label(ts));
                    sql.push_str(&format!(" AND hour {op} ?{}", params.len()));
                }
            }
            conn.prepare_cached(&sql)?
                .query_row(rusqlite::params_from_iter(&params), |row| row.get(0))?
        };
    }
    Ok(hours)
}

/// [`active_hours`] counted in `cost_records` alone.
fn active_hours_of_records(conn: &Connection, filter: &Filter) -> Result<i64, QueryError> {
    let (conditions, params) = filter.record_conditions();
    let sql = format!(
        "SELECT count(DISTINCT substr(timestamp, 1, 13)) FROM cost_records WHERE 1{conditions}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(&params), |row| row.get(0))?)
}

/// The width of the UTC time buckets rows are read in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bucket {
    Hour,
    Minute,
}

impl Bucket {
    /// Characters of a stored timestamp that name the bucket.
    pub(crate) fn chars(self) -> usize {
        match self {
            Bucket::Hour => 13,
            Bucket::Minute => 16,
        }
    }

    fn start(self, label: &str) -> Option<Timestamp> {
        let text = match self {
            Bucket::Hour => format!("{label}:00:00Z"),
            Bucket::Minute => format!("{label}:00Z"),
        };
        text.parse().ok()
    }

    fn last_instant(self, start: Timestamp) -> Option<Timestamp> {
        let width = match self {
            Bucket::Hour => 1.hour(),
            Bucket::Minute => 1.minute(),
        };
        start
            .checked_add(width)
            .ok()?
            .checked_sub(1.millisecond())
            .ok()
    }
}

struct Plan<'a> {
    conn: &'a Connection,
    filter: &'a Filter,
    dimensions: &'a [Dimension],
}

impl Plan<'_> {
    fn timed(&self) -> bool {
        self.dimensions.iter().any(Dimension::is_time)
    }

    /// Whole days and hours from the rollups, partial hours at the ends
    /// from the records (days only when not grouping by time: a local day
    /// need not be a UTC one). False when the zone splits an hour between
    /// two local days.
    fn read_rollup(&self, parts: &mut Parts, bucket: Bucket) -> Result<bool, QueryError> {
        let grouped = !self.dimensions.is_empty();
        for piece in tiers::pieces(self.filter.range, !self.timed()) {
            let whole = match piece.tier.source(self.filter, grouped) {
                None => self.read_records(parts, piece.range, bucket)?,
                Some((table, column)) => self.read_table(parts, piece, table, column, bucket)?,
            };
            if !whole {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One rollup piece of the range from its summary table.
    fn read_table(
        &self,
        parts: &mut Parts,
        piece: Piece,
        table: &str,
        column: &str,
        bucket: Bucket,
    ) -> Result<bool, QueryError> {
        let (conditions, mut params) = self.filter.conditions(true);
        let mut columns: Vec<String> = Vec::new();
        if self.timed() {
            columns.push(column.into());
        }
        for d in self.dimensions.iter().filter(|d| !d.is_time()) {
            columns.push(rollup_column(d).into());
        }
        let mut sql = String::from("SELECT ");
        for c in &columns {
            sql.push_str(c);
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "sum(records), total(cost_usd), sum(input_tokens), sum(output_tokens), \
             sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), \
             sum(reasoning_tokens) FROM {table} WHERE 1{conditions}"
        ));
        if let Some(from) = piece.range.from {
            params.push(piece.tier.label(from));
            sql.push_str(&format!(" AND {column} >= ?{}", params.len()));
        }
        if let Some(to) = piece.range.to {
            params.push(piece.tier.label(to));
            sql.push_str(&format!(" AND {column} < ?{}", params.len()));
        }
        if !columns.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", columns.join(", ")));
        }
        parts.read(self.conn, &sql, &params, bucket)
    }

    /// The records of `range` from `cost_records`. False when a time bucket
    /// straddles two local days or hours (retry with a narrower bucket).
    fn read_records(
        &self,
        parts: &mut Parts,
        range: Range,
        bucket: Bucket,
    ) -> Result<bool, QueryError> {
        let (conditions, mut params) = self.filter.conditions(false);
        let mut columns: Vec<String> = Vec::new();
        if self.timed() {
            columns.push(format!("substr(timestamp, 1, {})", bucket.chars()));
        }
        for d in self.dimensions.iter().filter(|d| !d.is_time()) {
            columns.push(match d {
                Dimension::Label(key) => {
                    params.push(format!("$.\"{}\"", key.replace('"', "\\\"")));
                    format!("CAST(json_extract(labels_json, ?{}) AS TEXT)", params.len())
                }
                other => record_column(other).into(),
            });
        }
        let mut sql = String::from("SELECT ");
        for c in &columns {
            sql.push_str(c);
            sql.push_str(", ");
        }
        sql.push_str(
            "count(*), total(estimated_cost_usd), sum(input_tokens), sum(output_tokens), \
             sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), \
             sum(reasoning_tokens) FROM cost_records WHERE 1",
        );
        sql.push_str(&conditions);
        if let Some(from) = range.from {
            params.push(crate::record::format_timestamp(from));
            sql.push_str(&format!(" AND timestamp >= ?{}", params.len()));
        }
        if let Some(to) = range.to {
            params.push(crate::record::format_timestamp(to));
            sql.push_str(&format!(" AND timestamp < ?{}", params.len()));
        }
        if !columns.is_empty() {
            let positions: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
            sql.push_str(&format!(" GROUP BY {}", positions.join(", ")));
        }
        parts.read(self.conn, &sql, &params, bucket)
    }
}

fn rollup_column(d: &Dimension) -> &'static str {
    match d {
        Dimension::Agent => "agent_id",
        Dimension::Model => "model_key",
        Dimension::Provider => "provider",
        Dimension::Project => "NULLIF(project, '')",
        _ => unreachable!("only rollup dimensions reach the rollup"),
    }
}

fn record_column(d: &Dimension) -> &'static str {
    match d {
        Dimension::Agent => "agent_id",
        Dimension::Model => "coalesce(model_key, model)",
        Dimension::Provider => "provider",
        Dimension::Project => "project",
        Dimension::Session => "session_id",
        Dimension::Tool => "tool_name",
        Dimension::Task => "task_id",
        Dimension::Prompt => "prompt_id",
        Dimension::Branch => "git_branch",
        Dimension::Day | Dimension::Hour | Dimension::Label(_) => {
            unreachable!("time and label columns are built by the caller")
        }
        Dimension::User | Dimension::Host | Dimension::Machine => {
            unreachable!("summary refuses the central dimensions")
        }
    }
}

/// Groups being summed, from any number of queries (of this database, or
/// of the central one: [`super::team`]).
pub(crate) struct Parts<'a> {
    dimensions: &'a [Dimension],
    tz: &'a TimeZone,
    groups: HashMap<Vec<Option<String>>, Totals>,
    /// UTC bucket label -> (local day, local hour); `None` when the bucket
    /// straddles two of either.
    local: HashMap<String, Option<(String, String)>>,
}

impl<'a> Parts<'a> {
    pub(crate) fn new(dimensions: &'a [Dimension], tz: &'a TimeZone) -> Self {
        Parts {
            dimensions,
            tz,
            groups: HashMap::new(),
            local: HashMap::new(),
        }
    }

    /// Adds the rows of `sql` (an optional time bucket, the other
    /// dimensions in order, then the eight sums). False if a bucket cannot
    /// be placed in one local day and hour.
    fn read(
        &mut self,
        conn: &Connection,
        sql: &str,
        params: &[String],
        bucket: Bucket,
    ) -> Result<bool, QueryError> {
        let timed = self.dimensions.iter().any(Dimension::is_time);
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            let label: Option<String> = if timed { row.get(0)? } else { None };
            let first = usize::from(timed);
            let others = self.dimensions.iter().filter(|d| !d.is_time()).count();
            let values = (first..first + others)
                .map(|i| row.get::<_, Option<String>>(i))
                .collect::<Result<Vec<_>, _>>()?;
            let totals = Totals::from_row(row, first + others)?;
            if !self.add(label.as_deref(), values, totals, bucket) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Adds one row: its UTC time bucket (when grouping by time), the
    /// values of the other dimensions in order, and its sums. False if the
    /// bucket cannot be placed in one local day and hour.
    pub(crate) fn add(
        &mut self,
        label: Option<&str>,
        values: Vec<Option<String>>,
        totals: Totals,
        bucket: Bucket,
    ) -> bool {
        let local = match label {
            Some(label) => match self.local_of(label, bucket) {
                Some(local) => Some(local),
                None => return false,
            },
            None => None,
        };
        let mut values = values.into_iter();
        let keys = self
            .dimensions
            .iter()
            .map(|d| match (d, &local) {
                (Dimension::Day, Some((day, _))) => Some(day.clone()),
                (Dimension::Hour, Some((_, hour))) => Some(hour.clone()),
                _ => values.next().flatten(),
            })
            .collect();
        if totals.records > 0 {
            self.groups.entry(keys).or_default().add(&totals);
        }
        true
    }

    fn local_of(&mut self, label: &str, bucket: Bucket) -> Option<(String, String)> {
        if let Some(known) = self.local.get(label) {
            return known.clone();
        }
        let place = |ts: Timestamp| {
            let zoned = ts.to_zoned(self.tz.clone());
            (
                zoned.strftime("%Y-%m-%d").to_string(),
                zoned.strftime("%Y-%m-%dT%H:00").to_string(),
            )
        };
        let found = bucket.start(label).and_then(|start| {
            let first = place(start);
            let last = place(bucket.last_instant(start)?);
            (first == last).then_some(first)
        });
        self.local.insert(label.to_string(), found.clone());
        found
    }

    pub(crate) fn finish(self, range: Range) -> Summary {
        // Each level's order: time in time order, anything else by the cost
        // of its group at that level, largest first.
        let levels = self.dimensions.len();
        let mut level_cost: Vec<HashMap<Vec<Option<String>>, f64>> = vec![HashMap::new(); levels];
        for (keys, t) in &self.groups {
            for (level, costs) in level_cost.iter_mut().enumerate() {
                *costs.entry(keys[..=level].to_vec()).or_default() += t.cost_usd;
            }
        }
        let mut groups: Vec<Group> = self
            .groups
            .into_iter()
            .map(|(keys, totals)| Group { keys, totals })
            .collect();
        groups.sort_by(|a, b| {
            for level in 0..levels {
                let order = if self.dimensions[level].is_time() {
                    a.keys[level].cmp(&b.keys[level])
                } else {
                    let cost = |g: &Group| level_cost[level][&g.keys[..=level]];
                    cost(b)
                        .total_cmp(&cost(a))
                        .then_with(|| a.keys[level].cmp(&b.keys[level]))
                };
                if order.is_ne() {
                    return order;
                }
            }
            std::cmp::Ordering::Equal
        });
        // Summed in the groups' order, so the same data gives the same float.
        let mut totals = Totals::default();
        for g in &groups {
            totals.add(&g.totals);
        }
        Summary {
            dimensions: self.dimensions.to_vec(),
            groups,
            totals,
            range,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_rows::{database, range, row, Row, START};
    use proptest::prelude::*;

    /// The summary computed the slow, obvious way.
    fn expected(
        rows: &[Row],
        filter: &Filter,
        dims: &[Dimension],
        tz: &TimeZone,
    ) -> HashMap<Vec<Option<String>>, (i64, f64, i64)> {
        let mut out: HashMap<Vec<Option<String>>, (i64, f64, i64)> = HashMap::new();
        for r in rows {
            let keep = filter.range.from.is_none_or(|f| r.ts >= f)
                && filter.range.to.is_none_or(|t| r.ts < t)
                && filter.agent.as_deref().is_none_or(|a| a == r.agent)
                && filter.model.as_deref().is_none_or(|m| r.has_model(m))
                && filter.session.as_deref().is_none_or(|s| s == r.session)
                && filter
                    .project
                    .as_deref()
                    .is_none_or(|p| p == r.project.unwrap_or(""));
            if !keep {
                continue;
            }
            let local = r.ts.to_zoned(tz.clone());
            let keys = dims
                .iter()
                .map(|d| match d {
                    Dimension::Agent => Some(r.agent.to_string()),
                    Dimension::Model => Some(r.name().to_string()),
                    Dimension::Provider => Some("p".to_string()),
                    Dimension::Project => r.project.map(str::to_string),
                    Dimension::Session => Some(r.session.to_string()),
                    Dimension::Tool => r.tool.map(str::to_string),
                    Dimension::Label(_) => r.team.map(str::to_string),
                    Dimension::Day => Some(local.strftime("%Y-%m-%d").to_string()),
                    Dimension::Hour => Some(local.strftime("%Y-%m-%dT%H:00").to_string()),
                    Dimension::Task => None,
                    Dimension::Prompt => r.prompt.map(str::to_string),
                    Dimension::Branch => r.branch.map(str::to_string),
                    Dimension::User | Dimension::Host | Dimension::Machine => None,
                })
                .collect();
            let e = out.entry(keys).or_default();
            e.0 += 1;
            e.1 += r.cost;
            e.2 += r.input;
        }
        out
    }

    fn dims() -> impl Strategy<Value = Vec<Dimension>> {
        let one = prop::sample::select(vec![
            Dimension::Agent,
            Dimension::Model,
            Dimension::Provider,
            Dimension::Project,
            Dimension::Day,
            Dimension::Hour,
            Dimension::Session,
            Dimension::Tool,
            Dimension::Prompt,
            Dimension::Branch,
            Dimension::Label("team".into()),
        ]);
        prop::collection::vec(one, 0..=2)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever path answers (rollup plus edges, or the records), in
        /// whatever zone, the groups are those of the records themselves.
        #[test]
        fn every_summary_equals_the_sum_over_its_records(
            rows in prop::collection::vec(row(), 0..120),
            dims in dims(),
            from_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            len_ms in prop::option::of(0..(2 * 86_400 * 1000i64)),
            agent in prop::option::of(prop::sample::select(vec!["claude-code", "codex"])),
            project in prop::option::of(prop::sample::select(vec!["shop", ""])),
            session in prop::option::of(prop::sample::select(vec!["s1", "s2"])),
            model in prop::option::of(prop::sample::select(vec!["m-a", "m-b", "m-a-20260101"])),
            zone in prop::sample::select(vec!["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]),
        ) {
            let conn = database(&rows);
            let tz = TimeZone::get(zone).unwrap();
            let filter = Filter {
                range: range(from_ms, len_ms),
                agent: agent.map(str::to_string),
                project: project.map(str::to_string),
                session: session.map(str::to_string),
                model: model.map(str::to_string),
                ..Filter::default()
            };
            let got = summary(&conn, &filter, &dims, &tz).unwrap();
            let want = expected(&rows, &filter, &dims, &tz);
            prop_assert_eq!(got.groups.len(), want.len());
            for g in &got.groups {
                let w = want.get(&g.keys).expect("a group the records do not have");
                prop_assert_eq!(g.totals.records, w.0);
                prop_assert!((g.totals.cost_usd - w.1).abs() < 1e-9);
                prop_assert_eq!(g.totals.input_tokens, w.2);
            }
            let total: i64 = want.values().map(|w| w.0).sum();
            prop_assert_eq!(got.totals.records, total);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Active hours, from the rollup and the edges or from the records,
        /// are the distinct UTC hours of the records the filter keeps.
        #[test]
        fn active_hours_are_the_distinct_hours_of_the_kept_records(
            rows in prop::collection::vec(row(), 0..120),
            from_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            len_ms in prop::option::of(0..(2 * 86_400 * 1000i64)),
            agent in prop::option::of(prop::sample::select(vec!["claude-code", "codex"])),
            session in prop::option::of(prop::sample::select(vec!["s1", "s2"])),
        ) {
            let conn = database(&rows);
            let filter = Filter {
                range: range(from_ms, len_ms),
                agent: agent.map(str::to_string),
                session: session.map(str::to_string),
                ..Filter::default()
            };
            let want: std::collections::HashSet<i64> = rows
                .iter()
                .filter(|r| {
                    filter.range.from.is_none_or(|f| r.ts >= f)
                        && filter.range.to.is_none_or(|t| r.ts < t)
                        && filter.agent.as_deref().is_none_or(|a| a == r.agent)
                        && filter.session.as_deref().is_none_or(|s| s == r.session)
                })
                .map(|r| r.ts.as_second().div_euclid(3_600))
                .collect();
            prop_assert_eq!(active_hours(&conn, &filter).unwrap(), want.len() as i64);
        }
    }

    #[test]
    fn groups_come_in_time_order_or_by_cost() {
        let at = |h: i64| Timestamp::from_second(START + h * 3600).unwrap();
        let rows = vec![
            Row {
                ts: at(30),
                agent: "codex",
                model: "m-a",
                model_key: None,
                project: None,
                session: "s1",
                tool: None,
                team: None,
                prompt: None,
                branch: None,
                cost: 1.0,
                input: 1,
            },
            Row {
                ts: at(1),
                agent: "claude-code",
                model: "m-b",
                model_key: None,
                project: None,
                session: "s1",
                tool: None,
                team: None,
                prompt: None,
                branch: None,
                cost: 5.0,
                input: 1,
            },
        ];
        let conn = database(&rows);
        let by_day = summary(&conn, &Filter::default(), &[Dimension::Day], &TimeZone::UTC).unwrap();
        let days: Vec<_> = by_day
            .groups
            .iter()
            .map(|g| g.keys[0].clone().unwrap())
            .collect();
        assert_eq!(days, ["2026-09-10", "2026-09-11"]);
        let by_agent = summary(
            &conn,
            &Filter::default(),
            &[Dimension::Agent],
            &TimeZone::UTC,
        )
        .unwrap();
        let agents: Vec<_> = by_agent
            .groups
            .iter()
            .map(|g| g.keys[0].clone().unwrap())
            .collect();
        assert_eq!(agents, ["claude-code", "codex"], "the larger cost first");
        assert_eq!(by_agent.totals.records, 2);
        assert!((by_agent.totals.cost_usd - 6.0).abs() < 1e-12);
    }
}
