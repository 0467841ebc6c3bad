// A mock of Google's Gemini API for the real Gemini CLI:
// POST /v1beta/models/MODEL:streamGenerateContent?alt=sse answers with the
// server-sent events the real API streams (one GenerateContentResponse per
// `data:` event, the last carrying `usageMetadata`), from a script of
// responses with known usage, and keeps a ledger of what each one billed.
//
// As a module: `startGeminiMock({ script })`, below.
// As a program (gemini-capture.sh):
//   node gemini.mjs SCRIPT.json LEDGER.jsonl
//   SCRIPT.json is {"responses": [step, ...]}; prints `listening PORT` on
//   stdout once ready and appends one JSON line per billed response to
//   LEDGER.jsonl: {"n", "id", "model", "prompt_tokens", "cached_tokens",
//   "candidates_tokens", "thoughts_tokens", "tool_use_prompt_tokens",
//   "total_tokens", "cost_usd"}.
//
// A step, served in order, one per request:
//   {"thought": "text"?, "text": "answer"?, "shell": "echo hi"?,
//    "usage": {"prompt": N, "cached": N, "candidates": N, "thoughts": N,
//              "tool": N}}
//   `thought` streams a part with `thought: true` first; `shell` ends the
//   response with a function call of `run_shell_command`, which the CLI runs
//   (with --yolo) and answers in its next request. Usage is in the API's
//   terms: `prompt` includes `cached`; `thoughts` and `tool` (tool-use
//   prompt tokens) are beside `prompt` and `candidates`, and the total is
//   the sum of the four.
// A request past the end of the script gets a plain text answer with the
// last step's usage, billed like any other and marked `unscripted`. Any
// other route (countTokens, embedContent, …) is answered 404 and listed in
// `unknown`.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { expectedGeminiCost } from '../ledger.mjs';

let mocks = 0;

function usageMetadata(u) {
  const meta = {
    promptTokenCount: u.prompt,
    candidatesTokenCount: u.candidates,
    totalTokenCount: u.prompt + u.candidates + u.thoughts + u.tool,
  };
  if (u.cached) meta.cachedContentTokenCount = u.cached;
  if (u.thoughts) meta.thoughtsTokenCount = u.thoughts;
  if (u.tool) meta.toolUsePromptTokenCount = u.tool;
  return meta;
}

function stream(res, id, model, step) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (parts, extra = {}) => {
    const chunk = {
      candidates: [{ content: { role: 'model', parts }, index: 0, ...extra.candidate }],
      modelVersion: model,
      responseId: id,
      ...extra.response,
    };
    res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
  };
  if (step.thought) send([{ text: step.thought, thought: true }]);
  const pieces = step.text ? step.text.match(/.{1,12}/gs) ?? [] : [];
  for (const piece of pieces.slice(0, -1)) send([{ text: piece }]);
  const last = [];
  if (pieces.length) last.push({ text: pieces[pieces.length - 1] });
  if (step.shell) {
    last.push({ functionCall: { name: 'run_shell_command', args: { command: step.shell } } });
  }
  send(last, { candidate: { finishReason: 'STOP' }, response: { usageMetadata: usageMetadata(step.usage) } });
  res.end();
}

/**
 * Starts the mock on a free loopback port. Returns
 * `{ port, url, ledger, requests, unknown, remaining(), close() }`; a ledger
 * entry is `{ n, id, model, usage: {prompt, cached, candidates, thoughts,
 * tool}, cost, tools: [names], kind: 'scripted' | 'unscripted', label }`.
 */
export async function startGeminiMock({ script = [] } = {}) {
  mocks += 1;
  const tag = `${process.pid}_${mocks}`;
  const steps = [...script];
  const zero = { prompt: 0, cached: 0, candidates: 0, thoughts: 0, tool: 0 };
  let last = steps.find((s) => s.usage)?.usage ?? { prompt: 10, candidates: 5 };
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
      const route = /\/models\/([^/:]+):streamGenerateContent$/.exec(url.pathname);
      if (req.method !== 'POST' || !route) {
        unknown.push({ method: req.method, path: req.url, body: raw.slice(0, 400) });
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { code: 404, message: `mock: no route ${req.method} ${url.pathname}`, status: 'NOT_FOUND' } }));
      }
      const model = decodeURIComponent(route[1]);
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      let step = steps.shift();
      const kind = step ? 'scripted' : 'unscripted';
      if (!step) step = { text: 'Done.', usage: last };
      if (step.usage) last = step.usage;
      const usage = { ...zero, ...step.usage };
      const contents = Array.isArray(body.contents) ? body.contents : [];
      const toolOutputs = contents.flatMap((c) => (Array.isArray(c?.parts) ? c.parts : []))
        .filter((p) => p?.functionResponse)
        .map((p) => JSON.stringify(p.functionResponse.response));
      requests.push({ path: url.pathname, model, kind, label: step.label, toolOutputs });
      served += 1;
      const id = `gemini_mock_${tag}_${served}`;
      stream(res, id, model, { ...step, usage });
      ledger.push({
        n: served,
        id,
        model,
        usage,
        cost: expectedGeminiCost(model, usage),
        tools: step.shell ? ['run_shell_command'] : [],
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
    console.error('usage: node gemini.mjs SCRIPT.json LEDGER.jsonl');
    process.exit(2);
  }
  const { responses } = JSON.parse(fs.readFileSync(scriptPath, 'utf8'));
  const mock = await startGeminiMock({ script: responses });
  const push = mock.ledger.push.bind(mock.ledger);
  mock.ledger.push = (e) => {
    const u = e.usage;
    fs.appendFileSync(ledgerPath, `${JSON.stringify({
      n: e.n,
      id: e.id,
      model: e.model,
      prompt_tokens: u.prompt,
      cached_tokens: u.cached,
      candidates_tokens: u.candidates,
      thoughts_tokens: u.thoughts,
      tool_use_prompt_tokens: u.tool,
      total_tokens: u.prompt + u.candidates + u.thoughts + u.tool,
      cost_usd: e.cost,
      kind: e.kind,
    })}\n`);
    return push(e);
  };
  console.log(`listening ${mock.port}`);
}
