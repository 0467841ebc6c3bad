//! `hookmeter budget set | status | clear`: a command's flags, already
//! parsed, in; the text to print or the one-line error out (the binary
//! prints the error after `hookmeter: ` and exits 2).
//!
//! Owns what the commands say; the budgets themselves, their storage and
//! how much is spent stay in [`crate::budget`]. Must never parse flags or
//! print: that is the binary's.

use crate::budget::{self, Budget, Period, Scope};
use crate::config::Config;
use crate::present::View;

/// `--scope`: `all` (or none) for everything, else `agent:`, `task:`, `project:`.
fn scope(text: Option<&str>) -> Result<Scope, String> {
    match text {
        Some("all") => Ok(Scope::All),
        other => Scope::parse(other).map_err(|e| format!("--scope: {e}")),
    }
}

/// `budget set`; `limits` in the order of `Period::ALL` (daily, weekly,
/// monthly, total).
pub fn set(
    config: &Config,
    scope_text: Option<&str>,
    limits: [Option<f64>; 4],
    enforce: bool,
) -> Result<String, String> {
    let scope = scope(scope_text)?;
    let budgets = Budget::per_period(&scope, limits, enforce);
    if budgets.is_empty() {
        return Err("give at least one of --daily, --weekly, --monthly, --total".into());
    }
    let conn =
        crate::store::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    budget::set_all(&conn, &budgets).map_err(|e| e.to_string())?;
    let key = scope.key();
    let whose = if key.is_empty() { "everything" } else { &key };
    Ok(budgets
        .iter()
        .map(|b| {
            format!(
                "{} budget of {whose} set to {}{}\n",
                b.period.name(),
                crate::present::usd(b.limit_usd),
                if b.enforce { ", enforced" } else { "" }
            )
        })
        .collect())
}

/// `budget status`, seen in `view` (its zone decides the periods).
pub fn status(config: &Config, view: &View, json: bool) -> Result<String, String> {
    let conn = crate::query::open(&config.db).map_err(|e| e.explained(config))?;
    let statuses =
        budget::status(&conn, jiff::Timestamp::now(), &view.tz).map_err(|e| e.to_string())?;
    Ok(if json {
        let list: Vec<_> = statuses.iter().map(budget::Status::answer).collect();
        format!("{:#}\n", crate::query::json(&list))
    } else {
        budget::render(&statuses, view)
    })
}

/// `budget clear`; `periods` in the order of `Period::ALL`, none named
/// meaning every period.
pub fn clear(
    config: &Config,
    scope_text: Option<&str>,
    periods: [bool; 4],
) -> Result<String, String> {
    let scope = scope_text.map(|s| scope(Some(s))).transpose()?;
    let periods: Vec<Period> = Period::ALL
        .into_iter()
        .zip(periods)
        .filter_map(|(period, named)| named.then_some(period))
        .collect();
    if !config.db.exists() {
        return Ok("No budgets to clear.\n".to_string());
    }
    let conn =
        crate::store::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    let removed = budget::clear(&conn, scope.as_ref(), &periods).map_err(|e| e.to_string())?;
    Ok(format!(
        "{} cleared.\n",
        crate::present::counted(removed as u64, "budget", "budgets")
    ))
}
