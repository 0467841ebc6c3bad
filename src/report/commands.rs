//! The reading commands (`report`, `report --advice`, `today`, `sessions`,
//! `tail`): user arguments in, a query on a read-only connection, rendered
//! text out.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{
    render_record_json, render_session, render_sessions, render_summary, Format, TailLayout,
};
use crate::present::{time, View};
use crate::pricing::PriceTable;
use crate::query::{self, Dimension, Extent, Filter, FilterError, FilterSpec, Input, QueryError};

/// What `report` was asked, as the user typed it.
#[derive(Debug, Clone, Default)]
pub struct ReportArgs {
    pub period: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub by: Vec<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub session: Option<String>,
    pub task: Option<String>,
    pub project: Option<String>,
    /// Only this user's records: the central database's (`--team`) only.
    pub user: Option<String>,
    pub tz: Option<String>,
}

/// What report arguments mean as of an instant.
struct Resolved {
    filter: Filter,
    dimensions: Vec<Dimension>,
    tz: TimeZone,
    /// The period as a person reads it (see [`period_line`]).
    period: String,
}

impl ReportArgs {
    /// The filter, grouping, zone and period line these arguments mean,
    /// as of `now`; the filter read by the one filter parser ([`FilterSpec`]).
    fn resolved(&self, now: Timestamp) -> Result<Resolved, QueryError> {
        self.resolved_for(now, Dimension::parse)
    }

    /// [`Self::resolved`], with `--by` read by `parse` (the central
    /// database groups by more than a local one).
    fn resolved_for(
        &self,
        now: Timestamp,
        parse: fn(&str) -> Result<Dimension, QueryError>,
    ) -> Result<Resolved, QueryError> {
        let tz = query::time_zone(self.tz.as_deref())?;
        let name = self.period.as_deref().unwrap_or("all");
        let spec = FilterSpec {
            extent: Extent::Period(name),
            from: self.since.as_deref(),
            to: self.until.as_deref(),
            agent: self.agent.as_deref(),
            model: self.model.as_deref(),
            session: self.session.as_deref(),
            task: self.task.as_deref(),
            project: self.project.as_deref(),
            provider: None,
        };
        let refuse = |e| refusal(e, &tz);
        let filter = spec.resolve(&tz, now).map_err(refuse)?;
        let range = filter.range;
        let (since, until) = spec.bounds(&tz).map_err(refuse)?;
        if self.by.len() > 2 {
            return Err(QueryError::Invalid(
                "--by takes at most two levels".to_string(),
            ));
        }
        let dimensions = self
            .by
            .iter()
            .map(|b| parse(b))
            .collect::<Result<Vec<_>, _>>()?;
        // Which end the user's --since/--until set, and which the named period.
        let from = match (self.since.as_deref(), since) {
            (Some(text), Some(ts)) if range.from == Some(ts) => Bound::Typed(text),
            _ => range.from.map_or(Bound::Open, Bound::Named),
        };
        let to = match (self.until.as_deref(), until) {
            (Some(text), Some(ts)) if range.to == Some(ts) => Bound::Typed(text),
            _ => range.to.map_or(Bound::Open, Bound::Named),
        };
        let named = (name != "all" && (from.is_named() || to.is_named())).then_some(name);
        Ok(Resolved {
            filter,
            dimensions,
            period: period_line(named, from, to, &tz),
            tz,
        })
    }
}

/// A filter refused, in the words of the command line: the flag at fault,
/// or the period as the user will see it, in their zone.
fn refusal(e: FilterError, tz: &TimeZone) -> QueryError {
    QueryError::Invalid(match e {
        FilterError::Unreadable { input, message } => {
            let flag = match input {
                Input::Extent => "--period",
                Input::From => "--since",
                Input::To => "--until",
            };
            format!("{flag}: {message}")
        }
        FilterError::Empty { from, to, .. } if from == to => format!(
            "the period is empty: it ends where it starts ({}); an --until date includes that day",
            time::instant(from, tz)
        ),
        FilterError::Empty { from, to, .. } => format!(
            "the period ends ({}) before it starts ({})",
            time::instant(to, tz),
            time::instant(from, tz)
        ),
    })
}

/// One end of a report's period, as the user gave it.
#[derive(Debug, Clone, Copy)]
enum Bound<'a> {
    /// No bound: from the first record, or up to now.
    Open,
    /// `--since`/`--until` as typed: a date or an RFC 3339 time.
    Typed(&'a str),
    /// An end of a named period (`today`, `week`…), a midnight in the zone.
    Named(Timestamp),
}

impl Bound<'_> {
    fn is_named(&self) -> bool {
        matches!(self, Bound::Named(_))
    }

    fn is_date(&self) -> bool {
        matches!(self, Bound::Typed(text) if query::is_date_bound(text))
    }
}

/// The line above a report that says which period it covers, every end as
/// the user gave it and the zone that dates and named periods are days of:
/// `2026-11-01 → 2026-11-30 (whole days, America/New_York)`,
/// `today: 2026-12-06 00:00 -05:00 → now (America/New_York)`,
/// `yesterday, 2026-12-05 (whole day, UTC)`, `the first record → now`.
fn period_line(named: Option<&str>, from: Bound, to: Bound, tz: &TimeZone) -> String {
    let zone = time::zone_name(tz);
    if let (Some("yesterday"), Bound::Named(start), Bound::Named(_)) = (named, from, to) {
        let day = start.to_zoned(tz.clone()).date();
        return format!("yesterday, {day} (whole day, {zone})");
    }
    let side = |bound: Bound, open: &str| match bound {
        Bound::Open => open.to_string(),
        Bound::Typed(text) => text.to_string(),
        Bound::Named(ts) => time::instant(ts, tz),
    };
    let dates = [from, to].iter().filter(|b| b.is_date()).count();
    let note = match (dates, named) {
        (2, _) => format!(" (whole days, {zone})"),
        (1, _) | (_, Some(_)) => format!(" ({zone})"),
        _ => String::new(),
    };
    let body = match (from, to) {
        (Bound::Typed(a), Bound::Typed(b)) if a == b && dates == 2 => {
            return format!("{a} (whole day, {zone})");
        }
        _ => format!("{} → {}", side(from, "the first record"), side(to, "now")),
    };
    match named {
        Some(name) => format!("{name}: {body}{note}"),
        None => format!("{body}{note}"),
    }
}

/// `report`: the summary text.
pub fn report(
    db: &Path,
    args: &ReportArgs,
    view: &View,
    format: Format,
) -> Result<String, QueryError> {
    if args.user.is_some() {
        return Err(QueryError::Invalid(
            "--user: a machine's own database has one user; use it with --team URL".into(),
        ));
    }
    let r = args.resolved(Timestamp::now())?;
    let conn = query::open(db)?;
    let summary = query::summary(&conn, &r.filter, &r.dimensions, &r.tz)?;
    let fallback = query::fallback_priced(&conn, &r.filter)?;
    Ok(render_summary(&summary, &fallback, &r.period, view, format))
}

/// `report --team URL`: the report of the team's central database, read
/// in one read-only transaction and shown exactly as a local report. The
/// credentials are taken as the push takes them (`push`'s password file,
/// the `PG*` variables, `.pgpass`); the reason it failed is one line that
/// names the server and never a password.
pub fn team_report(
    push: &crate::config::PushSettings,
    url: &str,
    args: &ReportArgs,
    view: &View,
    format: Format,
) -> Result<String, String> {
    let r = args
        .resolved_for(Timestamp::now(), Dimension::parse_team)
        .map_err(|e| e.to_string())?;
    let settings = crate::config::PushSettings {
        url: Some(crate::config::PushUrl::new(url.to_string())),
        ..push.clone()
    };
    let target = crate::push::Target::resolve(&settings, &|var| std::env::var(var).ok())?;
    let target = &target;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let mut client = crate::push::connect(target)
            .await
            .map_err(|e| e.to_string())?;
        let on_server =
            |e: crate::store::central::CentralError| format!("{}: {e}", target.server());
        let tx = query::team::read_only(&mut client)
            .await
            .map_err(on_server)?;
        let filter = query::team::TeamFilter {
            filter: &r.filter,
            user: args.user.as_deref(),
        };
        let summary = query::team::summary(&tx, filter, &r.dimensions, &r.tz)
            .await
            .map_err(on_server)?;
        let fallback = query::team::fallback_priced(&tx, filter)
            .await
            .map_err(on_server)?;
        Ok(render_summary(&summary, &fallback, &r.period, view, format))
    })
}

/// `report --advice`: suggestions to spend less in the range and filters of
/// `args`, priced with `prices` (the table in force). Text or JSON: the kinds
/// of advice have different fields, so CSV is refused, and so is `--by`,
/// which advice does not group by.
pub fn advice(
    db: &Path,
    args: &ReportArgs,
    prices: &PriceTable,
    view: &View,
    format: Format,
) -> Result<String, QueryError> {
    if format == Format::Csv {
        return Err(QueryError::Invalid(
            "--advice has no CSV form (each kind of advice has its own fields); use --json"
                .to_string(),
        ));
    }
    let r = args.resolved(Timestamp::now())?;
    if !r.dimensions.is_empty() {
        return Err(QueryError::Invalid(
            "--by does not apply to --advice; drop it (the filters do apply)".to_string(),
        ));
    }
    let conn = query::open(db)?;
    let found = super::advice::advise(&conn, &r.filter, prices)?;
    Ok(super::advice::render(&found, &r.period, view, format))
}

/// `report --plan`: each agent's plan windows in the range of `args` (and
/// its `--agent`): the latest use, its reset, the highest use each day.
/// The record filters (`--model`, `--session`, ...) and `--by` do not apply.
pub fn plan(
    db: &Path,
    args: &ReportArgs,
    view: &View,
    format: Format,
) -> Result<String, QueryError> {
    let r = args.resolved(Timestamp::now())?;
    let refused = [
        ("--by", !r.dimensions.is_empty()),
        ("--model", args.model.is_some()),
        ("--session", args.session.is_some()),
        ("--task", args.task.is_some()),
        ("--project", args.project.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(QueryError::Invalid(format!(
            "{flag} does not apply to --plan (plan use is per agent and window); drop it"
        )));
    }
    let conn = query::open(db)?;
    let found = query::plan::plan_observations(&conn, &r.filter)?;
    let courses = super::plan::courses(&found, &r.tz);
    Ok(super::plan::render(&courses, &r.period, view, format))
}

/// `reconcile`: hookmeter's cost against the agents' own, per agent and
/// session, in the range and filters of `args` (no `--by`: the answer has
/// its own grouping). Text or JSON.
pub fn reconcile(
    db: &Path,
    args: &ReportArgs,
    view: &View,
    format: Format,
) -> Result<String, QueryError> {
    let r = args.resolved(Timestamp::now())?;
    let conn = query::open(db)?;
    let found = query::reconcile(&conn, &r.filter)?;
    Ok(super::reconcile::render(&found, &r.period, view, format))
}

/// `sessions` (a list) or `sessions ID` (one session's breakdown).
pub fn sessions(
    db: &Path,
    id: Option<&str>,
    limit: u32,
    view: &View,
    format: Format,
) -> Result<String, QueryError> {
    let conn = query::open(db)?;
    match id {
        Some(id) => Ok(render_session(
            &query::session_detail(&conn, id)?,
            view,
            format,
        )),
        None => {
            let rows = query::sessions(
                &conn,
                &Filter::default(),
                query::SessionSort::LastAt,
                true,
                limit,
                0,
            )?;
            Ok(render_sessions(&rows, view, format))
        }
    }
}

/// How often `tail -f` looks for new records.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// `tail`: the latest `lines` records, then with `follow` every new one as it
/// lands, until the output closes. For people, the latest by time and each
/// batch in time order (records of an import or a spool drained late arrive
/// out of order); `--json` keeps the order of arrival (ids). A database that
/// is missing, or that disappears while the daemon restarts, is waited for.
pub fn tail(
    db: &Path,
    lines: u32,
    follow: bool,
    json: bool,
    view: &View,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let layout = TailLayout::for_width(view.width);
    let mut last_id: Option<i64> = None;
    let mut header_shown = json;
    loop {
        match read_new(db, &mut last_id, lines, json) {
            Ok(mut records) => {
                let text = if json {
                    records.iter().map(render_record_json).collect()
                } else {
                    records.sort_by(|a, b| (&a.timestamp, a.id).cmp(&(&b.timestamp, b.id)));
                    let mut text = String::new();
                    if !header_shown && (follow || !records.is_empty()) {
                        text.push_str(&layout.header());
                        header_shown = true;
                    }
                    text + &layout.lines(&records, &view.tz)
                };
                if out.write_all(text.as_bytes()).is_err() || out.flush().is_err() {
                    return Ok(()); // the reader went away (`| head`)
                }
            }
            // Without -f a problem is the answer; with it, a restart or a
            // database not created yet is something to wait out.
            Err(e) if !follow => return Err(e),
            Err(e) => tracing::debug!(error = %e, "tail: database not readable yet"),
        }
        if !follow {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_EVERY);
    }
}

/// The records after `last_id`; at the first call, the last `lines` records
/// (by id for `by_id`, else by time).
fn read_new(
    db: &Path,
    last_id: &mut Option<i64>,
    lines: u32,
    by_id: bool,
) -> Result<Vec<query::Record>, QueryError> {
    if !db.exists() {
        // Whatever a database created from now on holds is new to a follower.
        *last_id = Some(0);
        return Err(QueryError::NoDatabase(db.to_path_buf()));
    }
    let conn = query::open(db)?;
    let max = query::last_record_id(&conn)?;
    let after = match *last_id {
        Some(id) => id,
        None if by_id => max - i64::from(lines),
        None => {
            *last_id = Some(max);
            if lines == 0 {
                return Ok(Vec::new());
            }
            let (mut latest, _) = query::record_page(&conn, &Filter::default(), 1, lines)?;
            // Rows written since `max` was read come with the next batch.
            latest.retain(|r| r.id <= max);
            return Ok(latest);
        }
    };
    let mut records = Vec::new();
    let mut from = after;
    loop {
        let page = query::records_after(&conn, from, 1000)?;
        let done = page.len() < 1000;
        if let Some(last) = page.last() {
            from = last.id;
        }
        records.extend(page);
        if done {
            break;
        }
    }
    *last_id = Some(from.max(after));
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: ReportArgs, now: &str) -> String {
        args.resolved(now.parse().unwrap()).unwrap().period
    }

    fn in_zone(tz: &str) -> ReportArgs {
        ReportArgs {
            tz: Some(tz.into()),
            ..ReportArgs::default()
        }
    }

    #[test]
    fn periods_are_echoed_as_typed_with_their_zone() {
        let now = "2026-12-06T14:00:00Z";
        let ny = || in_zone("America/New_York");
        let typed = ReportArgs {
            since: Some("2026-11-01".into()),
            until: Some("2026-11-30".into()),
            ..ny()
        };
        assert_eq!(
            line(typed, now),
            "2026-11-01 → 2026-11-30 (whole days, America/New_York)"
        );
        let one_day = ReportArgs {
            since: Some("2026-11-01".into()),
            until: Some("2026-11-01".into()),
            ..ny()
        };
        assert_eq!(
            line(one_day, now),
            "2026-11-01 (whole day, America/New_York)"
        );
        let until = ReportArgs {
            until: Some("2026-11-01".into()),
            ..ny()
        };
        assert_eq!(
            line(until, now),
            "the first record → 2026-11-01 (America/New_York)"
        );
        let instants = ReportArgs {
            since: Some("2026-11-01T10:00:00Z".into()),
            ..ny()
        };
        assert_eq!(line(instants, now), "2026-11-01T10:00:00Z → now");
        let exact_start = ReportArgs {
            since: Some("2026-11-01T10:00:00Z".into()),
            until: Some("2026-11-30".into()),
            ..ny()
        };
        assert_eq!(
            line(exact_start, now),
            "2026-11-01T10:00:00Z → 2026-11-30 (America/New_York)"
        );
        assert_eq!(line(ny(), now), "the first record → now");
    }

    #[test]
    fn named_periods_show_local_midnights_with_their_offset() {
        let now = "2026-12-06T14:00:00Z";
        let named = |name: &str| ReportArgs {
            period: Some(name.into()),
            ..in_zone("America/New_York")
        };
        assert_eq!(
            line(named("today"), now),
            "today: 2026-12-06 00:00 -05:00 → now (America/New_York)"
        );
        assert_eq!(
            line(named("yesterday"), now),
            "yesterday, 2026-12-05 (whole day, America/New_York)"
        );
        assert_eq!(
            line(named("month"), now),
            "month: 2026-12-01 00:00 -05:00 → now (America/New_York)"
        );
        // A later --since narrows the period: it is the start shown.
        let narrowed = ReportArgs {
            since: Some("2026-12-03".into()),
            ..named("month")
        };
        assert_eq!(line(narrowed, now), "2026-12-03 → now (America/New_York)");
        let kolkata = ReportArgs {
            period: Some("today".into()),
            ..in_zone("Asia/Kolkata")
        };
        assert_eq!(
            line(kolkata, now),
            "today: 2026-12-06 00:00 +05:30 → now (Asia/Kolkata)"
        );
    }
}
