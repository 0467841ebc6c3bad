//! Token counts read out of untrusted JSON.
//!
//! Owns the rule for what a token count may be and the wording of the reason
//! given when one is refused. Never panics and never trusts a value it was not
//! handed as a plain whole JSON number.

use serde_json::{Map, Value};

/// The largest token count one model call is believed to report.
///
/// No model has a context anywhere near a billion tokens; a bigger number is a
/// bug upstream, and pricing it would put an absurd cost in the database.
pub const MAX_TOKENS: u64 = 1_000_000_000;

/// Where a field sits in the payload, for reasons a user can act on.
///
/// Kept as its parts so the dotted name is only built when something is wrong.
#[derive(Clone, Copy)]
pub(super) struct Field<'a> {
    /// Dotted path of the object holding the field; empty at the top level.
    pub(super) within: &'a str,
    /// The field's own key, which may itself contain dots (OpenTelemetry names).
    pub(super) key: &'a str,
}

impl<'a> Field<'a> {
    pub(super) fn new(within: &'a str, key: &'a str) -> Self {
        Self { within, key }
    }

    /// The dotted name a user would search the payload for.
    pub(super) fn name(&self) -> String {
        if self.within.is_empty() {
            self.key.to_owned()
        } else {
            format!("{}.{}", self.within, self.key)
        }
    }
}

/// Reads an optional token count: absent or `null` is `None`, anything that is
/// not a whole number in `0..=MAX_TOKENS` is refused with a reason naming the
/// field and the value.
pub(super) fn count(object: &Map<String, Value>, field: Field<'_>) -> Result<Option<u64>, String> {
    match object.get(field.key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => whole_tokens(number, field).map(Some),
        Some(other) => Err(format!(
            "{} is {}; a token count must be a JSON number",
            field.name(),
            describe(other)
        )),
    }
}

/// Reads an optional nested object such as `prompt_tokens_details`: absent or
/// `null` is `None`; any other non-object is refused, because a detail the
/// payload garbled may hide the cached part of a bill.
pub(super) fn details<'v>(
    object: &'v Map<String, Value>,
    field: Field<'_>,
) -> Result<Option<&'v Map<String, Value>>, String> {
    match object.get(field.key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(format!(
            "{} is {}; expected an object",
            field.name(),
            describe(other)
        )),
    }
}

fn whole_tokens(number: &serde_json::Number, field: Field<'_>) -> Result<u64, String> {
    if let Some(n) = number.as_u64() {
        return within_cap(n, number, field);
    }
    if number.as_i64().is_some() {
        return Err(format!("{} is negative ({number})", field.name()));
    }
    // A float: serializers in other languages write 1200 as 1200.0, which is
    // still a whole count; anything with a fraction is not.
    let Some(f) = number.as_f64() else {
        return Err(format!(
            "{} is not a number we can read ({number})",
            field.name()
        ));
    };
    if f < 0.0 {
        return Err(format!("{} is negative ({number})", field.name()));
    }
    if f.fract() != 0.0 {
        return Err(format!("{} is not a whole number ({number})", field.name()));
    }
    if f > MAX_TOKENS as f64 {
        return Err(above_cap(number, field));
    }
    // In range and whole, so the conversion is exact.
    Ok(f as u64)
}

fn within_cap(n: u64, number: &serde_json::Number, field: Field<'_>) -> Result<u64, String> {
    if n > MAX_TOKENS {
        Err(above_cap(number, field))
    } else {
        Ok(n)
    }
}

fn above_cap(number: &serde_json::Number, field: Field<'_>) -> String {
    format!(
        "{} is above the limit of {MAX_TOKENS} tokens per call ({number})",
        field.name()
    )
}

/// Names a JSON value for a reason without echoing all of it: a reason is
/// logged and stored, and the value may be huge or deeply nested.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", clip(s, 40)),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// The first `max_chars` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> Result<Option<u64>, String> {
        let object = json!({ "input_tokens": value });
        count(
            object.as_object().unwrap(),
            Field::new("usage", "input_tokens"),
        )
    }

    #[test]
    fn whole_numbers_within_the_cap_are_counts() {
        assert_eq!(read(json!(0)), Ok(Some(0)));
        assert_eq!(read(json!(1200)), Ok(Some(1200)));
        assert_eq!(read(json!(1200.0)), Ok(Some(1200)));
        assert_eq!(read(json!(MAX_TOKENS)), Ok(Some(MAX_TOKENS)));
        assert_eq!(read(json!(-0.0)), Ok(Some(0)));
    }

    #[test]
    fn null_is_absent() {
        assert_eq!(read(Value::Null), Ok(None));
    }

    #[test]
    fn refusals_name_the_field_and_the_value() {
        assert_eq!(
            read(json!(-5)),
            Err("usage.input_tokens is negative (-5)".to_owned())
        );
        assert_eq!(
            read(json!("1200")),
            Err(
                "usage.input_tokens is a string (\"1200\"); a token count must be a JSON number"
                    .to_owned()
            )
        );
        assert_eq!(
            read(json!(12.5)),
            Err("usage.input_tokens is not a whole number (12.5)".to_owned())
        );
        assert_eq!(
            read(json!(true)),
            Err(
                "usage.input_tokens is a boolean (true); a token count must be a JSON number"
                    .to_owned()
            )
        );
        assert_eq!(
            read(json!(5_000_000_000u64)),
            Err(
                "usage.input_tokens is above the limit of 1000000000 tokens per call (5000000000)"
                    .to_owned()
            )
        );
        assert!(read(json!(1e300)).unwrap_err().contains("above the limit"));
        assert!(read(json!(-2.5)).unwrap_err().contains("negative"));
        assert!(read(json!([1])).unwrap_err().contains("an array"));
        assert!(read(json!({"n": 1})).unwrap_err().contains("an object"));
    }

    #[test]
    fn long_strings_are_clipped_in_reasons() {
        let reason = read(json!("9".repeat(10_000))).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
        assert!(reason.contains('…'));
        // Multi-byte characters are cut on a character boundary.
        assert!(read(json!("é".repeat(100))).unwrap_err().contains('…'));
    }

    #[test]
    fn top_level_fields_have_no_leading_dot() {
        assert_eq!(
            Field::new("", "gen_ai.usage.input_tokens").name(),
            "gen_ai.usage.input_tokens"
        );
    }
}
