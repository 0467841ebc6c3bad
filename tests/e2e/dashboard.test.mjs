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
import { mkdirSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { BIN, OUT, repo, Daemon, seeds, dollars, tokens, settled } from "./support.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

async function cards(page) {
  const text = async (id) => (await page.locator("#" + id).textContent()).trim();
  return {
    spend: await text("card-spend"),
    rate: await text("card-rate"),
    agent: await text("card-agent"),
    tokens: await text("card-tokens"),
  };
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

test("sessions page, sort by a column and expand to their models and tools", async () => {
  const { page, context, problems } = await open(seeded, "?range=30d");
  const byApi = async (sort, order, number = 1) =>
    (
      await seeded.json(`/api/costs/sessions?time_range=30d&page_size=10&page=${number}&sort=${sort}&order=${order}`)
    ).sessions.map((s) => s.session_id);

  assert.deepEqual(await sessionIds(page), await byApi("last_at", "desc"));
  assert.equal(await page.locator("#sessions tbody tr[data-session]").count(), 10);
  assert.match(await page.locator("#page-info").textContent(), /Page 1 of 2 · 12 sessions/);
  assert.equal(await page.locator("#prev").isDisabled(), true);
  await page.locator("#next").click();
  await settled(page);
  assert.match(await page.locator("#page-info").textContent(), /Page 2 of 2/);
  assert.deepEqual(await sessionIds(page), await byApi("last_at", "desc", 2));
  assert.equal(await page.locator("#next").isDisabled(), true);
  await page.locator("#prev").click();
  await settled(page);

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
  const asc = await byApi("cost_usd", "asc");
  assert.deepEqual(await sessionIds(page), asc);
  assert.ok(asc[0].startsWith("s-small-"), "the cheapest sessions first");
  await page.screenshot({ path: join(OUT, "sessions-sorted.png"), fullPage: true });
  await cost.getByRole("button").click(); // back to the most expensive first
  await settled(page);
  assert.deepEqual(await sessionIds(page), desc);

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

test("the loading state shows until the API answers", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "UTC" });
  const page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  let release;
  const gate = new Promise((done) => (release = done));
  await page.route("**/api/**", async (route) => {
    await gate;
    await route.continue();
  });
  await page.goto(seeded.base + "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("Loading"));
  assert.equal(await page.locator("#main").getAttribute("data-state"), "loading");
  assert.equal(await page.locator("#main").getAttribute("aria-busy"), "true");
  assert.equal((await page.locator("#card-spend").textContent()).trim(), "…");
  await page.screenshot({ path: join(OUT, "dashboard-loading.png"), fullPage: true });
  release();
  await settled(page);
  assert.equal(await page.locator("#main").getAttribute("data-state"), "ready");
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

test("budgets show as bars, red when spent", async () => {
  seeded.run("budget", "set", "--total", "1", "--scope", "task:T-e2e");
  seeded.run("budget", "set", "--monthly", "1000");
  const { page, context, problems } = await open(seeded);
  const api = await seeded.json("/api/budgets?tz=UTC");
  assert.equal(api.length, 2);
  const bars = page.locator("#budgets [role=progressbar]");
  assert.equal(await bars.count(), 2);
  for (let i = 0; i < api.length; i++) {
    assert.equal(Number(await bars.nth(i).getAttribute("aria-valuenow")), Math.round(api[i].ratio * 100));
  }
  const spent = api.findIndex((b) => b.scope === "task:T-e2e");
  assert.ok(api[spent].ratio > 1, `the seeds spend more than $1 on the task (${api[spent].ratio})`);
  assert.equal(await bars.nth(spent).locator("span.over").count(), 1, "a spent budget is red");
  assert.match(await page.locator("#budgets").textContent(), /task:T-e2e · total/);
  assert.match(await page.locator("#budgets").textContent(), /everything · monthly/);
  await page.screenshot({ path: join(OUT, "dashboard-budgets.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  seeded.run("budget", "clear");
  await context.close();
});

// The page's own files are what the binary embeds.
test("the served page is the embedded file", async () => {
  const served = await (await fetch(seeded.base + "/")).text();
  assert.equal(served, readFileSync(join(repo, "src/http/dashboard/index.html"), "utf8"));
});
