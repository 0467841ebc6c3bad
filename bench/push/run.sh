#!/usr/bin/env bash
# Push benchmarks (BENCHMARKS.md, "Push to PostgreSQL"), all in one run
# against one throwaway local PostgreSQL cluster (Debian's server binaries,
# in a temp dir, fsync off, as the postgres user when run as root):
#
#  1. catch-up: `hookmeter push --once` (release build) of a generated
#     database of BENCH_PUSH_RECORDS (default 1,000,000) records into the
#     empty central schema, records/s; against a bulk `COPY` (psql \copy,
#     CSV over loopback) of the same rows, exported from the central table
#     beforehand, into an identical table (LIKE … INCLUDING ALL: the same
#     columns, primary key and indexes) on the same server;
#  2. ingest with the push on against off: `cargo bench --bench ingest` with
#     BENCH_PUSH_URL set (benches/ingest.rs part (f)), once per size in
#     BENCH_PUSH_EVENTS: a burst and sustained ingestion (below).
#
# Usage: bench/push/run.sh
#   BENCH_PUSH_RECORDS  records in the generated database (default 1000000)
#   BENCH_PUSH_DB       use this database (made by bench/reports/gen_db.py)
#                       instead of generating one under bench/out/push/
#   BENCH_PUSH_EVENTS   events per run of part 2, one size after the other
#                       (default "200000 1000000")
#   BENCH_PUSH_ROUNDS   alternating on/off rounds of part 2 (default 3)
#   SKIP_INGEST=1       only part 1
#   SKIP_CATCHUP=1      only part 2
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
records=${BENCH_PUSH_RECORDS:-1000000}
say() { echo "bench/push: $*" >&2; }
die() { echo "bench/push: $*" >&2; exit 1; }

pg=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)"
pg=$(dirname "$pg")
as_user=()
[ "$(id -u)" = 0 ] && as_user=(runuser -u postgres --)

cargo build --release >&2
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
bin=$target_dir/release/hookmeter

out=$root/bench/out/push
mkdir -p "$out"
db=${BENCH_PUSH_DB:-$out/telemetry-$records.db}
if [ -z "${SKIP_CATCHUP:-}" ] && [ ! -f "$db" ]; then
    say "generating $db ($records records)"
    python3 bench/reports/gen_db.py --records "$records" --out "$db" --meta "$out/meta-$records.json" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hmpushbench.XXXXXX")
chmod 755 "$work"
pg_up=
cleanup() {
    [ -n "$pg_up" ] && "${as_user[@]}" "$pg/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=bench-$RANDOM$RANDOM
mkdir -p "$work/pg"
printf '%s\n' "$password" >"$work/pg/pw"
[ "${#as_user[@]}" -gt 0 ] && chown -R postgres "$work/pg"
"${as_user[@]}" "$pg/initdb" -D "$work/pg/data" -U hookmeter --auth=scram-sha-256 \
    --pwfile "$work/pg/pw" --no-sync >/dev/null
"${as_user[@]}" "$pg/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w start \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_size=4GB" >/dev/null
pg_up=1
url="postgres://hookmeter:$password@127.0.0.1:$port/postgres?sslmode=disable"
sql() { PGPASSWORD=$password "$pg/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U hookmeter -d postgres "$@"; }
now() { date +%s.%N; }
PG_VERSION=$("$pg/postgres" --version | awk '{print $3}')

# ---- 1. catch-up against COPY -----------------------------------------------

catch_up() {
    cp "$db" "$work/telemetry.db"
    local_env=(env HOME="$work" HOOKMETER_CONFIG="$work/none.toml" TELEMETRY_DB_PATH="$work/telemetry.db"
        HOOKMETER_PUSH_URL="$url")
    "${local_env[@]}" "$bin" push --init >&2
    pending=$(sqlite3 "$work/telemetry.db" "SELECT count(*) FROM cost_records WHERE rev > 0")
    [ "$pending" = "$records" ] || die "$pending of $records rows have a change number: regenerate the database with this gen_db.py"
    say "push --once of $records records"
    # The server's CPU: its backends' time, added to the postmaster's
    # children's time (/proc stat fields 16 and 17) once they exit.
    postmaster=$(head -n 1 "$work/pg/data/postmaster.pid")
    server_cpu() { awk '{print $16 + $17}' "/proc/$postmaster/stat"; }
    s0=$(server_cpu)
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$work/push.cpu" "${local_env[@]}" "$bin" push --once >&2
    t1=$(now)
    sleep 1 # the push's backend exits after the client disconnects
    s1=$(server_cpu)
    push_cpu=$(awk '{print $1 + $2}' "$work/push.cpu")
    server_cpu=$(awk -v a="$s0" -v b="$s1" -v hz="$(getconf CLK_TCK)" 'BEGIN {print (b - a) / hz}')
    central=$(sql -c "SELECT count(*) FROM hookmeter.cost_records")
    [ "$central" = "$records" ] || die "$central records centrally after push --once, not $records"

    sql -c "\\copy hookmeter.cost_records TO '$work/rows.csv' WITH (FORMAT csv)"
    sql -c "CREATE TABLE public.copy_target (LIKE hookmeter.cost_records INCLUDING ALL)"
    say "COPY of the same $records rows"
    t2=$(now)
    sql -c "\\copy public.copy_target FROM '$work/rows.csv' WITH (FORMAT csv)"
    t3=$(now)
    copied=$(sql -c "SELECT count(*) FROM public.copy_target")
    [ "$copied" = "$records" ] || die "$copied rows copied, not $records"
    rm -f "$work/rows.csv" "$work/telemetry.db"

    python3 - "$records" "$t0" "$t1" "$t2" "$t3" "$PG_VERSION" "$push_cpu" "$server_cpu" <<'EOF'
import sys
n = int(sys.argv[1]); t0, t1, t2, t3 = map(float, sys.argv[2:6])
push_cpu, server_cpu = float(sys.argv[7]), float(sys.argv[8])
push, copy = n / (t1 - t0), n / (t3 - t2)
print(f"## Push catch-up ({n:,} records, PostgreSQL {sys.argv[6]} on loopback, fsync off)\n")
print("| measure | records/s | time (s) |")
print("|---|---|---|")
print(f"| hookmeter push --once (batch 1000) | {push:,.0f} | {t1 - t0:.1f} |")
print(f"| COPY of the same rows into an identical table | {copy:,.0f} | {t3 - t2:.1f} |")
print(f"| push ÷ COPY | {100 * push / copy:.0f} % (target ≥ 30 %) | |")
print(f"\nCPU of the push --once: hookmeter {push_cpu:.1f} s ({1e6 * push_cpu / n:.1f} µs per record), "
      f"the server {server_cpu:.1f} s ({1e6 * server_cpu / n:.1f} µs per record)")
EOF
}

if [ -z "${SKIP_CATCHUP:-}" ]; then
    catch_up
else
    env HOME="$work" HOOKMETER_CONFIG="$work/none.toml" TELEMETRY_DB_PATH="$work/init.db" \
        HOOKMETER_PUSH_URL="$url" "$bin" push --init >&2
fi

# ---- 2. ingest with the push on ---------------------------------------------

# Once per size in BENCH_PUSH_EVENTS: a burst shorter than the push's
# max_delay (5 s), during which the push waits for the writer to go quiet,
# and a run of sustained ingestion several times longer, during which it
# still sends every max_delay. The central table is emptied before each
# size and must then hold every record of that size's push-on runs.
if [ -z "${SKIP_INGEST:-}" ]; then
    rounds=${BENCH_PUSH_ROUNDS:-3}
    for events in ${BENCH_PUSH_EVENTS:-200000 1000000}; do
        sql -c "TRUNCATE hookmeter.cost_records"
        echo
        BENCH_PUSH_URL=$url BENCH_EVENTS=$events BENCH_PUSH_ROUNDS=$rounds cargo bench --bench ingest
        central=$(sql -c "SELECT count(*) FROM hookmeter.cost_records")
        echo
        echo "central records after the push-on runs of $events events: $central"
        [ "$central" = "$((rounds * events))" ] || die "$central central records, not $rounds × $events"
    done
fi
