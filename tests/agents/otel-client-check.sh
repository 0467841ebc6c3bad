#!/usr/bin/env bash
# The second client proven against the OTLP sink: otel_client.py (the Python
# OpenTelemetry SDK's exporters, tests/agents/.venv from requirements-otel.txt)
# replays each agent's captured usage events over http/protobuf and http/json,
# with a header; otel_check.py then holds what the sink received to the
# capture's ledger. gRPC waits for a gRPC listener (hookmeter's).
#
#   otel-client-check.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
py="$here/.venv/bin/python"
fixtures="$here/../fixtures/otel"
[ -x "$py" ] || { echo "no venv: python3 -m venv $here/.venv && $here/.venv/bin/pip install -r $here/requirements-otel.txt" >&2; exit 2; }
work="$(mktemp -d)"
trap 'kill "${SINK_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

for protocol in http/protobuf http/json; do
  for capture in claude/tools codex/shell gemini/tool; do
    agent="${capture%%/*}"
    dir="$work/$agent-${protocol#http/}"
    node "$here/mock/otlp-sink.mjs" "$dir" > "$dir.out" &
    SINK_PID=$!
    port=""
    for _ in $(seq 100); do
      port="$(awk '/^listening/ {print $2}' "$dir.out" 2>/dev/null || true)"
      [ -n "$port" ] && break
      sleep 0.1
    done
    [ -n "$port" ] || { echo "sink did not start" >&2; exit 1; }
    "$py" "$here/otel_client.py" --endpoint "http://127.0.0.1:$port" --protocol "$protocol" \
      --fixture "$fixtures/$capture/json" --header "authorization=Bearer client-check" --usage-only
    kill "$SINK_PID"
    wait "$SINK_PID" 2>/dev/null || true
    grep -q '"authorization": "Bearer client-check"' "$dir"/001-logs.headers.json || { echo "header not sent" >&2; exit 1; }
    "$py" "$here/otel_check.py" "$agent" "$dir" "$fixtures/$capture/json/ledger.jsonl" | tail -1
  done
done
