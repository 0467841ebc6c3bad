// The harness's own arithmetic, checked by hand-computed numbers (node --test).
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkGeminiRatesAgainstFacts, checkOpenAIRatesAgainstFacts, checkRatesAgainstFacts, expectedCost, expectedGeminiCost, expectedOpenAICost } from './ledger.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const usage = (u) => ({ input: 0, output: 0, cache_read: 0, cache_write_5m: 0, cache_write_1h: 0, ...u });

test('the stated rates are the facts file\'s', () => {
  checkRatesAgainstFacts(path.join(here, '../fixtures/litellm-model-prices-2026-08-01.json'));
});

test('a prompt of exactly 200,000 tokens is billed at the standard rates', () => {
  // 100000 × 3 + 99000 × 3.75 + 1000 × 6 + 100 × 15, per million
  const cost = expectedCost('claude-sonnet-4-5', usage({ input: 100_000, output: 100, cache_write_5m: 99_000, cache_write_1h: 1_000 }));
  assert.ok(Math.abs(cost - 0.678_75) < 1e-12, String(cost));
});

test('over 200,000 every token is billed at the long-context rates', () => {
  // 1200 × 6 + 350 × 22.5 + 200000 × 0.6 + 5000 × 7.5 + 2000 × 12, per million
  const cost = expectedCost('claude-sonnet-4-5', usage({ input: 1_200, output: 350, cache_read: 200_000, cache_write_5m: 5_000, cache_write_1h: 2_000 }));
  assert.ok(Math.abs(cost - 0.196_575) < 1e-12, String(cost));
});

test('a model without a long-context tier keeps its rates', () => {
  // 300000 × 1 + 10 × 5, per million
  const cost = expectedCost('claude-haiku-4-5', usage({ input: 300_000, output: 10 }));
  assert.ok(Math.abs(cost - 0.300_05) < 1e-12, String(cost));
});

test('a model without stated rates is an error, not $0', () => {
  assert.throws(() => expectedCost('claude-opus-9', usage({ input: 1 })), /no stated rates/);
});

const openai = (u) => ({ input: 0, cached: 0, output: 0, reasoning: 0, ...u });

test('the stated OpenAI rates are the facts file\'s', () => {
  checkOpenAIRatesAgainstFacts(path.join(here, '../fixtures/litellm-model-prices-2026-08-01.json'));
});

test('OpenAI: billed input is input minus cached; reasoning is inside output', () => {
  // (2300 − 1920) × 1.25 + 1920 × 0.125 + 25 × 10, per million
  const cost = expectedOpenAICost('gpt-5.1-codex', openai({ input: 2300, cached: 1920, output: 25, reasoning: 20 }));
  assert.ok(Math.abs(cost - 0.000_965) < 1e-12, String(cost));
});

test('OpenAI: a prompt of exactly 272,000 tokens is billed at the standard rates', () => {
  // 72000 × 2.5 + 200000 × 0.25 + 100 × 15, per million
  const cost = expectedOpenAICost('gpt-5.4', openai({ input: 272_000, cached: 200_000, output: 100 }));
  assert.ok(Math.abs(cost - 0.2315) < 1e-12, String(cost));
});

test('OpenAI: over 272,000 every token is billed at the long-context rates', () => {
  // 101000 × 5 + 199000 × 0.5 + 350 × 22.5, per million
  const cost = expectedOpenAICost('gpt-5.4', openai({ input: 300_000, cached: 199_000, output: 350, reasoning: 100 }));
  assert.ok(Math.abs(cost - 0.612_375) < 1e-12, String(cost));
});

test('OpenAI: a model without a long-context tier keeps its rates over 272,000', () => {
  // 300000 × 1.25 + 10 × 10, per million
  const cost = expectedOpenAICost('gpt-5.1-codex', openai({ input: 300_000, output: 10 }));
  assert.ok(Math.abs(cost - 0.3751) < 1e-12, String(cost));
});

const gemini = (u) => ({ prompt: 0, cached: 0, candidates: 0, thoughts: 0, tool: 0, ...u });

test('the stated Gemini rates are the facts file\'s', () => {
  checkGeminiRatesAgainstFacts(path.join(here, '../fixtures/litellm-model-prices-2026-08-01.json'));
});

test('Gemini: billed input is prompt minus cached plus the tool-use prompt; thoughts are output', () => {
  // (18000 − 12000 + 40) × 1.25 + 12000 × 0.125 + (12 + 380) × 10, per million
  const cost = expectedGeminiCost('gemini-2.5-pro', gemini({ prompt: 18_000, cached: 12_000, candidates: 12, thoughts: 380, tool: 40 }));
  assert.ok(Math.abs(cost - 0.01297) < 1e-12, String(cost));
});

test('Gemini: a prompt of exactly 200,000 tokens (tool-use prompt included) is billed at the standard rates', () => {
  // 199960 × 1.25 + 40 × 1.25 + 100 × 10, per million
  const cost = expectedGeminiCost('gemini-2.5-pro', gemini({ prompt: 199_960, candidates: 100, tool: 40 }));
  assert.ok(Math.abs(cost - 0.251) < 1e-12, String(cost));
});

test('Gemini: over 200,000 every token is billed at the long-context rates', () => {
  // (230000 − 180000 + 40) × 2.5 + 180000 × 0.25 + (64 + 512) × 15, per million
  const cost = expectedGeminiCost('gemini-2.5-pro', gemini({ prompt: 230_000, cached: 180_000, candidates: 64, thoughts: 512, tool: 40 }));
  assert.ok(Math.abs(cost - 0.17874) < 1e-12, String(cost));
});

test('Gemini: a model without a long-context tier keeps its rates over 200,000', () => {
  // 300000 × 0.3 + 10 × 2.5, per million
  const cost = expectedGeminiCost('gemini-2.5-flash', gemini({ prompt: 300_000, candidates: 10 }));
  assert.ok(Math.abs(cost - 0.090025) < 1e-12, String(cost));
});
