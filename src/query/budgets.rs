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
