//! The agents' OTel usage events → rows (docs/ingest.md#opentelemetry).
//! Codex's and Gemini CLI's responses are recorded only for a session whose
//! own log hookmeter does not read, as [`super::reconcile::session_source`]
//! decides ([`write_session_response`]). Claude Code's `api_request`
//! events: one record per request whatever the sources. The event finds the
//! transcript's record of its request by request id (`api_messages`); when
//! there is none yet it makes the record, with an `api_messages` row whose
//! message id is `''` until the transcript line arrives and takes it over
//! ([`adopt_event_record`]). What the record then holds is
//! [`super::reconcile::event_and_line`]'s; this file only runs statements.

use rusqlite::{params, OptionalExtension, Transaction};

use super::claude_code;
use super::reconcile::{event_and_line, session_source, SessionArrival, SessionPlan, SessionRows};
use super::stored::{stored_record, update_snapshot, RecordKey, Snapshot, StoredRecord};
use crate::collect::otel::{event_key, ApiRequest, SessionResponse};
use crate::collect::{Billing, Usage};
use crate::pricing::Pricer;
use crate::record::{format_timestamp, Source};
use crate::store::rollup::{Contribution, Tally};

/// What a batch of events changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtelAck {
    /// Requests no source had shown: new records.
    pub added: usize,
    /// Requests a transcript line had already recorded with the same counts.
    pub confirmed: usize,
    /// Requests a transcript line had recorded with other counts: the
    /// event's stand (counted as disagreements).
    pub corrected: usize,
    /// Events already stored: a redelivered export.
    pub unchanged: usize,
    /// Codex and Gemini CLI events of a session whose own log hookmeter
    /// reads: that log records it, the events are not counted again.
    pub superseded: usize,
}

/// Writes each event's request.
pub(super) fn write_otel_batch(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    requests: &[ApiRequest],
    responses: &[SessionResponse],
) -> rusqlite::Result<OtelAck> {
    let mut ack = OtelAck::default();
    let received_at = format_timestamp(jiff::Timestamp::now());
    for request in requests {
        ack.count(write_request(tx, prices, tally, request, &received_at)?);
    }
    for response in responses {
        ack.count(write_session_response(tx, prices, tally, response)?);
    }
    Ok(ack)
}

impl OtelAck {
    fn count(&mut self, written: Written) {
        match written {
            Written::Added => self.added += 1,
            Written::Confirmed => self.confirmed += 1,
            Written::Corrected => self.corrected += 1,
            Written::Unchanged => self.unchanged += 1,
            Written::Superseded => self.superseded += 1,
        }
    }
}

enum Written {
    Added,
    Confirmed,
    Corrected,
    Unchanged,
    Superseded,
}

/// Whether a session's log has recorded it (one record is enough) and how
/// many records its events made. Through the session index by name: left
/// to itself, SQLite's planner takes the agent index, which holds every
/// record of the agent, and the Codex import, which asks this for every
/// batch, took four times as long.
const SESSION_ROWS_SQL: &str = "
    SELECT EXISTS (SELECT 1 FROM cost_records INDEXED BY idx_cost_records_session_id
                   WHERE session_id = ?1 AND agent_id = ?2 AND source <> 'otel'),
           (SELECT count(*) FROM cost_records INDEXED BY idx_cost_records_session_id
            WHERE session_id = ?1 AND agent_id = ?2 AND source = 'otel')";

/// A session's event records, deleted: through the session index, as
/// [`SESSION_ROWS_SQL`].
const REMOVE_EVENT_RECORDS_SQL: &str = "
    DELETE FROM cost_records INDEXED BY idx_cost_records_session_id
    WHERE session_id = ?1 AND agent_id = ?2 AND source = 'otel'
    RETURNING id";

/// What a Codex or Gemini CLI session has stored, for
/// [`session_source`]: records from its log, and records from its events.
pub(super) fn session_rows(
    tx: &Transaction<'_>,
    agent_id: &str,
    session_id: &str,
) -> rusqlite::Result<SessionRows> {
    tx.prepare_cached(SESSION_ROWS_SQL)?
        .query_row([session_id, agent_id], |r| {
            Ok(SessionRows {
                log: r.get::<_, i64>(0)? > 0,
                events: r.get::<_, i64>(1)?.max(0) as usize,
            })
        })
}

/// Removes the records a session's events made: its log, now read,
/// records the session instead. Returns how many.
pub(super) fn remove_event_records(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    agent_id: &str,
    session_id: &str,
) -> rusqlite::Result<usize> {
    // The delete trigger takes the records out of the rollup, which must
    // first hold what this transaction added so far.
    tally.flush(tx)?;
    let gone: Vec<i64> = tx
        .prepare_cached(REMOVE_EVENT_RECORDS_SQL)?
        .query_map([session_id, agent_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &gone {
        let rev = tally.rev(tx)?;
        super::stored::keep_tombstone(tx, *id, rev)?;
    }
    Ok(gone.len())
}

/// A Codex or Gemini CLI response: a record of its own unless the session's
/// log records the session.
fn write_session_response(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    response: &SessionResponse,
) -> rusqlite::Result<Written> {
    let agent = response.agent.agent_id();
    let stored = session_rows(tx, agent, &response.session_id)?;
    if session_source(SessionArrival::Event, stored) == SessionPlan::Superseded {
        return Ok(Written::Superseded);
    }
    let at = response.timestamp.unwrap_or_else(jiff::Timestamp::now);
    let priced = prices.price(
        &response.model,
        &response.usage,
        &Billing::default(),
        Some(at),
    );
    let timestamp = format_timestamp(at);
    let model_key = priced.report_name(&response.model);
    let u = &response.usage;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO cost_records (timestamp, session_id, agent_id, provider, model,
                 input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                 cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd, pricing_source,
                 hook_event_id, source, service, unpriced_modifiers, model_key, rev)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'llm',
                 ?16, ?17, ?18)",
        )?
        .execute(params![
            timestamp,
            response.session_id,
            agent,
            priced.provider,
            response.model,
            u.input as i64,
            u.output as i64,
            u.cache_read as i64,
            u.cache_write as i64,
            u.cache_write_1h as i64,
            u.reasoning as i64,
            priced.cost_usd,
            priced.source.as_str(),
            response.key,
            Source::Otel.as_str(),
            priced.unpriced_modifiers,
            model_key,
            tally.rev(tx)?,
        ])?;
    if inserted == 0 {
        return Ok(Written::Unchanged);
    }
    tally.add(&Contribution {
        timestamp: &timestamp,
        provider: &priced.provider,
        model: &response.model,
        model_key,
        agent_id: agent,
        project: None,
        session_id: Some(&response.session_id),
        cost_usd: priced.cost_usd,
        usage: u,
    });
    Ok(Written::Added)
}

fn write_request(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    request: &ApiRequest,
    received_at: &str,
) -> rusqlite::Result<Written> {
    if event_of(tx, &request.request_id)?.is_some() {
        return Ok(Written::Unchanged);
    }
    let record: Option<i64> = tx
        .prepare_cached(
            "SELECT a.record_id FROM api_messages a JOIN cost_records c ON c.id = a.record_id
             WHERE a.request_id = ?1 ORDER BY a.record_id LIMIT 1",
        )?
        .query_row([&request.request_id], |r| r.get(0))
        .optional()?;
    let stored = match record {
        Some(id) => stored_record(tx, RecordKey::Id(id))?,
        None => None,
    };
    let Some(stored) = stored else {
        let id = add_record(tx, prices, tally, request)?;
        tx.prepare_cached(
            "INSERT INTO api_messages (message_id, request_id, record_id) VALUES ('', ?1, ?2)",
        )?
        .execute(params![request.request_id, id])?;
        keep_event(tx, request, id, None, received_at)?;
        return Ok(Written::Added);
    };
    let both = event_and_line(&request.usage, &stored.usage);
    if both.usage != stored.usage {
        let tools = stored.tool_name.clone();
        let changed = Resnapshot {
            usage: &both.usage,
            billing: &request.billing,
            tools: tools.as_deref(),
        };
        resnapshot(tx, prices, tally, &stored, &changed)?;
    }
    tx.prepare_cached("UPDATE cost_records SET reported_cost_usd = ?2, rev = ?3 WHERE id = ?1")?
        .execute(params![
            stored.id,
            request.reported_cost_usd,
            tally.rev(tx)?
        ])?;
    keep_event(tx, request, stored.id, Some(both.agrees), received_at)?;
    Ok(if both.agrees {
        Written::Confirmed
    } else {
        Written::Corrected
    })
}

/// The counts an event of `request_id` reported and the record counting
/// its request, if the event is stored.
pub(super) fn event_of(
    tx: &Transaction<'_>,
    request_id: &str,
) -> rusqlite::Result<Option<(Usage, i64)>> {
    tx.prepare_cached(
        "SELECT input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, record_id
         FROM otel_requests WHERE request_id = ?1",
    )?
    .query_row([request_id], |r| {
        let count = |i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
        let usage = Usage {
            input: count(0)?,
            output: count(1)?,
            cache_read: count(2)?,
            cache_write: count(3)?,
            ..Usage::default()
        };
        Ok((usage, r.get(4)?))
    })
    .optional()
}

/// Says whether a transcript line of `request_id` agreed with its event.
/// One line that agrees is enough: a message's earlier lines may hold
/// earlier snapshots.
pub(super) fn note_agreement(
    tx: &Transaction<'_>,
    request_id: &str,
    agrees: bool,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE otel_requests SET agrees = max(coalesce(agrees, 0), ?2) WHERE request_id = ?1",
    )?
    .execute(params![request_id, agrees])?;
    Ok(())
}

/// Whose a transcript line is, for [`adopt_event_record`].
#[derive(Clone, Copy)]
pub(super) struct LineOwner<'a> {
    pub message_id: &'a str,
    pub request_id: &'a str,
    /// The line's record key, `cc:<session>:<message id>:<request id>`.
    pub key: &'a str,
    pub project: Option<&'a str>,
    /// `claude-code`, or the subagent whose sidechain the line is on.
    pub agent: &'a str,
}

/// A transcript line of a request whose record an event made: the line's
/// message takes the `api_messages` row over and the record takes the
/// line's key, project and agent, so the line, read again or imported,
/// finds it as its own.
/// Returns whether there was such a record.
pub(super) fn adopt_event_record(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    line: &LineOwner<'_>,
) -> rusqlite::Result<bool> {
    let LineOwner {
        message_id,
        request_id,
        key,
        project,
        agent,
    } = *line;
    let record: Option<i64> = tx
        .prepare_cached(
            "SELECT record_id FROM api_messages WHERE message_id = '' AND request_id = ?1",
        )?
        .query_row([request_id], |r| r.get(0))
        .optional()?;
    let Some(record) = record else {
        return Ok(false);
    };
    tx.prepare_cached(
        "UPDATE api_messages SET message_id = ?1 WHERE message_id = '' AND request_id = ?2",
    )?
    .execute([message_id, request_id])?;
    tx.prepare_cached("UPDATE cost_records SET hook_event_id = ?2, rev = ?3 WHERE id = ?1")?
        .execute(params![record, key, tally.rev(tx)?])?;
    // The event names no project (the line's working directory does) and
    // no agent (a subagent's line says whose it is).
    let Some(stored) = stored_record(tx, RecordKey::Id(record))? else {
        return Ok(true);
    };
    let project = stored.project.as_deref().or(project);
    if project != stored.project.as_deref() || agent != stored.agent_id {
        tx.prepare_cached(
            "UPDATE cost_records SET project = ?2, agent_id = ?3, rev = ?4 WHERE id = ?1",
        )?
        .execute(params![record, project, agent, tally.rev(tx)?])?;
        tally.remove(&stored.contribution());
        tally.add(&Contribution {
            project,
            agent_id: agent,
            ..stored.contribution()
        });
    }
    Ok(true)
}

/// What a record settled between an event and a line is given.
pub(super) struct Resnapshot<'a> {
    pub usage: &'a Usage,
    pub billing: &'a Billing,
    pub tools: Option<&'a str>,
}

/// Gives `stored` the settled counts, repriced, in the table and the rollups.
pub(super) fn resnapshot(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    stored: &StoredRecord,
    changed: &Resnapshot<'_>,
) -> rusqlite::Result<()> {
    let usage = changed.usage;
    let at = crate::record::instant(&stored.timestamp);
    let priced = prices.price(&stored.model, usage, changed.billing, Some(at));
    update_snapshot(
        tx,
        stored.id,
        tally.rev(tx)?,
        &Snapshot {
            usage,
            cost_usd: priced.cost_usd,
            pricing_source: priced.source.as_str(),
            tools: changed.tools,
            billing: changed.billing,
            unpriced: priced.unpriced_modifiers.as_deref(),
            timestamp: None,
        },
    )?;
    tally.remove(&stored.contribution());
    tally.add(&Contribution {
        cost_usd: priced.cost_usd,
        usage,
        ..stored.contribution()
    });
    Ok(())
}

fn keep_event(
    tx: &Transaction<'_>,
    request: &ApiRequest,
    record_id: i64,
    agrees: Option<bool>,
    received_at: &str,
) -> rusqlite::Result<()> {
    let u = &request.usage;
    tx.prepare_cached(
        "INSERT INTO otel_requests (request_id, record_id, session_id, prompt_id, input_tokens,
             output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, received_at, agrees)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        request.request_id,
        record_id,
        request.session_id,
        request.prompt_id,
        u.input as i64,
        u.output as i64,
        u.cache_read as i64,
        u.cache_write as i64,
        request.reported_cost_usd,
        received_at,
        agrees,
    ])?;
    Ok(())
}

/// A new record of a request only the event has shown so far.
fn add_record(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    request: &ApiRequest,
) -> rusqlite::Result<i64> {
    let at = request.timestamp.unwrap_or_else(jiff::Timestamp::now);
    let priced = prices.price(&request.model, &request.usage, &request.billing, Some(at));
    let timestamp = format_timestamp(at);
    let model_key = priced.report_name(&request.model);
    let u = &request.usage;
    let agent = claude_code::MAIN_AGENT;
    tx.prepare_cached(
        "INSERT INTO cost_records (timestamp, session_id, agent_id, provider, model,
             input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
             cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd, reported_cost_usd,
             pricing_source, hook_event_id, source, service, fast, unpriced_modifiers, model_key,
             prompt_id, rev)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'llm',
             ?17, ?18, ?19, ?20, ?21)",
    )?
    .execute(params![
        timestamp,
        request.session_id,
        agent,
        priced.provider,
        request.model,
        u.input as i64,
        u.output as i64,
        u.cache_read as i64,
        u.cache_write as i64,
        u.cache_write_1h as i64,
        u.reasoning as i64,
        priced.cost_usd,
        request.reported_cost_usd,
        priced.source.as_str(),
        event_key(request),
        Source::Otel.as_str(),
        request.billing.fast,
        priced.unpriced_modifiers,
        model_key,
        request.prompt_id,
        tally.rev(tx)?,
    ])?;
    let id = tx.last_insert_rowid();
    tally.add(&Contribution {
        timestamp: &timestamp,
        provider: &priced.provider,
        model: &request.model,
        model_key,
        agent_id: agent,
        project: None,
        session_id: Some(&request.session_id),
        cost_usd: priced.cost_usd,
        usage: u,
    });
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both statements find a session's records by the session index, never
    /// by the agent's (every record of the agent).
    #[test]
    fn a_session_is_read_and_cleared_through_the_session_index() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        for sql in [SESSION_ROWS_SQL, REMOVE_EVENT_RECORDS_SQL] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(["s", "codex"], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let reads: Vec<&String> = plan.iter().filter(|s| s.contains("cost_records")).collect();
            assert!(!reads.is_empty(), "{plan:#?}");
            assert!(
                reads
                    .iter()
                    .all(|s| s.contains("idx_cost_records_session_id (session_id=?)")),
                "{sql}: {plan:#?}"
            );
        }
    }
}
