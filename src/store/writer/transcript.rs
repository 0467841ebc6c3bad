//! Transcript records and offsets → rows: each record's cost record (and,
//! for Claude Code, its `api_messages` row), sidechain replays removed or skipped as
//! [`super::reconcile`] plans, and the file's read offset, all in the writer
//! thread's transaction. Never commits; decides nothing about which
//! snapshot wins.

use rusqlite::{params, Transaction};

use super::claude_code;
use super::otel;
use super::reconcile::{
    event_and_line, own_row, reconcile, session_source, Action, Incoming, Kept, Lineage, Rule,
    Seen, SessionArrival, SessionPlan,
};
use super::stored::{
    stored_record, update_snapshot, update_tools, RecordKey, Snapshot, StoredRecord,
};
use crate::pricing::{Priced, Pricer};
use crate::record::{AgentLog, TranscriptBatch, TranscriptOffset, TranscriptRecord};
use crate::store::rollup::{Contribution, Tally};

/// What a transcript batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TranscriptAck {
    /// New cost records.
    pub added: usize,
    /// Records that grew (a larger snapshot) or gained tool names.
    pub updated: usize,
    /// Records already stored as they are: redelivery, re-read, import after live capture.
    pub unchanged: usize,
    /// Sidechain replays of main-thread messages, not counted again.
    pub replays: usize,
    /// Replays stored before their main-thread message arrived, then removed.
    pub replaced: usize,
    /// Records a Codex or Gemini CLI session's OTel events had made,
    /// removed because this batch brought the session's own log, which
    /// records it instead (one source per session).
    pub events_replaced: usize,
}

/// Writes a transcript batch's records, then its offset.
pub(super) fn write_transcript_batch(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    batch: &TranscriptBatch,
) -> rusqlite::Result<TranscriptAck> {
    let mut counts = TranscriptAck::default();
    // A batch is mostly one session's: once its log has recorded it here,
    // no event record of it can be left, so it is asked about once.
    let mut settled: Vec<(&str, &str)> = Vec::new();
    for record in &batch.records {
        if let Some(agent) = session_recorded_once(record) {
            let session = record.line.session_id.as_str();
            if !settled.contains(&(agent, session)) {
                let stored = otel::session_rows(tx, agent, session)?;
                if session_source(SessionArrival::LogRecord, stored) == SessionPlan::ReplaceEvents {
                    counts.events_replaced +=
                        otel::remove_event_records(tx, tally, agent, session)?;
                }
                settled.push((agent, session));
            }
        }
        match write_transcript_record(tx, prices, tally, record, &mut counts.replaced)? {
            Written::Added => counts.added += 1,
            Written::Updated => counts.updated += 1,
            Written::Unchanged => counts.unchanged += 1,
            Written::Replay => counts.replays += 1,
        }
    }
    for seen in &batch.plan {
        let at = super::plan::Observed {
            observed_at: &seen.observed_at,
            agent_id: seen.agent_id,
            session_id: seen.session_id.as_deref(),
            source: seen.source,
        };
        super::plan::write_plan_use(tx, &at, &seen.window)?;
    }
    if let Some(offset) = &batch.offset {
        write_offset(tx, offset)?;
    }
    Ok(counts)
}

/// The agent a record's session is kept under when its log and its OTel
/// events cannot be matched request by request (Codex, Gemini CLI), so
/// that the session is recorded from one of them.
fn session_recorded_once(record: &TranscriptRecord) -> Option<&str> {
    match record.log {
        AgentLog::Codex => Some(crate::collect::codex::AGENT),
        AgentLog::Gemini => Some(crate::collect::gemini::AGENT),
        AgentLog::ClaudeCode | AgentLog::OpenCode => None,
    }
}

/// How one transcript record was written.
enum Written {
    Added,
    Updated,
    Unchanged,
    Replay,
}

/// Writes one transcript record as [`reconcile`] plans it: the largest
/// snapshot wins, tool names accumulate across the lines of one message, and
/// a sidechain replay of a main-thread message (same message id, another
/// requestId) is not counted twice.
fn write_transcript_record(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    record: &TranscriptRecord,
    replaced: &mut usize,
) -> rusqlite::Result<Written> {
    let line = &record.line;
    let request = line.request_id.as_deref().unwrap_or("");
    let rule = match record.log {
        AgentLog::ClaudeCode => Rule::ClaudeCodeTranscript,
        AgentLog::Codex => Rule::CodexRollout,
        AgentLog::Gemini => Rule::GeminiChat,
        AgentLog::OpenCode => Rule::OpenCodeMessage,
    };
    if record.log == AgentLog::ClaudeCode && !request.is_empty() {
        if let Some(written) = write_line_after_event(tx, prices, tally, record, request)? {
            return Ok(written);
        }
    }
    let (seen, mut existing) = match record.log {
        AgentLog::ClaudeCode => {
            let seen = seen_rows(tx, &line.message_id)?;
            let existing = match own_row(&seen, request) {
                Some(own) => stored_record(tx, RecordKey::Id(own.record_id))?,
                None => None,
            };
            (seen, existing)
        }
        _ => {
            let existing = stored_record(tx, RecordKey::HookEventId(&line.key))?;
            (keyed_row(existing.as_ref(), request), existing)
        }
    };
    let own = own_row(&seen, request);
    let kept = existing.as_ref().map(|old| Kept {
        usage: &old.usage,
        tools: old.tool_name.as_deref(),
        copied: own.is_some_and(|own| own.copied),
    });
    let incoming = Incoming {
        rule,
        request_id: request,
        lineage: if line.sidechain {
            Lineage::Sidechain
        } else {
            Lineage::Main
        },
        usage: &line.usage,
        tools: &line.tool_names,
        copied: line.copied,
    };
    let plan = reconcile(&seen, kept, &incoming);
    let mut claimed = false;
    if plan.claim {
        if let Some(old) = &existing {
            claim(tx, tally, record, request, old)?;
            existing = stored_record(tx, RecordKey::Id(old.id))?;
            claimed = true;
        }
    }
    for replay in plan.remove {
        remove_replay(tx, tally, &line.message_id, replay)?;
        *replaced += 1;
    }
    if let Action::GivesWay { .. } = plan.action {
        return Ok(Written::Replay);
    }
    let unchanged = if claimed {
        Written::Updated
    } else {
        Written::Unchanged
    };
    let at = line.timestamp.unwrap_or_else(jiff::Timestamp::now);
    let priced = prices.price(&line.model, &line.usage, &line.billing, Some(at));
    let timestamp = crate::record::format_timestamp(at);
    match (plan.action, existing) {
        (Action::Insert { tools }, _) => {
            let added = Added {
                request,
                timestamp: &timestamp,
                priced: &priced,
                tools: tools.as_deref(),
            };
            add_record(tx, tally, record, &added)?;
            Ok(Written::Added)
        }
        (Action::Replace { tools }, Some(old)) => {
            let snapshot = Snapshot {
                usage: &line.usage,
                cost_usd: priced.cost_usd,
                pricing_source: priced.source.as_str(),
                tools: tools.as_deref(),
                billing: &line.billing,
                unpriced: priced.unpriced_modifiers.as_deref(),
                timestamp: Some(&timestamp),
            };
            replace_snapshot(tx, tally, &old, &snapshot)?;
            Ok(Written::Updated)
        }
        (Action::MergeTools { tools }, Some(old)) => {
            update_tools(tx, old.id, tally.rev(tx)?, tools.as_deref())?;
            Ok(Written::Updated)
        }
        // Replace and MergeTools are planned only against a kept snapshot,
        // which is `existing`.
        (Action::Unchanged | Action::GivesWay { .. }, _) | (_, None) => Ok(unchanged),
    }
}

/// A Claude Code line of a request whose OTel event is stored: the one
/// record of the request (the event's, taken over, or the line's own)
/// holds what [`event_and_line`] settles, and the agreement is noted.
/// `None` when no event is stored, or its record is gone: the line is
/// written as any other.
fn write_line_after_event(
    tx: &Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    record: &TranscriptRecord,
    request: &str,
) -> rusqlite::Result<Option<Written>> {
    let line = &record.line;
    let Some((event, record_id)) = otel::event_of(tx, request)? else {
        return Ok(None);
    };
    let owner = otel::LineOwner {
        message_id: &line.message_id,
        request_id: request,
        key: &line.key,
        project: record.project.as_deref(),
        agent: line.agent_id.as_deref().unwrap_or(claude_code::MAIN_AGENT),
    };
    let adopted = otel::adopt_event_record(tx, tally, &owner)?;
    let Some(stored) = stored_record(tx, RecordKey::Id(record_id))? else {
        return Ok(None);
    };
    let both = event_and_line(&event, &line.usage);
    otel::note_agreement(tx, request, both.agrees)?;
    let tools = Rule::ClaudeCodeTranscript.tools(stored.tool_name.as_deref(), &line.tool_names);
    let changed = both.usage != stored.usage || tools != stored.tool_name;
    if changed {
        let settled = otel::Resnapshot {
            usage: &both.usage,
            billing: &line.billing,
            tools: tools.as_deref(),
        };
        otel::resnapshot(tx, prices, tally, &stored, &settled)?;
    }
    Ok(Some(if changed || adopted {
        Written::Updated
    } else {
        Written::Unchanged
    }))
}

/// Makes `old`, stored from a fork's copy, the record of `record`'s own
/// session: the original line's session, key, project and agent, in the
/// table and in the rollups; its counts are settled after, as for any
/// snapshot.
fn claim(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    record: &TranscriptRecord,
    request: &str,
    old: &StoredRecord,
) -> rusqlite::Result<()> {
    let line = &record.line;
    let agent = line.agent_id.as_deref().unwrap_or(claude_code::MAIN_AGENT);
    tx.prepare_cached(
        "UPDATE cost_records SET session_id = ?2, hook_event_id = ?3, project = ?4, agent_id = ?5,
             prompt_id = coalesce(?6, prompt_id), git_branch = coalesce(?7, git_branch), rev = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        old.id,
        line.session_id,
        line.key,
        record.project,
        agent,
        line.prompt_id,
        line.git_branch,
        tally.rev(tx)?,
    ])?;
    tx.prepare_cached(
        "UPDATE api_messages SET copied = 0 WHERE message_id = ?1 AND request_id = ?2",
    )?
    .execute([&line.message_id, request])?;
    tally.remove(&old.contribution());
    tally.add(&Contribution {
        agent_id: agent,
        project: record.project.as_deref(),
        session_id: Some(line.session_id.as_str()),
        ..old.contribution()
    });
    Ok(())
}

/// Gives `old` a larger snapshot, in the table and in the rollups.
fn replace_snapshot(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    old: &StoredRecord,
    snapshot: &Snapshot<'_>,
) -> rusqlite::Result<()> {
    update_snapshot(tx, old.id, tally.rev(tx)?, snapshot)?;
    tally.remove(&old.contribution());
    tally.add(&Contribution {
        timestamp: snapshot.timestamp.unwrap_or(&old.timestamp),
        cost_usd: snapshot.cost_usd,
        usage: snapshot.usage,
        ..old.contribution()
    });
    Ok(())
}

/// Every row already counting this API message, under any requestId, in
/// one lookup: message ids are unique across sessions, and every transcript
/// record has a row here.
fn seen_rows(tx: &Transaction<'_>, message_id: &str) -> rusqlite::Result<Vec<Seen>> {
    tx.prepare_cached(
        "SELECT a.request_id, a.record_id, c.agent_id, a.copied FROM api_messages a
         LEFT JOIN cost_records c ON c.id = a.record_id WHERE a.message_id = ?1",
    )?
    .query_map([message_id], |r| {
        Ok(Seen {
            request_id: r.get(0)?,
            record_id: r.get(1)?,
            lineage: r
                .get::<_, Option<String>>(2)?
                .map(|agent| claude_code::lineage_of(&agent)),
            copied: r.get(3)?,
        })
    })?
    .collect()
}

/// The row counting another agent's request: its stored record, found by
/// its key. For Codex, Gemini CLI and OpenCode the key is the request's
/// identity (a fork's or a resume's copy shares it), so their records have
/// no `api_messages` rows: that table reconciles Claude Code's messages
/// across request ids and sessions.
fn keyed_row(stored: Option<&StoredRecord>, request: &str) -> Vec<Seen> {
    stored
        .map(|old| Seen {
            request_id: request.to_owned(),
            record_id: old.id,
            // None of them has sidechains that replay the main thread.
            lineage: Some(Lineage::Main),
            copied: false,
        })
        .into_iter()
        .collect()
}

/// Removes a sidechain replay stored before its main-thread message: its
/// record and its `api_messages` row.
fn remove_replay(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    message_id: &str,
    replay: &Seen,
) -> rusqlite::Result<()> {
    // The delete trigger takes the record out of the rollup, which must
    // first hold what this transaction added so far.
    tally.flush(tx)?;
    let deleted = tx
        .prepare_cached("DELETE FROM cost_records WHERE id = ?1")?
        .execute([replay.record_id])?;
    if deleted > 0 {
        super::stored::keep_tombstone(tx, replay.record_id, tally.rev(tx)?)?;
    }
    tx.prepare_cached("DELETE FROM api_messages WHERE message_id = ?1 AND request_id = ?2")?
        .execute([message_id, &replay.request_id])?;
    Ok(())
}

/// What a new record of a transcript line is written with.
struct Added<'a> {
    /// The `api_messages` request id (`""` without one).
    request: &'a str,
    timestamp: &'a str,
    priced: &'a Priced,
    tools: Option<&'a str>,
}

/// A new cost record for `record`, for a Claude Code record the
/// `api_messages` row that says this request of its message is counted by
/// it, and the record's share of the rollups.
fn add_record(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    record: &TranscriptRecord,
    added: &Added<'_>,
) -> rusqlite::Result<()> {
    let Added {
        request,
        timestamp,
        priced,
        tools,
    } = *added;
    let agent = record
        .line
        .agent_id
        .as_deref()
        .unwrap_or(claude_code::MAIN_AGENT);
    let line = &record.line;
    let u = &line.usage;
    let model_key = priced.report_name(&line.model);
    tx.prepare_cached(
        "INSERT INTO cost_records (timestamp, session_id, agent_id, project, provider, model,
             input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
             cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd, reported_cost_usd,
             pricing_source, tool_name, hook_event_id, source, service, fast, service_tier,
             inference_geo, unpriced_modifiers, model_key, prompt_id, git_branch, rev)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 'llm', ?19,
             ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    )?
    .execute(params![
        timestamp,
        line.session_id,
        agent,
        record.project,
        priced.provider,
        line.model,
        u.input as i64,
        u.output as i64,
        u.cache_read as i64,
        u.cache_write as i64,
        u.cache_write_1h as i64,
        u.reasoning as i64,
        priced.cost_usd,
        line.reported_cost_usd,
        priced.source.as_str(),
        tools,
        line.key,
        record.source.as_str(),
        line.billing.fast,
        line.billing.service_tier,
        line.billing.inference_geo,
        priced.unpriced_modifiers,
        model_key,
        line.prompt_id,
        line.git_branch,
        tally.rev(tx)?,
    ])?;
    if record.log == AgentLog::ClaudeCode {
        tx.prepare_cached(
        "INSERT INTO api_messages (message_id, request_id, record_id, copied) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (message_id, request_id) DO UPDATE SET record_id = excluded.record_id,
             copied = excluded.copied",
    )?
    .execute(params![
        line.message_id,
        request,
        tx.last_insert_rowid(),
        line.copied
    ])?;
    }
    tally.add(&Contribution {
        timestamp,
        provider: &priced.provider,
        model: &line.model,
        model_key,
        agent_id: agent,
        project: record.project.as_deref(),
        session_id: Some(line.session_id.as_str()),
        cost_usd: priced.cost_usd,
        usage: u,
    });
    Ok(())
}

/// Where reading the file stopped, so a restart neither re-counts nor misses.
fn write_offset(tx: &Transaction<'_>, offset: &TranscriptOffset) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO transcript_offsets (path, offset, inode, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(path) DO UPDATE SET offset = excluded.offset, inode = excluded.inode,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        offset.path,
        offset.offset as i64,
        offset.inode as i64,
        crate::record::format_timestamp(jiff::Timestamp::now()),
    ])?;
    Ok(())
}
