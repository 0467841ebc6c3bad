//! Directories hookmeter creates for itself (the database's, the socket's,
//! the spool and its `rejected/`): owner-only, since what they hold (prompts,
//! costs, events) is nobody else's business. A leaf: it imports nothing of
//! hookmeter, so the hook client (`send`) can create the spool without
//! pulling in the store.

use std::path::Path;

/// Creates a directory tree readable by its owner only: it holds prompts and costs.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
