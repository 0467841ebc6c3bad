use super::*;

/// The lines of a rollout fixture of the repository (tests/fixtures/codex).
fn fixture(path: &str) -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/codex/");
    let bytes = std::fs::read(format!("{root}{path}")).expect("fixture");
    bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Every answer of a fresh `Rollout` over `lines`.
fn read_all(rollout: &mut Rollout, lines: &[Vec<u8>]) -> (Vec<CodexUsage>, Vec<CodexSkip>) {
    let mut usages = Vec::new();
    let mut skips = Vec::new();
    for line in lines.iter().filter(|l| !l.is_empty()) {
        match rollout.read_line(line) {
            CodexLine::Usage(u) => usages.push(u),
            CodexLine::Skip(s) => skips.push(s),
        }
    }
    (usages, skips)
}

fn count(skips: &[CodexSkip], which: &CodexSkip) -> usize {
    skips.iter().filter(|s| *s == which).count()
}

const TEXT: &str = "real/text/sessions/2026/12/06/rollout-2026-12-06T13-14-47-01a24b7e-248e-7de1-a4a7-51c7b3f9c28f.jsonl";
const SHELL: &str = "real/shell/sessions/2026/12/06/rollout-2026-12-06T13-14-48-01a24b7e-260d-7442-aadc-91bcafe20ba0.jsonl";
const RESUMED: &str = "real/resume/sessions/2026/12/06/rollout-2026-12-06T13-14-48-01a24b7e-2794-7e72-ae24-2df9645b327b.jsonl";
const FORK: &str = "real/resume/sessions/2026/12/06/rollout-2026-12-06T13-14-49-01a24b7e-2acf-7590-ad95-c87df5b66520.jsonl";
const LEGACY: &str = "bad/sessions/2026/11/30/rollout-2026-11-30T09-00-00-0190a000-0000-7000-8000-000000000001.jsonl";

#[test]
fn a_text_turn_with_reasoning_is_one_response_with_openai_semantics() {
    let (usages, skips) = read_all(&mut Rollout::new(), &fixture(TEXT));
    assert_eq!(usages.len(), 1, "{usages:?}");
    let u = &usages[0];
    // The mock billed input 1200 (none cached), output 40 of which 16 reasoning.
    assert_eq!(
        u.usage,
        Usage {
            input: 1200,
            output: 40,
            reasoning: 16,
            ..Usage::default()
        }
    );
    assert_eq!(u.key, "codex:resp_mock_16585_1");
    assert_eq!(u.session_id, "01a24b7e-248e-7de1-a4a7-51c7b3f9c28f");
    assert_eq!(u.model, "gpt-5.1-codex");
    assert_eq!(u.cwd.as_deref(), Some("/home/dev/project"));
    assert_eq!(
        u.timestamp.map(|t| t.to_string()).as_deref(),
        Some("2026-12-06T13:14:47.889Z")
    );
    // Its token_count repeats the record and is not counted again.
    assert_eq!(count(&skips, &CodexSkip::CountedByRecord), 1);
    assert_eq!(count(&skips, &CodexSkip::UnknownType), 0);
}

#[test]
fn a_shell_call_and_its_follow_up_are_two_responses_the_first_with_the_tool() {
    let (usages, _) = read_all(&mut Rollout::new(), &fixture(SHELL));
    assert_eq!(usages.len(), 2);
    assert_eq!(usages[0].tool_names, vec!["shell".to_owned()]);
    assert!(usages[1].tool_names.is_empty());
    // Billed input = input − cached: 2300 − 1920.
    assert_eq!(
        usages[1].usage,
        Usage {
            input: 380,
            cache_read: 1920,
            output: 25,
            ..Usage::default()
        }
    );
}

#[test]
fn a_resumed_session_appends_responses_each_counted_once() {
    let (usages, skips) = read_all(&mut Rollout::new(), &fixture(RESUMED));
    let keys: Vec<&str> = usages.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "codex:resp_mock_16880_1",
            "codex:resp_mock_16880_2",
            "codex:resp_mock_16880_3",
            "codex:resp_mock_16880_4"
        ]
    );
    assert_eq!(count(&skips, &CodexSkip::CountedByRecord), 4);
}

#[test]
fn a_fork_counts_only_its_own_response_not_the_parents_carried_total() {
    let (usages, _) = read_all(&mut Rollout::new(), &fixture(FORK));
    assert_eq!(usages.len(), 1);
    // The fork's token_count total (9600 input) carries the parent's 7200;
    // the response itself billed 2400 input, 2048 of them cached.
    assert_eq!(
        usages[0].usage,
        Usage {
            input: 352,
            cache_read: 2048,
            output: 45,
            reasoning: 12,
            ..Usage::default()
        }
    );
    assert_eq!(usages[0].session_id, "01a24b7e-2acf-7590-ad95-c87df5b66520");
    // The same response copied into another file keeps its key.
    let mut copy = fixture(FORK);
    copy.extend(fixture(FORK));
    let (again, _) = read_all(&mut Rollout::new(), &copy);
    assert!(again.iter().all(|u| u.key == usages[0].key));
}

#[test]
fn legacy_token_counts_count_each_new_total_once_and_skip_the_rest() {
    let lines = fixture(LEGACY);
    let (usages, skips) = read_all(&mut Rollout::new(), &lines);
    assert_eq!(usages.len(), 2, "{usages:?}");
    assert_eq!(
        usages[0].usage,
        Usage {
            input: 2000,
            cache_read: 1000,
            output: 200,
            reasoning: 50,
            ..Usage::default()
        }
    );
    assert_eq!(usages[0].tool_names, vec!["shell".to_owned()]);
    assert_eq!(usages[0].key, "codex:tc:2026-11-30T09:00:01.500Z:3200");
    assert_eq!(
        usages[1].usage,
        Usage {
            input: 1200,
            cache_read: 2800,
            output: 120,
            ..Usage::default()
        }
    );
    assert_eq!(usages[1].model, "gpt-5");
    assert_eq!(usages[1].cwd.as_deref(), Some("/home/dev/legacy-shop"));
    assert_eq!(count(&skips, &CodexSkip::NullInfo), 1);
    assert_eq!(count(&skips, &CodexSkip::RepeatedTotal), 2);
    assert_eq!(count(&skips, &CodexSkip::UnknownType), 1);
    // The line cut mid-way, and the last line (half-written, no newline).
    assert_eq!(count(&skips, &CodexSkip::NotJson), 2);
}

#[test]
fn reading_a_rollout_twice_gives_the_same_keys() {
    for path in [TEXT, SHELL, RESUMED, FORK, LEGACY] {
        let lines = fixture(path);
        let (first, _) = read_all(&mut Rollout::new(), &lines);
        let (second, _) = read_all(&mut Rollout::new(), &lines);
        assert_eq!(first, second, "{path}");
    }
}

#[test]
fn a_token_count_without_last_usage_bills_the_totals_growth() {
    let meta = br#"{"type":"session_meta","payload":{"id":"s1","cwd":"/p"}}"#;
    let t1 = br#"{"timestamp":"2026-01-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":100,"cached_input_tokens":0,"output_tokens":10}}}}"#;
    let t2 = br#"{"timestamp":"2026-01-01T00:00:01Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":250,"cached_input_tokens":100,"output_tokens":30}}}}"#;
    let shrunk = br#"{"timestamp":"2026-01-01T00:00:02Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":1}}}}"#;
    let mut r = Rollout::new();
    r.read_line(meta);
    let CodexLine::Usage(first) = r.read_line(t1) else {
        panic!()
    };
    assert_eq!(
        first.usage,
        Usage {
            input: 100,
            output: 10,
            ..Usage::default()
        }
    );
    let CodexLine::Usage(second) = r.read_line(t2) else {
        panic!()
    };
    assert_eq!(
        second.usage,
        Usage {
            input: 50,
            cache_read: 100,
            output: 20,
            ..Usage::default()
        }
    );
    assert!(matches!(
        r.read_line(shrunk),
        CodexLine::Skip(CodexSkip::InvalidUsage(_))
    ));
}

#[test]
fn bad_lines_are_skipped_with_a_reason_never_fatal() {
    let mut r = Rollout::new();
    assert_eq!(r.read_line(b"[1,2]"), CodexLine::Skip(CodexSkip::NotObject));
    assert_eq!(
        r.read_line(b"\xff\xfe"),
        CodexLine::Skip(CodexSkip::NotJson)
    );
    assert_eq!(
        r.read_line(br#"{"type":"nope"}"#),
        CodexLine::Skip(CodexSkip::UnknownType)
    );
    assert_eq!(
        r.read_line(br#"{"no":"type"}"#),
        CodexLine::Skip(CodexSkip::UnknownType)
    );
    // Usage before any session_meta has no session to key it by.
    let early = br#"{"timestamp":"2026-01-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1,"output_tokens":1}}}}"#;
    assert_eq!(r.read_line(early), CodexLine::Skip(CodexSkip::NoSession));
    let negative = br#"{"type":"token_usage_record","payload":{"thread_id":"t","response_id":"r","usage":{"input_tokens":-5,"output_tokens":1}}}"#;
    assert!(matches!(
        r.read_line(negative),
        CodexLine::Skip(CodexSkip::InvalidUsage(_))
    ));
    let cached_over_input = br#"{"type":"token_usage_record","payload":{"thread_id":"t","response_id":"r","usage":{"input_tokens":5,"cached_input_tokens":9,"output_tokens":1}}}"#;
    assert!(matches!(
        r.read_line(cached_over_input),
        CodexLine::Skip(CodexSkip::InvalidUsage(_))
    ));
    let no_usage = br#"{"type":"token_usage_record","payload":{"thread_id":"t","response_id":"r","usage":null}}"#;
    assert_eq!(r.read_line(no_usage), CodexLine::Skip(CodexSkip::NoUsage));
}

/// Feeds `lines` to two fresh rollouts, one through the fast paths (the
/// kind told from the first bytes, the skeleton) and one through the full
/// parse, and asserts every answer and the state left behind are the same,
/// except where [`no_usage_kind`] says they may differ; returns how many
/// lines were told from their first bytes.
fn assert_both_paths_agree(lines: &[Vec<u8>]) -> usize {
    let mut fast = Rollout::new();
    let mut full = Rollout::new();
    let mut told = 0;
    for line in lines {
        let before = fast.clone();
        let (a, b) = (fast.read_line(line), full.read_line_full(line));
        if let Some(kind) = no_usage_kind(line) {
            told += 1;
            assert_eq!(a, CodexLine::Skip(CodexSkip::NoUsage));
            assert_eq!(
                fast, before,
                "a line told from its first bytes changes nothing"
            );
            if !starts_as_it_is(line, kind) {
                // The one place the paths may differ: the line is no JSON
                // object past its first bytes, or repeats its `type` or its
                // payload's further on. Both go on from the fast state.
                full = fast.clone();
                continue;
            }
        }
        assert_eq!(a, b, "{}", String::from_utf8_lossy(line));
        assert_eq!(fast, full, "state after {}", String::from_utf8_lossy(line));
    }
    told
}

/// Whether `line`, parsed in full, is a JSON object of the kind its first
/// bytes named: its `type` (and its payload's, when named) those.
fn starts_as_it_is(line: &[u8], (kind, item): (&str, Option<&str>)) -> bool {
    let Ok(Value::Object(value)) = serde_json::from_slice::<Value>(line) else {
        return false;
    };
    let payload_type = value
        .get("payload")
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str);
    value.get("type").and_then(Value::as_str) == Some(kind)
        && (item.is_none() || payload_type == item)
}

#[test]
fn the_skeleton_reads_every_fixture_line_like_the_full_parse() {
    for path in [TEXT, SHELL, RESUMED, FORK, LEGACY] {
        let lines: Vec<_> = fixture(path)
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        assert!(lines.len() > 3, "{path}");
        let told = assert_both_paths_agree(&lines);
        // Every real rollout has messages and events no rule reads, and
        // their kind is told from their first bytes.
        assert!(
            path == LEGACY || told > 0,
            "{path}: no line told from its first bytes"
        );
    }
    // The agreement is worth something only if the fast path is taken: on
    // every line that is JSON (the legacy fixture has lines cut short).
    for path in [TEXT, SHELL, RESUMED, FORK, LEGACY] {
        for line in fixture(path).iter().filter(|l| !l.is_empty()) {
            let text = std::str::from_utf8(line).unwrap();
            if serde_json::from_str::<Value>(text).is_err() {
                continue;
            }
            assert!(
                serde_json::from_str::<Object<LineSkeleton>>(text).is_ok(),
                "the skeleton refused {text}"
            );
        }
    }
    // A fork after its parent, in one reader: the second session_meta and
    // the parent's records go through the rules twice.
    let mut both = fixture(RESUMED);
    both.extend(fixture(FORK));
    both.retain(|l| !l.is_empty());
    assert_both_paths_agree(&both);
}

#[test]
fn a_line_is_told_from_its_first_bytes_only_in_codex_shape() {
    type Told<'a> = (&'a [u8], (&'a str, Option<&'a str>));
    let told: &[Told] = &[
        (
            br#"{"timestamp":"2026-09-19T15:25:41.512Z","ordinal":27,"type":"response_item","payload":{"type":"function_call_output","output":"x"}}"#,
            ("response_item", Some("function_call_output")),
        ),
        (
            br#"{"timestamp":"2026-09-19T15:25:41.512Z","type":"response_item","payload":{"type":"reasoning","summary":[]}}"#,
            ("response_item", Some("reasoning")),
        ),
        (
            br#"{"timestamp":"t","ordinal":1,"type":"event_msg","payload":{"type":"task_started"}}"#,
            ("event_msg", Some("task_started")),
        ),
        (
            br#"{"timestamp":"t","ordinal":1,"type":"world_state","payload":{"x":1}}"#,
            ("world_state", None),
        ),
        // Broken past the first bytes: told all the same.
        (
            br#"{"timestamp":"t","type":"response_item","payload":{"type":"message","content":"cut}"#,
            ("response_item", Some("message")),
        ),
    ];
    for (line, kind) in told {
        assert_eq!(
            no_usage_kind(line),
            Some(*kind),
            "{}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            Rollout::new().read_line(line),
            CodexLine::Skip(CodexSkip::NoUsage)
        );
    }
    let parsed: &[&[u8]] = &[
        // Kinds the rules read.
        br#"{"timestamp":"t","type":"response_item","payload":{"type":"function_call","name":"shell"}}"#,
        br#"{"timestamp":"t","type":"response_item","payload":{"type":"local_shell_call"}}"#,
        br#"{"timestamp":"t","type":"event_msg","payload":{"type":"token_count","info":null}}"#,
        br#"{"timestamp":"t","type":"session_meta","payload":{"id":"s"}}"#,
        br#"{"timestamp":"t","type":"turn_context","payload":{"model":"m"}}"#,
        br#"{"timestamp":"t","type":"token_usage_record","payload":{"usage":{}}}"#,
        br#"{"timestamp":"t","type":"surprise","payload":{"type":"message"}}"#,
        // Not Codex's shape: spaces, escapes, payload before type, cut short.
        br#"{"timestamp":"t", "type":"event_msg","payload":{"type":"task_started"}}"#,
        br#"{"timestamp":"t","type":"event_msg","payload":{"type":"token\u005fcount"}}"#,
        br#"{"timestamp":"t\"","type":"event_msg","payload":{"type":"task_started"}}"#,
        br#"{"payload":{"type":"message"},"type":"response_item"}"#,
        br#"{"timestamp":"t","type":"response_item","payload":{"type":"message""#,
        br#"{"timestamp":true,"type":"response_item","payload":{"type":"message"}}"#,
    ];
    for line in parsed {
        assert_eq!(
            no_usage_kind(line),
            None,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    // Told only within the first bytes.
    let far = format!(
        r#"{{"timestamp":"{}","type":"event_msg","payload":{{"type":"task_started"}}}}"#,
        "t".repeat(KIND_WITHIN)
    );
    assert_eq!(no_usage_kind(far.as_bytes()), None);
}

#[test]
fn odd_shapes_are_read_alike_on_both_paths() {
    let meta = br#"{"type":"session_meta","payload":{"id":"s1","cwd":"/p","base_instructions":{"text":"long"}}}"#;
    let odd: &[&[u8]] = &[
        br#"{"type":"event_msg","payload":"not an object"}"#,
        br#"{"type":"event_msg","payload":null}"#,
        br#"{"type":"turn_context","payload":{"model":null,"cwd":null}}"#,
        br#"{"type":"turn_context","payload":{"model":{"id":"gpt-5.1-codex"}}}"#,
        br#"{"type":"turn_context","type":"world_state"}"#,
        br#"{"type":"response_item","payload":{"type":"function_call","name":"shell","name":"exec"}}"#,
        br#"{"type":"event_msg","payload":{"type":"token_count","info":null}}"#,
        br#"{"timestamp":5,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":3,"output_tokens":1}}}}"#,
        br#"{"timestamp":"2026-01-01T00:00:00Z","type":"token_usage_record","payload":{"response_id":"r","usage":{"input_tokens":3,"output_tokens":1},"extra":[1,{"a":"\u00e9"}]}}"#,
        b"{\"type\":\"response_item\",\"payload\":{\"type\":\"message\",\"content\":\"\xff\"}}",
        br#"{"type":"response_item","payload":{"type":"message","content":"cut short"#,
        br#"{"type":"world_state"} trailing"#,
        br#"[{"type":"session_meta"}]"#,
        br#"{"type":"response_item","payload":{"type":"message","content":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}"#,
    ];
    for line in odd {
        assert_both_paths_agree(&[meta.to_vec(), line.to_vec()]);
    }
}

/// JSON biased towards the keys and values a rollout line is read at, so
/// random lines reach the session, model, tool and usage rules.
fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let key = prop_oneof![
        prop::sample::select(vec![
            "type",
            "payload",
            "timestamp",
            "id",
            "session_id",
            "thread_id",
            "response_id",
            "cwd",
            "model",
            "name",
            "usage",
            "info",
            "total_token_usage",
            "last_token_usage",
            "input_tokens",
            "cached_input_tokens",
            "output_tokens",
            "reasoning_output_tokens",
            "cache_write_input_tokens",
            "base_instructions",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0u64..5000).prop_map(Value::from),
        prop::sample::select(vec![
            "session_meta",
            "turn_context",
            "response_item",
            "event_msg",
            "token_usage_record",
            "world_state",
            "token_count",
            "function_call",
            "local_shell_call",
            "gpt-5.1-codex",
            "s1",
            "r1",
            "2026-09-20T10:00:00Z",
        ])
        .prop_map(Value::from),
        ".{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Any bytes in: an answer out, never a panic.
    #[test]
    fn any_line_is_answered(lines in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0..20)) {
        let mut r = Rollout::new();
        for line in &lines {
            let _ = r.read_line(line);
        }
    }

    /// The skeleton and the full parse agree on any sequence of bytes.
    #[test]
    fn both_paths_agree_on_any_bytes(lines in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0..20)) {
        assert_both_paths_agree(&lines);
    }

    /// ... and on any sequence of JSON lines shaped like a rollout's, whole
    /// or cut short.
    #[test]
    fn both_paths_agree_on_any_json(
        values in proptest::collection::vec((arbitrary_json(), proptest::num::usize::ANY, proptest::bool::ANY), 0..12)
    ) {
        let lines: Vec<Vec<u8>> = values
            .iter()
            .map(|(value, cut, whole)| {
                let mut bytes = serde_json::to_vec(value).unwrap();
                if !whole {
                    bytes.truncate(cut % (bytes.len() + 1));
                }
                bytes
            })
            .collect();
        assert_both_paths_agree(&lines);
    }

    /// ... and on lines in Codex's own key order (timestamp, type, payload
    /// and its type first), whole, cut short or with a key repeated, where
    /// the kind is told from the first bytes.
    #[test]
    fn both_paths_agree_on_lines_in_codex_order(
        values in proptest::collection::vec((
            proptest::sample::select(vec!["response_item", "event_msg", "world_state", "compacted", "token_usage_record", "turn_context", "x"]),
            proptest::sample::select(vec!["message", "reasoning", "function_call_output", "function_call", "local_shell_call", "token_count", "task_started", ""]),
            arbitrary_json(),
            proptest::sample::select(vec!["", r#","type":"token_usage_record""#, r#","type":"event_msg","payload":{"type":"token_count"}"#]),
            proptest::num::usize::ANY,
            proptest::bool::ANY,
        ), 1..12)
    ) {
        let lines: Vec<Vec<u8>> = values
            .into_iter()
            .map(|(kind, item, rest, repeated, cut, whole)| {
                let rest = match rest {
                    Value::Object(map) => map,
                    other => [("x".to_owned(), other)].into_iter().collect(),
                };
                let mut payload = serde_json::to_string(&rest).unwrap();
                payload.insert_str(1, &format!(r#""type":"{item}","#));
                if rest.is_empty() {
                    payload.remove(payload.len() - 2);
                }
                let mut bytes = format!(
                    r#"{{"timestamp":"2026-09-19T15:25:41.512Z","ordinal":3,"type":"{kind}","payload":{payload}{repeated}}}"#
                ).into_bytes();
                if !whole {
                    bytes.truncate(cut % (bytes.len() + 1));
                }
                bytes
            })
            .collect();
        assert_both_paths_agree(&lines);
    }

    /// ... and on lines built like a rollout's: a `type` and a `payload`
    /// object of arbitrary fields.
    #[test]
    fn both_paths_agree_on_rollout_shaped_lines(
        values in proptest::collection::vec((arbitrary_json(), arbitrary_json(), arbitrary_json()), 1..12)
    ) {
        let lines: Vec<Vec<u8>> = values
            .into_iter()
            .map(|(kind, payload, stamp)| {
                serde_json::to_vec(&serde_json::json!({"timestamp": stamp, "type": kind, "payload": payload})).unwrap()
            })
            .collect();
        assert_both_paths_agree(&lines);
    }
}

#[test]
fn each_response_names_its_turn_as_the_prompt_it_answers() {
    // The shell run: one turn, a function call and the follow-up request.
    let (usages, _) = read_all(&mut Rollout::new(), &fixture(SHELL));
    let turns: Vec<Option<&str>> = usages.iter().map(|u| u.turn_id.as_deref()).collect();
    assert_eq!(
        turns,
        [
            Some("01a24b7e-261d-7c02-9b72-5aa9494f68b1"),
            Some("01a24b7e-261d-7c02-9b72-5aa9494f68b1")
        ]
    );
    // Run outside a git repository: no branch.
    assert!(usages.iter().all(|u| u.git_branch.is_none()));
}

#[test]
fn a_rollout_without_usage_records_takes_the_turn_context_and_the_session_branch() {
    let lines = [
        r#"{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{"id":"s","cwd":"/p","git":{"branch":"feature/x","commit_hash":"abc"}}}"#,
        r#"{"timestamp":"2026-01-01T00:00:01.000Z","type":"turn_context","payload":{"turn_id":"t-1","cwd":"/p","model":"gpt-5"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:02.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"output_tokens":2},"last_token_usage":{"input_tokens":10,"output_tokens":2}}}}"#,
    ];
    let lines: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
    let (usages, _) = read_all(&mut Rollout::new(), &lines);
    assert_eq!(usages.len(), 1, "{usages:?}");
    assert_eq!(usages[0].turn_id.as_deref(), Some("t-1"));
    assert_eq!(usages[0].git_branch.as_deref(), Some("feature/x"));
}

#[test]
fn rate_limits_become_plan_windows_named_by_their_length_with_or_without_usage() {
    let mut rollout = Rollout::new();
    let meta = br#"{"timestamp":"2026-12-06T10:00:00.000Z","type":"session_meta","payload":{"id":"s-1","cwd":"/p"}}"#;
    assert!(matches!(rollout.read_line(meta), CodexLine::Skip(_)));
    assert_eq!(rollout.take_plan(), None);
    let limits = br#"{"timestamp":"2026-12-06T10:00:01.000Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":42.5,"window_minutes":300,"resets_at":1796570000},"secondary":{"used_percent":7,"window_minutes":10080,"resets_in_seconds":3600},"credits":null}}}"#;
    assert_eq!(
        rollout.read_line(limits),
        CodexLine::Skip(CodexSkip::NullInfo)
    );
    let plan = rollout.take_plan().expect("plan use");
    assert_eq!(plan.session_id.as_deref(), Some("s-1"));
    assert_eq!(plan.timestamp.to_string(), "2026-12-06T10:00:01Z");
    assert_eq!(plan.windows.len(), 2);
    assert_eq!(plan.windows[0].window, "five_hour");
    assert_eq!(plan.windows[0].used_pct, 42.5);
    assert_eq!(
        plan.windows[0].resets_at,
        Some(jiff::Timestamp::from_second(1_796_570_000).unwrap())
    );
    assert_eq!(plan.windows[1].window, "seven_day");
    assert_eq!(
        plan.windows[1].resets_at.map(|t| t.to_string()).as_deref(),
        Some("2026-12-06T11:00:01Z")
    );
    assert_eq!(rollout.take_plan(), None, "taken once");

    // Beside usage, through the skeleton and the full parse alike; an odd
    // length keeps its minutes, a window without use or length is left out.
    let both = br#"{"timestamp":"2026-12-06T10:00:02.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":2,"reasoning_output_tokens":0,"total_tokens":12},"last_token_usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":2,"reasoning_output_tokens":0,"total_tokens":12}},"rate_limits":{"primary":{"used_percent":50,"window_minutes":60},"secondary":{"used_percent":null,"window_minutes":10080}}}}"#;
    for full in [false, true] {
        let mut r = rollout.clone();
        let line = if full {
            r.read_line_full(both)
        } else {
            r.read_line(both)
        };
        assert!(matches!(line, CodexLine::Usage(_)));
        let plan = r.take_plan().expect("plan beside usage");
        assert_eq!(plan.windows.len(), 1);
        assert_eq!(plan.windows[0].window, "60m");
        assert_eq!(plan.windows[0].resets_at, None);
    }

    // The real 0.171 rollouts without plan data: nulls, nothing taken.
    let mut real = Rollout::new();
    for line in fixture("real/text/sessions/2026/12/06/rollout-2026-12-06T13-14-47-01a24b7e-248e-7de1-a4a7-51c7b3f9c28f.jsonl") {
        let _ = real.read_line(&line);
        assert_eq!(real.take_plan(), None);
    }
}
