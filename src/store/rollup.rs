//! The summary tables the writer keeps beside `cost_records`: the hourly
//! and daily rollups (`cost_rollup_hourly`, `cost_rollup_daily`), the daily
//! totals (`cost_totals_daily`) and the lifetime event counters
//! (`event_counts`).
//!
//! Whoever inserts or updates a cost record notes the change in a [`Tally`]
//! and flushes it in the same transaction, one statement per touched group
//! rather than one per record. Triggers would do the same per row, but a row
//! trigger makes SQLite keep a statement journal for every insert, which
//! halved ingest throughput when measured. Deletes are the exception: a
//! trigger takes them out of the rollup (deletes are rare, and an operator
//! pruning old rows with `sqlite3` must not leave the rollup behind).

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::collect::Usage;

/// What a cost record contributes to the rollup.
#[derive(Debug, Clone, Copy)]
pub struct Contribution<'a> {
    /// The record's timestamp as stored (RFC 3339 UTC).
    pub timestamp: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    /// The name reports group the record under (`cost_records.model_key`).
    pub model_key: &'a str,
    pub agent_id: &'a str,
    pub project: Option<&'a str>,
    pub cost_usd: f64,
    pub usage: &'a Usage,
}

/// The rollup's key: UTC hour, provider, model, model key, agent, project
/// ('' for none).
type Key = (String, String, String, String, String, String);

#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    records: i64,
    cost_usd: f64,
    tokens: [i64; 6],
}

/// What an upsert into a summary table adds to a row already there.
macro_rules! sums_on_conflict {
    () => {
        "
             ON CONFLICT DO UPDATE SET
                 records = records + excluded.records,
                 cost_usd = cost_usd + excluded.cost_usd,
                 input_tokens = input_tokens + excluded.input_tokens,
                 output_tokens = output_tokens + excluded.output_tokens,
                 cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
                 cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
                 cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens,
                 reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens"
    };
}

/// The upsert of one group into a rollup table (`$bucket` names its time column).
macro_rules! upsert_sql {
    ($table:literal, $bucket:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (",
            $bucket,
            ", provider, model, model_key, agent_id, project, records,
                 cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                 cache_write_1h_tokens, reasoning_tokens)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            sums_on_conflict!()
        )
    };
}

/// The upsert of one day into `cost_totals_daily`.
macro_rules! upsert_totals_sql {
    () => {
        concat!(
            "INSERT INTO cost_totals_daily (day, records, cost_usd, input_tokens, output_tokens,
                 cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            sums_on_conflict!()
        )
    };
}

/// Deletes one group of a rollup table if it holds no records any more.
macro_rules! drop_empty_sql {
    ($table:literal, $bucket:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE ",
            $bucket,
            " = ?1 AND provider = ?2 AND model = ?3
                 AND model_key = ?4 AND agent_id = ?5 AND project = ?6 AND records <= 0"
        )
    };
}

/// Changes to the summary tables, gathered over a transaction.
#[derive(Debug, Default)]
pub struct Tally {
    /// A batch touches a handful of groups (live ingest: the current hour),
    /// so a list searched without allocating beats a hash map here.
    rollup: Vec<(Key, Sums)>,
    events: HashMap<(&'static str, String, String), i64>,
    /// The next change number to hand out (`meta.next_rev`): read at the
    /// transaction's first change, written back by [`Tally::flush`]. One
    /// read and one write per transaction, not per record.
    next_rev: Option<i64>,
}

impl Tally {
    /// A record that now counts (inserted, or the new side of an update).
    pub fn add(&mut self, c: &Contribution<'_>) {
        self.apply(c, 1);
    }

    /// A record that no longer counts as it was (the old side of an update).
    pub fn remove(&mut self, c: &Contribution<'_>) {
        self.apply(c, -1);
    }

    fn apply(&mut self, c: &Contribution<'_>, sign: i64) {
        let hour = c.timestamp.get(..13).unwrap_or(c.timestamp);
        let project = c.project.unwrap_or("");
        // From the end: records arrive in time order, so the group a record
        // joins is nearly always the newest (an import spans many hours).
        let found = self.rollup.iter().rposition(|(k, _)| {
            k.0 == hour
                && k.1 == c.provider
                && k.2 == c.model
                && k.3 == c.model_key
                && k.4 == c.agent_id
                && k.5 == project
        });
        let at = found.unwrap_or_else(|| {
            let key = (
                hour.to_string(),
                c.provider.to_string(),
                c.model.to_string(),
                c.model_key.to_string(),
                c.agent_id.to_string(),
                project.to_string(),
            );
            self.rollup.push((key, Sums::default()));
            self.rollup.len() - 1
        });
        let sums = &mut self.rollup[at].1;
        let u = c.usage;
        sums.records += sign;
        sums.cost_usd += sign as f64 * c.cost_usd;
        for (total, n) in sums.tokens.iter_mut().zip([
            u.input,
            u.output,
            u.cache_read,
            u.cache_write,
            u.cache_write_1h,
            u.reasoning,
        ]) {
            *total += sign * i64::try_from(n).unwrap_or(i64::MAX);
        }
    }

    /// A change number for a cost record inserted, updated or deleted in
    /// this transaction (`cost_records.rev`, `record_tombstones.rev`):
    /// unique, and above every number committed before, since SQLite lets
    /// one transaction write at a time and the counter is part of it.
    pub fn rev(&mut self, conn: &Connection) -> rusqlite::Result<i64> {
        let next = match self.next_rev {
            Some(next) => next,
            None => conn
                .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'next_rev'")?
                .query_row([], |r| r.get(0))?,
        };
        self.next_rev = Some(next + 1);
        Ok(next)
    }

    /// An event stored (`accepted`, its source) or kept as rejected
    /// (`rejected`, its edge and reason code).
    pub fn event(&mut self, outcome: &'static str, source: &str, reason: &str) {
        *self
            .events
            .entry((outcome, source.to_string(), reason.to_string()))
            .or_default() += 1;
    }

    /// Writes the gathered changes in the caller's transaction and forgets them.
    pub fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if let Some(next) = self.next_rev.take() {
            conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_rev'")?
                .execute([next])?;
        }
        // The daily rollup gets the same changes, summed per day.
        let mut days: Vec<(Key, Sums)> = Vec::new();
        for (key, s) in self.rollup.drain(..) {
            if s.records == 0 && s.cost_usd == 0.0 && s.tokens == [0; 6] {
                continue;
            }
            let day = key.0.get(..10).unwrap_or(&key.0);
            match days.iter_mut().find(|(k, _)| {
                k.0 == day
                    && k.1 == key.1
                    && k.2 == key.2
                    && k.3 == key.3
                    && k.4 == key.4
                    && k.5 == key.5
            }) {
                Some((_, sums)) => sums.merge(&s),
                None => {
                    let (_, provider, model, model_key, agent, project) = &key;
                    let day_key = (
                        day.to_string(),
                        provider.clone(),
                        model.clone(),
                        model_key.clone(),
                        agent.clone(),
                        project.clone(),
                    );
                    days.push((day_key, s));
                }
            }
            upsert(conn, Table::Hourly, &key, &s)?;
        }
        let mut totals: Vec<(&str, Sums)> = Vec::new();
        for (key, s) in &days {
            upsert(conn, Table::Daily, key, s)?;
            match totals.iter_mut().find(|(day, _)| *day == key.0) {
                Some((_, sums)) => sums.merge(s),
                None => totals.push((&key.0, *s)),
            }
        }
        for (day, s) in &totals {
            let t = s.tokens;
            conn.prepare_cached(upsert_totals_sql!())?.execute(params![
                day, s.records, s.cost_usd, t[0], t[1], t[2], t[3], t[4], t[5]
            ])?;
            if s.records < 0 {
                conn.prepare_cached(
                    "DELETE FROM cost_totals_daily WHERE day = ?1 AND records <= 0",
                )?
                .execute([day])?;
            }
        }
        for ((outcome, source, reason), n) in self.events.drain() {
            conn.prepare_cached(
                "INSERT INTO event_counts (outcome, source, reason, events) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO UPDATE SET events = events + excluded.events",
            )?
            .execute(params![outcome, source, reason, n])?;
        }
        Ok(())
    }
}

impl Sums {
    fn merge(&mut self, other: &Sums) {
        self.records += other.records;
        self.cost_usd += other.cost_usd;
        for (total, n) in self.tokens.iter_mut().zip(other.tokens) {
            *total += n;
        }
    }
}

#[derive(Clone, Copy)]
enum Table {
    Hourly,
    Daily,
}

/// Adds `s` to the group `key` of one rollup table, and drops the group if
/// that emptied it.
fn upsert(conn: &Connection, table: Table, key: &Key, s: &Sums) -> rusqlite::Result<()> {
    let (add, drop_empty) = match table {
        Table::Hourly => (
            upsert_sql!("cost_rollup_hourly", "hour"),
            drop_empty_sql!("cost_rollup_hourly", "hour"),
        ),
        Table::Daily => (
            upsert_sql!("cost_rollup_daily", "day"),
            drop_empty_sql!("cost_rollup_daily", "day"),
        ),
    };
    let (bucket, provider, model, model_key, agent, project) = key;
    let t = s.tokens;
    conn.prepare_cached(add)?.execute(params![
        bucket, provider, model, model_key, agent, project, s.records, s.cost_usd, t[0], t[1],
        t[2], t[3], t[4], t[5]
    ])?;
    if s.records < 0 {
        // A group this change may have emptied: by its key, not a scan.
        conn.prepare_cached(drop_empty)?
            .execute(params![bucket, provider, model, model_key, agent, project])?;
    }
    Ok(())
}

/// Fills an empty rollup from `cost_records` in one statement.
pub(crate) const FILL_SQL: &str = include_str!("rollup_fill.sql");
/// Fills an empty daily rollup from the hourly one.
pub(crate) const DAILY_FILL_SQL: &str = include_str!("rollup_daily_fill.sql");

/// Recomputes the rollup from `cost_records`: for a database filled by
/// other means than hookmeter's writer (a restore, a test).
pub fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM cost_rollup_hourly;\nDELETE FROM cost_rollup_daily;\nDELETE FROM cost_totals_daily;\n{FILL_SQL}\n{DAILY_FILL_SQL}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input,
            output,
            ..Usage::default()
        }
    }

    #[test]
    fn an_update_moves_a_record_between_groups_and_empty_groups_go() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA_SQL).unwrap();
        let (small, large) = (usage(10, 1), usage(10, 5));
        let old = Contribution {
            timestamp: "2026-09-20T10:59:59.999Z",
            provider: "anthropic",
            model: "m",
            model_key: "m",
            agent_id: "a",
            project: None,
            cost_usd: 0.5,
            usage: &small,
        };
        let mut tally = Tally::default();
        tally.add(&old);
        tally.event("accepted", "hook", "");
        tally.flush(&conn).unwrap();
        // The record's larger snapshot arrives with a later timestamp.
        let new = Contribution {
            timestamp: "2026-09-20T11:00:00.000Z",
            cost_usd: 0.75,
            usage: &large,
            ..old
        };
        tally.remove(&old);
        tally.add(&new);
        tally.event("accepted", "hook", "");
        tally.flush(&conn).unwrap();
        let rows: Vec<(String, i64, f64, i64)> = conn
            .prepare("SELECT hour, records, cost_usd, output_tokens FROM cost_rollup_hourly")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("2026-09-20T11".to_string(), 1, 0.75, 5)]);
        let days: Vec<(String, i64, f64, i64)> = conn
            .prepare("SELECT day, records, cost_usd, output_tokens FROM cost_rollup_daily")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(days, [("2026-09-20".to_string(), 1, 0.75, 5)]);
        let totals: (String, i64, f64, i64) = conn
            .query_row(
                "SELECT day, records, cost_usd, output_tokens FROM cost_totals_daily",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(totals, ("2026-09-20".to_string(), 1, 0.75, 5));
        let events: i64 = conn
            .query_row("SELECT events FROM event_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(events, 2);
    }
}
