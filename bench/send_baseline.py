#!/usr/bin/env python3
"""Baseline for `hookmeter send`: the same socket round trip in python3.

Reads one payload from stdin, wraps it in hookmeter's envelope, writes it to
the daemon's socket ($HOOKMETER_SOCKET) and waits for the ack line. No spool
fallback: it measures only the happy path that `hookmeter send` also takes.
"""
import datetime
import json
import os
import socket
import sys

payload = json.loads(sys.stdin.read())
envelope = {
    "hookmeter": 1,
    "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "host": socket.gethostname(),
    "payload": payload,
}
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.settimeout(0.3)
    s.connect(os.environ["HOOKMETER_SOCKET"])
    s.sendall(json.dumps(envelope).encode() + b"\n")
    ack = s.makefile().readline()
if not json.loads(ack).get("ok"):
    sys.exit(1)
