// What each billed request should cost, computed by the harness itself.
//
// The rates are stated here, in USD per token, as the facts file
// tests/fixtures/litellm-model-prices-2026-08-01.json gives them for the few
// models the scenarios use; hookmeter's own price table is never read, so a
// mistake in it cannot hide behind the expectation. `checkRatesAgainstFacts`
// only guards against a typo here: it compares these numbers with that file.

import fs from 'node:fs';

// Anthropic's long-context tier: a request whose whole prompt (input +
// cache read + cache write) is over this many tokens is billed, every token,
// at the tier's rates, on the models that have one.
const LONG_CONTEXT_THRESHOLD = 200_000;

export const RATES = {
  'claude-sonnet-4-5': {
    input: 3e-6,
    output: 1.5e-5,
    cache_read: 3e-7,
    cache_write_5m: 3.75e-6,
    cache_write_1h: 6e-6,
    long: { input: 6e-6, output: 2.25e-5, cache_read: 6e-7, cache_write_5m: 7.5e-6, cache_write_1h: 1.2e-5 },
  },
  'claude-haiku-4-5': {
    input: 1e-6,
    output: 5e-6,
    cache_read: 1e-7,
    cache_write_5m: 1.25e-6,
    cache_write_1h: 2e-6,
    long: null,
  },
};

// The facts' key for each rate.
const FACT_KEYS = {
  input: 'input_cost_per_token',
  output: 'output_cost_per_token',
  cache_read: 'cache_read_input_token_cost',
  cache_write_5m: 'cache_creation_input_token_cost',
  cache_write_1h: 'cache_creation_input_token_cost_above_1hr',
};

/** Throws when a stated rate is not the facts file's. */
export function checkRatesAgainstFacts(factsPath) {
  const facts = JSON.parse(fs.readFileSync(factsPath, 'utf8'));
  for (const [model, rates] of Object.entries(RATES)) {
    const entry = facts[model];
    if (!entry) throw new Error(`ledger rates: ${model} is not in ${factsPath}`);
    for (const [rate, key] of Object.entries(FACT_KEYS)) {
      if (entry[key] !== rates[rate]) {
        throw new Error(`ledger rates: ${model} ${rate} is ${rates[rate]} here, ${entry[key]} (${key}) in the facts`);
      }
      const longKey = rate === 'cache_write_1h'
        ? 'cache_creation_input_token_cost_above_1hr_above_200k_tokens'
        : `${key}_above_200k_tokens`;
      const longFact = entry[longKey];
      const longHere = rates.long ? rates.long[rate] : undefined;
      if (longFact !== longHere) {
        throw new Error(`ledger rates: ${model} long-context ${rate} is ${longHere} here, ${longFact} (${longKey}) in the facts`);
      }
    }
  }
}

/**
 * The cost of one billed request: `usage` has input, output, cache_read,
 * cache_write_5m and cache_write_1h (the API's input_tokens excludes the
 * cache, so nothing is subtracted).
 */
export function expectedCost(model, usage, { tier = true } = {}) {
  const base = RATES[model];
  if (!base) throw new Error(`ledger: no stated rates for model ${model}; add them from the facts file`);
  const prompt = usage.input + usage.cache_read + usage.cache_write_5m + usage.cache_write_1h;
  const r = tier && base.long && prompt > LONG_CONTEXT_THRESHOLD ? base.long : base;
  return (
    usage.input * r.input
    + usage.output * r.output
    + usage.cache_read * r.cache_read
    + usage.cache_write_5m * r.cache_write_5m
    + usage.cache_write_1h * r.cache_write_1h
  );
}

// OpenAI's models, for Codex. Their usage counts differently: `input`
// includes `cached` (billed input = input − cached, at the input rate; cached
// at the cache-read rate) and `output` includes `reasoning` (not billed
// twice). There are no cache writes. The gpt-5.x models that have a
// long-context tier bill a request whose prompt (`input`, cached included)
// is over 272,000 tokens, every token, at the `_above_272k_tokens` rates.
const OPENAI_LONG_CONTEXT_THRESHOLD = 272_000;

export const OPENAI_RATES = {
  'gpt-5.1-codex': { input: 1.25e-6, output: 1e-5, cache_read: 1.25e-7, long: null },
  'gpt-5.4': {
    input: 2.5e-6,
    output: 1.5e-5,
    cache_read: 2.5e-7,
    long: { input: 5e-6, output: 2.25e-5, cache_read: 5e-7 },
  },
};

/** Throws when a stated OpenAI rate is not the facts file's. */
export function checkOpenAIRatesAgainstFacts(factsPath) {
  const facts = JSON.parse(fs.readFileSync(factsPath, 'utf8'));
  for (const [model, rates] of Object.entries(OPENAI_RATES)) {
    const entry = facts[model];
    if (!entry) throw new Error(`ledger rates: ${model} is not in ${factsPath}`);
    for (const rate of ['input', 'output', 'cache_read']) {
      const key = FACT_KEYS[rate];
      if (entry[key] !== rates[rate]) {
        throw new Error(`ledger rates: ${model} ${rate} is ${rates[rate]} here, ${entry[key]} (${key}) in the facts`);
      }
      const longKey = `${key}_above_272k_tokens`;
      const longHere = rates.long ? rates.long[rate] : undefined;
      if (entry[longKey] !== longHere) {
        throw new Error(`ledger rates: ${model} long-context ${rate} is ${longHere} here, ${entry[longKey]} (${longKey}) in the facts`);
      }
    }
    if (entry.cache_creation_input_token_cost !== undefined) {
      throw new Error(`ledger rates: ${model} has a cache-write rate in the facts, which the Codex ledger does not bill`);
    }
  }
}

/**
 * The cost of one billed OpenAI response: `usage` has input (cached
 * included), cached, output (reasoning included) and reasoning, as the
 * Responses API reports them.
 */
export function expectedOpenAICost(model, usage) {
  const base = OPENAI_RATES[model];
  if (!base) throw new Error(`ledger: no stated rates for model ${model}; add them from the facts file`);
  const r = base.long && usage.input > OPENAI_LONG_CONTEXT_THRESHOLD ? base.long : base;
  return (usage.input - usage.cached) * r.input + usage.cached * r.cache_read + usage.output * r.output;
}

export function isOpenAILongContext(model, usage) {
  return Boolean(OPENAI_RATES[model]?.long) && usage.input > OPENAI_LONG_CONTEXT_THRESHOLD;
}

export function isLongContext(model, usage) {
  const prompt = usage.input + usage.cache_read + usage.cache_write_5m + usage.cache_write_1h;
  return Boolean(RATES[model]?.long) && prompt > LONG_CONTEXT_THRESHOLD;
}

// Google's models, for the Gemini CLI. `usageMetadata` counts differently
// again: `prompt` includes `cached` (billed input = prompt − cached, at the
// input rate; cached at the cache-read rate); `thoughts` are beside
// `candidates` and billed as output; `tool` (toolUsePromptTokenCount, the
// prompts of tool use) is beside `prompt` and billed as input. There are no
// cache writes. gemini-2.5-pro bills a request whose prompt (prompt + tool)
// is over 200,000 tokens, every token, at the `_above_200k_tokens` rates.
const GEMINI_LONG_CONTEXT_THRESHOLD = 200_000;

export const GEMINI_RATES = {
  'gemini-2.5-pro': {
    input: 1.25e-6,
    output: 1e-5,
    cache_read: 1.25e-7,
    long: { input: 2.5e-6, output: 1.5e-5, cache_read: 2.5e-7 },
  },
  'gemini-2.5-flash': { input: 3e-7, output: 2.5e-6, cache_read: 3e-8, long: null },
};

/** Throws when a stated Gemini rate is not the facts file's. */
export function checkGeminiRatesAgainstFacts(factsPath) {
  const facts = JSON.parse(fs.readFileSync(factsPath, 'utf8'));
  for (const [model, rates] of Object.entries(GEMINI_RATES)) {
    const entry = facts[model];
    if (!entry) throw new Error(`ledger rates: ${model} is not in ${factsPath}`);
    for (const rate of ['input', 'output', 'cache_read']) {
      const key = FACT_KEYS[rate];
      if (entry[key] !== rates[rate]) {
        throw new Error(`ledger rates: ${model} ${rate} is ${rates[rate]} here, ${entry[key]} (${key}) in the facts`);
      }
      const longKey = `${key}_above_200k_tokens`;
      const longHere = rates.long ? rates.long[rate] : undefined;
      if (entry[longKey] !== longHere) {
        throw new Error(`ledger rates: ${model} long-context ${rate} is ${longHere} here, ${entry[longKey]} (${longKey}) in the facts`);
      }
    }
  }
}

export function isGeminiLongContext(model, usage) {
  return Boolean(GEMINI_RATES[model]?.long) && usage.prompt + usage.tool > GEMINI_LONG_CONTEXT_THRESHOLD;
}

/**
 * The cost of one billed Gemini response: `usage` has prompt (cached
 * included), cached, candidates, thoughts and tool, as `usageMetadata`
 * reports them.
 */
export function expectedGeminiCost(model, usage) {
  const base = GEMINI_RATES[model];
  if (!base) throw new Error(`ledger: no stated rates for model ${model}; add them from the facts file`);
  const r = isGeminiLongContext(model, usage) ? base.long : base;
  return (usage.prompt - usage.cached + usage.tool) * r.input
    + usage.cached * r.cache_read
    + (usage.candidates + usage.thoughts) * r.output;
}
