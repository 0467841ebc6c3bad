#!/usr/bin/env bash
# Fleet end-to-end test (docs/fleet.md).
#
# Three hookmeter daemons, each on its own loopback port and database, get
# different known loads. A real Prometheus scrapes them with the config and
# recording rules of deploy/prometheus/, and what it answers must equal the
# three databases (check.py): the fleet's cost, by model, agent and provider
# (daemon c caps its labels at 2, so its later values are `other`), tokens by
# type, records, events; hookmeter_info; the rules loaded. Then daemon a
# restarts: the sums must agree after the next scrape, and again after more
# load, when the rules' series and every query of deploy/grafana/hookmeter.json
# must answer too.
#
# Usage: tests/fleet/run.sh
#   HOOKMETER_BIN  the binary (default: $CARGO_TARGET_DIR/debug/hookmeter,
#                  or target/debug/hookmeter); this script builds nothing
#   KEEP=1         keep the temp dir (databases, logs, Prometheus's config)
# Needs python3 and Debian's prometheus package (prometheus, promtool).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac
bin=${HOOKMETER_BIN:-$target_dir/debug/hookmeter}
started=$SECONDS

for tool in prometheus promtool; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then
            echo "fleet end-to-end: FAIL: $tool is not on PATH and CI is set: CI must install Debian's prometheus package" >&2
            exit 1
        fi
        echo "fleet end-to-end: SKIPPED: $tool is not on PATH (Debian package prometheus)"
        exit 0
    fi
done
command -v python3 >/dev/null 2>&1 || { echo "fleet end-to-end: FAIL: python3 is not on PATH" >&2; exit 1; }
[ -x "$bin" ] || { echo "fleet end-to-end: FAIL: no hookmeter binary at $bin (cargo build, or set HOOKMETER_BIN)" >&2; exit 1; }

check() { python3 "$here/check.py" "$@"; }
now() { date +%s.%N; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hmfleet.XXXXXX")
declare -A pid=() port=() sent=()
prom_pid=

# Stops one process this script started: SIGTERM, then SIGKILL after 10 s.
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

cleanup() {
    local status=$?
    for p in "${pid[@]}" $prom_pid; do stop "$p"; done
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*/daemon.log "$work/prometheus/prometheus.log"; do
            [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
        done
        echo "fleet end-to-end: FAIL ($((SECONDS - started)) s)"
    fi
    if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== promtool on deploy/prometheus/"
promtool check rules "$repo/deploy/prometheus/rules.yml"
promtool check config "$repo/deploy/prometheus/prometheus.yml"

# ---- three daemons ----------------------------------------------------------

read -r port[a] port[b] port[c] prom_port < <(check ports 4)

# The environment of daemon NAME's host, in `host`: its own HOME, config,
# database, socket and spool, nothing from this script's environment.
host_env() {
    local dir=$work/$1
    host=(env -i PATH="$PATH" HOME="$dir" HOOKMETER_CONFIG="$dir/config.toml"
        TELEMETRY_DB_PATH="$dir/telemetry.db" HOOKMETER_SOCKET="$dir/hm.sock"
        HOOKMETER_SPOOL="$dir/spool" HOOKMETER_HTTP="127.0.0.1:${port[$1]}"
        HOOKMETER_SEND_TIMEOUT_MS=5000 RUST_LOG=info)
}

# `hookmeter ARGS...` on daemon NAME's host.
hm() {
    local host
    host_env "$1"
    shift
    "${host[@]}" "$bin" "$@"
}

start_daemon() {
    local name=$1 host
    host_env "$name"
    # A simple command in the background: its pid is the daemon's (env execs it).
    "${host[@]}" "$bin" serve </dev/null >>"$work/$name/daemon.log" 2>&1 &
    pid[$name]=$!
    check wait-ready "http://127.0.0.1:${port[$name]}/healthz" "${pid[$name]}"
}

mkdir -p "$work/a" "$work/b" "$work/c"
cat >"$work/a/config.toml" <<'EOF'
# Budgets, for the budget gauges and the burn-rate rule.
[[budgets]]
daily = 5
weekly = 20
monthly = 60

[[budgets]]
scope = "agent:codex"
daily = 1
EOF
: >"$work/b/config.toml"
cat >"$work/c/config.toml" <<'EOF'
# A cap the load below exceeds: later models, agents and providers are `other`.
[metrics]
max_label_values = 2
EOF

for name in a b c; do
    sent[$name]=0
    start_daemon "$name"
done
echo "== daemons a, b, c on 127.0.0.1 ports ${port[a]}, ${port[b]}, ${port[c]}"

# Usage in three vendors' shapes, as the payload member it is.
anthropic() { echo "\"usage\":{\"input_tokens\":$1,\"output_tokens\":$2,\"cache_read_input_tokens\":$3,\"cache_creation_input_tokens\":$4}"; }
openai() { echo "\"usage\":{\"input_tokens\":$1,\"input_tokens_details\":{\"cached_tokens\":$2},\"output_tokens\":$3,\"output_tokens_details\":{\"reasoning_tokens\":$4}}"; }
gemini() { echo "\"usageMetadata\":{\"promptTokenCount\":$1,\"cachedContentTokenCount\":$2,\"candidatesTokenCount\":$3,\"thoughtsTokenCount\":$4}"; }

# feed NAME AGENT MODEL USAGE [DAYS_AGO]: one event, one cost record, sent the
# way a hook sends it.
feed() {
    local name=$1 agent=$2 model=$3 usage=$4 stamp=
    [ -n "${5:-}" ] && stamp="\"timestamp\":\"$(date -u -d "-$5 days" +%Y-%m-%dT%H:%M:%SZ)\","
    sent[$name]=$((sent[$name] + 1))
    printf '{"hook_event_name":"PostToolUse","hook_event_id":"fleet-%s-%d","session_id":"s-%s-%s","tool_name":"Bash","model":"%s",%s%s}' \
        "$name" "${sent[$name]}" "$name" "$agent" "$model" "$stamp" "$usage" |
        hm "$name" send --agent "$agent"
}

feed a claude-code claude-sonnet-4-5 "$(anthropic 1200 300 5000 800)"
feed a claude-code claude-sonnet-4-5 "$(anthropic 3400 1200 42000 0)"
feed a codex gpt-5 "$(openai 10000 8000 700 400)"
feed a codex gpt-5 "$(openai 25000 0 3100 1800)"

feed b gemini-cli gemini-2.5-pro "$(gemini 4000 1000 200 100)"
feed b gemini-cli gemini-2.5-pro "$(gemini 90000 60000 1500 900)"
feed b gemini-cli gemini-2.5-flash "$(gemini 12000 0 800 0)"
feed b claude-code claude-sonnet-4-5 "$(anthropic 800 150 20000 3000)"
printf 'not a payload' | hm b send --agent gemini-cli # kept in rejected_events

# Days apart, so which values came first is plain whatever the daemon ranks
# by: claude-sonnet-4-5, gpt-5; claude-code, codex; anthropic, openai keep
# their labels.
feed c claude-code claude-sonnet-4-5 "$(anthropic 2000 500 10000 0)" 6
feed c codex gpt-5 "$(openai 8000 2000 900 300)" 5
feed c gemini-cli gemini-2.5-pro "$(gemini 30000 0 1200 400)" 4
feed c my-agent claude-haiku-4-5 "$(anthropic 5000 700 0 1000)" 3
feed c claude-code gpt-5-mini "$(openai 40000 10000 2500 1000)" 2
feed c gemini-cli claude-sonnet-4-5 "$(anthropic 700 90 0 0)" 1
feed c codex gpt-5 "$(openai 1500 0 200 0)"

for name in a b c; do check wait-records "$work/$name/telemetry.db" "${sent[$name]}"; done
echo "== fed ${sent[a]}, ${sent[b]} (+1 unusable), ${sent[c]} events"

# ---- Prometheus -------------------------------------------------------------

prom=$work/prometheus
mkdir -p "$prom/targets"
check derive-config "$repo/deploy/prometheus/prometheus.yml" "$prom/prometheus.yml"
cp "$repo/deploy/prometheus/rules.yml" "$prom/rules.yml"
cat >"$prom/targets/fleet.json" <<EOF
[
  {"targets": ["127.0.0.1:${port[a]}", "127.0.0.1:${port[b]}"], "labels": {"team": "platform"}},
  {"targets": ["127.0.0.1:${port[c]}"], "labels": {"team": "research"}}
]
EOF
promtool check config "$prom/prometheus.yml"

cat >"$work/state.json" <<EOF
{
  "prometheus": "http://127.0.0.1:$prom_port",
  "job": "hookmeter",
  "version": "$("$bin" --version | awk '{print $2}')",
  "rules": "$repo/deploy/prometheus/rules.yml",
  "dashboard": "$repo/deploy/grafana/hookmeter.json",
  "daemons": [
    {"name": "a", "instance": "127.0.0.1:${port[a]}", "db": "$work/a/telemetry.db", "cap": 50},
    {"name": "b", "instance": "127.0.0.1:${port[b]}", "db": "$work/b/telemetry.db", "cap": 50},
    {"name": "c", "instance": "127.0.0.1:${port[c]}", "db": "$work/c/telemetry.db", "cap": 2}
  ]
}
EOF

prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn \
    </dev/null >"$prom/prometheus.log" 2>&1 &
prom_pid=$!
check wait-ready "http://127.0.0.1:$prom_port/-/ready" "$prom_pid"
echo "== prometheus $(prometheus --version 2>&1 | awk 'NR==1{print $3}') on 127.0.0.1:$prom_port"

check wait-scrape "$work/state.json" "$(now)"
check check "$work/state.json" "three daemons, first scrapes"

# ---- a restart --------------------------------------------------------------

stop_status=0
kill -TERM "${pid[a]}"
wait "${pid[a]}" || stop_status=$?
unset 'pid[a]'
[ "$stop_status" -eq 0 ] || { echo "FAIL: daemon a exited $stop_status on SIGTERM" >&2; exit 1; }
check check-down "$work/state.json" a
start_daemon a
check wait-scrape "$work/state.json" "$(now)"
check check "$work/state.json" "daemon a restarted, next scrape" --restarted a

feed a claude-code claude-haiku-4-5 "$(anthropic 9000 2000 0 4000)"
feed a codex gpt-5 "$(openai 15000 5000 1200 600)"
feed a my-agent gpt-5-mini "$(openai 7000 0 900 200)"
check wait-records "$work/a/telemetry.db" "${sent[a]}"
check wait-scrape "$work/state.json" "$(now)"
check check "$work/state.json" "more load on daemon a after its restart" --restarted a --final

echo "fleet end-to-end: PASS ($((SECONDS - started)) s)"
