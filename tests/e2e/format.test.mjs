// Unit test of the dashboard's formatting rules (src/http/dashboard/format.mjs,
// the file the daemon serves in front of dashboard.js): the money rule's
// examples, axis ticks, token parts that add up, and times with their zone.
// No browser, no daemon.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  moneySet, money, percent, niceTicks, tokenBreakdown, count, exact, offsetText, localText, instantText, zoneText,
} from "../../src/http/dashboard/format.mjs";

test("the money rule's examples", () => {
  const cases = [
    [[12.345], ["$12.35"]],
    [[0.0126], ["$0.013"]],
    [[0.6], ["$0.60"]],
    [[0.0126, 0.6, 12.3], ["$0.013", "$0.600", "$12.300"]],
    // At 3 decimals both read $0.010: 4 decimals tell them apart.
    [[0.0101, 0.0104], ["$0.0101", "$0.0104"]],
    [[0], ["$0.00"]],
    [[0, 0.0126], ["$0.000", "$0.013"]],
    [[1234.567], ["$1,234.57"]],
    [[1234567.891], ["$1,234,567.89"]],
    [[-0.5], ["-$0.50"]],
    [[-0.125], ["-$0.13"]], // half away from zero
    [[0.125], ["$0.13"]],
    [[1.005], ["$1.01"]], // the decimal 1.005, not its binary neighbour below
    [[0.05], ["$0.050"]], // one significant digit is not enough
    // Nothing billed looks free: under a millionth at six decimals.
    [[0.0000001, 5], ["<$0.000001", "$5.000000"]],
    [[-0.0000001], [">-$0.000001"]],
    [[0.0000015], ["$0.000002"]],
    // The same amount summed in another order is still the same amount.
    [[0.1 + 0.2, 0.3], ["$0.30", "$0.30"]],
    // The dashboard's old "$0.01 at 51 % and 47 %".
    [[0.0102, 0.0094, 0.0196], ["$0.0102", "$0.0094", "$0.0196"]],
  ];
  for (const [amounts, want] of cases) {
    assert.deepEqual(moneySet(amounts), want, `moneySet(${JSON.stringify(amounts)})`);
  }
  assert.equal(money(0.0126), "$0.013");
  assert.equal(money("not a number"), "$0.00");
  assert.deepEqual(moneySet([]), []);
});

test("a money set: one number of decimals, two significant digits, distinct when different", () => {
  // Pseudo-random amounts from a fixed seed: the rule's properties hold.
  let seed = 42;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 2000; round++) {
    const n = 1 + Math.floor(next() * 6);
    const amounts = Array.from({ length: n }, () => Number((next() * 10 ** (next() * 6 - 4)).toPrecision(3)));
    const texts = moneySet(amounts);
    const decimals = new Set(texts.map((t) => t.split(".")[1].length));
    assert.equal(decimals.size, 1, `one number of decimals: ${texts}`);
    const [d] = decimals;
    assert.ok(d >= 2 && d <= 6, texts.join());
    amounts.forEach((a, i) => {
      const shown = Number(texts[i].replace(/[$,<]/g, ""));
      if (!texts[i].startsWith("<")) assert.ok(Math.abs(shown - a) <= 0.5 * 10 ** -d + 1e-15, `${a} -> ${texts[i]}`);
      const significant = texts[i].replace(/[^0-9]/g, "").replace(/^0+/, "").length;
      if (a !== 0 && d < 6) assert.ok(significant >= 2, `${a} -> ${texts[i]}`);
      amounts.forEach((b, j) => {
        if (d < 6 && a !== b) assert.notEqual(texts[i], texts[j], `${a} and ${b} -> ${texts}`);
      });
    });
  }
});

test("axis ticks are nice steps from zero that cover the maximum", () => {
  assert.deepEqual(niceTicks(0.03), [0, 0.01, 0.02, 0.03]);
  assert.deepEqual(niceTicks(0.64), [0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.0009), [0, 0.0002, 0.0004, 0.0006, 0.0008, 0.001]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  // The old axis: $0.00 / $0.01 / $0.03 with its middle line at $0.015.
  assert.deepEqual(moneySet(niceTicks(0.03)), ["$0.000", "$0.010", "$0.020", "$0.030"]);
  for (let max = 0.0007; max < 5000; max *= 1.37) {
    const ticks = niceTicks(max);
    const step = ticks[1];
    const mantissa = step / Number("1e" + Math.floor(Math.log10(step) + 1e-9));
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `step ${step} for ${max}`);
    assert.ok(ticks.length >= 3 && ticks.length <= 6, `${ticks} for ${max}`);
    assert.ok(ticks.at(-1) >= max && ticks.at(-2) < max, `${ticks} covers ${max} with no tick to spare`);
    ticks.forEach((t, i) => assert.ok(Math.abs(t - i * step) < step * 1e-9));
    const labels = moneySet(ticks);
    assert.equal(new Set(labels).size, labels.length, `distinct labels ${labels}`);
  }
});

test("token parts add up to the total as shown", () => {
  assert.deepEqual(tokenBreakdown([123456, 45678, 190001, 1234]), { total: "360K", parts: ["123K", "46K", "190K", "1K"] });
  assert.deepEqual(tokenBreakdown([400, 300, 0, 0]), { total: "700", parts: ["400", "300", "0", "0"] });
  assert.deepEqual(tokenBreakdown([1400, 1400, 1400, 0]), { total: "4.20K", parts: ["1.40K", "1.40K", "1.40K", "0"] });
  assert.deepEqual(tokenBreakdown([0, 0, 0, 0]), { total: "0", parts: ["0", "0", "0", "0"] });
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 2000; round++) {
    const parts = Array.from({ length: 4 }, () => Math.floor(next() * 10 ** (next() * 10)));
    const shown = tokenBreakdown(parts);
    const total = parts.reduce((a, b) => a + b, 0);
    const m = shown.total.match(/^([0-9.]+)([KMB]?)$/);
    const unit = { "": 1, K: 1e3, M: 1e6, B: 1e9 }[m[2]];
    const decimals = (m[1].split(".")[1] || "").length;
    const step = unit / 10 ** decimals;
    const steps = (text) => (text === "0" ? 0 : Math.round(Number(text.replace(/[KMB]$/, "")) * unit / step));
    assert.ok(Math.abs(steps(shown.total) * step - total) <= step / 2, `${shown.total} for ${total}`);
    assert.equal(shown.parts.reduce((a, p) => a + steps(p), 0), steps(shown.total), `${shown.parts} add up to ${shown.total}`);
    shown.parts.forEach((p, i) => {
      const [, number, unitOf] = p.match(/^([0-9.]+)([KMB]?)$/);
      if (parts[i] === 0) assert.equal(p, "0", "no tokens: exactly 0");
      else assert.ok(unitOf === m[2] && (number.split(".")[1] || "").length === decimals, `${p}: the total's unit`);
      assert.ok(Math.abs(steps(p) * step - parts[i]) < step, `${p} for ${parts[i]}`);
    });
  }
  assert.equal(count(245123), "245K");
  assert.equal(exact(1234567), "1,234,567");
});

test("times carry the browser zone's offset", () => {
  // The process's zone is the test's: whatever it is, the text agrees with Date.
  const at = new Date("2026-12-06T14:15:42Z");
  const minutes = -at.getTimezoneOffset();
  const hh = String(Math.floor(Math.abs(minutes) / 60)).padStart(2, "0");
  const mm = String(Math.abs(minutes) % 60).padStart(2, "0");
  assert.equal(offsetText(at), (minutes < 0 ? "-" : "+") + hh + ":" + mm);
  assert.match(localText(at), /^2026-12-0[56] \d\d:\d\d$/);
  assert.equal(instantText(at), localText(at) + " " + offsetText(at));
  if (minutes === 0) {
    assert.equal(zoneText("UTC", at), "UTC");
    assert.equal(zoneText("Europe/London", at), "Europe/London (UTC+00:00)");
  } else {
    assert.equal(zoneText("Somewhere/Else", at), `Somewhere/Else (UTC${offsetText(at)})`);
  }
});

test("percentages never round a share to a lie", () => {
  assert.equal(percent(0, 10), "0%");
  assert.equal(percent(0.011, 9.03), "<1%");
  assert.equal(percent(0.05, 10), "1%");
  assert.equal(percent(7.25, 9.03), "80%");
  assert.equal(percent(9.02, 9.03), ">99%");
  assert.equal(percent(9.03, 9.03), "100%");
  assert.equal(percent(1.2, 1), "120%");
  assert.equal(percent(1, 0), "0%");
});
