#!/bin/sh
# hookmeter-hook.sh: the command an agent's hook runs. It hands the hook
# payload (stdin) to `hookmeter send`; when the binary is missing, it drops
# the payload into hookmeter's spool directory, where the daemon picks it up
# once it runs.
#
# A broken hookmeter must never break the agent: this script always exits 0
# and never writes to stdout (the agent reads stdout as the hook's answer;
# only `hookmeter send` itself may answer there, as a budget guard).
#
# Environment:
#   HOOKMETER_BIN    the hookmeter binary (default: `hookmeter` on PATH)
#   HOOKMETER_SPOOL  spool directory for the fallback
#                    (default: ${XDG_STATE_HOME:-$HOME/.local/state}/hookmeter/spool)
#   Everything else (HOOKMETER_AGENT, HOOKMETER_TASK, ...) is read by
#   `hookmeter send`; arguments are passed on to it unchanged.
#
# Plain POSIX sh: dash, bash, busybox ash.

bin=
if [ -n "${HOOKMETER_BIN:-}" ] && [ -f "$HOOKMETER_BIN" ] && [ -x "$HOOKMETER_BIN" ]; then
    bin=$HOOKMETER_BIN
else
    bin=$(command -v hookmeter 2>/dev/null) || bin=
fi
if [ -n "$bin" ]; then
    exec "$bin" send "$@"
fi

# Fallback: no binary. Write stdin raw; a bare payload is a valid spool file
# (the envelope fields --agent/--task/--label would add are lost, the event
# is not). The daemon ignores dotfiles and *.tmp, so it only ever sees the
# file complete, after the rename.
exec >/dev/null 2>&1

if [ -z "${HOOKMETER_SPOOL:-}" ] && [ -z "${XDG_STATE_HOME:-}" ] && [ -z "${HOME:-}" ]; then
    exit 0
fi
spool=${HOOKMETER_SPOOL:-${XDG_STATE_HOME:-$HOME/.local/state}/hookmeter/spool}

# Payloads hold prompts, paths and tool output: keep them to this user. The
# umask also covers parent directories mkdir -p creates.
umask 077
mkdir -p "$spool" || exit 0

# Unique without coordination: time, pid, 32 random bits, and a counter in
# case two hooks of one process still collide. noclobber makes creating the
# temp file exclusive, so a name is claimed by at most one writer. (`true`,
# not `:`: a failed redirection on a special built-in would end the script.)
random=$(od -An -N4 -tu4 /dev/urandom | tr -dc '0-9')
stem=$(date +%s)-$$-${random:-0}
tmp=
# A hook killed on timeout must not leave its temp file behind.
trap 'rm -f "$tmp"; exit 0' HUP INT TERM
set -C
n=0
while [ "$n" -lt 100 ]; do
    name=hook-$stem-$n
    if [ ! -e "$spool/$name.json" ]; then
        if true >"$spool/.$name.tmp"; then
            tmp=$spool/.$name.tmp
            break
        fi
        # Not a collision but an unwritable directory: stop trying.
        [ -e "$spool/.$name.tmp" ] || exit 0
    fi
    n=$((n + 1))
done
[ -n "$tmp" ] || exit 0

if cat >>"$tmp" && [ -s "$tmp" ]; then
    mv -f "$tmp" "$spool/$name.json" || rm -f "$tmp"
else
    # Empty stdin, or a failed write (disk full): store nothing.
    rm -f "$tmp"
fi
exit 0
