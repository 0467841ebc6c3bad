// Runs the real Claude Code against the Anthropic mock with its OpenTelemetry
// export on, pointed at the OTLP sink, and keeps what it sent (otel-capture.sh
// calls it once per protocol).
//
//   node otel-claude.mjs OUT_DIR PROTOCOL SCENARIO...
//
// PROTOCOL is http/json or http/protobuf. For each scenario (names from
// scenarios.mjs) OUT_DIR/<scenario>/<json|protobuf>/ gets the sink's files (NNN-logs.json …),
// ledger.jsonl (what the mock billed, one line per request) and
// transcript.jsonl (the session's transcript, to link request ids).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { run, waitFor } from './lib.mjs';
import { startAnthropicMock } from './mock/anthropic.mjs';
import { startOtlpSink } from './mock/otlp-sink.mjs';
import { scenarios } from './scenarios.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const claudeBin = path.join(here, 'node_modules/.bin/claude');
const [outDir, protocol, ...names] = process.argv.slice(2);
if (!outDir || !['http/json', 'http/protobuf'].includes(protocol) || names.length === 0) {
  console.error('usage: node otel-claude.mjs OUT_DIR http/json|http/protobuf SCENARIO...');
  process.exit(2);
}

/** The api_request log records the sink holds so far (JSON bodies only). */
function apiRequests(sink) {
  let n = 0;
  for (const r of sink.received) {
    if (r.signal !== 'logs') continue;
    if (r.encoding !== 'json') {
      n += (r.body.toString('latin1').match(/claude_code\.api_request/g) ?? []).length;
      continue;
    }
    for (const rl of JSON.parse(r.body.toString('utf8')).resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) if (rec.body?.stringValue === 'claude_code.api_request') n += 1;
      }
    }
  }
  return n;
}

for (const name of names) {
  const scenario = scenarios.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  const dir = path.join(outDir, name, protocol === 'http/json' ? 'json' : 'protobuf');
  fs.rmSync(dir, { recursive: true, force: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hmo-'));
  const world = { root, home: path.join(root, 'home'), project: path.join(root, `proj-${name}`) };
  for (const d of [world.home, world.project]) fs.mkdirSync(d, { recursive: true });
  const sessionId = crypto.randomUUID();
  if (scenario.setup) scenario.setup(world);
  const mock = await startAnthropicMock({ script: scenario.script({ world, sessionId, notes: [] }) });
  const sink = await startOtlpSink({ dir });
  const env = {
    PATH: process.env.PATH,
    HOME: world.home,
    ANTHROPIC_BASE_URL: mock.url,
    ANTHROPIC_API_KEY: 'sk-ant-mock-harness',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CI: 'true',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer otel-capture-token,x-hookmeter-probe=1',
    OTEL_LOGS_EXPORT_INTERVAL: '500',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
  };
  try {
    for (const [i, step] of scenario.runs.entries()) {
      const args = ['-p', step.prompt, '--model', scenario.model, '--allowedTools', 'Bash,Read,Agent,Task'];
      if (i === 0) args.push('--session-id', sessionId);
      if (step.resume) args.push('--resume', sessionId);
      if (step.continue) args.push('--continue');
      const r = await run(claudeBin, args, { env, cwd: world.project });
      if (r.code !== 0) throw new Error(`claude exited ${r.code ?? r.signal}: ${r.stderr || r.stdout}`);
    }
    // Claude Code flushes its exporters on exit; waited for all the same.
    const billed = mock.ledger.length;
    const seen = await waitFor('api_request events', () => apiRequests(sink) >= billed, 20_000);
    fs.writeFileSync(path.join(dir, 'ledger.jsonl'), mock.ledger.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const projects = path.join(world.home, '.claude/projects');
    for (const p of fs.existsSync(projects) ? fs.readdirSync(projects) : []) {
      const f = path.join(projects, p, `${sessionId}.jsonl`);
      if (fs.existsSync(f)) fs.copyFileSync(f, path.join(dir, 'transcript.jsonl'));
    }
    console.log(`claude ${protocol} ${name}: ${billed} billed, ${apiRequests(sink)} api_request events, ${sink.received.length} exports${seen ? '' : ' (FEWER EVENTS THAN BILLED)'}`);
  } finally {
    await sink.close();
    await mock.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
