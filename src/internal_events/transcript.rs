//! The transcript tail's events (`crate::ingest::transcript` reads; this
//! counts and logs). Shown by `/metrics` as `hookmeter_transcript_*`.

use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What happened to transcripts since the daemon started: bumped only by
/// the events below, read by `/metrics` and the tail's last log line.
#[derive(Debug, Default)]
pub struct TranscriptCounters {
    /// Complete lines read.
    lines: AtomicU64,
    /// Usage lines handed to the writer and committed with their offset.
    records: AtomicU64,
    /// Lines that were not usage: not JSON, not assistant, synthetic, errors…
    skipped_lines: AtomicU64,
    /// Of those, lines whose usage is over the per-call limits
    /// (`[limits] max_prompt_tokens`, `max_output_tokens`): not priced.
    implausible_lines: AtomicU64,
    /// Paths refused: outside the roots, symlinks out of them, not regular files.
    refused_paths: AtomicU64,
    /// Files found shorter than their offset: read again from the start.
    truncations: AtomicU64,
    /// Files replaced by another inode: read again from the start.
    rotations: AtomicU64,
    /// Watched files that disappeared.
    missing: AtomicU64,
    /// Codex rollout lines skipped for a reason worth telling apart (they
    /// are skipped lines too).
    codex_unknown_type: AtomicU64,
    codex_null_info: AtomicU64,
    codex_repeated_total: AtomicU64,
    codex_invalid_usage: AtomicU64,
    /// Gemini CLI chat log lines and messages skipped for a reason worth
    /// telling apart (their lines are skipped lines too).
    gemini_unknown_type: AtomicU64,
    gemini_invalid_usage: AtomicU64,
    /// Reads of OpenCode databases that went through, found busy (locked
    /// by a writer: read again at the next poll), or failed (not a
    /// database, not OpenCode's: read again once its files change).
    opencode_reads: AtomicU64,
    opencode_busy: AtomicU64,
    opencode_failed: AtomicU64,
    /// The watch of the log roots, which hands the tail files no hook named.
    pub watch: super::watch::WatchCounters,
}

/// The counters at one moment, as plain numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TranscriptCounts {
    pub lines: u64,
    pub records: u64,
    pub skipped_lines: u64,
    pub implausible_lines: u64,
    pub refused_paths: u64,
    pub truncations: u64,
    pub rotations: u64,
    pub missing: u64,
    pub codex: CodexSkips,
    pub gemini: GeminiSkips,
    pub opencode: DatabaseReads,
}

/// Reads of OpenCode databases (docs/ingest.md#opencode), by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseReads {
    pub done: u64,
    pub busy: u64,
    pub failed: u64,
}

/// Codex rollout lines skipped, by why (docs/ingest.md#codex-rollouts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodexSkips {
    /// A line type this version does not know: the format moved.
    pub unknown_type: u64,
    /// A `token_count` with `info: null` (rate limits only).
    pub null_info: u64,
    /// A `token_count` repeating the thread total before it.
    pub repeated_total: u64,
    /// Token counts the collector refuses: a response's cost lost.
    pub invalid_usage: u64,
}

/// Gemini CLI chat log lines skipped, by why
/// (docs/ingest.md#gemini-cli-chat-logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeminiSkips {
    /// A line or message of a type this version does not know: the format moved.
    pub unknown_type: u64,
    /// Token counts the collector refuses: a response's cost lost.
    pub invalid_usage: u64,
}

/// One chunk of a transcript read: its complete lines and what became of
/// them.
#[derive(Debug, Clone, Copy)]
pub struct ChunkRead {
    pub lines: u64,
    pub skipped: u64,
    pub implausible: u64,
    /// Of the skipped lines, those that are not JSON at all.
    pub not_json: u64,
    /// Lines that became records.
    pub records: u64,
}

impl TranscriptCounters {
    /// A path a hook named was refused; nothing of it is read. `log` is
    /// false for a path already reported, so a bad hook does not flood the
    /// log (it is counted every time).
    pub fn path_refused(&self, path: &str, reason: &dyn Display, log: bool) {
        self.refused_paths.fetch_add(1, Ordering::Relaxed);
        if log {
            tracing::warn!(path, reason = %reason, "Transcript path refused; nothing read.");
        }
    }

    /// A followed transcript disappeared; it is no longer followed.
    pub fn gone(&self, path: &Path) {
        self.missing.fetch_add(1, Ordering::Relaxed);
        tracing::info!(path = %path.display(), "A followed transcript is gone; no longer following it.");
    }

    /// A transcript is shorter than its offset: it is read again from the start.
    pub fn truncated(&self, path: &Path) {
        self.truncations.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %path.display(), "Transcript shrank below its offset; reading it again from the start (keys prevent double counting).");
    }

    /// A transcript's path names another file now: read from its start.
    pub fn rotated(&self, path: &Path) {
        self.rotations.fetch_add(1, Ordering::Relaxed);
        tracing::info!(path = %path.display(), "Transcript was replaced by a new file; reading it from the start.");
    }

    /// A chunk of new lines was read (before the writer stores it).
    pub fn chunk_read(&self, path: &Path, chunk: ChunkRead) {
        self.lines.fetch_add(chunk.lines, Ordering::Relaxed);
        self.skipped_lines
            .fetch_add(chunk.skipped, Ordering::Relaxed);
        self.implausible_lines
            .fetch_add(chunk.implausible, Ordering::Relaxed);
        if chunk.skipped > 0 && chunk.records == 0 && chunk.not_json == chunk.lines {
            tracing::warn!(path = %path.display(), lines = chunk.lines, "Transcript lines are not JSON; skipped.");
        }
    }

    /// Codex rollout lines of a chunk were skipped for these reasons.
    pub fn codex_lines_skipped(&self, skips: CodexSkips) {
        self.codex_unknown_type
            .fetch_add(skips.unknown_type, Ordering::Relaxed);
        self.codex_null_info
            .fetch_add(skips.null_info, Ordering::Relaxed);
        self.codex_repeated_total
            .fetch_add(skips.repeated_total, Ordering::Relaxed);
        self.codex_invalid_usage
            .fetch_add(skips.invalid_usage, Ordering::Relaxed);
    }

    /// Gemini CLI chat log lines of a chunk were skipped for these reasons.
    pub fn gemini_lines_skipped(&self, skips: GeminiSkips) {
        self.gemini_unknown_type
            .fetch_add(skips.unknown_type, Ordering::Relaxed);
        self.gemini_invalid_usage
            .fetch_add(skips.invalid_usage, Ordering::Relaxed);
    }

    /// A read of an OpenCode database went through (before the writer
    /// stores its records): its rows count as lines.
    pub fn database_read(&self, path: &Path, rows: ChunkRead) {
        self.opencode_reads.fetch_add(1, Ordering::Relaxed);
        self.chunk_read(path, rows);
    }

    /// An OpenCode database was locked: read again at the next poll.
    pub fn database_busy(&self, path: &Path, error: &dyn Display) {
        self.opencode_busy.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(path = %path.display(), error = %error, "OpenCode database busy; reading it again shortly.");
    }

    /// An OpenCode database could not be read: read again once it changes.
    pub fn database_failed(&self, path: &Path, error: &dyn Display) {
        self.opencode_failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %path.display(), error = %error, "Cannot read an OpenCode database; trying again when it changes.");
    }

    /// The writer committed `records` records with their offset.
    pub fn records_stored(&self, records: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
    }

    /// The tail stopped: one line with everything it counted.
    pub fn stopped(&self) {
        let c = self.counts();
        tracing::info!(
            lines = c.lines,
            records = c.records,
            skipped_lines = c.skipped_lines,
            implausible_lines = c.implausible_lines,
            refused_paths = c.refused_paths,
            truncations = c.truncations,
            rotations = c.rotations,
            missing = c.missing,
            "Transcript tail stopped."
        );
    }

    /// The counters now.
    pub fn counts(&self) -> TranscriptCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TranscriptCounts {
            lines: get(&self.lines),
            records: get(&self.records),
            skipped_lines: get(&self.skipped_lines),
            implausible_lines: get(&self.implausible_lines),
            refused_paths: get(&self.refused_paths),
            truncations: get(&self.truncations),
            rotations: get(&self.rotations),
            missing: get(&self.missing),
            codex: CodexSkips {
                unknown_type: get(&self.codex_unknown_type),
                null_info: get(&self.codex_null_info),
                repeated_total: get(&self.codex_repeated_total),
                invalid_usage: get(&self.codex_invalid_usage),
            },
            gemini: GeminiSkips {
                unknown_type: get(&self.gemini_unknown_type),
                invalid_usage: get(&self.gemini_invalid_usage),
            },
            opencode: DatabaseReads {
                done: get(&self.opencode_reads),
                busy: get(&self.opencode_busy),
                failed: get(&self.opencode_failed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_moves_its_own_counters() {
        let c = TranscriptCounters::default();
        let path = Path::new("/tmp/t.jsonl");
        c.path_refused("/etc/passwd", &"outside the roots", true);
        c.path_refused("/etc/passwd", &"outside the roots", false);
        c.gone(path);
        c.truncated(path);
        c.rotated(path);
        c.rotated(path);
        c.chunk_read(
            path,
            ChunkRead {
                lines: 5,
                skipped: 3,
                implausible: 1,
                not_json: 1,
                records: 2,
            },
        );
        c.records_stored(2);
        c.codex_lines_skipped(CodexSkips {
            unknown_type: 1,
            null_info: 2,
            repeated_total: 3,
            invalid_usage: 4,
        });
        c.gemini_lines_skipped(GeminiSkips {
            unknown_type: 5,
            invalid_usage: 6,
        });
        assert_eq!(
            c.counts(),
            TranscriptCounts {
                lines: 5,
                records: 2,
                skipped_lines: 3,
                implausible_lines: 1,
                refused_paths: 2,
                truncations: 1,
                rotations: 2,
                missing: 1,
                codex: CodexSkips {
                    unknown_type: 1,
                    null_info: 2,
                    repeated_total: 3,
                    invalid_usage: 4,
                },
                gemini: GeminiSkips {
                    unknown_type: 5,
                    invalid_usage: 6,
                },
                opencode: DatabaseReads::default(),
            }
        );
    }
}
