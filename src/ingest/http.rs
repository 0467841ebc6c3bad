//! The HTTP hook source (docs/ingest.md#post-hook): one payload per `POST /hook`, answered
//! only once its fate is durable, like a socket line. The HTTP server owns
//! the request (routing, body limit, status codes); this edge owns what
//! happens to the bytes, and never touches the database except through the
//! writer. Like the socket, it asks the budget guard about a committed
//! PreToolUse event, so a Claude Code `type: "http"` hook is enforced too.

use crate::budget::alerts::Guard;
use crate::ingest::transcript::TailHandle;
use crate::ingest::{Decoder, EnvelopeFields};
use crate::record::{format_timestamp, RejectCode, Rejection};
use crate::store::writer::{outcome, Ack, WriterHandle};

/// What `POST /hook` needs, shared by every request.
pub struct HookEdge {
    pub writer: WriterHandle,
    /// Where events that name a transcript send it to be read.
    pub tail: TailHandle,
    /// `Source::Http`, edge `http`.
    pub decoder: Decoder,
    /// Answers whether a PreToolUse event's scope has spent an enforced budget.
    pub guard: Guard,
}

/// The fate of one posted payload.
#[derive(Debug)]
pub enum Delivery {
    /// Committed: the event and its records are in the database. `deny`
    /// holds the guard's reason when the event is a PreToolUse whose scope
    /// has spent an enforced budget.
    Committed { ack: Ack, deny: Option<String> },
    /// Unusable; kept in `rejected_events` with this reason.
    Rejected(String),
    /// Nothing was stored: the sender must keep the payload and retry.
    Unavailable(String),
}

impl HookEdge {
    /// Decodes `bytes`, queues the event (or its rejection) to the writer and
    /// waits for the commit.
    pub async fn deliver(&self, bytes: &[u8], given: &EnvelopeFields) -> Delivery {
        let received_at = jiff::Timestamp::now();
        match self.decoder.decode_with(bytes, None, received_at, given) {
            Ok(event) => {
                self.tail.follow(&event).await;
                // Who asks, taken before the event moves to the writer; asked
                // only once the event is committed, as on the socket.
                let asker = (event.event_name.as_deref() == Some("PreToolUse")).then(|| {
                    (
                        event.agent_id.clone(),
                        event.task_id.clone(),
                        event.project.clone(),
                    )
                });
                match self.writer.queue_event(event).await {
                    Ok(receipt) => match outcome(receipt).await {
                        Ok(ack) => {
                            let deny = asker.and_then(|(agent, task, project)| {
                                let now = jiff::Timestamp::now();
                                self.guard
                                    .deny(&agent, task.as_deref(), project.as_deref(), now)
                            });
                            Delivery::Committed { ack, deny }
                        }
                        Err(e) => Delivery::Unavailable(e.to_string()),
                    },
                    Err(e) => Delivery::Unavailable(e.to_string()),
                }
            }
            Err(rejection) => self.keep(rejection).await,
        }
    }

    /// Keeps input that never became a payload (over the size limit, cut
    /// off by a timeout): its first bytes and why.
    pub async fn refuse(&self, bytes: &[u8], code: RejectCode, reason: String) -> Delivery {
        self.keep(Rejection {
            received_at: format_timestamp(jiff::Timestamp::now()),
            source: self.decoder.edge,
            origin: None,
            reason,
            code,
            raw_text: String::from_utf8_lossy(bytes).into_owned(),
        })
        .await
    }

    async fn keep(&self, rejection: Rejection) -> Delivery {
        tracing::debug!(reason = %rejection.reason, "Rejected a POST /hook payload.");
        let reason = rejection.reason.clone();
        match self.writer.reject(rejection).await {
            Ok(()) => Delivery::Rejected(reason),
            Err(e) => Delivery::Unavailable(format!("{reason}; it could not be kept: {e}")),
        }
    }
}
