//! The transcript tail (docs/ingest.md#claude-code-transcripts): Claude Code writes token usage only to
//! its transcript JSONL, so every hook event that names a transcript makes
//! this task read the file from its saved offset, complete lines only, and
//! keep following it while the session is active.
//!
//! It owns the watch list and the in-memory copy of `transcript_offsets`
//! (read back through [`crate::query::transcripts`]; no SQL here);
//! records and the offset they were read up to are committed together by
//! the writer, so a restart neither re-counts nor misses a line. Only files
//! under the allowed roots are read, after canonicalization, and never
//! through a symlink: a path a hook names is untrusted input.
//!
//! A file is read by the reader of its [`LogKind`]: a Claude Code
//! transcript line by line on its own, a Codex rollout through a
//! [`Rollout`] and a Gemini CLI chat log through a [`ChatState`], whose
//! state (a rollout's session, cwd, model, totals; a chat's session and
//! message ids seen) is kept in memory beside the offset. It is not
//! stored: after a restart, the first read of a rollout or chat log that
//! grew reads its lines before the offset again without emitting them. That costs one pass over a grown file once per run, while
//! the common restart (thousands of files read to their end) stays one
//! `stat` per file, and the state can never disagree with the file. A
//! rollout Codex moved to `archived_sessions/` keeps its inode: the offset
//! saved under its old path is taken over, so it is not read again.
//!
//! Files the watch ([`crate::ingest::watch`]) finds without a hook come
//! in as [`Found`] and wait in a queue read one chunk at a time, a hook's
//! hint always first, then the files a notification says are being written
//! now: a large backlog found at start never keeps a live session waiting
//! longer than one chunk.
//!
//! What happens to lines and files is reported to
//! [`crate::internal_events::transcript`], which logs and counts it for
//! `/metrics`; this module never bumps a counter or writes those lines itself.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::collect::codex::Rollout;
use crate::collect::transcript::{
    parse_line, prompt_id_in, SkipReason, TranscriptLine, TranscriptUsage, PROMPT_KEY,
};
use crate::collect::UsageLimits;
use crate::config::Transcripts;
use crate::ingest::gemini::ChatState;
use crate::ingest::watch::{Found, LogKind};
use crate::internal_events::transcript::{ChunkRead, CodexSkips, GeminiSkips, TranscriptCounters};
use crate::record::{Source, TranscriptBatch, TranscriptHint, TranscriptOffset, TranscriptRecord};
use crate::store::writer::WriterHandle;

/// Most bytes read (and held) per commit: a large backlog streams through
/// in pieces of this size, each committed with its offset.
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// A single line longer than this is skipped, not buffered.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;
/// How often watched files are checked even without a notify event.
const POLL: Duration = Duration::from_secs(1);

/// Sends hook events' transcript hints to the tail.
#[derive(Clone)]
pub struct TailHandle {
    tx: mpsc::Sender<TranscriptHint>,
}

impl TailHandle {
    /// Asks the tail to read (and follow) the transcripts an event names.
    /// Waits when the tail is behind: backpressure, never a dropped hint.
    pub async fn touch(&self, hint: TranscriptHint) {
        let _ = self.tx.send(hint).await;
    }

    /// Touches the transcripts (or the Codex rollout) `event` names, if any.
    pub async fn follow(&self, event: &crate::record::HookEvent) {
        if let Some(hint) = &event.transcripts {
            self.touch(hint.clone()).await;
        }
    }
}

/// One followed transcript.
struct Watched {
    last_activity: Instant,
    /// Set by Stop/SubagentStop/SessionEnd: the last read happens then.
    ends_at: Option<Instant>,
}

/// The tail task's state.
pub struct Tail {
    config: Transcripts,
    /// A line whose usage is over these is skipped, not priced.
    usage_limits: UsageLimits,
    writer: WriterHandle,
    db: PathBuf,
    counters: Arc<TranscriptCounters>,
    watched: HashMap<PathBuf, Watched>,
    /// Read positions by canonical path: loaded from the db once, then ours.
    offsets: HashMap<PathBuf, (u64, u64)>,
    /// (length, inode) of each file at its last read: unchanged means nothing new.
    seen: HashMap<PathBuf, (u64, u64)>,
    /// Paths already reported as refused, so a bad hook does not flood the log.
    refused: HashSet<String>,
    /// The kind of each file met, so it is read by its own reader.
    kinds: HashMap<PathBuf, LogKind>,
    /// Each Codex rollout's or Gemini CLI chat log's reader state at its
    /// offset and inode: what its lines before the offset said. Not stored;
    /// rebuilt by a re-read when missing (see the module doc).
    states: HashMap<PathBuf, (u64, u64, LineStates)>,
    reader: Option<rusqlite::Connection>,
    /// Files the watch found new or grown, waiting for a chunk read; each
    /// path once, whatever the number of notifications.
    pending: VecDeque<Pending>,
    pending_paths: HashSet<PathBuf>,
    /// Queued files a notification says are being written now: read before
    /// the rest, so a live session never waits behind a start's backlog.
    live: VecDeque<Pending>,
    /// Files whose records the writer could not store: queued again by the
    /// poll, as a followed file is read again.
    retry: HashSet<PathBuf>,
    /// Where the watch sends what it finds; `None` when it is off.
    found: Option<mpsc::Receiver<Found>>,
    /// The OpenCode databases the watch found, and where each read stands.
    databases: HashMap<PathBuf, Database>,
}

/// One OpenCode database followed: read by rowid, its cursor stored as the
/// offset of its path (docs/ingest.md#opencode).
struct Database {
    following: crate::ingest::opencode::Following,
    /// The inode the cursor belongs to: another file at the path is read
    /// from its first row.
    inode: u64,
    /// The files' fingerprint when the last read reached the end: the
    /// same now means nothing new; `None` reads at the next poll.
    read_at: Option<Fingerprint>,
}

/// (length, modification time, inode) of a database and of its WAL, where
/// OpenCode's commits land first: a WAL rewritten from its start after a
/// checkpoint keeps its length, so the time tells.
type Fingerprint = [(u64, i64, i64, u64); 2];

/// A fingerprint newer than this when taken may not show every commit to
/// a read that follows it: SQLite writes a commit's frames to the WAL (the
/// change seen) before it publishes them in the WAL index (what a reader
/// goes by). Such a database is read again at the next poll.
const SETTLE: Duration = Duration::from_secs(1);

/// Whether the files of `print` were last written more than [`SETTLE`]
/// before `at`.
fn settled(print: &Fingerprint, at: std::time::SystemTime) -> bool {
    let newest = print
        .iter()
        .map(|&(_, s, ns, _)| (s, ns))
        .max()
        .unwrap_or((0, 0));
    let written = std::time::UNIX_EPOCH
        + Duration::new(u64::try_from(newest.0).unwrap_or(0), newest.1 as u32);
    at.duration_since(written).is_ok_and(|age| age > SETTLE)
}

fn fingerprint(db: &Path) -> Fingerprint {
    let look = |path: &Path| {
        std::fs::metadata(path).map_or((0, 0, 0, 0), |m| {
            (m.len(), m.mtime(), m.mtime_nsec(), m.ino())
        })
    };
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [look(db), look(Path::new(&wal))]
}

/// A reader's state kept beside a file's offset, by the file's kind.
#[derive(Debug)]
enum LineStates {
    Codex(Rollout),
    Gemini(ChatState),
}

/// A file the watch found, waiting in the queue.
struct Pending {
    path: PathBuf,
    /// Part of it was read already this round: read on, whatever `seen` says.
    started: bool,
}

/// Whether a read left something for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Done,
    More,
}

impl Tail {
    pub fn new(
        config: Transcripts,
        usage_limits: UsageLimits,
        writer: WriterHandle,
        db: PathBuf,
        counters: Arc<TranscriptCounters>,
    ) -> Tail {
        Tail {
            config,
            usage_limits,
            writer,
            db,
            counters,
            watched: HashMap::new(),
            offsets: HashMap::new(),
            seen: HashMap::new(),
            refused: HashSet::new(),
            kinds: HashMap::new(),
            states: HashMap::new(),
            reader: None,
            pending: VecDeque::new(),
            pending_paths: HashSet::new(),
            live: VecDeque::new(),
            retry: HashSet::new(),
            found: None,
            databases: HashMap::new(),
        }
    }

    /// Reads, besides the files hooks name, the files the watch finds.
    pub fn with_watch(mut self, found: mpsc::Receiver<Found>) -> Tail {
        self.found = Some(found);
        self
    }

    /// Starts the task; hints arrive through the returned handle.
    pub fn spawn(self, shutdown: CancellationToken) -> (TailHandle, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        (TailHandle { tx }, tokio::spawn(self.run(rx, shutdown)))
    }

    async fn run(mut self, mut hints: mpsc::Receiver<TranscriptHint>, shutdown: CancellationToken) {
        let (changed_tx, mut changed) = mpsc::unbounded_channel::<PathBuf>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    if event.kind.is_modify() || event.kind.is_create() {
                        for path in event.paths {
                            let _ = changed_tx.send(path);
                        }
                    }
                }
            })
            .map_err(
                |e| tracing::warn!(error = %e, "Cannot watch transcripts; polling them instead."),
            )
            .ok();
        // Files followed recently before a restart may have grown while the
        // daemon was down; their sessions may send no further hook event.
        for path in self.recently_followed() {
            let kind = self.kind_by_name(Path::new(&path));
            if kind == LogKind::OpenCodeDatabase {
                continue; // found again by the watch, read on from its cursor
            }
            self.touch(&path, false, kind, watcher.as_mut()).await;
        }
        let mut poll = tokio::time::interval(POLL);
        let mut found = self.found.take();
        loop {
            // Biased: a hook's hint and a followed file's change go before
            // the watch's queue, which is read a chunk per turn.
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(hint) = hints.recv() => {
                    let Some(kind) = hint_kind(&hint) else { continue };
                    for path in &hint.paths {
                        self.touch(path, hint.ends_watch, kind, watcher.as_mut()).await;
                    }
                }
                Some(path) = changed.recv() => {
                    if self.watched.contains_key(&path) {
                        self.read(&path).await;
                    }
                }
                _ = poll.tick() => self.poll(watcher.as_mut()).await,
                Some(file) = next_found(&mut found) => self.queue(file),
                _ = std::future::ready(()), if !self.pending.is_empty() || !self.live.is_empty() => {
                    self.read_pending().await;
                }
            }
        }
        // The watch's queue is left: its files resume from their offsets
        // at the next start.
        // Hints already queued were acked events: honour them before exiting,
        // and read every followed file a last time.
        while let Ok(hint) = hints.try_recv() {
            let Some(kind) = hint_kind(&hint) else {
                continue;
            };
            for path in &hint.paths {
                self.touch(path, hint.ends_watch, kind, None).await;
            }
        }
        let followed: Vec<PathBuf> = self.watched.keys().cloned().collect();
        for path in followed {
            self.read(&path).await;
        }
        self.counters.stopped();
    }

    /// A hook event named `path`: read it now and follow it.
    async fn touch(
        &mut self,
        path: &str,
        ends: bool,
        kind: LogKind,
        watcher: Option<&mut notify::RecommendedWatcher>,
    ) {
        let Some(path) = self.admit(path, kind) else {
            return;
        };
        self.kinds.insert(path.clone(), kind);
        let now = Instant::now();
        let entry = self.watched.entry(path.clone()).or_insert_with(|| Watched {
            last_activity: now,
            ends_at: None,
        });
        entry.last_activity = now;
        entry.ends_at = ends.then(|| now + self.config.stop_linger);
        if let Some(watcher) = watcher {
            use notify::Watcher;
            if let Err(e) = watcher.watch(&path, notify::RecursiveMode::NonRecursive) {
                tracing::debug!(error = %e, path = %path.display(), "Cannot watch a transcript; polling it.");
            }
        }
        self.read(&path).await;
    }

    /// Checks every followed file (notify can miss events) and ends the
    /// watches whose session went quiet or ended.
    async fn poll(&mut self, mut watcher: Option<&mut notify::RecommendedWatcher>) {
        let now = Instant::now();
        for path in std::mem::take(&mut self.retry) {
            if !self.watched.contains_key(&path) {
                let kind = self.kind_of(&path);
                self.queue(Found {
                    kind,
                    path,
                    live: true,
                });
            }
        }
        // The fallback for notifications missed: a database whose files
        // changed since its last read is read again.
        let changed: Vec<PathBuf> = (self.databases.iter())
            .filter(|(path, db)| db.read_at != Some(fingerprint(path)))
            .map(|(path, _)| path.clone())
            .collect();
        for path in changed {
            self.queue(Found {
                kind: LogKind::OpenCodeDatabase,
                path,
                live: true,
            });
        }
        let paths: Vec<PathBuf> = self.watched.keys().cloned().collect();
        for path in paths {
            self.read(&path).await;
            let Some(w) = self.watched.get(&path) else {
                continue;
            };
            let ended = w.ends_at.is_some_and(|t| now >= t)
                || now.duration_since(w.last_activity) >= self.config.idle_timeout;
            if ended {
                self.watched.remove(&path);
                if let Some(watcher) = watcher.as_deref_mut() {
                    use notify::Watcher;
                    let _ = watcher.unwatch(&path);
                }
                tracing::debug!(path = %path.display(), "Stopped following a transcript.");
            }
        }
    }

    /// The canonical path, when it is a regular file under an allowed root
    /// of its kind.
    fn admit(&mut self, path: &str, kind: LogKind) -> Option<PathBuf> {
        let roots = match kind {
            LogKind::ClaudeTranscript => &self.config.roots,
            LogKind::CodexRollout => &self.config.codex_roots,
            LogKind::GeminiChat => &self.config.gemini_roots,
            LogKind::OpenCodeDatabase => &self.config.opencode_roots,
        };
        match admit(path, roots) {
            Ok(path) => Some(path),
            Err(reason) => {
                let first = self.refused.len() < 1024 && self.refused.insert(path.to_string());
                self.counters.path_refused(path, &reason, first);
                None
            }
        }
    }

    /// Queues a file the watch found, once however often it is found.
    fn queue(&mut self, found: Found) {
        if found.live {
            // Already waiting in the backlog: it moves ahead, keeping its place in the file.
            if let Some(at) = self.pending.iter().position(|p| p.path == found.path) {
                if let Some(waiting) = self.pending.remove(at) {
                    self.live.push_back(waiting);
                }
                return;
            }
        }
        self.kinds.insert(found.path.clone(), found.kind);
        if self.pending_paths.insert(found.path.clone()) {
            let queue = match found.live {
                true => &mut self.live,
                false => &mut self.pending,
            };
            queue.push_back(Pending {
                path: found.path,
                started: false,
            });
        }
    }

    /// Reads one chunk of the first queued file, a live one first; a file
    /// with more to read goes to the back of its queue, so many files share
    /// the reads.
    async fn read_pending(&mut self) {
        let (mut next, live) = match self.live.pop_front() {
            Some(next) => (next, true),
            None => match self.pending.pop_front() {
                Some(next) => (next, false),
                None => return,
            },
        };
        // Either kind: a file read to its end costs one stat. A database
        // is told unchanged by its own fingerprint.
        let database = self.kind_of(&next.path) == LogKind::OpenCodeDatabase;
        let step = if !next.started
            && !database
            && (self.unchanged(&next.path) || self.read_to_end(&next.path))
        {
            Step::Done
        } else {
            self.read_step(&next.path).await
        };
        if step == Step::More {
            next.started = true;
            match live {
                true => self.live.push_back(next),
                false => self.pending.push_back(next),
            }
        } else {
            self.pending_paths.remove(&next.path);
        }
    }

    /// Whether `path` has the length and inode it had at its last read
    /// (remembering them otherwise): polling stats every followed file each
    /// second, reading only when it changed.
    fn unchanged(&mut self, path: &Path) -> bool {
        if let Ok(meta) = std::fs::metadata(path) {
            let now = (meta.len(), meta.ino());
            if self.seen.get(path) == Some(&now) {
                return true;
            }
            self.seen.insert(path.to_path_buf(), now);
        }
        false
    }

    /// Whether `path` was read to its end already (its length and inode are
    /// its saved offset's): at start the watch offers every file under the
    /// roots, and most were read before.
    fn read_to_end(&mut self, path: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        self.offset_of(path) == (meta.len(), meta.ino())
    }

    /// Reads everything new in `path`, a chunk at a time, each chunk
    /// committed with its offset before the next is read.
    async fn read(&mut self, path: &Path) {
        if self.kind_of(path) == LogKind::OpenCodeDatabase {
            while self.read_database(path).await == Step::More {}
            return;
        }
        if self.unchanged(path) {
            return;
        }
        while self.read_step(path).await == Step::More {}
    }

    /// Reads and commits one chunk of `path` from its offset, with the
    /// reader of its kind.
    async fn read_step(&mut self, path: &Path) -> Step {
        let kind = self.kind_of(path);
        if kind == LogKind::OpenCodeDatabase {
            return self.read_database(path).await;
        }
        let (offset, inode) = self.offset_of(path);
        let task_path = path.to_path_buf();
        let limits = self.usage_limits;
        let read = match kind {
            LogKind::OpenCodeDatabase => return Step::Done, // read above
            LogKind::ClaudeTranscript => {
                tokio::task::spawn_blocking(move || {
                    read_chunk(&task_path, offset, inode, CHUNK_BYTES, limits)
                        .map(|chunk| (chunk, None))
                })
                .await
            }
            LogKind::CodexRollout => {
                let state = self.state_at(path, offset, inode).and_then(|s| match s {
                    LineStates::Codex(state) => Some(state),
                    LineStates::Gemini(_) => None,
                });
                tokio::task::spawn_blocking(move || {
                    crate::ingest::codex::read_rollout_chunk(
                        &task_path,
                        offset,
                        inode,
                        state,
                        CHUNK_BYTES,
                        limits,
                    )
                    .map(|read| {
                        (
                            read.chunk,
                            Some((LineStates::Codex(read.state), read.skips)),
                        )
                    })
                })
                .await
            }
            LogKind::GeminiChat => {
                let state = self.state_at(path, offset, inode).and_then(|s| match s {
                    LineStates::Gemini(state) => Some(state),
                    LineStates::Codex(_) => None,
                });
                tokio::task::spawn_blocking(move || {
                    crate::ingest::gemini::read_chat_chunk(
                        &task_path,
                        offset,
                        inode,
                        state,
                        CHUNK_BYTES,
                        limits,
                    )
                    .map(|read| {
                        (
                            read.chunk,
                            Some((LineStates::Gemini(read.state), read.skips)),
                        )
                    })
                })
                .await
            }
        };
        let (chunk, rollout) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => {
                if e.kind() == std::io::ErrorKind::NotFound {
                    self.counters.gone(path);
                    self.watched.remove(path);
                    self.seen.remove(path);
                } else {
                    tracing::warn!(error = %e, path = %path.display(), "Cannot read a transcript.");
                }
                return Step::Done;
            }
            Err(e) => {
                tracing::error!(error = %e, "Transcript read task failed.");
                return Step::Done;
            }
        };
        if chunk.restarted == Some(Restart::Truncated) {
            self.counters.truncated(path);
        }
        if chunk.restarted == Some(Restart::Rotated) {
            self.counters.rotated(path);
        }
        let (state, skips) = match rollout {
            Some((state, skips)) => (Some(state), skips),
            None => (None, Default::default()),
        };
        if chunk.end == offset && chunk.restarted.is_none() {
            if let Some(state) = state {
                self.states
                    .insert(path.to_path_buf(), (offset, inode, state));
            }
            return Step::Done; // nothing new
        }
        let records = chunk.records.len() as u64;
        self.counters.chunk_read(
            path,
            ChunkRead {
                lines: chunk.lines,
                skipped: chunk.skipped,
                implausible: chunk.implausible,
                not_json: chunk.not_json,
                records,
            },
        );
        match kind {
            LogKind::CodexRollout => self.counters.codex_lines_skipped(CodexSkips {
                unknown_type: skips.unknown_type,
                null_info: skips.null_info,
                repeated_total: skips.repeated_total,
                invalid_usage: skips.invalid_usage,
            }),
            LogKind::GeminiChat => self.counters.gemini_lines_skipped(GeminiSkips {
                unknown_type: skips.unknown_type,
                invalid_usage: skips.invalid_usage,
            }),
            LogKind::ClaudeTranscript | LogKind::OpenCodeDatabase => {}
        }
        let to_record = match kind {
            LogKind::ClaudeTranscript => to_record,
            LogKind::CodexRollout => crate::ingest::codex::to_record,
            LogKind::GeminiChat => crate::ingest::gemini::to_record,
            LogKind::OpenCodeDatabase => crate::ingest::opencode::to_record,
        };
        let batch = TranscriptBatch {
            records: chunk
                .records
                .into_iter()
                .map(|line| to_record(line, Source::Transcript))
                .collect(),
            offset: Some(TranscriptOffset {
                path: path.to_string_lossy().into_owned(),
                offset: chunk.end,
                inode: chunk.inode,
            }),
            plan: chunk.plan,
        };
        match self.writer.write_transcript(batch).await {
            Ok(_) => {
                self.counters.records_stored(records);
                self.offsets
                    .insert(path.to_path_buf(), (chunk.end, chunk.inode));
                if let Some(state) = state {
                    self.states
                        .insert(path.to_path_buf(), (chunk.end, chunk.inode, state));
                }
            }
            Err(e) => {
                // Not committed: the offset stays, and forgetting the
                // size seen makes the next poll read it again (a file
                // only the watch found is queued again by the poll). The
                // rollout state read past the offset is dropped with it.
                self.seen.remove(path);
                self.retry.insert(path.to_path_buf());
                tracing::warn!(error = %e, path = %path.display(), "Transcript records not stored; will retry.");
                return Step::Done;
            }
        }
        if chunk.at_end {
            Step::Done
        } else {
            Step::More
        }
    }

    /// The reader state kept for `path`, when it was left at this offset
    /// and inode (good for no other place in the file).
    fn state_at(&mut self, path: &Path, offset: u64, inode: u64) -> Option<LineStates> {
        self.states
            .remove(path)
            .filter(|(at, ino, _)| (*at, *ino) == (offset, inode))
            .map(|(_, _, state)| state)
    }

    /// Reads what changed in an OpenCode database since its last read (a
    /// batch of rows at most) and commits the steps that completed with the
    /// cursor. A busy database is counted and read again at the next poll;
    /// OpenCode is never waited on.
    async fn read_database(&mut self, path: &Path) -> Step {
        use crate::ingest::opencode::{read_database_since, DatabaseReadError, Following};
        let taken = std::time::SystemTime::now();
        let now = fingerprint(path);
        if now[0].3 == 0 {
            self.databases.remove(path);
            return Step::Done; // gone; the watch finds it again if it comes back
        }
        if !self.databases.contains_key(path) {
            let (cursor, inode) = self.offset_of(path);
            let database = Database {
                following: Following::from_cursor(i64::try_from(cursor).unwrap_or(0)),
                inode,
                read_at: None,
            };
            self.databases.insert(path.to_path_buf(), database);
        }
        let Some(db) = self.databases.get_mut(path) else {
            return Step::Done;
        };
        if db.read_at == Some(now) {
            return Step::Done;
        }
        if db.inode != 0 && db.inode != now[0].3 {
            self.counters.rotated(path);
            db.following = Following::default();
        }
        db.inode = now[0].3;
        let (following, inode) = (db.following.clone(), db.inode);
        let task_path = path.to_path_buf();
        let limits = self.usage_limits;
        let read = tokio::task::spawn_blocking(move || {
            read_database_since(
                &task_path,
                following,
                crate::ingest::opencode::LIVE_BATCH_ROWS,
                limits,
            )
        })
        .await;
        let read = match read {
            Ok(Ok(read)) => read,
            Ok(Err(DatabaseReadError::Busy(e))) => {
                self.counters.database_busy(path, &e);
                if let Some(db) = self.databases.get_mut(path) {
                    db.read_at = None;
                }
                return Step::Done;
            }
            Ok(Err(DatabaseReadError::Failed(e))) => {
                // Read again only once its files change: a file that is
                // no database is not retried every second.
                self.counters.database_failed(path, &e);
                if let Some(db) = self.databases.get_mut(path) {
                    db.read_at = Some(now);
                }
                return Step::Done;
            }
            Err(e) => {
                tracing::error!(error = %e, "OpenCode database read task failed.");
                return Step::Done;
            }
        };
        let records = read.chunk.records.len() as u64;
        self.counters.database_read(
            path,
            ChunkRead {
                lines: read.chunk.lines,
                skipped: read.chunk.skipped,
                implausible: read.chunk.implausible,
                not_json: read.chunk.not_json,
                records,
            },
        );
        let at_end = read.chunk.at_end;
        let cursor = read.following.cursor();
        let batch = TranscriptBatch {
            records: (read.chunk.records.into_iter())
                .map(|line| crate::ingest::opencode::to_record(line, Source::Transcript))
                .collect(),
            offset: Some(TranscriptOffset {
                path: path.to_string_lossy().into_owned(),
                offset: u64::try_from(cursor).unwrap_or(0),
                inode,
            }),
            plan: Vec::new(),
        };
        if let Err(e) = self.writer.write_transcript(batch).await {
            self.retry.insert(path.to_path_buf());
            tracing::warn!(error = %e, path = %path.display(), "OpenCode records not stored; will retry.");
            return Step::Done;
        }
        self.counters.records_stored(records);
        self.offsets.insert(
            path.to_path_buf(),
            (u64::try_from(cursor).unwrap_or(0), inode),
        );
        if let Some(db) = self.databases.get_mut(path) {
            db.following = read.following;
            db.read_at = (at_end && settled(&now, taken)).then_some(now);
        }
        match at_end {
            true => Step::Done,
            false => Step::More,
        }
    }

    /// The kind of a file met before, else the one its name and place say.
    fn kind_of(&self, path: &Path) -> LogKind {
        match self.kinds.get(path) {
            Some(&kind) => kind,
            None => self.kind_by_name(path),
        }
    }

    /// A `rollout-*.jsonl` under a Codex root is a rollout, a chat log under
    /// a Gemini CLI root a chat log; anything else a Claude Code transcript
    /// (for paths read back from the database).
    fn kind_by_name(&self, path: &Path) -> LogKind {
        let under = |roots: &[PathBuf]| {
            roots
                .iter()
                .any(|root| std::fs::canonicalize(root).is_ok_and(|root| path.starts_with(root)))
        };
        if LogKind::OpenCodeDatabase.is_log(path) && under(&self.config.opencode_roots) {
            return LogKind::OpenCodeDatabase;
        }
        if LogKind::CodexRollout.is_log(path) && under(&self.config.codex_roots) {
            LogKind::CodexRollout
        } else if LogKind::GeminiChat.is_log(path) && under(&self.config.gemini_roots) {
            LogKind::GeminiChat
        } else {
            LogKind::ClaudeTranscript
        }
    }

    /// Transcripts whose offset moved within the idle timeout: the ones a
    /// restart should go on following.
    fn recently_followed(&mut self) -> Vec<String> {
        let since = jiff::Timestamp::now()
            .checked_sub(
                jiff::SignedDuration::try_from(self.config.idle_timeout).unwrap_or_default(),
            )
            .map(crate::record::format_timestamp)
            .unwrap_or_default();
        let Some(conn) = self.reader() else {
            return Vec::new();
        };
        crate::query::transcripts::transcripts_read_since(conn, &since).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Cannot list recently followed transcripts.");
            Vec::new()
        })
    }

    /// The read-only connection for offsets, opened on first use.
    fn reader(&mut self) -> Option<&rusqlite::Connection> {
        if self.reader.is_none() {
            self.reader = crate::store::open_reader(&self.db)
                .map_err(|e| tracing::warn!(error = %e, "Cannot read transcript offsets; starting from 0 (keys prevent double counting)."))
                .ok();
        }
        self.reader.as_ref()
    }

    /// The saved read position of `path`, from memory or the database.
    fn offset_of(&mut self, path: &Path) -> (u64, u64) {
        if let Some(&known) = self.offsets.get(path) {
            return known;
        }
        let stored = self.reader().and_then(|conn| {
            crate::query::transcripts::transcript_offset(conn, &path.to_string_lossy())
                .ok()
                .flatten()
                .map(|saved| (saved.offset, saved.inode))
        });
        let found = match stored {
            Some(found) => found,
            None if self.kind_of(path) == LogKind::CodexRollout => {
                self.moved_rollout_offset(path).unwrap_or((0, 0))
            }
            None => (0, 0),
        };
        self.offsets.insert(path.to_path_buf(), found);
        found
    }

    /// The offset of a rollout Codex moved here (`sessions/` to
    /// `archived_sessions/`): a rename keeps the file's inode and name, so an
    /// offset saved under another path with both, whose file is no longer
    /// there, is this file's. Reading it again would add nothing (the keys
    /// are the responses'), but a large file would be read for nothing.
    fn moved_rollout_offset(&mut self, path: &Path) -> Option<(u64, u64)> {
        let inode = std::fs::metadata(path).ok()?.ino();
        let name = path.file_name()?.to_str()?.to_owned();
        let conn = self.reader()?;
        let saved = crate::query::transcripts::offsets_of_inode(conn, inode, &name)
            .map_err(|e| tracing::warn!(error = %e, "Cannot look up a moved rollout's offset."))
            .ok()?;
        let before = saved.into_iter().find(|saved| {
            let old = Path::new(&saved.path);
            old != path && std::fs::metadata(old).map_or(true, |meta| meta.ino() != inode)
        })?;
        tracing::debug!(from = %before.path, to = %path.display(), "A rollout was moved; reading on from its offset.");
        Some((before.offset, before.inode))
    }
}

/// The reader a hook's hint asks for: a Codex payload names its rollout, a
/// Gemini CLI payload its chat log. OpenCode's database (which this tail
/// does not follow) is never read from a hint.
fn hint_kind(hint: &TranscriptHint) -> Option<LogKind> {
    match hint.log {
        crate::record::AgentLog::ClaudeCode => Some(LogKind::ClaudeTranscript),
        crate::record::AgentLog::Codex => Some(LogKind::CodexRollout),
        crate::record::AgentLog::Gemini => Some(LogKind::GeminiChat),
        crate::record::AgentLog::OpenCode => None,
    }
}

/// The next file from the watch, or never when it is off (or gone).
async fn next_found(found: &mut Option<mpsc::Receiver<Found>>) -> Option<Found> {
    match found {
        Some(rx) => match rx.recv().await {
            Some(file) => Some(file),
            None => {
                *found = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// A transcript line made into a record for the writer.
pub fn to_record(line: TranscriptUsage, source: Source) -> TranscriptRecord {
    let project = line.cwd.as_deref().and_then(crate::ingest::project_of);
    TranscriptRecord {
        line,
        project,
        source,
        log: crate::record::AgentLog::ClaudeCode,
    }
}

/// Resolves a hook-supplied path: canonical, a regular file, under a root.
pub fn admit(path: &str, roots: &[PathBuf]) -> Result<PathBuf, String> {
    let canonical = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve: {e}"))?;
    let inside = roots
        .iter()
        .any(|root| std::fs::canonicalize(root).is_ok_and(|root| canonical.starts_with(&root)));
    if !inside {
        return Err(format!(
            "{} is outside the allowed transcript roots (transcripts.roots)",
            canonical.display()
        ));
    }
    let meta = std::fs::metadata(&canonical).map_err(|e| format!("cannot inspect: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    Ok(canonical)
}

/// Why a read started over from byte 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Truncated,
    Rotated,
}

/// What one read of a transcript produced.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Usage records, one per message key, snapshots merged, in first-seen order.
    pub records: Vec<TranscriptUsage>,
    /// Offset after the last complete line consumed.
    pub end: u64,
    pub inode: u64,
    /// Complete lines read and how many of them were not usage.
    pub lines: u64,
    pub skipped: u64,
    pub not_json: u64,
    /// Skipped lines whose usage was over the per-call limits.
    pub implausible: u64,
    /// Nothing complete is left after `end` (a half-written line may be).
    pub at_end: bool,
    pub restarted: Option<Restart>,
    /// Plan use the lines reported (Codex rollouts only).
    pub plan: Vec<crate::record::PlanObservation>,
}

/// Reads complete lines from `offset`, about `max` bytes of them, never
/// through a symlink. Starts over at 0 when the file is another inode or
/// shorter than the offset. A line longer than `max` is read whole up to
/// [`MAX_LINE_BYTES`]; a longer one is skipped without being buffered. A
/// line whose usage is over `limits` is skipped and counted, never priced.
pub fn read_chunk(
    path: &Path,
    offset: u64,
    inode: u64,
    max: usize,
    limits: UsageLimits,
) -> std::io::Result<Chunk> {
    read_chunk_into(&mut Vec::new(), path, offset, inode, max, limits)
}

/// A log file opened to read on from a saved offset.
pub(crate) struct Opened {
    pub file: std::fs::File,
    /// The file's length when opened.
    pub len: u64,
    /// Where to read from: the offset, or 0 when the file starts over.
    pub start: u64,
    /// The chunk to fill: the file's inode, and whether it starts over.
    pub chunk: Chunk,
}

/// Opens `path` (never through a symlink) to read on from `offset`, or from
/// 0 when it is another file than the one read before (`inode`, 0 for
/// unknown) or shorter than the offset: rotated or truncated.
pub(crate) fn open_at(path: &Path, offset: u64, inode: u64) -> std::io::Result<Opened> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    let mut chunk = Chunk {
        inode: meta.ino(),
        ..Chunk::default()
    };
    let mut start = offset;
    if inode != 0 && meta.ino() != inode {
        chunk.restarted = Some(Restart::Rotated);
        start = 0;
    } else if meta.len() < offset {
        chunk.restarted = Some(Restart::Truncated);
        start = 0;
    }
    Ok(Opened {
        file,
        len: meta.len(),
        start,
        chunk,
    })
}

/// [`read_chunk`] with a caller's buffer, reused across calls: a reader of
/// many chunks then allocates (and page-faults) its buffer once.
pub fn read_chunk_into(
    buf: &mut Vec<u8>,
    path: &Path,
    offset: u64,
    inode: u64,
    max: usize,
    limits: UsageLimits,
) -> std::io::Result<Chunk> {
    let Opened {
        mut file,
        len,
        start,
        mut chunk,
    } = open_at(path, offset, inode)?;
    file.seek(SeekFrom::Start(start))?;

    let remaining = len.saturating_sub(start) as usize;
    buf.clear();
    buf.reserve(max.min(remaining).saturating_add(1));
    let mut want = max.max(1);
    let last_newline = loop {
        let need = want - buf.len();
        let got = (&mut file).take(need as u64).read_to_end(buf)?;
        let eof = got < need;
        if let Some(last) = memchr::memrchr(b'\n', buf) {
            chunk.at_end = eof;
            break last;
        }
        if eof {
            // Only a half-written line: it counts once it is completed.
            chunk.end = start;
            chunk.at_end = true;
            return Ok(chunk);
        }
        if buf.len() >= MAX_LINE_BYTES {
            return skip_overlong_line(&mut file, path, start, buf.len() as u64, chunk);
        }
        want = (want * 2).min(MAX_LINE_BYTES);
    };

    chunk.end = start + last_newline as u64 + 1;
    let mut index: HashMap<String, usize> = HashMap::new();
    let usage_key = memchr::memmem::Finder::new(b"\"usage\"");
    let prompt_key = memchr::memmem::Finder::new(PROMPT_KEY);
    // The prompt in effect: the last user line's, read before the first
    // message that needs it when the chunk starts past the file's start.
    let mut prompt: Option<Option<String>> = (start == 0).then_some(None);
    let mut line_start = 0;
    for newline in memchr::memchr_iter(b'\n', &buf[..=last_newline]) {
        let line = &buf[line_start..newline];
        line_start = newline + 1;
        if line.is_empty() {
            continue;
        }
        chunk.lines += 1;
        if prompt_key.find(line).is_some() {
            prompt = Some(prompt_id_in(line).map(str::to_owned));
        }
        // Most of a transcript's bytes are prompts and tool results: a line
        // without a "usage" key cannot bill anything, so skip the JSON parse.
        if usage_key.find(line).is_none() {
            chunk.skipped += 1;
            if line.first() != Some(&b'{') {
                chunk.not_json += 1;
            }
            continue;
        }
        match parse_line(line) {
            TranscriptLine::Usage(mut usage) => {
                if usage.prompt_id.is_none() {
                    usage.prompt_id = prompt
                        .get_or_insert_with(|| prompt_before(&file, start))
                        .clone();
                }
                // Checked per line, before snapshots merge: a line over the
                // limits must not lend its counts to its message's record.
                if let Some(reason) = limits.refusal(&usage.usage) {
                    chunk.skipped += 1;
                    chunk.implausible += 1;
                    tracing::warn!(path = %path.display(), key = %usage.key, %reason, "Transcript usage refused.");
                    continue;
                }
                match index.get(&usage.key) {
                    Some(&i) => chunk.records[i].merge(&usage),
                    None => {
                        index.insert(usage.key.clone(), chunk.records.len());
                        chunk.records.push(usage);
                    }
                }
            }
            TranscriptLine::Skip(reason) => {
                chunk.skipped += 1;
                match reason {
                    SkipReason::NotJson => chunk.not_json += 1,
                    // A real message's cost is lost: say so.
                    SkipReason::InvalidUsage(detail) => {
                        tracing::warn!(path = %path.display(), reason = %detail, "Transcript usage refused.");
                    }
                    _ => {}
                }
            }
        }
    }
    super::fork::mark_copies(&file, &mut chunk.records);
    Ok(chunk)
}

/// How far back from a chunk's start [`prompt_before`] looks. Every user
/// line (the prompt and each tool result) names its prompt, so the last one
/// is close; a transcript that names none (Claude Code before `promptId`)
/// costs at most this much per chunk.
const PROMPT_LOOKBACK_BYTES: u64 = 1 << 20;

/// The prompt named last before `start` (a line boundary), read backwards
/// in blocks without moving the file's cursor; `None` when no line within
/// [`PROMPT_LOOKBACK_BYTES`] names one.
fn prompt_before(file: &std::fs::File, start: u64) -> Option<String> {
    use std::os::unix::fs::FileExt;
    const BLOCK: u64 = 64 * 1024;
    // Each block reads on past its end by this much, so a key and its id
    // cut by a block's end are whole in the block after (read before it).
    const OVERLAP: u64 = 256;
    let floor = start.saturating_sub(PROMPT_LOOKBACK_BYTES);
    let mut end = start;
    let mut block = Vec::new();
    while end > floor {
        let from = end.saturating_sub(BLOCK).max(floor);
        let to = (end + OVERLAP).min(start);
        block.resize((to - from) as usize, 0);
        file.read_exact_at(&mut block, from).ok()?;
        if let Some(id) = prompt_id_in(&block) {
            return Some(id.to_owned());
        }
        end = from;
    }
    None
}

/// Streams past a line over [`MAX_LINE_BYTES`] (already `seen` bytes of it)
/// to the next newline, and ends the chunk after it.
fn skip_overlong_line(
    file: &mut std::fs::File,
    path: &Path,
    start: u64,
    mut seen: u64,
    mut chunk: Chunk,
) -> std::io::Result<Chunk> {
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            // Not finished yet: come back when it is.
            chunk.end = start;
            chunk.at_end = true;
            return Ok(chunk);
        }
        if let Some(pos) = block[..n].iter().position(|&b| b == b'\n') {
            seen += pos as u64 + 1;
            tracing::warn!(path = %path.display(), bytes = seen, "Skipped a transcript line longer than {MAX_LINE_BYTES} bytes.");
            chunk.end = start + seen;
            chunk.lines = 1;
            chunk.skipped = 1;
            chunk.at_end = false;
            return Ok(chunk);
        }
        seen += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assistant_line(message_id: &str, input: u64, output: u64) -> String {
        serde_json::json!({
            "type": "assistant", "sessionId": "s1", "requestId": format!("req_{message_id}"),
            "timestamp": "2026-01-05T09:00:00.000Z",
            "message": {"id": message_id, "model": "claude-opus-4-1",
                "usage": {"input_tokens": input, "output_tokens": output}}
        })
        .to_string()
    }

    /// The real Claude Code 2.1.197 writes `promptId` on its user lines
    /// only: each message takes the last one before it, also when a read
    /// starts between the prompt and its answer.
    #[test]
    fn each_message_takes_the_prompt_of_the_user_line_before_it() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/otel/claude/text/json/transcript.jsonl");
        let whole = read_chunk(&path, 0, 0, CHUNK_BYTES, UsageLimits::default()).unwrap();
        let prompts: Vec<_> = whole
            .records
            .iter()
            .map(|r| r.prompt_id.as_deref())
            .collect();
        assert_eq!(
            prompts,
            [
                Some("4061bfa5-ff03-45fa-bfad-2881f6d3851f"),
                Some("bfa541b8-1b90-4d39-89f8-1b719207c0fa")
            ]
        );
        assert!(whole
            .records
            .iter()
            .all(|r| r.git_branch.as_deref() == Some("HEAD")));
        // From each line boundary on: the record read later gets the same prompt.
        let text = std::fs::read(&path).unwrap();
        for (at, _) in text.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            let from = at as u64 + 1;
            let part = read_chunk(&path, from, 0, CHUNK_BYTES, UsageLimits::default()).unwrap();
            for r in &part.records {
                let same = whole.records.iter().find(|w| w.key == r.key).unwrap();
                assert_eq!(r.prompt_id, same.prompt_id, "read from byte {from}");
            }
        }
    }

    #[test]
    fn a_line_with_implausible_usage_is_skipped_and_counted_not_priced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s1.jsonl");
        let lines = [
            assistant_line("msg_ok", 10_000_000, 1_000_000),
            assistant_line("msg_absurd", 1, 1_000_001),
            // A later snapshot of a good message must not lend it absurd counts.
            assistant_line("msg_ok", 10_000_001, 1_000_000),
        ];
        std::fs::write(&path, format!("{}\n", lines.join("\n"))).unwrap();

        let chunk = read_chunk(&path, 0, 0, CHUNK_BYTES, UsageLimits::default()).unwrap();
        assert_eq!((chunk.lines, chunk.skipped, chunk.implausible), (3, 2, 2));
        assert_eq!(chunk.records.len(), 1);
        assert_eq!(chunk.records[0].key, "cc:s1:msg_ok:req_msg_ok");
        assert_eq!(chunk.records[0].usage.input, 10_000_000);

        let loose = UsageLimits {
            max_prompt_tokens: u64::MAX,
            max_output_tokens: u64::MAX,
        };
        let chunk = read_chunk(&path, 0, 0, CHUNK_BYTES, loose).unwrap();
        assert_eq!(
            (chunk.skipped, chunk.implausible, chunk.records.len()),
            (0, 0, 2)
        );
    }
}
