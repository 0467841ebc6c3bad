//! Fault tests: the real daemon and the real `hookmeter send` under kill -9,
//! a daemon that is down or frozen, a full disk, a long reader and a flood of
//! connections. Each test prints one `FAULT <name>: ...` line with its
//! figures (run with `-- --nocapture`); durations are printed, never
//! asserted. What is asserted is correctness: every event lands exactly once,
//! nothing acked is missing, the database stays sound.
//!
//! Each test runs alone (common's exclusive `Turn`, taken first thing by
//! `serial()`): no other test of the crate runs beside it. They load the
//! machine, and figures measured side by side would mostly measure each
//! other, or make a neighbour's test time out. `raise_open_files` changes
//! this process's limit for good, but only ever raises it.

use crate::common;

use std::collections::{BTreeSet, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// Prints a test's figures straight to the process's stderr. libtest
/// captures `eprintln!` of a passing test, and these lines are what the
/// run is for, so they show in `cargo test`'s output (and CI's log) too.
macro_rules! figures {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// One fault test at a time, and nothing else beside it: the exclusive turn
/// (common's `Turn`; a failed test must not stop the others, and does not).
fn serial() -> Turn {
    Turn::alone()
}

/// A hook payload with an explicit event id (the payload's own `event_id`
/// is the identity: docs/hook-protocol.md#identity-and-attribution) and
/// token usage, so it yields exactly one cost record under that id.
fn payload(id: &str, n: u64) -> String {
    json!({
        "event_id": id,
        "session_id": "faults",
        "model": "claude-sonnet-4-5",
        "usage": {"input_tokens": 100 + n, "output_tokens": 10},
    })
    .to_string()
}

/// `hookmeter send` with `stdin`, timed; the contract: exit 0, stdout empty.
fn timed_send(home: &Home, stdin: &[u8]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = home
        .command()
        .args(["send", "--agent", "faults"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hookmeter send");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (out, started.elapsed())
}

fn assert_send_contract(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}: send must exit 0");
    assert!(
        out.stdout.is_empty(),
        "{what}: send printed on stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Polls `done` for at most `limit`; returns how long it took.
fn wait_for(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
    context: impl Fn() -> String,
) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// The `hook_event_id`s of cost records starting with `prefix`, with how
/// often each occurs.
fn record_ids(home: &Home, prefix: &str) -> Vec<(String, i64)> {
    home.db()
        .prepare(
            "SELECT hook_event_id, count(*) FROM cost_records
             WHERE hook_event_id LIKE ?1 || '%' GROUP BY hook_event_id",
        )
        .unwrap()
        .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Checks that the database holds exactly one cost record for each of
/// `want` and nothing else under `prefix`; returns (rows, duplicates, missing).
fn assert_exactly_once(
    home: &Home,
    prefix: &str,
    want: &BTreeSet<String>,
) -> (usize, usize, usize) {
    let rows = home.count(&format!(
        "SELECT count(*) FROM cost_records WHERE hook_event_id LIKE '{prefix}%'"
    )) as usize;
    let got = record_ids(home, prefix);
    let duplicates: usize = got.iter().map(|(_, n)| (*n - 1) as usize).sum();
    let got: BTreeSet<String> = got.into_iter().map(|(id, _)| id).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    let events = home.count(&format!(
        "SELECT count(*) FROM hook_events WHERE hook_event_id LIKE '{prefix}%'"
    )) as usize;
    assert!(
        missing.is_empty(),
        "{} events missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(extra.is_empty(), "unexpected records: {extra:?}");
    assert_eq!(duplicates, 0, "duplicate cost records");
    assert_eq!(rows, want.len(), "cost records");
    assert_eq!(events, want.len(), "hook events");
    (rows, duplicates, missing.len())
}

fn integrity(home: &Home) -> String {
    home.db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn rejected_rows(home: &Home) -> i64 {
    let rows: Vec<(String, String, String, String)> = home
        .db()
        .prepare("SELECT source, coalesce(origin, ''), reason, substr(raw_text, 1, 200) FROM rejected_events LIMIT 5")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for row in &rows {
        eprintln!("rejected_events: {row:?}");
    }
    home.count("SELECT count(*) FROM rejected_events")
}

/// The event ids held by the spool's files (ready or claimed).
fn spooled_ids(home: &Home) -> Vec<String> {
    let mut ids = Vec::new();
    for name in home.spool_files() {
        let Ok(text) = std::fs::read(home.spool().join(&name)) else {
            continue;
        };
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let value: Value = serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("spool file {name} is not JSON: {e}"));
            let payload = if value.get("hookmeter").is_some() {
                &value["payload"]
            } else {
                &value
            };
            ids.push(payload["event_id"].as_str().unwrap_or_default().to_string());
        }
    }
    ids.sort();
    ids
}

/// (p50, p99, max) of `durations`, in milliseconds.
fn percentiles(durations: &mut [Duration]) -> (f64, f64, f64) {
    durations.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: usize| durations[(durations.len() * q / 100).min(durations.len() - 1)];
    (ms(at(50)), ms(at(99)), ms(*durations.last().unwrap()))
}

fn send_budget_ms() -> u64 {
    std::env::var("HOOKMETER_SEND_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Resident memory of a process, in KiB (VmRSS).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time a process has used (user + system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `) `.
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / per_sec)
}

/// "soft/hard" of a process's open-file limit, for the printed figures.
fn open_files_limit(pid: u32) -> String {
    let (soft, hard) = open_file_limits(pid);
    format!("{soft}/{hard}")
}

/// Raises this process's soft RLIMIT_NOFILE to at least `want` (up to the
/// hard limit); daemons spawned afterwards inherit it. Returns the soft limit.
fn raise_open_files(want: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write and read the struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    limit.rlim_cur
}

fn daemon_alive(daemon: &mut Daemon) -> bool {
    daemon.child.try_wait().unwrap().is_none()
}

fn assert_no_panic(home: &Home) {
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap_or_default();
    assert!(
        !log.contains("panicked"),
        "the daemon panicked:\n{}",
        log.lines()
            .filter(|l| l.contains("panicked"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// splitmix64: a small deterministic generator, so a printed seed replays
/// the same schedule of kills.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A duration in `[lo_ms, hi_ms)`.
    fn millis(&mut self, lo_ms: u64, hi_ms: u64) -> Duration {
        Duration::from_millis(lo_ms + self.next() % (hi_ms - lo_ms))
    }
}

fn fault_seed() -> u64 {
    match std::env::var("HOOKMETER_FAULT_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("HOOKMETER_FAULT_SEED={v:?} is not a number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// Names of `hookmeter send` spool files (`NANOS-PID.json`), as they appear
/// in the spool, seen by an inotify watcher: send's files are consumed within
/// milliseconds while the daemon is up, so a directory listing would miss them.
struct SpoolWatch {
    names: Arc<Mutex<HashSet<String>>>,
    /// The kernel's event queue overflowed: some names may be missing.
    overflows: Arc<AtomicUsize>,
    _watcher: notify::RecommendedWatcher,
}

impl SpoolWatch {
    fn start(dir: &Path) -> SpoolWatch {
        use notify::Watcher;
        std::fs::create_dir_all(dir).unwrap();
        let names = Arc::new(Mutex::new(HashSet::new()));
        let overflows = Arc::new(AtomicUsize::new(0));
        let (seen, lost) = (names.clone(), overflows.clone());
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if event.need_rescan() {
                    lost.fetch_add(1, Ordering::Relaxed);
                }
                for path in &event.paths {
                    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    let name = name.strip_suffix(".claimed").unwrap_or(name);
                    let stem = name.strip_suffix(".json").unwrap_or_default();
                    let send_file = stem.split_once('-').is_some_and(|(a, b)| {
                        [a, b]
                            .iter()
                            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
                    });
                    if send_file {
                        seen.lock().unwrap().insert(name.to_string());
                    }
                }
            })
            .unwrap();
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .unwrap();
        SpoolWatch {
            names,
            overflows,
            _watcher: watcher,
        }
    }

    fn seen(&self) -> usize {
        self.names.lock().unwrap().len()
    }
}

/// A socket client that behaves like `hookmeter send` without a process per
/// event: one line, its ack awaited within the budget; on anything but an
/// ack the event goes to the spool (dotfile, then rename) and the connection
/// is dropped (a late ack would answer the wrong line). Kept across events.
struct SendLikeClient<'h> {
    home: &'h Home,
    conn: Option<(UnixStream, std::io::BufReader<UnixStream>)>,
    budget: Duration,
}

#[derive(Debug, PartialEq, Eq)]
enum Delivered {
    Acked,
    Spooled,
}

impl SendLikeClient<'_> {
    fn deliver(&mut self, name: &str, line: &str) -> Delivered {
        match self.over_socket(line) {
            Some(ack) if ack["ok"] == true => Delivered::Acked,
            Some(ack) if ack["ok"] == false && ack["retry"] != true => {
                panic!("{name} rejected: {ack}")
            }
            _ => {
                self.conn = None;
                self.home
                    .spool_drop(&format!("{name}.json"), line.as_bytes());
                Delivered::Spooled
            }
        }
    }

    fn over_socket(&mut self, line: &str) -> Option<Value> {
        use std::io::BufRead;
        if self.conn.is_none() {
            let stream = UnixStream::connect(self.home.socket()).ok()?;
            stream.set_read_timeout(Some(self.budget)).ok()?;
            stream.set_write_timeout(Some(self.budget)).ok()?;
            let reader = std::io::BufReader::new(stream.try_clone().ok()?);
            self.conn = Some((stream, reader));
        }
        let (stream, reader) = self.conn.as_mut()?;
        stream.write_all(format!("{line}\n").as_bytes()).ok()?;
        let mut answer = String::new();
        match reader.read_line(&mut answer) {
            Ok(n) if n > 0 => serde_json::from_str(&answer).ok(),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// 1. kill -9 under load

#[test]
fn kill_9_under_load_loses_nothing_and_duplicates_nothing() {
    let _turn = serial();
    const SENDERS: usize = 8;
    const PER_SENDER: usize = 2_000;
    const KILLS: usize = 5;
    let seed = fault_seed();
    figures!(
        "FAULT kill9: seed={seed} (set HOOKMETER_FAULT_SEED={seed} to replay the kill schedule)"
    );

    // Half the senders run the real `hookmeter send`, a process per event;
    // the other half are socket clients that behave like it (16,000 process
    // starts of a debug build took 100-110 s on 2 busy cores).
    // HOOKMETER_FAULT_SEND_ONLY=1 makes every sender spawn `hookmeter send`.
    let real_senders = if std::env::var_os("HOOKMETER_FAULT_SEND_ONLY").is_some() {
        SENDERS
    } else {
        SENDERS / 2
    };
    let home = Home::new();
    let watch = SpoolWatch::start(&home.spool());
    let started = Instant::now();
    let senders_done = AtomicBool::new(false);
    let sends_lost = AtomicUsize::new(0);
    let client_spooled = AtomicUsize::new(0);
    let (daemon, kills, kills_under_load, down_total) = std::thread::scope(|s| {
        let killer = s.spawn(|| {
            let mut rng = Rng(seed);
            let mut daemon = home.start();
            let (mut kills, mut under_load) = (0, 0);
            let mut down_total = Duration::ZERO;
            while kills < KILLS {
                std::thread::sleep(rng.millis(500, 4_000));
                under_load += usize::from(!senders_done.load(Ordering::Relaxed));
                daemon.signal(libc::SIGKILL);
                let _ = daemon.child.wait();
                drop(daemon);
                kills += 1;
                let down = rng.millis(20, 1_500);
                std::thread::sleep(down);
                let restarting = Instant::now();
                daemon = home.start();
                down_total += down + restarting.elapsed();
            }
            (daemon, kills, under_load, down_total)
        });
        let senders: Vec<_> = (0..SENDERS)
            .map(|sender| {
                let (home, sends_lost, client_spooled) = (&home, &sends_lost, &client_spooled);
                s.spawn(move || {
                    let mut client = SendLikeClient {
                        home,
                        conn: None,
                        budget: Duration::from_millis(send_budget_ms()),
                    };
                    for seq in 0..PER_SENDER {
                        let id = format!("kill9-s{sender}-{seq:04}");
                        let line = payload(&id, seq as u64);
                        if sender >= real_senders {
                            if client.deliver(&id, &line) == Delivered::Spooled {
                                client_spooled.fetch_add(1, Ordering::Relaxed);
                            }
                            continue;
                        }
                        let (out, _) = timed_send(home, line.as_bytes());
                        assert_send_contract(&out, &id);
                        // send says something on stderr only when the event
                        // was neither acked nor spooled (or was rejected).
                        if !out.stderr.is_empty() {
                            sends_lost.fetch_add(1, Ordering::Relaxed);
                            eprintln!("{id}: {}", String::from_utf8_lossy(&out.stderr));
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        senders_done.store(true, Ordering::Relaxed);
        killer.join().unwrap()
    });
    let sending = started.elapsed();
    let mut daemon = daemon;
    let drained = wait_for(
        "the spool to drain after the last restart",
        Duration::from_secs(120),
        || home.spool_files().is_empty(),
        || {
            format!(
                "{} files left\n{}",
                home.spool_files().len(),
                daemon.run_log()
            )
        },
    );
    assert!(daemon_alive(&mut daemon));

    let want: BTreeSet<String> = (0..SENDERS)
        .flat_map(|s| (0..PER_SENDER).map(move |q| format!("kill9-s{s}-{q:04}")))
        .collect();
    let (rows, duplicates, missing) = assert_exactly_once(&home, "kill9-", &want);
    assert_eq!(integrity(&home), "ok");
    assert_eq!(rejected_rows(&home), 0, "rejected_events");
    assert!(
        home.rejected_files().is_empty(),
        "{:?}",
        home.rejected_files()
    );
    assert_eq!(
        sends_lost.load(Ordering::Relaxed),
        0,
        "sends that printed a failure"
    );
    assert!(kills >= 3);
    assert_no_panic(&home);
    figures!(
        "FAULT kill9: events={} senders={SENDERS} (via hookmeter send: {} events, via send-like socket clients: {}) \
         kills={kills} kills_under_load={kills_under_load} daemon_down_total={:.1}s \
         spooled: by send={} (files seen by inotify, overflows={}) by socket clients={} rows={rows} \
         duplicates={duplicates} missing={missing} integrity=ok rejected=0 \
         send_phase={:.1}s final_drain={:.1}s wall={:.1}s",
        want.len(),
        real_senders * PER_SENDER,
        (SENDERS - real_senders) * PER_SENDER,
        down_total.as_secs_f64(),
        watch.seen(),
        watch.overflows.load(Ordering::Relaxed),
        client_spooled.load(Ordering::Relaxed),
        sending.as_secs_f64(),
        drained.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}

// ---------------------------------------------------------------------------
// 2. The daemon down, then frozen

#[test]
fn send_with_no_daemon_spools_everything_within_budget_and_the_spool_drains_once() {
    let _turn = serial();
    const SENDS: usize = 500;
    let home = Home::new();
    assert!(!home.socket().exists());
    let mut durations = Vec::with_capacity(SENDS);
    let mut stderr_lines = 0;
    let want: BTreeSet<String> = (0..SENDS).map(|i| format!("down-{i:04}")).collect();
    for (i, id) in want.iter().enumerate() {
        let (out, took) = timed_send(&home, payload(id, i as u64).as_bytes());
        assert_send_contract(&out, id);
        stderr_lines += usize::from(!out.stderr.is_empty());
        durations.push(took);
    }
    let (p50, p99, max) = percentiles(&mut durations);
    let spooled: BTreeSet<String> = spooled_ids(&home).into_iter().collect();
    assert_eq!(home.spool_files().len(), SENDS, "one spool file per send");
    assert_eq!(spooled, want, "every payload waits in the spool");

    let started = Instant::now();
    let mut daemon = home.start();
    let drained = wait_for(
        "the spool to drain",
        Duration::from_secs(60),
        || home.spool_files().is_empty(),
        || daemon.run_log(),
    );
    let (rows, duplicates, missing) = assert_exactly_once(&home, "down-", &want);
    assert_eq!(rejected_rows(&home), 0);
    assert!(daemon_alive(&mut daemon));
    figures!(
        "FAULT daemon-down: sends={SENDS} exit0={SENDS} stdout_empty={SENDS} stderr_nonempty={stderr_lines} \
         send_ms p50={p50:.1} p99={p99:.1} max={max:.1} budget={} spooled={} rows={rows} \
         duplicates={duplicates} missing={missing} drain_after_start={:.2}s (start+drain {:.2}s)",
        send_budget_ms(),
        spooled.len(),
        drained.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}

/// A Unix stream connection attempt that never waits: `None` when the
/// listener's accept queue is full (EAGAIN).
fn connect_nonblocking(path: &Path) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: a zeroed sockaddr_un is valid; the path is copied within bounds;
    // the fd returned by socket() is owned by the OwnedFd from here on.
    unsafe {
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_bytes();
        assert!(bytes.len() < addr.sun_path.len());
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
        let rc = libc::connect(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            (&addr as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        );
        if rc == 0 {
            return Some(fd);
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "connect: {e}");
        None
    }
}

#[test]
fn send_to_a_frozen_daemon_spools_within_budget_and_after_sigcont_each_event_lands_once() {
    let _turn = serial();
    const THREADS: usize = 16;
    const PER_THREAD: usize = 32;
    const AFTER_BACKLOG: usize = 8;
    raise_open_files(8192);
    let home = Home::new();
    let mut daemon = home.start();
    // Stopped for certain before the first send: a daemon still running
    // would ack (and commit) the first sends, and they would rightly not
    // be in the spool.
    daemon.freeze();

    let durations = Mutex::new(Vec::new());
    let stderr_lines = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (home, durations, stderr_lines) = (&home, &durations, &stderr_lines);
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let id = format!("frozen-{t:02}-{i:02}");
                    let (out, took) = timed_send(home, payload(&id, i as u64).as_bytes());
                    assert_send_contract(&out, &id);
                    if !out.stderr.is_empty() {
                        stderr_lines.fetch_add(1, Ordering::Relaxed);
                    }
                    durations.lock().unwrap().push(took);
                }
            });
        }
    });
    let mut durations = durations.into_inner().unwrap();
    let sends = durations.len();
    let (p50, p99, max) = percentiles(&mut durations);
    let mut want: BTreeSet<String> = (0..THREADS)
        .flat_map(|t| (0..PER_THREAD).map(move |i| format!("frozen-{t:02}-{i:02}")))
        .collect();
    let spooled: BTreeSet<String> = spooled_ids(&home).into_iter().collect();
    assert_eq!(spooled, want, "every payload waits in the spool");

    // Every send above left a connection in the frozen daemon's accept
    // queue. Fill the rest of the queue: the next connect would wait for
    // room, and a send must still give up within its budget, not hang.
    let mut queued = Vec::new();
    while let Some(fd) = connect_nonblocking(&home.socket()) {
        queued.push(fd);
        assert!(queued.len() < 100_000, "the accept queue never filled");
    }
    let backlog_fill = queued.len();
    let hung = AtomicUsize::new(0);
    let full_queue_durations = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for i in 0..AFTER_BACKLOG {
            let (home, hung, full_queue_durations) = (&home, &hung, &full_queue_durations);
            s.spawn(move || {
                let id = format!("frozen-full-{i}");
                let started = Instant::now();
                let mut child = home
                    .command()
                    .args(["send", "--agent", "faults"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(payload(&id, i as u64).as_bytes())
                    .unwrap();
                // Not a timing check: a send still running after PATIENCE
                // (100 times its budget) is stuck, and would block the hook.
                loop {
                    if let Some(status) = child.try_wait().unwrap() {
                        assert_eq!(status.code(), Some(0), "{id}");
                        break;
                    }
                    if started.elapsed() > PATIENCE {
                        hung.fetch_add(1, Ordering::Relaxed);
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                full_queue_durations.lock().unwrap().push(started.elapsed());
            });
        }
    });
    let hung = hung.load(Ordering::Relaxed);
    let mut full_queue_durations = full_queue_durations.into_inner().unwrap();
    let (_, _, full_max) = percentiles(&mut full_queue_durations);
    drop(queued);
    figures!(
        "FAULT daemon-frozen: accept queue filled with {backlog_fill} more connections after {sends} sends; \
         then {AFTER_BACKLOG} sends: hung={hung} (still running after {PATIENCE:?}) max_ms={full_max:.1}"
    );
    assert_eq!(
        hung, 0,
        "`hookmeter send` hung in connect() while the frozen daemon's accept queue was full"
    );
    want.extend((0..AFTER_BACKLOG).map(|i| format!("frozen-full-{i}")));
    let spooled_total = spooled_ids(&home).len();
    assert_eq!(
        spooled_total,
        want.len(),
        "every payload waits in the spool"
    );

    daemon.signal(libc::SIGCONT);
    let drained = wait_for(
        "the spool to drain after SIGCONT",
        Duration::from_secs(90),
        || home.spool_files().is_empty(),
        || daemon.run_log(),
    );
    let (rows, duplicates, missing) = assert_exactly_once(&home, "frozen-", &want);
    assert_eq!(rejected_rows(&home), 0);
    assert!(daemon_alive(&mut daemon));
    // The queued connections' lines were committed too (or refused over the
    // connection cap): idempotency kept each event to one row.
    let refused = daemon.run_log().matches("too many at once").count();
    assert_no_panic(&home);
    figures!(
        "FAULT daemon-frozen: sends={sends} exit0={sends} stdout_empty={sends} stderr_nonempty={} \
         send_ms p50={p50:.1} p99={p99:.1} max={max:.1} budget={} spooled={} \
         sends_with_full_accept_queue={AFTER_BACKLOG} hung={hung} max_ms={full_max:.1} \
         refused_after_sigcont={refused} rows={rows} duplicates={duplicates} missing={missing} drain_after_sigcont={:.2}s",
        stderr_lines.load(Ordering::Relaxed),
        send_budget_ms(),
        spooled_total,
        drained.as_secs_f64(),
    );
}

// ---------------------------------------------------------------------------
// 3. Disk full

/// A tmpfs mounted for one test, unmounted when dropped (panics included).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        if uid != 0 {
            return Err(format!("running as uid {uid}"));
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let target = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        let options = std::ffi::CString::new(format!("size={size},mode=0700")).unwrap();
        // SAFETY: every pointer is a valid NUL-terminated string we own.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        if rc != 0 {
            return Err(format!(
                "mount -t tmpfs on {} failed: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        use std::os::unix::ffi::OsStrExt;
        let target = std::ffi::CString::new(self.dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; a busy mount is detached lazily.
        unsafe {
            if libc::umount2(target.as_ptr(), 0) != 0 {
                libc::umount2(target.as_ptr(), libc::MNT_DETACH);
            }
        }
    }
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Fills the file system under `dir` with a ballast file, then gives
/// `reserve` bytes back. Returns the ballast's path and size.
fn ballast(dir: &Path, reserve: u64) -> (PathBuf, u64) {
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("ballast: {e}"),
        }
    }
    let full = file.metadata().unwrap().len();
    file.set_len(full.saturating_sub(reserve)).unwrap();
    file.sync_all().unwrap();
    (path, full.saturating_sub(reserve))
}

fn free_bytes(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: statvfs fills the struct we own from a valid path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(path.as_ptr(), &mut st), 0);
        st.f_bavail as u64 * st.f_frsize as u64
    }
}

#[test]
fn a_full_disk_never_acks_without_a_commit_and_everything_lands_once_space_returns() {
    let _turn = serial();
    let home = Home::new();
    // Only the database lives on the tmpfs; socket, spool and log do not.
    // 16 MiB, not less: the WAL grows to ~4 MiB before its first automatic
    // checkpoint, so a smaller disk could not hold a healthy database either.
    let db_dir = home.db_path().parent().unwrap().to_path_buf();
    let _tmpfs = match Tmpfs::mount(&db_dir, "16m") {
        Ok(mounted) => mounted,
        Err(why) if !ci() => {
            figures!("SKIPPED disk-full test: needs root to mount a tmpfs ({why})");
            return;
        }
        Err(why) => panic!("disk-full test cannot run in CI: needs root to mount a tmpfs ({why})"),
    };
    home.write_config("[limits]\nspool_rescan_secs = 1\n");
    let mut daemon = home.start();
    let mut client = daemon.connect();
    let mut ok_ids = BTreeSet::new();
    for i in 0..20 {
        let id = format!("full-warm-{i:02}");
        assert_eq!(client.roundtrip(payload(&id, i).as_bytes())["ok"], true);
        ok_ids.insert(id);
    }
    let (ballast_path, ballast_bytes) = ballast(&db_dir, 128 * 1024);
    let free_at_start = free_bytes(&db_dir);

    // A client that behaves like send: an event with an error ack is kept,
    // written to the spool (tmp, then rename).
    let mut error_acks = BTreeSet::new();
    let mut first_error = None;
    let mut sent = 0u64;
    let mut other_answers = Vec::new();
    while error_acks.len() < 50 {
        assert!(
            sent < 20_000,
            "the disk never filled: {sent} events all acked"
        );
        let id = format!("full-sock-{sent:05}");
        let line = payload(&id, sent);
        let ack = client
            .try_roundtrip(line.as_bytes())
            .unwrap_or_else(|| panic!("no ack for {id}:\n{}", daemon.run_log()));
        sent += 1;
        match (ack["ok"].as_bool(), ack["retry"].as_bool()) {
            (Some(true), _) => {
                ok_ids.insert(id);
            }
            (Some(false), Some(true)) => {
                first_error.get_or_insert_with(|| ack["error"].to_string());
                home.spool_drop(&format!("{id}.json"), line.as_bytes());
                error_acks.insert(id);
            }
            _ => other_answers.push(ack),
        }
    }
    assert!(
        other_answers.is_empty(),
        "unexpected answers: {other_answers:?}"
    );
    // And the real send, which must spool what the daemon cannot commit.
    let mut send_ids = BTreeSet::new();
    for i in 0..20 {
        let id = format!("full-send-{i:02}");
        let (out, _) = timed_send(&home, payload(&id, i).as_bytes());
        assert_send_contract(&out, &id);
        assert!(
            out.stderr.is_empty(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        send_ids.insert(id);
    }

    // While full: acked means committed; the rest waits in the spool.
    let log_before = daemon.run_log();
    let cpu_before = cpu_time(daemon.child.id());
    std::thread::sleep(Duration::from_secs(3));
    let cpu_in_3s = cpu_time(daemon.child.id()) - cpu_before;
    let log_in_3s = daemon.run_log()[log_before.len()..].to_string();
    let put_backs_in_3s = log_in_3s.matches("Spool file not stored").count();
    let failed_commits_in_3s = log_in_3s.matches("Could not commit a batch").count();
    assert!(daemon_alive(&mut daemon), "the daemon died on a full disk");
    // Freeze the daemon so the spool (claims, put-backs, deletions after a
    // commit) and the database hold still while both are read.
    daemon.freeze();
    let waiting: BTreeSet<String> = spooled_ids(&home).into_iter().collect();
    let stored: BTreeSet<String> = record_ids(&home, "full-")
        .into_iter()
        .map(|r| r.0)
        .collect();
    let integrity_while_full = integrity(&home);
    daemon.signal(libc::SIGCONT);
    let acked_not_stored: Vec<_> = ok_ids.difference(&stored).collect();
    assert!(
        acked_not_stored.is_empty(),
        "acked but not in the database: {acked_not_stored:?}"
    );
    assert_eq!(integrity_while_full, "ok", "integrity while full");
    let should_wait: BTreeSet<String> = error_acks.union(&send_ids).cloned().collect();
    let not_waiting: Vec<_> = should_wait
        .iter()
        .filter(|id| !waiting.contains(*id) && !stored.contains(*id))
        .collect();
    assert!(
        not_waiting.is_empty(),
        "neither stored nor in the spool: {not_waiting:?}"
    );
    assert!(
        home.rejected_files().is_empty(),
        "{:?}",
        home.rejected_files()
    );
    assert_eq!(rejected_rows(&home), 0);
    let committed_while_full = should_wait.intersection(&stored).count();

    let recovering = Instant::now();
    std::fs::remove_file(&ballast_path).unwrap();
    let drained = wait_for(
        "the spool to drain once space is back",
        Duration::from_secs(60),
        || home.spool_files().is_empty(),
        || format!("{:?}\n{}", home.spool_files(), daemon.run_log()),
    );
    // The socket takes new events again.
    let id = "full-after".to_string();
    assert_eq!(client.roundtrip(payload(&id, 0).as_bytes())["ok"], true);
    ok_ids.insert(id);
    let all: BTreeSet<String> = ok_ids.union(&should_wait).cloned().collect();
    let (rows, duplicates, missing) = assert_exactly_once(&home, "full-", &all);
    assert_eq!(integrity(&home), "ok");
    assert_eq!(rejected_rows(&home), 0);
    assert!(home.rejected_files().is_empty());
    assert!(daemon_alive(&mut daemon));
    assert_no_panic(&home);
    let failed_commits = daemon.run_log().matches("Could not commit a batch").count();
    figures!(
        "FAULT disk-full: tmpfs=16MiB ballast={}KiB free_after_ballast={}KiB socket_events={sent} \
         ok_acks={} error_acks={} (first: {}) send_spooled={} waiting_in_spool={} committed_while_full={committed_while_full} \
         failed_commits_logged={failed_commits} while idle and full for 3s: spool_put_backs={put_backs_in_3s} \
         failed_commits={failed_commits_in_3s} daemon_cpu={:.2}s \
         integrity_while_full=ok rejected=0 rows_after_recovery={rows} duplicates={duplicates} missing={missing} \
         drain_after_space_returned={:.2}s (total {:.2}s)",
        ballast_bytes / 1024,
        free_at_start / 1024,
        ok_ids.len() - 1,
        error_acks.len(),
        first_error.unwrap_or_default(),
        send_ids.len(),
        waiting.len(),
        cpu_in_3s.as_secs_f64(),
        drained.as_secs_f64(),
        recovering.elapsed().as_secs_f64(),
    );
}

// ---------------------------------------------------------------------------
// 4. A long reader

fn wal_file(home: &Home) -> PathBuf {
    PathBuf::from(format!("{}-wal", home.db_path().display()))
}

/// (WAL size in bytes, its checkpoint sequence number: bumped each time
/// the WAL restarts from its beginning).
fn wal_state(home: &Home) -> (u64, u32) {
    let mut header = [0u8; 16];
    let path = wal_file(home);
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let seq = std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_or(0, |()| {
            u32::from_be_bytes(header[12..16].try_into().unwrap())
        });
    (size, seq)
}

#[test]
fn a_long_read_transaction_does_not_stop_acks_and_the_wal_restarts_after_it() {
    let _turn = serial();
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 600;
    const HOLD: Duration = Duration::from_secs(6);
    let home = Home::new();
    let mut daemon = home.start();
    let mut client = daemon.connect();
    for i in 0..50 {
        let ack = client.roundtrip(payload(&format!("reader-before-{i:02}"), i).as_bytes());
        assert_eq!(ack["ok"], true);
    }
    let wal_before = wal_state(&home);

    let reader = home.db();
    reader.execute_batch("BEGIN").unwrap();
    let seen_at_start: i64 = reader
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    let held = Instant::now();
    // A burst from several clients, each waiting for every ack...
    let latencies = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let (daemon, latencies) = (&daemon, &latencies);
            s.spawn(move || {
                let mut client = daemon.connect();
                for i in 0..PER_CLIENT {
                    let id = format!("reader-hold-{c}-{i:04}");
                    let asked = Instant::now();
                    let ack = client.roundtrip(payload(&id, i as u64).as_bytes());
                    assert_eq!(ack["ok"], true, "{id}: {ack}");
                    latencies.lock().unwrap().push(asked.elapsed());
                }
            });
        }
    });
    let burst = held.elapsed();
    let mut latencies = latencies.into_inner().unwrap();
    let acked = latencies.len();
    let (lat_p50, lat_p99, lat_max) = percentiles(&mut latencies);
    let wal_after_burst = wal_state(&home);
    // ...then a trickle for the rest of the hold: acks keep coming late in it.
    let mut trickle = 0;
    while held.elapsed() < HOLD {
        let id = format!("reader-trickle-{trickle:04}");
        assert_eq!(
            client.roundtrip(payload(&id, trickle).as_bytes())["ok"],
            true
        );
        trickle += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let wal_during = wal_state(&home);
    // The snapshot holds: the reader still sees what it saw at BEGIN.
    let seen_now: i64 = reader
        .query_row("SELECT count(*) FROM cost_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        seen_now, seen_at_start,
        "the read transaction's snapshot moved"
    );
    let hold = held.elapsed();
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);

    // More writes after the release let a checkpoint finish and the WAL restart.
    let mut after = Vec::new();
    for round in 0..20 {
        for i in 0..100 {
            let id = format!("reader-after-{round:02}-{i:03}");
            assert_eq!(client.roundtrip(payload(&id, i).as_bytes())["ok"], true);
        }
        after.push(wal_state(&home));
        if wal_state(&home).1 > wal_during.1 {
            break;
        }
    }
    let wal_after = *after.last().unwrap();
    let after_events = after.len() * 100;

    let mut want: BTreeSet<String> = (0..50).map(|i| format!("reader-before-{i:02}")).collect();
    want.extend(
        (0..CLIENTS).flat_map(|c| (0..PER_CLIENT).map(move |i| format!("reader-hold-{c}-{i:04}"))),
    );
    want.extend((0..trickle).map(|i| format!("reader-trickle-{i:04}")));
    for (round, _) in after.iter().enumerate() {
        want.extend((0..100).map(|i| format!("reader-after-{round:02}-{i:03}")));
    }
    let (rows, duplicates, missing) = assert_exactly_once(&home, "reader-", &want);
    assert_eq!(integrity(&home), "ok");
    assert!(daemon_alive(&mut daemon));
    let kib = |b: u64| b / 1024;
    figures!(
        "FAULT long-reader: hold={:.1}s events_during_hold={} acked={} (burst {acked} from {CLIENTS} clients in {:.2}s = {:.0} acks/s, \
         ack_ms p50={lat_p50:.1} p99={lat_p99:.1} max={lat_max:.1}; then {trickle} at 10/s) reader_snapshot_unchanged=yes \
         wal_kib before={} after_burst={} end_of_hold={} after_release+{after_events}_events={} \
         wal_restarts(checkpoint_seq) before={} during={} after={} rows={rows} duplicates={duplicates} missing={missing}",
        hold.as_secs_f64(),
        acked + trickle as usize,
        acked + trickle as usize,
        burst.as_secs_f64(),
        acked as f64 / burst.as_secs_f64(),
        kib(wal_before.0),
        kib(wal_after_burst.0),
        kib(wal_during.0),
        kib(wal_after.0),
        wal_before.1,
        wal_during.1,
        wal_after.1,
    );
}

// ---------------------------------------------------------------------------
// 5. A flood of connections and a slow client

#[test]
fn a_thousand_connections_and_a_slow_client_do_not_stop_an_ordinary_client() {
    let _turn = serial();
    const FLOOD: usize = 1_000;
    const CAP: usize = 500;
    const IDLE_SECS: u64 = 5;
    let nofile = raise_open_files(4096);
    let home = Home::new();
    home.write_config(&format!(
        "[limits]\nmax_connections = {CAP}\nidle_timeout_secs = {IDLE_SECS}\n"
    ));
    let mut daemon = home.start();
    let pid = daemon.child.id();
    let daemon_nofile = open_files_limit(pid);

    // The ordinary client: one event every 50 ms on its own connection, all along.
    let stop = AtomicBool::new(false);
    let ordinary_ids = Mutex::new(Vec::new());
    let mut ordinary = daemon.connect();
    assert_eq!(
        ordinary.roundtrip(payload("conn-ordinary-warm", 0).as_bytes())["ok"],
        true
    );
    let slow_line = br#"{"event_id":"conn-slow","usage":{"input_tokens":1,"output_tokens":1}}"#;
    let mut slow = UnixStream::connect(home.socket()).unwrap();
    let rss_before = rss_kib(pid);

    let (flood_figures, slow_written, slow_answer) = std::thread::scope(|s| {
        let (stop, ordinary_ids, daemon) = (&stop, &ordinary_ids, &daemon);
        s.spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("conn-ordinary-{i:05}");
                let ack = ordinary.roundtrip(payload(&id, i).as_bytes());
                assert_eq!(ack["ok"], true, "{id}: {ack}\n{}", daemon.run_log());
                ordinary_ids.lock().unwrap().push(id);
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        // The slow client: one byte per second, never a whole line.
        let slow_client = s.spawn(move || {
            slow.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let (mut written, mut answer) = (0, Vec::new());
            let mut buf = [0u8; 512];
            'bytes: for byte in slow_line {
                if slow.write_all(&[*byte]).is_err() {
                    break;
                }
                written += 1;
                loop {
                    match slow.read(&mut buf) {
                        Ok(0) => break 'bytes,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            break
                        }
                        Err(_) => break 'bytes,
                    }
                }
            }
            (written, String::from_utf8_lossy(&answer).into_owned())
        });

        // The flood: FLOOD connections at once, none of them saying anything.
        let flooding = Instant::now();
        let mut conns: Vec<(UnixStream, Vec<u8>, bool)> = (0..FLOOD)
            .map(|_| {
                let c = UnixStream::connect(home.socket()).expect("connect");
                c.set_nonblocking(true).unwrap();
                (c, Vec::new(), false)
            })
            .collect();
        let opened_in = flooding.elapsed();
        // A hook firing while the cap is reached: refused, so it spools.
        let (out, _) = timed_send(&home, payload("conn-send-during-flood", 0).as_bytes());
        assert_send_contract(&out, "send during the flood");

        let read_all = |conns: &mut Vec<(UnixStream, Vec<u8>, bool)>| {
            let mut buf = [0u8; 1024];
            for (c, got, eof) in conns.iter_mut().filter(|c| !c.2) {
                loop {
                    match c.read(&mut buf) {
                        Ok(0) => {
                            *eof = true;
                            break;
                        }
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => {
                            *eof = true;
                            break;
                        }
                    }
                }
            }
        };
        let refusal = |got: &[u8]| String::from_utf8_lossy(got).contains("too many connections");
        // Over the cap (the ordinary and the slow client hold two places):
        // a refusal line, then the connection is closed.
        let expect_refused = FLOOD - (CAP - 2);
        let mut refused_line = String::new();
        wait_for(
            "the refusals over max_connections",
            PATIENCE,
            || {
                read_all(&mut conns);
                conns.iter().filter(|c| refusal(&c.1)).count() >= expect_refused
            },
            || daemon.run_log(),
        );
        let rss_peak = rss_kib(pid);
        read_all(&mut conns);
        let refused = conns.iter().filter(|c| refusal(&c.1)).count();
        let accepted = conns.iter().filter(|c| c.1.is_empty() && !c.2).count();
        for c in conns.iter().filter(|c| refusal(&c.1)) {
            refused_line = String::from_utf8_lossy(&c.1).trim().to_string();
            let line: Value = serde_json::from_str(&refused_line).unwrap();
            assert_eq!(
                (&line["ok"], &line["retry"]),
                (&json!(false), &json!(true)),
                "{refused_line}"
            );
        }
        // The silent ones are closed at the idle timeout, with a reason.
        wait_for(
            "idle connections to be closed",
            PATIENCE,
            || {
                read_all(&mut conns);
                conns.iter().all(|c| c.2)
            },
            || daemon.run_log(),
        );
        let idle_closed = conns
            .iter()
            .filter(|c| String::from_utf8_lossy(&c.1).contains("no complete line"))
            .count();
        let (slow_written, slow_answer) = slow_client.join().unwrap();
        // Room again: a new connection is served.
        let mut late = daemon.connect();
        assert_eq!(
            late.roundtrip(payload("conn-late", 0).as_bytes())["ok"],
            true
        );
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        (
            (
                opened_in,
                refused,
                accepted,
                idle_closed,
                refused_line,
                rss_peak,
            ),
            slow_written,
            slow_answer,
        )
    });
    let (opened_in, refused, accepted, idle_closed, refused_line, rss_peak) = flood_figures;
    assert_eq!(refused, FLOOD - (CAP - 2), "refused over the cap");
    assert_eq!(accepted, CAP - 2, "accepted up to the cap");
    assert_eq!(
        idle_closed, accepted,
        "every silent connection closed at the idle timeout"
    );
    wait_for(
        "the spooled send to land",
        PATIENCE,
        || home.spool_files().is_empty(),
        || daemon.run_log(),
    );
    let rss_after = rss_kib(pid);

    // The slow client's bytes are kept, with the reason.
    assert!(
        slow_answer.contains("no complete line"),
        "slow client got {slow_answer:?}"
    );
    let kept: Vec<(String, String)> = home
        .db()
        .prepare("SELECT raw_text, reason_code FROM rejected_events")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kept.len(),
        1,
        "only the slow client's bytes are rejected: {kept:?}"
    );
    let (raw, code) = &kept[0];
    assert_eq!(code, "idle_timeout");
    assert!(
        !raw.is_empty() && slow_line.starts_with(raw.as_bytes()),
        "{raw:?}"
    );

    let mut want: BTreeSet<String> = ordinary_ids.into_inner().unwrap().into_iter().collect();
    let ordinary_acked = want.len();
    want.extend(["conn-ordinary-warm", "conn-late", "conn-send-during-flood"].map(String::from));
    let (rows, duplicates, missing) = assert_exactly_once(&home, "conn-", &want);
    assert!(daemon_alive(&mut daemon), "the daemon died");
    assert_no_panic(&home);
    figures!(
        "FAULT connections: opened={FLOOD} (in {:.0} ms) max_connections={CAP} accepted={accepted} \
         refused={refused} idle_closed={idle_closed} after {IDLE_SECS}s; slow client closed after \
         {slow_written} bytes written, {} kept in rejected_events (idle_timeout); ordinary events acked={ordinary_acked} \
         send_during_flood=spooled+landed rows={rows} duplicates={duplicates} missing={missing} \
         daemon_rss_kib before={rss_before} peak={rss_peak} after={rss_after} \
         nofile test={nofile} daemon={daemon_nofile}; refusal line: {refused_line}",
        opened_in.as_secs_f64() * 1000.0,
        raw.len(),
    );
}

/// The daemon does not raise its own RLIMIT_NOFILE, so `max_connections`
/// can exceed what its descriptor limit allows (the default 512 socket and
/// 512 HTTP connections against a soft limit of 1024 under systemd). Here the
/// daemon runs with a limit of 64 and a flood of connections takes them all.
#[test]
fn a_daemon_out_of_file_descriptors_keeps_serving_and_loses_nothing() {
    use std::os::unix::process::CommandExt;
    let _turn = serial();
    const FD_LIMIT: u64 = 64;
    const FLOOD: usize = 200;
    const SPOOLED: usize = 20;
    const SENDS: usize = 5;
    raise_open_files(4096);
    let home = Home::new();
    home.write_config("[limits]\nidle_timeout_secs = 2\nspool_rescan_secs = 1\n");
    let mut daemon = home.start_with(|cmd| {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: FD_LIMIT,
                    rlim_max: FD_LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let pid = daemon.child.id();
    let fds_at_start = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let mut ordinary = daemon.connect();
    assert_eq!(
        ordinary.roundtrip(payload("fd-ordinary-warm", 0).as_bytes())["ok"],
        true
    );

    // Connections the daemon cannot all accept: the rest wait in its queue.
    let flood: Vec<_> = (0..FLOOD)
        .filter_map(|_| connect_nonblocking(&home.socket()))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let fds_flooded = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());

    // Out of descriptors: the ordinary client is still served, hooks spool.
    let mut ordinary_acked = 0;
    for i in 0..20 {
        let id = format!("fd-ordinary-{i:02}");
        assert_eq!(
            ordinary.roundtrip(payload(&id, i).as_bytes())["ok"],
            true,
            "{id}"
        );
        ordinary_acked += 1;
    }
    for i in 0..SPOOLED {
        let id = format!("fd-spool-{i:02}");
        home.spool_drop(&format!("{id}.json"), payload(&id, i as u64).as_bytes());
    }
    let mut send_durations = Vec::new();
    for i in 0..SENDS {
        let id = format!("fd-send-{i}");
        let (out, took) = timed_send(&home, payload(&id, i as u64).as_bytes());
        assert_send_contract(&out, &id);
        send_durations.push(took);
    }
    let (_, _, send_max) = percentiles(&mut send_durations);
    drop(flood);
    let drained = wait_for(
        "the spool to drain once descriptors are free again",
        Duration::from_secs(60),
        || home.spool_files().is_empty(),
        || daemon.run_log(),
    );
    // Descriptors are free again: a new connection is served (the ordinary
    // one has been closed by the idle timeout meanwhile).
    let id = "fd-ordinary-after".to_string();
    let mut late = daemon.connect();
    assert_eq!(late.roundtrip(payload(&id, 0).as_bytes())["ok"], true);

    let mut want: BTreeSet<String> = (0..20).map(|i| format!("fd-ordinary-{i:02}")).collect();
    want.extend(["fd-ordinary-warm".to_string(), id]);
    want.extend((0..SPOOLED).map(|i| format!("fd-spool-{i:02}")));
    want.extend((0..SENDS).map(|i| format!("fd-send-{i}")));
    let (rows, duplicates, missing) = assert_exactly_once(&home, "fd-", &want);
    assert_eq!(rejected_rows(&home), 0);
    assert!(
        home.rejected_files().is_empty(),
        "{:?}",
        home.rejected_files()
    );
    assert!(daemon_alive(&mut daemon));
    assert_no_panic(&home);
    let log = daemon.run_log();
    figures!(
        "FAULT fd-limit: daemon nofile={} fds at start={fds_at_start} after flood={fds_flooded} flood={FLOOD} \
         accept_emfile_warnings={} spool_dir_read_errors={} ordinary acked={ordinary_acked}/20 \
         sends={SENDS} (spooled, max {send_max:.0} ms) spool_drops={SPOOLED} rows={rows} duplicates={duplicates} \
         missing={missing} rejected=0 drain_after_flood_closed={:.2}s",
        open_files_limit(pid),
        log.matches("Could not accept a socket connection").count(),
        log.matches("Cannot read the spool directory").count(),
        drained.as_secs_f64(),
    );
}
