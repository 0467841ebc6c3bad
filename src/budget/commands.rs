//! `hookmeter budget set | status | clear`: a command's flags, already
//! parsed, in; the text to print or the one-line error out (the binary
//! prints the error after `hookmeter: ` and exits 2).
//!
//! Owns what the commands say; the budgets themselves, their storage and
//! how much is spent stay in [`crate::budget`]. Must never parse flags or
//! print: that is the binary's.

use crate::budget::{self, Budget, Period, PlanWindow, Scope};
use crate::config::Config;
use crate::present::View;

/// `--scope`: `all` (or none) for everything, else `agent:`, `task:`, `project:`.
fn scope(text: Option<&str>) -> Result<Scope, String> {
    match text {
        Some("all") => Ok(Scope::All),
        other => Scope::parse(other).map_err(|e| format!("--scope: {e}")),
    }
}

/// `--plan`: a plan window by the name `plan_usage` keeps.
fn plan_window(text: &str) -> Result<PlanWindow, String> {
    PlanWindow::parse(text)
        .ok_or_else(|| format!("--plan {text:?}: expected five_hour or seven_day"))
}

/// A plan budget's flags: the window and the percentage that alerts.
pub struct PlanFlags<'a> {
    pub window: &'a str,
    pub at_pct: Option<f64>,
}

/// `budget set`; `limits` in the order of `Period::ALL` (daily, weekly,
/// monthly, total); `plan` a budget on a plan window instead.
pub fn set(
    config: &Config,
    scope_text: Option<&str>,
    limits: [Option<f64>; 4],
    plan: Option<PlanFlags<'_>>,
    enforce: bool,
) -> Result<String, String> {
    let scope = scope(scope_text)?;
    let budgets = match plan {
        Some(PlanFlags { window, at_pct }) => {
            let window = plan_window(window)?;
            let at_pct = at_pct.ok_or("--plan needs --at PCT: the use, in percent, that alerts")?;
            vec![Budget::plan(&scope, window, at_pct, enforce)]
        }
        None => Budget::per_period(&scope, limits, enforce),
    };
    if budgets.is_empty() {
        return Err("give at least one of --daily, --weekly, --monthly, --total, or --plan".into());
    }
    let conn =
        crate::store::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    budget::set_all(&conn, &budgets).map_err(|e| e.to_string())?;
    let key = scope.key();
    let whose = if key.is_empty() { "everything" } else { &key };
    Ok(budgets
        .iter()
        .map(|b| {
            let enforced = if b.enforce { ", enforced" } else { "" };
            match b.period {
                Period::Plan(window) => format!(
                    "{} plan window budget of {whose} set to alert at {}%{enforced}\n",
                    window.label(),
                    b.limit_usd
                ),
                _ => format!(
                    "{} budget of {whose} set to {}{enforced}\n",
                    b.period.name(),
                    crate::present::usd(b.limit_usd),
                ),
            }
        })
        .collect())
}

/// `budget status`, seen in `view` (its zone decides the periods).
pub fn status(config: &Config, view: &View, json: bool) -> Result<String, String> {
    let conn = crate::query::open(&config.db).map_err(|e| e.explained(config))?;
    let statuses =
        budget::status(&conn, jiff::Timestamp::now(), &view.tz).map_err(|e| e.to_string())?;
    if json {
        let list: Vec<_> = statuses.iter().map(budget::Status::answer).collect();
        return Ok(format!("{:#}\n", crate::query::json(&list)));
    }
    let undelivered =
        crate::query::budgets::undelivered_alerts(&conn).map_err(|e| e.to_string())?;
    Ok(budget::render(&statuses, view) + &budget::render_undelivered(&undelivered, view))
}

/// `budget clear`; `periods` in the order of `Period::ALL`, and `plan` a
/// plan window, none named meaning every period.
pub fn clear(
    config: &Config,
    scope_text: Option<&str>,
    periods: [bool; 4],
    plan: Option<&str>,
) -> Result<String, String> {
    let scope = scope_text.map(|s| scope(Some(s))).transpose()?;
    let mut periods: Vec<Period> = Period::ALL
        .into_iter()
        .zip(periods)
        .filter_map(|(period, named)| named.then_some(period))
        .collect();
    if let Some(window) = plan {
        periods.push(Period::Plan(plan_window(window)?));
    }
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
