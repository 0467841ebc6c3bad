// A mock of OpenAI's Responses API for the real Codex CLI: POST /v1/responses
// answers with the server-sent events the real API streams, from a script of
// responses with known usage, and keeps a ledger of what each one billed.
//
// Usage: node openai.mjs SCRIPT.json LEDGER.jsonl
//   SCRIPT.json: {"responses": [ {...}, ... ]}, served in order, one per
//   request; each response is
//     {"reasoning": "summary text"?, "text": "answer"?, "shell": "echo hi"?,
//      "exec": "echo hi"?,
//      "usage": {"input": N, "cached": N, "output": N, "reasoning": N}}
//   (`shell` makes a function call of the tool `shell`, which 0.171.0 no
//   longer offers and answers as unsupported; `exec` calls `exec_command`,
//   the shell tool 0.171.0 offers, so the command runs and its tool hooks
//   fire; the next request carries the output). A request past the end of the script gets a plain
//   text answer with the last response's usage shape, billed like any other.
// Prints `listening PORT` on stdout once ready. The ledger gets one JSON line
// per response: {"n", "id", "model", "input_tokens", "cached_tokens",
// "output_tokens", "reasoning_tokens", "total_tokens"}.

import http from "node:http";
import fs from "node:fs";

const [scriptPath, ledgerPath] = process.argv.slice(2);
if (!scriptPath || !ledgerPath) {
  console.error("usage: node openai.mjs SCRIPT.json LEDGER.jsonl");
  process.exit(2);
}
const script = JSON.parse(fs.readFileSync(scriptPath, "utf8"));
let served = 0;

function nextResponse() {
  const list = script.responses;
  const step = list[Math.min(served, list.length - 1)];
  served += 1;
  return served > list.length ? { text: "Done.", usage: step.usage } : step;
}

function usageOf(step) {
  const u = step.usage;
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: u.input + u.output,
  };
}

function stream(res, model, step, n) {
  const id = `resp_mock_${process.pid}_${n}`;
  let seq = 0;
  const send = (type, body) => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...body })}\n\n`);
  };
  const base = { id, object: "response", created_at: Math.floor(Date.now() / 1000), model, status: "in_progress", output: [] };
  send("response.created", { response: base });
  send("response.in_progress", { response: base });
  const output = [];
  let index = 0;
  if (step.reasoning) {
    const item = { id: `rs_${n}`, type: "reasoning", summary: [] };
    send("response.output_item.added", { output_index: index, item });
    send("response.reasoning_summary_part.added", { item_id: item.id, output_index: index, summary_index: 0, part: { type: "summary_text", text: "" } });
    send("response.reasoning_summary_text.delta", { item_id: item.id, output_index: index, summary_index: 0, delta: step.reasoning });
    send("response.reasoning_summary_text.done", { item_id: item.id, output_index: index, summary_index: 0, text: step.reasoning });
    const done = { ...item, summary: [{ type: "summary_text", text: step.reasoning }], encrypted_content: null };
    send("response.output_item.done", { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  if (step.text) {
    const item = { id: `msg_${n}`, type: "message", role: "assistant", status: "in_progress", content: [] };
    send("response.output_item.added", { output_index: index, item });
    send("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    for (const piece of step.text.match(/.{1,8}/gs) ?? []) {
      send("response.output_text.delta", { item_id: item.id, output_index: index, content_index: 0, delta: piece });
    }
    send("response.output_text.done", { item_id: item.id, output_index: index, content_index: 0, text: step.text });
    const done = { ...item, status: "completed", content: [{ type: "output_text", text: step.text, annotations: [] }] };
    send("response.output_item.done", { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  if (step.shell) {
    const args = JSON.stringify({ command: ["bash", "-lc", step.shell] });
    const item = { id: `fc_${n}`, type: "function_call", status: "in_progress", name: "shell", call_id: `call_${n}`, arguments: "" };
    send("response.output_item.added", { output_index: index, item });
    send("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: args });
    send("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: args });
    const done = { ...item, status: "completed", arguments: args };
    send("response.output_item.done", { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  if (step.exec) {
    const args = JSON.stringify({ cmd: step.exec });
    const item = { id: `fc_${n}`, type: "function_call", status: "in_progress", name: "exec_command", call_id: `call_${n}`, arguments: "" };
    send("response.output_item.added", { output_index: index, item });
    send("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: args });
    send("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: args });
    const done = { ...item, status: "completed", arguments: args };
    send("response.output_item.done", { output_index: index, item: done });
    output.push(done);
    index += 1;
  }
  const usage = usageOf(step);
  send("response.completed", { response: { ...base, status: "completed", output, usage } });
  res.end();
  fs.appendFileSync(
    ledgerPath,
    JSON.stringify({
      n,
      id,
      model,
      input_tokens: usage.input_tokens,
      cached_tokens: usage.input_tokens_details.cached_tokens,
      output_tokens: usage.output_tokens,
      reasoning_tokens: usage.output_tokens_details.reasoning_tokens,
      total_tokens: usage.total_tokens,
    }) + "\n",
  );
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const path = req.url.split("?")[0];
    if (req.method === "POST" && path.endsWith("/responses")) {
      let model = "unknown";
      try {
        model = JSON.parse(body).model ?? model;
      } catch {}
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      stream(res, model, nextResponse(), served);
      return;
    }
    if (req.method === "GET" && path.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [], models: [] }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: `mock: no route ${req.method} ${path}` } }));
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
