//! `hookmeter statusline` (docs/cli.md#hookmeter-statusline) through the
//! binary: the line for each input shape in tests/fixtures/statusline, the
//! budget's colors at 79, 80 and 100 %, `--plain`, every failure path
//! (exit 0 and a line), the handoff of Claude Code's own figures through
//! the spool into `plan_usage` and `session_reported_costs`, once per
//! change; and `install-hooks --statusline` on a temp HOME.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::common;
use common::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("statusline").join(name)).unwrap()
}

fn run(home: &Home, stdin: &[u8], args: &[&str]) -> Output {
    let mut child = home
        .command()
        .arg("statusline")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The line, which must come with exit 0 and be one line.
fn line(home: &Home, stdin: &[u8], args: &[&str]) -> String {
    let out = run(home, stdin, args);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches('\n').count(), 1, "{text:?}");
    text.trim_end().to_string()
}

/// A PostToolUse event of `session` that states its own cost (a tool's
/// cost, no tokens): the record costs exactly `usd`.
fn spend(home: &Home, session: &str, id: &str, usd: f64) {
    let payload = serde_json::json!({
        "hook_event_name": "PostToolUse", "session_id": session, "tool_name": "Bash",
        "tool_use_id": id, "cost_usd": usd, "service": "tool",
    });
    let out = home.send(payload.to_string().as_bytes(), &["--agent", "claude-code"]);
    assert!(out.status.success(), "{out:?}");
}

fn has_escape(text: &str) -> bool {
    text.contains('\x1b')
}

#[test]
fn without_a_database_the_line_has_claude_codes_figures_and_says_so() {
    let home = Home::new();
    let subscriber = line(&home, &fixture("subscriber.json"), &["--plain"]);
    assert_eq!(
        subscriber,
        "Opus session $0.42 (Claude Code) 5h 24% 7d 81% (hookmeter: no database)"
    );
    let api_key = line(&home, &fixture("api_key.json"), &["--plain"]);
    assert_eq!(
        api_key,
        "Sonnet 4.5 session $0.01 (Claude Code) (hookmeter: no database)"
    );
    // Captured from the pinned Claude Code: on start, and after a reply.
    let startup = line(&home, &fixture("claude-2.1.197-startup.json"), &[]);
    assert_eq!(
        startup,
        "Opus 4.8 (1M context) session $0.00 (Claude Code) (hookmeter: no database)"
    );
    let reply = line(&home, &fixture("claude-2.1.197-api-key-reply.json"), &[]);
    assert_eq!(
        reply,
        "Opus 4.8 (1M context) session $0.0070 (Claude Code) (hookmeter: no database)"
    );
    let first = line(&home, &fixture("first_message.json"), &[]);
    assert_eq!(first, "Haiku 4.5 (hookmeter: no database)");
    assert!(
        !home.db_path().exists(),
        "the statusline never creates the database"
    );
}

#[test]
fn garbage_empty_or_cut_input_prints_that_there_is_none() {
    let home = Home::new();
    for input in [
        &b""[..],
        b"not json",
        b"[1,2]",
        b"{\"session_id\": \"s",
        &[0xff, 0xfe],
    ] {
        assert_eq!(line(&home, input, &[]), "hookmeter: no status input");
    }
}

#[test]
fn a_broken_locked_or_newer_database_or_a_broken_config_still_prints_a_line() {
    let home = Home::new();
    std::fs::create_dir_all(home.db_path().parent().unwrap()).unwrap();
    std::fs::write(
        home.db_path(),
        b"this is not a database at all, but it is long enough",
    )
    .unwrap();
    let broken = line(&home, &fixture("subscriber.json"), &["--plain"]);
    assert!(
        broken.starts_with("Opus session $0.42 (Claude Code)"),
        "{broken}"
    );
    assert!(broken.contains("(hookmeter: "), "{broken}");

    std::fs::remove_file(home.db_path()).unwrap();
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 999;")
        .unwrap();
    drop(conn);
    let newer = line(&home, &fixture("api_key.json"), &["--plain"]);
    assert!(newer.contains("schema version 999"), "{newer}");
    assert!(
        newer.starts_with("Sonnet 4.5 session $0.01 (Claude Code)"),
        "{newer}"
    );

    // A database of this schema that another connection holds locked: the
    // line waits a few milliseconds, then prints without hookmeter's figures.
    std::fs::remove_file(home.db_path()).unwrap();
    let holder = rusqlite::Connection::open(home.db_path()).unwrap();
    let schema =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.sql")).unwrap();
    let version = schema
        .lines()
        .next()
        .and_then(|l| l.split("version ").nth(1))
        .and_then(|v| v.trim_end_matches('.').split('.').next())
        .unwrap()
        .to_string();
    holder.execute_batch(&schema).unwrap();
    holder
        .execute_batch(&format!(
            "PRAGMA user_version = {version}; BEGIN EXCLUSIVE;"
        ))
        .unwrap();
    let locked = line(&home, &fixture("subscriber.json"), &["--plain"]);
    assert!(
        locked.starts_with("Opus session $0.42 (Claude Code)"),
        "{locked}"
    );
    assert!(locked.contains("locked"), "{locked}");
    holder.execute_batch("COMMIT").unwrap();
    let unlocked = line(&home, &fixture("subscriber.json"), &["--plain"]);
    assert_eq!(
        unlocked,
        "Opus session $0.00 today $0.00 5h 24% 7d 81% $0.00/h"
    );
    drop(holder);

    home.write_config("this = is [not toml");
    let config = line(&home, &fixture("api_key.json"), &["--plain"]);
    assert!(config.starts_with("Sonnet 4.5"), "{config}");
}

#[test]
fn figures_come_from_the_database_and_the_format_is_the_users() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    spend(&home, "sl-subscriber-1", "t1", 1.25);
    spend(&home, "other-session", "t2", 2.0);
    wait_until(
        "two records",
        || home.count("SELECT count(*) FROM cost_records") == 2,
        || daemon.log_text(),
    );
    let plain = line(&home, &fixture("subscriber.json"), &["--plain"]);
    assert_eq!(
        plain,
        "Opus session $1.25 today $3.25 5h 24% 7d 81% $3.25/h"
    );
    let colored = line(&home, &fixture("subscriber.json"), &[]);
    assert!(colored.contains("\x1b[33m7d 81%\x1b[0m"), "{colored:?}");
    assert!(!colored.contains("\x1b[33m5h"), "{colored:?}");

    let api_key = line(&home, &fixture("api_key.json"), &["--plain"]);
    assert_eq!(api_key, "Sonnet 4.5 session $0.00 today $3.25 $3.25/h");

    let once = line(
        &home,
        &fixture("subscriber.json"),
        &[
            "--plain",
            "--format",
            "{model}: {reported_cost} vs {session_cost}, {five_hour}/{seven_day} {what}",
        ],
    );
    assert_eq!(once, "Opus: $0.42 vs session $1.25, 24%/81% {what}");
    home.write_config(&format!(
        "{HOOKS_ONLY}[statusline]\nformat = \"[{{model}}] {{today}}\"\n"
    ));
    assert_eq!(
        line(&home, &fixture("subscriber.json"), &[]),
        "[Opus] today $3.25"
    );
}

#[test]
fn the_tightest_budget_turns_yellow_at_80_and_red_at_100_percent() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    spend(&home, "sl-api-key-1", "t1", 1.0);
    wait_until(
        "the record",
        || home.count("SELECT count(*) FROM cost_records") == 1,
        || daemon.log_text(),
    );
    // Spent $1.00; the limits make it 79 %, 80 % and 100 %. A looser
    // budget beside it is never the one shown.
    succeed(home.command().args(["budget", "set", "--weekly", "100"]));
    for (limit, shown, color) in [
        ("1.2658", "budget daily 79%", None),
        ("1.25", "budget daily 80%", Some("33")),
        ("1", "budget daily 100%", Some("31")),
    ] {
        succeed(home.command().args(["budget", "set", "--daily", limit]));
        let colored = line(&home, &fixture("api_key.json"), &["--format", "{budget}"]);
        match color {
            None => assert_eq!(colored, shown),
            Some(code) => assert_eq!(colored, format!("\x1b[{code}m{shown}\x1b[0m")),
        }
        let plain = line(
            &home,
            &fixture("api_key.json"),
            &["--plain", "--format", "{budget}"],
        );
        assert_eq!(plain, shown);
        let whole = line(&home, &fixture("subscriber.json"), &["--plain"]);
        assert!(!has_escape(&whole), "{whole:?}");
    }
}

#[test]
fn claude_codes_figures_reach_the_database_once_per_change() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    // No daemon yet: the handoff goes to the spool, and the line does not wait.
    let input = fixture("subscriber.json");
    line(&home, &input, &[]);
    line(&home, &input, &[]);
    assert_eq!(home.spool_files().len(), 1, "{:?}", home.spool_files());
    // The same session with a new total: handed over again; the plan's use
    // did not change, so it adds no plan row.
    let mut changed: serde_json::Value = serde_json::from_slice(&input).unwrap();
    changed["cost"]["total_cost_usd"] = serde_json::json!(0.75);
    let changed = changed.to_string().into_bytes();
    line(&home, &changed, &[]);
    line(&home, &changed, &[]);
    assert_eq!(home.spool_files().len(), 2, "{:?}", home.spool_files());
    // API-key users report no plan use: only the total (the captured
    // input of the real Claude Code too).
    line(&home, &fixture("api_key.json"), &[]);
    line(&home, &fixture("claude-2.1.197-api-key-reply.json"), &[]);
    assert_eq!(home.spool_files().len(), 4);

    let daemon = home.start();
    spend(&home, "sl-subscriber-1", "t1", 1.0);
    wait_until(
        "the spool drained into the tables",
        || {
            home.spool_files().is_empty()
                && home.db_path().exists()
                && home.count("SELECT count(*) FROM session_reported_costs") == 3
                && home.count("SELECT count(*) FROM cost_records") == 1
        },
        || daemon.log_text(),
    );
    let conn = home.db();
    let plan: Vec<(String, f64, String, String)> = conn
        .prepare("SELECT window, used_pct, resets_at, agent_id FROM plan_usage ORDER BY window")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        plan,
        vec![
            (
                "five_hour".into(),
                23.5,
                "2027-01-15T08:00:00.000Z".into(),
                "claude-code".into()
            ),
            (
                "seven_day".into(),
                81.2,
                "2027-01-19T23:06:40.000Z".into(),
                "claude-code".into()
            ),
        ]
    );
    let total: f64 = conn
        .query_row(
            "SELECT total_cost_usd FROM session_reported_costs WHERE session_id = 'sl-subscriber-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_cost(total, 0.75, "the latest statusline total");
    assert_eq!(
        home.count("SELECT count(*) FROM cost_records WHERE session_id = 'sl-api-key-1'"),
        0,
        "a statusline event is never a cost record"
    );

    // The same figures again, daemon running: nothing handed over.
    line(&home, &changed, &[]);
    assert!(home.spool_files().is_empty(), "{:?}", home.spool_files());

    // reconcile shows the statusline total beside hookmeter's.
    let answer: serde_json::Value = serde_json::from_str(&succeed(home.command().args([
        "reconcile",
        "--period",
        "all",
        "--json",
    ])))
    .unwrap();
    let session = answer["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == "sl-subscriber-1")
        .unwrap_or_else(|| panic!("{answer:#}"));
    assert_eq!(session["statusline_cost_usd"], 0.75);
    let table = succeed(
        home.command()
            .args(["reconcile", "--period", "all", "--tz", "UTC"]),
    );
    assert!(
        table.contains("statusline total $0.75, hookmeter's $1.00"),
        "{table}"
    );
}

#[test]
fn install_hooks_statusline_sets_keeps_forces_and_removes() {
    let home = Home::new();
    let settings = home.path().join(".claude/settings.json");
    let install = |args: &[&str]| {
        let mut cmd = home.command();
        cmd.args(["install-hooks", "--statusline"]).args(args);
        succeed(&mut cmd)
    };
    let dry = install(&["--dry-run"]);
    assert!(
        dry.contains("+++ ") && dry.contains("statusline\""),
        "{dry}"
    );
    assert!(!settings.exists());

    let mut users = serde_json::json!({"statusLine": {"type": "command", "command": "~/bin/mine.sh"}, "model": "opus"});
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, serde_json::to_vec_pretty(&users).unwrap()).unwrap();
    let kept = install(&[]);
    assert!(kept.contains("kept") && kept.contains("--force"), "{kept}");
    assert_eq!(read_json(&settings), users);

    let forced = install(&["--force"]);
    assert!(
        forced.contains("-    \"command\": \"~/bin/mine.sh\""),
        "{forced}"
    );
    assert!(forced.contains("The previous file is saved as"), "{forced}");
    let now = read_json(&settings);
    let command = now["statusLine"]["command"].as_str().unwrap();
    assert!(command.ends_with("hookmeter statusline"), "{command}");
    assert_eq!(now["statusLine"]["type"], "command");
    assert_eq!(now["model"], "opus");
    assert!(install(&[]).contains("nothing changed"));

    let removed = install(&["--remove"]);
    assert!(removed.contains("removed"), "{removed}");
    users.as_object_mut().unwrap().remove("statusLine");
    assert_eq!(read_json(&settings), users);
    let backups = std::fs::read_dir(settings.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("hookmeter-backup")
        })
        .count();
    assert!(backups >= 2, "each change is backed up");
}
