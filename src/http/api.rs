//! The JSON endpoints under `/api`: thin wrappers around [`crate::query`].
//! Their field names are part of the contract (docs/http-api.md); the
//! snapshot tests in `tests/it/http.rs` pin them.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::params::Params;
use super::{ApiError, AppState};
use crate::query::{self, Dimension, Range};
use crate::record::format_timestamp;

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(query: Pairs) -> Result<Params, ApiError> {
    match query {
        Ok(Query(pairs)) => Ok(Params(pairs)),
        Err(e) => Err(ApiError::bad(format!("query string: {e}"))),
    }
}

/// `{from, to}`, RFC 3339 UTC; `null` for an open end.
#[derive(Serialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

impl From<Range> for Period {
    fn from(range: Range) -> Self {
        Period {
            from: range.from.map(format_timestamp),
            to: range.to.map(format_timestamp),
        }
    }
}

/// A page of a list, as every list endpoint answers: `{<items>, total,
/// page, page_size}`, the items under the list's own name.
fn page_json(name: &str, items: impl Serialize, total: i64, page: u32, page_size: u32) -> Value {
    let mut body = json!({ "total": total, "page": page, "page_size": page_size });
    body[name] = json!(items);
    body
}

/// `GET /api/costs`: a page of records, newest first.
pub async fn costs(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let filter = params.filter(&tz, jiff::Timestamp::now())?;
    let (page, page_size) = params.page()?;
    let (records, total) = state
        .readers
        .run(move |conn| query::record_page(conn, &filter, page, page_size))
        .await?;
    Ok(Json(page_json("records", records, total, page, page_size)))
}

/// `GET /api/costs/summary`: totals grouped like `report --by`, and how
/// many hours of the range hold records (`active_hours`).
pub async fn cost_summary(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let tz_name = params.get("tz").unwrap_or("UTC").to_string();
    let filter = params.filter(&tz, jiff::Timestamp::now())?;
    let dimensions = params.group_by()?;
    let (summary, active_hours) = state
        .readers
        .run(move |conn| {
            let summary = query::summary(conn, &filter, &dimensions, &tz)?;
            Ok((summary, query::summary::active_hours(conn, &filter)?))
        })
        .await?;
    // The one summary shape, `report --json`'s too, plus the zone it used
    // and the hours with records (the dashboard's spend per active hour).
    let mut body = summary.to_json();
    body["tz"] = json!(tz_name);
    body["active_hours"] = json!(active_hours);
    Ok(Json(body))
}

/// `GET /api/costs/sessions`: sessions, most recently active first unless
/// `sort` and `order` say otherwise.
pub async fn sessions(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let filter = params.filter(&tz, jiff::Timestamp::now())?;
    let (page, page_size) = params.page()?;
    let (sort, descending) = params.session_order()?;
    let offset = (page - 1).saturating_mul(page_size);
    let (sessions, total) = state
        .readers
        .run(move |conn| {
            let rows = query::sessions(conn, &filter, sort, descending, page_size, offset)?;
            Ok((rows, query::session_count(conn, &filter)?))
        })
        .await?;
    Ok(Json(page_json(
        "sessions", sessions, total, page, page_size,
    )))
}

/// `GET /api/costs/sessions/{id}`: one session by model and by tool; an
/// unknown id is an empty session, not an error.
pub async fn session(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad(format!("session id: {e}")))?;
    let detail = state
        .readers
        .run(move |conn| query::session_detail(conn, &id))
        .await?;
    Ok(Json(detail.to_json()))
}

/// `GET /api/costs/pricing`: the table the writer prices with right now;
/// with `model=NAME`, also how that name is priced (`pricing check`).
pub async fn pricing(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let table = match state.prices.read() {
        Ok(table) => table.clone(),
        // A panic while swapping cannot leave a half-written Arc behind.
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let user_file = table.user_file().map(|path| {
        json!({
            "path": path,
            "as_of": table.user_as_of(),
            "models": table.user_models(),
        })
    });
    let mut body = json!({
        "as_of": table.as_of(),
        "user_file": user_file,
        "fallback": crate::pricing::FALLBACK_KEY,
        "unit": "USD per 1M tokens",
        "models": table.entries().collect::<Vec<_>>(),
        "warnings": table.warnings(),
    });
    if let Some(model) = params.get("model") {
        let found = table.lookup(model);
        body["match"] = json!({
            "model": model,
            "normalized": found.normalized,
            "kind": found.kind,
            "key": found.key,
            "provider": found.provider,
            "rates": found.rates,
            "source": found.source,
        });
    }
    Ok(Json(body))
}

/// `GET /api/summary`: totals, and cost by provider.
pub async fn summary(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let filter = params.filter(&tz, jiff::Timestamp::now())?;
    let summary = state
        .readers
        .run(move |conn| query::summary(conn, &filter, &[Dimension::Provider], &tz))
        .await?;
    let t = summary.totals;
    let by_provider: serde_json::Map<String, Value> = summary
        .groups
        .iter()
        .map(|g| {
            let name = g.keys[0].clone().unwrap_or_default();
            (name, json!(g.totals.cost_usd))
        })
        .collect();
    Ok(Json(json!({
        "records": t.records,
        "cost": {
            "total_usd": t.cost_usd,
            "by_provider": by_provider,
        },
        "tokens": {
            "input": t.input_tokens,
            "output": t.output_tokens,
            "cache_read": t.cache_read_tokens,
            "cache_write": t.cache_write_tokens,
            "cache_write_1h": t.cache_write_1h_tokens,
            "reasoning": t.reasoning_tokens,
            "total": t.tokens(),
        },
        "period": Period::from(summary.range),
    })))
}

/// `GET /api/budgets`: every budget with its spend this period (`tz`:
/// the zone of days, weeks and months; UTC when absent).
pub async fn budgets(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let statuses = state
        .readers
        .run(move |conn| crate::budget::status(conn, jiff::Timestamp::now(), &tz))
        .await?;
    Ok(Json(Value::from(
        statuses.iter().map(|s| s.to_json()).collect::<Vec<_>>(),
    )))
}
