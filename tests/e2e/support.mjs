// What the dashboard's end-to-end tests share: a hookmeter daemon on a
// temporary directory, the known records they seed it with, and readers of
// what the page shows.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../..");
export const BIN = process.env.HOOKMETER_BIN || join(repo, "target/debug/hookmeter");
export const OUT = process.env.E2E_OUT || join(repo, "target/e2e");
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

// ---- a daemon on a temporary directory -------------------------------------

export class Daemon {
  static async start(name) {
    const dir = mkdtempSync(join(tmpdir(), `hookmeter-e2e-${name}-`));
    mkdirSync(join(dir, "home"));
    const child = spawn(BIN, ["serve"], { env: Daemon.env(dir), stdio: ["ignore", "ignore", "pipe"] });
    const daemon = new Daemon(dir, child);
    daemon.base = await daemon.#listening();
    return daemon;
  }

  /** The environment of a daemon, and of the commands run beside it, on `dir`. */
  static env(dir) {
    return {
      PATH: process.env.PATH,
      HOME: join(dir, "home"),
      HOOKMETER_CONFIG: join(dir, "none.toml"),
      TELEMETRY_DB_PATH: join(dir, "telemetry.db"),
      HOOKMETER_SOCKET: join(dir, "hookmeter.sock"),
      HOOKMETER_SPOOL: join(dir, "spool"),
      HOOKMETER_HTTP: "127.0.0.1:0",
      RUST_LOG: "info",
    };
  }

  /** Runs `hookmeter ARGS…` on this daemon's database; its stdout. */
  run(...args) {
    return execFileSync(BIN, args, { env: Daemon.env(this.dir), encoding: "utf8" });
  }

  constructor(dir, child) {
    this.dir = dir;
    this.child = child;
    this.log = "";
    this.exited = new Promise((done) => child.on("exit", done));
    child.stderr.on("data", (chunk) => (this.log += chunk));
  }

  #listening() {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("no 'HTTP API listening on' line in 20 s:\n" + this.log)), 20000);
      const look = () => {
        const m = this.log.match(/HTTP API listening on (\S+?)\.?\s/);
        if (m) {
          clearTimeout(timer);
          this.child.stderr.off("data", look);
          ok("http://" + m[1]);
        }
      };
      this.child.stderr.on("data", look);
      this.child.on("exit", (code) => fail(new Error(`hookmeter serve exited (${code}):\n${this.log}`)));
    });
  }

  async json(path) {
    const r = await fetch(this.base + path);
    assert.equal(r.status, 200, `GET ${path}: ${await r.clone().text()}`);
    return r.json();
  }

  async hook(payload) {
    const r = await fetch(this.base + "/hook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    const text = await r.text();
    assert.equal(r.status, 200, `POST /hook: ${text}`);
    return text;
  }

  async stop() {
    if (this.child.exitCode === null) {
      this.child.kill("SIGTERM");
      await this.exited;
    }
  }

  remove() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- known records ----------------------------------------------------------
// Recent costs are mostly claude-code's; the older ones, gemini-cli's (with
// many more tokens), so the top agent changes between 24h and 30d.

export function seeds(now) {
  const at = (ms) => new Date(now - ms).toISOString();
  const rows = [];
  const add = (session, agent, model, tool, ago, input, output, cacheRead, cacheWrite = 0) =>
    rows.push({
      // The old sessions belong to a task (its budget is spent whatever the date).
      task_id: session === "s-old" ? "T-e2e" : undefined,
      hook_event_name: "PostToolUse",
      hook_event_id: `e2e-${rows.length}`,
      session_id: session,
      agent_id: agent,
      model,
      tool_name: tool,
      cwd: "/home/dev/shop",
      timestamp: at(ago),
      usage: {
        input_tokens: input,
        output_tokens: output,
        cache_read_input_tokens: cacheRead,
        cache_creation_input_tokens: cacheWrite,
      },
    });
  // The last hour.
  add("s-alpha", "claude-code", "claude-sonnet-4-5", "Bash", 10 * 60 * 1000, 40000, 3000, 120000, 12000);
  add("s-alpha", "claude-code", "claude-sonnet-4-5", "Edit", 20 * 60 * 1000, 30000, 2500, 90000, 8000);
  add("s-alpha", "claude-code", "claude-opus-4-1", "Read", 30 * 60 * 1000, 20000, 1500, 50000);
  // Earlier today.
  add("s-beta", "codex", "gpt-5", "Bash", 3 * HOUR, 15000, 1000, 0);
  add("s-beta", "codex", "gpt-5", "Edit", 5 * HOUR, 12000, 800, 4000);
  add("s-gamma", "claude-code", "claude-sonnet-4-5", "Read", 9 * HOUR, 60000, 4000, 200000, 30000);
  add("s-gamma", "claude-code", "claude-haiku-4-5", "Grep", 15 * HOUR, 8000, 600, 0);
  // Small sessions two days ago: enough for a second page of sessions.
  for (let i = 0; i < 8; i++) {
    add(`s-small-${i}`, "opencode", "gpt-5-mini", "bash", 2 * DAY + i * HOUR, 2000, 100, 0);
  }
  // Days ago.
  for (let i = 0; i < 5; i++) {
    add("s-old", "gemini-cli", "gemini-2.5-pro", "Shell", (3 + 4 * i) * DAY, 400000, 30000, 0);
  }
  return rows;
}

/** Two small costs that read the same at two and at three decimals
 * ($0.0101 and $0.0104 at the built-in prices), a minute ago. */
export function cents(now) {
  const at = new Date(now - 60 * 1000).toISOString();
  const one = (id, agent, model, input) => ({
    hook_event_name: "PostToolUse",
    hook_event_id: id,
    session_id: "s-" + id,
    agent_id: agent,
    model,
    tool_name: "Bash",
    timestamp: at,
    usage: { input_tokens: input, output_tokens: 0 },
  });
  return [one("mini", "codex", "gpt-5-mini", 40400), one("nano", "opencode", "gpt-5-nano", 208000)];
}

/** The clock hours (UTC) holding at least one of `rows` at or after `since`. */
export function activeHours(rows, since) {
  const hours = rows.map((r) => Date.parse(r.timestamp)).filter((t) => t >= since).map((t) => Math.floor(t / HOUR));
  return new Set(hours).size;
}

// ---- what the page shows, read back ----------------------------------------

/** "$1,234.56" -> 1234.56; "$0.0042" -> 0.0042. */
export function dollars(text) {
  const m = text.replace(/,/g, "").match(/^(-)?\$([0-9.]+)/);
  assert.ok(m, `not a dollar amount: ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * Number(m[2]);
}

/**
 * Asserts that `texts` are the amounts `values` written as one set by the
 * money rule: one number of decimals `d` (2 to 6), each the value rounded
 * to `d` decimals, at least two significant digits for a non-zero value,
 * different texts for different values, and `d` the smallest that does all
 * this.
 */
export function assertMoneySet(texts, values, what) {
  assert.equal(texts.length, values.length, `${what}: one text per amount`);
  const shape = /^(-)?\$([0-9]{1,3}(?:,[0-9]{3})*)\.([0-9]+)$/;
  const decimals = new Set(texts.map((t) => {
    const m = t.match(shape);
    assert.ok(m, `${what}: ${JSON.stringify(t)} is not a dollar amount`);
    return m[3].length;
  }));
  assert.equal(decimals.size, 1, `${what}: one number of decimals in ${texts.join(" ")}`);
  const [d] = decimals;
  assert.ok(d >= 2 && d <= 6, `${what}: ${d} decimals`);
  const significant = (text) => text.replace(/[^0-9]/g, "").replace(/^0+/, "").length;
  const different = (a, b) => Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const fitsAt = (places) => values.every((v, i) => {
    const text = Math.abs(v).toFixed(places);
    if (v !== 0 && significant(text) < 2) return false;
    return values.every((w, j) => j === i || !different(v, w) || Math.abs(w).toFixed(places) !== text || Math.sign(v) !== Math.sign(w));
  });
  values.forEach((v, i) => {
    assert.ok(Math.abs(dollars(texts[i]) - v) <= 0.5 * 10 ** -d + 1e-12, `${what}: ${texts[i]} for ${v}`);
    if (v !== 0) assert.ok(significant(texts[i]) >= 2, `${what}: ${texts[i]} shows two significant digits`);
    values.forEach((w, j) => {
      if (different(v, w)) assert.notEqual(texts[i], texts[j], `${what}: ${v} and ${w} must not read the same`);
    });
  });
  if (d > 2) assert.ok(!fitsAt(d - 1), `${what}: ${d - 1} decimals would do for ${values.join(", ")}`);
  return d;
}

/** `iso` as a person reads it in `zone`: "2026-12-06 09:15" and "-05:00". */
export function zoned(iso, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "longOffset",
    }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === "GMT" ? "+00:00" : parts.timeZoneName.slice(3);
  return { local: `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`, offset };
}

/** "245K" -> 245000, "1.2M" -> 1200000, and the rounding it allows. */
export function tokens(text) {
  const m = text.match(/^([0-9.]+)([KMB]?)$/);
  assert.ok(m, `not a token count: ${JSON.stringify(text)}`);
  const unit = { "": 1, K: 1e3, M: 1e6, B: 1e9 }[m[2]];
  const decimals = (m[1].split(".")[1] || "").length;
  return { value: Number(m[1]) * unit, slack: (unit * 10 ** -decimals) / 2 + 1e-9 };
}

/** Waits for the page's latest load to end (Playwright's and Puppeteer's
 * `page.waitForFunction` take the same function). */
export async function settled(page) {
  await page.waitForFunction(() => {
    const main = document.getElementById("main");
    return main.getAttribute("aria-busy") === "false" && main.dataset.state !== "loading";
  });
}
