//! A reader's time range: half-open `[from, to)`, from a named period of
//! the calendar in a zone or a rolling window ending now. Pure arithmetic:
//! "now" and the zone are the caller's.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan, Zoned};

/// A period or window name that is not one, or a date out of range; the
/// text says which and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RangeError(pub String);

/// `[from, to)`; an open end is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Range {
    /// A named period of the calendar in `tz`, as of `now`: `today`,
    /// `yesterday`, `week` (since Monday), `month` (since the 1st), `all`.
    pub fn period(name: &str, now: Timestamp, tz: &TimeZone) -> Result<Range, RangeError> {
        let here = now.to_zoned(tz.clone());
        let today = here.date();
        let since = |date: Date| -> Result<Range, RangeError> {
            Ok(Range {
                from: Some(midnight(date, tz)?),
                to: None,
            })
        };
        match name {
            "today" => since(today),
            "yesterday" => {
                let yesterday = today.yesterday().map_err(invalid)?;
                Ok(Range {
                    from: Some(midnight(yesterday, tz)?),
                    to: Some(midnight(today, tz)?),
                })
            }
            "week" => {
                let back = today.weekday().since(Weekday::Monday);
                since(today.checked_sub(i64::from(back).days()).map_err(invalid)?)
            }
            "month" => since(today.first_of_month()),
            "all" => Ok(Range::default()),
            other => Err(RangeError(format!(
                "unknown period {other:?}: expected today, yesterday, week, month or all"
            ))),
        }
    }

    /// The last `window` before `now` (`1h`, `24h`, `7d`, `30d`), or `all`.
    pub fn last(window: &str, now: Timestamp) -> Result<Range, RangeError> {
        let span: Span = match window {
            "all" => return Ok(Range::default()),
            "1h" => 1.hour(),
            "24h" => 24.hours(),
            "7d" => (7 * 24).hours(),
            "30d" => (30 * 24).hours(),
            other => {
                return Err(RangeError(format!(
                    "unknown time_range {other:?}: expected 1h, 24h, 7d, 30d or all"
                )))
            }
        };
        Ok(Range {
            from: Some(now.checked_sub(span).map_err(invalid)?),
            to: None,
        })
    }

    /// This range narrowed by explicit bounds, where given.
    pub fn narrowed(self, from: Option<Timestamp>, to: Option<Timestamp>) -> Range {
        Range {
            from: match (self.from, from) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            to: match (self.to, to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// The first instant of `date` in `tz`.
fn midnight(date: Date, tz: &TimeZone) -> Result<Timestamp, RangeError> {
    let zoned: Zoned = date.to_zoned(tz.clone()).map_err(invalid)?;
    Ok(zoned.timestamp())
}

fn invalid(e: jiff::Error) -> RangeError {
    RangeError(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn periods_follow_the_calendar_of_the_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // A Wednesday, 01:30 in New York (05:30 UTC).
        let now = ts("2026-09-23T05:30:00Z");
        let today = Range::period("today", now, &tz).unwrap();
        assert_eq!(today.from, Some(ts("2026-09-23T04:00:00Z")));
        assert_eq!(today.to, None);
        let yesterday = Range::period("yesterday", now, &tz).unwrap();
        assert_eq!(yesterday.from, Some(ts("2026-09-22T04:00:00Z")));
        assert_eq!(yesterday.to, Some(ts("2026-09-23T04:00:00Z")));
        let week = Range::period("week", now, &tz).unwrap();
        assert_eq!(week.from, Some(ts("2026-09-21T04:00:00Z")), "Monday");
        let month = Range::period("month", now, &tz).unwrap();
        assert_eq!(month.from, Some(ts("2026-09-01T04:00:00Z")));
        assert_eq!(Range::period("all", now, &tz).unwrap(), Range::default());
        // The same instant is still the 22nd in Los Angeles.
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let today = Range::period("today", now, &la).unwrap();
        assert_eq!(today.from, Some(ts("2026-09-22T07:00:00Z")));
        assert!(Range::period("fortnight", now, &tz).is_err());
    }

    #[test]
    fn rolling_windows_end_now() {
        let now = ts("2026-09-23T05:30:00Z");
        let day = Range::last("24h", now).unwrap();
        assert_eq!(day.from, Some(ts("2026-09-22T05:30:00Z")));
        assert_eq!(
            Range::last("30d", now).unwrap().from,
            Some(ts("2026-08-24T05:30:00Z"))
        );
        assert!(Range::last("2w", now).is_err());
        let narrowed = day.narrowed(None, Some(ts("2026-09-23T00:00:00Z")));
        assert_eq!(narrowed.to, Some(ts("2026-09-23T00:00:00Z")));
    }
}
