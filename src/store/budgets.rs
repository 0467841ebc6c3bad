//! The writes of the `budgets` and `alerts` tables: budget limits set,
//! replaced and cleared, and budget alerts recorded once each. What a
//! budget means (its scope, its period, whether a limit is acceptable) is
//! [`crate::budget`]'s; here a budget is the row it is stored as.

use jiff::Timestamp;
use rusqlite::{params, Connection};

use crate::record::format_timestamp;

/// A budget limit as the `budgets` table keys and stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLimit {
    /// The scope's key (`agent:NAME`, `task:ID`, `project:PATH`; `""` for
    /// everything).
    pub scope: String,
    /// The period's name (`daily`, `weekly`, `monthly`, `total`).
    pub period: &'static str,
    pub limit_usd: f64,
    pub enforce: bool,
}

/// Where a stored budget came from: `budget set`, or the config file (whose
/// budgets are replaced as a whole when it is read again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cli,
    Config,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Cli => "cli",
            Origin::Config => "config",
        }
    }
}

/// Sets (or replaces) each limit for its scope and period, in one
/// transaction: all of them or none.
pub fn set_budgets(conn: &Connection, limits: &[BudgetLimit]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    for limit in limits {
        set(&tx, limit, Origin::Cli)?;
    }
    tx.commit()
}

/// Makes the budgets that came from the config file exactly `limits`: one
/// no longer there goes, one added or changed is written (and replaces a
/// `budget set` of the same scope and period), one unchanged keeps its
/// `updated_at` (the alerts of the period before depend on it).
pub fn replace_config_budgets(conn: &Connection, limits: &[BudgetLimit]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE budgets SET origin = 'config-gone' WHERE origin = 'config'",
        [],
    )?;
    for limit in limits {
        set(&tx, limit, Origin::Config)?;
    }
    tx.execute("DELETE FROM budgets WHERE origin = 'config-gone'", [])?;
    tx.commit()
}

/// Sets (or replaces) one limit; `updated_at` moves only when the limit or
/// its enforcement changed.
fn set(conn: &Connection, limit: &BudgetLimit, origin: Origin) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO budgets (scope, period, limit_usd, updated_at, enforce, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (scope, period) DO UPDATE SET
             updated_at = CASE WHEN limit_usd = excluded.limit_usd AND enforce = excluded.enforce
                               THEN updated_at ELSE excluded.updated_at END,
             limit_usd = excluded.limit_usd, enforce = excluded.enforce, origin = excluded.origin",
        params![
            limit.scope,
            limit.period,
            limit.limit_usd,
            format_timestamp(Timestamp::now()),
            limit.enforce,
            origin.name()
        ],
    )?;
    Ok(())
}

/// Removes the budgets of `scope` (every scope when `None`) for each of
/// `periods` (every period when `None`, rows hookmeter cannot read
/// included); returns how many went.
pub fn clear_budgets(
    conn: &Connection,
    scope: Option<&str>,
    periods: &[Option<&str>],
) -> rusqlite::Result<usize> {
    let mut removed = 0;
    for period in periods {
        removed += conn.execute(
            "DELETE FROM budgets WHERE (?1 IS NULL OR scope = ?1) AND (?2 IS NULL OR period = ?2)",
            params![scope, period],
        )?;
    }
    Ok(removed)
}

/// What makes an alert the same alert: the `alerts` table's unique key.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertKey {
    /// The budget's scope key.
    pub scope: String,
    /// The budget's period name.
    pub period: &'static str,
    /// The start of the period it fired in; `""` for a total budget.
    pub period_start: String,
    pub limit_usd: f64,
    /// Percent of the limit: 80 is 80 %.
    pub threshold_pct: f64,
}

/// Records each alert of `alerts` the table does not hold yet (`key` names
/// it, `spent` is what it records as spent, `message` what is to be sent:
/// `None` when there is nowhere to send it) and returns those with their
/// row ids, the alerts' stable ids: the alerts to announce. One
/// transaction, so a crash cannot half-record.
pub fn record_alerts<T>(
    conn: &mut Connection,
    alerts: Vec<T>,
    now: Timestamp,
    key: impl Fn(&T) -> AlertKey,
    spent: impl Fn(&T) -> f64,
    message: impl Fn(&T) -> Option<String>,
) -> rusqlite::Result<Vec<(i64, T)>> {
    let tx = conn.transaction()?;
    let mut new = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO alerts (scope, period, period_start, limit_usd, threshold_pct, spent_usd,
                 fired_at, delivery, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT DO NOTHING",
        )?;
        for alert in alerts {
            let k = key(&alert);
            let message = message(&alert);
            let delivery = match message {
                Some(_) => "pending",
                None => "logged",
            };
            let inserted = insert.execute(params![
                k.scope,
                k.period,
                k.period_start,
                k.limit_usd,
                k.threshold_pct,
                spent(&alert),
                format_timestamp(now),
                delivery,
                message,
            ])?;
            if inserted == 1 {
                new.push((tx.last_insert_rowid(), alert));
            }
        }
    }
    tx.commit()?;
    Ok(new)
}

/// What became of one try to deliver an alert.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// Every target took it.
    Delivered,
    /// A target failed; tried again at `next`.
    Failed { error: String, next: Timestamp },
    /// Not tried again, for `reason`.
    GivenUp { reason: String },
}

/// Stores what became of alert `id`'s delivery at `now`. `attempted` is
/// false when no target was tried (giving up on an expired alert).
pub fn record_delivery(
    conn: &Connection,
    id: i64,
    now: Timestamp,
    attempted: bool,
    outcome: &DeliveryOutcome,
) -> rusqlite::Result<()> {
    let now = format_timestamp(now);
    let tried = i64::from(attempted);
    match outcome {
        DeliveryOutcome::Delivered => conn.execute(
            "UPDATE alerts SET delivery = 'delivered', attempts = attempts + ?2,
                 last_attempt_at = ?3, next_attempt_at = NULL, delivered_at = ?3
             WHERE id = ?1",
            params![id, tried, now],
        ),
        DeliveryOutcome::Failed { error, next } => conn.execute(
            "UPDATE alerts SET attempts = attempts + ?2, last_attempt_at = ?3,
                 next_attempt_at = ?4, last_error = ?5
             WHERE id = ?1 AND delivery = 'pending'",
            params![id, tried, now, format_timestamp(*next), error],
        ),
        DeliveryOutcome::GivenUp { reason } => conn.execute(
            "UPDATE alerts SET delivery = 'given_up', attempts = attempts + ?2,
                 last_attempt_at = CASE WHEN ?2 = 1 THEN ?3 ELSE last_attempt_at END,
                 next_attempt_at = NULL, last_error = ?4
             WHERE id = ?1 AND delivery = 'pending'",
            params![id, tried, now, reason],
        ),
    }?;
    Ok(())
}
