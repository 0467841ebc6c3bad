//! `hookmeter mcp` through a real MCP client: rmcp's, spawning the binary
//! over stdio. The tools read a database filled through the real daemon;
//! their numbers are checked against SQL over `cost_records` and against the
//! CLI's `--json` output, their answers against their output schemas.

use crate::common;

use std::collections::BTreeMap;
use std::process::Stdio;

use common::*;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

type Client = RunningService<RoleClient, ()>;

/// One seeded event: who, which task and session, which model and tool.
struct Seed {
    agent: &'static str,
    task: Option<&'static str>,
    session: &'static str,
    model: &'static str,
    tool: &'static str,
    input: u64,
    output: u64,
    /// An RFC 3339 time, or `None` for seconds after midnight (UTC) today.
    at: Option<&'static str>,
}

const SEEDS: &[Seed] = &[
    Seed {
        agent: "alpha",
        task: Some("T-1"),
        session: "s-1",
        model: "claude-sonnet-4-5",
        tool: "Read",
        input: 10_000,
        output: 2000,
        at: None,
    },
    Seed {
        agent: "alpha",
        task: Some("T-1"),
        session: "s-1",
        model: "claude-haiku-4-5",
        tool: "Bash",
        input: 5000,
        output: 100,
        at: None,
    },
    Seed {
        agent: "beta",
        task: Some("T-1"),
        session: "s-2",
        model: "gpt-5",
        tool: "Edit",
        input: 20_000,
        output: 3000,
        at: None,
    },
    Seed {
        agent: "beta",
        task: None,
        session: "s-2",
        model: "claude-sonnet-4-5",
        tool: "Read",
        input: 300,
        output: 900,
        at: None,
    },
    // An older day of the same task: outside today, inside "all".
    Seed {
        agent: "alpha",
        task: Some("T-1"),
        session: "s-0",
        model: "claude-sonnet-4-5",
        tool: "Grep",
        input: 4200,
        output: 70,
        at: Some("2026-01-10T12:00:00Z"),
    },
];

/// Sends the seeds to a running daemon, each acked with one record.
fn seed(daemon: &Daemon) {
    let mut client = daemon.connect();
    let midnight: jiff::Timestamp =
        format!("{}T00:00:00Z", jiff::Timestamp::now().strftime("%Y-%m-%d"))
            .parse()
            .unwrap();
    for (n, seed) in SEEDS.iter().enumerate() {
        let at = match seed.at {
            Some(at) => at.to_string(),
            None => midnight
                .checked_add(jiff::SignedDuration::from_secs(1 + n as i64))
                .unwrap()
                .to_string(),
        };
        let mut envelope = json!({
            "hookmeter": 1,
            "agent_id": seed.agent,
            "payload": {
                "hook_event_name": "PostToolUse",
                "event_id": format!("mcp-{n}"),
                "session_id": seed.session,
                "tool_name": seed.tool,
                "timestamp": at,
                "model": seed.model,
                "usage": {"input_tokens": seed.input, "output_tokens": seed.output},
            },
        });
        if let Some(task) = seed.task {
            envelope["task_id"] = json!(task);
        }
        let ack = client.roundtrip(envelope.to_string().as_bytes());
        assert_eq!(ack["records"], 1, "seed {n}: {ack}");
    }
}

/// `hookmeter mcp` on `home`'s database, named by `--db` and `--config`
/// flags, connected to an rmcp client; its log goes to `mcp.log`.
async fn connect(home: &Home) -> Client {
    let config = home.path().join("none.toml");
    std::fs::write(&config, "").unwrap();
    let mut cmd = home.command();
    cmd.arg("--db")
        .arg(home.db_path())
        .arg("--config")
        .arg(&config)
        .arg("mcp");
    let log = std::fs::File::create(home.path().join("mcp.log")).unwrap();
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(cmd))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn hookmeter mcp");
    ().serve(transport)
        .await
        .unwrap_or_else(|e| panic!("MCP handshake: {e}\n{}", mcp_log(home)))
}

fn mcp_log(home: &Home) -> String {
    std::fs::read_to_string(home.path().join("mcp.log")).unwrap_or_default()
}

async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// A successful answer's structured content, which its text copy repeats.
async fn answer(client: &Client, tool: &str, arguments: Value) -> Value {
    let result = call(client, tool, arguments.clone()).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} {arguments}: {result:?}"
    );
    let structured = result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("{tool}: no structuredContent: {result:?}"));
    let text = &result.content[0].as_text().expect("a text copy").text;
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        structured,
        "{tool}"
    );
    structured
}

/// A tool error's message: one line of text, flagged `isError`.
async fn tool_error(client: &Client, tool: &str, arguments: Value) -> String {
    let result = call(client, tool, arguments.clone()).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} {arguments}: {result:?}"
    );
    let text = result.content[0]
        .as_text()
        .expect("a text message")
        .text
        .clone();
    assert_eq!(text.lines().count(), 1, "{tool}: {text}");
    text
}

/// `schema` resolved through a `$ref` into the root's `$defs`.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(path) => {
            let name = path.strip_prefix("#/$defs/").expect("a local $ref");
            &root["$defs"][name]
        }
        None => schema,
    }
}

/// `value` carries every field `schema` requires and, where `closed`, no
/// field it does not declare, at every level of objects and arrays.
fn assert_fits(value: &Value, schema: &Value, root: &Value, closed: bool, at: &str) {
    let schema = resolve(schema, root);
    match value {
        Value::Object(fields) => {
            let declared = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: no properties in {schema}"));
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                assert!(fields.contains_key(name), "{at}: {name} missing in {value}");
            }
            for (name, field) in fields {
                match declared.get(name) {
                    Some(field_schema) => {
                        assert_fits(field, field_schema, root, closed, &format!("{at}.{name}"))
                    }
                    None => assert!(!closed, "{at}: {name} not in the output schema"),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_fits(item, &schema["items"], root, closed, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn output_schema(tools: &[Tool], name: &str) -> Value {
    let tool = tools.iter().find(|t| t.name == name).unwrap();
    let schema = tool.output_schema.as_ref().expect("an output schema");
    Value::Object(JsonObject::clone(schema))
}

/// (records, cost, input tokens, output tokens) by `key` over the records
/// `condition` keeps.
fn sql_groups(home: &Home, key: &str, condition: &str) -> BTreeMap<String, (i64, f64, i64, i64)> {
    home.db()
        .prepare(&format!(
            "SELECT {key}, count(*), total(estimated_cost_usd), sum(input_tokens), sum(output_tokens)
             FROM cost_records WHERE {condition} GROUP BY 1"
        ))
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The same sums from rows of an answer, keyed by their field `key`.
fn answer_groups(rows: &Value, key: &str) -> BTreeMap<String, (i64, f64, i64, i64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[key].as_str().unwrap().to_string(),
                (
                    row["records"].as_i64().unwrap(),
                    row["cost_usd"].as_f64().unwrap(),
                    row["input_tokens"].as_i64().unwrap(),
                    row["output_tokens"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

fn assert_same_groups(
    got: BTreeMap<String, (i64, f64, i64, i64)>,
    want: BTreeMap<String, (i64, f64, i64, i64)>,
    what: &str,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (key, (records, cost, input, output)) in &want {
        let g = got[key];
        assert_eq!((g.0, g.2, g.3), (*records, *input, *output), "{what} {key}");
        assert_cost(g.1, *cost, &format!("{what} {key}"));
    }
}

fn cli_json(home: &Home, args: &[&str]) -> Value {
    let text = succeed(home.command().args(args));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

#[tokio::test]
async fn the_four_tools_answer_what_the_database_and_the_cli_say() {
    let home = Home::new();
    let daemon = home.start();
    seed(&daemon);
    for args in [
        &["budget", "set", "--daily", "10", "--monthly", "200"][..],
        &["budget", "set", "--total", "5", "--scope", "task:T-1"],
    ] {
        succeed(home.command().args(args));
    }
    let client = connect(&home).await;

    // Four tools, each with an input schema, an output schema, read-only.
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "get_budget_status",
            "get_cost_report",
            "get_session_cost",
            "get_task_cost"
        ]
    );
    for tool in &tools {
        let input = Value::Object(JsonObject::clone(&tool.input_schema));
        assert_eq!(input["type"], "object", "{}: {input}", tool.name);
        assert!(input["properties"].is_object(), "{}: {input}", tool.name);
        assert_eq!(
            output_schema(&tools, &tool.name)["type"],
            "object",
            "{}",
            tool.name
        );
        assert!(tool.description.as_deref().is_some_and(|d| !d.is_empty()));
        let annotations = tool.annotations.as_ref().expect("annotations");
        assert_eq!(annotations.read_only_hint, Some(true), "{}", tool.name);
    }
    let input = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        Value::Object(JsonObject::clone(&tool.input_schema))
    };
    assert_eq!(input("get_task_cost")["required"], json!(["task_id"]));
    assert_eq!(input("get_session_cost")["required"], json!(["session_id"]));
    for field in ["period", "group_by", "tz"] {
        assert!(
            input("get_cost_report")["properties"][field].is_object(),
            "{field}"
        );
    }
    assert!(input("get_budget_status")["properties"]["tz"].is_object());

    // get_task_cost: totals and every breakdown equal SQL over the task's records.
    let task = answer(
        &client,
        "get_task_cost",
        json!({"task_id": "T-1", "tz": "UTC"}),
    )
    .await;
    let schema = output_schema(&tools, "get_task_cost");
    assert_fits(&task, &schema, &schema, true, "get_task_cost");
    assert_eq!(task["task_id"], "T-1");
    let of_task = "task_id = 'T-1'";
    let total = sql_groups(&home, "'all'", of_task);
    assert_same_groups(
        answer_groups(
            &json!([{
                "all": "all",
                "records": task["records"],
                "cost_usd": task["cost_usd"],
                "input_tokens": task["input_tokens"],
                "output_tokens": task["output_tokens"],
            }]),
            "all",
        ),
        total.clone(),
        "task total",
    );
    assert_eq!(task["records"], 4);
    for (rows, field, column) in [
        ("by_model", "model", "model"),
        ("by_agent", "agent", "agent_id"),
        ("by_day", "day", "substr(timestamp, 1, 10)"),
    ] {
        assert_same_groups(
            answer_groups(&task[rows], field),
            sql_groups(&home, column, of_task),
            rows,
        );
    }
    assert_eq!(task["by_day"].as_array().unwrap().len(), 2, "{task}");
    let nothing = answer(&client, "get_task_cost", json!({"task_id": "T-none"})).await;
    assert_eq!(nothing["records"], 0);
    assert_eq!(nothing["cost_usd"], 0.0);
    assert_eq!(nothing["by_model"], json!([]));

    // get_session_cost: what `sessions ID --json` prints, and SQL's sums.
    let schema = output_schema(&tools, "get_session_cost");
    for id in ["s-1", "s-2"] {
        let session = answer(&client, "get_session_cost", json!({"session_id": id})).await;
        assert_fits(&session, &schema, &schema, true, "get_session_cost");
        assert_eq!(
            session,
            cli_json(&home, &["sessions", id, "--json"]),
            "{id}"
        );
        assert_same_groups(
            answer_groups(&session["by_model"], "model"),
            sql_groups(&home, "model", &format!("session_id = '{id}'")),
            id,
        );
    }
    let unknown = answer(&client, "get_session_cost", json!({"session_id": "s-nope"})).await;
    assert_fits(&unknown, &schema, &schema, true, "unknown session");
    assert_eq!(unknown["session_id"], "s-nope");
    assert_eq!(unknown["records"], 0);
    assert_eq!(unknown["by_model"], json!([]));
    assert_eq!(unknown["by_tool"], json!([]));
    assert_eq!(unknown["first_at"], Value::Null);

    // get_budget_status: what `budget status --json` prints, spend from SQL.
    let budgets = answer(&client, "get_budget_status", json!({"tz": "UTC"})).await;
    let schema = output_schema(&tools, "get_budget_status");
    assert_fits(&budgets, &schema, &schema, true, "get_budget_status");
    assert_eq!(
        budgets["budgets"],
        cli_json(&home, &["budget", "status", "--json", "--tz", "UTC"])
    );
    let task_budget = budgets["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["scope"] == "task:T-1")
        .expect("the task's budget");
    assert_cost(
        task_budget["spent"].as_f64().unwrap(),
        total["all"].1,
        "task budget spent",
    );
    assert_eq!(budgets["budgets"].as_array().unwrap().len(), 3);

    // The server reads without the daemon too.
    assert!(daemon.stop().success());

    // get_cost_report: what `report --json` prints for the same arguments.
    let schema = output_schema(&tools, "get_cost_report");
    for (arguments, cli) in [
        (
            json!({"period": "all", "group_by": ["agent", "model"], "tz": "UTC"}),
            &["--period", "all", "--by", "agent", "--by", "model"][..],
        ),
        (
            json!({"period": "all", "group_by": "task", "tz": "UTC"}),
            &["--period", "all", "--by", "task"],
        ),
        // The period defaults to today.
        (
            json!({"group_by": ["model"], "tz": "UTC"}),
            &["--period", "today", "--by", "model"],
        ),
        (
            json!({"period": "month", "tz": "UTC"}),
            &["--period", "month"],
        ),
    ] {
        let report = answer(&client, "get_cost_report", arguments.clone()).await;
        assert_fits(&report, &schema, &schema, true, "get_cost_report");
        let mut args = vec!["report", "--json", "--tz", "UTC"];
        args.extend(cli);
        assert_eq!(report, cli_json(&home, &args), "{arguments}");
    }
    let all = answer(
        &client,
        "get_cost_report",
        json!({"period": "all", "group_by": "agent", "tz": "UTC"}),
    )
    .await;
    let everything = sql_groups(&home, "'all'", "1")["all"];
    assert_eq!(all["total_records"], everything.0);
    assert_cost(all["total_cost_usd"].as_f64().unwrap(), everything.1, "all");
    assert_same_groups(
        answer_groups(&all["groups"], "key"),
        sql_groups(&home, "agent_id", "1"),
        "by agent",
    );
    let today = answer(&client, "get_cost_report", json!({"tz": "UTC"})).await;
    assert_eq!(
        today["total_records"],
        SEEDS.iter().filter(|s| s.at.is_none()).count()
    );

    // Bad arguments: a one-line tool error naming what was wrong.
    for (tool, arguments, says) in [
        (
            "get_cost_report",
            json!({"period": "fortnight"}),
            "fortnight",
        ),
        ("get_cost_report", json!({"group_by": "color"}), "color"),
        ("get_cost_report", json!({"group_by": "label:"}), "label:"),
        (
            "get_cost_report",
            json!({"group_by": ["agent", "model", "day"]}),
            "at most two",
        ),
        (
            "get_cost_report",
            json!({"tz": "Mars/Olympus"}),
            "Mars/Olympus",
        ),
        (
            "get_budget_status",
            json!({"tz": "Mars/Olympus"}),
            "Mars/Olympus",
        ),
        (
            "get_task_cost",
            json!({"task_id": "T-1", "tz": "Mars/Olympus"}),
            "Mars/Olympus",
        ),
    ] {
        let message = tool_error(&client, tool, arguments.clone()).await;
        assert!(message.contains(says), "{tool} {arguments}: {message}");
    }
    // And the server is still there.
    let again = answer(&client, "get_session_cost", json!({"session_id": "s-1"})).await;
    assert_eq!(again["session_id"], "s-1");

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_missing_database_is_a_tool_error_that_says_so() {
    let home = Home::new();
    let client = connect(&home).await;
    for (tool, arguments) in [
        ("get_task_cost", json!({"task_id": "T-1"})),
        ("get_session_cost", json!({"session_id": "s-1"})),
        ("get_cost_report", json!({})),
        ("get_budget_status", json!({})),
    ] {
        let message = tool_error(&client, tool, arguments).await;
        assert!(
            message.contains("no database at") && message.contains("telemetry.db"),
            "{tool}: {message}"
        );
    }
    assert!(
        !home.db_path().exists(),
        "the server must not create the database"
    );
    client.cancel().await.unwrap();
}

/// get_cost_report's period goes through the one filter parser
/// (query::FilterSpec), and its refusal names the tool's argument, not a
/// flag of the CLI. Arguments are read before the database is looked for.
#[tokio::test]
async fn a_bad_period_is_refused_naming_the_argument() {
    let home = Home::new();
    let client = connect(&home).await;
    let message = tool_error(&client, "get_cost_report", json!({"period": "fortnight"})).await;
    assert!(
        message.starts_with("period: unknown period \"fortnight\""),
        "{message}"
    );
    let message = tool_error(&client, "get_cost_report", json!({"group_by": "color"})).await;
    assert!(message.starts_with("group_by: "), "{message}");
    client.cancel().await.unwrap();
}
