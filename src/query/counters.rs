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

/// The value a label past its cap is reported as.
pub const OTHER_LABEL: &str = "other";

/// A label of the usage counters, by the column that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageLabel {
    Provider,
    Model,
    Agent,
}

impl UsageLabel {
    const ALL: [UsageLabel; 3] = [UsageLabel::Provider, UsageLabel::Model, UsageLabel::Agent];

    fn column(self) -> &'static str {
        match self {
            UsageLabel::Provider => "provider",
            UsageLabel::Model => "model",
            UsageLabel::Agent => "agent_id",
        }
    }

    fn value(self, u: &UsageCounter) -> &str {
        match self {
            UsageLabel::Provider => &u.provider,
            UsageLabel::Model => &u.model,
            UsageLabel::Agent => &u.agent,
        }
    }

    fn value_mut(self, u: &mut UsageCounter) -> &mut String {
        match self {
            UsageLabel::Provider => &mut u.provider,
            UsageLabel::Model => &mut u.model,
            UsageLabel::Agent => &mut u.agent,
        }
    }
}

/// [`usage_counters`] with at most `max` distinct values per label: the
/// first `max` values to appear (by the hour of their first record, then by
/// name) keep their own, the others are summed under [`OTHER_LABEL`].
///
/// Counting in first-seen order keeps the series stable: a value that shows
/// up later never pushes an earlier one into `other`, so each series only
/// grows, as a counter must, and the sum over all series is always the total.
pub fn capped_usage_counters(
    conn: &Connection,
    max: usize,
) -> Result<Vec<UsageCounter>, QueryError> {
    let mut usage = usage_counters(conn)?;
    for label in UsageLabel::ALL {
        let distinct: std::collections::HashSet<&str> =
            usage.iter().map(|u| label.value(u)).collect();
        if distinct.len() > max {
            let kept = first_seen(conn, label)?.into_iter().take(max).collect();
            usage = fold_into_other(usage, label, &kept);
        }
    }
    Ok(usage)
}

/// A label's values in the order they first appeared.
fn first_seen(conn: &Connection, label: UsageLabel) -> Result<Vec<String>, QueryError> {
    let column = label.column();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {column} FROM cost_rollup_hourly GROUP BY {column} ORDER BY min(hour), {column}"
    ))?;
    let values = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(values)
}

/// Renames the values of `label` outside `kept` to [`OTHER_LABEL`] and sums
/// the counters that then share all three labels; the order of
/// [`usage_counters`] is kept.
fn fold_into_other(
    usage: Vec<UsageCounter>,
    label: UsageLabel,
    kept: &std::collections::HashSet<String>,
) -> Vec<UsageCounter> {
    let mut folded: Vec<UsageCounter> = Vec::with_capacity(usage.len());
    let mut index = std::collections::HashMap::new();
    for mut u in usage {
        let value = label.value_mut(&mut u);
        if !kept.contains(value.as_str()) {
            *value = OTHER_LABEL.to_string();
        }
        let key = (u.provider.clone(), u.model.clone(), u.agent.clone());
        match index.get(&key) {
            Some(&at) => {
                let into: &mut UsageCounter = &mut folded[at];
                into.totals.add(&u.totals);
            }
            None => {
                index.insert(key, folded.len());
                folded.push(u);
            }
        }
    }
    folded
        .sort_by(|a, b| (&a.provider, &a.model, &a.agent).cmp(&(&b.provider, &b.model, &b.agent)));
    folded
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

/// Claude Code requests whose OTel event is stored, by what the
/// transcript said of them (docs/ingest.md#opentelemetry).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtelAgreement {
    /// No transcript line of the request seen (yet).
    pub event_only: i64,
    /// A transcript line showed the event's counts.
    pub agree: i64,
    /// Every transcript line showed other counts; the event's stand.
    pub disagree: i64,
}

pub fn otel_agreement(conn: &Connection) -> Result<OtelAgreement, QueryError> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(agrees IS NULL), 0), coalesce(sum(agrees = 1), 0),
                coalesce(sum(agrees = 0), 0)
         FROM otel_requests",
    )?;
    Ok(stmt.query_row([], |r| {
        Ok(OtelAgreement {
            event_only: r.get(0)?,
            agree: r.get(1)?,
            disagree: r.get(2)?,
        })
    })?)
}

/// Codex and Gemini CLI sessions recorded from their OTel events (their
/// own log not read), by agent: one source per session
/// (docs/ingest.md#one-source-per-session).
pub fn otel_sessions(conn: &Connection) -> Result<Vec<(String, i64)>, QueryError> {
    // By agent first, so the agent index keeps this off the other agents' rows.
    let mut stmt = conn.prepare_cached(
        "SELECT agent_id, count(DISTINCT session_id) FROM cost_records
         WHERE agent_id IN ('codex', 'gemini-cli') AND source = 'otel'
         GROUP BY agent_id ORDER BY agent_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(conn: &Connection, rows: &[(&str, &str, &str, f64)]) {
        for (i, (hour, model, agent, cost)) in rows.iter().enumerate() {
            conn.execute(
                "INSERT INTO cost_records (timestamp, agent_id, provider, model, input_tokens,
                     output_tokens, estimated_cost_usd, pricing_source, hook_event_id, source)
                 VALUES (?1 || ':00:00.000Z', ?2, 'p', ?3, 1, 1, ?4, 'embedded', ?5, 'hook')",
                rusqlite::params![hour, agent, model, cost, format!("e{i}")],
            )
            .unwrap();
        }
    }

    fn flat(usage: &[UsageCounter]) -> Vec<String> {
        usage
            .iter()
            .map(|u| {
                format!(
                    "{} {} {} {}",
                    u.model, u.agent, u.totals.records, u.totals.cost_usd
                )
            })
            .collect()
    }

    #[test]
    fn past_the_cap_later_values_are_summed_as_other_and_the_total_is_kept() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        // Models first seen: m2 (hour 09), m1 and m3 (hour 10, by name), m0 (hour 11).
        records(
            &conn,
            &[
                ("2026-09-20T10", "m1", "a", 1.0),
                ("2026-09-20T09", "m2", "a", 2.0),
                ("2026-09-20T10", "m3", "b", 4.0),
                ("2026-09-20T11", "m0", "a", 8.0),
                ("2026-09-20T11", "m0", "b", 16.0),
            ],
        );
        crate::store::rollup::rebuild(&conn).unwrap();
        let all = capped_usage_counters(&conn, 10).unwrap();
        assert_eq!(
            all,
            usage_counters(&conn).unwrap(),
            "under the cap, untouched"
        );
        assert_eq!(
            flat(&capped_usage_counters(&conn, 2).unwrap()),
            ["m1 a 1 1", "m2 a 1 2", "other a 1 8", "other b 2 20"]
        );
        // One agent: a (first, hour 09) stays, b is other; m0 and m3 fold too.
        assert_eq!(
            flat(&capped_usage_counters(&conn, 1).unwrap()),
            ["m2 a 1 2", "other a 2 9", "other other 2 20"]
        );
        let total: f64 = capped_usage_counters(&conn, 1)
            .unwrap()
            .iter()
            .map(|u| u.totals.cost_usd)
            .sum();
        assert_eq!(total, 31.0);
    }

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
