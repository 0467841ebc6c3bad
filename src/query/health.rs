//! What `doctor` asks of the database file itself, rather than of its
//! records: the schema version it is at and SQLite's integrity check. The
//! connection is the caller's (doctor opens one that leaves no trace);
//! judging the answers is doctor's.

use rusqlite::Connection;

/// The schema version the database is at (`PRAGMA user_version`).
pub fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
}

/// `PRAGMA integrity_check`'s problems, at most `max` of them, one per item
/// (`["ok"]` when sound). A row can hold several lines, after a
/// `*** in database main ***` heading that says nothing.
pub fn integrity_problems(conn: &Connection, max: u32) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("PRAGMA integrity_check({max})"))?;
    let rows = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .iter()
        .flat_map(|row| row.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("*** in database"))
        .map(str::to_string)
        .collect())
}
