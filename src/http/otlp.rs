//! `POST /v1/logs` and `POST /v1/metrics` (docs/http-api.md#post-v1logs,
//! docs/ingest.md#opentelemetry): an agent's OTLP/HTTP export, answered as
//! the OTLP/HTTP specification asks, in the encoding it came in. What an
//! export is worth ([`take`]) is shared with OTLP/gRPC ([`super::grpc`]).
//! A metrics export is decoded and counted; its points never add records.
//!
//! - 200 and an `ExportLogsServiceResponse` once every usage event is
//!   committed; `partial_success` names the usage events refused (an
//!   attribute missing), each kept in `rejected_events`;
//! - 400 and a `Status` for a body that does not decode (kept, its first
//!   bytes, in `rejected_events`): nothing of it is stored;
//! - 413 over `[otlp] max_body`, as sent or once inflated;
//! - 415 for a `Content-Encoding` other than gzip (and, from the guard,
//!   any body type but protobuf and JSON);
//! - 503 with `Retry-After` when the writer cannot commit: OTLP exporters
//!   retry it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use serde_json::json;

use super::hook::{read_body, BodyRead};
use super::AppState;
use crate::collect::otel::{map, Mapped, SkipReason};
use crate::ingest::otlp::{decode, decode_metrics, gunzip, wire, DecodeError, Encoding};
use crate::internal_events::{ExportOutcome, RecordOutcome, Signal};
use crate::record::{format_timestamp, RejectCode, Rejection};

/// `rejected_events.source` of what this endpoint refuses.
const EDGE: &str = "otlp";
/// How much of a refused body `rejected_events` keeps.
const KEPT_BYTES: usize = 64 * 1024;

/// What became of an export, whichever transport carried it: the HTTP
/// handlers here and OTLP/gRPC ([`super::grpc`]) each answer it in their
/// protocol's words.
pub(super) enum Verdict {
    /// Committed; the usage events refused, if any, are named.
    Accepted(Option<wire::ExportLogsPartialSuccess>),
    /// Nothing of the export is stored.
    Refused(Refusal, String),
}

/// Why an export was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Malformed,
    TooLarge,
    Timeout,
    Unavailable,
}

pub async fn post_logs(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    post(&state, Signal::Logs, &headers, body).await
}

pub async fn post_metrics(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    post(&state, Signal::Metrics, &headers, body).await
}

async fn post(state: &AppState, signal: Signal, headers: &HeaderMap, body: Body) -> Response {
    // The guard let only these two through.
    let encoding = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::of)
        .unwrap_or(Encoding::Json);
    let gzipped = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            let why = format!("Content-Encoding {other:?} is not supported: send gzip or none");
            state.otlp.export(signal, ExportOutcome::Encoding, &why);
            return status(encoding, StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
        }
    };
    let verdict = match receive(state, signal, encoding, body, state.otlp_max_body).await {
        Ok(bytes) => take(state, signal, encoding, gzipped, &bytes).await,
        Err(refused) => refused,
    };
    match verdict {
        Verdict::Accepted(partial) => success(encoding, partial),
        Verdict::Refused(refusal, why) => {
            let code = match refusal {
                Refusal::Malformed => StatusCode::BAD_REQUEST,
                Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                Refusal::Timeout => StatusCode::REQUEST_TIMEOUT,
                Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            };
            let mut response = status(encoding, code, why);
            if refusal == Refusal::Unavailable {
                // OTLP exporters retry it.
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
    }
}

/// Reads a request body of at most `limit` bytes, within the idle timeout.
pub(super) async fn receive(
    state: &AppState,
    signal: Signal,
    encoding: Encoding,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, Verdict> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(
        state.limits.idle_timeout,
        read_body(body, limit, &mut bytes),
    )
    .await;
    match read {
        Ok(BodyRead::Whole) => Ok(bytes),
        Ok(BodyRead::TooLong) => {
            let why = format!(
                "the export is over the limit of {} bytes ([otlp] max_body); its first bytes \
                 are kept",
                state.otlp_max_body
            );
            Err(refuse(
                state,
                signal,
                encoding,
                &bytes,
                RejectCode::LineTooLong,
                why,
            )
            .await)
        }
        Ok(BodyRead::Broken(error)) => {
            // The connection went before the body was whole: nothing to keep
            // but a fragment. Nothing stored; an exporter still alive saw no
            // success and sends the export again.
            state.otlp.export(signal, ExportOutcome::Incomplete, &error);
            Err(Verdict::Refused(
                Refusal::Malformed,
                format!("cannot read the body: {error}"),
            ))
        }
        Err(_) => {
            let why = format!(
                "the body did not arrive within {} s",
                state.limits.idle_timeout.as_secs()
            );
            Err(refuse(
                state,
                signal,
                encoding,
                &bytes,
                RejectCode::IdleTimeout,
                why,
            )
            .await)
        }
    }
}

/// An export's whole body (inflated first when `gzipped`) → its usage
/// events committed, or the reason nothing of it is.
pub(super) async fn take(
    state: &AppState,
    signal: Signal,
    encoding: Encoding,
    gzipped: bool,
    bytes: &[u8],
) -> Verdict {
    let counters = &state.otlp;
    let limit = state.otlp_max_body;
    let inflated;
    let body = if gzipped {
        match gunzip(bytes, limit) {
            Ok(plain) => {
                inflated = plain;
                &inflated[..]
            }
            Err(e @ DecodeError::Inflated { .. }) => {
                let code = RejectCode::LineTooLong;
                return refuse(state, signal, encoding, bytes, code, e.to_string()).await;
            }
            Err(e) => {
                let code = RejectCode::BadGzip;
                return refuse(state, signal, encoding, bytes, code, e.to_string()).await;
            }
        }
    } else {
        bytes
    };
    let not_it = match encoding {
        Encoding::Protobuf => RejectCode::NotProtobuf,
        Encoding::Json => RejectCode::NotJson,
    };
    if signal == Signal::Metrics {
        return match decode_metrics(body, encoding) {
            Ok(metrics) => {
                counters.metrics(metrics);
                counters.export(signal, ExportOutcome::Accepted, "");
                Verdict::Accepted(None)
            }
            Err(e) => refuse(state, signal, encoding, body, not_it, e.to_string()).await,
        };
    }
    let records = match decode(body, encoding) {
        Ok(records) => records,
        Err(e) => return refuse(state, signal, encoding, body, not_it, e.to_string()).await,
    };
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    let mut skipped = Vec::new();
    let mut no_usage = 0;
    for record in &records {
        match map(record) {
            Mapped::Request(request) => requests.push(request),
            Mapped::Response(response) => responses.push(response),
            Mapped::NoUsage => no_usage += 1,
            Mapped::Skip(reason) => skipped.push((reason, record)),
        }
    }
    let found = (requests.len() + responses.len()) as u64;
    let superseded = match state.writer.write_otel(requests, responses).await {
        Ok(ack) => ack.superseded as u64,
        Err(e) => {
            let why = e.to_string();
            counters.export(signal, ExportOutcome::Unavailable, &why);
            return Verdict::Refused(Refusal::Unavailable, why);
        }
    };
    counters.records(RecordOutcome::Usage, found - superseded);
    counters.records(RecordOutcome::SupersededByLog, superseded);
    counters.records(RecordOutcome::NoUsage, no_usage);
    for (reason, record) in &skipped {
        counters.records(
            match reason {
                SkipReason::Missing(_) => RecordOutcome::MissingAttribute,
                SkipReason::InvalidCount(_) => RecordOutcome::InvalidCount,
            },
            1,
        );
        let shown = attributes_json(record);
        let kept = state
            .writer
            .reject(rejection(
                RejectCode::IncompleteEvent,
                reason.to_string(),
                shown,
            ))
            .await;
        if let Err(e) = kept {
            tracing::warn!(error = %e, "An OTel usage event refused could not be kept.");
        }
    }
    counters.export(signal, ExportOutcome::Accepted, "");
    let partial = (!skipped.is_empty()).then(|| wire::ExportLogsPartialSuccess {
        rejected_log_records: skipped.len() as i64,
        error_message: skipped
            .iter()
            .map(|(reason, _)| reason.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    });
    Verdict::Accepted(partial)
}

/// Keeps a refused body (its first bytes) with the reason, counts it, and
/// tells why.
pub(super) async fn refuse(
    state: &AppState,
    signal: Signal,
    encoding: Encoding,
    body: &[u8],
    code: RejectCode,
    why: String,
) -> Verdict {
    let (outcome, refusal) = match code {
        RejectCode::LineTooLong => (ExportOutcome::TooLarge, Refusal::TooLarge),
        RejectCode::IdleTimeout => (ExportOutcome::Malformed, Refusal::Timeout),
        _ => (ExportOutcome::Malformed, Refusal::Malformed),
    };
    state.otlp.export(signal, outcome, &why);
    let kept = &body[..body.len().min(KEPT_BYTES)];
    let text = match encoding {
        Encoding::Json => String::from_utf8_lossy(kept).into_owned(),
        // Binary: kept as hex, so the row is text a reader can copy out.
        Encoding::Protobuf => kept.iter().map(|b| format!("{b:02x}")).collect(),
    };
    if let Err(e) = state
        .writer
        .reject(rejection(code, why.clone(), text))
        .await
    {
        // Nothing stored; the exporter may send it again.
        let why = format!("{why}; it could not be kept: {e}");
        return Verdict::Refused(Refusal::Unavailable, why);
    }
    Verdict::Refused(refusal, why)
}

fn rejection(code: RejectCode, reason: String, raw_text: String) -> Rejection {
    Rejection {
        received_at: format_timestamp(jiff::Timestamp::now()),
        source: EDGE,
        origin: None,
        reason,
        code,
        raw_text,
    }
}

/// A refused usage event as kept: its attributes as a JSON object.
fn attributes_json(record: &crate::collect::otel::LogRecord) -> String {
    use crate::collect::otel::AnyValue;
    let value = |v: &AnyValue| match v {
        AnyValue::String(s) => json!(s),
        AnyValue::Bool(b) => json!(b),
        AnyValue::Int(n) => json!(n),
        AnyValue::Double(d) => json!(d),
        AnyValue::Other => json!(null),
    };
    let attributes: serde_json::Map<String, serde_json::Value> = record
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect();
    json!({ "attributes": attributes }).to_string()
}

/// 200 and an `ExportLogsServiceResponse` in the request's encoding (the
/// same bytes as an empty `ExportMetricsServiceResponse`).
fn success(encoding: Encoding, partial: Option<wire::ExportLogsPartialSuccess>) -> Response {
    let body = match encoding {
        Encoding::Protobuf => wire::ExportLogsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Encoding::Json => match partial {
            None => b"{}".to_vec(),
            Some(p) => json!({"partialSuccess": {
                "rejectedLogRecords": p.rejected_log_records.to_string(),
                "errorMessage": p.error_message,
            }})
            .to_string()
            .into_bytes(),
        },
    };
    respond(encoding, StatusCode::OK, body)
}

/// An error answer: a `google.rpc.Status` with the message, in the
/// request's encoding (its `code` is gRPC's for the HTTP status).
fn status(encoding: Encoding, status: StatusCode, message: String) -> Response {
    let code = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
        StatusCode::PAYLOAD_TOO_LARGE => 8,                                // RESOURCE_EXHAUSTED
        StatusCode::REQUEST_TIMEOUT => 4,                                  // DEADLINE_EXCEEDED
        _ => 14,                                                           // UNAVAILABLE
    };
    let body = match encoding {
        Encoding::Protobuf => wire::Status { code, message }.encode_to_vec(),
        Encoding::Json => json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    };
    respond(encoding, status, body)
}

fn respond(encoding: Encoding, status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response()
}
