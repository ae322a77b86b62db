// OpenID4VP 1.0 interop, the pharmacy as the verifier (docs/openid4vc.md "The pharmacy as an
// OpenID4VP verifier"): under `medallion up`, Dr. Rivera prescribes (command line) a pharmacy
// copy bound to a key this script holds; a pharmacist (a passkey from the pharmacy's setup link)
// makes a presentation request at the pharmacy — client_id decentralized_identifier:<the
// pharmacy's did:key> (OpenID4VP §5.9.3), its request object a JWS by the pharmacy's key, by
// value (request=) and by reference (request_uri) —; the OpenWallet Foundation's holder-side
// library @openid4vc/openid4vp 0.4.6 (an independent implementation) parses and resolves it,
// verifying the signed request object through its verifyJwt callback (the DID resolved by
// @digitalbazaar/did-method-key 5.3.0, the key an authentication method, the signature checked
// by jose 5; a tampered object is refused; our own `oid4vp respond` reads it too, dry run, and
// refuses the tampered one), the presentation is built with @sd-jwt/sd-jwt-vc 0.19.0 (KB-JWT for the request's nonce and the
// client_id), their library makes the direct_post response and submits it, and the pharmacy
// dispenses (the staff's outcome: dispensed, with the pipeline's receipt). Refusals first, on
// the same request (each spends nothing, so the real answer still dispenses after them): a
// wrong nonce, an answer to another request under this state, an aud for another verifier, a
// garbled vp_token, and (on a controlled-substance request) `sub` withheld; then a replayed
// response and a wallet's access_denied. direct_post.jwt: a response encrypted with jose 5
// (ECDH-ES + A256GCM) to the key of the request's client_metadata.jwks is decrypted and
// dispensed; the plain form and a tampered JWE are refused. Each refusal is a §8.5-style JSON error (invalid_request).
//
// Usage: node oid4vp_pharmacy_interop.mjs <path-to-medallion>
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { passkeyFromLink } from '../server/bad_input_lib.mjs';

let Openid4vpClient, parseOpenid4vpAuthorizationRequest, setGlobalConfig, SDJwtVcInstance, digest, generateSalt, CompactEncrypt, importJWK, compactVerify, DidKey, Ed25519Multikey;
try {
  ({ CompactEncrypt, importJWK, compactVerify } = await import('jose'));
  DidKey = await import('@digitalbazaar/did-method-key');
  Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
  ({ Openid4vpClient, parseOpenid4vpAuthorizationRequest } = await import('@openid4vc/openid4vp'));
  ({ setGlobalConfig } = await import('@openid4vc/oauth2'));
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest, generateSalt } = await import('@sd-jwt/crypto-nodejs'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${path.dirname(fileURLToPath(import.meta.url))}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}
// Loopback http only (the library's documented switch); nothing else of its checks is relaxed.
setGlobalConfig({ allowInsecureUrls: true });

const BIN = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!BIN) {
  console.log('usage: node oid4vp_pharmacy_interop.mjs <path-to-medallion>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const PRESCRIPTION_VCT = 'https://w3id.org/medallion/credentials/v1/PrescriptionCredential';

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}${detail === undefined ? '' : ` (${JSON.stringify(detail).slice(0, 600)})`}`);
  }
  return Boolean(cond);
}

const work = mkdtempSync(path.join(tmpdir(), 'medallion-oid4vp-pharmacy-'));
const ENV = { ...process.env, MEDALLION_ALLOW_TEST_KDF: '1' };
let up = null;
function cleanup() {
  if (up && up.exitCode === null) up.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
const watchdog = setTimeout(() => {
  console.log('not ok - the suite did not finish in 280 s');
  cleanup();
  process.exit(1);
}, 280000);

const b64u = (b) => Buffer.from(b).toString('base64url');
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function unbase58(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const lead = s.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
}
function signJws(header, payload, privateKey) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const es = header.alg === 'ES256';
  const sig = crypto.sign(es ? 'sha256' : null, Buffer.from(input), es ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${b64u(sig)}`;
}
async function call(method, url, { body, bearer, form } = {}) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let data;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    data = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    data = JSON.stringify(body);
  }
  const r = await fetch(url, { method, headers, body: data });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json, text };
}
const run = (args) => execFileSync(BIN, args, { cwd: work, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
function runFails(args) {
  try {
    run(args);
    return null;
  } catch (e) {
    return { status: e.status, stderr: String(e.stderr) };
  }
}

function startUp() {
  return new Promise((resolve, reject) => {
    up = spawn(BIN, ['up', '--out', path.join(work, 'up')], { cwd: work, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const seen = (d) => {
      out += d;
      if (out.includes('Ctrl-C stops everything')) resolve(out);
    };
    up.stdout.on('data', seen);
    up.stderr.on('data', seen);
    up.on('exit', (code) => reject(new Error(`medallion up exited (${code}): ${out.slice(-800)}`)));
  });
}

async function main() {
  await startUp();
  check('medallion up is running', true);
  const runDir = path.join(work, 'up', readdirSync(path.join(work, 'up')).find((d) => d.startsWith('run-')));
  const roles = JSON.parse(readFileSync(path.join(runDir, 'up.json'), 'utf8'));
  const field = (role, key) => roles.find((r) => r.role === role)[key];
  const LED = ['--ledger', field('ledger', 'url'), '--log-key', field('ledger', 'log_key')];
  const society = field('society (issuer)', 'url');
  const patientUrl = field("patient's container", 'url');
  const patientDid = field("patient's container", 'owner');
  const drUrl = field("physician's container", 'url').replace(/\/$/, '');
  const drDid = field("physician's container", 'owner');
  const pharmacy = field('pharmacy', 'url').replace(/\/$/, '');
  const DR = ['--store', path.join(runDir, 'physician', 'physician.wallet'), '--passphrase-file', path.join(runDir, 'physician', 'passphrase.txt'), '--did', drDid];

  // --- the prescription's pharmacy copy, bound (cnf) to a key this script holds ---
  const holder = crypto.generateKeyPairSync('ed25519');
  const pseudonym = holder.publicKey.export({ format: 'jwk' }).x;
  run(['issuer', 'onboard', '--url', society, ...DR, '--license-number', 'MA-MD-204812', '--name', 'Dr. Elena Rivera', '--out', 'license.json']);
  run(['consent', 'signin', '--url', drUrl, ...DR, '--session-file', 'dr.session']);
  run(['physician', 'prescribe', ...DR, '--license', 'license.json', '--request', path.join(runDir, 'medication-request.json'), '--patient', patientDid, '--holder', pseudonym, '--container', drUrl, '--session-file', 'dr.session', '--out', 'draft.json', ...LED]);
  run(['physician', 'deliver', '--draft', 'draft.json', ...DR, '--session-file', 'dr.session', '--patient-container', patientUrl, '--out', 'rx.json', '--copy-out', 'rx.copy.json', ...LED]);
  const copy = JSON.parse(readFileSync(path.join(work, 'rx.copy.json'), 'utf8')).sd_jwt;
  check('the physician prescribed: a pharmacy copy (SD-JWT VC) bound to our key', typeof copy === 'string' && copy.includes('~'));

  // --- a pharmacist asks for it ---
  const staff = await passkeyFromLink(field('pharmacy', 'sign_in_link'));
  const staffHeaders = { cookie: staff.cookie, origin: staff.origin, 'x-csrf-token': staff.csrf, 'content-type': 'application/json' };
  const newRequest = async (body = {}) => {
    const r = await fetch(`${pharmacy}/web/v1/counter/oid4vp/requests`, { method: 'POST', headers: staffHeaders, body: JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
  };
  const outcome = async (id) => (await fetch(`${pharmacy}/web/v1/counter/oid4vp/requests/${id}`, { headers: staffHeaders })).json();
  const anonymous = await fetch(`${pharmacy}/web/v1/counter/oid4vp/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  check('a presentation request needs a pharmacist\'s session (401/403)', anonymous.status === 401 || anonymous.status === 403, anonymous.status);
  const made = await newRequest();
  const pharmacyDid = field('pharmacy', 'did');
  check('the pharmacist makes a request: openid4vp:// by reference and by value (a signed request=), client_id decentralized_identifier:<the pharmacy\'s DID>', made.status === 201 && made.json.uri.startsWith('openid4vp://?client_id=decentralized_identifier') && made.json.uri.includes('&request_uri=') && made.json.uri_by_value.includes('&request=') && made.json.client_id === `decentralized_identifier:${pharmacyDid}` && pharmacyDid.startsWith('did:key:'), made);
  const clientId = made.json.client_id;

  // Their holder-side library resolves the request; its verifyJwt callback checks the request
  // object's signature as §5.9.3 says: the DID resolved (their did:key driver), the kid's
  // verification method in the document (under authentication), the JWS verified by jose.
  const didDriver = DidKey.driver();
  didDriver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
  const verifiedBy = [];
  const verifyJwt = async (signer, { compact }) => {
    if (signer.method !== 'did') return { verified: false };
    const did = signer.didUrl.split('#')[0];
    const doc = await didDriver.get({ did });
    const vm = (doc.verificationMethod ?? []).find((m) => m.id === signer.didUrl);
    const authn = (doc.authentication ?? []).some((a) => (typeof a === 'string' ? a : a.id) === signer.didUrl);
    if (!vm || !authn || !vm.publicKeyMultibase?.startsWith('z6Mk')) return { verified: false };
    const raw = unbase58(vm.publicKeyMultibase.slice(1)).subarray(2);  // after the 0xed01 header
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) };
    try {
      await compactVerify(compact, await importJWK(jwk, 'EdDSA'));
    } catch {
      return { verified: false };
    }
    verifiedBy.push(signer.didUrl);
    return { verified: true, signerJwk: jwk };
  };
  const wallet = new Openid4vpClient({ callbacks: { fetch, verifyJwt, hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()) } });
  const resolveRequest = async (uri) => {
    const parsed = parseOpenid4vpAuthorizationRequest({ authorizationRequest: uri });
    return wallet.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  };
  const resolved = await resolveRequest(made.json.uri_by_value);
  const nonceOf = (r) => r.authorizationRequestPayload.nonce;
  const query = resolved.dcql?.query;
  check('their library resolves it by value: decentralized_identifier client, the signature verified with the DID\'s key, direct_post, a DCQL query for the prescription vct', resolved.client.prefix === 'decentralized_identifier' && resolved.client.identifier === pharmacyDid && resolved.client.didUrl?.startsWith(`${pharmacyDid}#`) && verifiedBy.length === 1 && resolved.authorizationRequestPayload.response_mode === 'direct_post' && query?.credentials?.[0]?.meta?.vct_values?.[0] === PRESCRIPTION_VCT && !JSON.stringify(query).includes('"sub"'), { client: resolved.client, query, verifiedBy });
  // The by-reference form: the request object is a JWS (typ oauth-authz-req+jwt, kid a DID URL
  // of the pharmacy's DID, aud https://self-issued.me/v2 per §5.8).
  const object = await fetch(made.json.request_uri);
  const objectText = await object.text();
  const objectHeader = JSON.parse(Buffer.from(objectText.split('.')[0], 'base64url').toString());
  const objectBody = JSON.parse(Buffer.from(objectText.split('.')[1], 'base64url').toString());
  check('the request object by reference: application/oauth-authz-req+jwt, EdDSA by the pharmacy\'s DID key, typ oauth-authz-req+jwt, aud self-issued.me/v2, the same nonce', object.headers.get('content-type').startsWith('application/oauth-authz-req+jwt') && objectHeader.alg === 'EdDSA' && objectHeader.typ === 'oauth-authz-req+jwt' && objectHeader.kid.startsWith(`${pharmacyDid}#`) && objectBody.aud === 'https://self-issued.me/v2' && objectBody.client_id === clientId && objectBody.nonce === nonceOf(resolved), { objectHeader, objectBody });
  const byRef = await resolveRequest(made.json.uri);
  check('their library resolves it by reference too (fetched, signature verified, the same nonce)', byRef.client.prefix === 'decentralized_identifier' && verifiedBy.length === 2 && nonceOf(byRef) === nonceOf(resolved), { client: byRef.client });
  // A request object altered on the way (another response_uri) is refused by their library.
  const forged = { ...objectBody, response_uri: 'https://attacker.example/collect' };
  const forgedUri = `openid4vp://?client_id=${encodeURIComponent(clientId)}&request=${objectText.split('.')[0]}.${b64u(JSON.stringify(forged))}.${objectText.split('.')[2]}`;
  let forgedError = null;
  try {
    await resolveRequest(forgedUri);
  } catch (e) {
    forgedError = String(e?.message || e);
  }
  check('a request object altered after signing is refused by their library (the signature does not verify)', forgedError !== null && /verif/i.test(forgedError) && verifiedBy.length === 2, forgedError);
  // Our own wallet (`oid4vp respond`, a dry run: nothing is sent) reads the same request by
  // reference, checks the signature with the pharmacy's did:key and names the verifier's DID;
  // the altered object is refused (non-zero exit).
  writeFileSync(path.join(work, 'copy.sd-jwt'), copy);
  const ours = JSON.parse(run(['oid4vp', 'respond', made.json.uri, '--credential', 'copy.sd-jwt', '--did', pharmacyDid, '--store', 'unused.wallet', '--json']));
  check('`medallion oid4vp respond` (dry run) verifies the signed request by reference and names verifier_did', ours.sent === false && ours.client_id === clientId && ours.verifier_did === pharmacyDid && ours.disclosures?.[0]?.query_id === 'prescription', ours);
  const oursForged = runFails(['oid4vp', 'respond', forgedUri, '--credential', 'copy.sd-jwt', '--did', pharmacyDid, '--store', 'unused.wallet', '--json']);
  check('`medallion oid4vp respond` refuses the altered request object (signature_invalid)', oursForged !== null && oursForged.status !== 0 && oursForged.stderr.includes('signature_invalid'), oursForged);

  // The presentation: @sd-jwt/sd-jwt-vc with a KB-JWT by our key.
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: (data) => crypto.sign(null, Buffer.from(data), holder.privateKey).toString('base64url'),
    kbSignAlg: 'EdDSA',
  });
  const present = (nonce, aud = clientId) => sdjwt.present(copy, {}, { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud, nonce } } });
  const payloadOf = (r) => r.authorizationRequestPayload;
  const answer = async (req, presentation) => wallet.createOpenid4vpAuthorizationResponse({ authorizationRequestPayload: payloadOf(req), authorizationResponsePayload: { vp_token: { prescription: [presentation] } } });
  const post = async (form) => {
    const r = await fetch(payloadOf(resolved).response_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    return { status: r.status, json: await r.json().catch(() => null) };
  };
  const formOf = (resp) => Object.fromEntries(Object.entries(resp.authorizationResponsePayload).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const refused = (r, reason) => r.status === 400 && r.json?.error === 'invalid_request' && typeof r.json?.error_description === 'string' && r.json.error_description.includes(reason);

  const nonce = payloadOf(resolved).nonce;
  const wrongNonce = await post(formOf(await answer(resolved, await present('not-this-requests-nonce'))));
  check('a wrong nonce is refused (invalid_request, nonce_mismatch)', refused(wrongNonce, 'nonce_mismatch'), wrongNonce);
  const other = await newRequest();
  const otherResolved = await resolveRequest(other.json.uri_by_value);
  const crossed = formOf(await answer(otherResolved, await present(payloadOf(otherResolved).nonce)));
  crossed.state = payloadOf(resolved).state;
  const crossedR = await post(crossed);
  check('another request\'s answer under this state is refused (nonce_mismatch)', refused(crossedR, 'nonce_mismatch'), crossedR);
  const elsewhere = await post(formOf(await answer(resolved, await present(nonce, 'redirect_uri:https://other-verifier.example/cb'))));
  check('a KB-JWT for another verifier (aud) is refused (aud_mismatch)', refused(elsewhere, 'aud_mismatch'), elsewhere);
  const garbled = await post({ state: payloadOf(resolved).state, vp_token: '{"prescription": "not-an-array"}' });
  check('a garbled vp_token is refused (invalid_request)', garbled.status === 400 && garbled.json?.error === 'invalid_request', garbled);
  const unknown = await post({ state: 'no-such-state', vp_token: '{}' });
  check('an unknown state is refused (invalid_request)', unknown.status === 400 && unknown.json?.error === 'invalid_request', unknown);
  // A query that asks for `sub` (a controlled substance), answered without disclosing it.
  const asksSub = await newRequest({ controlled: true });
  const asksSubResolved = await resolveRequest(asksSub.json.uri_by_value);
  check('a controlled-substance request asks for sub in its DCQL query', JSON.stringify(asksSubResolved.dcql?.query).includes('"sub"'), asksSubResolved.dcql);
  const withheld = await post(formOf(await answer(asksSubResolved, await present(payloadOf(asksSubResolved).nonce))));
  check('a claim the pharmacy asked for and the wallet withheld (sub) is refused (invalid_request, not satisfied)', refused(withheld, 'not satisfied'), withheld);
  check('none of them ended the request (the staff see "waiting")', (await outcome(made.json.id)).status === 'waiting');

  // The real answer, made and submitted by their library.
  const response = await answer(resolved, await present(nonce));
  const submitted = await wallet.submitOpenid4vpAuthorizationResponse({ authorizationRequestPayload: payloadOf(resolved), authorizationResponsePayload: response.authorizationResponsePayload });
  check('their library submits the direct_post response: 200', submitted.response.status === 200, submitted.response.status);
  const st = await outcome(made.json.id);
  check('the pharmacy dispensed (the staff\'s outcome: dispensed, fill 1, a signed receipt, nothing disclosed)', st.status === 'dispensed' && st.result?.fill === 1 && typeof st.result?.receipt === 'object' && (st.result?.disclosed ?? []).length === 0, st);
  const replay = await post(formOf(response));
  check('the same response replayed is refused (invalid_request, already answered)', refused(replay, 'already answered'), replay);
  check('the other request is still open', (await outcome(other.json.id)).status === 'waiting');
  // direct_post.jwt (§8.3): the response encrypted with jose 5 (an independent JWE
  // implementation) to the request's key from client_metadata.jwks, ECDH-ES + A256GCM.
  // This one is made by a script: `medallion oid4vp request --pharmacy` with the pharmacy's
  // automation token (DIR/admin.token), its outcome read by `medallion oid4vp outcome`.
  const adminToken = path.join(runDir, 'pharmacy', 'data', 'admin.token');
  writeFileSync(path.join(work, 'wrong.token'), 'not-the-token\n');
  const noToken = runFails(['oid4vp', 'request', '--pharmacy', pharmacy, '--admin-token-file', path.join(work, 'wrong.token'), '--json']);
  check('`medallion oid4vp request --pharmacy` with a wrong token is refused (invalid_token)', noToken !== null && noToken.status !== 0 && noToken.stderr.includes('invalid_token'), noToken);
  const enc = { status: 201, json: JSON.parse(run(['oid4vp', 'request', '--pharmacy', pharmacy, '--admin-token-file', adminToken, '--encrypted', '--json'])) };
  check('`medallion oid4vp request --pharmacy --encrypted` makes the pharmacy\'s request (decentralized_identifier client, an id)', enc.json.client_id === clientId && typeof enc.json.id === 'string' && enc.json.uri.startsWith('openid4vp://?client_id=decentralized_identifier'), enc.json);
  const cliOutcome = (id) => JSON.parse(run(['oid4vp', 'outcome', '--pharmacy', pharmacy, '--admin-token-file', adminToken, '--id', id, '--json']));
  check('`medallion oid4vp outcome` reads it: waiting', cliOutcome(enc.json.id).status === 'waiting');
  const encResolved = await resolveRequest(enc.json.uri_by_value);
  const encPayload = payloadOf(encResolved);
  const jwk = encPayload.client_metadata?.jwks?.keys?.[0];
  check('an encrypted request: response_mode direct_post.jwt, an EC P-256 key in client_metadata.jwks (their parser accepts it)', encPayload.response_mode === 'direct_post.jwt' && jwk?.kty === 'EC' && jwk?.crv === 'P-256' && !('d' in jwk), encPayload);
  const encAnswer = { vp_token: { prescription: [await present(encPayload.nonce)] }, state: encPayload.state };
  const jweFor = async (payload, encAlg) => new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ECDH-ES', enc: encAlg, kid: jwk.kid }).encrypt(await importJWK(jwk, 'ECDH-ES'));
  const plainToEnc = await post({ vp_token: JSON.stringify(encAnswer.vp_token), state: encAnswer.state });
  check('the plain form for an encrypted request is refused (invalid_request)', plainToEnc.status === 400 && plainToEnc.json?.error === 'invalid_request', plainToEnc);
  const good = await jweFor(encAnswer, 'A256GCM');
  const parts = good.split('.');
  parts[3] = parts[3].slice(0, -2) + (parts[3].endsWith('AA') ? 'BB' : 'AA');
  const tamperedR = await post({ response: parts.join('.') });
  check('a tampered JWE is refused (invalid_request)', tamperedR.status === 400 && tamperedR.json?.error === 'invalid_request', tamperedR);
  const encR = await post({ response: good });
  const encSt = cliOutcome(enc.json.id);
  const fillsAllowed = st.result?.fills_allowed ?? 1;
  check(`jose's ECDH-ES/A256GCM JWE is decrypted and runs the pipeline (${fillsAllowed > 1 ? 'dispensed, fill 2' : 'already_dispensed: one fill allowed'})`,
    fillsAllowed > 1 ? encR.status === 200 && encSt.status === 'dispensed' && encSt.result?.fill === 2 : encR.status === 400 && encSt.error === 'already_dispensed', { encR, encSt });

  // The wallet's §8.5 error leaves the request open, noted for the staff.
  const declined = await post({ state: payloadOf(otherResolved).state, error: 'access_denied' });
  const otherSt = await outcome(other.json.id);
  check('a wallet\'s access_denied is acknowledged (200) and shown to the staff; the request stays open', declined.status === 200 && otherSt.status === 'waiting' && otherSt.declined?.error === 'access_denied', otherSt);
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`not ok - ${e.stack ?? e}`);
  })
  .finally(() => {
    clearTimeout(watchdog);
    cleanup();
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  });
