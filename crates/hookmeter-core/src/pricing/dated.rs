//! Dated rates: what a model charged (or will charge) on given days, beside
//! the rates it charges at any other time. Picking the rates of a call is a
//! few timestamp comparisons, so the writer's memo can keep the entry and
//! choose per call.

use jiff::Timestamp;
use serde::Serialize;

use super::file::{Day, ModelSpec, PriceSpan};
use super::rates::Rates;

/// One span of a model's history with its defaults resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatedRates {
    /// The first day of the span (UTC), `None` when open to the past.
    #[serde(serialize_with = "day_text")]
    pub from: Option<Day>,
    /// The last day of the span (UTC), `None` when open to the future.
    #[serde(serialize_with = "day_text")]
    pub until: Option<Day>,
    /// The rates in force on those days.
    pub rates: Rates,
    /// `from`'s first instant.
    #[serde(skip)]
    start: Option<Timestamp>,
    /// The instant after `until`'s last: the span holds before it.
    #[serde(skip)]
    end: Option<Timestamp>,
}

fn day_text<S: serde::Serializer>(day: &Option<Day>, serializer: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(day) => serializer.collect_str(&day.date()),
        None => serializer.serialize_none(),
    }
}

impl DatedRates {
    /// The span's days as `2026-06-01 to 2026-08-31`, `until 2026-08-31`
    /// or `from 2026-09-01` (UTC days, both ends included).
    pub fn days(&self) -> String {
        describe(self)
    }

    /// Whether the span holds at `at`.
    pub fn holds_at(&self, at: Timestamp) -> bool {
        self.start.is_none_or(|start| at >= start) && self.end.is_none_or(|end| at < end)
    }
}

/// The rates in force at `at`: the first span of `history` holding then,
/// else `undated`. `None` asks for the undated rates (a caller that means
/// "now" passes the clock's time; this module has no clock).
pub fn in_force<'a>(
    undated: &'a Rates,
    history: &'a [DatedRates],
    at: Option<Timestamp>,
) -> &'a Rates {
    at.and_then(|at| history.iter().find(|span| span.holds_at(at)))
        .map_or(undated, |span| &span.rates)
}

impl PriceSpan {
    /// The span's rates with defaults applied, as a model's.
    fn rates(&self) -> Rates {
        ModelSpec {
            cache_read: self.cache_read,
            cache_write_5m: self.cache_write_5m,
            cache_write_1h: self.cache_write_1h,
            long_context: self.long_context.clone(),
            fast_multiplier: self.fast_multiplier,
            service_tier: self.service_tier.clone(),
            inference_geo: self.inference_geo.clone(),
            ..ModelSpec::new(self.input, self.output)
        }
        .rates()
    }
}

impl ModelSpec {
    /// The history with defaults resolved, in the order written; an error
    /// (for the caller to name the file and model) when a span has no day,
    /// ends before it starts, or overlaps another: a call must never have
    /// two prices.
    pub fn dated_rates(&self) -> Result<Vec<DatedRates>, String> {
        let mut spans: Vec<DatedRates> = Vec::with_capacity(self.history.len());
        for span in &self.history {
            if span.from.is_none() && span.until.is_none() {
                return Err(
                    "a history entry needs `from`, `until` or both (days such as \"2026-08-31\")"
                        .into(),
                );
            }
            if let (Some(from), Some(until)) = (span.from, span.until) {
                if until < from {
                    return Err(format!(
                        "a history entry ends ({}) before it starts ({})",
                        until.date(),
                        from.date()
                    ));
                }
            }
            let dated = DatedRates {
                from: span.from,
                until: span.until,
                rates: span.rates(),
                start: span.from.map(Day::start),
                end: span.until.map(Day::end),
            };
            let overlaps = |other: &DatedRates| {
                let starts_before_end = match (dated.start, other.end) {
                    (Some(start), Some(end)) => start < end,
                    _ => true,
                };
                let ends_after_start = match (dated.end, other.start) {
                    (Some(end), Some(start)) => end > start,
                    _ => true,
                };
                starts_before_end && ends_after_start
            };
            if let Some(other) = spans.iter().find(|other| overlaps(other)) {
                return Err(format!(
                    "history entries overlap ({} and {}); give each day one price",
                    describe(&dated),
                    describe(other)
                ));
            }
            spans.push(dated);
        }
        Ok(spans)
    }
}

/// A span as `from … until …`, for messages.
pub fn describe(span: &DatedRates) -> String {
    match (span.from, span.until) {
        (Some(from), Some(until)) => format!("{} to {}", from.date(), until.date()),
        (Some(from), None) => format!("from {}", from.date()),
        (None, Some(until)) => format!("until {}", until.date()),
        (None, None) => "always".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::file::PriceFile;
    use super::*;

    fn spec(history: &str) -> ModelSpec {
        let text = format!("[models.m]\ninput = 3\noutput = 15\n{history}");
        PriceFile::parse(&text, "test").unwrap().models["m"].clone()
    }

    fn at(text: &str) -> Option<Timestamp> {
        Some(text.parse().unwrap())
    }

    fn input_at(spec: &ModelSpec, when: Option<Timestamp>) -> f64 {
        let undated = spec.rates();
        let history = spec.dated_rates().unwrap();
        in_force(&undated, &history, when).input
    }

    #[test]
    fn a_span_holds_through_its_last_day_and_not_after() {
        let promo = spec("[[models.m.history]]\nuntil = \"2026-08-31\"\ninput = 2\noutput = 10\n");
        assert_eq!(input_at(&promo, at("2026-01-05T00:00:00Z")), 2.0);
        assert_eq!(input_at(&promo, at("2026-08-31T23:59:59.999Z")), 2.0);
        assert_eq!(input_at(&promo, at("2026-09-01T00:00:00Z")), 3.0);
        assert_eq!(input_at(&promo, at("2027-03-01T12:00:00Z")), 3.0);
        // No time: the undated rates.
        assert_eq!(input_at(&promo, None), 3.0);
        // The span's cache rates default from its own input.
        let history = promo.dated_rates().unwrap();
        assert_eq!(history[0].rates.cache_read, 2.0);
    }

    #[test]
    fn a_span_holds_from_its_first_day_on() {
        let bounded = spec(
            "[[models.m.history]]\nfrom = 2026-09-01\nuntil = 2026-09-30\ninput = 1\noutput = 5\n\
             [[models.m.history]]\nfrom = \"2026-10-01\"\ninput = 4\noutput = 20\n",
        );
        assert_eq!(input_at(&bounded, at("2026-08-31T23:59:59Z")), 3.0);
        assert_eq!(input_at(&bounded, at("2026-09-01T00:00:00Z")), 1.0);
        assert_eq!(input_at(&bounded, at("2026-09-30T23:00:00Z")), 1.0);
        assert_eq!(input_at(&bounded, at("2026-10-01T00:00:00Z")), 4.0);
        assert_eq!(input_at(&bounded, at("2030-01-01T00:00:00Z")), 4.0);
    }

    #[test]
    fn a_model_without_history_has_one_price_at_every_time() {
        let plain = spec("");
        for when in [None, at("1999-01-01T00:00:00Z"), at("2026-09-01T00:00:00Z")] {
            assert_eq!(input_at(&plain, when), 3.0);
        }
    }

    #[test]
    fn spans_without_a_day_backwards_or_overlapping_are_refused() {
        let refused = |history: &str| spec(history).dated_rates().unwrap_err();
        assert!(refused("[[models.m.history]]\ninput = 1\noutput = 1\n").contains("needs"));
        assert!(refused(
            "[[models.m.history]]\nfrom = \"2026-09-02\"\nuntil = \"2026-09-01\"\ninput = 1\noutput = 1\n"
        )
        .contains("before it starts"));
        let overlap = refused(
            "[[models.m.history]]\nuntil = \"2026-09-01\"\ninput = 1\noutput = 1\n\
             [[models.m.history]]\nfrom = \"2026-09-01\"\ninput = 2\noutput = 2\n",
        );
        assert!(overlap.contains("overlap"), "{overlap}");
        let day = PriceFile::parse(
            "[models.m]\ninput = 1\noutput = 1\n[[models.m.history]]\nuntil = \"31.08.2026\"\ninput = 1\noutput = 1\n",
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(day.contains("line") && day.contains("2026-08-31"), "{day}");
    }

    #[test]
    fn history_round_trips_through_the_format() {
        let file = PriceFile::parse(
            "[models.m]\ninput = 3\noutput = 15\n[[models.m.history]]\nfrom = 2026-06-01\nuntil = \"2026-08-31\"\ninput = 2\noutput = 10\ncache_read = 0.2\n",
            "f",
        )
        .unwrap();
        let text = file.to_toml().unwrap();
        assert!(text.contains("[[models.m.history]]"), "{text}");
        assert_eq!(PriceFile::parse(&text, "f").unwrap(), file);
    }
}
