//! Test harness: the real `hookmeter` binary on a temp dir, talked to the way
//! users do (hookmeter send, the socket, the spool, the database), and the
//! turns that keep the fault tests apart from the rest ([`Turn`]).
#![allow(dead_code)]

pub mod postgres;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hookmeter");

/// Upper bound for anything a test waits for; only reached when something is broken.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every hook fixture with the cost it must produce (None = no cost record).
pub fn hook_fixtures() -> Vec<(String, Vec<u8>, Option<f64>)> {
    let dir = fixtures().join("hooks");
    let expected: serde_json::Map<String, Value> = serde_json::from_slice(
        &std::fs::read(dir.join("expected-cost-usd.json")).expect("expected-cost-usd.json"),
    )
    .unwrap();
    let transcript = fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl");
    let mut out: Vec<_> = expected
        .iter()
        .map(|(name, cost)| {
            let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            let text = text.replace("TRANSCRIPT_PATH", transcript.to_str().unwrap());
            (name.clone(), text.into_bytes(), cost.as_f64())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 9, "fixtures missing: {}", out.len());
    out
}

/// Who may run now. All integration tests share one process and libtest runs
/// them in parallel; the fault tests (kill -9 under load, 1,000 connections,
/// a full tmpfs, a daemon out of descriptors) used to be a binary of their
/// own and must stay alone: they load the machine, so a test beside them
/// could time out, and their figures would measure the neighbour. The rule:
/// **a fault test runs alone; every other test runs beside any test but a
/// fault test.** Every [`Home`] holds a shared turn for as long as it lives;
/// a fault test takes the exclusive turn ([`Turn::alone`]) before anything
/// else and holds it to its end. A waiting fault test stops new shared turns
/// (so it is not starved), except on a thread that already holds one (a
/// test with two homes must not wait for itself).
#[derive(Default)]
struct Turns {
    /// Shared turns held now.
    shared: usize,
    /// A fault test holds the exclusive turn.
    alone: bool,
    /// Fault tests waiting for the exclusive turn.
    alone_waiting: usize,
}

static TURNS: Mutex<Turns> = Mutex::new(Turns {
    shared: 0,
    alone: false,
    alone_waiting: 0,
});
static TURN_ENDED: Condvar = Condvar::new();

thread_local! {
    /// Shared turns held by this thread (one libtest thread = one test).
    static SHARED_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// This thread holds the exclusive turn: its homes need no other.
    static ALONE_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A turn held until dropped; see [`Turns`] for the rule.
pub struct Turn {
    kind: TurnKind,
}

enum TurnKind {
    Shared,
    Alone,
    /// A home made during this thread's exclusive turn: nothing to release.
    WithinAlone,
}

fn turns() -> MutexGuard<'static, Turns> {
    // A panicking test never panics while holding this lock (it is held
    // only to count), but stay usable if one somehow did.
    TURNS.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Turn {
    /// The exclusive turn: waits until no other test holds a turn. For the
    /// fault tests; take it first thing, before any [`Home`].
    pub fn alone() -> Turn {
        assert!(
            SHARED_HERE.get() == 0 && !ALONE_HERE.get(),
            "take Turn::alone() first thing in the test, before any Home"
        );
        let mut turns = turns();
        turns.alone_waiting += 1;
        let mut turns = TURN_ENDED
            .wait_while(turns, |t| t.alone || t.shared > 0)
            .unwrap_or_else(PoisonError::into_inner);
        turns.alone_waiting -= 1;
        turns.alone = true;
        ALONE_HERE.set(true);
        Turn {
            kind: TurnKind::Alone,
        }
    }

    /// A shared turn: waits while a fault test runs or waits to run.
    pub fn shared() -> Turn {
        if ALONE_HERE.get() {
            return Turn {
                kind: TurnKind::WithinAlone,
            };
        }
        let mut turns = turns();
        if SHARED_HERE.get() == 0 {
            turns = TURN_ENDED
                .wait_while(turns, |t| t.alone || t.alone_waiting > 0)
                .unwrap_or_else(PoisonError::into_inner);
        }
        turns.shared += 1;
        SHARED_HERE.set(SHARED_HERE.get() + 1);
        Turn {
            kind: TurnKind::Shared,
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = turns();
        match self.kind {
            TurnKind::Shared => {
                turns.shared -= 1;
                SHARED_HERE.set(SHARED_HERE.get().saturating_sub(1));
            }
            TurnKind::Alone => {
                turns.alone = false;
                ALONE_HERE.set(false);
            }
            TurnKind::WithinAlone => return,
        }
        drop(turns);
        TURN_ENDED.notify_all();
    }
}

/// A temp home for one daemon: db, socket, spool and config live inside it.
pub struct Home {
    pub dir: tempfile::TempDir,
    /// This test's turn ([`Turn`]), released after the directory is gone
    /// (fields drop in order).
    _turn: Turn,
}

impl Home {
    pub fn new() -> Home {
        let turn = Turn::shared();
        // Short base path: Unix socket paths are limited to 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("hm")
            .tempdir_in(std::env::temp_dir())
            .unwrap();
        Home { dir, _turn: turn }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn db_path(&self) -> PathBuf {
        self.path().join("state/telemetry.db")
    }
    pub fn socket(&self) -> PathBuf {
        self.path().join("run/hm.sock")
    }
    pub fn spool(&self) -> PathBuf {
        self.path().join("spool")
    }
    pub fn config_file(&self) -> PathBuf {
        self.path().join("config/config.toml")
    }
    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.config_file().parent().unwrap()).unwrap();
        std::fs::write(self.config_file(), text).unwrap();
    }

    /// A `hookmeter` command with this home's locations in its environment
    /// only (not flags), so both paths of configuration get exercised. The
    /// HTTP API listens on a free loopback port (`HOOKMETER_HTTP=127.0.0.1:0`)
    /// so daemons of parallel tests never collide; [`Daemon::http`] finds it.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("HOOKMETER_CONFIG", self.config_file())
            .env("TELEMETRY_DB_PATH", self.db_path())
            .env("HOOKMETER_SOCKET", self.socket())
            .env("HOOKMETER_SPOOL", self.spool())
            .env("HOOKMETER_HTTP", "127.0.0.1:0")
            // OTLP/gRPC's default port would collide between parallel
            // daemons; tests of it turn it on at a free port.
            .env("HOOKMETER_OTLP_GRPC", "off")
            .env("RUST_LOG", "hookmeter=debug,info");
        cmd
    }

    pub fn start(&self) -> Daemon {
        self.start_with(|_| {})
    }

    /// Starts the daemon with `adjust` applied to its command (extra flags,
    /// environment), and waits until its socket answers.
    pub fn start_with(&self, adjust: impl FnOnce(&mut Command)) -> Daemon {
        let daemon = self.spawn_with(adjust);
        daemon.wait_ready();
        daemon
    }

    /// Spawns `hookmeter serve` without waiting for it to be ready, for
    /// tests of a daemon that must refuse to start.
    pub fn spawn_with(&self, adjust: impl FnOnce(&mut Command)) -> Daemon {
        let mut cmd = self.command();
        adjust(&mut cmd);
        self.spawn_command(cmd.arg("serve"))
    }

    /// Spawns `cmd`, a prepared `hookmeter serve` (or a wrapper that execs
    /// one), with its stderr appended to this home's daemon log.
    pub fn spawn_command(&self, cmd: &mut Command) -> Daemon {
        let log = self.path().join("daemon.log");
        let log_start = std::fs::metadata(&log).map_or(0, |m| m.len() as usize);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.path().join("daemon.log"))
                    .unwrap(),
            ))
            .spawn()
            .expect("spawn hookmeter serve");
        Daemon {
            child,
            socket: self.socket(),
            log,
            log_start,
        }
    }

    /// Runs `hookmeter send` with `stdin` and extra args; returns its output.
    pub fn send(&self, stdin: &[u8], args: &[&str]) -> Output {
        let mut child = self
            .command()
            .arg("send")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn db(&self) -> Connection {
        let conn =
            Connection::open_with_flags(self.db_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Drops a file into the spool the way writers must: a temp name, then
    /// a rename, so the daemon never sees it half-written.
    pub fn spool_drop(&self, name: &str, bytes: &[u8]) {
        std::fs::create_dir_all(self.spool()).unwrap();
        let tmp = self.spool().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.spool().join(name)).unwrap();
    }

    /// Files (not directories) directly in the spool.
    pub fn spool_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.spool())
            .map(|rd| {
                rd.flatten()
                    .filter(|e| !e.file_type().unwrap().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn rejected_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.spool().join("rejected"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
    /// Where this run's lines start in the log (a home's log is appended to
    /// by every run).
    pub log_start: usize,
}

impl Daemon {
    fn wait_ready(&self) {
        wait_until(
            "the daemon to listen",
            || UnixStream::connect(&self.socket).is_ok(),
            || self.log_text(),
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// This run's part of the log.
    pub fn run_log(&self) -> String {
        let text = self.log_text();
        text.get(self.log_start..).unwrap_or_default().to_string()
    }

    /// The address the HTTP API of this run listens on, from its log line
    /// `HTTP API listening on ADDR.`
    pub fn http(&self) -> SocketAddr {
        let mut found = None;
        wait_until(
            "the HTTP API to listen",
            || {
                found = self
                    .run_log()
                    .lines()
                    .find_map(|line| line.split("HTTP API listening on ").nth(1))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|addr| addr.trim_end_matches('.').parse().ok());
                found.is_some()
            },
            || self.log_text(),
        );
        found.unwrap()
    }

    pub fn connect(&self) -> Client {
        let stream = UnixStream::connect(&self.socket).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }

    pub fn signal(&self, signal: i32) {
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// SIGSTOP, and returns once every thread of the daemon has stopped.
    ///
    /// kill() only queues the signal: each thread stops when it next runs
    /// in the kernel, and on a busy machine the daemon goes on accepting,
    /// committing and acking for milliseconds after kill() returned. The
    /// kernel reports the stop to the parent (waitid WSTOPPED) only when
    /// the whole thread group has stopped. WNOWAIT leaves that report in
    /// place; `Child::try_wait` never looks at stops anyway.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
        let pid = self.child.id() as libc::id_t;
        wait_until(
            "the daemon to stop after SIGSTOP",
            || {
                // SAFETY: all-zero bytes are a valid siginfo_t; waitid
                // writes only into the one we own.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let rc = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid,
                        &mut info,
                        libc::WSTOPPED | libc::WNOHANG | libc::WNOWAIT,
                    )
                };
                assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
                // With WNOHANG and nothing to report, si_pid stays 0.
                // SAFETY: waitid filled in a SIGCHLD siginfo_t, or left it zeroed.
                let reported = unsafe { info.si_pid() };
                reported == pid as libc::pid_t
            },
            || self.log_text(),
        );
    }

    /// SIGTERM, then the exit status (waits at most PATIENCE).
    pub fn stop(self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit()
    }

    /// The exit status, once the process has ended on its own (at most PATIENCE).
    pub fn wait_exit(mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not stop:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Client {
    pub stream: UnixStream,
    pub reader: BufReader<UnixStream>,
}

impl Client {
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }
    pub fn read_ack(&mut self) -> Value {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read ack");
        assert!(n > 0, "connection closed without an ack");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("ack {line:?} is not JSON: {e}"))
    }
    /// Like `roundtrip`, but `None` on any I/O failure, for polling loops.
    pub fn try_roundtrip(&mut self, line: &[u8]) -> Option<Value> {
        self.stream.write_all(line).ok()?;
        self.stream.write_all(b"\n").ok()?;
        let mut answer = String::new();
        self.reader.read_line(&mut answer).ok()?;
        serde_json::from_str(&answer).ok()
    }

    /// Sends one line and returns its ack.
    pub fn roundtrip(&mut self, line: &[u8]) -> Value {
        self.write(line);
        self.write(b"\n");
        self.read_ack()
    }
}

/// The value of the `/metrics` sample `series` (its name and labels, as
/// printed), if shown.
pub fn metric(addr: SocketAddr, series: &str) -> Option<f64> {
    let text = http_get(addr, "/metrics").text();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

/// Waits until the daemon's `/metrics` sample `series` satisfies `want`;
/// on time-out shows the whole scrape and the daemon's log.
pub fn wait_for_metric(daemon: &Daemon, series: &str, want: impl Fn(f64) -> bool) {
    let addr = daemon.http();
    wait_until(
        series,
        || metric(addr, series).is_some_and(&want),
        || {
            format!(
                "{}\n{}",
                http_get(addr, "/metrics").text(),
                daemon.log_text()
            )
        },
    );
}

/// Polls `done` until it holds; panics with `context()` after PATIENCE.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assert_cost(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-9,
        "{what}: cost {got} != expected {want}"
    );
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body {:?} is not JSON: {e}", self.text()))
    }
}

/// The header a write over HTTP (`POST /hook`) needs: anything else is
/// refused with 415 (docs/http-api.md#requests-from-web-pages).
pub const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A minimal blocking HTTP/1.1 client: one request per connection.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    http_request_as(addr, &addr.to_string(), method, path, headers, body)
}

/// [`http_request`] with the `Host` header `host` (empty: none at all), as
/// a client that reached `addr` by another name sends it.
pub fn http_request_as(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the HTTP API");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let host_line = if host.is_empty() {
        String::new()
    } else {
        format!("Host: {host}\r\n")
    };
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\n{host_line}Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        // A server that answers before reading a whole (refused) body may
        // reset the connection after its answer: keep what arrived.
        assert!(!raw.is_empty(), "no HTTP response: {e}");
    }
    parse_response(&raw)
}

/// Reads one HTTP request from a client (a test's own receiver); returns
/// its body, framed by Content-Length. Empty when the client went away
/// before the headers ended.
pub fn read_request_body(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return String::new();
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

pub fn http_get(addr: SocketAddr, path: &str) -> Response {
    http_request(addr, "GET", path, &[], b"")
}

pub fn parse_response(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// The hourly and daily rollups and the daily totals hold exactly the sums
/// of `cost_records`, group by group.
pub fn assert_rollup_matches(home: &Home) {
    let groups =
        "'|' || provider || '|' || model || '|' || model_key || '|' || agent_id || '|' || project";
    let record_groups = "'|' || provider || '|' || model || '|' || coalesce(model_key, model)
                         || '|' || agent_id || '|' || coalesce(project, '')";
    for (table, key, record_key) in [
        (
            "cost_rollup_hourly",
            format!("hour || {groups}"),
            format!("substr(timestamp, 1, 13) || {record_groups}"),
        ),
        (
            "cost_rollup_daily",
            format!("day || {groups}"),
            format!("substr(timestamp, 1, 10) || {record_groups}"),
        ),
        (
            "cost_totals_daily",
            "day".to_string(),
            "substr(timestamp, 1, 10)".to_string(),
        ),
    ] {
        assert_rollup_table_matches(home, table, &key, &record_key);
    }
}

fn assert_rollup_table_matches(home: &Home, table: &str, key: &str, record_key: &str) {
    let groups = |sql: &str| -> std::collections::BTreeMap<String, (i64, f64, i64, i64, i64)> {
        home.db()
            .prepare(sql)
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let rollup = groups(&format!(
        "SELECT {key}, records, cost_usd, input_tokens, output_tokens, cache_read_tokens
         FROM {table}"
    ));
    let records = groups(&format!(
        "SELECT {record_key}, count(*), total(estimated_cost_usd), sum(input_tokens), sum(output_tokens),
                sum(cache_read_tokens)
         FROM cost_records GROUP BY 1"
    ));
    assert_eq!(
        rollup.keys().collect::<Vec<_>>(),
        records.keys().collect::<Vec<_>>(),
        "{table} groups"
    );
    for (key, want) in &records {
        let got = rollup[key];
        assert_eq!(
            (got.0, got.2, got.3, got.4),
            (want.0, want.2, want.3, want.4),
            "{table} {key}"
        );
        assert!(
            (got.1 - want.1).abs() < 1e-9,
            "{table} {key}: cost {} != {}",
            got.1,
            want.1
        );
    }
}

/// Runs `cmd`, requires it to succeed (showing its stderr if not), and
/// returns its stdout.
pub fn succeed(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run hookmeter");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// "Max open files" of a running process as (soft, hard), from
/// `/proc/PID/limits`; `unlimited` reads as `u64::MAX`.
pub fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let mut values = line
        .split_whitespace()
        .skip(3)
        .map(|v| v.parse().unwrap_or(u64::MAX));
    (values.next().unwrap(), values.next().unwrap())
}

/// A Claude Code tool event (`PreToolUse`, `PostToolUse`) of the Bash tool
/// in session `session`, with `tool_use_id` `id` and, when given, the
/// payload's own `agent_id`.
pub fn claude_tool_event(session: &str, event: &str, id: &str, agent: Option<&str>) -> Vec<u8> {
    let mut payload = serde_json::json!({
        "session_id": session,
        "hook_event_name": event,
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_use_id": id,
        "cwd": "/home/dev/shop",
    });
    if let Some(agent) = agent {
        payload["agent_id"] = serde_json::json!(agent);
    }
    payload.to_string().into_bytes()
}

/// The budget thresholds recorded as reached, `scope period pct`, in firing
/// order.
pub fn fired(home: &Home) -> Vec<String> {
    let conn = home.db();
    let mut stmt = conn
        .prepare("SELECT scope || ' ' || period || ' ' || threshold_pct FROM alerts ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The stdout of a command that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A config with the watch of the log roots off: for tests of what hook
/// events make the daemon read, which the watch would otherwise read anyway.
pub const HOOKS_ONLY: &str = "[transcripts]\nwatch = false\n";

/// The fixture transcript, copied into the daemon's default root under
/// `home` (`~/.claude/projects/-home-dev-shop/s-session-1.jsonl`).
pub fn transcript_in_root(home: &Home) -> PathBuf {
    let dir = home.path().join(".claude/projects/-home-dev-shop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s-session-1.jsonl");
    std::fs::copy(
        fixtures().join("claude/projects/-home-dev-shop/s-session-1.jsonl"),
        &path,
    )
    .unwrap();
    path
}

/// The fixture hook payload `hooks/NAME.json` naming `transcript` as its
/// transcript, as one JSON line.
pub fn fixture_hook(name: &str, transcript: &Path) -> String {
    let text = std::fs::read_to_string(fixtures().join(format!("hooks/{name}.json"))).unwrap();
    let value: Value =
        serde_json::from_str(&text.replace("TRANSCRIPT_PATH", transcript.to_str().unwrap()))
            .unwrap();
    value.to_string()
}

/// `promtool check metrics` accepts `text`. Outside CI a missing promtool
/// skips the check, saying so; under CI it fails the test.
pub fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "promtool is not on PATH and CI is set: CI must install it (Debian package prometheus)"
            );
            println!("promtool not found: /metrics was not checked by promtool");
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {:?}\n{}{}\n--- metrics:\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
