//! Delivers budget alerts beyond the log line, at least once: a webhook
//! POST with a Slack-compatible `{"text": …}` body (plus the alert's `id`),
//! and a command with the details in its environment.
//!
//! The alerts to deliver are the `alerts` rows still `pending`: the watcher
//! records each with the message to send, then wakes this thread, which
//! reads them on its own connection, in the order they fired, and tries
//! each until every target took it. One that fails waits (backoff doubled
//! per try, capped, with jitter) and holds back the ones after it, so a
//! receiver sees them in order; one not delivered within
//! `alerts.deliver_for_secs` is given up. A restart resumes from the table.
//! This thread only does I/O: each outcome is stored by the writer thread.
//! It runs apart from ingestion and the budget checks, so a slow or dead
//! receiver delays only other alerts.

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use super::crossing::Crossing;
use crate::config::{AlertSettings, Webhook};
use crate::query::budgets::PendingAlert;
use crate::record::format_timestamp;
use crate::store::budgets::DeliveryOutcome;
use crate::store::writer::{WeakWriterHandle, WriterHandle};

/// Wake-ups and new settings waiting for the thread; more wake-ups than
/// this are the same as one.
const QUEUE: usize = 16;

/// How often a running alert command is polled for its exit.
const COMMAND_POLL: Duration = Duration::from_millis(20);

/// The wait after the alerts could not be read or an outcome not stored.
const STORE_RETRY: Duration = Duration::from_secs(5);

enum Message {
    /// New alerts were recorded.
    Wake,
    Reconfigure(Targets),
}

/// Where alerts go and for how long they are tried; changed by SIGHUP.
struct Targets {
    webhook: Option<Webhook>,
    command: Option<Vec<String>>,
    command_timeout: Duration,
    deliver_for: Duration,
    redeliver: Duration,
    redeliver_max: Duration,
}

impl Targets {
    fn from(settings: &AlertSettings) -> Targets {
        Targets {
            webhook: settings.webhook.clone(),
            command: settings.command.clone(),
            command_timeout: settings.command_timeout,
            deliver_for: settings.deliver_for,
            redeliver: settings.redeliver,
            redeliver_max: settings.redeliver_max,
        }
    }

    /// The wait after the `attempts`-th failed try (0 for the first):
    /// doubled each time, capped, then cut to a random 50–100 % of itself.
    fn backoff(&self, attempts: i64) -> Duration {
        let doubled = self
            .redeliver
            .saturating_mul(1u32 << attempts.clamp(0, 20) as u32)
            .min(self.redeliver_max);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let share = 0.5 + (random % 1000) as f64 / 2000.0;
        doubled.mul_f64(share)
    }
}

/// Whether alerts fired with `settings` have anywhere to go; those that do
/// not are recorded as logged only.
pub fn has_targets(settings: &AlertSettings) -> bool {
    settings.webhook.is_some() || settings.command.is_some()
}

/// What is recorded with an alert and sent for it: its sentence and the
/// command's environment, as JSON.
pub fn message(crossing: &Crossing, text: &str) -> String {
    let env: serde_json::Map<String, serde_json::Value> = alert_env(crossing, text)
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::json!({ "text": text, "env": env }).to_string()
}

/// The sending side; cheap to clone. The thread ends when every clone is gone.
#[derive(Clone)]
pub struct Notifier {
    tx: SyncSender<Message>,
}

impl Notifier {
    /// Starts the delivery thread, which delivers at once what earlier runs
    /// left pending. Call from within the runtime: the thread hands its
    /// outcomes to `writer` through it.
    pub fn spawn(
        settings: &AlertSettings,
        db: PathBuf,
        writer: WriterHandle,
    ) -> std::io::Result<Notifier> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let delivery = Delivery {
            rx,
            targets: Targets::from(settings),
            db,
            conn: None,
            writer: writer.downgrade(),
            runtime: tokio::runtime::Handle::current(),
            stopping: false,
        };
        std::thread::Builder::new()
            .name("hookmeter-notify".into())
            .spawn(move || delivery.run())?;
        Ok(Notifier { tx })
    }

    /// New alerts are recorded: deliver them; never waits.
    pub fn wake(&self) {
        // Full means a wake-up is waiting already.
        let _ = self.tx.try_send(Message::Wake);
    }

    /// New webhook and command settings, for the tries after this.
    pub fn reconfigure(&self, settings: &AlertSettings) {
        // Waiting here is fine: only SIGHUP handling calls this.
        let _ = self.tx.send(Message::Reconfigure(Targets::from(settings)));
    }
}

/// The delivery thread's state.
struct Delivery {
    rx: Receiver<Message>,
    targets: Targets,
    db: PathBuf,
    /// Its own read connection, opened on first use.
    conn: Option<Connection>,
    /// Stores every outcome: this thread never writes. Weak, so that a
    /// receiver hanging at shutdown does not hold the writer up.
    writer: WeakWriterHandle,
    runtime: tokio::runtime::Handle,
    /// Every [`Notifier`] is gone: the daemon is stopping.
    stopping: bool,
}

impl Delivery {
    fn run(mut self) {
        loop {
            let wait = match self.pass() {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot go through the alerts to deliver; trying again shortly.");
                    Some(STORE_RETRY)
                }
            };
            if self.stopping {
                return;
            }
            let message = match wait {
                Some(wait) => self.rx.recv_timeout(wait),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match message {
                Ok(Message::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Message::Reconfigure(new)) => self.targets = new,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Waits `wait` unless the daemon stops first (then `false`); settings
    /// that arrive meanwhile are kept for the next try.
    fn pause(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.rx.recv_timeout(left) {
                Ok(Message::Wake) => {}
                Ok(Message::Reconfigure(new)) => self.targets = new,
                Err(RecvTimeoutError::Timeout) => return true,
                Err(RecvTimeoutError::Disconnected) => {
                    self.stopping = true;
                    return false;
                }
            }
        }
    }

    /// Goes through the pending alerts in order: gives up the expired ones,
    /// tries the others until one fails or is not due yet. Returns how long
    /// until the next is due (`None`: nothing pending).
    fn pass(&mut self) -> Result<Option<Duration>, String> {
        let pending = self.pending()?;
        for alert in pending {
            let now = Timestamp::now();
            let fired: Timestamp = alert.fired_at.parse().unwrap_or(now);
            let deliver_for =
                SignedDuration::try_from(self.targets.deliver_for).unwrap_or(SignedDuration::MAX);
            let expires = fired.saturating_add(deliver_for).unwrap_or(Timestamp::MAX);
            if now >= expires {
                let reason = format!(
                    "not delivered within {} s (alerts.deliver_for_secs) after {} attempt(s); last error: {}",
                    self.targets.deliver_for.as_secs(),
                    alert.attempts,
                    alert.last_error.as_deref().unwrap_or("none")
                );
                tracing::error!(alert_id = alert.id, reason = %reason, "A budget alert was given up: it is only in the log and the alerts table.");
                self.store(alert.id, now, false, DeliveryOutcome::GivenUp { reason })?;
                continue;
            }
            let next: Option<Timestamp> = alert
                .next_attempt_at
                .as_deref()
                .and_then(|t| t.parse().ok());
            if let Some(next) = next.filter(|&next| next > now) {
                return Ok(Some(until(next.min(expires), now)));
            }
            if self.targets.webhook.is_none() && self.targets.command.is_none() {
                let reason = "no webhook or command is configured any more".to_string();
                self.store(alert.id, now, false, DeliveryOutcome::GivenUp { reason })?;
                continue;
            }
            let outcome = match self.deliver(&alert) {
                Ok(()) => DeliveryOutcome::Delivered,
                Err(error) => {
                    let next = now
                        .saturating_add(
                            SignedDuration::try_from(self.targets.backoff(alert.attempts))
                                .unwrap_or(SignedDuration::MAX),
                        )
                        .unwrap_or(Timestamp::MAX);
                    tracing::warn!(alert_id = alert.id, error = %error, retry_at = %format_timestamp(next), "A budget alert could not be delivered; it will be tried again.");
                    DeliveryOutcome::Failed { error, next }
                }
            };
            let wait = match &outcome {
                DeliveryOutcome::Failed { next, .. } => Some(until((*next).min(expires), now)),
                _ => None,
            };
            self.store(alert.id, Timestamp::now(), true, outcome)?;
            if self.stopping {
                return Ok(None);
            }
            if wait.is_some() {
                return Ok(wait);
            }
        }
        Ok(None)
    }

    fn pending(&mut self) -> Result<Vec<PendingAlert>, String> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => crate::store::open_reader(&self.db).map_err(|e| e.to_string())?,
        };
        let pending = crate::query::budgets::pending_alerts(&conn).map_err(|e| e.to_string());
        self.conn = Some(conn);
        pending
    }

    /// Hands an outcome to the writer and waits until it is stored.
    fn store(
        &self,
        id: i64,
        now: Timestamp,
        attempted: bool,
        outcome: DeliveryOutcome,
    ) -> Result<(), String> {
        let writer = self
            .writer
            .upgrade()
            .ok_or("cannot store an alert's delivery: the daemon is stopping")?;
        let write = writer.run(move |conn| {
            crate::store::budgets::record_delivery(conn, id, now, attempted, &outcome)
        });
        let stored = self.runtime.block_on(write);
        drop(writer);
        match stored {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot store an alert's delivery: {e}")),
            Err(e) => Err(format!("cannot store an alert's delivery: {e}")),
        }
    }

    /// Sends `alert` to the webhook, then runs the command; `Ok` once both
    /// (those configured) took it.
    fn deliver(&mut self, alert: &PendingAlert) -> Result<(), String> {
        let recorded: serde_json::Value = serde_json::from_str(&alert.message).unwrap_or_default();
        let text = recorded["text"].as_str().unwrap_or_default().to_string();
        let mut env: Vec<(String, String)> = recorded["env"]
            .as_object()
            .map(|env| {
                env.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        env.push(("HOOKMETER_ALERT_ID".into(), alert.id.to_string()));
        if let Some(hook) = self.targets.webhook.clone() {
            let body = serde_json::json!({ "text": text, "id": alert.id }).to_string();
            self.post(&hook, &body)
                .map_err(|e| format!("the webhook failed: {e}"))?;
        }
        if let Some(argv) = self.targets.command.clone() {
            run_command(&argv, &env, self.targets.command_timeout)
                .map_err(|e| format!("the command {} failed: {e}", argv[0]))?;
        }
        Ok(())
    }

    /// POSTs `body`; retries on a connection error, a timeout, a 5xx, 408
    /// or 429, waiting `backoff`, then twice as long each time.
    fn post(&mut self, hook: &Webhook, body: &str) -> Result<(), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(hook.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let mut wait = hook.backoff;
        let mut attempt = 0;
        loop {
            let failure = match agent
                .post(&hook.url)
                .header("Content-Type", "application/json")
                .send(body)
            {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match status {
                        200..=299 => return Ok(()),
                        408 | 429 | 500..=599 => format!("HTTP {status}"),
                        _ => return Err(format!("the receiver refused it: HTTP {status}")),
                    }
                }
                // The URL may be a credential: keep it out of the log and the table.
                Err(e) => e.to_string().replace(&hook.url, "<webhook url>"),
            };
            if attempt >= hook.retries {
                return Err(format!("{failure}, after {} attempt(s)", attempt + 1));
            }
            tracing::warn!(error = %failure, retry_in_ms = wait.as_millis() as u64, "The budget alert webhook failed; retrying.");
            if !self.pause(wait) {
                return Err(format!(
                    "{failure}; the daemon stopped before the next attempt"
                ));
            }
            wait = wait.saturating_mul(2);
            attempt += 1;
        }
    }
}

/// From `now` to `then`, at least a millisecond.
fn until(then: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now))
        .unwrap_or_default()
        .max(Duration::from_millis(1))
}

/// The environment an alert command gets (documented in docs/budgets.md#alerts).
fn alert_env(crossing: &Crossing, text: &str) -> Vec<(String, String)> {
    let ts = |t: Option<jiff::Timestamp>| t.map(format_timestamp).unwrap_or_default();
    let budget = &crossing.budget;
    [
        ("HOOKMETER_ALERT_TEXT", text.to_string()),
        ("HOOKMETER_ALERT_SCOPE", budget.scope.key()),
        ("HOOKMETER_ALERT_PERIOD", budget.period.name().to_string()),
        (
            "HOOKMETER_ALERT_THRESHOLD_PCT",
            crossing.threshold_pct.to_string(),
        ),
        ("HOOKMETER_ALERT_SPENT_USD", crossing.spent_usd.to_string()),
        ("HOOKMETER_ALERT_LIMIT_USD", budget.limit_usd.to_string()),
        ("HOOKMETER_ALERT_PERIOD_START", ts(crossing.period_start)),
        ("HOOKMETER_ALERT_PERIOD_END", ts(crossing.period_end)),
        (
            "HOOKMETER_ALERT_ENFORCED",
            if budget.enforce { "1" } else { "0" }.to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Runs the alert command with `env` added, no stdin, stdout discarded,
/// stderr to the daemon's log; kills it after `timeout`.
fn run_command(argv: &[String], env: &[(String, String)], timeout: Duration) -> Result<(), String> {
    let mut child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("it exited with {status}")),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "still running after {} s (alerts.command_timeout_secs); killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(COMMAND_POLL),
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_cap_and_is_cut_at_random_to_half_or_more() {
        let targets = Targets::from(&AlertSettings {
            redeliver: Duration::from_millis(100),
            redeliver_max: Duration::from_millis(1000),
            ..AlertSettings::default()
        });
        for (attempts, full) in [(0, 100), (1, 200), (3, 800), (4, 1000), (60, 1000)] {
            for _ in 0..50 {
                let wait = targets.backoff(attempts).as_millis();
                assert!(
                    (full / 2..=full).contains(&wait),
                    "attempt {attempts}: {wait} ms of {full}"
                );
            }
        }
    }
}
