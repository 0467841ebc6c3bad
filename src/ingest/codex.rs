//! Codex rollout files → transcript records: reads a rollout's complete
//! lines in order through the collector's [`Rollout`], so `import` (and a
//! tail, given the `Rollout` kept with its offset) turn the same lines into
//! the same records and keys (docs/ingest.md#codex-rollouts).
//!
//! A half-written last line is left for later, as with Claude Code
//! transcripts; an unknown line type, a `token_count` without info and a
//! repeated total are skipped and counted, never fatal.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::collect::codex::{CodexLine, CodexPlanUse, CodexSkip, CodexUsage, Rollout, AGENT};
use crate::collect::transcript::TranscriptUsage;
use crate::collect::{Billing, UsageLimits};
use crate::ingest::transcript::{Chunk, MAX_LINE_BYTES};
use crate::record::{AgentLog, Source, TranscriptRecord};
use crate::record::{PlanObservation, PlanWindow};

/// Lines of a rollout skipped for reasons worth telling a user about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RolloutSkips {
    /// Lines of a type this version does not know.
    pub unknown_type: u64,
    /// `token_count` lines with `info: null`.
    pub null_info: u64,
    /// `token_count` lines repeating the thread total before them.
    pub repeated_total: u64,
    /// Lines whose token counts the collector refuses: a response's cost lost.
    pub invalid_usage: u64,
}

impl std::ops::AddAssign for RolloutSkips {
    fn add_assign(&mut self, other: RolloutSkips) {
        self.unknown_type += other.unknown_type;
        self.null_info += other.null_info;
        self.repeated_total += other.repeated_total;
        self.invalid_usage += other.invalid_usage;
    }
}

/// Records sent on at once while a rollout is read.
const RECORDS_PER_CHUNK: usize = 1_000;

/// Bytes read from a rollout at once by [`read_rollout`]; a line longer
/// than this grows the buffer, up to [`MAX_LINE_BYTES`].
pub(crate) const BLOCK_BYTES: usize = 1 << 20;

/// Reads the rollout at `path` from its start, handing `emit` a chunk (with
/// the bytes it consumed and its skips) every [`RECORDS_PER_CHUNK`] records
/// and at the end; `emit` returns false to stop. A line over the per-call
/// `limits` is skipped and counted, never priced; a line longer than
/// [`MAX_LINE_BYTES`] is skipped. `buf` is the reader's buffer, kept from
/// file to file (see [`read_lines`]).
pub fn read_rollout(
    path: &Path,
    limits: UsageLimits,
    buf: &mut Vec<u8>,
    mut emit: impl FnMut(Chunk, u64, RolloutSkips) -> bool,
) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut rollout = Rollout::new();
    let mut chunk = Chunk::default();
    let mut skips = RolloutSkips::default();
    let mut bytes = 0u64;
    let mut stopped = false;
    read_lines(&mut file, buf, u64::MAX, BLOCK_BYTES, |line, n| {
        bytes += n;
        let Some(line) = line else {
            skip_overlong(path, &mut chunk);
            return true;
        };
        if line.is_empty()
            || !feed(&mut rollout, line, limits, path, &mut chunk, &mut skips)
            || chunk.records.len() < RECORDS_PER_CHUNK
        {
            return true;
        }
        let full = std::mem::take(&mut chunk);
        stopped = !emit(full, std::mem::take(&mut bytes), std::mem::take(&mut skips));
        !stopped
    })?;
    if !stopped {
        chunk.at_end = true;
        emit(chunk, bytes, skips);
    }
    Ok(())
}

/// Where [`read_lines`] stopped.
pub(crate) struct LinesRead {
    /// Bytes of the complete lines handed on (newlines included).
    consumed: u64,
    /// Whether it stopped at `limit` (or was told to) rather than at the end.
    stopped_early: bool,
}

/// Reads `file`'s complete lines from its position, into `buf` a block at a
/// time, and hands each to `each` where it lies (without its newline, with
/// its length including it): no copy per line. A line longer than
/// [`MAX_LINE_BYTES`] is handed on as `None`, never buffered whole. Stops
/// after the line that reaches `limit` bytes, when `each` returns false, or
/// at the end; a half-written last line is left for later. `buf` is kept by
/// the caller from file to file; it is made `block` bytes long at least
/// (what a caller expects to read, at most [`BLOCK_BYTES`]: a tail reading a
/// few new lines does not clear a megabyte) and grows for a longer line.
pub(crate) fn read_lines(
    file: &mut std::fs::File,
    buf: &mut Vec<u8>,
    limit: u64,
    block: usize,
    mut each: impl FnMut(Option<&[u8]>, u64) -> bool,
) -> std::io::Result<LinesRead> {
    let block = block.clamp(1, BLOCK_BYTES);
    if buf.len() < block {
        buf.resize(block, 0);
    }
    let mut consumed = 0u64;
    // buf[..filled] holds what was read and not yet consumed: the start of
    // a line whose newline is still to come.
    let mut filled = 0;
    // Inside a line past MAX_LINE_BYTES: its bytes so far, until its newline.
    let mut overlong: Option<u64> = None;
    loop {
        if filled == buf.len() {
            if buf.len() <= MAX_LINE_BYTES {
                buf.resize((buf.len() * 2).min(MAX_LINE_BYTES + 1), 0);
            } else {
                overlong = Some(overlong.unwrap_or(0) + filled as u64);
                filled = 0;
            }
        }
        let n = match file.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // The end, or a half-written last line: it counts once finished.
            return Ok(LinesRead {
                consumed,
                stopped_early: false,
            });
        }
        let mut line_start = 0;
        for newline in memchr::memchr_iter(b'\n', &buf[filled..filled + n]) {
            let end = filled + newline;
            let mut length = (end - line_start) as u64 + 1;
            let line = match overlong.take() {
                Some(before) => {
                    length += before;
                    None
                }
                None => Some(&buf[line_start..end]),
            };
            line_start = end + 1;
            consumed += length;
            if !each(line, length) || consumed >= limit {
                return Ok(LinesRead {
                    consumed,
                    stopped_early: true,
                });
            }
        }
        buf.copy_within(line_start..filled + n, 0);
        filled = filled + n - line_start;
    }
}

/// Counts a line longer than [`MAX_LINE_BYTES`], skipped unread.
fn skip_overlong(path: &Path, chunk: &mut Chunk) {
    tracing::warn!(path = %path.display(), "Skipped a rollout line longer than {MAX_LINE_BYTES} bytes.");
    chunk.lines += 1;
    chunk.skipped += 1;
}

/// Reads one complete, non-empty line through `rollout`, into `chunk` and
/// `skips`; true when it became a record.
fn feed(
    rollout: &mut Rollout,
    text: &[u8],
    limits: UsageLimits,
    path: &Path,
    chunk: &mut Chunk,
    skips: &mut RolloutSkips,
) -> bool {
    chunk.lines += 1;
    let line = rollout.read_line(text);
    if let Some(plan) = rollout.take_plan() {
        chunk.plan.extend(plan_observations(plan));
    }
    match line {
        CodexLine::Usage(usage) => {
            if let Some(reason) = limits.refusal(&usage.usage) {
                chunk.skipped += 1;
                chunk.implausible += 1;
                tracing::warn!(path = %path.display(), key = %usage.key, %reason, "Rollout usage refused.");
                return false;
            }
            chunk.records.push(as_transcript_usage(usage));
            true
        }
        CodexLine::Skip(skip) => {
            chunk.skipped += 1;
            match skip {
                CodexSkip::NotJson => chunk.not_json += 1,
                CodexSkip::UnknownType => skips.unknown_type += 1,
                CodexSkip::NullInfo => skips.null_info += 1,
                CodexSkip::RepeatedTotal => skips.repeated_total += 1,
                CodexSkip::InvalidUsage(detail) => {
                    skips.invalid_usage += 1;
                    tracing::warn!(path = %path.display(), reason = %detail, "Rollout usage refused.");
                }
                CodexSkip::NoSession => {
                    tracing::warn!(path = %path.display(), "Rollout usage before its session_meta: not counted.");
                }
                _ => {}
            }
            false
        }
    }
}

/// `source` of the plan use read from rollouts.
pub const CODEX_ROLLOUT: &str = "codex_rollout";

/// A rollout line's plan use as `plan_usage` rows to be.
fn plan_observations(plan: CodexPlanUse) -> impl Iterator<Item = PlanObservation> {
    let observed_at = crate::record::format_timestamp(plan.timestamp);
    plan.windows.into_iter().map(move |w| PlanObservation {
        observed_at: observed_at.clone(),
        agent_id: AGENT,
        session_id: plan.session_id.clone(),
        source: CODEX_ROLLOUT,
        window: PlanWindow {
            window: w.window,
            used_pct: w.used_pct,
            resets_at: w.resets_at.map(crate::record::format_timestamp),
        },
    })
}

/// One read of a log from its offset, for the tail.
#[derive(Debug)]
pub struct LogChunk<S> {
    /// Records and line counts, as for a transcript chunk.
    pub chunk: Chunk,
    /// The reader's state after `chunk.end`: kept beside the offset, so the
    /// next chunk reads on with what the lines before it said (a rollout's
    /// session, model and totals; a chat log's session and ids seen).
    pub state: S,
    /// Lines skipped for reasons worth counting apart.
    pub skips: RolloutSkips,
}

/// One read of a rollout from its offset.
pub type RolloutChunk = LogChunk<Rollout>;

/// A reader of a log's lines that needs what the lines before said: a
/// Codex rollout's, a Gemini CLI chat log's. The tail keeps one beside
/// each file's offset.
pub(crate) trait LineState: Sized {
    /// The state before the file's first line.
    fn fresh(path: &Path) -> Self;
    /// Reads a line before the offset again, only for the state it leaves.
    fn prime(&mut self, line: &[u8]);
    /// Reads a complete, non-empty line into `chunk` and `skips`.
    fn feed(
        &mut self,
        line: &[u8],
        limits: UsageLimits,
        path: &Path,
        chunk: &mut Chunk,
        skips: &mut RolloutSkips,
    );
}

impl LineState for Rollout {
    fn fresh(_: &Path) -> Rollout {
        Rollout::new()
    }

    fn prime(&mut self, line: &[u8]) {
        let _ = self.read_line(line);
    }

    fn feed(
        &mut self,
        line: &[u8],
        limits: UsageLimits,
        path: &Path,
        chunk: &mut Chunk,
        skips: &mut RolloutSkips,
    ) {
        feed(self, line, limits, path, chunk, skips);
    }
}

/// Reads complete lines of the rollout at `path` from `offset`, about `max`
/// bytes of them, never through a symlink, going on from `state` (what the
/// lines before `offset` said). See [`read_log_chunk`].
pub fn read_rollout_chunk(
    path: &Path,
    offset: u64,
    inode: u64,
    state: Option<Rollout>,
    max: usize,
    limits: UsageLimits,
) -> std::io::Result<RolloutChunk> {
    read_log_chunk(path, offset, inode, state, max, limits)
}

/// Reads complete lines of the log at `path` from `offset`, about `max`
/// bytes of them, never through a symlink, going on from `state` (what the
/// lines before `offset` said). Without a state (a restart: it is not
/// stored) the lines before `offset` are read again first, their answers
/// thrown away. Starts over at 0, with a fresh state, when the file is
/// another inode or shorter than the offset.
pub(crate) fn read_log_chunk<S: LineState>(
    path: &Path,
    offset: u64,
    inode: u64,
    state: Option<S>,
    max: usize,
    limits: UsageLimits,
) -> std::io::Result<LogChunk<S>> {
    use crate::ingest::transcript::{open_at, Opened};
    use std::io::{Seek, SeekFrom};

    let Opened {
        mut file,
        len,
        start,
        mut chunk,
    } = open_at(path, offset, inode)?;
    // What there is to read, plus a byte to see the end.
    let block = |bytes: u64| usize::try_from(bytes.saturating_add(1)).unwrap_or(BLOCK_BYTES);
    let mut buf = Vec::new();
    let mut state = match (start, state) {
        (0, _) => S::fresh(path),
        (_, Some(state)) => state,
        (_, None) => {
            // The lines before the offset again, their answers thrown away:
            // only the state they leave is wanted.
            let mut primed = S::fresh(path);
            let mut before = 0u64;
            read_lines(&mut file, &mut buf, start, block(start), |line, n| {
                before += n;
                if before > start {
                    return false; // never past the offset
                }
                if let Some(line) = line.filter(|l| !l.is_empty()) {
                    primed.prime(line);
                }
                true
            })?;
            primed
        }
    };
    file.seek(SeekFrom::Start(start))?;
    let mut skips = RolloutSkips::default();
    let read = read_lines(
        &mut file,
        &mut buf,
        max as u64,
        block(len.saturating_sub(start)),
        |line, _| {
            match line {
                None => skip_overlong(path, &mut chunk),
                Some([]) => {}
                Some(line) => state.feed(line, limits, path, &mut chunk, &mut skips),
            }
            true
        },
    )?;
    let end = start + read.consumed;
    chunk.at_end = !read.stopped_early;
    chunk.end = end;
    Ok(LogChunk {
        chunk,
        state,
        skips,
    })
}

/// A Codex response in the shape the writer takes transcript records in:
/// its key is its message id, it has no request id and no sidechain, and it
/// belongs to the agent `codex`.
pub fn as_transcript_usage(usage: CodexUsage) -> TranscriptUsage {
    TranscriptUsage {
        message_id: usage.key.clone(),
        key: usage.key,
        session_id: usage.session_id,
        request_id: None,
        timestamp: usage.timestamp,
        model: usage.model,
        usage: usage.usage,
        billing: Billing::default(),
        tool_names: usage.tool_names,
        sidechain: false,
        agent_id: Some(AGENT.to_owned()),
        cwd: usage.cwd,
        reported_cost_usd: None,
        // A fork's replay of its parent is the rollout reader's to drop.
        copied: false,
        prompt_id: usage.turn_id,
        git_branch: usage.git_branch,
    }
}

/// The record of a Codex response read from a rollout.
pub fn to_record(line: TranscriptUsage, source: Source) -> TranscriptRecord {
    let project = line.cwd.as_deref().and_then(crate::ingest::project_of);
    TranscriptRecord {
        line,
        project,
        source,
        log: AgentLog::Codex,
    }
}

/// Whether `path` is named like a Codex rollout (`rollout-*.jsonl`): the
/// collector's rule on the file name.
pub fn is_rollout(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(crate::collect::codex::is_rollout_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `text` through one `Rollout`, as a reader splitting on
    /// newlines one line at a time would: the records' keys and the lines
    /// and bytes consumed.
    fn line_by_line(text: &[u8]) -> (Vec<String>, u64, u64) {
        let mut rollout = Rollout::new();
        let mut keys = Vec::new();
        let (mut lines, mut bytes) = (0, 0);
        let complete = &text[..text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)];
        for line in complete.split_inclusive(|&b| b == b'\n') {
            bytes += line.len() as u64;
            let line = &line[..line.len() - 1];
            if line.is_empty() {
                continue;
            }
            lines += 1;
            if let CodexLine::Usage(u) = rollout.read_line(line) {
                keys.push(u.key);
            }
        }
        (keys, lines, bytes)
    }

    /// The tail's reads, in steps of `max` bytes with the state carried and
    /// again after a "restart" (no state: the lines before the offset are
    /// read again to rebuild it), give what reading line by line gives; a
    /// half-written last line is left at the end.
    #[test]
    fn the_tails_chunks_read_as_line_by_line_with_or_without_the_state() {
        let mut text = Vec::new();
        text.extend_from_slice(
            b"{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"s\",\"cwd\":\"/p\"}}\n",
        );
        text.extend_from_slice(
            b"{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"turn_context\",\"payload\":{\"model\":\"gpt-5.1-codex\"}}\n",
        );
        for n in 0..30usize {
            let pad = [10, 5_000, 200_000][n % 3];
            text.extend_from_slice(
                format!(
                    "{{\"timestamp\":\"t\",\"type\":\"response_item\",\"payload\":{{\"type\":\"function_call_output\",\"output\":\"{}\"}}}}\n",
                    "x".repeat(pad)
                )
                .as_bytes(),
            );
            text.extend_from_slice(
                format!(
                    "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"token_usage_record\",\"payload\":{{\"response_id\":\"r{n}\",\"usage\":{{\"input_tokens\":3,\"output_tokens\":1}}}}}}\n"
                )
                .as_bytes(),
            );
        }
        text.extend_from_slice(b"{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"tok");
        let (expected, _, bytes) = line_by_line(&text);
        assert_eq!(expected.len(), 30);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout-1.jsonl");
        std::fs::write(&path, &text).unwrap();
        for max in [1, 4_096, 300_000, 64 << 20] {
            for restart in [false, true] {
                let (mut keys, mut offset, mut state) = (Vec::new(), 0, None);
                loop {
                    let read = read_rollout_chunk(
                        &path,
                        offset,
                        0,
                        state.take(),
                        max,
                        UsageLimits::default(),
                    )
                    .unwrap();
                    keys.extend(read.chunk.records.iter().map(|r| r.key.clone()));
                    for record in &read.chunk.records {
                        assert_eq!(
                            record.model, "gpt-5.1-codex",
                            "max {max}, restart {restart}"
                        );
                    }
                    offset = read.chunk.end;
                    state = (!restart).then_some(read.state);
                    if read.chunk.at_end {
                        break;
                    }
                }
                assert_eq!(keys, expected, "max {max}, restart {restart}");
                assert_eq!(offset, bytes, "max {max}, restart {restart}");
            }
        }
    }

    /// Lines of many sizes, some longer than a block, so lines cross block
    /// boundaries everywhere, and a half-written last line: the block reader
    /// gives what reading line by line gives, whatever the buffer it is
    /// handed.
    #[test]
    fn lines_across_blocks_are_read_as_line_by_line() {
        let mut text = Vec::new();
        text.extend_from_slice(
            b"{\"type\":\"session_meta\",\"payload\":{\"id\":\"s\",\"cwd\":\"/p\"}}\n\n",
        );
        for n in 0..40usize {
            let pad = [10, 70_000, BLOCK_BYTES - 90, 3 * BLOCK_BYTES + 7][n % 4];
            text.extend_from_slice(
                format!(
                    "{{\"timestamp\":\"t\",\"type\":\"response_item\",\"payload\":{{\"type\":\"function_call_output\",\"output\":\"{}\"}}}}\n",
                    "x".repeat(pad)
                )
                .as_bytes(),
            );
            text.extend_from_slice(
                format!(
                    "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"token_usage_record\",\"payload\":{{\"response_id\":\"r{n}\",\"usage\":{{\"input_tokens\":3,\"output_tokens\":1}}}}}}\n"
                )
                .as_bytes(),
            );
        }
        text.extend_from_slice(
            b"{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"token_usage_rec",
        );
        let (expected, lines, bytes) = line_by_line(&text);
        assert_eq!(expected.len(), 40);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout-1.jsonl");
        std::fs::write(&path, &text).unwrap();
        for mut buf in [Vec::new(), vec![0; 3], vec![7; BLOCK_BYTES * 2]] {
            let (mut keys, mut read_lines, mut read_bytes, mut ended) = (Vec::new(), 0, 0, false);
            read_rollout(&path, UsageLimits::default(), &mut buf, |chunk, n, _| {
                keys.extend(chunk.records.into_iter().map(|r| r.key));
                read_lines += chunk.lines;
                read_bytes += n;
                ended = chunk.at_end;
                true
            })
            .unwrap();
            assert_eq!(keys, expected);
            assert_eq!((read_lines, read_bytes), (lines, bytes));
            assert!(ended);
        }
    }
}
