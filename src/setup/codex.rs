//! `hookmeter install-hooks --agent codex`: hookmeter's hooks merged into
//! Codex's `$CODEX_HOME/hooks.json`, and trusted in its `config.toml`.
//!
//! Codex 0.171.0 reads command hooks from `hooks.json` beside its
//! `config.toml`, in the shape Claude Code's settings use (`{"hooks":
//! {"Stop": [{"hooks": [{"type": "command", "command": …}]}]}}`), so the
//! merge is [`super::hooks::merge`] with a [`Hook::CodexCommand`]. Hooks
//! are on by default (`[features] hooks`), but Codex runs one only once it
//! is trusted: `config.toml` must hold `[hooks.state."<key>"] trusted_hash
//! = "sha256:…"` for it, where the key names the file, event and position
//! and the hash is [`trust_hash`] of the hook's definition. Without that, a
//! hook is skipped without a word, also by `codex exec`. Trusting a hook is
//! what the user does in Codex's `/hooks`; installing one is the user asking
//! for it, so the installer records the trust of exactly the hooks it wrote
//! and of nothing else. A later change of the hook (by hand) changes its
//! hash, and Codex asks again.
//!
//! Both files are read and checked before either is written: a file that
//! cannot be merged into is refused and nothing changes. `config.toml` is
//! edited in place ([`toml_edit`]): the user's comments and layout stay.
//!
//! For users: docs/cli.md#hookmeter-install-hooks.

/// What `install-hooks --agent …` was asked to do (shared with the other agents).
pub use super::AgentRequest as Request;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::hooks::{self, Hook, InstallError, Merge};
use super::EVENTS;

/// Codex's hooks file, in its home.
pub const HOOKS_FILE: &str = "hooks.json";
/// Codex's config file, in its home: where trust is recorded.
pub const CONFIG_FILE: &str = "config.toml";
/// The timeout Codex 0.171.0 gives a command hook that sets none, in
/// seconds: part of the definition it hashes. SessionEnd's is 1 s (Codex is
/// exiting), every other event's 600 s.
fn default_timeout_secs(event: &str) -> u64 {
    match event {
        "SessionEnd" => 1,
        _ => 600,
    }
}
/// Feature flags that turn Codex's hooks off when false: `hooks` (0.171.0)
/// and `codex_hooks` (the name in earlier versions).
const HOOK_FEATURES: [&str; 2] = ["hooks", "codex_hooks"];

/// Codex's home: `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(dir) = env("CODEX_HOME").filter(|d| !d.trim().is_empty()) {
        return Ok(PathBuf::from(dir.trim()));
    }
    match env("HOME").filter(|h| h.starts_with('/')) {
        Some(home) => Ok(PathBuf::from(home).join(".codex")),
        None => Err(
            "neither CODEX_HOME nor HOME is set, so Codex's home is unknown; set CODEX_HOME".into(),
        ),
    }
}

/// `home` as Codex names it in trust keys: with symbolic links resolved
/// (Codex canonicalizes its home: a key through a link would not match). A
/// home that does not exist yet is resolved through its nearest existing
/// ancestor.
pub fn resolved_home(home: &Path) -> PathBuf {
    let absolute = std::path::absolute(home).unwrap_or_else(|_| home.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |path, part| path.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// An event's name as Codex writes it in a trust key: `PostToolUse` →
/// `post_tool_use`.
fn snake_case(event: &str) -> String {
    let mut out = String::new();
    for (i, c) in event.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The key Codex records a hook's trust under: the hooks file, the event,
/// the matcher group's and the handler's positions.
pub fn trust_key(hooks_file: &Path, event: &str, group: usize, handler: usize) -> String {
    format!(
        "{}:{}:{group}:{handler}",
        hooks_file.display(),
        snake_case(event)
    )
}

/// The hash Codex 0.171.0 trusts a command hook by: SHA-256 of its
/// normalized definition, `{"event_name", "hooks": [{"async", "command",
/// "timeout", "type"}], "matcher"?}` as compact JSON with sorted keys
/// (found by comparing with the `currentHash` its app server reports).
/// `None` for a handler with fields whose place in that definition is not
/// known (a `statusMessage`, …): its trust is left to the user.
pub fn trust_hash(event: &str, matcher: Option<&str>, handler: &Value) -> Option<String> {
    let fields = handler.as_object()?;
    let known = ["type", "command", "async", "timeout"];
    if fields.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    if fields.get("type")?.as_str()? != "command" {
        return None;
    }
    let mut normalized = BTreeMap::new();
    normalized.insert("type", Value::from("command"));
    normalized.insert("command", fields.get("command")?.as_str()?.into());
    let asynchronous = match fields.get("async") {
        None => false,
        Some(v) => v.as_bool()?,
    };
    normalized.insert("async", asynchronous.into());
    let timeout = match fields.get("timeout") {
        None => default_timeout_secs(event),
        Some(v) => v.as_u64()?,
    };
    normalized.insert("timeout", timeout.into());
    let mut definition = BTreeMap::new();
    definition.insert("event_name", Value::from(snake_case(event)));
    definition.insert(
        "hooks",
        Value::Array(vec![serde_json::to_value(normalized).ok()?]),
    );
    if let Some(matcher) = matcher.filter(|m| !m.is_empty()) {
        definition.insert("matcher", matcher.into());
    }
    let text = serde_json::to_string(&definition).ok()?;
    Some(format!("sha256:{:x}", Sha256::digest(text.as_bytes())))
}

/// One of hookmeter's handlers in `hooks.json` and its trust: key and hash
/// (`None` when Codex's hash of it cannot be made, see [`trust_hash`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub event: &'static str,
    pub key: String,
    pub hash: Option<String>,
    /// The handler's command.
    pub command: String,
}

/// hookmeter's handlers in a parsed `hooks.json` (see
/// [`super::hooks::is_hookmeter_handler`]), or the one `hook` names, with
/// the trust Codex would need for each.
pub fn hookmeter_trusts(settings: &Value, hooks_file: &Path, hook: Option<&Hook>) -> Vec<Trust> {
    let wanted = |handler: &Value| {
        let command = handler
            .get("command")
            .and_then(Value::as_str)
            .map(str::trim);
        let same = match hook {
            Some(Hook::CodexCommand(c)) | Some(Hook::Command(c)) => command == Some(c.as_str()),
            _ => false,
        };
        same || hooks::is_hookmeter_handler(handler)
    };
    let mut trusts = Vec::new();
    for event in EVENTS {
        let Some(groups) = settings
            .pointer(&format!("/hooks/{event}"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for (g, group) in groups.iter().enumerate() {
            let matcher = group.get("matcher").and_then(Value::as_str);
            let Some(handlers) = group.get("hooks").and_then(Value::as_array) else {
                continue;
            };
            for (h, handler) in handlers.iter().enumerate().filter(|(_, h)| wanted(h)) {
                trusts.push(Trust {
                    event,
                    key: trust_key(hooks_file, event, g, h),
                    hash: trust_hash(event, matcher, handler),
                    command: handler
                        .get("command")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
    }
    trusts
}

/// The hash `config.toml` trusts the hook `key` by, if any.
pub fn trusted_hash<'d>(config: &'d toml_edit::DocumentMut, key: &str) -> Option<&'d str> {
    config
        .get("hooks")?
        .get("state")?
        .get(key)?
        .get("trusted_hash")?
        .as_str()
}

/// The feature flag that turns Codex's hooks off in `config`, if one does.
pub fn hooks_disabled_by(config: &toml_edit::DocumentMut) -> Option<&'static str> {
    let features = config.get("features")?;
    HOOK_FEATURES
        .into_iter()
        .find(|name| features.get(name).and_then(|v| v.as_bool()) == Some(false))
}

/// Records the trust of each of `trusts` in `config`; the user's other
/// tables, comments and layout stay. Returns how many entries changed.
/// `Err` names the table in the way (a `hooks` that is not a table).
pub fn record_trust(
    config: &mut toml_edit::DocumentMut,
    trusts: &[Trust],
) -> Result<usize, String> {
    let mut changed = 0;
    for trust in trusts {
        let Some(hash) = &trust.hash else { continue };
        if trusted_hash(config, &trust.key) == Some(hash.as_str()) {
            continue;
        }
        let hooks = config
            .entry("hooks")
            .or_insert_with(implicit_table)
            .as_table_like_mut()
            .ok_or("its `hooks` is not a table")?;
        let state = hooks
            .entry("state")
            .or_insert(implicit_table())
            .as_table_like_mut()
            .ok_or("its `hooks.state` is not a table")?;
        let entry = state
            .entry(&trust.key)
            .or_insert(toml_edit::table())
            .as_table_like_mut()
            .ok_or_else(|| format!("its `hooks.state.\"{}\"` is not a table", trust.key))?;
        entry.insert("trusted_hash", toml_edit::value(hash.as_str()));
        changed += 1;
    }
    Ok(changed)
}

/// A table that shows only through its subtables' headers
/// (`[hooks.state."…"]`), as a user would write it.
fn implicit_table() -> toml_edit::Item {
    let mut table = toml_edit::Table::new();
    table.set_implicit(true);
    toml_edit::Item::Table(table)
}

/// A file as read: its text, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>, InstallError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InstallError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `hooks.json` parsed (an absent or blank file is `{}`).
pub fn parse_hooks(path: &Path, text: Option<&str>) -> Result<Value, InstallError> {
    match text {
        Some(t) if !t.trim().is_empty() => {
            serde_json::from_str(t).map_err(|source| InstallError::Json {
                path: path.to_path_buf(),
                source,
            })
        }
        _ => Ok(Value::Object(Map::new())),
    }
}

/// `config.toml` parsed, keeping its layout.
pub fn parse_config(
    path: &Path,
    text: Option<&str>,
) -> Result<toml_edit::DocumentMut, InstallError> {
    text.unwrap_or_default()
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| InstallError::Toml {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        })
}

/// What [`install`] did, or in a dry run would do.
#[derive(Debug)]
pub struct Installed {
    pub hooks_file: PathBuf,
    pub config_file: PathBuf,
    /// What the merge of `hooks.json` did, event by event.
    pub merge: Merge,
    /// Trust entries added or updated in `config.toml`.
    pub trusted: usize,
    /// hookmeter's hooks whose trust could not be recorded (their keys).
    pub untrusted: Vec<String>,
    /// The feature flag that turns hooks off in `config.toml`, if any.
    pub disabled_by: Option<&'static str>,
    /// Whether (and how) the files were written.
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    /// Nothing to change: nothing written, no backup.
    AlreadyInstalled,
    /// Files written, each with its backup if it existed before.
    Written { backups: Vec<PathBuf> },
    /// `--dry-run`: the unified diffs; nothing written.
    DryRun { diff: String },
}

/// Merges `hook` into `home`'s `hooks.json` and trusts hookmeter's hooks in
/// its `config.toml` (each created when missing, with the directory).
/// `now` names the backups.
pub fn install(
    home: &Path,
    hook: &Hook,
    dry_run: bool,
    now: jiff::Timestamp,
) -> Result<Installed, InstallError> {
    let hooks_file = home.join(HOOKS_FILE);
    let config_file = home.join(CONFIG_FILE);
    let old_hooks = read(&hooks_file)?;
    let old_config = read(&config_file)?;
    let current = parse_hooks(&hooks_file, old_hooks.as_deref())?;
    let mut config = parse_config(&config_file, old_config.as_deref())?;
    let merge = hooks::merge(current.clone(), hook).map_err(|source| InstallError::Shape {
        path: hooks_file.clone(),
        source,
    })?;
    let trusts = hookmeter_trusts(&merge.settings, &hooks_file, Some(hook));
    let trusted = record_trust(&mut config, &trusts).map_err(|reason| InstallError::Toml {
        path: config_file.clone(),
        reason: format!("{reason}; hookmeter will not guess, fix it by hand"),
    })?;
    let hooks_changed = old_hooks.is_none() || merge.settings != current;
    let old_hooks_text = old_hooks.clone().unwrap_or_default();
    let new_hooks_text = hooks::render_settings(&merge.settings, hooks::indent_of(&old_hooks_text));
    let new_config_text = config.to_string();
    let config_changed = trusted > 0;
    let installed = |outcome| Installed {
        hooks_file: hooks_file.clone(),
        config_file: config_file.clone(),
        merge: merge.clone(),
        trusted,
        untrusted: trusts
            .iter()
            .filter(|t| t.hash.is_none())
            .map(|t| t.key.clone())
            .collect(),
        disabled_by: hooks_disabled_by(&config),
        outcome,
    };
    if !hooks_changed && !config_changed {
        return Ok(installed(Outcome::AlreadyInstalled));
    }
    let changes = [
        (hooks_changed, &hooks_file, &old_hooks, new_hooks_text),
        (config_changed, &config_file, &old_config, new_config_text),
    ];
    if dry_run {
        let mut diff = String::new();
        for (changed, path, old, new) in &changes {
            if !changed {
                continue;
            }
            let shown = path.display().to_string();
            let from = if old.is_some() {
                shown.as_str()
            } else {
                "/dev/null"
            };
            let old_text = old.as_deref().unwrap_or_default();
            diff.push_str(
                &similar::TextDiff::from_lines(old_text, new.as_str())
                    .unified_diff()
                    .header(from, &shown)
                    .to_string(),
            );
        }
        return Ok(installed(Outcome::DryRun { diff }));
    }
    let mut backups = Vec::new();
    for (changed, path, old, _) in &changes {
        if let (true, Some(old)) = (changed, old) {
            backups.push(hooks::back_up(path, old.as_bytes(), now)?);
        }
    }
    // hooks.json first: should config.toml then fail, the new hooks are
    // merely untrusted (Codex skips them), never trusted and absent.
    for (changed, path, _, new) in &changes {
        if *changed {
            crate::user_files::replace_atomically(path, new.as_bytes()).map_err(|source| {
                InstallError::Write {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        }
    }
    Ok(installed(Outcome::Written { backups }))
}

/// What to tell the user about `installed`.
pub fn render(installed: &Installed, hook: &Hook) -> String {
    let hooks_file = installed.hooks_file.display();
    let config_file = installed.config_file.display();
    let mut what = installed.merge.changes();
    if installed.trusted > 0 {
        what.push(format!(
            "trusted {} in {config_file} ([hooks.state])",
            installed.trusted
        ));
    }
    let mut out = match &installed.outcome {
        Outcome::AlreadyInstalled => format!(
            "hookmeter's Codex hooks are already installed in {hooks_file} and trusted; nothing changed.\n"
        ),
        Outcome::DryRun { diff } => {
            format!("{diff}Dry run: would have {}; nothing was written.\n", what.join("; "))
        }
        Outcome::Written { backups } => {
            let mut out = format!(
                "Installed hookmeter's Codex hooks in {hooks_file}: {}.\n",
                what.join("; ")
            );
            out.push_str(&hook.describe());
            for backup in backups {
                out.push_str(&format!("The previous file is saved as {}.\n", backup.display()));
            }
            out
        }
    };
    if !installed.untrusted.is_empty() {
        out.push_str(&format!(
            "Not trusted (hookmeter cannot tell Codex's hash of a hook with other fields): {}; \
             trust them in Codex's /hooks, or Codex skips them.\n",
            installed.untrusted.join(", ")
        ));
    }
    if let Some(flag) = installed.disabled_by {
        out.push_str(&format!(
            "Codex's hooks are turned off in {config_file} (`[features] {flag} = false`): \
             none runs until that is removed; hookmeter leaves that setting to you.\n"
        ));
    }
    out
}

/// `install-hooks --agent codex` from start to end: finds Codex's home,
/// settles the command, merges, trusts, writes, and returns what to print.
pub fn run(
    request: &Request,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InstallError> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let home = resolved_home(&codex_home(env).map_err(InstallError::Target)?);
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
    let hook = Hook::CodexCommand(command);
    let installed = install(&home, &hook, request.dry_run, jiff::Timestamp::now())?;
    let mut out = settled.notice.map(|n| n + "\n").unwrap_or_default();
    out.push_str(&render(&installed, &hook));
    Ok(out)
}

/// What `doctor` found of Codex's hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorFacts {
    /// Codex's home, as [`codex_home`] works it out (`None`: it cannot).
    pub home: Option<PathBuf>,
    pub state: DoctorState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoctorState {
    /// No Codex home: Codex is not used here, nothing to check.
    NoCodex,
    /// `hooks.json` or `config.toml` cannot be read or parsed: why.
    Unreadable(String),
    Read {
        /// The events (of [`EVENTS`]) with a hookmeter hook.
        events: Vec<&'static str>,
        /// Of those, the events whose hookmeter hook Codex does not trust
        /// (no `trusted_hash`, or one of an earlier definition).
        untrusted: Vec<&'static str>,
        /// The feature flag that turns hooks off, if one does.
        disabled_by: Option<&'static str>,
        /// Programs hookmeter's hooks run that cannot be found.
        lost_programs: Vec<String>,
    },
}

/// Looks (only) at Codex's hooks for `doctor`.
pub fn look(env: &dyn Fn(&str) -> Option<String>) -> DoctorFacts {
    let Ok(home) = codex_home(env) else {
        return DoctorFacts {
            home: None,
            state: DoctorState::NoCodex,
        };
    };
    let home = resolved_home(&home);
    let state = look_in(&home, env);
    DoctorFacts {
        home: Some(home),
        state,
    }
}

fn look_in(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> DoctorState {
    if !home.is_dir() {
        return DoctorState::NoCodex;
    }
    let hooks_file = home.join(HOOKS_FILE);
    let config_file = home.join(CONFIG_FILE);
    let read_both = || -> Result<(Value, toml_edit::DocumentMut), InstallError> {
        let hooks = parse_hooks(&hooks_file, read(&hooks_file)?.as_deref())?;
        let config = parse_config(&config_file, read(&config_file)?.as_deref())?;
        Ok((hooks, config))
    };
    let (hooks, config) = match read_both() {
        Ok(both) => both,
        Err(e) => return DoctorState::Unreadable(e.to_string()),
    };
    let trusts = hookmeter_trusts(&hooks, &hooks_file, None);
    let mut events: Vec<&'static str> = Vec::new();
    let mut untrusted = Vec::new();
    let mut lost_programs = Vec::new();
    for trust in &trusts {
        if !events.contains(&trust.event) {
            events.push(trust.event);
        }
        let trusted = trust
            .hash
            .as_deref()
            .is_some_and(|hash| trusted_hash(&config, &trust.key) == Some(hash));
        if !trusted && !untrusted.contains(&trust.event) {
            untrusted.push(trust.event);
        }
        if let Some((program, _)) = super::program_and_args(&trust.command) {
            if super::find_program(&program, env).is_none() && !lost_programs.contains(&program) {
                lost_programs.push(program);
            }
        }
    }
    DoctorState::Read {
        events,
        untrusted,
        disabled_by: hooks_disabled_by(&config),
        lost_programs,
    }
}

/// The `codex.hooks` finding: (status, finding, fix), judged from `facts`
/// alone. Codex not being used is fine; hooks that would not run fail.
pub fn assess(facts: &DoctorFacts) -> (super::doctor::Status, String, Option<String>) {
    use super::doctor::Status;
    let home = facts
        .home
        .as_deref()
        .map_or("$CODEX_HOME".into(), |h| h.display().to_string());
    let install = "`hookmeter install-hooks --agent codex`".to_string();
    match &facts.state {
        DoctorState::NoCodex => (
            Status::Ok,
            format!("no Codex home at {home}: Codex is not used here"),
            None,
        ),
        DoctorState::Unreadable(why) => (
            Status::Fail,
            format!("Codex's hooks cannot be checked: {why}"),
            Some("fix the file by hand, then run doctor again".into()),
        ),
        DoctorState::Read {
            events,
            untrusted,
            disabled_by,
            lost_programs,
        } => {
            if events.is_empty() {
                return (
                    Status::Warn,
                    format!(
                        "no hook in {home}/{HOOKS_FILE} runs hookmeter: Codex's hook events are not recorded"
                    ),
                    Some(install),
                );
            }
            if let Some(flag) = disabled_by {
                return (
                    Status::Fail,
                    format!(
                        "Codex's hooks are turned off (`[features] {flag} = false` in {home}/{CONFIG_FILE}): none runs"
                    ),
                    Some(format!("remove `{flag} = false` from [features]")),
                );
            }
            if !lost_programs.is_empty() {
                return (
                    Status::Fail,
                    format!(
                        "{} (run by Codex's hooks) cannot be found: the hooks would fail without a word",
                        lost_programs.join(", ")
                    ),
                    Some(format!(
                        "put hookmeter on the PATH Codex runs with, or run {install} again (it writes this binary's absolute path)"
                    )),
                );
            }
            if !untrusted.is_empty() {
                return (
                    Status::Fail,
                    format!(
                        "Codex does not trust hookmeter's hook on {}: it skips an untrusted hook without a word",
                        untrusted.join(", ")
                    ),
                    Some(format!("{install} (it trusts the hooks it writes), or trust them in Codex's /hooks")),
                );
            }
            let missing: Vec<&str> = EVENTS.into_iter().filter(|e| !events.contains(e)).collect();
            if !missing.is_empty() {
                return (
                    Status::Warn,
                    format!("Codex's hooks miss {}", missing.join(", ")),
                    Some(format!("{install} adds the missing ones")),
                );
            }
            (
                Status::Ok,
                format!(
                    "{home}/{HOOKS_FILE} runs hookmeter on {}, trusted",
                    events.join(", ")
                ),
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook() -> Hook {
        Hook::CodexCommand("hookmeter send".into())
    }

    fn now() -> jiff::Timestamp {
        "2026-12-06T12:00:00Z".parse().unwrap()
    }

    /// Hashes the real Codex 0.171.0 reported (`currentHash` of its app
    /// server's `hooks/list`) for hooks.json entries, against ours.
    #[test]
    fn trust_hashes_are_the_ones_codex_computes() {
        let command = json!({"type": "command", "command": "hookmeter send"});
        assert_eq!(
            trust_hash("SessionStart", None, &command).unwrap(),
            "sha256:a92a81f8f4f4f3e076ad6cf195437fabee822b4795e702907bdf436f2169742f"
        );
        let timed = json!({"type": "command", "command": "hookmeter send", "timeout": 10});
        assert_eq!(
            trust_hash("Stop", Some(""), &timed).unwrap(),
            "sha256:d217cb9a973a27a69000152538cfaeffb8725f1202a7690e79c3faf301740030"
        );
        let x = json!({"type": "command", "command": "x"});
        assert_eq!(
            trust_hash("PreToolUse", Some("Bash"), &x).unwrap(),
            "sha256:8b3de0db500a24df6d2c8ddb5e04090edd5f3066951d7e252357fb79bb6bbd16"
        );
        assert_eq!(
            trust_hash("PreToolUse", Some("*"), &x).unwrap(),
            "sha256:d45cad3a97f5da232114b0dc9ca05a3f9e009c837ab5cce24784763e811e223d"
        );
        let send = json!({"type": "command", "command": "/opt/hm/hookmeter send"});
        assert_eq!(
            trust_hash("SessionEnd", None, &send).unwrap(),
            "sha256:20481fdc366a214723d17a40691adca8d4b30552d066089c271e7168cabcdb67"
        );
        let with_status = json!({"type": "command", "command": "x", "statusMessage": "…"});
        assert_eq!(trust_hash("Stop", None, &with_status), None);
        assert_eq!(
            trust_key(Path::new("/h/.codex/hooks.json"), "PostToolUse", 0, 1),
            "/h/.codex/hooks.json:post_tool_use:0:1"
        );
    }

    fn home() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn install_in(dir: &Path, dry_run: bool) -> Installed {
        install(dir, &hook(), dry_run, now()).unwrap()
    }

    #[test]
    fn an_empty_home_gets_every_hook_trusted() {
        let dir = home();
        let installed = install_in(dir.path(), false);
        assert!(matches!(&installed.outcome, Outcome::Written { backups } if backups.is_empty()));
        let hooks: Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join(HOOKS_FILE)).unwrap())
                .unwrap();
        for event in EVENTS {
            assert_eq!(
                hooks["hooks"][event],
                json!([{"hooks": [{"type": "command", "command": "hookmeter send"}]}]),
                "{event}"
            );
        }
        let config = parse_config(
            Path::new("c"),
            Some(&fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap()),
        )
        .unwrap();
        let file = dir.path().join(HOOKS_FILE);
        for event in EVENTS {
            let key = trust_key(&file, event, 0, 0);
            let want = trust_hash(event, None, &hooks["hooks"][event][0]["hooks"][0]);
            assert_eq!(trusted_hash(&config, &key), want.as_deref(), "{key}");
        }
        assert_eq!(installed.trusted, EVENTS.len());
    }

    #[test]
    fn the_users_hooks_settings_and_comments_stay_and_a_second_run_changes_nothing() {
        let dir = home();
        let user_hooks = r#"{
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}]
    },
    "theirs": 1
}
"#;
        let user_config = "# my settings\nmodel = \"gpt-5.1-codex\" # the default\n\n[hooks.state.\"/elsewhere:stop:0:0\"]\ntrusted_hash = \"sha256:00\"\n\n[model_providers.x]\nname = \"x\"\n";
        fs::write(dir.path().join(HOOKS_FILE), user_hooks).unwrap();
        fs::write(dir.path().join(CONFIG_FILE), user_config).unwrap();
        let first = install_in(dir.path(), false);
        let Outcome::Written { backups } = &first.outcome else {
            panic!("{:?}", first.outcome)
        };
        assert_eq!(backups.len(), 2);
        assert_eq!(fs::read_to_string(&backups[0]).unwrap(), user_hooks);
        assert_eq!(fs::read_to_string(&backups[1]).unwrap(), user_config);
        let hooks: Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join(HOOKS_FILE)).unwrap())
                .unwrap();
        assert_eq!(hooks["theirs"], 1);
        assert_eq!(
            hooks["hooks"]["Stop"][0]["hooks"][0]["command"],
            "notify-send done"
        );
        assert_eq!(
            hooks["hooks"]["Stop"][1]["hooks"][0]["command"],
            "hookmeter send"
        );
        assert_eq!(hooks["hooks"]["PreToolUse"][0]["matcher"], "Bash");
        let config_text = fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        for kept in [
            "# my settings\nmodel = \"gpt-5.1-codex\" # the default\n",
            "[hooks.state.\"/elsewhere:stop:0:0\"]\ntrusted_hash = \"sha256:00\"\n",
            "[model_providers.x]\nname = \"x\"\n",
        ] {
            assert!(config_text.contains(kept), "{kept} in {config_text}");
        }
        // Ours is the second Stop group: its key says so.
        let config = parse_config(Path::new("c"), Some(&config_text)).unwrap();
        let key = trust_key(&dir.path().join(HOOKS_FILE), "Stop", 1, 0);
        assert!(trusted_hash(&config, &key).is_some(), "{config_text}");
        // Not the user's own hooks: trusting those is theirs to do.
        let theirs = trust_key(&dir.path().join(HOOKS_FILE), "Stop", 0, 0);
        assert_eq!(trusted_hash(&config, &theirs), None);

        let second = install_in(dir.path(), false);
        assert!(
            matches!(second.outcome, Outcome::AlreadyInstalled),
            "{:?}",
            second.outcome
        );
        assert_eq!(
            fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(),
            config_text
        );
        let files = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 4, "two files and the first run's two backups");
    }

    #[test]
    fn a_dry_run_shows_both_diffs_and_writes_nothing() {
        let dir = home();
        fs::write(dir.path().join(CONFIG_FILE), "model = \"m\"\n").unwrap();
        let installed = install_in(dir.path(), true);
        let Outcome::DryRun { diff } = &installed.outcome else {
            panic!("{:?}", installed.outcome)
        };
        assert!(diff.contains("--- /dev/null"), "{diff}");
        assert!(
            diff.contains("+            \"command\": \"hookmeter send\""),
            "{diff}"
        );
        assert!(diff.contains("+trusted_hash = \"sha256:"), "{diff}");
        assert!(!dir.path().join(HOOKS_FILE).exists());
        assert_eq!(
            fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(),
            "model = \"m\"\n"
        );
    }

    #[test]
    fn a_file_it_cannot_read_is_refused_and_nothing_changes() {
        for (hooks_text, config_text, says) in [
            ("{not json", "", "hooks.json is not valid JSON"),
            ("[]", "", "not an object"),
            ("{}", "model = = 1", "config.toml is not valid TOML"),
            ("{}", "hooks = 3", "`hooks` is not a table"),
        ] {
            let dir = home();
            fs::write(dir.path().join(HOOKS_FILE), hooks_text).unwrap();
            fs::write(dir.path().join(CONFIG_FILE), config_text).unwrap();
            let error = install(dir.path(), &hook(), false, now())
                .unwrap_err()
                .to_string();
            assert!(error.contains(says), "{error}");
            assert!(
                error.contains("nothing was changed") || error.contains("by hand"),
                "{error}"
            );
            assert_eq!(
                fs::read_to_string(dir.path().join(HOOKS_FILE)).unwrap(),
                hooks_text
            );
            assert_eq!(
                fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(),
                config_text
            );
            assert_eq!(
                fs::read_dir(dir.path()).unwrap().count(),
                2,
                "no backup left"
            );
        }
    }

    #[test]
    fn doctor_sees_installed_untrusted_disabled_and_lost_hooks() {
        use crate::setup::doctor::Status;
        let dir = home();
        let env_path = std::env::var("PATH").unwrap_or_default();
        let env = |name: &str| match name {
            "PATH" => Some(env_path.clone()),
            _ => None,
        };
        let status = |dir: &Path| {
            assess(&DoctorFacts {
                home: Some(dir.to_path_buf()),
                state: look_in(dir, &env),
            })
        };
        assert_eq!(
            status(&dir.path().join("absent")).0,
            Status::Ok,
            "no Codex here"
        );
        assert_eq!(
            status(dir.path()).0,
            Status::Warn,
            "Codex without hookmeter's hooks"
        );
        // A program that exists, named hookmeter: `sh` stands in for it.
        let sh = super::super::find_program("sh", &env).unwrap();
        let sh_hookmeter = dir.path().join("hookmeter");
        std::os::unix::fs::symlink(&sh, &sh_hookmeter).unwrap();
        let hook = Hook::CodexCommand(format!("{} send", sh_hookmeter.display()));
        install(dir.path(), &hook, false, now()).unwrap();
        let (ok, finding, _) = status(dir.path());
        assert_eq!(ok, Status::Ok, "{finding}");
        // A hand edit of the hook: no longer the definition Codex trusted.
        let file = dir.path().join(HOOKS_FILE);
        let edited = fs::read_to_string(&file)
            .unwrap()
            .replacen(" send\"", " send --agent x\"", 1);
        fs::write(&file, edited).unwrap();
        let (fail, finding, fix) = status(dir.path());
        assert_eq!(fail, Status::Fail);
        assert!(finding.contains("does not trust"), "{finding}");
        assert!(fix.unwrap().contains("install-hooks --agent codex"));
        // The binary is gone.
        install(dir.path(), &hook, false, now()).unwrap();
        fs::remove_file(&sh_hookmeter).unwrap();
        let (fail, finding, _) = status(dir.path());
        assert_eq!(fail, Status::Fail);
        assert!(finding.contains("cannot be found"), "{finding}");
        // Hooks turned off.
        fs::write(
            dir.path().join(CONFIG_FILE),
            "[features]\ncodex_hooks = false\n",
        )
        .unwrap();
        let (fail, finding, _) = status(dir.path());
        assert_eq!(fail, Status::Fail);
        assert!(finding.contains("codex_hooks = false"), "{finding}");
        fs::write(&file, "{oops").unwrap();
        assert_eq!(status(dir.path()).0, Status::Fail);
    }

    #[test]
    fn a_home_through_a_link_is_named_as_codex_names_it() {
        let dir = home();
        let real = fs::canonicalize(dir.path()).unwrap().join("real");
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        assert_eq!(resolved_home(&dir.path().join("link")), real);
        assert_eq!(
            resolved_home(&dir.path().join("link/not/yet")),
            real.join("not/yet")
        );
    }

    #[test]
    fn hooks_turned_off_are_reported_not_turned_on() {
        let dir = home();
        fs::write(dir.path().join(CONFIG_FILE), "[features]\nhooks = false\n").unwrap();
        let installed = install_in(dir.path(), false);
        assert_eq!(installed.disabled_by, Some("hooks"));
        assert!(render(&installed, &hook()).contains("`[features] hooks = false`"));
        let config = fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        assert!(
            config.starts_with("[features]\nhooks = false\n"),
            "{config}"
        );
    }
}
