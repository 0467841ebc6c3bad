//! Requests the HTTP guard refused before any route saw them
//! (`crate::http::guard` decides; this counts and logs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a request was refused; the `reason` label of
/// `hookmeter_http_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A write whose body is not declared `application/json`: 415.
    ContentType,
    /// A write from a page of another origin: 403.
    Origin,
    /// A `Host` this daemon does not answer to, or none: 421.
    Host,
}

impl Refusal {
    pub const ALL: [Refusal; 3] = [Refusal::ContentType, Refusal::Origin, Refusal::Host];

    pub fn label(self) -> &'static str {
        match self {
            Refusal::ContentType => "content_type",
            Refusal::Origin => "origin",
            Refusal::Host => "host",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// At most one log line per reason in this time.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The refusals since the daemon started, by reason: the one place that
/// both counts them (for `/metrics`) and logs them.
#[derive(Debug, Default)]
pub struct Refusals {
    counts: [AtomicU64; 3],
    logs: [Mutex<LogWindow>; 3],
}

impl Refusals {
    /// Counts a refusal and logs it, unless a line for the same reason was
    /// written less than a minute ago (the next line says how many were
    /// left out). `why` is a sentence's end: "its Origin ... is not ...".
    pub fn record(&self, refusal: Refusal, why: &str) {
        self.counts[refusal.index()].fetch_add(1, Ordering::Relaxed);
        let due = match self.logs[refusal.index()].lock() {
            Ok(mut window) => window.admit(Instant::now()),
            Err(_) => None,
        };
        let Some(unlogged) = due else { return };
        let reason = refusal.label();
        if unlogged == 0 {
            tracing::warn!(reason, "Refused an HTTP request: {why}.");
        } else {
            tracing::warn!(
                reason,
                unlogged,
                "Refused an HTTP request: {why}; {unlogged} more refused for the same reason \
                 since the last such line."
            );
        }
    }

    /// `(reason, refusals)` for every reason, zeros included.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        Refusal::ALL
            .iter()
            .map(|r| (r.label(), self.counts[r.index()].load(Ordering::Relaxed)))
            .collect()
    }
}

/// When the last line of one reason was written and how many refusals of
/// it went unlogged since.
#[derive(Debug, Default)]
struct LogWindow {
    last: Option<Instant>,
    unlogged: u64,
}

impl LogWindow {
    /// `Some(unlogged since the last line)` when a line is due at `now`.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < LOG_EVERY => {
                self.unlogged += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.unlogged))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_minute_per_reason_then_the_count_left_out() {
        let mut window = LogWindow::default();
        let start = Instant::now();
        assert_eq!(window.admit(start), Some(0));
        assert_eq!(window.admit(start + Duration::from_secs(1)), None);
        assert_eq!(window.admit(start + Duration::from_secs(59)), None);
        assert_eq!(window.admit(start + Duration::from_secs(60)), Some(2));
        assert_eq!(window.admit(start + Duration::from_secs(61)), None);
        assert_eq!(window.admit(start + Duration::from_secs(200)), Some(1));
    }

    #[test]
    fn every_reason_is_counted_apart() {
        let refusals = Refusals::default();
        refusals.record(Refusal::Host, "test");
        refusals.record(Refusal::Host, "test");
        refusals.record(Refusal::Origin, "test");
        assert_eq!(
            refusals.counts(),
            [("content_type", 0), ("origin", 1), ("host", 2)]
        );
    }
}
