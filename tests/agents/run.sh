#!/usr/bin/env bash
# Real-agent harness (docs/agents-harness.md): the pinned Claude Code, Codex,
# Gemini CLI and OpenCode run scripted conversations against mock model
# APIs on loopback, hookmeter captures them, and its cost records must equal
# the mocks' ledger.
#
# Usage: tests/agents/run.sh [SCENARIO...]   (NAME: every selected agent's;
#                                            claude:NAME, codex:NAME,
#                                            gemini:NAME or opencode:NAME: one's)
#   HARNESS_AGENTS     a comma list of claude, codex, gemini, opencode (default: all)
#   HOOKMETER_BIN      the binary (default: build it with cargo into
#                      $CARGO_TARGET_DIR, or target/, and use debug/hookmeter)
#   HARNESS_MODES      Claude Code: hooks (default), nohooks, or hooks,nohooks
#   HARNESS_NO_HOOKS=1 the same as HARNESS_MODES=nohooks
#   HARNESS_CODEX_MODES  Codex: import (default), watch, hooks, or a comma list
#   HARNESS_GEMINI_MODES Gemini CLI: import (default), watch, hooks, or a comma list
#   HARNESS_OPENCODE_MODES  OpenCode: import (default), watch, or both
#   KEEP=1             keep each scenario's temp dir
# Needs node (20+), npm (installs the pinned agents from the registry with
# npm ci) and python3 (reads telemetry.db read-only).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in node npm python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "agents harness: FAIL: $tool is not on PATH" >&2; exit 1; }
done

if [ -z "${HOOKMETER_BIN:-}" ]; then
    target_dir=${CARGO_TARGET_DIR:-target}
    case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac
    (cd "$repo" && cargo build --quiet --bin hookmeter)
    HOOKMETER_BIN=$target_dir/debug/hookmeter
fi
[ -x "$HOOKMETER_BIN" ] || { echo "agents harness: FAIL: no hookmeter binary at $HOOKMETER_BIN" >&2; exit 1; }
export HOOKMETER_BIN

# `npm ci` refuses a lock that lacks any platform's build of opencode-ai
# (optional packages, one per OS and CPU), and a registry may serve only some
# of them (the one this project's CI uses serves Linux's alone). Then
# `npm install --no-save` installs the same pinned versions from the lock,
# skipping the platforms it cannot get, and leaves the lock as it is.
(cd "$here" && { npm ci --no-audit --no-fund --loglevel=silent 2>/dev/null ||
    npm install --no-save --no-audit --no-fund --loglevel=error; })
cd "$here"
# The ledger's own arithmetic first: a wrong expectation would prove nothing.
node --test --test-reporter=dot ledger.test.mjs </dev/null
exec node run.mjs "$@" </dev/null
