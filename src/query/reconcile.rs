//! `hookmeter reconcile`: hookmeter's cost of each session against the cost
//! the agent itself reported (`reported_cost_usd`: Claude Code's OTel
//! `cost_usd`, OpenCode's own cost), the difference, and the causes that
//! can be named (docs/cli.md#reconcile).
//!
//! Only the records that carry a reported cost are compared: a record the
//! agent never priced has nothing to disagree with. Causes are read from
//! the records themselves, one statement each, over the range and filters
//! every reader applies ([`Filter::record_conditions`]):
//!
//! - a model priced at the fallback rates (`pricing_source = 'fallback'`);
//! - a rate: records of a model whose cost differs from the reported one,
//!   with both costs per million of those records' tokens, so the model and
//!   both rates are named;
//! - the cache lifetime: an OTel event alone does not split its cache writes
//!   by lifetime (the transcript does), while the agent prices 1-hour writes
//!   at their rate; such a record's difference is that, not a rate;
//! - requests seen by one source only: events no transcript line has
//!   matched yet (`otel_requests.agrees IS NULL`), and transcript records of
//!   a session that has events but no event for them.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use schemars::JsonSchema;
use serde::Serialize;

use super::{Filter, QueryError};

/// Two costs differ when they are this far apart, USD: Claude Code sends
/// its cost rounded to the micro-dollar (`cost_usd_micros`).
pub const TOLERANCE_USD: f64 = 0.000_001;

/// The reconciliation of a range: one entry per agent and session that has
/// something to compare (a reported cost, or an OTel event).
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Reconciliation {
    /// Sessions, the largest difference (in absolute value) first.
    pub sessions: Vec<SessionReconciliation>,
    /// The sums over `sessions`.
    pub totals: ReconcileTotals,
    /// Sessions of the range with neither a reported cost nor an event:
    /// nothing to compare them with.
    pub unreported_sessions: i64,
    /// What those sessions cost, by hookmeter's prices, USD.
    pub unreported_cost_usd: f64,
}

/// The sums of a reconciliation's sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct ReconcileTotals {
    pub records: i64,
    /// hookmeter's cost of every record, USD.
    pub cost_usd: f64,
    /// Records that carry a reported cost.
    pub reported_records: i64,
    /// The agents' own cost of those records, USD.
    pub reported_cost_usd: f64,
    /// hookmeter's cost of those same records, USD.
    pub our_cost_of_reported_usd: f64,
    /// `our_cost_of_reported_usd - reported_cost_usd`; 0 when a session's
    /// two are within [`TOLERANCE_USD`].
    pub difference_usd: f64,
}

/// One agent's session.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SessionReconciliation {
    pub agent: String,
    /// `""` for records without a session.
    pub session_id: String,
    /// The first and last record's timestamps (RFC 3339 UTC).
    pub first_at: String,
    pub last_at: String,
    #[serde(flatten)]
    pub totals: ReconcileTotals,
    /// The session's whole cost as the agent's statusline last stated it
    /// (Claude Code's `cost.total_cost_usd`, `session_reported_costs`),
    /// USD; null when none was handed over. Compared with `cost_usd`, all
    /// of the session's records, not only those with a reported cost.
    pub statusline_cost_usd: Option<f64>,
    /// What the difference, or a gap between the sources, comes from.
    pub causes: Vec<Cause>,
}

/// A named cause of a difference.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// A model no price entry matched, priced at the fallback rates.
    Fallback {
        model: String,
        records: i64,
        cost_usd: f64,
        /// The agents' cost of those records, USD (0 when none reported).
        reported_cost_usd: f64,
    },
    /// A model whose records cost otherwise by hookmeter's rates than by
    /// the agent's: both as USD per million of those records' tokens
    /// (input, output, cache reads and writes together).
    Rate {
        /// The name reports group the model under.
        model: String,
        records: i64,
        cost_usd: f64,
        reported_cost_usd: f64,
        tokens: i64,
        /// hookmeter's cost per million of the tokens, USD.
        our_usd_per_mtok: f64,
        /// The rate the agent's cost implies for the same tokens, USD.
        reported_usd_per_mtok: f64,
    },
    /// Records made from an OTel event alone, with cache writes: the event
    /// does not say which had the 1-hour lifetime, which the agent priced
    /// at its rate. The transcript of the session settles it.
    CacheLifetimeUnknown {
        records: i64,
        cost_usd: f64,
        reported_cost_usd: f64,
    },
    /// OTel events no transcript line has matched (yet).
    EventOnly { requests: i64 },
    /// Transcript records of a session with events, but none for them.
    TranscriptOnly { records: i64 },
}

type SessionKey = (String, String);

/// The reconciliation of the records `filter` keeps.
pub fn reconcile(conn: &Connection, filter: &Filter) -> Result<Reconciliation, QueryError> {
    let (conditions, params) = filter.record_conditions();
    let params = rusqlite::params_from_iter(&params);
    let mut causes: BTreeMap<SessionKey, Vec<Cause>> = BTreeMap::new();

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT agent_id, coalesce(session_id, ''), model, count(*), total(estimated_cost_usd),
                total(reported_cost_usd)
         FROM cost_records WHERE pricing_source = 'fallback'{conditions}
         GROUP BY 1, 2, 3 ORDER BY 5 DESC, 3"
    ))?;
    let rows = stmt.query_map(params.clone(), |r| {
        Ok((
            (r.get(0)?, r.get(1)?),
            Cause::Fallback {
                model: r.get(2)?,
                records: r.get(3)?,
                cost_usd: r.get(4)?,
                reported_cost_usd: r.get(5)?,
            },
        ))
    })?;
    for row in rows {
        let (key, cause) = row?;
        causes.entry(key).or_default().push(cause);
    }

    // A record differs when both costs are known and apart; one made from
    // an event alone with cache writes is the cache lifetime's, not a rate's.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT agent_id, coalesce(session_id, ''), coalesce(model_key, model),
                id IN (SELECT record_id FROM otel_requests WHERE agrees IS NULL)
                    AND cache_write_tokens > 0 AND cache_write_1h_tokens = 0,
                count(*), total(estimated_cost_usd), total(reported_cost_usd),
                coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0)
         FROM cost_records
         WHERE reported_cost_usd IS NOT NULL AND pricing_source <> 'fallback'
           AND abs(estimated_cost_usd - reported_cost_usd) > {TOLERANCE_USD}{conditions}
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4, 3"
    ))?;
    let rows = stmt.query_map(params.clone(), |r| {
        let key: SessionKey = (r.get(0)?, r.get(1)?);
        let lifetime: bool = r.get(3)?;
        let records: i64 = r.get(4)?;
        let cost_usd: f64 = r.get(5)?;
        let reported_cost_usd: f64 = r.get(6)?;
        let tokens: i64 = r.get(7)?;
        let per_mtok = |usd: f64| match tokens {
            0 => 0.0,
            n => usd * 1e6 / n as f64,
        };
        let cause = match lifetime {
            true => Cause::CacheLifetimeUnknown {
                records,
                cost_usd,
                reported_cost_usd,
            },
            false => Cause::Rate {
                model: r.get(2)?,
                records,
                cost_usd,
                reported_cost_usd,
                tokens,
                our_usd_per_mtok: per_mtok(cost_usd),
                reported_usd_per_mtok: per_mtok(reported_cost_usd),
            },
        };
        Ok((key, cause))
    })?;
    for row in rows {
        let (key, cause) = row?;
        causes.entry(key).or_default().push(cause);
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT agent_id, coalesce(session_id, ''), count(*) FROM cost_records
         WHERE id IN (SELECT record_id FROM otel_requests WHERE agrees IS NULL){conditions}
         GROUP BY 1, 2"
    ))?;
    let rows = stmt.query_map(params.clone(), |r| {
        Ok((
            (r.get(0)?, r.get(1)?),
            Cause::EventOnly {
                requests: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (key, cause) = row?;
        causes.entry(key).or_default().push(cause);
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT agent_id, coalesce(session_id, ''), count(*) FROM cost_records
         WHERE source IN ('transcript', 'import')
           AND session_id IN (SELECT session_id FROM otel_requests)
           AND id NOT IN (SELECT record_id FROM otel_requests){conditions}
         GROUP BY 1, 2"
    ))?;
    let rows = stmt.query_map(params.clone(), |r| {
        Ok((
            (r.get(0)?, r.get(1)?),
            Cause::TranscriptOnly { records: r.get(2)? },
        ))
    })?;
    for row in rows {
        let (key, cause) = row?;
        causes.entry(key).or_default().push(cause);
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT agent_id, coalesce(session_id, ''), min(timestamp), max(timestamp), count(*),
                total(estimated_cost_usd), count(reported_cost_usd), total(reported_cost_usd),
                total(CASE WHEN reported_cost_usd IS NOT NULL THEN estimated_cost_usd END),
                sum(id IN (SELECT record_id FROM otel_requests))
         FROM cost_records WHERE 1 = 1{conditions}
         GROUP BY 1, 2"
    ))?;
    let rows = stmt.query_map(params, |r| {
        let reported: f64 = r.get(7)?;
        let ours: f64 = r.get(8)?;
        let events: i64 = r.get(9)?;
        Ok((
            SessionReconciliation {
                agent: r.get(0)?,
                session_id: r.get(1)?,
                first_at: r.get(2)?,
                last_at: r.get(3)?,
                totals: ReconcileTotals {
                    records: r.get(4)?,
                    cost_usd: r.get(5)?,
                    reported_records: r.get(6)?,
                    reported_cost_usd: reported,
                    our_cost_of_reported_usd: ours,
                    difference_usd: snapped(ours - reported),
                },
                causes: Vec::new(),
                statusline_cost_usd: None,
            },
            events,
        ))
    })?;
    let mut statusline = conn.prepare_cached(
        "SELECT total_cost_usd FROM session_reported_costs WHERE session_id = ?1",
    )?;
    let mut answer = Reconciliation::default();
    for row in rows {
        let (mut session, events) = row?;
        session.statusline_cost_usd = match session.session_id.as_str() {
            "" => None,
            id => statusline.query_row([id], |r| r.get(0)).optional()?,
        };
        if session.totals.reported_records == 0
            && events == 0
            && session.statusline_cost_usd.is_none()
        {
            answer.unreported_sessions += 1;
            answer.unreported_cost_usd += session.totals.cost_usd;
            continue;
        }
        let key = (session.agent.clone(), session.session_id.clone());
        session.causes = causes.remove(&key).unwrap_or_default();
        answer.totals.add(&session.totals);
        answer.sessions.push(session);
    }
    answer.sessions.sort_by(|a, b| {
        b.totals
            .difference_usd
            .abs()
            .total_cmp(&a.totals.difference_usd.abs())
            .then_with(|| b.last_at.cmp(&a.last_at))
    });
    Ok(answer)
}

impl ReconcileTotals {
    fn add(&mut self, other: &ReconcileTotals) {
        self.records += other.records;
        self.cost_usd += other.cost_usd;
        self.reported_records += other.reported_records;
        self.reported_cost_usd += other.reported_cost_usd;
        self.our_cost_of_reported_usd += other.our_cost_of_reported_usd;
        self.difference_usd += other.difference_usd;
    }
}

/// A difference within [`TOLERANCE_USD`] is none: 0, not float noise.
fn snapped(difference_usd: f64) -> f64 {
    match differs(difference_usd) {
        true => difference_usd,
        false => 0.0,
    }
}

/// A difference worth naming: more than rounding apart.
pub fn differs(difference_usd: f64) -> bool {
    difference_usd.abs() > TOLERANCE_USD
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema_check::assert_answer_fits_schema;

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        conn.execute_batch(
            "INSERT INTO cost_records (id, timestamp, session_id, agent_id, provider, model, model_key,
                 input_tokens, output_tokens, cache_write_tokens, estimated_cost_usd,
                 reported_cost_usd, pricing_source, hook_event_id, source)
             VALUES (1, '2026-09-20T10:00:00.000Z', 's1', 'claude-code', 'anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5', 1000000, 0, 0, 1.0, 1.0, 'embedded', 'a', 'transcript'),
                    (2, '2026-09-20T10:01:00.000Z', 's1', 'claude-code', 'anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5', 1000000, 0, 0, 1.0, 2.0, 'embedded', 'b', 'transcript'),
                    (3, '2026-09-20T10:02:00.000Z', 's1', 'claude-code', 'unknown', 'mystery', 'mystery', 10, 0, 0, 0.5, 0.25, 'fallback', 'c', 'otel'),
                    (4, '2026-09-20T10:03:00.000Z', 's1', 'claude-code', 'anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5', 10, 0, 0, 0.1, NULL, 'embedded', 'd', 'transcript'),
                    (5, '2026-09-20T10:04:00.000Z', 's1', 'claude-code', 'anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5', 10, 0, 100, 0.2, 0.3, 'embedded', 'e', 'otel'),
                    (6, '2026-09-20T10:05:00.000Z', 's2', 'codex', 'openai', 'gpt-5', 'gpt-5', 10, 0, 0, 3.0, NULL, 'embedded', 'f', 'hook');
             INSERT INTO otel_requests (request_id, record_id, session_id, input_tokens, output_tokens,
                 cache_read_tokens, cache_creation_tokens, cost_usd, received_at, agrees)
             VALUES ('r1', 1, 's1', 0, 0, 0, 0, 1.0, 'x', 1),
                    ('r2', 2, 's1', 0, 0, 0, 0, 2.0, 'x', 1),
                    ('r3', 3, 's1', 0, 0, 0, 0, 0.25, 'x', NULL),
                    ('r5', 5, 's1', 0, 0, 0, 100, 0.3, 'x', NULL);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn each_cause_is_named_and_the_sums_hold() {
        let answer = reconcile(&database(), &Filter::default()).unwrap();
        assert_eq!(answer.unreported_sessions, 1);
        assert_eq!(answer.unreported_cost_usd, 3.0);
        let [s] = &answer.sessions[..] else {
            panic!("{answer:?}")
        };
        assert_eq!(s.totals.records, 5);
        assert_eq!(s.totals.reported_records, 4);
        assert!((s.totals.reported_cost_usd - 3.55).abs() < 1e-9);
        assert!((s.totals.our_cost_of_reported_usd - 2.7).abs() < 1e-9);
        assert!((s.totals.difference_usd + 0.85).abs() < 1e-9);
        assert_eq!(
            s.causes,
            vec![
                Cause::Fallback {
                    model: "mystery".into(),
                    records: 1,
                    cost_usd: 0.5,
                    reported_cost_usd: 0.25
                },
                Cause::Rate {
                    model: "claude-haiku-4-5".into(),
                    records: 1,
                    cost_usd: 1.0,
                    reported_cost_usd: 2.0,
                    tokens: 1_000_000,
                    our_usd_per_mtok: 1.0,
                    reported_usd_per_mtok: 2.0,
                },
                Cause::CacheLifetimeUnknown {
                    records: 1,
                    cost_usd: 0.2,
                    reported_cost_usd: 0.3
                },
                Cause::EventOnly { requests: 2 },
                Cause::TranscriptOnly { records: 1 },
            ]
        );
        assert_eq!(answer.totals, s.totals);
        assert_answer_fits_schema(&answer);
    }
}
