//! Resolved configuration: flag > environment > config file > default
//! (SPEC §3). Raw inputs are resolved once, here; everything downstream gets a
//! finished [`Config`] and never looks at the environment again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::store::redact::PayloadPolicy;

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
/// locations of SPEC §3 apply instead.
fn xdg_dir(env: &dyn Fn(&str) -> Option<String>, var: &str, fallback: &str) -> Option<PathBuf> {
    match env(var).filter(|v| v.starts_with('/')) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(|home| PathBuf::from(home).join(fallback)),
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
    /// `http = "ADDR"`, or a `[http]` table with `listen` and `token`.
    http: Option<toml::Value>,
    store_payloads: Option<PayloadPolicy>,
    durability: Option<Durability>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    transcripts: FileTranscripts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTranscripts {
    roots: Option<Vec<PathBuf>>,
    idle_timeout_secs: Option<u64>,
    stop_linger_secs: Option<u64>,
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
}

/// How hard a commit tries to reach the disk before its ack is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// WAL + synchronous=NORMAL: an ack survives a daemon crash, not power loss.
    #[default]
    Normal,
    /// synchronous=FULL: an ack survives power loss.
    Full,
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
        }
    }
}

/// Where Claude Code transcripts may be read from, and how long to follow them.
#[derive(Debug, Clone)]
pub struct Transcripts {
    /// Only files under these directories are read (after canonicalization).
    pub roots: Vec<PathBuf>,
    /// A watched transcript with no activity this long gets a last read and is dropped.
    pub idle_timeout: Duration,
    /// After Stop/SubagentStop/SessionEnd, keep watching this long: the last
    /// message of a turn can reach the file just after the hook fires.
    pub stop_linger: Duration,
}

/// Everything the daemon and its clients need, fully resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file consulted (it may not exist).
    pub config_file: PathBuf,
    /// The user's price overrides: `pricing.toml` beside the config file.
    pub pricing_file: PathBuf,
    pub db: PathBuf,
    pub socket: PathBuf,
    pub spool: PathBuf,
    /// HTTP listen address, `None` when `off`.
    pub http: Option<String>,
    /// Bearer token the HTTP API requires (`[http] token`, `HOOKMETER_HTTP_TOKEN`).
    pub http_token: Option<HttpToken>,
    pub store_payloads: PayloadPolicy,
    pub durability: Durability,
    pub limits: Limits,
    pub transcripts: Transcripts,
}

impl Config {
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
        let state = || match xdg_dir(env, "XDG_STATE_HOME", ".local/state") {
            Some(dir) => dir.join("hookmeter"),
            None => PathBuf::from("/var/lib/hookmeter"),
        };
        let config_file = match flags
            .config
            .clone()
            .or_else(|| path_env(env, "HOOKMETER_CONFIG"))
        {
            Some(path) => path,
            None => match xdg_dir(env, "XDG_CONFIG_HOME", ".config") {
                Some(dir) => dir.join("hookmeter/config.toml"),
                None => PathBuf::from("/etc/hookmeter/config.toml"),
            },
        };
        let file = match read_file {
            true => read_file_config(&config_file, flags.config.is_some())?,
            false => FileConfig::default(),
        };

        let db = match first(&flags.db, path_env(env, "TELEMETRY_DB_PATH"), &file.db) {
            Some(path) => path,
            None => state().join("telemetry.db"),
        };
        let socket = match first(
            &flags.socket,
            path_env(env, "HOOKMETER_SOCKET"),
            &file.socket,
        ) {
            Some(path) => path,
            None => match env("XDG_RUNTIME_DIR").filter(|d| d.starts_with('/')) {
                Some(runtime) => PathBuf::from(runtime).join("hookmeter/hookmeter.sock"),
                None if xdg_dir(env, "XDG_STATE_HOME", ".local/state").is_none() => {
                    PathBuf::from("/run/hookmeter/hookmeter.sock")
                }
                None => state().join("hookmeter.sock"),
            },
        };
        let spool = match first(&flags.spool, path_env(env, "HOOKMETER_SPOOL"), &file.spool) {
            Some(path) => path,
            None => state().join("spool"),
        };
        let (file_http, file_token) = file_http(file.http, &config_file)?;
        let http = flags
            .http
            .clone()
            .or_else(|| env("HOOKMETER_HTTP").filter(|v| !v.is_empty()))
            .or(file_http)
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
            max_line_bytes: positive("limits.max_line_bytes", l.max_line_bytes)?
                .unwrap_or(defaults.max_line_bytes),
            idle_timeout: l
                .idle_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.idle_timeout),
            max_connections: positive("limits.max_connections", l.max_connections)?
                .unwrap_or(defaults.max_connections),
            spool_max_file_bytes: l
                .spool_max_file_bytes
                .unwrap_or(defaults.spool_max_file_bytes),
            spool_rescan: match l.spool_rescan_secs {
                Some(0) => {
                    return Err(ConfigError::Invalid(
                        "limits.spool_rescan_secs must be at least 1".into(),
                    ))
                }
                Some(secs) => Duration::from_secs(secs),
                None => defaults.spool_rescan,
            },
            shutdown_grace: l
                .shutdown_grace_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.shutdown_grace),
            payload_bytes: positive("limits.payload_bytes", l.payload_bytes)?
                .unwrap_or(defaults.payload_bytes),
        };

        let transcripts = Transcripts {
            roots: match file.transcripts.roots {
                Some(roots) => roots,
                None => default_transcript_roots(env),
            },
            idle_timeout: Duration::from_secs(file.transcripts.idle_timeout_secs.unwrap_or(300)),
            stop_linger: Duration::from_secs(file.transcripts.stop_linger_secs.unwrap_or(5)),
        };
        let pricing_file = config_file
            .parent()
            .map(|dir| dir.join("pricing.toml"))
            .unwrap_or_else(|| PathBuf::from("pricing.toml"));
        Ok(Config {
            config_file,
            pricing_file,
            db,
            socket,
            spool,
            http,
            http_token,
            store_payloads: file.store_payloads.unwrap_or_default(),
            durability: file.durability.unwrap_or_default(),
            limits,
            transcripts,
        })
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

/// The config file's `http`: a plain address string, or a `[http]` table
/// with `listen` and `token`. Returns (listen, token).
fn file_http(
    value: Option<toml::Value>,
    path: &Path,
) -> Result<(Option<String>, Option<String>), ConfigError> {
    let invalid = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    match value {
        None => Ok((None, None)),
        Some(toml::Value::String(listen)) => Ok((Some(listen), None)),
        Some(toml::Value::Table(table)) => {
            let mut listen = None;
            let mut token = None;
            for (key, value) in table {
                let slot = match key.as_str() {
                    "listen" => &mut listen,
                    "token" => &mut token,
                    other => {
                        return Err(invalid(format!(
                            "unknown key http.{other}: expected listen or token"
                        )))
                    }
                };
                match value {
                    toml::Value::String(text) => *slot = Some(text).filter(|t| !t.is_empty()),
                    _ => return Err(invalid(format!("http.{key} must be a string"))),
                }
            }
            Ok((listen, token))
        }
        Some(_) => Err(invalid(
            "http must be an address string (\"127.0.0.1:7717\", \"off\") or an [http] table"
                .to_string(),
        )),
    }
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

fn path_env(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<PathBuf> {
    env(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn first(flag: &Option<PathBuf>, env: Option<PathBuf>, file: &Option<PathBuf>) -> Option<PathBuf> {
    flag.clone().or(env).or_else(|| file.clone())
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
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
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

        let missing = Overrides {
            config: Some(dir.path().join("nope.toml")),
            ..Default::default()
        };
        assert!(Config::resolve(&missing, &env_of(&[("HOME", "/h")])).is_err());
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

        let c = resolve("[http]\nlisten = \"0.0.0.0:9000\"\ntoken = \"file\"\n", &[]).unwrap();
        assert_eq!(c.http.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(c.http_token.as_ref().map(HttpToken::as_str), Some("file"));
        assert!(
            !format!("{c:?}").contains("file\""),
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
