#!/usr/bin/env python3
"""Continuous traffic for one daemon of the push end-to-end test (run.sh).

    feed.py NAME BIN STOPFILE LEDGER

Runs in the daemon host's environment (HOME, HOOKMETER_SOCKET, HOOKMETER_SPOOL
set by run.sh) until STOPFILE exists, one round after another, each round:

  * a hook event with usage, sent by `hookmeter send` (to the socket, or to
    the spool while the daemon is down);
  * every third round, an earlier hook event again with more output tokens
    (a larger snapshot, after its first version was stored and maybe pushed),
    and every fifth, one again with fewer (which must change nothing);
  * a Claude Code transcript grown by one assistant message (its first
    content block's line), the previous message's next line with a larger
    `output_tokens` (the larger snapshot of a message read before), then a
    PostToolUse hook event naming the transcript, as Claude Code sends it.
    The lines are the fixture's, with this run's ids.

At the end it writes LEDGER (JSON): every record key sent and the largest
output_tokens sent for it, and the rounds. Standard library only.
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(
    HERE, "..", "fixtures", "claude", "projects", "-home-dev-shop", "s-session-1.jsonl"
)


def assistant_template():
    """The fixture's first assistant line with usage, as a dict."""
    with open(FIXTURE) as f:
        for line in f:
            row = json.loads(line)
            if row.get("type") == "assistant" and "usage" in row.get("message", {}):
                return row
    raise SystemExit("feed.py: no assistant line with usage in " + FIXTURE)


def main():
    name, binary, stopfile, ledger_path = sys.argv[1:5]
    template = assistant_template()
    home = os.environ["HOME"]
    project = os.path.join(home, ".claude", "projects", "-home-dev-" + name)
    os.makedirs(project, exist_ok=True)
    ledger = {}
    failed = 0
    rounds = 0

    def send(agent, payload):
        nonlocal failed
        done = subprocess.run(
            [binary, "send", "--agent", agent],
            input=json.dumps(payload).encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode != 0:
            failed += 1
            sys.stderr.write(f"feed {name}: send failed: {done.stderr.decode().strip()}\n")
        return done.returncode == 0

    def hook(i, output):
        key = f"{name}-h{i}"
        payload = {
            "hook_event_name": "PostToolUse",
            "event_id": key,
            "session_id": f"{name}-hs{i // 25}",
            "tool_name": "Bash",
            "model": "claude-sonnet-4-5",
            "usage": {
                "input_tokens": 1000 + i,
                "output_tokens": output,
                "cache_read_input_tokens": 20000 + 7 * i,
                "cache_creation_input_tokens": 300,
            },
        }
        if send("bot", payload):
            ledger[key] = max(ledger.get(key, 0), output)

    def message_line(session, i, output, block):
        row = json.loads(json.dumps(template))
        row["sessionId"] = session
        row["uuid"] = f"{session}-m{i}-b{block}"
        row["requestId"] = f"req_{name}{i}"
        row["message"]["id"] = f"msg_{name}{i}"
        row["message"]["usage"]["output_tokens"] = output
        row["message"]["usage"]["input_tokens"] = 3 + i % 11
        row["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return row

    while not os.path.exists(stopfile):
        i = rounds
        rounds += 1
        hook(i, 10 + i % 7)
        if i >= 2 and i % 3 == 0:
            hook(i - 2, 500 + i)
        if i >= 4 and i % 5 == 0:
            hook(i - 4, 1)

        session = f"{name}-ts{i // 40}"
        path = os.path.join(project, session + ".jsonl")
        lines = [message_line(session, i, 5, 0)]
        if i % 40 != 0:
            lines.append(message_line(session, i - 1, 200 + i, 1))
            prev = f"cc:{session}:msg_{name}{i - 1}:req_{name}{i - 1}"
            ledger[prev] = max(ledger.get(prev, 0), 200 + i)
        with open(path, "a") as f:
            for row in lines:
                f.write(json.dumps(row) + "\n")
        key = f"cc:{session}:msg_{name}{i}:req_{name}{i}"
        ledger[key] = max(ledger.get(key, 0), 5)
        send(
            "claude-code",
            {
                "hook_event_name": "PostToolUse",
                "session_id": session,
                "transcript_path": path,
                "cwd": "/home/dev/" + name,
                "tool_name": "Bash",
                "tool_use_id": f"toolu_{name}{i}",
                "tool_input": {"command": "true"},
                "tool_response": {"stdout": ""},
            },
        )
        time.sleep(0.02)

    with open(ledger_path, "w") as f:
        json.dump({"rounds": rounds, "failed_sends": failed, "max_output": ledger}, f)


if __name__ == "__main__":
    main()
