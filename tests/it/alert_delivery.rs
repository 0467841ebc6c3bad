//! Budget alerts delivered at least once (docs/budgets.md#delivery), with a
//! loopback webhook receiver that can be down (not listening) or failing:
//! alerts wait across a restart while it is down, arrive in the order they
//! fired once it is back, each with a stable id a receiver can drop
//! duplicates by; one not delivered within `alerts.deliver_for_secs` is
//! given up, and `budget status`, the API and `doctor` say so.

use crate::common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{json, Value};

/// A cost entry the daemon records at exactly `usd`.
fn cost_line(id: &str, usd: f64) -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": "s",
        "agent_id": "alpha",
        "service": "infra",
        "cost_usd": usd,
    })
    .to_string()
    .into_bytes()
}

/// A webhook receiver on a fixed loopback port that is down (nothing
/// listens) until [`Receiver::up`]. Once up it answers the first request
/// with 500, after reading its body, and every later one with 200: the
/// first alert arrives twice.
struct Receiver {
    addr: SocketAddr,
    /// Every body read, in order, failed or not.
    bodies: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// A free port, not listened on.
    fn down() -> Receiver {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        Receiver {
            addr,
            bodies: Arc::default(),
            stop: Arc::default(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/alert", self.addr)
    }

    fn up(&self) {
        let listener = TcpListener::bind(self.addr).unwrap();
        let (bodies, stop) = (self.bodies.clone(), self.stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(mut stream) = stream else { return };
                let body = read_request_body(&stream);
                let n = {
                    let mut bodies = bodies.lock().unwrap();
                    bodies.push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
                    bodies.len()
                };
                let code = if n == 1 { 500 } else { 200 };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
        });
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    fn ids(&self) -> Vec<i64> {
        self.bodies()
            .iter()
            .map(|b| b["id"].as_i64().unwrap_or_else(|| panic!("an id in {b}")))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// `(id, delivery, attempts)` of every alert, in the order they fired.
fn deliveries(home: &Home) -> Vec<(i64, String, i64)> {
    let conn = home.db();
    let mut stmt = conn
        .prepare("SELECT id, delivery, attempts FROM alerts ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn budget_status(home: &Home) -> String {
    let mut status = home.command();
    status.args(["budget", "status"]);
    succeed(&mut status)
}

#[test]
fn alerts_wait_for_a_receiver_that_is_down_across_a_restart_and_arrive_in_order() {
    let home = Home::new();
    let receiver = Receiver::down();
    // Two tries per delivery attempt; the next attempt 20–40 ms later, at
    // most 100 ms: many attempts while the receiver is down.
    home.write_config(&format!(
        "[alerts]\ntz = \"UTC\"\nthresholds = [50, 100]\ncheck_secs = 1\n\
         redeliver_ms = 40\nredeliver_max_ms = 100\n\
         [alerts.webhook]\nurl = \"{}\"\nretries = 1\nbackoff_ms = 10\ntimeout_secs = 2\n\n\
         [[budgets]]\ndaily = 1.0\n",
        receiver.url()
    ));
    let daemon = home.start();
    assert_eq!(
        daemon.connect().roundtrip(&cost_line("e1", 0.6))["records"],
        1
    );
    // Down for longer than its retries: the alert is tried again and again.
    wait_until(
        "the 50 % alert to fail three delivery attempts",
        || matches!(deliveries(&home).as_slice(), [(_, state, n)] if state == "pending" && *n >= 3),
        || daemon.run_log(),
    );
    let status = budget_status(&home);
    assert!(
        status.contains("1 alert not delivered yet, still tried (oldest fired "),
        "{status}"
    );
    assert!(
        status.contains("last error: the webhook failed"),
        "{status}"
    );
    assert!(
        !status.contains(&receiver.url()),
        "the URL is a credential: {status}"
    );
    let api = http_get(daemon.http(), "/api/budgets/alerts").json();
    assert_eq!(api["pending"], 1, "{api}");
    assert_eq!(api["given_up"], 0, "{api}");
    assert!(
        api["last_error"]
            .as_str()
            .unwrap()
            .contains("webhook failed"),
        "{api}"
    );
    assert!(daemon.stop().success());

    // While the daemon is down, the spend crosses 100 %: the spool holds it.
    assert!(home.send(&cost_line("e2", 0.5), &[]).stdout.is_empty());
    let mut doctor = home.command();
    doctor.arg("doctor");
    let said = String::from_utf8_lossy(&doctor.output().unwrap().stdout).into_owned();
    assert!(said.contains("alerts.delivery"), "{said}");
    assert!(said.contains("1 alert not delivered yet"), "{said}");

    // Restarted with the receiver still down: both wait, the first still tried.
    let daemon = home.start();
    let before = deliveries(&home)[0].2;
    wait_until(
        "the 100 % alert recorded and the first tried again",
        || {
            let now = deliveries(&home);
            now.len() == 2 && now[0].2 > before && now.iter().all(|(_, s, _)| s == "pending")
        },
        || daemon.run_log(),
    );
    assert!(receiver.bodies().is_empty());

    // Back up: every alert arrives, in order, the first twice (its first
    // post got a 500 after the body was read): a duplicate by id.
    receiver.up();
    wait_until(
        "every alert delivered",
        || deliveries(&home).iter().all(|(_, s, _)| s == "delivered"),
        || daemon.run_log(),
    );
    let ids: Vec<i64> = deliveries(&home).iter().map(|(id, ..)| *id).collect();
    assert_eq!(receiver.ids(), [ids[0], ids[0], ids[1]]);
    let mut unique = receiver.ids();
    unique.dedup();
    assert_eq!(
        unique, ids,
        "dropping duplicates by id leaves each alert once"
    );
    let bodies = receiver.bodies();
    assert_eq!(bodies[0], bodies[1], "the same alert, the same body");
    assert!(
        bodies[1]["text"].as_str().unwrap().contains("reached 50%"),
        "{bodies:?}"
    );
    assert!(
        bodies[2]["text"].as_str().unwrap().contains("reached 100%"),
        "{bodies:?}"
    );
    let status = budget_status(&home);
    assert!(!status.contains("not delivered"), "{status}");
    assert!(daemon.stop().success());

    // Restarting sends nothing again.
    let daemon = home.start();
    wait_until(
        "a budget check",
        || daemon.run_log().contains("Budgets checked."),
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());
    assert_eq!(receiver.bodies().len(), 3);
}

#[test]
fn an_alert_not_delivered_in_time_is_given_up_and_said_so() {
    let home = Home::new();
    let receiver = Receiver::down();
    home.write_config(&format!(
        "[alerts]\nthresholds = [100]\ndeliver_for_secs = 1\n\
         redeliver_ms = 20\nredeliver_max_ms = 50\n\
         [alerts.webhook]\nurl = \"{}\"\nretries = 0\n\n\
         [[budgets]]\ndaily = 0.1\n",
        receiver.url()
    ));
    let daemon = home.start();
    assert_eq!(
        daemon.connect().roundtrip(&cost_line("e1", 0.2))["records"],
        1
    );
    wait_until(
        "the alert given up",
        || matches!(deliveries(&home).as_slice(), [(_, state, _)] if state == "given_up"),
        || daemon.run_log(),
    );
    let reason: String = home
        .db()
        .query_row("SELECT last_error FROM alerts", [], |r| r.get(0))
        .unwrap();
    assert!(
        reason.starts_with("not delivered within 1 s (alerts.deliver_for_secs)"),
        "{reason}"
    );
    assert!(
        reason.contains("last error: the webhook failed"),
        "{reason}"
    );
    let status = budget_status(&home);
    assert!(
        status.contains("1 alert given up, never delivered (only in the log and the alerts table); the latest: not delivered within 1 s"),
        "{status}"
    );
    let api = http_get(daemon.http(), "/api/budgets/alerts").json();
    assert_eq!(
        (api["pending"].as_i64(), api["given_up"].as_i64()),
        (Some(0), Some(1)),
        "{api}"
    );
    assert!(api["last_given_up_reason"]
        .as_str()
        .unwrap()
        .contains("deliver_for_secs"));
    assert!(daemon.run_log().contains("A budget alert was given up"));
    assert!(daemon.stop().success());
    let mut doctor = home.command();
    doctor.args(["doctor", "--json"]);
    let said = String::from_utf8_lossy(&doctor.output().unwrap().stdout).into_owned();
    assert!(said.contains("\"alerts.delivery\""), "{said}");
    assert!(said.contains("1 alert given up"), "{said}");

    // Given up is for good: the receiver coming back gets nothing.
    receiver.up();
    let daemon = home.start();
    wait_until(
        "a budget check",
        || daemon.run_log().contains("Budgets checked."),
        || daemon.run_log(),
    );
    assert!(daemon.stop().success());
    assert!(receiver.bodies().is_empty());
}
