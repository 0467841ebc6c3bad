// End-to-end test of the dashboard (issue 5) in a real headless Chromium,
// driven by playwright-core. Run by .ci/run after `cargo test` has built the
// binary:
//
//   cd tests/e2e && npm ci && node --test
//
// Environment: HOOKMETER_BIN (default ../../target/debug/hookmeter),
// CHROMIUM (default /usr/bin/chromium), E2E_OUT (screenshots; default
// ../../target/e2e). Nothing is skipped: a missing browser or binary fails.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const BIN = process.env.HOOKMETER_BIN || join(repo, "target/debug/hookmeter");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUT = process.env.E2E_OUT || join(repo, "target/e2e");
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

// ---- a daemon on a temporary directory -------------------------------------

class Daemon {
  static async start(name) {
    const dir = mkdtempSync(join(tmpdir(), `hookmeter-e2e-${name}-`));
    mkdirSync(join(dir, "home"));
    const child = spawn(BIN, ["serve"], {
      env: {
        PATH: process.env.PATH,
        HOME: join(dir, "home"),
        HOOKMETER_CONFIG: join(dir, "none.toml"),
        TELEMETRY_DB_PATH: join(dir, "telemetry.db"),
        HOOKMETER_SOCKET: join(dir, "hookmeter.sock"),
        HOOKMETER_SPOOL: join(dir, "spool"),
        HOOKMETER_HTTP: "127.0.0.1:0",
        RUST_LOG: "info",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const daemon = new Daemon(dir, child);
    daemon.base = await daemon.#listening();
    return daemon;
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

function seeds(now) {
  const at = (ms) => new Date(now - ms).toISOString();
  const rows = [];
  const add = (session, agent, model, tool, ago, input, output, cacheRead) =>
    rows.push({
      hook_event_name: "PostToolUse",
      hook_event_id: `e2e-${rows.length}`,
      session_id: session,
      agent_id: agent,
      model,
      tool_name: tool,
      cwd: "/home/dev/shop",
      timestamp: at(ago),
      usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead },
    });
  // The last hour.
  add("s-alpha", "claude-code", "claude-sonnet-4-5", "Bash", 10 * 60 * 1000, 40000, 3000, 120000);
  add("s-alpha", "claude-code", "claude-sonnet-4-5", "Edit", 20 * 60 * 1000, 30000, 2500, 90000);
  add("s-alpha", "claude-code", "claude-opus-4-1", "Read", 30 * 60 * 1000, 20000, 1500, 50000);
  // Earlier today.
  add("s-beta", "codex", "gpt-5", "Bash", 3 * HOUR, 15000, 1000, 0);
  add("s-beta", "codex", "gpt-5", "Edit", 5 * HOUR, 12000, 800, 4000);
  add("s-gamma", "claude-code", "claude-sonnet-4-5", "Read", 9 * HOUR, 60000, 4000, 200000);
  add("s-gamma", "claude-code", "claude-haiku-4-5", "Grep", 15 * HOUR, 8000, 600, 0);
  // Days ago.
  for (let i = 0; i < 5; i++) {
    add("s-old", "gemini-cli", "gemini-2.5-pro", "Shell", (3 + 4 * i) * DAY, 400000, 30000, 0);
  }
  return rows;
}

// ---- what the page shows, read back ----------------------------------------

/** "$1,234.56" -> 1234.56; "$0.0042" -> 0.0042. */
function dollars(text) {
  const m = text.replace(/,/g, "").match(/^(-)?\$([0-9.]+)/);
  assert.ok(m, `not a dollar amount: ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * Number(m[2]);
}

/** "245K" -> 245000, "1.2M" -> 1200000, and the rounding it allows. */
function tokens(text) {
  const m = text.match(/^([0-9.]+)([KMB]?)$/);
  assert.ok(m, `not a token count: ${JSON.stringify(text)}`);
  const unit = { "": 1, K: 1e3, M: 1e6, B: 1e9 }[m[2]];
  const decimals = (m[1].split(".")[1] || "").length;
  return { value: Number(m[1]) * unit, slack: (unit * 10 ** -decimals) / 2 + 1e-9 };
}

async function cards(page) {
  const text = async (id) => (await page.locator("#" + id).textContent()).trim();
  return {
    spend: await text("card-spend"),
    rate: await text("card-rate"),
    agent: await text("card-agent"),
    tokens: await text("card-tokens"),
  };
}

async function settled(page) {
  await page.waitForFunction(() => {
    const main = document.getElementById("main");
    return main.getAttribute("aria-busy") === "false" && main.dataset.state !== "loading";
  });
}

async function sessionIds(page) {
  return page.locator("#sessions tbody tr[data-session]").evaluateAll((rows) => rows.map((r) => r.dataset.session));
}

// ---- the run ----------------------------------------------------------------

let browser;
let seeded;
let emptyDaemon;
const requests = [];

before(async () => {
  for (const [what, path] of [["hookmeter binary (cargo build)", BIN], ["Chromium (apt-get install chromium)", CHROMIUM]]) {
    assert.ok(existsSync(path), `the ${what} is missing at ${path}`);
  }
  mkdirSync(OUT, { recursive: true });
  seeded = await Daemon.start("seeded");
  for (const payload of seeds(Date.now())) await seeded.hook(payload);
  emptyDaemon = await Daemon.start("empty");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  if (browser) await browser.close();
  for (const d of [seeded, emptyDaemon]) {
    if (d) {
      await d.stop();
      d.remove();
    }
  }
});

/** A page on `daemon` with every request and console error recorded. */
async function open(daemon, query = "", viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, timezoneId: "UTC", locale: "en-US" });
  const page = await context.newPage();
  const problems = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(daemon.base + "/" + query);
  await settled(page);
  // What loading the page moved over the network: the document, its files
  // and the API answers it asked for (headers included).
  const transferred = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
      .reduce((sum, e) => sum + (e.transferSize || 0), 0),
  );
  return { page, context, problems, transferred };
}

test("the cards show what the API returns, and the time range changes them", async (t) => {
  const { page, context, problems, transferred } = await open(seeded);
  await page.screenshot({ path: join(OUT, "dashboard-24h.png"), fullPage: true });

  for (const range of ["24h", "30d", "1h"]) {
    if (range !== "24h") {
      await page.getByRole("button", { name: range, exact: true }).click();
      await settled(page);
      await page.screenshot({ path: join(OUT, `dashboard-${range}.png`), fullPage: true });
    }
    assert.equal(await page.getByRole("button", { name: range, exact: true }).getAttribute("aria-pressed"), "true");
    const api = await seeded.json(`/api/costs/summary?group_by=agent&time_range=${range}&tz=UTC`);
    const shown = await cards(page);
    assert.ok(api.total_cost_usd > 0.01, `${range}: the seeds cost something (${api.total_cost_usd})`);
    assert.ok(Math.abs(dollars(shown.spend) - api.total_cost_usd) < 0.005, `${range}: spend ${shown.spend} vs ${api.total_cost_usd}`);
    const hours = { "1h": 1, "24h": 24, "30d": 720 }[range];
    const rate = api.total_cost_usd / hours;
    assert.match(shown.rate, /\/h$/);
    assert.ok(Math.abs(dollars(shown.rate) - rate) <= Math.max(0.005, rate * 0.01), `${range}: rate ${shown.rate} vs ${rate}`);
    assert.equal(shown.agent, api.groups[0].key, `${range}: top agent`);
    const sum = api.total_input_tokens + api.total_output_tokens + api.total_cache_read_tokens + api.total_cache_write_tokens;
    const t = tokens(shown.tokens);
    assert.ok(Math.abs(t.value - sum) <= t.slack, `${range}: tokens ${shown.tokens} vs ${sum}`);
    assert.equal(await page.locator("#empty").isHidden(), true, `${range}: not the empty state`);
  }
  // The seeds were chosen so that the ranges differ.
  const day = await seeded.json("/api/costs/summary?group_by=agent&time_range=24h");
  const month = await seeded.json("/api/costs/summary?group_by=agent&time_range=30d");
  assert.equal(day.groups[0].key, "claude-code");
  assert.equal(month.groups[0].key, "gemini-cli");

  // Charts: one bar per agent of the range, one donut segment per model.
  await page.getByRole("button", { name: "30d", exact: true }).click();
  await settled(page);
  assert.equal(await page.locator("#agents svg rect").count(), month.groups.length);
  const models = await seeded.json("/api/costs/summary?group_by=model&time_range=30d");
  assert.equal(await page.locator("#models svg circle").count(), models.groups.length);
  assert.ok((await page.locator("#over-time svg rect").count()) >= models.groups.length);
  assert.equal((await page.locator("#budgets").textContent()).trim(), "No budgets are set.");

  t.diagnostic(`loading the page transferred ${transferred} bytes`);
  assert.ok(transferred > 30 * 1024, `the page's own files are counted (${transferred} bytes)`);
  assert.ok(transferred < 250 * 1024, `page transfer ${transferred} bytes`);
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

test("sessions sort by a column and expand to their models and tools", async () => {
  const { page, context, problems } = await open(seeded, "?range=30d");
  const byApi = async (sort, order) =>
    (await seeded.json(`/api/costs/sessions?time_range=30d&page_size=10&sort=${sort}&order=${order}`)).sessions.map((s) => s.session_id);

  assert.deepEqual(await sessionIds(page), await byApi("last_at", "desc"));
  const cost = page.locator("th[data-sort=cost_usd]");
  await cost.getByRole("button").click();
  await settled(page);
  assert.equal(await cost.getAttribute("aria-sort"), "descending");
  const desc = await byApi("cost_usd", "desc");
  assert.deepEqual(await sessionIds(page), desc);
  assert.equal(desc[0], "s-old", "the most expensive session");
  await cost.getByRole("button").click();
  await settled(page);
  assert.equal(await cost.getAttribute("aria-sort"), "ascending");
  assert.deepEqual(await sessionIds(page), [...desc].reverse());
  await page.screenshot({ path: join(OUT, "sessions-sorted.png"), fullPage: true });

  const row = page.locator('tr[data-session="s-alpha"]');
  const toggle = row.getByRole("button");
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  await toggle.click();
  const detail = page.locator("tr.detail");
  await detail.waitFor();
  assert.equal(await toggle.getAttribute("aria-expanded"), "true");
  const session = await seeded.json("/api/costs/sessions/s-alpha");
  const text = await detail.textContent();
  for (const m of session.by_model) assert.ok(text.includes(m.model), `detail names ${m.model}`);
  for (const t of session.by_tool) assert.ok(text.includes(t.tool), `detail names ${t.tool}`);
  assert.deepEqual(session.by_model.map((m) => m.model).sort(), ["claude-opus-4-1", "claude-sonnet-4-5"]);
  await page.screenshot({ path: join(OUT, "session-expanded.png"), fullPage: true });
  await toggle.click();
  assert.equal(await page.locator("tr.detail").count(), 0);
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

test("the controls work from the keyboard, and a narrow window fits", async () => {
  const { page, context, problems } = await open(seeded, "", { width: 420, height: 900 });
  // Tab to the 7d button and press Enter.
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement && document.activeElement.dataset.range === "7d");
  }
  assert.ok(reached, "7d is reachable with Tab");
  await page.keyboard.press("Enter");
  await settled(page);
  assert.equal(await page.getByRole("button", { name: "7d", exact: true }).getAttribute("aria-pressed"), "true");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: join(OUT, "dashboard-narrow.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

test("an empty database shows the empty state", async () => {
  const { page, context, problems } = await open(emptyDaemon);
  assert.equal(await page.locator("#main").getAttribute("data-state"), "empty");
  assert.equal(await page.locator("#empty").isVisible(), true);
  assert.equal((await cards(page)).spend, "$0.00");
  assert.match(await page.locator("#sessions tbody").textContent(), /No sessions in this range/);
  assert.match(await page.locator("#budgets").textContent(), /No budgets are set/);
  await page.screenshot({ path: join(OUT, "dashboard-empty.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

test("a stopped API shows the error state, and no request ever left loopback", async () => {
  const { page, context, problems } = await open(emptyDaemon);
  assert.deepEqual(problems, [], "console errors while the API was up");
  await emptyDaemon.stop();
  await page.getByRole("button", { name: "Refresh", exact: true }).click();
  await page.locator("#error").waitFor({ state: "visible" });
  assert.equal(await page.locator("#main").getAttribute("data-state"), "error");
  assert.match(await page.locator("#error").textContent(), /Cannot load costs/);
  await page.screenshot({ path: join(OUT, "dashboard-error.png"), fullPage: true });
  await context.close();

  assert.ok(requests.length > 10, `requests were recorded (${requests.length})`);
  const away = requests.filter((u) => !/^(http:\/\/127\.0\.0\.1:\d+\/|data:)/.test(u));
  assert.deepEqual(away, [], "requests to anything but the daemon");
});

// The page's own files are what the binary embeds.
test("the served page is the embedded file", async () => {
  const served = await (await fetch(seeded.base + "/")).text();
  assert.equal(served, readFileSync(join(repo, "src/http/dashboard/index.html"), "utf8"));
});
