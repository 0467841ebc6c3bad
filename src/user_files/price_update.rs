//! `hookmeter pricing update` and the daemon's `auto_update`, the edge:
//! LiteLLM's price file read from a URL (a conditional request, with the
//! ETag and Last-Modified the last download gave) or a file, planned by the
//! pure [`crate::pricing::update`], and written as the update layer
//! atomically, with what the server said kept in a small state file for
//! the next request.
//!
//! A refused or failed update writes nothing: the layer in force stays.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::replace_atomically;
use crate::config::PriceUpdates;
use crate::pricing::update::{self, Plan, PlanError};

/// How long a download may take in all.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest price file read (LiteLLM's is about 1.5 MB).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Where the prices come from.
#[derive(Debug, Clone)]
pub enum UpdateSource {
    /// Downloaded, conditionally when the last download was from this URL.
    Url(String),
    /// A file on disk (always read whole).
    File(PathBuf),
}

/// What the last download said, kept beside the layer
/// ([`PriceUpdates::state_file`]) for the next conditional request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateState {
    /// The URL downloaded; validators of another URL are not sent.
    pub url: Option<String>,
    /// The response's `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The response's `Last-Modified`, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// When the prices were last found current (written or not modified),
    /// RFC 3339: when the daemon asks next, and what `doctor` ages.
    pub checked_at: Option<String>,
}

impl UpdateState {
    /// The state file's content; missing or unreadable is a fresh start
    /// (the next request is simply unconditional).
    pub fn read(path: &Path) -> UpdateState {
        fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// When the prices were last found current.
    pub fn checked_at(&self) -> Option<jiff::Timestamp> {
        self.checked_at.as_deref()?.parse().ok()
    }
}

/// What an update did.
#[derive(Debug)]
pub enum Outcome {
    /// The server answered 304: the layer in force is current, nothing was
    /// rewritten.
    NotModified,
    /// The file was read and planned; `written` unless a dry run.
    Planned {
        /// What changes.
        plan: Plan,
        /// Whether the layer was written.
        written: bool,
    },
}

/// Why an update did not happen; the layer in force is unchanged.
#[derive(thiserror::Error, Debug)]
pub enum PriceUpdateError {
    /// The download failed (connection, timeout, HTTP status).
    #[error("cannot download {url}: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why the operating system refused.
        source: io::Error,
    },
    /// The content is refused.
    #[error("{0}; nothing was written")]
    Refused(#[from] PlanError),
    /// The layer cannot be written.
    #[error("cannot write {path}: {source}; the previous prices stay in force")]
    Write {
        /// The layer file.
        path: PathBuf,
        /// Why the operating system refused.
        source: io::Error,
    },
}

impl PriceUpdateError {
    /// True when the input is at fault (exit status 2) rather than the
    /// network or the disk (exit status 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, PriceUpdateError::Refused(_))
    }
}

/// A downloaded or read price file.
enum Fetched {
    NotModified,
    Body {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Reads `source`, plans the new layer against the one in force and,
/// unless `dry_run`, writes it and the state file.
pub fn update_prices(
    settings: &PriceUpdates,
    source: &UpdateSource,
    dry_run: bool,
) -> Result<Outcome, PriceUpdateError> {
    let state = UpdateState::read(&settings.state_file);
    let previous = match fs::read_to_string(&settings.layer_file) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(PriceUpdateError::Read {
                path: settings.layer_file.clone(),
                source,
            })
        }
    };
    let now = jiff::Timestamp::now();
    let (fetched, origin) = match source {
        UpdateSource::Url(url) => {
            // Validators only make sense for the file they came with.
            let conditional = previous.is_some() && state.url.as_deref() == Some(url.as_str());
            (download(url, conditional.then_some(&state))?, url.clone())
        }
        UpdateSource::File(path) => {
            let text = fs::read_to_string(path).map_err(|source| PriceUpdateError::Read {
                path: path.clone(),
                source,
            })?;
            let fetched = Fetched::Body {
                text,
                etag: None,
                last_modified: None,
            };
            (fetched, path.display().to_string())
        }
    };
    let (text, etag, last_modified) = match fetched {
        Fetched::NotModified => {
            if !dry_run {
                let checked = UpdateState {
                    checked_at: Some(now.to_string()),
                    ..state
                };
                // The state is a cache: failing to note the check costs one
                // full download later, not worth failing over.
                let _ = write_state(&settings.state_file, &checked);
            }
            return Ok(Outcome::NotModified);
        }
        Fetched::Body {
            text,
            etag,
            last_modified,
        } => (text, etag, last_modified),
    };
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let plan = update::plan(&text, &origin, previous.as_deref(), &today)?;
    if dry_run {
        return Ok(Outcome::Planned {
            plan,
            written: false,
        });
    }
    replace_atomically(&settings.layer_file, plan.text.as_bytes()).map_err(|source| {
        PriceUpdateError::Write {
            path: settings.layer_file.clone(),
            source,
        }
    })?;
    let url = match source {
        UpdateSource::Url(url) => Some(url.clone()),
        UpdateSource::File(_) => None,
    };
    let _ = write_state(
        &settings.state_file,
        &UpdateState {
            url,
            etag,
            last_modified,
            checked_at: Some(now.to_string()),
        },
    );
    Ok(Outcome::Planned {
        plan,
        written: true,
    })
}

/// GETs `url`, with `If-None-Match` / `If-Modified-Since` from `state`
/// when given.
fn download(url: &str, state: Option<&UpdateState>) -> Result<Fetched, PriceUpdateError> {
    let failed = |reason: String| PriceUpdateError::Download {
        url: url.to_string(),
        reason,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(state) = state {
        if let Some(etag) = &state.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(modified) = &state.last_modified {
            request = request.header("If-Modified-Since", modified);
        }
    }
    let mut response = request.call().map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    match status {
        304 if state.is_some() => return Ok(Fetched::NotModified),
        200 => {}
        _ => return Err(failed(format!("HTTP {status}"))),
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_BYTES)
        .read_to_string()
        .map_err(|e| failed(e.to_string()))?;
    Ok(Fetched::Body {
        text,
        etag,
        last_modified,
    })
}

fn write_state(path: &Path, state: &UpdateState) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(state).map_err(io::Error::other)?;
    text.push('\n');
    replace_atomically(path, text.as_bytes())
}

/// What `pricing update` prints for `outcome`.
pub fn summary(outcome: &Outcome, origin: &str, layer: &Path) -> String {
    match outcome {
        Outcome::NotModified => format!(
            "{origin} is not modified since the last update (HTTP 304); the prices in {} stay as they are.\n",
            layer.display()
        ),
        Outcome::Planned { plan, written } => {
            let mut out = update::render(plan, origin);
            if *written {
                out.push_str(&format!(
                    "Wrote {}. A running daemon uses it at once; your pricing.toml still wins over it.\n",
                    layer.display()
                ));
            } else {
                out.push_str("nothing was written (--dry-run)\n");
            }
            out
        }
    }
}
