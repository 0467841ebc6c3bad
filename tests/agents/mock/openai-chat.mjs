// A mock of OpenAI's Chat Completions API (POST /v1/chat/completions), the
// wire of every `@ai-sdk/openai-compatible` provider: OpenCode's custom
// providers talk to it. It streams the chunks the real API sends, ending, when
// the request asks for `stream_options.include_usage`, with a chunk whose
// `choices` is empty and whose `usage` bills the step, and keeps a ledger of
// what each answer billed.
//
// As a module: `startChatMock({ script })`, below.
//
// A step, served in order, one per request:
//   {"reasoning": "text"?, "text": "answer"?, "bash": "echo hi"?,
//    "usage": {"input": N, "cached": N, "output": N, "reasoning": N}}
//   `reasoning` streams as `delta.reasoning_content` (what OpenAI-compatible
//   servers send for thinking); `bash` calls the tool `bash` with
//   `{"command", "description"}`, and the next request carries its output.
//   Usage is in the API's terms: `input` (prompt_tokens) includes `cached`
//   (prompt_tokens_details.cached_tokens), `output` (completion_tokens)
//   includes `reasoning` (completion_tokens_details.reasoning_tokens).
// A request offering no tools is a side call (a session title): a short text,
// billed 50 in / 4 out and marked `side`. A conversation request past the end
// of the script gets a plain text answer with the last step's usage, billed
// and marked `unscripted`. GET …/models answers an empty
// list; anything else is answered 404 and listed in `unknown`.

import http from 'node:http';

let mocks = 0;

function usageOf(u) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
  };
}

function stream(res, id, model, step, n, includeUsage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices, extra = {}) => {
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`);
  };
  const delta = (d) => chunk([{ index: 0, delta: d, finish_reason: null }]);
  delta({ role: 'assistant', content: '' });
  for (const piece of step.reasoning?.match(/.{1,8}/gs) ?? []) delta({ reasoning_content: piece });
  for (const piece of step.text?.match(/.{1,8}/gs) ?? []) delta({ content: piece });
  if (step.bash) {
    const args = JSON.stringify({ command: step.bash, description: 'Runs the command the mock asked for' });
    delta({ tool_calls: [{ index: 0, id: `call_${n}`, type: 'function', function: { name: 'bash', arguments: '' } }] });
    delta({ tool_calls: [{ index: 0, function: { arguments: args } }] });
  }
  chunk([{ index: 0, delta: {}, finish_reason: step.bash ? 'tool_calls' : 'stop' }]);
  if (includeUsage) chunk([], { usage: usageOf(step.usage) });
  res.write('data: [DONE]\n\n');
  res.end();
}

/**
 * Starts the mock on a free loopback port. Returns
 * `{ port, url, ledger, requests, unknown, remaining(), close() }`; a ledger
 * entry is `{ n, id, model, usage: {input, cached, output, reasoning},
 * tools: [names], kind: 'scripted' | 'unscripted' | 'side', label }`.
 */
export async function startChatMock({ script = [] } = {}) {
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
        return res.end(JSON.stringify({ object: 'list', data: [] }));
      }
      if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        unknown.push({ method: req.method, path: req.url, body: raw.slice(0, 400) });
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: `mock: no route ${req.method} ${url.pathname}` } }));
      }
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      const model = body.model ?? 'unknown';
      // A request offering no tools is a side call (OpenCode's title of a
      // session): it never takes a scripted step.
      const conversation = Array.isArray(body.tools) && body.tools.length > 0;
      let step = conversation ? steps.shift() : { text: 'Mock title', usage: { input: 50, cached: 0, output: 4, reasoning: 0 } };
      const kind = !conversation ? 'side' : step ? 'scripted' : 'unscripted';
      if (!step) step = { text: 'Done.', usage: last };
      if (step.usage && conversation) last = step.usage;
      const messages = Array.isArray(body.messages) ? body.messages : [];
      const toolOutputs = messages.filter((m) => m?.role === 'tool').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
      requests.push({ path: url.pathname, model, kind, label: step.label, stream: body.stream === true, includeUsage: body.stream_options?.include_usage === true, toolOutputs });
      served += 1;
      const id = `chatcmpl-mock-${tag}-${served}`;
      const usage = { input: 0, cached: 0, output: 0, reasoning: 0, ...step.usage };
      if (body.stream === true) {
        stream(res, id, model, { ...step, usage }, served, body.stream_options?.include_usage === true);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: step.text ?? '' }, finish_reason: 'stop' }],
          usage: usageOf(usage),
        }));
      }
      ledger.push({ n: served, id, model, usage, tools: step.bash ? ['bash'] : [], kind, label: step.label });
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
