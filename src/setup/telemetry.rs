//! doctor's look at the agents' own OpenTelemetry settings: does each agent
//! that exports send its logs to this daemon's receivers, the way the daemon
//! takes them (docs/cli.md#hookmeter-doctor)?
//!
//! [`look`] reads Claude Code's `env` block, Codex's `[otel.exporter]` and
//! the Gemini CLI's `telemetry` (the settings `install-hooks --otel` writes,
//! src/setup/otel.rs) into plain [`Facts`], and asks a running daemon's
//! `/metrics` whether its gRPC listener serves. [`assess`] is pure. A token
//! is compared here and never kept: the facts say only whose it is.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::doctor::Status;
use crate::config::Config;

/// How long doctor waits for the daemon's `/metrics`: it answers at once
/// or not at all.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What doctor found about the agents' exports and the daemon's receivers.
#[derive(Debug, Clone)]
pub struct Facts {
    pub claude: AgentFacts,
    pub codex: AgentFacts,
    pub gemini: AgentFacts,
    pub receivers: Receivers,
}

/// The daemon's OTLP receivers, as its configuration places them.
#[derive(Debug, Clone)]
pub struct Receivers {
    /// The HTTP listener (`POST /v1/logs`); `None` when HTTP is off.
    pub http: Option<String>,
    /// `[otlp] grpc`; `None` when off.
    pub grpc: Option<String>,
    /// Whether the HTTP surface (and so `/v1/logs` and gRPC) needs the token.
    pub token: bool,
    pub probe: Probe,
}

/// What the running daemon's `/metrics` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Not asked: why (the daemon is not running, HTTP is off, its port is
    /// chosen at start).
    NotAsked(String),
    /// No answer, or not 200: why.
    NoAnswer(String),
    /// `hookmeter_otlp_grpc_listening`: whether the gRPC listener serves.
    Answered { grpc_listening: bool },
}

/// One agent's telemetry settings.
#[derive(Debug, Clone)]
pub struct AgentFacts {
    /// The file read; `None` when its place cannot be worked out.
    pub file: Option<PathBuf>,
    pub state: ExportState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportState {
    /// No export configured: what the file says instead.
    Off(String),
    /// The file cannot be read or parsed: why.
    Unreadable(String),
    On(Export),
}

/// An export the settings turn on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The protocol as the settings name it (`http/protobuf`, `binary`, `grpc`).
    pub protocol: String,
    /// How it travels, when the protocol is one the daemon takes.
    pub transport: Option<Transport>,
    /// The endpoint as written; `None` when unset.
    pub endpoint: Option<String>,
    /// The URL path the endpoint must have for its logs to reach
    /// `/v1/logs` (`None`: gRPC, which ignores it).
    pub path: Option<&'static str>,
    /// Whether logs are exported: the usage events are log records.
    pub logs: Result<(), String>,
    pub auth: Auth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Grpc,
}

/// The `Authorization` header an export sends, judged against the
/// daemon's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `Bearer <the daemon's token>`.
    Ours,
    /// Another value (an old token, a typo).
    Other,
    /// The agent takes its headers from its environment only (the Gemini
    /// CLI): whether doctor's environment has the token is all that can be seen.
    FromEnvironment(&'static Auth),
}

/// Looks at the three agents' settings and, when the daemon is up, its
/// `/metrics`.
pub fn look(config: &Config, env: &dyn Fn(&str) -> Option<String>, daemon_up: bool) -> Facts {
    let token = config.http_token.as_ref().map(|t| t.as_str().to_string());
    let token = token.as_deref();
    let claude_file = super::user_settings(env).ok();
    let codex_file = super::codex::codex_home(env)
        .ok()
        .map(|h| h.join("config.toml"));
    let gemini_file = super::gemini::gemini_home(env)
        .ok()
        .map(|h| h.join(".gemini/settings.json"));
    let env_auth = auth_of_header_list(env("OTEL_EXPORTER_OTLP_HEADERS").as_deref(), token);
    Facts {
        claude: read(claude_file, |text| claude(text, token)),
        codex: read(codex_file, |text| codex(text, token)),
        gemini: read(gemini_file, |text| gemini(text, env_auth)),
        receivers: Receivers {
            http: config.http.clone(),
            grpc: config.otlp_grpc.clone(),
            token: token.is_some(),
            probe: probe(config.http.as_deref(), token, daemon_up),
        },
    }
}

fn read(file: Option<PathBuf>, judge: impl FnOnce(&str) -> ExportState) -> AgentFacts {
    let state = match &file {
        None => ExportState::Off("its settings' place is unknown (no HOME)".into()),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => judge(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ExportState::Off("no settings file".into())
            }
            Err(e) => ExportState::Unreadable(e.to_string()),
        },
    };
    AgentFacts { file, state }
}

fn json(text: &str) -> Result<Value, ExportState> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| ExportState::Unreadable(format!("not valid JSON ({e})")))
}

/// Whom `Authorization` with `value` is from.
fn auth_of(value: Option<&str>, token: Option<&str>) -> Auth {
    match (value, token) {
        (None, _) => Auth::None,
        (Some(v), Some(t)) if v.trim() == format!("Bearer {t}") => Auth::Ours,
        _ => Auth::Other,
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas,
/// values percent-encoded (the OpenTelemetry SDK configuration).
fn auth_of_header_list(list: Option<&str>, token: Option<&str>) -> Auth {
    let value = list
        .into_iter()
        .flat_map(|l| l.split(','))
        .find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("authorization")
                .then(|| percent_decoded(value.trim()))
        });
    auth_of(value.as_deref(), token)
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Claude Code's `env` block (tests/fixtures/otel/README.md).
fn claude(text: &str, token: Option<&str>) -> ExportState {
    let settings = match json(text) {
        Ok(v) => v,
        Err(state) => return state,
    };
    let var = |name: &str| {
        settings
            .pointer(&format!("/env/{name}"))
            .and_then(Value::as_str)
            .map(str::trim)
    };
    let enabled = var("CLAUDE_CODE_ENABLE_TELEMETRY").is_some_and(|v| {
        ["1", "true", "yes", "on"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
    });
    if !enabled {
        return ExportState::Off("no CLAUDE_CODE_ENABLE_TELEMETRY in its env block".into());
    }
    let logs = match var("OTEL_LOGS_EXPORTER") {
        Some(list) if list.split(',').any(|e| e.trim() == "otlp") => Ok(()),
        Some(other) => Err(format!("OTEL_LOGS_EXPORTER is {other:?}, not otlp")),
        None => Err("OTEL_LOGS_EXPORTER is not set".into()),
    };
    let protocol = var("OTEL_EXPORTER_OTLP_PROTOCOL").unwrap_or("(unset)");
    ExportState::On(Export {
        protocol: protocol.to_string(),
        transport: match protocol {
            "http/protobuf" | "http/json" => Some(Transport::Http),
            "grpc" => Some(Transport::Grpc),
            _ => None,
        },
        endpoint: var("OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_string),
        path: Some(""),
        logs,
        auth: auth_of_header_list(var("OTEL_EXPORTER_OTLP_HEADERS"), token),
    })
}

/// Codex's `[otel.exporter]`: `otlp-http` or `otlp-grpc`.
fn codex(text: &str, token: Option<&str>) -> ExportState {
    let config: toml::Table = match toml::from_str(text) {
        Ok(config) => config,
        Err(e) => return ExportState::Unreadable(format!("not valid TOML ({})", e.message())),
    };
    let Some(exporter) = config.get("otel").and_then(|o| o.get("exporter")) else {
        return ExportState::Off("no [otel.exporter]".into());
    };
    let (kind, table) = match exporter {
        toml::Value::String(name) => {
            return ExportState::Off(format!("[otel] exporter = {name:?}"));
        }
        toml::Value::Table(t) => match t.iter().next() {
            Some((kind, toml::Value::Table(table))) => (kind.as_str(), table),
            _ => return ExportState::Off("an empty [otel.exporter]".into()),
        },
        _ => {
            return ExportState::Unreadable("[otel] exporter is neither a name nor a table".into())
        }
    };
    let header = table
        .get("headers")
        .and_then(toml::Value::as_table)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, v)| v.as_str())
        });
    let endpoint = table
        .get("endpoint")
        .and_then(toml::Value::as_str)
        .map(str::to_string);
    let (protocol, transport, path) = match kind {
        "otlp-http" => {
            let protocol = table
                .get("protocol")
                .and_then(toml::Value::as_str)
                .unwrap_or("(unset)");
            let transport = matches!(protocol, "binary" | "json").then_some(Transport::Http);
            (format!("otlp-http {protocol}"), transport, Some("/v1/logs"))
        }
        "otlp-grpc" => ("otlp-grpc".to_string(), Some(Transport::Grpc), None),
        other => (other.to_string(), None, None),
    };
    ExportState::On(Export {
        protocol,
        transport,
        endpoint,
        path,
        logs: Ok(()),
        auth: auth_of(header, token),
    })
}

/// The Gemini CLI's `telemetry`: gRPC unless `otlpProtocol` is `http`
/// (OTLP/HTTP JSON to a base URL); headers only from its environment.
fn gemini(text: &str, env_auth: Auth) -> ExportState {
    let settings = match json(text) {
        Ok(v) => v,
        Err(state) => return state,
    };
    let telemetry = settings.get("telemetry");
    let get = |key: &str| telemetry.and_then(|t| t.get(key));
    if get("enabled").and_then(Value::as_bool) != Some(true) {
        return ExportState::Off("telemetry.enabled is not true".into());
    }
    if let Some(target) = get("target")
        .and_then(Value::as_str)
        .filter(|t| *t != "local")
    {
        return ExportState::Off(format!(
            "telemetry.target is {target:?}: it exports to that target, not to an OTLP endpoint"
        ));
    }
    let protocol = get("otlpProtocol")
        .and_then(Value::as_str)
        .unwrap_or("grpc");
    let (transport, path) = match protocol {
        "http" => (Some(Transport::Http), Some("")),
        "grpc" => (Some(Transport::Grpc), None),
        _ => (None, None),
    };
    ExportState::On(Export {
        protocol: protocol.to_string(),
        transport,
        endpoint: get("otlpEndpoint")
            .and_then(Value::as_str)
            .map(str::to_string),
        path,
        logs: Ok(()),
        auth: Auth::FromEnvironment(match env_auth {
            Auth::Ours => &Auth::Ours,
            Auth::Other => &Auth::Other,
            _ => &Auth::None,
        }),
    })
}

/// GET `/metrics` of a daemon that is up, for `hookmeter_otlp_grpc_listening`.
fn probe(http: Option<&str>, token: Option<&str>, daemon_up: bool) -> Probe {
    let Some(listen) = http else {
        return Probe::NotAsked("HTTP is off".into());
    };
    if !daemon_up {
        return Probe::NotAsked("the daemon is not running".into());
    }
    let Some((host, port)) = host_and_port(listen) else {
        return Probe::NotAsked(format!("{listen} is not HOST:PORT"));
    };
    if port == 0 {
        return Probe::NotAsked(format!("{listen}: the port is chosen at start"));
    }
    let host = match host.as_str() {
        "0.0.0.0" => "127.0.0.1".to_string(),
        "::" => "[::1]".to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_string(),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(PROBE_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(format!("http://{host}:{port}/metrics"));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = match request.call() {
        Ok(response) => response,
        Err(e) => return Probe::NoAnswer(e.to_string()),
    };
    let status = response.status().as_u16();
    if status != 200 {
        return Probe::NoAnswer(format!("HTTP {status}"));
    }
    match response.body_mut().read_to_string() {
        Ok(text) => Probe::Answered {
            grpc_listening: text
                .lines()
                .any(|l| l.trim() == "hookmeter_otlp_grpc_listening 1"),
        },
        Err(e) => Probe::NoAnswer(e.to_string()),
    }
}

/// `HOST:PORT` or `[V6]:PORT`, the host lowercased without brackets.
fn host_and_port(listen: &str) -> Option<(String, u16)> {
    let (host, port) = listen.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_ascii_lowercase(), port.parse().ok()?))
}

/// An endpoint URL's scheme, host, port (the scheme's default when none)
/// and path.
fn parse_url(url: &str) -> Option<(String, String, u16, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (host, port) = match host_and_port(authority) {
        Some(found) if !authority.ends_with(']') => found,
        _ => (
            authority
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            default,
        ),
    };
    Some((scheme, host, port, path.to_string()))
}

fn loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// Whether a client sending to `host:port` reaches a listener on `listen`.
fn reaches(host: &str, port: u16, listen: &str) -> bool {
    let Some((listen_host, listen_port)) = host_and_port(listen) else {
        return false;
    };
    port == listen_port
        && (host == listen_host
            || (loopback(host)
                && (loopback(&listen_host) || listen_host == "0.0.0.0" || listen_host == "::")))
}

/// The findings: one per agent, then the daemon's receivers. `(check,
/// status, finding, fix)`.
pub fn assess(facts: &Facts) -> Vec<(&'static str, Status, String, Option<String>)> {
    let mut findings = Vec::new();
    for (check, name, agent, flag) in [
        ("claude.otel", "Claude Code", &facts.claude, "claude-code"),
        ("codex.otel", "Codex", &facts.codex, "codex"),
        ("gemini.otel", "The Gemini CLI", &facts.gemini, "gemini"),
    ] {
        let (status, finding, fix) = assess_agent(name, flag, agent, &facts.receivers);
        findings.push((check, status, finding, fix));
    }
    let (status, finding, fix) = assess_receivers(&facts.receivers);
    findings.push(("otlp", status, finding, fix));
    findings
}

fn assess_agent(
    name: &str,
    flag: &str,
    agent: &AgentFacts,
    receivers: &Receivers,
) -> (Status, String, Option<String>) {
    let file = agent
        .file
        .as_ref()
        .map_or("its settings".to_string(), |f| f.display().to_string());
    let install = format!("run `hookmeter install-hooks --otel --agent {flag}`");
    let export = match &agent.state {
        ExportState::Off(why) => {
            return (
                Status::Ok,
                format!(
                    "{name}'s OpenTelemetry export is not configured ({file}: {why}); optional: \
                     hookmeter reads its logs on this machine, and the export ({}) adds an \
                     agent in a container, a CI runner or on another machine",
                    install.trim_start_matches("run ")
                ),
                None,
            )
        }
        ExportState::Unreadable(why) => {
            return (
                Status::Warn,
                format!("{file} cannot be read for its OpenTelemetry settings: {why}"),
                Some(format!("correct {file}, then {install}")),
            )
        }
        ExportState::On(export) => export,
    };
    let warn =
        |finding: String, fix: String| (Status::Warn, format!("{file}: {finding}"), Some(fix));
    if let Err(why) = &export.logs {
        return warn(
            format!(
                "telemetry is on but its logs are not exported ({why}): its usage events are log records"
            ),
            install,
        );
    }
    let Some(transport) = export.transport else {
        return warn(
            format!(
                "it exports over {:?}, a protocol hookmeter does not take (OTLP over HTTP, \
                 protobuf or JSON, and gRPC)",
                export.protocol
            ),
            install,
        );
    };
    let Some(endpoint) = &export.endpoint else {
        return warn("telemetry is on but no endpoint is set".into(), install);
    };
    let Some((scheme, host, port, path)) = parse_url(endpoint) else {
        return warn(
            format!("its endpoint {endpoint:?} is not an http:// URL"),
            install,
        );
    };
    let (listener, what) = match transport {
        Transport::Http => (receivers.http.as_deref(), "HTTP listener"),
        Transport::Grpc => (receivers.grpc.as_deref(), "OTLP/gRPC listener"),
    };
    let Some(listen) = listener else {
        let fix = match transport {
            Transport::Http => format!("turn the daemon's HTTP on (`http = \"127.0.0.1:7717\"`), then {install}"),
            Transport::Grpc => format!(
                "{install} (it exports over HTTP), or turn the daemon's gRPC listener on (`[otlp] grpc = \"127.0.0.1:4317\"`) and restart it"
            ),
        };
        return warn(
            format!(
                "it exports over {} to {endpoint}, but the daemon's {what} is off",
                export.protocol
            ),
            fix,
        );
    };
    if scheme != "http" || !reaches(&host, port, listen) {
        return warn(
            format!(
                "it exports over {} to {endpoint}, not to this daemon's {what} at {listen}",
                export.protocol
            ),
            install,
        );
    }
    if let Some(expected) = export.path {
        let path = path.trim_end_matches('/');
        if path != expected {
            return warn(
                format!(
                    "its endpoint {endpoint} has the path {path:?}; the logs would not reach {}",
                    if expected.is_empty() {
                        "/v1/logs (the exporter appends it to a base URL)"
                    } else {
                        "/v1/logs"
                    }
                ),
                install,
            );
        }
    }
    if transport == Transport::Grpc
        && receivers.probe
            == (Probe::Answered {
                grpc_listening: false,
            })
    {
        return warn(
            format!(
                "it exports over gRPC to {endpoint}, but the daemon's gRPC listener does not serve (see `otlp`)"
            ),
            format!("{install} (it exports over HTTP), or see the fix of `otlp`"),
        );
    }
    if receivers.token {
        let problem = match export.auth {
            Auth::Ours | Auth::FromEnvironment(Auth::Ours) => None,
            Auth::None => Some("sends no token, and the daemon requires one (401)"),
            Auth::Other => Some("sends a token other than the daemon's (401)"),
            Auth::FromEnvironment(_) => Some(
                "has no header setting of its own, and OTEL_EXPORTER_OTLP_HEADERS in this \
                 environment holds no `Authorization=Bearer` with the daemon's token (401)",
            ),
        };
        if let Some(problem) = problem {
            let fix = match export.auth {
                Auth::FromEnvironment(_) => "start it with OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer <token>\" in its environment".to_string(),
                _ => install,
            };
            return warn(format!("it exports to {endpoint} but {problem}"), fix);
        }
    }
    let token = match export.auth {
        Auth::Ours => ", with the token",
        Auth::FromEnvironment(Auth::Ours) => ", with the token from OTEL_EXPORTER_OTLP_HEADERS",
        _ => "",
    };
    (
        Status::Ok,
        format!(
            "{file}: {name} exports its logs over {} to {endpoint}, this daemon's {what}{token}",
            export.protocol
        ),
        None,
    )
}

fn assess_receivers(receivers: &Receivers) -> (Status, String, Option<String>) {
    let http = match &receivers.http {
        Some(listen) => format!("OTLP/HTTP at http://{listen}/v1/logs"),
        None => "no OTLP/HTTP (HTTP is off)".to_string(),
    };
    let grpc = match &receivers.grpc {
        Some(listen) => format!("OTLP/gRPC at {listen}"),
        None => "no OTLP/gRPC ([otlp] grpc is off)".to_string(),
    };
    let token = match receivers.token {
        true => ", a token required",
        false => "",
    };
    let configured = format!("{http}, {grpc}{token}");
    match &receivers.probe {
        Probe::NotAsked(why) => (
            Status::Ok,
            format!("{configured}; the daemon was not asked whether they serve: {why}"),
            None,
        ),
        Probe::NoAnswer(why) => (
            Status::Warn,
            format!("{configured}; the running daemon's /metrics did not answer: {why}"),
            Some("is the daemon started with this configuration? restart it, or run doctor with the flags and environment the daemon has".into()),
        ),
        Probe::Answered { grpc_listening } => match (&receivers.grpc, grpc_listening) {
            (Some(listen), false) => (
                Status::Warn,
                format!(
                    "{configured}; the running daemon's gRPC listener does not serve (hookmeter_otlp_grpc_listening 0): its default port was taken when it started, or it runs with gRPC off"
                ),
                Some(format!(
                    "free {listen} (or set `[otlp] grpc` to a free address) and restart the daemon; exports over HTTP are not affected"
                )),
            ),
            _ => (
                Status::Ok,
                format!("{configured}; the running daemon serves them"),
                None,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_reach_a_listener_by_host_and_port() {
        let (scheme, host, port, path) = parse_url("http://localhost:7717/v1/logs").unwrap();
        assert_eq!(
            (scheme.as_str(), port, path.as_str()),
            ("http", 7717, "/v1/logs")
        );
        assert!(reaches(&host, port, "127.0.0.1:7717"));
        assert!(reaches("127.0.0.1", 7717, "0.0.0.0:7717"));
        assert!(!reaches("127.0.0.1", 7718, "127.0.0.1:7717"));
        assert!(!reaches("10.0.0.2", 7717, "127.0.0.1:7717"));
        let (_, host, port, _) = parse_url("http://[::1]:4317").unwrap();
        assert!(reaches(&host, port, "[::1]:4317"));
        assert_eq!(parse_url("http://127.0.0.1").unwrap().2, 80);
        assert!(parse_url("127.0.0.1:7717").is_none());
    }

    fn facts(claude: ExportState, grpc: Option<&str>, token: bool, probe: Probe) -> Facts {
        let off = || AgentFacts {
            file: None,
            state: ExportState::Off("no settings file".into()),
        };
        Facts {
            claude: AgentFacts {
                file: Some("/h/.claude/settings.json".into()),
                state: claude,
            },
            codex: off(),
            gemini: off(),
            receivers: Receivers {
                http: Some("127.0.0.1:7717".into()),
                grpc: grpc.map(String::from),
                token,
                probe,
            },
        }
    }

    fn claude_export(protocol: &str, endpoint: &str, auth: Auth) -> ExportState {
        let text = serde_json::json!({"env": {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": match auth {
                Auth::Ours => "Authorization=Bearer t",
                _ => "x=y",
            },
        }})
        .to_string();
        claude(&text, Some("t"))
    }

    #[test]
    fn each_state_of_an_export_gets_its_verdict() {
        let answered = |grpc_listening| Probe::Answered { grpc_listening };
        let verdict = |facts: &Facts| {
            let (_, status, finding, _) = assess(facts).remove(0);
            (status, finding)
        };
        let ours = claude_export("http/protobuf", "http://localhost:7717", Auth::Ours);
        let (status, finding) = verdict(&facts(ours.clone(), None, true, answered(false)));
        assert_eq!(status, Status::Ok, "{finding}");
        assert!(!finding.contains("Bearer"), "{finding}");
        // A path after the base: the exporter would post to /x/v1/logs.
        let pathed = claude_export("http/json", "http://127.0.0.1:7717/x", Auth::Ours);
        assert_eq!(
            verdict(&facts(pathed, None, true, answered(false))).0,
            Status::Warn
        );
        let no_token = claude_export("http/json", "http://127.0.0.1:7717", Auth::None);
        assert_eq!(
            verdict(&facts(no_token.clone(), None, true, answered(false))).0,
            Status::Warn
        );
        assert_eq!(
            verdict(&facts(no_token, None, false, answered(false))).0,
            Status::Ok
        );
        let grpc = claude_export("grpc", "http://127.0.0.1:4317", Auth::Ours);
        let on = Some("127.0.0.1:4317");
        assert_eq!(
            verdict(&facts(grpc.clone(), on, true, answered(true))).0,
            Status::Ok
        );
        assert_eq!(
            verdict(&facts(grpc.clone(), on, true, answered(false))).0,
            Status::Warn
        );
        assert_eq!(
            verdict(&facts(grpc, None, true, answered(true))).0,
            Status::Warn
        );
        let unknown = claude_export("http/xml", "http://127.0.0.1:7717", Auth::Ours);
        assert_eq!(
            verdict(&facts(unknown, None, true, answered(false))).0,
            Status::Warn
        );
        // The receivers: a gRPC listener configured but not serving warns.
        let last = |f: &Facts| assess(f).pop().unwrap().1;
        assert_eq!(
            last(&facts(ours.clone(), on, false, answered(false))),
            Status::Warn
        );
        assert_eq!(
            last(&facts(ours.clone(), on, false, answered(true))),
            Status::Ok
        );
        let down = Probe::NotAsked("the daemon is not running".into());
        assert_eq!(last(&facts(ours, on, false, down)), Status::Ok);
    }

    #[test]
    fn header_lists_are_read_percent_decoded_and_tokens_never_kept() {
        let t = Some("s3cret");
        assert_eq!(
            auth_of_header_list(Some("a=b,Authorization=Bearer%20s3cret"), t),
            Auth::Ours
        );
        assert_eq!(
            auth_of_header_list(Some("authorization=Bearer other"), t),
            Auth::Other
        );
        assert_eq!(auth_of_header_list(Some("x=y"), t), Auth::None);
        assert_eq!(auth_of_header_list(None, None), Auth::None);
    }
}
