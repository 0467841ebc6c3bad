//! What the push reads from the local database: the changes above its
//! cursor, in change order (records inserted or updated, records deleted),
//! and its own state for `push --status`, `/metrics` and `doctor`.

use rusqlite::{params, Connection, OptionalExtension};

pub use crate::store::push::{Change, PushedRecord};

/// Up to `limit` changes with a change number above `cursor`, oldest first.
pub fn changes_after(
    conn: &Connection,
    cursor: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Change>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut changes: Vec<Change> = conn
        .prepare_cached(
            "SELECT id, rev, hook_event_id, timestamp, agent_id, session_id, task_id, project,
                    git_branch, prompt_id, provider, model, model_key, tool_name, source,
                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                    cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd,
                    reported_cost_usd, pricing_source, labels_json
             FROM cost_records WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?
        .query_map(params![cursor, limit], |r| {
            Ok(Change::Upsert(Box::new(PushedRecord {
                local_id: r.get(0)?,
                rev: r.get(1)?,
                record_key: r.get(2)?,
                timestamp: r.get(3)?,
                agent_id: r.get(4)?,
                session_id: r.get(5)?,
                task_id: r.get(6)?,
                project: r.get(7)?,
                git_branch: r.get(8)?,
                prompt_id: r.get(9)?,
                provider: r.get(10)?,
                model: r.get(11)?,
                model_key: r.get(12)?,
                tool_name: r.get(13)?,
                source: r.get(14)?,
                tokens: [
                    r.get(15)?,
                    r.get(16)?,
                    r.get(17)?,
                    r.get(18)?,
                    r.get(19)?,
                    r.get(20)?,
                ],
                estimated_cost_usd: r.get(21)?,
                reported_cost_usd: r.get(22)?,
                pricing_source: r.get(23)?,
                labels_json: r.get(24)?,
            })))
        })?
        .collect::<Result<_, _>>()?;
    // Deletions are rare: read apart and merged, so the records' query
    // stays one walk of the rev index.
    let deletes = conn
        .prepare_cached(
            "SELECT local_id, rev FROM record_tombstones WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?
        .query_map(params![cursor, limit], |r| {
            Ok(Change::Delete {
                local_id: r.get(0)?,
                rev: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if !deletes.is_empty() {
        changes.extend(deletes);
        changes.sort_by_key(Change::rev);
        changes.truncate(limit as usize);
    }
    Ok(changes)
}

/// The push's state as the local database keeps it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PushState {
    /// Who this database is centrally; `None` until the first push needs it.
    pub machine_id: Option<String>,
    /// The last change number the central server committed.
    pub cursor: i64,
    /// Changes above the cursor: records and deletions not pushed yet.
    pub pending: i64,
    /// When a push last committed (RFC 3339), and the last error.
    pub last_success: Option<String>,
    pub last_error: Option<String>,
}

/// The push's state (a database from before the push reads as never pushed).
pub fn push_state(conn: &Connection) -> rusqlite::Result<PushState> {
    let meta = |key: &str| -> rusqlite::Result<Option<String>> {
        conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()
    };
    let cursor = meta("push_cursor")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(PushState {
        machine_id: meta("machine_id")?,
        cursor,
        pending: pending(conn, cursor)?,
        last_success: meta("push_last_success")?,
        last_error: meta("push_last_error")?,
    })
}

/// Changes above `cursor` (a range count on the rev index).
pub fn pending(conn: &Connection, cursor: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT (SELECT count(*) FROM cost_records WHERE rev > ?1)
              + (SELECT count(*) FROM record_tombstones WHERE rev > ?1)",
    )?
    .query_row([cursor], |r| r.get(0))
}
