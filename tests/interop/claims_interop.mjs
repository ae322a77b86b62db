#!/usr/bin/env node
// Independent-implementation interop suite for the claims module: Data Integrity eddsa-jcs-2022
// and VC-JOSE (vc+jwt / vp+jwt), both directions.
//
//   node tests/interop/claims_interop.mjs <path-to-claims_interop_tool>
//
// Environment:
//   INTEROP_N     random cases per direction and format (default 8)
//   INTEROP_SEED  seed for the key and document generator (any string; default random, printed)
//
// Independent implementations:
//   - Data Integrity: @digitalbazaar/eddsa-jcs-2022-cryptosuite with @digitalbazaar/data-integrity
//     and jsonld-signatures, keys from @digitalbazaar/ed25519-multikey, did:key documents from
//     @digitalbazaar/did-method-key. The document loader is static: did:key URLs are answered by
//     the did:key driver (no I/O) and every other URL is an error, so nothing touches the network.
//   - JOSE: jose@5 (SignJWT / jwtVerify / UnsecuredJWT), public keys as JWKs built here from the
//     did:key (@noble/curves decompresses secp256k1 points).
//
// Cases:
//  1. The W3C eddsa-jcs-2022 vector: their signature equals the vector's, ours equals theirs,
//     each verifies the other's document.
//  2. Ours -> theirs (DI): credentials with JCS-sensitive content (number formatting, key order
//     by UTF-16 code units, non-ASCII); authentication proofs with challenge and domain; proof sets
//     of two keys; a tampered document must be refused by them.
//  3. Theirs -> ours (DI): the same shapes signed by their library; a proof set mixing their proof
//     and ours, in both orders; tampering, a wrong challenge/domain and an expired proof refused by
//     ours with the expected reason codes.
//  4. Ours -> jose: vc+jwt with EdDSA and ES256K, vp+jwt with aud; jose must accept them with
//     typ, algorithms and issuer pinned, and refuse a tampered one.
//  5. jose -> ours: vc+jwt / vp+jwt with EdDSA and ES256K (jose's ES256K signatures are not
//     normalized, and a high-S twin is made explicitly); the refusals: alg none, HS256 keyed with
//     the public key, typ JWT, another DID's kid, a re-signature by another key, an expired token,
//     the VC-JWT 1.1 `vc` claim, ES256K claimed for an Ed25519 key, a replayed nonce.
// The last line printed is exactly "N passed, M failed"; the exit code is non-zero on failure.

import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

let DidKey, Ed25519Multikey, DataIntegrityProof, createSignCryptosuite, createVerifyCryptosuite, jsigs, jose, ed25519,
  secp256k1;
try {
  DidKey = await import('@digitalbazaar/did-method-key');
  Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
  ({ DataIntegrityProof } = await import('@digitalbazaar/data-integrity'));
  ({ createSignCryptosuite, createVerifyCryptosuite } = await import('@digitalbazaar/eddsa-jcs-2022-cryptosuite'));
  jsigs = (await import('jsonld-signatures')).default;
  jose = await import('jose');
  ({ ed25519 } = await import('@noble/curves/ed25519.js'));
  ({ secp256k1 } = await import('@noble/curves/secp256k1.js'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${HERE}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const { AssertionProofPurpose, AuthenticationProofPurpose } = jsigs.purposes;

const TOOL = process.argv[2];
if (!TOOL || !fs.existsSync(TOOL)) {
  console.log('usage: node claims_interop.mjs <path-to-claims_interop_tool>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const N = Number(process.env.INTEROP_N || 8);
const SEED = process.env.INTEROP_SEED || crypto.randomBytes(8).toString('hex');
const VECTORS = path.resolve(HERE, '..', 'vectors', 'eddsa-jcs-2022');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'claims-interop-'));
const MAX_FAILURE_DETAILS = 8;
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const VC_EXAMPLES = 'https://www.w3.org/ns/credentials/examples/v2';
const SECP_N = secp256k1.Point.CURVE().n;

console.log(`claims interop: tool ${TOOL}, INTEROP_N=${N}, INTEROP_SEED=${SEED}`);

// ---------------------------------------------------------------------------------------------
// Bookkeeping.

let passed = 0;
let failed = 0;
const failures = [];
function ok(name) {
  passed++;
}
function fail(name, detail) {
  failed++;
  failures.push(`${name}: ${detail}`);
  if (failures.length <= MAX_FAILURE_DETAILS) console.log(`FAIL ${name}: ${detail}`);
}
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === true || r === undefined) ok(name);
    else fail(name, typeof r === 'string' ? r : JSON.stringify(r));
  } catch (e) {
    fail(name, `threw ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic keys and documents.

class Drbg {
  constructor(seedString) {
    this.key = crypto.createHash('sha256').update(seedString).digest();
    this.counter = 0;
  }
  bytes(n = 32) {
    const out = [];
    while (out.length < n) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(this.counter++);
      out.push(...crypto.createHmac('sha256', this.key).update(c).digest());
    }
    return Uint8Array.from(out.slice(0, n));
  }
  int(max) {
    return Buffer.from(this.bytes(4)).readUInt32BE() % max;
  }
  pick(list) {
    return list[this.int(list.length)];
  }
}
const rng = new Drbg(SEED);
const hex = (b) => Buffer.from(b).toString('hex');
const b64u = (b) => Buffer.from(b).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

// Values whose JCS form is easy to get wrong (RFC 8785 §3.2.2.3 numbers, §3.2.3 sorting).
const TRICKY_NUMBERS = [0, -0, 1, -1, 0.1, 1e-7, 1e21, 1e-6, 123456789012345680000, 333333333.3333333, 4.35,
  2 ** 53 - 1, 5e-324, 1.7976931348623157e308, 100, 0.000001];
const TRICKY_STRINGS = ['plain', 'é', '€ 20', '\u2028\u2029', '😀', 'tab\tnew\nline', 'quote"back\\slash', '\u0001',
  'ﬃ', 'Ω', '\u00e9\u0301'];
const TRICKY_KEYS = ['a', 'b', 'A', '€', '\uffff', '😀', '1', '10', '2', 'é', 'z\u0000', 'ab'];

function subject(r) {
  const s = { id: `did:example:patient-${hex(r.bytes(4))}` };
  for (let i = 0; i < 6; i++) s[r.pick(TRICKY_KEYS) + i] = r.pick([r.pick(TRICKY_NUMBERS), r.pick(TRICKY_STRINGS)]);
  s.nested = { list: [r.pick(TRICKY_NUMBERS), r.pick(TRICKY_STRINGS), true, null, { deep: r.pick(TRICKY_NUMBERS) }] };
  return s;
}

function credential(issuer, r) {
  return {
    '@context': [VC_V2, VC_EXAMPLES],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'PrescriptionCredential'],
    issuer,
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2099-01-01T00:00:00Z',
    credentialSubject: subject(r),
  };
}

function presentation(holder) {
  return { '@context': [VC_V2], type: ['VerifiablePresentation'], holder };
}

// ---------------------------------------------------------------------------------------------
// Our tool.

function run(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    execFile(TOOL, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      let code = 0;
      if (err) code = typeof err.code === 'number' ? err.code : String(err.signal || err.code || err.message);
      let json = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        // leave null
      }
      resolve({ code, json, stdout, stderr, args });
    });
  });
}
let fileCounter = 0;
function writeJson(value) {
  const p = path.join(TMP, `doc-${fileCounter++}.json`);
  fs.writeFileSync(p, JSON.stringify(value));
  return p;
}
const describe = (r) => `exit ${r.code}: ${(r.stdout || '').slice(0, 300)} ${(r.stderr || '').slice(0, 200)}`;

async function ourKey(alg, privHex) {
  const r = await run(['key', alg, privHex]);
  if (r.code !== 0 || !r.json) throw new Error(`key: ${describe(r)}`);
  return r.json;
}
async function ourDiSign(seedHex, doc, flags = []) {
  const r = await run(['di-sign', seedHex, writeJson(doc), ...flags]);
  if (r.code !== 0 || !r.json) throw new Error(`di-sign: ${describe(r)}`);
  return r.json;
}
const ourDiVerify = (doc, flags = []) => run(['di-verify', writeJson(doc), ...flags]);
async function ourJwtSign(alg, privHex, doc, flags = []) {
  const r = await run(['jwt-sign', alg, privHex, writeJson(doc), ...flags]);
  if (r.code !== 0 || !r.json) throw new Error(`jwt-sign: ${describe(r)}`);
  return r.json.jwt;
}
const ourJwtVerify = (jwt, flags = []) => run(['jwt-verify', jwt, ...flags]);

function expectVerified(r) {
  if (r.code === 0 && r.json && r.json.verified === true) return true;
  return `ours refused: ${describe(r)}`;
}
function expectReason(r, reason) {
  if (r.code === 1 && r.json && r.json.verified === false && r.json.reason === reason) return true;
  return `expected reason ${reason}, got ${describe(r)}`;
}

// ---------------------------------------------------------------------------------------------
// Their Data Integrity stack, offline.

const driver = DidKey.driver();
driver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
async function documentLoader(url) {
  if (url.startsWith('did:key:')) return { contextUrl: null, documentUrl: url, document: await driver.get({ url }) };
  throw new Error(`offline document loader: refusing to load ${url}`);
}

async function theirKey(seed) {
  const key = await Ed25519Multikey.generate({ seed });
  key.controller = `did:key:${key.publicKeyMultibase}`;
  key.id = `${key.controller}#${key.publicKeyMultibase}`;
  return key;
}

async function theirSign(doc, key, { purpose = new AssertionProofPurpose(), date, proof } = {}) {
  const suite = new DataIntegrityProof({ signer: key.signer(), date, cryptosuite: createSignCryptosuite() });
  if (proof) suite.proof = proof;
  return jsigs.sign(structuredClone(doc), { suite, purpose, documentLoader });
}

async function theirVerify(doc, purpose = new AssertionProofPurpose()) {
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  return jsigs.verify(structuredClone(doc), { suite, purpose, documentLoader });
}
// Every proof of the set verified (their ProofSet.verify is satisfied by one).
function allVerified(result, count) {
  if (!result.verified) return `theirs refused: ${JSON.stringify(result.error?.map?.((e) => e.message) ?? result.error?.message ?? result.error).slice(0, 400)}`;
  if (!result.results || result.results.length !== count) return `theirs checked ${result.results?.length} proofs, expected ${count}`;
  const bad = result.results.filter((r) => !r.verified);
  if (bad.length) return `theirs refused ${bad.length} of ${count}: ${bad.map((b) => b.error?.message).join('; ')}`;
  return true;
}

// ---------------------------------------------------------------------------------------------
// JWKs for jose from raw keys.

function edJwk(pub, seed) {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(pub) };
  if (seed) jwk.d = b64u(seed);
  return jwk;
}
function secpJwk(compressedOrPriv, isPriv) {
  const pub = isPriv ? secp256k1.getPublicKey(compressedOrPriv, false) : secp256k1.Point.fromBytes(compressedOrPriv).toBytes(false);
  const jwk = { kty: 'EC', crv: 'secp256k1', x: b64u(pub.slice(1, 33)), y: b64u(pub.slice(33, 65)) };
  if (isPriv) jwk.d = b64u(compressedOrPriv);
  return jwk;
}
const pubJwkFor = (alg, keyInfo) => {
  const pub = Buffer.from(keyInfo.publicKeyHex, 'hex');
  return alg === 'EdDSA' ? edJwk(pub) : secpJwk(Uint8Array.from(pub), false);
};

// A key pair made on the JS side, as our tool names it (did:key) and as jose uses it.
async function jsKeyPair(alg) {
  const priv = rng.bytes(32);
  const info = await ourKey(alg, hex(priv));
  const pubCheck = alg === 'EdDSA' ? hex(ed25519.getPublicKey(priv)) : hex(secp256k1.getPublicKey(priv, true));
  if (pubCheck !== info.publicKeyHex) throw new Error(`public keys differ for ${alg}: ${pubCheck} vs ${info.publicKeyHex}`);
  const privJwk = alg === 'EdDSA' ? edJwk(ed25519.getPublicKey(priv), priv) : secpJwk(priv, true);
  return { alg, priv, info, privateKey: await jose.importJWK(privJwk, alg), publicKey: await jose.importJWK(pubJwkFor(alg, info), alg) };
}

function joseSign(payload, header, key) {
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
}

// The high-S twin of an ES256K compact JWS (s -> n - s); null if the signature already is high-S.
function highSTwin(jwt) {
  const [h, p, s] = jwt.split('.');
  const sig = Buffer.from(s, 'base64url');
  const sv = BigInt('0x' + sig.subarray(32).toString('hex'));
  const twin = SECP_N - sv;
  const out = Buffer.concat([sig.subarray(0, 32), Buffer.from(twin.toString(16).padStart(64, '0'), 'hex')]);
  return { jwt: `${h}.${p}.${out.toString('base64url')}`, wasHigh: sv > SECP_N / 2n };
}

const sameJson = (a, b) => JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
function sortDeep(v) {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep(v[k])]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// 1. The W3C vector.

{
  const kp = JSON.parse(fs.readFileSync(path.join(VECTORS, 'keyPair.json'), 'utf8'));
  const unsigned = JSON.parse(fs.readFileSync(path.join(VECTORS, 'unsigned.json'), 'utf8'));
  const signedVector = JSON.parse(fs.readFileSync(path.join(VECTORS, 'signedJCS.json'), 'utf8'));
  const sigVector = fs.readFileSync(path.join(VECTORS, 'sigBTC58JCS.txt'), 'utf8').trim();
  // privateKeyMultibase = z + base58(0x80 0x26 || seed); decoded with their multikey library's
  // dependency-free path: Ed25519Multikey.generate({seed}).
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = 0n;
  for (const c of kp.privateKeyMultibase.slice(1)) n = n * 58n + BigInt(B58.indexOf(c));
  const raw = Buffer.from(n.toString(16).padStart(68, '0'), 'hex');
  const seed = Uint8Array.from(raw.subarray(2));
  const key = await theirKey(seed);
  const created = signedVector.proof.created;

  let theirs;
  await check('vector: their signature equals the W3C vector', async () => {
    if (key.publicKeyMultibase !== kp.publicKeyMultibase) return `their key ${key.publicKeyMultibase}`;
    theirs = await theirSign(unsigned, key, { date: created });
    return theirs.proof.proofValue === sigVector || `their proofValue ${theirs.proof.proofValue}`;
  });
  await check('vector: our signed document equals theirs', async () => {
    const ours = await ourDiSign(hex(seed), unsigned, ['--created', created]);
    return sameJson(ours, theirs) || `ours ${JSON.stringify(ours.proof)} theirs ${JSON.stringify(theirs.proof)}`;
  });
  await check('vector: theirs verifies the W3C signed document', async () => allVerified(await theirVerify(signedVector), 1));
  await check('vector: ours verifies the W3C signed document', async () => expectVerified(await ourDiVerify(signedVector)));
}

// ---------------------------------------------------------------------------------------------
// 2. Ours -> theirs (Data Integrity).

for (let i = 0; i < N; i++) {
  const seed = rng.bytes(32);
  const k = await ourKey('EdDSA', hex(seed));
  const vc = credential(k.did, rng);
  let signed;
  await check(`di ours->theirs #${i}: credential`, async () => {
    signed = await ourDiSign(hex(seed), vc, ['--created', new Date().toISOString().replace(/\.\d+Z$/, 'Z')]);
    return allVerified(await theirVerify(signed), 1);
  });
  await check(`di ours->theirs #${i}: tampered credential refused by theirs`, async () => {
    const t = structuredClone(signed);
    t.credentialSubject.id += 'x';
    const r = await theirVerify(t);
    return r.verified === false || 'theirs accepted a tampered document';
  });
}

await check('di ours->theirs: authentication proof with challenge and domain', async () => {
  const seed = rng.bytes(32);
  const k = await ourKey('EdDSA', hex(seed));
  const challenge = hex(rng.bytes(12));
  const domain = 'https://pharmacy.example';
  const vp = await ourDiSign(hex(seed), presentation(k.did), ['--purpose', 'authentication', '--challenge', challenge, '--domain', domain]);
  const good = allVerified(await theirVerify(vp, new AuthenticationProofPurpose({ challenge, domain })), 1);
  if (good !== true) return good;
  const wrong = await theirVerify(vp, new AuthenticationProofPurpose({ challenge: 'other', domain }));
  return wrong.verified === false || 'theirs accepted the wrong challenge';
});

await check('di ours->theirs: proof set of two keys (physician and phone)', async () => {
  const s1 = rng.bytes(32);
  const s2 = rng.bytes(32);
  const k1 = await ourKey('EdDSA', hex(s1));
  const first = await ourDiSign(hex(s1), credential(k1.did, rng));
  const both = await ourDiSign(hex(s2), first);
  if (!Array.isArray(both.proof) || both.proof.length !== 2) return 'ours did not make a proof set';
  return allVerified(await theirVerify(both), 2);
});

// ---------------------------------------------------------------------------------------------
// 3. Theirs -> ours (Data Integrity).

for (let i = 0; i < N; i++) {
  const key = await theirKey(rng.bytes(32));
  const vc = credential(key.controller, rng);
  let signed;
  await check(`di theirs->ours #${i}: credential`, async () => {
    signed = await theirSign(vc, key);
    return expectVerified(await ourDiVerify(signed));
  });
  await check(`di theirs->ours #${i}: tampered credential refused by ours`, async () => {
    const t = structuredClone(signed);
    t.validUntil = '2099-01-02T00:00:00Z';
    return expectReason(await ourDiVerify(t), 'signature_invalid');
  });
}

await check('di theirs->ours: authentication proof, challenge and domain checked', async () => {
  const key = await theirKey(rng.bytes(32));
  const challenge = hex(rng.bytes(12));
  const domain = 'https://pharmacy.example';
  const vp = await theirSign(presentation(key.controller), key, { purpose: new AuthenticationProofPurpose({ challenge, domain }) });
  const flags = ['--purpose', 'authentication', '--challenge', challenge, '--domain', domain];
  const good = expectVerified(await ourDiVerify(vp, flags));
  if (good !== true) return good;
  const c = expectReason(await ourDiVerify(vp, ['--purpose', 'authentication', '--challenge', 'replayed', '--domain', domain]), 'challenge_mismatch');
  if (c !== true) return c;
  const d = expectReason(await ourDiVerify(vp, ['--purpose', 'authentication', '--challenge', challenge, '--domain', 'https://evil.example']), 'domain_mismatch');
  if (d !== true) return d;
  return expectReason(await ourDiVerify(vp), 'purpose_mismatch');
});

await check('di theirs->ours: their expired proof refused by ours', async () => {
  const key = await theirKey(rng.bytes(32));
  const signed = await theirSign(credential(key.controller, rng), key, { date: '2025-01-01T00:00:00Z', proof: { expires: '2025-06-01T00:00:00Z' } });
  const early = expectVerified(await ourDiVerify(signed, ['--now', String(Date.parse('2025-03-01T00:00:00Z') / 1000)]));
  if (early !== true) return early;
  return expectReason(await ourDiVerify(signed), 'proof_expired');
});

await check('di mixed: their proof added to our signed credential verifies with both', async () => {
  const seed = rng.bytes(32);
  const k = await ourKey('EdDSA', hex(seed));
  const ours = await ourDiSign(hex(seed), credential(k.did, rng));
  const phone = await theirKey(rng.bytes(32));
  const both = await theirSign(ours, phone);
  if (!Array.isArray(both.proof) || both.proof.length !== 2) return 'theirs did not make a proof set';
  const t = allVerified(await theirVerify(both), 2);
  if (t !== true) return t;
  const r = await ourDiVerify(both);
  if (expectVerified(r) !== true) return expectVerified(r);
  return r.json.proofs.length === 2 || `ours verified ${r.json.proofs.length} proofs`;
});

await check('di mixed: our proof added to their signed credential verifies with both', async () => {
  const key = await theirKey(rng.bytes(32));
  const theirs = await theirSign(credential(key.controller, rng), key);
  const seed = rng.bytes(32);
  const both = await ourDiSign(hex(seed), theirs);
  const t = allVerified(await theirVerify(both), 2);
  if (t !== true) return t;
  return expectVerified(await ourDiVerify(both));
});

await check('di mixed: one bad proof in a set is refused by ours', async () => {
  const key = await theirKey(rng.bytes(32));
  const theirs = await theirSign(credential(key.controller, rng), key);
  const both = await ourDiSign(hex(rng.bytes(32)), theirs);
  both.proof[0].proofValue = both.proof[1].proofValue;  // a valid-looking signature of the wrong proof
  return expectReason(await ourDiVerify(both), 'signature_invalid');
});

// ---------------------------------------------------------------------------------------------
// 4. Ours -> jose.

for (const alg of ['EdDSA', 'ES256K']) {
  for (let i = 0; i < Math.max(2, Math.ceil(N / 2)); i++) {
    const kp = await jsKeyPair(alg);
    const vc = credential(kp.info.did, rng);
    const t = now();
    let jwt;
    await check(`jwt ours->jose ${alg} #${i}: vc+jwt`, async () => {
      jwt = await ourJwtSign(alg, hex(kp.priv), vc, ['--iat', String(t), '--exp', String(t + 600)]);
      const { payload, protectedHeader } = await jose.jwtVerify(jwt, kp.publicKey, {
        typ: 'vc+jwt', algorithms: [alg], issuer: kp.info.did, maxTokenAge: 600,
      });
      if (protectedHeader.kid !== kp.info.verificationMethod) return `kid ${protectedHeader.kid}`;
      const expected = { ...vc, iss: kp.info.did, iat: t, exp: t + 600 };
      return sameJson(payload, expected) || `payload differs: ${JSON.stringify(payload).slice(0, 300)}`;
    });
    await check(`jwt ours->jose ${alg} #${i}: tampered token refused by jose`, async () => {
      const [h, p, s] = jwt.split('.');
      const body = JSON.parse(Buffer.from(p, 'base64url'));
      body.credentialSubject.id = 'did:example:mallory';
      try {
        await jose.jwtVerify(`${h}.${b64u(Buffer.from(JSON.stringify(body)))}.${s}`, kp.publicKey, { algorithms: [alg] });
        return 'jose accepted a tampered token';
      } catch (e) {
        return e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || `jose: ${e.code}`;
      }
    });
  }
}

await check('jwt ours->jose: vp+jwt with aud and nonce', async () => {
  const kp = await jsKeyPair('EdDSA');
  const jwt = await ourJwtSign('EdDSA', hex(kp.priv), presentation(kp.info.did),
    ['--vp', '--iat', String(now()), '--aud', 'https://pharmacy.example', '--nonce', 'n-123', '--cty']);
  const { payload, protectedHeader } = await jose.jwtVerify(jwt, kp.publicKey, {
    typ: 'vp+jwt', algorithms: ['EdDSA'], issuer: kp.info.did, audience: 'https://pharmacy.example',
  });
  if (protectedHeader.cty !== 'vp') return `cty ${protectedHeader.cty}`;
  return payload.nonce === 'n-123' || 'nonce lost';
});

// ---------------------------------------------------------------------------------------------
// 5. jose -> ours.

let highSeen = 0;
for (const alg of ['EdDSA', 'ES256K']) {
  for (let i = 0; i < Math.max(2, N); i++) {
    const kp = await jsKeyPair(alg);
    const vc = credential(kp.info.did, rng);
    await check(`jwt jose->ours ${alg} #${i}: vc+jwt`, async () => {
      const jwt = await new jose.SignJWT({ ...vc, iss: kp.info.did })
        .setProtectedHeader({ alg, kid: kp.info.verificationMethod, typ: 'vc+jwt' })
        .setIssuedAt().setExpirationTime('10m').sign(kp.privateKey);
      const r = await ourJwtVerify(jwt);
      const v = expectVerified(r);
      if (v !== true) return v;
      if (!sameJson(r.json.payload, JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')))) return 'payload differs';
      if (alg !== 'ES256K') return true;
      // Whichever half jose's S fell in, its twin must verify too.
      const twin = highSTwin(jwt);
      if (twin.wasHigh) highSeen++;
      return expectVerified(await ourJwtVerify(twin.jwt));
    });
  }
}
console.log(`(jose produced ${highSeen} high-S ES256K signatures of ${Math.max(2, N)}; every twin was checked)`);

await check('jwt jose->ours: vp+jwt with aud and nonce, replay refused', async () => {
  const kp = await jsKeyPair('ES256K');
  const jwt = await new jose.SignJWT({ ...presentation(kp.info.did), nonce: 'n-456' })
    .setProtectedHeader({ alg: 'ES256K', kid: kp.info.verificationMethod, typ: 'vp+jwt' })
    .setIssuer(kp.info.did).setAudience('https://pharmacy.example').setIssuedAt().sign(kp.privateKey);
  const good = expectVerified(await ourJwtVerify(jwt, ['--vp', '--aud', 'https://pharmacy.example', '--nonce', 'n-456']));
  if (good !== true) return good;
  const aud = expectReason(await ourJwtVerify(jwt, ['--vp', '--aud', 'https://other.example']), 'audience_mismatch');
  if (aud !== true) return aud;
  return expectReason(await ourJwtVerify(jwt, ['--vp', '--nonce', 'n-789']), 'nonce_mismatch');
});

{
  const issuer = await jsKeyPair('EdDSA');
  const other = await jsKeyPair('EdDSA');
  const k1 = await jsKeyPair('ES256K');
  const vc = { ...credential(issuer.info.did, rng), iss: issuer.info.did };
  const header = { alg: 'EdDSA', kid: issuer.info.verificationMethod, typ: 'vc+jwt' };
  const refusals = [
    ['alg none', async () => new jose.UnsecuredJWT(vc).setIssuedAt().encode(), 'alg_not_allowed'],
    ['HS256 keyed with the public key', async () => {
      const secret = Buffer.from(issuer.info.publicKeyHex, 'hex');
      return joseSign(vc, { ...header, alg: 'HS256' }, Uint8Array.from(secret));
    }, 'alg_not_allowed'],
    ['typ JWT', async () => joseSign(vc, { ...header, typ: 'JWT' }, issuer.privateKey), 'typ_mismatch'],
    ['no typ', async () => joseSign(vc, { alg: 'EdDSA', kid: header.kid }, issuer.privateKey), 'typ_mismatch'],
    ['kid of another DID', async () => joseSign(vc, { ...header, kid: other.info.verificationMethod }, other.privateKey), 'kid_not_issuer'],
    ['re-signed by another key under the issuer kid', async () => joseSign(vc, header, other.privateKey), 'signature_invalid'],
    ['expired', async () => new jose.SignJWT(vc).setProtectedHeader(header).setIssuedAt(now() - 7200)
      .setExpirationTime(now() - 3600).sign(issuer.privateKey), 'jwt_expired'],
    ['issued in the future', async () => new jose.SignJWT(vc).setProtectedHeader(header).setIssuedAt(now() + 3600)
      .sign(issuer.privateKey), 'jwt_not_yet_valid'],
    ['VC-JWT 1.1 vc claim', async () => joseSign({ iss: issuer.info.did, vc: { ...vc } }, header, issuer.privateKey), 'claim_forbidden'],
    ['ES256K claimed for an Ed25519 kid', async () => joseSign(vc, { ...header, alg: 'ES256K' }, k1.privateKey), 'alg_key_mismatch'],
    ['iss of another DID', async () => joseSign({ ...vc, iss: other.info.did }, header, issuer.privateKey), 'iss_mismatch'],
    ['cty JWT', async () => joseSign(vc, { ...header, cty: 'JWT' }, issuer.privateKey), 'cty_unsupported'],
  ];
  for (const [name, make, reason] of refusals) {
    await check(`jwt jose->ours refused: ${name}`, async () => expectReason(await ourJwtVerify(await make()), reason));
  }
}

// ---------------------------------------------------------------------------------------------

fs.rmSync(TMP, { recursive: true, force: true });
if (failures.length > MAX_FAILURE_DETAILS) console.log(`... and ${failures.length - MAX_FAILURE_DETAILS} more failures`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
