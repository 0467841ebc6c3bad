//! `hookmeter mcp`: the MCP server on stdio, so an agent can ask what it and
//! its peers cost. Four read-only tools: `get_task_cost`, `get_session_cost`,
//! `get_cost_report`, `get_budget_status`.
//!
//! This module owns the tools' arguments and how bad ones become tool
//! errors. It computes and shapes nothing itself: every answer is an answer
//! type of [`crate::query`] or [`crate::budget`] (the one `--json` and the
//! HTTP API serialize too), and its output schema is that type's
//! `JsonSchema`. It never writes to the database (each call opens its own
//! read-only connection, so it works with the daemon running or not), and
//! never prints on stdout, which carries the protocol.
//!
//! For users: docs/mcp.md.

use std::fmt::Display;
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

use crate::budget::BudgetStatus;
use crate::query::{
    self, CostReport, Dimension, Extent, FilterError, FilterSpec, Input, QueryError, SessionCost,
    TaskCost,
};

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
        self.read(move |conn| query::task_cost(conn, &task_id, &tz))
            .await
            .map(Json)
    }

    /// One session's cost, tokens and records, by model and by tool (the shape of GET /api/costs/sessions/{id}). An unknown session id gives an empty breakdown.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_session_cost(
        &self,
        Parameters(args): Parameters<SessionCostArgs>,
    ) -> Result<Json<SessionCost>, String> {
        self.read(move |conn| Ok(query::session_detail(conn, &args.session_id)?.answer()))
            .await
            .map(Json)
    }

    /// Cost and tokens over a calendar period, grouped by up to two dimensions, as `hookmeter report --json` prints them (the shape of GET /api/costs/summary).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_cost_report(
        &self,
        Parameters(args): Parameters<CostReportArgs>,
    ) -> Result<Json<CostReport>, String> {
        let by = args.group_by.map(GroupBy::levels).unwrap_or_default();
        if by.len() > 2 {
            return Err(format!(
                "group_by takes at most two levels, got {}",
                by.len()
            ));
        }
        let tz = time_zone(args.tz.as_deref())?;
        let spec = FilterSpec {
            extent: Extent::Period(&args.period),
            ..FilterSpec::default()
        };
        let filter = spec
            .resolve(&tz, Timestamp::now())
            .map_err(|e| one_line(refusal(e)))?;
        let dimensions = by
            .iter()
            .map(|name| Dimension::parse(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| one_line(format!("group_by: {e}")))?;
        self.read(move |conn| {
            let fallback = query::fallback_priced(conn, &filter)?;
            Ok(query::summary(conn, &filter, &dimensions, &tz)?.answer(fallback))
        })
        .await
        .map(Json)
    }

    /// Every spending limit (`hookmeter budget set`) with what its current period has spent, the ratio, and when the period ends (the shape of GET /api/budgets).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_budget_status(
        &self,
        Parameters(args): Parameters<BudgetStatusArgs>,
    ) -> Result<Json<Budgets>, String> {
        let tz = time_zone(args.tz.as_deref())?;
        let now = Timestamp::now();
        self.read(move |conn| {
            let statuses = crate::budget::status(conn, now, &tz)?;
            Ok(Budgets {
                budgets: statuses.iter().map(crate::budget::Status::answer).collect(),
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

/// A filter refused, in the words of the tools: the argument at fault.
fn refusal(e: FilterError) -> String {
    match e {
        FilterError::Unreadable { input, message } => {
            let name = match input {
                Input::Extent => "period",
                // No tool takes bounds yet.
                Input::From => "from",
                Input::To => "to",
            };
            format!("{name}: {message}")
        }
        FilterError::Empty { from, to, .. } => format!(
            "the period is empty: it ends ({}) where or before it starts ({})",
            crate::record::format_timestamp(to),
            crate::record::format_timestamp(from)
        ),
    }
}

/// A tool error is one line of text.
fn one_line(error: impl Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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
    /// What to group by: agent, model, provider, project, day, hour, session, tool, task, prompt, branch or label:KEY; a list of two for two levels. Default: no grouping, one total.
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

/// What `get_budget_status` answers (a tool's result is an object, not a list).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Budgets {
    /// One object per budget, as `GET /api/budgets` and `budget status --json` give them.
    pub budgets: Vec<BudgetStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{Budget, Period, Scope, Status};

    #[test]
    fn the_budget_tool_answer_fits_its_schema() {
        let status = Status {
            budget: Budget {
                scope: Scope::Project("shop".into()),
                period: Period::Weekly,
                limit_usd: 50.0,
                enforce: false,
            },
            spent_usd: 0.0,
            period: query::Range::default(),
            period_end: None,
        };
        crate::query::schema_check::assert_answer_fits_schema(&Budgets {
            budgets: vec![status.answer()],
        });
        crate::query::schema_check::assert_answer_fits_schema(&Budgets { budgets: vec![] });
    }
}
