//! The JSON endpoints under `/api`: thin wrappers around [`crate::query`].
//! Every answer is an answer type serialized through [`query::json`]: the
//! query layer's and budget's own where the CLI or MCP answer the same,
//! and the few only the API gives ([`SummaryReport`], [`Overview`],
//! [`PriceTableAnswer`]) here; never JSON built by hand. Their field names
//! are part of the contract (docs/http-api.md); the snapshot tests in
//! `tests/it/http.rs` pin them.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::params::Params;
use super::{ApiError, AppState};
use crate::pricing::{Entry, Rates};
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
    let (summary, active_hours, fallback) = state
        .readers
        .run(move |conn| {
            let summary = query::summary(conn, &filter, &dimensions, &tz)?;
            let fallback = query::fallback_priced(conn, &filter)?;
            Ok((
                summary,
                query::summary::active_hours(conn, &filter)?,
                fallback,
            ))
        })
        .await?;
    Ok(Json(query::json(&SummaryReport {
        report: summary.answer(fallback),
        tz: tz_name,
        active_hours,
    })))
}

/// `GET /api/costs/reconcile`: hookmeter's cost against the agents' own
/// reported cost in the range and filters, per agent and session, with the
/// named causes (`hookmeter reconcile --json`'s answer).
pub async fn reconcile(
    State(state): State<Arc<AppState>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let params = params(query)?;
    let tz = params.tz()?;
    let filter = params.filter(&tz, jiff::Timestamp::now())?;
    let answer = state
        .readers
        .run(move |conn| query::reconcile(conn, &filter))
        .await?;
    Ok(Json(query::json(&answer)))
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
    let model = params.get("model");
    let found = model.map(|model| (model, table.lookup(model)));
    let answer = PriceTableAnswer {
        as_of: table.as_of(),
        user_file: table.user_file().map(|path| UserPriceFile {
            path,
            as_of: table.user_as_of(),
            models: table.user_models(),
        }),
        fallback: crate::pricing::FALLBACK_KEY,
        unit: "USD per 1M tokens",
        models: table.entries().collect(),
        warnings: table.warnings(),
        found: found.as_ref().map(|(model, found)| PriceMatch {
            model,
            normalized: &found.normalized,
            kind: found.kind.as_str(),
            key: found.key,
            provider: found.provider,
            rates: found.rates,
            source: found.source.as_str(),
        }),
    };
    Ok(Json(query::json(&answer)))
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

/// `GET /api/budgets/alerts`: the alerts not delivered, still tried and
/// given up (docs/budgets.md#delivery).
pub async fn undelivered_alerts(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Value>, ApiError> {
    let undelivered = state
        .readers
        .run(|conn| Ok(crate::query::budgets::undelivered_alerts(conn)?))
        .await?;
    Ok(Json(query::json(&undelivered)))
}

/// `GET /api/plan`: each agent's latest use of each plan window, as the
/// agents reported it (`plan`: a list; empty when none has).
pub async fn plan(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let latest = state.readers.run(query::plan::plan_latest).await?;
    Ok(Json(serde_json::json!({ "plan": query::json(&latest) })))
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

/// `GET /api/costs/pricing`: the price table in force, and with `model`
/// how that name is priced. The pricing types are described as open JSON
/// objects: their shape is the pricing module's (`pricing list --json`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PriceTableAnswer<'a> {
    /// The date the built-in prices were true.
    pub as_of: &'a str,
    pub user_file: Option<UserPriceFile<'a>>,
    /// The entry a model no entry matches is priced as.
    pub fallback: &'a str,
    pub unit: &'a str,
    #[schemars(with = "Vec<serde_json::Map<String, Value>>")]
    pub models: Vec<&'a Entry>,
    pub warnings: &'a [String],
    /// Only with `?model=NAME`: absent otherwise.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub found: Option<PriceMatch<'a>>,
}

/// The user's `pricing.toml` merged into the table.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserPriceFile<'a> {
    pub path: &'a str,
    pub as_of: Option<&'a str>,
    /// How many models it defines.
    pub models: usize,
}

/// How one model name is priced (`hookmeter pricing check`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PriceMatch<'a> {
    /// The name asked about.
    pub model: &'a str,
    pub normalized: &'a str,
    /// exact, prefix, local or fallback.
    pub kind: &'a str,
    pub key: &'a str,
    pub provider: &'a str,
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub rates: &'a Rates,
    /// embedded, user, env, local or fallback.
    pub source: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema_check::assert_answer_fits_schema;
    use crate::query::Range;

    #[test]
    fn the_api_only_answers_fit_their_schemas() {
        let report = query::Summary {
            dimensions: vec![Dimension::Model],
            groups: vec![],
            totals: query::Totals::default(),
            range: Range::default(),
        }
        .answer(query::FallbackPriced::default());
        assert_answer_fits_schema(&SummaryReport {
            report,
            tz: "UTC".into(),
            active_hours: 0,
        });
        assert_answer_fits_schema(&Overview {
            records: 1,
            cost: OverviewCost {
                total_usd: 0.5,
                by_provider: [("anthropic".to_string(), 0.5)].into(),
            },
            tokens: OverviewTokens {
                input: 1,
                output: 2,
                cache_read: 3,
                cache_write: 4,
                cache_write_1h: 0,
                reasoning: 0,
                total: 10,
            },
            period: Bounds::from(Range::default()),
        });
    }
}
