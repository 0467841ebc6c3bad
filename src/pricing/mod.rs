//! Pricing at the edge: the pure price table of [`hookmeter_core::pricing`]
//! (re-exported here whole, so `hookmeter::pricing::PriceTable` and the rest
//! keep their paths), plus what the core must not do: [`load`] reads the
//! user's `pricing.toml` from disk, and `render` writes the text of
//! `hookmeter pricing list` / `pricing check` in the house table style of
//! [`crate::present`].
//!
//! It owns no prices and no formula: those are the core's. It must never
//! decide a price itself.
//!
//! For users: docs/pricing.md.

use std::path::Path;

pub use hookmeter_core::pricing::*;

mod render;
pub mod update;

#[cfg(test)]
mod tests;

pub use render::{render_check, render_list};

/// The built-in table, with the user's `pricing.toml` merged in (a missing
/// file is fine; an unreadable or invalid one is an error naming the path)
/// and then the `COST_PRICING_*` variables of `env` applied (other
/// variables are ignored): the file is read here and its text merged by
/// [`PriceTable::build`].
pub fn load(
    user_file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<PriceTable, PricingError> {
    load_layered(None, user_file, env)
}

/// [`load`] with the update layer `hookmeter pricing update` writes
/// (`update_file`; a missing file is fine) merged between the built-in
/// table and `pricing.toml`, by [`PriceTable::build_layered`].
pub fn load_layered(
    update_file: Option<&Path>,
    user_file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<PriceTable, PricingError> {
    let update = read_optional(update_file)?;
    let user = read_optional(user_file)?;
    PriceTable::build_layered(
        update.as_ref().map(|(o, t)| (o.as_str(), t.as_str())),
        user.as_ref().map(|(o, t)| (o.as_str(), t.as_str())),
        env,
    )
}

/// The path shown in errors and the text of `path`; `None` when there is no
/// path or no file there.
fn read_optional(path: Option<&Path>) -> Result<Option<(String, String)>, PricingError> {
    let Some(path) = path else { return Ok(None) };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some((path.display().to_string(), text))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PricingError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}
