//! `hookmeter install-hooks` and `hookmeter doctor`, run as users run them:
//! the real binary on a temp home, with Claude Code settings files, a real
//! daemon, its spool and its database.

use crate::common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

/// The example the README tells users about; install-hooks must write the same.
fn example_hooks() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/claude-settings.example.json");
    let example: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    example["hooks"].clone()
}

/// The user's settings file under this home (`Home::command` sets HOME).
fn user_settings(home: &Home) -> PathBuf {
    home.path().join(".claude/settings.json")
}

/// A directory holding a `hookmeter` (a link to this build), as `cargo
/// install` would leave one.
fn bin_with_hookmeter(home: &Home) -> PathBuf {
    let bin = home.path().join("bin");
    if !bin.join("hookmeter").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(BIN, bin.join("hookmeter")).unwrap();
    }
    bin
}

/// `hookmeter` in `home` with a PATH on which `hookmeter` is found, so the
/// hooks keep the bare `hookmeter send`.
fn command_with_hookmeter_on_path(home: &Home) -> Command {
    let path = std::env::join_paths(std::iter::once(bin_with_hookmeter(home)).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = home.command();
    cmd.env("PATH", path);
    cmd
}

/// `hookmeter` in `home` with a PATH on which no `hookmeter` is found.
fn command_without_hookmeter_on_path(home: &Home) -> (Command, PathBuf) {
    let empty = home.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = home.command();
    cmd.env("PATH", &empty);
    (cmd, empty)
}

fn install(home: &Home, args: &[&str]) -> Output {
    command_with_hookmeter_on_path(home)
        .current_dir(home.path())
        .arg("install-hooks")
        .args(args)
        .output()
        .unwrap()
}

/// Runs install-hooks, requires success, returns stdout.
fn install_ok(home: &Home, args: &[&str]) -> String {
    let out = install(home, args);
    assert!(
        out.status.success(),
        "install-hooks {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Backups install-hooks left beside `settings`.
fn backups(settings: &Path) -> Vec<PathBuf> {
    let prefix = format!(
        "{}.hookmeter-backup-",
        settings.file_name().unwrap().to_str().unwrap()
    );
    let mut found: Vec<PathBuf> = std::fs::read_dir(settings.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_str().unwrap().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The handlers of `event` in a settings value whose command mentions hookmeter.
fn hookmeter_handlers(settings: &Value, event: &str) -> Vec<Value> {
    settings["hooks"][event]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["hooks"].as_array().unwrap().clone())
        .filter(|h| {
            h["command"]
                .as_str()
                .unwrap_or_default()
                .contains("hookmeter")
        })
        .collect()
}

const EVENTS: [&str; 5] = [
    "PostToolUse",
    "Stop",
    "SubagentStop",
    "SessionStart",
    "SessionEnd",
];

#[test]
fn installing_into_a_missing_or_empty_file_gives_the_example_hooks() {
    let home = Home::new();
    let settings = user_settings(&home);
    let said = install_ok(&home, &[]);
    assert!(said.contains("Created"), "{said}");
    assert_eq!(read_json(&settings), json!({ "hooks": example_hooks() }));
    assert!(backups(&settings).is_empty(), "nothing to back up");

    let empty = home.path().join("elsewhere/empty.json");
    std::fs::create_dir_all(empty.parent().unwrap()).unwrap();
    std::fs::write(&empty, "").unwrap();
    install_ok(&home, &["--settings", empty.to_str().unwrap()]);
    assert_eq!(read_json(&empty)["hooks"], example_hooks());
    let saved = backups(&empty);
    assert_eq!(saved.len(), 1);
    assert_eq!(std::fs::read(&saved[0]).unwrap(), b"");
}

#[test]
fn other_keys_and_hooks_are_kept_and_the_original_is_backed_up() {
    let home = Home::new();
    let settings = user_settings(&home);
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let original = r#"{
    "model": "opus",
    "env": { "ANTHROPIC_API_KEY": "sk-keep-me" },
    "permissions": { "allow": ["Bash(ls:*)"] },
    "hooks": {
        "PostToolUse": [
            { "matcher": "Edit", "hooks": [ { "type": "command", "command": "prettier --write", "timeout": 30 } ] }
        ],
        "Notification": [
            { "hooks": [ { "type": "command", "command": "notify-send claude" } ] }
        ]
    }
}
"#;
    std::fs::write(&settings, original).unwrap();
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o600)).unwrap();

    let said = install_ok(&home, &[]);
    let after = read_json(&settings);
    let before: Value = serde_json::from_str(original).unwrap();
    for key in ["model", "env", "permissions"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert_eq!(
        after["hooks"]["Notification"],
        before["hooks"]["Notification"]
    );
    let post = after["hooks"]["PostToolUse"].as_array().unwrap();
    assert_eq!(post.len(), 2, "{post:?}");
    assert_eq!(
        post[0], before["hooks"]["PostToolUse"][0],
        "the user's own hook first, as it was"
    );
    assert_eq!(post[1], example_hooks()["PostToolUse"][0]);
    for event in &EVENTS[1..] {
        assert_eq!(after["hooks"][*event], example_hooks()[*event], "{event}");
    }
    // The file's indentation and permissions stay.
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains("\n    \"env\": {"), "{text}");
    let mode = std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let saved = backups(&settings);
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read(&saved[0]).unwrap(), original.as_bytes());
    let backup_mode = std::fs::metadata(&saved[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(backup_mode, 0o600, "the backup holds the same secrets");
    assert!(
        said.contains(saved[0].to_str().unwrap()),
        "says where: {said}"
    );
}

#[test]
fn a_second_install_changes_nothing() {
    let home = Home::new();
    let settings = user_settings(&home);
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "{\"model\": \"sonnet\"}\n").unwrap();
    install_ok(&home, &[]);
    let first = std::fs::read(&settings).unwrap();
    let modified = std::fs::metadata(&settings).unwrap().modified().unwrap();
    assert_eq!(backups(&settings).len(), 1);

    let said = install_ok(&home, &[]);
    assert!(said.contains("already installed"), "{said}");
    assert_eq!(std::fs::read(&settings).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&settings).unwrap().modified().unwrap(),
        modified,
        "not rewritten"
    );
    assert_eq!(backups(&settings).len(), 1, "no new backup");
    let dry = install_ok(&home, &["--dry-run"]);
    assert!(dry.contains("already installed"), "{dry}");
    // Nothing else appeared beside it either (no temp files).
    let entries = std::fs::read_dir(settings.parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(entries, 2);
}

#[test]
fn an_older_hookmeter_entry_is_updated_in_place_not_duplicated() {
    let home = Home::new();
    let settings = user_settings(&home);
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        json!({"hooks": {
            "Stop": [
                {"hooks": [
                    {"type": "command", "command": "say done"},
                    {"type": "command", "command": "/old/bin/hookmeter send --agent me", "timeout": 5}
                ]}
            ],
            "SessionEnd": [{"hooks": [{"type": "command", "command": "hookmeter-hook"}]}]
        }})
        .to_string(),
    )
    .unwrap();
    let command = "/usr/local/bin/hookmeter send";
    let said = install_ok(&home, &["--command", command]);
    assert!(said.contains("updated Stop, SessionEnd"), "{said}");
    let after = read_json(&settings);
    assert_eq!(
        after["hooks"]["Stop"],
        json!([{"hooks": [
            {"type": "command", "command": "say done"},
            {"type": "command", "command": command, "timeout": 5, "async": true}
        ]}])
    );
    for event in EVENTS {
        let ours = hookmeter_handlers(&after, event);
        assert_eq!(ours.len(), 1, "{event}: {ours:?}");
        assert_eq!(ours[0]["command"], command, "{event}");
    }
    let again = install_ok(&home, &["--command", command]);
    assert!(again.contains("already installed"), "{again}");
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let home = Home::new();
    let settings = user_settings(&home);
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let original = b"{\n  \"model\": \"opus\"\n}\n";
    std::fs::write(&settings, original).unwrap();
    let out = install_ok(&home, &["--dry-run"]);
    let shown = settings.display().to_string();
    assert!(
        out.contains(&format!("--- {shown}\n+++ {shown}\n")),
        "{out}"
    );
    assert!(out.contains("\n+  \"hooks\": {\n"), "{out}");
    assert!(out.contains("\n+    \"SubagentStop\": [\n"), "{out}");
    assert_eq!(
        out.matches("\"command\": \"hookmeter send\"").count(),
        5,
        "{out}"
    );
    assert!(out.contains("nothing was written"), "{out}");
    assert_eq!(std::fs::read(&settings).unwrap(), original);
    assert!(backups(&settings).is_empty());

    // A file that does not exist yet is not created either.
    let missing = home.path().join("proj");
    let out = install_ok(
        &home,
        &["--project", missing.to_str().unwrap(), "--dry-run"],
    );
    assert!(out.starts_with("--- /dev/null\n"), "{out}");
    assert!(!missing.exists());
}

#[test]
fn unusable_settings_are_refused_and_left_untouched() {
    let home = Home::new();
    let settings = user_settings(&home);
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    for (text, says) in [
        ("{\"model\": \"opus\",\n", "is not valid JSON"),
        ("{\"hooks\": [1]}", "\"hooks\" is an array, not an object"),
        (
            "{\"hooks\": {\"Stop\": {\"hooks\": []}}}",
            "\"hooks\".\"Stop\" is an object, not an array",
        ),
        ("[]", "top level is an array"),
    ] {
        std::fs::write(&settings, text).unwrap();
        for args in [&[][..], &["--dry-run"][..]] {
            let out = install(&home, args);
            assert_eq!(out.status.code(), Some(1), "{text}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
            assert!(stderr.contains(settings.to_str().unwrap()), "{stderr}");
            assert!(stderr.contains(says), "{text}: {stderr}");
            assert!(out.stdout.is_empty());
            assert_eq!(std::fs::read_to_string(&settings).unwrap(), text);
            assert!(backups(&settings).is_empty());
        }
    }
}

#[test]
fn project_and_claude_config_dir_choose_the_file() {
    let home = Home::new();
    let project = home.path().join("shop");
    std::fs::create_dir_all(&project).unwrap();

    install_ok(&home, &["--project", project.to_str().unwrap()]);
    assert_eq!(
        read_json(&project.join(".claude/settings.json"))["hooks"],
        example_hooks()
    );
    // --project alone: the current directory.
    let other = home.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let out = command_with_hookmeter_on_path(&home)
        .current_dir(&other)
        .args(["install-hooks", "--project", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    let expected = other.join(".claude/settings.json");
    assert!(
        said.contains(&format!("+++ {}\n", expected.display())),
        "{said}"
    );
    install_ok(&home, &["--project", other.to_str().unwrap()]);
    assert!(other.join(".claude/settings.json").is_file());

    let claude_dir = home.path().join("claude-config");
    let out = command_with_hookmeter_on_path(&home)
        .env("CLAUDE_CONFIG_DIR", &claude_dir)
        .arg("install-hooks")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read_json(&claude_dir.join("settings.json"))["hooks"],
        example_hooks()
    );
    assert!(
        !user_settings(&home).exists(),
        "neither --project nor CLAUDE_CONFIG_DIR touches ~/.claude"
    );

    // Bad combinations and unknown flags are usage errors.
    for args in [&["--project", "a", "--settings", "b"][..], &["--bogus"][..]] {
        assert_eq!(install(&home, args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn explicit_socket_and_spool_go_into_the_hooks_command_and_reach_that_daemon() {
    let home = Home::new();
    let daemon = home.start();
    let settings = home.path().join("settings.json");
    let command = format!("{BIN} send");
    // From the environment (as Home::command sets it): not added.
    install_ok(
        &home,
        &[
            "--settings",
            settings.to_str().unwrap(),
            "--command",
            &command,
        ],
    );
    assert_eq!(
        hookmeter_handlers(&read_json(&settings), "Stop")[0]["command"],
        command
    );
    // Given as flags: added, so hooks reach this daemon from anywhere.
    let out = home
        .command()
        .current_dir(home.path())
        .arg("--socket")
        .arg(home.socket())
        .arg("--spool")
        .arg(home.spool())
        .args(["install-hooks", "--settings", settings.to_str().unwrap()])
        .args(["--command", &command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = hookmeter_handlers(&read_json(&settings), "Stop")[0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        installed,
        format!(
            "{command} --socket {} --spool {}",
            home.socket().display(),
            home.spool().display()
        )
    );
    // Run it the way Claude Code does (through the shell), with none of
    // hookmeter's variables set: the event lands in this daemon's database.
    let path = std::env::var_os("PATH").unwrap_or_default();
    run_hook_as_claude_code(&home, &daemon, &installed, &path, &[], "from-hook");
}

#[test]
fn without_hookmeter_on_path_the_hooks_run_this_binary_by_its_absolute_path() {
    let home = Home::new();
    let daemon = home.start();
    let settings = user_settings(&home);
    let this_binary = std::fs::canonicalize(BIN).unwrap();
    let expected = format!("{} send", this_binary.display());
    let said_first = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout.clone()).unwrap();
        let first = stdout.lines().next().unwrap_or_default().to_string();
        assert_eq!(
            first,
            format!(
                "hookmeter is not on PATH; the hooks run {expected} instead \
                 (`cargo install --locked --path .` puts hookmeter on PATH)."
            ),
            "{stdout}"
        );
        stdout
    };

    // --dry-run shows the same decision and writes nothing.
    let (mut cmd, empty_path) = command_without_hookmeter_on_path(&home);
    let out = cmd
        .current_dir(home.path())
        .args(["install-hooks", "--dry-run"])
        .output()
        .unwrap();
    let dry = said_first(&out);
    assert_eq!(
        dry.matches(&format!("\"command\": \"{expected}\"")).count(),
        5,
        "{dry}"
    );
    assert!(!settings.exists());

    let (mut cmd, _) = command_without_hookmeter_on_path(&home);
    let out = cmd
        .current_dir(home.path())
        .arg("install-hooks")
        .output()
        .unwrap();
    let said = said_first(&out);
    assert!(
        said.contains(&format!("The hooks run `{expected}`.")),
        "{said}"
    );
    let installed = read_json(&settings);
    for event in EVENTS {
        let ours = hookmeter_handlers(&installed, event);
        assert_eq!(ours.len(), 1, "{event}: {ours:?}");
        assert_eq!(ours[0]["command"], expected.as_str(), "{event}");
    }

    // The hook works from a shell whose PATH has no hookmeter on it (the
    // shell by its path: the child's PATH is where Command looks).
    let sockets = [
        ("HOOKMETER_SOCKET", home.socket().into_os_string()),
        ("HOOKMETER_SPOOL", home.spool().into_os_string()),
    ];
    run_hook_as_claude_code(
        &home,
        &daemon,
        &expected,
        empty_path.as_os_str(),
        &sockets,
        "absolute-hook",
    );

    // Once hookmeter is on PATH, a second run goes back to the bare command.
    let said = install_ok(&home, &[]);
    assert!(!said.contains("not on PATH"), "{said}");
    let installed = read_json(&settings);
    assert_eq!(
        hookmeter_handlers(&installed, "Stop")[0]["command"],
        "hookmeter send"
    );
}

#[test]
fn an_explicit_command_not_on_path_is_refused() {
    let home = Home::new();
    let settings = user_settings(&home);
    for (command, program) in [
        ("hookmeter send", "hookmeter"),
        ("HOOKMETER_AGENT=me hookmeter-hook", "hookmeter-hook"),
    ] {
        for dry_run in [false, true] {
            let (mut cmd, empty_path) = command_without_hookmeter_on_path(&home);
            cmd.current_dir(home.path())
                .args(["install-hooks", "--command", command]);
            if dry_run {
                cmd.arg("--dry-run");
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{command}: {out:?}");
            assert!(out.stdout.is_empty(), "{command}: {out:?}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "`{program}` is not on PATH ({})",
                    empty_path.display()
                )),
                "{stderr}"
            );
            assert!(
                stderr.contains("cargo install --locked --path ."),
                "{stderr}"
            );
            let example = command.replace(program, &format!("/abs/path/{program}"));
            assert!(
                stderr.contains(&format!("--command \"{example}\"")),
                "{stderr}"
            );
            assert!(!settings.exists(), "nothing written");
        }
    }
    // On PATH, the same command is taken as given.
    install_ok(&home, &["--command", "hookmeter send"]);
    assert_eq!(
        hookmeter_handlers(&read_json(&settings), "Stop")[0]["command"],
        "hookmeter send"
    );
}

// ---- doctor ----

/// `hookmeter doctor --json` in `home` (its directory as the current one):
/// the exit code and the findings.
fn doctor(home: &Home) -> (Option<i32>, Vec<Value>) {
    let out = home
        .command()
        .current_dir(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), findings.as_array().unwrap().clone())
}

fn finding<'a>(findings: &'a [Value], check: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {findings:#?}"))
}

/// Hooks running this build's binary by its absolute path, in the user settings.
fn install_hooks_for_doctor(home: &Home) {
    install_ok(home, &["--command", &format!("{BIN} send")]);
}

#[test]
fn doctor_is_all_ok_with_a_running_daemon_and_hooks_installed() {
    let home = Home::new();
    let _daemon = home.start();
    install_hooks_for_doctor(&home);
    // Current prices: the built-in table alone ages past doctor's 60 days.
    let prices = crate::common::fixtures().join("litellm-model-prices-2026-08-01.json");
    let update = home
        .command()
        .args(["pricing", "update", "--file", prices.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(update.status.success(), "{update:?}");
    let out = home
        .command()
        .current_dir(home.path())
        // Without a token the `http` check depends on this machine's
        // accounts (tests/security/hooks.rs checks that warning).
        .env("HOOKMETER_HTTP_TOKEN", "doctor-test-token")
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in text.lines() {
        assert!(line.starts_with("ok    "), "{line}\n{text}");
    }
    for check in [
        "config",
        "db",
        "db.integrity",
        "db.journal",
        "db.schema",
        "durability",
        "socket",
        "spool",
        "spool.rejected",
        "hooks",
        "hooks.command",
        "http",
        "prices",
    ] {
        assert!(text.contains(&format!("  {check}: ")), "{check}: {text}");
    }
    assert!(text.contains("integrity_check ok"), "{text}");
    assert!(text.contains("version 17"), "{text}");
}

#[test]
fn doctor_fails_on_a_stopped_daemon_and_names_a_stale_socket() {
    let home = Home::new();
    let daemon = home.start();
    install_hooks_for_doctor(&home);
    assert_eq!(daemon.stop().code(), Some(0));
    // The daemon's last connection to close may be a reader, which leaves
    // -wal and -shm behind; a checkpoint by a writer that closes last
    // removes them, as after any quiet shutdown.
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(conn);
    let state = home.db_path().parent().unwrap().to_path_buf();
    let files = || {
        let mut names: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(), ["telemetry.db"]);

    let out = home
        .command()
        .current_dir(home.path())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let socket_line = format!("fail  socket: no socket at {}", home.socket().display());
    let at = text.find(&socket_line).unwrap_or_else(|| panic!("{text}"));
    let next = text[at..].lines().nth(1).unwrap();
    // No unit file in this home: systemctl --user would have nothing to start.
    assert!(
        next.starts_with("      fix: start the daemon: ") && next.contains("`hookmeter serve`"),
        "{next}"
    );
    assert!(!next.contains("systemctl --user start"), "{next}");
    // Only the socket fails: the database and hooks are still fine.
    let (_, findings) = doctor(&home);
    let failed: Vec<_> = findings.iter().filter(|f| f["status"] == "fail").collect();
    assert_eq!(failed.len(), 1, "{findings:#?}");
    // Reading the database left no -wal or -shm file behind.
    assert_eq!(files(), ["telemetry.db"]);

    // A socket file that nobody listens on is stale.
    drop(std::os::unix::net::UnixListener::bind(home.socket()).unwrap());
    assert!(home.socket().exists());
    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1));
    let socket = finding(&findings, "socket");
    assert_eq!(socket["status"], "fail");
    assert!(
        socket["finding"]
            .as_str()
            .unwrap()
            .starts_with("stale socket file"),
        "{socket}"
    );
    assert!(socket["fix"].as_str().unwrap().contains("hookmeter serve"));
}

#[test]
fn doctor_counts_waiting_and_rejected_spool_files_exactly() {
    let home = Home::new();
    let daemon = home.start();
    home.spool_drop("bad-1.json", b"not json at all");
    home.spool_drop("bad-2.ndjson", b"{\"hook_event_name\":\"Stop\"}\nnope\n");
    wait_until(
        "both files rejected",
        || home.rejected_files().len() == 4,
        || format!("{:?}\n{}", home.rejected_files(), daemon.log_text()),
    );
    assert_eq!(daemon.stop().code(), Some(0));
    // With no daemon: three files wait (a half-written dotfile does not count).
    home.spool_drop("a.json", br#"{"hook_event_name":"Stop","session_id":"s"}"#);
    home.spool_drop("b.json", br#"{"hook_event_name":"Stop","session_id":"t"}"#);
    home.spool_drop(
        "c.ndjson",
        b"{\"hook_event_name\":\"Stop\",\"session_id\":\"u\"}\n",
    );
    std::fs::write(home.spool().join(".d.json.tmp"), "{").unwrap();

    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1), "the socket fails");
    let spool = finding(&findings, "spool");
    assert_eq!(spool["status"], "warn");
    let text = spool["finding"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("3 files waiting in {}", home.spool().display())),
        "{text}"
    );
    assert!(text.contains("no daemon to take them"), "{text}");
    let rejected = finding(&findings, "spool.rejected");
    assert_eq!(rejected["status"], "warn");
    let rejected_dir = home.spool().join("rejected");
    assert!(
        rejected["finding"]
            .as_str()
            .unwrap()
            .starts_with(&format!("2 files in {}", rejected_dir.display())),
        "{rejected}"
    );
    assert!(rejected["fix"]
        .as_str()
        .unwrap()
        .contains(rejected_dir.to_str().unwrap()));
}

#[test]
fn doctor_finds_a_corrupted_database() {
    let home = Home::new();
    let daemon = home.start();
    let mut client = daemon.connect();
    let filler = "x".repeat(2000);
    for i in 0..300 {
        let line = format!(
            r#"{{"hook_event_name":"PostToolUse","session_id":"s","tool_use_id":"t{i}","tool_name":"Bash","tool_response":{{"output":"{filler}"}}}}"#
        );
        assert_eq!(client.roundtrip(line.as_bytes())["ok"], true);
    }
    drop(client);
    assert_eq!(daemon.stop().code(), Some(0));
    let (code, findings) = doctor(&home);
    assert_eq!(
        finding(&findings, "db.integrity")["status"],
        "ok",
        "{findings:#?}"
    );
    assert_eq!(code, Some(1), "only the stopped daemon");

    // Everything in the main file, then garbage over pages in its middle.
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let pages: u64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let page_size: u64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    assert!(pages > 40, "a database of {pages} pages");
    let mut bytes = std::fs::read(home.db_path()).unwrap();
    let (from, to) = (
        (pages / 3 * page_size) as usize,
        (pages / 2 * page_size) as usize,
    );
    for (i, b) in bytes[from..to].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    std::fs::write(home.db_path(), bytes).unwrap();

    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1));
    let integrity = finding(&findings, "db.integrity");
    assert_eq!(integrity["status"], "fail", "{integrity}");
    assert!(
        integrity["fix"].as_str().unwrap().contains(".recover"),
        "{integrity}"
    );
}

#[test]
fn doctor_without_hooks_warns_and_names_install_hooks() {
    let home = Home::new();
    let _daemon = home.start();
    let (_, findings) = doctor(&home);
    // The daemon watches the transcripts (the default): usage is still
    // captured, so no hooks is a warning that says what is missing.
    let hooks = finding(&findings, "hooks");
    assert_eq!(hooks["status"], "warn");
    assert!(
        hooks["finding"].as_str().unwrap().contains("still read"),
        "{hooks}"
    );
    assert!(
        hooks["finding"]
            .as_str()
            .unwrap()
            .contains(user_settings(&home).to_str().unwrap()),
        "{hooks}"
    );
    assert!(hooks["fix"]
        .as_str()
        .unwrap()
        .contains("hookmeter install-hooks"));

    // Some events only: a warning naming the missing ones.
    let settings = user_settings(&home);
    install_hooks_for_doctor(&home);
    let mut partial = read_json(&settings);
    partial["hooks"]
        .as_object_mut()
        .unwrap()
        .remove("SessionEnd");
    std::fs::write(&settings, partial.to_string()).unwrap();
    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(0), "{findings:#?}");
    let hooks = finding(&findings, "hooks");
    assert_eq!(hooks["status"], "warn");
    assert!(
        hooks["finding"]
            .as_str()
            .unwrap()
            .starts_with("SessionEnd has no hookmeter hook"),
        "{hooks}"
    );
}

#[test]
fn doctor_suggests_systemctl_only_when_a_user_unit_is_installed() {
    let home = Home::new();
    let socket_fix = |home: &Home| {
        let (_, findings) = doctor(home);
        finding(&findings, "socket")["fix"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let fix = socket_fix(&home);
    assert!(!fix.contains("systemctl --user start"), "{fix}");
    assert!(fix.contains("`hookmeter serve`"), "{fix}");

    let unit = home.path().join(".config/systemd/user/hookmeter.service");
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/user/hookmeter.service"),
        &unit,
    )
    .unwrap();
    let fix = socket_fix(&home);
    assert!(fix.contains("`systemctl --user start hookmeter`"), "{fix}");
}

#[test]
fn doctor_json_is_an_array_of_check_status_finding_fix() {
    let home = Home::new();
    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1));
    assert!(findings.len() >= 6);
    for f in &findings {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["check", "finding", "fix", "status"], "{f}");
        assert!(f["check"].is_string() && f["finding"].is_string(), "{f}");
        match f["status"].as_str().unwrap() {
            "ok" => assert!(f["fix"].is_null(), "{f}"),
            "warn" | "fail" => assert!(f["fix"].is_string(), "{f}"),
            other => panic!("status {other}"),
        }
    }
}

#[test]
fn doctor_creates_nothing_and_still_runs_with_a_broken_config() {
    let home = Home::new();
    home.write_config("dbb = 1\n");
    let before = tree(home.path());
    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1));
    let config = finding(&findings, "config");
    assert_eq!(config["status"], "fail");
    assert!(
        config["finding"].as_str().unwrap().contains("dbb"),
        "{config}"
    );
    // The other checks ran on flags, environment and defaults.
    for check in ["db", "socket", "spool", "hooks"] {
        finding(&findings, check);
    }
    assert_eq!(tree(home.path()), before, "doctor only looks");
}

/// Every path under `dir`, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(entry.path());
        if entry.file_type().unwrap().is_dir() {
            out.extend(tree(&entry.path()));
        }
    }
    out.sort();
    out
}

/// Runs a hook's `command` the way Claude Code does, through the shell
/// (`/bin/sh` by its path: the child's PATH is where `Command` looks), with
/// only `PATH`, `HOME` and `env` set, a Stop event of `session` on stdin;
/// then waits for that event in the daemon's database.
fn run_hook_as_claude_code(
    home: &Home,
    daemon: &Daemon,
    command: &str,
    path: &std::ffi::OsStr,
    env: &[(&str, std::ffi::OsString)],
    session: &str,
) {
    use std::io::Write as _;
    let mut hook = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let payload = json!({"hook_event_name": "Stop", "session_id": session}).to_string();
    hook.stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    assert!(
        hook.wait().unwrap().success(),
        "the hook {command:?} failed"
    );
    wait_until(
        "the hook's event in the database",
        || {
            home.count(&format!(
                "SELECT count(*) FROM hook_events WHERE session_id = '{session}'"
            )) == 1
        },
        || daemon.log_text(),
    );
}

#[test]
fn doctor_without_hooks_fails_when_the_watch_is_off() {
    let home = Home::new();
    home.write_config("[transcripts]\nwatch = false\n");
    let (code, findings) = doctor(&home);
    assert_eq!(code, Some(1));
    let hooks = finding(&findings, "hooks");
    assert_eq!(hooks["status"], "fail", "{hooks}");
    assert!(
        hooks["fix"].as_str().unwrap().contains("transcripts.watch"),
        "{hooks}"
    );
}
