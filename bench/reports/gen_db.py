#!/usr/bin/env python3
"""Generate a realistic hookmeter database (telemetry.db) for the read benchmarks.

    gen_db.py [--records 10000000] [--days 90] [--seed 1] [--out PATH]
              [--end 2026-11-23T12:00:00Z]

The database is made the way hookmeter makes one: the repository's schema.sql
applied as is, then `PRAGMA user_version` set to the version its first line
states, so `hookmeter serve`/`report` open it without migrating. Every row is
a `cost_records` row; `hook_events` stays empty (the reads measured here do
not touch it).

What the rows look like, over the last --days days ending at --end (default:
now, UTC), ids in time order as the daemon assigns them:
  * ~100k sessions for 10M records: lengths from a few records to a few
    hundred (log-normal per agent, the longest a couple of thousand), started
    more often on weekdays and in working hours, records seconds apart with
    pauses; Claude Code sessions call subagents (`subagent:<type>`) now and
    then, whose records share the session id;
  * 30 agents (claude-code, 14 `subagent:<type>`, codex, gemini-cli, opencode,
    aider and bots), 19 models of 5 providers (names from
    crates/hookmeter-core/src/pricing/prices.toml), 50 projects (1 % of sessions without one),
    popularity skewed;
  * token counts shaped like each provider's: Anthropic prompts are almost all
    cache reads of a context that grows turn by turn (and is compacted), with
    the new part written to the cache (5-minute, or 1-hour for some sessions);
    OpenAI and Google prompts have a non-cached part and reasoning tokens;
  * estimated_cost_usd = tokens x the model's rates read from prices.toml
    (base rates; long-context tiers ignored), pricing_source 'embedded';
  * tool names of each agent's tools (none on some records), task ids on a
    sixth of the sessions, labels on some bot sessions;
  * change numbers (rev) 1, 2, … in id order and meta next_rev after them,
    as the writer numbers them, so `hookmeter push` sends every row;
  * hook_event_id unique and shaped like the real keys:
    `cc:<session>:<msg_…>:<req_…>` for Claude Code transcript records
    (source 'transcript'), `<session>:<call id>:PostToolUse` or `sha256:…`
    for hook records (source 'hook').

`cost_rollup_hourly` must equal the base table. The daemon's writer keeps it
as it stores records; this script inserts the rows, then fills the rollup
with one INSERT … SELECT … GROUP BY that computes the same sums, and checks
that the rollup's totals equal those of cost_records and of the rows it
generated. The same for the daily rollups and for `cost_sessions` (one row per
session, filled by src/store/session_fill.sql), which must also hold exactly
the sessions generated.

Writes the database to PATH.tmp and renames it at the end, and beside it
meta.json (--meta): the arguments, hashes of this script, schema.sql and the
rollup fill statements, the time span, counts, a session with many records (for /api/costs/sessions/{id}),
generation time and size. Deterministic for given arguments and --end.
Standard library only.
"""

import argparse
import hashlib
import json
import math
import os
import random
import re
import sqlite3
import sys
import time
import tomllib
from array import array
from datetime import datetime, timezone
from operator import itemgetter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCHEMA = os.path.join(ROOT, "schema.sql")
PRICES = os.path.join(ROOT, "crates", "hookmeter-core", "src", "pricing", "prices.toml")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# ---------------------------------------------------------------------------
# Models: name as stored (what the payloads say), weight within its agent.
# Every name is a key or an alias in prices.toml; the script fails otherwise.
CLAUDE_MAIN = [
    ("claude-sonnet-4-5-20250929", 46),
    ("claude-opus-4-5-20251101", 18),
    ("claude-opus-4-6", 10),
    ("claude-sonnet-4-20250514", 8),
    ("claude-opus-4-1-20250805", 5),
    ("claude-haiku-4-5-20251001", 6),
    ("claude-sonnet-4-6", 7),
]
CLAUDE_SUB = [
    ("claude-haiku-4-5-20251001", 45),
    ("claude-sonnet-4-5-20250929", 45),
    ("claude-opus-4-5-20251101", 10),
]
HAIKU = "claude-haiku-4-5-20251001"  # Claude Code's side calls (titles, summaries)
CODEX = [("gpt-5-codex", 45), ("gpt-5", 25), ("gpt-5.1-codex-max", 15), ("gpt-5-mini", 10), ("o3", 5)]
GEMINI = [("gemini-2.5-pro", 50), ("gemini-2.5-flash", 30), ("gemini-3-pro-preview", 15),
          ("gemini-2.5-flash-lite", 5)]
OPEN_MIX = [("claude-sonnet-4-5-20250929", 30), ("gpt-5", 15), ("grok-code-fast-1", 20),
            ("deepseek-chat", 15), ("gemini-2.5-flash", 10), ("gpt-4.1", 10)]
BOT_MIX = [("claude-haiku-4-5-20251001", 30), ("gpt-5-mini", 25), ("deepseek-chat", 20),
           ("gemini-2.5-flash", 15), ("grok-code-fast-1", 10)]

# Top-level agents: (agent_id, session weight, median records per session,
# model mix, tool family, source, bot?)
AGENTS = [
    ("claude-code", 52, 70, CLAUDE_MAIN, "claude", "transcript", False),
    ("codex", 16, 60, CODEX, "codex", "hook", False),
    ("gemini-cli", 9, 45, GEMINI, "gemini", "hook", False),
    ("opencode", 4, 40, OPEN_MIX, "claude", "hook", False),
    ("aider", 3, 35, OPEN_MIX, "aider", "hook", False),
    ("cursor-agent", 3, 40, OPEN_MIX, "claude", "hook", False),
    ("goose", 2, 30, OPEN_MIX, "codex", "hook", False),
    ("amp", 2, 40, CLAUDE_MAIN, "claude", "hook", False),
    ("ci-review-bot", 2.5, 8, BOT_MIX, "bot", "hook", True),
    ("pr-triage-bot", 1.5, 5, BOT_MIX, "bot", "hook", True),
    ("docs-writer", 1, 15, BOT_MIX, "bot", "hook", True),
    ("release-notes-bot", 0.5, 6, BOT_MIX, "bot", "hook", True),
    ("test-fixer", 1, 20, OPEN_MIX, "codex", "hook", True),
    ("migration-agent", 0.7, 25, CODEX, "codex", "hook", True),
    ("security-scan-bot", 0.8, 6, BOT_MIX, "bot", "hook", True),
    ("nightly-refactor", 0.5, 30, CLAUDE_MAIN, "claude", "hook", True),
]
SUBAGENTS = [  # Claude Code subagent types, skewed
    ("Explore", 30), ("general-purpose", 25), ("Plan", 12), ("code-reviewer", 8),
    ("test-runner", 6), ("debugger", 4), ("docs-lookup", 3), ("refactorer", 3),
    ("security-reviewer", 2), ("migration-planner", 2), ("frontend-dev", 2),
    ("db-expert", 1.5), ("perf-analyst", 1), ("release-helper", 0.5),
]
TOOLS = {
    "claude": [("Bash", 24), ("Read", 22), ("Edit", 14), ("Grep", 9), ("Glob", 5), ("Write", 4),
               ("TodoWrite", 5), ("Task", 2), ("WebFetch", 1.5), ("WebSearch", 1), ("MultiEdit", 1.5),
               (None, 11)],
    "codex": [("shell", 55), ("apply_patch", 20), ("update_plan", 6), (None, 19)],
    "gemini": [("run_shell_command", 25), ("read_file", 22), ("replace", 12), ("search_file_content", 9),
               ("glob", 6), ("write_file", 5), ("web_fetch", 2), (None, 19)],
    "aider": [(None, 70), ("edit_block", 30)],
    "bot": [(None, 50), ("github_comment", 25), ("read_file", 15), ("shell", 10)],
}
LABELS = [None] * 6 + ['{"team":"platform","env":"ci"}', '{"team":"payments","env":"ci"}',
                       '{"team":"web","env":"ci"}', '{"team":"platform","env":"nightly"}']
PROJECT_WORDS_A = ["billing", "web", "search", "auth", "infra", "mobile", "data", "payments", "docs", "ml"]
PROJECT_WORDS_B = ["api", "frontend", "service", "pipeline", "sdk"]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# random bytes -> base62 characters (bytes.translate: far faster than choices())
TO_BASE62 = bytes(ord(BASE62[i % 62]) for i in range(256))
INSERT = ("INSERT INTO cost_records (timestamp, session_id, agent_id, task_id, project, provider, model, "
          "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, "
          "reasoning_tokens, estimated_cost_usd, pricing_source, tool_name, hook_event_id, source, labels_json) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'embedded',?,?,?,?)")
# The schema's triggers (cost_rollup_on_delete): only deletes fire it, so the
# inserts below leave it alone; it must still be there at the end.
ROLLUP_TRIGGERS = ("cost_rollup_on_delete", "cost_sessions_on_delete")
# What schema migration 14 does to the rows of an older database.
REV_FILL = ("UPDATE cost_records SET rev = id;\n"
            "UPDATE meta SET value = (SELECT coalesce(max(id), 0) + 1 FROM cost_records) WHERE key = 'next_rev';")
# What the daemon's writer keeps in cost_rollup_hourly and cost_rollup_daily,
# computed in one pass each: the statements hookmeter itself uses to fill them.
ROLLUP_FILL = os.path.join(ROOT, "src", "store", "rollup_fill.sql")
DAILY_FILL = os.path.join(ROOT, "src", "store", "rollup_daily_fill.sql")
# ... and in cost_sessions (one row per session) and cost_session_models, the
# statements migration 17 uses.
SESSION_FILL = os.path.join(ROOT, "src", "store", "session_fill.sql")
TOTAL_COLS = ("records", "cost_usd", "input_tokens", "output_tokens", "cache_read_tokens",
              "cache_write_tokens", "cache_write_1h_tokens", "reasoning_tokens")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sha256_file(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def schema_version(schema_text):
    m = re.search(r"version (\d+)", schema_text.splitlines()[0])
    if not m:
        sys.exit("gen_db.py: the first line of schema.sql states no 'version N'")
    return int(m.group(1))


def load_rates(models):
    """Per-token rates (input, output, cache read, cache write 5m, cache write 1h) and provider."""
    table = tomllib.load(open(PRICES, "rb"))["models"]
    names = {}
    for key, entry in table.items():
        for name in [key] + entry.get("aliases", []):
            names[name.lower().replace(".", "-")] = entry
    out = {}
    for model in models:
        name = model.lower().replace(".", "-")
        # A dated snapshot is priced like its model (docs/pricing.md, lookup
        # step 3): the table keeps no entry of its own for it.
        entry = names.get(name) or names.get(re.sub(r"-\d{8}$", "", name))
        if entry is None:
            sys.exit("gen_db.py: model %r is not in crates/hookmeter-core/src/pricing/prices.toml" % model)
        inp = entry["input"]
        cr = entry.get("cache_read", inp)
        cw5 = entry.get("cache_write_5m", entry.get("cache_write", inp))
        cw1 = entry.get("cache_write_1h", cw5)
        out[model] = (entry["provider"], inp / 1e6, entry["output"] / 1e6, cr / 1e6, cw5 / 1e6, cw1 / 1e6)
    return out


def lookup_table(pairs, size=1000):
    """A list of `size` values in proportion to their weights: table[int(random() * size)]."""
    total = sum(w for _, w in pairs)
    table = []
    acc = 0.0
    for v, w in pairs:
        acc += w
        table.extend([v] * (round(acc / total * size) - len(table)))
    return table


def cumulative(pairs):
    """(values, cumulative weights) for random.choices(values, cum_weights=…)."""
    values, cum, total = [], [], 0.0
    for v, w in pairs:
        total += w
        values.append(v)
        cum.append(total)
    return values, cum


TOOL_TABLES = {family: lookup_table(pairs) for family, pairs in TOOLS.items()}


class Session:
    __slots__ = ("start", "offsets", "roles", "agent", "sid", "project", "task", "labels", "model",
                 "one_hour", "seed")


def plan_sessions(rng, n_records, t0, t_end):
    """Phase 1: every session's shape (agent, length, record offsets, roles) and start."""
    agent_idx, agent_cum = cumulative([(i, a[1]) for i, a in enumerate(AGENTS)])
    sub_idx, sub_cum = cumulative([(i, w) for i, (_, w) in enumerate(SUBAGENTS)])
    projects = ["%s-%s" % (a, b) for a in PROJECT_WORDS_A for b in PROJECT_WORDS_B]
    rng.shuffle(projects)
    proj_vals, proj_cum = cumulative([(p, 1.0 / (i + 1) ** 0.9) for i, p in enumerate(projects)])
    mixes = {}
    for a in AGENTS:
        mixes[a[0]] = cumulative(a[3])
    window = t_end - t0
    sessions, total = [], 0
    while total < n_records:
        ai = rng.choices(agent_idx, cum_weights=agent_cum)[0]
        name, _, median, _, _, _, bot = AGENTS[ai]
        length = int(round(median * math.exp(rng.gauss(0.0, 1.0))))
        length = max(2, min(length, 2500))
        length = min(length, n_records - total)
        # Offsets (ms from the session's start) and roles: 0 = main thread,
        # 1 = a side call on Haiku, k + 2 = subagent type k.
        offsets, roles = array("q"), bytearray()
        t = 0
        sub_left, sub_role = 0, 0
        claude = name == "claude-code"
        for i in range(length):
            if i:
                if sub_left:
                    gap = 2500 * math.exp(rng.gauss(0.0, 0.6))
                else:
                    gap = 6000 * math.exp(rng.gauss(0.0, 0.9))
                    u = rng.random()
                    if u < 0.06:
                        gap += rng.expovariate(1 / 90_000)      # the user reads and types
                    elif u < 0.064:
                        gap += rng.uniform(1_200_000, 7_200_000)  # away for a while
                t += int(gap) + 1
            offsets.append(t)
            if sub_left:
                roles.append(sub_role)
                sub_left -= 1
            elif claude and i and rng.random() < 0.025:
                sub_role = 2 + rng.choices(sub_idx, cum_weights=sub_cum)[0]
                sub_left = max(2, int(14 * math.exp(rng.gauss(0.0, 0.8)))) - 1
                roles.append(sub_role)
            elif claude and rng.random() < 0.03:
                roles.append(1)
            else:
                roles.append(0)
        duration = offsets[-1]
        if duration >= window:  # squeeze a session longer than the window
            f = (window - 1) / duration
            offsets = array("q", (int(o * f) for o in offsets))
            duration = offsets[-1]
        # Start: weekdays and working hours (a spread of time zones) are busier.
        while True:
            start = t0 + int(rng.random() * (window - duration))
            day = start // DAY_MS
            hour = (start % DAY_MS) // HOUR_MS
            weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
            w = 0.2 + 0.8 * math.exp(-((hour - 15.5) / 5.0) ** 2)
            if weekday >= 5:
                w *= 0.35 if not bot else 0.9
            if rng.random() < w:
                break
        s = Session()
        s.start = start
        s.offsets = offsets
        s.roles = bytes(roles)
        s.agent = ai
        s.sid = "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                                 0x8000 | rng.getrandbits(14), rng.getrandbits(48))
        s.project = None if rng.random() < 0.01 else rng.choices(proj_vals, cum_weights=proj_cum)[0]
        s.task = ("%s-%d" % (rng.choice(["ENG", "OPS", "BUG", "FEAT", "SEC"]), rng.randint(100, 4999))
                  if rng.random() < 0.16 else None)
        s.labels = rng.choice(LABELS) if bot else None
        vals, cum = mixes[name]
        s.model = rng.choices(vals, cum_weights=cum)[0]
        s.one_hour = rng.random() < 0.12
        s.seed = rng.getrandbits(64)
        sessions.append(s)
        total += length
    sessions.sort(key=lambda s: s.start)
    return sessions


def make_day_names(t0, t_end):
    names = {}
    for day in range(t0 // DAY_MS, t_end // DAY_MS + 1):
        names[day] = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")
    return names


def session_rows(s, rates, day_names, sub_models, buckets, totals):
    """Phase 2: one session's cost_records rows, each into the bucket of its
    hour; adds them to `totals`; returns how many."""
    rng = random.Random(s.seed)
    rnd, gauss, choices = rng.random, rng.gauss, rng.choices
    exp = math.exp
    name, _, _, _, family, source, _ = AGENTS[s.agent]
    tools = TOOL_TABLES[family]
    randbytes = rng.randbytes
    sid, project, task, labels = s.sid, s.project, s.task, s.labels
    sub_vals, sub_cum = sub_models
    one_hour = s.one_hour
    contexts = {}  # role -> current context size (tokens)
    sub_model = None
    prev_role = 0
    start = s.start
    t_cost = t_in = t_out = t_cr = t_cw = t_cw1 = t_re = 0
    for off, role in zip(s.offsets, s.roles):
        ms = start + off
        day, rem = divmod(ms, DAY_MS)
        h, rem = divmod(rem, HOUR_MS)
        mi, rem = divmod(rem, 60_000)
        sec, msec = divmod(rem, 1000)
        ts = "%sT%02d:%02d:%02d.%03dZ" % (day_names[day], h, mi, sec, msec)
        if role == 0:
            agent, model = name, s.model
        elif role == 1:
            agent, model = name, HAIKU
        else:
            agent = "subagent:" + SUBAGENTS[role - 2][0]
            if role != prev_role:  # a new subagent run: its own model and a fresh context
                sub_model = choices(sub_vals, cum_weights=sub_cum)[0]
                contexts.pop(role, None)
            model = sub_model
        prev_role = role
        provider, r_in, r_out, r_cr, r_cw5, r_cw1 = rates[model]
        out = int(160 * exp(gauss(0.0, 1.1))) + 1
        if out > 32000:
            out = 32000
        reasoning = 0
        if role == 1:  # a short side call: no tools, no cache
            inp, cr, cw, cw1 = 200 + int(rnd() * 600), 0, 0, 0
            out = 10 + int(rnd() * 60)
            tool = None
        else:
            tool = tools[int(rnd() * 1000)]
            ctx = contexts.get(role)
            if provider == "anthropic":
                if ctx is None or ctx > 150_000 + int(rnd() * 30_000):
                    # a new context, or one just compacted: written whole
                    cw = (9_000 if role >= 2 else 14_000) + int(rnd() * 16_000)
                    cr = 0 if ctx is None else 4_000 + int(rnd() * 8_000)
                    ctx = cr + cw
                else:
                    cw = int(700 * exp(gauss(0.0, 1.2))) + out
                    if cw > 40_000:
                        cw = 40_000
                    cr = ctx
                    ctx += cw
                inp = 1 + int(rnd() * 9) if rnd() < 0.95 else 50 + int(rnd() * 3000)
                cw1 = cw if one_hour else 0
            else:
                if ctx is None or ctx > 180_000 + int(rnd() * 60_000):
                    ctx = 6_000 + int(rnd() * 10_000)
                    inp, cr = ctx, 0
                else:
                    new = int(1500 * exp(gauss(0.0, 1.0))) + out
                    if provider == "google" and rnd() < 0.4:  # implicit cache missed
                        inp, cr = ctx + new, 0
                    else:
                        # cached in 1,024- or 128-token steps: the rest is input
                        cr = (ctx // 1024) * 1024 if provider == "openai" else (ctx // 128) * 128
                        inp = ctx - cr + new
                    ctx += new
                cw = cw1 = 0
                if provider in ("openai", "google", "xai") and model not in ("gpt-4.1",):
                    reasoning = int(out * (0.2 + 0.6 * rnd()))
            contexts[role] = ctx
        cost = inp * r_in + out * r_out + cr * r_cr + (cw - cw1) * r_cw5 + cw1 * r_cw1
        if source == "transcript":
            key = "cc:%s:msg_01%s:req_011C%s" % (sid, randbytes(22).translate(TO_BASE62).decode(),
                                                 randbytes(20).translate(TO_BASE62).decode())
        elif tool is not None:
            key = "%s:call_%s:PostToolUse" % (sid, randbytes(24).translate(TO_BASE62).decode())
        else:
            key = "sha256:%064x" % rng.getrandbits(256)
        hour = ms // HOUR_MS
        bucket = buckets.get(hour)
        if bucket is None:
            bucket = buckets[hour] = []
        bucket.append((ts, sid, agent, task, project, provider, model, inp, out, cr, cw, cw1, reasoning,
                       cost, tool, key, source, labels))
        t_cost += cost
        t_in += inp
        t_out += out
        t_cr += cr
        t_cw += cw
        t_cw1 += cw1
        t_re += reasoning
    n = len(s.offsets)
    for i, v in enumerate((n, t_cost, t_in, t_out, t_cr, t_cw, t_cw1, t_re)):
        totals[i] += v
    return n


def totals_query(conn, table):
    if table == "cost_records":
        sql = ("SELECT count(*), total(estimated_cost_usd), total(input_tokens), total(output_tokens), "
               "total(cache_read_tokens), total(cache_write_tokens), total(cache_write_1h_tokens), "
               "total(reasoning_tokens) FROM cost_records")
    else:
        sql = ("SELECT total(records), total(cost_usd), total(input_tokens), total(output_tokens), "
               "total(cache_read_tokens), total(cache_write_tokens), total(cache_write_1h_tokens), "
               "total(reasoning_tokens) FROM " + table)
    return conn.execute(sql).fetchone()


def same_totals(a, b):
    """Integers exact (as doubles, they stay below 2^53), cost to 1e-8 relative
    (sums of 10M doubles in different orders differ in the last bits)."""
    bad = []
    for col, x, y in zip(TOTAL_COLS, a, b):
        if col == "cost_usd":
            ok = abs(x - y) <= 1e-8 * max(1.0, abs(x), abs(y))
        else:
            ok = int(x) == int(y)
        if not ok:
            bad.append("%s %r != %r" % (col, x, y))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "reports", "telemetry.db"))
    ap.add_argument("--meta", help="where to write meta.json (default: beside --out)")
    ap.add_argument("--end", help="end of the window, RFC 3339 UTC (default: now)")
    args = ap.parse_args()
    if args.records < 1 or args.days < 1:
        ap.error("--records and --days must be positive")
    started = time.monotonic()

    if args.end:
        end = datetime.fromisoformat(args.end.replace("Z", "+00:00")).astimezone(timezone.utc)
    else:
        end = datetime.now(timezone.utc)
    t_end = int(end.timestamp() * 1000)
    t0 = t_end - args.days * DAY_MS
    schema_text = open(SCHEMA).read()
    version = schema_version(schema_text)
    all_models = {m for a in AGENTS for m, _ in a[3]} | {m for m, _ in CLAUDE_SUB} | {HAIKU}
    rates = load_rates(sorted(all_models))

    rng = random.Random(args.seed)
    sessions = plan_sessions(rng, args.records, t0, t_end)
    log("gen_db: %s records in %s sessions over %d days ending %s (planned in %.1f s)" % (
        format(args.records, ","), format(len(sessions), ","), args.days,
        end.strftime("%Y-%m-%dT%H:%M:%SZ"), time.monotonic() - started))

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    for p in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
        if os.path.exists(p):
            os.remove(p)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.executescript(schema_text)  # exactly the daemon's schema, triggers included
    conn.execute("PRAGMA user_version = %d" % version)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -2097152")  # 2 GiB cap: random-key indexes stay in memory
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")

    day_names = make_day_names(t0, t_end)
    sub_models = cumulative(CLAUDE_SUB)
    gen_totals = [0] * len(TOTAL_COLS)
    by_ts = itemgetter(0)
    buckets = {}  # hour index -> rows
    next_hour = t0 // HOUR_MS
    written, committed_at, report_at = 0, 0, 0
    biggest = (0, None)
    step = max(args.records // 20, 1)
    conn.execute("BEGIN")

    def flush(upto):
        nonlocal next_hour, written, committed_at
        while next_hour < upto:
            rows = buckets.pop(next_hour, None)
            next_hour += 1
            if not rows:
                continue
            rows.sort(key=by_ts)
            conn.executemany(INSERT, rows)
            written += len(rows)
            if written - committed_at >= 1_000_000:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                committed_at = written

    for s in sessions:
        flush(s.start // HOUR_MS)
        n = session_rows(s, rates, day_names, sub_models, buckets, gen_totals)
        if n > biggest[0] and AGENTS[s.agent][0] == "claude-code":
            biggest = (n, s.sid)
        if written >= report_at:
            el = time.monotonic() - started
            log("gen_db: %5.1f %%  %s rows  %.0f s" % (100.0 * written / args.records, format(written, ","), el))
            report_at = written + step
    flush(max(buckets) + 1 if buckets else next_hour)
    conn.execute("COMMIT")
    insert_done = time.monotonic()
    log("gen_db: inserted %s rows in %.0f s" % (format(written, ","), insert_done - started))
    if written != args.records:
        sys.exit("gen_db.py: wrote %d rows, expected %d" % (written, args.records))

    # Change numbers as the daemon's writer gives them (one per row, in id
    # order, meta.next_rev the next one), so that `hookmeter push` sends the
    # rows: it skips change number 0, a row written by hand.
    conn.executescript("BEGIN;\n%s\nCOMMIT;" % REV_FILL)
    conn.executescript("BEGIN;\n%s\n%s\n%s\nCOMMIT;" % (
        open(ROLLUP_FILL).read(), open(DAILY_FILL).read(), open(SESSION_FILL).read()))
    log("gen_db: filled cost_rollup_hourly, cost_rollup_daily, cost_totals_daily, cost_sessions "
        "and cost_session_models in %.0f s"
        % (time.monotonic() - insert_done))
    missing = [t for t in ROLLUP_TRIGGERS if conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?", (t,)).fetchone() is None]
    if missing:
        sys.exit("gen_db.py: triggers missing after generation: %s" % ", ".join(missing))

    # The check: rollup totals = base table totals = what was generated.
    check_started = time.monotonic()
    base = totals_query(conn, "cost_records")
    roll = totals_query(conn, "cost_rollup_hourly")
    daily = totals_query(conn, "cost_rollup_daily")
    day_totals = totals_query(conn, "cost_totals_daily")
    # Every generated record names its session, so the sessions' totals are
    # the table's too.
    by_session = totals_query(conn, "cost_sessions")
    bad = (same_totals(base, roll) + ["daily " + b for b in same_totals(base, daily)]
           + ["daily totals " + b for b in same_totals(base, day_totals)]
           + ["sessions " + b for b in same_totals(base, by_session)]
           + ["generated " + b for b in same_totals(gen_totals, base)])
    if bad:
        sys.exit("gen_db.py: totals disagree: " + "; ".join(bad))
    # cost_session_models holds every record once, under its session, model and agent.
    by_model = conn.execute("SELECT total(records), total(cost_usd) FROM cost_session_models").fetchone()
    if by_model[0] != base[0] or abs(by_model[1] - base[1]) > 1e-6 * max(1.0, base[1]):
        sys.exit("gen_db.py: cost_session_models holds %s records and $%s, the records %s and $%s"
                 % (by_model[0], by_model[1], base[0], base[1]))
    # input, output, cache read and cache write: what the "tokens" sort orders by.
    tokens = conn.execute("SELECT total(tokens) FROM cost_sessions").fetchone()[0]
    if tokens != sum(base[2:6]):
        sys.exit("gen_db.py: cost_sessions holds %s tokens, the records %s" % (tokens, sum(base[2:6])))
    kept_sessions = conn.execute("SELECT count(*) FROM cost_sessions").fetchone()[0]
    if kept_sessions != len({s.sid for s in sessions}):
        sys.exit("gen_db.py: cost_sessions holds %d sessions, %d were generated"
                 % (kept_sessions, len({s.sid for s in sessions})))
    rollup_rows = conn.execute("SELECT count(*) FROM cost_rollup_hourly").fetchone()[0]
    log("gen_db: rollup totals = base totals = generated totals (%s rollup rows; checked in %.1f s)" % (
        format(rollup_rows, ","), time.monotonic() - check_started))

    conn.execute("PRAGMA locking_mode = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")  # what the daemon uses; also releases the exclusive lock
    first, last = conn.execute("SELECT min(timestamp), max(timestamp) FROM cost_records").fetchone()
    # distinct values from the small rollup table and the session plan, not a scan of 10M rows
    counts = {k: conn.execute("SELECT count(DISTINCT %s) FROM cost_rollup_hourly%s" % (
        k, " WHERE project != ''" if k == "project" else "")).fetchone()[0]
        for k in ("agent_id", "model", "provider", "project")}
    counts["session_id"] = len({s.sid for s in sessions})
    counts["task_id"] = len({s.task for s in sessions if s.task})
    sess_n = conn.execute("SELECT count(*), min(timestamp), max(timestamp) FROM cost_records "
                          "WHERE session_id = ?", (biggest[1],)).fetchone()
    conn.close()
    for p in (out, out + "-wal", out + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    os.rename(tmp, out)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(tmp + suffix):
            os.rename(tmp + suffix, out + suffix)
    elapsed = time.monotonic() - started
    size = os.path.getsize(out)
    meta = {
        "generator_sha256": sha256_file(os.path.abspath(__file__)),
        "rollup_fill_sha256": sha256_file(ROLLUP_FILL),
        "daily_fill_sha256": sha256_file(DAILY_FILL),
        "session_fill_sha256": sha256_file(SESSION_FILL),
        "schema_sha256": hashlib.sha256(schema_text.encode()).hexdigest(),
        "schema_version": version,
        "args": {"records": args.records, "days": args.days, "seed": args.seed,
                 "end": args.end},
        "window": {"from": datetime.fromtimestamp(t0 / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                   "to": end.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        "first_timestamp": first,
        "last_timestamp": last,
        "records": written,
        "sessions": counts["session_id"],
        "agents": counts["agent_id"],
        "models": counts["model"],
        "providers": counts["provider"],
        "projects": counts["project"],
        "task_ids": counts["task_id"],
        "rollup_rows": rollup_rows,
        "totals": dict(zip(TOTAL_COLS, [base[0], base[1]] + [int(x) for x in base[2:]])),
        "session": {"id": biggest[1], "records": sess_n[0], "first": sess_n[1], "last": sess_n[2]},
        "generation_seconds": round(elapsed, 1),
        "db_bytes": size,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    meta_path = args.meta or os.path.join(os.path.dirname(out), "meta.json")
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(meta_path + ".tmp", meta_path)
    log("gen_db: done in %.0f s: %s (%.2f GiB), %s sessions; session with many records: %s (%d)" % (
        elapsed, out, size / (1 << 30), format(counts["session_id"], ","), biggest[1], sess_n[0]))
    print(json.dumps({"session_id": biggest[1], "records": written, "seconds": round(elapsed, 1),
                      "db_bytes": size}))


if __name__ == "__main__":
    main()
