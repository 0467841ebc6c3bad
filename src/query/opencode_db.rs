//! Reads of OpenCode's own database (`opencode.db`, which OpenCode keeps in
//! WAL mode and writes while it runs): its `message` rows in the order they
//! last changed, and the tools their `part` rows call.
//!
//! It must never get in OpenCode's way: the connection is opened read-only
//! (`mode=ro`), so it can take no write lock and, closing, runs no
//! checkpoint; every read is one statement, so a read transaction lasts one
//! short query and never pins the WAL; a busy database is not waited on for
//! long: the caller is told and reads again later.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a read waits for a lock before giving up for now. In WAL mode a
/// reader is not blocked by OpenCode's writes; only a database in rollback
/// mode mid-write, or one being recovered, is locked, briefly.
const BUSY_WAIT: Duration = Duration::from_millis(200);

/// Opens OpenCode's database at `path` read-only.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_WAIT)?;
    Ok(conn)
}

/// Where a read of `message` stopped: the last row's `time_updated` and
/// rowid. A row rewritten later (a step that finished) gets a later
/// `time_updated` and comes after the cursor again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCursor {
    pub time_updated: i64,
    pub rowid: i64,
}

/// One `message` row.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: String,
    pub session_id: String,
    /// The row's `data`, a JSON object (bytes as stored).
    pub data: Vec<u8>,
    /// Where a read that ends with this row stopped.
    pub cursor: MessageCursor,
}

/// Up to `limit` rows changed after `after`, oldest change first.
pub fn messages_after(
    conn: &Connection,
    after: MessageCursor,
    limit: usize,
) -> rusqlite::Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, id, session_id, time_updated, CAST(data AS BLOB) FROM message \
         WHERE time_updated > ?1 OR (time_updated = ?1 AND rowid > ?2) \
         ORDER BY time_updated, rowid LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![after.time_updated, after.rowid, limit as i64],
        |row| {
            Ok(MessageRow {
                cursor: MessageCursor {
                    rowid: row.get(0)?,
                    time_updated: row.get(3)?,
                },
                id: row.get(1)?,
                session_id: row.get(2)?,
                data: row.get(4)?,
            })
        },
    )?;
    rows.collect()
}

/// The `data` of the tool parts of message `message_id`, in the order they
/// were made.
pub fn tool_parts(conn: &Connection, message_id: &str) -> rusqlite::Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT CAST(data AS BLOB) FROM part WHERE message_id = ?1 \
         AND data LIKE '%\"type\":\"tool\"%' ORDER BY rowid",
    )?;
    let parts = stmt.query_map([message_id], |row| row.get(0))?;
    parts.collect()
}
