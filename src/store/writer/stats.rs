//! What the writer thread has done, for `/metrics`: the batch-size and
//! commit-latency histograms and the failed-commit count. Plain atomics the
//! writer bumps and readers read without a lock; nothing here touches the
//! database or decides anything.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the batch-size histogram, in operations per transaction.
pub const BATCH_SIZE_BOUNDS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
/// Upper bounds of the commit-latency histogram, in microseconds.
pub const COMMIT_MICROS_BOUNDS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Counters the writer thread bumps and readers (`/metrics`) read, without a
/// lock on either side. They live as long as the process, not the database.
#[derive(Debug)]
pub struct WriterStats {
    /// Operations (events, rejections, transcript batches) per transaction.
    pub batch_size: Histogram<12>,
    /// Time from the start of a batch's transaction to its commit returning.
    pub commit_micros: Histogram<14>,
    /// Transactions that failed; their operations were answered with an error.
    pub failed_commits: AtomicU64,
    /// Records of Codex and Gemini CLI sessions made from OTel events,
    /// removed once the session's own log was read (one source per
    /// session, docs/ingest.md#one-source-per-session).
    pub session_events_replaced: AtomicU64,
    /// Woken after a commit that added or changed cost records, or brought
    /// a plan window's use: spend changed, so budgets are worth checking.
    pub spend_changed: tokio::sync::Notify,
    /// Woken by the same commits, for the push (a task of its own: each
    /// `Notify` keeps one waiter's wake-up).
    pub records_changed: tokio::sync::Notify,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            batch_size: Histogram::new(BATCH_SIZE_BOUNDS),
            commit_micros: Histogram::new(COMMIT_MICROS_BOUNDS),
            failed_commits: AtomicU64::new(0),
            session_events_replaced: AtomicU64::new(0),
            spend_changed: tokio::sync::Notify::new(),
            records_changed: tokio::sync::Notify::new(),
        }
    }
}

/// Observations counted into fixed buckets (`value <= bound`), plus one
/// bucket for everything above the last bound.
#[derive(Debug)]
pub struct Histogram<const N: usize> {
    bounds: [u64; N],
    /// `buckets[i]` counts values in `(bounds[i-1], bounds[i]]`; the last
    /// one counts values above every bound. Not cumulative.
    buckets: Vec<AtomicU64>,
    sum: AtomicU64,
}

/// A histogram as read at one moment: cumulative counts, Prometheus-style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// (upper bound, observations at or below it), bounds ascending.
    pub cumulative: Vec<(u64, u64)>,
    /// Every observation (the `+Inf` bucket).
    pub count: u64,
    pub sum: u64,
}

impl<const N: usize> Histogram<N> {
    pub fn new(bounds: [u64; N]) -> Self {
        Histogram {
            bounds,
            buckets: (0..=N).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: u64) {
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// The counts now. Buckets are read one by one while the writer may
    /// add to them; the count is the sum of what was read, so the snapshot
    /// is always self-consistent.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(N);
        let mut running = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((*bound, running));
        }
        let count = running + self.buckets[N].load(Ordering::Relaxed);
        HistogramSnapshot {
            cumulative,
            count,
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_upper_inclusive_and_cumulative() {
        let h = Histogram::new([1, 4, 16]);
        for value in [0, 1, 2, 4, 5, 16, 17, 1000] {
            h.observe(value);
        }
        let snap = h.snapshot();
        assert_eq!(snap.cumulative, vec![(1, 2), (4, 4), (16, 6)]);
        assert_eq!(snap.count, 8);
        assert_eq!(snap.sum, 1045);
    }
}
