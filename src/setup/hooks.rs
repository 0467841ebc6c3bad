//! `hookmeter install-hooks`: hookmeter's hook entries merged into a Claude
//! Code `settings.json`.
//!
//! The merge ([`merge`]) is a pure function of the parsed file and the
//! [`Hook`] to install (a command, or with `--http` a `type: "http"` hook
//! posting to the daemon's `POST /hook`): every key and every other hook
//! stays, hookmeter's own earlier entries of either kind (see
//! [`is_hookmeter_handler`]) are updated where they are, and an event
//! without one gets the entry of `hooks/claude-settings.example.json` (or
//! its http counterpart). [`install`] is its edge: it reads
//! the file, refuses one it cannot merge into without touching it, backs the
//! old file up under a name of its own and replaces it atomically. It never
//! writes when nothing would change.
//!
//! Before any of that, [`settle_program`] makes sure the hooks' program would
//! be found when a hook runs: a hook whose command is not found fails without
//! a word in Claude Code, so every event would be lost unseen.
//!
//! For users: docs/cli.md#hookmeter-install-hooks.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::ingest::json_kind;
use serde_json::{Map, Value};

use super::{shell_quote, DEFAULT_COMMAND, EVENTS};

/// Which settings file to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The user's: `$CLAUDE_CONFIG_DIR/settings.json` or `~/.claude/settings.json`.
    User,
    /// A project's shared settings: `DIR/.claude/settings.json`.
    Project(PathBuf),
    /// This file.
    File(PathBuf),
}

/// What `hookmeter install-hooks` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which settings file.
    pub target: Target,
    /// `--command`: the hooks' command instead of `hookmeter send`.
    pub command: Option<String>,
    /// The global `--socket` flag, when given: appended to the command so
    /// the hooks reach that daemon.
    pub socket: Option<PathBuf>,
    /// The global `--spool` flag, when given: appended likewise.
    pub spool: Option<PathBuf>,
    /// Print the change as a diff; write nothing.
    pub dry_run: bool,
    /// `--http`: `type: "http"` hooks to the daemon's `POST /hook` instead
    /// of the command.
    pub http: Option<HttpHooks>,
}

/// What `--http` hooks are built from: the daemon's HTTP settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHooks {
    /// The HTTP listen address (`--http ADDR`, `HOOKMETER_HTTP`, the config
    /// file's `http`); `None` when it is `off`.
    pub listen: Option<String>,
    /// Whether the API asks for a token (`[http] token`,
    /// `HOOKMETER_HTTP_TOKEN`). Only whether: the token itself is never
    /// written into a settings file.
    pub token: bool,
}

impl HttpHooks {
    /// The daemon's HTTP settings as `flags` and `env` resolve them: only
    /// `--http` hooks need the config file to load. `Err` is the config's
    /// one-line error.
    pub fn resolve(
        flags: &crate::config::Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HttpHooks, String> {
        let config = crate::config::Config::resolve(flags, env).map_err(|e| e.to_string())?;
        Ok(HttpHooks {
            listen: config.http.clone(),
            token: config.http_token.is_some(),
        })
    }
}

/// The environment variable an http hook reads the token from, in Claude
/// Code's environment (the name the daemon reads it from too).
pub const TOKEN_VAR: &str = "HOOKMETER_HTTP_TOKEN";

/// Seconds Claude Code waits for an http hook hookmeter adds: the daemon
/// answers once the event is committed, in milliseconds; a wedged daemon
/// must not hold every tool use up for long (an http hook cannot be
/// `async`, and a timeout does not block Claude Code).
const HTTP_TIMEOUT_SECS: u64 = 5;

/// The hook handler hookmeter installs on each event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// `type: "command"` running this, `async`.
    Command(String),
    /// A Codex `type: "command"` hook running this, not `async`: Codex
    /// 0.171.0 runs an async SessionEnd hook synchronously anyway (with a
    /// warning), and `hookmeter send` is bounded by its own time budget.
    CodexCommand(String),
    /// A Gemini CLI `type: "command"` hook running this: Gemini CLI 0.61.0
    /// has no `async` (it waits for each hook, up to its 60 s default
    /// timeout; `hookmeter send` is bounded by its own time budget).
    GeminiCommand(String),
    /// `type: "http"` posting the payload to `url`; with `token`, its
    /// `Authorization` header is filled from [`TOKEN_VAR`] by Claude Code.
    Http { url: String, token: bool },
}

impl Hook {
    /// The fields hookmeter owns on its handler of this kind: set on every
    /// install. Other fields (a `timeout`, a `statusMessage`) are the user's.
    fn owned(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        match self {
            Hook::Command(command) => {
                fields.insert("type".into(), "command".into());
                fields.insert("command".into(), command.as_str().into());
                fields.insert("async".into(), true.into());
            }
            Hook::CodexCommand(command) | Hook::GeminiCommand(command) => {
                fields.insert("type".into(), "command".into());
                fields.insert("command".into(), command.as_str().into());
            }
            Hook::Http { url, token } => {
                fields.insert("type".into(), "http".into());
                fields.insert("url".into(), url.as_str().into());
                if *token {
                    // Claude Code fills `$NAME` in header values, only for
                    // the names `allowedEnvVars` lists.
                    fields.insert(
                        "headers".into(),
                        serde_json::json!({"Authorization": format!("Bearer ${TOKEN_VAR}")}),
                    );
                    fields.insert("allowedEnvVars".into(), serde_json::json!([TOKEN_VAR]));
                }
            }
        }
        fields
    }

    /// A new handler: the owned fields, and for http a short timeout.
    fn handler(&self) -> Value {
        let mut handler = self.owned();
        if matches!(self, Hook::Http { .. }) {
            handler.insert("timeout".into(), HTTP_TIMEOUT_SECS.into());
        }
        Value::Object(handler)
    }

    /// Updates `handler`, hookmeter's, to this hook. One of the same kind
    /// keeps its place, its keys' order and the user's fields; one of the
    /// other kind (switching between `--http` and a command) is replaced.
    fn update(&self, handler: &mut Value) {
        if handler.get("type").and_then(Value::as_str) != Some(self.kind()) {
            *handler = self.handler();
            return;
        }
        let Value::Object(fields) = handler else {
            return;
        };
        if let Hook::Http { token: false, .. } = self {
            // A token hookmeter asked for before and no longer does.
            fields.remove("headers");
            fields.remove("allowedEnvVars");
        }
        for (key, value) in self.owned() {
            // insert() keeps an existing key where it is.
            fields.insert(key, value);
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Hook::Command(_) | Hook::CodexCommand(_) | Hook::GeminiCommand(_) => "command",
            Hook::Http { .. } => "http",
        }
    }

    /// What the user is told the hooks do.
    pub(super) fn describe(&self) -> String {
        match self {
            Hook::Command(command) | Hook::CodexCommand(command) | Hook::GeminiCommand(command) => {
                format!("The hooks run `{command}`.\n")
            }
            Hook::Http { url, token: false } => format!("The hooks post to {url}.\n"),
            Hook::Http { url, token: true } => format!(
                "The hooks post to {url} with `Authorization: Bearer ${TOKEN_VAR}`; the token is not \
                 in the file: Claude Code must be started with {TOKEN_VAR} set to it in its environment.\n"
            ),
        }
    }
}

/// Why a settings file cannot take hookmeter's entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("its top level is {0}, not an object")]
    NotAnObject(&'static str),
    #[error("its \"hooks\" is {0}, not an object")]
    HooksNotAnObject(&'static str),
    #[error("its \"hooks\".\"{event}\" is {kind}, not an array")]
    EventNotAnArray {
        event: &'static str,
        kind: &'static str,
    },
}

/// Why `install-hooks` changed nothing. Each is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The target could not be worked out (no HOME, a list in CLAUDE_CONFIG_DIR).
    #[error("{0}")]
    Target(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not valid JSON ({source}); nothing was changed")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {source}; hookmeter will not guess, fix it by hand (nothing was changed)")]
    Shape { path: PathBuf, source: ShapeError },
    #[error("{path} is not valid TOML ({reason}); nothing was changed")]
    Toml { path: PathBuf, reason: String },
    #[error("cannot back up {path} to {backup}: {source}; nothing was changed")]
    Backup {
        path: PathBuf,
        backup: PathBuf,
        source: io::Error,
    },
    #[error("cannot write {path}: {source}; the previous file is unchanged")]
    Write { path: PathBuf, source: io::Error },
    /// `--http` with the HTTP API off, or on an address a hook cannot post to.
    #[error("{0}; nothing was changed")]
    Http(String),
    /// The program of `--command` is a bare name not found on PATH.
    #[error(
        "`{program}` is not on PATH ({path}), so hooks running `{command}` would fail without a word; \
         put it on PATH (hookmeter itself: `cargo install --locked --path .`, into ~/.cargo/bin), \
         or give its absolute path: --command \"{example}\"; nothing was changed"
    )]
    NotOnPath {
        program: String,
        command: String,
        /// The command with `/abs/path/` before its program.
        example: String,
        path: String,
    },
    /// hookmeter is not on PATH and where this binary lives cannot be told.
    #[error(
        "hookmeter is not on PATH ({path}) and the path of this binary cannot be found ({source}); \
         install it with `cargo install --locked --path .`, or pass --command \"/abs/path/hookmeter send\"; \
         nothing was changed"
    )]
    NoOwnPath { path: String, source: io::Error },
}

/// The hooks' base command once its program is known to be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The command to install (before `--socket` and `--spool` are added).
    pub base: String,
    /// Set when the default `hookmeter send` was replaced by this binary's
    /// absolute path: the line that tells the user so.
    pub notice: Option<String>,
}

/// Makes sure a hook would find the program of its command: `requested`
/// (`--command`), or [`DEFAULT_COMMAND`] when `None`. A program named by a
/// path is taken as given; a bare name is looked up with `find` (PATH, as
/// the shell that runs hooks searches it). A default `hookmeter` that is
/// not found becomes `this_binary` (the hookmeter running now is the one
/// being installed); a `--command` whose program is not found is refused,
/// since what it should have been is the user's to say.
///
/// The PATH searched is this process's; Claude Code runs hooks with the
/// user's login-shell PATH, which is usually the same but may differ: this
/// catches the common case (a fresh `cargo build`), not every one.
pub fn settle_program(
    requested: Option<&str>,
    find: &dyn Fn(&str) -> Option<PathBuf>,
    this_binary: &dyn Fn() -> io::Result<PathBuf>,
    path_var: &str,
) -> Result<Settled, InstallError> {
    let requested = requested.map(str::trim).filter(|c| !c.is_empty());
    let base = requested.unwrap_or(DEFAULT_COMMAND);
    let found = |base: &str| Settled {
        base: base.to_string(),
        notice: None,
    };
    let Some((program, _)) = super::program_and_args(base) else {
        return Ok(found(base));
    };
    if program.contains('/') || find(&program).is_some() {
        return Ok(found(base));
    }
    let path = if path_var.is_empty() {
        "empty".to_string()
    } else {
        path_var.to_string()
    };
    if requested.is_some() {
        let mut replaced = false;
        let example = base
            .split_whitespace()
            .map(|word| match word == program && !replaced {
                true => {
                    replaced = true;
                    format!("/abs/path/{word}")
                }
                false => word.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
        return Err(InstallError::NotOnPath {
            program,
            command: base.to_string(),
            example,
            path,
        });
    }
    let binary = this_binary().map_err(|source| InstallError::NoOwnPath {
        path: path.clone(),
        source,
    })?;
    // DEFAULT_COMMAND, with this binary's path for its program.
    let base = format!("{} send", shell_quote(&binary.to_string_lossy()));
    Ok(Settled {
        notice: Some(format!(
            "hookmeter is not on PATH; the hooks run {base} instead \
             (`cargo install --locked --path .` puts hookmeter on PATH)."
        )),
        base,
    })
}

/// What the merge did to one event's hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// No hookmeter entry was there: one was appended.
    Added,
    /// hookmeter's entry was there with another command or settings: updated in place.
    Updated,
    /// hookmeter's entry was there as wanted.
    Kept,
}

/// The merged settings and what changed, event by event.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// The whole settings file after the merge.
    pub settings: Value,
    /// Each of [`EVENTS`], in order.
    pub events: Vec<(&'static str, Change)>,
    /// Extra hookmeter entries removed: two would deliver every event twice.
    pub duplicates_removed: usize,
}

impl Merge {
    /// What the merge does, in a few words each (`added Stop, SessionEnd`,
    /// `removed 1 duplicate hookmeter hook`), for the installers' messages.
    pub fn changes(&self) -> Vec<String> {
        let named = |wanted: Change| -> Vec<&str> {
            (self.events.iter())
                .filter(|(_, change)| *change == wanted)
                .map(|(event, _)| *event)
                .collect()
        };
        let mut what = Vec::new();
        for (verb, change) in [("added", Change::Added), ("updated", Change::Updated)] {
            let events = named(change);
            if !events.is_empty() {
                what.push(format!("{verb} {}", events.join(", ")));
            }
        }
        let removed = self.duplicates_removed;
        if removed > 0 {
            what.push(format!(
                "removed {removed} duplicate hookmeter hook{}",
                if removed == 1 { "" } else { "s" }
            ));
        }
        what
    }
}

/// The hook command to install: `base` (default `hookmeter send`), then
/// `--socket` and `--spool` when given, so hooks reach a daemon that does
/// not use the default locations. The paths must be absolute: hooks run in
/// whatever directory the agent is in.
pub fn hook_command(base: Option<&str>, socket: Option<&Path>, spool: Option<&Path>) -> String {
    let mut command = base
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(DEFAULT_COMMAND)
        .to_string();
    for (flag, path) in [("--socket", socket), ("--spool", spool)] {
        if let Some(path) = path {
            command.push_str(&format!(" {flag} {}", shell_quote(&path.to_string_lossy())));
        }
    }
    command
}

/// A new matcher group for `event`: tool events match every tool (in
/// Codex, a group without a matcher does; its matchers are patterns). The
/// Gemini CLI's groups all say `"*"`, as its documentation writes them.
fn group(event: &str, hook: &Hook) -> Value {
    let mut group = Map::new();
    let every = match hook {
        Hook::CodexCommand(_) => false,
        Hook::GeminiCommand(_) => true,
        Hook::Command(_) | Hook::Http { .. } => event == "PostToolUse",
    };
    if every {
        group.insert("matcher".into(), "*".into());
    }
    group.insert("hooks".into(), Value::Array(vec![hook.handler()]));
    Value::Object(group)
}

/// True for a handler hookmeter installed, of either kind, in this version
/// or an earlier one: a command hook running hookmeter (see
/// [`super::is_hookmeter_command`]), or an http hook posting to `/hook` on
/// a loopback host.
pub fn is_hookmeter_handler(handler: &Value) -> bool {
    let field = |name| handler.get(name).and_then(Value::as_str);
    match field("type") {
        Some("command") => field("command").is_some_and(super::is_hookmeter_command),
        Some("http") => field("url").is_some_and(is_hookmeter_url),
        _ => false,
    }
}

/// True for `http://HOST:PORT/hook` with a loopback HOST: where hookmeter's
/// http hooks post. The path alone is too common to claim a hook by.
fn is_hookmeter_url(url: &str) -> bool {
    let Some(rest) = url.trim().strip_prefix("http://") else {
        return false;
    };
    let Some((authority, "hook")) = rest.split_once('/') else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(host, _)| host),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// True for a handler that is hookmeter's, or is exactly the one being
/// installed (a custom `--command` is recognized on the next run too).
fn is_ours(handler: &Value, hook: &Hook) -> bool {
    let field = |name| handler.get(name).and_then(Value::as_str);
    let same = match hook {
        Hook::Command(command) | Hook::CodexCommand(command) | Hook::GeminiCommand(command) => {
            field("type") == Some("command") && field("command").map(str::trim) == Some(command)
        }
        Hook::Http { url, .. } => field("type") == Some("http") && field("url") == Some(url),
    };
    same || is_hookmeter_handler(handler)
}

/// The URL of the daemon's `POST /hook` on `listen`, the HTTP listen
/// address; `None` when HTTP is off. A wildcard address is posted to on
/// loopback, the address the daemon also listens on.
pub fn hook_url(listen: Option<&str>) -> Result<String, String> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let Some(listen) = listen else {
        return Err(
            "the HTTP API is off (`http = \"off\"`), so there is no POST /hook to install \
             http hooks for; turn it on (`http = \"127.0.0.1:7717\"` in the config file, or \
             HOOKMETER_HTTP) and restart the daemon, or install command hooks (without --http)"
                .into(),
        );
    };
    let port_zero = "it has port 0, a free port chosen anew at each start; give the daemon a \
                     fixed port (`http = \"127.0.0.1:7717\"`)";
    let authority = match listen.parse::<SocketAddr>() {
        Ok(addr) if addr.port() == 0 => return Err(format!("HTTP address {listen}: {port_zero}")),
        Ok(addr) => {
            let ip = match addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            SocketAddr::new(ip, addr.port()).to_string()
        }
        // A name, `localhost:7717`: posted to as written.
        Err(_) => match listen.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                if port == "0" {
                    return Err(format!("HTTP address {listen}: {port_zero}"));
                }
                listen.to_string()
            }
            _ => {
                return Err(format!(
                    "HTTP address {listen} is not HOST:PORT, so no hook URL can be made of it"
                ))
            }
        },
    };
    Ok(format!("http://{authority}/hook"))
}

/// Merges hookmeter's entries, `hook`, into `settings` (a parsed
/// `settings.json`; an empty file is `{}`). Everything else is kept as it
/// is, in its place.
pub fn merge(settings: Value, hook: &Hook) -> Result<Merge, ShapeError> {
    merge_events(settings, hook, &EVENTS)
}

/// [`merge`] on another agent's `events` (the Gemini CLI's names differ).
pub fn merge_events(
    mut settings: Value,
    hook: &Hook,
    wanted: &[&'static str],
) -> Result<Merge, ShapeError> {
    let root = match &mut settings {
        Value::Object(root) => root,
        other => return Err(ShapeError::NotAnObject(json_kind(other))),
    };
    let hooks = match root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(hooks) => hooks,
        other => return Err(ShapeError::HooksNotAnObject(json_kind(other))),
    };
    if let Some((event, value)) = wanted
        .iter()
        .find_map(|&e| hooks.get(e).filter(|v| !v.is_array()).map(|v| (e, v)))
    {
        return Err(ShapeError::EventNotAnArray {
            event,
            kind: json_kind(value),
        });
    }
    let mut events = Vec::with_capacity(wanted.len());
    let mut duplicates_removed = 0;
    for &event in wanted {
        let Value::Array(groups) = hooks
            .entry(event)
            .or_insert_with(|| Value::Array(Vec::new()))
        else {
            unreachable!("checked above");
        };
        let (change, removed) = merge_event(groups, event, hook);
        events.push((event, change));
        duplicates_removed += removed;
    }
    Ok(Merge {
        settings,
        events,
        duplicates_removed,
    })
}

/// One event's array of matcher groups: the first hookmeter handler is
/// brought up to date where it is, later ones are removed (and a group left
/// empty by that with them); none at all appends a group.
fn merge_event(groups: &mut Vec<Value>, event: &str, hook: &Hook) -> (Change, usize) {
    let mut change = None;
    let mut removed = 0;
    let mut emptied = Vec::new();
    for (index, group) in groups.iter_mut().enumerate() {
        let Some(Value::Array(handlers)) = group.get_mut("hooks") else {
            continue;
        };
        let before = handlers.len();
        handlers.retain_mut(|h| {
            if !is_ours(h, hook) {
                return true;
            }
            if change.is_some() {
                return false;
            }
            let old = h.clone();
            hook.update(h);
            change = Some(if *h == old {
                Change::Kept
            } else {
                Change::Updated
            });
            true
        });
        removed += before - handlers.len();
        if handlers.is_empty() && before > 0 {
            emptied.push(index);
        }
    }
    for index in emptied.into_iter().rev() {
        groups.remove(index);
    }
    let change = change.unwrap_or_else(|| {
        groups.push(group(event, hook));
        Change::Added
    });
    (change, removed)
}

/// The indentation a JSON text uses (that of its first indented line), so a
/// rewritten file keeps its look; two spaces when it has none.
pub fn indent_of(text: &str) -> &str {
    text.lines()
        .skip(1)
        .map(|line| &line[..line.len() - line.trim_start().len()])
        .find(|indent| !indent.is_empty())
        .unwrap_or("  ")
}

/// `settings` as pretty JSON indented with `indent`, with a final newline.
pub fn render_settings(settings: &Value, indent: &str) -> String {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    settings
        .serialize(&mut serializer)
        .expect("a JSON value serializes");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// What `install` did (or, in a dry run, would do).
#[derive(Debug)]
pub struct Installed {
    /// The settings file.
    pub path: PathBuf,
    /// False when the file was created.
    pub existed: bool,
    /// What the merge did, event by event.
    pub merge: Merge,
    /// Whether (and how) the file was written.
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    /// Nothing to change: nothing written, no backup.
    AlreadyInstalled,
    /// The file was written; the previous one, if any, copied to `backup`.
    Written { backup: Option<PathBuf> },
    /// `--dry-run`: the unified diff of the change; nothing written.
    DryRun { diff: String },
}

/// Merges hookmeter's entries, `hook`, into the settings file at `path`
/// (created, with its directory, when missing). `now` names the backup.
pub fn install(
    path: &Path,
    hook: &Hook,
    dry_run: bool,
    now: jiff::Timestamp,
) -> Result<Installed, InstallError> {
    install_events(path, hook, &EVENTS, dry_run, now)
}

/// [`install`] on another agent's `events`.
pub fn install_events(
    path: &Path,
    hook: &Hook,
    events: &[&'static str],
    dry_run: bool,
    now: jiff::Timestamp,
) -> Result<Installed, InstallError> {
    let old = read_existing(path)?;
    let old_text = old
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let current = match old.as_deref() {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(bytes)
            .map_err(|source| InstallError::Json {
                path: path.to_path_buf(),
                source,
            })?,
        _ => Value::Object(Map::new()),
    };
    let merge =
        merge_events(current.clone(), hook, events).map_err(|source| InstallError::Shape {
            path: path.to_path_buf(),
            source,
        })?;
    let existed = old.is_some();
    let done = |outcome| {
        Ok(Installed {
            path: path.to_path_buf(),
            existed,
            merge: merge.clone(),
            outcome,
        })
    };
    if existed && merge.settings == current {
        return done(Outcome::AlreadyInstalled);
    }
    let new_text = render_settings(&merge.settings, indent_of(&old_text));
    if dry_run {
        let diff = settings_diff(path, existed, &old_text, &new_text);
        return done(Outcome::DryRun { diff });
    }
    let backup = write_backed_up(path, old.as_deref(), &new_text, now)?;
    done(Outcome::Written { backup })
}

/// A settings file's bytes, `None` when there is none yet (the installers
/// then write a new one).
pub(super) fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, InstallError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InstallError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The unified diff that takes a settings file from `old` to `new`; a file
/// that did not exist (`existed` false) is shown as `/dev/null`.
pub(super) fn settings_diff(path: &Path, existed: bool, old: &str, new: &str) -> String {
    let shown = path.display().to_string();
    let from = if existed { shown.as_str() } else { "/dev/null" };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(from, &shown)
        .to_string()
}

/// Replaces `path` with `new` atomically, the bytes it held (`old`, when
/// it existed) backed up first; the backup's path.
pub(super) fn write_backed_up(
    path: &Path,
    old: Option<&[u8]>,
    new: &str,
    now: jiff::Timestamp,
) -> Result<Option<PathBuf>, InstallError> {
    let backup = old.map(|bytes| back_up(path, bytes, now)).transpose()?;
    crate::user_files::replace_atomically(path, new.as_bytes()).map_err(|source| {
        InstallError::Write {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(backup)
}

/// Saves `bytes` (the file as read) beside `path` as
/// `NAME.hookmeter-backup-<UTC time>`, never over an earlier backup, with
/// the file's permissions (settings can hold secrets in `env`).
pub(super) fn back_up(
    path: &Path,
    bytes: &[u8],
    now: jiff::Timestamp,
) -> Result<PathBuf, InstallError> {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut attempt = 0;
    loop {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".hookmeter-backup-{stamp}"));
        if attempt > 0 {
            name.push(format!("-{attempt}"));
        }
        let backup = PathBuf::from(name);
        let failed = |source| InstallError::Backup {
            path: path.to_path_buf(),
            backup: backup.clone(),
            source,
        };
        let mut file = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup)
        {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                attempt += 1;
                continue;
            }
            Err(e) => return Err(failed(e)),
        };
        let written = fs::metadata(path)
            .and_then(|meta| file.set_permissions(meta.permissions()))
            .and_then(|()| file.write_all(bytes))
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = fs::remove_file(&backup);
            return Err(failed(e));
        }
        return Ok(backup);
    }
}

/// `install-hooks` from start to end: finds the file, builds the command,
/// merges, writes, and returns what to print.
pub fn run(
    request: &Request,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InstallError> {
    // Absolute paths: messages name the file plainly, and hooks run in
    // whatever directory the agent is in.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = match &request.target {
        Target::User => absolute(&super::user_settings(env).map_err(InstallError::Target)?),
        Target::Project(dir) => super::project_settings(&absolute(dir)),
        Target::File(file) => absolute(file),
    };
    if let Some(http) = &request.http {
        let url = hook_url(http.listen.as_deref()).map_err(InstallError::Http)?;
        let hook = Hook::Http {
            url,
            token: http.token,
        };
        let installed = install(&path, &hook, request.dry_run, jiff::Timestamp::now())?;
        return Ok(render(&installed, &hook));
    }
    let path_var = env("PATH").unwrap_or_default();
    let settled = settle_program(
        request.command.as_deref(),
        &|program| super::find_program(program, env),
        &|| std::env::current_exe().and_then(fs::canonicalize),
        &path_var,
    )?;
    let command = hook_command(
        Some(&settled.base),
        request.socket.as_deref().map(absolute).as_deref(),
        request.spool.as_deref().map(absolute).as_deref(),
    );
    let hook = Hook::Command(command);
    let installed = install(&path, &hook, request.dry_run, jiff::Timestamp::now())?;
    let mut out = settled.notice.map(|n| n + "\n").unwrap_or_default();
    out.push_str(&render(&installed, &hook));
    Ok(out)
}

/// What to tell the user about `installed`.
pub fn render(installed: &Installed, hook: &Hook) -> String {
    let path = installed.path.display();
    let what = installed.merge.changes();
    let what = what.join("; ");
    match &installed.outcome {
        Outcome::AlreadyInstalled => {
            format!("hookmeter's hooks are already installed in {path}; nothing changed.\n")
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
                true => format!("Installed hookmeter's hooks in {path}: {what}.\n"),
                false => format!("Created {path} with hookmeter's hooks: {what}.\n"),
            };
            out.push_str(&hook.describe());
            if let Some(backup) = backup {
                out.push_str(&format!(
                    "The previous file is saved as {}.\n",
                    backup.display()
                ));
            }
            out.push_str("Claude Code sessions started from now on send their events to hookmeter; `hookmeter doctor` checks the setup.\n");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn command(command: &str) -> Hook {
        Hook::Command(command.into())
    }

    fn example() -> Value {
        serde_json::from_str(include_str!("../../hooks/claude-settings.example.json")).unwrap()
    }

    #[test]
    fn an_empty_file_gets_the_example_hooks() {
        let merged = merge(json!({}), &command(DEFAULT_COMMAND)).unwrap();
        assert_eq!(merged.settings, example());
        assert!(merged.events.iter().all(|(_, c)| *c == Change::Added));
        let names: Vec<_> = merged.events.iter().map(|(e, _)| *e).collect();
        assert_eq!(names, EVENTS);
    }

    #[test]
    fn other_keys_and_hooks_stay_where_they_are() {
        let before = json!({
            "model": "opus",
            "env": {"FOO": "1"},
            "hooks": {
                "PostToolUse": [
                    {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}
                ],
                "PreToolUse": [
                    {"matcher": "*", "hooks": [{"type": "command", "command": "hookmeter send"}]}
                ],
                "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}]
            }
        });
        let merged = merge(before.clone(), &command(DEFAULT_COMMAND)).unwrap();
        let after = &merged.settings;
        assert_eq!(after["model"], "opus");
        assert_eq!(after["env"], before["env"]);
        assert_eq!(
            after["hooks"]["Notification"],
            before["hooks"]["Notification"]
        );
        // PreToolUse is not an event hookmeter installs: left alone.
        assert_eq!(after["hooks"]["PreToolUse"], before["hooks"]["PreToolUse"]);
        let post = after["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0], before["hooks"]["PostToolUse"][0]);
        assert_eq!(post[1], example()["hooks"]["PostToolUse"][0]);
        for event in EVENTS.iter().skip(1) {
            assert_eq!(
                after["hooks"][*event],
                example()["hooks"][*event],
                "{event}"
            );
        }
    }

    #[test]
    fn merging_twice_changes_nothing_the_second_time() {
        let once = merge(json!({"hooks": {}}), &command(DEFAULT_COMMAND)).unwrap();
        let twice = merge(once.settings.clone(), &command(DEFAULT_COMMAND)).unwrap();
        assert_eq!(twice.settings, once.settings);
        assert!(twice.events.iter().all(|(_, c)| *c == Change::Kept));
        assert_eq!(twice.duplicates_removed, 0);
    }

    #[test]
    fn an_earlier_entry_is_updated_in_place_and_duplicates_go() {
        let before = json!({"hooks": {
            "Stop": [
                {"hooks": [
                    {"type": "command", "command": "say done"},
                    {"type": "command", "command": "/old/bin/hookmeter send --agent me", "timeout": 5}
                ]},
                {"hooks": [{"type": "command", "command": "hookmeter-hook"}]}
            ]
        }});
        let command = "/usr/local/bin/hookmeter send";
        let merged = merge(before, &Hook::Command(command.into())).unwrap();
        assert_eq!(
            merged.settings["hooks"]["Stop"],
            json!([{"hooks": [
                {"type": "command", "command": "say done"},
                {"type": "command", "command": command, "timeout": 5, "async": true}
            ]}])
        );
        assert_eq!(merged.events[1], ("Stop", Change::Updated));
        assert_eq!(merged.duplicates_removed, 1);
        // A group the user left empty is theirs to keep.
        let empty = json!({"hooks": {"Stop": [{"hooks": []}]}});
        let merged = merge(empty, &Hook::Command(command.into())).unwrap();
        assert_eq!(
            merged.settings["hooks"]["Stop"].as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn the_installed_command_is_recognized_even_when_custom() {
        let once = merge(json!({}), &command("/opt/hm/record-hook")).unwrap();
        let twice = merge(once.settings.clone(), &command("/opt/hm/record-hook")).unwrap();
        assert_eq!(twice.settings, once.settings);
    }

    #[test]
    fn shapes_it_cannot_merge_into_are_refused() {
        assert_eq!(
            merge(json!([1]), &command(DEFAULT_COMMAND)).unwrap_err(),
            ShapeError::NotAnObject("an array")
        );
        assert_eq!(
            merge(json!({"hooks": []}), &command(DEFAULT_COMMAND)).unwrap_err(),
            ShapeError::HooksNotAnObject("an array")
        );
        assert_eq!(
            merge(
                json!({"hooks": {"SessionEnd": {"hooks": []}}}),
                &command(DEFAULT_COMMAND)
            )
            .unwrap_err(),
            ShapeError::EventNotAnArray {
                event: "SessionEnd",
                kind: "an object"
            }
        );
        // Entries it does not understand inside an array are left as they are.
        let odd = json!({"hooks": {"Stop": ["text", {"hooks": "x"}, 3]}});
        let merged = merge(odd, &command(DEFAULT_COMMAND)).unwrap();
        assert_eq!(
            merged.settings["hooks"]["Stop"].as_array().unwrap().len(),
            4
        );
    }

    #[test]
    fn the_command_carries_explicit_locations() {
        assert_eq!(hook_command(None, None, None), "hookmeter send");
        assert_eq!(
            hook_command(
                Some("hookmeter-hook"),
                Some(Path::new("/run/hm.sock")),
                Some(Path::new("/var/spool/my hm"))
            ),
            "hookmeter-hook --socket /run/hm.sock --spool '/var/spool/my hm'"
        );
        let installed = hook_command(None, Some(Path::new("/s")), None);
        assert!(super::super::is_hookmeter_command(&installed));
    }

    #[test]
    fn a_program_not_on_path_is_replaced_by_this_binary_or_refused() {
        let on_path = |names: &'static [&'static str]| {
            move |program: &str| names.contains(&program).then(|| PathBuf::from("/bin/x"))
        };
        let this = || Ok(PathBuf::from("/home/me/src/hm/target/debug/hookmeter"));
        let settle = |requested, find: &dyn Fn(&str) -> Option<PathBuf>| {
            settle_program(requested, find, &this, "/usr/bin:/bin")
        };
        // Found: kept as given, no notice.
        let found = settle(None, &on_path(&["hookmeter"])).unwrap();
        assert_eq!(
            found,
            Settled {
                base: DEFAULT_COMMAND.into(),
                notice: None
            }
        );
        let custom = settle(
            Some("hookmeter-hook --task T"),
            &on_path(&["hookmeter-hook"]),
        );
        assert_eq!(custom.unwrap().base, "hookmeter-hook --task T");
        // A path is the user's to vouch for; assignments are skipped.
        for given in [
            "/opt/hm/hookmeter send",
            "HOOKMETER_AGENT=a /x/hookmeter send",
        ] {
            assert_eq!(settle(Some(given), &on_path(&[])).unwrap().base, given);
        }
        // The default, not found: this binary, said in one line.
        let replaced = settle(None, &on_path(&[])).unwrap();
        assert_eq!(replaced.base, "/home/me/src/hm/target/debug/hookmeter send");
        assert!(super::super::is_hookmeter_command(&replaced.base));
        let notice = replaced.notice.unwrap();
        assert!(notice.starts_with("hookmeter is not on PATH; the hooks run /home/me/src/hm/target/debug/hookmeter send instead"), "{notice}");
        assert_eq!(notice.lines().count(), 1);
        // An explicit command whose program is not found: refused, naming it.
        for given in ["hookmeter send", "HOOKMETER_TASK=t hookmeter-hook"] {
            let refused = settle(Some(given), &on_path(&[])).unwrap_err().to_string();
            let program = given.split(' ').find(|w| !w.contains('=')).unwrap();
            assert!(
                refused.starts_with(&format!("`{program}` is not on PATH (/usr/bin:/bin)")),
                "{refused}"
            );
            assert!(
                refused.contains("cargo install --locked --path ."),
                "{refused}"
            );
            let example = given.replace(program, &format!("/abs/path/{program}"));
            assert!(
                refused.contains(&format!("--command \"{example}\"")),
                "{refused}"
            );
            assert_eq!(refused.lines().count(), 1);
        }
        // A path with a space is quoted for the shell that runs the hook.
        let spaced = settle_program(
            None,
            &on_path(&[]),
            &|| Ok(PathBuf::from("/my tools/hookmeter")),
            "",
        );
        assert_eq!(spaced.unwrap().base, "'/my tools/hookmeter' send");
        let lost = settle_program(
            None,
            &on_path(&[]),
            &|| Err(io::ErrorKind::NotFound.into()),
            "",
        );
        assert!(matches!(lost, Err(InstallError::NoOwnPath { .. })));
    }

    fn http(token: bool) -> Hook {
        Hook::Http {
            url: "http://127.0.0.1:7717/hook".into(),
            token,
        }
    }

    #[test]
    fn http_hooks_go_on_the_same_events_and_carry_only_a_reference_to_the_token() {
        let merged = merge(json!({}), &http(true)).unwrap();
        let names: Vec<_> = merged.events.iter().map(|(e, _)| *e).collect();
        assert_eq!(names, EVENTS);
        for event in EVENTS {
            let groups = merged.settings["hooks"][event].as_array().unwrap();
            assert_eq!(groups.len(), 1, "{event}");
            assert_eq!(
                groups[0]["hooks"],
                json!([{
                    "type": "http",
                    "url": "http://127.0.0.1:7717/hook",
                    "timeout": 5,
                    "headers": {"Authorization": "Bearer $HOOKMETER_HTTP_TOKEN"},
                    "allowedEnvVars": ["HOOKMETER_HTTP_TOKEN"],
                }]),
                "{event}"
            );
            // The matchers of the example file.
            assert_eq!(
                groups[0].get("matcher"),
                example()["hooks"][event][0].get("matcher"),
                "{event}"
            );
        }
        let again = merge(merged.settings.clone(), &http(true)).unwrap();
        assert_eq!(again.settings, merged.settings);
        assert!(again.events.iter().all(|(_, c)| *c == Change::Kept));
        // Without a token: the header and its variable go, the user's timeout stays.
        let mut tuned = merged.settings.clone();
        tuned["hooks"]["Stop"][0]["hooks"][0]["timeout"] = json!(2);
        let plain = merge(tuned, &http(false)).unwrap();
        assert_eq!(
            plain.settings["hooks"]["Stop"][0]["hooks"],
            json!([{"type": "http", "url": "http://127.0.0.1:7717/hook", "timeout": 2}])
        );
    }

    #[test]
    fn switching_kinds_replaces_hookmeters_hook_in_place() {
        let before = json!({"hooks": {"Stop": [{"hooks": [
            {"type": "command", "command": "say done"},
            {"type": "command", "command": "hookmeter send", "async": true, "timeout": 9},
            {"type": "http", "url": "http://localhost:7000/hook"}
        ]}]}});
        let to_http = merge(before, &http(false)).unwrap();
        assert_eq!(
            to_http.settings["hooks"]["Stop"],
            json!([{"hooks": [
                {"type": "command", "command": "say done"},
                {"type": "http", "url": "http://127.0.0.1:7717/hook", "timeout": 5}
            ]}])
        );
        assert_eq!(to_http.events[1], ("Stop", Change::Updated));
        assert_eq!(to_http.duplicates_removed, 1, "the older http hook");
        let back = merge(to_http.settings, &command(DEFAULT_COMMAND)).unwrap();
        assert_eq!(
            back.settings["hooks"]["Stop"],
            json!([{"hooks": [
                {"type": "command", "command": "say done"},
                {"type": "command", "command": "hookmeter send", "async": true}
            ]}])
        );
    }

    #[test]
    fn only_loopback_posts_to_hook_are_hookmeters() {
        for ours in [
            "http://127.0.0.1:7717/hook",
            "http://localhost:9000/hook",
            "http://[::1]:7717/hook",
            "http://127.0.0.2/hook",
        ] {
            let handler = json!({"type": "http", "url": ours});
            assert!(is_hookmeter_handler(&handler), "{ours}");
        }
        for theirs in [
            "http://example.com:7717/hook",
            "http://127.0.0.1:7717/hooks",
            "http://127.0.0.1:7717/hook/x",
            "https://127.0.0.1:7717/audit",
            "http://10.0.0.5:7717/hook",
        ] {
            let handler = json!({"type": "http", "url": theirs});
            assert!(!is_hookmeter_handler(&handler), "{theirs}");
        }
        // The URL of an http hook is not a command.
        assert!(!is_hookmeter_handler(
            &json!({"type": "command", "url": "http://127.0.0.1:7717/hook"})
        ));
    }

    #[test]
    fn the_hook_url_comes_from_the_listen_address() {
        assert_eq!(
            hook_url(Some("127.0.0.1:7717")).unwrap(),
            "http://127.0.0.1:7717/hook"
        );
        assert_eq!(
            hook_url(Some("0.0.0.0:7717")).unwrap(),
            "http://127.0.0.1:7717/hook"
        );
        assert_eq!(hook_url(Some("[::]:80")).unwrap(), "http://[::1]:80/hook");
        assert_eq!(
            hook_url(Some("localhost:7717")).unwrap(),
            "http://localhost:7717/hook"
        );
        let off = hook_url(None).unwrap_err();
        assert!(off.contains("HTTP API is off"), "{off}");
        for port_zero in ["127.0.0.1:0", "localhost:0"] {
            let refused = hook_url(Some(port_zero)).unwrap_err();
            assert!(refused.contains("port 0"), "{refused}");
        }
        assert!(hook_url(Some("nonsense")).is_err());
    }

    #[test]
    fn indentation_is_kept() {
        assert_eq!(indent_of("{\n    \"a\": 1\n}\n"), "    ");
        assert_eq!(indent_of("{\n\t\"a\": 1\n}\n"), "\t");
        assert_eq!(indent_of("{\"a\": 1}"), "  ");
        assert_eq!(
            render_settings(&json!({"a": [1]}), "\t"),
            "{\n\t\"a\": [\n\t\t1\n\t]\n}\n"
        );
    }
}
