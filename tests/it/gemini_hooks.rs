//! The Gemini CLI's hooks: `hookmeter install-hooks --agent gemini` and
//! `doctor` run as users run them (the real binary, a temp
//! `GEMINI_CLI_HOME`), and the payloads the real Gemini CLI 0.61.0 gave its
//! hooks in one run with a shell tool call (tests/fixtures/gemini/hooks:
//! every event it has, in the order it fired, and the chat log the run
//! wrote) sent through `hookmeter send` into a running daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::codex::copy_tree;
use crate::common::*;

/// Where the captured run's `$HOME` was: its payloads name the chat log
/// under it.
const CAPTURED_HOME: &str = "/tmp/tmp.k3NULhnsK0/home";

/// A `hookmeter` command with `GEMINI_CLI_HOME` in `home` and a PATH
/// holding a `hookmeter` (a link to this build), so the hooks keep
/// `hookmeter send`.
fn command(home: &Home) -> Command {
    let bin = home.path().join("bin");
    if !bin.join("hookmeter").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(BIN, bin.join("hookmeter")).unwrap();
    }
    let mut cmd = home.command();
    cmd.env("PATH", &bin)
        .env("GEMINI_CLI_HOME", gemini_cli_home(home));
    cmd
}

fn gemini_cli_home(home: &Home) -> PathBuf {
    home.path().join("gemini-home")
}

fn settings(home: &Home) -> PathBuf {
    gemini_cli_home(home).join(".gemini/settings.json")
}

fn install(home: &Home, args: &[&str]) -> Output {
    command(home)
        .args(["install-hooks", "--agent", "gemini"])
        .args(args)
        .output()
        .unwrap()
}

fn install_ok(home: &Home, args: &[&str]) -> String {
    let out = install(home, args);
    assert!(
        out.status.success(),
        "install-hooks --agent gemini {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn gemini_finding(home: &Home) -> Value {
    let out = command(home).args(["doctor", "--json"]).output().unwrap();
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "gemini.hooks")
        .cloned()
        .unwrap_or_else(|| panic!("no gemini.hooks in {findings:#}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn install_keeps_the_users_settings_backs_up_and_doctor_follows() {
    let home = Home::new();
    assert_eq!(gemini_finding(&home)["status"], "ok", "no Gemini CLI here");
    let path = settings(&home);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let users = r#"{
  "security": { "auth": { "selectedType": "gemini-api-key" } },
  "hooks": {
    "BeforeTool": [
      { "matcher": "run_shell_command", "hooks": [ { "type": "command", "command": "guard.sh" } ] }
    ]
  }
}
"#;
    std::fs::write(&path, users).unwrap();
    assert_eq!(gemini_finding(&home)["status"], "warn", "no hookmeter hook");

    let dry = install_ok(&home, &["--dry-run"]);
    assert!(dry.contains("+++ "), "{dry}");
    assert!(dry.contains("\"AfterAgent\""), "{dry}");
    assert_eq!(read(&path), users, "a dry run writes nothing");

    let first = install_ok(&home, &[]);
    assert!(
        first.contains("added SessionStart, AfterAgent, AfterTool, SessionEnd"),
        "{first}"
    );
    let written: Value = serde_json::from_str(&read(&path)).unwrap();
    let before: Value = serde_json::from_str(users).unwrap();
    assert_eq!(written["security"], before["security"]);
    assert_eq!(
        written["hooks"]["BeforeTool"],
        before["hooks"]["BeforeTool"]
    );
    for event in ["SessionStart", "AfterAgent", "AfterTool", "SessionEnd"] {
        assert_eq!(
            written["hooks"][event],
            serde_json::json!([{"matcher": "*", "hooks": [{"type": "command", "command": "hookmeter send"}]}]),
            "{event}"
        );
    }
    let backups: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("hookmeter-backup"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(read(&backups[0]), users);
    let finding = gemini_finding(&home);
    assert_eq!(finding["status"], "ok", "{finding}");

    let second = install_ok(&home, &[]);
    assert!(second.contains("nothing changed"), "{second}");

    // Claude Code's flags are not the Gemini CLI's.
    let out = install(&home, &["--project"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--agent gemini"));
}

/// What the real Gemini CLI gave its hooks in one run: each is a hook
/// event of agent gemini-cli with its session; none makes a cost record
/// (its AfterModel payloads carry streamed chunks' trimmed usage), and the
/// chat log they name is read (the watch is off here: only the hooks can
/// have made the tail read it), giving exactly the run's ledger.
#[test]
fn real_gemini_payloads_become_hook_events_and_their_chat_log_is_read() {
    let home = Home::new();
    home.write_config("[transcripts]\nwatch = false\n");
    let fixture = fixtures().join("gemini/hooks");
    let tmp = gemini_cli_home(&home).join(".gemini/tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    copy_tree(&fixture.join("tmp"), &tmp);
    let gemini = gemini_cli_home(&home);
    let daemon = home.start_with(|cmd| {
        cmd.env("GEMINI_CLI_HOME", &gemini);
    });
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixture.join("payloads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 17);
    let here = gemini.to_string_lossy().into_owned();
    for path in &names {
        let payload = read(path).replace(CAPTURED_HOME, &here);
        let out = home.send(payload.as_bytes(), &[]);
        assert!(out.status.success());
    }
    let sent = names.len() as i64;
    wait_until(
        "every payload stored",
        || home.count("SELECT count(*) FROM hook_events") == sent,
        || daemon.log_text(),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE agent_id <> 'gemini-cli'"),
        0
    );
    assert_eq!(
        home.count("SELECT count(DISTINCT session_id) FROM hook_events"),
        1
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE records <> 0"),
        0,
        "no hook is priced"
    );
    assert_eq!(home.count("SELECT count(*) FROM rejected_events"), 0);

    // The chat log's two responses, read because a hook named the log.
    let ledger: Vec<Value> = read(&fixture.join("ledger.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    wait_until(
        "the chat log's records",
        || home.count("SELECT count(*) FROM cost_records") == ledger.len() as i64,
        || daemon.log_text(),
    );
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT input_tokens, cache_read_tokens, output_tokens, estimated_cost_usd, agent_id, source
             FROM cost_records ORDER BY timestamp",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64, f64, String, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (row, want) in rows.iter().zip(&ledger) {
        let n = |k: &str| want[k].as_i64().unwrap();
        assert_eq!(
            (row.0, row.1, row.2),
            (
                n("prompt_tokens") - n("cached_tokens") + n("tool_use_prompt_tokens"),
                n("cached_tokens"),
                n("candidates_tokens") + n("thoughts_tokens")
            )
        );
        assert_cost(row.3, want["cost_usd"].as_f64().unwrap(), "hooks");
        assert_eq!(
            (row.4.as_str(), row.5.as_str()),
            ("gemini-cli", "transcript")
        );
    }
    drop(daemon);
}
