//! `hookmeter import`: loads Claude Code transcripts already on disk through
//! the same chunk reader, parser and keys as the live tail, so an import
//! after live capture, or a second import, adds nothing. Files stream in
//! bounded chunks: memory does not grow with a file's size.
//!
//! Import keeps no read offsets: it always reads whole files, and the
//! idempotent keys make the re-read harmless.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::transcript::{read_chunk_into, to_record, Chunk, CHUNK_BYTES};
use crate::record::{Source, TranscriptBatch};
use crate::store::writer::{TranscriptAck, WriteError, WriterHandle};

/// What an import did, printed at the end.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub files: usize,
    pub bytes: u64,
    pub lines: u64,
    /// Lines that were not usage (user turns, tool results, synthetic, errors…).
    pub skipped_lines: u64,
    pub written: TranscriptAck,
    /// Files that could not be read, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    pub elapsed: Duration,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = &self.written;
        writeln!(
            f,
            "imported {} transcript files ({:.1} MB, {} lines) in {:.1} s",
            self.files,
            self.bytes as f64 / 1e6,
            self.lines,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "cost records: {} added, {} updated, {} already stored, {} sidechain replays not counted",
            w.added, w.updated, w.unchanged, w.replays
        )?;
        writeln!(f, "lines without usage: {}", self.skipped_lines)?;
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

/// Imports every transcript under `paths`, showing progress on stderr (a
/// bar on a terminal, a line per tenth of the work otherwise).
pub async fn import(sources: &Sources, writer: &WriterHandle) -> ImportSummary {
    let started = Instant::now();
    let (files, mut failed) = find_transcripts(sources);
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let mut run = Run {
        writer,
        progress: Progress::new(total, files.len()),
        summary: ImportSummary::default(),
        batch: Vec::new(),
        in_flight: None,
    };
    // Files are read and parsed ahead on blocking threads (the second core),
    // and consumed in order, so the outcome does not depend on timing.
    let mut ahead: std::collections::VecDeque<(PathBuf, Chunks)> =
        std::collections::VecDeque::new();
    let mut next = files.iter();
    loop {
        while ahead.len() < READ_AHEAD {
            let Some((path, _)) = next.next() else { break };
            ahead.push_back((path.clone(), read_ahead(path.clone())));
        }
        let Some((path, chunks)) = ahead.pop_front() else {
            break;
        };
        match run.file(chunks).await {
            Ok(()) => run.summary.files += 1,
            Err(reason) => failed.push((path, reason)),
        }
    }
    if let Err(reason) = run.flush().await.and(run.settle().await) {
        failed.push((PathBuf::from("(last batch)"), reason));
    }
    run.progress.finish();
    let mut summary = run.summary;
    summary.failed = failed;
    summary.elapsed = started.elapsed();
    summary
}

/// Files read ahead of the one being consumed.
const READ_AHEAD: usize = 2;

/// One file's chunks as its reader produces them: each with the bytes it consumed.
type Chunks = tokio::sync::mpsc::Receiver<Result<(Chunk, u64), String>>;

/// Reads a whole file chunk by chunk on a blocking thread. The channel holds
/// two chunks, so memory stays bounded however large the file.
fn read_ahead(path: PathBuf) -> Chunks {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        let mut offset = 0;
        loop {
            let read = read_chunk_into(&mut buf, &path, offset, 0, CHUNK_BYTES);
            let (chunk, done) = match read {
                Ok(chunk) => {
                    let done = chunk.at_end || chunk.end == offset;
                    let bytes = chunk.end - offset;
                    offset = chunk.end;
                    (Ok((chunk, bytes)), done)
                }
                Err(e) => (Err(e.to_string()), true),
            };
            if tx.blocking_send(chunk).is_err() || done {
                return;
            }
        }
    });
    rx
}

/// Records sent to the writer at once. Many small transactions would write
/// the same index pages to the WAL over and over; a few large ones do not.
const BATCH_RECORDS: usize = 20_000;

/// One import in progress.
struct Run<'a> {
    writer: &'a WriterHandle,
    progress: Progress,
    summary: ImportSummary,
    /// Records read but not yet sent, across files.
    batch: Vec<crate::record::TranscriptRecord>,
    /// The batch the writer is committing while the next one is read.
    in_flight: Option<tokio::sync::oneshot::Receiver<Result<TranscriptAck, WriteError>>>,
}

impl Run<'_> {
    /// Takes one file's chunks, in order, into the batch.
    async fn file(&mut self, mut chunks: Chunks) -> Result<(), String> {
        while let Some(read) = chunks.recv().await {
            let (chunk, bytes) = read?;
            self.progress.advance(bytes);
            self.summary.bytes += bytes;
            self.summary.lines += chunk.lines;
            self.summary.skipped_lines += chunk.skipped;
            self.batch.extend(
                chunk
                    .records
                    .into_iter()
                    .map(|line| to_record(line, Source::Import)),
            );
            if self.batch.len() >= BATCH_RECORDS {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Sends the records read so far, after the previous batch has committed.
    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.settle().await?;
        let batch = TranscriptBatch {
            records: std::mem::take(&mut self.batch),
            offset: None,
        };
        self.in_flight = Some(
            self.writer
                .queue_transcript(batch)
                .await
                .map_err(|e| e.to_string())?,
        );
        Ok(())
    }

    /// Waits for the batch in flight and counts what it wrote.
    async fn settle(&mut self) -> Result<(), String> {
        let Some(done) = self.in_flight.take() else {
            return Ok(());
        };
        let ack = done
            .await
            .unwrap_or(Err(WriteError::Closed))
            .map_err(|e| e.to_string())?;
        let w = &mut self.summary.written;
        w.added += ack.added;
        w.updated += ack.updated;
        w.unchanged += ack.unchanged;
        w.replays += ack.replays;
        Ok(())
    }
}

/// Progress on stderr: indicatif on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
    next_line: std::cell::Cell<u64>,
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
                "importing {files} transcript files ({:.1} MB)",
                total as f64 / 1e6
            );
        }
        Progress {
            bar,
            total,
            done: 0.into(),
            next_line: (total / 10).into(),
        }
    }

    fn advance(&self, bytes: u64) {
        let done = self.done.get() + bytes;
        self.done.set(done);
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if done >= self.next_line.get() && self.total > 0 => {
                eprintln!("… {:.0} %", 100.0 * done as f64 / self.total as f64);
                self.next_line.set(done + self.total / 10);
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
