//! Human-readable views of the table for `hookmeter pricing list` and
//! `hookmeter pricing check MODEL`. Plain text, no colour, stable column
//! order, so the output can be grepped and diffed.

use std::fmt::Write as _;

use hookmeter_core::pricing::{
    DatedRates, LongContext, MatchKind, PriceTable, PricingSource, Rates, FALLBACK_KEY,
};
use jiff::Timestamp;

/// The whole table: its date (and the user file's) at the top, one row per
/// entry sorted by provider then key, then the rules for local and unknown
/// models and any warnings. The table fits `width` where its text allows.
pub fn render_list(table: &PriceTable, width: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Prices in USD per 1M tokens; built-in table as of {}.",
        table.as_of()
    );
    if let Some(path) = table.update_file() {
        let _ = writeln!(
            out,
            "Price update: {path} ({} models, as of {}).",
            table.update_models(),
            table.update_as_of().unwrap_or("an unknown date")
        );
    }
    if let Some(path) = table.user_file() {
        let dated = table
            .user_as_of()
            .map(|date| format!(", as of {date}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "User file: {path} ({} models{dated}).",
            table.user_models()
        );
    }
    out.push('\n');

    let mut t = crate::present::Table::new()
        .fixed("model")
        .text("provider")
        .number("input")
        .number("output")
        .number("cache read")
        .number("write 5m")
        .number("write 1h")
        .fixed("long context (in/out/cr/w5m/w1h)")
        .text("fast")
        .text("source")
        .text("aliases");
    for entry in table.entries() {
        let rates = entry.rates();
        t.row([
            entry.key().to_string(),
            entry.provider().to_string(),
            usd(rates.input),
            usd(rates.output),
            usd(rates.cache_read),
            usd(rates.cache_write_5m),
            usd(rates.cache_write_1h),
            rates
                .long_context
                .as_ref()
                .map(tier_cell)
                .unwrap_or_default(),
            rates
                .fast_multiplier
                .map(|m| format!("x{}", usd(m)))
                .unwrap_or_default(),
            entry.source().to_string(),
            entry.aliases().join(", "),
        ]);
    }
    out.push_str(&t.render(width));

    let dated: Vec<_> = table
        .entries()
        .filter(|entry| !entry.history().is_empty())
        .collect();
    if !dated.is_empty() {
        out.push_str("\nDated prices (the rates above hold outside these spans of UTC days):\n");
        for entry in dated {
            for span in entry.history() {
                let _ = writeln!(out, "  {}  {}", entry.key(), span_line(span));
            }
        }
    }

    let _ = write!(
        out,
        "\nLocal models (ollama/..., lmstudio/..., local, cli, cli_bridge) cost $0; their tokens are still counted.\n\
         Unknown models are priced as {FALLBACK_KEY} and recorded with pricing_source = fallback.\n"
    );
    for warning in table.warnings() {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// What `model` resolves to: the normalized name, the entry matched and
/// how, its provider, source, every rate in force at `at` (the undated
/// rates when `None`) and the entry's history spans.
pub fn render_check(table: &PriceTable, model: &str, at: Option<Timestamp>) -> String {
    let found = table.lookup(model);
    let mut out = String::new();
    let _ = writeln!(out, "model        {model}");
    let _ = writeln!(out, "normalized   {}", found.normalized);
    let how = match found.kind {
        // Keys keep their route and region; only `.` is written as `-`.
        MatchKind::Exact if found.normalized != found.key.replace('.', "-") => {
            format!("exact: {} (alias {})", found.key, found.normalized)
        }
        MatchKind::Exact => format!("exact: {}", found.key),
        MatchKind::Prefix => format!(
            "prefix: {} (the longest table key the name extends)",
            found.key
        ),
        MatchKind::Local => format!(
            "local provider {}: costs $0, tokens are still counted",
            found.key
        ),
        MatchKind::Fallback => format!(
            "none: priced as {FALLBACK_KEY} so the cost is not lost; to price it exactly: hookmeter pricing set {} --input USD --output USD",
            model.trim()
        ),
    };
    let _ = writeln!(out, "match        {how}");
    let _ = writeln!(out, "provider     {}", found.provider);

    let entry = table.entries().find(|entry| entry.key() == found.key);
    let source = match (found.source, entry) {
        (PricingSource::Embedded, _) => {
            format!("embedded (built-in table as of {})", table.as_of())
        }
        (PricingSource::User, _) => {
            format!("user ({})", table.user_file().unwrap_or("pricing.toml"))
        }
        (PricingSource::Update, _) => format!(
            "update ({}, as of {})",
            table.update_file().unwrap_or("the price update"),
            table.update_as_of().unwrap_or("an unknown date")
        ),
        (PricingSource::Env, Some(entry)) => format!("env ({})", entry.env_vars().join(", ")),
        (other, _) => other.to_string(),
    };
    let _ = writeln!(out, "source       {source}");
    if let Some(entry) = entry.filter(|_| found.kind != MatchKind::Fallback) {
        if !entry.aliases().is_empty() {
            let _ = writeln!(out, "aliases      {}", entry.aliases().join(", "));
        }
    }
    if let Some(at) = at {
        let held = found.history.iter().find(|span| span.holds_at(at));
        let which = match held {
            Some(span) => format!("the history span {}", span.days()),
            None if found.history.is_empty() => "the entry's only rates".to_string(),
            None => "the undated rates (no history span holds then)".to_string(),
        };
        let _ = writeln!(out, "at           {at}: {which}");
    }
    write_rates(&mut out, found.rates_at(at));
    for (i, span) in found.history.iter().enumerate() {
        let label = if i == 0 { "history" } else { "" };
        let _ = writeln!(out, "{label:<13}{}", span_line(span));
    }
    out
}

/// One history span as a line: its days and its rates.
fn span_line(span: &DatedRates) -> String {
    let rates = &span.rates;
    let mut line = format!(
        "{}: input {}, output {}, cache read {}, cache write 5m {}, cache write 1h {}",
        span.days(),
        usd(rates.input),
        usd(rates.output),
        usd(rates.cache_read),
        usd(rates.cache_write_5m),
        usd(rates.cache_write_1h)
    );
    if let Some(tier) = &rates.long_context {
        let _ = write!(line, ", long context {}", tier_cell(tier));
    }
    if let Some(m) = rates.fast_multiplier {
        let _ = write!(line, ", fast x{}", usd(m));
    }
    line
}

fn write_rates(out: &mut String, rates: &Rates) {
    let _ = writeln!(out, "rates        USD per 1M tokens");
    for (name, value) in [
        ("input", rates.input),
        ("output", rates.output),
        ("cache read", rates.cache_read),
        ("cache write 5m", rates.cache_write_5m),
        ("cache write 1h", rates.cache_write_1h),
    ] {
        let _ = writeln!(out, "  {name:<16}{}", usd(value));
    }
    match &rates.long_context {
        Some(tier) => {
            let _ = writeln!(
                out,
                "  {:<16}over {} prompt tokens the whole request costs: input {}, output {}, cache read {}, cache write 5m {}, cache write 1h {}",
                "long context",
                tokens(tier.threshold),
                usd(tier.input),
                usd(tier.output),
                usd(tier.cache_read),
                usd(tier.cache_write_5m),
                usd(tier.cache_write_1h)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  {:<16}none (one price at any prompt size)",
                "long context"
            );
        }
    }
    let fast = rates.fast_multiplier.map_or_else(
        || "none (fast requests cost the same)".to_string(),
        |m| format!("x{} on the whole cost", usd(m)),
    );
    let _ = writeln!(out, "  {:<16}{fast}", "fast mode");
    for (name, tier) in &rates.service_tiers {
        let mut line = format!(
            "{name}: input {}, output {}, cache read {}, cache write {}",
            usd(tier.input),
            usd(tier.output),
            usd(tier.cache_read),
            usd(tier.cache_write)
        );
        match (&tier.long_context, &rates.long_context) {
            (Some(long), Some(threshold)) => {
                let _ = write!(
                    line,
                    "; over {}: input {}, output {}, cache read {}, cache write {}",
                    tokens(threshold.threshold),
                    usd(long.input),
                    usd(long.output),
                    usd(long.cache_read),
                    usd(long.cache_write)
                );
            }
            (None, Some(threshold)) => {
                let _ = write!(
                    line,
                    "; over {}: the long-context rates, flagged",
                    tokens(threshold.threshold)
                );
            }
            _ => {}
        }
        let _ = writeln!(out, "  {:<16}{line}", "service tier");
    }
    for (geo, factor) in &rates.inference_geo {
        let _ = writeln!(
            out,
            "  {:<16}{geo}: x{} on the whole cost",
            "inference geo",
            usd(*factor)
        );
    }
}

fn tier_cell(tier: &LongContext) -> String {
    format!(
        ">{}: {}/{}/{}/{}/{}",
        tokens(tier.threshold),
        usd(tier.input),
        usd(tier.output),
        usd(tier.cache_read),
        usd(tier.cache_write_5m),
        usd(tier.cache_write_1h)
    )
}

/// A rate as written in a price file: shortest exact form, no trailing zeros.
fn usd(value: f64) -> String {
    format!("{value}")
}

/// A threshold the way prices are quoted: `200k`, `1M`.
fn tokens(count: u64) -> String {
    if count >= 1_000_000 && count.is_multiple_of(1_000_000) {
        format!("{}M", count / 1_000_000)
    } else if count >= 1_000 && count.is_multiple_of(1_000) {
        format!("{}k", count / 1_000)
    } else {
        count.to_string()
    }
}
