//! Query-string parameters shared by the API's endpoints, turned into the
//! query layer's vocabulary. Every error names the parameter; parameters
//! no endpoint knows are ignored.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::ApiError;
use crate::query::{
    parse_bound, time_zone, Dimension, End, Filter, QueryError, Range, SessionSort,
};

/// `page_size` when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest `page_size` accepted.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Levels of grouping a summary takes at most.
const MAX_LEVELS: usize = 2;

/// The pairs of a query string, in order. An empty value counts as absent
/// (what a form with an empty field sends); a repeated one, the last wins.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The time zone of dates and day/hour groups: `tz`, else UTC.
    pub fn tz(&self) -> Result<TimeZone, ApiError> {
        match self.get("tz") {
            None => Ok(TimeZone::UTC),
            Some(name) => time_zone(Some(name)).map_err(|e| named("tz", e)),
        }
    }

    /// The records to keep: `time_range` (`1h`, `24h`, `7d`, `30d`, `all`)
    /// narrowed by `date_from` / `date_to`, and the equality filters.
    pub fn filter(&self, tz: &TimeZone, now: Timestamp) -> Result<Filter, ApiError> {
        let window = self.get("time_range").unwrap_or("all");
        let range = Range::last(window, now).map_err(|e| named("time_range", e.into()))?;
        let bound = |name: &str, end: End| -> Result<Option<Timestamp>, ApiError> {
            self.get(name)
                .map(|text| parse_bound(text, end, tz).map_err(|e| named(name, e)))
                .transpose()
        };
        let from = bound("date_from", End::Start)?;
        let to = bound("date_to", End::End)?;
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                return Err(ApiError::bad(
                    "date_from: must be before date_to (a date as date_to includes that day)",
                ));
            }
        }
        let text = |name: &str| self.get(name).map(str::to_string);
        Ok(Filter {
            range: range.narrowed(from, to),
            agent: text("agent_id"),
            model: text("model"),
            provider: text("provider"),
            project: text("project"),
            session: text("session_id"),
            task: text("task_id"),
        })
    }

    /// `page` (from 1, default 1) and `page_size` (1 to 500, default 50).
    pub fn page(&self) -> Result<(u32, u32), ApiError> {
        let number = |name: &str, default: u32, max: u32| -> Result<u32, ApiError> {
            let Some(text) = self.get(name) else {
                return Ok(default);
            };
            match text.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ if max == u32::MAX => Err(ApiError::bad(format!(
                    "{name}: {text:?} is not a whole number of at least 1"
                ))),
                _ => Err(ApiError::bad(format!(
                    "{name}: {text:?} is not a whole number from 1 to {max}"
                ))),
            }
        };
        Ok((
            number("page", 1, u32::MAX)?,
            number("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
        ))
    }

    /// `sort` (default `last_at`) and `order` (`asc` or `desc`, default
    /// `desc`) of a list of sessions; true is descending.
    pub fn session_order(&self) -> Result<(SessionSort, bool), ApiError> {
        let sort = match self.get("sort") {
            None => SessionSort::default(),
            Some(text) => SessionSort::parse(text).map_err(|e| named("sort", e))?,
        };
        let descending = match self.get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "order: {other:?} is neither asc nor desc"
                )))
            }
        };
        Ok((sort, descending))
    }

    /// `group_by`: one or two of `report --by`'s dimensions, comma-separated
    /// or repeated; `model` when absent.
    pub fn group_by(&self) -> Result<Vec<Dimension>, ApiError> {
        let mut names: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k == "group_by")
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        if names.is_empty() {
            names.push("model");
        }
        if names.len() > MAX_LEVELS {
            return Err(ApiError::bad(format!(
                "group_by: at most {MAX_LEVELS} dimensions, got {}",
                names.len()
            )));
        }
        names
            .into_iter()
            .map(|name| Dimension::parse(name).map_err(|e| named("group_by", e)))
            .collect()
    }
}

/// A query-layer error, prefixed with the parameter it is about.
fn named(name: &str, e: QueryError) -> ApiError {
    match e {
        QueryError::Invalid(message) => ApiError::bad(format!("{name}: {message}")),
        other => ApiError::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &[(&str, &str)]) -> Params {
        Params(
            query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn error(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        let e = result.unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        e.message
    }

    fn now() -> Timestamp {
        "2026-09-23T05:30:00Z".parse().unwrap()
    }

    #[test]
    fn filters_and_ranges_come_from_their_parameters() {
        let p = params(&[
            ("agent_id", "codex"),
            ("model", ""),
            ("time_range", "24h"),
            ("date_to", "2026-09-22"),
            ("tz", "America/New_York"),
        ]);
        let tz = p.tz().unwrap();
        let f = p.filter(&tz, now()).unwrap();
        assert_eq!(f.agent.as_deref(), Some("codex"));
        assert_eq!(f.model, None, "an empty value is no filter");
        assert_eq!(f.range.from, Some("2026-09-22T05:30:00Z".parse().unwrap()));
        assert_eq!(
            f.range.to,
            Some("2026-09-23T04:00:00Z".parse().unwrap()),
            "the end of the 22nd in New York"
        );
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let tz = TimeZone::UTC;
        let bad_filter = |q: &[(&str, &str)]| error(params(q).filter(&tz, now()));
        assert!(bad_filter(&[("time_range", "2w")]).starts_with("time_range:"));
        assert!(bad_filter(&[("date_from", "yesterday")]).starts_with("date_from:"));
        assert!(bad_filter(&[("date_to", "2026-13-01")]).starts_with("date_to:"));
        assert!(
            bad_filter(&[("date_from", "2026-09-22"), ("date_to", "2026-09-21")])
                .starts_with("date_from:")
        );
        assert!(error(params(&[("tz", "Mars/Base")]).tz()).starts_with("tz:"));
        for (name, value) in [
            ("page", "0"),
            ("page", "-1"),
            ("page", "x"),
            ("page_size", "0"),
            ("page_size", "501"),
        ] {
            let message = error(params(&[(name, value)]).page());
            assert!(message.starts_with(&format!("{name}:")), "{message}");
        }
        assert!(error(params(&[("group_by", "color")]).group_by()).starts_with("group_by:"));
        assert!(
            error(params(&[("group_by", "day,model,agent")]).group_by()).starts_with("group_by:")
        );
    }

    #[test]
    fn pages_and_groups_have_defaults() {
        assert_eq!(params(&[]).page().unwrap(), (1, 50));
        assert_eq!(
            params(&[("page", "3"), ("page_size", "500")])
                .page()
                .unwrap(),
            (3, 500)
        );
        assert_eq!(params(&[]).group_by().unwrap(), [Dimension::Model]);
        assert_eq!(
            params(&[("group_by", "day, agent")]).group_by().unwrap(),
            [Dimension::Day, Dimension::Agent]
        );
        assert_eq!(
            params(&[("group_by", "day"), ("group_by", "label:team")])
                .group_by()
                .unwrap(),
            [Dimension::Day, Dimension::Label("team".into())]
        );
    }
}
