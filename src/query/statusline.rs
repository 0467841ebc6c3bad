//! What `hookmeter statusline` reads: a read-only connection that waits
//! only a few milliseconds for a lock, and one session's cost. Today's
//! spend, the last hour's and the budgets are [`super::summary`]'s and
//! `budget::status`'s, read from the rollups like every report.
//!
//! Every statement here answers from an index, whatever the database's
//! size: the statusline runs after every message of an agent.

use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::QueryError;

/// A read-only connection to an existing database of this hookmeter's
/// schema, which waits at most `busy` for a lock: the statusline prints
/// without hookmeter's figures rather than keep an agent waiting. Never
/// creates or migrates anything.
pub fn open(path: &std::path::Path, busy: Duration) -> Result<Connection, QueryError> {
    if matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
        return Err(QueryError::NoDatabase(path.to_path_buf()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != crate::store::SCHEMA_VERSION {
        return Err(QueryError::Invalid(format!(
            "database schema version {version}, this hookmeter reads {}",
            crate::store::SCHEMA_VERSION
        )));
    }
    Ok(conn)
}

/// What the records of `session` cost, USD (0 for a session with none).
/// Reads the session's records through their session index.
pub fn session_cost(conn: &Connection, session: &str) -> Result<f64, QueryError> {
    Ok(conn
        .prepare_cached("SELECT total(estimated_cost_usd) FROM cost_records WHERE session_id = ?1")?
        .query_row([session], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statement reads the session's rows by index, never the table.
    #[test]
    fn a_session_s_cost_is_read_through_its_index() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT total(estimated_cost_usd) FROM cost_records WHERE session_id = ?1",
            )
            .unwrap()
            .query_map(["s"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.contains("idx_cost_records_session_id")),
            "{plan:?}"
        );
        assert_eq!(session_cost(&conn, "s").unwrap(), 0.0);
    }
}
