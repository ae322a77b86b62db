#!/usr/bin/env node
// Independent UMA 2.0 client for the authorization server and FHIR resource server, written from
// the specifications only (never from our server sources):
//   - Kantara "UMA 2.0 Grant for OAuth 2.0 Authorization" (2018)              cited as  UMA §x
//   - Kantara "Federated Authorization for UMA 2.0" (2018)                     cited as  FedAuthz §x
//   - RFC 6749 (OAuth 2.0), RFC 6750 (Bearer), RFC 7591 (dynamic registration), RFC 7662
//     (introspection), RFC 7009 (revocation), RFC 8414 (AS metadata), RFC 7235 (HTTP auth syntax)
//   - W3C "Securing Verifiable Credentials using JOSE and COSE" (vp+jwt)      cited as  VC-JOSE §x
// plus the server's documented protocol choices: the two claim token formats
// urn:medallion:uma:claim-token-format:did-auth-jwt and urn:medallion:uma:claim-token-format:vp-jwt,
// client_secret_basic everywhere, a PAT by client_credentials for the resource server.
//
//   node tests/interop/uma_client.mjs <path-to-uma_fixture-binary>
//
// The fixture is spawned without arguments; its first stdout line is a JSON description
// (base_url, record, forbidden_path, physician, stranger, license, revoked_license,
// resource_server, purpose). It serves HTTP until its stdin closes or it gets SIGTERM; it is
// always stopped at the end, also on failure, exception or the 120 s watchdog.
//
// Cases:
//  0. Fixture sanity: each did:key encodes the public half of its private_jwk, kid = did#...,
//     both licenses name physician.did. (Plus a self-test of the WWW-Authenticate parser.)
//  1. Discovery (UMA §2, FedAuthz §2, RFC 8414 §2/§3): every endpoint we use is present, issuer is
//     base_url; response_types_supported present, advertised grant types/auth methods consistent.
//  2. Unauthenticated GET of the record -> 401, WWW-Authenticate: UMA realm, as_uri = issuer,
//     ticket (UMA §3.2.1), parsed per RFC 7235 §2.1 (quoted-string, several challenges).
//  3. RFC 7591 registration -> 201, client_id/client_secret (+ client_secret_expires_at, echoed
//     grant_types); asking for scope uma_protection without an initial access token -> 401 with a
//     Bearer challenge; a registered UMA client cannot get a PAT by client_credentials.
//  4. Token request with the ticket and no claims -> 403 need_info, a new ticket, required_claims
//     whose claim_token_format arrays name both formats (UMA §3.3.6).
//  5. The new ticket + a vp+jwt of the license -> 200, Bearer RPT (following need_info at most 3
//     rounds, always with the newest ticket); the response is JSON with Cache-Control: no-store.
//  6. GET of the record with the RPT -> 200 MedicationRequest with the fixture's id.
//  7. GET forbidden_path with the RPT -> 401 with a fresh ticket; that ticket with the same claims
//     is never granted (request_denied or need_info).
//  8. PAT by client_credentials; introspection of the RPT -> active, permissions with "read", no
//     scope member (FedAuthz §5.1.1); the permission's resource is registered (FedAuthz §3.2);
//     introspection without a PAT -> 401; with the RPT in place of a PAT -> 401/403.
//  9. Revocation (RFC 7009): another client's attempt leaves the RPT active; the owner client's
//     -> 200; then the record GET -> 401 with a UMA challenge, introspection -> active false.
// 10. Refusals, each from a fresh ticket: (a) ticket reuse -> 400 invalid_grant, also the ticket
//     that earned the RPT; (b) claim token for another audience -> need_info; (c) nonce = another
//     ticket; (d) revoked license; (e) vp+jwt signed by the stranger under the physician's kid;
//     (f) the stranger's did-auth-jwt -> request_denied/need_info with no policy details in the
//     error bodies; (g) alg none; (h) wrong client secret -> 401 invalid_client + Basic challenge;
//     (i) an expired claim token.
// 11. Every token-endpoint error body seen in the run has only RFC 6749 §5.2 / UMA §3.3.6 members.
// The last line printed is exactly "N passed, M failed"; the exit code is non-zero on failure.

import { spawn } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

let jose;
try {
  jose = await import('jose');
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${HERE}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const FIXTURE = process.argv[2];
if (!FIXTURE || !fs.existsSync(FIXTURE)) {
  console.log('usage: node uma_client.mjs <path-to-uma_fixture-binary>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const RUN_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;
const HTTP_TIMEOUT_MS = 15_000;
const MAX_FAILURE_DETAILS = 25;
const MAX_NEED_INFO_ROUNDS = 3;
const CLAIM_TOKEN_LIFETIME_S = 300;
const UMA_GRANT = 'urn:ietf:params:oauth:grant-type:uma-ticket';
const FMT_DID_AUTH = 'urn:medallion:uma:claim-token-format:did-auth-jwt';
const FMT_VP_JWT = 'urn:medallion:uma:claim-token-format:vp-jwt';
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const ELSEWHERE = 'https://elsewhere.example';
// Members a token-endpoint error body may carry: RFC 6749 §5.2 (error, error_description,
// error_uri) and UMA §3.3.6 (ticket, required_claims, redirect_user, interval). None of them is a
// place for policy identifiers or other details of the resource owner's policy.
const ERROR_MEMBERS = new Set(['error', 'error_description', 'error_uri', 'ticket', 'required_claims', 'redirect_user',
  'interval']);

// ---------------------------------------------------------------------------------------------
// Bookkeeping.

let passed = 0;
let failed = 0;
const failures = [];
function ok(name) {
  passed++;
  console.log(`  ok  ${name}`);
}
function fail(name, detail) {
  failed++;
  failures.push(`${name}: ${detail}`);
  if (failures.length <= MAX_FAILURE_DETAILS) console.log(`FAIL  ${name}\n      ${String(detail).slice(0, 1500)}`);
}
// A missing prerequisite (an earlier step failed) is reported as a plain message, not a stack.
class Missing extends Error {}
function need(value, what) {
  if (value === null || value === undefined) throw new Missing(`not run: no ${what} (an earlier step failed)`);
  return value;
}
// Once the run is finishing (watchdog, signal) results are frozen: nothing more is counted.
async function check(name, fn) {
  if (finished) return;
  try {
    const r = await fn();
    if (finished) return;
    if (r === true || r === undefined) ok(name);
    else fail(name, typeof r === 'string' ? r : JSON.stringify(r));
  } catch (e) {
    if (finished) return;
    if (e instanceof Missing) fail(name, e.message);
    else fail(name, `threw ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The fixture process: spawned once, always stopped (normal end, exception, watchdog, signal).

let fixture = null;
let finished = false;

function startFixture() {
  return new Promise((resolve, reject) => {
    const child = spawn(FIXTURE, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const state = { child, alive: true, exited: null };
    state.exited = new Promise((res) => child.once('exit', (code, signal) => {
      state.alive = false;
      res({ code, signal });
    }));
    fixture = state;
    let buf = '';
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`fixture printed no ready line within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS);
    function settle(err, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    }
    child.once('error', (e) => {
      state.alive = false;
      settle(new Error(`cannot start the fixture: ${e.message}`));
    });
    child.once('exit', (code, signal) => settle(new Error(`fixture exited before it was ready (code ${code}, signal ${signal})`)));
    child.stdin.on('error', () => {}); // EPIPE when it has already gone
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (settled) return; // keep draining so the pipe never fills
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 1 << 20) settle(new Error('fixture printed 1 MiB without a newline'));
        return;
      }
      const line = buf.slice(0, nl).trim();
      try {
        settle(null, JSON.parse(line));
      } catch {
        settle(new Error(`fixture's first line is not JSON: ${line.slice(0, 300)}`));
      }
    });
  });
}

const sleep = (ms, value) => new Promise((res) => setTimeout(res, ms, value));

async function stopFixture() {
  if (!fixture || !fixture.alive) return;
  try {
    fixture.child.stdin.end();
  } catch {
    // already closed
  }
  fixture.child.kill('SIGTERM');
  if ((await Promise.race([fixture.exited, sleep(5000, 'timeout')])) === 'timeout' && fixture.alive) {
    fixture.child.kill('SIGKILL');
    await Promise.race([fixture.exited, sleep(2000)]);
  }
}
process.on('exit', () => {
  if (fixture && fixture.alive) {
    try {
      fixture.child.kill('SIGKILL');
    } catch {
      // nothing left to do
    }
  }
});

async function finish(extra) {
  if (finished) return;
  if (extra) fail(extra[0], extra[1]);
  finished = true;
  const summary = `${passed} passed, ${failed} failed`;
  const code = failed === 0 && passed > 0 ? 0 : 1;
  await stopFixture();
  if (failures.length > MAX_FAILURE_DETAILS) console.log(`... and ${failures.length - MAX_FAILURE_DETAILS} more failures`);
  console.log(summary);
  process.exit(code);
}
setTimeout(() => finish(['run', `watchdog: the whole run exceeded ${RUN_TIMEOUT_MS / 1000} s`]), RUN_TIMEOUT_MS).unref();
process.on('SIGINT', () => finish(['run', 'interrupted (SIGINT)']));
process.on('SIGTERM', () => finish(['run', 'terminated (SIGTERM)']));

// ---------------------------------------------------------------------------------------------
// Encodings.

const now = () => Math.floor(Date.now() / 1000);
const b64u = (s) => Buffer.from(s).toString('base64url');

// RFC 6749 §2.3.1 / Appendix B: client_id and client_secret are each encoded with the
// application/x-www-form-urlencoded algorithm, then "id:secret" is the Basic credential (RFC 7617).
const formEncode = (s) => new URLSearchParams([['x', s]]).toString().slice(2);
const basicAuth = (id, secret) => `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btcDecode(s) {
  let n = 0n;
  for (const c of s) {
    const v = B58.indexOf(c);
    if (v < 0) throw new Error(`not base58btc: ${c}`);
    n = n * 58n + BigInt(v);
  }
  const out = [];
  while (n > 0n) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of s) {
    if (c !== '1') break;
    out.unshift(0);
  }
  return Buffer.from(out);
}
// did:key with an Ed25519 key: multibase 'z' (base58btc) of varint 0xed 0x01 + 32 key bytes.
function didKeyEd25519(did) {
  const m = /^did:key:z([1-9A-HJ-NP-Za-km-z]+)$/.exec(did || '');
  if (!m) throw new Error(`not a did:key: ${did}`);
  const bytes = base58btcDecode(m[1]);
  if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) throw new Error(`not an Ed25519 did:key: ${did}`);
  return bytes.subarray(2);
}

// RFC 7235 §2.1 / §4.1: WWW-Authenticate = 1#challenge; challenge = auth-scheme [ 1*SP ( token68 /
// #auth-param ) ]; auth-param = token BWS "=" BWS ( token / quoted-string ); quoted-string and
// quoted-pair per RFC 7230 §3.2.6. Scheme and parameter names are case-insensitive; a parameter
// name occurs at most once per challenge. fetch() joins repeated header fields with ", ", which
// is the same list syntax, so several challenges in one string are handled.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
function parseWwwAuthenticate(s) {
  const challenges = [];
  let i = 0;
  const ows = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i])) i++;
    return s.slice(start, i);
  };
  const quoted = () => {
    i++; // opening DQUOTE
    let out = '';
    while (i < s.length) {
      const c = s[i++];
      if (c === '"') return out;
      if (c === '\\') {
        if (i >= s.length) break;
        out += s[i++];
      } else {
        out += c;
      }
    }
    throw new Error('unterminated quoted-string');
  };
  while (i < s.length) {
    ows();
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (i >= s.length) break;
    const scheme = token();
    if (!scheme) throw new Error(`expected an auth-scheme at offset ${i}: ${JSON.stringify(s)}`);
    const challenge = { scheme: scheme.toLowerCase(), params: {}, token68: null };
    challenges.push(challenge);
    ows();
    if (i >= s.length || s[i] === ',') continue; // a challenge without parameters
    // token68, when what follows the scheme is a single token68 ending the challenge.
    const t68 = /^[A-Za-z0-9\-._~+/]+=*/.exec(s.slice(i));
    if (t68) {
      let k = i + t68[0].length;
      while (k < s.length && (s[k] === ' ' || s[k] === '\t')) k++;
      if (k >= s.length || s[k] === ',') {
        challenge.token68 = t68[0];
        i = k;
        continue;
      }
    }
    for (;;) {
      ows();
      const save = i;
      const name = token();
      ows();
      if (!name || s[i] !== '=') {
        i = save; // the start of the next challenge
        break;
      }
      i++;
      ows();
      const value = s[i] === '"' ? quoted() : token();
      const key = name.toLowerCase();
      if (Object.hasOwn(challenge.params, key)) throw new Error(`parameter ${key} repeated in one challenge`);
      challenge.params[key] = value;
      ows();
      if (i >= s.length) break;
      if (s[i] !== ',') throw new Error(`unexpected ${JSON.stringify(s[i])} at offset ${i}: ${JSON.stringify(s)}`);
      while (i < s.length && (s[i] === ',' || s[i] === ' ' || s[i] === '\t')) i++; // empty list elements
    }
  }
  return challenges;
}

// ---------------------------------------------------------------------------------------------
// HTTP.

const tokenErrorBodies = []; // every token-endpoint error response, for case 11
const seenTickets = new Set();

async function http(method, url, { form, json, bearer, client, accept = 'application/json' } = {}) {
  const headers = { accept };
  let body;
  if (form) {
    const pairs = Object.entries(form).filter(([, v]) => v !== undefined && v !== null);
    body = new URLSearchParams(pairs).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers['content-type'] = 'application/json';
  }
  if (bearer) headers.authorization = `Bearer ${bearer}`; // RFC 6750 §2.1
  if (client) headers.authorization = basicAuth(client.client_id, client.client_secret);
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON; left null
  }
  return { method, url, status: res.status, headers: res.headers, text, json: parsed };
}
const show = (r) => `${r.method} ${r.url} -> ${r.status} ${(r.text || '').slice(0, 400)}`;
const isJson = (r) => /^application\/([a-z0-9.+-]*\+)?json\b/i.test(r.headers.get('content-type') || '');
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function umaChallenge(r) {
  const v = r.headers.get('www-authenticate');
  if (!v) return null;
  return parseWwwAuthenticate(v).find((c) => c.scheme === 'uma') || null;
}
function hasChallenge(r, scheme) {
  const v = r.headers.get('www-authenticate');
  return !!v && parseWwwAuthenticate(v).some((c) => c.scheme === scheme);
}

// ---------------------------------------------------------------------------------------------
// Claim tokens.

async function signJws(header, payload, key) {
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
}
function times(offset = 0) {
  const iat = now() + offset;
  return { iat, exp: iat + CLAIM_TOKEN_LIFETIME_S };
}

// did-auth-jwt (server profile): proves control of the DID; nonce binds it to the ticket sent in
// the same token request, aud to this AS (UMA §5.7 asks servers not to ignore audience).
async function didAuthJwt(party, opts = {}) {
  const who = need(party, 'party keys (fixture sanity failed)');
  const { nonce, aud = need(meta, 'discovery').issuer, key = who.key, kid = who.kid, did = who.did, at = times() } = opts;
  const payload = { iss: did, sub: did, aud, nonce, ...at, jti: crypto.randomUUID(), purpose_of_use: PURPOSE };
  return { format: FMT_DID_AUTH, token: await signJws({ alg: 'EdDSA', kid, typ: 'did-auth+jwt' }, payload, key) };
}

// vp+jwt (VC-JOSE §3.1.2): the JWT Claims Set is the VerifiablePresentation itself, typ vp+jwt.
// Note: VC-JOSE §3.1.2 says credentials inside a vp+jwt "MUST use the Enveloped Verifiable
// Credential type"; the server's profile instead embeds the Data-Integrity-secured license object
// as given (its proof secures it from the inside), so that is what is sent here.
function presentation(holder, credential, { nonce, aud, at }) {
  return {
    '@context': [VC_V2],
    type: ['VerifiablePresentation'],
    holder,
    verifiableCredential: [credential],
    iss: holder,
    aud,
    nonce,
    ...at,
    jti: crypto.randomUUID(),
    purpose_of_use: PURPOSE,
  };
}
async function vpJwt(party, credential, opts = {}) {
  const who = need(party, 'party keys (fixture sanity failed)');
  const { nonce, aud = need(meta, 'discovery').issuer, key = who.key, kid = who.kid, did = who.did, at = times() } = opts;
  const payload = presentation(did, credential, { nonce, aud, at });
  return { format: FMT_VP_JWT, token: await signJws({ alg: 'EdDSA', kid, typ: 'vp+jwt' }, payload, key) };
}
// RFC 7519 §6.1 unsecured JWT: {"alg":"none"} and an empty signature part.
function unsecuredVpJwt(party, credential, { nonce }) {
  const who = need(party, 'party keys (fixture sanity failed)');
  const header = { alg: 'none', kid: who.kid, typ: 'vp+jwt' };
  const payload = presentation(who.did, credential, { nonce, aud: meta.issuer, at: times() });
  return { format: FMT_VP_JWT, token: `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.` };
}

// ---------------------------------------------------------------------------------------------
// UMA client steps.

// UMA §3.1/§3.2: a tokenless request gets 401 with a permission ticket.
async function freshTicket() {
  const r = await http('GET', RECORD_URL, { accept: 'application/fhir+json' });
  if (r.status !== 401) throw new Error(`tokenless GET of the record: expected 401, got ${show(r)}`);
  const c = umaChallenge(r);
  if (!c || !c.params.ticket) throw new Error(`tokenless GET of the record: no UMA ticket in ${r.headers.get('www-authenticate')}`);
  seenTickets.add(c.params.ticket);
  return c.params.ticket;
}

// UMA §3.3.1: POST to the token endpoint, application/x-www-form-urlencoded, client_secret_basic.
async function tokenRequest(params, creds = client) {
  const r = await http('POST', need(meta, 'discovery').token_endpoint, { form: params, client: creds });
  if (r.status >= 400) tokenErrorBodies.push(r);
  return r;
}

// UMA §3.3.1 with optional claim pushing; on need_info (UMA §3.3.6) continue with the NEW ticket,
// at most MAX_NEED_INFO_ROUNDS further requests. makeClaim(ticket) builds the claim token for the
// ticket of that very request (its nonce).
async function negotiate(ticket, makeClaim, creds = client) {
  const steps = [];
  let current = ticket;
  for (let round = 0; ; round++) {
    const params = { grant_type: UMA_GRANT, ticket: current };
    if (makeClaim) {
      const c = await makeClaim(current);
      params.claim_token = c.token;
      params.claim_token_format = c.format;
    }
    const r = await tokenRequest(params, creds);
    steps.push(r);
    const next = r.status === 403 && r.json && r.json.error === 'need_info' ? r.json.ticket : null;
    if (typeof next === 'string' && next) seenTickets.add(next);
    if (typeof next !== 'string' || !next || round >= MAX_NEED_INFO_ROUNDS) return { final: r, steps, ticket: current };
    // UMA §3.3.6: the new ticket "MUST NOT be the same as the one the client used".
    if (next === current) return { final: r, steps, ticket: current, repeated: true };
    current = next;
  }
}
const granted = (steps) => steps.find((s) => s.status === 200 || (s.json && s.json.access_token));

// A refusal from the token endpoint: no RPT, a 4xx status, an RFC 6749 §5.2 error object.
function refusal(n, { expect } = {}) {
  const g = granted(n.steps);
  if (g) return `granted: ${show(g)}`;
  const r = n.final;
  if (r.status < 400 || r.status > 499) return `expected a 4xx refusal, got ${show(r)}`;
  if (!r.json || typeof r.json.error !== 'string') return `refusal without an RFC 6749 §5.2 error object: ${show(r)}`;
  if (expect && !expect.includes(r.json.error)) return `expected ${expect.join(' or ')}, got ${show(r)}`;
  return true;
}

async function introspect(token, { bearer } = {}) {
  return http('POST', need(meta, 'discovery').introspection_endpoint, { form: { token }, bearer });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  // -------------------------------------------------------------------------------------------
  // 0. Fixture sanity and parser self-test.

  await check('0a. WWW-Authenticate parser (RFC 7235 §2.1): UMA example, quoted-pair, several challenges', () => {
    const a = parseWwwAuthenticate('UMA realm="example",\n  as_uri="https://as.example.com",\n  ticket="016f84e8-f9b9-11e0-bd6f-0021cc6004de"'.replace(/\n/g, ''));
    if (a.length !== 1 || a[0].scheme !== 'uma' || a[0].params.ticket !== '016f84e8-f9b9-11e0-bd6f-0021cc6004de' ||
      a[0].params.as_uri !== 'https://as.example.com' || a[0].params.realm !== 'example') return JSON.stringify(a);
    const b = parseWwwAuthenticate('Basic realm="x y", Bearer error="invalid_token", error_description="a, \\"b\\"", ' +
      'Uma REALM=r ,Ticket="t=1", Negotiate abc==, Foo');
    const want = [['basic', { realm: 'x y' }], ['bearer', { error: 'invalid_token', error_description: 'a, "b"' }],
      ['uma', { realm: 'r', ticket: 't=1' }], ['negotiate', {}], ['foo', {}]];
    if (b.length !== want.length) return JSON.stringify(b);
    for (let i = 0; i < want.length; i++) {
      if (b[i].scheme !== want[i][0] || JSON.stringify(b[i].params) !== JSON.stringify(want[i][1])) return JSON.stringify(b);
    }
    return b[3].token68 === 'abc==' || JSON.stringify(b[3]);
  });

  await check('0b. fixture: did:key of each party encodes its private_jwk, kid = did#..., licenses name physician.did', async () => {
    PHYS = await party(FX.physician);
    STRANGER = await party(FX.stranger);
    for (const [label, p] of [['physician', PHYS], ['stranger', STRANGER]]) {
      const pub = didKeyEd25519(p.did);
      if (p.jwk.kty !== 'OKP' || p.jwk.crv !== 'Ed25519' || !p.jwk.d) return `${label}: private_jwk is not an Ed25519 private JWK`;
      if (!pub.equals(Buffer.from(p.jwk.x, 'base64url'))) return `${label}: did:key does not encode private_jwk.x`;
      const derived = crypto.createPublicKey({ key: p.jwk, format: 'jwk' }).export({ format: 'jwk' });
      if (derived.x !== p.jwk.x) return `${label}: private_jwk.d does not match x`;
      if (typeof p.kid !== 'string' || !p.kid.startsWith(`${p.did}#`)) return `${label}: kid ${p.kid} is not a fragment of ${p.did}`;
    }
    if (PHYS.did === STRANGER.did) return 'physician and stranger are the same DID';
    for (const k of ['license', 'revoked_license']) {
      const subj = FX[k] && FX[k].credentialSubject;
      const ids = (Array.isArray(subj) ? subj : [subj]).map((s) => s && s.id);
      if (!ids.includes(PHYS.did)) return `${k}.credentialSubject.id is not physician.did`;
    }
    if (!isObject(FX.resource_server) || !FX.resource_server.client_id || !FX.resource_server.client_secret) return 'no resource_server credentials';
    if (!RECORD_TYPE || !RECORD_ID) return `record ${FX.record} is not Type/id`;
    return true;
  });

  // -------------------------------------------------------------------------------------------
  // 1. Discovery: UMA §2 (document at issuer + /.well-known/uma2-configuration, RFC 8414 shape),
  //    FedAuthz §2 (permission_endpoint, resource_registration_endpoint REQUIRED; introspection_
  //    endpoint when supported), RFC 8414 §2 (registration_, revocation_endpoint), §3.2 (JSON).

  const ENDPOINTS = ['token_endpoint', 'registration_endpoint', 'introspection_endpoint', 'revocation_endpoint',
    'permission_endpoint', 'resource_registration_endpoint'];
  await check('1a. discovery: every endpoint present as an absolute URL; issuer equals base_url (RFC 8414 §3.3)', async () => {
    const r = await http('GET', `${BASE}/.well-known/uma2-configuration`);
    if (r.status !== 200) return show(r);
    if (!isJson(r)) return `Content-Type ${r.headers.get('content-type')} is not JSON (RFC 8414 §3.2)`;
    if (!isObject(r.json)) return `not a JSON object: ${r.text.slice(0, 200)}`;
    meta = r.json; // kept even if incomplete, so later cases can use the endpoints it does have
    const bad = ['issuer', ...ENDPOINTS].filter((f) => {
      try {
        return !['http:', 'https:'].includes(new URL(r.json[f]).protocol);
      } catch {
        return true;
      }
    });
    if (bad.length) return `missing or not absolute URLs: ${bad.join(', ')}`;
    if (meta.issuer !== FX.base_url) return `issuer ${JSON.stringify(meta.issuer)} != base_url ${JSON.stringify(FX.base_url)}`;
    const u = new URL(meta.issuer);
    if (u.search || u.hash) return 'issuer has a query or fragment (RFC 8414 §2)';
    return true;
  });

  await check('1b. discovery: response_types_supported present (RFC 8414 §2 REQUIRED); advertised grant types and ' +
    'token endpoint auth methods include the ones this client relies on', () => {
    const m = need(meta, 'discovery');
    if (!Array.isArray(m.response_types_supported)) return 'response_types_supported missing (REQUIRED by RFC 8414 §2)';
    if (m.grant_types_supported !== undefined) {
      if (!Array.isArray(m.grant_types_supported)) return 'grant_types_supported is not an array';
      for (const g of [UMA_GRANT, 'client_credentials']) {
        if (!m.grant_types_supported.includes(g)) return `grant_types_supported lacks ${g}`;
      }
    }
    for (const f of ['token_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported']) {
      if (m[f] !== undefined && (!Array.isArray(m[f]) || !m[f].includes('client_secret_basic'))) return `${f} lacks client_secret_basic`;
    }
    return true;
  });

  // -------------------------------------------------------------------------------------------
  // 2. UMA §3.1/§3.2.1: the tokenless request.

  let ticket0 = null;
  await check('2. GET of the record without a token -> 401, WWW-Authenticate: UMA with realm, as_uri = issuer, ticket', async () => {
    const r = await http('GET', RECORD_URL, { accept: 'application/fhir+json' });
    if (r.status !== 401) return show(r);
    const raw = r.headers.get('www-authenticate');
    if (!raw) return 'no WWW-Authenticate header';
    const c = umaChallenge(r);
    if (!c) return `no UMA challenge in ${raw}`;
    if (typeof c.params.realm !== 'string') return `no realm in ${raw}`;
    const issuer = meta ? meta.issuer : FX.base_url;
    if (c.params.as_uri !== issuer) return `as_uri ${c.params.as_uri} != issuer ${issuer}`;
    if (!c.params.ticket) return `no ticket in ${raw}`;
    if (/"resourceType"\s*:\s*"MedicationRequest"/.test(r.text)) return 'the 401 body carries the record';
    ticket0 = c.params.ticket;
    seenTickets.add(ticket0);
    return true;
  });

  // -------------------------------------------------------------------------------------------
  // 3. RFC 7591 dynamic registration of the requesting client.

  const registration = {
    client_name: 'medallion independent UMA client',
    grant_types: [UMA_GRANT],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  let regResponse = null;
  await check('3a. RFC 7591 registration -> 201 with client_id and client_secret (§3.2.1)', async () => {
    const r = await http('POST', need(meta, 'discovery').registration_endpoint, { json: registration });
    regResponse = r;
    if (r.status !== 201) return show(r);
    if (!isObject(r.json) || typeof r.json.client_id !== 'string' || !r.json.client_id) return `no client_id: ${show(r)}`;
    if (typeof r.json.client_secret !== 'string' || !r.json.client_secret) return `no client_secret: ${show(r)}`;
    client = { client_id: r.json.client_id, client_secret: r.json.client_secret };
    return true;
  });

  await check('3b. registration response: client_secret_expires_at present, registered grant_types echoed (RFC 7591 §3.2.1)', () => {
    const j = need(client && regResponse.json, 'registration');
    if (typeof j.client_secret_expires_at !== 'number') return 'client_secret_expires_at missing (REQUIRED when a secret is issued)';
    if (!isJson(regResponse)) return `Content-Type ${regResponse.headers.get('content-type')}`;
    if (!Array.isArray(j.grant_types) || !j.grant_types.includes(UMA_GRANT)) return `grant_types not echoed: ${JSON.stringify(j.grant_types)}`;
    return true;
  });

  let protectedReg = null;
  await check('3c. registration asking for scope uma_protection without an initial access token -> 401', async () => {
    const r = await http('POST', need(meta, 'discovery').registration_endpoint,
      { json: { ...registration, client_name: 'wants a PAT', scope: 'uma_protection' } });
    protectedReg = r;
    if (r.status !== 401) return show(r);
    if (r.json && (r.json.client_id || r.json.client_secret)) return `credentials issued anyway: ${show(r)}`;
    return true;
  });

  await check('3d. that 401 carries a Bearer challenge (RFC 7591 §3 initial access token is an RFC 6750 token; RFC 6750 §3)', () => {
    const r = need(protectedReg, 'refused registration');
    if (r.status !== 401) throw new Missing('not run: the registration was not refused with 401');
    return hasChallenge(r, 'bearer') || `WWW-Authenticate: ${r.headers.get('www-authenticate')}`;
  });

  await check('3e. the dynamically registered UMA client cannot get a PAT (client_credentials, scope uma_protection)', async () => {
    const r = await tokenRequest({ grant_type: 'client_credentials', scope: 'uma_protection' }, need(client, 'client'));
    if (r.status === 200 || (r.json && r.json.access_token)) return `PAT issued: ${show(r)}`;
    return (r.status >= 400 && r.status <= 499) || show(r);
  });

  // -------------------------------------------------------------------------------------------
  // 4. UMA §3.3.1 without claims -> §3.3.6 need_info.

  let ticket1 = null;
  await check('4. token request with the ticket and no claims -> 403 need_info, new ticket, required_claims naming both formats', async () => {
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: need(ticket0, 'initial ticket') }, need(client, 'client'));
    if (r.status !== 403) return show(r);
    const j = r.json;
    if (!isObject(j) || j.error !== 'need_info') return show(r);
    if (typeof j.ticket !== 'string' || !j.ticket) return `no ticket: ${show(r)}`;
    if (j.ticket === ticket0) return 'need_info returned the same ticket (UMA §3.3.6: MUST NOT be the same)';
    seenTickets.add(j.ticket);
    ticket1 = j.ticket;
    if (!Array.isArray(j.required_claims) || j.required_claims.length === 0) return `required_claims empty or missing: ${show(r)}`;
    const formats = new Set();
    for (const rc of j.required_claims) {
      if (!isObject(rc) || !Array.isArray(rc.claim_token_format) || !rc.claim_token_format.every((f) => typeof f === 'string')) {
        return `required_claims entry without a claim_token_format array of strings: ${JSON.stringify(rc)}`;
      }
      rc.claim_token_format.forEach((f) => formats.add(f));
    }
    for (const f of [FMT_DID_AUTH, FMT_VP_JWT]) if (!formats.has(f)) return `no required_claims entry accepts ${f}: ${r.text}`;
    return true;
  });

  // -------------------------------------------------------------------------------------------
  // 5. Claim pushing (UMA §3.3.1) -> RPT (UMA §3.3.5, RFC 6749 §5.1).

  let rpt = null;
  let rptTicket = null; // the ticket of the request that returned the RPT
  let rptResponse = null;
  await check('5a. token request with the new ticket and a vp+jwt of the license -> 200 with a Bearer RPT', async () => {
    const n = await negotiate(need(ticket1, 'need_info ticket'), (t) => vpJwt(PHYS, FX.license, { nonce: t }));
    const r = n.final;
    if (n.repeated) return `need_info repeated the ticket: ${show(r)}`;
    if (r.status !== 200) return `after ${n.steps.length} request(s): ${show(r)}`;
    if (!isObject(r.json) || typeof r.json.access_token !== 'string' || !r.json.access_token) return `no access_token: ${show(r)}`;
    // RFC 6749 §5.1: token_type is case insensitive.
    if (typeof r.json.token_type !== 'string' || r.json.token_type.toLowerCase() !== 'bearer') return `token_type ${r.json.token_type}`;
    if (r.json.expires_in !== undefined && !(Number.isInteger(r.json.expires_in) && r.json.expires_in > 0)) return `expires_in ${r.json.expires_in}`;
    if (r.json.pct !== undefined && typeof r.json.pct !== 'string') return 'pct is not a string';
    rpt = r.json.access_token;
    rptTicket = n.ticket;
    rptResponse = r;
    return true;
  });

  await check('5b. the RPT response is application/json with Cache-Control: no-store (RFC 6749 §5.1)', () => {
    const r = need(rptResponse, 'RPT');
    if (!isJson(r)) return `Content-Type ${r.headers.get('content-type')}`;
    return /(^|,)\s*no-store\s*(,|$)/i.test(r.headers.get('cache-control') || '') || `Cache-Control: ${r.headers.get('cache-control')}`;
  });

  // -------------------------------------------------------------------------------------------
  // 6. UMA §3.4: the resource request with the RPT (RFC 6750 §2.1).

  await check('6. GET of the record with the RPT -> 200 FHIR JSON, resourceType MedicationRequest and the fixture\'s id', async () => {
    const r = await http('GET', RECORD_URL, { bearer: need(rpt, 'RPT'), accept: 'application/fhir+json' });
    if (r.status !== 200) return show(r);
    if (!isObject(r.json)) return `not JSON: ${r.text.slice(0, 200)}`;
    if (r.json.resourceType !== 'MedicationRequest' || r.json.resourceType !== RECORD_TYPE) return `resourceType ${r.json.resourceType}`;
    return r.json.id === RECORD_ID || `id ${r.json.id} != ${RECORD_ID}`;
  });

  // -------------------------------------------------------------------------------------------
  // 7. UMA §3.5: an RPT with insufficient permissions is treated as no token (§3.2): 401 + ticket.

  let forbiddenTicket = null;
  await check('7a. GET of forbidden_path with the RPT -> 401 with a fresh UMA ticket', async () => {
    const r = await http('GET', FORBIDDEN_URL, { bearer: need(rpt, 'RPT'), accept: 'application/fhir+json' });
    if (r.status !== 401) return show(r);
    const c = umaChallenge(r);
    if (!c || !c.params.ticket) return `no UMA ticket in ${r.headers.get('www-authenticate')}`;
    if (meta && c.params.as_uri !== meta.issuer) return `as_uri ${c.params.as_uri}`;
    if (seenTickets.has(c.params.ticket)) return 'the ticket is not fresh (seen before in this run)';
    seenTickets.add(c.params.ticket);
    forbiddenTicket = c.params.ticket;
    return true;
  });

  await check('7b. that ticket with the same license vp+jwt is never granted (final request_denied or need_info)', async () => {
    const n = await negotiate(need(forbiddenTicket, 'forbidden ticket'), (t) => vpJwt(PHYS, FX.license, { nonce: t }));
    if (n.final.status !== 403) {
      const g = granted(n.steps);
      return g ? `granted: ${show(g)}` : show(n.final);
    }
    return refusal(n, { expect: ['request_denied', 'need_info'] });
  });

  // -------------------------------------------------------------------------------------------
  // 8. FedAuthz §1.3/§5: PAT and introspection (RFC 7662).

  let pat = null;
  let permission = null;
  await check('8a. the resource server gets a PAT: client_credentials with scope uma_protection (FedAuthz §1.2, RFC 6749 §4.4)', async () => {
    const r = await tokenRequest({ grant_type: 'client_credentials', scope: 'uma_protection' }, FX.resource_server);
    if (r.status !== 200) return show(r);
    if (!isObject(r.json) || typeof r.json.access_token !== 'string' || !r.json.access_token) return show(r);
    if (String(r.json.token_type).toLowerCase() !== 'bearer') return `token_type ${r.json.token_type}`;
    // RFC 6749 §5.1: scope is returned when it differs from the request; if present it must hold uma_protection.
    if (r.json.scope !== undefined && !String(r.json.scope).split(' ').includes('uma_protection')) return `scope ${r.json.scope}`;
    pat = r.json.access_token;
    return true;
  });

  await check('8b. introspection of the RPT with the PAT -> active true, permissions with "read", no scope member (FedAuthz §5.1.1)', async () => {
    const r = await introspect(need(rpt, 'RPT'), { bearer: need(pat, 'PAT') });
    if (r.status !== 200) return show(r);
    if (!isJson(r)) return `Content-Type ${r.headers.get('content-type')} (RFC 7662 §2.2)`;
    const j = r.json;
    if (!isObject(j) || j.active !== true) return show(r);
    if ('scope' in j) return 'an active UMA introspection object MUST NOT contain scope (FedAuthz §5.1.1)';
    if (!Array.isArray(j.permissions)) return 'no permissions array';
    for (const p of j.permissions) {
      if (!isObject(p) || typeof p.resource_id !== 'string' || !Array.isArray(p.resource_scopes)) return `malformed permission ${JSON.stringify(p)}`;
      for (const t of ['exp', 'iat', 'nbf']) if (p[t] !== undefined && !Number.isInteger(p[t])) return `permission ${t} not an integer`;
      if (p.exp !== undefined && p.exp <= now()) return `permission already expired: ${JSON.stringify(p)}`;
    }
    if (j.exp !== undefined && (!Number.isInteger(j.exp) || j.exp <= now())) return `token exp ${j.exp}`;
    permission = j.permissions.find((p) => p.resource_scopes.includes('read'));
    return !!permission || `no permission with scope read: ${r.text}`;
  });

  await check('8c. that permission\'s resource_id is a registered resource offering "read" (FedAuthz §3.2.5 list, §3.2.2 read)', async () => {
    const id = need(permission, 'read permission').resource_id;
    const rreg = meta.resource_registration_endpoint;
    // FedAuthz §3.2 writes the list as "GET rreguri/"; try the advertised URI as is, then with
    // the trailing slash toggled.
    let list = await http('GET', rreg, { bearer: pat });
    if (list.status !== 200) list = await http('GET', rreg.endsWith('/') ? rreg.replace(/\/+$/, '') : `${rreg}/`, { bearer: pat });
    if (list.status !== 200) return `list: ${show(list)}`;
    if (!Array.isArray(list.json) || !list.json.every((x) => typeof x === 'string')) return `list is not a JSON array of _id strings: ${show(list)}`;
    if (!list.json.includes(id)) return `resource_id ${id} not in the list ${list.text.slice(0, 300)}`;
    const read = await http('GET', `${rreg.replace(/\/+$/, '')}/${encodeURIComponent(id)}`, { bearer: pat });
    if (read.status !== 200) return `read: ${show(read)}`;
    if (!isObject(read.json) || read.json._id !== id) return `read: _id missing or different: ${show(read)}`;
    if (!Array.isArray(read.json.resource_scopes) || !read.json.resource_scopes.includes('read')) return `resource_scopes ${JSON.stringify(read.json.resource_scopes)}`;
    return true;
  });

  await check('8d. introspection without a PAT -> 401 (RFC 7662 §2.1 requires authorization; §2.3)', async () => {
    const r = await introspect(need(rpt, 'RPT'));
    if (r.status !== 401) return show(r);
    return !(r.json && r.json.active === true) || 'the 401 body reports the token active';
  });

  await check('8e. introspection with the RPT as the bearer (not a PAT: no uma_protection) -> 401 or 403 (RFC 6750 §3.1)', async () => {
    const r = await introspect(need(rpt, 'RPT'), { bearer: rpt });
    if (r.status !== 401 && r.status !== 403) return show(r);
    return !(r.json && r.json.active === true) || 'the refusal body reports the token active';
  });

  // -------------------------------------------------------------------------------------------
  // 9. UMA §3.7 / RFC 7009 revocation.

  await check('9a. revocation of the RPT by another registered client does not revoke it (RFC 7009 §2.1)', async () => {
    const token = need(rpt, 'RPT');
    const reg = await http('POST', meta.registration_endpoint, { json: { ...registration, client_name: 'another UMA client' } });
    if (reg.status !== 201 || !reg.json || !reg.json.client_id) return `second registration: ${show(reg)}`;
    const other = { client_id: reg.json.client_id, client_secret: reg.json.client_secret };
    if (other.client_id === client.client_id) return 'the second registration got the same client_id';
    const rev = await http('POST', meta.revocation_endpoint, { form: { token }, client: other });
    if (rev.status >= 500) return show(rev);
    const r = await introspect(token, { bearer: need(pat, 'PAT') });
    return (r.status === 200 && r.json && r.json.active === true) || `after the other client's attempt: ${show(r)}`;
  });

  await check('9b. revocation of the RPT by its client -> 200 (RFC 7009 §2.2)', async () => {
    const token = need(rpt, 'RPT');
    const r = await http('POST', need(meta, 'discovery').revocation_endpoint, { form: { token }, client: need(client, 'client') });
    return r.status === 200 || show(r);
  });

  let revokedGet = null;
  await check('9c. GET of the record with the revoked RPT -> 401', async () => {
    revokedGet = await http('GET', RECORD_URL, { bearer: need(rpt, 'RPT'), accept: 'application/fhir+json' });
    return revokedGet.status === 401 || show(revokedGet);
  });

  await check('9d. that 401 is answered as for no token: a UMA challenge with a ticket (UMA §3.5 -> §3.2.1)', () => {
    const r = need(revokedGet, 'revoked GET');
    if (r.status !== 401) throw new Missing('not run: the revoked GET was not a 401');
    const c = umaChallenge(r);
    return (c && !!c.params.ticket) || `WWW-Authenticate: ${r.headers.get('www-authenticate')}`;
  });

  await check('9e. introspection of the revoked RPT -> active false (RFC 7662 §2.2)', async () => {
    const r = await introspect(need(rpt, 'RPT'), { bearer: need(pat, 'PAT') });
    if (r.status !== 200) return show(r);
    return (isObject(r.json) && r.json.active === false) || show(r);
  });

  // -------------------------------------------------------------------------------------------
  // 10. Refusals. Each starts from a fresh ticket (a tokenless GET of the record).

  await check('10a. ticket reuse: a ticket already presented at the token endpoint -> 400 invalid_grant (UMA §5.5, §3.3.6)', async () => {
    need(client, 'client');
    const t = await freshTicket();
    const first = await tokenRequest({ grant_type: UMA_GRANT, ticket: t });
    if (first.status === 200) return `first use granted without claims: ${show(first)}`;
    // The second presentation carries a perfectly good claim token: only the reuse is wrong.
    const c = await vpJwt(PHYS, FX.license, { nonce: t });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    if (r.status !== 400 || !r.json || r.json.error !== 'invalid_grant') return show(r);
    return !r.json.ticket || 'invalid_grant must not hand out a new ticket (UMA §3.3.6)';
  });

  await check('10a2. ticket reuse: the ticket that earned the RPT cannot earn another -> 400 invalid_grant', async () => {
    const t = need(rptTicket, 'RPT ticket');
    const c = await vpJwt(PHYS, FX.license, { nonce: t });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return (r.status === 400 && r.json && r.json.error === 'invalid_grant') || show(r);
  });

  await check(`10b. claim token for another audience (aud ${ELSEWHERE}) -> not granted, need_info (UMA §5.7, §3.3.6)`, async () => {
    need(client, 'client');
    const t = await freshTicket();
    const c = await vpJwt(PHYS, FX.license, { nonce: t, aud: ELSEWHERE });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return refusal({ final: r, steps: [r] }, { expect: ['need_info'] });
  });

  await check('10c. claim token whose nonce is another (older, still unused) ticket -> not granted', async () => {
    need(client, 'client');
    const older = await freshTicket();
    const t = await freshTicket();
    if (older === t) return 'two tokenless GETs returned the same ticket';
    const c = await vpJwt(PHYS, FX.license, { nonce: older });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return refusal({ final: r, steps: [r] });
  });

  await check('10d. vp+jwt of the revoked license -> never granted, no RPT (following need_info)', async () => {
    need(client, 'client');
    const n = await negotiate(await freshTicket(), (t) => vpJwt(PHYS, FX.revoked_license, { nonce: t }));
    return refusal(n);
  });

  await check('10e. forged vp+jwt: physician\'s did and kid, signed with the stranger\'s key -> not granted', async () => {
    need(client, 'client');
    const t = await freshTicket();
    const c = await vpJwt(PHYS, FX.license, { nonce: t, key: need(STRANGER, 'stranger keys').key });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return refusal({ final: r, steps: [r] });
  });

  await check('10f. the stranger\'s did-auth-jwt -> request_denied or need_info, never granted; error bodies carry only ' +
    'error, error_description, ticket, required_claims, interval (or the spec\'s error_uri, redirect_user) and no ' +
    'word of policy', async () => {
    need(client, 'client');
    const n = await negotiate(await freshTicket(), (t) => didAuthJwt(STRANGER, { nonce: t }));
    const g = granted(n.steps);
    if (g) return `granted: ${show(g)}`;
    if (n.final.status !== 403 || !n.final.json || !['request_denied', 'need_info'].includes(n.final.json.error)) return show(n.final);
    for (const s of n.steps) {
      if (!isObject(s.json)) return `error body is not a JSON object: ${show(s)}`;
      const extra = Object.keys(s.json).filter((k) => !ERROR_MEMBERS.has(k));
      if (extra.length) return `unexpected members ${extra.join(', ')}: ${show(s)}`;
      if (/polic/i.test(s.text)) return `the error body talks about policy: ${show(s)}`;
    }
    return true;
  });

  await check('10g. alg "none" vp+jwt (RFC 7519 §6 unsecured JWT) -> not granted', async () => {
    need(client, 'client');
    const t = await freshTicket();
    const c = unsecuredVpJwt(PHYS, FX.license, { nonce: t });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return refusal({ final: r, steps: [r] });
  });

  let wrongSecret = null;
  await check('10h. client authenticating with a wrong secret -> 401 invalid_client (RFC 6749 §5.2)', async () => {
    const t = await freshTicket();
    const c = await vpJwt(PHYS, FX.license, { nonce: t });
    const creds = { client_id: need(client, 'client').client_id, client_secret: `wrong-${crypto.randomBytes(12).toString('hex')}` };
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format }, creds);
    wrongSecret = r;
    if (r.json && r.json.access_token) return `granted: ${show(r)}`;
    return (r.status === 401 && r.json && r.json.error === 'invalid_client') || show(r);
  });

  await check('10h2. that 401 carries WWW-Authenticate: Basic, the scheme the client used (RFC 6749 §5.2)', () => {
    const r = need(wrongSecret, 'wrong-secret response');
    if (r.status !== 401) throw new Missing('not run: the wrong secret was not refused with 401');
    return hasChallenge(r, 'basic') || `WWW-Authenticate: ${r.headers.get('www-authenticate')}`;
  });

  await check('10i. expired claim token (iat 20 min ago, exp 15 min ago; RFC 7519 §4.1.4) -> not granted', async () => {
    need(client, 'client');
    const t = await freshTicket();
    const at = { iat: now() - 1200, exp: now() - 900 };
    const c = await vpJwt(PHYS, FX.license, { nonce: t, at });
    const r = await tokenRequest({ grant_type: UMA_GRANT, ticket: t, claim_token: c.token, claim_token_format: c.format });
    return refusal({ final: r, steps: [r] });
  });

  // -------------------------------------------------------------------------------------------
  // 11. Across the run.

  await check('11. every token-endpoint error body seen is a JSON object with only RFC 6749 §5.2 / UMA §3.3.6 members', () => {
    if (tokenErrorBodies.length === 0) throw new Missing('not run: no token-endpoint errors were seen');
    for (const r of tokenErrorBodies) {
      if (!isObject(r.json) || typeof r.json.error !== 'string') return `not an error object: ${show(r)}`;
      const extra = Object.keys(r.json).filter((k) => !ERROR_MEMBERS.has(k));
      if (extra.length) return `unexpected members ${extra.join(', ')}: ${show(r)}`;
    }
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Start.

let FX;
try {
  FX = await startFixture();
} catch (e) {
  await finish(['fixture', e.message]);
}
console.log(`uma client: fixture ${FIXTURE} at ${FX.base_url}`);

const BASE = String(FX.base_url || '').replace(/\/+$/, '');
const RECORD_URL = `${BASE}/fhir/${FX.record}`;
const FORBIDDEN_URL = `${BASE}${FX.forbidden_path}`;
const [RECORD_TYPE, RECORD_ID] = String(FX.record || '').split('/');
const PURPOSE = FX.purpose || 'treatment';

let meta = null; // the discovery document
let client = null; // our RFC 7591 registration
let PHYS = null;
let STRANGER = null;

async function party(p) {
  if (!isObject(p) || !isObject(p.private_jwk)) throw new Error('party without private_jwk');
  return { did: p.did, kid: p.kid, jwk: p.private_jwk, key: await jose.importJWK(p.private_jwk, 'EdDSA') };
}

try {
  await main();
} catch (e) {
  fail('run', `uncaught ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
}
// The server's own account of the run (docs/observability.md): /metrics in the Prometheus text
// format, read by an independent parser, counts the grant requests above by outcome.
await check('metrics: /metrics parses and counts the grants by outcome (granted and refusals)', async () => {
  const res = await fetch(`${BASE}/metrics`);
  if (res.status !== 200) return `GET /metrics: ${res.status}`;
  const families = parsePrometheusTextFormat(await res.text());
  const grants = families.find((f) => f.name === 'medallion_uma_grants_total');
  if (!grants || grants.type !== 'COUNTER') return 'no counter medallion_uma_grants_total';
  const by = Object.fromEntries(grants.metrics.map((m) => [m.labels.outcome, Number(m.value)]));
  if (!(by.granted >= 1)) return `no granted outcome: ${JSON.stringify(by)}`;
  if (!(by.need_info >= 1)) return `no need_info outcome: ${JSON.stringify(by)}`;
  const requests = families.find((f) => f.name === 'medallion_http_requests_total');
  const token200 = requests && requests.metrics.find((m) => m.labels.route === '/token' && m.labels.status === '200');
  if (!token200 || !(Number(token200.value) >= by.granted)) return 'the /token 200s are not counted';
  return true;
});
await finish();
