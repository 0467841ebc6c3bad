//! Setup: getting hookmeter wired into a machine, and checking that it is.
//!
//! - [`hooks`]: `hookmeter install-hooks`, hookmeter's hook entries merged
//!   into a Claude Code `settings.json` (pure merge, then a backed-up,
//!   atomic write).
//! - [`codex`]: `hookmeter install-hooks --agent codex`, the same hooks
//!   merged into Codex's `hooks.json` and trusted in its `config.toml`.
//! - [`gemini`]: `hookmeter install-hooks --agent gemini`, the same merge
//!   into the Gemini CLI's `settings.json` under its event names.
//! - [`doctor`]: `hookmeter doctor`, facts about the config, database,
//!   socket, spool and installed hooks gathered read-only, judged by a pure
//!   function, printed as lines or JSON.
//! - [`telemetry`]: doctor's look at the agents' own OpenTelemetry settings
//!   (what [`otel`] writes) against the daemon's OTLP receivers.
//! - [`push`]: doctor's look at the push to a central PostgreSQL
//!   (configured, reachable, schema version, lag).
//! - [`retention`]: doctor's look at Claude Code's `cleanupPeriodDays`
//!   against the transcripts hookmeter has not read yet.
//! - [`statusline`]: `hookmeter install-hooks --statusline`, Claude Code's
//!   `statusLine` set to `hookmeter statusline` (a user's own kept).
//!
//! What both share lives here: the events hookmeter hooks, where Claude Code
//! keeps its settings, and how a hook command is recognized as hookmeter's.
//! Nothing here touches the database's contents or the daemon's state.

pub mod codex;
pub mod doctor;
pub mod gemini;
pub mod hooks;
pub mod otel;
pub mod push;
pub mod retention;
pub mod statusline;
pub mod telemetry;

use std::path::{Path, PathBuf};

/// The Claude Code events hookmeter's hooks listen to, in the order of
/// `hooks/claude-settings.example.json`.
pub const EVENTS: [&str; 5] = [
    "PostToolUse",
    "Stop",
    "SubagentStop",
    "SessionStart",
    "SessionEnd",
];

/// What `hookmeter install-hooks --agent codex|gemini` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct AgentRequest {
    /// `--command`: the hooks' command instead of `hookmeter send`.
    pub command: Option<String>,
    /// The global `--socket` flag, when given: appended to the command.
    pub socket: Option<PathBuf>,
    /// The global `--spool` flag, when given: appended likewise.
    pub spool: Option<PathBuf>,
    /// Print the change as a diff; write nothing.
    pub dry_run: bool,
}

/// The hook command installed unless `--command` says otherwise.
pub const DEFAULT_COMMAND: &str = "hookmeter send";

/// The user's Claude Code settings: `$CLAUDE_CONFIG_DIR/settings.json` when
/// that variable is set, else `~/.claude/settings.json`.
pub fn user_settings(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(dir) = env("CLAUDE_CONFIG_DIR").filter(|d| !d.trim().is_empty()) {
        // hookmeter reads transcripts under each of a comma-separated list;
        // settings go to exactly one file, so a list has to be resolved by hand.
        if dir.contains(',') {
            return Err(format!(
                "CLAUDE_CONFIG_DIR names several directories ({dir}); choose one with --settings DIR/settings.json"
            ));
        }
        return Ok(PathBuf::from(dir.trim()).join("settings.json"));
    }
    match env("HOME").filter(|h| h.starts_with('/')) {
        Some(home) => Ok(PathBuf::from(home).join(".claude/settings.json")),
        None => Err(
            "neither CLAUDE_CONFIG_DIR nor HOME is set; name the file with --settings FILE".into(),
        ),
    }
}

/// A project's shared Claude Code settings: `DIR/.claude/settings.json`.
pub fn project_settings(dir: &Path) -> PathBuf {
    dir.join(".claude/settings.json")
}

/// A project's personal (not committed) settings: `DIR/.claude/settings.local.json`.
pub fn project_local_settings(dir: &Path) -> PathBuf {
    dir.join(".claude/settings.local.json")
}

/// The words of a hook command, roughly as a shell would split it: enough
/// to find the program and its arguments (quotes are dropped, no expansion).
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => word.extend(chars.next()),
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c == '\\' => {
                word.extend(chars.next());
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The program a hook command runs and its arguments, past leading
/// `VAR=value` assignments and an `exec` or `env`.
pub fn program_and_args(command: &str) -> Option<(String, Vec<String>)> {
    let assignment = |w: &str| {
        w.split_once('=').is_some_and(|(name, _)| {
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let mut words = words(command)
        .into_iter()
        .skip_while(|w| w == "exec" || w == "env" || assignment(w));
    let program = words.next()?;
    Some((program, words.collect()))
}

/// True for a hook command that is hookmeter's: a program named `hookmeter`
/// run with `send` (`hookmeter send`, `/usr/local/bin/hookmeter --socket S
/// send`), or the `hookmeter-hook` wrapper of `hooks/`.
pub fn is_hookmeter_command(command: &str) -> bool {
    let Some((program, args)) = program_and_args(command) else {
        return false;
    };
    match program.rsplit('/').next().unwrap_or_default() {
        "hookmeter-hook" | "hookmeter-hook.sh" => true,
        "hookmeter" => args.iter().any(|a| a == "send"),
        _ => false,
    }
}

/// Where `program` would be run from: itself when it names a path (`~/`
/// expanded), else the first executable regular file of that name on
/// `PATH`, searched as a shell searches it. `None`: a hook running it
/// would fail.
pub fn find_program(program: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if let Some(rest) = program.strip_prefix("~/") {
        let path = PathBuf::from(env("HOME")?).join(rest);
        return executable(&path).then_some(path);
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&env("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

/// Quotes `word` for a POSIX shell when it needs it (Claude Code runs a
/// hook's command with the shell).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env_of;

    #[test]
    fn hookmeter_commands_are_recognized_and_others_are_not() {
        for ours in [
            "hookmeter send",
            "/usr/local/bin/hookmeter send --agent reviewer",
            "hookmeter --socket /run/x.sock send",
            "HOOKMETER_AGENT=a HOOKMETER_SPOOL=/s/p hookmeter send",
            "exec hookmeter send",
            "'/opt/my tools/hookmeter' send",
            "hookmeter-hook",
            "/home/me/.local/bin/hookmeter-hook --task T-1",
            "~/bin/hookmeter-hook.sh",
        ] {
            assert!(is_hookmeter_command(ours), "{ours}");
        }
        for theirs in [
            "",
            "hookmeter report",
            "echo hookmeter send",
            "my-logger send",
            "jq . >> /tmp/hookmeter.log",
            "hookmeter-hooked",
            "/usr/bin/notify-send done",
        ] {
            assert!(!is_hookmeter_command(theirs), "{theirs}");
        }
    }

    #[test]
    fn user_settings_follow_claude_config_dir_then_home() {
        let path = |pairs: &[(&str, &str)]| user_settings(&env_of(pairs));
        assert_eq!(
            path(&[("HOME", "/home/u")]).unwrap(),
            PathBuf::from("/home/u/.claude/settings.json")
        );
        assert_eq!(
            path(&[("HOME", "/home/u"), ("CLAUDE_CONFIG_DIR", "/cfg/claude")]).unwrap(),
            PathBuf::from("/cfg/claude/settings.json")
        );
        assert!(path(&[("CLAUDE_CONFIG_DIR", "/a,/b")])
            .unwrap_err()
            .contains("--settings"));
        assert!(path(&[]).unwrap_err().contains("--settings"));
    }

    #[test]
    fn shell_quoting_leaves_plain_paths_alone() {
        assert_eq!(
            shell_quote("/run/user/1000/hm.sock"),
            "/run/user/1000/hm.sock"
        );
        assert_eq!(shell_quote("/tmp/my dir/s"), "'/tmp/my dir/s'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            words(&format!(
                "hookmeter send --socket {}",
                shell_quote("/a b/it's")
            )),
            ["hookmeter", "send", "--socket", "/a b/it's"]
        );
    }
}
