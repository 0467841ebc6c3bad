// A mock of Anthropic's Messages API, enough for Claude Code to run headless
// against it on loopback.
//
// POST /v1/messages answers from a script: each conversation request takes
// the next step of the scenario (text, thinking, tool_use, or an error
// status), streamed as server-sent events in the order and shape the real API
// uses, with the usage the step bills. Every answer that carries usage is one
// billed request and goes into the ledger; an error answer bills nothing.
// Requests that are not part of the conversation (Claude Code's side calls)
// get a short text answer, are billed as well, and are marked `side` in the
// ledger so a scenario can say where they end up. Anything else is logged in
// `unknown` and answered 404, so a new call of a new version shows up.

import http from 'node:http';

let counter = 0;
// Ids in the real shapes (`msg_01…`, `req_011C…`, `toolu_01…`), unique per
// process and sortable, so a ledger line can be found in a transcript.
function id(prefix) {
  counter += 1;
  const stamp = Date.now().toString(36).toUpperCase();
  return `${prefix}${stamp}${String(counter).padStart(6, '0')}${Math.random().toString(36).slice(2, 10)}`;
}

/** The usage object of a step, in the API's field names. */
export function apiUsage(u) {
  const w5 = u.cache_write_5m ?? 0;
  const w1 = u.cache_write_1h ?? 0;
  return {
    input_tokens: u.input ?? 0,
    cache_creation_input_tokens: w5 + w1,
    cache_read_input_tokens: u.cache_read ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
    output_tokens: u.output ?? 0,
    service_tier: 'standard',
  };
}

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

// Splits a string into a few pieces, as the API streams deltas.
function pieces(text, n = 3) {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/**
 * Streams one message: `blocks` is a list of
 * `{type:'text', text}`, `{type:'thinking', thinking}` or
 * `{type:'tool_use', name, input}`.
 */
function streamMessage(res, { messageId, requestId, model, blocks, usage, stopReason }) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId,
    'anthropic-organization-id': '00000000-0000-4000-8000-000000000000',
  });
  const full = apiUsage(usage);
  // message_start carries the prompt side and a first output count; the
  // final counts come in message_delta, as the real API does.
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: messageId,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...full, output_tokens: Math.min(1, full.output_tokens) },
    },
  });
  sse(res, 'ping', { type: 'ping' });
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const p of pieces(block.text)) {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } });
      }
    } else if (block.type === 'thinking') {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      for (const p of pieces(block.thinking)) {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } });
      }
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: Buffer.from(`mock-signature-${messageId}-${index}`).toString('base64') },
      });
    } else if (block.type === 'tool_use') {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      for (const p of pieces(JSON.stringify(block.input))) {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } });
      }
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: {
      input_tokens: full.input_tokens,
      cache_creation_input_tokens: full.cache_creation_input_tokens,
      cache_read_input_tokens: full.cache_read_input_tokens,
      output_tokens: full.output_tokens,
    },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// What the request is, judged from its body: Claude Code's side calls
// (titles, topic checks, quota probes) carry no tools and a short
// max_tokens or a system prompt of their own; the conversation (main thread
// or subagent) carries tools.
function isConversation(body) {
  return Array.isArray(body.tools) && body.tools.length > 0;
}

function summary(body) {
  const sys = Array.isArray(body.system)
    ? body.system.map((b) => b.text ?? '').join(' ')
    : String(body.system ?? '');
  const last = body.messages?.[body.messages.length - 1];
  let lastText = '';
  if (last) {
    lastText = typeof last.content === 'string'
      ? last.content
      : (last.content ?? []).map((b) => b.text ?? b.type).join(' ');
  }
  return {
    model: body.model,
    stream: body.stream === true,
    max_tokens: body.max_tokens,
    tools: (body.tools ?? []).length,
    messages: (body.messages ?? []).length,
    system: sys.slice(0, 160),
    last: lastText.slice(0, 160),
  };
}

/**
 * Starts the mock on a free loopback port.
 *
 * `script` is the scenario's list of steps, taken in order by conversation
 * requests:
 *   { blocks: [...], usage: {input, output, cache_read, cache_write_5m, cache_write_1h} }
 *   { error: 529 }                 an error status, billed nothing
 * When the script runs out, a conversation request gets a plain text answer
 * with `fallbackUsage` and is marked `unscripted` in the ledger.
 *
 * Returns `{ port, url, ledger, requests, unknown, close() }`.
 */
export async function startAnthropicMock({ script = [], fallbackUsage = { input: 10, output: 5 } } = {}) {
  const steps = [...script];
  const ledger = [];
  const requests = [];
  const unknown = [];

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
        requests.push({ path: url.pathname });
        return sendJson(res, 200, { input_tokens: 1000 });
      }
      // Claude Code's reachability check of the base URL.
      if (req.method === 'HEAD' && url.pathname === '/') {
        requests.push({ path: 'HEAD /' });
        res.writeHead(200);
        return res.end();
      }
      if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
        unknown.push({ method: req.method, path: req.url, body: raw.slice(0, 400) });
        return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `mock: no ${req.method} ${url.pathname}` } });
      }
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'mock: body is not JSON' } });
      }
      const conversation = isConversation(body);
      const seen = { ...summary(body), conversation };
      requests.push(seen);
      const requestId = id('req_011C');
      let step;
      let kind;
      if (conversation && steps.length > 0) {
        step = steps.shift();
        kind = 'scripted';
      } else {
        step = { blocks: [{ type: 'text', text: conversation ? 'Done.' : 'Mock side answer' }], usage: fallbackUsage };
        kind = conversation ? 'unscripted' : 'side';
      }
      seen.kind = kind;
      if (step.error) {
        seen.error = step.error;
        const type = step.error === 529 ? 'overloaded_error' : 'api_error';
        return sendJson(
          res,
          step.error,
          { type: 'error', error: { type, message: `mock: scripted ${step.error}` }, request_id: requestId },
          { 'request-id': requestId },
        );
      }
      const messageId = id('msg_01');
      const blocks = step.blocks.map((b) => (b.type === 'tool_use' ? { ...b, id: b.id ?? id('toolu_01') } : b));
      const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
      const model = body.model;
      ledger.push({
        requestId,
        messageId,
        model,
        usage: { input: 0, output: 0, cache_read: 0, cache_write_5m: 0, cache_write_1h: 0, ...step.usage },
        tools: blocks.filter((b) => b.type === 'tool_use').map((b) => b.name),
        kind,
        label: step.label,
        subagent: step.subagent === true,
      });
      if (body.stream === true) {
        streamMessage(res, { messageId, requestId, model, blocks, usage: step.usage, stopReason });
      } else {
        sendJson(
          res,
          200,
          {
            id: messageId,
            type: 'message',
            role: 'assistant',
            model,
            content: blocks.map((b) => (b.type === 'thinking' ? { ...b, signature: 'bW9jaw==' } : b)),
            stop_reason: stopReason,
            stop_sequence: null,
            usage: apiUsage(step.usage),
          },
          { 'request-id': requestId },
        );
      }
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
