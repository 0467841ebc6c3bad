//! `hookmeter reconcile`: how a [`Reconciliation`] reads. A table of the
//! sessions (ours, the agent's, the difference), then each session's named
//! causes as sentences; `--json` is the answer itself. Pure: values in, text
//! out.

use super::Format;
use crate::present::{count, time, usd, MoneySet, Table, View};
use crate::query::reconcile::differs;
use crate::query::{self, Cause, Reconciliation};

/// The reconciliation of `period` as text or JSON.
pub fn render(answer: &Reconciliation, period: &str, view: &View, format: Format) -> String {
    if format != Format::Table {
        return format!("{:#}\n", query::json(answer));
    }
    let mut out = format!("{period}\n");
    if answer.sessions.is_empty() {
        out.push_str("No session in the range has a cost reported by its agent.\n");
    } else {
        let mut t = Table::new()
            .text("agent")
            .id("session")
            .fixed("last")
            .number("records")
            .number("agent-priced")
            .number("ours")
            .number("agent's")
            .number("difference");
        let ours = MoneySet::of(
            answer
                .sessions
                .iter()
                .map(|s| s.totals.our_cost_of_reported_usd)
                .chain([answer.totals.our_cost_of_reported_usd]),
        );
        let theirs = MoneySet::of(
            answer
                .sessions
                .iter()
                .map(|s| s.totals.reported_cost_usd)
                .chain([answer.totals.reported_cost_usd]),
        );
        let difference = MoneySet::of(
            answer
                .sessions
                .iter()
                .map(|s| s.totals.difference_usd)
                .chain([answer.totals.difference_usd]),
        );
        for s in &answer.sessions {
            t.row([
                s.agent.clone(),
                s.session_id.clone(),
                time::stored_cell(&s.last_at, &view.tz),
                count(s.totals.records),
                count(s.totals.reported_records),
                ours.show(s.totals.our_cost_of_reported_usd),
                theirs.show(s.totals.reported_cost_usd),
                difference.show(s.totals.difference_usd),
            ]);
        }
        let totals = &answer.totals;
        t.total([
            "total".to_string(),
            String::new(),
            String::new(),
            count(totals.records),
            count(totals.reported_records),
            ours.show(totals.our_cost_of_reported_usd),
            theirs.show(totals.reported_cost_usd),
            difference.show(totals.difference_usd),
        ]);
        out.push_str(&t.render(view.width));
        out.push_str(
            "agent-priced: the records the agent reported a cost for; ours: hookmeter's cost of those records; difference: ours - the agent's\n",
        );
        for s in answer.sessions.iter().filter(|s| !s.causes.is_empty()) {
            out.push_str(&format!("\n{} {}\n", s.agent, s.session_id));
            for cause in &s.causes {
                out.push_str(&format!("  {}\n", sentence(cause)));
            }
        }
        if !differs(totals.difference_usd) && answer.sessions.iter().all(|s| s.causes.is_empty()) {
            out.push_str("\nEvery reported cost agrees with hookmeter's.\n");
        }
    }
    if answer.unreported_sessions > 0 {
        out.push_str(&format!(
            "\n{} without a reported cost ({} by hookmeter's prices): nothing to compare.\n",
            crate::present::counted(
                u64::try_from(answer.unreported_sessions).unwrap_or(0),
                "session",
                "sessions"
            ),
            usd(answer.unreported_cost_usd).trim()
        ));
    }
    out
}

fn records(n: i64, singular: &str, plural: &str) -> String {
    crate::present::counted(u64::try_from(n).unwrap_or(0), singular, plural)
}

/// One cause as a person reads it.
fn sentence(cause: &Cause) -> String {
    match cause {
        Cause::Fallback {
            model,
            records: n,
            cost_usd,
            reported_cost_usd,
        } => format!(
            "{model}: priced at the fallback rates ({}, {} ours, {} reported); add it to the price table",
            records(*n, "record", "records"),
            usd(*cost_usd).trim(),
            usd(*reported_cost_usd).trim()
        ),
        Cause::Rate {
            model,
            records: n,
            our_usd_per_mtok,
            reported_usd_per_mtok,
            tokens,
            ..
        } => format!(
            "{model}: rate differs on {}: ours {}/MTok, the agent's {}/MTok (over their {} tokens)",
            records(*n, "request", "requests"),
            usd(*our_usd_per_mtok).trim(),
            usd(*reported_usd_per_mtok).trim(),
            count(*tokens)
        ),
        Cause::CacheLifetimeUnknown {
            records: n,
            cost_usd,
            reported_cost_usd,
        } => format!(
            "{} from OTel events alone with cache writes ({} ours, {} reported): the 1-hour writes are unknown until the transcript is read",
            records(*n, "request", "requests"),
            usd(*cost_usd).trim(),
            usd(*reported_cost_usd).trim()
        ),
        Cause::EventOnly { requests } => format!(
            "{} seen only as OTel events (no transcript line)",
            records(*requests, "request", "requests")
        ),
        Cause::TranscriptOnly { records: n } => format!(
            "{} seen only in the transcript (no OTel event)",
            records(*n, "request", "requests")
        ),
    }
}
