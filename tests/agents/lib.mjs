// What the harness's runners share: running programs, waiting for a
// condition, reading hookmeter's database, the daemon's environment.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

// Generous: a condition is waited for, never a fixed time.
export const DEADLINE_MS = 60_000;

export function fail(message) {
  console.error(`agents harness: ${message}`);
  process.exit(2);
}

/** Runs a program to its end; resolves with its exit code and output. */
export function run(cmd, args, { env, cwd, timeoutMs = 180_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function waitFor(what, check, deadlineMs = DEADLINE_MS) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function socketAnswers(socket) {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

const QUERY = `
import json, sqlite3, sys
db, table, order = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    c = sqlite3.connect('file:' + db + '?mode=ro', uri=True)
except sqlite3.OperationalError:
    print('[]'); sys.exit(0)
c.row_factory = sqlite3.Row
try:
    rows = [dict(r) for r in c.execute('SELECT * FROM ' + table + ' ORDER BY ' + order)]
except sqlite3.OperationalError:
    rows = []
print(json.dumps(rows))
`;

/**
 * hookmeter's rows of `table` (cost_records, hook_events), read-only, by
 * `order` (a column; tables without `id`, such as otel_requests, name theirs).
 */
export async function readTable(db, table, order = 'id') {
  if (!fs.existsSync(db)) return [];
  const r = await run('python3', ['-c', QUERY, db, table, order]);
  if (r.code !== 0) throw new Error(`reading ${table}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** hookmeter's environment for a scenario's temp dir `w`. */
export function hookmeterEnv(w) {
  return {
    PATH: process.env.PATH,
    HOME: w.home,
    HOOKMETER_CONFIG: w.config,
    TELEMETRY_DB_PATH: w.db,
    HOOKMETER_SOCKET: w.socket,
    HOOKMETER_SPOOL: w.spool,
    HOOKMETER_HTTP: '127.0.0.1:0',
    RUST_LOG: 'hookmeter=debug,info',
  };
}

export function fmtCost(x) {
  return `$${x.toFixed(9)}`;
}

export async function stopProcess(child) {
  if (!child || child.exitCode !== null) return;
  const closed = new Promise((r) => child.on('close', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await closed;
  clearTimeout(timer);
}

/** `hookmeter import`'s summary: { added, updated } or null. */
export function importSummary(r) {
  const m = /cost records: (\d+) added, (\d+) updated/.exec(r.stderr + r.stdout);
  return m ? { added: Number(m[1]), updated: Number(m[2]) } : null;
}
