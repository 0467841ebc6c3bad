//! Gemini CLI chat logs followed live, with no hook: the daemon's watch
//! finds the chat logs under a temporary `$GEMINI_CLI_HOME/.gemini/tmp` as
//! the real Gemini CLI writes them (tests/fixtures/gemini/real), and the
//! tail reads them through the chat reader (docs/ingest.md#gemini-cli-chat-logs).

use std::path::{Path, PathBuf};

use crate::codex::copy_tree;
use crate::common::*;
use crate::gemini::{assert_ledger, ledger_of, SCENARIOS};

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn records(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM cost_records")
}

/// The `GEMINI_CLI_HOME` the daemon is given.
fn gemini_cli_home(home: &Home) -> PathBuf {
    home.path().join("gemini-home")
}

/// A scenario's project directory under the CLI's tmp (its `.project_root`
/// in place, no chat yet), and its chat log's name and text.
fn project_of(home: &Home, scenario: &str) -> (PathBuf, String, String) {
    let from = fixtures().join(format!("gemini/real/{scenario}/tmp/project"));
    let to = gemini_cli_home(home).join(".gemini/tmp").join(scenario);
    std::fs::create_dir_all(to.join("chats")).unwrap();
    std::fs::copy(from.join(".project_root"), to.join(".project_root")).unwrap();
    let chat = std::fs::read_dir(from.join("chats"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let name = chat.file_name().unwrap().to_str().unwrap().to_owned();
    (to, name, std::fs::read_to_string(chat).unwrap())
}

fn start(home: &Home) -> Daemon {
    let gemini = gemini_cli_home(home);
    home.start_with(|cmd| {
        cmd.env("GEMINI_CLI_HOME", gemini);
    })
}

fn import_adds_nothing(home: &Home, stored: usize) {
    let summary = succeed(
        home.command()
            .env("GEMINI_CLI_HOME", gemini_cli_home(home))
            .args(["import", "--agent", "gemini"]),
    );
    assert!(
        summary.contains("0 added, 0 updated"),
        "{stored} stored: {summary}"
    );
    assert_eq!(records(home), stored as i64);
}

#[test]
fn chat_logs_written_line_by_line_are_followed_live_and_equal_the_ledger() {
    let home = Home::new();
    std::fs::create_dir_all(gemini_cli_home(&home).join(".gemini/tmp")).unwrap();
    let daemon = start(&home);
    // The CLI appends a line at a time; each line here arrives in two
    // writes, so the daemon may see it half-written.
    for scenario in SCENARIOS {
        let (project, name, text) = project_of(&home, scenario);
        let path = project.join("chats").join(name);
        for line in text.split_inclusive('\n') {
            let (head, tail) = line.split_at(line.len() / 2);
            append(&path, head);
            append(&path, tail);
        }
    }
    let total: usize = SCENARIOS.iter().map(|s| ledger_of(s).len()).sum();
    wait_until(
        "the chat logs' records",
        || records(&home) == total as i64,
        || daemon.log_text(),
    );
    assert_ledger(&home, &SCENARIOS);
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE tool_name = 'run_shell_command'"),
        2,
        "the tool call, given by a message's second write"
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE source = 'transcript'"),
        total as i64
    );
    assert_eq!(home.count("SELECT count(*) FROM hook_events"), 0);
    wait_for_metric(&daemon, "hookmeter_watch_files_found_total", |n| n == 4.0);
    import_adds_nothing(&home, total);
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn a_restart_mid_file_resumes_with_the_session_and_ids_of_the_lines_before() {
    let home = Home::new();
    let (project, name, text) = project_of(&home, "resume");
    let path = project.join("chats").join(name);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Split after the first answer: the header (the session) is before the
    // offset; after it comes the resume's header again and its
    // `$set.messages` copy of the first answer, which must add nothing.
    let split = lines
        .iter()
        .position(|line| line.contains("\"type\":\"gemini\""))
        .unwrap()
        + 1;
    let after = lines[split..].concat();
    assert!(after.contains("\"sessionId\""), "the resume's header");
    append(&path, &lines[..split].concat());

    let daemon = start(&home);
    wait_until(
        "the first answer",
        || records(&home) == 1,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));

    // The session goes on while the daemon is down.
    append(&path, &after);
    let daemon = start(&home);
    let ledger = ledger_of("resume");
    wait_until(
        "the answers written while down",
        || records(&home) == ledger.len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(&home, &["resume"]);
    // Only the lines after the offset were counted by the second run.
    let after_lines = lines[split..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .count();
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| {
        n == after_lines as f64
    });
    import_adds_nothing(&home, ledger.len());
    drop(daemon);
}

#[test]
fn the_older_single_json_form_rewritten_whole_is_read_again_and_counts_once() {
    let home = Home::new();
    let project = gemini_cli_home(&home).join(".gemini/tmp/legacy");
    std::fs::create_dir_all(&project).unwrap();
    let daemon = start(&home);
    copy_tree(&fixtures().join("gemini/legacy/tmp/project"), &project);
    wait_until(
        "the legacy chat",
        || records(&home) == 3,
        || daemon.log_text(),
    );

    // The older CLI rewrites the whole file as the chat goes on: the
    // messages before are read again, and only the new one is added.
    let path = project.join("chats/session-2025-09-01T10-00-5e551011.json");
    let mut chat: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let messages = chat["messages"].as_array_mut().unwrap();
    let mut next = messages
        .iter()
        .rev()
        .find(|m| m["type"] == "gemini")
        .unwrap()
        .clone();
    next["id"] = "after-rewrite".into();
    messages.push(next);
    std::fs::write(&path, serde_json::to_vec_pretty(&chat).unwrap()).unwrap();
    wait_until(
        "the new message",
        || records(&home) == 4,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count(
            "SELECT count(*) FROM cost_records WHERE hook_event_id LIKE 'gemini:%:after-rewrite'"
        ),
        1
    );
    drop(daemon);
}

#[test]
fn bad_chat_log_lines_are_skipped_and_counted_by_reason_and_a_cut_line_counts_once_finished() {
    let home = Home::new();
    let chats = gemini_cli_home(&home).join(".gemini/tmp/bad/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let daemon = start(&home);
    let header = r#"{"sessionId":"b0000000-0000-4000-8000-000000000002","projectHash":"h","startTime":"2026-01-01T00:00:00.000Z","kind":"main"}"#;
    let good = r#"{"id":"m1","timestamp":"2026-01-01T00:00:01.000Z","type":"gemini","content":"ok","tokens":{"input":1000,"output":10,"cached":0,"thoughts":0,"tool":0,"total":1010},"model":"gemini-2.5-pro"}"#;
    let unknown =
        r#"{"id":"m2","timestamp":"2026-01-01T00:00:02.000Z","type":"hologram","content":"?"}"#;
    let refused = r#"{"id":"m3","timestamp":"2026-01-01T00:00:03.000Z","type":"gemini","tokens":{"input":10,"output":1,"cached":50},"model":"gemini-2.5-pro"}"#;
    let last = r#"{"id":"m4","timestamp":"2026-01-01T00:00:04.000Z","type":"gemini","tokens":{"input":500,"output":5,"cached":0},"model":"gemini-2.5-pro"}"#;
    let (head, tail) = last.split_at(60);
    let path = chats.join("session-2026-01-01T00-00-b0000000.jsonl");
    append(
        &path,
        &format!("{header}\nnot json\n{good}\n{unknown}\n{refused}\n{head}"),
    );
    wait_until(
        "the good message",
        || records(&home) == 1,
        || daemon.log_text(),
    );
    for (reason, n) in [("unknown_type", 1.0), ("invalid_usage", 1.0)] {
        wait_for_metric(
            &daemon,
            &format!("hookmeter_transcript_gemini_skipped_lines_total{{reason=\"{reason}\"}}"),
            |got| got == n,
        );
    }
    // The cut line, finished, is read once.
    append(&path, &format!("{tail}\n"));
    wait_until(
        "the finished line",
        || records(&home) == 2,
        || daemon.log_text(),
    );
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| n == 6.0);
    assert_eq!(records(&home), 2);
    drop(daemon);
}
