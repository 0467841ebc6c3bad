//! `hookmeter statusline`: Claude Code's `statusLine` command. Reads the
//! JSON Claude Code pipes in after each message, prints one line of
//! hookmeter's figures (the session's cost, today's spend, the tightest
//! budget, the plan's use, the last hour's burn rate) and hands what Claude
//! Code itself reported to the daemon through the spool ([`handoff`]).
//!
//! It must never cost the agent anything: it always exits 0 and prints a
//! line, whatever is missing or broken; it reads the database read-only and
//! waits for a lock a few milliseconds at most; it never talks to the
//! daemon. Parsing the input and drawing the line are pure ([`Input`],
//! [`render`]); [`run`] is the shell around them.
//!
//! For users: docs/cli.md#hookmeter-statusline.

pub mod handoff;

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use crate::config::{Config, Overrides};
use crate::present::usd;

/// Largest stdin read; Claude Code's input is a few hundred bytes.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;
/// The longest the line waits for a database lock.
const BUSY_WAIT: Duration = Duration::from_millis(5);
/// A budget or plan window this used (percent) shows yellow, and red at 100.
const WARN_PCT: f64 = 80.0;

/// What the line reads from Claude Code's statusline input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    pub session_id: Option<String>,
    /// `model.display_name`, else `model.id`.
    pub model: Option<String>,
    /// `cost.total_cost_usd`: the session's cost as Claude Code counts it.
    pub reported_cost_usd: Option<f64>,
    /// `rate_limits.five_hour.used_percentage` (subscribers only).
    pub five_hour_pct: Option<f64>,
    /// `rate_limits.seven_day.used_percentage` (subscribers only).
    pub seven_day_pct: Option<f64>,
}

impl Input {
    /// The input, or `None` when it is not a JSON object.
    pub fn parse(bytes: &[u8]) -> Option<Input> {
        let value: Value = serde_json::from_slice(bytes).ok()?;
        value.as_object()?;
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let number = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_f64)
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        Some(Input {
            session_id: text("/session_id"),
            model: text("/model/display_name").or_else(|| text("/model/id")),
            reported_cost_usd: number("/cost/total_cost_usd"),
            five_hour_pct: number("/rate_limits/five_hour/used_percentage"),
            seven_day_pct: number("/rate_limits/seven_day/used_percentage"),
        })
    }
}

/// hookmeter's own figures, from the database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// The session's records' cost; `None` without a session id.
    pub session_usd: Option<f64>,
    /// Spent since midnight, local time.
    pub today_usd: f64,
    /// Spent over the last 60 minutes: USD per hour.
    pub burn_usd_per_hour: f64,
    /// The budget closest to (or furthest past) its limit: its name and
    /// spent/limit as a percentage.
    pub tightest: Option<(String, f64)>,
}

/// The line for `format`: each placeholder filled (an unknown one is left
/// as written), runs of blanks left by empty ones closed up. Without
/// hookmeter's figures (`Err`: why not), the session's cost is Claude
/// Code's own and the reason ends the line.
pub fn render(
    format: &str,
    input: &Input,
    figures: &Result<Figures, String>,
    color: bool,
) -> String {
    let paint = |text: String, pct: f64| -> String {
        let code = match pct {
            p if p >= 100.0 => "31",
            p if p >= WARN_PCT => "33",
            _ => return text,
        };
        match color {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text,
        }
    };
    let fill = |name: &str| -> Option<String> {
        let ours = figures.as_ref().ok();
        Some(match name {
            "model" => input.model.clone().unwrap_or_default(),
            "session_cost" => match (ours.and_then(|f| f.session_usd), input.reported_cost_usd) {
                (Some(usd_), _) => format!("session {}", money(usd_)),
                (None, Some(reported)) => format!("session {} (Claude Code)", money(reported)),
                (None, None) => String::new(),
            },
            "today" => ours
                .map(|f| format!("today {}", money(f.today_usd)))
                .unwrap_or_default(),
            "budget" => match ours.and_then(|f| f.tightest.as_ref()) {
                Some((name, pct)) => paint(format!("budget {} {pct:.0}%", name), *pct),
                None => String::new(),
            },
            "plan" => [("5h", input.five_hour_pct), ("7d", input.seven_day_pct)]
                .into_iter()
                .filter_map(|(label, pct)| pct.map(|p| paint(format!("{label} {p:.0}%"), p)))
                .collect::<Vec<_>>()
                .join(" "),
            "burn" => ours
                .map(|f| format!("{}/h", money(f.burn_usd_per_hour)))
                .unwrap_or_default(),
            "reported_cost" => input.reported_cost_usd.map(money).unwrap_or_default(),
            "five_hour" => input
                .five_hour_pct
                .map(|p| paint(format!("{p:.0}%"), p))
                .unwrap_or_default(),
            "seven_day" => input
                .seven_day_pct
                .map(|p| paint(format!("{p:.0}%"), p))
                .unwrap_or_default(),
            _ => return None,
        })
    };
    let mut line = String::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        line.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match fill(name) {
                    Some(text) => line.push_str(&text),
                    None => line.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                line.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    line.push_str(rest);
    let mut line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Err(why) = figures {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&format!("(hookmeter: {why})"));
    }
    line
}

/// An amount as the line shows it: cents, or three significant decimals
/// below a cent (a line has no column to share decimals with).
fn money(amount: f64) -> String {
    match amount {
        a if a == 0.0 || a >= 0.01 => format!("${a:.2}"),
        a => usd(a).trim().to_string(),
    }
}

/// What the flags ask of the line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--format`: this time's format instead of `[statusline] format`.
    pub format: Option<String>,
    /// `--plain`: no ANSI colors.
    pub plain: bool,
}

/// `hookmeter statusline`: the line for `stdin`. Never fails: whatever goes
/// wrong is said on the line itself.
pub fn run(flags: &Overrides, options: &Options, stdin: impl Read) -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut bytes = Vec::new();
    let read = stdin.take(MAX_INPUT_BYTES).read_to_end(&mut bytes);
    let input = match read.ok().and_then(|_| Input::parse(&bytes)) {
        Some(input) => input,
        None => return "hookmeter: no status input".to_string(),
    };
    let config = match Config::resolve(flags, &env) {
        Ok(config) => config,
        Err(e) => match Config::resolve_without_file(flags, &env) {
            Ok(config) => config,
            Err(_) => {
                return render(
                    crate::config::STATUSLINE_FORMAT,
                    &input,
                    &Err(format!("config: {e}")),
                    !options.plain,
                )
            }
        },
    };
    handoff::hand_over(&config.spool, &bytes);
    let format = options
        .format
        .as_deref()
        .unwrap_or(&config.statusline_format);
    let figures = figures(&config, &input).map_err(|e| match e {
        crate::query::QueryError::NoDatabase(_) => "no database".to_string(),
        other => other.to_string(),
    });
    render(format, &input, &figures, !options.plain)
}

/// hookmeter's figures for `input`'s session, read-only.
fn figures(config: &Config, input: &Input) -> Result<Figures, crate::query::QueryError> {
    use crate::query::{statusline, summary::summary, Filter};
    use hookmeter_core::terms::Range;
    let conn = statusline::open(&config.db, BUSY_WAIT)?;
    let now = jiff::Timestamp::now();
    let local = jiff::tz::TimeZone::system();
    let spent = |range: Range| -> Result<f64, crate::query::QueryError> {
        let filter = Filter {
            range,
            ..Filter::default()
        };
        Ok(summary(&conn, &filter, &[], &local)?.totals.cost_usd)
    };
    let session_usd = match &input.session_id {
        Some(id) => Some(statusline::session_cost(&conn, id)?),
        None => None,
    };
    let today_usd = spent(Range::period("today", now, &local)?)?;
    let burn_usd_per_hour = spent(Range::last("1h", now)?)?;
    let tightest = crate::budget::status(&conn, now, &config.alerts.tz)?
        .into_iter()
        .filter(|s| s.budget.limit_usd > 0.0)
        .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        .map(|s| {
            let scope = s.budget.scope.key();
            let name = match scope.as_str() {
                "" => s.budget.period.name().to_string(),
                scope => format!("{scope} {}", s.budget.period.name()),
            };
            (name, s.ratio() * 100.0)
        });
    Ok(Figures {
        session_usd,
        today_usd,
        burn_usd_per_hour,
        tightest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        Input {
            session_id: Some("s1".into()),
            model: Some("Opus".into()),
            reported_cost_usd: Some(0.5),
            five_hour_pct: Some(85.0),
            seven_day_pct: None,
        }
    }

    fn ours(pct: f64) -> Result<Figures, String> {
        Ok(Figures {
            session_usd: Some(1.234),
            today_usd: 4.0,
            burn_usd_per_hour: 0.5,
            tightest: Some(("daily".into(), pct)),
        })
    }

    #[test]
    fn fills_every_placeholder_and_closes_up_empty_ones() {
        let line = render(
            crate::config::STATUSLINE_FORMAT,
            &input(),
            &ours(10.0),
            false,
        );
        assert_eq!(
            line,
            "Opus session $1.23 today $4.00 budget daily 10% 5h 85% $0.50/h"
        );
        let no_plan = Input {
            five_hour_pct: None,
            ..input()
        };
        let line = render("{model} | {plan} | {nope}", &no_plan, &ours(10.0), false);
        assert_eq!(line, "Opus | | {nope}");
    }

    #[test]
    fn colors_from_80_percent_red_from_100() {
        let at = |pct| render("{budget}", &input(), &ours(pct), true);
        assert!(!at(79.4).contains('\x1b'));
        assert!(at(80.0).starts_with("\x1b[33m"));
        assert!(at(100.0).starts_with("\x1b[31m"));
        assert!(!render("{budget}", &input(), &ours(120.0), false).contains('\x1b'));
    }

    #[test]
    fn without_the_database_claude_codes_cost_and_the_reason() {
        let line = render(
            crate::config::STATUSLINE_FORMAT,
            &input(),
            &Err("no database".into()),
            false,
        );
        assert_eq!(
            line,
            "Opus session $0.50 (Claude Code) 5h 85% (hookmeter: no database)"
        );
    }

    #[test]
    fn garbage_is_no_input() {
        assert_eq!(Input::parse(b"not json"), None);
        assert_eq!(Input::parse(b"[1]"), None);
        assert_eq!(Input::parse(b"{}"), Some(Input::default()));
    }
}
