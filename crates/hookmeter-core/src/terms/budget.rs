//! What a budget is: a limit in dollars for a period and a scope. How much
//! of one is spent, and what happens then, is the hookmeter crate's
//! `budget` module (it reads the database).

/// The period a budget's limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
    /// Everything ever spent: for a task, which has a beginning and an end.
    Total,
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
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.name() == text)
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

    /// Why this budget cannot be stored, if it cannot (the words name the
    /// `budget set` flag, which the config file's keys mirror).
    pub fn check(&self) -> Result<(), String> {
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
