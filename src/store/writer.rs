//! The writer: the one thread that owns the write connection. Everyone else
//! sends it work over a bounded channel and waits for an ack, which is sent
//! only after the transaction holding that work has committed.
//!
//! Work is batched: the thread takes whatever is queued (up to
//! [`MAX_BATCH`]) into one transaction, so throughput grows with load while a
//! lone event is still committed at once. Pricing happens here, at write
//! time, because only this thread knows each session's last model and holds
//! the price table that SIGHUP swaps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use crate::collect::transcript::{merge_tool_names, snapshot_rank};
use crate::collect::SessionModels;
use crate::collect::Usage;
use crate::internal_events::CommitFailed;
use crate::pricing::{PriceTable, Pricer};
use crate::record::{HookEvent, Rejection, TranscriptBatch, TranscriptOffset, TranscriptRecord};
use crate::store::rollup::{Contribution, Tally};

/// Most operations committed in one transaction: bounds the latency a batch adds.
const MAX_BATCH: usize = 2048;
/// Sessions whose last model is remembered in memory (older ones are looked up).
const SESSION_MEMORY: usize = 10_000;

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
    Reload(Box<PriceTable>),
    /// Answered with the batch it rides in: proof the thread is alive and
    /// its transactions commit.
    Ping(oneshot::Sender<Result<(), WriteError>>),
    /// A small write of another part of the daemon (budgets from the config
    /// file, fired alerts), run on this thread's connection after the
    /// batch it rides in commits, in a transaction of its own: its failure
    /// cannot fail the events'. It answers through its own channel.
    Run(Box<dyn FnOnce(&mut Connection) + Send>),
}

/// A cheap, cloneable way to reach the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteOp>,
    /// What the thread has done, for `/metrics`.
    stats: Arc<WriterStats>,
}

/// Upper bounds of the batch-size histogram, in operations per transaction.
pub const BATCH_SIZE_BOUNDS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
/// Upper bounds of the commit-latency histogram, in microseconds.
pub const COMMIT_MICROS_BOUNDS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Counters the writer thread bumps and readers (`/metrics`) read, without a
/// lock on either side. They live as long as the process, not the database.
#[derive(Debug)]
pub struct WriterStats {
    /// Operations (events, rejections, transcript batches) per transaction.
    pub batch_size: Histogram<12>,
    /// Time from the start of a batch's transaction to its commit returning.
    pub commit_micros: Histogram<14>,
    /// Transactions that failed; their operations were answered with an error.
    pub failed_commits: AtomicU64,
    /// Woken after a commit that added or changed cost records: spend
    /// changed, so budgets are worth checking.
    pub spend_changed: tokio::sync::Notify,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            batch_size: Histogram::new(BATCH_SIZE_BOUNDS),
            commit_micros: Histogram::new(COMMIT_MICROS_BOUNDS),
            failed_commits: AtomicU64::new(0),
            spend_changed: tokio::sync::Notify::new(),
        }
    }
}

/// Observations counted into fixed buckets (`value <= bound`), plus one
/// bucket for everything above the last bound.
#[derive(Debug)]
pub struct Histogram<const N: usize> {
    bounds: [u64; N],
    /// `buckets[i]` counts values in `(bounds[i-1], bounds[i]]`; the last
    /// one counts values above every bound. Not cumulative.
    buckets: Vec<AtomicU64>,
    sum: AtomicU64,
}

/// A histogram as read at one moment: cumulative counts, Prometheus-style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// (upper bound, observations at or below it), bounds ascending.
    pub cumulative: Vec<(u64, u64)>,
    /// Every observation (the `+Inf` bucket).
    pub count: u64,
    pub sum: u64,
}

impl<const N: usize> Histogram<N> {
    pub fn new(bounds: [u64; N]) -> Self {
        Histogram {
            bounds,
            buckets: (0..=N).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: u64) {
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// The counts now. Buckets are read one by one while the writer may
    /// add to them; the count is the sum of what was read, so the snapshot
    /// is always self-consistent.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(N);
        let mut running = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((*bound, running));
        }
        let count = running + self.buckets[N].load(Ordering::Relaxed);
        HistogramSnapshot {
            cumulative,
            count,
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
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

    async fn queue<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, WriteError>>) -> WriteOp,
    ) -> Result<Receipt<T>, WriteError> {
        let (ack, receipt) = oneshot::channel();
        self.submit(op(ack)).await?;
        Ok(receipt)
    }

    /// Swaps the price table; events queued after this are priced with it.
    pub async fn reload_prices(&self, prices: PriceTable) -> Result<(), WriteError> {
        self.submit(WriteOp::Reload(Box::new(prices))).await
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
}

/// Starts the writer thread on an open write connection. The thread ends,
/// after committing everything queued, once every handle is dropped.
pub fn spawn(
    conn: Connection,
    prices: PriceTable,
    queue: usize,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(queue.max(1));
    let stats = Arc::new(WriterStats::default());
    let thread_stats = stats.clone();
    let join = std::thread::Builder::new()
        .name("hookmeter-writer".into())
        .spawn(move || {
            Writer {
                conn,
                prices: Pricer::new(prices),
                sessions: SessionModels::new(SESSION_MEMORY),
                stats: thread_stats,
            }
            .run(rx)
        })?;
    Ok((WriterHandle { tx, stats }, join))
}

struct Writer {
    conn: Connection,
    prices: Pricer,
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
    Ping(oneshot::Sender<Result<(), WriteError>>),
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<WriteOp>) {
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
    fn commit_batch(&mut self, batch: &mut Vec<WriteOp>) {
        // Borrow the connection apart from the rest of `self`, so statements
        // can run while the session memory and prices are used.
        let Writer {
            conn,
            prices,
            sessions,
            stats,
        } = self;
        let started = Instant::now();
        let mut pending = Vec::with_capacity(batch.len());
        let mut after_commit = Vec::new();
        let mut spend_changed = false;
        let mut writes = 0u64;
        let mut failure = None;
        let tx = conn.transaction().map_err(|e| failure = Some(e)).ok();
        // The summary tables' share of this batch, written just before the
        // commit (and dropped with the batch if it fails).
        let mut tally = Tally::default();
        for op in batch.drain(..) {
            match op {
                WriteOp::Event(event, ack) => {
                    let mut records = 0;
                    if let (Some(tx), None) = (&tx, &failure) {
                        match write_event(tx, prices, sessions, &mut tally, &event) {
                            Ok(n) => records = n,
                            Err(e) => failure = Some(e),
                        }
                    }
                    spend_changed |= records > 0;
                    let id = event.hook_event_id;
                    pending.push(Pending::Event(ack, Ack { id, records }));
                    writes += 1;
                }
                WriteOp::Reject(rejection, ack) => {
                    if let (Some(tx), None) = (&tx, &failure) {
                        if let Err(e) = write_rejection(tx, &mut tally, &rejection) {
                            failure = Some(e);
                        }
                    }
                    pending.push(Pending::Reject(ack));
                    writes += 1;
                }
                WriteOp::Transcript(batch, ack) => {
                    let mut counts = TranscriptAck::default();
                    if let (Some(tx), None) = (&tx, &failure) {
                        if let Err(e) =
                            write_transcript_batch(tx, prices, &mut tally, &batch, &mut counts)
                        {
                            failure = Some(e);
                        }
                    }
                    spend_changed |= counts.added + counts.updated + counts.replaced > 0;
                    pending.push(Pending::Transcript(ack, counts));
                    writes += 1;
                }
                WriteOp::Reload(table) => {
                    tracing::info!(as_of = table.as_of(), "Price table reloaded.");
                    prices.replace(*table);
                }
                WriteOp::Ping(ack) => pending.push(Pending::Ping(ack)),
                WriteOp::Run(write) => after_commit.push(write),
            }
        }
        let result = match (tx, failure) {
            (Some(tx), None) => tally.flush(&tx).and_then(|()| tx.commit()),
            // Dropping the transaction rolls it back.
            (_, Some(e)) => Err(e),
            (None, None) => Ok(()),
        };
        if writes > 0 {
            stats.batch_size.observe(writes);
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            stats.commit_micros.observe(micros);
        }
        match result {
            Ok(()) => {
                for p in pending {
                    // A receiver that went away (client hung up) is not an
                    // error: the data is committed either way.
                    match p {
                        Pending::Event(tx, ack) => drop(tx.send(Ok(ack))),
                        Pending::Reject(tx) => drop(tx.send(Ok(()))),
                        Pending::Transcript(tx, counts) => drop(tx.send(Ok(counts))),
                        Pending::Ping(tx) => drop(tx.send(Ok(()))),
                    }
                }
                if spend_changed {
                    stats.spend_changed.notify_one();
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
                    match p {
                        Pending::Event(tx, _) => drop(tx.send(Err(err.clone()))),
                        Pending::Reject(tx) => drop(tx.send(Err(err.clone()))),
                        Pending::Transcript(tx, _) => drop(tx.send(Err(err.clone()))),
                        Pending::Ping(tx) => drop(tx.send(Err(err.clone()))),
                    }
                }
            }
        }
        for write in after_commit {
            write(conn);
        }
    }
}

fn write_rejection(
    tx: &rusqlite::Transaction<'_>,
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

/// Writes one event and its cost record; returns how many cost records it has.
fn write_event(
    tx: &rusqlite::Transaction<'_>,
    prices: &mut Pricer,
    sessions: &mut SessionModels,
    tally: &mut Tally,
    event: &HookEvent,
) -> rusqlite::Result<usize> {
    if let (Some(session), Some(model)) = (&event.session_id, &event.model) {
        sessions.remember(session, model);
    }
    let inserted = tx.prepare_cached(
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
    ])?;
    if inserted > 0 {
        tally.event("accepted", event.source.as_str(), "");
    }
    let Some(charge) = event.charge.as_ref().filter(|_| billable(event)) else {
        return Ok(0);
    };

    let model = match &event.model {
        Some(model) => Some(model.clone()),
        None => match &event.session_id {
            Some(session) => session_model(tx, sessions, session)?,
            None => None,
        },
    };
    let model = model.unwrap_or_else(|| "unknown".to_string());
    let priced = prices.price(&model, &charge.usage, charge.fast);
    // A non-LLM entry, or one with no tokens, costs what its source reported.
    let (estimated, pricing_source) = match charge.reported_cost_usd {
        Some(reported) if charge.service != "llm" || charge.usage.is_empty() => {
            (reported, "reported")
        }
        _ => (priced.cost_usd, priced.source.as_str()),
    };
    let u = &charge.usage;
    let contribution = |timestamp, provider, model, agent_id, project| Contribution {
        timestamp,
        provider,
        model,
        agent_id,
        project,
        cost_usd: estimated,
        usage: u,
    };
    // A new event brings a new record: insert first, and look the stored
    // one up only when the insert finds it there (a redelivery).
    let added = tx
        .prepare_cached(
            "INSERT INTO cost_records (timestamp, session_id, agent_id, task_id, project,
                 provider, model, input_tokens, output_tokens, cache_read_tokens,
                 cache_write_tokens, cache_write_1h_tokens, reasoning_tokens,
                 estimated_cost_usd, reported_cost_usd, pricing_source, tool_name,
                 hook_event_id, source, service, labels_json, payload_json, fast)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23)
             ON CONFLICT(hook_event_id) DO NOTHING",
        )?
        .execute(params![
            event.timestamp,
            event.session_id,
            event.agent_id,
            event.task_id,
            event.project,
            priced.provider,
            model,
            u.input as i64,
            u.output as i64,
            u.cache_read as i64,
            u.cache_write as i64,
            u.cache_write_1h as i64,
            u.reasoning as i64,
            estimated,
            charge.reported_cost_usd,
            pricing_source,
            event.tool_name,
            event.hook_event_id,
            event.source.as_str(),
            charge.service,
            event.labels_json,
            // The payload is stored once, in hook_events, under the same
            // hook_event_id; this column is for records without a hook event.
            None::<&str>,
            charge.fast,
        ])?;
    if added > 0 {
        tally.add(&contribution(
            &event.timestamp,
            &priced.provider,
            &model,
            &event.agent_id,
            event.project.as_deref(),
        ));
        return Ok(1);
    }
    match stored_record(tx, RecordKey::HookEventId(&event.hook_event_id))? {
        // Streaming sources repeat a record with growing counts: the largest
        // snapshot wins, and an identical redelivery changes nothing.
        Some(old) if hook_snapshot_is_larger(u, &old.usage) => {
            let snapshot = Snapshot {
                usage: u,
                cost_usd: estimated,
                pricing_source,
                tools: event.tool_name.as_deref(),
                fast: charge.fast,
                timestamp: None,
            };
            update_snapshot(tx, old.id, &snapshot)?;
            tally.remove(&old.contribution());
            tally.add(&contribution(
                &old.timestamp,
                &old.provider,
                &old.model,
                &old.agent_id,
                old.project.as_deref(),
            ));
        }
        _ => {}
    }
    Ok(1)
}

/// A larger snapshot of a stored record: what replaces its counts.
struct Snapshot<'a> {
    usage: &'a Usage,
    cost_usd: f64,
    pricing_source: &'a str,
    tools: Option<&'a str>,
    fast: bool,
    /// A new time for the record; `None` keeps the stored one.
    timestamp: Option<&'a str>,
}

fn update_snapshot(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    s: &Snapshot<'_>,
) -> rusqlite::Result<()> {
    let u = s.usage;
    tx.prepare_cached(
        "UPDATE cost_records SET input_tokens = ?2, output_tokens = ?3, cache_read_tokens = ?4,
             cache_write_tokens = ?5, cache_write_1h_tokens = ?6, reasoning_tokens = ?7,
             estimated_cost_usd = ?8, pricing_source = ?9, tool_name = ?10, fast = ?11,
             timestamp = coalesce(?12, timestamp)
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
        s.fast,
        s.timestamp,
    ])?;
    Ok(())
}

/// The order a hook event's repeated record is replaced in: more output,
/// then a larger prompt.
fn hook_snapshot_is_larger(new: &Usage, old: &Usage) -> bool {
    let prompt = |u: &Usage| u.input + u.cache_read + u.cache_write;
    new.output > old.output || (new.output == old.output && prompt(new) > prompt(old))
}

/// A stored cost record: what the rollup holds of it, its tools, its id.
struct StoredRecord {
    id: i64,
    timestamp: String,
    provider: String,
    model: String,
    agent_id: String,
    project: Option<String>,
    cost_usd: f64,
    usage: Usage,
    tool_name: Option<String>,
}

impl StoredRecord {
    fn contribution(&self) -> Contribution<'_> {
        Contribution {
            timestamp: &self.timestamp,
            provider: &self.provider,
            model: &self.model,
            agent_id: &self.agent_id,
            project: self.project.as_deref(),
            cost_usd: self.cost_usd,
            usage: &self.usage,
        }
    }
}

/// The cost record whose `column` (`id` or `hook_event_id`) is `value`.
/// Which key finds a stored record; each has its own fixed statement, so the
/// writer's hot path builds no SQL text.
enum RecordKey<'a> {
    Id(i64),
    HookEventId(&'a str),
}

fn stored_record(
    tx: &rusqlite::Transaction<'_>,
    key: RecordKey<'_>,
) -> rusqlite::Result<Option<StoredRecord>> {
    macro_rules! select_where {
        ($column:literal) => {
            concat!(
                "SELECT input_tokens, cache_read_tokens, cache_write_tokens,
                        cache_write_1h_tokens, output_tokens, reasoning_tokens, id, timestamp,
                        provider, model, agent_id, project, estimated_cost_usd, tool_name
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
            usage: super::usage_at(r, 0)?,
            id: r.get(6)?,
            timestamp: r.get(7)?,
            provider: r.get(8)?,
            model: r.get(9)?,
            agent_id: r.get(10)?,
            project: r.get(11)?,
            cost_usd: r.get(12)?,
            tool_name: r.get(13)?,
        })
    })
    .optional()
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
    tx: &rusqlite::Transaction<'_>,
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
}

/// Writes a transcript batch's records, then its offset.
fn write_transcript_batch(
    tx: &rusqlite::Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    batch: &TranscriptBatch,
    counts: &mut TranscriptAck,
) -> rusqlite::Result<()> {
    for record in &batch.records {
        match write_transcript_record(tx, prices, tally, record, &mut counts.replaced)? {
            Written::Added => counts.added += 1,
            Written::Updated => counts.updated += 1,
            Written::Unchanged => counts.unchanged += 1,
            Written::Replay => counts.replays += 1,
        }
    }
    if let Some(offset) = &batch.offset {
        write_offset(tx, offset)?;
    }
    Ok(())
}

/// How one transcript record was written.
enum Written {
    Added,
    Updated,
    Unchanged,
    Replay,
}

/// Main-thread records carry the agent's own name; subagents' carry `subagent:…`.
const MAIN_AGENT: &str = "claude-code";

/// A record already counting this API message under some requestId.
struct Known {
    request_id: String,
    record_id: i64,
    /// `None` when the record is gone (deleted by hand): nothing counts it.
    subagent: Option<bool>,
}

/// Writes one transcript record: the largest snapshot wins, tool names
/// accumulate across the lines of one message, and a sidechain replay of a
/// main-thread message (same message id, another requestId) is not counted twice.
fn write_transcript_record(
    tx: &rusqlite::Transaction<'_>,
    prices: &mut Pricer,
    tally: &mut Tally,
    record: &TranscriptRecord,
    replaced: &mut usize,
) -> rusqlite::Result<Written> {
    let line = &record.line;
    let request = line.request_id.as_deref().unwrap_or("");
    // Everything known about this API message, in one lookup: message ids
    // are unique across sessions, and every transcript record has a row here.
    let known: Vec<Known> = tx
        .prepare_cached(
            "SELECT a.request_id, a.record_id, c.agent_id FROM api_messages a
             LEFT JOIN cost_records c ON c.id = a.record_id WHERE a.message_id = ?1",
        )?
        .query_map([&line.message_id], |r| {
            Ok(Known {
                request_id: r.get(0)?,
                record_id: r.get(1)?,
                subagent: r
                    .get::<_, Option<String>>(2)?
                    .map(|agent| agent.starts_with("subagent:")),
            })
        })?
        .collect::<Result<_, _>>()?;
    // Records of the same message under other requestIds: the main thread's
    // and its sidechain replays'.
    let others = || {
        known
            .iter()
            .filter(|k| k.request_id != request && k.subagent.is_some())
    };
    if line.sidechain {
        if others().any(|k| k.subagent == Some(false)) {
            return Ok(Written::Replay);
        }
    } else {
        // The replay was stored first (files read out of order): the main
        // thread's record is the one that counts.
        for replay in others().filter(|k| k.subagent == Some(true)) {
            // The delete trigger takes the record out of the rollup, which
            // must first hold what this transaction added so far.
            tally.flush(tx)?;
            tx.prepare_cached("DELETE FROM cost_records WHERE id = ?1")?
                .execute([replay.record_id])?;
            tx.prepare_cached(
                "DELETE FROM api_messages WHERE message_id = ?1 AND request_id = ?2",
            )?
            .execute([&line.message_id, &replay.request_id])?;
            *replaced += 1;
        }
    }

    // One API call, one record: a copy in a resumed session merges into the
    // record of the session that first showed it.
    let first = known
        .iter()
        .find(|k| k.request_id == request && k.subagent.is_some());
    let existing = match first {
        Some(k) => stored_record(tx, RecordKey::Id(k.record_id))?,
        None => None,
    };
    let u = &line.usage;
    let tools = merge_tool_names(
        existing
            .as_ref()
            .and_then(|e| e.tool_name.as_deref())
            .unwrap_or(""),
        &line.tool_names,
    );
    let tools = (!tools.is_empty()).then_some(tools);
    let priced = prices.price(&line.model, u, line.fast);
    let agent = line.agent_id.as_deref().unwrap_or(MAIN_AGENT);
    let timestamp = line
        .timestamp
        .map(crate::record::format_timestamp)
        .unwrap_or_else(|| crate::record::format_timestamp(jiff::Timestamp::now()));
    match existing {
        None => {
            tx.prepare_cached(
                "INSERT INTO cost_records (timestamp, session_id, agent_id, project, provider, model,
                     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                     cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd, reported_cost_usd,
                     pricing_source, tool_name, hook_event_id, source, service, fast)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 'llm', ?19)",
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
                line.fast,
            ])?;
            tx.prepare_cached(
                "INSERT INTO api_messages (message_id, request_id, record_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (message_id, request_id) DO UPDATE SET record_id = excluded.record_id",
            )?
            .execute(params![line.message_id, request, tx.last_insert_rowid()])?;
            tally.add(&Contribution {
                timestamp: &timestamp,
                provider: &priced.provider,
                model: &line.model,
                agent_id: agent,
                project: record.project.as_deref(),
                cost_usd: priced.cost_usd,
                usage: u,
            });
            Ok(Written::Added)
        }
        Some(old) => {
            // The same rank the parser merges snapshots by: one notion of "larger".
            if snapshot_rank(u) > snapshot_rank(&old.usage) {
                let snapshot = Snapshot {
                    usage: u,
                    cost_usd: priced.cost_usd,
                    pricing_source: priced.source.as_str(),
                    tools: tools.as_deref(),
                    fast: line.fast,
                    timestamp: Some(&timestamp),
                };
                update_snapshot(tx, old.id, &snapshot)?;
                tally.remove(&old.contribution());
                tally.add(&Contribution {
                    timestamp: &timestamp,
                    cost_usd: priced.cost_usd,
                    usage: u,
                    ..old.contribution()
                });
                Ok(Written::Updated)
            } else if tools != old.tool_name {
                tx.prepare_cached("UPDATE cost_records SET tool_name = ?2 WHERE id = ?1")?
                    .execute(params![old.id, tools])?;
                Ok(Written::Updated)
            } else {
                Ok(Written::Unchanged)
            }
        }
    }
}

fn write_offset(tx: &rusqlite::Transaction<'_>, offset: &TranscriptOffset) -> rusqlite::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RejectCode;

    #[test]
    fn histogram_buckets_are_upper_inclusive_and_cumulative() {
        let h = Histogram::new([1, 4, 16]);
        for value in [0, 1, 2, 4, 5, 16, 17, 1000] {
            h.observe(value);
        }
        let snap = h.snapshot();
        assert_eq!(snap.cumulative, vec![(1, 2), (4, 4), (16, 6)]);
        assert_eq!(snap.count, 8);
        assert_eq!(snap.sum, 1045);
    }

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
