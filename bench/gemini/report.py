#!/usr/bin/env python3
"""The Markdown report of bench/gemini/run.sh (see its header for the files).

    report.py OUT_DIR CORPUS_SUMMARY REAL_LEDGER CCUSAGE_VERSION RUNS
"""

import json
import os
import re
import sqlite3
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus import cost as list_cost  # noqa: E402  (the generator's prices, from the facts file)

out, summary_path, ledger_path, cc_version, runs = sys.argv[1:6]
runs = int(runs)
S = json.load(open(summary_path))
MB = 1 << 20


def parse_time(name):
    t = open(os.path.join(out, name + ".time")).read()
    g = lambda pat: re.search(pat, t).group(1)  # noqa: E731
    secs = 0.0
    for part in g(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)").split(":"):
        secs = secs * 60 + float(part)
    return {"wall": secs, "cpu": float(g(r"User time \(seconds\): (\S+)")) + float(g(r"System time \(seconds\): (\S+)")),
            "rss_mb": int(g(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024.0}


def cc_tokens(d):
    # ccusage's inputTokens is input - cached + tool; outputTokens leaves the
    # thoughts out (it prices them as output) and totalTokens puts them back
    thoughts = d["totalTokens"] - d["inputTokens"] - d["outputTokens"] - d["cacheReadTokens"]
    return {"billed_input": d["inputTokens"], "cached_input": d["cacheReadTokens"], "output": d["outputTokens"],
            "thoughts": thoughts, "cost": d.get("totalCost", d.get("costUSD"))}


def cc_load(name):
    j = json.load(open(os.path.join(out, name + ".json")))
    return cc_tokens(j["totals"]), {d["date"]: cc_tokens(d) for d in j["daily"]}


def hm_load(name):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, name + ".db"), uri=True)
    q = ("SELECT coalesce(sum(input_tokens),0), coalesce(sum(cache_read_tokens),0), "
         "coalesce(sum(output_tokens - reasoning_tokens),0), coalesce(sum(reasoning_tokens),0), "
         "coalesce(sum(estimated_cost_usd),0), count(*) FROM cost_records")
    keys = ["billed_input", "cached_input", "output", "thoughts", "cost", "records"]
    tot = dict(zip(keys, db.execute(q).fetchone()))
    days = {}
    for row in db.execute(q.replace("FROM cost_records", ", substr(timestamp,1,10) FROM cost_records GROUP BY 7")):
        days[row[6]] = dict(zip(keys, row[:6]))
    return tot, days


def truth(t):
    return {"billed_input": t["billed_input"], "cached_input": t["cached_input"], "output": t["output"],
            "thoughts": t["thoughts"], "cost": t["cost_usd"], "records": t["messages"]}


print("## Gemini CLI chat logs: hookmeter import vs ccusage %s gemini\n" % cc_version)
c = S["cases"]
f = S["files"]
print("Corpus (`bench/gemini/gen_corpus.py`, seed %s): %d sessions in %d projects, %.1f MiB, %s lines, "
      "%s billed messages; files: %d session JSONL, %d older single-JSON, %d JSONL conversions of those, "
      "%d subagent logs, %d stray header-only files. Cases: %s messages written again with their `toolCalls`, "
      "%d first writes with `tokens: null`, %d resumes (the header again, %s model messages copied by "
      "`$set.messages`, %s of them with their tokens), %d gemini-2.5-pro / gemini-3-pro-preview calls over "
      "200,000 prompt tokens, %d older `.json` sessions of which %d were resumed (converted to `.jsonl`: "
      "%s billed messages there again)." % (
          S["seed"], S["sessions"], S["projects"], S["bytes"] / MB, format(S["lines"], ","),
          format(S["messages"], ","), f["jsonl"], f["json"], f["converted_jsonl"], f["subagent"], f["stray"],
          format(c["rewritten_with_tool_calls"], ","), c["null_tokens_first_write"], c["resumes"],
          format(c["resume_copies"], ","), format(c["resume_copies_with_tokens"], ","), c["long_context_calls"],
          c["json_sessions"], c["converted_json_sessions"], format(c["converted_copies"], ",")))
print()
print("| round | ccusage wall (s) | hookmeter wall (s) | ratio | ccusage CPU (s) | hookmeter CPU (s) "
      "| ccusage peak RSS (MB) | hookmeter peak RSS (MB) |")
print("|---|---|---|---|---|---|---|---|")
ratios, cc_rss, hm_rss, cc_w, hm_w = [], [], [], [], []
for i in range(1, runs + 1):
    a, b = parse_time("gemini-cc-%d" % i), parse_time("gemini-hm-%d" % i)
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
      "Median wall: ccusage %.2f s, hookmeter %.2f s (%.0f MiB/s). Peak RSS: hookmeter at most %.1f MB, "
      "ccusage at most %.1f MB." % (
          runs, statistics.median(ratios), min(ratios), max(ratios), statistics.median(cc_w),
          statistics.median(hm_w), S["bytes"] / MB / statistics.median(hm_w), max(hm_rss), max(cc_rss)))

C, C_days = cc_load("gemini-cc-%d" % runs)
H, H_days = hm_load("gemini-hm-%d" % runs)
T = truth(dict(S["tokens"], cost_usd=S["cost_usd"], messages=S["messages"]))
print()
print("| total | generator truth | ccusage | hookmeter | hookmeter − truth | ccusage − truth |")
print("|---|---|---|---|---|---|")


def row(label, k, money=False):
    fm = (lambda v: "$%.6f" % v) if money else (lambda v: format(int(v), ","))
    d = (lambda v: "%+.6f" % v) if money else (lambda v: format(int(v), "+,"))
    cv = C.get(k)
    print("| %s | %s | %s | %s | %s | %s |" % (label, fm(T[k]), "" if cv is None else fm(cv), fm(H[k]),
                                             d(H[k] - T[k]), "" if cv is None else d(cv - T[k])))


row("billed input tokens (input − cached + tool)", "billed_input")
row("cached input tokens", "cached_input")
row("output tokens (thoughts apart)", "output")
row("thoughts tokens (billed as output)", "thoughts")
row("cost (USD)", "cost", True)
print("| records (billed messages) | %s | (not reported) | %s | %s | |" % (
    format(T["records"], ","), format(H["records"], ","), format(H["records"] - T["records"], "+,")))

# every day: where a tool differs from the truth, and the cases that explain it
rows = []
for day in sorted(set(C_days) | set(H_days) | set(S["by_day"])):
    sd = S["by_day"].get(day)
    t = sd["cost_usd"] if sd else 0.0
    cc = C_days[day]["cost"] if day in C_days else 0.0
    hm = H_days[day]["cost"] if day in H_days else 0.0
    if abs(cc - t) > 1e-6 or abs(hm - t) > 1e-6:
        rows.append((day, t, cc, hm, sd["converted_copies_cost_usd"] if sd else 0.0,
                     sd["long_context_calls"] if sd else 0))
print()
if rows:
    print("Days where a tool differs from the truth by more than $0.000001 (%d of %d):\n" % (len(rows), len(S["by_day"])))
    print("| day (UTC) | truth | ccusage | hookmeter | converted copies there | long-context calls that day |")
    print("|---|---|---|---|---|---|")
    for d, t, cc, hm, conv, lc in rows:
        print("| %s | $%.6f | $%.6f (%+.6f) | $%.6f (%+.6f) | $%.6f | %d |" % (d, t, cc, cc - t, hm, hm - t, conv, lc))
else:
    print("Per day (%d UTC days): ccusage, hookmeter and the truth agree on every day's cost to $0.000001." % len(S["by_day"]))

imp = open(os.path.join(out, "gemini-hm-%d.out" % runs)).read() + open(os.path.join(out, "gemini-hm-%d.stderr" % runs)).read()
m = re.search(r"cost records: (\d+) added, (\d+) updated, (\d+) already stored", imp)
conv = c["converted_copies_cost_usd"]

# per model: ccusage's cost against the truth, the converted copies set apart
cc_models = {}
for d in json.load(open(os.path.join(out, "gemini-cc-%d.json" % runs)))["daily"]:
    for mb in d["modelBreakdowns"]:
        x = cc_models.setdefault(mb["modelName"], {"cost": 0.0, "rows": []})
        x["cost"] += mb["cost"]
        x["rows"].append((mb["inputTokens"], mb["cacheReadTokens"], mb["outputTokens"], mb["cost"]))
hm_models = dict(sqlite3.connect("file:%s?mode=ro" % os.path.join(out, "gemini-hm-%d.db" % runs), uri=True).execute(
    "SELECT model, sum(estimated_cost_usd) FROM cost_records GROUP BY model").fetchall())


def fit_rates(rows):
    """Least squares of cost = input*a + cached*b + output*c (a model without thoughts)."""
    n = [[0.0] * 4 for _ in range(3)]
    for r in rows:
        v = [float(r[0]), float(r[1]), float(r[2])]
        for i in range(3):
            for k in range(3):
                n[i][k] += v[i] * v[k]
            n[i][3] += v[i] * r[3]
    for i in range(3):
        p = n[i][i] or 1.0
        n[i] = [x / p for x in n[i]]
        for k in range(3):
            if k != i:
                f = n[k][i]
                n[k] = [a - f * b for a, b in zip(n[k], n[i])]
    return [n[i][3] * 1e6 for i in range(3)]


print()
print("| model | truth | ccusage | hookmeter | converted copies | ccusage − truth − copies |")
print("|---|---|---|---|---|---|")
residual = {}
for model, bm in S["by_model"].items():
    cc = cc_models.get(model, {"cost": 0.0})["cost"]
    residual[model] = cc - bm["cost_usd"] - bm["converted_copies_cost_usd"]
    print("| %s | $%.6f | $%.6f | $%.6f | $%.6f | %+.6f |" % (model, bm["cost_usd"], cc, hm_models.get(model, 0.0),
                                                           bm["converted_copies_cost_usd"], residual[model]))
print()
print("Where they differ, and why:")
print("- **An older `.json` session resumed** (the resume case): a newer CLI converts `session-….json` to "
      "`session-….jsonl`, header and every message copied, and the older file stays beside it. %d such sessions "
      "hold %s billed messages ($%.6f) twice. ccusage keeps the last write of a message id within one file only, "
      "so it counts the copies again; hookmeter keys a message by session and message id (`gemini:<session>:<id>`), "
      "so the copy is the same record (%s found already stored)." % (
          c["converted_json_sessions"], format(c["converted_copies"], ","), conv, m.group(3) if m else "?"))
for model, r in sorted(residual.items()):
    if abs(r) > 1e-6:
        bm = S["by_model"][model]
        note = ""
        if bm["thoughts"] == 0 and len(cc_models[model]["rows"]) >= 3:
            a, b, cc_ = fit_rates(cc_models[model]["rows"])
            note = (" Fitted on ccusage's %d daily rows for it, its rates are $%.4f / $%.4f / $%.4f per 1M input / "
                    "cached / output tokens." % (len(cc_models[model]["rows"]), a, b, cc_))
        print("- **%s priced differently**: ccusage's embedded (`--offline`) price differs from the facts file "
              "the truth and hookmeter use (%+.6f on the same tokens).%s" % (model, r, note))
print("- **Long-context calls**: %d calls had a prompt (input + tool) over 200,000 tokens on a model with a "
      "long-context tier ($%.6f in the truth). Both tools bill the whole request at the `_above_200k_tokens` "
      "rates, as Google does: no residual on those models." % (c["long_context_calls"], c["long_context_cost_usd"]))
print("- **Resumes in JSONL** (%d): the header again and `$set.messages` copying %s model messages under the "
      "resume's timestamp (%s with their tokens). ccusage reads no `$set` line; hookmeter reads the copies but "
      "finds each message's key stored and keeps its first timestamp, so no day moves. %d stray header-only "
      "files add nothing to either." % (c["resumes"], format(c["resume_copies"], ","),
                                        format(c["resume_copies_with_tokens"], ","), c["stray_header_files"]))
print("- **Same id written twice** (%s, the second with `toolCalls`) and **`tokens: null` first writes** (%d): both "
      "tools count the message once with its tokens (%s records updated in hookmeter)." % (
          format(c["rewritten_with_tool_calls"], ","), c["null_tokens_first_write"], m.group(2) if m else "?"))
print("- **Thoughts**: both bill them as output; ccusage's `outputTokens` leaves them out (its `totalTokens` has "
      "them), hookmeter's `output_tokens` includes them and `reasoning_tokens` is their share.")

# ---- the real chat logs
ledger = [json.loads(x) for x in open(ledger_path) if x.strip()]


def led_cost(x):
    return list_cost(x["model"], {"input": x["prompt_tokens"], "cached": x["cached_tokens"],
                                  "output": x["candidates_tokens"], "thoughts": x["thoughts_tokens"],
                                  "tool": x["tool_use_prompt_tokens"]})


L = {"billed_input": sum(x["prompt_tokens"] - x["cached_tokens"] + x["tool_use_prompt_tokens"] for x in ledger),
     "cached_input": sum(x["cached_tokens"] for x in ledger),
     "output": sum(x["candidates_tokens"] for x in ledger), "thoughts": sum(x["thoughts_tokens"] for x in ledger),
     "cost": sum(led_cost(x) for x in ledger), "records": len(ledger),
     "mock_cost": sum(x["cost_usd"] for x in ledger)}
RC, _ = cc_load("gemini-real-cc")
RH, _ = hm_load("gemini-real-hm")
a, b = parse_time("gemini-real-cc"), parse_time("gemini-real-hm")
print()
print("The harness's real chat logs (tests/fixtures/gemini/real/: text, thinking (a 230,000-token prompt), tool, "
      "resume; Gemini CLI 0.61.0), against the mock's ledger:\n")
print("| total | ledger | ccusage | hookmeter |")
print("|---|---|---|---|")
for label, k, money in (("billed input", "billed_input", 0), ("cached input", "cached_input", 0),
                        ("output", "output", 0), ("thoughts", "thoughts", 0), ("cost (USD)", "cost", 1)):
    fm = (lambda v: "$%.9f" % v) if money else (lambda v: format(int(v), ","))  # noqa: E731
    print("| %s | %s | %s | %s |" % (label, fm(L[k]), fm(RC[k]), fm(RH[k])))
print("| records | %d | (not reported) | %d |" % (L["records"], RH["records"]))
print()
print("(The mock's own `cost_usd` sums to $%.9f. Wall %.2f s / %.2f s, peak RSS %.1f MB / %.1f MB for "
      "ccusage / hookmeter: startup costs at this size.)" % (L["mock_cost"], a["wall"], b["wall"], a["rss_mb"],
                                                          b["rss_mb"]))
