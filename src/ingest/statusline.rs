//! The events `hookmeter statusline` hands over: what Claude Code reported
//! on the statusline's stdin (the session's own total, the plan's use),
//! read into an [`AgentReport`] for the writer. Pure: no I/O.
//!
//! For users: docs/hook-protocol.md#statusline-events.

use serde_json::Value;

use crate::record::{AgentReport, PlanWindow};

/// The `hook_event_name` of a statusline event. Dotted, so no agent's own
/// hook event can be taken for one.
pub const STATUSLINE_EVENT: &str = "hookmeter.statusline";

/// `source` of the rows a statusline event leads to.
pub const CLAUDE_STATUSLINE: &str = "claude_statusline";

/// The plan windows Claude Code reports, by the names `plan_usage` keeps.
const WINDOWS: [&str; 2] = ["five_hour", "seven_day"];

/// What a statusline event reports; `None` for any other event. Values of
/// the wrong type are left out, never guessed.
pub fn report(event_name: Option<&str>, payload: &Value) -> Option<AgentReport> {
    if event_name != Some(STATUSLINE_EVENT) {
        return None;
    }
    let session_cost_usd = payload
        .pointer("/cost/total_cost_usd")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite() && *c >= 0.0);
    let plan = WINDOWS
        .iter()
        .filter_map(|&window| {
            let reported = payload.get("rate_limits")?.get(window)?;
            let used_pct = reported
                .get("used_percentage")
                .and_then(Value::as_f64)
                .filter(|p| p.is_finite() && *p >= 0.0)?;
            Some(PlanWindow {
                window: window.to_owned(),
                used_pct,
                resets_at: reported.get("resets_at").and_then(reset_time),
            })
        })
        .collect();
    Some(AgentReport {
        session_cost_usd,
        plan,
        source: CLAUDE_STATUSLINE,
    })
}

/// `resets_at` as Claude Code gives it (Unix seconds) or as RFC 3339 text,
/// in the database's one timestamp format.
fn reset_time(value: &Value) -> Option<String> {
    let at = match value {
        Value::Number(n) => jiff::Timestamp::from_second(n.as_i64()?).ok()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(crate::record::format_timestamp(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_total_and_both_windows() {
        let payload = json!({
            "session_id": "s1",
            "cost": {"total_cost_usd": 1.25},
            "rate_limits": {
                "five_hour": {"used_percentage": 23.5, "resets_at": 1_800_000_000},
                "seven_day": {"used_percentage": 41, "resets_at": "2027-01-15T10:00:00Z"}
            }
        });
        let report = report(Some(STATUSLINE_EVENT), &payload).unwrap();
        assert_eq!(report.session_cost_usd, Some(1.25));
        assert_eq!(report.plan.len(), 2);
        assert_eq!(report.plan[0].window, "five_hour");
        assert_eq!(
            report.plan[0].resets_at.as_deref(),
            Some("2027-01-15T08:00:00.000Z")
        );
        assert_eq!(report.plan[1].used_pct, 41.0);
    }

    #[test]
    fn other_events_and_wrong_types_report_nothing_made_up() {
        let payload = json!({"cost": {"total_cost_usd": "lots"}, "rate_limits": {"five_hour": {}}});
        assert!(report(Some("Stop"), &payload).is_none());
        let report = report(Some(STATUSLINE_EVENT), &payload).unwrap();
        assert_eq!(report.session_cost_usd, None);
        assert!(report.plan.is_empty());
    }
}
