//! `[push]`: where the daemon pushes its cost records (a central
//! PostgreSQL), who it says they are from, and how hard it tries.
//! Credentials are resolved later, at connect time (src/push/), from the
//! URL, `password_file` and the usual `PG*` variables; this module only
//! keeps the URL, and never shows its password.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[push]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilePush {
    pub postgres: Option<String>,
    pub password_file: Option<PathBuf>,
    pub user: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub batch: Option<usize>,
    pub backoff_min_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub max_delay_ms: Option<u64>,
}

/// Rows per central transaction when nothing says otherwise: large enough
/// that a round trip is a small share of it, small enough that a failed
/// batch costs little to send again.
pub const PUSH_BATCH: usize = 1000;
/// The first wait after a failure.
pub const PUSH_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// The longest wait between attempts while the server stays away.
pub const PUSH_BACKOFF_MAX: Duration = Duration::from_secs(300);
/// The longest a committed change waits for the writer to go quiet before
/// it is pushed anyway (src/push/ explains the wait).
pub const PUSH_MAX_DELAY: Duration = Duration::from_secs(5);

/// The connection string, kept whole for the client and shown only with
/// its password replaced ([`PushUrl::redacted`]).
#[derive(Clone, PartialEq, Eq)]
pub struct PushUrl(String);

impl PushUrl {
    pub fn new(text: String) -> Self {
        PushUrl(text)
    }

    /// The string as given, password included: for the client only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The string with any password replaced by `***`: what logs,
    /// `hookmeter config` and `doctor` show.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl fmt::Debug for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushUrl({})", self.redacted())
    }
}

impl fmt::Display for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A connection string with its password hidden, in either form libpq
/// takes: a URL (`postgres://user:secret@host/db`, also `?password=`) or
/// `key=value` pairs (`host=h password=secret`).
fn redact(text: &str) -> String {
    let hide_params = |s: &str, sep: char| -> String {
        s.split(sep)
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.trim().eq_ignore_ascii_case("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join(&sep.to_string())
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return hide_params(text, ' ');
    };
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match authority_and_path.find('/') {
        Some(at) => authority_and_path.split_at(at),
        None => (authority_and_path, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{hosts}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(&hide_params(query, '&'));
    }
    out
}

/// `[push]`, resolved.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// `[push] postgres`, `HOOKMETER_PUSH_URL`: `None` when the push is off.
    pub url: Option<PushUrl>,
    /// `[push] password_file`: the password when the URL carries none.
    pub password_file: Option<PathBuf>,
    /// `[push] user`: who the records are from centrally (default the
    /// login name).
    pub user: String,
    /// `[push] labels`: a team, a cost centre…, stored with the machine
    /// and each record.
    pub labels: BTreeMap<String, String>,
    /// Rows per central transaction.
    pub batch: usize,
    /// The first and the longest wait after a failure (doubling, jittered).
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// `[push] max_delay_ms`: how long a pass may wait for a busy writer.
    pub max_delay: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            url: None,
            password_file: None,
            user: "unknown".into(),
            labels: BTreeMap::new(),
            batch: PUSH_BATCH,
            backoff_min: PUSH_BACKOFF_MIN,
            backoff_max: PUSH_BACKOFF_MAX,
            max_delay: PUSH_MAX_DELAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_every_form() {
        assert_eq!(
            redact("postgres://ann:s3cret@db.example:5432/team?sslmode=require"),
            "postgres://ann:***@db.example:5432/team?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://ann@db/team?password=s3cret&sslmode=verify-full"),
            "postgresql://ann@db/team?password=***&sslmode=verify-full"
        );
        assert_eq!(
            redact("host=db user=ann password=s3cret dbname=team"),
            "host=db user=ann password=*** dbname=team"
        );
        assert_eq!(redact("postgres://db/team"), "postgres://db/team");
        let url = PushUrl::new("postgres://a:pw@h/d".into());
        assert!(!format!("{url:?} {url}").contains("pw"));
    }
}
