//! `hookmeter serve`: wires the sources to the writer, and owns the process
//! lifecycle: start-up checks, reload, and the drain (docs/systemd.md#signals);
//! `prices` keeps the prices current while it runs (the update layer
//! watched, `auto_update`).
//!
//! [`serve`] never listens to signals itself: its caller hands it a
//! [`Control`] (mini-redis's `run(listener, shutdown)`). The binary passes
//! [`Signals`] (SIGTERM/SIGINT stop, a second one exits at once, SIGHUP
//! reloads); a test passes [`stop_on`] any future, and runs the whole
//! lifecycle in-process. This module must never parse flags or print for a
//! person: that is the binary's.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::net::UnixListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::budget::alerts::{Guard, Watcher};
use crate::budget::notify::Notifier;
use crate::config::{AlertSettings, Config, Watch};
use crate::http::{self, PricesInForce};
use crate::ingest::http::HookEdge;
use crate::ingest::transcript::Tail;
use crate::ingest::watch::{log_roots, LogWatch};
use crate::ingest::{socket, spool, Decoder};
use crate::internal_events::TranscriptCounters;
use crate::record::Source;
use crate::store::{self, writer};
use crate::systemd::{self, Passed};

mod prices;

/// Operations queued for the writer before senders wait: a few batches' worth.
const WRITER_QUEUE: usize = 8192;

/// What the caller of [`serve`] tells the running daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Reload prices, the config file's budgets and `[alerts]` (SIGHUP).
    Reload,
    /// Stop accepting and drain; a second `Stop` during the drain exits the
    /// process at once (SIGTERM, SIGINT).
    Stop,
}

/// Where a running daemon's orders come from: the process's signals in the
/// binary, any future in a test. The caller owns it, so it exists before
/// the daemon is ready: a stop that arrives as soon as the socket answers
/// drains, not kills.
pub trait Control: Send + 'static {
    /// The next order; pending while there is none.
    fn next(&mut self) -> impl Future<Output = Order> + Send;
}

/// The stop and reload signals: SIGTERM and SIGINT stop, SIGHUP reloads.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Listens to the signals from now on; needs a running tokio runtime.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

impl Control for Signals {
    async fn next(&mut self) -> Order {
        tokio::select! {
            _ = self.term.recv() => Order::Stop,
            _ = self.int.recv() => Order::Stop,
            _ = self.hup.recv() => Order::Reload,
        }
    }
}

/// A [`Control`] that stops once when `shutdown` resolves and never
/// reloads: what a test, or an embedder with its own shutdown, passes.
pub fn stop_on(shutdown: impl Future<Output = ()> + Send + 'static) -> impl Control {
    StopOn(Some(Box::pin(shutdown)))
}

/// See [`stop_on`]; `None` once the stop was given.
struct StopOn(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Control for StopOn {
    async fn next(&mut self) -> Order {
        match self.0.take() {
            Some(shutdown) => {
                shutdown.await;
                Order::Stop
            }
            None => std::future::pending().await,
        }
    }
}

/// Runs the daemon until `control` orders a stop, then drains and returns.
///
/// An HTTP listen address that must not be used as configured fails first,
/// with an [`http::ListenError`] (the command line exits 2 on it).
pub async fn serve(config: Config, control: impl Control) -> anyhow::Result<()> {
    raise_open_file_limit();
    let passed = Passed::of_this_process();
    let manager = systemd::Notifier;
    let http_listen = http::plan(&config)?;
    let grpc_listen = http::grpc::plan(&config)?;
    // One table, shared by the writer and the HTTP API.
    let prices = Arc::new(config.load_prices()?);
    return_freed_memory();
    let prices_in_force: PricesInForce = Arc::new(RwLock::new(prices.clone()));
    let conn = store::open_writer(&config.db, config.durability)?;
    // Before any check reads them: the file's budgets as the file says now.
    crate::budget::sync_config(&conn, &config.budgets)
        .context("cannot store the budgets of the config file")?;
    let (writer, writer_thread) = writer::spawn(conn, prices, WRITER_QUEUE)?;
    spool::prepare_dir(&config.spool)
        .with_context(|| format!("cannot create spool directory {}", config.spool.display()))?;
    // The socket first: a second daemon is told about the first one, not
    // about a port in use.
    let (listener, own_socket) = listen(&config.socket, &passed)?;
    let http_listener = match &http_listen {
        Some(listen) => match http::bind(listen).await {
            Ok(bound) => Some(bound),
            Err(e) => {
                remove_socket(own_socket.as_deref());
                return Err(e);
            }
        },
        None => None,
    };
    let grpc_listener = match &grpc_listen {
        Some(listen) => match http::grpc::bind(listen).await {
            Ok(bound) => Some(bound),
            // The default port is often a local OpenTelemetry collector's:
            // that must not keep the daemon from starting.
            Err(e) if config.otlp_grpc_by_default() => {
                tracing::warn!(
                    addr = %listen.given,
                    "OTLP/gRPC's default address {} cannot be used (taken by a local \
                     OpenTelemetry collector?), so hookmeter serves without OTLP/gRPC: {e}",
                    listen.given,
                );
                None
            }
            Err(e) => {
                remove_socket(own_socket.as_deref());
                return Err(e.into());
            }
        },
        None => None,
    };

    let dashboard = http_listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(http::dashboard_url);

    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    // The tail stops on its own token, after the sources: events still
    // draining from connections may name transcripts to read.
    let tail_stop = CancellationToken::new();
    let counters = Arc::new(TranscriptCounters::default());
    let mut tail = Tail::new(
        config.transcripts.clone(),
        config.limits.usage,
        writer.clone(),
        config.db.clone(),
        counters.clone(),
    );
    // The watch finds the agents' log files with no hook naming them, and
    // hands them to the tail: one reader, one offset per file.
    if config.transcripts.watch != Watch::Off {
        let (found_tx, found_rx) = tokio::sync::mpsc::channel(1024);
        tail = tail.with_watch(found_rx);
        let watch = LogWatch::new(
            config.transcripts.watch,
            log_roots(&config.transcripts),
            found_tx,
            counters.clone(),
        );
        tokio::spawn(watch.run(tail_stop.clone()));
    } else {
        tracing::info!("The watch of the log roots is off (transcripts.watch = false): only transcripts hook events name are read.");
    }
    let (tail, tail_task) = tail.spawn(tail_stop.clone());
    let decoder = |edge| Decoder {
        policy: config.store_payloads,
        payload_bytes: config.limits.payload_bytes,
        source: Source::Hook,
        edge,
        usage_limits: config.limits.usage,
    };
    let guard = Guard::default();
    // Alerts left pending by an earlier run are delivered from the start.
    let notifier = Notifier::spawn(&config.alerts, config.db.clone(), writer.clone())
        .context("cannot start the alert notifier")?;
    let (alert_settings, settings_rx) = tokio::sync::watch::channel(config.alerts.clone());
    // Checked at once: a threshold crossed while the daemon was down alerts now.
    tasks.spawn(
        Watcher {
            db: config.db.clone(),
            writer: writer.clone(),
            guard: guard.clone(),
            notifier: notifier.clone(),
            settings: settings_rx,
        }
        .run(shutdown.clone()),
    );
    // The push: a task of its own, reading on its own connection; the
    // writer only ever runs its small cursor writes.
    let push_stats = match &config.push.url {
        None => None,
        Some(_) => match crate::push::Target::resolve(&config.push, &|var| std::env::var(var).ok())
        {
            Ok(target) => {
                let stats = Arc::new(crate::push::PushStats::default());
                stats.lag.store(-1, std::sync::atomic::Ordering::Relaxed);
                let stop = shutdown.clone();
                tasks.spawn(crate::push::run(
                    config.push.clone(),
                    target,
                    config.db.clone(),
                    writer.clone(),
                    stats.clone(),
                    async move { stop.cancelled().await },
                ));
                Some(stats)
            }
            Err(e) => {
                tracing::error!(error = %e, "The push is off: its settings cannot be used.");
                None
            }
        },
    };
    let socket_shared = Arc::new(socket::Shared {
        writer: writer.clone(),
        tail: tail.clone(),
        decoder: decoder("socket"),
        limits: config.limits.clone(),
        guard: guard.clone(),
    });
    let spool = Arc::new(spool::Spool {
        dir: config.spool.clone(),
        writer: writer.clone(),
        tail: tail.clone(),
        decoder: decoder("spool"),
        limits: config.limits.clone(),
    });
    let sources = [
        tokio::spawn(socket::serve(
            listener,
            socket_shared,
            shutdown.clone(),
            tasks.clone(),
        )),
        tokio::spawn(spool.run(shutdown.clone(), tasks.clone())),
    ];
    let grpc_listening = grpc_listener.is_some();
    if http_listener.is_some() || grpc_listener.is_some() {
        // One state for both: OTLP over HTTP and gRPC share the counters.
        let state = Arc::new(http::AppState {
            readers: Arc::new(http::Readers::new(config.db.clone())),
            writer: writer.clone(),
            hook: HookEdge {
                writer: writer.clone(),
                tail: tail.clone(),
                decoder: Decoder {
                    source: Source::Http,
                    ..decoder("http")
                },
                guard,
            },
            prices: prices_in_force.clone(),
            spool: config.spool.clone(),
            token: config.http_token.clone(),
            limits: config.limits.clone(),
            metrics: http::MetricsSettings {
                max_label_values: config.max_label_values,
                host: crate::send::hostname().unwrap_or_default(),
            },
            allowed_hosts: config.http_allowed_hosts.clone(),
            refusals: Default::default(),
            transcripts: counters,
            otlp_max_body: config.otlp_max_body,
            otlp: Default::default(),
            grpc_listening,
            push: push_stats,
        });
        // With the connections' tasks: its requests in flight hold writer
        // handles, and the drain below waits for them within the grace period.
        if let Some(grpc_listener) = grpc_listener {
            tasks.spawn(http::grpc::serve(
                grpc_listener,
                state.clone(),
                shutdown.clone(),
            ));
        }
        if let Some(http_listener) = http_listener {
            tasks.spawn(http::serve(http_listener, state, shutdown.clone()));
        }
    }
    // The one line a user starting the daemon by hand reads: where to look.
    let ready = match &dashboard {
        Some(url) => format!("hookmeter is ready; dashboard at {url}"),
        None => "hookmeter is ready.".to_string(),
    };
    tracing::info!(
        db = %config.db.display(),
        socket = %config.socket.display(),
        spool = %config.spool.display(),
        durability = ?config.durability,
        "{ready}"
    );
    manager.ready(&format!("ready: socket {}", config.socket.display()));
    if passed.notify {
        tasks.spawn(report_to_systemd(
            passed.watchdog,
            writer.clone(),
            config.spool.clone(),
            shutdown.clone(),
        ));
    }

    // The price update layer: a change (`pricing update`, auto_update)
    // reloads the prices as SIGHUP does.
    let (prices_changed, mut price_changes) = tokio::sync::mpsc::unbounded_channel();
    let _layer_watch = match prices::watch_layer(
        &config.price_updates.layer_file,
        prices_changed.clone(),
    ) {
        Ok(watcher) => Some(watcher),
        Err(e) => {
            tracing::warn!(error = %e, layer = %config.price_updates.layer_file.display(), "Cannot start watching the price update file; a new one is used after SIGHUP or a restart.");
            None
        }
    };
    let _auto_update = match config.price_updates.auto {
        crate::config::AutoUpdate::Off => None,
        crate::config::AutoUpdate::Daily => {
            match prices::spawn_auto_update(config.price_updates.clone(), prices_changed) {
                Ok(stop) => Some(stop),
                Err(e) => {
                    tracing::error!(error = %e, "Cannot start the price update thread; prices are not refreshed.");
                    None
                }
            }
        }
    };

    let reload = Reload {
        config: &config,
        writer: &writer,
        prices: &prices_in_force,
        alerts: &alert_settings,
        notifier: &notifier,
        manager,
    };
    wait_for_stop(control, &reload, &mut price_changes, own_socket.clone()).await;
    manager.stopping();
    drop(notifier);
    tracing::info!("Stopping: no new input; finishing what is in flight.");
    shutdown.cancel();
    for source in sources {
        let _ = source.await;
    }
    tasks.close();
    // The sources and every connection hold writer handles; once they are
    // done the writer sees its queue close, commits the rest and exits.
    drop(writer);
    let grace = config.limits.shutdown_grace;
    drop(tail);
    let drained = tokio::time::timeout(grace, async {
        tasks.wait().await;
        tail_stop.cancel();
        let _ = tail_task.await;
        let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    })
    .await;
    remove_socket(own_socket.as_deref());
    match drained {
        Ok(()) => tracing::info!("Stopped cleanly."),
        // Whatever was not acked stays with its sender (spool, client): safe.
        Err(_) => tracing::warn!(
            grace_secs = grace.as_secs(),
            "Stopped before in-flight work finished; unacked events stay with their senders."
        ),
    }
    Ok(())
}

/// What SIGHUP reloads, and where the new values go.
struct Reload<'a> {
    config: &'a Config,
    writer: &'a writer::WriterHandle,
    /// The table the HTTP API shows (the writer holds its own).
    prices: &'a PricesInForce,
    /// The budget watcher's settings; a new value makes it check at once.
    alerts: &'a tokio::sync::watch::Sender<AlertSettings>,
    notifier: &'a Notifier,
    manager: systemd::Notifier,
}

impl Reload<'_> {
    /// Loads the prices anew and hands them to the writer; `why` is the
    /// cause, for the log (SIGHUP, or the update file changed).
    async fn prices(&self, why: prices::Why) {
        match self.config.load_prices() {
            Ok(prices) => {
                let update = prices.update_as_of().map(str::to_string);
                let prices = Arc::new(prices);
                if self.writer.reload_prices(prices.clone()).await.is_ok() {
                    let old = std::mem::replace(
                        &mut *self.prices.write().unwrap_or_else(|p| p.into_inner()),
                        prices,
                    );
                    drop(old);
                    return_freed_memory();
                    tracing::info!(
                        why,
                        update_as_of = update.as_deref().unwrap_or("(none)"),
                        "Prices reloaded."
                    );
                }
            }
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "{why}: prices not reloaded; the previous table stays in force."
            ),
        }
    }

    /// The config file's budgets and `[alerts]`; all or nothing.
    async fn budgets(&self) {
        let (settings, budgets) = match self.config.reload_alerts() {
            Ok(read) => read,
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: budgets and alert settings not reloaded; the previous ones stay in force.");
                return;
            }
        };
        let count = budgets.len();
        match self
            .writer
            .run(move |conn| crate::budget::sync_config(conn, &budgets))
            .await
        {
            Ok(Ok(())) => tracing::info!(config_budgets = count, "Budgets reloaded."),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "SIGHUP: cannot store the config file's budgets; the previous ones stay in force.");
                return;
            }
            Err(_) => return,
        }
        self.notifier.reconfigure(&settings);
        self.alerts.send_replace(settings);
    }
}

/// Waits for a stop, reloading prices, budgets and alert settings on every
/// reload meanwhile, and the prices alone whenever `price_changes` says the
/// update layer changed. A second stop during the drain exits at once, removing
/// `own_socket` (the socket the daemon bound itself; one systemd passed
/// stays systemd's); reloads during the drain are ignored.
async fn wait_for_stop(
    mut control: impl Control,
    reload: &Reload<'_>,
    price_changes: &mut tokio::sync::mpsc::UnboundedReceiver<prices::Why>,
    own_socket: Option<PathBuf>,
) {
    loop {
        let order = {
            // Kept across price reloads: an order half-received is not lost.
            let next = control.next();
            tokio::pin!(next);
            loop {
                tokio::select! {
                    order = &mut next => break order,
                    Some(why) = price_changes.recv() => {
                        // One reload for a burst of events (a rename is several).
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        while price_changes.try_recv().is_ok() {}
                        reload.prices(why).await;
                    }
                }
            }
        };
        if order != Order::Reload {
            break;
        }
        reload.manager.reloading();
        reload.prices("SIGHUP").await;
        reload.budgets().await;
        reload.manager.ready(&format!(
            "ready: reloaded at {}",
            jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    tokio::spawn(async move {
        while control.next().await != Order::Stop {}
        // Safe: whatever is not acked stays with its sender, keys are idempotent.
        tracing::warn!("Second stop signal: exiting now.");
        remove_socket(own_socket.as_deref());
        std::process::exit(130);
    });
}

/// The daemon's socket: the one socket activation passed, else its own,
/// bound at `path`. The path is returned when the daemon bound it, to be
/// removed at exit; a passed socket belongs to systemd and stays.
fn listen(path: &Path, passed: &Passed) -> anyhow::Result<(UnixListener, Option<PathBuf>)> {
    let Some(std_listener) = systemd::take_listener(passed)? else {
        return Ok((bind_socket(path)?, Some(path.to_path_buf())));
    };
    std_listener
        .set_nonblocking(true)
        .context("cannot use the socket systemd passed")?;
    let listener =
        UnixListener::from_std(std_listener).context("cannot use the socket systemd passed")?;
    let passed_path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf));
    match passed_path {
        Some(at) if at == path => {
            tracing::info!(socket = %at.display(), "Listening on the socket systemd passed.")
        }
        // Hooks find the socket by the configured path: say so when they differ.
        other => tracing::warn!(
            passed = %other.as_deref().unwrap_or(Path::new("(unnamed)")).display(),
            configured = %path.display(),
            "Listening on the socket systemd passed, which is not at the configured socket path; hooks that use the configured path will not reach it."
        ),
    }
    Ok((listener, None))
}

/// Tells systemd, every `watchdog / 2` (else every 10 s), that the daemon
/// is alive, with a status line. Alive means the writer thread answers a
/// round trip: a daemon whose writer hangs stops pinging, and systemd
/// restarts it. A writer that answers with an error (a full disk) is alive:
/// a restart would not help, and the status line says what is wrong.
async fn report_to_systemd(
    watchdog: Option<Duration>,
    writer: writer::WriterHandle,
    spool_dir: PathBuf,
    shutdown: CancellationToken,
) {
    let manager = systemd::Notifier;
    let every = watchdog.map_or(Duration::from_secs(10), |w| w / 2);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let writer_state = match tokio::time::timeout(every, writer.ping()).await {
            Ok(Ok(())) => "writing",
            Ok(Err(writer::WriteError::Unavailable(_))) => "database unavailable (see the log)",
            Ok(Err(writer::WriteError::Closed)) | Err(_) => {
                tracing::warn!(
                    "The writer did not answer in time; not telling systemd the daemon is alive."
                );
                manager.status("writer not answering");
                continue;
            }
        };
        if watchdog.is_some() {
            manager.watchdog();
        }
        let ops = writer.stats().batch_size.snapshot().sum;
        let spool = match spool::waiting(&spool_dir) {
            Ok(n) => n.to_string(),
            Err(_) => "?".to_string(),
        };
        manager.status(&format!(
            "{writer_state}; {ops} writes committed since start; {spool} files waiting in the spool"
        ));
    }
}

/// Raises the soft limit of open files to the hard one. Every connection
/// (socket and HTTP, `max_connections` each) and spool file takes a
/// descriptor, and the usual soft limit (1024) is below what the daemon may
/// need; the hard limit is what the administrator allows. hookmeter does
/// not use select(2), the reason the soft limit is kept low by default.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
        || limit.rlim_cur >= limit.rlim_max
    {
        return;
    }
    let from = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    match unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } {
        0 => tracing::debug!(from, to = limit.rlim_max, "Raised the open file limit."),
        _ => {
            tracing::debug!(error = %std::io::Error::last_os_error(), "Cannot raise the open file limit.")
        }
    }
}

/// Hands the heap's free pages back to the system. Loading the price table
/// (2,000 entries) allocates and frees about a megabyte in small pieces
/// between what stays; glibc's allocator keeps such holes resident for the
/// life of the process (half a megabyte of an idle daemon, measured; see
/// BENCHMARKS.md). Called after a load, never on the ingest path: it walks
/// the whole heap.
fn return_freed_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Binds the socket, owner-only. A live daemon already on the path is an
/// error; a stale file from a crash is replaced.
fn bind_socket(path: &Path) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        crate::fs::create_private_dir(dir)
            .with_context(|| format!("cannot create socket directory {}", dir.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!(
                "another hookmeter is already listening on {}; stop it or pass a different --socket",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove stale socket {}", path.display()))?;
    }
    // Create the socket with no group/other bits from the start, so there is
    // no window in which another user could connect.
    let old_mask = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    unsafe { libc::umask(old_mask) };
    bound.with_context(|| format!("cannot listen on {}", path.display()))
}

fn remove_socket(path: Option<&Path>) {
    let Some(path) = path else { return };
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(error = %e, socket = %path.display(), "Cannot remove the socket file.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// The whole lifecycle in-process: start on a temp dir, take an event
    /// over the socket, stop by the caller's future, drain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stop_from_the_callers_future_commits_what_was_acked_and_removes_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap().to_string();
        let flags = Overrides {
            config: None,
            db: Some(dir.path().join("telemetry.db")),
            socket: Some(dir.path().join("run/hookmeter.sock")),
            spool: Some(dir.path().join("spool")),
            http: Some("off".into()),
        };
        let env = move |name: &str| (name == "HOME").then(|| home.clone());
        let config = Config::resolve(&flags, &env).unwrap();
        let (socket, db) = (config.socket.clone(), config.db.clone());

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let daemon = tokio::spawn(serve(
            config,
            stop_on(async {
                let _ = stopped.await;
            }),
        ));
        let stream = loop {
            match tokio::net::UnixStream::connect(&socket).await {
                Ok(stream) => break stream,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let (read, mut write) = stream.into_split();
        write
            .write_all(
                b"{\"hook_event_name\":\"PostToolUse\",\"session_id\":\"s1\",\"tool_use_id\":\"t1\",\
                  \"model\":\"gpt-5\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}\n",
            )
            .await
            .unwrap();
        let mut ack = String::new();
        BufReader::new(read).read_line(&mut ack).await.unwrap();
        let ack: serde_json::Value = serde_json::from_str(&ack).unwrap();
        assert_eq!(ack["ok"], true, "{ack}");
        drop(write);

        stop.send(()).unwrap();
        daemon.await.unwrap().unwrap();

        assert!(!socket.exists(), "socket file removed");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let events: i64 = conn
            .query_row("SELECT count(*) FROM hook_events", [], |r| r.get(0))
            .unwrap();
        let records: i64 = conn
            .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
            .unwrap();
        assert_eq!((events, records), (1, 1), "the acked event was committed");
    }
}
