#!/usr/bin/env bash
# Side by side: `hookmeter import --agent opencode` against
# `ccusage@20.0.24 opencode daily --json --offline` on a generated OpenCode
# database (and on the real databases in tests/fixtures/opencode/real/);
# prints a Markdown report.
#
#   bench/opencode/run.sh                          # 256 MiB database, 3 rounds
#   BENCH_MB=20 BENCH_RUNS=1 bench/opencode/run.sh # quick run
#
# Environment:
#   BENCH_MB       database size in MiB (default 256)
#   BENCH_SEED     generator seed (default 1)
#   BENCH_RUNS     alternating rounds, each one ccusage run then one import
#                  into a fresh database (default 3)
#   HOOKMETER_BIN  binary to measure (default: target/release/hookmeter, built
#                  here with `cargo build --release`; when set, nothing is built)
#
# Where each tool looks: hookmeter in $XDG_DATA_HOME/opencode (opencode.db and
# storage/message/), ccusage in $OPENCODE_DATA_DIR (default
# ~/.local/share/opencode: opencode.db, else opencode-<channel>.db, and
# storage/message/**/*.json). Both are pointed at the same directory.
#
# Everything it writes goes to bench/out/ (git-ignored): ccusage/ (npm install,
# shared with bench/codex and bench/gemini), opencode-corpus/ (an
# XDG_DATA_HOME: opencode/opencode.db, opencode/storage/…), opencode-real/
# (the fixtures' databases merged into one), home/ (an empty HOME for every
# run), opencode-*.db, opencode-*.time, opencode-*.json, opencode-report.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
HERE=$ROOT/bench/opencode
CCUSAGE_VERSION=20.0.24
BENCH_MB=${BENCH_MB:-256}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_RUNS=${BENCH_RUNS:-3}
CORPUS=$OUT/opencode-corpus
REAL=$OUT/opencode-real
EMPTY_HOME=$OUT/home

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

mkdir -p "$OUT" "$EMPTY_HOME"

# ---- 0. tools ------------------------------------------------------------
for t in python3 node npm; do
    command -v "$t" >/dev/null || die "$t is required"
done
if ! /usr/bin/time -v true >/dev/null 2>&1; then
    say "installing GNU time (/usr/bin/time)"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
    else
        die "/usr/bin/time (GNU time) is missing: install Debian's 'time' package"
    fi
fi

# ---- 1. ccusage, pinned (the same install as bench/codex) -----------------
CC_DIR=$OUT/ccusage
CC_PKG=$CC_DIR/node_modules/ccusage/package.json
installed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$CC_PKG" 2>/dev/null || true)
if [ "$installed" != "$CCUSAGE_VERSION" ]; then
    say "installing ccusage@$CCUSAGE_VERSION into bench/out/ccusage"
    mkdir -p "$CC_DIR"
    npm install --prefix "$CC_DIR" --no-audit --no-fund --loglevel=error "ccusage@$CCUSAGE_VERSION" >&2
fi
CC_BIN=$CC_DIR/node_modules/ccusage/$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["bin"]; print(b if isinstance(b,str) else b["ccusage"])' "$CC_PKG")
# ccusage 20 is a Node wrapper that spawns a native (Rust) binary from an
# optional dependency; `ccusage opencode daily` is a subcommand of that binary
node "$CC_BIN" opencode daily --help >/dev/null 2>&1 || die "ccusage opencode does not run (native optional dependency missing? rm -rf bench/out/ccusage and retry)"

# ---- 2. corpora ------------------------------------------------------------
same_corpus() {
    python3 - "$CORPUS/corpus-summary.json" "$BENCH_MB" "$BENCH_SEED" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if abs(float(s["mb"]) - float(sys.argv[2])) < 1e-9 and int(s["seed"]) == int(sys.argv[3]) else 1)
PY
}
if same_corpus; then
    say "corpus: reusing bench/out/opencode-corpus (mb=$BENCH_MB seed=$BENCH_SEED)"
else
    say "corpus: generating $BENCH_MB MiB into bench/out/opencode-corpus"
    rm -rf "$CORPUS"
    python3 "$HERE/gen_corpus.py" "$CORPUS" --mb "$BENCH_MB" --seed "$BENCH_SEED" >&2
fi
# the harness's real databases, merged into one (their sessions are distinct)
rm -rf "$REAL"
mkdir -p "$REAL/opencode"
: >"$REAL/ledger.jsonl"
python3 - "$REAL/opencode/opencode.db" "$ROOT"/tests/fixtures/opencode/real/*/dump.sql <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for i, path in enumerate(sys.argv[2:]):
    sql = open(path).read()
    if i:  # the schema once; rows shared by every dump (the global project) once
        sql = re.sub(r"CREATE TABLE .*?\n\s*\);", "", sql, flags=re.S)
        sql = sql.replace("INSERT INTO ", "INSERT OR IGNORE INTO ")
    db.executescript(sql)
db.close()
PY
for s in "$ROOT"/tests/fixtures/opencode/real/*/; do
    cat "$s/ledger.jsonl" >>"$REAL/ledger.jsonl"
done

# ---- 3. runs ---------------------------------------------------------------
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

run_ccusage() { # NAME DATA_HOME
    say "$1: ccusage opencode daily --json --offline"
    timed "$1" "$OUT/$1.json" "${BASE_ENV[@]}" "OPENCODE_DATA_DIR=$2/opencode" \
        node "$CC_BIN" opencode daily --json --offline
}

run_import() { # NAME DATA_HOME: into a fresh $OUT/NAME.db
    local db=$OUT/$1.db
    rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
    say "$1: hookmeter import --agent opencode"
    timed "$1" "$OUT/$1.out" "${BASE_ENV[@]}" "XDG_DATA_HOME=$2" "TELEMETRY_DB_PATH=$db" \
        "HOOKMETER_CONFIG=$EMPTY_HOME/no-config.toml" "HOOKMETER_SOCKET=$OUT/hm.sock" \
        "HOOKMETER_SPOOL=$OUT/spool" "RUST_LOG=warn" \
        "$HOOKMETER_BIN" import --agent opencode
}

if [ -z "${HOOKMETER_BIN:-}" ]; then
    say "building target/release/hookmeter"
    cargo build --release --quiet >&2
fi
HOOKMETER_BIN=${HOOKMETER_BIN:-$ROOT/target/release/hookmeter}
[ -x "$HOOKMETER_BIN" ] || die "$HOOKMETER_BIN is missing or not executable"

for i in $(seq 1 "$BENCH_RUNS"); do
    # alternate, so a noisy neighbour hurts both
    run_ccusage "opencode-cc-$i" "$CORPUS"
    run_import "opencode-hm-$i" "$CORPUS" || die "hookmeter import failed"
done
# keep one database (the last) for the comparison
for i in $(seq 1 $((BENCH_RUNS - 1))); do
    rm -f "$OUT/opencode-hm-$i.db"*
done
run_ccusage opencode-real-cc "$REAL"
run_import opencode-real-hm "$REAL" || die "hookmeter import (real databases) failed"

# ---- 4. compare and report ------------------------------------------------
python3 "$HERE/report.py" "$OUT" "$CORPUS/corpus-summary.json" "$REAL/ledger.jsonl" \
    "$CCUSAGE_VERSION" "$BENCH_RUNS" | tee "$OUT/opencode-report.md"
