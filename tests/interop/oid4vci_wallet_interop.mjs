// OpenID4VCI 1.0 interop, the other direction (docs/openid4vc.md §"Interop"): an issuer built
// with the OpenWallet Foundation's libraries (@openid4vc/openid4vci + @openid4vc/oauth2 0.4.6 —
// their Openid4vciIssuer for the issuer metadata, offers, credential request parsing, `jwt` key
// proof verification, nonce, credential and deferred responses; their Oauth2AuthorizationServer
// for the AS metadata, token request parsing, pre-authorized code + tx_code and authorization
// code + PKCE verification and the access token) issuing an SD-JWT VC signed with
// @sd-jwt/sd-jwt-vc 0.19.0, on a loopback HTTP server. `medallion oid4vci accept --container`
// takes its offers into a fresh patient container: pre-authorized with a tx_code, the
// authorization code flow (PKCE S256, the wallet reading the 302 itself) and deferred issuance
// (202 + transaction_id, polled at the interval); the container then lists each credential.
// Refused, and nothing filed: a credential signed by another key, a credential bound to another
// key, a wrong tx_code, an offer from a plain-http issuer that is not loopback. Then the
// container answers an OpenID4VP request (`oid4vp request` → `oid4vp respond --container --yes`
// → `oid4vp verify`) disclosing only the claim asked for; a query it cannot satisfy is refused
// with nothing sent, and `--decline` sends the §8.5 access_denied.
//
// Usage: node oid4vci_wallet_interop.mjs <path-to-medallion>
import crypto from 'node:crypto';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let Openid4vciIssuer, Oauth2AuthorizationServer, setGlobalConfig, SDJwtVcInstance, digest, generateSalt;
try {
  ({ Openid4vciIssuer } = await import('@openid4vc/openid4vci'));
  ({ Oauth2AuthorizationServer, setGlobalConfig } = await import('@openid4vc/oauth2'));
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest, generateSalt } = await import('@sd-jwt/crypto-nodejs'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${path.dirname(fileURLToPath(import.meta.url))}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}
// The issuer listens on loopback without TLS; the library refuses http:// URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

const BIN = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!BIN) {
  console.log('usage: node oid4vci_wallet_interop.mjs <path-to-medallion>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}${detail === undefined ? '' : ` (${JSON.stringify(detail).slice(0, 700)})`}`);
  }
  return Boolean(cond);
}

const work = mkdtempSync(path.join(tmpdir(), 'medallion-oid4vci-wallet-'));
const ENV = { ...process.env, MEDALLION_PASSPHRASE: 'oid4vci-wallet-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
const children = [];
let server = null;
function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  if (server) server.close();
  rmSync(work, { recursive: true, force: true });
}
const watchdog = setTimeout(() => {
  console.log('not ok - the suite did not finish in 240 s');
  cleanup();
  process.exit(1);
}, 240000);

// --- keys and signatures ---------------------------------------------------------------------

const b64u = (b) => Buffer.from(b).toString('base64url');
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
function ed25519Key() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const mk = `z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(jwk.x, 'base64url')]))}`;
  return { publicKey, privateKey, jwk, did: `did:key:${mk}`, kid: `did:key:${mk}#${mk}` };
}
const issuerKey = ed25519Key(); // signs the credentials (iss = its did:key)
const rogueKey = ed25519Key(); // another key: what it signs must be refused
const asKey = ed25519Key(); // signs the access tokens
const strangerKey = ed25519Key(); // a holder key that is not the container's
const signJws = (header, payload, privateKey) => {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(crypto.sign(null, Buffer.from(input), privateKey))}`;
};

// The CallbackContext of @openid4vc/oauth2 for the issuer and its authorization server.
const callbacks = {
  hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk' || signer.publicJwk.x !== asKey.jwk.x) throw new Error('unexpected signer');
    return { jwt: signJws(header, payload, asKey.privateKey), signerJwk: asKey.jwk };
  },
  verifyJwt: async (signer, { compact }) => {
    const jwk = signer.publicJwk;
    if (!jwk) return { verified: false };
    const [h, p, s] = compact.split('.');
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    const alg = JSON.parse(Buffer.from(h, 'base64url')).alg;
    const ok = alg === 'EdDSA'
      ? crypto.verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))
      : alg === 'ES256' && crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    return ok ? { verified: true, signerJwk: jwk } : { verified: false, signerJwk: jwk };
  },
};

// --- the issuer (their libraries) ------------------------------------------------------------

const port = await new Promise((resolve) => {
  const s = http.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const ISSUER = `http://127.0.0.1:${port}`;
const VCT = 'urn:example:vct:PatientCard:1';
const CONFIG = 'PatientCard_dc+sd-jwt';
const issuer = new Openid4vciIssuer({ callbacks });
const authServer = new Oauth2AuthorizationServer({ callbacks });
const credentialIssuerMetadata = issuer.createCredentialIssuerMetadata({
  credential_issuer: ISSUER,
  credential_endpoint: `${ISSUER}/credential`,
  nonce_endpoint: `${ISSUER}/nonce`,
  deferred_credential_endpoint: `${ISSUER}/deferred`,
  credential_configurations_supported: {
    [CONFIG]: {
      format: 'dc+sd-jwt',
      vct: VCT,
      scope: 'patient_card',
      cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: ['EdDSA'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['EdDSA', 'ES256'] } },
    },
  },
});
const asMetadata = authServer.createAuthorizationServerMetadata({
  issuer: ISSUER,
  token_endpoint: `${ISSUER}/token`,
  authorization_endpoint: `${ISSUER}/authorize`,
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'urn:ietf:params:oauth:grant-type:pre-authorized_code'],
  code_challenge_methods_supported: ['S256'],
  'pre-authorized_grant_anonymous_access_supported': true,
});
const issuerMetadata = {
  originalDraftVersion: 'V1', credentialIssuer: credentialIssuerMetadata, authorizationServers: [asMetadata],
  knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuerMetadata),
};

// Issuer state: offers (by pre-authorized code or issuer_state), authorization codes, tokens,
// nonces, deferred transactions; and what the issuer saw.
const offers = new Map(); // code or issuer_state -> {kind, txCode, mode}
const codes = new Map(); // authorization code -> {offer, challenge, redirectUri}
const tokens = new Map(); // access token -> offer
const nonces = new Set();
const transactions = new Map(); // transaction_id -> {credential, polls}
const seen = { proofKeys: [], pkceVerified: 0, deferredPolls: 0, issued: [] };

async function issueSdJwt(holderJwk, mode) {
  const key = mode === 'rogue' ? rogueKey : issuerKey; // rogue: signed by another key, same kid
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: async (data) => b64u(crypto.sign(null, Buffer.from(data), key.privateKey)),
    signAlg: 'EdDSA',
  });
  const cnf = mode === 'stranger' ? strangerKey.jwk : holderJwk;
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuerKey.did, iat: now, exp: now + 3600, vct: VCT, cnf: { jwk: cnf },
    given_name: 'Alice', family_name: 'Example', birthdate: '1990-04-01', member_id: 'M-4711',
  };
  const credential = await sdjwt.issue(claims, { _sd: ['given_name', 'family_name', 'birthdate', 'member_id'] },
    { header: { kid: issuerKey.kid, typ: 'dc+sd-jwt' } });
  seen.issued.push(credential);
  return credential;
}

const requestLike = (req) => ({ method: req.method, url: `${ISSUER}${req.url}`, headers: new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function oauthError(res, e) {
  if (e && e.errorResponse) return send(res, e.status || 400, e.errorResponse);
  return send(res, 400, { error: 'invalid_request', error_description: String(e && e.message) });
}

async function handle(req, res) {
  const url = new URL(req.url, ISSUER);
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const bearer = (req.headers.authorization || '').replace(/^Bearer /, '');
  try {
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-credential-issuer') return send(res, 200, credentialIssuerMetadata);
    if (req.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') return send(res, 200, asMetadata);
    if (req.method === 'GET' && url.pathname === '/authorize') {
      // No sign-in page: the issuer_state of the offer authenticates (as the society's does).
      const q = url.searchParams;
      const offer = offers.get(q.get('issuer_state') || '');
      if (!offer || offer.kind !== 'code') return send(res, 400, { error: 'access_denied' });
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return send(res, 400, { error: 'invalid_request' });
      offers.delete(q.get('issuer_state'));
      const code = b64u(crypto.randomBytes(32));
      codes.set(code, { offer, challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri') });
      const to = new URL(q.get('redirect_uri'));
      to.searchParams.set('code', code);
      to.searchParams.set('state', q.get('state') || '');
      to.searchParams.set('iss', ISSUER);
      res.writeHead(302, { location: to.toString() });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      const form = Object.fromEntries(new URLSearchParams(raw));
      const parsed = authServer.parseAccessTokenRequest({ request: requestLike(req), accessTokenRequest: form });
      let offer;
      if (parsed.grant.grantType === 'urn:ietf:params:oauth:grant-type:pre-authorized_code') {
        offer = offers.get(parsed.grant.preAuthorizedCode);
        if (!offer || offer.kind !== 'pre') return send(res, 400, { error: 'invalid_grant' });
        await authServer.verifyPreAuthorizedCodeAccessTokenRequest({
          grant: parsed.grant, accessTokenRequest: parsed.accessTokenRequest, request: requestLike(req),
          expectedPreAuthorizedCode: parsed.grant.preAuthorizedCode, expectedTxCode: offer.txCode, authorizationServerMetadata: asMetadata,
        });
        offers.delete(parsed.grant.preAuthorizedCode);
      } else if (parsed.grant.grantType === 'authorization_code') {
        const c = codes.get(parsed.grant.code);
        if (!c) return send(res, 400, { error: 'invalid_grant' });
        codes.delete(parsed.grant.code);
        if (form.redirect_uri !== c.redirectUri) return send(res, 400, { error: 'invalid_grant' });
        await authServer.verifyAuthorizationCodeAccessTokenRequest({
          grant: parsed.grant, accessTokenRequest: parsed.accessTokenRequest, request: requestLike(req),
          expectedCode: parsed.grant.code, authorizationServerMetadata: asMetadata,
          pkce: { codeVerifier: parsed.pkceCodeVerifier, codeChallenge: c.challenge, codeChallengeMethod: 'S256' },
        }).catch((e) => { throw e; });
        seen.pkceVerified += 1;
        offer = c.offer;
      } else {
        return send(res, 400, { error: 'unsupported_grant_type' });
      }
      const answer = await authServer.createAccessTokenResponse({
        audience: ISSUER, authorizationServer: ISSUER, expiresInSeconds: 300, subject: 'holder',
        signer: { method: 'jwk', alg: 'EdDSA', publicJwk: asKey.jwk },
      });
      tokens.set(answer.access_token, offer);
      return send(res, 200, answer);
    }
    if (req.method === 'POST' && url.pathname === '/nonce') {
      const cNonce = b64u(crypto.randomBytes(24));
      nonces.add(cNonce);
      return send(res, 200, issuer.createNonceResponse({ cNonce, cNonceExpiresIn: 300 }));
    }
    if (req.method === 'POST' && url.pathname === '/credential') {
      const offer = tokens.get(bearer);
      if (!offer) return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      tokens.delete(bearer);
      const credentialRequest = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(raw) });
      const jwt = credentialRequest.proofs?.jwt?.[0];
      if (!jwt) return send(res, 400, { error: 'invalid_proof' });
      const nonce = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')).nonce;
      if (!nonces.delete(nonce)) return send(res, 400, { error: 'invalid_nonce' });
      const verified = await issuer.verifyCredentialRequestJwtProof({
        issuerMetadata, jwt, expectedNonce: nonce, nonceExpiresAt: new Date(Date.now() + 300000),
      });
      const holderJwk = verified.signer.publicJwk;
      seen.proofKeys.push(holderJwk);
      const credential = await issueSdJwt(holderJwk, offer.mode);
      if (offer.mode === 'deferred') {
        const transactionId = b64u(crypto.randomBytes(16));
        transactions.set(transactionId, { credential, polls: 0 });
        return send(res, 202, issuer.createCredentialResponse({ credentialRequest, transactionId, interval: 1 }));
      }
      return send(res, 200, issuer.createCredentialResponse({ credentialRequest, credentials: [{ credential }] }));
    }
    if (req.method === 'POST' && url.pathname === '/deferred') {
      const { transaction_id: id } = JSON.parse(raw);
      const t = transactions.get(id);
      if (!t) return send(res, 400, { error: 'invalid_transaction_id' });
      seen.deferredPolls += 1;
      t.polls += 1;
      if (t.polls < 2) return send(res, 202, issuer.createDeferredCredentialResponse({ transactionId: id, interval: 1 }));
      transactions.delete(id);
      return send(res, 200, issuer.createDeferredCredentialResponse({ credentials: [{ credential: t.credential }] }));
    }
    return send(res, 404, { error: 'not_found' });
  } catch (e) {
    if (process.env.DEBUG_ISSUER) console.log('# issuer error', e, JSON.stringify(e.errorResponse || {}), e.cause);
    return oauthError(res, e);
  }
}

async function makeOffer(kind, mode = 'normal') {
  const code = b64u(crypto.randomBytes(32));
  const txCode = kind === 'pre' ? String(crypto.randomInt(100000, 999999)) : undefined;
  offers.set(code, { kind, code, txCode, mode });
  const grants = kind === 'pre'
    ? { 'urn:ietf:params:oauth:grant-type:pre-authorized_code': { 'pre-authorized_code': code, tx_code: { input_mode: 'numeric', length: 6 } } }
    : { authorization_code: { issuer_state: code } };
  const { credentialOffer } = await issuer.createCredentialOffer({ issuerMetadata, credentialConfigurationIds: [CONFIG], grants });
  return { uri: credentialOffer, txCode };
}

// --- the medallion side ----------------------------------------------------------------------

// Asynchronous: the issuer answers from this very process while the command runs.
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { cwd: work, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(out);
      } catch {
        /* not JSON */
      }
      resolve({ code, out, err, json });
    });
  });
}
function startRole(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: work, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          resolve(JSON.parse(line));
          return;
        } catch {
          /* partial */
        }
      }
    });
    child.on('exit', (code) => {
      if (code !== null && code !== 0) console.log(`# ${args[0]} exited (${code}): ${err.slice(-800)}`);
      reject(new Error(`${args[0]} exited (${code}): ${err.slice(-800)}`));
    });
  });
}
async function listKept(box, session) {
  const r = await fetch(`${box}/owner/v1/credentials`, { headers: { authorization: `Bearer ${session}` } });
  return r.json();
}

async function main() {
  server = http.createServer((req, res) => { handle(req, res); });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));

  check('their library built the issuer metadata (credential_issuer, nonce and deferred endpoints)', credentialIssuerMetadata.credential_issuer === ISSUER && credentialIssuerMetadata.deferred_credential_endpoint);
  let r = await run(['wallet', 'init', '--store', 'alice.wallet', '--kdf', 'test', '--mnemonic-out', 'alice.words']);
  if (!check('a fresh wallet for the patient', r.code === 0, r.err)) return;
  const boxBanner = await startRole(['container', 'serve', '--dir', 'alice-box', '--store', 'alice.wallet', '--listen', '127.0.0.1:0', '--json']);
  const box = boxBanner.url;
  r = await run(['consent', 'signin', '--url', box, '--store', 'alice.wallet', '--session-file', 'alice.session']);
  if (!check('the patient signs in to her fresh container', r.code === 0 && r.json, r.err)) return;
  const aliceDid = r.json.did;
  const session = readFileSync(path.join(work, 'alice.session'), 'utf8').trim();
  check('her container holds no credential yet', (await listKept(box, session)).length === 0);
  const containerArgs = ['--store', 'alice.wallet', '--container', box, '--session-file', 'alice.session', '--json'];

  // 1. Pre-authorized code with a tx_code.
  let offer = await makeOffer('pre');
  check('their createCredentialOffer makes an openid-credential-offer:// URI', offer.uri.startsWith('openid-credential-offer://'), offer.uri);
  r = await run(['oid4vci', 'accept', offer.uri, '--tx-code', '000000', ...containerArgs]);
  check('a wrong tx_code is refused by their AS (invalid_grant), exit non-zero', r.code !== 0 && /invalid_grant/.test(r.err), r.err);
  check('… and nothing is filed', (await listKept(box, session)).length === 0);
  offer = await makeOffer('pre');
  r = await run(['oid4vci', 'accept', offer.uri, '--tx-code', offer.txCode, ...containerArgs]);
  check('pre-authorized + tx_code: our container obtains the credential from their issuer', r.code === 0 && r.json && r.json.id, r.err || r.out);
  let kept = await listKept(box, session);
  const first = kept[0] || {};
  check('the container lists it: format dc+sd-jwt, the vct as its type, the issuer did:key', kept.length === 1 && first.format === 'dc+sd-jwt' && (first.types || []).includes(VCT) && first.issuer === issuerKey.did, kept);
  check('… the SD-JWT exactly as their issuer signed it, every disclosure kept', typeof first.credential === 'string' && first.credential === seen.issued[seen.issued.length - 1], first.credential && first.credential.slice(0, 80));
  const proofKey = seen.proofKeys[seen.proofKeys.length - 1] || {};
  const didOfProof = `did:key:z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(proofKey.x || '', 'base64url')]))}`;
  check('their verifyCredentialRequestJwtProof accepted our proof, by the container owner\'s key (her did:key)', proofKey.crv === 'Ed25519' && didOfProof === aliceDid, { proofKey, aliceDid });

  // 2. Refusals: nothing is filed.
  offer = await makeOffer('pre', 'rogue');
  r = await run(['oid4vci', 'accept', offer.uri, '--tx-code', offer.txCode, ...containerArgs]);
  check('a credential signed by another key than the one its kid names is refused (signature_invalid)', r.code !== 0 && /signature_invalid/.test(r.err), r.err || r.out);
  offer = await makeOffer('pre', 'stranger');
  r = await run(['oid4vci', 'accept', offer.uri, '--tx-code', offer.txCode, ...containerArgs]);
  check('a credential bound (cnf) to another key than the proven one is refused (cnf_mismatch)', r.code !== 0 && /cnf_mismatch/.test(r.err), r.err || r.out);
  check('… and neither is filed', (await listKept(box, session)).length === 1);
  // The container checks too: the owner API refuses the forged one posted directly.
  const forged = seen.issued[seen.issued.length - 2];
  const direct = await fetch(`${box}/owner/v1/credentials`, { method: 'POST', headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' }, body: JSON.stringify({ format: 'dc+sd-jwt', credential: forged }) });
  const directBody = await direct.json().catch(() => ({}));
  check('the container itself refuses the forged SD-JWT VC posted to its owner API (400 invalid_credential)', direct.status === 400 && directBody.error === 'invalid_credential' && (await listKept(box, session)).length === 1, { status: direct.status, directBody });
  const farOffer = `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify({ credential_issuer: 'http://issuer.example', credential_configuration_ids: [CONFIG], grants: { 'urn:ietf:params:oauth:grant-type:pre-authorized_code': { 'pre-authorized_code': 'x' } } }))}`;
  r = await run(['oid4vci', 'accept', farOffer, ...containerArgs]);
  check('an offer from a plain-http issuer that is not loopback is refused before any call', r.code !== 0 && /https is required/.test(r.err), r.err);

  // 3. The authorization code flow with PKCE S256.
  offer = await makeOffer('code');
  r = await run(['oid4vci', 'accept', offer.uri, ...containerArgs]);
  check('authorization code flow: the 302 read, their AS verified PKCE S256, the credential filed', r.code === 0 && seen.pkceVerified === 1 && (await listKept(box, session)).length === 2, r.err || r.out);

  // 4. Deferred issuance: 202 + transaction_id, polled at the interval.
  offer = await makeOffer('pre', 'deferred');
  r = await run(['oid4vci', 'accept', offer.uri, '--tx-code', offer.txCode, '--wait', '30', ...containerArgs]);
  check('deferred: our wallet followed the 202 to their deferred endpoint (pending once, then issued) and filed it', r.code === 0 && r.json && r.json.deferred_polls === 2 && seen.deferredPolls === 2 && (await listKept(box, session)).length === 3, r.err || r.out);

  // 5. The container as an OpenID4VP wallet.
  const vpPort = await new Promise((resolve) => { const s = http.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const responseUri = `http://127.0.0.1:${vpPort}/response`;
  const posts = [];
  const vpServer = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    posts.push(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise((resolve) => vpServer.listen(vpPort, '127.0.0.1', resolve));
  try {
    writeFileSync(path.join(work, 'query.json'), JSON.stringify({ credentials: [{ id: 'card', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['member_id'] }] }] }));
    r = await run(['oid4vp', 'request', '--response-uri', responseUri, '--dcql', 'query.json', '--db', 'verifier.db', '--json']);
    const request = r.json && r.json.request_uri;
    r = await run(['oid4vp', 'respond', request, ...containerArgs]);
    check('respond from the container without --yes: the plan names /member_id only, nothing is posted', r.code === 0 && r.json && !r.json.sent && JSON.stringify(r.json.disclosures[0].disclosed_claims) === '["/member_id"]' && posts.length === 0, r.json || r.err);
    r = await run(['oid4vp', 'respond', request, ...containerArgs, '--yes']);
    check('with --yes the container posts a presentation', r.code === 0 && r.json && r.json.sent && posts.length === 1, r.err || r.out);
    writeFileSync(path.join(work, 'form.txt'), posts[0] || '');
    r = await run(['oid4vp', 'verify', '--db', 'verifier.db', '--response-uri', responseUri, '--form', 'form.txt', '--json']);
    const claims = r.json && r.json.credentials && r.json.credentials.card && r.json.credentials.card[0];
    check('our verifier accepts it: their issuer\'s signature, the KB-JWT by her key, only member_id disclosed', r.code === 0 && claims && claims.key_bound && claims.claims.member_id === 'M-4711' && !('given_name' in claims.claims) && !('birthdate' in claims.claims), r.json || r.err);
    writeFileSync(path.join(work, 'query2.json'), JSON.stringify({ credentials: [{ id: 'license', format: 'dc+sd-jwt', meta: { vct_values: ['urn:medallion:vct:MedicalLicenseCredential:1'] }, claims: [{ path: ['name'] }] }] }));
    r = await run(['oid4vp', 'request', '--response-uri', responseUri, '--dcql', 'query2.json', '--db', 'verifier.db', '--json']);
    const request2 = r.json && r.json.request_uri;
    r = await run(['oid4vp', 'respond', request2, ...containerArgs, '--yes']);
    check('a query no kept credential satisfies is refused (access_denied), nothing posted', r.code !== 0 && /access_denied/.test(r.err) && posts.length === 1, r.err || r.out);
    r = await run(['oid4vp', 'respond', request2, ...containerArgs, '--decline']);
    check('--decline posts the §8.5 error response access_denied with the request\'s state', r.code === 0 && posts.length === 2 && /error=access_denied/.test(posts[1]) && /state=/.test(posts[1]), posts[1]);
  } finally {
    vpServer.close();
  }
}

try {
  await main();
} catch (e) {
  check('the walk ran to its end', false, e.stack || String(e));
}
clearTimeout(watchdog);
cleanup();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
