// A mock of OpenAI's Responses API for the real Codex CLI: POST /v1/responses
// answers with the server-sent events the real API streams, from a script of
// responses with known usage, and keeps a ledger of what each one billed.
//
// As a module (run.mjs): `startOpenAIMock({ script })`, below.
// As a program (codex-capture.sh, codex-hooks.sh):
//   node openai.mjs SCRIPT.json LEDGER.jsonl
//   SCRIPT.json is {"responses": [step, ...]}; prints `listening PORT` on
//   stdout once ready and appends one JSON line per billed response to
//   LEDGER.jsonl: {"n", "id", "model", "input_tokens", "cached_tokens",
//   "output_tokens", "reasoning_tokens", "total_tokens"}.
//
// A step, served in order, one per request:
//   {"reasoning": "summary text"?, "text": "answer"?, "shell": "echo hi"?,
//    "exec": "echo hi"?,
//    "usage": {"input": N, "cached": N, "output": N, "reasoning": N}}
//   `shell` makes a function call of the tool `shell`, which 0.171.0 no
//   longer offers and answers as unsupported; `exec` calls `exec_command`,
//   the shell tool 0.171.0 offers, so the command runs and its tool hooks
//   fire; the next request carries the output. Usage is in the API's terms:
//   `input` includes `cached`, `output` includes `reasoning`.
//   {"error": 500 | 429}: that HTTP status with an API error body, billed
//   nothing (a 429 says `retry-after-ms: 100`).
//   {"failed": "rate_limit_exceeded"}: a 200 stream that ends in
//   `response.failed` with that error code and "Please try again in 0.1s."
//   (how a rate limit reaches a client mid-stream), billed nothing.
// A request past the end of the script gets a plain text answer with the last
// step's usage, billed like any other and marked `unscripted`. Anything but
// POST …/responses (and GET …/models, answered with an empty list) is
// answered 404 and listed in `unknown`.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let mocks = 0;

function usageOf(u) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: u.input + u.output,
  };
}

// A step's `rateLimits` ({ primary, secondary }: { used, window, resetAt })
// become the plan-limit headers ChatGPT sign-ins get with each response,
// which Codex writes into its rollout's token_count lines.
function rateLimitHeaders(limits) {
  const headers = {};
  for (const [name, w] of Object.entries(limits ?? {})) {
    headers[`x-codex-${name}-used-percent`] = String(w.used);
    headers[`x-codex-${name}-window-minutes`] = String(w.window);
    if (w.resetAt !== undefined) headers[`x-codex-${name}-reset-at`] = String(w.resetAt);
  }
  return headers;
}

function stream(res, id, model, step, n) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...rateLimitHeaders(step.rateLimits) });
  let seq = 0;
  const send = (type, body) => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...body })}\n\n`);
  };
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model, status: 'in_progress', output: [] };
  send('response.created', { response: base });
  send('response.in_progress', { response: base });
  const output = [];
  let index = 0;
  if (step.reasoning) {
    const item = { id: `rs_${n}`, type: 'reasoning', summary: [] };
    send('response.output_item.added', { output_index: index, item });
    send('response.reasoning_summary_part.added', { item_id: item.id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } });
    send('response.reasoning_summary_text.delta', { item_id: item.id, output_index: index, summary_index: 0, delta: step.reasoning });
    send('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text: step.reasoning });
    const done = { ...item, summary: [{ type: 'summary_text', text: step.reasoning }], encrypted_content: null };
    send('response.output_item.done', { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  if (step.text) {
    const item = { id: `msg_${n}`, type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    send('response.output_item.added', { output_index: index, item });
    send('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    for (const piece of step.text.match(/.{1,8}/gs) ?? []) {
      send('response.output_text.delta', { item_id: item.id, output_index: index, content_index: 0, delta: piece });
    }
    send('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: step.text });
    const done = { ...item, status: 'completed', content: [{ type: 'output_text', text: step.text, annotations: [] }] };
    send('response.output_item.done', { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  for (const [name, args] of [
    ['shell', step.shell && { command: ['bash', '-lc', step.shell] }],
    ['exec_command', step.exec && { cmd: step.exec }],
  ]) {
    if (!args) continue;
    const json = JSON.stringify(args);
    const item = { id: `fc_${n}`, type: 'function_call', status: 'in_progress', name, call_id: `call_${n}`, arguments: '' };
    send('response.output_item.added', { output_index: index, item });
    send('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta: json });
    send('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: json });
    const done = { ...item, status: 'completed', arguments: json };
    send('response.output_item.done', { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  send('response.completed', { response: { ...base, status: 'completed', output, usage: usageOf(step.usage) } });
  res.end();
}

function sendError(res, status) {
  const headers = { 'content-type': 'application/json' };
  const error = status === 429
    ? { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'mock: scripted 429, try again shortly' }
    : { type: 'server_error', code: 'server_error', message: `mock: scripted ${status}` };
  if (status === 429) headers['retry-after-ms'] = '100';
  res.writeHead(status, headers);
  res.end(JSON.stringify({ error }));
}

function streamFailure(res, model, code) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const id = `resp_failed_${process.pid}_${Date.now()}`;
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model, status: 'in_progress', output: [] };
  res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: base })}\n\n`);
  const error = { code, message: `mock: scripted ${code}. Please try again in 0.1s.` };
  const failed = { ...base, status: 'failed', error, usage: null };
  res.write(`event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: 1, response: failed })}\n\n`);
  res.end();
}

/**
 * Starts the mock on a free loopback port. Returns
 * `{ port, url, ledger, requests, unknown, remaining(), close() }`; a ledger
 * entry is `{ n, id, model, usage: {input, cached, output, reasoning},
 * tools: [names], kind: 'scripted' | 'unscripted', label }`.
 */
export async function startOpenAIMock({ script = [] } = {}) {
  mocks += 1;
  const tag = `${process.pid}_${mocks}`;
  const steps = [...script];
  let last = steps.find((s) => s.usage)?.usage ?? { input: 10, cached: 0, output: 5, reasoning: 0 };
  const ledger = [];
  const requests = [];
  const unknown = [];
  let served = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname.endsWith('/models')) {
        requests.push({ path: url.pathname });
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ object: 'list', data: [], models: [] }));
      }
      if (req.method !== 'POST' || !url.pathname.endsWith('/responses')) {
        unknown.push({ method: req.method, path: req.url, body: raw.slice(0, 400) });
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: `mock: no route ${req.method} ${url.pathname}` } }));
      }
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      const model = body.model ?? 'unknown';
      let step = steps.shift();
      const kind = step ? 'scripted' : 'unscripted';
      if (!step) step = { text: 'Done.', usage: last };
      if (step.usage) last = step.usage;
      // The outputs of tool calls the request carries back to the model.
      const toolOutputs = (Array.isArray(body.input) ? body.input : [])
        .filter((i) => i?.type === 'function_call_output')
        .map((i) => (typeof i.output === 'string' ? i.output : JSON.stringify(i.output)));
      // The last text the request's input ends with: what Codex asks for.
      const lastText = [...(Array.isArray(body.input) ? body.input : [])].reverse()
        .flatMap((i) => (Array.isArray(i?.content) ? i.content : []))
        .find((c) => typeof c?.text === 'string')?.text ?? '';
      requests.push({ path: url.pathname, model, kind, label: step.label, error: step.error ?? step.failed, toolOutputs, lastText: lastText.slice(0, 200) });
      if (step.error) return sendError(res, step.error);
      if (step.failed) return streamFailure(res, model, step.failed);
      served += 1;
      const id = `resp_mock_${tag}_${served}`;
      stream(res, id, model, step, served);
      ledger.push({
        n: served,
        id,
        model,
        usage: { input: 0, cached: 0, output: 0, reasoning: 0, ...step.usage },
        tools: [step.shell && 'shell', step.exec && 'exec_command'].filter(Boolean),
        kind,
        label: step.label,
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    ledger,
    requests,
    unknown,
    remaining: () => steps.length,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

// As a program: the script from a file, the ledger appended to a file.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [scriptPath, ledgerPath] = process.argv.slice(2);
  if (!scriptPath || !ledgerPath) {
    console.error('usage: node openai.mjs SCRIPT.json LEDGER.jsonl');
    process.exit(2);
  }
  const { responses } = JSON.parse(fs.readFileSync(scriptPath, 'utf8'));
  const mock = await startOpenAIMock({ script: responses });
  const push = mock.ledger.push.bind(mock.ledger);
  mock.ledger.push = (e) => {
    fs.appendFileSync(ledgerPath, `${JSON.stringify({
      n: e.n,
      id: e.id,
      model: e.model,
      input_tokens: e.usage.input,
      cached_tokens: e.usage.cached,
      output_tokens: e.usage.output,
      reasoning_tokens: e.usage.reasoning,
      total_tokens: e.usage.input + e.usage.output,
    })}\n`);
    return push(e);
  };
  console.log(`listening ${mock.port}`);
}
