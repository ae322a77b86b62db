// OpenID4VCI 1.0 interop, the physician's container as the issuer (docs/openid4vc.md "The
// physician's container as an issuer of prescriptions"): under `medallion up`, Dr. Rivera
// onboards, prescribes and delivers with the command line (`physician prescribe|deliver`), makes
// an offer of the delivered prescription from her container (`medallion oid4vci offer
// --prescription`, her owner session), and the OpenWallet Foundation's wallet-side client
// (@openid4vc/openid4vci + @openid4vc/oauth2 0.4.6, an independent implementation) takes it:
// offer by reference, issuer and AS metadata, token with the tx_code, nonce, an EdDSA `jwt` key
// proof, the PrescriptionCredential SD-JWT VC — verified with @sd-jwt/sd-jwt-vc against her
// assertion key from her DID document and bound (cnf) to the client's key. Refusals: a wrong
// tx_code and a replayed offer (invalid_grant), a proof signed by another key and an ES256 proof
// (invalid_proof), an offer without her session. A controlled substance (her phone co-signs):
// Alice's pairwise key (the copy's pseudonym) gets the prescribing copy and the co-signature
// (prescriber_cosignature); another key is refused (credential_request_denied) before the
// access token is spent, so her pairwise key then takes the offer on that same token, once.
//
// Usage: node oid4vci_prescription_interop.mjs <path-to-medallion>
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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
// Loopback http only (the library's documented switch); nothing else of its checks is relaxed.
setGlobalConfig({ allowInsecureUrls: true });

const BIN = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!BIN) {
  console.log('usage: node oid4vci_prescription_interop.mjs <path-to-medallion>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const PRESCRIPTION_VCT = 'https://w3id.org/medallion/credentials/v1/PrescriptionCredential';
const CONFIG_ID = 'PrescriptionCredential_dc+sd-jwt';

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

const work = mkdtempSync(path.join(tmpdir(), 'medallion-oid4vci-rx-'));
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
  const DR = ['--store', path.join(runDir, 'physician', 'physician.wallet'), '--passphrase-file', path.join(runDir, 'physician', 'passphrase.txt'), '--did', drDid];

  // --- the physician prescribes and delivers (the command line, as flow_cli_test.sh) ---
  run(['issuer', 'onboard', '--url', society, ...DR, '--license-number', 'MA-MD-204812', '--name', 'Dr. Elena Rivera', '--out', 'license.json']);
  run(['consent', 'signin', '--url', drUrl, ...DR, '--session-file', 'dr.session']);
  const holder = JSON.parse(run(['relationship', 'pseudonym', '--store', path.join(runDir, 'patient', 'patient.wallet'), '--passphrase-file', path.join(runDir, 'patient', 'passphrase.txt')])).pseudonym;
  run(['physician', 'prescribe', ...DR, '--license', 'license.json', '--request', path.join(runDir, 'medication-request.json'), '--patient', patientDid, '--holder', holder, '--container', drUrl, '--session-file', 'dr.session', '--out', 'draft.json', ...LED]);
  run(['physician', 'deliver', '--draft', 'draft.json', ...DR, '--session-file', 'dr.session', '--patient-container', patientUrl, '--out', 'rx.json', '--copy-out', 'rx.copy.json', ...LED]);
  const rx = JSON.parse(readFileSync(path.join(work, 'rx.json'), 'utf8'));
  check('physician prescribe + deliver: a PrescriptionCredential and its pharmacy copy', rx.type.includes('PrescriptionCredential') && JSON.parse(readFileSync(path.join(work, 'rx.copy.json'), 'utf8')).sd_jwt.includes('~'), rx.type);

  // --- the offer from her container ---
  writeFileSync(path.join(work, 'nobody.session'), 'not-a-session\n');
  const noSession = runFails(['oid4vci', 'offer', '--url', drUrl, '--session-file', 'nobody.session', '--prescription', 'rx.json', '--json']);
  check('oid4vci offer --prescription without her owner session is refused', noSession && noSession.status !== 0, noSession);
  const offer = () => JSON.parse(run(['oid4vci', 'offer', '--url', drUrl, '--session-file', 'dr.session', '--prescription', 'rx.json', '--copy', 'rx.copy.json', '--json']));
  const o = offer();
  check('oid4vci offer --prescription: an openid-credential-offer:// URI and a 6-digit tx_code', o.offer_uri.startsWith('openid-credential-offer://?credential_offer=') && /^\d{6}$/.test(o.tx_code) && o.prescription === rx.id, o);

  const keys = new Map();
  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, { header, payload }) => ({ jwt: signJws(header, payload, keys.get(signer.publicJwk.x)), signerJwk: signer.publicJwk }),
    },
  });
  const credentialOffer = await client.resolveCredentialOffer(o.offer_uri_by_reference);
  check('their client resolves the offer by reference: the physician\'s container is the credential issuer', new URL(credentialOffer.credential_issuer).port === new URL(drUrl).port && credentialOffer.credential_configuration_ids[0] === CONFIG_ID && /physician/.test(credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'].tx_code.description), { drUrl, credentialOffer });
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const config = issuerMetadata.credentialIssuer.credential_configurations_supported[CONFIG_ID];
  check('their client reads her issuer and AS metadata: dc+sd-jwt, the prescription vct, EdDSA proofs', config?.format === 'dc+sd-jwt' && config.vct === PRESCRIPTION_VCT && JSON.stringify(config.proof_types_supported?.jwt?.proof_signing_alg_values_supported) === '["EdDSA"]', config);

  let refused = null;
  try {
    await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code === '000000' ? '111111' : '000000' });
  } catch (e) {
    refused = e;
  }
  check('a wrong tx_code is refused (invalid_grant)', refused && JSON.stringify(refused.errorResponse ?? refused.message).includes('invalid_grant'), refused?.message);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
  check('the token endpoint answers the pre-authorized code + tx_code', typeof accessTokenResponse.access_token === 'string', accessTokenResponse);
  refused = null;
  try {
    await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
  } catch (e) {
    refused = e;
  }
  check('the offer replayed is refused (invalid_grant)', refused && JSON.stringify(refused.errorResponse ?? refused.message).includes('invalid_grant'), refused?.message);

  const kp = crypto.generateKeyPairSync('ed25519');
  const publicJwk = kp.publicKey.export({ format: 'jwk' });
  keys.set(publicJwk.x, kp.privateKey);
  const endpoint = issuerMetadata.credentialIssuer.credential_endpoint;
  // A proof naming the wallet's key but signed by another, and an ES256 proof: refused before
  // the nonce is spent.
  {
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
    // aud: the Credential Issuer Identifier (her container's origin, as its app is reached).
    const payload = { aud: credentialOffer.credential_issuer, iat: Math.floor(Date.now() / 1000), nonce };
    const forged = signJws({ typ: 'openid4vci-proof+jwt', alg: 'EdDSA', jwk: publicJwk }, payload, crypto.generateKeyPairSync('ed25519').privateKey);
    const r1 = await call('POST', endpoint, { bearer: accessTokenResponse.access_token, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [forged] } } });
    check('a proof signed by another key is refused (400 invalid_proof)', r1.status === 400 && r1.json?.error === 'invalid_proof' && /signature/.test(r1.json.error_description), r1.json);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es = signJws({ typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: ec.publicKey.export({ format: 'jwk' }) }, payload, ec.privateKey);
    const r2 = await call('POST', endpoint, { bearer: accessTokenResponse.access_token, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [es] } } });
    check('an ES256 proof is refused: the configuration takes EdDSA (400 invalid_proof)', r2.status === 400 && r2.json?.error === 'invalid_proof' && /proof_signing_alg_values_supported/.test(r2.json.error_description), r2.json);
  }
  const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: CONFIG_ID, nonce: cNonce, signer: { method: 'jwk', alg: 'EdDSA', publicJwk } });
  const response = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: CONFIG_ID, proofs: { jwt: [jwt] } });
  const credential = response.credentialResponse?.credentials?.[0]?.credential;
  check('their client receives the prescription (an SD-JWT VC)', typeof credential === 'string' && credential.includes('~'), response.credentialResponse);

  // Verify it with her assertion key from her DID document.
  const kid = JSON.parse(Buffer.from(credential.split('.')[0], 'base64url')).kid ?? '';
  const doc = JSON.parse(run(['did', 'resolve', drDid, ...LED, '--document']));
  const vm = (doc.verificationMethod ?? []).find((m) => kid === m.id || kid.endsWith(m.id));
  const raw = vm ? unbase58(vm.publicKeyMultibase.slice(1)).subarray(2) : Buffer.alloc(32);
  const issuerKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) }, format: 'jwk' });
  const sdjwt = new SDJwtVcInstance({ hasher: digest, hashAlg: 'sha-256', verifier: (data, sig) => crypto.verify(null, Buffer.from(data), issuerKey, Buffer.from(sig, 'base64url')) });
  let verified = null;
  try {
    verified = await sdjwt.verify(credential);
  } catch (e) {
    verified = { error: e.message };
  }
  const p = verified?.payload ?? {};
  check('@sd-jwt/sd-jwt-vc verifies it with her assertion key (her DID document)', Boolean(vm) && p.vct === PRESCRIPTION_VCT && p.iss === drDid && p.jti === rx.id, verified);
  check('it is bound to the key their client proved (cnf.jwk)', p.cnf?.jwk?.x === publicJwk.x && p.cnf.jwk.x !== holder, p.cnf);
  check('the prescription (medication, quantity) is in it; not a controlled substance, no co-signature', p.prescription?.medicationCodeableConcept && p.prescription?.dispenseRequest && !('prescriber_cosignature' in (response.credentialResponse ?? {})), p.prescription);
  // The new copy is a pharmacy's prescription: postmarked, presented with a KB-JWT by the
  // client's key (@sd-jwt/sd-jwt-vc, nothing selectively disclosable revealed) for the
  // pharmacy's challenge, and dispensed through the existing pipeline.
  {
    const ch = await call('POST', `${field('pharmacy', 'url').replace(/\/$/, '')}/pharmacy/v1/challenge`, { body: {} });
    const holderSdjwt = new SDJwtVcInstance({ hasher: digest, hashAlg: 'sha-256', kbSignAlg: 'EdDSA', kbSigner: (data) => b64u(crypto.sign(null, Buffer.from(data), kp.privateKey)) });
    const presented = await holderSdjwt.present(credential, {}, { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: ch.json?.domain, nonce: ch.json?.nonce } } });
    const d = await call('POST', `${field('pharmacy', 'url').replace(/\/$/, '')}/pharmacy/v1/dispense`, { body: { sd_jwt: presented } });
    check('the pharmacy dispenses it: the new copy is postmarked and bound to the presenter\'s key', d.status === 200 && d.json?.fill === 1, d.json);
  }
  const again = await call('POST', endpoint, { bearer: accessTokenResponse.access_token, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [jwt] } } });
  check('the access token gave one credential (401 invalid_token)', again.status === 401 && again.json?.error === 'invalid_token', again.json);

  // --- a controlled substance: her phone co-signs the copy bound to Alice's pseudonym ---
  const phone = { ...ENV, MEDALLION_PASSPHRASE: 'phone-pass' };
  const pairUri = JSON.parse(run(['consent', 'pair', '--url', drUrl, '--session-file', 'dr.session'])).uri;
  execFileSync(BIN, ['phone', 'init', '--store', 'dr-phone.db', '--kdf', 'test', '--mnemonic-out', 'dr-phone.words'], { cwd: work, env: phone, stdio: 'ignore' });
  execFileSync(BIN, ['phone', 'pair', '--store', 'dr-phone.db', '--uri', pairUri], { cwd: work, env: phone, stdio: 'ignore' });
  const pres = JSON.parse(run(['physician', 'prescribe', ...DR, '--license', 'license.json', '--request', path.join(runDir, 'medication-request.json'), '--patient', patientDid, '--schedule', 'II', '--holder', holder, '--container', drUrl, '--session-file', 'dr.session', '--out', 'draft2.json', ...LED, '--json']));
  for (const a of pres.approvals) execFileSync(BIN, ['phone', 'approve', '--store', 'dr-phone.db', '--', a], { cwd: work, env: phone, stdio: 'ignore' });
  run(['physician', 'deliver', '--draft', 'draft2.json', ...DR, '--session-file', 'dr.session', '--patient-container', patientUrl, '--out', 'rx2.json', '--copy-out', 'rx2.copy.json', ...LED]);
  const copy2 = JSON.parse(readFileSync(path.join(work, 'rx2.copy.json'), 'utf8'));
  check('a controlled substance (schedule II) delivered with its co-signed copy', typeof copy2.cosignature === 'string' && copy2.sd_jwt.includes('~'), Object.keys(copy2));
  const noCopy = runFails(['oid4vci', 'offer', '--url', drUrl, '--session-file', 'dr.session', '--prescription', 'rx2.json', '--json']);
  check('a controlled substance is not offered without its co-signed copy', noCopy && /copy/.test(noCopy.stderr), noCopy);

  // Alice's pairwise key for Dr. Rivera (the pseudonym; m/5063756'/0'/7'/0'/0'), from her wallet.
  const derived = JSON.parse(run(['wallet', 'derive', '--store', path.join(runDir, 'patient', 'patient.wallet'), '--passphrase-file', path.join(runDir, 'patient', 'passphrase.txt'), '--curve', 'ed25519', '--path', "m/5063756'/0'/7'/0'/0'", '--json']));
  const seed = Buffer.from(derived.private_key, 'hex');
  const pairwise = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const pairwiseJwk = crypto.createPublicKey(pairwise).export({ format: 'jwk' });
  check('the pairwise key derived from her wallet is the pseudonym the copy is bound to', pairwiseJwk.x === holder, { x: pairwiseJwk.x, holder });
  keys.set(pairwiseJwk.x, pairwise);
  const take = async (signerJwk) => {
    const off = JSON.parse(run(['oid4vci', 'offer', '--url', drUrl, '--session-file', 'dr.session', '--prescription', 'rx2.json', '--copy', 'rx2.copy.json', '--json']));
    const co = await client.resolveCredentialOffer(off.offer_uri);
    const { accessTokenResponse: t } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: co, issuerMetadata, txCode: off.tx_code });
    const { c_nonce: n } = await client.requestNonce({ issuerMetadata });
    const { jwt: proofJwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: CONFIG_ID, nonce: n, signer: { method: 'jwk', alg: 'EdDSA', publicJwk: signerJwk } });
    const res = await call('POST', endpoint, { bearer: t.access_token, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [proofJwt] } } });
    return { ...res, accessToken: t.access_token };
  };
  const mine = await take(pairwiseJwk);
  check('her pairwise key proven: the very copy made at prescribing (postmarked), with the phone co-signature as prescriber_cosignature', mine.status === 200 && mine.json?.credentials?.[0]?.credential === copy2.sd_jwt && mine.json.prescriber_cosignature === copy2.cosignature, mine.json);
  const other = await take(publicJwk);
  check('another key for a controlled substance: 403 credential_request_denied (its co-signature is for the pseudonym\'s copy)', other.status === 403 && other.json?.error === 'credential_request_denied', { status: other.status, json: other.json });
  // That refusal comes before the access token is spent: her pairwise key, with a fresh
  // c_nonce (the refused proof spent its own), takes the offer on the same token.
  {
    const { c_nonce: n } = await client.requestNonce({ issuerMetadata });
    const { jwt: proofJwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: CONFIG_ID, nonce: n, signer: { method: 'jwk', alg: 'EdDSA', publicJwk: pairwiseJwk } });
    const retry = await call('POST', endpoint, { bearer: other.accessToken, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [proofJwt] } } });
    check('after the 403, her pairwise key on the same access token gets the co-signed copy', retry.status === 200 && retry.json?.credentials?.[0]?.credential === copy2.sd_jwt && retry.json.prescriber_cosignature === copy2.cosignature, retry.json);
    const { c_nonce: n2 } = await client.requestNonce({ issuerMetadata });
    const { jwt: proof2 } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: CONFIG_ID, nonce: n2, signer: { method: 'jwk', alg: 'EdDSA', publicJwk: pairwiseJwk } });
    const twice = await call('POST', endpoint, { bearer: other.accessToken, body: { credential_configuration_id: CONFIG_ID, proofs: { jwt: [proof2] } } });
    check('then the token is spent (401 invalid_token)', twice.status === 401 && twice.json?.error === 'invalid_token', twice.json);
  }
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
