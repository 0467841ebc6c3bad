//! [`Billing`]: what a call's own usage says about how it is billed, beside
//! its token counts.

/// The billing attributes a call reports about itself: fast mode, the
/// service tier and the inference geography. Each changes the price only
/// where the table has a fact for that model; see `pricing::cost`.
///
/// Values meaning "the standard price" (`service_tier` `standard`,
/// `default`, `auto`; `inference_geo` `global`, `not_available`) are kept as
/// `None` by [`Billing::new`], so a stored record only names a modifier
/// that may change its price.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Billing {
    /// Anthropic fast mode (`usage.speed: "fast"`), billed at the model's
    /// fast multiplier.
    pub fast: bool,
    /// The service tier the provider says served the call, lowercase:
    /// `flex`, `priority`, `batch` (or a tier hookmeter does not know, kept
    /// so the record can say it was not priced).
    pub service_tier: Option<String>,
    /// Where inference ran, lowercase, when the provider bills it apart
    /// (Anthropic's `inference_geo: "us"`).
    pub inference_geo: Option<String>,
}

/// Service tiers that are the standard price under another name: Anthropic's
/// `standard`, OpenAI's `default` and `auto` (the request's wish, not a
/// tier that served it).
const STANDARD_TIERS: &[&str] = &["standard", "default", "auto"];

/// Geographies that are the standard price: Anthropic's `global`, and what
/// Claude Code writes when the API gave none.
const STANDARD_GEOS: &[&str] = &["global", "not_available"];

/// Longest modifier value kept: real ones are a word; a longer one is not a
/// billing attribute and is dropped rather than stored.
const MAX_VALUE_LEN: usize = 32;

impl Billing {
    /// The attributes as reported, standard values and junk dropped.
    pub fn new(fast: bool, service_tier: Option<&str>, inference_geo: Option<&str>) -> Billing {
        Billing {
            fast,
            service_tier: modifier(service_tier, STANDARD_TIERS),
            inference_geo: modifier(inference_geo, STANDARD_GEOS),
        }
    }

    /// Billing of a plain call: no modifier.
    pub fn standard() -> Billing {
        Billing::default()
    }

    /// Billing with only the fast flag, as records stored before the other
    /// modifiers were read.
    pub fn fast(fast: bool) -> Billing {
        Billing {
            fast,
            ..Billing::default()
        }
    }
}

fn modifier(value: Option<&str>, standard: &[&str]) -> Option<String> {
    let value = value?.trim().to_ascii_lowercase();
    let usable = !value.is_empty()
        && value.len() <= MAX_VALUE_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (usable && !standard.contains(&value.as_str())).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_values_are_no_modifier() {
        for tier in ["standard", "default", "auto", "Default", ""] {
            assert_eq!(Billing::new(false, Some(tier), None), Billing::standard());
        }
        for geo in ["global", "not_available", " GLOBAL "] {
            assert_eq!(Billing::new(false, None, Some(geo)), Billing::standard());
        }
    }

    #[test]
    fn modifiers_are_kept_lowercase_and_junk_is_dropped() {
        let b = Billing::new(true, Some("Flex"), Some("US"));
        assert_eq!(b.service_tier.as_deref(), Some("flex"));
        assert_eq!(b.inference_geo.as_deref(), Some("us"));
        assert!(b.fast);
        let long = "x".repeat(40);
        assert_eq!(
            Billing::new(false, Some(&long), Some("a b")),
            Billing::standard()
        );
    }
}
