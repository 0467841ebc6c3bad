//! Which snapshot of a request wins, and when a sidechain replay gives way:
//! the rule every source's repeated records are reconciled by, as a pure
//! function from what is stored and what arrived to a [`Plan`] the writer
//! carries out with SQL.
//!
//! Sources repeat themselves. A streaming hook source sends the same event
//! again with growing counts; a Claude Code transcript writes one API
//! message over several lines (each a snapshot of its usage), a resumed
//! session copies it, and a subagent's sidechain replays a main-thread
//! message under another request id. The rule: one record per request, the
//! largest snapshot wins (each source says what "larger" means, see
//! [`Rule`]), tool names gather where the source spreads them over lines,
//! and a message counts once, on the main thread, whichever copy arrived
//! first. Whose it is does depend on which copy: a forked session's copy of
//! its parent's message gives the record up to the original, the parent's
//! line, when that arrives later (docs/ingest.md#forked-sessions). A new
//! source adds a [`Rule`] variant, not a branch in the writer.
//!
//! Pure: no SQL, no I/O, no clock. Which agent names mean a sidechain is
//! Claude Code's and lives in `claude_code`.

use crate::collect::transcript::{merge_tool_names, snapshot_rank};
use crate::collect::Usage;

/// How one source's snapshots of a request are compared and merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// A hook event sent again under its event id (streaming sources): more
    /// output, then a larger prompt, is larger; the event names its own
    /// tool, which a larger snapshot brings along.
    HookEvent,
    /// A Claude Code transcript record: larger by
    /// [`snapshot_rank`], the order the parser merges a message's lines by,
    /// so the two cannot disagree; tool names gather across the lines.
    ClaudeCodeTranscript,
    /// A Codex rollout record, one billed response: its usage is final as
    /// written, so a copy (a re-read, an import after capture, a fork's
    /// replay of its parent) is never larger; the first stored stands.
    CodexRollout,
    /// A Gemini CLI chat log message: its tokens are written once, but the
    /// message is written again as its tool calls arrive (and copied on a
    /// resume), so its usage is final and its tool names gather.
    GeminiChat,
    /// An OpenCode step (`message` row): read only once completed, so its
    /// usage is final as read and a re-read is never larger; the first
    /// stored stands.
    OpenCodeMessage,
}

impl Rule {
    /// Whether `new` replaces a stored `old` snapshot of the same request.
    pub fn is_larger(self, new: &Usage, old: &Usage) -> bool {
        match self {
            Rule::HookEvent => {
                let prompt = |u: &Usage| u.input + u.cache_read + u.cache_write;
                new.output > old.output || (new.output == old.output && prompt(new) > prompt(old))
            }
            Rule::ClaudeCodeTranscript => snapshot_rank(new) > snapshot_rank(old),
            Rule::CodexRollout | Rule::GeminiChat | Rule::OpenCodeMessage => false,
        }
    }

    /// The tool names the record has once `incoming` is taken in.
    pub fn tools(self, kept: Option<&str>, incoming: &[String]) -> Option<String> {
        match self {
            Rule::HookEvent => (!incoming.is_empty()).then(|| incoming.join(",")),
            Rule::CodexRollout | Rule::OpenCodeMessage => match kept {
                Some(kept) => Some(kept.to_owned()),
                None => (!incoming.is_empty()).then(|| incoming.join(",")),
            },
            Rule::ClaudeCodeTranscript | Rule::GeminiChat => {
                let merged = merge_tool_names(kept.unwrap_or(""), incoming);
                (!merged.is_empty()).then_some(merged)
            }
        }
    }

    /// Whether new tool names alone change a record (a smaller snapshot's
    /// tools still count when the source spreads them over lines).
    fn gathers_tools(self) -> bool {
        match self {
            Rule::HookEvent | Rule::CodexRollout | Rule::OpenCodeMessage => false,
            Rule::ClaudeCodeTranscript | Rule::GeminiChat => true,
        }
    }
}

/// Which thread of a session a snapshot, or the record holding one, is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lineage {
    /// The session's own thread: what counts. Sources without sidechains
    /// (hook events) are always here.
    Main,
    /// A subagent's thread, which may replay main-thread messages.
    Sidechain,
}

/// A row already counting this message under some request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seen {
    pub request_id: String,
    pub record_id: i64,
    /// The record's thread; `None` when the record is gone (deleted by
    /// hand): nothing counts it, and it neither wins nor gives way.
    pub lineage: Option<Lineage>,
    /// The record was stored from a fork's copy of this request.
    pub copied: bool,
}

/// The stored snapshot of the incoming request's own record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept<'a> {
    pub usage: &'a Usage,
    pub tools: Option<&'a str>,
    /// The record was made from a forked session's copy of the request.
    pub copied: bool,
}

/// A snapshot that just arrived.
#[derive(Debug, Clone, Copy)]
pub(super) struct Incoming<'a> {
    pub rule: Rule,
    /// The request it is a snapshot of (`""` for a transcript without one).
    pub request_id: &'a str,
    pub lineage: Lineage,
    pub usage: &'a Usage,
    /// Tool names this snapshot shows.
    pub tools: &'a [String],
    /// The snapshot is a forked session's copy of another session's line.
    pub copied: bool,
}

/// What to do with an incoming snapshot, in order: remove `remove`, then
/// carry out `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan<'a> {
    /// Sidechain replays stored before their main-thread message arrived:
    /// the main thread's record is the one that counts.
    pub remove: Vec<&'a Seen>,
    /// The kept record was made from a fork's copy and the incoming
    /// snapshot is the original: the record becomes the original's (its
    /// session, key, project and agent) before `action`, so that it is the
    /// same whichever file was read first.
    pub claim: bool,
    pub action: Action,
}

/// What becomes of the incoming snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// Nothing counts this request yet: a new record with these tools.
    Insert { tools: Option<String> },
    /// Larger than the kept snapshot: it takes the record's counts, with
    /// these tools.
    Replace { tools: Option<String> },
    /// Not larger, but it shows tools the record lacks.
    MergeTools { tools: Option<String> },
    /// Already stored as it is: redelivery, re-read, import after capture.
    Unchanged,
    /// A sidechain replay of a message the main thread's record `to`
    /// already counts: not counted again.
    GivesWay { to: i64 },
}

/// The row whose record counts `request_id` itself, if one does. One API
/// call, one record: a copy in a resumed session merges into the record of
/// the session that first showed it.
pub(super) fn own_row<'a>(seen: &'a [Seen], request_id: &str) -> Option<&'a Seen> {
    seen.iter()
        .find(|s| s.request_id == request_id && s.lineage.is_some())
}

/// The plan for `incoming`, given every row already counting its message
/// (`seen`) and the stored snapshot of its own request's record (`kept`,
/// the record [`own_row`] names).
pub(super) fn reconcile<'a>(
    seen: &'a [Seen],
    kept: Option<Kept<'_>>,
    incoming: &Incoming<'_>,
) -> Plan<'a> {
    // The same message under other request ids: the main thread's record
    // and its sidechain replays'.
    let others = || {
        seen.iter()
            .filter(|s| s.request_id != incoming.request_id)
            .filter_map(|s| Some((s, s.lineage?)))
    };
    let remove = match incoming.lineage {
        Lineage::Sidechain => {
            if let Some((main, _)) = others().find(|(_, l)| *l == Lineage::Main) {
                let action = Action::GivesWay { to: main.record_id };
                return Plan {
                    remove: Vec::new(),
                    claim: false,
                    action,
                };
            }
            Vec::new()
        }
        Lineage::Main => others()
            .filter(|(_, l)| *l == Lineage::Sidechain)
            .map(|(s, _)| s)
            .collect(),
    };
    let claim = kept.is_some_and(|kept| kept.copied && !incoming.copied);
    let action = settle(kept, incoming);
    Plan {
        remove,
        claim,
        action,
    }
}

/// Which snapshot of one request wins.
fn settle(kept: Option<Kept<'_>>, incoming: &Incoming<'_>) -> Action {
    let rule = incoming.rule;
    let Some(kept) = kept else {
        let tools = rule.tools(None, incoming.tools);
        return Action::Insert { tools };
    };
    let tools = rule.tools(kept.tools, incoming.tools);
    if rule.is_larger(incoming.usage, kept.usage) {
        Action::Replace { tools }
    } else if rule.gathers_tools() && tools.as_deref() != kept.tools {
        Action::MergeTools { tools }
    } else {
        Action::Unchanged
    }
}

/// A Claude Code request seen by both its OTel `api_request` event and a
/// transcript line (docs/ingest.md#opentelemetry): what the one record of
/// the request holds, and whether the two sources agreed.
///
/// The event's counts win. It is sent once the response has finished
/// streaming, with the counts the API billed, while a transcript line may
/// hold a snapshot taken before the last output tokens were counted; and
/// it is the agent's own statement, beside which it sends its cost. The
/// transcript brings only what the event cannot say: which part of the
/// cache writes had the 1-hour lifetime (the event sums both lifetimes),
/// taken when the two agree on the total, never more than the total.
/// Whichever arrived first, the answer is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EventAndLine {
    pub usage: Usage,
    /// Every count the event carries equals the line's.
    pub agrees: bool,
}

/// The counts an `api_request` event carries, to compare a line's by.
fn event_counts(u: &Usage) -> (u64, u64, u64, u64) {
    (u.input, u.output, u.cache_read, u.cache_write)
}

/// Settles one request's event counts (`event`) against a transcript
/// snapshot of it (`line`), as [`EventAndLine`] says.
pub(super) fn event_and_line(event: &Usage, line: &Usage) -> EventAndLine {
    let agrees = event_counts(event) == event_counts(line);
    let cache_write_1h = if event.cache_write == line.cache_write {
        line.cache_write_1h.min(event.cache_write)
    } else {
        0
    };
    EventAndLine {
        usage: Usage {
            cache_write_1h,
            reasoning: line.reasoning.min(event.output),
            ..*event
        },
        agrees,
    }
}

/// Which source records a Codex or Gemini CLI session
/// (docs/ingest.md#one-source-per-session). Neither agent's usage event
/// carries an id its own log (rollout, chat log) shares, so a response seen
/// by both cannot be matched: a session is recorded from one source. The
/// log wins when hookmeter reads it, because its records carry what the
/// events lack (response ids, tools, the project, the turn); the events
/// record a session whose log hookmeter never reads (a container, CI,
/// another machine). Either order of arrival ends the same: events of a
/// session the log already records are skipped, and the log's first
/// record of a session removes the records its events made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionArrival {
    /// A usage event of the session (OTel).
    Event,
    /// A record of the session from the agent's own log.
    LogRecord,
}

/// What a session already has stored, for [`session_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SessionRows {
    /// Records of the session from any source but its events (its log, an
    /// import of it).
    pub log: bool,
    /// Records of the session made from its events.
    pub events: usize,
}

/// What the writer does with an arrival, as [`session_source`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionPlan {
    /// Write it, by its own source's rule.
    Record,
    /// An event of a session the log records: not counted again.
    Superseded,
    /// The log's record of a session its events recorded: remove those
    /// records, then write this one.
    ReplaceEvents,
}

/// The one-source-per-session rule: pure, decided per arrival from what
/// the session has stored.
pub(super) fn session_source(arrival: SessionArrival, stored: SessionRows) -> SessionPlan {
    match arrival {
        SessionArrival::Event if stored.log => SessionPlan::Superseded,
        SessionArrival::Event => SessionPlan::Record,
        SessionArrival::LogRecord if stored.events > 0 => SessionPlan::ReplaceEvents,
        SessionArrival::LogRecord => SessionPlan::Record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TRANSCRIPT: Rule = Rule::ClaudeCodeTranscript;

    fn usage(output: u64, input: u64) -> Usage {
        Usage {
            output,
            input,
            ..Usage::default()
        }
    }

    fn seen(request_id: &str, record_id: i64, lineage: Option<Lineage>) -> Seen {
        Seen {
            request_id: request_id.into(),
            record_id,
            lineage,
            copied: false,
        }
    }

    fn incoming<'a>(
        request_id: &'a str,
        lineage: Lineage,
        usage: &'a Usage,
        tools: &'a [String],
    ) -> Incoming<'a> {
        Incoming {
            copied: false,
            rule: TRANSCRIPT,
            request_id,
            lineage,
            usage,
            tools,
        }
    }

    fn names(tools: &[&str]) -> Vec<String> {
        tools.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn a_new_request_is_inserted_with_its_tools() {
        let u = usage(10, 5);
        let tools = names(&["Read"]);
        let plan = reconcile(&[], None, &incoming("r1", Lineage::Main, &u, &tools));
        assert!(plan.remove.is_empty());
        assert_eq!(
            plan.action,
            Action::Insert {
                tools: Some("Read".into())
            }
        );
        let plan = reconcile(&[], None, &incoming("r1", Lineage::Main, &u, &[]));
        assert_eq!(plan.action, Action::Insert { tools: None });
    }

    #[test]
    fn the_original_claims_a_record_made_from_a_forks_copy() {
        let u = usage(10, 5);
        let kept = |copied| Kept {
            usage: &u,
            tools: None,
            copied,
        };
        let arriving = |copied| Incoming {
            copied,
            ..incoming("r", Lineage::Main, &u, &[])
        };
        let plan = reconcile(&[], Some(kept(true)), &arriving(false));
        assert!(plan.claim);
        assert_eq!(plan.action, Action::Unchanged);
        // A copy after the original, another copy, the original again: the
        // record stays whose it is.
        for (stored, copied) in [(false, true), (true, true), (false, false)] {
            let plan = reconcile(&[], Some(kept(stored)), &arriving(copied));
            assert!(!plan.claim, "stored copy {stored}, incoming copy {copied}");
        }
        // Nothing stored: nothing to claim, the copy is inserted as one.
        assert!(!reconcile(&[], None, &arriving(true)).claim);
    }

    proptest! {
        /// One request read from a parent's file and any number of forks'
        /// copies, in any order, in any snapshots: the record ends up the
        /// parent's once the parent's line has arrived, a copy's before.
        #[test]
        fn the_original_session_wins_in_any_order(
            arrivals in prop::collection::vec((any::<bool>(), 0u64..4), 1..8),
        ) {
            // (copied, output) → the record's (copied, session index).
            let mut record: Option<(bool, Usage, usize)> = None;
            for (i, (copied, output)) in arrivals.iter().enumerate() {
                let u = usage(*output, 1);
                let kept = record.as_ref().map(|(c, kept_usage, _)| Kept {
                    usage: kept_usage,
                    tools: None,
                    copied: *c,
                });
                let event = Incoming {
                    copied: *copied,
                    ..incoming("r", Lineage::Main, &u, &[])
                };
                let plan = reconcile(&[], kept, &event);
                record = match (record, plan.action) {
                    (None, Action::Insert { .. }) => Some((*copied, u, i)),
                    (Some((c, kept_usage, owner)), action) => {
                        let (c, owner) = if plan.claim { (false, i) } else { (c, owner) };
                        let usage = if let Action::Replace { .. } = action { u } else { kept_usage };
                        Some((c, usage, owner))
                    }
                    (None, other) => panic!("nothing stored, yet {other:?}"),
                };
            }
            let (copied, _, owner) = record.unwrap();
            let first_original = arrivals.iter().position(|(c, _)| !c);
            prop_assert_eq!(copied, first_original.is_none());
            match first_original {
                Some(i) => prop_assert_eq!(owner, i),
                None => prop_assert_eq!(owner, 0),
            }
        }
    }

    #[test]
    fn a_replay_after_its_main_message_gives_way() {
        let rows = [seen("main", 7, Some(Lineage::Main))];
        let u = usage(10, 5);
        let plan = reconcile(&rows, None, &incoming("side", Lineage::Sidechain, &u, &[]));
        assert_eq!(plan.action, Action::GivesWay { to: 7 });
        assert!(plan.remove.is_empty());
    }

    #[test]
    fn a_main_message_after_its_replays_removes_them_and_counts() {
        let rows = [
            seen("side1", 3, Some(Lineage::Sidechain)),
            seen("side2", 4, Some(Lineage::Sidechain)),
        ];
        let u = usage(10, 5);
        let plan = reconcile(&rows, None, &incoming("main", Lineage::Main, &u, &[]));
        assert_eq!(plan.remove, vec![&rows[0], &rows[1]]);
        assert_eq!(plan.action, Action::Insert { tools: None });
    }

    #[test]
    fn replays_without_a_main_message_each_count() {
        let rows = [seen("side1", 3, Some(Lineage::Sidechain))];
        let u = usage(10, 5);
        let plan = reconcile(&rows, None, &incoming("side2", Lineage::Sidechain, &u, &[]));
        assert!(plan.remove.is_empty());
        assert_eq!(plan.action, Action::Insert { tools: None });
    }

    #[test]
    fn gone_rows_neither_win_nor_give_way_nor_are_removed() {
        let rows = [seen("main", 1, None), seen("side", 2, None)];
        let u = usage(10, 5);
        let side = reconcile(&rows, None, &incoming("side2", Lineage::Sidechain, &u, &[]));
        assert_eq!(side.action, Action::Insert { tools: None });
        let main = reconcile(&rows, None, &incoming("main2", Lineage::Main, &u, &[]));
        assert!(main.remove.is_empty());
        // Its own request's row, gone, is no record to merge into.
        assert_eq!(own_row(&rows, "main"), None);
    }

    #[test]
    fn the_own_row_is_the_live_one_under_the_same_request() {
        let rows = [
            seen("r1", 1, None),
            seen("r2", 2, Some(Lineage::Main)),
            seen("r1", 3, Some(Lineage::Sidechain)),
        ];
        assert_eq!(own_row(&rows, "r1"), Some(&rows[2]));
        assert_eq!(own_row(&rows, "r2"), Some(&rows[1]));
        assert_eq!(own_row(&rows, "r3"), None);
    }

    #[test]
    fn a_larger_snapshot_replaces_a_smaller_or_equal_one_does_not() {
        let old = usage(10, 5);
        let kept = Kept {
            copied: false,
            usage: &old,
            tools: Some("Read"),
        };
        let larger = usage(11, 0);
        let plan = reconcile(&[], Some(kept), &incoming("r", Lineage::Main, &larger, &[]));
        assert_eq!(
            plan.action,
            Action::Replace {
                tools: Some("Read".into())
            }
        );
        for not_larger in [usage(9, 100), old] {
            let plan = reconcile(
                &[],
                Some(kept),
                &incoming("r", Lineage::Main, &not_larger, &[]),
            );
            assert_eq!(plan.action, Action::Unchanged);
        }
    }

    #[test]
    fn new_tools_merge_into_a_record_whose_snapshot_stays() {
        let old = usage(10, 5);
        let kept = Kept {
            copied: false,
            usage: &old,
            tools: Some("Edit"),
        };
        let tools = names(&["Read", "Edit"]);
        let plan = reconcile(&[], Some(kept), &incoming("r", Lineage::Main, &old, &tools));
        assert_eq!(
            plan.action,
            Action::MergeTools {
                tools: Some("Edit,Read".into())
            }
        );
        let again = names(&["Edit"]);
        let plan = reconcile(&[], Some(kept), &incoming("r", Lineage::Main, &old, &again));
        assert_eq!(plan.action, Action::Unchanged);
    }

    #[test]
    fn a_hook_event_grows_by_output_then_prompt_and_brings_its_own_tool() {
        let old = usage(10, 5);
        let kept = Kept {
            copied: false,
            usage: &old,
            tools: Some("Bash"),
        };
        let plan_for = |usage: &Usage, tools: &[String]| {
            let event = Incoming {
                copied: false,
                rule: Rule::HookEvent,
                request_id: "evt",
                lineage: Lineage::Main,
                usage,
                tools,
            };
            reconcile(&[], Some(kept), &event).action
        };
        assert_eq!(
            plan_for(&usage(10, 6), &[]),
            Action::Replace { tools: None }
        );
        let read = names(&["Read"]);
        assert_eq!(
            plan_for(&usage(11, 0), &read),
            Action::Replace {
                tools: Some("Read".into())
            }
        );
        // Another tool alone never changes a hook event's record.
        assert_eq!(plan_for(&old, &read), Action::Unchanged);
        // A larger prompt with less output is not larger.
        assert_eq!(plan_for(&usage(9, 1000), &read), Action::Unchanged);
    }

    #[test]
    fn a_codex_response_stored_once_stands_against_any_copy() {
        let first = usage(40, 1200);
        let kept = Kept {
            copied: false,
            usage: &first,
            tools: Some("shell"),
        };
        for copy in [first, usage(41, 1200), usage(40, 1300)] {
            let tools = names(&["exec_command"]);
            let event = Incoming {
                copied: false,
                rule: Rule::CodexRollout,
                request_id: "",
                lineage: Lineage::Main,
                usage: &copy,
                tools: &tools,
            };
            assert_eq!(reconcile(&[], Some(kept), &event).action, Action::Unchanged);
        }
        let tools = names(&["shell"]);
        let event = Incoming {
            copied: false,
            rule: Rule::CodexRollout,
            request_id: "",
            lineage: Lineage::Main,
            usage: &first,
            tools: &tools,
        };
        assert_eq!(
            reconcile(&[], None, &event).action,
            Action::Insert {
                tools: Some("shell".into())
            }
        );
    }

    /// What the store holds of one message, as the writer's SQL would leave it.
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Model {
        rows: Vec<Row>,
        next_id: i64,
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        seen: Seen,
        usage: Usage,
        tools: Option<String>,
    }

    /// A snapshot as it arrives, owned so strategies can build it.
    #[derive(Debug, Clone)]
    struct Arrival {
        request_id: String,
        lineage: Lineage,
        usage: Usage,
        tools: Vec<String>,
    }

    impl Model {
        fn record(&mut self, id: Option<i64>) -> Option<&mut Row> {
            self.rows.iter_mut().find(|r| Some(r.seen.record_id) == id)
        }

        /// Plans `arrival` and carries the plan out the way the writer does.
        fn arrive(&mut self, rule: Rule, arrival: &Arrival) -> Action {
            let seen: Vec<Seen> = self.rows.iter().map(|r| r.seen.clone()).collect();
            let own_id = own_row(&seen, &arrival.request_id).map(|s| s.record_id);
            let own_record =
                own_id.and_then(|id| self.rows.iter().find(|r| r.seen.record_id == id));
            let kept = own_record.map(|r| Kept {
                copied: false,
                usage: &r.usage,
                tools: r.tools.as_deref(),
            });
            let incoming = Incoming {
                copied: false,
                rule,
                request_id: &arrival.request_id,
                lineage: arrival.lineage,
                usage: &arrival.usage,
                tools: &arrival.tools,
            };
            let plan = reconcile(&seen, kept, &incoming);
            let removed: Vec<i64> = plan.remove.iter().map(|s| s.record_id).collect();
            self.rows.retain(|r| !removed.contains(&r.seen.record_id));
            match &plan.action {
                Action::Insert { tools } => {
                    self.next_id += 1;
                    self.rows.push(Row {
                        seen: seen_row(&arrival.request_id, self.next_id, arrival.lineage),
                        usage: arrival.usage,
                        tools: tools.clone(),
                    });
                }
                Action::Replace { tools } => {
                    let row = self.record(own_id).expect("a replaced record is stored");
                    row.usage = arrival.usage;
                    row.tools = tools.clone();
                }
                Action::MergeTools { tools } => {
                    self.record(own_id)
                        .expect("a merged record is stored")
                        .tools = tools.clone();
                }
                Action::Unchanged | Action::GivesWay { .. } => {}
            }
            plan.action
        }
    }

    fn seen_row(request_id: &str, record_id: i64, lineage: Lineage) -> Seen {
        seen(request_id, record_id, Some(lineage))
    }

    fn any_usage() -> impl Strategy<Value = Usage> {
        // Small counts, so that equal and tied snapshots turn up.
        (0u64..4, 0u64..4, 0u64..3, 0u64..3).prop_map(|(output, input, cache_read, reasoning)| {
            Usage {
                output,
                input,
                cache_read,
                reasoning,
                ..Usage::default()
            }
        })
    }

    fn any_tools() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(prop::sample::select(vec!["Read", "Edit", "Bash"]), 0..3)
            .prop_map(|t| t.into_iter().map(String::from).collect())
    }

    fn any_rule() -> impl Strategy<Value = Rule> {
        prop::sample::select(vec![Rule::HookEvent, Rule::ClaudeCodeTranscript])
    }

    /// Snapshots of one request, in an order of arrival.
    fn snapshots_of_one_request() -> impl Strategy<Value = Vec<Arrival>> {
        prop::collection::vec((any_usage(), any_tools()), 1..8).prop_map(|snaps| {
            snaps
                .into_iter()
                .map(|(usage, tools)| Arrival {
                    request_id: "r".into(),
                    lineage: Lineage::Main,
                    usage,
                    tools,
                })
                .collect()
        })
    }

    proptest! {
        /// Whatever the order of arrival, the kept snapshot is one nothing
        /// that arrived is larger than; for transcripts (a total order),
        /// exactly the largest.
        #[test]
        fn the_largest_snapshot_is_kept_in_any_order(
            rule in any_rule(),
            arrivals in snapshots_of_one_request().prop_shuffle(),
        ) {
            let mut model = Model::default();
            for arrival in &arrivals {
                model.arrive(rule, arrival);
            }
            prop_assert_eq!(model.rows.len(), 1);
            let kept = model.rows[0].usage;
            for arrival in &arrivals {
                prop_assert!(!rule.is_larger(&arrival.usage, &kept), "{:?} > {:?}", arrival.usage, kept);
            }
            if rule == Rule::ClaudeCodeTranscript {
                let largest = arrivals.iter().map(|a| snapshot_rank(&a.usage)).max().unwrap();
                prop_assert_eq!(snapshot_rank(&kept), largest);
                // And every tool any line showed is on the record.
                let tools = model.rows[0].tools.clone().unwrap_or_default();
                for name in arrivals.iter().flat_map(|a| &a.tools) {
                    prop_assert!(tools.split(',').any(|t| t == name), "{} not in {}", name, tools);
                }
            }
        }

        /// A snapshot applied twice changes nothing the second time.
        #[test]
        fn the_same_snapshot_twice_changes_nothing_the_second_time(
            rule in any_rule(),
            before in snapshots_of_one_request(),
            lineage in prop::sample::select(vec![Lineage::Main, Lineage::Sidechain]),
            request_id in prop::sample::select(vec!["r", "other"]),
            usage in any_usage(),
            tools in any_tools(),
        ) {
            let mut model = Model::default();
            for arrival in &before {
                model.arrive(rule, arrival);
            }
            let again = Arrival { request_id: request_id.into(), lineage, usage, tools };
            model.arrive(rule, &again);
            let once = model.clone();
            let action = model.arrive(rule, &again);
            prop_assert!(
                matches!(action, Action::Unchanged | Action::GivesWay { .. }),
                "{:?}", action
            );
            prop_assert_eq!(model, once);
        }

        /// Of a main-thread message and its sidechain replays, whatever the
        /// order (and however often each arrives), exactly one record
        /// counts: the main thread's.
        #[test]
        fn of_a_message_and_its_replays_only_the_main_record_counts(
            replays in 0usize..5,
            usage in any_usage(),
            order in prop::collection::vec(0usize..6, 0..12),
            main_at in 0usize..12,
        ) {
            let main = Arrival {
                request_id: "main".into(),
                lineage: Lineage::Main,
                usage,
                tools: Vec::new(),
            };
            let replay = |i: usize| Arrival {
                request_id: format!("replay{i}"),
                lineage: Lineage::Sidechain,
                usage,
                tools: Vec::new(),
            };
            let mut arrivals: Vec<Arrival> = order
                .iter()
                .filter(|&&i| i < replays)
                .map(|&i| replay(i))
                .collect();
            arrivals.insert(main_at.min(arrivals.len()), main);
            let mut model = Model::default();
            for arrival in &arrivals {
                model.arrive(TRANSCRIPT, arrival);
            }
            prop_assert_eq!(model.rows.len(), 1, "{:?}", model.rows);
            prop_assert_eq!(model.rows[0].seen.lineage, Some(Lineage::Main));
            prop_assert_eq!(model.rows[0].seen.request_id.as_str(), "main");
        }
    }

    #[test]
    fn the_events_counts_win_and_the_line_brings_the_one_hour_split() {
        let event = Usage {
            input: 14,
            output: 8,
            cache_read: 4300,
            cache_write: 30,
            ..Usage::default()
        };
        let line = Usage {
            cache_write_1h: 30,
            ..event
        };
        let both = event_and_line(&event, &line);
        assert!(both.agrees);
        assert_eq!(both.usage, line);
        // An early snapshot (less output): the event's counts stand,
        // and the disagreement is said.
        let early = Usage { output: 1, ..line };
        let both = event_and_line(&event, &early);
        assert!(!both.agrees);
        assert_eq!(both.usage, line);
        // Totals of cache writes that differ: no split is trusted.
        let other = Usage {
            cache_write: 40,
            cache_write_1h: 40,
            ..event
        };
        let both = event_and_line(&event, &other);
        assert!(!both.agrees);
        assert_eq!(both.usage, event);
    }

    proptest! {
        /// Whatever the line says, the record holds the event's counts.
        #[test]
        fn the_event_always_wins_its_counts(
            e in (0u64..100, 0u64..100, 0u64..100, 0u64..100),
            l in (0u64..100, 0u64..100, 0u64..100, 0u64..100, 0u64..100),
        ) {
            let event = Usage { input: e.0, output: e.1, cache_read: e.2, cache_write: e.3, ..Usage::default() };
            let line = Usage { input: l.0, output: l.1, cache_read: l.2, cache_write: l.3, cache_write_1h: l.4.min(l.3), ..Usage::default() };
            let both = event_and_line(&event, &line);
            prop_assert_eq!(event_counts(&both.usage), event_counts(&event));
            prop_assert!(both.usage.cache_write_1h <= both.usage.cache_write);
            prop_assert_eq!(both.agrees, event_counts(&event) == event_counts(&line));
        }
    }

    /// Of a session's events and log records in any order, the log's
    /// records stand when there are any, else the events'; none counted
    /// twice.
    #[test]
    fn one_source_per_session_whatever_the_order() {
        // Each arrival: true = a log record, false = an event.
        fn run(order: &[bool]) -> (usize, usize) {
            let (mut log, mut events) = (0usize, 0usize);
            for &is_log in order {
                let stored = SessionRows {
                    log: log > 0,
                    events,
                };
                let arrival = if is_log {
                    SessionArrival::LogRecord
                } else {
                    SessionArrival::Event
                };
                match session_source(arrival, stored) {
                    SessionPlan::Record if is_log => log += 1,
                    SessionPlan::Record => events += 1,
                    SessionPlan::Superseded => assert!(!is_log),
                    SessionPlan::ReplaceEvents => {
                        assert!(is_log);
                        events = 0;
                        log += 1;
                    }
                }
            }
            (log, events)
        }
        for order in [
            vec![false, false, true, true],
            vec![true, true, false, false],
            vec![false, true, false, true],
            vec![true, false, true, false],
        ] {
            assert_eq!(run(&order), (2, 0), "{order:?}");
        }
        assert_eq!(run(&[false, false]), (0, 2));
    }
}
