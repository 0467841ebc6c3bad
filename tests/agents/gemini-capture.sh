#!/usr/bin/env bash
# Runs the real Gemini CLI (tests/agents/node_modules, `npm ci` first) against
# the mock Gemini API (mock/gemini.mjs) and keeps what it wrote.
#
#   gemini-capture.sh OUT_DIR
#
# OUT_DIR/<scenario>/tmp is the run's $HOME/.gemini/tmp (its <project>/chats/
# is what the CLI wrote, its <project>/.project_root the project's path),
# OUT_DIR/<scenario>/ledger.jsonl what the mock billed. Each run gets its own
# temporary HOME; nothing leaves 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
gemini="$here/node_modules/.bin/gemini"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
[ -x "$gemini" ] || { echo "no gemini: run npm ci in $here" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# start_mock NAME SCRIPT_JSON: a mock for one scenario; sets PORT and MOCK_PID.
start_mock() {
  local dir="$work/$1"
  printf '%s\n' "$2" > "$dir/script.json"
  node "$here/mock/gemini.mjs" "$dir/script.json" "$out/$1/ledger.jsonl" > "$dir/mock.out" &
  MOCK_PID=$!
  for _ in $(seq 100); do
    PORT="$(awk '/^listening/ {print $2}' "$dir/mock.out")"
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "mock did not start" >&2
  exit 1
}

# run_gemini NAME ARGS...: gemini in the scenario's project with its own
# HOME, API-key auth selected in settings (the base URL alone selects an auth
# type headless mode refuses) and the workspace trusted.
run_gemini() {
  local dir="$work/$1"
  shift
  (cd "$dir/project" && HOME="$dir/home" GEMINI_API_KEY=mock-key \
    GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$PORT" GEMINI_CLI_TRUST_WORKSPACE=true \
    timeout 120 "$gemini" -m gemini-2.5-pro "$@" \
    < /dev/null >> "$dir/gemini.out" 2>> "$dir/gemini.err")
}

scenario() {
  SCENARIO="$1"
  rm -rf "${out:?}/$1" "${work:?}/$1"
  mkdir -p "$out/$1" "$work/$1/home/.gemini" "$work/$1/project"
  printf '%s\n' '{"security":{"auth":{"selectedType":"gemini-api-key"}}}' > "$work/$1/home/.gemini/settings.json"
  start_mock "$1" "$2"
}

# finish: stops the mock, keeps the chat logs.
finish() {
  kill "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  cp -R "$work/$SCENARIO/home/.gemini/tmp" "$out/$SCENARIO/tmp"
}

# A text turn.
scenario text '{"responses":[{"text":"Hello from the mock Gemini.","usage":{"prompt":1200,"cached":0,"candidates":30,"thoughts":0}}]}'
run_gemini text -p "say hello"
finish

# A thinking reply over gemini-2.5-pro's 200k tier, with cache and tool-use
# prompt tokens.
scenario thinking '{"responses":[{"thought":"Weighing the question.","text":"A considered answer.","usage":{"prompt":230000,"cached":180000,"candidates":64,"thoughts":512,"tool":40}}]}'
run_gemini thinking -p "think, then answer"
finish

# A shell tool call (run with --yolo) and the request carrying its output.
scenario tool '{"responses":[{"thought":"Run the command.","shell":"echo tool-ran","usage":{"prompt":2000,"cached":0,"candidates":20,"thoughts":16}},{"text":"The command printed tool-ran.","usage":{"prompt":2300,"cached":1900,"candidates":25,"thoughts":0}}]}'
run_gemini tool --yolo -p "run echo tool-ran"
finish

# A session, then resumed with `--resume latest` (twice, a tool call in the
# second).
scenario resume '{"responses":[{"text":"First answer.","usage":{"prompt":1500,"cached":0,"candidates":30,"thoughts":0}},{"text":"Second answer.","usage":{"prompt":1700,"cached":1400,"candidates":35,"thoughts":8}},{"shell":"echo again","usage":{"prompt":1900,"cached":1600,"candidates":50,"thoughts":10}},{"text":"Third answer.","usage":{"prompt":2100,"cached":1800,"candidates":20,"thoughts":0}}]}'
run_gemini resume -p "first question"
run_gemini resume --resume latest -p "second question"
run_gemini resume --resume latest --yolo -p "third question, run echo again"
finish

echo "captured in $out"
