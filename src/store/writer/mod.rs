//! The writer: the one thread that owns the write connection. Everyone else
//! sends it work over a bounded channel and waits for an ack, which is sent
//! only after the transaction holding that work has committed.
//!
//! Work is batched: the thread takes whatever is queued into one
//! transaction, so throughput grows with load while a lone event is still
//! committed at once. Pricing happens here, at write time, because only this
//! thread knows each session's last model and holds the price table that
//! SIGHUP swaps.
//!
//! The parts, in the order work flows through them:
//! - this file: the handle the rest of the daemon holds ([`WriterHandle`],
//!   [`Receipt`], [`outcome`], [`spawn`]) and what it answers with
//!   ([`Ack`], [`WriteError`]);
//! - `stats`: the histograms and counters `/metrics` reads;
//! - `batch`: the thread's loop, one transaction per batch, answers after
//!   the commit;
//! - `hook`: hook events and rejections → rows;
//! - `transcript`: transcript records and offsets → rows;
//! - `reconcile`: pure: which snapshot of a request wins, and when a
//!   sidechain replay gives way; each source is a case of its `Rule`;
//! - `otel`: the agents' OTel usage events → rows: Claude Code's one
//!   record per request with the transcript's, Codex's and Gemini CLI's
//!   one source per session;
//! - `claude_code`: the agent names Claude Code's records are kept under;
//! - `stored`: a stored cost record read back and given a larger snapshot.
//!
//! Nothing here parses payloads or transcript lines (that is
//! [`crate::collect`]'s), and no other module runs statements on the write
//! connection except through [`WriterHandle::run`].

mod batch;
mod claude_code;
mod hook;
mod otel;
mod plan;
mod reconcile;
mod stats;
mod stored;
mod transcript;

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::pricing::PriceTable;
use crate::record::{HookEvent, Rejection, TranscriptBatch};
use batch::Writer;

pub use otel::OtelAck;
pub use stats::{
    Histogram, HistogramSnapshot, WriterStats, BATCH_SIZE_BOUNDS, COMMIT_MICROS_BOUNDS,
};
pub use transcript::TranscriptAck;

/// What an accepted event produced, for the socket ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub id: String,
    pub records: usize,
}

/// Why a write was not acknowledged. Either way nothing was committed, so the
/// sender must keep the event (spool file stays, `send` spools it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("the daemon is shutting down")]
    Closed,
}

// Events are nearly every operation, so the size gap wastes little queue
// space, while boxing them would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
enum WriteOp {
    Event(HookEvent, oneshot::Sender<Result<Ack, WriteError>>),
    Reject(Rejection, oneshot::Sender<Result<(), WriteError>>),
    Transcript(
        TranscriptBatch,
        oneshot::Sender<Result<TranscriptAck, WriteError>>,
    ),
    /// The usage events of one export, committed together: Claude Code's
    /// requests, Codex's and Gemini CLI's responses.
    Otel(
        Vec<crate::collect::otel::ApiRequest>,
        Vec<crate::collect::otel::SessionResponse>,
        oneshot::Sender<Result<OtelAck, WriteError>>,
    ),
    Reload(Arc<PriceTable>),
    /// Answered with the batch it rides in: proof the thread is alive and
    /// its transactions commit.
    Ping(oneshot::Sender<Result<(), WriteError>>),
    /// A small write of another part of the daemon (budgets from the config
    /// file, fired alerts), run on this thread's connection after the
    /// batch it rides in commits, in a transaction of its own: its failure
    /// cannot fail the events'. It answers through its own channel.
    Run(Write),
}

/// Another part's write, run on the writer's connection (see [`WriteOp::Run`]).
type Write = Box<dyn FnOnce(&mut Connection) + Send>;

/// A cheap, cloneable way to reach the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteOp>,
    /// What the thread has done, for `/metrics`.
    stats: Arc<WriterStats>,
}

/// The outcome of a queued write, delivered once its transaction commits.
pub type Receipt<T> = oneshot::Receiver<Result<T, WriteError>>;

/// Waits for a queued write; a writer that went away counts as closed.
pub async fn outcome<T>(receipt: Receipt<T>) -> Result<T, WriteError> {
    receipt.await.unwrap_or(Err(WriteError::Closed))
}

impl WriterHandle {
    /// Queues an accepted event. The receipt lets a connection keep reading
    /// while earlier lines commit.
    pub async fn queue_event(&self, event: HookEvent) -> Result<Receipt<Ack>, WriteError> {
        self.queue(|ack| WriteOp::Event(event, ack)).await
    }

    /// Queues a rejected input, kept with its reason.
    pub async fn queue_reject(&self, rejection: Rejection) -> Result<Receipt<()>, WriteError> {
        self.queue(|ack| WriteOp::Reject(rejection, ack)).await
    }

    /// Keeps a rejected input with its reason; returns once it is committed.
    pub async fn reject(&self, rejection: Rejection) -> Result<(), WriteError> {
        outcome(self.queue_reject(rejection).await?).await
    }

    /// Queues transcript records and the offset they were read up to, both
    /// committed in one transaction.
    pub async fn queue_transcript(
        &self,
        batch: TranscriptBatch,
    ) -> Result<Receipt<TranscriptAck>, WriteError> {
        self.queue(|ack| WriteOp::Transcript(batch, ack)).await
    }

    /// [`WriterHandle::queue_transcript`], returning once committed.
    pub async fn write_transcript(
        &self,
        batch: TranscriptBatch,
    ) -> Result<TranscriptAck, WriteError> {
        outcome(self.queue_transcript(batch).await?).await
    }

    /// Writes the usage events of one OTLP export in one transaction;
    /// returns once committed.
    pub async fn write_otel(
        &self,
        requests: Vec<crate::collect::otel::ApiRequest>,
        responses: Vec<crate::collect::otel::SessionResponse>,
    ) -> Result<OtelAck, WriteError> {
        outcome(
            self.queue(|ack| WriteOp::Otel(requests, responses, ack))
                .await?,
        )
        .await
    }

    async fn queue<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, WriteError>>) -> WriteOp,
    ) -> Result<Receipt<T>, WriteError> {
        let (ack, receipt) = oneshot::channel();
        self.submit(op(ack)).await?;
        Ok(receipt)
    }

    /// Swaps the price table; events queued after this are priced with it.
    pub async fn reload_prices(
        &self,
        prices: impl Into<Arc<PriceTable>>,
    ) -> Result<(), WriteError> {
        self.submit(WriteOp::Reload(prices.into())).await
    }

    /// A round trip through the writer's queue and a (possibly empty)
    /// transaction: `Ok` once the thread committed the batch it rode in.
    pub async fn ping(&self) -> Result<(), WriteError> {
        outcome(self.queue(WriteOp::Ping).await?).await
    }

    /// Runs `write` on the writer's connection, after the batch it rides in
    /// commits; `write` owns its transaction. Returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, WriteError> {
        let (done, result) = oneshot::channel();
        self.submit(WriteOp::Run(Box::new(move |conn| {
            let _ = done.send(write(conn));
        })))
        .await?;
        result.await.map_err(|_| WriteError::Closed)
    }

    /// What the writer thread has done since it started.
    pub fn stats(&self) -> &Arc<WriterStats> {
        &self.stats
    }

    async fn submit(&self, op: WriteOp) -> Result<(), WriteError> {
        self.tx.send(op).await.map_err(|_| WriteError::Closed)
    }

    /// A handle that does not keep the writer thread running.
    pub fn downgrade(&self) -> WeakWriterHandle {
        WeakWriterHandle {
            tx: self.tx.downgrade(),
            stats: self.stats.clone(),
        }
    }
}

/// A [`WriterHandle`] that lets the thread end: for a thread that may be
/// stuck in I/O when the daemon stops (the alert notifier), so that it does
/// not hold the writer's last commit up.
#[derive(Clone)]
pub struct WeakWriterHandle {
    tx: mpsc::WeakSender<WriteOp>,
    stats: Arc<WriterStats>,
}

impl WeakWriterHandle {
    /// The handle, while the writer still runs.
    pub fn upgrade(&self) -> Option<WriterHandle> {
        Some(WriterHandle {
            tx: self.tx.upgrade()?,
            stats: self.stats.clone(),
        })
    }
}

/// Starts the writer thread on an open write connection. The thread ends,
/// after committing everything queued, once every handle is dropped.
pub fn spawn(
    conn: Connection,
    prices: impl Into<Arc<PriceTable>>,
    queue: usize,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(queue.max(1));
    let stats = Arc::new(WriterStats::default());
    let writer = Writer::new(conn, prices.into(), stats.clone());
    let join = std::thread::Builder::new()
        .name("hookmeter-writer".into())
        .spawn(move || writer.run(rx))?;
    Ok((WriterHandle { tx, stats }, join))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RejectCode;

    #[tokio::test]
    async fn a_ping_round_trips_and_only_writing_batches_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let conn =
            crate::store::open_writer(&dir.path().join("t.db"), crate::config::Durability::Normal)
                .unwrap();
        let (writer, thread) = spawn(conn, PriceTable::embedded(), 8).unwrap();
        writer.ping().await.unwrap();
        assert_eq!(writer.stats().batch_size.snapshot().count, 0);
        writer
            .reject(Rejection {
                received_at: "2026-09-20T10:00:00.000Z".into(),
                source: "socket",
                origin: None,
                reason: "test".into(),
                code: RejectCode::NotJson,
                raw_text: "x".into(),
            })
            .await
            .unwrap();
        let batches = writer.stats().batch_size.snapshot();
        assert_eq!((batches.count, batches.sum), (1, 1));
        assert_eq!(writer.stats().commit_micros.snapshot().count, 1);
        drop(writer);
        tokio::task::spawn_blocking(move || thread.join().unwrap())
            .await
            .unwrap();
    }
}
