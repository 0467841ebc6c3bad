//! Codex's hooks: `hookmeter install-hooks --agent codex` and `doctor` run
//! as users run them (the real binary, a temp HOME whose `.codex` is
//! Codex's home), and the payloads the real Codex 0.171.0 gave its hooks
//! (tests/fixtures/codex/hooks) sent through `hookmeter send` into a
//! running daemon.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

/// A `hookmeter` command in `home` with a PATH holding a `hookmeter` (a
/// link to this build, returned), so the hooks keep `hookmeter send`.
fn command_with_hookmeter(home: &Home) -> (Command, PathBuf) {
    let bin = home.path().join("bin");
    if !bin.join("hookmeter").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(BIN, bin.join("hookmeter")).unwrap();
    }
    let mut cmd = home.command();
    cmd.env("PATH", &bin);
    (cmd, bin.join("hookmeter"))
}

fn codex_home(home: &Home) -> PathBuf {
    home.path().join(".codex")
}

fn install(home: &Home, args: &[&str]) -> Output {
    command_with_hookmeter(home)
        .0
        .args(["install-hooks", "--agent", "codex"])
        .args(args)
        .output()
        .unwrap()
}

fn install_ok(home: &Home, args: &[&str]) -> String {
    let out = install(home, args);
    assert!(
        out.status.success(),
        "install-hooks --agent codex {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// doctor's `codex.hooks` finding, as JSON.
fn codex_finding(home: &Home) -> Value {
    let out = command_with_hookmeter(home)
        .0
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "codex.hooks")
        .cloned()
        .unwrap_or_else(|| panic!("no codex.hooks in {findings:#}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn install_trusts_the_hooks_keeps_the_users_config_and_doctor_follows() {
    let home = Home::new();
    assert_eq!(
        codex_finding(&home)["status"],
        "ok",
        "no Codex home: nothing to check"
    );
    let dir = codex_home(&home);
    std::fs::create_dir_all(&dir).unwrap();
    let users =
        "# mine\nmodel = \"gpt-5.1-codex\"\n\n[model_providers.mock]\nname = \"mock\" # kept\n";
    std::fs::write(dir.join("config.toml"), users).unwrap();
    assert_eq!(
        codex_finding(&home)["status"],
        "warn",
        "Codex without hookmeter"
    );

    let dry = install_ok(&home, &["--dry-run"]);
    assert!(dry.contains("+++ "), "{dry}");
    assert!(dry.contains("trusted_hash"), "{dry}");
    assert!(!dir.join("hooks.json").exists());
    assert_eq!(read(&dir.join("config.toml")), users);

    let first = install_ok(&home, &[]);
    assert!(
        first.contains("added PostToolUse, Stop, SubagentStop, SessionStart, SessionEnd"),
        "{first}"
    );
    let hooks: Value = serde_json::from_str(&read(&dir.join("hooks.json"))).unwrap();
    assert_eq!(
        hooks["hooks"]["Stop"][0]["hooks"][0]["command"],
        "hookmeter send"
    );
    let config = read(&dir.join("config.toml"));
    assert!(
        config.starts_with("# mine\nmodel = \"gpt-5.1-codex\"\n"),
        "{config}"
    );
    assert!(config.contains("name = \"mock\" # kept"), "{config}");
    // Codex names its home with links resolved; so do the keys.
    let real = std::fs::canonicalize(&dir).unwrap();
    let key = format!(
        "[hooks.state.\"{}:stop:0:0\"]",
        real.join("hooks.json").display()
    );
    assert!(config.contains(&key), "{key} in {config}");
    assert_eq!(config.matches("trusted_hash = \"sha256:").count(), 5);
    let backups = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("hookmeter-backup")
        })
        .count();
    assert_eq!(
        backups, 1,
        "config.toml existed and was backed up; hooks.json was new"
    );
    let finding = codex_finding(&home);
    assert_eq!(finding["status"], "ok", "{finding}");

    let second = install_ok(&home, &[]);
    assert!(second.contains("nothing changed"), "{second}");
    assert_eq!(read(&dir.join("config.toml")), config);

    // The binary the hooks run is gone.
    std::fs::remove_file(home.path().join("bin/hookmeter")).unwrap();
    let out = home.command().args(["doctor", "--json"]).output().unwrap();
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "codex.hooks")
        .unwrap();
    assert_eq!(finding["status"], "fail", "{finding}");
    assert!(
        finding["finding"]
            .as_str()
            .unwrap()
            .contains("cannot be found"),
        "{finding}"
    );
}

#[test]
fn a_config_toml_it_cannot_parse_is_refused_and_nothing_changes() {
    let home = Home::new();
    let dir = codex_home(&home);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "model = = \"x\"\n").unwrap();
    let out = install(&home, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.toml is not valid TOML"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(!dir.join("hooks.json").exists());
    assert_eq!(read(&dir.join("config.toml")), "model = = \"x\"\n");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no backup, no new file"
    );
}

#[test]
fn claude_codes_flags_are_refused_with_agent_codex() {
    let home = Home::new();
    let out = install(&home, &["--project"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--agent codex"));
    assert!(!codex_home(&home).exists());
}

/// What the real Codex gave its hooks in one run: each is a hook event of
/// agent codex with its session and tool; none makes a cost record (the
/// PostModelRequest ones carry the response's usage, which the rollout
/// records).
#[test]
fn real_codex_payloads_become_codex_hook_events_and_no_cost() {
    let home = Home::new();
    let _daemon = home.start();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex/hooks");
    let mut sent = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for path in &names {
        let out = home.send(&std::fs::read(path).unwrap(), &[]);
        assert!(out.status.success());
        assert!(out.stdout.is_empty(), "send prints nothing");
        sent += 1;
    }
    assert_eq!(sent, 9);
    wait_until(
        "every payload stored",
        || home.count("SELECT count(*) FROM hook_events") == sent,
        || format!("{} stored", home.count("SELECT count(*) FROM hook_events")),
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE agent_id <> 'codex'"),
        0
    );
    assert_eq!(
        home.count("SELECT count(DISTINCT session_id) FROM hook_events"),
        1
    );
    assert_eq!(
        home.count(
            "SELECT count(*) FROM hook_events WHERE event_name IN ('PreToolUse', 'PostToolUse') AND tool_name = 'Bash'"
        ),
        2
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE records <> 0"),
        0
    );
    assert_eq!(home.count("SELECT count(*) FROM cost_records"), 0);
    assert_eq!(home.count("SELECT count(*) FROM rejected_events"), 0);
}
