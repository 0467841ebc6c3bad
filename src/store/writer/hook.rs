//! Hook events and rejections → rows: the `hook_events` row, the event's
//! cost record (priced here, with the session's last model when the event
//! names none), and `rejected_events`. Runs inside the writer thread's
//! transaction; never commits, never decides which snapshot wins
//! ([`super::reconcile`] does).

use rusqlite::{params, OptionalExtension, Transaction};

use super::reconcile::{reconcile, Action, Incoming, Kept, Lineage, Rule};
use super::stored::{stored_record, update_snapshot, RecordKey, Snapshot, StoredRecord};
use crate::collect::SessionModels;
use crate::pricing::Pricer;
use crate::record::{AgentReport, Charge, HookEvent, Rejection};
use crate::store::rollup::{Contribution, Tally};

/// Keeps a rejected input with its reason.
pub(super) fn write_rejection(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    rejection: &Rejection,
) -> rusqlite::Result<()> {
    tally.event("rejected", rejection.source, rejection.code.as_str());
    tx.prepare_cached(
        "INSERT INTO rejected_events (received_at, source, origin, reason, reason_code, raw_text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        rejection.received_at,
        rejection.source,
        rejection.origin,
        rejection.reason,
        rejection.code.as_str(),
        rejection.raw_text
    ])?;
    Ok(())
}

/// What a billable event costs, as its cost record states it.
struct Costed {
    /// Who bills the model, from the price table.
    provider: String,
    /// The model priced: the event's, else the session's last, else `unknown`.
    model: String,
    /// The name reports group it under ([`crate::pricing::Priced::report_name`]).
    model_key: String,
    /// `estimated_cost_usd`: the table's price, or the source's own figure
    /// where the table has nothing to say.
    cost_usd: f64,
    pricing_source: &'static str,
    /// The reported modifiers the table had no fact for; `None` for a
    /// reported cost, which no modifier changes.
    unpriced: Option<String>,
}

/// Writes one event and its cost record; returns how many cost records it has.
pub(super) fn write_event(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    sessions: &mut SessionModels,
    tally: &mut Tally,
    event: &HookEvent,
) -> rusqlite::Result<usize> {
    if let (Some(session), Some(model)) = (&event.session_id, &event.model) {
        sessions.remember(session, model);
    }
    if insert_hook_event(tx, event)? > 0 {
        tally.event("accepted", event.source.as_str(), "");
        if let Some(report) = &event.reported {
            write_report(tx, event, report)?;
        }
    }
    let Some(charge) = event.charge.as_ref().filter(|_| billable(event)) else {
        return Ok(0);
    };
    let costed = cost(tx, prices, sessions, event, charge)?;
    // A new event brings a new record: insert first, and look the stored
    // one up only when the insert finds it there (a redelivery).
    if insert_cost_record(tx, event, charge, &costed, tally.rev(tx)?)? > 0 {
        tally.add(&Contribution {
            timestamp: &event.timestamp,
            provider: &costed.provider,
            model: &costed.model,
            model_key: &costed.model_key,
            agent_id: &event.agent_id,
            project: event.project.as_deref(),
            session_id: event.session_id.as_deref(),
            cost_usd: costed.cost_usd,
            usage: &charge.usage,
        });
        return Ok(1);
    }
    if let Some(old) = stored_record(tx, RecordKey::HookEventId(&event.hook_event_id))? {
        redelivered(tx, tally, event, charge, &costed, &old)?;
    }
    Ok(1)
}

/// Streaming sources repeat a record with growing counts: the largest
/// snapshot wins ([`Rule::HookEvent`]), and an identical redelivery
/// changes nothing.
fn redelivered(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    event: &HookEvent,
    charge: &Charge,
    costed: &Costed,
    old: &StoredRecord,
) -> rusqlite::Result<()> {
    let kept = Kept {
        usage: &old.usage,
        tools: old.tool_name.as_deref(),
        // A hook event is its own, never a copy of another session's.
        copied: false,
    };
    let incoming = Incoming {
        rule: Rule::HookEvent,
        request_id: &event.hook_event_id,
        lineage: Lineage::Main,
        usage: &charge.usage,
        tools: event.tool_name.as_slice(),
        copied: false,
    };
    // A hook event's rule only ever replaces or leaves the record be.
    let Action::Replace { tools } = reconcile(&[], Some(kept), &incoming).action else {
        return Ok(());
    };
    let snapshot = Snapshot {
        usage: &charge.usage,
        cost_usd: costed.cost_usd,
        pricing_source: costed.pricing_source,
        tools: tools.as_deref(),
        billing: &charge.billing,
        unpriced: costed.unpriced.as_deref(),
        timestamp: None,
    };
    update_snapshot(tx, old.id, tally.rev(tx)?, &snapshot)?;
    tally.remove(&old.contribution());
    tally.add(&Contribution {
        cost_usd: costed.cost_usd,
        usage: &charge.usage,
        ..old.contribution()
    });
    Ok(())
}

/// What an agent reported about itself: the session's total, kept if no
/// later one is stored, and each plan window's use, a row only when it
/// changed ([`super::plan::write_plan_use`]).
fn write_report(
    tx: &Transaction<'_>,
    event: &HookEvent,
    report: &AgentReport,
) -> rusqlite::Result<()> {
    if let (Some(session), Some(total)) = (&event.session_id, report.session_cost_usd) {
        tx.prepare_cached(
            "INSERT INTO session_reported_costs (session_id, agent_id, total_cost_usd, observed_at, source)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(session_id) DO UPDATE SET
                 agent_id = excluded.agent_id, total_cost_usd = excluded.total_cost_usd,
                 observed_at = excluded.observed_at, source = excluded.source
             WHERE excluded.observed_at >= session_reported_costs.observed_at",
        )?
        .execute(params![session, event.agent_id, total, event.timestamp, report.source])?;
    }
    for window in &report.plan {
        let at = super::plan::Observed {
            observed_at: &event.timestamp,
            agent_id: &event.agent_id,
            session_id: event.session_id.as_deref(),
            source: report.source,
        };
        super::plan::write_plan_use(tx, &at, window)?;
    }
    Ok(())
}

/// The `hook_events` row; a redelivered event id inserts nothing (returns 0).
fn insert_hook_event(tx: &Transaction<'_>, event: &HookEvent) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO hook_events (hook_event_id, received_at, timestamp, event_name, session_id,
             tool_name, agent_id, task_id, model, source, records, labels_json, payload_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(hook_event_id) DO NOTHING",
    )?
    .execute(params![
        event.hook_event_id,
        event.received_at,
        event.timestamp,
        event.event_name,
        event.session_id,
        event.tool_name,
        event.agent_id,
        event.task_id,
        event.model,
        event.source.as_str(),
        usize::from(billable(event)),
        event.labels_json,
        event.payload_json,
    ])
}

/// Prices a billable event.
fn cost(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    sessions: &mut SessionModels,
    event: &HookEvent,
    charge: &Charge,
) -> rusqlite::Result<Costed> {
    let model = match &event.model {
        Some(model) => Some(model.clone()),
        None => match &event.session_id {
            Some(session) => session_model(tx, sessions, session)?,
            None => None,
        },
    };
    let model = model.unwrap_or_else(|| "unknown".to_string());
    // At the event's own time, so a dated price holds for the records of
    // its days whenever they arrive.
    let at = crate::record::instant(&event.timestamp);
    let priced = prices.price(&model, &charge.usage, &charge.billing, Some(at));
    let model_key = priced.report_name(&model).to_string();
    // A non-LLM entry, or one with no tokens, costs what its source reported.
    let (cost_usd, pricing_source, unpriced) = match charge.reported_cost_usd {
        Some(reported) if charge.service != "llm" || charge.usage.is_empty() => {
            (reported, "reported", None)
        }
        _ => (
            priced.cost_usd,
            priced.source.as_str(),
            priced.unpriced_modifiers,
        ),
    };
    Ok(Costed {
        model_key,
        provider: priced.provider,
        model,
        cost_usd,
        pricing_source,
        unpriced,
    })
}

/// The event's cost record; a redelivered event id inserts nothing (returns 0).
fn insert_cost_record(
    tx: &Transaction<'_>,
    event: &HookEvent,
    charge: &Charge,
    costed: &Costed,
    rev: i64,
) -> rusqlite::Result<usize> {
    let u = &charge.usage;
    tx.prepare_cached(
        "INSERT INTO cost_records (timestamp, session_id, agent_id, task_id, project,
             provider, model, input_tokens, output_tokens, cache_read_tokens,
             cache_write_tokens, cache_write_1h_tokens, reasoning_tokens,
             estimated_cost_usd, reported_cost_usd, pricing_source, tool_name,
             hook_event_id, source, service, labels_json, payload_json, fast, service_tier,
             inference_geo, unpriced_modifiers, model_key, prompt_id, rev)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
             ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)
         ON CONFLICT(hook_event_id) DO NOTHING",
    )?
    .execute(params![
        event.timestamp,
        event.session_id,
        event.agent_id,
        event.task_id,
        event.project,
        costed.provider,
        costed.model,
        u.input as i64,
        u.output as i64,
        u.cache_read as i64,
        u.cache_write as i64,
        u.cache_write_1h as i64,
        u.reasoning as i64,
        costed.cost_usd,
        charge.reported_cost_usd,
        costed.pricing_source,
        event.tool_name,
        event.hook_event_id,
        event.source.as_str(),
        charge.service,
        event.labels_json,
        // The payload is stored once, in hook_events, under the same
        // hook_event_id; this column is for records without a hook event.
        None::<&str>,
        charge.billing.fast,
        charge.billing.service_tier,
        charge.billing.inference_geo,
        costed.unpriced,
        costed.model_key,
        event.prompt_id,
        rev,
    ])
}

/// An event is billable when it counted tokens or states a cost of its own.
fn billable(event: &HookEvent) -> bool {
    event
        .charge
        .as_ref()
        .is_some_and(|c| !c.usage.is_empty() || c.reported_cost_usd.is_some())
}

/// The session's last known model: from memory, else from the stored events
/// (memory is bounded and empty after a restart).
fn session_model(
    tx: &Transaction<'_>,
    sessions: &mut SessionModels,
    session: &str,
) -> rusqlite::Result<Option<String>> {
    if let Some(model) = sessions.last(session) {
        return Ok(Some(model.to_string()));
    }
    let found: Option<String> = tx
        .prepare_cached(
            "SELECT model FROM hook_events WHERE session_id = ?1 AND model IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([session], |row| row.get(0))
        .optional()?;
    if let Some(model) = &found {
        sessions.remember(session, model);
    }
    Ok(found)
}
