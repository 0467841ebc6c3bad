//! `hookmeter config` (every setting with where it came from) and
//! `hookmeter pricing import` (LiteLLM's price file into pricing.toml), run
//! as users run them, on a temp home.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use common::*;

fn run(cmd: &mut std::process::Command) -> Output {
    cmd.output().expect("run hookmeter")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn config_json(cmd: &mut std::process::Command) -> Value {
    let out = run(cmd.args(["config", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("config --json prints JSON")
}

fn setting(json: &Value, name: &str) -> (Value, String, Value) {
    let s = &json[name];
    assert!(s.is_object(), "no setting {name} in {json:#}");
    (
        s["value"].clone(),
        s["origin"].as_str().unwrap().to_string(),
        s["detail"].clone(),
    )
}

fn text(path: &Path) -> Value {
    Value::String(path.display().to_string())
}

#[test]
fn each_origin_is_reported_flag_beats_env_beats_file_beats_default() {
    let home = Home::new();
    let file_path = |name: &str| home.path().join(format!("from-file/{name}"));
    home.write_config(&format!(
        "db = {:?}\nsocket = {:?}\nspool = {:?}\nhttp = \"127.0.0.1:9999\"\ndurability = \"full\"\n\
         [limits]\nmax_connections = 64\n[transcripts]\nroots = [{:?}]\n",
        file_path("file.db").display().to_string(),
        file_path("file.sock").display().to_string(),
        file_path("spool").display().to_string(),
        file_path("roots").display().to_string(),
    ));
    let flag_db = home.path().join("flag.db");
    let mut cmd = home.command();
    // db: flag over env over file; socket: env over file; spool and http: file.
    cmd.env_remove("HOOKMETER_SPOOL")
        .env_remove("HOOKMETER_HTTP")
        .arg("--db")
        .arg(&flag_db);
    let json = config_json(&mut cmd);
    let config = home.config_file();
    let file = Value::String(config.display().to_string());

    assert_eq!(
        setting(&json, "db"),
        (text(&flag_db), "flag".into(), Value::Null)
    );
    assert_eq!(
        setting(&json, "socket"),
        (
            text(&home.socket()),
            "env".into(),
            Value::from("HOOKMETER_SOCKET")
        )
    );
    assert_eq!(
        setting(&json, "spool"),
        (text(&file_path("spool")), "file".into(), file.clone())
    );
    assert_eq!(
        setting(&json, "http"),
        (Value::from("127.0.0.1:9999"), "file".into(), file.clone())
    );
    assert_eq!(
        setting(&json, "durability"),
        (Value::from("full"), "file".into(), file.clone())
    );
    assert_eq!(
        setting(&json, "limits.max_connections"),
        (Value::from(64), "file".into(), file.clone())
    );
    assert_eq!(
        setting(&json, "transcripts.roots"),
        (
            Value::Array(vec![text(&file_path("roots"))]),
            "file".into(),
            file.clone()
        )
    );
    assert_eq!(
        setting(&json, "store_payloads"),
        (Value::from("truncated"), "default".into(), Value::Null)
    );
    assert_eq!(setting(&json, "limits.idle_timeout_secs").1, "default");
    assert_eq!(
        setting(&json, "config_file"),
        (text(&config), "env".into(), Value::from("HOOKMETER_CONFIG"))
    );
    assert_eq!(
        setting(&json, "pricing_file"),
        (
            text(&config.with_file_name("pricing.toml")),
            "env".into(),
            Value::from("HOOKMETER_CONFIG")
        )
    );

    // Without the variable, the file's db wins; with HOOKMETER_HTTP, env wins over the file.
    let mut cmd = home.command();
    cmd.env_remove("TELEMETRY_DB_PATH")
        .env("HOOKMETER_HTTP", "127.0.0.1:1234");
    let json = config_json(&mut cmd);
    assert_eq!(
        setting(&json, "db"),
        (text(&file_path("file.db")), "file".into(), file.clone())
    );
    assert_eq!(
        setting(&json, "http"),
        (
            Value::from("127.0.0.1:1234"),
            "env".into(),
            Value::from("HOOKMETER_HTTP")
        )
    );

    // And the same facts in the human table, one setting per line.
    let out = run(home.command().arg("--db").arg(&flag_db).arg("config"));
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row = |name: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{table}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(
        row("db")[1..],
        [flag_db.display().to_string(), "flag".into()]
    );
    assert_eq!(
        row("socket")[1..],
        [
            home.socket().display().to_string(),
            "env".into(),
            "HOOKMETER_SOCKET".into()
        ]
    );
    assert_eq!(
        row("durability")[1..],
        [
            "full".to_string(),
            "file".into(),
            config.display().to_string()
        ]
    );
    assert_eq!(row("store_payloads")[1..], ["truncated", "default"]);
}

#[test]
fn json_is_one_object_of_value_origin_detail_for_every_setting() {
    let home = Home::new();
    let json = config_json(&mut home.command());
    let settings = json.as_object().unwrap();
    for name in [
        "config_file",
        "db",
        "socket",
        "spool",
        "http",
        "store_payloads",
        "durability",
        "limits.max_line_bytes",
        "limits.idle_timeout_secs",
        "limits.max_connections",
        "limits.spool_max_file_bytes",
        "limits.spool_rescan_secs",
        "limits.shutdown_grace_secs",
        "limits.payload_bytes",
        "limits.max_prompt_tokens",
        "limits.max_output_tokens",
        "transcripts.roots",
        "transcripts.idle_timeout_secs",
        "transcripts.stop_linger_secs",
        "pricing_file",
    ] {
        assert!(settings.contains_key(name), "{name} missing from {json:#}");
    }
    for (name, s) in settings {
        let fields: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["detail", "origin", "value"], "{name}");
        match s["origin"].as_str().unwrap() {
            "flag" | "default" => assert!(s["detail"].is_null(), "{name}: {s}"),
            "env" | "file" => assert!(s["detail"].is_string(), "{name}: {s}"),
            other => panic!("{name}: unknown origin {other}"),
        }
    }
}

#[test]
fn the_config_flag_names_the_file_and_pricing_toml_follows_it() {
    let home = Home::new();
    let other = home.path().join("elsewhere/my.toml");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, "store_payloads = \"none\"\n").unwrap();
    let json = config_json(home.command().arg("--config").arg(&other));
    assert_eq!(
        setting(&json, "config_file"),
        (text(&other), "flag".into(), Value::Null)
    );
    assert_eq!(
        setting(&json, "pricing_file"),
        (
            text(&other.with_file_name("pricing.toml")),
            "flag".into(),
            Value::Null
        )
    );
    assert_eq!(
        setting(&json, "store_payloads"),
        (Value::from("none"), "file".into(), text(&other))
    );
}

#[test]
fn a_broken_or_missing_config_file_exits_2_with_one_line() {
    let home = Home::new();
    home.write_config("db = \n[limits]\n");
    for args in [&["config"][..], &["config", "--json"]] {
        let out = run(home.command().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(&home.config_file().display().to_string()),
            "{err}"
        );
        assert!(err.contains("line 1"), "{err}");
    }

    home.write_config("[limits]\nmax_connections = 0\n");
    let out = run(home.command().arg("config"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("limits.max_connections"));

    let out = run(home
        .command()
        .arg("--config")
        .arg(home.path().join("nope.toml"))
        .arg("config"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.toml"));

    let out = run(home.command().args(["config", "--jsn"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_answers_while_the_daemon_runs() {
    let home = Home::new();
    let daemon = home.start();
    let json = config_json(&mut home.command());
    assert_eq!(setting(&json, "socket").0, text(&home.socket()));
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn budgets_are_counted_in_the_config_file_and_in_the_database() {
    let home = Home::new();
    let budgets_row = |home: &Home| {
        let text = stdout(&run(home.command().arg("config")));
        text.lines()
            .find(|l| l.starts_with("budgets "))
            .unwrap_or_else(|| panic!("no budgets row: {text}"))
            .to_string()
    };
    let row = budgets_row(&home);
    assert!(
        row.contains("0 in the config file, database not created yet"),
        "{row}"
    );
    assert!(!home.db_path().exists(), "config creates nothing");

    // A budget set from the command line lives in the database only.
    succeed(home.command().args(["budget", "set", "--daily", "5"]));
    let row = budgets_row(&home);
    assert!(
        row.contains("0 in the config file, 1 in the database"),
        "{row}"
    );
    let json = config_json(&mut home.command());
    assert_eq!(
        setting(&json, "budgets").0,
        serde_json::json!({"config_file": 0, "database": 1})
    );

    // The file's budgets reach the database when the daemon starts.
    home.write_config("[[budgets]]\nweekly = 20\n");
    assert!(home.start().stop().success());
    let row = budgets_row(&home);
    assert!(
        row.contains("1 in the config file, 2 in the database"),
        "{row}"
    );
}

// ------------------------------------------------------------ pricing import

/// The rates `pricing check MODEL` reports, by label, and its source line.
fn check(home: &Home, model: &str) -> (String, HashMap<String, String>) {
    let out = run(home.command().args(["pricing", "check", model]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let source = text
        .lines()
        .find_map(|l| l.strip_prefix("source"))
        .unwrap_or_else(|| panic!("no source line:\n{text}"))
        .trim()
        .to_string();
    let rates = text
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.len() > 16)
        .map(|l| (l[..16].trim().to_string(), l[16..].trim().to_string()))
        .collect();
    (source, rates)
}

fn rate(rates: &HashMap<String, String>, label: &str) -> f64 {
    rates[label]
        .parse()
        .unwrap_or_else(|_| panic!("{label} is {:?}", rates[label]))
}

fn assert_rate(got: f64, per_token: f64, what: &str) {
    let want = per_token * 1e6;
    assert!(
        (got - want).abs() <= want.abs() * 1e-9,
        "{what}: {got} != {want}"
    );
}

fn pricing_file(home: &Home) -> PathBuf {
    home.config_file().with_file_name("pricing.toml")
}

fn import(home: &Home, file: &Path) -> Output {
    run(home.command().arg("pricing").arg("import").arg(file))
}

/// A small LiteLLM-shaped file: one new model, one replacing a built-in
/// entry, and entries the import must skip.
const ACME_INPUT: f64 = 2e-06;
const ACME_OUTPUT: f64 = 8e-06;
const ACME_CACHE_READ: f64 = 2e-07;
const GPT5_INPUT: f64 = 9e-06;
const GPT5_OUTPUT: f64 = 7.2e-05;

fn small_litellm(home: &Home) -> PathBuf {
    let json = serde_json::json!({
        "sample_spec": {"mode": "one of: chat, embedding", "input_cost_per_token": 0.0},
        "acme/acme-coder-7": {"litellm_provider": "acme", "mode": "chat",
            "input_cost_per_token": ACME_INPUT, "output_cost_per_token": ACME_OUTPUT,
            "cache_read_input_token_cost": ACME_CACHE_READ},
        "gpt-5": {"litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": GPT5_INPUT, "output_cost_per_token": GPT5_OUTPUT},
        "azure/gpt-5": {"litellm_provider": "azure", "mode": "chat",
            "input_cost_per_token": 1e-05, "output_cost_per_token": 1e-04},
        "text-embedding-acme": {"litellm_provider": "acme", "mode": "embedding",
            "input_cost_per_token": 1e-07, "output_cost_per_token": 0.0},
        "ollama/acme-local": {"litellm_provider": "ollama", "mode": "chat",
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0}
    });
    let path = home.path().join("model_prices_and_context_window.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    path
}

#[test]
fn import_of_a_small_litellm_file_prices_checks_and_events_with_it() {
    let home = Home::new();
    let source = small_litellm(&home);
    let out = import(&home, &source);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(summary.starts_with("Imported 2 models"), "{summary}");
    assert!(summary.contains("Skipped 4 of 6 entries"), "{summary}");
    assert!(!summary.contains("saved as"), "no previous file: {summary}");
    assert!(pricing_file(&home).exists());

    let (source_line, rates) = check(&home, "acme-coder-7");
    assert!(source_line.starts_with("user"), "{source_line}");
    assert_rate(rate(&rates, "input"), ACME_INPUT, "acme input");
    assert_rate(rate(&rates, "output"), ACME_OUTPUT, "acme output");
    assert_rate(
        rate(&rates, "cache read"),
        ACME_CACHE_READ,
        "acme cache read",
    );

    // The first-party gpt-5 entry, not Azure's, replaces the built-in one.
    let (source_line, rates) = check(&home, "openai/gpt-5-2025-08-07");
    assert!(source_line.starts_with("user"), "{source_line}");
    assert_rate(rate(&rates, "input"), GPT5_INPUT, "gpt-5 input");
    assert_rate(rate(&rates, "output"), GPT5_OUTPUT, "gpt-5 output");

    let list = run(home.command().args(["pricing", "list"]));
    assert!(list.status.success());
    let list = stdout(&list);
    assert!(list.contains("(2 models)"), "{list}");
    assert!(!list.contains("warning"), "{list}");

    // The daemon prices events with the imported rate.
    let daemon = home.start();
    let mut client = daemon.connect();
    let ack = client.roundtrip(
        br#"{"hook_event_name":"PostToolUse","session_id":"s-imp","tool_use_id":"t1","model":"acme-coder-7","usage":{"input_tokens":1000000,"output_tokens":1000000}}"#,
    );
    assert_eq!(ack["records"], 1, "{ack}");
    let (cost, pricing_source): (f64, String) = home
        .db()
        .query_row(
            "SELECT estimated_cost_usd, pricing_source FROM cost_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_cost(
        cost,
        (ACME_INPUT + ACME_OUTPUT) * 1e6,
        "imported acme rates",
    );
    assert_eq!(pricing_source, "user");
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn import_merges_into_the_existing_file_after_backing_it_up() {
    let home = Home::new();
    let before = "# my prices\n\
                  [models.\"acme-coder-7\"]\ninput = 1\noutput = 1\n\n\
                  [models.my-own-model]\ninput = 0.5\noutput = 1.5\n";
    std::fs::create_dir_all(home.config_file().parent().unwrap()).unwrap();
    std::fs::write(pricing_file(&home), before).unwrap();

    let out = import(&home, &small_litellm(&home));
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("Entries already in the file: 1 replaced, 1 kept."),
        "{summary}"
    );
    let backup = pricing_file(&home).with_file_name("pricing.toml.bak");
    assert!(summary.contains(&backup.display().to_string()), "{summary}");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);

    let (source_line, rates) = check(&home, "my-own-model");
    assert!(source_line.starts_with("user"), "{source_line}");
    assert_eq!(rate(&rates, "input"), 0.5);
    let (_, rates) = check(&home, "acme-coder-7");
    assert_rate(rate(&rates, "input"), ACME_INPUT, "imported replaces");

    // Importing again is stable, and backs up what the first import wrote.
    let first = std::fs::read_to_string(pricing_file(&home)).unwrap();
    assert!(import(&home, &small_litellm(&home)).status.success());
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), first);
    assert_eq!(std::fs::read_to_string(pricing_file(&home)).unwrap(), first);
}

#[test]
fn import_refuses_bad_input_and_a_broken_pricing_file_and_changes_nothing() {
    let home = Home::new();
    let not_litellm = home.path().join("list.json");
    std::fs::write(&not_litellm, "[1, 2, 3]").unwrap();
    let nothing = home.path().join("embeddings.json");
    std::fs::write(
        &nothing,
        r#"{"e": {"mode": "embedding", "input_cost_per_token": 1e-07}}"#,
    )
    .unwrap();
    for (file, needle) in [
        (home.path().join("missing.json"), "missing.json"),
        (not_litellm, "not a LiteLLM price file"),
        (nothing, "nothing to import"),
    ] {
        let out = import(&home, &file);
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
        assert!(!pricing_file(&home).exists());
    }

    std::fs::create_dir_all(home.config_file().parent().unwrap()).unwrap();
    std::fs::write(pricing_file(&home), "[models.broken\n").unwrap();
    let out = import(&home, &small_litellm(&home));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&pricing_file(&home).display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(pricing_file(&home)).unwrap(),
        "[models.broken\n"
    );
    assert!(!pricing_file(&home)
        .with_file_name("pricing.toml.bak")
        .exists());
}

/// LiteLLM's real price file, as published on 2026-08-01.
fn real_litellm() -> PathBuf {
    fixtures().join("litellm-model-prices-2026-08-01.json")
}

#[test]
fn import_of_the_real_litellm_file_loads_and_prices_with_its_rates() {
    let home = Home::new();
    let path = real_litellm();
    let data: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(&path).expect("the LiteLLM price file")).unwrap();
    let out = import(&home, &path);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    let number_after = |prefix: &str| -> usize {
        let at = summary
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{summary}"));
        summary[at + prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let imported = number_after("Imported ");
    let skipped = number_after("Skipped ");
    assert!(imported > 0, "{summary}");
    assert_eq!(imported + skipped, data.len(), "{summary}");
    assert!(
        summary.contains(&format!("of {} entries", data.len())),
        "{summary}"
    );

    let list = run(home.command().args(["pricing", "list"]));
    assert!(list.status.success(), "{}", stderr(&list));
    let list = stdout(&list);
    assert!(
        list.contains(&format!("({imported} models)")),
        "{}",
        list.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    assert!(
        !list.contains("warning:"),
        "the imported file loads cleanly"
    );

    // First-party entries are priced with LiteLLM's own numbers.
    for model in ["claude-sonnet-4-5", "gpt-5.4", "claude-opus-4-6"] {
        let entry = &data[model];
        let per_token = |field: &str| entry[field].as_f64().unwrap();
        let (source_line, rates) = check(&home, model);
        assert!(source_line.starts_with("user"), "{model}: {source_line}");
        assert_rate(
            rate(&rates, "input"),
            per_token("input_cost_per_token"),
            model,
        );
        assert_rate(
            rate(&rates, "output"),
            per_token("output_cost_per_token"),
            model,
        );
        assert_rate(
            rate(&rates, "cache read"),
            per_token("cache_read_input_token_cost"),
            model,
        );
        let tier = entry
            .as_object()
            .unwrap()
            .keys()
            .find_map(|k| k.strip_prefix("input_cost_per_token_above_"))
            .and_then(|rest| rest.strip_suffix("_tokens"));
        match tier {
            Some(threshold) => assert!(
                rates["long context"].starts_with(&format!("over {threshold} ")),
                "{model}: {}",
                rates["long context"]
            ),
            None => assert!(rates["long context"].starts_with("none"), "{model}"),
        }
    }
    let (_, opus) = check(&home, "claude-opus-4-6");
    if let Some(fast) = data["claude-opus-4-6"]["provider_specific_entry"]["fast"].as_f64() {
        assert_eq!(opus["fast mode"], format!("x{fast} on the whole cost"));
    }

    // Deterministic: importing the same file again writes the same bytes.
    let first = std::fs::read(pricing_file(&home)).unwrap();
    assert!(import(&home, &path).status.success());
    assert_eq!(std::fs::read(pricing_file(&home)).unwrap(), first);
}
