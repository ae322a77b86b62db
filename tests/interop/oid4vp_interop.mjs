// OpenID4VP 1.0 interop (docs/openid4vc.md): the OpenWallet Foundation's verifier library
// (@openid4vc/openid4vp 0.4.6, an independent implementation) makes an Authorization Request —
// client_id `redirect_uri:<response_uri>`, response_mode direct_post, a DCQL query for a medical
// license's name and license number (dc+sd-jwt) — and serves its response_uri from a small HTTP
// server on loopback; `medallion oid4vp respond --yes` answers it with the license SD-JWT VC its
// wallet took from `medallion issuer serve` through `medallion oid4vci accept`. Their library
// parses and validates the response against the request and its DCQL query, and
// @sd-jwt/sd-jwt-vc verifies each presentation: the society's signature (its did:web key), the
// KB-JWT by the cnf key with the request's nonce and aud = client_id, and only the asked-for
// disclosures. Negative: a query the wallet cannot satisfy gets no disclosure (nonzero exit,
// nothing posted); without --yes nothing is posted; plain http to a host that is not loopback is
// refused; `medallion oid4vp request` makes a request their library parses, and our own
// verifier (`oid4vp request` + `oid4vp verify`) checks what `oid4vp respond` posts, once.
//
// Usage: node oid4vp_interop.mjs <path-to-medallion>
import crypto from 'node:crypto';
import http from 'node:http';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let Openid4vpVerifier, parseOpenid4vpAuthorizationRequest, setGlobalConfig, SDJwtVcInstance, digest;
try {
  ({ Openid4vpVerifier, parseOpenid4vpAuthorizationRequest } = await import('@openid4vc/openid4vp'));
  ({ setGlobalConfig } = await import('@openid4vc/oauth2'));
  ({ SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc'));
  ({ digest } = await import('@sd-jwt/crypto-nodejs'));
} catch (e) {
  console.log(`cannot load the npm packages (${e.message.split('\n')[0]});`);
  console.log(`run: npm ci --no-audit --no-fund --prefix ${path.dirname(fileURLToPath(import.meta.url))}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

// The verifier listens on loopback without TLS here; the library refuses http:// URLs unless told
// (its documented switch). Nothing else of its checking is relaxed.
setGlobalConfig({ allowInsecureUrls: true });

const BIN = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!BIN) {
  console.log('usage: node oid4vp_interop.mjs <path-to-medallion>');
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

const work = mkdtempSync(path.join(tmpdir(), 'medallion-oid4vp-'));
const ENV = { ...process.env, MEDALLION_PASSPHRASE: 'oid4vp-interop-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
let society = null;
let server = null;
function cleanup() {
  if (society && society.exitCode === null) society.kill('SIGTERM');
  if (server) server.close();
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


// The CLI, without blocking the event loop (our verifier's HTTP server runs in this process).
const execFileP = promisify(execFile);
async function run(args) {
  try {
    const { stdout, stderr } = await execFileP(BIN, args, { cwd: work, env: ENV, encoding: 'utf8' });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    return { code: e.code, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

// The license query of the issue: the holder's name and the license number of a dc+sd-jwt
// MedicalLicenseCredential (the society's credential names them `name` and `license_number`).
const VCT = 'urn:medallion:vct:MedicalLicenseCredential:1';
const licenseQuery = {
  credentials: [{ id: 'license', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['name'] }, { path: ['license_number'] }] }],
};

async function main() {
  // --- A license in the wallet: the society issues it, `oid4vci accept` takes it. ------------
  execFileSync(BIN, ['wallet', 'init', '--store', 'society.wallet', '--kdf', 'test', '--mnemonic-out', 'society.words'], { cwd: work, env: ENV });
  const validUntil = new Date(Date.now() + 2 * 365 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(path.join(work, 'directory.json'), JSON.stringify([{ license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'Internal Medicine', schedules: ['II', 'III', 'IV', 'V'], valid_until: validUntil }]));
  const banner = await startSociety(['issuer', 'serve', '--dir', 'society', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', '127.0.0.1:0', '--json']);
  const issuerId = banner.oid4vci?.credential_issuer;
  const dr = crypto.generateKeyPairSync('ed25519');
  const { did, mk } = didKey(dr.publicKey);
  const challenge = (await call('POST', `${issuerId}/society/v1/challenge`)).json;
  const now = Math.floor(Date.now() / 1000);
  const proof = signJws({ alg: 'EdDSA', kid: `${did}#${mk}`, typ: 'did-auth+jwt' }, { aud: challenge.audience, exp: now + 120, iat: now, iss: did, nonce: challenge.nonce, sub: did }, dr.privateKey);
  const onboard = await call('POST', `${issuerId}/society/v1/licenses`, { body: { proof, license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera' } });
  const made = await run(['oid4vci', 'offer', '--url', issuerId, '--admin-token-file', path.join('society', 'admin.token'), '--license-id', onboard.json?.id ?? '', '--json']);
  const o = made.code === 0 ? JSON.parse(made.out) : {};
  execFileSync(BIN, ['wallet', 'init', '--store', 'dr.wallet', '--kdf', 'test', '--mnemonic-out', 'dr.words'], { cwd: work, env: ENV });
  const took = await run(['oid4vci', 'accept', o.offer_uri ?? '', '--tx-code', o.tx_code ?? '', '--store', 'dr.wallet', '--did', did, '--out', 'license.sdjwt']);
  if (!check('setup: the wallet holds a license SD-JWT VC (issuer serve + oid4vci accept)', took.code === 0, { made, took })) return;
  const wallet = ['--credential', 'license.sdjwt', '--store', 'dr.wallet', '--did', did];

  // The society's key, for verifying the presentations (its did:web document).
  const didDoc = (await call('GET', `${issuerId}/.well-known/did.json`)).json;
  const issuerKeyFor = (kid) => {
    const vm = (didDoc.verificationMethod ?? []).find((m) => kid === m.id || kid.endsWith(m.id));
    const raw = vm ? unbase58(vm.publicKeyMultibase.slice(1)).subarray(2) : Buffer.alloc(32);
    return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) }, format: 'jwk' });
  };

  // @sd-jwt/sd-jwt-vc: the issuer's signature, the disclosures, the KB-JWT (by the cnf key, for
  // the nonce).
  const verifyPresentation = (p, nonce) => {
    const kid = JSON.parse(Buffer.from(p.split('.')[0], 'base64url')).kid;
    const issuerKey = issuerKeyFor(kid);
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      hashAlg: 'sha-256',
      verifier: (d, sig) => crypto.verify(null, Buffer.from(d), issuerKey, Buffer.from(sig, 'base64url')),
      kbVerifier: (d, sig, payload) => {
        const cnf = payload?.cnf?.jwk;
        return crypto.verify(null, Buffer.from(d), crypto.createPublicKey({ key: cnf, format: 'jwk' }), Buffer.from(sig, 'base64url'));
      },
    });
    return sdjwt.verify(p, { keyBindingNonce: nonce, requireKeyBindings: true });
  };

  // --- Their verifier: requests, and the response endpoint on loopback. -----------------------
  const requests = new Map(); // state -> authorizationRequestPayload
  const received = []; // every post, with its outcome
  const verifier = new Openid4vpVerifier({
    callbacks: {
      hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
      fetch,
    },
  });
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => {
      data += d;
    });
    req.on('end', async () => {
      if (req.url === '/ours') {
        // Our verifier's response endpoint for scripts: the body is saved for `oid4vp verify`.
        writeFileSync(path.join(work, 'ours.form'), data);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      const entry = { contentType: req.headers['content-type'], form: Object.fromEntries(new URLSearchParams(data)) };
      received.push(entry);
      try {
        const payload = requests.get(entry.form.state);
        if (!payload) throw new Error('unknown state');
        const parsed = await verifier.parseOpenid4vpAuthorizationResponse({ authorizationResponse: entry.form, authorizationRequestPayload: payload, callbacks: {} });
        entry.parsed = parsed;
        entry.verified = {};
        for (const [id, presentations] of Object.entries(parsed.dcql?.presentations ?? {})) {
          entry.verified[id] = [];
          for (const p of [presentations].flat()) {
            const v = await verifyPresentation(p, payload.nonce);
            entry.verified[id].push({ presentation: p, payload: v.payload, kb: v.kb?.payload, disclosures: p.split('~').slice(1, -1).length });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      } catch (e) {
        entry.error = e.message;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_request', error_description: e.message }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const responseUri = `http://127.0.0.1:${server.address().port}/oid4vp/response`;
  const newRequest = async (dcqlQuery) => {
    const state = b64u(crypto.randomBytes(16));
    const { authorizationRequest, authorizationRequestPayload } = await verifier.createOpenId4vpAuthorizationRequest({
      authorizationRequestPayload: {
        response_type: 'vp_token',
        client_id: `redirect_uri:${responseUri}`,
        response_uri: responseUri,
        response_mode: 'direct_post',
        nonce: b64u(crypto.randomBytes(24)),
        state,
        dcql_query: dcqlQuery,
      },
    });
    requests.set(state, authorizationRequestPayload);
    return { uri: authorizationRequest, payload: authorizationRequestPayload };
  };

  // 1. Without --yes: the plan is shown, nothing is posted.
  const r1 = await newRequest(licenseQuery);
  check('their library makes an openid4vp:// request by value', r1.uri.startsWith('openid4vp://') && r1.uri.includes('dcql_query='), r1.uri);
  const dry = await run(['oid4vp', 'respond', r1.uri, ...wallet, '--json']);
  const plan = dry.code === 0 ? JSON.parse(dry.out) : {};
  check('without --yes: exit 0, the disclosure plan (name; license_number always visible), sent false',
    dry.code === 0 && plan.sent === false && plan.client_id === `redirect_uri:${responseUri}` &&
    JSON.stringify(plan.disclosures?.[0]?.disclosed_claims) === '["/name"]' && plan.disclosures?.[0]?.always_visible?.includes('license_number'), dry);
  const dryText = await run(['oid4vp', 'respond', r1.uri, ...wallet]);
  check('without --yes (text): the claims on stderr, "not sent" on stdout', dryText.code === 0 && /\/name/.test(dryText.err) && /not sent/.test(dryText.out), dryText);
  check('without --yes nothing was posted', received.length === 0, received);

  // 2. With --yes: posted, and their verifier accepts it.
  const sent = await run(['oid4vp', 'respond', r1.uri, ...wallet, '--yes', '--json']);
  const answer = sent.code === 0 ? JSON.parse(sent.out) : {};
  check('with --yes: exit 0, posted, the verifier answered 200', sent.code === 0 && answer.sent === true && answer.status === 200, sent);
  const post = received[0] ?? {};
  check('the response is one form post (application/x-www-form-urlencoded) with vp_token and state', received.length === 1 && /^application\/x-www-form-urlencoded/.test(post.contentType ?? '') && post.form?.state === r1.payload.state && typeof post.form?.vp_token === 'string', post.form);
  check('their library parses and validates the response against the request (DCQL vp_token)', post.parsed && !post.error && post.parsed.type === 'dcql' && Array.isArray([post.parsed.dcql?.presentations?.license].flat()), post.error ?? post.parsed);
  const v = post.verified?.license?.[0];
  check('@sd-jwt/sd-jwt-vc verifies the presentation: society signature, KB-JWT by the cnf key with the nonce', v && v.payload?.iss === banner.did && v.payload?.vct === VCT && v.kb?.nonce === r1.payload.nonce, post.error ?? v);
  check('the KB-JWT audience is the client_id (redirect_uri: prefix, OpenID4VP Appendix B.3.6)', v?.kb?.aud === `redirect_uri:${responseUri}`, v?.kb);
  check('exactly the asked-for claims: name and license_number, not specialty, schedules, jurisdiction', v?.payload?.name === 'Dr. Elena Rivera' && v?.payload?.license_number === 'MA-MD-204812' && v.payload.specialty === undefined && v.payload.schedules === undefined && v.payload.jurisdiction === undefined && v.disclosures === 1, v?.payload);

  // The same checks are live: the presentation does not verify for another nonce.
  let otherNonce = null;
  try {
    await verifyPresentation(v?.presentation ?? '', 'another-nonce');
  } catch (e) {
    otherNonce = e.message;
  }
  check('and @sd-jwt/sd-jwt-vc refuses it for another nonce (the KB-JWT check is live)', typeof otherNonce === 'string' && /nonce/i.test(otherNonce), otherNonce);

  // 3. A query the wallet cannot satisfy: no disclosure, nonzero exit, nothing posted.
  const r3 = await newRequest({ credentials: [{ id: 'passport', format: 'dc+sd-jwt', meta: { vct_values: ['urn:example:vct:Passport:1'] }, claims: [{ path: ['document_number'] }] }] });
  const before = received.length;
  const unmet = await run(['oid4vp', 'respond', r3.uri, ...wallet, '--yes', '--json']);
  check('a query the wallet cannot satisfy: nonzero exit naming access_denied, nothing posted', unmet.code !== 0 && /access_denied/.test(unmet.err) && received.length === before, unmet);
  const r3b = await newRequest({ credentials: [{ id: 'license', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['license_number'], values: ['XX-0000'] }] }] });
  const wrongValue = await run(['oid4vp', 'respond', r3b.uri, ...wallet, '--yes']);
  check('a query for another license number: nonzero exit, nothing posted', wrongValue.code !== 0 && received.length === before, wrongValue);

  // 4. The wallet's transport rule: plain http only on loopback.
  const remote = r1.uri.replace(encodeURIComponent(responseUri), encodeURIComponent('http://verifier.example/cb')).replace(encodeURIComponent(responseUri), encodeURIComponent('http://verifier.example/cb'));
  const plain = await run(['oid4vp', 'respond', remote, ...wallet, '--yes']);
  check('plain http to a host that is not loopback is refused (https required)', plain.code !== 0 && /https is required/.test(plain.err), plain);

  // 5. A request already answered: their verifier refuses a replay (it is the verifier's rule,
  //    our wallet reports the refusal as an error).
  requests.delete(r1.payload.state);
  const replay = await run(['oid4vp', 'respond', r1.uri, ...wallet, '--yes']);
  check('a refusal by the verifier (400 invalid_request) is a nonzero exit naming it', replay.code !== 0 && /invalid_request|unknown state/.test(replay.err), replay);

  // 6. `medallion oid4vp request`: our verifier's request, read by their wallet-side parser.
  const ours = await run(['oid4vp', 'request', '--response-uri', responseUri, '--license-query', '--db', 'verifier.db', '--json']);
  const req = ours.code === 0 ? JSON.parse(ours.out) : {};
  let parsedOurs = null;
  try {
    parsedOurs = await parseOpenid4vpAuthorizationRequest({ authorizationRequest: req.request_uri });
  } catch (e) {
    parsedOurs = { error: e.message };
  }
  check('`oid4vp request --license-query` prints a request their library parses (DCQL, direct_post)', ours.code === 0 && parsedOurs?.params?.response_mode === 'direct_post' && parsedOurs?.params?.dcql_query?.credentials?.[0]?.id === 'license', parsedOurs ?? ours);

  // 7. Our own verifier end to end for scripts: `oid4vp request` -> `oid4vp respond --yes` ->
  //    the saved form -> `oid4vp verify` (the society's did:web resolved on loopback).
  const oursUri = `http://127.0.0.1:${server.address().port}/ours`;
  const mine = await run(['oid4vp', 'request', '--response-uri', oursUri, '--license-query', '--db', 'verifier.db']);
  const answered = await run(['oid4vp', 'respond', mine.out.trim(), ...wallet, '--yes']);
  check('`oid4vp respond --yes` answers `oid4vp request`', mine.code === 0 && answered.code === 0 && /sent to/.test(answered.out), { mine, answered });
  const verifyArgs = ['oid4vp', 'verify', '--db', 'verifier.db', '--response-uri', oursUri, '--form', 'ours.form', '--allow-insecure-loopback', '--json'];
  const checked = await run(verifyArgs);
  const vr = checked.code === 0 ? JSON.parse(checked.out) : {};
  const c = vr.credentials?.license?.[0];
  check('`oid4vp verify` accepts it: key bound, name and license_number, nothing else disclosed', checked.code === 0 && vr.verified === true && c?.key_bound === true && c?.claims?.name === 'Dr. Elena Rivera' && c?.claims?.license_number === 'MA-MD-204812' && c?.claims?.specialty === undefined, checked);
  const again = await run(verifyArgs);
  check('`oid4vp verify` refuses the same answer twice (the request is spent)', again.code !== 0 && /already answered/.test(again.err), again);
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
