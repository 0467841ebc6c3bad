//! Query: what readers ask of the database (the CLI, the HTTP API, the
//! dashboard, `/metrics`). Every function takes a read-only connection of its
//! own, so nothing here can stall the writer; nothing here writes. Every
//! statement that reads lives here, behind a function named for what it
//! answers, so no other module writes SQL (writes are [`crate::store`]'s).
//!
//! The time vocabulary is shared by every reader: a [`Range`] is a half-open
//! interval of instants (a value of the core, `hookmeter_core::terms`),
//! built from a named period in a time zone
//! ([`Range::period`]), from dates or RFC 3339 instants ([`parse_bound`]), or
//! from a rolling window ending now ([`Range::last`]).
//!
//! What a reader typed becomes a [`Filter`] in one place, [`FilterSpec`],
//! whatever the surface; what a query answers is one type per answer
//! ([`CostReport`], [`SessionCost`], [`TaskCost`], [`Page`] of [`Records`]
//! or [`Sessions`]), serialized by every surface through [`json`]. No
//! surface builds an answer's JSON by hand.

pub mod advice;
pub mod budgets;
pub mod counters;
pub mod fallback;
pub mod filter_spec;
pub mod health;
pub mod opencode_db;
pub mod plan;
pub mod push;
pub mod reconcile;
pub mod records;
#[cfg(test)]
pub(crate) mod schema_check;
pub mod statusline;
pub mod summary;
pub mod task;
pub mod team;
#[cfg(test)]
mod test_rows;
pub mod tiers;
pub mod transcripts;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// A reader's time range: a value of the core, named here too.
pub use hookmeter_core::terms::Range;

pub use counters::{
    capped_usage_counters, event_counters, otel_agreement, otel_sessions, usage_counters,
    EventCounter, OtelAgreement, UsageCounter, OTHER_LABEL,
};
pub use fallback::{
    fallback_priced, unpriced_modifiers, FallbackModel, FallbackPriced, UnpricedModifier,
};
pub use filter_spec::{Extent, FilterError, FilterSpec, Input};
pub use reconcile::{reconcile, Cause, ReconcileTotals, Reconciliation, SessionReconciliation};
pub use records::{
    last_record_id, record_page, records_after, session_count, session_detail, sessions, Page,
    PromptCost, Record, Records, SessionCost, SessionDetail, SessionRow, SessionSort, Sessions,
    ToolCost,
};
pub use summary::{summary, Bounds, CostReport, Group, ModelCost, ReportGroup, Summary, Totals};
pub use task::{task_cost, TaskCost};

/// An answer as JSON, the one way every surface (`--json`, the HTTP API,
/// MCP) turns an answer type into its wire form. Through a
/// `serde_json::Value`, whose objects keep their keys sorted: that order,
/// not the fields' declaration order, is the wire's.
pub fn json<T: serde::Serialize>(answer: &T) -> serde_json::Value {
    serde_json::to_value(answer)
        .expect("an answer type serializes to JSON: its fields and map keys are strings")
}

/// A read-only connection to the database at `path`. A database that does
/// not exist is an error, never an empty answer: a mistyped path must not
/// read as "nothing spent" (the command line explains it further with
/// [`crate::config::Config::missing_database`]). One the daemon has not
/// upgraded yet is an error that says so.
pub fn open(path: &std::path::Path) -> Result<rusqlite::Connection, QueryError> {
    if matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
        return Err(QueryError::NoDatabase(path.to_path_buf()));
    }
    let conn = crate::store::open_reader(path).map_err(|e| QueryError::Invalid(e.to_string()))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != crate::store::SCHEMA_VERSION {
        return Err(QueryError::Invalid(format!(
            "database {} has schema version {version}, this hookmeter reads version {}; {}",
            path.display(),
            crate::store::SCHEMA_VERSION,
            if version < crate::store::SCHEMA_VERSION {
                "start `hookmeter serve` once to upgrade it"
            } else {
                "upgrade hookmeter"
            }
        )));
    }
    Ok(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A parameter a user gave is not acceptable; the text says which and why.
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database file does not exist (a reader never creates it).
    #[error("no database at {}: `hookmeter serve` creates it when it starts", .0.display())]
    NoDatabase(std::path::PathBuf),
}

/// A range that could not be built is a parameter a user gave wrong.
impl From<hookmeter_core::terms::RangeError> for QueryError {
    fn from(error: hookmeter_core::terms::RangeError) -> Self {
        QueryError::Invalid(error.to_string())
    }
}

impl QueryError {
    /// This error as the user should read it: a database that does not
    /// exist also says what chose its path and what to check
    /// ([`crate::config::Config::missing_database`]). Here rather than in
    /// config, which reads no database and names no reader.
    pub fn explained(&self, config: &crate::config::Config) -> String {
        match (self, config.missing_database()) {
            (QueryError::NoDatabase(_), Some(missing)) => missing.to_string(),
            _ => self.to_string(),
        }
    }
}

/// Which end of a range a user-given bound is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Start,
    /// Exclusive: a date given as the end includes that whole day.
    End,
}

/// A bound given as a date (`2026-09-20`: midnight in `tz`; as an end, the
/// midnight after it) or as an RFC 3339 instant.
pub fn parse_bound(text: &str, end: End, tz: &TimeZone) -> Result<Timestamp, QueryError> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if !is_date_bound(text) {
        // jiff reads a date out of `2026-09-20T10:00` too: taken as a date,
        // its time would be dropped without a word.
        return Err(QueryError::Invalid(match text.parse::<Date>() {
            Ok(_) => format!(
                "{text:?} has a time but no UTC offset: add one (e.g. {}Z or -05:00), or give a date (YYYY-MM-DD)",
                text.trim_end()
            ),
            Err(_) => format!("{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"),
        }));
    }
    let date: Date = text.parse().map_err(invalid)?;
    match end {
        End::Start => midnight(date, tz),
        End::End => midnight(date.tomorrow().map_err(invalid)?, tz),
    }
}

/// Whether `text` is a bound that [`parse_bound`] reads as a whole date
/// (`2026-09-20`) rather than an instant.
pub fn is_date_bound(text: &str) -> bool {
    text.parse::<Timestamp>().is_err()
        && !text.contains(['T', 't', ' '])
        && text.parse::<Date>().is_ok()
}

/// A time zone by IANA name, or the system's own for `None`.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, QueryError> {
    match name {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name)
            .map_err(|e| QueryError::Invalid(format!("unknown time zone {name:?}: {e}"))),
    }
}

fn midnight(date: Date, tz: &TimeZone) -> Result<Timestamp, QueryError> {
    let zoned: Zoned = date.to_zoned(tz.clone()).map_err(invalid)?;
    Ok(zoned.timestamp())
}

fn invalid(e: jiff::Error) -> QueryError {
    QueryError::Invalid(e.to_string())
}

/// What to keep: every field set narrows the records to those equal to it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub range: Range,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub project: Option<String>,
    pub session: Option<String>,
    pub task: Option<String>,
}

impl Filter {
    /// True when the hourly rollup can answer: it holds no session or task.
    fn fits_rollup(&self) -> bool {
        self.session.is_none() && self.task.is_none()
    }

    /// True when nothing but the time range narrows the records.
    pub(crate) fn is_plain(&self) -> bool {
        self.conditions(true).1.is_empty()
    }

    /// `AND`-ed conditions on `cost_records`, the time range included, and
    /// their parameters: what every query over the records themselves applies.
    pub(crate) fn record_conditions(&self) -> (String, Vec<String>) {
        let (mut sql, mut params) = self.conditions(false);
        let bounds = [(">=", self.range.from), ("<", self.range.to)];
        for (op, bound) in bounds {
            if let Some(ts) = bound {
                params.push(crate::record::format_timestamp(ts));
                sql.push_str(&format!(" AND timestamp {op} ?{}", params.len()));
            }
        }
        (sql, params)
    }

    /// `AND`-ed conditions on `cost_records` (or the rollup, which names its
    /// columns the same), and their parameters. The time range is left out.
    pub(crate) fn conditions(&self, rollup: bool) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        let columns = [
            ("agent_id", &self.agent),
            ("provider", &self.provider),
            ("session_id", &self.session),
            ("task_id", &self.task),
        ];
        for (column, value) in columns {
            if let Some(value) = value {
                params.push(value.clone());
                sql.push_str(&format!(" AND {column} = ?{}", params.len()));
            }
        }
        if let Some(model) = &self.model {
            // The name as the records give it, or the name reports group
            // them under: `claude-sonnet-4-5` keeps its dated spellings. On
            // a record, a NULL model_key reads as its model, which the
            // first half already matches.
            params.push(model.clone());
            let n = params.len();
            sql.push_str(&format!(" AND (model = ?{n} OR model_key = ?{n})"));
        }
        if let Some(project) = &self.project {
            params.push(project.clone());
            // The rollup keeps "no project" as ''.
            let column = if rollup {
                "project"
            } else {
                "coalesce(project, '')"
            };
            sql.push_str(&format!(" AND {column} = ?{}", params.len()));
        }
        (sql, params)
    }
}

/// What a summary groups by: `report --by` and `group_by` of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    Agent,
    Model,
    Provider,
    Project,
    /// A calendar day in the report's time zone.
    Day,
    /// An hour in the report's time zone.
    Hour,
    Session,
    /// The record's tools as stored (comma-joined when a message called several).
    Tool,
    Task,
    /// The prompt a record answers (`prompt_id`); records without one group
    /// under none.
    Prompt,
    /// The git branch of the session's working directory (`git_branch`).
    Branch,
    /// The value of one key of `labels_json`.
    Label(String),
    /// Who the records are from (`[push] user`): the central database only.
    User,
    /// The machine's host name: the central database only.
    Host,
    /// The machine's id: the central database only.
    Machine,
}

impl Dimension {
    pub fn parse(text: &str) -> Result<Dimension, QueryError> {
        Ok(match text {
            "agent" => Dimension::Agent,
            "model" => Dimension::Model,
            "provider" => Dimension::Provider,
            "project" => Dimension::Project,
            "day" => Dimension::Day,
            "hour" => Dimension::Hour,
            "session" => Dimension::Session,
            "tool" => Dimension::Tool,
            "task" => Dimension::Task,
            "prompt" => Dimension::Prompt,
            "branch" => Dimension::Branch,
            "user" | "host" | "machine" => {
                return Err(QueryError::Invalid(format!(
                    "cannot group by {text:?} here: only the team's central database \
                     knows it (`hookmeter report --team URL --by {text}`)"
                )))
            }
            _ => match text.strip_prefix("label:") {
                Some(key) if !key.is_empty() => Dimension::Label(key.to_string()),
                _ => {
                    return Err(QueryError::Invalid(format!(
                        "cannot group by {text:?}: expected agent, model, provider, project, \
                         day, hour, session, tool, task, prompt, branch or label:KEY"
                    )))
                }
            },
        })
    }

    /// [`Dimension::parse`], and the central database's own: `user`,
    /// `host` and `machine` (`report --team`).
    pub fn parse_team(text: &str) -> Result<Dimension, QueryError> {
        Ok(match text {
            "user" => Dimension::User,
            "host" => Dimension::Host,
            "machine" => Dimension::Machine,
            other => Dimension::parse(other).map_err(|_| {
                QueryError::Invalid(format!(
                    "cannot group by {text:?}: expected user, host, machine, agent, model, \
                     provider, project, day, hour, session, tool, task, prompt, branch or label:KEY"
                ))
            })?,
        })
    }

    /// True for what only the central database knows (`--by user`).
    pub fn is_central(&self) -> bool {
        matches!(self, Dimension::User | Dimension::Host | Dimension::Machine)
    }

    /// The name `parse` takes.
    pub fn name(&self) -> String {
        match self {
            Dimension::Agent => "agent".into(),
            Dimension::Model => "model".into(),
            Dimension::Provider => "provider".into(),
            Dimension::Project => "project".into(),
            Dimension::Day => "day".into(),
            Dimension::Hour => "hour".into(),
            Dimension::Session => "session".into(),
            Dimension::Tool => "tool".into(),
            Dimension::Task => "task".into(),
            Dimension::Prompt => "prompt".into(),
            Dimension::Branch => "branch".into(),
            Dimension::Label(key) => format!("label:{key}"),
            Dimension::User => "user".into(),
            Dimension::Host => "host".into(),
            Dimension::Machine => "machine".into(),
        }
    }

    pub(crate) fn is_time(&self) -> bool {
        matches!(self, Dimension::Day | Dimension::Hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_date_as_an_end_includes_that_day() {
        let tz = TimeZone::UTC;
        let start = parse_bound("2026-09-20", End::Start, &tz).unwrap();
        let end = parse_bound("2026-09-20", End::End, &tz).unwrap();
        assert_eq!(start, ts("2026-09-20T00:00:00Z"));
        assert_eq!(end, ts("2026-09-21T00:00:00Z"));
        let exact = parse_bound("2026-09-20T10:00:00+02:00", End::End, &tz).unwrap();
        assert_eq!(exact, ts("2026-09-20T08:00:00Z"));
        let no_offset = parse_bound("2026-09-20T10:00", End::Start, &tz).unwrap_err();
        assert!(
            no_offset.to_string().contains("no UTC offset"),
            "{no_offset}"
        );
        assert!(parse_bound("2026-09-20 10:00", End::End, &tz).is_err());
        let err = parse_bound("20/09/2026", End::Start, &tz).unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    }

    #[test]
    fn dimensions_parse_and_name_themselves() {
        for name in ["agent", "model", "day", "tool", "label:team"] {
            assert_eq!(Dimension::parse(name).unwrap().name(), name);
        }
        assert!(Dimension::parse("label:").is_err());
        assert!(Dimension::parse("color").is_err());
    }
}
