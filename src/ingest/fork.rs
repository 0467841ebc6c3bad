//! Where a Claude Code transcript file began: the date of its first dated
//! line, which tells a forked session's copies of its parent's lines from
//! its own (docs/ingest.md#forked-sessions).
//!
//! `claude --resume ID --fork-session` writes a new file under a new
//! session id: first its own queued prompt, then its parent's lines as they
//! were, only `sessionId` rewritten, dates included. A copied line is the
//! only kind dated before the file's first line. Reading that first line is
//! this file's only I/O; what a date means is the parser's
//! ([`TranscriptUsage::mark_copy`]).

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::collect::transcript::{line_timestamp, TranscriptUsage};

/// How much of a file's head is searched for its first dated line. A
/// session writes a few short lines before anything long (the queued
/// prompt, a mode); a head without a dated line in it tells nothing, and
/// nothing is then taken for a copy.
const HEAD_BYTES: usize = 64 * 1024;

/// The date of `file`'s first dated line within its head, read without
/// moving the file's position; `None` when there is none or it cannot be
/// read.
pub fn began(file: &File) -> Option<jiff::Timestamp> {
    let mut head = vec![0; HEAD_BYTES];
    let mut read = 0;
    while read < head.len() {
        match file.read_at(&mut head[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
    head.truncate(read);
    // Complete lines only: a half-written one is read once it is whole.
    let complete = head.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    head[..complete]
        .split(|b| *b == b'\n')
        .filter(|line| memchr::memmem::find(line, b"\"timestamp\"").is_some())
        .find_map(line_timestamp)
}

/// Marks the records of a chunk of `file` that are copies of another
/// session's lines.
pub fn mark_copies(file: &File, records: &mut [TranscriptUsage]) {
    if records.is_empty() {
        return;
    }
    let began = began(file);
    for record in records {
        record.mark_copy(began);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(text: &str) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn a_file_began_at_its_first_dated_line() {
        let f = file_of(concat!(
            "{\"type\":\"mode\",\"mode\":\"normal\",\"sessionId\":\"f\"}\n",
            "{\"type\":\"queue-operation\",\"timestamp\":\"2026-12-06T13:59:33.256Z\"}\n",
            "{\"type\":\"user\",\"timestamp\":\"2026-12-06T13:59:32.632Z\"}\n",
        ));
        assert_eq!(began(&f), Some("2026-12-06T13:59:33.256Z".parse().unwrap()));
    }

    #[test]
    fn a_file_without_a_complete_dated_line_began_at_no_known_time() {
        assert_eq!(began(&file_of("")), None);
        assert_eq!(began(&file_of("{\"type\":\"mode\"}\n")), None);
        // Half-written: not read until it is whole.
        assert_eq!(
            began(&file_of("{\"timestamp\":\"2026-12-06T13:59:33.256Z\"}")),
            None
        );
        // Beyond the head: not searched for.
        let long = format!(
            "{{\"pad\":\"{}\"}}\n{{\"timestamp\":\"2026-12-06T13:59:33.256Z\"}}\n",
            "x".repeat(HEAD_BYTES)
        );
        assert_eq!(began(&file_of(&long)), None);
    }
}
