//! Reads of OpenCode's own database (`opencode.db`, which OpenCode keeps in
//! WAL mode and writes while it runs): its `message` rows, a batch at a
//! time, and the tools their `part` rows call (indexed by `message_id`).
//!
//! It must never get in OpenCode's way: the connection is opened read-only
//! (`mode=ro`), so it can take no write lock and, closing, runs no
//! checkpoint; every read is one statement, so a read transaction lasts one
//! short query and never pins the WAL; a busy database is not waited on for
//! long: the caller is told and reads again later.

use std::collections::HashMap;
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

/// Where a read of `message` stopped: the last row's rowid. OpenCode keeps
/// no index on `time_updated` (1.18.33), so an order by the time of the
/// last change costs a scan and a sort of the whole table per read; the
/// rowid order is the table's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCursor {
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

/// Up to `limit` rows after `after`, in rowid order.
pub fn messages_after(
    conn: &Connection,
    after: MessageCursor,
    limit: usize,
) -> rusqlite::Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, id, session_id, CAST(data AS BLOB) FROM message \
         WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![after.rowid, limit as i64], |row| {
        Ok(MessageRow {
            cursor: MessageCursor { rowid: row.get(0)? },
            id: row.get(1)?,
            session_id: row.get(2)?,
            data: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// The `data` of the tool parts of each of `message_ids`, in the order
/// they were made, in one statement: OpenCode indexes `part` by message,
/// but a copy or a dump of its database may lack the index, and then a
/// lookup per message would scan the whole table each time (a 270 MB
/// database took 47 s instead of 0.3 s); this scans it once per batch.
pub fn tool_parts(
    conn: &Connection,
    message_ids: &[&str],
) -> rusqlite::Result<HashMap<String, Vec<Vec<u8>>>> {
    let mut parts: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    if message_ids.is_empty() {
        return Ok(parts);
    }
    let ids = serde_json::to_string(message_ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, CAST(data AS BLOB) FROM part \
         WHERE message_id IN (SELECT value FROM json_each(?1)) \
         AND data LIKE '%\"type\":\"tool\"%' ORDER BY rowid",
    )?;
    let mut rows = stmt.query([ids])?;
    while let Some(row) = rows.next()? {
        parts.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    Ok(parts)
}

/// The row `rowid` now, if it is still there: a step read unfinished is
/// read again by its rowid (the primary key's lookup) until it completes.
pub fn message_at(conn: &Connection, rowid: i64) -> rusqlite::Result<Option<MessageRow>> {
    use rusqlite::OptionalExtension;
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, id, session_id, CAST(data AS BLOB) FROM message WHERE rowid = ?1",
    )?;
    stmt.query_row([rowid], |row| {
        Ok(MessageRow {
            cursor: MessageCursor { rowid: row.get(0)? },
            id: row.get(1)?,
            session_id: row.get(2)?,
            data: row.get(3)?,
        })
    })
    .optional()
}

/// The last row of `message` (its rowid and `time_updated`, OpenCode's
/// milliseconds), for `doctor`: how far OpenCode has written. One lookup
/// at the end of the rowid order, not a scan.
pub fn newest_message(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT rowid, time_updated FROM message ORDER BY rowid DESC LIMIT 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}
