//! `reprice`: recomputes `estimated_cost_usd` of stored records from their
//! token counts with the prices in force now.
//!
//! It runs beside a live daemon: it reads and updates a few thousand rows per
//! short transaction, so the daemon's writer waits at most one batch (SQLite
//! lets one writer in at a time; both sides have a busy timeout). The hourly
//! rollup is kept in the same transactions. Records whose cost was reported by
//! their source (`pricing_source = 'reported'`) keep it.
//!
//! For users: docs/pricing.md#hookmeter-reprice.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{params, Connection};

use crate::collect::{Billing, Usage};
use crate::pricing::{PriceTable, Pricer};
use crate::store::rollup::{Contribution, Tally};

/// Rows read and written per transaction.
const BATCH: usize = 5000;

/// What a reprice changed, or would change (`dry_run`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepriceOutcome {
    pub dry_run: bool,
    /// Records looked at (all priced ones in the period).
    pub examined: u64,
    /// Records whose cost, source or provider changes.
    pub changed: u64,
    pub before_usd: f64,
    pub after_usd: f64,
    /// Per model: records changed, cost before, cost after.
    pub by_model: BTreeMap<String, (u64, f64, f64)>,
}

/// `hookmeter reprice`: reprices the database `config` names with the
/// prices in force now and says what changed. `Err` is the one line the
/// binary prints after `hookmeter: ` (exit 2).
pub fn run(
    config: &crate::config::Config,
    since: Option<Timestamp>,
    dry_run: bool,
) -> Result<String, String> {
    // Opening it to write would create it: there is nothing to reprice.
    if let Some(missing) = config.missing_database() {
        return Err(missing.to_string());
    }
    let prices = config.load_prices().map_err(|e| format!("{e:#}"))?;
    let mut conn = super::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    let outcome =
        reprice(&mut conn, prices, since, dry_run).map_err(|e| format!("reprice failed: {e}"))?;
    Ok(render(&outcome, crate::present::table::output_width()))
}

/// A cost is "the same" within this: float noise, not a price change.
const SAME_COST: f64 = 1e-12;

/// Reprices records at or after `since` (all when `None`) on `conn`, a
/// connection from [`super::open_writer`].
pub fn reprice(
    conn: &mut Connection,
    prices: PriceTable,
    since: Option<Timestamp>,
    dry_run: bool,
) -> Result<RepriceOutcome, rusqlite::Error> {
    let since = since.map(crate::record::format_timestamp);
    let mut pricer = Pricer::new(prices);
    let mut outcome = RepriceOutcome {
        dry_run,
        ..RepriceOutcome::default()
    };
    let mut after_id = 0i64;
    loop {
        let tx = conn.transaction_with_behavior(if dry_run {
            rusqlite::TransactionBehavior::Deferred
        } else {
            rusqlite::TransactionBehavior::Immediate
        })?;
        let rows = read_batch(&tx, after_id, since.as_deref())?;
        let mut tally = Tally::default();
        let Some(last) = rows.last() else {
            break;
        };
        after_id = last.id;
        for row in &rows {
            outcome.examined += 1;
            outcome.before_usd += row.cost;
            // Each record at the rates of its own time: a dated price
            // never moves records of another day.
            let at = crate::record::instant(&row.timestamp);
            let priced = pricer.price(&row.model, &row.usage, &row.billing, Some(at));
            outcome.after_usd += priced.cost_usd;
            let model_key = priced.report_name(&row.model);
            let same = (priced.cost_usd - row.cost).abs() <= SAME_COST
                && priced.source.as_str() == row.pricing_source
                && priced.provider == row.provider
                && priced.unpriced_modifiers == row.unpriced;
            if same && model_key == row.model_key {
                continue;
            }
            // A record whose only change is the name it is grouped under
            // (the table's entries moved) is kept in step without counting
            // as a changed cost.
            if !same {
                outcome.changed += 1;
                let model = outcome.by_model.entry(row.model.clone()).or_default();
                model.0 += 1;
                model.1 += row.cost;
                model.2 += priced.cost_usd;
            }
            if !dry_run {
                tx.prepare_cached(
                    "UPDATE cost_records SET estimated_cost_usd = ?2, pricing_source = ?3,
                         provider = ?4, unpriced_modifiers = ?5, model_key = ?6, rev = ?7
                     WHERE id = ?1",
                )?
                .execute(params![
                    row.id,
                    priced.cost_usd,
                    priced.source.as_str(),
                    priced.provider,
                    priced.unpriced_modifiers,
                    model_key,
                    tally.rev(&tx)?,
                ])?;
                let old = Contribution {
                    timestamp: &row.timestamp,
                    provider: &row.provider,
                    model: &row.model,
                    model_key: &row.model_key,
                    agent_id: &row.agent_id,
                    project: row.project.as_deref(),
                    session_id: row.session_id.as_deref(),
                    cost_usd: row.cost,
                    usage: &row.usage,
                };
                tally.remove(&old);
                tally.add(&Contribution {
                    provider: &priced.provider,
                    model_key,
                    cost_usd: priced.cost_usd,
                    ..old
                });
            }
        }
        tally.flush(&tx)?;
        tx.commit()?;
        if rows.len() < BATCH {
            break;
        }
    }
    Ok(outcome)
}

struct StoredRow {
    id: i64,
    timestamp: String,
    agent_id: String,
    project: Option<String>,
    session_id: Option<String>,
    model: String,
    /// The name it is grouped under now (`coalesce(model_key, model)`).
    model_key: String,
    provider: String,
    usage: Usage,
    /// The modifiers stored with the record, applied again.
    billing: Billing,
    /// What the record says was not priced, to tell a change.
    unpriced: Option<String>,
    cost: f64,
    pricing_source: String,
}

fn read_batch(
    tx: &rusqlite::Transaction<'_>,
    after_id: i64,
    since: Option<&str>,
) -> rusqlite::Result<Vec<StoredRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, model, provider, input_tokens, cache_read_tokens, cache_write_tokens,
                cache_write_1h_tokens, output_tokens, reasoning_tokens, fast,
                estimated_cost_usd, pricing_source, timestamp, agent_id, project,
                service_tier, inference_geo, unpriced_modifiers, coalesce(model_key, model),
                session_id
         FROM cost_records
         WHERE id > ?1 AND pricing_source <> 'reported' AND (?2 IS NULL OR timestamp >= ?2)
         ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![after_id, since, BATCH as i64], |r| {
            Ok(StoredRow {
                id: r.get(0)?,
                model: r.get(1)?,
                provider: r.get(2)?,
                usage: super::usage_at(r, 3)?,
                billing: Billing {
                    fast: r.get(9)?,
                    service_tier: r.get(15)?,
                    inference_geo: r.get(16)?,
                },
                unpriced: r.get(17)?,
                cost: r.get(10)?,
                pricing_source: r.get(11)?,
                timestamp: r.get(12)?,
                agent_id: r.get(13)?,
                project: r.get(14)?,
                model_key: r.get(18)?,
                session_id: r.get(19)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The outcome as `reprice` prints it: the totals, then a table of the
/// models whose records change, fitted to `width`.
pub fn render(outcome: &RepriceOutcome, width: Option<usize>) -> String {
    use crate::present::{counted, MoneySet, Table};
    let verb = if outcome.dry_run {
        "would change"
    } else {
        "changed"
    };
    let change = outcome.after_usd - outcome.before_usd;
    let totals = MoneySet::of([outcome.before_usd, outcome.after_usd, change]);
    let mut out = format!(
        "{verb} {} of {}: total {} → {} ({})\n",
        outcome.changed,
        counted(outcome.examined, "priced record", "priced records"),
        totals.show(outcome.before_usd),
        totals.show(outcome.after_usd),
        signed(&totals, change)
    );
    if !outcome.by_model.is_empty() {
        let models = &outcome.by_model;
        let rows: u64 = models.values().map(|m| m.0).sum();
        let was: f64 = models.values().map(|m| m.1).sum();
        let is: f64 = models.values().map(|m| m.2).sum();
        // Before and after are read against each other: one set, so a change
        // never shows as `$0.30 → $0.30`.
        let costs = MoneySet::of(models.values().flat_map(|m| [m.1, m.2]).chain([was, is]));
        let changes = MoneySet::of(models.values().map(|m| m.2 - m.1).chain([is - was]));
        let mut t = Table::new()
            .text("model")
            .number("records")
            .number("before")
            .number("after")
            .number("change");
        for (model, (rows, was, is)) in models {
            t.row([
                model.clone(),
                crate::present::count(i64::try_from(*rows).unwrap_or(i64::MAX)),
                costs.show(*was),
                costs.show(*is),
                signed(&changes, is - was),
            ]);
        }
        t.total([
            "total".to_string(),
            crate::present::count(i64::try_from(rows).unwrap_or(i64::MAX)),
            costs.show(was),
            costs.show(is),
            signed(&changes, is - was),
        ]);
        out.push('\n');
        out.push_str(&t.render(width));
    }
    if outcome.dry_run && outcome.changed > 0 {
        out.push_str("nothing was written (--dry-run)\n");
    }
    out
}

/// A change of cost: `+$0.0042`, `-$0.50`, `$0.00`.
fn signed(money: &crate::present::MoneySet, amount: f64) -> String {
    let shown = money.show(amount);
    match amount > 0.0 {
        true => format!("+{shown}"),
        false => shown,
    }
}
