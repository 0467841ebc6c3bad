//! `hookmeter import`: loads Claude Code transcripts and Codex rollouts
//! already on disk through the same readers, parsers and keys as live
//! capture, so an import after live capture, or a second import, adds
//! nothing. Files stream in
//! bounded chunks: memory does not grow with a file's size.
//!
//! Import keeps no read offsets: it always reads whole files, and the
//! idempotent keys make the re-read harmless.
//!
//! For users: docs/ingest.md#hookmeter-import.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::collect::UsageLimits;
use crate::ingest::codex::{is_rollout, read_rollout, RolloutSkips};
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
        writeln!(f, "lines without usage: {}", self.skipped_lines)?;
        let r = &self.rollout_skips;
        if r.unknown_type + r.null_info + r.repeated_total > 0 {
            writeln!(
                f,
                "of those, Codex lines: {} of an unknown type, {} token_count without info, {} repeating the total before",
                r.unknown_type, r.null_info, r.repeated_total
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

/// Every `*.jsonl` file under the sources (named files are taken as given;
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
            && (paths.contains(&path) || path.extension().is_some_and(|x| x == "jsonl"))
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
        in_flight: std::collections::VecDeque::new(),
    };
    // One reader thread reads and parses the files in order, a few chunks
    // ahead, while this task hands records to the writer: two cores busy,
    // one buffer, bounded memory.
    let mut reads = read_in_order(files.iter().map(|(path, _)| path.clone()).collect(), limits);
    while let Some(read) = reads.recv().await {
        match read {
            Read::Chunk(chunk, bytes, log, skips) => {
                run.summary.rollout_skips += skips;
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

/// What the reader thread produces, in file order.
enum Read {
    /// A chunk of the current file, with the bytes it consumed, whose log
    /// it is, and (for a rollout) the lines it skipped worth naming.
    Chunk(Chunk, u64, AgentLog, RolloutSkips),
    /// The file is read to its end.
    Done,
    Failed(PathBuf, String),
}

/// Reads `files` one after another, chunk by chunk, on one thread.
fn read_in_order(files: Vec<PathBuf>, limits: UsageLimits) -> tokio::sync::mpsc::Receiver<Read> {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD_CHUNKS);
    let spawned = std::thread::Builder::new()
        .name("hookmeter-import-read".into())
        .spawn(move || {
            let mut buf = Vec::new();
            for path in files {
                if is_rollout(&path) {
                    let mut stopped = false;
                    let read = read_rollout(&path, limits, |chunk, bytes, skips| {
                        let sent =
                            tx.blocking_send(Read::Chunk(chunk, bytes, AgentLog::Codex, skips));
                        stopped = sent.is_err();
                        !stopped
                    });
                    let outcome = match read {
                        Ok(()) => Read::Done,
                        Err(e) => Read::Failed(path, e.to_string()),
                    };
                    if stopped || tx.blocking_send(outcome).is_err() {
                        return;
                    }
                    continue;
                }
                let mut offset = 0;
                let outcome = loop {
                    match read_chunk_into(&mut buf, &path, offset, 0, CHUNK_BYTES, limits) {
                        Ok(chunk) => {
                            let done = chunk.at_end || chunk.end == offset;
                            let bytes = chunk.end - offset;
                            offset = chunk.end;
                            let read = Read::Chunk(
                                chunk,
                                bytes,
                                AgentLog::ClaudeCode,
                                RolloutSkips::default(),
                            );
                            if tx.blocking_send(read).is_err() {
                                return;
                            }
                            if done {
                                break Read::Done;
                            }
                        }
                        Err(e) => break Read::Failed(path, e.to_string()),
                    }
                };
                if tx.blocking_send(outcome).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "Cannot start the import reader thread.");
    }
    rx
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
        };
        self.batch.extend(
            chunk
                .records
                .into_iter()
                .map(|line| record(line, Source::Import)),
        );
        if self.batch.len() >= BATCH_RECORDS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues the records read so far at the writer.
    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        if self.in_flight.len() >= BATCHES_IN_FLIGHT {
            self.settle().await?;
        }
        let batch = TranscriptBatch {
            records: std::mem::take(&mut self.batch),
            offset: None,
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
