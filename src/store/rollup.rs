//! The summary tables the writer keeps beside `cost_records`: the hourly
//! and daily rollups (`cost_rollup_hourly`, `cost_rollup_daily`), the daily
//! totals (`cost_totals_daily`), the per-session rollup (`cost_sessions`)
//! and the lifetime event counters (`event_counts`).
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
    /// The session the record belongs to, if any (`cost_sessions`' key).
    pub session_id: Option<&'a str>,
    pub cost_usd: f64,
    pub usage: &'a Usage,
}

/// What a transaction's new records add to one session.
#[derive(Debug, Clone)]
struct SessionSums {
    first_at: String,
    last_at: String,
    /// The greatest project named, as SQL's `max()` picks it.
    project: Option<String>,
    sums: Sums,
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
    /// Sessions gaining records, with what they gain.
    sessions: Vec<(String, SessionSums)>,
    /// Sessions with a record that changed or went: recomputed from
    /// `cost_records` at the flush. A first or last timestamp or a project
    /// cannot be taken back out of a sum.
    stale_sessions: Vec<String>,
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
        if let Some(session) = c.session_id {
            self.apply_session(session, c, sign);
        }
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
        self.rollup[at].1.add(c, sign);
    }

    fn apply_session(&mut self, session: &str, c: &Contribution<'_>, sign: i64) {
        if sign < 0 {
            if !self.stale_sessions.iter().any(|s| s == session) {
                self.stale_sessions.push(session.to_string());
            }
            return;
        }
        let mut one = Sums::default();
        one.add(c, 1);
        // From the end, as for the hourly groups: a batch follows a session.
        match self.sessions.iter_mut().rev().find(|(s, _)| s == session) {
            Some((_, seen)) => {
                if c.timestamp < seen.first_at.as_str() {
                    seen.first_at = c.timestamp.to_string();
                }
                if c.timestamp > seen.last_at.as_str() {
                    seen.last_at = c.timestamp.to_string();
                }
                if c.project > seen.project.as_deref() {
                    seen.project = c.project.map(str::to_string);
                }
                seen.sums.merge(&one);
            }
            None => self.sessions.push((
                session.to_string(),
                SessionSums {
                    first_at: c.timestamp.to_string(),
                    last_at: c.timestamp.to_string(),
                    project: c.project.map(str::to_string),
                    sums: one,
                },
            )),
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
        for (session, s) in self.sessions.drain(..) {
            if self.stale_sessions.contains(&session) {
                continue; // recomputed below, this transaction's records included
            }
            let t = s.sums.tokens;
            conn.prepare_cached(concat!(
                "INSERT INTO cost_sessions (session_id, first_at, last_at, records, cost_usd,
                     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                     cache_write_1h_tokens, reasoning_tokens, project)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                sums_on_conflict!(),
                ",
                 first_at = min(first_at, excluded.first_at),
                 last_at = max(last_at, excluded.last_at),
                 project = coalesce(max(project, excluded.project), project, excluded.project)"
            ))?
            .execute(params![
                session,
                s.first_at,
                s.last_at,
                s.sums.records,
                s.sums.cost_usd,
                t[0],
                t[1],
                t[2],
                t[3],
                t[4],
                t[5],
                s.project
            ])?;
        }
        for session in self.stale_sessions.drain(..) {
            recompute_session(conn, &session)?;
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
    fn add(&mut self, c: &Contribution<'_>, sign: i64) {
        let u = c.usage;
        self.records += sign;
        self.cost_usd += sign as f64 * c.cost_usd;
        for (total, n) in self.tokens.iter_mut().zip([
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

/// Replaces one session's row of `cost_sessions` by what its records add up
/// to now (none when it has no records left): through the session index.
fn recompute_session(conn: &Connection, session: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM cost_sessions WHERE session_id = ?1")?
        .execute([session])?;
    conn.prepare_cached(
        "INSERT INTO cost_sessions
             SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
                    sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                    sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
                    max(project)
             FROM cost_records WHERE session_id = ?1 GROUP BY session_id",
    )?
    .execute([session])?;
    Ok(())
}

/// Fills an empty per-session rollup from `cost_records` in one statement.
pub(crate) const SESSION_FILL_SQL: &str = include_str!("session_fill.sql");
/// Fills an empty rollup from `cost_records` in one statement.
pub(crate) const FILL_SQL: &str = include_str!("rollup_fill.sql");
/// Fills an empty daily rollup from the hourly one.
pub(crate) const DAILY_FILL_SQL: &str = include_str!("rollup_daily_fill.sql");

/// Recomputes the rollup from `cost_records`: for a database filled by
/// other means than hookmeter's writer (a restore, a test).
pub fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM cost_rollup_hourly;\nDELETE FROM cost_rollup_daily;\nDELETE FROM cost_totals_daily;\nDELETE FROM cost_sessions;\n{FILL_SQL}\n{DAILY_FILL_SQL}\n{SESSION_FILL_SQL}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a change to the records does, as a writer makes it.
    #[derive(Debug, Clone)]
    enum Change {
        /// A new record: session, hour offset, project, cost in micro-dollars.
        Insert(usize, u8, Option<&'static str>, u32),
        /// A stored record (by position among those stored) gets a new
        /// timestamp, project and cost, or moves to another session.
        Update(usize, u8, Option<&'static str>, u32, Option<usize>),
        /// A stored record goes (the delete trigger's part).
        Delete(usize),
        /// The transaction ends.
        Commit,
    }

    fn change() -> impl Strategy<Value = Change> {
        let project = prop::option::of(prop::sample::select(vec!["shop", "api"]));
        prop_oneof![
            4 => (0..4usize, 0..48u8, project.clone(), 0..1_000_000u32)
                .prop_map(|(s, h, p, c)| Change::Insert(s, h, p, c)),
            2 => (0..64usize, 0..48u8, project, 0..1_000_000u32, prop::option::of(0..4usize))
                .prop_map(|(i, h, p, c, s)| Change::Update(i, h, p, c, s)),
            1 => (0..64usize).prop_map(Change::Delete),
            1 => Just(Change::Commit),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever records a writer inserts, updates and deletes, and
        /// however it groups them into transactions, `cost_sessions` holds
        /// what the fill computes from the records (costs to rounding).
        #[test]
        fn the_session_rollup_follows_every_change(changes in prop::collection::vec(change(), 0..80)) {
            const SESSIONS: [&str; 4] = ["s0", "s1", "s2", "s3"];
            let mut conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(super::super::SCHEMA_SQL).unwrap();
            let mut tally = Tally::default();
            let mut tx = conn.transaction().unwrap();
            let zero = Usage::default();
            let stamp = |hour: u8| format!("2026-09-{:02}T{:02}:30:00.000Z", 20 + hour / 24, hour % 24);
            // id, session, timestamp, project, cost of the records stored.
            let mut stored: Vec<(i64, usize, String, Option<&'static str>, f64)> = Vec::new();
            let mut inserted = 0;
            let contribution = |r: &(i64, usize, String, Option<&'static str>, f64)| {
                (SESSIONS[r.1], r.2.clone(), r.3, r.4)
            };
            for change in changes {
                match change {
                    Change::Insert(session, hour, project, micros) => {
                        let (ts, cost) = (stamp(hour), f64::from(micros) / 1e6);
                        tx.execute(
                            "INSERT INTO cost_records (timestamp, session_id, agent_id, project,
                                 provider, model, estimated_cost_usd, pricing_source,
                                 hook_event_id, source)
                             VALUES (?1, ?2, 'a', ?3, 'p', 'm', ?4, 'embedded', ?5, 'hook')",
                            params![ts, SESSIONS[session], project, cost, { inserted += 1; format!("e{inserted}") }],
                        )
                        .unwrap();
                        let id = tx.last_insert_rowid();
                        tally.add(&Contribution {
                            timestamp: &ts,
                            provider: "p",
                            model: "m",
                            model_key: "m",
                            agent_id: "a",
                            project,
                            session_id: Some(SESSIONS[session]),
                            cost_usd: cost,
                            usage: &zero,
                        });
                        stored.push((id, session, ts, project, cost));
                    }
                    Change::Update(at, hour, project, micros, moved) => {
                        if stored.is_empty() {
                            continue;
                        }
                        let at = at % stored.len();
                        let (old_session, old_ts, old_project, old_cost) = contribution(&stored[at]);
                        let new = (stored[at].0, moved.unwrap_or(stored[at].1), stamp(hour), project, f64::from(micros) / 1e6);
                        tx.execute(
                            "UPDATE cost_records SET session_id = ?2, timestamp = ?3, project = ?4,
                                 estimated_cost_usd = ?5 WHERE id = ?1",
                            params![new.0, SESSIONS[new.1], new.2, new.3, new.4],
                        )
                        .unwrap();
                        let old = Contribution {
                            timestamp: &old_ts,
                            provider: "p",
                            model: "m",
                            model_key: "m",
                            agent_id: "a",
                            project: old_project,
                            session_id: Some(old_session),
                            cost_usd: old_cost,
                            usage: &zero,
                        };
                        tally.remove(&old);
                        tally.add(&Contribution {
                            timestamp: &new.2,
                            project: new.3,
                            session_id: Some(SESSIONS[new.1]),
                            cost_usd: new.4,
                            ..old
                        });
                        stored[at] = new;
                    }
                    Change::Delete(at) => {
                        if stored.is_empty() {
                            continue;
                        }
                        // As the writer deletes: the rollups first hold
                        // what the transaction added so far.
                        tally.flush(&tx).unwrap();
                        let (id, ..) = stored.remove(at % stored.len());
                        tx.execute("DELETE FROM cost_records WHERE id = ?1", [id]).unwrap();
                    }
                    Change::Commit => {
                        tally.flush(&tx).unwrap();
                        tx.commit().unwrap();
                        tx = conn.transaction().unwrap();
                    }
                }
            }
            tally.flush(&tx).unwrap();
            tx.commit().unwrap();
            type SessionRow = (String, String, String, i64, f64, Option<String>);
            let read = |conn: &Connection| -> Vec<SessionRow> {
                conn.prepare(
                    "SELECT session_id, first_at, last_at, records, cost_usd, project
                     FROM cost_sessions ORDER BY session_id",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
            };
            let kept = read(&conn);
            conn.execute_batch(&format!("DELETE FROM cost_sessions;\n{SESSION_FILL_SQL}")).unwrap();
            let filled = read(&conn);
            prop_assert_eq!(kept.len(), filled.len());
            for (k, f) in kept.iter().zip(&filled) {
                prop_assert!((k.4 - f.4).abs() < 1e-9, "{:?} against {:?}", k, f);
                prop_assert_eq!((&k.0, &k.1, &k.2, k.3, &k.5), (&f.0, &f.1, &f.2, f.3, &f.5));
            }
        }
    }

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
            session_id: Some("s"),
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
