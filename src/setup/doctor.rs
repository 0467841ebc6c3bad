//! `hookmeter doctor`: is this machine set up, and if not, what to do.
//!
//! [`gather`] looks (and only looks: it never creates, migrates or repairs
//! anything) at the config file, the database, the socket, the spool,
//! Claude Code's settings, the systemd unit files installed, the
//! machine's login accounts and the agents' OpenTelemetry settings (with a
//! running daemon's `/metrics`: [`super::telemetry`]) and Claude Code's
//! transcript retention ([`super::retention`]), into [`Facts`]. [`assess`], a pure function of
//! those facts, turns them into [`Finding`]s: one per check, each `ok`,
//! `warn` or `fail`, with the fix when it is not ok. [`render_text`] and
//! [`render_json`] print them. [`run`] is the command: it resolves the
//! configuration the way doctor needs (a config file that does not load is
//! a finding, not an error). What it asks of the database goes through
//! [`crate::query::health`]; no SQL here.
//!
//! For users: docs/cli.md#hookmeter-doctor.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use super::EVENTS;
use crate::config::{Config, Durability, Origin};
use crate::query::{self, health};
use crate::store::SCHEMA_VERSION;

/// Where a per-user unit file can be, under the user's config directory
/// (`$XDG_CONFIG_HOME`, else `~/.config`) or the machine's.
const USER_UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
];
/// Where the system unit file can be.
const SYSTEM_UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
/// The unit's file name in any of those directories.
const UNIT_FILE: &str = "hookmeter.service";
/// Prices older than this are worth refreshing (`hookmeter pricing update`).
const PRICES_STALE_AFTER_DAYS: i64 = 60;
/// Spool files older than this, with a daemon up, are not being taken.
const SPOOL_STUCK_AFTER: Duration = Duration::from_secs(60);
/// A WAL file this large means checkpoints are not keeping up.
const WAL_LARGE_BYTES: u64 = 1 << 30;
/// Messages of `PRAGMA integrity_check` asked for; the first one is shown.
const INTEGRITY_MESSAGES: u32 = 10;
/// Where the machine's accounts are listed; [`gather`] takes another path
/// so tests need not depend on the machine they run on.
pub const PASSWD: &str = "/etc/passwd";
/// The lowest uid of an account a person logs in with (`UID_MIN` of
/// login.defs on the usual distributions); below are system accounts.
const FIRST_PERSON_UID: u32 = 1000;
/// `nobody`, above [`FIRST_PERSON_UID`] but no person.
const NOBODY_UID: u32 = 65534;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check's outcome: what was found and, unless ok, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's stable name (`db.integrity`), for scripts reading `--json`.
    pub check: &'static str,
    pub status: Status,
    /// What was found, in one line.
    pub finding: String,
    /// What to do about it; `None` when ok.
    pub fix: Option<String>,
}

fn ok(check: &'static str, finding: String) -> Finding {
    Finding {
        check,
        status: Status::Ok,
        finding,
        fix: None,
    }
}

fn not_ok(check: &'static str, status: Status, finding: String, fix: String) -> Finding {
    Finding {
        check,
        status,
        finding,
        fix: Some(fix),
    }
}

/// Everything doctor looked at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub config: ConfigFacts,
    /// The durability in force and where it was set.
    pub durability: (Durability, Origin),
    pub db: DbFacts,
    pub socket: SocketFacts,
    pub spool: SpoolFacts,
    pub hooks: HooksFacts,
    /// Codex's hooks (`$CODEX_HOME/hooks.json` and their trust).
    pub codex: super::codex::DoctorFacts,
    /// The Gemini CLI's hooks (`$GEMINI_CLI_HOME/.gemini/settings.json`).
    pub gemini: super::gemini::DoctorFacts,
    /// How the daemon is meant to run here: the fixes say how to start it.
    pub unit: Unit,
    pub http: HttpFacts,
    pub prices: PriceFacts,
    pub watch: WatchFacts,
    /// OpenCode's databases, and how far the daemon has read them.
    pub opencode: OpenCodeFacts,
    /// The agents' own OpenTelemetry settings and the daemon's receivers.
    pub otel: super::telemetry::Facts,
    /// Claude Code's `cleanupPeriodDays` and the transcripts it will delete.
    pub retention: super::retention::Facts,
    /// The push to a central PostgreSQL.
    pub push: super::push::Facts,
}

/// OpenCode's databases under `transcripts.opencode_roots`
/// (docs/ingest.md#opencode).
#[derive(Debug, Clone)]
pub struct OpenCodeFacts {
    /// The data directories looked in.
    pub roots: Vec<PathBuf>,
    /// Whether the daemon follows them (`transcripts.watch` not off).
    pub followed: bool,
    pub databases: Vec<OpenCodeDatabase>,
}

/// One OpenCode database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCodeDatabase {
    pub path: PathBuf,
    /// Why it cannot be read, else what is in it and what was read of it.
    pub state: Result<OpenCodeRead, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCodeRead {
    /// The last `message` rowid OpenCode wrote (0: none yet), and how many
    /// seconds ago it last changed.
    pub newest_row: i64,
    pub newest_age_secs: Option<i64>,
    /// The rowid the daemon stored as read up to, and when (`None`: never).
    pub read_to: Option<(i64, String)>,
}

/// What the daemon's watch of the log roots would see
/// (docs/ingest.md#capture-without-hooks).
#[derive(Debug, Clone)]
pub struct WatchFacts {
    pub mode: crate::config::Watch,
    pub roots: Vec<RootFacts>,
}

/// One log root and what is under it.
#[derive(Debug, Clone)]
pub struct RootFacts {
    pub dir: PathBuf,
    /// The kind of log watched there (`Claude Code transcripts`).
    pub kind: &'static str,
    pub state: RootState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootState {
    /// Not there (yet): watched once it appears.
    Missing,
    /// A directory; its log files, their bytes, and the symlinks under it,
    /// which the watch does not follow.
    Present {
        files: usize,
        bytes: u64,
        symlinks: Vec<PathBuf>,
    },
    /// There but not a directory that can be read.
    Unusable(String),
}

/// How old the prices in force are.
#[derive(Debug, Clone)]
pub struct PriceFacts {
    /// The date of the newest prices in force: the update layer's, else
    /// the built-in table's; `Err` when the prices do not load.
    pub as_of: Result<String, String>,
    /// Where that date comes from (`the built-in table`, the layer's path).
    pub from: String,
    /// Days from `as_of` (or the last check that found them current) to today.
    pub age_days: Option<i64>,
    /// Whether `[pricing] auto_update` refreshes them.
    pub auto_update: bool,
}

/// Who else could reach the HTTP API: with no token, any local account can.
#[derive(Debug, Clone)]
pub struct HttpFacts {
    /// The listen address; `None` when HTTP is `off`.
    pub listen: Option<String>,
    /// Whether `[http] token` (or `HOOKMETER_HTTP_TOKEN`) is set.
    pub token: bool,
    /// The uid doctor runs as: the daemon's user, usually.
    pub me: u32,
    /// The login accounts of the machine, or why they could not be read.
    pub accounts: Result<Vec<Account>, String>,
}

/// An account a person can log in with: a uid from [`FIRST_PERSON_UID`]
/// and a shell that is not `nologin` or `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
}

/// The hookmeter unit file installed, if any: `systemctl start` only helps
/// where there is a unit to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A per-user unit at this path (preferred: agents run as the user).
    User(PathBuf),
    /// Only the system unit, at this path.
    System(PathBuf),
    /// Neither: the daemon runs in the foreground, or not at all.
    None,
}

impl Unit {
    /// How to start the daemon, for every finding that needs one.
    fn start(&self) -> String {
        match self {
            Unit::User(_) => {
                "start the daemon: `systemctl --user start hookmeter` or `hookmeter serve`".into()
            }
            Unit::System(file) => format!(
                "start the daemon: `sudo systemctl start hookmeter` (the system unit {}) or `hookmeter serve`",
                file.display()
            ),
            Unit::None => "start the daemon: `hookmeter serve` (in the foreground), or as a \
                 systemd user unit, from hookmeter's source tree: \
                 `cp systemd/user/hookmeter.service ~/.config/systemd/user/ && \
                 systemctl --user daemon-reload && systemctl --user enable --now hookmeter` \
                 (no hookmeter unit is installed)"
                .into(),
        }
    }

    /// How to restart it.
    fn restart(&self) -> &'static str {
        match self {
            Unit::User(_) => {
                "restart the daemon: `systemctl --user restart hookmeter` or `hookmeter serve`"
            }
            Unit::System(_) => {
                "restart the daemon: `sudo systemctl restart hookmeter` or `hookmeter serve`"
            }
            Unit::None => "restart the daemon (`hookmeter serve`)",
        }
    }

    /// Where its log is.
    fn log(&self) -> &'static str {
        match self {
            Unit::User(_) => "read the daemon's log (`journalctl --user -u hookmeter`)",
            Unit::System(_) => "read the daemon's log (`journalctl -u hookmeter`)",
            Unit::None => "read the daemon's log (the stderr of `hookmeter serve`)",
        }
    }
}

/// The config file in force.
#[derive(Debug, Clone)]
pub struct ConfigFacts {
    pub file: PathBuf,
    /// What chose the file: a flag, `HOOKMETER_CONFIG` or the default.
    pub origin: Origin,
    /// A missing file is fine: defaults apply.
    pub exists: bool,
    /// Why it does not resolve; the other checks then use flags,
    /// environment and defaults.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DbFacts {
    pub path: PathBuf,
    pub state: DbState,
}

#[derive(Debug, Clone)]
pub enum DbState {
    /// No file there yet.
    Missing,
    /// Something is there that cannot be looked at, or is not a file.
    Unusable(String),
    Present(DbReport),
}

/// What a database file that is there looks like.
#[derive(Debug, Clone)]
pub struct DbReport {
    pub bytes: u64,
    /// Why this user could not write it (file, directory, `-wal`, `-shm`).
    pub not_writable: Option<String>,
    /// The rows of `PRAGMA integrity_check` (`["ok"]` when sound), or why
    /// it could not run.
    pub integrity: Result<Vec<String>, String>,
    /// The journal mode the file's header records, or why it could not be read.
    pub journal: Result<Journal, String>,
    pub user_version: Result<i64, String>,
    /// Size of the `-wal` file, when there is one.
    pub wal_bytes: Option<u64>,
    /// The models priced at the fallback rates in the last
    /// [`FALLBACK_WINDOW`], or why they could not be read; `None` when the
    /// schema is not this hookmeter's (its index may be missing).
    pub fallback_priced: Option<Result<query::FallbackPriced, String>>,
    /// The records of the same window whose billing modifier had no rate,
    /// or why they could not be read; `None` as for `fallback_priced`.
    pub unpriced_modifiers: Option<Result<Vec<query::UnpricedModifier>, String>>,
    /// The budget alerts not delivered (still tried, given up), or why they
    /// could not be read; `None` as for `fallback_priced`.
    pub undelivered_alerts: Option<Result<Box<query::budgets::UndeliveredAlerts>, String>>,
}

/// How far back doctor looks for fallback-priced records: recent enough
/// that a model priced since no longer shows, long enough to catch a model
/// used once a week.
pub const FALLBACK_WINDOW: &str = "7d";

/// The journal mode a database file's header records (bytes 18 and 19).
/// Read from the header, not asked of SQLite: a connection that must not
/// create `-wal` and `-shm` files (see [`open_quietly`]) reports WAL as `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journal {
    Wal,
    /// A rollback journal (`delete`, `truncate`, `persist`, ...).
    Rollback,
    /// A zero-length file: SQLite's empty database.
    Empty,
    /// The file does not start with SQLite's header.
    NotSqlite,
}

#[derive(Debug, Clone)]
pub struct SocketFacts {
    pub path: PathBuf,
    pub state: SocketState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketState {
    /// A connection was accepted.
    Listening,
    Missing,
    /// Something other than a socket is at the path.
    NotASocket,
    /// A socket file nobody listens on (connection refused).
    Stale,
    /// Any other failure to connect (permissions, ...).
    Unreachable(String),
}

#[derive(Debug, Clone)]
pub struct SpoolFacts {
    pub dir: PathBuf,
    /// No directory yet is fine: the daemon and `send` create it when needed.
    pub exists: bool,
    /// How long each waiting file has waited (by its modification time).
    pub waiting: Vec<Duration>,
    /// Files in `rejected/`, their `.reason` files not counted.
    pub rejected: usize,
    /// Why the directory (or `rejected/`) could not be read.
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HooksFacts {
    /// The user's settings, then the current directory's project settings.
    pub files: Vec<SettingsFacts>,
    /// Each program hookmeter's hooks run, and where it was found on PATH
    /// (`None`: not found).
    pub programs: Vec<(String, Option<PathBuf>)>,
}

#[derive(Debug, Clone)]
pub struct SettingsFacts {
    pub path: PathBuf,
    pub state: SettingsState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsState {
    Missing,
    /// Cannot be read or is not valid JSON (or no path could be worked out).
    Unreadable(String),
    /// The events (of [`EVENTS`]) that have a hookmeter hook in this file.
    Read {
        events: Vec<&'static str>,
    },
}

/// Looks at everything doctor checks; reads only. `config_error` is why
/// [`Config::resolve`] failed, in which case `config` comes from
/// [`Config::resolve_without_file`]. `cwd` is the project whose settings
/// are read, `passwd` the account list ([`PASSWD`]).
pub fn gather(
    config: &Config,
    config_error: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    passwd: &Path,
) -> Facts {
    let origin = |name: &str| config.origins.get(name).cloned().unwrap_or(Origin::Default);
    let socket = look_at_socket(&config.socket);
    let daemon_up = socket == SocketState::Listening;
    Facts {
        config: ConfigFacts {
            file: config.config_file.clone(),
            origin: origin("config_file"),
            exists: config.config_file.is_file(),
            error: config_error,
        },
        durability: (config.durability, origin("durability")),
        db: DbFacts {
            path: config.db.clone(),
            state: look_at_db(&config.db),
        },
        socket: SocketFacts {
            path: config.socket.clone(),
            state: socket,
        },
        spool: look_at_spool(&config.spool),
        hooks: look_at_hooks(env, cwd),
        codex: super::codex::look(env),
        gemini: super::gemini::look(env),
        unit: look_at_units(env),
        http: look_at_http(config, passwd),
        prices: look_at_prices(config),
        watch: look_at_watch(config),
        opencode: look_at_opencode(config),
        otel: super::telemetry::look(config, env, daemon_up),
        retention: super::retention::look(config, env, cwd, daemon_up),
        push: super::push::look(config, env),
    }
}

/// Finds OpenCode's databases as the watch does and reads, read-only, the
/// newest row of each and where the daemon's cursor stands.
pub fn look_at_opencode(config: &Config) -> OpenCodeFacts {
    use crate::ingest::watch::{walk, LogKind};
    let roots = config.transcripts.opencode_roots.clone();
    let mut databases = Vec::new();
    for root in &roots {
        let mut found: Vec<PathBuf> = walk(root, LogKind::OpenCodeDatabase)
            .files
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| crate::ingest::opencode::is_database(path))
            .collect();
        found.sort();
        for path in found {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let state = read_opencode(&path, &config.db);
            databases.push(OpenCodeDatabase { path, state });
        }
    }
    OpenCodeFacts {
        roots,
        followed: config.transcripts.watch != crate::config::Watch::Off,
        databases,
    }
}

fn read_opencode(path: &Path, db: &Path) -> Result<OpenCodeRead, String> {
    use crate::query::opencode_db;
    let conn = opencode_db::open(path).map_err(|e| e.to_string())?;
    let newest = opencode_db::newest_message(&conn).map_err(|e| e.to_string())?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let read_to = open_quietly(db).ok().and_then(|conn| {
        query::transcripts::offset_and_time(&conn, &path.to_string_lossy())
            .ok()
            .flatten()
            .map(|(offset, at)| (offset.offset as i64, at))
    });
    Ok(OpenCodeRead {
        newest_row: newest.map_or(0, |(rowid, _)| rowid),
        newest_age_secs: newest.map(|(_, at)| (now_ms - at).max(0) / 1000),
        read_to,
    })
}

/// Walks the log roots as the daemon's watch does.
pub fn look_at_watch(config: &Config) -> WatchFacts {
    use crate::ingest::watch;
    let roots = watch::log_roots(&config.transcripts)
        .into_iter()
        .map(|root| {
            let state = match std::fs::metadata(&root.dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => RootState::Missing,
                Err(e) => RootState::Unusable(e.to_string()),
                Ok(meta) if !meta.is_dir() => RootState::Unusable("not a directory".into()),
                Ok(_) => match std::fs::read_dir(&root.dir) {
                    Err(e) => RootState::Unusable(e.to_string()),
                    Ok(_) => {
                        let walked = watch::walk(&root.dir, root.kind);
                        RootState::Present {
                            files: walked.files.len(),
                            bytes: walked.files.iter().map(|(_, (len, _))| len).sum(),
                            symlinks: walked.symlinks,
                        }
                    }
                },
            };
            RootFacts {
                dir: root.dir,
                kind: root.kind.name(),
                state,
            }
        })
        .collect();
    WatchFacts {
        mode: config.transcripts.watch,
        roots,
    }
}

/// The date of the prices in force, and how many days old they are: a
/// 304 from the update URL since counts as found current.
pub fn look_at_prices(config: &Config) -> PriceFacts {
    let settings = &config.price_updates;
    let auto_update = settings.auto != crate::config::AutoUpdate::Off;
    let table = match crate::pricing::load_layered(
        Some(&settings.layer_file),
        Some(&config.pricing_file),
        std::iter::empty(),
    ) {
        Ok(table) => table,
        Err(e) => {
            return PriceFacts {
                as_of: Err(e.to_string()),
                from: String::new(),
                age_days: None,
                auto_update,
            }
        }
    };
    let from = match table.update_file() {
        Some(path) => path.to_string(),
        None => "the built-in table".to_string(),
    };
    let as_of = table.prices_as_of().to_string();
    let today = jiff::Zoned::now().date();
    let dated = as_of.parse::<jiff::civil::Date>().ok();
    let checked = table
        .update_file()
        .and_then(|_| {
            crate::user_files::price_update::UpdateState::read(&settings.state_file).checked_at()
        })
        .map(|at| at.to_zoned(jiff::tz::TimeZone::UTC).date());
    let newest = dated.max(checked);
    let age_days = newest
        .and_then(|date| date.until(today).ok())
        .map(|span| span.get_days() as i64);
    PriceFacts {
        as_of: Ok(as_of),
        from,
        age_days,
        auto_update,
    }
}

/// The HTTP settings in force and the machine's login accounts.
pub fn look_at_http(config: &Config, passwd: &Path) -> HttpFacts {
    HttpFacts {
        listen: config.http.clone(),
        token: config.http_token.is_some(),
        // SAFETY: getuid(2) cannot fail and touches no memory of ours.
        me: unsafe { libc::getuid() },
        accounts: std::fs::read_to_string(passwd)
            .map(|text| login_accounts(&text))
            .map_err(|e| format!("cannot read {}: {e}", passwd.display())),
    }
}

/// The accounts of a passwd(5) text a person can log in with. Lines that
/// are not `name:x:uid:gid:gecos:home:shell` are skipped.
pub fn login_accounts(passwd: &str) -> Vec<Account> {
    passwd
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let [name, _, uid, _, _, _, shell] = fields[..] else {
                return None;
            };
            let uid: u32 = uid.parse().ok()?;
            let program = shell.trim().rsplit('/').next().unwrap_or_default();
            let person = uid >= FIRST_PERSON_UID && uid != NOBODY_UID;
            let logs_in = !matches!(program, "" | "nologin" | "false");
            (person && logs_in).then(|| Account {
                name: name.to_string(),
                uid,
            })
        })
        .collect()
}

/// The hookmeter unit file installed: the user's own first, then the
/// machine's user units, then the system unit.
fn look_at_units(env: &dyn Fn(&str) -> Option<String>) -> Unit {
    let config_home = match env("XDG_CONFIG_HOME").filter(|d| d.starts_with('/')) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(|home| PathBuf::from(home).join(".config")),
    };
    let in_dir = |dir: PathBuf| Some(dir.join(UNIT_FILE)).filter(|file| file.is_file());
    let user = config_home
        .map(|dir| dir.join("systemd/user"))
        .into_iter()
        .chain(USER_UNIT_DIRS.iter().map(PathBuf::from))
        .find_map(in_dir);
    if let Some(file) = user {
        return Unit::User(file);
    }
    match SYSTEM_UNIT_DIRS.iter().map(PathBuf::from).find_map(in_dir) {
        Some(file) => Unit::System(file),
        None => Unit::None,
    }
}

fn look_at_db(path: &Path) -> DbState {
    let meta = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return DbState::Unusable("is not a regular file".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return DbState::Missing,
        Err(e) => return DbState::Unusable(e.to_string()),
    };
    let wal_bytes = std::fs::metadata(with_suffix(path, "-wal"))
        .ok()
        .map(|m| m.len());
    let (integrity, user_version, fallback_priced, unpriced_modifiers, undelivered_alerts) =
        match open_quietly(path) {
            Ok(conn) => {
                let user_version = health::schema_version(&conn).map_err(|e| e.to_string());
                let integrity = health::integrity_problems(&conn, INTEGRITY_MESSAGES)
                    .map_err(|e| e.to_string());
                let current = matches!(user_version, Ok(SCHEMA_VERSION));
                let filter = || -> Result<query::Filter, String> {
                    let range = query::Range::last(FALLBACK_WINDOW, jiff::Timestamp::now())
                        .map_err(|e| e.to_string())?;
                    Ok(query::Filter {
                        range,
                        ..query::Filter::default()
                    })
                };
                let fallback_priced = current
                    .then(|| query::fallback_priced(&conn, &filter()?).map_err(|e| e.to_string()));
                let unpriced_modifiers = current.then(|| {
                    query::unpriced_modifiers(&conn, &filter()?).map_err(|e| e.to_string())
                });
                let undelivered_alerts = current.then(|| {
                    query::budgets::undelivered_alerts(&conn)
                        .map(Box::new)
                        .map_err(|e| e.to_string())
                });
                (
                    integrity,
                    user_version,
                    fallback_priced,
                    unpriced_modifiers,
                    undelivered_alerts,
                )
            }
            Err(e) => (Err(e.to_string()), Err(e.to_string()), None, None, None),
        };
    DbState::Present(DbReport {
        bytes: meta.len(),
        not_writable: why_not_writable(path),
        integrity,
        journal: journal_of(path),
        user_version,
        wal_bytes,
        fallback_priced,
        unpriced_modifiers,
        undelivered_alerts,
    })
}

/// A read-only connection that leaves no trace. When the database has no
/// `-wal` and `-shm` files, nobody has it open in WAL mode, and a plain
/// read-only connection would create them; it is then opened `immutable`
/// instead (no locks, no companion files). Otherwise they exist already and
/// a read-only connection reads the WAL as any reader does.
pub(super) fn open_quietly(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let in_use = ["-wal", "-shm"]
        .iter()
        .any(|suffix| with_suffix(path, suffix).exists());
    let conn = if in_use {
        rusqlite::Connection::open_with_flags(path, flags)?
    } else {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        rusqlite::Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
    };
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// `path` for a `file:` URI: every byte but unreserved ones and `/` percent-encoded.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/._~-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The journal mode recorded in the database header.
fn journal_of(path: &Path) -> Result<Journal, String> {
    use std::io::Read as _;
    let mut header = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|file| file.take(100).read_to_end(&mut header))
        .map_err(|e| e.to_string())?;
    Ok(match header.as_slice() {
        [] => Journal::Empty,
        h if h.len() < 100 || !h.starts_with(b"SQLite format 3\0") => Journal::NotSqlite,
        h if h[18] == 2 && h[19] == 2 => Journal::Wal,
        _ => Journal::Rollback,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Why this user could not write the database, or `None`: the file, its
/// directory (SQLite creates `-wal` and `-shm` there), those two files when
/// present, and SQLite's own read-write open (which never creates the file).
fn why_not_writable(path: &Path) -> Option<String> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut paths = vec![(path.to_path_buf(), "the file"), (dir, "its directory")];
    for suffix in ["-wal", "-shm"] {
        let extra = with_suffix(path, suffix);
        if extra.exists() {
            paths.push((extra, "its companion file"));
        }
    }
    for (path, what) in paths {
        if let Err(e) = access_writable(&path) {
            return Some(format!("{what} {} is not writable: {e}", path.display()));
        }
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match rusqlite::Connection::open_with_flags(path, flags) {
        Ok(conn) => {
            // This connection reads nothing; closing it must not checkpoint either.
            let _ = conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            );
            match conn.is_readonly(rusqlite::MAIN_DB) {
                Ok(false) => None,
                Ok(true) => Some("SQLite can only open it read-only".into()),
                Err(e) => Some(e.to_string()),
            }
        }
        Err(e) => Some(format!("SQLite cannot open it read-write: {e}")),
    }
}

/// access(2) with W_OK: what the kernel would allow this user.
fn access_writable(path: &Path) -> std::io::Result<()> {
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    match unsafe { libc::access(name.as_ptr(), libc::W_OK) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

fn look_at_socket(path: &Path) -> SocketState {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => return SocketState::NotASocket,
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return SocketState::Missing,
        Err(e) => return SocketState::Unreachable(e.to_string()),
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => SocketState::Listening,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => SocketState::Stale,
        Err(e) => SocketState::Unreachable(e.to_string()),
    }
}

fn look_at_spool(dir: &Path) -> SpoolFacts {
    let mut facts = SpoolFacts {
        dir: dir.to_path_buf(),
        exists: dir.is_dir(),
        waiting: Vec::new(),
        rejected: 0,
        unreadable: None,
    };
    if !facts.exists {
        return facts;
    }
    let now = SystemTime::now();
    match crate::ingest::spool::waiting_files(dir) {
        Ok(files) => {
            facts.waiting = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                .map(|modified| now.duration_since(modified).unwrap_or_default())
                .collect();
        }
        Err(e) => facts.unreadable = Some(format!("{}: {e}", dir.display())),
    }
    let rejected = dir.join("rejected");
    match std::fs::read_dir(&rejected) {
        Ok(entries) => {
            facts.rejected = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".reason"))
                .count();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => facts.unreadable = Some(format!("{}: {e}", rejected.display())),
    }
    facts
}

fn look_at_hooks(env: &dyn Fn(&str) -> Option<String>, cwd: &Path) -> HooksFacts {
    let mut paths = vec![
        super::project_settings(cwd),
        super::project_local_settings(cwd),
    ];
    let mut files = Vec::new();
    match super::user_settings(env) {
        Ok(path) => paths.insert(0, path),
        Err(e) => files.push(SettingsFacts {
            path: PathBuf::from("user settings"),
            state: SettingsState::Unreadable(e),
        }),
    }
    // The project may be the home directory: read each file once.
    let mut seen = Vec::new();
    paths.retain(|p| {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    let mut programs: Vec<(String, Option<PathBuf>)> = Vec::new();
    for path in paths {
        let state = read_settings(&path, &mut |command| {
            if let Some((program, _)) = super::program_and_args(command) {
                if !programs.iter().any(|(p, _)| *p == program) {
                    let found = super::find_program(&program, env);
                    programs.push((program, found));
                }
            }
        });
        files.push(SettingsFacts { path, state });
    }
    HooksFacts { files, programs }
}

/// Which events of a settings file have a hookmeter hook; each such hook's
/// command goes to `saw`.
fn read_settings(path: &Path, saw: &mut dyn FnMut(&str)) -> SettingsState {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return SettingsState::Missing,
        Err(e) => return SettingsState::Unreadable(e.to_string()),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return SettingsState::Read { events: Vec::new() };
    }
    let settings: Value = match serde_json::from_slice(&bytes) {
        Ok(settings) => settings,
        Err(e) => return SettingsState::Unreadable(format!("not valid JSON ({e})")),
    };
    let mut events = Vec::new();
    for event in EVENTS {
        let handlers = settings
            .pointer(&format!("/hooks/{event}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|group| group.get("hooks").and_then(Value::as_array))
            .flatten();
        let mut found = false;
        for handler in handlers.filter(|h| super::hooks::is_hookmeter_handler(h)) {
            // An http hook runs no program.
            if let Some(command) = handler.get("command").and_then(Value::as_str) {
                saw(command);
            }
            found = true;
        }
        if found {
            events.push(event);
        }
    }
    SettingsState::Read { events }
}

/// Judges the facts: one finding per check, in a fixed order.
pub fn assess(facts: &Facts) -> Vec<Finding> {
    let mut findings = vec![assess_config(&facts.config)];
    findings.extend(assess_db(&facts.db, &facts.unit));
    findings.push(assess_durability(&facts.durability));
    findings.push(assess_socket(&facts.socket, &facts.unit));
    let daemon_up = facts.socket.state == SocketState::Listening;
    findings.extend(assess_spool(&facts.spool, daemon_up, &facts.unit));
    findings.extend(assess_hooks(&facts.hooks, facts.watch.mode));
    findings.push(match super::codex::assess(&facts.codex) {
        (Status::Ok, finding, _) => ok("codex.hooks", finding),
        (status, finding, fix) => not_ok("codex.hooks", status, finding, fix.unwrap_or_default()),
    });
    findings.push(match super::gemini::assess(&facts.gemini) {
        (Status::Ok, finding, _) => ok("gemini.hooks", finding),
        (status, finding, fix) => not_ok("gemini.hooks", status, finding, fix.unwrap_or_default()),
    });
    findings.push(assess_http(&facts.http));
    findings.push(assess_prices(&facts.prices));
    findings.push(assess_watch(&facts.watch));
    let (status, finding, fix) = super::retention::assess(&facts.retention);
    findings.push(Finding {
        check: "claude.retention",
        status,
        finding,
        fix,
    });
    findings.push(assess_opencode(&facts.opencode));
    let (status, finding, fix) = super::push::assess(&facts.push);
    findings.push(Finding {
        check: "push",
        status,
        finding,
        fix,
    });
    findings.extend(super::telemetry::assess(&facts.otel).into_iter().map(
        |(check, status, finding, fix)| Finding {
            check,
            status,
            finding,
            fix,
        },
    ));
    findings
}

/// A database with rows after the daemon's cursor whose newest row is older
/// than this is not being followed: a step in progress holds the cursor
/// back for as long as it runs, not longer.
const OPENCODE_LAG_SECS: i64 = 120;

/// OpenCode's databases: readable, and read up to their last row.
fn assess_opencode(facts: &OpenCodeFacts) -> Finding {
    if facts.databases.is_empty() {
        let roots: Vec<String> = facts
            .roots
            .iter()
            .map(|r| r.display().to_string())
            .collect();
        return ok(
            "opencode",
            match roots.is_empty() {
                true => "no OpenCode data directory configured (transcripts.opencode_roots)".into(),
                false => format!(
                    "no OpenCode database in {}: OpenCode is not used here",
                    roots.join(", ")
                ),
            },
        );
    }
    let mut said = Vec::new();
    let mut worst = Status::Ok;
    let mut fix = None;
    for db in &facts.databases {
        let path = db.path.display();
        let read = match &db.state {
            Err(why) => {
                worst = Status::Warn;
                said.push(format!("{path} cannot be read: {why}"));
                fix = Some("if OpenCode holds it locked, run doctor again; a file that is no database can be moved away".to_string());
                continue;
            }
            Ok(read) => read,
        };
        let behind = read.newest_row - read.read_to.as_ref().map_or(0, |(row, _)| *row);
        let settled = read
            .newest_age_secs
            .is_none_or(|age| age >= OPENCODE_LAG_SECS);
        match &read.read_to {
            _ if read.newest_row == 0 => said.push(format!("{path}: no message yet")),
            Some((_, at)) if behind <= 0 => {
                said.push(format!("{path}: read to its last row (last read {at})"))
            }
            Some((_, at)) => {
                said.push(format!("{path}: {behind} rows after the last read ({at})"));
                if settled {
                    worst = Status::Warn;
                }
            }
            None => {
                said.push(format!("{path}: not read by the daemon yet"));
                if settled {
                    worst = Status::Warn;
                }
            }
        }
        if worst == Status::Warn && fix.is_none() {
            fix = Some(match facts.followed {
                true => "is the daemon running (`hookmeter serve`)? `hookmeter import --agent opencode` reads the database now".into(),
                false => "transcripts.watch is off: `hookmeter import --agent opencode` reads the database".into(),
            });
        }
    }
    let finding = said.join("; ");
    match worst {
        Status::Ok => ok("opencode", finding),
        status => not_ok("opencode", status, finding, fix.unwrap_or_default()),
    }
}

/// What the daemon watches without hooks: each root and its files.
fn assess_watch(watch: &WatchFacts) -> Finding {
    use crate::config::Watch;
    let how =
        match watch.mode {
            Watch::Off => return ok(
                "watch",
                "off (transcripts.watch = false): only transcripts that hook events name are read"
                    .into(),
            ),
            Watch::Notify => "by file system notifications",
            Watch::Scan => "by a walk every 5 s",
        };
    // One sentence per kind of log, in the order of the roots.
    let mut kinds: Vec<&str> = Vec::new();
    for root in &watch.roots {
        if !kinds.contains(&root.kind) {
            kinds.push(root.kind);
        }
    }
    let mut sentences = Vec::new();
    let mut trouble = Vec::new();
    for kind in kinds {
        let mut parts = Vec::new();
        for root in watch.roots.iter().filter(|r| r.kind == kind) {
            let dir = root.dir.display();
            match &root.state {
                RootState::Missing => parts.push(format!("{dir} (not there yet)")),
                RootState::Present {
                    files,
                    bytes,
                    symlinks,
                } => {
                    parts.push(format!(
                        "{dir} ({}, {})",
                        crate::present::counted(*files as u64, "file", "files"),
                        crate::present::size(*bytes)
                    ));
                    if let Some(first) = symlinks.first() {
                        trouble.push(format!(
                            "{} under {dir} not followed ({}{})",
                            crate::present::counted(symlinks.len() as u64, "symlink", "symlinks"),
                            first.display(),
                            if symlinks.len() > 1 { ", ..." } else { "" }
                        ));
                    }
                }
                RootState::Unusable(why) => trouble.push(format!("{dir}: {why}")),
            }
        }
        sentences.push(format!("{kind} watched {how}: {}", parts.join("; ")));
    }
    let finding = if sentences.is_empty() {
        "no root to watch for agent logs (transcripts.roots and the Codex roots are empty)".into()
    } else {
        sentences.join(". ")
    };
    if trouble.is_empty() {
        return ok("watch", finding);
    }
    not_ok(
        "watch",
        Status::Warn,
        format!("{finding}; {}", trouble.join("; ")),
        "nothing is read through a symlink under a root: move the files there, or add \
         their real directory to transcripts.roots"
            .into(),
    )
}

/// Prices older than [`PRICES_STALE_AFTER_DAYS`] miss new models and price
/// changes.
fn assess_prices(prices: &PriceFacts) -> Finding {
    let as_of =
        match &prices.as_of {
            Ok(as_of) => as_of,
            Err(error) => return not_ok(
                "prices",
                Status::Fail,
                error.clone(),
                "correct the file named; `hookmeter pricing list` shows the prices once they load"
                    .into(),
            ),
        };
    let from = &prices.from;
    match prices.age_days {
        Some(days) if days > PRICES_STALE_AFTER_DAYS => not_ok(
            "prices",
            Status::Warn,
            format!(
                "the prices in force ({from}) are as of {as_of}, {days} days old: newer models are priced as the fallback and price changes are missed"
            ),
            if prices.auto_update {
                "`[pricing] auto_update` is on but has not succeeded: read the daemon's log, or run `hookmeter pricing update`".into()
            } else {
                "run `hookmeter pricing update` (or set `[pricing] auto_update = \"daily\"` in the config file)".into()
            },
        ),
        Some(days) => ok("prices", format!("{from}, as of {as_of} ({days} days old)")),
        None => ok("prices", format!("{from}, as of {as_of}")),
    }
}

/// Without a token, the HTTP API answers every local process: on a machine
/// where other people log in, they read the costs and post events. root is
/// not counted: it can read the database file whatever the API asks.
fn assess_http(http: &HttpFacts) -> Finding {
    let Some(listen) = &http.listen else {
        return ok("http", "off: no HTTP API, nothing listens".into());
    };
    if http.token {
        return ok("http", format!("{listen}, a token required"));
    }
    let accounts = match &http.accounts {
        Ok(accounts) => accounts,
        Err(why) => {
            return ok(
                "http",
                format!(
                    "{listen} without a token; {why}, so other login accounts were not counted"
                ),
            )
        }
    };
    let others: Vec<&str> = accounts
        .iter()
        .filter(|a| a.uid != http.me)
        .map(|a| a.name.as_str())
        .collect();
    if others.is_empty() {
        return ok(
            "http",
            format!("{listen} without a token; no other login account on this machine"),
        );
    }
    not_ok(
        "http",
        Status::Warn,
        format!(
            "{listen} without a token, and {} other login account{} ({}) on this machine: \
             other users can read the costs (sessions, projects, tools) and post events",
            others.len(),
            if others.len() == 1 { "" } else { "s" },
            others.join(", ")
        ),
        "set a token: `[http] token = \"…\"` in the config file (or HOOKMETER_HTTP_TOKEN in the \
         daemon's environment) and restart the daemon; http hooks then need \
         `hookmeter install-hooks --http` again. Or turn the API off with `http = \"off\"` \
         if nothing reads it"
            .into(),
    )
}

fn assess_config(config: &ConfigFacts) -> Finding {
    let file = config.file.display();
    let origin = &config.origin;
    match (&config.error, config.exists) {
        (Some(error), _) => not_ok(
            "config",
            Status::Fail,
            format!("{error} (the checks below use flags, environment and defaults)"),
            format!("correct {file}; `hookmeter config` shows the settings once it loads"),
        ),
        (None, true) => ok("config", format!("{file} ({origin}) loads")),
        (None, false) => ok(
            "config",
            format!("no file at {file} ({origin}); built-in defaults in force"),
        ),
    }
}

fn assess_db(db: &DbFacts, unit: &Unit) -> Vec<Finding> {
    let path = db.path.display();
    let start_daemon = unit.start();
    let report = match &db.state {
        DbState::Missing => {
            return vec![not_ok(
                "db",
                Status::Warn,
                format!("no database at {path} yet"),
                format!("{start_daemon}; it creates the database"),
            )]
        }
        DbState::Unusable(why) => {
            return vec![not_ok(
            "db",
            Status::Fail,
            format!("{path}: {why}"),
            "check the path (--db, TELEMETRY_DB_PATH, db in the config file) and its permissions"
                .into(),
        )]
        }
        DbState::Present(report) => report,
    };
    let mut findings = vec![match &report.not_writable {
        None => ok("db", format!("{path}, {}, writable", bytes(report.bytes))),
        Some(why) => not_ok(
            "db",
            Status::Fail,
            format!("{path} cannot be written by this user: {why}"),
            "run hookmeter as the user that owns the database, or give that user the file and its directory (`chown`)".into(),
        ),
    }];
    let recover = format!(
        "stop the daemon, keep a copy of {path}, then `sqlite3 {path} .recover | sqlite3 recovered.db` and use recovered.db (--db), or move the file away to start a new database"
    );
    findings.push(match &report.integrity {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => {
            ok("db.integrity", "integrity_check ok".into())
        }
        Ok(rows) => not_ok(
            "db.integrity",
            Status::Fail,
            format!(
                "integrity_check found problems: {}{}",
                rows.first().map(String::as_str).unwrap_or("(no answer)"),
                match rows.len() {
                    0 | 1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            ),
            recover.clone(),
        ),
        Err(why) => not_ok(
            "db.integrity",
            Status::Fail,
            format!("integrity_check could not run: {why}"),
            recover.clone(),
        ),
    });
    let wal = match report.wal_bytes {
        Some(n) => format!("WAL file {}", bytes(n)),
        None => "no WAL file".into(),
    };
    findings.push(match &report.journal {
        Ok(Journal::Wal) => match report.wal_bytes {
            Some(n) if n >= WAL_LARGE_BYTES => not_ok(
                "db.journal",
                Status::Warn,
                format!("WAL, {wal}: checkpoints are not keeping up"),
                "a reader that keeps a transaction open stops SQLite from checkpointing: close long-running `sqlite3` sessions, or restart the daemon".into(),
            ),
            _ => ok("db.journal", format!("WAL, {wal}")),
        },
        Ok(Journal::Rollback) => not_ok(
            "db.journal",
            Status::Warn,
            "a rollback journal, not WAL: readers would block the writer".into(),
            format!("{start_daemon}; it sets WAL when it opens the database"),
        ),
        Ok(Journal::Empty) => not_ok(
            "db.journal",
            Status::Warn,
            "the file is empty".into(),
            format!("{start_daemon}; it sets up the database"),
        ),
        Ok(Journal::NotSqlite) => not_ok(
            "db.journal",
            Status::Fail,
            "the file is not a SQLite database (its header says otherwise)".into(),
            "point --db (or TELEMETRY_DB_PATH) at hookmeter's database, or move this file away".into(),
        ),
        Err(why) => not_ok(
            "db.journal",
            Status::Fail,
            format!("the database header could not be read: {why}"),
            recover.clone(),
        ),
    });
    findings.push(match report.user_version {
        Ok(SCHEMA_VERSION) => ok("db.schema", format!("version {SCHEMA_VERSION}")),
        Ok(0) => not_ok(
            "db.schema",
            Status::Warn,
            "no hookmeter schema yet (version 0)".into(),
            format!("{start_daemon}; it creates the schema"),
        ),
        Ok(found) if found < SCHEMA_VERSION => not_ok(
            "db.schema",
            Status::Warn,
            format!("version {found}, older than this hookmeter's {SCHEMA_VERSION}: the daemon upgrades it on start"),
            unit.restart().into(),
        ),
        Ok(found) => not_ok(
            "db.schema",
            Status::Fail,
            format!("version {found}, newer than this hookmeter's {SCHEMA_VERSION}: it refuses the database"),
            "upgrade hookmeter to the version that wrote this database".into(),
        ),
        Err(ref why) => not_ok(
            "db.schema",
            Status::Fail,
            format!("schema version could not be read: {why}"),
            recover,
        ),
    });
    findings.extend(report.fallback_priced.as_ref().map(assess_fallback));
    findings.extend(report.unpriced_modifiers.as_ref().map(assess_unpriced));
    findings.extend(
        report
            .undelivered_alerts
            .as_ref()
            .and_then(assess_alert_delivery),
    );
    findings
}

/// Records whose billing modifier (service tier, inference geography, fast
/// mode) the table has no rate for: priced at the standard rates, so their
/// cost may be off. A warning naming them, with the way to price them.
/// Budget alerts the webhook or the command has not taken; nothing to say
/// when every alert was delivered.
fn assess_alert_delivery(
    undelivered: &Result<Box<query::budgets::UndeliveredAlerts>, String>,
) -> Option<Finding> {
    let undelivered = match undelivered {
        Ok(u) if u.pending == 0 && u.given_up == 0 => return None,
        Ok(u) => u,
        Err(why) => {
            return Some(not_ok(
                "alerts.delivery",
                Status::Warn,
                format!("the budget alerts' delivery could not be read: {why}"),
                "run `hookmeter budget status`".into(),
            ))
        }
    };
    let said = crate::budget::render_undelivered(undelivered, &crate::present::View::utc());
    Some(not_ok(
        "alerts.delivery",
        Status::Warn,
        said.trim_end().replace('\n', " "),
        "check that the receiver of alerts.webhook (or alerts.command) works; pending alerts are \
         tried again, in order, until alerts.deliver_for_secs after they fired"
            .into(),
    ))
}

fn assess_unpriced(unpriced: &Result<Vec<query::UnpricedModifier>, String>) -> Finding {
    let window = FALLBACK_WINDOW;
    let rows = match unpriced {
        Ok(rows) if rows.is_empty() => {
            return ok(
                "pricing.modifiers",
                format!("every billing modifier of the last {window} was priced by the table"),
            )
        }
        Ok(rows) => rows,
        Err(why) => return not_ok(
            "pricing.modifiers",
            Status::Warn,
            format!("the records with unpriced billing modifiers could not be read: {why}"),
            "run `hookmeter doctor` again; the records' `unpriced_modifiers` column names them \
                 (docs/schema.md)"
                .into(),
        ),
    };
    let records: i64 = rows.iter().map(|r| r.records).sum();
    let mut named: Vec<String> = rows
        .iter()
        .take(FALLBACK_MODELS_NAMED)
        .map(|r| {
            format!(
                "{} {} ({})",
                r.model,
                r.modifiers,
                crate::present::counted(u64::try_from(r.records).unwrap_or(0), "record", "records")
            )
        })
        .collect();
    let more = rows.len().saturating_sub(FALLBACK_MODELS_NAMED);
    if more > 0 {
        named.push(format!("{more} more"));
    }
    not_ok(
        "pricing.modifiers",
        Status::Warn,
        format!(
            "{} of the last {window} reported a billing modifier the price table has no rate \
             for, and were priced at the standard rates: {}",
            crate::present::counted(u64::try_from(records).unwrap_or(0), "record", "records"),
            named.join(", ")
        ),
        "give the model the modifier's rates in pricing.toml (`service_tier.flex = { input = \
         …, output = … }` or `inference_geo = { us = 1.1 }`, see docs/pricing.md), send the \
         daemon SIGHUP, then `hookmeter reprice --dry-run`"
            .into(),
    )
}

/// How many fallback-priced models a finding names; the rest are counted.
const FALLBACK_MODELS_NAMED: usize = 10;

/// Records priced at the fallback (Opus) rates: a model the table does not
/// know, whose cost is a guess. A warning, with the command that prices it.
fn assess_fallback(fallback: &Result<query::FallbackPriced, String>) -> Finding {
    let window = FALLBACK_WINDOW;
    let part = match fallback {
        Ok(part) if part.is_empty() => {
            return ok(
                "pricing.fallback",
                format!("no record of the last {window} was priced at the fallback rates"),
            )
        }
        Ok(part) => part,
        Err(why) => {
            return not_ok(
                "pricing.fallback",
                Status::Warn,
                format!("the fallback-priced records could not be read: {why}"),
                "run `hookmeter report --json` and look at fallback_priced".into(),
            )
        }
    };
    let mut models: Vec<String> = part
        .models
        .iter()
        .take(FALLBACK_MODELS_NAMED)
        .map(|m| {
            format!(
                "{} ({}, {}, last {})",
                m.model,
                crate::present::counted(u64::try_from(m.records).unwrap_or(0), "record", "records"),
                crate::present::usd(m.cost_usd),
                m.last_at
            )
        })
        .collect();
    let more = part.models.len().saturating_sub(FALLBACK_MODELS_NAMED);
    if more > 0 {
        models.push(format!("{more} more"));
    }
    not_ok(
        "pricing.fallback",
        Status::Warn,
        format!(
            "{} of the last {window} ({}) priced at the fallback (Opus) rates, models the price \
             table does not know: {}",
            crate::present::counted(
                u64::try_from(part.records).unwrap_or(0),
                "record",
                "records"
            ),
            crate::present::usd(part.cost_usd),
            models.join(", ")
        ),
        "price each with `hookmeter pricing set MODEL --input USD --output USD` (USD per 1M \
         tokens; `hookmeter pricing check MODEL` shows how it is priced now), send the daemon \
         SIGHUP, then `hookmeter reprice --since DATE --dry-run` shows what the stored records \
         would cost"
            .into(),
    )
}

fn assess_durability((durability, origin): &(Durability, Origin)) -> Finding {
    ok(
        "durability",
        match durability {
            Durability::Normal => format!(
                "normal ({origin}): an acknowledged event survives a crash of the daemon, not a power loss (durability = \"full\" for that)"
            ),
            Durability::Full => {
                format!("full ({origin}): every acknowledged event survives a power loss")
            }
        },
    )
}

fn assess_socket(socket: &SocketFacts, unit: &Unit) -> Finding {
    let path = socket.path.display();
    let start_daemon = unit.start();
    let (finding, fix) = match &socket.state {
        SocketState::Listening => return ok("socket", format!("the daemon answers at {path}")),
        SocketState::Missing => (
            format!("no socket at {path}: the daemon is not running (or listens elsewhere)"),
            start_daemon.clone(),
        ),
        SocketState::Stale => (
            format!("stale socket file {path}: nobody listens on it (a daemon ended without removing it)"),
            format!("{start_daemon}; it replaces the stale file"),
        ),
        SocketState::NotASocket => (
            format!("{path} exists but is not a socket"),
            format!("move {path} away, then {start_daemon}"),
        ),
        SocketState::Unreachable(why) => (
            format!("cannot connect to {path}: {why}"),
            "run as the daemon's user, or configure a group for the socket".into(),
        ),
    };
    not_ok("socket", Status::Fail, finding, fix)
}

fn assess_spool(spool: &SpoolFacts, daemon_up: bool, unit: &Unit) -> Vec<Finding> {
    let dir = spool.dir.display();
    if !spool.exists {
        return vec![ok(
            "spool",
            format!("no spool directory at {dir}: nothing waiting"),
        )];
    }
    if let Some(why) = &spool.unreadable {
        return vec![not_ok(
            "spool",
            Status::Warn,
            format!("cannot read {why}"),
            "give this user read access, or run doctor as the daemon's user".into(),
        )];
    }
    let waiting = spool.waiting.len();
    let oldest = spool.waiting.iter().max().copied().unwrap_or_default();
    let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
    let waiting_finding = if waiting == 0 {
        ok("spool", format!("nothing waiting in {dir}"))
    } else {
        let what = format!(
            "{} waiting in {dir}, the oldest for {}",
            files(waiting),
            age(oldest)
        );
        if !daemon_up {
            not_ok(
                "spool",
                Status::Warn,
                format!("{what}, and no daemon to take them"),
                format!("{}; it ingests them", unit.start()),
            )
        } else if oldest > SPOOL_STUCK_AFTER {
            not_ok(
                "spool",
                Status::Warn,
                format!("{what}: the daemon is not taking them"),
                format!("{}: it says why a spool file stays", unit.log()),
            )
        } else {
            ok("spool", format!("{what}: the daemon is taking them"))
        }
    };
    let rejected_dir = spool.dir.join("rejected");
    let rejected_dir = rejected_dir.display();
    let rejected = match spool.rejected {
        0 => ok("spool.rejected", format!("nothing in {rejected_dir}")),
        n => not_ok(
            "spool.rejected",
            Status::Warn,
            format!("{} in {rejected_dir}: input the daemon could not use, kept with the reason beside each (NAME.reason)", files(n)),
            format!("look at them in {rejected_dir} (their events are also in the rejected_events table); delete them once dealt with"),
        ),
    };
    vec![waiting_finding, rejected]
}

/// Claude Code's hooks. With none at all, usage is still captured when the
/// daemon watches the log roots (the default), so that is a warning, not a
/// failure: what is missing then is what only hooks carry.
fn assess_hooks(hooks: &HooksFacts, watch: crate::config::Watch) -> Vec<Finding> {
    let mut found: Vec<&'static str> = Vec::new();
    let mut where_found = Vec::new();
    let mut unreadable = Vec::new();
    for file in &hooks.files {
        match &file.state {
            SettingsState::Read { events } if !events.is_empty() => {
                found.extend(
                    events
                        .iter()
                        .filter(|e| !found.contains(e))
                        .collect::<Vec<_>>(),
                );
                where_found.push(format!("{} ({})", file.path.display(), events.join(", ")));
            }
            SettingsState::Unreadable(why) => {
                unreadable.push(format!("{}: {why}", file.path.display()))
            }
            _ => {}
        }
    }
    let looked: Vec<String> = hooks
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let missing: Vec<&str> = EVENTS.into_iter().filter(|e| !found.contains(e)).collect();
    let install =
        "`hookmeter install-hooks` (every project) or `hookmeter install-hooks --project` (this one)";
    let mut finding = if found.is_empty() && watch != crate::config::Watch::Off {
        not_ok(
            "hooks",
            Status::Warn,
            format!(
                "no hookmeter hook in {}; usage is still read from the transcripts the daemon watches, but budgets cannot stop an agent and tasks, labels and the event history are not recorded",
                looked.join(", ")
            ),
            install.into(),
        )
    } else if found.is_empty() {
        not_ok(
            "hooks",
            Status::Fail,
            format!(
                "no hookmeter hook in {}, and the watch of the transcripts is off: Claude Code's usage is not captured",
                looked.join(", ")
            ),
            format!("{install}, or `transcripts.watch = true`"),
        )
    } else if !missing.is_empty() {
        not_ok(
            "hooks",
            Status::Warn,
            format!(
                "{} {} no hookmeter hook; found in {}",
                missing.join(", "),
                if missing.len() == 1 { "has" } else { "have" },
                where_found.join(", ")
            ),
            "`hookmeter install-hooks` adds the missing ones".into(),
        )
    } else {
        ok(
            "hooks",
            format!("all {} events in {}", EVENTS.len(), where_found.join(", ")),
        )
    };
    if !unreadable.is_empty() {
        finding.status = finding.status.max(Status::Warn);
        finding
            .finding
            .push_str(&format!("; {}", unreadable.join("; ")));
        let repair =
            "repair the settings files that do not parse (Claude Code cannot use them either)";
        finding.fix = Some(match finding.fix {
            Some(fix) => format!("{fix}; {repair}"),
            None => repair.to_string(),
        });
    }
    let mut findings = vec![finding];
    if !hooks.programs.is_empty() {
        let lost: Vec<&str> = hooks
            .programs
            .iter()
            .filter(|(_, at)| at.is_none())
            .map(|(program, _)| program.as_str())
            .collect();
        findings.push(if lost.is_empty() {
            let at: Vec<String> = hooks
                .programs
                .iter()
                .filter_map(|(program, at)| {
                    let at = at.as_ref()?;
                    Some(match Path::new(program) == at {
                        true => format!("{program} is there and executable"),
                        false => format!("{program} is {}", at.display()),
                    })
                })
                .collect();
            ok("hooks.command", at.join(", "))
        } else {
            not_ok(
                "hooks.command",
                Status::Warn,
                format!(
                    "{} (run by the hooks) cannot be found on this PATH: the hooks would fail without a word",
                    lost.join(", ")
                ),
                "put hookmeter on the PATH agents run with (`cargo install --locked --path .`), or run `hookmeter install-hooks` again: without hookmeter on PATH it writes this binary's absolute path (or give one: `--command \"/path/to/hookmeter send\"`)".into(),
            )
        });
    }
    findings
}

/// A size as people read it: `812 B`, `12.0 KiB`, `3.4 MiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A duration as people read it: `4 s`, `3 min`, `5 h`, `2 days`.
fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// The one finding when not even flags and environment resolve (an
/// overlong socket path, say): nothing else can be looked at.
/// `hookmeter doctor`: the findings for the configuration `flags` and
/// `env` resolve to, with or without a config file that loads.
pub fn run(
    flags: &crate::config::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Vec<Finding> {
    let resolved = match Config::resolve(flags, env) {
        Ok(config) => Ok((config, None)),
        Err(e) => match Config::resolve_without_file(flags, env) {
            Ok(config) => Ok((config, Some(e.to_string()))),
            Err(e) => Err(e.to_string()),
        },
    };
    match resolved {
        Ok((config, error)) => assess(&gather(&config, error, env, cwd, Path::new(PASSWD))),
        // Flags or environment are wrong too: nothing else can be checked.
        Err(error) => unresolvable(error),
    }
}

pub fn unresolvable(error: String) -> Vec<Finding> {
    vec![not_ok(
        "config",
        Status::Fail,
        error,
        "correct the flag or environment variable named; `hookmeter config` shows the settings once they resolve".into(),
    )]
}

/// True when no finding is a failure (doctor exits 0).
pub fn passed(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.status != Status::Fail)
}

/// One line per finding, `ok|warn|fail  check: finding`, and an indented
/// `fix:` line under each that is not ok.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{:<4}  {}: {}\n",
            f.status.name(),
            f.check,
            f.finding
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    out
}

/// `[{check, status, finding, fix}]`, `fix` null when ok.
pub fn render_json(findings: &[Finding]) -> String {
    let mut text = serde_json::to_string_pretty(findings).expect("findings serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Facts {
        Facts {
            config: ConfigFacts {
                file: "/h/.config/hookmeter/config.toml".into(),
                origin: Origin::Default,
                exists: false,
                error: None,
            },
            durability: (Durability::Normal, Origin::Default),
            db: DbFacts {
                path: "/h/state/telemetry.db".into(),
                state: DbState::Present(DbReport {
                    bytes: 4096 * 40,
                    not_writable: None,
                    integrity: Ok(vec!["ok".into()]),
                    journal: Ok(Journal::Wal),
                    user_version: Ok(SCHEMA_VERSION),
                    wal_bytes: Some(32 * 1024),
                    fallback_priced: Some(Ok(query::FallbackPriced::default())),
                    unpriced_modifiers: Some(Ok(Vec::new())),
                    undelivered_alerts: Some(Ok(Default::default())),
                }),
            },
            socket: SocketFacts {
                path: "/run/hm.sock".into(),
                state: SocketState::Listening,
            },
            spool: SpoolFacts {
                dir: "/h/spool".into(),
                exists: true,
                waiting: Vec::new(),
                rejected: 0,
                unreadable: None,
            },
            hooks: HooksFacts {
                files: vec![SettingsFacts {
                    path: "/h/.claude/settings.json".into(),
                    state: SettingsState::Read {
                        events: EVENTS.to_vec(),
                    },
                }],
                programs: vec![("hookmeter".into(), Some("/usr/bin/hookmeter".into()))],
            },
            codex: super::super::codex::DoctorFacts {
                home: Some("/h/.codex".into()),
                state: super::super::codex::DoctorState::NoCodex,
            },
            gemini: super::super::gemini::DoctorFacts {
                settings: Some("/h/.gemini/settings.json".into()),
                state: super::super::gemini::DoctorState::NoGemini,
            },
            unit: Unit::User("/h/.config/systemd/user/hookmeter.service".into()),
            http: HttpFacts {
                listen: Some("127.0.0.1:7717".into()),
                token: false,
                me: 1000,
                accounts: Ok(vec![Account {
                    name: "me".into(),
                    uid: 1000,
                }]),
            },
            prices: PriceFacts {
                as_of: Ok("2026-08-01".into()),
                from: "the built-in table".into(),
                age_days: Some(10),
                auto_update: false,
            },
            watch: WatchFacts {
                mode: crate::config::Watch::Notify,
                roots: vec![
                    RootFacts {
                        dir: "/h/.claude/projects".into(),
                        kind: "Claude Code transcripts",
                        state: RootState::Present {
                            files: 3,
                            bytes: 2_500_000,
                            symlinks: Vec::new(),
                        },
                    },
                    RootFacts {
                        dir: "/h/.config/claude/projects".into(),
                        kind: "Claude Code transcripts",
                        state: RootState::Missing,
                    },
                ],
            },
            opencode: OpenCodeFacts {
                roots: vec!["/h/.local/share/opencode".into()],
                followed: true,
                databases: Vec::new(),
            },
            otel: super::super::telemetry::Facts {
                claude: off(),
                codex: off(),
                gemini: off(),
                receivers: super::super::telemetry::Receivers {
                    http: Some("127.0.0.1:7717".into()),
                    grpc: None,
                    token: false,
                    probe: super::super::telemetry::Probe::Answered {
                        grpc_listening: false,
                    },
                },
            },
            retention: super::super::retention::Facts {
                period: super::super::retention::Period {
                    setting: super::super::retention::Setting::Days(30),
                    from: None,
                },
                transcripts: 3,
                old: Ok(Vec::new()),
                daemon_up: true,
                watched: true,
            },
            push: super::super::push::Facts {
                url: None,
                server: super::super::push::Server::NotAsked,
                local: Ok(Default::default()),
            },
        }
    }

    fn off() -> super::super::telemetry::AgentFacts {
        super::super::telemetry::AgentFacts {
            file: None,
            state: super::super::telemetry::ExportState::Off("no settings file".into()),
        }
    }

    #[test]
    fn opencode_databases_are_judged_by_how_far_the_daemon_read_them() {
        let mut facts = healthy();
        let finding = |facts: &Facts| find(&assess(facts), "opencode").clone();
        let none = finding(&facts);
        assert_eq!(none.status, Status::Ok);
        assert_eq!(
            none.finding,
            "no OpenCode database in /h/.local/share/opencode: OpenCode is not used here"
        );

        let db = |state| OpenCodeDatabase {
            path: "/h/.local/share/opencode/opencode.db".into(),
            state,
        };
        let read = |newest_row, newest_age_secs, read_to: Option<i64>| {
            Ok(OpenCodeRead {
                newest_row,
                newest_age_secs,
                read_to: read_to.map(|row| (row, "2026-12-06T10:00:00.000Z".into())),
            })
        };
        facts.opencode.databases = vec![db(read(40, Some(5), Some(40)))];
        let current = finding(&facts);
        assert_eq!(current.status, Status::Ok);
        assert_eq!(
            current.finding,
            "/h/.local/share/opencode/opencode.db: read to its last row \
             (last read 2026-12-06T10:00:00.000Z)"
        );

        // A step in progress holds the cursor back: fine while it is fresh.
        facts.opencode.databases = vec![db(read(40, Some(5), Some(38)))];
        assert_eq!(finding(&facts).status, Status::Ok);
        facts.opencode.databases = vec![db(read(40, Some(600), Some(38)))];
        let behind = finding(&facts);
        assert_eq!(behind.status, Status::Warn);
        assert!(
            behind.finding.contains("2 rows after the last read"),
            "{behind:?}"
        );
        assert!(behind.fix.unwrap().contains("hookmeter serve"));

        facts.opencode.databases = vec![db(read(40, Some(600), None))];
        facts.opencode.followed = false;
        let never = finding(&facts);
        assert_eq!(never.status, Status::Warn);
        assert!(
            never.finding.ends_with("not read by the daemon yet"),
            "{never:?}"
        );
        assert!(never.fix.unwrap().contains("transcripts.watch is off"));

        facts.opencode.databases = vec![db(Err("file is not a database".into()))];
        let broken = finding(&facts);
        assert_eq!(broken.status, Status::Warn);
        assert!(broken
            .finding
            .contains("cannot be read: file is not a database"));
    }

    #[test]
    fn the_watch_lists_its_roots_and_warns_of_symlinks_it_will_not_follow() {
        let mut facts = healthy();
        let watch = find(&assess(&facts), "watch").clone();
        assert_eq!(watch.status, Status::Ok);
        assert_eq!(
            watch.finding,
            "Claude Code transcripts watched by file system notifications: \
             /h/.claude/projects (3 files, 2.5 MB); /h/.config/claude/projects (not there yet)"
        );
        facts.watch.roots[0].state = RootState::Present {
            files: 1,
            bytes: 10,
            symlinks: vec!["/h/.claude/projects/p/l.jsonl".into()],
        };
        let watch = find(&assess(&facts), "watch").clone();
        assert_eq!(watch.status, Status::Warn);
        assert!(
            watch
                .finding
                .contains("1 symlink under /h/.claude/projects not followed"),
            "{watch:?}"
        );
        facts.watch.roots.push(RootFacts {
            dir: "/h/.codex/sessions".into(),
            kind: "Codex rollouts",
            state: RootState::Present {
                files: 2,
                bytes: 40_000,
                symlinks: Vec::new(),
            },
        });
        let watch = find(&assess(&facts), "watch").clone();
        assert!(
            watch.finding.contains(
                "not there yet). Codex rollouts watched by file system notifications: \
                 /h/.codex/sessions (2 files, 40 KB)"
            ),
            "{watch:?}"
        );
        facts.watch.mode = crate::config::Watch::Off;
        let watch = find(&assess(&facts), "watch").clone();
        assert_eq!(watch.status, Status::Ok);
        assert!(watch.finding.starts_with("off"), "{watch:?}");
    }

    #[test]
    fn prices_older_than_sixty_days_warn_with_the_update_command() {
        let mut facts = healthy();
        assert_eq!(find(&assess(&facts), "prices").status, Status::Ok);
        facts.prices.age_days = Some(61);
        let findings = assess(&facts);
        let prices = find(&findings, "prices");
        assert_eq!(prices.status, Status::Warn);
        assert!(prices.finding.contains("61 days old"), "{prices:?}");
        assert!(prices
            .fix
            .as_ref()
            .unwrap()
            .contains("hookmeter pricing update"));
        facts.prices.as_of = Err("pricing.toml: bad".into());
        assert_eq!(find(&assess(&facts), "prices").status, Status::Fail);
    }

    fn find<'a>(findings: &'a [Finding], check: &str) -> &'a Finding {
        findings
            .iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("no {check} in {findings:#?}"))
    }

    #[test]
    fn a_healthy_setup_is_all_ok() {
        let findings = assess(&healthy());
        let checks: Vec<_> = findings.iter().map(|f| f.check).collect();
        assert_eq!(
            checks,
            [
                "config",
                "db",
                "db.integrity",
                "db.journal",
                "db.schema",
                "pricing.fallback",
                "pricing.modifiers",
                "durability",
                "socket",
                "spool",
                "spool.rejected",
                "hooks",
                "hooks.command",
                "codex.hooks",
                "gemini.hooks",
                "http",
                "prices",
                "watch",
                "claude.retention",
                "opencode",
                "push",
                "claude.otel",
                "codex.otel",
                "gemini.otel",
                "otlp"
            ]
        );
        assert!(
            findings
                .iter()
                .all(|f| f.status == Status::Ok && f.fix.is_none()),
            "{findings:#?}"
        );
        assert!(passed(&findings));
        assert_eq!(
            find(&findings, "db.journal").finding,
            "WAL, WAL file 32.0 KiB"
        );
    }

    #[test]
    fn fallback_priced_models_warn_with_the_command_that_prices_them() {
        let mut facts = healthy();
        let DbState::Present(report) = &mut facts.db.state else {
            unreachable!()
        };
        report.fallback_priced = Some(Ok(query::FallbackPriced {
            cost_usd: 2.5,
            records: 3,
            models: vec![query::FallbackModel {
                model: "acme-coder-9".into(),
                records: 3,
                cost_usd: 2.5,
                first_at: "2026-09-19T10:00:00.000Z".into(),
                last_at: "2026-09-20T10:00:00.000Z".into(),
            }],
        }));
        let findings = assess(&facts);
        let warned = find(&findings, "pricing.fallback");
        assert_eq!(warned.status, Status::Warn);
        assert!(
            warned.finding.contains("acme-coder-9 (3 records, $2.50"),
            "{warned:?}"
        );
        assert!(warned.finding.contains("last 7d"), "{warned:?}");
        let fix = warned.fix.as_deref().unwrap();
        assert!(fix.contains("hookmeter pricing set MODEL"), "{fix}");
        assert!(passed(&findings), "a warning, not a failure");

        // An older schema is not looked at: its index may be missing.
        let DbState::Present(report) = &mut facts.db.state else {
            unreachable!()
        };
        report.fallback_priced = None;
        let findings = assess(&facts);
        assert!(findings.iter().all(|f| f.check != "pricing.fallback"));
    }

    #[test]
    fn an_http_api_without_a_token_warns_where_other_people_log_in() {
        let account = |name: &str, uid| Account {
            name: name.into(),
            uid,
        };
        let judged = |listen: Option<&str>, token, accounts| {
            let mut facts = healthy();
            facts.http = HttpFacts {
                listen: listen.map(str::to_string),
                token,
                me: 1000,
                accounts,
            };
            find(&assess(&facts), "http").clone()
        };
        let others = || {
            Ok(vec![
                account("me", 1000),
                account("ann", 1001),
                account("bo", 1002),
            ])
        };
        let warned = judged(Some("127.0.0.1:7717"), false, others());
        assert_eq!(warned.status, Status::Warn);
        assert_eq!(
            warned.finding,
            "127.0.0.1:7717 without a token, and 2 other login accounts (ann, bo) on this machine: \
             other users can read the costs (sessions, projects, tools) and post events"
        );
        let fix = warned.fix.clone().unwrap();
        assert!(
            fix.contains("[http] token") && fix.contains("http = \"off\""),
            "{fix}"
        );
        assert!(
            passed(std::slice::from_ref(&warned)),
            "a warning, not a failure"
        );
        // A token, HTTP off, or nobody else: ok.
        for (listen, token) in [(Some("127.0.0.1:7717"), true), (None, false)] {
            let finding = judged(listen, token, others());
            assert_eq!(finding.status, Status::Ok, "{finding:?}");
        }
        let alone = judged(Some("127.0.0.1:7717"), false, Ok(vec![account("me", 1000)]));
        assert_eq!(alone.status, Status::Ok);
        assert!(
            alone.finding.contains("no other login account"),
            "{alone:?}"
        );
        // Run as root, every person's account is another.
        let mut facts = healthy();
        facts.http.me = 0;
        let as_root = find(&assess(&facts), "http").clone();
        assert_eq!(as_root.status, Status::Warn);
        assert!(as_root.finding.contains("(me)"), "{as_root:?}");
        // Accounts that cannot be read: said, not guessed.
        let unread = judged(
            Some("127.0.0.1:7717"),
            false,
            Err("cannot read /p: gone".into()),
        );
        assert_eq!(unread.status, Status::Ok);
        assert!(unread.finding.contains("cannot read /p"), "{unread:?}");
    }

    #[test]
    fn login_accounts_are_people_with_a_shell() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                      # a comment\n\
                      ann:x:1000:1000:Ann:/home/ann:/bin/bash\n\
                      svc:x:1001:1001::/srv:/bin/false\n\
                      bo:x:1002:1002::/home/bo:/usr/bin/zsh\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n\
                      broken line\n\
                      cy:x:notanumber:1:::/bin/sh\n";
        assert_eq!(
            login_accounts(passwd),
            [
                Account {
                    name: "ann".into(),
                    uid: 1000
                },
                Account {
                    name: "bo".into(),
                    uid: 1002
                }
            ]
        );
    }

    #[test]
    fn a_stopped_daemon_fails_with_how_to_start_it() {
        let mut facts = healthy();
        facts.socket.state = SocketState::Stale;
        facts.spool.waiting = vec![Duration::from_secs(5), Duration::from_secs(300)];
        let findings = assess(&facts);
        let socket = find(&findings, "socket");
        assert_eq!(socket.status, Status::Fail);
        assert!(socket.finding.contains("stale"), "{socket:?}");
        assert!(socket
            .fix
            .as_deref()
            .unwrap()
            .contains("systemctl --user start hookmeter"));
        let spool = find(&findings, "spool");
        assert_eq!(spool.status, Status::Warn);
        assert!(spool.finding.starts_with("2 files waiting"), "{spool:?}");
        assert!(spool.finding.contains("5 min"), "{spool:?}");
        assert!(!passed(&findings));
    }

    #[test]
    fn systemctl_is_suggested_only_for_a_unit_that_is_installed() {
        let mut facts = healthy();
        facts.socket.state = SocketState::Missing;
        facts.db.state = DbState::Missing;
        facts.spool.waiting = vec![Duration::from_secs(5)];
        let fixes = |facts: &Facts| -> Vec<String> {
            let findings = assess(facts);
            ["db", "socket", "spool"]
                .iter()
                .map(|check| find(&findings, check).fix.clone().unwrap())
                .collect()
        };
        for fix in fixes(&facts) {
            assert!(fix.contains("`systemctl --user start hookmeter`"), "{fix}");
        }

        facts.unit = Unit::None;
        for fix in fixes(&facts) {
            assert!(!fix.contains("systemctl start"), "{fix}");
            assert!(!fix.contains("systemctl --user start"), "{fix}");
            assert!(
                fix.starts_with("start the daemon: `hookmeter serve` (in the foreground)"),
                "{fix}"
            );
            assert!(
                fix.contains("cp systemd/user/hookmeter.service ~/.config/systemd/user/"),
                "{fix}"
            );
        }

        facts.unit = Unit::System("/etc/systemd/system/hookmeter.service".into());
        for fix in fixes(&facts) {
            assert!(fix.contains("`sudo systemctl start hookmeter` (the system unit /etc/systemd/system/hookmeter.service)"), "{fix}");
            assert!(!fix.contains("--user"), "{fix}");
        }

        // Restarting and reading the log follow the unit too.
        let mut facts = healthy();
        facts.unit = Unit::None;
        if let DbState::Present(report) = &mut facts.db.state {
            report.user_version = Ok(SCHEMA_VERSION - 1);
        }
        facts.spool.waiting = vec![Duration::from_secs(600)];
        let findings = assess(&facts);
        let schema = find(&findings, "db.schema").fix.clone().unwrap();
        assert!(!schema.contains("systemctl"), "{schema}");
        let spool = find(&findings, "spool").fix.clone().unwrap();
        assert!(!spool.contains("journalctl"), "{spool}");
    }

    #[test]
    fn units_are_found_in_the_users_config_directory() {
        let home = tempfile::tempdir().unwrap();
        let home_str = home.path().to_str().unwrap().to_string();
        let env = crate::config::tests::env_of(&[("HOME", home_str.as_str())]);
        // Whatever the machine has in its system directories, a unit in the
        // user's own directory is the one to start.
        let unit = home.path().join(".config/systemd/user/hookmeter.service");
        std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
        std::fs::write(&unit, "[Service]\n").unwrap();
        assert_eq!(look_at_units(&env), Unit::User(unit.clone()));
        std::fs::remove_file(&unit).unwrap();
        assert_ne!(look_at_units(&env), Unit::User(unit));
    }

    #[test]
    fn spool_files_are_fine_while_the_daemon_takes_them() {
        let mut facts = healthy();
        facts.spool.waiting = vec![Duration::from_secs(2)];
        assert_eq!(find(&assess(&facts), "spool").status, Status::Ok);
        facts.spool.waiting = vec![Duration::from_secs(61)];
        assert_eq!(find(&assess(&facts), "spool").status, Status::Warn);
        facts.spool.rejected = 3;
        let rejected = find(&assess(&facts), "spool.rejected").clone();
        assert_eq!(rejected.status, Status::Warn);
        assert!(rejected.finding.starts_with("3 files in /h/spool/rejected"));
    }

    #[test]
    fn schema_versions_older_warn_and_newer_fail() {
        let with_version = |v: i64| {
            let mut facts = healthy();
            if let DbState::Present(report) = &mut facts.db.state {
                report.user_version = Ok(v);
            }
            find(&assess(&facts), "db.schema").clone()
        };
        let older = with_version(SCHEMA_VERSION - 1);
        assert_eq!(older.status, Status::Warn);
        assert!(older.finding.contains("the daemon upgrades it on start"));
        assert_eq!(with_version(SCHEMA_VERSION + 1).status, Status::Fail);
    }

    #[test]
    fn corruption_fails_and_says_how_to_recover() {
        let mut facts = healthy();
        if let DbState::Present(report) = &mut facts.db.state {
            report.integrity = Ok(vec![
                "Tree 5 page 7 cell 0: invalid page number 9999".into(),
                "Page 12: never used".into(),
            ]);
        }
        let integrity = find(&assess(&facts), "db.integrity").clone();
        assert_eq!(integrity.status, Status::Fail);
        assert!(integrity
            .finding
            .contains("invalid page number 9999 (and 1 more)"));
        assert!(integrity.fix.unwrap().contains(".recover"));
    }

    #[test]
    fn a_missing_database_only_warns_and_skips_its_details() {
        let mut facts = healthy();
        facts.db.state = DbState::Missing;
        let findings = assess(&facts);
        assert_eq!(find(&findings, "db").status, Status::Warn);
        assert!(!findings.iter().any(|f| f.check.starts_with("db.")));
    }

    #[test]
    fn hooks_missing_everywhere_warn_with_the_watch_fail_without_and_partly_warn() {
        let mut facts = healthy();
        facts.hooks.files[0].state = SettingsState::Read { events: vec![] };
        facts.hooks.programs.clear();
        facts.watch.mode = crate::config::Watch::Notify;
        let hooks = find(&assess(&facts), "hooks").clone();
        assert_eq!(hooks.status, Status::Warn);
        assert!(hooks.finding.contains("still read"), "{hooks:?}");
        facts.watch.mode = crate::config::Watch::Off;
        let findings = assess(&facts);
        let hooks = find(&findings, "hooks");
        assert_eq!(hooks.status, Status::Fail);
        assert!(hooks.finding.contains("not captured"), "{hooks:?}");
        assert!(hooks
            .fix
            .as_deref()
            .unwrap()
            .contains("hookmeter install-hooks"));
        assert!(!findings.iter().any(|f| f.check == "hooks.command"));

        facts.hooks.files[0].state = SettingsState::Read {
            events: vec!["PostToolUse", "Stop"],
        };
        let hooks = find(&assess(&facts), "hooks").clone();
        assert_eq!(hooks.status, Status::Warn);
        assert!(
            hooks
                .finding
                .starts_with("SubagentStop, SessionStart, SessionEnd have no hookmeter hook"),
            "{hooks:?}"
        );
    }

    #[test]
    fn a_broken_config_fails_but_the_rest_is_still_judged() {
        let mut facts = healthy();
        facts.config.error =
            Some("invalid config file /c.toml: line 1, column 1: unknown field `dbb`".into());
        let findings = assess(&facts);
        assert_eq!(find(&findings, "config").status, Status::Fail);
        assert_eq!(findings.len(), assess(&healthy()).len());
    }

    #[test]
    fn text_and_json_shapes() {
        let mut facts = healthy();
        facts.socket.state = SocketState::Missing;
        let findings = assess(&facts);
        let text = render_text(&findings);
        assert!(text.starts_with("ok    config: "), "{text}");
        assert!(
            text.contains("\nfail  socket: no socket at /run/hm.sock"),
            "{text}"
        );
        assert!(text.contains("\n      fix: start the daemon: "), "{text}");
        let json: Value = serde_json::from_str(&render_json(&findings)).unwrap();
        let socket = json
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "socket")
            .unwrap();
        assert_eq!(socket["status"], "fail");
        assert!(socket["fix"].is_string());
        assert_eq!(json[0]["fix"], Value::Null);
    }

    #[test]
    fn uri_paths_escape_what_a_uri_would_misread() {
        assert_eq!(
            uri_path(Path::new("/tmp/my db?#%.db")),
            "/tmp/my%20db%3F%23%25.db"
        );
    }

    #[test]
    fn sizes_and_ages_read_naturally() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(age(Duration::from_secs(4)), "4 s");
        assert_eq!(age(Duration::from_secs(600)), "10 min");
        assert_eq!(age(Duration::from_secs(3 * 86_400)), "3 days");
    }
}
