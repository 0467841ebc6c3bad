//! Tests of the seams between modules, which the compiler cannot see.
//!
//! All SQL lives in [`crate::store`] (writes) and [`crate::query`] (reads):
//! every other module calls their functions, named for what they do, and
//! never writes a statement of its own. Anywhere else, a string literal
//! that reads as SQL or a call that runs SQL on a connection fails
//! [`sql_lives_only_in_store_and_query`].
//!
//! Data moves one way: the top-level modules import each other without a
//! circle, and never upstream where the flow forbids it (store imports
//! neither ingest nor http, query never imports ingest, config none of the
//! readers and writers it configures, nothing but the binary the daemon's
//! wiring). [`modules_form_no_circle_and_data_flows_one_way`] builds the
//! graph from every `crate::…` and `super::…` path of shipped code and
//! prints the circle or the edge it finds; [`budget_parts_form_no_circle`]
//! does the same inside `budget`. The pure core is a crate of its own
//! (`crates/hookmeter-core`), where the compiler keeps it from importing
//! any of this; the same graph, read from its sources, holds its parts to
//! the same rule and its value types (`terms`) to being a leaf
//! ([`the_core_forms_no_circle_and_terms_is_a_leaf`]).
//!
//! Test code is left out (`#[cfg(test)]` modules, inline or in their own
//! file): fixtures build databases by hand on purpose, as an older
//! hookmeter, a user with `sqlite3` or a full disk would leave them, and
//! tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Text that reads as SQL inside a string literal.
const SQL_WORDS: &[&str] = &[
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "DELETE FROM",
    "CREATE ",
    "PRAGMA",
];

/// rusqlite's methods that run SQL.
const SQL_CALLS: &[&str] = &[
    ".prepare(",
    ".prepare_cached(",
    ".execute(",
    ".execute_batch(",
    ".query_row(",
    ".pragma_query_value(",
    ".pragma_update(",
];

/// Files (relative to `src/`) allowed to hold SQL although they are
/// outside store and query, each with why. Keep it short; empty is best.
const EXCEPTIONS: &[&str] = &[];

/// The folders whose files may hold SQL.
const SQL_HOMES: &[&str] = &["store", "query"];

#[test]
fn sql_lives_only_in_store_and_query() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    let test_files: Vec<PathBuf> = files
        .iter()
        .flat_map(|file| test_only_modules(file))
        .collect();
    let mut found: Vec<String> = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let home = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str());
        if home.is_some_and(|home| SQL_HOMES.contains(&home))
            || test_files.contains(file)
            || EXCEPTIONS.contains(&relative.to_str().unwrap())
        {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let shipped = shipped_lines(&text);
        let at =
            |what: &str, number: usize| format!("src/{}:{number}: {what:?}", relative.display());
        for (number, literal) in string_literals(&shipped) {
            for word in SQL_WORDS.iter().filter(|w| literal.contains(*w)) {
                found.push(at(word, number));
            }
        }
        for (number, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for call in SQL_CALLS.iter().filter(|c| code.contains(*c)) {
                found.push(at(call, number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside store (writes) and query (reads); move it into a function there:\n{}",
        found.join("\n")
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files of the `#[cfg(test)] mod NAME;` declarations in `file`.
fn test_only_modules(file: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs" | "main.rs") => file.parent().unwrap().to_path_buf(),
        _ => file.with_extension(""),
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0].trim() == "#[cfg(test)]")
        .filter_map(|pair| {
            let name = pair[1].trim().strip_prefix("mod ")?.strip_suffix(';')?;
            Some(dir.join(format!("{name}.rs")))
        })
        .collect()
}

/// `text` with the lines of its inline `#[cfg(test)]` modules blanked
/// (so line numbers stay true). rustfmt closes a top-level module with a
/// `}` alone at the start of a line.
fn shipped_lines(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let opens_test_module = line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'));
        if opens_test_module {
            out.push('\n');
            for inner in lines.by_ref() {
                out.push('\n');
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

/// The string literals of Rust source `code` (plain and raw), each with the
/// line it opens on; comments and character literals are passed over.
fn string_literals(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\n' => line += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            // '"' and '\"' are characters, not the start of a string.
            '\'' if chars.get(i + 1) == Some(&'"') => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\\') => i += 3,
            'r' if matches!(chars.get(i + 1), Some('"' | '#'))
                && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')) =>
            {
                let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
                let open = i + 1 + hashes;
                if chars.get(open) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let start_line = line;
                let mut j = open + 1;
                let mut literal = String::new();
                while j < chars.len() && !chars[j..].starts_with(&close) {
                    if chars[j] == '\n' {
                        line += 1;
                    }
                    literal.push(chars[j]);
                    j += 1;
                }
                found.push((start_line, literal));
                i = j + close.len();
                continue;
            }
            '"' => {
                let start_line = line;
                let mut j = i + 1;
                let mut literal = String::new();
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    if chars.get(j) == Some(&'\n') {
                        line += 1;
                    }
                    if let Some(&c) = chars.get(j) {
                        literal.push(c);
                    }
                    j += 1;
                }
                found.push((start_line, literal));
                i = j + 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Imports that would send data back up the flow, each with why not.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "store",
        "ingest",
        "the store takes rows; it never decodes events",
    ),
    ("store", "http", "the store serves no requests"),
    (
        "query",
        "ingest",
        "readers never depend on how events arrive",
    ),
    (
        "config",
        "budget",
        "config holds settings; budget values come from hookmeter_core::terms",
    ),
    ("config", "query", "config reads no database"),
    ("config", "store", "config writes no database"),
];

/// Only the binary (`main.rs`, not part of this library) wires the daemon.
const WIRING: &str = "daemon";

/// The crates of this workspace whose modules the graph tests read.
#[derive(Clone, Copy)]
enum Crate {
    /// This one, `hookmeter`.
    Hookmeter,
    /// The pure core, `crates/hookmeter-core`.
    Core,
}

impl Crate {
    /// Its source folder, relative to this crate's manifest.
    fn src(self) -> &'static str {
        match self {
            Crate::Hookmeter => "src",
            Crate::Core => "crates/hookmeter-core/src",
        }
    }
}

/// `a -> b` for the children of `parent` (`[]` for the crate's top level):
/// non-test code of `a`, or of a module below it, names a path in `b`.
/// Each edge keeps the first file that makes it, for the message.
fn module_graph(krate: Crate, parent: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate.src());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_files: Vec<PathBuf> = files
        .iter()
        .flat_map(|file| test_only_modules(file))
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|file| module_of(&src, file)).collect();
    let child_of = |path: &[String]| -> Option<String> {
        let below = path.strip_prefix(
            parent
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
        let child = below.first()?;
        let mut full: Vec<String> = parent.iter().map(|p| p.to_string()).collect();
        full.push(child.clone());
        modules.contains(&full).then(|| child.clone())
    };
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if test_files.contains(file) || relative.starts_with("layering.rs") {
            continue;
        }
        let module = module_of(&src, file);
        let Some(from) = child_of(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&shipped_lines(&text), &module) {
            if let Some(to) = child_of(&path).filter(|to| *to != from) {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{}/{}", krate.src(), relative.display()));
            }
        }
    }
    edges
}

/// `["budget", "alerts"]` for `src/budget/alerts.rs`, `["budget"]` for its
/// `mod.rs`, `[]` for `lib.rs`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_str().unwrap().to_string())
        .filter(|part| part != "mod" && part != "lib")
        .collect()
}

/// Every path of `code` (comments skipped) that starts at `crate::` or at
/// `super::` (resolved against `module`, the file's own path), as absolute
/// segments; a `use` group (`crate::{a::x, b}`) gives one path per member.
fn crate_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or_default();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let at_word = i == 0
                || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
            let rest: String = chars[i..].iter().collect();
            if at_word && (rest.starts_with("crate::") || rest.starts_with("super::")) {
                let mut base: Vec<String> = if rest.starts_with("crate::") {
                    i += "crate::".len();
                    Vec::new()
                } else {
                    let mut base = module.to_vec();
                    while chars[i..].iter().collect::<String>().starts_with("super::") {
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

/// Reads one use tree at `chars[i..]` below `prefix` (`a::b`, `a::{b, c}`,
/// `{a, b::c}`), pushes its paths to `out`, and returns where it ends.
/// A group that does not close on this line is taken as far as it goes.
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

/// A circle of `edges`, printed `a -> b -> a` with the file behind each
/// step, if there is one.
fn circle(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Option<String> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut steps: Vec<String> = path[at..].to_vec();
            steps.push(node.to_string());
            let shown: Vec<String> = steps
                .windows(2)
                .map(|pair| format!("{} -> {} ({})", pair[0], pair[1], edges[&pair[0]][&pair[1]]))
                .collect();
            return Some(shown.join("\n"));
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
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
fn modules_form_no_circle_and_data_flows_one_way() {
    let edges = module_graph(Crate::Hookmeter, &[]);
    assert!(
        edges
            .get("daemon")
            .is_some_and(|to| to.contains_key("ingest")),
        "the graph missed daemon -> ingest: {edges:?}"
    );
    if let Some(found) = circle(&edges) {
        panic!("an import circle between top-level modules:\n{found}");
    }
    let mut wrong = Vec::new();
    for (from, to, why) in FORBIDDEN {
        if let Some(file) = edges.get(*from).and_then(|e| e.get(*to)) {
            wrong.push(format!("{from} -> {to} ({file}): {why}"));
        }
    }
    for (from, to) in &edges {
        if let Some(file) = to.get(WIRING) {
            wrong.push(format!(
                "{from} -> {WIRING} ({file}): only the binary wires the daemon"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn budget_parts_form_no_circle() {
    let edges = module_graph(Crate::Hookmeter, &["budget"]);
    assert!(
        edges
            .get("alerts")
            .is_some_and(|to| to.contains_key("notify")),
        "the graph missed alerts -> notify: {edges:?}"
    );
    if let Some(found) = circle(&edges) {
        panic!("an import circle inside budget:\n{found}");
    }
}

#[test]
fn the_core_forms_no_circle_and_terms_is_a_leaf() {
    let edges = module_graph(Crate::Core, &[]);
    assert!(
        edges
            .get("pricing")
            .is_some_and(|to| to.contains_key("terms")),
        "the graph missed pricing -> terms: {edges:?}"
    );
    if let Some(found) = circle(&edges) {
        panic!("an import circle between the core's modules:\n{found}");
    }
    assert_eq!(
        edges.get("terms"),
        None,
        "terms holds the value types every layer names and imports nothing of the crate"
    );
    for (from, to) in [("collect", "pricing"), ("pricing", "collect")] {
        if let Some(file) = edges.get(from).and_then(|e| e.get(to)) {
            panic!("{from} -> {to} ({file}): they share only the value types of terms");
        }
    }
}

#[test]
fn pricing_and_collect_parts_form_no_circle() {
    for parent in ["pricing", "collect"] {
        let edges = module_graph(Crate::Core, &[parent]);
        assert!(edges.len() > 2, "{parent}: {edges:?}");
        if let Some(found) = circle(&edges) {
            panic!("an import circle inside {parent}:\n{found}");
        }
    }
}

#[test]
fn use_trees_resolve_to_absolute_paths() {
    let module = ["budget".to_string(), "alerts".to_string()];
    let paths = crate_paths(
        "use super::{notify::Notifier, Budget};\nlet x = crate::query::open(db); // crate::daemon\nuse crate::{fs, store::budgets::{AlertKey}};",
        &module,
    );
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "budget::notify::Notifier",
            "budget::Budget",
            "query::open",
            "fs",
            "store::budgets::AlertKey",
        ]
    );
}

#[test]
fn a_circle_is_found_and_printed_with_its_files() {
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        edges
            .entry(from.into())
            .or_default()
            .insert(to.into(), format!("src/{from}.rs"));
    }
    let found = circle(&edges).unwrap();
    assert_eq!(
        found,
        "a -> b (src/a.rs)\nb -> c (src/b.rs)\nc -> a (src/c.rs)"
    );
    edges.get_mut("c").unwrap().remove("a");
    assert_eq!(circle(&edges), None);
}
