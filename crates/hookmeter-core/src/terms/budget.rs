//! What a budget is: a limit in dollars for a period and a scope, or, on a
//! plan window, the percentage of the window's use that alerts. How much of
//! one is spent, and what happens then, is the hookmeter crate's `budget`
//! module (it reads the database).

/// A subscription plan's rate-limit window, as `plan_usage.window` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanWindow {
    FiveHour,
    SevenDay,
}

impl PlanWindow {
    pub const ALL: [PlanWindow; 2] = [PlanWindow::FiveHour, PlanWindow::SevenDay];

    /// As `plan_usage.window` and `budget set --plan` name it.
    pub fn name(self) -> &'static str {
        match self {
            PlanWindow::FiveHour => "five_hour",
            PlanWindow::SevenDay => "seven_day",
        }
    }

    pub fn parse(text: &str) -> Option<PlanWindow> {
        PlanWindow::ALL.into_iter().find(|w| w.name() == text)
    }

    /// How long the window lasts: its start is its reset minus this.
    pub fn seconds(self) -> i64 {
        match self {
            PlanWindow::FiveHour => 5 * 3600,
            PlanWindow::SevenDay => 7 * 24 * 3600,
        }
    }

    /// As a sentence says it: "5-hour".
    pub fn label(self) -> &'static str {
        match self {
            PlanWindow::FiveHour => "5-hour",
            PlanWindow::SevenDay => "7-day",
        }
    }
}

/// The period a budget's limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
    /// Everything ever spent: for a task, which has a beginning and an end.
    Total,
    /// A plan window: the period is the window itself (from one reset to
    /// the next), and what is "spent" is the use the agent reports, in percent.
    Plan(PlanWindow),
}

impl Period {
    pub const ALL: [Period; 4] = [
        Period::Daily,
        Period::Weekly,
        Period::Monthly,
        Period::Total,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
            Period::Total => "total",
            Period::Plan(PlanWindow::FiveHour) => "plan:five_hour",
            Period::Plan(PlanWindow::SevenDay) => "plan:seven_day",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        match text.strip_prefix("plan:") {
            Some(window) => PlanWindow::parse(window).map(Period::Plan),
            None => Period::ALL.into_iter().find(|p| p.name() == text),
        }
    }

    /// The order budgets are listed in: the calendar periods, the total,
    /// then the plan windows.
    pub fn rank(self) -> usize {
        match self {
            Period::Plan(window) => Period::ALL.len() + window as usize,
            calendar => Period::ALL.iter().position(|p| *p == calendar).unwrap_or(0),
        }
    }

    /// The plan window, for a plan budget.
    pub fn plan_window(self) -> Option<PlanWindow> {
        match self {
            Period::Plan(window) => Some(window),
            _ => None,
        }
    }
}

/// What a budget covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Agent(String),
    Task(String),
    Project(String),
}

impl Scope {
    /// `agent:NAME`, `task:ID`, `project:NAME`; `None` is everything.
    pub fn parse(text: Option<&str>) -> Result<Scope, String> {
        let Some(text) = text else {
            return Ok(Scope::All);
        };
        let (kind, value) = text
            .split_once(':')
            .filter(|(_, v)| !v.is_empty())
            .ok_or_else(|| {
                format!("scope {text:?}: expected agent:NAME, task:ID or project:NAME")
            })?;
        let value = value.to_string();
        match kind {
            "agent" => Ok(Scope::Agent(value)),
            "task" => Ok(Scope::Task(value)),
            "project" => Ok(Scope::Project(value)),
            _ => Err(format!(
                "scope {text:?}: expected agent:NAME, task:ID or project:NAME"
            )),
        }
    }

    /// As stored and shown: `''` for everything.
    pub fn key(&self) -> String {
        match self {
            Scope::All => String::new(),
            Scope::Agent(v) => format!("agent:{v}"),
            Scope::Task(v) => format!("task:{v}"),
            Scope::Project(v) => format!("project:{v}"),
        }
    }

    /// Whether this scope's budget covers an event of `agent`, `task`, `project`.
    pub fn covers(&self, agent: &str, task: Option<&str>, project: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Agent(v) => v == agent,
            Scope::Task(v) => Some(v.as_str()) == task,
            Scope::Project(v) => Some(v.as_str()) == project,
        }
    }
}

/// One stored budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub scope: Scope,
    pub period: Period,
    /// Dollars; for a plan budget ([`Period::Plan`]) the percentage of the
    /// window's use at which it alerts (`--at`, 1-100), kept in the same
    /// column. [`Budget::limit_pct`] reads it under its own name.
    pub limit_usd: f64,
    /// Once spent, `hookmeter send` denies the scope's PreToolUse events.
    pub enforce: bool,
}

impl Budget {
    /// One budget per limit given, `limits` in the order of [`Period::ALL`]
    /// (daily, weekly, monthly, total): `budget set`'s flags and a
    /// `[[budgets]]` entry's keys.
    pub fn per_period(scope: &Scope, limits: [Option<f64>; 4], enforce: bool) -> Vec<Budget> {
        Period::ALL
            .into_iter()
            .zip(limits)
            .filter_map(|(period, limit)| {
                limit.map(|limit_usd| Budget {
                    scope: scope.clone(),
                    period,
                    limit_usd,
                    enforce,
                })
            })
            .collect()
    }

    /// A budget on a plan window that alerts once use reaches `at_pct`.
    pub fn plan(scope: &Scope, window: PlanWindow, at_pct: f64, enforce: bool) -> Budget {
        Budget {
            scope: scope.clone(),
            period: Period::Plan(window),
            limit_usd: at_pct,
            enforce,
        }
    }

    /// A plan budget's alert percentage (`None` for a dollar budget).
    pub fn limit_pct(&self) -> Option<f64> {
        self.period.plan_window().map(|_| self.limit_usd)
    }

    /// Why this budget cannot be stored, if it cannot (the words name the
    /// `budget set` flag, which the config file's keys mirror).
    pub fn check(&self) -> Result<(), String> {
        if let Period::Plan(window) = self.period {
            if !(self.limit_usd.is_finite() && self.limit_usd > 0.0 && self.limit_usd <= 100.0) {
                return Err(format!(
                    "--at: a plan window's alert is a percentage of its use, above 0 and at most 100, got {}",
                    self.limit_usd
                ));
            }
            if matches!(self.scope, Scope::Task(_) | Scope::Project(_)) {
                return Err(format!(
                    "--plan {}: a plan is an agent's account, so its budget is for everything or --scope agent:NAME, not {}",
                    window.name(),
                    self.scope.key()
                ));
            }
            return Ok(());
        }
        if !(self.limit_usd.is_finite() && self.limit_usd > 0.0) {
            return Err(format!(
                "--{}: the limit must be a positive number of dollars, got {}",
                self.period.name(),
                self.limit_usd
            ));
        }
        if self.period == Period::Total && !matches!(self.scope, Scope::Task(_)) {
            return Err("--total: a total budget is for a task (--scope task:ID)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_periods_parse_print_back_and_list_after_the_calendar() {
        for window in PlanWindow::ALL {
            let period = Period::Plan(window);
            assert_eq!(Period::parse(period.name()), Some(period));
            assert!(period.rank() >= Period::ALL.len());
        }
        for bad in ["plan:", "plan:daily", "plan:300m", "five_hour"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert!(
            Period::Plan(PlanWindow::FiveHour).rank() < Period::Plan(PlanWindow::SevenDay).rank()
        );
        assert_eq!(Period::Total.rank(), 3);
    }

    #[test]
    fn a_plan_budget_is_a_percentage_for_everything_or_an_agent() {
        let plan = |scope: Scope, at: f64| Budget::plan(&scope, PlanWindow::FiveHour, at, false);
        assert!(plan(Scope::All, 80.0).check().is_ok());
        assert!(plan(Scope::All, 100.0).check().is_ok());
        assert!(plan(Scope::Agent("codex".into()), 0.5).check().is_ok());
        for at in [0.0, -1.0, 100.5, f64::NAN, f64::INFINITY] {
            assert!(plan(Scope::All, at).check().is_err(), "{at}");
        }
        assert!(plan(Scope::Task("T-1".into()), 80.0).check().is_err());
        assert!(plan(Scope::Project("shop".into()), 80.0).check().is_err());
        assert_eq!(plan(Scope::All, 80.0).limit_pct(), Some(80.0));
        let dollars = Budget::per_period(&Scope::All, [Some(5.0), None, None, None], false);
        assert_eq!(dollars[0].limit_pct(), None);
    }
}
