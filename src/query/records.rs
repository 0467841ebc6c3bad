//! Cost records one by one: a page of them, the ones after an id (`tail`),
//! and sessions.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rusqlite::{Connection, Row};
use schemars::JsonSchema;
use serde::Serialize;

use super::summary::{rows, summary, Group, ModelCost, Totals};
use super::tiers::{self, Piece, Tier};
use super::{Dimension, Filter, QueryError, Range};

/// One `cost_records` row as readers show it (the payload stays in the db):
/// also the answer of `tail --json`, one per line.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Record {
    pub id: i64,
    pub timestamp: String,
    pub session_id: Option<String>,
    pub agent_id: String,
    pub task_id: Option<String>,
    pub project: Option<String>,
    pub provider: String,
    /// The model as the event named it.
    pub model: String,
    /// The name reports group the record under: the key of the price entry
    /// that priced it, or `model` itself for an unknown or local model.
    pub model_key: String,
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
     pricing_source, tool_name, hook_event_id, source, service, labels_json, \
     coalesce(model_key, model)";

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
        model_key: row.get(22)?,
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

/// Page `page` (from 1) of the records `filter` keeps, newest first (by
/// timestamp, then id), and how many it keeps in all. Both come from one
/// snapshot of the database.
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
    let snapshot = conn.unchecked_transaction()?;
    let size = i64::from(page_size);
    let offset = (i64::from(page) - 1) * size;
    // Skipping `offset` rows one by one costs as much as reading them; the
    // rollups' counts per day and hour find where the page starts instead,
    // and add up to the total.
    let counts = if filter.fits_rollup() {
        Some(counts_newest_first(conn, filter)?)
    } else {
        None
    };
    let total = match &counts {
        Some(counts) => counts.iter().map(|c| c.kept).sum(),
        None => summary(conn, filter, &[], &TimeZone::UTC)?.totals.records,
    };
    if offset >= total {
        return Ok((Vec::new(), total));
    }
    let window = match counts {
        Some(counts) => seek(conn, filter, counts, offset, size)?,
        None => Window {
            range: filter.range,
            skip: offset,
        },
    };
    // The timestamp index walks the window in page order. Only an agent or
    // model filter has an index of its own, and it is the better one when
    // the window holds more rows than the filter keeps in all.
    let by_time = filter.fits_rollup()
        && ((filter.agent.is_none() && filter.model.is_none()) || {
            let all = Filter {
                range: window.range,
                ..Filter::default()
            };
            summary(conn, &all, &[], &TimeZone::UTC)?.totals.records <= total
        });
    let (conditions, mut params) = Filter {
        range: window.range,
        ..filter.clone()
    }
    .record_conditions();
    params.push(size.to_string());
    params.push(window.skip.to_string());
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM cost_records{} WHERE 1{conditions}
         ORDER BY timestamp DESC, id DESC LIMIT ?{} OFFSET ?{}",
        if by_time {
            " INDEXED BY idx_cost_records_timestamp"
        } else {
            ""
        },
        params.len() - 1,
        params.len()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let records = stmt
        .query_map(rusqlite::params_from_iter(params), record)?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    snapshot.finish()?;
    Ok((records, total))
}

/// Where a page lies: the rows of `range` the filter keeps, newest first,
/// after skipping `skip` of them.
struct Window {
    range: Range,
    skip: i64,
}

/// A stretch of time and how many records the filter keeps in it.
struct Count {
    tier: Tier,
    range: Range,
    kept: i64,
}

/// The window of the page that starts `offset` records (of those `filter`
/// keeps, newest first) into its range and holds `size` of them: from the
/// rollups' counts per day, then per hour within the day the page starts in.
fn seek(
    conn: &Connection,
    filter: &Filter,
    mut counts: Vec<Count>,
    offset: i64,
    size: i64,
) -> Result<Window, QueryError> {
    let mut newer = 0;
    let mut at = 0;
    while let Some(c) = counts.get(at) {
        if newer + c.kept <= offset {
            newer += c.kept;
            at += 1;
        } else if c.tier == Tier::Days {
            let piece = Piece {
                tier: Tier::Hours,
                range: c.range,
            };
            let hours = count(conn, filter, piece)?;
            counts.splice(at..=at, hours);
        } else {
            break;
        }
    }
    let Some(start) = counts.get(at) else {
        // A day's hours in the hourly rollup hold fewer records than the
        // daily one says: cannot happen while the writer keeps both; read
        // the plain way.
        return Ok(Window {
            range: filter.range,
            skip: offset,
        });
    };
    let skip = offset - newer;
    let mut kept = 0;
    let mut from = filter.range.from;
    for c in &counts[at..] {
        kept += c.kept;
        if kept >= skip + size {
            from = c.range.from;
            break;
        }
    }
    Ok(Window {
        range: Range {
            from,
            to: start.range.to,
        },
        skip,
    })
}

/// The records `filter` keeps per day or hour of its range, newest first.
fn counts_newest_first(conn: &Connection, filter: &Filter) -> Result<Vec<Count>, QueryError> {
    let mut counts = Vec::new();
    for piece in tiers::pieces(filter.range, true).into_iter().rev() {
        counts.extend(count(conn, filter, piece)?);
    }
    Ok(counts)
}

/// The records of one piece of a range, newest first: one count per day
/// or hour of a rollup piece, one for a piece read from the records.
fn count(conn: &Connection, filter: &Filter, piece: Piece) -> Result<Vec<Count>, QueryError> {
    let Some((table, column)) = piece.tier.source(filter, false) else {
        // At most an hour's rows: the timestamp index, whatever else the
        // filter names (an agent's index would walk all of its records).
        let (conditions, mut params) = filter.conditions(false);
        let sql = format!(
            "SELECT count(*) FROM cost_records INDEXED BY idx_cost_records_timestamp
             WHERE timestamp >= ?{} AND timestamp < ?{}{conditions}",
            params.len() + 1,
            params.len() + 2
        );
        let bound = |ts: Option<Timestamp>| ts.map(crate::record::format_timestamp);
        params.extend(bound(piece.range.from));
        params.extend(bound(piece.range.to));
        let kept = conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
        return Ok(vec![Count {
            tier: Tier::Records,
            range: piece.range,
            kept,
        }]);
    };
    let (conditions, mut params) = filter.conditions(true);
    let mut sql = format!("SELECT {column}, sum(records) FROM {table} WHERE 1{conditions}");
    for (bound, op) in [(piece.range.from, ">="), (piece.range.to, "<")] {
        if let Some(ts) = bound {
            params.push(piece.tier.label(ts));
            sql.push_str(&format!(" AND {column} {op} ?{}", params.len()));
        }
    }
    sql.push_str(" GROUP BY 1 ORDER BY 1 DESC");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (label, kept) = row?;
        let Some(start) = piece.tier.start_of(&label) else {
            continue;
        };
        let end = start.checked_add(jiff::SignedDuration::from_secs(piece.tier.seconds()));
        out.push(Count {
            tier: piece.tier,
            range: Range {
                from: Some(start),
                to: end.ok(),
            },
            kept,
        });
    }
    Ok(out)
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

/// The id of the newest record, 0 when there is none: where `tail`
/// starts following.
pub fn last_record_id(conn: &Connection) -> Result<i64, QueryError> {
    let max: Option<i64> = conn.query_row("SELECT max(id) FROM cost_records", [], |r| r.get(0))?;
    Ok(max.unwrap_or(0))
}

/// One session in a list of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
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

/// The index a list of sessions reads. With a start time and no session or
/// task, the records of the range by time: left to itself, SQLite's planner
/// walks the session index over every record to get its GROUP BY in order
/// (measured on 10M records: 25 s for the last 24 hours).
fn session_index(filter: &Filter) -> &'static str {
    if filter.range.from.is_some() && filter.session.is_none() && filter.task.is_none() {
        " INDEXED BY idx_cost_records_timestamp"
    } else {
        ""
    }
}

/// What a list of sessions is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionSort {
    /// Most recently active first (the default).
    #[default]
    LastAt,
    FirstAt,
    Cost,
    Records,
    /// Input, output and cache tokens together.
    Tokens,
}

impl SessionSort {
    pub const NAMES: &'static str = "last_at, first_at, cost_usd, records or tokens";

    pub fn parse(text: &str) -> Result<SessionSort, QueryError> {
        Ok(match text {
            "last_at" => SessionSort::LastAt,
            "first_at" => SessionSort::FirstAt,
            "cost_usd" => SessionSort::Cost,
            "records" => SessionSort::Records,
            "tokens" => SessionSort::Tokens,
            other => {
                return Err(QueryError::Invalid(format!(
                    "unknown sort {other:?}: expected {}",
                    Self::NAMES
                )))
            }
        })
    }

    /// The aggregate a session is ordered on (a fixed text, never user input).
    fn expression(self) -> &'static str {
        match self {
            SessionSort::LastAt => "max(timestamp)",
            SessionSort::FirstAt => "min(timestamp)",
            SessionSort::Cost => "total(estimated_cost_usd)",
            SessionSort::Records => "count(*)",
            SessionSort::Tokens => {
                "sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)"
            }
        }
    }

    /// The same order over the columns of [`kept_sessions`].
    fn column(self) -> &'static str {
        match self {
            SessionSort::LastAt => "last_at",
            SessionSort::FirstAt => "first_at",
            SessionSort::Cost => "cost_usd",
            SessionSort::Records => "records",
            SessionSort::Tokens => "tokens",
        }
    }
}

/// The columns of a session as [`session_page`] reads them: the rollup's
/// (`cost_sessions`), in its order.
const SESSION_COLUMNS: &str = "session_id, first_at, last_at, records, cost_usd, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens,
    reasoning_tokens, project, tokens";

/// The sessions of a range with their totals inside it, from the
/// per-session rollup (`cost_sessions`), and its parameters (`?1` the
/// range's start, `?2` its end, either NULL for none): a session the range
/// holds whole is its rollup row; one the range cuts (a record before its
/// start or at or after its end) is summed from its own records inside
/// the range, through the session index. Only the sessions active at the
/// range's ends are cut, so that sum stays small whatever the range.
///
/// The text is a compound SELECT (or a plain one when nothing can be cut)
/// ready for an ORDER BY on its columns: SQLite merges its two arms, each
/// read in that order (the whole sessions from the sort's own index,
/// unless `by_start`: then by their start, and sorted), so a page stops at
/// its last row.
fn kept_sessions(range: &Range, by_start: bool) -> (String, Vec<Option<String>>) {
    let (whole, cut) = range_conditions(range);
    let index = if by_start {
        " INDEXED BY idx_cost_sessions_by_first"
    } else {
        ""
    };
    let mut sql = format!("SELECT {SESSION_COLUMNS} FROM cost_sessions{index} WHERE {whole}");
    if let Some(cut) = cut {
        sql.push_str(&format!(
            "
         UNION ALL
         SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
                sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
                max(project),
                sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
         FROM cost_records INDEXED BY idx_cost_records_session_id
         WHERE session_id IN (SELECT session_id FROM cost_sessions WHERE {cut})
           AND (?1 IS NULL OR timestamp >= ?1) AND (?2 IS NULL OR timestamp < ?2)
         GROUP BY session_id"
        ));
    }
    (sql, range_parameters(range))
}

/// `?1` and `?2` of [`kept_sessions`] and [`range_conditions`].
fn range_parameters(range: &Range) -> Vec<Option<String>> {
    let bound = |ts: Option<Timestamp>| ts.map(crate::record::format_timestamp);
    vec![bound(range.from), bound(range.to)]
}

/// The conditions on `cost_sessions` of the sessions a range holds whole,
/// and of those it cuts (none when it has no bounds), over `?1` its start
/// and `?2` its end.
fn range_conditions(range: &Range) -> (&'static str, Option<&'static str>) {
    // A missing bound still names its parameter (as NULL), so that every
    // variant binds the same ones; the conditions on a present bound are
    // plain comparisons, which the indexes on first_at and last_at serve.
    // Those a whole session meets anyway (last_at >= first_at) let an index
    // on either end start at the range.
    match (range.from, range.to) {
        (None, None) => ("?1 IS NULL AND ?2 IS NULL", None),
        (Some(_), None) => (
            "first_at >= ?1 AND last_at >= ?1 AND ?2 IS NULL",
            Some("last_at >= ?1 AND first_at < ?1 AND ?2 IS NULL"),
        ),
        (None, Some(_)) => (
            "last_at < ?2 AND first_at < ?2 AND ?1 IS NULL",
            Some("first_at < ?2 AND last_at >= ?2 AND ?1 IS NULL"),
        ),
        (Some(_), Some(_)) => (
            "first_at >= ?1 AND last_at < ?2 AND last_at >= ?1 AND first_at < ?2",
            Some(
                "(last_at >= ?1 AND first_at < ?1 AND first_at < ?2)
                 OR (first_at < ?2 AND last_at >= ?2 AND last_at >= ?1)",
            ),
        ),
    }
}

/// A page of the sessions with records that `filter` keeps, sorted by
/// `sort` (`descending`: largest or latest first), ties by session id.
/// A filter on the time range alone (every list the dashboard shows) reads
/// the per-session rollup; any other filter, the records.
pub fn sessions(
    conn: &Connection,
    filter: &Filter,
    sort: SessionSort,
    descending: bool,
    limit: u32,
    offset: u32,
) -> Result<Vec<SessionRow>, QueryError> {
    if !filter.is_plain() {
        return sessions_from_records(conn, filter, sort, descending, limit, offset);
    }
    // The sort's own index stops at the page, but skips the sessions
    // outside the range one by one: for a range holding few sessions of
    // many (the last hour of a long history), reading those few by their
    // start and sorting them is faster (the last hour of 106,648 sessions,
    // sorted by cost: 8.6 ms walked, 0.5 ms sorted). Counting them is a
    // range of an index.
    let by_start = match sort {
        SessionSort::LastAt | SessionSort::FirstAt => false, // their index starts at the range
        SessionSort::Cost | SessionSort::Records | SessionSort::Tokens => {
            filter.range.from.is_some() && whole_sessions(conn, &filter.range)? <= FEW_SESSIONS
        }
    };
    let (kept, params) = kept_sessions(&filter.range, by_start);
    let rows = sorted_sessions(conn, &kept, params, sort, descending, limit, offset)?;
    with_names(conn, rows)
}

/// A page of `kept` (from [`kept_sessions`], with its `params`) in `sort`'s order.
fn sorted_sessions(
    conn: &Connection,
    kept: &str,
    mut params: Vec<Option<String>>,
    sort: SessionSort,
    descending: bool,
    limit: u32,
    offset: u32,
) -> Result<Vec<SessionRow>, QueryError> {
    params.push(Some(limit.to_string()));
    params.push(Some(offset.to_string()));
    let sql = format!(
        "{kept}
         ORDER BY {} {}, session_id LIMIT ?3 OFFSET ?4",
        sort.column(),
        if descending { "DESC" } else { "ASC" }
    );
    session_page(conn, &sql, &params)
}

/// Up to how many whole sessions a range's page is sorted from those
/// sessions rather than walked from the sort's index: sorting this many
/// rows takes a few milliseconds.
const FEW_SESSIONS: i64 = 5_000;

/// How many sessions `range` holds whole.
fn whole_sessions(conn: &Connection, range: &Range) -> Result<i64, QueryError> {
    let (whole, _) = range_conditions(range);
    let count = conn
        .prepare_cached(&format!("SELECT count(*) FROM cost_sessions WHERE {whole}"))?
        .query_row(rusqlite::params_from_iter(range_parameters(range)), |r| {
            r.get(0)
        })?;
    Ok(count)
}

/// [`sessions`] from the records alone: for a filter the rollup cannot
/// answer, and the reference its answers are tested against.
fn sessions_from_records(
    conn: &Connection,
    filter: &Filter,
    sort: SessionSort,
    descending: bool,
    limit: u32,
    offset: u32,
) -> Result<Vec<SessionRow>, QueryError> {
    let (conditions, mut params) = filter.record_conditions();
    params.push(limit.to_string());
    let limit_at = params.len();
    params.push(offset.to_string());
    let offset_at = params.len();
    let sql = format!(
        "SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
                sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
                max(project)
         FROM cost_records{} WHERE session_id IS NOT NULL{conditions}
         GROUP BY session_id ORDER BY {} {}, session_id
         LIMIT ?{limit_at} OFFSET ?{offset_at}",
        session_index(filter),
        sort.expression(),
        if descending { "DESC" } else { "ASC" }
    );
    let rows = session_page(conn, &sql, &params)?;
    with_names(conn, rows)
}

/// The rows of a page of sessions: id, first and last timestamps, totals
/// from the fourth column, project.
fn session_page<P: rusqlite::ToSql>(
    conn: &Connection,
    sql: &str,
    params: &[P],
) -> Result<Vec<SessionRow>, QueryError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
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
    Ok(rows)
}

/// Adds every model and agent of each session of a page, from the
/// rollup of its models (`cost_session_models`): a few rows per session,
/// where its records could be thousands.
fn with_names(conn: &Connection, mut rows: Vec<SessionRow>) -> Result<Vec<SessionRow>, QueryError> {
    let mut names = conn.prepare_cached(
        "SELECT model_key, agent_id FROM cost_session_models WHERE session_id = ?1
         ORDER BY cost_usd DESC, model_key, agent_id",
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
    if filter.is_plain() {
        let (kept, params) = kept_sessions(&filter.range, false);
        let count = conn
            .prepare_cached(&format!("SELECT count(*) FROM ({kept})"))?
            .query_row(rusqlite::params_from_iter(&params), |r| r.get(0))?;
        return Ok(count);
    }
    session_count_from_records(conn, filter)
}

/// [`session_count`] from the records alone.
fn session_count_from_records(conn: &Connection, filter: &Filter) -> Result<i64, QueryError> {
    let (conditions, params) = filter.record_conditions();
    let sql = format!(
        "SELECT count(DISTINCT session_id) FROM cost_records{} WHERE session_id IS NOT NULL{conditions}",
        session_index(filter)
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
    /// In the order they were first answered.
    pub by_prompt: Vec<PromptCost>,
}

impl SessionDetail {
    /// The session as it is answered: `sessions ID --json`, `GET
    /// /api/costs/sessions/{id}` and MCP's `get_session_cost`.
    pub fn answer(&self) -> SessionCost {
        SessionCost {
            session_id: self.session_id.clone(),
            first_at: self.first_at.clone(),
            last_at: self.last_at.clone(),
            totals: self.totals,
            by_model: rows(&self.by_model, |model, totals| ModelCost { model, totals }),
            by_tool: rows(&self.by_tool, |tool, totals| ToolCost { tool, totals }),
            by_prompt: self.by_prompt.clone(),
        }
    }
}

/// One session's totals, by model and by tool, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SessionCost {
    pub session_id: String,
    /// RFC 3339; null for an unknown session.
    pub first_at: Option<String>,
    pub last_at: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
    /// Most expensive first.
    pub by_model: Vec<ModelCost>,
    /// Most expensive first.
    pub by_tool: Vec<ToolCost>,
    /// What each prompt cost, in the order they were first answered.
    pub by_prompt: Vec<PromptCost>,
}

/// The cost of the requests that answered one prompt of a session. The
/// prompt's text is not stored: its id and first answer's time name it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PromptCost {
    /// The prompt's id (Claude Code `promptId`, Codex turn id, OpenCode
    /// parent message id); null for the records whose source names none.
    pub prompt_id: Option<String>,
    /// RFC 3339: the first record answering it.
    pub first_at: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// The cost of the messages that called one set of tools.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ToolCost {
    /// The tools the message called, as stored (comma-joined when several).
    pub tool: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Records, as `GET /api/costs` pages them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Records {
    /// Newest first.
    pub records: Vec<Record>,
}

/// Sessions, as `sessions --json` lists them and `GET /api/costs/sessions`
/// pages them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Sessions {
    pub sessions: Vec<SessionRow>,
}

/// A page of a list, as every list endpoint answers: the list under its
/// own name (`L`: [`Records`], [`Sessions`]), and where the page lies.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Page<L> {
    #[serde(flatten)]
    pub list: L,
    /// Items the filter keeps in all, on every page.
    pub total: i64,
    /// From 1.
    pub page: u32,
    pub page_size: u32,
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
        by_prompt: session_prompts(conn, session_id)?,
    })
}

/// A session's records by prompt, through the session index: a session's
/// records are few, so grouping them needs no index of its own.
fn session_prompts(conn: &Connection, session_id: &str) -> Result<Vec<PromptCost>, QueryError> {
    let mut stmt = conn.prepare_cached(
        "SELECT prompt_id, min(timestamp), count(*), total(estimated_cost_usd), sum(input_tokens),
             sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
             sum(cache_write_1h_tokens), sum(reasoning_tokens)
         FROM cost_records WHERE session_id = ?1
         GROUP BY prompt_id ORDER BY min(timestamp), prompt_id",
    )?;
    let prompts = stmt
        .query_map([session_id], |r| {
            Ok(PromptCost {
                prompt_id: r.get(0)?,
                first_at: r.get(1)?,
                totals: Totals::from_row(r, 2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(prompts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_rows::{database, range, row};
    use proptest::prelude::*;

    const SORTS: [SessionSort; 5] = [
        SessionSort::LastAt,
        SessionSort::FirstAt,
        SessionSort::Cost,
        SessionSort::Records,
        SessionSort::Tokens,
    ];

    /// Whatever the range and order, a list of sessions reads
    /// `cost_records` only through the session index, for the sessions the
    /// range cuts (never a scan of the table or of its timestamp index), and
    /// `cost_sessions` only through an index that holds every column it
    /// needs (no lookup of a row per session).
    #[test]
    fn a_list_of_sessions_scans_no_records() {
        let conn = database(&[]);
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        for (from, to) in [
            (None, None),
            (at("2026-09-20T10:00:00Z"), None),
            (None, at("2026-09-20T10:00:00Z")),
            (at("2026-09-20T10:00:00Z"), at("2026-09-21T10:00:00Z")),
        ] {
            let range = Range { from, to };
            let (kept, _) = kept_sessions(&range, false);
            let (whole, _) = range_conditions(&range);
            // Each statement, and whether it sums the sessions the range cuts.
            let mut statements = vec![
                (format!("SELECT count(*) FROM ({kept})"), true),
                (
                    format!("SELECT count(*) FROM cost_sessions WHERE {whole}"),
                    false,
                ),
            ];
            for by_start in [false, true] {
                let (kept, _) = kept_sessions(&range, by_start);
                for sort in SORTS {
                    for direction in ["DESC", "ASC"] {
                        let page = format!(
                            "{kept} ORDER BY {} {direction}, session_id LIMIT 50 OFFSET 100",
                            sort.column()
                        );
                        statements.push((page, true));
                    }
                }
            }
            for (sql, sums_cut) in statements {
                let plan: Vec<String> = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap()
                    .query_map([None::<String>, None], |r| r.get(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let records: Vec<&String> = plan
                    .iter()
                    .filter(|step| step.contains("cost_records"))
                    .collect();
                assert!(
                    records
                        .iter()
                        .all(|step| step.contains("idx_cost_records_session_id (session_id=?)")),
                    "{from:?}..{to:?}: {plan:#?}"
                );
                assert_eq!(
                    records.is_empty(),
                    !sums_cut || (from.is_none() && to.is_none()),
                    "{plan:#?}"
                );
                assert!(
                    plan.iter()
                        .filter(|step| step.contains("cost_sessions"))
                        .all(|step| step.contains("USING COVERING INDEX idx_cost_sessions_by_")),
                    "{from:?}..{to:?}: {sql}: {plan:#?}"
                );
            }
        }
    }

    /// A session's models and agents, most expensive first, grouped from
    /// its records: what `cost_session_models` must list.
    fn names_from_records(conn: &Connection, session: &str) -> (Vec<String>, Vec<String>) {
        let pairs: Vec<(String, String)> = conn
            .prepare(
                "SELECT coalesce(model_key, model), agent_id, total(estimated_cost_usd) AS cost
                 FROM cost_records WHERE session_id = ?1 GROUP BY 1, 2
                 ORDER BY cost DESC, 1, 2",
            )
            .unwrap()
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let (mut models, mut agents) = (Vec::new(), Vec::new());
        for (model, agent) in pairs {
            if !models.contains(&model) {
                models.push(model);
            }
            if !agents.contains(&agent) {
                agents.push(agent);
            }
        }
        (models, agents)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Whatever the filter, range and page, a page holds the records a
        /// plain sort of the kept rows puts there, and the total counts
        /// them all: the seek through the rollups' counts lands exactly.
        #[test]
        fn a_page_is_the_slice_of_the_sorted_records(
            rows in prop::collection::vec(row(), 0..300),
            from_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            len_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            agent in prop::option::of(prop::sample::select(vec!["claude-code", "codex"])),
            model in prop::option::of(prop::sample::select(vec!["m-a", "m-b", "m-a-20260101"])),
            project in prop::option::of(prop::sample::select(vec!["shop", ""])),
            session in prop::option::of(prop::sample::select(vec!["s1", "s2"])),
            page_size in 1u32..40,
            page_at in 0.0f64..1.2,
        ) {
            let conn = database(&rows);
            let range = range(from_ms, len_ms);
            let (from, to) = (range.from, range.to);
            let filter = Filter {
                range,
                agent: agent.map(str::to_string),
                model: model.map(str::to_string),
                project: project.map(str::to_string),
                session: session.map(str::to_string),
                ..Filter::default()
            };
            let mut kept: Vec<(Timestamp, i64)> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    from.is_none_or(|f| r.ts >= f)
                        && to.is_none_or(|t| r.ts < t)
                        && filter.agent.as_deref().is_none_or(|a| a == r.agent)
                        && filter.model.as_deref().is_none_or(|m| r.has_model(m))
                        && filter.session.as_deref().is_none_or(|s| s == r.session)
                        && filter.project.as_deref().is_none_or(|p| p == r.project.unwrap_or(""))
                })
                .map(|(i, r)| (r.ts, i as i64 + 1))
                .collect();
            kept.sort_by(|a, b| b.cmp(a));
            let pages = kept.len().div_ceil(page_size as usize).max(1);
            let page = 1 + (page_at * pages as f64) as u32;
            let (records, total) = record_page(&conn, &filter, page, page_size).unwrap();
            prop_assert_eq!(total, kept.len() as i64);
            let want: Vec<i64> = kept
                .iter()
                .skip((page as usize - 1) * page_size as usize)
                .take(page_size as usize)
                .map(|(_, id)| *id)
                .collect();
            let got: Vec<i64> = records.iter().map(|r| r.id).collect();
            prop_assert_eq!(got, want);
        }

        /// For every range, sort, direction and page, the per-session
        /// rollup lists the sessions, totals and count that grouping the
        /// records does (costs to rounding: the rollup adds them in
        /// another order).
        #[test]
        fn the_session_rollup_lists_what_the_records_add_up_to(
            rows in prop::collection::vec(row(), 0..200),
            from_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            len_ms in prop::option::of(0..(3 * 86_400 * 1000i64)),
            hours in 1i64..30,
            page_size in 1u32..20,
            offset in 0u32..40,
        ) {
            // Sessions a few hours long, so that a range holds some whole,
            // cuts some and misses others.
            let rows: Vec<_> = rows
                .into_iter()
                .map(|mut r| {
                    let bucket = (r.ts.as_millisecond() / 1000 - crate::query::test_rows::START)
                        / (hours * 3600);
                    r.session = Box::leak(format!("{}-{bucket}", r.session).into_boxed_str());
                    r
                })
                .collect();
            let conn = database(&rows);
            let filter = Filter { range: range(from_ms, len_ms), ..Filter::default() };
            prop_assert_eq!(
                session_count(&conn, &filter).unwrap(),
                session_count_from_records(&conn, &filter).unwrap()
            );
            for sort in SORTS {
                for descending in [true, false] {
                    let got = sessions(&conn, &filter, sort, descending, page_size, offset).unwrap();
                    let want = sessions_from_records(
                        &conn, &filter, sort, descending, page_size, offset,
                    )
                    .unwrap();
                    // Both ways of reading the whole sessions, whichever
                    // `sessions` chose for this range.
                    for by_start in [false, true] {
                        let (kept, params) = kept_sessions(&filter.range, by_start);
                        let page = sorted_sessions(
                            &conn, &kept, params, sort, descending, page_size, offset,
                        )
                        .unwrap();
                        let ids = |rows: &[SessionRow]| {
                            rows.iter().map(|r| r.session_id.clone()).collect::<Vec<_>>()
                        };
                        prop_assert_eq!(ids(&page), ids(&want));
                    }
                    prop_assert_eq!(got.len(), want.len());
                    for (g, w) in got.iter().zip(&want) {
                        prop_assert_eq!(&names_from_records(&conn, &g.session_id), &(g.models.clone(), g.agents.clone()));
                        prop_assert!((g.totals.cost_usd - w.totals.cost_usd).abs() < 1e-9);
                        let same_cost = SessionRow {
                            totals: Totals { cost_usd: w.totals.cost_usd, ..g.totals },
                            ..g.clone()
                        };
                        prop_assert_eq!(&same_cost, w);
                    }
                }
            }
        }
    }
}
