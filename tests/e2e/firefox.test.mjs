// The dashboard in Firefox too: Debian's firefox-esr, headless, driven by
// puppeteer-core over WebDriver BiDi (Playwright drives only its own Firefox
// build). A smoke test: the page settles, its cards show what the API
// returns, a range switch and a sort work, and nothing is logged as an error.
// The browser runs with TZ=America/New_York: the page's times say so.
//
// Environment: FIREFOX (default /usr/bin/firefox-esr), and those of
// support.mjs. Nothing is skipped: a missing browser fails.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { BIN, OUT, Daemon, seeds, dollars, settled, zoned } from "./support.mjs";

const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const ZONE = "America/New_York";

let daemon;
let browser;

before(async () => {
  for (const [what, path] of [["hookmeter binary (cargo build)", BIN], ["Firefox (apt-get install firefox-esr)", FIREFOX]]) {
    assert.ok(existsSync(path), `the ${what} is missing at ${path}`);
  }
  mkdirSync(OUT, { recursive: true });
  daemon = await Daemon.start("firefox");
  for (const payload of seeds(Date.now())) await daemon.hook(payload);
  browser = await puppeteer.launch({
    browser: "firefox", executablePath: FIREFOX, headless: true, env: { ...process.env, TZ: ZONE },
  });
});

after(async () => {
  if (browser) await browser.close();
  if (daemon) {
    await daemon.stop();
    daemon.remove();
  }
});

test("the dashboard works in Firefox", async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.setViewport({ width: 1280, height: 1000 });
  await page.goto(daemon.base + "/?range=24h");
  await settled(page);
  const text = (selector) => page.$eval(selector, (e) => e.textContent.trim());

  // The range's start in the browser's zone, with its offset, and the zone named.
  const period = (await daemon.json(`/api/costs/summary?time_range=24h&tz=${ZONE}`)).period;
  const from = zoned(period.from, ZONE);
  const now = zoned(new Date().toISOString(), ZONE);
  assert.equal(await text("#period"), `${from.local} ${from.offset} → now · times in ${ZONE} (UTC${now.offset})`);

  for (const range of ["24h", "30d"]) {
    if (range !== "24h") {
      await page.click(`[data-range="${range}"]`);
      await settled(page);
    }
    const api = await daemon.json(`/api/costs/summary?group_by=agent&time_range=${range}`);
    assert.ok(Math.abs(dollars(await text("#card-spend")) - api.total_cost_usd) < 0.005, `${range}: spend`);
    assert.equal(await text("#card-agent"), api.groups[0].key, `${range}: top agent`);
  }
  await page.click('th[data-sort="cost_usd"] button');
  await settled(page);
  const shown = await page.$$eval("#sessions tbody tr[data-session]", (rows) => rows.map((r) => r.dataset.session));
  const api = await daemon.json("/api/costs/sessions?time_range=30d&page_size=10&sort=cost_usd&order=desc");
  assert.deepEqual(shown, api.sessions.map((s) => s.session_id));
  assert.equal(await page.$$eval("#models svg circle", (c) => c.length) > 0, true);
  await page.screenshot({ path: join(OUT, "dashboard-firefox.png"), fullPage: true });
  assert.deepEqual(problems, [], "console errors");
  await page.close();
});
