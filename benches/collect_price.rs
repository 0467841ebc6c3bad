//! The pure core on one payload: parse, collect, price. Criterion.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const PAYLOAD: &str = r#"{"hook_event_name":"PostToolUse","session_id":"s","tool_use_id":"toolu_1","cwd":"/home/dev/shop","agent_id":"a","tool_name":"Bash","tool_input":{"command":"cargo test"},"tool_response":{"stdout":"ok","stderr":""},"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":4,"output_tokens":97,"cache_read_input_tokens":20000,"cache_creation_input_tokens":2500,"cache_creation":{"ephemeral_5m_input_tokens":2500,"ephemeral_1h_input_tokens":0}}}"#;

fn core(c: &mut Criterion) {
    let table = hookmeter::pricing::PriceTable::embedded();
    c.bench_function("parse + collect + price", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(black_box(PAYLOAD)).unwrap();
            let found = hookmeter::collect::collect(&value);
            if let hookmeter::collect::UsageFinding::Found(usage) = found.usage {
                black_box(table.price(
                    found.model.as_deref().unwrap_or(""),
                    &usage,
                    &found.billing,
                    None,
                ));
            }
        })
    });
    c.bench_function("price lookup (dated bedrock name)", |b| {
        b.iter(|| {
            black_box(
                table
                    .lookup(black_box("us.anthropic.claude-sonnet-4-5-20250929-v1:0"))
                    .key
                    .len(),
            )
        })
    });
}

/// The built-in table is parsed at every CLI command and daemon start.
fn table(c: &mut Criterion) {
    c.bench_function("PriceTable::embedded()", |b| {
        b.iter(|| black_box(hookmeter::pricing::PriceTable::embedded().entries().count()))
    });
    let table = hookmeter::pricing::PriceTable::embedded();
    c.bench_function("price lookup (unknown name, fallback)", |b| {
        b.iter(|| black_box(table.lookup(black_box("acme-coder-9-turbo")).key.len()))
    });
}

criterion_group!(benches, core, table);
criterion_main!(benches);
