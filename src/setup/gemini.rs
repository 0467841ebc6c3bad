//! `hookmeter install-hooks --agent gemini`: hookmeter's hooks merged into
//! the Gemini CLI's user settings, `$GEMINI_CLI_HOME/.gemini/settings.json`
//! (`GEMINI_CLI_HOME` defaults to the home directory).
//!
//! Gemini CLI 0.61.0 reads command hooks from the `hooks` of its settings,
//! in the shape Claude Code's use (`{"hooks": {"AfterAgent": [{"matcher":
//! "*", "hooks": [{"type": "command", "command": …}]}]}}`) under its own
//! event names, so the merge is [`super::hooks::merge_events`] with a
//! [`Hook::GeminiCommand`] on [`EVENTS`]. The `hooks` object also holds the
//! CLI's older switches (`enabled`, `disabled`, `notifications`), kept as
//! they are. The CLI runs the hooks of its settings only in a trusted
//! folder, and not when `hooksConfig.enabled` is false or the hook's
//! command is in `hooksConfig.disabled`: doctor says so; the installer
//! never changes the user's switches.
//!
//! Every payload names the session's chat log (`transcript_path`): the
//! daemon reads that log from its offset (docs/ingest.md#gemini-cli-chat-logs),
//! which the watch also finds without a hook. The hooks add the session's
//! events; the usage is the log's, never a hook's.
//!
//! For users: docs/cli.md#gemini-cli.

/// What `install-hooks --agent …` was asked to do (shared with the other agents).
pub use super::AgentRequest as Request;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::hooks::{self, Hook, InstallError, Installed, Outcome};

/// The Gemini CLI events hookmeter's hooks listen to: a session's start,
/// each turn's end (the chat log has the turn's messages then), each tool's
/// end, and the session's end.
pub const EVENTS: [&str; 4] = ["SessionStart", "AfterAgent", "AfterTool", "SessionEnd"];

/// The settings file under the CLI's home.
const SETTINGS: &str = ".gemini/settings.json";

/// The Gemini CLI's home: `$GEMINI_CLI_HOME`, else `$HOME`.
pub fn gemini_home(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(dir) = env("GEMINI_CLI_HOME").filter(|d| !d.trim().is_empty()) {
        return Ok(PathBuf::from(dir.trim()));
    }
    match env("HOME").filter(|h| h.starts_with('/')) {
        Some(home) => Ok(PathBuf::from(home)),
        None => Err(
            "neither GEMINI_CLI_HOME nor HOME is set, so the Gemini CLI's settings are unknown; set GEMINI_CLI_HOME"
                .into(),
        ),
    }
}

/// `install-hooks --agent gemini` from start to end: finds the settings,
/// settles the command, merges, writes, and returns what to print.
pub fn run(
    request: &Request,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InstallError> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = absolute(
        &gemini_home(env)
            .map_err(InstallError::Target)?
            .join(SETTINGS),
    );
    let path_var = env("PATH").unwrap_or_default();
    let settled = hooks::settle_program(
        request.command.as_deref(),
        &|program| super::find_program(program, env),
        &|| std::env::current_exe().and_then(fs::canonicalize),
        &path_var,
    )?;
    let command = hooks::hook_command(
        Some(&settled.base),
        request.socket.as_deref().map(absolute).as_deref(),
        request.spool.as_deref().map(absolute).as_deref(),
    );
    let hook = Hook::GeminiCommand(command);
    let installed = hooks::install_events(
        &path,
        &hook,
        &EVENTS,
        request.dry_run,
        jiff::Timestamp::now(),
    )?;
    let mut out = settled.notice.map(|n| n + "\n").unwrap_or_default();
    out.push_str(&render(&installed, &hook));
    Ok(out)
}

/// What to tell the user about `installed`.
fn render(installed: &Installed, hook: &Hook) -> String {
    let path = installed.path.display();
    let what = installed.merge.changes().join("; ");
    match &installed.outcome {
        Outcome::AlreadyInstalled => {
            format!(
                "hookmeter's Gemini CLI hooks are already installed in {path}; nothing changed.\n"
            )
        }
        Outcome::DryRun { diff } => format!(
            "{diff}Dry run: {path} would be {} ({what}); nothing was written.\n",
            if installed.existed {
                "changed"
            } else {
                "created"
            }
        ),
        Outcome::Written { backup } => {
            let mut out = match installed.existed {
                true => format!("Installed hookmeter's Gemini CLI hooks in {path}: {what}.\n"),
                false => format!("Created {path} with hookmeter's Gemini CLI hooks: {what}.\n"),
            };
            out.push_str(&hook.describe());
            if let Some(backup) = backup {
                out.push_str(&format!(
                    "The previous file is saved as {}.\n",
                    backup.display()
                ));
            }
            out.push_str(
                "Gemini CLI sessions started from now on (in trusted folders) send their events to \
                 hookmeter; `hookmeter doctor` checks the setup.\n",
            );
            out
        }
    }
}

/// What `doctor` found of the Gemini CLI's hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorFacts {
    /// The settings file, as [`gemini_home`] works it out (`None`: it cannot).
    pub settings: Option<PathBuf>,
    pub state: DoctorState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoctorState {
    /// No `.gemini` directory: the Gemini CLI is not used here.
    NoGemini,
    /// The settings cannot be read or parsed: why.
    Unreadable(String),
    Read {
        /// The events (of [`EVENTS`]) with a hookmeter hook.
        events: Vec<&'static str>,
        /// `hooksConfig.enabled` (or the older `hooks.enabled`) is false.
        turned_off: bool,
        /// hookmeter hooks named in `hooksConfig.disabled`.
        disabled: Vec<String>,
        /// Programs hookmeter's hooks run that cannot be found.
        lost_programs: Vec<String>,
    },
}

/// Looks (only) at the Gemini CLI's hooks for `doctor`.
pub fn look(env: &dyn Fn(&str) -> Option<String>) -> DoctorFacts {
    let Ok(home) = gemini_home(env) else {
        return DoctorFacts {
            settings: None,
            state: DoctorState::NoGemini,
        };
    };
    let settings = home.join(SETTINGS);
    let state = match settings.parent().is_some_and(Path::is_dir) {
        false => DoctorState::NoGemini,
        true => look_in(&settings, env),
    };
    DoctorFacts {
        settings: Some(settings),
        state,
    }
}

fn look_in(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> DoctorState {
    let settings: Value = match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Value::Null,
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(settings) => settings,
            Err(e) => {
                return DoctorState::Unreadable(format!(
                    "{} is not valid JSON ({e})",
                    path.display()
                ))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(e) => return DoctorState::Unreadable(format!("cannot read {}: {e}", path.display())),
    };
    let mut events = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    for event in EVENTS {
        let handlers = (settings.pointer(&format!("/hooks/{event}")))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|group| group.get("hooks").and_then(Value::as_array))
            .flatten()
            .filter(|h| hooks::is_hookmeter_handler(h));
        for handler in handlers {
            if !events.contains(&event) {
                events.push(event);
            }
            if let Some(command) = handler.get("command").and_then(Value::as_str) {
                if !commands.iter().any(|c| c == command) {
                    commands.push(command.to_owned());
                }
            }
        }
    }
    let turned_off = ["/hooksConfig/enabled", "/hooks/enabled"]
        .iter()
        .any(|at| settings.pointer(at) == Some(&Value::Bool(false)));
    let disabled = (settings.pointer("/hooksConfig/disabled"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| commands.iter().any(|c| c == name))
        .map(str::to_owned)
        .collect();
    let mut lost_programs = Vec::new();
    for command in &commands {
        if let Some((program, _)) = super::program_and_args(command) {
            if super::find_program(&program, env).is_none() && !lost_programs.contains(&program) {
                lost_programs.push(program);
            }
        }
    }
    DoctorState::Read {
        events,
        turned_off,
        disabled,
        lost_programs,
    }
}

/// The `gemini.hooks` finding: (status, finding, fix), judged from `facts`
/// alone. The Gemini CLI not being used is fine; hooks that would not run
/// fail; no hooks at all is a warning (the watch reads the chat logs
/// anyway, only the session events are missing).
pub fn assess(facts: &DoctorFacts) -> (super::doctor::Status, String, Option<String>) {
    use super::doctor::Status;
    let settings = facts
        .settings
        .as_deref()
        .map_or("$GEMINI_CLI_HOME/.gemini/settings.json".into(), |p| {
            p.display().to_string()
        });
    let install = "`hookmeter install-hooks --agent gemini`".to_string();
    match &facts.state {
        DoctorState::NoGemini => (
            Status::Ok,
            format!(
                "no Gemini CLI settings directory for {settings}: the Gemini CLI is not used here"
            ),
            None,
        ),
        DoctorState::Unreadable(why) => (
            Status::Fail,
            format!("the Gemini CLI's hooks cannot be checked: {why}"),
            Some("fix the file by hand, then run doctor again".into()),
        ),
        DoctorState::Read {
            events,
            turned_off,
            disabled,
            lost_programs,
        } => {
            if events.is_empty() {
                return (
                    Status::Warn,
                    format!(
                        "no hook in {settings} runs hookmeter: the Gemini CLI's session events are not recorded (its chat logs are read all the same)"
                    ),
                    Some(install),
                );
            }
            if *turned_off {
                return (
                    Status::Fail,
                    format!("the Gemini CLI's hooks are turned off in {settings} (`hooksConfig.enabled: false`): none runs"),
                    Some("remove `\"enabled\": false` from hooksConfig".into()),
                );
            }
            if !disabled.is_empty() {
                return (
                    Status::Fail,
                    format!(
                        "{settings} disables hookmeter's hook ({} in hooksConfig.disabled): it never runs",
                        disabled.join(", ")
                    ),
                    Some("remove it from hooksConfig.disabled".into()),
                );
            }
            if !lost_programs.is_empty() {
                return (
                    Status::Fail,
                    format!(
                        "{} (run by the Gemini CLI's hooks) cannot be found: the hooks would fail",
                        lost_programs.join(", ")
                    ),
                    Some(format!(
                        "put hookmeter on the PATH the Gemini CLI runs with, or run {install} again (it writes this binary's absolute path)"
                    )),
                );
            }
            let missing: Vec<&str> = EVENTS.into_iter().filter(|e| !events.contains(e)).collect();
            if !missing.is_empty() {
                return (
                    Status::Warn,
                    format!("the Gemini CLI's hooks miss {}", missing.join(", ")),
                    Some(format!("{install} adds the missing ones")),
                );
            }
            (
                Status::Ok,
                format!("{settings} runs hookmeter on {}", events.join(", ")),
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        "2026-12-06T12:00:00Z".parse().unwrap()
    }

    fn hook() -> Hook {
        Hook::GeminiCommand("hookmeter send".into())
    }

    #[test]
    fn the_merge_keeps_the_users_settings_and_hooks_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gemini/settings.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let users = json!({
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "hooksConfig": {"notifications": true},
            "hooks": {
                "AfterAgent": [{"matcher": "*", "hooks": [{"type": "command", "command": "notify-me"}]}],
                "BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "guard"}]}]
            }
        });
        fs::write(&path, serde_json::to_string_pretty(&users).unwrap()).unwrap();

        let dry = hooks::install_events(&path, &hook(), &EVENTS, true, now()).unwrap();
        let Outcome::DryRun { diff } = &dry.outcome else {
            panic!("{:?}", dry.outcome)
        };
        assert!(diff.contains("+        \"matcher\": \"*\""), "{diff}");
        assert_eq!(
            fs::read(&path).unwrap(),
            serde_json::to_string_pretty(&users).unwrap().as_bytes()
        );

        let done = hooks::install_events(&path, &hook(), &EVENTS, false, now()).unwrap();
        let Outcome::Written {
            backup: Some(backup),
        } = &done.outcome
        else {
            panic!("{:?}", done.outcome)
        };
        assert_eq!(
            serde_json::from_slice::<Value>(&fs::read(backup).unwrap()).unwrap(),
            users
        );
        let settings: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(settings["security"], users["security"]);
        assert_eq!(settings["hooksConfig"], users["hooksConfig"]);
        assert_eq!(
            settings["hooks"]["BeforeTool"],
            users["hooks"]["BeforeTool"]
        );
        assert_eq!(
            settings["hooks"]["AfterAgent"],
            json!([
                {"matcher": "*", "hooks": [{"type": "command", "command": "notify-me"}]},
                {"matcher": "*", "hooks": [{"type": "command", "command": "hookmeter send"}]}
            ])
        );
        for event in EVENTS {
            assert_eq!(
                settings["hooks"][event].as_array().unwrap().last().unwrap(),
                &json!({"matcher": "*", "hooks": [{"type": "command", "command": "hookmeter send"}]}),
                "{event}"
            );
        }
        let again = hooks::install_events(&path, &hook(), &EVENTS, false, now()).unwrap();
        assert!(matches!(again.outcome, Outcome::AlreadyInstalled));
    }

    #[test]
    fn doctor_tells_missing_turned_off_disabled_and_complete_hooks_apart() {
        use crate::setup::doctor::Status;
        let dir = tempfile::tempdir().unwrap();
        let env = |home: PathBuf| {
            move |name: &str| match name {
                "GEMINI_CLI_HOME" => Some(home.to_string_lossy().into_owned()),
                "PATH" => Some("/usr/bin:/bin".into()),
                _ => None,
            }
        };
        let home = dir.path().to_path_buf();
        let status = |home: &Path| assess(&look(&env(home.to_path_buf()))).0;
        assert_eq!(status(&home), Status::Ok, "no .gemini: not used");
        let path = home.join(SETTINGS);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        assert_eq!(status(&home), Status::Warn, "no hooks");
        let program = home.join("bin/hookmeter");
        fs::create_dir_all(program.parent().unwrap()).unwrap();
        fs::write(&program, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        let command = format!("{} send", program.display());
        hooks::install_events(
            &path,
            &Hook::GeminiCommand(command.clone()),
            &EVENTS,
            false,
            now(),
        )
        .unwrap();
        let facts = look(&env(home.clone()));
        assert_eq!(assess(&facts).0, Status::Ok, "{facts:?}");
        let mut settings: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        settings["hooksConfig"] = json!({"disabled": [command]});
        fs::write(&path, settings.to_string()).unwrap();
        assert_eq!(status(&home), Status::Fail, "disabled");
        settings["hooksConfig"] = json!({"enabled": false});
        fs::write(&path, settings.to_string()).unwrap();
        assert_eq!(status(&home), Status::Fail, "turned off");
        fs::remove_file(&program).unwrap();
        settings["hooksConfig"] = json!({});
        fs::write(&path, settings.to_string()).unwrap();
        assert_eq!(status(&home), Status::Fail, "the program is gone");
        fs::write(&path, "{").unwrap();
        assert_eq!(status(&home), Status::Fail, "unreadable");
    }
}
