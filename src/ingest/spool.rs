//! The spool directory source (docs/ingest.md#spool-directory): files that writers dropped while
//! the daemon was away or the socket was busy.
//!
//! A file is claimed by renaming it to `NAME.EXT.claimed`, so notify, the
//! periodic rescan and a second scan can never process it twice. It is
//! deleted only after every event in it is committed; on a database error it
//! is renamed back and retried at the next periodic rescan. Claimed files left by a
//! crash are taken again at start (idempotent keys make that harmless).
//! Input it cannot use moves to `rejected/` with a `.reason` file beside it.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Limits;
use crate::ingest::transcript::TailHandle;
use crate::ingest::Decoder;
use crate::record::{format_timestamp, RejectCode, Rejection};
use crate::store::writer::{outcome, Ack, Receipt, WriteError, WriterHandle};

const CLAIMED: &str = "claimed";
/// Files processed at once: enough to keep the writer's batches full.
const FILES_IN_FLIGHT: usize = 64;

/// The spool source's configuration and handles.
pub struct Spool {
    pub dir: PathBuf,
    pub writer: WriterHandle,
    /// Where events that name a transcript send it to be read.
    pub tail: TailHandle,
    pub decoder: Decoder,
    pub limits: Limits,
}

/// Creates the spool directory and its `rejected/` subdirectory (owner only).
pub fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    crate::fs::create_private_dir(&dir.join("rejected"))
}

impl Spool {
    /// Watches and drains the spool until `shutdown`. Files being processed
    /// when it fires are finished (their tasks are in `tasks`).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken, tasks: TaskTracker) {
        let wake = Arc::new(Notify::new());
        // Notify only says "look again"; the scan decides what to take, so a
        // missed, duplicated or reordered notification is harmless.
        let _watcher = match self.watch(wake.clone()) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "Cannot watch the spool directory; relying on the periodic rescan.");
                None
            }
        };
        let slots = Arc::new(Semaphore::new(FILES_IN_FLIGHT));
        // Set when a file went back for lack of a database. Until the next
        // periodic rescan, notify is not followed: the rename back is itself
        // a notification, and following it would retry (and log) in a hot
        // loop for as long as the database fails, e.g. while the disk is full.
        let backoff = Arc::new(AtomicBool::new(false));
        let mut first = true;
        loop {
            self.scan(first, &slots, &tasks, &shutdown, &backoff).await;
            first = false;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified(), if !backoff.load(Ordering::Relaxed) => {}
                _ = tokio::time::sleep(self.limits.spool_rescan) => {
                    backoff.store(false, Ordering::Relaxed);
                }
            }
        }
    }

    fn watch(&self, wake: Arc<Notify>) -> notify::Result<notify::RecommendedWatcher> {
        use notify::Watcher;
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|e| e.kind.is_create() || e.kind.is_modify()) {
                    wake.notify_one();
                }
            })?;
        watcher.watch(&self.dir, notify::RecursiveMode::NonRecursive)?;
        Ok(watcher)
    }

    /// Claims every ready file and starts processing it. At start, files a
    /// previous run claimed but never finished are taken as well.
    async fn scan(
        self: &Arc<Self>,
        at_start: bool,
        slots: &Arc<Semaphore>,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
        backoff: &Arc<AtomicBool>,
    ) {
        // The whole listing first: claiming renames `NAME.json` to
        // `NAME.json.claimed`, and a directory read still in progress may
        // return that new name too, which at start would pass for a file
        // an earlier run claimed and be processed twice (the second time
        // after the first deleted it: a bogus rejection).
        let entries: Vec<_> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries.flatten().collect(),
            Err(e) => {
                tracing::error!(error = %e, dir = %self.dir.display(), "Cannot read the spool directory.");
                return;
            }
        };
        for entry in entries {
            if shutdown.is_cancelled() {
                return;
            }
            let name = entry.file_name();
            let Some(kind) = classify(&name, at_start) else {
                continue;
            };
            let path = entry.path();
            let claimed = match kind {
                Ready::New => {
                    let mut claimed = path.clone().into_os_string();
                    claimed.push(".");
                    claimed.push(CLAIMED);
                    let claimed = PathBuf::from(claimed);
                    match std::fs::rename(&path, &claimed) {
                        Ok(()) => claimed,
                        // Someone else took it first (or it vanished): not ours.
                        Err(_) => continue,
                    }
                }
                Ready::Claimed => path,
            };
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let spool = self.clone();
            let backoff = backoff.clone();
            tasks.spawn(async move {
                if spool.process(&claimed).await == Fate::PutBack {
                    // The flag first: the rename back wakes the loop,
                    // which must see it and not follow.
                    backoff.store(true, Ordering::Relaxed);
                    give_back(&claimed);
                }
                drop(permit);
            });
        }
    }

    /// Takes one claimed file to its end: deleted, rejected, or put back.
    async fn process(&self, claimed: &Path) -> Fate {
        let original = claimed.with_extension("");
        let name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let received_at = jiff::Timestamp::now();
        let content = match self.read_claimed(claimed) {
            Ok(content) => content,
            Err(Unread::Later(e)) => {
                tracing::warn!(error = %e, file = %original.display(), "Spool file not read; it stays in the spool for the next scan.");
                return Fate::PutBack;
            }
            Err(Unread::Refused(reason)) => {
                let raw = String::new();
                return self
                    .reject_file(claimed, &name, &reason, raw, received_at)
                    .await;
            }
        };

        let pieces: Vec<(Option<String>, &[u8])> = if name.ends_with(".ndjson") {
            content
                .split(|&b| b == b'\n')
                .enumerate()
                .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
                .map(|(i, line)| (Some(format!("{name}:{}", i + 1)), line))
                .collect()
        } else {
            vec![(Some(name.clone()), content.as_slice())]
        };

        let mut waits = Vec::with_capacity(pieces.len());
        let mut problems = Vec::new();
        for (origin, bytes) in pieces {
            let queued = match self.decoder.decode(bytes, origin.clone(), received_at) {
                Ok(event) => {
                    self.tail.follow(&event).await;
                    self.writer.queue_event(event).await.map(Wait::Event)
                }
                Err(rejection) => {
                    problems.push(format!(
                        "{}: {}",
                        origin.as_deref().unwrap_or(&name),
                        rejection.reason
                    ));
                    self.writer.queue_reject(rejection).await.map(Wait::Reject)
                }
            };
            match queued {
                Ok(wait) => waits.push(wait),
                Err(e) => return put_back(&original, &e),
            }
        }
        for wait in waits {
            let done = match wait {
                Wait::Event(receipt) => outcome(receipt).await.map(drop),
                Wait::Reject(receipt) => outcome(receipt).await,
            };
            if let Err(e) = done {
                return put_back(&original, &e);
            }
        }

        // Everything in the file is committed (accepted or kept as rejected).
        if problems.is_empty() {
            if let Err(e) = std::fs::remove_file(claimed) {
                tracing::error!(error = %e, file = %claimed.display(), "Cannot delete a processed spool file; its events are stored and a retry will not duplicate them.");
            }
        } else {
            self.move_to_rejected(claimed, &name, &problems.join("\n"));
        }
        Fate::Finished
    }

    /// Reads a claimed file, refusing anything but a regular file within the
    /// size limit. Symlinks are never followed (O_NOFOLLOW).
    fn read_claimed(&self, claimed: &Path) -> Result<Vec<u8>, Unread> {
        let meta = std::fs::symlink_metadata(claimed)
            .map_err(|e| Unread::Refused(format!("cannot inspect: {e}")))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(claimed).unwrap_or_default();
            return Err(Unread::Refused(format!(
                "is a symbolic link (to {}); spool entries are never followed",
                target.display()
            )));
        }
        if !meta.is_file() {
            return Err(Unread::Refused("is not a regular file".into()));
        }
        let limit = self.limits.spool_max_file_bytes;
        if meta.len() > limit {
            return Err(Unread::Refused(format!(
                "is {} bytes, over the limit of {limit} (limits.spool_max_file_bytes); not read",
                meta.len()
            )));
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(claimed)
            .map_err(|e| match e.raw_os_error() {
                // The daemon's trouble, not the file's: retry it later.
                Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM) => Unread::Later(e),
                _ => Unread::Refused(format!("cannot open: {e}")),
            })?;
        let mut content = Vec::with_capacity(meta.len() as usize);
        // Read one byte past the limit so a file that grew after the check is caught.
        (&mut file)
            .take(limit + 1)
            .read_to_end(&mut content)
            .map_err(|e| Unread::Refused(format!("cannot read: {e}")))?;
        if content.len() as u64 > limit {
            return Err(Unread::Refused(format!(
                "grew past the limit of {limit} bytes while being read"
            )));
        }
        Ok(content)
    }

    /// Keeps an unreadable file: a `rejected_events` row and the file itself in `rejected/`.
    async fn reject_file(
        &self,
        claimed: &Path,
        name: &str,
        reason: &str,
        raw_text: String,
        received_at: jiff::Timestamp,
    ) -> Fate {
        let reason = format!("spool file {name} {reason}");
        tracing::warn!(reason = %reason, "Rejected a spool file.");
        let rejection = Rejection {
            received_at: format_timestamp(received_at),
            source: self.decoder.edge,
            origin: Some(name.to_string()),
            reason: reason.clone(),
            code: RejectCode::SpoolFile,
            raw_text,
        };
        if let Err(e) = self.writer.reject(rejection).await {
            return put_back(&claimed.with_extension(""), &e);
        }
        self.move_to_rejected(claimed, name, &reason);
        Fate::Finished
    }

    fn move_to_rejected(&self, claimed: &Path, name: &str, reason: &str) {
        let dir = self.dir.join("rejected");
        let target = dir.join(name);
        let reason_file = dir.join(format!("{name}.reason"));
        if let Err(e) = std::fs::write(&reason_file, format!("{reason}\n")) {
            tracing::error!(error = %e, file = %reason_file.display(), "Cannot write a spool rejection reason.");
        }
        // rename() moves a symlink itself, never its target.
        if let Err(e) = std::fs::rename(claimed, &target) {
            tracing::error!(error = %e, file = %claimed.display(), "Cannot move a rejected spool file to rejected/.");
        } else {
            tracing::warn!(file = %target.display(), "Moved a spool file with unusable input to rejected/.");
        }
    }
}

/// Nothing was committed for sure: the file goes back for a later scan.
/// Why a claimed file was not read.
enum Unread {
    /// The file is unusable (not a regular file, too large, unreadable): it
    /// goes to `rejected/` with this reason.
    Refused(String),
    /// The daemon is short of descriptors or memory, no fault of the file:
    /// it goes back to the spool for a later scan.
    Later(std::io::Error),
}

fn put_back(original: &Path, error: &WriteError) -> Fate {
    tracing::warn!(error = %error, file = %original.display(), "Spool file not stored; it stays in the spool for the next scan.");
    Fate::PutBack
}

/// Renames a claimed file back to its own name, for a later scan to take.
fn give_back(claimed: &Path) {
    if let Err(e) = std::fs::rename(claimed, claimed.with_extension("")) {
        tracing::error!(error = %e, file = %claimed.display(), "Cannot return a spool file; it will be retried at the next start.");
    }
}

/// How a claimed file left [`Spool::process`].
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// Deleted (all committed) or moved to `rejected/`.
    Finished,
    /// To go back to the spool ([`give_back`]) and be retried.
    PutBack,
}

enum Wait {
    Event(Receipt<Ack>),
    Reject(Receipt<()>),
}

/// Files in the spool waiting to be ingested (claimed ones included, the
/// `rejected/` directory and unfinished `.tmp` files not): the `/metrics` gauge.
pub fn waiting(dir: &Path) -> std::io::Result<usize> {
    Ok(waiting_files(dir)?.len())
}

/// The files [`waiting`] counts (for `hookmeter doctor`, which reports their age).
pub fn waiting_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && classify(&entry.file_name(), true).is_some() {
            files.push(entry.path());
        }
    }
    Ok(files)
}

#[derive(Debug, PartialEq, Eq)]
enum Ready {
    /// A finished file to claim.
    New,
    /// Claimed by an earlier run that did not finish it.
    Claimed,
}

/// Which directory entries are input: `NAME.json` and `NAME.ndjson`, never a
/// dotfile or `.tmp` (still being written); claimed ones only at start.
fn classify(name: &OsStr, at_start: bool) -> Option<Ready> {
    let name = name.to_str()?;
    if name.starts_with('.') {
        return None;
    }
    let ready = |n: &str| n.ends_with(".json") || n.ends_with(".ndjson");
    if ready(name) {
        return Some(Ready::New);
    }
    let base = name.strip_suffix(&format!(".{CLAIMED}"))?;
    (at_start && ready(base)).then_some(Ready::Claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_files_are_taken() {
        let c = |n: &str, s| classify(OsStr::new(n), s);
        assert_eq!(c("a.json", false), Some(Ready::New));
        assert_eq!(c("a.ndjson", false), Some(Ready::New));
        assert_eq!(c("a.tmp", false), None);
        assert_eq!(c(".a.json", false), None);
        assert_eq!(c("a.json.claimed", false), None);
        assert_eq!(c("a.json.claimed", true), Some(Ready::Claimed));
        assert_eq!(c("a.reason", true), None);
        assert_eq!(c("rejected", true), None);
    }

    /// A spool source on `dir/spool` running against `dir/t.db`, its writer
    /// connection first passed to `prepare`.
    struct Running {
        spool_dir: PathBuf,
        db: PathBuf,
        stats: Arc<crate::store::writer::WriterStats>,
        shutdown: CancellationToken,
        tasks: TaskTracker,
        task: tokio::task::JoinHandle<()>,
    }

    fn run_spool(
        dir: &Path,
        limits: Limits,
        prepare: impl FnOnce(&rusqlite::Connection),
    ) -> Running {
        use crate::ingest::transcript::Tail;
        use crate::internal_events::TranscriptCounters;
        let spool_dir = dir.join("spool");
        let db = dir.join("t.db");
        let conn = crate::store::open_writer(&db, crate::config::Durability::Normal).unwrap();
        prepare(&conn);
        let (writer, _thread) =
            crate::store::writer::spawn(conn, crate::pricing::PriceTable::embedded(), 8192)
                .unwrap();
        let stats = writer.stats().clone();
        let shutdown = CancellationToken::new();
        let transcripts = crate::config::Transcripts {
            roots: Vec::new(),
            codex_roots: Vec::new(),
            gemini_roots: Vec::new(),
            opencode_roots: Vec::new(),
            idle_timeout: std::time::Duration::from_secs(60),
            stop_linger: std::time::Duration::from_secs(1),
            watch: crate::config::Watch::Off,
        };
        let counters = Arc::new(TranscriptCounters::default());
        let (tail, _tail_task) = Tail::new(
            transcripts,
            crate::collect::UsageLimits::default(),
            writer.clone(),
            db.clone(),
            counters,
        )
        .spawn(shutdown.clone());
        let spool = Arc::new(Spool {
            dir: spool_dir.clone(),
            writer,
            tail,
            decoder: Decoder {
                policy: crate::store::redact::PayloadPolicy::Truncated,
                payload_bytes: 4096,
                source: crate::record::Source::Hook,
                edge: "spool",
                usage_limits: crate::collect::UsageLimits::default(),
            },
            limits,
        });
        let tasks = TaskTracker::new();
        let task = tokio::spawn(spool.run(shutdown.clone(), tasks.clone()));
        Running {
            spool_dir,
            db,
            stats,
            shutdown,
            tasks,
            task,
        }
    }

    impl Running {
        async fn stop(self) -> rusqlite::Connection {
            self.shutdown.cancel();
            self.task.await.unwrap();
            self.tasks.close();
            self.tasks.wait().await;
            rusqlite::Connection::open(&self.db).unwrap()
        }
    }

    fn spool_event(dir: &Path, i: usize) {
        let event = format!(r#"{{"event_id":"e{i}","usage":{{"input_tokens":1}}}}"#);
        std::fs::write(dir.join(format!("f{i:05}.json")), event).unwrap();
    }

    fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Many files present at start: each is processed once, none is taken
    /// a second time under its claimed name (once deleted, that second pass
    /// used to record a bogus "cannot inspect" rejection).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_start_scan_processes_each_file_once() {
        const FILES: usize = 4000;
        let dir = tempfile::tempdir().unwrap();
        prepare_dir(&dir.path().join("spool")).unwrap();
        for i in 0..FILES {
            spool_event(&dir.path().join("spool"), i);
        }
        let running = run_spool(dir.path(), Limits::default(), |_| {});
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while waiting(&running.spool_dir).unwrap() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the spool never drained"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let rejected_dir = running.spool_dir.join("rejected");
        let db = running.stop().await;
        assert_eq!(
            count(&db, "SELECT count(*) FROM cost_records"),
            FILES as i64
        );
        assert_eq!(count(&db, "SELECT count(*) FROM rejected_events"), 0);
        let rejected: Vec<_> = std::fs::read_dir(rejected_dir).unwrap().collect();
        assert!(rejected.is_empty(), "{} files in rejected/", rejected.len());
    }

    /// While the database fails (a full disk), a file put back waits for the
    /// periodic rescan; its own rename back must not trigger the next try.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_put_back_waits_for_the_periodic_rescan() {
        let dir = tempfile::tempdir().unwrap();
        prepare_dir(&dir.path().join("spool")).unwrap();
        spool_event(&dir.path().join("spool"), 0);
        let limits = Limits {
            spool_rescan: std::time::Duration::from_secs(3600),
            ..Limits::default()
        };
        // Every event write fails, as on a full disk.
        let running = run_spool(dir.path(), limits, |conn| {
            conn.execute_batch(
                "CREATE TEMP TRIGGER full BEFORE INSERT ON main.hook_events
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            .unwrap();
        });
        // Long enough for hundreds of tries when each rename back wakes the scan.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let tries = running.stats.failed_commits.load(Ordering::Relaxed);
        let spool_dir = running.spool_dir.clone();
        let db = running.stop().await;
        // The first try, and at most one more woken by a rename that raced
        // the first put-back; the next belongs to the rescan an hour away.
        assert!((1..=2).contains(&tries), "{tries} tries before the rescan");
        assert_eq!(
            waiting(&spool_dir).unwrap(),
            1,
            "the file stays in the spool"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM rejected_events"), 0);
    }

    #[test]
    fn waiting_counts_input_files_only() {
        let dir = tempfile::tempdir().unwrap();
        prepare_dir(dir.path()).unwrap();
        for name in ["a.json", "b.ndjson", "c.json.claimed", ".d.tmp", "e.tmp"] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        std::fs::write(dir.path().join("rejected/f.json"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.json"), dir.path().join("g.json")).unwrap();
        assert_eq!(waiting(dir.path()).unwrap(), 3);
    }
}
