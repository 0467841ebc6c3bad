use super::*;

/// The one chat log under a fixture directory of the repository
/// (tests/fixtures/gemini/<dir>/tmp/project/chats/).
fn fixture(dir: &str) -> Vec<u8> {
    let chats = format!(
        "{}/../../tests/fixtures/gemini/{dir}/tmp/project/chats",
        env!("CARGO_MANIFEST_DIR")
    );
    let entry = std::fs::read_dir(&chats)
        .expect("fixture dir")
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().is_some_and(is_chat_name))
        .expect("a chat log");
    std::fs::read(entry).expect("fixture")
}

/// Every answer of `chat` over the complete lines of `bytes`.
fn read_all(chat: &mut Chat, bytes: &[u8]) -> (Vec<GeminiUsage>, Vec<GeminiSkip>) {
    let (mut usages, mut skips) = (Vec::new(), Vec::new());
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let read = chat.read_line(line);
        usages.extend(read.usages);
        skips.extend(read.skips);
    }
    (usages, skips)
}

fn usage(input: u64, cache_read: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        input,
        cache_read,
        output,
        reasoning,
        ..Usage::default()
    }
}

#[test]
fn a_text_turn_is_one_record_keyed_by_session_and_message() {
    let (usages, skips) = read_all(&mut Chat::new(), &fixture("real/text"));
    assert_eq!(usages.len(), 1, "{usages:?}");
    let u = &usages[0];
    // The mock billed prompt 1200 (none cached), 30 candidates.
    assert_eq!(u.usage, usage(1200, 0, 30, 0));
    assert_eq!(u.model, "gemini-2.5-pro");
    assert_eq!(u.session_id, "9d94c2f0-d0d9-4b12-ac96-55b1cd374edb");
    assert_eq!(
        u.key,
        "gemini:9d94c2f0-d0d9-4b12-ac96-55b1cd374edb:903c6373-33e6-44a1-b88a-aad0e627e639"
    );
    assert!(u.timestamp.is_some());
    assert!(!skips.iter().any(|s| matches!(
        s,
        GeminiSkip::UnknownType | GeminiSkip::NotJson | GeminiSkip::InvalidUsage(_)
    )));
}

#[test]
fn thoughts_are_output_cached_is_taken_out_of_input_and_tool_prompts_are_input() {
    let (usages, _) = read_all(&mut Chat::new(), &fixture("real/thinking"));
    assert_eq!(usages.len(), 1, "{usages:?}");
    // prompt 230000 of which 180000 cached, 40 tool-use prompt tokens,
    // 64 candidates and 512 thoughts.
    assert_eq!(usages[0].usage, usage(50_040, 180_000, 576, 512));
    assert_eq!(usages[0].usage.prompt_tokens(), 230_040);
}

#[test]
fn a_message_written_again_with_its_tool_calls_is_given_again_with_the_tools_only() {
    let (usages, _) = read_all(&mut Chat::new(), &fixture("real/tool"));
    let keys: Vec<_> = usages.iter().map(|u| u.key.as_str()).collect();
    // The first message is written twice: without, then with, toolCalls.
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    assert!(usages[0].tool_names.is_empty());
    assert_eq!(usages[1].tool_names, ["run_shell_command"]);
    assert_eq!(usages[0].usage, usages[1].usage);
    assert_eq!(usages[0].usage, usage(2000, 0, 36, 16));
    assert_eq!(usages[2].usage, usage(400, 1900, 25, 0));
}

#[test]
fn a_resumed_session_counts_each_message_once_under_one_session() {
    let bytes = fixture("real/resume");
    let (usages, _) = read_all(&mut Chat::new(), &bytes);
    let mut keys: Vec<_> = usages.iter().map(|u| u.key.clone()).collect();
    keys.dedup();
    // Four billed requests, the third written twice (its tool call).
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(usages
        .iter()
        .all(|u| u.session_id == "896c00ab-fd26-478f-9c6c-df34a869b048"));
    let total: u64 = usages
        .iter()
        .filter(|u| u.tool_names.is_empty() || u.key != usages[2].key)
        .map(|u| u.usage.prompt_tokens())
        .sum();
    assert_eq!(total, 1500 + 1700 + 1900 + 2100);
}

/// A `$set.messages` carrying earlier messages with their tokens (as the
/// issue saw on resume): the copies have the keys of the originals, so a
/// chat that read the originals gives nothing again, and a chat reading only
/// the copy gives them once.
#[test]
fn a_history_rewrite_with_tokens_does_not_count_old_messages_twice() {
    let header =
        br#"{"sessionId":"s1","projectHash":"h","startTime":"2026-01-01T00:00:00Z","kind":"main"}"#;
    let m1 = r#"{"id":"m1","timestamp":"2026-01-01T00:00:01Z","type":"gemini","content":"a","tokens":{"input":100,"output":5,"cached":40,"thoughts":2,"tool":0,"total":107},"model":"gemini-2.5-pro"}"#;
    let m2 = r#"{"id":"m2","timestamp":"2026-01-01T00:00:02Z","type":"gemini","content":"b","tokens":{"input":200,"output":6,"cached":0,"thoughts":0,"tool":0,"total":206},"model":"gemini-2.5-pro"}"#;
    let user = r#"{"id":"u1","timestamp":"2026-01-01T00:00:00Z","type":"user","content":"hi"}"#;
    let rewrite = format!(r#"{{"$set":{{"messages":[{user},{m1}]}}}}"#);
    let mut chat = Chat::new();
    let mut given = Vec::new();
    for line in [
        &header[..],
        m1.as_bytes(),
        rewrite.as_bytes(),
        m2.as_bytes(),
    ] {
        given.extend(chat.read_line(line).usages);
    }
    let keys: Vec<_> = given.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["gemini:s1:m1", "gemini:s1:m2"]);
    assert_eq!(given[0].usage, usage(60, 40, 7, 2));

    let mut fresh = Chat::new();
    let mut copied = fresh.read_line(header).usages;
    copied.extend(fresh.read_line(rewrite.as_bytes()).usages);
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0].key, "gemini:s1:m1");
}

#[test]
fn a_stray_header_only_file_gives_nothing() {
    let mut chat = Chat::new();
    let read = chat.read_line(
        br#"{"sessionId":"s2","projectHash":"h","startTime":"2026-01-01T00:00:00Z","lastUpdated":"2026-01-01T00:00:00Z","kind":"main"}"#,
    );
    assert!(read.usages.is_empty());
    assert_eq!(read.skips, [GeminiSkip::NoUsage]);
    assert_eq!(chat.session_id(), Some("s2"));
}

#[test]
fn the_older_single_json_form_is_read_whole() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/gemini/legacy/tmp/project/chats/session-2025-09-01T10-00-5e551011.json"
    );
    let read = read_document(&std::fs::read(path).unwrap());
    let got: Vec<_> = read
        .usages
        .iter()
        .map(|u| {
            (
                u.key.as_str(),
                u.model.as_str(),
                u.usage,
                u.tool_names.clone(),
            )
        })
        .collect();
    let s = "5e551011-aaaa-4bbb-8ccc-000000000001";
    assert_eq!(
        got,
        [
            (
                format!("gemini:{s}:g-1").as_str(),
                "gemini-2.5-pro",
                usage(5000, 0, 160, 120),
                vec!["run_shell_command".to_owned()]
            ),
            (
                format!("gemini:{s}:g-2").as_str(),
                "gemini-2.5-pro",
                usage(600, 4800, 12, 0),
                vec![]
            ),
            (
                format!("gemini:{s}:g-3").as_str(),
                "gemini-2.5-flash",
                usage(900, 0, 8, 0),
                vec![]
            ),
        ]
    );
    assert!(!read.skips.contains(&GeminiSkip::UnknownType));
}

#[test]
fn unknown_lines_and_types_are_counted_bad_counts_refused_a_cut_line_is_not_json() {
    let mut chat = Chat::new();
    let lines: [&[u8]; 7] = [
        br#"{"sessionId":"s","projectHash":"h"}"#,
        br#"{"$unknownOp":{"x":1}}"#,
        br#"{"id":"x","type":"hologram","content":"?"}"#,
        br#"{"id":"g","type":"gemini","tokens":{"input":10,"cached":20,"output":1}}"#,
        br#"{"id":"g2","type":"gemini","tokens":{"input":-1,"output":1}}"#,
        br#"{"$rewindTo":"g"}"#,
        br#"{"id":"g3","type":"gemini","tokens":{"input":10,"outp"#,
    ];
    let skips: Vec<_> = lines
        .iter()
        .flat_map(|l| {
            let read = chat.read_line(l);
            assert!(read.usages.is_empty());
            read.skips
        })
        .collect();
    assert_eq!(skips[1], GeminiSkip::UnknownType);
    assert_eq!(skips[2], GeminiSkip::UnknownType);
    assert!(matches!(&skips[3], GeminiSkip::InvalidUsage(d) if d.contains("exceeds")));
    assert!(matches!(&skips[4], GeminiSkip::InvalidUsage(d) if d.contains("tokens.input")));
    assert_eq!(skips[5], GeminiSkip::NoUsage);
    assert_eq!(skips[6], GeminiSkip::NotJson);
}

#[test]
fn a_model_message_before_any_header_has_no_session() {
    let read =
        Chat::new().read_line(br#"{"id":"g","type":"gemini","tokens":{"input":10,"output":1}}"#);
    assert_eq!(read.skips, [GeminiSkip::NoSession]);
}

proptest::proptest! {
    /// Any bytes in: an answer out, never a panic.
    #[test]
    fn any_line_is_answered(lines in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0..20)) {
        let mut chat = Chat::new();
        for line in &lines {
            let read = chat.read_line(line);
            proptest::prop_assert!(!read.usages.is_empty() || !read.skips.is_empty());
        }
        let _ = read_document(&lines.concat());
    }

    /// Reading a log twice through one chat gives each record once.
    #[test]
    fn a_re_read_adds_nothing(n in 1usize..20, tool_at in 0usize..20) {
        let mut text = String::from("{\"sessionId\":\"s\",\"projectHash\":\"h\"}\n");
        for i in 0..n {
            let tools = if i == tool_at { r#","toolCalls":[{"name":"t"}]"# } else { "" };
            text.push_str(&format!("{{\"id\":\"m{i}\",\"type\":\"gemini\",\"tokens\":{{\"input\":{i},\"output\":1}}{tools}}}\n"));
        }
        let mut chat = Chat::new();
        let (first, _) = read_all(&mut chat, text.as_bytes());
        let (again, _) = read_all(&mut chat, text.as_bytes());
        proptest::prop_assert_eq!(first.len(), n);
        proptest::prop_assert!(again.is_empty());
    }
}

/// The Gemini CLI 0.61.0's hook payloads (its `createBaseInput`, plus each
/// event's fields): taken for the CLI's, never priced, agent `gemini-cli`;
/// a hand-written `AfterModel` without `transcript_path` is still priced.
#[test]
fn the_clis_hook_payloads_are_told_apart_and_never_priced() {
    use crate::collect::{collect, UsageFinding};
    let chat = "/h/.gemini/tmp/shop/chats/session-2026-12-06T15-40-896c00ab.jsonl";
    let base = |event: &str| {
        serde_json::json!({
            "session_id": "896c00ab-fd26-478f-9c6c-df34a869b048",
            "transcript_path": chat, "cwd": "/home/u/shop",
            "hook_event_name": event, "timestamp": "2026-12-06T15:40:21.050Z"
        })
    };
    let mut after_model = base("AfterModel");
    after_model["llm_request"] = serde_json::json!({"model": "gemini-2.5-pro"});
    after_model["llm_response"] = serde_json::json!({"usageMetadata": {"promptTokenCount": 1500, "candidatesTokenCount": 3, "totalTokenCount": 1503}});
    for payload in [
        base("SessionStart"),
        base("AfterAgent"),
        base("SessionEnd"),
        after_model.clone(),
    ] {
        let c = collect(&payload);
        assert!(c.from_gemini && !c.from_codex, "{payload}");
        assert_eq!(c.usage, UsageFinding::Absent, "{payload}");
        assert_eq!(c.agent_id.as_deref(), Some(AGENT), "{payload}");
        assert_eq!(c.transcript_path.as_deref(), Some(chat));
    }
    // No chat recorded: an empty path, but the CLI's own event name.
    let mut unrecorded = base("AfterAgent");
    unrecorded["transcript_path"] = "".into();
    assert!(collect(&unrecorded).from_gemini);
    // A Claude Code-looking SessionStart naming a transcript is Claude Code's.
    let mut claude = base("SessionStart");
    claude["transcript_path"] = "/h/.claude/projects/-home-u-shop/s.jsonl".into();
    assert!(!collect(&claude).from_gemini);
    // Gemini usage from a script, without a transcript_path: priced.
    after_model
        .as_object_mut()
        .unwrap()
        .remove("transcript_path");
    let c = collect(&after_model);
    assert!(!c.from_gemini);
    assert!(matches!(c.usage, UsageFinding::Found(_)));
}

#[test]
fn each_response_answers_the_last_user_message_that_is_a_prompt() {
    // The real Gemini CLI 0.61.0's tool run (tests/fixtures/otel): the
    // prompt, a response calling a tool, the tool's result written as a
    // user message, the follow-up response: both responses answer the prompt.
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/otel/gemini/tool/json/chat.jsonl"
    ))
    .unwrap();
    let (usages, _) = read_all(&mut Chat::new(), &bytes);
    assert!(usages.len() >= 2, "{usages:?}");
    assert!(
        usages
            .iter()
            .all(|u| u.prompt_id.as_deref() == Some("de187465-6467-4627-802a-becdfd013eb3")),
        "{usages:?}"
    );
}
