//! One time format for every time a person reads: each says its zone.
//!
//! A time printed alone ends with its UTC offset (`2026-12-06 09:15 -05:00`);
//! a table of times names the zone once, above it
//! (`times in America/New_York (UTC-05:00)`), and its cells read
//! `2026-12-06 09:15`. Machine outputs keep RFC 3339 UTC and do not come here.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// `2026-12-06 09:15 -05:00`: minute precision, with the offset.
pub fn instant(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// `2026-12-06 09:15:42 -05:00`: for lines where seconds matter (`tail`).
pub fn instant_seconds(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// `2026-12-06 09:15`: a cell of a table whose zone [`zone_note`] names.
pub fn cell(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// A stored RFC 3339 timestamp as a table cell; text that is not one is
/// shown as it is.
pub fn stored_cell(text: &str, tz: &TimeZone) -> String {
    text.parse::<Timestamp>()
        .map_or_else(|_| text.to_string(), |ts| cell(ts, tz))
}

/// A stored RFC 3339 timestamp alone, with its offset.
pub fn stored_instant(text: &str, tz: &TimeZone) -> String {
    text.parse::<Timestamp>()
        .map_or_else(|_| text.to_string(), |ts| instant(ts, tz))
}

/// The zone's name: its IANA name, `UTC` (for every alias of it, as the
/// dashboard says), or, for a system zone without a name, `local time`.
pub fn zone_name(tz: &TimeZone) -> String {
    const UTC_ALIASES: [&str; 8] = [
        "UTC",
        "Etc/UTC",
        "UCT",
        "Etc/UCT",
        "Universal",
        "Etc/Universal",
        "Zulu",
        "Etc/Zulu",
    ];
    match tz.iana_name() {
        Some(name) if UTC_ALIASES.contains(&name) => "UTC".to_string(),
        Some(name) => name.to_string(),
        None if tz == &TimeZone::UTC => "UTC".to_string(),
        None => "local time".to_string(),
    }
}

/// `times in America/New_York (UTC-05:00)`: the line above a table of
/// `times`. A table across a change of offset names both
/// (`(UTC-04:00, UTC-05:00)`); with no times, the offset now.
pub fn zone_note(tz: &TimeZone, times: &[Timestamp]) -> String {
    format!("times in {}", zone_label(tz, times))
}

/// `America/New_York (UTC-05:00)`: the zone and the offsets `times` have in
/// it (in time order), or its offset now when there are none.
pub fn zone_label(tz: &TimeZone, times: &[Timestamp]) -> String {
    let mut sorted: Vec<Timestamp> = times.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        sorted.push(Timestamp::now());
    }
    let mut offsets: Vec<String> = Vec::new();
    for ts in sorted {
        let offset = format!("UTC{}", ts.to_zoned(tz.clone()).strftime("%:z"));
        if !offsets.contains(&offset) {
            offsets.push(offset);
        }
    }
    match zone_name(tz) {
        // `UTC (UTC+00:00)` would say it twice.
        name if name == "UTC" => name,
        name => format!("{name} ({})", offsets.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn times_carry_their_offset() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let at = ts("2026-12-06T14:15:42Z");
        assert_eq!(instant(at, &ny), "2026-12-06 09:15 -05:00");
        assert_eq!(instant_seconds(at, &ny), "2026-12-06 09:15:42 -05:00");
        assert_eq!(instant(at, &TimeZone::UTC), "2026-12-06 14:15 +00:00");
        assert_eq!(cell(at, &ny), "2026-12-06 09:15");
        assert_eq!(
            stored_instant("2026-12-06T14:15:42.000Z", &ny),
            "2026-12-06 09:15 -05:00"
        );
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        assert_eq!(instant(at, &kolkata), "2026-12-06 19:45 +05:30");
    }

    #[test]
    fn a_table_names_its_zone_and_every_offset_it_spans() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let summer = ts("2026-09-20T12:00:00Z");
        let winter = ts("2026-12-06T12:00:00Z");
        assert_eq!(
            zone_note(&ny, &[winter]),
            "times in America/New_York (UTC-05:00)"
        );
        assert_eq!(
            zone_note(&ny, &[winter, summer, summer]),
            "times in America/New_York (UTC-04:00, UTC-05:00)"
        );
        assert_eq!(zone_note(&TimeZone::UTC, &[winter]), "times in UTC");
        let etc = TimeZone::get("Etc/UTC").unwrap();
        assert_eq!(zone_note(&etc, &[winter]), "times in UTC");
        // London is +00:00 in winter, and still says which zone it is.
        let london = TimeZone::get("Europe/London").unwrap();
        assert_eq!(
            zone_note(&london, &[winter]),
            "times in Europe/London (UTC+00:00)"
        );
    }
}
