#!/usr/bin/env python3
"""Generate an OpenCode database for benchmarks.

    gen_corpus.py OUT_DIR [--mb 256] [--seed 1]

Writes OUT_DIR/opencode/opencode.db as OpenCode 1.18.33 keeps it (OUT_DIR is
XDG_DATA_HOME for hookmeter; OPENCODE_DATA_DIR=OUT_DIR/opencode for
ccusage), a little of the older JSON storage beside it
(OUT_DIR/opencode/storage/message/<session>/<message>.json), then
OUT_DIR/corpus-summary.json with the ground truth.

The schema is the one of the real databases in
tests/fixtures/opencode/real/*/dump.sql (their CREATE TABLE statements, read
at start) with the indexes OpenCode 1.18.33 creates on them (`part` and
`message` by `message_id` / `session_id`: without them every tool lookup by
message scans the whole `part` table), and every row copies the structure of their rows: `project`,
`session` (with its aggregates), `message` (user messages; one assistant
message per model step, with `path`, `cost`, `tokens {total, input, output,
reasoning, cache {read, write}}`, `modelID`, `providerID`, `time {created,
completed}`, `finish`) and `part` (`step-start`, `reasoning`, `text`, `tool`
with its output — most of the bytes — and `step-finish` repeating the step's
tokens and cost). The cases, at realistic rates:
  * many sessions in 14 projects over 60 days, subagent sessions
    (`parent_id`, run by a `task` tool step);
  * steps with and without tools (`finish` "tool-calls" / "stop"),
    reasoning, cache reads, cache writes (Anthropic);
  * continued sessions (`opencode run --continue`, hours to days later):
    more turns in the same session, on later days;
  * unfinished steps: the row as OpenCode writes it when a step starts
    (zero tokens, no `time.completed`), left so by an interrupted run;
  * aborted steps: `time.completed` and an `error`, every count zero;
  * several providers and models: anthropic (claude-sonnet-4-5,
    claude-haiku-4-5), openai (gpt-5.1-codex, gpt-5-mini) and a custom
    OpenAI-compatible provider without prices (OpenCode's `cost` is 0);
  * the older JSON storage of some early sessions left beside the database
    (the same message ids).

Tokens follow OpenCode's semantics: `input` leaves out the cache, `output`
leaves out `reasoning`; `total` is their sum. OpenCode's `cost` is written
at the list prices (reasoning as output, cache writes at the 5-minute rate)
for the providers it knows, 0 for the custom one.

The truth counts, per hookmeter's rules (docs/ingest.md, "OpenCode"), one
record per finished assistant step with usage: its tokens, the cost at the
rates of the facts file the harness's ledger uses
(tests/fixtures/litellm-model-prices-2026-08-01.json), and OpenCode's own
`cost` summed beside it; in total, per model and per UTC day of
`time.created`. Deterministic for a given --seed and --mb. Standard library
only.
"""

import argparse
import base64
import json
import os
import random
import re
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
REAL = os.path.join(ROOT, "tests", "fixtures", "opencode", "real")
FACTS = os.path.join(ROOT, "tests", "fixtures", "litellm-model-prices-2026-08-01.json")

# (providerID, modelID, weight, OpenCode knows its prices)
MODELS = [("anthropic", "claude-sonnet-4-5", 40, True), ("anthropic", "claude-haiku-4-5", 10, True),
          ("openai", "gpt-5.1-codex", 25, True), ("openai", "gpt-5-mini", 12, True),
          ("local", "gpt-5.1-codex", 13, False)]
WINDOW_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
WINDOW_DAYS = 60
PROJECTS = 14
MIB = 1 << 20

INDEXES = ["CREATE INDEX `message_session_idx` ON `message` (`session_id`)",
           "CREATE INDEX `message_session_time_created_id_idx` ON `message` (`session_id`,`time_created`,`id`)",
           "CREATE INDEX `part_message_idx` ON `part` (`message_id`)",
           "CREATE INDEX `part_message_id_id_idx` ON `part` (`message_id`,`id`)",
           "CREATE INDEX `part_session_idx` ON `part` (`session_id`)"]

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def load_rates():
    facts = json.load(open(FACTS))
    rates = {}
    for _, model, _, _ in MODELS:
        e = facts[model]
        rates[model] = {"input": e["input_cost_per_token"], "output": e["output_cost_per_token"],
                        "read": e.get("cache_read_input_token_cost", 0.0),
                        "write": e.get("cache_creation_input_token_cost", e["input_cost_per_token"])}
    return rates


RATES = load_rates()


def cost(model, t):
    r = RATES[model]
    return (t["input"] * r["input"] + (t["output"] + t["reasoning"]) * r["output"]
            + t["cache"]["read"] * r["read"] + t["cache"]["write"] * r["write"])


def load_templates():
    """The schema and one row of each kind from the real databases."""
    tool = open(os.path.join(REAL, "chat-tool", "dump.sql")).read()
    schema = re.findall(r"^CREATE TABLE .*?\n\s*\);", tool, re.S | re.M)
    if len(schema) < 4:
        sys.exit("gen_corpus.py: no schema in the fixtures")

    def rows(table, text):
        return [json.loads(m.replace("''", "'"))
                for m in re.findall(r"^INSERT INTO %s VALUES\(.*?,'(\{.*\})'\);$" % table, text, re.M)]
    msgs = rows("message", tool)
    parts = rows("part", tool)
    t = {"schema": schema,
         "user": next(m for m in msgs if m["role"] == "user"),
         "assistant": next(m for m in msgs if m["role"] == "assistant"),
         "user_text": next(p for p in parts if p["type"] == "text"),
         "step_start": next(p for p in parts if p["type"] == "step-start"),
         "reasoning": next(p for p in parts if p["type"] == "reasoning"),
         "tool": next(p for p in parts if p["type"] == "tool"),
         "text": [p for p in parts if p["type"] == "text"][-1],
         "finish": next(p for p in parts if p["type"] == "step-finish")}
    sess = re.search(r"^INSERT INTO session VALUES\((.*)\);$", tool, re.M).group(1)
    t["permission"] = re.search(r"'(\[\{\"permission\".*?\])'", sess).group(1)
    return t


T = load_templates()

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Ids:
    """OpenCode-shaped ids (`msg_…`, `prt_…`, `ses_…`): a hex time then random."""

    def __init__(self, rng):
        self.rng = rng
        self.n = 0

    def __call__(self, prefix, ms):
        self.n += 1
        tail = "".join(self.rng.choice(ALPHABET) for _ in range(14))
        return "%s_%012x%s" % (prefix, (ms * 4096 + self.n) & 0xFFFFFFFFFFFF, tail)


class State:
    def __init__(self):
        self.bytes = 0
        self.total = {"records": 0, "input": 0, "output": 0, "reasoning": 0, "cache_read": 0, "cache_write": 0,
                      "cost_usd": 0.0, "reported_cost_usd": 0.0}
        self.by_day = {}
        self.by_model = {}
        self.cases = {"sessions": 0, "subagent_sessions": 0, "continued_sessions": 0, "continued_steps": 0,
                      "continued_steps_on_a_later_day": 0, "turns": 0, "steps": 0, "tool_steps": 0,
                      "steps_with_reasoning": 0, "steps_with_cache_write": 0, "unfinished_steps": 0,
                      "aborted_steps": 0, "unpriced_provider_steps": 0, "unpriced_provider_cost_usd": 0.0,
                      "json_storage_messages": 0, "json_storage_steps": 0, "parts": 0}

    def count(self, model, day, t, c, reported):
        for agg in (self.total, self.by_day.setdefault(day, new_agg()), self.by_model.setdefault(model, new_agg())):
            agg["records"] += 1
            agg["input"] += t["input"]
            agg["output"] += t["output"]
            agg["reasoning"] += t["reasoning"]
            agg["cache_read"] += t["cache"]["read"]
            agg["cache_write"] += t["cache"]["write"]
            agg["cost_usd"] += c
            agg["reported_cost_usd"] += reported


def new_agg():
    return {"records": 0, "input": 0, "output": 0, "reasoning": 0, "cache_read": 0, "cache_write": 0,
            "cost_usd": 0.0, "reported_cost_usd": 0.0}


def day_of(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=256)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    ids = Ids(rng)
    started = time.time()
    data_dir = os.path.join(a.out, "opencode")
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, "opencode.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    for stmt in T["schema"]:
        db.execute(stmt)
    # the indexes OpenCode 1.18.33's migrations create on these tables (in the
    # binary; the fixtures' dumps keep the tables only)
    for stmt in INDEXES:
        db.execute(stmt)
    st = State()
    # tool outputs: slices of a deterministic pool of text
    pool = base64.b64encode(rng.randbytes(4 * MIB)).decode()
    pool = "\n".join(pool[i:i + 100] for i in range(0, len(pool), 100))
    target = int(a.mb * MIB)
    t0 = int(WINDOW_START.timestamp() * 1000)
    span = WINDOW_DAYS * 86400 * 1000
    projects = []
    for i in range(PROJECTS):
        root = "/home/dev/src/project-%02d" % i
        pid = "%040x" % rng.getrandbits(160)
        projects.append((pid, root))
        db.execute("INSERT INTO project VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                   (pid, root, "git", None, None, None, None, t0, t0, None, "[]", None))
    models = [m for m in MODELS]
    weights = [m[2] for m in models]
    json_budget = 400  # sessions whose messages also stay in the older JSON storage
    sessions = []

    def insert_part(msg_id, ses_id, ms, data):
        s = dumps(data)
        st.bytes += len(s)
        st.cases["parts"] += 1
        db.execute("INSERT INTO part VALUES(?,?,?,?,?,?)", (ids("prt", ms), msg_id, ses_id, ms, ms, s))

    def insert_message(msg_id, ses_id, created, updated, data, json_dir):
        s = dumps(data)
        st.bytes += len(s)
        db.execute("INSERT INTO message VALUES(?,?,?,?,?)", (msg_id, ses_id, created, updated, s))
        if json_dir is not None:
            d = dict(data, id=msg_id, sessionID=ses_id)
            os.makedirs(json_dir, exist_ok=True)
            with open(os.path.join(json_dir, msg_id + ".json"), "w") as f:
                f.write(dumps(d))
            st.cases["json_storage_messages"] += 1

    def step(ses, parent_id, ms, prompt, final, kind):
        """One assistant step; returns (end ms, prompt size after it, tokens or None)."""
        provider, model, _, priced = ses["model"]
        msg_id = ids("msg", ms)
        anthropic = provider == "anthropic"
        has_tool = not final
        reasoning = 0 if anthropic else (rng.randrange(8, 1200) if rng.random() < 0.45 else 0)
        output = rng.randrange(20, 900 if has_tool else 2500)
        fresh = rng.randrange(150, 6000)
        if anthropic:
            write = fresh if rng.random() < 0.8 else 0
            read = prompt
            inp = rng.randrange(3, 60) + (fresh - write)
        else:
            write = 0
            read = (prompt // 1024) * 1024 if prompt > 1024 else 0
            inp = prompt - read + fresh
        tokens = {"total": inp + output + reasoning + read + write, "input": inp, "output": output,
                  "reasoning": reasoning, "cache": {"write": write, "read": read}}
        dur = rng.randrange(800, 40000)
        done = ms + dur
        data = dict(T["assistant"])
        data.update(parentID=parent_id, path={"cwd": ses["cwd"], "root": ses["root"]}, modelID=model,
                    providerID=provider, finish="stop" if final else "tool-calls")
        json_dir = ses["json_dir"]
        if kind == "unfinished":
            data.update(cost=0, tokens={"total": 0, "input": 0, "output": 0, "reasoning": 0,
                                        "cache": {"write": 0, "read": 0}}, time={"created": ms})
            data.pop("finish", None)
            insert_message(msg_id, ses["id"], ms, ms, data, json_dir)
            insert_part(msg_id, ses["id"], ms + 5, T["step_start"])
            st.cases["unfinished_steps"] += 1
            return done, prompt, None
        if kind == "aborted":
            data.update(cost=0, tokens={"total": 0, "input": 0, "output": 0, "reasoning": 0,
                                        "cache": {"write": 0, "read": 0}}, time={"created": ms, "completed": ms + 900},
                        error={"name": "MessageAbortedError", "data": {"message": "Aborted"}})
            data.pop("finish", None)
            insert_message(msg_id, ses["id"], ms, ms + 900, data, json_dir)
            insert_part(msg_id, ses["id"], ms + 5, T["step_start"])
            st.cases["aborted_steps"] += 1
            return ms + 900, prompt, None
        reported = round(cost(model, tokens), 8) if priced else 0
        data.update(cost=reported, tokens=tokens, time={"created": ms, "completed": done})
        insert_message(msg_id, ses["id"], ms, done, data, json_dir)
        insert_part(msg_id, ses["id"], ms + 10, T["step_start"])
        if reasoning:
            p = dict(T["reasoning"], text="Considering the next change.", time={"start": ms + 20, "end": ms + 400})
            insert_part(msg_id, ses["id"], ms + 20, p)
            st.cases["steps_with_reasoning"] += 1
        if has_tool:
            size = rng.randrange(2000, 60000) if rng.random() < 0.9 else rng.randrange(60000, 250000)
            off = rng.randrange(0, len(pool) - size)
            out = pool[off:off + size]
            tool = rng.choice(["bash", "read", "grep", "edit", "glob"]) if kind != "task" else "task"
            st_ = dict(T["tool"]["state"])
            st_.update(input={"command": "cat src/module_%d.rs" % rng.randrange(100), "description": "Reads a file"},
                       output=out, metadata={"output": out[:2000], "exit": 0, "truncated": False},
                       title=tool, time={"start": ms + 500, "end": done - 50})
            insert_part(msg_id, ses["id"], ms + 500,
                        dict(T["tool"], tool=tool, callID="call_%d" % st.cases["steps"], state=st_))
            st.cases["tool_steps"] += 1
        else:
            insert_part(msg_id, ses["id"], ms + 600, dict(T["text"], text="Done: the change is in place.",
                                                          time={"start": ms + 600, "end": done - 60}))
        insert_part(msg_id, ses["id"], done - 20, dict(T["finish"], reason=data["finish"], tokens=tokens, cost=reported))
        st.cases["steps"] += 1
        if write:
            st.cases["steps_with_cache_write"] += 1
        if not priced:
            st.cases["unpriced_provider_steps"] += 1
            st.cases["unpriced_provider_cost_usd"] += cost(model, tokens)
        if json_dir is not None:
            st.cases["json_storage_steps"] += 1
        c = cost(model, tokens)
        st.count(model, day_of(ms), tokens, c, reported)
        ses["cost"] += reported
        for k, v in (("input", inp), ("output", output), ("reasoning", reasoning), ("read", read), ("write", write)):
            ses["tokens"][k] += v
        return done, prompt + fresh + output + reasoning, tokens

    def turn(ses, ms, continued):
        user_id = ids("msg", ms)
        u = dict(T["user"], time={"created": ms}, model={"providerID": ses["model"][0], "modelID": ses["model"][1]})
        insert_message(user_id, ses["id"], ms, ms + 500, u, ses["json_dir"])
        insert_part(user_id, ses["id"], ms + 5, dict(T["user_text"], text="please change module %d" % rng.randrange(100)))
        st.cases["turns"] += 1
        ms += rng.randrange(300, 3000)
        prompt = ses["prompt"]
        n_tools = rng.choice([0, 0, 1, 1, 2, 3, 4, 6])
        for i in range(n_tools + 1):
            final = i == n_tools
            kind = "step"
            if not final and ses["can_spawn"] and rng.random() < 0.04:
                kind = "task"
            r = rng.random()
            if r < 0.004:
                kind = "aborted"
            end, prompt, tokens = step(ses, user_id, ms, prompt, final, kind)
            if tokens is not None and continued:
                st.cases["continued_steps"] += 1
                if day_of(ms) != day_of(ses["created"]):
                    st.cases["continued_steps_on_a_later_day"] += 1
            if kind == "aborted":
                return end, True
            if kind == "task":
                end = subagent(ses, end)
            ms = end + rng.randrange(200, 2000)
            prompt = min(prompt, 150_000)
        ses["prompt"] = min(prompt, 150_000)
        return ms, False

    def new_session(created, project, parent=None, model=None):
        pid, root = project
        sid = ids("ses", created)
        json_dir = None
        nonlocal json_budget
        if parent is None and json_budget > 0 and created < t0 + 10 * 86400 * 1000 and rng.random() < 0.5:
            json_budget -= 1
            json_dir = os.path.join(data_dir, "storage", "message", sid)
        ses = {"id": sid, "project": pid, "root": root, "cwd": root + rng.choice(["", "", "/src", "/tests"]),
               "model": model or rng.choices(models, weights)[0], "created": created, "parent": parent,
               "prompt": rng.randrange(9000, 16000), "cost": 0.0, "json_dir": json_dir,
               "tokens": {"input": 0, "output": 0, "reasoning": 0, "read": 0, "write": 0},
               "can_spawn": parent is None, "updated": created}
        st.cases["sessions"] += 1
        return ses

    def subagent(parent, ms):
        child = new_session(ms + 100, (parent["project"], parent["root"]), parent=parent["id"],
                            model=rng.choices(models, weights)[0])
        st.cases["subagent_sessions"] += 1
        end, _ = turn(child, ms + 200, False)
        child["updated"] = end
        write_session(child)
        return end

    def write_session(ses):
        tk = ses["tokens"]
        db.execute("INSERT INTO session VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (ses["id"], ses["project"], None, ses["parent"], "quiet-%s" % ses["id"][-6:].lower(), ses["cwd"],
                    ses["cwd"].lstrip("/"), "Session %s" % ses["id"][-6:], "1.18.33", None, 0, 0, 0, None, None,
                    ses["cost"], tk["input"], tk["output"], tk["reasoning"], tk["read"], tk["write"], None,
                    T["permission"], "build",
                    dumps({"id": ses["model"][1], "providerID": ses["model"][0], "variant": "default"}),
                    ses["created"], ses["updated"], None, None))

    while st.bytes < target:
        created = t0 + rng.randrange(0, span - 6 * 3600 * 1000)
        ses = new_session(created, rng.choice(projects))
        ms = created + rng.randrange(1000, 5000)
        for _ in range(rng.randrange(1, 6)):
            ms, aborted = turn(ses, ms, False)
            if aborted:
                break
            ms += rng.randrange(20_000, 600_000)
        if rng.random() < 0.2:
            # `opencode run --continue`: the same session, hours to days later
            st.cases["continued_sessions"] += 1
            ms += rng.randrange(2 * 3600 * 1000, 6 * 86400 * 1000)
            for _ in range(rng.randrange(1, 4)):
                ms, aborted = turn(ses, ms, True)
                if aborted:
                    break
                ms += rng.randrange(20_000, 600_000)
        if rng.random() < 0.04:
            # a run interrupted as a step started: the row stays unfinished
            user_id = ids("msg", ms)
            insert_message(user_id, ses["id"], ms, ms + 400, dict(T["user"], time={"created": ms}), ses["json_dir"])
            step(ses, user_id, ms + 900, ses["prompt"], True, "unfinished")
        ses["updated"] = ms
        write_session(ses)
        sessions.append(ses["id"])
        if len(sessions) % 200 == 0:
            db.commit()
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()

    def rnd(agg):
        return dict(agg, cost_usd=round(agg["cost_usd"], 6), reported_cost_usd=round(agg["reported_cost_usd"], 6))
    cases = dict(st.cases, unpriced_provider_cost_usd=round(st.cases["unpriced_provider_cost_usd"], 6))
    summary = {
        "generator": "bench/opencode/gen_corpus.py", "mb": a.mb, "seed": a.seed,
        "database_bytes": os.path.getsize(path),
        "rules": ("one record per finished assistant step (time.completed set) with any token count; "
                  "output excludes reasoning (OpenCode's semantics), reasoning billed as output; cost_usd at the "
                  "facts file's rates (cache writes at the 5-minute rate); reported_cost_usd is OpenCode's own cost; "
                  "days are UTC days of time.created"),
        "window": {"start": WINDOW_START.strftime("%Y-%m-%d"), "days": WINDOW_DAYS},
        "total": rnd(st.total),
        "by_model": {k: rnd(v) for k, v in sorted(st.by_model.items())},
        "by_day": {k: rnd(v) for k, v in sorted(st.by_day.items())},
        "cases": cases,
    }
    with open(os.path.join(a.out, "corpus-summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    c = st.cases
    print("opencode.db: %.1f MiB, %d sessions (%d subagent, %d continued), %d steps (%d with tools, "
          "%d with reasoning), %d unfinished, %d aborted, %d JSON storage messages; $%.2f (OpenCode's $%.2f) "
          "in %.1f s" % (summary["database_bytes"] / MIB, c["sessions"], c["subagent_sessions"],
                         c["continued_sessions"], c["steps"], c["tool_steps"], c["steps_with_reasoning"],
                         c["unfinished_steps"], c["aborted_steps"], c["json_storage_messages"],
                         st.total["cost_usd"], st.total["reported_cost_usd"], time.time() - started), file=sys.stderr)


if __name__ == "__main__":
    main()
