//! Keeping a running daemon's prices current without a restart: a look at
//! the price update layer every two seconds (`hookmeter pricing update`
//! writes it; a change reloads the prices through the same path as
//! SIGHUP), and, with
//! `[pricing] auto_update = "daily"`, a thread of its own that refreshes the
//! layer with conditional requests. Neither ever blocks ingestion: a
//! download runs on its own thread, a reload swaps the writer's table
//! between batches, and a failure of either leaves the table in force.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::config::PriceUpdates;
use crate::user_files::price_update::{update_prices, Outcome, UpdateSource, UpdateState};

/// The longest wait before retrying a failed download: a server that is
/// down is asked again this soon, not a whole interval later.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60 * 60);

/// Why the prices are reloaded, for the log.
pub(super) type Why = &'static str;

/// How often the update layer's file is looked at.
const LAYER_POLL: Duration = Duration::from_secs(2);

/// Sends on `changed` whenever the update layer at `layer` is created,
/// replaced or removed, seen within [`LAYER_POLL`]. It stops when the
/// returned sender is dropped.
///
/// Polled, not watched: the layer sits beside the database, and an inotify
/// watch on that directory wakes on every commit (the WAL and its index
/// change with each one), which cost the ingest path measurably. One
/// `stat` every two seconds costs nothing.
pub(super) fn watch_layer(
    layer: &Path,
    changed: UnboundedSender<Why>,
) -> std::io::Result<mpsc::Sender<()>> {
    let layer = layer.to_path_buf();
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("price-layer".into())
        .spawn(move || {
            let mut seen = stamp(&layer);
            loop {
                match stopped.recv_timeout(LAYER_POLL) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                let now = stamp(&layer);
                if now != seen {
                    seen = now;
                    let _ = changed.send("the price update file changed");
                }
            }
        })?;
    Ok(stop)
}

/// What tells one version of the layer's file from another: its inode (an
/// atomic replace is a new file), size and modification time; `None` when
/// there is no file.
fn stamp(path: &Path) -> Option<(u64, u64, Option<std::time::SystemTime>)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.ino(), meta.len(), meta.modified().ok()))
}

/// Starts the `auto_update` thread: it asks `settings.url` when the last
/// check is `settings.interval` old (at once when there was none), writes
/// the layer when the file changed, and tells `changed`. It stops when the
/// returned sender is dropped (a download in flight finishes first, or
/// times out; nothing waits for it).
pub(super) fn spawn_auto_update(
    settings: PriceUpdates,
    changed: UnboundedSender<Why>,
) -> std::io::Result<mpsc::Sender<()>> {
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("price-update".into())
        .spawn(move || {
            let mut retry: Option<Duration> = None;
            loop {
                let wait = retry.take().unwrap_or_else(|| due_in(&settings));
                match stopped.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                let source = UpdateSource::Url(settings.url.clone());
                match update_prices(&settings, &source, false) {
                    Ok(Outcome::NotModified) => tracing::info!(
                        url = %settings.url,
                        "Price update: not modified since the last download; the prices in force are current."
                    ),
                    Ok(Outcome::Planned { plan, .. }) => {
                        for dropped in &plan.dropped {
                            tracing::warn!(
                                model = %dropped.model,
                                now = %dropped.now,
                                "Price update: a model is no longer in LiteLLM's file."
                            );
                        }
                        tracing::info!(
                            url = %settings.url,
                            models = plan.models,
                            changed = plan.changed.len(),
                            added = plan.added.len(),
                            dropped = plan.dropped.len(),
                            layer = %settings.layer_file.display(),
                            "Price update written."
                        );
                        let _ = changed.send("auto_update wrote new prices");
                    }
                    Err(error) => {
                        let again = settings.interval.min(RETRY_AFTER_FAILURE);
                        tracing::warn!(
                            error = %error,
                            retry_in_secs = again.as_secs(),
                            "Price update failed; the prices in force stay."
                        );
                        retry = Some(again);
                    }
                }
            }
        })?;
    Ok(stop)
}

/// How long until the next check: the interval after the last one, now
/// when there was none (or its time is past).
fn due_in(settings: &PriceUpdates) -> Duration {
    let Some(last) = UpdateState::read(&settings.state_file).checked_at() else {
        return Duration::ZERO;
    };
    let since = jiff::Timestamp::now().duration_since(last);
    let since = Duration::try_from(since).unwrap_or(Duration::ZERO);
    settings.interval.saturating_sub(since)
}
