//! `POST /hook` (docs/ingest.md#post-hook): reads the body under the size limit and hands
//! it to the ingest edge; the status says what became of it.
//!
//! - 200 once the event is committed. Claude Code's `type: "http"` hooks
//!   read the body as hook output: `{}` asks for nothing; a PreToolUse
//!   event whose scope has spent an enforced budget gets the deny decision
//!   `hookmeter send` prints ([`crate::ingest::deny_decision`]). Anything short
//!   of the guard's answer is `{}`: enforcement fails open;
//! - 400 `{"error"}`: unusable, kept in `rejected_events`;
//! - 413 `{"error"}`: over `limits.max_line_bytes`, its first bytes kept;
//! - 503 `{"error", "retry": true}`: nothing stored, send it again later.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;
use crate::ingest::http::Delivery;
use crate::ingest::EnvelopeFields;
use crate::record::RejectCode;

/// How reading a body ended.
pub(super) enum BodyRead {
    Whole,
    /// More than the limit arrived; the buffer holds its first `limit` bytes.
    TooLong,
    /// The client stopped sending (or the connection broke) mid-body.
    Broken(String),
}

pub async fn post_hook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = state.limits.max_line_bytes;
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(
        state.limits.idle_timeout,
        read_body(body, limit, &mut bytes),
    )
    .await;
    let edge = &state.hook;
    let delivery = match read {
        Ok(BodyRead::Whole) => {
            let given = EnvelopeFields {
                agent_id: header_text(&headers, "x-hookmeter-agent"),
                task_id: header_text(&headers, "x-hookmeter-task"),
            };
            edge.deliver(&bytes, &given).await
        }
        Ok(BodyRead::TooLong) => {
            let size = headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .map(|n| format!("{n} bytes"))
                .unwrap_or_else(|| "larger".to_string());
            let reason = format!(
                "body is {size}, over the limit of {limit} (limits.max_line_bytes); its first {} bytes are kept",
                bytes.len()
            );
            let refused = edge.refuse(&bytes, RejectCode::LineTooLong, reason).await;
            return answer(refused, StatusCode::PAYLOAD_TOO_LARGE);
        }
        Ok(BodyRead::Broken(error)) => {
            // Nothing is stored: the client saw no 200 and keeps the event.
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("cannot read the body: {error}")})),
            )
                .into_response();
        }
        Err(_) => {
            let secs = state.limits.idle_timeout.as_secs();
            let reason = format!(
                "the body did not arrive within {secs} s; its first {} bytes are kept",
                bytes.len()
            );
            let refused = edge.refuse(&bytes, RejectCode::IdleTimeout, reason).await;
            return answer(refused, StatusCode::REQUEST_TIMEOUT);
        }
    };
    answer(delivery, StatusCode::BAD_REQUEST)
}

/// The response for `delivery`; a rejection gets `rejected_status`.
fn answer(delivery: Delivery, rejected_status: StatusCode) -> Response {
    match delivery {
        Delivery::Committed { ack, deny } => {
            let mut response = match deny {
                None => Json(json!({})).into_response(),
                Some(reason) => (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    crate::ingest::deny_decision(&reason),
                )
                    .into_response(),
            };
            let headers = response.headers_mut();
            if let Ok(id) = HeaderValue::from_str(&ack.id) {
                headers.insert("x-hookmeter-event-id", id);
            }
            headers.insert("x-hookmeter-records", HeaderValue::from(ack.records));
            response
        }
        Delivery::Rejected(reason) => {
            (rejected_status, Json(json!({"error": reason}))).into_response()
        }
        Delivery::Unavailable(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "1")],
            Json(json!({"error": error, "retry": true})),
        )
            .into_response(),
    }
}

/// Reads `body` into `out`, never holding more than `limit` bytes of it.
pub(super) async fn read_body(mut body: Body, limit: usize, out: &mut Vec<u8>) -> BodyRead {
    loop {
        let frame = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return BodyRead::Whole,
            Some(Err(e)) => return BodyRead::Broken(e.to_string()),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                let room = limit - out.len();
                if data.len() > room {
                    out.extend_from_slice(&data[..room]);
                    return BodyRead::TooLong;
                }
                out.extend_from_slice(&data);
            }
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
