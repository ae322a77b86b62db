// A stand-in for a container's browser side, for working on the page's look without building
// the server: serves web/apps/patient with the real CSP and answers the docs/web.md and
// owner API calls from memory (no WebAuthn verification: any passkey signs in). Not a test.
// Usage: node mock_container.mjs [port]   then open http://localhost:<port>/#setup=x
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'apps', 'patient');
const PORT = Number(process.argv[2] || 8099);
const ORIGIN = `http://localhost:${PORT}`;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };
const now = () => Math.floor(Date.now() / 1000);
const OWNER = 'did:mdl:EiBd9xP2kq7s3mV0aLw5Yc8nR1tUoZ4hJ6gF';
const DR = 'did:mdl:EiCq2Lm8Tn5vXa0pRs7wKd3bYe9uHj4fG1zQ';
const SOCIETY = 'did:web:localhost%3A8070';

let signedIn = false;
let seq = 0;
const log = [];
const streams = new Set();
function add(e) {
  seq += 1;
  const entry = { ...e, seq, ts: now(), prev: 'x', hash: `h${seq}` };
  log.push(entry);
  const type = e.event === 'release' ? 'new_disclosure' : e.event === 'device.paired' ? 'new_device' : (e.event === 'decision' && e.outcome === 'request_submitted') ? 'request_awaiting_approval' : e.event === 'credential.received' ? 'new_prescription' : '';
  if (type) for (const s of streams) s.write(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify({ seq, type, detail: entry })}\n\n`);
}
const records = { MedicationRequest: [], AllergyIntolerance: [], Condition: [], Observation: [], DocumentReference: [] };
records.MedicationRequest.push({ resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'amoxicillin 500 mg oral capsule' }, authoredOn: '2026-12-01', dosageInstruction: [{ text: '1 capsule three times a day for 7 days' }], dispenseRequest: { quantity: { value: 21, unit: 'capsule' }, numberOfRepeatsAllowed: 1 }, meta: { versionId: '1', lastUpdated: '2026-12-01T09:12:00Z' } });
records.AllergyIntolerance.push({ resourceType: 'AllergyIntolerance', id: 'a1', code: { text: 'Penicillin' }, criticality: 'high', patient: { reference: 'Patient/alice' }, recordedDate: '2025-05-03', meta: { versionId: '1', lastUpdated: '2025-05-03T10:00:00Z' } });
add({ event: 'owner.signin', did: OWNER, outcome: 'session' });
add({ event: 'release', requesting_party: DR, scope: 'create', records: ['MedicationRequest/mr1'] });
add({ event: 'release', requesting_party: DR, scope: 'read', records: ['AllergyIntolerance/a1'] });
let policies = [{ id: 'p1', effect: 'permit', subjects: [{ credential_type: 'MedicalLicenseCredential' }], resource_types: ['MedicationRequest'], scopes: ['create', 'read', 'search'], purposes: ['treatment'], not_after: 1803942000, note: 'my GP' }];
const requests = [{ id: 'r1', status: 'pending', created: now() - 300, summary: { id: 'r1', kind: 'consent', requesting_party: DR, client_id: 'c1', purpose: 'treatment', permissions: [{ resource_id: 'x', name: 'My MedicationRequest records', type: 'http://hl7.org/fhir/StructureDefinition/MedicationRequest', resource_scopes: ['read', 'search'] }], approvers: ['owner'], credentials: [{ types: ['VerifiableCredential', 'MedicalLicenseCredential'], issuer: SOCIETY }] } }];
const devices = [];
const passkeys = [{ id: 'pk1', name: 'Test laptop', alg: -7, created_at: now() - 3600, last_used_at: now() - 60, backed_up: false }];
const receipts = [{ policy_id: 'p1', action: 'grant', receipt: { policy: policies[0] }, hash: 'ab'.repeat(32), ledger_indexes: [12], created: now() - 4000, signer: 'z6Mk' }];
const credentials = [{ id: 'cd'.repeat(32), types: ['VerifiableCredential', 'PrescriptionCredential'], issuer: DR, source: 'inbox', received: now() - 100, credential: { issuer: DR, validFrom: '2026-12-01T09:00:00Z', validUntil: '2027-05-30T09:00:00Z', credentialSubject: { id: OWNER, prescription: records.MedicationRequest[0] }, evidence: [{ licenseCredential: { credentialSubject: { licenseNumber: 'MA-MD-204812', jurisdiction: 'US-MA', licenseType: 'MD', specialty: 'Internal Medicine' } } }] } }];

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Content-Type': 'application/json', ...headers });
  res.end(body === undefined ? '' : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, ORIGIN);
  const p = url.pathname;
  let body = '';
  for await (const c of req) body += c;
  const j = body ? JSON.parse(body) : {};
  if (req.method === 'GET' && (p === '/' || p.startsWith('/app/'))) {
    const rel = p.slice(5);
    const f = p === '/' ? join(APP, 'index.html') : rel.startsWith('shared/') ? join(APP, '..', rel) : join(APP, rel);
    if (!f.startsWith(APP) || !existsSync(f)) return send(res, 404, { error: 'not_found' });
    return send(res, 200, readFileSync(f), { 'Content-Type': TYPES[extname(f)] || 'application/octet-stream' });
  }
  const ok = (b, s = 200) => send(res, s, b);
  if (p === '/web/v1/state') return ok({ signed_in: signedIn, csrf: signedIn ? 'csrf' : undefined, owner: { did: OWNER }, rp_id: 'localhost', origin: ORIGIN, passkeys: 1, devices: devices.length, session: signedIn ? { method: 'passkey', created_at: now() - 60, expires_at: now() + 43000 } : undefined });
  if (p === '/web/v1/signin/options' || p === '/web/v1/passkeys/register/options') {
    const challenge = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    if (p.includes('register')) return ok({ challenge, rp: { id: 'localhost', name: 'Medallion' }, user: { id: 'dXNlcg', name: 'alice', displayName: 'Alice' }, pubKeyCredParams: [{ type: 'public-key', alg: -8 }, { type: 'public-key', alg: -7 }], timeout: 60000, attestation: 'none', authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }, excludeCredentials: [] });
    return ok({ challenge, rpId: 'localhost', timeout: 60000, userVerification: 'preferred', allowCredentials: [] });
  }
  if (p === '/web/v1/signin' || p === '/web/v1/passkeys/register') {
    signedIn = true;
    return send(res, p.includes('register') ? 201 : 200, { signed_in: true, csrf: 'csrf' }, { 'Set-Cookie': 'mdl_session=abc; Path=/; HttpOnly; SameSite=Strict' });
  }
  if (p === '/web/v1/signout' || p === '/web/v1/signout-all') {
    signedIn = false;
    return ok({});
  }
  if (p === '/web/v1/signin/phone') return ok({ attempt: 'a1', request_id: 'r9' }, 202);
  if (p === '/web/v1/signin/phone/poll') return ok({ status: 'pending' });
  if (!signedIn) return send(res, 401, { error: 'invalid_token' });
  if (p === '/web/v1/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP });
    res.write(': hello\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return undefined;
  }
  if (p === '/mock/request') {
    const r = JSON.parse(JSON.stringify(requests[0]));
    r.id = `r${requests.length + 1}`;
    r.status = 'pending';
    r.created = now();
    requests.push(r);
    add({ event: 'decision', outcome: 'request_submitted', requesting_party: DR, purpose: 'treatment' });
    return ok({});
  }
  if (p === '/web/v1/passkeys') return ok({ passkeys });
  if (p === '/web/v1/pairing') return ok({ uri: `medallion-pair://v1?url=${encodeURIComponent(ORIGIN)}&id=p1&secret=s3cr3t&expires=${now() + 300}`, expires: now() + 300, qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" role="img"><title>pairing</title><rect width="29" height="29" fill="#fff"/><path d="M4 4h7v7H4zM18 4h7v7h-7zM4 18h7v7H4zM13 13h3v3h-3z" fill="#000"/></svg>' }, 201);
  if (p === '/web/v1/disclosures/verify') return ok({ valid: true, entries: log.length, anchors: [{ seq: 2, ledger_index: 40, included: true }] });
  if (p === '/owner/v1/policies' && req.method === 'GET') return ok(policies);
  if (p === '/owner/v1/policies' && req.method === 'POST') {
    const pol = { ...j, id: `p${Date.now()}` };
    policies.push(pol);
    receipts.push({ policy_id: pol.id, action: 'grant', receipt: { policy: pol }, hash: 'ef'.repeat(32), ledger_indexes: [20], created: now() });
    return ok({ ...pol, receipt: { hash: 'x', ledger_indexes: [20] } }, 201);
  }
  if (p.startsWith('/owner/v1/policies/') && req.method === 'DELETE') {
    const id = p.split('/').pop();
    policies = policies.filter((x) => x.id !== id);
    receipts.push({ policy_id: id, action: 'revoke', receipt: { policy_id: id }, hash: 'cd'.repeat(32), ledger_indexes: [21], created: now() });
    return ok({ id, revoked: true, tokens_revoked: 1 });
  }
  if (p === '/owner/v1/requests') return ok(requests.filter((r) => !url.searchParams.get('status') || r.status === url.searchParams.get('status')));
  if (p.startsWith('/owner/v1/requests/')) {
    const r = requests.find((x) => x.id === p.split('/')[4]);
    r.status = j.decision === 'approve' ? 'approved' : 'denied';
    add({ event: 'approval', approver: 'owner', decision: j.decision, request: r.id });
    return ok({ status: r.status });
  }
  if (p === '/owner/v1/disclosures') return ok({ entries: log.filter((e) => e.seq > Number(url.searchParams.get('after') || 0)), head: { seq, hash: 'h' } });
  if (p === '/owner/v1/disclosures/export') return ok({ format: 'medallion-disclosure-log/1', entries: log.map((e) => ({ entry: e, hash: e.hash })), anchors: [] });
  if (p === '/owner/v1/receipts') return ok(receipts);
  if (p === '/owner/v1/credentials') return ok(credentials);
  if (p === '/owner/v1/devices') return ok(devices);
  if (p === '/mock/pair') {
    devices.push({ id: 'd1', device_key: 'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', name: 'Alice’s phone', created: now(), revoked: null });
    add({ event: 'device.paired', device_name: 'Alice’s phone' });
    return ok({});
  }
  const fm = p.match(/^\/fhir\/(\w+)$/);
  if (fm && req.method === 'GET') return send(res, 200, { resourceType: 'Bundle', type: 'searchset', entry: records[fm[1]].map((r) => ({ resource: r })) }, { 'Content-Type': 'application/fhir+json' });
  if (fm && req.method === 'POST') {
    const r = { ...j, id: `o${Date.now()}`, meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
    records[fm[1]].push(r);
    add({ event: 'release', requesting_party: OWNER, scope: 'create', records: [`${fm[1]}/${r.id}`] });
    return send(res, 201, r, { 'Content-Type': 'application/fhir+json' });
  }
  return send(res, 404, { error: 'not_found' });
});
server.listen(PORT, '127.0.0.1', () => console.log(`mock container at ${ORIGIN}`));
