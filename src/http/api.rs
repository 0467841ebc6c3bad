//! The JSON endpoints under `/api`: thin wrappers around [`crate::query`].
//! Their field names are part of the contract (docs/http-api.md); the
//! snapshot tests in `tests/it/http.rs` pin them.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

use super::params::Params;
use super::{ApiError, AppState};
use crate::query::{self, Bounds, CostReport, Dimension, Page, Records, Sessions};

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(query: Pairs) -> Result<Params, ApiError> {
    match query {
        Ok(Query(pairs)) => Ok(Params(pairs)),
        Err(e) => Err(ApiError::bad(format!("query string: {e}"))),
    }
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
    Ok(Json(query::json(&Page {
        list: Records { records },
        total,
        page,
        page_size,
    })))
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
    Ok(Json(query::json(&SummaryReport {
        report: summary.answer(),
        tz: tz_name,
        active_hours,
    })))
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
    Ok(Json(query::json(&Page {
        list: Sessions { sessions },
        total,
        page,
        page_size,
    })))
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
    Ok(Json(query::json(&detail.answer())))
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
    let by_provider = summary
        .groups
        .iter()
        .map(|g| (g.keys[0].clone().unwrap_or_default(), g.totals.cost_usd))
        .collect();
    Ok(Json(query::json(&Overview {
        records: t.records,
        cost: OverviewCost {
            total_usd: t.cost_usd,
            by_provider,
        },
        tokens: OverviewTokens {
            input: t.input_tokens,
            output: t.output_tokens,
            cache_read: t.cache_read_tokens,
            cache_write: t.cache_write_tokens,
            cache_write_1h: t.cache_write_1h_tokens,
            reasoning: t.reasoning_tokens,
            total: t.tokens(),
        },
        period: Bounds::from(summary.range),
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
    let answers: Vec<_> = statuses.iter().map(crate::budget::Status::answer).collect();
    Ok(Json(query::json(&answers)))
}

/// `GET /api/costs/summary`: the summary as every surface answers it, plus
/// the zone it used and the hours with records (the dashboard's spend per
/// active hour).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryReport {
    #[serde(flatten)]
    pub report: CostReport,
    /// The `tz` asked for, `UTC` when none was.
    pub tz: String,
    /// UTC hours of the range that hold at least one record.
    pub active_hours: i64,
}

/// `GET /api/summary`: totals, and cost by provider.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Overview {
    pub records: i64,
    pub cost: OverviewCost,
    pub tokens: OverviewTokens,
    pub period: Bounds,
}

/// The cost of an [`Overview`], USD.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OverviewCost {
    pub total_usd: f64,
    /// Provider name ("" for none) to its cost.
    pub by_provider: std::collections::BTreeMap<String, f64>,
}

/// The tokens of an [`Overview`].
#[derive(Debug, Serialize, JsonSchema)]
pub struct OverviewTokens {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub cache_write_1h: i64,
    pub reasoning: i64,
    /// Input, output and cache tokens together.
    pub total: i64,
}
