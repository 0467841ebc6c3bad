#!/usr/bin/env python3
"""Checks captured OTLP log exports against what the mock billed.

    otel_check.py AGENT EXPORT_DIR [LEDGER.jsonl]

AGENT is claude, codex or gemini. EXPORT_DIR holds NNN-logs.json and/or
NNN-logs.bin (protobuf, decoded with opentelemetry-proto from the venv of
requirements-otel.txt). The agent's usage events are listed; with a ledger,
their token counts must equal the ledger's, request by request in order.
Exit 0 when they do.
"""

import glob
import json
import os
import sys


def records(export_dir):
    """(attributes as plain values) of every log record, in export order."""
    out = []
    for f in sorted(glob.glob(os.path.join(export_dir, "*-logs.*"))):
        if f.endswith(".headers.json"):
            continue
        if f.endswith(".bin"):
            from google.protobuf.json_format import MessageToDict
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

            msg = ExportLogsServiceRequest()
            with open(f, "rb") as fh:
                msg.ParseFromString(fh.read())
            export = MessageToDict(msg)
        else:
            with open(f, encoding="utf-8") as fh:
                export = json.load(fh)
        for rl in export.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for rec in sl.get("logRecords", []):
                    out.append({kv["key"]: plain(kv.get("value")) for kv in rec.get("attributes", [])})
    return out


def plain(v):
    if not v:
        return None
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [plain(x) for x in v["arrayValue"].get("values", [])]
    return None


def n(x):
    return int(x) if x is not None else None


def usage(agent, attrs):
    """The usage event's token counts in the ledger's terms, or None."""
    name = attrs.get("event.name")
    if agent == "claude" and name == "api_request":
        return {
            "input": n(attrs["input_tokens"]),
            "output": n(attrs["output_tokens"]),
            "cache_read": n(attrs["cache_read_tokens"]),
            "cache_write": n(attrs["cache_creation_tokens"]),
            "id": attrs.get("request_id"),
        }
    if agent == "codex" and name == "codex.sse_event" and attrs.get("event.kind") == "response.completed" and "input_token_count" in attrs:
        return {
            "input": n(attrs["input_token_count"]),
            "output": n(attrs["output_token_count"]),
            "cached": n(attrs["cached_token_count"]),
            "reasoning": n(attrs["reasoning_token_count"]),
        }
    if agent == "gemini" and name == "gemini_cli.api_response":
        return {
            "prompt": n(attrs["input_token_count"]),
            "candidates": n(attrs["output_token_count"]),
            "cached": n(attrs["cached_content_token_count"]),
            "thoughts": n(attrs["thoughts_token_count"]),
            "tool": n(attrs["tool_token_count"]),
            "total": n(attrs["total_token_count"]),
        }
    return None


def billed(agent, e):
    if agent == "claude":
        u = e["usage"]
        return {
            "input": u["input"],
            "output": u["output"],
            "cache_read": u["cache_read"],
            "cache_write": u["cache_write_5m"] + u["cache_write_1h"],
            "id": e["requestId"],
        }
    if agent == "codex":
        return {"input": e["input_tokens"], "output": e["output_tokens"], "cached": e["cached_tokens"], "reasoning": e["reasoning_tokens"]}
    return {
        "prompt": e["prompt_tokens"],
        "candidates": e["candidates_tokens"],
        "cached": e["cached_tokens"],
        "thoughts": e["thoughts_tokens"],
        "tool": e["tool_use_prompt_tokens"],
        "total": e["total_tokens"],
    }


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("claude", "codex", "gemini"):
        raise SystemExit(__doc__)
    agent, export_dir = sys.argv[1], sys.argv[2]
    events = [u for u in (usage(agent, a) for a in records(export_dir)) if u]
    for u in events:
        print(f"  {agent} event: {u}")
    if len(sys.argv) == 3:
        return 0 if events else 1
    with open(sys.argv[3], encoding="utf-8") as fh:
        ledger = [billed(agent, json.loads(line)) for line in fh if line.strip()]
    ok = events == ledger
    print(f"{agent} {export_dir}: {len(events)} usage events, {len(ledger)} billed: {'EQUAL' if ok else 'DIFFERENT'}")
    if not ok:
        for u in ledger:
            print(f"  ledger:       {u}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
