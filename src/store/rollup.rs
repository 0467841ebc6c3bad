//! The summary tables the writer keeps beside `cost_records`: the hourly
//! and daily rollups (`cost_rollup_hourly`, `cost_rollup_daily`), the daily
//! totals (`cost_totals_daily`), the per-session rollups (`cost_sessions`,
//! `cost_session_models`) and the lifetime event counters (`event_counts`).
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

/// What a transaction's new records add to one model and agent of a session
/// (`cost_session_models`).
#[derive(Debug, Clone)]
struct SessionModel {
    session: String,
    model_key: String,
    agent: String,
    records: i64,
    cost_usd: f64,
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
    /// The same records per session, model key and agent.
    session_models: Vec<SessionModel>,
    /// Sessions with a record that changed or went: their `cost_sessions`
    /// row is recomputed from `cost_records` at the flush. A first or last
    /// timestamp or a project cannot be taken back out of a sum.
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
        // A model's count and cost are sums: a change adds and takes out,
        // as in the hourly rollup. From the end, as for the hourly groups:
        // a batch follows a session.
        let ours = |m: &&mut SessionModel| {
            m.session == session && m.model_key == c.model_key && m.agent == c.agent_id
        };
        match self.session_models.iter_mut().rev().find(ours) {
            Some(seen) => {
                seen.records += sign;
                seen.cost_usd += sign as f64 * c.cost_usd;
            }
            None => self.session_models.push(SessionModel {
                session: session.to_string(),
                model_key: c.model_key.to_string(),
                agent: c.agent_id.to_string(),
                records: sign,
                cost_usd: sign as f64 * c.cost_usd,
            }),
        }
        if sign < 0 {
            if !self.stale_sessions.iter().any(|s| s == session) {
                self.stale_sessions.push(session.to_string());
            }
            return;
        }
        let mut one = Sums::default();
        one.add(c, 1);
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
            if s.records <= 0 {
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
                     cache_write_1h_tokens, reasoning_tokens, project, tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                sums_on_conflict!(),
                ",
                 first_at = min(first_at, excluded.first_at),
                 last_at = max(last_at, excluded.last_at),
                 project = coalesce(max(project, excluded.project), project, excluded.project),
                 tokens = tokens + excluded.tokens"
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
                s.project,
                t[0] + t[1] + t[2] + t[3]
            ])?;
        }
        for m in self.session_models.drain(..) {
            if m.records == 0 && m.cost_usd == 0.0 {
                continue; // an update that left the model as it was
            }
            conn.prepare_cached(
                "INSERT INTO cost_session_models (session_id, model_key, agent_id, records, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO UPDATE SET
                     records = records + excluded.records,
                     cost_usd = cost_usd + excluded.cost_usd",
            )?
            .execute(params![m.session, m.model_key, m.agent, m.records, m.cost_usd])?;
            if m.records <= 0 {
                conn.prepare_cached(
                    "DELETE FROM cost_session_models
                     WHERE session_id = ?1 AND model_key = ?2 AND agent_id = ?3 AND records <= 0",
                )?
                .execute(params![m.session, m.model_key, m.agent])?;
            }
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
    if s.records <= 0 {
        // A group this change may have emptied: by its key, not a scan.
        // Changes that cancel out count too: their costs can leave a
        // rounding residue, which must not make an empty group.
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
                    max(project),
                    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
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
        "DELETE FROM cost_rollup_hourly;\nDELETE FROM cost_rollup_daily;\nDELETE FROM cost_totals_daily;\nDELETE FROM cost_sessions;\nDELETE FROM cost_session_models;\n{FILL_SQL}\n{DAILY_FILL_SQL}\n{SESSION_FILL_SQL}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a change to the records does, as a writer makes it.
    #[derive(Debug, Clone)]
    enum Change {
        /// A new record: session, hour offset, project, cost in
        /// micro-dollars, model and agent (by position in `NAMES`).
        Insert(usize, u8, Option<&'static str>, u32, usize),
        /// A stored record (by position among those stored) gets a new
        /// timestamp, project and cost, and may move to another session or
        /// model and agent (by position in `NAMES`).
        Update(
            usize,
            u8,
            Option<&'static str>,
            u32,
            Option<usize>,
            Option<usize>,
        ),
        /// A stored record goes (the delete trigger's part).
        Delete(usize),
        /// The transaction ends.
        Commit,
    }

    /// The model keys and agents records are stored under.
    const NAMES: [(&str, &str); 3] = [("m", "a"), ("n", "a"), ("n", "b")];

    /// The usage of a record of `micros` micro-dollars: tokens that vary.
    fn usage_of(micros: u32) -> Usage {
        Usage {
            input: u64::from(micros % 997),
            output: u64::from(micros % 89),
            cache_read: u64::from(micros % 5),
            cache_write: u64::from(micros % 7),
            ..Usage::default()
        }
    }

    fn change() -> impl Strategy<Value = Change> {
        let project = prop::option::of(prop::sample::select(vec!["shop", "api"]));
        prop_oneof![
            4 => (0..4usize, 0..48u8, project.clone(), 0..1_000_000u32, 0..NAMES.len())
                .prop_map(|(s, h, p, c, n)| Change::Insert(s, h, p, c, n)),
            2 => (
                0..64usize,
                0..48u8,
                project,
                0..1_000_000u32,
                prop::option::of(0..4usize),
                prop::option::of(0..NAMES.len()),
            )
                .prop_map(|(i, h, p, c, s, n)| Change::Update(i, h, p, c, s, n)),
            1 => (0..64usize).prop_map(Change::Delete),
            1 => Just(Change::Commit),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever records a writer inserts, updates and deletes, and
        /// however it groups them into transactions, `cost_sessions` and
        /// `cost_session_models` hold what the fill computes from the
        /// records (costs to rounding).
        #[test]
        fn the_session_rollup_follows_every_change(changes in prop::collection::vec(change(), 0..80)) {
            const SESSIONS: [&str; 4] = ["s0", "s1", "s2", "s3"];
            let mut conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(super::super::SCHEMA_SQL).unwrap();
            let mut tally = Tally::default();
            let mut tx = conn.transaction().unwrap();
            let stamp = |hour: u8| format!("2026-09-{:02}T{:02}:30:00.000Z", 20 + hour / 24, hour % 24);
            /// A record as stored.
            #[derive(Clone)]
            struct Stored {
                id: i64,
                session: usize,
                timestamp: String,
                project: Option<&'static str>,
                micros: u32,
                names: usize,
            }
            let mut stored: Vec<Stored> = Vec::new();
            let mut inserted = 0;
            for change in changes {
                match change {
                    Change::Insert(session, hour, project, micros, names) => {
                        let (ts, cost, u) = (stamp(hour), f64::from(micros) / 1e6, usage_of(micros));
                        let (model, agent) = NAMES[names];
                        tx.execute(
                            "INSERT INTO cost_records (timestamp, session_id, agent_id, project,
                                 provider, model, model_key, estimated_cost_usd, pricing_source,
                                 hook_event_id, source, input_tokens, output_tokens,
                                 cache_read_tokens, cache_write_tokens)
                             VALUES (?1, ?2, ?3, ?4, 'p', ?5, ?5, ?6, 'embedded', ?7, 'hook',
                                 ?8, ?9, ?10, ?11)",
                            params![ts, SESSIONS[session], agent, project, model, cost,
                                { inserted += 1; format!("e{inserted}") },
                                u.input, u.output, u.cache_read, u.cache_write],
                        )
                        .unwrap();
                        tally.add(&Contribution {
                            timestamp: &ts,
                            provider: "p",
                            model,
                            model_key: model,
                            agent_id: agent,
                            project,
                            session_id: Some(SESSIONS[session]),
                            cost_usd: cost,
                            usage: &u,
                        });
                        stored.push(Stored {
                            id: tx.last_insert_rowid(),
                            session,
                            timestamp: ts,
                            project,
                            micros,
                            names,
                        });
                    }
                    Change::Update(at, hour, project, micros, moved, renamed) => {
                        if stored.is_empty() {
                            continue;
                        }
                        let at = at % stored.len();
                        let was = stored[at].clone();
                        let now = Stored {
                            session: moved.unwrap_or(was.session),
                            timestamp: stamp(hour),
                            project,
                            micros,
                            names: renamed.unwrap_or(was.names),
                            ..was.clone()
                        };
                        let (old_u, new_u) = (usage_of(was.micros), usage_of(now.micros));
                        let (new_model, new_agent) = NAMES[now.names];
                        tx.execute(
                            "UPDATE cost_records SET session_id = ?2, timestamp = ?3, project = ?4,
                                 estimated_cost_usd = ?5, input_tokens = ?6, output_tokens = ?7,
                                 cache_read_tokens = ?8, cache_write_tokens = ?9, model = ?10,
                                 model_key = ?10, agent_id = ?11 WHERE id = ?1",
                            params![now.id, SESSIONS[now.session], now.timestamp, now.project,
                                f64::from(now.micros) / 1e6, new_u.input, new_u.output,
                                new_u.cache_read, new_u.cache_write, new_model, new_agent],
                        )
                        .unwrap();
                        let (model, agent) = NAMES[was.names];
                        let old = Contribution {
                            timestamp: &was.timestamp,
                            provider: "p",
                            model,
                            model_key: model,
                            agent_id: agent,
                            project: was.project,
                            session_id: Some(SESSIONS[was.session]),
                            cost_usd: f64::from(was.micros) / 1e6,
                            usage: &old_u,
                        };
                        tally.remove(&old);
                        tally.add(&Contribution {
                            timestamp: &now.timestamp,
                            model: new_model,
                            model_key: new_model,
                            agent_id: new_agent,
                            project: now.project,
                            session_id: Some(SESSIONS[now.session]),
                            cost_usd: f64::from(now.micros) / 1e6,
                            usage: &new_u,
                            ..old
                        });
                        stored[at] = now;
                    }
                    Change::Delete(at) => {
                        if stored.is_empty() {
                            continue;
                        }
                        // As the writer deletes: the rollups first hold
                        // what the transaction added so far.
                        tally.flush(&tx).unwrap();
                        let gone = stored.remove(at % stored.len());
                        tx.execute("DELETE FROM cost_records WHERE id = ?1", [gone.id]).unwrap();
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
            // Each row as text but its cost, which is compared to rounding.
            let read = |conn: &Connection, sql: &str| -> Vec<(String, f64)> {
                conn.prepare(sql)
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            };
            let sessions = "SELECT session_id || ' ' || first_at || ' ' || last_at || ' ' || records
                                || ' ' || coalesce(project, '-') || ' ' || input_tokens || ' '
                                || output_tokens || ' ' || cache_read_tokens || ' '
                                || cache_write_tokens || ' ' || tokens, cost_usd
                            FROM cost_sessions ORDER BY session_id";
            let models = "SELECT session_id || ' ' || model_key || ' ' || agent_id || ' ' || records,
                                 cost_usd
                          FROM cost_session_models ORDER BY session_id, model_key, agent_id";
            let kept = (read(&conn, sessions), read(&conn, models));
            conn.execute_batch(&format!(
                "DELETE FROM cost_sessions; DELETE FROM cost_session_models;\n{SESSION_FILL_SQL}"
            ))
            .unwrap();
            let filled = (read(&conn, sessions), read(&conn, models));
            for (kept, filled) in [(&kept.0, &filled.0), (&kept.1, &filled.1)] {
                prop_assert_eq!(kept.len(), filled.len(), "{:?} against {:?}", kept, filled);
                for (k, f) in kept.iter().zip(filled) {
                    prop_assert!((k.1 - f.1).abs() < 1e-9, "{:?} against {:?}", k, f);
                    prop_assert_eq!(&k.0, &f.0);
                }
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
