//! Store: the SQLite database. Owns the schema, the one write connection and
//! its thread, and the payload storage policy. Nothing here parses events or
//! decides prices; the writer only asks the pricing table for a number.

pub mod redact;
pub mod writer;

use std::path::Path;

use rusqlite::Connection;

use crate::config::Durability;

/// The schema, applied at start; its version lives in `PRAGMA user_version`.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// The version `SCHEMA_SQL` brings a database to.
pub const SCHEMA_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database {path} has schema version {found}, newer than this hookmeter ({SCHEMA_VERSION}); upgrade hookmeter")]
    TooNew { path: String, found: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Opens the database for writing: creates it (and its directory) when
/// missing, sets WAL and the durability level, and brings the schema up to date.
pub fn open_writer(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let open_err = |source| StoreError::Open {
        path: path.display().to_string(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(open_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(open_err)?;
    let sync = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(open_err)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens an existing database for reading only; readers never take the write lock.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found,
        });
    }
    if found < SCHEMA_VERSION {
        // One transaction: a crash half-way leaves the old version, and the
        // statements are idempotent, so the next start simply runs them again.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{SCHEMA_SQL}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
        ))?;
    }
    Ok(())
}

/// Creates a directory tree readable by its owner only: it holds prompts and costs.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_applies_once_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/telemetry.db");
        drop(open_writer(&path, Durability::Normal).unwrap());
        let conn = open_writer(&path, Durability::Full).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // Running the schema text again on a current database changes nothing.
        conn.execute_batch(SCHEMA_SQL).unwrap();
    }

    #[test]
    fn newer_schema_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = open_writer(&path, Durability::Normal)
            .unwrap_err()
            .to_string();
        assert!(err.contains("upgrade hookmeter"), "{err}");
    }
}
