// The bridge alone against a hostile container (issue 12): a fake container that answers the
// phone with JSON nested 100,000 deep, a 5 MiB body, and members of the wrong type, at every
// call the bridge makes (pairing, device challenge, session, the approval queue, a decision).
// The phone is `medallion phone`, which uses only the bridge's C ABI. Each answer must give a
// clean error (an exit code, never a signal or a hang), name what was wrong, and leave the
// phone usable (its wallet opens; a later good answer works).
// Usage: node deep_answers_test.mjs <medallion>. Ends with "N passed, M failed".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const M = process.argv[2];
if (!M) throw new Error('usage: deep_answers_test.mjs <medallion>');
let pass = 0, fail = 0;
const ok = (c, what) => { if (c) { pass++; console.log(`ok   - ${what}`); } else { fail++; console.log(`FAIL - ${what}`); } };
const work = mkdtempSync(join(tmpdir(), 'medallion-bridge-deep-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const DEEP = '{"a":' + '['.repeat(100000) + ']'.repeat(100000) + '}';
const BIG = JSON.stringify({ device_id: 'x'.repeat(5 << 20) });
// What the fake container answers, per call: 'good' or a hostile body.
const plan = { pair: 'good', challenge: 'good', session: 'good', requests: 'good', decision: 'good' };
const good = {
  pair: { device_id: 'dev-1' },
  challenge: { nonce: 'n-1' },
  session: { access_token: 'tok-1' },
  requests: [{ id: 'r1', hash: 'h', kind: 'consent', summary: { text: 'Dr. Example asks to read your records.' }, payload: {} }],
  decision: { status: 'approved' },
};
const wrongType = {
  pair: { device_id: 7 },
  challenge: { nonce: { deep: true } },
  session: { access_token: [1, 2] },
  requests: [{ id: 'r1', hash: 5, kind: 'consent', summary: 'A request', payload: { sign: { format: 'data_integrity' } } }],
  decision: 'not an object',
};
function answer(res, call) {
  const mode = plan[call];
  let body;
  if (mode === 'deep') body = DEEP;
  else if (mode === 'big') body = BIG;
  else if (mode === 'wrong') body = JSON.stringify(wrongType[call]);
  else body = JSON.stringify(good[call]);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const u = req.url;
    if (u === '/pairing/v1/complete') return answer(res, 'pair');
    if (u === '/device/v1/challenge') return answer(res, 'challenge');
    if (u === '/device/v1/session') return answer(res, 'session');
    if (u === '/device/v1/requests') return answer(res, 'requests');
    if (/^\/device\/v1\/requests\/[^/]+\/decision$/.test(u)) return answer(res, 'decision');
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found","error_description":"no such path"}');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;

const env = { ...process.env, MEDALLION_PASSPHRASE: 'phone-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
function phone(args) {
  return new Promise((resolve) => {
    const p = spawn(M, ['phone', ...args, '--store', join(work, 'phone.db')], { env, cwd: work });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err: err.trim() }); });
  });
}
// A clean error: an exit code (not a signal), and a message that says what was wrong.
const clean = (r) => r.signal === null && r.code !== 0 && r.code !== null && !/internal error/.test(r.err) && r.err.length > 0;
const pairUri = () => `medallion-pair://v1?url=${encodeURIComponent(url)}&id=p1&secret=s3cret&expires=${Math.floor(Date.now() / 1000) + 600}`;

const init = await phone(['init', '--kdf', 'test', '--mnemonic-out', join(work, 'words')]);
ok(init.code === 0, `phone init (${init.code} ${init.err})`);

// Pairing: hostile answers to /pairing/v1/complete.
for (const mode of ['deep', 'big', 'wrong']) {
  plan.pair = mode;
  const r = await phone(['pair', '--uri', pairUri(), '--name', 'test phone']);
  ok(clean(r), `pair, ${mode} answer: a clean error (exit ${r.code}, signal ${r.signal}): ${r.err.slice(0, 140)}`);
  const show = await phone(['show']);
  ok(show.code === 0 && !/dev-1/.test(show.out), `  and the phone still opens, unpaired (exit ${show.code})`);
}
plan.pair = 'good';
const paired = await phone(['pair', '--uri', pairUri(), '--name', 'test phone']);
ok(paired.code === 0, `pair with a good answer afterwards (exit ${paired.code} ${paired.err})`);

// The device session and the queue: each call hostile in turn.
for (const call of ['challenge', 'session', 'requests']) {
  for (const mode of ['deep', 'big', 'wrong']) {
    plan[call] = mode;
    const r = await phone(['pending']);
    ok(clean(r), `pending, ${mode} ${call} answer: a clean error (exit ${r.code}, signal ${r.signal}): ${r.err.slice(0, 140)}`);
  }
  plan[call] = 'good';
}
const pending = await phone(['pending']);
ok(pending.code === 0 && /r1/.test(pending.out), `pending with good answers lists the request (exit ${pending.code} ${pending.err})`);
// bridge.h promises a payload on every item: a consent request that comes without one gets {}.
good.requests.push({ id: 'r2', hash: 'h2', kind: 'consent', summary: { text: 'Dr. Example asks again.' } });
const listed = await phone(['pending']);
let items = null;
try { items = JSON.parse(listed.out); } catch { items = null; }
ok(Array.isArray(items) && items.length === 2 &&
   items.every((i) => i.payload !== null && typeof i.payload === 'object' && !Array.isArray(i.payload)) &&
   Object.keys(items[1].payload).length === 0 && typeof items[1].text === 'string',
   `every pending item carries a payload object, {} for a consent request without one (${listed.out.slice(0, 160)})`);
good.requests.pop();

// A decision: the queue or the decision's answer hostile.
for (const [call, mode] of [['requests', 'deep'], ['requests', 'wrong'], ['decision', 'deep'], ['decision', 'big'], ['decision', 'wrong']]) {
  plan[call] = mode;
  const r = await phone(['approve', 'r1']);
  ok(clean(r), `approve, ${mode} ${call} answer: a clean error (exit ${r.code}, signal ${r.signal}): ${r.err.slice(0, 140)}`);
  plan[call] = 'good';
}
const approved = await phone(['approve', 'r1']);
ok(approved.code === 0, `approve with good answers (exit ${approved.code} ${approved.err})`);

server.close();
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
