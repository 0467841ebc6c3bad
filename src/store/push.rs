//! The push's local side: what a change is ([`Change`], read by
//! `query::push`), and the push's writes to the local database: the
//! machine id, made on first need, and the cursor, advanced only after
//! the central server committed everything up to it (the push's
//! exactly-once argument: docs/push.md).

use rusqlite::{params, Connection};

/// A cost record as the central table takes it (docs/push.md).
#[derive(Debug, Clone, PartialEq)]
pub struct PushedRecord {
    pub local_id: i64,
    pub rev: i64,
    pub record_key: String,
    pub timestamp: String,
    pub agent_id: String,
    pub session_id: Option<String>,
    pub task_id: Option<String>,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub prompt_id: Option<String>,
    pub provider: String,
    pub model: String,
    pub model_key: Option<String>,
    pub tool_name: Option<String>,
    pub source: String,
    /// input, output, cache read, cache write, 1-hour cache write, reasoning.
    pub tokens: [i64; 6],
    pub estimated_cost_usd: f64,
    pub reported_cost_usd: Option<f64>,
    pub pricing_source: String,
    /// The record's own labels (a hook's), JSON text.
    pub labels_json: Option<String>,
}

/// One change, in the order the local database made them.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Inserted or updated: the row as it is now.
    Upsert(Box<PushedRecord>),
    /// Deleted (its tombstone).
    Delete { local_id: i64, rev: i64 },
}

impl Change {
    pub fn rev(&self) -> i64 {
        match self {
            Change::Upsert(r) => r.rev,
            Change::Delete { rev, .. } => *rev,
        }
    }
}

/// This database's machine id, made (a random uuid) on first need and kept.
pub fn machine_id(conn: &Connection) -> rusqlite::Result<String> {
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('machine_id',
             lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4'
                   || substr(hex(randomblob(2)), 2) || '-'
                   || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)
                   || '-' || hex(randomblob(6))))",
        [],
    )?;
    conn.query_row("SELECT value FROM meta WHERE key = 'machine_id'", [], |r| {
        r.get(0)
    })
}

/// The server committed every change up to `rev`: the cursor moves there
/// (never back), the tombstones it covers are done with, and the time is
/// noted as the last success.
pub fn advance_cursor(conn: &mut Connection, rev: i64, at: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('push_cursor', ?1)
         ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        [rev],
    )?;
    tx.execute("DELETE FROM record_tombstones WHERE rev <= ?1", [rev])?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('push_last_success', ?1)",
        [at],
    )?;
    tx.execute("DELETE FROM meta WHERE key = 'push_last_error'", [])?;
    tx.commit()
}

/// Notes why the last attempt failed (`at` and the reason, one line).
pub fn note_failure(conn: &Connection, at: &str, reason: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('push_last_error', ?1)",
        params![format!("{at} {reason}")],
    )?;
    Ok(())
}
