//! What the budget checks read of the `budgets` and `alerts` tables: the
//! stored budgets as rows, and whether an alert was recorded already. What
//! the rows mean, and how much of a budget is spent, is
//! [`crate::budget`]'s (spend is a [`super::summary()`] like any report's).

use rusqlite::{params, Connection};

use crate::store::budgets::AlertKey;

/// A row of the `budgets` table as stored, whether or not hookmeter can use
/// it (a row written by hand may name an unknown scope or period).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    pub scope: String,
    pub period: String,
    pub limit_usd: f64,
    pub enforce: bool,
    /// When the limit was last changed, as stored.
    pub updated_at: String,
}

/// Every row of the `budgets` table, in no particular order.
pub fn budget_rows(conn: &Connection) -> rusqlite::Result<Vec<BudgetRow>> {
    let mut stmt =
        conn.prepare("SELECT scope, period, limit_usd, enforce, updated_at FROM budgets")?;
    let rows = stmt.query_map([], |r| {
        Ok(BudgetRow {
            scope: r.get(0)?,
            period: r.get(1)?,
            limit_usd: r.get(2)?,
            enforce: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The items of `alerts` whose alert (named by `key`) the `alerts` table
/// does not hold yet.
pub fn unrecorded_alerts<T>(
    conn: &Connection,
    alerts: Vec<T>,
    key: impl Fn(&T) -> AlertKey,
) -> rusqlite::Result<Vec<T>> {
    let mut known = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM alerts WHERE scope = ?1 AND period = ?2
             AND period_start = ?3 AND limit_usd = ?4 AND threshold_pct = ?5)",
    )?;
    let mut new = Vec::new();
    for alert in alerts {
        let k = key(&alert);
        let fired: bool = known.query_row(
            params![
                k.scope,
                k.period,
                k.period_start,
                k.limit_usd,
                k.threshold_pct
            ],
            |r| r.get(0),
        )?;
        if !fired {
            new.push(alert);
        }
    }
    Ok(new)
}

/// An alert still to deliver, as the `alerts` table holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAlert {
    /// The row id: the alert's id, which receivers see.
    pub id: i64,
    pub fired_at: String,
    pub attempts: i64,
    /// `None`: at once.
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    /// The JSON `{text, env}` recorded when it fired.
    pub message: String,
}

/// The alerts waiting for delivery, in the order they fired.
pub fn pending_alerts(conn: &Connection) -> rusqlite::Result<Vec<PendingAlert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, fired_at, attempts, next_attempt_at, last_error, coalesce(message, '{}')
         FROM alerts
         WHERE delivery = 'pending' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PendingAlert {
            id: r.get(0)?,
            fired_at: r.get(1)?,
            attempts: r.get(2)?,
            next_attempt_at: r.get(3)?,
            last_error: r.get(4)?,
            message: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Alerts not delivered: those still tried and those given up.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct UndeliveredAlerts {
    /// Alerts still being tried.
    pub pending: i64,
    /// When the oldest of them fired (RFC 3339 UTC).
    pub oldest_pending_fired_at: Option<String>,
    /// The latest error of a pending alert (the webhook URL left out).
    pub last_error: Option<String>,
    /// Alerts given up: not delivered within `alerts.deliver_for_secs`.
    pub given_up: i64,
    /// Why the latest one was given up.
    pub last_given_up_reason: Option<String>,
}

/// How many alerts are not delivered, and why.
pub fn undelivered_alerts(conn: &Connection) -> rusqlite::Result<UndeliveredAlerts> {
    conn.query_row(
        "SELECT
             (SELECT count(*) FROM alerts WHERE delivery = 'pending'),
             (SELECT min(fired_at) FROM alerts WHERE delivery = 'pending'),
             (SELECT last_error FROM alerts WHERE delivery = 'pending' AND last_error IS NOT NULL
                  ORDER BY last_attempt_at DESC, id DESC LIMIT 1),
             (SELECT count(*) FROM alerts WHERE delivery = 'given_up'),
             (SELECT last_error FROM alerts WHERE delivery = 'given_up' ORDER BY id DESC LIMIT 1)",
        [],
        |r| {
            Ok(UndeliveredAlerts {
                pending: r.get(0)?,
                oldest_pending_fired_at: r.get(1)?,
                last_error: r.get(2)?,
                given_up: r.get(3)?,
                last_given_up_reason: r.get(4)?,
            })
        },
    )
}
