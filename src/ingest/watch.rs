//! The watch (docs/ingest.md#capture-without-hooks): finds the agents' own
//! log files under their roots, new and growing, so a user who only runs
//! `hookmeter serve` is captured without any hook.
//!
//! It only finds files; it never reads one. Each new or grown file goes to
//! the transcript tail ([`crate::ingest::transcript`]), which reads it from
//! its saved offset with the same parser and commits records and offset
//! together: a line is counted once whether a hook named the file, the
//! watch found it, or both.
//!
//! Every root has a [`LogKind`], which says which files under it are logs
//! and which reader the tail uses: Claude Code transcripts under
//! `transcripts.roots`, Codex rollouts (`rollout-*.jsonl` at any depth)
//! under `transcripts.codex_roots`, Gemini CLI chat logs (`chats/` of each
//! project) under `transcripts.gemini_roots`. Another agent's logs become a kind with
//! its roots in [`log_roots`], its file rule in [`LogKind::is_log`] and its
//! reader in the tail.
//!
//! Roots are followed by file system notifications (inotify), with a full
//! walk every [`RESCAN_TICKS`] ticks for events the kernel dropped; a root
//! notifications cannot cover (watches used up, `watch = "scan"`) is walked
//! every [`TICK`]. A root that does not exist yet is looked for at every
//! tick. Nothing under a root is followed through a symlink: a symlinked
//! file or directory is refused and counted once. An idle daemon wakes
//! once per tick for a `stat` of each missing root, nothing more.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{Transcripts, Watch};
use crate::internal_events::{RootStates, TranscriptCounters, WatchCounters};

/// How often missing roots are looked for and scanned roots walked.
pub const TICK: Duration = Duration::from_secs(5);
/// A root followed by notifications is walked anyway every this many
/// ticks: inotify drops events when its queue overflows.
pub const RESCAN_TICKS: u32 = 12;

/// What an agent writes under a root, and so which files are its logs and
/// which parser reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// Claude Code's session transcripts, `<project>/<session>.jsonl`, and
    /// its subagents', `<project>/<session>/subagents/agent-<id>.jsonl`.
    ClaudeTranscript,
    /// Codex's session rollouts, `sessions/YYYY/MM/DD/rollout-*.jsonl` and
    /// the same under `archived_sessions/`.
    CodexRollout,
    /// Gemini CLI's chat logs, `<project>/chats/session-*.jsonl` (or the
    /// older `.json`) and its subagents' `<project>/chats/<parent>/*.jsonl`.
    GeminiChat,
    /// OpenCode's SQLite database, `opencode.db` directly under its data
    /// directory, with its `-wal` beside it: a change to either is a change
    /// of the database, which the tail reads by rowid, not by offset.
    OpenCodeDatabase,
}

impl LogKind {
    /// Whether `path`, a regular file under a root of this kind, is a log.
    pub fn is_log(self, path: &Path) -> bool {
        match self {
            LogKind::ClaudeTranscript => path.extension().is_some_and(|e| e == "jsonl"),
            LogKind::CodexRollout => crate::ingest::codex::is_rollout(path),
            LogKind::GeminiChat => crate::ingest::gemini::is_chat(path),
            LogKind::OpenCodeDatabase => {
                let db = database_of(path);
                crate::ingest::opencode::is_database(&db)
            }
        }
    }

    /// The name doctor and the logs use.
    pub fn name(self) -> &'static str {
        match self {
            LogKind::ClaudeTranscript => "Claude Code transcripts",
            LogKind::CodexRollout => "Codex rollouts",
            LogKind::GeminiChat => "Gemini CLI chat logs",
            LogKind::OpenCodeDatabase => "OpenCode databases",
        }
    }

    /// Whether the logs of this kind lie anywhere under a root, or directly
    /// in it: OpenCode's data directory also holds its logs and data about
    /// the user's projects (`log/`, `repos/`), no business of ours.
    fn nested(self) -> bool {
        self != LogKind::OpenCodeDatabase
    }
}

/// The database a file of it stands for: `opencode.db-wal` changing is
/// `opencode.db` changing.
fn database_of(path: &Path) -> PathBuf {
    match path.to_str().and_then(|p| p.strip_suffix("-wal")) {
        Some(db) => PathBuf::from(db),
        None => path.to_path_buf(),
    }
}

/// A directory an agent writes its logs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRoot {
    pub kind: LogKind,
    pub dir: PathBuf,
}

/// Every root the watch follows: Claude Code's transcript roots
/// (`transcripts.roots`), then Codex's (`transcripts.codex_roots`), then
/// Gemini CLI's (`transcripts.gemini_roots`) and
/// OpenCode's data directories (`transcripts.opencode_roots`).
/// A directory named twice (`CLAUDE_CONFIG_DIR=~/.claude` adds
/// `~/.claude/projects` again) is one root.
pub fn log_roots(transcripts: &Transcripts) -> Vec<LogRoot> {
    let mut roots: Vec<LogRoot> = Vec::new();
    let kinds = [
        (LogKind::ClaudeTranscript, &transcripts.roots),
        (LogKind::CodexRollout, &transcripts.codex_roots),
        (LogKind::GeminiChat, &transcripts.gemini_roots),
        (LogKind::OpenCodeDatabase, &transcripts.opencode_roots),
    ];
    for (kind, dirs) in kinds {
        for dir in dirs {
            let dir: PathBuf = dir.components().collect();
            if !roots.iter().any(|root| root.dir == dir) {
                roots.push(LogRoot { kind, dir });
            }
        }
    }
    roots
}

/// A log file that is new or grew: the tail reads it from its offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: LogKind,
    /// Canonical: the resolved root joined with names that are no symlinks,
    /// so the same key as a hook naming the file gets after canonicalizing.
    pub path: PathBuf,
    /// A notification named it: it is being written now, and goes before
    /// the files a walk found (a start's backlog).
    pub live: bool,
}

/// How a root is followed now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Followed {
    /// Not there (yet).
    Missing,
    /// By notifications, at this canonical path.
    Notified(PathBuf),
    /// By a walk every tick, at this canonical path.
    Scanned(PathBuf),
}

impl Followed {
    fn dir(&self) -> Option<&Path> {
        match self {
            Followed::Missing => None,
            Followed::Notified(dir) | Followed::Scanned(dir) => Some(dir),
        }
    }
}

/// What the notification thread passes on.
enum Notice {
    /// Something under a root was created or modified.
    Changed(Vec<PathBuf>),
    /// Notifications failed (a watch could not be added for a new directory,
    /// the queue overflowed): every notified root is scanned from now on.
    Trouble(String),
}

/// The watch task's state.
pub struct LogWatch {
    mode: Watch,
    roots: Vec<(LogRoot, Followed)>,
    found: mpsc::Sender<Found>,
    counters: Arc<TranscriptCounters>,
    /// (length, inode) of every log file under a root when last seen:
    /// unchanged means nothing to hand the tail.
    known: HashMap<PathBuf, (u64, u64)>,
    /// Files already handed to the tail once (for the `files_found` count).
    handed: HashSet<PathBuf>,
    /// Symlinks already refused, so a rescan neither logs nor counts them again.
    refused: HashSet<PathBuf>,
    /// Directories created since the last tick: walked again then, because
    /// notify adds the watch of a new directory only after passing on its
    /// creation, and a file written in between raises no event.
    fresh_dirs: HashMap<PathBuf, LogKind>,
    /// Cancelled when the daemon stops: a hand-off waiting for a busy tail
    /// gives up then (the next start finds the file again).
    stop: CancellationToken,
}

impl LogWatch {
    /// A watch of `roots` that hands what it finds to `found` (the tail).
    pub fn new(
        mode: Watch,
        roots: Vec<LogRoot>,
        found: mpsc::Sender<Found>,
        counters: Arc<TranscriptCounters>,
    ) -> LogWatch {
        LogWatch {
            mode,
            roots: roots.into_iter().map(|r| (r, Followed::Missing)).collect(),
            found,
            counters,
            known: HashMap::new(),
            handed: HashSet::new(),
            refused: HashSet::new(),
            fresh_dirs: HashMap::new(),
            stop: CancellationToken::new(),
        }
    }

    fn counters(&self) -> &WatchCounters {
        &self.counters.watch
    }

    /// Runs until `shutdown`: a first walk of every root (files never seen
    /// are read from the start, the others from their offsets), then
    /// notifications and ticks.
    pub async fn run(mut self, shutdown: CancellationToken) {
        self.stop = shutdown.clone();
        let (tx, mut notices) = mpsc::unbounded_channel::<Notice>();
        let mut watcher = match self.mode {
            Watch::Notify => notifier(tx),
            Watch::Scan | Watch::Off => None,
        };
        self.look_for_roots(&mut watcher).await;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is now: the walk above was it
        let mut ticks: u32 = 0;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(notice) = notices.recv() => {
                    let mut changed = HashSet::new();
                    let mut trouble = None;
                    let mut take = |notice| match notice {
                        Notice::Changed(paths) => changed.extend(paths),
                        Notice::Trouble(e) => trouble = Some(e),
                    };
                    take(notice);
                    while let Ok(more) = notices.try_recv() {
                        take(more);
                    }
                    if let Some(error) = trouble {
                        self.fall_back_to_scans(&mut watcher, &error).await;
                    }
                    for path in changed {
                        if shutdown.is_cancelled() {
                            break;
                        }
                        self.changed(path).await;
                    }
                }
                _ = tick.tick() => {
                    ticks = ticks.wrapping_add(1);
                    self.look_for_roots(&mut watcher).await;
                    for (dir, kind) in std::mem::take(&mut self.fresh_dirs) {
                        self.walk_dir(dir, kind).await;
                    }
                    let rescan_all = ticks.is_multiple_of(RESCAN_TICKS);
                    for i in 0..self.roots.len() {
                        let due = match &self.roots[i].1 {
                            Followed::Scanned(_) => true,
                            Followed::Notified(_) => rescan_all,
                            Followed::Missing => false,
                        };
                        if due {
                            self.walk_root(i).await;
                        }
                    }
                }
            }
        }
    }

    /// Notices roots that appeared or vanished since the last look, and
    /// walks each new one whole.
    async fn look_for_roots(&mut self, watcher: &mut Option<notify::RecommendedWatcher>) {
        for i in 0..self.roots.len() {
            let (root, followed) = &self.roots[i];
            let exists = std::fs::metadata(&root.dir).is_ok_and(|m| m.is_dir());
            match (followed, exists) {
                (Followed::Missing, true) => {
                    let Ok(dir) = std::fs::canonicalize(&root.dir) else {
                        continue;
                    };
                    let followed = match watcher.as_mut() {
                        Some(w) => {
                            use notify::Watcher;
                            let mode = match root.kind.nested() {
                                true => notify::RecursiveMode::Recursive,
                                false => notify::RecursiveMode::NonRecursive,
                            };
                            match w.watch(&dir, mode) {
                                Ok(()) => Followed::Notified(dir),
                                Err(e) => {
                                    // A half-added recursive watch is of no use.
                                    let _ = w.unwatch(&dir);
                                    self.counters().notify_unavailable(&dir, &e);
                                    Followed::Scanned(dir)
                                }
                            }
                        }
                        None => Followed::Scanned(dir),
                    };
                    self.counters().root_appeared(&root.dir);
                    self.roots[i].1 = followed;
                    self.publish_roots();
                    self.walk_root(i).await;
                }
                (Followed::Notified(dir) | Followed::Scanned(dir), false) => {
                    if let (Followed::Notified(_), Some(w)) = (followed, watcher.as_mut()) {
                        use notify::Watcher;
                        let _ = w.unwatch(dir);
                    }
                    let dir = dir.clone();
                    self.known.retain(|path, _| !path.starts_with(&dir));
                    self.roots[i].1 = Followed::Missing;
                    self.publish_roots();
                    self.counters().files(self.known.len() as u64);
                }
                _ => {}
            }
        }
        self.publish_roots();
    }

    /// Notifications failed: every notified root is scanned from now on.
    async fn fall_back_to_scans(
        &mut self,
        watcher: &mut Option<notify::RecommendedWatcher>,
        error: &str,
    ) {
        for i in 0..self.roots.len() {
            if let Followed::Notified(dir) = &self.roots[i].1 {
                let dir = dir.clone();
                if let Some(w) = watcher.as_mut() {
                    use notify::Watcher;
                    let _ = w.unwatch(&dir);
                }
                self.counters().notify_unavailable(&dir, &error);
                self.roots[i].1 = Followed::Scanned(dir);
                self.walk_root(i).await;
            }
        }
        self.publish_roots();
    }

    fn publish_roots(&self) {
        let mut states = RootStates::default();
        for (_, followed) in &self.roots {
            match followed {
                Followed::Missing => states.missing += 1,
                Followed::Notified(_) => states.notified += 1,
                Followed::Scanned(_) => states.scanned += 1,
            }
        }
        self.counters().roots(states);
    }

    /// Walks root `i` whole: every log file new or changed goes to the tail,
    /// every file gone is forgotten.
    async fn walk_root(&mut self, i: usize) {
        let (root, followed) = &self.roots[i];
        let Some(dir) = followed.dir().map(Path::to_path_buf) else {
            return;
        };
        let kind = root.kind;
        let walk_dir = dir.clone();
        let Ok(walked) = tokio::task::spawn_blocking(move || walk(&walk_dir, kind)).await else {
            return;
        };
        self.counters().scanned();
        let present: HashSet<&PathBuf> = walked.files.iter().map(|(p, _)| p).collect();
        let gone: Vec<PathBuf> = (self.known.keys())
            .filter(|path| path.starts_with(&dir) && !present.contains(path))
            .cloned()
            .collect();
        for path in gone {
            self.forget(&path);
        }
        for link in walked.symlinks {
            self.refuse(link);
        }
        for (path, seen) in walked.files {
            self.offer(kind, path, seen, false).await;
        }
        self.counters().files(self.known.len() as u64);
    }

    /// A notification named `path`: a file to offer, a directory to walk
    /// (files written into a new directory before its watch was added
    /// raised no event), or a symlink to refuse.
    async fn changed(&mut self, path: PathBuf) {
        let Some((kind, _)) = self.root_of(&path) else {
            return;
        };
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            // Deleted, or moved away (a move's new path has its own event).
            self.forget(&path);
            self.counters().files(self.known.len() as u64);
            return;
        };
        if meta.file_type().is_symlink() {
            self.refuse(path);
        } else if meta.is_dir() && kind.nested() {
            self.fresh_dirs.insert(path.clone(), kind);
            self.walk_dir(path, kind).await;
        } else if meta.is_file() && kind.is_log(&path) {
            self.offer(kind, path, (meta.len(), meta.ino()), true).await;
        }
        self.counters().files(self.known.len() as u64);
    }

    /// Walks a directory a notification named (new, most likely): what is
    /// in it is being written now.
    async fn walk_dir(&mut self, dir: PathBuf, kind: LogKind) {
        let walked = tokio::task::spawn_blocking(move || walk(&dir, kind)).await;
        if let Ok(walked) = walked {
            for link in walked.symlinks {
                self.refuse(link);
            }
            for (path, seen) in walked.files {
                self.offer(kind, path, seen, true).await;
            }
        }
        self.counters().files(self.known.len() as u64);
    }

    /// The kind and canonical directory of the followed root `path` is under.
    fn root_of(&self, path: &Path) -> Option<(LogKind, &Path)> {
        self.roots.iter().find_map(|(root, followed)| {
            followed
                .dir()
                .filter(|dir| path.starts_with(dir))
                .map(|dir| (root.kind, dir))
        })
    }

    /// A known log file is no longer there: counted once, and found anew if
    /// a file appears at its path again.
    fn forget(&mut self, path: &Path) {
        if self.known.remove(path).is_some() {
            self.counters().file_gone(path);
        }
    }

    /// Hands `path` to the tail when it is new or changed since last seen.
    async fn offer(&mut self, kind: LogKind, path: PathBuf, seen: (u64, u64), live: bool) {
        if self.known.get(&path) == Some(&seen) && !(live && kind == LogKind::OpenCodeDatabase) {
            // A database's WAL is rewritten in place after a checkpoint, its
            // length unchanged: for it a notification is news in itself.
            return;
        }
        self.known.insert(path.clone(), seen);
        let path = match kind {
            LogKind::OpenCodeDatabase => database_of(&path),
            _ => path,
        };
        if self.handed.insert(path.clone()) {
            self.counters().file_found(&path);
        }
        // Waits while the tail is busy: backpressure, never a lost file.
        tokio::select! {
            _ = self.stop.cancelled() => {}
            _ = self.found.send(Found { kind, path, live }) => {}
        }
    }

    fn refuse(&mut self, link: PathBuf) {
        if self.refused.len() < 4096 && self.refused.insert(link.clone()) {
            self.counters().symlink_refused(&link);
        }
    }
}

/// A notifier that never follows symlinks, or `None` (logged) when the
/// system has none to give: the roots are scanned then.
fn notifier(tx: mpsc::UnboundedSender<Notice>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let handler = move |event: notify::Result<notify::Event>| {
        let notice = match event {
            // A removal too: `changed` finds the path gone and forgets it.
            Ok(event)
                if event.kind.is_modify() || event.kind.is_create() || event.kind.is_remove() =>
            {
                Notice::Changed(event.paths)
            }
            Ok(_) => return,
            Err(e) => Notice::Trouble(e.to_string()),
        };
        let _ = tx.send(notice);
    };
    let config = notify::Config::default().with_follow_symlinks(false);
    notify::RecommendedWatcher::new(handler, config)
        .map_err(|e| tracing::warn!(error = %e, "Cannot use file system notifications; scanning the log roots periodically instead."))
        .ok()
}

/// What a walk of a directory found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Log files, with (length, inode).
    pub files: Vec<(PathBuf, (u64, u64))>,
    /// Symlinks met on the way: not followed.
    pub symlinks: Vec<PathBuf>,
}

/// Walks `dir` without following symlinks, collecting the log files of
/// `kind`. Unreadable directories are passed over (found again next walk).
/// Doctor walks the roots with it too, so it reports what the daemon sees.
pub fn walk(dir: &Path, kind: LogKind) -> Walked {
    let mut walked = Walked::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_symlink() {
                if file_type_behind(&path).is_some_and(|dir| dir) || kind.is_log(&path) {
                    walked.symlinks.push(path);
                }
            } else if file_type.is_dir() {
                if kind.nested() {
                    stack.push(path);
                }
            } else if file_type.is_file() && kind.is_log(&path) {
                if let Ok(meta) = entry.metadata() {
                    walked.files.push((path, (meta.len(), meta.ino())));
                }
            }
        }
    }
    walked
}

/// Whether a symlink leads to a directory (`Some(true)`), to something
/// else, or nowhere (`None`): a symlinked directory is refused whatever its
/// name, a symlinked file only when it looks like a log.
fn file_type_behind(link: &Path) -> Option<bool> {
    std::fs::metadata(link).ok().map(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_named_twice_is_watched_once() {
        let transcripts = Transcripts {
            roots: vec![
                "/h/.claude/projects".into(),
                "/h/.config/claude/projects".into(),
                "/h/.claude/projects/".into(),
            ],
            codex_roots: Vec::new(),
            gemini_roots: Vec::new(),
            opencode_roots: Vec::new(),
            idle_timeout: Duration::from_secs(1),
            stop_linger: Duration::from_secs(1),
            watch: Watch::Notify,
        };
        let dirs: Vec<PathBuf> = log_roots(&transcripts).into_iter().map(|r| r.dir).collect();
        assert_eq!(
            dirs,
            [
                PathBuf::from("/h/.claude/projects"),
                PathBuf::from("/h/.config/claude/projects")
            ]
        );
    }

    #[test]
    fn a_walk_finds_logs_in_projects_and_subagent_dirs_and_follows_no_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("projects");
        let project = root.join("-home-me-shop");
        std::fs::create_dir_all(project.join("s1/subagents")).unwrap();
        std::fs::write(project.join("s1.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("s1/subagents/agent-a1.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("notes.txt"), "x").unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("o.jsonl"), "{}\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked-dir")).unwrap();
        std::os::unix::fs::symlink(outside.join("o.jsonl"), project.join("l.jsonl")).unwrap();

        let walked = walk(&root, LogKind::ClaudeTranscript);
        let mut files: Vec<String> = walked
            .files
            .iter()
            .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "-home-me-shop/s1.jsonl",
                "-home-me-shop/s1/subagents/agent-a1.jsonl",
            ]
        );
        let mut links = walked.symlinks.clone();
        links.sort();
        assert_eq!(links, [project.join("l.jsonl"), root.join("linked-dir")]);
    }

    #[test]
    fn codex_roots_are_watched_for_rollouts_at_any_depth_and_nothing_else() {
        let transcripts = Transcripts {
            roots: vec!["/h/.claude/projects".into()],
            codex_roots: vec![
                "/h/.codex/sessions".into(),
                "/h/.codex/archived_sessions".into(),
            ],
            gemini_roots: vec!["/h/.gemini/tmp".into()],
            opencode_roots: vec!["/h/.local/share/opencode".into()],
            idle_timeout: Duration::from_secs(1),
            stop_linger: Duration::from_secs(1),
            watch: Watch::Notify,
        };
        let kinds: Vec<(LogKind, PathBuf)> = log_roots(&transcripts)
            .into_iter()
            .map(|r| (r.kind, r.dir))
            .collect();
        assert_eq!(
            kinds,
            [
                (LogKind::ClaudeTranscript, "/h/.claude/projects".into()),
                (LogKind::CodexRollout, "/h/.codex/sessions".into()),
                (LogKind::CodexRollout, "/h/.codex/archived_sessions".into()),
                (LogKind::GeminiChat, "/h/.gemini/tmp".into()),
                (LogKind::OpenCodeDatabase, "/h/.local/share/opencode".into()),
            ]
        );

        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("2026/12/06");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("rollout-2026-12-06T13-14-47-a.jsonl"), "{}\n").unwrap();
        std::fs::write(
            dir.path().join("rollout-2026-12-01T09-00-00-b.jsonl"),
            "{}\n",
        )
        .unwrap();
        std::fs::write(day.join("history.jsonl"), "{}\n").unwrap();
        std::fs::write(day.join("rollout-notes.txt"), "x").unwrap();
        let mut files: Vec<PathBuf> = walk(dir.path(), LogKind::CodexRollout)
            .files
            .into_iter()
            .map(|(p, _)| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                PathBuf::from("2026/12/06/rollout-2026-12-06T13-14-47-a.jsonl"),
                PathBuf::from("rollout-2026-12-01T09-00-00-b.jsonl"),
            ]
        );
    }

    #[test]
    fn an_opencode_root_is_walked_for_its_database_alone_not_its_subdirectories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "opencode.db",
            "opencode.db-wal",
            "opencode.db-shm",
            "auth.json",
        ] {
            std::fs::write(root.join(name), "x").unwrap();
        }
        // OpenCode keeps data about the user's projects in subdirectories.
        std::fs::create_dir_all(root.join("repos/p1")).unwrap();
        std::fs::write(root.join("repos/p1/opencode.db"), "x").unwrap();
        let mut files: Vec<PathBuf> = walk(root, LogKind::OpenCodeDatabase)
            .files
            .into_iter()
            .map(|(p, _)| p.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                PathBuf::from("opencode.db"),
                PathBuf::from("opencode.db-wal")
            ]
        );
        assert_eq!(
            database_of(&root.join("opencode.db-wal")),
            root.join("opencode.db")
        );
        assert_eq!(
            database_of(&root.join("opencode.db")),
            root.join("opencode.db")
        );
    }
}
