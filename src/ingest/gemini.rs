//! Gemini CLI chat logs → transcript records: reads a chat log's complete
//! lines in order through the collector's [`Chat`] (or an older single-JSON
//! log whole), so every read of the same file gives the same records and
//! keys (docs/ingest.md#gemini-cli-chat-logs).
//!
//! The project comes from the `.project_root` file the CLI keeps in the
//! project's directory under `~/.gemini/tmp/` (the chat log's header names
//! only a hash of it), else from that directory's name.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::collect::gemini::{read_document, Chat, GeminiLine, GeminiSkip, GeminiUsage, AGENT};
use crate::collect::transcript::TranscriptUsage;
use crate::collect::{Billing, UsageLimits};
use crate::ingest::codex::{read_lines, LineState, LogChunk, RolloutSkips, BLOCK_BYTES};
use crate::ingest::transcript::{Chunk, MAX_LINE_BYTES};
use crate::record::{AgentLog, Source, TranscriptRecord};

/// Records sent on at once while a chat log is read.
const RECORDS_PER_CHUNK: usize = 1_000;

/// The name of the file holding a project's path, in its directory under
/// `~/.gemini/tmp/`.
const PROJECT_ROOT_FILE: &str = ".project_root";

/// Whether `path` is a Gemini CLI chat log: `chats/session-*.jsonl` (or
/// the older `chats/session-*.json`) of a session, or
/// `chats/<parent session id>/*.jsonl` of a subagent.
pub fn is_chat(path: &Path) -> bool {
    crate::collect::gemini::is_chat_path(path)
}

/// Reads the chat log at `path` from its start, handing `emit` a chunk
/// (with the bytes it consumed and its skips, unknown types and refused
/// counts in the [`RolloutSkips`] fields of those names) every
/// [`RECORDS_PER_CHUNK`] records and at the end; `emit` returns false to
/// stop. A half-written last line is not read.
pub fn read_chat(
    path: &Path,
    limits: UsageLimits,
    buf: &mut Vec<u8>,
    mut emit: impl FnMut(Chunk, u64, RolloutSkips) -> bool,
) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let cwd = project_root(path);
    let mut chunk = Chunk::default();
    let mut skips = RolloutSkips::default();
    if path.extension().is_some_and(|e| e == "json") {
        // The older form: one object, read whole (up to the line limit).
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        chunk.lines = 1;
        let read = if bytes.len() > MAX_LINE_BYTES {
            GeminiLine {
                usages: Vec::new(),
                skips: vec![GeminiSkip::NotJson],
            }
        } else {
            read_document(&bytes)
        };
        take(read, limits, path, cwd.as_deref(), &mut chunk, &mut skips);
        chunk.at_end = true;
        emit(chunk, bytes.len() as u64, skips);
        return Ok(());
    }
    let mut chat = Chat::new();
    let mut bytes = 0u64;
    let mut stopped = false;
    read_lines(&mut file, buf, u64::MAX, BLOCK_BYTES, |line, n| {
        bytes += n;
        chunk.lines += 1;
        let read = match line {
            None => {
                tracing::warn!(path = %path.display(), "Skipped a chat log line longer than {MAX_LINE_BYTES} bytes.");
                chunk.skipped += 1;
                return true;
            }
            Some([]) => {
                chunk.lines -= 1;
                return true;
            }
            Some(line) => chat.read_line(line),
        };
        take(read, limits, path, cwd.as_deref(), &mut chunk, &mut skips);
        if chunk.records.len() < RECORDS_PER_CHUNK {
            return true;
        }
        let full = std::mem::take(&mut chunk);
        stopped = !emit(full, std::mem::take(&mut bytes), std::mem::take(&mut skips));
        !stopped
    })?;
    if !stopped {
        chunk.at_end = true;
        emit(chunk, bytes, skips);
    }
    Ok(())
}

/// What the tail keeps beside a chat log's offset: the collector's [`Chat`]
/// (the session the header named, the message ids seen) and the project
/// the file belongs to.
#[derive(Debug, Clone)]
pub struct ChatState {
    chat: Chat,
    cwd: Option<String>,
}

impl LineState for ChatState {
    fn fresh(path: &Path) -> ChatState {
        ChatState {
            chat: Chat::new(),
            cwd: project_root(path),
        }
    }

    fn prime(&mut self, line: &[u8]) {
        let _ = self.chat.read_line(line);
    }

    fn feed(
        &mut self,
        line: &[u8],
        limits: UsageLimits,
        path: &Path,
        chunk: &mut Chunk,
        skips: &mut RolloutSkips,
    ) {
        chunk.lines += 1;
        let read = self.chat.read_line(line);
        take(read, limits, path, self.cwd.as_deref(), chunk, skips);
    }
}

/// One read of a chat log for the tail: the JSONL form from `offset`, about
/// `max` bytes of complete lines, going on from `state` (rebuilt by reading
/// the lines before `offset` again when missing, as for a Codex rollout);
/// the older single-JSON form, which the CLI rewrites whole, read whole
/// again each time it changed (its messages' keys make that harmless).
pub fn read_chat_chunk(
    path: &Path,
    offset: u64,
    inode: u64,
    state: Option<ChatState>,
    max: usize,
    limits: UsageLimits,
) -> std::io::Result<LogChunk<ChatState>> {
    if path.extension().is_some_and(|e| e != "json") {
        return crate::ingest::codex::read_log_chunk(path, offset, inode, state, max, limits);
    }
    let mut whole = None;
    read_chat(path, limits, &mut Vec::new(), |chunk, bytes, skips| {
        whole = Some((chunk, bytes, skips));
        true
    })?;
    let (mut chunk, bytes, skips) = whole.unwrap_or_default();
    chunk.end = bytes;
    chunk.inode = std::fs::metadata(path).map(|m| std::os::unix::fs::MetadataExt::ino(&m))?;
    chunk.at_end = true;
    if chunk.end == offset && chunk.inode == inode {
        // Read before at this length: what it gave is stored already.
        chunk = Chunk {
            end: offset,
            inode,
            at_end: true,
            ..Chunk::default()
        };
    }
    Ok(LogChunk {
        chunk,
        state: ChatState::fresh(path),
        skips,
    })
}

/// One line's answers into `chunk` and `skips`. A line counts as skipped
/// when it gave no record.
fn take(
    read: GeminiLine,
    limits: UsageLimits,
    path: &Path,
    cwd: Option<&str>,
    chunk: &mut Chunk,
    skips: &mut RolloutSkips,
) {
    let mut kept = 0;
    for usage in read.usages {
        if let Some(reason) = limits.refusal(&usage.usage) {
            chunk.implausible += 1;
            tracing::warn!(path = %path.display(), key = %usage.key, %reason, "Chat log usage refused.");
            continue;
        }
        chunk.records.push(as_transcript_usage(usage, cwd));
        kept += 1;
    }
    for skip in &read.skips {
        match skip {
            GeminiSkip::NotJson => chunk.not_json += 1,
            GeminiSkip::UnknownType => skips.unknown_type += 1,
            GeminiSkip::InvalidUsage(detail) => {
                skips.invalid_usage += 1;
                tracing::warn!(path = %path.display(), reason = %detail, "Chat log usage refused.");
            }
            GeminiSkip::NoSession => {
                tracing::warn!(path = %path.display(), "Chat log usage before its header: not counted.");
            }
            GeminiSkip::NotObject | GeminiSkip::NoUsage => {}
        }
    }
    if kept == 0 {
        chunk.skipped += 1;
    }
}

/// The project's path the CLI wrote beside the chats (`<project
/// dir>/.project_root`, the parent of `chats/`, or of `chats/<parent>/` for
/// a subagent's log), else the project directory's own path, whose last
/// name is the project's short name.
fn project_root(path: &Path) -> Option<String> {
    let chats = path
        .ancestors()
        .skip(1)
        .take(2)
        .find(|dir| dir.file_name().is_some_and(|n| n == "chats"))?;
    let project_dir = chats.parent()?;
    let marker = project_dir.join(PROJECT_ROOT_FILE);
    let mut text = String::new();
    let read = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&marker)
        .and_then(|f| f.take(4096).read_to_string(&mut text));
    match read {
        Ok(_) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => project_dir.to_str().map(str::to_owned),
    }
}

/// A Gemini CLI message in the shape the writer takes transcript records
/// in: its key is its message id, no request id, no sidechain, agent
/// `gemini-cli`.
pub fn as_transcript_usage(usage: GeminiUsage, cwd: Option<&str>) -> TranscriptUsage {
    TranscriptUsage {
        message_id: usage.key.clone(),
        key: usage.key,
        session_id: usage.session_id,
        request_id: None,
        timestamp: usage.timestamp,
        model: usage.model,
        usage: usage.usage,
        billing: Billing::default(),
        tool_names: usage.tool_names,
        sidechain: false,
        agent_id: Some(AGENT.to_owned()),
        cwd: cwd.map(str::to_owned),
        reported_cost_usd: None,
        copied: false,
        prompt_id: usage.prompt_id,
        // A chat log names no branch.
        git_branch: None,
    }
}

/// The record of a Gemini CLI message read from a chat log.
pub fn to_record(line: TranscriptUsage, source: Source) -> TranscriptRecord {
    let project = line.cwd.as_deref().and_then(crate::ingest::project_of);
    TranscriptRecord {
        line,
        project,
        source,
        log: AgentLog::Gemini,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_logs_are_told_by_name_and_place() {
        let yes = [
            "/h/.gemini/tmp/p/chats/session-2026-01-01T00-00-abcd1234.jsonl",
            "/h/.gemini/tmp/p/chats/session-2025-09-01T10-00-abcd1234.json",
            "/h/.gemini/tmp/p/chats/parent-id/child-id.jsonl",
        ];
        let no = [
            "/h/.gemini/tmp/p/logs.json",
            "/h/.gemini/tmp/p/chats/notes.jsonl",
            "/h/.gemini/tmp/p/session-2026-01-01T00-00-abcd1234.jsonl",
            "/h/.gemini/tmp/p/chats/parent-id/child-id.json",
        ];
        for path in yes {
            assert!(is_chat(Path::new(path)), "{path}");
        }
        for path in no {
            assert!(!is_chat(Path::new(path)), "{path}");
        }
    }

    /// The tail's reads, in steps of `max` bytes with the state carried and
    /// again after a "restart" (no state: the lines before the offset are
    /// read again to rebuild it), give what one reading of the whole file
    /// gives: the session the header named before the offset keys the
    /// messages after it, and a message seen before the offset is not given
    /// again. A half-written last line is left at the end.
    #[test]
    fn the_tails_chunks_read_as_the_whole_file_with_or_without_the_state() {
        let mut text = String::from(
            "{\"sessionId\":\"s1\",\"projectHash\":\"h\",\"startTime\":\"2026-01-01T00:00:00Z\",\"kind\":\"main\"}\n",
        );
        let message = |n: usize, tools: bool| {
            let calls = if tools {
                ",\"toolCalls\":[{\"name\":\"run_shell_command\"}]"
            } else {
                ""
            };
            format!(
                "{{\"id\":\"m{n}\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"gemini\",\"content\":\"{}\",\"tokens\":{{\"input\":100,\"output\":{n},\"cached\":0,\"thoughts\":0,\"tool\":0,\"total\":100}},\"model\":\"gemini-2.5-pro\"{calls}}}\n",
                "x".repeat([10, 5_000, 200_000][n % 3])
            )
        };
        for n in 0..12 {
            text.push_str(&message(n, false));
            // Written again with its tool calls: one more read of m<n>, whatever the chunk.
            if n % 4 == 0 {
                text.push_str(&message(n, true));
            }
        }
        text.push_str("{\"id\":\"m99\",\"type\":\"gem");
        let dir = tempfile::tempdir().unwrap();
        let chats = dir.path().join("p/chats");
        std::fs::create_dir_all(&chats).unwrap();
        let path = chats.join("session-2026-01-01T00-00-s1.jsonl");
        std::fs::write(&path, &text).unwrap();
        let whole = read_chat_chunk(&path, 0, 0, None, usize::MAX, UsageLimits::default()).unwrap();
        let expected: Vec<(String, Vec<String>)> = (whole.chunk.records.iter())
            .map(|r| (r.key.clone(), r.tool_names.clone()))
            .collect();
        assert_eq!(
            expected.len(),
            15,
            "12 messages, 3 written again with tools"
        );
        let complete = text.rfind('\n').unwrap() as u64 + 1;
        assert_eq!(whole.chunk.end, complete);
        for max in [1, 4_096, 300_000] {
            for restart in [false, true] {
                let (mut got, mut offset, mut state) = (Vec::new(), 0, None);
                loop {
                    let read = read_chat_chunk(
                        &path,
                        offset,
                        0,
                        state.take(),
                        max,
                        UsageLimits::default(),
                    )
                    .unwrap();
                    got.extend(
                        (read.chunk.records.iter()).map(|r| (r.key.clone(), r.tool_names.clone())),
                    );
                    offset = read.chunk.end;
                    state = (!restart).then_some(read.state);
                    if read.chunk.at_end {
                        break;
                    }
                }
                assert_eq!(got, expected, "max {max}, restart {restart}");
                assert_eq!(offset, complete, "max {max}, restart {restart}");
            }
        }
    }

    #[test]
    fn the_project_is_the_path_beside_the_chats_else_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("tmp/slug");
        std::fs::create_dir_all(project.join("chats/parent")).unwrap();
        let main = project.join("chats/session-x.jsonl");
        let sub = project.join("chats/parent/child.jsonl");
        assert_eq!(project_root(&main), project.to_str().map(str::to_owned));
        std::fs::write(project.join(PROJECT_ROOT_FILE), "/home/u/shop\n").unwrap();
        assert_eq!(project_root(&main).as_deref(), Some("/home/u/shop"));
        assert_eq!(project_root(&sub).as_deref(), Some("/home/u/shop"));
    }
}
