//! What the OTLP receiver (`POST /v1/logs`, `/v1/metrics`, OTLP/gRPC)
//! received and made of it ([`OtlpCounters`]), for `/metrics`: exports by
//! signal and outcome, log records by what they were worth, metrics read.

use std::sync::atomic::{AtomicU64, Ordering};

/// What an export carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Logs,
    /// Metric points: read, counted, never made records.
    Metrics,
}

/// How an export was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportOutcome {
    /// 200: every record read (some may be skipped: a partial success).
    Accepted,
    /// 400: the body does not decode (protobuf, JSON or gzip).
    Malformed,
    /// The body stopped before its end: the exporter closed the connection
    /// or reset the stream (an agent exiting mid-export); nobody hears the
    /// answer.
    Incomplete,
    /// 413: over `[otlp] max_body`, as sent or inflated.
    TooLarge,
    /// 415: a `Content-Encoding` other than gzip.
    Encoding,
    /// 503: the writer could not commit; the exporter retries.
    Unavailable,
}

impl ExportOutcome {
    pub const ALL: [ExportOutcome; 6] = [
        ExportOutcome::Accepted,
        ExportOutcome::Malformed,
        ExportOutcome::Incomplete,
        ExportOutcome::TooLarge,
        ExportOutcome::Encoding,
        ExportOutcome::Unavailable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ExportOutcome::Accepted => "accepted",
            ExportOutcome::Malformed => "malformed",
            ExportOutcome::Incomplete => "incomplete",
            ExportOutcome::TooLarge => "too_large",
            ExportOutcome::Encoding => "encoding",
            ExportOutcome::Unavailable => "unavailable",
        }
    }
}

/// What a log record of an accepted export was worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// A usage event: a request written.
    Usage,
    /// An event with no usage (a prompt, a tool decision, another agent's).
    NoUsage,
    /// A usage event without an attribute a record needs.
    MissingAttribute,
    /// A usage event whose token count is not one.
    InvalidCount,
    /// A Codex or Gemini CLI usage event of a session whose own log
    /// hookmeter reads, which records it instead (one source per session).
    SupersededByLog,
}

impl RecordOutcome {
    pub const ALL: [RecordOutcome; 5] = [
        RecordOutcome::Usage,
        RecordOutcome::NoUsage,
        RecordOutcome::MissingAttribute,
        RecordOutcome::InvalidCount,
        RecordOutcome::SupersededByLog,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RecordOutcome::Usage => "usage",
            RecordOutcome::NoUsage => "no_usage",
            RecordOutcome::MissingAttribute => "missing_attribute",
            RecordOutcome::InvalidCount => "invalid_count",
            RecordOutcome::SupersededByLog => "superseded_by_log",
        }
    }
}

/// Counts since the daemon started.
#[derive(Debug, Default)]
pub struct OtlpCounters {
    exports: [AtomicU64; ExportOutcome::ALL.len()],
    records: [AtomicU64; RecordOutcome::ALL.len()],
    metric_exports: [AtomicU64; ExportOutcome::ALL.len()],
    /// Metrics (each with its points) in accepted metrics exports.
    metrics: AtomicU64,
}

impl OtlpCounters {
    /// An export answered; logged at debug (a refused one at warn: its
    /// exporter's data is lost unless it retries).
    pub fn export(&self, signal: Signal, outcome: ExportOutcome, why: &str) {
        let i = ExportOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        let (counts, name) = match signal {
            Signal::Logs => (&self.exports, "logs"),
            Signal::Metrics => (&self.metric_exports, "metrics"),
        };
        counts[i].fetch_add(1, Ordering::Relaxed);
        match outcome {
            ExportOutcome::Accepted => tracing::debug!("Accepted an OTLP {name} export."),
            _ => tracing::warn!(
                outcome = outcome.label(),
                error = why,
                "Refused an OTLP {name} export."
            ),
        }
    }

    /// `n` metrics of an accepted metrics export, set aside.
    pub fn metrics(&self, n: u64) {
        self.metrics.fetch_add(n, Ordering::Relaxed);
    }

    pub fn metric_exports_by_outcome(&self) -> Vec<(&'static str, u64)> {
        ExportOutcome::ALL
            .iter()
            .zip(&self.metric_exports)
            .map(|(o, n)| (o.label(), n.load(Ordering::Relaxed)))
            .collect()
    }

    pub fn metrics_received(&self) -> u64 {
        self.metrics.load(Ordering::Relaxed)
    }

    /// `n` log records worth `outcome`.
    pub fn records(&self, outcome: RecordOutcome, n: u64) {
        let i = RecordOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.records[i].fetch_add(n, Ordering::Relaxed);
    }

    pub fn exports_by_outcome(&self) -> Vec<(&'static str, u64)> {
        ExportOutcome::ALL
            .iter()
            .zip(&self.exports)
            .map(|(o, n)| (o.label(), n.load(Ordering::Relaxed)))
            .collect()
    }

    pub fn records_by_outcome(&self) -> Vec<(&'static str, u64)> {
        RecordOutcome::ALL
            .iter()
            .zip(&self.records)
            .map(|(o, n)| (o.label(), n.load(Ordering::Relaxed)))
            .collect()
    }
}
