//! `hookmeter doctor`'s `claude.retention` check through the real binary on
//! a temp HOME: Claude Code's `cleanupPeriodDays` against transcripts whose
//! modification times are set days back, before and after `hookmeter
//! import` reads them.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::Value;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A copy of the fixture transcript at `projects/-home-dev-shop/NAME`,
/// last modified `days` ago.
fn transcript(home: &Home, name: &str, days: u32) -> PathBuf {
    let dir = home.path().join(".claude/projects/-home-dev-shop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        &path,
    )
    .unwrap();
    set_age(&path, days);
    path
}

fn set_age(path: &Path, days: u32) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - DAY * days).unwrap();
}

fn cleanup_period(home: &Home, value: &str) {
    let dir = home.path().join(".claude");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("settings.json"),
        format!("{{\"cleanupPeriodDays\": {value}}}"),
    )
    .unwrap();
}

/// doctor's `claude.retention` finding (run from the temp home, so no
/// project settings of this checkout are read).
fn retention(home: &Home) -> Value {
    let out = home
        .command()
        .current_dir(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let findings: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let checks: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    let watch = checks.iter().position(|c| *c == "watch").unwrap();
    assert_eq!(checks[watch + 1], "claude.retention", "{checks:?}");
    findings[watch + 1].clone()
}

#[test]
fn unread_transcripts_near_deletion_warn_until_imported() {
    let home = Home::new();
    cleanup_period(&home, "10");
    let old = transcript(&home, "s-session-1.jsonl", 9);
    transcript(&home, "fresh.jsonl", 0);

    let finding = retention(&home);
    assert_eq!(finding["status"], "warn", "{finding:#}");
    let text = finding["finding"].as_str().unwrap();
    assert!(
        text.contains("after 10 days (cleanupPeriodDays in "),
        "{text}"
    );
    assert!(text.contains("1 transcript(s)"), "{text}");
    assert!(
        text.contains(&format!("{} (9 days, not read)", old.display())),
        "{text}"
    );
    let fix = finding["fix"].as_str().unwrap();
    assert!(
        fix.contains("hookmeter import --agent claude-code"),
        "{fix}"
    );
    assert!(fix.contains("cleanupPeriodDays"), "{fix}");

    // `import` keeps no offsets: the session's records say it was read.
    succeed(home.command().args(["import", "--agent", "claude-code"]));
    set_age(&old, 9);
    let finding = retention(&home);
    assert_eq!(finding["status"], "ok", "{finding:#}");
    assert!(finding["fix"].is_null());

    // Another old transcript, of a session the database does not know.
    transcript(&home, "s-session-2.jsonl", 8);
    let finding = retention(&home);
    assert_eq!(finding["status"], "warn", "{finding:#}");
    assert!(finding["finding"]
        .as_str()
        .unwrap()
        .contains("s-session-2.jsonl (8 days"));
}

#[test]
fn the_default_keeps_thirty_days_and_says_so() {
    let home = Home::new();
    transcript(&home, "s-session-1.jsonl", 20);
    let finding = retention(&home);
    assert_eq!(finding["status"], "ok", "{finding:#}");
    let text = finding["finding"].as_str().unwrap();
    assert!(
        text.contains("after 30 days (Claude Code's default"),
        "{text}"
    );
    assert!(
        text.contains("none of the 1 under the watched roots"),
        "{text}"
    );
}

#[test]
fn a_short_period_without_the_daemon_warns() {
    let home = Home::new();
    cleanup_period(&home, "5");
    let finding = retention(&home);
    assert_eq!(finding["status"], "warn", "{finding:#}");
    let text = finding["finding"].as_str().unwrap();
    assert!(
        text.contains("after 5 days") && text.contains("the daemon is not running"),
        "{text}"
    );
}

#[test]
fn zero_is_not_a_period_claude_code_takes() {
    let home = Home::new();
    cleanup_period(&home, "0");
    transcript(&home, "s-session-1.jsonl", 400);
    let finding = retention(&home);
    assert_eq!(finding["status"], "warn", "{finding:#}");
    assert!(finding["finding"]
        .as_str()
        .unwrap()
        .contains("cleanupPeriodDays is 0"));
    assert!(finding["fix"].as_str().unwrap().contains("settings.json"));
}
