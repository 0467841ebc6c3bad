//! A threshold of a budget reached in one of its periods: what
//! [`super::alerts`] finds and records and [`super::notify`] delivers. Its
//! own module so that the two share it without importing each other.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{Budget, Period};
use crate::present::MoneySet;
use crate::record::format_timestamp;
use crate::store::budgets::AlertKey;

/// A threshold of a budget reached in one of its periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub budget: Budget,
    /// `None` for a total budget.
    pub period_start: Option<Timestamp>,
    pub period_end: Option<Timestamp>,
    /// Percent of the limit: 80 is 80 %. Always 100 for a plan budget,
    /// whose limit is itself the alert percentage.
    pub threshold_pct: f64,
    /// Dollars; for a plan budget the window's use in percent.
    pub spent_usd: f64,
}

impl Crossing {
    /// The alert as one sentence, times in the budgets' zone.
    pub fn text(&self, now: Timestamp, tz: &TimeZone) -> String {
        let scope = match self.budget.scope.key() {
            key if key.is_empty() => "everything".to_string(),
            key => key,
        };
        let when = match self.period_end {
            None => String::new(),
            Some(end) => {
                let shown = crate::present::time::instant(end, tz);
                match end <= now {
                    true => format!(" (period ended {shown})"),
                    false => format!(" (period ends {shown})"),
                }
            }
        };
        if let Period::Plan(window) = self.budget.period {
            let resets = match self.period_end {
                Some(end) if end <= now => {
                    format!(", reset at {}", crate::present::time::instant(end, tz))
                }
                Some(end) => format!(", resets at {}", crate::present::time::instant(end, tz)),
                None => String::new(),
            };
            return format!(
                "hookmeter: the {} plan window of {scope} is at {:.0}% (alert at {:.0}%){resets}.",
                window.label(),
                self.spent_usd,
                self.budget.limit_usd
            );
        }
        let money = MoneySet::of([self.spent_usd, self.budget.limit_usd]);
        format!(
            "hookmeter: the {} budget of {scope} reached {}%: {} of {} spent{when}.",
            self.budget.period.name(),
            self.threshold_pct,
            money.show(self.spent_usd),
            money.show(self.budget.limit_usd)
        )
    }
}

impl Crossing {
    /// What makes it the same alert: the `alerts` table's unique key
    /// (scope, period, period start, limit, threshold).
    pub(super) fn key(&self) -> AlertKey {
        AlertKey {
            scope: self.budget.scope.key(),
            period: self.budget.period.name(),
            period_start: self.period_start.map(format_timestamp).unwrap_or_default(),
            limit_usd: self.budget.limit_usd,
            threshold_pct: self.threshold_pct,
        }
    }
}
