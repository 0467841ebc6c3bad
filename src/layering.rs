//! Tests of the seams between modules, which the compiler cannot see.
//!
//! All SQL lives in [`crate::store`] (writes) and [`crate::query`] (reads):
//! every other module calls their functions, named for what they do, and
//! never writes a statement of its own. Anywhere else, a string literal
//! that reads as SQL or a call that runs SQL on a connection fails
//! [`sql_lives_only_in_store_and_query`].
//!
//! Test code is left out (`#[cfg(test)]` modules, inline or in their own
//! file): fixtures build databases by hand on purpose, as an older
//! hookmeter, a user with `sqlite3` or a full disk would leave them.

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
