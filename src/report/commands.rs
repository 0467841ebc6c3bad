//! The reading commands (`report`, `report --advice`, `today`, `sessions`,
//! `tail`): user arguments in, a query on a read-only connection, rendered
//! text out.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use super::{render_record, render_session, render_sessions, render_summary, Format};
use crate::pricing::PriceTable;
use crate::query::{self, Dimension, End, Filter, QueryError, Range};

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
    pub tz: Option<String>,
}

impl ReportArgs {
    /// The filter and grouping these arguments mean, as of `now`.
    pub fn resolve(
        &self,
        now: Timestamp,
    ) -> Result<(Filter, Vec<Dimension>, jiff::tz::TimeZone), QueryError> {
        let tz = query::time_zone(self.tz.as_deref())?;
        let period = Range::period(self.period.as_deref().unwrap_or("all"), now, &tz)?;
        let since = self
            .since
            .as_deref()
            .map(|s| query::parse_bound(s, End::Start, &tz))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|s| query::parse_bound(s, End::End, &tz))
            .transpose()?;
        let range = period.narrowed(since, until);
        if let (Some(from), Some(to)) = (range.from, range.to) {
            if from > to {
                return Err(QueryError::Invalid(format!(
                    "the period ends ({}) before it starts ({})",
                    crate::record::format_timestamp(to),
                    crate::record::format_timestamp(from)
                )));
            }
        }
        if self.by.len() > 2 {
            return Err(QueryError::Invalid(
                "--by takes at most two levels".to_string(),
            ));
        }
        let dims = self
            .by
            .iter()
            .map(|b| Dimension::parse(b))
            .collect::<Result<Vec<_>, _>>()?;
        let filter = Filter {
            range,
            agent: self.agent.clone(),
            model: self.model.clone(),
            session: self.session.clone(),
            task: self.task.clone(),
            project: self.project.clone(),
            provider: None,
        };
        Ok((filter, dims, tz))
    }
}

/// `report`: the summary text.
pub fn report(db: &Path, args: &ReportArgs, format: Format) -> Result<String, QueryError> {
    let (filter, dims, tz) = args.resolve(Timestamp::now())?;
    let conn = query::open(db)?;
    let summary = query::summary(&conn, &filter, &dims, &tz)?;
    Ok(render_summary(&summary, format))
}

/// `report --advice`: suggestions to spend less in the range and filters of
/// `args`, priced with `prices` (the table in force). Text or JSON: the kinds
/// of advice have different fields, so CSV is refused, and so is `--by`,
/// which advice does not group by.
pub fn advice(
    db: &Path,
    args: &ReportArgs,
    prices: &PriceTable,
    format: Format,
) -> Result<String, QueryError> {
    if format == Format::Csv {
        return Err(QueryError::Invalid(
            "--advice has no CSV form (each kind of advice has its own fields); use --json"
                .to_string(),
        ));
    }
    let (filter, dims, _tz) = args.resolve(Timestamp::now())?;
    if !dims.is_empty() {
        return Err(QueryError::Invalid(
            "--by does not apply to --advice; drop it (the filters do apply)".to_string(),
        ));
    }
    let conn = query::open(db)?;
    let found = super::advice::advise(&conn, &filter, prices)?;
    Ok(super::advice::render(&found, format))
}

/// `sessions` (a list) or `sessions ID` (one session's breakdown).
pub fn sessions(
    db: &Path,
    id: Option<&str>,
    limit: u32,
    format: Format,
) -> Result<String, QueryError> {
    let conn = query::open(db)?;
    match id {
        Some(id) => Ok(render_session(&query::session_detail(&conn, id)?, format)),
        None => {
            let rows = query::sessions(
                &conn,
                &Filter::default(),
                query::SessionSort::LastAt,
                true,
                limit,
                0,
            )?;
            Ok(render_sessions(&rows, format))
        }
    }
}

/// How often `tail -f` looks for new records.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// `tail`: the last `lines` records, then with `follow` every new one as it
/// lands, until the output closes. A database that is missing, or that
/// disappears while the daemon restarts, is waited for.
pub fn tail(
    db: &Path,
    lines: u32,
    follow: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let mut last_id: Option<i64> = None;
    loop {
        match read_new(db, &mut last_id, lines) {
            Ok(records) => {
                for record in &records {
                    if out
                        .write_all(render_record(record, json).as_bytes())
                        .is_err()
                    {
                        return Ok(()); // the reader went away (`| head`)
                    }
                }
                if out.flush().is_err() {
                    return Ok(());
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

/// The records after `last_id`; at the first call, the last `lines` records.
fn read_new(
    db: &Path,
    last_id: &mut Option<i64>,
    lines: u32,
) -> Result<Vec<query::Record>, QueryError> {
    if !db.exists() {
        // Whatever a database created from now on holds is new to a follower.
        *last_id = Some(0);
        return Err(QueryError::NoDatabase(db.to_path_buf()));
    }
    let conn = query::open(db)?;
    let after = match *last_id {
        Some(id) => id,
        None => {
            let max: Option<i64> =
                conn.query_row("SELECT max(id) FROM cost_records", [], |r| r.get(0))?;
            max.unwrap_or(0) - i64::from(lines)
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
    *last_id = Some(from);
    Ok(records)
}
