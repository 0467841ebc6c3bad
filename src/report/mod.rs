//! Report: how the CLI shows what [`crate::query`] found: tables for people,
//! JSON and CSV for programs. Pure: values in, text out.
//!
//! For users: docs/cli.md#hookmeter-report-and-hookmeter-today.

pub mod advice;
pub mod commands;
pub mod plan;
pub mod reconcile;

use crate::present::{count, time, MoneySet, Table, View};
use crate::query::{
    self, Dimension, FallbackPriced, Group, Record, SessionDetail, SessionRow, Sessions, Summary,
    Totals,
};

/// How a command prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

const NUMBER_HEADERS: [&str; 6] = [
    "records",
    "input",
    "output",
    "cache read",
    "cache write",
    "cost",
];

/// A table of groups: the key columns of `keys`, then the counts and the
/// cost; the costs of the rows and the total are one set of amounts.
fn groups_table(keys: Table, groups: &[Group], total: Option<&Totals>) -> Table {
    let key_columns = keys.column_count();
    let mut t = NUMBER_HEADERS.iter().fold(keys, |t, h| t.number(h));
    let money = MoneySet::of(
        groups
            .iter()
            .map(|g| g.totals.cost_usd)
            .chain(total.map(|t| t.cost_usd)),
    );
    // Without keys, the one group is the total itself: print it once.
    let groups = if key_columns == 0 && total.is_some() {
        &[]
    } else {
        groups
    };
    for g in groups {
        t.row(
            g.keys
                .iter()
                .map(|k| k.clone().unwrap_or_else(|| "(none)".into()))
                .chain(number_cells(&g.totals, &money)),
        );
    }
    if let Some(total) = total {
        let mut cells = vec![String::new(); key_columns];
        if let Some(first) = cells.first_mut() {
            *first = "total".into();
        }
        t.total(cells.into_iter().chain(number_cells(total, &money)));
    }
    t
}

fn number_cells(t: &Totals, money: &MoneySet) -> [String; 6] {
    [
        count(t.records),
        count(t.input_tokens),
        count(t.output_tokens),
        count(t.cache_read_tokens),
        count(t.cache_write_tokens),
        money.show(t.cost_usd),
    ]
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

/// A summary as `report` prints it, under the line `period` that says which
/// period it covers; a table is followed by what of it is fallback-priced.
pub fn render_summary(
    summary: &Summary,
    fallback: &FallbackPriced,
    period: &str,
    view: &View,
    format: Format,
) -> String {
    match format {
        Format::Json => format!("{:#}\n", query::json(&summary.answer(fallback.clone()))),
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
            let headers: Vec<String> = summary.dimensions.iter().map(Dimension::name).collect();
            let mut groups = summary.groups.clone();
            let mut times = Vec::new();
            for g in &mut groups {
                for (key, d) in g.keys.iter_mut().zip(&summary.dimensions) {
                    let Some(k) = key.as_mut() else { continue };
                    match d {
                        Dimension::Day => {
                            times.extend(local_start(&format!("{k}T00:00"), &view.tz))
                        }
                        Dimension::Hour => {
                            times.extend(local_start(k, &view.tz));
                            // `2026-09-20T10:00` in JSON; a person reads a space.
                            *k = k.replacen('T', " ", 1);
                        }
                        _ => {}
                    }
                }
            }
            let mut table = Table::new();
            for (name, d) in headers.iter().zip(&summary.dimensions) {
                table = match d {
                    Dimension::Day | Dimension::Hour => table.fixed(name),
                    _ => table.text(name),
                };
            }
            let table = groups_table(table, &groups, Some(&summary.totals));
            // Days and hours are the zone's: say which, with its offsets.
            let note = match summary
                .dimensions
                .iter()
                .any(|d| matches!(d, Dimension::Day | Dimension::Hour))
            {
                true => format!("{}\n", time::zone_note(&view.tz, &times)),
                false => String::new(),
            };
            format!(
                "{period}\n{note}{}{}",
                table.render(view.width),
                fallback_notice(fallback, summary.totals.cost_usd)
            )
        }
    }
}

/// How many fallback-priced models a notice names; the rest are counted.
const NOTICE_MODELS: usize = 5;

/// The lines under a report that say how much of its total was priced at
/// the fallback rates, for which models, and how to price them; nothing
/// when every record was priced by a table entry.
pub fn fallback_notice(fallback: &FallbackPriced, total_usd: f64) -> String {
    if fallback.is_empty() {
        return String::new();
    }
    let money = MoneySet::of(
        fallback
            .models
            .iter()
            .map(|m| m.cost_usd)
            .chain([fallback.cost_usd, total_usd]),
    );
    let mut models: Vec<String> = fallback
        .models
        .iter()
        .take(NOTICE_MODELS)
        .map(|m| {
            format!(
                "{} ({}, {})",
                m.model,
                money.show(m.cost_usd).trim(),
                crate::present::counted(u64::try_from(m.records).unwrap_or(0), "record", "records")
            )
        })
        .collect();
    let more = fallback.models.len().saturating_sub(NOTICE_MODELS);
    if more > 0 {
        models.push(format!("{more} more"));
    }
    format!(
        "\nFallback-priced: {} of the {} total is priced at the fallback (Opus) rates, \
         for models the price table does not know: {}.\n\
         Price one with `hookmeter pricing set MODEL --input USD --output USD` \
         (USD per 1M tokens; `hookmeter pricing check MODEL` shows how it is priced now).\n",
        money.show(fallback.cost_usd).trim(),
        money.show(total_usd).trim(),
        models.join(", ")
    )
}

/// The instant a local day or hour (`2026-09-20T10:00`) starts in `tz`.
fn local_start(key: &str, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
    let civil: jiff::civil::DateTime = key.parse().ok()?;
    Some(civil.to_zoned(tz.clone()).ok()?.timestamp())
}

/// `sessions`: one line per session, most recently active first.
pub fn render_sessions(rows: &[SessionRow], view: &View, format: Format) -> String {
    match format {
        Format::Json => format!(
            "{:#}\n",
            query::json(&Sessions {
                sessions: rows.to_vec()
            })
        ),
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
            if rows.is_empty() {
                return "No sessions.\n".to_string();
            }
            let parse = |text: &str| text.parse::<jiff::Timestamp>().ok();
            let mut t = Table::new()
                .id("session")
                .fixed("last active")
                .number("duration")
                .text("models")
                .number("records")
                .number("tokens")
                .number("cost");
            let money = MoneySet::of(rows.iter().map(|r| r.totals.cost_usd));
            let mut times = Vec::new();
            for r in rows {
                let (first, last) = (parse(&r.first_at), parse(&r.last_at));
                times.extend(last);
                t.row([
                    r.session_id.clone(),
                    time::stored_cell(&r.last_at, &view.tz),
                    match (first, last) {
                        (Some(first), Some(last)) => span(first, last),
                        _ => String::new(),
                    },
                    r.models.join(" "),
                    count(r.totals.records),
                    count(r.totals.tokens()),
                    money.show(r.totals.cost_usd),
                ]);
            }
            format!(
                "{}; `hookmeter sessions ID` for one session\n{}",
                time::zone_note(&view.tz, &times),
                t.render(view.width)
            )
        }
    }
}

/// The time between a session's first and last record: `<1m`, `42m`,
/// `3h 05m`, `2d 04h`.
fn span(first: jiff::Timestamp, last: jiff::Timestamp) -> String {
    let minutes = (last.as_second() - first.as_second()).max(0) / 60;
    match minutes {
        0 => "<1m".to_string(),
        m if m < 60 => format!("{m}m"),
        m if m < 24 * 60 => format!("{}h {:02}m", m / 60, m % 60),
        m => format!("{}d {:02}h", m / (24 * 60), m % (24 * 60) / 60),
    }
}

/// `sessions ID`: the session by model and by tool.
pub fn render_session(detail: &SessionDetail, view: &View, format: Format) -> String {
    match format {
        Format::Json => format!("{:#}\n", query::json(&detail.answer())),
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
            for p in &detail.by_prompt {
                out.push_str(&csv_line(
                    [
                        "prompt".to_string(),
                        p.prompt_id.clone().unwrap_or_default(),
                    ]
                    .into_iter()
                    .chain(total_values(&p.totals)),
                ));
            }
            out
        }
        Format::Table => {
            let Some(first) = &detail.first_at else {
                return format!("session {}: no records\n", detail.session_id);
            };
            let mut out = format!(
                "session {}\n{} → {}, {}\n",
                detail.session_id,
                time::stored_instant(first, &view.tz),
                time::stored_instant(detail.last_at.as_deref().unwrap_or(""), &view.tz),
                crate::present::counted(
                    u64::try_from(detail.totals.records).unwrap_or(0),
                    "record",
                    "records"
                ),
            );
            for (name, groups) in [("model", &detail.by_model), ("tool", &detail.by_tool)] {
                let table = groups_table(Table::new().text(name), groups, Some(&detail.totals));
                out.push_str(&format!("\nby {name}\n{}", table.render(view.width)));
            }
            // Only when some record names its prompt: a table of one
            // "(none)" row would say nothing the total does not.
            if detail.by_prompt.iter().any(|p| p.prompt_id.is_some()) {
                let prompts: Vec<Group> = detail
                    .by_prompt
                    .iter()
                    .map(|p| Group {
                        keys: vec![
                            p.prompt_id.clone(),
                            Some(time::stored_instant(&p.first_at, &view.tz)),
                        ],
                        totals: p.totals,
                    })
                    .collect();
                let table = groups_table(
                    Table::new().text("prompt").text("first"),
                    &prompts,
                    Some(&detail.totals),
                );
                out.push_str(&format!("\nby prompt\n{}", table.render(view.width)));
            }
            out
        }
    }
}

/// How `tail` lays out its lines, chosen once for the width so that every
/// line of a `tail -f` aligns with the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailLayout {
    agent: usize,
    model: usize,
    /// Input, output and cache tokens apart; else their sum.
    tokens_apart: bool,
    /// The session's width; `None`: no session column.
    session: Option<usize>,
    /// The cost's width: 9 fits any cost under $100 at five decimals.
    cost: usize,
}

/// `time` is always whole: `2026-12-06 09:15:42 -05:00`.
const TAIL_TIME: usize = 26;
const TAIL_COUNT: usize = 9;
const TAIL_GAP: usize = 2;

impl TailLayout {
    /// The widest layout that fits `width`: token columns merge, then agent
    /// and model shrink, then the session column goes.
    pub fn for_width(width: Option<usize>) -> TailLayout {
        let wide = TailLayout {
            agent: 14,
            model: 28,
            tokens_apart: true,
            session: Some(36),
            cost: 10,
        };
        let Some(width) = width else {
            return wide;
        };
        let candidates = [
            wide.clone(),
            TailLayout {
                session: Some(12),
                ..wide.clone()
            },
            TailLayout {
                tokens_apart: false,
                session: Some(12),
                ..wide.clone()
            },
            TailLayout {
                agent: 10,
                model: 16,
                tokens_apart: false,
                session: Some(8),
                cost: 10,
            },
            // 80 columns: `claude-code` and `claude-sonnet-4-5`, the most
            // common agent and model, still whole.
            TailLayout {
                agent: 11,
                model: 17,
                tokens_apart: false,
                session: None,
                cost: 9,
            },
        ];
        let last = candidates[candidates.len() - 1].clone();
        candidates
            .into_iter()
            .find(|l| l.width() <= width)
            .unwrap_or(last)
    }

    fn width(&self) -> usize {
        let counts = if self.tokens_apart { 3 } else { 1 };
        let columns = [TAIL_TIME, self.agent, self.model, self.cost]
            .into_iter()
            .chain(std::iter::repeat_n(TAIL_COUNT, counts))
            .chain(self.session)
            .collect::<Vec<_>>();
        columns.iter().sum::<usize>() + TAIL_GAP * (columns.len() - 1)
    }

    /// The line naming the columns.
    pub fn header(&self) -> String {
        let mut cells = vec![
            format!("{:<TAIL_TIME$}", "time"),
            format!("{:<w$}", "agent", w = self.agent),
            format!("{:<w$}", "model", w = self.model),
        ];
        if self.tokens_apart {
            for name in ["input", "output", "cache"] {
                cells.push(format!("{name:>TAIL_COUNT$}"));
            }
        } else {
            cells.push(format!("{:>TAIL_COUNT$}", "tokens"));
        }
        cells.push(format!("{:>w$}", "cost", w = self.cost));
        if self.session.is_some() {
            cells.push("session".to_string());
        }
        format!("{}\n", cells.join("  ").trim_end())
    }

    /// One line per record, in the order given; the costs of `records` are
    /// one set of amounts.
    pub fn lines(&self, records: &[Record], tz: &jiff::tz::TimeZone) -> String {
        use crate::present::table::{fit, fit_middle};
        let money = MoneySet::of(records.iter().map(|r| r.estimated_cost_usd));
        let mut out = String::new();
        for r in records {
            let mut cells = vec![
                format!("{:<TAIL_TIME$}", time_of(&r.timestamp, tz)),
                format!("{:<w$}", fit(&r.agent_id, self.agent), w = self.agent),
                format!("{:<w$}", fit(&r.model, self.model), w = self.model),
            ];
            let cache = r.cache_read_tokens + r.cache_write_tokens;
            if self.tokens_apart {
                for n in [r.input_tokens, r.output_tokens, cache] {
                    cells.push(format!("{:>TAIL_COUNT$}", count(n)));
                }
            } else {
                let all = r.input_tokens + r.output_tokens + cache;
                cells.push(format!("{:>TAIL_COUNT$}", count(all)));
            }
            cells.push(format!(
                "{:>w$}",
                money.show(r.estimated_cost_usd),
                w = self.cost
            ));
            if let Some(width) = self.session {
                cells.push(fit_middle(r.session_id.as_deref().unwrap_or("-"), width));
            }
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// A record's stored timestamp as `tail` shows it, with seconds and offset.
fn time_of(stored: &str, tz: &jiff::tz::TimeZone) -> String {
    stored
        .parse::<jiff::Timestamp>()
        .map_or_else(|_| stored.to_string(), |ts| time::instant_seconds(ts, tz))
}

/// `tail --json`: one JSON object per record.
pub fn render_record_json(record: &Record) -> String {
    format!("{}\n", query::json(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(csv_field("Read,Edit"), "\"Read,Edit\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(decimal(0.0017310000000000001), "0.001731");
        assert_eq!(decimal(12.0), "12");
        assert_eq!(decimal(0.0), "0");
    }

    #[test]
    fn tail_layouts_fit_their_width() {
        for width in [80, 100, 120, 160, 200] {
            let layout = TailLayout::for_width(Some(width));
            assert!(layout.width() <= width, "{width}: {layout:?}");
        }
        assert_eq!(TailLayout::for_width(Some(80)).session, None);
        assert!(TailLayout::for_width(None).tokens_apart);
    }

    #[test]
    fn session_spans_read_in_the_largest_units() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let start = at("2026-09-20T08:00:00Z");
        assert_eq!(span(start, at("2026-09-20T08:00:30Z")), "<1m");
        assert_eq!(span(start, at("2026-09-20T08:42:00Z")), "42m");
        assert_eq!(span(start, at("2026-09-20T11:05:00Z")), "3h 05m");
        assert_eq!(span(start, at("2026-09-22T12:00:00Z")), "2d 04h");
    }
}
