//! The one filter parser: what a reader typed (a period or a rolling
//! window, bounds as dates or instants, equality filters) turned into a
//! [`Filter`], with one range rule for every surface. The CLI (`report`),
//! the HTTP API and MCP each map their own parameter names onto a
//! [`FilterSpec`] and word its [`FilterError`]s in their own terms (a flag,
//! a query parameter); none of them reads a bound or checks a range itself.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{parse_bound, End, Filter, QueryError, Range};

/// What the range starts as, before explicit bounds narrow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent<'a> {
    /// A named period of the calendar in the zone ([`Range::period`]):
    /// `report --period`, MCP's `period`.
    Period(&'a str),
    /// A rolling window ending now ([`Range::last`]): the API's `time_range`.
    Window(&'a str),
}

impl Default for Extent<'_> {
    fn default() -> Self {
        Extent::Period("all")
    }
}

/// A filter as a reader gave it: texts, not yet read.
#[derive(Debug, Clone, Default)]
pub struct FilterSpec<'a> {
    pub extent: Extent<'a>,
    /// The start: a date (midnight in the zone) or an RFC 3339 instant.
    pub from: Option<&'a str>,
    /// The end: a date (that whole day included) or an RFC 3339 instant
    /// (excluded).
    pub to: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub model: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub project: Option<&'a str>,
    pub session: Option<&'a str>,
    pub task: Option<&'a str>,
}

/// Which input of a [`FilterSpec`] an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The period or window.
    Extent,
    From,
    To,
}

/// Why a [`FilterSpec`] is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// One input cannot be read; `message` says why, without naming it.
    Unreadable { input: Input, message: String },
    /// The range holds no instant: once narrowed, it does not start before
    /// it ends (`[from, to)` with `from >= to`).
    Empty {
        from: Timestamp,
        to: Timestamp,
        /// True when both explicit bounds were given and are themselves in
        /// the wrong order (or equal); false when the extent and a bound
        /// leave nothing between them.
        bounds_reversed: bool,
    },
}

impl<'a> FilterSpec<'a> {
    /// The filter this spec means in `tz` as of `now`: the extent narrowed by
    /// the explicit bounds, and the equality filters. The one range rule:
    /// the result must hold at least one instant (`from < to`).
    pub fn resolve(&self, tz: &TimeZone, now: Timestamp) -> Result<Filter, FilterError> {
        let unreadable = |input: Input| {
            move |e: QueryError| FilterError::Unreadable {
                input,
                message: e.to_string(),
            }
        };
        let extent = match self.extent {
            Extent::Period(name) => Range::period(name, now, tz),
            Extent::Window(window) => Range::last(window, now),
        }
        .map_err(|e| unreadable(Input::Extent)(e.into()))?;
        let (from, to) = self.bounds(tz)?;
        let range = extent.narrowed(from, to);
        if let (Some(start), Some(end)) = (range.from, range.to) {
            if start >= end {
                return Err(FilterError::Empty {
                    from: start,
                    to: end,
                    bounds_reversed: matches!((from, to), (Some(a), Some(b)) if a >= b),
                });
            }
        }
        let text = |value: Option<&str>| value.map(str::to_string);
        Ok(Filter {
            range,
            agent: text(self.agent),
            model: text(self.model),
            provider: text(self.provider),
            project: text(self.project),
            session: text(self.session),
            task: text(self.task),
        })
    }

    /// The explicit bounds as instants in `tz`, where given.
    pub fn bounds(
        &self,
        tz: &TimeZone,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), FilterError> {
        let read = |text: Option<&str>, end: End, input: Input| {
            text.map(|t| parse_bound(t, end, tz))
                .transpose()
                .map_err(|e| FilterError::Unreadable {
                    input,
                    message: e.to_string(),
                })
        };
        Ok((
            read(self.from, End::Start, Input::From)?,
            read(self.to, End::End, Input::To)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-09-23T05:30:00Z";

    fn resolve(spec: FilterSpec) -> Result<Filter, FilterError> {
        spec.resolve(&TimeZone::UTC, ts(NOW))
    }

    #[test]
    fn an_extent_is_narrowed_by_the_bounds_and_filters_are_kept() {
        let f = resolve(FilterSpec {
            extent: Extent::Window("24h"),
            to: Some("2026-09-22"),
            agent: Some("codex"),
            ..FilterSpec::default()
        })
        .unwrap();
        assert_eq!(f.range.from, Some(ts("2026-09-22T05:30:00Z")));
        assert_eq!(f.range.to, Some(ts("2026-09-23T00:00:00Z")));
        assert_eq!(f.agent.as_deref(), Some("codex"));
        let month = resolve(FilterSpec {
            extent: Extent::Period("month"),
            from: Some("2026-09-10T12:00:00Z"),
            ..FilterSpec::default()
        })
        .unwrap();
        assert_eq!(month.range.from, Some(ts("2026-09-10T12:00:00Z")));
        assert_eq!(month.range.to, None);
        assert_eq!(
            resolve(FilterSpec::default()).unwrap().range,
            Range::default()
        );
    }

    #[test]
    fn an_unreadable_input_is_named() {
        let input = |spec: FilterSpec| match resolve(spec) {
            Err(FilterError::Unreadable { input, .. }) => input,
            other => panic!("{other:?}"),
        };
        let period = FilterSpec {
            extent: Extent::Period("fortnight"),
            ..FilterSpec::default()
        };
        assert_eq!(input(period), Input::Extent);
        let window = FilterSpec {
            extent: Extent::Window("2w"),
            ..FilterSpec::default()
        };
        assert_eq!(input(window), Input::Extent);
        let from = FilterSpec {
            from: Some("yesterday"),
            ..FilterSpec::default()
        };
        assert_eq!(input(from), Input::From);
        let to = FilterSpec {
            to: Some("2026-13-01"),
            ..FilterSpec::default()
        };
        assert_eq!(input(to), Input::To);
    }

    #[test]
    fn a_range_must_start_before_it_ends() {
        let empty = |from: &'static str, to: &'static str| {
            resolve(FilterSpec {
                from: Some(from),
                to: Some(to),
                ..FilterSpec::default()
            })
        };
        // Equal instants: `[t, t)` holds nothing.
        let t = "2026-09-20T10:00:00Z";
        assert_eq!(
            empty(t, t).unwrap_err(),
            FilterError::Empty {
                from: ts(t),
                to: ts(t),
                bounds_reversed: true
            }
        );
        // A date as the end includes that day: the 20th to the 19th is
        // `[20th, 20th)`, empty; the 20th to the 20th is one whole day.
        assert!(matches!(
            empty("2026-09-20", "2026-09-19"),
            Err(FilterError::Empty { .. })
        ));
        assert!(empty("2026-09-22", "2026-09-20").is_err());
        assert!(empty("2026-09-20", "2026-09-20").is_ok());
        // Bounds in order, but the window starts after the end.
        let narrowed = resolve(FilterSpec {
            extent: Extent::Window("1h"),
            to: Some("2026-09-22"),
            ..FilterSpec::default()
        });
        assert_eq!(
            narrowed.unwrap_err(),
            FilterError::Empty {
                from: ts("2026-09-23T04:30:00Z"),
                to: ts("2026-09-23T00:00:00Z"),
                bounds_reversed: false
            }
        );
        // A period's end meeting a later start.
        let yesterday = resolve(FilterSpec {
            extent: Extent::Period("yesterday"),
            from: Some("2026-09-23"),
            ..FilterSpec::default()
        });
        assert!(matches!(
            yesterday,
            Err(FilterError::Empty {
                bounds_reversed: false,
                ..
            })
        ));
    }
}
