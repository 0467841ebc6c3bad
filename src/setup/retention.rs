//! doctor's look at Claude Code's transcript retention: will Claude Code
//! delete transcripts hookmeter has not read yet?
//!
//! Claude Code, at each start, deletes the transcripts under its
//! `projects/` directory (and each session's subagent directory with them)
//! whose modification time is older than `cleanupPeriodDays` days (30 when
//! unset). [`look`] finds the setting in force (managed, then the project's
//! local, the project's, then the user's settings: Claude Code's order) and
//! the transcripts under the watched roots old enough to go within
//! [`MARGIN_DAYS`], with how far hookmeter read each; [`assess`] is pure.
//! What it asks of the database goes through [`crate::query::transcripts`].
//!
//! For users: docs/cli.md#hookmeter-doctor.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::doctor::Status;
use crate::config::Config;

/// Claude Code's retention when no settings file sets it.
pub const DEFAULT_DAYS: u64 = 30;
/// A transcript this close to its deletion (in days) is already worth a
/// warning: it goes at the first start of Claude Code after that.
pub const MARGIN_DAYS: u64 = 3;
/// A retention this short with no daemon reading along loses what is not
/// imported within the week.
pub const SHORT_DAYS: u64 = 7;
/// Managed settings on Linux: they override every other file.
pub const MANAGED_SETTINGS: &str = "/etc/claude-code/managed-settings.json";
const DAY: u64 = 24 * 60 * 60;

/// What doctor found about the retention and the transcripts it threatens.
#[derive(Debug, Clone)]
pub struct Facts {
    pub period: Period,
    /// The transcripts under the watched Claude Code roots.
    pub transcripts: usize,
    /// The transcripts within [`MARGIN_DAYS`] of deletion (none looked for
    /// when the setting is invalid), or why the database could not say how
    /// far they were read.
    pub old: Result<Vec<Old>, String>,
    /// The daemon answers on its socket.
    pub daemon_up: bool,
    /// The daemon follows the transcript roots without hooks (`transcripts.watch`).
    pub watched: bool,
}

/// `cleanupPeriodDays` in force, and the file it came from (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub setting: Setting,
    pub from: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Days(u64),
    /// Not a whole number of at least 1 (as written): Claude Code 2.1
    /// rejects it and, while it is set, skips its cleanup.
    Invalid(String),
}

/// A transcript old enough to be deleted within [`MARGIN_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Old {
    pub path: PathBuf,
    /// Since its modification time (a subagent's: its session's transcript's,
    /// which Claude Code deletes the subagent's directory with).
    pub age_days: u64,
    pub size: u64,
    pub read: Read,
}

/// How much of a transcript is in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Read to its end (its offset), or imported (no offset, but its
    /// session has records: `import` keeps no offsets).
    Whole,
    /// The daemon read this many bytes of it.
    Partly(u64),
    /// Nothing of it: no offset (or one of another file at this path) and
    /// no record of its session.
    Not,
}

/// Reads the settings files and walks the Claude Code roots; only looks.
pub fn look(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    daemon_up: bool,
) -> Facts {
    use crate::ingest::watch::{walk, LogKind};
    let period = period_in_force(env, cwd);
    let now = SystemTime::now();
    let mut transcripts = 0;
    let mut candidates = Vec::new();
    for root in &config.transcripts.roots {
        for (path, (size, inode)) in walk(root, LogKind::ClaudeTranscript).files {
            transcripts += 1;
            let Setting::Days(days) = period.setting else {
                continue;
            };
            let age_days = deleted_with(&path)
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or(Duration::ZERO)
                .as_secs()
                / DAY;
            if age_days + MARGIN_DAYS >= days {
                candidates.push((path, age_days, size, inode));
            }
        }
    }
    Facts {
        period,
        transcripts,
        old: how_far_read(&config.db, candidates),
        daemon_up,
        watched: config.transcripts.watch != crate::config::Watch::Off,
    }
}

/// The file whose age decides a transcript's deletion: a subagent's
/// (`<project>/<session>/subagents/agent-*.jsonl`) goes with its session's
/// `<project>/<session>.jsonl`.
fn deleted_with(path: &Path) -> PathBuf {
    let session_dir = path
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "subagents"))
        .and_then(Path::parent);
    match session_dir {
        Some(dir) => {
            let session = dir.with_extension("jsonl");
            if session.is_file() {
                return session;
            }
            path.to_path_buf()
        }
        None => path.to_path_buf(),
    }
}

/// The session a transcript's records carry: its file name, or for a
/// subagent's, its session directory's.
fn session_of(path: &Path) -> Option<String> {
    let in_subagents = path
        .parent()
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "subagents"));
    let named = match in_subagents {
        true => path.parent()?.parent()?.file_name()?,
        false => path.file_stem()?,
    };
    Some(named.to_string_lossy().into_owned())
}

fn how_far_read(db: &Path, candidates: Vec<(PathBuf, u64, u64, u64)>) -> Result<Vec<Old>, String> {
    use crate::query::transcripts;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // No database yet: nothing was read.
    let conn = match db.exists() {
        true => Some(super::doctor::open_quietly(db).map_err(|e| e.to_string())?),
        false => None,
    };
    let mut old = Vec::new();
    for (path, age_days, size, inode) in candidates {
        let read = match &conn {
            None => Read::Not,
            Some(conn) => {
                let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                let offset = transcripts::transcript_offset(conn, &key.to_string_lossy())
                    .map_err(|e| e.to_string())?
                    .filter(|o| o.inode == inode);
                match offset {
                    Some(o) if o.offset >= size => Read::Whole,
                    Some(o) => Read::Partly(o.offset),
                    None => match session_of(&path) {
                        Some(session)
                            if transcripts::session_has_records(conn, &session)
                                .map_err(|e| e.to_string())? =>
                        {
                            Read::Whole
                        }
                        _ => Read::Not,
                    },
                }
            }
        };
        old.push(Old {
            path,
            age_days,
            size,
            read,
        });
    }
    old.sort_by(|a, b| b.age_days.cmp(&a.age_days).then(a.path.cmp(&b.path)));
    Ok(old)
}

/// `cleanupPeriodDays` from the first settings file that sets it, in
/// Claude Code's order of precedence.
fn period_in_force(env: &dyn Fn(&str) -> Option<String>, cwd: &Path) -> Period {
    let mut files = vec![
        PathBuf::from(MANAGED_SETTINGS),
        super::project_local_settings(cwd),
        super::project_settings(cwd),
    ];
    files.extend(super::user_settings(env).ok());
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let Ok(settings) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if let Some(value) = settings.get("cleanupPeriodDays") {
            let setting = match value.as_u64() {
                Some(days) if days >= 1 => Setting::Days(days),
                _ => Setting::Invalid(value.to_string()),
            };
            return Period {
                setting,
                from: Some(file),
            };
        }
    }
    Period {
        setting: Setting::Days(DEFAULT_DAYS),
        from: None,
    }
}

/// The finding: (status, finding, fix).
pub fn assess(facts: &Facts) -> (Status, String, Option<String>) {
    let from = match &facts.period.from {
        Some(file) => format!("cleanupPeriodDays in {}", file.display()),
        None => "Claude Code's default; no settings file sets cleanupPeriodDays".into(),
    };
    let settings = facts
        .period
        .from
        .as_ref()
        .map_or("~/.claude/settings.json".into(), |f| {
            f.display().to_string()
        });
    let keep = format!(
        "run `hookmeter import --agent claude-code` now, and raise \"cleanupPeriodDays\" in {settings} (e.g. 365) to keep transcripts longer"
    );
    let days = match &facts.period.setting {
        Setting::Invalid(raw) => {
            return (
                Status::Warn,
                format!(
                    "cleanupPeriodDays is {raw} ({from}): not a whole number of days from 1; \
                     Claude Code 2.1 rejects it and skips its cleanup, older versions deleted transcripts at once with 0"
                ),
                Some(format!(
                    "set \"cleanupPeriodDays\" to the days to keep (e.g. 365) in {settings}, or remove it (30 days)"
                )),
            )
        }
        Setting::Days(days) => *days,
    };
    let old = match &facts.old {
        Ok(old) => old,
        Err(e) => {
            return (
                Status::Warn,
                format!(
                    "Claude Code deletes transcripts after {days} days ({from}); cannot tell which of them hookmeter has read: {e}"
                ),
                Some(keep),
            )
        }
    };
    let unread: Vec<&Old> = old.iter().filter(|o| o.read != Read::Whole).collect();
    if let Some(oldest) = unread.first() {
        let bytes: u64 = unread
            .iter()
            .map(|o| match o.read {
                Read::Partly(read) => o.size.saturating_sub(read),
                _ => o.size,
            })
            .sum();
        let oldest_read = match oldest.read {
            Read::Partly(read) => format!("{read} of {} bytes read", oldest.size),
            _ => "not read".into(),
        };
        return (
            Status::Warn,
            format!(
                "Claude Code deletes transcripts after {days} days ({from}); {} transcript(s) hookmeter has not read to the end \
                 ({bytes} bytes unread) are {} days old or more and go within {MARGIN_DAYS} days, at a start of Claude Code; \
                 the oldest: {} ({} days, {oldest_read})",
                unread.len(),
                days.saturating_sub(MARGIN_DAYS),
                oldest.path.display(),
                oldest.age_days,
            ),
            Some(keep),
        );
    }
    if days <= SHORT_DAYS && !(facts.daemon_up && facts.watched) {
        let why = match facts.daemon_up {
            false => "the daemon is not running",
            true => "the daemon does not watch the transcripts (transcripts.watch = false)",
        };
        return (
            Status::Warn,
            format!(
                "Claude Code deletes transcripts after {days} days ({from}) and {why}: what is not read by then is lost"
            ),
            Some(format!(
                "keep the daemon running with the watch on, or {keep}"
            )),
        );
    }
    (
        Status::Ok,
        format!(
            "Claude Code deletes transcripts after {days} days ({from}); none of the {} under the watched roots that goes within {MARGIN_DAYS} days is unread",
            facts.transcripts
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(setting: Setting, old: Vec<Old>) -> Facts {
        Facts {
            period: Period {
                setting,
                from: Some("/h/.claude/settings.json".into()),
            },
            transcripts: 4,
            old: Ok(old),
            daemon_up: true,
            watched: true,
        }
    }

    fn old(read: Read) -> Old {
        Old {
            path: "/h/.claude/projects/p/s.jsonl".into(),
            age_days: 28,
            size: 1000,
            read,
        }
    }

    #[test]
    fn transcripts_read_to_the_end_or_imported_are_safe() {
        let (status, finding, fix) = assess(&facts(Setting::Days(30), vec![old(Read::Whole)]));
        assert_eq!(status, Status::Ok, "{finding}");
        assert!(
            finding.contains("after 30 days (cleanupPeriodDays in /h/.claude/settings.json)"),
            "{finding}"
        );
        assert_eq!(fix, None);
    }

    #[test]
    fn unread_transcripts_near_deletion_warn_with_how_to_keep_them() {
        for (read, unread) in [
            (Read::Not, "1000 bytes unread"),
            (Read::Partly(400), "600 bytes unread"),
        ] {
            let (status, finding, fix) =
                assess(&facts(Setting::Days(30), vec![old(read), old(Read::Whole)]));
            assert_eq!(status, Status::Warn);
            assert!(
                finding.contains("1 transcript(s)") && finding.contains(unread),
                "{finding}"
            );
            assert!(
                finding.contains("/h/.claude/projects/p/s.jsonl (28 days"),
                "{finding}"
            );
            let fix = fix.unwrap();
            assert!(
                fix.contains("hookmeter import --agent claude-code")
                    && fix.contains("cleanupPeriodDays"),
                "{fix}"
            );
        }
    }

    #[test]
    fn a_short_period_warns_only_without_a_daemon_watching() {
        let mut f = facts(Setting::Days(7), Vec::new());
        assert_eq!(assess(&f).0, Status::Ok);
        f.daemon_up = false;
        let (status, finding, _) = assess(&f);
        assert_eq!(status, Status::Warn);
        assert!(finding.contains("the daemon is not running"), "{finding}");
        f.daemon_up = true;
        f.watched = false;
        assert!(assess(&f).1.contains("transcripts.watch = false"));
        f.period.setting = Setting::Days(8);
        assert_eq!(assess(&f).0, Status::Ok);
    }

    #[test]
    fn an_invalid_period_warns_and_the_default_is_named() {
        let (status, finding, fix) = assess(&facts(Setting::Invalid("0".into()), Vec::new()));
        assert_eq!(status, Status::Warn);
        assert!(finding.contains("cleanupPeriodDays is 0"), "{finding}");
        assert!(fix.unwrap().contains("/h/.claude/settings.json"));
        let mut f = facts(Setting::Days(30), Vec::new());
        f.period.from = None;
        assert!(assess(&f).1.contains("Claude Code's default"));
    }

    #[test]
    fn sessions_and_the_file_deciding_a_subagents_age() {
        let top = Path::new("/h/p/abc.jsonl");
        let sub = Path::new("/h/p/abc/subagents/agent-1.jsonl");
        assert_eq!(session_of(top).as_deref(), Some("abc"));
        assert_eq!(session_of(sub).as_deref(), Some("abc"));
        // Its session's transcript does not exist here: its own age counts.
        assert_eq!(deleted_with(sub), sub);
    }
}
