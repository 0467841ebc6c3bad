//! `hookmeter install-hooks --otel` (docs/cli.md#opentelemetry-settings):
//! each agent's telemetry settings written through the real binary into a
//! temp HOME holding settings of the user's own: merged, backed up,
//! idempotent, shown by `--dry-run`, and taken out by `--remove` leaving
//! the file as it was.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const ADDR: &str = "127.0.0.1:7719";

fn install(home: &Home, agent: &str, extra: &[&str]) -> String {
    let mut cmd = home.command();
    cmd.env("HOOKMETER_HTTP_TOKEN", "otel-token-1")
        .args(["--http", ADDR, "install-hooks", "--otel", "--agent", agent])
        .args(extra);
    succeed(&mut cmd)
}

fn backups(path: &Path) -> usize {
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name().into_string().unwrap();
            n.starts_with(&format!("{name}.hookmeter-backup-"))
        })
        .count()
}

/// Installs for `agent` into `path` holding `original`; returns the text
/// installed, after checking dry run, idempotence, backup and removal.
fn round_trip(home: &Home, agent: &str, path: &Path, original: &str) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, original).unwrap();

    let dry = install(home, agent, &["--dry-run"]);
    assert!(dry.contains("Dry run:"), "{dry}");
    assert!(dry.contains("+"), "{dry}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), original);
    assert_eq!(backups(path), 0);

    let out = install(home, agent, &[]);
    assert!(out.contains(&format!("http://{ADDR}/v1/logs")), "{out}");
    assert!(out.contains("saved as"), "{out}");
    assert_eq!(backups(path), 1);
    let installed = std::fs::read_to_string(path).unwrap();

    let again = install(home, agent, &[]);
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), installed);
    assert_eq!(backups(path), 1);

    let removed = install(home, agent, &["--remove"]);
    assert!(removed.contains("no longer exports"), "{removed}");
    let after = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => assert_eq!(after, original),
        _ => assert_eq!(
            serde_json::from_str::<Value>(&after).unwrap(),
            serde_json::from_str::<Value>(original).unwrap()
        ),
    }
    let nothing = install(home, agent, &["--remove"]);
    assert!(nothing.contains("nothing changed"), "{nothing}");
    installed
}

fn under(home: &Home, path: &str) -> PathBuf {
    home.path().join(path)
}

#[test]
fn claude_codes_env_block_points_at_the_daemon_and_comes_out_again() {
    let home = Home::new();
    let path = under(&home, ".claude/settings.json");
    let original =
        "{\n    \"model\": \"opus\",\n    \"env\": {\n        \"FOO\": \"bar\"\n    }\n}\n";
    let installed = round_trip(&home, "claude-code", &path, original);
    let v: Value = serde_json::from_str(&installed).unwrap();
    let env = &v["env"];
    assert_eq!(env["FOO"], "bar");
    assert_eq!(env["CLAUDE_CODE_ENABLE_TELEMETRY"], "1");
    assert_eq!(env["OTEL_LOGS_EXPORTER"], "otlp");
    assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
    assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], format!("http://{ADDR}"));
    assert_eq!(
        env["OTEL_EXPORTER_OTLP_HEADERS"],
        "Authorization=Bearer otel-token-1"
    );
    // The file's four-space indentation is kept.
    assert!(installed.contains("\n    \"model\""), "{installed}");
}

#[test]
fn codexs_otel_table_points_at_the_daemon_and_comes_out_again() {
    let home = Home::new();
    let path = under(&home, ".codex/config.toml");
    let original = "# my settings\nmodel = \"gpt-5\"\n\n[otel]\nenvironment = \"dev\"\n";
    let installed = round_trip(&home, "codex", &path, original);
    let doc: toml_edit::DocumentMut = installed.parse().unwrap();
    let http = &doc["otel"]["exporter"]["otlp-http"];
    assert_eq!(
        http["endpoint"].as_str(),
        Some(format!("http://{ADDR}/v1/logs").as_str())
    );
    assert_eq!(http["protocol"].as_str(), Some("binary"));
    assert_eq!(
        http["headers"]["authorization"].as_str(),
        Some("Bearer otel-token-1")
    );
    assert_eq!(doc["otel"]["environment"].as_str(), Some("dev"));
    assert!(installed.starts_with("# my settings\n"), "{installed}");
}

#[test]
fn the_gemini_clis_telemetry_points_at_the_daemon_and_comes_out_again() {
    let home = Home::new();
    let path = under(&home, ".gemini/settings.json");
    let original =
        "{\n  \"telemetry\": {\n    \"logPrompts\": false\n  },\n  \"ui\": {\"theme\": \"x\"}\n}\n";
    let installed = round_trip(&home, "gemini", &path, original);
    let v: Value = serde_json::from_str(&installed).unwrap();
    let t = &v["telemetry"];
    assert_eq!(t["enabled"], true);
    assert_eq!(t["target"], "local");
    assert_eq!(t["otlpProtocol"], "http");
    assert_eq!(t["otlpEndpoint"], format!("http://{ADDR}"));
    assert_eq!(t["logPrompts"], false);
    assert_eq!(v["ui"]["theme"], "x");
}

#[test]
fn a_settings_file_that_cannot_take_the_settings_is_left_alone() {
    let home = Home::new();
    let path = under(&home, ".claude/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"env\": [1]}").unwrap();
    let out = home
        .command()
        .args(["--http", ADDR, "install-hooks", "--otel"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"env\" is not an object"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"env\": [1]}");
    // HTTP off: no endpoint to point at.
    let out = home
        .command()
        .args(["--http", "off", "install-hooks", "--otel"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was changed"));
}
