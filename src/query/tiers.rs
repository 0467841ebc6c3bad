//! A time range cut into the widest pieces the summary tables answer: whole
//! UTC days from the daily rollup, whole hours from the hourly one, and the
//! partial hours at either end from `cost_records`. Reading a range then
//! costs a few rows per day, not one per record.

use jiff::{Timestamp, ToSpan};

use super::{Filter, Range};

/// Where a piece of a range is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Records,
    Hours,
    Days,
}

impl Tier {
    /// What to read this tier `FROM` for `filter`, and its time column;
    /// `None` for the records.
    ///
    /// A reader that neither filters nor groups reads a day's totals (one
    /// row a day) instead of its groups. The daily rollup's agent and model
    /// indexes serve a filter on those; without one, SQLite's planner would
    /// rather walk one of them to get a GROUP BY in order, looking up every
    /// row (measured: 4 times slower than reading the table by day), so it is
    /// told to read the table by its key.
    pub fn source(self, filter: &Filter, grouped: bool) -> Option<(&'static str, &'static str)> {
        match self {
            Tier::Records => None,
            Tier::Hours => Some(("cost_rollup_hourly", "hour")),
            Tier::Days if !grouped && filter.is_plain() => Some(("cost_totals_daily", "day")),
            Tier::Days if filter.agent.is_some() || filter.model.is_some() => {
                Some(("cost_rollup_daily", "day"))
            }
            // The primary key's index, by the name SQLite gives it.
            Tier::Days => Some((
                "cost_rollup_daily INDEXED BY sqlite_autoindex_cost_rollup_daily_1",
                "day",
            )),
        }
    }

    /// The table's key for the bucket starting at `ts` (UTC, as the writer
    /// keys it: `YYYY-MM-DDTHH` or `YYYY-MM-DD`).
    pub fn label(self, ts: Timestamp) -> String {
        match self {
            Tier::Records => crate::record::format_timestamp(ts),
            Tier::Hours => ts.strftime("%Y-%m-%dT%H").to_string(),
            Tier::Days => ts.strftime("%Y-%m-%d").to_string(),
        }
    }

    /// The start of the bucket a table's key names.
    pub fn start_of(self, label: &str) -> Option<Timestamp> {
        match self {
            Tier::Records => label.parse().ok(),
            Tier::Hours => format!("{label}:00:00Z").parse().ok(),
            Tier::Days => format!("{label}T00:00:00Z").parse().ok(),
        }
    }

    /// The bucket's width in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Tier::Records => 0,
            Tier::Hours => 3_600,
            Tier::Days => 86_400,
        }
    }
}

/// One piece of a range and where it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub tier: Tier,
    pub range: Range,
}

/// `range` cut into pieces, oldest first: partial hours at either end from
/// the records, whole hours between them, and, when `days` is set, whole
/// UTC days in the middle. An open end stays open in the rollup tier next
/// to it.
pub fn pieces(range: Range, days: bool) -> Vec<Piece> {
    let mut out = Vec::with_capacity(5);
    let first_hour = range.from.map(|t| ceil(t, 3_600));
    let end_hour = range.to.map(|t| floor(t, 3_600));
    if let (Some(first), Some(end)) = (first_hour, end_hour) {
        if first >= end {
            // No whole hour inside: the records answer alone.
            out.push(Piece {
                tier: Tier::Records,
                range,
            });
            return out;
        }
    }
    let mut push = |tier, from: Option<Timestamp>, to: Option<Timestamp>| {
        let empty = matches!((from, to), (Some(f), Some(t)) if f >= t);
        if !empty {
            out.push(Piece {
                tier,
                range: Range { from, to },
            });
        }
    };
    if let (Some(from), Some(first)) = (range.from, first_hour) {
        push(Tier::Records, Some(from), Some(first));
    }
    let first_day = first_hour.map(|t| ceil(t, 86_400));
    let end_day = end_hour.map(|t| floor(t, 86_400));
    let whole_day = match (first_day, end_day) {
        (Some(first), Some(end)) => first < end,
        _ => true,
    };
    if days && whole_day {
        if first_hour.is_some() {
            push(Tier::Hours, first_hour, first_day);
        }
        push(Tier::Days, first_day, end_day);
        if end_hour.is_some() {
            push(Tier::Hours, end_day, end_hour);
        }
    } else {
        push(Tier::Hours, first_hour, end_hour);
    }
    if let (Some(end), Some(to)) = (end_hour, range.to) {
        push(Tier::Records, Some(end), Some(to));
    }
    out
}

fn floor(ts: Timestamp, width: i64) -> Timestamp {
    Timestamp::from_second(ts.as_second().div_euclid(width) * width).unwrap_or(ts)
}

fn ceil(ts: Timestamp, width: i64) -> Timestamp {
    let down = floor(ts, width);
    if down == ts {
        ts
    } else {
        down.checked_add(width.seconds()).unwrap_or(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn shown(pieces: &[Piece]) -> Vec<String> {
        let end = |t: Option<Timestamp>| t.map_or("..".to_string(), |t| t.to_string());
        pieces
            .iter()
            .map(|p| format!("{:?} {} {}", p.tier, end(p.range.from), end(p.range.to)))
            .collect()
    }

    #[test]
    fn a_month_is_days_between_hours_between_partial_hours() {
        let range = Range {
            from: Some(ts("2026-09-01T22:30:00Z")),
            to: Some(ts("2026-09-30T01:15:00Z")),
        };
        assert_eq!(
            shown(&pieces(range, true)),
            [
                "Records 2026-09-01T22:30:00Z 2026-09-01T23:00:00Z",
                "Hours 2026-09-01T23:00:00Z 2026-09-02T00:00:00Z",
                "Days 2026-09-02T00:00:00Z 2026-09-30T00:00:00Z",
                "Hours 2026-09-30T00:00:00Z 2026-09-30T01:00:00Z",
                "Records 2026-09-30T01:00:00Z 2026-09-30T01:15:00Z",
            ]
        );
        assert_eq!(
            shown(&pieces(range, false)),
            [
                "Records 2026-09-01T22:30:00Z 2026-09-01T23:00:00Z",
                "Hours 2026-09-01T23:00:00Z 2026-09-30T01:00:00Z",
                "Records 2026-09-30T01:00:00Z 2026-09-30T01:15:00Z",
            ]
        );
    }

    #[test]
    fn open_ends_stay_open_and_short_ranges_read_records() {
        let from = ts("2026-09-01T22:30:00Z");
        assert_eq!(
            shown(&pieces(
                Range {
                    from: Some(from),
                    to: None
                },
                true
            )),
            [
                "Records 2026-09-01T22:30:00Z 2026-09-01T23:00:00Z",
                "Hours 2026-09-01T23:00:00Z 2026-09-02T00:00:00Z",
                "Days 2026-09-02T00:00:00Z ..",
            ]
        );
        assert_eq!(shown(&pieces(Range::default(), true)), ["Days .. .."]);
        assert_eq!(shown(&pieces(Range::default(), false)), ["Hours .. .."]);
        let short = Range {
            from: Some(from),
            to: Some(ts("2026-09-01T22:50:00Z")),
        };
        assert_eq!(
            shown(&pieces(short, true)),
            ["Records 2026-09-01T22:30:00Z 2026-09-01T22:50:00Z"]
        );
        // Whole hours but no whole day: no day tier.
        let hours = Range {
            from: Some(ts("2026-09-01T10:00:00Z")),
            to: Some(ts("2026-09-02T09:00:00Z")),
        };
        assert_eq!(
            shown(&pieces(hours, true)),
            ["Hours 2026-09-01T10:00:00Z 2026-09-02T09:00:00Z"]
        );
    }

    proptest! {
        /// The pieces tile the range: in order, touching, none empty, each
        /// rollup piece made of whole buckets of its tier.
        #[test]
        fn pieces_tile_the_range(
            from in proptest::option::of(0i64..10_000_000),
            len in 0i64..8_000_000,
            open_end in any::<bool>(),
            days in any::<bool>(),
        ) {
            let base = 1_780_000_000i64;
            let from_ts = from.map(|f| Timestamp::from_second(base + f).unwrap());
            let to_ts = if open_end {
                None
            } else {
                Some(Timestamp::from_second(base + from.unwrap_or(0) + len).unwrap())
            };
            let range = Range { from: from_ts, to: to_ts };
            let got = pieces(range, days);
            prop_assert!(!got.is_empty());
            prop_assert_eq!(got[0].range.from, range.from);
            prop_assert_eq!(got[got.len() - 1].range.to, range.to);
            for pair in got.windows(2) {
                prop_assert_eq!(pair[0].range.to, pair[1].range.from);
            }
            for p in &got {
                if let (Some(f), Some(t)) = (p.range.from, p.range.to) {
                    prop_assert!(f < t || got.len() == 1);
                }
                if p.tier != Tier::Records {
                    for end in [p.range.from, p.range.to].into_iter().flatten() {
                        prop_assert_eq!(end.as_second() % p.tier.seconds(), 0);
                    }
                }
                prop_assert!(days || p.tier != Tier::Days);
            }
        }
    }
}
