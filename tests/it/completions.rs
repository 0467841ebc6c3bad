//! `hookmeter completions SHELL` and `hookmeter man` through the real
//! binary: every shell's script names the commands, bash's parses, an
//! unknown shell is a usage error, and the man pages are well-formed roff
//! that groff renders without a warning.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Commands every script and the top man page must name.
const COMMANDS: [&str; 6] = [
    "serve",
    "import",
    "report",
    "budget",
    "doctor",
    "install-hooks",
];

fn completions(home: &Home, shell: &str) -> String {
    succeed(home.command().args(["completions", shell]))
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = completions(&home, shell);
        for command in COMMANDS {
            assert!(
                script.contains(command),
                "{shell}'s script does not name {command}"
            );
        }
        // The shells' own words for a script that completes `hookmeter`.
        let marker = match shell {
            "bash" => "complete -F _hookmeter",
            "zsh" => "#compdef hookmeter",
            "fish" => "complete -c hookmeter",
            "elvish" => "edit:completion:arg-completer[hookmeter]",
            _ => "Register-ArgumentCompleter",
        };
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in its script"
        );
    }
}

#[test]
fn the_bash_script_parses() {
    let home = Home::new();
    let path = home.path().join("hookmeter.bash");
    std::fs::write(&path, completions(&home, "bash")).unwrap();
    let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sourced, it registers the function for `hookmeter`.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(". {} && complete -p hookmeter", path.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("_hookmeter") && said.contains("hookmeter"),
        "{said}"
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let home = Home::new();
    let out = home
        .command()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("tcsh") && said.contains("bash"), "{said}");
}

/// The structure of a page clap_mangen wrote for `title`.
fn assert_page(page: &str, title: &str) {
    assert!(
        page.lines()
            .any(|l| l.starts_with(&format!(".TH {title} 1 "))),
        "no .TH {title} 1 header in:\n{page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS"] {
        assert!(page.contains(section), "{title}: no {section}");
    }
}

/// groff's own verdict, when the machine has it: the page renders, with
/// every warning turned on and none given. Without groff the structure
/// checked by [`assert_page`] is all that is asserted (said on stderr).
fn assert_renders(page: &Path, title: &str) -> Option<String> {
    // -P-cbou: plain text, no overstriking or escape sequences for bold.
    let out = match Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .arg(page)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("groff not run ({e}): only the roff structure is checked");
            return None;
        }
    };
    assert!(out.status.success(), "groff failed on {}", page.display());
    assert!(
        out.stderr.is_empty(),
        "groff warns on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // The header line groff makes of .TH, and the sections it laid out.
    assert!(text.starts_with(&format!("{title}(1)")), "{text}");
    for section in ["NAME", "SYNOPSIS", "OPTIONS"] {
        assert!(
            text.lines().any(|l| l == section),
            "{title}: no {section} in {text}"
        );
    }
    Some(text)
}

#[test]
fn the_man_page_is_the_top_command() {
    let home = Home::new();
    let page = succeed(home.command().arg("man"));
    assert_page(&page, "hookmeter");
    assert!(page.contains(".SH SUBCOMMANDS"));
    for command in COMMANDS {
        assert!(
            page.contains(&format!("hookmeter\\-{}", command.replace('-', "\\-"))),
            "the page does not list {command}"
        );
    }
    let path = home.path().join("hookmeter.1");
    std::fs::write(&path, &page).unwrap();
    if let Some(text) = assert_renders(&path, "hookmeter") {
        assert!(text.contains("DESCRIPTION"), "{text}");
    }
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let home = Home::new();
    let dir = home.path().join("man/man1");
    succeed(home.command().args(["man", "--dir"]).arg(&dir));
    for (file, title) in [
        ("hookmeter.1", "hookmeter"),
        ("hookmeter-serve.1", "hookmeter-serve"),
        ("hookmeter-budget-set.1", "hookmeter-budget-set"),
        ("hookmeter-install-hooks.1", "hookmeter-install-hooks"),
    ] {
        let page =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_page(&page, title);
    }
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    // No page for clap's `help`, one for each other command and subcommand.
    assert!(pages.iter().all(|p| !p.ends_with("hookmeter-help.1")));
    assert!(pages.len() > 20, "{pages:?}");
    for page in &pages {
        let title = page.file_stem().unwrap().to_str().unwrap();
        assert_renders(page, title);
    }
}
