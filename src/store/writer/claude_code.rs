//! What the writer reads of Claude Code's agent names: whether a stored
//! record is a sidechain's. The names themselves are the collector's
//! ([`crate::collect::claude_code`]), which writes them.

use super::reconcile::Lineage;
pub(super) use crate::collect::claude_code::MAIN_AGENT;

/// Whose a stored record of a Claude Code message is, by its agent.
pub(super) fn lineage_of(agent_id: &str) -> Lineage {
    if crate::collect::claude_code::is_subagent(agent_id) {
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
