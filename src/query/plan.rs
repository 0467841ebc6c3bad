//! What the plan's use is now: the latest `plan_usage` row of each agent
//! and window, whichever source reported it (docs/schema.md).

use rusqlite::Connection;

use super::QueryError;

/// One agent's use of one plan window, as reported at one moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanObservation {
    #[serde(rename = "agent")]
    pub agent_id: String,
    /// `five_hour`, `seven_day`, or `<minutes>m`.
    pub window: String,
    /// 0-100 as reported.
    pub used_pct: f64,
    /// When the window starts afresh, RFC 3339 UTC; `None` when not reported.
    pub resets_at: Option<String>,
    pub observed_at: String,
    /// `claude_statusline` or `codex_rollout`.
    pub source: String,
}

/// A `plan_usage` row selected as `agent_id, window, used_pct, resets_at,
/// observed_at, source`.
fn observation(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlanObservation> {
    Ok(PlanObservation {
        agent_id: r.get(0)?,
        window: r.get(1)?,
        used_pct: r.get(2)?,
        resets_at: r.get(3)?,
        observed_at: r.get(4)?,
        source: r.get(5)?,
    })
}

/// The latest observation of each agent and window, ordered by agent and window.
pub fn plan_latest(conn: &Connection) -> Result<Vec<PlanObservation>, QueryError> {
    let mut stmt = conn.prepare_cached(
        "SELECT agent_id, window, used_pct, resets_at, observed_at, source FROM (
             SELECT *, row_number() OVER (
                 PARTITION BY agent_id, window ORDER BY observed_at DESC, id DESC) AS n
             FROM plan_usage)
         WHERE n = 1 ORDER BY agent_id, window",
    )?;
    let rows = stmt.query_map([], observation)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The observations in `filter`'s range (and of its agent, when it names
/// one), ordered by agent, window and time. The other filters name records,
/// which plan use is not.
pub fn plan_observations(
    conn: &Connection,
    filter: &super::Filter,
) -> Result<Vec<PlanObservation>, QueryError> {
    let format = |t: Option<jiff::Timestamp>| t.map(crate::record::format_timestamp);
    let mut stmt = conn.prepare_cached(
        "SELECT agent_id, window, used_pct, resets_at, observed_at, source FROM plan_usage
         WHERE (?1 IS NULL OR observed_at >= ?1) AND (?2 IS NULL OR observed_at < ?2)
           AND (?3 IS NULL OR agent_id = ?3)
         ORDER BY agent_id, window, observed_at, id",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![
            format(filter.range.from),
            format(filter.range.to),
            filter.agent
        ],
        observation,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
