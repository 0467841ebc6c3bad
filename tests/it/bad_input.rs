//! Bad input through the socket and the spool: a clear error, nothing lost,
//! and the daemon keeps serving.

use crate::common;

use common::*;
use serde_json::Value;

const GOOD: &str = r#"{"hook_event_name":"PostToolUse","session_id":"s-ok","tool_use_id":"t-ok","model":"gpt-5","usage":{"input_tokens":100,"output_tokens":10}}"#;

/// Each bad input with a fragment its rejection reason must contain and the
/// reason's kind (`rejected_events.reason_code`).
fn bad_inputs() -> Vec<(&'static str, Vec<u8>, &'static str, &'static str)> {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        ("not json", b"this is not json".to_vec(), "not valid JSON", "not_json"),
        ("array", b"[{\"usage\":{}}]".to_vec(), "got an array", "not_object"),
        ("invalid utf-8", b"{\"a\":\"\xff\xfe\"}".to_vec(), "not valid UTF-8", "not_utf8"),
        ("deep nesting", deep.into_bytes(), "recursion limit", "not_json"),
        (
            "numbers as strings",
            br#"{"model":"gpt-5","usage":{"input_tokens":"100","output_tokens":"10"}}"#.to_vec(),
            "input_tokens",
            "invalid_usage",
        ),
        (
            "negative count",
            br#"{"model":"gpt-5","usage":{"input_tokens":-100,"output_tokens":10}}"#.to_vec(),
            "input_tokens",
            "invalid_usage",
        ),
        (
            "huge count",
            br#"{"model":"gpt-5","usage":{"input_tokens":1e300,"output_tokens":10}}"#.to_vec(),
            "input_tokens",
            "invalid_usage",
        ),
        (
            "huge integer",
            br#"{"model":"gpt-5","usage":{"input_tokens":18446744073709551615,"output_tokens":10}}"#.to_vec(),
            "input_tokens",
            "invalid_usage",
        ),
    ]
}

fn rejected_reasons(home: &Home) -> Vec<(String, String)> {
    home.db()
        .prepare("SELECT reason, raw_text FROM rejected_events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn bad_socket_lines_get_error_acks_are_kept_and_the_next_event_is_acked() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let cases = bad_inputs();
    for (i, (what, bytes, reason, code)) in cases.iter().enumerate() {
        let ack = client.roundtrip(bytes);
        assert_eq!(ack["ok"], false, "{what}: {ack}");
        assert!(
            ack.get("retry").is_none(),
            "{what}: kept, so no retry: {ack}"
        );
        let error = ack["error"].as_str().unwrap();
        assert!(error.contains(reason), "{what}: {error}");
        let kept = rejected_reasons(&home);
        assert_eq!(kept.len(), i + 1, "{what}: one rejected_events row");
        assert_eq!(kept[i].0, error, "{what}: stored reason = acked reason");
        let stored_code: String = home
            .db()
            .query_row(
                "SELECT reason_code FROM rejected_events ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored_code, *code, "{what}");
        assert_eq!(
            kept[i].1,
            String::from_utf8_lossy(bytes),
            "{what}: raw text kept"
        );
        // A good event right after is served on the same connection.
        let ok = client.roundtrip(GOOD.as_bytes());
        assert_eq!(ok["ok"], true, "{what}: daemon stopped serving: {ok}");
    }
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records"),
        1,
        "only the good event is priced"
    );
    drop(daemon);
}

#[test]
fn an_overlong_line_is_refused_its_start_kept_and_the_connection_goes_on() {
    let home = Home::new();
    home.write_config("[limits]\nmax_line_bytes = 65536\n");
    let daemon = home.start();
    let mut client = daemon.connect();
    let mut long = br#"{"pad":""#.to_vec();
    long.extend(std::iter::repeat_n(b'x', 200_000));
    long.extend_from_slice(b"\"}");
    let ack = client.roundtrip(&long);
    assert_eq!(ack["ok"], false, "{ack}");
    assert!(
        ack["error"]
            .as_str()
            .unwrap()
            .contains("over the limit of 65536"),
        "{ack}"
    );
    let kept = rejected_reasons(&home);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].1.len(), 65536, "the first limit bytes are kept");
    let code = "SELECT count(*) FROM rejected_events WHERE reason_code = 'line_too_long'";
    assert_eq!(home.count(code), 1);
    assert_eq!(client.roundtrip(GOOD.as_bytes())["ok"], true);
    drop(daemon);
}

#[test]
fn blank_lines_are_ignored_and_pipelined_acks_come_in_order() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let mut batch = String::new();
    for i in 0..200 {
        if i == 100 {
            batch.push_str("not json\n\n   \n");
        }
        batch.push_str(&format!(
            "{{\"hook_event_name\":\"PostToolUse\",\"session_id\":\"s\",\"tool_use_id\":\"t{i}\",\"model\":\"gpt-5\",\"usage\":{{\"input_tokens\":{i},\"output_tokens\":1}}}}\n"
        ));
    }
    client.write(batch.as_bytes());
    for i in 0..201 {
        let ack = client.read_ack();
        if i == 100 {
            assert_eq!(ack["ok"], false, "{ack}");
            continue;
        }
        let n = if i > 100 { i - 1 } else { i };
        assert_eq!(ack["id"], format!("s:t{n}:PostToolUse"), "ack order");
    }
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 200);
    drop(daemon);
}

#[test]
fn bad_spool_files_move_to_rejected_with_a_reason_and_a_row() {
    let home = Home::new();
    let spool = home.spool();
    std::fs::create_dir_all(&spool).unwrap();
    let cases = bad_inputs();
    for (i, (_, bytes, _, _)) in cases.iter().enumerate() {
        std::fs::write(spool.join(format!("bad{i}.json")), bytes).unwrap();
    }
    // A symlink to a file outside the spool is never followed.
    let secret = home.path().join("secret.json");
    std::fs::write(&secret, GOOD).unwrap();
    std::os::unix::fs::symlink(&secret, spool.join("link.json")).unwrap();
    // An NDJSON file with one bad line: the good lines land, the file is kept.
    std::fs::write(spool.join("mixed.ndjson"), format!("{GOOD}\nnope\n")).unwrap();
    // Oversize: rejected without being read.
    home.write_config("[limits]\nspool_max_file_bytes = 300000\n");
    std::fs::write(spool.join("big.json"), vec![b' '; 300_001]).unwrap();

    let daemon = home.start();
    let expected_files = cases.len() + 3;
    wait_until(
        "every bad file to be rejected",
        || home.spool_files().is_empty() && home.rejected_files().len() == 2 * expected_files,
        || {
            format!(
                "spool {:?} rejected {:?}\n{}",
                home.spool_files(),
                home.rejected_files(),
                daemon.log_text()
            )
        },
    );
    let rejected = home.rejected_files();
    for (i, (what, bytes, reason, code)) in cases.iter().enumerate() {
        let moved = spool.join(format!("rejected/bad{i}.json"));
        assert_eq!(
            std::fs::read(&moved).unwrap(),
            *bytes,
            "{what}: file kept as is"
        );
        let why =
            std::fs::read_to_string(spool.join(format!("rejected/bad{i}.json.reason"))).unwrap();
        assert!(why.contains(reason), "{what}: {why}");
        let origin = format!("bad{i}.json");
        let stored_code: String = home
            .db()
            .query_row(
                "SELECT reason_code FROM rejected_events WHERE origin LIKE ?1 || '%'",
                [&origin],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored_code, *code, "{what}");
    }
    let link_code = "SELECT count(*) FROM rejected_events WHERE origin = 'link.json' AND reason_code = 'spool_file'";
    assert_eq!(home.count(link_code), 1);
    assert!(rejected.contains(&"link.json".to_string()));
    let link = spool.join("rejected/link.json");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link itself moved"
    );
    assert!(
        std::fs::read_to_string(spool.join("rejected/link.json.reason"))
            .unwrap()
            .contains("symbolic link")
    );
    assert!(
        std::fs::read_to_string(spool.join("rejected/big.json.reason"))
            .unwrap()
            .contains("over the limit")
    );
    let mixed = std::fs::read_to_string(spool.join("rejected/mixed.ndjson.reason")).unwrap();
    assert!(mixed.contains("mixed.ndjson:2"), "{mixed}");

    // One row per bad input: each bad file, the link, the big file, the bad NDJSON line.
    assert_eq!(
        home.count("SELECT count(*) FROM rejected_events WHERE source='spool'"),
        expected_files as i64
    );
    // The symlink's target was never read: only the good NDJSON line is stored.
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 1);

    // The daemon still takes good files.
    home.spool_drop("after.json", GOOD.replace("t-ok", "t-after").as_bytes());
    wait_until(
        "a good file after the bad ones",
        || home.spool_files().is_empty() && home.count("SELECT count(*) FROM cost_records") == 2,
        || daemon.log_text(),
    );
    drop(daemon);
}

#[test]
fn send_with_non_json_stdin_keeps_it_verbatim() {
    let home = Home::new();
    let daemon = home.start();
    let out = home.send(b"definitely { not json", &[]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let (reason, raw): (String, String) = home
        .db()
        .query_row("SELECT reason, raw_text FROM rejected_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(reason.contains("not valid JSON"), "{reason}");
    let envelope: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(envelope["payload_raw"], "definitely { not json");
    assert!(
        home.spool_files().is_empty(),
        "a kept rejection is not spooled again"
    );
    drop(daemon);
}

#[test]
fn idle_connections_are_closed_with_a_reason() {
    let home = Home::new();
    home.write_config("[limits]\nidle_timeout_secs = 1\n");
    let daemon = home.start();
    let mut idle = daemon.connect();
    // Half a line, then silence: the daemon gives up on it and says why.
    idle.write(b"{\"hook_event_name\":");
    let ack = idle.read_ack();
    assert_eq!(ack["ok"], false);
    assert!(ack["error"].as_str().unwrap().contains("closing"), "{ack}");
    let mut rest = String::new();
    use std::io::BufRead;
    assert_eq!(
        idle.reader.read_line(&mut rest).unwrap(),
        0,
        "then the connection is closed"
    );
    assert_eq!(daemon.connect().roundtrip(GOOD.as_bytes())["ok"], true);
    drop(daemon);
}

#[test]
fn connections_over_the_limit_get_an_error_line_and_others_are_served() {
    let home = Home::new();
    home.write_config("[limits]\nmax_connections = 2\n");
    let daemon = home.start();
    // Take both slots; an ack proves a slot is held. (The harness's readiness
    // probe may hold one for a moment, hence the polling.)
    let served = || {
        let mut client = None;
        wait_until(
            "a served connection",
            || {
                let mut c = daemon.connect();
                let ok = c
                    .try_roundtrip(GOOD.as_bytes())
                    .is_some_and(|a| a["ok"] == true);
                if ok {
                    client = Some(c);
                }
                ok
            },
            || daemon.log_text(),
        );
        client.unwrap()
    };
    let mut first = served();
    let second = served();
    let mut third = daemon.connect();
    let refused = third.read_ack();
    assert_eq!(refused["ok"], false);
    assert_eq!(
        refused["retry"], true,
        "nothing was stored: the client keeps its event"
    );
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("too many connections"),
        "{refused}"
    );
    // The held connections go on working, and a slot frees up when one closes.
    assert_eq!(first.roundtrip(GOOD.as_bytes())["ok"], true);
    drop(second);
    wait_until(
        "a freed slot to serve a new client",
        || {
            daemon
                .connect()
                .try_roundtrip(GOOD.as_bytes())
                .is_some_and(|ack| ack["ok"] == true)
        },
        || daemon.log_text(),
    );
    drop(daemon);
}

#[test]
fn send_to_a_daemon_that_never_answers_spools_and_exits_zero() {
    let home = Home::new();
    std::fs::create_dir_all(home.socket().parent().unwrap()).unwrap();
    // A listener that accepts but never reads or answers: a hung daemon.
    let listener = std::os::unix::net::UnixListener::bind(home.socket()).unwrap();
    let mut cmd = home.command();
    cmd.env("HOOKMETER_SEND_TIMEOUT_MS", "200").arg("send");
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(GOOD.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let files = home.spool_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let envelope: Value =
        serde_json::from_slice(&std::fs::read(home.spool().join(&files[0])).unwrap()).unwrap();
    assert_eq!(envelope["payload"]["tool_use_id"], "t-ok");
    drop(listener);
}
