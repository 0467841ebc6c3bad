//! Delivers budget alerts beyond the log line: a webhook POST with a
//! Slack-compatible `{"text": …}` body, and a command with the details in
//! its environment. Both run on one thread of their own, fed by a bounded
//! queue, so a slow or dead receiver delays only other alerts, never
//! ingestion or the budget checks.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use super::crossing::Crossing;
use crate::config::{AlertSettings, Webhook};
use crate::record::format_timestamp;

/// Alerts waiting for delivery. Past this, new ones are only logged (they
/// are recorded in the `alerts` table either way).
const QUEUE: usize = 256;

/// How often a running alert command is polled for its exit.
const COMMAND_POLL: Duration = Duration::from_millis(20);

enum Message {
    Alert {
        text: String,
        env: Vec<(String, String)>,
    },
    Reconfigure(Targets),
}

/// Where alerts go; changed by SIGHUP.
struct Targets {
    webhook: Option<Webhook>,
    command: Option<Vec<String>>,
    command_timeout: Duration,
}

impl Targets {
    fn from(settings: &AlertSettings) -> Targets {
        Targets {
            webhook: settings.webhook.clone(),
            command: settings.command.clone(),
            command_timeout: settings.command_timeout,
        }
    }
}

/// The sending side; cheap to clone. The thread ends when every clone is gone.
#[derive(Clone)]
pub struct Notifier {
    tx: SyncSender<Message>,
}

impl Notifier {
    /// Starts the delivery thread.
    pub fn spawn(settings: &AlertSettings) -> std::io::Result<Notifier> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let targets = Targets::from(settings);
        std::thread::Builder::new()
            .name("hookmeter-notify".into())
            .spawn(move || deliver_all(rx, targets))?;
        Ok(Notifier { tx })
    }

    /// Queues `crossing` for the webhook and the command, if any; never waits.
    pub fn alert(&self, crossing: &Crossing, text: String) {
        let env = alert_env(crossing, &text);
        match self.tx.try_send(Message::Alert { text, env }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => tracing::warn!(
                "Too many budget alerts waiting for delivery; this one is only logged and recorded."
            ),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// New webhook and command settings, for alerts queued after this.
    pub fn reconfigure(&self, settings: &AlertSettings) {
        // Waiting here is fine: only SIGHUP handling calls this.
        let _ = self.tx.send(Message::Reconfigure(Targets::from(settings)));
    }
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

fn deliver_all(rx: Receiver<Message>, mut targets: Targets) {
    while let Ok(message) = rx.recv() {
        match message {
            Message::Reconfigure(new) => targets = new,
            Message::Alert { text, env } => {
                if let Some(hook) = &targets.webhook {
                    if let Err(e) = post(hook, &text) {
                        tracing::error!(error = %e, "The budget alert webhook failed; the alert is in the log and the alerts table.");
                    }
                }
                if let Some(argv) = &targets.command {
                    if let Err(e) = run_command(argv, &env, targets.command_timeout) {
                        tracing::error!(error = %e, program = %argv[0], "The budget alert command failed.");
                    }
                }
            }
        }
    }
}

/// POSTs `{"text": text}`; retries on a connection error, a timeout, a 5xx,
/// 408 or 429, waiting `backoff`, then twice as long each time.
fn post(hook: &Webhook, text: &str) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(hook.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let body = serde_json::json!({ "text": text }).to_string();
    let mut wait = hook.backoff;
    let mut attempt = 0;
    loop {
        let failure = match agent
            .post(&hook.url)
            .header("Content-Type", "application/json")
            .send(body.as_str())
        {
            Ok(response) => {
                let status = response.status().as_u16();
                match status {
                    200..=299 => return Ok(()),
                    408 | 429 | 500..=599 => format!("HTTP {status}"),
                    _ => return Err(format!("the receiver refused it: HTTP {status}")),
                }
            }
            // The URL may be a credential: keep it out of the log.
            Err(e) => e.to_string().replace(&hook.url, "<webhook url>"),
        };
        if attempt >= hook.retries {
            return Err(format!("{failure}, after {} attempt(s)", attempt + 1));
        }
        tracing::warn!(error = %failure, retry_in_ms = wait.as_millis() as u64, "The budget alert webhook failed; retrying.");
        std::thread::sleep(wait);
        wait = wait.saturating_mul(2);
        attempt += 1;
    }
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
