// Helpers of bad_input_test.mjs: an HTTP client that keeps going whatever the server answers
// (or does not), raw requests over a socket, a passkey registered from node (WebAuthn "none"
// attestation, ES256), the routes registered in the sources, and digests of SQLite databases.
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

// One request: {status, headers, text, json, error}. status 0 when no answer came (error names
// why). `body` is a string or a Buffer; `headers` are sent as given (no content-type is added).
export function request(base, { method = 'GET', path = '/', headers = {}, body, timeout = 8000 } = {}) {
  return new Promise((resolve) => {
    const u = new URL(base);
    const h = { ...headers };
    if (body !== undefined && h['content-length'] === undefined) h['content-length'] = Buffer.byteLength(body);
    let done = false;
    const finish = (r) => { if (!done) { done = true; resolve(r); } };
    let req;
    try {
      req = http.request({ host: u.hostname, port: u.port, path, method, headers: h, agent }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (d) => { if (size < (4 << 20)) chunks.push(d); size += d.length; });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch {}
        finish({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', (e) => finish({ status: res.statusCode, headers: res.headers, text: '', json: null, error: e.code || String(e) }));
      });
    } catch (e) {
      return finish({ status: 0, error: `client refused to send: ${e.code || e.message}` });
    }
    req.setTimeout(timeout, () => { req.destroy(new Error('timeout')); });
    req.on('error', (e) => finish({ status: 0, error: e.code || e.message || String(e) }));
    if (body !== undefined) req.end(body); else req.end();
  });
}

// Bytes as given over a new connection; the answer's status line, headers and body (whatever
// arrived within `wait` ms or before the server closed). status 0: nothing came back.
export function raw(base, bytes, wait = 3000) {
  return new Promise((resolve) => {
    const u = new URL(base);
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      const bodyText = split >= 0 ? text.slice(split + 4) : '';
      let json = null;
      try { json = JSON.parse(bodyText); } catch {}
      resolve({ status: m ? Number(m[1]) : 0, text, json });
    };
    s.on('data', (d) => chunks.push(d));
    s.on('error', finish);
    s.on('close', finish);
    s.on('connect', () => { s.write(bytes); });
    setTimeout(finish, wait);
  });
}

// Runs async jobs with at most `n` at once.
export async function pool(jobs, n = 6) {
  const out = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, async () => {
    while (next < jobs.length) { const i = next++; out[i] = await jobs[i](); }
  }));
  return out;
}

// ---- a minimal CBOR encoder (unsigned/negative integers, byte and text strings, maps) ------
function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
}
function cbor(v) {
  if (typeof v === 'number') return v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v);
  if (typeof v === 'string') { const b = Buffer.from(v, 'utf8'); return Buffer.concat([cborHead(3, b.length), b]); }
  if (Buffer.isBuffer(v)) return Buffer.concat([cborHead(2, v.length), v]);
  if (v instanceof Map) {
    const parts = [cborHead(5, v.size)];
    for (const [k, val] of v) parts.push(cbor(k), cbor(val));
    return Buffer.concat(parts);
  }
  throw new Error('cbor: unsupported value');
}

// Registers a passkey from a setup link (`#setup=<token>`) the way a browser would: register
// options, an ES256 credential with "none" attestation, register. Returns {cookie, csrf,
// origin} (cookie as "name=value") or throws with the server's answer.
export async function passkeyFromLink(link) {
  const u = new URL(link);
  const origin = u.origin;
  const token = u.hash.replace(/^#setup=/, '');
  const base = `http://127.0.0.1:${u.port}`;
  const hdr = { 'content-type': 'application/json', origin };
  const opts = await request(base, { method: 'POST', path: `${u.pathname.replace(/\/$/, '')}/web/v1/passkeys/register/options`, headers: hdr, body: JSON.stringify({ link: token }) });
  if (opts.status !== 200) throw new Error(`register/options: ${opts.status} ${opts.text}`);
  const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credId = crypto.randomBytes(16);
  const cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]));
  const len = Buffer.alloc(2); len.writeUInt16BE(credId.length);
  const authData = Buffer.concat([crypto.createHash('sha256').update(opts.json.rp.id).digest(), Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16), len, credId, cose]);
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: opts.json.challenge, origin, crossOrigin: false }));
  const att = cbor(new Map([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
  const body = { name: 'bad-input', credential: { id: credId.toString('base64url'), rawId: credId.toString('base64url'), type: 'public-key', response: { clientDataJSON: clientData.toString('base64url'), attestationObject: att.toString('base64url') } } };
  const reg = await request(base, { method: 'POST', path: `${u.pathname.replace(/\/$/, '')}/web/v1/passkeys/register`, headers: hdr, body: JSON.stringify(body) });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const set = [].concat(reg.headers['set-cookie'] || [])[0] || '';
  return { cookie: set.split(';')[0], csrf: reg.json.csrf, origin };
}

// Every route the sources register: "file METHOD first-argument" (the argument as written).
export function sourceRoutes(root) {
  const out = [];
  for (const dir of ['roles/src', 'web/src', 'uma/src', 'claims/src', 'ledger/src']) {
    for (const f of readdirSync(join(root, dir)).sort()) {
      if (!/\.(cpp|h)$/.test(f)) continue;
      const text = readFileSync(join(root, dir, f), 'utf8');
      const re = /\b(?:server|outer)\.(Get|Post|Put|Delete|Patch)\(\s*((?:R"\(.*?\)"|"[^"]*"|[^,"])+?)\s*,/gs;
      let m;
      while ((m = re.exec(text))) out.push(`${dir}/${f} ${m[1].toUpperCase()} ${m[2].replace(/\s+/g, ' ')}`);
    }
  }
  return out;
}

// The JSON member names the handlers read (the accessors of core/json.h and nlohmann's
// find/contains/value/at/[]), for the wrong-type bodies.
export function memberNames(root) {
  const names = new Set();
  for (const dir of ['roles/src', 'web/src', 'uma/src', 'claims/src']) {
    for (const f of readdirSync(join(root, dir))) {
      if (!/\.cpp$/.test(f)) continue;
      const text = readFileSync(join(root, dir, f), 'utf8');
      const re = /(?:Required\w*|Optional\w*|StringOr|MemberOr|find|contains|value|at)\(\s*[\w*>.()-]*\s*,?\s*"([a-z_][A-Za-z0-9_]{0,40})"|\["([a-z_][A-Za-z0-9_]{0,40})"\]/g;
      let m;
      while ((m = re.exec(text))) names.add(m[1] || m[2]);
    }
  }
  return [...names].sort();
}

// Per table, a digest of the rows of the databases in `files` (one `sqlite3 .dump` each),
// leaving out the tables that hold sign-in bookkeeping (sessions, challenges, one-time links,
// rate limits), which a refused request may legitimately touch. {"file#table": digest}.
export function dbDigest(files, ignore = /^(sessions|challenges|links|signin_attempts|rate_limits?|attempts)$/) {
  const detail = {};
  for (const f of files) {
    if (!existsSync(f)) { detail[f] = 'absent'; continue; }
    const d = spawnSync('sqlite3', ['-readonly', f, '.dump'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (d.status !== 0) { detail[f] = `unreadable: ${d.stderr.trim()}`; continue; }
    const rows = {};
    for (const line of d.stdout.split('\n')) {
      const m = /^INSERT INTO "?([^" (]+)"?/.exec(line) || /^CREATE TABLE (?:IF NOT EXISTS )?"?([^" (]+)"?/.exec(line);
      if (!m) continue;
      (rows[m[1]] ||= []).push(line);
    }
    for (const [t, lines] of Object.entries(rows)) {
      if (ignore.test(t)) continue;
      const key = `${f.split('/').slice(-2).join('/')}#${t}`;
      detail[key] = crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
      rowsOf.set(detail, { ...(rowsOf.get(detail) || {}), [key]: lines });
    }
  }
  return detail;
}

const rowsOf = new WeakMap();

// The members of two digests that differ, each with a row it gained or lost.
export function digestDiff(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).map((k) => {
    const ra = new Set((rowsOf.get(a) || {})[k] || []), rb = (rowsOf.get(b) || {})[k] || [];
    const added = rb.filter((r) => !ra.has(r));
    const rbs = new Set(rb);
    const removed = [...ra].filter((r) => !rbs.has(r));
    return `${k} (+${added.length} -${removed.length}${added.length ? `: ${added[0].slice(0, 300)}` : ''})`;
  });
}

export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

export function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
