//! The push: the local database's changes, sent to a central PostgreSQL,
//! exactly once and outbound only (docs/push.md).
//!
//! The flow: read the changes above the cursor (`query::push`, on a
//! read-only connection) → one batch → one central transaction
//! (`store::central`) → only after its COMMIT, the cursor advanced
//! (`store::push`, through the writer in the daemon). A crash anywhere
//! sends a batch again, which the central upsert makes harmless.
//!
//! - this file: one pass over what is pending ([`push_pending`]), the
//!   daemon's task ([`run`]) and its counters ([`PushStats`]);
//! - `command`: `hookmeter push --init | --once | --status`;
//! - `connect`: the connection string completed as libpq would, and TLS.

pub mod command;
pub mod connect;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio_postgres::Client;

use crate::config::PushSettings;
use crate::query::push::Change;
use crate::store::central::{self, CentralError, Machine};
use crate::store::writer::WriterHandle;
pub use connect::Target;

/// Why a pass stopped, as the `reason` label of
/// `hookmeter_push_errors_total` says it.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The server could not be reached or refused the login.
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    /// The central schema is missing or newer.
    #[error("{0}")]
    Schema(CentralError),
    /// A statement or the commit failed centrally.
    #[error("the central server refused a batch: {0}")]
    Server(CentralError),
    /// The local database could not be read or the cursor written.
    #[error("local database: {0}")]
    Local(String),
}

impl PushError {
    pub fn reason(&self) -> &'static str {
        match self {
            PushError::Connect { .. } => "connect",
            PushError::Schema(_) => "schema",
            PushError::Server(_) => "server",
            PushError::Local(_) => "local",
        }
    }

    fn from_central(e: CentralError) -> Self {
        match e {
            CentralError::Postgres(_) => PushError::Server(e),
            _ => PushError::Schema(e),
        }
    }
}

/// Who this machine is centrally, from the settings and the local database.
pub fn machine(settings: &PushSettings, machine_id: String) -> Machine {
    Machine {
        id: machine_id,
        host: crate::send::hostname().unwrap_or_else(|| "unknown".into()),
        user: settings.user.clone(),
        labels: settings
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
            .collect(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Connects, or says which server would not answer and why.
pub async fn connect(target: &Target) -> Result<Client, PushError> {
    target.connect().await.map_err(|reason| PushError::Connect {
        server: target.server(),
        reason,
    })
}

/// The local side of a pass: where changes are read and the cursor kept.
pub trait Local {
    /// Changes above `cursor`, at most `limit`, oldest first.
    fn changes(
        &mut self,
        cursor: i64,
        limit: usize,
    ) -> impl std::future::Future<Output = Result<Vec<Change>, PushError>> + Send;
    /// The server committed everything up to `rev`.
    fn advance(
        &mut self,
        rev: i64,
    ) -> impl std::future::Future<Output = Result<(), PushError>> + Send;
}

/// Pushes the changes above `cursor`, batch after batch, all of them or
/// (`most`) whole batches until at least that many were sent; returns how
/// many were sent and the cursor reached. The cursor moves only after each
/// batch's central COMMIT.
pub async fn push_pending(
    client: &mut Client,
    machine: &Machine,
    local: &mut impl Local,
    mut cursor: i64,
    batch: usize,
    most: Option<u64>,
    stats: Option<&PushStats>,
) -> Result<(u64, i64), PushError> {
    let mut sent = 0u64;
    loop {
        let changes = local.changes(cursor, batch).await?;
        let Some(last) = changes.last().map(Change::rev) else {
            return Ok((sent, cursor));
        };
        central::push(client, machine, &changes)
            .await
            .map_err(PushError::from_central)?;
        local.advance(last).await?;
        cursor = last;
        sent += changes.len() as u64;
        if let Some(stats) = stats {
            stats.pushed(changes.len() as u64);
        }
        if changes.len() < batch || most.is_some_and(|most| sent >= most) {
            return Ok((sent, cursor));
        }
    }
}

/// The push's counters for `/metrics`; they live as long as the daemon.
#[derive(Debug, Default)]
pub struct PushStats {
    /// Changes (records and deletions) the server committed.
    pub records: AtomicU64,
    /// Changes not pushed yet, as last seen (-1 before the first look).
    pub lag: AtomicI64,
    /// When a pass last committed, Unix seconds (0: not yet).
    pub last_success: AtomicI64,
    /// Failed passes, by [`PushError::reason`].
    pub errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl PushStats {
    fn pushed(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
        self.last_success
            .store(jiff::Timestamp::now().as_second(), Ordering::Relaxed);
    }

    fn failed(&self, reason: &'static str) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(reason)
            .or_default() += 1;
    }

    /// Errors by reason, for `/metrics`.
    pub fn errors_by_reason(&self) -> Vec<(&'static str, u64)> {
        let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        errors.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// The daemon's local side: reads on a read-only connection of its own
/// (off the runtime's threads), the cursor written by the writer thread.
struct DaemonLocal {
    reader: Arc<Mutex<Connection>>,
    writer: WriterHandle,
}

impl DaemonLocal {
    /// Runs `read` on the reader, on a blocking thread: rusqlite is
    /// synchronous, and the runtime's threads serve ingestion.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, PushError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|e| e.into_inner());
            read(&conn).map_err(|e| PushError::Local(e.to_string()))
        })
        .await
        .map_err(|e| PushError::Local(e.to_string()))?
    }
}

impl Local for DaemonLocal {
    async fn changes(&mut self, cursor: i64, limit: usize) -> Result<Vec<Change>, PushError> {
        self.read(move |conn| crate::query::push::changes_after(conn, cursor, limit))
            .await
    }

    async fn advance(&mut self, rev: i64) -> Result<(), PushError> {
        let at = jiff::Timestamp::now().to_string();
        self.writer
            .run(move |conn| crate::store::push::advance_cursor(conn, rev, &at))
            .await
            .map_err(|e| PushError::Local(e.to_string()))?
            .map_err(|e| PushError::Local(e.to_string()))
    }
}

/// How often the task looks for changes no commit of this daemon woke it
/// for (`hookmeter import`, `reprice` in another process).
const POLL: Duration = Duration::from_secs(2);

/// The daemon's push task: pushes what is pending, then waits for the
/// writer's next commit and for the writer to go quiet ([`writer_quiet`]);
/// after a failure waits with exponential backoff and jitter. Ends when
/// `shutdown` resolves; ingestion never waits for it.
pub async fn run(
    settings: PushSettings,
    target: Target,
    db: PathBuf,
    writer: WriterHandle,
    stats: Arc<PushStats>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let started = tokio::select! {
        started = start(&settings, &db, &writer) => started,
        () = &mut shutdown => return,
    };
    let (reader, machine) = match started {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "The push cannot start; records are not pushed until the daemon restarts.");
            return;
        }
    };
    let mut local = DaemonLocal {
        reader: Arc::new(Mutex::new(reader)),
        writer: writer.clone(),
    };
    let mut client: Option<Client> = None;
    let mut cursor: Option<i64> = None;
    let mut backoff = settings.backoff_min;
    let mut last_error: Option<String> = None;
    // Set when the writer was still busy at `max_delay`: the pass then
    // sends what was pending when it began, not what arrives meanwhile.
    let mut overdue = false;
    tracing::info!(server = %target.server(), url = %settings.url.as_ref().map(|u| u.redacted()).unwrap_or_default(), "Pushing cost records.");
    loop {
        let pass = async {
            let at = match cursor {
                Some(at) => at,
                None => {
                    local
                        .read(|conn| crate::query::push::push_state(conn).map(|s| s.cursor))
                        .await?
                }
            };
            if client.as_ref().is_none_or(|c| c.is_closed()) {
                client = Some(connect(&target).await?);
            }
            let most = if overdue {
                let pending = local
                    .read(move |conn| crate::query::push::pending(conn, at))
                    .await?;
                Some(pending.unsigned_abs())
            } else {
                None
            };
            let c = client.as_mut().expect("connected above");
            let (sent, reached) = push_pending(
                c,
                &machine,
                &mut local,
                at,
                settings.batch,
                most,
                Some(&stats),
            )
            .await?;
            cursor = Some(reached);
            let lag = local
                .read(move |conn| crate::query::push::pending(conn, reached))
                .await?;
            Ok::<_, PushError>((sent, lag))
        };
        let outcome = tokio::select! {
            outcome = pass => outcome,
            () = &mut shutdown => return,
        };
        let wait = match outcome {
            Ok((sent, lag)) => {
                stats.lag.store(lag, Ordering::Relaxed);
                if sent > 0 {
                    tracing::debug!(records = sent, "Pushed.");
                }
                if last_error.take().is_some() {
                    tracing::info!(server = %target.server(), "The push is through again.");
                }
                backoff = settings.backoff_min;
                None
            }
            Err(e) => {
                stats.failed(e.reason());
                // A connection that failed mid-batch may be unusable.
                client = None;
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(error = %message, retry_in_ms = backoff.as_millis() as u64, "Push failed; nothing is lost, it is tried again.");
                    let at = jiff::Timestamp::now().to_string();
                    let noted = message.clone();
                    let _ = writer
                        .run(move |conn| crate::store::push::note_failure(conn, &at, &noted))
                        .await;
                }
                last_error = Some(message);
                let wait = jittered(backoff);
                backoff = (backoff * 2).min(settings.backoff_max);
                Some(wait)
            }
        };
        let changed = &writer.stats().records_changed;
        let woken = tokio::select! {
            () = &mut shutdown => return,
            () = changed.notified(), if wait.is_none() => true,
            () = tokio::time::sleep(wait.unwrap_or(POLL)) => false,
        };
        overdue = false;
        if woken {
            match writer_quiet(changed, settings.max_delay, &mut shutdown).await {
                Lull::Quiet => {}
                Lull::Overdue => overdue = true,
                Lull::ShuttingDown => return,
            }
        }
    }
}

/// How waiting for the writer to go quiet ended.
enum Lull {
    Quiet,
    /// `max_delay` passed with the writer still committing.
    Overdue,
    ShuttingDown,
}

/// How long the writer must commit nothing for the push to count it quiet.
const QUIET: Duration = Duration::from_millis(250);

/// After a commit woke the push: waits until the writer has committed
/// nothing for [`QUIET`], or `max_delay` has passed, whichever is first.
/// The push's reads, the protocol and (often) the server share the
/// machine's cores with ingestion; waiting for a lull takes them out of a
/// burst, and sends the burst in full batches instead of one small pass per
/// commit. Under load that never pauses, a pass still runs every
/// `max_delay`, and sends what was pending when it began.
async fn writer_quiet<F: std::future::Future<Output = ()>>(
    changed: &tokio::sync::Notify,
    max_delay: Duration,
    shutdown: &mut std::pin::Pin<&mut F>,
) -> Lull {
    if max_delay.is_zero() {
        return Lull::Quiet;
    }
    let deadline = tokio::time::Instant::now() + max_delay;
    loop {
        tokio::select! {
            () = &mut *shutdown => return Lull::ShuttingDown,
            () = tokio::time::sleep_until(deadline) => return Lull::Overdue,
            () = tokio::time::sleep(QUIET) => return Lull::Quiet,
            () = changed.notified() => {}
        }
    }
}

/// The reader and the machine id (made through the writer on first need).
async fn start(
    settings: &PushSettings,
    db: &Path,
    writer: &WriterHandle,
) -> Result<(Connection, Machine), PushError> {
    let id = writer
        .run(|conn| crate::store::push::machine_id(conn))
        .await
        .map_err(|e| PushError::Local(e.to_string()))?
        .map_err(|e| PushError::Local(e.to_string()))?;
    let reader = crate::store::open_reader(db).map_err(|e| PushError::Local(e.to_string()))?;
    Ok((reader, machine(settings, id)))
}

/// `wait` give or take a quarter, so machines that lost the same server
/// do not all come back at the same instant.
fn jittered(wait: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher as _};
    // A fresh RandomState is freshly keyed: its hash of nothing is random enough.
    let h = std::collections::hash_map::RandomState::new().build_hasher();
    let unit = (h.finish() % 1000) as f64 / 1000.0; // 0 ≤ unit < 1
    wait.mul_f64(0.75 + unit * 0.5)
}
