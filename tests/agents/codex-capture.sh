#!/usr/bin/env bash
# Runs the real Codex CLI (tests/agents/node_modules, `npm ci` first) against
# the mock Responses API (mock/openai.mjs) and keeps what it wrote.
#
#   codex-capture.sh OUT_DIR
#
# OUT_DIR/<scenario>/codex is the run's CODEX_HOME (its sessions/ is what
# Codex wrote), OUT_DIR/<scenario>/ledger.jsonl what the mock billed. Each
# run gets its own temporary HOME and CODEX_HOME; nothing leaves 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
codex="$here/node_modules/.bin/codex"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
[ -x "$codex" ] || { echo "no codex: run npm ci in $here" >&2; exit 2; }

# start_mock DIR SCRIPT_JSON: a mock for one scenario; sets PORT and MOCK_PID.
start_mock() {
  local dir="$1"
  printf '%s\n' "$2" > "$dir/script.json"
  node "$here/mock/openai.mjs" "$dir/script.json" "$dir/ledger.jsonl" > "$dir/mock.out" &
  MOCK_PID=$!
  for _ in $(seq 100); do
    PORT="$(awk '/^listening/ {print $2}' "$dir/mock.out")"
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "mock did not start" >&2
  exit 1
}

# setup DIR: a fresh HOME, CODEX_HOME (with the mock provider) and project.
setup() {
  local dir="$1"
  mkdir -p "$dir/home" "$dir/codex" "$dir/project"
  cat > "$dir/codex/config.toml" <<EOF
model = "gpt-5.1-codex"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:$PORT/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
supports_websockets = false
EOF
}

# run_codex DIR ARGS...: codex in DIR/project with the run's own homes.
run_codex() {
  local dir="$1"
  shift
  (cd "$dir/project" && HOME="$dir/home" CODEX_HOME="$dir/codex" OPENAI_API_KEY=sk-mock \
    timeout 120 "$codex" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "$@" \
    < /dev/null > "$dir/codex.out" 2> "$dir/codex.err")
}

session_of() { grep -o 'session id: [0-9a-f-]*' "$1/codex.err" | tail -1 | cut -d' ' -f3; }

scenario() {
  local name="$1" script="$2"
  local dir="$out/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  start_mock "$dir" "$script"
  setup "$dir"
  SCENARIO_DIR="$dir"
}

stop_mock() { kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; }

# A text turn with reasoning.
scenario text '{"responses":[{"reasoning":"The user wants a greeting.","text":"Hello from the mock.","usage":{"input":1200,"cached":0,"output":40,"reasoning":16}}]}'
run_codex "$SCENARIO_DIR" "say hello"
stop_mock

# A shell tool call and the follow-up request carrying its output.
scenario shell '{"responses":[{"reasoning":"List the files.","shell":"echo tool-ran","usage":{"input":2000,"cached":0,"output":60,"reasoning":20}},{"text":"The command printed tool-ran.","usage":{"input":2300,"cached":1920,"output":25,"reasoning":0}}]}'
run_codex "$SCENARIO_DIR" "run echo tool-ran"
stop_mock

# Several turns: a first session, then resumed twice; then a fork of it.
scenario resume '{"responses":[{"text":"First answer.","usage":{"input":1500,"cached":0,"output":30,"reasoning":0}},{"text":"Second answer.","usage":{"input":1700,"cached":1408,"output":35,"reasoning":8}},{"shell":"echo again","usage":{"input":1900,"cached":1664,"output":50,"reasoning":10}},{"text":"Third answer.","usage":{"input":2100,"cached":1792,"output":20,"reasoning":0}},{"text":"Forked answer.","usage":{"input":2400,"cached":2048,"output":45,"reasoning":12}}]}'
run_codex "$SCENARIO_DIR" "first question"
first="$(session_of "$SCENARIO_DIR")"
run_codex "$SCENARIO_DIR" resume "$first" "second question"
run_codex "$SCENARIO_DIR" resume "$first" "third question, run echo again"
run_codex "$SCENARIO_DIR" fork "$first" "a forked question"
stop_mock

echo "captured in $out"
