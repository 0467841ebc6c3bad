//! What the statusline hands the daemon: the figures Claude Code reported
//! (the session's `cost.total_cost_usd`, the plan windows' use), as a
//! `hookmeter.statusline` event written into the spool the way `hookmeter
//! send` spools (docs/hook-protocol.md#statusline-events). Never the socket:
//! the line must not wait for the daemon.
//!
//! Claude Code runs the statusline after every message, mostly with the
//! same figures: a small state file per session (in `.statusline/` inside
//! the spool, which the daemon does not read) keeps the last figures handed
//! over, and the same ones again are not written.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::ingest::statusline::STATUSLINE_EVENT;
use crate::send::{envelope_line, spool, Attribution};

/// The folder of the state files, inside the spool (a dotfolder: the
/// spool's reader skips it).
const STATE_DIR: &str = ".statusline";

/// The event for Claude Code's statusline input: only the session id and
/// the reported figures (no paths, no workspace), `None` when the input
/// names no session or reports nothing.
pub fn event(input: &Value) -> Option<Value> {
    let session = input
        .get("session_id")?
        .as_str()
        .filter(|s| !s.is_empty())?;
    let mut event = Map::new();
    event.insert("hook_event_name".into(), json!(STATUSLINE_EVENT));
    event.insert("session_id".into(), json!(session));
    if let Some(total) = input
        .pointer("/cost/total_cost_usd")
        .filter(|v| v.is_number())
    {
        event.insert("cost".into(), json!({ "total_cost_usd": total }));
    }
    let mut windows = Map::new();
    for window in ["five_hour", "seven_day"] {
        let Some(reported) = input.pointer(&format!("/rate_limits/{window}")) else {
            continue;
        };
        let mut kept = Map::new();
        for key in ["used_percentage", "resets_at"] {
            if let Some(value) = reported.get(key) {
                kept.insert(key.into(), value.clone());
            }
        }
        windows.insert(window.into(), Value::Object(kept));
    }
    if !windows.is_empty() {
        event.insert("rate_limits".into(), Value::Object(windows));
    }
    (event.len() > 2).then_some(Value::Object(event))
}

/// Spools the event for `input` unless the same figures were handed over
/// for its session last time. Failures are silent: the line matters more.
pub fn hand_over(spool_dir: &Path, input: &[u8]) -> Option<PathBuf> {
    let input: Value = serde_json::from_slice(input).ok()?;
    let event = event(&input)?;
    let text = event.to_string();
    let state = state_file(spool_dir, event["session_id"].as_str()?);
    if std::fs::read_to_string(&state).ok().as_deref() == Some(text.as_str()) {
        return None;
    }
    let who = Attribution {
        agent_id: Some("claude-code".to_string()),
        ..Default::default()
    };
    let (line, _) = envelope_line(text.as_bytes(), false, &who);
    let spooled = spool(spool_dir, &line).ok()?;
    remember(&state, &text);
    Some(spooled)
}

/// Where the last figures handed over for `session` are kept: named by a
/// hash, so any session id makes a safe file name.
fn state_file(spool_dir: &Path, session: &str) -> PathBuf {
    let hash = Sha256::digest(session.as_bytes());
    let name: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
    spool_dir.join(STATE_DIR).join(name)
}

/// Replaces the state file atomically, so a concurrent line reads the old
/// figures or the new, never half.
fn remember(state: &Path, text: &str) {
    let Some(dir) = state.parent() else { return };
    if crate::fs::create_private_dir(dir).is_err() {
        return;
    }
    let tmp = state.with_extension(format!("{}.tmp", std::process::id()));
    if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, state).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_session_and_the_reported_figures() {
        let input = json!({
            "session_id": "s1", "transcript_path": "/home/u/.claude/x.jsonl", "cwd": "/home/u/p",
            "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
            "cost": {"total_cost_usd": 0.25, "total_lines_added": 3},
            "rate_limits": {"five_hour": {"used_percentage": 12.5, "resets_at": 1800000000}}
        });
        let event = event(&input).unwrap();
        assert_eq!(
            event,
            json!({"hook_event_name": STATUSLINE_EVENT, "session_id": "s1",
                   "cost": {"total_cost_usd": 0.25},
                   "rate_limits": {"five_hour": {"used_percentage": 12.5, "resets_at": 1800000000}}})
        );
        assert_eq!(event_of(json!({"session_id": "s1", "model": {}})), None);
        assert_eq!(event_of(json!({"cost": {"total_cost_usd": 1}})), None);
    }

    fn event_of(input: Value) -> Option<Value> {
        event(&input)
    }

    #[test]
    fn the_same_figures_are_handed_over_once() {
        let dir = tempfile::tempdir().unwrap();
        let input = br#"{"session_id":"s1","cost":{"total_cost_usd":0.25}}"#;
        assert!(hand_over(dir.path(), input).is_some());
        assert!(hand_over(dir.path(), input).is_none());
        let changed = br#"{"session_id":"s1","cost":{"total_cost_usd":0.5}}"#;
        assert!(hand_over(dir.path(), changed).is_some());
    }
}
