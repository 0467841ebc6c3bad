// Codex's side of the harness: runs the pinned Codex CLI (`codex exec`)
// against the mock Responses API (mock/openai.mjs) and checks that
// hookmeter's cost records equal the mock's ledger exactly: one record per
// billed response, keyed `codex:<response id>`, every token count, the cost
// to 1e-9, the session, the project (from Codex's cwd), agent `codex` and
// the tools the response called.
//
// Modes (HARNESS_CODEX_MODES, comma-separated):
//   import  no daemon: after the runs, `hookmeter import --agent codex` adds
//           exactly the ledger's records; a second import adds 0
//   watch   `hookmeter serve` runs with no hooks while Codex does: the
//           daemon must find $CODEX_HOME/sessions on its own and record
//           every response live; `hookmeter import` afterwards adds 0
//   hooks   the watch off, the hooks `install-hooks --agent codex` wrote
//   otel-protobuf, otel-json, otel-grpc  as watch, with Codex's own OTel
//           export to the daemon (`install-hooks --otel --agent codex`,
//           otel-live.mjs): the events arrive, the records stay the
//           rollout's, one per response

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpenAIMock } from './mock/openai.mjs';
import { expectedOpenAICost, isOpenAILongContext } from './ledger.mjs';
import { fmtCost, hookmeterEnv, importSummary, readTable, run, socketAnswers, stopProcess, waitFor } from './lib.mjs';
import { OTEL_MODES, checkSessionSource, installOtel, otelListeners, switchCodexProtocol } from './otel-live.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const codexBin = path.join(here, 'node_modules/.bin/codex');
export const CODEX_MODES = ['import', 'watch', 'hooks', ...OTEL_MODES];

/** One scenario's temp dir: HOME, CODEX_HOME, the project, hookmeter's files. */
function makeWorld(name) {
  // Short: a Unix socket path must fit in 107 bytes.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `hmx-${name.slice(0, 8)}-`));
  const w = {
    root,
    home: path.join(root, 'home'),
    codexHome: path.join(root, 'codex'),
    project: path.join(root, `proj-${name}`),
    db: path.join(root, 'state/telemetry.db'),
    socket: path.join(root, 'run/hm.sock'),
    spool: path.join(root, 'spool'),
    config: path.join(root, 'config.toml'),
  };
  for (const d of [w.home, w.codexHome, w.project, path.dirname(w.db), path.dirname(w.socket)]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(w.config, '');
  return w;
}

// Codex's own config: the mock as its only model provider.
function writeCodexConfig(w, model, mock) {
  fs.writeFileSync(path.join(w.codexHome, 'config.toml'), [
    `model = "${model}"`,
    'model_provider = "mock"',
    '',
    '[model_providers.mock]',
    'name = "mock"',
    `base_url = "${mock.url}/v1"`,
    'env_key = "OPENAI_API_KEY"',
    'wire_api = "responses"',
    'supports_websockets = false',
    '',
  ].join('\n'));
}

function codexEnv(w) {
  return { PATH: process.env.PATH, HOME: w.home, CODEX_HOME: w.codexHome, OPENAI_API_KEY: 'sk-mock-harness' };
}

/** The record a ledger line should have become, in cost_records' terms. */
function expectedRecord(entry, ctx) {
  const usage = entry.usage;
  return {
    hook_event_id: `codex:${entry.id}`,
    provider: 'openai',
    model: entry.model,
    session_id: entry.session,
    project: path.basename(ctx.world.project),
    agent_id: 'codex',
    tool_name: entry.tools.length ? entry.tools.join(',') : null,
    input_tokens: usage.input - usage.cached,
    cache_read_tokens: usage.cached,
    cache_write_tokens: 0,
    cache_write_1h_tokens: 0,
    output_tokens: usage.output,
    reasoning_tokens: usage.reasoning,
    estimated_cost_usd: expectedOpenAICost(entry.model, usage),
  };
}

/** Differences between the ledger and hookmeter's records; [] when equal. */
function compare(ledger, records, ctx) {
  const problems = [];
  const byKey = new Map(records.map((r) => [r.hook_event_id, r]));
  const matched = new Set();
  for (const entry of ledger) {
    const want = expectedRecord(entry, ctx);
    const record = byKey.get(want.hook_event_id);
    if (!record) {
      problems.push(`no record for billed response ${entry.id} (${entry.label ?? entry.kind})`);
      continue;
    }
    matched.add(record.id);
    for (const [field, value] of Object.entries(want)) {
      const got = record[field];
      const same = field === 'estimated_cost_usd' ? Math.abs(got - value) <= 1e-9 : got === value;
      if (!same) problems.push(`${entry.id} ${field}: hookmeter ${JSON.stringify(got)}, ledger ${JSON.stringify(value)}`);
    }
  }
  for (const r of records) {
    if (!matched.has(r.id)) problems.push(`record not in the ledger: ${r.hook_event_id} (${r.model}, ${r.estimated_cost_usd})`);
  }
  return problems;
}

function sideBySide(ledger, records) {
  const sum = (list, pick) => list.reduce((t, x) => {
    const v = pick(x);
    for (const k of Object.keys(t)) t[k] += v[k];
    return t;
  }, { records: 0, input: 0, cached: 0, output: 0, reasoning: 0, cost: 0 });
  const l = sum(ledger, (e) => ({
    records: 1,
    input: e.usage.input - e.usage.cached,
    cached: e.usage.cached,
    output: e.usage.output,
    reasoning: e.usage.reasoning,
    cost: expectedOpenAICost(e.model, e.usage),
  }));
  const h = sum(records, (r) => ({
    records: 1,
    input: r.input_tokens,
    cached: r.cache_read_tokens,
    output: r.output_tokens,
    reasoning: r.reasoning_tokens,
    cost: r.estimated_cost_usd,
  }));
  const cols = ['records', 'input', 'cached', 'output', 'reasoning'];
  const row = (who, t) => `  ${who.padEnd(10)} ${cols.map((c) => String(t[c]).padStart(9)).join(' ')} ${fmtCost(t.cost).padStart(14)}`;
  console.log(`  ${''.padEnd(10)} ${cols.map((c) => c.padStart(9)).join(' ')} ${'cost'.padStart(14)}`);
  console.log(row('ledger', l));
  console.log(row('hookmeter', h));
}

function sessionOf(stderr) {
  const m = /session id: ([0-9a-f-]+)/.exec(stderr);
  return m ? m[1] : null;
}

/** The rollout files Codex wrote under $CODEX_HOME/sessions. */
function rollouts(w) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^rollout-.*\.jsonl$/.test(e.name)) found.push(p);
    }
  };
  walk(path.join(w.codexHome, 'sessions'));
  return found;
}

export async function runCodexScenario(scenario, mode, { bin, keep }) {
  const world = makeWorld(scenario.name);
  const ctx = { world, notes: [] };
  const mock = await startOpenAIMock({ script: scenario.script });
  writeCodexConfig(world, scenario.model, mock);
  const henv = { ...hookmeterEnv(world), CODEX_HOME: world.codexHome };
  const problems = [];
  let daemon;
  const otel = OTEL_MODES.includes(mode);
  const live = mode === 'watch' || mode === 'hooks' || otel;
  let listeners;
  try {
    if (otel) {
      listeners = await otelListeners(henv);
      await installOtel(bin, henv, 'codex');
      ctx.notes.push(`OTel: ${switchCodexProtocol(world.codexHome, mode, listeners)} from config.toml`);
    }
    if (mode === 'hooks') {
      // The hooks alone: the daemon's watch is off, so a record can only come
      // from a rollout a Codex hook names. After Codex's own config is
      // written: install-hooks merges into it (the hooks' trust).
      fs.writeFileSync(world.config, '[transcripts]\nwatch = false\n');
      const r = await run(bin, ['install-hooks', '--agent', 'codex', '--socket', world.socket, '--spool', world.spool], { env: henv });
      if (r.code !== 0) throw new Error(`install-hooks --agent codex failed: ${r.stderr}`);
    }
    if (live) {
      daemon = spawn(bin, ['serve'], {
        env: henv,
        stdio: ['ignore', 'ignore', fs.openSync(path.join(world.root, 'daemon.log'), 'a')],
      });
      if (!(await waitFor('daemon', () => socketAnswers(world.socket)))) throw new Error('the daemon never answered on its socket');
    }

    // Each run is one `codex exec`; later ones may resume or fork the first.
    let first = null;
    for (const [i, step] of scenario.runs.entries()) {
      const args = ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox'];
      if (step.resume) args.push('resume', first);
      if (step.fork) args.push('fork', first);
      args.push(step.prompt);
      const before = mock.ledger.length;
      const r = await run(codexBin, args, { env: codexEnv(world), cwd: world.project });
      if (step.fails) {
        if (r.code === 0 || !step.fails.test(r.stderr)) throw new Error(`codex run ${i + 1} was expected to fail with ${step.fails}: exit ${r.code}: ${r.stderr.slice(-400)}`);
        ctx.notes.push(`codex run ${i + 1} exited ${r.code}: ${step.fails.exec(r.stderr)[0]}`);
      } else if (r.code !== 0) {
        throw new Error(`codex run ${i + 1} exited ${r.code ?? r.signal}: ${r.stderr.slice(-800)}`);
      }
      const session = sessionOf(r.stderr);
      if (!session) throw new Error(`codex run ${i + 1} printed no session id`);
      if (i === 0) first = session;
      if (step.resume && session !== first) throw new Error(`codex exec resume ${first} printed session ${session}`);
      if (step.fork) {
        if (session === first) throw new Error(`codex exec fork ${first} kept the session id`);
        ctx.notes.push(`forked session: ${session} (from ${first})`);
      }
      for (const e of mock.ledger.slice(before)) e.session = session;
    }
    if (mock.remaining() > 0) problems.push(`${mock.remaining()} scripted responses were never asked for`);
    const unscripted = mock.ledger.filter((e) => e.kind !== 'scripted');
    if (unscripted.length) problems.push(`${unscripted.length} unscripted responses: Codex asked for more than the script has`);
    const errors = mock.requests.filter((r) => r.error).map((r) => r.error);
    if (errors.length) ctx.notes.push(`errors served (billed nothing): ${errors.join(', ')}`);
    const long = mock.ledger.filter((e) => isOpenAILongContext(e.model, e.usage));
    if (long.length) ctx.notes.push(`billed at long-context rates: ${long.map((e) => e.label ?? e.id).join('; ')}`);
    ctx.notes.push(`rollout files: ${rollouts(world).length}`);

    let records = [];
    if (live) {
      // Live: wait until the daemon's records equal the ledger.
      await waitFor('records', async () => {
        records = await readTable(world.db, 'cost_records');
        return records.length === mock.ledger.length && compare(mock.ledger, records, ctx).length === 0;
      });
      if (otel) problems.push(...(await checkSessionSource({ http: listeners.http, expected: mock.ledger.length, records, notes: ctx.notes })));
    } else {
      const r = await run(bin, ['import', '--agent', 'codex'], { env: henv });
      const s = importSummary(r);
      ctx.notes.push(`import: ${s ? `${s.added} added, ${s.updated} updated` : `exit ${r.code}`}`);
      if (r.code !== 0 || !s || s.added !== mock.ledger.length || s.updated !== 0) {
        problems.push(`hookmeter import --agent codex: expected ${mock.ledger.length} added, 0 updated: ${(r.stdout + r.stderr).trim()}`);
      }
      records = await readTable(world.db, 'cost_records');
    }
    console.log(`codex ${scenario.name} [${mode}]: ${scenario.about}`);
    for (const n of ctx.notes) console.log(`  ${n}`);
    sideBySide(mock.ledger, records);
    problems.push(...compare(mock.ledger, records, ctx));

    // Importing (again) afterwards adds nothing: the same keys.
    const again = await run(bin, ['import', '--agent', 'codex'], { env: henv });
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
      const notCodex = events.filter((e) => e.agent_id !== 'codex');
      if (!events.length) problems.push('no hook event reached the daemon: the records came from elsewhere');
      if (notCodex.length) problems.push(`${notCodex.length} hook events not of agent codex`);
    }
    const final = await readTable(world.db, 'cost_records');
    problems.push(...compare(mock.ledger, final, ctx).map((p) => `at the end: ${p}`));
    if (mock.unknown.length) console.log(`  unknown requests to the mock: ${JSON.stringify(mock.unknown)}`);
    if (scenario.check) problems.push(...(await scenario.check({ mock, world, rollouts: rollouts(world), readTable })));
  } catch (e) {
    console.log(`codex ${scenario.name} [${mode}]: ${scenario.about}`);
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
