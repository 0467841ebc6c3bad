#!/usr/bin/env bash
# The real Codex CLI (tests/agents/node_modules, `npm ci` first) runs with
# the hooks the real `hookmeter install-hooks --agent codex` installed, into
# a running `hookmeter serve`, against the mock Responses API; then checks
# that the hooks fired into the daemon as hook events of agent codex, with
# the session, tool and rollout Codex ran, and no cost record of their own.
#
#   codex-hooks.sh [HOOKMETER_BIN]   (default: target/debug/hookmeter)
#
# Everything lives in one temporary directory (HOME, CODEX_HOME, project,
# the daemon's db/socket/spool), removed at the end; nothing leaves
# 127.0.0.1. Needs sqlite3 to read the database. Exit 0 when every check
# holds, 1 with the failing check otherwise.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
codex="$here/node_modules/.bin/codex"
hookmeter="$(cd "$(dirname "${1:-$root/target/debug/hookmeter}")" && pwd)/$(basename "${1:-hookmeter}")"
[ -x "$codex" ] || { echo "no codex: run npm ci in $here" >&2; exit 2; }
[ -x "$hookmeter" ] || { echo "no hookmeter at $hookmeter: cargo build first" >&2; exit 2; }
command -v sqlite3 > /dev/null || { echo "sqlite3 is needed to read the database" >&2; exit 2; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/hm-codex-hooks.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; done
  # KEEP=1 keeps the directory to look at.
  if [ -n "${KEEP:-}" ]; then echo "kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
mkdir -p "$dir/home" "$dir/codex" "$dir/project" "$dir/hm"

# The daemon's own locations, in the environment of every hookmeter run.
export TELEMETRY_DB_PATH="$dir/hm/telemetry.db" HOOKMETER_SOCKET="$dir/hm/hm.sock" \
  HOOKMETER_SPOOL="$dir/hm/spool" HOOKMETER_CONFIG="$dir/hm/config.toml" HOOKMETER_HTTP=off

# The mock: a reasoning + exec_command call, then the answer.
printf '%s\n' '{"responses":[{"reasoning":"Run it.","exec":"echo tool-ran","usage":{"input":2000,"cached":0,"output":60,"reasoning":20}},{"text":"It printed tool-ran.","usage":{"input":2300,"cached":1920,"output":25,"reasoning":0}}]}' > "$dir/script.json"
node "$here/mock/openai.mjs" "$dir/script.json" "$dir/ledger.jsonl" > "$dir/mock.out" &
pids+=($!)
port=""
for _ in $(seq 100); do
  port="$(awk '/^listening/ {print $2}' "$dir/mock.out")"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the mock did not start" >&2; exit 1; }

cat > "$dir/codex/config.toml" <<EOF
# The user's own settings: kept by install-hooks.
model = "gpt-5.1-codex"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:$port/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
supports_websockets = false
EOF

"$hookmeter" serve 2> "$dir/daemon.log" &
pids+=($!)
for _ in $(seq 200); do
  [ -S "$HOOKMETER_SOCKET" ] && break
  sleep 0.05
done
[ -S "$HOOKMETER_SOCKET" ] || { echo "the daemon did not start:" >&2; cat "$dir/daemon.log" >&2; exit 1; }

# PATH without hookmeter: install-hooks writes this binary's absolute path.
echo "== hookmeter install-hooks --agent codex"
CODEX_HOME="$dir/codex" HOME="$dir/home" "$hookmeter" install-hooks --agent codex | sed "s#$dir#\$TMP#g"
echo "== again (must change nothing)"
again="$(CODEX_HOME="$dir/codex" HOME="$dir/home" "$hookmeter" install-hooks --agent codex)"
echo "$again" | sed "s#$dir#\$TMP#g"

echo "== codex exec"
(cd "$dir/project" && HOME="$dir/home" CODEX_HOME="$dir/codex" OPENAI_API_KEY=sk-mock \
  timeout 120 "$codex" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox \
  "run echo tool-ran" < /dev/null > "$dir/codex.out" 2> "$dir/codex.err") || {
  echo "codex failed:" >&2; cat "$dir/codex.err" >&2; exit 1; }
session="$(grep -o 'session id: [0-9a-f-]*' "$dir/codex.err" | tail -1 | cut -d' ' -f3)"
grep '^hook: ' "$dir/codex.err" | sort | uniq -c

q() { sqlite3 -readonly "$TELEMETRY_DB_PATH" "$1"; }
# The hooks are synchronous, but wait for the last write with a deadline.
for _ in $(seq 100); do
  [ "$(q "SELECT count(*) FROM hook_events WHERE event_name = 'Stop'" 2> /dev/null || echo 0)" -ge 1 ] && break
  sleep 0.1
done

echo "== hook events in the daemon (event, agent, session, tool)"
q "SELECT event_name, agent_id, session_id, coalesce(tool_name, '') FROM hook_events ORDER BY id" | sed 's/|/  /g'
records="$(q 'SELECT count(*) FROM cost_records')"
billed="$(wc -l < "$dir/ledger.jsonl")"
echo "== mock billed $billed responses; cost records from the hooks: $records"

fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }
check "the second install changed nothing" '[[ "$again" == *"nothing changed"* ]]'
check "Codex ran the hooks (SessionStart, PostToolUse, Stop)" \
  '[ "$(grep -c "^hook: \(SessionStart\|PostToolUse\|Stop\) Completed" "$dir/codex.err")" -ge 3 ]'
check "the daemon has SessionStart, PostToolUse and Stop of agent codex for session $session" \
  '[ "$(q "SELECT count(DISTINCT event_name) FROM hook_events WHERE agent_id = '"'codex'"' AND session_id = '"'$session'"' AND event_name IN ('"'SessionStart','PostToolUse','Stop'"')")" = 3 ]'
check "every hook event is codex's" '[ "$(q "SELECT count(*) FROM hook_events WHERE agent_id <> '"'codex'"'")" = 0 ]'
check "PostToolUse names the tool (Bash)" \
  '[ "$(q "SELECT tool_name FROM hook_events WHERE event_name = '"'PostToolUse'"'")" = Bash ]'
check "every payload keeps the project's cwd" \
  '[ "$(q "SELECT count(*) > 0 AND count(*) = (SELECT count(*) FROM hook_events) FROM hook_events WHERE json_extract(payload_json, '"'\$.cwd'"') = '"'$dir/project'"'")" = 1 ]'
check "no cost record comes from a hook (the rollout is the record)" '[ "$records" = 0 ]'
check "nothing rejected" '[ "$(q "SELECT count(*) FROM rejected_events")" = 0 ]'
check "nothing left in the spool" '[ -z "$(find "$HOOKMETER_SPOOL" -type f 2> /dev/null)" ]'
exit "$fail"
