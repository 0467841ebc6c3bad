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
    let user = match user_file {
        None => None,
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some((path.display().to_string(), text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(PricingError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        },
    };
    PriceTable::build(
        user.as_ref()
            .map(|(origin, text)| (origin.as_str(), text.as_str())),
        env,
    )
}
