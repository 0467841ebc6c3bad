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
import { execFileSync } from "node:child_process";
import { mkdirSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { percent as share } from "../../src/http/dashboard/format.mjs";
import {
  BIN, OUT, repo, Daemon, seeds, cents, activeHours, dollars, tokens, settled, assertMoneySet, zoned,
} from "./support.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

async function cards(page) {
  const text = async (id) => (await page.locator("#" + id).textContent()).trim();
  return {
    spend: await text("card-spend"),
    rate: await text("card-rate"),
    rateNote: await text("card-rate-note"),
    agent: await text("card-agent"),
    agentNote: await text("card-agent-note"),
    tokens: await text("card-tokens"),
    tokenParts: await text("card-tokens-note"),
    tokenTitle: await page.locator("#card-tokens-box").getAttribute("title"),
  };
}

/** The texts of every element `selector` matches. */
async function texts(page, selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent.trim()));
}

async function sessionIds(page) {
  return page.locator("#sessions tbody tr[data-session]").evaluateAll((rows) => rows.map((r) => r.dataset.session));
}

// ---- the run ----------------------------------------------------------------

let browser;
let seeded;
let seededAt;
let seededRows;
let centsDaemon;
let emptyDaemon;
const requests = [];

before(async () => {
  for (const [what, path] of [["hookmeter binary (cargo build)", BIN], ["Chromium (apt-get install chromium)", CHROMIUM]]) {
    assert.ok(existsSync(path), `the ${what} is missing at ${path}`);
  }
  mkdirSync(OUT, { recursive: true });
  seeded = await Daemon.start("seeded");
  seededAt = Date.now();
  seededRows = seeds(seededAt);
  for (const payload of seededRows) await seeded.hook(payload);
  centsDaemon = await Daemon.start("cents");
  for (const payload of cents(Date.now())) await centsDaemon.hook(payload);
  emptyDaemon = await Daemon.start("empty");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  if (browser) await browser.close();
  for (const d of [seeded, centsDaemon, emptyDaemon]) {
    if (d) {
      await d.stop();
      d.remove();
    }
  }
});

/** A page on `daemon` with every request and console error recorded. */
async function open(daemon, query = "", viewport = { width: 1280, height: 900 }, timezoneId = "UTC") {
  const context = await browser.newContext({ viewport, timezoneId, locale: "en-US" });
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
    // The spend rate is per active hour: the clock hours of the range that
    // hold a seeded record (no more than the range's hours), said once.
    const length = { "1h": 1, "24h": 24, "30d": 720 }[range];
    const active = activeHours(seededRows, Date.now() - length * 3600 * 1000);
    assert.equal(api.active_hours, active, `${range}: the API's active hours are the seeds'`);
    const hours = Math.min(active, length);
    if (range !== "1h") assert.ok(hours < length / 2, `${range}: most hours are quiet (${hours} active)`);
    assert.equal(shown.rateNote, `over ${hours} active hour${hours === 1 ? "" : "s"}`, `${range}: rate note`);
    assert.match(shown.rate, /^\$[0-9,.]+\/h$/);
    assertMoneySet([shown.rate.replace(/\/h$/, "")], [api.total_cost_usd / hours], `${range}: spend rate`);
    assertMoneySet([shown.spend], [api.total_cost_usd], `${range}: total spend`);
    assert.equal(shown.agent, api.groups[0].key, `${range}: top agent`);
    assertMoneySet([shown.agentNote.split(" · ")[0]], [api.groups[0].cost_usd], `${range}: top agent's spend`);
    // Total tokens: its four parts, in its unit, add up to it as shown, and
    // each is within one displayed step of its count; the tooltip is exact.
    const parts = [api.total_input_tokens, api.total_output_tokens, api.total_cache_read_tokens, api.total_cache_write_tokens];
    const sum = parts.reduce((a, b) => a + b, 0);
    assert.ok(api.total_cache_write_tokens > 0, `${range}: the seeds write the cache`);
    const t = tokens(shown.tokens);
    assert.ok(Math.abs(t.value - sum) <= t.slack, `${range}: tokens ${shown.tokens} vs ${sum}`);
    const shownParts = shown.tokenParts.split(" · ").map((p) => p.match(/^(\S+) (input|output|cache read|cache write)$/));
    assert.deepEqual(shownParts.map((m) => m && m[2]), ["input", "output", "cache read", "cache write"], shown.tokenParts);
    const step = 2 * t.slack;
    const partValues = shownParts.map((m) => tokens(m[1]).value);
    assert.ok(Math.abs(partValues.reduce((a, b) => a + b, 0) - t.value) < 1e-6 * step, `${range}: ${shown.tokenParts} add up to ${shown.tokens}`);
    partValues.forEach((v, i) => assert.ok(Math.abs(v - parts[i]) < step, `${range}: part ${shownParts[i][0]} vs ${parts[i]}`));
    const exact = (n) => n.toLocaleString("en-US");
    assert.equal(shown.tokenTitle, `${exact(sum)} tokens: ${exact(parts[0])} input, ${exact(parts[1])} output, ` +
      `${exact(parts[2])} cache read, ${exact(parts[3])} cache write`);
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
  assert.match(
    (await page.locator("#error").textContent()).replace(/\s+/g, " "),
    /Cannot load costs\. The daemon did not answer/,
  );
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
  // Spent and limit of a budget are one money set.
  const lines = await texts(page, "#budgets .budget-amounts");
  api.forEach((b, i) => {
    const [amounts, percent] = lines[i].split(" · ");
    // The percentage rule itself is unit-tested in format.test.mjs.
    assert.equal(percent, share(b.ratio, 1));
    assertMoneySet(amounts.split(" of "), [b.spent, b.limit], `budget ${b.scope} ${b.period}`);
  });
  // A period that ends says when, with its offset (the page runs in UTC).
  const monthly = api.findIndex((b) => b.period === "monthly");
  const end = new Date(api[monthly].period_end).toISOString().slice(0, 16).replace("T", " ");
  assert.equal(await page.locator("#budgets .budget").nth(monthly).locator(".budget-end").textContent(), `ends ${end} +00:00`);
  assert.equal(await page.locator("#budgets .budget").nth(spent).locator(".budget-end").count(), 0, "a total budget never ends");
  assert.match(await page.locator("#budgets").textContent(), /task:T-e2e · total/);
  assert.match(await page.locator("#budgets").textContent(), /everything · monthly/);
  await page.screenshot({ path: join(OUT, "dashboard-budgets.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  seeded.run("budget", "clear");
  await context.close();
});

/** Every set of amounts on the page, read back with the values it shows. */
async function moneySets(page, daemon, range) {
  const q = `time_range=${range}&tz=UTC`;
  const byAgent = await daemon.json(`/api/costs/summary?group_by=agent&${q}`);
  const byModel = await daemon.json(`/api/costs/summary?group_by=model&${q}`);
  const sessions = await daemon.json(`/api/costs/sessions?${q}&page_size=10`);
  const legendAmount = (text) => text.split(" · ")[1];
  const sets = {
    "agents chart": [await texts(page, "#agents .bar-value"), byAgent.groups.slice(0, 8).map((g) => g.cost_usd)],
    "donut legend and total": [
      [...(await texts(page, "#models .legend li")).map(legendAmount), (await texts(page, "#models .donut-total"))[0]],
      [...byModel.groups.map((g) => g.cost_usd), byModel.total_cost_usd],
    ],
    "over-time legend": [
      (await texts(page, "#over-time-legend li")).map((t) => t.slice(t.lastIndexOf(" ") + 1)),
      byModel.groups.map((g) => g.cost_usd),
    ],
    "sessions cost column": [
      (await texts(page, "#sessions tbody tr[data-session] td:last-child")),
      sessions.sessions.map((s) => s.cost_usd),
    ],
  };
  return sets;
}

test("plan limits show each agent's windows with their reset, hidden without plan data", async () => {
  // A daemon of its own: the handoff adds a reported cost the other tests
  // do not expect.
  const daemon = await Daemon.start("plan");
  const bare = await open(daemon);
  assert.equal(await bare.page.locator("#plan-panel").isHidden(), true, "no plan data: no card");
  await bare.context.close();
  // Claude Code's statusline input of a subscriber, handed over as Claude Code runs it.
  execFileSync(BIN, ["statusline"], {
    env: Daemon.env(daemon.dir),
    input: readFileSync(join(repo, "tests/fixtures/statusline/subscriber.json")),
  });
  let api;
  for (let i = 0; i < 200; i++) {
    api = await daemon.json("/api/plan");
    if (api.plan.length === 2) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.equal(api.plan.length, 2, JSON.stringify(api));
  const { page, context, problems } = await open(daemon);
  assert.equal(await page.locator("#plan-panel").isHidden(), false);
  const bars = page.locator("#plan [role=progressbar]");
  assert.equal(await bars.count(), 2);
  for (let i = 0; i < api.plan.length; i++) {
    assert.equal(Number(await bars.nth(i).getAttribute("aria-valuenow")), Math.round(api.plan[i].used_pct));
  }
  assert.deepEqual(await texts(page, "#plan .budget-amounts"), ["23.5% used", "81.2% used"]);
  const resets = api.plan.map((p) => "resets " + new Date(p.resets_at).toISOString().slice(0, 16).replace("T", " ") + " +00:00");
  assert.deepEqual(await texts(page, "#plan .budget-end"), resets);
  assert.match(await page.locator("#plan").textContent(), /claude-code · 5-hour/);
  assert.match(await page.locator("#plan").textContent(), /claude-code · 7-day/);
  assert.equal(await bars.nth(1).locator("span.warn").count(), 1, "over 80 % is amber");
  await page.screenshot({ path: join(OUT, "dashboard-plan.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
  await daemon.stop();
  daemon.remove();
});

test("amounts shown together share their decimals, and different amounts never read the same", async () => {
  // Two costs that read "$0.01" at two decimals and "$0.010" at three.
  const { page, context, problems } = await open(centsDaemon, "?range=1h");
  const sets = await moneySets(page, centsDaemon, "1h");
  const [legend] = sets["donut legend and total"];
  assert.deepEqual(legend, ["$0.0104", "$0.0101", "$0.0205"], "the donut's amounts, four decimals");
  for (const [what, [shown, values]] of Object.entries(sets)) assertMoneySet(shown, values, what);
  assert.deepEqual(await texts(page, "#agents .bar-value"), ["$0.0104", "$0.0101"]);
  await page.screenshot({ path: join(OUT, "dashboard-cents.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();

  for (const range of ["24h", "30d"]) {
    const { page, context, problems } = await open(seeded, `?range=${range}`);
    for (const [what, [shown, values]] of Object.entries(await moneySets(page, seeded, range))) {
      assert.ok(shown.length >= 2, `${range}, ${what}: a set of several amounts (${shown})`);
      assertMoneySet(shown, values, `${range}, ${what}`);
    }
    assert.deepEqual(problems, [], "console errors");
    await context.close();
  }
});

test("the cost axis has gridlines at nice values, each labelled with its value", async () => {
  for (const range of ["24h", "30d"]) {
    const { page, context } = await open(seeded, `?range=${range}`);
    const grid = await page.locator("#over-time line.grid").evaluateAll((lines) =>
      lines.map((l) => ({ value: Number(l.dataset.value), y: Number(l.getAttribute("y1")), y2: Number(l.getAttribute("y2")) })));
    const labels = await page.locator("#over-time text.tick").evaluateAll((ts) =>
      ts.map((t) => ({ text: t.textContent, y: Number(t.getAttribute("y")) })));
    assert.equal(labels.length, grid.length, `${range}: one label per gridline`);
    assert.ok(grid.length >= 3, `${range}: ${grid.length} gridlines`);
    // Each label is its gridline's value exactly, at its height, and the
    // labels are one money set.
    grid.forEach((g, i) => {
      assert.equal(g.y, g.y2, "a horizontal line");
      assert.ok(Math.abs(dollars(labels[i].text) - g.value) < 1e-12, `${range}: label ${labels[i].text} on the line at ${g.value}`);
      assert.ok(Math.abs(labels[i].y - 4 - g.y) < 1e-9, `${range}: label ${labels[i].text} beside its line`);
    });
    assertMoneySet(labels.map((l) => l.text), grid.map((g) => g.value), `${range}: axis labels`);
    // From zero in equal nice steps (1, 2 or 5 × 10^k).
    const step = grid[1].value - grid[0].value;
    assert.equal(grid[0].value, 0);
    const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `${range}: step ${step}`);
    grid.forEach((g, i) => assert.ok(Math.abs(g.value - i * step) < step * 1e-9, `${range}: tick ${i} at ${g.value}`));
    // The lines are drawn on the bars' scale: y is affine in the value, and
    // every bucket's stack reaches the height of its cost.
    const [first, last] = [grid[0], grid[grid.length - 1]];
    const yOf = (v) => first.y + ((last.y - first.y) * (v - first.value)) / (last.value - first.value);
    grid.forEach((g) => assert.ok(Math.abs(yOf(g.value) - g.y) < 1e-6, `${range}: gridline ${g.value} at its height`));
    const timed = range === "24h" ? "hour" : "day";
    const buckets = await seeded.json(`/api/costs/summary?group_by=${timed}&time_range=${range}&tz=UTC`);
    const tops = await page.locator("#over-time rect").evaluateAll((rects) => {
      const top = {};
      for (const r of rects) {
        const y = Number(r.getAttribute("y"));
        top[r.dataset.bucket] = Math.min(top[r.dataset.bucket] ?? Infinity, y);
      }
      return top;
    });
    const highest = Math.max(...buckets.groups.map((g) => g.cost_usd));
    assert.ok(last.value >= highest && last.value - step < highest, `${range}: the top line ${last.value} just covers ${highest}`);
    for (const g of buckets.groups) {
      assert.ok(Math.abs(tops[g.key] - yOf(g.cost_usd)) < 1e-6, `${range}: bucket ${g.key} reaches ${g.cost_usd}`);
    }
    await context.close();
  }
});

test("times on the page say their zone (the browser's, America/New_York)", async () => {
  const zone = "America/New_York";
  const { page, context, problems } = await open(seeded, "?range=24h", { width: 1280, height: 900 }, zone);
  const now = zoned(new Date().toISOString(), zone);
  const caption = `times in ${zone} (UTC${now.offset})`;
  const api = await seeded.json(`/api/costs/summary?group_by=model&time_range=24h&tz=${zone}`);
  const from = zoned(api.period.from, zone);
  // The range: its start with its offset, then the zone of every time shown.
  assert.equal((await page.locator("#period").textContent()).trim(), `${from.local} ${from.offset} → now · ${caption}`);
  assert.match(await page.locator("#over-time-zone").textContent(), new RegExp(`^hours in ${zone} \\(UTC[-+]\\d\\d:\\d\\d\\)$`));
  assert.equal((await page.locator("#sessions-zone").textContent()).trim(), "T" + caption.slice(1));
  // Session times are local to that zone.
  const sessions = await seeded.json("/api/costs/sessions?time_range=24h&page_size=10");
  const cells = await texts(page, "#sessions tbody tr[data-session] td.when");
  sessions.sessions.forEach((s, i) => {
    const [first, last] = [zoned(s.first_at, zone).local, zoned(s.last_at, zone).local];
    const want = first === last ? first : `${first} → ${first.slice(0, 10) === last.slice(0, 10) ? last.slice(11) : last}`;
    assert.equal(cells[i], want, `session ${s.session_id}`);
  });
  // A bar's tooltip names its hour with the offset.
  const tip = await page.locator("#over-time rect title").first().textContent();
  assert.match(tip.split("\n")[0], /^\d{4}-\d\d-\d\d \d\d:00 [-+]\d\d:\d\d$/, tip);
  await page.screenshot({ path: join(OUT, "dashboard-new-york.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

// The page's own files are what the binary embeds.
test("the served page is the embedded file", async () => {
  const served = await (await fetch(seeded.base + "/")).text();
  assert.equal(served, readFileSync(join(repo, "src/http/dashboard/index.html"), "utf8"));
});

// Unknown models never hide: a record priced at the fallback rates brings a
// notice naming its model and amount; none shows before it. Last, as it adds
// a record to the seeded daemon the earlier tests count.
test("fallback-priced records show a notice with their models and amounts", async () => {
  const before = await open(seeded);
  assert.equal(await before.page.locator("#fallback").isVisible(), false, "no notice without fallback records");
  await before.context.close();

  const model = "acme-e2e-unknown-9";
  await seeded.hook({
    hook_event_name: "PostToolUse",
    hook_event_id: "e2e-fallback",
    session_id: "s-fallback",
    agent_id: "codex",
    model,
    tool_name: "Bash",
    timestamp: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
    usage: { input_tokens: 100000, output_tokens: 2000 },
  });
  const api = await seeded.json("/api/costs/summary?group_by=model&time_range=24h");
  const part = api.fallback_priced;
  assert.equal(part.records, 1, JSON.stringify(part));
  assert.equal(part.models[0].model, model);

  const { page, context, problems } = await open(seeded);
  const notice = page.locator("#fallback");
  assert.equal(await notice.isVisible(), true);
  const text = (await notice.textContent()).replace(/\s+/g, " ");
  assert.match(text, /hookmeter pricing set MODEL/);
  const models = await texts(page, "#fallback-models .model");
  assert.equal(models.length, 1, models.join(" | "));
  assert.ok(models[0].startsWith(model + " $"), models[0]);
  const shown = (await page.locator("#fallback-cost").textContent()).trim();
  assert.ok(Math.abs(dollars(shown) - part.cost_usd) < 0.01, `${shown} vs ${part.cost_usd}`);
  assert.ok(
    Math.abs(dollars((await page.locator("#fallback-total").textContent()).trim()) - api.total_cost_usd) < 0.01,
    "the total it is part of",
  );
  await page.screenshot({ path: join(OUT, "dashboard-fallback.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});

// The agents' own cost against hookmeter's (GET /api/costs/reconcile): no
// badge while no record carries a reported cost; a Claude Code api_request
// event whose cost_usd is hookmeter's price shows one that agrees, and one
// priced otherwise a badge with both amounts. Last, as it adds records.
test("the reconcile badge shows the agents' own cost against hookmeter's", async () => {
  const before = await open(seeded);
  assert.equal(await before.page.locator("#reconcile").isVisible(), false, "no badge without reported costs");
  await before.context.close();

  const event = (requestId, cost) => ({
    timeUnixNano: String(Date.now() * 1e6),
    body: { stringValue: "claude_code.api_request" },
    attributes: Object.entries({
      "event.name": "api_request",
      "event.timestamp": new Date(Date.now() - 60 * 1000).toISOString(),
      "session.id": "s-e2e-otel",
      "prompt.id": "p-e2e",
      request_id: requestId,
      model: "claude-haiku-4-5",
      input_tokens: 1000,
      output_tokens: 100,
      cache_read_tokens: 0,
      cache_creation_tokens: 0,
      cost_usd: cost,
    }).map(([key, v]) => ({
      key,
      value: typeof v === "string" ? { stringValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
    })),
  });
  const post = async (records) => {
    const r = await fetch(seeded.base + "/v1/logs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        resourceLogs: [{
          resource: { attributes: [{ key: "service.name", value: { stringValue: "claude-code" } }] },
          scopeLogs: [{ scope: { name: "com.anthropic.claude_code.events" }, logRecords: records }],
        }],
      }),
    });
    assert.equal(r.status, 200, await r.text());
  };
  // Haiku 4.5 at $1 and $5 per million: 1000 in and 100 out are $0.0015.
  await post([event("req_e2e_agrees", 0.0015)]);
  const agreed = await seeded.json("/api/costs/reconcile?time_range=24h");
  assert.equal(agreed.totals.reported_records, 1, JSON.stringify(agreed));
  {
    const { page, context, problems } = await open(seeded);
    const badge = page.locator("#reconcile");
    assert.equal(await badge.isVisible(), true);
    assert.match((await badge.textContent()).trim(), /^Agents' own cost agrees: \$0\.0015$/);
    assert.match(await badge.getAttribute("class"), /agrees/);
    assert.deepEqual(problems, [], "console errors");
    await context.close();
  }
  await post([event("req_e2e_differs", 0.003)]);
  const { page, context, problems } = await open(seeded);
  const badge = page.locator("#reconcile");
  assert.match(await badge.getAttribute("class"), /differs/);
  const text = (await badge.textContent()).trim();
  assert.match(text, /^Agents' own cost \$0\.0045, hookmeter \$0\.0030 \(−\$0\.0015\)$/, text);
  assert.match(await badge.getAttribute("title"), /rate in 1 session/);
  await page.screenshot({ path: join(OUT, "dashboard-reconcile.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await context.close();
});
