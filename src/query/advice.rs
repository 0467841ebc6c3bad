//! What `report --advice` reads: the records of a filter as [`UsageRow`]s,
//! streamed so memory stays flat however many the range holds, and its
//! tasks summed as [`TaskRow`]s. The advice itself (thresholds, prices,
//! what is worth saying) is computed in [`crate::report::advice`]; nothing
//! here prices a record or judges one.

use rusqlite::Connection;

use super::{Filter, QueryError};
use crate::collect::Usage;

/// One cost record, as much of it as the advice reads.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub session_id: Option<String>,
    /// The model as stored, priced again through the table's lookup.
    pub model: String,
    pub usage: Usage,
    /// Priced in fast mode: re-pricing applies the multiplier again.
    pub fast: bool,
    /// `estimated_cost_usd` as recorded.
    pub cost_usd: f64,
}

/// One task's records in the range: its type and what they cost.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task_id: String,
    /// The value of the task's type label (see [`typed_tasks`]).
    pub task_type: String,
    pub records: u64,
    pub cost_usd: f64,
}

const USAGE_COLUMNS: &str = "session_id, model, fast, input_tokens, cache_read_tokens, \
                             cache_write_tokens, cache_write_1h_tokens, output_tokens, \
                             reasoning_tokens, estimated_cost_usd";

/// The records `filter` keeps that belong to a session, handed to `compute`
/// as they are read.
pub fn session_usage<T>(
    conn: &Connection,
    filter: &Filter,
    compute: impl FnOnce(&mut dyn Iterator<Item = UsageRow>) -> T,
) -> Result<T, QueryError> {
    let (conditions, params) = filter.record_conditions();
    // A time range reads by the timestamp index; without this hint the
    // planner may walk every session of the index instead.
    let index = if filter.range.from.is_some() && filter.session.is_none() && filter.task.is_none()
    {
        " INDEXED BY idx_cost_records_timestamp"
    } else {
        ""
    };
    read_usage(
        conn,
        &format!(
            "SELECT {USAGE_COLUMNS} FROM cost_records{index} \
             WHERE session_id IS NOT NULL{conditions}"
        ),
        &params,
        compute,
    )
}

/// The records `filter` keeps with fewer than `below` output tokens, handed
/// to `compute` as they are read.
pub fn short_output_usage<T>(
    conn: &Connection,
    filter: &Filter,
    below: u64,
    compute: impl FnOnce(&mut dyn Iterator<Item = UsageRow>) -> T,
) -> Result<T, QueryError> {
    let (conditions, params) = filter.record_conditions();
    read_usage(
        conn,
        &format!(
            "SELECT {USAGE_COLUMNS} FROM cost_records \
             WHERE output_tokens < {below}{conditions}"
        ),
        &params,
        compute,
    )
}

/// Runs `sql` (selecting [`USAGE_COLUMNS`]) and hands its rows to `compute`
/// as they are read. A row that fails to read ends the stream and the call
/// returns that error instead.
fn read_usage<T>(
    conn: &Connection,
    sql: &str,
    params: &[String],
    compute: impl FnOnce(&mut dyn Iterator<Item = UsageRow>) -> T,
) -> Result<T, QueryError> {
    let mut stmt = conn.prepare(sql)?;
    let mut failed: Option<rusqlite::Error> = None;
    let out = {
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
            Ok(UsageRow {
                session_id: r.get(0)?,
                model: r.get(1)?,
                fast: r.get::<_, i64>(2)? != 0,
                usage: crate::store::usage_at(r, 3)?,
                cost_usd: r.get(9)?,
            })
        })?;
        let mut rows = rows.map_while(|row| row.map_err(|e| failed = Some(e)).ok());
        compute(&mut rows)
    };
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// Each task `filter` keeps whose records carry the label `type_label`, its
/// records summed. A task's records without the label still count toward
/// its cost; a task whose records name two different types is left out.
pub fn typed_tasks(
    conn: &Connection,
    filter: &Filter,
    type_label: &str,
) -> Result<Vec<TaskRow>, QueryError> {
    let (conditions, params) = filter.record_conditions();
    let sql = format!(
        "SELECT task_id, min(task_type), max(task_type), count(*), total(estimated_cost_usd)
         FROM (SELECT task_id, estimated_cost_usd,
                      CASE WHEN json_valid(labels_json)
                           THEN CAST(json_extract(labels_json, '$.{type_label}') AS TEXT)
                      END AS task_type
               FROM cost_records WHERE task_id IS NOT NULL{conditions})
         GROUP BY task_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        let first: Option<String> = r.get(1)?;
        let last: Option<String> = r.get(2)?;
        Ok(match (first, last) {
            (Some(first), Some(last)) if first == last => Some(TaskRow {
                task_id: r.get(0)?,
                task_type: first,
                records: r.get::<_, i64>(3)?.max(0) as u64,
                cost_usd: r.get(4)?,
            }),
            _ => None,
        })
    })?;
    let mut tasks = Vec::new();
    for row in rows {
        tasks.extend(row?);
    }
    Ok(tasks)
}
