//! doctor's look at the push (docs/push.md): is it configured, does the
//! server answer, is its central schema there and current, how far behind
//! is this machine? [`look`] connects once (with a short timeout) and reads
//! the local push state read-only into plain [`Facts`]; [`assess`] is pure.
//! The URL is only ever shown redacted.

use std::time::Duration;

use super::doctor::Status;
use crate::config::Config;
use crate::query::push::PushState;
use crate::store::central::CENTRAL_VERSION;

/// How long doctor waits for the server.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Facts {
    /// The push URL, redacted; `None` when the push is off.
    pub url: Option<String>,
    pub server: Server,
    /// The local database's push state; `Err` when it cannot be read.
    pub local: Result<PushState, String>,
}

/// What the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// Not asked: why (the push is off).
    NotAsked,
    /// The settings cannot be used (bad URL, unreadable password file).
    Unusable(String),
    /// No connection: why.
    Unreachable(String),
    /// Connected: the central schema's version (`None`: not created).
    Reached { version: Option<i32> },
}

pub fn look(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Facts {
    let url = config.push.url.as_ref().map(|u| u.redacted());
    let local = match config.db.exists() {
        false => Ok(PushState::default()),
        // As doctor's other looks: no -wal or -shm file left behind.
        true => super::doctor::open_quietly(&config.db)
            .map_err(|e| e.to_string())
            .and_then(|conn| crate::query::push::push_state(&conn).map_err(|e| e.to_string())),
    };
    let server = match url {
        None => Server::NotAsked,
        Some(_) => match crate::push::Target::resolve(&config.push, env) {
            Err(e) => Server::Unusable(e),
            Ok(target) => probe(&target),
        },
    };
    Facts { url, server, local }
}

fn probe(target: &crate::push::Target) -> Server {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Server::Unreachable(format!("cannot start a runtime: {e}")),
    };
    runtime.block_on(async {
        let asked = async {
            let client = target.connect().await.map_err(Server::Unreachable)?;
            crate::store::central::version(&client)
                .await
                .map(|version| Server::Reached { version })
                .map_err(|e| Server::Unreachable(e.to_string()))
        };
        match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
            Ok(Ok(server)) | Ok(Err(server)) => server,
            Err(_) => Server::Unreachable(format!(
                "no answer from {} within {} s",
                target.server(),
                PROBE_TIMEOUT.as_secs()
            )),
        }
    })
}

/// The `push` check: status, finding, fix.
pub fn assess(facts: &Facts) -> (Status, String, Option<String>) {
    let Some(url) = &facts.url else {
        return (
            Status::Ok,
            "the push is off ([push] postgres and HOOKMETER_PUSH_URL are not set)".into(),
            None,
        );
    };
    let local = match &facts.local {
        Ok(state) => {
            let last = state
                .last_success
                .as_deref()
                .map_or("never".to_string(), str::to_string);
            format!(
                "{} changes pending (cursor {}), last pushed {last}",
                state.pending, state.cursor
            )
        }
        Err(e) => format!("the local push state cannot be read: {e}"),
    };
    match &facts.server {
        Server::NotAsked => (Status::Ok, format!("{url}: {local}"), None),
        Server::Unusable(e) => (
            Status::Fail,
            format!("{url}: {e}"),
            Some("fix [push] in the config file (docs/push.md#setup)".into()),
        ),
        Server::Unreachable(e) => (
            Status::Warn,
            format!("{url} does not answer: {e}; {local}"),
            Some(
                "records wait locally and are pushed once it answers; check the server, the port and the credentials (`hookmeter push --status`)"
                    .into(),
            ),
        ),
        Server::Reached { version: None } => (
            Status::Fail,
            format!("{url} answers but has no central schema; {local}"),
            Some("run `hookmeter push --init` once".into()),
        ),
        Server::Reached {
            version: Some(found),
        } if *found > CENTRAL_VERSION => (
            Status::Fail,
            format!(
                "{url} has central schema version {found}, newer than this hookmeter's {CENTRAL_VERSION}"
            ),
            Some("upgrade hookmeter on this machine".into()),
        ),
        Server::Reached {
            version: Some(found),
        } => {
            let failing = facts
                .local
                .as_ref()
                .ok()
                .and_then(|s| s.last_error.clone());
            match failing {
                Some(error) => (
                    Status::Warn,
                    format!("{url} answers (central schema version {found}) but the last push failed: {error}; {local}"),
                    Some("see the daemon's log; `hookmeter push --once` pushes by hand and says why it cannot".into()),
                ),
                None => (
                    Status::Ok,
                    format!("{url} answers, central schema version {found}; {local}"),
                    None,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(server: Server, last_error: Option<&str>) -> Facts {
        Facts {
            url: Some("postgres://a:***@h/d".into()),
            server,
            local: Ok(PushState {
                pending: 3,
                last_error: last_error.map(str::to_string),
                ..PushState::default()
            }),
        }
    }

    #[test]
    fn each_state_of_the_push_has_its_status_and_fix() {
        let off = Facts {
            url: None,
            server: Server::NotAsked,
            local: Ok(PushState::default()),
        };
        assert_eq!(assess(&off).0, Status::Ok);
        let cases = [
            (
                facts(Server::Reached { version: Some(1) }, None),
                Status::Ok,
            ),
            (
                facts(Server::Reached { version: Some(1) }, Some("t boom")),
                Status::Warn,
            ),
            (facts(Server::Reached { version: None }, None), Status::Fail),
            (
                facts(Server::Reached { version: Some(99) }, None),
                Status::Fail,
            ),
            (
                facts(Server::Unreachable("refused".into()), None),
                Status::Warn,
            ),
            (facts(Server::Unusable("bad".into()), None), Status::Fail),
        ];
        for (facts, want) in cases {
            let (status, finding, fix) = assess(&facts);
            assert_eq!(status, want, "{finding}");
            assert_eq!(fix.is_none(), want == Status::Ok, "{finding}");
            if !matches!(facts.server, Server::Unusable(_)) && want != Status::Fail {
                assert!(finding.contains("3 changes pending"), "{finding}");
            }
        }
    }
}
