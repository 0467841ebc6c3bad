// An OTLP/HTTP sink: what an agent's OpenTelemetry exporter sends, kept as
// sent, so the fixtures under tests/fixtures/otel are the agents' own bytes.
//
// Accepts `POST /v1/logs`, `/v1/metrics` and `/v1/traces` in either OTLP/HTTP
// encoding (`application/json` or `application/x-protobuf`), gzipped or not,
// and answers as a collector does: 200 with an empty Export…ServiceResponse in
// the request's encoding. Anything else gets 404 (415 for another content
// type) and is kept too, so a path or encoding the exporter tries shows up.
//
// As a module: `startOtlpSink({ dir })`, below.
// As a program (otel-capture.sh):
//   node otlp-sink.mjs OUT_DIR
//   prints `listening PORT` once ready; request N is written as
//   OUT_DIR/NNN-<signal>.json (pretty) or .bin (protobuf, gunzipped) beside
//   OUT_DIR/NNN-<signal>.headers.json ({method, path, headers}).
// Loopback only.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const SIGNALS = { '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/traces': 'traces' };

function baseType(contentType) {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Starts the sink on a free loopback port (or `port`). Every request is kept
 * in `received` ({n, signal, path, headers, encoding, body}) and, with `dir`,
 * written there. Returns `{ port, url, received, close() }`.
 */
export async function startOtlpSink({ dir, port = 0 } = {}) {
  const received = [];
  if (dir) fs.mkdirSync(dir, { recursive: true });

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://127.0.0.1');
      const signal = SIGNALS[url.pathname] ?? 'unknown';
      const type = baseType(req.headers['content-type']);
      let status = 200;
      if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        try {
          body = zlib.gunzipSync(body);
        } catch {
          status = 400;
        }
      }
      const encoding = type === 'application/json' ? 'json' : type === 'application/x-protobuf' ? 'protobuf' : 'other';
      if (req.method !== 'POST' || signal === 'unknown') status = 404;
      else if (encoding === 'other') status = 415;
      const entry = { n: received.length + 1, signal, method: req.method, path: req.url, headers: req.headers, encoding, body };
      received.push(entry);
      if (dir) write(dir, entry);
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'text/plain' });
        return res.end(`otlp sink: ${status}\n`);
      }
      // An empty response message: `{}` in JSON, zero bytes in protobuf.
      if (encoding === 'json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{}');
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      return res.end();
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = server.address().port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    received,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

function write(dir, entry) {
  const stem = path.join(dir, `${String(entry.n).padStart(3, '0')}-${entry.signal}`);
  fs.writeFileSync(`${stem}.headers.json`, `${JSON.stringify({ method: entry.method, path: entry.path, headers: entry.headers }, null, 2)}\n`);
  if (entry.encoding === 'json') {
    try {
      fs.writeFileSync(`${stem}.json`, `${JSON.stringify(JSON.parse(entry.body.toString('utf8')), null, 2)}\n`);
      return;
    } catch {
      // Not JSON after all: kept as bytes below.
    }
  }
  fs.writeFileSync(`${stem}.bin`, entry.body);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node otlp-sink.mjs OUT_DIR');
    process.exit(2);
  }
  const sink = await startOtlpSink({ dir });
  console.log(`listening ${sink.port}`);
  const stop = async () => { await sink.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
