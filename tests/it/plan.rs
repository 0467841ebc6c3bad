//! Plan limits as data: Codex rollouts' `rate_limits` into `plan_usage`,
//! live and by import, a row only when a window's use changed, and read
//! again from the same lines adds nothing.

use std::path::{Path, PathBuf};

use crate::codex::copy_tree;
use crate::common::*;

/// The `rate_limits` the real 0.171 rollouts carry when the API sends no
/// `x-codex-*` headers (the mock sends none).
const NO_LIMITS: &str = r#""primary":null,"secondary":null"#;

/// Five-hour and weekly use per `token_count` line of the resume
/// scenario's parent rollout (four lines): the second repeats the first,
/// the fourth comes after the five-hour window's reset.
const USE: [(f64, i64, f64); 4] = [
    (10.0, 1_796_570_000, 3.0),
    (10.0, 1_796_570_000, 3.0),
    (25.0, 1_796_570_000, 3.0),
    (5.0, 1_796_588_000, 4.0),
];

/// The parent rollout of the resume scenario with [`USE`] written into its
/// `rate_limits`, as Codex writes them when its API sends the headers.
pub(crate) fn rollout_with_limits() -> (PathBuf, String) {
    let root = fixtures().join("codex/real/resume/sessions");
    let relative = Path::new("2026/12/06")
        .join("rollout-2026-12-06T13-14-48-01a24b7e-2794-7e72-ae24-2df9645b327b.jsonl");
    let text = std::fs::read_to_string(root.join(&relative)).unwrap();
    let mut parts = text.split(NO_LIMITS);
    let mut out = parts.next().unwrap().to_owned();
    for (i, part) in parts.enumerate() {
        let (five, resets, seven) = USE[i];
        out.push_str(&format!(
            r#""primary":{{"used_percent":{five},"window_minutes":300,"resets_at":{resets}}},"secondary":{{"used_percent":{seven},"window_minutes":10080,"resets_at":1797000000}}"#
        ));
        out.push_str(part);
    }
    assert_eq!(text.matches(NO_LIMITS).count(), USE.len());
    (relative, out)
}

/// `plan_usage` as (window, used_pct, resets_at, source, agent), in time order.
fn plan_rows(home: &Home) -> Vec<(String, f64, String, String, String)> {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT window, used_pct, resets_at, source, agent_id FROM plan_usage
             ORDER BY window, observed_at, id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn expected() -> Vec<(String, f64, String, String, String)> {
    let row = |w: &str, pct: f64, at: &str| {
        (
            w.to_owned(),
            pct,
            at.to_owned(),
            "codex_rollout".to_owned(),
            "codex".to_owned(),
        )
    };
    vec![
        row("five_hour", 10.0, "2026-12-06T15:13:20.000Z"),
        row("five_hour", 25.0, "2026-12-06T15:13:20.000Z"),
        row("five_hour", 5.0, "2026-12-06T20:13:20.000Z"),
        row("seven_day", 3.0, "2026-12-11T14:40:00.000Z"),
        row("seven_day", 4.0, "2026-12-11T14:40:00.000Z"),
    ]
}

#[test]
fn codex_rate_limits_are_followed_live_once_per_change_and_a_restart_or_import_adds_nothing() {
    let home = Home::new();
    let (relative, text) = rollout_with_limits();
    let path = home.path().join(".codex/sessions").join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let daemon = home.start();
    std::fs::write(&path, &text).unwrap();
    wait_until(
        "the rollout's plan use",
        || home.count("SELECT count(*) FROM cost_records") == 4,
        || daemon.log_text(),
    );
    assert_eq!(plan_rows(&home), expected());
    assert_eq!(daemon.stop().code(), Some(0));

    // Read again from the start (the offset forgotten), and imported.
    rusqlite::Connection::open(home.db_path())
        .unwrap()
        .execute("DELETE FROM transcript_offsets", [])
        .unwrap();
    let daemon = home.start();
    wait_until(
        "the rollout read again",
        || home.count("SELECT count(*) FROM transcript_offsets") == 1,
        || daemon.log_text(),
    );
    assert_eq!(daemon.stop().code(), Some(0));
    succeed(home.command().args(["import", "--agent", "codex"]));
    assert_eq!(plan_rows(&home), expected());
}

#[test]
fn imported_codex_rate_limits_equal_the_live_ones_and_a_second_import_adds_nothing() {
    let home = Home::new();
    let (relative, text) = rollout_with_limits();
    let codex = home.path().join("codex-home");
    let path = codex.join("sessions").join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    // The rest of the captured rollouts, whose `rate_limits` are nulls.
    copy_tree(
        &fixtures().join("codex/real/text/sessions"),
        &codex.join("sessions"),
    );
    for _ in 0..2 {
        succeed(
            home.command()
                .env("CODEX_HOME", &codex)
                .args(["import", "--agent", "codex"]),
        );
        assert_eq!(plan_rows(&home), expected());
    }
}

#[test]
fn metrics_show_each_agents_latest_plan_use_and_reset_time() {
    let home = Home::new();
    let (relative, text) = rollout_with_limits();
    let path = home.path().join(".codex/sessions").join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let daemon = home.start();
    wait_until(
        "the rollout's plan use",
        || home.count("SELECT count(*) FROM plan_usage") == 5,
        || daemon.log_text(),
    );
    let addr = daemon.http();
    let five = r#"{agent="codex",window="five_hour"}"#;
    let seven = r#"{agent="codex",window="seven_day"}"#;
    assert_eq!(
        metric(addr, &format!("hookmeter_plan_used_ratio{five}")),
        Some(0.05)
    );
    assert_eq!(
        metric(addr, &format!("hookmeter_plan_used_ratio{seven}")),
        Some(0.04)
    );
    assert_eq!(
        metric(
            addr,
            &format!("hookmeter_plan_resets_at_timestamp_seconds{five}")
        ),
        Some(1_796_588_000.0)
    );
    assert_eq!(
        metric(
            addr,
            &format!("hookmeter_plan_resets_at_timestamp_seconds{seven}")
        ),
        Some(1_797_000_000.0)
    );
    assert_eq!(daemon.stop().code(), Some(0));
}

/// `hookmeter statusline` fed Claude Code's input, as Claude Code runs it.
fn statusline(home: &Home, input: &[u8]) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = home
        .command()
        .arg("statusline")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
}

#[test]
fn report_plan_shows_claude_codes_statusline_and_codexs_rollouts_side_by_side() {
    let home = Home::new();
    // Claude Code's handoff waits in the spool; the Codex rollout is imported.
    let input = std::fs::read(fixtures().join("statusline/subscriber.json")).unwrap();
    statusline(&home, &input);
    let (relative, text) = rollout_with_limits();
    let codex = home.path().join("codex-home");
    let path = codex.join("sessions").join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    wait_until(
        "the spool drained",
        || home.db_path().exists() && home.count("SELECT count(*) FROM plan_usage") == 2,
        || daemon.log_text(),
    );
    succeed(
        home.command()
            .env("CODEX_HOME", &codex)
            .args(["import", "--agent", "codex"]),
    );
    assert_eq!(home.count("SELECT count(*) FROM plan_usage"), 7);

    let json: serde_json::Value = serde_json::from_str(&succeed(
        home.command().args(["report", "--plan", "--json"]),
    ))
    .unwrap();
    let plan = json["plan"].as_array().unwrap();
    let found: Vec<(&str, &str, f64, &str)> = plan
        .iter()
        .map(|c| {
            (
                c["agent"].as_str().unwrap(),
                c["window"].as_str().unwrap(),
                c["used_pct"].as_f64().unwrap(),
                c["resets_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("claude-code", "five_hour", 23.5, "2027-01-15T08:00:00.000Z"),
            ("claude-code", "seven_day", 81.2, "2027-01-19T23:06:40.000Z"),
            ("codex", "five_hour", 5.0, "2026-12-06T20:13:20.000Z"),
            ("codex", "seven_day", 4.0, "2026-12-11T14:40:00.000Z"),
        ]
    );
    // The Codex five-hour window's course: its highest use that day.
    assert_eq!(
        plan[2]["days"],
        serde_json::json!([{"day": "2026-12-06", "max_used_pct": 25.0}])
    );

    let csv = succeed(
        home.command()
            .args(["report", "--plan", "--csv", "--agent", "codex"]),
    );
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "agent,window,day,max_used_pct,latest_used_pct,latest_resets_at,latest_observed_at",
            "codex,five_hour,2026-12-06,25,5,2026-12-06T20:13:20.000Z,2026-12-06T13:14:49.208Z",
            "codex,seven_day,2026-12-06,4,4,2026-12-11T14:40:00.000Z,2026-12-06T13:14:49.208Z",
        ]
    );
    let table = succeed(home.command().args(["report", "--plan", "--tz", "UTC"]));
    assert!(table.contains("Highest use each day"), "{table}");
    assert!(table.contains("81.2%"), "{table}");
    let refused = home
        .command()
        .args(["report", "--plan", "--by", "model"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--by does not apply to --plan"),
        "{refused:?}"
    );
    // Nothing in the range: said so.
    let empty = succeed(
        home.command()
            .args(["report", "--plan", "--since", "2030-01-01"]),
    );
    assert!(empty.contains("No plan use in the range"), "{empty}");
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn the_api_gives_each_agents_latest_plan_use_and_nothing_without_plan_data() {
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    let daemon = home.start();
    let empty = http_get(daemon.http(), "/api/plan").json();
    assert_eq!(empty, serde_json::json!({"plan": []}));
    let input = std::fs::read(fixtures().join("statusline/subscriber.json")).unwrap();
    statusline(&home, &input);
    wait_until(
        "the handoff stored",
        || home.count("SELECT count(*) FROM plan_usage") == 2,
        || daemon.log_text(),
    );
    let answer = http_get(daemon.http(), "/api/plan").json();
    let plan = answer["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 2, "{answer}");
    assert_eq!(plan[0]["agent"], "claude-code");
    assert_eq!(plan[0]["window"], "five_hour");
    assert_eq!(plan[0]["used_pct"], 23.5);
    assert_eq!(plan[0]["resets_at"], "2027-01-15T08:00:00.000Z");
    assert_eq!(plan[0]["source"], "claude_statusline");
    assert_eq!(plan[1]["window"], "seven_day");
    assert_eq!(plan[1]["used_pct"], 81.2);
    assert_eq!(daemon.stop().code(), Some(0));
}
