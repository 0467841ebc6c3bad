// The OTel modes of the harness: the real agent exports its own
// OpenTelemetry logs to the daemon while the daemon reads the agent's log as
// well (docs/agents-harness.md#opentelemetry-modes).
//
//   otel-protobuf  the settings `hookmeter install-hooks --otel` writes, as
//                  written (Claude Code: http/protobuf; Codex: binary)
//   otel-json      the same, the protocol switched to OTLP/HTTP JSON
//   otel-grpc      the same, switched to OTLP/gRPC at the daemon's gRPC
//                  listener (Gemini CLI's default protocol)
//
// What a run must show, beyond the records equal to the ledger: the events
// reached the daemon (its /metrics counts them), and still each billed
// request is one record.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { run, waitFor } from './lib.mjs';

export const OTEL_MODES = ['otel-protobuf', 'otel-json', 'otel-grpc'];

/** A port nothing listens on now (the daemon binds it right after). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The daemon's HTTP and gRPC listeners on known loopback ports (the agents'
 * settings must name them), added to hookmeter's environment `henv`.
 * Resolves with { http, grpc } as host:port.
 */
export async function otelListeners(henv) {
  const http = `127.0.0.1:${await freePort()}`;
  const grpc = `127.0.0.1:${await freePort()}`;
  henv.HOOKMETER_HTTP = http;
  henv.HOOKMETER_OTLP_GRPC = grpc;
  return { http, grpc };
}

/** `hookmeter install-hooks --otel` for `agent` (claude-code, codex, gemini). */
export async function installOtel(bin, henv, agent) {
  const r = await run(bin, ['install-hooks', '--otel', '--agent', agent], { env: henv });
  if (r.code !== 0) throw new Error(`install-hooks --otel --agent ${agent} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The daemon's /metrics samples as a map `name{labels}` → value. */
export async function scrape(http) {
  const res = await fetch(`http://${http}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sum of a family's samples whose labels include every `labels` pair. */
export function sampleSum(samples, name, labels = {}) {
  let total = 0;
  for (const [key, value] of samples) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/**
 * The usage events the daemon took from OTLP exports: records made or
 * matched (`usage`) and events of a session whose own log is read
 * (`superseded_by_log`).
 */
export async function usageEventsReceived(http) {
  const s = await scrape(http);
  return sampleSum(s, 'hookmeter_otlp_log_records_total', { outcome: 'usage' }) +
    sampleSum(s, 'hookmeter_otlp_log_records_total', { outcome: 'superseded_by_log' });
}

/** How the exports arrived, for the run's lines: `{protocol outcome} n`. */
export async function exportsSeen(http) {
  const s = await scrape(http);
  const seen = [];
  for (const [key, value] of s) {
    if (key.startsWith('hookmeter_otlp_exports_total{') && value > 0) seen.push(`${key.slice('hookmeter_otlp_exports_total'.length)} ${value}`);
  }
  return seen.join(', ') || 'none';
}

/** `hookmeter reconcile --json` with `extraEnv` (e.g. a changed rate). */
export async function reconcile(bin, henv, extraEnv = {}) {
  const r = await run(bin, ['reconcile', '--period', 'all', '--json'], { env: { ...henv, ...extraEnv } });
  if (r.code !== 0) throw new Error(`hookmeter reconcile exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Claude Code's settings.json `env` as install-hooks wrote it, switched to
 * `mode`'s protocol (and, for gRPC, to the daemon's gRPC listener).
 */
export function switchClaudeProtocol(home, mode, listeners) {
  const file = path.join(home, '.claude/settings.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  const env = settings.env ?? {};
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== `http://${listeners.http}`) {
    throw new Error(`install-hooks --otel wrote endpoint ${env.OTEL_EXPORTER_OTLP_ENDPOINT}, not the daemon's http://${listeners.http}`);
  }
  if (mode === 'otel-json') env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  if (mode === 'otel-grpc') {
    env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
    env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${listeners.grpc}`;
  }
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
  return env.OTEL_EXPORTER_OTLP_PROTOCOL;
}

/**
 * Codex's config.toml as install-hooks wrote it (`[otel.exporter.otlp-http]`,
 * protocol `binary`), switched to `mode`'s protocol: `json`, or the
 * `otlp-grpc` exporter at the daemon's gRPC listener.
 */
export function switchCodexProtocol(codexHome, mode, listeners) {
  const file = path.join(codexHome, 'config.toml');
  let text = fs.readFileSync(file, 'utf8');
  const endpoint = `endpoint = "http://${listeners.http}/v1/logs"`;
  if (!text.includes('[otel.exporter.otlp-http]') || !text.includes(endpoint)) {
    throw new Error(`install-hooks --otel --agent codex did not write an otlp-http exporter to the daemon:\n${text}`);
  }
  if (mode === 'otel-json') text = text.replace('protocol = "binary"', 'protocol = "json"');
  if (mode === 'otel-grpc') {
    text = text
      .replace('[otel.exporter.otlp-http]', '[otel.exporter.otlp-grpc]')
      .replace(endpoint, `endpoint = "http://${listeners.grpc}"`)
      .replace(/^protocol = "binary"\n/m, '');
  }
  fs.writeFileSync(file, text);
  return /\[otel\.exporter\.(otlp-[a-z]+)\]/.exec(text)[1] + (/protocol = "(\w+)"/.exec(text)?.[1] ? ` ${/protocol = "(\w+)"/.exec(text)[1]}` : '');
}

/**
 * Codex and Gemini CLI: the usage events of a run reached the daemon, and
 * (the agent's log being read too) none of them is a record: one source
 * per session, the log's. `expected` is the number of billed responses.
 */
export async function checkSessionSource({ http, expected, records, notes }) {
  const problems = [];
  // The agent exports as it exits: wait for its events, or for the daemon
  // to have seen an export cut off (an agent exiting in the middle of one).
  const cut = async () => sampleSum(await scrape(http), 'hookmeter_otlp_exports_total', { outcome: 'incomplete' });
  await waitFor('usage events', async () => (await usageEventsReceived(http)) >= expected || (await cut()) > 0);
  const received = await usageEventsReceived(http);
  const s = await scrape(http);
  const sessions = sampleSum(s, 'hookmeter_otel_sessions');
  notes.push(`OTLP exports: ${await exportsSeen(http)}; usage events ${received}; ` +
    `records from events replaced by the log's ${sampleSum(s, 'hookmeter_otel_session_records_replaced_total')}`);
  // Fewer only when the daemon saw the agent cut an export off: what the
  // agent never finished sending cannot arrive (the records, from its log,
  // are whole all the same).
  const incomplete = await cut();
  if (received < expected && incomplete === 0) problems.push(`${received} usage events reached the daemon for ${expected} billed responses`);
  if (received < expected && incomplete > 0) notes.push(`the agent cut ${incomplete} export(s) off as it exited: ${expected - received} usage event(s) never arrived`);
  const fromEvents = records.filter((r) => r.source === 'otel');
  if (fromEvents.length) problems.push(`${fromEvents.length} records still from OTel events although the log was read`);
  if (sessions !== 0) problems.push(`hookmeter_otel_sessions ${sessions}, expected 0 (the log was read)`);
  return problems;
}

/**
 * The Gemini CLI's settings.json `telemetry` as install-hooks wrote it
 * (`otlpProtocol` "http": OTLP/HTTP JSON, the CLI has no protobuf), or
 * switched to "grpc" at the daemon's gRPC listener.
 */
export function switchGeminiProtocol(home, mode, listeners) {
  const file = path.join(home, '.gemini/settings.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  const t = settings.telemetry ?? {};
  if (t.otlpEndpoint !== `http://${listeners.http}` || t.otlpProtocol !== 'http' || t.enabled !== true) {
    throw new Error(`install-hooks --otel --agent gemini wrote ${JSON.stringify(t)}`);
  }
  if (mode === 'otel-protobuf') throw new Error('the Gemini CLI cannot export OTLP/HTTP protobuf (its "http" is JSON)');
  if (mode === 'otel-grpc') {
    t.otlpProtocol = 'grpc';
    t.otlpEndpoint = `http://${listeners.grpc}`;
  }
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
  return `otlpProtocol ${t.otlpProtocol}`;
}
