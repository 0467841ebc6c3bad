//! Random cost records for the query layer's property tests: a database
//! holding them, and the rows themselves to recompute any answer the slow,
//! obvious way.

use jiff::Timestamp;
use proptest::prelude::*;
use rusqlite::Connection;

/// A record as the test writes it, enough to recompute any summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub ts: Timestamp,
    pub agent: &'static str,
    pub model: &'static str,
    /// The name reports group it under; `None` as a row written by hand,
    /// which reads as `model`.
    pub model_key: Option<&'static str>,
    pub project: Option<&'static str>,
    pub session: &'static str,
    pub tool: Option<&'static str>,
    pub team: Option<&'static str>,
    pub prompt: Option<&'static str>,
    pub branch: Option<&'static str>,
    pub cost: f64,
    pub input: i64,
}

impl Row {
    /// The name a summary groups the record under.
    pub fn name(&self) -> &'static str {
        self.model_key.unwrap_or(self.model)
    }

    /// True when a model filter `m` keeps the record: its own name or the
    /// one it is grouped under.
    pub fn has_model(&self, m: &str) -> bool {
        self.model == m || self.name() == m
    }
}

pub const START: i64 = 1_789_000_000; // 2026-09-10T00:26:40Z

pub fn row() -> impl Strategy<Value = Row> {
    (
        0..(3 * 86_400 * 1000i64),
        prop::sample::select(vec!["claude-code", "codex", "subagent:x"]),
        // Spellings of one entry (`m-a`), a model whose raw name is another
        // entry's (`m-b` grouped as `m-a`: a filter on `m-b` keeps it,
        // one on `m-a` too), and rows without a key.
        prop::sample::select(vec![
            ("m-a", Some("m-a")),
            ("m-a-20260101", Some("m-a")),
            ("m-b", Some("m-a")),
            ("m-b", None),
            ("m-c", Some("m-c")),
        ]),
        prop::option::of(prop::sample::select(vec!["shop", "api"])),
        prop::sample::select(vec!["s1", "s2", "s3"]),
        prop::option::of(prop::sample::select(vec!["Read", "Bash,Edit"])),
        prop::option::of(prop::sample::select(vec!["red", "blue"])),
        0..1_000_000u32,
        0..10_000i64,
        prop::option::of(prop::sample::select(vec!["p1", "p2", "p3"])),
        prop::option::of(prop::sample::select(vec!["main", "HEAD"])),
    )
        .prop_map(
            |(
                ms,
                agent,
                (model, model_key),
                project,
                session,
                tool,
                team,
                c,
                input,
                prompt,
                branch,
            )| Row {
                ts: Timestamp::from_millisecond(START * 1000 + ms).unwrap(),
                agent,
                model,
                model_key,
                project,
                session,
                tool,
                team,
                prompt,
                branch,
                cost: f64::from(c) / 1e6,
                input,
            },
        )
}

pub fn database(rows: &[Row]) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
    let mut insert = conn
        .prepare(
            "INSERT INTO cost_records (timestamp, session_id, agent_id, project, provider, model,
                 input_tokens, estimated_cost_usd, pricing_source, tool_name, hook_event_id,
                 source, labels_json, model_key, prompt_id, git_branch)
             VALUES (?1, ?2, ?3, ?4, 'p', ?5, ?6, ?7, 'embedded', ?8, ?9, 'hook', ?10, ?11, ?12, ?13)",
        )
        .unwrap();
    for (i, r) in rows.iter().enumerate() {
        let labels = r.team.map(|t| format!("{{\"team\":\"{t}\"}}"));
        insert
            .execute(rusqlite::params![
                crate::record::format_timestamp(r.ts),
                r.session,
                r.agent,
                r.project,
                r.model,
                r.input,
                r.cost,
                r.tool,
                format!("e{i}"),
                labels,
                r.model_key,
                r.prompt,
                r.branch
            ])
            .unwrap();
    }
    drop(insert);
    crate::store::rollup::rebuild(&conn).unwrap();
    conn
}

/// A range from test parameters: from `START` + `from_ms`, `len_ms` long;
/// an absent end is open (with no start, the end is `START` + `len_ms`).
pub fn range(from_ms: Option<i64>, len_ms: Option<i64>) -> crate::query::Range {
    let at = |ms: i64| Timestamp::from_millisecond(START * 1000 + ms).unwrap();
    let from = from_ms.map(at);
    let to = match (from_ms, len_ms) {
        (Some(f), Some(len)) => Some(at(f + len)),
        (None, Some(len)) => Some(at(len)),
        _ => None,
    };
    crate::query::Range { from, to }
}
