#!/usr/bin/env python3
"""The Markdown report of bench/opencode/run.sh (see its header for the files).

    report.py OUT_DIR CORPUS_SUMMARY REAL_LEDGER CCUSAGE_VERSION RUNS
"""

import json
import os
import re
import sqlite3
import statistics
import sys

out, summary_path, ledger_path, cc_version, runs = sys.argv[1:6]
runs = int(runs)
S = json.load(open(summary_path))
MB = 1 << 20
KEYS = ["input", "output", "reasoning", "cache_read", "cache_write", "cost", "reported_cost", "records"]


def parse_time(name):
    t = open(os.path.join(out, name + ".time")).read()
    g = lambda pat: re.search(pat, t).group(1)  # noqa: E731
    secs = 0.0
    for part in g(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)").split(":"):
        secs = secs * 60 + float(part)
    return {"wall": secs, "cpu": float(g(r"User time \(seconds\): (\S+)")) + float(g(r"System time \(seconds\): (\S+)")),
            "rss_mb": int(g(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024.0}


def cc_tokens(d):
    # ccusage's outputTokens leaves reasoning out; its totalTokens is OpenCode's
    # `total`, which has it
    return {"input": d["inputTokens"], "output": d["outputTokens"], "cache_read": d["cacheReadTokens"],
            "cache_write": d["cacheCreationTokens"],
            "reasoning": d["totalTokens"] - d["inputTokens"] - d["outputTokens"] - d["cacheReadTokens"]
            - d["cacheCreationTokens"], "cost": d["totalCost"]}


def cc_load(name):
    j = json.load(open(os.path.join(out, name + ".json")))
    return cc_tokens(j["totals"]), {d["date"]: cc_tokens(d) for d in j["daily"]}


def hm_load(name):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, name + ".db"), uri=True)
    q = ("SELECT coalesce(sum(input_tokens),0), coalesce(sum(output_tokens - reasoning_tokens),0), "
         "coalesce(sum(reasoning_tokens),0), coalesce(sum(cache_read_tokens),0), coalesce(sum(cache_write_tokens),0), "
         "coalesce(sum(estimated_cost_usd),0), coalesce(sum(reported_cost_usd),0), count(*) FROM cost_records")
    tot = dict(zip(KEYS, db.execute(q).fetchone()))
    days = {}
    for row in db.execute(q.replace("FROM cost_records", ", substr(timestamp,1,10) FROM cost_records GROUP BY 9")):
        days[row[8]] = dict(zip(KEYS, row[:8]))
    return tot, days


def truth(t):
    return dict(t, cost=t["cost_usd"], reported_cost=t["reported_cost_usd"])


c = S["cases"]
print("## OpenCode's database: hookmeter import vs ccusage %s opencode\n" % cc_version)
print("Corpus (`bench/opencode/gen_corpus.py`, seed %s): one `opencode.db` of %.1f MiB, %s sessions (%s subagent "
      "sessions, %s continued with `--continue`), %s turns, %s finished steps (%s with a tool, %s with reasoning, "
      "%s writing the cache), %s parts; %s unfinished steps (no `time.completed`), %s aborted steps, %s steps of a "
      "custom provider without prices (OpenCode's `cost` 0), %s messages also in the older JSON storage." % (
          S["seed"], S["database_bytes"] / MB, format(c["sessions"], ","), c["subagent_sessions"],
          c["continued_sessions"], format(c["turns"], ","), format(c["steps"], ","), format(c["tool_steps"], ","),
          format(c["steps_with_reasoning"], ","), format(c["steps_with_cache_write"], ","), format(c["parts"], ","),
          c["unfinished_steps"], c["aborted_steps"], format(c["unpriced_provider_steps"], ","),
          format(c["json_storage_messages"], ",")))
print()
print("| round | ccusage wall (s) | hookmeter wall (s) | ratio | ccusage CPU (s) | hookmeter CPU (s) "
      "| ccusage peak RSS (MB) | hookmeter peak RSS (MB) |")
print("|---|---|---|---|---|---|---|---|")
ratios, cc_rss, hm_rss, cc_w, hm_w = [], [], [], [], []
for i in range(1, runs + 1):
    a, b = parse_time("opencode-cc-%d" % i), parse_time("opencode-hm-%d" % i)
    r = a["wall"] / b["wall"] if b["wall"] > 0 else float("inf")
    ratios.append(r)
    cc_rss.append(a["rss_mb"])
    hm_rss.append(b["rss_mb"])
    cc_w.append(a["wall"])
    hm_w.append(b["wall"])
    print("| %d | %.2f | %.2f | %.2f× | %.2f | %.2f | %.1f | %.1f |" % (
        i, a["wall"], b["wall"], r, a["cpu"], b["cpu"], a["rss_mb"], b["rss_mb"]))
print()
print("Wall-time ratio (ccusage / hookmeter), median of %d rounds: **%.2f×** (spread %.2f×–%.2f×). "
      "Median wall: ccusage %.2f s, hookmeter %.2f s. Peak RSS: hookmeter at most %.1f MB, ccusage at most %.1f MB."
      % (runs, statistics.median(ratios), min(ratios), max(ratios), statistics.median(cc_w), statistics.median(hm_w),
         max(hm_rss), max(cc_rss)))

C, C_days = cc_load("opencode-cc-%d" % runs)
H, H_days = hm_load("opencode-hm-%d" % runs)
T = truth(S["total"])
print()
print("| total | generator truth | ccusage | hookmeter | hookmeter − truth | ccusage − truth |")
print("|---|---|---|---|---|---|")


def row(label, k, money=False, cc=True):
    fm = (lambda v: "$%.6f" % v) if money else (lambda v: format(int(v), ","))
    d = (lambda v: "%+.6f" % v) if money else (lambda v: format(int(v), "+,"))
    cv = C.get(k) if cc else None
    print("| %s | %s | %s | %s | %s | %s |" % (label, fm(T[k]), "(not reported)" if cv is None else fm(cv),
                                             fm(H[k]), d(H[k] - T[k]), "" if cv is None else d(cv - T[k])))


row("input tokens (cache left out)", "input")
row("output tokens (reasoning apart)", "output")
row("reasoning tokens (billed as output)", "reasoning")
row("cache read tokens", "cache_read")
row("cache write tokens", "cache_write")
row("cost at list prices (USD)", "cost", True)
row("OpenCode's own `cost` (USD)", "reported_cost", True, cc=False)
row("records (finished steps)", "records", cc=False)

diff = []
for day in sorted(set(C_days) | set(H_days) | set(S["by_day"])):
    t = S["by_day"].get(day, {}).get("cost_usd", 0.0)
    cc = C_days.get(day, {}).get("cost", 0.0)
    hm = H_days.get(day, {}).get("cost", 0.0)
    tok = lambda x: (x.get("input"), x.get("output"), x.get("reasoning"), x.get("cache_read"), x.get("cache_write"))  # noqa: E731
    td = S["by_day"].get(day, {})
    same_tokens = tok(td) == tok(C_days.get(day, {})) == tok(H_days.get(day, {}))
    if abs(cc - t) > 1e-6 or abs(hm - t) > 1e-6 or not same_tokens:
        diff.append((day, t, cc, hm, same_tokens))
print()
if diff:
    print("Days where a tool differs from the truth (%d of %d):\n" % (len(diff), len(S["by_day"])))
    print("| day (UTC) | truth | ccusage | hookmeter | tokens equal |")
    print("|---|---|---|---|---|")
    for d, t, cc, hm, same in diff:
        print("| %s | $%.6f | $%.6f (%+.6f) | $%.6f (%+.6f) | %s |" % (d, t, cc, cc - t, hm, hm - t, same))
else:
    print("Per day (%d UTC days): ccusage, hookmeter and the truth agree on every day's five token counts exactly "
          "and on its cost to $0.000001." % len(S["by_day"]))

imp = open(os.path.join(out, "opencode-hm-%d.out" % runs)).read() + open(
    os.path.join(out, "opencode-hm-%d.stderr" % runs)).read()
m = re.search(r"cost records: (\d+) added, (\d+) updated, (\d+) already stored", imp)
print()
print("hookmeter's import: `%s`." % (m.group(0) if m else "?"))

# ---- the real databases
ledger = [json.loads(x) for x in open(ledger_path) if x.strip()]
RC, _ = cc_load("opencode-real-cc")
RH, _ = hm_load("opencode-real-hm")
a, b = parse_time("opencode-real-cc"), parse_time("opencode-real-hm")
print()
print("The harness's real databases (tests/fixtures/opencode/real/: text, tool, `--continue`, Anthropic with "
      "cache writes; OpenCode 1.18.33), merged into one; the mock's ledger has %d calls, %d of them OpenCode's "
      "title request (`kind: side`), which OpenCode stores nowhere:\n" % (
          len(ledger), sum(1 for x in ledger if x.get("kind") == "side")))
print("| total | ccusage | hookmeter |")
print("|---|---|---|")
for label, k in (("input", "input"), ("output (reasoning apart)", "output"), ("reasoning", "reasoning"),
                 ("cache read", "cache_read"), ("cache write", "cache_write")):
    print("| %s | %s | %s |" % (label, format(int(RC[k]), ","), format(int(RH[k]), ",")))
print("| cost (USD) | $%.6f | $%.6f (OpenCode's own: $%.6f) |" % (RC["cost"], RH["cost"], RH["reported_cost"]))
print("| records | (not reported) | %d |" % RH["records"])
print()
print("(Wall %.2f s / %.2f s, peak RSS %.1f MB / %.1f MB for ccusage / hookmeter.)" % (
    a["wall"], b["wall"], a["rss_mb"], b["rss_mb"]))
