//! Memory of the model each session last used, for events that name none.
//!
//! Claude Code's SessionStart names the model and later hook events do not;
//! Codex names it in one `turn_context` line and counts tokens in others. Owned
//! by the single writer thread (so no locking); bounded, because sessions
//! never announce that they are over in any way the daemon can rely on.

use std::collections::HashMap;
use std::mem;

use super::Collected;

/// Each session's last known model, bounded in memory.
///
/// Two generations of maps: writes go to `current`; when it holds `capacity`
/// sessions it becomes `previous` and the old `previous` is dropped whole.
/// That is O(1) per call, without the bookkeeping of an exact LRU, and it
/// keeps every one of the `capacity` most recently remembered sessions: a
/// session is only dropped after a whole generation of `capacity` others was
/// remembered since it last was. At most `2 × capacity` sessions are held.
#[derive(Debug, Clone)]
pub struct SessionModels {
    /// Sessions remembered since the last generation swap.
    current: HashMap<String, String>,
    /// Sessions from the generation before; read, and moved to `current` when
    /// remembered again, so an active session never ages out.
    previous: HashMap<String, String>,
    /// Sessions a generation holds before it is retired.
    capacity: usize,
}

impl SessionModels {
    /// Remembers at least the `capacity` most recent sessions (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            current: HashMap::new(),
            previous: HashMap::new(),
            capacity,
        }
    }

    /// Records `model` as the session's latest. Empty names are ignored: they
    /// would only erase a model worth keeping.
    pub fn remember(&mut self, session: &str, model: &str) {
        if session.is_empty() || model.is_empty() {
            return;
        }
        if let Some(known) = self.current.get_mut(session) {
            if known != model {
                model.clone_into(known);
            }
            return;
        }
        // Moving, not copying, from `previous` keeps each session in one map,
        // which is what bounds the total at two generations.
        let key = match self.previous.remove_entry(session) {
            Some((key, _)) => key,
            None => session.to_owned(),
        };
        if self.current.len() >= self.capacity {
            self.previous = mem::take(&mut self.current);
        }
        self.current.insert(key, model.to_owned());
    }

    /// The session's last known model.
    pub fn last(&self, session: &str) -> Option<&str> {
        self.current
            .get(session)
            .or_else(|| self.previous.get(session))
            .map(String::as_str)
    }

    /// Learns from a collected event: when it names both its session and its
    /// model, that model becomes the session's latest.
    pub fn observe(&mut self, collected: &Collected) {
        if let (Some(session), Some(model)) = (&collected.session_id, &collected.model) {
            self.remember(session, model);
        }
    }

    /// The model an event ran on: its own when it names one, else its
    /// session's last known model (docs/usage.md#which-model).
    pub fn model_for<'a>(&'a self, collected: &'a Collected) -> Option<&'a str> {
        collected
            .model
            .as_deref()
            .or_else(|| self.last(collected.session_id.as_deref()?))
    }

    /// Sessions currently held, for metrics and tests.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_updates() {
        let mut models = SessionModels::new(4);
        assert_eq!(models.last("s1"), None);
        models.remember("s1", "claude-sonnet-4-5");
        assert_eq!(models.last("s1"), Some("claude-sonnet-4-5"));
        models.remember("s1", "claude-opus-4-6");
        assert_eq!(models.last("s1"), Some("claude-opus-4-6"));
        assert_eq!(models.len(), 1);
    }

    #[test]
    fn empty_names_are_ignored() {
        let mut models = SessionModels::new(4);
        models.remember("s1", "gpt-5");
        models.remember("s1", "");
        models.remember("", "gpt-5");
        assert_eq!(models.last("s1"), Some("gpt-5"));
        assert_eq!(models.len(), 1);
    }

    #[test]
    fn keeps_the_most_recent_capacity_sessions_and_stays_bounded() {
        let capacity = 8;
        let mut models = SessionModels::new(capacity);
        for i in 0..1000usize {
            models.remember(&format!("s{i}"), &format!("m{i}"));
            assert!(models.len() <= 2 * capacity);
            for recent in i.saturating_sub(capacity - 1)..=i {
                assert_eq!(
                    models.last(&format!("s{recent}")),
                    Some(format!("m{recent}").as_str()),
                    "s{recent} is among the last {capacity} after s{i}"
                );
            }
        }
        assert_eq!(models.last("s0"), None);
    }

    #[test]
    fn an_active_session_never_ages_out() {
        let mut models = SessionModels::new(2);
        models.remember("busy", "claude-sonnet-4-5");
        for i in 0..100 {
            models.remember(&format!("other{i}"), "gpt-5");
            models.remember("busy", "claude-sonnet-4-5");
        }
        assert_eq!(models.last("busy"), Some("claude-sonnet-4-5"));
        assert!(models.len() <= 4);
    }

    #[test]
    fn a_session_moved_from_the_previous_generation_is_held_once() {
        let mut models = SessionModels::new(2);
        models.remember("a", "m1");
        models.remember("b", "m1");
        models.remember("c", "m1"); // a, b retire to the previous generation
        models.remember("a", "m2"); // a moves back to the current one
        assert_eq!(models.last("a"), Some("m2"));
        assert_eq!(models.len(), 3);
    }

    #[test]
    fn zero_capacity_still_remembers_the_latest() {
        let mut models = SessionModels::new(0);
        models.remember("a", "m");
        assert_eq!(models.last("a"), Some("m"));
        models.remember("b", "n");
        assert_eq!(models.last("b"), Some("n"));
        assert!(models.len() <= 2);
    }

    #[test]
    fn an_events_own_model_wins_over_its_sessions() {
        let mut models = SessionModels::new(4);
        let start = Collected {
            session_id: Some("s1".into()),
            model: Some("claude-sonnet-4-5-20250929".into()),
            ..Collected::default()
        };
        models.observe(&start);
        let later = Collected {
            session_id: Some("s1".into()),
            ..Collected::default()
        };
        assert_eq!(models.model_for(&later), Some("claude-sonnet-4-5-20250929"));
        let own = Collected {
            model: Some("claude-haiku-4-5".into()),
            ..later.clone()
        };
        assert_eq!(models.model_for(&own), Some("claude-haiku-4-5"));
        assert_eq!(models.model_for(&Collected::default()), None);
    }
}
