//! What the daemon's start-up log tells a user who starts it by hand: the
//! ready line names the dashboard's URL, with the port really bound.

use crate::common;

use common::*;

/// This run's ready line, once it is logged.
fn ready_line(daemon: &Daemon) -> String {
    let mut line = None;
    wait_until(
        "the ready line",
        || {
            line = daemon
                .run_log()
                .lines()
                .find(|l| l.contains("hookmeter is ready"))
                .map(str::to_string);
            line.is_some()
        },
        || daemon.log_text(),
    );
    line.unwrap()
}

#[test]
fn the_ready_line_names_the_dashboard_url_with_the_bound_port() {
    let home = Home::new();
    // Home::command asks for 127.0.0.1:0: the URL must carry the port chosen.
    let daemon = home.start();
    let addr = daemon.http();
    assert_ne!(addr.port(), 0);
    let line = ready_line(&daemon);
    let url = format!("http://{addr}/");
    assert!(
        line.contains(&format!("hookmeter is ready; dashboard at {url}")),
        "{line}"
    );
    // And it is the dashboard.
    let page = http_get(addr, "/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<html"), "{}", page.text());
}

#[test]
fn without_http_the_ready_line_names_no_dashboard() {
    let home = Home::new();
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP", "off");
    });
    let line = ready_line(&daemon);
    assert!(line.contains("hookmeter is ready."), "{line}");
    assert!(
        !daemon.run_log().contains("dashboard at"),
        "{}",
        daemon.run_log()
    );
}
