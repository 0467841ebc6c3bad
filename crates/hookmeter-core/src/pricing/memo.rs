//! A price table with a memo of resolved model names, for the one caller on
//! the hot path (the writer), which prices the same handful of names for
//! every event. Resolving a name normalizes it and may scan every key for a
//! prefix; the memo makes that a single hash lookup after the first time.
//! The entry's dated rates are remembered with it and picked per call by
//! the call's time: a few comparisons.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::dated::{in_force, DatedRates};
use super::entry::PricingSource;
use super::rates::Rates;
use super::table::{priced, PriceTable, Priced};
use crate::terms::{Billing, Usage};

/// Distinct names remembered before the memo starts over; model names come
/// from payloads, so their number is not ours to bound.
const MEMO_LIMIT: usize = 4096;

/// What a name resolves to, everything but the token counts.
#[derive(Debug, Clone)]
struct Resolved {
    rates: Rates,
    history: Vec<DatedRates>,
    provider: String,
    model_key: String,
    source: PricingSource,
}

/// Prices usage like [`PriceTable::price`], remembering each name's entry.
#[derive(Debug, Clone)]
pub struct Pricer {
    /// Shared with whoever else reads the table in force (the daemon's
    /// HTTP API), so a process holds one copy of it.
    table: Arc<PriceTable>,
    memo: HashMap<String, Resolved>,
}

impl Pricer {
    pub fn new(table: impl Into<Arc<PriceTable>>) -> Pricer {
        Pricer {
            table: table.into(),
            memo: HashMap::new(),
        }
    }

    /// The table in force.
    pub fn table(&self) -> &PriceTable {
        &self.table
    }

    /// Swaps the table (SIGHUP); what the old one resolved is forgotten.
    pub fn replace(&mut self, table: impl Into<Arc<PriceTable>>) {
        self.table = table.into();
        self.memo.clear();
    }

    /// Prices one call of `model` made at `at` (see [`PriceTable::price`]).
    pub fn price(
        &mut self,
        model: &str,
        usage: &Usage,
        billing: &Billing,
        at: Option<Timestamp>,
    ) -> Priced {
        if !self.memo.contains_key(model) {
            if self.memo.len() >= MEMO_LIMIT {
                self.memo.clear();
            }
            let found = self.table.lookup(model);
            let resolved = Resolved {
                rates: found.rates.clone(),
                history: found.history.to_vec(),
                provider: found.provider.to_string(),
                model_key: found.key.to_string(),
                source: found.source,
            };
            self.memo.insert(model.to_string(), resolved);
        }
        let resolved = &self.memo[model];
        priced(
            in_force(&resolved.rates, &resolved.history, at),
            usage,
            billing,
            &resolved.provider,
            &resolved.model_key,
            resolved.source,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_prices_exactly_like_the_table_and_forgets_on_replace() {
        let table = PriceTable::embedded();
        let mut pricer = Pricer::new(table.clone());
        let usage = Usage {
            input: 1000,
            cache_read: 5000,
            cache_write: 800,
            cache_write_1h: 100,
            output: 300,
            reasoning: 0,
        };
        for model in [
            "claude-sonnet-4-5-20250929",
            "gpt-5",
            "ollama/x",
            "mystery",
            "claude-opus-4-6",
        ] {
            for fast in [false, true] {
                for _ in 0..2 {
                    let a = pricer.price(model, &usage, &Billing::fast(fast), None);
                    let b = table.price(model, &usage, &Billing::fast(fast), None);
                    assert_eq!(a.cost_usd, b.cost_usd, "{model}");
                    assert_eq!(
                        (a.provider, a.model_key, a.source),
                        (b.provider, b.model_key, b.source)
                    );
                }
            }
        }
        let cheap = PriceTable::build(
            None,
            [("COST_PRICING_GPT_5_INPUT".to_string(), "0".to_string())],
        )
        .unwrap();
        pricer.replace(cheap);
        let only_input = Usage {
            input: 1000,
            ..Usage::default()
        };
        assert_eq!(
            pricer
                .price("gpt-5", &only_input, &Billing::fast(false), None)
                .cost_usd,
            0.0
        );
    }
}
