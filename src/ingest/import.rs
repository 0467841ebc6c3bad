//! `hookmeter import`: loads Claude Code transcripts, Codex rollouts and
//! OpenCode's databases (and its older JSON message files) already on disk through the same readers, parsers and keys as live
//! capture, so an import after live capture, or a second import, adds
//! nothing. Files stream in
//! bounded chunks: memory does not grow with a file's size.
//!
//! Import keeps no read offsets: it always reads whole files, and the
//! idempotent keys make the re-read harmless.
//!
//! For users: docs/ingest.md#hookmeter-import.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::collect::UsageLimits;
use crate::ingest::codex::{is_rollout, read_rollout, RolloutSkips};
use crate::ingest::gemini::{is_chat, read_chat};
use crate::ingest::opencode;
use crate::ingest::transcript::{read_chunk_into, to_record, Chunk, CHUNK_BYTES};
use crate::record::{AgentLog, Source, TranscriptBatch};
use crate::store::writer::{outcome, Receipt, TranscriptAck, WriterHandle};

/// What an import did, printed at the end.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub files: usize,
    pub bytes: u64,
    pub lines: u64,
    /// Lines that were not usage (user turns, tool results, synthetic, errors…).
    pub skipped_lines: u64,
    /// Of those, lines whose usage is over the per-call limits: not priced.
    pub implausible_lines: u64,
    /// Of those, Codex rollout lines worth naming (unknown types, `info:
    /// null`, repeated totals).
    pub rollout_skips: RolloutSkips,
    /// Of those, Gemini CLI chat log lines of an unknown type, and model
    /// messages whose token counts were refused.
    pub gemini_skips: RolloutSkips,
    pub written: TranscriptAck,
    /// Files that could not be read, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    pub elapsed: Duration,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::present::{counted, duration, size};
        let w = &self.written;
        writeln!(
            f,
            "imported {} ({}, {}) in {}",
            counted(self.files as u64, "transcript file", "transcript files"),
            size(self.bytes),
            counted(self.lines, "line", "lines"),
            duration(self.elapsed)
        )?;
        writeln!(
            f,
            "cost records: {} added, {} updated, {} already stored, {} not counted",
            w.added,
            w.updated,
            w.unchanged,
            counted(w.replays as u64, "sidechain replay", "sidechain replays")
        )?;
        if w.replaced > 0 {
            writeln!(
                f,
                "({} of those added {} read before their main-thread message, then replaced by it)",
                w.replaced,
                if w.replaced == 1 {
                    "was a sidechain replay"
                } else {
                    "were sidechain replays"
                }
            )?;
        }
        if w.events_replaced > 0 {
            writeln!(
                f,
                "{} made from Codex or Gemini CLI OTel events removed: the sessions' own logs record them now",
                counted(w.events_replaced as u64, "cost record", "cost records")
            )?;
        }
        writeln!(f, "lines without usage: {}", self.skipped_lines)?;
        let r = &self.rollout_skips;
        if r.unknown_type + r.null_info + r.repeated_total > 0 {
            writeln!(
                f,
                "of those, Codex lines: {} of an unknown type, {} token_count without info, {} repeating the total before",
                r.unknown_type, r.null_info, r.repeated_total
            )?;
        }
        let g = &self.gemini_skips;
        if g.unknown_type + g.invalid_usage > 0 {
            writeln!(
                f,
                "of those, Gemini CLI lines: {} of an unknown type, {} with token counts refused",
                g.unknown_type, g.invalid_usage
            )?;
        }
        if self.implausible_lines > 0 {
            writeln!(
                f,
                "of those, usage over [limits] max_prompt_tokens / max_output_tokens, not priced: {}",
                self.implausible_lines
            )?;
        }
        for (path, reason) in &self.failed {
            writeln!(f, "not imported: {}: {reason}", path.display())?;
        }
        Ok(())
    }
}

/// Where to look: the paths a user named (each must exist), or the default
/// roots (any of which may be missing).
#[derive(Debug, Clone)]
pub enum Sources {
    Named(Vec<PathBuf>),
    Roots(Vec<PathBuf>),
}

/// Files found (with their sizes) and paths that could not be read (with why).
pub type Found = (Vec<(PathBuf, u64)>, Vec<(PathBuf, String)>);

/// Every `*.jsonl` file, OpenCode database (`opencode.db`) and OpenCode JSON
/// message (`storage/message/<session>/<message>.json`) under the sources
/// (named files are taken as given;
/// directories are walked without following symlinks), sizes, stable order.
pub fn find_transcripts(sources: &Sources) -> Found {
    let (paths, named) = match sources {
        Sources::Named(paths) => (paths.as_slice(), true),
        Sources::Roots(paths) => (paths.as_slice(), false),
    };
    let mut found = Vec::new();
    let mut failed = Vec::new();
    let mut pending: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = pending.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // A default root that does not exist is normal.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && !(named && paths.contains(&path)) =>
            {
                continue
            }
            Err(e) => {
                failed.push((path, e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(entries) => pending.extend(entries.flatten().map(|e| e.path())),
                Err(e) => failed.push((path, e.to_string())),
            }
        } else if meta.is_file()
            && (paths.contains(&path)
                || path.extension().is_some_and(|x| x == "jsonl")
                || crate::ingest::gemini::is_chat(&path)
                || opencode::is_database(&path)
                || opencode::is_json_message(&path))
        {
            found.push((path, meta.len()));
        } else if meta.file_type().is_symlink() && paths.contains(&path) {
            // Named by the user: follow it, to a regular file only.
            match std::fs::canonicalize(&path).and_then(|p| std::fs::metadata(&p).map(|m| (p, m))) {
                Ok((target, m)) if m.is_file() => found.push((target, m.len())),
                Ok(_) => failed.push((path, "not a regular file".into())),
                Err(e) => failed.push((path, e.to_string())),
            }
        }
    }
    found.sort();
    found.dedup();
    (found, failed)
}

/// `hookmeter import`: the prices in force, a writer of its own on the
/// database tuned for a bulk load, and a runtime to import `sources` on.
/// `Err` is the one line saying why it could not start (the binary prints
/// it after `hookmeter: `, exit 2); a file that could not be read is in the
/// summary's `failed`.
pub fn run(config: &crate::config::Config, sources: &Sources) -> Result<ImportSummary, String> {
    let prices = config.load_prices().map_err(|e| format!("{e:#}"))?;
    let conn =
        crate::store::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    crate::store::tune_for_bulk_load(&conn)
        .map_err(|e| format!("cannot set up the database for the import: {e}"))?;
    let (writer, writer_thread) = crate::store::writer::spawn(conn, prices, 64)
        .map_err(|e| format!("cannot start the writer: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let summary = runtime.block_on(import(sources, &writer, config.limits.usage));
    // The writer commits what is queued once its last handle is gone.
    drop(writer);
    let _ = writer_thread.join();
    Ok(summary)
}

/// Imports every transcript under `paths`, showing progress on stderr (a
/// bar on a terminal, a line per tenth of the work otherwise).
pub async fn import(
    sources: &Sources,
    writer: &WriterHandle,
    limits: UsageLimits,
) -> ImportSummary {
    let started = Instant::now();
    let (files, mut failed) = find_transcripts(sources);
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let mut run = Run {
        writer,
        progress: Progress::new(total, files.len()),
        summary: ImportSummary::default(),
        batch: Vec::new(),
        plan: Vec::new(),
        in_flight: std::collections::VecDeque::new(),
    };
    // A few reader threads read and parse the files, a few chunks ahead,
    // delivered in file order, while this task hands records to the
    // writer: every core busy, bounded memory.
    let mut reads = read_in_order(files.iter().map(|(path, _)| path.clone()).collect(), limits);
    while let Some(read) = reads.recv().await {
        match read {
            Read::Chunk(chunk, bytes, log, skips) => {
                match log {
                    AgentLog::Gemini => run.summary.gemini_skips += skips,
                    _ => run.summary.rollout_skips += skips,
                }
                if let Err(reason) = run.chunk(chunk, bytes, log).await {
                    failed.push((PathBuf::from("(batch)"), reason));
                }
            }
            Read::Done => run.summary.files += 1,
            Read::Failed(path, reason) => failed.push((path, reason)),
        }
    }
    if let Err(reason) = run.flush().await {
        failed.push((PathBuf::from("(last batch)"), reason));
    }
    while !run.in_flight.is_empty() {
        if let Err(reason) = run.settle().await {
            failed.push((PathBuf::from("(batch)"), reason));
        }
    }
    run.progress.finish();
    let mut summary = run.summary;
    summary.failed = failed;
    summary.elapsed = started.elapsed();
    summary
}

/// Chunks read ahead of the one being written.
const READ_AHEAD_CHUNKS: usize = 4;

/// What the readers produce, delivered in file order.
enum Read {
    /// A chunk of the current file, with the bytes it consumed, whose log
    /// it is, and (for a rollout) the lines it skipped worth naming.
    Chunk(Chunk, u64, AgentLog, RolloutSkips),
    /// The file is read to its end.
    Done,
    Failed(PathBuf, String),
}

/// Reader threads at most, whatever the core count: past a few, they only
/// take cores from the writer, which is one thread.
const MAX_READERS: usize = 4;

/// Files handed to the readers ahead of the one being delivered: bounds how
/// far reading runs ahead, and so memory.
fn files_ahead(readers: usize) -> usize {
    readers + 1
}

/// Reads `files` on a few threads, a file per thread at a time, and
/// delivers their chunks strictly in file order: records reach the writer
/// in the order one thread would give them, so which copy of a replayed
/// line is stored first does not depend on thread timing.
fn read_in_order(files: Vec<PathBuf>, limits: UsageLimits) -> tokio::sync::mpsc::Receiver<Read> {
    let (out, rx) = tokio::sync::mpsc::channel(READ_AHEAD_CHUNKS);
    let readers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_READERS)
        .min(files.len().max(1));
    let (work, queue) = std::sync::mpsc::channel::<(PathBuf, SyncSender<Read>)>();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
    for n in 0..readers {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("hookmeter-import-read-{n}"))
            .spawn(move || {
                let mut buf = Vec::new();
                loop {
                    // The lock is held only to take the next file.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok((path, tx))) = next else { return };
                    read_file(path, limits, &mut buf, &tx);
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Cannot start an import reader thread.");
        }
    }
    let spawned = std::thread::Builder::new()
        .name("hookmeter-import-order".into())
        .spawn(move || {
            let mut files = files.into_iter();
            let mut pending = std::collections::VecDeque::new();
            loop {
                while pending.len() < files_ahead(readers) {
                    let Some(path) = files.next() else { break };
                    let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD_CHUNKS);
                    if work.send((path.clone(), tx)).is_err() {
                        let _ = out.blocking_send(Read::Failed(path, "no reader thread".into()));
                        return;
                    }
                    pending.push_back((path, rx));
                }
                let Some((path, file)) = pending.pop_front() else {
                    return;
                };
                loop {
                    // A reader that died mid-file closes its channel.
                    let read = file
                        .recv()
                        .unwrap_or_else(|_| Read::Failed(path.clone(), "reader stopped".into()));
                    let last = !matches!(read, Read::Chunk(..));
                    if out.blocking_send(read).is_err() {
                        return;
                    }
                    if last {
                        break;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "Cannot start the import ordering thread.");
    }
    rx
}

/// Where a reader of one agent's files hands each chunk it read (with the
/// bytes it consumed and the lines it skipped worth naming); `false` says
/// stop: the receiver is gone.
type Emit<'a> = &'a mut dyn FnMut(Chunk, u64, RolloutSkips) -> bool;

/// Sends what `read` reads of `path` to `tx`, chunk by chunk as `log`'s,
/// then `Done` or `Failed`; nothing more once the receiver is gone.
fn stream<E: std::fmt::Display>(
    path: &Path,
    tx: &SyncSender<Read>,
    log: AgentLog,
    read: impl FnOnce(Emit<'_>) -> Result<(), E>,
) {
    let mut stopped = false;
    let outcome = read(&mut |chunk, bytes, skips| {
        stopped = tx.send(Read::Chunk(chunk, bytes, log, skips)).is_err();
        !stopped
    });
    if !stopped {
        let _ = tx.send(match outcome {
            Ok(()) => Read::Done,
            Err(e) => Read::Failed(path.to_path_buf(), e.to_string()),
        });
    }
}

/// Reads one file to its end into `tx`, a chunk at a time, then `Done` or
/// `Failed`; stops early when the receiver is gone.
fn read_file(path: PathBuf, limits: UsageLimits, buf: &mut Vec<u8>, tx: &SyncSender<Read>) {
    if is_chat(&path) {
        let read = |emit: Emit<'_>| read_chat(&path, limits, buf, emit);
        return stream(&path, tx, AgentLog::Gemini, read);
    }
    if opencode::is_database(&path) {
        let read = |emit: Emit<'_>| {
            opencode::read_database(&path, limits, |chunk, bytes| {
                emit(chunk, bytes, RolloutSkips::default())
            })
        };
        return stream(&path, tx, AgentLog::OpenCode, read);
    }
    if opencode::is_json_message(&path) {
        let read = |emit: Emit<'_>| {
            let (chunk, bytes) = opencode::read_json_message(&path, limits)?;
            emit(chunk, bytes, RolloutSkips::default());
            Ok::<(), String>(())
        };
        return stream(&path, tx, AgentLog::OpenCode, read);
    }
    if is_rollout(&path) {
        let read = |emit: Emit<'_>| read_rollout(&path, limits, buf, emit);
        return stream(&path, tx, AgentLog::Codex, read);
    }
    let mut offset = 0;
    let outcome = loop {
        match read_chunk_into(buf, &path, offset, 0, CHUNK_BYTES, limits) {
            Ok(chunk) => {
                let done = chunk.at_end || chunk.end == offset;
                let bytes = chunk.end - offset;
                offset = chunk.end;
                let read = Read::Chunk(chunk, bytes, AgentLog::ClaudeCode, RolloutSkips::default());
                if tx.send(read).is_err() {
                    return;
                }
                if done {
                    break Read::Done;
                }
            }
            Err(e) => break Read::Failed(path, e.to_string()),
        }
    };
    let _ = tx.send(outcome);
}

/// Batches queued at the writer before reading waits: bounds memory.
const BATCHES_IN_FLIGHT: usize = 4;

/// Records sent to the writer at once. Many small transactions would write
/// the same index pages to the WAL over and over; a few large ones do not.
const BATCH_RECORDS: usize = 5_000;

/// One import in progress.
struct Run<'a> {
    writer: &'a WriterHandle,
    progress: Progress,
    summary: ImportSummary,
    /// Records read but not yet sent, across files.
    batch: Vec<crate::record::TranscriptRecord>,
    /// Plan use read but not yet sent, with the batch.
    plan: Vec<crate::record::PlanObservation>,
    /// Batches queued at the writer. Reading goes on while they commit; only
    /// past [`BATCHES_IN_FLIGHT`] does it wait for the oldest.
    in_flight: std::collections::VecDeque<Receipt<TranscriptAck>>,
}

impl Run<'_> {
    /// Adds one chunk's records to the batch, sending it when full.
    async fn chunk(&mut self, chunk: Chunk, bytes: u64, log: AgentLog) -> Result<(), String> {
        self.progress.advance(bytes);
        self.summary.bytes += bytes;
        self.summary.lines += chunk.lines;
        self.summary.skipped_lines += chunk.skipped;
        self.summary.implausible_lines += chunk.implausible;
        let record = match log {
            AgentLog::ClaudeCode => to_record,
            AgentLog::Codex => crate::ingest::codex::to_record,
            AgentLog::Gemini => crate::ingest::gemini::to_record,
            AgentLog::OpenCode => crate::ingest::opencode::to_record,
        };
        self.batch.extend(
            chunk
                .records
                .into_iter()
                .map(|line| record(line, Source::Import)),
        );
        self.plan.extend(chunk.plan);
        if self.batch.len() >= BATCH_RECORDS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues the records read so far at the writer.
    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() && self.plan.is_empty() {
            return Ok(());
        }
        if self.in_flight.len() >= BATCHES_IN_FLIGHT {
            self.settle().await?;
        }
        let batch = TranscriptBatch {
            records: std::mem::take(&mut self.batch),
            offset: None,
            plan: std::mem::take(&mut self.plan),
        };
        let done = self
            .writer
            .queue_transcript(batch)
            .await
            .map_err(|e| e.to_string())?;
        self.in_flight.push_back(done);
        Ok(())
    }

    /// Waits for the oldest batch in flight and counts what it wrote.
    async fn settle(&mut self) -> Result<(), String> {
        let Some(done) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let ack = outcome(done).await.map_err(|e| e.to_string())?;
        let w = &mut self.summary.written;
        w.added += ack.added;
        w.updated += ack.updated;
        w.unchanged += ack.unchanged;
        w.replays += ack.replays;
        w.replaced += ack.replaced;
        w.events_replaced += ack.events_replaced;
        Ok(())
    }
}

/// `done` of `total` in percent, 100 at most.
fn percent(done: u64, total: u64) -> f64 {
    (100.0 * done as f64 / total as f64).min(100.0)
}

/// Progress on stderr: indicatif on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
    next_line: std::cell::Cell<u64>,
    /// Whether the last line printed read 100 %.
    full_shown: std::cell::Cell<bool>,
}

impl Progress {
    fn new(total: u64, files: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        if bar.is_none() {
            eprintln!(
                "importing {} ({})",
                crate::present::counted(files as u64, "transcript file", "transcript files"),
                crate::present::size(total)
            );
        }
        Progress {
            bar,
            total,
            done: 0.into(),
            next_line: (total / 10).into(),
            full_shown: false.into(),
        }
    }

    fn advance(&self, bytes: u64) {
        let done = self.done.get() + bytes;
        self.done.set(done);
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if done >= self.next_line.get() && self.total > 0 => {
                let shown = percent(done, self.total);
                eprintln!("… {shown:.0} %");
                self.next_line.set(done + self.total / 10);
                self.full_shown.set(shown >= 99.5);
            }
            None => {}
        }
    }

    /// Shows the work done. The bytes read fall short of the files' sizes
    /// when a file ends in a partial line (left for the live tail) or shrank
    /// since it was listed: the import has still read all there was.
    fn finish(&self) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(self.total);
                bar.finish();
            }
            None if self.total > 0 && !self.full_shown.get() => {
                eprintln!("… 100 %");
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rollout of `responses` billed responses, each keyed
    /// `codex:<file>-<n>`, padded with skipped lines of `pad` bytes so the
    /// files take the readers unequal times.
    fn rollout(file: usize, responses: usize, pad: usize) -> String {
        let mut text = format!(
            "{{\"type\":\"session_meta\",\"payload\":{{\"id\":\"s{file}\",\"cwd\":\"/p\"}}}}\n"
        );
        for n in 0..responses {
            text += &format!(
                "{{\"type\":\"response_item\",\"payload\":{{\"type\":\"message\",\"content\":\"{}\"}}}}\n",
                "x".repeat(pad)
            );
            text += &format!(
                "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"token_usage_record\",\"payload\":{{\"response_id\":\"{file}-{n}\",\"usage\":{{\"input_tokens\":3,\"output_tokens\":1}}}}}}\n"
            );
        }
        text
    }

    /// Large and small files alternate, so a reader thread finishes a later
    /// file before another finishes an earlier one: the delivery must still
    /// be in file order, every chunk of a file before its `Done`.
    #[test]
    fn files_read_in_parallel_are_delivered_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut expected = Vec::new();
        for file in 0..24 {
            let (responses, pad) = if file % 3 == 0 { (2_500, 300) } else { (3, 10) };
            let path = dir.path().join(format!("rollout-{file:02}.jsonl"));
            std::fs::write(&path, rollout(file, responses, pad)).unwrap();
            files.push(path);
            expected.extend((0..responses).map(|n| format!("codex:{file}-{n}")));
            expected.push("done".to_owned());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let delivered = runtime.block_on(async {
            let mut reads = read_in_order(files, UsageLimits::default());
            let mut delivered = Vec::new();
            while let Some(read) = reads.recv().await {
                match read {
                    Read::Chunk(chunk, ..) => {
                        delivered.extend(chunk.records.into_iter().map(|r| r.key));
                    }
                    Read::Done => delivered.push("done".to_owned()),
                    Read::Failed(path, reason) => panic!("{}: {reason}", path.display()),
                }
            }
            delivered
        });
        assert_eq!(delivered.len(), expected.len());
        assert!(delivered == expected, "records out of file order");
    }
}
