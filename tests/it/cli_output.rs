//! What people read: `today`, `report`, `sessions`, `sessions ID`, `budget
//! status` and `tail` as text, at 80 and 200 columns and in two time zones,
//! against records stored through the real daemon at fixed times. The
//! snapshots (tests/it/snapshots/it__cli_output__*.snap) were read for alignment,
//! zones and money, not just accepted; the assertions here hold what a
//! snapshot alone would let slip (widths, order, the zone of "today").

use crate::common;

use common::*;
use serde_json::json;

/// One stored event.
struct Event {
    /// `None`: it happens now (the daemon stamps it).
    at: Option<&'static str>,
    session: &'static str,
    agent: &'static str,
    model: &'static str,
    task: Option<&'static str>,
    tool: &'static str,
    input: u64,
    output: u64,
    cache_read: u64,
}

/// Two November days, sent out of time order (the last one sent is the
/// earliest), with a long agent name, long session ids, a long model name
/// and amounts from a fraction of a cent to dollars.
const NOVEMBER: &[Event] = &[
    Event {
        at: Some("2026-11-03T13:05:10Z"),
        session: "4f1c2d3e-aaaa-4bbb-8ccc-000000000001",
        agent: "claude-code",
        model: "claude-sonnet-4-5",
        task: Some("T-1"),
        tool: "Read",
        input: 1200,
        output: 340,
        cache_read: 20_000,
    },
    Event {
        at: Some("2026-11-03T13:45:00Z"),
        session: "4f1c2d3e-aaaa-4bbb-8ccc-000000000001",
        agent: "claude-code",
        model: "claude-haiku-4-5",
        task: Some("T-1"),
        tool: "Bash",
        input: 5000,
        output: 100,
        cache_read: 0,
    },
    // 23:30 UTC is already the 4th in Kolkata (UTC+05:30).
    Event {
        at: Some("2026-11-03T23:30:00Z"),
        session: "4f1c2d3e-aaaa-4bbb-8ccc-000000000002",
        agent: "reviewer-agent-with-a-long-name",
        model: "claude-sonnet-4-5-20250929",
        task: None,
        tool: "Edit",
        input: 150_000,
        output: 12_000,
        cache_read: 400_000,
    },
    // 04:59:59 UTC is still the 3rd in New York (UTC-05:00).
    Event {
        at: Some("2026-11-04T04:59:59Z"),
        session: "4f1c2d3e-aaaa-4bbb-8ccc-000000000002",
        agent: "reviewer-agent-with-a-long-name",
        model: "gpt-5",
        task: None,
        tool: "Grep",
        input: 42,
        output: 7,
        cache_read: 0,
    },
    Event {
        at: Some("2026-11-04T18:20:00Z"),
        session: "s-short",
        agent: "codex",
        model: "gpt-5",
        task: Some("T-2"),
        tool: "Edit",
        input: 20_000,
        output: 3000,
        cache_read: 0,
    },
    Event {
        at: Some("2026-11-02T10:00:00Z"),
        session: "s-short",
        agent: "codex",
        model: "gpt-5",
        task: Some("T-2"),
        tool: "Read",
        input: 800,
        output: 50,
        cache_read: 0,
    },
];

/// Today's records: stamped by the daemon as they arrive.
const TODAY: &[Event] = &[
    Event {
        at: None,
        session: "s-today",
        agent: "claude-code",
        model: "claude-sonnet-4-5",
        task: Some("T-9"),
        tool: "Read",
        input: 3000,
        output: 400,
        cache_read: 12_000,
    },
    Event {
        at: None,
        session: "s-today",
        agent: "claude-code",
        model: "claude-haiku-4-5",
        task: Some("T-9"),
        tool: "Bash",
        input: 900,
        output: 60,
        cache_read: 0,
    },
];

const ZONES: [&str; 2] = ["America/New_York", "Asia/Kolkata"];
const WIDTHS: [usize; 2] = [80, 200];

fn envelope(event: &Event, n: usize) -> String {
    let mut payload = json!({
        "hook_event_name": "PostToolUse",
        "event_id": format!("out-{n}"),
        "session_id": event.session,
        "cwd": "/w/shop",
        "tool_name": event.tool,
        "model": event.model,
        "usage": {
            "input_tokens": event.input,
            "output_tokens": event.output,
            "cache_read_input_tokens": event.cache_read,
        },
    });
    if let Some(at) = event.at {
        payload["timestamp"] = json!(at);
    }
    let mut env = json!({"hookmeter": 1, "agent_id": event.agent, "payload": payload});
    if let Some(task) = event.task {
        env["task_id"] = json!(task);
    }
    env.to_string()
}

/// A database holding `events`, stored through the daemon (stopped again).
fn stored(events: &[Event]) -> Home {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    for (n, event) in events.iter().enumerate() {
        let ack = client.roundtrip(envelope(event, n).as_bytes());
        assert_eq!(ack["ok"], true, "event {n}: {ack}");
    }
    assert!(daemon.stop().success());
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records"),
        events.len() as i64
    );
    home
}

/// `args` at `columns` columns, in `tz`.
fn shown(home: &Home, args: &[&str], tz: &str, columns: usize) -> String {
    let mut cmd = home.command();
    cmd.args(args)
        .args(["--tz", tz])
        .env("COLUMNS", columns.to_string());
    succeed(&mut cmd)
}

/// Every line fits `columns`.
fn assert_fits(text: &str, columns: usize, what: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= columns,
            "{what}: {} > {columns} columns: {line:?}\n{text}",
            line.chars().count()
        );
    }
}

/// The snapshot name of a command's output in a zone at a width.
fn name(command: &str, tz: &str, columns: usize) -> String {
    format!("{command}_{}_{columns}", tz.replace('/', "_"))
}

#[test]
fn report_sessions_and_tail_at_two_widths_in_two_zones() {
    let home = stored(NOVEMBER);
    let month = ["--since", "2026-11-01", "--until", "2026-11-30"];
    for tz in ZONES {
        for columns in WIDTHS {
            let by_model = shown(
                &home,
                &[&["report", "--by", "model"][..], &month].concat(),
                tz,
                columns,
            );
            assert!(
                by_model.starts_with(&format!("2026-11-01 → 2026-11-30 (whole days, {tz})\n")),
                "{by_model}"
            );
            assert_fits(&by_model, columns, "report --by model");
            insta::assert_snapshot!(name("report_by_model", tz, columns), by_model);

            let by_hour = shown(
                &home,
                &[
                    "report",
                    "--by",
                    "hour",
                    "--since",
                    "2026-11-03",
                    "--until",
                    "2026-11-04",
                ],
                tz,
                columns,
            );
            let offset = if tz == "Asia/Kolkata" {
                "+05:30"
            } else {
                "-05:00"
            };
            assert!(
                by_hour.contains(&format!("\ntimes in {tz} (UTC{offset})\nhour ")),
                "the hours' zone above them: {by_hour}"
            );
            assert_fits(&by_hour, columns, "report --by hour");
            insta::assert_snapshot!(name("report_by_hour", tz, columns), by_hour);

            let sessions = shown(&home, &["sessions"], tz, columns);
            assert_fits(&sessions, columns, "sessions");
            insta::assert_snapshot!(name("sessions", tz, columns), sessions);

            let one = shown(
                &home,
                &["sessions", "4f1c2d3e-aaaa-4bbb-8ccc-000000000002"],
                tz,
                columns,
            );
            assert!(
                one.starts_with("session 4f1c2d3e-aaaa-4bbb-8ccc-000000000002\n"),
                "the full id: {one}"
            );
            assert_fits(&one, columns, "sessions ID");
            insta::assert_snapshot!(name("session", tz, columns), one);

            let tail = shown(&home, &["tail"], tz, columns);
            assert_fits(&tail, columns, "tail");
            insta::assert_snapshot!(name("tail", tz, columns), tail);
        }
    }
}

#[test]
fn report_by_day_moves_records_to_the_local_day() {
    let home = stored(NOVEMBER);
    let days = |tz: &str| {
        shown(
            &home,
            &[
                "report",
                "--by",
                "day",
                "--since",
                "2026-11-01",
                "--until",
                "2026-11-30",
            ],
            tz,
            200,
        )
    };
    insta::assert_snapshot!("report_by_day_America_New_York", days("America/New_York"));
    insta::assert_snapshot!("report_by_day_Asia_Kolkata", days("Asia/Kolkata"));
}

#[test]
fn tail_prints_in_time_order_with_aligned_columns() {
    let home = stored(NOVEMBER);
    let tail = shown(&home, &["tail", "-n", "6"], "UTC", 200);
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 1 + NOVEMBER.len(), "{tail}");
    let times: Vec<&str> = lines[1..].iter().map(|l| &l[..26]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "time order, not arrival: {tail}");
    assert_eq!(
        times[0], "2026-11-02 10:00:00 +00:00",
        "the last sent is the earliest"
    );
    // Every cost ends in the column where the header's "cost" ends.
    let cost_end = lines[0].find("cost").unwrap() + "cost".len() - 1;
    for line in &lines[1..] {
        let last = line.chars().nth(cost_end).unwrap();
        assert!(last.is_ascii_digit(), "{cost_end}: {line}");
    }
    // -n picks the latest by time.
    let latest = shown(&home, &["tail", "-n", "1"], "UTC", 200);
    assert!(latest.contains("2026-11-04 18:20:00 +00:00"), "{latest}");
    // --json keeps its shape: one object per line, RFC 3339 UTC, by id.
    let json = shown(&home, &["tail", "-n", "2", "--json"], "Asia/Kolkata", 80);
    let stamps: Vec<String> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamp"].to_string())
        .collect();
    assert_eq!(
        stamps,
        [
            "\"2026-11-04T18:20:00.000Z\"",
            "\"2026-11-02T10:00:00.000Z\""
        ]
    );
}

#[test]
fn today_and_budget_status_at_two_widths_in_two_zones() {
    let home = stored(TODAY);
    for args in [
        &["--daily", "1"][..],
        &["--total", "0.05", "--scope", "task:T-9"],
    ] {
        succeed(home.command().args(["budget", "set"]).args(args));
    }
    for tz in ZONES {
        let zone = jiff::tz::TimeZone::get(tz).unwrap();
        let midnight = jiff::Zoned::now()
            .with_time_zone(zone)
            .start_of_day()
            .unwrap();
        let start = midnight.strftime("%Y-%m-%d %H:%M %:z").to_string();
        let next = midnight
            .tomorrow()
            .unwrap()
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        let offset = midnight.tomorrow().unwrap().strftime("%:z").to_string();
        for columns in WIDTHS {
            let today = shown(&home, &["today"], tz, columns);
            let period = format!("today: {start} → now ({tz})\n");
            assert!(today.starts_with(&period), "{today}");
            assert_fits(&today, columns, "today");
            insta::assert_snapshot!(
                name("today", tz, columns),
                today.replacen(
                    &period,
                    "today: XXXX-XX-XX 00:00 [offset] → now (ZONE)\n",
                    1
                )
            );

            let status = shown(&home, &["budget", "status"], tz, columns);
            let note = format!("times in {tz} (UTC{offset})\n");
            assert!(status.starts_with(&note), "{status}");
            assert!(
                status.contains(&next),
                "the next midnight in {tz}: {status}"
            );
            assert_fits(&status, columns, "budget status");
            insta::assert_snapshot!(
                name("budget_status", tz, columns),
                status
                    .replacen(&note, "times in ZONE (UTC[offset])\n", 1)
                    .replace(&next, "XXXX-XX-XX 00:00")
            );
        }
    }
}
