//! Claude Code transcripts: live capture from hook events, and `import`.

use crate::common;

use std::io::Write;
use std::path::Path;

use common::*;
use serde_json::Value;

/// The rest of the fixture's half-written last line, as Claude Code would finish it.
pub const HALF_LINE_REST: &str = r#","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"done"}],"usage":{"input_tokens":100,"output_tokens":10,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}},"requestId":"req_half","cwd":"/home/dev/shop","timestamp":"2026-09-20T10:07:00.000Z"}"#;

/// A daemon that has read the fixture transcript once a hook named it.
fn capturing(home: &Home, transcript: &Path, hook_name: &str) -> Daemon {
    let daemon = home.start();
    let ack = daemon
        .connect()
        .roundtrip(fixture_hook(hook_name, transcript).as_bytes());
    assert_eq!(ack["ok"], true, "{ack}");
    wait_until(
        "the transcript's records",
        || records(home) == 6,
        || daemon.log_text(),
    );
    daemon
}

pub fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

pub fn records(home: &Home) -> i64 {
    home.count("SELECT count(*) FROM cost_records")
}

/// The stored records equal transcript-expected.json exactly, besides the
/// `extra` messages a test appended itself.
pub fn assert_expected_records(home: &Home, extra: &[&str]) {
    let expected: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("transcript-expected.json")).unwrap(),
    )
    .unwrap();
    let db = home.db();
    let want = expected["records"].as_array().unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM cost_records WHERE session_id = 's-session-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n as usize, want.len() + extra.len(), "record count");
    let mut total = 0.0;
    for rec in want {
        let message = rec["message"].as_str().unwrap();
        let row = db
            .query_row(
                "SELECT hook_event_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                        cache_write_1h_tokens, tool_name, estimated_cost_usd, agent_id, project, model
                 FROM cost_records WHERE hook_event_id LIKE 'cc:s-session-1:' || ?1 || '%'",
                [message],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, f64>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .unwrap_or_else(|e| panic!("{message}: {e}"));
        let (key, tokens, tools, cost, agent, project, model) = row;
        assert!(
            key.starts_with(&format!("cc:s-session-1:{message}")),
            "{key}"
        );
        let want_tokens = [
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
        ]
        .map(|k| rec[k].as_i64().unwrap());
        assert_eq!(tokens, want_tokens, "{message} tokens");
        assert_eq!(
            tools.as_deref(),
            rec["tool_name"].as_str(),
            "{message} tool names"
        );
        assert_cost(cost, rec["cost_usd"].as_f64().unwrap(), message);
        let subagent = rec["subagent"].as_bool().unwrap();
        assert_eq!(
            agent.starts_with("subagent:"),
            subagent,
            "{message} agent {agent}"
        );
        if !subagent {
            assert_eq!(agent, "claude-code");
        }
        assert_eq!(project.as_deref(), Some("shop"));
        assert!(
            model.contains(rec["model_key"].as_str().unwrap()),
            "{message} model {model}"
        );
        total += cost;
    }
    assert_cost(total, expected["total_cost_usd"].as_f64().unwrap(), "total");
    // Keys `cc:<sessionId>:<message.id>:<requestId>`, and the one without
    // requestId `cc:<sessionId>:<message.id>`.
    let keys: Vec<String> = db
        .prepare("SELECT hook_event_id FROM cost_records WHERE session_id='s-session-1' ORDER BY hook_event_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        keys.contains(&"cc:s-session-1:msg_sA:req_sA".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"cc:s-session-1:msg_sG".to_string()),
        "{keys:?}"
    );
}

#[test]
fn a_hook_event_captures_the_transcript_then_appends_arrive_live_and_import_adds_nothing() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let transcript = transcript_in_root(&home);
    let daemon = home.start();
    let ack = daemon
        .connect()
        .roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes());
    assert_eq!(ack["ok"], true, "{ack}");
    wait_until(
        "the transcript's records",
        || records(&home) == 6,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &[]);

    // The half-written last line counts once an append completes it, with no
    // further hook event: the daemon is following the file.
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    wait_until(
        "the completed line",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    let half: (i64, i64) = home
        .db()
        .query_row("SELECT input_tokens, output_tokens FROM cost_records WHERE hook_event_id = 'cc:s-session-1:msg_half:req_half'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(half, (100, 10));

    // Import after live capture: same parser, same keys, zero new rows.
    let out = home.command().arg("import").output().unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        summary.contains("0 added, 0 updated, 7 already stored"),
        "{summary}"
    );
    assert_eq!(records(&home), 7);
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn a_restart_in_the_middle_neither_recounts_nor_misses() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let daemon = capturing(&home, &transcript, "claude-sessionstart");
    assert_eq!(daemon.stop().code(), Some(0));
    let offset: i64 = home.count("SELECT offset FROM transcript_offsets");
    assert!(offset > 0, "the offset is persisted");

    // Written while the daemon was down: the half line completed, plus a new message.
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    append(
        &transcript,
        r#"{"type":"assistant","sessionId":"s-session-1","isSidechain":false,"cwd":"/home/dev/shop","message":{"id":"msg_late","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","name":"Bash","id":"t","input":{}}],"usage":{"input_tokens":1,"output_tokens":2}},"requestId":"req_late","timestamp":"2026-09-20T10:08:00.000Z"}
"#,
    );
    let daemon = home.start();
    daemon
        .connect()
        .roundtrip(fixture_hook("claude-stop", &transcript).as_bytes());
    wait_until(
        "the lines written while down",
        || records(&home) == 8,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &["msg_half", "msg_late"]);
    assert_eq!(
        home.count("SELECT count(DISTINCT hook_event_id) FROM cost_records"),
        8
    );
    drop(daemon);
}

#[test]
fn paths_outside_the_roots_and_symlinks_out_of_them_read_nothing() {
    let home = Home::new();
    // A real transcript, but outside every root.
    let outside = home.path().join("elsewhere/s.jsonl");
    std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        &outside,
    )
    .unwrap();
    let root = home.path().join(".claude/projects/p");
    std::fs::create_dir_all(&root).unwrap();
    let link = root.join("link.jsonl");
    std::os::unix::fs::symlink(&outside, &link).unwrap();

    let daemon = home.start();
    let mut client = daemon.connect();
    for path in [Path::new("/etc/passwd"), link.as_path(), outside.as_path()] {
        let ack = client.roundtrip(fixture_hook("claude-posttooluse", path).as_bytes());
        assert_eq!(ack["ok"], true, "the hook event itself is stored: {ack}");
    }
    // A good event after them proves the daemon processed all three.
    let good = r#"{"hook_event_name":"PostToolUse","session_id":"s-x","tool_use_id":"t","model":"gpt-5","usage":{"input_tokens":1,"output_tokens":1}}"#;
    assert_eq!(client.roundtrip(good.as_bytes())["ok"], true);
    wait_until(
        "the refusals to be logged",
        || daemon.log_text().matches("Transcript path refused").count() == 3,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE session_id = 's-session-1'"),
        0
    );
    assert_eq!(home.count("SELECT count(*) FROM transcript_offsets"), 0);
    drop(daemon);
}

#[test]
fn truncation_rotation_and_garbage_never_double_count() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let original = std::fs::read(&transcript).unwrap();
    let daemon = home.start();
    let mut client = daemon.connect();
    client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes());
    wait_until(
        "the first read",
        || records(&home) == 6,
        || daemon.log_text(),
    );

    // Truncated and rewritten in place: read again from 0, nothing counted twice.
    std::fs::write(&transcript, &original[..200]).unwrap();
    client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes());
    // The tail reads on its own schedule: let it see the short file before
    // the rewrite, or it may only ever see a file of the same size.
    wait_until(
        "the truncation to be noticed",
        || {
            daemon
                .log_text()
                .contains("Transcript shrank below its offset")
        },
        || daemon.log_text(),
    );
    std::fs::write(&transcript, &original).unwrap();
    client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes());

    // Rotated: a new file (new inode) renamed over the old one, same lines plus one.
    let rotated = transcript.with_extension("new");
    std::fs::write(
        &rotated,
        [&original[..], HALF_LINE_REST.as_bytes(), b"\n"].concat(),
    )
    .unwrap();
    std::fs::rename(&rotated, &transcript).unwrap();
    client.roundtrip(fixture_hook("claude-posttooluse", &transcript).as_bytes());
    wait_until(
        "the rotated file's new line",
        || records(&home) == 7,
        || daemon.log_text(),
    );

    // A file that is not JSONL at all: skipped, the daemon carries on.
    let garbage = transcript.with_file_name("garbage.jsonl");
    std::fs::write(
        &garbage,
        [0u8, 159, 146, 150, b'\n', b'x', b'\n'].repeat(100),
    )
    .unwrap();
    client.roundtrip(fixture_hook("claude-posttooluse", &garbage).as_bytes());
    wait_until(
        "the garbage warning",
        || daemon.log_text().contains("not JSON"),
        || daemon.log_text(),
    );
    // Deleted while followed: no crash, and the daemon goes on serving.
    std::fs::remove_file(&garbage).unwrap();
    let good = r#"{"hook_event_name":"PostToolUse","session_id":"s-x","tool_use_id":"t","model":"gpt-5","usage":{"input_tokens":1,"output_tokens":1}}"#;
    assert_eq!(client.roundtrip(good.as_bytes())["ok"], true);

    assert_eq!(records(&home), 8, "6 + the completed line + the good event");
    assert_expected_records(&home, &["msg_half"]);
    let log = daemon.log_text();
    assert!(
        log.contains("Transcript shrank below its offset"),
        "truncation noticed:\n{log}"
    );
    assert!(
        log.contains("Transcript was replaced by a new file"),
        "rotation noticed:\n{log}"
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn import_is_idempotent_with_itself_and_honors_claude_config_dir() {
    let home = Home::new();
    let a = home.path().join("cfg-a/projects/-home-dev-shop");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        a.join("s-session-1.jsonl"),
    )
    .unwrap();
    // A resumed session: Claude Code copies the earlier messages into a new
    // file under a new sessionId. Each API call still counts once.
    let original = std::fs::read_to_string(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
    )
    .unwrap();
    // (Named to sort after the original, so the original session owns the records.)
    std::fs::write(
        a.join("z-resumed.jsonl"),
        original.replace("\"s-session-1\"", "\"s-resumed\""),
    )
    .unwrap();
    let b = home.path().join("cfg-b/projects/other");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(
        b.join("s2.jsonl"),
        r#"{"type":"assistant","sessionId":"s2","cwd":"/w/other","message":{"id":"m1","model":"claude-haiku-4-5-20251001","content":[],"usage":{"input_tokens":1000000,"output_tokens":0}},"requestId":"r1","timestamp":"2026-09-21T00:00:00Z"}
"#,
    )
    .unwrap();
    let dirs = format!(
        "{},{}",
        home.path().join("cfg-a").display(),
        home.path().join("cfg-b").display()
    );
    let run = || succeed(home.command().env("CLAUDE_CONFIG_DIR", &dirs).arg("import"));
    let first = run();
    assert!(first.contains("imported 3 transcript files"), "{first}");
    assert!(first.contains("7 added"), "{first}");
    assert_expected_records(&home, &[]);
    let second = run();
    // 7 records, plus the resumed copy's 6 lines that merge into them.
    assert!(
        second.contains("0 added, 0 updated, 13 already stored"),
        "{second}"
    );
    assert_eq!(records(&home), 7);
    assert_rollup_matches(&home);
    let resumed = "SELECT count(*) FROM cost_records WHERE session_id = 's-resumed'";
    assert_eq!(home.count(resumed), 0, "no API call counted twice");
    let source: String = home
        .db()
        .query_row("SELECT DISTINCT source FROM cost_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, "import");

    // A named path that does not exist is an error, said plainly.
    let out = home
        .command()
        .args(["import", "/nonexistent/x.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not imported: /nonexistent/x.jsonl"));
}

#[test]
fn the_last_message_of_a_turn_written_after_stop_is_captured() {
    let home = Home::new();
    // A generous linger so a slow machine cannot make this flaky.
    home.write_config("[transcripts]\nstop_linger_secs = 120\nwatch = false\n");
    let transcript = transcript_in_root(&home);
    let daemon = capturing(&home, &transcript, "claude-stop");
    // Claude Code may write the turn's final text-only message after Stop fires.
    // (The newline ends the fixture's half-written line, which stays unusable.)
    append(&transcript, "\n");
    append(
        &transcript,
        r#"{"type":"assistant","sessionId":"s-session-1","isSidechain":false,"cwd":"/home/dev/shop","message":{"id":"msg_final","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"All done."}],"usage":{"input_tokens":3,"output_tokens":40,"cache_read_input_tokens":1000}},"requestId":"req_final","timestamp":"2026-09-20T10:09:00.000Z"}
"#,
    );
    wait_until(
        "the final message",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    let tools: Option<String> = home
        .db()
        .query_row("SELECT tool_name FROM cost_records WHERE hook_event_id = 'cc:s-session-1:msg_final:req_final'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tools, None, "a text-only message has no tool");
    drop(daemon);
}

#[test]
fn a_larger_snapshot_read_later_updates_the_record_and_its_tools() {
    let home = Home::new();
    let transcript = transcript_in_root(&home);
    let daemon = capturing(&home, &transcript, "claude-posttooluse");
    // Another content block of msg_sG, streamed later: more output, a tool.
    append(&transcript, "\n");
    append(
        &transcript,
        r#"{"type":"assistant","sessionId":"s-session-1","isSidechain":false,"cwd":"/home/dev/shop","message":{"id":"msg_sG","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","name":"Glob","id":"tg","input":{}}],"usage":{"input_tokens":2,"output_tokens":80,"cache_read_input_tokens":30000,"cache_creation_input_tokens":0}},"timestamp":"2026-09-20T10:06:30.000Z"}
"#,
    );
    let row = || -> (i64, Option<String>, String, f64) {
        home.db()
            .query_row(
                "SELECT output_tokens, tool_name, timestamp, estimated_cost_usd FROM cost_records WHERE hook_event_id = 'cc:s-session-1:msg_sG'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    wait_until(
        "the larger snapshot",
        || row().0 == 80,
        || daemon.log_text(),
    );
    let (_, tools, timestamp, cost) = row();
    assert_eq!(tools.as_deref(), Some("Glob"));
    assert_eq!(
        timestamp, "2026-09-20T10:06:30.000Z",
        "the larger snapshot's time"
    );
    assert_cost(
        cost,
        (2.0 * 3.0 + 80.0 * 15.0 + 30000.0 * 0.3) / 1e6,
        "msg_sG repriced",
    );
    assert_eq!(records(&home), 6, "updated, not added");
    // A smaller, older snapshot read afterwards changes nothing.
    append(
        &transcript,
        r#"{"type":"assistant","sessionId":"s-session-1","isSidechain":false,"cwd":"/home/dev/shop","message":{"id":"msg_sG","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":2,"output_tokens":10,"cache_read_input_tokens":30000}},"timestamp":"2026-09-20T10:06:10.000Z"}
"#,
    );
    let out = home.command().arg("import").output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 added, 0 updated"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(row().0, 80);
    assert_rollup_matches(&home);
    drop(daemon);
}

#[test]
fn after_a_restart_recently_followed_transcripts_are_read_without_a_new_hook_event() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let transcript = transcript_in_root(&home);
    let daemon = capturing(&home, &transcript, "claude-posttooluse");
    assert_eq!(daemon.stop().code(), Some(0));
    // The session went on (and ended) while the daemon was down.
    append(&transcript, &format!("{HALF_LINE_REST}\n"));
    let daemon = home.start();
    wait_until(
        "the line written while down",
        || records(&home) == 7,
        || daemon.log_text(),
    );
    assert_expected_records(&home, &["msg_half"]);
    drop(daemon);
}

#[test]
fn a_sidechain_replay_read_before_its_main_thread_message_gives_way_to_it() {
    let home = Home::new();
    let dir = home.path().join("cfg/projects/-w-app");
    std::fs::create_dir_all(&dir).unwrap();
    let line = |sidechain: bool, request: &str, tool: &str| {
        let agent = if sidechain { r#","agentId":"a9""# } else { "" };
        format!(
            r#"{{"type":"assistant","sessionId":"s9","isSidechain":{sidechain}{agent},"cwd":"/w/app","message":{{"id":"msg_shared","model":"claude-sonnet-4-5-20250929","content":[{{"type":"tool_use","name":"{tool}","id":"t","input":{{}}}}],"usage":{{"input_tokens":5,"output_tokens":50}}}},"requestId":"{request}","timestamp":"2026-09-22T08:00:00.000Z"}}"#
        ) + "\n"
    };
    // Import reads files in name order: the subagent's copy comes first.
    std::fs::write(dir.join("a-sub.jsonl"), line(true, "req_sub", "Edit")).unwrap();
    std::fs::write(dir.join("b-main.jsonl"), line(false, "req_main", "Read")).unwrap();
    let cfg = home.path().join("cfg");
    let import = || succeed(home.command().env("CLAUDE_CONFIG_DIR", &cfg).arg("import"));
    let first = import();
    assert!(
        first.contains("1 of those added was a sidechain replay read before"),
        "{first}"
    );
    let (agent, tools, key): (String, String, String) = home
        .db()
        .query_row(
            "SELECT agent_id, tool_name, hook_event_id FROM cost_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(records(&home), 1, "one API call, one record");
    assert_eq!((agent.as_str(), tools.as_str()), ("claude-code", "Read"));
    assert!(key.ends_with(":msg_shared:req_main"), "{key}");
    assert_rollup_matches(&home);
    let indexed = "SELECT count(*) FROM api_messages a JOIN cost_records c ON c.id = a.record_id";
    assert_eq!(
        home.count(indexed),
        1,
        "the replay's index row went with it"
    );

    // Read again, the replay is recognised as one and nothing changes.
    let second = import();
    assert!(
        second.contains("0 added, 0 updated, 1 already stored, 1 sidechain replay not counted"),
        "{second}"
    );
    assert_eq!(records(&home), 1);

    // One file, one line: singular nouns and a size in bytes.
    let one = succeed(home.command().arg("import").arg(dir.join("b-main.jsonl")));
    let first_line = one.lines().next().unwrap();
    let size = std::fs::metadata(dir.join("b-main.jsonl")).unwrap().len();
    assert!(
        first_line.starts_with(&format!(
            "imported 1 transcript file ({size} B, 1 line) in "
        )),
        "{one}"
    );
    assert!(first_line.ends_with(" s"), "{one}");
}
