#!/usr/bin/env python3
"""Time hookmeter's reads against the sqlite3 shell on a generated database;
print a Markdown report. Called by bench/reports/run.sh (see there).

    measure.py --db DB --meta META --bin HOOKMETER_BIN --work TMPDIR --out-dir DIR
               [--reps 30] [--warmup 2] [--reference 1]

In one run, each pair interleaved (hookmeter, baseline, hookmeter, …) so both
see the same machine load:
  * `hookmeter report --period month --by model` (spawn → exit) against the
    sqlite3 shell doing the same GROUP BY over cost_records (spawn → exit);
  * `hookmeter serve`'s HTTP API on one persistent loopback connection
    (request → last byte of the body) against the sqlite3 shell running the
    equivalent SQL;
  * the same SQL on an open python3 sqlite3 connection (no process start),
    for reference.
A step whose command or endpoint this build lacks is reported as skipped.
"""

import argparse
import http.client
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

COLS = ("sum(estimated_cost_usd) AS cost_usd, sum(input_tokens) AS input_tokens, "
        "sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens, "
        "sum(cache_write_tokens) AS cache_write_tokens, count(*) AS records")
MONTH_START = "strftime('%Y-%m-01T00:00:00.000Z', 'now')"
DAYS30_AGO = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')"
PAGE_SIZE = 100
# The dashboard's session table: its range buttons (the API's time_range, and
# the same start in SQLite's words for the baseline) and sort orders (the
# API's sort, and the aggregate the base-table GROUP BY orders by).
SESSION_RANGES = [("1h", "-1 hours"), ("24h", "-1 days"), ("7d", "-7 days"), ("30d", "-30 days"),
                  ("all", None)]
SESSION_SORTS = [("last_at", "max(timestamp)"), ("first_at", "min(timestamp)"),
                 ("cost_usd", "total(estimated_cost_usd)"), ("records", "count(*)"),
                 ("tokens", "sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)")]
SESSION_PAGE = 50
SESSION_CLI_LIMIT = 20  # `hookmeter sessions`' default --limit


def session_sql(since, order, limit, offset, ids_only=False):
    """What `GET /api/costs/sessions` answers, as a plain GROUP BY over the base
    table: the page and the count behind its `total`."""
    where = "session_id IS NOT NULL"
    index = ""
    if since is not None:
        where += " AND timestamp >= strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '%s')" % since
        index = " INDEXED BY idx_cost_records_timestamp"
    cols = "session_id" if ids_only else (
        "session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd), sum(input_tokens), "
        "sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), "
        "sum(reasoning_tokens), max(project)")
    page = ("SELECT %s FROM cost_records%s WHERE %s GROUP BY session_id ORDER BY %s DESC, session_id "
            "LIMIT %d OFFSET %d;" % (cols, index, where, order, limit, offset))
    if ids_only:
        return page
    return page + " SELECT count(DISTINCT session_id) FROM cost_records%s WHERE %s;" % (index, where)


def log(msg):
    print("== " + msg, file=sys.stderr, flush=True)


def pct(sorted_ms, p):
    """Same rule as benches/ingest.rs: the sample at (n - 1) * p rounded half up
    (Rust's round(), not Python's half-to-even); p50 of 30 = the 16th, p95 = the 29th."""
    return sorted_ms[int(math.floor((len(sorted_ms) - 1) * p + 0.5))]


def sql_queries(session_id, mid_offset, agent, agent_offset):
    q = lambda s: s.replace("'", "''")
    # The time-window summaries name the timestamp index: without statistics
    # (hookmeter never runs ANALYZE) SQLite's planner walks the GROUP BY
    # column's index instead, all 10M rows, about 4x slower here. Those
    # as-written forms are measured too (*_as_written, reference table).
    month = lambda index: ("SELECT model AS key, " + COLS + " FROM cost_records" + index + " WHERE timestamp >= "
                           + MONTH_START + " GROUP BY model ORDER BY cost_usd DESC;")
    d30 = lambda index: ("SELECT agent_id AS key, " + COLS + " FROM cost_records" + index + " WHERE timestamp >= "
                         + DAYS30_AGO + " GROUP BY agent_id ORDER BY cost_usd DESC;")
    by_ts = " INDEXED BY idx_cost_records_timestamp"
    return {
        "month_by_model": month(by_ts),
        "30d_by_agent": d30(by_ts),
        "session": "SELECT model AS key, %s FROM cost_records WHERE session_id = '%s' GROUP BY model; "
                   "SELECT tool_name AS key, %s FROM cost_records WHERE session_id = '%s' GROUP BY tool_name;"
                   % (COLS, q(session_id), COLS, q(session_id)),
        "page_mid": "SELECT * FROM cost_records ORDER BY timestamp DESC, id DESC LIMIT %d OFFSET %d; "
                    "SELECT count(*) FROM cost_records;" % (PAGE_SIZE, mid_offset),
        "page_1": "SELECT * FROM cost_records ORDER BY timestamp DESC, id DESC LIMIT %d; "
                  "SELECT count(*) FROM cost_records;" % PAGE_SIZE,
        "page_agent": "SELECT * FROM cost_records WHERE agent_id = '%s' ORDER BY timestamp DESC, id DESC "
                      "LIMIT %d OFFSET %d; SELECT count(*) FROM cost_records WHERE agent_id = '%s';"
                      % (q(agent), PAGE_SIZE, agent_offset, q(agent)),
        # reference only
        "month_by_model_as_written": month(""),
        "30d_by_agent_as_written": d30(""),
        "page_mid_rows": "SELECT * FROM cost_records ORDER BY timestamp DESC, id DESC LIMIT %d OFFSET %d;"
                         % (PAGE_SIZE, mid_offset),
        "count": "SELECT count(*) FROM cost_records;",
    }


class Timed:
    """Samples (ms) of one thing, or why it was skipped."""

    def __init__(self, skipped=None):
        self.ms = []
        self.skipped = skipped
        self.note = ""

    def p(self, q):
        return pct(sorted(self.ms), q) if self.ms else None


def run_process(argv, env):
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - started) * 1000.0
    return ms, done


def interleave(reps, warmup, steps):
    """steps: list of (Timed, callable returning ms or raising). Warm-ups, then
    `reps` rounds of every step in turn."""
    for _ in range(warmup):
        for t, fn in steps:
            if t.skipped is None:
                fn()
    for _ in range(reps):
        for t, fn in steps:
            if t.skipped is None:
                t.ms.append(fn())


class ShellQuery:
    def __init__(self, db, sql, env, out_path):
        self.argv = ["sqlite3", "-readonly", db, sql]
        self.env = env
        self.out_path = out_path
        self.first = True

    def __call__(self):
        ms, done = run_process(self.argv, self.env)
        if done.returncode != 0:
            raise SystemExit("sqlite3 failed (%d): %s" % (done.returncode, done.stderr.decode(errors="replace")))
        if self.first:
            open(self.out_path, "wb").write(done.stdout)
            self.first = False
        return ms


class Command:
    def __init__(self, argv, env, out_path):
        self.argv, self.env, self.out_path, self.first = argv, env, out_path, True

    def __call__(self):
        ms, done = run_process(self.argv, self.env)
        if done.returncode != 0:
            raise SystemExit("%s failed (%d): %s" % (" ".join(self.argv), done.returncode,
                                                     done.stderr.decode(errors="replace")[-2000:]))
        if self.first:
            open(self.out_path, "wb").write(done.stdout)
            self.first = False
        return ms


class Http:
    """GET on one persistent connection, reopened if the server closes it."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.reopened = 0

    def get(self, path):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.connect()
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if attempt:
                    self.reopened += 1
            try:
                started = time.perf_counter()
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                ms = (time.perf_counter() - started) * 1000.0
                if resp.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, body, ms
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
        raise SystemExit("GET %s: the server closed the connection twice" % path)


class Endpoint:
    def __init__(self, client, path, out_path):
        self.client, self.path, self.out_path, self.first = client, path, out_path, True

    def __call__(self):
        status, body, ms = self.client.get(self.path)
        if status != 200:
            raise SystemExit("GET %s answered %d: %s" % (self.path, status, body[:500]))
        if self.first:
            open(self.out_path, "wb").write(body)
            self.first = False
        return ms


class InProcess:
    def __init__(self, conn, sql):
        self.conn = conn
        self.statements = [s.strip() for s in sql.split(";") if s.strip()]

    def __call__(self):
        started = time.perf_counter()
        for s in self.statements:
            self.conn.execute(s).fetchall()
        return (time.perf_counter() - started) * 1000.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, db, work, keep, env_base):
    """Starts `hookmeter serve` with HTTP on a free loopback port. Returns
    (process, port, reason): reason is set when there is no HTTP listener."""
    port = free_port()
    sock = os.path.join(work, "hm.sock")
    env = dict(env_base, TELEMETRY_DB_PATH=db, HOOKMETER_SOCKET=sock,
               HOOKMETER_SPOOL=os.path.join(work, "spool"), HOOKMETER_HTTP="127.0.0.1:%d" % port,
               RUST_LOG="warn")
    err = open(os.path.join(keep, "serve.stderr"), "wb")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    socket_up_at = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc, port, "`hookmeter serve` exited with status %d (see serve.stderr)" % proc.returncode
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, None
        except OSError:
            pass
        if socket_up_at is None and os.path.exists(sock):
            socket_up_at = time.monotonic()
        # the daemon is up (its Unix socket answers) but nothing listens on the port
        if socket_up_at is not None and time.monotonic() - socket_up_at > 5:
            return proc, port, "no HTTP listener: the daemon started but nothing listens on the " \
                               "HOOKMETER_HTTP address (this build has no HTTP API)"
        time.sleep(0.05)
    return proc, port, "`hookmeter serve` did not start within 120 s"


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ordinal(n):
    return "%d%s" % (n, "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th"))


def fmt(v):
    return "—" if v is None else ("%.1f" % v if v >= 10 else "%.2f" % v)


def measure_sessions(client, reason, db, ro, env_base, cli_env, args, keep, checks):
    """The dashboard's session table for every range button and sort order, page
    1 and a deep page, and `hookmeter sessions`, each against the plain GROUP BY
    over the base table. Returns (label, Timed, baseline Timed) rows."""
    pairs = []
    skipped = reason
    for rng, since in SESSION_RANGES:
        total = None
        if skipped is None:
            status, body, _ = client.get("/api/costs/sessions?time_range=%s&page_size=%d" % (rng, SESSION_PAGE))
            if status != 200:
                skipped = "`GET /api/costs/sessions` answers %d" % status
            else:
                total = json.loads(body).get("total", 0)
        deep = max(1, (((total or 0) + SESSION_PAGE - 1) // SESSION_PAGE) // 2)
        for sort, order in SESSION_SORTS:
            for page in sorted({1, deep}):
                path = "/api/costs/sessions?time_range=%s&sort=%s&page=%d&page_size=%d" % (
                    rng, sort, page, SESSION_PAGE)
                name = "sessions_%s_%s_p%d" % (rng, sort, page)
                t, b = Timed(skipped), Timed()
                sql = session_sql(since, order, SESSION_PAGE, (page - 1) * SESSION_PAGE)
                with open(os.path.join(keep, "queries.sql"), "a") as f:
                    f.write("-- %s\n%s\n\n" % (name, sql))
                label = "`GET %s` (%s)" % (path, "page 1" if page == 1 else "deep page of %s sessions"
                                          % format(total or 0, ","))
                hm = Endpoint(client, path, os.path.join(keep, "http_%s.json" % name)) if skipped is None else None
                pairs.append((label, t, b, hm, ShellQuery(db, sql, env_base, os.path.join(keep, "sqlite3_%s.out" % name))))
                if skipped is None and page == 1:
                    # The same ids in the same order as the GROUP BY (a record
                    # at the range's start may fall on either side of `now`).
                    _, body, _ = client.get(path)
                    got = [r.get("session_id") for r in json.loads(body).get("sessions", [])]
                    want = [r[0] for r in ro.execute(session_sql(since, order, SESSION_PAGE, 0, ids_only=True))]
                    if got != want:
                        checks.append("%s: session ids DIFFER from the GROUP BY over cost_records" % path)
    checks.append("sessions: page 1 of every range and sort compared with the GROUP BY over cost_records "
                  "(a difference is listed above)")
    cli_t = Timed() if os.access(args.bin, os.X_OK) else Timed("%s is missing" % args.bin)
    cli_sql = session_sql(None, "max(timestamp)", SESSION_CLI_LIMIT, 0)
    pairs.append(("`hookmeter sessions`", cli_t, Timed(),
                  Command([args.bin, "sessions"], cli_env, os.path.join(keep, "cli_sessions.out")),
                  ShellQuery(db, cli_sql, env_base, os.path.join(keep, "sqlite3_cli_sessions.out"))))
    log("sessions: %d requests, %d runs each, baselines %d runs each" % (
        len(pairs), args.session_reps, args.session_base_reps))
    for rep in range(args.warmup + args.session_reps):
        for label, t, b, hm, base in pairs:
            if t.skipped is None:
                ms = hm()
                if rep >= args.warmup:
                    t.ms.append(ms)
            # One warm-up run of each baseline, then its timed runs.
            if rep <= args.session_base_reps:
                ms = base()
                if rep > 0:
                    b.ms.append(ms)
    return [(label, t, b) for label, t, b, _, _ in pairs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="scratch dir: HOME, socket, spool")
    ap.add_argument("--out-dir", required=True, help="where the first output of each query is kept")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reference", type=int, default=1, help="0 = skip the open-connection reference")
    ap.add_argument("--session-reps", type=int, default=10,
                    help="timed runs of each request of the session table (range x sort x page)")
    ap.add_argument("--session-base-reps", type=int, default=3,
                    help="timed runs of each of their sqlite3 baselines (seconds each at 10M records)")
    args = ap.parse_args()
    meta = json.load(open(args.meta))
    db, work, keep = os.path.abspath(args.db), os.path.abspath(args.work), os.path.abspath(args.out_dir)
    os.makedirs(keep, exist_ok=True)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    env_base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TZ": "UTC", "LANG": "C.UTF-8",
                "HOOKMETER_CONFIG": os.path.join(home, "no-config.toml")}
    records = meta["records"]
    pages = (records + PAGE_SIZE - 1) // PAGE_SIZE
    mid_page = pages // 2
    session_id = meta["session"]["id"]
    ro = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    # A filtered page: the middle page of the second busiest agent, from the
    # rollup (the busiest holds half the records; a smaller one is the
    # harder case for a scan in time order).
    agents = ro.execute("SELECT agent_id, sum(records) FROM cost_rollup_daily GROUP BY 1 "
                        "ORDER BY 2 DESC LIMIT 2").fetchall()
    agent, agent_records = agents[-1]
    agent_page = max(1, (agent_records + PAGE_SIZE - 1) // PAGE_SIZE // 2)
    Q = sql_queries(session_id, (mid_page - 1) * PAGE_SIZE, agent, (agent_page - 1) * PAGE_SIZE)
    load_before = os.getloadavg()
    with open(os.path.join(keep, "queries.sql"), "w") as f:
        for name, sql in Q.items():
            f.write("-- %s\n%s\n\n" % (name, sql))

    now = datetime.now(timezone.utc)
    month_start = now.strftime("%Y-%m-01T00:00:00.000Z")
    d30 = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    in_month = ro.execute("SELECT count(*) FROM cost_records WHERE timestamp >= ?", (month_start,)).fetchone()[0]
    in_30d = ro.execute("SELECT count(*) FROM cost_records WHERE timestamp >= ?", (d30,)).fetchone()[0]
    shell_version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]

    def shell(name):
        return ShellQuery(db, Q[name], env_base, os.path.join(keep, "sqlite3_%s.out" % name))

    # ---- CLI: report --period month --by model --------------------------------
    cli = Timed()
    cli_base = Timed()
    help_run = subprocess.run([args.bin, "report", "--help"], env=env_base, capture_output=True)
    if not os.access(args.bin, os.X_OK):
        cli.skipped = "%s is missing or not executable" % args.bin
    elif help_run.returncode != 0:
        cli.skipped = "this build has no `report` subcommand (`hookmeter report --help` exits %d)" % help_run.returncode
    cli_env = dict(env_base, TELEMETRY_DB_PATH=db)
    log("CLI: report --period month --by model vs sqlite3 (%d reps)%s" % (
        args.reps, "" if cli.skipped is None else " — hookmeter skipped: " + cli.skipped))
    interleave(args.reps, args.warmup, [
        (cli, Command([args.bin, "report", "--period", "month", "--by", "model"], cli_env,
                      os.path.join(keep, "report_month_by_model.out"))),
        (cli_base, shell("month_by_model")),
    ])

    # ---- HTTP ------------------------------------------------------------------
    paths = {
        "summary": "/api/costs/summary?group_by=agent&time_range=30d",
        "session": "/api/costs/sessions/%s" % session_id,
        "page_mid": "/api/costs?page=%d&page_size=%d" % (mid_page, PAGE_SIZE),
        "page_1": "/api/costs?page=1&page_size=%d" % PAGE_SIZE,
        "page_agent": "/api/costs?agent_id=%s&page=%d&page_size=%d" % (agent, agent_page, PAGE_SIZE),
    }
    base_of = {"summary": "30d_by_agent", "session": "session", "page_mid": "page_mid", "page_1": "page_1",
               "page_agent": "page_agent"}
    # What each page must hold: the same rows in the same order as SQL over the base table.
    page_want = {
        "page_mid": ("SELECT id FROM cost_records ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?",
                     (PAGE_SIZE, (mid_page - 1) * PAGE_SIZE), records),
        "page_1": ("SELECT id FROM cost_records ORDER BY timestamp DESC, id DESC LIMIT ?", (PAGE_SIZE,), records),
        "page_agent": ("SELECT id FROM cost_records WHERE agent_id = ? ORDER BY timestamp DESC, id DESC "
                       "LIMIT ? OFFSET ?", (agent, PAGE_SIZE, (agent_page - 1) * PAGE_SIZE), agent_records),
    }
    http_t = {k: Timed() for k in paths}
    http_base = {k: Timed() for k in paths}
    checks = []
    session_rows = []
    server, port, reason = (None, None, None)
    if not os.access(args.bin, os.X_OK):
        reason = "%s is missing or not executable" % args.bin
    else:
        log("HTTP: starting hookmeter serve")
        server, port, reason = start_server(args.bin, db, work, keep, env_base)
    try:
        client = Http(port) if reason is None else None
        for k, path in paths.items():
            if reason is not None:
                http_t[k].skipped = reason
                continue
            status, body, _ = client.get(path)
            if status == 404:
                http_t[k].skipped = "`GET %s` answers 404 (not in this build)" % path.split("?")[0]
            elif status != 200:
                http_t[k].skipped = "`GET %s` answers %d: %s" % (path, status, body[:200].decode(errors="replace"))
        # cheap checks of what the endpoints return
        try:
            if http_t["summary"].skipped is None:
                _, body, _ = client.get(paths["summary"])
                got = json.loads(body)
                want = ro.execute("SELECT total(estimated_cost_usd), count(*) FROM cost_records WHERE timestamp >= %s"
                                  % DAYS30_AGO).fetchone()
                total = float(got.get("total_cost_usd", float("nan")))
                # the two "last 30 days" start a moment apart: a few records may differ
                close = abs(total - want[0]) <= 1e-4 * max(1.0, want[0])
                checks.append("summary: total_cost_usd %.2f, cost_records over the last 30 days %.2f "
                              "(%s); %d groups" % (total, want[0], "agree within 0.01 %" if close else "DIFFER",
                                                   len(got.get("groups", []))))
            for k, (sql, params, count) in page_want.items():
                if http_t[k].skipped is None:
                    _, body, _ = client.get(paths[k])
                    got = json.loads(body)
                    recs = got.get("records", [])
                    ids = [r.get("id") for r in recs if isinstance(r, dict)]
                    want = [r[0] for r in ro.execute(sql, params)]
                    checks.append("%s: %d records, total %s (database: %d), %s" % (
                        paths[k], len(recs), got.get("total"), count,
                        "the same ids in the same order as ORDER BY timestamp DESC, id DESC over cost_records"
                        if ids == want else "ids DIFFER from ORDER BY timestamp DESC, id DESC over cost_records"))
            if http_t["session"].skipped is None:
                _, body, _ = client.get(paths["session"])
                checks.append("sessions/{id}: %d bytes of JSON for a session of %d records" % (
                    len(body), meta["session"]["records"]))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            checks.append("could not read an endpoint's JSON for the checks: %r" % e)
        steps = []
        for k in paths:
            steps.append((http_t[k], Endpoint(client, paths[k], os.path.join(keep, "http_%s.json" % k))))
            steps.append((http_base[k], shell(base_of[k])))
        log("HTTP: %s vs sqlite3 (%d reps)%s" % (", ".join(paths), args.reps,
                                               "" if reason is None else " — hookmeter skipped: " + reason))
        interleave(args.reps, args.warmup, steps)
        session_rows.extend(measure_sessions(client, reason, db, ro, env_base, cli_env, args, keep, checks))
        if client is not None and client.reopened:
            checks.append("the server closed the keep-alive connection %d times (reopened; those "
                          "requests include a TCP connect)" % client.reopened)
    finally:
        if server is not None:
            stop_server(server)

    # ---- reference: same SQL, open connection, no process start ----------------
    ref = {}
    slow_reps = min(args.reps, 5)
    if args.reference:
        log("reference: the same SQL on an open python3 sqlite3 connection")
        names = ["month_by_model", "30d_by_agent", "session", "page_mid", "page_mid_rows", "page_1", "count"]
        ref = {n: Timed() for n in names}
        startup = Timed()
        ref["shell_startup"] = startup
        steps = [(ref[n], InProcess(ro, Q[n])) for n in names]
        steps.append((startup, ShellQuery(db, "SELECT 1;", env_base, os.path.join(keep, "sqlite3_select1.out"))))
        interleave(args.reps, args.warmup, steps)
        log("reference: the summaries as written, without INDEXED BY (%d runs each)" % slow_reps)
        slow = ["month_by_model_as_written", "30d_by_agent_as_written"]
        for n in slow:
            ref[n] = Timed()
        interleave(slow_reps, 1, [(ref[n], shell(n)) for n in slow])
    load_after = os.getloadavg()

    # ---- report ---------------------------------------------------------------
    rows = [
        ("`hookmeter report --period month --by model`", cli, cli_base, 100,
         "this month (UTC) GROUP BY model, on the timestamp index"),
        ("`GET %s`" % paths["summary"], http_t["summary"], http_base["summary"], 100,
         "last 30 days GROUP BY agent_id, on the timestamp index"),
        ("`GET /api/costs/sessions/{id}` (%d records)" % meta["session"]["records"], http_t["session"],
         http_base["session"], 100, "GROUP BY model; GROUP BY tool_name of the session"),
        ("`GET %s` (middle page)" % paths["page_mid"], http_t["page_mid"], http_base["page_mid"], 20,
         "ORDER BY timestamp DESC, id DESC LIMIT 100 OFFSET %s; count(*)" % format((mid_page - 1) * PAGE_SIZE, ",")),
        ("`GET %s`" % paths["page_1"], http_t["page_1"], http_base["page_1"], 20,
         "ORDER BY timestamp DESC, id DESC LIMIT 100; count(*)"),
        ("`GET %s` (middle page of %s records)" % (paths["page_agent"], format(agent_records, ",")),
         http_t["page_agent"], http_base["page_agent"], 20,
         "WHERE agent_id = … ORDER BY timestamp DESC, id DESC LIMIT 100 OFFSET %s; count(*)"
         % format((agent_page - 1) * PAGE_SIZE, ",")),
    ]
    print("## Reading the data: hookmeter vs the sqlite3 shell\n")
    print("Database: %s records, %s sessions, %.2f GiB, %s to %s (generated %s, seed %s); this month "
          "(UTC): %s records; last 30 days: %s records. Each figure: %d timed runs after %d warm-up "
          "run(s), interleaved with its baseline; p95 = the %s of %d sorted.\n" % (
              format(records, ","), format(meta["sessions"], ","), meta["db_bytes"] / (1 << 30),
              meta["first_timestamp"], meta["last_timestamp"], meta["generated_at"], meta["args"]["seed"],
              format(in_month, ","), format(in_30d, ","), args.reps, args.warmup,
              ordinal(int(math.floor((args.reps - 1) * 0.95 + 0.5)) + 1), args.reps))
    print("| query | hookmeter p50 (ms) | hookmeter p95 (ms) | target p95 | met? | sqlite3 shell p50 (ms) "
          "| sqlite3 shell p95 (ms) | sqlite3 ÷ hookmeter (p50 / p95) | baseline SQL |")
    print("|---|---|---|---|---|---|---|---|---|")
    skipped_notes = []
    for label, t, b, target, what in rows:
        if t.skipped is not None:
            hm50 = hm95 = "skipped"
            met = ratio = "—"
            skipped_notes.append("%s: skipped — %s." % (label, t.skipped))
        else:
            hm50, hm95 = fmt(t.p(0.5)), fmt(t.p(0.95))
            met = "yes" if t.p(0.95) <= target else "**no**"
            ratio = "%.1f× / %.1f×" % (b.p(0.5) / t.p(0.5), b.p(0.95) / t.p(0.95))
        print("| %s | %s | %s | ≤ %d ms | %s | %s | %s | %s | %s |" % (
            label, hm50, hm95, target, met, fmt(b.p(0.5)), fmt(b.p(0.95)), ratio, what))
    print()
    for n in skipped_notes:
        print("- " + n)
    print("- The CLI row and every sqlite3 shell figure include starting the process and opening the "
          "database; the HTTP figures are request → last byte on one keep-alive loopback connection.")
    print("- Baselines: sqlite3 shell %s (`sqlite3 -readonly DB SQL`, its SQL in bench/out/reports/last/queries.sql), over "
          "the base table `cost_records` and its indexes, no rollups. The two time-window summaries say "
          "`INDEXED BY idx_cost_records_timestamp`: as written, without it, SQLite's planner (no ANALYZE "
          "statistics) walks the GROUP BY column's index over every row instead (reference table). "
          "A page's baseline includes the `count(*)` behind the API's `total`." % shell_version)
    if session_rows:
        print("\n### The session table (`GET /api/costs/sessions`, `hookmeter sessions`)\n")
        print("Each request: %d timed runs after %d warm-up run(s); each sqlite3 baseline: %d timed runs, "
              "after one warm-up run, interleaved (a GROUP BY over the base table takes seconds on a large database). Page size %d; "
              "the deep page is the middle page of the range's sessions.\n"
              % (args.session_reps, args.warmup, args.session_base_reps, SESSION_PAGE))
        print("| request | hookmeter p50 (ms) | hookmeter p95 (ms) | target p95 | met? | sqlite3 shell p50 (ms) "
              "| sqlite3 shell p95 (ms) | sqlite3 ÷ hookmeter (p50) |")
        print("|---|---|---|---|---|---|---|---|")
        for label, t, b in session_rows:
            if t.skipped is not None:
                print("| %s | skipped | skipped | ≤ 100 ms | — | %s | %s | — |" % (
                    label, fmt(b.p(0.5)), fmt(b.p(0.95))))
                continue
            print("| %s | %s | %s | ≤ 100 ms | %s | %s | %s | %.1f× |" % (
                label, fmt(t.p(0.5)), fmt(t.p(0.95)), "yes" if t.p(0.95) <= 100 else "**no**",
                fmt(b.p(0.5)), fmt(b.p(0.95)), b.p(0.5) / t.p(0.5)))
        print()
    for c in checks:
        print("- check: " + c)
    print("- Load average (1 min) before / after the run: %.2f / %.2f." % (load_before[0], load_after[0]))
    if ref:
        print("\nReference: the same SQL on one open connection (python3 sqlite3 %s, no process start):\n"
              % sqlite3.sqlite_version)
        print("| SQL | p50 (ms) | p95 (ms) |")  # the last two rows: sqlite3 shell
        print("|---|---|---|")
        labels = [
            ("month_by_model", "this month GROUP BY model"),
            ("30d_by_agent", "last 30 days GROUP BY agent_id"),
            ("session", "session: GROUP BY model; GROUP BY tool_name"),
            ("page_mid", "middle page + count(*)"),
            ("page_mid_rows", "middle page alone (LIMIT 100 OFFSET %s)" % format((mid_page - 1) * PAGE_SIZE, ",")),
            ("page_1", "page 1 + count(*)"),
            ("count", "count(*) alone"),
            ("shell_startup", "sqlite3 shell `SELECT 1` (process start + open)"),
            ("month_by_model_as_written", "sqlite3 shell: this month GROUP BY model without INDEXED BY "
             "(%d runs)" % slow_reps),
            ("30d_by_agent_as_written", "sqlite3 shell: last 30 days GROUP BY agent_id without INDEXED BY "
             "(%d runs)" % slow_reps),
        ]
        for n, label in labels:
            print("| %s | %s | %s |" % (label, fmt(ref[n].p(0.5)), fmt(ref[n].p(0.95))))
    ro.close()


if __name__ == "__main__":
    main()
