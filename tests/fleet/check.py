#!/usr/bin/env python3
"""The waiting and the checking of the fleet end-to-end test (run.sh).

run.sh starts and stops the processes; this file waits for them and compares
what Prometheus answers with what the daemons' databases hold. Standard
library only. Subcommands:

  ports N                      N distinct free loopback TCP ports
  wait-ready URL [PID]         until GET URL answers 200 (fails at once if
                               process PID has exited)
  wait-records DB N            until the database holds N cost records
  derive-config SRC DST        the test's Prometheus config, from the example
  wait-scrape STATE AFTER      until Prometheus holds a scrape of every daemon
                               that started after AFTER (Unix seconds)
  check STATE PHASE [--restarted NAME] [--final]
                               every comparison; exit 1 if any fails
  check-down STATE NAME        once daemon NAME's scrape failed: what the
                               fleet sums show without it

STATE is a JSON file run.sh writes: {"prometheus": URL, "job": NAME,
"version": V, "rules": PATH, "dashboard": PATH, "daemons": [{"name",
"instance": "127.0.0.1:PORT", "db": PATH, "cap": N}]}.
"""

import contextlib
import json
import re
import socket
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Sums of costs are compared to this, absolute: Prometheus adds the series
# in its own order, SQLite the rows in theirs.
TOLERANCE = 1e-6
# Longest wait for anything; only reached when something is broken.
PATIENCE = 30.0
OTHER = "other"
# Label of the cost series -> column of cost_records.
LABEL_COLUMNS = {"provider": "provider", "model": "model", "agent": "agent_id"}
TOKEN_TYPES = ["input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning"]


# ---- plumbing -------------------------------------------------------------


def http_get(url, timeout=5.0):
    """(status, body bytes) of GET url; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def prom_api(prom, path, **params):
    """The `data` of a Prometheus API answer; raises with its error otherwise."""
    url = f"{prom}{path}?{urllib.parse.urlencode(params)}" if params else prom + path
    status, body = http_get(url, timeout=10.0)
    try:
        answer = json.loads(body)
    except ValueError:
        raise RuntimeError(f"GET {url}: HTTP {status}, not JSON: {body[:200]!r}")
    if answer.get("status") != "success":
        raise RuntimeError(f"GET {url}: {answer.get('errorType')}: {answer.get('error')}")
    return answer["data"]


def query(prom, expr):
    """An instant query's vector as a list of (labels, value)."""
    data = prom_api(prom, "/api/v1/query", query=expr)
    if data["resultType"] == "scalar":
        return [({}, float(data["result"][1]))]
    return [(s["metric"], float(s["value"][1])) for s in data["result"]]


def by_label(prom, expr, label):
    """{label value: sample value} of a vector aggregated by one label."""
    return {m.get(label, ""): v for m, v in query(prom, expr)}


def open_db(path):
    """A read-only connection, closed at the end of a `with` block."""
    conn = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True, timeout=10)
    return contextlib.closing(conn)


def load_state(path):
    with open(path) as f:
        return json.load(f)


def wait_until(what, probe, patience=PATIENCE):
    """Calls probe() until it returns True (anything else says what is missing);
    exits 1 after `patience` seconds."""
    deadline = time.monotonic() + patience
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as e:  # a server still starting, a database not yet made
            last = e
        if last is True:
            return
        time.sleep(0.1)
    sys.exit(f"FAIL: gave up after {patience:.0f} s waiting for {what} (last: {last})")


# ---- waiting ----------------------------------------------------------------


def cmd_ports(n):
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def alive(pid):
    """Whether process pid runs (an exited child waiting to be reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_wait_ready(url, pid=None):
    def probe():
        if http_get(url)[0] == 200:
            return True
        if pid is not None and not alive(pid):
            sys.exit(f"FAIL: process {pid} exited before GET {url} answered 200")
        return "not ready"

    wait_until(f"GET {url}", probe)


def cmd_wait_records(db, n):
    want = int(n)

    def probe():
        with open_db(db) as conn:
            have = conn.execute("SELECT count(*) FROM cost_records").fetchone()[0]
        return have == want or f"{have} records, want {want}"

    wait_until(f"{want} cost records in {db}", probe)


def cmd_derive_config(src, dst):
    """The example config with test intervals and without its static targets.

    The example's static_configs name hosts that do not exist; the test's
    daemons come in through its file_sd_configs, from targets/*.json beside
    the derived file (as rules.yml is). Every edit must apply exactly once, so
    a change to the example that this derivation no longer understands fails
    here rather than testing something else.
    """
    with open(src) as f:
        text = f.read()
    for key in ["scrape_interval", "evaluation_interval"]:
        text, n = re.subn(rf"^(\s*{key}:\s*)\S+", r"\g<1>1s", text, flags=re.M)
        if n != 1:
            sys.exit(f"FAIL: {src}: expected one {key}, found {n}")
    lines = text.splitlines(keepends=True)
    starts = [i for i, l in enumerate(lines) if re.match(r"^\s+static_configs:\s*$", l)]
    if len(starts) != 1:
        sys.exit(f"FAIL: {src}: expected one static_configs block, found {len(starts)}")
    key = start = end = starts[0]

    def indent(line):
        return len(line) - len(line.lstrip())

    # The block: its key, the lines indented deeper, and the comment above it.
    while end + 1 < len(lines) and (not lines[end + 1].strip() or indent(lines[end + 1]) > indent(lines[key])):
        end += 1
    while start > 0 and lines[start - 1].strip().startswith("#") and indent(lines[start - 1]) == indent(lines[key]):
        start -= 1
    del lines[start:end + 1]
    text = "".join(lines)
    if not re.search(r"^\s+file_sd_configs:\s*$", text, flags=re.M) or '"targets/*.json"' not in text:
        sys.exit(f'FAIL: {src}: no file_sd_configs reading "targets/*.json"')
    with open(dst, "w") as f:
        f.write(f"# Derived from {src} by tests/fleet/check.py: 1 s intervals, no static targets.\n")
        f.write(text)


def cmd_wait_scrape(state_path, after):
    """Waits until every daemon has a sample whose scrape began after `after`.

    A sample is only visible once its scrape is stored, so this also means
    that scrape's values can be queried.
    """
    state = load_state(state_path)
    after = float(after)
    instances = {d["instance"] for d in state["daemons"]}

    def probe():
        stamps = {m["instance"]: v for m, v in query(state["prometheus"], f'timestamp(hookmeter_up{{job="{state["job"]}"}})')}
        late = sorted(i for i in instances if stamps.get(i, 0) <= after)
        return not late or f"no scrape after {after:.3f} yet of {', '.join(late)}"

    wait_until("a scrape of every daemon", probe)


# ---- checking ---------------------------------------------------------------


class Report:
    def __init__(self, phase):
        self.phase = phase
        self.passed = 0
        self.failed = 0
        print(f"-- {phase}")

    def line(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}{': ' + detail if detail else ''}")

    def sums(self, what, got, want):
        """One line per key: Prometheus's sum against the databases'."""
        for key in sorted(set(got) | set(want)):
            g, w = got.get(key), want.get(key)
            name = f"{what} {key!r}" if key != "" else what
            if g is None or w is None:
                self.line(False, name, f"prometheus {fmt(g)}, databases {fmt(w)}")
            else:
                diff = abs(g - w)
                self.line(diff <= TOLERANCE, name, f"prometheus {g:.9f}, databases {w:.9f} (diff {diff:.1e})")


def fmt(v):
    return "missing" if v is None else f"{v:.9f}"


def label_maps(conn, cap):
    """{label: {value in the db: the label value /metrics must show}}.

    A daemon keeps the first `cap` values of each label to appear (by the
    hour of their first record, then by name: docs/metrics.md) and
    sums later ones under `other`.
    """
    maps = {}
    for label, column in LABEL_COLUMNS.items():
        values = [r[0] for r in conn.execute(
            f"SELECT {column} FROM cost_records GROUP BY {column} "
            f"ORDER BY substr(min(timestamp), 1, 13), {column}")]
        maps[label] = {v: (v if i < cap else OTHER) for i, v in enumerate(values)}
    return maps


def expected(state):
    """What the databases say, per daemon and over the fleet."""
    fleet = {"cost": 0.0, "records": 0, "by": {l: {} for l in LABEL_COLUMNS},
             "tokens": {t: 0 for t in TOKEN_TYPES}, "events": {}}
    daemons = {}
    for d in state["daemons"]:
        with open_db(d["db"]) as conn:
            cost, records = conn.execute(
                "SELECT total(estimated_cost_usd), count(*) FROM cost_records").fetchone()
            maps = label_maps(conn, d["cap"])
            own = {"cost": cost, "records": records, "maps": maps, "by": {}}
            for label, column in LABEL_COLUMNS.items():
                sums = {}
                for value, c in conn.execute(
                        f"SELECT {column}, total(estimated_cost_usd) FROM cost_records GROUP BY {column}"):
                    shown = maps[label][value]
                    sums[shown] = sums.get(shown, 0.0) + c
                    fleet["by"][label][shown] = fleet["by"][label].get(shown, 0.0) + c
                own["by"][label] = sums
            row = conn.execute("SELECT " + ", ".join(
                f"total({t}_tokens)" for t in TOKEN_TYPES) + " FROM cost_records").fetchone()
            for t, n in zip(TOKEN_TYPES, row):
                fleet["tokens"][t] += n
            for outcome, n in conn.execute("SELECT outcome, sum(events) FROM event_counts GROUP BY outcome"):
                fleet["events"][outcome] = fleet["events"].get(outcome, 0) + n
        fleet["cost"] += cost
        fleet["records"] += records
        daemons[d["instance"]] = own
    return fleet, daemons


def check_targets(report, state):
    targets = [t for t in prom_api(state["prometheus"], "/api/v1/targets", state="active")["activeTargets"]
               if t["scrapePool"] == state["job"]]
    seen = {t["labels"]["instance"]: t for t in targets}
    want = sorted(d["instance"] for d in state["daemons"])
    report.line(sorted(seen) == want, f"targets of job {state['job']}", f"{sorted(seen)} (want {want})")
    for d in state["daemons"]:
        t = seen.get(d["instance"])
        if t is not None:
            report.line(t["health"] == "up", f"target {d['name']} ({d['instance']}) up",
                        f"health {t['health']}, last scrape {t['lastScrape']}" + (f", error {t['lastError']}" if t["lastError"] else ""))


def check_sums(report, state, fleet, daemons):
    prom, job = state["prometheus"], state["job"]
    sel = f'{{job="{job}"}}'
    names = {d["instance"]: d["name"] for d in state["daemons"]}

    def per_daemon(expr):
        return {names.get(i, i): v for i, v in by_label(prom, expr, "instance").items()}

    report.sums("per daemon: cost", per_daemon(f"sum by (instance) (hookmeter_cost_usd_total{sel})"),
                {names[i]: d["cost"] for i, d in daemons.items()})
    report.sums("fleet: sum(hookmeter_cost_usd_total)", by_label(prom, f"sum(hookmeter_cost_usd_total{sel})", ""),
                {"": fleet["cost"]})
    for label in LABEL_COLUMNS:
        report.sums(f"fleet: cost of {label}",
                    by_label(prom, f"sum by ({label}) (hookmeter_cost_usd_total{sel})", label), fleet["by"][label])
    report.sums("fleet: tokens of type",
                by_label(prom, f"sum by (type) (hookmeter_tokens_total{sel})", "type"),
                {t: float(n) for t, n in fleet["tokens"].items()})
    report.sums("per daemon: records", per_daemon(f"sum by (instance) (hookmeter_records_total{sel})"),
                {names[i]: float(d["records"]) for i, d in daemons.items()})
    report.sums("fleet: events of outcome",
                by_label(prom, f"sum by (outcome) (hookmeter_events_total{sel})", "outcome"),
                {o: float(n) for o, n in fleet["events"].items()})


def check_label_cap(report, state, daemons):
    """Each daemon shows exactly the label values its cap allows."""
    prom = state["prometheus"]
    for d in state["daemons"]:
        own = daemons[d["instance"]]
        for label in LABEL_COLUMNS:
            shown = set(by_label(prom, f'count by ({label}) (hookmeter_cost_usd_total{{instance="{d["instance"]}"}})', label))
            want = set(own["maps"][label].values())
            in_db = len(own["maps"][label])
            what = f"{d['name']} (cap {d['cap']}): {label} labels"
            report.line(shown == want, what, f"{in_db} in the database, shown {sorted(shown)}" + ("" if shown == want else f", want {sorted(want)}"))
            report.sums(f"{d['name']}: cost of {label}",
                        by_label(prom, f'sum by ({label}) (hookmeter_cost_usd_total{{instance="{d["instance"]}"}})', label),
                        own["by"][label])
    capped = [d for d in state["daemons"] if any(len(daemons[d["instance"]]["maps"][l]) > d["cap"] for l in LABEL_COLUMNS)]
    report.line(bool(capped), "the load exceeds a daemon's label cap", ", ".join(d["name"] for d in capped) or "none")


def check_info(report, state):
    series = query(state["prometheus"], f'hookmeter_info{{job="{state["job"]}"}}')
    by_instance = {}
    for m, v in series:
        by_instance.setdefault(m.get("instance"), []).append((m, v))
    host = socket.gethostname()
    report.line(len(series) == len(state["daemons"]), "hookmeter_info series", f"{len(series)} (want {len(state['daemons'])})")
    for d in state["daemons"]:
        found = by_instance.get(d["instance"], [])
        if len(found) != 1:
            report.line(False, f"hookmeter_info of {d['name']}", f"{len(found)} series")
            continue
        m, v = found[0]
        ok = m.get("version") == state["version"] and m.get("host") == host and v == 1
        report.line(ok, f"hookmeter_info of {d['name']}",
                    f'version="{m.get("version")}" host="{m.get("host")}" value {v:g} (want version "{state["version"]}", host "{host}", 1)')


def record_names(rules_path):
    with open(rules_path) as f:
        return re.findall(r"^\s*-\s*record:\s*(\S+)", f.read(), flags=re.M)


def check_rules(report, state, final):
    names = record_names(state["rules"])
    loaded = {}
    for group in prom_api(state["prometheus"], "/api/v1/rules", type="record")["groups"]:
        for rule in group["rules"]:
            loaded[rule["name"]] = rule
    for name in names:
        rule = loaded.get(name)
        if rule is None:
            report.line(False, f"rule {name} loaded", "not in /api/v1/rules")
            continue
        ok = rule["health"] == "ok" and not rule.get("lastError")
        detail = f"health {rule['health']}" + (f", error {rule['lastError']}" if rule.get("lastError") else "")
        if final:
            n = len(query(state["prometheus"], name))
            ok = ok and n > 0
            detail += f", {n} series"
        report.line(ok, f"rule {name}", detail)


def check_restarted(report, state, name):
    d = next(d for d in state["daemons"] if d["name"] == name)
    sel = f'{{instance="{d["instance"]}"}}'
    # Counters read from the database resume where they were: no reset.
    resets = query(state["prometheus"], f"sum(resets(hookmeter_cost_usd_total{sel}[10m]))")
    n = resets[0][1] if resets else None
    report.line(n == 0, f"{name} restarted: resets of hookmeter_cost_usd_total", f"{n}")
    # The writer's own histograms start again from zero with the process.
    resets = query(state["prometheus"], f"sum(resets(hookmeter_writer_batch_size_count{sel}[10m]))")
    n = resets[0][1] if resets else None
    report.line(n is not None and n >= 1, f"{name} restarted: resets of hookmeter_writer_batch_size_count", f"{n}")


# -- the dashboard

# Words of PromQL that are not metric names.
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "and", "or", "unless", "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names a PromQL expression reads.

    Lexical: strings, label matchers, ranges and label lists go first, then
    any identifier that is not a function call or a keyword is a metric name.
    """
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?\w+", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)
    names = set()
    for m in re.finditer(r"(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", s):
        word = m.group(2)
        if word and not m.group(3) and word.lower() not in PROMQL_WORDS:
            names.add(word)
    return names


def grafana_to_promql(expr, job):
    """A dashboard expression with Grafana's variables filled in."""
    values = {"__range": "1h", "__rate_interval": "1m", "__interval": "15s", "job": job, "instance": ".*"}
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), expr)


def dashboard_queries(dashboard):
    """(where, PromQL) of every panel target and query variable."""
    out = []

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dashboard.get("panels", [])):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('title')!r} {t.get('refId')}", t.get("expr", ""), p, t))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q)
        out.append((f"variable ${v['name']}", m.group(1) if m else q, v, None))
    return out


def exposed_names(state):
    """Every series name the daemons' /metrics declare (a histogram's three)."""
    names = set()
    for d in state["daemons"]:
        status, body = http_get(f"http://{d['instance']}/metrics")
        for m in re.finditer(r"^# TYPE (\S+) (\S+)$", body.decode(), flags=re.M):
            name, kind = m.groups()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def check_dashboard(report, state):
    with open(state["dashboard"]) as f:
        dashboard = json.load(f)
    rules = set(record_names(state["rules"]))
    exposed = exposed_names(state)
    allowed = exposed | rules
    report.line(all(n.startswith("hookmeter_") for n in exposed), "the daemons' /metrics names",
                f"{len(exposed)} names, all hookmeter_*")
    queries = dashboard_queries(dashboard)
    sources = {json.dumps(x.get("datasource"), sort_keys=True) for _, _, owner, target in queries
               for x in (owner, target or owner)}
    want = json.dumps({"type": "prometheus", "uid": "${datasource}"}, sort_keys=True)
    report.line(sources == {want}, "dashboard: every panel, target and variable reads ${datasource}",
                ", ".join(sorted(sources)))
    report.line(len(queries) >= 10, "dashboard: queries found", f"{len(queries)}")
    for where, expr, _, _ in queries:
        names = metric_names(expr)
        unknown = sorted(names - allowed)
        report.line(bool(names) and not unknown, f"dashboard {where}: names",
                    f"{sorted(names)}" + (f"; unknown: {unknown}" if unknown else "") + ("" if names else "; reads no series"))
        promql = grafana_to_promql(expr, state["job"])
        try:
            n = len(query(state["prometheus"], promql))
            report.line(n > 0, f"dashboard {where}: query", f"{n} series")
        except RuntimeError as e:
            report.line(False, f"dashboard {where}: query", str(e))


def cmd_check(state_path, phase, *flags):
    state = load_state(state_path)
    restarted = flags[flags.index("--restarted") + 1] if "--restarted" in flags else None
    final = "--final" in flags
    report = Report(phase)
    fleet, daemons = expected(state)
    check_targets(report, state)
    check_sums(report, state, fleet, daemons)
    check_label_cap(report, state, daemons)
    check_info(report, state)
    check_rules(report, state, final)
    if restarted:
        check_restarted(report, state, restarted)
    if final:
        check_dashboard(report, state)
    print(f"-- {phase}: {report.passed} passed, {report.failed} failed "
          f"(fleet ${fleet['cost']:.6f} over {fleet['records']} records)")
    sys.exit(1 if report.failed else 0)


def cmd_check_down(state_path, name):
    """While a daemon is down its series are stale: sum() leaves them out,
    last_over_time() still has their last values (docs/fleet.md)."""
    state = load_state(state_path)
    prom = state["prometheus"]
    down = next(d for d in state["daemons"] if d["name"] == name)

    def probe():
        for t in prom_api(prom, "/api/v1/targets", state="active")["activeTargets"]:
            if t["labels"].get("instance") == down["instance"]:
                return t["health"] == "down" or f"target health {t['health']}"
        return "no such target"

    wait_until(f"a failed scrape of {name}", probe)
    report = Report(f"daemon {name} down")
    fleet, daemons = expected(state)
    sel = f'{{job="{state["job"]}"}}'
    report.sums("fleet without it: sum(hookmeter_cost_usd_total)",
                by_label(prom, f"sum(hookmeter_cost_usd_total{sel})", ""),
                {"": fleet["cost"] - daemons[down["instance"]]["cost"]})
    report.sums("fleet with its last values: sum(last_over_time(hookmeter_cost_usd_total[10m]))",
                by_label(prom, f"sum(last_over_time(hookmeter_cost_usd_total{sel}[10m]))", ""),
                {"": fleet["cost"]})
    print(f"-- daemon {name} down: {report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failed else 0)


COMMANDS = {
    "ports": cmd_ports,
    "wait-ready": cmd_wait_ready,
    "wait-records": cmd_wait_records,
    "derive-config": cmd_derive_config,
    "wait-scrape": cmd_wait_scrape,
    "check": cmd_check,
    "check-down": cmd_check_down,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
