//! Compiles the built-in price table, `src/pricing/prices.toml`, into JSON
//! for the binary to embed.
//!
//! The TOML file stays the one source (generated, reviewed, diffed); the
//! binary carries the same data as JSON because of what parsing costs at
//! run time. The TOML parser tokenizes a whole document and builds a tree
//! of it before deserializing: for this 2,000-entry file that is a peak of
//! about 8 MB of heap at every daemon start, which the allocator keeps as
//! resident memory for the life of the process. `serde_json` deserializes
//! straight into the price types, so the peak is the table itself.
//! A unit test (`embedded_json_is_the_toml`) checks the two read the same.

use std::{env, fs, path::Path};

const SOURCE: &str = "src/pricing/prices.toml";

fn main() {
    println!("cargo::rerun-if-changed={SOURCE}");
    let text = fs::read_to_string(SOURCE).unwrap_or_else(|error| panic!("{SOURCE}: {error}"));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|error| panic!("{SOURCE}: {error}"));
    let json = serde_json::to_string(&json_of(toml::Value::Table(table)))
        .expect("a JSON value always serializes");
    let out = env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let target = Path::new(&out).join("prices.json");
    fs::write(&target, json).unwrap_or_else(|error| panic!("{}: {error}", target.display()));
}

/// The same value in JSON; a TOML date becomes its text, which is how the
/// price file's date fields read either form.
fn json_of(value: toml::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        toml::Value::String(text) => Json::String(text),
        toml::Value::Integer(number) => Json::from(number),
        toml::Value::Float(number) => serde_json::Number::from_f64(number)
            .map(Json::Number)
            .unwrap_or_else(|| panic!("{SOURCE}: a rate that is not a finite number: {number}")),
        toml::Value::Boolean(flag) => Json::Bool(flag),
        toml::Value::Datetime(date) => Json::String(date.to_string()),
        toml::Value::Array(items) => Json::Array(items.into_iter().map(json_of).collect()),
        toml::Value::Table(table) => Json::Object(
            table
                .into_iter()
                .map(|(key, value)| (key, json_of(value)))
                .collect(),
        ),
    }
}
