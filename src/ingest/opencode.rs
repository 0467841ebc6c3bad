//! OpenCode's usage, read where OpenCode keeps it: its SQLite database
//! (`<data>/opencode/opencode.db`, one `message` row per model step) and
//! the JSON files of its older storage (`<data>/opencode/storage/message/
//! <session>/<message>.json`), for `hookmeter import`
//! (docs/ingest.md#opencode).
//!
//! The database is OpenCode's, in use while it runs: it is only ever read
//! through [`crate::query::opencode_db`] (read-only, one short statement at
//! a time, never a lock held, never a checkpoint). Rows are read in the
//! rowid order, a bounded batch at a time, so memory does not
//! grow with the database; a database that is locked, half-written or not
//! a database at all is an error for this file, never a crash. What a row
//! means is the collector's ([`crate::collect::opencode`]); a record's key
//! is its message id, so reading a row again (a second import, a step read
//! unfinished then finished) adds nothing.

use std::collections::BTreeSet;
use std::path::Path;

use crate::collect::opencode::{
    read_message, tool_name, MessageRow, OpenCodeMessage, OpenCodeSkip,
};
use crate::collect::transcript::TranscriptUsage;
use crate::collect::UsageLimits;
use crate::ingest::transcript::Chunk;
use crate::query::opencode_db::{self, MessageCursor};
use crate::record::{AgentLog, Source, TranscriptRecord};

/// Message rows read at once: one short read transaction each.
const BATCH_ROWS: usize = 1_000;

/// Message rows a live read takes at most before committing: a large
/// backlog is read and committed in pieces, other files read between them.
pub const LIVE_BATCH_ROWS: usize = 1_000;

/// The largest JSON storage file read: a message's metadata is a few KB.
const MAX_JSON_BYTES: u64 = 1 << 20;

/// Whether `path` names an OpenCode database: `opencode.db`, or
/// `opencode-<channel>.db` (what builds of other release channels name it).
pub fn is_database(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "opencode.db" || (n.starts_with("opencode-") && n.ends_with(".db")))
}

/// Whether `path` is a message of OpenCode's older JSON storage:
/// `…/storage/message/<session>/<message>.json`.
pub fn is_json_message(path: &Path) -> bool {
    let mut up = path.ancestors().skip(2).filter_map(|p| p.file_name());
    path.extension().is_some_and(|x| x == "json")
        && up.next().is_some_and(|n| n == "message")
        && up.next().is_some_and(|n| n == "storage")
}

/// Reads every message of the database at `path`, a batch at a time, each
/// batch handed to `emit` with the bytes of row data it read; `emit`
/// returning false stops the read. `Err` says why the file could not be
/// read (locked for now, not a database, not OpenCode's).
pub fn read_database(
    path: &Path,
    limits: UsageLimits,
    mut emit: impl FnMut(Chunk, u64) -> bool,
) -> Result<(), String> {
    let conn = opencode_db::open(path).map_err(|e| why(&e))?;
    let mut cursor = MessageCursor { rowid: i64::MIN };
    loop {
        let rows = opencode_db::messages_after(&conn, cursor, BATCH_ROWS).map_err(|e| why(&e))?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        cursor = last.cursor;
        let mut chunk = Chunk::default();
        let mut bytes = 0;
        let mut ids = Vec::new();
        for row in &rows {
            bytes += row.data.len() as u64;
            let message = read_message(MessageRow {
                id: Some(&row.id),
                session_id: Some(&row.session_id),
                data: &row.data,
            });
            if let Some(step) = take(message, limits, path, &mut chunk) {
                chunk.records.push(step);
                ids.push(row.id.as_str());
            }
        }
        name_tools(&conn, &mut chunk, &ids).map_err(|e| why(&e))?;
        chunk.at_end = rows.len() < BATCH_ROWS;
        if !emit(chunk, bytes) || rows.len() < BATCH_ROWS {
            return Ok(());
        }
    }
}

/// Where the live read of one database stands: kept by the tail in memory,
/// stored as the [`Following::cursor`] with the records it read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Following {
    /// The last rowid read: new rows are the ones after it.
    pub read_to: i64,
    /// Rowids of steps read unfinished (OpenCode inserts a step's row when
    /// the step starts and rewrites it once at its end): read again, by
    /// rowid, until they complete or vanish.
    pub unfinished: BTreeSet<i64>,
}

impl Following {
    /// Reading on from a stored cursor: the rows after it, nothing known
    /// unfinished yet.
    pub fn from_cursor(cursor: i64) -> Following {
        Following {
            read_to: cursor,
            unfinished: BTreeSet::new(),
        }
    }

    /// The rowid a read after a restart starts after: just before the
    /// oldest step still unfinished, so that step is read again; the
    /// finished rows after it read again add nothing (their keys).
    pub fn cursor(&self) -> i64 {
        match self.unfinished.first() {
            Some(&oldest) => (oldest - 1).min(self.read_to),
            None => self.read_to,
        }
    }
}

/// Steps followed unfinished at once, per database: past this the oldest
/// is given up (a step OpenCode never finished, killed mid-step); an
/// import still reads it if it completes one day.
const MAX_UNFINISHED: usize = 256;

/// Why a live read of a database did not happen.
#[derive(Debug)]
pub enum DatabaseReadError {
    /// Locked for now (a writer in rollback mode, a recovery): read again later.
    Busy(String),
    /// Not readable: not a database, not OpenCode's, gone.
    Failed(String),
}

/// What one live read of a database produced.
#[derive(Debug)]
pub struct DatabaseRead {
    /// The steps that completed since the last read.
    pub chunk: Chunk,
    /// Where the read stands now.
    pub following: Following,
    /// Bytes of row data read.
    pub bytes: u64,
}

/// Reads what changed in the database at `path` since `following`: the
/// steps read unfinished before, again, then up to `max_rows` new rows.
/// One short statement at a time on a read-only connection, closed at the
/// end: OpenCode never waits for it.
pub fn read_database_since(
    path: &Path,
    mut following: Following,
    max_rows: usize,
    limits: UsageLimits,
) -> Result<DatabaseRead, DatabaseReadError> {
    let failed = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            DatabaseReadError::Busy(why(&e))
        }
        _ => DatabaseReadError::Failed(why(&e)),
    };
    let conn = opencode_db::open(path).map_err(failed)?;
    let mut chunk = Chunk::default();
    let mut bytes = 0;
    let mut read = |row: &opencode_db::MessageRow, chunk: &mut Chunk| {
        bytes += row.data.len() as u64;
        let message = read_message(MessageRow {
            id: Some(&row.id),
            session_id: Some(&row.session_id),
            data: &row.data,
        });
        let unfinished = matches!(message, OpenCodeMessage::Skip(OpenCodeSkip::Unfinished));
        let step = take(message, limits, path, chunk);
        (unfinished, step)
    };
    let mut ids = Vec::new();
    for rowid in following.unfinished.clone() {
        let Some(row) = opencode_db::message_at(&conn, rowid).map_err(failed)? else {
            following.unfinished.remove(&rowid);
            continue;
        };
        let (unfinished, step) = read(&row, &mut chunk);
        if !unfinished {
            following.unfinished.remove(&rowid);
        }
        if let Some(step) = step {
            chunk.records.push(step);
            ids.push(row.id);
        }
    }
    let cursor = MessageCursor {
        rowid: following.read_to,
    };
    let rows = opencode_db::messages_after(&conn, cursor, max_rows).map_err(failed)?;
    for row in rows.iter() {
        following.read_to = row.cursor.rowid;
        let (unfinished, step) = read(row, &mut chunk);
        if unfinished {
            following.unfinished.insert(row.cursor.rowid);
        }
        if let Some(step) = step {
            chunk.records.push(step);
            ids.push(row.id.clone());
        }
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    name_tools(&conn, &mut chunk, &ids).map_err(failed)?;
    while following.unfinished.len() > MAX_UNFINISHED {
        following.unfinished.pop_first();
    }
    chunk.at_end = rows.len() < max_rows;
    Ok(DatabaseRead {
        chunk,
        following,
        bytes,
    })
}

/// Reads one message file of the older JSON storage, with the tools its
/// parts (`storage/part/<message>/*.json`) call.
pub fn read_json_message(path: &Path, limits: UsageLimits) -> Result<(Chunk, u64), String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    file.take(MAX_JSON_BYTES)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    let mut chunk = Chunk {
        at_end: true,
        ..Chunk::default()
    };
    let message = read_message(MessageRow {
        id: None,
        session_id: None,
        data: &data,
    });
    if let Some(mut step) = take(message, limits, path, &mut chunk) {
        step.tool_names = json_parts(path, &step.key);
        chunk.records.push(step);
    }
    Ok((chunk, data.len() as u64))
}

/// Counts one message into `chunk`; the step when it is one to record.
fn take(
    message: OpenCodeMessage,
    limits: UsageLimits,
    path: &Path,
    chunk: &mut Chunk,
) -> Option<TranscriptUsage> {
    chunk.lines += 1;
    match message {
        OpenCodeMessage::Step(step) => match limits.refusal(&step.usage) {
            Some(reason) => {
                chunk.skipped += 1;
                chunk.implausible += 1;
                tracing::warn!(path = %path.display(), key = %step.key, %reason, "OpenCode step usage refused.");
                None
            }
            None => Some(step),
        },
        OpenCodeMessage::Skip(skip) => {
            chunk.skipped += 1;
            if skip == OpenCodeSkip::NotJson {
                chunk.not_json += 1;
            }
            if let OpenCodeSkip::InvalidUsage(_) = skip {
                tracing::warn!(path = %path.display(), reason = %skip, "An OpenCode step's usage is refused; its cost is lost.");
            }
            None
        }
    }
}

/// Tool names of parts, in order, each once.
/// Gives the steps of `chunk` (one per id of `ids`, in order) the tools
/// their parts call.
fn name_tools(
    conn: &rusqlite::Connection,
    chunk: &mut Chunk,
    ids: &[&str],
) -> rusqlite::Result<()> {
    let parts = opencode_db::tool_parts(conn, ids)?;
    for (step, id) in chunk.records.iter_mut().zip(ids) {
        if let Some(parts) = parts.get(*id) {
            step.tool_names = tools(parts);
        }
    }
    Ok(())
}

fn tools(parts: &[Vec<u8>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in parts.iter().filter_map(|p| tool_name(p)) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The tools of a JSON storage message: its parts are files of
/// `storage/part/<message id>/`, beside `storage/message/`.
fn json_parts(message_file: &Path, key: &str) -> Vec<String> {
    let id = key.trim_start_matches("opencode:");
    let Some(storage) = message_file.ancestors().nth(3) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(storage.join("part").join(id)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    let parts: Vec<Vec<u8>> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    tools(&parts)
}

/// A database error as a user reads it: a lock is for now.
fn why(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            format!("{e} (OpenCode is writing it; read it again later)")
        }
        Some(rusqlite::ErrorCode::NotADatabase) => format!("{e} (not an OpenCode database)"),
        _ => e.to_string(),
    }
}

/// The record of an OpenCode step.
pub fn to_record(line: TranscriptUsage, source: Source) -> TranscriptRecord {
    let project = line.cwd.as_deref().and_then(crate::ingest::project_of);
    TranscriptRecord {
        line,
        project,
        source,
        log: AgentLog::OpenCode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_and_json_messages_are_told_by_their_paths() {
        assert!(is_database(Path::new("/d/opencode/opencode.db")));
        assert!(is_database(Path::new("/d/opencode/opencode-dev.db")));
        assert!(!is_database(Path::new("/d/opencode/opencode.db-wal")));
        assert!(!is_database(Path::new("/d/opencode/other.db")));
        assert!(is_json_message(Path::new(
            "/d/opencode/storage/message/ses_1/msg_1.json"
        )));
        assert!(!is_json_message(Path::new(
            "/d/opencode/storage/part/msg_1/prt_1.json"
        )));
        assert!(!is_json_message(Path::new(
            "/d/opencode/storage/message/msg_1.json"
        )));
    }

    /// A step read unfinished holds the cursor before it and is read again
    /// by rowid until it completes; then the cursor moves past it.
    #[test]
    fn a_step_read_unfinished_is_read_again_until_it_completes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opencode.db");
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "PRAGMA journal_mode = wal;
             CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
                 time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
             CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL,
                 session_id TEXT NOT NULL, time_created INTEGER NOT NULL,
                 time_updated INTEGER NOT NULL, data TEXT NOT NULL);",
        )
        .unwrap();
        let step = |completed: bool, input: u64| {
            let time = match completed {
                true => serde_json::json!({"created": 1, "completed": 2}),
                false => serde_json::json!({"created": 1}),
            };
            serde_json::json!({"role": "assistant", "modelID": "gpt-5.1-codex",
                "providerID": "mock", "cost": 0, "time": time, "path": {"cwd": "/p", "root": "/"},
                "tokens": {"input": input, "output": 1, "reasoning": 0,
                    "cache": {"read": 0, "write": 0}}})
            .to_string()
        };
        let insert = |id: &str, data: &str| {
            db.execute(
                "INSERT INTO message VALUES (?1, 's1', 1, 1, ?2)",
                [id, data],
            )
            .unwrap();
        };
        insert("msg_a", &step(true, 10));
        insert("msg_b", &step(false, 0));
        let limits = UsageLimits::default();

        let read = read_database_since(&path, Following::default(), 10, limits).unwrap();
        let keys: Vec<&str> = read.chunk.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["opencode:msg_a"]);
        assert_eq!(read.following.read_to, 2);
        assert_eq!(read.following.unfinished, BTreeSet::from([2]));
        assert_eq!(
            read.following.cursor(),
            1,
            "stored before the unfinished step"
        );
        assert!(read.chunk.at_end);

        // Nothing changed: the unfinished step is read again, still no record.
        let again = read_database_since(&path, read.following.clone(), 10, limits).unwrap();
        assert!(again.chunk.records.is_empty());
        assert_eq!(again.following, read.following);

        db.execute(
            "UPDATE message SET data = ?1 WHERE id = 'msg_b'",
            [step(true, 20)],
        )
        .unwrap();
        insert("msg_c", &step(true, 30));
        let done = read_database_since(&path, again.following, 10, limits).unwrap();
        let keys: Vec<&str> = done.chunk.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["opencode:msg_b", "opencode:msg_c"]);
        assert!(done.following.unfinished.is_empty());
        assert_eq!(done.following.cursor(), 3);

        // A batch smaller than what is new: the read says there is more.
        insert("msg_d", &step(true, 40));
        insert("msg_e", &step(true, 50));
        let part = read_database_since(&path, done.following, 1, limits).unwrap();
        assert_eq!(part.chunk.records.len(), 1);
        assert!(!part.chunk.at_end);
    }

    #[test]
    fn a_file_that_is_no_database_fails_and_is_not_called_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opencode.db");
        std::fs::write(&path, b"not a database at all".repeat(300)).unwrap();
        let read = read_database_since(&path, Following::default(), 10, UsageLimits::default());
        assert!(
            matches!(read, Err(DatabaseReadError::Failed(_))),
            "{read:?}"
        );
    }
}
