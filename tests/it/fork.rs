//! A forked Claude Code session (`claude -p --resume ID --fork-session`)
//! starts its own transcript with a copy of its parent's lines, only
//! `sessionId` rewritten. The copied request stays the parent's, whichever
//! file is read first, by `hookmeter import` or by the watch
//! (docs/ingest.md#forked-sessions). The files are a real pair Claude Code
//! 2.1.197 wrote (tests/fixtures/claude/fork/).

use crate::common;
use crate::transcripts::records;

use std::path::PathBuf;

use common::*;

const PARENT: &str = "1bddcbc1-f32b-4aa7-8dfd-0b931f6c4c74";
const FORK: &str = "1dfc19be-6c3e-4dd5-a63d-07b80262f54c";
/// The parent's one request, which the fork's file copies.
const COPIED: &str = "msg_01MXBWR7T5000002d7qupqz0";
/// The fork's own request.
const OWN: &str = "msg_01MXBWR8A8000004tbgu3ery";

/// Where Claude Code keeps the project's transcripts in `home`.
fn project_dir(home: &Home) -> PathBuf {
    home.path().join(".claude/projects/-home-dev-shop")
}

/// Puts session `session`'s transcript where Claude Code writes it.
fn write_transcript(home: &Home, session: &str) {
    write_transcript_as(home, session, &format!("{session}.jsonl"));
}

/// The same under the file name `name`, which decides where `import`'s
/// walk, in path order, reads it.
fn write_transcript_as(home: &Home, session: &str, name: &str) {
    let dir = project_dir(home);
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = fixtures()
        .join("claude/fork")
        .join(format!("{session}.jsonl"));
    std::fs::copy(fixture, dir.join(name)).unwrap();
}

/// Each stored record's message, session, key and input tokens, by message.
fn stored(home: &Home) -> Vec<(String, String, String, i64)> {
    home.db()
        .prepare(
            "SELECT a.message_id, c.session_id, c.hook_event_id, c.input_tokens
             FROM cost_records c JOIN api_messages a ON a.record_id = c.id
             ORDER BY a.message_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// What both files read give, in either order: the copied request once,
/// under the parent's session and key, the fork's own under the fork's.
fn assert_attributed(home: &Home) {
    let key =
        |session: &str, message: &str, request: &str| format!("cc:{session}:{message}:{request}");
    assert_eq!(
        stored(home),
        vec![
            (
                COPIED.to_string(),
                PARENT.to_string(),
                key(PARENT, COPIED, "req_011CMXBWR7T50000010kz7fibm"),
                880
            ),
            (
                OWN.to_string(),
                FORK.to_string(),
                key(FORK, OWN, "req_011CMXBWR8A8000003zoluh391"),
                45
            ),
        ]
    );
    assert_eq!(
        home.count("SELECT count(*) FROM api_messages WHERE copied <> 0"),
        0,
        "no record is left attributed from a copy"
    );
    assert_rollup_matches(home);
}

#[test]
fn import_gives_the_copied_request_to_the_parent_in_either_order() {
    for (first, second) in [(PARENT, FORK), (FORK, PARENT)] {
        let home = Home::new();
        write_transcript(&home, first);
        succeed(home.command().arg("import"));
        if first == FORK {
            // The fork alone: the copy is all there is to count the request by.
            let sessions: Vec<String> = stored(&home).into_iter().map(|r| r.1).collect();
            assert_eq!(sessions, [FORK, FORK]);
            assert_eq!(
                home.count("SELECT count(*) FROM api_messages WHERE copied = 1"),
                1
            );
        }
        write_transcript(&home, second);
        let summary = succeed(home.command().arg("import"));
        assert_attributed(&home);
        // The parent read second takes its record over: one update, nothing added.
        let want = if first == FORK {
            "0 added, 1 updated"
        } else {
            "1 added, 0 updated"
        };
        assert!(summary.contains(want), "{first} then {second}: {summary}");
        // Again: nothing moves.
        let again = succeed(home.command().arg("import"));
        assert!(again.contains("0 added, 0 updated"), "{again}");
        assert_attributed(&home);
    }
}

#[test]
fn one_import_of_both_files_gives_the_copied_request_to_the_parent_in_either_order() {
    for (first, second) in [(PARENT, FORK), (FORK, PARENT)] {
        let home = Home::new();
        write_transcript_as(&home, first, "a.jsonl");
        write_transcript_as(&home, second, "b.jsonl");
        let summary = succeed(home.command().arg("import"));
        assert!(
            summary.contains("2 added"),
            "{first} then {second}: {summary}"
        );
        assert_attributed(&home);
    }
}

#[test]
fn the_watch_gives_the_copied_request_to_the_parent_in_either_order() {
    for (first, second) in [(PARENT, FORK), (FORK, PARENT)] {
        let home = Home::new();
        std::fs::create_dir_all(project_dir(&home)).unwrap();
        let daemon = home.start();
        write_transcript(&home, first);
        let first_records = if first == FORK { 2 } else { 1 };
        wait_until(
            "the first file's records",
            || records(&home) == first_records,
            || daemon.log_text(),
        );
        write_transcript(&home, second);
        wait_until(
            "both files read, the copied request the parent's",
            || {
                let rows = stored(&home);
                rows.len() == 2 && rows[0].1 == PARENT && rows[1].1 == FORK
            },
            || format!("{:?}\n{}", stored(&home), daemon.log_text()),
        );
        assert_attributed(&home);
        assert_eq!(daemon.stop().code(), Some(0));
    }
}
