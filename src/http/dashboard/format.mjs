// How the dashboard writes numbers and times: pure functions, no DOM. The
// money rule and the time rule are the CLI's too (src/report): a person
// sees one format everywhere. The daemon serves this file in front of
// dashboard.js as one module (src/http/dashboard.rs); the unit test
// (tests/e2e/format.test.mjs) imports it alone.

/** Decimals of money are at least this many... */
const MIN_DECIMALS = 2;
/** ...and at most this many: below a millionth of a dollar, `<$0.000001`. */
const MAX_DECIMALS = 6;

// ---- money -------------------------------------------------------------------

/**
 * A set of amounts (one table column with its total, one card, one axis,
 * one legend or tooltip list, one budget line) as text, all with the same
 * decimals `d`: the smallest `d` >= 2 at which every non-zero amount shows
 * at least two significant digits and no two different amounts print the
 * same text; at most 6. A non-zero amount still zero at 6 decimals prints
 * `<$0.000001` (`>-$0.000001` below zero), so nothing billed looks free.
 * Rounding is half away from zero; the integer part has thousands
 * separators: `$1,234.57`, `-$0.50`.
 */
export function moneySet(amounts) {
  const values = amounts.map(finite);
  let d = MIN_DECIMALS;
  while (d < MAX_DECIMALS && !fits(values, d)) d++;
  return values.map((v) => moneyText(v, d));
}

/** A lone amount: a set of one. */
export function money(amount) {
  return moneySet([amount])[0];
}

function finite(x) {
  const v = Number(x);
  return Number.isFinite(v) ? v : 0;
}

/** True when `d` decimals satisfy both conditions of the rule for `values`. */
function fits(values, d) {
  const shown = new Map(); // text -> the amount it stands for
  for (const v of values) {
    const digits = scaled(Math.abs(v), d);
    if (v !== 0 && digits.toString().length < 2) return false; // under two significant digits
    const text = (v < 0 ? "-" : "") + digits.toString();
    const amount = sameAmount(v);
    if (shown.has(text) && shown.get(text) !== amount) return false;
    shown.set(text, amount);
  }
  return true;
}

/**
 * Amounts are the same amount when they agree at the finest precision ever
 * shown (six decimals), as in the CLI: sums of the same costs added in
 * another order differ in their last bits, and must not force more decimals
 * to look different.
 */
function sameAmount(v) {
  return (v < 0 ? "-" : "") + scaled(Math.abs(v), MAX_DECIMALS).toString();
}

/**
 * `abs` × 10^d rounded half away from zero, as a BigInt. The amount is read
 * as its 15-significant-digit decimal first, so binary noise rounds as the
 * decimal it stands for (1.005 rounds up to 1.01, 0.1 + 0.2 is 0.3).
 */
function scaled(abs, d) {
  if (abs === 0) return 0n;
  const [mantissa, exponent] = abs.toExponential(14).split("e");
  const digits = BigInt(mantissa.replace(".", ""));
  const shift = Number(exponent) - 14 + d;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const unit = 10n ** BigInt(-shift);
  const whole = digits / unit;
  return (digits % unit) * 2n >= unit ? whole + 1n : whole;
}

function moneyText(v, d) {
  const digits = scaled(Math.abs(v), d);
  if (digits === 0n && v !== 0) return v > 0 ? "<$0.000001" : ">-$0.000001";
  const text = digits.toString().padStart(d + 1, "0");
  const whole = text.slice(0, -d).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (v < 0 ? "-$" : "$") + whole + "." + text.slice(-d);
}

// ---- chart axes ----------------------------------------------------------------

/**
 * `part` of `whole` as a whole percentage, never rounded to a lie: a
 * non-zero share under half a percent is `<1%`, not `0%`, and a share short
 * of the whole is at most `>99%`, not `100%`.
 */
export function percent(part, whole) {
  if (!(whole > 0) || !(part > 0)) return "0%";
  const pct = (100 * part) / whole;
  if (pct < 0.5) return "<1%";
  if (pct >= 99.5 && part < whole) return ">99%";
  return Math.round(pct) + "%";
}

/**
 * The ticks of a value axis from 0 to at least `max`: a "nice" step (1, 2
 * or 5 × 10^k) giving at most five intervals, the last tick at or above
 * `max`. Gridlines are drawn at exactly these values and labelled with them.
 */
export function niceTicks(max) {
  const top = finite(max);
  if (top <= 0) return [0, 1];
  const least = top / 5;
  const power = Number("1e" + Math.floor(Math.log10(least)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= least * (1 - 1e-12));
  const intervals = Math.max(1, Math.ceil(top / step - 1e-9));
  const ticks = [];
  // toPrecision: 3 × 0.1 is 0.30000000000000004, the tick is 0.3.
  for (let i = 0; i <= intervals; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

// ---- token counts ----------------------------------------------------------------

const UNITS = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];

/** 999, 245K, 1.2M, 3.4B: a count on its own (a table cell). */
export function count(x) {
  const v = finite(x);
  const a = Math.abs(v);
  for (const [size, unit] of UNITS) {
    if (a >= size) {
      const n = v / size;
      const text = Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1).replace(/\.0$/, "");
      return text + unit;
    }
  }
  return String(Math.round(v));
}

/**
 * A token total and its parts, written in one unit chosen from the total
 * with three significant digits (`360K`, `1.23M`), so that the parts as
 * shown add up to the total as shown. The total is rounded to the nearest
 * step; each part is its count rounded down, and the steps still missing go
 * to the parts with the largest remainders (largest-remainder rounding), so
 * every part shown is less than one step from its count; a part of no
 * tokens is `0`. The exact counts go in a tooltip beside it. `parts` are
 * non-negative integers.
 */
export function tokenBreakdown(parts) {
  const counts = parts.map((p) => Math.max(0, Math.round(finite(p))));
  const total = counts.reduce((a, b) => a + b, 0);
  const found = UNITS.find(([size]) => total >= size);
  if (!found) return { total: String(total), parts: counts.map(String) };
  const [size, unit] = found;
  const decimals = total / size >= 100 ? 0 : total / size >= 10 ? 1 : 2;
  const step = size / 10 ** decimals;
  const shownTotal = Math.round(total / step);
  const shares = counts.map((c, i) => ({ i, steps: Math.floor(c / step), rest: c % step }));
  let missing = shownTotal - shares.reduce((a, s) => a + s.steps, 0);
  for (const s of [...shares].sort((a, b) => b.rest - a.rest || a.i - b.i)) {
    if (missing <= 0) break;
    s.steps += 1;
    missing -= 1;
  }
  const text = (steps) => (steps / 10 ** decimals).toFixed(decimals) + unit;
  // A part with no tokens at all is exactly 0, whatever the unit.
  return { total: text(shownTotal), parts: shares.map((s) => (counts[s.i] === 0 ? "0" : text(s.steps))) };
}

/** 1234567 -> "1,234,567". */
export function exact(x) {
  return String(Math.round(finite(x))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// ---- times ---------------------------------------------------------------------
// Times are the browser's local time: the zone the page sends the API as
// `tz`, so days and hours there and here are the same.

function pad(n) {
  return String(n).padStart(2, "0");
}

/** `-05:00`: the browser zone's offset from UTC at `date`. */
export function offsetText(date) {
  const minutes = -date.getTimezoneOffset();
  const a = Math.abs(minutes);
  return (minutes < 0 ? "-" : "+") + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
}

/** `2026-12-06 09:15`: a cell of a table whose zone is named once above it. */
export function localText(date) {
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
    " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
}

/** `2026-12-06 09:15 -05:00`: a time printed alone. */
export function instantText(date) {
  return localText(date) + " " + offsetText(date);
}

/** `America/New_York (UTC-05:00)`: the zone, and its offset at `date`; UTC is just `UTC`. */
export function zoneText(zone, date) {
  const offset = offsetText(date);
  if (offset === "+00:00" && /^(Etc\/)?(UTC|UCT|Universal|Zulu)$/.test(zone)) return "UTC";
  return zone + " (UTC" + offset + ")";
}
