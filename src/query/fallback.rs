//! The fallback-priced part of a range: records whose model no table entry
//! matched, so they were priced at the fallback (Opus) rates
//! (`pricing_source = 'fallback'`). Every reader that shows a total shows
//! this beside it, so an unknown model never hides inside a sum.
//!
//! The rollups do not keep `pricing_source`, and are not made to: the key
//! would grow by a column for a distinction nearly every row lacks, on the
//! writer's hot path. Fallback records are rare instead, so this reads
//! `cost_records` through a partial index that holds only them
//! (`idx_cost_records_fallback`, by timestamp): its size is the number of
//! fallback records, whatever the size of the database, and the writer
//! touches it only when it writes one.

use rusqlite::Connection;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Filter, QueryError};

/// The fallback-priced part of a filter's records: how much, how many,
/// which models. All zero and no models when every record was priced by
/// an entry of the table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct FallbackPriced {
    /// What those records cost at the fallback rates, USD.
    pub cost_usd: f64,
    /// How many records were priced at the fallback rates.
    pub records: i64,
    /// The models as the agents named them, most expensive first.
    pub models: Vec<FallbackModel>,
}

/// One model priced at the fallback rates.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FallbackModel {
    /// The model as the agent named it (the raw name on the records).
    pub model: String,
    pub records: i64,
    pub cost_usd: f64,
    /// The oldest such record's timestamp (RFC 3339 UTC).
    pub first_at: String,
    /// The newest such record's timestamp (RFC 3339 UTC).
    pub last_at: String,
}

impl FallbackPriced {
    /// True when no record of the range was priced at the fallback rates.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// The fallback-priced records `filter` keeps, by model.
pub fn fallback_priced(conn: &Connection, filter: &Filter) -> Result<FallbackPriced, QueryError> {
    let (sql, params) = statement(filter);
    let mut stmt = conn.prepare_cached(&sql)?;
    let models = stmt
        .query_map(rusqlite::params_from_iter(&params), |row| {
            Ok(FallbackModel {
                model: row.get(0)?,
                records: row.get(1)?,
                cost_usd: row.get(2)?,
                first_at: row.get(3)?,
                last_at: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FallbackPriced {
        // A fold from 0.0, not `sum`: an empty f64 sum is -0.0, which JSON shows.
        cost_usd: models.iter().fold(0.0, |sum, m| sum + m.cost_usd),
        records: models.iter().map(|m| m.records).sum(),
        models,
    })
}

/// Records whose call reported a billing modifier the price table had no
/// rate for (`service_tier=flex` on a model without flex prices), priced
/// at the standard rates: one row per model and modifiers.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct UnpricedModifier {
    /// The model as the agent named it.
    pub model: String,
    /// The modifiers, as stored (`service_tier=flex,inference_geo=us`).
    pub modifiers: String,
    pub records: i64,
    /// What those records cost at the standard rates, USD.
    pub cost_usd: f64,
}

/// The records of `filter` with an unpriced billing modifier, by model and
/// modifiers, the most records first. Read through the partial index of
/// such records, so it costs nothing when there are none.
pub fn unpriced_modifiers(
    conn: &Connection,
    filter: &Filter,
) -> Result<Vec<UnpricedModifier>, QueryError> {
    let (conditions, params) = filter.record_conditions();
    let sql = format!(
        "SELECT model, unpriced_modifiers, count(*), total(estimated_cost_usd)
         FROM cost_records INDEXED BY idx_cost_records_unpriced
         WHERE unpriced_modifiers IS NOT NULL{conditions}
         GROUP BY model, unpriced_modifiers ORDER BY 3 DESC, model, 2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(&params), |row| {
            Ok(UnpricedModifier {
                model: row.get(0)?,
                modifiers: row.get(1)?,
                records: row.get(2)?,
                cost_usd: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The statement [`fallback_priced`] runs, and its parameters. It names the
/// partial index: left to itself SQLite scans the whole `model` index to
/// group without sorting, which reads every record. The literal
/// `'fallback'` (not a parameter) is what makes the partial index usable:
/// SQLite must find its WHERE in the query's.
fn statement(filter: &Filter) -> (String, Vec<String>) {
    let (conditions, params) = filter.record_conditions();
    let sql = format!(
        "SELECT model, count(*), total(estimated_cost_usd), min(timestamp), max(timestamp)
         FROM cost_records INDEXED BY idx_cost_records_fallback
         WHERE pricing_source = 'fallback'{conditions}
         GROUP BY model ORDER BY 3 DESC, model"
    );
    (sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema_check::assert_answer_fits_schema;
    use crate::query::Range;

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::store::SCHEMA_SQL).unwrap();
        conn.execute_batch(
            "INSERT INTO cost_records (timestamp, agent_id, provider, model, estimated_cost_usd,
                 pricing_source, hook_event_id, source)
             VALUES ('2026-09-20T10:00:00.000Z', 'codex', 'unknown', 'mystery-1', 1.5, 'fallback', 'a', 'hook'),
                    ('2026-09-20T11:00:00.000Z', 'codex', 'unknown', 'mystery-1', 0.5, 'fallback', 'b', 'hook'),
                    ('2026-09-20T12:00:00.000Z', 'claude-code', 'unknown', 'odd-2', 4.0, 'fallback', 'c', 'hook'),
                    ('2026-09-20T12:00:00.000Z', 'claude-code', 'anthropic', 'claude-sonnet-4-5', 9.0, 'embedded', 'd', 'hook'),
                    ('2026-09-21T09:00:00.000Z', 'codex', 'unknown', 'mystery-1', 2.0, 'fallback', 'e', 'hook');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn only_fallback_records_of_the_filter_count_by_model() {
        let conn = database();
        let day = Range {
            from: Some("2026-09-20T00:00:00Z".parse().unwrap()),
            to: Some("2026-09-21T00:00:00Z".parse().unwrap()),
        };
        let answer = fallback_priced(
            &conn,
            &Filter {
                range: day,
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(answer.records, 3);
        assert_eq!(answer.cost_usd, 6.0);
        let names: Vec<_> = answer.models.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(names, ["odd-2", "mystery-1"], "most expensive first");
        assert_eq!(answer.models[1].records, 2);
        assert_eq!(answer.models[1].last_at, "2026-09-20T11:00:00.000Z");
        assert_answer_fits_schema(&answer);

        let codex = Filter {
            agent: Some("codex".into()),
            ..Filter::default()
        };
        let answer = fallback_priced(&conn, &codex).unwrap();
        assert_eq!((answer.records, answer.cost_usd), (3, 4.0));

        let nothing = Filter {
            model: Some("claude-sonnet-4-5".into()),
            ..Filter::default()
        };
        let answer = fallback_priced(&conn, &nothing).unwrap();
        assert!(answer.is_empty());
        assert_eq!(answer, FallbackPriced::default());
        assert!(answer.cost_usd.is_sign_positive(), "0, not -0");
        assert_answer_fits_schema(&answer);
    }

    #[test]
    fn a_range_reads_the_partial_index() {
        let conn = database();
        let filter = Filter {
            range: Range {
                from: Some("2026-09-20T00:00:00Z".parse().unwrap()),
                to: None,
            },
            ..Filter::default()
        };
        let (sql, params) = statement(&filter);
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(&params), |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|step| step.starts_with("SEARCH")
                && step.contains("idx_cost_records_fallback (timestamp>?)")),
            "{plan:?}"
        );
    }
}
