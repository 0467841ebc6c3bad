//! What the transcript tail reads back of `transcript_offsets`: where it
//! stopped reading a file, and which files it was following lately. The
//! writer stores offsets together with the records read up to them; the
//! tail decides what to do with them.

use rusqlite::{Connection, OptionalExtension};

use crate::record::TranscriptOffset;

/// The saved read position of the transcript at `path`, if one was saved.
pub fn transcript_offset(
    conn: &Connection,
    path: &str,
) -> rusqlite::Result<Option<TranscriptOffset>> {
    conn.query_row(
        "SELECT offset, inode FROM transcript_offsets WHERE path = ?1",
        [path],
        |row| {
            Ok(TranscriptOffset {
                path: path.to_string(),
                offset: row.get::<_, i64>(0)? as u64,
                inode: row.get::<_, i64>(1)? as u64,
            })
        },
    )
    .optional()
}

/// Whether any cost record carries `session`: a transcript `import` read
/// (it keeps no offset) has its session's records.
pub fn session_has_records(conn: &Connection, session: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM cost_records WHERE session_id = ?1)",
        [session],
        |row| row.get(0),
    )
}

/// The transcripts whose offset moved at or after `since` (an instant as
/// [`crate::record::format_timestamp`] writes it).
pub fn transcripts_read_since(conn: &Connection, since: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT path FROM transcript_offsets WHERE updated_at >= ?1")?;
    let paths = stmt
        .query_map([since], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(paths)
}

/// The saved offsets of files with inode `inode` whose name is `name`: where
/// a file renamed into another directory (Codex archiving a rollout) was
/// read up to under its old path.
pub fn offsets_of_inode(
    conn: &Connection,
    inode: u64,
    name: &str,
) -> rusqlite::Result<Vec<TranscriptOffset>> {
    let mut stmt = conn.prepare(
        "SELECT path, offset, inode FROM transcript_offsets
         WHERE inode = ?1 AND substr(path, -length(?2) - 1) = '/' || ?2",
    )?;
    let offsets = stmt
        .query_map(rusqlite::params![inode as i64, name], |row| {
            Ok(TranscriptOffset {
                path: row.get(0)?,
                offset: row.get::<_, i64>(1)? as u64,
                inode: row.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(offsets)
}

/// The saved read position of `path` and when it last moved (as
/// [`crate::record::format_timestamp`] wrote it), for `doctor`.
pub fn offset_and_time(
    conn: &Connection,
    path: &str,
) -> rusqlite::Result<Option<(TranscriptOffset, String)>> {
    conn.query_row(
        "SELECT offset, inode, updated_at FROM transcript_offsets WHERE path = ?1",
        [path],
        |row| {
            let offset = TranscriptOffset {
                path: path.to_string(),
                offset: row.get::<_, i64>(0)? as u64,
                inode: row.get::<_, i64>(1)? as u64,
            };
            Ok((offset, row.get(2)?))
        },
    )
    .optional()
}
