// Serves one mock model API for opencode-capture.sh, as a program:
//
//   node opencode-mock.mjs chat|anthropic SCRIPT.json LEDGER.jsonl
//
// `chat` is the Chat Completions mock (mock/openai-chat.mjs) an
// `@ai-sdk/openai-compatible` provider talks to, `anthropic` the Messages
// mock (mock/anthropic.mjs) of OpenCode's built-in `anthropic` provider.
// SCRIPT.json is {"steps": [step, ...]} in that mock's step shape. Prints
// `listening PORT` once ready, appends one JSON line per billed answer to
// LEDGER.jsonl (the ledger entry, with `api` naming the mock), and on SIGTERM
// writes what it was asked (`requests`, `unknown`) to LEDGER.jsonl's
// directory as requests.json.

import fs from 'node:fs';
import path from 'node:path';
import { startChatMock } from './mock/openai-chat.mjs';
import { startAnthropicMock } from './mock/anthropic.mjs';

const [api, scriptPath, ledgerPath] = process.argv.slice(2);
if (!['chat', 'anthropic'].includes(api) || !scriptPath || !ledgerPath) {
  console.error('usage: node opencode-mock.mjs chat|anthropic SCRIPT.json LEDGER.jsonl');
  process.exit(2);
}
const { steps } = JSON.parse(fs.readFileSync(scriptPath, 'utf8'));
const mock = api === 'chat' ? await startChatMock({ script: steps }) : await startAnthropicMock({ script: steps });
const push = mock.ledger.push.bind(mock.ledger);
mock.ledger.push = (entry) => {
  fs.appendFileSync(ledgerPath, `${JSON.stringify({ api, ...entry })}\n`);
  return push(entry);
};
process.on('SIGTERM', () => {
  const out = path.join(path.dirname(ledgerPath), 'requests.json');
  fs.writeFileSync(out, `${JSON.stringify({ requests: mock.requests, unknown: mock.unknown }, null, 1)}\n`);
  process.exit(0);
});
console.log(`listening ${mock.port}`);
