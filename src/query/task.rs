//! One task's cost (MCP's `get_task_cost`): its totals and three one-level
//! summaries of its records, by model, by agent and by day.

use jiff::tz::TimeZone;
use rusqlite::Connection;
use schemars::JsonSchema;
use serde::Serialize;

use super::summary::{summary, ModelCost, Totals};
use super::{Dimension, Filter, QueryError};

/// A task's totals and three breakdowns, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TaskCost {
    /// The task asked about.
    pub task_id: String,
    #[serde(flatten)]
    pub totals: Totals,
    /// Most expensive first.
    pub by_model: Vec<ModelCost>,
    /// Most expensive first.
    pub by_agent: Vec<AgentCost>,
    /// In time order.
    pub by_day: Vec<DayCost>,
}

/// One agent's share.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentCost {
    /// The agent id (`hookmeter send --agent`, HOOKMETER_AGENT, or the hook's own).
    pub agent: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// One day's share.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DayCost {
    /// `YYYY-MM-DD` in the time zone asked for.
    pub day: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// The cost of the records of `task_id`, days in `tz`. An unknown task
/// costs 0.
pub fn task_cost(conn: &Connection, task_id: &str, tz: &TimeZone) -> Result<TaskCost, QueryError> {
    let filter = Filter {
        task: Some(task_id.to_string()),
        ..Filter::default()
    };
    let by = |dimension: Dimension| summary(conn, &filter, &[dimension], tz);
    let by_model = by(Dimension::Model)?;
    let by_agent = by(Dimension::Agent)?;
    let by_day = by(Dimension::Day)?;
    Ok(TaskCost {
        task_id: task_id.to_string(),
        totals: by_model.totals,
        by_model: by_model.rows(|model, totals| ModelCost { model, totals }),
        by_agent: by_agent.rows(|agent, totals| AgentCost { agent, totals }),
        by_day: by_day.rows(|day, totals| DayCost { day, totals }),
    })
}
