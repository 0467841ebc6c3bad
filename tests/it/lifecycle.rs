//! Process lifecycle: SIGTERM drains and exits cleanly, SIGHUP reloads
//! prices, a second daemon on the same socket is refused.

use crate::common;

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

#[test]
fn sighup_reloads_pricing_toml_for_events_after_it() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let event = |id: &str| {
        format!(
            r#"{{"hook_event_name":"PostToolUse","session_id":"s-hup","tool_use_id":"{id}","model":"gpt-5","usage":{{"input_tokens":1000000,"output_tokens":0}}}}"#
        )
    };
    assert_eq!(client.roundtrip(event("before").as_bytes())["records"], 1);

    let pricing = home.config_file().parent().unwrap().join("pricing.toml");
    std::fs::create_dir_all(pricing.parent().unwrap()).unwrap();
    std::fs::write(
        &pricing,
        "[models.gpt-5]\nprovider = \"openai\"\ninput = 2\noutput = 20\n",
    )
    .unwrap();
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the reload to be logged",
        || daemon.log_text().contains("Price table reloaded"),
        || daemon.log_text(),
    );
    assert_eq!(client.roundtrip(event("after").as_bytes())["records"], 1);

    let cost = |id: &str| -> (f64, String) {
        home.db()
            .query_row(
                "SELECT estimated_cost_usd, pricing_source FROM cost_records WHERE hook_event_id = ?1",
                [format!("s-hup:{id}:PostToolUse")],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let (before, source) = cost("before");
    assert_cost(before, 1.25, "embedded gpt-5 input rate");
    assert_eq!(source, "embedded");
    let (after, source) = cost("after");
    assert_cost(after, 2.0, "reloaded gpt-5 input rate");
    assert_eq!(source, "user");
    // A broken file on the next SIGHUP keeps the table in force.
    std::fs::write(&pricing, "[models.gpt-5\n").unwrap();
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the failed reload to be logged",
        || daemon.log_text().contains("prices not reloaded"),
        || daemon.log_text(),
    );
    assert_eq!(client.roundtrip(event("broken").as_bytes())["records"], 1);
    assert_cost(cost("broken").0, 2.0, "previous table kept");
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn cost_pricing_env_overrides_apply() {
    let home = Home::new();
    let mut cmd = home.command();
    cmd.env("COST_PRICING_GPT_5_INPUT", "4");
    let out = cmd
        .args(["pricing", "check", "openai/gpt-5-2025-08-07"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(line("normalized"), "normalized gpt-5", "{text}");
    assert_eq!(
        line("source"),
        "source env (COST_PRICING_GPT_5_INPUT)",
        "{text}"
    );
    assert_eq!(line("input"), "input 4", "{text}");
    assert_eq!(line("output"), "output 10", "the other rates stay: {text}");
}

#[test]
fn the_daemon_raises_its_open_file_limit_to_the_hard_limit() {
    use std::os::unix::process::CommandExt;
    let home = Home::new();
    let daemon = home.start_with(|cmd| unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 4096,
            };
            match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    });
    // Connections need descriptors beyond the usual soft limit of 1024.
    assert_eq!(open_file_limits(daemon.child.id()), (4096, 4096));
    assert!(daemon.stop().success());
}
