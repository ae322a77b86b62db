#!/usr/bin/env node
// The npm side of the credential benchmarks (issue 12): issue and verify per second for Data
// Integrity eddsa-jcs-2022 (@digitalbazaar/eddsa-jcs-2022-cryptosuite + data-integrity +
// jsonld-signatures, did:key through @digitalbazaar/did-method-key), VC-JOSE vc+jwt (jose@5,
// EdDSA) and SD-JWT (@sd-jwt/core's SDJwtInstance, typ dc+sd-jwt, two selectively disclosable
// claims, no key binding),
// next to raw Ed25519 sign / verify of 64 bytes by node:crypto (OpenSSL). The same credential
// and work per operation as bench/claims_bench.cpp: verification resolves the issuer's did:key on
// every call, from the JWS `kid` or the proof's verificationMethod.
//
//   node bench/claims_bench.mjs [--seconds S]     (packages from tests/interop/node_modules)
//
// Prints one JSON object: {"node": version, "results": {name: ops_per_second}}.
import crypto from 'node:crypto';

import { load } from './interop_packages.mjs';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 2;

const DidKey = await load('@digitalbazaar/did-method-key');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const { DataIntegrityProof } = await load('@digitalbazaar/data-integrity');
const { createSignCryptosuite, createVerifyCryptosuite } = await load('@digitalbazaar/eddsa-jcs-2022-cryptosuite');
const jsigs = (await load('jsonld-signatures')).default;
const jose = await load('jose');
const { SDJwtInstance } = await load('@sd-jwt/core');
const { digest, generateSalt } = await load('@sd-jwt/crypto-nodejs');
const { AssertionProofPurpose } = jsigs.purposes;

// ---------------------------------------------------------------------------------------------
// Keys and the credential (the C++ benchmark's).

const seed = new Uint8Array(32).fill(7);
const key = await Ed25519Multikey.generate({ seed });
key.controller = `did:key:${key.publicKeyMultibase}`;
key.id = `${key.controller}#${key.publicKeyMultibase}`;
const DID = key.controller;
const KID = key.id;
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
const privateKey = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const publicKey = crypto.createPublicKey(privateKey);

const credential = {
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  id: 'urn:uuid:2c3f5a1e-8d0b-4c7e-9a3f-6b1d2e4f5a6b',
  type: ['VerifiableCredential'],
  issuer: DID,
  validFrom: '2026-01-01T00:00:00Z',
  credentialSubject: {
    id: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    name: 'Alice Example',
    degree: { type: 'BachelorDegree', name: 'Bachelor of Science' },
  },
};

const driver = DidKey.driver();
driver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
async function documentLoader(url) {
  if (url.startsWith('did:key:')) return { contextUrl: null, documentUrl: url, document: await driver.get({ url }) };
  throw new Error(`offline document loader: refusing to load ${url}`);
}
// A did:key verification method's public key, resolved through the did:key driver.
async function publicKeyOf(kid) {
  const vm = await driver.get({ url: kid });
  const mk = await Ed25519Multikey.from(vm);
  return crypto.createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(mk.publicKey)]),
    format: 'der',
    type: 'spki',
  });
}

// ---------------------------------------------------------------------------------------------
// Operations.

const msg = Buffer.alloc(64, 0x42);
const rawSig = crypto.sign(null, msg, privateKey);

async function diIssue() {
  const suite = new DataIntegrityProof({ signer: key.signer(), date: '2026-06-01T00:00:00Z', cryptosuite: createSignCryptosuite() });
  return jsigs.sign(structuredClone(credential), { suite, purpose: new AssertionProofPurpose(), documentLoader });
}
const diSecured = await diIssue();
async function diVerify() {
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  const r = await jsigs.verify(diSecured, { suite, purpose: new AssertionProofPurpose(), documentLoader });
  if (!r.verified) throw new Error('DI verify failed');
}

async function jwtIssue() {
  return new jose.SignJWT({ ...credential, iss: DID })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'vc+jwt', kid: KID })
    .setIssuedAt(1780000000)
    .sign(privateKey);
}
const jwt = await jwtIssue();
async function jwtVerify() {
  const { payload } = await jose.jwtVerify(
    jwt,
    async (header) => {
      if (!header.kid?.startsWith(DID + '#')) throw new Error('kid');
      return publicKeyOf(header.kid);
    },
    { typ: 'vc+jwt', algorithms: ['EdDSA'], issuer: DID, currentDate: new Date(1780000100 * 1000) },
  );
  return payload;
}

const signer = async (data) => crypto.sign(null, Buffer.from(data), privateKey).toString('base64url');
async function sdVerifier(data, sig) {
  const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
  return crypto.verify(null, Buffer.from(data), await publicKeyOf(header.kid), Buffer.from(sig, 'base64url'));
}
const sd = new SDJwtInstance({ hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt, signer, signAlg: 'EdDSA', verifier: sdVerifier });
const { issuer: _drop, ...sdPayload } = credential;
async function sdIssue() {
  return sd.issue(
    { ...sdPayload, iss: DID, iat: 1780000000, vct: 'https://example.org/degree' },
    { credentialSubject: { _sd: ['name', 'degree'] } },
    { header: { kid: KID, typ: 'dc+sd-jwt' } },
  );
}
const sdToken = await sdIssue();
async function sdVerify() {
  return sd.verify(sdToken);
}

// ---------------------------------------------------------------------------------------------
// Timing: warm up, then as many operations as fit in SECONDS (one at a time, awaited).

async function measure(fn) {
  const warm = Date.now() + 200;
  while (Date.now() < warm) await fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(SECONDS * 1e9));
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 16; i++) await fn();
    n += 16;
    t = process.hrtime.bigint();
  }
  return n / (Number(t - t0) / 1e9);
}

const ops = {
  raw_ed25519_sign: async () => crypto.sign(null, msg, privateKey),
  raw_ed25519_verify: async () => {
    if (!crypto.verify(null, msg, publicKey, rawSig)) throw new Error('raw verify');
  },
  did_key_dereference: async () => driver.get({ url: KID }),
  // did-method-key keeps no cache: every get builds the document.
  did_key_dereference_uncached: async () => driver.get({ url: KID }),
  di_issue: diIssue,
  di_verify: diVerify,
  jwt_issue: jwtIssue,
  jwt_verify: jwtVerify,
  sdjwt_issue: sdIssue,
  sdjwt_verify: sdVerify,
};
const results = {};
for (const [name, fn] of Object.entries(ops)) results[name] = await measure(fn);
console.log(JSON.stringify({ node: process.version, seconds: SECONDS, results }));
