//! `hookmeter push --init | --once | --status`: the push run by hand, by
//! cron or by a CI runner, on its own connections (a running daemon may
//! push at the same time: the cursor only moves forward and a change sent
//! twice changes nothing centrally).

use rusqlite::Connection;

use super::{connect, machine, push_pending, Local, PushError, Target};
use crate::config::Config;
use crate::query::push::Change;
use crate::store::central;

/// What `hookmeter push` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Init,
    Once,
    Status { json: bool },
}

/// Runs `action`; the text to print, or the one-line reason it failed.
pub fn run(config: &Config, action: Action) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let env = |var: &str| std::env::var(var).ok();
    match action {
        Action::Init => runtime.block_on(init(config, &env)),
        Action::Once => runtime.block_on(once(config, &env)),
        Action::Status { json } => runtime.block_on(status(config, &env, json)),
    }
}

fn target(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<Target, String> {
    Target::resolve(&config.push, env)
}

async fn init(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let target = target(config, env)?;
    let mut client = connect(&target).await.map_err(|e| e.to_string())?;
    let (before, now) = central::init(&mut client)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match before {
        0 => format!(
            "Created the central schema hookmeter (version {now}) on {}.\n",
            target.server()
        ),
        b if b == now => format!(
            "The central schema hookmeter on {} is up to date (version {now}).\n",
            target.server()
        ),
        b => format!(
            "Upgraded the central schema hookmeter on {} from version {b} to {now}.\n",
            target.server()
        ),
    })
}

/// The command's local side: the write connection it opened.
struct CliLocal {
    conn: Connection,
}

impl Local for CliLocal {
    async fn changes(&mut self, cursor: i64, limit: usize) -> Result<Vec<Change>, PushError> {
        crate::query::push::changes_after(&self.conn, cursor, limit)
            .map_err(|e| PushError::Local(e.to_string()))
    }

    async fn advance(&mut self, rev: i64) -> Result<(), PushError> {
        let at = jiff::Timestamp::now().to_string();
        crate::store::push::advance_cursor(&mut self.conn, rev, &at)
            .map_err(|e| PushError::Local(e.to_string()))
    }
}

async fn once(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let target = target(config, env)?;
    let conn =
        crate::store::open_writer(&config.db, config.durability).map_err(|e| e.to_string())?;
    let id = crate::store::push::machine_id(&conn).map_err(|e| e.to_string())?;
    let cursor = crate::query::push::push_state(&conn)
        .map_err(|e| e.to_string())?
        .cursor;
    let machine = machine(&config.push, id);
    let mut local = CliLocal { conn };
    let outcome = async {
        let mut client = connect(&target).await?;
        push_pending(
            &mut client,
            &machine,
            &mut local,
            cursor,
            config.push.batch,
            None,
            None,
        )
        .await
    }
    .await;
    match outcome {
        Ok((sent, reached)) => Ok(format!(
            "Pushed {sent} changes to {}; the cursor is at {reached}.\n",
            target.server()
        )),
        Err(e) => {
            let at = jiff::Timestamp::now().to_string();
            let _ = crate::store::push::note_failure(&local.conn, &at, &e.to_string());
            Err(format!("push failed ({}): {e}", e.reason()))
        }
    }
}

async fn status(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    json: bool,
) -> Result<String, String> {
    let state = if config.db.exists() {
        let conn = crate::store::open_reader(&config.db).map_err(|e| e.to_string())?;
        crate::query::push::push_state(&conn).map_err(|e| {
            format!(
                "cannot read the push state of {}: {e} (a daemon of this version opens it first)",
                config.db.display()
            )
        })?
    } else {
        Default::default()
    };
    let url = config.push.url.as_ref().map(|u| u.redacted());
    // Reachability: cheap, and what a user running --status wants to know.
    let server = match target(config, env) {
        Err(e) if url.is_some() => Err(e),
        Err(_) => Err("not configured".to_string()),
        Ok(target) => match connect(&target).await {
            Err(e) => Err(e.to_string()),
            Ok(client) => match central::version(&client).await {
                Ok(Some(v)) => Ok(format!("reachable, central schema version {v}")),
                Ok(None) => Ok("reachable, no central schema (run `hookmeter push --init`)".into()),
                Err(e) => Err(e.to_string()),
            },
        },
    };
    if json {
        let value = serde_json::json!({
            "url": url,
            "machine_id": state.machine_id,
            "cursor": state.cursor,
            "pending": state.pending,
            "last_success": state.last_success,
            "last_error": state.last_error,
            "server": match &server { Ok(s) => serde_json::json!({"ok": true, "detail": s}), Err(e) => serde_json::json!({"ok": false, "detail": e}) },
        });
        return Ok(format!("{value:#}\n"));
    }
    let none = || "-".to_string();
    let rows = [
        ("push", url.unwrap_or_else(|| "off".into())),
        (
            "machine",
            state.machine_id.unwrap_or_else(|| "(none yet)".into()),
        ),
        ("cursor", state.cursor.to_string()),
        ("pending", state.pending.to_string()),
        ("last success", state.last_success.unwrap_or_else(none)),
        ("last error", state.last_error.unwrap_or_else(none)),
        (
            "server",
            match server {
                Ok(s) => s,
                Err(e) => format!("unreachable: {e}"),
            },
        ),
    ];
    Ok(rows.iter().map(|(k, v)| format!("{k:<13}{v}\n")).collect())
}
