//! The spool directory source (SPEC §4.3): files that writers dropped while
//! the daemon was away or the socket was busy.
//!
//! A file is claimed by renaming it to `NAME.EXT.claimed`, so notify, the
//! periodic rescan and a second scan can never process it twice. It is
//! deleted only after every event in it is committed; on a database error it
//! is renamed back and retried at the next scan. Claimed files left by a
//! crash are taken again at start (idempotent keys make that harmless).
//! Input it cannot use moves to `rejected/` with a `.reason` file beside it.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
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
    crate::store::create_private_dir(&dir.join("rejected"))
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
        let mut first = true;
        loop {
            self.scan(first, &slots, &tasks, &shutdown).await;
            first = false;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(self.limits.spool_rescan) => {}
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
    ) {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::error!(error = %e, dir = %self.dir.display(), "Cannot read the spool directory.");
                return;
            }
        };
        for entry in entries.flatten() {
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
            tasks.spawn(async move {
                spool.process(&claimed).await;
                drop(permit);
            });
        }
    }

    /// Takes one claimed file to its end: deleted, rejected, or put back.
    async fn process(&self, claimed: &Path) {
        let original = claimed.with_extension("");
        let name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let received_at = jiff::Timestamp::now();
        let content = match self.read_claimed(claimed) {
            Ok(content) => content,
            Err(reason) => {
                let raw = String::new();
                self.reject_file(claimed, &name, &reason, raw, received_at)
                    .await;
                return;
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
                Err(e) => return self.put_back(claimed, &original, &e),
            }
        }
        for wait in waits {
            let done = match wait {
                Wait::Event(receipt) => outcome(receipt).await.map(drop),
                Wait::Reject(receipt) => outcome(receipt).await,
            };
            if let Err(e) = done {
                return self.put_back(claimed, &original, &e);
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
    }

    /// Reads a claimed file, refusing anything but a regular file within the
    /// size limit. Symlinks are never followed (O_NOFOLLOW).
    fn read_claimed(&self, claimed: &Path) -> Result<Vec<u8>, String> {
        let meta =
            std::fs::symlink_metadata(claimed).map_err(|e| format!("cannot inspect: {e}"))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(claimed).unwrap_or_default();
            return Err(format!(
                "is a symbolic link (to {}); spool entries are never followed",
                target.display()
            ));
        }
        if !meta.is_file() {
            return Err("is not a regular file".into());
        }
        let limit = self.limits.spool_max_file_bytes;
        if meta.len() > limit {
            return Err(format!(
                "is {} bytes, over the limit of {limit} (limits.spool_max_file_bytes); not read",
                meta.len()
            ));
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(claimed)
            .map_err(|e| format!("cannot open: {e}"))?;
        let mut content = Vec::with_capacity(meta.len() as usize);
        // Read one byte past the limit so a file that grew after the check is caught.
        (&mut file)
            .take(limit + 1)
            .read_to_end(&mut content)
            .map_err(|e| format!("cannot read: {e}"))?;
        if content.len() as u64 > limit {
            return Err(format!(
                "grew past the limit of {limit} bytes while being read"
            ));
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
    ) {
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
            return self.put_back(claimed, &claimed.with_extension(""), &e);
        }
        self.move_to_rejected(claimed, name, &reason);
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

    /// Nothing was committed for sure: give the file back for a later scan.
    fn put_back(&self, claimed: &Path, original: &Path, error: &WriteError) {
        tracing::warn!(error = %error, file = %original.display(), "Spool file not stored; it stays in the spool for the next scan.");
        if let Err(e) = std::fs::rename(claimed, original) {
            tracing::error!(error = %e, file = %claimed.display(), "Cannot return a spool file; it will be retried at the next start.");
        }
    }
}

enum Wait {
    Event(Receipt<Ack>),
    Reject(Receipt<()>),
}

/// Files in the spool waiting to be ingested (claimed ones included, the
/// `rejected/` directory and unfinished `.tmp` files not): the `/metrics` gauge.
pub fn waiting(dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && classify(&entry.file_name(), true).is_some() {
            n += 1;
        }
    }
    Ok(n)
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
