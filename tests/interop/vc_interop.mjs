#!/usr/bin/env node
// Interop of the `medallion vc` command line with independent npm implementations, both
// directions, through the binary itself (not a test tool):
//
//   node tests/interop/vc_interop.mjs <path-to-medallion>
//
// Ours -> theirs: `vc issue --format di` verified by @digitalbazaar/eddsa-jcs-2022-cryptosuite
// (jsonld-signatures, did:key through @digitalbazaar/did-method-key, offline loader), `vc
// present` (DI) by the same with an authentication purpose, challenge and domain; `--format jwt`
// and the vp+jwt of `vc present` by jose@5; `--format sd-jwt` and its key-bound presentation by
// @sd-jwt/sd-jwt-vc. A tampered copy of each is refused by them.
// Theirs -> ours: the same artifacts made by those libraries, checked with `vc verify` (exit 0,
// "valid": true), tampered ones and wrong challenges refused with exit 1 and a reason code.
// The last line printed is exactly "N passed, M failed"; the exit code is non-zero on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
let DidKey, Ed25519Multikey, DataIntegrityProof, createSignCryptosuite, createVerifyCryptosuite, jsigs, jose, SDJwtVcInstance,
  digest, generateSalt;
try {
  DidKey = await import('@digitalbazaar/did-method-key');
  Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
  ({ DataIntegrityProof } = await import('@digitalbazaar/data-integrity'));
  ({ createSignCryptosuite, createVerifyCryptosuite } = await import('@digitalbazaar/eddsa-jcs-2022-cryptosuite'));
  jsigs = (await import('jsonld-signatures')).default;
  jose = await import('jose');
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest, generateSalt } = await import('@sd-jwt/crypto-nodejs'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${HERE}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const { AssertionProofPurpose, AuthenticationProofPurpose } = jsigs.purposes;

const BIN = process.argv[2];
if (!BIN || !fs.existsSync(BIN)) {
  console.log('usage: node vc_interop.mjs <path-to-medallion>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-interop-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === true || r === undefined) {
      passed++;
      console.log(`ok   - ${name}`);
    } else {
      failed++;
      console.log(`FAIL - ${name}: ${typeof r === 'string' ? r : JSON.stringify(r)}`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: threw ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The CLI.

let fileCounter = 0;
function file(content, ext = '.json') {
  const p = path.join(TMP, `f${fileCounter++}${ext}`);
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}
function cli(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8'});
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}
function verify(artifact, ...extra) {
  const r = cli('vc', 'verify', '--in', file(artifact, typeof artifact === 'string' ? '.txt' : '.json'), ...extra);
  let j = null;
  try {
    j = JSON.parse(r.out);
  } catch {}
  return { ...r, j };
}
const accepted = (r) => (r.status === 0 && r.j?.valid === true) || `exit ${r.status}: ${r.out.slice(0, 300)} ${r.err.slice(0, 200)}`;
const refused = (r, reason) =>
  (r.status === 1 && r.j?.valid === false && (!reason || r.j.reason === reason)) ||
  `expected exit 1${reason ? ` reason ${reason}` : ''}, got exit ${r.status}: ${r.out.slice(0, 300)}`;

const b64u = (b) => Buffer.from(b).toString('base64url');
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function b58encode(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    s = '1' + s;
  }
  return s;
}
const didKeyOfEd25519 = (pub) => `did:key:z${b58encode(Uint8Array.from([0xed, 0x01, ...pub]))}`;

// Our keys: an issuer and a holder from fresh mnemonics (the mnemonic key source of the CLI).
function mnemonicFile() {
  const m = JSON.parse(execFileSync(BIN, ['wallet', 'mnemonic', '--words', '24', '--json'], { encoding: 'utf8' })).mnemonic;
  return file(m + '\n', '.txt');
}
const ASSERTION = "m/5063756'/0'/1'/0'";
const AUTHENTICATION = "m/5063756'/0'/0'/0'";
const issuerWords = mnemonicFile();
const holderWords = mnemonicFile();
const derivePub = (words, p) =>
  Buffer.from(JSON.parse(execFileSync(BIN, ['wallet', 'derive', '--mnemonic-file', words, '--curve', 'ed25519', '--path', p, '--json'], { encoding: 'utf8' })).public_key, 'hex');
const OUR_ISSUER = didKeyOfEd25519(derivePub(issuerWords, ASSERTION));
const OUR_HOLDER = didKeyOfEd25519(derivePub(holderWords, AUTHENTICATION));
const ourIssuer = ['--mnemonic-file', issuerWords, '--path', ASSERTION];
const ourHolder = ['--mnemonic-file', holderWords, '--path', AUTHENTICATION];

function unsigned(subject) {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiableCredential'],
    validFrom: '2026-01-01T00:00:00Z',
    credentialSubject: { id: subject, name: 'Zoë Ünïcode', age: 42, ratio: 0.1, nested: { b: 1, a: [1, 2, { z: true }] } },
  };
}

// ---------------------------------------------------------------------------------------------
// Their stacks.

const driver = DidKey.driver();
driver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
async function documentLoader(url) {
  if (url.startsWith('did:key:')) return { contextUrl: null, documentUrl: url, document: await driver.get({ url }) };
  throw new Error(`offline document loader: refusing to load ${url}`);
}
async function theirKey() {
  const key = await Ed25519Multikey.generate({ seed: crypto.randomBytes(32) });
  key.controller = `did:key:${key.publicKeyMultibase}`;
  key.id = `${key.controller}#${key.publicKeyMultibase}`;
  return key;
}
async function diSign(doc, key, purpose = new AssertionProofPurpose()) {
  const suite = new DataIntegrityProof({ signer: key.signer(), cryptosuite: createSignCryptosuite() });
  return jsigs.sign(structuredClone(doc), { suite, purpose, documentLoader });
}
async function diVerify(doc, purpose = new AssertionProofPurpose()) {
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  return jsigs.verify(structuredClone(doc), { suite, purpose, documentLoader });
}
// A did:key verification method's public key for jose / node:crypto.
async function keyOfKid(kid) {
  const mk = await Ed25519Multikey.from(await driver.get({ url: kid }));
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(mk.publicKey) }, format: 'jwk' });
}
function nodeKeys() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const x = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const did = didKeyOfEd25519(x);
  return { privateKey, publicKey, jwk: publicKey.export({ format: 'jwk' }), did, kid: `${did}#${did.slice(8)}` };
}
async function sdIssuerVerifier(data, sig) {
  const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(data.split('.')[1], 'base64url').toString('utf8'));
  if (!header.kid || header.kid.split('#')[0] !== payload.iss) return false;
  return crypto.verify(null, Buffer.from(data), await keyOfKid(header.kid), Buffer.from(sig, 'base64url'));
}
async function sdKbVerifier(data, sig, payload) {
  const jwk = payload?.cnf?.jwk;
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return false;
  return crypto.verify(null, Buffer.from(data), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'));
}
function sdInstance({ issuer, holder } = {}) {
  return new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: issuer ? async (d) => crypto.sign(null, Buffer.from(d), issuer.privateKey).toString('base64url') : undefined,
    signAlg: 'EdDSA',
    verifier: sdIssuerVerifier,
    kbVerifier: sdKbVerifier,
    kbSigner: holder ? async (d) => crypto.sign(null, Buffer.from(d), holder.privateKey).toString('base64url') : undefined,
    kbSignAlg: 'EdDSA',
  });
}
function tamperJwtPayload(token, edit) {
  const [h, p, s] = token.split('.');
  const j = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  edit(j);
  return [h, b64u(JSON.stringify(j)), s].join('.');
}

// ---------------------------------------------------------------------------------------------
// Ours -> theirs.

const CHALLENGE = crypto.randomBytes(16).toString('base64url');
const DOMAIN = 'verifier.example';

const ourDi = cli('vc', 'issue', '--format', 'di', '--in', file(unsigned(OUR_HOLDER)), ...ourIssuer);
await check('ours -> theirs: vc issue --format di succeeds', () => ourDi.status === 0 || ourDi.err);
const ourDiDoc = JSON.parse(ourDi.out || '{}');
await check('ours -> theirs: @digitalbazaar verifies our Data Integrity credential', async () => {
  const r = await diVerify(ourDiDoc);
  return r.verified || JSON.stringify(r.error?.errors?.map?.((e) => e.message) ?? r.error?.message);
});
await check('ours -> theirs: @digitalbazaar refuses our credential tampered', async () => {
  const t = structuredClone(ourDiDoc);
  t.credentialSubject.age = 43;
  return !(await diVerify(t)).verified || 'accepted';
});
await check('ours -> theirs: the DI issuer is the did:key of the assertion path', () => ourDiDoc.issuer === OUR_ISSUER || ourDiDoc.issuer);

const ourVp = cli('vc', 'present', '--in', file(ourDi.out), '--challenge', CHALLENGE, '--domain', DOMAIN, ...ourHolder);
await check('ours -> theirs: @digitalbazaar verifies our DI presentation (authentication, challenge, domain)', async () => {
  if (ourVp.status !== 0) return ourVp.err;
  const r = await diVerify(JSON.parse(ourVp.out), new AuthenticationProofPurpose({ challenge: CHALLENGE, domain: DOMAIN }));
  return r.verified || JSON.stringify(r.error?.errors?.map?.((e) => e.message) ?? r.error?.message);
});
await check('ours -> theirs: @digitalbazaar refuses our DI presentation for another challenge', async () => {
  const r = await diVerify(JSON.parse(ourVp.out), new AuthenticationProofPurpose({ challenge: 'other', domain: DOMAIN }));
  return !r.verified || 'accepted';
});

const ourJwt = cli('vc', 'issue', '--format', 'jwt', '--in', file(unsigned(OUR_HOLDER)), ...ourIssuer);
await check('ours -> theirs: jose verifies our vc+jwt (typ, EdDSA, issuer pinned, kid = did:key)', async () => {
  if (ourJwt.status !== 0) return ourJwt.err;
  const { payload, protectedHeader } = await jose.jwtVerify(ourJwt.out, (h) => keyOfKid(h.kid), {
    typ: 'vc+jwt',
    algorithms: ['EdDSA'],
    issuer: OUR_ISSUER,
  });
  return (protectedHeader.kid.startsWith(OUR_ISSUER + '#') && payload.credentialSubject.name === 'Zoë Ünïcode') || JSON.stringify(payload);
});
await check('ours -> theirs: jose refuses our vc+jwt tampered', async () => {
  try {
    await jose.jwtVerify(tamperJwtPayload(ourJwt.out, (j) => (j.credentialSubject.age = 43)), (h) => keyOfKid(h.kid), { algorithms: ['EdDSA'] });
    return 'accepted';
  } catch (e) {
    return e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || e.code;
  }
});
const ourVpJwt = cli('vc', 'present', '--in', file(ourJwt.out, '.txt'), '--challenge', CHALLENGE, '--domain', DOMAIN, ...ourHolder);
await check('ours -> theirs: jose verifies our vp+jwt (aud, nonce) and the enveloped vc+jwt in it', async () => {
  if (ourVpJwt.status !== 0) return ourVpJwt.err;
  const { payload } = await jose.jwtVerify(ourVpJwt.out, (h) => keyOfKid(h.kid), {
    typ: 'vp+jwt',
    algorithms: ['EdDSA'],
    issuer: OUR_HOLDER,
    audience: DOMAIN,
  });
  if (payload.nonce !== CHALLENGE) return `nonce ${payload.nonce}`;
  const env = payload.verifiableCredential?.[0];
  if (env?.type !== 'EnvelopedVerifiableCredential' || !env.id.startsWith('data:application/vc+jwt,')) return JSON.stringify(env);
  await jose.jwtVerify(env.id.slice('data:application/vc+jwt,'.length), (h) => keyOfKid(h.kid), { typ: 'vc+jwt', issuer: OUR_ISSUER });
  return true;
});

const ourSd = cli('vc', 'issue', '--format', 'sd-jwt', '--in', file(unsigned(OUR_HOLDER)), ...ourIssuer, '--vct', 'https://example.org/vc',
  '--sd', '/credentialSubject/name', '--sd', '/credentialSubject/age', '--holder', OUR_HOLDER);
await check('ours -> theirs: @sd-jwt verifies our SD-JWT VC and sees the disclosed claims', async () => {
  if (ourSd.status !== 0) return ourSd.err;
  const r = await sdInstance().verify(ourSd.out);
  return (r.payload.credentialSubject.name === 'Zoë Ünïcode' && r.payload.credentialSubject.age === 42 && r.payload.iss === OUR_ISSUER) ||
    JSON.stringify(r.payload);
});
const ourSdVp = cli('vc', 'present', '--in', file(ourSd.out, '.txt'), '--reveal', '/credentialSubject/name', '--challenge', CHALLENGE,
  '--domain', DOMAIN, ...ourHolder);
await check('ours -> theirs: @sd-jwt verifies our key-bound presentation (nonce) with one claim revealed', async () => {
  if (ourSdVp.status !== 0) return ourSdVp.err;
  const r = await sdInstance().verify(ourSdVp.out, { keyBindingNonce: CHALLENGE, requireKeyBindings: true });
  const s = r.payload.credentialSubject;
  return (s.name === 'Zoë Ünïcode' && s.age === undefined && r.kb?.payload?.aud === DOMAIN) || JSON.stringify(r.payload);
});
await check('ours -> theirs: @sd-jwt refuses our presentation for another nonce', async () => {
  try {
    await sdInstance().verify(ourSdVp.out, { keyBindingNonce: 'other', requireKeyBindings: true });
    return 'accepted';
  } catch {
    return true;
  }
});

// ---------------------------------------------------------------------------------------------
// Theirs -> ours.

const their = await theirKey();
const theirHolder = await theirKey();
const theirCred = await diSign({ ...unsigned(theirHolder.controller), issuer: their.controller }, their);
await check('theirs -> ours: vc verify accepts an @digitalbazaar Data Integrity credential', () => accepted(verify(theirCred)));
await check('theirs -> ours: vc verify refuses it tampered (signature_invalid)', () => {
  const t = structuredClone(theirCred);
  t.credentialSubject.name = 'Mallory';
  return refused(verify(t), 'signature_invalid');
});
const theirVp = await diSign(
  { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: theirHolder.controller, verifiableCredential: [theirCred] },
  theirHolder,
  new AuthenticationProofPurpose({ challenge: CHALLENGE, domain: DOMAIN }),
);
await check('theirs -> ours: vc verify accepts their DI presentation with the right challenge and domain', () =>
  accepted(verify(theirVp, '--challenge', CHALLENGE, '--domain', DOMAIN)));
await check('theirs -> ours: vc verify refuses their presentation for another challenge', () =>
  refused(verify(theirVp, '--challenge', 'other', '--domain', DOMAIN), 'challenge_mismatch'));

const nk = nodeKeys();
const theirJwt = await new jose.SignJWT({ ...unsigned(OUR_HOLDER), issuer: nk.did, iss: nk.did })
  .setProtectedHeader({ alg: 'EdDSA', typ: 'vc+jwt', kid: nk.kid })
  .setIssuedAt()
  .sign(nk.privateKey);
await check('theirs -> ours: vc verify accepts a jose vc+jwt', () => accepted(verify(theirJwt)));
await check('theirs -> ours: vc verify refuses the jose vc+jwt tampered', () =>
  refused(verify(tamperJwtPayload(theirJwt, (j) => (j.credentialSubject.age = 1))), 'signature_invalid'));
const theirAlgNone = new jose.UnsecuredJWT({ ...unsigned(OUR_HOLDER), issuer: nk.did, iss: nk.did }).encode();
await check('theirs -> ours: vc verify refuses an alg none token', () => {
  const r = verify(theirAlgNone);
  return r.status !== 0 || 'accepted';
});

const sdIssuerKeys = nodeKeys();
const sdHolderKeys = nodeKeys();
const theirSd = await sdInstance({ issuer: sdIssuerKeys, holder: sdHolderKeys }).issue(
  { ...unsigned(sdHolderKeys.did), iss: sdIssuerKeys.did, iat: Math.floor(Date.now() / 1000), vct: 'https://example.org/vc', cnf: { jwk: sdHolderKeys.jwk } },
  { credentialSubject: { _sd: ['name', 'age'] } },
  { header: { kid: sdIssuerKeys.kid, typ: 'dc+sd-jwt' } },
);
await check('theirs -> ours: vc verify accepts an @sd-jwt SD-JWT VC', () => accepted(verify(theirSd)));
const theirSdVp = await sdInstance({ issuer: sdIssuerKeys, holder: sdHolderKeys }).present(
  theirSd,
  { credentialSubject: { name: true } },
  { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: DOMAIN, nonce: CHALLENGE } } },
);
await check('theirs -> ours: vc verify accepts their key-bound SD-JWT presentation', () =>
  accepted(verify(theirSdVp, '--challenge', CHALLENGE, '--domain', DOMAIN)));
await check('theirs -> ours: vc verify refuses it for another nonce (nonce_mismatch)', () =>
  refused(verify(theirSdVp, '--challenge', 'other', '--domain', DOMAIN), 'nonce_mismatch'));
await check('theirs -> ours: vc verify refuses it with a disclosure dropped from the KB-bound set (sd_hash_mismatch)', () => {
  const parts = theirSdVp.split('~');
  const fewer = [parts[0], ...parts.slice(2)].join('~');
  return refused(verify(fewer, '--challenge', CHALLENGE, '--domain', DOMAIN), 'sd_hash_mismatch');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
