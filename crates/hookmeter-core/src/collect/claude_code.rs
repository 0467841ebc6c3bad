//! Claude Code's agent names, in one place: what its main thread's records
//! are kept under and how a subagent's are marked. The collector writes
//! these names (hook events and transcript lines alike, so the two agree);
//! the writer reads them back to tell a sidechain replay from the message
//! it replays.

/// The agent a Claude Code payload or main-thread transcript line is kept
/// under when it names no agent of its own.
pub const MAIN_AGENT: &str = "claude-code";

/// The prefix of a subagent's (sidechain's) agent name: `subagent:<id>`.
pub const SUBAGENT_PREFIX: &str = "subagent:";

/// The agent name of the subagent `id`.
pub fn subagent(id: &str) -> String {
    format!("{SUBAGENT_PREFIX}{id}")
}

/// Whether `agent_id` names a Claude Code subagent.
pub fn is_subagent(agent_id: &str) -> bool {
    agent_id.starts_with(SUBAGENT_PREFIX)
}
