//! The central PostgreSQL: its schema (`hookmeter push --init`) and the
//! statements the push runs there. One transaction per batch: the machine's
//! row, then the batch's changes in change order, upserts keeping the
//! larger change number and deletions by tombstone (docs/push.md).
//! Connecting (credentials, TLS) is the push's; nothing here opens a
//! connection.

use tokio_postgres::{Client, GenericClient};

use super::push::{Change, PushedRecord};

/// The version [`init`] brings the central schema to.
pub const CENTRAL_VERSION: i32 = 1;

/// Each step from the version before it; every statement is idempotent.
const STEPS: &[(i32, &str)] = &[(1, include_str!("0001_central.sql"))];

/// Any number: one `push --init` at a time per server, so two machines
/// creating the schema at once do not race.
const INIT_LOCK: i64 = 0x686f_6f6b_6d65_7472;

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error("the central schema has version {found}, newer than this hookmeter ({CENTRAL_VERSION}); upgrade hookmeter")]
    TooNew { found: i32 },
    #[error("the central schema is missing; run `hookmeter push --init` once")]
    Missing,
    #[error("{}", postgres_reason(.0))]
    Postgres(#[from] tokio_postgres::Error),
}

/// A server error's own message (with its SQLSTATE), else the client's.
pub fn postgres_reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            // The client's message alone ("error performing TLS
            // handshake") hides the cause: name every layer.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

/// Creates or upgrades the central schema; returns the version found
/// before (0 for none) and the version now.
pub async fn init(client: &mut Client) -> Result<(i32, i32), CentralError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&INIT_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS hookmeter;
         CREATE TABLE IF NOT EXISTS hookmeter.schema_version (version integer NOT NULL);",
    )
    .await?;
    let found: i32 = tx
        .query_opt("SELECT max(version) FROM hookmeter.schema_version", &[])
        .await?
        .and_then(|row| row.get::<_, Option<i32>>(0))
        .unwrap_or(0);
    if found > CENTRAL_VERSION {
        return Err(CentralError::TooNew { found });
    }
    for (version, sql) in STEPS {
        if *version > found {
            tx.batch_execute(sql).await?;
        }
    }
    tx.execute("DELETE FROM hookmeter.schema_version", &[])
        .await?;
    tx.execute(
        "INSERT INTO hookmeter.schema_version (version) VALUES ($1)",
        &[&CENTRAL_VERSION],
    )
    .await?;
    tx.commit().await?;
    Ok((found, CENTRAL_VERSION))
}

/// The central schema's version; `None` when it was never created.
pub async fn version(client: &impl GenericClient) -> Result<Option<i32>, CentralError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('hookmeter.schema_version') IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client
        .query_one("SELECT max(version) FROM hookmeter.schema_version", &[])
        .await?
        .get(0))
}

/// Who the records of one local database are from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub id: String,
    pub host: String,
    pub user: String,
    /// `[push] labels` as a JSON object.
    pub labels: serde_json::Map<String, serde_json::Value>,
    pub version: String,
}

/// Pushes `changes` (in change order) in one transaction. Nothing of it
/// is kept unless it all commits; run again, it changes nothing more.
pub async fn push(
    client: &mut Client,
    machine: &Machine,
    changes: &[Change],
) -> Result<(), CentralError> {
    let tx = client.transaction().await?;
    match version(&tx).await? {
        None => return Err(CentralError::Missing),
        Some(found) if found > CENTRAL_VERSION => return Err(CentralError::TooNew { found }),
        Some(_) => {}
    }
    let labels = serde_json::Value::Object(machine.labels.clone()).to_string();
    tx.execute(
        "INSERT INTO hookmeter.machines (machine_id, host, user_name, labels, hookmeter_version)
         VALUES ($1, $2, $3, $4::text::jsonb, $5)
         ON CONFLICT (machine_id) DO UPDATE SET host = excluded.host,
             user_name = excluded.user_name, labels = excluded.labels,
             hookmeter_version = excluded.hookmeter_version, last_push = now()",
        &[
            &machine.id,
            &machine.host,
            &machine.user,
            &labels,
            &machine.version,
        ],
    )
    .await?;
    // Runs of one kind, in order: a deleted id that a later record reuses
    // is deleted before the new record arrives.
    let mut rest = changes;
    while let Some(first) = rest.first() {
        let deleting = matches!(first, Change::Delete { .. });
        let run = rest
            .iter()
            .take_while(|c| matches!(c, Change::Delete { .. }) == deleting)
            .count();
        let (now, later) = rest.split_at(run);
        if deleting {
            delete(&tx, machine, now).await?;
        } else {
            upsert(&tx, machine, now).await?;
        }
        rest = later;
    }
    tx.commit().await?;
    Ok(())
}

async fn delete(
    tx: &tokio_postgres::Transaction<'_>,
    machine: &Machine,
    changes: &[Change],
) -> Result<(), CentralError> {
    let (ids, revs): (Vec<i64>, Vec<i64>) = changes
        .iter()
        .filter_map(|c| match c {
            Change::Delete { local_id, rev } => Some((*local_id, *rev)),
            Change::Upsert(_) => None,
        })
        .unzip();
    tx.execute(
        "DELETE FROM hookmeter.cost_records c
         USING unnest($2::bigint[], $3::bigint[]) AS t(local_id, rev)
         WHERE c.machine_id = $1 AND c.local_id = t.local_id AND c.rev < t.rev",
        &[&machine.id, &ids, &revs],
    )
    .await?;
    Ok(())
}

/// A record's labels centrally: its own (a hook's) with the machine's
/// `[push] labels` over them.
fn labels_of(record: &PushedRecord, machine: &Machine) -> Option<String> {
    let mut labels = record
        .labels_json
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    labels.extend(machine.labels.clone());
    (!labels.is_empty()).then(|| serde_json::Value::Object(labels).to_string())
}

/// Inserts the records, or updates those already there whose change
/// number is lower: a record is never set back to an older snapshot.
async fn upsert(
    tx: &tokio_postgres::Transaction<'_>,
    machine: &Machine,
    changes: &[Change],
) -> Result<(), CentralError> {
    let records: Vec<&PushedRecord> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert(r) => Some(r.as_ref()),
            Change::Delete { .. } => None,
        })
        .collect();
    let col = |f: fn(&PushedRecord) -> i64| records.iter().map(|r| f(r)).collect::<Vec<_>>();
    let text =
        |f: fn(&PushedRecord) -> &str| records.iter().map(|r| f(r).to_string()).collect::<Vec<_>>();
    let opt = |f: fn(&PushedRecord) -> Option<&str>| {
        records
            .iter()
            .map(|r| f(r).map(str::to_string))
            .collect::<Vec<_>>()
    };
    let local_id = col(|r| r.local_id);
    let rev = col(|r| r.rev);
    let record_key = text(|r| &r.record_key);
    let ts = text(|r| &r.timestamp);
    let agent_id = text(|r| &r.agent_id);
    let session_id = opt(|r| r.session_id.as_deref());
    let task_id = opt(|r| r.task_id.as_deref());
    let project = opt(|r| r.project.as_deref());
    let git_branch = opt(|r| r.git_branch.as_deref());
    let prompt_id = opt(|r| r.prompt_id.as_deref());
    let provider = text(|r| &r.provider);
    let model = text(|r| &r.model);
    let model_key = opt(|r| r.model_key.as_deref());
    let tool_name = opt(|r| r.tool_name.as_deref());
    let source = text(|r| &r.source);
    let tokens: Vec<Vec<i64>> = (0..6)
        .map(|i| records.iter().map(|r| r.tokens[i]).collect())
        .collect();
    let cost: Vec<f64> = records.iter().map(|r| r.estimated_cost_usd).collect();
    let reported: Vec<Option<f64>> = records.iter().map(|r| r.reported_cost_usd).collect();
    let pricing_source = text(|r| &r.pricing_source);
    let labels: Vec<Option<String>> = records.iter().map(|r| labels_of(r, machine)).collect();
    tx.execute(
        "INSERT INTO hookmeter.cost_records (machine_id, local_id, rev, record_key, ts, user_name,
             host, agent_id, session_id, task_id, project, git_branch, prompt_id, provider, model,
             model_key, tool_name, source, input_tokens, output_tokens, cache_read_tokens,
             cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd,
             reported_cost_usd, pricing_source, labels)
         SELECT $1, t.local_id, t.rev, t.record_key, t.ts::timestamptz, $2, $3, t.agent_id,
             t.session_id, t.task_id, t.project, t.git_branch, t.prompt_id, t.provider, t.model,
             t.model_key, t.tool_name, t.source, t.input, t.output, t.cache_read, t.cache_write,
             t.cache_write_1h, t.reasoning, t.cost, t.reported, t.pricing_source, t.labels::jsonb
         FROM unnest($4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
             $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
             $15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[], $20::bigint[],
             $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[],
             $25::float8[], $26::float8[], $27::text[], $28::text[])
             AS t(local_id, rev, record_key, ts, agent_id, session_id, task_id, project,
                  git_branch, prompt_id, provider, model, model_key, tool_name, source, input,
                  output, cache_read, cache_write, cache_write_1h, reasoning, cost, reported,
                  pricing_source, labels)
         ON CONFLICT (machine_id, local_id) DO UPDATE SET rev = excluded.rev,
             record_key = excluded.record_key, ts = excluded.ts, user_name = excluded.user_name,
             host = excluded.host, agent_id = excluded.agent_id, session_id = excluded.session_id,
             task_id = excluded.task_id, project = excluded.project,
             git_branch = excluded.git_branch, prompt_id = excluded.prompt_id,
             provider = excluded.provider, model = excluded.model, model_key = excluded.model_key,
             tool_name = excluded.tool_name, source = excluded.source,
             input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
             cache_read_tokens = excluded.cache_read_tokens,
             cache_write_tokens = excluded.cache_write_tokens,
             cache_write_1h_tokens = excluded.cache_write_1h_tokens,
             reasoning_tokens = excluded.reasoning_tokens,
             estimated_cost_usd = excluded.estimated_cost_usd,
             reported_cost_usd = excluded.reported_cost_usd,
             pricing_source = excluded.pricing_source, labels = excluded.labels,
             pushed_at = now()
         WHERE hookmeter.cost_records.rev < excluded.rev",
        &[
            &machine.id,
            &machine.user,
            &machine.host,
            &local_id,
            &rev,
            &record_key,
            &ts,
            &agent_id,
            &session_id,
            &task_id,
            &project,
            &git_branch,
            &prompt_id,
            &provider,
            &model,
            &model_key,
            &tool_name,
            &source,
            &tokens[0],
            &tokens[1],
            &tokens[2],
            &tokens[3],
            &tokens[4],
            &tokens[5],
            &cost,
            &reported,
            &pricing_source,
            &labels,
        ],
    )
    .await?;
    Ok(())
}
