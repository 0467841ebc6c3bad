//! The transcript tail's counters in `/metrics`: a daemon tails a
//! transcript, refuses a path and reads a truncated file again, and each
//! of those moves its series.

use crate::common;

use std::path::Path;

use common::*;

#[test]
fn tailing_a_transcript_moves_its_counters_in_metrics() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let transcript = transcript_in_root(&home);
    let daemon = home.start();
    let addr = daemon.http();
    for series in [
        "hookmeter_transcript_lines_total",
        "hookmeter_transcript_records_total",
        "hookmeter_transcript_skipped_lines_total",
        "hookmeter_transcript_implausible_lines_total",
        "hookmeter_transcript_refused_paths_total",
        "hookmeter_transcript_vanished_files_total",
        "hookmeter_transcript_restarts_total{reason=\"truncated\"}",
        "hookmeter_transcript_restarts_total{reason=\"rotated\"}",
    ] {
        assert_eq!(metric(addr, series), Some(0.0), "{series} before any hook");
    }

    let mut client = daemon.connect();
    assert_eq!(
        client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes())["ok"],
        true
    );
    // The fixture's usage lines become six stored records; a message's
    // snapshots read together count once, so at least six.
    wait_for_metric(&daemon, "hookmeter_transcript_records_total", |n| n >= 6.0);
    let complete_lines = std::fs::read_to_string(&transcript)
        .unwrap()
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n') && line.trim() != "")
        .count();
    let lines = metric(addr, "hookmeter_transcript_lines_total").unwrap();
    let skipped = metric(addr, "hookmeter_transcript_skipped_lines_total").unwrap();
    assert_eq!(lines, complete_lines as f64, "every complete line counted");
    assert!(
        skipped > 0.0 && skipped < lines,
        "the fixture's lines that are not usage: {skipped} of {lines}"
    );

    // A path outside every root: refused, nothing read.
    assert_eq!(
        client.roundtrip(fixture_hook("claude-posttooluse", Path::new("/etc/passwd")).as_bytes())
            ["ok"],
        true
    );
    wait_for_metric(&daemon, "hookmeter_transcript_refused_paths_total", |n| {
        n == 1.0
    });

    // Shorter than its offset: read again from the start.
    let original = std::fs::read(&transcript).unwrap();
    std::fs::write(&transcript, &original[..200]).unwrap();
    assert_eq!(
        client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes())["ok"],
        true
    );
    wait_for_metric(
        &daemon,
        "hookmeter_transcript_restarts_total{reason=\"truncated\"}",
        |n| n == 1.0,
    );
    assert_eq!(
        metric(
            addr,
            "hookmeter_transcript_restarts_total{reason=\"rotated\"}"
        ),
        Some(0.0)
    );
    assert_eq!(daemon.stop().code(), Some(0));
}
