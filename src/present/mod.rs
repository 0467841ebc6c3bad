//! How numbers, amounts, times and tables read for a person: one money
//! format ([`money`]), one time format that always says its zone ([`time`]),
//! one table style that fits the terminal ([`table`]), and counts with their
//! nouns. Every human-readable output of the CLI (and the sentences budgets
//! send) goes through here; JSON and CSV never do. Pure, but for
//! [`table::output_width`], which asks the environment and the terminal.
//!
//! For users: docs/cli.md#output-for-people.

pub mod money;
pub mod table;
pub mod time;

pub use money::{usd, MoneySet};
pub use table::Table;

/// How a person will see an output: the zone its times are shown in and the
/// width it must fit (none: any width).
#[derive(Debug, Clone)]
pub struct View {
    pub tz: jiff::tz::TimeZone,
    pub width: Option<usize>,
}

impl View {
    /// UTC at any width: for tests and for outputs with no person's zone.
    pub fn utc() -> View {
        View {
            tz: jiff::tz::TimeZone::UTC,
            width: None,
        }
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and its noun, singular for one: `1 file`, `3 files`, `1,200 files`.
pub fn counted(n: u64, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    format!("{} {noun}", count(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// A size in bytes as people read it: `512 B`, `12 KB`, `3.4 MB`, `1.2 GB`
/// (powers of 1000; two significant digits at least).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// A duration as people read it: `0.02 s`, `1.3 s`, `42 s`, `3 min 05 s`.
pub fn duration(elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 1.0 {
        format!("{secs:.2} s")
    } else if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        let whole = elapsed.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn numbers_read_like_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(-1_234_567), "-1,234,567");
    }

    #[test]
    fn counts_take_the_right_noun() {
        assert_eq!(
            counted(1, "transcript file", "transcript files"),
            "1 transcript file"
        );
        assert_eq!(counted(0, "file", "files"), "0 files");
        assert_eq!(counted(1200, "line", "lines"), "1,200 lines");
    }

    #[test]
    fn sizes_and_durations_keep_small_values_visible() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(12_345), "12 KB");
        assert_eq!(size(1_500), "1.5 KB");
        assert_eq!(size(3_400_000), "3.4 MB");
        assert_eq!(size(2_000_000_000), "2.0 GB");
        assert_eq!(duration(Duration::from_millis(20)), "0.02 s");
        assert_eq!(duration(Duration::from_millis(1_340)), "1.3 s");
        assert_eq!(duration(Duration::from_secs(42)), "42 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
    }
}
