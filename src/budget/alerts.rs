//! Budget thresholds: which have been crossed, recording each crossing once
//! (the `alerts` table, so a restart does not fire it again), and the
//! [`Guard`] that enforcement asks whether a scope's budget is spent.
//!
//! The [`Watcher`] is the daemon's side: it checks spend at start (so a
//! crossing that happened while the daemon was down is not missed), after
//! commits that changed spend, on a timer and on SIGHUP; it never writes
//! except through the writer thread, and never blocks ingestion.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::Connection;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use super::crossing::Crossing;
use super::notify::{self, Notifier};
use super::{Budget, Period, PlanWindow, Scope};
use crate::config::AlertSettings;
use crate::present::MoneySet;
use crate::query::QueryError;
use crate::store::writer::WriterHandle;

/// Records landing in a burst are checked once: the first wakes the
/// watcher, which waits this long for the rest before reading spend.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// An enforced budget whose current period is spent.
#[derive(Debug, Clone)]
pub struct Spent {
    pub scope: Scope,
    /// When the period ends and the scope may spend again; `None` for a total.
    pub until: Option<Timestamp>,
    /// What the agent is told.
    pub reason: String,
}

/// What one check found.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Every threshold reached, lowest first per budget; most fired before.
    pub crossings: Vec<Crossing>,
    pub spent: Vec<Spent>,
}

/// Spend of every budget's current period and, for a calendar budget that
/// already existed then, of the period before: records that reach the
/// database late (a spool drained at start, after midnight) can cross a
/// threshold of a period that has just ended.
pub fn evaluate(
    conn: &Connection,
    now: Timestamp,
    tz: &TimeZone,
    thresholds_pct: &[f64],
) -> Result<Evaluation, QueryError> {
    let mut found = Evaluation::default();
    for (budget, updated_at) in super::rows(conn)? {
        if let Period::Plan(window) = budget.period {
            plan_window(conn, &budget, window, now, tz, &mut found)?;
            continue;
        }
        let (current, end) = super::current_period(budget.period, now, tz)?;
        let mut periods = vec![(current, end)];
        if let Some(start) = current.from.filter(|&s| updated_at.is_some_and(|t| t < s)) {
            let (before, _) = super::current_period(budget.period, start - 1.millisecond(), tz)?;
            periods.push((before.narrowed(None, Some(start)), Some(start)));
        }
        for (i, (range, end)) in periods.into_iter().enumerate() {
            let spent_usd = super::spent(conn, &budget.scope, range, tz)?;
            for &threshold_pct in thresholds_pct {
                if spent_usd >= budget.limit_usd * threshold_pct / 100.0 {
                    found.crossings.push(Crossing {
                        budget: budget.clone(),
                        period_start: range.from,
                        period_end: end,
                        threshold_pct,
                        spent_usd,
                    });
                }
            }
            if i == 0 && budget.enforce && spent_usd >= budget.limit_usd {
                found.spent.push(Spent {
                    scope: budget.scope.clone(),
                    until: end,
                    reason: deny_reason(&budget, spent_usd, end, tz),
                });
            }
        }
    }
    Ok(found)
}

/// A plan budget's one threshold is its own `--at`: the dollar thresholds
/// of `[alerts]` do not scale it. Its crossing is recorded as 100 % of that
/// limit, once per window (keyed by the window's start), so it fires again
/// after a reset. The latest observation counts even when its window has
/// ended since: a handoff drained late still alerts, once.
fn plan_window(
    conn: &Connection,
    budget: &Budget,
    window: PlanWindow,
    now: Timestamp,
    tz: &TimeZone,
    found: &mut Evaluation,
) -> Result<(), QueryError> {
    let Some(used) = super::plan_use(conn, window, &budget.scope, now)? else {
        return Ok(());
    };
    if used.used_pct < budget.limit_usd {
        return Ok(());
    }
    found.crossings.push(Crossing {
        budget: budget.clone(),
        period_start: Some(used.start),
        period_end: Some(used.end),
        threshold_pct: 100.0,
        spent_usd: used.used_pct,
    });
    if budget.enforce && used.end > now {
        found.spent.push(Spent {
            scope: budget.scope.clone(),
            until: Some(used.end),
            reason: deny_reason(budget, used.used_pct, Some(used.end), tz),
        });
    }
    Ok(())
}

fn deny_reason(budget: &Budget, spent: f64, end: Option<Timestamp>, tz: &TimeZone) -> String {
    let scope = match budget.scope.key() {
        key if key.is_empty() => "all agents".to_string(),
        key => key,
    };
    let resets = match end {
        Some(end) => format!("; it resets at {}", crate::present::time::instant(end, tz)),
        None => String::new(),
    };
    if let Period::Plan(window) = budget.period {
        return format!(
            "hookmeter: the {} plan window of {scope} is at {spent:.0}% (the budget stops at {:.0}%){resets}. \
             Raise it with `hookmeter budget set --plan {} --at` to continue.",
            window.label(),
            budget.limit_usd,
            window.name()
        );
    }
    let money = MoneySet::of([spent, budget.limit_usd]);
    format!(
        "hookmeter: the {} budget of {scope} is spent ({} of {}){resets}. \
         Raise it with `hookmeter budget set` to continue.",
        budget.period.name(),
        money.show(spent),
        money.show(budget.limit_usd)
    )
}

/// The crossings the `alerts` table does not hold yet. Read on the checker's
/// own connection, so a check that finds nothing new asks nothing of the
/// writer.
pub fn unrecorded(conn: &Connection, crossings: Vec<Crossing>) -> rusqlite::Result<Vec<Crossing>> {
    crate::query::budgets::unrecorded_alerts(conn, crossings, Crossing::key)
}

/// Writes the crossings not recorded before, each with the message to
/// deliver (`None`: nowhere to send it), and returns them with their ids:
/// the alerts to announce. One transaction, so a crash cannot half-record.
pub fn record(
    conn: &mut Connection,
    crossings: Vec<Crossing>,
    now: Timestamp,
    message: impl Fn(&Crossing) -> Option<String>,
) -> rusqlite::Result<Vec<(i64, Crossing)>> {
    crate::store::budgets::record_alerts(
        conn,
        crossings,
        now,
        Crossing::key,
        |c| c.spent_usd,
        message,
    )
}

/// The enforced budgets that are spent now, as the last check found them;
/// shared by the watcher (which writes) and the ingest edges (which ask).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    spent: Arc<RwLock<Vec<Spent>>>,
}

impl Guard {
    fn replace(&self, spent: Vec<Spent>) {
        *self.spent.write().unwrap_or_else(|p| p.into_inner()) = spent;
    }

    /// Why a tool use by `agent` (in `task`, `project`) must be denied now,
    /// if a budget covering it is enforced and spent.
    pub fn deny(
        &self,
        agent: &str,
        task: Option<&str>,
        project: Option<&str>,
        now: Timestamp,
    ) -> Option<String> {
        let spent = self.spent.read().unwrap_or_else(|p| p.into_inner());
        spent
            .iter()
            .find(|s| s.until.is_none_or(|end| now < end) && s.scope.covers(agent, task, project))
            .map(|s| s.reason.clone())
    }
}

/// The daemon's budget checker.
pub struct Watcher {
    pub db: PathBuf,
    pub writer: WriterHandle,
    pub guard: Guard,
    pub notifier: Notifier,
    /// The `[alerts]` settings in force; SIGHUP sends new ones, which also
    /// asks for a check at once.
    pub settings: watch::Receiver<AlertSettings>,
}

impl Watcher {
    /// Checks at once, then whenever spend changes, settings change or the
    /// interval passes, until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let stats = self.writer.stats().clone();
        let mut conn = None;
        loop {
            conn = self.check(conn).await;
            let interval = self.settings.borrow().check_interval;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = stats.spend_changed.notified() => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(SETTLE) => {}
                    }
                }
                changed = self.settings.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One check: update the guard first (so a recorded alert implies the
    /// guard already knows), then record and announce new crossings. Gives
    /// back the read connection for the next check.
    async fn check(&self, conn: Option<Connection>) -> Option<Connection> {
        let settings = self.settings.borrow().clone();
        let db = self.db.clone();
        let now = Timestamp::now();
        let tz = settings.tz.clone();
        let thresholds = settings.thresholds_pct.clone();
        let read = tokio::task::spawn_blocking(move || {
            let conn = match conn {
                Some(conn) => conn,
                None => crate::store::open_reader(&db).map_err(|e| e.to_string())?,
            };
            let found = evaluate(&conn, now, &tz, &thresholds)
                .and_then(|mut found| {
                    found.crossings = unrecorded(&conn, found.crossings)?;
                    Ok(found)
                })
                .map_err(|e| e.to_string());
            Ok::<_, String>((conn, found))
        })
        .await;
        let (conn, found) = match read {
            Ok(Ok((conn, Ok(found)))) => (Some(conn), found),
            Ok(Ok((conn, Err(e)))) => {
                tracing::warn!(error = %e, "Cannot read budget spend; the check is retried later.");
                return Some(conn);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Cannot open the database to check budgets.");
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "The budget check failed.");
                return None;
            }
        };
        self.guard.replace(found.spent);
        let new = if found.crossings.is_empty() {
            Vec::new()
        } else {
            match self.record(found.crossings, now, &settings).await {
                Some(new) => new,
                None => return conn,
            }
        };
        tracing::debug!(new_alerts = new.len(), "Budgets checked.");
        for (id, crossing) in &new {
            let text = crossing.text(now, &settings.tz);
            tracing::warn!(
                alert_id = id,
                scope = crossing.budget.scope.key(),
                period = crossing.budget.period.name(),
                threshold_pct = crossing.threshold_pct,
                spent_usd = crossing.spent_usd,
                limit_usd = crossing.budget.limit_usd,
                "{text}"
            );
        }
        if !new.is_empty() && notify::has_targets(&settings) {
            self.notifier.wake();
        }
        conn
    }

    /// Records `crossings` through the writer, each with the message the
    /// notifier will send; the new ones, or `None` when they could not be
    /// recorded (the next check tries again).
    async fn record(
        &self,
        crossings: Vec<Crossing>,
        now: Timestamp,
        settings: &AlertSettings,
    ) -> Option<Vec<(i64, Crossing)>> {
        let tz = settings.tz.clone();
        let deliver = notify::has_targets(settings);
        let message = move |c: &Crossing| deliver.then(|| notify::message(c, &c.text(now, &tz)));
        match self
            .writer
            .run(move |conn| record(conn, crossings, now, message))
            .await
        {
            Ok(Ok(new)) => Some(new),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "Cannot record budget alerts; they will be tried again at the next check.");
                None
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with(records: &[(&str, &str, f64)], budgets: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        for (i, (ts, agent, cost)) in records.iter().enumerate() {
            conn.execute(
                "INSERT INTO cost_records (timestamp, agent_id, provider, model, estimated_cost_usd,
                     pricing_source, hook_event_id, source)
                 VALUES (?1, ?2, 'anthropic', 'm', ?3, 'embedded', ?4, 'hook')",
                rusqlite::params![ts, agent, cost, format!("e{i}")],
            )
            .unwrap();
        }
        crate::store::rollup::rebuild(&conn).unwrap();
        conn.execute_batch(budgets).unwrap();
        conn
    }

    #[test]
    fn thresholds_cross_in_the_current_and_the_previous_period() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let conn = db_with(
            &[
                ("2026-11-23T23:59:00.000Z", "a", 9.5), // yesterday: 95 %
                ("2026-11-24T09:00:00.000Z", "a", 8.0), // today: 80 %
                ("2026-11-24T09:30:00.000Z", "b", 5.0),
            ],
            "INSERT INTO budgets (scope, period, limit_usd, updated_at, enforce)
                 VALUES ('agent:a', 'daily', 10, '2026-11-01T00:00:00.000Z', 1),
                        ('agent:b', 'daily', 4, '2026-11-24T08:00:00.000Z', 1);",
        );
        let found = evaluate(&conn, now, &TimeZone::UTC, &[80.0, 100.0]).unwrap();
        let shown: Vec<(String, Option<String>, f64)> = found
            .crossings
            .iter()
            .map(|c| {
                (
                    c.budget.scope.key(),
                    c.period_start.map(|t| t.to_string()),
                    c.threshold_pct,
                )
            })
            .collect();
        let day = |d: &str| Some(format!("2026-11-{d}T00:00:00Z"));
        assert_eq!(
            shown,
            [
                ("agent:a".into(), day("24"), 80.0),
                ("agent:a".into(), day("23"), 80.0),
                // b was set today: yesterday is not its business.
                ("agent:b".into(), day("24"), 80.0),
                ("agent:b".into(), day("24"), 100.0),
            ]
        );
        // Only b is enforced and spent.
        assert_eq!(found.spent.len(), 1);
        let guard = Guard::default();
        guard.replace(found.spent);
        assert!(guard.deny("b", None, None, now).is_some());
        assert!(guard.deny("a", None, None, now).is_none());
        let tomorrow: Timestamp = "2026-11-25T00:00:00Z".parse().unwrap();
        assert!(guard.deny("b", None, None, tomorrow).is_none(), "a new day");
    }

    #[test]
    fn a_crossing_is_recorded_once_and_a_new_limit_rearms_it() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let mut conn = db_with(
            &[("2026-11-24T09:00:00.000Z", "a", 12.0)],
            "INSERT INTO budgets (scope, period, limit_usd, updated_at)
                 VALUES ('', 'daily', 10, '2026-11-24T08:00:00.000Z');",
        );
        let check = |conn: &mut Connection| {
            let found = evaluate(conn, now, &TimeZone::UTC, &[80.0, 100.0]).unwrap();
            let unseen = unrecorded(conn, found.crossings.clone()).unwrap();
            let new: Vec<Crossing> = record(conn, found.crossings, now, |_| None)
                .unwrap()
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            assert_eq!(unseen, new, "the read-side filter agrees with the insert");
            new.len()
        };
        assert_eq!(check(&mut conn), 2);
        assert_eq!(check(&mut conn), 0, "already fired");
        conn.execute("UPDATE budgets SET limit_usd = 14", [])
            .unwrap();
        assert_eq!(check(&mut conn), 1, "80 % of the new limit; not yet 100 %");
    }

    fn db_with_plan(rows: &[(&str, &str, &str, f64, Option<&str>)], budgets: &str) -> Connection {
        let conn = db_with(&[], budgets);
        for (observed_at, agent, window, used, resets_at) in rows {
            conn.execute(
                "INSERT INTO plan_usage (observed_at, agent_id, window, used_pct, resets_at, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'claude_statusline')",
                rusqlite::params![observed_at, agent, window, used, resets_at],
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn a_plan_budget_watches_the_highest_use_and_its_window_from_the_reset() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let conn = db_with_plan(
            &[
                (
                    "2026-11-24T09:00:00.000Z",
                    "a",
                    "five_hour",
                    95.0,
                    Some("2026-11-24T12:00:00.000Z"),
                ),
                (
                    "2026-11-24T09:30:00.000Z",
                    "a",
                    "five_hour",
                    40.0,
                    Some("2026-11-24T12:00:00.000Z"),
                ),
                // No reset reported: the window is the observation's, floored.
                ("2026-11-24T09:40:00.000Z", "b", "five_hour", 85.0, None),
                ("2026-11-24T09:40:00.000Z", "b", "seven_day", 99.0, None),
            ],
            "INSERT INTO budgets (scope, period, limit_usd, updated_at, enforce)
                 VALUES ('', 'plan:five_hour', 80, 'x', 1),
                        ('agent:a', 'plan:five_hour', 30, 'x', 0);",
        );
        let found = evaluate(&conn, now, &TimeZone::UTC, &[50.0, 100.0]).unwrap();
        let shown: Vec<(String, String, String, f64, f64)> = found
            .crossings
            .iter()
            .map(|c| {
                (
                    c.budget.scope.key(),
                    c.period_start.unwrap().to_string(),
                    c.period_end.unwrap().to_string(),
                    c.threshold_pct,
                    c.spent_usd,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                // Everything: b's 85 % (a's latest is 40 %), in the 5 hours
                // counted from the Unix epoch that hold 09:40.
                (
                    "".into(),
                    "2026-11-24T06:00:00Z".into(),
                    "2026-11-24T11:00:00Z".into(),
                    100.0,
                    85.0
                ),
                (
                    "agent:a".into(),
                    "2026-11-24T07:00:00Z".into(),
                    "2026-11-24T12:00:00Z".into(),
                    100.0,
                    40.0
                ),
            ]
        );
        // Enforced for everything: denied until the window resets.
        let guard = Guard::default();
        guard.replace(found.spent);
        let reason = guard.deny("c", None, None, now).unwrap();
        assert!(
            reason.contains("5-hour plan window of all agents is at 85%"),
            "{reason}"
        );
        let reset: Timestamp = "2026-11-24T11:00:00Z".parse().unwrap();
        assert!(guard.deny("c", None, None, reset).is_none());
        let later = evaluate(&conn, reset, &TimeZone::UTC, &[]).unwrap();
        assert!(later.spent.is_empty(), "the window has reset");
    }

    #[test]
    fn the_alert_text_names_the_budget_the_numbers_and_the_period() {
        let crossing = Crossing {
            budget: Budget {
                scope: Scope::Agent("claude-code".into()),
                period: Period::Daily,
                limit_usd: 10.0,
                enforce: false,
            },
            period_start: Some("2026-11-24T00:00:00Z".parse().unwrap()),
            period_end: Some("2026-11-25T00:00:00Z".parse().unwrap()),
            threshold_pct: 80.0,
            spent_usd: 8.126,
        };
        let now = "2026-11-24T12:00:00Z".parse().unwrap();
        assert_eq!(
            crossing.text(now, &TimeZone::UTC),
            "hookmeter: the daily budget of agent:claude-code reached 80%: $8.13 of $10.00 spent (period ends 2026-11-25 00:00 +00:00)."
        );
    }
}
