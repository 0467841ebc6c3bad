//! What the writer must know of Claude Code's transcripts, in one place:
//! the name main-thread records are kept under and the prefix that marks a
//! subagent's. Pure; the parser that reads those names off transcript lines
//! is [`crate::collect::transcript`]'s.

use super::reconcile::Lineage;

/// The agent a main-thread transcript record is kept under (a transcript
/// line names no agent of its own on the main thread).
pub(super) const MAIN_AGENT: &str = "claude-code";

/// Subagents' (sidechain) records are kept as `subagent:<id>`.
const SUBAGENT_PREFIX: &str = "subagent:";

/// Whose a stored record of a Claude Code message is, by its agent.
pub(super) fn lineage_of(agent_id: &str) -> Lineage {
    if agent_id.starts_with(SUBAGENT_PREFIX) {
        Lineage::Sidechain
    } else {
        Lineage::Main
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subagents_are_sidechains_and_everyone_else_is_the_main_thread() {
        assert_eq!(lineage_of("subagent:a1b2"), Lineage::Sidechain);
        assert_eq!(lineage_of("subagent:unknown"), Lineage::Sidechain);
        assert_eq!(lineage_of(MAIN_AGENT), Lineage::Main);
        // A hook event's own agent name is not a subagent's.
        assert_eq!(lineage_of("codex"), Lineage::Main);
    }
}
