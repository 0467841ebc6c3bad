//! `hookmeter doctor`'s checks of the agents' own OpenTelemetry settings
//! (`claude.otel`, `codex.otel`, `gemini.otel`) and of the daemon's OTLP
//! receivers (`otlp`), through the real binary on a temp HOME: not
//! configured, written by `install-hooks --otel`, pointing elsewhere,
//! without logs or token, over gRPC, and against a running daemon.

use crate::common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::*;
use serde_json::{json, Value};

const ADDR: &str = "127.0.0.1:7719";
const TOKEN: &str = "otel-doctor-token";

/// `install-hooks --otel [extra]` for `agent`, exporting to [`ADDR`] with
/// [`TOKEN`].
fn install(home: &Home, agent: &str, extra: &[&str]) {
    let mut cmd = home.command();
    cmd.env("HOOKMETER_HTTP_TOKEN", TOKEN)
        .args(["--http", ADDR, "install-hooks", "--otel", "--agent", agent])
        .args(extra);
    succeed(&mut cmd);
}

/// `doctor --json` with the daemon's HTTP at `http` and `env` added; the
/// findings of the four OTel checks by name, after checking no token's
/// value is printed anywhere.
fn otel_findings(home: &Home, http: &str, env: &[(&str, &str)]) -> Vec<(String, Value)> {
    let mut cmd = home.command();
    cmd.current_dir(home.path()).env("HOOKMETER_HTTP", http);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.args(["doctor", "--json"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in [TOKEN, "another-token"] {
        assert!(!text.contains(secret), "a token printed: {text}");
    }
    let findings: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    ["claude.otel", "codex.otel", "gemini.otel", "otlp"]
        .iter()
        .map(|check| {
            let found = findings
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["check"] == *check)
                .unwrap_or_else(|| panic!("no {check} in {findings:#}"));
            (check.to_string(), found.clone())
        })
        .collect()
}

fn get<'a>(findings: &'a [(String, Value)], check: &str) -> &'a Value {
    &findings.iter().find(|(c, _)| c == check).unwrap().1
}

fn text(finding: &Value) -> String {
    format!("{} | fix: {}", finding["finding"], finding["fix"])
}

fn assert_status(finding: &Value, status: &str, says: &str) {
    assert_eq!(finding["status"], status, "{finding:#}");
    assert!(text(finding).contains(says), "{says:?} not in {finding:#}");
}

fn file(home: &Home, path: &str) -> PathBuf {
    let path = home.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    path
}

fn with_token() -> Vec<(&'static str, &'static str)> {
    vec![("HOOKMETER_HTTP_TOKEN", TOKEN)]
}

#[test]
fn exports_not_configured_are_ok_then_installed_ok_then_removed_not_configured() {
    let home = Home::new();
    let fresh = otel_findings(&home, ADDR, &with_token());
    for check in ["claude.otel", "codex.otel", "gemini.otel"] {
        let f = get(&fresh, check);
        assert_status(f, "ok", "not configured");
        assert!(text(f).contains("another machine"), "{f:#}");
        assert!(
            text(f).contains("`hookmeter install-hooks --otel --agent "),
            "{f:#}"
        );
        assert!(f["fix"].is_null(), "{f:#}");
    }
    // No daemon: the receivers are named, not probed.
    assert_status(get(&fresh, "otlp"), "ok", "not running");

    for agent in ["claude-code", "codex", "gemini"] {
        install(&home, agent, &[]);
    }
    let installed = otel_findings(&home, ADDR, &with_token());
    assert_status(
        get(&installed, "claude.otel"),
        "ok",
        "this daemon's HTTP listener, with the token",
    );
    assert_status(
        get(&installed, "codex.otel"),
        "ok",
        "this daemon's HTTP listener, with the token",
    );
    // The Gemini CLI has no header setting: the token must come from its
    // environment, which doctor sees only as its own.
    assert_status(
        get(&installed, "gemini.otel"),
        "warn",
        "OTEL_EXPORTER_OTLP_HEADERS=\\\"Authorization=Bearer <token>\\\"",
    );
    let mut env = with_token();
    env.push((
        "OTEL_EXPORTER_OTLP_HEADERS",
        "Authorization=Bearer otel-doctor-token",
    ));
    let with_header = otel_findings(&home, ADDR, &env);
    assert_status(
        get(&with_header, "gemini.otel"),
        "ok",
        "with the token from OTEL_EXPORTER_OTLP_HEADERS",
    );
    // Without a token on the daemon, none is needed.
    let open = otel_findings(&home, ADDR, &[]);
    for check in ["claude.otel", "codex.otel", "gemini.otel"] {
        assert_status(get(&open, check), "ok", "this daemon's HTTP listener");
    }

    for agent in ["claude-code", "codex", "gemini"] {
        install(&home, agent, &["--remove"]);
    }
    let removed = otel_findings(&home, ADDR, &with_token());
    for check in ["claude.otel", "codex.otel", "gemini.otel"] {
        assert_status(get(&removed, check), "ok", "not configured");
    }
}

#[test]
fn exports_elsewhere_or_with_another_token_warn_with_the_install_command() {
    let home = Home::new();
    for agent in ["claude-code", "codex", "gemini"] {
        install(&home, agent, &[]);
    }
    // The daemon on another port.
    let moved = otel_findings(&home, "127.0.0.1:7720", &[]);
    for (check, flag) in [
        ("claude.otel", "claude-code"),
        ("codex.otel", "codex"),
        ("gemini.otel", "gemini"),
    ] {
        let f = get(&moved, check);
        assert_status(
            f,
            "warn",
            "not to this daemon's HTTP listener at 127.0.0.1:7720",
        );
        assert_status(
            f,
            "warn",
            &format!("hookmeter install-hooks --otel --agent {flag}"),
        );
    }
    // The daemon's token changed since.
    let env = [("HOOKMETER_HTTP_TOKEN", "another-token")];
    let other = otel_findings(&home, ADDR, &env);
    for check in ["claude.otel", "codex.otel"] {
        assert_status(
            get(&other, check),
            "warn",
            "a token other than the daemon's",
        );
    }
    // Installed without a token, then the daemon requires one.
    let bare = Home::new();
    let mut cmd = bare.command();
    cmd.args([
        "--http",
        ADDR,
        "install-hooks",
        "--otel",
        "--agent",
        "claude-code",
    ]);
    succeed(&mut cmd);
    let needs = otel_findings(&bare, ADDR, &with_token());
    assert_status(get(&needs, "claude.otel"), "warn", "sends no token");
}

#[test]
fn telemetry_without_logs_or_over_grpc_is_judged_by_the_daemons_listeners() {
    let home = Home::new();
    // Claude Code with telemetry on and its logs exporter off.
    let claude = file(&home, ".claude/settings.json");
    let env = json!({"env": {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": format!("http://{ADDR}"),
    }});
    std::fs::write(&claude, env.to_string()).unwrap();
    // Codex and the Gemini CLI over gRPC (the Gemini CLI's default protocol).
    let codex = file(&home, ".codex/config.toml");
    std::fs::write(
        &codex,
        "[otel.exporter.otlp-grpc]\nendpoint = \"http://127.0.0.1:4317\"\n",
    )
    .unwrap();
    let gemini = file(&home, ".gemini/settings.json");
    std::fs::write(
        &gemini,
        r#"{"telemetry": {"enabled": true, "otlpEndpoint": "http://localhost:4317"}}"#,
    )
    .unwrap();

    // The tests' daemon has gRPC off.
    let off = otel_findings(&home, ADDR, &[]);
    assert_status(get(&off, "claude.otel"), "warn", "logs are not exported");
    assert_status(
        get(&off, "claude.otel"),
        "warn",
        "OTEL_LOGS_EXPORTER is \\\"none\\\"",
    );
    for check in ["codex.otel", "gemini.otel"] {
        assert_status(get(&off, check), "warn", "gRPC listener is off");
        assert_status(get(&off, check), "warn", "[otlp] grpc");
    }
    assert_status(get(&off, "otlp"), "ok", "no OTLP/gRPC");

    // With `[otlp] grpc` at that address both point at this daemon.
    let grpc = [("HOOKMETER_OTLP_GRPC", "127.0.0.1:4317")];
    let on = otel_findings(&home, ADDR, &grpc);
    for check in ["codex.otel", "gemini.otel"] {
        assert_status(get(&on, check), "ok", "this daemon's OTLP/gRPC listener");
    }
    // Another host is not this daemon.
    std::fs::write(
        &gemini,
        r#"{"telemetry": {"enabled": true, "otlpProtocol": "grpc", "otlpEndpoint": "http://10.1.2.3:4317"}}"#,
    )
    .unwrap();
    let elsewhere = otel_findings(&home, ADDR, &grpc);
    assert_status(
        get(&elsewhere, "gemini.otel"),
        "warn",
        "not to this daemon's OTLP/gRPC listener at 127.0.0.1:4317",
    );
}

/// The address the daemon's OTLP/gRPC listener bound.
fn grpc_addr(daemon: &Daemon) -> SocketAddr {
    let mut found = None;
    wait_until(
        "OTLP/gRPC to listen",
        || {
            found = daemon
                .run_log()
                .lines()
                .find_map(|line| line.split("OTLP/gRPC listening on ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|addr| addr.trim_end_matches('.').parse().ok());
            found.is_some()
        },
        || daemon.log_text(),
    );
    found.unwrap()
}

#[test]
fn a_running_daemon_is_asked_whether_its_grpc_listener_serves() {
    let home = Home::new();
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP_TOKEN", TOKEN)
            .env("HOOKMETER_OTLP_GRPC", "127.0.0.1:0");
    });
    let grpc = grpc_addr(&daemon).to_string();
    let http = daemon.http().to_string();
    let gemini = file(&home, ".gemini/settings.json");
    std::fs::write(
        &gemini,
        json!({"telemetry": {"enabled": true, "otlpProtocol": "grpc",
                             "otlpEndpoint": format!("http://{grpc}")}})
        .to_string(),
    )
    .unwrap();
    let mut env = with_token();
    env.push(("HOOKMETER_OTLP_GRPC", &grpc));
    env.push((
        "OTEL_EXPORTER_OTLP_HEADERS",
        "Authorization=Bearer otel-doctor-token",
    ));
    let serving = otel_findings(&home, &http, &env);
    assert_status(
        get(&serving, "otlp"),
        "ok",
        "the running daemon serves them",
    );
    assert_status(get(&serving, "gemini.otel"), "ok", "OTLP/gRPC listener");
    assert_eq!(daemon.stop().code(), Some(0));

    // The same settings against a daemon whose gRPC listener is off.
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP_TOKEN", TOKEN);
    });
    let http = daemon.http().to_string();
    let silent = otel_findings(&home, &http, &env);
    assert_status(
        get(&silent, "otlp"),
        "warn",
        "hookmeter_otlp_grpc_listening 0",
    );
    assert_status(
        get(&silent, "gemini.otel"),
        "warn",
        "gRPC listener does not serve",
    );
    assert_eq!(daemon.stop().code(), Some(0));
}
