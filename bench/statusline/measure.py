#!/usr/bin/env python3
"""Time `hookmeter statusline` against `ccusage statusline`, fed the same
Claude Code statusline JSON; print a Markdown report. Called by
bench/statusline/run.sh (see there).

Each timed call is what Claude Code does after a message: spawn the
command, write the JSON to its stdin, read its one line, wait for it to
exit. The variants run interleaved, a round each in turn, so they see the
same machine load:
  * hookmeter on the database `hookmeter import` made of the corpus;
  * hookmeter on the 10M-record database;
  * ccusage on the corpus, with its output cache off (`--no-cache`): the
    answer after a new message, when the transcript has changed;
  * ccusage with its defaults (its cache on, refreshed each second).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time


def pct(sorted_ms, p):
    """The sample at (n - 1) * p rounded half up, as bench/reports/measure.py."""
    return sorted_ms[int(math.floor((len(sorted_ms) - 1) * p + 0.5))]


def statusline_input(template, session_id, transcript, cwd, model):
    data = json.load(open(template))
    data["session_id"] = session_id
    data["transcript_path"] = transcript
    data["cwd"] = cwd
    data["workspace"]["current_dir"] = cwd
    data["workspace"]["project_dir"] = cwd
    data["model"] = {"id": model, "display_name": model}
    return json.dumps(data).encode()


def call(argv, env, stdin):
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - start) * 1000
    return ms, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--cc-bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--small-db", required=True)
    ap.add_argument("--big-db", required=True)
    ap.add_argument("--big-session", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()

    summary = json.load(open(os.path.join(a.corpus, "corpus-summary.json")))
    transcript = os.path.join(a.corpus, summary["largest_file"]["path"])
    session = os.path.splitext(os.path.basename(transcript))[0]
    cwd = "/home/dev/src/ml-pipeline"
    corpus_input = statusline_input(a.template, session, transcript, cwd, "claude-sonnet-4-5")
    big_input = statusline_input(a.template, a.big_session, "/nonexistent.jsonl", cwd, "claude-sonnet-4-5")

    home = os.path.join(a.work, "home")
    os.makedirs(home, exist_ok=True)
    config = os.path.join(a.work, "config.toml")
    open(config, "w").close()
    base = {"PATH": os.environ["PATH"], "HOME": home, "TZ": "UTC", "LANG": "C.UTF-8"}

    def hookmeter_env(db):
        return dict(base, HOOKMETER_CONFIG=config, TELEMETRY_DB_PATH=db,
                    HOOKMETER_SPOOL=os.path.join(a.work, "spool"),
                    HOOKMETER_SOCKET=os.path.join(a.work, "hm.sock"))

    cc_env = dict(base, CLAUDE_CONFIG_DIR=a.corpus)
    variants = [
        ("hookmeter, corpus database", [a.bin, "statusline", "--plain"], hookmeter_env(a.small_db), corpus_input),
        ("hookmeter, 10M-record database", [a.bin, "statusline", "--plain"], hookmeter_env(a.big_db), big_input),
        ("ccusage --no-cache, corpus", ["node", a.cc_bin, "statusline", "--offline", "--no-cache"], cc_env, corpus_input),
        ("ccusage (defaults: cache on), corpus", ["node", a.cc_bin, "statusline", "--offline"], cc_env, corpus_input),
    ]
    times = {name: [] for name, *_ in variants}
    first = {}
    for rep in range(a.warmup + a.reps):
        for k in range(len(variants)):
            name, argv, env, stdin = variants[(rep + k) % len(variants)]
            ms, done = call(argv, env, stdin)
            line = done.stdout.decode(errors="replace").strip()
            if done.returncode != 0 or not line:
                sys.exit(f"{name}: exit {done.returncode}, output {line!r}, stderr {done.stderr.decode(errors='replace')[-400:]!r}")
            first.setdefault(name, line)
            if rep >= a.warmup:
                times[name].append(ms)
        print(f"== round {rep + 1} of {a.warmup + a.reps}", file=sys.stderr, flush=True)

    stats = {}
    for name in times:
        s = sorted(times[name])
        stats[name] = (pct(s, 0.5), pct(s, 0.95), sum(s) / len(s))
    hm_small, hm_big = "hookmeter, corpus database", "hookmeter, 10M-record database"
    print(f"{a.reps} timed calls of each (after {a.warmup} untimed rounds), interleaved; wall time per call, ms.\n")
    print("| command | p50 | p95 | mean | p50 ÷ hookmeter (corpus) | p95 ÷ hookmeter (corpus) |")
    print("|---|---|---|---|---|---|")
    for name, (p50, p95, mean) in stats.items():
        r50 = p50 / stats[hm_small][0]
        r95 = p95 / stats[hm_small][1]
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {mean:.1f} | {r50:.2f}× | {r95:.2f}× |")
    print()
    big50, big95 = stats[hm_big][0] / stats[hm_small][0], stats[hm_big][1] / stats[hm_small][1]
    print(f"hookmeter, 10M-record database ÷ corpus database: p50 {big50:.2f}×, p95 {big95:.2f}× (target: within 2×).")
    for cc in ("ccusage --no-cache, corpus", "ccusage (defaults: cache on), corpus"):
        print(f"{cc} ÷ hookmeter (corpus): p50 {stats[cc][0] / stats[hm_small][0]:.1f}×, p95 {stats[cc][1] / stats[hm_small][1]:.1f}× (target: ≥ 20×).")
    print("\nFirst line each printed:\n")
    for name, line in first.items():
        print(f"- {name}: `{line}`")


if __name__ == "__main__":
    main()
