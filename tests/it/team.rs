//! Reading the team's data (docs/team.md): two machines of two users push
//! to one throwaway PostgreSQL cluster (common/postgres.rs), then
//! `report --team URL` is checked against a plain SQL sum over
//! `hookmeter.cost_records` and against the union of the two machines'
//! own `report`s; it reads in a read-only transaction, and a wrong
//! password, an unreachable server and a missing schema each fail with a
//! reason.

use crate::common;

use std::collections::BTreeMap;
use std::process::Output;

use common::postgres::*;
use common::*;
use serde_json::{json, Value};

/// A home of `user` whose push goes to `url`.
fn team_home(url: &str, user: &str) -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "{HOOKS_ONLY}\n[push]\npostgres = {url:?}\nuser = {user:?}\nbatch = 4\n"
    ));
    home
}

/// One event of a seed: agent, model, working directory, time, input and
/// output tokens.
type Seed = (&'static str, &'static str, &'static str, String, u64, u64);

fn seeds(now: &str) -> [Vec<Seed>; 2] {
    let at = |s: &str| s.to_string();
    [
        vec![
            (
                "claude-code",
                "claude-sonnet-4-5",
                "/w/shop",
                at("2026-09-20T03:30:00Z"),
                1200,
                300,
            ),
            (
                "claude-code",
                "claude-sonnet-4-5",
                "/w/shop",
                at("2026-09-20T15:10:00Z"),
                800,
                90,
            ),
            (
                "codex",
                "gpt-5-codex",
                "/w/api",
                at("2026-09-21T01:00:00Z"),
                5000,
                700,
            ),
            (
                "claude-code",
                "claude-opus-4-1",
                "/w/api",
                at("2026-09-22T23:59:00Z"),
                40,
                4000,
            ),
            (
                "codex",
                "mystery-model-9",
                "/w/shop",
                at("2026-09-21T12:00:00Z"),
                100,
                100,
            ),
            (
                "claude-code",
                "claude-sonnet-4-5",
                "/w/shop",
                now.to_string(),
                10,
                20,
            ),
        ],
        vec![
            (
                "codex",
                "gpt-5-codex",
                "/w/shop",
                at("2026-09-20T04:45:00Z"),
                3000,
                250,
            ),
            (
                "claude-code",
                "claude-sonnet-4-5",
                "/w/web",
                at("2026-09-21T22:15:00Z"),
                900,
                60,
            ),
            (
                "claude-code",
                "claude-sonnet-4-5",
                "/w/api",
                at("2026-09-22T00:30:00Z"),
                70,
                7,
            ),
            ("codex", "gpt-5-codex", "/w/web", now.to_string(), 30, 3),
        ],
    ]
}

/// Stores `seeds` through a daemon, which is stopped again.
fn seed(home: &Home, name: &str, seeds: &[Seed]) {
    let daemon = home.start();
    let mut client = daemon.connect();
    for (n, (agent, model, cwd, at, input, output)) in seeds.iter().enumerate() {
        let envelope = json!({
            "hookmeter": 1,
            "agent_id": agent,
            "payload": {
                "hook_event_name": "PostToolUse",
                "event_id": format!("{name}-{n}"),
                "session_id": format!("{name}-s{}", n % 2),
                "cwd": cwd,
                "tool_name": "Read",
                "timestamp": at,
                "model": model,
                "usage": {"input_tokens": input, "output_tokens": output},
            },
        });
        let ack = client.roundtrip(envelope.to_string().as_bytes());
        assert_eq!(ack["ok"], true, "{name} {n}: {ack}");
    }
    daemon.stop();
}

fn run(home: &Home, args: &[&str]) -> Output {
    home.command().args(args).output().unwrap()
}

/// `report --json` with `args`: groups by joined key, each (records, cost).
fn report_groups(home: &Home, args: &[&str]) -> (BTreeMap<String, (i64, f64)>, Value) {
    let out = run(home, &[&["report", "--json"], args].concat());
    assert!(out.status.success(), "{args:?}: {out:?}");
    let value: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let groups = value["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = g["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap_or("(none)").to_string())
                .collect::<Vec<_>>()
                .join(" / ");
            (
                key,
                (
                    g["records"].as_i64().unwrap(),
                    g["cost_usd"].as_f64().unwrap(),
                ),
            )
        })
        .collect();
    (groups, value)
}

/// The same groups summed by plain SQL: `keys` are SQL expressions over
/// `hookmeter.cost_records`, `condition` its WHERE.
fn sql_groups(cluster: &Cluster, keys: &[&str], condition: &str) -> BTreeMap<String, (i64, f64)> {
    let key = match keys {
        [] => "''".to_string(),
        keys => keys
            .iter()
            .map(|k| format!("coalesce(({k})::text, '(none)')"))
            .collect::<Vec<_>>()
            .join(" || ' / ' || "),
    };
    let text = cluster.sql(&format!(
        "SELECT k || '|' || n || '|' || to_char(c, 'FM0.000000000000') FROM (
             SELECT {key} AS k, count(*) AS n, sum(estimated_cost_usd) AS c
             FROM hookmeter.cost_records WHERE {condition} GROUP BY 1) AS g
         ORDER BY 1"
    ));
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.rsplitn(3, '|');
            let cost = parts.next().unwrap().parse().unwrap();
            let records = parts.next().unwrap().parse().unwrap();
            (parts.next().unwrap().to_string(), (records, cost))
        })
        .collect()
}

fn assert_same(
    got: &BTreeMap<String, (i64, f64)>,
    want: &BTreeMap<String, (i64, f64)>,
    what: &str,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: {got:?} against {want:?}"
    );
    for (key, (records, cost)) in want {
        let (got_records, got_cost) = got[key];
        assert_eq!(got_records, *records, "{what}: {key}");
        assert!(
            (got_cost - cost).abs() < 1e-9,
            "{what}: {key}: {got_cost} against {cost}"
        );
    }
}

/// Two local reports' groups as one: the sums of the keys they share.
fn union(
    a: &BTreeMap<String, (i64, f64)>,
    b: &BTreeMap<String, (i64, f64)>,
) -> BTreeMap<String, (i64, f64)> {
    let mut out = a.clone();
    for (key, (records, cost)) in b {
        let e = out.entry(key.clone()).or_default();
        e.0 += records;
        e.1 += cost;
    }
    out
}

/// Ann's and Bob's machines, their records stored and pushed to `cluster`
/// (whose schema a report before `push --init` says to make).
fn two_machines(cluster: &Cluster) -> (Home, Home) {
    let url = cluster.url();
    let now = jiff::Timestamp::now().to_string();
    let [ann_seeds, bob_seeds] = seeds(&now);
    let ann = team_home(&url, "ann");
    let bob = team_home(&url, "bob");
    seed(&ann, "ann", &ann_seeds);
    seed(&bob, "bob", &bob_seeds);

    let out = run(&ann, &["report", "--team", &url]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hookmeter push --init"), "{err}");

    assert!(run(&ann, &["push", "--init"]).status.success());
    for home in [&ann, &bob] {
        let out = run(home, &["push", "--once"]);
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(
        cluster.sql("SELECT count(*) FROM hookmeter.cost_records"),
        "10"
    );
    (ann, bob)
}

#[test]
fn the_team_report_equals_a_plain_sql_sum_and_the_union_of_the_local_reports() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.url();
    let (ann, bob) = two_machines(&cluster);

    let ny = "America/New_York";
    let ranges: [(&[&str], &str); 5] = [
        (&[], "true"),
        // Whole hours of UTC straddle two of this zone's: read by minute.
        (&["--tz", "Asia/Kathmandu"], "true"),
        (
            &["--since", "2026-09-20", "--until", "2026-09-21", "--tz", ny],
            "ts >= '2026-09-20T04:00:00Z' AND ts < '2026-09-22T04:00:00Z'",
        ),
        (
            &["--since", "2026-09-21T00:00:00Z", "--tz", "UTC"],
            "ts >= '2026-09-21T00:00:00Z'",
        ),
        (
            &["--period", "today", "--tz", "UTC"],
            "ts >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        ),
    ];
    // --by, and the same keys in SQL (the report's zone is each range's).
    let local = |tz: &str, format: &str| format!("to_char(ts AT TIME ZONE '{tz}', '{format}')");
    let groupings: Vec<(Vec<&str>, Vec<String>)> = vec![
        (vec![], vec![]),
        (vec!["user"], vec!["user_name".into()]),
        (vec!["host"], vec!["host".into()]),
        (vec!["machine"], vec!["machine_id".into()]),
        (vec!["agent"], vec!["agent_id".into()]),
        (vec!["model"], vec!["coalesce(model_key, model)".into()]),
        (vec!["project"], vec!["NULLIF(project, '')".into()]),
        (vec!["day"], vec!["DAY".into()]),
        (vec!["hour"], vec!["HOUR".into()]),
        (vec!["user", "day"], vec!["user_name".into(), "DAY".into()]),
        (
            vec!["agent", "model"],
            vec!["agent_id".into(), "coalesce(model_key, model)".into()],
        ),
    ];
    let mut nonempty = 0;
    for (range, condition) in ranges {
        let tz = range
            .iter()
            .position(|a| *a == "--tz")
            .map_or("UTC", |i| range[i + 1]);
        for (by, keys) in &groupings {
            let mut args: Vec<&str> = vec!["--team", &url];
            for b in by {
                args.extend(["--by", b]);
            }
            args.extend(range);
            if !range.contains(&"--tz") {
                args.extend(["--tz", "UTC"]);
            }
            let what = format!("{args:?}");
            let (team, value) = report_groups(&ann, &args);
            let keys: Vec<String> = keys
                .iter()
                .map(|k| match k.as_str() {
                    "DAY" => local(tz, "YYYY-MM-DD"),
                    "HOUR" => local(tz, "YYYY-MM-DD\"T\"HH24:00"),
                    _ => k.clone(),
                })
                .collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let sql = sql_groups(&cluster, &keys, condition);
            if by.is_empty() {
                // One group, keyless; the SQL sum over nothing has none.
                let total = (
                    value["total_records"].as_i64().unwrap(),
                    value["total_cost_usd"].as_f64().unwrap(),
                );
                let want = sql.values().next().copied().unwrap_or((0, 0.0));
                assert_eq!(total.0, want.0, "{what}");
                assert!((total.1 - want.1).abs() < 1e-9, "{what}");
            } else {
                assert_same(&team, &sql, &what);
            }
            nonempty += usize::from(!team.is_empty());
            // What one machine knows alone, the union of both local reports.
            if by.iter().all(|b| !["user", "host", "machine"].contains(b)) {
                let local: Vec<&str> = args[2..].to_vec();
                let (a, _) = report_groups(&ann, &local);
                let (b, _) = report_groups(&bob, &local);
                assert_same(&team, &union(&a, &b), &format!("{what} against local"));
            }
        }
    }
    assert!(nonempty > 20, "most reports have groups: {nonempty}");

    // Per person: each user's total is that machine's local total.
    for (user, home) in [("ann", &ann), ("bob", &bob)] {
        let (team, _) = report_groups(&ann, &["--team", &url, "--user", user]);
        let (local, _) = report_groups(home, &[]);
        assert_same(&team, &local, &format!("--user {user}"));
        let (by_user, _) = report_groups(&ann, &["--team", &url, "--by", "user"]);
        let (records, cost) = local[""];
        assert_eq!(by_user[user].0, records);
        assert!((by_user[user].1 - cost).abs() < 1e-9);
    }

    // The same presentation as a local report: CSV header, table, the
    // fallback-priced notice.
    let team_csv = stdout(&run(
        &ann,
        &["report", "--team", &url, "--by", "model", "--csv"],
    ));
    let local_csv = stdout(&run(&ann, &["report", "--by", "model", "--csv"]));
    assert_eq!(team_csv.lines().next(), local_csv.lines().next());
    assert_eq!(team_csv.lines().count(), 5, "{team_csv}");
    let table = stdout(&run(
        &ann,
        &["report", "--team", &url, "--by", "user", "--tz", "UTC"],
    ));
    assert!(
        table.contains("user") && table.contains("ann") && table.contains("bob"),
        "{table}"
    );
    assert!(table.contains("total"), "{table}");
    assert!(
        table.contains("mystery-model-9"),
        "the fallback notice: {table}"
    );

    // Refusals: a local report has no user; a team report no advice.
    let out = run(&ann, &["report", "--by", "user"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--team"));
    let out = run(&ann, &["report", "--user", "ann"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--team"));
    let out = run(&ann, &["report", "--team", &url, "--advice"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // A grouping neither knows is refused with both lists' words.
    let out = run(&ann, &["report", "--team", &url, "--by", "planet"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("user, host, machine"));
}

#[test]
fn the_team_report_reads_in_a_read_only_transaction() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = team_home(&cluster.url(), "ann");
    assert!(run(&home, &["push", "--init"]).status.success());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(async {
        let (mut client, connection) =
            tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        let tx = hookmeter::query::team::read_only(&mut client)
            .await
            .unwrap();
        let e = tx
            .execute("DELETE FROM hookmeter.machines", &[])
            .await
            .unwrap_err();
        e.code().map(|c| c.code().to_string())
    });
    // read_only_sql_transaction
    assert_eq!(code.as_deref(), Some("25006"));
}

#[test]
fn a_wrong_password_or_an_unreachable_server_fails_with_the_reason() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let home = team_home(&cluster.url(), "ann");
    assert!(run(&home, &["push", "--init"]).status.success());
    let wrong = "not-the-pw-77";
    let url = format!(
        "postgres://{USER}:{wrong}@127.0.0.1:{}/postgres?sslmode=disable",
        cluster.port
    );
    let out = run(&home, &["report", "--team", &url]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("127.0.0.1:{}", cluster.port)),
        "{err}"
    );
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(err.contains(&format!("\"{USER}\"")), "{err}");
    assert!(!err.contains(wrong), "{err}");

    let port = free_port();
    let url = format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres?sslmode=disable");
    let out = run(&home, &["report", "--team", &url]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains(PASSWORD), "{err}");
}

/// The dashboard's time range in the test: two whole UTC days, as Grafana
/// gives a range (both ends in, to the second).
const FROM: &str = "2026-09-20T00:00:00Z";
const TO: &str = "2026-09-21T23:59:59Z";

/// `sql` with Grafana's PostgreSQL macros expanded for [`FROM`]..[`TO`] the
/// way Grafana does, and each `$name` of `variables` replaced by its
/// values, quoted and comma-separated (a multi-value variable in SQL).
fn expand(sql: &str, variables: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("$__timeFilter(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "$__timeFilter(".len()..];
        let end = after.find(')').expect("a closed $__timeFilter(");
        out.push_str(&format!("{} BETWEEN '{FROM}' AND '{TO}'", &after[..end]));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let mut out = out
        .replace("$__timeFrom()", &format!("'{FROM}'"))
        .replace("$__timeTo()", &format!("'{TO}'"));
    // Longest names first: `$agent` must not eat a `$agents`.
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        let values = variables[name]
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(",");
        out = out.replace(&format!("${name}"), &values);
    }
    assert!(!out.contains('$'), "a macro or variable left: {out}");
    out
}

/// The `spend` of the rows of `sql` summed, by the column `key` (or all
/// together under ""), by psql.
fn sum_of_spend(cluster: &Cluster, sql: &str, key: Option<&str>) -> BTreeMap<String, f64> {
    let key = key.map_or("''".to_string(), |k| format!("p.{k}::text"));
    let text = cluster.sql(&format!(
        "SELECT k || '|' || to_char(s, 'FM0.000000000000') FROM (
             SELECT {key} AS k, sum(p.spend) AS s FROM ({sql}) AS p GROUP BY 1) AS g"
    ));
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once('|').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn every_panel_of_the_grafana_dashboard_runs_on_the_central_schema_and_sums_right() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/team.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("deploy/grafana/team.json is JSON");
    // The data source is chosen at import; every query names it.
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_HOOKMETER");
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 6);
    for p in panels {
        assert_eq!(p["datasource"]["uid"], "${DS_HOOKMETER}", "{}", p["title"]);
    }
    let Some(cluster) = Cluster::start() else {
        return;
    };
    two_machines(&cluster);

    let in_range = format!("ts BETWEEN '{FROM}' AND '{TO}'");
    let total: f64 = cluster
        .sql(&format!(
            "SELECT sum(estimated_cost_usd) FROM hookmeter.cost_records WHERE {in_range}"
        ))
        .parse()
        .unwrap();
    let per_user = sql_groups(&cluster, &["user_name"], &in_range);
    let sessions: f64 = cluster
        .sql(&format!(
            "SELECT sum(c) FROM (SELECT max(ts) AS ts, sum(estimated_cost_usd) AS c
             FROM hookmeter.cost_records WHERE session_id IS NOT NULL
             GROUP BY machine_id, session_id) AS s WHERE {in_range}"
        ))
        .parse()
        .unwrap();

    // The variables as Grafana fills them, "All" selected: their own queries.
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in dashboard["templating"]["list"].as_array().unwrap() {
        let sql = expand(v["query"].as_str().unwrap(), &BTreeMap::new());
        let values: Vec<String> = cluster.sql(&sql).lines().map(str::to_string).collect();
        assert!(!values.is_empty(), "{sql}");
        all.insert(v["name"].as_str().unwrap().to_string(), values);
    }
    assert_eq!(all["user"], ["ann", "bob"]);
    let mut only_ann = all.clone();
    only_ann.insert("user".into(), vec!["ann".into()]);

    let mut checked = 0;
    for p in panels {
        let title = p["title"].as_str().unwrap();
        for t in p["targets"].as_array().unwrap() {
            let raw = t["rawSql"].as_str().unwrap();
            let sql = expand(raw, &all);
            let got = sum_of_spend(&cluster, &sql, None)[""];
            let want = if title == "Top sessions" {
                sessions
            } else {
                total
            };
            assert!(
                (got - want).abs() < 1e-9,
                "{title}: {got} against {want}\n{sql}"
            );
            // Narrowed to one person: that person's records alone.
            let got = sum_of_spend(&cluster, &expand(raw, &only_ann), None)[""];
            if title != "Top sessions" {
                let want = per_user["ann"].1;
                assert!(
                    (got - want).abs() < 1e-9,
                    "{title} for ann: {got} against {want}"
                );
            }
            checked += 1;
        }
        if title == "Spend per person" {
            let sql = expand(p["targets"][0]["rawSql"].as_str().unwrap(), &all);
            let got = sum_of_spend(&cluster, &sql, Some("person"));
            assert_eq!(got.len(), per_user.len(), "{got:?}");
            for (user, (_, cost)) in &per_user {
                assert!((got[user] - cost).abs() < 1e-9, "{user}: {got:?}");
            }
        }
    }
    assert_eq!(checked, panels.len());
}
