//! Codex rollouts followed live, with no hook: the daemon's watch finds
//! the rollouts under a temporary CODEX_HOME (`$HOME/.codex`) as the real
//! Codex CLI writes them (tests/fixtures/codex/real), and the tail reads
//! them through the rollout reader (docs/ingest.md#codex-rollouts).

use std::path::{Path, PathBuf};

use crate::codex::{assert_ledger, copy_tree, ledger_of, SCENARIOS};
use crate::common::*;

/// `$CODEX_HOME` as the daemon sees it by default: `$HOME/.codex`.
fn codex_home(home: &Home) -> PathBuf {
    home.path().join(".codex")
}

/// The rollout files of a captured scenario, by their path under `sessions/`.
fn rollouts(scenario: &str) -> Vec<(PathBuf, String)> {
    let root = fixtures().join(format!("codex/real/{scenario}/sessions"));
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path.strip_prefix(&root).unwrap().to_path_buf(), text));
            }
        }
    }
    // Parents before forks: rollout names begin with their start time.
    files.sort();
    files
}

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

/// The resume scenario's parent rollout (not its fork): a session,
/// resumed twice, the second time with a shell call.
fn resumed_session() -> (PathBuf, String) {
    rollouts("resume")
        .into_iter()
        .find(|(_, text)| !text.contains("forked_from_id"))
        .unwrap()
}

#[test]
fn rollouts_written_line_by_line_are_followed_live_and_equal_the_ledger() {
    let home = Home::new();
    let sessions = codex_home(&home).join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let daemon = home.start();
    // Codex creates each file once the daemon runs and appends a line at a
    // time; each line here arrives in two writes, so the daemon may see it
    // half-written. The resume scenario's fork follows its parent.
    for scenario in SCENARIOS {
        for (relative, text) in rollouts(scenario) {
            let path = sessions.join(&relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            for line in text.split_inclusive('\n') {
                let (head, tail) = line.split_at(line.len() / 2);
                append(&path, head);
                append(&path, tail);
            }
        }
    }
    let ledger = ledger_of(&SCENARIOS);
    wait_until(
        "the rollouts' records",
        || records(&home) == ledger.len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(&home, &ledger);
    // The fork's one response is its own session's, not the parent's.
    assert_eq!(
        home.count("SELECT count(DISTINCT session_id) FROM cost_records"),
        4
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE tool_name = 'shell'"),
        2
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE source = 'transcript'"),
        ledger.len() as i64
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        0,
        "no hook was involved"
    );
    wait_for_metric(&daemon, "hookmeter_watch_files_found_total", |n| n == 4.0);
    // Import afterwards: the same keys, nothing added.
    let summary = succeed(home.command().args(["import", "--agent", "codex"]));
    assert!(
        summary.contains(&format!(
            "0 added, 0 updated, {} already stored",
            ledger.len()
        )),
        "{summary}"
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn a_restart_mid_file_resumes_with_the_state_of_the_lines_before_the_offset() {
    let home = Home::new();
    let (relative, text) = resumed_session();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Split after the shell call of the last turn: its turn_context (the
    // model) and its function_call (the tool) are before the offset, the
    // response that made the call after it.
    let split = lines
        .iter()
        .position(|line| line.contains("\"type\":\"function_call\""))
        .unwrap()
        + 1;
    assert!(lines[..split]
        .iter()
        .any(|line| line.contains("\"type\":\"turn_context\"")));
    let path = codex_home(&home).join("sessions").join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    append(&path, &lines[..split].concat());
    let ledger = ledger_of(&["resume"]);
    let parent: Vec<_> = ledger.into_iter().take(4).collect();

    let daemon = home.start();
    wait_until(
        "the first two responses",
        || records(&home) == 2,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));

    // The session goes on while the daemon is down.
    append(&path, &lines[split..].concat());
    let daemon = home.start();
    wait_until(
        "the responses written while down",
        || records(&home) == 4,
        || daemon.log_text(),
    );
    assert_ledger(&home, &parent);
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE tool_name = 'shell'"),
        1,
        "the tool call before the offset is on the response after it"
    );
    // Only the lines after the offset were counted by the second run: the
    // ones before it were read again for their state, not counted.
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| {
        n == (lines.len() - split) as f64
    });
    drop(daemon);
}

#[test]
fn a_rollout_moved_to_archived_sessions_is_not_read_or_counted_again() {
    let home = Home::new();
    let (relative, text) = resumed_session();
    let path = codex_home(&home).join("sessions").join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let daemon = home.start();
    wait_until(
        "the session's records",
        || records(&home) == 4,
        || daemon.log_text(),
    );
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| {
        n == text.lines().count() as f64
    });

    // Codex archives a session by moving its file, then (here) one more
    // response lands in it: only that line is read.
    let archived = codex_home(&home).join("archived_sessions");
    std::fs::create_dir_all(&archived).unwrap();
    let moved = archived.join(relative.file_name().unwrap());
    std::fs::rename(&path, &moved).unwrap();
    let last = text
        .lines()
        .rev()
        .find(|line| line.contains("\"type\":\"token_usage_record\""))
        .unwrap();
    append(
        &moved,
        &format!(
            "{}\n",
            last.replace("resp_mock_16880_4", "resp_after_archive")
        ),
    );
    wait_until(
        "the response written after the move",
        || records(&home) == 5,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count(
            "SELECT count(*) FROM cost_records WHERE hook_event_id = 'codex:resp_after_archive'"
        ),
        1
    );
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| {
        n == text.lines().count() as f64 + 1.0
    });
    assert_eq!(records(&home), 5);
    drop(daemon);
}

#[test]
fn bad_rollout_lines_are_skipped_and_counted_by_reason() {
    let home = Home::new();
    let archived = codex_home(&home).join("archived_sessions");
    std::fs::create_dir_all(&archived).unwrap();
    let daemon = home.start();
    copy_tree(&fixtures().join("codex/bad/sessions"), &archived);
    wait_until(
        "the bad rollout's records",
        || records(&home) == 2,
        || daemon.log_text(),
    );
    for (reason, n) in [
        ("unknown_type", 1.0),
        ("null_info", 1.0),
        ("repeated_total", 2.0),
        ("invalid_usage", 0.0),
    ] {
        wait_for_metric(
            &daemon,
            &format!("hookmeter_transcript_codex_skipped_lines_total{{reason=\"{reason}\"}}"),
            |got| got == n,
        );
    }
    // The half-written last line counts once it is finished.
    let file = std::fs::read_dir(archived.join("2026/11/30"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    append(
        &file,
        "1000,\"output_tokens\":400,\"reasoning_output_tokens\":0,\"total_tokens\":9400},\"last_token_usage\":{\"input_tokens\":2000,\"cached_input_tokens\":1000,\"output_tokens\":80,\"reasoning_output_tokens\":0,\"total_tokens\":2080}}}}\n",
    );
    wait_until(
        "the finished line",
        || records(&home) == 3,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn a_codex_home_created_after_the_daemon_started_is_picked_up() {
    let home = Home::new();
    let daemon = home.start();
    // Codex is not installed yet: its roots are missing with Claude Code's.
    wait_for_metric(&daemon, "hookmeter_watch_roots{state=\"missing\"}", |n| {
        n >= 4.0
    });
    let sessions = codex_home(&home).join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    copy_tree(&fixtures().join("codex/real/text/sessions"), &sessions);
    let ledger = ledger_of(&["text"]);
    wait_until(
        "the new root's rollout",
        || records(&home) == ledger.len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(&home, &ledger);
    drop(daemon);
}

#[test]
fn with_the_watch_off_only_the_rollout_a_codex_hook_names_is_read() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let sessions = codex_home(&home).join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    copy_tree(&fixtures().join("codex/real/text/sessions"), &sessions);
    copy_tree(&fixtures().join("codex/real/shell/sessions"), &sessions);
    let daemon = home.start();
    // Codex's Stop hook names the shell session's rollout.
    let (relative, _) = rollouts("shell").remove(0);
    let named = sessions.join(relative);
    let mut stop = read_json(&fixtures().join("codex/hooks/09-Stop.json"));
    stop["transcript_path"] = named.display().to_string().into();
    let ack = daemon
        .connect()
        .roundtrip(serde_json::to_string(&stop).unwrap().as_bytes());
    assert_eq!(ack["ok"], true, "{ack}");
    let ledger = ledger_of(&["shell"]);
    wait_until(
        "the named rollout's records",
        || records(&home) == ledger.len() as i64,
        || daemon.log_text(),
    );
    assert_ledger(&home, &ledger);
    let paths: Vec<String> = home
        .db()
        .prepare("SELECT path FROM transcript_offsets")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want = std::fs::canonicalize(&named).unwrap();
    assert_eq!(
        paths,
        [want.display().to_string()],
        "only the named rollout was read"
    );
    drop(daemon);
}

#[test]
fn a_rollout_deleted_while_followed_is_counted_gone_and_nothing_else_moves() {
    let home = Home::new();
    let sessions = codex_home(&home).join("sessions");
    let (relative, text) = resumed_session();
    let path = sessions.join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // The session's first half: some of its responses, then the file is
    // deleted (a user cleaning up, or Codex's own cleanup) mid-session.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let half: String = lines[..lines.len() / 2].concat();
    std::fs::write(&path, &half).unwrap();
    let daemon = home.start();
    let expected_first = half.matches("\"type\":\"token_usage_record\"").count() as i64;
    assert!(expected_first > 0, "the first half holds a billed response");
    wait_until(
        "the first half's records",
        || records(&home) == expected_first,
        || daemon.log_text(),
    );
    std::fs::remove_file(&path).unwrap();
    wait_for_metric(&daemon, "hookmeter_watch_files_gone_total", |n| n == 1.0);

    // The daemon goes on: another session's rollout is read in full, and
    // what the deleted file gave stays as it was.
    let (other, other_text) = rollouts("text").into_iter().next().unwrap();
    let other_path = sessions.join(&other);
    std::fs::create_dir_all(other_path.parent().unwrap()).unwrap();
    std::fs::write(&other_path, &other_text).unwrap();
    let other_count = other_text
        .matches("\"type\":\"token_usage_record\"")
        .count() as i64;
    wait_until(
        "the other session's records",
        || records(&home) == expected_first + other_count,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));
    assert_eq!(records(&home), expected_first + other_count);
    assert_eq!(
        home.count("SELECT count(*) FROM rejected_events"),
        0,
        "a vanished file is not bad input"
    );
}
