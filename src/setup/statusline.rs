//! `install-hooks --statusline`: Claude Code's `statusLine` setting pointed
//! at `hookmeter statusline`, in the same settings.json the hooks go to.
//! A user's own status line is kept unless `--force`; `--remove` takes
//! hookmeter's out again (and leaves anyone else's alone). Every change is
//! shown as a diff; the file is backed up before it is replaced.
//!
//! For users: docs/cli.md#hookmeter-install-hooks.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::hooks::{
    indent_of, read_existing, render_settings, settings_diff, write_backed_up, InstallError,
};

/// What the merge decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `statusLine` set (there was none, or `--force` replaced the user's).
    Set,
    /// hookmeter's earlier `statusLine` brought up to date.
    Updated,
    /// Already exactly this.
    Unchanged,
    /// The user's own `statusLine`, kept: its command.
    KeptUsers(String),
    /// `--remove`: hookmeter's taken out.
    Removed,
    /// `--remove` with no hookmeter `statusLine` there.
    NothingToRemove,
}

/// True for a `statusLine` that runs `hookmeter statusline`.
pub fn is_hookmeter_statusline(setting: &Value) -> bool {
    let Some(command) = setting.get("command").and_then(Value::as_str) else {
        return false;
    };
    let Some((program, args)) = super::program_and_args(command) else {
        return false;
    };
    program.rsplit('/').next() == Some("hookmeter") && args.iter().any(|a| a == "statusline")
}

/// `settings` with hookmeter's `statusLine` running `command` (or, with
/// `remove`, without it). Pure.
pub fn merge(
    mut settings: Map<String, Value>,
    command: &str,
    force: bool,
    remove: bool,
) -> (Map<String, Value>, Decision) {
    let ours = json!({"type": "command", "command": command});
    let current = settings.get("statusLine").cloned();
    let decision = match (&current, remove) {
        (Some(c), true) if is_hookmeter_statusline(c) => {
            settings.remove("statusLine");
            Decision::Removed
        }
        (_, true) => Decision::NothingToRemove,
        (Some(c), false) if *c == ours => Decision::Unchanged,
        (Some(c), false) if is_hookmeter_statusline(c) => Decision::Updated,
        (Some(c), false) if !force => Decision::KeptUsers(
            c.get("command")
                .and_then(Value::as_str)
                .unwrap_or("(not a command)")
                .to_string(),
        ),
        _ => Decision::Set,
    };
    if matches!(decision, Decision::Set | Decision::Updated) {
        settings.insert("statusLine".into(), ours);
    }
    (settings, decision)
}

/// Reads the settings file at `path`, merges, and (unless `dry_run`)
/// backs it up and writes it. Returns what to print: the diff, then what
/// was done.
pub fn install(
    path: &Path,
    command: &str,
    force: bool,
    remove: bool,
    dry_run: bool,
) -> Result<String, InstallError> {
    let old = read_existing(path)?;
    let old_text = old
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default()
        .into_owned();
    let current: Value = match old.as_deref() {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(bytes)
            .map_err(|source| InstallError::Json {
                path: path.to_path_buf(),
                source,
            })?,
        _ => Value::Object(Map::new()),
    };
    let Value::Object(object) = current else {
        return Err(InstallError::Target(format!(
            "{} is not a JSON object; nothing was changed",
            path.display()
        )));
    };
    let (merged, decision) = merge(object, command, force, remove);
    let shown = path.display();
    let said = match &decision {
        Decision::Unchanged => {
            return Ok(format!(
                "{shown} already runs `{command}` as its statusLine; nothing changed.\n"
            ))
        }
        Decision::NothingToRemove => {
            return Ok(format!(
                "{shown} has no hookmeter statusLine; nothing changed.\n"
            ))
        }
        Decision::KeptUsers(theirs) => {
            return Ok(format!(
                "{shown} already has a statusLine of its own (`{theirs}`); kept. \
                 --force replaces it with `{command}` (the file is backed up first).\n"
            ))
        }
        Decision::Set => format!("statusLine set to `{command}`"),
        Decision::Updated => format!("hookmeter's statusLine updated to `{command}`"),
        Decision::Removed => "hookmeter's statusLine removed".to_string(),
    };
    let new_text = render_settings(&Value::Object(merged), indent_of(&old_text));
    let diff = settings_diff(path, old.is_some(), &old_text, &new_text);
    if dry_run {
        return Ok(format!(
            "{diff}Dry run: {said} in {shown}; nothing was written.\n"
        ));
    }
    let backup = write_backed_up(path, old.as_deref(), &new_text, jiff::Timestamp::now())?;
    let mut out = format!("{diff}{said} in {shown}.\n");
    if let Some(backup) = backup {
        out.push_str(&format!(
            "The previous file is saved as {}.\n",
            backup.display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn keeps_a_users_line_unless_forced_and_removes_only_its_own() {
        let users = object(json!({"statusLine": {"type": "command", "command": "~/bin/line.sh"}}));
        let (kept, decision) = merge(users.clone(), "hookmeter statusline", false, false);
        assert_eq!(kept, users);
        assert_eq!(decision, Decision::KeptUsers("~/bin/line.sh".into()));
        let (forced, decision) = merge(users.clone(), "hookmeter statusline", true, false);
        assert_eq!(decision, Decision::Set);
        assert_eq!(forced["statusLine"]["command"], "hookmeter statusline");
        let (_, decision) = merge(users, "hookmeter statusline", false, true);
        assert_eq!(decision, Decision::NothingToRemove);
        let (removed, decision) = merge(forced, "x", false, true);
        assert_eq!(decision, Decision::Removed);
        assert!(!removed.contains_key("statusLine"));
    }

    #[test]
    fn an_older_hookmeter_line_is_updated_and_the_same_one_unchanged() {
        let older = object(
            json!({"statusLine": {"type": "command", "command": "/opt/hookmeter statusline --plain"}}),
        );
        let (_, decision) = merge(older, "hookmeter statusline", false, false);
        assert_eq!(decision, Decision::Updated);
        let same =
            object(json!({"statusLine": {"type": "command", "command": "hookmeter statusline"}}));
        assert_eq!(
            merge(same, "hookmeter statusline", false, false).1,
            Decision::Unchanged
        );
    }
}
