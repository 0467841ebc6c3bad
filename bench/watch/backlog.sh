#!/usr/bin/env bash
# What a large backlog costs the watch, and whether a live session waits for it.
#
#   bench/watch/backlog.sh                  # 0.5 GB corpus, builds target/release/hookmeter
#   BENCH_GB=0.1 bench/watch/backlog.sh     # quicker
#   HOOKMETER_BIN=/path/to/hookmeter bench/watch/backlog.sh
#
# A daemon with no hooks starts over a generated corpus of Claude Code
# transcripts (bench/transcripts/gen_corpus.py, regenerated only when its size
# or seed changes) named as its transcript root. While it reads the backlog, a
# new session is written into a new project directory, one line; the time
# until that line's record is stored is the live latency during the backlog.
# Then: time until every record is stored, records and tokens against the
# corpus's ground truth, the daemon's peak RSS (GNU time), and a second start
# over the same files (everything already read: a stat per file).
# Everything goes to bench/out/watch/ (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/watch
BENCH_GB=${BENCH_GB:-0.5}
BENCH_SEED=${BENCH_SEED:-1}
CORPUS=$OUT/corpus-$BENCH_GB-$BENCH_SEED
mkdir -p "$OUT"
say() { printf 'backlog.sh: %s\n' "$*" >&2; }

BIN=${HOOKMETER_BIN:-}
if [ -z "$BIN" ]; then
    say "building target/release/hookmeter"
    (cd "$ROOT" && cargo build --release --bin hookmeter -q)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/hookmeter
fi
[ -f "$CORPUS/corpus-summary.json" ] || {
    say "generating a $BENCH_GB GB corpus"
    rm -rf "$CORPUS"
    python3 "$ROOT/bench/transcripts/gen_corpus.py" "$CORPUS" --gb "$BENCH_GB" --seed "$BENCH_SEED" >&2
}
command -v sqlite3 >/dev/null || { say "sqlite3 is required"; exit 2; }
/usr/bin/time -v true >/dev/null 2>&1 || { say "GNU time (/usr/bin/time) is required"; exit 2; }

HOME_DIR=$OUT/home
LIVE=$OUT/live
run_daemon() { # $1: name of the run
    env -i PATH="$PATH" HOME="$HOME_DIR" TZ=UTC \
        HOOKMETER_CONFIG="$HOME_DIR/config.toml" TELEMETRY_DB_PATH="$OUT/watch.db" \
        HOOKMETER_SOCKET="$HOME_DIR/hm.sock" HOOKMETER_SPOOL="$HOME_DIR/spool" \
        HOOKMETER_HTTP=off RUST_LOG=warn \
        /usr/bin/time -v -o "$OUT/$1.time" "$BIN" serve 2>"$OUT/$1.stderr" &
    DAEMON=$!
}
records() { sqlite3 -readonly "$OUT/watch.db" "SELECT count(*) FROM cost_records" 2>/dev/null || echo 0; }
now() { date +%s.%N; }
stop_daemon() {
    pkill -TERM -P "$DAEMON" 2>/dev/null || true # the hookmeter under GNU time
    wait "$DAEMON" || true
}

rm -rf "$HOME_DIR" "$LIVE" "$OUT"/watch.db*
mkdir -p "$HOME_DIR" "$LIVE"
printf '[transcripts]\nroots = ["%s", "%s"]\nwatch = true\n' "$CORPUS/projects" "$LIVE" >"$HOME_DIR/config.toml"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_messages"]["distinct"])' "$CORPUS/corpus-summary.json")

say "first start: the whole corpus is a backlog"
t0=$(now)
run_daemon first
until [ "$(records)" -gt 0 ]; do sleep 0.05; done
t_first=$(now)
# A live session starts while the backlog is being read.
mkdir -p "$LIVE/-home-me-live"
t_live=$(now)
printf '%s\n' '{"type":"assistant","sessionId":"s-live","cwd":"/home/me/live","message":{"id":"msg_live","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":10,"output_tokens":5}},"requestId":"req_live","timestamp":"2026-12-06T10:00:00.000Z"}' \
    >"$LIVE/-home-me-live/s-live.jsonl"
until [ "$(sqlite3 -readonly "$OUT/watch.db" "SELECT count(*) FROM cost_records WHERE session_id='s-live'" 2>/dev/null || echo 0)" = 1 ]; do sleep 0.02; done
t_live_done=$(now)
backlog_at_live=$(records)
until [ "$(records)" -ge $((want + 1)) ]; do
    sleep 0.2
    kill -0 "$DAEMON" 2>/dev/null || { say "the daemon died"; cat "$OUT/first.stderr" >&2; exit 1; }
done
t_done=$(now)
stop_daemon

say "second start: every file read before"
run_daemon second
sleep 5 # nothing to wait for: the records are all there; give the start walk time
stop_daemon

python3 - "$OUT" "$CORPUS/corpus-summary.json" "$t0" "$t_first" "$t_live" "$t_live_done" "$t_done" "$backlog_at_live" <<'PY' | tee "$OUT/report.md"
import json, os, re, sqlite3, sys
out, summary, t0, t_first, t_live, t_live_done, t_done, at_live = sys.argv[1:]
t0, t_first, t_live, t_live_done, t_done = map(float, (t0, t_first, t_live, t_live_done, t_done))
S = json.load(open(summary))
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, "watch.db"), uri=True)
n, inp, outp, cr, cw = db.execute(
    "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens) "
    "FROM cost_records WHERE session_id != 's-live'").fetchone()
def gnu_time(name):
    text = open(os.path.join(out, name + ".time")).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    return rss, cpu
rss1, cpu1 = gnu_time("first")
rss2, cpu2 = gnu_time("second")
st = S["tokens"]
print("| | value |")
print("|---|---|")
print("| corpus | %.2f GB, %s files |" % (S["bytes"] / 1e9, format(S["files"], ",")))
print("| backlog read (start to the last record) | %.1f s (%.0f MB/s) |" % (t_done - t0, S["bytes"] / 1e6 / (t_done - t0)))
print("| first record after start | %.2f s |" % (t_first - t0))
print("| a live session's line written during the backlog, until stored | %.2f s (%s of %s records stored then) |"
      % (t_live_done - t_live, format(int(at_live), ","), format(S["api_messages"]["distinct"], ",")))
print("| records / API messages in the corpus | %s / %s |" % (format(n, ","), format(S["api_messages"]["distinct"], ",")))
ok = (inp, outp, cr, cw) == (st["input"], st["output"], st["cache_read"], st["cache_write"])
print("| tokens (input, output, cache read, cache write) equal the corpus's | %s |" % ("yes" if ok else "NO"))
print("| peak RSS, first start | %.1f MB |" % (rss1 / 1024))
print("| CPU, first start (user + system) | %.1f s |" % cpu1)
print("| second start over the same files: CPU, peak RSS | %.2f s, %.1f MB |" % (cpu2, rss2 / 1024))
PY
