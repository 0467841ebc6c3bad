//! OTLP/gRPC (docs/ingest.md#opentelemetry): `LogsService/Export` and
//! `MetricsService/Export` as unary gRPC over HTTP/2 cleartext, on a
//! listener of its own (`[otlp] grpc`, 127.0.0.1:4317 by default).
//!
//! gRPC's framing is done here by hand on hyper's HTTP/2 server: a request
//! is one message behind a 5-byte prefix (compressed flag, big-endian
//! length), the answer is one message and the `grpc-status` /
//! `grpc-message` trailers. A gRPC framework would bring a code generator
//! and a second HTTP stack for two unary methods. What an export is worth
//! is decided once, for both transports ([`super::otlp::take`]).
//!
//! The rules of the HTTP surface hold: the token (`authorization: Bearer`
//! metadata, else 16 UNAUTHENTICATED), `[otlp] max_body` (8
//! RESOURCE_EXHAUSTED), a body that does not decode (3 INVALID_ARGUMENT,
//! kept in `rejected_events`). The Host and Origin checks are not needed:
//! a browser cannot speak HTTP/2 without TLS, so no web page reaches this
//! listener.

use std::convert::Infallible;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use bytes::Bytes;
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::otlp::{receive, refuse, take, Refusal, Verdict};
use super::{bearer_matches, AppState, Listen, ListenError};
use crate::config::Config;
use crate::ingest::otlp::{wire, Encoding};
use crate::internal_events::Signal;
use crate::record::RejectCode;

const LOGS_EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const METRICS_EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// gRPC status codes this server answers with.
mod code {
    pub const OK: u32 = 0;
    pub const INVALID_ARGUMENT: u32 = 3;
    pub const DEADLINE_EXCEEDED: u32 = 4;
    pub const RESOURCE_EXHAUSTED: u32 = 8;
    pub const UNIMPLEMENTED: u32 = 12;
    pub const INTERNAL: u32 = 13;
    pub const UNAVAILABLE: u32 = 14;
    pub const UNAUTHENTICATED: u32 = 16;
}

/// The gRPC listen address of `config`, resolved; `None` when off. Like the
/// HTTP listener, an address that is not loopback needs a token.
pub fn plan(config: &Config) -> Result<Option<Listen>, ListenError> {
    let Some(given) = &config.otlp_grpc else {
        return Ok(None);
    };
    let bad = |reason: String| ListenError::GrpcBadAddress {
        addr: given.clone(),
        reason,
    };
    let addrs: Vec<SocketAddr> = given
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(bad("it resolves to no address".into()));
    }
    if addrs.iter().any(|a| !a.ip().is_loopback()) && config.http_token.is_none() {
        return Err(ListenError::GrpcTokenRequired {
            addr: given.clone(),
        });
    }
    Ok(Some(Listen {
        given: given.clone(),
        addrs,
    }))
}

/// Binds the gRPC listener; the error names the address and the way out
/// (the command line exits 2 on it).
pub async fn bind(listen: &Listen) -> Result<TcpListener, ListenError> {
    let cannot = |source| ListenError::GrpcCannotBind {
        addr: listen.given.clone(),
        source,
    };
    let listener = TcpListener::bind(&listen.addrs[..]).await.map_err(cannot)?;
    let local = listener.local_addr().map_err(cannot)?;
    tracing::info!(addr = %local, "OTLP/gRPC listening on {local}.");
    Ok(listener)
}

/// Serves OTLP/gRPC on `listener` until `shutdown`, then lets the exports
/// in flight finish (hyper's graceful shutdown of each connection).
pub async fn serve(listener: TcpListener, state: Arc<AppState>, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(state.limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Some(stream) =
            crate::ingest::next_connection(&shutdown, "an OTLP/gRPC", || listener.accept()).await
        else {
            break;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let limit = state.limits.max_connections;
            tracing::warn!(limit, "Refused an OTLP/gRPC connection: too many at once.");
            continue;
        };
        let state = state.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(export(&state, request).await) }
            });
            let mut builder = http2::Builder::new(TokioExecutor::new());
            builder.timer(TokioTimer::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "OTLP/gRPC connection ended with an error.");
            }
            drop(permit);
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// One unary call.
async fn export(state: &AppState, request: Request<Incoming>) -> Response<Answer> {
    let signal = match request.uri().path() {
        LOGS_EXPORT => Signal::Logs,
        METRICS_EXPORT => Signal::Metrics,
        other => {
            let why = format!("no such method {other}: this server has LogsService/Export and MetricsService/Export");
            return answer(code::UNIMPLEMENTED, &why, None);
        }
    };
    let headers = request.headers();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(content_type == "application/grpc" || content_type == "application/grpc+proto") {
        // Not gRPC at all: the spec answers with HTTP's own status.
        let mut response = answer(
            code::UNIMPLEMENTED,
            "send Content-Type: application/grpc",
            None,
        );
        *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return response;
    }
    if let Some(token) = &state.token {
        if !bearer_matches(headers, token) {
            return answer(
                code::UNAUTHENTICATED,
                "missing or wrong token: send the metadata authorization: Bearer <token>",
                None,
            );
        }
    }
    let gzip_allowed = match headers.get("grpc-encoding").and_then(|v| v.to_str().ok()) {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            let why = format!("grpc-encoding {other:?} is not supported: send gzip or identity");
            state.otlp.export(
                signal,
                crate::internal_events::ExportOutcome::Encoding,
                &why,
            );
            let mut response = answer(code::UNIMPLEMENTED, &why, None);
            response
                .headers_mut()
                .insert("grpc-accept-encoding", HeaderValue::from_static("gzip"));
            return response;
        }
    };
    let body = axum::body::Body::new(request.into_body());
    let limit = state.otlp_max_body.saturating_add(PREFIX);
    let verdict = match receive(state, signal, Encoding::Protobuf, body, limit).await {
        Ok(bytes) => match unframe(&bytes) {
            Ok((compressed, _)) if compressed && !gzip_allowed => {
                let why = "the message is marked compressed but no grpc-encoding was sent";
                let verdict = refuse(
                    state,
                    signal,
                    Encoding::Protobuf,
                    &bytes,
                    RejectCode::NotProtobuf,
                    why.into(),
                )
                .await;
                if let Verdict::Refused(Refusal::Malformed, why) = verdict {
                    return answer(code::INTERNAL, &why, None);
                }
                verdict
            }
            Ok((compressed, message)) => {
                take(state, signal, Encoding::Protobuf, compressed, message).await
            }
            Err(why) => {
                let code = RejectCode::NotProtobuf;
                refuse(state, signal, Encoding::Protobuf, &bytes, code, why).await
            }
        },
        Err(refused) => refused,
    };
    match verdict {
        Verdict::Accepted(partial) => {
            let message = wire::ExportLogsServiceResponse {
                partial_success: partial,
            }
            .encode_to_vec();
            answer(code::OK, "", Some(message))
        }
        Verdict::Refused(refusal, why) => {
            let code = match refusal {
                Refusal::Malformed => code::INVALID_ARGUMENT,
                Refusal::TooLarge => code::RESOURCE_EXHAUSTED,
                Refusal::Timeout => code::DEADLINE_EXCEEDED,
                Refusal::Unavailable => code::UNAVAILABLE,
            };
            answer(code, &why, None)
        }
    }
}

/// The length of gRPC's message prefix.
const PREFIX: usize = 5;

/// A unary request's one message and whether it is compressed.
fn unframe(body: &[u8]) -> Result<(bool, &[u8]), String> {
    if body.len() < PREFIX {
        return Err(format!(
            "a gRPC message needs a {PREFIX}-byte prefix; the request body has {} bytes",
            body.len()
        ));
    }
    let compressed = match body[0] {
        0 => false,
        1 => true,
        flag => return Err(format!("the gRPC compressed flag is {flag}, not 0 or 1")),
    };
    let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let message = &body[PREFIX..];
    if message.len() != length {
        return Err(format!(
            "the gRPC prefix announces {length} bytes but {} follow (a unary call sends one message)",
            message.len()
        ));
    }
    Ok((compressed, message))
}

/// A gRPC answer: HTTP 200, the message if any, then the status trailers.
fn answer(status: u32, message: &str, body: Option<Vec<u8>>) -> Response<Answer> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from(status));
    if !message.is_empty() {
        if let Ok(text) = HeaderValue::from_str(&percent_encode(message)) {
            trailers.insert("grpc-message", text);
        }
    }
    let framed = body.map(|message| {
        let mut framed = Vec::with_capacity(PREFIX + message.len());
        framed.push(0);
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(&message);
        Bytes::from(framed)
    });
    let mut response = Response::new(Answer {
        message: framed,
        trailers: Some(trailers),
    });
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    response
}

/// `grpc-message` is percent-encoded: every byte outside printable ASCII,
/// and `%` itself.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A gRPC answer's body: at most one message, then the trailers.
pub struct Answer {
    message: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(message) = self.message.take() {
            return Poll::Ready(Some(Ok(Frame::data(message))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.message.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unary_message_is_its_prefix_and_exactly_its_bytes() {
        assert_eq!(
            unframe(&[0, 0, 0, 0, 2, 8, 1]).unwrap(),
            (false, &[8, 1][..])
        );
        assert_eq!(unframe(&[1, 0, 0, 0, 0]).unwrap(), (true, &[][..]));
        assert!(unframe(&[0, 0, 0]).is_err());
        assert!(unframe(&[0, 0, 0, 0, 3, 8, 1]).is_err());
        assert!(unframe(&[0, 0, 0, 0, 1, 8, 1]).is_err());
        assert!(unframe(&[2, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn grpc_message_is_percent_encoded() {
        assert_eq!(percent_encode("over 5 % é"), "over 5 %25 %C3%A9");
        assert_eq!(percent_encode("line\nbreak"), "line%0Abreak");
    }
}
