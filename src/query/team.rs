//! The team's spend in the central PostgreSQL (`report --team`): the
//! summaries of [`super::summary`] over `hookmeter.cost_records`, every
//! machine's records at once, read in one read-only transaction. The
//! filter is a local report's ([`Filter`], the same conditions), plus
//! whose records; the grouping adds who and where (`user`, `host`,
//! `machine`). Connecting is the push's; nothing here opens a connection,
//! and nothing here writes.
//!
//! There is no rollup centrally: the server sums the records, grouped by
//! UTC hour (minute when the zone's offset is not whole hours) when a
//! report groups by time, and [`Parts`] places those buckets in the
//! report's zone exactly as a local report does.

use jiff::tz::TimeZone;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Transaction};

use super::fallback::{FallbackModel, FallbackPriced};
use super::summary::{Bucket, Parts, Summary, Totals};
use super::{Dimension, Filter};
use crate::store::central::{self, CentralError, CENTRAL_VERSION};

/// What narrows the team's records: a local report's filter, and whose.
#[derive(Debug, Clone, Copy)]
pub struct TeamFilter<'a> {
    pub filter: &'a Filter,
    /// Only this user's records (`[push] user` of their machines).
    pub user: Option<&'a str>,
}

/// A read-only transaction on the central database whose schema this
/// hookmeter can read: a report cannot change the team's data, whatever
/// the role it logs in as may do.
pub async fn read_only(client: &mut Client) -> Result<Transaction<'_>, CentralError> {
    let tx = client.build_transaction().read_only(true).start().await?;
    match central::version(&tx).await? {
        None => Err(CentralError::Missing),
        Some(found) if found > CENTRAL_VERSION => Err(CentralError::TooNew { found }),
        Some(_) => Ok(tx),
    }
}

/// Totals of the central records `filter` keeps, grouped by `dimensions`,
/// days and hours those of `tz`: what [`super::summary`] answers locally.
pub async fn summary(
    tx: &Transaction<'_>,
    filter: TeamFilter<'_>,
    dimensions: &[Dimension],
    tz: &TimeZone,
) -> Result<Summary, CentralError> {
    let mut parts = Parts::new(dimensions, tz);
    if !read(tx, &mut parts, filter, dimensions, Bucket::Hour).await? {
        // The zone splits an hour between two local hours or days.
        parts = Parts::new(dimensions, tz);
        read(tx, &mut parts, filter, dimensions, Bucket::Minute).await?;
    }
    Ok(parts.finish(filter.filter.range))
}

/// The fallback-priced part of the central records `filter` keeps, by
/// model: what [`super::fallback_priced`] answers locally.
pub async fn fallback_priced(
    tx: &Transaction<'_>,
    filter: TeamFilter<'_>,
) -> Result<FallbackPriced, CentralError> {
    let (conditions, params) = conditions(filter);
    let sql = format!(
        "SELECT model, count(*), sum(estimated_cost_usd), {}, {}
         FROM hookmeter.cost_records
         WHERE pricing_source = 'fallback'{conditions}
         GROUP BY model ORDER BY 3 DESC, model",
        stored_time("min(ts)"),
        stored_time("max(ts)"),
    );
    let rows = tx.query(&sql, &as_params(&params)).await?;
    let models = rows
        .iter()
        .map(|row| {
            Ok(FallbackModel {
                model: row.try_get(0)?,
                records: row.try_get(1)?,
                cost_usd: row.try_get(2)?,
                first_at: row.try_get(3)?,
                last_at: row.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    Ok(FallbackPriced {
        // A fold from 0.0, not `sum`: an empty f64 sum is -0.0.
        cost_usd: models.iter().fold(0.0, |sum, m| sum + m.cost_usd),
        records: models.iter().map(|m| m.records).sum(),
        models,
    })
}

/// An instant as the local database stores it (`2026-09-20T10:00:00.000Z`).
fn stored_time(expression: &str) -> String {
    format!("to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

/// The rows of one query into `parts`; false when a bucket straddles two
/// local days or hours.
async fn read(
    tx: &Transaction<'_>,
    parts: &mut Parts<'_>,
    filter: TeamFilter<'_>,
    dimensions: &[Dimension],
    bucket: Bucket,
) -> Result<bool, CentralError> {
    let (conditions, mut params) = conditions(filter);
    let timed = dimensions.iter().any(Dimension::is_time);
    let mut columns: Vec<String> = Vec::new();
    if timed {
        // The labels `Bucket` reads: `2026-09-20T10`, `2026-09-20T10:05`.
        let format = match bucket {
            Bucket::Hour => "YYYY-MM-DD\"T\"HH24",
            Bucket::Minute => "YYYY-MM-DD\"T\"HH24:MI",
        };
        columns.push(format!("to_char(ts AT TIME ZONE 'UTC', '{format}')"));
    }
    for d in dimensions.iter().filter(|d| !d.is_time()) {
        columns.push(match d {
            Dimension::Label(key) => {
                params.push(key.clone());
                format!("labels ->> ${}::text", params.len())
            }
            other => column(other).to_string(),
        });
    }
    let mut sql = String::from("SELECT ");
    for c in &columns {
        sql.push_str(c);
        sql.push_str(", ");
    }
    sql.push_str(
        "count(*), coalesce(sum(estimated_cost_usd), 0)::float8, \
         coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, \
         coalesce(sum(cache_read_tokens), 0)::bigint, \
         coalesce(sum(cache_write_tokens), 0)::bigint, \
         coalesce(sum(cache_write_1h_tokens), 0)::bigint, \
         coalesce(sum(reasoning_tokens), 0)::bigint \
         FROM hookmeter.cost_records WHERE true",
    );
    sql.push_str(&conditions);
    if !columns.is_empty() {
        let positions: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
        sql.push_str(&format!(" GROUP BY {}", positions.join(", ")));
    }
    let keys = columns.len() - usize::from(timed);
    for row in tx.query(&sql, &as_params(&params)).await? {
        let label: Option<String> = if timed { row.try_get(0)? } else { None };
        let first = usize::from(timed);
        let values = (first..first + keys)
            .map(|i| row.try_get::<_, Option<String>>(i))
            .collect::<Result<Vec<_>, _>>()?;
        let sum = |i: usize| row.try_get::<_, i64>(first + keys + i);
        let totals = Totals {
            records: sum(0)?,
            cost_usd: row.try_get(first + keys + 1)?,
            input_tokens: sum(2)?,
            output_tokens: sum(3)?,
            cache_read_tokens: sum(4)?,
            cache_write_tokens: sum(5)?,
            cache_write_1h_tokens: sum(6)?,
            reasoning_tokens: sum(7)?,
        };
        if !parts.add(label.as_deref(), values, totals, bucket) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A dimension's column in `hookmeter.cost_records`.
fn column(d: &Dimension) -> &'static str {
    match d {
        Dimension::User => "user_name",
        Dimension::Host => "host",
        Dimension::Machine => "machine_id",
        Dimension::Agent => "agent_id",
        Dimension::Model => "coalesce(model_key, model)",
        Dimension::Provider => "provider",
        // As the local rollup keeps it: no project is none, never ''.
        Dimension::Project => "NULLIF(project, '')",
        Dimension::Session => "session_id",
        Dimension::Tool => "tool_name",
        Dimension::Task => "task_id",
        Dimension::Prompt => "prompt_id",
        Dimension::Branch => "git_branch",
        Dimension::Day | Dimension::Hour | Dimension::Label(_) => {
            unreachable!("time and label columns are built by the caller")
        }
    }
}

/// `AND`-ed conditions on `hookmeter.cost_records` and their parameters:
/// a local report's ([`Filter::conditions`], whose columns the central
/// table names the same), the user, and the time range.
fn conditions(filter: TeamFilter<'_>) -> (String, Vec<String>) {
    let (sql, mut params) = filter.filter.conditions(false);
    // The same conditions in PostgreSQL's placeholders: `?3` is `$3`.
    let mut sql = sql.replace('?', "$");
    if let Some(user) = filter.user {
        params.push(user.to_string());
        sql.push_str(&format!(" AND user_name = ${}", params.len()));
    }
    let range = filter.filter.range;
    for (op, bound) in [(">=", range.from), ("<", range.to)] {
        if let Some(ts) = bound {
            params.push(crate::record::format_timestamp(ts));
            sql.push_str(&format!(
                " AND ts {op} ${}::text::timestamptz",
                params.len()
            ));
        }
    }
    (sql, params)
}

fn as_params(params: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Range;

    #[test]
    fn a_local_filter_reads_the_same_centrally_with_dollar_placeholders() {
        let filter = Filter {
            range: Range {
                from: Some("2026-09-20T00:00:00Z".parse().unwrap()),
                to: None,
            },
            agent: Some("codex".into()),
            model: Some("m".into()),
            project: Some("shop".into()),
            ..Filter::default()
        };
        let (sql, params) = conditions(TeamFilter {
            filter: &filter,
            user: Some("ann"),
        });
        assert!(!sql.contains('?'), "{sql}");
        assert!(sql.contains("agent_id = $1"), "{sql}");
        assert!(sql.contains("(model = $2 OR model_key = $2)"), "{sql}");
        assert!(sql.contains("coalesce(project, '') = $3"), "{sql}");
        assert!(sql.contains("user_name = $4"), "{sql}");
        assert!(sql.contains("ts >= $5::text::timestamptz"), "{sql}");
        assert_eq!(params.len(), 5);
        assert_eq!(params[3], "ann");
    }
}
