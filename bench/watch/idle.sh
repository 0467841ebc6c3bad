#!/usr/bin/env bash
# An idle daemon stays idle with the watch on: CPU time used over a minute of
# no input, with 1,000 transcripts (200 projects, 800 sessions, 200 subagent
# files) under the root, for transcripts.watch = false, true and "scan".
#
#   bench/watch/idle.sh                     # builds target/release/hookmeter
#   HOOKMETER_BIN=/path/to/hookmeter IDLE_SECS=120 bench/watch/idle.sh
#
# CPU is the process's user + system time from /proc/PID/stat (threads that
# ended included), in clock ticks. The minute starts 15 s after the daemon,
# once the first walk has read every file. Everything goes to
# bench/out/watch-idle/ (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/watch-idle
IDLE_SECS=${IDLE_SECS:-60}
FIXTURE=$ROOT/tests/fixtures/claude/projects/-home-dev-shop/s-session-1.jsonl
BIN=${HOOKMETER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --bin hookmeter -q)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/hookmeter
fi

one() { # $1: name, $2: the value of transcripts.watch
    local h=$OUT/$1
    rm -rf "$h"
    mkdir -p "$h/.claude/projects"
    for p in $(seq 1 200); do
        local d=$h/.claude/projects/-home-dev-p$p
        mkdir -p "$d/s$p/subagents"
        for s in 1 2 3 4; do
            # Complete lines only, each session its own ids.
            sed "s/s-session-1/s-$p-$s/g; s/msg_/msg_${p}_${s}_/g" "$FIXTURE" | head -n -1 >"$d/s$s.jsonl"
        done
        cp "$d/s1.jsonl" "$d/s$p/subagents/agent-a$p.jsonl"
    done
    printf '[transcripts]\nwatch = %s\n' "$2" >"$h/config.toml"
    env -i PATH="$PATH" HOME="$h" HOOKMETER_CONFIG="$h/config.toml" TELEMETRY_DB_PATH="$h/t.db" \
        HOOKMETER_SOCKET="$h/hm.sock" HOOKMETER_SPOOL="$h/spool" HOOKMETER_HTTP=off RUST_LOG=warn \
        "$BIN" serve 2>"$h/log" &
    local pid=$!
    sleep 15
    local ticks before after
    ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
    before=$(ticks)
    sleep "$IDLE_SECS"
    after=$(ticks)
    printf '| `watch = %s` | %s | %s ms |\n' "$2" \
        "$(sqlite3 -readonly "$h/t.db" 'SELECT count(*) FROM cost_records')" \
        "$(((after - before) * 1000 / $(getconf CLK_TCK)))"
    kill -TERM "$pid"
    wait "$pid" || true
}

mkdir -p "$OUT"
echo "| setting | records | CPU over ${IDLE_SECS} s idle |"
echo "|---|---|---|"
one off false &
one notify true &
one scan '"scan"' &
wait
