//! Store: the SQLite database. Owns the schema, the one write connection and
//! its thread, and the payload storage policy. Nothing here parses events or
//! decides prices; the writer only asks the pricing table for a number.

pub mod redact;
pub mod writer;

use std::path::Path;

use rusqlite::Connection;

use crate::config::Durability;

/// The whole schema, applied to a new database; its version lives in
/// `PRAGMA user_version`.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// The version `SCHEMA_SQL` brings a database to.
pub const SCHEMA_VERSION: i64 = 2;
/// The steps that bring an older database to `SCHEMA_VERSION`: each entry is
/// the version it produces and the SQL that gets there from the one before.
const MIGRATIONS: &[(i64, &str)] = &[(
    2,
    include_str!("migrations/0002_api_messages_record_id.sql"),
)];

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
    // 64 MiB of page cache (the default is 2 MB): the indexes on random keys
    // (event ids, message ids) stay in memory instead of being re-read on
    // every insert; a cap, not an allocation, so a small database costs less.
    conn.pragma_update(None, "cache_size", -65536)
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
    // Each step is one transaction: a crash half-way leaves the version
    // before it, and the next start runs the step again.
    let step = |sql: &str, version: i64| {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        ))
    };
    if found == 0 {
        step(SCHEMA_SQL, SCHEMA_VERSION)?;
        return Ok(());
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tracing::info!(from = found, to = version, "Upgrading the database schema.");
        step(sql, *version)?;
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
    fn a_version_1_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        // Version 1: api_messages held the record's text key.
        conn.execute_batch(&format!(
            "{SCHEMA_SQL}
             DROP TABLE api_messages;
             CREATE TABLE api_messages (message_id TEXT NOT NULL, request_id TEXT NOT NULL,
                 key TEXT NOT NULL, PRIMARY KEY (message_id, request_id)) WITHOUT ROWID;
             INSERT INTO cost_records (id, timestamp, agent_id, provider, model,
                 estimated_cost_usd, pricing_source, hook_event_id, source)
                 VALUES (41, '2026-09-20T10:00:00.000Z', 'claude-code', 'anthropic', 'm',
                         0.5, 'embedded', 'cc:s:msg_a:req_a', 'transcript');
             INSERT INTO api_messages VALUES ('msg_a', 'req_a', 'cc:s:msg_a:req_a'),
                                             ('msg_gone', '', 'cc:s:msg_gone:');
             PRAGMA user_version = 1;"
        ))
        .unwrap();
        drop(conn);
        let conn = open_writer(&path, Durability::Normal).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let rows: Vec<(String, String, i64)> = conn
            .prepare("SELECT message_id, request_id, record_id FROM api_messages")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // The row whose record is gone counted nothing and is dropped.
        assert_eq!(rows, [("msg_a".to_string(), "req_a".to_string(), 41)]);
        // The result is the schema a new database gets.
        let table_sql = |c: &Connection| -> String {
            c.query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'api_messages'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let fresh = open_writer(&dir.path().join("fresh.db"), Durability::Normal).unwrap();
        let columns = |c: &Connection| -> Vec<String> {
            c.prepare("SELECT name FROM pragma_table_info('api_messages')")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(columns(&conn), columns(&fresh));
        assert!(table_sql(&conn).contains("WITHOUT ROWID"));
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
