//! Test-only: an answer and its JSON schema name the same fields. Every
//! surface serializes an answer type, and MCP's output schemas are those
//! types' `JsonSchema`; this holds the two to each other, both ways: every
//! field answered is in the schema, and every field the schema declares
//! is answered (answers never omit a field: an absent value is null).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// Panics, naming the path, where `answer` and its schema disagree.
pub fn assert_answer_fits_schema<T: Serialize + JsonSchema>(answer: &T) {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    let value = crate::query::json(answer);
    if let Err(e) = fits(&value, &schema, &schema, "$") {
        panic!("{}: {e}\nanswer: {value:#}", std::any::type_name::<T>());
    }
}

/// `schema` with `$ref`s into the root's `$defs` followed; what sits
/// beside a `$ref` applies too (a tagged enum's variant: the struct's
/// fields and its tag), so properties and required fields are merged.
fn resolve(schema: &Value, root: &Value) -> Value {
    let Some(reference) = schema["$ref"].as_str() else {
        return schema.clone();
    };
    let name = reference.trim_start_matches("#/$defs/");
    let mut target = resolve(&root["$defs"][name], root);
    for key in ["properties", "required"] {
        match (target.get_mut(key), schema.get(key)) {
            (Some(Value::Object(into)), Some(Value::Object(more))) => {
                into.extend(more.clone());
            }
            (Some(Value::Array(into)), Some(Value::Array(more))) => {
                into.extend(more.iter().cloned());
            }
            (None, Some(more)) => {
                target[key] = more.clone();
            }
            _ => {}
        }
    }
    target
}

fn fits(value: &Value, schema: &Value, root: &Value, at: &str) -> Result<(), String> {
    let schema = &resolve(schema, root);
    // Options and tagged enums: one of the variants must fit.
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = schema[key].as_array() {
            let mut errors = Vec::new();
            for variant in variants {
                match fits(value, variant, root, at) {
                    Ok(()) => return Ok(()),
                    Err(e) => errors.push(e),
                }
            }
            return Err(format!("{at}: no variant fits: {errors:?}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()), // any value (`labels`)
    };
    match value {
        Value::Null if types.contains(&"null") => Ok(()),
        Value::Object(fields) if types.contains(&"object") => {
            let Some(declared) = schema["properties"].as_object() else {
                return Ok(()); // an open map (`by_provider`)
            };
            if let Some(Value::String(tag)) = schema["properties"]["kind"].get("const") {
                if fields.get("kind") != Some(&Value::String(tag.clone())) {
                    return Err(format!("{at}: not the variant {tag}"));
                }
            }
            for name in declared.keys() {
                if !fields.contains_key(name) {
                    return Err(format!("{at}.{name}: in the schema, not answered"));
                }
            }
            for (name, field) in fields {
                match declared.get(name) {
                    Some(field_schema) => fits(field, field_schema, root, &format!("{at}.{name}"))?,
                    None => return Err(format!("{at}.{name}: answered, not in the schema")),
                }
            }
            Ok(())
        }
        Value::Array(items) if types.contains(&"array") => {
            for (i, item) in items.iter().enumerate() {
                fits(item, &schema["items"], root, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        Value::String(_) if types.contains(&"string") => Ok(()),
        Value::Bool(_) if types.contains(&"boolean") => Ok(()),
        Value::Number(_) if types.contains(&"number") => Ok(()),
        Value::Number(n) if types.contains(&"integer") && !n.is_f64() => Ok(()),
        other => Err(format!("{at}: {other} is not of type {types:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_rows::{database, Row, START};
    use crate::query::{
        record_page, session_detail, sessions, summary, task_cost, Dimension, Filter, Page,
        Records, SessionSort, Sessions,
    };
    use jiff::tz::TimeZone;
    use jiff::Timestamp;

    fn rows() -> Vec<Row> {
        let at = |h: i64| Timestamp::from_second(START + h * 3600).unwrap();
        let row = |h, agent, tool, team| Row {
            ts: at(h),
            agent,
            model: "m-a",
            model_key: None,
            project: Some("shop"),
            session: "s1",
            tool,
            team,
            prompt: Some("p1"),
            branch: Some("main"),
            cost: 0.5,
            input: 10,
        };
        vec![
            row(1, "codex", Some("Read"), Some("red")),
            row(30, "claude-code", None, None),
        ]
    }

    #[test]
    fn every_query_answer_fits_its_schema() {
        let conn = database(&rows());
        let all = Filter::default();
        let tz = TimeZone::UTC;
        for dimensions in [
            vec![],
            vec![Dimension::Model],
            vec![Dimension::Day, Dimension::Tool],
        ] {
            let fallback = crate::query::FallbackPriced {
                cost_usd: 1.0,
                records: 1,
                models: vec![crate::query::FallbackModel {
                    model: "mystery".into(),
                    records: 1,
                    cost_usd: 1.0,
                    first_at: "2026-09-20T10:00:00.000Z".into(),
                    last_at: "2026-09-20T10:00:00.000Z".into(),
                }],
            };
            let answer = summary(&conn, &all, &dimensions, &tz)
                .unwrap()
                .answer(fallback);
            assert_answer_fits_schema(&answer);
        }
        for id in ["s1", "unknown"] {
            assert_answer_fits_schema(&session_detail(&conn, id).unwrap().answer());
        }
        assert_answer_fits_schema(&task_cost(&conn, "T-1", &tz).unwrap());
        let (records, total) = record_page(&conn, &all, 1, 10).unwrap();
        assert_eq!(records.len(), 2);
        assert_answer_fits_schema(&Page {
            list: Records { records },
            total,
            page: 1,
            page_size: 10,
        });
        let rows = sessions(&conn, &all, SessionSort::LastAt, true, 10, 0).unwrap();
        assert_answer_fits_schema(&Sessions {
            sessions: rows.clone(),
        });
        assert_answer_fits_schema(&Page {
            list: Sessions { sessions: rows },
            total: 1,
            page: 1,
            page_size: 10,
        });
    }

    #[test]
    #[should_panic(expected = "answered, not in the schema")]
    fn a_field_the_schema_lacks_is_caught() {
        #[derive(Serialize, JsonSchema)]
        struct Declared {
            a: i64,
        }
        #[derive(Serialize)]
        struct Answered {
            a: i64,
            b: i64,
        }
        impl JsonSchema for Answered {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                Declared::schema_name()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                Declared::json_schema(generator)
            }
        }
        assert_answer_fits_schema(&Answered { a: 1, b: 2 });
    }
}
