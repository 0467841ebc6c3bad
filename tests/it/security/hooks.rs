//! Issue 16, the hook side, against the real daemon and binary: `POST /hook`
//! enforces budgets exactly as `hookmeter send` does (Claude Code's deny
//! decision for a PreToolUse in a spent, enforced scope, `{}` otherwise),
//! `install-hooks --http` writes `type: "http"` hooks that carry the token
//! only as a reference to the environment, and doctor warns about an HTTP
//! API without a token on a machine with other login accounts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;

use crate::common::*;
use serde_json::{json, Value};

/// A PostToolUse the daemon records at exactly `usd` for `agent`.
fn cost_line(id: &str, agent: &str, usd: f64) -> Vec<u8> {
    json!({
        "hook_event_name": "PostToolUse",
        "hook_event_id": id,
        "session_id": "s-http",
        "agent_id": agent,
        "service": "infra",
        "cost_usd": usd,
    })
    .to_string()
    .into_bytes()
}

fn tool_event(event: &str, agent: Option<&str>, id: &str) -> Vec<u8> {
    claude_tool_event("s-http", event, id, agent)
}

/// `POST /hook` as Claude Code's http hooks send it: a JSON body.
fn post_hook(addr: SocketAddr, body: &[u8], extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    http_request(addr, "POST", "/hook", &headers, body)
}

fn budget_set(home: &Home, args: &[&str]) {
    let mut cmd = home.command();
    cmd.args(["budget", "set"]).args(args);
    succeed(&mut cmd);
}

#[test]
fn post_hook_answers_a_spent_enforced_scope_with_the_deny_decision_send_prints() {
    let home = Home::new();
    home.write_config("[alerts]\ntz = \"UTC\"\n");
    let daemon = home.start();
    let addr = daemon.http();
    budget_set(
        &home,
        &["--daily", "0.001", "--scope", "agent:alpha", "--enforce"],
    );
    budget_set(&home, &["--daily", "0.001", "--scope", "agent:beta"]);

    // Not spent yet: `{}`, like send's empty stdout.
    let before = post_hook(addr, &tool_event("PreToolUse", Some("alpha"), "t0"), &[]);
    assert_eq!((before.status, before.text()), (200, "{}".to_string()));

    for (id, agent) in [("e1", "alpha"), ("e2", "beta")] {
        let ack = daemon.connect().roundtrip(&cost_line(id, agent, 0.01));
        assert_eq!(ack["records"], 1, "{ack}");
    }
    // The guard is updated before a crossing is recorded: once both are in
    // the alerts table, the guard knows both budgets are spent.
    wait_until(
        "both budgets spent",
        || {
            let fired = fired(&home);
            ["agent:alpha daily 100", "agent:beta daily 100"]
                .iter()
                .all(|want| fired.iter().any(|f| f.starts_with(want)))
        },
        || daemon.run_log(),
    );

    let printed = stdout(&home.send(&tool_event("PreToolUse", Some("alpha"), "t1"), &[]));
    assert!(
        printed.contains(r#""permissionDecision":"deny""#),
        "send must deny first: {printed}"
    );
    let denied = post_hook(addr, &tool_event("PreToolUse", Some("alpha"), "t2"), &[]);
    assert_eq!(denied.status, 200, "{}", denied.text());
    assert_eq!(denied.header("content-type"), Some("application/json"));
    // Byte for byte what send prints, without its final newline.
    assert_eq!(denied.text(), printed.trim_end_matches('\n'));
    let decision = denied.json();
    assert_eq!(
        decision["hookSpecificOutput"]["permissionDecision"], "deny",
        "{decision}"
    );
    let reason = decision["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("daily budget of agent:alpha is spent"),
        "{reason}"
    );
    // The agent named by the header counts as on the socket.
    let by_header = post_hook(
        addr,
        &tool_event("PreToolUse", None, "t3"),
        &[("X-Hookmeter-Agent", "alpha")],
    );
    assert_eq!(by_header.text(), denied.text());

    // Not a PreToolUse, not enforced, another scope: `{}`.
    for (what, body) in [
        (
            "a PostToolUse",
            tool_event("PostToolUse", Some("alpha"), "p1"),
        ),
        (
            "a budget not enforced",
            tool_event("PreToolUse", Some("beta"), "t4"),
        ),
        (
            "a scope with no budget",
            tool_event("PreToolUse", Some("gamma"), "t5"),
        ),
    ] {
        let answer = post_hook(addr, &body, &[]);
        assert_eq!(
            (answer.status, answer.text()),
            (200, "{}".to_string()),
            "{what}"
        );
    }
    // A denied event is still recorded, like every other.
    assert_eq!(
        home.count(
            "SELECT count(*) FROM hook_events WHERE event_name = 'PreToolUse' AND source = 'http'"
        ),
        5
    );
    assert!(daemon.stop().success());
}

// ---- install-hooks --http ----

const EVENTS: [&str; 5] = [
    "PostToolUse",
    "Stop",
    "SubagentStop",
    "SessionStart",
    "SessionEnd",
];

const TOKEN: &str = "s3cret-token-value";

fn user_settings(home: &Home) -> PathBuf {
    home.path().join(".claude/settings.json")
}

/// `hookmeter install-hooks ARGS` in `home`, with `env` added.
fn install(home: &Home, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = home.command();
    cmd.current_dir(home.path()).arg("install-hooks").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

fn install_ok(home: &Home, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = install(home, env, args);
    assert!(
        out.status.success(),
        "install-hooks {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every handler of `event`.
fn handlers(settings: &Value, event: &str) -> Vec<Value> {
    settings["hooks"][event]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["hooks"].as_array().unwrap().clone())
        .collect()
}

/// Runs an http hook handler as Claude Code does: POSTs `payload` as JSON
/// to its `url` with its `headers`, `$NAME` and `${NAME}` filled from
/// `env` for the names `allowedEnvVars` lists (and empty otherwise).
fn post_as_claude_code(handler: &Value, payload: &[u8], env: &[(&str, &str)]) -> Response {
    let url = handler["url"].as_str().unwrap();
    let (addr, path) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .unwrap();
    let allowed: Vec<&str> = handler["allowedEnvVars"]
        .as_array()
        .map(|names| names.iter().map(|n| n.as_str().unwrap()).collect())
        .unwrap_or_default();
    let fill = |value: &str| {
        let mut value = value.to_string();
        for (name, set) in env {
            let set = if allowed.contains(name) { *set } else { "" };
            value = value
                .replace(&format!("${{{name}}}"), set)
                .replace(&format!("${name}"), set);
        }
        value
    };
    let headers: Vec<(String, String)> = handler["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), fill(value.as_str().unwrap())))
        .collect();
    let mut sent: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    sent.extend(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    http_request(
        addr.parse().unwrap(),
        "POST",
        &format!("/{path}"),
        &sent,
        payload,
    )
}

fn stop_payload(session: &str) -> Vec<u8> {
    json!({"hook_event_name": "Stop", "session_id": session, "stop_hook_active": false})
        .to_string()
        .into_bytes()
}

#[test]
fn http_hooks_post_to_the_daemon_and_name_the_token_without_holding_it() {
    let home = Home::new();
    let daemon = home.start_with(|cmd| {
        cmd.env("HOOKMETER_HTTP_TOKEN", TOKEN);
    });
    let addr = daemon.http().to_string();
    let with_token = [("HOOKMETER_HTTP_TOKEN", TOKEN)];
    let out = install_ok(&home, &with_token, &["--http", &addr]);
    assert!(
        out.contains(&format!("The hooks post to http://{addr}/hook with `Authorization: Bearer $HOOKMETER_HTTP_TOKEN`")),
        "{out}"
    );
    let file = user_settings(&home);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(TOKEN), "the token itself is in {text}");
    let settings = read_json(&file);
    for event in EVENTS {
        assert_eq!(
            handlers(&settings, event),
            [json!({
                "type": "http",
                "url": format!("http://{addr}/hook"),
                "timeout": 5,
                "headers": {"Authorization": "Bearer $HOOKMETER_HTTP_TOKEN"},
                "allowedEnvVars": ["HOOKMETER_HTTP_TOKEN"],
            })],
            "{event}"
        );
    }
    let stop = handlers(&settings, "Stop").remove(0);
    // Claude Code started with the token in its environment: stored.
    let posted = post_as_claude_code(&stop, &stop_payload("s-with"), &with_token);
    assert_eq!((posted.status, posted.text()), (200, "{}".to_string()));
    // Started without it: refused, nothing stored (Claude Code goes on).
    let refused = post_as_claude_code(&stop, &stop_payload("s-without"), &[]);
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE source = 'http'"),
        1
    );
    assert_eq!(
        home.count("SELECT count(*) FROM hook_events WHERE session_id = 's-with'"),
        1
    );

    // A second run changes nothing.
    let again = install_ok(&home, &with_token, &["--http", &addr]);
    assert!(again.contains("already installed"), "{again}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // doctor counts http hooks as hookmeter's.
    let doctor = home
        .command()
        .current_dir(home.path())
        .env("HOOKMETER_HTTP_TOKEN", TOKEN)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&doctor.stdout).unwrap();
    let hooks = findings.iter().find(|f| f["check"] == "hooks").unwrap();
    assert_eq!(hooks["status"], "ok", "{hooks}");
    assert!(doctor.status.success(), "{findings:#?}");

    // Back to command hooks: hookmeter's http hooks are replaced, not kept beside.
    let command = format!("{BIN} send");
    install_ok(&home, &[], &["--command", &command]);
    let settings = read_json(&file);
    for event in EVENTS {
        let got = handlers(&settings, event);
        assert_eq!(got.len(), 1, "{event}: {got:?}");
        assert_eq!(got[0]["type"], "command", "{event}");
        assert_eq!(got[0]["command"], command.as_str(), "{event}");
    }
    assert!(daemon.stop().success());
}

#[test]
fn http_hooks_without_a_token_carry_no_header_and_a_token_from_the_file_stays_there() {
    let home = Home::new();
    let file = home.path().join("plain.json");
    let file_arg = file.to_str().unwrap();
    install_ok(
        &home,
        &[],
        &["--http", "127.0.0.1:7717", "--settings", file_arg],
    );
    let settings = read_json(&file);
    for event in EVENTS {
        assert_eq!(
            handlers(&settings, event),
            [json!({"type": "http", "url": "http://127.0.0.1:7717/hook", "timeout": 5})],
            "{event}"
        );
    }

    // The token set in the config file only: the hooks still name the variable.
    home.write_config("[http]\nlisten = \"0.0.0.0:7800\"\ntoken = \"token-in-the-config-file\"\n");
    let out = install_ok(
        &home,
        &[("HOOKMETER_HTTP", "")],
        &["--http", "--settings", file_arg],
    );
    assert!(out.contains("HOOKMETER_HTTP_TOKEN set to it"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("token-in-the-config-file"), "{text}");
    let settings = read_json(&file);
    let stop = handlers(&settings, "Stop");
    assert_eq!(stop.len(), 1, "updated in place: {stop:?}");
    // A wildcard address is posted to on loopback.
    assert_eq!(stop[0]["url"], "http://127.0.0.1:7800/hook");
    assert_eq!(
        stop[0]["headers"],
        json!({"Authorization": "Bearer $HOOKMETER_HTTP_TOKEN"})
    );
    assert_eq!(stop[0]["allowedEnvVars"], json!(["HOOKMETER_HTTP_TOKEN"]));
}

#[test]
fn http_hooks_are_refused_when_no_fixed_address_serves_them() {
    let home = Home::new();
    let file = home.path().join("s.json");
    std::fs::write(&file, "{\"model\": \"opus\"}\n").unwrap();
    let file_arg = file.to_str().unwrap();
    // Off, and port 0 (Home's daemons pick a free port at each start).
    for (args, says) in [
        (vec!["--http", "off"], "the HTTP API is off"),
        (vec!["--http"], "port 0"),
    ] {
        let out = install(&home, &[], &[&args[..], &["--settings", file_arg]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"model\": \"opus\"}\n"
        );
    }
    // --dry-run shows the http hooks and writes nothing.
    let out = install_ok(
        &home,
        &[],
        &[
            "--http",
            "127.0.0.1:7717",
            "--settings",
            file_arg,
            "--dry-run",
        ],
    );
    assert!(out.contains(r#"+            "type": "http","#), "{out}");
    assert!(out.contains("nothing was written"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"model\": \"opus\"}\n"
    );
    // Two kinds of hook at once: refused before anything is read.
    let both = install(&home, &[], &["--http", "127.0.0.1:7717", "--command", "x"]);
    assert_eq!(both.status.code(), Some(2));
    // Elsewhere --http still needs its address.
    let mut bare = home.command();
    let out = bare.args(["today", "--http"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--http needs an address"),
        "{out:?}"
    );
}

// ---- doctor ----

/// doctor's `http` finding for HTTP on `listen`, with `token` set or not,
/// on a machine whose account list is `passwd`.
fn doctor_http(home: &Home, listen: &str, token: Option<&str>, passwd: &str) -> Value {
    use hookmeter::config::{Config, Overrides};
    use hookmeter::setup::doctor;
    let passwd_file = home.path().join("passwd");
    std::fs::write(&passwd_file, passwd).unwrap();
    let flags = Overrides {
        config: None,
        db: Some(home.db_path()),
        socket: Some(home.socket()),
        spool: Some(home.spool()),
        http: Some(listen.into()),
    };
    let root = home.path().to_str().unwrap().to_string();
    let env = |name: &str| match name {
        "HOME" => Some(root.clone()),
        "HOOKMETER_HTTP_TOKEN" => token.map(str::to_string),
        _ => None,
    };
    let config = Config::resolve(&flags, &env).unwrap();
    let findings = doctor::assess(&doctor::gather(
        &config,
        None,
        &env,
        home.path(),
        &passwd_file,
    ));
    let http = findings.into_iter().find(|f| f.check == "http").unwrap();
    serde_json::to_value(http).unwrap()
}

#[test]
fn doctor_warns_about_an_api_without_a_token_where_other_people_log_in() {
    let home = Home::new();
    // Two people: whoever runs this test, at least one of them is another.
    let shared = "root:x:0:0:root:/root:/bin/bash\n\
                  ann:x:1000:1000::/home/ann:/bin/bash\n\
                  bo:x:1001:1001::/home/bo:/bin/zsh\n\
                  www-data:x:33:33::/var/www:/usr/sbin/nologin\n";
    let warned = doctor_http(&home, "127.0.0.1:7717", None, shared);
    assert_eq!(warned["status"], "warn", "{warned}");
    let finding = warned["finding"].as_str().unwrap();
    assert!(
        finding.starts_with("127.0.0.1:7717 without a token"),
        "{finding}"
    );
    assert!(
        finding.contains("other users can read the costs") && finding.contains("post events"),
        "{finding}"
    );
    let fix = warned["fix"].as_str().unwrap();
    assert!(
        fix.contains("[http] token") && fix.contains(r#"http = "off""#),
        "{fix}"
    );

    for (listen, token) in [("127.0.0.1:7717", Some("t")), ("off", None)] {
        let fine = doctor_http(&home, listen, token, shared);
        assert_eq!(fine["status"], "ok", "{listen} {token:?}: {fine}");
    }
    // Only system accounts and root: nobody else logs in.
    let alone = doctor_http(
        &home,
        "127.0.0.1:7717",
        None,
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n",
    );
    assert_eq!(alone["status"], "ok", "{alone}");
    assert!(alone["fix"].is_null());
}
