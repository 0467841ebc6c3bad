//! The daemon's side of systemd (docs/systemd.md): the listener passed by socket
//! activation, and the notifications of `Type=notify` (READY, STATUS,
//! WATCHDOG, RELOADING, STOPPING).
//!
//! Everything here is a no-op outside systemd: without `NOTIFY_SOCKET` the
//! notifications go nowhere, without `LISTEN_FDS` the daemon binds its own
//! socket. The environment is read, never changed: the daemon is
//! multi-threaded by the time it looks, and changing the environment then is
//! not safe. The variables name this process's pid, so children that inherit
//! them (the alert command) ignore them.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use sd_notify::NotifyState;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_PASSED_FD: RawFd = 3;

/// What systemd passed to this process, read from `env`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passed {
    /// Descriptors passed by socket activation, from fd 3 on.
    pub listen_fds: Vec<RawFd>,
    /// How often systemd expects a `WATCHDOG=1`, when it watches this process.
    pub watchdog: Option<Duration>,
    /// `NOTIFY_SOCKET` is set: systemd listens for notifications.
    pub notify: bool,
}

impl Passed {
    /// Reads `LISTEN_PID`/`LISTEN_FDS` and `WATCHDOG_PID`/`WATCHDOG_USEC`.
    /// Each pair counts only when its pid is `pid`: the variables are meant
    /// for the process systemd started, not for one it started in turn.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>, pid: u32) -> Passed {
        let ours = |var: &str| env(var).and_then(|v| v.trim().parse::<u32>().ok()) == Some(pid);
        let listen_fds = match env("LISTEN_FDS").and_then(|n| n.trim().parse::<RawFd>().ok()) {
            Some(n) if n > 0 && ours("LISTEN_PID") => (0..n).map(|i| FIRST_PASSED_FD + i).collect(),
            _ => Vec::new(),
        };
        let watchdog = match env("WATCHDOG_USEC").and_then(|u| u.trim().parse::<u64>().ok()) {
            // Without WATCHDOG_PID the watchdog is meant for whoever reads
            // it (sd_watchdog_enabled(3)).
            Some(usec) if usec > 0 && (env("WATCHDOG_PID").is_none() || ours("WATCHDOG_PID")) => {
                Some(Duration::from_micros(usec))
            }
            _ => None,
        };
        Passed {
            listen_fds,
            watchdog,
            notify: env("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty()),
        }
    }

    /// This process's: what systemd passed to `hookmeter serve`.
    pub fn of_this_process() -> Passed {
        Passed::from_env(&|var| std::env::var(var).ok(), std::process::id())
    }
}

/// Why a passed descriptor cannot be the daemon's socket.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("socket activation passed {count} sockets; hookmeter takes one (a ListenStream= for its Unix socket in hookmeter.socket)")]
    NotOne { count: usize },
    #[error("socket activation passed fd {fd}, which is not a listening Unix stream socket ({what}); check ListenStream= in hookmeter.socket")]
    NotUnixListener { fd: RawFd, what: String },
}

/// Takes the listener socket activation passed, if any. Call once: the
/// descriptor becomes the returned listener's. It is marked close-on-exec
/// so the alert command does not inherit it.
pub fn take_listener(passed: &Passed) -> Result<Option<UnixListener>, ActivationError> {
    let fd = match passed.listen_fds.as_slice() {
        [] => return Ok(None),
        [fd] => *fd,
        fds => return Err(ActivationError::NotOne { count: fds.len() }),
    };
    check_unix_listener(fd).map_err(|what| ActivationError::NotUnixListener { fd, what })?;
    // SAFETY: systemd passed this descriptor to this process for it to own
    // (sd_listen_fds(3)); nothing else in hookmeter uses fd 3 and up as
    // passed descriptors, and `passed.listen_fds` is taken only here.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let listener = UnixListener::from(owned);
    set_cloexec(fd).map_err(|e| ActivationError::NotUnixListener {
        fd,
        what: format!("cannot set close-on-exec: {e}"),
    })?;
    Ok(Some(listener))
}

/// Checks with getsockopt/getsockname that `fd` is an AF_UNIX SOCK_STREAM
/// socket in the listening state; otherwise says what it is instead.
fn check_unix_listener(fd: RawFd) -> Result<(), String> {
    let int_opt = |level, name| -> Result<libc::c_int, String> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: value and len point to valid storage of the given size.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                level,
                name,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        match rc {
            0 => Ok(value),
            _ => Err(format!("not a socket: {}", std::io::Error::last_os_error())),
        }
    };
    if int_opt(libc::SOL_SOCKET, libc::SO_DOMAIN)? != libc::AF_UNIX {
        return Err("not a Unix socket".into());
    }
    if int_opt(libc::SOL_SOCKET, libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err("not a stream socket".into());
    }
    if int_opt(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)? == 0 {
        return Err("not listening".into());
    }
    Ok(())
}

fn set_cloexec(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor this process owns; no memory involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Tells systemd about the daemon's state. Failures are logged once at
/// debug level and otherwise ignored: a missing listener must not stop the
/// daemon, and systemd acts on the silence (start timeout, watchdog).
#[derive(Debug, Clone, Copy, Default)]
pub struct Notifier;

impl Notifier {
    /// The socket and the database are ready: systemd may start what
    /// depends on hookmeter.
    pub fn ready(&self, status: &str) {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// A status line `systemctl status` shows.
    pub fn status(&self, status: &str) {
        send(&[NotifyState::Status(status)]);
    }

    /// The daemon is alive and its writer answers.
    pub fn watchdog(&self) {
        send(&[NotifyState::Watchdog]);
    }

    /// A SIGHUP reload begins; [`Notifier::ready`] ends it.
    pub fn reloading(&self) {
        // systemd 253 and later expect the monotonic time beside RELOADING=1.
        match NotifyState::monotonic_usec_now() {
            Ok(now) => send(&[NotifyState::Reloading, now]),
            Err(_) => send(&[NotifyState::Reloading]),
        }
    }

    /// The drain after SIGTERM begins.
    pub fn stopping(&self) {
        send(&[
            NotifyState::Stopping,
            NotifyState::Status("stopping: finishing what is in flight"),
        ]);
    }
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "Cannot notify systemd.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env_of;

    #[test]
    fn passed_sockets_and_watchdog_count_only_for_this_pid() {
        let env = env_of(&[
            ("LISTEN_PID", "42"),
            ("LISTEN_FDS", "2"),
            ("WATCHDOG_PID", "42"),
            ("WATCHDOG_USEC", "3000000"),
        ]);
        let passed = Passed::from_env(&env, 42);
        assert_eq!(passed.listen_fds, vec![3, 4]);
        assert_eq!(passed.watchdog, Some(Duration::from_secs(3)));
        assert!(!passed.notify);
        assert_eq!(Passed::from_env(&env, 43), Passed::default());
        let env = env_of(&[("NOTIFY_SOCKET", "/run/systemd/notify")]);
        assert!(Passed::from_env(&env, 43).notify);
    }

    #[test]
    fn a_watchdog_without_pid_is_ours_and_junk_is_nothing() {
        let env = env_of(&[("WATCHDOG_USEC", "500000")]);
        assert_eq!(
            Passed::from_env(&env, 7).watchdog,
            Some(Duration::from_millis(500))
        );
        let env = env_of(&[
            ("LISTEN_PID", "7"),
            ("LISTEN_FDS", "x"),
            ("WATCHDOG_USEC", "0"),
        ]);
        assert_eq!(Passed::from_env(&env, 7), Passed::default());
        let env = env_of(&[("LISTEN_FDS", "1")]);
        assert!(Passed::from_env(&env, 7).listen_fds.is_empty());
    }

    #[test]
    fn more_than_one_passed_socket_is_refused() {
        let passed = Passed {
            listen_fds: vec![3, 4],
            ..Passed::default()
        };
        let err = take_listener(&passed).unwrap_err();
        assert!(err.to_string().contains("passed 2 sockets"), "{err}");
    }

    #[test]
    fn only_a_listening_unix_stream_socket_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("s")).unwrap();
        assert!(check_unix_listener(std::os::fd::AsRawFd::as_raw_fd(&listener)).is_ok());
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let err = check_unix_listener(std::os::fd::AsRawFd::as_raw_fd(&a)).unwrap_err();
        assert_eq!(err, "not listening");
        let dgram = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let err = check_unix_listener(std::os::fd::AsRawFd::as_raw_fd(&dgram)).unwrap_err();
        assert_eq!(err, "not a stream socket");
        let file = std::fs::File::open(dir.path()).unwrap();
        let err = check_unix_listener(std::os::fd::AsRawFd::as_raw_fd(&file)).unwrap_err();
        assert!(err.starts_with("not a socket"), "{err}");
    }
}
