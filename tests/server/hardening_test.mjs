// Hardening of a served role (issue 12), from outside, against `medallion ledger serve`:
//   * a second server on a taken port exits 2 and says so (no SO_REUSEPORT);
//   * a burst of 200 simultaneous connections is answered with no listen-queue overflow
//     (TcpExtListenOverflows does not move: the backlog is no longer 5);
//   * 70 slow clients from one address (127.0.0.2) sending a header line every 2 s do not hold
//     the server: a normal client from 127.0.0.1 is answered while they are still sending, and
//     the server closes them (bounded script: it stops itself after 40 s);
//   * the ledger's author validators: anchor (by / key), consent, status and dispense entries
//     with a valid signature are appended; a missing, forged (all-zero) or foreign signature is
//     refused and changes nothing;
//   * a single entry over 4096 bytes as received is refused; a POST that is not
//     application/json gets 415.
// Usage: node hardening_test.mjs <medallion>. Ends with "N passed, M failed".
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import crypto from 'node:crypto';

const M = process.argv[2];
if (!M) throw new Error('usage: hardening_test.mjs <medallion>');
let pass = 0, fail = 0;
const ok = (c, what) => { if (c) { pass++; console.log(`ok   - ${what}`); } else { fail++; console.log(`FAIL - ${what}`); } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'medallion-hardening-'));
const children = [];
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } rmSync(work, { recursive: true, force: true }); });

async function startLedger(name, listen) {
  const out = join(work, `${name}.out`);
  const child = spawn('bash', ['-c', `exec "${M}" ledger serve --db ${name}.db --key-file ${name}.key --origin hardening.test/${name} --listen ${listen} --json >${name}.out 2>${name}.err`], { cwd: work });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    try { const t = readFileSync(out, 'utf8'); if (t.includes('\n')) return { child, banner: JSON.parse(t.split('\n')[0]) }; } catch {}
    await sleep(50);
  }
  throw new Error(`${name} did not start: ${readFileSync(join(work, `${name}.err`), 'utf8')}`);
}

function request(url, { method = 'GET', body, type = 'application/json', localAddress } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, localAddress, agent: false,
      headers: body !== undefined ? { 'content-type': type, 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => { let json = null; try { json = JSON.parse(text); } catch {} resolve({ status: res.statusCode, text, json }); });
    });
    req.on('error', (e) => resolve({ status: 0, error: e.code || String(e) }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function listenOverflows() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i].startsWith('TcpExt:')) continue;
    const names = lines[i].split(/\s+/), values = lines[i + 1].split(/\s+/);
    const k = names.indexOf('ListenOverflows');
    if (k >= 0) return Number(values[k]);
  }
  return null;
}

// ---- Ed25519, did:key and JCS for flat entries (strings and safe integers only) ----
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let s = '';
  while (n > 0n) { s = B58[Number(n % 58n)] + s; n /= 58n; }
  for (const b of bytes) { if (b === 0) s = '1' + s; else break; }
  return s;
}
function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, raw, did: 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw])) };
}
const jcs = (o) => '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + JSON.stringify(o[k])).join(',') + '}';
const b64u = (b) => Buffer.from(b).toString('base64url');
function sign(entry, key) {
  const e = { ...entry }; delete e.sig;
  return { ...e, sig: b64u(crypto.sign(null, Buffer.from(jcs(e)), key.privateKey)) };
}
const hex32 = (s) => crypto.createHash('sha256').update(s).digest('hex');

(async () => {
  const { banner } = await startLedger('l1', '127.0.0.1:0');
  const url = banner.url;
  const port = new URL(url).port;

  // 1. The port is taken: a second ledger exits 2 and names the problem.
  const second = spawnSync(M, ['ledger', 'serve', '--db', 'l2.db', '--key-file', 'l2.key', '--origin', 'hardening.test/l2', '--listen', `127.0.0.1:${port}`], { cwd: work, timeout: 10000, encoding: 'utf8' });
  ok(second.status === 2, `a second server on a taken port exits 2 (got ${second.status})`);
  ok(/already in use/.test(second.stderr), `and says the port is in use (${second.stderr.trim()})`);
  // Every request still reaches the one server.
  const keys = new Set();
  for (let i = 0; i < 20; i++) { const r = await request(`${url}/ledger/v1/key`); keys.add(r.json?.verifier_key); }
  ok(keys.size === 1 && keys.has(banner.verifier_key), 'all 20 requests answered by the first server');

  // 2. A burst of 200 new connections: no listen-queue overflow.
  const before = listenOverflows();
  const burst = await Promise.all(Array.from({ length: 200 }, () => request(`${url}/ledger/v1/checkpoint`)));
  const after = listenOverflows();
  const refused = [...new Set(burst.filter((r) => r.status !== 200).map((r) => r.error || r.status))];
  ok(burst.every((r) => r.status === 200), `200 simultaneous connections all answered (${burst.filter((r) => r.status === 200).length}/200${refused.length ? '; others: ' + refused.join(', ') : ''})`);
  ok(before !== null && after === before, `no listen-queue overflow (TcpExtListenOverflows ${before} → ${after})`);

  // 3. Validators for every entry type that names an author.
  const alice = newKey(), mallory = newKey();
  const ts = Math.floor(Date.now() / 1000);
  const append = (e) => request(`${url}/ledger/v1/entries`, { method: 'POST', body: JSON.stringify(e) });
  const size = async () => (await request(`${url}/ledger/v1/checkpoint`)).text.split('\n')[1];
  const cases = {
    'anchor (by)': { type: 'anchor', v: 1, hash: hex32('a1'), kind: 'credential', by: alice.did, ts },
    'anchor (key)': { type: 'anchor', v: 1, hash: hex32('a2'), kind: 'batch', key: b64u(alice.raw), ts },
    consent: { type: 'consent', v: 1, receipt: hex32('r'), subject: b64u(crypto.randomBytes(16)), controller: b64u(alice.raw), purpose: 'treatment', action: 'grant', scope: hex32('s'), ts },
    status: { type: 'status', v: 1, credential: hex32('c'), issuer: alice.did, status: 'revoked', ts },
    dispense: { type: 'dispense', v: 1, nullifier: hex32('n' + ts), rx: hex32('rx'), pharmacy: alice.did, qty: 30, ts },
  };
  for (const [name, entry] of Object.entries(cases)) {
    const n0 = await size();
    const missing = await append(entry);
    const forged = await append({ ...entry, sig: b64u(Buffer.alloc(64)) });
    const foreign = await append(sign(entry, mallory));
    const n1 = await size();
    ok(missing.status >= 400 && missing.status < 500, `${name}: a missing signature is refused (${missing.status} ${missing.json?.error})`);
    ok(forged.status >= 400 && forged.status < 500, `${name}: an all-zero signature is refused (${forged.status} ${forged.json?.error})`);
    ok(foreign.status >= 400 && foreign.status < 500, `${name}: another key's signature is refused (${foreign.status} ${foreign.json?.error})`);
    ok(n0 === n1, `${name}: the refusals changed nothing (size ${n0} → ${n1})`);
    const good = await append(sign(entry, alice));
    ok(good.status === 200, `${name}: the author's own signature is appended (${good.status} ${good.text.slice(0, 120)})`);
  }
  // An anchor signed without naming an author, and one naming both, are refused.
  const anon = await append({ ...cases['anchor (by)'], by: undefined, hash: hex32('a3'), sig: b64u(Buffer.alloc(64, 1)) });
  ok(anon.status === 400, `an anchor with a signature but no author is refused (${anon.status})`);

  // 4. Limits on the received entry; media type.
  const padded = JSON.stringify({ type: 'anchor', v: 1, hash: hex32('pad'), kind: 'document', ts }).replace('{', '{' + ' '.repeat(900000));
  const n2 = await size();
  const big = await request(`${url}/ledger/v1/entries`, { method: 'POST', body: padded });
  ok(big.status === 400 && /4096/.test(big.text), `an entry padded to 900 kB is refused (${big.status} ${big.json?.error_description})`);
  const form = await request(`${url}/ledger/v1/entries`, { method: 'POST', body: JSON.stringify({ type: 'anchor', v: 1, hash: hex32('form'), kind: 'document', ts }), type: 'application/x-www-form-urlencoded' });
  ok(form.status === 415 && form.json?.error === 'unsupported_media_type', `a POST that is not application/json gets 415 (${form.status})`);
  ok((await size()) === n2, 'neither changed the log');

  // 4b. The pharmacy, unauthenticated: wrong member types are a 400 naming the member, never a 500.
  spawnSync(M, ['wallet', 'init', '--store', 'ph.db', '--kdf', 'test', '--mnemonic-out', 'ph.words'], { cwd: work, env: { ...process.env, MEDALLION_PASSPHRASE: 'ph', MEDALLION_ALLOW_TEST_KDF: '1' } });
  const phOut = join(work, 'ph.out');
  const ph = spawn('bash', ['-c', `exec "${M}" pharmacy serve --dir ph --store ph.db --listen 127.0.0.1:0 --ledger ${url} --log-key '${banner.verifier_key}' --trust did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK --json >ph.out 2>ph.err`], { cwd: work, env: { ...process.env, MEDALLION_PASSPHRASE: 'ph', MEDALLION_ALLOW_TEST_KDF: '1' } });
  children.push(ph);
  let phUrl = null;
  for (let i = 0; i < 200 && !phUrl; i++) { try { const t = readFileSync(phOut, 'utf8'); if (t.includes('\n')) phUrl = JSON.parse(t.split('\n')[0]).url; } catch {} if (!phUrl) await sleep(50); }
  ok(phUrl !== null, `the pharmacy serves (${phUrl})`);
  if (phUrl) {
    const dispense = (body) => request(`${phUrl}/pharmacy/v1/dispense`, { method: 'POST', body });
    const wrongType = await dispense(JSON.stringify({ presentation: {}, fill_authorization: 1 }));
    ok(wrongType.status === 400 && /fill_authorization/.test(wrongType.json?.error_description || ''), `{"presentation":{},"fill_authorization":1} is a 400 naming the member (${wrongType.status} ${wrongType.json?.error_description})`);
    const deep = await dispense('{"presentation":' + '['.repeat(100000) + ']'.repeat(100000) + '}');
    ok(deep.status === 400, `a presentation nested 100,000 deep is a 400 (${deep.status})`);
    const notJson = await request(`${phUrl}/pharmacy/v1/dispense`, { method: 'POST', body: '{}', type: 'text/plain' });
    ok(notJson.status === 415, `a body that is not application/json is a 415 (${notJson.status})`);
    const alive = await request(`${phUrl}/pharmacy/v1/challenge`, { method: 'POST', body: '{}' });
    ok(alive.status === 200, 'the pharmacy still answers');
  }

  // 5. Slow clients: 70 connections from 127.0.0.2, a header line every 2 s, for at most 40 s.
  const slow = [];
  let closedByServer = 0;
  let stopping = false;
  for (let i = 0; i < 70; i++) {
    const s = net.connect({ host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.2' });
    s.on('error', () => {});
    s.on('close', () => { if (!stopping) closedByServer++; });
    s.on('connect', () => s.write('GET /ledger/v1/checkpoint HTTP/1.1\r\nHost: x\r\n'));
    slow.push(s);
  }
  const drip = setInterval(() => { for (const s of slow) if (!s.destroyed) s.write('X-Slow: 1\r\n'); }, 2000);
  await sleep(3000);
  // A normal client from 127.0.0.1 while the slow ones are still sending.
  const t0 = Date.now();
  const normal = await Promise.race([request(`${url}/ledger/v1/checkpoint`), sleep(36000).then(() => ({ status: -1 }))]);
  ok(normal.status === 200, `a normal client is answered while 70 slow clients are still sending (${normal.status}, after ${Date.now() - t0} ms)`);
  await Promise.race([(async () => { while (closedByServer < 70) await sleep(200); })(), sleep(30000)]);
  ok(closedByServer === 70, `the server closed every slow connection itself (${closedByServer}/70)`);
  stopping = true;
  clearInterval(drip);
  for (const s of slow) s.destroy();

  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail === 0 ? 0 : 1);
})().catch((e) => { console.error(e); console.log(`${pass} passed, ${fail + 1} failed`); process.exit(1); });
