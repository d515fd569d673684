// An OpenFaaS-style Node.js HTTP function for the tests: an init phase that
// loads modules and builds about FN_INIT_MB (default 50) MB of objects, then
// an HTTP server on 127.0.0.1:8080 with a readiness path, /_/health.
// Routes: GET /_/health, GET / (a JSON document about this instance),
// POST /exec (the body run by /bin/sh), anything else: an echo.
'use strict';
const http = require('http');
const crypto = require('crypto');
const os = require('os');
const zlib = require('zlib');
const url = require('url');
const util = require('util');
const cp = require('child_process');

const t0 = process.hrtime.bigint();
const mb = parseInt(process.env.FN_INIT_MB || '50', 10);
const table = new Map();
const n = Math.floor((mb * 1024 * 1024) / 120);
for (let i = 0; i < n; i++) table.set(i, { name: 'item-' + i, value: i * 0.5, tags: [i % 7, i % 11] });
if (process.env.FN_INIT_FAIL) {
  console.error('init failed on purpose (FN_INIT_FAIL)');
  process.exit(1);
}
const initMs = Number(process.hrtime.bigint() - t0) / 1e6;

function about() {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    random: Math.random(),
    urandom: crypto.randomBytes(8).toString('hex'),
    init_ms: Math.round(initMs * 10) / 10,
    entries: table.size,
  };
}

function reply(res, status, body, type) {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type || 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const server = http.createServer((req, res) => {
  const path = url.parse(req.url).pathname;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (req.method === 'GET' && path === '/_/health') return reply(res, 200, 'OK', 'text/plain');
    if (req.method === 'GET' && path === '/') return reply(res, 200, about());
    if (req.method === 'POST' && path === '/exec') {
      const p = cp.spawnSync('/bin/sh', ['-c', body], { timeout: 30000 });
      return reply(res, 200, { status: p.status, out: String(p.stdout), err: String(p.stderr) });
    }
    if (req.method === 'GET') return reply(res, 404, 'not found\n', 'text/plain');
    return reply(res, 200, Object.assign({ echo: body }, about()));
  });
});
server.listen(8080, '127.0.0.1');
