//! The config file's `[alerts]` table and `[[budgets]]` entries, resolved
//! into [`AlertSettings`] and [`Budget`]s. Only the config file sets them.

use std::path::Path;
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::{ConfigError, Precedence};
use hookmeter_core::terms::{Budget, PlanWindow, Scope};

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAlerts {
    thresholds: Option<Vec<f64>>,
    tz: Option<String>,
    check_secs: Option<u64>,
    command: Option<Vec<String>>,
    command_timeout_secs: Option<u64>,
    deliver_for_secs: Option<u64>,
    redeliver_ms: Option<u64>,
    redeliver_max_ms: Option<u64>,
    webhook: Option<FileWebhook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    url: String,
    timeout_secs: Option<u64>,
    retries: Option<u32>,
    backoff_ms: Option<u64>,
}

/// One `[[budgets]]` entry: a scope and one or more periods' limits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBudget {
    scope: Option<String>,
    daily: Option<f64>,
    weekly: Option<f64>,
    monthly: Option<f64>,
    total: Option<f64>,
    /// A plan window (`five_hour`, `seven_day`) instead of dollar periods.
    plan: Option<String>,
    /// With `plan`: the use, in percent, that alerts.
    at: Option<f64>,
    #[serde(default)]
    enforce: bool,
}

/// When budgets alert, in which calendar, and who hears about it.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Percentages of a limit that alert, ascending (default 80 and 100).
    pub thresholds_pct: Vec<f64>,
    /// The calendar of daily, weekly and monthly budgets.
    pub tz: TimeZone,
    /// The zone's name as configured; `None` is the system's zone.
    pub tz_name: Option<String>,
    /// How often spend is checked with no new records (budgets changed by
    /// `budget set`, periods rolling over); new records trigger a check too.
    pub check_interval: Duration,
    pub webhook: Option<Webhook>,
    /// Program and arguments run once per alert, details in its environment.
    pub command: Option<Vec<String>>,
    /// A command still running after this is killed.
    pub command_timeout: Duration,
    /// An alert not delivered this long after it fired is given up.
    pub deliver_for: Duration,
    /// The wait before an undelivered alert is tried again, doubled after
    /// each failed try up to `redeliver_max` (with jitter, so receivers
    /// coming back are not hit by every daemon at once).
    pub redeliver: Duration,
    pub redeliver_max: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            thresholds_pct: vec![80.0, 100.0],
            tz: TimeZone::system(),
            tz_name: None,
            check_interval: Duration::from_secs(10),
            webhook: None,
            command: None,
            command_timeout: Duration::from_secs(30),
            deliver_for: Duration::from_secs(24 * 3600),
            redeliver: Duration::from_secs(30),
            redeliver_max: Duration::from_secs(3600),
        }
    }
}

/// Where alerts are POSTed, as `{"text": …}` (Slack's incoming webhooks and
/// the many receivers that copy them).
#[derive(Clone)]
pub struct Webhook {
    /// A Slack webhook URL is a credential: never logged or shown.
    pub url: String,
    /// Bound on one attempt, connection included.
    pub timeout: Duration,
    /// Further attempts after a failed one.
    pub retries: u32,
    /// Wait before the first retry, doubled before each next one.
    pub backoff: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

pub(super) fn resolve(
    pick: &mut Precedence,
    file: FileAlerts,
    budgets: Vec<FileBudget>,
    path: &Path,
) -> Result<(AlertSettings, Vec<Budget>), ConfigError> {
    let invalid = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let defaults = AlertSettings::default();
    let thresholds_pct = match pick.file_only("alerts.thresholds", file.thresholds) {
        Some(mut pct) => {
            if pct.is_empty() || pct.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
                return Err(invalid(
                    "alerts.thresholds must be percentages above 0, e.g. [80, 100]".into(),
                ));
            }
            pct.sort_by(f64::total_cmp);
            pct.dedup();
            pct
        }
        None => defaults.thresholds_pct,
    };
    let tz_name = pick.file_only("alerts.tz", file.tz);
    let tz = match &tz_name {
        Some(name) => TimeZone::get(name)
            .map_err(|_| invalid(format!("alerts.tz: unknown time zone {name:?}")))?,
        None => defaults.tz,
    };
    let check_interval = match pick.file_only("alerts.check_secs", file.check_secs) {
        Some(0) => return Err(invalid("alerts.check_secs must be at least 1".into())),
        Some(secs) => Duration::from_secs(secs),
        None => defaults.check_interval,
    };
    let command = match pick.file_only("alerts.command", file.command) {
        Some(argv) if argv.first().filter(|p| !p.trim().is_empty()).is_none() => {
            return Err(invalid(
                "alerts.command must name a program: [\"/path/to/program\", \"arg\", …]".into(),
            ))
        }
        other => other,
    };
    let command_timeout = pick
        .file_only("alerts.command_timeout_secs", file.command_timeout_secs)
        .map(Duration::from_secs)
        .unwrap_or(defaults.command_timeout);
    let deliver_for = match pick.file_only("alerts.deliver_for_secs", file.deliver_for_secs) {
        Some(0) => return Err(invalid("alerts.deliver_for_secs must be at least 1".into())),
        Some(secs) => Duration::from_secs(secs),
        None => defaults.deliver_for,
    };
    let redeliver = pick
        .file_only("alerts.redeliver_ms", file.redeliver_ms)
        .map(|ms| Duration::from_millis(ms.max(1)))
        .unwrap_or(defaults.redeliver);
    let redeliver_max = pick
        .file_only("alerts.redeliver_max_ms", file.redeliver_max_ms)
        .map(Duration::from_millis)
        .unwrap_or(defaults.redeliver_max)
        .max(redeliver);
    let webhook = match pick.file_only("alerts.webhook", file.webhook) {
        Some(hook) => {
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                return Err(invalid(
                    "alerts.webhook.url must be an http:// or https:// URL".into(),
                ));
            }
            Some(Webhook {
                url: hook.url,
                timeout: Duration::from_secs(hook.timeout_secs.unwrap_or(5).max(1)),
                retries: hook.retries.unwrap_or(3),
                backoff: Duration::from_millis(hook.backoff_ms.unwrap_or(1000)),
            })
        }
        None => None,
    };
    let settings = AlertSettings {
        thresholds_pct,
        tz,
        tz_name,
        check_interval,
        webhook,
        command,
        command_timeout,
        deliver_for,
        redeliver,
        redeliver_max,
    };

    pick.file_only("budgets", (!budgets.is_empty()).then_some(()));
    let mut resolved: Vec<Budget> = Vec::new();
    for (i, entry) in budgets.into_iter().enumerate() {
        let n = i + 1;
        let scope = Scope::parse(entry.scope.as_deref())
            .map_err(|e| invalid(format!("budgets entry {n}: {e}")))?;
        let limits = [entry.daily, entry.weekly, entry.monthly, entry.total];
        let budgets = match (entry.plan.as_deref(), entry.at) {
            (Some(plan), Some(at)) if limits.iter().all(Option::is_none) => {
                let window = PlanWindow::parse(plan).ok_or_else(|| {
                    invalid(format!(
                        "budgets entry {n}: plan = {plan:?}: expected five_hour or seven_day"
                    ))
                })?;
                vec![Budget::plan(&scope, window, at, entry.enforce)]
            }
            (None, None) => Budget::per_period(&scope, limits, entry.enforce),
            _ => {
                return Err(invalid(format!(
                    "budgets entry {n}: a plan budget takes plan and at, and no dollar periods"
                )))
            }
        };
        if budgets.is_empty() {
            return Err(invalid(format!(
                "budgets entry {n}: give at least one of daily, weekly, monthly, total, or plan and at"
            )));
        }
        for budget in budgets {
            budget
                .check()
                .map_err(|e| invalid(format!("budgets entry {n}: {e}")))?;
            if resolved
                .iter()
                .any(|b| b.scope == budget.scope && b.period == budget.period)
            {
                return Err(invalid(format!(
                    "budgets entry {n}: a {} budget for {:?} is already set above",
                    budget.period.name(),
                    budget.scope.key()
                )));
            }
            resolved.push(budget);
        }
    }
    Ok((settings, resolved))
}
