#!/usr/bin/env bash
# Side by side: `hookmeter import` against `ccusage@20.0.24 daily --json --offline`
# on a generated corpus of Claude Code transcripts; prints a Markdown report.
#
#   bench/transcripts/run.sh                      # 1 GiB corpus (BENCH_GB=1.0)
#   BENCH_GB=0.05 bench/transcripts/run.sh        # quick run
#   BENCH_SKIP_HOOKMETER=1 bench/transcripts/run.sh   # ccusage and corpus only
#
# Environment:
#   BENCH_GB              corpus size in GiB (default 1.0)
#   BENCH_SEED            generator seed (default 1)
#   BENCH_SKIP_HOOKMETER  1 = run only the ccusage parts and the corpus check
#   HOOKMETER_BIN         binary to measure (default: target/release/hookmeter,
#                         built here with `cargo build --release`; when set,
#                         nothing is built)
#   HOOKMETER_REPORT_CMD  command printing hookmeter's per-day report (see below)
#
# Everything it writes goes to bench/out/ (git-ignored): ccusage/ (npm
# install), corpus/, home/ (an empty HOME for every run), import.db, *.time,
# *.json, report.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
HERE=$ROOT/bench/transcripts
BENCH_GB=${BENCH_GB:-1.0}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_SKIP_HOOKMETER=${BENCH_SKIP_HOOKMETER:-0}
CORPUS=$OUT/corpus
DB=$OUT/import.db
EMPTY_HOME=$OUT/home

# >>> HOOKMETER_REPORT_CMD ---------------------------------------------------
# Prints hookmeter's per-day report as JSON, in the shape of GET
# /api/costs/summary (docs/http-api.md): {"groups":[{"key":"YYYY-MM-DD","cost_usd",
# "input_tokens","output_tokens","cache_read_tokens","cache_write_tokens",
# "records"}], "total_cost_usd", ...}. Runs with TELEMETRY_DB_PATH set and
# TZ=UTC. For now a direct SQL query on the database; switch to the real
# command when it exists:
#   HOOKMETER_REPORT_CMD='"$HOOKMETER_BIN" report --period all --by day --json'
# (then check that the parser in compare() below understands its output).
# The stand-in is the sqlite3 command-line shell (a native client, the way ops
# read telemetry.db), so the figure measures the database, not an interpreter.
DEFAULT_REPORT_CMD='sqlite3 -readonly -json "$TELEMETRY_DB_PATH" "SELECT substr(timestamp,1,10) AS key, sum(estimated_cost_usd) AS cost_usd, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens, count(*) AS records FROM cost_records GROUP BY 1 ORDER BY 1"'
HOOKMETER_REPORT_CMD=${HOOKMETER_REPORT_CMD:-$DEFAULT_REPORT_CMD}
# <<< HOOKMETER_REPORT_CMD ---------------------------------------------------

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

mkdir -p "$OUT" "$EMPTY_HOME"

# ---- 0. tools ------------------------------------------------------------
for t in python3 node npm; do
    command -v "$t" >/dev/null || die "$t is required"
done
if ! command -v sqlite3 >/dev/null; then
    say "installing the sqlite3 shell"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q sqlite3 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q sqlite3 >/dev/null; }
    else
        die "sqlite3 is missing: install Debian's 'sqlite3' package"
    fi
fi
if ! /usr/bin/time -v true >/dev/null 2>&1; then
    say "installing GNU time (/usr/bin/time)"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
    else
        die "/usr/bin/time (GNU time) is missing: install Debian's 'time' package"
    fi
    /usr/bin/time -v true >/dev/null 2>&1 || die "/usr/bin/time -v does not work"
fi

# ---- 1. ccusage, pinned; 2. the corpus (bench/common.sh) -------------------
# shellcheck source=../common.sh
. "$ROOT/bench/common.sh"
ensure_ccusage
ensure_corpus "$BENCH_GB" "$BENCH_SEED"

# ---- 3. runs ---------------------------------------------------------------
# Every run: empty HOME (no other agent data, no ~/.claude), UTC days.
BASE_ENV=(env -i "PATH=$PATH" "HOME=$EMPTY_HOME" "TZ=UTC" "LANG=C.UTF-8")

# timed NAME STDOUT_FILE CMD...: /usr/bin/time -v into $OUT/NAME.time
timed() {
    local name=$1 stdout=$2
    shift 2
    local rc=0
    /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$stdout" 2>"$OUT/$name.stderr" || rc=$?
    if [ "$rc" != 0 ]; then
        say "$name exited with status $rc; stderr (bench/out/$name.stderr):"
        tail -n 20 "$OUT/$name.stderr" >&2
    fi
    return "$rc"
}

run_ccusage() {
    local name=$1
    say "$name: ccusage daily --json --offline"
    timed "$name" "$OUT/$name.json" \
        "${BASE_ENV[@]}" "CLAUDE_CONFIG_DIR=$CORPUS" node "$CC_BIN" daily --json --offline
}

if [ "$BENCH_SKIP_HOOKMETER" != 1 ] && [ -z "${HOOKMETER_BIN:-}" ]; then
    say "building target/release/hookmeter"
    cargo build --release --quiet >&2
fi
HOOKMETER_BIN=${HOOKMETER_BIN:-$ROOT/target/release/hookmeter}

RUNS=(a_ccusage)
run_ccusage a_ccusage

if [ "$BENCH_SKIP_HOOKMETER" != 1 ]; then
    # (b) hookmeter import, fresh database
    [ -x "$HOOKMETER_BIN" ] || die "step (b): $HOOKMETER_BIN is missing or not executable"
    if ! "$HOOKMETER_BIN" import --help >/dev/null 2>&1; then
        die "step (b): '$HOOKMETER_BIN import --help' fails: this build has no \`hookmeter import\` yet.
  The ccusage run (a) is in bench/out/a_ccusage.*; BENCH_SKIP_HOOKMETER=1 runs only the ccusage parts."
    fi
    rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
    say "b_import: hookmeter import"
    timed b_import "$OUT/b_import.out" \
        "${BASE_ENV[@]}" "CLAUDE_CONFIG_DIR=$CORPUS" "TELEMETRY_DB_PATH=$DB" \
        "HOOKMETER_CONFIG=$EMPTY_HOME/no-config.toml" "HOOKMETER_SOCKET=$OUT/hm.sock" \
        "HOOKMETER_SPOOL=$OUT/spool" "RUST_LOG=warn" \
        "$HOOKMETER_BIN" import || die "step (b): hookmeter import failed"
    RUNS+=(b_import)
fi

run_ccusage c_ccusage
RUNS+=(c_ccusage)

if [ "$BENCH_SKIP_HOOKMETER" != 1 ]; then
    say "d_report: HOOKMETER_REPORT_CMD"
    timed d_report "$OUT/d_report.json" \
        "${BASE_ENV[@]}" "TELEMETRY_DB_PATH=$DB" "HOOKMETER_BIN=$HOOKMETER_BIN" \
        bash -c "$HOOKMETER_REPORT_CMD" || die "step (d): the report command failed"
    RUNS+=(d_report)
fi

# ---- 4 + 5. compare and report ------------------------------------------
python3 - "$OUT" "$CORPUS/corpus-summary.json" "$BENCH_SKIP_HOOKMETER" "$CCUSAGE_VERSION" "${RUNS[@]}" <<'PY' | tee "$OUT/report.md"
import json, os, re, sqlite3, sys

out, summary_path, skip_hm, cc_version = sys.argv[1:5]
runs = sys.argv[5:]
skip_hm = skip_hm == "1"
S = json.load(open(summary_path))
MB = 1 << 20


def parse_time(name):
    t = open(os.path.join(out, name + ".time")).read()
    g = lambda pat: re.search(pat, t).group(1)
    wall = g(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {"wall": secs, "cpu": float(g(r"User time \(seconds\): (\S+)")) + float(g(r"System time \(seconds\): (\S+)")),
            "rss_mb": int(g(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024.0,
            "exit": int(g(r"Exit status: (\d+)"))}


LABEL = {
    "a_ccusage": "(a) ccusage daily --json --offline, 1st",
    "b_import": "(b) hookmeter import (fresh db)",
    "c_ccusage": "(c) ccusage daily --json --offline, 2nd",
    "d_report": "(d) hookmeter per-day report (HOOKMETER_REPORT_CMD)",
}
T = {r: parse_time(r) for r in runs}

print("## Transcript import: hookmeter vs ccusage %s\n" % cc_version)
print("Corpus: %d files (%d subagent), %.1f MiB, %s lines, %s distinct API messages, "
      "%d requests with a prompt over 200k tokens (%d on models with a long-context tier); "
      "largest file %.1f MiB. Generated with seed %s." % (
          S["files"], S["subagent_files"], S["bytes"] / MB, format(S["lines"], ","),
          format(S["api_messages"]["distinct"], ","), S["over_200k_prompt_requests"],
          S["over_200k_prompt_requests_tiered_models"], S["largest_file"]["bytes"] / MB, S["seed"]))
print()
print("| run | wall (s) | CPU user+sys (s) | peak RSS (MB) | MiB/s |")
print("|---|---|---|---|---|")
for r in runs:
    t = T[r]
    rate = "%.0f" % (S["bytes"] / MB / t["wall"]) if r != "d_report" and t["wall"] > 0 else ""
    print("| %s | %.2f | %.2f | %.1f | %s |" % (LABEL[r], t["wall"], t["cpu"], t["rss_mb"], rate))
cc = [T[r] for r in ("a_ccusage", "c_ccusage")]
cc_wall = sum(t["wall"] for t in cc) / 2
cc_rss = max(t["rss_mb"] for t in cc)
if not skip_hm:
    hb, hd = T["b_import"], T["d_report"]
    print()
    print("| ratio (ccusage / hookmeter) | wall | peak RSS |")
    print("|---|---|---|")
    ratio = lambda a, b: "%.2f×" % (a / b) if b > 0 else "n/a"
    print("| ccusage (mean of a, c) / import (b) | %s | %s |" % (ratio(cc_wall, hb["wall"]), ratio(cc_rss, hb["rss_mb"])))
    print("| ccusage (mean of a, c) / report (d) | %s | %s |" % (ratio(cc_wall, hd["wall"]), ratio(cc_rss, hd["rss_mb"])))
    print("| ccusage / (import + report) | %s | |" % ratio(cc_wall, hb["wall"] + hd["wall"]))

# ---- totals
def cc_totals(name):
    j = json.load(open(os.path.join(out, name + ".json")))
    t = j["totals"]
    days = {d.get("period") or d.get("date"): d for d in j["daily"]}
    return {"cost": t["totalCost"], "input": t["inputTokens"], "output": t["outputTokens"],
            "cache_read": t["cacheReadTokens"], "cache_write": t["cacheCreationTokens"]}, days

C, C_days = cc_totals("a_ccusage")
C2, _ = cc_totals("c_ccusage")
st = S["tokens"]
truth = {"cost_a": S["cost_usd"]["anthropic_rule"], "cost_c": S["cost_usd"]["ccusage_rule"],
         "input": st["input"], "output": st["output"], "cache_read": st["cache_read"],
         "cache_write": st["cache_write"], "cache_write_1h": st["cache_write_1h"],
         "records": S["api_messages"]["distinct"]}

H = None
if not skip_hm:
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, "import.db"), uri=True)
    row = db.execute("SELECT coalesce(sum(estimated_cost_usd),0), coalesce(sum(input_tokens),0), "
                     "coalesce(sum(output_tokens),0), coalesce(sum(cache_read_tokens),0), "
                     "coalesce(sum(cache_write_tokens),0), coalesce(sum(cache_write_1h_tokens),0), count(*) "
                     "FROM cost_records").fetchone()
    H = dict(zip(["cost", "input", "output", "cache_read", "cache_write", "cache_write_1h", "records"], row))
    H["over_200k"] = db.execute("SELECT count(*) FROM cost_records WHERE input_tokens + cache_read_tokens + "
                                "cache_write_tokens > 200000").fetchone()[0]

print()
print("| total | corpus truth | ccusage | hookmeter db | hookmeter − ccusage |")
print("|---|---|---|---|---|")
def fmt(v, money=False):
    if v is None:
        return ""
    return ("$%.4f" % v) if money else format(int(v), ",")
def diff(a, b, money=False):
    if a is None or b is None:
        return ""
    d = a - b
    return ("%+.4f" % d) if money else format(int(d), "+,")
print("| cost (USD) | %s (Anthropic rule) / %s (ccusage rule) | %s | %s | %s |" % (
    fmt(truth["cost_a"], 1), fmt(truth["cost_c"], 1), fmt(C["cost"], 1),
    fmt(H and H["cost"], 1), diff(H and H["cost"], C["cost"], 1)))
for k in ("input", "output", "cache_read", "cache_write"):
    print("| %s tokens | %s | %s | %s | %s |" % (k.replace("_", " "), fmt(truth[k]), fmt(C[k]),
                                                fmt(H and H[k]), diff(H and H[k], C[k])))
print("| cache write 1h tokens | %s | (not reported) | %s | |" % (fmt(truth["cache_write_1h"]), fmt(H and H["cache_write_1h"])))
print("| records / API messages | %s | (not reported) | %s | |" % (fmt(truth["records"]), fmt(H and H["records"])))
print("| requests with prompt > 200k | %s | | %s | |" % (fmt(S["over_200k_prompt_requests"]), fmt(H and H["over_200k"])))

notes = []
tok_ok = all(C[k] == truth[k] for k in ("input", "output", "cache_read", "cache_write"))
cost_ok = abs(C["cost"] - truth["cost_c"]) < 1e-6 * max(1, truth["cost_c"]) + 1e-4
notes.append("ccusage vs corpus truth: tokens %s, cost %s the ccusage-rule figure (diff %+.6f)." % (
    "agree" if tok_ok else "DIFFER", "matches" if cost_ok else "does NOT match", C["cost"] - truth["cost_c"]))
if C != C2:
    notes.append("WARNING: the two ccusage runs disagree.")
notes.append("Long-context rule: Anthropic bills a whole request over 200k prompt tokens at the tier; "
             "ccusage bills only the part of each token type above 200k at the tier. On this corpus "
             "that accounts for $%.4f (Anthropic − ccusage rule)." % (truth["cost_a"] - truth["cost_c"]))
if S["forks"]["sessions"]:
    notes.append("%d forked session(s) copy %d messages (%.4f USD) of other sessions under a new sessionId; "
                 "ccusage counts them once (message.id+requestId across sessions), a session-scoped key "
                 "would count them twice." % (S["forks"]["sessions"], S["forks"]["copied_messages"],
                                              S["forks"]["copied_cost_usd_anthropic_rule"]))
if H is not None:
    if all(H[k] == truth[k] for k in ("input", "output", "cache_read", "cache_write", "cache_write_1h", "records")):
        notes.append("hookmeter db vs corpus truth: every token total and the record count agree.")
    else:
        notes.append("hookmeter db vs corpus truth: DIFFER (%s)." % ", ".join(
            "%s %+d" % (k, H[k] - truth[k]) for k in ("input", "output", "cache_read", "cache_write",
                                                      "cache_write_1h", "records") if H[k] != truth[k]))
    notes.append("hookmeter cost vs Anthropic-rule truth: %+.4f USD." % (H["cost"] - truth["cost_a"]))
print()
for n in notes:
    print("- " + n)

# ---- days whose costs differ
if H is not None:
    rep = json.load(open(os.path.join(out, "d_report.json")))
    groups = rep["groups"] if isinstance(rep, dict) and "groups" in rep else rep
    H_days = {}
    for g in groups:
        key = g.get("key") or g.get("day") or g.get("period")
        H_days[str(key)[:10]] = float(g.get("cost_usd", g.get("cost", 0)) or 0)
    rows = []
    for day in sorted(set(H_days) | set(C_days)):
        c = float(C_days[day]["totalCost"]) if day in C_days else 0.0
        h = H_days.get(day, 0.0)
        if abs(h - c) > 0.005:
            bd = S["by_day"].get(day, {})
            rows.append((day, c, h, h - c, bd.get("over_200k", 0), bd.get("over_200k_tiered", 0),
                         bd.get("cost_anthropic_rule", 0) - bd.get("cost_ccusage_rule", 0),
                         bd.get("fork_copied_cost_anthropic_rule", 0)))
    print()
    if not rows:
        print("No day differs by more than $0.005 between ccusage and hookmeter's report (%d days)." % len(C_days))
    else:
        print("Days whose cost differs by more than $0.005 (%d of %d):\n" % (len(rows), len(C_days)))
        print("| day (UTC) | ccusage | hookmeter | hookmeter − ccusage | >200k requests (on tiered models) "
              "| long-context rule accounts for | fork copies (if counted twice) |")
        print("|---|---|---|---|---|---|---|")
        for d, c, h, dd, o, ot, e, fk in rows:
            print("| %s | $%.4f | $%.4f | %+.4f | %d (%d) | %+.4f | %+.4f |" % (d, c, h, dd, o, ot, e, fk))
PY
