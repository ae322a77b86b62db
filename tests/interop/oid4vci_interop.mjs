// OpenID4VCI 1.0 interop (docs/openid4vc.md): the OpenWallet Foundation's wallet-side client
// (@openid4vc/openid4vci + @openid4vc/oauth2 0.4.6, an independent implementation) obtains a
// physician's MedicalLicenseCredential from `medallion issuer serve` through the pre-authorized
// code flow with a transaction code — offer by value and by reference, issuer and AS metadata,
// token, nonce, a `jwt` key proof (ES256 and EdDSA), the credential — and the credential is
// verified with @sd-jwt/sd-jwt-vc against the society's did:web key. Refusals seen from the
// client: a wrong tx_code (invalid_grant), a replayed key proof (invalid_nonce), a proof for
// another issuer (invalid_proof), no access token (401 invalid_token).
//
// Usage: node oid4vci_interop.mjs <path-to-medallion>
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let Openid4vciClient, clientAuthenticationAnonymous, setGlobalConfig, SDJwtVcInstance, digest;
try {
  ({ Openid4vciClient } = await import('@openid4vc/openid4vci'));
  ({ clientAuthenticationAnonymous, setGlobalConfig } = await import('@openid4vc/oauth2'));
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest } = await import('@sd-jwt/crypto-nodejs'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${path.dirname(fileURLToPath(import.meta.url))}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

// The society listens on loopback without TLS here; the library refuses http:// URLs unless told
// (its documented switch). Nothing else of its checking is relaxed.
setGlobalConfig({ allowInsecureUrls: true });

const BIN = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!BIN) {
  console.log('usage: node oid4vci_interop.mjs <path-to-medallion>');
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
    console.log(`not ok - ${name}${detail === undefined ? '' : ` (${JSON.stringify(detail).slice(0, 600)})`}`);
  }
  return Boolean(cond);
}

const work = mkdtempSync(path.join(tmpdir(), 'medallion-oid4vci-'));
const ENV = { ...process.env, MEDALLION_PASSPHRASE: 'oid4vci-interop-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
let society = null;
function cleanup() {
  if (society && society.exitCode === null) society.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
const watchdog = setTimeout(() => {
  console.log('not ok - the suite did not finish in 240 s');
  cleanup();
  process.exit(1);
}, 240000);

// --- helpers ---------------------------------------------------------------------------------

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
function unbase58(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const lead = s.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
}
// did:key of an Ed25519 key (multicodec 0xed01, base58btc).
function didKey(publicKey) {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const mk = `z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  return { did: `did:key:${mk}`, mk };
}
function signJws(header, payload, privateKey) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const alg = header.alg === 'ES256' ? 'sha256' : null;
  const sig = crypto.sign(alg, Buffer.from(input), header.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
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
  return { status: r.status, json, text, headers: r.headers };
}

function startSociety(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: work, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    society = child;
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
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
    child.on('exit', (code) => reject(new Error(`issuer serve exited (${code}): ${err.slice(-800)}`)));
  });
}

// The wallet's callbacks for the OWF client (CallbackContext of @openid4vc/oauth2).
function walletCallbacks(holderKeys) {
  return {
    fetch,
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method === 'did') {
        const { privateKey, publicJwk } = holderKeys.get(signer.didUrl);
        return { jwt: signJws(header, payload, privateKey), signerJwk: publicJwk };
      }
      if (signer.method !== 'jwk') throw new Error(`unexpected signer ${signer.method}`);
      const key = holderKeys.get(signer.publicJwk.x);
      return { jwt: signJws(header, payload, key), signerJwk: signer.publicJwk };
    },
  };
}

// --- the walk --------------------------------------------------------------------------------

async function main() {
  execFileSync(BIN, ['wallet', 'init', '--store', 'society.wallet', '--kdf', 'test', '--mnemonic-out', 'society.words'], { cwd: work, env: ENV });
  const validUntil = new Date(Date.now() + 2 * 365 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(path.join(work, 'directory.json'), JSON.stringify([{ license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'Internal Medicine', schedules: ['II', 'III', 'IV', 'V'], valid_until: validUntil }]));
  const banner = await startSociety(['issuer', 'serve', '--dir', 'society', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', '127.0.0.1:0', '--json']);
  const issuerId = banner.oid4vci?.credential_issuer;
  check('issuer serve names its credential issuer identifier in the banner', typeof issuerId === 'string' && issuerId.startsWith('http://127.0.0.1:'), banner);
  const admin = readFileSync(path.join(work, 'society', 'admin.token'), 'utf8').trim();

  // The physician onboards (the society's check: control of her DID + the directory match).
  const dr = crypto.generateKeyPairSync('ed25519');
  const { did, mk } = didKey(dr.publicKey);
  const challenge = (await call('POST', `${issuerId}/society/v1/challenge`)).json;
  const now = Math.floor(Date.now() / 1000);
  const proof = signJws({ alg: 'EdDSA', kid: `${did}#${mk}`, typ: 'did-auth+jwt' }, { aud: challenge.audience, exp: now + 120, iat: now, iss: did, nonce: challenge.nonce, sub: did }, dr.privateKey);
  const onboard = await call('POST', `${issuerId}/society/v1/licenses`, { body: { proof, license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera' } });
  check('the physician is onboarded (201, her license)', onboard.status === 201 && typeof onboard.json?.id === 'string', onboard.json);
  const licenseId = onboard.json.id;

  const offer = async (extra = {}) => {
    const r = await call('POST', `${issuerId}/society/v1/oid4vci/offers`, { bearer: admin, body: { license_id: licenseId, ...extra } });
    if (r.status !== 201) throw new Error(`offer: ${r.status} ${r.text}`);
    return r.json;
  };
  const noAdmin = await call('POST', `${issuerId}/society/v1/oid4vci/offers`, { body: { license_id: licenseId } });
  check('an offer needs the society\'s admin token (401)', noAdmin.status === 401, noAdmin.json);
  const unknown = await call('POST', `${issuerId}/society/v1/oid4vci/offers`, { bearer: admin, body: { license_id: 'urn:uuid:00000000-0000-4000-8000-000000000000' } });
  check('no offer for a license the society did not issue (404)', unknown.status === 404, unknown.json);

  const holderKeys = new Map();
  const client = new Openid4vciClient({ callbacks: walletCallbacks(holderKeys) });

  // Issuance, once with each proof algorithm; once by value, once by reference.
  const sdjwts = [];
  for (const [alg, byRef] of [['ES256', false], ['EdDSA', true]]) {
    const o = await offer();
    check(`${alg}: the offer is an openid-credential-offer:// URI with a ${o.tx_code.length}-digit tx_code`, o.offer_uri.startsWith('openid-credential-offer://?credential_offer=') && /^\d{6}$/.test(o.tx_code), o);
    const uri = byRef ? o.offer_uri_by_reference : o.offer_uri;
    const credentialOffer = await client.resolveCredentialOffer(uri);
    check(`${alg}: their client resolves the offer ${byRef ? 'by reference' : 'by value'}`, credentialOffer.credential_issuer === issuerId, credentialOffer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const configId = credentialOffer.credential_configuration_ids[0];
    check(`${alg}: their client reads our issuer and AS metadata`, issuerMetadata.credentialIssuer.credential_configurations_supported[configId]?.format === 'dc+sd-jwt', issuerMetadata);

    if (!byRef) {
      let refused = null;
      try {
        await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code === '000000' ? '111111' : '000000' });
      } catch (e) {
        refused = e;
      }
      check(`${alg}: a wrong tx_code is refused (invalid_grant)`, refused && JSON.stringify(refused.errorResponse ?? refused.message).includes('invalid_grant'), refused?.message);
    }
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
    check(`${alg}: the token endpoint answers the pre-authorized code + tx_code`, typeof accessTokenResponse.access_token === 'string' && accessTokenResponse.token_type === 'Bearer', accessTokenResponse);
    const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata });
    check(`${alg}: the nonce endpoint gives a c_nonce`, typeof cNonce === 'string' && cNonce.length >= 32);

    const kp = alg === 'ES256' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) : crypto.generateKeyPairSync('ed25519');
    const publicJwk = kp.publicKey.export({ format: 'jwk' });
    holderKeys.set(publicJwk.x, kp.privateKey);
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configId, nonce: cNonce, signer: { method: 'jwk', alg, publicJwk } });

    if (byRef) {
      // The same proof for another issuer: refused before the nonce is spent.
      const header = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
      const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
      const forOther = signJws(header, { ...payload, aud: 'https://other-issuer.example' }, kp.privateKey);
      const r = await call('POST', issuerMetadata.credentialIssuer.credential_endpoint, { bearer: accessTokenResponse.access_token, body: { credential_configuration_id: configId, proofs: { jwt: [forOther] } } });
      check(`${alg}: a proof whose aud is another issuer is refused (400 invalid_proof)`, r.status === 400 && r.json?.error === 'invalid_proof', r.json);
      const none = await call('POST', issuerMetadata.credentialIssuer.credential_endpoint, { body: { credential_configuration_id: configId, proofs: { jwt: [jwt] } } });
      check(`${alg}: no access token: 401 invalid_token with WWW-Authenticate`, none.status === 401 && none.json?.error === 'invalid_token' && /^Bearer/.test(none.headers.get('www-authenticate') ?? ''), none.json);
    }

    const response = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configId, proofs: { jwt: [jwt] } });
    const credential = response.credentialResponse?.credentials?.[0]?.credential;
    check(`${alg}: their client receives the credential`, typeof credential === 'string' && credential.includes('~'), response.credentialResponse);
    sdjwts.push({ alg, credential, publicJwk });

    // Replaying the same key proof (a fresh token, the spent c_nonce).
    const o2 = await offer();
    const co2 = await client.resolveCredentialOffer(o2.offer_uri);
    const t2 = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: co2, issuerMetadata, txCode: o2.tx_code });
    const replay = await call('POST', issuerMetadata.credentialIssuer.credential_endpoint, { bearer: t2.accessTokenResponse.access_token, body: { credential_configuration_id: configId, proofs: { jwt: [jwt] } } });
    check(`${alg}: a replayed key proof is refused (400 invalid_nonce)`, replay.status === 400 && replay.json?.error === 'invalid_nonce', replay.json);
  }

  // The Authorization Code Flow with PKCE (§3.4, §5; RFC 7636 S256): their client builds the
  // authorization request from an offer with the authorization_code grant (issuer_state), we
  // follow it with plain fetch (no browser: the issuer_state is what authenticates her, so there
  // is no page to sign in on), and their client exchanges the code with its code_verifier.
  {
    const o = await offer({ grant: 'authorization_code' });
    const credentialOffer = await client.resolveCredentialOffer(o.offer_uri);
    const issuerMetadata = await client.resolveIssuerMetadata(issuerId);
    check('auth code: the offer has the authorization_code grant with an issuer_state and no tx_code', typeof credentialOffer.grants?.authorization_code?.issuer_state === 'string' && o.tx_code === '' && !credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'], credentialOffer);
    const redirectUri = 'https://wallet.example/callback';
    const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({ credentialOffer, issuerMetadata, clientId: 'interop-wallet', redirectUri, scope: 'MedicalLicenseCredential' });
    check('auth code: their client builds an S256 PKCE request to our authorization_endpoint', authorizationRequestUrl.startsWith(`${issuerId}/oid4vci/authorize?`) && pkce?.codeChallengeMethod === 'S256', authorizationRequestUrl);
    const answer = await fetch(authorizationRequestUrl, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location') ?? 'about:blank');
    const code = location.searchParams.get('code');
    check('auth code: the authorization endpoint redirects to redirect_uri with code and iss (302)', answer.status === 302 && `${location.origin}${location.pathname}` === redirectUri && typeof code === 'string' && location.searchParams.get('iss') === issuerId, answer.status);
    const again = await fetch(authorizationRequestUrl, { redirect: 'manual' });
    const againJson = await again.json().catch(() => null);
    check('auth code: the issuer_state is single use (400 access_denied)', again.status === 400 && againJson?.error === 'access_denied', againJson);
    let refused = null;
    try {
      await client.retrieveAuthorizationCodeAccessTokenFromOffer({ issuerMetadata, credentialOffer, authorizationCode: code, pkceCodeVerifier: 'x'.repeat(43), redirectUri });
    } catch (e) {
      refused = e;
    }
    check('auth code: their client with another code_verifier is refused (invalid_grant)', refused && JSON.stringify(refused.errorResponse ?? refused.message).includes('invalid_grant'), refused?.message);
    const spent = await call('POST', `${issuerId}/oid4vci/token`, { form: { grant_type: 'authorization_code', code, code_verifier: pkce.codeVerifier, redirect_uri: redirectUri } });
    check('auth code: that attempt spent the code: the right code_verifier now gets invalid_grant', spent.status === 400 && spent.json?.error === 'invalid_grant', spent.json);
    // A second authorization on a fresh offer, exchanged properly.
    const o2 = await offer({ grant: 'authorization_code' });
    const co2 = await client.resolveCredentialOffer(o2.offer_uri);
    const req2 = await client.createAuthorizationRequestUrlFromOffer({ credentialOffer: co2, issuerMetadata, clientId: 'interop-wallet', redirectUri, scope: 'MedicalLicenseCredential' });
    const code2 = new URL((await fetch(req2.authorizationRequestUrl, { redirect: 'manual' })).headers.get('location') ?? 'about:blank').searchParams.get('code');
    const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({ issuerMetadata, credentialOffer: co2, authorizationCode: code2, pkceCodeVerifier: req2.pkce.codeVerifier, redirectUri });
    check('auth code: their client exchanges the code with its code_verifier for an access token', typeof accessTokenResponse?.access_token === 'string' && accessTokenResponse.token_type === 'Bearer', accessTokenResponse);
    const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata });
    const kp = crypto.generateKeyPairSync('ed25519');
    const publicJwk = kp.publicKey.export({ format: 'jwk' });
    holderKeys.set(publicJwk.x, kp.privateKey);
    const configId = co2.credential_configuration_ids[0];
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configId, nonce: cNonce, signer: { method: 'jwk', alg: 'EdDSA', publicJwk } });
    const response = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configId, proofs: { jwt: [jwt] } });
    const credential = response.credentialResponse?.credentials?.[0]?.credential;
    check('auth code: their client receives the credential', typeof credential === 'string' && credential.includes('~'), response.credentialResponse);
    if (typeof credential === 'string') sdjwts.push({ alg: 'EdDSA (authorization code)', credential, publicJwk });
    let reused = null;
    try {
      await client.retrieveAuthorizationCodeAccessTokenFromOffer({ issuerMetadata, credentialOffer: co2, authorizationCode: code2, pkceCodeVerifier: req2.pkce.codeVerifier, redirectUri });
    } catch (e) {
      reused = e;
    }
    check('auth code: the code is single use (invalid_grant)', reused && JSON.stringify(reused.errorResponse ?? reused.message).includes('invalid_grant'), reused?.message);
  }

  // ldp_vc: the license as signed at onboarding, to a proof by a key of her DID (kid did:key).
  {
    const o = await offer({ format: 'ldp_vc' });
    const credentialOffer = await client.resolveCredentialOffer(o.offer_uri);
    const issuerMetadata = await client.resolveIssuerMetadata(issuerId);
    const configId = credentialOffer.credential_configuration_ids[0];
    check('ldp_vc: the offer names the ldp_vc configuration', configId === 'MedicalLicenseCredential_ldp_vc' && issuerMetadata.credentialIssuer.credential_configurations_supported[configId]?.format === 'ldp_vc', credentialOffer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
    const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata });
    holderKeys.set(`${did}#${mk}`, { privateKey: dr.privateKey, publicJwk: dr.publicKey.export({ format: 'jwk' }) });
    // First a proof by a key that is not her DID's: refused (invalid_proof), the nonce kept.
    const stranger = crypto.generateKeyPairSync('ed25519');
    const s = didKey(stranger.publicKey);
    holderKeys.set(`${s.did}#${s.mk}`, { privateKey: stranger.privateKey, publicJwk: stranger.publicKey.export({ format: 'jwk' }) });
    const { jwt: strangers } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configId, nonce: cNonce, signer: { method: 'did', didUrl: `${s.did}#${s.mk}`, alg: 'EdDSA' } });
    const refused = await call('POST', issuerMetadata.credentialIssuer.credential_endpoint, { bearer: accessTokenResponse.access_token, body: { credential_configuration_id: configId, proofs: { jwt: [strangers] } } });
    check('ldp_vc: a proof by a key of another DID is refused (400 invalid_proof)', refused.status === 400 && refused.json?.error === 'invalid_proof', refused.json);
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configId, nonce: cNonce, signer: { method: 'did', didUrl: `${did}#${mk}`, alg: 'EdDSA' } });
    const response = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configId, proofs: { jwt: [jwt] } });
    const vc = response.credentialResponse?.credentials?.[0]?.credential;
    check('ldp_vc: their client receives the license exactly as the society signed it at onboarding', JSON.stringify(vc) === JSON.stringify(onboard.json) && vc?.proof?.cryptosuite === 'eddsa-jcs-2022', vc);
  }

  // The command line: `oid4vci offer` (society) and `oid4vci accept` (the physician's wallet).
  {
    const run = (args) => {
      try {
        return { code: 0, out: execFileSync(BIN, args, { cwd: work, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (e) {
        return { code: e.status, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    };
    const made = run(['oid4vci', 'offer', '--url', issuerId, '--admin-token-file', path.join('society', 'admin.token'), '--license-id', licenseId, '--qr-svg', 'offer.svg', '--json']);
    const o = made.code === 0 ? JSON.parse(made.out) : {};
    check('`oid4vci offer` prints the offer URI, its tx_code and writes the QR code', made.code === 0 && o.offer_uri?.startsWith('openid-credential-offer://') && /^\d{6}$/.test(o.tx_code) && readFileSync(path.join(work, 'offer.svg'), 'utf8').includes('<svg'), made.out);
    execFileSync(BIN, ['wallet', 'init', '--store', 'dr.wallet', '--kdf', 'test', '--mnemonic-out', 'dr.words'], { cwd: work, env: ENV });
    const wrong = run(['oid4vci', 'accept', o.offer_uri, '--tx-code', o.tx_code === '000000' ? '111111' : '000000', '--store', 'dr.wallet', '--did', did, '--out', 'never.sdjwt']);
    check('`oid4vci accept` with a wrong tx_code fails (exit 1 or 2) and writes nothing', wrong.code !== 0 && /invalid_grant/.test(wrong.out) && !existsSync(path.join(work, 'never.sdjwt')), wrong);
    const took = run(['oid4vci', 'accept', o.offer_uri_by_reference, '--tx-code', o.tx_code, '--store', 'dr.wallet', '--did', did, '--out', 'license.sdjwt', '--json']);
    check('`oid4vci accept` takes the offer by reference and writes the credential', took.code === 0 && JSON.parse(took.out).format === 'dc+sd-jwt', took);
    // The wallet's own checks, before any code or token leaves it.
    const offerFor = (issuer) => 'openid-credential-offer://?credential_offer=' + encodeURIComponent(JSON.stringify({
      credential_issuer: issuer, credential_configuration_ids: ['MedicalLicenseCredential_dc+sd-jwt'],
      grants: { 'urn:ietf:params:oauth:grant-type:pre-authorized_code': { 'pre-authorized_code': 'x' } } }));
    const plain = run(['oid4vci', 'accept', offerFor('http://issuer.example'), '--store', 'dr.wallet', '--did', did, '--out', 'never.sdjwt']);
    check('`oid4vci accept` refuses plain http to a host that is not loopback', plain.code !== 0 && /https is required/.test(plain.out), plain);
    const other = run(['oid4vci', 'accept', offerFor(issuerId.replace('127.0.0.1', 'localhost')), '--store', 'dr.wallet', '--did', did, '--out', 'never.sdjwt']);
    check('`oid4vci accept` refuses metadata naming another credential_issuer (OID4VCI §12.2.2)', other.code !== 0 && /12\.2\.2/.test(other.out) && !existsSync(path.join(work, 'never.sdjwt')), other);
    if (took.code === 0) sdjwts.push({ alg: 'CLI (EdDSA, wallet key)', credential: readFileSync(path.join(work, 'license.sdjwt'), 'utf8').trim(), publicJwk: null });
  }

  // Unbound nonces are limited per address (docs/limits.md: 60 per 10 min).
  {
    let first429 = 0;
    for (let i = 1; i <= 70 && !first429; i++) {
      const r = await call('POST', `${issuerId}/oid4vci/nonce`);
      if (r.status === 429) first429 = r.json?.error === 'rate_limited' && r.headers.get('retry-after') ? i : -1;
    }
    check('unbound nonces are rate-limited per address (429 rate_limited with Retry-After)', first429 > 1 && first429 <= 61, first429);
  }

  // Verification with @sd-jwt/sd-jwt-vc: the issuer key from the society's did:web document.
  const didDoc = (await call('GET', `${issuerId}/.well-known/did.json`)).json;
  for (const { alg, credential, publicJwk } of sdjwts) {
    const kid = JSON.parse(Buffer.from(credential.split('.')[0], 'base64url')).kid;
    const vm = (didDoc.verificationMethod ?? []).find((m) => kid === m.id || kid.endsWith(m.id));
    const raw = vm ? unbase58(vm.publicKeyMultibase.slice(1)).subarray(2) : Buffer.alloc(32);
    const issuerKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) }, format: 'jwk' });
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      hashAlg: 'sha-256',
      verifier: (data, sig) => crypto.verify(null, Buffer.from(data), issuerKey, Buffer.from(sig, 'base64url')),
    });
    let verified = null;
    try {
      verified = await sdjwt.verify(credential);
    } catch (e) {
      verified = { error: e.message };
    }
    const p = verified?.payload ?? {};
    check(`${alg}: @sd-jwt/sd-jwt-vc verifies the credential with the society's did:web key`, vm && p.vct === 'urn:medallion:vct:MedicalLicenseCredential:1' && p.iss === banner.did, verified);
    check(`${alg}: its disclosures hold the license (name, schedules) for her DID`, p.name === 'Dr. Elena Rivera' && JSON.stringify(p.schedules) === '["II","III","IV","V"]' && p.sub === did && p.license_number === 'MA-MD-204812', p);
    if (publicJwk) check(`${alg}: cnf.jwk is the key of her proof`, p.cnf?.jwk?.x === publicJwk.x && p.cnf?.jwk?.crv === publicJwk.crv, p.cnf);
    else check(`${alg}: cnf.jwk is an Ed25519 key of her wallet`, p.cnf?.jwk?.crv === 'Ed25519' && typeof p.cnf?.jwk?.x === 'string', p.cnf);
  }

  // Deferred issuance (§9): a society in review mode offers the license of an onboarding request
  // the clerk has not decided; their client gets a transaction_id and asks the deferred endpoint,
  // which answers 202 pending with the same id. (The clerk's approval needs a passkey session at
  // the desk, which this walk has not: the approved path is covered by oid4vc_tests.)
  {
    society.kill('SIGTERM');
    await new Promise((r) => society.once('exit', r));
    const rb = await startSociety(['issuer', 'serve', '--review', '--dir', 'society-review', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', '127.0.0.1:0', '--json']);
    const rid = rb.oid4vci.credential_issuer;
    const radmin = readFileSync(path.join(work, 'society-review', 'admin.token'), 'utf8').trim();
    const ch = (await call('POST', `${rid}/society/v1/challenge`)).json;
    const t = Math.floor(Date.now() / 1000);
    const p = signJws({ alg: 'EdDSA', kid: `${did}#${mk}`, typ: 'did-auth+jwt' }, { aud: ch.audience, exp: t + 120, iat: t, iss: did, nonce: ch.nonce, sub: did }, dr.privateKey);
    const pending = await call('POST', `${rid}/society/v1/licenses`, { body: { proof: p, license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera' } });
    const requestId = pending.json?.request;
    check('deferred: in review mode onboarding waits for the clerk', pending.json?.status === 'pending' && typeof requestId === 'string', pending.json);
    const made = await call('POST', `${rid}/society/v1/oid4vci/offers`, { bearer: radmin, body: { request_id: requestId } });
    check('deferred: the society offers the pending request\'s license (201, deferred)', made.status === 201 && made.json?.deferred === true, made.json);
    const credentialOffer = await client.resolveCredentialOffer(made.json.offer_uri);
    const issuerMetadata = await client.resolveIssuerMetadata(rid);
    check('deferred: their client reads deferred_credential_endpoint from our metadata', issuerMetadata.credentialIssuer.deferred_credential_endpoint === `${rid}/oid4vci/deferred_credential`, issuerMetadata.credentialIssuer);
    const configId = credentialOffer.credential_configuration_ids[0];
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: made.json.tx_code });
    const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata });
    const kp = crypto.generateKeyPairSync('ed25519');
    const publicJwk = kp.publicKey.export({ format: 'jwk' });
    holderKeys.set(publicJwk.x, kp.privateKey);
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configId, nonce: cNonce, signer: { method: 'jwk', alg: 'EdDSA', publicJwk } });
    const response = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configId, proofs: { jwt: [jwt] } });
    const txId = response.credentialResponse?.transaction_id;
    check('deferred: their client accepts our 202 {transaction_id, interval}', response.response.status === 202 && typeof txId === 'string' && response.credentialResponse.interval > 0, response.credentialResponse);
    const later = await client.retrieveDeferredCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, transactionId: txId });
    check('deferred: their client asks the deferred endpoint: still pending (202, the same transaction_id)', later.response.status === 202 && later.deferredCredentialResponse?.transaction_id === txId && !later.deferredCredentialResponse?.credentials, later.deferredCredentialResponse);
    const wrong = await call('POST', `${rid}/oid4vci/deferred_credential`, { bearer: accessTokenResponse.access_token, body: { transaction_id: `${txId}x` } });
    check('deferred: an unknown transaction_id is refused (400 invalid_transaction_id)', wrong.status === 400 && wrong.json?.error === 'invalid_transaction_id', wrong.json);
  }
}

try {
  await main();
} catch (e) {
  check('the walk ran to its end', false, e.stack ?? e.message);
}
clearTimeout(watchdog);
cleanup();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
