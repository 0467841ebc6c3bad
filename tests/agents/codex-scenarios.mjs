// Codex's scenarios: what `codex exec` is asked, what the mock Responses API
// answers (mock/openai.mjs steps, in the order Codex asks for them) and what
// each answer bills, in the API's terms: `input` includes `cached`, `output`
// includes `reasoning`.

import fs from 'node:fs';

const u = (input, cached, output, reasoning = 0) => ({ input, cached, output, reasoning });

// Plan limits as the mock sends them (mock/openai.mjs rateLimitHeaders): the
// 5-hour and 7-day windows, their resets in Unix seconds.
const planLimits = (fiveHour, sevenDay) => ({
  primary: { used: fiveHour, window: 300, resetAt: 1798761600 },
  secondary: { used: sevenDay, window: 10080, resetAt: 1799366400 },
});
const FIVE_HOUR_RESET = '2027-01-01T00:00:00.000Z';
const SEVEN_DAY_RESET = '2027-01-08T00:00:00.000Z';

export const codexScenarios = [
  {
    name: 'text',
    about: 'a text answer, then a second exec in another session of the same project; both answers carry plan limits (the x-codex-* headers), the 5-hour use rising',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Say hello.' }, { prompt: 'Say goodbye.' }],
    script: [
      { label: 'hello', text: 'Hello from the mock.', usage: u(1200, 0, 9), rateLimits: planLimits(42.5, 7) },
      { label: 'goodbye', text: 'Goodbye from the mock.', usage: u(1250, 0, 8), rateLimits: planLimits(44, 7) },
    ],
    // Codex writes the headers into its rollout's token_count lines; hookmeter
    // keeps each window's use when it changes: 42.5 % then 44 % of the 5-hour
    // window, 7 % of the 7-day one once.
    check: async ({ world, readTable }) => {
      const rows = (await readTable(world.db, 'plan_usage'))
        .map((r) => `${r.agent_id} ${r.source} ${r.window} ${r.used_pct} ${r.resets_at}`)
        .sort();
      const want = [
        `codex codex_rollout five_hour 42.5 ${FIVE_HOUR_RESET}`,
        `codex codex_rollout five_hour 44 ${FIVE_HOUR_RESET}`,
        `codex codex_rollout seven_day 7 ${SEVEN_DAY_RESET}`,
      ];
      return JSON.stringify(rows) === JSON.stringify(want) ? [] : [`plan_usage ${JSON.stringify(rows)}, expected ${JSON.stringify(want)}`];
    },
  },
  {
    name: 'reasoning',
    about: 'a reasoning summary before the answer: reasoning tokens inside output, billed once',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Think, then answer: what is 6 times 7?' }],
    script: [{ label: 'reason+answer', reasoning: 'Six sevens are forty-two.', text: '42', usage: u(1830, 0, 412, 380) }],
  },
  {
    name: 'tools',
    about: 'two exec_command calls (the command runs), each result sent back in the follow-up request',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Run two commands, then answer.' }],
    script: [
      { label: 'exec 1', reasoning: 'Run it.', exec: 'echo tool-ran-1', usage: u(2000, 0, 60, 20) },
      { label: 'exec 2', exec: 'echo tool-ran-2', usage: u(2300, 1920, 25) },
      { label: 'answer', text: 'Both commands ran.', usage: u(2600, 2176, 18) },
    ],
    // The follow-ups carry what the commands printed: the tools really ran.
    check: ({ mock }) => {
      const problems = [];
      const outs = mock.requests.map((r) => r.toolOutputs.join('\n'));
      if (!/tool-ran-1/.test(outs[1] ?? '')) problems.push(`the request after exec 1 does not carry its output: ${JSON.stringify(outs[1])}`);
      if (!/tool-ran-2/.test(outs[2] ?? '')) problems.push(`the request after exec 2 does not carry its output: ${JSON.stringify(outs[2])}`);
      return problems;
    },
  },
  {
    name: 'long',
    about: 'a long session: 30 responses (29 exec_command calls, then the answer), the cache growing',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Echo the numbers 1 to 29, one command each.' }],
    script: (() => {
      const steps = [];
      for (let i = 1; i <= 29; i += 1) {
        steps.push({ label: `exec ${i}`, exec: `echo ${i}`, usage: u(3000 + 400 * i, 2900 + 380 * i - (i === 1 ? 2900 + 380 : 0), 30 + i, i % 3 === 0 ? 10 : 0) });
      }
      steps.push({ label: 'answer', text: 'Done: 1 to 29.', usage: u(15_000, 14_500, 9) });
      return steps;
    })(),
  },
  {
    name: 'resume',
    about: '`codex exec`, then `codex exec resume <id>` twice (the same session and file)',
    model: 'gpt-5.1-codex',
    runs: [
      { prompt: 'Remember the word apricot.' },
      { prompt: 'Which word did I ask you to remember?', resume: true },
      { prompt: 'Run echo again, then answer.', resume: true },
    ],
    script: [
      { label: 'first', text: 'Remembered: apricot.', usage: u(1500, 0, 30) },
      { label: 'resumed', text: 'apricot', usage: u(1700, 1408, 35, 8) },
      { label: 'resumed: exec', exec: 'echo again', usage: u(1900, 1664, 50, 10) },
      { label: 'resumed: answer', text: 'It printed again.', usage: u(2100, 1792, 20) },
    ],
  },
  {
    name: 'fork',
    about: '`codex exec fork <id>`: a new session and file whose running total carries the parent\'s on; the parent counts once',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Pick a colour.' }, { prompt: 'Which colour did you pick?', fork: true }],
    script: [
      { label: 'first', text: 'Teal.', usage: u(1500, 0, 4) },
      { label: 'forked', text: 'I picked teal.', usage: u(2400, 1408, 7) },
    ],
    // What makes this a test of counting once: Codex 0.171.0 does not copy
    // the parent's lines into the fork's file, but the fork's running total
    // (token_count total_token_usage) carries the parent's usage on, so a
    // reader of totals would bill the parent again.
    check: ({ mock, rollouts }) => {
      const [parent, forked] = mock.ledger;
      const file = rollouts.find((f) => forked && f.includes(forked.session));
      if (!file) return [`no rollout file of the forked session ${forked?.session}`];
      const totals = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
        .filter((l) => l.type === 'event_msg' && l.payload?.type === 'token_count' && l.payload.info)
        .map((l) => l.payload.info.total_token_usage.input_tokens);
      const carried = parent.usage.input + forked.usage.input;
      return totals.at(-1) === carried
        ? []
        : [`the fork's running input total is ${totals.at(-1)}, expected the parent's carried on: ${carried}`];
    },
  },
  {
    name: 'longctx',
    about: 'gpt-5.4: a prompt of exactly 272,000 tokens (standard rates); Codex then compacts the context (a billed request over 272k: every token at the long-context rates) and answers',
    model: 'gpt-5.4',
    runs: [{ prompt: 'Summarize the big file.' }],
    script: [
      { label: 'exactly 272k', exec: 'echo big', usage: u(272_000, 200_000, 100, 40) },
      // Over its auto-compact limit, Codex 0.171.0 asks the model for a
      // handoff summary before the follow-up: a request of its own, billed.
      { label: 'compaction, over 272k', text: 'Summary: the user wants the big file summarized; echo big printed big.', usage: u(300_000, 199_000, 350, 100) },
      { label: 'answer after compaction', text: 'It is big.', usage: u(4_000, 0, 20) },
    ],
    check: ({ mock }) => {
      const asked = mock.requests.map((r) => r.lastText);
      return /CONTEXT CHECKPOINT COMPACTION/.test(asked[1] ?? '')
        ? []
        : [`the second request was expected to be Codex's compaction, it asked: ${JSON.stringify((asked[1] ?? '').slice(0, 120))}`];
    },
  },
  {
    name: 'retry',
    about: 'a 500, then a rate limit in the stream (response.failed, "try again in 0.1s"): Codex retries, one billed response',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Say hi despite the errors.' }],
    script: [
      { label: '500', error: 500 },
      { label: 'rate limit', failed: 'rate_limit_exceeded' },
      { label: 'after retries', text: 'Hi, at last.', usage: u(700, 0, 6) },
    ],
  },
  {
    name: 'http429',
    about: 'an HTTP 429: Codex 0.171.0 does not retry it, the run ends in an error, nothing is billed or recorded',
    model: 'gpt-5.1-codex',
    runs: [{ prompt: 'Say hi.', fails: /exceeded retry limit, last status: 429/ }],
    script: [{ label: '429', error: 429 }],
  },
];
