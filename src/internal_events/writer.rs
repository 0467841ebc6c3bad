//! The writer's events.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

/// A writer transaction failed: nothing of its batch is committed, and
/// every sender was answered with an error and still holds its data.
/// Counted in `hookmeter_writer_failed_commits_total`.
pub struct CommitFailed<'a> {
    /// Why the transaction failed.
    pub error: &'a dyn Display,
    /// Operations in the batch, each answered with the error.
    pub ops: usize,
}

impl CommitFailed<'_> {
    /// Counts the failure in `failed_commits` and logs it.
    pub fn emit(self, failed_commits: &AtomicU64) {
        failed_commits.fetch_add(1, Ordering::Relaxed);
        // ERROR: the database refuses writes, which an operator must fix
        // before the senders' retries run out of room.
        tracing::error!(
            error = %self.error,
            ops = self.ops,
            "Could not commit a batch; its events stay with their senders."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commit_is_counted() {
        let failed = AtomicU64::new(0);
        CommitFailed {
            error: &"disk I/O error",
            ops: 3,
        }
        .emit(&failed);
        assert_eq!(failed.load(Ordering::Relaxed), 1);
    }
}
