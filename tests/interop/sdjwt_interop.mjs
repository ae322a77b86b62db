#!/usr/bin/env node
// Independent-implementation interop suite for SD-JWT VC (RFC 9901 with `typ` dc+sd-jwt), both
// directions, against @sd-jwt/core, @sd-jwt/sd-jwt-vc and @sd-jwt/crypto-nodejs 0.19.0.
//
//   node tests/interop/sdjwt_interop.mjs <path-to-sdjwt_interop_tool>
//
// The tool is tests/claims/sdjwt_tool.cpp (JSON request on stdin, JSON answer on stdout). Keys are
// made here with @noble/curves; issuers are did:key DIDs that this script decodes itself (base58btc
// and multicodec written below, not taken from either implementation), so their library's
// verifier callbacks resolve `kid` without our code.
//
// For each (issuer alg, holder alg) in EdDSA/ES256K × EdDSA/ES256K:
//  A. ours → theirs: our issuer (nested object and array-element disclosures, decoys) is read by
//     their getClaims/presentableKeys; our holder's presentation with a KB-JWT verifies with
//     SDJwtVcInstance.verify (keyBindingNonce); tampered ones (wrong nonce, a disclosure removed
//     after binding) are refused by them; their holder presents our SD-JWT and we verify it.
//  B. theirs → ours: their issuer (with _sd_decoy) is inspected and verified by us; their holder's
//     presentation verifies with ours; our holder presents theirs and they verify it; and we
//     refuse their presentations with the wrong nonce or audience, a dropped or duplicated
//     disclosure, a KB-JWT by another key, a stale KB-JWT, a missing KB-JWT, and an issuer JWT
//     signed by a key that is not the kid's.
// The last line printed is exactly "N passed, M failed"; the exit code is non-zero on failure.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let SDJwtVcInstance, digest, generateSalt, ed25519, secp256k1;
try {
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest, generateSalt } = await import('@sd-jwt/crypto-nodejs'));
  ({ ed25519 } = await import('@noble/curves/ed25519.js'));
  ({ secp256k1 } = await import('@noble/curves/secp256k1.js'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${path.dirname(fileURLToPath(import.meta.url))}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const BIN = process.argv[2];
if (!BIN) {
  console.log('usage: node sdjwt_interop.mjs <path-to-sdjwt_interop_tool>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const NOW = Math.floor(Date.now() / 1000);
const AUD = 'https://pharmacy.example';
const NONCE = crypto.randomBytes(12).toString('base64url');
const VCT = 'https://medallion.example/vct/MedicalLicense';
const MAX_FAILURE_DETAILS = 8;

let passed = 0;
let failed = 0;
let details = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    return true;
  }
  failed++;
  console.log(`FAIL ${name}`);
  if (detail !== undefined && details++ < MAX_FAILURE_DETAILS) {
    console.log(`     ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`.slice(0, 2000));
  }
  return false;
}

// Canonical JSON (sorted keys) for order-insensitive comparison.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
const same = (a, b) => canon(a) === canon(b);

const utf8 = (s) => new TextEncoder().encode(s);
const b64u = (b) => Buffer.from(b).toString('base64url');
const unb64u = (s) => Uint8Array.from(Buffer.from(s, 'base64url'));
const hex = (b) => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------
// did:key, written here: base58btc and the two multicodec key prefixes.

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function b58encode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s;
    n /= 58n;
  }
  return '1'.repeat(zeros) + s;
}
function b58decode(str) {
  let zeros = 0;
  while (zeros < str.length && str[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of str) {
    const v = B58.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const out = [];
  while (n > 0n) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Uint8Array.from([...new Array(zeros).fill(0), ...out]);
}
const CODEC = { EdDSA: [0xed, 0x01], ES256K: [0xe7, 0x01] };

function makeKey(alg) {
  const priv = alg === 'EdDSA' ? ed25519.utils.randomSecretKey() : secp256k1.utils.randomSecretKey();
  const pub = alg === 'EdDSA' ? ed25519.getPublicKey(priv) : secp256k1.getPublicKey(priv, true);
  const mb = 'z' + b58encode(Uint8Array.from([...CODEC[alg], ...pub]));
  let jwk;
  if (alg === 'EdDSA') {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(pub) };
  } else {
    const full = secp256k1.getPublicKey(priv, false);
    jwk = { kty: 'EC', crv: 'secp256k1', x: b64u(full.slice(1, 33)), y: b64u(full.slice(33)) };
  }
  return { alg, priv, pub, jwk, did: `did:key:${mb}`, kid: `did:key:${mb}#${mb}`, tool: { alg, private_key: hex(priv) } };
}

// A did:key verification method → {alg, pub}, or null.
function resolveKid(kid) {
  const m = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)#(z[1-9A-HJ-NP-Za-km-z]+)$/.exec(kid || '');
  if (!m || m[1] !== m[2]) return null;
  const raw = b58decode(m[1].slice(1));
  if (!raw) return null;
  for (const [alg, codec] of Object.entries(CODEC)) {
    const len = alg === 'EdDSA' ? 32 : 33;
    if (raw[0] === codec[0] && raw[1] === codec[1] && raw.length === 2 + len) return { alg, pub: raw.slice(2) };
  }
  return null;
}

function rawVerify(alg, pub, data, sig) {
  try {
    const s = unb64u(sig);
    if (alg === 'EdDSA') return ed25519.verify(s, utf8(data), pub);
    // ES256K (RFC 8812): ECDSA over SHA-256, r||s; accept high-S as a verifier should.
    return secp256k1.verify(s, utf8(data), pub, { prehash: true, lowS: false });
  } catch {
    return false;
  }
}

const signerFor = (key) => async (data) =>
  b64u(key.alg === 'EdDSA' ? ed25519.sign(utf8(data), key.priv) : secp256k1.sign(utf8(data), key.priv, { prehash: true, lowS: true }));

// Their issuer-signature callback: header kid (a did:key of the payload's iss) and alg.
async function issuerVerifier(data, sig) {
  const [h, p] = data.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const key = resolveKid(header.kid);
  if (!key || header.alg !== key.alg || header.kid.split('#')[0] !== payload.iss) return false;
  return rawVerify(key.alg, key.pub, data, sig);
}

// Their KB-JWT callback: the holder key is the issuer-signed cnf.jwk.
async function kbVerifier(data, sig, payload) {
  const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
  const jwk = payload?.cnf?.jwk;
  if (!jwk) return false;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && header.alg === 'EdDSA') return rawVerify('EdDSA', unb64u(jwk.x), data, sig);
  if (jwk.kty === 'EC' && jwk.crv === 'secp256k1' && header.alg === 'ES256K') {
    return rawVerify('ES256K', Uint8Array.from([4, ...unb64u(jwk.x), ...unb64u(jwk.y)]), data, sig);
  }
  return false;
}

function theirs({ issuer, holder } = {}) {
  return new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: issuer ? signerFor(issuer) : undefined,
    signAlg: issuer?.alg,
    verifier: issuerVerifier,
    kbVerifier,
    kbSigner: holder ? signerFor(holder) : undefined,
    kbSignAlg: holder?.alg,
  });
}

async function theirVerify(instance, presentation, nonce = NONCE) {
  try {
    return { ok: true, v: await instance.verify(presentation, { keyBindingNonce: nonce, currentDate: NOW }) };
  } catch (e) {
    return { ok: false, error: String(e?.message || e) };
  }
}

function tool(cmd, request) {
  const r = spawnSync(BIN, [cmd], { input: JSON.stringify(request), encoding: 'utf8', timeout: 60000, maxBuffer: 16 << 20 });
  let out = null;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = null;
  }
  return { status: r.status, out, stderr: r.stderr, error: r.error };
}

// ---------------------------------------------------------------------------------------------
// The credential.

const payload = () => ({
  vct: VCT,
  given_name: 'Ada',
  family_name: 'Lovelace',
  license: { number: 'MD-1234', jurisdiction: 'NY', schedules: ['II', 'III', 'IV'] },
  address: { street_address: '1 Main St', locality: 'Albany', country: 'US' },
  nationalities: ['US', 'DE'],
  exp: NOW + 86400,
});
const POINTERS = ['/given_name', '/family_name', '/address', '/address/street_address', '/nationalities/0', '/nationalities/1', '/license/schedules/2'];
// The same choice as an @sd-jwt disclosure frame.
const FRAME = {
  _sd: ['given_name', 'family_name', 'address'],
  address: { _sd: ['street_address'] },
  nationalities: { _sd: [0, 1] },
  license: { schedules: { _sd: [2] } },
  _sd_decoy: 2,
};
const OBJECT_KEYS = ['address', 'address.street_address', 'family_name', 'given_name'];

function signedPayload(sdJwt) {
  return JSON.parse(Buffer.from(sdJwt.split('~')[0].split('.')[1], 'base64url').toString('utf8'));
}
// The raw position (decoys and all) of the array element disclosing `value` in `arrayName`: the
// index an @sd-jwt presentation frame uses.
function rawIndex(sdJwt, arrayName, value) {
  const disclosures = sdJwt.split('~').slice(1, -1);
  const byDigest = new Map(disclosures.map((d) => [crypto.createHash('sha256').update(d).digest('base64url'), JSON.parse(Buffer.from(d, 'base64url'))]));
  return signedPayload(sdJwt)[arrayName].findIndex((e) => e && e['...'] && byDigest.get(e['...'])?.[1] === value);
}
// Removes the last disclosure (a leaf in these presentations: dropping a parent would leave its
// child unreferenced, refused before sd_hash is looked at).
function dropLastDisclosure(presentation) {
  const parts = presentation.split('~');
  parts.splice(parts.length - 2, 1);
  return parts.join('~');
}

const COMBOS = [
  ['EdDSA', 'EdDSA'],
  ['ES256K', 'ES256K'],
  ['EdDSA', 'ES256K'],
  ['ES256K', 'EdDSA'],
];

// ---------------------------------------------------------------------------------------------
// A. ours → theirs.

async function oursToTheirs(issuerAlg, holderAlg) {
  const tag = `ours→theirs ${issuerAlg}/${holderAlg}`;
  const issuer = makeKey(issuerAlg);
  const holder = makeKey(holderAlg);
  const expectedFull = { ...payload(), iss: issuer.did, iat: NOW, cnf: { jwk: holder.jwk } };

  const iss = tool('issue', { issuer: issuer.tool, holder: holder.tool, payload: payload(), disclosable: POINTERS, min_decoys: 1, max_decoys: 3, now: NOW });
  if (!check(`${tag}: our tool issues`, iss.status === 0 && iss.out?.sd_jwt, iss)) return;
  const issued = iss.out.sd_jwt;
  const them = theirs({ holder });

  const claims = await them.getClaims(issued).catch((e) => ({ error: String(e) }));
  check(`${tag}: their getClaims of our SD-JWT is the full payload`, same(claims, expectedFull), { claims, expectedFull });
  const keys = await them.presentableKeys(issued).catch(() => []);
  check(`${tag}: their presentableKeys: 7 disclosures, object paths as ours`,
    keys.length === POINTERS.length && same(keys.filter((k) => !/\.\d+(\.|$)/.test(k)), OBJECT_KEYS), keys);

  const pres = tool('present', { sd_jwt: issued, holder: holder.tool, reveal: ['/address/street_address', '/nationalities/1'], aud: AUD, nonce: NONCE, now: NOW });
  if (!check(`${tag}: our tool presents`, pres.status === 0 && pres.out?.presentation, pres)) return;
  const presentation = pres.out.presentation;
  const r = await theirVerify(them, presentation);
  check(`${tag}: their SDJwtVcInstance.verify accepts our presentation + KB-JWT`, r.ok, r.error);
  if (r.ok) {
    const p = r.v.payload;
    check(`${tag}: they see exactly the revealed claims`,
      p.given_name === undefined && p.family_name === undefined && same(p.address, payload().address) &&
      same(p.nationalities, ['DE']) && same(p.license.schedules, ['II', 'III']) && p.vct === VCT, p);
    check(`${tag}: they see our KB-JWT (typ kb+jwt, aud, nonce, iat)`,
      r.v.kb?.header?.typ === 'kb+jwt' && r.v.kb?.payload?.aud === AUD && r.v.kb?.payload?.nonce === NONCE && r.v.kb?.payload?.iat === NOW, r.v.kb);
  }
  const wrongNonce = await theirVerify(them, presentation, 'another-nonce');
  check(`${tag}: they refuse our presentation under another nonce`, !wrongNonce.ok, wrongNonce);
  const dropped = await theirVerify(them, dropLastDisclosure(presentation));
  check(`${tag}: they refuse our presentation with a disclosure removed after binding`, !dropped.ok && /sd_hash/.test(dropped.error), dropped);
  const ourOwn = tool('verify', { presentation, aud: AUD, nonce: NONCE, now: NOW });
  check(`${tag}: our verifier accepts the same presentation`, ourOwn.status === 0 && ourOwn.out?.valid, ourOwn.out);

  // Their holder presents our SD-JWT; we verify.
  const idx = rawIndex(issued, 'nationalities', 'DE');
  let theirPresentation;
  try {
    theirPresentation = await them.present(issued, { given_name: true, nationalities: { [idx]: true } }, { kb: { payload: { iat: NOW, aud: AUD, nonce: NONCE } } });
  } catch (e) {
    theirPresentation = null;
    check(`${tag}: their holder presents our SD-JWT`, false, String(e));
  }
  if (theirPresentation) {
    const v = tool('verify', { presentation: theirPresentation, aud: AUD, nonce: NONCE, now: NOW, expected_vct: VCT });
    check(`${tag}: we verify their holder's presentation of our SD-JWT`,
      v.status === 0 && v.out?.valid && v.out.key_bound && v.out.payload.given_name === 'Ada' &&
      v.out.payload.family_name === undefined && same(v.out.payload.nationalities, ['DE']), v.out);
  }
}

// ---------------------------------------------------------------------------------------------
// B. theirs → ours.

async function theirsToOurs(issuerAlg, holderAlg) {
  const tag = `theirs→ours ${issuerAlg}/${holderAlg}`;
  const issuer = makeKey(issuerAlg);
  const holder = makeKey(holderAlg);
  const them = theirs({ issuer, holder });
  const claims = { ...payload(), iss: issuer.did, iat: NOW, cnf: { jwk: holder.jwk } };
  let issued;
  try {
    issued = await them.issue(claims, FRAME, { header: { kid: issuer.kid } });
  } catch (e) {
    check(`${tag}: their issuer issues`, false, String(e));
    return;
  }
  check(`${tag}: their header is dc+sd-jwt with our kid`, (() => {
    const h = JSON.parse(Buffer.from(issued.split('.')[0], 'base64url'));
    return h.typ === 'dc+sd-jwt' && h.kid === issuer.kid && h.alg === issuerAlg;
  })(), issued.split('.')[0]);

  const view = tool('inspect', { sd_jwt: issued });
  check(`${tag}: our holder reads their SD-JWT: full payload`, view.status === 0 && same(view.out?.payload, claims), view.out);
  check(`${tag}: our holder reads their SD-JWT: the disclosable claims`, same(view.out?.disclosable, [...POINTERS].sort()), view.out?.disclosable);
  const full = tool('verify', { presentation: issued, now: NOW, require_kb: false, expected_vct: VCT });
  check(`${tag}: we verify their issued SD-JWT (all disclosures, no KB)`, full.status === 0 && same(full.out?.payload, claims), full.out);

  // Their holder's presentation, verified by us.
  const idx = rawIndex(issued, 'nationalities', 'DE');
  const frame = { address: { street_address: true }, nationalities: { [idx]: true } };
  const kb = { kb: { payload: { iat: NOW, aud: AUD, nonce: NONCE } } };
  const presentation = await them.present(issued, frame, kb);
  const v = tool('verify', { presentation, aud: AUD, nonce: NONCE, now: NOW, expected_vct: VCT });
  check(`${tag}: we verify their presentation + KB-JWT`, v.status === 0 && v.out?.valid && v.out.key_bound, v.out);
  if (v.out?.valid) {
    const p = v.out.payload;
    check(`${tag}: we see exactly the revealed claims`,
      p.given_name === undefined && same(p.address, payload().address) && same(p.nationalities, ['DE']) &&
      same(p.license.schedules, ['II', 'III']) && v.out.issuer === issuer.did && v.out.kid === issuer.kid, p);
    check(`${tag}: the disclosed pointers`, same(v.out.disclosed, ['/address', '/address/street_address', '/nationalities/0']), v.out.disclosed);
  }
  const theirOwn = await theirVerify(theirs(), presentation);
  check(`${tag}: (their own verifier accepts it too)`, theirOwn.ok, theirOwn.error);

  // Our holder presents their SD-JWT; they verify.
  const ours = tool('present', { sd_jwt: issued, holder: holder.tool, reveal: ['/given_name', '/license/schedules/2'], aud: AUD, nonce: NONCE, now: NOW });
  check(`${tag}: our holder presents their SD-JWT`, ours.status === 0, ours.out);
  if (ours.status === 0) {
    const r = await theirVerify(theirs(), ours.out.presentation);
    check(`${tag}: they verify our holder's presentation of their SD-JWT`,
      r.ok && r.v.payload.given_name === 'Ada' && same(r.v.payload.license.schedules, ['II', 'III', 'IV']) && r.v.payload.address === undefined, r.ok ? r.v.payload : r.error);
  }

  // Refusals, each with its reason.
  const refuse = (name, request, reason) => {
    const res = tool('verify', { aud: AUD, nonce: NONCE, now: NOW, ...request });
    check(`${tag}: we refuse ${name} (${reason})`, res.status === 1 && res.out?.valid === false && res.out.reason === reason, res.out || res.stderr);
  };
  refuse('their presentation under another nonce', { presentation, nonce: 'another-nonce' }, 'nonce_mismatch');
  refuse('their presentation for another audience', { presentation, aud: 'https://elsewhere.example' }, 'aud_mismatch');
  refuse('their presentation with a disclosure dropped after binding', { presentation: dropLastDisclosure(presentation) }, 'sd_hash_mismatch');
  const noKb = presentation.slice(0, presentation.lastIndexOf('~') + 1);
  refuse('their presentation without its KB-JWT', { presentation: noKb }, 'kb_missing');
  const parts = noKb.split('~');
  refuse('their presentation with a duplicated disclosure', { presentation: [...parts.slice(0, 2), parts[1], ...parts.slice(2)].join('~'), require_kb: false }, 'disclosure_duplicate');
  refuse('their presentation verified an hour later (stale KB-JWT)', { presentation, now: NOW + 3600 }, 'kb_stale');
  const intruder = makeKey(holderAlg);
  const forged = await theirs({ issuer, holder: intruder }).present(issued, frame, kb);
  refuse('their presentation with a KB-JWT by another key', { presentation: forged }, 'kb_signature_invalid');
  const mallory = makeKey(issuerAlg);
  const resigned = await theirs({ issuer: mallory, holder }).issue(claims, FRAME, { header: { kid: issuer.kid } });
  refuse('their SD-JWT signed by a key that is not the kid', { presentation: resigned, require_kb: false }, 'signature_invalid');
  const theyRefuseToo = await theirVerify(theirs(), await theirs({ issuer: mallory, holder }).present(resigned, frame, kb));
  check(`${tag}: (their verifier refuses the re-signed SD-JWT too)`, !theyRefuseToo.ok, theyRefuseToo);
}

for (const [i, h] of COMBOS) {
  await oursToTheirs(i, h);
  await theirsToOurs(i, h);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
