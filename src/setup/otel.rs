//! `hookmeter install-hooks --otel`: each agent's own OpenTelemetry export
//! pointed at this daemon's `POST /v1/logs` (docs/cli.md#opentelemetry-settings),
//! and `--otel --remove` taking it out again.
//!
//! The edits are pure functions of the parsed file and the [`Endpoint`]:
//! [`claude_env`] (Claude Code's `env` block in `settings.json`),
//! [`codex_otel`] (Codex's `[otel.exporter.otlp-http]` in `config.toml`,
//! edited with `toml_edit` so comments and layout stay) and
//! [`gemini_telemetry`] (the Gemini CLI's `telemetry` in `settings.json`).
//! Everything else in the file is kept. Removal takes out only the values
//! hookmeter writes (a key the user set to something else stays), so
//! installing then removing gives the file back. [`apply`] is the edge: it
//! backs the old file up, replaces it atomically, shows a `--dry-run` diff,
//! and writes nothing when nothing would change.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::hooks::{
    indent_of, read_existing, render_settings, settings_diff, write_backed_up, InstallError,
};

/// Where the agents send their exports, and with which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http://HOST:PORT`, the daemon's HTTP listener (the agents append
    /// `/v1/logs`, or are given it).
    pub base: String,
    /// `[http] token`, when set: sent as `Authorization: Bearer`. Written
    /// into the agent's file (Claude Code's `env`, Codex's `headers`): their
    /// exporters read it nowhere else.
    pub token: Option<String>,
}

impl Endpoint {
    /// The daemon's HTTP settings as `flags` and `env` resolve them.
    pub fn resolve(
        flags: &crate::config::Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Endpoint, String> {
        let config = crate::config::Config::resolve(flags, env).map_err(|e| e.to_string())?;
        let url = super::hooks::hook_url(config.http.as_deref())?;
        Ok(Endpoint {
            base: url.trim_end_matches("/hook").to_string(),
            token: config.http_token.as_ref().map(|t| t.as_str().to_string()),
        })
    }

    fn logs_url(&self) -> String {
        format!("{}/v1/logs", self.base)
    }

    fn authorization(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }
}

/// Install or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Install,
    Remove,
}

/// The agent whose settings to edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    ClaudeCode,
    Codex,
    Gemini,
}

/// Claude Code's environment for an OTLP/HTTP protobuf logs export to
/// `endpoint` (the names Claude Code 2.1.197 reads, tests/fixtures/otel).
fn claude_vars(endpoint: &Endpoint) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".to_string()),
        ("OTEL_LOGS_EXPORTER", "otlp".to_string()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_string()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.base.clone()),
    ];
    if let Some(auth) = endpoint.authorization() {
        vars.push((
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization={auth}"),
        ));
    }
    vars
}

/// Why a file's shape cannot take the edit: one line naming the key.
fn shape(path: &Path, what: &str) -> InstallError {
    InstallError::Target(format!(
        "{}: {what}; hookmeter will not guess, fix it by hand (nothing was changed)",
        path.display()
    ))
}

/// Claude Code's `settings.json` with (or without) hookmeter's variables in
/// `env`. On removal a variable goes only when it holds hookmeter's value,
/// and an `env` left empty goes with it.
pub fn claude_env(
    mut settings: Value,
    endpoint: &Endpoint,
    edit: Edit,
) -> Result<Value, &'static str> {
    let Value::Object(top) = &mut settings else {
        return Err("its top level is not an object");
    };
    let vars = claude_vars(endpoint);
    match edit {
        Edit::Install => {
            let env = top
                .entry("env")
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(env) = env else {
                return Err("its \"env\" is not an object");
            };
            if endpoint.token.is_none() {
                // A token hookmeter sent before and no longer has.
                env.remove("OTEL_EXPORTER_OTLP_HEADERS");
            }
            for (name, value) in vars {
                env.insert(name.to_string(), Value::String(value));
            }
        }
        Edit::Remove => {
            let Some(Value::Object(env)) = top.get_mut("env") else {
                return Ok(settings);
            };
            let before = env.len();
            for (name, value) in &vars {
                if env.get(*name).and_then(Value::as_str) == Some(value.as_str()) {
                    env.remove(*name);
                }
            }
            if env.is_empty() && before > 0 {
                top.remove("env");
            }
        }
    }
    Ok(settings)
}

/// The Gemini CLI's `settings.json` with (or without) `telemetry` exporting
/// to `endpoint` over OTLP/HTTP (JSON: the CLI's `http` has no protobuf).
/// Only the keys hookmeter sets are touched; on removal they go when they
/// hold hookmeter's values, and a `telemetry` left empty goes too.
pub fn gemini_telemetry(
    mut settings: Value,
    endpoint: &Endpoint,
    edit: Edit,
) -> Result<Value, &'static str> {
    let Value::Object(top) = &mut settings else {
        return Err("its top level is not an object");
    };
    let ours: [(&str, Value); 4] = [
        ("enabled", Value::Bool(true)),
        ("target", Value::from("local")),
        ("otlpEndpoint", Value::from(endpoint.base.as_str())),
        ("otlpProtocol", Value::from("http")),
    ];
    match edit {
        Edit::Install => {
            let telemetry = top
                .entry("telemetry")
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(telemetry) = telemetry else {
                return Err("its \"telemetry\" is not an object");
            };
            for (key, value) in ours {
                telemetry.insert(key.to_string(), value);
            }
        }
        Edit::Remove => {
            let Some(Value::Object(telemetry)) = top.get_mut("telemetry") else {
                return Ok(settings);
            };
            // The endpoint tells hookmeter's telemetry from the user's own.
            if telemetry.get("otlpEndpoint") != Some(&ours[2].1) {
                return Ok(settings);
            }
            for (key, value) in &ours {
                if telemetry.get(*key) == Some(value) {
                    telemetry.remove(*key);
                }
            }
            if telemetry.is_empty() {
                top.remove("telemetry");
            }
        }
    }
    Ok(settings)
}

/// Codex's `config.toml` with (or without) `[otel.exporter.otlp-http]`
/// posting protobuf (`binary`) to the daemon's `/v1/logs` (Codex takes the
/// full URL), with the token as an `authorization` header when set. On
/// removal the exporter goes only when it posts to this daemon, and an
/// `[otel]` left empty goes with it.
pub fn codex_otel(
    mut config: toml_edit::DocumentMut,
    endpoint: &Endpoint,
    edit: Edit,
) -> Result<toml_edit::DocumentMut, &'static str> {
    use toml_edit::{value, Item, Table};
    let url = endpoint.logs_url();
    match edit {
        Edit::Install => {
            let otel = config
                .entry("otel")
                .or_insert_with(|| Item::Table(Table::new()));
            let Some(otel) = otel.as_table_like_mut() else {
                return Err("its \"otel\" is not a table");
            };
            let exporter = otel.entry("exporter").or_insert(implicit_table());
            let Some(exporter) = exporter.as_table_like_mut() else {
                return Err("its \"otel.exporter\" is not a table");
            };
            // One exporter: a gRPC one (or "none") is replaced by ours.
            let others: Vec<String> = exporter
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k != "otlp-http")
                .collect();
            for key in others {
                exporter.remove(&key);
            }
            let http = exporter
                .entry("otlp-http")
                .or_insert(Item::Table(Table::new()));
            let Some(http) = http.as_table_like_mut() else {
                return Err("its \"otel.exporter.otlp-http\" is not a table");
            };
            http.insert("endpoint", value(url));
            http.insert("protocol", value("binary"));
            match endpoint.authorization() {
                Some(auth) => {
                    let mut headers = toml_edit::InlineTable::new();
                    headers.insert("authorization", auth.into());
                    http.insert("headers", value(headers));
                }
                None => {
                    http.remove("headers");
                }
            }
        }
        Edit::Remove => {
            let ours = config
                .get("otel")
                .and_then(|o| o.get("exporter"))
                .and_then(|e| e.get("otlp-http"))
                .and_then(|h| h.get("endpoint"))
                .and_then(|e| e.as_str())
                == Some(url.as_str());
            if !ours {
                return Ok(config);
            }
            if let Some(otel) = config.get_mut("otel").and_then(Item::as_table_like_mut) {
                otel.remove("exporter");
                if otel.is_empty() {
                    config.remove("otel");
                }
            }
        }
    }
    Ok(config)
}

/// A table that shows only through its sub-tables (`[otel.exporter.x]`
/// without an empty `[otel.exporter]` above it).
fn implicit_table() -> toml_edit::Item {
    let mut table = toml_edit::Table::new();
    table.set_implicit(true);
    toml_edit::Item::Table(table)
}

/// What [`apply`] did.
#[derive(Debug)]
pub enum Applied {
    Unchanged,
    Written { backup: Option<PathBuf> },
    DryRun { diff: String },
}

/// Reads `path` (missing: empty), edits its text with `edit`, and writes
/// the result the way `install-hooks` writes: a backup first, an atomic
/// replace, a diff instead with `dry_run`, nothing when nothing changes.
pub fn apply(
    path: &Path,
    dry_run: bool,
    now: jiff::Timestamp,
    edit: impl FnOnce(&str) -> Result<String, InstallError>,
) -> Result<Applied, InstallError> {
    let old = read_existing(path)?;
    let old_text = String::from_utf8_lossy(old.as_deref().unwrap_or_default()).into_owned();
    let new_text = edit(&old_text)?;
    if new_text == old_text || (old.is_none() && new_text.trim().is_empty()) {
        return Ok(Applied::Unchanged);
    }
    if dry_run {
        let diff = settings_diff(path, old.is_some(), &old_text, &new_text);
        return Ok(Applied::DryRun { diff });
    }
    let backup = write_backed_up(path, old.as_deref(), &new_text, now)?;
    Ok(Applied::Written { backup })
}

/// A JSON settings file's text edited by `edit`, keeping its indentation.
fn edit_json(
    path: &Path,
    text: &str,
    edit: impl FnOnce(Value) -> Result<Value, &'static str>,
) -> Result<String, InstallError> {
    let current = match text.trim().is_empty() {
        true => Value::Object(Map::new()),
        false => serde_json::from_str(text).map_err(|source| InstallError::Json {
            path: path.to_path_buf(),
            source,
        })?,
    };
    let edited = edit(current.clone()).map_err(|what| shape(path, what))?;
    if edited == current {
        return Ok(text.to_string());
    }
    Ok(render_settings(&edited, indent_of(text)))
}

/// `install-hooks --otel [--remove]` for `agent`: the file (Claude Code's
/// is `claude_settings`, the one `install-hooks` would change), the edit,
/// the write; returns what to print.
pub fn run(
    agent: Agent,
    claude_settings: &Path,
    endpoint: &Endpoint,
    edit: Edit,
    dry_run: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InstallError> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (name, path) = match agent {
        Agent::ClaudeCode => ("Claude Code", absolute(claude_settings)),
        Agent::Codex => (
            "Codex",
            absolute(
                &super::codex::codex_home(env)
                    .map_err(InstallError::Target)?
                    .join("config.toml"),
            ),
        ),
        Agent::Gemini => (
            "The Gemini CLI",
            absolute(
                &super::gemini::gemini_home(env)
                    .map_err(InstallError::Target)?
                    .join(".gemini/settings.json"),
            ),
        ),
    };
    let applied = apply(&path, dry_run, jiff::Timestamp::now(), |text| match agent {
        Agent::ClaudeCode => edit_json(&path, text, |v| claude_env(v, endpoint, edit)),
        Agent::Gemini => edit_json(&path, text, |v| gemini_telemetry(v, endpoint, edit)),
        Agent::Codex => {
            let config =
                text.parse::<toml_edit::DocumentMut>()
                    .map_err(|e| InstallError::Toml {
                        path: path.clone(),
                        reason: e.message().to_string(),
                    })?;
            let edited = codex_otel(config, endpoint, edit).map_err(|what| shape(&path, what))?;
            Ok(edited.to_string())
        }
    })?;
    let shown = path.display();
    let verb = match edit {
        Edit::Install => "exports",
        Edit::Remove => "no longer exports",
    };
    Ok(match applied {
        Applied::Unchanged => {
            match edit {
                Edit::Install => format!(
                    "{shown} already sends {name}'s OpenTelemetry to hookmeter; nothing changed.\n"
                ),
                Edit::Remove => {
                    format!("{shown} holds no OpenTelemetry settings of hookmeter's; nothing changed.\n")
                }
            }
        }
        Applied::DryRun { diff } => {
            format!("{diff}Dry run: {shown} would change; nothing was written.\n")
        }
        Applied::Written { backup } => {
            let mut out = format!("{shown}: {name} {verb} its OpenTelemetry logs to hookmeter");
            match edit {
                Edit::Install => out.push_str(&format!(" at {}/v1/logs.\n", endpoint.base)),
                Edit::Remove => out.push_str(".\n"),
            }
            if let Some(backup) = backup {
                out.push_str(&format!(
                    "The previous file is saved as {}.\n",
                    backup.display()
                ));
            }
            if edit == Edit::Install {
                out.push_str(&notes(agent, endpoint));
            }
            out
        }
    })
}

/// What the user must know beyond the file.
fn notes(agent: Agent, endpoint: &Endpoint) -> String {
    match (agent, &endpoint.token) {
        (Agent::Gemini, Some(_)) => "The Gemini CLI has no header setting: start it with \
             OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer <token>\" in its environment.\n"
            .to_string(),
        (Agent::ClaudeCode | Agent::Codex, Some(_)) => {
            "The file now holds the HTTP token; keep it private.\n".to_string()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoint(token: Option<&str>) -> Endpoint {
        Endpoint {
            base: "http://127.0.0.1:7717".into(),
            token: token.map(String::from),
        }
    }

    #[test]
    fn claude_code_env_is_merged_and_removed_back_to_the_original() {
        let original = json!({"model": "opus", "env": {"FOO": "bar"}});
        let installed = claude_env(original.clone(), &endpoint(Some("t")), Edit::Install).unwrap();
        assert_eq!(installed["env"]["FOO"], "bar");
        assert_eq!(
            installed["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://127.0.0.1:7717"
        );
        assert_eq!(
            installed["env"]["OTEL_EXPORTER_OTLP_HEADERS"],
            "Authorization=Bearer t"
        );
        let again = claude_env(installed.clone(), &endpoint(Some("t")), Edit::Install).unwrap();
        assert_eq!(again, installed);
        let removed = claude_env(installed, &endpoint(Some("t")), Edit::Remove).unwrap();
        assert_eq!(removed, original);
        // No env before: none after.
        let bare = json!({});
        let installed = claude_env(bare.clone(), &endpoint(None), Edit::Install).unwrap();
        assert!(installed["env"].get("OTEL_EXPORTER_OTLP_HEADERS").is_none());
        assert_eq!(
            claude_env(installed, &endpoint(None), Edit::Remove).unwrap(),
            bare
        );
        // A variable the user set otherwise stays.
        let users = json!({"env": {"OTEL_LOGS_EXPORTER": "console"}});
        assert_eq!(
            claude_env(users.clone(), &endpoint(None), Edit::Remove).unwrap(),
            users
        );
        assert!(claude_env(json!({"env": 3}), &endpoint(None), Edit::Install).is_err());
    }

    #[test]
    fn gemini_telemetry_is_merged_and_removed_back_to_the_original() {
        let original = json!({"telemetry": {"logPrompts": false}, "ui": {}});
        let installed = gemini_telemetry(original.clone(), &endpoint(None), Edit::Install).unwrap();
        assert_eq!(installed["telemetry"]["otlpProtocol"], "http");
        assert_eq!(installed["telemetry"]["logPrompts"], false);
        let removed = gemini_telemetry(installed, &endpoint(None), Edit::Remove).unwrap();
        assert_eq!(removed, original);
    }

    #[test]
    fn codex_otel_keeps_comments_and_is_removed_back_to_the_original() {
        let original = "# mine\nmodel = \"gpt-5\"\n\n[otel]\nlog_user_prompt = false\n";
        let doc: toml_edit::DocumentMut = original.parse().unwrap();
        let installed = codex_otel(doc, &endpoint(Some("t")), Edit::Install).unwrap();
        let text = installed.to_string();
        assert!(text.starts_with("# mine\n"), "{text}");
        assert!(text.contains("[otel.exporter.otlp-http]"), "{text}");
        assert!(
            text.contains("endpoint = \"http://127.0.0.1:7717/v1/logs\""),
            "{text}"
        );
        assert!(text.contains("authorization = \"Bearer t\""), "{text}");
        let removed = codex_otel(installed, &endpoint(Some("t")), Edit::Remove).unwrap();
        assert_eq!(removed.to_string(), original);
    }
}
