//! `plan_usage` rows: each plan window's use as an agent reported it, a row
//! only when it changed (docs/schema.md). Both the statusline's handoff and
//! a Codex rollout's `rate_limits` come through here.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::record::PlanWindow;

/// Who reported a window's use, and when.
pub(super) struct Observed<'a> {
    pub observed_at: &'a str,
    pub agent_id: &'a str,
    pub session_id: Option<&'a str>,
    pub source: &'a str,
}

/// Stores `window` unless a row of its agent, window and source next to
/// `observed_at` in time (the latest at or before it, or else the first
/// after it) says the same: the statusline hands the same figures over
/// many times, spooled handoffs may be drained out of order, and a rollout
/// read again (a restart, an import) brings lines already kept, at their
/// own times. True when a row was added.
pub(super) fn write_plan_use(
    tx: &Transaction<'_>,
    at: &Observed<'_>,
    window: &PlanWindow,
) -> rusqlite::Result<bool> {
    let same = (window.used_pct, window.resets_at.clone());
    for next_to in [
        "SELECT used_pct, resets_at FROM plan_usage
         WHERE window = ?1 AND agent_id = ?2 AND source = ?3 AND observed_at <= ?4
         ORDER BY observed_at DESC, id DESC LIMIT 1",
        "SELECT used_pct, resets_at FROM plan_usage
         WHERE window = ?1 AND agent_id = ?2 AND source = ?3 AND observed_at > ?4
         ORDER BY observed_at, id LIMIT 1",
    ] {
        let neighbour: Option<(f64, Option<String>)> = tx
            .prepare_cached(next_to)?
            .query_row(
                params![window.window, at.agent_id, at.source, at.observed_at],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if neighbour.as_ref() == Some(&same) {
            return Ok(false);
        }
    }
    tx.prepare_cached(
        "INSERT INTO plan_usage (observed_at, agent_id, window, used_pct, resets_at, source, session_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        at.observed_at,
        at.agent_id,
        window.window,
        window.used_pct,
        window.resets_at,
        at.source,
        at.session_id,
    ])?;
    Ok(true)
}
