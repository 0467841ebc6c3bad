//! `hookmeter mcp`: the MCP server on stdio, so an agent can ask what it and
//! its peers cost. Four read-only tools: `get_task_cost`, `get_session_cost`,
//! `get_cost_report`, `get_budget_status`.
//!
//! This module owns the tools' arguments, how bad ones become tool errors,
//! and the JSON schemas of what the tools answer. It computes nothing
//! itself: every number comes from [`crate::query`] and [`crate::budget`],
//! through the code paths of `hookmeter report`, `sessions ID` and `budget
//! status`, and the answers of three tools are the JSON of the HTTP API
//! (`to_json()`), passed on unchanged. It never writes to the database (each
//! call opens its own read-only connection, so it works with the daemon
//! running or not), and never prints on stdout, which carries the protocol.
//!
//! For users: docs/mcp.md.

use std::borrow::Cow;
use std::fmt::Display;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_handler, tool_router, Json, ServerHandler, ServiceExt};
use rusqlite::Connection;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::query::{self, Dimension, Filter, Group, QueryError, Totals};
use crate::report::commands::ReportArgs;

/// Serves the tools on stdin and stdout until the client hangs up.
pub async fn serve(db: PathBuf) -> anyhow::Result<()> {
    let running = CostTools::new(db)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP client did not complete the handshake: {e}"))?;
    running.waiting().await?;
    Ok(())
}

/// The MCP service: the tools and the database they read.
#[derive(Clone)]
pub struct CostTools {
    /// Opened afresh, read-only, by every call: the daemon may create,
    /// upgrade or replace the file while the server runs.
    db: Arc<PathBuf>,
    /// The tools by name, built once by `#[tool_router]`.
    tool_router: ToolRouter<CostTools>,
}

#[tool_router]
impl CostTools {
    pub fn new(db: PathBuf) -> CostTools {
        CostTools {
            db: Arc::new(db),
            tool_router: CostTools::tool_router(),
        }
    }

    /// Total cost, tokens and records of one task (the id given to `hookmeter send --task` or HOOKMETER_TASK), by model, by agent and by day. An unknown task costs 0.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_task_cost(
        &self,
        Parameters(args): Parameters<TaskCostArgs>,
    ) -> Result<Json<TaskCost>, String> {
        let tz = time_zone(args.tz.as_deref())?;
        let task_id = args.task_id;
        self.read(move |conn| task_cost(conn, task_id, &tz))
            .await
            .map(Json)
    }

    /// One session's cost, tokens and records, by model and by tool (the shape of GET /api/costs/sessions/{id}). An unknown session id gives an empty breakdown.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_session_cost(
        &self,
        Parameters(args): Parameters<SessionCostArgs>,
    ) -> Result<Json<ApiJson<shapes::SessionCost>>, String> {
        self.read(move |conn| Ok(query::session_detail(conn, &args.session_id)?.to_json()))
            .await
            .map(|value| Json(ApiJson::new(value)))
    }

    /// Cost and tokens over a calendar period, grouped by up to two dimensions, as `hookmeter report --json` prints them (the shape of GET /api/costs/summary).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_cost_report(
        &self,
        Parameters(args): Parameters<CostReportArgs>,
    ) -> Result<Json<ApiJson<shapes::CostReport>>, String> {
        let by = args.group_by.map(GroupBy::levels).unwrap_or_default();
        if by.len() > 2 {
            return Err(format!(
                "group_by takes at most two levels, got {}",
                by.len()
            ));
        }
        let report = ReportArgs {
            period: Some(args.period),
            by,
            tz: args.tz,
            ..ReportArgs::default()
        };
        let (filter, dimensions, tz) = report.resolve(Timestamp::now()).map_err(one_line)?;
        self.read(move |conn| Ok(query::summary(conn, &filter, &dimensions, &tz)?.to_json()))
            .await
            .map(|value| Json(ApiJson::new(value)))
    }

    /// Every spending limit (`hookmeter budget set`) with what its current period has spent, the ratio, and when the period ends (the shape of GET /api/budgets).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_budget_status(
        &self,
        Parameters(args): Parameters<BudgetStatusArgs>,
    ) -> Result<Json<BudgetStatus>, String> {
        let tz = time_zone(args.tz.as_deref())?;
        let now = Timestamp::now();
        self.read(move |conn| {
            let statuses = crate::budget::status(conn, now, &tz)?;
            Ok(BudgetStatus {
                budgets: statuses.iter().map(|s| ApiJson::new(s.to_json())).collect(),
            })
        })
        .await
        .map(Json)
    }
}

#[tool_handler(
    router = self.tool_router,
    name = "hookmeter",
    instructions = "Costs of coding-agent LLM calls recorded by hookmeter: per task, per session, \
                    per period grouped as asked, and spending against budgets. Amounts are USD."
)]
impl ServerHandler for CostTools {}

impl CostTools {
    /// Runs `question` on a read-only connection, off the async threads
    /// (SQLite blocks). A database not created yet is an error that says
    /// so: an empty answer would read as "nothing spent".
    async fn read<T: Send + 'static>(
        &self,
        question: impl FnOnce(&Connection) -> Result<T, QueryError> + Send + 'static,
    ) -> Result<T, String> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            if !db.exists() {
                return Err(format!(
                    "no database at {}: nothing has been recorded there yet \
                     (start `hookmeter serve`, or point --db at the daemon's database)",
                    db.display()
                ));
            }
            let conn = query::open(&db).map_err(one_line)?;
            question(&conn).map_err(one_line)
        })
        .await
        .map_err(|e| format!("the query did not finish: {e}"))?
    }
}

/// A time zone by IANA name, the system's by default.
fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    query::time_zone(name).map_err(|e| one_line(format!("tz: {e}")))
}

/// A tool error is one line of text.
fn one_line(error: impl Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn task_cost(conn: &Connection, task_id: String, tz: &TimeZone) -> Result<TaskCost, QueryError> {
    let filter = Filter {
        task: Some(task_id.clone()),
        ..Filter::default()
    };
    let by = |dimension: Dimension| query::summary(conn, &filter, &[dimension], tz);
    let by_model = by(Dimension::Model)?;
    let by_agent = by(Dimension::Agent)?;
    let by_day = by(Dimension::Day)?;
    Ok(TaskCost {
        task_id,
        totals: by_model.totals,
        by_model: rows(by_model.groups, |model, totals| ModelCost { model, totals }),
        by_agent: rows(by_agent.groups, |agent, totals| AgentCost { agent, totals }),
        by_day: rows(by_day.groups, |day, totals| DayCost { day, totals }),
    })
}

/// One-level groups as rows of `T`, in the summary's order.
fn rows<T>(groups: Vec<Group>, row: impl Fn(Option<String>, Totals) -> T) -> Vec<T> {
    groups
        .into_iter()
        .map(|g| row(g.keys.into_iter().next().flatten(), g.totals))
        .collect()
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskCostArgs {
    /// The task id, as given to `hookmeter send --task` or HOOKMETER_TASK.
    pub task_id: String,
    /// Time zone of the days in `by_day` (IANA name, e.g. Europe/Paris); default: the system's.
    #[serde(default)]
    pub tz: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionCostArgs {
    /// The agent's session id (Claude Code's `session_id`).
    pub session_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CostReportArgs {
    /// today, yesterday, week (since Monday), month (since the 1st) or all.
    #[serde(default = "today")]
    #[schemars(extend("enum" = ["today", "yesterday", "week", "month", "all"]))]
    pub period: String,
    /// What to group by: agent, model, provider, project, day, hour, session, tool, task or label:KEY; a list of two for two levels. Default: no grouping, one total.
    #[serde(default)]
    pub group_by: Option<GroupBy>,
    /// Time zone of the period's days and of day and hour groups (IANA name, e.g. Europe/Paris); default: the system's.
    #[serde(default)]
    pub tz: Option<String>,
}

fn today() -> String {
    "today".to_string()
}

/// One dimension, or a list of up to two (the second within the first).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum GroupBy {
    One(String),
    Levels(#[schemars(length(max = 2))] Vec<String>),
}

impl GroupBy {
    fn levels(self) -> Vec<String> {
        match self {
            GroupBy::One(level) => vec![level],
            GroupBy::Levels(levels) => levels,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BudgetStatusArgs {
    /// Time zone of the days, weeks and months the budgets count in (IANA name); default: the system's.
    #[serde(default)]
    pub tz: Option<String>,
}

/// What `get_task_cost` answers: the task's totals and three breakdowns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskCost {
    /// The task asked about.
    pub task_id: String,
    #[serde(flatten)]
    #[schemars(with = "shapes::Totals")]
    pub totals: Totals,
    /// Most expensive first.
    pub by_model: Vec<ModelCost>,
    /// Most expensive first.
    pub by_agent: Vec<AgentCost>,
    /// In time order.
    pub by_day: Vec<DayCost>,
}

/// One model's share.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelCost {
    /// The model as the agent named it; null when the records had none.
    pub model: Option<String>,
    #[serde(flatten)]
    #[schemars(with = "shapes::Totals")]
    pub totals: Totals,
}

/// One agent's share.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentCost {
    /// The agent id (`hookmeter send --agent`, HOOKMETER_AGENT, or the hook's own).
    pub agent: Option<String>,
    #[serde(flatten)]
    #[schemars(with = "shapes::Totals")]
    pub totals: Totals,
}

/// One day's share.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DayCost {
    /// `YYYY-MM-DD` in the time zone asked for.
    pub day: Option<String>,
    #[serde(flatten)]
    #[schemars(with = "shapes::Totals")]
    pub totals: Totals,
}

/// What `get_budget_status` answers (a tool's result is an object, not a list).
#[derive(Debug, Serialize, JsonSchema)]
pub struct BudgetStatus {
    /// One object per budget, as `GET /api/budgets` and `budget status --json` give them.
    pub budgets: Vec<ApiJson<shapes::Budget>>,
}

/// JSON the query layer builds for the HTTP API (a `to_json()`), passed on
/// as it is, so the tools can never drift from the API; `S` only describes
/// it, for the tool's output schema.
pub struct ApiJson<S> {
    /// The object as `to_json()` built it.
    value: Value,
    /// What describes it; no `S` is ever held.
    shape: PhantomData<fn() -> S>,
}

impl<S> ApiJson<S> {
    fn new(value: Value) -> ApiJson<S> {
        ApiJson {
            value,
            shape: PhantomData,
        }
    }
}

impl<S> std::fmt::Debug for ApiJson<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.value, f)
    }
}

impl<S> Serialize for ApiJson<S> {
    fn serialize<W: serde::Serializer>(&self, serializer: W) -> Result<W::Ok, W::Error> {
        self.value.serialize(serializer)
    }
}

impl<S: JsonSchema> JsonSchema for ApiJson<S> {
    fn schema_name() -> Cow<'static, str> {
        S::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        S::json_schema(generator)
    }
}

/// The JSON of the query layer, described for output schemas. Nothing here
/// is ever built: the objects come from the `to_json()` each type names, and
/// tests/it/mcp.rs checks that answers and schemas carry the same fields.
pub mod shapes {
    use schemars::JsonSchema;

    // `query::Totals` as it serializes. No doc comment: a flattened
    // struct's description would become that of every row holding it.
    #[derive(JsonSchema)]
    pub struct Totals {
        pub records: i64,
        pub cost_usd: f64,
        pub input_tokens: i64,
        pub output_tokens: i64,
        pub cache_read_tokens: i64,
        pub cache_write_tokens: i64,
        /// Of the cache writes, those kept for an hour.
        pub cache_write_1h_tokens: i64,
        /// Of the output tokens, those spent reasoning.
        pub reasoning_tokens: i64,
    }

    // `SessionDetail::to_json()`.
    /// One session's totals, by model and by tool.
    #[derive(JsonSchema)]
    pub struct SessionCost {
        pub session_id: String,
        /// RFC 3339; null for an unknown session.
        pub first_at: Option<String>,
        pub last_at: Option<String>,
        #[serde(flatten)]
        pub totals: Totals,
        /// Most expensive first.
        pub by_model: Vec<super::ModelCost>,
        /// Most expensive first.
        pub by_tool: Vec<ToolCost>,
    }

    /// The cost of the messages that called one set of tools.
    #[derive(JsonSchema)]
    pub struct ToolCost {
        /// The tools the message called, as stored (comma-joined when several).
        pub tool: Option<String>,
        #[serde(flatten)]
        pub totals: Totals,
    }

    // `Summary::to_json()`.
    /// Totals over a period, and its groups.
    #[derive(JsonSchema)]
    pub struct CostReport {
        /// The dimensions grouped by, outer first.
        pub group_by: Vec<String>,
        /// Day and hour groups in time order, others most expensive first.
        pub groups: Vec<ReportGroup>,
        pub total_cost_usd: f64,
        pub total_input_tokens: i64,
        pub total_output_tokens: i64,
        pub total_cache_read_tokens: i64,
        pub total_cache_write_tokens: i64,
        pub total_records: i64,
        /// The instants the report covers, `[from, to)`; null is unbounded.
        pub period: Period,
    }

    /// One group: its keys and its totals.
    #[derive(JsonSchema)]
    pub struct ReportGroup {
        /// The keys joined by " / ", a missing one read "(none)".
        pub key: Option<String>,
        /// One key per level; null where the records had no value.
        pub keys: Vec<Option<String>>,
        #[serde(flatten)]
        pub totals: Totals,
    }

    #[derive(JsonSchema)]
    pub struct Period {
        pub from: Option<String>,
        pub to: Option<String>,
    }

    // `budget::Status::to_json()`.
    /// A budget and the spend of its current period.
    #[derive(JsonSchema)]
    pub struct Budget {
        /// agent:NAME, task:ID, project:NAME, or "" for everything.
        pub scope: String,
        /// daily, weekly, monthly or total.
        pub period: String,
        /// USD.
        pub limit: f64,
        /// USD spent in the current period.
        pub spent: f64,
        /// spent / limit.
        pub ratio: f64,
        /// Once spent, `hookmeter send` denies the scope's PreToolUse events.
        pub enforce: bool,
        pub period_start: Option<String>,
        /// null for a total budget, which never ends.
        pub period_end: Option<String>,
    }
}
