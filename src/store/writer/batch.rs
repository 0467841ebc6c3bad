//! The writer thread's loop: take what is queued (up to [`MAX_BATCH`]), apply
//! it in one transaction, commit, then answer every sender: all acks after
//! the commit, or all errors when any statement or the commit fails. What
//! each operation writes is [`super::hook`]'s and [`super::transcript`]'s;
//! this file owns the transaction, the order of answers and the stats.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::hook::{write_event, write_rejection};
use super::otel::{write_otel_batch, OtelAck};
use super::transcript::{write_transcript_batch, TranscriptAck};
use super::{Ack, Write, WriteError, WriteOp, WriterStats};
use crate::collect::SessionModels;
use crate::internal_events::CommitFailed;
use crate::pricing::{PriceTable, Pricer};
use crate::store::rollup::Tally;

/// Most operations committed in one transaction: bounds the latency a batch adds.
const MAX_BATCH: usize = 2048;
/// Sessions whose last model is remembered in memory (older ones are looked up).
const SESSION_MEMORY: usize = 10_000;

/// The thread's state: the one write connection and what pricing needs.
pub(super) struct Writer {
    conn: Connection,
    /// The price table SIGHUP swaps, with its per-model memo.
    prices: Pricer,
    /// Each session's last model, for events that name none.
    sessions: SessionModels,
    stats: Arc<WriterStats>,
}

/// An operation's outcome, held until its transaction commits.
enum Pending {
    Event(oneshot::Sender<Result<Ack, WriteError>>, Ack),
    Reject(oneshot::Sender<Result<(), WriteError>>),
    Transcript(
        oneshot::Sender<Result<TranscriptAck, WriteError>>,
        TranscriptAck,
    ),
    Otel(oneshot::Sender<Result<OtelAck, WriteError>>, OtelAck),
    Ping(oneshot::Sender<Result<(), WriteError>>),
}

impl Pending {
    /// Answers the sender. A receiver that went away (client hung up) is not
    /// an error: the data is committed, or kept by its sender, either way.
    fn answer(self, result: Result<(), &WriteError>) {
        match (self, result) {
            (Pending::Event(tx, ack), Ok(())) => drop(tx.send(Ok(ack))),
            (Pending::Reject(tx), Ok(())) => drop(tx.send(Ok(()))),
            (Pending::Transcript(tx, counts), Ok(())) => drop(tx.send(Ok(counts))),
            (Pending::Otel(tx, counts), Ok(())) => drop(tx.send(Ok(counts))),
            (Pending::Ping(tx), Ok(())) => drop(tx.send(Ok(()))),
            (Pending::Event(tx, _), Err(e)) => drop(tx.send(Err(e.clone()))),
            (Pending::Reject(tx), Err(e)) => drop(tx.send(Err(e.clone()))),
            (Pending::Transcript(tx, _), Err(e)) => drop(tx.send(Err(e.clone()))),
            (Pending::Otel(tx, _), Err(e)) => drop(tx.send(Err(e.clone()))),
            (Pending::Ping(tx), Err(e)) => drop(tx.send(Err(e.clone()))),
        }
    }
}

/// One batch on its way to a commit.
#[derive(Default)]
struct Batch {
    /// Who to answer once the outcome is known, in arrival order.
    pending: Vec<Pending>,
    /// Other parts' writes, run after the commit in transactions of their own.
    after_commit: Vec<Write>,
    /// Some operation added or changed cost records.
    spend_changed: bool,
    /// Operations that write (not pings, reloads or after-commit runs).
    writes: u64,
    /// The first statement that failed; the rest of the batch is skipped.
    failure: Option<rusqlite::Error>,
    /// The summary tables' share of this batch, written just before the
    /// commit (and dropped with the batch if it fails).
    tally: Tally,
}

impl Batch {
    /// Runs `write` in the transaction unless the batch already failed;
    /// a failure is kept and the default stands in for the result.
    fn attempt<T: Default>(
        &mut self,
        tx: Option<&Transaction<'_>>,
        write: impl FnOnce(&Transaction<'_>, &mut Tally) -> rusqlite::Result<T>,
    ) -> T {
        let Some(tx) = tx.filter(|_| self.failure.is_none()) else {
            return T::default();
        };
        write(tx, &mut self.tally).unwrap_or_else(|e| {
            self.failure = Some(e);
            T::default()
        })
    }

    fn apply(
        &mut self,
        op: WriteOp,
        tx: Option<&Transaction<'_>>,
        prices: &mut Pricer,
        sessions: &mut SessionModels,
    ) {
        match op {
            WriteOp::Event(event, ack) => {
                let records = self.attempt(tx, |tx, tally| {
                    write_event(tx, prices, sessions, tally, &event)
                });
                // A plan window's reported use is what plan budgets watch.
                let plan = event.reported.as_ref().is_some_and(|r| !r.plan.is_empty());
                self.spend_changed |= records > 0 || plan;
                let id = event.hook_event_id;
                self.pending.push(Pending::Event(ack, Ack { id, records }));
                self.writes += 1;
            }
            WriteOp::Reject(rejection, ack) => {
                self.attempt(tx, |tx, tally| write_rejection(tx, tally, &rejection));
                self.pending.push(Pending::Reject(ack));
                self.writes += 1;
            }
            WriteOp::Transcript(batch, ack) => {
                let counts = self.attempt(tx, |tx, tally| {
                    write_transcript_batch(tx, prices, tally, &batch)
                });
                self.spend_changed |=
                    counts.added + counts.updated + counts.replaced + counts.events_replaced > 0
                        || !batch.plan.is_empty();
                self.pending.push(Pending::Transcript(ack, counts));
                self.writes += 1;
            }
            WriteOp::Otel(requests, responses, ack) => {
                let counts = self.attempt(tx, |tx, tally| {
                    write_otel_batch(tx, prices, tally, &requests, &responses)
                });
                self.spend_changed |= counts.added + counts.corrected > 0;
                self.pending.push(Pending::Otel(ack, counts));
                self.writes += 1;
            }
            WriteOp::Reload(table) => {
                tracing::info!(as_of = table.as_of(), "Price table reloaded.");
                prices.replace(table);
            }
            WriteOp::Ping(ack) => self.pending.push(Pending::Ping(ack)),
            WriteOp::Run(write) => self.after_commit.push(write),
        }
    }
}

impl Writer {
    pub(super) fn new(conn: Connection, prices: Arc<PriceTable>, stats: Arc<WriterStats>) -> Self {
        Writer {
            conn,
            prices: Pricer::new(prices),
            sessions: SessionModels::new(SESSION_MEMORY),
            stats,
        }
    }

    /// Commits batch after batch until every handle is dropped and the
    /// queue is drained.
    pub(super) fn run(mut self, mut rx: mpsc::Receiver<WriteOp>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            self.commit_batch(&mut batch);
        }
        tracing::debug!("Writer queue closed; writer thread exiting.");
    }

    /// Applies a batch in one transaction and answers every sender: all acks
    /// after the commit, or all errors when any statement or the commit fails.
    fn commit_batch(&mut self, ops: &mut Vec<WriteOp>) {
        // Borrow the connection apart from the rest of `self`, so statements
        // can run while the session memory and prices are used.
        let Writer {
            conn,
            prices,
            sessions,
            stats,
        } = self;
        let started = Instant::now();
        let mut batch = Batch {
            pending: Vec::with_capacity(ops.len()),
            ..Batch::default()
        };
        let tx = conn.transaction().map_err(|e| batch.failure = Some(e)).ok();
        for op in ops.drain(..) {
            batch.apply(op, tx.as_ref(), prices, sessions);
        }
        let result = match (tx, batch.failure) {
            (Some(tx), None) => batch.tally.flush(&tx).and_then(|()| tx.commit()),
            // Dropping the transaction rolls it back.
            (_, Some(e)) => Err(e),
            (None, None) => Ok(()),
        };
        if batch.writes > 0 {
            stats.batch_size.observe(batch.writes);
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            stats.commit_micros.observe(micros);
        }
        answer(batch.pending, result, stats, batch.spend_changed);
        for write in batch.after_commit {
            write(conn);
        }
    }
}

/// Answers every operation of a batch with its outcome.
fn answer(
    pending: Vec<Pending>,
    result: rusqlite::Result<()>,
    stats: &WriterStats,
    spend_changed: bool,
) {
    match result {
        Ok(()) => {
            for p in pending {
                if let Pending::Transcript(_, counts) = &p {
                    stats
                        .session_events_replaced
                        .fetch_add(counts.events_replaced as u64, Ordering::Relaxed);
                }
                p.answer(Ok(()));
            }
            if spend_changed {
                stats.spend_changed.notify_one();
                stats.records_changed.notify_one();
            }
        }
        Err(e) => {
            // Nothing of this batch is committed. Every sender still holds
            // its data (socket client, spool file), so nothing is lost.
            CommitFailed {
                error: &e,
                ops: pending.len(),
            }
            .emit(&stats.failed_commits);
            let err = WriteError::Unavailable(e.to_string());
            for p in pending {
                p.answer(Err(&err));
            }
        }
    }
}
