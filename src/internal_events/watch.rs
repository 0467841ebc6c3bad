//! The watch's events (`crate::ingest::watch` finds files; this counts and
//! logs). Shown by `/metrics` as `hookmeter_watch_*`.

use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the watch sees and found since the daemon started: bumped only by
/// the events below, read by `/metrics`.
#[derive(Debug, Default)]
pub struct WatchCounters {
    /// Roots followed by file system notifications now.
    roots_notified: AtomicU64,
    /// Roots scanned periodically now (notifications off or unavailable).
    roots_scanned: AtomicU64,
    /// Roots that do not exist (yet): checked at every scan tick.
    roots_missing: AtomicU64,
    /// Log files under the roots the watch knows now.
    files: AtomicU64,
    /// Distinct log files the watch handed to the tail.
    files_found: AtomicU64,
    /// Known log files that disappeared (deleted, or moved out of the roots).
    files_gone: AtomicU64,
    /// Symlinks under a root, never followed: each counted once.
    refused_paths: AtomicU64,
    /// Full walks of a root.
    scans: AtomicU64,
}

/// The counters at one moment, as plain numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchCounts {
    pub roots_notified: u64,
    pub roots_scanned: u64,
    pub roots_missing: u64,
    pub files: u64,
    pub files_found: u64,
    pub files_gone: u64,
    pub refused_paths: u64,
    pub scans: u64,
}

/// How each root is followed now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RootStates {
    pub notified: u64,
    pub scanned: u64,
    pub missing: u64,
}

impl WatchCounters {
    /// The roots changed state (started, appeared, vanished, fell back).
    pub fn roots(&self, states: RootStates) {
        self.roots_notified
            .store(states.notified, Ordering::Relaxed);
        self.roots_scanned.store(states.scanned, Ordering::Relaxed);
        self.roots_missing.store(states.missing, Ordering::Relaxed);
    }

    /// A root exists (at start, or it appeared later): watched from now on.
    pub fn root_appeared(&self, root: &Path) {
        tracing::info!(root = %root.display(), "Watching a log root for new and growing files.");
    }

    /// Notifications cannot cover `root` (inotify watches used up, an
    /// unsupported file system): it is scanned periodically instead.
    pub fn notify_unavailable(&self, root: &Path, error: &dyn Display) {
        tracing::warn!(root = %root.display(), %error, "Cannot watch a log root with file system notifications; scanning it periodically instead.");
    }

    /// A symlink under a root: never followed, nothing read through it.
    /// Counted and logged once per path.
    pub fn symlink_refused(&self, path: &Path) {
        self.refused_paths.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %path.display(), "A symlink under a log root is not followed; nothing read through it.");
    }

    /// The watch handed a log file to the tail for the first time.
    pub fn file_found(&self, path: &Path) {
        self.files_found.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(path = %path.display(), "The watch found a log file.");
    }

    /// A log file the watch knew is gone: deleted, or moved out of the
    /// roots (a move within them shows up as a new file). What it gave
    /// stays stored; nothing more is read from it.
    pub fn file_gone(&self, path: &Path) {
        self.files_gone.fetch_add(1, Ordering::Relaxed);
        tracing::info!(path = %path.display(), "A watched log file is gone; what it gave stays stored.");
    }

    /// The watch knows `files` log files now.
    pub fn files(&self, files: u64) {
        self.files.store(files, Ordering::Relaxed);
    }

    /// A root was walked.
    pub fn scanned(&self) {
        self.scans.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn counts(&self) -> WatchCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WatchCounts {
            roots_notified: get(&self.roots_notified),
            roots_scanned: get(&self.roots_scanned),
            roots_missing: get(&self.roots_missing),
            files: get(&self.files),
            files_found: get(&self.files_found),
            files_gone: get(&self.files_gone),
            refused_paths: get(&self.refused_paths),
            scans: get(&self.scans),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_moves_its_own_counters() {
        let c = WatchCounters::default();
        let path = Path::new("/tmp/p/s.jsonl");
        c.roots(RootStates {
            notified: 1,
            scanned: 2,
            missing: 3,
        });
        c.symlink_refused(path);
        c.file_found(path);
        c.file_found(path);
        c.file_gone(path);
        c.files(5);
        c.scanned();
        assert_eq!(
            c.counts(),
            WatchCounts {
                roots_notified: 1,
                roots_scanned: 2,
                roots_missing: 3,
                files: 5,
                files_found: 2,
                files_gone: 1,
                refused_paths: 1,
                scans: 1,
            }
        );
    }
}
