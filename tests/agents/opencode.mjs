// OpenCode's side of the harness: runs the pinned OpenCode (`opencode run`)
// against a mock model API of this directory and checks that hookmeter's
// cost records equal the mock's ledger exactly: one record per billed
// conversation answer (OpenCode's step), keyed `opencode:<message id>`,
// matched in order; every token count, the cost to 1e-9 at the facts'
// rates, the reported cost equal to the `cost` OpenCode stored for the step
// (read from its database), OpenCode's session (one per scenario: a
// continued session stays one), the project, agent `opencode` and the tools
// the step called. The mock's `side` answers (the session's title) are
// billed but OpenCode stores them nowhere: they are left out, and counted.
//
// Modes (HARNESS_OPENCODE_MODES, comma-separated):
//   import  no daemon: after the runs, `hookmeter import --agent opencode`
//           adds exactly the ledger's records; a second import adds 0
//   watch   `hookmeter serve` runs with no hooks while OpenCode does: the
//           daemon finds OpenCode's database on its own and records each
//           step live; `hookmeter import` afterwards adds 0

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChatMock } from './mock/openai-chat.mjs';
import { startAnthropicMock } from './mock/anthropic.mjs';
import { expectedCost, expectedOpenAICost } from './ledger.mjs';
import { fmtCost, hookmeterEnv, importSummary, readTable, run, socketAnswers, stopProcess, waitFor } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const opencodeBin = path.join(here, 'node_modules/.bin/opencode');
export const OPENCODE_MODES = ['import', 'watch'];

/** The model each provider is configured with. */
const MODELS = { chat: 'gpt-5.1-codex', anthropic: 'claude-sonnet-4-5' };

/** One scenario's temp dir: HOME (XDG dirs under it), the project, hookmeter's files. */
function makeWorld(name) {
  // Short: a Unix socket path must fit in 107 bytes.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `hmo-${name.slice(0, 8)}-`));
  const w = {
    root,
    home: path.join(root, 'home'),
    project: path.join(root, `proj-${name}`),
    db: path.join(root, 'state/telemetry.db'),
    socket: path.join(root, 'run/hm.sock'),
    spool: path.join(root, 'spool'),
    config: path.join(root, 'config.toml'),
  };
  w.opencodeDb = path.join(w.home, '.local/share/opencode/opencode.db');
  for (const d of [w.home, w.project, path.dirname(w.db), path.dirname(w.socket), path.join(w.home, '.config/opencode')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.writeFileSync(w.config, '');
  return w;
}

/** OpenCode's config: one provider, at the mock. The custom provider's
 * model states gpt-5.1-codex's prices (USD per million tokens), so
 * OpenCode computes a cost of its own; the anthropic provider uses the
 * prices OpenCode ships with. */
function writeOpenCodeConfig(w, api, mock) {
  const provider = api === 'chat'
    ? {
      mock: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Mock',
        options: { baseURL: `${mock.url}/v1`, apiKey: 'sk-mock' },
        models: { [MODELS.chat]: { name: MODELS.chat, reasoning: true, cost: { input: 1.25, output: 10, cache_read: 0.125 } } },
      },
    }
    : { anthropic: { options: { baseURL: `${mock.url}/v1`, apiKey: 'sk-ant-mock' } } };
  const model = api === 'chat' ? `mock/${MODELS.chat}` : `anthropic/${MODELS.anthropic}`;
  fs.writeFileSync(path.join(w.home, '.config/opencode/opencode.json'), JSON.stringify({
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model,
    small_model: model,
    permission: { bash: 'allow', edit: 'allow', webfetch: 'deny' },
    provider,
  }, null, 1));
}

function opencodeEnv(w) {
  return {
    PATH: process.env.PATH,
    HOME: w.home,
    XDG_CONFIG_HOME: path.join(w.home, '.config'),
    XDG_DATA_HOME: path.join(w.home, '.local/share'),
    XDG_STATE_HOME: path.join(w.home, '.local/state'),
    XDG_CACHE_HOME: path.join(w.home, '.cache'),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
  };
}

const STEPS_QUERY = `
import json, sqlite3, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
rows = []
for id, session, data in c.execute('SELECT id, session_id, data FROM message ORDER BY rowid'):
    d = json.loads(data)
    if d.get('role') == 'assistant':
        rows.append({'id': id, 'session': session, 'cost': d.get('cost'), 'completed': (d.get('time') or {}).get('completed')})
print(json.dumps(rows))
`;

/** OpenCode's assistant steps as it stored them: id, session, its cost. */
async function storedSteps(w) {
  if (!fs.existsSync(w.opencodeDb)) return [];
  const r = await run('python3', ['-c', STEPS_QUERY, w.opencodeDb]);
  if (r.code !== 0) throw new Error(`reading OpenCode's database: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A conversation answer in cost_records' terms. */
function expectedRecord(entry, ctx) {
  const u = entry.usage;
  const common = { project: path.basename(ctx.world.project), agent_id: 'opencode', model: entry.model, tool_name: entry.tools.length ? entry.tools.join(',') : null };
  if (entry.api === 'chat') {
    return {
      ...common,
      input_tokens: u.input - u.cached,
      cache_read_tokens: u.cached,
      cache_write_tokens: 0,
      output_tokens: u.output,
      reasoning_tokens: u.reasoning,
      estimated_cost_usd: expectedOpenAICost(entry.model, u),
    };
  }
  return {
    ...common,
    input_tokens: u.input,
    cache_read_tokens: u.cache_read,
    cache_write_tokens: u.cache_write_5m + u.cache_write_1h,
    output_tokens: u.output,
    reasoning_tokens: 0,
    estimated_cost_usd: expectedCost(entry.model, u),
  };
}

/** Differences between the ledger's conversation answers and hookmeter's
 * records, matched in order (OpenCode's steps run one after another);
 * [] when equal. `steps` are OpenCode's own rows, for the reported cost. */
function compare(answers, records, steps, ctx) {
  const problems = [];
  const ordered = [...records].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id - b.id));
  if (ordered.length !== answers.length) problems.push(`${ordered.length} records for ${answers.length} billed answers`);
  const byId = new Map(steps.map((s) => [`opencode:${s.id}`, s]));
  for (const [i, entry] of answers.entries()) {
    const record = ordered[i];
    const what = entry.label ?? `answer ${i + 1}`;
    if (!record) {
      problems.push(`no record for billed answer ${what}`);
      continue;
    }
    const want = expectedRecord(entry, ctx);
    for (const [field, value] of Object.entries(want)) {
      const got = record[field];
      const same = field === 'estimated_cost_usd' ? Math.abs(got - value) <= 1e-9 : got === value;
      if (!same) problems.push(`${what} ${field}: hookmeter ${JSON.stringify(got)}, ledger ${JSON.stringify(value)}`);
    }
    const step = byId.get(record.hook_event_id);
    if (!step) {
      problems.push(`${what}: ${record.hook_event_id} is no assistant step in OpenCode's database`);
      continue;
    }
    if (record.session_id !== step.session) problems.push(`${what} session: hookmeter ${record.session_id}, OpenCode ${step.session}`);
    if (Math.abs((record.reported_cost_usd ?? NaN) - step.cost) > 1e-12) {
      problems.push(`${what} reported cost: hookmeter ${record.reported_cost_usd}, OpenCode ${step.cost}`);
    }
    if (Math.abs(step.cost - want.estimated_cost_usd) > 1e-9) {
      ctx.notes.push(`${what}: OpenCode's cost ${fmtCost(step.cost)} differs from the facts' ${fmtCost(want.estimated_cost_usd)}`);
    }
  }
  for (const r of ordered.slice(answers.length)) problems.push(`record not in the ledger: ${r.hook_event_id} (${r.model}, ${r.estimated_cost_usd})`);
  const sessions = new Set(ordered.map((r) => r.session_id));
  if (ordered.length && sessions.size !== 1) problems.push(`${sessions.size} sessions: a continued session must stay one`);
  return problems;
}

function sideBySide(answers, records, steps) {
  const total = (list, pick) => list.reduce((t, x) => t + pick(x), 0);
  const cols = [
    ['records', answers.length, records.length],
    ['cost', total(answers, (e) => expectedRecord(e, { world: { project: '' } }).estimated_cost_usd), total(records, (r) => r.estimated_cost_usd)],
    ['reported', total(steps.filter((s) => s.completed), (s) => s.cost), total(records, (r) => r.reported_cost_usd ?? 0)],
  ];
  console.log(`  ${''.padEnd(10)} ${cols.map(([c]) => c.padStart(14)).join(' ')}`);
  const show = (v, c) => (c === 'records' ? String(v) : fmtCost(v)).padStart(14);
  console.log(`  ${'ledger'.padEnd(10)} ${cols.map(([c, l]) => show(l, c)).join(' ')}   (reported: OpenCode's own costs)`);
  console.log(`  ${'hookmeter'.padEnd(10)} ${cols.map(([c, , h]) => show(h, c)).join(' ')}`);
}

export async function runOpenCodeScenario(scenario, mode, { bin, keep }) {
  const world = makeWorld(scenario.name);
  const ctx = { world, notes: [] };
  const mock = scenario.api === 'chat' ? await startChatMock({ script: scenario.script }) : await startAnthropicMock({ script: scenario.script });
  writeOpenCodeConfig(world, scenario.api, mock);
  const henv = { ...hookmeterEnv(world), XDG_DATA_HOME: path.join(world.home, '.local/share') };
  const problems = [];
  let daemon;
  const live = mode === 'watch';
  try {
    if (live) {
      daemon = spawn(bin, ['serve'], {
        env: henv,
        stdio: ['ignore', 'ignore', fs.openSync(path.join(world.root, 'daemon.log'), 'a')],
      });
      if (!(await waitFor('daemon', () => socketAnswers(world.socket)))) throw new Error('the daemon never answered on its socket');
    }
    for (const [i, step] of scenario.runs.entries()) {
      const args = ['run', '--format', 'json'];
      if (step.continue) args.push('--continue');
      args.push(step.prompt);
      const r = await run(opencodeBin, args, { env: opencodeEnv(world), cwd: world.project });
      if (r.code !== 0) throw new Error(`opencode run ${i + 1} exited ${r.code ?? r.signal}: ${r.stderr.slice(-800)}`);
    }
    for (const entry of mock.ledger) entry.api = scenario.api;
    const answers = mock.ledger.filter((e) => e.kind !== 'side');
    const side = mock.ledger.length - answers.length;
    ctx.notes.push(`side requests (session titles) billed by the mock, stored nowhere by OpenCode, left out: ${side}`);
    if (mock.remaining() > 0) problems.push(`${mock.remaining()} scripted answers were never asked for`);
    // The bash call ran: its output went back to the model in the next
    // request (the chat mock keeps tool messages' text; the Messages mock
    // the types of the last message's blocks).
    const ran = mock.requests.some((r) => (r.toolOutputs ?? []).some((o) => o.includes('tool-ran')) || /tool_result/.test(r.last ?? ''));
    if (scenario.script.some((st) => st.bash || st.blocks?.some((b) => b.type === 'tool_use')) && !ran) {
      problems.push('the bash call\'s output never reached the mock: the tool did not run');
    }
    const unscripted = answers.filter((e) => e.kind !== 'scripted');
    if (unscripted.length) problems.push(`${unscripted.length} unscripted answers: OpenCode asked for more than the script has`);

    let records = [];
    let steps = [];
    if (live) {
      await waitFor('records', async () => {
        records = await readTable(world.db, 'cost_records');
        steps = await storedSteps(world);
        return records.length === answers.length && compare(answers, records, steps, { ...ctx, notes: [] }).length === 0;
      });
    } else {
      const r = await run(bin, ['import', '--agent', 'opencode'], { env: henv });
      const s = importSummary(r);
      ctx.notes.push(`import: ${s ? `${s.added} added, ${s.updated} updated` : `exit ${r.code}`}`);
      if (r.code !== 0 || !s || s.added !== answers.length || s.updated !== 0) {
        problems.push(`hookmeter import --agent opencode: expected ${answers.length} added, 0 updated: ${(r.stdout + r.stderr).trim()}`);
      }
      records = await readTable(world.db, 'cost_records');
    }
    steps = await storedSteps(world);
    console.log(`opencode ${scenario.name} [${mode}]: ${scenario.about}`);
    problems.push(...compare(answers, records, steps, ctx));
    for (const n of ctx.notes) console.log(`  ${n}`);
    sideBySide(answers, records, steps);

    // Importing (again) afterwards adds nothing: the same keys.
    const again = await run(bin, ['import', '--agent', 'opencode'], { env: henv });
    const s = importSummary(again);
    console.log(`  import afterwards: ${s ? `${s.added} added, ${s.updated} updated` : `exit ${again.code}`}`);
    if (again.code !== 0 || !s || s.added !== 0 || s.updated !== 0) {
      problems.push(`hookmeter import afterwards: expected 0 added, 0 updated: ${(again.stdout + again.stderr).trim()}`);
    }
    await stopProcess(daemon);
    const final = await readTable(world.db, 'cost_records');
    problems.push(...compare(answers, final, steps, { ...ctx, notes: [] }).map((p) => `at the end: ${p}`));
    if (mock.unknown.length) console.log(`  unknown requests to the mock: ${JSON.stringify(mock.unknown)}`);
  } catch (e) {
    console.log(`opencode ${scenario.name} [${mode}]: ${scenario.about}`);
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
