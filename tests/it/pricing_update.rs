//! `hookmeter pricing update` against files and a loopback HTTP server
//! written here (ETag, 304), a running daemon picking the update up live,
//! `[pricing] auto_update`, and doctor's age of the prices.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::common::{wait_until, Home};

/// The facts file, with `edit` applied to its JSON.
fn litellm(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let text = std::fs::read_to_string(
        crate::common::fixtures().join("litellm-model-prices-2026-08-01.json"),
    )
    .unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    edit(json.as_object_mut().unwrap());
    json.to_string()
}

/// The facts file with `claude-haiku-4-5` at $3/$15 (built in: $1/$5).
fn haiku_at_3() -> String {
    litellm(|models| {
        let sonnet = models["claude-haiku-4-5"].as_object_mut().unwrap();
        sonnet.insert("input_cost_per_token".into(), 3e-06.into());
        sonnet.insert("output_cost_per_token".into(), 1.5e-05.into());
    })
}

fn write(home: &Home, name: &str, text: &str) -> PathBuf {
    let path = home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn layer(home: &Home) -> PathBuf {
    home.db_path().parent().unwrap().join("pricing-update.toml")
}

fn update(home: &Home, args: &[&str]) -> Output {
    home.command()
        .args(["pricing", "update"])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback server of one price file with an ETag: 304 when the request
/// names it. Keeps every request's headers.
struct PriceServer {
    url: String,
    body: Arc<Mutex<String>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl PriceServer {
    fn start(body: String) -> PriceServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/prices.json", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(body));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (served, seen) = (body.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut head = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let body = served.lock().unwrap().clone();
                let etag = format!("\"v{}\"", body.len());
                let matches = head
                    .lines()
                    .any(|l| l.to_ascii_lowercase() == format!("if-none-match: {etag}"));
                seen.lock().unwrap().push(head);
                let response = if matches {
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        PriceServer {
            url,
            body,
            requests,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// `pricing check MODEL`'s input rate and source line.
fn check(home: &Home, model: &str) -> (f64, String) {
    let out = home
        .command()
        .args(["pricing", "check", model])
        .output()
        .unwrap();
    let out = text(&out.stdout);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {out}"))
            .trim()
            .to_string()
    };
    (field("input").parse().unwrap(), field("source"))
}

#[test]
fn an_update_from_a_file_shows_the_changes_and_dry_run_writes_nothing() {
    let home = Home::new();
    let file = write(&home, "prices.json", &haiku_at_3());
    let (before, source) = check(&home, "claude-haiku-4-5");
    assert!(source.starts_with("embedded"), "{source}");

    let dry = update(&home, &["--file", file.to_str().unwrap(), "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let said = text(&dry.stdout);
    assert!(
        said.lines()
            .any(|l| l.starts_with("  claude-haiku-4-5 ")
                && l.contains(&format!("input {before} → 3,"))),
        "{said}"
    );
    assert!(said.contains("nothing was written (--dry-run)"), "{said}");
    assert!(!layer(&home).exists());
    assert_eq!(check(&home, "claude-haiku-4-5").0, before);

    let out = update(&home, &["--file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Wrote "),
        "{}",
        text(&out.stdout)
    );
    let (after, source) = check(&home, "claude-haiku-4-5");
    assert_eq!(after, 3.0);
    assert!(source.starts_with("update ("), "{source}");
}

#[test]
fn the_users_pricing_toml_still_wins_over_an_update() {
    let home = Home::new();
    home.write_config("");
    std::fs::write(
        home.config_file().parent().unwrap().join("pricing.toml"),
        "[models.\"claude-haiku-4-5\"]\ninput = 7\noutput = 9\n",
    )
    .unwrap();
    let file = write(&home, "prices.json", &haiku_at_3());
    assert!(update(&home, &["--file", file.to_str().unwrap()])
        .status
        .success());
    let (input, source) = check(&home, "claude-haiku-4-5");
    assert_eq!(input, 7.0);
    assert!(source.starts_with("user"), "{source}");
}

#[test]
fn a_second_download_sends_the_etag_and_a_304_rewrites_nothing() {
    let home = Home::new();
    let server = PriceServer::start(haiku_at_3());
    let first = update(&home, &["--url", &server.url]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let written = std::fs::read(layer(&home)).unwrap();
    let modified = std::fs::metadata(layer(&home)).unwrap().modified().unwrap();

    let second = update(&home, &["--url", &server.url]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("not modified since the last update (HTTP 304)"),
        "{}",
        text(&second.stdout)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].to_ascii_lowercase().contains("if-none-match"));
    assert!(
        requests[1]
            .to_ascii_lowercase()
            .contains("if-none-match: \"v"),
        "{}",
        requests[1]
    );
    assert_eq!(std::fs::read(layer(&home)).unwrap(), written);
    assert_eq!(
        std::fs::metadata(layer(&home)).unwrap().modified().unwrap(),
        modified
    );
}

#[test]
fn a_broken_or_implausible_file_is_refused_and_nothing_is_written() {
    let home = Home::new();
    let server = PriceServer::start("{\"gpt-5\": {\"mode\": \"chat\", ".into());
    let out = update(&home, &["--url", &server.url]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("is not a LiteLLM price file"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert!(!layer(&home).exists());

    let few = r#"{"acme-1": {"mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}"#;
    let file = write(&home, "few.json", few);
    let out = update(&home, &["--file", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("looks cut short"),
        "{}",
        text(&out.stderr)
    );
    assert!(!layer(&home).exists());

    // With a layer in force, a refused file leaves it byte for byte.
    let good = write(&home, "good.json", &haiku_at_3());
    assert!(update(&home, &["--file", good.to_str().unwrap()])
        .status
        .success());
    let before = std::fs::read(layer(&home)).unwrap();
    let out = update(&home, &["--url", &server.url]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(layer(&home)).unwrap(), before);

    // A server error is a failure of the download (exit 1), not of the input.
    let out = update(&home, &["--url", "http://127.0.0.1:9/prices.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot download"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(layer(&home)).unwrap(), before);
}

#[test]
fn a_model_the_new_file_drops_is_warned_about() {
    let home = Home::new();
    let full = write(&home, "full.json", &haiku_at_3());
    assert!(update(&home, &["--file", full.to_str().unwrap()])
        .status
        .success());
    let fewer = write(
        &home,
        "fewer.json",
        // Every spelling of the model (routes, clouds) goes.
        &litellm(|models| models.retain(|key, _| !key.contains("claude-fable-5"))),
    );
    let out = update(&home, &["--file", fewer.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(
            "warning: claude-fable-5 is no longer in LiteLLM's file; it is now priced as"
        ),
        "{said}"
    );
}

/// One event of `model` with a million input tokens; its cost is the input rate.
fn million_tokens(session: &str, model: &str) -> String {
    format!(
        r#"{{"session_id":"{session}","model":"{model}","usage":{{"input_tokens":1000000,"output_tokens":0}}}}"#
    )
}

fn cost_of(home: &Home, session: &str) -> (f64, String) {
    home.db()
        .query_row(
            "SELECT estimated_cost_usd, pricing_source FROM cost_records WHERE session_id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn a_running_daemon_prices_with_an_update_at_once_and_keeps_earlier_costs() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let line = million_tokens("before", "claude-haiku-4-5");
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    let (before, source) = cost_of(&home, "before");
    assert_eq!(source, "embedded");
    assert_ne!(before, 3.0);

    let file = write(&home, "prices.json", &haiku_at_3());
    assert!(update(&home, &["--file", file.to_str().unwrap()])
        .status
        .success());
    wait_until(
        "the daemon to reload the prices",
        || daemon.run_log().contains("Prices reloaded"),
        || daemon.log_text(),
    );
    let line = million_tokens("after", "claude-haiku-4-5");
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    assert_eq!(cost_of(&home, "after"), (3.0, "update".to_string()));
    assert_eq!(cost_of(&home, "before").0, before);

    // A layer that does not load keeps the table in force, and says why.
    std::fs::write(layer(&home), "[models.broken\n").unwrap();
    wait_until(
        "the daemon to refuse the broken layer",
        || daemon.run_log().contains("prices not reloaded"),
        || daemon.log_text(),
    );
    let line = million_tokens("still", "claude-haiku-4-5");
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    assert_eq!(cost_of(&home, "still").0, 3.0);
    drop(daemon);
}

#[test]
fn auto_update_daily_downloads_then_asks_conditionally() {
    let home = Home::new();
    let server = PriceServer::start(haiku_at_3());
    home.write_config(&format!(
        "[pricing]\nauto_update = \"daily\"\nupdate_url = \"{}\"\n",
        server.url
    ));
    // The interval shortened to a second: the test-only variable.
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_PRICING_UPDATE_SECS", "1");
    });
    wait_until(
        "a conditional second request",
        || {
            server
                .requests()
                .get(1)
                .is_some_and(|r| r.to_ascii_lowercase().contains("if-none-match"))
        },
        || daemon.log_text(),
    );
    assert!(daemon.run_log().contains("Price update written."));
    wait_until(
        "the daemon to reload the prices",
        || daemon.run_log().contains("Prices reloaded"),
        || daemon.log_text(),
    );
    let mut client = daemon.connect();
    let line = million_tokens("auto", "claude-haiku-4-5");
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    assert_eq!(cost_of(&home, "auto"), (3.0, "update".to_string()));

    // A failing server leaves the prices in force and is logged.
    *server.body.lock().unwrap() = "not json".into();
    wait_until(
        "the failed update to be logged",
        || daemon.run_log().contains("Price update failed"),
        || daemon.log_text(),
    );
    let line = million_tokens("after-failure", "claude-haiku-4-5");
    assert_eq!(client.roundtrip(line.as_bytes())["records"], 1);
    assert_eq!(cost_of(&home, "after-failure").0, 3.0);
    drop(daemon);
}

#[test]
fn doctor_warns_about_prices_older_than_sixty_days_and_not_after_an_update() {
    let home = Home::new();
    let prices = |home: &Home| -> Value {
        let out = home
            .command()
            .current_dir(home.path())
            .args(["doctor", "--json"])
            .output()
            .unwrap();
        let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "prices")
            .unwrap()
            .clone()
    };
    let built_in: jiff::civil::Date = {
        let out = home.command().args(["pricing", "list"]).output().unwrap();
        let said = text(&out.stdout);
        said.split("built-in table as of ")
            .nth(1)
            .unwrap()
            .get(..10)
            .unwrap()
            .parse()
            .unwrap()
    };
    let age = built_in
        .until(jiff::Zoned::now().date())
        .unwrap()
        .get_days();
    let finding = prices(&home);
    if age > 60 {
        assert_eq!(finding["status"], "warn", "{finding}");
        assert!(finding["fix"]
            .as_str()
            .unwrap()
            .contains("hookmeter pricing update"));
    } else {
        assert_eq!(finding["status"], "ok", "{finding}");
    }

    let file = write(&home, "prices.json", &haiku_at_3());
    assert!(update(&home, &["--file", file.to_str().unwrap()])
        .status
        .success());
    let finding = prices(&home);
    assert_eq!(finding["status"], "ok", "{finding}");
    assert!(finding["finding"]
        .as_str()
        .unwrap()
        .contains("pricing-update.toml"));
}
