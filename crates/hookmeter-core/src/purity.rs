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

/// The `crate::…` / `super::…` paths (`super` resolved) used by non-test
/// code of each file under `dir`, keyed by the module (relative to `root`)
/// that the file is.
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
        let segments: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let names = out.entry(module).or_default();
        for used in crate_paths(&shipped(&text), &segments) {
            names.insert(used.join("::"));
        }
    }
}

/// Every path of `code` (comments skipped) that starts at `crate::` or at
/// `super::` (resolved against `module`), as absolute segments; a `use`
/// group (`super::{a::x, b}`) gives one path per member.
fn crate_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in code.lines() {
        let chars: Vec<char> = line
            .split("//")
            .next()
            .unwrap_or_default()
            .chars()
            .collect();
        let mut i = 0;
        while i < chars.len() {
            let at_word = i == 0
                || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
            let starts =
                |at: usize, word: &str| chars[at..].starts_with(&word.chars().collect::<Vec<_>>());
            if at_word && (starts(i, "crate::") || starts(i, "super::")) {
                let mut base = if starts(i, "crate::") {
                    i += "crate::".len();
                    Vec::new()
                } else {
                    let mut base = module.to_vec();
                    while starts(i, "super::") {
                        base.pop();
                        i += "super::".len();
                    }
                    base
                };
                i = use_tree(&chars, i, &mut base, &mut found);
                continue;
            }
            i += 1;
        }
    }
    found
}

/// Reads one use tree at `chars[i..]` below `prefix` (`a::b`, `a::{b, c}`),
/// pushes its paths to `out`, and returns where it ends.
fn use_tree(
    chars: &[char],
    mut i: usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let depth = prefix.len();
    loop {
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                    i += 1;
                }
                match chars.get(i) {
                    None => break,
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let before = i;
                        i = use_tree(chars, i, prefix, out);
                        if i == before {
                            i += 1;
                        }
                    }
                }
            }
            prefix.truncate(depth);
            return i;
        }
        let name: String = chars[i..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        i += name.len();
        prefix.push(name);
        if chars[i..].starts_with(&[':', ':']) {
            i += 2;
            continue;
        }
        break;
    }
    if prefix.len() > depth {
        out.push(prefix.clone());
    }
    prefix.truncate(depth);
    i
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

#[test]
fn use_groups_and_super_resolve_to_absolute_paths() {
    let module = ["pricing".to_string(), "table".to_string()];
    let paths = crate_paths(
        "use super::{entry::Entry, overrides};\nuse crate::terms::Usage; // crate::collect",
        &module,
    );
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "pricing::entry::Entry",
            "pricing::overrides",
            "terms::Usage"
        ]
    );
}
