//! Files hookmeter writes on the user's behalf: the price update layer, for
//! `hookmeter pricing update` and the daemon's `auto_update`
//! ([`price_update`]: download, conditional requests, the layer written);
//! the user pricing file, for `hookmeter pricing import` and `hookmeter
//! pricing set` (the conversions are pure, [`crate::pricing::import`] and
//! [`crate::pricing::set`]; this is their edge, where files are read and
//! written), and, through [`replace_atomically`], Claude Code's
//! `settings.json` for `hookmeter install-hooks` (which names its own backups).
//!
//! The pricing file is backed up (`NAME.bak`) before it is replaced, and replaced
//! atomically (a temp file in the same directory, synced, then renamed over
//! it), so a crash or a full disk leaves the old file or the new one, never
//! half of either, and a daemon reloading meanwhile reads one or the other.
//! A symlinked file (dotfile managers) is replaced at its target, so the
//! link stays.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pricing::import::{self, ImportError};
use crate::pricing::set::{self as set_entry, GivenRates, SetError};

pub mod price_update;

/// Why a user file could not be updated; the file is then as it was.
#[derive(thiserror::Error, Debug)]
pub enum UserFileError {
    /// An input (or the current file) cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why the operating system refused.
        source: io::Error,
    },
    /// The input is not usable, or the current file does not load.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// `pricing set` cannot write the entry: the name, the current file or
    /// the result is at fault.
    #[error(transparent)]
    Set(#[from] SetError),
    /// The new file cannot be written.
    #[error("cannot write {path}: {source}; the previous file is unchanged")]
    Write {
        /// The file being written (or its backup or temp file).
        path: PathBuf,
        /// Why the operating system refused.
        source: io::Error,
    },
}

impl UserFileError {
    /// True when the user's input is at fault (exit status 2) rather than
    /// the disk (exit status 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, UserFileError::Write { .. })
    }
}

/// `hookmeter pricing import FILE`: converts `source`, merges it into
/// `config.pricing_file` (backed up first) and returns the summary to print.
pub fn import_prices(config: &Config, source: &Path) -> Result<String, UserFileError> {
    let text = fs::read_to_string(source).map_err(|error| UserFileError::Read {
        path: source.to_path_buf(),
        source: error,
    })?;
    let shown_source = source.display().to_string();
    let imported = import::from_litellm(&text, &shown_source)?;

    let target = &config.pricing_file;
    let existing = read_if_present(target)?;
    let shown_target = target.display().to_string();
    let source_name = source.file_name().map_or_else(
        || shown_source.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let merged = import::merge(
        &imported,
        existing
            .as_deref()
            .map(|text| (shown_target.as_str(), text)),
        &source_name,
    )?;
    let backup = replace_with_backup(target, merged.text.as_bytes())?;
    Ok(import::summary(
        &imported,
        &merged,
        &shown_source,
        &shown_target,
        backup.map(|b| b.display().to_string()).as_deref(),
    ))
}

/// `hookmeter pricing set MODEL`: writes `rates` into the model's entry of
/// `config.pricing_file` (backed up first) and returns what to print: the
/// rates before and after, as the table in force (`COST_PRICING_*`
/// variables included) prices the model.
pub fn set_price(
    config: &Config,
    model: &str,
    rates: &GivenRates,
    env: &[(String, String)],
) -> Result<String, UserFileError> {
    let target = &config.pricing_file;
    let existing = read_if_present(target)?;
    let shown_target = target.display().to_string();
    let written = set_entry::set(
        existing
            .as_deref()
            .map(|text| (shown_target.as_str(), text)),
        env,
        model,
        rates,
    )?;
    let backup = replace_with_backup(target, written.text.as_bytes())?;
    Ok(render_set(
        model,
        &written,
        &shown_target,
        backup.map(|b| b.display().to_string()).as_deref(),
    ))
}

/// What `pricing set` prints: the entry written where, each rate before and
/// after (USD per 1M tokens), and when a daemon uses it.
fn render_set(
    model: &str,
    written: &set_entry::Written,
    target: &str,
    backup: Option<&str>,
) -> String {
    use crate::pricing::PricingSource;
    use std::fmt::Write as _;
    let (before, after) = (&written.before, &written.after);
    let mut out = format!(
        "{} the entry {:?} in {target}.\n",
        if written.added { "Added" } else { "Updated" },
        written.key
    );
    let how = |p: &set_entry::Pricing| match p.source {
        PricingSource::Fallback => format!("the fallback ({} rates)", p.key),
        source => format!("the {source} entry {}", p.key),
    };
    let _ = writeln!(
        out,
        "{model} was priced by {}; it is now priced by {}.",
        how(before),
        how(after)
    );
    let rows = [
        ("input", before.rates.input, after.rates.input),
        ("output", before.rates.output, after.rates.output),
        (
            "cache read",
            before.rates.cache_read,
            after.rates.cache_read,
        ),
        (
            "cache write 5m",
            before.rates.cache_write_5m,
            after.rates.cache_write_5m,
        ),
        (
            "cache write 1h",
            before.rates.cache_write_1h,
            after.rates.cache_write_1h,
        ),
    ];
    out.push_str("USD per 1M tokens:\n");
    for (name, old, new) in rows {
        let mark = if old == new { "  (unchanged)" } else { "" };
        let _ = writeln!(out, "  {name:<15}{old:>10} → {new}{mark}");
    }
    if after.source != PricingSource::User {
        let _ = writeln!(
            out,
            "Note: {model} is still priced by the {} entry {}, not by this file: a \
             COST_PRICING_* variable or a local-model rule wins over pricing.toml.",
            after.source, after.key
        );
    }
    if let Some(backup) = backup {
        let _ = writeln!(out, "The previous file is saved as {backup}.");
    }
    out.push_str(
        "A running daemon prices new records with it after SIGHUP (systemctl --user kill -s HUP \
         hookmeter) or a restart.\nRecords already stored keep their cost until \
         `hookmeter reprice`.\n",
    );
    out
}

/// A file's text, `None` when it does not exist.
fn read_if_present(path: &Path) -> Result<Option<String>, UserFileError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(UserFileError::Read {
            path: path.to_path_buf(),
            source: error,
        }),
    }
}

/// Replaces `path` with `contents` atomically, first copying an existing
/// file to `path` + `.bak`. Returns the backup's path when there was a file
/// to back up.
pub fn replace_with_backup(path: &Path, contents: &[u8]) -> Result<Option<PathBuf>, UserFileError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UserFileError::Write { path, source }
    };
    let backup = match fs::canonicalize(path) {
        Ok(real) => {
            let mut name = path.as_os_str().to_owned();
            name.push(".bak");
            let backup = PathBuf::from(name);
            fs::copy(&real, &backup).map_err(failed(&backup))?;
            Some(backup)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(failed(path)(error)),
    };
    replace_atomically(path, contents).map_err(failed(path))?;
    Ok(backup)
}

/// Replaces the file at `path` (at its target, when it is a symlink) with
/// `contents`: written to a temp file in the same directory with the old
/// file's permissions, synced, then renamed over it. A missing file is
/// created, with its directory. On error the old file is as it was.
pub fn replace_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let (real, existed) = match fs::canonicalize(path) {
        Ok(real) => (real, true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => (path.to_path_buf(), false),
        Err(error) => return Err(error),
    };
    let dir = match real.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = write_synced(&tmp, contents, existed.then_some(real.as_path()))
        .and_then(|()| fs::rename(&tmp, &real));
    if let Err(error) = written {
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    // The rename is durable once the directory is synced; failing that is
    // not worth failing the command over, the new file is in place.
    if let Ok(dir) = fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Writes a new file and syncs it, with the permissions of `like` when
/// given (a replaced file keeps its mode).
fn write_synced(path: &Path, contents: &[u8], like: Option<&Path>) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    if let Some(like) = like {
        file.set_permissions(fs::metadata(like)?.permissions())?;
    }
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_written_without_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pricing.toml");
        assert!(replace_with_backup(&path, b"new").unwrap().is_none());
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn an_existing_file_is_backed_up_then_replaced_keeping_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pricing.toml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let backup = replace_with_backup(&path, b"new").unwrap().unwrap();
        assert_eq!(backup, dir.path().join("pricing.toml.bak"));
        assert_eq!(fs::read(&backup).unwrap(), b"old");
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_symlinked_file_is_replaced_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles-pricing.toml");
        let link = dir.path().join("pricing.toml");
        fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        replace_with_backup(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(
            fs::read(dir.path().join("pricing.toml.bak")).unwrap(),
            b"old"
        );
    }
}
