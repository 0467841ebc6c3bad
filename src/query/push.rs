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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rollup::Tally;

    /// A database with `n` records inserted the way the writer numbers them.
    fn database(n: usize) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn =
            crate::store::open_writer(&dir.path().join("t.db"), crate::config::Durability::Normal)
                .unwrap();
        let tx = conn.transaction().unwrap();
        let mut tally = Tally::default();
        for i in 0..n {
            let rev = tally.rev(&tx).unwrap();
            tx.execute(
                "INSERT INTO cost_records (timestamp, agent_id, provider, model, estimated_cost_usd,
                     pricing_source, hook_event_id, source, rev)
                 VALUES ('2026-09-20T10:00:00.000Z', 'a', 'p', 'm', 1.0, 'embedded', ?1, 'hook', ?2)",
                params![format!("e{i}"), rev],
            )
            .unwrap();
        }
        tally.flush(&tx).unwrap();
        tx.commit().unwrap();
        (dir, conn)
    }

    fn revs(changes: &[Change]) -> Vec<i64> {
        changes.iter().map(Change::rev).collect()
    }

    #[test]
    fn changes_come_in_number_order_records_and_deletions_merged() {
        let (_dir, conn) = database(4);
        assert_eq!(revs(&changes_after(&conn, 0, 10).unwrap()), [1, 2, 3, 4]);
        // Record 2 deleted (number 5), record 3 updated (number 6), as the
        // writer does it: the counter read once, written back before commit.
        let tx = conn.unchecked_transaction().unwrap();
        let mut tally = Tally::default();
        tx.execute("DELETE FROM cost_records WHERE id = 2", [])
            .unwrap();
        let gone = tally.rev(&tx).unwrap();
        tx.execute(
            "INSERT INTO record_tombstones (rev, local_id) VALUES (?1, 2)",
            [gone],
        )
        .unwrap();
        let updated = tally.rev(&tx).unwrap();
        tx.execute("UPDATE cost_records SET rev = ?1 WHERE id = 3", [updated])
            .unwrap();
        tally.flush(&tx).unwrap();
        tx.commit().unwrap();
        assert_eq!((gone, updated), (5, 6));
        let all = changes_after(&conn, 0, 10).unwrap();
        assert_eq!(revs(&all), [1, 4, 5, 6]);
        assert_eq!(
            all[2],
            Change::Delete {
                local_id: 2,
                rev: 5
            }
        );
        // A batch is the first `limit` of the merged order, whichever table
        // they come from.
        assert_eq!(revs(&changes_after(&conn, 1, 2).unwrap()), [4, 5]);
        assert_eq!(revs(&changes_after(&conn, 4, 2).unwrap()), [5, 6]);
        assert_eq!(pending(&conn, 4).unwrap(), 2);
        // The next transaction's numbers come after every committed one.
        assert_eq!(Tally::default().rev(&conn).unwrap(), 7);
    }

    #[test]
    fn the_cursor_only_moves_forward_and_drops_the_tombstones_it_passed() {
        let (_dir, mut conn) = database(3);
        conn.execute(
            "INSERT INTO record_tombstones (rev, local_id) VALUES (9, 1)",
            [],
        )
        .unwrap();
        crate::store::push::advance_cursor(&mut conn, 9, "t1").unwrap();
        crate::store::push::advance_cursor(&mut conn, 2, "t2").unwrap();
        let state = push_state(&conn).unwrap();
        assert_eq!(
            (state.cursor, state.pending, state.last_success.as_deref()),
            (9, 0, Some("t2"))
        );
        let id = crate::store::push::machine_id(&conn).unwrap();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(crate::store::push::machine_id(&conn).unwrap(), id);
    }
}
