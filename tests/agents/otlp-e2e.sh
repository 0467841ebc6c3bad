#!/usr/bin/env bash
# The second real client against the real daemon: for each captured agent
# export (Claude Code, Codex, Gemini CLI: text and a tool call each),
# otel_client.py (the Python OpenTelemetry SDK's own exporters, pinned in
# requirements-otel.txt) sends its usage events over http/protobuf, http/json
# and gRPC, each run to a fresh daemon and database; the records must then
# equal the capture's ledger, each request once (Claude Code's by request id;
# Codex's and Gemini CLI's, which carry no id, as a set of token counts), read
# with python3's sqlite3, read-only. One line per run; exit 1 on any mismatch.
#
#   tests/agents/otlp-e2e.sh
#   HOOKMETER_BIN  the binary (default: build it with cargo, debug)
#   KEEP=1         keep the temp dir
# Needs python3 with venv; creates tests/agents/.venv (pip from PyPI) when
# it is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fixtures=$repo/tests/fixtures/otel
captures="claude/text claude/tools codex/text codex/shell gemini/text gemini/tool"
protocols="http/protobuf http/json grpc"

if [ -z "${HOOKMETER_BIN:-}" ]; then
    target_dir=${CARGO_TARGET_DIR:-target}
    case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac
    (cd "$repo" && cargo build --quiet --bin hookmeter)
    HOOKMETER_BIN=$target_dir/debug/hookmeter
fi
[ -x "$HOOKMETER_BIN" ] || { echo "otlp e2e: FAIL: no hookmeter binary at $HOOKMETER_BIN" >&2; exit 1; }

py=$here/.venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c 'import opentelemetry.exporter.otlp.proto.grpc' 2>/dev/null; then
    echo "== otlp e2e: creating tests/agents/.venv (requirements-otel.txt from PyPI)"
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-otel.txt"
fi

work=$(mktemp -d)
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The address after "$2 listening on " in the log $1, once it is there.
address() {
    local line
    for _ in $(seq 200); do
        line=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -o "$2 listening on [^ ]*" | head -1 || true)
        if [ -n "$line" ]; then
            line=${line##* }
            echo "${line%.}"
            return 0
        fi
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "otlp e2e: FAIL: no \"$2 listening on\" line in $1:" >&2
    cat "$1" >&2
    return 1
}

failed=0
for capture in $captures; do
    for protocol in $protocols; do
        run=$work/${capture//\//-}-${protocol//\//-}
        mkdir -p "$run/home"
        : >"$run/daemon.log"
        # A temp HOME: the daemon's watch of the agents' log roots finds
        # nothing, so the records come from the exports alone.
        env -i PATH="$PATH" HOME="$run/home" \
            HOOKMETER_CONFIG="$run/config.toml" TELEMETRY_DB_PATH="$run/telemetry.db" \
            HOOKMETER_SOCKET="$run/hookmeter.sock" HOOKMETER_SPOOL="$run/spool" \
            HOOKMETER_HTTP=127.0.0.1:0 HOOKMETER_OTLP_GRPC=127.0.0.1:0 RUST_LOG=info \
            "$HOOKMETER_BIN" serve </dev/null >/dev/null 2>"$run/daemon.log" &
        daemon_pid=$!
        if [ "$protocol" = grpc ]; then
            addr=$(address "$run/daemon.log" "OTLP/gRPC")
        else
            addr=$(address "$run/daemon.log" "HTTP API")
        fi
        if ! "$py" "$here/otel_client.py" --endpoint "http://$addr" --protocol "$protocol" \
            --fixture "$fixtures/$capture/json" --usage-only >"$run/client.out" 2>&1; then
            echo "otlp e2e: FAIL: $capture over $protocol: the client's exports were not all acknowledged:" >&2
            cat "$run/client.out" >&2
            failed=1
        fi
        # Every export was answered after its commit: the records are there.
        if ! python3 - "$run/telemetry.db" "$fixtures/$capture/json/ledger.jsonl" "$capture" "$protocol" <<'PY'
import json, sqlite3, sys

db, ledger_file, capture, protocol = sys.argv[1:]
agent = capture.split("/")[0]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
records = con.execute("SELECT count(*) FROM cost_records").fetchone()[0]
problems = []
if agent == "claude":
    # One record per request id, found through the request's api_messages row.
    want = {}
    for line in open(ledger_file, encoding="utf-8"):
        v = json.loads(line)
        u = v["usage"]
        # The event does not split 5-minute and 1-hour cache writes.
        want[v["requestId"]] = (u["input"], u["output"], u["cache_read"], u["cache_write_5m"] + u["cache_write_1h"])
    rows = con.execute(
        "SELECT a.request_id, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens "
        "FROM cost_records c JOIN api_messages a ON a.record_id = c.id"
    ).fetchall()
    got = {r[0]: tuple(r[1:]) for r in rows}
    if len(got) != len(rows) or records != len(rows):
        problems.append(f"{records} records, {len(rows)} joined rows, {len(got)} request ids: a request counted twice")
    for rid in sorted(set(want) | set(got)):
        if want.get(rid) != got.get(rid):
            problems.append(f"{rid}: ledger {want.get(rid)}, records {got.get(rid)}")
else:
    # No id links a Codex or Gemini CLI event to its request: the records,
    # as (billed input, output, cache read), equal the ledger's as a set,
    # one record per billed request, by each API's token semantics.
    want = []
    for line in open(ledger_file, encoding="utf-8"):
        v = json.loads(line)
        if v.get("kind") == "side":
            continue
        if agent == "codex":
            want.append((v["input_tokens"] - v["cached_tokens"], v["output_tokens"], v["cached_tokens"]))
        else:
            want.append((v["prompt_tokens"] - v["cached_tokens"] + v["tool_use_prompt_tokens"],
                         v["candidates_tokens"] + v["thoughts_tokens"], v["cached_tokens"]))
    got = [tuple(r) for r in con.execute(
        "SELECT input_tokens, output_tokens, cache_read_tokens FROM cost_records WHERE source = 'otel'")]
    if records != len(got):
        problems.append(f"{records} records, {len(got)} from the events")
    if sorted(want) != sorted(got):
        problems.append(f"ledger {sorted(want)}, records {sorted(got)}")
status = "ok" if not problems else "FAIL"
print(f"otlp e2e: {status}: {capture} over {protocol}: {len(got)} records, ledger {len(want)} requests")
for p in problems:
    print(f"  {p}")
sys.exit(1 if problems else 0)
PY
        then
            failed=1
        fi
        kill "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=""
    done
done
if [ "$failed" != 0 ]; then
    echo "otlp e2e: FAIL (temp dir: KEEP=1 keeps it)" >&2
    exit 1
fi
echo "otlp e2e: all runs equal their ledgers"
