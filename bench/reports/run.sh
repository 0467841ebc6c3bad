#!/usr/bin/env bash
# Reading the data (issue 4): `hookmeter report` and the HTTP API on a
# generated database of 10M cost records over 90 days, side by side with the
# sqlite3 shell doing the same work over the base table; prints a Markdown
# report (p50/p95 of each read, its target, the ratio to sqlite3).
#
#   bench/reports/run.sh                          # 10M records (generated once, then cached)
#   BENCH_RECORDS=1000000 bench/reports/run.sh    # quick run on a smaller database
#   HOOKMETER_BIN=/path/to/hookmeter bench/reports/run.sh   # measure a given binary, no build
#
# Environment:
#   BENCH_RECORDS   records in the database (default 10000000)
#   BENCH_DAYS      days they span, ending when generated (default 90)
#   BENCH_SEED      generator seed (default 1)
#   BENCH_REPS      timed runs of each query (default 30), after BENCH_WARMUP (default 2)
#   BENCH_MAX_AGE_HOURS  regenerate the database when its data ends longer ago
#                   than this (default 24): "this month" and "the last 30 days"
#                   move with the clock, the data does not
#   BENCH_REFERENCE 0 = skip the reference table (same SQL on an open connection)
#   BENCH_SESSION_REPS  timed runs of each request of the session table, every
#                   range x sort x page 1 and a deep page, and `hookmeter sessions`
#                   (default 10)
#   BENCH_SESSION_BASE_REPS  timed runs of each of their sqlite3 GROUP BY
#                   baselines (default 3)
#   HOOKMETER_BIN   binary to measure (default: target/release/hookmeter, built
#                   here with `cargo build --release`; when set, nothing is built)
#   BENCH_GENERATE_ONLY  1 = make sure the database is there, measure nothing
#
# A step the binary cannot do yet (no `report` subcommand, no HTTP listener, an
# /api endpoint answering 404) is reported as skipped; the sqlite3 baselines
# are measured regardless.
#
# Everything it writes goes to bench/out/reports/ (git-ignored): telemetry.db
# and meta.json (the generated database, reused while the generator,
# schema.sql, the arguments and the clock allow), gen.log, last/ (the first
# output of every query, serve.stderr) and report.md. The daemon's socket,
# spool and HOME live in a temporary directory removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/reports
OUT=$ROOT/bench/out/reports
BENCH_RECORDS=${BENCH_RECORDS:-10000000}
BENCH_DAYS=${BENCH_DAYS:-90}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_REPS=${BENCH_REPS:-30}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_MAX_AGE_HOURS=${BENCH_MAX_AGE_HOURS:-24}
BENCH_REFERENCE=${BENCH_REFERENCE:-1}
DB=$OUT/telemetry.db
META=$OUT/meta.json

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

mkdir -p "$OUT"

# ---- 0. tools ------------------------------------------------------------
command -v python3 >/dev/null || die "python3 is required"
if ! command -v sqlite3 >/dev/null; then
    say "installing the sqlite3 shell"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q sqlite3 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q sqlite3 >/dev/null; }
    else
        die "sqlite3 is missing: install Debian's 'sqlite3' package"
    fi
fi

# ---- 1. the database, generated once ---------------------------------------
# Reused when meta.json says it came from this generator and this schema.sql
# with these arguments, and its data is recent enough.
same_db() {
    [ -f "$DB" ] || return 1
    python3 - "$META" "$HERE/gen_db.py" "$ROOT/schema.sql" "$ROOT/src/store/rollup_fill.sql" "$ROOT/src/store/rollup_daily_fill.sql" "$ROOT/src/store/session_fill.sql" "$BENCH_RECORDS" "$BENCH_DAYS" "$BENCH_SEED" "$BENCH_MAX_AGE_HOURS" <<'PY' 2>/dev/null
import hashlib, json, sys
from datetime import datetime, timezone
meta, gen, schema, fill, daily_fill, session_fill, records, days, seed, max_age = sys.argv[1:11]
m = json.load(open(meta))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
end = datetime.fromisoformat(m["window"]["to"].replace("Z", "+00:00"))
age_h = (datetime.now(timezone.utc) - end).total_seconds() / 3600
ok = (m["generator_sha256"] == sha(gen) and m["schema_sha256"] == sha(schema)
      and m.get("rollup_fill_sha256") == sha(fill)
      and m.get("daily_fill_sha256") == sha(daily_fill)
      and m.get("session_fill_sha256") == sha(session_fill)
      and m["args"]["records"] == int(records) and m["args"]["days"] == int(days)
      and m["args"]["seed"] == int(seed) and age_h <= float(max_age))
sys.exit(0 if ok else 1)
PY
}
if same_db; then
    say "database: reusing bench/out/reports/telemetry.db (records=$BENCH_RECORDS days=$BENCH_DAYS seed=$BENCH_SEED)"
else
    say "database: generating $BENCH_RECORDS records over $BENCH_DAYS days into bench/out/reports (progress in bench/out/reports/gen.log)"
    rm -f "$DB" "$DB-wal" "$DB-shm" "$META"
    python3 "$HERE/gen_db.py" --records "$BENCH_RECORDS" --days "$BENCH_DAYS" --seed "$BENCH_SEED" \
        --out "$DB" --meta "$META" 2> >(tee "$OUT/gen.log" >&2) >/dev/null \
        || die "the generator failed (bench/out/reports/gen.log)"
fi

# Other benches use the same database (bench/statusline/run.sh): they stop here.
if [ "${BENCH_GENERATE_ONLY:-0}" = 1 ]; then
    exit 0
fi

# ---- 2. the binary -----------------------------------------------------------
if [ -z "${HOOKMETER_BIN:-}" ]; then
    say "building target/release/hookmeter"
    cargo build --release --quiet >&2
fi
HOOKMETER_BIN=${HOOKMETER_BIN:-$ROOT/target/release/hookmeter}
[ -x "$HOOKMETER_BIN" ] || die "$HOOKMETER_BIN is missing or not executable"

# ---- 3. measure and report ------------------------------------------------------
WORK=$(mktemp -d -t hm-reports.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT/last"
python3 "$HERE/measure.py" --db "$DB" --meta "$META" --bin "$HOOKMETER_BIN" --work "$WORK" \
    --out-dir "$OUT/last" --reps "$BENCH_REPS" --warmup "$BENCH_WARMUP" --reference "$BENCH_REFERENCE" \
    --session-reps "${BENCH_SESSION_REPS:-10}" --session-base-reps "${BENCH_SESSION_BASE_REPS:-3}" \
    | tee "$OUT/report.md"
