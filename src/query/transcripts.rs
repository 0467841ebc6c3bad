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

/// The transcripts whose offset moved at or after `since` (an instant as
/// [`crate::record::format_timestamp`] writes it).
pub fn transcripts_read_since(conn: &Connection, since: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT path FROM transcript_offsets WHERE updated_at >= ?1")?;
    let paths = stmt
        .query_map([since], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(paths)
}
