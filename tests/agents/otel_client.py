#!/usr/bin/env python3
"""A second OTLP client: the Python OpenTelemetry SDK's own exporters (PyPI,
pinned in requirements-otel.txt) sending log records in an agent's shape.

    otel_client.py --endpoint URL --protocol P --fixture DIR [--header K=V]... [--usage-only]

P is http/protobuf, http/json or grpc. DIR is a captured JSON export of one
agent (tests/fixtures/otel/<agent>/<scenario>/json): every log record of its
*-logs.json files is emitted again through the SDK with the agent's resource,
scope, body, attributes (their OTLP value types kept) and timestamps, then
flushed. With --usage-only, only the usage events (Claude Code api_request,
Codex response.completed with token counts, Gemini CLI api_response).

URL is the base (http://127.0.0.1:PORT): /v1/logs is added for OTLP/HTTP;
gRPC takes it as is. Exit 0 when every export was acknowledged, 1 otherwise.
"""

import argparse
import glob
import json
import os
import sys

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource


def any_value(v):
    """An OTLP JSON AnyValue as the Python value the SDK encodes back to it."""
    if not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: any_value(kv.get("value")) for kv in v["kvlistValue"].get("values", [])}
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attributes(kvs):
    # The SDK drops None and cannot carry maps as attribute values; those
    # the agents send empty (Gemini's unset MCP fields) are left out.
    out = {}
    for kv in kvs or []:
        value = any_value(kv.get("value"))
        if value is None or isinstance(value, dict):
            continue
        out[kv["key"]] = value
    return out


def is_usage(attrs):
    name = attrs.get("event.name")
    if name == "api_request" or name == "gemini_cli.api_response":
        return True
    return name == "codex.sse_event" and attrs.get("event.kind") == "response.completed" and "input_token_count" in attrs


def exporter_for(protocol, endpoint, headers):
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=endpoint.rstrip("/") + "/v1/logs", headers=headers)
    if protocol == "http/json":
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=endpoint.rstrip("/") + "/v1/logs", headers=headers)
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        # gRPC metadata keys are lower case.
        return OTLPLogExporter(endpoint=endpoint, insecure=True, headers={k.lower(): v for k, v in headers.items()})
    raise SystemExit(f"unknown protocol {protocol} (http/protobuf, http/json, grpc)")


class Acknowledged:
    """Wraps the exporter to remember whether every export succeeded."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, batch):
        result = self.inner.export(batch)
        self.results.append((len(batch), result))
        return result

    def shutdown(self):
        return self.inner.shutdown()

    def force_flush(self, timeout_millis=30_000):
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--protocol", required=True, choices=["http/protobuf", "http/json", "grpc"])
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--header", action="append", default=[], help="K=V, repeatable")
    ap.add_argument("--usage-only", action="store_true")
    args = ap.parse_args()
    headers = dict(h.split("=", 1) for h in args.header)

    files = sorted(glob.glob(os.path.join(args.fixture, "*-logs.json")))
    if not files:
        raise SystemExit(f"no *-logs.json in {args.fixture}")
    exporter = Acknowledged(exporter_for(args.protocol, args.endpoint, headers))
    providers = {}
    sent = 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            export = json.load(fh)
        for rl in export.get("resourceLogs", []):
            resource = attributes(rl.get("resource", {}).get("attributes"))
            key = json.dumps(resource, sort_keys=True)
            if key not in providers:
                provider = LoggerProvider(resource=Resource(resource))
                provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
                providers[key] = provider
            provider = providers[key]
            for sl in rl.get("scopeLogs", []):
                scope = sl.get("scope", {})
                logger = provider.get_logger(scope.get("name", ""), scope.get("version") or None)
                for rec in sl.get("logRecords", []):
                    attrs = attributes(rec.get("attributes"))
                    if args.usage_only and not is_usage(attrs):
                        continue
                    logger.emit(
                        timestamp=int(rec.get("timeUnixNano", 0)) or None,
                        observed_timestamp=int(rec.get("observedTimeUnixNano", 0)) or None,
                        body=any_value(rec.get("body")),
                        attributes=attrs,
                        event_name=rec.get("eventName") or None,
                    )
                    sent += 1
    for provider in providers.values():
        provider.shutdown()
    failed = [r for r in exporter.results if r[1] != LogRecordExportResult.SUCCESS]
    exported = sum(n for n, _ in exporter.results)
    print(f"{args.protocol}: {sent} log records emitted, {exported} exported in {len(exporter.results)} requests, {len(failed)} failed")
    return 1 if failed or exported != sent else 0


if __name__ == "__main__":
    sys.exit(main())
