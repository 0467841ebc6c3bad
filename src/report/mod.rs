//! Report: how the CLI shows what [`crate::query`] found: tables for people,
//! JSON and CSV for programs. Pure: values in, text out.
//!
//! For users: docs/cli.md#hookmeter-report-and-hookmeter-today.

pub mod advice;
pub mod commands;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use crate::query::{Group, Record, SessionDetail, SessionRow, Summary, Totals};

/// How a command prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// USD with as many decimals as small amounts need: `$12.35`, `$0.0042`.
pub fn usd(amount: f64) -> String {
    if amount.abs() >= 1.0 || amount == 0.0 {
        format!("${amount:.2}")
    } else {
        format!("${amount:.4}")
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

const NUMBER_HEADERS: [&str; 6] = [
    "records",
    "input",
    "output",
    "cache read",
    "cache write",
    "cost",
];

fn number_cells(t: &Totals) -> [String; 6] {
    [
        count(t.records),
        count(t.input_tokens),
        count(t.output_tokens),
        count(t.cache_read_tokens),
        count(t.cache_write_tokens),
        usd(t.cost_usd),
    ]
}

fn table(headers: Vec<String>, numeric_from: usize) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(headers);
    for i in numeric_from..numeric_from + NUMBER_HEADERS.len() {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Field names of the CSV and of each JSON group, after the keys.
const TOTAL_FIELDS: [&str; 8] = [
    "records",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
];

fn total_values(t: &Totals) -> [String; 8] {
    [
        t.records.to_string(),
        decimal(t.cost_usd),
        t.input_tokens.to_string(),
        t.output_tokens.to_string(),
        t.cache_read_tokens.to_string(),
        t.cache_write_tokens.to_string(),
        t.cache_write_1h_tokens.to_string(),
        t.reasoning_tokens.to_string(),
    ]
}

/// A cost for programs: ten decimals at most (well below a token's price),
/// without the float noise of a sum (`0.0017310000000000001`).
fn decimal(amount: f64) -> String {
    let text = format!("{amount:.10}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// One CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let mut line = fields
        .into_iter()
        .map(|f| csv_field(&f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// A summary as `report` prints it.
pub fn render_summary(summary: &Summary, format: Format) -> String {
    match format {
        Format::Json => format!("{:#}\n", summary.to_json()),
        Format::Csv => {
            let mut out = csv_line(
                summary
                    .dimensions
                    .iter()
                    .map(|d| d.name())
                    .chain(TOTAL_FIELDS.iter().map(|f| f.to_string())),
            );
            for g in &summary.groups {
                out.push_str(&csv_line(
                    g.keys
                        .iter()
                        .map(|k| k.clone().unwrap_or_default())
                        .chain(total_values(&g.totals)),
                ));
            }
            out
        }
        Format::Table => {
            let names: Vec<String> = summary.dimensions.iter().map(|d| d.name()).collect();
            let mut t = table(
                names
                    .iter()
                    .cloned()
                    .chain(NUMBER_HEADERS.iter().map(|h| h.to_string()))
                    .collect(),
                names.len(),
            );
            add_groups(&mut t, &summary.groups);
            let mut total: Vec<String> = vec![String::new(); names.len()];
            if let Some(first) = total.first_mut() {
                *first = "total".into();
            }
            t.add_row(total.into_iter().chain(number_cells(&summary.totals)));
            format!("{}\n{t}\n", period_line(summary))
        }
    }
}

fn add_groups(t: &mut Table, groups: &[Group]) {
    for g in groups {
        t.add_row(
            g.keys
                .iter()
                .map(|k| k.clone().unwrap_or_else(|| "(none)".into()))
                .chain(number_cells(&g.totals)),
        );
    }
}

fn period_line(summary: &Summary) -> String {
    let bound = |ts: Option<jiff::Timestamp>, open: &str| {
        ts.map(crate::record::format_timestamp)
            .unwrap_or_else(|| open.to_string())
    };
    format!(
        "{} → {}",
        bound(summary.range.from, "the first record"),
        bound(summary.range.to, "now")
    )
}

/// `sessions`: one line per session.
pub fn render_sessions(rows: &[SessionRow], format: Format) -> String {
    match format {
        Format::Json => format!("{:#}\n", serde_json::json!({ "sessions": rows })),
        Format::Csv => {
            let mut out = csv_line(
                [
                    "session_id",
                    "first_at",
                    "last_at",
                    "models",
                    "agents",
                    "project",
                ]
                .into_iter()
                .map(String::from)
                .chain(TOTAL_FIELDS.iter().map(|f| f.to_string())),
            );
            for r in rows {
                out.push_str(&csv_line(
                    [
                        r.session_id.clone(),
                        r.first_at.clone(),
                        r.last_at.clone(),
                        r.models.join(" "),
                        r.agents.join(" "),
                        r.project.clone().unwrap_or_default(),
                    ]
                    .into_iter()
                    .chain(total_values(&r.totals)),
                ));
            }
            out
        }
        Format::Table => {
            let headers = ["session", "first", "last", "models"]
                .into_iter()
                .map(String::from)
                .chain(NUMBER_HEADERS.iter().map(|h| h.to_string()))
                .collect();
            let mut t = table(headers, 4);
            for r in rows {
                t.add_row(
                    [
                        r.session_id.clone(),
                        r.first_at.clone(),
                        r.last_at.clone(),
                        r.models.join(" "),
                    ]
                    .into_iter()
                    .chain(number_cells(&r.totals)),
                );
            }
            format!("{t}\n")
        }
    }
}

/// `sessions ID`: the session by model and by tool.
pub fn render_session(detail: &SessionDetail, format: Format) -> String {
    match format {
        Format::Json => format!("{:#}\n", detail.to_json()),
        Format::Csv => {
            let mut out = csv_line(
                ["breakdown", "key"]
                    .into_iter()
                    .map(String::from)
                    .chain(TOTAL_FIELDS.iter().map(|f| f.to_string())),
            );
            for (name, groups) in [("model", &detail.by_model), ("tool", &detail.by_tool)] {
                for g in groups {
                    out.push_str(&csv_line(
                        [name.to_string(), g.keys[0].clone().unwrap_or_default()]
                            .into_iter()
                            .chain(total_values(&g.totals)),
                    ));
                }
            }
            out
        }
        Format::Table => {
            let Some(first) = &detail.first_at else {
                return format!("session {}: no records\n", detail.session_id);
            };
            let mut out = format!(
                "session {}: {} → {}, {} records, {}\n",
                detail.session_id,
                first,
                detail.last_at.as_deref().unwrap_or(""),
                count(detail.totals.records),
                usd(detail.totals.cost_usd)
            );
            for (name, groups) in [("model", &detail.by_model), ("tool", &detail.by_tool)] {
                let mut t = table(
                    std::iter::once(name.to_string())
                        .chain(NUMBER_HEADERS.iter().map(|h| h.to_string()))
                        .collect(),
                    1,
                );
                add_groups(&mut t, groups);
                out.push_str(&format!("\nby {name}\n{t}\n"));
            }
            out
        }
    }
}

/// `tail`: one line per record.
pub fn render_record(record: &Record, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::json!(record));
    }
    format!(
        "{}  {:<12} {:<28} {:>9} in {:>9} out {:>11} cache {:>10}  {}\n",
        record.timestamp,
        record.agent_id,
        record.model,
        count(record.input_tokens),
        count(record.output_tokens),
        count(record.cache_read_tokens + record.cache_write_tokens),
        usd(record.estimated_cost_usd),
        record.session_id.as_deref().unwrap_or("-"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(-1_234_567), "-1,234,567");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(0.00421), "$0.0042");
        assert_eq!(usd(0.0), "$0.00");
    }

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(csv_field("Read,Edit"), "\"Read,Edit\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(decimal(0.0017310000000000001), "0.001731");
        assert_eq!(decimal(12.0), "12");
        assert_eq!(decimal(0.0), "0");
    }
}
