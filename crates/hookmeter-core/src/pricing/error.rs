//! What can go wrong while building a price table, worded for the person who
//! has to fix it: which file or variable, what is wrong, what to write instead.

use std::path::PathBuf;

/// A price table could not be built. Every variant names its source (file
/// path or environment variable) and says how to fix it.
#[derive(thiserror::Error, Debug)]
pub enum PricingError {
    /// The user pricing file exists but cannot be read.
    #[error(
        "cannot read pricing file {path}: {source}; fix its permissions, or move it away to use the built-in prices"
    )]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// Why the operating system refused.
        #[source]
        source: std::io::Error,
    },

    /// A pricing file is not valid TOML or does not follow the format. The
    /// TOML parser's message carries the line, the column and the offending
    /// text.
    #[error(
        "pricing file {origin} is invalid: {message}\n(expected one table per model, e.g. [models.\"my-model\"] with input = 1.25 and output = 10, in USD per 1M tokens)"
    )]
    Parse {
        /// The path of the file, or "built-in prices.toml".
        origin: String,
        /// The parser's message: line, column, what it expected.
        message: String,
    },

    /// Two keys of one file become the same key once normalized
    /// (`gpt-5.1` and `gpt-5-1`), so one would silently win.
    #[error(
        "pricing file {origin}: models {first:?} and {second:?} are the same model once normalized (to {normalized:?}); keep only one of them"
    )]
    DuplicateKey {
        /// The path of the file, or "built-in prices.toml".
        origin: String,
        /// The first key as written.
        first: String,
        /// The second key as written.
        second: String,
        /// What both normalize to.
        normalized: String,
    },

    /// A key or alias is empty once provider prefixes are stripped
    /// (`"openai/"`), so it could never match a model.
    #[error(
        "pricing file {origin}: model name {key:?} is empty once provider and region prefixes are stripped; write the model's own name, e.g. \"gpt-5\""
    )]
    EmptyKey {
        /// The path of the file, or "built-in prices.toml".
        origin: String,
        /// The key or alias as written.
        key: String,
    },

    /// A `COST_PRICING_*` variable holds something that is not a price.
    #[error(
        "environment variable {var}={value:?} is not a valid price: {reason}; set it to USD per 1M tokens, e.g. {var}=3.75"
    )]
    Env {
        /// The variable's name.
        var: String,
        /// The value as found.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}
