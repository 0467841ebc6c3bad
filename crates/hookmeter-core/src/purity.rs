//! Tests that keep this crate the pure core its docs promise: no I/O
//! dependency in its `Cargo.toml`, no import circle between its modules or
//! between pricing's parts, and the value types a leaf.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The `crate::X` / `super::X` names used by non-test code of each file
/// under `dir`, keyed by the module (relative to `root`) that the file is.
fn uses(root: &Path, dir: &Path, out: &mut BTreeMap<String, BTreeSet<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            uses(root, &path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let module = module_of(root, &path);
        let text = std::fs::read_to_string(&path).unwrap();
        let names = out.entry(module.clone()).or_default();
        for line in shipped(&text).lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (prefix, base) in [("crate::", String::new()), ("super::", parent(&module))] {
                let mut rest = code;
                while let Some(at) = rest.find(prefix) {
                    let before = rest[..at].chars().last();
                    rest = &rest[at + prefix.len()..];
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                        continue;
                    }
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let path = if base.is_empty() {
                        name
                    } else {
                        format!("{base}::{name}")
                    };
                    names.insert(path.trim_end_matches(':').to_string());
                }
            }
        }
    }
}

/// `pricing::table` for `src/pricing/table.rs`, `pricing` for its `mod.rs`.
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let parts: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str().unwrap())
        .filter(|part| *part != "mod")
        .collect();
    parts.join("::")
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(parent, _)| parent.to_string())
}

/// `text` without its inline `#[cfg(test)]` modules; a file that is a
/// test module itself (`tests.rs`, `purity.rs`) is left out by the caller.
fn shipped(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'))
        {
            for inner in lines.by_ref() {
                if inner == "}" {
                    break;
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The edges between the children of `parent` (`""` for the crate's top
/// level): `a -> b` when non-test code of `a` (or below it) names `b`.
fn graph(parent: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = BTreeMap::new();
    uses(&root, &root, &mut names);
    let prefix = if parent.is_empty() {
        String::new()
    } else {
        format!("{parent}::")
    };
    let child = |module: &str| -> Option<String> {
        let rest = module.strip_prefix(&prefix)?;
        let first = rest.split("::").next()?;
        (!first.is_empty()).then(|| format!("{prefix}{first}"))
    };
    let test_only = ["tests", "purity"];
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, used) in &names {
        let Some(from) = child(module) else { continue };
        if test_only.iter().any(|t| from.ends_with(t)) {
            continue;
        }
        for name in used {
            if let Some(to) = child(name).filter(|to| *to != from && names.contains_key(to)) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A cycle of `edges`, printed `a -> b -> a`, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut shown = path[at..].to_vec();
            shown.push(node.to_string());
            return Some(shown.join(" -> "));
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_modules_form_no_circle_and_terms_is_a_leaf() {
    let edges = graph("");
    assert!(
        edges.contains_key("pricing"),
        "the graph is empty: {edges:?}"
    );
    if let Some(found) = cycle(&edges) {
        panic!("an import circle between the core's modules: {found}");
    }
    assert_eq!(
        edges.get("terms"),
        None,
        "terms holds the value types every layer names and imports nothing of the crate"
    );
    for (from, to) in [("collect", "pricing"), ("pricing", "collect")] {
        assert!(
            !edges.get(from).is_some_and(|used| used.contains(to)),
            "{from} imports {to}: they share only the value types of terms"
        );
    }
}

#[test]
fn pricing_and_collect_parts_form_no_circle() {
    for parent in ["pricing", "collect"] {
        let edges = graph(parent);
        assert!(edges.len() > 2, "{parent}: {edges:?}");
        if let Some(found) = cycle(&edges) {
            panic!("an import circle inside {parent}: {found}");
        }
    }
}
