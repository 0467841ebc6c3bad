#!/usr/bin/env python3
"""Generate a realistic corpus of Claude Code transcripts (JSONL) for benchmarks.

    gen_corpus.py OUT_DIR [--gb 1.0] [--seed 1]

Writes OUT_DIR/projects/<project-dir>/<session-uuid>.jsonl (and, as Claude Code
2.x does, subagent transcripts in
OUT_DIR/projects/<project-dir>/<session-uuid>/subagents/agent-<agentId>.jsonl),
then OUT_DIR/corpus-summary.json with the ground truth: files, bytes, lines,
distinct API messages, token totals, requests whose prompt exceeds 200k tokens,
and the cost under two pricing rules (see PRICES below).

The line format follows tests/fixtures/claude/projects/-home-dev-shop/
s-session-1.jsonl, with its traps, at realistic proportions:
  * one assistant line per content block (thinking / text / tool_use), each
    repeating the usage with a growing output_tokens (a few messages write
    their snapshots out of order: the largest one is the real one);
  * several tool_use blocks per message, one user tool_result line each, with
    Claude Code's `toolUseResult` copy of the output (most of the bytes);
  * subagents (isSidechain + agentId), in subagents/ files or inline, and a
    few sidechain replays of a main-thread message under another requestId;
  * `<synthetic>` and isApiErrorMessage lines (zero usage), lines without
    requestId (one content block), a user line carrying a Task `usage` object,
    summary / system / file-history-snapshot lines, half-written last lines;
  * 5m and 1h cache writes, cache misses after idle gaps, compaction;
  * fast mode (`usage.speed:"fast"`) on some claude-opus-4-6 sessions;
  * 1M-context sessions whose prompts pass 200k tokens (rare);
  * forked/resumed sessions that copy a prefix of another session's lines
    under a new sessionId (same message.id, requestId, uuid, timestamp): the
    copies are one API call each, counted once here (as ccusage does).

Deterministic for a given --seed and --gb. Standard library only.
"""

import argparse
import json
import math
import os
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone

# ---------------------------------------------------------------------------
# Prices per 1M tokens (list prices, as in crates/hookmeter-core/src/pricing/prices.toml):
# (input, output, cache read, cache write 5m, cache write 1h, >200k tier|None)
# tier = same five rates for requests whose prompt exceeds 200k tokens.
PRICES = {
    "claude-sonnet-4-5-20250929": (3, 15, 0.30, 3.75, 6, (6, 22.5, 0.60, 7.5, 12)),
    "claude-sonnet-4-20250514": (3, 15, 0.30, 3.75, 6, (6, 22.5, 0.60, 7.5, 12)),
    "claude-opus-4-6": (5, 25, 0.50, 6.25, 10, None),
    "claude-opus-4-5-20251101": (5, 25, 0.50, 6.25, 10, None),
    "claude-opus-4-1-20250805": (15, 75, 1.50, 18.75, 30, None),
    "claude-haiku-4-5-20251001": (1, 5, 0.10, 1.25, 2, None),
}
FAST_MULTIPLIER = {"claude-opus-4-6": 6}
LONG_CONTEXT = 200_000

# main-thread model mix (weights) and which models may run 1M-context sessions
MODEL_MIX = [
    ("claude-sonnet-4-5-20250929", 40),
    ("claude-opus-4-6", 24),
    ("claude-sonnet-4-20250514", 12),
    ("claude-opus-4-5-20251101", 9),
    ("claude-opus-4-1-20250805", 7),
    ("claude-haiku-4-5-20251001", 8),
]
ONE_M_MODELS = {"claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-opus-4-6"}

WINDOW_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
WINDOW_DAYS = 60
MIB = 1 << 20


def cost_anthropic(model, inp, out, cr, cw5, cw1, fast):
    """Anthropic's rule: a prompt over 200k bills the whole request at the tier."""
    p = PRICES[model]
    rates = p[:5]
    if p[5] is not None and inp + cr + cw5 + cw1 > LONG_CONTEXT:
        rates = p[5]
    c = (inp * rates[0] + out * rates[1] + cr * rates[2] + cw5 * rates[3] + cw1 * rates[4]) / 1e6
    return c * (FAST_MULTIPLIER.get(model, 1) if fast else 1)


def cost_ccusage(model, inp, out, cr, cw5, cw1, fast):
    """ccusage 20.0.24's rule (measured): each token type separately, only the
    part of that type above 200k at the tier rate."""
    p = PRICES[model]
    tier = p[5]

    def part(n, i):
        if tier is not None and n > LONG_CONTEXT:
            return LONG_CONTEXT * p[i] + (n - LONG_CONTEXT) * tier[i]
        return n * p[i]

    c = (part(inp, 0) + part(out, 1) + part(cr, 2) + part(cw5, 3) + part(cw1, 4)) / 1e6
    return c * (FAST_MULTIPLIER.get(model, 1) if fast else 1)


# ---------------------------------------------------------------------------
# Text pools (built once from the seed; content is sliced out of them).

WORDS = """the a to of and in is it that for on with as this be by are from at
or an not but can we if will should would could file function test value
error type module build config request response cache token session user
agent model cost budget record line output input path directory server
client socket daemon query index table row column schema migration parse
serialize deserialize buffer stream thread worker queue retry timeout
handler router endpoint payload header status code commit branch merge
update change fix refactor rename move delete create add remove check
verify validate ensure return result option some none ok err unwrap
struct enum trait impl async await future spawn lock mutex channel send
receive read write open close flush sync durable transaction rollback
now then first next last because so when while until before after
also only still already just here there which what where how why
looks seems like need want use run call pass fail passes fails failing
compile compiles warning warnings lint clippy format fmt cargo npm node
python script shell bash grep find sed awk diff patch hunk context
dependency version release tag feature flag default override env variable
price pricing tier long context window prompt completion usage tokens
""".split()

IDENT = """app cfg ctx db conn pool tx rows row rec recs item items key keys val
vals buf bytes len idx pos off start end span name names path paths dir
file files line lines text msg msgs req resp res err errs opts args argv
env state store cache map set list vec queue chan sender receiver handle
writer reader parser lexer token tokens node nodes tree root child parent
price prices model models usage cost costs total totals budget agent
session sessions event events hook hooks spool socket server client
""".split()

TYPES = """String Vec<u8> Option<String> Result<()> PathBuf Duration Instant
Connection Transaction Config Pricer CostRecord HookEvent Usage Session
Budget Alert Value Map<String,Value> Arc<Mutex<State>> u64 i64 f64 usize bool
""".split()

UNICODE_BITS = ["→", "é", "—", "✓", "…", "ß", "日本語", "😀", "±", "µs", "≥", "“quoted”"]

BASH_COMMANDS = [
    "cargo build --release 2>&1 | tail -50",
    "cargo test --workspace -- --nocapture",
    "cargo clippy --all-targets -- -D warnings",
    "git status && git diff --stat",
    "git log --oneline -20",
    "npm test -- --runInBand",
    "npm run build",
    "pytest -x -q tests/",
    "ls -la src/",
    "rg -n \"fn main\" --type rust",
    "python3 scripts/check.py --verbose",
    "sqlite3 telemetry.db 'SELECT count(*) FROM cost_records'",
    "make -j2 all",
    "docker compose logs --tail=200 api",
    "curl -s localhost:8080/healthz",
]

TOOL_WEIGHTS = [
    ("Read", 30), ("Bash", 24), ("Edit", 16), ("Grep", 8), ("Glob", 4),
    ("Write", 5), ("TodoWrite", 4), ("Task", 1.5), ("MultiEdit", 2),
    ("WebFetch", 1.2), ("WebSearch", 0.8), ("mcp__github__get_pull_request", 1),
]

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B64 = B62 + "+/"

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Pools:
    def __init__(self, rng):
        r = rng.random
        words, idents, types = WORDS, IDENT, TYPES
        nw, ni, nt = len(words), len(idents), len(types)

        def w():
            return words[int(r() * nw)]

        def ident():
            a = idents[int(r() * ni)]
            return a if r() < 0.5 else a + "_" + idents[int(r() * ni)]

        def sentence():
            n = 6 + int(r() * 18)
            s = " ".join(w() for _ in range(n))
            if r() < 0.25:
                s += " `" + ident() + "()`"
            if r() < 0.04:
                s += " " + UNICODE_BITS[int(r() * len(UNICODE_BITS))]
            return s[0].upper() + s[1:] + "."

        self.prose = []
        for _ in range(12000):
            k = int(r() * 10)
            if k == 0:
                self.prose.append("")
            elif k == 1:
                self.prose.append("- " + sentence())
            elif k == 2:
                self.prose.append("## " + " ".join(w() for _ in range(3)).title())
            else:
                self.prose.append(" ".join(sentence() for _ in range(1 + int(r() * 3))))

        tmpl = [
            lambda: "    let {} = {}.{}({})?;".format(ident(), ident(), ident(), ident()),
            lambda: "fn {}({}: &{}) -> Result<{}, Error> {{".format(ident(), ident(), types[int(r() * nt)], types[int(r() * nt)]),
            lambda: "    }",
            lambda: "}",
            lambda: "",
            lambda: "        if {}.is_empty() {{ return Err(Error::Invalid(\"{} {}\\n\".into())); }}".format(ident(), w(), w()),
            lambda: "import {{ {} }} from './{}';".format(ident(), ident()),
            lambda: "def {}(self, {}, {}=None):".format(ident(), ident(), ident()),
            lambda: "        return self.{}[{}]".format(ident(), ident()),
            lambda: "    // " + sentence(),
            lambda: "#[derive(Debug, Clone, PartialEq)]",
            lambda: "    \"{}\": \"{} {}\",".format(ident(), w(), w()),
            lambda: "\tconst {} = await {}.{}(`${{{}}}/{}`);".format(ident(), ident(), ident(), ident(), ident()),
            lambda: "    assert_eq!({}.len(), {});".format(ident(), int(r() * 100)),
            lambda: "        .map(|{}| {}.{}.clone())".format(ident(), ident(), ident()),
            lambda: "    match {} {{ Some(x) => x, None => return Ok(()), }}".format(ident()),
            lambda: "SELECT {}, sum({}) FROM {} WHERE {} > ? GROUP BY 1;".format(ident(), ident(), ident(), ident()),
            lambda: "    path = r\"C:\\Users\\dev\\{}\\{}.txt\"".format(ident(), ident()),
        ]
        nt_ = len(tmpl)
        self.code = [tmpl[int(r() * nt_)]() for _ in range(40000)]

        crates = ["serde", "tokio", "rusqlite", "axum", "hyper", "clap", "tracing", "notify", "hookmeter"]
        ltmpl = [
            lambda: "   Compiling {} v0.{}.{}".format(crates[int(r() * len(crates))], int(r() * 30), int(r() * 20)),
            lambda: "test {}::{} ... ok".format(ident(), ident()),
            lambda: "test {}::{} ... \x1b[31mFAILED\x1b[0m".format(ident(), ident()),
            lambda: "2026-09-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z  INFO {}: {}".format(1 + int(r() * 28), int(r() * 24), int(r() * 60), int(r() * 60), int(r() * 1000), ident(), sentence()),
            lambda: "error[E0308]: mismatched types",
            lambda: "  --> src/{}.rs:{}:{}".format(ident(), int(r() * 900), int(r() * 80)),
            lambda: "warning: unused variable: `{}`".format(ident()),
            lambda: "npm warn deprecated {}@{}.{}.{}: {}".format(ident(), int(r() * 9), int(r() * 20), int(r() * 20), sentence()),
            lambda: "    Finished `release` profile [optimized] target(s) in {}.{}s".format(int(r() * 90), int(r() * 100)),
            lambda: "src/{}/{}.rs:{}:    {}".format(ident(), ident(), int(r() * 900), sentence()),
            lambda: "{:>8} {:>8} {}".format(int(r() * 99999), int(r() * 9999), ident()),
        ]
        nl = len(ltmpl)
        self.log = [ltmpl[int(r() * nl)]() for _ in range(20000)]
        sig = "".join(B64[int(r() * 64)] for _ in range(8192))
        self.sig = sig

    @staticmethod
    def take(pool, rng, n):
        n = max(1, min(n, len(pool)))
        s = int(rng.random() * (len(pool) - n + 1))
        return pool[s:s + n], s


# ---------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.files = 0
        self.session_files = 0
        self.subagent_files = 0
        self.bytes = 0
        self.lines = 0
        self.largest = ("", 0)
        self.main_msgs = 0
        self.sub_msgs = 0
        self.replays = 0
        self.synthetic = 0
        self.api_errors = 0
        self.no_request_id = 0
        self.out_of_order = 0
        self.fast_msgs = 0
        self.half_lines = 0
        self.fork_sessions = 0
        self.fork_msgs = 0
        self.fork_tok = [0, 0, 0, 0, 0]
        self.fork_cost = 0.0
        self.fork_by_day = {}
        self.straddle = 0
        self.assistant_lines = 0
        self.tok = [0, 0, 0, 0, 0]  # input, output, cache_read, cache_write(all), cache_write_1h
        self.over = 0
        self.over_tiered = 0
        self.over_by_model = {}
        self.cost_a = 0.0
        self.cost_c = 0.0
        self.by_model = {}
        self.by_day = {}

    def add_message(self, model, day, inp, out, cr, cw5, cw1, fast, sub):
        if sub:
            self.sub_msgs += 1
        else:
            self.main_msgs += 1
        if fast:
            self.fast_msgs += 1
        t = self.tok
        t[0] += inp
        t[1] += out
        t[2] += cr
        t[3] += cw5 + cw1
        t[4] += cw1
        ca = cost_anthropic(model, inp, out, cr, cw5, cw1, fast)
        cc = cost_ccusage(model, inp, out, cr, cw5, cw1, fast)
        self.cost_a += ca
        self.cost_c += cc
        over = inp + cr + cw5 + cw1 > LONG_CONTEXT
        tiered = over and PRICES[model][5] is not None
        if over:
            self.over += 1
            self.over_by_model[model] = self.over_by_model.get(model, 0) + 1
            if tiered:
                self.over_tiered += 1
        mk = model + ("-fast" if fast else "")
        m = self.by_model.get(mk)
        if m is None:
            m = self.by_model[mk] = [0, 0, 0, 0, 0, 0, 0.0, 0.0]
        m[0] += 1
        m[1] += inp
        m[2] += out
        m[3] += cr
        m[4] += cw5 + cw1
        m[5] += cw1
        m[6] += ca
        m[7] += cc
        d = self.by_day.get(day)
        if d is None:
            d = self.by_day[day] = [0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0]
        d[0] += 1
        d[1] += inp
        d[2] += out
        d[3] += cr
        d[4] += cw5 + cw1
        d[5] += cw1
        d[6] += 1 if over else 0
        d[7] += 1 if tiered else 0
        d[8] += ca
        d[9] += cc


def iso(ts):
    """Seconds since WINDOW_START -> RFC 3339 UTC with milliseconds."""
    ms = int(ts * 1000)
    dt = WINDOW_START + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


class Session:
    """Writes one session file (plus its subagent files)."""

    def __init__(self, g, project, target_bytes, start, fork_of=None, giant=False):
        self.g = g
        rng = self.rng = g.rng
        r = rng.random
        self.project = project
        self.cwd = project["cwd"]
        self.sid = g.uuid()
        self.target = target_bytes
        self.t = start
        self.version = rng.choice(["2.0.14", "2.0.37", "2.0.55", "2.1.12", "2.1.56", "2.1.90"])
        self.branch = rng.choice(["main", "main", "dev", "feat/" + rng.choice(IDENT), "fix/" + rng.choice(IDENT)])
        self.model = g.pick_model()
        # rare 1M-context sessions (prompts may pass 200k) and fast-mode
        # sessions; the first eligible session gets each, so even a small
        # corpus has them
        self.one_m = self.model in ONE_M_MODELS and target_bytes >= 2 * MIB and (
            r() < 0.025 or (not g.had_one_m and PRICES[self.model][5] is not None
                             and target_bytes < 24 * MIB))
        g.had_one_m |= self.one_m and PRICES[self.model][5] is not None
        self.fast = self.model == "claude-opus-4-6" and (r() < 0.10 or not g.had_fast)
        g.had_fast |= self.fast
        self.ttl_1h = r() < 0.35
        self.sys_tokens = 13000 + int(r() * 9000)
        self.compact_at = (205000 + int(r() * 50000)) if self.one_m else (150000 + int(r() * 20000))
        self.parent = None
        self.path = os.path.join(project["dir"], self.sid + ".jsonl")
        self.bytes = 0
        self.sub_bytes = 0
        # the giant file reaches its size by itself; others count their subagents
        self.sub_weight = 0 if giant else 1
        self.keep_lines = fork_of is None and target_bytes < 24 * MIB and (r() < 0.15 or not g.had_kept)
        g.had_kept |= self.keep_lines
        self.kept = [] if self.keep_lines else None
        self.main = {"ctx": self.sys_tokens, "cached": 0, "last": -1e9, "new": 0}
        self.msg_index = []  # for forks: (first line number, tokens, cost, day) per message
        self.last_main_msg = None  # (msg_id, blocks, usage, outs, model) for sidechain replays
        self.f = open(self.path, "wb", buffering=1 << 20)
        g.stats.files += 1
        g.stats.session_files += 1
        if fork_of is not None:
            self.copy_prefix(fork_of)

    # ------------------------------------------------------------------ output
    def emit(self, s, sink=None):
        b = (s + "\n").encode()
        if sink is None:
            self.f.write(b)
            self.bytes += len(b)
            if self.kept is not None:
                self.kept.append(s)
        else:
            sink.write(b)
            self.sub_bytes += len(b)
        self.g.stats.bytes += len(b)
        self.g.stats.lines += 1

    def env(self, uuid, ts, sidechain=False, agent=None):
        d = {
            "parentUuid": self.parent if not sidechain else None,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.sid,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if agent:
            d["agentId"] = agent
        return d

    # ------------------------------------------------------------- line types
    def user_text(self, text, sidechain=False, agent=None, sink=None, meta=False):
        u = self.g.uuid()
        d = self.env(u, self.t, sidechain, agent)
        d["type"] = "user"
        d["message"] = {"role": "user", "content": text}
        if meta:
            d["isMeta"] = True
        d["uuid"] = u
        d["timestamp"] = iso(self.t)
        self.emit(dumps(d), sink)
        if not sidechain:
            self.parent = u
        return u

    def tool_result(self, tool_id, content, tur, sidechain=False, agent=None, sink=None, is_error=False):
        u = self.g.uuid()
        d = self.env(u, self.t, sidechain, agent)
        block = {"tool_use_id": tool_id, "type": "tool_result", "content": content}
        if is_error:
            block["is_error"] = True
        d["type"] = "user"
        d["message"] = {"role": "user", "content": [block]}
        d["uuid"] = u
        d["timestamp"] = iso(self.t)
        if tur is not None:
            d["toolUseResult"] = tur
        self.emit(dumps(d), sink)
        if not sidechain:
            self.parent = u

    def assistant_lines(self, msg_id, req_id, model, blocks, usage_base, outs, sidechain=False,
                        agent=None, sink=None, extra=None, stop_last="tool_use"):
        """One line per block; usage repeated with output_tokens = outs[i]."""
        g = self.g
        r = self.rng.random
        n = len(blocks)
        times = []
        for i, blk in enumerate(blocks):
            u = g.uuid()
            d = self.env(u, self.t, sidechain, agent)
            usage = dict(usage_base)
            usage["output_tokens"] = outs[i]
            d["message"] = {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [blk], "stop_reason": stop_last if i == n - 1 else None,
                "stop_sequence": None, "usage": usage,
            }
            if req_id is not None:
                d["requestId"] = req_id
            d["type"] = "assistant"
            d["uuid"] = u
            d["timestamp"] = iso(self.t)
            times.append(self.t)
            if extra:
                d.update(extra)
            self.emit(dumps(d), sink)
            g.stats.assistant_lines += 1
            if not sidechain:
                self.parent = u
            if i < n - 1:
                self.t += 0.2 + r() * 2.5
        return times

    # ----------------------------------------------------------------- tokens
    def usage_for(self, new_tokens, model, ttl_1h, fast, state):
        """state: dict with ctx/cached/last_req_t for this thread. Returns
        (usage dict, inp, cr, cw5, cw1)."""
        r = self.rng.random
        prompt = state["ctx"] + new_tokens
        inp = 1 + int(r() * 9)
        if r() < 0.01:
            inp = 200 + int(r() * 4000)  # an uncached chunk now and then
        ttl = 3600 if ttl_1h else 300
        if self.t - state["last"] > ttl or state["cached"] == 0 or r() < 0.004:
            cr = min(self.sys_tokens, prompt - inp) if r() < 0.7 else 0  # cache miss
        else:
            cr = min(state["cached"], prompt - inp)
        cw = max(0, prompt - inp - cr)
        if ttl_1h:
            cw5, cw1 = (0, cw) if r() < 0.9 else (cw // 3, cw - cw // 3)
        else:
            cw5, cw1 = cw, 0
        state["ctx"] = prompt
        state["cached"] = cr + cw
        state["last"] = self.t
        usage = {
            "input_tokens": inp,
            "cache_creation_input_tokens": cw5 + cw1,
            "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": cw5, "ephemeral_1h_input_tokens": cw1},
            "output_tokens": 0,
            "service_tier": "standard",
        }
        if self.version >= "2.1":
            usage["server_tool_use"] = {"web_search_requests": 0, "web_fetch_requests": 0}
        if fast:
            usage["speed"] = "fast"
        return usage, inp, cr, cw5, cw1

    # ----------------------------------------------------------- content gen
    def prose(self, lo, hi):
        rng = self.rng
        lines, _ = Pools.take(self.g.pools.prose, rng, lo + int(rng.random() * (hi - lo)))
        return "\n".join(lines)

    def heavy(self, median, sigma, cap):
        return max(1, min(cap, int(math.exp(math.log(median) + sigma * self.rng.gauss(0, 1)))))

    def file_path(self):
        fl = self.project["files"]
        return fl[int(self.rng.random() * len(fl))]

    def make_tool(self, name):
        """Returns (input dict, result content, toolUseResult, result_tokens, dt)."""
        g = self.g
        rng = self.rng
        r = rng.random
        pools = g.pools
        if name == "Read":
            n = self.heavy(70, 1.0, 2000)
            lines, _ = Pools.take(pools.code, rng, n)
            fp = self.file_path()
            # whole files mostly (from line 1), sometimes a window further down
            s = 0 if r() < 0.7 else int(r() * 600)
            content = "\n".join("%6d\u2192%s" % (s + k + 1, ln) for k, ln in enumerate(lines))
            raw = "\n".join(lines)
            tur = {"type": "text", "file": {"filePath": fp, "content": raw, "numLines": len(lines),
                                            "startLine": s + 1, "totalLines": s + len(lines)}}
            return {"file_path": fp}, content, tur, len(content) // 4, 0.1 + r() * 0.5
        if name == "Bash":
            cmd = rng.choice(BASH_COMMANDS)
            n = self.heavy(18, 1.3, 1500)
            out = "\n".join(Pools.take(pools.log, rng, n)[0])
            tur = {"stdout": out, "stderr": "", "interrupted": False, "isImage": False}
            return ({"command": cmd, "description": self.prose(1, 1)[:60]}, out, tur,
                    len(out) // 4, 0.5 + r() * (60 if r() < 0.2 else 5))
        if name in ("Edit", "MultiEdit"):
            fp = self.file_path()
            old = "\n".join(Pools.take(pools.code, rng, 2 + int(r() * 30))[0])
            new = "\n".join(Pools.take(pools.code, rng, 2 + int(r() * 40))[0])
            orig = "\n".join(Pools.take(pools.code, rng, self.heavy(110, 0.8, 3000))[0])
            snip_lines, _ = Pools.take(pools.code, rng, 8 + int(r() * 12))
            s = int(r() * 400)
            snippet = "\n".join("%6d\u2192%s" % (s + k + 1, ln) for k, ln in enumerate(snip_lines))
            content = ("The file %s has been updated. Here's the result of running `cat -n` on a "
                       "snippet of the edited file:\n%s" % (fp, snippet))
            tur = {"filePath": fp, "oldString": old, "newString": new, "originalFile": orig,
                   "structuredPatch": [{"oldStart": s + 1, "oldLines": old.count("\n") + 1,
                                        "newStart": s + 1, "newLines": new.count("\n") + 1,
                                        "lines": ["-" + x for x in old.split("\n")[:8]] + ["+" + x for x in new.split("\n")[:8]]}],
                   "userModified": False, "replaceAll": False}
            if name == "MultiEdit":
                inp = {"file_path": fp, "edits": [{"old_string": old, "new_string": new}]}
            else:
                inp = {"file_path": fp, "old_string": old, "new_string": new}
            return inp, content, tur, len(content) // 4, 0.05 + r() * 0.3
        if name == "Write":
            fp = self.file_path()
            body = "\n".join(Pools.take(pools.code, rng, self.heavy(80, 0.8, 1500))[0])
            content = "File created successfully at: " + fp
            tur = {"type": "create", "filePath": fp, "content": body, "structuredPatch": []}
            return {"file_path": fp, "content": body}, content, tur, 20, 0.05 + r() * 0.2
        if name == "Grep":
            n = self.heavy(12, 1.0, 400)
            out = "\n".join(Pools.take(pools.log, rng, n)[0])
            tur = {"mode": "content", "numFiles": n, "filenames": [], "content": out, "numLines": n}
            return ({"pattern": rng.choice(IDENT) + ".*" + rng.choice(IDENT), "path": "src", "output_mode": "content"},
                    out, tur, len(out) // 4, 0.1 + r() * 0.5)
        if name == "Glob":
            fl = self.project["files"]
            names = [fl[int(r() * len(fl))] for _ in range(1 + int(r() * 60))]
            out = "\n".join(names)
            tur = {"filenames": names, "durationMs": int(r() * 80), "numFiles": len(names), "truncated": False}
            return {"pattern": "**/*.rs"}, out, tur, len(out) // 4, 0.1
        if name == "TodoWrite":
            todos = [{"content": self.prose(1, 1)[:80], "status": rng.choice(["pending", "in_progress", "completed"]),
                      "activeForm": self.prose(1, 1)[:60]} for _ in range(2 + int(r() * 8))]
            content = ("Todos have been modified successfully. Ensure that you continue to use the todo "
                       "list to track your progress. Please proceed with the current tasks if applicable")
            return {"todos": todos}, content, {"oldTodos": todos[:-1], "newTodos": todos}, 60, 0.05
        if name in ("WebFetch", "WebSearch"):
            out = self.prose(20, 200)
            tur = {"bytes": len(out), "code": 200, "codeText": "OK", "result": out,
                   "durationMs": int(r() * 4000), "url": "https://docs.example.org/" + rng.choice(IDENT)}
            inp = {"url": tur["url"], "prompt": self.prose(1, 2)} if name == "WebFetch" else {"query": self.prose(1, 1)[:80]}
            return inp, out, tur, len(out) // 4, 1 + r() * 8
        # MCP tool
        out = dumps({"number": int(r() * 900), "title": self.prose(1, 1)[:70], "body": self.prose(3, 40),
                     "state": "open", "user": {"login": "dev"}})
        return {"owner": "acme", "repo": self.project["name"], "pull_number": int(r() * 900)}, out, None, len(out) // 4, 0.5 + r()

    def blocks_for(self, n_tools, allow_task, sub=False):
        """Content blocks of one assistant message; returns (blocks, outs, tools)."""
        g = self.g
        r = self.rng.random
        blocks, outs, tools = [], [], []
        out = 0
        if r() < (0.35 if not sub else 0.15):
            th = self.prose(1, 14)
            sig = g.pools.sig
            so = int(r() * 4000)
            blocks.append({"type": "thinking", "thinking": th, "signature": "Eq" + sig[so:so + 300 + int(r() * 1800)]})
            out += len(th) // 4 + 5
            outs.append(out)
        if r() < 0.65 or n_tools == 0:
            tx = self.prose(1, 14 if n_tools == 0 else 4)
            blocks.append({"type": "text", "text": tx})
            out += len(tx) // 4 + 1
            outs.append(out)
        for _ in range(n_tools):
            name = g.pick_tool(allow_task)
            tid = "toolu_01" + g.b62(22)
            if name == "Task":
                inp = {"description": self.prose(1, 1)[:50], "prompt": self.prose(3, 25),
                       "subagent_type": self.rng.choice(["general-purpose", "Explore", "code-reviewer"])}
                blk = {"type": "tool_use", "id": tid, "name": name, "input": inp}
                tools.append((name, tid, None))
            else:
                inp, content, tur, rtok, dt = self.make_tool(name)
                blk = {"type": "tool_use", "id": tid, "name": name, "input": inp}
                tools.append((name, tid, (content, tur, rtok, dt)))
            blocks.append(blk)
            out += len(dumps(inp)) // 4 + 20
            outs.append(out)
        return blocks, outs, tools

    def pick_n_tools(self):
        x = self.rng.random()
        if x < 0.22:
            return 0
        if x < 0.72:
            return 1
        if x < 0.86:
            return 2
        if x < 0.94:
            return 3
        return 4 + int(self.rng.random() * 3)

    # --------------------------------------------------------------- requests
    def request(self, state, model, blocks, outs, fast, ttl_1h, sidechain, agent, sink, sub, stop_last):
        g = self.g
        r = self.rng.random
        st = g.stats
        # models with a 200k window compact before they would overflow it
        if state["ctx"] + state["new"] > 190000 and not (self.one_m and state is self.main):
            if state is self.main:
                self.compact(state)
            else:
                state["ctx"], state["cached"], state["new"] = 20000, 0, 0
        usage, inp, cr, cw5, cw1 = self.usage_for(state["new"], model, ttl_1h, fast, state)
        state["new"] = 0
        msg_id = "msg_01" + g.b62(22)
        req_id = "req_011C" + g.b62(20)
        # (never in sessions that may be forked: ccusage dedups requestless
        # messages per session only, so a copy would count twice there)
        if len(blocks) == 1 and not sidechain and self.kept is None and r() < 0.006:
            req_id = None
            st.no_request_id += 1
        outs = list(outs)
        if len(outs) >= 2 and r() < 0.03:
            outs[-1], outs[-2] = outs[-2], outs[-1]
            st.out_of_order += 1
        first_line = len(self.kept) if (self.kept is not None and sink is None) else None
        cost_before, tok_before = st.cost_a, list(st.tok)
        times = self.assistant_lines(msg_id, req_id, model, blocks, usage, outs, sidechain, agent,
                                     sink, stop_last=stop_last)
        # ccusage keeps the snapshot with the most tokens (the first on ties):
        # the largest output_tokens here; its line's timestamp gives the day
        final = max(outs)
        day = iso(times[outs.index(final)])[:10]
        if iso(times[0])[:10] != iso(times[-1])[:10]:
            st.straddle += 1
        st.add_message(model, day, inp, final, cr, cw5, cw1, fast, sub)
        if first_line is not None:
            self.msg_index.append((first_line, [a - b for a, b in zip(st.tok, tok_before)],
                                   st.cost_a - cost_before, day))
        state["ctx"] += final
        if not sidechain:
            self.last_main_msg = (msg_id, blocks, usage, outs, model)
        return msg_id

    def run_tools(self, tools, state, sidechain, agent, sink, depth):
        r = self.rng.random
        for name, tid, res in tools:
            if name == "Task":
                self.subagent(tid, depth)
                continue
            content, tur, rtok, dt = res
            self.t += dt
            is_err = r() < 0.02
            self.tool_result(tid, content, tur, sidechain, agent, sink, is_error=is_err)
            state["new"] += rtok + 30

    def subagent(self, tool_id, depth):
        g = self.g
        rng = self.rng
        r = rng.random
        st = g.stats
        agent = "%08x" % rng.getrandbits(32)
        inline = r() < 0.3
        if inline:
            sink = None
        else:
            d = os.path.join(self.project["dir"], self.sid, "subagents")
            os.makedirs(d, exist_ok=True)
            sink = open(os.path.join(d, "agent-%s.jsonl" % agent), "wb", buffering=1 << 20)
            st.files += 1
            st.subagent_files += 1
        model = "claude-haiku-4-5-20251001" if r() < 0.5 else self.model
        state = {"ctx": 9000 + int(r() * 6000), "cached": 0, "last": -1e9, "new": 0}
        prompt = self.prose(3, 25)
        self.t += 0.5
        self.user_text(prompt, True, agent, sink)
        state["new"] += len(prompt) // 4
        # a replay of the parent's last main-thread message (/btw and friends)
        if self.last_main_msg is not None and r() < 0.12:
            msg_id, blocks, usage, outs, pmodel = self.last_main_msg
            self.t += 0.3
            self.assistant_lines(msg_id, "req_011C" + g.b62(20), pmodel, blocks, usage, outs,
                                 True, agent, sink)
            st.replays += 1
        n_req = 2 + int(r() * 12)
        total_tokens = 0
        for i in range(n_req):
            self.t += 1 + r() * 6
            last = i == n_req - 1
            blocks, outs, tools = self.blocks_for(0 if last else 1 + int(r() * 2), False, sub=True)
            self.request(state, model, blocks, outs, False, False, True, agent, sink, True,
                         "end_turn" if last else "tool_use")
            total_tokens += state["ctx"]
            self.run_tools(tools, state, True, agent, sink, depth + 1)
        if sink is not None:
            sink.close()
        report = self.prose(5, 40)
        self.t += 0.5
        tur = {"status": "completed", "prompt": prompt, "agentId": agent,
               "content": [{"type": "text", "text": report}],
               "totalDurationMs": int(r() * 300000), "totalTokens": total_tokens,
               "totalToolUseCount": n_req - 1,
               # a usage object on a *user* line: not an API message, never counted
               "usage": {"input_tokens": 5, "cache_creation_input_tokens": 1200,
                         "cache_read_input_tokens": state["ctx"], "output_tokens": 900,
                         "service_tier": "standard"}}
        self.tool_result(tool_id, [{"type": "text", "text": report}], tur)
        self.main["new"] += len(report) // 4 + 30

    # ------------------------------------------------------------------ forks
    def copy_prefix(self, parent_lines):
        """A fork/resume: the start of another session written again under
        this sessionId (same ids, uuids, timestamps)."""
        g = self.g
        st = g.stats
        old_sid, lines, msgs = parent_lines
        n = len(lines)
        k = max(1, int(n * (0.2 + self.rng.random() * 0.6)))
        a = '"sessionId":"%s"' % old_sid
        b = '"sessionId":"%s"' % self.sid
        last_ts = None
        for s in lines[:k]:
            self.emit(s.replace(a, b))
        # messages whose lines were copied (and their tokens) come from the parent
        seen = 0
        for (first_line, tok, cost, day) in msgs:
            if first_line < k:
                seen += 1
                for i in range(5):
                    st.fork_tok[i] += tok[i]
                st.fork_cost += cost
                st.fork_by_day[day] = st.fork_by_day.get(day, 0.0) + cost
        st.fork_msgs += seen
        st.fork_sessions += 1
        m = re.search(r'"timestamp":"([^"]+)"', lines[k - 1])
        if m:
            last_ts = m.group(1)
        if last_ts:
            dt = datetime.strptime(last_ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
            self.t = max(self.t, (dt - WINDOW_START).total_seconds() + 60 + self.rng.random() * 3600)
        self.parent = None

    # ------------------------------------------------------------------- main
    def run(self):
        g = self.g
        rng = self.rng
        r = rng.random
        st = g.stats
        self.main = {"ctx": self.sys_tokens, "cached": 0, "last": -1e9, "new": 0}
        state = self.main
        if r() < 0.15:
            self.emit(dumps({"type": "summary", "summary": self.prose(1, 1)[:80], "leafUuid": g.uuid()}))
        while self.bytes + self.sub_weight * self.sub_bytes < self.target:
            # ---- a user turn
            gap = 20 + r() * 600
            if r() < 0.03:
                gap += 3600 + r() * 14 * 3600  # break, resumed later
            self.t += gap
            if r() < 0.3:
                u = g.uuid()
                self.emit(dumps({"type": "file-history-snapshot", "messageId": u,
                                 "snapshot": {"messageId": u, "trackedFileBackups": {
                                     self.file_path(): {"backupFileName": g.b62(16) + "@v2", "version": 2,
                                                        "backupTime": iso(self.t)}}, "timestamp": iso(self.t)},
                                 "isSnapshotUpdate": False}))
            if r() < 0.02:
                self.user_text("<command-name>/model</command-name>\n<command-message>model</command-message>\n"
                               "<command-args></command-args>", meta=False)
                self.user_text("<local-command-stdout>Set model to %s</local-command-stdout>" % self.model, meta=True)
                if r() < 0.5 and not self.one_m:
                    self.model = g.pick_model()
                    if self.model != "claude-opus-4-6":
                        self.fast = False
            if r() < 0.12:
                text = self.prose(2, 10) + "\n\n```\n" + "\n".join(
                    Pools.take(g.pools.log if r() < 0.5 else g.pools.code, rng, self.heavy(80, 1.0, 1500))[0]) + "\n```"
            else:
                text = self.prose(1, 6)
            self.user_text(text)
            state["new"] += len(text) // 4 + 10
            # ---- the agent loop
            for _ in range(60):
                self.t += 1.5 + r() * 12
                if r() < 0.004:
                    # API error line, zero usage, then the retry
                    self.assistant_lines("msg_01" + g.b62(22), "req_011C" + g.b62(20),
                                         rng.choice(["<synthetic>", self.model]),
                                         [{"type": "text", "text": 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'}],
                                         self.zero_usage(), [0], extra={"isApiErrorMessage": True},
                                         stop_last="stop_sequence")
                    st.api_errors += 1
                    self.t += 5 + r() * 20
                blocks, outs, tools = self.blocks_for(self.pick_n_tools(), True)
                self.request(state, self.model, blocks, outs, self.fast, self.ttl_1h, False, None, None, False,
                             "tool_use" if tools else "end_turn")
                if state["ctx"] > self.compact_at:
                    self.compact(state)
                if not tools:
                    break
                if r() < 0.005:
                    # interrupted: tool results never come, a <synthetic> reply
                    self.user_text("[Request interrupted by user for tool use]")
                    self.t += 0.1
                    self.assistant_lines("msg_01" + g.b62(22), "req_011C" + g.b62(20), "<synthetic>",
                                         [{"type": "text", "text": "No response requested."}],
                                         self.zero_usage(), [0], stop_last="stop_sequence")
                    st.synthetic += 1
                    break
                self.run_tools(tools, state, False, None, None, 0)
                if self.bytes + self.sub_weight * self.sub_bytes >= self.target:
                    break
        if r() < 0.03 or not st.half_lines:
            # crashed mid-write: a half-written last line, ignored by everyone
            self.f.write(b'{"parentUuid":"%s","isSidechain":false,"type":"assistant","message":{"id":"msg_01%s","type":"mess'
                         % (str(self.parent).encode(), g.b62(22).encode()))
            st.half_lines += 1
        self.f.close()
        size = os.path.getsize(self.path)
        if size > st.largest[1]:
            st.largest = (os.path.relpath(self.path, g.out), size)
        if self.kept is not None:
            return (self.sid, self.kept, self.msg_index)
        return None

    def zero_usage(self):
        return {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": 0, "service_tier": "standard"}

    def compact(self, state):
        g = self.g
        self.t += 20 + self.rng.random() * 40
        u = g.uuid()
        d = self.env(u, self.t)
        d.update({"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
                  "isMeta": False, "timestamp": iso(self.t), "uuid": u, "level": "info",
                  "compactMetadata": {"trigger": "auto", "preTokens": state["ctx"]}})
        self.emit(dumps(d))
        self.parent = u
        summary = ("This session is being continued from a previous conversation that ran out of context. "
                   "The conversation is summarized below:\n" + self.prose(30, 160))
        u = g.uuid()
        d = self.env(u, self.t)
        d.update({"type": "user", "message": {"role": "user", "content": summary}, "isVisibleInTranscriptOnly": True,
                  "isCompactSummary": True, "uuid": u, "timestamp": iso(self.t)})
        self.emit(dumps(d))
        self.parent = u
        state["ctx"] = self.sys_tokens + len(summary) // 4
        state["cached"] = 0
        state["new"] = 0


class Generator:
    def __init__(self, out, gb, seed):
        self.out = out
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.had_one_m = False
        self.had_fast = False
        self.had_kept = False
        self.pools = Pools(self.rng)
        self.target = int(gb * (1 << 30))
        tw = [w for _, w in TOOL_WEIGHTS]
        self.tool_names = [n for n, _ in TOOL_WEIGHTS]
        self.tool_cum = [sum(tw[:i + 1]) / sum(tw) for i in range(len(tw))]
        mw = [w for _, w in MODEL_MIX]
        self.model_names = [n for n, _ in MODEL_MIX]
        self.model_cum = [sum(mw[:i + 1]) / sum(mw) for i in range(len(mw))]

    def uuid(self):
        x = self.rng.getrandbits(128)
        h = "%032x" % x
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[x & 3], h[17:20], h[20:])

    def b62(self, n):
        r = self.rng.random
        return "".join(B62[int(r() * 62)] for _ in range(n))

    def pick_tool(self, allow_task):
        while True:
            x = self.rng.random()
            for i, c in enumerate(self.tool_cum):
                if x <= c:
                    name = self.tool_names[i]
                    break
            else:
                name = self.tool_names[-1]
            if name != "Task" or allow_task:
                return name

    def pick_model(self):
        x = self.rng.random()
        for i, c in enumerate(self.model_cum):
            if x <= c:
                return self.model_names[i]
        return self.model_names[-1]

    def projects(self, n):
        rng = self.rng
        names = ["shop", "api-gateway", "hookmeter", "infra", "web-app", "ml-pipeline", "docs-site",
                 "billing", "mobile", "data-etl", "auth-service", "cli-tools", "search", "notebooks",
                 "game-engine", "compiler", "dotfiles", "blog", "k8s-config", "analytics"]
        homes = ["/home/dev/", "/home/dev/src/", "/Users/alice/code/", "/home/dev/projects/"]
        out = []
        for i in range(n):
            name = names[i % len(names)] + ("" if i < len(names) else "-%d" % (i // len(names)))
            cwd = homes[i % len(homes)] + name
            d = os.path.join(self.out, "projects", re.sub(r"[^A-Za-z0-9]", "-", cwd))
            os.makedirs(d, exist_ok=True)
            files = ["%s/src/%s/%s.%s" % (cwd, rng.choice(IDENT), rng.choice(IDENT), rng.choice(["rs", "ts", "py", "go", "md"]))
                     for _ in range(150)]
            out.append({"name": name, "cwd": cwd, "dir": d, "files": files})
        return out

    def session_sizes(self):
        """Byte targets: one giant file, a few big ones, most 1-20 MB, some small."""
        rng = self.rng
        T = self.target
        giant = int(min(110 * MIB, max(0.25 * T, 1 * MIB))) if T < 440 * MIB else 110 * MIB
        self.giant = giant
        sizes = [giant]
        total = giant
        while total < T:
            x = rng.random()
            if x < 0.10:
                s = int(50_000 + rng.random() * (MIB - 50_000))
            elif x < 0.90:
                s = int(math.exp(rng.uniform(math.log(1 * MIB), math.log(20 * MIB))))
            else:
                s = int(rng.uniform(20 * MIB, 60 * MIB))
            s = min(s, T - total) if T - total > 200_000 else s
            sizes.append(s)
            total += s
        rng.shuffle(sizes)
        return sizes

    def run(self):
        rng = self.rng
        sizes = self.session_sizes()
        n_proj = max(3, min(40, int(round(6 + 8 * math.sqrt(self.target / (1 << 30))))))
        projects = self.projects(n_proj)
        weights = [1.0 / (i + 1) ** 0.8 for i in range(n_proj)]
        wsum = sum(weights)
        cum = [sum(weights[:i + 1]) / wsum for i in range(n_proj)]
        forkable = []
        done = 0
        for n, size in enumerate(sizes):
            x = rng.random()
            p = next((projects[i] for i, c in enumerate(cum) if x <= c), projects[-1])
            # sessions start during working hours across the 60 days; big ones earlier
            span = WINDOW_DAYS * 86400 * (0.75 if size > 40 * MIB else 0.97)
            start = rng.random() * span
            day = int(start // 86400)
            start = day * 86400 + (7 + rng.random() * 12) * 3600
            fork_of = None
            if forkable and (rng.random() < 0.06 or (n == len(sizes) - 1 and not self.stats.fork_sessions)):
                fork_of = forkable.pop(int(rng.random() * len(forkable)))
                p = fork_of[3]
            s = Session(self, p, size, start, None if fork_of is None else fork_of[:3],
                        giant=(size == self.giant))
            kept = s.run()
            if kept is not None:
                forkable.append(kept + (p,))
            done += size
            if sys.stderr.isatty():
                sys.stderr.write("\r%5.1f%%" % (100.0 * min(1.0, self.stats.bytes / self.target)))
        if sys.stderr.isatty():
            sys.stderr.write("\r")

    def summary(self, gb, seed, elapsed):
        st = self.stats
        tok = st.tok
        return {
            "generator": "bench/transcripts/gen_corpus.py",
            "format_version": 1,
            "gb": gb,
            "seed": seed,
            "target_bytes": self.target,
            "files": st.files,
            "session_files": st.session_files,
            "subagent_files": st.subagent_files,
            "bytes": st.bytes,
            "lines": st.lines,
            "assistant_lines": st.assistant_lines,
            "largest_file": {"path": st.largest[0], "bytes": st.largest[1]},
            "window": {"from": WINDOW_START.strftime("%Y-%m-%d"), "days": WINDOW_DAYS},
            "api_messages": {
                "distinct": st.main_msgs + st.sub_msgs,
                "main_thread": st.main_msgs,
                "subagent": st.sub_msgs,
                "fast_mode": st.fast_msgs,
                "without_request_id": st.no_request_id,
                "snapshots_out_of_order": st.out_of_order,
                "snapshots_straddling_utc_midnight": st.straddle,
                "note": "distinct = one per (message.id, requestId): main-thread and subagent API calls, "
                        "excluding <synthetic>/API-error lines, sidechain replays and fork copies",
            },
            "skipped_lines_by_design": {
                "sidechain_replays (messages)": st.replays,
                "synthetic_lines": st.synthetic,
                "api_error_lines": st.api_errors,
                "half_written_last_lines": st.half_lines,
            },
            "forks": {
                "sessions": st.fork_sessions,
                "copied_messages": st.fork_msgs,
                "copied_tokens": dict(zip(["input", "output", "cache_read", "cache_write", "cache_write_1h"], st.fork_tok)),
                "copied_cost_usd_anthropic_rule": round(st.fork_cost, 6),
                "note": "copies of another session's lines under a new sessionId; counted once "
                        "(ccusage dedups by message.id+requestId across sessions); a session-scoped "
                        "key would add these tokens/cost a second time",
            },
            "tokens": {
                "input": tok[0], "output": tok[1], "cache_read": tok[2],
                "cache_write": tok[3], "cache_write_1h": tok[4],
                "total": tok[0] + tok[1] + tok[2] + tok[3],
            },
            "over_200k_prompt_requests": st.over,
            "over_200k_prompt_requests_tiered_models": st.over_tiered,
            "over_200k_by_model": st.over_by_model,
            "cost_usd": {
                "anthropic_rule": round(st.cost_a, 6),
                "ccusage_rule": round(st.cost_c, 6),
                "note": "list prices in PRICES; anthropic_rule bills a whole request over 200k prompt "
                        "tokens at the tier (hookmeter's rule); ccusage_rule bills only each token "
                        "type's part above 200k at the tier (what ccusage 20.0.24 does); fast x6",
            },
            "by_model": {k: {"messages": v[0], "input": v[1], "output": v[2], "cache_read": v[3],
                             "cache_write": v[4], "cache_write_1h": v[5],
                             "cost_anthropic_rule": round(v[6], 6), "cost_ccusage_rule": round(v[7], 6)}
                         for k, v in sorted(st.by_model.items())},
            "by_day": {k: {"messages": v[0], "input": v[1], "output": v[2], "cache_read": v[3],
                           "cache_write": v[4], "cache_write_1h": v[5], "over_200k": v[6],
                           "over_200k_tiered": v[7], "cost_anthropic_rule": round(v[8], 6),
                           "cost_ccusage_rule": round(v[9], 6),
                           "fork_copied_cost_anthropic_rule": round(st.fork_by_day.get(k, 0.0), 6)}
                       for k, v in sorted(st.by_day.items())},
            "generation": {"seconds": round(elapsed, 2), "mb_per_s": round(st.bytes / MIB / max(elapsed, 1e-9), 1)},
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--gb", type=float, default=1.0, help="corpus size in GiB (default 1.0)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if os.path.exists(os.path.join(a.out_dir, "projects")):
        sys.exit("gen_corpus.py: %s/projects already exists; remove it first" % a.out_dir)
    os.makedirs(os.path.join(a.out_dir, "projects"), exist_ok=True)
    t0 = time.monotonic()
    g = Generator(a.out_dir, a.gb, a.seed)
    g.run()
    elapsed = time.monotonic() - t0
    s = g.summary(a.gb, a.seed, elapsed)
    tmp = os.path.join(a.out_dir, "corpus-summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out_dir, "corpus-summary.json"))
    print("corpus: %d files (%d subagent), %.1f MiB, %d lines, largest %s (%.1f MiB)" % (
        s["files"], s["subagent_files"], s["bytes"] / MIB, s["lines"], s["largest_file"]["path"],
        s["largest_file"]["bytes"] / MIB))
    print("API messages: %d distinct (%d main, %d subagent); %d requests with prompt > 200k tokens "
          "(%d on models with a long-context tier)" % (
              s["api_messages"]["distinct"], s["api_messages"]["main_thread"], s["api_messages"]["subagent"],
              s["over_200k_prompt_requests"], s["over_200k_prompt_requests_tiered_models"]))
    print("cost: $%.2f (Anthropic rule) / $%.2f (ccusage rule); %d forked session(s) copying %d messages" % (
        s["cost_usd"]["anthropic_rule"], s["cost_usd"]["ccusage_rule"], s["forks"]["sessions"],
        s["forks"]["copied_messages"]))
    print("generated in %.1f s (%.1f MiB/s)" % (elapsed, s["generation"]["mb_per_s"]))


if __name__ == "__main__":
    main()
