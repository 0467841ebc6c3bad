//! Resolved configuration: flag > environment > config file > default
//! (docs/configuration.md). Raw inputs are resolved once, here; everything downstream gets a
//! finished [`Config`] and never looks at the environment again.
//!
//! [`Config::resolve`] is the only place precedence is decided. It records
//! which source each setting came from ([`Config::origins`]), so `hookmeter
//! config` can explain the result without deciding anything again.
//!
//! It must never read the database or import the modules it configures
//! (store, query, budget): it sits below them. The value types it holds
//! (budgets, payload policy, durability) are the core's
//! (`hookmeter_core::terms`); what the database adds to `hookmeter config`
//! is gathered by the caller ([`StoredBudgets`]).

mod alerts;
mod push;
mod show;

pub use alerts::{AlertSettings, Webhook};
pub use push::{PushSettings, PushUrl};
pub use show::{MissingDatabase, StoredBudgets};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use hookmeter_core::collect::UsageLimits;
use hookmeter_core::terms::{Budget, PayloadPolicy};

/// How hard a commit tries to reach the disk: a value of the core's, named
/// here too because it is a setting resolved like the others.
pub use hookmeter_core::terms::Durability;

/// Longest path a Unix socket address can hold on Linux (sun_path, with its NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// The per-user base directory from `var` (XDG) or `$HOME/fallback`; `None`
/// when neither is set, as under a system service, where the system
/// locations apply instead (docs/configuration.md#locations).
fn xdg_dir(env: &dyn Fn(&str) -> Option<String>, var: &str, fallback: &str) -> Option<PathBuf> {
    match env(var).filter(|v| v.starts_with('/')) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(|home| PathBuf::from(home).join(fallback)),
    }
}

/// The first directory systemd names in `var` (`STATE_DIRECTORY` and its
/// kin: absolute paths, `:`-separated when a unit lists several).
fn systemd_dir(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<PathBuf> {
    env(var)?
        .split(':')
        .next()
        .filter(|d| d.starts_with('/'))
        .map(PathBuf::from)
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The named environment variable.
    Env(&'static str),
    /// The config file at this path.
    File(PathBuf),
    /// hookmeter's default (which may itself follow HOME and the XDG
    /// variables, as the defaults in docs/configuration.md#locations do).
    Default,
}

impl Origin {
    /// The kind alone: `flag`, `env`, `file` or `default`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Flag => "flag",
            Origin::Env(_) => "env",
            Origin::File(_) => "file",
            Origin::Default => "default",
        }
    }

    /// The variable's name or the file's path; `None` for a flag or a default.
    pub fn detail(&self) -> Option<String> {
        match self {
            Origin::Env(var) => Some(var.to_string()),
            Origin::File(path) => Some(path.display().to_string()),
            Origin::Flag | Origin::Default => None,
        }
    }
}

/// `flag`, `env VAR`, `file PATH` or `default`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{} {detail}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

/// Values the user gave on the command line; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub spool: Option<PathBuf>,
    pub http: Option<String>,
}

/// The config file, as written. Unknown keys are an error so typos surface.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<PathBuf>,
    socket: Option<PathBuf>,
    spool: Option<PathBuf>,
    /// `http = "ADDR"`, or a `[http]` table with `listen`, `token` and
    /// `allowed_hosts`.
    http: Option<toml::Value>,
    store_payloads: Option<PayloadPolicy>,
    durability: Option<Durability>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    transcripts: FileTranscripts,
    #[serde(default)]
    alerts: alerts::FileAlerts,
    #[serde(default)]
    budgets: Vec<alerts::FileBudget>,
    #[serde(default)]
    metrics: FileMetrics,
    #[serde(default)]
    pricing: FilePricing,
    #[serde(default)]
    otlp: FileOtlp,
    #[serde(default)]
    statusline: FileStatusline,
    #[serde(default)]
    push: push::FilePush,
}

/// `[statusline]`: how `hookmeter statusline` prints its line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStatusline {
    format: Option<String>,
}

/// The statusline's line when `[statusline] format` does not say
/// (docs/cli.md#hookmeter-statusline names every placeholder).
pub const STATUSLINE_FORMAT: &str = "{model} {session_cost} {today} {budget} {plan} {burn}";

/// `[otlp]`: the OpenTelemetry receiver (`POST /v1/logs`, `/v1/metrics`,
/// and OTLP/gRPC on a listener of its own).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOtlp {
    max_body: Option<usize>,
    grpc: Option<FileGrpc>,
}

/// `grpc = "HOST:PORT"`, or `false` (also `"off"`) for no gRPC listener.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileGrpc {
    On(bool),
    Listen(String),
}

/// Where OTLP/gRPC listens when nothing says otherwise: the port OTLP
/// exporters send gRPC to by default, on loopback.
pub const OTLP_GRPC_LISTEN: &str = "127.0.0.1:4317";

/// The largest OTLP export body accepted by default, as sent and once
/// inflated: Claude Code's exports are a few kB to a few dozen kB.
pub const OTLP_MAX_BODY: usize = 4 * 1024 * 1024;

/// `[pricing]`: where `hookmeter pricing update` reads LiteLLM's price file,
/// and whether the daemon does so by itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePricing {
    auto_update: Option<AutoUpdate>,
    update_url: Option<String>,
}

/// `[pricing] auto_update`: whether the daemon refreshes the price update
/// layer by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoUpdate {
    /// Only `hookmeter pricing update` changes the layer.
    #[default]
    Off,
    /// The daemon asks the update URL once a day (a conditional request).
    Daily,
}

impl AutoUpdate {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoUpdate::Off => "off",
            AutoUpdate::Daily => "daily",
        }
    }
}

/// LiteLLM's price file as its repository publishes it: the default of
/// `[pricing] update_url`.
pub const DEFAULT_UPDATE_URL: &str =
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json";

/// How often `auto_update = "daily"` asks.
const DAILY: Duration = Duration::from_secs(24 * 60 * 60);

/// The price update layer (docs/pricing.md#hookmeter-pricing-update): where
/// it lives, where it comes from, and whether the daemon refreshes it.
#[derive(Debug, Clone)]
pub struct PriceUpdates {
    /// `[pricing] auto_update`.
    pub auto: AutoUpdate,
    /// `[pricing] update_url`: LiteLLM's raw price file unless set.
    pub url: String,
    /// The generated layer, `pricing-update.toml` beside the database: the
    /// daemon must be able to write it, and under systemd only its state
    /// directory is writable.
    pub layer_file: PathBuf,
    /// What the last download said of the file (ETag, Last-Modified) and
    /// when it was last checked, for the next conditional request:
    /// `pricing-update.json` beside the layer.
    pub state_file: PathBuf,
    /// Time between the daemon's checks: a day. Only tests shorten it
    /// (`HOOKMETER_PRICING_UPDATE_SECS`, not a setting: see
    /// docs/configuration.md).
    pub interval: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    max_label_values: Option<usize>,
}

/// Distinct values a `/metrics` label (provider, model, agent) shows by
/// default before the rest are counted as `other`.
pub const MAX_LABEL_VALUES: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTranscripts {
    roots: Option<Vec<PathBuf>>,
    idle_timeout_secs: Option<u64>,
    stop_linger_secs: Option<u64>,
    watch: Option<FileWatch>,
}

/// `watch = true`, `false` or `"scan"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileWatch {
    On(bool),
    Named(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_line_bytes: Option<usize>,
    idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    spool_max_file_bytes: Option<u64>,
    spool_rescan_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    payload_bytes: Option<usize>,
    max_prompt_tokens: Option<u64>,
    max_output_tokens: Option<u64>,
}

/// Protective limits of the ingest edges.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest socket line accepted; longer lines get an error ack.
    pub max_line_bytes: usize,
    /// A socket connection silent this long is closed.
    pub idle_timeout: Duration,
    /// Socket connections served at once; more get an error line and are closed.
    pub max_connections: usize,
    /// Spool files larger than this are rejected unread.
    pub spool_max_file_bytes: u64,
    /// Full spool rescan interval: notify can miss events.
    pub spool_rescan: Duration,
    /// How long SIGTERM waits for in-flight work before exiting anyway.
    pub shutdown_grace: Duration,
    /// Stored payload size under `store_payloads = "truncated"`.
    pub payload_bytes: usize,
    /// Per-call token ceilings (`max_prompt_tokens`, `max_output_tokens`):
    /// a usage over them is rejected, or skipped in a transcript, never priced.
    pub usage: UsageLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 1024 * 1024,
            idle_timeout: Duration::from_secs(30),
            max_connections: 512,
            spool_max_file_bytes: 16 * 1024 * 1024,
            spool_rescan: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            payload_bytes: 4096,
            usage: UsageLimits::default(),
        }
    }
}

/// Where Claude Code transcripts may be read from, and how long to follow them.
#[derive(Debug, Clone)]
pub struct Transcripts {
    /// Only files under these directories are read (after canonicalization).
    pub roots: Vec<PathBuf>,
    /// Where Codex keeps its rollouts: `$CODEX_HOME/sessions` and
    /// `$CODEX_HOME/archived_sessions` (`CODEX_HOME` defaults to `~/.codex`).
    pub codex_roots: Vec<PathBuf>,
    /// Where the Gemini CLI keeps its chat logs: `$GEMINI_CLI_HOME/.gemini/tmp`
    /// (`GEMINI_CLI_HOME` defaults to `$HOME`). Read by `import` only, for now.
    pub gemini_roots: Vec<PathBuf>,
    /// Where OpenCode keeps its database and older JSON storage:
    /// `$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`.
    pub opencode_roots: Vec<PathBuf>,
    /// A watched transcript with no activity this long gets a last read and is dropped.
    pub idle_timeout: Duration,
    /// After Stop/SubagentStop/SessionEnd, keep watching this long: the last
    /// message of a turn can reach the file just after the hook fires.
    pub stop_linger: Duration,
    /// Whether the daemon finds the agents' log files under the roots by
    /// itself, so capture needs no hooks (`transcripts.watch`).
    pub watch: Watch,
}

/// How the daemon finds new and growing agent log files under the roots
/// without a hook naming them (docs/ingest.md#capture-without-hooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Only files a hook event names are read.
    Off,
    /// File system notifications, a rescan now and then for missed ones;
    /// a root notifications cannot cover is scanned instead.
    Notify,
    /// Periodic scans only: for file systems without notifications (NFS).
    Scan,
}

impl Watch {
    /// The name `hookmeter config` shows and the config file takes.
    pub fn as_config(self) -> serde_json::Value {
        match self {
            Watch::Off => serde_json::Value::Bool(false),
            Watch::Notify => serde_json::Value::Bool(true),
            Watch::Scan => serde_json::Value::from("scan"),
        }
    }
}

/// Everything the daemon and its clients need, fully resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file consulted (it may not exist).
    pub config_file: PathBuf,
    /// The user's price overrides: `pricing.toml` beside the config file.
    pub pricing_file: PathBuf,
    /// `[pricing]`: the update layer below `pricing.toml`.
    pub price_updates: PriceUpdates,
    pub db: PathBuf,
    pub socket: PathBuf,
    pub spool: PathBuf,
    /// HTTP listen address, `None` when `off`.
    pub http: Option<String>,
    /// Bearer token the HTTP API requires (`[http] token`, `HOOKMETER_HTTP_TOKEN`).
    pub http_token: Option<HttpToken>,
    /// `[http] allowed_hosts`: names besides loopback and the listen
    /// address that a request's `Host` may carry, as [`canonical_host`]
    /// writes them. Any other name is refused, so a page whose name was
    /// rebound to this machine's address cannot read the API.
    pub http_allowed_hosts: Vec<String>,
    pub store_payloads: PayloadPolicy,
    pub durability: Durability,
    pub limits: Limits,
    pub transcripts: Transcripts,
    /// Budget thresholds, their calendar and notifiers (`[alerts]`).
    pub alerts: AlertSettings,
    /// Budgets the config file sets (`[[budgets]]`); the daemon writes them
    /// to the database at start and on SIGHUP.
    pub budgets: Vec<Budget>,
    /// `[otlp] max_body`: the largest OTLP export accepted, in bytes, as
    /// sent and again once a gzip body is inflated.
    pub otlp_max_body: usize,
    /// `[otlp] grpc`, `HOOKMETER_OTLP_GRPC`: where OTLP/gRPC listens;
    /// `None` when off.
    pub otlp_grpc: Option<String>,
    /// `[metrics] max_label_values`: distinct values per `/metrics` label
    /// before the rest are counted as `other`.
    pub max_label_values: usize,
    /// `[statusline] format`: the placeholders `hookmeter statusline` fills.
    pub statusline_format: String,
    /// `[push]`: the central PostgreSQL the daemon pushes records to.
    pub push: PushSettings,
    /// Where each setting came from, by the name `hookmeter config` shows
    /// (`db`, `limits.max_line_bytes`, `transcripts.roots`, ...).
    pub origins: BTreeMap<&'static str, Origin>,
}

impl Config {
    /// Whether OTLP/gRPC listens where it does only because nothing said
    /// otherwise: then a taken port is warned about, not fatal.
    pub fn otlp_grpc_by_default(&self) -> bool {
        self.origins.get("otlp.grpc") == Some(&Origin::Default)
    }

    /// The price table in force: the embedded one, the update layer at
    /// [`PriceUpdates::layer_file`], the user's `pricing.toml`
    /// at [`Config::pricing_file`] and the `COST_PRICING_*` overrides; what
    /// the daemon starts with (and reloads on SIGHUP), and what `import`,
    /// `reprice`, `pricing` and `report --advice` price with.
    pub fn load_prices(&self) -> anyhow::Result<crate::pricing::PriceTable> {
        use anyhow::Context as _;
        let table = crate::pricing::load_layered(
            Some(&self.price_updates.layer_file),
            Some(&self.pricing_file),
            std::env::vars(),
        )
        .context("cannot load prices")?;
        for warning in table.warnings() {
            tracing::warn!(warning = %warning, "Price override ignored.");
        }
        Ok(table)
    }

    /// Resolves the configuration from flags, the environment (given as a
    /// lookup function, so tests need not touch the process environment) and
    /// the config file it names.
    pub fn resolve(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Self::resolve_with(flags, env, true)
    }

    /// Like [`Config::resolve`] but ignoring the config file: for the hook
    /// client, which must still deliver an event when that file is broken.
    pub fn resolve_without_file(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Self::resolve_with(flags, env, false)
    }

    fn resolve_with(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
        read_file: bool,
    ) -> Result<Config, ConfigError> {
        // Under systemd, the unit's StateDirectory=, RuntimeDirectory= and
        // ConfigurationDirectory= are hookmeter's own directories: the system
        // locations (docs/configuration.md#locations) for the system unit, the XDG ones for the user
        // unit, whatever HOME the service account has.
        let state = || match (
            systemd_dir(env, "STATE_DIRECTORY"),
            xdg_dir(env, "XDG_STATE_HOME", ".local/state"),
        ) {
            (Some(dir), _) => dir,
            (None, Some(dir)) => dir.join("hookmeter"),
            (None, None) => PathBuf::from("/var/lib/hookmeter"),
        };
        let mut pick = Precedence {
            file: PathBuf::new(),
            origins: BTreeMap::new(),
        };
        let config_file = match pick.first(
            "config_file",
            flags.config.clone(),
            ("HOOKMETER_CONFIG", path_env(env, "HOOKMETER_CONFIG")),
            None,
        ) {
            Some(path) => path,
            None => match (
                systemd_dir(env, "CONFIGURATION_DIRECTORY"),
                xdg_dir(env, "XDG_CONFIG_HOME", ".config"),
            ) {
                (Some(dir), _) => dir.join("config.toml"),
                (None, Some(dir)) => dir.join("hookmeter/config.toml"),
                (None, None) => PathBuf::from("/etc/hookmeter/config.toml"),
            },
        };
        pick.file = config_file.clone();
        let file = match read_file {
            true => read_file_config(&config_file, flags.config.is_some())?,
            false => FileConfig::default(),
        };

        let db = match pick.first(
            "db",
            flags.db.clone(),
            ("TELEMETRY_DB_PATH", path_env(env, "TELEMETRY_DB_PATH")),
            file.db,
        ) {
            Some(path) => path,
            None => state().join("telemetry.db"),
        };
        let socket = match pick.first(
            "socket",
            flags.socket.clone(),
            ("HOOKMETER_SOCKET", path_env(env, "HOOKMETER_SOCKET")),
            file.socket,
        ) {
            Some(path) => path,
            None => {
                let runtime = env("XDG_RUNTIME_DIR").filter(|d| d.starts_with('/'));
                match (systemd_dir(env, "RUNTIME_DIRECTORY"), runtime) {
                    (Some(dir), _) => dir.join("hookmeter.sock"),
                    (None, Some(runtime)) => {
                        PathBuf::from(runtime).join("hookmeter/hookmeter.sock")
                    }
                    (None, None) if xdg_dir(env, "XDG_STATE_HOME", ".local/state").is_none() => {
                        PathBuf::from("/run/hookmeter/hookmeter.sock")
                    }
                    (None, None) => state().join("hookmeter.sock"),
                }
            }
        };
        let spool = match pick.first(
            "spool",
            flags.spool.clone(),
            ("HOOKMETER_SPOOL", path_env(env, "HOOKMETER_SPOOL")),
            file.spool,
        ) {
            Some(path) => path,
            None => state().join("spool"),
        };
        let FileHttp {
            listen: file_http,
            token: file_token,
            allowed_hosts,
        } = file_http(file.http, &config_file)?;
        let http_allowed_hosts = pick
            .file_only("http.allowed_hosts", allowed_hosts)
            .unwrap_or_default();
        let http = pick
            .first(
                "http",
                flags.http.clone(),
                (
                    "HOOKMETER_HTTP",
                    env("HOOKMETER_HTTP").filter(|v| !v.is_empty()),
                ),
                file_http,
            )
            .unwrap_or_else(|| "127.0.0.1:7717".to_string());
        let http = (!http.eq_ignore_ascii_case("off")).then_some(http);
        let http_token = env("HOOKMETER_HTTP_TOKEN")
            .filter(|v| !v.is_empty())
            .or(file_token)
            .map(HttpToken);

        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ConfigError::Invalid(format!(
                "socket path {} is {} bytes; Unix sockets allow at most {MAX_SOCKET_PATH}: choose a shorter --socket",
                socket.display(),
                socket.as_os_str().len()
            )));
        }

        let defaults = Limits::default();
        let l = file.limits;
        let limits = Limits {
            max_line_bytes: positive(
                "limits.max_line_bytes",
                pick.file_only("limits.max_line_bytes", l.max_line_bytes),
            )?
            .unwrap_or(defaults.max_line_bytes),
            idle_timeout: pick
                .file_only("limits.idle_timeout_secs", l.idle_timeout_secs)
                .map(Duration::from_secs)
                .unwrap_or(defaults.idle_timeout),
            max_connections: positive(
                "limits.max_connections",
                pick.file_only("limits.max_connections", l.max_connections),
            )?
            .unwrap_or(defaults.max_connections),
            spool_max_file_bytes: pick
                .file_only("limits.spool_max_file_bytes", l.spool_max_file_bytes)
                .unwrap_or(defaults.spool_max_file_bytes),
            spool_rescan: match pick.file_only("limits.spool_rescan_secs", l.spool_rescan_secs) {
                Some(0) => {
                    return Err(ConfigError::Invalid(
                        "limits.spool_rescan_secs must be at least 1".into(),
                    ))
                }
                Some(secs) => Duration::from_secs(secs),
                None => defaults.spool_rescan,
            },
            shutdown_grace: pick
                .file_only("limits.shutdown_grace_secs", l.shutdown_grace_secs)
                .map(Duration::from_secs)
                .unwrap_or(defaults.shutdown_grace),
            payload_bytes: positive(
                "limits.payload_bytes",
                pick.file_only("limits.payload_bytes", l.payload_bytes),
            )?
            .unwrap_or(defaults.payload_bytes),
            usage: UsageLimits {
                max_prompt_tokens: positive(
                    "limits.max_prompt_tokens",
                    pick.file_only("limits.max_prompt_tokens", l.max_prompt_tokens),
                )?
                .unwrap_or(defaults.usage.max_prompt_tokens),
                max_output_tokens: positive(
                    "limits.max_output_tokens",
                    pick.file_only("limits.max_output_tokens", l.max_output_tokens),
                )?
                .unwrap_or(defaults.usage.max_output_tokens),
            },
        };

        let t = file.transcripts;
        let transcripts = Transcripts {
            roots: match pick.file_only("transcripts.roots", t.roots) {
                Some(roots) => roots,
                None => default_transcript_roots(env),
            },
            codex_roots: default_codex_roots(env),
            gemini_roots: default_gemini_roots(env),
            opencode_roots: default_opencode_roots(env),
            idle_timeout: Duration::from_secs(
                pick.file_only("transcripts.idle_timeout_secs", t.idle_timeout_secs)
                    .unwrap_or(300),
            ),
            stop_linger: Duration::from_secs(
                pick.file_only("transcripts.stop_linger_secs", t.stop_linger_secs)
                    .unwrap_or(5),
            ),
            watch: match pick.file_only("transcripts.watch", t.watch) {
                None | Some(FileWatch::On(true)) => Watch::Notify,
                Some(FileWatch::On(false)) => Watch::Off,
                Some(FileWatch::Named(name)) if name == "scan" => Watch::Scan,
                Some(FileWatch::Named(name)) => {
                    return Err(ConfigError::Invalid(format!(
                        "transcripts.watch = {name:?}: expected true, false or \"scan\""
                    )))
                }
            },
        };
        let store_payloads = pick
            .file_only("store_payloads", file.store_payloads)
            .unwrap_or_default();
        let durability = pick
            .file_only("durability", file.durability)
            .unwrap_or_default();
        let (alerts, budgets) =
            alerts::resolve(&mut pick, file.alerts, file.budgets, &config_file)?;
        let max_label_values = positive(
            "metrics.max_label_values",
            pick.file_only("metrics.max_label_values", file.metrics.max_label_values),
        )?
        .unwrap_or(MAX_LABEL_VALUES);
        let otlp_max_body = positive(
            "otlp.max_body",
            pick.file_only("otlp.max_body", file.otlp.max_body),
        )?
        .unwrap_or(OTLP_MAX_BODY);
        let grpc_from_file = match file.otlp.grpc {
            None => None,
            Some(FileGrpc::On(false)) => Some("off".to_string()),
            Some(FileGrpc::On(true)) => Some(OTLP_GRPC_LISTEN.to_string()),
            Some(FileGrpc::Listen(addr)) => Some(addr),
        };
        let otlp_grpc = pick
            .first(
                "otlp.grpc",
                None,
                (
                    "HOOKMETER_OTLP_GRPC",
                    env("HOOKMETER_OTLP_GRPC").filter(|v| !v.is_empty()),
                ),
                grpc_from_file,
            )
            .unwrap_or_else(|| OTLP_GRPC_LISTEN.to_string());
        let otlp_grpc = (!(otlp_grpc.eq_ignore_ascii_case("off")
            || otlp_grpc.eq_ignore_ascii_case("false")))
        .then_some(otlp_grpc);
        let statusline_format = pick
            .file_only("statusline.format", file.statusline.format)
            .unwrap_or_else(|| STATUSLINE_FORMAT.to_string());
        let pricing_file = config_file
            .parent()
            .map(|dir| dir.join("pricing.toml"))
            .unwrap_or_else(|| PathBuf::from("pricing.toml"));
        let state_dir = match db.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let auto = pick
            .file_only("pricing.auto_update", file.pricing.auto_update)
            .unwrap_or_default();
        let url = pick
            .file_only("pricing.update_url", file.pricing.update_url)
            .unwrap_or_else(|| DEFAULT_UPDATE_URL.to_string());
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "pricing.update_url {url:?} is not an http:// or https:// URL"
            )));
        }
        let interval =
            match env("HOOKMETER_PRICING_UPDATE_SECS").map(|v| v.parse::<u64>()) {
                None => DAILY,
                Some(Ok(secs)) if secs > 0 => Duration::from_secs(secs),
                Some(_) => return Err(ConfigError::Invalid(
                    "HOOKMETER_PRICING_UPDATE_SECS must be a whole number of seconds, at least 1"
                        .into(),
                )),
            };
        let price_updates = PriceUpdates {
            auto,
            url,
            layer_file: state_dir.join("pricing-update.toml"),
            state_file: state_dir.join("pricing-update.json"),
            interval,
        };
        let p = file.push;
        let push_url = pick
            .first(
                "push.postgres",
                None,
                (
                    "HOOKMETER_PUSH_URL",
                    env("HOOKMETER_PUSH_URL").filter(|v| !v.is_empty()),
                ),
                p.postgres.filter(|v| !v.is_empty()),
            )
            .map(PushUrl::new);
        let push_user = pick.file_only("push.user", p.user).unwrap_or_else(|| {
            env("USER")
                .or_else(|| env("LOGNAME"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "unknown".into())
        });
        let push_labels = pick
            .file_only("push.labels", Some(p.labels).filter(|l| !l.is_empty()))
            .unwrap_or_default();
        let push_batch = positive("push.batch", pick.file_only("push.batch", p.batch))?
            .unwrap_or(push::PUSH_BATCH);
        let backoff_min = positive(
            "push.backoff_min_ms",
            pick.file_only("push.backoff_min_ms", p.backoff_min_ms),
        )?
        .map(Duration::from_millis)
        .unwrap_or(push::PUSH_BACKOFF_MIN);
        let backoff_max = positive(
            "push.backoff_max_ms",
            pick.file_only("push.backoff_max_ms", p.backoff_max_ms),
        )?
        .map(Duration::from_millis)
        .unwrap_or(push::PUSH_BACKOFF_MAX)
        .max(backoff_min);
        let max_delay = pick
            .file_only("push.max_delay_ms", p.max_delay_ms)
            .map(Duration::from_millis)
            .unwrap_or(push::PUSH_MAX_DELAY);
        let push = PushSettings {
            url: push_url,
            password_file: pick.file_only("push.password_file", p.password_file),
            user: push_user,
            labels: push_labels,
            batch: push_batch,
            backoff_min,
            backoff_max,
            max_delay,
        };
        // pricing.toml has no setting of its own: it lives beside the config
        // file, so whatever placed the config file placed it.
        let mut origins = pick.origins;
        origins.insert("pricing_file", origins["config_file"].clone());
        Ok(Config {
            config_file,
            pricing_file,
            price_updates,
            db,
            socket,
            spool,
            http,
            http_token,
            http_allowed_hosts,
            store_payloads,
            durability,
            limits,
            transcripts,
            alerts,
            budgets,
            max_label_values,
            otlp_max_body,
            otlp_grpc,
            statusline_format,
            push,
            origins,
        })
    }
}

impl Config {
    /// The config file's `[alerts]` and `[[budgets]]` as the file says now,
    /// for SIGHUP. A file the user named must still exist; the default one
    /// may be gone (then there are none).
    pub fn reload_alerts(&self) -> Result<(AlertSettings, Vec<Budget>), ConfigError> {
        let named = self.origins.get("config_file") != Some(&Origin::Default);
        let file = read_file_config(&self.config_file, named)?;
        let mut pick = Precedence {
            file: self.config_file.clone(),
            origins: BTreeMap::new(),
        };
        alerts::resolve(&mut pick, file.alerts, file.budgets, &self.config_file)
    }
}

/// Applies the precedence flag > environment > file > default to one setting
/// at a time and notes which source won, so the answer and its explanation
/// cannot disagree.
struct Precedence {
    /// The config file the `File` origins name.
    file: PathBuf,
    /// Where each setting decided so far came from.
    origins: BTreeMap<&'static str, Origin>,
}

impl Precedence {
    /// The flag, else the environment variable's value, else the file's;
    /// `None` (recorded as the default) when none is given, for the caller
    /// to supply the default.
    fn first<T>(
        &mut self,
        name: &'static str,
        flag: Option<T>,
        (var, from_env): (&'static str, Option<T>),
        from_file: Option<T>,
    ) -> Option<T> {
        let (value, origin) = match (flag, from_env, from_file) {
            (Some(value), _, _) => (Some(value), Origin::Flag),
            (None, Some(value), _) => (Some(value), Origin::Env(var)),
            (None, None, Some(value)) => (Some(value), Origin::File(self.file.clone())),
            (None, None, None) => (None, Origin::Default),
        };
        self.origins.insert(name, origin);
        value
    }

    /// A setting only the config file can give.
    fn file_only<T>(&mut self, name: &'static str, from_file: Option<T>) -> Option<T> {
        let origin = match from_file {
            Some(_) => Origin::File(self.file.clone()),
            None => Origin::Default,
        };
        self.origins.insert(name, origin);
        from_file
    }
}

/// A secret that must not show up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpToken(String);

impl HttpToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpToken(<redacted>)")
    }
}

/// The config file's `http`, whichever form it takes.
#[derive(Debug, Default)]
struct FileHttp {
    listen: Option<String>,
    token: Option<String>,
    /// Canonical already ([`canonical_host`]); `None` when not given.
    allowed_hosts: Option<Vec<String>>,
}

/// The config file's `http`: a plain address string, or a `[http]` table
/// with `listen`, `token` and `allowed_hosts`.
fn file_http(value: Option<toml::Value>, path: &Path) -> Result<FileHttp, ConfigError> {
    let invalid = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    match value {
        None => Ok(FileHttp::default()),
        Some(toml::Value::String(listen)) => Ok(FileHttp {
            listen: Some(listen),
            ..FileHttp::default()
        }),
        Some(toml::Value::Table(table)) => {
            let mut http = FileHttp::default();
            for (key, value) in table {
                let slot = match key.as_str() {
                    "listen" => &mut http.listen,
                    "token" => &mut http.token,
                    "allowed_hosts" => {
                        http.allowed_hosts = Some(allowed_hosts(value).map_err(invalid)?);
                        continue;
                    }
                    other => {
                        return Err(invalid(format!(
                            "unknown key http.{other}: expected listen, token or allowed_hosts"
                        )))
                    }
                };
                match value {
                    toml::Value::String(text) => *slot = Some(text).filter(|t| !t.is_empty()),
                    _ => return Err(invalid(format!("http.{key} must be a string"))),
                }
            }
            Ok(http)
        }
        Some(_) => Err(invalid(
            "http must be an address string (\"127.0.0.1:7717\", \"off\") or an [http] table"
                .to_string(),
        )),
    }
}

/// `[http] allowed_hosts`: an array of host names, each made canonical.
fn allowed_hosts(value: toml::Value) -> Result<Vec<String>, String> {
    let toml::Value::Array(items) = value else {
        return Err(
            "http.allowed_hosts must be an array of host names, e.g. [\"build-host.lan\"]".into(),
        );
    };
    items
        .into_iter()
        .map(|item| {
            let text = item.as_str().ok_or_else(|| {
                format!("http.allowed_hosts holds {item}, not a host name in quotes")
            })?;
            canonical_host(text).ok_or_else(|| {
                format!(
                    "http.allowed_hosts holds {text:?}, which is not a host name: give the name \
                     alone, without scheme, port or path (e.g. \"build-host.lan\")"
                )
            })
        })
        .collect()
}

/// A host name as `[http] allowed_hosts` holds it and the HTTP server
/// compares a request's `Host` with it: lowercase, without a trailing dot,
/// an IPv6 address without its brackets. `None` for text that is not a
/// name or an address alone (a port, a scheme, a path, a space, nothing).
pub fn canonical_host(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    if let Some(inner) = lower.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return inner
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|ip| ip.to_string());
    }
    if let Ok(ip) = lower.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then(|| name.to_string())
}

/// Where Claude Code keeps transcripts: `~/.claude/projects`,
/// `~/.config/claude/projects`, and `projects` under each directory of the
/// comma-separated `CLAUDE_CONFIG_DIR`.
fn default_transcript_roots(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(home) = env("HOME").filter(|h| h.starts_with('/')) {
        roots.push(PathBuf::from(&home).join(".claude/projects"));
        roots.push(PathBuf::from(&home).join(".config/claude/projects"));
    }
    for dir in env("CLAUDE_CONFIG_DIR").unwrap_or_default().split(',') {
        let dir = dir.trim();
        if !dir.is_empty() {
            roots.push(PathBuf::from(dir).join("projects"));
        }
    }
    roots
}

/// Where Codex keeps rollouts: `sessions` and `archived_sessions` under
/// `CODEX_HOME`, which defaults to `~/.codex`.
fn default_codex_roots(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = path_env(env, "CODEX_HOME").or_else(|| {
        env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(|h| PathBuf::from(h).join(".codex"))
    });
    home.map(|home| vec![home.join("sessions"), home.join("archived_sessions")])
        .unwrap_or_default()
}

/// Where the Gemini CLI keeps chat logs: `.gemini/tmp` under
/// `GEMINI_CLI_HOME`, which the CLI takes for the home directory when set.
fn default_gemini_roots(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = path_env(env, "GEMINI_CLI_HOME").or_else(|| {
        env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(PathBuf::from)
    });
    home.map(|home| vec![home.join(".gemini").join("tmp")])
        .unwrap_or_default()
}

/// OpenCode's data directory: `opencode` under `$XDG_DATA_HOME` (an
/// absolute path, as the XDG rules want), else under `~/.local/share`.
fn default_opencode_roots(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let data = path_env(env, "XDG_DATA_HOME")
        .filter(|d| d.is_absolute())
        .or_else(|| {
            env("HOME")
                .filter(|h| h.starts_with('/'))
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    data.map(|d| vec![d.join("opencode")]).unwrap_or_default()
}

fn path_env(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<PathBuf> {
    env(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn positive<T: PartialEq + Default>(
    name: &str,
    value: Option<T>,
) -> Result<Option<T>, ConfigError> {
    if value.as_ref() == Some(&T::default()) {
        return Err(ConfigError::Invalid(format!(
            "{name} must be greater than 0"
        )));
    }
    Ok(value)
}

/// A missing default config file is normal; a missing file the user named is not.
fn read_file_config(path: &Path, named_by_flag: bool) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named_by_flag => {
            return Ok(FileConfig::default())
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: one_line(&text, &e),
    })
}

/// The TOML error as one line, `line L, column C: what`: the parser's own
/// rendering spreads a source excerpt over several lines, too much for a
/// command's single error line.
fn one_line(text: &str, error: &toml::de::Error) -> String {
    let what = error
        .message()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            format!("line {line}, column {column}: {what}")
        }
        None => what,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment lookup over `pairs`, for resolving without touching
    /// the process environment.
    pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_xdg() {
        let env = env_of(&[("HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1")]);
        let c = Config::resolve(&Overrides::default(), &env).unwrap();
        assert_eq!(
            c.db,
            PathBuf::from("/home/u/.local/state/hookmeter/telemetry.db")
        );
        assert_eq!(
            c.socket,
            PathBuf::from("/run/user/1/hookmeter/hookmeter.sock")
        );
        assert_eq!(
            c.spool,
            PathBuf::from("/home/u/.local/state/hookmeter/spool")
        );
        assert_eq!(
            c.config_file,
            PathBuf::from("/home/u/.config/hookmeter/config.toml")
        );
        assert_eq!(
            c.pricing_file,
            PathBuf::from("/home/u/.config/hookmeter/pricing.toml")
        );
        assert_eq!(c.http.as_deref(), Some("127.0.0.1:7717"));
        assert!(c.origins.values().all(|o| *o == Origin::Default));
    }

    #[test]
    fn gemini_roots_are_under_gemini_cli_home_else_home() {
        let roots = |pairs: &[(&str, &str)]| {
            let c = Config::resolve(&Overrides::default(), &env_of(pairs)).unwrap();
            c.transcripts.gemini_roots
        };
        assert_eq!(
            roots(&[("HOME", "/home/u")]),
            [PathBuf::from("/home/u/.gemini/tmp")]
        );
        assert_eq!(
            roots(&[("HOME", "/home/u"), ("GEMINI_CLI_HOME", "/g")]),
            [PathBuf::from("/g/.gemini/tmp")]
        );
        assert!(roots(&[]).is_empty());
    }

    #[test]
    fn codex_roots_are_under_codex_home_else_home() {
        let roots = |pairs: &[(&str, &str)]| {
            let c = Config::resolve(&Overrides::default(), &env_of(pairs)).unwrap();
            c.transcripts.codex_roots
        };
        assert_eq!(
            roots(&[("HOME", "/home/u")]),
            [
                PathBuf::from("/home/u/.codex/sessions"),
                PathBuf::from("/home/u/.codex/archived_sessions")
            ]
        );
        assert_eq!(
            roots(&[("HOME", "/home/u"), ("CODEX_HOME", "/c")]),
            [
                PathBuf::from("/c/sessions"),
                PathBuf::from("/c/archived_sessions")
            ]
        );
    }

    #[test]
    fn opencode_roots_are_under_xdg_data_home_else_home() {
        let roots = |pairs: &[(&str, &str)]| {
            let c = Config::resolve(&Overrides::default(), &env_of(pairs)).unwrap();
            c.transcripts.opencode_roots
        };
        assert_eq!(
            roots(&[("HOME", "/home/u")]),
            [PathBuf::from("/home/u/.local/share/opencode")]
        );
        assert_eq!(
            roots(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "/d")]),
            [PathBuf::from("/d/opencode")]
        );
        // A relative XDG_DATA_HOME is invalid by the XDG rules: ignored.
        assert_eq!(
            roots(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "d")]),
            [PathBuf::from("/home/u/.local/share/opencode")]
        );
    }

    #[test]
    fn transcript_roots_include_every_claude_config_dir() {
        let env = env_of(&[("HOME", "/home/u"), ("CLAUDE_CONFIG_DIR", "/a, /b/c")]);
        let c = Config::resolve(&Overrides::default(), &env).unwrap();
        let roots: Vec<_> = c
            .transcripts
            .roots
            .iter()
            .map(|p| p.to_str().unwrap())
            .collect();
        assert_eq!(
            roots,
            [
                "/home/u/.claude/projects",
                "/home/u/.config/claude/projects",
                "/a/projects",
                "/b/c/projects"
            ]
        );
    }

    #[test]
    fn without_home_the_system_locations_apply() {
        let c = Config::resolve(&Overrides::default(), &env_of(&[])).unwrap();
        assert_eq!(c.config_file, PathBuf::from("/etc/hookmeter/config.toml"));
        assert_eq!(c.db, PathBuf::from("/var/lib/hookmeter/telemetry.db"));
        assert_eq!(c.socket, PathBuf::from("/run/hookmeter/hookmeter.sock"));
        assert_eq!(c.spool, PathBuf::from("/var/lib/hookmeter/spool"));
    }

    #[test]
    fn systemd_directories_are_the_defaults_under_systemd() {
        let env = env_of(&[
            ("HOME", "/var/lib/hookmeter-home"),
            ("XDG_RUNTIME_DIR", "/run/user/1"),
            ("STATE_DIRECTORY", "/var/lib/hookmeter"),
            ("RUNTIME_DIRECTORY", "/run/hookmeter:/run/other"),
            ("CONFIGURATION_DIRECTORY", "/etc/hookmeter"),
        ]);
        let c = Config::resolve(&Overrides::default(), &env).unwrap();
        assert_eq!(c.config_file, PathBuf::from("/etc/hookmeter/config.toml"));
        assert_eq!(c.db, PathBuf::from("/var/lib/hookmeter/telemetry.db"));
        assert_eq!(c.socket, PathBuf::from("/run/hookmeter/hookmeter.sock"));
        assert_eq!(c.spool, PathBuf::from("/var/lib/hookmeter/spool"));
        assert!(c.origins.values().all(|o| *o == Origin::Default));
        // A flag still wins.
        let flags = Overrides {
            db: Some("/elsewhere.db".into()),
            ..Overrides::default()
        };
        assert_eq!(
            Config::resolve(&flags, &env).unwrap().db,
            PathBuf::from("/elsewhere.db")
        );
    }

    #[test]
    fn socket_falls_back_to_state_dir_without_runtime_dir() {
        let env = env_of(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/s")]);
        let c = Config::resolve(&Overrides::default(), &env).unwrap();
        assert_eq!(c.socket, PathBuf::from("/s/hookmeter/hookmeter.sock"));
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            "db = \"/file.db\"\nspool = \"/file-spool\"\nsocket = \"/file.sock\"\nhttp = \"off\"\n",
        )
        .unwrap();
        let cfg_str = cfg.to_str().unwrap().to_string();
        let env = env_of(&[
            ("HOME", "/home/u"),
            ("HOOKMETER_CONFIG", &cfg_str),
            ("TELEMETRY_DB_PATH", "/env.db"),
            ("HOOKMETER_SPOOL", "/env-spool"),
        ]);
        let flags = Overrides {
            db: Some("/flag.db".into()),
            ..Default::default()
        };
        let c = Config::resolve(&flags, &env).unwrap();
        assert_eq!(c.db, PathBuf::from("/flag.db"));
        assert_eq!(c.spool, PathBuf::from("/env-spool"));
        assert_eq!(c.socket, PathBuf::from("/file.sock"));
        assert_eq!(c.http, None);
        assert_eq!(c.pricing_file, dir.path().join("pricing.toml"));

        let file = Origin::File(cfg.clone());
        assert_eq!(c.origins["db"], Origin::Flag);
        assert_eq!(c.origins["spool"], Origin::Env("HOOKMETER_SPOOL"));
        assert_eq!(c.origins["socket"], file);
        assert_eq!(c.origins["http"], file);
        assert_eq!(c.origins["durability"], Origin::Default);
        assert_eq!(c.origins["config_file"], Origin::Env("HOOKMETER_CONFIG"));
        assert_eq!(c.origins["pricing_file"], Origin::Env("HOOKMETER_CONFIG"));
    }

    #[test]
    fn file_only_settings_are_from_the_file_or_default() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            "durability = \"full\"\n[limits]\nmax_connections = 7\n[transcripts]\nroots = []\n",
        )
        .unwrap();
        let flags = Overrides {
            config: Some(cfg.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&flags, &env_of(&[("HOME", "/h")])).unwrap();
        let file = Origin::File(cfg);
        assert_eq!(c.limits.max_connections, 7);
        assert_eq!(c.origins["limits.max_connections"], file);
        assert_eq!(c.origins["durability"], file);
        assert_eq!(c.origins["transcripts.roots"], file);
        assert_eq!(c.origins["limits.idle_timeout_secs"], Origin::Default);
        assert_eq!(c.origins["store_payloads"], Origin::Default);
        assert_eq!(c.origins["config_file"], Origin::Flag);
        assert_eq!(c.origins["db"], Origin::Default);
    }

    #[test]
    fn usage_limits_are_file_settings_and_zero_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let flags = Overrides {
            config: Some(cfg.clone()),
            ..Default::default()
        };
        let env = env_of(&[("HOME", "/h")]);

        std::fs::write(&cfg, "[limits]\nmax_output_tokens = 2000000\n").unwrap();
        let c = Config::resolve(&flags, &env).unwrap();
        assert_eq!(c.limits.usage.max_output_tokens, 2_000_000);
        assert_eq!(c.limits.usage.max_prompt_tokens, 10_000_000);
        assert_eq!(
            c.origins["limits.max_output_tokens"],
            Origin::File(cfg.clone())
        );
        assert_eq!(c.origins["limits.max_prompt_tokens"], Origin::Default);

        // Zero would refuse every usage: a typo, not a setting.
        std::fs::write(&cfg, "[limits]\nmax_prompt_tokens = 0\n").unwrap();
        let err = Config::resolve(&flags, &env).unwrap_err().to_string();
        assert!(err.contains("limits.max_prompt_tokens"), "{err}");
    }

    #[test]
    fn origins_read_as_the_user_would_say_them() {
        assert_eq!(Origin::Flag.to_string(), "flag");
        assert_eq!(
            Origin::Env("TELEMETRY_DB_PATH").to_string(),
            "env TELEMETRY_DB_PATH"
        );
        assert_eq!(
            Origin::File("/etc/hookmeter/config.toml".into()).to_string(),
            "file /etc/hookmeter/config.toml"
        );
        assert_eq!(Origin::Default.to_string(), "default");
    }

    #[test]
    fn config_errors_name_the_file_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "dbb = 1\n").unwrap();
        let flags = Overrides {
            config: Some(cfg.clone()),
            ..Default::default()
        };
        let err = Config::resolve(&flags, &env_of(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(cfg.to_str().unwrap()) && err.contains("dbb"),
            "{err}"
        );
        assert!(err.contains("line 1, column 1"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");

        let missing = Overrides {
            config: Some(dir.path().join("nope.toml")),
            ..Default::default()
        };
        assert!(Config::resolve(&missing, &env_of(&[("HOME", "/h")])).is_err());
    }

    #[test]
    fn the_watch_is_on_by_default_and_takes_false_or_scan() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let cfg_str = cfg.to_str().unwrap().to_string();
        let resolve = |text: &str| {
            std::fs::write(&cfg, text).unwrap();
            let env = env_of(&[("HOME", "/h"), ("HOOKMETER_CONFIG", cfg_str.as_str())]);
            Config::resolve(&Overrides::default(), &env)
        };
        let watch = |text: &str| resolve(text).map(|c| c.transcripts.watch);
        assert_eq!(watch("").unwrap(), Watch::Notify);
        assert_eq!(
            watch("[transcripts]\nwatch = true\n").unwrap(),
            Watch::Notify
        );
        assert_eq!(watch("[transcripts]\nwatch = false\n").unwrap(), Watch::Off);
        assert_eq!(
            watch("[transcripts]\nwatch = \"scan\"\n").unwrap(),
            Watch::Scan
        );
        let err = watch("[transcripts]\nwatch = \"poll\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("transcripts.watch") && err.contains("\"scan\""),
            "{err}"
        );
        let c = resolve("[transcripts]\nwatch = false\n").unwrap();
        assert_eq!(c.origins["transcripts.watch"], Origin::File(cfg.clone()));
    }

    #[test]
    fn budgets_and_alerts_resolve_or_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let cfg_str = cfg.to_str().unwrap().to_string();
        let resolve = |text: &str| {
            std::fs::write(&cfg, text).unwrap();
            let env = env_of(&[("HOME", "/h"), ("HOOKMETER_CONFIG", cfg_str.as_str())]);
            Config::resolve(&Overrides::default(), &env)
        };
        let c = resolve("").unwrap();
        assert_eq!(c.alerts.thresholds_pct, [80.0, 100.0]);
        assert!(c.budgets.is_empty() && c.alerts.webhook.is_none());

        let c = resolve(
            "[alerts]\nthresholds = [100, 50, 50]\ntz = \"Asia/Tokyo\"\n\
             [alerts.webhook]\nurl = \"https://hooks.example/T/secret\"\n\n\
             [[budgets]]\ndaily = 10\nmonthly = 100\n\n\
             [[budgets]]\nscope = \"task:T-1\"\ntotal = 5\nenforce = true\n",
        )
        .unwrap();
        assert_eq!(c.alerts.thresholds_pct, [50.0, 100.0]);
        assert_eq!(c.alerts.tz_name.as_deref(), Some("Asia/Tokyo"));
        let shown: Vec<(String, &str, f64, bool)> = c
            .budgets
            .iter()
            .map(|b| (b.scope.key(), b.period.name(), b.limit_usd, b.enforce))
            .collect();
        assert_eq!(
            shown,
            [
                (String::new(), "daily", 10.0, false),
                (String::new(), "monthly", 100.0, false),
                ("task:T-1".into(), "total", 5.0, true)
            ]
        );
        let described = c.describe_with(&show::StoredBudgets::NoDatabase);
        assert!(!described.contains("secret"), "{described}");
        assert!(!format!("{c:?}").contains("secret"));

        for (text, says) in [
            ("[alerts]\nthresholds = [0]\n", "alerts.thresholds"),
            ("[alerts]\ntz = \"Mars/Base\"\n", "alerts.tz"),
            ("[alerts]\ncommand = []\n", "alerts.command"),
            (
                "[alerts.webhook]\nurl = \"ftp://x\"\n",
                "alerts.webhook.url",
            ),
            (
                "[[budgets]]\nscope = \"agent:a\"\n",
                "budgets entry 1: give at least one",
            ),
            ("[[budgets]]\ndaily = -1\n", "budgets entry 1: --daily"),
            ("[[budgets]]\ntotal = 3\n", "a total budget is for a task"),
            (
                "[[budgets]]\nscope = \"team:x\"\ndaily = 1\n",
                "budgets entry 1: scope",
            ),
            (
                "[[budgets]]\ndaily = 1\n[[budgets]]\ndaily = 2\n",
                "budgets entry 2: a daily budget",
            ),
            ("[[budgets]]\nweekly = 1\nhourly = 2\n", "hourly"),
        ] {
            let err = resolve(text).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains(&cfg_str),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn http_is_an_address_or_a_table_with_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let cfg_str = cfg.to_str().unwrap().to_string();
        let resolve = |text: &str, extra: &[(&str, &str)]| {
            std::fs::write(&cfg, text).unwrap();
            let mut pairs = vec![("HOME", "/h"), ("HOOKMETER_CONFIG", cfg_str.as_str())];
            pairs.extend_from_slice(extra);
            Config::resolve(&Overrides::default(), &env_of(&pairs))
        };
        let c = resolve("http = \"127.0.0.1:9000\"\n", &[]).unwrap();
        assert_eq!(c.http.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(c.http_token, None);

        let c = resolve(
            "[http]\nlisten = \"0.0.0.0:9000\"\ntoken = \"s3cret-in-file\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.http.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(
            c.http_token.as_ref().map(HttpToken::as_str),
            Some("s3cret-in-file")
        );
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the token stays out of Debug"
        );

        let c = resolve(
            "[http]\ntoken = \"file\"\n",
            &[("HOOKMETER_HTTP_TOKEN", "env"), ("HOOKMETER_HTTP", "off")],
        )
        .unwrap();
        assert_eq!(c.http, None);
        assert_eq!(c.http_token.as_ref().map(HttpToken::as_str), Some("env"));

        let err = resolve("[http]\nlisten = \"a\"\ntokn = \"x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("http.tokn") && err.contains(&cfg_str), "{err}");
        let err = resolve("http = 7717\n", &[]).unwrap_err().to_string();
        assert!(err.contains("[http] table"), "{err}");
    }

    #[test]
    fn allowed_hosts_are_canonical_names_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let cfg_str = cfg.to_str().unwrap().to_string();
        let resolve = |text: &str| {
            std::fs::write(&cfg, text).unwrap();
            Config::resolve(
                &Overrides::default(),
                &env_of(&[("HOME", "/h"), ("HOOKMETER_CONFIG", cfg_str.as_str())]),
            )
        };
        let c = resolve("").unwrap();
        assert!(c.http_allowed_hosts.is_empty());
        assert_eq!(c.origins["http.allowed_hosts"], Origin::Default);
        let c =
            resolve("[http]\nallowed_hosts = [\"Build-Host.LAN.\", \"[FD00::1]\", \"10.0.0.5\"]\n")
                .unwrap();
        assert_eq!(
            c.http_allowed_hosts,
            ["build-host.lan", "fd00::1", "10.0.0.5"]
        );
        assert_eq!(c.origins["http.allowed_hosts"], Origin::File(cfg.clone()));
        for (text, says) in [
            ("allowed_hosts = \"one\"", "must be an array"),
            ("allowed_hosts = [7717]", "not a host name in quotes"),
            (
                "allowed_hosts = [\"host:7717\"]",
                "without scheme, port or path",
            ),
            (
                "allowed_hosts = [\"http://host\"]",
                "without scheme, port or path",
            ),
            ("allowed_hosts = [\"\"]", "not a host name"),
        ] {
            let err = resolve(&format!("[http]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(says) && err.contains(&cfg_str),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn canonical_hosts_are_lowercase_bare_names_and_addresses() {
        assert_eq!(canonical_host("LocalHost.").as_deref(), Some("localhost"));
        assert_eq!(canonical_host("[::1]").as_deref(), Some("::1"));
        assert_eq!(canonical_host("::1").as_deref(), Some("::1"));
        assert_eq!(canonical_host("127.0.0.1").as_deref(), Some("127.0.0.1"));
        for bad in [
            "", ".", "a..b", "a b", "a/b", "a:1", "[::1]:80", "[host]", "a@b",
        ] {
            assert_eq!(canonical_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn overlong_socket_path_is_refused() {
        let long = format!("/{}", "s".repeat(200));
        let flags = Overrides {
            socket: Some(long.into()),
            ..Default::default()
        };
        let err = Config::resolve(&flags, &env_of(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most"), "{err}");
    }
}
