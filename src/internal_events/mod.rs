//! The daemon's internal events: each one both logs and counts, in one
//! place, so the log line and the `/metrics` series cannot drift apart
//! (Vector's `internal_events`).
//!
//! - [`transcript`]: the transcript tail's lines, records, refused paths,
//!   restarts and vanished files ([`TranscriptCounters`]).
//! - [`watch`]: the roots the daemon watches for agent log files, the
//!   files it found and the symlinks it refused ([`WatchCounters`]).
//! - [`writer`]: a writer transaction that failed ([`CommitFailed`]).
//! - [`http`]: a request the guard refused before any route saw it
//!   ([`Refusals`]).
//! - [`otlp`]: OTLP exports answered and the log records they held
//!   ([`OtlpCounters`]).
//!
//! Counters live as long as the process, not the database: `/metrics`
//! shows them "since the daemon started". Log messages are sentences, the
//! error field is `error`, and ERROR is kept for data lost or an operator
//! who must act (STYLE.md).
//!
//! A leaf: it imports nothing of hookmeter, and never decides what to do
//! about an event (retry, refuse, read again): the caller has done that
//! and only reports it here. Events that are only logged stay where they
//! happen; an event that gains a counter moves here.

pub mod http;
pub mod otlp;
pub mod transcript;
pub mod watch;
pub mod writer;

pub use http::{Refusal, Refusals};
pub use otlp::{ExportOutcome, OtlpCounters, RecordOutcome, Signal};
pub use transcript::{ChunkRead, TranscriptCounters, TranscriptCounts};
pub use watch::{RootStates, WatchCounters, WatchCounts};
pub use writer::CommitFailed;

#[cfg(test)]
mod tests {
    /// A leaf: every module may report here, so nothing here may import
    /// hookmeter back (an event that needs a domain type takes its text).
    #[test]
    fn internal_events_import_nothing_of_hookmeter() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/internal_events");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                assert!(
                    !code.contains("crate::") || code.contains("crate::internal_events"),
                    "{}:{}: {line}",
                    path.display(),
                    number + 1
                );
            }
        }
    }
}
