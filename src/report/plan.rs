//! `hookmeter report --plan`: each agent's plan windows in a period, the
//! latest use and when the window resets, and their course as the highest
//! use of each day (in the report's zone). Pure: observations in, text out.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{csv_line, Format};
use crate::present::{time, Table, View};
use crate::query::plan::PlanObservation;

/// One agent's window in the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanCourse {
    pub agent: String,
    /// `five_hour`, `seven_day`, or `<minutes>m`.
    pub window: String,
    /// The latest observation's use, 0-100.
    pub used_pct: f64,
    pub resets_at: Option<String>,
    pub observed_at: String,
    pub source: String,
    /// The highest use observed each day, oldest first.
    pub days: Vec<PlanDay>,
}

/// The highest use of one day (`YYYY-MM-DD` in the report's zone).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanDay {
    pub day: String,
    pub max_used_pct: f64,
}

/// The JSON answer.
#[derive(serde::Serialize)]
struct PlanAnswer<'a> {
    period: &'a str,
    plan: &'a [PlanCourse],
}

/// Observations ordered by agent, window and time, as courses.
pub fn courses(observations: &[PlanObservation], tz: &TimeZone) -> Vec<PlanCourse> {
    let mut out: Vec<PlanCourse> = Vec::new();
    for o in observations {
        let day = o
            .observed_at
            .parse::<Timestamp>()
            .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| o.observed_at.chars().take(10).collect());
        let same = out
            .last()
            .is_some_and(|c| c.agent == o.agent_id && c.window == o.window);
        if !same {
            out.push(PlanCourse {
                agent: o.agent_id.clone(),
                window: o.window.clone(),
                used_pct: o.used_pct,
                resets_at: None,
                observed_at: String::new(),
                source: String::new(),
                days: Vec::new(),
            });
        }
        let course = out.last_mut().expect("pushed above");
        course.used_pct = o.used_pct;
        course.resets_at = o.resets_at.clone();
        course.observed_at = o.observed_at.clone();
        course.source = o.source.clone();
        match course.days.last_mut() {
            Some(d) if d.day == day => d.max_used_pct = d.max_used_pct.max(o.used_pct),
            _ => course.days.push(PlanDay {
                day,
                max_used_pct: o.used_pct,
            }),
        }
    }
    out
}

/// A use as a person reads it: `42.5%`.
fn pct(p: f64) -> String {
    format!("{p:.1}%")
}

/// The plan report of `period`.
pub fn render(plan: &[PlanCourse], period: &str, view: &View, format: Format) -> String {
    match format {
        Format::Json => format!("{:#}\n", crate::query::json(&PlanAnswer { period, plan })),
        Format::Csv => {
            let mut out = csv_line(
                [
                    "agent",
                    "window",
                    "day",
                    "max_used_pct",
                    "latest_used_pct",
                    "latest_resets_at",
                    "latest_observed_at",
                ]
                .map(String::from),
            );
            for c in plan {
                for d in &c.days {
                    out.push_str(&csv_line([
                        c.agent.clone(),
                        c.window.clone(),
                        d.day.clone(),
                        d.max_used_pct.to_string(),
                        c.used_pct.to_string(),
                        c.resets_at.clone().unwrap_or_default(),
                        c.observed_at.clone(),
                    ]));
                }
            }
            out
        }
        Format::Table => {
            let mut out = format!("{period}\n");
            if plan.is_empty() {
                out.push_str(
                    "No plan use in the range: Claude Code reports it to `hookmeter statusline` \
                     (subscribers), Codex in its rollouts' rate_limits.\n",
                );
                return out;
            }
            let times: Vec<Timestamp> = plan
                .iter()
                .filter_map(|c| c.observed_at.parse().ok())
                .collect();
            out.push_str(&time::zone_note(&view.tz, &times));
            out.push('\n');
            let mut latest = Table::new()
                .text("agent")
                .text("window")
                .number("used")
                .fixed("resets")
                .fixed("observed");
            for c in plan {
                latest.row([
                    c.agent.clone(),
                    c.window.clone(),
                    pct(c.used_pct),
                    c.resets_at
                        .as_deref()
                        .map_or_else(|| "-".to_string(), |r| time::stored_cell(r, &view.tz)),
                    time::stored_cell(&c.observed_at, &view.tz),
                ]);
            }
            out.push_str(&latest.render(view.width));
            out.push_str("\nHighest use each day:\n");
            let mut days = Table::new()
                .text("agent")
                .text("window")
                .fixed("day")
                .number("max used");
            for c in plan {
                for d in &c.days {
                    days.row([
                        c.agent.clone(),
                        c.window.clone(),
                        d.day.clone(),
                        pct(d.max_used_pct),
                    ]);
                }
            }
            out.push_str(&days.render(view.width));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(agent: &str, window: &str, pct: f64, at: &str) -> PlanObservation {
        PlanObservation {
            agent_id: agent.into(),
            window: window.into(),
            used_pct: pct,
            resets_at: None,
            observed_at: at.into(),
            source: "s".into(),
        }
    }

    #[test]
    fn each_days_highest_use_and_the_latest_per_agent_and_window() {
        let found = courses(
            &[
                seen("a", "five_hour", 10.0, "2026-12-06T10:00:00.000Z"),
                seen("a", "five_hour", 60.0, "2026-12-06T12:00:00.000Z"),
                seen("a", "five_hour", 5.0, "2026-12-07T01:00:00.000Z"),
                seen("b", "five_hour", 1.0, "2026-12-07T01:00:00.000Z"),
            ],
            &TimeZone::UTC,
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].used_pct, 5.0);
        assert_eq!(
            found[0].days,
            vec![
                PlanDay {
                    day: "2026-12-06".into(),
                    max_used_pct: 60.0
                },
                PlanDay {
                    day: "2026-12-07".into(),
                    max_used_pct: 5.0
                },
            ]
        );
        assert_eq!(found[1].agent, "b");
    }
}
