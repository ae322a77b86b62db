// Metrics and request logs of a served role, from outside (issue 17, docs/observability.md),
// against `medallion ledger serve`:
//   * GET /metrics answers the Prometheus text format, which an independent parser
//     (parse-prometheus-text-format, npm) reads;
//   * after N appends: medallion_ledger_size is N, the sequencer's batch histogram counted the
//     batches, SQLite commit latencies were observed, the request counter has the route
//     template with method and status, and the latency histogram counted the same requests;
//   * a 404 for a random path is counted as route "(unmatched)": scans add no series;
//   * every response carries X-Request-Id, and stderr holds one JSON line per request with
//     that id, the route template, status and latency — never the path's ids or the body;
//   * with MEDALLION_METRICS_TOKEN set, /metrics needs it (403 without, 200 with).
// Usage: node metrics_test.mjs <medallion>. Ends with "N passed, M failed".
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import crypto from 'node:crypto';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../interop/package.json'));
const promParser = require('parse-prometheus-text-format');
const parsePrometheusTextFormat = promParser.default || promParser;

const M = process.argv[2];
if (!M) throw new Error('usage: metrics_test.mjs <medallion>');
let pass = 0, fail = 0;
const ok = (c, what) => { if (c) { pass++; console.log(`ok   - ${what}`); } else { fail++; console.log(`FAIL - ${what}`); } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'medallion-metrics-'));
const children = [];
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } rmSync(work, { recursive: true, force: true }); });

async function startLedger(name, env = {}) {
  const child = spawn('bash', ['-c', `exec "${M}" ledger serve --db ${name}.db --key-file ${name}.key --origin metrics.test/${name} --listen 127.0.0.1:0 --json >${name}.out 2>${name}.err`],
    { cwd: work, env: { ...process.env, ...env } });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    try { const t = readFileSync(join(work, `${name}.out`), 'utf8'); if (t.includes('\n')) return { child, banner: JSON.parse(t.split('\n')[0]) }; } catch {}
    await sleep(50);
  }
  throw new Error(`${name} did not start: ${readFileSync(join(work, `${name}.err`), 'utf8')}`);
}

function request(url, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined) { h['content-type'] = 'application/json'; h['content-length'] = Buffer.byteLength(body); }
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false, headers: h }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', (e) => resolve({ status: 0, error: String(e) }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The parser's families by name; a sample's value by labels (all given labels must match).
function scrape(text) {
  const families = new Map();
  for (const f of parsePrometheusTextFormat(text)) families.set(f.name, f);
  return families;
}
function sample(families, name, labels = {}) {
  const f = families.get(name);
  if (!f) return undefined;
  const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => (x.labels || {})[k] === v));
  if (!m) return undefined;
  return m.value !== undefined ? Number(m.value) : m;
}

try {
  const { banner } = await startLedger('ledger');
  const url = banner.url || `http://127.0.0.1:${banner.port}`;
  const ts = Math.floor(Date.now() / 1000);
  const N = 12;
  const ids = [];
  let appended = 0;
  for (let i = 0; i < N; i++) {
    const hash = crypto.createHash('sha256').update(`metrics-${i}`).digest('hex');
    const r = await request(`${url}/ledger/v1/entries`, { method: 'POST', body: JSON.stringify({ type: 'anchor', v: 1, hash, kind: 'document', ts }) });
    if (r.status === 200) appended++;
    ids.push(r.headers?.['x-request-id']);
  }
  ok(appended === N, `${N} entries appended (${appended})`);
  ok(ids.every((id) => /^[0-9a-f]{16}$/.test(id || '')) && new Set(ids).size === N, 'every response has its own X-Request-Id (16 hex digits)');
  const secretPath = '/ledger/v1/entries/did:mdl:zSecretPatientIdentifier42/x';
  const missing = await request(`${url}${secretPath}`);
  ok(missing.status === 404, `a random path is 404 (${missing.status})`);
  const scan = await request(`${url}/no/such/${crypto.randomBytes(16).toString('hex')}`);
  ok(scan.status === 404, 'a scan of a random path is 404');

  const m = await request(`${url}/metrics`);
  ok(m.status === 200 && /^text\/plain; version=0\.0\.4/.test(m.headers['content-type'] || ''), `GET /metrics is 200 text/plain; version=0.0.4 (${m.status}, ${m.headers['content-type']})`);
  let fam = new Map();
  try { fam = scrape(m.text); ok(fam.size > 0, `parse-prometheus-text-format reads ${fam.size} families`); } catch (e) { ok(false, `the parser reads /metrics: ${e}`); }
  ok(sample(fam, 'medallion_ledger_size') === N, `medallion_ledger_size is ${N} (${sample(fam, 'medallion_ledger_size')})`);
  const batches = fam.get('medallion_ledger_batch_entries');
  ok(batches?.type === 'HISTOGRAM' && Number(batches.metrics[0].count) >= 1 && Number(batches.metrics[0].sum) === N,
    `the sequencer's batch histogram counted ${N} entries (${batches && batches.metrics[0].sum})`);
  // The parser (prom2json's shape) flattens a histogram's series into one and keeps _sum and
  // _count only when unlabelled; labelled histogram series are read from the text it validated.
  const commits = Number((m.text.match(/^medallion_sqlite_commit_seconds_count\{store="ledger"\} (\d+)$/m) || [])[1] || 0);
  ok(fam.get('medallion_sqlite_commit_seconds')?.type === 'HISTOGRAM' && commits >= 1, `SQLite commit latency observed for the ledger store (${commits} commits)`);
  ok(sample(fam, 'medallion_http_requests_total', { route: '/ledger/v1/entries', method: 'POST', status: '200' }) === N,
    'the request counter has route /ledger/v1/entries, POST, 200 = N');
  const latCount = Number((m.text.match(/^medallion_http_request_duration_seconds_count\{route="\/ledger\/v1\/entries",method="POST"\} (\d+)$/m) || [])[1]);
  const latInf = Number((m.text.match(/^medallion_http_request_duration_seconds_bucket\{route="\/ledger\/v1\/entries",method="POST",le="\+Inf"\} (\d+)$/m) || [])[1]);
  ok(fam.get('medallion_http_request_duration_seconds')?.type === 'HISTOGRAM' && latCount === N && latInf === N, `the latency histogram counted the same requests, +Inf bucket included (${latCount}, ${latInf})`);
  ok((sample(fam, 'medallion_http_requests_total', { route: '(unmatched)', status: '404' }) || 0) >= 2, '404s of random paths are counted under "(unmatched)"');
  ok(!m.text.includes('zSecretPatientIdentifier42') && !/route="[^"]*[0-9a-f]{32}/.test(m.text), 'no path id reaches a label');
  ok(sample(fam, 'process_resident_memory_bytes') > 0 && sample(fam, 'process_open_fds') > 0, 'process gauges are present');
  ok(sample(fam, 'medallion_open_databases') >= 1, `medallion_open_databases counts the ledger's database (${sample(fam, 'medallion_open_databases')})`);

  // The log: one JSON line per request, matching the ids, with no path ids.
  await sleep(100);
  const lines = readFileSync(join(work, 'ledger.err'), 'utf8').split('\n').filter((l) => l.startsWith('{'));
  const parsed = lines.map((l) => { try { return JSON.parse(l); } catch { return null; } });
  ok(parsed.every((x) => x !== null), `every log line is JSON (${lines.length} lines)`);
  const byId = new Map(parsed.filter(Boolean).map((x) => [x.request_id, x]));
  ok(ids.every((id) => byId.get(id)?.route === '/ledger/v1/entries' && byId.get(id)?.status === 200 && typeof byId.get(id)?.latency_ms === 'number' && byId.get(id)?.method === 'POST' && /^\d{4}-\d\d-\d\dT/.test(byId.get(id)?.time)),
    'each append has its log line: time, request_id, method, route template, status, latency_ms');
  const allLog = readFileSync(join(work, 'ledger.err'), 'utf8');
  ok(!allLog.includes('zSecretPatientIdentifier42') && !allLog.includes('metrics-0') && !allLog.includes('"hash"'), 'the log holds no path id and no body');
  ok(parsed.some((x) => x && x.route === '(unmatched)' && x.status === 404), 'the 404 is logged under "(unmatched)"');

  // A metrics token: /metrics is then for its holder only.
  const { banner: b2 } = await startLedger('guarded', { MEDALLION_METRICS_TOKEN: 'metrics-secret-token' });
  const url2 = b2.url || `http://127.0.0.1:${b2.port}`;
  const denied = await request(`${url2}/metrics`);
  let body = null; try { body = JSON.parse(denied.text); } catch {}
  ok(denied.status === 403 && body?.error === 'access_denied' && typeof body?.error_description === 'string', `without the token /metrics is 403 access_denied (${denied.status})`);
  const wrong = await request(`${url2}/metrics`, { headers: { authorization: 'Bearer metrics-secret-tokeX' } });
  ok(wrong.status === 403, 'a wrong token is 403');
  const allowed = await request(`${url2}/metrics`, { headers: { authorization: 'Bearer metrics-secret-token' } });
  ok(allowed.status === 200 && allowed.text.includes('# TYPE medallion_http_requests_total counter'), 'with the token /metrics is 200');
  ok(!readFileSync(join(work, 'guarded.err'), 'utf8').includes('metrics-secret-token'), 'the token is not logged');
} catch (e) {
  ok(false, `unexpected: ${e.stack || e}`);
}
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
