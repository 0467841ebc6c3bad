#!/usr/bin/env python3
"""Generate a corpus of Codex CLI rollouts (JSONL) for benchmarks.

    gen_corpus.py OUT_DIR [--gb 1.0] [--seed 1]

Writes OUT_DIR in the CODEX_HOME layout: sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl
and archived_sessions/rollout-<time>-<id>.jsonl, then OUT_DIR/corpus-summary.json
with the ground truth: every billed model response counted once, in total,
per model and per UTC day, with token counts and cost at list prices.

Lines of the current format copy the structure of the files the real Codex
CLI 0.171.0 wrote (tests/fixtures/codex/real/, read at start as templates):
session_meta (with its ~21 KB base_instructions), world_state, turn_context,
event_msg task_started / thread_settings_applied / item_completed /
task_complete, response_item message / reasoning / function_call /
function_call_output, token_usage_record (one per response, keyed by its
response_id) and event_msg token_count (thread total + last response).
The cases that matter, at realistic rates:
  * resumed sessions: later turns appended to the same file, the thread
    total carrying on (as `codex exec resume` does);
  * forks: a new file whose session_meta names forked_from_id and whose
    running totals carry the parent's (as `codex exec fork` does in 0.171);
  * repeated token_count lines with an unchanged total and last usage;
  * token_count with info null (rate limits only);
  * reasoning (inside output), cached input, several gpt-5.x codex models,
    a model change mid-session;
  * archived sessions (archived_sessions/, flat);
  * rollouts in the older format (no ordinal/metadata, no
    token_usage_record: usage only in token_count), some without
    last_token_usage (the response is the growth of the total), and older
    forks that replay the parent's lines verbatim (same timestamps and
    totals) before their own turns.

Deterministic for a given --seed and --gb. Standard library only.
"""

import argparse
import base64
import copy
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone

# Prices per 1M tokens (input, cached input, output), as in
# crates/hookmeter-core/src/pricing/prices.toml. Billed input = input - cached;
# reasoning is inside output.
PRICES = {
    "gpt-5-codex": (1.25, 0.125, 10.0),
    "gpt-5.1-codex": (1.25, 0.125, 10.0),
    "gpt-5.1-codex-max": (1.25, 0.125, 10.0),
    "gpt-5.1-codex-mini": (0.25, 0.025, 2.0),
    "gpt-5.2-codex": (1.75, 0.175, 14.0),
    "gpt-5.3-codex": (1.75, 0.175, 14.0),
}
NEW_MODELS = [("gpt-5.1-codex", 30), ("gpt-5.1-codex-max", 15), ("gpt-5.2-codex", 20),
              ("gpt-5.3-codex", 20), ("gpt-5.1-codex-mini", 15)]
OLD_MODELS = [("gpt-5-codex", 60), ("gpt-5.1-codex", 30), ("gpt-5.1-codex-mini", 10)]

WINDOW_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
WINDOW_DAYS = 60
MIB = 1 << 20
CONTEXT_WINDOW = 258400

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "tests", "fixtures", "codex", "real")

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def cost(model, inp, cached, out):
    p = PRICES[model]
    return ((inp - cached) * p[0] + cached * p[1] + out * p[2]) / 1e6


def iso(ts):
    ms = int(ts * 1000)
    dt = WINDOW_START + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def load_templates():
    """The real 0.171.0 lines, one per kind, as parsed JSON."""
    t = {}
    for scen in ("shell", "text"):
        d = os.path.join(REAL, scen, "sessions")
        for root, _, files in os.walk(d):
            for f in sorted(files):
                for line in open(os.path.join(root, f), encoding="utf-8"):
                    v = json.loads(line)
                    p = v.get("payload", {})
                    k = v["type"]
                    if k in ("event_msg", "response_item"):
                        k += ":" + p.get("type", "")
                        if p.get("type") == "message":
                            k += ":" + p.get("role", "")
                            if p.get("role") == "user" and "environment_context" in json.dumps(p):
                                k += ":env"
                        if p.get("type") == "item_completed":
                            k += ":" + p["item"]["type"]
                    t.setdefault(k, v)
    need = ["session_meta", "world_state", "turn_context", "token_usage_record",
            "event_msg:task_started", "event_msg:thread_settings_applied", "event_msg:task_complete",
            "event_msg:token_count", "event_msg:item_completed:UserMessage",
            "event_msg:item_completed:AgentMessage", "response_item:message:developer",
            "response_item:message:user:env", "response_item:message:user", "response_item:message:assistant",
            "response_item:reasoning", "response_item:function_call", "response_item:function_call_output"]
    missing = [k for k in need if k not in t]
    if missing:
        sys.exit("gen_corpus.py: no template for %s in %s" % (missing, REAL))
    return t


def sub_str(v, old, new):
    """Every string inside v with `old` replaced by `new` (for cwd/paths)."""
    if isinstance(v, str):
        return v.replace(old, new)
    if isinstance(v, list):
        return [sub_str(x, old, new) for x in v]
    if isinstance(v, dict):
        return {k: sub_str(x, old, new) for k, x in v.items()}
    return v


class Stats:
    def __init__(self):
        self.files = 0
        self.archived_files = 0
        self.bytes = 0
        self.lines = 0
        self.largest = ("", 0)
        self.sessions = {"current_format": 0, "older_format": 0}
        self.resumes = 0
        self.forks = 0
        self.fork_carried = [0, 0, 0, 0]  # parent totals the forks' running totals start from
        self.replay_forks = 0
        self.replayed_lines = 0
        self.replayed = [0, 0, 0, 0, 0.0, 0]  # input, cached, output, reasoning, cost, responses
        self.replayed_by_day = {}
        self.repeated = 0
        self.repeated_tok = [0, 0, 0, 0, 0.0]
        self.repeated_by_day = {}
        self.null_info = 0
        self.no_last = 0
        self.model_switches = 0
        self.responses = 0
        self.tok = [0, 0, 0, 0]  # input (incl. cached), cached, output (incl. reasoning), reasoning
        self.cost = 0.0
        self.by_model = {}
        self.by_day = {}

    def bill(self, model, day, inp, cached, out, reas):
        c = cost(model, inp, cached, out)
        self.responses += 1
        for i, v in enumerate((inp, cached, out, reas)):
            self.tok[i] += v
        self.cost += c
        for table, key in ((self.by_model, model), (self.by_day, day)):
            m = table.get(key)
            if m is None:
                m = table[key] = [0, 0, 0, 0, 0, 0.0]
            m[0] += 1
            m[1] += inp
            m[2] += cached
            m[3] += out
            m[4] += reas
            m[5] += c


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
            if k == 0:
                lines.append("   Compiling %s v0.%d.%d" % (words[int(r() * len(words))], int(r() * 30), int(r() * 20)))
            elif k == 1:
                lines.append("test %s::%s ... ok" % (words[int(r() * len(words))], words[int(r() * len(words))]))
            elif k == 2:
                lines.append("src/%s/%s.rs:%d:    %s" % (words[int(r() * len(words))], words[int(r() * len(words))],
                                                       int(r() * 900), " ".join(words[int(r() * len(words))] for _ in range(8))))
            elif k == 3:
                lines.append("    let %s = %s.%s(%s)?;" % tuple(words[int(r() * len(words))] for _ in range(4)))
            elif k == 4:
                lines.append("")
            else:
                lines.append(" ".join(words[int(r() * len(words))] for _ in range(4 + int(r() * 14))).capitalize() + ".")
        self.text = "\n".join(lines)
        self.b64 = base64.b64encode(rng.randbytes(600_000)).decode()
        self.words = words

    def chunk(self, rng, n):
        s = int(rng.random() * (len(self.text) - n - 1))
        return self.text[s:s + n]

    def blob(self, rng, n):
        s = int(rng.random() * (len(self.b64) - n - 1))
        return "gAAAAA" + self.b64[s:s + n]

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


class Writer:
    """One rollout file: writes lines, keeps the byte count."""

    def __init__(self, g, path):
        self.g = g
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "ab")
        self.written = []  # kept only for files a fork may replay

    def emit(self, obj, keep=False):
        b = (dumps(obj) + "\n").encode()
        self.f.write(b)
        st = self.g.stats
        st.bytes += len(b)
        st.lines += 1
        if keep:
            self.written.append(b)
        return len(b)

    def close(self):
        self.f.close()


class Session:
    """A Codex thread: its rollout file, state, totals."""

    def __init__(self, g, start, old, fork_of=None):
        self.g = g
        self.rng = g.rng
        self.old = old
        self.t = start
        self.sid = g.uuid7(start)
        self.cwd = g.rng.choice(g.projects)
        self.model = pick(self.rng, OLD_MODELS if old else NEW_MODELS)
        self.total = [0, 0, 0, 0]  # input, cached, output, reasoning
        self.ordinal = 0
        self.seq = 0
        self.resp = 0
        self.ctx = 9000 + int(self.rng.random() * 6000)
        self.no_last = old and self.rng.random() < 0.25
        self.parent = fork_of
        name = "rollout-%s-%s.jsonl" % ((WINDOW_START + timedelta(seconds=start)).strftime("%Y-%m-%dT%H-%M-%S"), self.sid)
        archived = self.rng.random() < 0.12
        if archived:
            path = os.path.join(g.out, "archived_sessions", name)
        else:
            path = os.path.join(g.out, "sessions", (WINDOW_START + timedelta(seconds=start)).strftime("%Y/%m/%d"), name)
        self.archived = archived
        self.w = Writer(g, path)
        self.keep = old and fork_of is None  # an older session a later fork may replay
        if fork_of is not None:
            self.cwd = fork_of.cwd
            self.model = fork_of.model
            self.total = list(fork_of.total)
            self.ctx = fork_of.ctx
            self.ordinal = fork_of.ordinal
            st = g.stats
            for i in range(4):
                st.fork_carried[i] += fork_of.total[i]

    # ---- line builders (current format) ----------------------------------
    def line(self, kind, payload, extra=None):
        d = {"timestamp": iso(self.t)}
        if not self.old:
            d["ordinal"] = self.ordinal
            self.ordinal += 1
        d["type"] = kind
        d["payload"] = payload
        if extra:
            d.update(extra)
        return d

    def meta(self, kind):
        self.seq += 1
        return {"metadata": {"history_sequence": self.seq, "sampled_through_sequence": max(0, self.seq - 2),
                             "client_authored": False, "model_search_state": "unused"}}

    def emit(self, d):
        return self.w.emit(d, keep=self.keep)

    def session_meta(self):
        T = self.g.T
        if self.old:
            p = {"id": self.sid, "timestamp": iso(self.t), "cwd": self.cwd, "originator": "codex_cli_rs",
                 "cli_version": "0.46.0", "instructions": None,
                 "git": {"commit_hash": "%040x" % self.rng.getrandbits(160), "branch": "main"}}
        else:
            p = dict(T["session_meta"]["payload"])
            p["session_id"] = p["id"] = self.sid
            p["timestamp"] = iso(self.t)
            p["cwd"] = self.cwd
            p["runtime_workspace_roots"] = [self.cwd]
            p["model_provider"] = "openai"
            p["context_window"] = {"window_id": self.g.uuid7(self.t)}
            if self.parent is not None:
                p["forked_from_id"] = self.parent.sid
        self.emit(self.line("session_meta", p))
        if not self.old:
            ws = sub_str(T["world_state"]["payload"], "/home/dev/project", self.cwd)
            ws["state"]["collaboration_mode"]["model"] = self.model
            self.emit(self.line("world_state", ws))
            dev = copy.deepcopy(T["response_item:message:developer"])
            self.emit(self.line("response_item", dev["payload"], self.meta("dev")))
            env = sub_str(T["response_item:message:user:env"]["payload"], "/home/dev/project", self.cwd)
            self.emit(self.line("response_item", env, self.meta("env")))

    def turn(self, n_responses):
        g, rng, T = self.g, self.rng, self.g.T
        r = rng.random
        st = g.stats
        turn_id = g.uuid7(self.t)
        if r() < 0.04:
            self.model = pick(rng, OLD_MODELS if self.old else NEW_MODELS)
            st.model_switches += 1
        if self.old:
            self.emit(self.line("turn_context", {"cwd": self.cwd, "approval_policy": "on-request",
                                                 "sandbox_policy": {"mode": "workspace-write"}, "model": self.model,
                                                 "effort": "medium", "summary": "auto"}))
            if r() < 0.5:
                self.emit(self.line("event_msg", {"type": "token_count", "info": None,
                                                  "rate_limits": {"primary": {"used_percent": round(r() * 50, 1), "window_minutes": 300}}}))
                st.null_info += 1
        else:
            ts = copy.deepcopy(T["event_msg:task_started"]["payload"])
            ts["turn_attribution"]["turn_id"] = ts["turn_attribution"]["root_turn_id"] = turn_id
            ts["turn_id"] = ts["root_turn_id"] = turn_id
            ts["started_at"] = int(self.t) + 1788220800
            self.emit(self.line("event_msg", ts))
            tc = copy.deepcopy(T["turn_context"]["payload"])
            tc["turn_id"] = tc["root_turn_id"] = turn_id
            tc["cwd"] = self.cwd
            tc["model"] = self.model
            tc["collaboration_mode"]["settings"]["model"] = self.model
            self.emit(self.line("turn_context", tc))
            if r() < 0.3:
                sa = copy.deepcopy(T["event_msg:thread_settings_applied"]["payload"])
                sa["thread_id"] = self.sid
                sa["thread_settings"]["model"] = self.model
                sa["thread_settings"]["cwd"] = self.cwd
                self.emit(self.line("event_msg", sa))
        prompt = g.pools.sentence(rng, 5 + int(r() * 30))
        um = copy.deepcopy(T["response_item:message:user"]["payload"])
        um["id"] = "msg_" + g.uuid7(self.t)
        um["content"][0]["text"] = prompt
        if self.old:
            self.emit(self.line("response_item", {"type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": prompt}]}))
        else:
            um["internal_chat_message_metadata_passthrough"]["turn_id"] = turn_id
            self.emit(self.line("response_item", um, self.meta("u")))
        self.ctx += len(prompt) // 4 + 10
        for i in range(n_responses):
            self.t += 2 + r() * 25
            last = i == n_responses - 1
            reasoning = int(r() * 400) if r() < 0.7 else 0
            if reasoning:
                rp = {"type": "reasoning", "id": "rs_%d" % (self.resp + 1),
                      "summary": [{"type": "summary_text", "text": g.pools.sentence(rng, 6 + int(r() * 20))}],
                      "content": None,
                      "encrypted_content": g.pools.blob(rng, 800 + int(r() * 6000)) if r() < 0.8 else None}
                self.emit(self.line("response_item", rp, None if self.old else self.meta("r")))
            calls = 0 if last else 1 + (1 if r() < 0.2 else 0)
            out_text = ""
            if calls:
                for c in range(calls):
                    cmd = rng.choice(["cargo test", "rg -n fn src", "cat src/main.rs", "git diff", "ls -la",
                                      "sed -n 1,200p src/lib.rs", "npm test", "pytest -q"])
                    fc = {"type": "function_call", "name": "shell" if r() < 0.8 else "apply_patch",
                          "arguments": dumps({"command": ["bash", "-lc", cmd]}), "call_id": "call_%d_%d" % (self.resp, c)}
                    if not self.old:
                        fc = dict(fc, status="completed", id="fc_%d" % self.resp,
                                  internal_chat_message_metadata_passthrough={"turn_id": turn_id})
                    self.emit(self.line("response_item", fc, None if self.old else self.meta("f")))
            else:
                out_text = g.pools.sentence(rng, 10 + int(r() * 80))
                am = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": out_text}]}
                if not self.old:
                    ac = copy.deepcopy(T["event_msg:item_completed:AgentMessage"]["payload"])
                    ac["thread_id"] = self.sid
                    ac["turn_id"] = turn_id
                    ac["item"]["id"] = "msg_%d" % (self.resp + 1)
                    ac["item"]["content"][0]["text"] = out_text
                    self.emit(self.line("event_msg", ac))
                    am = dict(am, status="completed", id="msg_%d" % (self.resp + 1),
                              internal_chat_message_metadata_passthrough={"turn_id": turn_id, "content_item_kinds": ["unknown"]})
                    am["content"][0]["annotations"] = []
                self.emit(self.line("response_item", am, None if self.old else self.meta("a")))
            # the response's usage: the whole context in, most of it cached
            inp = self.ctx
            cached = 0 if r() < 0.06 else int(self.ctx * (0.75 + r() * 0.2)) // 128 * 128
            cached = min(cached, inp)
            out = reasoning + 20 + int(r() * 300) + (len(out_text) // 4)
            self.resp += 1
            day = iso(self.t)[:10]
            st.bill(self.model, day, inp, cached, out, reasoning)
            for k, v in enumerate((inp, cached, out, reasoning)):
                self.total[k] += v
            usage = self.usage(inp, cached, out, reasoning)
            total = self.usage(*self.total)
            if not self.old:
                rec = {"thread_id": self.sid, "turn_id": turn_id, "session_id": self.sid, "root_turn_id": turn_id,
                       "response_id": "resp_%s" % g.b62(24), "usage": usage, "turn_token_usage": usage,
                       "thread_token_usage": total}
                self.emit(self.line("token_usage_record", rec))
            outputs = []
            if calls:
                for c in range(calls):
                    size = int(min(60000, 200 + r() ** 3 * 40000))
                    body = g.pools.chunk(rng, size)
                    fo = {"type": "function_call_output", "call_id": "call_%d_%d" % (self.resp - 1, c), "output": body}
                    if not self.old:
                        fo = dict(fo, id="fco_" + g.uuid7(self.t),
                                  internal_chat_message_metadata_passthrough={"turn_id": turn_id})
                        fo = {"type": fo["type"], "id": fo["id"], "call_id": fo["call_id"], "output": body,
                              "internal_chat_message_metadata_passthrough": fo["internal_chat_message_metadata_passthrough"]}
                    outputs.append(fo)
                    self.ctx += size // 4
            if outputs and not self.old:
                self.emit(self.line("response_item", outputs.pop(0), self.meta("o")))
            tc = self.token_count(usage, total)
            self.emit(tc)
            if r() < 0.08:
                # the same token_count again: unchanged total and last usage
                self.emit(tc)
                st.repeated += 1
                for k, v in enumerate((inp, cached, out, reasoning)):
                    st.repeated_tok[k] += v
                c = cost(self.model, inp, cached, out)
                st.repeated_tok[4] += c
                st.repeated_by_day[day] = st.repeated_by_day.get(day, 0.0) + c
            for fo in outputs:
                self.emit(self.line("response_item", fo, None if self.old else self.meta("o")))
            self.ctx += out + 50
        if not self.old:
            tcm = {"type": "task_complete", "root_turn_id": turn_id, "turn_id": turn_id,
                   "last_agent_message": out_text, "started_at": 0, "completed_at": 0,
                   "duration_ms": int(r() * 90000), "time_to_first_token_ms": int(r() * 3000)}
            self.emit(self.line("event_msg", tcm))
        if self.ctx > 200_000:
            # compaction: the context starts over from a summary
            self.emit(self.line("compacted", {"message": g.pools.sentence(rng, 60), "replacement_history": []}))
            self.ctx = 12_000 + int(r() * 8000)

    def usage(self, inp, cached, out, reas):
        return {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": 0,
                "output_tokens": out, "reasoning_output_tokens": reas, "total_tokens": inp + out}

    def token_count(self, usage, total):
        if self.old:
            info = {"total_token_usage": dict(total), "model_context_window": CONTEXT_WINDOW}
            del info["total_token_usage"]["cache_write_input_tokens"]
            if not self.no_last:
                last = dict(usage)
                del last["cache_write_input_tokens"]
                info["last_token_usage"] = last
            else:
                self.g.stats.no_last += 1
            return self.line("event_msg", {"type": "token_count", "info": info,
                                           "rate_limits": {"primary": {"used_percent": 12.0, "window_minutes": 300}}})
        tc = copy.deepcopy(self.g.T["event_msg:token_count"]["payload"])
        tc["info"]["total_token_usage"] = total
        tc["info"]["last_token_usage"] = usage
        return self.line("event_msg", tc)

    def run(self, target, replay=None):
        g, rng = self.g, self.rng
        r = rng.random
        start_bytes = g.stats.bytes
        self.session_meta()
        if replay is not None:
            # an older fork: the parent's lines again, verbatim
            lines, parent_tally = replay
            for b in lines:
                self.w.f.write(b)
                g.stats.bytes += len(b)
                g.stats.lines += 1
            st = g.stats
            st.replay_forks += 1
            st.replayed_lines += len(lines)
            for k in range(4):
                st.replayed[k] += parent_tally[k]
            st.replayed[4] += parent_tally[4]
            st.replayed[5] += parent_tally[5]
            for day, c in parent_tally[6].items():
                st.replayed_by_day[day] = st.replayed_by_day.get(day, 0.0) + c
            self.t = max(self.t, self.parent.t + 60)
        tally_from = (list(g.stats.tok), g.stats.cost, g.stats.responses, {k: v[5] for k, v in g.stats.by_day.items()})
        resume_at = target * (0.3 + r() * 0.5) if r() < 0.15 else None
        while g.stats.bytes - start_bytes < target:
            self.turn(1 + int(r() ** 2 * 14))
            self.t += 20 + r() * 600
            if resume_at is not None and g.stats.bytes - start_bytes >= resume_at:
                # resumed later (same file, the total carries on), maybe days later
                self.t += 3600 * (2 + r() * 60)
                resume_at = None
                g.stats.resumes += 1
                if not self.old:
                    sa = copy.deepcopy(g.T["event_msg:thread_settings_applied"]["payload"])
                    sa["thread_id"] = self.sid
                    sa["thread_settings"]["model"] = self.model
                    sa["thread_settings"]["cwd"] = self.cwd
                    self.emit(self.line("event_msg", sa))
        self.w.close()
        st = g.stats
        st.files += 1
        st.archived_files += self.archived
        size = os.path.getsize(self.w.path)
        if size > st.largest[1]:
            st.largest = (os.path.relpath(self.w.path, g.out), size)
        if self.keep:
            # what a replaying fork would copy: this file's lines after its session_meta
            tok, c0, n0, days0 = tally_from
            days = {k: v[5] - days0.get(k, 0.0) for k, v in st.by_day.items() if v[5] - days0.get(k, 0.0) > 0}
            tally = [st.tok[k] - tok[k] for k in range(4)] + [st.cost - c0, st.responses - n0, days]
            return (self.w.written[1:], tally)
        return None


class Generator:
    def __init__(self, out, gb, seed):
        self.out = out
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.pools = Pools(self.rng)
        self.T = load_templates()
        self.target = int(gb * (1 << 30))
        homes = ["/home/dev/", "/home/dev/src/", "/Users/alice/code/"]
        names = ["shop", "api-gateway", "hookmeter", "infra", "web-app", "ml-pipeline", "billing",
                 "data-etl", "auth-service", "cli-tools", "search", "compiler"]
        self.projects = [homes[i % len(homes)] + n for i, n in enumerate(names)]

    def uuid7(self, t):
        ms = int((WINDOW_START.timestamp() + t) * 1000)
        x = self.rng.getrandbits(80)
        h = "%012x%020x" % (ms, x)
        return "%s-%s-7%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[x & 3], h[17:20], h[20:32])

    def b62(self, n):
        r = self.rng.random
        a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        return "".join(a[int(r() * 62)] for _ in range(n))

    def run(self):
        rng = self.rng
        st = self.stats
        forkable_new = []  # (session) current-format sessions a fork may continue
        forkable_old = []  # (session, replay) older sessions a fork may replay
        while st.bytes < self.target:
            x = rng.random()
            if x < 0.30:
                size = int(30_000 + rng.random() * 400_000)
            elif x < 0.97:
                size = int(MIB * (0.3 + rng.random() ** 2 * 5))
            else:
                size = int(MIB * (10 + rng.random() * 20))
            size = min(size, max(30_000, self.target - st.bytes))
            day = int(rng.random() * WINDOW_DAYS * 0.97)
            start = day * 86400 + (7 + rng.random() * 12) * 3600
            old = rng.random() < 0.2
            y = rng.random()
            if old and forkable_old and y < 0.3:
                parent, replay = forkable_old.pop(int(rng.random() * len(forkable_old)))
                s = Session(self, max(start, parent.t + 120), True, fork_of=parent)
                s.run(size, replay)
                st.forks += 1
                st.sessions["older_format"] += 1
                continue
            if not old and forkable_new and y < 0.07:
                parent = forkable_new.pop(int(rng.random() * len(forkable_new)))
                s = Session(self, max(start, parent.t + 120), False, fork_of=parent)
                s.run(size)
                st.forks += 1
                st.sessions["current_format"] += 1
                continue
            s = Session(self, start, old)
            kept = s.run(size)
            st.sessions["older_format" if old else "current_format"] += 1
            if old:
                if kept is not None and len(kept[0]) < 20000:
                    forkable_old.append((s, kept))
            else:
                forkable_new.append(s)
            s.w.written = []
            if sys.stderr.isatty():
                sys.stderr.write("\r%5.1f%%" % (100.0 * min(1.0, st.bytes / self.target)))
        if sys.stderr.isatty():
            sys.stderr.write("\r")

    def summary(self, gb, seed, elapsed):
        st = self.stats
        tok = st.tok

        def tokens(t):
            return {"input": t[0], "cached_input": t[1], "billed_input": t[0] - t[1],
                    "output": t[2], "reasoning": t[3]}

        return {
            "generator": "bench/codex/gen_corpus.py",
            "format_version": 1,
            "gb": gb,
            "seed": seed,
            "files": st.files,
            "archived_files": st.archived_files,
            "bytes": st.bytes,
            "lines": st.lines,
            "largest_file": {"path": st.largest[0], "bytes": st.largest[1]},
            "sessions": st.sessions,
            "responses": st.responses,
            "tokens": tokens(tok),
            "cost_usd": round(st.cost, 6),
            "cases": {
                "resumed_sessions": st.resumes,
                "forks": st.forks,
                "fork_carried_parent_totals": tokens(st.fork_carried),
                "replaying_forks_older_format": st.replay_forks,
                "replayed_lines": st.replayed_lines,
                "replayed_responses": st.replayed[5],
                "replayed_tokens": tokens(st.replayed[:4]),
                "replayed_cost_usd": round(st.replayed[4], 6),
                "repeated_token_count_lines": st.repeated,
                "repeated_tokens": tokens(st.repeated_tok[:4]),
                "repeated_cost_usd": round(st.repeated_tok[4], 6),
                "token_count_info_null": st.null_info,
                "token_count_without_last_usage": st.no_last,
                "model_switches": st.model_switches,
                "note": "responses/tokens/cost count every billed response once; replayed and repeated "
                        "figures are what a reader counting those lines again would add",
            },
            "by_model": {k: {"responses": v[0], "input": v[1], "cached_input": v[2], "output": v[3],
                             "reasoning": v[4], "cost_usd": round(v[5], 6)} for k, v in sorted(st.by_model.items())},
            "by_day": {k: {"responses": v[0], "input": v[1], "cached_input": v[2], "output": v[3],
                           "reasoning": v[4], "cost_usd": round(v[5], 6),
                           "repeated_cost_usd": round(st.repeated_by_day.get(k, 0.0), 6),
                           "replayed_cost_usd": round(st.replayed_by_day.get(k, 0.0), 6)}
                       for k, v in sorted(st.by_day.items())},
            "generation": {"seconds": round(elapsed, 2), "mb_per_s": round(st.bytes / MIB / max(elapsed, 1e-9), 1)},
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--gb", type=float, default=1.0, help="corpus size in GiB (default 1.0)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for d in ("sessions", "archived_sessions"):
        if os.path.exists(os.path.join(a.out_dir, d)):
            sys.exit("gen_corpus.py: %s/%s already exists; remove it first" % (a.out_dir, d))
    os.makedirs(os.path.join(a.out_dir, "sessions"), exist_ok=True)
    os.makedirs(os.path.join(a.out_dir, "archived_sessions"), exist_ok=True)
    t0 = time.monotonic()
    g = Generator(a.out_dir, a.gb, a.seed)
    g.run()
    s = g.summary(a.gb, a.seed, time.monotonic() - t0)
    tmp = os.path.join(a.out_dir, "corpus-summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out_dir, "corpus-summary.json"))
    c = s["cases"]
    print("corpus: %d rollouts (%d archived), %.1f MiB, %d lines; %d responses, $%.2f" % (
        s["files"], s["archived_files"], s["bytes"] / MIB, s["lines"], s["responses"], s["cost_usd"]))
    print("cases: %d resumed, %d forks (%d replaying %d responses), %d repeated token_count, %d info null" % (
        c["resumed_sessions"], c["forks"], c["replaying_forks_older_format"], c["replayed_responses"],
        c["repeated_token_count_lines"], c["token_count_info_null"]))
    print("generated in %.1f s (%.1f MiB/s)" % (s["generation"]["seconds"], s["generation"]["mb_per_s"]))


if __name__ == "__main__":
    main()
