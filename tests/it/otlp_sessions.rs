//! Codex's and Gemini CLI's OTel usage events through `POST /v1/logs`
//! (docs/ingest.md#one-source-per-session): the real agents' exports
//! (tests/fixtures/otel/{codex,gemini}, captured from Codex 0.171.0 over
//! http/json and http/protobuf and Gemini CLI 0.61.0 over http/json) give
//! records equal to the mock's ledger, and the same run's own log (rollout,
//! chat log) imported before or after leaves one row per billed request:
//! the log's, the rule visible in `/metrics` and `import`'s summary.

use crate::common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// A request's counts: (input without the cached part, cache read, output,
/// reasoning).
type Counts = (i64, i64, i64, i64);

/// One capture: the agent's directory, the scenario, the encoding.
struct Capture {
    agent: &'static str,
    scenario: &'static str,
    encoding: &'static str,
}

const CAPTURES: [Capture; 6] = [
    Capture {
        agent: "codex",
        scenario: "text",
        encoding: "json",
    },
    Capture {
        agent: "codex",
        scenario: "text",
        encoding: "protobuf",
    },
    Capture {
        agent: "codex",
        scenario: "shell",
        encoding: "json",
    },
    Capture {
        agent: "codex",
        scenario: "shell",
        encoding: "protobuf",
    },
    Capture {
        agent: "gemini",
        scenario: "text",
        encoding: "json",
    },
    Capture {
        agent: "gemini",
        scenario: "tool",
        encoding: "json",
    },
];

impl Capture {
    fn dir(&self) -> PathBuf {
        fixtures()
            .join("otel")
            .join(self.agent)
            .join(self.scenario)
            .join(self.encoding)
    }

    fn name(&self) -> String {
        format!("{}/{}/{}", self.agent, self.scenario, self.encoding)
    }

    /// The agent name hookmeter keeps the session's records under.
    fn agent_id(&self) -> &'static str {
        match self.agent {
            "codex" => "codex",
            _ => "gemini-cli",
        }
    }

    fn content_type(&self) -> &'static str {
        match self.encoding {
            "json" => "application/json",
            _ => "application/x-protobuf",
        }
    }

    /// The ledger's requests in hookmeter's terms, sorted: (input without
    /// the cached part, cache read, output, reasoning). Codex: OpenAI's
    /// semantics (input includes cached, output includes reasoning);
    /// Gemini: the tool-use prompt is input, the thoughts are output.
    fn ledger(&self) -> Vec<Counts> {
        let mut rows: Vec<_> = std::fs::read_to_string(self.dir().join("ledger.jsonl"))
            .unwrap()
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).unwrap();
                let n = |k: &str| v[k].as_i64().unwrap();
                match self.agent {
                    "codex" => (
                        n("input_tokens") - n("cached_tokens"),
                        n("cached_tokens"),
                        n("output_tokens"),
                        n("reasoning_tokens"),
                    ),
                    _ => (
                        n("prompt_tokens") - n("cached_tokens") + n("tool_use_prompt_tokens"),
                        n("cached_tokens"),
                        n("candidates_tokens") + n("thoughts_tokens"),
                        n("thoughts_tokens"),
                    ),
                }
            })
            .collect();
        rows.sort();
        assert!(!rows.is_empty(), "an empty ledger in {}", self.name());
        rows
    }

    /// Posts every logs export of the capture, in the order it was sent.
    fn post(&self, addr: SocketAddr) {
        let dir = self.dir();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with("-logs.json") || n.ends_with("-logs.bin"))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "no logs export in {}", dir.display());
        for name in names {
            let body = std::fs::read(dir.join(&name)).unwrap();
            let headers = [("Content-Type", self.content_type())];
            let answer = http_request(addr, "POST", "/v1/logs", &headers, &body);
            assert_eq!(answer.status, 200, "{name}: {}", answer.text());
        }
    }

    /// Imports the run's own log, copied under the name its agent gives it
    /// (the importer knows a rollout or a chat log by its name and place).
    fn import(&self, home: &Home) -> String {
        let (from, to) = match self.agent {
            "codex" => (
                "rollout.jsonl",
                "sessions/rollout-2026-12-06T16-24-39-capture.jsonl",
            ),
            _ => ("chat.jsonl", "chats/session-2026-12-06T16-24-capture.jsonl"),
        };
        let copy = home.path().join("logs").join(self.scenario).join(to);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(self.dir().join(from), &copy).unwrap();
        succeed(home.command().arg("import").arg(&copy))
    }
}

/// The session's records, sorted as [`Capture::ledger`], and their sources.
fn records(home: &Home, agent_id: &str) -> (Vec<Counts>, Vec<String>) {
    let db = home.db();
    let mut stmt = db
        .prepare(
            "SELECT input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, source
             FROM cost_records WHERE agent_id = ?1
             ORDER BY input_tokens, cache_read_tokens, output_tokens, reasoning_tokens",
        )
        .unwrap();
    let rows: Vec<(Counts, String)> = stmt
        .query_map([agent_id], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut sources: Vec<String> = rows.iter().map(|(_, s)| s.clone()).collect();
    sources.dedup();
    (rows.into_iter().map(|(c, _)| c).collect(), sources)
}

fn log_records(addr: SocketAddr, outcome: &str) -> Option<f64> {
    metric(
        addr,
        &format!("hookmeter_otlp_log_records_total{{outcome=\"{outcome}\"}}"),
    )
}

#[test]
fn each_capture_posted_gives_its_ledger_and_its_log_imported_after_replaces_it() {
    for capture in &CAPTURES {
        let name = capture.name();
        let want = capture.ledger();
        let n = want.len() as f64;
        let home = Home::new();
        home.write_config(HOOKS_ONLY);
        let daemon = home.start();
        let addr = daemon.http();
        capture.post(addr);
        let agent = capture.agent_id();
        assert_eq!(
            records(&home, agent),
            (want.clone(), vec!["otel".to_string()]),
            "{name}"
        );
        // Priced at the model's own rates, not the fallback's.
        assert_eq!(
            home.count("SELECT count(*) FROM cost_records WHERE estimated_cost_usd > 0"),
            want.len() as i64,
            "{name}"
        );
        let gauge = format!("hookmeter_otel_sessions{{agent=\"{agent}\"}}");
        assert_eq!(metric(addr, &gauge), Some(1.0), "{name}");
        // Redelivered: nothing changes.
        capture.post(addr);
        assert_eq!(records(&home, agent).0, want, "{name} redelivered");
        assert_eq!(log_records(addr, "usage"), Some(2.0 * n), "{name}");
        // The run's own log: its records replace the events', one a request.
        let summary = capture.import(&home);
        assert!(
            summary.contains("made from Codex or Gemini CLI OTel events removed"),
            "{name}: {summary}"
        );
        let (after, sources) = records(&home, agent);
        assert_eq!(after, want, "{name} after the log");
        assert_eq!(sources, vec!["import".to_string()], "{name}");
        assert_eq!(
            home.count("SELECT count(*) FROM cost_records"),
            want.len() as i64,
            "{name}"
        );
        assert_eq!(
            metric(addr, &gauge),
            None,
            "{name}: no event-recorded session"
        );
        // The events again, now of a session its log records: not counted.
        capture.post(addr);
        assert_eq!(records(&home, agent).0, want, "{name} posted again");
        assert_eq!(log_records(addr, "superseded_by_log"), Some(n), "{name}");
        assert_rollup_matches(&home);
        daemon.stop();
    }
}

#[test]
fn the_log_imported_first_leaves_the_events_superseded() {
    for capture in &CAPTURES {
        let name = capture.name();
        let want = capture.ledger();
        let home = Home::new();
        home.write_config(HOOKS_ONLY);
        let summary = capture.import(&home);
        assert!(
            !summary.contains("OTel events removed"),
            "{name}: {summary}"
        );
        let agent = capture.agent_id();
        assert_eq!(records(&home, agent).0, want, "{name} from the log");
        let daemon = home.start();
        let addr = daemon.http();
        capture.post(addr);
        let (after, sources) = records(&home, agent);
        assert_eq!(after, want, "{name} after the events");
        assert_eq!(sources, vec!["import".to_string()], "{name}");
        assert_eq!(
            log_records(addr, "superseded_by_log"),
            Some(want.len() as f64),
            "{name}"
        );
        assert_eq!(log_records(addr, "usage"), Some(0.0), "{name}");
        assert_rollup_matches(&home);
        daemon.stop();
    }
}

/// Two sessions of one agent, one whose log is read and one whose is not:
/// each is recorded from one source, the other session's events stand.
#[test]
fn a_session_whose_log_is_never_read_keeps_its_event_records() {
    let read = &CAPTURES[0];
    let unread = &CAPTURES[2];
    let home = Home::new();
    home.write_config(HOOKS_ONLY);
    read.import(&home);
    let daemon = home.start();
    let addr = daemon.http();
    read.post(addr);
    unread.post(addr);
    let sources = |source: &str| {
        home.count(&format!(
            "SELECT count(*) FROM cost_records WHERE agent_id = 'codex' AND source = '{source}'"
        ))
    };
    assert_eq!(sources("import"), read.ledger().len() as i64);
    assert_eq!(sources("otel"), unread.ledger().len() as i64);
    assert_eq!(
        metric(addr, "hookmeter_otel_sessions{agent=\"codex\"}"),
        Some(1.0)
    );
    assert_rollup_matches(&home);
    daemon.stop();
}

/// The daemon reading the log itself: a session first recorded from its
/// events, then its rollout written where Codex writes it, which the watch
/// finds and the tail reads: the rollout's records replace the events',
/// counted in `/metrics`.
#[test]
fn a_rollout_read_live_replaces_its_sessions_event_records() {
    let capture = &CAPTURES[3];
    let want = capture.ledger();
    let home = Home::new();
    let sessions = home.path().join(".codex/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let daemon = home.start();
    let addr = daemon.http();
    capture.post(addr);
    assert_eq!(
        records(&home, "codex"),
        (want.clone(), vec!["otel".to_string()])
    );
    let rollout = sessions.join("2026/12/06/rollout-2026-12-06T16-24-39-capture.jsonl");
    std::fs::create_dir_all(rollout.parent().unwrap()).unwrap();
    std::fs::copy(capture.dir().join("rollout.jsonl"), &rollout).unwrap();
    wait_until(
        "the rollout's records in place of the events'",
        || records(&home, "codex").1 == vec!["transcript".to_string()],
        || daemon.log_text(),
    );
    wait_until(
        "the whole rollout read",
        || records(&home, "codex").0 == want,
        || daemon.log_text(),
    );
    wait_for_metric(
        &daemon,
        "hookmeter_otel_session_records_replaced_total",
        |n| n == want.len() as f64,
    );
    assert_eq!(
        metric(addr, "hookmeter_otel_sessions{agent=\"codex\"}"),
        None
    );
    assert_rollup_matches(&home);
    daemon.stop();
}
