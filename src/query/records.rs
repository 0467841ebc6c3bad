//! Cost records one by one: a page of them, the ones after an id (`tail`),
//! and sessions.

use jiff::tz::TimeZone;
use rusqlite::{Connection, Row};

use super::summary::{summary, Group, Totals};
use super::{Dimension, Filter, QueryError};

/// One `cost_records` row as readers show it (the payload stays in the db).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub id: i64,
    pub timestamp: String,
    pub session_id: Option<String>,
    pub agent_id: String,
    pub task_id: Option<String>,
    pub project: Option<String>,
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub cache_write_1h_tokens: i64,
    pub reasoning_tokens: i64,
    pub estimated_cost_usd: f64,
    pub reported_cost_usd: Option<f64>,
    pub pricing_source: String,
    pub tool_name: Option<String>,
    pub hook_event_id: String,
    pub source: String,
    pub service: String,
    /// `labels_json` parsed; `null` when there are none.
    pub labels: serde_json::Value,
}

const RECORD_COLUMNS: &str = "id, timestamp, session_id, agent_id, task_id, project, provider, \
     model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
     cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd, reported_cost_usd, \
     pricing_source, tool_name, hook_event_id, source, service, labels_json";

fn record(row: &Row<'_>) -> rusqlite::Result<Record> {
    let labels: Option<String> = row.get(21)?;
    Ok(Record {
        id: row.get(0)?,
        timestamp: row.get(1)?,
        session_id: row.get(2)?,
        agent_id: row.get(3)?,
        task_id: row.get(4)?,
        project: row.get(5)?,
        provider: row.get(6)?,
        model: row.get(7)?,
        input_tokens: row.get(8)?,
        output_tokens: row.get(9)?,
        cache_read_tokens: row.get(10)?,
        cache_write_tokens: row.get(11)?,
        cache_write_1h_tokens: row.get(12)?,
        reasoning_tokens: row.get(13)?,
        estimated_cost_usd: row.get(14)?,
        reported_cost_usd: row.get(15)?,
        pricing_source: row.get(16)?,
        tool_name: row.get(17)?,
        hook_event_id: row.get(18)?,
        source: row.get(19)?,
        service: row.get(20)?,
        labels: labels
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null),
    })
}

/// Page `page` (from 1) of the records `filter` keeps, newest first, and
/// how many it keeps in all.
pub fn record_page(
    conn: &Connection,
    filter: &Filter,
    page: u32,
    page_size: u32,
) -> Result<(Vec<Record>, i64), QueryError> {
    if page == 0 || page_size == 0 {
        return Err(QueryError::Invalid(
            "page and page_size start at 1".to_string(),
        ));
    }
    // The count comes from a summary, which reads the rollup when it can.
    let total = summary(conn, filter, &[], &TimeZone::UTC)?.totals.records;
    let (mut sql, mut params) = where_clause(filter);
    sql = format!("SELECT {RECORD_COLUMNS} FROM cost_records WHERE 1{sql} ORDER BY id DESC");
    params.push((page_size as i64).to_string());
    sql.push_str(&format!(" LIMIT ?{}", params.len()));
    params.push(((page as i64 - 1) * page_size as i64).to_string());
    sql.push_str(&format!(" OFFSET ?{}", params.len()));
    let mut stmt = conn.prepare_cached(&sql)?;
    let records = stmt
        .query_map(rusqlite::params_from_iter(params), record)?
        .collect::<Result<_, _>>()?;
    Ok((records, total))
}

/// Up to `limit` records with an id above `after`, oldest first: ids only
/// grow, so a reader that remembers the last id it saw misses nothing.
pub fn records_after(conn: &Connection, after: i64, limit: u32) -> Result<Vec<Record>, QueryError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RECORD_COLUMNS} FROM cost_records WHERE id > ?1 ORDER BY id LIMIT ?2"
    ))?;
    let records = stmt
        .query_map(rusqlite::params![after, limit], record)?
        .collect::<Result<_, _>>()?;
    Ok(records)
}

/// The conditions of `filter`, its time range included.
fn where_clause(filter: &Filter) -> (String, Vec<String>) {
    let (mut sql, mut params) = filter.conditions(false);
    if let Some(from) = filter.range.from {
        params.push(crate::record::format_timestamp(from));
        sql.push_str(&format!(" AND timestamp >= ?{}", params.len()));
    }
    if let Some(to) = filter.range.to {
        params.push(crate::record::format_timestamp(to));
        sql.push_str(&format!(" AND timestamp < ?{}", params.len()));
    }
    (sql, params)
}

/// One session in a list of sessions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SessionRow {
    pub session_id: String,
    pub first_at: String,
    pub last_at: String,
    /// Every model the session used, most expensive first.
    pub models: Vec<String>,
    pub agents: Vec<String>,
    pub project: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Sessions with records that `filter` keeps, most recently active first.
pub fn sessions(
    conn: &Connection,
    filter: &Filter,
    limit: u32,
    offset: u32,
) -> Result<Vec<SessionRow>, QueryError> {
    let (conditions, mut params) = where_clause(filter);
    params.push(limit.to_string());
    let limit_at = params.len();
    params.push(offset.to_string());
    let offset_at = params.len();
    let sql = format!(
        "SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
                sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
                max(project)
         FROM cost_records WHERE session_id IS NOT NULL{conditions}
         GROUP BY session_id ORDER BY max(timestamp) DESC, session_id
         LIMIT ?{limit_at} OFFSET ?{offset_at}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows: Vec<SessionRow> = stmt
        .query_map(rusqlite::params_from_iter(&params), |r| {
            Ok(SessionRow {
                session_id: r.get(0)?,
                first_at: r.get(1)?,
                last_at: r.get(2)?,
                models: Vec::new(),
                agents: Vec::new(),
                project: r.get(11)?,
                totals: Totals::from_row(r, 3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // Models and agents per session: one indexed query each, on a page of
    // sessions only.
    let mut names = conn.prepare_cached(
        "SELECT model, agent_id, total(estimated_cost_usd) AS cost FROM cost_records
         WHERE session_id = ?1 GROUP BY model, agent_id ORDER BY cost DESC",
    )?;
    for row in &mut rows {
        let pairs = names
            .query_map([&row.session_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (model, agent) in pairs {
            if !row.models.contains(&model) {
                row.models.push(model);
            }
            if !row.agents.contains(&agent) {
                row.agents.push(agent);
            }
        }
    }
    Ok(rows)
}

/// How many sessions [`sessions`] would list with no limit.
pub fn session_count(conn: &Connection, filter: &Filter) -> Result<i64, QueryError> {
    let (conditions, params) = where_clause(filter);
    let sql = format!(
        "SELECT count(DISTINCT session_id) FROM cost_records WHERE session_id IS NOT NULL{conditions}"
    );
    let count = conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(&params), |r| r.get(0))?;
    Ok(count)
}

/// One session broken down by model and by tool.
#[derive(Debug, Clone)]
pub struct SessionDetail {
    pub session_id: String,
    /// `None` when the session has no records (an unknown id).
    pub first_at: Option<String>,
    pub last_at: Option<String>,
    pub totals: Totals,
    pub by_model: Vec<Group>,
    pub by_tool: Vec<Group>,
}

impl SessionDetail {
    /// The shape of `GET /api/costs/sessions/{id}` and `sessions ID --json`:
    /// the totals, then `by_model` (`model` + totals) and `by_tool` (`tool`,
    /// the record's tools as stored, + totals).
    pub fn to_json(&self) -> serde_json::Value {
        let rows = |groups: &[Group], name: &str| -> Vec<serde_json::Value> {
            groups
                .iter()
                .map(|g| {
                    let mut row = serde_json::json!({ name: g.keys.first().cloned().flatten() });
                    super::summary::merge_totals(&mut row, &g.totals);
                    row
                })
                .collect()
        };
        let mut object = serde_json::json!({
            "session_id": self.session_id,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "by_model": rows(&self.by_model, "model"),
            "by_tool": rows(&self.by_tool, "tool"),
        });
        super::summary::merge_totals(&mut object, &self.totals);
        object
    }
}

pub fn session_detail(conn: &Connection, session_id: &str) -> Result<SessionDetail, QueryError> {
    let filter = Filter {
        session: Some(session_id.to_string()),
        ..Filter::default()
    };
    let tz = TimeZone::UTC;
    let by_model = summary(conn, &filter, &[Dimension::Model], &tz)?;
    let by_tool = summary(conn, &filter, &[Dimension::Tool], &tz)?;
    let (first_at, last_at) = conn.query_row(
        "SELECT min(timestamp), max(timestamp) FROM cost_records WHERE session_id = ?1",
        [session_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(SessionDetail {
        session_id: session_id.to_string(),
        first_at,
        last_at,
        totals: by_model.totals,
        by_model: by_model.groups,
        by_tool: by_tool.groups,
    })
}
