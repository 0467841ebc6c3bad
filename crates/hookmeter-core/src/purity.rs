//! The test that keeps this crate the pure core its docs promise: no I/O
//! dependency in its `Cargo.toml`. (Its module graph, free of circles with
//! the value types a leaf, is checked with the hookmeter crate's in that
//! crate's `layering` tests, which read both crates' sources.)

/// Crates that would let this one block, write, listen or call out, each
/// with why it belongs to the hookmeter crate instead.
const FORBIDDEN: &[(&str, &str)] = &[
    ("tokio", "an async runtime: the daemon's sockets and tasks"),
    ("rusqlite", "the database: the store writes, query reads"),
    ("axum", "the HTTP API"),
    ("hyper", "the HTTP server"),
    ("hyper-util", "the HTTP server"),
    ("notify", "the file watcher of the spool and transcripts"),
    ("ureq", "the webhook client of budget alerts"),
    ("reqwest", "an HTTP client"),
    (
        "tracing",
        "logging: the core returns warnings, the caller logs",
    ),
    ("libc", "system calls"),
    ("sd-notify", "systemd notifications"),
];

#[test]
fn the_manifest_names_no_io_crate() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("reading the core crate's Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("Cargo.toml is TOML");
    let mut found = Vec::new();
    for table in ["dependencies", "build-dependencies"] {
        let Some(deps) = manifest.get(table).and_then(|t| t.as_table()) else {
            continue;
        };
        for name in deps.keys() {
            if let Some((_, why)) = FORBIDDEN.iter().find(|(crate_name, _)| crate_name == name) {
                found.push(format!("[{table}] {name}: {why}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "hookmeter-core is the pure core (value types, collect, pricing, redaction) and must \
         not depend on I/O crates; do the I/O in the hookmeter crate and pass values in:\n{}",
        found.join("\n")
    );
}
