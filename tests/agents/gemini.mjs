// The Gemini CLI's side of the harness: runs the pinned Gemini CLI (`gemini
// -p`) against the mock Gemini API (mock/gemini.mjs) and checks that
// hookmeter's cost records equal the mock's ledger exactly: one record per
// billed response, in order, every token count (input without the cached
// part plus the tool-use prompt, thoughts billed as output), the cost to
// 1e-9, the session, the project (the last name of the CLI's project
// path), agent `gemini-cli` and the tool the response called.
//
// Modes (HARNESS_GEMINI_MODES, comma-separated):
//   import  no daemon: after the runs, `hookmeter import --agent gemini`
//           adds exactly the ledger's records
//   watch   `hookmeter serve` runs with no hooks while the CLI does: the
//           daemon finds ~/.gemini/tmp on its own and records every
//           response live
//   hooks   the watch off, the hooks `hookmeter install-hooks --agent
//           gemini` wrote: a record can only come from a chat log a hook
//           named
//   otel-json, otel-grpc  as watch, with the CLI's own OTel export to the
//           daemon (`install-hooks --otel --agent gemini`, otel-live.mjs):
//           the events arrive, the records stay the chat log's
// In every mode `hookmeter import` afterwards adds 0.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGeminiMock } from './mock/gemini.mjs';
import { expectedGeminiCost, isGeminiLongContext } from './ledger.mjs';
import { fmtCost, hookmeterEnv, importSummary, readTable, run, socketAnswers, stopProcess, waitFor } from './lib.mjs';
import { checkSessionSource, installOtel, otelListeners, switchGeminiProtocol } from './otel-live.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const geminiBin = path.join(here, 'node_modules/.bin/gemini');
// No otel-protobuf: the CLI's OTLP/HTTP sends JSON only.
const GEMINI_OTEL_MODES = ['otel-json', 'otel-grpc'];
export const GEMINI_MODES = ['import', 'watch', 'hooks', ...GEMINI_OTEL_MODES];

/** One scenario's temp dir: HOME (the CLI's too), the project, hookmeter's files. */
function makeWorld(name) {
  // Short: a Unix socket path must fit in 107 bytes.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `hmg-${name.slice(0, 8)}-`));
  const w = {
    root,
    home: path.join(root, 'home'),
    project: path.join(root, `proj-${name}`),
    db: path.join(root, 'state/telemetry.db'),
    socket: path.join(root, 'run/hm.sock'),
    spool: path.join(root, 'spool'),
    config: path.join(root, 'config.toml'),
  };
  for (const d of [path.join(w.home, '.gemini'), w.project, path.dirname(w.db), path.dirname(w.socket)]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(w.config, '');
  // API-key auth: with only a base URL the CLI picks an auth type its
  // headless mode refuses.
  fs.writeFileSync(path.join(w.home, '.gemini/settings.json'), `${JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }, null, 2)}\n`);
  return w;
}

function geminiEnv(w, mock) {
  return {
    PATH: process.env.PATH,
    HOME: w.home,
    GEMINI_API_KEY: 'mock-key',
    GOOGLE_GEMINI_BASE_URL: mock.url,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
  };
}

/** The chat logs the CLI wrote, with their headers' session ids. */
function chatLogs(w) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^session-.*\.jsonl?$/.test(e.name) && path.basename(d) === 'chats') {
        let session = null;
        try {
          session = JSON.parse(fs.readFileSync(p, 'utf8').split('\n')[0]).sessionId ?? null;
        } catch {}
        found.push({ path: p, session });
      }
    }
  };
  walk(path.join(w.home, '.gemini/tmp'));
  return found;
}

/** The record a ledger line should have become, in cost_records' terms. */
function expectedRecord(entry, ctx) {
  const u = entry.usage;
  return {
    model: entry.model,
    session_id: entry.session,
    project: path.basename(ctx.world.project),
    agent_id: 'gemini-cli',
    tool_name: entry.tools.length ? entry.tools.join(',') : null,
    input_tokens: u.prompt - u.cached + u.tool,
    cache_read_tokens: u.cached,
    cache_write_tokens: 0,
    cache_write_1h_tokens: 0,
    output_tokens: u.candidates + u.thoughts,
    reasoning_tokens: u.thoughts,
    estimated_cost_usd: expectedGeminiCost(entry.model, u),
  };
}

/**
 * Differences between the ledger and hookmeter's records; [] when equal.
 * The chat log keys a record by the CLI's own message id, which the mock
 * never sees: records are matched to the ledger in the order they were
 * written (one CLI, one request at a time).
 */
function compare(ledger, records, ctx) {
  const problems = [];
  const ordered = [...records].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id - b.id));
  if (ordered.length !== ledger.length) problems.push(`${ordered.length} records for ${ledger.length} billed responses`);
  for (const [i, entry] of ledger.entries()) {
    const record = ordered[i];
    if (!record) {
      problems.push(`no record for billed response ${entry.id} (${entry.label ?? entry.kind})`);
      continue;
    }
    if (!/^gemini:[^:]+:.+/.test(record.hook_event_id)) problems.push(`${entry.id}: key ${record.hook_event_id} is not gemini:<session>:<message id>`);
    for (const [field, value] of Object.entries(expectedRecord(entry, ctx))) {
      const got = record[field];
      const same = field === 'estimated_cost_usd' ? Math.abs(got - value) <= 1e-9 : got === value;
      if (!same) problems.push(`${entry.id} (${entry.label}) ${field}: hookmeter ${JSON.stringify(got)}, ledger ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

function sideBySide(ledger, records) {
  const sum = (list, pick) => list.reduce((t, x) => {
    const v = pick(x);
    for (const k of Object.keys(t)) t[k] += v[k];
    return t;
  }, { records: 0, input: 0, cached: 0, output: 0, thoughts: 0, cost: 0 });
  const l = sum(ledger, (e) => ({
    records: 1,
    input: e.usage.prompt - e.usage.cached + e.usage.tool,
    cached: e.usage.cached,
    output: e.usage.candidates + e.usage.thoughts,
    thoughts: e.usage.thoughts,
    cost: expectedGeminiCost(e.model, e.usage),
  }));
  const h = sum(records, (r) => ({
    records: 1,
    input: r.input_tokens,
    cached: r.cache_read_tokens,
    output: r.output_tokens,
    thoughts: r.reasoning_tokens,
    cost: r.estimated_cost_usd,
  }));
  const cols = ['records', 'input', 'cached', 'output', 'thoughts'];
  const row = (who, t) => `  ${who.padEnd(10)} ${cols.map((c) => String(t[c]).padStart(9)).join(' ')} ${fmtCost(t.cost).padStart(14)}`;
  console.log(`  ${''.padEnd(10)} ${cols.map((c) => c.padStart(9)).join(' ')} ${'cost'.padStart(14)}`);
  console.log(row('ledger', l));
  console.log(row('hookmeter', h));
}

export async function runGeminiScenario(scenario, mode, { bin, keep }) {
  const world = makeWorld(scenario.name);
  const ctx = { world, notes: [] };
  const mock = await startGeminiMock({ script: scenario.script });
  const henv = hookmeterEnv(world);
  const problems = [];
  let daemon;
  const otel = GEMINI_OTEL_MODES.includes(mode);
  const live = mode === 'watch' || mode === 'hooks' || otel;
  let listeners;
  try {
    if (otel) {
      listeners = await otelListeners(henv);
      await installOtel(bin, henv, 'gemini');
      ctx.notes.push(`OTel: ${switchGeminiProtocol(world.home, mode, listeners)} from settings.json`);
    }
    if (mode === 'hooks') {
      // The hooks alone: with the watch off, a record can only come from a
      // chat log a hook names.
      fs.writeFileSync(world.config, '[transcripts]\nwatch = false\n');
      const r = await run(bin, ['install-hooks', '--agent', 'gemini', '--socket', world.socket, '--spool', world.spool], { env: henv });
      if (r.code !== 0) throw new Error(`install-hooks --agent gemini failed: ${r.stderr}`);
    }
    if (live) {
      daemon = spawn(bin, ['serve'], {
        env: henv,
        stdio: ['ignore', 'ignore', fs.openSync(path.join(world.root, 'daemon.log'), 'a')],
      });
      if (!(await waitFor('daemon', () => socketAnswers(world.socket)))) throw new Error('the daemon never answered on its socket');
    }

    for (const [i, step] of scenario.runs.entries()) {
      const args = ['-m', scenario.model];
      if (step.yolo) args.push('--yolo');
      if (step.resume) args.push('--resume', 'latest');
      args.push('-p', step.prompt);
      const r = await run(geminiBin, args, { env: geminiEnv(world, mock), cwd: world.project });
      if (r.code !== 0) throw new Error(`gemini run ${i + 1} exited ${r.code ?? r.signal}: ${r.stderr.slice(-800)}`);
    }
    const logs = chatLogs(world);
    const sessions = [...new Set(logs.map((l) => l.session).filter(Boolean))];
    ctx.notes.push(`chat logs: ${logs.length}, sessions: ${sessions.length}`);
    if (sessions.length !== (scenario.sessions ?? 1)) throw new Error(`expected ${scenario.sessions ?? 1} session(s) in the chat logs, found ${sessions.length}`);
    for (const e of mock.ledger) e.session = sessions[0];
    if (mock.remaining() > 0) problems.push(`${mock.remaining()} scripted responses were never asked for`);
    const unscripted = mock.ledger.filter((e) => e.kind !== 'scripted');
    if (unscripted.length) problems.push(`${unscripted.length} unscripted responses: the CLI asked for more than the script has`);
    const long = mock.ledger.filter((e) => isGeminiLongContext(e.model, e.usage));
    if (long.length) ctx.notes.push(`billed at long-context rates: ${long.map((e) => e.label ?? e.id).join('; ')}`);
    if (long.length !== (scenario.longContext ?? 0)) problems.push(`${long.length} responses at long-context rates, expected ${scenario.longContext ?? 0}`);

    let records = [];
    if (live) {
      await waitFor('records', async () => {
        records = await readTable(world.db, 'cost_records');
        return records.length === mock.ledger.length && compare(mock.ledger, records, ctx).length === 0;
      });
      if (otel) problems.push(...(await checkSessionSource({ http: listeners.http, expected: mock.ledger.length, records, notes: ctx.notes })));
    } else {
      const r = await run(bin, ['import', '--agent', 'gemini'], { env: henv });
      const s = importSummary(r);
      ctx.notes.push(`import: ${s ? `${s.added} added, ${s.updated} updated` : `exit ${r.code}`}`);
      // A message that called a tool is written twice, its tool calls in the
      // second write: that one updates the record the first one added.
      const toolWrites = mock.ledger.filter((e) => e.tools.length).length;
      if (r.code !== 0 || !s || s.added !== mock.ledger.length || s.updated !== toolWrites) {
        problems.push(`hookmeter import --agent gemini: expected ${mock.ledger.length} added, ${toolWrites} updated: ${(r.stdout + r.stderr).trim()}`);
      }
      records = await readTable(world.db, 'cost_records');
    }
    console.log(`gemini ${scenario.name} [${mode}]: ${scenario.about}`);
    for (const n of ctx.notes) console.log(`  ${n}`);
    sideBySide(mock.ledger, records);
    problems.push(...compare(mock.ledger, records, ctx));

    // Importing (again) afterwards adds nothing: the same keys.
    const again = await run(bin, ['import', '--agent', 'gemini'], { env: henv });
    const s = importSummary(again);
    console.log(`  import afterwards: ${s ? `${s.added} added, ${s.updated} updated` : `exit ${again.code}`}`);
    if (again.code !== 0 || !s || s.added !== 0 || s.updated !== 0) {
      problems.push(`hookmeter import afterwards: expected 0 added, 0 updated: ${(again.stdout + again.stderr).trim()}`);
    }
    await stopProcess(daemon);
    if (mode === 'hooks') {
      const events = await readTable(world.db, 'hook_events');
      const names = [...new Set(events.map((e) => e.event_name))].sort();
      console.log(`  hook events: ${events.length} (${names.join(' ')})`);
      if (!events.length) problems.push('no hook event reached the daemon: the records came from elsewhere');
      const notGemini = events.filter((e) => e.agent_id !== 'gemini-cli');
      if (notGemini.length) problems.push(`${notGemini.length} hook events not of agent gemini-cli`);
      const priced = events.filter((e) => e.records !== 0);
      if (priced.length) problems.push(`${priced.length} hook events made cost records of their own`);
    }
    const final = await readTable(world.db, 'cost_records');
    problems.push(...compare(mock.ledger, final, ctx).map((p) => `at the end: ${p}`));
    if (mock.unknown.length) console.log(`  unknown requests to the mock: ${JSON.stringify(mock.unknown.map((u) => `${u.method} ${u.path}`))}`);
    if (scenario.check) problems.push(...scenario.check({ mock, world }));
  } catch (e) {
    console.log(`gemini ${scenario.name} [${mode}]: ${scenario.about}`);
    problems.push(String(e.message ?? e));
  } finally {
    await stopProcess(daemon);
    await mock.close();
  }
  for (const p of problems) console.log(`  MISMATCH ${p}`);
  console.log(`  ${problems.length ? 'FAIL' : 'ok'}${keep ? ` (kept ${world.root})` : ''}`);
  if (!keep) fs.rmSync(world.root, { recursive: true, force: true });
  return problems.length === 0;
}
