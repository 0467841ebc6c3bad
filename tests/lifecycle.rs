//! Process lifecycle: SIGTERM drains and exits cleanly, SIGHUP reloads
//! prices, a second daemon on the same socket is refused.

mod common;

use std::collections::HashSet;
use std::io::BufRead;

use common::*;

#[test]
fn sigterm_drains_exits_zero_removes_the_socket_and_loses_no_acked_event() {
    let home = Home::new();
    let daemon = home.start();
    // Several clients pipeline events; SIGTERM arrives while they are busy.
    let mut clients: Vec<_> = (0..4).map(|_| daemon.connect()).collect();
    for (c, client) in clients.iter_mut().enumerate() {
        let mut batch = String::new();
        for i in 0..2000 {
            batch.push_str(&format!(
                "{{\"hook_event_name\":\"PostToolUse\",\"session_id\":\"c{c}\",\"tool_use_id\":\"t{i}\",\"model\":\"gpt-5\",\"usage\":{{\"input_tokens\":10,\"output_tokens\":1}}}}\n"
            ));
        }
        client.write(batch.as_bytes());
    }
    // Wait for the first ack so the stop hits in-flight work.
    let first = clients[0].read_ack();
    assert_eq!(first["ok"], true);
    daemon.signal(libc::SIGTERM);

    let mut acked: HashSet<String> = HashSet::from([first["id"].as_str().unwrap().to_string()]);
    for client in &mut clients {
        let mut line = String::new();
        loop {
            line.clear();
            match client.reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let ack: serde_json::Value = serde_json::from_str(&line).unwrap();
                    if ack["ok"] == true {
                        acked.insert(ack["id"].as_str().unwrap().to_string());
                    }
                }
            }
        }
    }
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "clean exit after one SIGTERM");
    assert!(!home.socket().exists(), "socket file removed");
    let stored: HashSet<String> = home
        .db()
        .prepare("SELECT hook_event_id FROM hook_events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(missing.is_empty(), "acked but not stored: {missing:?}");
    println!("acked before exit: {} of 8000", acked.len());
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused_and_the_first_keeps_serving() {
    let home = Home::new();
    let daemon = home.start();
    let out = home.command().arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already listening"), "{err}");
    let mut client = daemon.connect();
    assert_eq!(
        client.roundtrip(br#"{"hook_event_name":"Ping"}"#)["ok"],
        true
    );
    drop(daemon);
}

#[test]
fn a_stale_socket_file_from_a_crash_is_replaced() {
    let home = Home::new();
    let daemon = home.start();
    let mut child = daemon;
    child.signal(libc::SIGKILL);
    let _ = child.child.wait();
    assert!(
        home.socket().exists(),
        "a killed daemon leaves its socket behind"
    );
    let daemon = home.start();
    assert_eq!(
        daemon.connect().roundtrip(br#"{"hook_event_name":"Ping"}"#)["ok"],
        true
    );
}

#[test]
fn the_socket_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let daemon = home.start();
    let mode = std::fs::metadata(home.socket())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    drop(daemon);
}

#[test]
fn telemetry_db_path_is_honored_and_flags_win_over_it() {
    let home = Home::new();
    // The harness sets TELEMETRY_DB_PATH; a --db flag must win over it.
    let flagged = home.path().join("flag.db");
    let out = home.command().args(["pricing", "list"]).output().unwrap();
    assert!(out.status.success());
    let daemon = home.start();
    assert!(home.db_path().exists(), "db created at TELEMETRY_DB_PATH");
    drop(daemon);
    let mut child = home
        .command()
        .args(["serve", "--db"])
        .arg(&flagged)
        .args(["--socket"])
        .arg(home.path().join("other.sock"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the flagged db", || flagged.exists(), String::new);
    let _ = child.kill();
    let _ = child.wait();
}
