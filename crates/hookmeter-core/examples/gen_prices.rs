//! Regenerates the built-in price table, `src/pricing/prices.toml`, from the
//! facts (LiteLLM's price file, checked in under the workspace's
//! `tests/fixtures/`) and `src/pricing/corrections.toml`:
//!
//! ```sh
//! cargo run -p hookmeter-core --example gen_prices [FACTS.json]
//! ```
//!
//! Run it after changing either input; the core's tests fail until the
//! checked-in table is what this writes.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let core = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let facts = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| core.join("../../tests/fixtures/litellm-model-prices-2026-08-01.json"));
    let corrections = core.join("src/pricing/corrections.toml");
    let target = core.join("src/pricing/prices.toml");
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
    };
    let result = read(&facts).and_then(|facts_text| {
        let corrections_text = read(&corrections)?;
        let table = hookmeter_core::pricing::generate::generate(&facts_text, &corrections_text)
            .map_err(|error| error.to_string())?;
        std::fs::write(&target, &table)
            .map_err(|error| format!("{}: {error}", target.display()))?;
        Ok(table.matches("\n[models.").count())
    });
    match result {
        Ok(entries) => {
            println!("wrote {} ({entries} entries)", target.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gen_prices: {error}");
            ExitCode::from(2)
        }
    }
}
