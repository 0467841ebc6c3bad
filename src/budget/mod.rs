//! Budgets: a spending limit per calendar period (day, week from Monday,
//! month from the 1st, in a time zone) or in total, for everything or for
//! one agent, task or project. Stored in the `budgets` table (written
//! through [`crate::store::budgets`], read through [`crate::query::budgets`]:
//! this module holds no SQL); how much of each is spent is a summary over
//! the same records every report reads.
//!
//! What a budget is ([`Budget`], [`Period`], [`Scope`]) is a value of the
//! core (`hookmeter_core::terms`), so that the configuration can hold
//! budgets without importing this module; named here too.
//!
//! [`alerts`] turns spend into threshold alerts and the verdicts the
//! enforcement guard answers from; [`notify`] delivers alerts; both share
//! a `Crossing` (its own module, so neither imports the other);
//! [`commands`] is what `hookmeter budget` says.
//!
//! For users: docs/budgets.md.

pub mod alerts;
pub mod commands;
mod crossing;
pub mod notify;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::Connection;
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::StoredBudgets;
use crate::present::{time, MoneySet, Table, View};
use crate::query::budgets::{BudgetRow, UndeliveredAlerts};
use crate::query::{summary, Filter, QueryError, Range};
use crate::store::budgets::BudgetLimit;

pub use hookmeter_core::terms::{Budget, Period, PlanWindow, Scope};

/// The current `period` as of `now` in `tz`: its range (open at the end)
/// and when it ends (`None` for a total). Beside the spend it measures, not
/// with [`Period`] in the core: it is a reader's [`Range`].
pub fn current_period(
    period: Period,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<(Range, Option<Timestamp>), QueryError> {
    let calendar = match period {
        Period::Daily => "today",
        Period::Weekly => "week",
        Period::Monthly => "month",
        Period::Total => return Ok((Range::default(), None)),
        Period::Plan(window) => {
            return Err(QueryError::Invalid(format!(
                "the {} plan window's period comes from its reported use, not the calendar",
                window.name()
            )))
        }
    };
    let range = Range::period(calendar, now, tz)?;
    let start = range
        .from
        .ok_or_else(|| QueryError::Invalid("a calendar period has a start".into()))?
        .to_zoned(tz.clone());
    let next = match period {
        Period::Daily => start.checked_add(1.day()),
        Period::Weekly => start.checked_add(1.week()),
        _ => start.checked_add(1.month()),
    }
    .map_err(|e| QueryError::Invalid(e.to_string()))?;
    let end = next.timestamp();
    Ok((range.narrowed(None, Some(end)), Some(end)))
}

/// A plan window's use as the latest observation reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanUse {
    /// 0-100, as the agent reported it.
    pub used_pct: f64,
    /// The window the observation belongs to: its reset minus the window's
    /// length, or, when no reset was reported, the observation's time
    /// floored to the window's length.
    pub start: Timestamp,
    /// When the window starts afresh.
    pub end: Timestamp,
}

/// The use of `window` that a plan budget of `scope` watches: the agent's
/// latest observation, or for everything the highest among the agents'
/// (one whose window has not ended by `now` first). `None` with no
/// observation of that window.
pub fn plan_use(
    conn: &Connection,
    window: PlanWindow,
    scope: &Scope,
    now: Timestamp,
) -> Result<Option<PlanUse>, QueryError> {
    let latest = crate::query::plan::plan_latest(conn)?;
    let uses = latest
        .iter()
        .filter(|row| row.window == window.name())
        .filter(|row| match scope {
            Scope::Agent(agent) => &row.agent_id == agent,
            _ => true,
        })
        .filter_map(|row| {
            let observed: Timestamp = row.observed_at.parse().ok()?;
            let length = window.seconds().seconds();
            let reset: Option<Timestamp> = row.resets_at.as_deref().and_then(|t| t.parse().ok());
            let (start, end) = match reset {
                Some(end) => (end.checked_sub(length).ok()?, end),
                None => {
                    let secs = observed.as_second();
                    let floor = secs - secs.rem_euclid(window.seconds());
                    let start = Timestamp::from_second(floor).ok()?;
                    (start, start.checked_add(length).ok()?)
                }
            };
            Some(PlanUse {
                used_pct: row.used_pct,
                start,
                end,
            })
        });
    Ok(uses.max_by(|a, b| {
        (a.end > now, a.used_pct)
            .partial_cmp(&(b.end > now, b.used_pct))
            .unwrap_or(std::cmp::Ordering::Equal)
    }))
}

/// The records `scope` covers within `range`.
fn scope_filter(scope: &Scope, range: Range) -> Filter {
    let mut filter = Filter {
        range,
        ..Filter::default()
    };
    match scope {
        Scope::All => {}
        Scope::Agent(v) => filter.agent = Some(v.clone()),
        Scope::Task(v) => filter.task = Some(v.clone()),
        Scope::Project(v) => filter.project = Some(v.clone()),
    }
    filter
}

/// Sets (or replaces) each budget's limit for its scope and period: all of
/// them or, if one is not acceptable, none.
pub fn set_all(conn: &Connection, budgets: &[Budget]) -> Result<(), QueryError> {
    let limits = stored(budgets)?;
    crate::store::budgets::set_budgets(conn, &limits)?;
    Ok(())
}

/// Makes the budgets that came from the config file exactly `budgets`: a
/// budget removed from the file goes, one added or changed is written (and
/// replaces a `budget set` of the same scope and period), one unchanged
/// keeps its `updated_at` (the alerts of the period before depend on it).
pub fn sync_config(conn: &Connection, budgets: &[Budget]) -> Result<(), QueryError> {
    let limits = stored(budgets)?;
    crate::store::budgets::replace_config_budgets(conn, &limits)?;
    Ok(())
}

/// The rows `budgets` are stored as, once each is known to be acceptable.
fn stored(budgets: &[Budget]) -> Result<Vec<BudgetLimit>, QueryError> {
    budgets
        .iter()
        .map(|budget| {
            budget.check().map_err(QueryError::Invalid)?;
            Ok(BudgetLimit {
                scope: budget.scope.key(),
                period: budget.period.name(),
                limit_usd: budget.limit_usd,
                enforce: budget.enforce,
            })
        })
        .collect()
}

/// Removes the budgets of `scope` (every scope when `None`) for `periods`
/// (every period when empty, rows hookmeter cannot read included); returns
/// how many went.
pub fn clear(
    conn: &Connection,
    scope: Option<&Scope>,
    periods: &[Period],
) -> Result<usize, QueryError> {
    let scope = scope.map(Scope::key);
    let periods: Vec<Option<&'static str>> = match periods {
        [] => vec![None],
        some => some.iter().map(|p| Some(p.name())).collect(),
    };
    Ok(crate::store::budgets::clear_budgets(
        conn,
        scope.as_deref(),
        &periods,
    )?)
}

/// Every budget, by scope then period (daily, weekly, monthly, total, then the plan windows).
pub fn list(conn: &Connection) -> Result<Vec<Budget>, QueryError> {
    Ok(rows(conn)?.into_iter().map(|(budget, _)| budget).collect())
}

/// How many budgets the database at `db` holds, for `hookmeter config`;
/// read-only, and a database that is not there is not created.
pub fn stored_budgets(db: &std::path::Path) -> StoredBudgets {
    if matches!(std::fs::metadata(db), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
        return StoredBudgets::NoDatabase;
    }
    match crate::query::open(db).and_then(|conn| list(&conn)) {
        Ok(budgets) => StoredBudgets::Count(budgets.len()),
        Err(e) => StoredBudgets::Unreadable(e.to_string()),
    }
}

/// Every usable budget with when its limit was last changed, by scope then period.
fn rows(conn: &Connection) -> Result<Vec<(Budget, Option<Timestamp>)>, QueryError> {
    let mut budgets = Vec::new();
    for row in crate::query::budgets::budget_rows(conn)? {
        let BudgetRow {
            scope,
            period,
            limit_usd,
            enforce,
            updated_at,
        } = row;
        let scope_text = (!scope.is_empty()).then_some(scope.as_str());
        // A row written by hand that hookmeter cannot use is skipped, not fatal.
        let (Ok(scope), Some(period), true) = (
            Scope::parse(scope_text),
            Period::parse(&period),
            limit_usd.is_finite() && limit_usd > 0.0,
        ) else {
            tracing::warn!(
                scope,
                period,
                limit_usd,
                "A budget row has an unknown scope or period, or a limit that is not positive; skipped."
            );
            continue;
        };
        let budget = Budget {
            scope,
            period,
            limit_usd,
            enforce,
        };
        budgets.push((budget, updated_at.parse().ok()));
    }
    budgets.sort_by_key(|(b, _)| (b.scope.key(), b.period.rank()));
    Ok(budgets)
}

/// A budget and how much of its current period is spent.
#[derive(Debug, Clone)]
pub struct Status {
    pub budget: Budget,
    pub spent_usd: f64,
    pub period: Range,
    pub period_end: Option<Timestamp>,
}

impl Status {
    pub fn ratio(&self) -> f64 {
        self.spent_usd / self.budget.limit_usd
    }

    /// The status as it is answered: `budget status --json`, `GET
    /// /api/budgets` and MCP's `get_budget_status`.
    pub fn answer(&self) -> BudgetStatus {
        let ts = |t: Option<Timestamp>| t.map(crate::record::format_timestamp);
        BudgetStatus {
            scope: self.budget.scope.key(),
            period: self.budget.period.name().to_string(),
            limit: self.budget.limit_usd,
            spent: self.spent_usd,
            ratio: self.ratio(),
            enforce: self.budget.enforce,
            period_start: ts(self.period.from),
            period_end: ts(self.period_end),
        }
    }
}

/// A budget and the spend of its current period, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BudgetStatus {
    /// agent:NAME, task:ID, project:NAME, or "" for everything.
    pub scope: String,
    /// daily, weekly, monthly, total, or plan:five_hour / plan:seven_day.
    pub period: String,
    /// USD; for a plan window, the percentage of its use that alerts.
    pub limit: f64,
    /// USD spent in the current period; for a plan window, its use in percent.
    pub spent: f64,
    /// spent / limit.
    pub ratio: f64,
    /// Once spent, `hookmeter send` denies the scope's PreToolUse events.
    pub enforce: bool,
    pub period_start: Option<String>,
    /// null for a total budget, which never ends, and for a plan window
    /// with no use reported since its last reset.
    pub period_end: Option<String>,
}

/// Every budget's current period as of `now` in `tz`, and its spend.
pub fn status(conn: &Connection, now: Timestamp, tz: &TimeZone) -> Result<Vec<Status>, QueryError> {
    let budgets = list(conn)?;
    let mut out = Vec::with_capacity(budgets.len());
    for budget in budgets {
        if let Period::Plan(window) = budget.period {
            // A window that has reset since its last observation is unused.
            let current = plan_use(conn, window, &budget.scope, now)?.filter(|u| u.end > now);
            out.push(Status {
                spent_usd: current.map_or(0.0, |u| u.used_pct),
                period: Range {
                    from: current.map(|u| u.start),
                    to: current.map(|u| u.end),
                },
                period_end: current.map(|u| u.end),
                budget,
            });
            continue;
        }
        let (period, period_end) = current_period(budget.period, now, tz)?;
        out.push(Status {
            spent_usd: spent(conn, &budget.scope, period, tz)?,
            period,
            period_end,
            budget,
        });
    }
    Ok(out)
}

/// What `scope` spent in `range`, read as every report reads it.
fn spent(conn: &Connection, scope: &Scope, range: Range, tz: &TimeZone) -> Result<f64, QueryError> {
    Ok(summary(conn, &scope_filter(scope, range), &[], tz)?
        .totals
        .cost_usd)
}

/// The alerts not delivered, as `budget status` and `doctor` tell them:
/// nothing when every alert was delivered.
pub fn render_undelivered(undelivered: &UndeliveredAlerts, view: &View) -> String {
    let mut out = String::new();
    if undelivered.pending > 0 {
        let oldest = undelivered
            .oldest_pending_fired_at
            .as_deref()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(|t| format!(" (oldest fired {})", time::instant(t, &view.tz)))
            .unwrap_or_default();
        let error = undelivered
            .last_error
            .as_deref()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} not delivered yet, still tried{oldest}{error}.\n",
            crate::present::counted(undelivered.pending as u64, "alert", "alerts")
        ));
    }
    if undelivered.given_up > 0 {
        let reason = undelivered
            .last_given_up_reason
            .as_deref()
            .map(|r| format!("; the latest: {r}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} given up, never delivered (only in the log and the alerts table){reason}.\n",
            crate::present::counted(undelivered.given_up as u64, "alert", "alerts")
        ));
    }
    out
}

/// `budget status` as a table, times in the zone of `view`.
pub fn render(statuses: &[Status], view: &View) -> String {
    if statuses.is_empty() {
        return "No budgets. Set one with `hookmeter budget set --daily 10`.\n".to_string();
    }
    let mut t = Table::new()
        .text("scope")
        .text("period")
        .number("spent")
        .number("limit")
        .number("used")
        .fixed("period ends")
        .text("enforced");
    // Spent and limit are read against each other: one set of amounts.
    let money = MoneySet::of(
        statuses
            .iter()
            .filter(|s| s.budget.limit_pct().is_none())
            .flat_map(|s| [s.spent_usd, s.budget.limit_usd]),
    );
    let amount = |s: &Status, value: f64| match s.budget.limit_pct() {
        Some(_) => format!("{value:.0}%"),
        None => money.show(value),
    };
    for s in statuses {
        let scope = s.budget.scope.key();
        t.row([
            if scope.is_empty() {
                "(all)".to_string()
            } else {
                scope
            },
            s.budget.period.name().to_string(),
            amount(s, s.spent_usd),
            amount(s, s.budget.limit_usd),
            format!("{:.1}%", 100.0 * s.ratio()),
            match (s.period_end, s.budget.limit_pct()) {
                (Some(t), _) => time::cell(t, &view.tz),
                // No use reported since the window last reset.
                (None, Some(_)) => "-".to_string(),
                (None, None) => "never".to_string(),
            },
            if s.budget.enforce { "yes" } else { "no" }.to_string(),
        ]);
    }
    let ends: Vec<Timestamp> = statuses.iter().filter_map(|s| s.period_end).collect();
    format!(
        "{}\n{}",
        time::zone_note(&view.tz, &ends),
        t.render(view.width)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_answer_fits_its_schema() {
        let now: Timestamp = "2026-09-16T08:00:00Z".parse().unwrap();
        for (scope, period) in [
            (Scope::Agent("codex".into()), Period::Daily),
            (Scope::All, Period::Total),
        ] {
            let (range, period_end) = current_period(period, now, &TimeZone::UTC).unwrap();
            let status = Status {
                budget: Budget {
                    scope,
                    period,
                    limit_usd: 10.0,
                    enforce: true,
                },
                spent_usd: 2.5,
                period: range,
                period_end,
            };
            crate::query::schema_check::assert_answer_fits_schema(&status.answer());
        }
    }

    #[test]
    fn periods_start_and_end_on_the_calendar_of_the_zone() {
        // Wednesday 2026-09-16 10:00 in Paris (UTC+2).
        let now: Timestamp = "2026-09-16T08:00:00Z".parse().unwrap();
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let shown = |p: Period| {
            let (range, end) = current_period(p, now, &paris).unwrap();
            (
                range.from.map(|t| t.to_string()),
                end.map(|t| t.to_string()),
            )
        };
        let some = |a: &str, b: &str| (Some(a.to_string()), Some(b.to_string()));
        assert_eq!(
            shown(Period::Daily),
            some("2026-09-15T22:00:00Z", "2026-09-16T22:00:00Z")
        );
        assert_eq!(
            shown(Period::Weekly),
            some("2026-09-13T22:00:00Z", "2026-09-20T22:00:00Z")
        );
        assert_eq!(
            shown(Period::Monthly),
            some("2026-08-31T22:00:00Z", "2026-09-30T22:00:00Z")
        );
        assert_eq!(shown(Period::Total), (None, None));
    }

    #[test]
    fn rows_written_by_hand_that_cannot_be_used_are_skipped() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        conn.execute_batch(
            "INSERT INTO budgets (scope, period, limit_usd, updated_at)
                 VALUES ('', 'daily', 10, 'x'), ('', 'hourly', 1, 'x'),
                 ('team:red', 'daily', 1, 'x'), ('agent:a', 'daily', 0, 'x'),
                 ('agent:b', 'weekly', -3, 'x');",
        )
        .unwrap();
        let kept = list(&conn).unwrap();
        assert_eq!(
            kept,
            [Budget {
                scope: Scope::All,
                period: Period::Daily,
                limit_usd: 10.0,
                enforce: false
            }]
        );
        let now = Timestamp::now();
        let shown = status(&conn, now, &TimeZone::UTC).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].ratio(), 0.0);
    }

    #[test]
    fn scopes_parse_and_print_back() {
        for text in ["agent:claude-code", "task:T-1", "project:shop"] {
            assert_eq!(Scope::parse(Some(text)).unwrap().key(), text);
        }
        assert_eq!(Scope::parse(None).unwrap(), Scope::All);
        for bad in ["agent", "agent:", "team:red", ":x"] {
            assert!(Scope::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
