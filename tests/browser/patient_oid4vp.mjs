// Browser test of the patient's container as an OpenID4VP wallet (issue 19; docs/openid4vc.md
// §"Wallet in the web app"). Alice's container keeps an SD-JWT VC bound to her key (issued here
// by a did:key issuer: member_id, name, birthdate and plan selectively disclosable); a verifier
// made with `medallion oid4vp request` asks for member_id and name; she pastes its link on "Show
// credentials", sees the verifier and, per credential, what would be disclosed and what is
// always visible, approves, and `medallion oid4vp verify` accepts what her container posted to
// the response_uri (served by this script) — with member_id and name only. Then: the plan is
// single use, a decline posts only access_denied (the verifier reads the refusal), the same
// request by reference (request_uri: an unsigned request object served here, fetched by her
// container; none over plain http off loopback), a decentralized_identifier: verifier's signed
// request object (the plan names its DID; altered after signing, refused), a request nothing she keeps answers offers no "Share", a response_uri over plain http off loopback is
// refused, a call without the CSRF token is refused; axe finds no serious or critical
// violation on the page, its plan and its outcome; screenshots at 390 and 1280 px.
//
// Usage: node patient_oid4vp.mjs <path-to-medallion>
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { ok, notOk, check, summary, work, freePort, startRole, run, json, cleanup, onStop } from './lib.mjs';
import { makeHarness, pageFetch } from './harness.mjs';

const M = resolve(process.argv[2] || '');
if (!process.argv[2]) {
  console.error('usage: node patient_oid4vp.mjs <path-to-medallion>');
  process.exit(2);
}
const SHOTS = resolve(process.env.MEDALLION_SCREENSHOTS || join(dirname(M), '..', 'browser-screenshots'));
mkdirSync(SHOTS, { recursive: true });
const ENV = { MEDALLION_PASSPHRASE: 'browser-test-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
const CHROMIUM = process.env.MEDALLION_CHROMIUM || '/usr/bin/chromium';

const deadline = setTimeout(async () => {
  notOk('the suite finished within 300 s');
  summary();
  await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
  process.exit(1);
}, 300000);

let browser = null;
let verifierServer = null;

async function cli(args, what) {
  const r = await run(M, args, ENV);
  if (r.code !== 0 && what) notOk(what, `exit ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

// --- an SD-JWT VC (IETF SD-JWT VC; RFC 9901 disclosures) -------------------------------------

const b64u = (x) => Buffer.from(typeof x === 'string' ? x : x).toString('base64url');
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}
function unbase58(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const lead = s.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
}
// An Ed25519 did:key's public key as a JWK (multicodec 0xed01).
function jwkOfDidKey(did) {
  const raw = unbase58(did.slice('did:key:z'.length));
  return { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(2).toString('base64url') };
}

const VCT = 'urn:example:vct:HealthInsuranceCard:1';
function issueSdJwtVc(holderDid, claims) {
  const issuer = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(issuer.publicKey.export({ format: 'jwk' }).x, 'base64url');
  const mk = `z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  const did = `did:key:${mk}`;
  const disclosures = Object.entries(claims).map(([k, v]) => b64u(JSON.stringify([crypto.randomBytes(16).toString('base64url'), k, v])));
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: did, vct: VCT, iat: now - 60, exp: now + 86400,
    cnf: { jwk: jwkOfDidKey(holderDid) },
    _sd_alg: 'sha-256',
    _sd: disclosures.map((d) => crypto.createHash('sha256').update(d).digest('base64url')).sort(),
  };
  const input = `${b64u(JSON.stringify({ alg: 'EdDSA', typ: 'dc+sd-jwt', kid: `${did}#${mk}` }))}.${b64u(JSON.stringify(payload))}`;
  const sig = crypto.sign(null, Buffer.from(input), issuer.privateKey);
  return { credential: `${input}.${b64u(sig)}~${disclosures.join('~')}~`, issuer: did };
}

// --- the verifier's response_uri (direct_post), served here ----------------------------------

const posts = [];
const requestObjects = new Map();  // path -> an unsigned request object (RFC 9101, alg none)
const fetched = [];
function startVerifier() {
  return new Promise((resolveP) => {
    verifierServer = http.createServer((req, res) => {
      if (req.method === 'GET' && requestObjects.has(req.url)) {
        fetched.push(req.url);
        res.writeHead(200, { 'content-type': 'application/oauth-authz-req+jwt' });
        res.end(requestObjects.get(req.url));
        return;
      }
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        posts.push({ path: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: true, redirect_uri: `http://127.0.0.1:${verifierServer.address().port}/done` }));
      });
    });
    verifierServer.listen(0, '127.0.0.1', () => resolveP(`http://127.0.0.1:${verifierServer.address().port}`));
  });
}

async function makeRequest(responseUri, query, db) {
  writeFileSync(join(work, `${db}.dcql.json`), JSON.stringify(query));
  const r = await cli(['oid4vp', 'request', '--response-uri', responseUri, '--dcql', `${db}.dcql.json`, '--db', db, '--json'], `oid4vp request (${db})`);
  return (json(r.stdout) || {}).request_uri || '';
}

// The same request by reference (OID4VP §5.10): its parameters as an unsigned request object
// (§5.9.3: a redirect_uri: client's cannot be signed) served at `path` here.
async function makeRequestByReference(responseUri, query, db, base, path) {
  writeFileSync(join(work, `${db}.dcql.json`), JSON.stringify(query));
  const r = await cli(['oid4vp', 'request', '--response-uri', responseUri, '--dcql', `${db}.dcql.json`, '--db', db, '--json'], `oid4vp request (${db})`);
  const params = { ...((json(r.stdout) || {}).params || {}) };
  params.dcql_query = JSON.parse(params.dcql_query || '{}');
  requestObjects.set(path, `${b64u(JSON.stringify({ alg: 'none', typ: 'oauth-authz-req+jwt' }))}.${b64u(JSON.stringify(params))}.`);
  return `openid4vp://?client_id=${encodeURIComponent(params.client_id)}&request_uri=${encodeURIComponent(base + path)}`;
}

// A decentralized_identifier: verifier (OID4VP §5.9.3): the same parameters under
// client_id decentralized_identifier:<a did:key made here>, the request object a JWS by that
// key (typ oauth-authz-req+jwt, kid its DID URL), served at `path`; `tamper` changes the
// response_uri after signing.
async function makeSignedRequest(responseUri, query, db, base, path, tamper = false) {
  writeFileSync(join(work, `${db}.dcql.json`), JSON.stringify(query));
  const r = await cli(['oid4vp', 'request', '--response-uri', responseUri, '--dcql', `${db}.dcql.json`, '--db', db, '--json'], `oid4vp request (${db})`);
  const params = { ...((json(r.stdout) || {}).params || {}) };
  params.dcql_query = JSON.parse(params.dcql_query || '{}');
  const key = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(key.publicKey.export({ format: 'jwk' }).x, 'base64url');
  const mk = `z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  const did = `did:key:${mk}`;
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...params, client_id: `decentralized_identifier:${did}`, iss: did, aud: 'https://self-issued.me/v2', iat: now, exp: now + 300 };
  const header = b64u(JSON.stringify({ alg: 'EdDSA', kid: `${did}#${mk}`, typ: 'oauth-authz-req+jwt' }));
  const input = `${header}.${b64u(JSON.stringify(claims))}`;
  const sig = b64u(crypto.sign(null, Buffer.from(input), key.privateKey));
  const sent = tamper ? `${header}.${b64u(JSON.stringify({ ...claims, response_uri: `${base}/elsewhere` }))}.${sig}` : `${input}.${sig}`;
  requestObjects.set(path, sent);
  return { did, uri: `openid4vp://?client_id=${encodeURIComponent(claims.client_id)}&request_uri=${encodeURIComponent(base + path)}` };
}

async function verify(responseUri, db, body) {
  writeFileSync(join(work, `${db}.form`), body);
  const r = await cli(['oid4vp', 'verify', '--response-uri', responseUri, '--db', db, '--form', `${db}.form`, '--json']);
  return { ...r, out: json(r.stdout) };
}

const askQuery = {
  credentials: [{ id: 'insurance', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['member_id'] }, { path: ['name'] }] }],
};

// --- the walk ----------------------------------------------------------------------------------

async function main() {
  await cli(['wallet', 'init', '--store', 'alice.wallet', '--kdf', 'test', '--mnemonic-out', 'alice.words'], 'wallet init alice');
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const alice = await startRole(M, 'alice', ['container', 'serve', '--dir', 'alice-box', '--store', 'alice.wallet', '--listen', `127.0.0.1:${port}`, '--public-url', origin, '--json', '--allow-insecure-loopback'], ENV);
  const link = `${alice.output()}\n${alice.errors()}`.match(/https?:\/\/[^\s"]+#setup=[A-Za-z0-9_-]+/);
  if (!check(Boolean(link), 'container serve prints a setup link', alice.output())) return;
  const verifierBase = await startVerifier();
  const responseUri = `${verifierBase}/cb`;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  onStop(() => browser.close());
  const hx = makeHarness(SHOTS);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  const { page } = await hx.newPage(context, origin, 'alice');
  await page.goto(link[0]);
  await page.getByLabel('Name for this passkey').fill('Test laptop');
  await page.getByRole('button', { name: 'Create a passkey on this device' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your records' }).waitFor({ timeout: 15000 });
  ok('Alice registers a passkey from the setup link and is signed in');

  // Her credential, bound to her authentication key (her did:key), kept in her container.
  const state = (await pageFetch(page, 'GET', 'web/v1/state', undefined, { csrf: false })).body;
  const ownerDid = state.owner.did;
  const vc = issueSdJwtVc(ownerDid, { member_id: 'M-4471-22', name: 'Alice Example', birthdate: '1984-03-02', plan: 'Gold PPO' });
  const kept = await pageFetch(page, 'POST', 'owner/v1/credentials', { format: 'dc+sd-jwt', credential: vc.credential });
  check(kept.status === 201, 'her container keeps the SD-JWT VC (POST owner/v1/credentials through the cookie)', JSON.stringify(kept));

  // 1. The page, empty.
  await page.evaluate(() => { window.location.hash = 'present'; });
  await page.getByRole('heading', { level: 1, name: 'Show credentials' }).waitFor({ timeout: 15000 });
  await page.locator('#main:not([aria-busy])').waitFor({ timeout: 15000 });
  const current = await page.locator('#nav a[aria-current="page"]').getAttribute('data-route').catch(() => null);
  check(current === 'present', 'the nav marks "Show credentials" aria-current', current);
  await hx.axe(page, 'present');
  await hx.shoot(page, 'present');

  // 2. A verifier's request, pasted: the plan names the verifier and only member_id and name.
  const uri = await makeRequest(responseUri, askQuery, 'verifier.db');
  check(uri.startsWith('openid4vp://?'), '`oid4vp request` makes an openid4vp:// link', uri.slice(0, 80));
  await page.getByLabel('The verifier’s request link').fill(uri);
  const planResponse = page.waitForResponse((r) => r.url() === `${origin}/web/v1/oid4vp/plan`);
  await page.getByRole('button', { name: 'Read the request' }).click();
  const planId = (json(await (await planResponse).text()) || {}).id || '';
  const plan = page.locator('#present-plan');
  await plan.waitFor({ timeout: 15000 });
  const planText = await plan.innerText();
  check(planText.includes(`redirect_uri:${responseUri}`) && planText.includes('127.0.0.1'), 'the plan names the verifier (client_id) and where the answer goes', planText.slice(0, 300));
  const pointers = await plan.locator('.disclosed-claims li').evaluateAll((els) => els.map((e) => e.dataset.pointer));
  check(JSON.stringify(pointers) === '["/member_id","/name"]', 'the plan discloses /member_id and /name only', JSON.stringify(pointers));
  check(planText.includes('M-4471-22') && planText.includes('Alice Example') && !planText.includes('1984-03-02') && !planText.includes('Gold PPO'),
    'she sees the values that would leave, and not those that stay hidden', planText.slice(0, 600));
  const always = await plan.locator('.always-visible li').allInnerTexts();
  check(always.some((t) => t.includes('(iss)')) && always.some((t) => t.includes('(cnf)')) && always.some((t) => t.includes('(vct)')), 'always visible: iss, vct, cnf (the issuer-signed members)', JSON.stringify(always));
  check(posts.length === 0, 'nothing is sent to the verifier before she decides', posts.length);
  await hx.axe(page, 'present-plan');
  await hx.shoot(page, 'present-plan');
  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize({ width: 1280, height: 900 });
  check(overflow <= 0, 'the plan: nothing scrolls sideways at 360 px', `${overflow} px too wide`);

  // 3. She approves: the presentation reaches the response_uri; the verifier accepts it.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.locator('#present-outcome').waitFor({ timeout: 20000 });
  check((await page.locator('#present-outcome').innerText()).includes('Sent to 127.0.0.1'), 'the page says what was sent, and to whom', await page.locator('#present-outcome').innerText());
  check(await page.locator(`a[href="${verifierBase}/done"]`).count() === 1, 'the verifier\'s redirect_uri is offered as a link (§8.2)');
  await hx.axe(page, 'present-sent');
  await hx.shoot(page, 'present-sent');
  const sent = posts.at(-1) || {};
  check(posts.length === 1 && sent.path === '/cb' && /application\/x-www-form-urlencoded/.test(sent.type || ''), 'one direct_post, form-encoded, to the response_uri', JSON.stringify(posts));
  const form = new URLSearchParams(sent.body || '');
  const token = json(form.get('vp_token') || '') || {};
  const presentation = (token.insurance || [])[0] || '';
  const parts = presentation.split('~');
  check(parts.length === 4 && parts[3].split('.').length === 3, 'vp_token: one SD-JWT+KB with two disclosures and a KB-JWT', presentation.slice(0, 120));
  const kb = json(Buffer.from((parts[3] || '').split('.')[1] || '', 'base64url').toString()) || {};
  check(kb.aud === `redirect_uri:${responseUri}` && typeof kb.nonce === 'string' && kb.nonce.length > 0 && typeof kb.sd_hash === 'string', 'the KB-JWT: aud = client_id, the request\'s nonce, sd_hash', JSON.stringify(kb));
  const v = await verify(responseUri, 'verifier.db', sent.body || '');
  const c = v.out && v.out.credentials && v.out.credentials.insurance && v.out.credentials.insurance[0];
  check(v.code === 0 && v.out.verified === true && c && c.key_bound === true && c.claims.member_id === 'M-4471-22' && c.claims.name === 'Alice Example' &&
    c.claims.birthdate === undefined && c.claims.plan === undefined, '`oid4vp verify` accepts it: key bound, member_id and name, nothing else disclosed', v.stderr || v.stdout);

  // 4. The plan is single use.
  hx.expectingErrors = true;
  const again = await pageFetch(page, 'POST', `web/v1/oid4vp/${planId || 'x'}/approve`, {});
  check(again.status === 404, 'approving the same plan again: 404 (single use)', JSON.stringify(again));

  // 5. Declined: only access_denied (with the state) reaches the verifier.
  await page.getByRole('button', { name: 'Another request' }).click();
  const uri2 = await makeRequest(responseUri, askQuery, 'verifier2.db');
  await page.getByLabel('The verifier’s request link').fill(uri2);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-plan').waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Decline' }).click();
  await page.locator('#present-outcome').waitFor({ timeout: 20000 });
  const refusal = new URLSearchParams((posts.at(-1) || {}).body || '');
  check(posts.length === 2 && refusal.get('error') === 'access_denied' && refusal.get('state') && !refusal.has('vp_token'), 'decline posts access_denied with the state, no vp_token (§8.5)', (posts.at(-1) || {}).body);
  const v2 = await verify(responseUri, 'verifier2.db', (posts.at(-1) || {}).body || '');
  check(v2.code !== 0 && /access_denied/.test(v2.stderr), 'the verifier reads the refusal (access_denied)', v2.stderr || v2.stdout);
  check((await page.locator('#present-outcome').innerText()).includes('You declined'), 'the page says she declined');
  await hx.shoot(page, 'present-declined');

  // 5b. A request by reference: her container fetches the request object, the same plan.
  await page.getByRole('button', { name: 'Another request' }).click();
  const byRef = await makeRequestByReference(responseUri, askQuery, 'verifier5.db', verifierBase, '/request/5');
  await page.getByLabel('The verifier’s request link').fill(byRef);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-plan').waitFor({ timeout: 15000 });
  const refPointers = await page.locator('#present-plan .disclosed-claims li').evaluateAll((els) => els.map((e) => e.dataset.pointer));
  check(fetched.length === 1 && JSON.stringify(refPointers) === '["/member_id","/name"]', 'a request by reference (request_uri): fetched once by her container, the same plan', JSON.stringify({ fetched, refPointers }));
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.locator('#present-outcome').waitFor({ timeout: 20000 });
  const v5 = await verify(responseUri, 'verifier5.db', (posts.at(-1) || {}).body || '');
  const c5 = v5.out && v5.out.credentials && v5.out.credentials.insurance && v5.out.credentials.insurance[0];
  check(posts.length === 3 && v5.code === 0 && c5 && c5.claims.member_id === 'M-4471-22' && c5.claims.birthdate === undefined, '`oid4vp verify` accepts the answer to the request by reference', v5.stderr || v5.stdout);

  // 5c. A decentralized_identifier: verifier (§5.9.3): its request object signed by its did:key;
  // her container checks the signature and the plan names the DID. Altered after signing: refused.
  await page.getByRole('button', { name: 'Another request' }).click();
  const forged = await makeSignedRequest(responseUri, askQuery, 'verifier6.db', verifierBase, '/request/6', true);
  await page.getByLabel('The verifier’s request link').fill(forged.uri);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-error').waitFor({ timeout: 15000 });
  check(/signature_invalid/.test(await page.locator('#present-error').innerText()), 'a decentralized_identifier: request object altered after signing: refused (signature_invalid)', await page.locator('#present-error').innerText());
  const signed = await makeSignedRequest(responseUri, askQuery, 'verifier7.db', verifierBase, '/request/7');
  await page.getByLabel('The verifier’s request link').fill(signed.uri);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-plan').waitFor({ timeout: 15000 });
  const didText = await page.locator('#present-verifier-did').innerText();
  check(didText.includes(signed.did) && (await page.locator('#present-plan').innerText()).includes(`decentralized_identifier:${signed.did}`), 'a decentralized_identifier: verifier\'s signed request: the plan names the DID whose key signed it', didText);
  await hx.axe(page, 'present-signed');

  // 6. Nothing she keeps answers: no "Share"; only declining is offered.
  await page.getByRole('button', { name: 'Another request' }).click();
  const uri3 = await makeRequest(responseUri, { credentials: [{ id: 'license', format: 'dc+sd-jwt', meta: { vct_values: ['urn:medallion:vct:MedicalLicenseCredential:1'] }, claims: [{ path: ['license_number'] }] }] }, 'verifier3.db');
  await page.getByLabel('The verifier’s request link').fill(uri3);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-unmet').waitFor({ timeout: 15000 });
  check(await page.getByRole('button', { name: 'Share', exact: true }).count() === 0, 'a request nothing she keeps answers: no "Share" button');
  await hx.axe(page, 'present-unmet');

  // 7. A response_uri over plain http off loopback is refused before anything is shown.
  await page.getByRole('button', { name: 'Another request' }).click();
  const remote = await makeRequest('http://verifier.example/cb', askQuery, 'verifier4.db');
  await page.getByLabel('The verifier’s request link').fill(remote);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-error').waitFor({ timeout: 15000 });
  check(/https is required/.test(await page.locator('#present-error').innerText()), 'plain http off loopback: refused with the reason', await page.locator('#present-error').innerText());

  // A request_uri over plain http off loopback is not fetched.
  await page.getByLabel('The verifier’s request link').fill(`openid4vp://?client_id=${encodeURIComponent(`redirect_uri:${responseUri}`)}&request_uri=${encodeURIComponent('http://verifier.example/request/1')}`);
  await page.getByRole('button', { name: 'Read the request' }).click();
  await page.locator('#present-error').waitFor({ timeout: 15000 });
  check(/verifier\.example\/request\/1.*https is required/.test(await page.locator('#present-error').innerText()), 'a request_uri over plain http off loopback is not fetched', await page.locator('#present-error').innerText());

  // 8. Without the CSRF token: refused.
  const noCsrf = await pageFetch(page, 'POST', 'web/v1/oid4vp/plan', { request: uri3 }, { csrf: false });
  check(noCsrf.status === 403, 'web/v1/oid4vp/plan without the CSRF token: 403', JSON.stringify(noCsrf));
  hx.expectingErrors = false;
  check(posts.length === 3, 'nothing else reached the verifier', posts.length);
  await hx.finalChecks();
}

let code = 0;
try {
  await main();
} catch (err) {
  notOk('the walk ran to its end', err && err.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : String(err));
}
try {
  if (browser) await browser.close();
} catch {
  /* already gone */
}
if (verifierServer) verifierServer.close();
clearTimeout(deadline);
code = summary() ? 1 : 0;
await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
if (process.env.MEDALLION_KEEP_TMP) console.log(`# kept ${work}`);
process.exit(code);
