#!/usr/bin/env python3
"""Generate a corpus of Gemini CLI chat logs for benchmarks.

    gen_corpus.py OUT_DIR [--mb 256] [--seed 1]

Writes OUT_DIR/.gemini/tmp/<project>/chats/ as the Gemini CLI keeps it
(OUT_DIR is the home directory: GEMINI_CLI_HOME for hookmeter, and
GEMINI_DATA_DIR=OUT_DIR/.gemini/tmp for ccusage), then
OUT_DIR/corpus-summary.json with the ground truth: every billed model
message counted once, in total, per model and per UTC day, with token counts
and cost at list prices.

Lines copy the structure of the files the real Gemini CLI 0.61.0 wrote
(tests/fixtures/gemini/real/, read at start as templates): the header
(`sessionId`, `projectHash`, `startTime`, `lastUpdated`, `kind`), `$set`
lines (`messages` with the session context, `lastUpdated`, `sessionId`),
user messages, `gemini` messages with `thoughts`, `tokens` and `model`, the
same message written again with its `toolCalls` (most of the bytes: the
tool output) and the user message carrying the `functionResponse`.
The cases, at realistic rates:
  * many sessions and projects over 60 days; projects under a slug with
    `.project_root` (0.61.0) or under the SHA-256 of the path (older CLIs);
  * a message id written twice, the second time with `toolCalls`;
  * a first write with `tokens: null`, the tokens arriving on the rewrite;
  * resumed sessions (`--resume`, hours or days later): the header written
    again in the same file, `$set.sessionId` and a `$set.messages` copying
    the whole earlier history under the resume's timestamps (without
    tokens, as 0.61.0 writes it, or with them, as the issue describes it);
    some leave a stray second file holding only a header;
  * subagent logs, `chats/<parent session id>/<id>.jsonl`, kind `subagent`;
  * the older single-JSON form `session-*.json`; some of those resumed,
    i.e. converted to `<name>.jsonl` holding the header and every message
    again, the older file left beside it (0.61.0's chat recorder, started
    on a resumed `.json`, appends to the `.jsonl` name and deletes
    nothing);
  * thoughts, cached input, tool-use prompt tokens, gemini-2.5-pro calls
    whose prompt is over 200,000 tokens (its long-context tier), and five
    gemini models.

Rates are read from the facts file the harness's ledger uses
(tests/fixtures/litellm-model-prices-2026-08-01.json), with Google's
semantics: billed input = input - cached + tool at the input rate, cached at
the cache-read rate, output + thoughts at the output rate; a request whose
prompt (input + tool) is over 200,000 tokens on a model with
`*_above_200k_tokens` rates is billed, every token, at those.

Deterministic for a given --seed and --mb. Standard library only.
"""

import argparse
import base64
import copy
import hashlib
import json
import os
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
REAL = os.path.join(ROOT, "tests", "fixtures", "gemini", "real")
FACTS = os.path.join(ROOT, "tests", "fixtures", "litellm-model-prices-2026-08-01.json")

MODELS = [("gemini-2.5-pro", 55), ("gemini-2.5-flash", 25), ("gemini-2.5-flash-lite", 8),
          ("gemini-2.0-flash", 5), ("gemini-3-pro-preview", 7)]
SUBAGENT_MODELS = [("gemini-2.5-flash", 70), ("gemini-2.5-flash-lite", 30)]
LONG_CONTEXT_THRESHOLD = 200_000
WINDOW_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
WINDOW_DAYS = 60
MIB = 1 << 20

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def load_rates():
    facts = json.load(open(FACTS))
    rates = {}
    for model, _ in MODELS:
        e = facts[model]
        base = (e["input_cost_per_token"], e["cache_read_input_token_cost"], e["output_cost_per_token"])
        long = None
        if "input_cost_per_token_above_200k_tokens" in e:
            long = (e["input_cost_per_token_above_200k_tokens"],
                    e.get("cache_read_input_token_cost_above_200k_tokens", base[1]),
                    e["output_cost_per_token_above_200k_tokens"])
        rates[model] = (base, long)
    return rates


RATES = load_rates()


def is_long(model, t):
    return RATES[model][1] is not None and t["input"] + t["tool"] > LONG_CONTEXT_THRESHOLD


def cost(model, t):
    base, long = RATES[model]
    r = long if is_long(model, t) else base
    return (t["input"] - t["cached"] + t["tool"]) * r[0] + t["cached"] * r[1] + (t["output"] + t["thoughts"]) * r[2]


def cost_tiered_per_kind(model, t):
    """The same tokens priced the other way LiteLLM's `_above_200k_tokens` keys
    are read: each kind (billed input, cached, output) on its own, its first
    200,000 at the base rate, the rest at the higher one. Not what Google
    bills; kept to explain a reader that prices this way."""
    base, long = RATES[model]
    long = long or base
    def tier(n, b, l):
        return min(n, LONG_CONTEXT_THRESHOLD) * b + max(0, n - LONG_CONTEXT_THRESHOLD) * l
    return (tier(t["input"] - t["cached"] + t["tool"], base[0], long[0]) + tier(t["cached"], base[1], long[1])
            + tier(t["output"] + t["thoughts"], base[2], long[2]))


def iso(ts):
    ms = int(ts * 1000)
    dt = WINDOW_START + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def file_time(ts):
    return (WINDOW_START + timedelta(seconds=ts)).strftime("%Y-%m-%dT%H-%M")


def load_templates():
    """The real 0.61.0 lines, one per kind, as parsed JSON."""
    t = {}
    for scen in sorted(os.listdir(REAL)):
        d = os.path.join(REAL, scen, "tmp")
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if not f.endswith(".jsonl"):
                    continue
                for line in open(os.path.join(root, f), encoding="utf-8"):
                    v = json.loads(line)
                    if "sessionId" in v and "kind" in v:
                        k = "header"
                    elif "$set" in v:
                        k = "$set:" + ",".join(sorted(v["$set"]))
                    elif v.get("type") == "gemini":
                        k = "gemini:tools" if v.get("toolCalls") else "gemini"
                    elif v.get("type") == "user":
                        k = "user:response" if "functionResponse" in json.dumps(v["content"]) else "user"
                    else:
                        k = v.get("type", "?")
                    t.setdefault(k, v)
    need = ["header", "$set:lastUpdated,messages", "$set:lastUpdated", "$set:sessionId", "user",
            "user:response", "gemini", "gemini:tools"]
    missing = [k for k in need if k not in t]
    if missing:
        sys.exit("gen_corpus.py: no template for %s in %s" % (missing, REAL))
    return t


class Stats:
    def __init__(self):
        self.files = {"jsonl": 0, "json": 0, "converted_jsonl": 0, "subagent": 0, "stray": 0}
        self.bytes = 0
        self.lines = 0
        self.sessions = 0
        self.projects = set()
        self.messages = 0
        self.tok = {"input": 0, "cached": 0, "output": 0, "thoughts": 0, "tool": 0}
        self.cost = 0.0
        self.by_model = {}
        self.by_day = {}
        self.cases = {"rewritten_with_tool_calls": 0, "null_tokens_first_write": 0, "resumes": 0,
                      "resume_copies": 0, "resume_copies_with_tokens": 0, "stray_header_files": 0,
                      "subagent_logs": 0, "subagent_messages": 0, "long_context_calls": 0,
                      "long_context_cost_usd": 0.0, "long_context_cost_tiered_per_kind_usd": 0.0, "json_sessions": 0, "converted_json_sessions": 0,
                      "converted_copies": 0, "converted_copies_cost_usd": 0.0}
        self.converted_by_day = {}
        self.converted_by_model = {}
        self.long_by_day = {}

    def bill(self, model, ts, t):
        c = cost(model, t)
        day = iso(ts)[:10]
        self.messages += 1
        for k in self.tok:
            self.tok[k] += t[k]
        self.cost += c
        if is_long(model, t):
            self.cases["long_context_calls"] += 1
            self.cases["long_context_cost_usd"] += c
            self.cases["long_context_cost_tiered_per_kind_usd"] += cost_tiered_per_kind(model, t)
            self.long_by_day[day] = self.long_by_day.get(day, 0) + 1
        for table, key in ((self.by_model, model), (self.by_day, day)):
            m = table.setdefault(key, {"messages": 0, "input": 0, "cached": 0, "output": 0, "thoughts": 0,
                                       "tool": 0, "cost": 0.0})
            m["messages"] += 1
            for k in self.tok:
                m[k] += t[k]
            m["cost"] += c
        return c


class Pools:
    def __init__(self, rng):
        r = rng.random
        words = ("the a to of and in is it that for on with as file function test value error type module "
                 "build config request response cache token session user agent model cost line output input "
                 "path server client socket daemon query index table row schema parse buffer stream thread "
                 "retry timeout handler commit branch merge update fix refactor check verify return result").split()
        lines = []
        for _ in range(30000):
            k = int(r() * 6)
            w = lambda: words[int(r() * len(words))]  # noqa: E731
            if k == 0:
                lines.append("   Compiling %s v0.%d.%d" % (w(), int(r() * 30), int(r() * 20)))
            elif k == 1:
                lines.append("%s/%s.ts:%d:  %s" % (w(), w(), int(r() * 900), " ".join(w() for _ in range(8))))
            elif k == 2:
                lines.append("  const %s = await %s.%s(%s);" % (w(), w(), w(), w()))
            elif k == 3:
                lines.append("PASS src/%s/%s.test.ts (%d ms)" % (w(), w(), int(r() * 3000)))
            elif k == 4:
                lines.append("")
            else:
                lines.append(" ".join(w() for _ in range(4 + int(r() * 14))).capitalize() + ".")
        self.text = "\n".join(lines)
        self.words = words

    def chunk(self, rng, n):
        s = int(rng.random() * (len(self.text) - n - 1))
        return self.text[s:s + n]

    def sentence(self, rng, n):
        w = self.words
        return " ".join(w[int(rng.random() * len(w))] for _ in range(n)).capitalize() + "."


def pick(rng, mix):
    x = rng.random() * sum(w for _, w in mix)
    for name, w in mix:
        x -= w
        if x <= 0:
            return name
    return mix[-1][0]


TOOLS = [("run_shell_command", "Shell", "command"), ("read_file", "ReadFile", "absolute_path"),
         ("search_file_content", "SearchText", "pattern"), ("replace", "Edit", "file_path"),
         ("glob", "FindFiles", "pattern"), ("write_file", "WriteFile", "file_path")]


class Chat:
    """One session's log: its file(s), history, context size."""

    def __init__(self, g, start, project, kind="main", parent=None, model_mix=MODELS):
        self.g = g
        self.rng = g.rng
        self.t = start
        self.project = project
        self.sid = g.uuid4()
        self.kind = kind
        self.model = pick(self.rng, model_mix)
        self.model_mix = model_mix
        self.ctx = 6000 + int(self.rng.random() * 9000)
        self.history = []  # messages as the CLI shows them (for a resume's $set.messages)
        self.billed = []  # (timestamp, model, tokens, cost) of every billed message, for copies
        self.project_hash = hashlib.sha256(project["path"].encode()).hexdigest()
        chats = os.path.join(g.home, ".gemini", "tmp", project["dir"], "chats")
        if kind == "subagent":
            self.path = os.path.join(chats, parent.sid, self.sid + ".jsonl")
        else:
            self.path = os.path.join(chats, "session-%s-%s.jsonl" % (file_time(start), self.sid[:8]))
        self.f = None

    # ---- writing ---------------------------------------------------------
    def open(self, path=None):
        p = path or self.path
        os.makedirs(os.path.dirname(p), exist_ok=True)
        self.f = open(p, "ab")

    def emit(self, obj):
        b = (dumps(obj) + "\n").encode()
        self.f.write(b)
        self.g.stats.bytes += len(b)
        self.g.stats.lines += 1

    def close(self):
        self.f.close()
        self.f = None

    # ---- line builders ---------------------------------------------------
    def header(self):
        h = dict(self.g.T["header"])
        h.update(sessionId=self.sid, projectHash=self.project_hash, startTime=iso(self.t), lastUpdated=iso(self.t),
                 kind=self.kind)
        return h

    def context_message(self):
        m = copy.deepcopy(self.g.T["$set:lastUpdated,messages"]["$set"]["messages"][0])
        m["timestamp"] = iso(self.t)
        text = m["content"][0]["text"]
        # the capture's temporary paths (…/<scenario>/project, …/<scenario>/home) made this project's
        text = re.sub(r"/tmp/[^\s/]+/[^\s/]+/project", self.project["path"], text)
        text = re.sub(r"/tmp/[^\s/]+/[^\s/]+/home", "/home/dev", text)
        m["content"][0]["text"] = text
        return m

    def set_messages(self, messages):
        self.emit({"$set": {"messages": messages, "lastUpdated": iso(self.t)}})

    def touch(self):
        self.emit({"$set": {"lastUpdated": iso(self.t)}})

    def tokens(self, thinking, tool_calls):
        r = self.rng.random
        inp = self.ctx
        if self.model in ("gemini-2.5-pro", "gemini-3-pro-preview") and r() < 0.02:
            inp = 200_001 + int(r() ** 2 * 400_000)  # a long-context call: a big file or many of them read in
        cached = 0 if r() < 0.1 else int(min(inp, self.ctx) * (0.5 + r() * 0.45))
        thoughts = int(r() ** 2 * 3000) if thinking else 0
        out = 8 + int(r() ** 2 * 1500) + (40 * tool_calls)
        tool = int(20 + r() * 400) if r() < 0.08 else 0
        return {"input": inp, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool,
                "total": inp + out + thoughts + tool}

    def user_turn(self):
        g, rng = self.g, self.rng
        m = copy.deepcopy(g.T["user"])
        m["id"] = g.uuid4()
        m["timestamp"] = iso(self.t)
        m["content"] = [{"text": g.pools.sentence(rng, 6 + int(rng.random() * 40))}]
        self.emit(m)
        self.touch()
        self.history.append(m)
        self.ctx += 30 + int(rng.random() * 400)

    def model_call(self, final):
        """One billed request: the gemini message, maybe rewritten with its tool calls."""
        g, rng = self.g, self.rng
        r = rng.random
        st = g.stats
        if r() < 0.03:
            self.model = pick(rng, self.model_mix)
        self.t += 2 + r() * 40
        n_tools = 0 if final else 1 + int(r() ** 3 * 3)
        thinking = self.model != "gemini-2.0-flash" and r() < 0.7
        tok = self.tokens(thinking, n_tools)
        m = copy.deepcopy(g.T["gemini"])
        m["id"] = g.uuid4()
        m["timestamp"] = iso(self.t)
        m["content"] = g.pools.sentence(rng, 10 + int(r() ** 2 * 300)) if final or r() < 0.3 else ""
        m["thoughts"] = ([{"subject": g.pools.sentence(rng, 3)[:-1], "description": g.pools.sentence(rng, 20 + int(r() * 120)),
                           "timestamp": iso(self.t)} for _ in range(1 + int(r() * 3))] if thinking else [])
        m["tokens"] = tok
        m["model"] = self.model
        c = st.bill(self.model, self.t, tok)
        self.billed.append((self.t, self.model, tok, c))
        if n_tools and r() < 0.04:
            # the first write before the usage arrived
            early = dict(m, tokens=None)
            self.emit(early)
            st.cases["null_tokens_first_write"] += 1
        self.emit(m)
        self.touch()
        if n_tools:
            calls = []
            responses = []
            for i in range(n_tools):
                name, display, arg = TOOLS[int(r() * len(TOOLS))]
                cid = "%s__%s_%d_%d" % (name, name, 1796000000000 + int(self.t * 1000), i)
                size = int(min(120_000, 100 + r() ** 4 * 40_000))
                body = "<untrusted_context>\n%s\n</untrusted_context>" % g.pools.chunk(rng, size)
                fr = {"functionResponse": {"id": cid, "name": name, "response": {"output": body}}}
                call = copy.deepcopy(g.T["gemini:tools"]["toolCalls"][0])
                call.update(id=cid, name=name, args={arg: g.pools.sentence(rng, 4)[:-1]}, result=[fr],
                            timestamp=iso(self.t + 1 + r() * 20), resultDisplay=body[:200],
                            description=g.pools.sentence(rng, 5), displayName=display)
                calls.append(call)
                responses.append(fr)
                self.ctx += size // 4
            self.t += 2 + r() * 30
            m2 = dict(m, toolCalls=calls)
            self.emit(m2)
            st.cases["rewritten_with_tool_calls"] += 1
            u = copy.deepcopy(g.T["user:response"])
            u["id"] = g.uuid4()
            u["timestamp"] = iso(self.t)
            u["content"] = responses
            self.emit(u)
            self.touch()
            self.history.append(m)
            self.history.append({"id": u["id"], "timestamp": u["timestamp"], "type": "user",
                                 "content": [{"text": "(tool output)"}]})
        else:
            self.history.append(m)
        self.ctx += tok["output"] + 50
        if self.ctx > 180_000:
            # the CLI compresses the history: the context starts over
            self.ctx = 10_000 + int(r() * 8000)

    def turn(self):
        self.user_turn()
        n = int(self.rng.random() ** 2 * 8)
        for i in range(n + 1):
            self.model_call(final=(i == n))

    def resume(self):
        """`gemini --resume`: the header again, the history copied by `$set.messages`."""
        g, rng = self.g, self.rng
        st = g.stats
        self.t += 3600 * (1 + rng.random() * 72)
        st.cases["resumes"] += 1
        if rng.random() < 0.5:
            # the stray file a resume can leave: a header only, a session of its own
            stray = Chat(g, self.t - 1, self.project)
            stray.open()
            stray.emit(stray.header())
            stray.close()
            st.files["stray"] += 1
            st.cases["stray_header_files"] += 1
        self.emit(self.header())
        ctx = self.context_message()
        self.set_messages([ctx])
        self.emit({"$set": {"sessionId": self.sid}})
        with_tokens = rng.random() < 0.4
        copies = [ctx]
        for m in self.history:
            c = {"id": m["id"], "timestamp": iso(self.t), "type": m["type"]}
            content = m["content"]
            c["content"] = [{"text": content}] if isinstance(content, str) else content
            if m["type"] == "gemini":
                st.cases["resume_copies"] += 1
                if with_tokens:
                    c.update(thoughts=m["thoughts"], tokens=m["tokens"], model=m["model"])
                    st.cases["resume_copies_with_tokens"] += 1
            copies.append(c)
        self.set_messages(copies)

    def run(self, target, resume_at=None):
        st = self.g.stats
        start_bytes = st.bytes
        self.open()
        self.emit(self.header())
        self.set_messages([self.context_message()])
        while st.bytes - start_bytes < target:
            self.turn()
            self.t += 20 + self.rng.random() * 600
            if resume_at is not None and st.bytes - start_bytes >= resume_at:
                self.resume()
                resume_at = None
            if self.kind == "main" and self.rng.random() < 0.015:
                self.subagent()
        self.close()
        st.files["subagent" if self.kind == "subagent" else "jsonl"] += 1

    def subagent(self):
        g = self.g
        sub = Chat(g, self.t + 1, self.project, kind="subagent", parent=self, model_mix=SUBAGENT_MODELS)
        before = g.stats.messages
        sub.run(15_000 + int(self.rng.random() * 120_000))
        g.stats.cases["subagent_logs"] += 1
        g.stats.cases["subagent_messages"] += g.stats.messages - before
        self.t = max(self.t, sub.t) + 5


class LegacyChat(Chat):
    """The older single-JSON form: one object, the header's fields beside `messages`."""

    def run(self, target, resume_at=None):
        g, st = self.g, self.g.stats
        self.path = self.path[:-1]  # session-….json
        start_bytes = st.bytes
        messages = []
        emitted = []

        def keep(obj):
            emitted.append(obj)
            st.bytes += len(dumps(obj)) + 2
        self.emit = keep  # collect instead of write: the file is one object
        self.touch = lambda: None
        while st.bytes - start_bytes < target:
            self.turn()
            self.t += 20 + self.rng.random() * 600
        seen = {}
        for m in emitted:  # the array holds each message once, in its last form
            if isinstance(m, dict) and "id" in m and "$set" not in m:
                if m["id"] not in seen:
                    seen[m["id"]] = len(messages)
                    messages.append(m)
                else:
                    messages[seen[m["id"]]] = m
        h = self.header()
        del h["kind"]
        h["lastUpdated"] = iso(self.t)
        h["messages"] = messages
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "wb") as f:
            f.write(dumps(h).encode())
        st.lines += 1
        st.files["json"] += 1
        st.cases["json_sessions"] += 1
        if resume_at is not None:
            # resumed by a newer CLI: converted to <name>.jsonl, every message
            # copied, the older file left where it was
            st.cases["converted_json_sessions"] += 1
            del self.emit, self.touch
            self.path = self.path + "l"
            self.open()
            hh = self.header()
            hh["startTime"] = h["startTime"]
            self.emit(hh)
            for m in messages:
                self.emit(m)
                if m["type"] == "gemini" and m.get("tokens"):
                    st.cases["converted_copies"] += 1
            for ts, model, tok, c in self.billed:
                st.cases["converted_copies_cost_usd"] += c
                day = iso(ts)[:10]
                st.converted_by_day[day] = st.converted_by_day.get(day, 0.0) + c
                st.converted_by_model[model] = st.converted_by_model.get(model, 0.0) + c
            self.t += 3600 * (1 + self.rng.random() * 72)
            self.emit(self.header())
            for _ in range(1 + int(self.rng.random() * 4)):
                self.turn()
                self.t += 20 + self.rng.random() * 600
            self.close()
            st.files["converted_jsonl"] += 1


class Generator:
    def __init__(self, home, mb, seed):
        self.home = home
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.pools = Pools(self.rng)
        self.T = load_templates()
        self.target = int(mb * MIB)
        names = ["shop", "api-gateway", "hookmeter", "infra", "web-app", "ml-pipeline", "billing",
                 "data-etl", "auth-service", "cli-tools", "search", "compiler", "docs-site", "mobile"]
        self.projects = []
        for i, n in enumerate(names):
            path = "/home/dev/src/" + n
            # 0.61.0 names the directory by a slug and writes .project_root;
            # older CLIs used the SHA-256 of the path
            hashed = i % 5 == 4
            d = hashlib.sha256(path.encode()).hexdigest() if hashed else n
            self.projects.append({"path": path, "dir": d, "hashed": hashed})

    def uuid4(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:32])

    def run(self):
        rng, st = self.rng, self.stats
        for p in self.projects:
            d = os.path.join(self.home, ".gemini", "tmp", p["dir"])
            os.makedirs(os.path.join(d, "chats"), exist_ok=True)
            if not p["hashed"]:
                with open(os.path.join(d, ".project_root"), "w") as f:
                    f.write(p["path"])
        while st.bytes < self.target:
            x = rng.random()
            if x < 0.5:
                size = int(20_000 + rng.random() * 300_000)
            elif x < 0.97:
                size = int(MIB * (0.2 + rng.random() ** 2 * 2))
            else:
                size = int(MIB * (5 + rng.random() * 10))
            size = min(size, max(20_000, self.target - st.bytes))
            day = int(rng.random() * WINDOW_DAYS * 0.95)
            start = day * 86400 + (7 + rng.random() * 13) * 3600
            project = self.projects[int(rng.random() ** 1.5 * len(self.projects))]
            legacy = project["hashed"] and rng.random() < 0.6 or rng.random() < 0.04
            resume_at = size * (0.3 + rng.random() * 0.5) if rng.random() < (0.3 if legacy else 0.15) else None
            chat = (LegacyChat if legacy else Chat)(self, start, project)
            chat.run(size, resume_at)
            st.sessions += 1
            st.projects.add(project["dir"])
            if sys.stderr.isatty():
                sys.stderr.write("\r%5.1f%%" % (100.0 * min(1.0, st.bytes / self.target)))
        if sys.stderr.isatty():
            sys.stderr.write("\r")

    def summary(self, mb, seed, elapsed):
        st = self.stats
        t = st.tok

        def tokens(x):
            return {"input": x["input"], "cached_input": x["cached"], "billed_input": x["input"] - x["cached"] + x["tool"],
                    "output": x["output"], "thoughts": x["thoughts"], "billed_output": x["output"] + x["thoughts"],
                    "tool": x["tool"]}

        cases = dict(st.cases)
        for k in ("long_context_cost_usd", "long_context_cost_tiered_per_kind_usd"):
            cases[k] = round(cases[k], 6)
        cases["converted_copies_cost_usd"] = round(cases["converted_copies_cost_usd"], 6)
        cases["note"] = ("messages/tokens/cost count every billed message once; converted_copies are what a reader "
                         "counting the JSONL copy of a converted older file again would add")
        return {
            "generator": "bench/gemini/gen_corpus.py",
            "format_version": 1,
            "mb": mb,
            "seed": seed,
            "files": st.files,
            "bytes": st.bytes,
            "lines": st.lines,
            "sessions": st.sessions,
            "projects": len(st.projects),
            "messages": st.messages,
            "tokens": tokens(t),
            "cost_usd": round(st.cost, 6),
            "rates_from": "tests/fixtures/litellm-model-prices-2026-08-01.json",
            "cases": cases,
            "by_model": {k: dict(tokens(v), messages=v["messages"], cost_usd=round(v["cost"], 6),
                                 converted_copies_cost_usd=round(st.converted_by_model.get(k, 0.0), 6))
                         for k, v in sorted(st.by_model.items())},
            "by_day": {k: dict(tokens(v), messages=v["messages"], cost_usd=round(v["cost"], 6),
                               converted_copies_cost_usd=round(st.converted_by_day.get(k, 0.0), 6),
                               long_context_calls=st.long_by_day.get(k, 0))
                       for k, v in sorted(st.by_day.items())},
            "generation": {"seconds": round(elapsed, 2), "mb_per_s": round(st.bytes / MIB / max(elapsed, 1e-9), 1)},
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--mb", type=float, default=256, help="corpus size in MiB (default 256)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if os.path.exists(os.path.join(a.out_dir, ".gemini")):
        sys.exit("gen_corpus.py: %s/.gemini already exists; remove it first" % a.out_dir)
    t0 = time.monotonic()
    g = Generator(a.out_dir, a.mb, a.seed)
    g.run()
    s = g.summary(a.mb, a.seed, time.monotonic() - t0)
    tmp = os.path.join(a.out_dir, "corpus-summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out_dir, "corpus-summary.json"))
    c = s["cases"]
    print("corpus: %d sessions in %d projects, %s files, %.1f MiB, %d lines; %d billed messages, $%.2f" % (
        s["sessions"], s["projects"], s["files"], s["bytes"] / MIB, s["lines"], s["messages"], s["cost_usd"]))
    print("cases: %d rewritten with toolCalls, %d null-token first writes, %d resumes (%d stray files), "
          "%d subagent logs, %d long-context calls, %d older .json (%d converted, %d copies)" % (
              c["rewritten_with_tool_calls"], c["null_tokens_first_write"], c["resumes"], c["stray_header_files"],
              c["subagent_logs"], c["long_context_calls"], c["json_sessions"], c["converted_json_sessions"],
              c["converted_copies"]))
    print("generated in %.1f s (%.1f MiB/s)" % (s["generation"]["seconds"], s["generation"]["mb_per_s"]))


if __name__ == "__main__":
    main()
