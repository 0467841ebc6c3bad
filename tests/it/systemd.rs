//! hookmeter under systemd (docs/systemd.md): the unit files pass
//! `systemd-analyze verify`, the daemon speaks the notify protocol to a
//! real `NOTIFY_SOCKET`, and it serves a listener passed the way socket
//! activation passes it (`LISTEN_FDS`, `LISTEN_PID`, fd 3).

use crate::common;

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{succeed, wait_until, Daemon, Home, BIN, PATIENCE};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `systemd-analyze`, or `None` (with a plain message) where it is missing.
/// Under CI it must be there: `.ci/run` installs Debian's `systemd`.
fn systemd_analyze() -> Option<PathBuf> {
    let found = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing under CI; .ci/run installs Debian's systemd package"
        );
        eprintln!("NOT RUN: systemd-analyze is not installed (Debian package systemd); the unit files were not verified");
    }
    found
}

/// A unit file copied into `dir` with its ExecStart pointing at the binary
/// under test: verify checks that the command exists and is executable.
fn unit_copy(dir: &Path, unit: &str, binary_in_unit: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("systemd").join(unit)).unwrap();
    assert!(
        text.contains(binary_in_unit),
        "{unit} does not run {binary_in_unit}"
    );
    let name = Path::new(unit).file_name().unwrap();
    let copy = dir.join(name);
    std::fs::write(&copy, text.replace(binary_in_unit, BIN)).unwrap();
    copy
}

/// Runs systemd-analyze; verify's warnings (an unknown key, a misspelt
/// system call group) go to its output with exit status 0, so silence is
/// the pass mark, not the status alone.
fn analyze(analyze: &Path, args: &[&std::ffi::OsStr], runtime_dir: &Path) -> (bool, String) {
    let out = Command::new(analyze)
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.trim().is_empty(), text)
}

#[test]
fn unit_files_pass_systemd_analyze_verify() {
    let Some(tool) = systemd_analyze() else {
        return;
    };
    let home = Home::new();
    let runtime = home.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let system = home.path().join("system");
    let user = home.path().join("user");
    std::fs::create_dir_all(&system).unwrap();
    std::fs::create_dir_all(&user).unwrap();
    let service = unit_copy(&system, "hookmeter.service", "/usr/local/bin/hookmeter");
    let socket = unit_copy(&system, "hookmeter.socket", "/run/hookmeter/hookmeter.sock");
    let user_service = unit_copy(&user, "user/hookmeter.service", "%h/.cargo/bin/hookmeter");

    let (ok, out) = analyze(
        &tool,
        &["verify".as_ref(), service.as_os_str(), socket.as_os_str()],
        &runtime,
    );
    assert!(ok, "systemd-analyze verify of the system units:\n{out}");
    let (ok, out) = analyze(
        &tool,
        &[
            "--user".as_ref(),
            "verify".as_ref(),
            user_service.as_os_str(),
        ],
        &runtime,
    );
    assert!(ok, "systemd-analyze --user verify of the user unit:\n{out}");

    // The check can fail: a misspelt key is reported.
    let broken = system.join("broken.service");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&service)
            .unwrap()
            .replace("Type=notify", "Typ=notify"),
    )
    .unwrap();
    let (ok, out) = analyze(&tool, &["verify".as_ref(), broken.as_os_str()], &runtime);
    assert!(!ok && out.contains("Typ"), "a broken unit passed:\n{out}");

    // What the issue asks of the system unit is there, not just valid.
    let text = std::fs::read_to_string(repo().join("systemd/hookmeter.service")).unwrap();
    for setting in [
        "Type=notify",
        "WatchdogSec=",
        "User=hookmeter",
        "StateDirectory=hookmeter",
        "RuntimeDirectory=hookmeter",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=",
        "SystemCallFilter=@system-service",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(setting)),
            "hookmeter.service lacks {setting}"
        );
    }

    // The account the system unit runs as, created from the sysusers file
    // in a scratch root.
    let sysusers = Path::new("/usr/bin/systemd-sysusers");
    if sysusers.exists() {
        let root = home.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        succeed(
            Command::new(sysusers)
                .arg(format!("--root={}", root.display()))
                .arg(repo().join("systemd/hookmeter.sysusers")),
        );
        let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
        assert!(
            passwd
                .lines()
                .any(|l| l.starts_with("hookmeter:") && l.contains(":/var/lib/hookmeter:")),
            "{passwd}"
        );
    } else {
        eprintln!("NOT RUN: systemd-sysusers is missing; systemd/hookmeter.sysusers was not tried");
    }
}

/// `hookmeter serve` started through `sh`, which sets `vars` to its own
/// pid before exec'ing the daemon: the pid systemd would write into
/// `LISTEN_PID`/`WATCHDOG_PID` is the daemon's.
fn serve_as_systemd_would(
    home: &Home,
    pid_vars: &[&str],
    adjust: impl FnOnce(&mut Command),
) -> Daemon {
    let inner = home.command();
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear();
    for (key, value) in inner.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    let exports: String = pid_vars
        .iter()
        .map(|v| format!("export {v}=$$; "))
        .collect();
    cmd.arg("-c")
        .arg(format!("{exports}exec \"$0\" serve"))
        .arg(BIN);
    adjust(&mut cmd);
    home.spawn_command(&mut cmd)
}

/// Notification lines (`KEY=value`) as received, consumed in order.
struct NotifyListener {
    socket: UnixDatagram,
    unread: std::collections::VecDeque<String>,
    seen: Vec<String>,
}

impl NotifyListener {
    fn bind(path: &Path) -> NotifyListener {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        NotifyListener {
            socket,
            unread: Default::default(),
            seen: Vec::new(),
        }
    }

    /// Consumes lines until one satisfies `wanted`, and returns it.
    fn until(&mut self, what: &str, daemon: &Daemon, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = [0u8; 4096];
        loop {
            while let Some(line) = self.unread.pop_front() {
                if wanted(&line) {
                    return line;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {what} from the daemon; received {:?}\n{}",
                self.seen,
                daemon.run_log()
            );
            if let Ok(n) = self.socket.recv(&mut buf) {
                for line in String::from_utf8_lossy(&buf[..n]).lines() {
                    self.seen.push(line.to_string());
                    self.unread.push_back(line.to_string());
                }
            }
        }
    }

    fn count(&self, line: &str) -> usize {
        self.seen.iter().filter(|l| *l == line).count()
    }
}

fn first_payload() -> Vec<u8> {
    common::hook_fixtures()
        .into_iter()
        .find(|(_, _, cost)| cost.is_some())
        // One line: the socket speaks NDJSON.
        .map(|(_, bytes, _)| {
            serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
                .unwrap()
        })
        .expect("a fixture with a cost")
}

#[test]
fn notify_socket_gets_ready_status_watchdog_reloading_and_stopping() {
    let home = Home::new();
    let notify_path = home.path().join("notify.sock");
    let mut notify = NotifyListener::bind(&notify_path);
    let daemon = serve_as_systemd_would(&home, &["WATCHDOG_PID"], |cmd| {
        cmd.env("NOTIFY_SOCKET", &notify_path)
            .env("WATCHDOG_USEC", "400000");
    });

    notify.until("READY=1", &daemon, |l| l == "READY=1");
    // At READY the socket answers and the database has its schema.
    let mut client = daemon.connect();
    assert_eq!(client.roundtrip(&first_payload())["ok"], true);
    assert!(home.count("SELECT count(*) FROM cost_records") >= 1);
    let status = notify.until("the ready STATUS", &daemon, |l| {
        l.starts_with("STATUS=ready")
    });
    assert!(
        status.contains(&home.socket().display().to_string()),
        "{status}"
    );

    // WATCHDOG=1 keeps coming, and the status line counts the writes.
    for _ in 0..3 {
        notify.until("WATCHDOG=1", &daemon, |l| l == "WATCHDOG=1");
    }
    let status = notify.until("a status with the write count", &daemon, |l| {
        l.starts_with("STATUS=writing; ") && !l.contains("; 0 writes")
    });
    assert!(status.contains("files waiting in the spool"), "{status}");

    daemon.signal(libc::SIGHUP);
    notify.until("RELOADING=1", &daemon, |l| l == "RELOADING=1");
    notify.until("MONOTONIC_USEC", &daemon, |l| {
        l.starts_with("MONOTONIC_USEC=")
    });
    notify.until("READY=1 after the reload", &daemon, |l| l == "READY=1");
    assert_eq!(notify.count("READY=1"), 2);

    daemon.signal(libc::SIGTERM);
    notify.until("STOPPING=1", &daemon, |l| l == "STOPPING=1");
    let status = daemon.wait_exit();
    assert!(status.success(), "{status:?}");
}

/// Puts `fd` at fd 3 in the child, inheritable, as systemd passes sockets.
fn pass_as_fd_3(cmd: &mut Command, fd: i32) {
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn activated(home: &Home, listener: &UnixListener) -> Daemon {
    let fd = listener.as_raw_fd();
    let daemon = serve_as_systemd_would(home, &["LISTEN_PID"], |cmd| {
        cmd.env("LISTEN_FDS", "1");
        pass_as_fd_3(cmd, fd);
    });
    wait_until(
        "the daemon to take the passed socket",
        || {
            daemon
                .run_log()
                .contains("Listening on the socket systemd passed")
        },
        || daemon.log_text(),
    );
    daemon
}

fn send(home: &Home, payload: &[u8]) -> Output {
    let out = home.send(payload, &[]);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    out
}

#[test]
fn a_socket_passed_by_activation_is_served_and_left_in_place() {
    let home = Home::new();
    std::fs::create_dir_all(home.socket().parent().unwrap()).unwrap();
    // systemd's side: the socket unit binds and holds the listener.
    let listener = UnixListener::bind(home.socket()).unwrap();
    let inode = std::fs::metadata(home.socket()).unwrap().ino();

    let daemon = activated(&home, &listener);
    let mut client = daemon.connect();
    let ack = client.roundtrip(br#"{"event_id":"act-1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5}}"#);
    assert_eq!(ack["ok"], true, "{ack}");
    send(&home, &first_payload());
    assert!(
        home.spool_files().is_empty(),
        "send spooled instead of delivering"
    );
    assert_eq!(home.count("SELECT count(*) FROM hook_events"), 2);
    drop(client);
    assert!(daemon.stop().success());
    // The socket is systemd's: still there, the same one.
    assert_eq!(std::fs::metadata(home.socket()).unwrap().ino(), inode);

    // While no daemon runs, a client still connects (systemd holds the
    // socket) and its event waits in the backlog for the next start.
    let mut waiting = UnixStream::connect(home.socket()).unwrap();
    std::io::Write::write_all(
        &mut waiting,
        b"{\"event_id\":\"act-2\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}\n",
    )
    .unwrap();
    waiting.set_read_timeout(Some(PATIENCE)).unwrap();
    let daemon = activated(&home, &listener);
    let mut ack = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&waiting), &mut ack).unwrap();
    assert!(ack.contains("\"ok\":true"), "{ack}");
    assert_eq!(home.count("SELECT count(*) FROM hook_events"), 3);
    assert!(daemon.stop().success());
    assert!(home.socket().exists());
}

#[test]
fn a_passed_socket_elsewhere_is_served_with_a_warning() {
    let home = Home::new();
    let elsewhere = home.path().join("activated.sock");
    let listener = UnixListener::bind(&elsewhere).unwrap();
    let daemon = activated(&home, &listener);
    assert!(
        daemon
            .run_log()
            .contains("not at the configured socket path"),
        "{}",
        daemon.run_log()
    );
    let stream = UnixStream::connect(&elsewhere).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut client = common::Client {
        reader: std::io::BufReader::new(stream.try_clone().unwrap()),
        stream,
    };
    assert_eq!(client.roundtrip(&first_payload())["ok"], true);
    // The daemon did not bind the configured path instead.
    assert!(!home.socket().exists());
    assert!(daemon.stop().success());
}

#[test]
fn a_passed_descriptor_that_is_not_a_listener_stops_the_start_with_a_reason() {
    let home = Home::new();
    let datagram = UnixDatagram::unbound().unwrap();
    let fd = datagram.as_raw_fd();
    let daemon = serve_as_systemd_would(&home, &["LISTEN_PID"], |cmd| {
        cmd.env("LISTEN_FDS", "1");
        pass_as_fd_3(cmd, fd);
    });
    let log = daemon.log.clone();
    let status = daemon.wait_exit();
    assert!(!status.success());
    let text = std::fs::read_to_string(log).unwrap();
    assert!(
        text.contains("not a listening Unix stream socket (not a stream socket)"),
        "{text}"
    );
    assert!(!home.socket().exists());
}
