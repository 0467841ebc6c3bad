#!/usr/bin/env bash
# Runs the real OpenCode (tests/agents/node_modules, `npm ci` first) against
# the mock model APIs of this directory and keeps what it wrote.
#
#   opencode-capture.sh OUT_DIR
#
# For each scenario, OUT_DIR/<scenario>/ holds the run's temporary HOME
# (home/, its XDG directories under it: OpenCode's database is
# home/.local/share/opencode/opencode.db), ledger.jsonl (what the mock
# billed), requests.json (what it was asked) and dump.sql, a text dump of the
# tables hookmeter reads (project, session, message, part). Two providers: an
# `@ai-sdk/openai-compatible` custom provider at the Chat Completions mock
# (mock/openai-chat.mjs) and the built-in `anthropic` provider with
# `options.baseURL` at the Messages mock (mock/anthropic.mjs). Nothing leaves
# 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
opencode="$here/node_modules/.bin/opencode"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
[ -x "$opencode" ] || { echo "no opencode: run npm ci in $here" >&2; exit 2; }
command -v sqlite3 > /dev/null || { echo "no sqlite3 on PATH" >&2; exit 2; }

# start_mock DIR API SCRIPT_JSON: a mock for one scenario; sets PORT, MOCK_PID.
start_mock() {
  local dir="$1"
  printf '%s\n' "$3" > "$dir/script.json"
  node "$here/opencode-mock.mjs" "$2" "$dir/script.json" "$dir/ledger.jsonl" > "$dir/mock.out" &
  MOCK_PID=$!
  for _ in $(seq 100); do
    PORT="$(awk '/^listening/ {print $2}' "$dir/mock.out")"
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "mock did not start" >&2
  exit 1
}

# config DIR API: the run's opencode.json, its one provider at the mock.
# The custom provider's model has prices, so OpenCode computes a cost of
# its own (USD per million tokens, gpt-5.1-codex's).
config() {
  local dir="$1" provider model
  mkdir -p "$dir/home/.config/opencode" "$dir/project"
  if [ "$2" = chat ]; then
    provider='"mock": {"npm": "@ai-sdk/openai-compatible", "name": "Mock",
      "options": {"baseURL": "http://127.0.0.1:'"$PORT"'/v1", "apiKey": "sk-mock"},
      "models": {"gpt-5.1-codex": {"name": "gpt-5.1-codex", "reasoning": true,
        "cost": {"input": 1.25, "output": 10, "cache_read": 0.125}}}}'
    model=mock/gpt-5.1-codex
  else
    provider='"anthropic": {"options": {"baseURL": "http://127.0.0.1:'"$PORT"'/v1", "apiKey": "sk-ant-mock"}}'
    model=anthropic/claude-sonnet-4-5
  fi
  cat > "$dir/home/.config/opencode/opencode.json" <<JSON
{
  "\$schema": "https://opencode.ai/config.json",
  "autoupdate": false,
  "share": "disabled",
  "model": "$model",
  "small_model": "$model",
  "permission": {"bash": "allow", "edit": "allow", "webfetch": "deny"},
  "provider": {$provider}
}
JSON
}

# run_opencode DIR ARGS...: opencode run in DIR/project with the run's HOME.
run_opencode() {
  local dir="$1"
  shift
  (cd "$dir/project" && env -i PATH="$PATH" HOME="$dir/home" \
    XDG_CONFIG_HOME="$dir/home/.config" XDG_DATA_HOME="$dir/home/.local/share" \
    XDG_STATE_HOME="$dir/home/.local/state" XDG_CACHE_HOME="$dir/home/.cache" \
    OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_SHARE=1 \
    OPENCODE_DISABLE_LSP_DOWNLOAD=1 OPENCODE_DISABLE_DEFAULT_PLUGINS=1 OPENCODE_DISABLE_CLAUDE_CODE=1 \
    timeout 120 "$opencode" run --print-logs --format json "$@" \
    < /dev/null >> "$dir/opencode.out" 2>> "$dir/opencode.err")
}

scenario() {
  local name="$1" api="$2" script="$3"
  local dir="$out/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  start_mock "$dir" "$api" "$script"
  config "$dir" "$api"
  SCENARIO_DIR="$dir"
}

# finish: stop the mock, dump the tables hookmeter reads.
finish() {
  kill "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  local db="$SCENARIO_DIR/home/.local/share/opencode/opencode.db"
  sqlite3 "$db" ".dump project session message part" > "$SCENARIO_DIR/dump.sql"
}

# A text turn, custom provider.
scenario chat-text chat '{"steps":[{"text":"Hello from the mock.","usage":{"input":1200,"cached":0,"output":40,"reasoning":0}}]}'
run_opencode "$SCENARIO_DIR" "say hello"
finish

# Reasoning, then a bash call answered by a follow-up step, custom provider.
scenario chat-tool chat '{"steps":[{"reasoning":"The user wants the command run.","bash":"echo tool-ran","usage":{"input":2000,"cached":512,"output":60,"reasoning":20}},{"text":"The command printed tool-ran.","usage":{"input":2300,"cached":1920,"output":25,"reasoning":0}}]}'
run_opencode "$SCENARIO_DIR" "run echo tool-ran"
finish

# A session continued twice (--continue, then --session ID), custom provider.
scenario chat-continue chat '{"steps":[{"text":"First answer.","usage":{"input":1500,"cached":0,"output":30,"reasoning":0}},{"reasoning":"Think again.","text":"Second answer.","usage":{"input":1700,"cached":1408,"output":35,"reasoning":8}},{"text":"Third answer.","usage":{"input":1900,"cached":1664,"output":20,"reasoning":0}}]}'
run_opencode "$SCENARIO_DIR" "first question"
run_opencode "$SCENARIO_DIR" --continue "second question"
session="$(sqlite3 "$SCENARIO_DIR/home/.local/share/opencode/opencode.db" "select id from session order by time_created limit 1")"
run_opencode "$SCENARIO_DIR" --session "$session" "third question"
finish

# Thinking, a bash call and its follow-up, then --continue: built-in anthropic.
scenario anthropic anthropic '{"steps":[{"blocks":[{"type":"thinking","thinking":"Run it."},{"type":"tool_use","name":"bash","input":{"command":"echo tool-ran","description":"Runs echo"}}],"usage":{"input":900,"output":70,"cache_read":0,"cache_write_5m":2000}},{"blocks":[{"type":"text","text":"It printed tool-ran."}],"usage":{"input":40,"output":12,"cache_read":2000,"cache_write_5m":150}},{"blocks":[{"type":"text","text":"Continued answer."}],"usage":{"input":30,"output":9,"cache_read":2150,"cache_write_5m":60}}]}'
run_opencode "$SCENARIO_DIR" "run echo tool-ran"
run_opencode "$SCENARIO_DIR" --continue "and again"
finish

echo "captured in $out"
