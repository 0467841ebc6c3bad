//! Capture without hooks: a daemon that no hook ever talks to finds Claude
//! Code's transcripts under its roots by itself (docs/ingest.md#capture-without-hooks).

use crate::common;
use crate::transcripts::{append, assert_expected_records, records, HALF_LINE_REST};

use std::path::{Path, PathBuf};

use common::*;

fn projects(home: &Home) -> PathBuf {
    home.path().join(".claude/projects")
}

fn fixture_lines() -> Vec<String> {
    let text = std::fs::read_to_string(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
    )
    .unwrap();
    // Keep the half-written last line as it is: it has no newline.
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// One assistant message of Claude Code's transcript format, one line.
fn assistant_line(
    session: &str,
    message: &str,
    cwd: &str,
    agent: Option<&str>,
    (input, output): (u64, u64),
) -> String {
    let mut line = serde_json::json!({
        "parentUuid": null, "isSidechain": agent.is_some(), "userType": "external",
        "cwd": cwd, "sessionId": session, "version": "2.1.197",
        "message": {"id": message, "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}],
            "usage": {"input_tokens": input, "output_tokens": output,
                "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}},
        "requestId": format!("req_{message}"), "type": "assistant",
        "uuid": format!("u-{message}"), "timestamp": "2026-09-21T10:00:00.000Z"
    });
    if let Some(agent) = agent {
        line["agentId"] = agent.into();
    }
    format!("{line}\n")
}

/// A stored record: key, agent, project, input and output tokens, cost, tools.
type Row = (String, String, Option<String>, i64, i64, f64, String);

/// claude-sonnet-4-5's list prices: $3 per million input tokens, $15 per
/// million output tokens.
fn sonnet_cost(input: u64, output: u64) -> f64 {
    input as f64 * 3e-6 + output as f64 * 15e-6
}

#[test]
fn a_transcript_written_line_by_line_is_captured_without_any_hook() {
    let home = Home::new();
    std::fs::create_dir_all(projects(&home).join("-home-dev-shop")).unwrap();
    let daemon = home.start();
    // Claude Code creates the file once the daemon runs, and appends to it
    // a line at a time, the last one half-written.
    let transcript = projects(&home).join("-home-dev-shop/s-session-1.jsonl");
    std::fs::write(&transcript, "").unwrap();
    for line in fixture_lines() {
        append(&transcript, &line);
    }
    wait_until(
        "the transcript's records",
        || records(&home) == 6,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &[]);
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    wait_until(
        "the completed line",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &["msg_half"]);
    wait_for_metric(&daemon, "hookmeter_watch_files_found_total", |n| n == 1.0);
    wait_for_metric(&daemon, "hookmeter_watch_roots{state=\"notify\"}", |n| {
        n == 1.0
    });
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events"),
        0,
        "no hook was involved"
    );
    // Import afterwards: the same keys, nothing added.
    let summary = succeed(home.command().arg("import"));
    assert!(
        summary.contains("0 added, 0 updated, 7 already stored"),
        "{summary}"
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn a_new_project_and_a_subagent_transcript_are_picked_up_and_attributed() {
    let home = Home::new();
    std::fs::create_dir_all(projects(&home)).unwrap();
    let daemon = home.start();
    // A project directory that did not exist when the daemon started, a
    // session in it, and the session's subagent where Claude Code 2.1
    // writes it: <project>/<session>/subagents/agent-<id>.jsonl.
    let project = projects(&home).join("-home-dev-api");
    std::fs::create_dir_all(project.join("s-api/subagents")).unwrap();
    std::fs::write(
        project.join("s-api.jsonl"),
        assistant_line("s-api", "msg_main", "/home/dev/api", None, (1000, 200)),
    )
    .unwrap();
    std::fs::write(
        project.join("s-api/subagents/agent-a7f3.jsonl"),
        assistant_line(
            "s-api",
            "msg_sub",
            "/home/dev/api",
            Some("a7f3"),
            (3000, 400),
        ),
    )
    .unwrap();
    wait_until(
        "both records",
        || home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-api'") == 2,
        || daemon.log_text(),
    );
    let rows: Vec<Row> = home
        .db()
        .prepare(
            "SELECT hook_event_id, agent_id, project, input_tokens, output_tokens,
                    estimated_cost_usd, tool_name
             FROM cost_records WHERE session_id = 's-api' ORDER BY hook_event_id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (main, sub) = (&rows[0], &rows[1]);
    assert_eq!(main.0, "cc:s-api:msg_main:req_msg_main");
    assert_eq!(main.1, "claude-code");
    assert_eq!((main.3, main.4), (1000, 200));
    assert_cost(main.5, sonnet_cost(1000, 200), "main thread");
    assert_eq!(sub.0, "cc:s-api:msg_sub:req_msg_sub");
    assert_eq!(sub.1, "subagent:a7f3");
    assert_eq!((sub.3, sub.4), (3000, 400));
    assert_cost(sub.5, sonnet_cost(3000, 400), "subagent");
    for row in [main, sub] {
        assert_eq!(row.2.as_deref(), Some("api"));
        assert_eq!(row.6, "Read");
    }
    wait_for_metric(&daemon, "hookmeter_watch_files_found_total", |n| n == 2.0);
    drop(daemon);
}

#[test]
fn a_restart_in_the_middle_of_a_file_neither_loses_nor_doubles() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let daemon = home.start();
    wait_until(
        "the first part",
        || records(&home) == 6,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));

    // The session goes on while the daemon is down: the half line is
    // finished and a new message follows.
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    append(
        &transcript,
        &assistant_line("s-session-1", "msg_late", "/home/dev/shop", None, (10, 20)),
    );
    let daemon = home.start();
    wait_until(
        "the lines written while down",
        || records(&home) == 8,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &["msg_half", "msg_late"]);
    // Every complete line of the file was read once over both runs: the
    // second run resumed at the offset the first committed.
    let lines = std::fs::read_to_string(&transcript)
        .unwrap()
        .lines()
        .count() as f64;
    let first_run = fixture_lines()
        .iter()
        .filter(|line| line.ends_with('\n'))
        .count() as f64;
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| {
        n == lines - first_run
    });
    drop(daemon);
}

#[test]
fn a_file_named_by_a_hook_and_found_by_the_watch_is_read_once() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let daemon = home.start();
    let mut client = daemon.connect();
    for hook in ["claude-sessionstart", "claude-posttooluse"] {
        let ack = client.roundtrip(fixture_hook(hook, &transcript).as_bytes());
        assert_eq!(ack["ok"], true, "{ack}");
    }
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    let ack = client.roundtrip(fixture_hook("claude-stop", &transcript).as_bytes());
    assert_eq!(ack["ok"], true, "{ack}");
    wait_until("every record", || records(&home) == 7, || daemon.log_text());
    assert_expected_records(&home, &["msg_half"]);
    // Each line was read exactly once, whoever asked first.
    let lines = std::fs::read_to_string(&transcript)
        .unwrap()
        .lines()
        .count() as f64;
    wait_for_metric(&daemon, "hookmeter_transcript_lines_total", |n| n == lines);
    let addr = daemon.http();
    assert_eq!(
        metric(addr, "hookmeter_transcript_lines_total"),
        Some(lines),
        "a line read twice"
    );
    assert_eq!(
        home.count("SELECT count(*) FROM transcript_offsets"),
        1,
        "one offset for the file, whoever read it"
    );
    drop(daemon);
}

#[test]
fn symlinked_files_and_directories_under_a_root_are_refused_and_counted() {
    let home = Home::new();
    // The fixture transcript, outside every root.
    let outside = home.path().join("elsewhere");
    std::fs::create_dir_all(outside.join("-home-dev-shop")).unwrap();
    let outside_file = outside.join("-home-dev-shop/s-session-1.jsonl");
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        &outside_file,
    )
    .unwrap();
    let project = projects(&home).join("-home-dev-api");
    std::fs::create_dir_all(&project).unwrap();
    std::os::unix::fs::symlink(&outside_file, project.join("linked.jsonl")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("-home-dev-shop"),
        projects(&home).join("linked-dir"),
    )
    .unwrap();
    std::fs::write(
        project.join("s-api.jsonl"),
        assistant_line("s-api", "msg_main", "/home/dev/api", None, (1, 2)),
    )
    .unwrap();
    let daemon = home.start();
    wait_until(
        "the real file's record",
        || home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-api'") == 1,
        || daemon.log_text(),
    );
    wait_for_metric(&daemon, "hookmeter_watch_refused_paths_total", |n| n == 2.0);

    // One more made while the daemon runs: the notification is refused too.
    std::os::unix::fs::symlink(&outside_file, project.join("late.jsonl")).unwrap();
    wait_for_metric(&daemon, "hookmeter_watch_refused_paths_total", |n| n == 3.0);
    // Then a real line, read after the refusal: nothing came through a link.
    append(
        &project.join("s-api.jsonl"),
        &assistant_line("s-api", "msg_two", "/home/dev/api", None, (1, 2)),
    );
    wait_until(
        "the real file's second record",
        || home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-api'") == 2,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-session-1'"),
        0
    );
    assert_eq!(
        home.count("SELECT count(*) FROM transcript_offsets WHERE path NOT LIKE '%/s-api.jsonl'"),
        0
    );
    let log = daemon.log_text();
    assert_eq!(
        log.matches("A symlink under a log root is not followed")
            .count(),
        3,
        "each symlink logged once: {log}"
    );
    drop(daemon);
}

#[test]
fn a_root_created_after_the_daemon_started_is_picked_up() {
    let home = Home::new();
    let daemon = home.start();
    // Claude Code is not installed yet: every default root is missing.
    wait_for_metric(&daemon, "hookmeter_watch_roots{state=\"missing\"}", |n| {
        n >= 2.0
    });
    let transcript = transcript_in_root(&home);
    wait_until(
        "the new root's transcript",
        || records(&home) == 6,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &[]);
    // From then on it is followed live.
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    wait_until(
        "the completed line",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    drop(daemon);
}

#[test]
fn scanning_instead_of_notifications_finds_new_and_grown_files() {
    let home = Home::new();
    home.write_config("[transcripts]\nwatch = \"scan\"\n");
    std::fs::create_dir_all(projects(&home)).unwrap();
    let daemon = home.start();
    wait_for_metric(&daemon, "hookmeter_watch_roots{state=\"scan\"}", |n| {
        n == 1.0
    });
    assert_eq!(
        metric(daemon.http(), "hookmeter_watch_roots{state=\"notify\"}"),
        Some(0.0)
    );
    let transcript = transcript_in_root(&home);
    wait_until(
        "the scanned transcript",
        || records(&home) == 6,
        || daemon.log_text(),
    );
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    wait_until(
        "the grown transcript",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &["msg_half"]);
    drop(daemon);
}

#[test]
fn with_the_watch_off_only_files_a_hook_names_are_read() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let unnamed = transcript_in_root(&home);
    let daemon = home.start();
    let named = projects(&home).join("-home-dev-api/s-api.jsonl");
    std::fs::create_dir_all(named.parent().unwrap()).unwrap();
    std::fs::write(
        &named,
        assistant_line("s-api", "msg_main", "/home/dev/api", None, (1, 2)),
    )
    .unwrap();
    let ack = daemon
        .connect()
        .roundtrip(fixture_hook("claude-posttooluse", &named).as_bytes());
    assert_eq!(ack["ok"], true, "{ack}");
    wait_until(
        "the named file's record",
        || home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-api'") == 1,
        || daemon.log_text(),
    );
    assert!(daemon
        .log_text()
        .contains("The watch of the log roots is off"));
    let addr = daemon.http();
    for series in [
        "hookmeter_watch_roots{state=\"notify\"}",
        "hookmeter_watch_roots{state=\"scan\"}",
        "hookmeter_watch_roots{state=\"missing\"}",
        "hookmeter_watch_files_found_total",
    ] {
        assert_eq!(metric(addr, series), Some(0.0), "{series}");
    }
    assert_eq!(records(&home), 1, "{} was read", unnamed.display());
    assert_offsets_only(&home, &named);
    drop(daemon);
}

fn assert_offsets_only(home: &Home, path: &Path) {
    let paths: Vec<String> = home
        .db()
        .prepare("SELECT path FROM transcript_offsets")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want = std::fs::canonicalize(path).unwrap();
    assert_eq!(paths, [want.display().to_string()]);
}

#[test]
fn doctor_lists_the_watched_roots_their_files_and_the_symlinks_it_will_not_follow() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let doctor = || {
        let out = home.command().args(["doctor", "--json"]).output().unwrap();
        let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "watch")
            .cloned()
            .unwrap_or_else(|| panic!("no watch check: {findings}"))
    };
    let watch = doctor();
    assert_eq!(watch["status"], "ok", "{watch}");
    let finding = watch["finding"].as_str().unwrap();
    let root = projects(&home);
    // The fixture is 8,055 bytes.
    assert!(
        finding.contains(&format!("{} (1 file, 8.1 KB)", root.display())),
        "{finding}"
    );
    assert!(
        finding.contains(&format!(
            "{} (not there yet)",
            home.path().join(".config/claude/projects").display()
        )),
        "{finding}"
    );

    std::os::unix::fs::symlink(&transcript, root.join("link.jsonl")).unwrap();
    let watch = doctor();
    assert_eq!(watch["status"], "warn", "{watch}");
    assert!(
        watch["finding"]
            .as_str()
            .unwrap()
            .contains("1 symlink under"),
        "{watch}"
    );

    home.write_config(HOOKS_ONLY);
    let watch = doctor();
    assert_eq!(watch["status"], "ok", "{watch}");
    assert!(
        watch["finding"].as_str().unwrap().starts_with("off"),
        "{watch}"
    );
}
