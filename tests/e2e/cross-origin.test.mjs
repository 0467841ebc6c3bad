// What a web page the user visits can do to the daemon (issue 16,
// SECURITY.md), in a real headless Chromium driven by playwright-core: a
// page served from another origin (another loopback port) tries to forge
// events with the requests a browser sends without asking (a no-cors
// text/plain fetch, text/plain and urlencoded form posts), and to read the
// API; a page whose name was rebound to 127.0.0.1 tries to read it as its
// own origin. Nothing is stored, nothing is read.
//
// Environment: HOOKMETER_BIN, CHROMIUM (default /usr/bin/chromium), as
// dashboard.test.mjs. Nothing is skipped: a missing browser fails.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { BIN, Daemon } from "./support.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
/** A name the browser resolves to 127.0.0.1, as a rebinding attacker's would. */
const REBOUND = "rebound.test";

/** The usage a page would forge: about $90 on an expensive model. */
const FORGED = {
  hook_event_name: "PostToolUse",
  session_id: "s-forged",
  model: "claude-opus-4-1",
  usage: { input_tokens: 1000000, output_tokens: 1000000 },
};

/** The user's own record, which no page may read. */
const OWN = {
  hook_event_name: "PostToolUse",
  hook_event_id: "e2e-own",
  session_id: "s-private",
  model: "claude-sonnet-4-5",
  tool_name: "PrivateTool",
  usage: { input_tokens: 1234, output_tokens: 56 },
};

let daemon;
let attacker;
let attackerBase;
let browser;

/** The attacker's page: two forms aimed at the daemon's /hook. */
function attackerPage(hook) {
  // The classic text/plain form forgery: name + "=" + value is JSON.
  const json = JSON.stringify(FORGED);
  const name = json.slice(0, -1) + ',"pad":"';
  const escape = (s) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  return `<!doctype html><title>a page elsewhere</title>
<form id="plain" method="POST" action="${hook}" enctype="text/plain">
  <input type="hidden" name="${escape(name)}" value='"}'>
</form>
<form id="urlencoded" method="POST" action="${hook}">
  <input type="hidden" name="event" value="${escape(json)}">
</form>`;
}

/** `hookmeter_http_refused_total{reason}`, read the way a scraper does. */
async function refused(reason) {
  const text = await (await fetch(daemon.base + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`hookmeter_http_refused_total{reason="${reason}"} `));
  assert.ok(line, `no refusal counter for ${reason} in /metrics`);
  return Number(line.split(" ")[1]);
}

/** What the daemon's database holds, through the API and /metrics. */
async function stored() {
  const costs = await daemon.json("/api/costs");
  const metrics = await (await fetch(daemon.base + "/metrics")).text();
  const events = metrics
    .split("\n")
    .filter((l) => l.startsWith("hookmeter_events_total{"))
    .reduce((sum, l) => sum + Number(l.split(" ")[1]), 0);
  return { records: costs.total, models: costs.records.map((r) => r.model), events };
}

before(async () => {
  for (const [what, path] of [["hookmeter binary (cargo build)", BIN], ["Chromium (apt-get install chromium)", CHROMIUM]]) {
    assert.ok(existsSync(path), `the ${what} is missing at ${path}`);
  }
  daemon = await Daemon.start("cross-origin");
  await daemon.hook(OWN);
  attacker = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(attackerPage(daemon.base + "/hook"));
  });
  await new Promise((ok) => attacker.listen(0, "127.0.0.1", ok));
  attackerBase = `http://127.0.0.1:${attacker.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (attacker) attacker.close();
  if (daemon) {
    await daemon.stop();
    daemon.remove();
  }
});

test("a page of another origin cannot forge an event", async () => {
  const before = await stored();
  assert.deepEqual(before, { records: 1, models: ["claude-sonnet-4-5"], events: 1 });
  const origins = await refused("origin");
  const page = await browser.newPage();
  await page.goto(attackerBase + "/");

  // A no-cors fetch with a text/plain body: sent without a preflight.
  const [fetched, settled] = await Promise.all([
    page.waitForResponse((r) => r.url() === daemon.base + "/hook"),
    page.evaluate(
      ([url, body]) =>
        fetch(url, { method: "POST", mode: "no-cors", body, headers: { "Content-Type": "text/plain" } }).then(
          (r) => r.type,
          (e) => "failed: " + e,
        ),
      [daemon.base + "/hook", JSON.stringify(FORGED)],
    ),
  ]);
  assert.equal(fetched.status(), 403, "the daemon saw the page's Origin and refused");
  assert.equal(settled, "opaque", "the page learns nothing from the answer");

  await page.close();

  // Both forms: the browser navigates to the daemon's answer. A page of its
  // own for each, so that one form's navigation cannot interrupt the next
  // page load.
  for (const form of ["plain", "urlencoded"]) {
    const formPage = await browser.newPage();
    await formPage.goto(attackerBase + "/");
    const [answer] = await Promise.all([
      formPage.waitForResponse((r) => r.url() === daemon.base + "/hook"),
      formPage.evaluate((id) => document.getElementById(id).submit(), form),
    ]);
    assert.equal(answer.status(), 403, `the ${form} form was refused`);
    await formPage.close();
  }

  assert.equal(await refused("origin"), origins + 3, "three forged writes reached the daemon and were counted");
  assert.deepEqual(await stored(), before, "nothing stored: no record, no event, no rejection");
});

test("a page of another origin cannot read the API", async () => {
  const page = await browser.newPage();
  await page.goto(attackerBase + "/");
  const url = daemon.base + "/api/costs";
  const cors = await page.evaluate(
    (url) => fetch(url).then((r) => r.text().then((t) => "read: " + t), (e) => "failed: " + e.name),
    url,
  );
  assert.equal(cors, "failed: TypeError", "the browser withholds the answer");
  const opaque = await page.evaluate(
    (url) => fetch(url, { mode: "no-cors" }).then((r) => r.text().then((t) => [r.type, r.status, t])),
    url,
  );
  assert.deepEqual(opaque, ["opaque", 0, ""]);
  await page.close();
});

test("a page whose name is rebound to 127.0.0.1 reads nothing", async () => {
  const port = new URL(daemon.base).port;
  const rebound = `http://${REBOUND}:${port}`;
  const page = await browser.newPage();
  const landing = await page.goto(rebound + "/");
  assert.equal(landing.status(), 421, "the dashboard is not served under that name");
  // Same origin as far as the browser knows: the daemon is what refuses.
  const answers = await page.evaluate(async (paths) => {
    const out = [];
    for (const path of paths) {
      const r = await fetch(path);
      out.push([path, r.status, await r.text()]);
    }
    return out;
  }, ["/api/costs", "/api/summary", "/api/costs/sessions", "/metrics", "/dashboard.js"]);
  for (const [path, status, text] of answers) {
    assert.equal(status, 421, path);
    for (const secret of ["claude-sonnet", "s-private", "PrivateTool", "1234", "hookmeter_"]) {
      assert.ok(!text.includes(secret), `${path} shows ${secret}: ${text}`);
    }
  }
  const write = await page.evaluate(
    (body) => fetch("/hook", { method: "POST", body, headers: { "Content-Type": "application/json" } }).then((r) => r.status),
    JSON.stringify(FORGED),
  );
  assert.equal(write, 421);
  await page.close();
  assert.deepEqual((await stored()).records, 1);
});
