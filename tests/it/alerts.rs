//! Budget alerts and enforcement (docs/budgets.md) against the real daemon: thresholds
//! fire once per period across restarts, a crossing while the daemon was down
//! alerts at start, a loopback webhook receiver gets exactly the expected
//! posts (retried on failure), a hanging webhook does not hold ingestion up,
//! the command notifier gets the documented environment, SIGHUP reloads the
//! config file's budgets, and `hookmeter send` prints Claude Code's deny
//! decision only when an enforced budget is spent, allowing on any failure.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{json, Value};

/// A cost entry the daemon records at exactly `usd` (a non-LLM cost).
fn cost_line(id: &str, agent: &str, usd: f64) -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": "s",
        "agent_id": agent,
        "service": "infra",
        "cost_usd": usd,
    })
    .to_string()
    .into_bytes()
}

fn spend(daemon: &Daemon, id: &str, agent: &str, usd: f64) {
    let ack = daemon.connect().roundtrip(&cost_line(id, agent, usd));
    assert_eq!(ack["records"], 1, "{ack}");
}

/// How the loopback webhook receiver answers each request, in order; the
/// last answer repeats.
#[derive(Clone, Copy, PartialEq)]
enum Reply {
    Status(u16),
    /// Read the request, then never answer (the connection stays open).
    Hang,
}

/// A loopback HTTP server recording every request body it gets.
struct Receiver {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
    /// Connections kept open by `Reply::Hang`, so they outlive the handler.
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Receiver {
    fn start(replies: &[Reply]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (seen, kept, replies) = (bodies.clone(), held.clone(), replies.to_vec());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let body = read_request_body(&stream);
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(body);
                    seen.len()
                };
                match replies[(n - 1).min(replies.len() - 1)] {
                    Reply::Hang => kept.lock().unwrap().push(stream),
                    Reply::Status(code) => {
                        let mut stream = stream;
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        );
                    }
                }
            }
        });
        Receiver {
            addr,
            bodies,
            _held: held,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    fn texts(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .map(|b| {
                let v: Value = serde_json::from_str(b).unwrap_or_else(|_| panic!("body {b:?}"));
                assert_eq!(v.as_object().unwrap().len(), 2, "only text and id: {v}");
                assert!(v["id"].as_i64().is_some(), "the alert's id: {v}");
                v["text"].as_str().unwrap().to_string()
            })
            .collect()
    }
}

/// Waits for this run of the daemon to finish a budget check that found
/// `new` new alerts (the check logs one line per run at debug level).
fn wait_for_check(daemon: &Daemon, new: usize) {
    let line = format!("new_alerts={new}");
    wait_until(
        &format!("a budget check with {line}"),
        || {
            daemon
                .run_log()
                .lines()
                .any(|l| l.contains("Budgets checked.") && l.contains(&line))
        },
        || daemon.run_log(),
    );
}

#[test]
fn thresholds_fire_once_across_restarts_and_reach_the_webhook_exactly_once() {
    let home = Home::new();
    let receiver = Receiver::start(&[Reply::Status(200)]);
    home.write_config(&format!(
        "[alerts]\ntz = \"UTC\"\ncheck_secs = 1\n[alerts.webhook]\nurl = \"{}\"\n\n\
         [[budgets]]\ndaily = 1.0\n",
        receiver.url()
    ));
    let daemon = home.start();
    spend(&daemon, "e1", "alpha", 0.5);
    spend(&daemon, "e2", "alpha", 0.35); // 85 %: the 80 % threshold
    wait_until(
        "the 80 % post",
        || receiver.bodies().len() == 1,
        || daemon.run_log(),
    );
    assert_eq!(fired(&home), [" daily 80.0"]);
    let text = &receiver.texts()[0];
    assert!(
        text.contains("daily budget of everything reached 80%: $0.85 of $1.00"),
        "{text}"
    );
    assert!(daemon.run_log().contains(text.as_str()), "the log line");
    assert!(daemon.stop().success());

    // While it is down, the spend crosses 100 %: the spool holds the event.
    let sent = home.send(&cost_line("e3", "alpha", 0.3), &[]);
    assert!(sent.stdout.is_empty());
    assert_eq!(home.spool_files().len(), 1);
    let daemon = home.start();
    wait_until(
        "the 100 % post",
        || receiver.bodies().len() == 2,
        || daemon.run_log(),
    );
    assert_eq!(fired(&home), [" daily 80.0", " daily 100.0"]);
    assert!(receiver.texts()[1].contains("reached 100%: $1.15 of $1.00"));
    assert!(daemon.stop().success());

    // A budget set while the daemon is down, already exceeded: the check at
    // start finds it, with no new record to trigger it.
    let mut set = home.command();
    set.args(["budget", "set", "--weekly", "1.1", "--scope", "agent:alpha"]);
    succeed(&mut set);
    let daemon = home.start();
    wait_until(
        "the weekly posts",
        || receiver.bodies().len() == 4,
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());

    // Nothing new: restarting fires nothing again.
    let daemon = home.start();
    wait_for_check(&daemon, 0);
    assert!(daemon.stop().success());
    assert_eq!(
        fired(&home),
        [
            " daily 80.0",
            " daily 100.0",
            "agent:alpha weekly 80.0",
            "agent:alpha weekly 100.0"
        ]
    );
    assert_eq!(receiver.bodies().len(), 4, "{:#?}", receiver.texts());
}

#[test]
fn a_failing_webhook_is_retried_with_backoff_and_gets_the_same_body() {
    let home = Home::new();
    let receiver = Receiver::start(&[Reply::Status(503), Reply::Status(500), Reply::Status(200)]);
    home.write_config(&format!(
        "[alerts]\nthresholds = [100]\n[alerts.webhook]\nurl = \"{}\"\nretries = 3\nbackoff_ms = 50\n\n\
         [[budgets]]\nscope = \"agent:alpha\"\nmonthly = 0.1\n",
        receiver.url()
    ));
    let daemon = home.start();
    spend(&daemon, "e1", "alpha", 0.25);
    wait_until(
        "three attempts",
        || receiver.bodies().len() == 3,
        || daemon.run_log(),
    );
    let bodies = receiver.bodies();
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:#?}");
    assert!(receiver.texts()[0].contains("monthly budget of agent:alpha reached 100%"));
    let log = daemon.run_log();
    assert_eq!(log.matches("retrying").count(), 2, "{log}");
    assert!(
        !log.contains(&receiver.url()),
        "the URL is a credential: {log}"
    );
    assert!(daemon.stop().success());
    assert_eq!(receiver.bodies().len(), 3, "no attempt after the success");
}

#[test]
fn a_hanging_webhook_does_not_hold_up_ingestion() {
    let home = Home::new();
    let receiver = Receiver::start(&[Reply::Hang]);
    home.write_config(&format!(
        "[alerts]\n[alerts.webhook]\nurl = \"{}\"\ntimeout_secs = 600\nretries = 5\n\n\
         [[budgets]]\ndaily = 0.01\n",
        receiver.url()
    ));
    let daemon = home.start();
    spend(&daemon, "first", "alpha", 0.02);
    wait_until(
        "the webhook request to hang",
        || receiver.bodies().len() == 1,
        || daemon.run_log(),
    );
    // The notifier is stuck in that request; ingestion goes on regardless.
    let mut client = daemon.connect();
    for i in 0..300 {
        client.write(&cost_line(&format!("more-{i}"), "alpha", 0.001));
        client.write(b"\n");
    }
    for _ in 0..300 {
        assert_eq!(client.read_ack()["ok"], true);
    }
    let sent = home.send(&cost_line("by-send", "beta", 0.001), &[]);
    assert!(
        sent.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(home.spool_files().is_empty(), "acked, not spooled");
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 302);
    assert_eq!(receiver.bodies().len(), 1, "still the one hanging request");
    // Shutdown does not wait for the notifier either.
    assert!(daemon.stop().success());
}

#[test]
fn the_command_notifier_gets_the_alert_in_its_environment() {
    let home = Home::new();
    let out = home.path().join("alert");
    home.write_config(&format!(
        "[alerts]\ntz = \"UTC\"\nthresholds = [50, 100]\n\
         command = [\"/bin/sh\", \"-c\", \"env | grep ^HOOKMETER_ALERT_ | sort > \\\"$0.$HOOKMETER_ALERT_THRESHOLD_PCT.tmp\\\" && mv \\\"$0.$HOOKMETER_ALERT_THRESHOLD_PCT.tmp\\\" \\\"$0.$HOOKMETER_ALERT_THRESHOLD_PCT\\\"\", \"{}\"]\n\n\
         [[budgets]]\nscope = \"agent:alpha\"\ndaily = 2.0\nenforce = true\n",
        out.display()
    ));
    let daemon = home.start();
    spend(&daemon, "e1", "alpha", 1.5);
    let file = home.path().join("alert.50");
    wait_until(
        "the command's output",
        || file.exists(),
        || daemon.run_log(),
    );
    let env: std::collections::BTreeMap<String, String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let midnight = format!(
        "{}T00:00:00.000Z",
        jiff::Timestamp::now().strftime("%Y-%m-%d")
    );
    let next: jiff::Timestamp =
        midnight.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_hours(24);
    let get = |k: &str| {
        env.get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{k} in {env:?}"))
    };
    assert_eq!(get("HOOKMETER_ALERT_SCOPE"), "agent:alpha");
    assert_eq!(get("HOOKMETER_ALERT_PERIOD"), "daily");
    assert_eq!(get("HOOKMETER_ALERT_THRESHOLD_PCT"), "50");
    assert_eq!(get("HOOKMETER_ALERT_SPENT_USD"), "1.5");
    assert_eq!(get("HOOKMETER_ALERT_LIMIT_USD"), "2");
    assert_eq!(get("HOOKMETER_ALERT_PERIOD_START"), midnight);
    assert_eq!(
        get("HOOKMETER_ALERT_PERIOD_END"),
        next.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
    );
    assert_eq!(get("HOOKMETER_ALERT_ENFORCED"), "1");
    assert!(get("HOOKMETER_ALERT_TEXT").contains("reached 50%: $1.50 of $2.00"));
    let id: i64 = home
        .db()
        .query_row("SELECT id FROM alerts WHERE threshold_pct = 50", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(get("HOOKMETER_ALERT_ID"), id.to_string());
    assert_eq!(env.len(), 10, "{env:#?}");
    assert!(!home.path().join("alert.100").exists());
    assert!(daemon.stop().success());
}

#[test]
fn sighup_reloads_the_config_files_budgets() {
    let home = Home::new();
    home.write_config("[alerts]\ntz = \"UTC\"\nthresholds = [100]\n");
    let daemon = home.start();
    spend(&daemon, "e1", "alpha", 0.6);
    let statuses = |home: &Home| -> Vec<Value> {
        let mut cmd = home.command();
        cmd.args(["budget", "status", "--json"]);
        serde_json::from_str(&succeed(&mut cmd)).unwrap()
    };
    assert!(statuses(&home).is_empty());

    home.write_config(
        "[alerts]\ntz = \"UTC\"\nthresholds = [100]\n\n\
         [[budgets]]\nscope = \"agent:alpha\"\ndaily = 0.5\nenforce = true\n",
    );
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the reloaded budget's alert",
        || fired(&home) == ["agent:alpha daily 100.0"],
        || daemon.run_log(),
    );
    let shown = statuses(&home);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["scope"], "agent:alpha");
    assert_eq!(shown[0]["enforce"], true);
    assert_cost(shown[0]["spent"].as_f64().unwrap(), 0.6, "spent");

    // A broken file keeps what is in force, and says so.
    home.write_config("[[budgets]]\nscope = \"team:red\"\ndaily = 1\n");
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the reload error",
        || {
            daemon
                .run_log()
                .contains("budgets and alert settings not reloaded")
        },
        || daemon.run_log(),
    );
    // (The CLI refuses that file too, so the database is read directly.)
    assert_eq!(
        home.count("SELECT count(*) FROM budgets WHERE scope = 'agent:alpha' AND enforce = 1"),
        1
    );

    // Removed from the file: gone from the database; a CLI budget stays.
    home.write_config("[alerts]\ntz = \"UTC\"\n");
    let mut set = home.command();
    set.args(["budget", "set", "--monthly", "9"]);
    succeed(&mut set);
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the config budget to go",
        || {
            let shown = statuses(&home);
            shown.len() == 1 && shown[0]["scope"] == ""
        },
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());
}

/// A Claude Code PreToolUse payload.
fn pre_tool_use(agent: Option<&str>, id: &str) -> Vec<u8> {
    claude_tool_event("s-guard", "PreToolUse", id, agent)
}

#[test]
fn send_denies_a_tool_use_only_when_an_enforced_budget_is_spent() {
    let home = Home::new();
    home.write_config(
        "[alerts]\ntz = \"UTC\"\nthresholds = [100]\n\n\
         [[budgets]]\nscope = \"agent:alpha\"\ndaily = 0.5\nenforce = true\n\n\
         [[budgets]]\nscope = \"agent:beta\"\ndaily = 0.5\n\n\
         [[budgets]]\nscope = \"project:shop\"\nweekly = 100\nenforce = true\n",
    );
    let daemon = home.start();
    // Not spent yet: allowed.
    assert_eq!(
        stdout(&home.send(&pre_tool_use(Some("alpha"), "t0"), &[])),
        ""
    );
    spend(&daemon, "e1", "alpha", 0.6);
    spend(&daemon, "e2", "beta", 0.6);
    wait_until(
        "both budgets spent",
        || fired(&home).len() == 2,
        || daemon.run_log(),
    );

    let denied = stdout(&home.send(&pre_tool_use(None, "t1"), &["--agent", "alpha"]));
    let decision: Value = serde_json::from_str(denied.trim_end()).unwrap();
    assert_eq!(denied.lines().count(), 1);
    let output = &decision["hookSpecificOutput"];
    assert_eq!(output["hookEventName"], "PreToolUse");
    assert_eq!(output["permissionDecision"], "deny");
    let reason = output["permissionDecisionReason"].as_str().unwrap();
    assert!(
        reason.contains("daily budget of agent:alpha is spent ($0.60 of $0.50)"),
        "{reason}"
    );
    // The payload's own agent_id counts too.
    assert_eq!(
        stdout(&home.send(&pre_tool_use(Some("alpha"), "t2"), &[])),
        denied
    );
    // Not enforced, another agent, or not a PreToolUse: nothing printed.
    assert_eq!(
        stdout(&home.send(&pre_tool_use(Some("beta"), "t3"), &[])),
        ""
    );
    assert_eq!(
        stdout(&home.send(&pre_tool_use(Some("gamma"), "t4"), &[])),
        ""
    );
    assert_eq!(stdout(&home.send(&cost_line("e3", "alpha", 0.0), &[])), "");
    // Every event was still recorded.
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE event_name = 'PreToolUse'"),
        5
    );

    // The file wins for its own budgets: SIGHUP puts back what `budget set`
    // changed.
    let limit = || {
        home.count(
            "SELECT CAST(limit_usd * 10 AS INTEGER) FROM budgets WHERE scope = 'agent:alpha'",
        )
    };
    let mut raise = home.command();
    raise.args(["budget", "set", "--daily", "5", "--scope", "agent:alpha"]);
    succeed(&mut raise);
    assert_eq!(limit(), 50);
    daemon.signal(libc::SIGHUP);
    wait_until(
        "the file's limit again",
        || limit() == 5,
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());

    // Daemon down: the event is spooled and the tool use allowed.
    let sent = home.send(&pre_tool_use(Some("alpha"), "t5"), &[]);
    assert_eq!(stdout(&sent), "");
    assert_eq!(home.spool_files().len(), 1);
}

/// A stand-in daemon on the socket path that answers each line with `reply`
/// (or, with `None`, reads and never answers).
fn fake_daemon(home: &Home, reply: Option<&'static str>) -> std::thread::JoinHandle<()> {
    let path = home.socket();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        match reply {
            Some(reply) => {
                let _ = (&stream).write_all(reply.as_bytes());
            }
            None => std::thread::sleep(std::time::Duration::from_secs(5)),
        }
    })
}

#[test]
fn send_allows_whenever_it_cannot_tell() {
    let home = Home::new();
    // The stand-in works: a well-formed deny for a PreToolUse is printed.
    let fake = fake_daemon(
        &home,
        Some(concat!(
            r#"{"ok":true,"id":"x","records":0,"deny":"spent"}"#,
            "\n"
        )),
    );
    let printed = stdout(&home.send(&pre_tool_use(Some("a"), "t"), &[]));
    assert!(
        printed.contains(r#""permissionDecision":"deny""#),
        "{printed}"
    );
    fake.join().unwrap();

    let cases: [(&str, Option<&'static str>, &[u8]); 5] = [
        ("an answer that is not JSON", Some("garbage\n"), b""),
        (
            "a deny that is not text",
            Some("{\"ok\":true,\"deny\":42}\n"),
            b"",
        ),
        (
            "an error answer",
            Some("{\"ok\":false,\"error\":\"x\",\"retry\":true}\n"),
            b"",
        ),
        ("no answer in time", None, b""),
        (
            "a deny for an event that is not PreToolUse",
            Some("{\"ok\":true,\"id\":\"x\",\"records\":0,\"deny\":\"spent\"}\n"),
            br#"{"hook_event_name":"PostToolUse","tool_use_id":"p"}"#,
        ),
    ];
    for (what, reply, payload) in cases {
        let fake = fake_daemon(&home, reply);
        let payload = if payload.is_empty() {
            pre_tool_use(Some("a"), what)
        } else {
            payload.to_vec()
        };
        let output = home
            .command()
            .env("HOOKMETER_SEND_TIMEOUT_MS", "200")
            .arg("send")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child.stdin.take().unwrap().write_all(&payload)?;
                child.wait_with_output()
            })
            .unwrap();
        assert_eq!(stdout(&output), "", "{what}: allowed");
        fake.join().unwrap();
    }
    // No socket at all.
    let _ = std::fs::remove_file(home.socket());
    assert_eq!(stdout(&home.send(&pre_tool_use(Some("a"), "n"), &[])), "");
}
