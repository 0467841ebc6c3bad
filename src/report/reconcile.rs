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
        // Claude Code's statusline total, when `hookmeter statusline` handed
        // one over: the session as a whole, beside the per-request figures.
        let statusline = answer
            .sessions
            .iter()
            .any(|s| s.statusline_cost_usd.is_some());
        if statusline {
            t = t.number("statusline");
        }
        let stated = MoneySet::of(answer.sessions.iter().filter_map(|s| s.statusline_cost_usd));
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
            let mut cells = vec![
                s.agent.clone(),
                s.session_id.clone(),
                time::stored_cell(&s.last_at, &view.tz),
                count(s.totals.records),
                count(s.totals.reported_records),
                ours.show(s.totals.our_cost_of_reported_usd),
                theirs.show(s.totals.reported_cost_usd),
                difference.show(s.totals.difference_usd),
            ];
            if statusline {
                cells.push(match s.statusline_cost_usd {
                    Some(total) => stated.show(total),
                    None => "-".to_string(),
                });
            }
            t.row(cells);
        }
        let totals = &answer.totals;
        let mut cells = vec![
            "total".to_string(),
            String::new(),
            String::new(),
            count(totals.records),
            count(totals.reported_records),
            ours.show(totals.our_cost_of_reported_usd),
            theirs.show(totals.reported_cost_usd),
            difference.show(totals.difference_usd),
        ];
        if statusline {
            cells.push(String::new());
        }
        t.total(cells);
        out.push_str(&t.render(view.width));
        out.push_str(
            "agent-priced: the records the agent reported a cost for; ours: hookmeter's cost of those records; difference: ours - the agent's\n",
        );
        if statusline {
            out.push_str(
                "statusline: the session's whole cost as Claude Code's statusline last stated it, against all of its records\n",
            );
        }
        for s in answer.sessions.iter() {
            if let Some(total) = s.statusline_cost_usd {
                let gap = s.totals.cost_usd - total;
                if differs(gap) {
                    out.push_str(&format!(
                        "\n{} {}\n  statusline total {}, hookmeter's {} for the session's {}: {} apart\n",
                        s.agent,
                        s.session_id,
                        usd(total).trim(),
                        usd(s.totals.cost_usd).trim(),
                        records(s.totals.records, "record", "records"),
                        usd(gap).trim()
                    ));
                }
            }
        }
        for s in answer.sessions.iter().filter(|s| !s.causes.is_empty()) {
            out.push_str(&format!("\n{} {}\n", s.agent, s.session_id));
            for cause in &s.causes {
                out.push_str(&format!("  {}\n", sentence(cause)));
            }
        }
        let statusline_agrees = answer.sessions.iter().all(|s| {
            s.statusline_cost_usd
                .is_none_or(|total| !differs(s.totals.cost_usd - total))
        });
        if !differs(totals.difference_usd)
            && statusline_agrees
            && answer.sessions.iter().all(|s| s.causes.is_empty())
        {
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
