#!/usr/bin/env bash
# Push end-to-end test (docs/push.md#proven).
#
# A throwaway PostgreSQL cluster (Debian's server binaries, in a temp dir, as
# the postgres user when run as root) and three hookmeter daemons, each with
# its own database, pushing to it. feed.py sends each daemon traffic the whole
# time: hook events with usage over the socket (the spool while the daemon is
# down), Claude Code transcripts appended live, and larger snapshots of
# records already stored. Meanwhile: the server is stopped and started again;
# daemon b (batches of 5) is killed with SIGKILL while it pushes and
# restarted; daemon c starts with a wrong port and is restarted with the right
# one. Then the feeders stop, and check.py waits until the central table
# equals the union of the three databases (row for row, costs to 1e-9), and
# checks: no record key twice, every record the feeders sent there at its
# largest snapshot, each machine's user, the team's total and the
# daily_spend view's sum per user equal to the local sums.
#
# Usage: tests/push/run.sh
#   HOOKMETER_BIN  the binary (default: $CARGO_TARGET_DIR/debug/hookmeter,
#                  or target/debug/hookmeter); this script builds nothing
#   KEEP=1         keep the temp dir (databases, logs, the cluster)
# Needs python3 and Debian's postgresql package (initdb, pg_ctl, psql).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac
bin=${HOOKMETER_BIN:-$target_dir/debug/hookmeter}
started=$SECONDS

skip_or_fail() {
    if [ -n "${CI:-}" ]; then
        echo "push end-to-end: FAIL: $1, and CI is set: CI must install it" >&2
        exit 1
    fi
    echo "push end-to-end: SKIPPED: $1"
    exit 0
}
pg=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg" ] || skip_or_fail "no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)"
pg=$(dirname "$pg")
as_user=()
if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || skip_or_fail "running as root and there is no postgres user"
    as_user=(runuser -u postgres --)
fi
command -v python3 >/dev/null 2>&1 || { echo "push end-to-end: FAIL: python3 is not on PATH" >&2; exit 1; }
[ -x "$bin" ] || { echo "push end-to-end: FAIL: no hookmeter binary at $bin (cargo build, or set HOOKMETER_BIN)" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

check() { python3 "$here/check.py" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hmpush.XXXXXX")
chmod 755 "$work"
declare -A pid=() port=() feeder=()
pg_up=

stop() {
    local p=$1
    kill -TERM "$p" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

pg_ctl() { "${as_user[@]}" "$pg/pg_ctl" -D "$work/pg/data" "$@" >/dev/null; }
pg_start() {
    pg_ctl -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off" -l "$work/pg/log" -w start
    pg_up=1
}
pg_stop() {
    pg_ctl -m fast -w stop
    pg_up=
}

cleanup() {
    local status=$?
    touch "$work/stop"
    for p in "${feeder[@]}" "${pid[@]}"; do stop "$p"; done
    [ -n "$pg_up" ] && pg_stop
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*/daemon.log "$work/pg/log"; do
            [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
        done
        echo "push end-to-end: FAIL ($((SECONDS - started)) s)"
    fi
    if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the server -------------------------------------------------------------

read -r port[a] port[b] port[c] pg_port wrong_port < <(check ports 5)
password=push-e2e-$RANDOM$RANDOM
mkdir -p "$work/pg"
printf '%s\n' "$password" >"$work/pg/pw"
[ "${#as_user[@]}" -gt 0 ] && chown -R postgres "$work/pg"
"${as_user[@]}" "$pg/initdb" -D "$work/pg/data" -U hookmeter --auth=scram-sha-256 \
    --pwfile "$work/pg/pw" --no-sync >/dev/null
pg_start
url="postgres://hookmeter:$password@127.0.0.1:$pg_port/postgres?sslmode=disable"
echo "== PostgreSQL $("$pg/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

# ---- three daemons ----------------------------------------------------------

host_env() {
    local dir=$work/$1
    host=(env -i PATH="$PATH" HOME="$dir" HOOKMETER_CONFIG="$dir/config.toml"
        TELEMETRY_DB_PATH="$dir/telemetry.db" HOOKMETER_SOCKET="$dir/hm.sock"
        HOOKMETER_SPOOL="$dir/spool" HOOKMETER_HTTP="127.0.0.1:${port[$1]}"
        HOOKMETER_OTLP_GRPC=off HOOKMETER_SEND_TIMEOUT_MS=5000 RUST_LOG=info)
}

hm() {
    local host
    host_env "$1"
    shift
    "${host[@]}" "$bin" "$@"
}

start_daemon() {
    local name=$1 host
    host_env "$name"
    "${host[@]}" "$bin" serve </dev/null >>"$work/$name/daemon.log" 2>&1 &
    pid[$name]=$!
    check wait-ready "http://127.0.0.1:${port[$name]}/healthz" "${pid[$name]}"
}

# config NAME USER PORT BATCH: daemon NAME's config, pushing to PORT.
config() {
    cat >"$work/$1/config.toml" <<EOF
[push]
postgres = "postgres://hookmeter:$password@127.0.0.1:$3/postgres?sslmode=disable"
user = "$2"
batch = $4
backoff_min_ms = 200
backoff_max_ms = 2000
# The feed never pauses long enough for the writer to go quiet: a pass at
# least every 300 ms, so that the outage and the kill land mid-push.
max_delay_ms = 300
[push.labels]
team = "e2e"
EOF
}

mkdir -p "$work/a" "$work/b" "$work/c"
config a ann "$pg_port" 1000
config b bob "$pg_port" 5
config c cy "$wrong_port" 1000
hm a push --init
for name in a b c; do start_daemon "$name"; done
echo "== daemons a, b, c (c pushing to the wrong port $wrong_port)"

cat >"$work/state.json" <<EOF
{
  "team_report": ["$bin", "report", "--team", "$url", "--period", "all", "--by", "user", "--json"],
  "psql": ["env", "PGPASSWORD=$password", "$pg/psql", "-X", "-A", "-t", "-F", "\t",
           "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "$pg_port", "-U", "hookmeter",
           "-d", "postgres", "-c"],
  "daemons": [
    {"name": "a", "user": "ann", "db": "$work/a/telemetry.db", "ledger": "$work/a/ledger.json"},
    {"name": "b", "user": "bob", "db": "$work/b/telemetry.db", "ledger": "$work/b/ledger.json"},
    {"name": "c", "user": "cy", "db": "$work/c/telemetry.db", "ledger": "$work/c/ledger.json"}
  ]
}
EOF

feed() {
    local name=$1 host
    host_env "$name"
    "${host[@]}" python3 "$here/feed.py" "$name" "$bin" "$work/stop" "$work/$name/ledger.json" \
        </dev/null 2>>"$work/$name/feed.log" &
    feeder[$name]=$!
}
for name in a b c; do feed "$name"; done
echo "== feeding the three daemons (hook events, transcripts, larger snapshots)"
check wait-central "$work/state.json" a
check wait-central "$work/state.json" b

# ---- faults, while the traffic goes on ---------------------------------------

echo "== the server stops for 4 s mid-stream"
pg_stop
sleep 4
for name in a b; do
    grep -q "Push failed" "$work/$name/daemon.log" ||
        { echo "push end-to-end: FAIL: daemon $name logged no failed push while the server was down" >&2; exit 1; }
done
pg_start
check wait-central "$work/state.json" b

echo "== daemon b killed with SIGKILL mid-push (batches of 5), restarted 2 s later"
kill -KILL "${pid[b]}"
wait "${pid[b]}" 2>/dev/null || true
unset 'pid[b]'
sleep 2
start_daemon b

sleep 3
echo "== daemon c's port fixed, c restarted"
grep -q "connect" "$work/c/daemon.log" || { echo "push end-to-end: FAIL: daemon c logged no connect error on the wrong port" >&2; exit 1; }
config c cy "$pg_port" 1000
stop "${pid[c]}"
unset 'pid[c]'
start_daemon c

sleep 4
touch "$work/stop"
for name in a b c; do
    wait "${feeder[$name]}" || { echo "push end-to-end: FAIL: feeder $name exited $?" >&2; exit 1; }
    unset "feeder[$name]"
done
echo "== feeders stopped; waiting for the central table to equal the three databases"
check converge "$work/state.json"

echo "push end-to-end: PASS ($((SECONDS - started)) s)"
