//! A cost record already stored, as the writer needs it when a later
//! snapshot of the same request arrives: read by its id or its hook event,
//! and given a larger snapshot. Which snapshot wins is not decided here
//! (that is [`super::reconcile`]'s); this file only runs the statements.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::collect::{Billing, Usage};
use crate::store::rollup::Contribution;

/// A stored cost record: what the rollup holds of it, its tools, its id.
pub(super) struct StoredRecord {
    pub id: i64,
    pub timestamp: String,
    pub provider: String,
    pub model: String,
    pub model_key: String,
    pub agent_id: String,
    pub project: Option<String>,
    pub session_id: Option<String>,
    pub cost_usd: f64,
    pub usage: Usage,
    pub tool_name: Option<String>,
}

impl StoredRecord {
    /// What the record adds to the rollups, to take out before it changes.
    pub fn contribution(&self) -> Contribution<'_> {
        Contribution {
            timestamp: &self.timestamp,
            provider: &self.provider,
            model: &self.model,
            model_key: &self.model_key,
            agent_id: &self.agent_id,
            project: self.project.as_deref(),
            session_id: self.session_id.as_deref(),
            cost_usd: self.cost_usd,
            usage: &self.usage,
        }
    }
}

/// Which key finds a stored record; each has its own fixed statement, so the
/// writer's hot path builds no SQL text.
pub(super) enum RecordKey<'a> {
    Id(i64),
    HookEventId(&'a str),
}

/// The cost record `key` names, if it is stored.
pub(super) fn stored_record(
    tx: &Transaction<'_>,
    key: RecordKey<'_>,
) -> rusqlite::Result<Option<StoredRecord>> {
    macro_rules! select_where {
        ($column:literal) => {
            concat!(
                "SELECT input_tokens, cache_read_tokens, cache_write_tokens,
                        cache_write_1h_tokens, output_tokens, reasoning_tokens, id, timestamp,
                        provider, model, agent_id, project, estimated_cost_usd, tool_name,
                        coalesce(model_key, model), session_id
                 FROM cost_records WHERE ",
                $column,
                " = ?1"
            )
        };
    }
    let (mut stmt, value): (_, &dyn rusqlite::ToSql) = match &key {
        RecordKey::Id(id) => (tx.prepare_cached(select_where!("id"))?, id),
        RecordKey::HookEventId(id) => (tx.prepare_cached(select_where!("hook_event_id"))?, id),
    };
    stmt.query_row([value], |r| {
        Ok(StoredRecord {
            usage: crate::store::usage_at(r, 0)?,
            id: r.get(6)?,
            timestamp: r.get(7)?,
            provider: r.get(8)?,
            model: r.get(9)?,
            agent_id: r.get(10)?,
            project: r.get(11)?,
            cost_usd: r.get(12)?,
            session_id: r.get(15)?,
            tool_name: r.get(13)?,
            model_key: r.get(14)?,
        })
    })
    .optional()
}

/// A larger snapshot of a stored record: what replaces its counts.
pub(super) struct Snapshot<'a> {
    pub usage: &'a Usage,
    pub cost_usd: f64,
    pub pricing_source: &'a str,
    pub tools: Option<&'a str>,
    /// The modifiers the call reported, stored so reprice can apply them.
    pub billing: &'a Billing,
    /// The modifiers the table had no fact for (`Priced::unpriced_modifiers`).
    pub unpriced: Option<&'a str>,
    /// A new time for the record; `None` keeps the stored one.
    pub timestamp: Option<&'a str>,
}

/// Gives record `id` a larger snapshot's counts, cost and tools.
pub(super) fn update_snapshot(
    tx: &Transaction<'_>,
    id: i64,
    rev: i64,
    s: &Snapshot<'_>,
) -> rusqlite::Result<()> {
    let u = s.usage;
    tx.prepare_cached(
        "UPDATE cost_records SET input_tokens = ?2, output_tokens = ?3, cache_read_tokens = ?4,
             cache_write_tokens = ?5, cache_write_1h_tokens = ?6, reasoning_tokens = ?7,
             estimated_cost_usd = ?8, pricing_source = ?9, tool_name = ?10, fast = ?11,
             timestamp = coalesce(?12, timestamp), service_tier = ?13, inference_geo = ?14,
             unpriced_modifiers = ?15, rev = ?16
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        u.input as i64,
        u.output as i64,
        u.cache_read as i64,
        u.cache_write as i64,
        u.cache_write_1h as i64,
        u.reasoning as i64,
        s.cost_usd,
        s.pricing_source,
        s.tools,
        s.billing.fast,
        s.timestamp,
        s.billing.service_tier,
        s.billing.inference_geo,
        s.unpriced,
        rev,
    ])?;
    Ok(())
}

/// Replaces record `id`'s tool names (more tools seen, counts unchanged).
pub(super) fn update_tools(
    tx: &Transaction<'_>,
    id: i64,
    rev: i64,
    tools: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE cost_records SET tool_name = ?2, rev = ?3 WHERE id = ?1")?
        .execute(params![id, tools, rev])?;
    Ok(())
}

/// Notes that record `id` was deleted, under change number `rev`, so the
/// push deletes it centrally too (docs/push.md). Only once this database
/// has a machine id: before, nothing was ever pushed, so there is nothing
/// to delete centrally, and a database that never pushes keeps no
/// tombstones.
pub(super) fn keep_tombstone(tx: &Transaction<'_>, id: i64, rev: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO record_tombstones (rev, local_id)
         SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'machine_id')",
    )?
    .execute(params![rev, id])?;
    Ok(())
}
