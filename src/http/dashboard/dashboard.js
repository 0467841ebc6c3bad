// The hookmeter dashboard: reads the daemon's own /api and draws it. No
// framework, no chart library, no request to any other host. Every value
// from the API is placed with textContent, never parsed as HTML.
//
// Served as one module after format.mjs (src/http/dashboard.rs): moneySet,
// money, niceTicks, count, tokenBreakdown, exact, localText, instantText
// and zoneText come from there. Amounts shown together are one money set
// (a column with its total, a legend, an axis, a budget line), so they
// share their decimals and never look equal when they differ.
"use strict";

(() => {
  const REFRESH_MS = 15000;
  const RANGE_WORDS = {
    "1h": "in the last hour",
    "24h": "in the last 24 hours",
    "7d": "in the last 7 days",
    "30d": "in the last 30 days",
    all: "yet",
  };
  const RANGE_HOURS = { "1h": 1, "24h": 24, "7d": 168, "30d": 720 };
  const TOKEN_PARTS = [
    ["total_input_tokens", "input"],
    ["total_output_tokens", "output"],
    ["total_cache_read_tokens", "cache read"],
    ["total_cache_write_tokens", "cache write"],
  ];
  // Distinct on light and dark backgrounds; the last is "other".
  const PALETTE = ["#2f6fdb", "#e0793a", "#2a9d8f", "#c2457a", "#8a6fd1", "#b8a031", "#4f9bd9", "#d35454"];
  const OTHER_COLOR = "#8c959f";
  const TOP_MODELS = PALETTE.length;
  const SESSIONS_PER_PAGE = 10;

  let tz = "UTC";
  try {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (_) {
    // An old browser without time zone names: UTC, said in the status line.
  }

  const state = {
    range: readRange(),
    page: 1,
    sort: "last_at",
    order: "desc",
    expanded: new Set(),
    auto: true,
    timer: null,
    generation: 0,
    token: sessionStorage.getItem("hookmeter-token") || "",
  };

  const $ = (id) => document.getElementById(id);

  // ---- formatting ----------------------------------------------------------

  /** "1 record", "12 records", "1.2K records". */
  function plural(n, word) {
    return count(n) + " " + word + (n === 1 ? "" : "s");
  }

  function tokensOf(t) {
    return (t.input_tokens || 0) + (t.output_tokens || 0) + (t.cache_read_tokens || 0) + (t.cache_write_tokens || 0);
  }

  /** An API time (RFC 3339) as a Date; null when absent or unreadable. */
  function dateOf(iso) {
    const d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d : null;
  }

  /** "times in America/New_York (UTC-05:00)", the offset of now. */
  function zoneCaption() {
    return "times in " + zoneText(tz, new Date());
  }

  // ---- DOM helpers -----------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    setAttrs(node, attrs);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function placeholder(text) {
    return el("p", { class: "placeholder", text });
  }

  // ---- the API -------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, params) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) url.searchParams.set(k, v);
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    let response;
    try {
      response = await fetch(url, { headers, cache: "no-store" });
    } catch (_) {
      throw new ApiError("the daemon did not answer (is hookmeter serve running?)", 0);
    }
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        if (body && body.error) message = body.error;
      } catch (_) {
        // Not JSON: keep the status line.
      }
      throw new ApiError(message, response.status);
    }
    return response.json();
  }

  function rangeParams() {
    return { time_range: state.range, tz };
  }

  // ---- loading -------------------------------------------------------------

  async function load(reason) {
    const generation = ++state.generation;
    const main = $("main");
    main.setAttribute("aria-busy", "true");
    if (reason !== "auto") $("status").textContent = "Loading…";
    const timed = state.range === "1h" || state.range === "24h" ? "hour" : "day";
    try {
      const [byAgent, byModel, overTime, budgets, sessions, reconciled, plan] = await Promise.all([
        api("/api/costs/summary", { ...rangeParams(), group_by: "agent" }),
        api("/api/costs/summary", { ...rangeParams(), group_by: "model" }),
        api("/api/costs/summary", { ...rangeParams(), group_by: timed + ",model" }),
        api("/api/budgets", { tz }),
        api("/api/costs/sessions", {
          ...rangeParams(),
          page: state.page,
          page_size: SESSIONS_PER_PAGE,
          sort: state.sort,
          order: state.order,
        }),
        api("/api/costs/reconcile", rangeParams()),
        api("/api/plan", {}),
      ]);
      if (generation !== state.generation) return; // a newer load is under way
      hide("error");
      hide("token");
      const records = byModel.total_records || 0;
      main.dataset.state = records === 0 ? "empty" : "ready";
      $("empty").hidden = records !== 0;
      $("empty-range").textContent = RANGE_WORDS[state.range];
      const colors = modelColors(byModel.groups);
      renderPeriod(byModel.period);
      renderCards(byAgent, byModel);
      renderFallback(byModel);
      renderReconcile(reconciled);
      renderOverTime(overTime, timed, colors);
      renderAgents(byAgent);
      renderModels(byModel, colors);
      renderBudgets(budgets);
      renderPlan(plan);
      await renderSessions(sessions, generation);
      $("status").textContent = "Updated " + instantText(new Date()).slice(11); // "09:15 -05:00"
    } catch (e) {
      if (generation !== state.generation) return;
      showError(e);
    } finally {
      if (generation === state.generation) main.setAttribute("aria-busy", "false");
    }
  }

  function showError(e) {
    if (e instanceof ApiError && e.status === 401) {
      $("token").hidden = false;
      $("status").textContent = "Waiting for the API token.";
      return;
    }
    $("main").dataset.state = "error";
    $("empty").hidden = true; // unknown, not empty: what is shown is the last answer
    const why = e && e.message ? e.message : String(e);
    // A sentence of its own after "Cannot load costs.": capitalized.
    $("error-text").textContent = why.charAt(0).toUpperCase() + why.slice(1);
    $("error").hidden = false;
    $("status").textContent = "Last attempt " + instantText(new Date()) + " failed.";
  }

  function hide(id) {
    $(id).hidden = true;
  }

  // ---- the period and the cards ---------------------------------------------

  /** The range's start (the API's, in this zone with its offset) and the zone of every time on the page. */
  function renderPeriod(period) {
    const from = dateOf(period && period.from);
    const to = dateOf(period && period.to);
    const span = (from ? instantText(from) : "the first record") + " → " + (to ? instantText(to) : "now");
    $("period").textContent = span + " · " + zoneCaption();
  }

  function renderCards(byAgent, byModel) {
    const total = byModel.total_cost_usd || 0;
    $("card-spend").textContent = money(total);
    $("card-spend-note").textContent = plural(byModel.total_records || 0, "record");
    // Per active hour: a clock hour with at least one record (the API's
    // active_hours). A rolling range cuts the clock hours at its ends, so
    // the last hour can touch two of them: never more hours than the range.
    const hours = Math.min(byModel.active_hours || 0, RANGE_HOURS[state.range] || Infinity);
    $("card-rate").textContent = money(hours ? total / hours : 0) + "/h";
    $("card-rate-note").textContent = hours ? "over " + hours + " active hour" + (hours === 1 ? "" : "s") : "no active hours";
    const top = byAgent.groups[0];
    $("card-agent").textContent = top ? top.key || "(none)" : "—";
    $("card-agent-note").textContent = top
      ? money(top.cost_usd) + (total > 0 ? " · " + percent(top.cost_usd, total) + " of spend" : "")
      : "no agent yet";
    // The parts in the total's unit, rounded so that they add up to it as
    // shown (tokenBreakdown); the exact counts in the tooltip.
    const counts = TOKEN_PARTS.map(([field]) => byModel[field] || 0);
    const shown = tokenBreakdown(counts);
    const sum = counts.reduce((a, b) => a + b, 0);
    $("card-tokens").textContent = shown.total;
    const items = TOKEN_PARTS.map(([, name], i) => el("span", { class: "part", text: shown.parts[i] + " " + name }));
    $("card-tokens-note").replaceChildren(...items.flatMap((item, i) => (i ? [" · ", item] : [item])));
    $("card-tokens-box").title = exact(sum) + " tokens: " +
      TOKEN_PARTS.map(([, name], i) => exact(counts[i]) + " " + name).join(", ");
  }

  /** The part of the total priced at the fallback rates, and its models; hidden when none is. */
  function renderFallback(byModel) {
    const part = byModel.fallback_priced;
    const box = $("fallback");
    if (!part || !part.records) {
      box.hidden = true;
      return;
    }
    const shown = moneySet([part.cost_usd, byModel.total_cost_usd || 0, ...part.models.map((m) => m.cost_usd)]);
    $("fallback-cost").textContent = shown[0] + " (" + plural(part.records, "record") + ")";
    $("fallback-total").textContent = shown[1];
    const items = part.models.map((m, i) =>
      el("span", { class: "model", text: m.model + " " + shown[2 + i] }));
    $("fallback-models").replaceChildren(...items.flatMap((item, i) => (i ? [", ", item] : [item])));
    box.hidden = false;
  }

  /**
   * The range's cost as the agents reported it against hookmeter's for the
   * same records (GET /api/costs/reconcile); hidden when no agent reported a
   * cost. The causes are counted in the tooltip; `hookmeter reconcile` names them.
   */
  function renderReconcile(answer) {
    const badge = $("reconcile");
    const t = answer && answer.totals;
    if (!t || !t.reported_records) {
      badge.hidden = true;
      return;
    }
    const shown = moneySet([t.reported_cost_usd, t.our_cost_of_reported_usd, Math.abs(t.difference_usd)]);
    const agrees = Math.abs(t.difference_usd) <= 0.000001;
    badge.className = "badge " + (agrees ? "agrees" : "differs");
    badge.textContent = agrees
      ? "Agents' own cost agrees: " + shown[0]
      : "Agents' own cost " + shown[0] + ", hookmeter " + shown[1] +
        " (" + (t.difference_usd > 0 ? "+" : "−") + shown[2] + ")";
    const causes = new Map();
    for (const session of answer.sessions) {
      for (const c of session.causes) causes.set(c.cause, (causes.get(c.cause) || 0) + 1);
    }
    const named = [...causes].map(([cause, n]) => cause.replace(/_/g, " ") + " in " + plural(n, "session"));
    badge.title = plural(t.reported_records, "record") + " with a reported cost" +
      (named.length ? "; " + named.join(", ") : "") + ". Details: hookmeter reconcile";
    badge.hidden = false;
  }

  // ---- colors by model -------------------------------------------------------

  /** The most expensive models get a color each, in cost order; the rest share one. */
  function modelColors(groups) {
    const colors = new Map();
    groups.slice(0, TOP_MODELS - 1).forEach((g, i) => colors.set(g.key, PALETTE[i]));
    if (groups.length === TOP_MODELS) colors.set(groups[TOP_MODELS - 1].key, PALETTE[TOP_MODELS - 1]);
    return {
      of: (model) => colors.get(model) || OTHER_COLOR,
      named: (model) => colors.has(model),
    };
  }

  // ---- cost over time ---------------------------------------------------------

  /** "2026-11-23" or "2026-11-23T14:00", local to `tz`, as a Date (browser time). */
  function bucketStart(key, timed) {
    const text = timed === "hour" ? key + ":00" : key + "T00:00:00";
    const d = new Date(text);
    return isNaN(d) ? null : d;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function bucketKey(d, timed) {
    const day = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    return timed === "hour" ? day + "T" + pad(d.getHours()) + ":00" : day;
  }

  /** Every bucket of the range, oldest first, so quiet hours show as gaps. */
  function bucketKeys(groups, timed) {
    const have = groups.map((g) => g.keys[0]).filter(Boolean).sort();
    const now = new Date();
    let start;
    if (RANGE_HOURS[state.range]) {
      start = new Date(now.getTime() - RANGE_HOURS[state.range] * 3600000);
    } else {
      start = have.length ? bucketStart(have[0], timed) : now;
    }
    if (!start) return have;
    const keys = [];
    const d = new Date(start);
    if (timed === "hour") d.setMinutes(0, 0, 0);
    else d.setHours(0, 0, 0, 0);
    // The browser's zone is the one the API grouped in (tz is sent with it).
    while (d <= now && keys.length < 2000) {
      keys.push(bucketKey(d, timed));
      if (timed === "hour") d.setHours(d.getHours() + 1);
      else d.setDate(d.getDate() + 1);
    }
    for (const k of have) if (!keys.includes(k)) keys.push(k);
    return keys.sort();
  }

  function renderOverTime(summary, timed, colors) {
    const box = $("over-time");
    const legend = $("over-time-legend");
    box.replaceChildren();
    legend.replaceChildren();
    if (!summary.groups.length) {
      box.append(placeholder("No costs in this range."));
      return;
    }
    const keys = bucketKeys(summary.groups, timed);
    const stacks = new Map(keys.map((k) => [k, []]));
    const models = new Map();
    for (const g of summary.groups) {
      const [bucket, model] = g.keys;
      const name = colors.named(model) ? model : "other";
      const stack = stacks.get(bucket);
      if (!stack) continue;
      const same = stack.find((s) => s.name === name);
      if (same) same.cost += g.cost_usd;
      else stack.push({ name, cost: g.cost_usd, color: colors.of(model) });
      models.set(name, (models.get(name) || 0) + g.cost_usd);
    }
    const W = 760, H = 240, left = 72, right = 8, top = 10, bottom = 28;
    const highest = Math.max(...[...stacks.values()].map((s) => s.reduce((a, b) => a + b.cost, 0)), 0);
    // Gridlines at nice values covering the highest bar, each drawn at its
    // value and labelled with it; the labels are one money set.
    const ticks = niceTicks(highest);
    const max = ticks[ticks.length - 1];
    const step = (W - left - right) / keys.length;
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Cost over time, stacked by model" });
    const labels = moneySet(ticks);
    ticks.forEach((v, i) => {
      chart.append(
        svg("line", { class: "axis grid", "data-value": v, x1: left, x2: W - right, y1: y(v), y2: y(v) }),
        svg("text", { class: "tick", x: left - 6, y: y(v) + 4, "text-anchor": "end", text: labels[i] }),
      );
    });
    const every = Math.ceil(keys.length / 8);
    keys.forEach((k, i) => {
      const x = left + i * step;
      let base = 0;
      const order = (stacks.get(k) || []).sort((a, b) => b.cost - a.cost);
      // One tooltip for the whole bar: its bucket, with its zone, and the
      // models' costs with their total, one money set.
      const start = bucketStart(k, timed);
      const when = start ? (timed === "hour" ? instantText(start) : k + " (" + tz + ")") : k;
      const amounts = moneySet([...order.map((p) => p.cost), order.reduce((a, p) => a + p.cost, 0)]);
      const tip = [when, ...order.map((p, j) => `${p.name}: ${amounts[j]}`)];
      if (order.length > 1) tip.push(`total: ${amounts[order.length]}`);
      for (const part of order) {
        const h = y(base) - y(base + part.cost);
        const rect = svg("rect", {
          x: x + step * 0.12, y: y(base + part.cost), width: Math.max(1, step * 0.76), height: Math.max(0, h), fill: part.color,
          "data-bucket": k,
        }, svg("title", { text: tip.join("\n") }));
        chart.append(rect);
        base += part.cost;
      }
      if (i % every === 0) {
        const label = timed === "hour" ? k.slice(11, 16) : k.slice(5);
        chart.append(svg("text", { x: x + step / 2, y: H - 10, "text-anchor": "middle", text: label }));
      }
    });
    box.append(chart);
    $("over-time-zone").textContent = (timed === "hour" ? "hours" : "days") + " in " + zoneText(tz, new Date());
    const entries = [...models.entries()].sort((a, b) => b[1] - a[1]);
    const amounts = moneySet(entries.map(([, cost]) => cost));
    entries.forEach(([name], i) => legend.append(legendItem(colors.of(name), `${name} ${amounts[i]}`)));
  }

  /** A legend entry; the swatch is colored through the CSSOM (the page's CSP allows no inline style). */
  function legendItem(color, text) {
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = color;
    return el("li", {}, swatch, document.createTextNode(text));
  }

  // ---- by agent ------------------------------------------------------------

  function renderAgents(summary) {
    const box = $("agents");
    box.replaceChildren();
    const groups = summary.groups.slice(0, 8);
    if (!groups.length) {
      box.append(placeholder("No agents in this range."));
      return;
    }
    const W = 460, row = 30, labelW = 150, valueW = 70;
    const max = Math.max(...groups.map((g) => g.cost_usd)) || 1;
    const chart = svg("svg", { viewBox: `0 0 ${W} ${groups.length * row + 4}`, role: "img", "aria-label": "Cost by agent" });
    const amounts = moneySet(groups.map((g) => g.cost_usd));
    groups.forEach((g, i) => {
      const y = i * row + 4;
      const w = ((W - labelW - valueW) * g.cost_usd) / max;
      const name = g.key || "(none)";
      chart.append(
        svg("text", { class: "bar-label", x: 0, y: y + 16, text: name.length > 22 ? name.slice(0, 21) + "…" : name }),
        svg("rect", { x: labelW, y: y + 4, width: Math.max(1, w), height: row - 12, rx: 3, fill: PALETTE[0] },
          svg("title", { text: `${name}: ${amounts[i]} · ${plural(g.records, "record")}` })),
        svg("text", { class: "bar-label bar-value", x: labelW + w + 6, y: y + 16, text: amounts[i] }),
      );
    });
    box.append(chart);
    if (summary.groups.length > groups.length) {
      box.append(el("p", { class: "note", text: `and ${summary.groups.length - groups.length} more` }));
    }
  }

  // ---- by model (donut) --------------------------------------------------------

  function renderModels(summary, colors) {
    const box = $("models");
    box.replaceChildren();
    const total = summary.total_cost_usd || 0;
    if (!summary.groups.length || total <= 0) {
      box.append(placeholder(summary.groups.length ? "Nothing was billed in this range." : "No models in this range."));
      return;
    }
    const parts = [];
    for (const g of summary.groups) {
      const name = colors.named(g.key) ? g.key : "other";
      const same = parts.find((p) => p.name === name);
      if (same) same.cost += g.cost_usd;
      else parts.push({ name, cost: g.cost_usd, color: colors.of(g.key) });
    }
    // The legend and the total in the middle: one money set.
    const amounts = moneySet([...parts.map((p) => p.cost), total]);
    const r = 70, c = 2 * Math.PI * r;
    const chart = svg("svg", { viewBox: "0 0 180 180", role: "img", "aria-label": "Share of cost by model" });
    let at = 0;
    parts.forEach((p, i) => {
      const len = (c * p.cost) / total;
      chart.append(svg("circle", {
        cx: 90, cy: 90, r, fill: "none", stroke: p.color, "stroke-width": 28,
        "stroke-dasharray": `${len} ${c - len}`, "stroke-dashoffset": -at, transform: "rotate(-90 90 90)",
      }, svg("title", { text: `${p.name}: ${amounts[i]}` })));
      at += len;
    });
    chart.append(svg("text", { class: "donut-total", x: 90, y: 95, "text-anchor": "middle", text: amounts[parts.length] }));
    const legend = el("ul", { class: "legend" });
    parts.forEach((p, i) => {
      legend.append(legendItem(p.color, `${p.name} · ${amounts[i]} · ${percent(p.cost, total)}`));
    });
    box.append(chart, legend);
  }

  // ---- budgets -------------------------------------------------------------

  function renderBudgets(budgets) {
    const box = $("budgets");
    box.replaceChildren();
    const list = Array.isArray(budgets) ? budgets : budgets && budgets.budgets ? budgets.budgets : [];
    if (!list.length) {
      box.append(placeholder("No budgets are set."));
      return;
    }
    for (const b of list) {
      const spent = Number(b.spent ?? b.spent_usd ?? 0);
      const limit = Number(b.limit ?? b.limit_usd ?? 0);
      const ratio = Number(b.ratio ?? (limit > 0 ? spent / limit : 0));
      const name = [b.scope || "everything", b.period].filter(Boolean).join(" · ");
      const fill = el("span", { class: ratio >= 1 ? "over" : ratio >= 0.8 ? "warn" : null });
      fill.style.width = Math.min(100, Math.max(0, ratio * 100)).toFixed(1) + "%";
      const end = dateOf(b.period_end);
      box.append(el("div", { class: "budget" },
        el("div", { class: "budget-head" },
          el("span", {}, name, end ? el("span", { class: "budget-end", text: "ends " + instantText(end) }) : null),
          el("span", { class: "budget-amounts", text: budgetLine(spent, limit, ratio) })),
        el("div", { class: "meter", role: "progressbar", "aria-label": name, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(ratio * 100) }, fill)));
    }
  }

  // ---- plan limits ---------------------------------------------------------

  /** Each agent's latest 5-hour and 7-day use; the card stays hidden when no
   *  agent reported any (API-key users, agents without plan data). */
  function renderPlan(answer) {
    const box = $("plan");
    box.replaceChildren();
    const list = answer && Array.isArray(answer.plan) ? answer.plan : [];
    $("plan-panel").hidden = list.length === 0;
    for (const p of list) {
      const used = Number(p.used_pct || 0);
      const name = `${p.agent} · ${PLAN_WINDOWS[p.window] || p.window}`;
      const fill = el("span", { class: used >= 100 ? "over" : used >= 80 ? "warn" : null });
      fill.style.width = Math.min(100, Math.max(0, used)).toFixed(1) + "%";
      const resets = dateOf(p.resets_at);
      box.append(el("div", { class: "budget plan-window" },
        el("div", { class: "budget-head" },
          el("span", {}, name, resets ? el("span", { class: "budget-end", text: "resets " + instantText(resets) }) : null),
          el("span", { class: "budget-amounts", text: used.toFixed(1) + "% used" })),
        el("div", { class: "meter", role: "progressbar", "aria-label": name, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(used) }, fill)));
    }
  }

  const PLAN_WINDOWS = { five_hour: "5-hour", seven_day: "7-day" };

  /** "$0.42 of $1.00 · 42%": spent and limit, one money set. */
  function budgetLine(spent, limit, ratio) {
    const [s, l] = moneySet([spent, limit]);
    return `${s} of ${l} · ${percent(ratio, 1)}`;
  }

  // ---- sessions ------------------------------------------------------------

  async function renderSessions(page, generation) {
    const body = $("sessions").tBodies[0];
    const rows = [];
    const costs = moneySet(page.sessions.map((s) => s.cost_usd));
    for (const [i, s] of page.sessions.entries()) {
      const open = state.expanded.has(s.session_id);
      const detailId = "detail-" + rows.length;
      const toggle = el("button", {
        type: "button", class: "expand", "aria-expanded": open ? "true" : "false", "aria-controls": detailId,
        "aria-label": (open ? "Hide" : "Show") + " models and tools of session " + s.session_id, text: open ? "−" : "+",
      });
      toggle.addEventListener("click", () => toggleSession(s.session_id, toggle, detailId));
      const row = el("tr", { "data-session": s.session_id },
        el("td", {}, toggle),
        el("td", { class: "id", text: s.session_id }),
        el("td", { text: (s.agents || []).join(", ") }),
        el("td", { text: (s.models || []).join(", ") }),
        el("td", { class: "when", text: activeText(s.first_at, s.last_at), title: [s.first_at, s.last_at].filter(Boolean).join(" → ") }),
        el("td", { class: "num", text: count(s.records) }),
        el("td", { class: "num", text: count(tokensOf(s)) }),
        el("td", { class: "num", text: costs[i] }),
      );
      rows.push(row);
      if (open) {
        const detail = await detailRow(s.session_id, detailId);
        if (generation !== state.generation) return;
        rows.push(detail);
      }
    }
    body.replaceChildren(...rows);
    if (!rows.length) {
      body.append(el("tr", {}, el("td", { colspan: 8 }, placeholder("No sessions in this range."))));
    }
    $("sessions-zone").textContent = zoneCaption().replace(/^t/, "T");
    const pages = Math.max(1, Math.ceil(page.total / SESSIONS_PER_PAGE));
    $("page-info").textContent = `Page ${page.page} of ${pages} · ${plural(page.total, "session")}`;
    $("prev").disabled = page.page <= 1;
    $("next").disabled = page.page >= pages;
    for (const th of document.querySelectorAll("th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === state.sort ? (state.order === "asc" ? "ascending" : "descending") : "none");
    }
  }

  /** "2026-12-06 08:49 → 09:09", the second date left out when it is the first's. */
  function activeText(firstIso, lastIso) {
    const first = dateOf(firstIso);
    const last = dateOf(lastIso);
    if (!first || !last) return last ? localText(last) : "—";
    const a = localText(first);
    const b = localText(last);
    if (a === b) return a;
    return a + " → " + (a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b);
  }

  async function detailRow(sessionId, detailId) {
    const detail = await api("/api/costs/sessions/" + encodeURIComponent(sessionId));
    return el("tr", { class: "detail", id: detailId }, el("td", { colspan: 8 }, sessionDetail(detail)));
  }

  /** Opens or closes one session's breakdown in place; refreshes keep it open. */
  async function toggleSession(sessionId, toggle, detailId) {
    const row = toggle.closest("tr");
    const open = state.expanded.has(sessionId);
    if (open) {
      state.expanded.delete(sessionId);
      const detail = document.getElementById(detailId);
      if (detail) detail.remove();
    } else {
      state.expanded.add(sessionId);
      toggle.disabled = true;
      try {
        row.after(await detailRow(sessionId, detailId));
      } catch (e) {
        state.expanded.delete(sessionId);
        showError(e);
        return;
      } finally {
        toggle.disabled = false;
      }
    }
    const now = state.expanded.has(sessionId);
    toggle.setAttribute("aria-expanded", now ? "true" : "false");
    toggle.setAttribute("aria-label", (now ? "Hide" : "Show") + " models and tools of session " + sessionId);
    toggle.textContent = now ? "−" : "+";
  }

  function sessionDetail(d) {
    const table = (title, first, rows, costs = moneySet(rows.map((r) => r.cost_usd))) => el("div", {},
      el("h3", { text: title }),
      el("table", {},
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: first }),
          el("th", { scope: "col", class: "num", text: "Records" }),
          el("th", { scope: "col", class: "num", text: "Tokens" }),
          el("th", { scope: "col", class: "num", text: "Cost" }))),
        el("tbody", {}, ...rows.map((r, i) => el("tr", {},
          el("td", { text: r.name }),
          el("td", { class: "num", text: count(r.records) }),
          el("td", { class: "num", text: count(tokensOf(r)) }),
          el("td", { class: "num", text: costs[i] })))),
      ));
    return el("div", { class: "detail-grid" },
      table("By model", "Model", (d.by_model || []).map((m) => ({ ...m, name: m.model }))),
      table("By tool", "Tool", (d.by_tool || []).map((t) => ({ ...t, name: t.tool || "(no tool)" }))));
  }

  // ---- controls ------------------------------------------------------------

  function readRange() {
    const asked = new URLSearchParams(window.location.search).get("range");
    return asked && asked in RANGE_WORDS ? asked : "24h";
  }

  function setRange(range) {
    state.range = range;
    state.page = 1;
    const url = new URL(window.location.href);
    url.searchParams.set("range", range);
    window.history.replaceState(null, "", url);
    for (const b of document.querySelectorAll("[data-range]")) {
      b.setAttribute("aria-pressed", b.dataset.range === range ? "true" : "false");
    }
    load("range");
  }

  function schedule() {
    clearInterval(state.timer);
    state.timer = state.auto ? setInterval(() => load("auto"), REFRESH_MS) : null;
  }

  function init() {
    for (const b of document.querySelectorAll("[data-range]")) {
      b.setAttribute("aria-pressed", b.dataset.range === state.range ? "true" : "false");
      b.addEventListener("click", () => setRange(b.dataset.range));
    }
    for (const th of document.querySelectorAll("th[data-sort]")) {
      th.querySelector("button").addEventListener("click", () => {
        const key = th.dataset.sort;
        state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
        state.sort = key;
        state.page = 1;
        load("sort");
      });
    }
    $("prev").addEventListener("click", () => { state.page = Math.max(1, state.page - 1); load("page"); });
    $("next").addEventListener("click", () => { state.page += 1; load("page"); });
    $("refresh").addEventListener("click", () => load("refresh"));
    $("retry").addEventListener("click", () => load("retry"));
    $("auto-refresh").addEventListener("change", (e) => { state.auto = e.target.checked; schedule(); });
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      state.token = $("token-input").value.trim();
      sessionStorage.setItem("hookmeter-token", state.token);
      load("token");
    });
    schedule();
    load("start");
  }

  init();
})();
