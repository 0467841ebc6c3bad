#!/usr/bin/env python3
"""Checks of the push end-to-end test (run.sh). Standard library, sqlite3 and psql.

    check.py ports N                  N free loopback ports, on one line
    check.py wait-ready URL PID       until URL answers 200 (fails if PID exits)
    check.py wait-central STATE NAME  until daemon NAME has records centrally
    check.py converge STATE           until the central table equals the union
                                      of the local databases, then every check

STATE is a JSON file: {"psql": [argv...], "daemons": [{"name", "db",
"user", "ledger"}]}. The psql argv connects to the central database and
takes the SQL after it.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

DEADLINE_S = 180
FIELDS = (
    "record_key",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)


def fail(message):
    print(f"push end-to-end: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def ports(n):
    held = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in held))


def wait_ready(url, pid):
    end = time.time() + 60
    while time.time() < end:
        try:
            os.kill(int(pid), 0)
        except OSError:
            fail(f"process {pid} exited before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    fail(f"{url} did not answer in 60 s")


def psql(state, sql):
    done = subprocess.run(state["psql"] + [sql], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql: {done.stderr.strip()}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def local(daemon):
    """machine id, and {local_id: (rev, fields..., cost)} of one database."""
    db = sqlite3.connect(f"file:{daemon['db']}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'machine_id'").fetchone()
        rows = db.execute(
            "SELECT id, rev, hook_event_id, input_tokens, output_tokens, cache_read_tokens,"
            " cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, estimated_cost_usd"
            " FROM cost_records"
        ).fetchall()
    finally:
        db.close()
    return (row[0] if row else None), {r[0]: tuple(r[1:]) for r in rows}


def central(state):
    """{machine_id: {local_id: (rev, fields..., cost)}} and the user of each machine."""
    out = {}
    users = {}
    sql = (
        "SELECT machine_id, local_id, rev, record_key, input_tokens, output_tokens,"
        " cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens,"
        " estimated_cost_usd, user_name FROM hookmeter.cost_records"
    )
    for r in psql(state, sql):
        machine = out.setdefault(r[0], {})
        machine[int(r[1])] = (int(r[2]), r[3], *(int(v) for v in r[4:10]), float(r[10]))
        users[r[0]] = r[11]
    return out, users


def wait_central(state_path, name):
    state = json.load(open(state_path))
    daemon = next(d for d in state["daemons"] if d["name"] == name)
    end = time.time() + DEADLINE_S
    while time.time() < end:
        machine, _ = local(daemon)
        if machine:
            try:
                n = psql(
                    state,
                    f"SELECT count(*) FROM hookmeter.cost_records WHERE machine_id = '{machine}'",
                )
                if int(n[0][0]) > 0:
                    return
            except RuntimeError:
                pass
        time.sleep(0.2)
    fail(f"no record of daemon {name} arrived centrally in {DEADLINE_S} s")


def differences(state):
    """What differs between the central table and the local databases (empty: nothing)."""
    found = []
    cen, _ = central(state)
    for daemon in state["daemons"]:
        machine, rows = local(daemon)
        got = cen.pop(machine, {})
        missing = rows.keys() - got.keys()
        extra = got.keys() - rows.keys()
        changed = [k for k in rows.keys() & got.keys() if not same(rows[k], got[k])]
        if missing or extra or changed:
            found.append(
                f"daemon {daemon['name']}: {len(rows)} local, {len(got)} central, "
                f"{len(missing)} missing, {len(extra)} extra, {len(changed)} differ"
            )
    if cen:
        found.append(f"{len(cen)} machine(s) centrally that no daemon has")
    return found


def same(local_row, central_row):
    return local_row[:-1] == central_row[:-1] and abs(local_row[-1] - central_row[-1]) <= 1e-9


def converge(state_path):
    state = json.load(open(state_path))
    end = time.time() + DEADLINE_S
    found = ["not checked"]
    while time.time() < end:
        try:
            found = differences(state)
        except RuntimeError as e:
            found = [str(e)]
        if not found:
            break
        time.sleep(0.5)
    if found:
        fail("the central table never equalled the local databases:\n  " + "\n  ".join(found))
    verify(state)


def verify(state):
    cen, users = central(state)
    problems = []
    print(f"{'daemon':8} {'user':6} {'records':>8} {'keys':>8} {'local cost':>14} {'central cost':>14}")
    total_local = 0.0
    for daemon in state["daemons"]:
        machine, rows = local(daemon)
        got = cen.get(machine, {})
        local_cost = sum(r[-1] for r in rows.values())
        central_cost = sum(r[-1] for r in got.values())
        total_local += local_cost
        keys = {r[1] for r in got.values()}
        print(
            f"{daemon['name']:8} {users.get(machine, '-'):6} {len(got):8} {len(keys):8} "
            f"{local_cost:14.9f} {central_cost:14.9f}"
        )
        if abs(local_cost - central_cost) > 1e-9:
            problems.append(f"daemon {daemon['name']}: cost {local_cost} locally, {central_cost} centrally")
        if len(keys) != len(got):
            problems.append(f"daemon {daemon['name']}: a record key twice centrally")
        if users.get(machine) != daemon["user"]:
            problems.append(f"daemon {daemon['name']}: user {users.get(machine)!r}, not {daemon['user']!r}")
        # Every record the feeder sent is there, with its largest snapshot.
        ledger = json.load(open(daemon["ledger"]))
        by_key = {r[1]: r[3] for r in got.values()}
        lost = [k for k in ledger["max_output"] if k not in by_key]
        smaller = [k for k, v in ledger["max_output"].items() if k in by_key and by_key[k] != v]
        grown = sum(1 for v in ledger["max_output"].values() if v >= 200)
        print(
            f"         {ledger['rounds']} rounds, {len(ledger['max_output'])} keys sent "
            f"({grown} with a larger later snapshot), {len(lost)} lost, {len(smaller)} not at their largest"
        )
        if lost:
            problems.append(f"daemon {daemon['name']}: {len(lost)} sent records not central, e.g. {lost[:3]}")
        if smaller:
            k = smaller[0]
            problems.append(
                f"daemon {daemon['name']}: {len(smaller)} records not at their largest snapshot, "
                f"e.g. {k}: {by_key[k]} centrally, {ledger['max_output'][k]} sent"
            )
        if ledger["failed_sends"]:
            problems.append(f"daemon {daemon['name']}: {ledger['failed_sends']} sends failed")

    # The team's numbers as SQL reads them: the view and the table, by user.
    view = {r[0]: float(r[1]) for r in psql(state, "SELECT user_name, sum(cost_usd) FROM hookmeter.daily_spend GROUP BY 1")}
    for daemon in state["daemons"]:
        _, rows = local(daemon)
        want = sum(r[-1] for r in rows.values())
        if abs(view.get(daemon["user"], 0.0) - want) > 1e-9:
            problems.append(f"daily_spend for {daemon['user']}: {view.get(daemon['user'])}, local {want}")
    # And as `hookmeter report --team` reads them: by user, each equal to
    # that machine's local sum.
    done = subprocess.run(state["team_report"], capture_output=True, text=True)
    if done.returncode != 0:
        problems.append(f"report --team exited {done.returncode}: {done.stderr.strip()}")
    else:
        team = {g["key"]: float(g["cost_usd"]) for g in json.loads(done.stdout)["groups"]}
        print("report --team --by user: " + ", ".join(f"{k} {v:.9f}" for k, v in sorted(team.items())))
        for daemon in state["daemons"]:
            _, rows = local(daemon)
            want = sum(r[-1] for r in rows.values())
            if abs(team.get(daemon["user"], 0.0) - want) > 1e-9:
                problems.append(f"report --team for {daemon['user']}: {team.get(daemon['user'])}, local {want}")
    total = float(psql(state, "SELECT coalesce(sum(estimated_cost_usd), 0) FROM hookmeter.cost_records")[0][0])
    print(f"team total: {total:.9f} centrally, {total_local:.9f} in the three databases")
    if abs(total - total_local) > 1e-9:
        problems.append(f"team total {total} centrally, {total_local} locally")
    if problems:
        fail("\n  " + "\n  ".join(problems))


COMMANDS = {
    "ports": ports,
    "wait-ready": wait_ready,
    "wait-central": wait_central,
    "converge": converge,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
