//! How much of what the daemon is handed reaches the disk, and how hard a
//! commit tries to get there: settings the configuration resolves and the
//! store and ingest obey.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// How much of each hook payload is kept on disk (`store_payloads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadPolicy {
    /// Keep no payload: only the extracted fields are stored.
    None,
    /// Keep the redacted payload, cut to a byte limit.
    #[default]
    Truncated,
    /// Keep the whole redacted payload.
    Full,
}

impl PayloadPolicy {
    /// The name used in configuration, flags and environment.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadPolicy::None => "none",
            PayloadPolicy::Truncated => "truncated",
            PayloadPolicy::Full => "full",
        }
    }
}

impl fmt::Display for PayloadPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `store_payloads` value that names no policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPayloadPolicy {
    /// The value as given, so the message can quote it back.
    given: String,
}

impl fmt::Display for UnknownPayloadPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown payload policy `{}`: expected one of none, truncated, full",
            self.given
        )
    }
}

impl std::error::Error for UnknownPayloadPolicy {}

impl FromStr for PayloadPolicy {
    type Err = UnknownPayloadPolicy;

    /// Parses exactly the names the config file accepts, so a flag, an
    /// environment variable and `config.toml` agree on what is valid.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(PayloadPolicy::None),
            "truncated" => Ok(PayloadPolicy::Truncated),
            "full" => Ok(PayloadPolicy::Full),
            other => Err(UnknownPayloadPolicy {
                given: other.to_owned(),
            }),
        }
    }
}

/// How hard a commit tries to reach the disk before its ack is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// WAL + synchronous=NORMAL: an ack survives a daemon crash, not power loss.
    #[default]
    Normal,
    /// synchronous=FULL: an ack survives power loss.
    Full,
}
