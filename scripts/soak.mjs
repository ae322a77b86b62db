// The soak's driver (docs/soak.md); run it through scripts/soak.sh. Node 20, built-ins only.
//
// 1. `medallion up` creates a deployment (wallets, DIDs, the society's directory, every role's
//    state); it is stopped again and every role is started here instead, from the same argv and
//    state on the same port, so that it can be killed with SIGKILL and restarted on its data.
// 2. The flow is set up once (the patient's session and policy, the physician's license,
//    sessions and a first MedicationRequest), then driven at --rate operations per second:
//    ledger appends, UMA grants (read or search), reads of the patient's records, writes of new
//    MedicationRequests, prescriptions (signed, postmarked, delivered to the patient) and
//    dispenses at the pharmacy; every --sample-seconds the RSS, open fds and threads of every
//    server are sampled from /proc; every 10 s a checkpoint is taken with `ledger checkpoint
//    --state` (a rollback or split view is refused); at random moments the ledger or a
//    container is killed with SIGKILL and restarted.
// 3. Then every acknowledged write and every proof is checked, the curves are judged, every
//    failure is classified by whether it overlapped a kill window, and the report is written.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Options

function usage(msg) {
  if (msg) console.error(`soak: ${msg}`);
  console.error('usage: scripts/soak.sh [--minutes N] [--out DIR] [--rate R] [--seed S] [--medallion PATH]\n' +
                '                       [--sample-seconds S] [--kill-every MIN:MAX] [--grace S]');
  process.exit(2);
}

const opt = {
  minutes: 5, out: '', rate: 2, seed: Date.now() % 1000000007, medallion: '', repo: '',
  sampleSeconds: 5, killEvery: '', grace: 3,
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; ++i) {
    const k = a[i];
    const v = () => { if (i + 1 >= a.length) usage(`${k} needs a value`); return a[++i]; };
    if (k === '--minutes') opt.minutes = Number(v());
    else if (k === '--out') opt.out = v();
    else if (k === '--rate') opt.rate = Number(v());
    else if (k === '--seed') opt.seed = Number(v());
    else if (k === '--medallion') opt.medallion = v();
    else if (k === '--repo') opt.repo = v();
    else if (k === '--sample-seconds') opt.sampleSeconds = Number(v());
    else if (k === '--kill-every') opt.killEvery = v();
    else if (k === '--grace') opt.grace = Number(v());
    else if (k === '--help' || k === '-h') usage();
    else usage(`unknown argument ${k}`);
  }
  if (!(opt.minutes > 0)) usage('--minutes must be > 0');
  if (!(opt.rate > 0 && opt.rate <= 50)) usage('--rate must be in (0, 50]');
  if (!(opt.sampleSeconds >= 1)) usage('--sample-seconds must be >= 1');
  if (!Number.isInteger(opt.seed) || opt.seed < 0) usage('--seed must be a non-negative integer');
  if (!opt.out) usage('--out is required (scripts/soak.sh gives a default)');
}
const LOAD_MS = opt.minutes * 60000;
const [KILL_MIN, KILL_MAX] = (() => {
  if (opt.killEvery) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(opt.killEvery);
    if (!m || Number(m[1]) <= 0 || Number(m[2]) < Number(m[1])) usage('--kill-every MIN:MAX (seconds)');
    return [Number(m[1]), Number(m[2])];
  }
  return opt.minutes < 10 ? [15, 35] : [40, 120];
})();

const OUT = path.resolve(opt.out);
if (fs.existsSync(OUT) && fs.readdirSync(OUT).length > 0) {
  if (!fs.existsSync(path.join(OUT, '.medallion-soak'))) usage(`${OUT} exists and is not an earlier soak's folder`);
  fs.rmSync(OUT, { recursive: true, force: true });
}
const WORK = path.join(OUT, 'work');
const LOGS = path.join(OUT, 'logs');
for (const d of [OUT, WORK, LOGS]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
fs.writeFileSync(path.join(OUT, '.medallion-soak'), '');

// The binary is copied, so that a rebuild of ./build during the run changes nothing here.
const SRC_BIN = path.resolve(opt.medallion || process.env.MEDALLION || path.join(opt.repo || '.', 'build/cli/medallion'));
const M = path.join(OUT, 'bin', 'medallion');
fs.mkdirSync(path.dirname(M), { recursive: true });
for (let i = 0; ; ++i) {
  try {
    fs.copyFileSync(SRC_BIN, M);
    fs.chmodSync(M, 0o755);
    break;
  } catch (e) {
    if (i >= 60) usage(`cannot copy ${SRC_BIN}: ${e.message}`);
    await new Promise((r) => setTimeout(r, 5000));  // being rebuilt: wait for it
  }
}
// Its own shared libraries (the bridge, found by RUNPATH in the build tree) are copied as well,
// and found first through LD_LIBRARY_PATH.
{
  const { execFileSync } = await import('node:child_process');
  let ldd = '';
  try { ldd = execFileSync('ldd', [M], { encoding: 'utf8' }); } catch { /* static, or no ldd */ }
  for (const m of ldd.matchAll(/^\s*(\S+) => (\/\S+)/gm)) {
    if (/^\/(usr\/)?lib/.test(m[2])) continue;
    fs.copyFileSync(m[2], path.join(path.dirname(M), m[1]));
  }
  process.env.LD_LIBRARY_PATH = path.dirname(M) + (process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : '');
}

// ---------------------------------------------------------------------------------------------
// Small tools

const T0 = Date.now();
let LOAD_START = 0;  // set when the load begins; sample times are relative to it
const logFile = path.join(OUT, 'soak.log');
function say(msg) {
  const line = `[${((Date.now() - T0) / 1000).toFixed(1).padStart(7)}s] ${msg}`;
  console.log(line);
  fs.appendFileSync(logFile, line + '\n');
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');
const H = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHashOf = (canonical) => H(Buffer.from([0]), Buffer.from(canonical, 'utf8')).toString('hex');
// RFC 8785 for the entries appended here: ASCII strings and small integers, keys sorted.
const canonical = (e) => '{' + Object.keys(e).sort().map((k) => JSON.stringify(k) + ':' + JSON.stringify(e[k])).join(',') + '}';
const readJson = (f) => JSON.parse(fs.readFileSync(path.isAbsolute(f) ? f : path.join(WORK, f), 'utf8'));
const iso = (t) => new Date(t).toISOString();

// mulberry32: the run's randomness (op mix, kill times and targets) comes from --seed.
let rngState = opt.seed >>> 0;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randIn = (lo, hi) => lo + rand() * (hi - lo);

// A command of the CLI, as a child process: {code, out, err, t0, t1}.
function cli(args, { env = {}, timeoutMs = 180000 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let out = '';
    let err = '';
    let done = false;
    const finish = (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code, out, err, t0, t1: Date.now() });
    };
    const child = spawn(M, args, { cwd: WORK, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { err += '\n(soak: timed out)'; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { err += String(e); finish(127); });
    child.on('close', (code, sig) => finish(code ?? (sig ? 128 : 1)));
  });
}
function cliMust(r, what) {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${(r.err || r.out).trim().slice(0, 400)}`);
  return r.out;
}
async function fetchText(url, init = {}, timeoutMs = 20000) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
async function getJson(url) {
  const r = await fetchText(url, {}, 60000);
  if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  return JSON.parse(r.text);
}

// ---------------------------------------------------------------------------------------------
// Processes

const pidsFile = path.join(OUT, 'pids.txt');
function procStartTime(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch { return ''; }
}

class Role {
  constructor(name, argv, env, url) {
    Object.assign(this, { name, argv, env, url, incarnation: 0, child: null, pid: 0, exited: null });
  }
  async start() {
    const log = fs.openSync(path.join(LOGS, `${this.name}.log`), 'a');
    const child = spawn(M, this.argv, { cwd: WORK, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    this.child = child;
    this.pid = child.pid;
    this.incarnation += 1;
    this.exited = null;
    this.ready = false;  // sampled only once it answers (not while it execs and opens its state)
    this.exitPromise = new Promise((res) => child.on('exit', (code, sig) => { this.exited = { code, sig }; res(this.exited); }));
    fs.appendFileSync(pidsFile, `${child.pid} ${procStartTime(child.pid)}\n`);
    const banner = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`${this.name}: no banner in 120 s`)), 120000);
      const onData = (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        try { resolve(JSON.parse(buf.slice(0, nl))); } catch { reject(new Error(`${this.name}: banner is not JSON: ${buf.slice(0, 200)}`)); }
      };
      child.stdout.on('data', onData);
      child.once('exit', () => { clearTimeout(timer); reject(new Error(`${this.name} exited before its banner (logs/${this.name}.log)`)); });
    });
    if (this.url && banner.url !== this.url) throw new Error(`${this.name}: restarted at ${banner.url}, not ${this.url}`);
    this.url = banner.url;
    // Ready when /metrics answers (every server has it, before any role's routes).
    for (let i = 0; ; ++i) {
      try {
        const r = await fetchText(this.url + '/metrics', {}, 5000);
        if (r.status === 200) break;
      } catch { /* not yet */ }
      if (i > 300) throw new Error(`${this.name}: /metrics does not answer`);
      await sleep(100);
    }
    this.ready = true;
    return banner;
  }
  async kill9() {
    process.kill(this.pid, 'SIGKILL');
    await this.exitPromise;
  }
  async stop() {
    if (!this.child || this.exited) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL'); }, 20000);
    const r = await this.exitPromise;
    clearTimeout(t);
    return r;
  }
}
const roles = {};  // name -> Role
let upChild = null;
function killEverything() {
  for (const r of Object.values(roles)) if (r.child && !r.exited) { try { r.child.kill('SIGTERM'); } catch { /* gone */ } }
  if (upChild && upChild.exitCode === null) { try { upChild.kill('SIGTERM'); } catch { /* gone */ } }
}
process.on('exit', killEverything);
process.on('uncaughtException', (e) => { say(`soak: internal error: ${e.stack ?? e}`); killEverything(); process.exit(3); });
process.on('unhandledRejection', (e) => { say(`soak: internal error: ${e?.stack ?? e}`); killEverything(); process.exit(3); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { say(`${sig}: stopping`); killEverything(); process.exit(130); });

// ---------------------------------------------------------------------------------------------
// 1. The deployment: `medallion up` creates it, then every role is started here.

say(`soak: ${opt.minutes} min at ${opt.rate} op/s, seed ${opt.seed}, kills every ${KILL_MIN}-${KILL_MAX} s, ` +
    `samples every ${opt.sampleSeconds} s, grace ${opt.grace} s; binary ${SRC_BIN} (copied to ${M}); out ${OUT}`);
const upOut = path.join(OUT, 'up.out');
upChild = spawn(M, ['up', '--out', path.join(OUT, 'up')], {
  cwd: WORK, stdio: ['ignore', fs.openSync(upOut, 'w'), fs.openSync(path.join(LOGS, 'up.err'), 'w')],
});
for (let i = 0; ; ++i) {
  if (fs.readFileSync(upOut, 'utf8').includes('Ctrl-C stops everything')) break;
  if (upChild.exitCode !== null || i > 1800) {
    say(`medallion up did not start:\n${fs.readFileSync(upOut, 'utf8')}`);
    process.exit(1);
  }
  await sleep(100);
}
const RUN = path.join(OUT, 'up', fs.readdirSync(path.join(OUT, 'up')).find((d) => d.startsWith('run-')));
const table = JSON.parse(fs.readFileSync(path.join(RUN, 'up.json'), 'utf8'));
const field = (role, k) => table.find((x) => x.role === role)[k];
const L = field('ledger', 'url');
const K = field('ledger', 'log_key');
const SOC = field('society (issuer)', 'url');
const SOCIETY_DID = field('society (issuer)', 'did');
const PB = field("patient's container", 'url');
const PD = field("patient's container", 'owner');
const DB = field("physician's container", 'url');
const DD = field("physician's container", 'owner');
const PH = field('pharmacy', 'url');
// up's children, by their command lines.
const upKids = [];
for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
  try {
    const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) !== upChild.pid) continue;
    upKids.push({ pid: Number(p), argv: fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter((x, i, a) => i < a.length - 1 || x) });
  } catch { /* gone */ }
}
function roleOf(argv) {
  const a = argv.slice(1);
  const app = a.includes('--app') ? a[a.indexOf('--app') + 1] : '';
  if (a[0] === 'ledger' && a[1] === 'serve') return ['ledger', L];
  if (a[0] === 'issuer' && a[1] === 'serve') return ['society', SOC];
  if (a[0] === 'container' && app === 'patient') return ['patient-container', PB];
  if (a[0] === 'container' && app === 'physician') return ['physician-container', DB];
  if (a[0] === 'pharmacy' && a[1] === 'serve') return ['pharmacy', PH];
  return [null, null];
}
const specs = {};
for (const k of upKids) {
  const [name, url] = roleOf(k.argv);
  if (!name) continue;
  const argv = k.argv.slice(1);
  argv[argv.indexOf('--listen') + 1] = new URL(url).host;
  const env = {};
  if (argv.includes('--store')) {
    const store = argv[argv.indexOf('--store') + 1];
    env.MEDALLION_PASSPHRASE = fs.readFileSync(path.join(path.dirname(store), 'passphrase.txt'), 'utf8').replace(/\r?\n$/, '');
  }
  specs[name] = { argv, env, url };
}
const ORDER = ['ledger', 'society', 'patient-container', 'physician-container', 'pharmacy'];
for (const n of ORDER) if (!specs[n]) { say(`up has no ${n} among its children`); process.exit(1); }
upChild.kill('SIGTERM');
await new Promise((r) => (upChild.exitCode !== null ? r() : upChild.on('exit', r)));
for (let i = 0; upKids.some((k) => fs.existsSync(`/proc/${k.pid}`)); ++i) {
  if (i > 200) { say('up left processes behind'); process.exit(1); }
  await sleep(50);
}
for (const n of ORDER) {
  roles[n] = new Role(n, specs[n].argv, specs[n].env, specs[n].url);
  await roles[n].start();
}
say(`deployment from ${RUN}: ${ORDER.map((n) => `${n} pid ${roles[n].pid} ${roles[n].url}`).join('; ')}`);

// ---------------------------------------------------------------------------------------------
// 2. The flow, set up once.

const passFile = (who) => path.join(RUN, who, 'passphrase.txt');
const storeOf = (who) => path.join(RUN, who, `${who}.wallet`);
const ALICE = ['--store', storeOf('patient'), '--passphrase-file', passFile('patient'), '--did', PD];
const DR = ['--store', storeOf('physician'), '--passphrase-file', passFile('physician'), '--did', DD];
const LED = ['--ledger', L, '--log-key', K];
const st = {
  aliceSession: 'alice-0.session', drSession: 'dr-0.session',
  records: [],       // MedicationRequest ids in the patient's container
  requests: [],      // their files (for prescribe --request)
  rpt: {},           // scope -> {rpt, hash}: the newest RPT of each scope
  knownRpts: new Set(),
  rxQueue: [],       // delivered prescriptions: {n, file, fillsLeft, tainted, busy}
};
const acks = { appends: [], postmarks: [], grants: [], releases: new Map(), deliveries: [], dispenses: [], writes: [] };
// A create answered with 201 is a release too (scope create), with the RPT `physician write`
// used: the one in dr-uma.json after it (it takes a new one when the container asks again).
function ackCreate() {
  const hash = sha256hex(readJson('dr-uma.json').rpt);
  st.knownRpts.add(hash);
  const key = `${hash}|create`;
  acks.releases.set(key, (acks.releases.get(key) ?? 0) + 1);
}
const checkpoints = [];  // every checkpoint the CLI verified with --state: {t, label, note}
const violations = [];
const violation = (what) => { violations.push(what); say(`VIOLATION: ${what}`); };

try {
  cliMust(await cli(['consent', 'signin', '--url', PB, ...ALICE, '--session-file', st.aliceSession]), 'patient signin');
  const policy = {
    effect: 'permit', subjects: [{ credential_type: 'MedicalLicenseCredential', issuers: [SOCIETY_DID] }],
    resource_types: ['MedicationRequest'], scopes: ['read', 'search', 'create'], purposes: ['treatment'],
  };
  cliMust(await cli(['consent', 'add-policy', '--url', PB, '--session-file', st.aliceSession, '--policy', JSON.stringify(policy)]), 'add-policy');
  cliMust(await cli(['issuer', 'onboard', '--url', SOC, ...DR, '--license-number', 'MA-MD-204812', '--name', 'Dr. Elena Rivera', '--out', 'license.json']), 'onboard');
  cliMust(await cli(['consent', 'signin', '--url', DB, ...DR, '--session-file', st.drSession]), 'physician signin (her container)');
  const mr = readJson(path.join(RUN, 'medication-request.json'));
  mr.medicationCodeableConcept = {
    coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '308182', display: 'amoxicillin 500 mg oral capsule' }],
    text: 'amoxicillin 500 mg oral capsule',
  };
  mr.dispenseRequest.numberOfRepeatsAllowed = 1;  // two fills each
  fs.writeFileSync(path.join(WORK, 'mr.json'), JSON.stringify(mr));
  cliMust(await cli(['physician', 'signin', '--url', PB, ...DR, '--license', 'license.json', '--session-file', 'dr-uma.json']), 'physician UMA signin');
  cliMust(await cli(['physician', 'write', '--session-file', 'dr-uma.json', '--in', 'mr.json', '--out', 'stored-0.json',
    '--store', storeOf('physician'), '--passphrase-file', passFile('physician')]), 'physician write');
  st.records.push(readJson('stored-0.json').id);
  st.requests.push('stored-0.json');
  ackCreate();
} catch (e) {
  say(`setup failed: ${e.message}`);
  for (const r of Object.values(roles)) await r.stop();
  process.exit(1);
}
say(`flow set up: patient ${PD}, physician ${DD}, society ${SOCIETY_DID}, MedicationRequest/${st.records[0]}`);

// ---------------------------------------------------------------------------------------------
// Operations

const ops = [];
const opsFile = path.join(OUT, 'ops.jsonl');
const inflight = { append: 0, read: 0, grant: 0, write: 0, prescription: 0, dispense: 0, checkpoint: 0, signin: 0 };
const pending = new Set();
let opSeq = 0;
function runOp(kind, fn) {
  const op = { id: ++opSeq, kind, t0: Date.now(), ok: false };
  inflight[kind] += 1;
  const p = (async () => {
    try {
      op.detail = await fn(op);
      op.ok = true;
    } catch (e) {
      op.error = String(e?.message ?? e).slice(0, 600);
    } finally {
      op.t1 = Date.now();
      inflight[kind] -= 1;
      ops.push(op);
      fs.appendFileSync(opsFile, JSON.stringify(op) + '\n');
    }
  })();
  pending.add(p);
  p.finally(() => pending.delete(p));
  return p;
}

let appendSeq = 0;
async function opAppend(op) {
  const n = ++appendSeq;
  const size = n % 4 === 0 ? 2 + (n % 7) : 1;  // a quarter are batches of 2..8
  const ts = Math.floor(Date.now() / 1000);
  const entries = Array.from({ length: size }, (_, i) => ({ type: 'anchor', v: 1, hash: sha256hex(`soak ${opt.seed} ${n} ${i}`), kind: 'document', ts }));
  op.entries = size;
  const r = await fetchText(L + '/ledger/v1/entries', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(size === 1 ? entries[0] : { entries }),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  const j = JSON.parse(r.text);
  const results = size === 1 ? [j] : j.results;
  const errors = [];
  results.forEach((x, i) => {
    if (x.error !== undefined) { errors.push(JSON.stringify(x)); return; }
    const c = canonical(entries[i]);
    if (x.leaf_hash !== leafHashOf(c)) violation(`append ${n}/${i}: leaf hash ${x.leaf_hash} is not SHA-256(0x00 || canonical entry)`);
    acks.appends.push({ index: x.index, leaf_hash: x.leaf_hash, canonical: c, t: Date.now() });
  });
  if (errors.length) throw new Error(`per-entry errors: ${errors.join(' ').slice(0, 300)}`);
  return { n, size, first: results[0].index };
}

// Every `physician signin` registers an OAuth client (RFC 7591), and the container allows 30
// registrations per address in 10 minutes (docs/limits.md): the grants stay at 24 in any 10
// minutes (the setup's sign-in is one more).
const registrations = [];
const REGISTRATIONS_PER_10_MIN = 24;
const registrationRoom = () => registrations.filter((t) => t > Date.now() - 600000).length < REGISTRATIONS_PER_10_MIN;
let grantSeq = 0;
async function opGrant(op) {
  const n = ++grantSeq;
  registrations.push(Date.now());
  const scope = n % 3 === 0 ? 'search' : 'read';
  op.scope = scope;
  const file = `grant-${n}.json`;
  // `--scope read` alone probes the type's search URL and gets a search ticket: a read needs
  // the record's path as the resource (docs/soak.md, "Findings").
  const resource = scope === 'read' ? ['--resource', `MedicationRequest/${st.records[Math.floor(rand() * st.records.length)]}`] : [];
  cliMust(await cli(['physician', 'signin', '--url', PB, ...DR, '--license', 'license.json', '--scope', scope, ...resource,
    '--session-file', file, '--json']), 'physician signin');
  const rpt = readJson(file).rpt;
  if (typeof rpt !== 'string' || !rpt) throw new Error(`${file} has no RPT`);
  const hash = sha256hex(rpt);
  st.knownRpts.add(hash);
  acks.grants.push({ n, scope, rpt_hash: hash, t: Date.now() });
  st.rpt[scope] = { rpt, hash };
  return { n, scope };
}

async function opRead(op) {
  const scope = st.rpt.search && (!st.rpt.read || rand() < 0.3) ? 'search' : 'read';
  const { rpt, hash } = st.rpt[scope];
  const id = st.records[Math.floor(rand() * st.records.length)];
  const url = scope === 'read' ? `${PB}/fhir/MedicationRequest/${id}` : `${PB}/fhir/MedicationRequest`;
  op.key = `${hash}|${scope}`;
  op.scope = scope;
  const r = await fetchText(url, { headers: { authorization: `Bearer ${rpt}`, accept: 'application/fhir+json' } });
  if (r.status !== 200) throw new Error(`GET ${scope}: HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  const body = JSON.parse(r.text);
  if (scope === 'read' && body.id !== id) violation(`read of MedicationRequest/${id} answered ${body.id}`);
  acks.releases.set(op.key, (acks.releases.get(op.key) ?? 0) + 1);
  return { scope, id: scope === 'read' ? id : undefined, n: scope === 'search' ? (body.entry ?? []).length : 1 };
}

let writeSeq = 0;
async function opWrite() {
  const n = ++writeSeq;
  const file = `stored-w${n}.json`;
  cliMust(await cli(['physician', 'write', '--session-file', 'dr-uma.json', '--in', 'mr.json', '--out', file,
    '--store', storeOf('physician'), '--passphrase-file', passFile('physician'), '--json']), 'physician write');
  const id = readJson(file).id;
  if (!id) throw new Error(`${file} has no id`);
  ackCreate();
  st.records.push(id);
  st.requests.push(file);
  acks.writes.push({ n, id, t: Date.now() });
  return { n, id };
}

let rxSeq = 0;
async function opPrescription(op) {
  const n = ++rxSeq;
  const request = st.requests[Math.floor(rand() * st.requests.length)];
  op.step = 'prescribe';
  cliMust(await cli(['physician', 'prescribe', ...DR, '--license', 'license.json', '--request', request, '--patient', PD,
    '--container', DB, '--session-file', st.drSession, '--out', `draft-${n}.json`, ...LED, '--json']), 'physician prescribe');
  op.step = 'deliver';
  const out = cliMust(await cli(['physician', 'deliver', '--draft', `draft-${n}.json`, ...DR, '--session-file', st.drSession,
    '--patient-container', PB, '--out', `rx-${n}.json`, ...LED, '--json']), 'physician deliver');
  const j = JSON.parse(out);
  acks.postmarks.push({ n, index: j.postmark_index, digest: j.digest, t: Date.now() });
  acks.deliveries.push({ n, digest: j.digest, t: Date.now() });
  const fills = 1 + (readJson(request).dispenseRequest?.numberOfRepeatsAllowed ?? 0);
  st.rxQueue.push({ n, file: `rx-${n}.json`, fillsLeft: fills, fills: 0, tainted: false, busy: false });
  return { n, postmark_index: j.postmark_index };
}

let dispenseSeq = 0;
const dispensable = () => st.rxQueue.find((x) => x.fillsLeft > 0 && !x.tainted && !x.busy);
async function opDispense(op) {
  const rx = dispensable();
  if (!rx) throw new Error('no prescription to dispense');  // not reached: checked before
  rx.busy = true;
  const m = ++dispenseSeq;
  op.rx = rx.n;
  try {
    op.step = 'present';
    cliMust(await cli(['pharmacy', 'present', '--url', PH, ...ALICE, '--container', PB, '--session-file', st.aliceSession,
      '--rx', rx.file, '--out', `p-${m}.json`, ...LED, '--json']), 'pharmacy present');
    op.step = 'dispense';
    const out = cliMust(await cli(['pharmacy', 'dispense', '--presentation', `p-${m}.json`, '--out', `receipt-${m}.json`, '--json']), 'pharmacy dispense');
    const j = JSON.parse(out);
    rx.fillsLeft -= 1;
    rx.fills += 1;
    if (j.fill !== rx.fills) violation(`dispense ${m} of rx ${rx.n}: fill ${j.fill}, expected ${rx.fills}`);
    acks.dispenses.push({ m, rx: rx.n, fill: j.fill, receipt: `receipt-${m}.json`, answer: j, t: Date.now() });
    return { m, rx: rx.n, fill: j.fill };
  } catch (e) {
    rx.tainted = true;  // a fill may or may not have been recorded: this prescription is not used again
    throw e;
  } finally {
    rx.busy = false;
  }
}

// `ledger checkpoint --state`: verified against the last trusted checkpoint (consistency proof;
// a rollback or split view is refused), then kept.
let cpSeq = 0;
async function opCheckpoint(op, label) {
  op.label = label;
  const r = await cli(['ledger', 'checkpoint', '--url', L, '--log-key', K, '--state', 'trusted.note', '--json']);
  if (r.code !== 0) {
    if (/rollback|split|consisten|signature|root/i.test(r.err)) {
      op.fatal = true;
      violation(`checkpoint (${label}) refused: ${r.err.trim().slice(0, 300)}`);
    }
    throw new Error(`ledger checkpoint: exit ${r.code}: ${r.err.trim().slice(0, 300)}`);
  }
  const note = fs.readFileSync(path.join(WORK, 'trusted.note'), 'utf8');
  fs.writeFileSync(path.join(WORK, `checkpoint-${++cpSeq}.note`), note);
  const size = Number(note.split('\n')[1]);
  checkpoints.push({ t: Date.now(), label, note, size });
  return { size };
}
const checkpointNow = (label) => runOp('checkpoint', (op) => opCheckpoint(op, label));

let signinSeq = 0;
async function opSignin() {
  const n = ++signinSeq;
  cliMust(await cli(['consent', 'signin', '--url', PB, ...ALICE, '--session-file', `alice-${n}.session`]), 'patient signin');
  st.aliceSession = `alice-${n}.session`;
  cliMust(await cli(['consent', 'signin', '--url', DB, ...DR, '--session-file', `dr-${n}.session`]), 'physician signin');
  st.drSession = `dr-${n}.session`;
  return { n };
}

// ---------------------------------------------------------------------------------------------
// Sampling: RSS, open fds and threads of every server, from /proc.

const samplesFile = path.join(OUT, 'samples.csv');
fs.writeFileSync(samplesFile, 't_s,time,role,pid,incarnation,rss_kb,fds,threads\n');
const samples = [];
function sampleOnce() {
  const t = Date.now();
  for (const n of ORDER) {
    const r = roles[n];
    if (!r.pid || r.exited || !r.ready) continue;
    try {
      const status = fs.readFileSync(`/proc/${r.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
      const threads = Number(/Threads:\s+(\d+)/.exec(status)[1]);
      const fds = fs.readdirSync(`/proc/${r.pid}/fd`).length;
      const s = { t_s: (t - LOAD_START) / 1000, role: n, pid: r.pid, incarnation: r.incarnation, rss_kb: rss, fds, threads };
      samples.push(s);
      fs.appendFileSync(samplesFile, `${s.t_s.toFixed(1)},${iso(t)},${n},${r.pid},${r.incarnation},${rss},${fds},${threads}\n`);
    } catch { /* killed between the check and the read */ }
  }
}

// ---------------------------------------------------------------------------------------------
// Kills: SIGKILL of the ledger or a container at random moments, restarted on the same data.

const kills = [];
async function doKill(target) {
  const r = roles[target];
  await checkpointNow(`before kill ${kills.length + 1}`);
  const k = { n: kills.length + 1, target, pid: r.pid, incarnation: r.incarnation, t_kill: Date.now() };
  kills.push(k);
  say(`kill -9 ${target} (pid ${r.pid})`);
  await r.kill9();
  k.t_dead = Date.now();
  if (target === 'ledger') {
    // Offline, while it is down: the stored tree and every stored checkpoint verify.
    const a = r.argv;
    const v = await cli(['ledger', 'verify', '--db', a[a.indexOf('--db') + 1], '--key-file', a[a.indexOf('--key-file') + 1],
      '--origin', a[a.indexOf('--origin') + 1], '--json']);
    k.offline_verify = v.code === 0 ? JSON.parse(v.out) : v.err.trim();
    if (v.code !== 0) violation(`ledger verify after kill ${k.n}: ${v.err.trim().slice(0, 300)}`);
  }
  await sleep(randIn(500, 3000));  // down for a while: requests meet a closed port
  try {
    await r.start();
  } catch (e) {
    k.restart_error = e.message;
    violation(`restart of ${target} after kill ${k.n}: ${e.message}`);
    throw e;
  }
  k.t_ready = Date.now();
  k.new_pid = r.pid;
  say(`${target} restarted (pid ${r.pid}) after ${((k.t_ready - k.t_kill) / 1000).toFixed(1)} s`);
  await checkpointNow(`after kill ${k.n}`);
}

// ---------------------------------------------------------------------------------------------
// The load.

const KINDS = {
  append: { w: 35, cap: 4, fn: opAppend, ready: () => true },
  read: { w: 30, cap: 4, fn: opRead, ready: () => Object.keys(st.rpt).length > 0 },
  grant: { w: 8, cap: 1, fn: opGrant, ready: registrationRoom },
  write: { w: 4, cap: 1, fn: opWrite, ready: () => true },
  prescription: { w: 10, cap: 1, fn: opPrescription, ready: () => true },
  dispense: { w: 13, cap: 1, fn: opDispense, ready: () => !!dispensable() },
};
const scheduled = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0]));
const skipped = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0]));
const notReady = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0]));  // e.g. no prescription left to fill
const WSUM = Object.values(KINDS).reduce((a, k) => a + k.w, 0);

LOAD_START = Date.now();
const LOAD_END = LOAD_START + LOAD_MS;
say(`load: ${opt.minutes} min until ${iso(LOAD_END)}`);
sampleOnce();
const sampler = setInterval(sampleOnce, opt.sampleSeconds * 1000);
let stopping = false;
let aborted = '';

const scheduler = (async () => {
  const interval = 1000 / opt.rate;
  for (let i = 0; !stopping && !aborted; ++i) {
    const at = LOAD_START + i * interval;
    if (at >= LOAD_END) break;
    if (at > Date.now()) await sleep(at - Date.now());
    let x = rand() * WSUM;
    let kind = 'append';
    for (const [k, v] of Object.entries(KINDS)) { if ((x -= v.w) < 0) { kind = k; break; } }
    scheduled[kind] += 1;
    const K_ = KINDS[kind];
    if (inflight[kind] >= K_.cap) { skipped[kind] += 1; continue; }
    if (!K_.ready()) { notReady[kind] += 1; continue; }
    runOp(kind, K_.fn);
  }
})();

const periodic = (async () => {
  let lastSignin = Date.now();
  while (!stopping && !aborted && Date.now() < LOAD_END) {
    await sleep(10000);
    if (stopping || Date.now() >= LOAD_END) break;
    if (inflight.checkpoint === 0) checkpointNow('periodic');
    if (Date.now() - lastSignin > 20 * 60000 && inflight.signin === 0) {  // sessions live 1 h
      lastSignin = Date.now();
      runOp('signin', opSignin);
    }
    say(`t+${((Date.now() - LOAD_START) / 1000).toFixed(0)} s: ${ops.length} ops done (${ops.filter((o) => !o.ok).length} failed), ` +
        `${acks.appends.length} appends, ${[...acks.releases.values()].reduce((a, b) => a + b, 0)} reads, ${acks.grants.length} grants, ` +
        `${acks.deliveries.length} prescriptions, ${acks.dispenses.length} dispenses, ${kills.length} kills`);
  }
})();

const killer = (async () => {
  // The first two kills hit the ledger and the patient's container (in random order), so that a
  // short run sees both; then the ledger, the patient's or the physician's container at random.
  const first = rand() < 0.5 ? ['ledger', 'patient-container'] : ['patient-container', 'ledger'];
  for (let i = 0; !aborted; ++i) {
    const wait = randIn(KILL_MIN, KILL_MAX) * 1000;
    if (Date.now() + wait > LOAD_END - 20000) break;
    await sleep(wait);
    const x = rand();
    const target = i < 2 ? first[i] : x < 0.45 ? 'ledger' : x < 0.85 ? 'patient-container' : 'physician-container';
    try {
      await doKill(target);
    } catch (e) {
      aborted = `kill ${kills.length} (${target}): ${e.message}`;
    }
  }
})();

await Promise.all([scheduler, killer]);
stopping = true;
await periodic;
say(`load over${aborted ? ` (aborted: ${aborted})` : ''}; waiting for ${pending.size} operations in flight`);
const drain = Promise.allSettled([...pending]);
await Promise.race([drain, sleep(300000)]);
if (pending.size) violation(`${pending.size} operations still running 300 s after the load`);
clearInterval(sampler);
sampleOnce();
const LOAD_DONE = Date.now();

// ---------------------------------------------------------------------------------------------
// 3. The checks.

const checks = [];  // {name, ok, detail}
const check = (name, ok, detail = '') => {
  checks.push({ name, ok: !!ok, detail });
  say(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) violations.push(`${name}${detail ? `: ${detail}` : ''}`);
};

// Signed notes (C2SP): the verifier key is name+keyid+base64(0x01 || Ed25519 public key).
const vk = (() => {
  // A key name has no '+'; the base64 may.
  const i = K.indexOf('+');
  const raw = Buffer.from(K.slice(i + 10), 'base64');
  try {
    return {
      name: K.slice(0, i), id: K.slice(i + 1, i + 9),
      key: crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' }),
    };
  } catch (e) {
    say(`the log key ${K} cannot be read: ${e.message}`);
    return { name: '', id: '', key: null };
  }
})();
function openNote(note) {
  const sep = note.indexOf('\n\n');
  if (sep < 0) return null;
  const text = note.slice(0, sep + 1);
  const lines = text.split('\n');
  let signed = false;
  for (const line of note.slice(sep + 2).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== vk.name) continue;
    const sig = Buffer.from(m[2], 'base64');
    if (sig.length !== 68 || sig.subarray(0, 4).toString('hex') !== vk.id) continue;
    if (vk.key && crypto.verify(null, Buffer.from(text, 'utf8'), vk.key, sig.subarray(4))) signed = true;
  }
  return { origin: lines[0], size: Number(lines[1]), root: Buffer.from(lines[2], 'base64'), signed };
}
// RFC 9162 §2.1.3.2 and §2.1.4.2.
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = H(Buffer.from([1]), p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = H(Buffer.from([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}
function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || first > second || proof.length === 0) return false;
  let p = proof;
  if ((first & (first - 1)) === 0) p = [firstRoot, ...proof];  // a power of two: its root starts the path
  let fn = BigInt(first) - 1n;
  let sn = BigInt(second) - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = p[0];
  let sr = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = H(Buffer.from([1]), c, fr);
      sr = H(Buffer.from([1]), c, sr);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = H(Buffer.from([1]), sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && fr.equals(firstRoot) && sr.equals(secondRoot);
}
// RFC 9162 §2.1.1: the root of a list of leaf hashes.
function mth(leaves, lo = 0, hi = leaves.length) {
  const n = hi - lo;
  if (n === 0) return H();
  if (n === 1) return leaves[lo];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return H(Buffer.from([1]), mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}
async function pool(items, width, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (i < items.length) { const x = items[i++]; await fn(x); } }));
}
const report = { checks, violations };
const failedReadKeys = new Map();  // read key -> reads that failed in a kill window
let relLogged = null;  // read key -> releases in the patient's log

try {
  if (aborted) throw new Error(`the run was aborted: ${aborted}`);
  // --- the ledger ---
  const fin = await runOp('checkpoint', (op) => opCheckpoint(op, 'final'));
  const finalCp = checkpoints[checkpoints.length - 1];
  check('final checkpoint verified by `ledger checkpoint --state` (consistent with every checkpoint trusted before it)', finalCp?.label === 'final');
  const F = openNote(finalCp.note);
  check('final checkpoint signed by the log key (verified in node)', F && F.signed, `size ${F?.size}`);
  const N = F.size;
  const entries = new Array(N);
  for (let s = 0; s < N; s += 1000) {
    const page = await getJson(`${L}/ledger/v1/entries?start=${s}&end=${Math.min(s + 1000, N)}`);
    for (const e of page.entries) entries[e.index] = e;
  }
  const missingEntries = entries.reduce((a, e) => a + (e ? 0 : 1), 0);
  const badLeaves = entries.filter((e) => e && leafHashOf(e.entry) !== e.leaf_hash).length;
  check('every entry of the log read back, its leaf hash SHA-256(0x00 || entry)', missingEntries === 0 && badLeaves === 0,
    `${N} entries, ${missingEntries} missing, ${badLeaves} wrong`);
  const root = mth(entries.map((e) => Buffer.from(e.leaf_hash, 'hex')));
  check('the root recomputed from every leaf is the final checkpoint\'s', root.equals(F.root));

  const seenIdx = new Map();
  let appendBad = 0;
  let dupIdx = 0;
  for (const a of acks.appends) {
    if (seenIdx.has(a.index)) ++dupIdx;
    seenIdx.set(a.index, 'append');
    const e = entries[a.index];
    if (!e || e.leaf_hash !== a.leaf_hash || e.entry !== a.canonical) ++appendBad;
  }
  check('every acknowledged append is in the log at its index', appendBad === 0 && dupIdx === 0,
    `${acks.appends.length} acknowledged, ${appendBad} missing or different, ${dupIdx} indices acknowledged twice`);
  let pmBad = 0;
  for (const p of acks.postmarks) {
    const e = entries[p.index];
    let j = null;
    try { j = JSON.parse(e.entry); } catch { /* counted below */ }
    if (!j || j.type !== 'anchor' || j.hash !== p.digest || j.kind !== 'credential') ++pmBad;
  }
  check('every acknowledged prescription postmark is in the log at its index (anchor of the credential digest)', pmBad === 0,
    `${acks.postmarks.length} acknowledged, ${pmBad} missing or different`);

  // --- dispenses: the record on the ledger and the signed receipt ---
  let dBad = [];
  const receiptNotes = [];
  for (const d of acks.dispenses) {
    let rc;
    try { rc = readJson(d.receipt); } catch { dBad.push(`${d.receipt}: missing`); continue; }
    const s = rc.credentialSubject ?? {};
    const idx = Number(s.ledgerIndex);
    const e = entries[idx];
    let j = null;
    try { j = JSON.parse(e.entry); } catch { /* below */ }
    if (!j || j.type !== 'dispense') { dBad.push(`${d.receipt}: no dispense record at ${idx}`); continue; }
    if (s.nullifier !== undefined && s.nullifier !== j.nullifier) dBad.push(`${d.receipt}: nullifier differs from the record's`);
    const cn = typeof s.checkpoint === 'string' ? openNote(s.checkpoint) : null;
    if (!cn || !cn.signed || cn.size <= idx) dBad.push(`${d.receipt}: its checkpoint does not cover index ${idx}`);
    else receiptNotes.push({ label: d.receipt, note: s.checkpoint, size: cn.size });
    d.index = idx;
    if (seenIdx.has(idx)) ++dupIdx;
    seenIdx.set(idx, 'dispense');
  }
  // Every receipt verifies as a credential (its issuer's proof).
  let vcBad = 0;
  await pool(acks.dispenses, 2, async (d) => {
    const r = await cli(['vc', 'verify', '--in', d.receipt]);
    if (r.code !== 0) { ++vcBad; if (vcBad <= 3) dBad.push(`${d.receipt}: vc verify: ${(r.out + r.err).trim().slice(0, 200)}`); }
  });
  check('every acknowledged dispense has its record on the ledger and a signed receipt (vc verify) whose checkpoint covers it',
    dBad.length === 0, `${acks.dispenses.length} acknowledged${dBad.length ? `; ${dBad.slice(0, 5).join('; ')}` : ''}`);

  // --- inclusion proofs of every acknowledged entry against the final checkpoint ---
  const idxs = [...new Set([...acks.appends.map((a) => a.index), ...acks.postmarks.map((p) => p.index),
    ...acks.dispenses.filter((d) => d.index !== undefined).map((d) => d.index)])];
  let incBad = 0;
  await pool(idxs, 8, async (i) => {
    try {
      const p = await getJson(`${L}/ledger/v1/proof/inclusion?index=${i}&size=${N}`);
      if (!verifyInclusion(i, N, Buffer.from(entries[i].leaf_hash, 'hex'), p.hashes.map((h) => Buffer.from(h, 'hex')), F.root)) ++incBad;
    } catch { ++incBad; }
  });
  check('the inclusion proof of every acknowledged entry verifies against the final checkpoint (node, RFC 9162)', incBad === 0,
    `${idxs.length} proofs, ${incBad} failed`);
  // And a few through the CLI's verifying client (`ledger proof`).
  const sample = idxs.filter((_, i) => i % Math.max(1, Math.floor(idxs.length / 5)) === 0).slice(0, 5);
  let cliBad = 0;
  for (const i of sample) {
    const r = await cli(['ledger', 'proof', '--url', L, '--log-key', K, '--index', String(i), '--leaf-hash', entries[i].leaf_hash]);
    if (r.code !== 0) ++cliBad;
  }
  check('`medallion ledger proof` verifies a sample of them', cliBad === 0, `${sample.length} checked`);

  // --- consistency of every checkpoint seen (periodic, around each kill, in receipts) with the final one ---
  const bySize = new Map();
  let cBad = [];
  const all = [...checkpoints.map((c) => ({ label: c.label, note: c.note })), ...receiptNotes];
  for (const c of all) {
    const o = openNote(c.note);
    if (!o || !o.signed) { cBad.push(`${c.label}: not signed by the log`); continue; }
    const prev = bySize.get(o.size);
    if (prev && !prev.equals(o.root)) cBad.push(`${c.label}: two roots at size ${o.size} (split view)`);
    bySize.set(o.size, o.root);
    if (o.size > N) cBad.push(`${c.label}: size ${o.size} beyond the final ${N} (rollback)`);
  }
  await pool([...bySize.entries()].filter(([s]) => s > 0 && s <= N), 4, async ([s, r]) => {
    try {
      const p = s === N ? { hashes: [] } : await getJson(`${L}/ledger/v1/proof/consistency?first=${s}&second=${N}`);
      if (!verifyConsistency(s, N, r, F.root, p.hashes.map((h) => Buffer.from(h, 'hex')))) cBad.push(`size ${s}: consistency proof fails`);
    } catch (e) { cBad.push(`size ${s}: ${e.message}`); }
  });
  check('every checkpoint seen (periodic, before and after each kill, in receipts) is consistent with the final one',
    cBad.length === 0, `${all.length} checkpoints, ${bySize.size} distinct sizes${cBad.length ? `; ${cBad.slice(0, 5).join('; ')}` : ''}`);
  const kcp = kills.map((k) => {
    const b = checkpoints.find((c) => c.label === `before kill ${k.n}`);
    const a = checkpoints.find((c) => c.label === `after kill ${k.n}`);
    return { n: k.n, before: b?.size, after: a?.size };
  });
  check('a checkpoint was verified before and after every kill (`--state`: no rollback, no split view)',
    kcp.every((x) => x.before !== undefined && x.after !== undefined && x.after >= x.before),
    kcp.map((x) => `#${x.n} ${x.before}→${x.after}`).join(', '));
  report.ledger = { final_size: N, final_checkpoint: finalCp.note, checkpoints_seen: all.length, inclusion_proofs: idxs.length };

  // --- the containers' disclosure logs ---
  async function exportLog(url, session, name) {
    const r = await cli(['consent', 'export', '--url', url, '--session-file', session], { timeoutMs: 600000 });
    if (r.code !== 0) throw new Error(`consent export (${name}): ${r.err.trim().slice(0, 300)}`);
    const file = path.join(OUT, `${name}-disclosures.json`);
    fs.writeFileSync(file, r.out);
    const v = await cli(['consent', 'verify-export', file], { timeoutMs: 600000 });
    check(`${name}: \`consent verify-export\` of its disclosure log`, v.code === 0, (v.out + v.err).replace(/\s+/g, ' ').trim().slice(0, 200));
    return JSON.parse(r.out);
  }
  const plog = await exportLog(PB, st.aliceSession, 'patient-container');
  const pe = plog.entries.map((x) => x.entry);
  const granted = new Set(pe.filter((e) => e.event === 'decision' && e.outcome === 'granted' && e.rpt_hash).map((e) => e.rpt_hash));
  const gMissing = acks.grants.filter((g) => !granted.has(g.rpt_hash));
  check('patient-container: every acknowledged grant (RPT) is a granted decision in the log', gMissing.length === 0,
    `${acks.grants.length} acknowledged, ${gMissing.length} missing`);
  const logged = new Map();
  const unknownRpt = [];
  for (const e of pe.filter((x) => x.event === 'release')) {
    const key = `${e.rpt_hash}|${e.scope}`;
    logged.set(key, (logged.get(key) ?? 0) + 1);
    if (!st.knownRpts.has(e.rpt_hash)) unknownRpt.push(e.seq);
  }
  let relMissing = 0;
  let acked = 0;
  for (const [key, n] of acks.releases) {
    acked += n;
    const l = logged.get(key) ?? 0;
    if (l < n) relMissing += n - l;
  }
  check('patient-container: every release it acknowledged (HTTP 200 to a read or search) is in its disclosure log', relMissing === 0,
    `${acked} acknowledged, ${[...logged.values()].reduce((a, b) => a + b, 0)} logged, ${relMissing} missing`);
  relLogged = logged;
  const recv = new Set(pe.filter((e) => e.event === 'credential.received').map((e) => e.credential));
  const dMissing = acks.deliveries.filter((d) => !recv.has(d.digest));
  check('patient-container: every acknowledged prescription delivery is in its log (credential.received)', dMissing.length === 0,
    `${acks.deliveries.length} acknowledged, ${dMissing.length} missing`);
  check('patient-container: every release in the log was made with an RPT of this run', unknownRpt.length === 0,
    unknownRpt.length ? `seq ${unknownRpt.slice(0, 5).join(', ')}` : '');
  // Its anchors on the ledger.
  let aBad = 0;
  let aChecked = 0;
  for (const a of plog.anchors ?? []) {
    const idx = a.ledger_index ?? a.index;
    if (idx === undefined) { ++aBad; continue; }
    let j = null;
    try { j = JSON.parse(entries[idx].entry); } catch { /* below */ }
    if (!j || j.type !== 'anchor' || j.hash !== a.hash || (a.signer && j.key !== a.signer)) ++aBad;
    ++aChecked;
  }
  check('patient-container: every disclosure-log anchor of the export is on the ledger at its index (chain head, signer key)', aBad === 0,
    `${(plog.anchors ?? []).length} anchors, ${aChecked} checked, ${aBad} bad`);
  const dlog = await exportLog(DB, st.drSession, 'physician-container');
  const stored = new Set(dlog.entries.map((x) => x.entry).filter((e) => e.event === 'credential.stored').map((e) => e.credential));
  const sMissing = acks.deliveries.filter((d) => !stored.has(d.digest));
  check('physician-container: every acknowledged prescription is kept in her container (credential.stored)', sMissing.length === 0,
    `${acks.deliveries.length} acknowledged, ${sMissing.length} missing`);
  report.containers = { patient_log_entries: pe.length, patient_anchors: (plog.anchors ?? []).length, physician_log_entries: dlog.entries.length };

  // --- /metrics at the end ---
  report.metrics = {};
  for (const n of ORDER) {
    try {
      const t = (await fetchText(roles[n].url + '/metrics')).text;
      const m = (name) => t.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
      const fivexx = t.split('\n').filter((l) => l.startsWith('medallion_http_requests_total{') && /status="5\d\d"/.test(l));
      report.metrics[n] = {
        rss_bytes: m('process_resident_memory_bytes'), open_fds: m('process_open_fds'),
        http_requests: m('medallion_http_requests_total{'), internal_errors: m('medallion_http_internal_errors_total'),
        http_5xx: fivexx.map((l) => l.replace(/^medallion_http_requests_total/, '')),
      };
    } catch (e) { report.metrics[n] = { error: e.message }; }
  }
} catch (e) {
  check('the checks ran to their end', false, e.stack?.split('\n').slice(0, 3).join(' | ') ?? String(e));
}

// --- a graceful stop, then the ledger offline ---
const stops = {};
for (const n of [...ORDER].reverse()) {
  const r = await roles[n].stop();
  stops[n] = r;
}
check('every server stops on SIGTERM with exit 0', Object.values(stops).every((r) => r && r.code === 0),
  Object.entries(stops).map(([n, r]) => `${n} ${r ? (r.code ?? r.sig) : '?'}`).join(', '));
{
  const a = roles.ledger.argv;
  const v = await cli(['ledger', 'verify', '--db', a[a.indexOf('--db') + 1], '--key-file', a[a.indexOf('--key-file') + 1],
    '--origin', a[a.indexOf('--origin') + 1]]);
  check('`medallion ledger verify` of the stopped ledger\'s database (every leaf, node and checkpoint)', v.code === 0, (v.out + v.err).trim().slice(0, 200));
}

// ---------------------------------------------------------------------------------------------
// Failures, by whether they overlapped a kill window [kill, restarted and answering + grace].

const windows = kills.map((k) => ({ n: k.n, target: k.target, start: k.t_kill, end: (k.t_ready ?? Date.now()) + opt.grace * 1000 }));
const overlapping = (t0, t1, targets = null) =>
  windows.filter((w) => t0 <= w.end && t1 >= w.start && (!targets || targets.includes(w.target))).map((w) => w.n);
// What each kind of operation goes through: a failure is explained only by a kill of one of
// these (every server resolves did:mdl and anchors through the ledger).
const DEPENDS = {
  append: ['ledger'], checkpoint: ['ledger'],
  read: ['ledger', 'patient-container'], grant: ['ledger', 'patient-container'], write: ['ledger', 'patient-container'],
  dispense: ['ledger', 'patient-container'],
  prescription: ['ledger', 'patient-container', 'physician-container'], signin: ['ledger', 'patient-container', 'physician-container'],
};
const failures = { during_kill: [], unexplained: [] };
for (const o of ops.filter((x) => !x.ok)) {
  const w = overlapping(o.t0, o.t1, DEPENDS[o.kind]);
  o.kill_windows = w;
  o.other_kill_windows = overlapping(o.t0, o.t1).filter((n) => !w.includes(n));
  if (w.length && !o.fatal) failures.during_kill.push(o);
  else failures.unexplained.push(o);
  if (o.kind === 'read' && o.key && w.length) failedReadKeys.set(o.key, (failedReadKeys.get(o.key) ?? 0) + 1);
  if (o.kind === 'write' && w.length) failedReadKeys.set('*|create', (failedReadKeys.get('*|create') ?? 0) + 1);
}
// Releases logged without an answer: at most one per read that failed in a kill window.
if (relLogged) {
  let extra = 0;
  let unexplainedExtra = 0;
  let createExtra = 0;
  for (const [key, l] of relLogged) {
    const e = l - (acks.releases.get(key) ?? 0);
    if (e <= 0) continue;
    extra += e;
    if (key.endsWith('|create')) createExtra += e;
    else if (e > (failedReadKeys.get(key) ?? 0)) unexplainedExtra += e - (failedReadKeys.get(key) ?? 0);
  }
  unexplainedExtra += Math.max(0, createExtra - (failedReadKeys.get('*|create') ?? 0));
  check('patient-container: releases logged without an answer are at most the reads that failed in a kill window', unexplainedExtra === 0,
    `${extra} logged without an answer, ${unexplainedExtra} beyond the failed reads`);
}
for (const o of failures.unexplained) {
  violations.push(`failure outside the kill windows of what it depends on${o.other_kill_windows.length ? ` (it overlapped kill ${o.other_kill_windows.join(', ')} of another process)` : ''}: ` +
                  `${o.kind} #${o.id} at ${iso(o.t0)}: ${o.error}`);
}

// The servers' own logs: responses >= 500 and internal errors, by kill window.
const serverErrors = {};
for (const n of ORDER) {
  const se = { lines: 0, status_5xx_during_kill: 0, status_5xx_outside: 0, internal_errors: 0, examples: [] };
  let text = '';
  try { text = fs.readFileSync(path.join(LOGS, `${n}.log`), 'utf8'); } catch { /* none */ }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let j;
    try { j = JSON.parse(line); } catch { continue; }
    se.lines += 1;
    const t = Date.parse(j.time);
    if (j.event === 'internal_error') se.internal_errors += 1;
    if ((Number(j.status) >= 500) || j.event === 'internal_error') {
      if (overlapping(t, t).length) se.status_5xx_during_kill += j.status ? 1 : 0;
      else {
        if (j.status) se.status_5xx_outside += 1;
        if (se.examples.length < 5) se.examples.push(line.slice(0, 300));
      }
    }
  }
  serverErrors[n] = se;
  if (se.status_5xx_outside || (se.internal_errors && se.examples.length))
    violations.push(`${n}: ${se.status_5xx_outside} responses >= 500 outside kill windows, ${se.internal_errors} internal errors (${se.examples[0] ?? ''})`);
}

// ---------------------------------------------------------------------------------------------
// RSS, fds and threads: per process incarnation, the first samples (warm-up: the first quarter,
// at least 30 s) set aside, a least-squares slope over the rest and the growth between the
// medians of its first and last quarters. Judged only over at least 90 s and 10 samples.

function lsq(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; ++i) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  return sxx ? sxy / sxx : 0;
}
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : 0; };
const resources = [];
for (const n of ORDER) {
  for (const inc of [...new Set(samples.filter((s) => s.role === n).map((s) => s.incarnation))]) {
    const ss = samples.filter((s) => s.role === n && s.incarnation === inc);
    if (!ss.length) continue;
    const t0 = ss[0].t_s;
    const span = ss[ss.length - 1].t_s - t0;
    const warm = Math.max(30, span / 4);
    const judged = ss.filter((s) => s.t_s - t0 >= warm);
    const q = Math.max(1, Math.floor(judged.length / 4));
    const row = {
      role: n, incarnation: inc, pid: ss[0].pid, samples: ss.length, span_s: Math.round(span),
      rss_kb: { first: ss[0].rss_kb, last: ss[ss.length - 1].rss_kb, max: Math.max(...ss.map((s) => s.rss_kb)) },
      fds: { first: ss[0].fds, last: ss[ss.length - 1].fds, max: Math.max(...ss.map((s) => s.fds)) },
      threads: { first: ss[0].threads, last: ss[ss.length - 1].threads, max: Math.max(...ss.map((s) => s.threads)) },
      judged: judged.length >= 10 && span - warm >= 90,
    };
    if (judged.length >= 2) {
      const xs = judged.map((s) => s.t_s / 60);
      row.rss_kb.slope_kb_per_min = Math.round(lsq(xs, judged.map((s) => s.rss_kb)) * 10) / 10;
      row.fds.slope_per_min = Math.round(lsq(xs, judged.map((s) => s.fds)) * 100) / 100;
      row.threads.slope_per_min = Math.round(lsq(xs, judged.map((s) => s.threads)) * 100) / 100;
      const a = judged.slice(0, q);
      const b = judged.slice(-q);
      row.rss_kb.growth = median(b.map((s) => s.rss_kb)) - median(a.map((s) => s.rss_kb));
      row.fds.growth = median(b.map((s) => s.fds)) - median(a.map((s) => s.fds));
      row.threads.growth = median(b.map((s) => s.threads)) - median(a.map((s) => s.threads));
      const base = median(a.map((s) => s.rss_kb));
      row.rss_limit_kb = Math.max(16384, Math.round(base / 4));
      if (row.judged) {
        const problems = [];
        const fitted = row.rss_kb.slope_kb_per_min * (span - warm) / 60;
        if (row.rss_kb.growth > row.rss_limit_kb && fitted > row.rss_limit_kb) problems.push(`RSS grew ${row.rss_kb.growth} kB (limit ${row.rss_limit_kb})`);
        if (row.fds.growth > 8) problems.push(`open fds grew by ${row.fds.growth}`);
        if (row.threads.growth > 8) problems.push(`threads grew by ${row.threads.growth}`);
        row.flat = problems.length === 0;
        if (!row.flat) violations.push(`${n} (incarnation ${inc}, pid ${row.pid}) is not flat: ${problems.join(', ')}`);
      }
    }
    resources.push(row);
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

const byKind = {};
for (const o of ops) {
  const b = (byKind[o.kind] ??= { done: 0, ok: 0, failed_during_kill: 0, failed_outside: 0 });
  b.done += 1;
  if (o.ok) b.ok += 1;
  else if (o.kill_windows?.length && !o.fatal) b.failed_during_kill += 1;
  else b.failed_outside += 1;
}
const releasesAcked = [...acks.releases.values()].reduce((a, b) => a + b, 0);
Object.assign(report, {
  verdict: violations.length === 0 ? 'PASS' : 'FAIL',
  started: iso(T0), load_start: iso(LOAD_START), load_end: iso(LOAD_DONE), finished: iso(Date.now()),
  options: { minutes: opt.minutes, rate: opt.rate, seed: opt.seed, sample_seconds: opt.sampleSeconds, kill_every_s: [KILL_MIN, KILL_MAX], grace_s: opt.grace, binary: SRC_BIN },
  load_seconds: Math.round((LOAD_DONE - LOAD_START) / 1000),
  deployment: Object.fromEntries(ORDER.map((n) => [n, roles[n].url])),
  operations: byKind,
  scheduled, skipped_at_capacity: skipped, skipped_not_ready: notReady,
  acknowledged: {
    ledger_appends: acks.appends.length, append_requests: byKind.append?.ok ?? 0, grants: acks.grants.length, releases: releasesAcked,
    writes: acks.writes.length, prescriptions_delivered: acks.deliveries.length, dispenses: acks.dispenses.length,
  },
  kills: kills.map((k) => ({
    n: k.n, target: k.target, at: iso(k.t_kill), old_pid: k.pid, new_pid: k.new_pid,
    down_s: k.t_ready ? Math.round((k.t_ready - k.t_kill) / 100) / 10 : null,
    offline_verify: k.offline_verify,
    failures_overlapping: failures.during_kill.filter((o) => o.kill_windows.includes(k.n)).length,
  })),
  failures: {
    during_kill: failures.during_kill.length,
    outside_kill_windows: failures.unexplained.length,
    during_kill_examples: failures.during_kill.slice(0, 8).map((o) => `${o.kind}${o.step ? `/${o.step}` : ''}: ${o.error?.slice(0, 160)}`),
    outside_examples: failures.unexplained.slice(0, 20).map((o) => ({ kind: o.kind, step: o.step, at: iso(o.t0), error: o.error })),
  },
  server_errors: serverErrors,
  resources,
});
fs.writeFileSync(path.join(OUT, 'report.json'), JSON.stringify(report, null, 2) + '\n');

const kb = (x) => `${(x / 1024).toFixed(1)} MiB`;
const lines = [];
lines.push(`Medallion soak — ${report.verdict}`);
lines.push(`load ${report.load_seconds} s (${opt.minutes} min asked) at ${opt.rate} op/s, seed ${opt.seed}; ${report.started} → ${report.finished}`);
lines.push(`out: ${OUT}`);
lines.push('');
lines.push('operations (done = ok + failed during a kill + failed outside):');
for (const [k, b] of Object.entries(byKind)) lines.push(`  ${k.padEnd(13)} ${String(b.done).padStart(6)} = ${b.ok} ok + ${b.failed_during_kill} during kill + ${b.failed_outside} outside   ${scheduled[k] !== undefined ? `   (scheduled ${scheduled[k]}, skipped: ${skipped[k]} at capacity, ${notReady[k]} nothing to do)` : ''}`);
lines.push(`acknowledged: ${acks.appends.length} ledger entries appended, ${acks.grants.length} UMA grants, ${releasesAcked} releases (reads, searches and creates answered), ` +
           `${acks.writes.length} MedicationRequests written, ${acks.deliveries.length} prescriptions delivered, ${acks.dispenses.length} dispenses`);
lines.push('');
lines.push(`kills: ${kills.length} (${['ledger', 'patient-container', 'physician-container'].map((t) => `${t} ${kills.filter((k) => k.target === t).length}`).join(', ')})`);
for (const k of report.kills) lines.push(`  #${k.n} ${k.at} ${k.target} pid ${k.old_pid} → ${k.new_pid}, down ${k.down_s} s, ${k.failures_overlapping} failures overlapping`);
lines.push(`failures: ${failures.during_kill.length} overlapping the kill window of a process the operation depends on, ${failures.unexplained.length} outside`);
for (const e of report.failures.during_kill_examples) lines.push(`  (kill) ${e}`);
for (const e of report.failures.outside_examples) lines.push(`  (OUTSIDE) ${e.kind}${e.step ? `/${e.step}` : ''} at ${e.at}: ${e.error}`);
lines.push('server logs (responses >= 500): ' + ORDER.map((n) => `${n} ${serverErrors[n].status_5xx_during_kill} during kills / ${serverErrors[n].status_5xx_outside} outside`).join('; '));
lines.push('');
lines.push('resources per process incarnation (RSS / open fds / threads: first, last, max; slope after warm-up):');
for (const r of resources) {
  lines.push(`  ${r.role.padEnd(20)} #${r.incarnation} pid ${String(r.pid).padEnd(7)} ${String(r.span_s).padStart(5)} s ${String(r.samples).padStart(4)} samples  ` +
    `RSS ${kb(r.rss_kb.first)} / ${kb(r.rss_kb.last)} / ${kb(r.rss_kb.max)} (${r.rss_kb.slope_kb_per_min ?? '-'} kB/min)  ` +
    `fds ${r.fds.first}/${r.fds.last}/${r.fds.max} (${r.fds.slope_per_min ?? '-'}/min)  threads ${r.threads.first}/${r.threads.last}/${r.threads.max}  ` +
    `${r.judged ? (r.flat ? 'flat' : 'NOT FLAT') : 'too short to judge'}`);
}
lines.push('');
lines.push('checks:');
for (const c of checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
lines.push('');
lines.push(`violations: ${violations.length}`);
for (const v of violations.slice(0, 50)) lines.push(`  - ${v}`);
lines.push(`verdict: ${report.verdict}`);
fs.writeFileSync(path.join(OUT, 'report.txt'), lines.join('\n') + '\n');
console.log('\n' + lines.join('\n'));
process.exit(violations.length === 0 ? 0 : 1);
