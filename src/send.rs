//! `hookmeter send`: the hook client. Reads one payload from stdin, wraps it
//! in the envelope, hands it to the daemon over the socket within a total time
//! budget, and spools it when that fails. It never fails the hook: whatever
//! happens, the caller exits 0 and stdout stays empty, except as a budget
//! guard: the daemon's ack of a PreToolUse event may say the event's scope
//! has spent an enforced budget, and then Claude Code's deny decision is
//! printed. Anything short of that answer allows (fails open).
//!
//! Deliberately plain blocking std I/O: no async runtime, no logging setup,
//! so a hook pays for little more than process start and one round trip.
//!
//! For users: docs/hook-protocol.md#hookmeter-send.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;
use crate::ingest::{deny_decision, ENVELOPE_VERSION};
use crate::record::format_timestamp;

/// Largest stdin read (8 MiB, docs/hook-protocol.md#hookmeter-send); more is
/// cut and kept as `payload_raw`.
pub const MAX_STDIN_BYTES: usize = 8 * 1024 * 1024;
/// Default total time budget of one `send`, overridable by `HOOKMETER_SEND_TIMEOUT_MS`.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(300);

/// Attribution the hook adds to the payload.
#[derive(Debug, Default, Clone)]
pub struct Attribution {
    pub agent_id: Option<String>,
    pub task_id: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// How a payload left `send`; for tests and the one stderr line.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The daemon committed it.
    Acked,
    /// The daemon committed this PreToolUse event and says its scope has
    /// spent an enforced budget, for this reason.
    Denied(String),
    /// The daemon kept it as rejected (resending would not help).
    Rejected(String),
    /// Written to the spool because the socket path failed for this reason.
    Spooled { file: PathBuf, because: String },
    /// Stdin was empty: nothing to deliver.
    Empty,
    /// Neither the daemon nor the spool took it.
    Lost(String),
}

/// The envelope (docs/hook-protocol.md#the-envelope), as written.
#[derive(Serialize)]
struct Envelope<'a> {
    hookmeter: u64,
    received_at: String,
    /// Always `true`: this envelope is one occurrence, so `received_at` is
    /// part of the event's identity (docs/hook-protocol.md#identity-and-attribution).
    distinct: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_raw: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    payload_truncated: bool,
}

/// `hookmeter send`: resolves the configuration and the attribution
/// (flags, then `HOOKMETER_AGENT`, `HOOKMETER_TASK`, `HOOKMETER_LABELS`),
/// delivers `stdin` and says on stderr what went wrong, if anything. Returns
/// what goes on stdout: Claude Code's deny decision, or nothing.
pub fn run(
    flags: &crate::config::Overrides,
    agent: Option<String>,
    task: Option<String>,
    labels: Vec<(String, String)>,
    env: &dyn Fn(&str) -> Option<String>,
    stdin: impl Read,
) -> Option<String> {
    // A broken config file must not cost the event: fall back to flags,
    // environment and defaults, which is where hooks usually set things anyway.
    let config = match Config::resolve(flags, env) {
        Ok(config) => config,
        Err(e) => match Config::resolve_without_file(flags, env) {
            Ok(config) => {
                eprintln!("hookmeter send: {e}; using flags, environment and defaults");
                config
            }
            Err(e) => {
                eprintln!("hookmeter send: {e}; event not delivered");
                return None;
            }
        },
    };
    let mut who = Attribution {
        agent_id: agent.or_else(|| env("HOOKMETER_AGENT")),
        task_id: task.or_else(|| env("HOOKMETER_TASK")),
        ..Default::default()
    };
    if let Some(text) = env("HOOKMETER_LABELS") {
        match parse_labels(&text) {
            Ok(pairs) => who.labels.extend(pairs),
            Err(e) => eprintln!("hookmeter send: HOOKMETER_LABELS ignored: {e}"),
        }
    }
    who.labels.extend(labels);
    let budget = env("HOOKMETER_SEND_TIMEOUT_MS")
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_BUDGET);
    match send(&config, &who, stdin, budget) {
        Delivery::Acked | Delivery::Empty | Delivery::Spooled { .. } => None,
        // The one thing `send` ever prints: the agent reads it as the hook's decision.
        Delivery::Denied(reason) => Some(deny_decision(&reason) + "\n"),
        Delivery::Rejected(reason) => {
            eprintln!(
                "hookmeter send: the daemon rejected the event (kept in rejected_events): {reason}"
            );
            None
        }
        Delivery::Lost(reason) => {
            eprintln!("hookmeter send: event not delivered: {reason}");
            None
        }
    }
}

/// Delivers what `stdin` holds; `budget` bounds the whole socket attempt.
pub fn send(config: &Config, who: &Attribution, stdin: impl Read, budget: Duration) -> Delivery {
    let deadline = Instant::now() + budget;
    let mut input = Vec::new();
    if let Err(e) = stdin
        .take(MAX_STDIN_BYTES as u64 + 1)
        .read_to_end(&mut input)
    {
        return Delivery::Lost(format!("cannot read stdin: {e}"));
    }
    if input.iter().all(u8::is_ascii_whitespace) {
        return Delivery::Empty;
    }
    let truncated = input.len() > MAX_STDIN_BYTES;
    input.truncate(MAX_STDIN_BYTES);
    let (line, pre_tool_use) = envelope_line(&input, truncated, who);

    let because = if line.len() > config.limits.max_line_bytes {
        // The socket would refuse it; the spool takes files this large.
        format!("event is {} bytes, over the socket line limit", line.len())
    } else {
        match over_socket(&config.socket, &line, deadline) {
            Ok(Answer::Acked { deny: Some(reason) }) if pre_tool_use => {
                return Delivery::Denied(reason)
            }
            Ok(Answer::Acked { .. }) => return Delivery::Acked,
            Ok(Answer::Rejected(reason)) => return Delivery::Rejected(reason),
            Err(reason) => reason,
        }
    };
    match spool(&config.spool, &line) {
        Ok(file) => Delivery::Spooled { file, because },
        Err(e) => Delivery::Lost(format!(
            "{because}, and the spool {} refused it too: {e}",
            config.spool.display()
        )),
    }
}

/// The envelope as one NDJSON line, and whether the payload is a PreToolUse
/// event (the only kind a budget guard answers).
pub fn envelope_line(input: &[u8], truncated: bool, who: &Attribution) -> (Vec<u8>, bool) {
    // Parsed and re-serialized, not embedded raw: hooks often pretty-print,
    // and a newline inside the payload would split the NDJSON line.
    let payload = (!truncated)
        .then(|| serde_json::from_slice::<serde_json::Value>(input).ok())
        .flatten();
    let pre_tool_use = payload
        .as_ref()
        .is_some_and(|p| p["hook_event_name"] == "PreToolUse");
    let payload_raw = payload
        .is_none()
        .then(|| String::from_utf8_lossy(input).into_owned());
    let envelope = Envelope {
        hookmeter: ENVELOPE_VERSION,
        received_at: format_timestamp(jiff::Timestamp::now()),
        distinct: true,
        agent_id: who.agent_id.as_deref(),
        task_id: who.task_id.as_deref(),
        labels: &who.labels,
        host: hostname(),
        payload,
        payload_raw,
        payload_truncated: truncated,
    };
    let mut line = serde_json::to_vec(&envelope).unwrap_or_default();
    line.push(b'\n');
    (line, pre_tool_use)
}

enum Answer {
    /// With the daemon's reason to deny the tool use, if it gave one.
    Acked {
        deny: Option<String>,
    },
    Rejected(String),
}

/// One socket round trip; any error is the reason to spool instead.
fn over_socket(socket: &Path, line: &[u8], deadline: Instant) -> Result<Answer, String> {
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "time budget spent before the daemon answered".to_string())
    };
    let mut stream = connect_within(socket, remaining()?)
        .map_err(|e| format!("cannot connect to {}: {e}", socket.display()))?;
    stream
        .set_write_timeout(Some(remaining()?))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(line)
        .map_err(|e| format!("cannot write to the daemon: {e}"))?;
    stream
        .set_read_timeout(Some(remaining()?))
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(|e| format!("no answer from the daemon in time: {e}"))?;
    let ack: serde_json::Value =
        serde_json::from_str(&answer).map_err(|_| format!("unreadable answer: {answer:?}"))?;
    let error = ack["error"].as_str().unwrap_or("unknown error").to_string();
    match (ack["ok"].as_bool(), ack["retry"].as_bool()) {
        (Some(true), _) => Ok(Answer::Acked {
            deny: ack["deny"].as_str().map(str::to_string),
        }),
        (Some(false), Some(true)) => Err(format!("the daemon could not store it: {error}")),
        (Some(false), _) => Ok(Answer::Rejected(error)),
        _ => Err(format!("unreadable answer: {answer:?}")),
    }
}

/// Connects to the daemon's socket, waiting at most `timeout`.
///
/// `UnixStream::connect` can block without limit: when the daemon's accept
/// queue is full (the daemon is stopped or wedged), the kernel makes
/// `connect()` wait for room for as long as the socket's send timeout, which
/// is infinite by default. So the socket is made first, its send timeout set,
/// and only then connected; a queue still full at the timeout is `WouldBlock`.
fn connect_within(path: &Path, timeout: Duration) -> std::io::Result<UnixStream> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    let (addr, len) = unix_addr(path)?;
    // SAFETY: plain socket(2); the descriptor is owned by `OwnedFd` at once.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let stream = UnixStream::from(unsafe { OwnedFd::from_raw_fd(fd) });
    // SO_SNDTIMEO: also what bounds connect()'s wait for a full accept queue.
    stream.set_write_timeout(Some(timeout))?;
    // SAFETY: `addr` is a valid sockaddr_un and `len` lies within it.
    let rc = unsafe { libc::connect(stream.as_raw_fd(), (&raw const addr).cast(), len) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(stream)
}

/// The socket address of `path`, and its length.
fn unix_addr(path: &Path) -> std::io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;

    let bytes = path.as_os_str().as_bytes();
    // SAFETY: all-zero bytes are a valid `sockaddr_un`.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    // Room for the terminating NUL, as std requires too.
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "socket path must be under {} bytes, without NUL",
                addr.sun_path.len()
            ),
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (to, from) in addr.sun_path.iter_mut().zip(bytes) {
        *to = *from as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// Writes the envelope into the spool atomically: a dotfile first, renamed
/// into place once complete, so the daemon never sees half a file.
pub fn spool(dir: &Path, line: &[u8]) -> std::io::Result<PathBuf> {
    crate::fs::create_private_dir(dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let name = format!("{nanos}-{}.json", std::process::id());
    let tmp = dir.join(format!(".{name}.tmp"));
    let done = dir.join(&name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    file.write_all(line)?;
    // The spool is the fallback for when all else failed: make it durable.
    file.sync_data()?;
    drop(file);
    std::fs::rename(&tmp, &done)?;
    // And its name: until the directory is synced, a power cut can undo the
    // rename and leave only the dotfile, which the daemon ignores. The file
    // is in place either way, so a failure here does not fail the spooling.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(done)
}

/// This machine's host name, as `gethostname(2)` gives it.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec())
        .ok()
        .filter(|h| !h.is_empty())
}

/// Parses `k=v,k2=v2` (HOOKMETER_LABELS) or one `k=v` (--label).
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("label {part:?} is not KEY=VALUE")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_wraps_json_and_keeps_non_json_raw() {
        let who = Attribution {
            agent_id: Some("a".into()),
            ..Default::default()
        };
        let (line, pre_tool_use) = envelope_line(b"{\n  \"x\": 1\n}\n", false, &who);
        assert!(!pre_tool_use);
        assert_eq!(
            line.iter().filter(|&&b| b == b'\n').count(),
            1,
            "one NDJSON line"
        );
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["hookmeter"], 1);
        assert_eq!(v["payload"]["x"], 1);
        assert_eq!(v["agent_id"], "a");
        assert!(v.get("payload_raw").is_none());
        // Each send is one occurrence: its received_at is part of the identity.
        assert_eq!(v["distinct"], true);
        assert!(v["received_at"].as_str().is_some_and(|s| !s.is_empty()));

        let (line, _) = envelope_line(b"not json", false, &who);
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["payload_raw"], "not json");
        assert!(v.get("payload").is_none());
    }

    #[test]
    fn labels_parse_and_refuse_garbage() {
        assert_eq!(
            parse_labels("team=core, env=dev").unwrap(),
            vec![("team".into(), "core".into()), ("env".into(), "dev".into())]
        );
        assert!(parse_labels("novalue").is_err());
    }

    /// A listener that never accepts and queues at most one connection
    /// (backlog 0): a stopped or wedged daemon whose accept queue is full.
    fn full_listener(path: &Path) -> (std::os::fd::OwnedFd, UnixStream) {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let (addr, len) = unix_addr(path).unwrap();
        // SAFETY: socket/bind/listen on a descriptor owned by `OwnedFd` at once.
        let listener = unsafe {
            let fd = OwnedFd::from_raw_fd(libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0));
            assert_eq!(libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len), 0);
            assert_eq!(libc::listen(fd.as_raw_fd(), 0), 0);
            fd
        };
        let queued = UnixStream::connect(path).unwrap();
        (listener, queued)
    }

    #[test]
    fn a_full_accept_queue_fails_the_socket_attempt_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("d.sock");
        let _listener = full_listener(&socket);
        // On a thread, so a regression fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        let path = socket.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_millis(100);
            let _ = tx.send(over_socket(&path, b"{}\n", deadline).err());
        });
        let reason = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("connect() blocked on the full accept queue")
            .expect("the attempt must fail, so the event is spooled");
        assert!(reason.starts_with("cannot connect to"), "{reason}");
    }

    #[test]
    fn spool_writes_a_complete_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let file = spool(&dir.path().join("spool"), b"{}\n").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"{}\n");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("spool"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
