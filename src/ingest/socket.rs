//! The Unix socket source: NDJSON in, one JSON ack line out per input line,
//! in order, each written only after its event is committed
//! (docs/ingest.md#unix-socket).
//!
//! A connection is read and acked by two halves: the reader decodes lines
//! and queues them to the writer without waiting, the acker awaits each
//! commit in order and answers. So a client that pipelines lines gets them
//! committed in shared batches, and one that waits per line still works.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::budget::alerts::Guard;
use crate::config::Limits;
use crate::ingest::transcript::TailHandle;
use crate::ingest::Decoder;
use crate::record::{format_timestamp, RejectCode, Rejection};
use crate::store::writer::{outcome, Ack, Receipt, WriteError, WriterHandle};

/// Lines of one connection queued for the writer but not yet acked. Past this
/// the reader stops reading: backpressure reaches the client, nothing is dropped.
const UNACKED_PER_CONNECTION: usize = 1024;

/// Everything a connection needs, shared by all of them.
pub struct Shared {
    pub writer: WriterHandle,
    /// Where events that name a transcript send it to be read.
    pub tail: TailHandle,
    pub decoder: Decoder,
    pub limits: Limits,
    /// Answers whether a PreToolUse event's scope has spent an enforced budget.
    pub guard: Guard,
}

/// Serves `listener` until `shutdown` fires. Each connection runs on its own
/// task in `tasks`, so the caller can wait for them to drain; a failing
/// connection is logged and never takes the listener down.
pub async fn serve(
    listener: UnixListener,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let permits = Arc::new(Semaphore::new(shared.limits.max_connections));
    loop {
        let Some(stream) =
            super::next_connection(&shutdown, "a socket", || listener.accept()).await
        else {
            break;
        };
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let shared = shared.clone();
                let shutdown = shutdown.clone();
                tasks.spawn(async move {
                    if let Err(e) = handle(stream, &shared, shutdown).await {
                        tracing::debug!(error = %e, "Socket connection ended with an error.");
                    }
                    drop(permit);
                });
            }
            Err(_) => {
                let limit = shared.limits.max_connections;
                tracing::warn!(limit, "Refused a socket connection: too many at once.");
                tasks.spawn(async move {
                    let line = error_line(
                        &format!("too many connections (limit {limit}); retry later"),
                        true,
                    );
                    let mut stream = stream;
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        stream.write_all(line.as_bytes()),
                    )
                    .await;
                });
            }
        }
    }
}

/// The scopes a PreToolUse event belongs to.
struct Asker {
    agent: String,
    task: Option<String>,
    project: Option<String>,
}

/// How an input line will be answered once its fate is durable.
enum PendingAck {
    /// With who asks, for a PreToolUse event: its ack says whether to deny.
    Event(Receipt<Ack>, Option<Asker>),
    Rejected(Receipt<()>, String),
    /// The writer is gone: answered at once.
    Unavailable(WriteError),
    /// Sent without a commit: the connection is about to close.
    Closing(String),
}

async fn handle(
    stream: UnixStream,
    shared: &Shared,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let (read, write) = stream.into_split();
    let (queue, acks) = mpsc::channel(UNACKED_PER_CONNECTION);
    let acker = tokio::spawn(answer(acks, BufWriter::new(write), shared.guard.clone()));
    // A large read buffer: a pipelining client sends many lines per read.
    let reader = BufReader::with_capacity(64 * 1024, read);
    let result = read_lines(reader, shared, &queue, shutdown).await;
    drop(queue);
    // The acker finishes every line already queued, so what was read is answered.
    acker.await.map_err(io::Error::other)??;
    result
}

async fn read_lines(
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    shared: &Shared,
    queue: &mpsc::Sender<PendingAck>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let limits = &shared.limits;
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let frame = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            frame = tokio::time::timeout(limits.idle_timeout, next_frame(&mut reader, &mut line, limits.max_line_bytes)) => frame,
        };
        let frame = match frame {
            Ok(frame) => frame?,
            Err(_) => {
                let secs = limits.idle_timeout.as_secs();
                let reason = format!("no complete line for {secs} s; closing the connection");
                // Bytes of an unfinished line were still received: keep them.
                let pending = if line.iter().all(u8::is_ascii_whitespace) {
                    PendingAck::Closing(reason)
                } else {
                    let rejection =
                        rejection(shared, &line, line_no + 1, RejectCode::IdleTimeout, reason);
                    keep(&shared.writer, rejection).await
                };
                let _ = queue.send(pending).await;
                return Ok(());
            }
        };
        let received_at = jiff::Timestamp::now();
        line_no += 1;
        let pending = match frame {
            Frame::Eof => return Ok(()),
            Frame::Line if line.iter().all(u8::is_ascii_whitespace) => continue,
            Frame::Line => match shared.decoder.decode(&line, None, received_at) {
                Ok(event) => {
                    shared.tail.follow(&event).await;
                    let asker =
                        (event.event_name.as_deref() == Some("PreToolUse")).then(|| Asker {
                            agent: event.agent_id.clone(),
                            task: event.task_id.clone(),
                            project: event.project.clone(),
                        });
                    match shared.writer.queue_event(event).await {
                        Ok(done) => PendingAck::Event(done, asker),
                        Err(e) => PendingAck::Unavailable(e),
                    }
                }
                Err(rejection) => keep(&shared.writer, rejection).await,
            },
            Frame::TooLong { total } => {
                let reason = format!(
                    "line is {total} bytes, over the limit of {} (limits.max_line_bytes); its first {} bytes are kept",
                    limits.max_line_bytes,
                    line.len()
                );
                keep(
                    &shared.writer,
                    rejection(shared, &line, line_no, RejectCode::LineTooLong, reason),
                )
                .await
            }
        };
        if queue.send(pending).await.is_err() {
            // The acker stopped: the client is gone.
            return Ok(());
        }
    }
}

/// Input of this connection that never became an event.
fn rejection(
    shared: &Shared,
    bytes: &[u8],
    line_no: u64,
    code: RejectCode,
    reason: String,
) -> Rejection {
    Rejection {
        code,
        received_at: format_timestamp(jiff::Timestamp::now()),
        source: shared.decoder.edge,
        origin: Some(format!("line {line_no}")),
        reason,
        raw_text: String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Queues a rejection to be kept; its error ack goes out once it is stored.
async fn keep(writer: &WriterHandle, rejection: Rejection) -> PendingAck {
    tracing::debug!(reason = %rejection.reason, "Rejected a socket line.");
    let reason = rejection.reason.clone();
    match writer.queue_reject(rejection).await {
        Ok(done) => PendingAck::Rejected(done, reason),
        Err(e) => PendingAck::Unavailable(e),
    }
}

/// Writes acks in line order; flushes whenever nothing more is ready, so a
/// pipelining client gets acks in bulk and a waiting one gets its ack at once.
/// A PreToolUse event whose scope has spent an enforced budget gets
/// `"deny":"<reason>"` in its ack.
async fn answer(
    mut acks: mpsc::Receiver<PendingAck>,
    mut out: BufWriter<tokio::net::unix::OwnedWriteHalf>,
    guard: Guard,
) -> io::Result<()> {
    while let Some(pending) = acks.recv().await {
        let line = match pending {
            PendingAck::Event(done, asker) => match outcome(done).await {
                Ok(ack) => {
                    let id = serde_json::Value::String(ack.id);
                    let deny = asker.and_then(|a| {
                        let now = jiff::Timestamp::now();
                        guard.deny(&a.agent, a.task.as_deref(), a.project.as_deref(), now)
                    });
                    match deny {
                        None => {
                            format!("{{\"ok\":true,\"id\":{id},\"records\":{}}}\n", ack.records)
                        }
                        Some(reason) => {
                            json!({"ok": true, "id": id, "records": ack.records, "deny": reason})
                                .to_string()
                                + "\n"
                        }
                    }
                }
                Err(e) => error_line(&e.to_string(), true),
            },
            PendingAck::Rejected(done, reason) => match outcome(done).await {
                Ok(()) => error_line(&reason, false),
                Err(e) => error_line(&format!("{reason}; it could not be kept: {e}"), true),
            },
            PendingAck::Unavailable(e) => error_line(&e.to_string(), true),
            PendingAck::Closing(reason) => error_line(&reason, false),
        };
        out.write_all(line.as_bytes()).await?;
        if acks.is_empty() {
            out.flush().await?;
        }
    }
    out.flush().await?;
    out.shutdown().await
}

/// An error ack. `retry` tells the client nothing was stored and it must keep
/// the event (`hookmeter send` then spools it); without it, the daemon kept
/// the input in `rejected_events` and resending will not help.
fn error_line(reason: &str, retry: bool) -> String {
    let mut value = json!({"ok": false, "error": reason});
    if retry {
        value["retry"] = json!(true);
    }
    value.to_string() + "\n"
}

/// One unit of socket input. Public for the `socket_framing` fuzz target.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A line (without its newline), or the last bytes before end of stream.
    Line,
    /// A line over the limit: `buf` holds its first `limit` bytes, the rest was discarded.
    TooLong {
        total: usize,
    },
    Eof,
}

/// Reads the next newline-terminated frame into `buf` (cleared by the caller),
/// never holding more than `limit` bytes of it in memory. Public for the
/// `socket_framing` fuzz target.
pub async fn next_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Frame> {
    let mut total = 0usize;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match total {
                0 => Frame::Eof,
                _ if total > limit => Frame::TooLong { total },
                _ => Frame::Line,
            });
        }
        let (chunk, used, done) = match memchr_newline(available) {
            Some(pos) => (&available[..pos], pos + 1, true),
            None => (available, available.len(), false),
        };
        let room = limit.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len();
        reader.consume(used);
        if done {
            return Ok(if total > limit {
                Frame::TooLong { total }
            } else {
                Frame::Line
            });
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8], limit: usize) -> Vec<(Frame, Vec<u8>)> {
        // A tiny buffer makes lines span many reads, as they do on a real socket.
        let mut reader = tokio::io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            let frame = next_frame(&mut reader, &mut buf, limit).await.unwrap();
            if frame == Frame::Eof {
                return out;
            }
            out.push((frame, buf));
        }
    }

    #[tokio::test]
    async fn frames_split_on_newlines_and_cap_long_lines() {
        let got = frames(b"{\"a\":1}\n0123456789abc\nxy", 8).await;
        assert_eq!(
            got,
            vec![
                (Frame::Line, b"{\"a\":1}".to_vec()),
                (Frame::TooLong { total: 13 }, b"01234567".to_vec()),
                (Frame::Line, b"xy".to_vec()),
            ]
        );
        assert!(frames(b"", 8).await.is_empty());
    }
}
