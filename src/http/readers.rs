//! Read-only connections for the API: a few kept open between requests
//! (so statement caches stay warm), each used by one blocking thread at a
//! time. A query never runs on the async threads and never on the writer's
//! connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::ApiError;
use crate::query::QueryError;

/// Connections kept open while idle; more are opened under load and closed after.
const IDLE_CONNECTIONS: usize = 4;

pub struct Readers {
    db: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub fn new(db: PathBuf) -> Readers {
        Readers {
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `query` on a read-only connection, on a blocking thread.
    pub async fn run<T, F>(self: &Arc<Self>, query: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, QueryError> + Send + 'static,
    {
        let readers = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let conn = match readers.take() {
                Some(conn) => conn,
                None => crate::store::open_reader(&readers.db).map_err(|e| {
                    tracing::warn!(error = %e, "Cannot open a read connection for the HTTP API.");
                    ApiError::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        format!("database unavailable: {e}"),
                    )
                })?,
            };
            let result = query(&conn);
            readers.give_back(conn);
            result.map_err(ApiError::from)
        })
        .await;
        joined.unwrap_or_else(|e| {
            tracing::error!(error = %e, "An HTTP query panicked.");
            Err(ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ))
        })
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().ok()?.pop()
    }

    fn give_back(&self, conn: Connection) {
        // A transaction left open would pin an old snapshot for the next
        // request (and keep the WAL from being checkpointed): never keep one.
        if !conn.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
    }
}
