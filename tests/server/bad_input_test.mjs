// Bad input for every served role (issue 17), from outside: the ledger, a witness, the DID
// resolver, a patient's and a physician's container (`container serve`, with their web apps),
// a container host on one listener (`host serve`), the society (with its clerks' desk) and a
// pharmacy (with its counter). For every route the sources register (the list is read from
// roles/src, web/src, uma/src, claims/src and ledger/src, so a new route that this suite does not
// know is a failure): malformed JSON, wrong types for every member the handlers read, deep
// nesting (100,000-deep arrays and objects), bodies over 1 MiB and bogus Content-Lengths, wrong
// content types, invalid UTF-8 and NUL bytes, path traversal (../, %2e%2e, encoded slashes),
// out-of-range and non-numeric query parameters, missing / garbage / another party's
// credentials (bearer tokens, cookies, CSRF tokens, Origin), wrong methods.
// Asserts, per server: no 5xx; every error body is JSON with "error" and "error_description";
// no answer ever carries /etc/passwd; the process is still up; its RSS grew by less than a fixed
// margin; and its databases (sqlite3 .dump, sign-in bookkeeping left out) are unchanged by every
// route that must change nothing — checked route by route, with valid credentials too.
// Usage: node bad_input_test.mjs <medallion>. Ends with "N passed, M failed".
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { request, raw, pool, passkeyFromLink, sourceRoutes, memberNames, dbDigest, digestDiff, rssKiB, alive, sleep } from './bad_input_lib.mjs';

const M = process.argv[2];
if (!M) throw new Error('usage: bad_input_test.mjs <medallion>');
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENV = { ...process.env, MEDALLION_PASSPHRASE: 'bad-input', MEDALLION_ALLOW_TEST_KDF: '1' };
const RSS_MARGIN_KIB = 192 * 1024; // 64 worker threads' malloc arenas: the host levels off near +160 MiB over repeated passes
const t0 = Date.now();

let pass = 0, fail = 0;
const ok = (c, what, detail) => {
  if (c) { pass++; console.log(`ok   - ${what}`); } else { fail++; console.log(`FAIL - ${what}${detail ? `\n       ${String(detail).slice(0, 4000).replace(/\n/g, '\n       ')}` : ''}`); }
  return c;
};

const work = mkdtempSync(join(tmpdir(), 'medallion-bad-input-'));
const children = [];
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } if (!process.env.MEDALLION_KEEP_TMP) rmSync(work, { recursive: true, force: true }); });

function freePort() {
  return new Promise((res, rej) => { const s = net.createServer(); s.once('error', rej); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });
}

// `medallion args...` as a server: its banner (the first JSON line on stdout) and its pid.
function startRole(name, args) {
  const child = spawn(M, args, { cwd: work, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '', err = '';
  child.stderr.on('data', (d) => { err += d; if (err.length > 1e6) err = err.slice(-5e5); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} printed no banner: ${err.slice(-800)}`)), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try { const banner = JSON.parse(line); clearTimeout(timer); res({ name, child, pid: child.pid, banner, stderr: () => err }); return; } catch {}
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); rej(new Error(`${name} exited ${code}: ${err.slice(-800)}`)); });
  });
}
function cli(args) {
  const r = spawnSync(M, args, { cwd: work, env: ENV, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`medallion ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
function findFile(dir, name) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) { const f = findFile(p, name); if (f) return f; } else if (e === name) return p;
  }
  return null;
}
function sqliteFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sqliteFiles(p));
    else if (/\.(db|sqlite)$/.test(e)) { try { if (readFileSync(p).subarray(0, 15).toString() === 'SQLite format 3') out.push(p); } catch {} }
  }
  return out.sort();
}

// ---- the routes, per server, keyed as sourceRoutes() names them -----------------------------
// [key, METHOD, concrete path]. Keys without a concrete path are dynamic and named by another
// entry (the not_allowed helper of uma_http.cpp, mounted_routes.cpp's replay).
const ID = 'AbCdEf0123456789_-xyz';
const UMA = [
  ['roles/src/uma_http.cpp GET "/.well-known/uma2-configuration"', 'GET', '/.well-known/uma2-configuration'],
  ['roles/src/uma_http.cpp GET "/.well-known/oauth-authorization-server"', 'GET', '/.well-known/oauth-authorization-server'],
  ['roles/src/uma_http.cpp POST "/register"', 'POST', '/register', 'mints'], // RFC 7591: open registration
  ['roles/src/uma_http.cpp POST "/token"', 'POST', '/token', 'form'],
  ['roles/src/uma_http.cpp POST "/introspect"', 'POST', '/introspect', 'form'],
  ['roles/src/uma_http.cpp POST "/revoke"', 'POST', '/revoke', 'form'],
  ['roles/src/uma_http.cpp POST "/uma/resource_set"', 'POST', '/uma/resource_set'],
  ['roles/src/uma_http.cpp GET "/uma/resource_set"', 'GET', '/uma/resource_set'],
  ['roles/src/uma_http.cpp GET R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))"', 'GET', `/uma/resource_set/${ID}`],
  ['roles/src/uma_http.cpp PUT R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))"', 'PUT', `/uma/resource_set/${ID}`],
  ['roles/src/uma_http.cpp DELETE R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))"', 'DELETE', `/uma/resource_set/${ID}`],
  ['roles/src/uma_http.cpp GET pattern', 'GET', '/token'],
  ['roles/src/uma_http.cpp POST pattern', 'POST', `/uma/resource_set/${ID}`],
  ['roles/src/uma_http.cpp PUT pattern', 'PUT', '/uma/permission'],
  ['roles/src/uma_http.cpp PATCH pattern', 'PATCH', '/register'],
  ['roles/src/uma_http.cpp DELETE pattern', 'DELETE', '/introspect'],
  ['roles/src/uma_http.cpp POST "/uma/permission"', 'POST', '/uma/permission'],
  ['roles/src/uma_http.cpp POST R"(/uma/requests/([A-Za-z0-9_-]{1,64})/decision)"', 'POST', `/uma/requests/${ID}/decision`],
  ['roles/src/uma_http.cpp GET uma::kClaimsInteractionPath', 'GET', '/uma/claims_interaction'],
  ['roles/src/uma_http.cpp POST uma::kClaimsResponsePath', 'POST', '/uma/claims_interaction/response', 'form'],
  ['roles/src/uma_http.cpp POST "/owner/v1/challenge"', 'POST', '/owner/v1/challenge', 'mints'],
  ['roles/src/uma_http.cpp POST "/owner/v1/session"', 'POST', '/owner/v1/session'],
  ['roles/src/uma_http.cpp GET "/owner/v1/policies"', 'GET', '/owner/v1/policies'],
  ['roles/src/uma_http.cpp POST "/owner/v1/policies"', 'POST', '/owner/v1/policies'],
  ['roles/src/uma_http.cpp GET R"(/owner/v1/policies/([A-Za-z0-9_-]{1,64}))"', 'GET', `/owner/v1/policies/${ID}`],
  ['roles/src/uma_http.cpp DELETE R"(/owner/v1/policies/([A-Za-z0-9_-]{1,64}))"', 'DELETE', `/owner/v1/policies/${ID}`],
  ['roles/src/uma_http.cpp GET "/owner/v1/requests"', 'GET', '/owner/v1/requests'],
  ['roles/src/uma_http.cpp POST R"(/owner/v1/requests/([A-Za-z0-9_-]{1,64})/decision)"', 'POST', `/owner/v1/requests/${ID}/decision`],
  ['roles/src/uma_http.cpp GET "/owner/v1/disclosures"', 'GET', '/owner/v1/disclosures'],
  ['roles/src/uma_http.cpp GET "/owner/v1/disclosures/export"', 'GET', '/owner/v1/disclosures/export'],
  ['roles/src/uma_http.cpp POST "/owner/v1/disclosures/anchor"', 'POST', '/owner/v1/disclosures/anchor', 'mints'],
  ['roles/src/uma_http.cpp GET "/owner/v1/receipts"', 'GET', '/owner/v1/receipts'],
  ['roles/src/uma_http.cpp POST "/inbox/v1/credentials"', 'POST', '/inbox/v1/credentials'],
  ['roles/src/uma_http.cpp GET "/owner/v1/credentials"', 'GET', '/owner/v1/credentials'],
  ['roles/src/uma_http.cpp POST "/owner/v1/credentials"', 'POST', '/owner/v1/credentials'],
  ['roles/src/uma_http.cpp GET "/owner/v1/events"', 'GET', '/owner/v1/events', 'longpoll'],
  ['roles/src/uma_http.cpp POST "/owner/v1/approvals"', 'POST', '/owner/v1/approvals'],
  ['roles/src/uma_http.cpp GET R"(/owner/v1/approvals/([A-Za-z0-9_-]{1,64}))"', 'GET', `/owner/v1/approvals/${ID}`],
  ['roles/src/uma_http.cpp POST "/owner/v1/pairings"', 'POST', '/owner/v1/pairings', 'mints'],
  ['roles/src/uma_http.cpp GET "/owner/v1/devices"', 'GET', '/owner/v1/devices'],
  ['roles/src/uma_http.cpp DELETE R"(/owner/v1/devices/([A-Za-z0-9_-]{1,64}))"', 'DELETE', `/owner/v1/devices/${ID}`],
  ['roles/src/uma_http.cpp POST "/pairing/v1/complete"', 'POST', '/pairing/v1/complete'],
  ['roles/src/uma_http.cpp POST "/device/v1/challenge"', 'POST', '/device/v1/challenge', 'mints'],
  ['roles/src/uma_http.cpp POST "/device/v1/session"', 'POST', '/device/v1/session'],
  ['roles/src/uma_http.cpp GET "/device/v1/requests"', 'GET', '/device/v1/requests', 'longpoll'],
  ['roles/src/uma_http.cpp POST R"(/device/v1/requests/([A-Za-z0-9_-]{1,64})/decision)"', 'POST', `/device/v1/requests/${ID}/decision`],
  ['roles/src/uma_http.cpp GET "/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64}))"', 'GET', '/fhir/Observation/obs-1', 'mints'], // UMA: a request without an RPT gets a permission ticket; the owner's own reads are logged
  ['roles/src/uma_http.cpp GET "/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64})/_history/([0-9]{1,9}))"', 'GET', '/fhir/Condition/c.1/_history/1', 'mints'],
  ['roles/src/uma_http.cpp GET "/fhir/" + types', 'GET', '/fhir/MedicationRequest', 'mints'],
  ['roles/src/uma_http.cpp POST "/fhir/" + types', 'POST', '/fhir/AllergyIntolerance', 'mints'],
  ['roles/src/uma_http.cpp PUT "/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64}))"', 'PUT', '/fhir/DocumentReference/d-1', 'mints'],
];
const GATE = [
  ['roles/src/web_gate.cpp POST "/web/v1/passkeys/register/options"', 'POST', '/web/v1/passkeys/register/options'],
  ['roles/src/web_gate.cpp POST "/web/v1/passkeys/register"', 'POST', '/web/v1/passkeys/register'],
  ['roles/src/web_gate.cpp GET "/web/v1/passkeys"', 'GET', '/web/v1/passkeys'],
  ['roles/src/web_gate.cpp DELETE R"(/web/v1/passkeys/([A-Za-z0-9_-]{1,1400}))"', 'DELETE', `/web/v1/passkeys/${ID}`],
  ['roles/src/web_gate.cpp POST "/web/v1/signin/options"', 'POST', '/web/v1/signin/options', 'mints'],
  ['roles/src/web_gate.cpp POST "/web/v1/signin"', 'POST', '/web/v1/signin'],
];
const APP = [
  ['web/src/assets.cpp GET pattern + "/"', 'GET', '/', 'page'],
  ['web/src/assets.cpp GET pattern', 'GET', '', 'page'],
  ['web/src/assets.cpp GET pattern + "/app/(.*)"', 'GET', '/app/app.js', 'page'],
];
const CONTAINER_WEB = [
  ['roles/src/web_http.cpp GET "/web/v1/state"', 'GET', '/web/v1/state'],
  ['roles/src/web_http.cpp POST "/web/v1/signin/phone"', 'POST', '/web/v1/signin/phone', 'mints'],
  ['roles/src/web_http.cpp POST "/web/v1/signin/phone/poll"', 'POST', '/web/v1/signin/phone/poll'],
  ['roles/src/web_http.cpp POST "/web/v1/signout"', 'POST', '/web/v1/signout', 'signout'],
  ['roles/src/web_http.cpp POST "/web/v1/signout-all"', 'POST', '/web/v1/signout-all', 'signout'],
  ['roles/src/web_http.cpp GET "/web/v1/events"', 'GET', '/web/v1/events', 'stream'],
  ['roles/src/web_http.cpp POST "/web/v1/pairing"', 'POST', '/web/v1/pairing', 'mints'],
  ['roles/src/web_http.cpp POST "/web/v1/disclosures/verify"', 'POST', '/web/v1/disclosures/verify'],
  ['roles/src/web_http.cpp POST "/web/v1/receipts/verify"', 'POST', '/web/v1/receipts/verify'],
  ['roles/src/web_http.cpp GET "/web/v1/relationships"', 'GET', '/web/v1/relationships'],
  ['roles/src/web_http.cpp POST "/web/v1/relationships/pseudonym"', 'POST', '/web/v1/relationships/pseudonym', 'mints'],
  ['roles/src/web_http.cpp POST "/web/v1/relationships/decision"', 'POST', '/web/v1/relationships/decision'],
  ['roles/src/web_http.cpp GET "/web/v1/prescriptions"', 'GET', '/web/v1/prescriptions'],
  ['roles/src/web_http.cpp POST "/web/v1/prescriptions/present"', 'POST', '/web/v1/prescriptions/present'],
  ['roles/src/web_http.cpp POST "/web/v1/prescriptions/present/poll"', 'POST', '/web/v1/prescriptions/present/poll'],
  ['roles/src/web_http.cpp POST "/web/v1/prescriptions/tell"', 'POST', '/web/v1/prescriptions/tell'],
  ['roles/src/web_http.cpp GET "/web/v1/recovery"', 'GET', '/web/v1/recovery'],
  ['roles/src/web_http.cpp GET "/web/v1/address"', 'GET', '/web/v1/address'],
  ['roles/src/web_http.cpp POST "/web/v1/links"', 'POST', '/web/v1/links', 'mints'],
  ['roles/src/web_oid4vc.cpp POST "/web/v1/oid4vp/plan"', 'POST', '/web/v1/oid4vp/plan'],
  ['roles/src/web_oid4vc.cpp POST R"(/web/v1/oid4vp/([A-Za-z0-9_-]{1,64})/approve)"', 'POST', `/web/v1/oid4vp/${ID}/approve`],
  ['roles/src/web_oid4vc.cpp POST R"(/web/v1/oid4vp/([A-Za-z0-9_-]{1,64})/decline)"', 'POST', `/web/v1/oid4vp/${ID}/decline`],
];
const PHYSICIAN = [
  ['roles/src/web_http.cpp GET "/web/v1/physician/state"', 'GET', '/web/v1/physician/state'],
  ['roles/src/web_http.cpp POST "/web/v1/physician/onboard"', 'POST', '/web/v1/physician/onboard'],
  ['roles/src/web_http.cpp POST "/web/v1/physician/onboard/poll"', 'POST', '/web/v1/physician/onboard/poll'],
  ['roles/src/web_http.cpp GET "/web/v1/physician/patients"', 'GET', '/web/v1/physician/patients'],
  ['roles/src/web_http.cpp POST "/web/v1/physician/patients"', 'POST', '/web/v1/physician/patients'],
  ['roles/src/web_http.cpp POST R"(/web/v1/physician/patients/([0-9a-f]{16})/poll)"', 'POST', '/web/v1/physician/patients/0123456789abcdef/poll'],
  ['roles/src/web_http.cpp GET R"(/web/v1/physician/patients/([0-9a-f]{16})/records)"', 'GET', '/web/v1/physician/patients/0123456789abcdef/records'],
  ['roles/src/web_http.cpp POST R"(/web/v1/physician/patients/([0-9a-f]{16})/records)"', 'POST', '/web/v1/physician/patients/0123456789abcdef/records'],
  ['roles/src/web_http.cpp POST "/rx/v1/notices"', 'POST', '/rx/v1/notices'],
  ['roles/src/web_http.cpp GET "/web/v1/physician/prescriptions"', 'GET', '/web/v1/physician/prescriptions'],
  ['roles/src/web_http.cpp POST "/web/v1/physician/prescriptions"', 'POST', '/web/v1/physician/prescriptions'],
  ['roles/src/web_http.cpp POST R"(/web/v1/physician/prescriptions/([A-Za-z0-9_-]{1,64})/poll)"', 'POST', `/web/v1/physician/prescriptions/${ID}/poll`],
  ['roles/src/web_http.cpp POST R"(/web/v1/physician/prescriptions/([A-Za-z0-9_-]{1,64})/offer)"', 'POST', `/web/v1/physician/prescriptions/${ID}/offer`],
  ['roles/src/web_http.cpp POST "/owner/v1/oid4vci/offers"', 'POST', '/owner/v1/oid4vci/offers'],
];
const STAFF = [
  ['roles/src/staff_web.cpp GET "/web/v1/state"', 'GET', '/web/v1/state'],
  ['roles/src/staff_web.cpp POST "/web/v1/signout"', 'POST', '/web/v1/signout', 'signout'],
  ['roles/src/staff_web.cpp GET "/web/v1/staff"', 'GET', '/web/v1/staff'],
  ['roles/src/staff_web.cpp POST "/web/v1/staff"', 'POST', '/web/v1/staff'],
];
const SOCIETY = [
  ['roles/src/issuer_http.cpp GET "/credentials/v1"', 'GET', '/credentials/v1'],
  ['roles/src/issuer_http.cpp GET path', 'GET', '/status/revocation'],
  ['roles/src/issuer_http.cpp GET path', 'GET', '/status/suspension'],
  ['roles/src/did_web_http.cpp GET RegexEscape(*route)', 'GET', '/.well-known/did.json'],
  ['roles/src/issuer_http.cpp POST "/society/v1/challenge"', 'POST', '/society/v1/challenge', 'mints'],
  ['roles/src/issuer_http.cpp POST "/society/v1/licenses"', 'POST', '/society/v1/licenses'],
  ['roles/src/issuer_http.cpp GET R"(/society/v1/onboarding/([A-Za-z0-9-]{1,64}))"', 'GET', '/society/v1/onboarding/abc-123'],
  ['roles/src/issuer_http.cpp GET "/society/v1/licenses"', 'GET', '/society/v1/licenses'],
  ['roles/src/issuer_http.cpp POST R"(/society/v1/licenses/([A-Za-z0-9:._-]{1,128})/status)"', 'POST', '/society/v1/licenses/urn:uuid:1234/status'],
  ['roles/src/oid4vci_http.cpp GET "/.well-known/openid-credential-issuer"', 'GET', '/.well-known/openid-credential-issuer'],
  ['roles/src/oid4vci_http.cpp GET "/.well-known/oauth-authorization-server"', 'GET', '/.well-known/oauth-authorization-server'],
  ['roles/src/oid4vci_http.cpp GET R"(/oid4vci/offers/([A-Za-z0-9_-]{1,64}))"', 'GET', `/oid4vci/offers/${ID}`],
  ['roles/src/oid4vci_http.cpp GET "/oid4vci/authorize"', 'GET', '/oid4vci/authorize'],
  ['roles/src/oid4vci_http.cpp POST "/oid4vci/token"', 'POST', '/oid4vci/token', 'form'],
  ['roles/src/oid4vci_http.cpp POST "/oid4vci/nonce"', 'POST', '/oid4vci/nonce', 'mints'], // OpenID4VCI §7: an unbound c_nonce for anyone
  ['roles/src/oid4vci_http.cpp POST "/oid4vci/credential"', 'POST', '/oid4vci/credential'],
  ['roles/src/oid4vci_http.cpp POST "/oid4vci/deferred_credential"', 'POST', '/oid4vci/deferred_credential'],
  ['roles/src/oid4vci_http.cpp POST "/society/v1/oid4vci/offers"', 'POST', '/society/v1/oid4vci/offers'],
  ['roles/src/society_desk.cpp GET "/web/v1/desk/directory"', 'GET', '/web/v1/desk/directory'],
  ['roles/src/society_desk.cpp POST "/web/v1/desk/directory/import"', 'POST', '/web/v1/desk/directory/import'],
  ['roles/src/society_desk.cpp GET "/web/v1/desk/onboarding"', 'GET', '/web/v1/desk/onboarding'],
  ['roles/src/society_desk.cpp POST R"(/web/v1/desk/onboarding/([A-Za-z0-9-]{1,64}))"', 'POST', '/web/v1/desk/onboarding/abc-123'],
  ['roles/src/society_desk.cpp GET "/web/v1/desk/licenses"', 'GET', '/web/v1/desk/licenses'],
  ['roles/src/society_desk.cpp POST R"(/web/v1/desk/licenses/([A-Za-z0-9:._-]{1,128})/status)"', 'POST', '/web/v1/desk/licenses/urn:uuid:1234/status'],
  ['roles/src/society_desk.cpp GET "/web/v1/desk/status-lists"', 'GET', '/web/v1/desk/status-lists'],
  ...STAFF, ...GATE, ...APP,
];
const PHARMACY = [
  ['roles/src/pharmacy_http.cpp POST "/pharmacy/v1/challenge"', 'POST', '/pharmacy/v1/challenge', 'mints'],
  ['roles/src/pharmacy_http.cpp POST "/pharmacy/v1/dispense"', 'POST', '/pharmacy/v1/dispense'],
  ['roles/src/pharmacy_counter.cpp GET requests', 'GET', `/pharmacy/v1/requests/${ID}`],
  ['roles/src/pharmacy_counter.cpp POST requests + "/presentation"', 'POST', `/pharmacy/v1/requests/${ID}/presentation`],
  ['roles/src/pharmacy_counter.cpp POST requests + "/outcome"', 'POST', `/pharmacy/v1/requests/${ID}/outcome`],
  ['roles/src/pharmacy_oid4vp.cpp POST "/web/v1/counter/oid4vp/requests"', 'POST', '/web/v1/counter/oid4vp/requests', 'mints'],
  ['roles/src/pharmacy_oid4vp.cpp GET R"(/web/v1/counter/oid4vp/requests/([A-Za-z0-9_-]{1,64}))"', 'GET', `/web/v1/counter/oid4vp/requests/${ID}`],
  ['roles/src/pharmacy_oid4vp.cpp GET R"(/pharmacy/v1/oid4vp/requests/([A-Za-z0-9_-]{1,64}))"', 'GET', `/pharmacy/v1/oid4vp/requests/${ID}`],
  ['roles/src/pharmacy_oid4vp.cpp POST kResponsePath', 'POST', '/pharmacy/v1/oid4vp/response'],
  ['roles/src/pharmacy_counter.cpp POST "/web/v1/counter/requests"', 'POST', '/web/v1/counter/requests', 'mints'],
  ['roles/src/pharmacy_counter.cpp GET "/web/v1/counter/requests"', 'GET', '/web/v1/counter/requests'],
  ['roles/src/pharmacy_counter.cpp GET mine', 'GET', `/web/v1/counter/requests/${ID}`],
  ['roles/src/pharmacy_counter.cpp POST mine + "/dispense"', 'POST', `/web/v1/counter/requests/${ID}/dispense`],
  ['roles/src/pharmacy_counter.cpp POST mine + "/refuse"', 'POST', `/web/v1/counter/requests/${ID}/refuse`],
  ['roles/src/pharmacy_counter.cpp GET "/web/v1/dispenses"', 'GET', '/web/v1/dispenses'],
  ...STAFF, ...GATE, ...APP,
];
const LEDGER = [
  ['roles/src/ledger_http.cpp POST "/ledger/v1/entries"', 'POST', '/ledger/v1/entries'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/checkpoint"', 'GET', '/ledger/v1/checkpoint'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/key"', 'GET', '/ledger/v1/key'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/proof/inclusion"', 'GET', '/ledger/v1/proof/inclusion'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/proof/consistency"', 'GET', '/ledger/v1/proof/consistency'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/entries"', 'GET', '/ledger/v1/entries'],
  ['roles/src/ledger_http.cpp GET "/ledger/v1/lookup"', 'GET', '/ledger/v1/lookup'],
  ['roles/src/ledger_http.cpp GET "/tlog/checkpoint"', 'GET', '/tlog/checkpoint'],
  ['roles/src/ledger_http.cpp GET R"(/tlog/(tile/.+))"', 'GET', '/tlog/tile/0/000'],
  ['roles/src/ledger_http.cpp GET R"(/tlog/(tile/.+))"', 'GET', '/tlog/tile/entries/x001/000.p/7'],
  ['roles/src/ledger_http.cpp GET R"(/tlog/(tile/.+))"', 'GET', '/tlog/tile/1/000.p/1'],
];
const WITNESS = [['roles/src/ledger_http.cpp POST "/add-checkpoint"', 'POST', '/add-checkpoint', 'text']];
const RESOLVER = [['roles/src/did_http.cpp GET R"(/1\\.0/identifiers/(.+))"', 'GET', '/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK']];
const MOUNTED = [
  ['roles/src/mounted_routes.cpp GET prefix + s.pattern', 'GET', '/web/v1/events', 'stream'],
  ['roles/src/mounted_routes.cpp GET pattern', 'GET', '/owner/v1/policies'],
  ['roles/src/mounted_routes.cpp POST pattern', 'POST', '/owner/v1/policies'],
  ['roles/src/mounted_routes.cpp PUT pattern', 'PUT', '/fhir/Observation/o-1', 'mints'],
  ['roles/src/mounted_routes.cpp PATCH pattern', 'PATCH', '/owner/v1/policies'],
  ['roles/src/mounted_routes.cpp DELETE pattern', 'DELETE', `/owner/v1/devices/${ID}`],
];

// ---- what every answer must be -------------------------------------------------------------
class Tally {
  constructor(name) { this.name = name; this.count = 0; this.byRoute = new Map(); this.bad = { fivexx: [], nonjson: [], noanswer: [], leak: [], state: [] }; this.longpolls = 0; this.walks = []; this.accepted = new Map(); }
  note(route, label, r, { allowNoAnswer = false, page = false, longpoll = false } = {}) {
    this.count++;
    this.byRoute.set(route, (this.byRoute.get(route) || 0) + 1);
    const what = `${route} ${label}: ${r.status} ${(r.error || r.text || '').slice(0, 160).replace(/\s+/g, ' ')}`;
    if (r.status === 0) {
      if (longpoll && r.error === 'timeout') { this.longpolls++; return; }
      if (!allowNoAnswer) this.bad.noanswer.push(what);
      return;
    }
    if (r.status >= 500) this.bad.fivexx.push(what);
    if (r.status >= 200 && r.status < 300 && !/^(GET|HEAD|OPTIONS|path |\?|walk \{\}$)/.test(label) && !route.startsWith('GET ')) {
      if (!this.accepted.has(route)) this.accepted.set(route, []);
      this.accepted.get(route).push(`${label} → ${r.status}`);
    }
    // c2sp.org/tlog-witness prescribes a 409's body: the witness's size as text/x.tlog.size.
    const tlogSize = r.status === 409 && /^text\/x\.tlog\.size/.test(r.headers?.['content-type'] || '');
    if (r.status >= 400 && label.indexOf('HEAD') !== 0 && !tlogSize) {
      const j = r.json;
      if (!j || typeof j !== 'object' || typeof j.error !== 'string' || typeof j.error_description !== 'string') this.bad.nonjson.push(what);
    }
    if (/root:x?:0:0:/.test(r.text || '')) this.bad.leak.push(what);
    void page;
  }
}

// ---- the bad inputs --------------------------------------------------------------------------
const TYPES = [null, true, 0, -1, 1.5, 1e308, -9007199254740993, 18446744073709551616, '', 'x'.repeat(5000), '\u0000', [], [1, 'a'], {}, { a: { b: [] } }];
const deep = (n, open, close, mid = '') => open.repeat(n) + mid + close.repeat(n);
// Candidate values for the member walk: every JSON type, edge values, plausible strings.
const CANDIDATES = ['x', 1, true, {}, [], null, -1, 1.5, 1e308, '', '\u0000', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'A'.repeat(43), 'e30.e30.AAAA', '0'.repeat(64), 'x'.repeat(20000), { a: 1 }, ['x'], [{}], 'permit', 'approve', 'grant', 'revoke', 'treatment'];
// Plausible bodies of some routes: each member in turn gets every type (and goes missing), so
// the checks behind the first member are reached too. An accepted one may change state (noted).
const DK = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const ENTRY = { license_number: 'MA-MD-2', name: 'Dr. B', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'x', schedules: ['II'], valid_until: '2031-01-01T00:00:00Z' };
const SKELETONS = {
  '/owner/v1/policies': { effect: 'permit', subjects: [{ did: DK }], resource_types: ['MedicationRequest'], resource_ids: [], scopes: ['read'], purposes: ['treatment'] },
  '/web/v1/staff': { name: 'bad-input-1', role: 'technician', display_name: 'B' },
  '/web/v1/desk/directory/import': { format: 'json', content: JSON.stringify([ENTRY]) },
  '/society/v1/licenses': { proof: 'e30.e30.AAAA', license_number: 'MA-MD-100001', name: 'Dr. Amir Haddad' },
  '/pharmacy/v1/dispense': { presentation: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: DK, verifiableCredential: [{}], proof: {} }, fill_authorization: 'e30.e30.AAAA' },
  '/ledger/v1/entries': { type: 'anchor', v: 1, hash: 'ab'.repeat(32), kind: 'document', ts: 1700000000 },
  '/web/v1/physician/onboard': { society: 'http://127.0.0.1:1', license_number: 'MA-MD-1', name: 'Dr. X' },
  '/web/v1/physician/prescriptions': { patient: DK, rxcui: '308191', instructions: 'x', refills: 1, schedule: 'II', holder: DK },
  '/inbox/v1/credentials': { credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: DK, credentialSubject: { id: DK }, proof: {} } },
  '/web/v1/desk/onboarding/abc-123': { action: 'approve', reason: 'x' },
  '/society/v1/licenses/urn:uuid:1234/status': { action: 'revoke' },
  '/society/v1/oid4vci/offers': { license_id: 'urn:uuid:1234', tx_code: true, format: 'ldp_vc' },
  '/oid4vci/credential': { credential_configuration_id: 'MedicalLicenseCredential_dc+sd-jwt', proofs: { jwt: ['e30.e30.AAAA'] } },
  '/oid4vci/deferred_credential': { transaction_id: 'AbCdEf0123456789' },
  '/uma/resource_set': { name: 'x', type: 'MedicationRequest', resource_scopes: ['read', 'search'], description: 'x', icon_uri: 'http://x.example/i' },
  '/uma/permission': { resource_id: 'AbCdEf0123456789', resource_scopes: ['read'] },
};
// Files of the directory import that its parser must refuse, not choke on.
const IMPORTS = [
  ['json', DEEP_ARRAY_TEXT()], ['json', '{"a":' .repeat(50000) + '1' + '}'.repeat(50000)], ['json', '[' + JSON.stringify(ENTRY).repeat(2) + ']'],
  ['csv', 'a,'.repeat(200000)], ['csv', '"'.repeat(100001)], ['csv', 'license_number,name\n' + 'x,\u0000\n'.repeat(1000)], ['csv', Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('latin1')],
  ['json', JSON.stringify(Array.from({ length: 30000 }, () => ENTRY))], ['csv', '\n'.repeat(500000)],
];
function DEEP_ARRAY_TEXT() { return '['.repeat(100000) + ']'.repeat(100000); }

// The member an error names ('name', "name", or "name is/must ..."), if the handlers read it.
function namedMember(r, members) {
  const d = r && r.json && typeof r.json.error_description === 'string' ? r.json.error_description : '';
  for (const m of d.matchAll(/'([A-Za-z_][A-Za-z0-9_]*)'|"([A-Za-z_][A-Za-z0-9_]*)"|^([A-Za-z_][A-Za-z0-9_]*) (?:is|must|has)/g)) {
    const n = m[1] || m[2] || m[3];
    if (members.includes(n)) return n;
  }
  // Else the first word of the description that is a member name.
  for (const w of d.split(/[^A-Za-z0-9_]+/)) if (w.length > 2 && members.includes(w)) return w;
  return null;
}
const DEEP_ARRAY = deep(100000, '[', ']');
const DEEP_OBJECT = deep(100000, '{"a":', '}', '1');
const MALFORMED = [
  ['empty', ''], ['space', ' '], ['open brace', '{'], ['unterminated', '{"a":1'], ['trailing comma', '{"a":1,}'], ['array trailing comma', '[1,]'],
  ['single quotes', "{'a':1}"], ['nul literal', 'nul'], ['two documents', '{}{}'], ['extra close', '{"a":1}}'], ['bare word', 'hello'],
  ['number', '1'], ['string', '"s"'], ['null', 'null'], ['array', '[]'], ['true', 'true'], ['huge number', '1' + '0'.repeat(400)],
  ['NaN', '{"a":NaN}'], ['Infinity', '{"a":Infinity}'], ['comment', '{/*x*/"a":1}'], ['duplicate keys', '{"a":1,"a":"b"}'],
  ['unescaped control', '{"a":"\n\t"}'], ['lone surrogate escape', '{"a":"\\ud800"}'], ['escaped NUL', '{"a":"\\u0000","\\u0000":1}'],
  ['raw NUL in string', Buffer.from('{"a":"x\u0000y"}')], ['raw NUL alone', Buffer.from([0])], ['NUL after document', Buffer.from('{}\u0000')],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')])],
  ['invalid UTF-8 key', Buffer.concat([Buffer.from('{"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('":1}')])],
  ['UTF-16 BOM', Buffer.from([0xfe, 0xff, 0, 0x7b, 0, 0x7d])], ['UTF-8 BOM', Buffer.from('\ufeff{}')],
  ['deep array 100000', DEEP_ARRAY], ['deep object 100000', DEEP_OBJECT], ['deep array 65', deep(65, '[', ']')],
  ['wide array 900 kB', '{"a":[' + Array(300000).fill('1').join(',') + ']}'],
  ['many keys', '{' + Array.from({ length: 40000 }, (_, i) => `"k${i}":0`).join(',') + '}'],
  ['long string 1 MB', '{"a":"' + 'y'.repeat(1040000) + '"}'],
];
const FORM_BAD = ['a=%zz&b', '=&=&=', '%00=%00', 'grant_type=%ff%fe', 'token=' + 'x'.repeat(900000), Array.from({ length: 20000 }, (_, i) => `k${i}=v`).join('&'),
  'grant_type=urn:ietf:params:oauth:grant-type:uma-ticket&ticket=%00&claim_token=%ff&claim_token_format=x&pct=-1&rpt=' + 'a'.repeat(5000),
  'grant_type=client_credentials&client_id=%00&client_secret=', 'token=a&token=b&token_type_hint=' + '\u00e9', '&&&&', 'a'];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'json', '', 'application/json; charset=utf-16', '*/*'];
const QUERY_NAMES = ['after', 'wait', 'size', 'index', 'first', 'second', 'start', 'end', '_count', 'status', 'day', 'kind', 'value', 'type', 'patient', 'hash', 'key', 'versionId', 'versionTime', 'ledgerPosition'];
const QUERY_VALUES = ['-1', 'abc', '99999999999999999999', '18446744073709551616', '1e3', '0x10', '', '%00', '%ff%fe', '00', '+1', '%201', '1.5', '..%2f..%2fetc%2fpasswd', 'x'.repeat(3000), '%E2%80%AE', '9223372036854775808'];
const TRAVERSAL = (p) => [
  `${p}/../../../../etc/passwd`, `${p}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, `${p}/..%2f..%2f..%2fetc%2fpasswd`, `${p}%2f..%2f..%2fetc%2fpasswd`,
  `${p}%00`, `${p}/%00/x`, `${p};x=1`, `${p}/.`, `${p}//`, `${p}%20`, `${p}/%c0%ae%c0%ae/etc/passwd`, `${p}%252e%252e%252f`,
];
const GLOBAL_PATHS = ['/app/../../../../etc/passwd', '/app/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/app/..%2f..%2f..%2fetc%2fpasswd', '/app/%252e%252e/etc/passwd',
  '/app/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/app/....//....//etc/passwd', '/app/%2fetc%2fpasswd', '/app/', '/app/.', '/app/%00', '//etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
  '/../../etc/passwd', '/./web/v1/state', '/web/v1/../v1/state', '/web//v1/state', '/c/../c/x', '/c/%2e%2e/etc/passwd', '/c/x%2f..%2fy/web/v1/state', '/c//web/v1/state',
  '/' + 'a/'.repeat(4000), '/' + 'b'.repeat(60000), '/%', '/%zz', '/?%', '/#frag', '/index.html', '/app/index.html'];
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

// ---- one server's battery ---------------------------------------------------------------------
// srv: {name, base (URL incl. any /c/<name> prefix), pid, dbs (files), routes, auth: {valid,
// others: [[label, headers]]}, light (no per-member bodies), members}.
async function runServer(srv, tally) {
  const jobs = [];
  const dbs = () => (srv.dbs ? dbDigest(srv.dbs()) : {});
  const prefix = new URL(srv.base).pathname.replace(/\/$/, '');
  const origin = new URL(srv.base).origin;
  const send = (route, label, opts, flags = {}) => request(origin, { ...opts, path: prefix + opts.path, timeout: flags.longpoll || flags.stream ? 1500 : 10000 })
    .then((r) => tally.note(route, label, r, flags));
  // The first use of a browser session opens its owner session (a token and a line in the
  // disclosure log): done once before the baseline.
  for (const w of srv.warmup || []) await request(origin, { method: w[0], path: prefix + w[1], headers: { ...srv.auth.valid, 'content-type': 'application/json' }, body: w[0] === 'GET' ? undefined : '{}' });
  const rssBefore = rssKiB(srv.pid);
  let digest = dbs();
  const digest0 = digest;
  const seen = new Set();
  const registered = new Map(); // path → methods
  for (const [, method, path] of srv.routes) { if (!registered.has(path)) registered.set(path, new Set()); registered.get(path).add(method); }

  for (const [key, method, path, kind] of srv.routes) {
    const flags = { longpoll: kind === 'longpoll', stream: kind === 'stream', longpoll2: kind === 'stream' };
    if (kind === 'stream') flags.longpoll = true;
    const route = `${method} ${path || '(prefix)'}`;
    if (seen.has(route)) continue;
    seen.add(route);
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH';
    const valid = srv.auth.validFor ? srv.auth.validFor(path) : srv.auth.valid;
    const jsonHdr = (h, ct = 'application/json') => ({ ...h, 'content-type': ct });
    const R = [];
    // Credentials: none, garbage, another party's; then the valid ones (except for sign-outs).
    for (const [label, headers] of srv.auth.others) {
      R.push(() => send(route, `${label}`, { method, path, headers: body ? jsonHdr(headers) : headers, body: body ? '{}' : undefined }, flags));
      if (body) R.push(() => send(route, `${label} + bad JSON`, { method, path, headers: jsonHdr(headers), body: '{"a":' }, flags));
    }
    if (kind !== 'signout') {
      R.push(() => send(route, 'valid credentials, {}', { method, path, headers: body ? jsonHdr(valid) : valid, body: body ? '{}' : undefined }, flags));
      // Wrong methods on the route's path.
      for (const m of ALL_METHODS) {
        if (registered.get(path)?.has(m)) continue;
        R.push(() => send(route, `${m} (wrong method)`, { method: m, path, headers: m === 'GET' || m === 'HEAD' ? valid : jsonHdr(valid), body: m === 'GET' || m === 'HEAD' ? undefined : '{}' }, { ...flags, allowNoAnswer: m === 'HEAD' }));
      }
      // Traversal around the route's path.
      for (const p of TRAVERSAL(path)) R.push(() => send(route, `path ${p.slice(0, 80)}`, { method, path: p, headers: body ? jsonHdr(valid) : valid, body: body ? '{}' : undefined }, flags));
      if (method === 'GET' && kind !== 'page') {
        // A stream answers a good request by streaming: only its own parameter there.
        for (const q of kind === 'stream' ? ['after'] : QUERY_NAMES) for (const v of QUERY_VALUES) {
          if (flags.longpoll && q === 'wait' && /^\+?\s?1$|^1\.5$/.test(v)) continue;
          R.push(() => send(route, `?${q}=${v.slice(0, 30)}`, { method, path: `${path}?${q}=${v}`, headers: valid }, flags));
        }
        R.push(() => send(route, '?many params', { method, path: `${path}?${Array.from({ length: 3000 }, (_, i) => `p${i}=${i}`).join('&')}`, headers: valid }, flags));
      }
      if (body) {
        if (kind === 'form') {
          for (const f of FORM_BAD) R.push(() => send(route, `form ${f.slice(0, 40)}`, { method, path, headers: jsonHdr(valid, 'application/x-www-form-urlencoded'), body: f }, flags));
          R.push(() => send(route, 'form as JSON', { method, path, headers: jsonHdr(valid), body: '{"grant_type":"x"}' }, flags));
        }
        const ct = kind === 'form' ? 'application/x-www-form-urlencoded' : kind === 'text' ? 'text/plain' : 'application/json';
        for (const [label, b] of MALFORMED) R.push(() => send(route, `body: ${label}`, { method, path, headers: jsonHdr(valid, ct), body: b }, flags));
        for (const c of CONTENT_TYPES) R.push(() => send(route, `content-type "${c}"`, { method, path, headers: c ? jsonHdr(valid, c) : valid, body: '{}' }, flags));
        R.push(() => send(route, 'body of 1.5 MiB', { method, path, headers: jsonHdr(valid, ct), body: '{"a":"' + 'z'.repeat(1600000) + '"}' }, { ...flags, allowNoAnswer: true }));
        if (!srv.light && kind !== 'form' && kind !== 'text') {
          for (const t of TYPES) {
            const all = {};
            for (const m of srv.members) all[m] = t;
            R.push(() => send(route, `every member = ${JSON.stringify(t).slice(0, 20)}`, { method, path, headers: jsonHdr(valid), body: JSON.stringify(all) }, flags));
          }
        }
        const skel = SKELETONS[path];
        if (skel) {
          for (const m of Object.keys(skel)) {
            const { [m]: _, ...without } = skel;
            R.push(() => send(route, `skeleton without ${m}`, { method, path, headers: jsonHdr(valid), body: JSON.stringify(without) }, flags));
            for (const t of TYPES) {
              R.push(() => send(route, `skeleton ${m}=${JSON.stringify(t).slice(0, 20)}`, { method, path, headers: jsonHdr(valid), body: JSON.stringify({ ...skel, [m]: t }) }, flags));
              if (Array.isArray(skel[m]) || (skel[m] && typeof skel[m] === 'object')) {
                const inner = Array.isArray(skel[m]) ? [t] : Object.fromEntries(Object.keys(skel[m]).map((k) => [k, t]));
                R.push(() => send(route, `skeleton ${m} inner=${JSON.stringify(t).slice(0, 20)}`, { method, path, headers: jsonHdr(valid), body: JSON.stringify({ ...skel, [m]: inner }) }, flags));
              }
            }
          }
        }
        if (path === '/web/v1/desk/directory/import') {
          for (const [format, content] of IMPORTS) R.push(() => send(route, `import ${format} ${content.slice(0, 20)}`, { method, path, headers: jsonHdr(valid), body: JSON.stringify({ format, content }) }, flags));
        }
        if (kind !== 'form' && kind !== 'text') {
          // Member by member in the handler's own order: the member its error names gets every
          // type; the first that moves the error on is kept, and the walk goes on to the next.
          R.push(async () => {
            const body0 = {};
            const tried = new Set();
            const post = async (b, label) => {
              const r = await request(origin, { method, path: prefix + path, headers: jsonHdr(valid), body: JSON.stringify(b), timeout: 10000 });
              tally.note(route, label, r, flags);
              return r;
            };
            let r = await post(body0, 'walk {}');
            for (let depth = 0; depth < 12; depth++) {
              const name = namedMember(r, srv.members);
              if (!name || tried.has(name)) break;
              tried.add(name);
              let next = null;
              for (const c of CANDIDATES) {
                const r2 = await post({ ...body0, [name]: c }, `walk ${Object.keys(body0).join(',')}${Object.keys(body0).length ? ',' : ''}${name}=${JSON.stringify(c).slice(0, 20)}`);
                if (next === null && r2.status >= 400 && r2.status < 500 && namedMember(r2, srv.members) !== name) next = [c, r2];
              }
              if (!next) break;
              body0[name] = next[0];
              r = next[1];
            }
            tally.walks.push(`${route}: ${Object.keys(body0).join(', ') || '-'}`);
          });
        }
      }
    }
    jobs.push({ key, route, kind, run: R });
  }

  // Route by route: the answers, then the databases.
  for (const j of jobs) {
    await pool(j.run, 6);
    if (srv.dbs) {
      const now = dbs();
      const changed = digestDiff(digest, now);
      if (changed.length && j.kind !== 'mints' && j.kind !== 'signout') {
        // A request the server accepted (the member walk can build a valid body) may change
        // state: said, not failed. Every other change is a refused request that wrote.
        if (tally.accepted.has(j.route)) console.log(`# note: ${j.route} changed ${changed.join(', ')} after accepting ${tally.accepted.get(j.route).slice(0, 3).join('; ')}`);
        else tally.bad.state.push(`${j.route} changed ${changed.join(', ')}`);
      } else if (changed.length) console.log(`# ${j.route} (${j.kind}) changed ${changed.join(', ')}`);
      digest = now;
    }
  }
  // Whole-server inputs: global paths, raw requests.
  const G = [];
  for (const p of GLOBAL_PATHS) G.push(() => send('(global)', `GET ${p.slice(0, 60)}`, { method: 'GET', path: p, headers: srv.auth.valid }, { allowNoAnswer: p.length > 8000 }));
  const host = `Host: ${new URL(srv.base).host}\r\n`;
  const p0 = prefix + (srv.rawPath || '/');
  const RAWS = [
    ['Content-Length: -5', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}`],
    ['Content-Length: 20 digits', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}`],
    ['Content-Length: 1e3', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 1e3\r\n\r\n{}`],
    ['Content-Length: 0x10', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 0x10\r\n\r\n{}`],
    ['two Content-Lengths', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}`],
    ['Content-Length larger than the body', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{}`],
    ['chunked, huge chunk size', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n`],
    ['chunked, garbage size', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
    ['chunked, 2 MiB', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` + ('100000\r\n' + 'a'.repeat(0x100000) + '\r\n').repeat(2) + '0\r\n\r\n'],
    ['chunked and Content-Length', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
    ['NUL in a header', `GET ${p0} HTTP/1.1\r\n${host}X-A: a\u0000b\r\n\r\n`],
    ['NUL in the path', `GET ${p0}\u0000x HTTP/1.1\r\n${host}\r\n`],
    ['no Host', `GET ${p0} HTTP/1.1\r\n\r\n`],
    ['unknown method', `FOO ${p0} HTTP/1.1\r\n${host}\r\n`],
    ['HTTP/0.9', `GET ${p0}\r\n\r\n`],
    ['HTTP/2.0 line', `GET ${p0} HTTP/2.0\r\n${host}\r\n`],
    ['absolute form', `GET http://evil.example${p0} HTTP/1.1\r\n${host}\r\n`],
    ['raw ../ path', `GET ${prefix}/app/../../../../etc/passwd HTTP/1.1\r\n${host}\r\n`],
    ['garbage request line', `\u0001\u0002\u0003 \u00ff\u00fe HTTP/1.1\r\n${host}\r\n`],
    ['64 KiB header', `GET ${p0} HTTP/1.1\r\n${host}X-Big: ${'h'.repeat(65536)}\r\n\r\n`],
    ['3000 headers', `GET ${p0} HTTP/1.1\r\n${host}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`],
    ['header without colon', `GET ${p0} HTTP/1.1\r\n${host}NoColonHere\r\n\r\n`],
    ['bare LF', `GET ${p0} HTTP/1.1\n${host.replace('\r', '')}\n`],
    ['Expect: 100-continue, 2 GB', `POST ${p0} HTTP/1.1\r\n${host}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2000000000\r\n\r\n`],
    ['invalid UTF-8 in the path', Buffer.concat([Buffer.from(`GET ${p0}`), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(` HTTP/1.1\r\n${host}\r\n`)])],
  ];
  for (const [label, bytes] of RAWS) G.push(async () => {
    const r = await raw(srv.base, bytes, 1200);
    tally.count++;
    tally.byRoute.set('(raw)', (tally.byRoute.get('(raw)') || 0) + 1);
    if (r.status >= 500) tally.bad.fivexx.push(`raw ${label}: ${r.text.slice(0, 200)}`);
    else if (r.status >= 400 && !(r.json && typeof r.json.error === 'string' && typeof r.json.error_description === 'string')) tally.bad.nonjson.push(`raw ${label}: ${r.text.slice(0, 300).replace(/\r\n/g, ' | ')}`);
    if (/root:x?:0:0:/.test(r.text)) tally.bad.leak.push(`raw ${label}`);
  });
  await pool(G, 8);
  if (srv.dbs) {
    const now = dbs();
    const changed = digestDiff(digest, now);
    if (changed.length) tally.bad.state.push(`(global paths and raw requests) changed ${changed.join(', ')}`);
  }
  const rssAfter = rssKiB(srv.pid);
  return { rssBefore, rssAfter, digest0 };
}

function report(srv, tally, rss) {
  const n = tally.count;
  console.log(`# ${srv.name}: ${n} requests over ${tally.byRoute.size} routes${tally.longpolls ? ` (${tally.longpolls} long polls or streams held past 1.5 s, as they should)` : ''}`);
  for (const [route, count] of tally.byRoute) console.log(`#   ${String(count).padStart(5)}  ${route}`);
  if (tally.walks.length) console.log(`# member walks (members reached, in the handler's order):\n#   ${tally.walks.join('\n#   ')}`);
  const show = (list) => list.slice(0, 25).join('\n') + (list.length > 25 ? `\n... and ${list.length - 25} more` : '');
  ok(tally.bad.fivexx.length === 0, `${srv.name}: no 5xx in ${n} bad requests`, show(tally.bad.fivexx));
  ok(tally.bad.nonjson.length === 0, `${srv.name}: every error body is JSON with "error" and "error_description"`, show(tally.bad.nonjson));
  ok(tally.bad.noanswer.length === 0, `${srv.name}: every request is answered`, show(tally.bad.noanswer));
  ok(tally.bad.leak.length === 0, `${srv.name}: no answer carries a file from outside the app`, show(tally.bad.leak));
  ok(alive(srv.pid), `${srv.name}: the process is still up (pid ${srv.pid})`);
  ok(rss.rssBefore !== null && rss.rssAfter !== null && rss.rssAfter - rss.rssBefore < RSS_MARGIN_KIB,
    `${srv.name}: RSS bounded (${Math.round(rss.rssBefore / 1024)} → ${Math.round(rss.rssAfter / 1024)} MiB, margin ${RSS_MARGIN_KIB / 1024} MiB)`);
  if (srv.dbs) ok(tally.bad.state.length === 0, `${srv.name}: the databases are unchanged by every route that must change nothing (${srv.dbs().map((f) => f.slice(work.length + 1)).join(', ')})`, show(tally.bad.state));
}

// ---- the servers -----------------------------------------------------------------------------
(async () => {
  // Every route in the sources is one this suite sends to.
  const covered = new Set([...UMA, ...GATE, ...APP, ...CONTAINER_WEB, ...PHYSICIAN, ...SOCIETY, ...PHARMACY, ...LEDGER, ...WITNESS, ...RESOLVER, ...MOUNTED].map((r) => r[0]));
  const inSources = sourceRoutes(ROOT);
  const missing = inSources.filter((k) => !covered.has(k));
  const stale = [...covered].filter((k) => !inSources.includes(k));
  console.log(`# routes in the sources (${inSources.length}):`);
  for (const k of inSources) console.log(`#   ${k}`);
  ok(missing.length === 0, `every route registered in the sources is covered (${inSources.length})`, missing.join('\n'));
  ok(stale.length === 0, 'every route this suite names is still in the sources', stale.join('\n'));
  const members = memberNames(ROOT);
  console.log(`# ${members.length} JSON member names read by the handlers: ${members.join(' ')}`);

  // Ledger, witness, resolver.
  const ledger = await startRole('ledger', ['ledger', 'serve', '--db', 'ledger.db', '--key-file', 'ledger.key', '--origin', 'bad-input.test/ledger', '--listen', '127.0.0.1:0', '--json']);
  const L = ['--ledger', ledger.banner.url, '--log-key', ledger.banner.verifier_key];
  const witness = await startRole('witness', ['ledger', 'witness', '--db', 'witness.db', '--key-file', 'witness.key', '--name', 'bad-input.test/witness', '--log', ledger.banner.verifier_key, '--listen', '127.0.0.1:0', '--json']);
  const resolver = await startRole('resolver', ['did', 'resolver', ...L, '--listen', '127.0.0.1:0']);
  // Wallets, the society, the pharmacy, two containers, a host.
  for (const w of ['alice', 'dr', 'society', 'pharmacy', 'hal', 'hbob']) cli(['wallet', 'init', '--store', `${w}.wallet`, '--kdf', 'test', '--mnemonic-out', `${w}.words`]);
  writeFileSync(join(work, 'directory.json'), JSON.stringify([{ license_number: 'MA-MD-100001', name: 'Dr. Amir Haddad', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'Pediatrics', schedules: ['IV'], valid_until: '2031-01-01T00:00:00Z' }]));
  const sport = await freePort();
  const society = await startRole('society', ['issuer', 'serve', '--dir', 'society', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', `127.0.0.1:${sport}`, '--review', '--json', ...L]);
  // The physician's onboarding names a society it calls: this one (an unreachable one is a 503,
  // the upstream's state, not the request's).
  SKELETONS['/web/v1/physician/onboard'].society = society.banner.url;
  const pport = await freePort();
  const pharmacy = await startRole('pharmacy', ['pharmacy', 'serve', '--dir', 'pharmacy', '--store', 'pharmacy.wallet', '--name', 'Bad Input Pharmacy', '--listen', `127.0.0.1:${pport}`, '--json', '--trust', society.banner.did, '--allow-insecure-loopback', ...L]);
  const box = async (name, app) => {
    const port = await freePort();
    return startRole(name, ['container', 'serve', '--dir', `${name}-box`, '--store', `${name}.wallet`, '--listen', `127.0.0.1:${port}`, '--public-url', `http://localhost:${port}`, '--app', app, '--json', '--trust', society.banner.did, '--allow-insecure-loopback', ...L]);
  };
  const alice = await box('alice', 'patient');
  const dr = await box('dr', 'physician');
  for (const w of ['hal', 'hbob']) writeFileSync(join(work, `${w}.pass`), 'bad-input\n');
  writeFileSync(join(work, 'host.json'), JSON.stringify({ listen: '127.0.0.1:0', trust: [society.banner.did], allow_insecure_loopback: true,
    containers: ['hal', 'hbob'].map((n) => ({ name: n, dir: join(work, `${n}-box`), store: join(work, `${n}.wallet`), passphrase_file: join(work, `${n}.pass`) })) }));
  const host = await startRole('host', ['host', 'serve', '--config', 'host.json']);
  const hostHal = host.banner.containers.find((c) => c.name === 'hal').url;
  const hostBob = host.banner.containers.find((c) => c.name === 'hbob').url;
  console.log(`# started in ${((Date.now() - t0) / 1000).toFixed(1)} s: ledger ${ledger.banner.url}, witness ${witness.banner.url}, resolver ${resolver.banner.url}, society ${society.banner.url}, pharmacy ${pharmacy.banner.url}, alice ${alice.banner.url}, dr ${dr.banner.url}, host ${hostHal} ${hostBob}`);

  // Credentials: owner sessions (DID-auth), browser sessions (a passkey from each setup link),
  // staff sessions, the society's admin token.
  const signin = (url, store, file) => { cli(['consent', 'signin', '--url', url, '--store', store, '--session-file', file]); return readFileSync(join(work, file), 'utf8').trim(); };
  const aliceBearer = signin(alice.banner.url, 'alice.wallet', 'alice.session');
  const drBearer = signin(dr.banner.url, 'dr.wallet', 'dr.session');
  const halBearer = signin(hostHal, 'hal.wallet', 'hal.session');
  const hbobBearer = signin(hostBob, 'hbob.wallet', 'hbob.session');
  // A resource server of hers (RFC 7591 with her session as initial access token) and its PAT
  // (client_credentials, scope uma_protection): the protection API's own credential.
  const rs = await request(alice.banner.url, { method: 'POST', path: '/register', headers: { 'content-type': 'application/json', authorization: `Bearer ${aliceBearer}` }, body: JSON.stringify({ client_name: 'bad-input rs', scope: 'uma_protection' }) });
  const patReply = await request(alice.banner.url, { method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${rs.json?.client_id}:${rs.json?.client_secret}`).toString('base64') }, body: 'grant_type=client_credentials&scope=uma_protection' });
  const alicePat = patReply.json?.access_token;
  ok(typeof alicePat === 'string', `a resource server of hers gets a PAT (${rs.status} ${patReply.status})`, patReply.text);
  const aliceWeb = await passkeyFromLink(alice.banner.setup_link);
  const drWeb = await passkeyFromLink(dr.banner.setup_link);
  const clerk = await passkeyFromLink(society.banner.setup_link);
  const pharmacist = await passkeyFromLink(pharmacy.banner.setup_link);
  const adminToken = readFileSync(findFile(join(work, 'society'), 'admin.token'), 'utf8').trim();
  ok(true, 'every role started and every party signed in (owner sessions, passkeys, staff, admin token)');

  const web = (s, { csrf = true, origin = true } = {}) => ({ cookie: s.cookie, ...(origin ? { origin: s.origin } : {}), ...(csrf ? { 'x-csrf-token': s.csrf } : {}) });
  const garbage = [
    ['no credentials', {}],
    ['garbage bearer', { authorization: 'Bearer ' + 'A'.repeat(43) }],
    ['bearer with a tab and spaces', { authorization: 'Bearer a\tb c  d' }],
    ['non-Bearer scheme', { authorization: 'Basic Zm9vOmJhcg==' }],
    ['empty Bearer', { authorization: 'Bearer ' }],
    ['huge bearer', { authorization: 'Bearer ' + 'b'.repeat(60000) }],
    ['garbage cookie', { cookie: 'mdl_session_1=' + 'x'.repeat(40) + '; mdl_staff_1=%00%ff; a', origin: 'http://evil.example', 'x-csrf-token': 'nope' }],
  ];
  const cookieVariants = (s, name) => [
    [`${name}'s cookie without CSRF token`, web(s, { csrf: false })],
    [`${name}'s cookie from another origin`, { ...web(s), origin: 'http://evil.example' }],
    [`${name}'s cookie without Origin`, web(s, { origin: false })],
    [`${name}'s cookie, wrong CSRF token`, { ...web(s), 'x-csrf-token': 'A'.repeat(43) }],
  ];
  const files = (dir) => () => sqliteFiles(join(work, dir));
  const servers = [
    { name: 'ledger', base: ledger.banner.url, pid: ledger.pid, routes: LEDGER, dbs: () => [join(work, 'ledger.db')],
      auth: { valid: {}, others: garbage.slice(0, 3) }, members: ['type', 'v', 'hash', 'kind', 'by', 'key', 'ts', 'sig', 'entries', 'receipt', 'subject', 'controller', 'purpose', 'action', 'scope', 'credential', 'issuer', 'status', 'nullifier', 'rx', 'pharmacy', 'qty', 'op', 'did', 'prev', 'next', 'index'], rawPath: '/ledger/v1/entries' },
    { name: 'witness', base: witness.banner.url, pid: witness.pid, routes: WITNESS, dbs: () => [join(work, 'witness.db')], auth: { valid: {}, others: garbage.slice(0, 2) }, members: [], rawPath: '/add-checkpoint' },
    { name: 'resolver', base: resolver.banner.url, pid: resolver.pid, routes: RESOLVER, auth: { valid: { accept: 'application/did+ld+json' }, others: [['Accept: garbage', { accept: '%%%/;;;q=abc, */*;q=-1' }], ['Accept: resolution', { accept: 'application/ld+json;profile="https://w3id.org/did-resolution"' }]] }, members: [], rawPath: '/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' },
    { name: 'container (patient)', base: alice.banner.url, pid: alice.pid, routes: [...UMA, ...GATE, ...APP, ...CONTAINER_WEB], dbs: files('alice-box'), members, warmup: [['GET', '/web/v1/prescriptions'], ['GET', '/owner/v1/policies']],
      auth: { valid: { authorization: `Bearer ${aliceBearer}`, ...web(aliceWeb) },
        // The protection API (resource registration, permission tickets, introspection) takes the PAT.
        validFor: (p) => (/^\/(uma\/resource_set|uma\/permission|introspect)/.test(p) ? { authorization: `Bearer ${alicePat}` } : { authorization: `Bearer ${aliceBearer}`, ...web(aliceWeb) }),
        others: [...garbage, ['another container\'s owner session', { authorization: `Bearer ${drBearer}` }], ['another container\'s cookie', web(drWeb)], ['her PAT where her session is due', { authorization: `Bearer ${alicePat}` }], ...cookieVariants(aliceWeb, 'the owner')] }, rawPath: '/owner/v1/policies' },
    { name: 'container (physician)', base: dr.banner.url, pid: dr.pid, routes: [...PHYSICIAN, ...CONTAINER_WEB.filter((r) => r[1] === 'GET' || r[3] === 'signout'), ...APP], dbs: files('dr-box'), members, warmup: [['GET', '/web/v1/physician/state']],
      auth: { valid: { authorization: `Bearer ${drBearer}`, ...web(drWeb) }, others: [...garbage, ['the patient\'s owner session', { authorization: `Bearer ${aliceBearer}` }], ['the patient\'s cookie', web(aliceWeb)], ...cookieVariants(drWeb, 'the physician')] }, rawPath: '/web/v1/physician/patients' },
    { name: 'host (/c/hal)', base: hostHal, pid: host.pid, routes: [...UMA.filter((r) => r[1] !== 'GET' || !r[2].startsWith('/fhir')), ...CONTAINER_WEB, ...MOUNTED, ...APP], dbs: files('hal-box'), members, light: true,
      auth: { valid: { authorization: `Bearer ${halBearer}` }, others: [...garbage.slice(0, 4), ['the other container\'s owner session', { authorization: `Bearer ${hbobBearer}` }]] }, rawPath: '/owner/v1/policies' },
    { name: 'society', base: society.banner.url, pid: society.pid, routes: SOCIETY, dbs: files('society'), members,
      auth: { valid: { authorization: `Bearer ${adminToken}`, ...web(clerk) }, others: [...garbage, ['the pharmacist\'s cookie', web(pharmacist)], ['an owner session', { authorization: `Bearer ${aliceBearer}` }], ...cookieVariants(clerk, 'the clerk')] }, rawPath: '/society/v1/licenses' },
    { name: 'pharmacy', base: pharmacy.banner.url, pid: pharmacy.pid, routes: PHARMACY, dbs: files('pharmacy'), members,
      auth: { valid: web(pharmacist), others: [...garbage, ['the clerk\'s cookie', web(clerk)], ['the admin token', { authorization: `Bearer ${adminToken}` }], ...cookieVariants(pharmacist, 'the pharmacist')] }, rawPath: '/pharmacy/v1/dispense' },
  ];
  const only = process.env.BAD_INPUT_ONLY ? new RegExp(process.env.BAD_INPUT_ONLY) : null;
  let total = 0;
  const counts = [];
  for (const srv of servers) {
    if (only && !only.test(srv.name)) continue;
    const ts = Date.now();
    const tally = new Tally(srv.name);
    const rss = await runServer(srv, tally);
    // BAD_INPUT_PASSES=n (n > 1, by hand): the battery again, to tell a leak (RSS still
    // growing) from allocator arenas reaching their size.
    for (let p = 1; p < Number(process.env.BAD_INPUT_PASSES || 1); p++) {
      const again = await runServer(srv, new Tally(srv.name));
      console.log(`# ${srv.name}: pass ${p + 1}: RSS ${Math.round(again.rssBefore / 1024)} → ${Math.round(again.rssAfter / 1024)} MiB`);
    }
    report(srv, tally, rss);
    console.log(`# ${srv.name}: ${((Date.now() - ts) / 1000).toFixed(1)} s`);
    total += tally.count;
    counts.push(`${srv.name} ${tally.count}`);
  }
  // Regressions, each on its own: the society's one connection served 64 challenges at once
  // (they overlapped their transactions: 503 "cannot start a transaction within a transaction").
  const burst = await Promise.all(Array.from({ length: 64 }, () => request(society.banner.url, { method: 'POST', path: '/society/v1/challenge', headers: { 'content-type': 'application/json' }, body: '{}' })));
  ok(burst.every((r) => r.status === 200), `64 simultaneous society challenges all 200 (${[...new Set(burst.map((r) => r.status))].join(' ')})`);
  // The owner-session check under load: a cookie used by many requests at once opens no second
  // owner session (the check shared a statement unlocked and judged her session dead).
  const aliceDb = sqliteFiles(join(work, 'alice-box')).find((f) => f.endsWith('consent.db'));
  const signins = () => (spawnSync('sqlite3', ['-readonly', aliceDb, "SELECT count(*) FROM disclosures WHERE entry LIKE '%owner.signin%'"], { encoding: 'utf8' }).stdout || '').trim();
  await request(alice.banner.url, { path: '/owner/v1/devices', headers: web(aliceWeb) }); // her first use opens one
  const s0 = signins();
  await Promise.all(Array.from({ length: 96 }, (_, i) => request(alice.banner.url, { path: i % 2 ? '/web/v1/prescriptions' : '/owner/v1/devices', headers: web(aliceWeb) })));
  ok(s0 !== '' && signins() === s0, `96 simultaneous cookie requests opened no new owner session (owner.signin entries ${s0} → ${signins()})`);
  // The witness's refusals and the resolver's failures are JSON errors too.
  const wr = await request(witness.banner.url, { method: 'POST', path: '/add-checkpoint', headers: { 'content-type': 'text/plain' }, body: 'old x\n' });
  ok(wr.status === 400 && wr.json?.error === 'invalid_request' && typeof wr.json?.error_description === 'string', `a witness refusal is a JSON error (${wr.status} ${wr.text.slice(0, 100)})`);
  const rr = await request(resolver.banner.url, { path: '/1.0/identifiers/did:nope' });
  ok(rr.status >= 400 && rr.status < 500 && typeof rr.json?.error === 'string' && typeof rr.json?.error_description === 'string' && rr.json?.didResolutionMetadata?.error === rr.json?.error,
    `a failed resolution carries "error" and "error_description" next to didResolutionMetadata (${rr.status} ${rr.json?.error})`);

  // After everything: each still answers a plain request, and each valid session still works.
  const still = await Promise.all([
    request(ledger.banner.url, { path: '/ledger/v1/checkpoint' }),
    request(alice.banner.url, { path: '/owner/v1/policies', headers: { authorization: `Bearer ${aliceBearer}` } }),
    request(new URL(hostHal).origin, { path: new URL(hostHal).pathname + '/owner/v1/policies', headers: { authorization: `Bearer ${halBearer}` } }),
    request(society.banner.url, { path: '/society/v1/licenses', headers: { authorization: `Bearer ${adminToken}` } }),
    request(pharmacy.banner.url, { method: 'POST', path: '/pharmacy/v1/challenge', headers: { 'content-type': 'application/json' }, body: '{}' }),
    request(resolver.banner.url, { path: RESOLVER[0][2] }),
  ]);
  ok(still.every((r) => r.status === 200), `afterwards every role answers a good request (${still.map((r) => r.status).join(' ')})`);
  const children0 = [ledger, witness, resolver, society, pharmacy, alice, dr, host];
  ok(children0.every((c) => c.child.exitCode === null && c.child.signalCode === null), 'no server exited', children0.filter((c) => c.child.exitCode !== null || c.child.signalCode !== null).map((c) => `${c.name}: ${c.child.exitCode ?? c.child.signalCode}\n${c.stderr().slice(-1500)}`).join('\n'));
  console.log(`# requests: ${counts.join(', ')}; ${total} in all, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail === 0 ? 0 : 1);
})().catch((e) => { console.error(e); console.log(`${pass} passed, ${fail + 1} failed`); process.exit(1); });
