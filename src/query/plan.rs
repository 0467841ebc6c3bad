//! What the plan's use is now: the latest `plan_usage` row of each agent
//! and window, whichever source reported it (docs/schema.md).

use rusqlite::Connection;

use super::QueryError;

/// One agent's latest use of one plan window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanLatest {
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

/// The latest observation of each agent and window, ordered by agent and window.
pub fn plan_latest(conn: &Connection) -> Result<Vec<PlanLatest>, QueryError> {
    let mut stmt = conn.prepare_cached(
        "SELECT agent_id, window, used_pct, resets_at, observed_at, source FROM (
             SELECT *, row_number() OVER (
                 PARTITION BY agent_id, window ORDER BY observed_at DESC, id DESC) AS n
             FROM plan_usage)
         WHERE n = 1 ORDER BY agent_id, window",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PlanLatest {
            agent_id: r.get(0)?,
            window: r.get(1)?,
            used_pct: r.get(2)?,
            resets_at: r.get(3)?,
            observed_at: r.get(4)?,
            source: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
