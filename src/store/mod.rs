//! Store: the SQLite database. Owns the schema, the one write connection and
//! its thread, and every statement that writes
//! ([`budgets`] holds those of the budgets and alerts tables, [`push`] the
//! push's cursor and machine id, [`central`] the statements the push runs
//! on the central PostgreSQL); reads are
//! [`crate::query`]'s. Nothing here parses events or decides prices; the
//! writer only asks the pricing table for a number. What of a payload may be
//! stored is decided by the core's redaction (`hookmeter_core::redact`),
//! which the ingest edges apply before a row reaches the writer. It imports
//! neither ingest nor http (the `layering` test holds it to that).
//!
//! For users: docs/schema.md.

pub mod budgets;
pub mod central;
pub mod push;
pub mod reprice;
pub mod rollup;
pub mod writer;

/// Payload redaction is the core's (pure); named here too so that older
/// paths (`store::redact`, the fuzz targets') keep working.
pub use hookmeter_core::redact;

use std::path::Path;

use rusqlite::Connection;

use crate::fs::create_private_dir;
use hookmeter_core::terms::Durability;

/// The whole current schema. A new database gets it as is; an older one gets
/// it after the shape changes of each newer [`Migration`] (every statement
/// in it is idempotent, so it only adds what is missing).
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// The version `SCHEMA_SQL` brings a database to (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 17;

/// One step from the version before `version` to `version`.
struct Migration {
    version: i64,
    /// Changes to existing tables, run before `SCHEMA_SQL`.
    reshape: &'static str,
    /// Computes, before `backfill`, what SQL alone cannot from the rows
    /// already stored.
    derive: Option<fn(&Connection) -> rusqlite::Result<()>>,
    /// Fills what `SCHEMA_SQL` just created from the rows already stored.
    backfill: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2,
        reshape: include_str!("migrations/0002_api_messages_record_id.sql"),
        derive: None,
        backfill: &[],
    },
    Migration {
        version: 3,
        reshape: "ALTER TABLE rejected_events ADD COLUMN reason_code TEXT NOT NULL DEFAULT 'other';
                  DROP VIEW IF EXISTS v_daily_cost; -- now read from the rollup
                  ALTER TABLE cost_records ADD COLUMN fast INTEGER NOT NULL DEFAULT 0;",
        derive: None,
        backfill: &[
            rollup::FILL_SQL,
            include_str!("migrations/0003_rollups.sql"),
        ],
    },
    Migration {
        version: 4,
        reshape: "DROP TRIGGER IF EXISTS cost_rollup_on_delete; -- now keeps the daily rollup too
                  DROP VIEW IF EXISTS v_daily_cost; -- now read from the daily rollup",
        derive: None,
        backfill: &[rollup::DAILY_FILL_SQL],
    },
    Migration {
        version: 5,
        // As version 5 had it, so that version 6 can reshape it.
        reshape: "CREATE TABLE IF NOT EXISTS budgets (scope TEXT NOT NULL, period TEXT NOT NULL,
                      limit_usd REAL NOT NULL, updated_at TEXT NOT NULL,
                      PRIMARY KEY (scope, period)) WITHOUT ROWID;",
        derive: None,
        backfill: &[],
    },
    Migration {
        version: 6,
        reshape: "ALTER TABLE budgets ADD COLUMN enforce INTEGER NOT NULL DEFAULT 0;
                  ALTER TABLE budgets ADD COLUMN origin TEXT NOT NULL DEFAULT 'cli';",
        derive: None,
        backfill: &[], // the alerts table is new: schema.sql creates it
    },
    Migration {
        version: 7,
        reshape: "",
        derive: None,
        backfill: &[], // the fallback records' partial index is new: schema.sql creates it
    },
    Migration {
        version: 8,
        // Records stored before read no modifier but fast: standard, none unpriced.
        reshape: "ALTER TABLE cost_records ADD COLUMN service_tier TEXT;
                  ALTER TABLE cost_records ADD COLUMN inference_geo TEXT;
                  ALTER TABLE cost_records ADD COLUMN unpriced_modifiers TEXT;",
        derive: None,
        backfill: &[], // the unpriced records' partial index is new: schema.sql creates it
    },
    Migration {
        version: 9,
        // The rollups gain `model_key` in their key: rebuilt from the records.
        reshape: "ALTER TABLE cost_records ADD COLUMN model_key TEXT;
                  DROP TRIGGER IF EXISTS cost_rollup_on_delete;
                  DROP TABLE IF EXISTS cost_rollup_hourly;
                  DROP TABLE IF EXISTS cost_rollup_daily;",
        derive: Some(name_records),
        backfill: &[
            "DELETE FROM cost_rollup_hourly; DELETE FROM cost_rollup_daily;
             DELETE FROM cost_totals_daily;",
            rollup::FILL_SQL,
            rollup::DAILY_FILL_SQL,
        ],
    },
    Migration {
        version: 10,
        // Records stored before were attributed first come, first served:
        // none is known to be a copy, so none is given up.
        reshape: "ALTER TABLE api_messages ADD COLUMN copied INTEGER NOT NULL DEFAULT 0;",
        derive: None,
        backfill: &[],
    },
    Migration {
        version: 11,
        reshape: "",
        derive: None,
        backfill: &[], // otel_requests and the request-id index are new: schema.sql creates them
    },
    Migration {
        version: 12,
        // Records stored before name no prompt and no branch: the lines
        // they came from are not read again.
        reshape: "ALTER TABLE cost_records ADD COLUMN prompt_id TEXT;
                  ALTER TABLE cost_records ADD COLUMN git_branch TEXT;",
        derive: None,
        backfill: &[],
    },
    Migration {
        version: 13,
        reshape: "",
        derive: None,
        backfill: &[], // plan_usage and session_reported_costs are new: schema.sql creates them
    },
    Migration {
        version: 14,
        // Change numbers for the push: the records already stored count as
        // changed in the order they were stored.
        reshape: "ALTER TABLE cost_records ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;",
        derive: None,
        backfill: &["UPDATE cost_records SET rev = id;
                     UPDATE meta SET value = (SELECT coalesce(max(id), 0) + 1 FROM cost_records)
                     WHERE key = 'next_rev';"],
    },
    Migration {
        version: 15,
        // Delivery state of each alert. Those fired before were sent at
        // most once, and whether they arrived is not known: they count as
        // delivered (with no time), so an upgrade never pages anyone again
        // for a crossing long past. The table as version 6 made it first,
        // for a database older than that.
        reshape: "CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, scope TEXT NOT NULL,
                      period TEXT NOT NULL, period_start TEXT NOT NULL, limit_usd REAL NOT NULL,
                      threshold_pct REAL NOT NULL, spent_usd REAL NOT NULL, fired_at TEXT NOT NULL,
                      UNIQUE (scope, period, period_start, limit_usd, threshold_pct));
                  ALTER TABLE alerts ADD COLUMN delivery TEXT NOT NULL DEFAULT 'pending';
                  ALTER TABLE alerts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                  ALTER TABLE alerts ADD COLUMN last_attempt_at TEXT;
                  ALTER TABLE alerts ADD COLUMN next_attempt_at TEXT;
                  ALTER TABLE alerts ADD COLUMN last_error TEXT;
                  ALTER TABLE alerts ADD COLUMN delivered_at TEXT;
                  ALTER TABLE alerts ADD COLUMN message TEXT;
                  UPDATE alerts SET delivery = 'delivered';",
        derive: None,
        backfill: &[],
    },
    Migration {
        version: 16,
        reshape: "",
        derive: None,
        backfill: &[], // cost_sessions is new: schema.sql creates it, version 17 fills it
    },
    Migration {
        version: 17,
        // The session rollup gains its tokens column and an index per sort;
        // cost_session_models is new. Both are rebuilt from the records.
        reshape: "DROP TRIGGER IF EXISTS cost_sessions_on_delete;
                  DROP TABLE IF EXISTS cost_sessions;",
        derive: None,
        backfill: &[rollup::SESSION_FILL_SQL],
    },
];

/// Version 9: the name each stored record is reported under, as the
/// built-in price table names it now. The migration runs wherever the
/// database is opened to write, before any `pricing.toml` or price update
/// is read, so the built-in table is the one every hookmeter has; a record
/// it does not know (priced by the user's own entry, the fallback or a
/// local rule) keeps its own name. `hookmeter reprice` names records by the
/// prices in force.
fn name_records(conn: &Connection) -> rusqlite::Result<()> {
    let table = crate::pricing::PriceTable::embedded();
    let groups: Vec<(String, String)> = conn
        .prepare("SELECT DISTINCT model, pricing_source FROM cost_records WHERE model_key IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut name = conn.prepare(
        "UPDATE cost_records SET model_key = ?3
         WHERE model = ?1 AND pricing_source = ?2 AND model_key IS NULL",
    )?;
    for (model, source) in &groups {
        let priced = table.price(
            model,
            &crate::collect::Usage::default(),
            &hookmeter_core::terms::Billing::default(),
            None,
        );
        let key = match source.as_str() {
            "fallback" | "local" => model.as_str(),
            _ => priced.report_name(model),
        };
        name.execute(rusqlite::params![model, source, key])?;
    }
    Ok(())
}

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

/// Bytes of WAL file kept after a checkpoint restarts it: a few times the
/// 4 MB an automatic checkpoint (1000 pages) lets it reach.
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

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
    // A long reader keeps the WAL from restarting, and it grows for as long
    // as the reader stays; without a limit SQLite keeps the file at its peak
    // size for good. With one, it is cut back when the WAL next restarts.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
        .map_err(open_err)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Gives a write connection a 32 MiB page cache (SQLite's default is 2 MB),
/// for a bulk load (`import`): the indexes on random keys (event ids,
/// message ids) stay in memory instead of being re-read from the OS on every
/// insert. 64 MiB used no less CPU on the 1 GiB benchmark corpus and took the
/// import past 100 MB of peak RSS (BENCHMARKS.md, issue 24). The daemon keeps
/// the default, and its memory small.
pub fn tune_for_bulk_load(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", -32768)
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
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // One transaction: a crash half-way leaves the version before it, and
    // the next start runs the whole upgrade again.
    let pending = || MIGRATIONS.iter().filter(|m| found > 0 && m.version > found);
    let mut sql = String::from("BEGIN IMMEDIATE;\n");
    for step in pending() {
        tracing::info!(
            from = found,
            to = step.version,
            "Upgrading the database schema."
        );
        sql.push_str(step.reshape);
        sql.push('\n');
    }
    sql.push_str(SCHEMA_SQL);
    let upgrade = || -> rusqlite::Result<()> {
        conn.execute_batch(&sql)?;
        for step in pending() {
            if let Some(derive) = step.derive {
                derive(conn)?;
            }
            for part in step.backfill {
                conn.execute_batch(part)?;
            }
        }
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"))
    };
    if let Err(e) = upgrade() {
        // Leave the connection usable for the error report; nothing was kept.
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    Ok(())
}

/// The six token counts of a `cost_records` row, read from `first` on in
/// the order `input_tokens, cache_read_tokens, cache_write_tokens,
/// cache_write_1h_tokens, output_tokens, reasoning_tokens`.
pub(crate) fn usage_at(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<crate::collect::Usage> {
    let count = |i: usize| row.get::<_, i64>(first + i).map(|n| n.max(0) as u64);
    Ok(crate::collect::Usage {
        input: count(0)?,
        cache_read: count(1)?,
        cache_write: count(2)?,
        cache_write_1h: count(3)?,
        output: count(4)?,
        reasoning: count(5)?,
    })
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
    fn durability_full_syncs_every_commit() {
        // synchronous: 1 = NORMAL (WAL synced at checkpoints: a crash of the
        // process loses nothing, power loss may lose the last commits);
        // 2 = FULL (the WAL is synced at every commit, before the ack).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.db");
        for (durability, want) in [(Durability::Normal, 1), (Durability::Full, 2)] {
            let conn = open_writer(&path, durability).unwrap();
            let sync: i64 = conn
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap();
            assert_eq!(sync, want, "{durability:?}");
        }
    }

    #[test]
    fn budgets_of_version_5_are_kept_and_gain_enforce_and_origin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        let fresh = open_writer(&path, Durability::Normal).unwrap();
        let want = shape(&fresh);
        // Back to version 5's shape: budgets without the two columns, no
        // alerts, records without a model key.
        fresh
            .execute_batch(
                "DROP TABLE budgets; DROP TABLE alerts;
                 DROP INDEX idx_cost_records_unpriced;
                 ALTER TABLE cost_records DROP COLUMN service_tier;
                 ALTER TABLE cost_records DROP COLUMN inference_geo;
                 ALTER TABLE cost_records DROP COLUMN unpriced_modifiers;
                 DROP TRIGGER cost_rollup_on_delete;
                 DROP TRIGGER cost_sessions_on_delete; -- reads model_key; new in version 16
                 ALTER TABLE cost_records DROP COLUMN model_key;
                 ALTER TABLE api_messages DROP COLUMN copied;
                 ALTER TABLE cost_records DROP COLUMN prompt_id;
                 ALTER TABLE cost_records DROP COLUMN git_branch;
                 DROP INDEX idx_cost_records_rev;
                 ALTER TABLE cost_records DROP COLUMN rev;
                 CREATE TABLE budgets (scope TEXT NOT NULL, period TEXT NOT NULL,
                     limit_usd REAL NOT NULL, updated_at TEXT NOT NULL,
                     PRIMARY KEY (scope, period)) WITHOUT ROWID;
                 INSERT INTO budgets VALUES ('agent:a', 'daily', 10, '2026-11-01T00:00:00.000Z');
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        drop(fresh);
        let conn = open_writer(&path, Durability::Normal).unwrap();
        assert_eq!(shape(&conn), want);
        assert_eq!(
            strings(
                &conn,
                "SELECT scope || ' ' || period || ' ' || limit_usd || ' ' || enforce || ' ' || origin FROM budgets"
            ),
            ["agent:a daily 10.0 0 cli"]
        );
    }

    /// The first column of every row `sql` returns.
    fn strings(conn: &Connection, sql: &str) -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Everything about a database's shape that queries depend on, without
    /// the SQL text (a renamed table keeps its old CREATE statement's layout).
    fn shape(conn: &Connection) -> Vec<String> {
        let mut shape = Vec::new();
        for (kind, name) in strings(
            conn,
            "SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .iter()
        .map(|s| s.split_once(' ').unwrap())
        {
            shape.push(format!("{kind} {name}"));
            if kind == "table" {
                shape.extend(strings(conn, &format!(
                    "SELECT name || ' ' || type || ' ' || \"notnull\" || ' ' || ifnull(dflt_value, '-') || ' ' || pk
                     FROM pragma_table_info('{name}')"
                )));
                shape.extend(strings(conn, &format!(
                    "SELECT 'index ' || l.name || ' unique=' || l.\"unique\" || ' partial=' || l.partial || ' ('
                            || (SELECT group_concat(ifnull(i.name, '<rowid>'), ',') FROM pragma_index_info(l.name) i) || ')'
                     FROM pragma_index_list('{name}') l ORDER BY l.name"
                )));
            }
        }
        shape
    }

    #[test]
    fn each_older_database_is_upgraded_to_what_a_new_one_gets() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = open_writer(&dir.path().join("fresh.db"), Durability::Normal).unwrap();
        let path = dir.path().join("v1.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO cost_records (id, timestamp, agent_id, project, provider, model, input_tokens,
                 estimated_cost_usd, pricing_source, hook_event_id, source)
             VALUES (41, '2026-09-20T10:00:00.000Z', 'claude-code', 'shop', 'anthropic', 'm', 100,
                     0.5, 'embedded', 'cc:s:msg_a:req_a', 'transcript'),
                    (42, '2026-09-20T10:59:59.999Z', 'claude-code', 'shop', 'anthropic', 'm', 20,
                     0.25, 'embedded', 'h1', 'hook'),
                    (43, '2026-09-20T11:00:00.000Z', 'claude-code', NULL, 'anthropic', 'm', 1,
                     1.0, 'embedded', 'h2', 'hook');
             INSERT INTO api_messages VALUES ('msg_a', 'req_a', 'cc:s:msg_a:req_a'),
                                             ('msg_gone', '', 'cc:s:msg_gone:');
             INSERT INTO hook_events (hook_event_id, received_at, timestamp, agent_id, source)
                 VALUES ('h1', 't', 't', 'a', 'hook'), ('h2', 't', 't', 'a', 'hook');
             INSERT INTO rejected_events (received_at, source, reason, raw_text)
                 VALUES ('t', 'socket', 'input is not valid JSON', 'x');
             PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(conn);

        let conn = open_writer(&path, Durability::Normal).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(shape(&conn), shape(&fresh));
        let code = "SELECT sql FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY name";
        assert_eq!(
            strings(&conn, code),
            strings(&fresh, code),
            "views and triggers as a new database has them"
        );
        let rows = |sql: &str| strings(&conn, sql);
        // Version 2: the row whose record is gone counted nothing and is dropped.
        assert_eq!(
            rows("SELECT message_id || ' ' || request_id || ' ' || record_id FROM api_messages"),
            ["msg_a req_a 41"]
        );
        // Version 3: rollups and counters start from the rows already there.
        assert_eq!(
            rows(
                "SELECT hour || ' ' || project || ' ' || records || ' ' || cost_usd || ' ' || input_tokens
                 FROM cost_rollup_hourly ORDER BY hour"
            ),
            ["2026-09-20T10 shop 2 0.75 120", "2026-09-20T11  1 1.0 1"]
        );
        let daily = "SELECT day || ' ' || project || ' ' || records || ' ' || cost_usd || ' ' || input_tokens
                     FROM cost_rollup_daily ORDER BY day, project";
        // Version 4: the daily rollup, summed from the hourly one.
        assert_eq!(
            rows(daily),
            ["2026-09-20  1 1.0 1", "2026-09-20 shop 2 0.75 120"]
        );
        let totals = "SELECT day || ' ' || records || ' ' || cost_usd FROM cost_totals_daily";
        assert_eq!(rows(totals), ["2026-09-20 3 1.75"]);
        // Version 14: the stored records count as changed in the order they
        // were stored, and the next change comes after them.
        assert_eq!(
            rows("SELECT id || ' ' || rev FROM cost_records ORDER BY id"),
            ["41 41", "42 42", "43 43"]
        );
        assert_eq!(
            rows("SELECT value FROM meta WHERE key = 'next_rev'"),
            ["44"]
        );
        assert_eq!(
            rows("SELECT outcome || ' ' || source || ' ' || reason || ' ' || events FROM event_counts ORDER BY 1"),
            ["accepted hook  2", "rejected socket other 1"]
        );
        // From here on the writer keeps them, and a delete by hand (an
        // operator pruning rows) is taken out by the trigger.
        conn.execute_batch("DELETE FROM cost_records WHERE id = 41;")
            .unwrap();
        assert_eq!(
            rows(
                "SELECT hour || ' ' || project || ' ' || records || ' ' || cost_usd || ' ' || input_tokens
                 FROM cost_rollup_hourly ORDER BY hour"
            ),
            ["2026-09-20T10 shop 1 0.25 20", "2026-09-20T11  1 1.0 1"]
        );
        assert_eq!(
            rows(daily),
            ["2026-09-20  1 1.0 1", "2026-09-20 shop 1 0.25 20"]
        );
        assert_eq!(rows(totals), ["2026-09-20 2 1.25"]);
    }

    #[test]
    fn records_of_version_7_get_the_name_that_priced_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        let fresh = open_writer(&path, Durability::Normal).unwrap();
        let want = shape(&fresh);
        // Back to version 7's shape: no billing modifiers (version 8) and no
        // model key (version 9) on the records, rollups keyed by the raw model.
        let v7_rollup = |table: &str, bucket: &str| {
            format!(
                "DROP TABLE {table};
                 CREATE TABLE {table} ({bucket} TEXT NOT NULL, provider TEXT NOT NULL,
                     model TEXT NOT NULL, agent_id TEXT NOT NULL, project TEXT NOT NULL,
                     records INTEGER NOT NULL, cost_usd REAL NOT NULL,
                     input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
                     cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
                     cache_write_1h_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
                     PRIMARY KEY ({bucket}, provider, model, agent_id, project)) WITHOUT ROWID;"
            )
        };
        fresh
            .execute_batch(&format!(
                "DROP TRIGGER cost_rollup_on_delete;
                 DROP INDEX idx_cost_records_unpriced;
                 ALTER TABLE cost_records DROP COLUMN service_tier;
                 ALTER TABLE cost_records DROP COLUMN inference_geo;
                 ALTER TABLE cost_records DROP COLUMN unpriced_modifiers;
                 DROP TRIGGER cost_sessions_on_delete; -- reads model_key; new in version 16
                 ALTER TABLE cost_records DROP COLUMN model_key;
                 ALTER TABLE api_messages DROP COLUMN copied;
                 ALTER TABLE cost_records DROP COLUMN prompt_id;
                 ALTER TABLE cost_records DROP COLUMN git_branch;
                 DROP INDEX idx_cost_records_rev;
                 ALTER TABLE cost_records DROP COLUMN rev;
                 DROP INDEX alerts_pending;
                 ALTER TABLE alerts DROP COLUMN delivery;
                 ALTER TABLE alerts DROP COLUMN attempts;
                 ALTER TABLE alerts DROP COLUMN last_attempt_at;
                 ALTER TABLE alerts DROP COLUMN next_attempt_at;
                 ALTER TABLE alerts DROP COLUMN last_error;
                 ALTER TABLE alerts DROP COLUMN delivered_at;
                 ALTER TABLE alerts DROP COLUMN message;
                 INSERT INTO alerts (scope, period, period_start, limit_usd, threshold_pct,
                     spent_usd, fired_at)
                 VALUES ('', 'daily', '2026-09-20T00:00:00.000Z', 1, 80, 0.9,
                     '2026-09-20T10:00:00.000Z');
                 {}
                 {}
                 CREATE INDEX idx_cost_rollup_daily_agent ON cost_rollup_daily(agent_id, day, records);
                 CREATE INDEX idx_cost_rollup_daily_model ON cost_rollup_daily(model, day, records);",
                v7_rollup("cost_rollup_hourly", "hour"),
                v7_rollup("cost_rollup_daily", "day"),
            ))
            .unwrap();
        let models = [
            ("claude-sonnet-4-5", "embedded"),
            ("claude-sonnet-4-5-20250929", "embedded"),
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", "user"),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "embedded"),
            ("acme-coder-9000", "fallback"),
            ("ollama/qwen3-coder", "local"),
            ("acme-coder-9000", "user"),
        ];
        for (i, (model, source)) in models.iter().enumerate() {
            fresh
                .execute(
                    "INSERT INTO cost_records (timestamp, agent_id, provider, model, input_tokens,
                         estimated_cost_usd, pricing_source, hook_event_id, source, session_id)
                     VALUES ('2026-09-20T10:00:00.000Z', 'a', 'p', ?1, 10, 1.0, ?2, ?3, 'hook', ?4)",
                    rusqlite::params![model, source, format!("e{i}"), format!("s{}", i % 2)],
                )
                .unwrap();
        }
        fresh.execute_batch("PRAGMA user_version = 7;").unwrap();
        drop(fresh);

        let conn = open_writer(&path, Durability::Normal).unwrap();
        assert_eq!(shape(&conn), want);
        // An alert fired before version 15 was sent at most once already:
        // it is not sent again.
        assert_eq!(
            strings(
                &conn,
                "SELECT delivery || ' ' || attempts || ' ' || coalesce(delivered_at, '-') FROM alerts"
            ),
            ["delivered 0 -"]
        );
        assert_eq!(
            strings(&conn, "SELECT model || ' ' || model_key FROM cost_records ORDER BY id"),
            [
                "claude-sonnet-4-5 claude-sonnet-4-5",
                "claude-sonnet-4-5-20250929 claude-sonnet-4-5",
                "anthropic.claude-sonnet-4-5-20250929-v1:0 claude-sonnet-4-5",
                // Bedrock's regional endpoint is its own entry (1.1×).
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0 us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "acme-coder-9000 acme-coder-9000",
                "ollama/qwen3-coder ollama/qwen3-coder",
                // Priced by the user's own entry: the built-in table does
                // not know it, so it keeps its name.
                "acme-coder-9000 acme-coder-9000",
            ]
        );
        assert_eq!(
            strings(
                &conn,
                "SELECT model_key || ' ' || sum(records) FROM cost_rollup_daily
                 GROUP BY model_key ORDER BY model_key"
            ),
            [
                "acme-coder-9000 2",
                "claude-sonnet-4-5 3",
                "ollama/qwen3-coder 1",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0 1",
            ]
        );
        assert_eq!(
            strings(&conn, "SELECT CAST(records AS TEXT) FROM cost_totals_daily"),
            ["7"]
        );
        // Version 16: a row per session, what grouping its records gives.
        let sessions = "SELECT session_id || ' ' || first_at || ' ' || last_at || ' ' || records
                            || ' ' || coalesce(project, '-') FROM cost_sessions ORDER BY 1";
        let grouped = "SELECT session_id || ' ' || min(timestamp) || ' ' || max(timestamp) || ' '
                           || count(*) || ' ' || coalesce(max(project), '-')
                       FROM cost_records WHERE session_id IS NOT NULL GROUP BY session_id ORDER BY 1";
        let filled = strings(&conn, sessions);
        assert!(!filled.is_empty());
        assert_eq!(filled, strings(&conn, grouped));
        // The delete trigger finds the record's group by its key.
        conn.execute_batch("DELETE FROM cost_records WHERE model = 'claude-sonnet-4-5'")
            .unwrap();
        assert_eq!(
            strings(
                &conn,
                "SELECT CAST(sum(records) AS TEXT) FROM cost_rollup_hourly WHERE model_key = 'claude-sonnet-4-5'"
            ),
            ["2"]
        );
        // ... and recomputes the sessions that lost a record.
        assert_eq!(strings(&conn, sessions), strings(&conn, grouped));
    }

    #[test]
    fn sessions_of_version_16_gain_tokens_sort_indexes_and_their_models() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v16.db");
        let fresh = open_writer(&path, Durability::Normal).unwrap();
        let want = shape(&fresh);
        // Back to version 16: cost_sessions without tokens, indexed by its
        // two ends only; no cost_session_models.
        fresh
            .execute_batch(
                "DROP TRIGGER cost_sessions_on_delete;
                 DROP TABLE cost_sessions;
                 DROP TABLE cost_session_models;
                 CREATE TABLE cost_sessions (session_id TEXT PRIMARY KEY, first_at TEXT NOT NULL,
                     last_at TEXT NOT NULL, records INTEGER NOT NULL, cost_usd REAL NOT NULL,
                     input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
                     cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
                     cache_write_1h_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
                     project TEXT) WITHOUT ROWID;
                 CREATE INDEX idx_cost_sessions_first_at ON cost_sessions(first_at);
                 CREATE INDEX idx_cost_sessions_last_at ON cost_sessions(last_at);
                 CREATE TRIGGER cost_sessions_on_delete AFTER DELETE ON cost_records
                 WHEN OLD.session_id IS NOT NULL BEGIN
                     DELETE FROM cost_sessions WHERE session_id = OLD.session_id;
                 END;",
            )
            .unwrap();
        for (i, (model, agent, session)) in [
            ("m", "claude-code", "s1"),
            ("n", "claude-code", "s1"),
            ("n", "codex", "s1"),
            ("m", "codex", "s2"),
        ]
        .iter()
        .enumerate()
        {
            fresh
                .execute(
                    "INSERT INTO cost_records (timestamp, agent_id, provider, model, model_key,
                         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                         estimated_cost_usd, pricing_source, hook_event_id, source, session_id)
                     VALUES ('2026-09-20T10:00:0' || ?1 || '.000Z', ?2, 'p', ?3, ?3, 10, 2, 100, 5,
                         ?1 + 0.5, 'embedded', 'e' || ?1, 'hook', ?4)",
                    rusqlite::params![i, agent, model, session],
                )
                .unwrap();
        }
        fresh
            .execute_batch(
                "INSERT INTO cost_sessions SELECT session_id, min(timestamp), max(timestamp),
                     count(*), total(estimated_cost_usd), sum(input_tokens), sum(output_tokens),
                     sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
                     sum(reasoning_tokens), max(project)
                 FROM cost_records GROUP BY session_id;
                 PRAGMA user_version = 16;",
            )
            .unwrap();
        drop(fresh);

        let conn = open_writer(&path, Durability::Normal).unwrap();
        assert_eq!(shape(&conn), want);
        let sessions =
            "SELECT session_id || ' ' || records || ' ' || tokens FROM cost_sessions ORDER BY 1";
        assert_eq!(strings(&conn, sessions), ["s1 3 351", "s2 1 117"]);
        let models = "SELECT session_id || ' ' || model_key || ' ' || agent_id || ' ' || records
                          || ' ' || cost_usd FROM cost_session_models ORDER BY 1";
        assert_eq!(
            strings(&conn, models),
            [
                "s1 m claude-code 1 0.5",
                "s1 n claude-code 1 1.5",
                "s1 n codex 1 2.5",
                "s2 m codex 1 3.5"
            ]
        );
        // The new trigger recomputes both for a record deleted by hand.
        conn.execute_batch(
            "DELETE FROM cost_records WHERE agent_id = 'codex' AND session_id = 's1'",
        )
        .unwrap();
        assert_eq!(
            strings(&conn, models),
            [
                "s1 m claude-code 1 0.5",
                "s1 n claude-code 1 1.5",
                "s2 m codex 1 3.5"
            ]
        );
        assert_eq!(strings(&conn, sessions), ["s1 2 234", "s2 1 117"]);
    }

    #[test]
    fn schema_sql_names_the_version_it_brings() {
        // The benchmark's database generator reads the version from here.
        let first = SCHEMA_SQL.lines().next().unwrap();
        assert!(
            first.contains(&format!("version {SCHEMA_VERSION}.")),
            "{first}"
        );
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
