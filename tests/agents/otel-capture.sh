#!/usr/bin/env bash
# Runs the real Claude Code, Codex and Gemini CLI (tests/agents/node_modules,
# `npm ci` first) against their model mocks with their OpenTelemetry export
# on, pointed at the OTLP sink (mock/otlp-sink.mjs), and keeps what they sent.
#
#   otel-capture.sh OUT_DIR          (the fixtures: tests/fixtures/otel)
#
# OUT_DIR/<agent>/<scenario>/<encoding>/ holds the sink's files
# (NNN-<signal>.json pretty, or .bin protobuf, each beside its
# .headers.json), ledger.jsonl (what the mock billed) and the agent's own log
# of the session (transcript / rollout / chat), to link the ids. Each run has
# its own temporary HOME; nothing leaves 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/node_modules/.bin"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
for a in claude codex gemini; do
  [ -x "$bin/$a" ] || { echo "no $a: run npm ci in $here" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# wait_port FILE: the port a mock or the sink printed (`listening PORT`).
wait_port() {
  for _ in $(seq 100); do
    local p
    p="$(awk '/^listening/ {print $2}' "$1" 2>/dev/null || true)"
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "$1: never listened" >&2
  exit 1
}

# start DIR MOCK SCRIPT_JSON: the model mock and the sink for one run; sets
# MOCK_PORT, SINK_PORT, PIDS.
start() {
  local dir="$1" mock="$2"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s\n' "$3" > "$work/script.json"
  node "$here/mock/$mock" "$work/script.json" "$dir/ledger.jsonl" > "$work/mock.out" &
  PIDS="$!"
  node "$here/mock/otlp-sink.mjs" "$dir" > "$work/sink.out" &
  PIDS="$PIDS $!"
  MOCK_PORT="$(wait_port "$work/mock.out")"
  SINK_PORT="$(wait_port "$work/sink.out")"
}

stop() {
  # shellcheck disable=SC2086
  kill $PIDS 2>/dev/null || true
  # shellcheck disable=SC2086
  wait $PIDS 2>/dev/null || true
}

# --- Claude Code: the harness's own scenarios, over both OTLP/HTTP encodings.
for protocol in http/json http/protobuf; do
  node "$here/otel-claude.mjs" "$out/claude" "$protocol" text tools
done

# --- Codex: [otel] in config.toml; `protocol` is json or binary.
codex_run() {
  local name="$1" protocol="$2" script="$3"
  shift 3
  local dir="$out/codex/$name/$([ "$protocol" = json ] && echo json || echo protobuf)"
  start "$dir" openai.mjs "$script"
  local run="$work/codex-$name-$protocol"
  rm -rf "$run"
  mkdir -p "$run/home" "$run/codex" "$run/project"
  cat > "$run/codex/config.toml" <<EOF
model = "gpt-5.1-codex"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:$MOCK_PORT/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
supports_websockets = false

[otel]
environment = "capture"
log_user_prompt = false

[otel.exporter.otlp-http]
endpoint = "http://127.0.0.1:$SINK_PORT/v1/logs"
protocol = "$protocol"
headers = { authorization = "Bearer otel-capture-token" }

[otel.metrics_exporter.otlp-http]
endpoint = "http://127.0.0.1:$SINK_PORT/v1/metrics"
protocol = "$protocol"
headers = { authorization = "Bearer otel-capture-token" }
EOF
  (cd "$run/project" && HOME="$run/home" CODEX_HOME="$run/codex" OPENAI_API_KEY=sk-mock \
    timeout 120 "$bin/codex" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "$@" \
    < /dev/null > "$run/codex.out" 2> "$run/codex.err") || { cat "$run/codex.err" >&2; exit 1; }
  stop
  find "$run/codex/sessions" -name 'rollout-*.jsonl' -exec cp {} "$dir/rollout.jsonl" \;
  echo "codex $protocol $name: $(wc -l < "$dir/ledger.jsonl") billed, $(find "$dir" -name '*-logs.*' ! -name '*.headers.json' | wc -l) log exports"
}
for protocol in json binary; do
  codex_run text "$protocol" '{"responses":[{"reasoning":"The user wants a greeting.","text":"Hello from the mock.","usage":{"input":1200,"cached":0,"output":40,"reasoning":16}}]}' "say hello"
  codex_run shell "$protocol" '{"responses":[{"reasoning":"List the files.","shell":"echo tool-ran","usage":{"input":2000,"cached":0,"output":60,"reasoning":20}},{"text":"The command printed tool-ran.","usage":{"input":2300,"cached":1920,"output":25,"reasoning":0}}]}' "run echo tool-ran"
done

# --- Gemini CLI: `telemetry` in settings.json; otlpProtocol "http" is
# OTLP/HTTP JSON (it has no protobuf choice); "grpc" (the default) is not
# captured here.
gemini_run() {
  local name="$1" script="$2"
  shift 2
  local dir="$out/gemini/$name/json"
  start "$dir" gemini.mjs "$script"
  local run="$work/gemini-$name"
  rm -rf "$run"
  mkdir -p "$run/home/.gemini" "$run/project"
  cat > "$run/home/.gemini/settings.json" <<EOF
{
  "security": { "auth": { "selectedType": "gemini-api-key" } },
  "telemetry": {
    "enabled": true,
    "target": "local",
    "otlpEndpoint": "http://127.0.0.1:$SINK_PORT",
    "otlpProtocol": "http",
    "logPrompts": false
  }
}
EOF
  (cd "$run/project" && HOME="$run/home" GEMINI_API_KEY=mock-key \
    GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$MOCK_PORT" GEMINI_CLI_TRUST_WORKSPACE=true \
    OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer otel-capture-token' \
    timeout 120 "$bin/gemini" -m gemini-2.5-pro "$@" \
    < /dev/null > "$run/gemini.out" 2> "$run/gemini.err") || { cat "$run/gemini.err" >&2; exit 1; }
  stop
  find "$run/home/.gemini/tmp" -path "*/chats/*" -name "session-*" -exec cp {} "$dir/chat.jsonl" \;
  echo "gemini http $name: $(wc -l < "$dir/ledger.jsonl") billed, $(find "$dir" -name '*-logs.*' ! -name '*.headers.json' | wc -l) log exports"
}
gemini_run text '{"responses":[{"text":"Hello from the mock Gemini.","usage":{"prompt":1200,"cached":0,"candidates":30,"thoughts":0}}]}' -p "say hello"
gemini_run tool '{"responses":[{"thought":"Run the command.","shell":"echo tool-ran","usage":{"prompt":2000,"cached":0,"candidates":20,"thoughts":16}},{"text":"The command printed tool-ran.","usage":{"prompt":2300,"cached":1900,"candidates":25,"thoughts":0}}]}' --yolo -p "run echo tool-ran"

# Gemini's resource names the program and its arguments: this checkout's
# path becomes `tests/agents`, so no machine's path is kept.
root="$(cd "$here/../.." && pwd)"
find "$out" -name '*.json' -exec sed -i "s#$root/##g" {} +
if grep -rl "$root" "$out"; then
  echo "a path of this machine is still in the files above" >&2
  exit 1
fi
echo "captured in $out"
