//! Counters since the database began, for `/metrics`: read from the tables
//! the writer keeps (`cost_rollup_daily`, `event_counts`), so they cost one
//! scan of a row per day and group, and carry on across daemon restarts.

use rusqlite::Connection;

use super::summary::Totals;
use super::tiers::Tier;
use super::{Filter, QueryError};

/// Totals of every cost record, by provider, model and agent.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageCounter {
    pub provider: String,
    pub model: String,
    pub agent: String,
    pub totals: Totals,
}

/// Every (provider, model, agent) with its totals over all days, in that order.
pub fn usage_counters(conn: &Connection) -> Result<Vec<UsageCounter>, QueryError> {
    let Some((table, _)) = Tier::Days.source(&Filter::default(), true) else {
        unreachable!("days are read from a summary table");
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT provider, model, agent_id, sum(records), total(cost_usd), sum(input_tokens),
                sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
                sum(cache_write_1h_tokens), sum(reasoning_tokens)
         FROM {table} GROUP BY provider, model, agent_id
         ORDER BY provider, model, agent_id"
    ))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(UsageCounter {
                provider: r.get(0)?,
                model: r.get(1)?,
                agent: r.get(2)?,
                totals: Totals::from_row(r, 3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Events accepted or rejected, by source and rejection reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCounter {
    /// `accepted` or `rejected`.
    pub outcome: String,
    pub source: String,
    /// The rejection's reason code; empty for accepted events.
    pub reason: String,
    pub events: i64,
}

pub fn event_counters(conn: &Connection) -> Result<Vec<EventCounter>, QueryError> {
    let mut stmt = conn.prepare_cached(
        "SELECT outcome, source, reason, events FROM event_counts ORDER BY outcome, source, reason",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(EventCounter {
                outcome: r.get(0)?,
                source: r.get(1)?,
                reason: r.get(2)?,
                events: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_every_hour_of_the_rollup_and_the_event_counts() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        conn.execute_batch(
            "INSERT INTO cost_records (timestamp, agent_id, provider, model, input_tokens,
                 output_tokens, estimated_cost_usd, pricing_source, hook_event_id, source)
             VALUES ('2026-09-20T10:00:00.000Z', 'a', 'p', 'm', 10, 1, 0.5, 'embedded', 'e1', 'hook'),
                    ('2026-09-21T11:00:00.000Z', 'a', 'p', 'm', 5, 2, 0.25, 'embedded', 'e2', 'hook'),
                    ('2026-09-21T11:00:00.000Z', 'b', 'p', 'm', 1, 0, 1.0, 'embedded', 'e3', 'hook');",
        )
        .unwrap();
        crate::store::rollup::rebuild(&conn).unwrap();
        let mut tally = crate::store::rollup::Tally::default();
        tally.event("accepted", "http", "");
        tally.event("rejected", "socket", "not_json");
        tally.flush(&conn).unwrap();
        let usage = usage_counters(&conn).unwrap();
        assert_eq!(usage.len(), 2);
        assert_eq!(usage[0].agent, "a");
        assert_eq!(usage[0].totals.records, 2);
        assert_eq!(usage[0].totals.input_tokens, 15);
        assert!((usage[0].totals.cost_usd - 0.75).abs() < 1e-12);
        let events = event_counters(&conn).unwrap();
        let flat: Vec<_> = events
            .iter()
            .map(|e| format!("{} {} {} {}", e.outcome, e.source, e.reason, e.events))
            .collect();
        assert_eq!(flat, ["accepted http  1", "rejected socket not_json 1"]);
    }
}
