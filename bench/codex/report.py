#!/usr/bin/env python3
"""The Markdown report of bench/codex/run.sh (see its header for the files).

    report.py OUT_DIR CORPUS_SUMMARY REAL_LEDGER CCUSAGE_VERSION RUNS
"""

import json
import os
import re
import sqlite3
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus import cost as list_cost  # noqa: E402  (the generator's prices)

out, summary_path, ledger_path, cc_version, runs = sys.argv[1:6]
runs = int(runs)
S = json.load(open(summary_path))
MB = 1 << 20


def parse_time(name):
    t = open(os.path.join(out, name + ".time")).read()
    g = lambda pat: re.search(pat, t).group(1)
    secs = 0.0
    for part in g(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)").split(":"):
        secs = secs * 60 + float(part)
    return {"wall": secs, "cpu": float(g(r"User time \(seconds\): (\S+)")) + float(g(r"System time \(seconds\): (\S+)")),
            "rss_mb": int(g(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024.0}


def cc_load(name):
    j = json.load(open(os.path.join(out, name + ".json")))
    t = j["totals"]
    tot = {"billed_input": t["inputTokens"], "cached_input": t["cacheReadTokens"], "output": t["outputTokens"],
           "reasoning": t["reasoningOutputTokens"], "cost": t["costUSD"]}
    days = {d["date"]: d for d in j["daily"]}
    return tot, days


def hm_load(name):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, name + ".db"), uri=True)
    row = db.execute("SELECT coalesce(sum(input_tokens),0), coalesce(sum(cache_read_tokens),0), "
                     "coalesce(sum(output_tokens),0), coalesce(sum(reasoning_tokens),0), "
                     "coalesce(sum(estimated_cost_usd),0), count(*) FROM cost_records").fetchone()
    tot = dict(zip(["billed_input", "cached_input", "output", "reasoning", "cost", "records"], row))
    days = {d: c for d, c in db.execute("SELECT substr(timestamp,1,10), sum(estimated_cost_usd) FROM cost_records "
                                        "GROUP BY 1")}
    return tot, days


print("## Codex rollouts: hookmeter import vs ccusage %s codex\n" % cc_version)
c = S["cases"]
print("Corpus (`bench/codex/gen_corpus.py`, seed %s): %d rollouts (%d in archived_sessions/), %.1f MiB, "
      "%s lines, %s billed responses; %d sessions in the current 0.171.0 format, %d in the older one. "
      "Cases: %d resumed sessions, %d forks (%d of them older forks replaying %s responses of their parent), "
      "%s repeated `token_count` lines, %s `token_count` with `info: null`, %s older `token_count` without "
      "`last_token_usage`, %s model changes mid-session." % (
          S["seed"], S["files"], S["archived_files"], S["bytes"] / MB, format(S["lines"], ","),
          format(S["responses"], ","), S["sessions"]["current_format"], S["sessions"]["older_format"],
          c["resumed_sessions"], c["forks"], c["replaying_forks_older_format"], format(c["replayed_responses"], ","),
          format(c["repeated_token_count_lines"], ","), format(c["token_count_info_null"], ","),
          format(c["token_count_without_last_usage"], ","), c["model_switches"]))
print()
print("| round | ccusage wall (s) | hookmeter wall (s) | ratio | ccusage CPU (s) | hookmeter CPU (s) "
      "| ccusage peak RSS (MB) | hookmeter peak RSS (MB) |")
print("|---|---|---|---|---|---|---|---|")
ratios, cc_rss, hm_rss, cc_w, hm_w = [], [], [], [], []
for i in range(1, runs + 1):
    a, b = parse_time("codex-cc-%d" % i), parse_time("codex-hm-%d" % i)
    r = a["wall"] / b["wall"] if b["wall"] > 0 else float("inf")
    ratios.append(r)
    cc_rss.append(a["rss_mb"])
    hm_rss.append(b["rss_mb"])
    cc_w.append(a["wall"])
    hm_w.append(b["wall"])
    print("| %d | %.2f | %.2f | %.2f× | %.2f | %.2f | %.1f | %.1f |" % (
        i, a["wall"], b["wall"], r, a["cpu"], b["cpu"], a["rss_mb"], b["rss_mb"]))
print()
print("Wall-time ratio (ccusage / hookmeter), median of %d rounds: **%.2f×** (spread %.2f×–%.2f×; target ≥ 1.5×). "
      "Median wall: ccusage %.2f s, hookmeter %.2f s (%.0f MiB/s). Peak RSS: hookmeter at most %.1f MB "
      "(target ≤ 100 MB), ccusage at most %.1f MB." % (
          runs, statistics.median(ratios), min(ratios), max(ratios), statistics.median(cc_w),
          statistics.median(hm_w), S["bytes"] / MB / statistics.median(hm_w), max(hm_rss), max(cc_rss)))

C, C_days = cc_load("codex-cc-%d" % runs)
H, H_days = hm_load("codex-hm-%d" % runs)
T = dict(S["tokens"], cost=S["cost_usd"], records=S["responses"])
print()
print("| total | generator truth | ccusage | hookmeter | hookmeter − truth | ccusage − truth |")
print("|---|---|---|---|---|---|")


def row(label, k, money=False):
    f = (lambda v: "$%.6f" % v) if money else (lambda v: format(int(v), ","))
    d = (lambda v: "%+.6f" % v) if money else (lambda v: format(int(v), "+,"))
    cv = C.get(k)
    print("| %s | %s | %s | %s | %s | %s |" % (label, f(T[k]), "" if cv is None else f(cv), f(H[k]),
                                             d(H[k] - T[k]), "" if cv is None else d(cv - T[k])))


row("billed input tokens (input − cached)", "billed_input")
row("cached input tokens", "cached_input")
row("output tokens (reasoning inside)", "output")
row("reasoning tokens", "reasoning")
row("cost (USD)", "cost", True)
print("| records (billed responses) | %s | (not reported) | %s | %s | |" % (
    format(T["records"], ","), format(H["records"], ","), format(H["records"] - T["records"], "+,")))

rows = []
for day in sorted(set(C_days) | set(H_days) | set(S["by_day"])):
    t = S["by_day"].get(day, {}).get("cost_usd", 0.0)
    cc = float(C_days[day]["costUSD"]) if day in C_days else 0.0
    hm = H_days.get(day, 0.0)
    if abs(cc - t) > 1e-6 or abs(hm - t) > 1e-6:
        rows.append((day, t, cc, hm))
print()
if rows:
    print("Days where a tool differs from the truth by more than $0.000001 (%d of %d):\n" % (len(rows), len(S["by_day"])))
    print("| day (UTC) | truth | ccusage | hookmeter |")
    print("|---|---|---|---|")
    for d, t, cc, hm in rows:
        print("| %s | $%.6f | $%.6f | $%.6f |" % (d, t, cc, hm))
else:
    print("Per day (%d UTC days): ccusage, hookmeter and the truth agree on every day's cost to $0.000001." % len(S["by_day"]))

# what hookmeter counted and skipped
imp = open(os.path.join(out, "codex-hm-%d.out" % runs)).read() + open(os.path.join(out, "codex-hm-%d.stderr" % runs)).read()
m = re.search(r"cost records: (\d+) added, (\d+) updated, (\d+) already stored", imp)
m2 = re.search(r"Codex lines: (\d+) of an unknown type, (\d+) token_count without info, (\d+) repeating the total before", imp)
print()
print("The cases, with the numbers:")
print("- **Repeated `token_count` totals**: %s lines repeat the line before them (same total, same last usage); "
      "counted again they would add %s billed input, %s output tokens and $%.4f. Both tools count each once. "
      "hookmeter reports %s older-format lines skipped as repeating the total before; in the current format "
      "it prices `token_usage_record` and skips every `token_count`." % (
          format(c["repeated_token_count_lines"], ","), format(c["repeated_tokens"]["billed_input"], ","),
          format(c["repeated_tokens"]["output"], ","), c["repeated_cost_usd"], m2.group(3) if m2 else "?"))
print("- **Forks that carry the parent's total**: %d forks start their running total at the parent's "
      "(together %s input, %s output tokens). Both tools bill each response's own usage, not the total, so "
      "nothing of the parent is counted again." % (
          c["forks"],
          format(c["fork_carried_parent_totals"]["input"], ","), format(c["fork_carried_parent_totals"]["output"], ",")))
print("- **Forks that replay the parent's lines** (older format): %d forks copy %s lines holding %s responses "
      "($%.4f) of their parent. hookmeter keys an older-format response by its line's timestamp and thread "
      "total, so the copies find their key stored (%s already stored); ccusage also counts them once." % (
          c["replaying_forks_older_format"], format(c["replayed_lines"], ","), format(c["replayed_responses"], ","),
          c["replayed_cost_usd"], m.group(3) if m else "?"))
print("- **`info: null`**: %s generated (more in replayed copies); hookmeter counted %s, neither tool bills them." % (
    format(c["token_count_info_null"], ","), m2.group(2) if m2 else "?"))

# ---- the real rollouts
ledger = [json.loads(l) for l in open(ledger_path) if l.strip()]
L = {"billed_input": sum(x["input_tokens"] - x["cached_tokens"] for x in ledger),
     "cached_input": sum(x["cached_tokens"] for x in ledger),
     "output": sum(x["output_tokens"] for x in ledger), "reasoning": sum(x["reasoning_tokens"] for x in ledger),
     "cost": sum(list_cost(x["model"], x["input_tokens"], x["cached_tokens"], x["output_tokens"]) for x in ledger),
     "records": len(ledger)}
RC, _ = cc_load("codex-real-cc")
RH, _ = hm_load("codex-real-hm")
a, b = parse_time("codex-real-cc"), parse_time("codex-real-hm")
print()
print("The harness's real rollouts (tests/fixtures/codex/real/: text, shell, resume + fork; Codex 0.171.0), "
      "against the mock's ledger:\n")
print("| total | ledger | ccusage | hookmeter |")
print("|---|---|---|---|")
for label, k, money in (("billed input", "billed_input", 0), ("cached input", "cached_input", 0),
                        ("output", "output", 0), ("reasoning", "reasoning", 0), ("cost (USD)", "cost", 1)):
    f = (lambda v: "$%.9f" % v) if money else (lambda v: format(int(v), ","))
    print("| %s | %s | %s | %s |" % (label, f(L[k]), f(RC[k]), f(RH[k])))
print("| records | %d | (not reported) | %d |" % (L["records"], RH["records"]))
print()
print("(wall %.2f s / %.2f s, peak RSS %.1f MB / %.1f MB for ccusage / hookmeter: startup costs at this size.)" % (
    a["wall"], b["wall"], a["rss_mb"], b["rss_mb"]))
