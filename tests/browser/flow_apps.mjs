// The prescription flow through the web apps (issue 15; docs/web.md): the patient's container
// and the pharmacy counter in separate browser contexts (Chromium headless, passkeys through
// CDP virtual authenticators); the physician still through the command line. Starts its own
// ledger, society, two containers and two pharmacies in a temp folder. Every result a page shows
// is also checked through an API or the ledger. One line per check; exit 1 if any failed.
// Usage: node flow_apps.mjs <path-to-medallion>
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { join, resolve, dirname } from 'node:path';
import { ok, notOk, check, summary, work, freePort, startRole, run, json, cleanup, sleep, onStop } from './lib.mjs';
import { makeHarness, visit, pageFetch } from './harness.mjs';

const M = resolve(process.argv[2] || '');
if (!process.argv[2]) {
  console.error('usage: node flow_apps.mjs <path-to-medallion>');
  process.exit(2);
}
const SHOTS = resolve(process.env.MEDALLION_SCREENSHOTS || join(dirname(M), '..', 'browser-screenshots'));
mkdirSync(SHOTS, { recursive: true });
const ENV = { MEDALLION_PASSPHRASE: 'browser-test-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
const CHROMIUM = process.env.MEDALLION_CHROMIUM || '/usr/bin/chromium';
const hx = makeHarness(SHOTS);
const VALID_UNTIL = new Date(Date.now() + 2 * 365 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');

const deadline = setTimeout(async () => {
  notOk('the suite finished within 540 s');
  summary();
  await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
  process.exit(1);
}, 540000);

async function cli(args, what) {
  const r = await run(M, args, ENV);
  if (r.code !== 0 && what) notOk(what, `exit ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

// A patient's wallet on the command line (its own store and DID), made once.
let rxWalletDid = '';
async function rxWallet(L) {
  if (rxWalletDid) return rxWalletDid;
  await cli(['wallet', 'init', '--store', 'rx-phone.wallet', '--kdf', 'test', '--mnemonic-out', 'rx-phone.words'], 'wallet init (a patient’s wallet)');
  rxWalletDid = (await cli(['did', 'create', '--store', 'rx-phone.wallet', ...L], 'did create (a patient’s wallet)')).stdout.trim();
  return rxWalletDid;
}

// On a card of My prescriptions: “Send to a wallet”, then what the page shows of the offer.
async function sendToWallet(card) {
  await card.getByRole('button', { name: 'Send to a wallet' }).click();
  const box = card.locator('.wallet-offer');
  const shown = await box.locator('.tx-code').waitFor({ timeout: 15000 }).then(() => true, () => false);
  if (!shown) return { error: await box.innerText().catch(() => '') };
  return {
    qr: await box.locator('img.qr').evaluate((i) => i.complete && i.naturalWidth > 0 && i.alt.length > 0).catch(() => false),
    link: await box.getByLabel('Link to the offer').inputValue(),
    code: (await box.locator('.tx-code').innerText()).trim(),
    expires: (await box.locator('.offer-expires').innerText()).trim(),
    focused: await box.locator('h3').evaluate((el) => document.activeElement === el),
  };
}

async function startRoles() {
  const ledger = await startRole(M, 'ledger', ['ledger', 'serve', '--db', 'ledger.db', '--key-file', 'ledger.key', '--origin', 'browser.test/ledger', '--listen', '127.0.0.1:0', '--json'], ENV);
  const L = ['--ledger', ledger.banner.url, '--log-key', ledger.banner.verifier_key];
  for (const w of ['alice', 'dr', 'society', 'pharmacy-a', 'pharmacy-b']) await cli(['wallet', 'init', '--store', `${w}.wallet`, '--kdf', 'test', '--mnemonic-out', `${w}.words`], `wallet init ${w}`);
  const aliceDid = (await cli(['did', 'create', '--store', 'alice.wallet', ...L], 'did create alice')).stdout.trim();
  const drDid = (await cli(['did', 'create', '--store', 'dr.wallet', ...L], 'did create dr')).stdout.trim();
  // The directory starts with someone else: the clerk imports Dr. Rivera at the desk.
  writeFileSync(join(work, 'directory.json'), JSON.stringify([{ license_number: 'MA-MD-100001', name: 'Dr. Amir Haddad', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'Pediatrics', schedules: ['IV'], valid_until: VALID_UNTIL }]));
  const sport = await freePort();
  const society = await startRole(M, 'society', ['issuer', 'serve', '--dir', 'society', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', `127.0.0.1:${sport}`, '--status-ttl-ms', '1000', '--review', '--name', 'Massachusetts Medical Society', '--json', ...L], ENV);
  society.url = `http://localhost:${sport}`;
  const box = async (name, store, did, app) => {
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const r = await startRole(M, name, ['container', 'serve', '--dir', `${name}-box`, '--store', store, '--owner', did, '--listen', `127.0.0.1:${port}`, '--public-url', url, '--app', app, '--json', '--ledger-receipts', '--trust', society.banner.did, '--allow-insecure-loopback', ...L], ENV);
    return { ...r, url, did, store };
  };
  const alice = await box('alice', 'alice.wallet', aliceDid, 'patient');
  const dr = await box('dr', 'dr.wallet', drDid, 'physician');
  const pharmacy = async (name, label) => {
    const port = await freePort();
    const r = await startRole(M, name, ['pharmacy', 'serve', '--dir', name, '--store', `${name}.wallet`, '--name', label, '--listen', `127.0.0.1:${port}`, '--json', '--trust', society.banner.did, '--allow-insecure-loopback', ...L], ENV);
    return { ...r, url: `http://localhost:${port}` };
  };
  const pa = await pharmacy('pharmacy-a', 'Riverside Pharmacy');
  const pb = await pharmacy('pharmacy-b', 'Hillside Pharmacy');
  return { ledger, L, society, alice, dr, aliceDid, drDid, pa, pb };
}

function medicationRequest(id, display, refills) {
  return {
    resourceType: 'MedicationRequest', id, status: 'active', intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '308191', display }], text: display },
    subject: { reference: 'Patient/alice' }, requester: { reference: 'Practitioner/dr-rivera' }, authoredOn: new Date().toISOString().slice(0, 10),
    dosageInstruction: [{ text: 'Take 1 capsule by mouth 3 times a day for 10 days' }],
    dispenseRequest: { quantity: { value: 30, unit: 'capsule' }, numberOfRepeatsAllowed: refills },
  };
}

// The physician prescribes in her workspace: the form, "Sign", each step shown done; a
// controlled substance waits for her phone (`approve` co-signs it).
async function prescribe(dp, rxcui, refills, { pseudonym = '', approve = null } = {}) {
  await visit(dp, 'prescribe', 'Prescribe');
  await dp.locator('#prescribe-form').waitFor({ timeout: 15000 });
  await dp.getByLabel('Medication').selectOption(rxcui);
  await dp.getByLabel('Refills').fill(String(refills));
  if (pseudonym) await dp.getByLabel('The patient’s pseudonym for you (optional)').fill(pseudonym);
  await dp.getByRole('button', { name: 'Sign', exact: true }).click();
  if (approve) {
    await dp.locator('#prescribe-cosign').waitFor({ timeout: 20000 });
    await approve();
  }
  return dp.locator('#prescribe-done').waitFor({ timeout: 30000 }).then(() => true, () => false);
}

// A staff member's first passkey from a setup link: the page, the passkey, signed in.
async function staffSetup(page, link, who) {
  await page.goto(link);
  await page.getByRole('button', { name: 'Create a passkey on this device' }).click();
  const signed = await page.locator('#who').filter({ hasText: who }).waitFor({ timeout: 15000 }).then(() => true, () => false);
  return signed;
}

// Alice presents the prescription `med` from her Prescriptions page to `target` (a link).
async function present(page, med, target) {
  await page.evaluate((t) => {
    window.location.hash = `prescriptions?present=${encodeURIComponent(t)}`;
  }, target);
  await page.getByRole('heading', { level: 1, name: 'Prescriptions' }).waitFor({ timeout: 15000 });
  const card = page.locator('.rx', { hasText: med }).first();
  await card.getByRole('button', { name: 'Present to a pharmacy' }).click();
  const prefilled = await card.getByLabel('The pharmacy’s address or link').inputValue();
  await card.getByRole('button', { name: 'Present', exact: true }).click();
  return { card, prefilled };
}

// A did-auth+jwt refusal notice signed by a fresh did:key that is not the prescription's
// patient (the workspace must refuse it).
function base58btc(bytes) {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  let out = '';
  while (n > 0n) { out = alphabet[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = `1${out}`; }
  return out;
}
function forgedRefusalNotice(aud, digest) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const mk = `z${base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  const did = `did:key:${mk}`;
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'EdDSA', kid: `${did}#${mk}`, typ: 'did-auth+jwt' });
  const body = b64({ aud, exp: now + 300, iat: now, iss: did, jti: 'forged-1', prescription: digest, refusal: { at: now, description: 'forged', pharmacy: 'x', reason: 'x' }, sub: did });
  const sig = cryptoSign(null, Buffer.from(`${head}.${body}`), privateKey).toString('base64url');
  return `${head}.${body}.${sig}`;
}

async function newCustomer(page) {
  await visit(page, 'counter', 'Counter');
  await page.getByRole('button', { name: 'New customer' }).click();
  await page.locator('#request-link').waitFor({ timeout: 10000 });
  return page.locator('#request-link').inputValue();
}

async function counterStatus(page, status) {
  return page.locator(`#counter-request[data-status="${status}"]`).waitFor({ timeout: 30000 }).then(() => true, () => false);
}

async function main() {
  const roles = await startRoles();
  const { alice, pa, pb, L } = roles;
  ok(`ledger, society, two containers and two pharmacies started (counter A at ${pa.url}, B at ${pb.url})`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  onStop(() => browser.close());
  const ctxOf = () => browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });

  // --- the society's desk: a clerk imports the directory and approves Dr. Rivera ---------------
  const society = roles.society;
  check(typeof society.banner.setup_link === 'string' && society.banner.setup_link.startsWith(`${society.url}/#setup=`), 'issuer serve prints the desk and a setup link for its first clerk', JSON.stringify(society.banner));
  const clerk = await hx.newPage(await ctxOf(), society.url, 'clerk');
  const cp = clerk.page;
  await cp.goto(society.url);
  await cp.getByRole('heading', { level: 1, name: /Sign in to the society/ }).waitFor({ timeout: 15000 });
  await hx.axe(cp, 'society-signin');
  await hx.shoot(cp, 'society-signin');
  check(await staffSetup(cp, society.banner.setup_link, 'Clerk'), 'the first clerk creates her passkey from the setup link');
  await visit(cp, 'directory', 'Directory');
  await cp.locator('#directory table').waitFor({ timeout: 10000 }).catch(() => {});
  await hx.axe(cp, 'society-directory');
  await hx.shoot(cp, 'society-directory');
  const header = 'license_number,name,jurisdiction,license_type,specialty,schedules,valid_until';
  const badCsv = `${header}\nMA-MD-204812,"Dr. Elena Rivera",US-MA,MD,Internal Medicine,II III IV V,not-a-date\nMA-MD-300003,Dr. Ann Lee,US-MA,MD,Surgery,VI,${VALID_UNTIL}\nshort,row\n`;
  hx.expectingErrors = true;
  await cp.locator('input[type=file]').setInputFiles({ name: 'directory.csv', mimeType: 'text/csv', buffer: Buffer.from(badCsv) });
  await cp.getByRole('button', { name: 'Import' }).click();
  await cp.locator('#import-errors').waitFor({ timeout: 10000 }).catch(() => {});
  const errs = await cp.locator('#import-errors li').allInnerTexts();
  hx.expectingErrors = false;
  check(errs.length === 3 && /^Line 2: .*valid_until/.test(errs[0]) && /^Line 3: .*schedules/.test(errs[1]) && /^Line 4: 2 fields/.test(errs[2]),
    'Directory: a malformed CSV is refused with each problem listed by line', errs.join(' | '));
  const dirAfterBad = (await pageFetch(cp, 'GET', 'web/v1/desk/directory')).body.directory || [];
  check(dirAfterBad.length === 1, 'nothing was imported (the directory still holds one entry)', JSON.stringify(dirAfterBad.map((e) => e.license_number)));
  await hx.shoot(cp, 'society-directory-errors');
  const goodCsv = `${header}\nMA-MD-204812,"Rivera, Elena (Dr.)",US-MA,MD,Internal Medicine,II III IV V,${VALID_UNTIL}\n`;
  await cp.locator('input[type=file]').setInputFiles({ name: 'directory.csv', mimeType: 'text/csv', buffer: Buffer.from(goodCsv) });
  await cp.getByRole('button', { name: 'Import' }).click();
  await cp.locator('#import-result p.ok, #import-result p.error').first().waitFor({ timeout: 10000 }).catch(() => {});
  const imported = await cp.locator('#import-result').innerText().catch(() => '');
  check(/1 added, 0 replaced/.test(imported), 'Directory: a CSV with a quoted comma imports Dr. Rivera', imported);
  const dirAfter = (await pageFetch(cp, 'GET', 'web/v1/desk/directory')).body.directory || [];
  check(dirAfter.some((e) => e.license_number === 'MA-MD-204812' && e.name === 'Rivera, Elena (Dr.)' && e.schedules.length === 4), 'API: the directory holds her entry as imported', JSON.stringify(dirAfter));
  hx.expectingErrors = true;
  const jsonBad = await pageFetch(cp, 'POST', 'web/v1/desk/directory/import', { format: 'json', content: '[\n  {"license_number": "X"},\n  ' });
  hx.expectingErrors = false;
  check(jsonBad.status === 400 && (jsonBad.body.errors || [])[0]?.line === 3, 'API: a truncated JSON directory is refused with its line', JSON.stringify(jsonBad.body));
  // --- the physician's workspace: her license from the society, through the clerk -----------
  // An auditor reads the desk but changes nothing; the desk's CSRF rule; another app's session.
  const auditorLink = (json((await cli(['issuer', 'add-clerk', '--dir', 'society', '--name', 'ada', '--role', 'auditor', '--display-name', 'Ada Auditor', '--json'], 'issuer add-clerk --role auditor')).stdout) || {}).setup_link || '';
  const auditor = await hx.newPage(await ctxOf(), society.url, 'auditor');
  check(await staffSetup(auditor.page, auditorLink, 'Ada Auditor'), 'an auditor sets up from the add-clerk link');
  hx.expectingErrors = true;
  const auditorImport = await pageFetch(auditor.page, 'POST', 'web/v1/desk/directory/import', { format: 'csv', content: goodCsv });
  check(auditorImport.status === 403 && auditorImport.body.reason === 'insufficient_role', 'Desk: an auditor’s import is refused (403 insufficient_role)', JSON.stringify(auditorImport.body));
  const auditorRead = await pageFetch(auditor.page, 'GET', 'web/v1/desk/licenses');
  check(auditorRead.status === 200, 'Desk: an auditor reads the licenses');
  const deskNoCsrf = await pageFetch(cp, 'POST', 'web/v1/desk/directory/import', { format: 'csv', content: goodCsv }, { csrf: false });
  check(deskNoCsrf.status === 403 && deskNoCsrf.body.reason === 'csrf_invalid', 'Desk: an import without the CSRF token is refused (403)', JSON.stringify(deskNoCsrf.body));
  hx.expectingErrors = false;
  await visit(cp, 'staff', 'Staff');
  await cp.locator('#staff-list li').first().waitFor({ timeout: 10000 }).catch(() => {});
  check(/Ada Auditor — auditor/.test(await cp.locator('#staff-list').innerText().catch(() => '')), 'Desk: the clerks page lists the auditor');
  await hx.axe(cp, 'society-clerks');
  await hx.shoot(cp, 'society-clerks');

  const drLink = `${roles.dr.output()}\n${roles.dr.errors()}`.match(/https?:\/\/[^\s"]+#setup=[A-Za-z0-9_-]+/);
  check(roles.dr.banner.app_kind === 'physician' && Boolean(drLink), 'container serve --app physician prints her workspace and a setup link', JSON.stringify(roles.dr.banner));
  const physician = await hx.newPage(await ctxOf(), roles.dr.url, 'physician');
  const dp = physician.page;
  await dp.goto(roles.dr.url);
  await dp.getByRole('heading', { level: 1, name: /Sign in to your workspace/ }).waitFor({ timeout: 15000 });
  await hx.axe(dp, 'physician-signin');
  await hx.shoot(dp, 'physician-signin');
  await dp.goto(drLink ? drLink[0] : roles.dr.url);
  await dp.getByRole('button', { name: 'Create a passkey on this device' }).click();
  check(await dp.locator('#nav').waitFor({ state: 'visible', timeout: 15000 }).then(() => true, () => false), 'Dr. Rivera sets up her passkey and is signed in to her workspace');
  await visit(dp, 'license', 'My license');
  await hx.axe(dp, 'physician-license-none');
  await hx.shoot(dp, 'physician-license-none');
  await dp.getByLabel('The society’s address').fill(society.url);
  await dp.getByLabel('License number').fill('MA-MD-204812');
  await dp.getByLabel('Your name as in the society’s directory').fill('Rivera, Elena (Dr.)');
  await dp.getByRole('button', { name: 'Ask the society' }).click();
  check(await dp.locator('#onboard-pending').waitFor({ timeout: 15000 }).then(() => true, () => false), 'My license: her request waits for the society’s clerk');
  await visit(cp, 'onboarding', 'Onboarding');
  const pending = cp.locator('.onboarding[data-status="pending"]').first();
  check(await pending.waitFor({ timeout: 20000 }).then(() => true, () => false), 'Desk: her onboarding request appears, waiting for a decision');
  check(/match a directory entry/.test(await pending.innerText()) && (await pending.innerText()).includes(roles.drDid), 'Desk: it matches the directory and names her DID');
  await hx.axe(cp, 'society-onboarding');
  await hx.shoot(cp, 'society-onboarding');
  await pending.getByRole('button', { name: 'Approve and issue the license' }).click();
  check(await dp.locator('#license-status').waitFor({ timeout: 20000 }).then(() => true, () => false) && /Active/.test(await dp.locator('#license-status').innerText()),
    'My license: issued once the clerk approves; its status is active (live from the status list)');
  const drState = (await pageFetch(dp, 'GET', 'web/v1/physician/state')).body;
  check(drState.license && drState.license.status.status === 'active' && drState.license.schedules.length === 4 && drState.license.issuer === society.banner.did,
    'API: her container keeps the license from the society, covering schedules II–V', JSON.stringify(drState.license && { ...drState.license, credential: undefined }));
  await hx.axe(dp, 'physician-license');
  await hx.shoot(dp, 'physician-license');
  await cli(['consent', 'signin', '--url', roles.dr.url, '--store', 'dr.wallet', '--did', roles.drDid, '--session-file', 'dr.session'], 'Dr. Rivera signs in to her own container (CLI, to pair her phone)');

  // --- the pharmacy's staff ------------------------------------------------------------------
  check(typeof pa.banner.setup_link === 'string' && pa.banner.setup_link.startsWith(`${pa.url}/#setup=`) && pa.banner.app === `${pa.url}/`,
    'pharmacy serve prints the counter app and a setup link for its first pharmacist', JSON.stringify(pa.banner));
  const pharmacist = await hx.newPage(await ctxOf(), pa.url, 'pharmacist');
  const pp = pharmacist.page;
  await pp.goto(pa.url);
  await pp.getByRole('heading', { level: 1, name: /Sign in to the pharmacy counter/ }).waitFor({ timeout: 15000 });
  await hx.axe(pp, 'pharmacy-signin');
  await hx.shoot(pp, 'pharmacy-signin');
  check(await staffSetup(pp, pa.banner.setup_link, 'Pharmacist'), 'the first pharmacist creates her passkey from the setup link and is signed in');
  const stateA = (await pageFetch(pp, 'GET', 'web/v1/state', undefined, { csrf: false })).body;
  check(stateA.signed_in && stateA.account.role === 'pharmacist' && stateA.pharmacy.name === 'Riverside Pharmacy', 'her session is a pharmacist’s at Riverside Pharmacy (web/v1/state)', JSON.stringify(stateA));

  // She adds a technician from the Staff page; the technician sets up from the link.
  await visit(pp, 'staff', 'Staff');
  hx.expectingErrors = true;
  await pp.getByLabel('Account name').fill('Not Valid!');
  await pp.getByRole('button', { name: 'Create a setup link' }).click();
  const badName = await pp.locator('#staff-message .error').innerText({ timeout: 10000 }).catch(() => '');
  check(/name is 1 to 32/.test(badName), 'Staff: a malformed account name is refused on the page', badName);
  hx.expectingErrors = false;
  await pp.getByLabel('Account name').fill('sam');
  await pp.getByLabel('Full name').fill('Sam Okafor');
  await pp.getByLabel('Role').selectOption('technician');
  await pp.getByRole('button', { name: 'Create a setup link' }).click();
  const techLink = await pp.locator('#setup-link').inputValue({ timeout: 10000 }).catch(async () => `none: ${await pp.locator('#staff-message').innerText().catch(() => '')}`);
  check(techLink.startsWith(`${pa.url}/#setup=`), 'Staff: a pharmacist adds a technician and gets a one-time setup link', techLink);
  await hx.axe(pp, 'pharmacy-staff');
  await hx.shoot(pp, 'pharmacy-staff');
  const technician = await hx.newPage(await ctxOf(), pa.url, 'technician');
  const tp = technician.page;
  check(await staffSetup(tp, techLink, 'Sam Okafor'), 'the technician creates his passkey from that link');
  const used = await run(M, ['pharmacy', 'add-staff', '--dir', 'pharmacy-b', '--name', 'lee', '--role', 'pharmacist', '--display-name', 'Lee Park', '--json'], ENV);
  const leeLink = (json(used.stdout) || {}).setup_link || '';
  check(used.code === 0 && leeLink.startsWith(`${pb.url}/#setup=`), 'medallion pharmacy add-staff prints a setup link for pharmacy B’s pharmacist', used.stderr || used.stdout);
  const dup = await run(M, ['pharmacy', 'add-staff', '--dir', 'pharmacy-b', '--name', 'lee', '--role', 'pharmacist'], ENV);
  check(dup.code === 2 && /exists/.test(dup.stderr), 'add-staff refuses an account name already taken (exit 2)', `${dup.code} ${dup.stderr}`);
  const badRole = await run(M, ['pharmacy', 'add-staff', '--dir', 'pharmacy-b', '--name', 'kim', '--role', 'owner'], ENV);
  check(badRole.code !== 0, 'add-staff refuses an unknown role', `${badRole.code}`);
  const pharmacistB = await hx.newPage(await ctxOf(), pb.url, 'pharmacist-b');
  const pbp = pharmacistB.page;
  check(await staffSetup(pbp, leeLink, 'Lee Park'), 'pharmacy B’s pharmacist sets up from the add-staff link');

  // --- Alice ---------------------------------------------------------------------------------
  const aliceLink = `${alice.output()}\n${alice.errors()}`.match(/https?:\/\/[^\s"]+#setup=[A-Za-z0-9_-]+/);
  const patient = await hx.newPage(await ctxOf(), alice.url, 'alice');
  const ap = patient.page;
  await ap.goto(aliceLink ? aliceLink[0] : alice.url);
  await ap.getByRole('button', { name: 'Create a passkey on this device' }).click();
  check(await ap.locator('#nav').waitFor({ state: 'visible', timeout: 15000 }).then(() => true, () => false), 'Alice sets up her passkey and is signed in to her container');

  // --- Alice shares with licensed physicians, asking first; Dr. Rivera connects -----------------
  await visit(ap, 'sharing', 'Sharing');
  await ap.getByRole('button', { name: 'New sharing rule' }).click();
  const pform = ap.locator('#policy-form');
  await pform.getByLabel('Any licensed physician').check();
  await pform.getByRole('checkbox', { name: 'Medications' }).check();
  for (const sc of ['Open a record', 'List and search records', 'Add new records']) await pform.getByRole('checkbox', { name: sc }).check();
  await pform.getByRole('checkbox', { name: 'Treatment' }).check();
  await pform.getByLabel('Ask me before each access').check();
  await pform.getByRole('button', { name: 'Add this rule' }).click();
  await ap.locator('main').getByText('Your new rule is in force.').waitFor({ timeout: 15000 });
  await visit(dp, 'patients', 'Patients');
  await hx.axe(dp, 'physician-patients-empty');
  await hx.shoot(dp, 'physician-patients-empty');
  hx.expectingErrors = true;
  await dp.getByLabel('The address of her container').fill('ftp://nowhere.example');
  await dp.getByRole('button', { name: 'Connect' }).click();
  await dp.locator('#connect-message .error').waitFor({ timeout: 10000 }).catch(() => {});
  check(/https:\/\/ or http:\/\//.test(await dp.locator('#connect-message').innerText().catch(() => '')), 'Patients: a non-web address is refused on the page', await dp.locator('#connect-message').innerText().catch(() => ''));
  hx.expectingErrors = false;
  // Alice shows her container's address (text and QR code); the physician types it in.
  await visit(ap, 'sharing', 'Sharing');
  await ap.getByRole('button', { name: 'Show my container’s address' }).click();
  await ap.locator('#address-qr').waitFor({ timeout: 10000 });
  const shownAddress = await ap.locator('#address-url').inputValue();
  check(shownAddress === alice.url && (await ap.locator('#address-qr').getAttribute('src')).startsWith('data:image/svg+xml;base64,'), 'Sharing: Alice shows her container’s address as text and a QR code', shownAddress);
  await hx.axe(ap, 'patient-sharing-address');
  await dp.getByLabel('The address of her container').fill(shownAddress);
  await dp.getByRole('button', { name: 'Connect' }).click();
  const card0 = dp.locator('.patient').first();
  check(await dp.locator('.patient[data-status="request_submitted"]').waitFor({ timeout: 20000 }).then(() => true, () => false), 'Patients: the request is submitted and waits for the patient (UMA request_submitted)');
  await hx.shoot(dp, 'physician-patients-waiting');
  await visit(ap, 'requests', 'Requests');
  const reqCard = ap.locator('.request').first();
  check(await reqCard.waitFor({ timeout: 15000 }).then(() => true, () => false) && /Elena Rivera|Rivera, Elena/.test(await reqCard.innerText()), 'Alice’s Requests: the physician’s request, named from her license');
  await reqCard.getByRole('button', { name: 'Approve' }).click();
  check(await dp.locator('.patient[data-status="granted"]').waitFor({ timeout: 20000 }).then(() => true, () => false), 'Patients: granted once Alice approves (the page polls)');
  check(/you may read/.test(await card0.innerText()), 'Patients: what the grant allows', await card0.innerText());
  const pts = (await pageFetch(dp, 'GET', 'web/v1/physician/patients')).body.patients || [];
  check(pts.length === 1 && pts[0].did === roles.aliceDid && pts[0].status === 'granted', 'API: the grant, for Alice’s DID', JSON.stringify(pts));
  const aliceReqs = (await pageFetch(ap, 'GET', 'owner/v1/requests')).body || [];
  check(aliceReqs.some((r) => r.status === 'approved'), 'API: Alice’s container recorded her approval');
  await card0.getByRole('button', { name: 'Read her record' }).click();
  await hx.axe(dp, 'physician-patients');
  await hx.shoot(dp, 'physician-patients');

  // Bad input to the prescription endpoint: a clear error, nothing written.
  const inboxBefore = ((await pageFetch(ap, 'GET', 'owner/v1/credentials')).body || []).length;
  hx.expectingErrors = true;
  const base = { patient: pts[0].id, rxcui: '308191', instructions: 'Take 1 capsule 3 times a day', quantity: 30, refills: 0, substitution: true };
  const unknown = await pageFetch(dp, 'POST', 'web/v1/physician/prescriptions', { ...base, rxcui: '999999999' });
  const negative = await pageFetch(dp, 'POST', 'web/v1/physician/prescriptions', { ...base, quantity: -3 });
  const tooMany = await pageFetch(dp, 'POST', 'web/v1/physician/prescriptions', { ...base, refills: 5 });
  hx.expectingErrors = false;
  check(unknown.status === 400 && unknown.body.reason === 'unknown_medication', 'API: an unknown medication code is refused (400 unknown_medication)', JSON.stringify(unknown.body));
  check(negative.status === 400 && negative.body.reason === 'quantity_invalid', 'API: a negative quantity is refused (400 quantity_invalid)', JSON.stringify(negative.body));
  check(tooMany.status === 400 && tooMany.body.reason === 'refills_over_limit', 'API: refills beyond the limit are refused (400 refills_over_limit)', JSON.stringify(tooMany.body));
  hx.expectingErrors = true;
  const rxNoCsrf = await pageFetch(dp, 'POST', 'web/v1/physician/prescriptions', base, { csrf: false });
  hx.expectingErrors = false;
  check(rxNoCsrf.status === 403 && rxNoCsrf.body.reason === 'csrf_invalid', 'Workspace: a prescription without the CSRF token is refused (403)', JSON.stringify(rxNoCsrf.body));
  const aliceAtDr = (await ap.context().cookies(alice.url)).find((c) => c.name.startsWith('mdl_session_'));
  const crossDr = await fetch(`${roles.dr.url}/web/v1/physician/patients`, { headers: { Cookie: `mdl_session_${new URL(roles.dr.url).port}=${aliceAtDr.value}` } });
  check(crossDr.status === 401, 'Workspace: the patient’s session opens nothing in the physician’s container (401)', String(crossDr.status));
  const pharmacistAtDesk = (await pp.context().cookies(pa.url)).find((c) => c.name.startsWith('mdl_staff_'));
  const crossDesk = await fetch(`${society.url}/web/v1/desk/licenses`, { headers: { Cookie: `mdl_staff_${new URL(society.url).port}=${pharmacistAtDesk.value}` } });
  check(crossDesk.status === 401, 'Desk: a pharmacist’s session opens nothing at the society (401)', String(crossDesk.status));
  check(((await pageFetch(ap, 'GET', 'owner/v1/credentials')).body || []).length === inboxBefore, 'nothing reached Alice’s inbox');
  await visit(dp, 'prescribe', 'Prescribe');
  await dp.locator('#prescribe-form, main .notice, main .error').first().waitFor({ timeout: 15000 }).catch(() => {});
  if (!(await dp.locator('#prescribe-form').count())) console.log(`# prescribe page: ${await dp.locator('main').innerText()} ${hx.consoleErrors.join(' | ')}`);
  await dp.getByRole('button', { name: 'Sign', exact: true }).click();
  check(/Choose a medication/.test(await dp.locator('#prescribe-message').innerText().catch(() => '')), 'Prescribe: signing without a medication is refused on the page');

  // --- a prescription (one fill) presented at the counter ------------------------------------
  await dp.getByLabel('Medication').selectOption('308191');
  check(/amoxicillin 500 MG Oral Capsule \(RxNorm 308191\).*Dispense 30 capsules, no refills \(1 fill in all\)/.test(await dp.locator('#rx-preview').innerText()), 'Prescribe: the preview in plain words', await dp.locator('#rx-preview').innerText());
  await hx.axe(dp, 'physician-prescribe');
  await hx.shoot(dp, 'physician-prescribe');
  check(await prescribe(dp, '308191', 0), 'Prescribe: amoxicillin signed, postmarked, kept and delivered, each step shown done');
  const doneSteps = await dp.locator('#prescribe-steps li').evaluateAll((ls) => ls.map((l) => `${l.dataset.step}:${l.className}`));
  check(['sign:ok', 'postmark:ok', 'store:ok', 'deliver:ok'].every((x) => doneSteps.includes(x)), 'Prescribe: the steps sign, postmark, store, deliver', doneSteps.join(' '));
  await hx.shoot(dp, 'physician-prescribe-done');
  // Writing the MedicationRequest into her record: her container asks her first.
  await dp.getByRole('button', { name: 'Add it to her record' }).click();
  await dp.locator('#record-status').filter({ hasText: /asked her first|Added|Not added/ }).waitFor({ timeout: 15000 }).catch(() => {});
  check(/asked her first/.test(await dp.locator('#record-status').innerText()), 'Prescribe: “Add it to her record” — her container asks her first', await dp.locator('#record-status').innerText());
  await visit(ap, 'requests', 'Requests');
  const writeReq = ap.locator('.request').first();
  check(await writeReq.waitFor({ timeout: 15000 }).then(() => true, () => false), 'Alice’s Requests: the physician asks to add a record');
  await writeReq.getByRole('button', { name: 'Approve' }).click();
  await ap.locator('main').getByText('No request is waiting for you.').waitFor({ timeout: 10000 }).catch(() => {});
  await dp.getByRole('button', { name: 'Add it to her record' }).click();
  await dp.locator('#record-status').filter({ hasText: 'Added to her record.' }).waitFor({ timeout: 15000 }).catch(() => {});
  check(/Added to her record/.test(await dp.locator('#record-status').innerText()), 'Prescribe: added to her record once she approved', await dp.locator('#record-status').innerText());
  const herRecords = (await pageFetch(ap, 'GET', 'fhir/MedicationRequest')).body || {};
  check(JSON.stringify(herRecords).includes('308191'), 'API: Alice’s FHIR record holds the MedicationRequest the physician wrote', JSON.stringify(herRecords).slice(0, 200));
  const inbox = (await pageFetch(ap, 'GET', 'owner/v1/credentials')).body || [];
  check(inbox.some((c) => (c.types || []).includes('PrescriptionCredential') && JSON.stringify(c.credential).includes('308191')), 'API: the PrescriptionCredential is in Alice’s container');
  const link1 = await newCustomer(tp);
  check(/\/pharmacy\/v1\/requests\/[A-Za-z0-9_-]+$/.test(link1), 'Counter (technician): “New customer” shows a request link', link1);
  const qrAlt = await tp.locator('img.qr').getAttribute('alt').catch(() => '');
  const qrSrc = await tp.locator('img.qr').getAttribute('src').catch(() => '');
  check(/QR code/.test(qrAlt) && qrSrc.startsWith('data:image/svg+xml;base64,') && Buffer.from(qrSrc.split(',')[1], 'base64').toString().includes('<svg'),
    'Counter: the request as a QR code (server-rendered SVG) with alt text');
  const described = await (await fetch(link1)).json();
  check(described.nonce && described.domain && described.name === 'Riverside Pharmacy' && described.presentation_endpoint === `${link1}/presentation`,
    'the request link answers the patient’s container with its challenge (nonce, domain) and where to present', JSON.stringify(described));
  await hx.axe(tp, 'pharmacy-counter-waiting');
  await hx.shoot(tp, 'pharmacy-counter-waiting');
  const { card, prefilled } = await present(ap, 'amoxicillin', link1);
  check(prefilled === link1, 'Alice’s app opens the pharmacy’s link (#prescriptions?present=…) with the address filled in', prefilled);
  check(await ap.locator('#pharmacy-request').isVisible(), 'Alice’s page says a pharmacy is ready for her prescription');
  check(await card.locator('#rx-awaiting-pharmacist').waitFor({ timeout: 30000 }).then(() => true, () => false), 'Alice’s page: every check passed, the pharmacist is reviewing');
  check(await counterStatus(tp, 'held'), 'Counter (technician): the presentation arrives, verified and held for the pharmacist');
  const rows = await tp.locator('#counter-request .checks li').allInnerTexts();
  const steps = await tp.locator('#counter-request .checks li').evaluateAll((ls) => ls.map((l) => l.dataset.step));
  check(['holder_binding', 'prescription_proofs', 'issuer_resolution', 'license_proof', 'license_status', 'schedule', 'postmark', 'fills'].every((s) => steps.includes(s)) && rows.every((r) => /^Passed:/.test(r)),
    'Counter: every check of the pipeline is a row, each passed in words', rows.join(' | '));
  check(/amoxicillin/.test(await tp.locator('#rx-medication').innerText()) && /The whole prescription/.test(await tp.locator('#rx-disclosed').innerText()), 'Counter: what was presented and disclosed');
  check(await tp.locator('#dispense-button').count() === 0 && /A pharmacist must dispense/.test(await tp.locator('#counter-request').innerText()), 'Counter (technician): no Dispense button — a pharmacist must dispense');
  await hx.axe(tp, 'pharmacy-counter-held');
  await hx.shoot(tp, 'pharmacy-counter-held');
  const id1 = link1.split('/').pop();
  hx.expectingErrors = true;
  const techDispense = await pageFetch(tp, 'POST', `web/v1/counter/requests/${id1}/dispense`, {});
  check(techDispense.status === 403 && techDispense.body.reason === 'insufficient_role', 'API: a technician’s dispense is refused (403 insufficient_role)', JSON.stringify(techDispense));
  const noCsrf = await pageFetch(pp, 'POST', `web/v1/counter/requests/${id1}/dispense`, {}, { csrf: false });
  check(noCsrf.status === 403 && noCsrf.body.reason === 'csrf_invalid', 'API: a pharmacist’s dispense without the CSRF token is refused (403 csrf_invalid)', JSON.stringify(noCsrf));
  const emptyRefusal = await pageFetch(pp, 'POST', `web/v1/counter/requests/${id1}/refuse`, { reason: '  ' });
  check(emptyRefusal.status === 400, 'API: a refusal without a reason is refused (400)', JSON.stringify(emptyRefusal));
  hx.expectingErrors = false;
  const stillHeld = (await pageFetch(pp, 'GET', `web/v1/counter/requests/${id1}`)).body;
  check(stillHeld.status === 'held', 'nothing changed: the request is still held', stillHeld.status);
  await visit(pp, `counter?r=${id1}`, 'Counter');
  await pp.locator('#dispense-button').click();
  check(await counterStatus(pp, 'dispensed'), 'Counter (pharmacist): Dispense → dispensed');
  check(/Dispensed fill 1 of 1; the dispense record is at ledger index \d+/.test(await pp.locator('#dispensed').innerText().catch(() => '')), 'Counter: fill 1 of 1 and its ledger index shown', await pp.locator('#dispensed').innerText().catch(() => ''));
  await hx.axe(pp, 'pharmacy-counter-dispensed');
  await hx.shoot(pp, 'pharmacy-counter-dispensed');
  const outcome = card.locator('.rx-outcome p.ok');
  check(await outcome.waitFor({ timeout: 30000 }).then(() => true, () => false) && /^Dispensed: fill 1 of 1/.test(await outcome.innerText()), 'Alice’s page: dispensed, her receipt kept', await card.locator('.rx-outcome').innerText().catch(() => ''));
  const creds = (await pageFetch(ap, 'GET', 'owner/v1/credentials')).body || [];
  check(creds.some((c) => (c.types || []).includes('DispenseReceipt')), 'API: her container holds the pharmacy’s signed DispenseReceipt');
  const facts = (await pageFetch(ap, 'GET', 'web/v1/prescriptions')).body;
  const amox = (facts.prescriptions || []).find((p) => /amoxicillin/.test(p.medication));
  check(amox && amox.fills_used === 1 && amox.fills[0].used, 'ledger: the fill’s nullifier is on the ledger (her container’s proven lookup)', JSON.stringify(amox));

  await visit(dp, 'prescriptions', 'My prescriptions');
  const mine = dp.locator('.my-rx', { hasText: 'amoxicillin' }).first();
  await mine.waitFor({ timeout: 15000 }).catch(() => {});
  const mineText = await mine.innerText().catch(() => '');
  check(/Filled 1 of 1/.test(mineText) && /proven included/.test(mineText), 'My prescriptions: filled 1 of 1 (the ledger’s dispense record), the postmark proven', mineText);
  await hx.axe(dp, 'physician-prescriptions');
  await hx.shoot(dp, 'physician-prescriptions');

  // “Send to a wallet”: her container offers the prescription over OpenID4VCI (pre-authorized
  // code + transaction code); a wallet on the command line takes it as an SD-JWT VC.
  const walletDid = await rxWallet(roles.L);
  const sent = await sendToWallet(mine);
  check(sent.qr && /^openid-credential-offer:\/\/\?credential_offer_uri=/.test(sent.link) && /^\d{6}$/.test(sent.code) && sent.focused,
    'My prescriptions: “Send to a wallet” shows the offer’s QR code, its link (by reference), a 6-digit transaction code and when it expires; focus moves to it', JSON.stringify(sent));
  await hx.axe(dp, 'physician-prescription-offer');
  await hx.shoot(dp, 'physician-prescription-offer');
  const took = await cli(['oid4vci', 'accept', sent.link, '--tx-code', sent.code, '--store', 'rx-phone.wallet', '--did', walletDid, '--out', 'rx.sd-jwt', '--allow-insecure-loopback', '--json'], 'oid4vci accept (the offer from her page)');
  const rxJwt = took.code === 0 ? readFileSync(join(work, 'rx.sd-jwt'), 'utf8').trim() : '';
  const rxPayload = rxJwt ? JSON.parse(Buffer.from(rxJwt.split('~')[0].split('.')[1], 'base64url').toString()) : {};
  check((json(took.stdout) || {}).format === 'dc+sd-jwt' && rxJwt.includes('~') && rxPayload.vct === 'https://w3id.org/medallion/credentials/v1/PrescriptionCredential' && rxPayload.iss === roles.drDid && rxPayload.cnf && rxPayload.cnf.jwk && rxPayload.cnf.jwk.kty === 'OKP',
    'a wallet takes the offer with the link and code read from her page (medallion oid4vci accept): an SD-JWT VC of the prescription, issued by her and bound to the wallet’s key', JSON.stringify({ out: took.stdout, err: took.stderr, iss: rxPayload.iss, vct: rxPayload.vct }));
  const twice = await run(M, ['oid4vci', 'accept', sent.link, '--tx-code', sent.code, '--store', 'rx-phone.wallet', '--did', walletDid, '--out', 'rx-again.sd-jwt', '--allow-insecure-loopback'], ENV);
  check(twice.code !== 0 && /no such offer/.test(twice.stderr + twice.stdout) && !existsSync(join(work, 'rx-again.sd-jwt')), 'the same offer taken twice is refused: no such offer (one use), nothing written', twice.stderr || twice.stdout);

  // Refusals, each shown with its reason and changing nothing.
  const link2 = await newCustomer(pp);
  const again = await present(ap, 'amoxicillin', link2);
  check(await counterStatus(pp, 'refused') && /Every fill of this prescription has been dispensed/.test(await pp.locator('#refusal').innerText()), 'Counter: a second fill beyond the refills is refused (already dispensed), with its reason');
  await again.card.locator('.rx-outcome p.error').waitFor({ timeout: 30000 }).catch(() => {});
  check(/refused/.test(await again.card.locator('.rx-outcome').innerText().catch(() => '')), 'Alice’s page: the refusal is shown');
  const linkB = await newCustomer(pbp);
  await present(ap, 'amoxicillin', linkB);
  check(await counterStatus(pbp, 'refused') && /another pharmacy/.test(await pbp.locator('#refusal').innerText()), 'Counter B: the same prescription at a second pharmacy is refused (dispensed elsewhere)');
  await hx.axe(pbp, 'pharmacy-counter-refused');
  await hx.shoot(pbp, 'pharmacy-counter-refused');

  // A pharmacist refuses by hand, with a reason the patient sees.
  check(await prescribe(dp, '197807', 2), 'the physician prescribes ibuprofen (three fills) in her workspace');
  const link3 = await newCustomer(pp);
  const ibu = await present(ap, 'ibuprofen', link3);
  check(await counterStatus(pp, 'held'), 'Counter: the ibuprofen presentation is held');
  await pp.getByLabel('Reason for refusing').fill('Please see your physician: interaction with your other medication');
  await pp.getByRole('button', { name: 'Refuse' }).click();
  check(await counterStatus(pp, 'refused') && /The pharmacist refused to dispense/.test(await pp.locator('#refusal').innerText()), 'Counter: the pharmacist refuses with a reason');
  await ibu.card.locator('.rx-outcome p.error').waitFor({ timeout: 30000 }).catch(() => {});
  const ibuOutcome = await ibu.card.locator('.rx-outcome').innerText().catch(() => '');
  check(/interaction with your other medication/.test(ibuOutcome), 'Alice’s page: the pharmacist’s reason', ibuOutcome);

  // She tells her physician why; the refusal appears on the physician's My prescriptions.
  await ibu.card.getByRole('button', { name: 'Tell your physician why' }).click();
  check(await ibu.card.locator('#told-physician').waitFor({ timeout: 15000 }).then(() => true, () => false), 'Alice’s page: “Tell your physician why” → told');
  await hx.axe(ap, 'patient-prescription-refused-told');
  await hx.shoot(ap, 'patient-prescription-refused-told');
  await visit(dp, 'prescriptions', 'My prescriptions');
  const ibuMine = dp.locator('.my-rx', { hasText: 'ibuprofen' }).first();
  await ibuMine.locator('.refusal').waitFor({ timeout: 15000 }).catch(() => {});
  const ibuMineText = await ibuMine.innerText().catch(() => '');
  check(/Refused at \S+ on .*interaction with your other medication/.test(ibuMineText), 'My prescriptions: “Refused at <pharmacy>: <reason>”, as the patient told it', ibuMineText);
  await hx.axe(dp, 'physician-prescriptions-refused');
  await hx.shoot(dp, 'physician-prescriptions-refused');
  const drRows = (await pageFetch(dp, 'GET', 'web/v1/physician/prescriptions')).body.prescriptions || [];
  const ibuRow = drRows.find((p) => /ibuprofen/.test(p.medication)) || {};
  check((ibuRow.refusals || []).length === 1 && ibuRow.refusals[0].reason === 'refused_by_pharmacist', 'API: the workspace keeps one refusal notice for the ibuprofen, reason refused_by_pharmacist', JSON.stringify(ibuRow.refusals));
  // Nobody else's word is taken: a notice signed by a stranger's key, and garbage, are refused;
  // nothing is kept.
  hx.expectingErrors = true;
  const drDidNow = (await pageFetch(dp, 'GET', 'web/v1/physician/state')).body.did;
  const forged = forgedRefusalNotice(drDidNow, ibuRow.id);
  const forgedReply = await fetch(`${roles.dr.url}/rx/v1/notices`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ notice: forged }) });
  const forgedBody = await forgedReply.json().catch(() => ({}));
  check(forgedReply.status === 403 && typeof forgedBody.error === 'string', 'API: a refusal notice signed by a stranger is refused (403) with a JSON error', `${forgedReply.status} ${JSON.stringify(forgedBody)}`);
  const garbage = await fetch(`${roles.dr.url}/rx/v1/notices`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ notice: 'a.b.c' }) });
  check(garbage.status === 400, 'API: a malformed refusal notice is refused (400)', String(garbage.status));
  const again2 = await pageFetch(ap, 'POST', 'web/v1/prescriptions/tell', { refusal: 'no-such-refusal' });
  check(again2.status === 404, 'API: telling of an unknown refusal is refused (404)', JSON.stringify(again2));
  hx.expectingErrors = false;
  const drRowsAfter = (await pageFetch(dp, 'GET', 'web/v1/physician/prescriptions')).body.prescriptions || [];
  check(((drRowsAfter.find((p) => /ibuprofen/.test(p.medication)) || {}).refusals || []).length === 1, 'nothing changed: still one refusal notice');
  const ibuFacts = ((await pageFetch(ap, 'GET', 'web/v1/prescriptions')).body.prescriptions || []).find((p) => /ibuprofen/.test(p.medication));
  check(ibuFacts && ibuFacts.fills_used === 0, 'ledger: a refusal writes nothing (no fill used)', JSON.stringify(ibuFacts));

  // --- a controlled substance: her phone co-signs; Alice's phone approves the fill ---------------
  const pairPhone = async (who, url, session) => {
    const offer = json((await cli(['consent', 'pair', '--url', url, '--session-file', session], `consent pair (${who})`)).stdout) || {};
    await cli(['phone', 'init', '--store', `${who}-phone.db`, '--kdf', 'test', '--mnemonic-out', `${who}-phone.words`], `phone init (${who})`);
    return (await cli(['phone', 'pair', '--store', `${who}-phone.db`, '--uri', offer.uri || '', '--name', `${who}’s phone`], `phone pair (${who})`)).code === 0;
  };
  const approveAll = async (who, expect) => {
    const ids = [];
    for (let i = 0; i < 40 && ids.length < expect; i += 1) {
      const pending = json((await cli(['phone', 'pending', '--store', `${who}-phone.db`])).stdout) || [];
      for (const r of pending) if (!ids.includes(r.id)) ids.push(r.id);
      if (ids.length < expect) await sleep(500);
    }
    for (const id of ids) await cli(['phone', 'approve', '--store', `${who}-phone.db`, '--', id], `phone approve (${who})`);
    return ids.length;
  };
  await cli(['consent', 'signin', '--url', alice.url, '--store', 'alice.wallet', '--did', roles.aliceDid, '--session-file', 'alice.session'], 'Alice signs in with her wallet (CLI, to pair her phone)');
  check(await pairPhone('dr', roles.dr.url, 'dr.session') && await pairPhone('alice', alice.url, 'alice.session'), 'both phones paired (medallion phone, the C ABI)');
  const pseudonym = (await pageFetch(ap, 'POST', 'web/v1/relationships/pseudonym', {})).body.pseudonym || '';
  check(pseudonym.length === 43, 'Alice makes a pairwise pseudonym to give Dr. Rivera');
  let cosigned = 0;
  check(await prescribe(dp, '1049621', 0, { pseudonym, approve: async () => { cosigned = await approveAll('dr', 2); } }),
    'Prescribe (schedule II): the page waits for her phone, which co-signs (prescription and pharmacy copy); then delivered');
  const oxySteps = await dp.locator('#prescribe-steps li').evaluateAll((ls) => ls.map((l) => `${l.dataset.step}:${l.className}`));
  check(cosigned === 2 && ['sign:ok', 'cosign:ok', 'postmark:ok', 'store:ok', 'deliver:ok', 'relationship:ok'].every((x) => oxySteps.includes(x)),
    'Prescribe: sign, co-sign, postmark, store, deliver, relationship — each shown done', oxySteps.join(' '));
  const rels = (await pageFetch(ap, 'GET', 'web/v1/relationships')).body.relationships || [];
  check(rels.length === 1 && rels[0].status === 'active', 'ledger: Alice’s container finds the relationship opened with her pseudonym', JSON.stringify(rels));
  const link5 = await newCustomer(pp);
  const oxy = await present(ap, 'oxycodone', link5);
  check(await oxy.card.locator('#rx-awaiting-phone').waitFor({ timeout: 20000 }).then(() => true, () => false), 'Alice’s page: approve the fill on her phone');
  check(await approveAll('alice', 1) === 1, 'Alice’s phone approves the fill');
  check(await counterStatus(pp, 'held'), 'Counter: the controlled prescription is held for the pharmacist');
  const oxyRows = await pp.locator('#counter-request .checks li').evaluateAll((ls) => ls.map((l) => `${l.dataset.step}:${l.className}`));
  check(['patient_approval:ok', 'schedule:ok', 'license_status:ok', 'prescription_proofs:ok'].every((x) => oxyRows.includes(x)), 'Counter: schedule covered, the prescriber’s phone proof and the patient’s phone approval pass', oxyRows.join(' '));
  check(/Only what dispensing needs/.test(await pp.locator('#rx-disclosed').innerText()), 'Counter: only what dispensing needs was disclosed (the pharmacy copy)', await pp.locator('#rx-disclosed').innerText());
  await hx.shoot(pp, 'pharmacy-counter-controlled');
  await pp.locator('#dispense-button').click();
  check(await counterStatus(pp, 'dispensed'), 'Counter: the pharmacist dispenses the controlled substance');
  await oxy.card.locator('.rx-outcome p.ok').waitFor({ timeout: 30000 }).catch(() => {});
  check(/^Dispensed: fill 1 of 1/.test(await oxy.card.locator('.rx-outcome p.ok').innerText().catch(() => '')), 'Alice’s page: dispensed');
  // A controlled substance goes only to the key it was prescribed for (the patient's pairwise
  // pseudonym, which her own container proves): another wallet is told why, and gets nothing.
  await visit(dp, 'prescriptions', 'My prescriptions');
  const oxyMine = dp.locator('.my-rx', { hasText: 'oxycodone' }).first();
  await oxyMine.waitFor({ timeout: 15000 }).catch(() => {});
  const oxySent = await sendToWallet(oxyMine);
  check(/^\d{6}$/.test(oxySent.code || '') && /own container/.test(await oxyMine.innerText()), 'My prescriptions (schedule II): the offer is made, and the card says it goes only to the patient’s own container', JSON.stringify(oxySent));
  const oxyTook = await run(M, ['oid4vci', 'accept', oxySent.link || 'x', '--tx-code', oxySent.code || '0', '--store', 'rx-phone.wallet', '--did', walletDid, '--out', 'oxy.sd-jwt', '--allow-insecure-loopback'], ENV);
  check(oxyTook.code !== 0 && /credential_request_denied/.test(oxyTook.stderr + oxyTook.stdout) && /pseudonym/.test(oxyTook.stderr + oxyTook.stdout), 'a controlled substance offered to another wallet’s key is refused: credential_request_denied, “prove that key” (the patient’s pseudonym)', oxyTook.stderr || oxyTook.stdout);

  // Alice sees who saw what and her receipts.
  await visit(ap, 'disclosures', 'Who saw what');
  await ap.locator('.timeline .event').first().waitFor({ timeout: 15000 }).catch(() => {});
  const events = await ap.locator('.timeline .event').allInnerTexts();
  check(events.length > 0, 'Alice’s log lists the disclosures', String(events.length));
  await ap.getByRole('button', { name: 'Verify the log' }).click();
  await ap.locator('#verify-result p.ok, #verify-result p.error').first().waitFor({ timeout: 15000 }).catch(() => {});
  check(/The log is intact/.test(await ap.locator('#verify-result').innerText().catch(() => '')), 'Alice’s log verifies (chain and ledger anchors)');
  await hx.axe(ap, 'patient-disclosures');
  await hx.shoot(ap, 'patient-disclosures');
  await visit(ap, 'receipts', 'Receipts');
  await ap.waitForFunction(() => document.querySelectorAll('.receipt.dispense').length >= 2 && ![...document.querySelectorAll('.receipt.dispense .proof')].some((p) => /Checking/.test(p.textContent)), null, { timeout: 20000 }).catch(() => {});
  const proofs = await ap.locator('.receipt.dispense .proof').allInnerTexts();
  check(proofs.length === 2 && proofs.every((t) => /^Verified/.test(t)), 'Alice’s receipts: both dispense receipts verified against the ledger', proofs.join(' | '));
  const verifiedApi = (await pageFetch(ap, 'POST', 'web/v1/receipts/verify', {})).body;
  check((verifiedApi.dispense_receipts || []).length === 2 && verifiedApi.dispense_receipts.every((r) => r.valid), 'API: her dispense receipts each name her fill’s ledger record', JSON.stringify(verifiedApi.dispense_receipts));
  await hx.axe(ap, 'patient-receipts');
  await hx.shoot(ap, 'patient-receipts');

  // The physician asks again; this time Alice says no, and the workspace shows it.
  await visit(dp, 'patients', 'Patients');
  await dp.getByLabel('The address of her container').fill(alice.url);
  await dp.getByRole('button', { name: 'Connect' }).click();
  await dp.locator('.patient[data-status="request_submitted"]').waitFor({ timeout: 20000 }).catch(() => {});
  await visit(ap, 'requests', 'Requests');
  const denyCard = ap.locator(".request").first();
  await denyCard.waitFor({ timeout: 15000 }).catch(() => {});
  await denyCard.getByRole("button", { name: "Deny" }).click();
  check(await dp.locator('.patient[data-status="denied"]').waitFor({ timeout: 20000 }).then(() => true, () => false) && /The patient said no/.test(await dp.locator('.patient').first().innerText()),
    'Patients: a request Alice denies shows “The patient said no” (UMA request_denied)');
  await hx.shoot(dp, 'physician-patients-denied');

  // The license revoked at the society: the next presentation is refused.
  await visit(cp, 'licenses', 'Licenses');
  const lic = cp.locator('.license[data-status="active"]').first();
  await lic.waitFor({ timeout: 10000 });
  await hx.axe(cp, 'society-licenses');
  await hx.shoot(cp, 'society-licenses');
  await lic.getByLabel('Change').selectOption('revoke');
  await lic.getByRole('button', { name: 'Change the status…' }).click();
  check(/Give a reason/.test(await lic.locator('.message').innerText().catch(() => '')), 'Licenses: a change without a reason is refused on the page');
  await lic.getByLabel('Reason').fill('Board order 2026-118: license surrendered');
  await lic.getByRole('button', { name: 'Change the status…' }).click();
  await lic.getByRole('button', { name: /^Yes, revoke license MA-MD-204812/ }).click();
  check(await cp.locator('.license[data-status="revoked"]').first().waitFor({ timeout: 10000 }).then(() => true, () => false), 'Licenses: the clerk revokes her license after confirming, with a reason');
  const licensesApi = (await pageFetch(cp, 'GET', 'web/v1/desk/licenses')).body.licenses || [];
  const revokedLic = licensesApi.find((l) => l.license_number === 'MA-MD-204812');
  check(revokedLic && revokedLic.status === 'revoked' && revokedLic.events[0].reason === 'Board order 2026-118: license surrendered' && revokedLic.events[0].by === 'clerk', 'API: revoked, with the reason and the clerk', JSON.stringify(revokedLic));
  const listState = (await pageFetch(cp, 'GET', 'web/v1/desk/status-lists')).body;
  check(listState.revocation.set === 1 && listState.updated_at > 0, 'API: the revocation list counts one revoked license', JSON.stringify(listState));
  const published = await (await fetch(`${society.url}/status/revocation`)).json();
  check(published.type.includes('BitstringStatusListCredential'), 'the published revocation list is a signed BitstringStatusListCredential');
  await sleep(1500);
  const link4 = await newCustomer(pp);
  await present(ap, 'ibuprofen', link4);
  check(await counterStatus(pp, 'refused') && /revoked/.test(await pp.locator('#refusal').innerText()), 'Counter: a prescription after the license was revoked is refused (license revoked)');

  // The day's dispenses: one at A, none at B; a pharmacy sees only its own.
  await visit(pp, 'dispenses', 'Today’s dispenses');
  await pp.locator('#dispenses table, #dispenses .empty').first().waitFor({ timeout: 10000 }).catch(() => {});
  const table = await pp.locator('#dispenses').innerText({ timeout: 10000 }).catch(() => '');
  check(/2 dispenses on/.test(table) && /amoxicillin/.test(table) && /oxycodone/.test(table) && /Schedule II/.test(table), 'Today’s dispenses (A): the amoxicillin and oxycodone fills', table);
  const dayApi = (await pageFetch(pp, 'GET', 'web/v1/dispenses')).body.dispenses || [];
  check(dayApi.length === 2 && dayApi.every((d) => d.ledger_index > 0 && d.staff === 'pharmacist'), 'API: the day’s dispenses, each with its ledger record and who dispensed', JSON.stringify(dayApi.map((d) => [d.medication, d.ledger_index, d.staff])));
  await hx.axe(pp, 'pharmacy-dispenses');
  await hx.shoot(pp, 'pharmacy-dispenses');
  const listB = (await pageFetch(pbp, 'GET', 'web/v1/dispenses')).body;
  check(listB && Array.isArray(listB.dispenses) && listB.dispenses.length === 0, 'pharmacy B’s list holds none of A’s dispenses', JSON.stringify(listB));
  const cookieA = (await pp.context().cookies(pa.url)).find((c) => c.name.startsWith('mdl_staff_'));
  const crossed = await fetch(`${pb.url}/web/v1/dispenses`, { headers: { Cookie: `mdl_staff_${new URL(pb.url).port}=${cookieA.value}` } });
  check(crossed.status === 401, 'A’s staff session presented at pharmacy B opens nothing (401)', String(crossed.status));
  const aliceCookie = (await ap.context().cookies(alice.url)).find((c) => c.name.startsWith('mdl_session_'));
  const patientAtCounter = await fetch(`${pa.url}/web/v1/dispenses`, { headers: { Cookie: `mdl_staff_${new URL(pa.url).port}=${aliceCookie.value}` } });
  check(patientAtCounter.status === 401, 'the patient’s session opens nothing at the counter (401)', String(patientAtCounter.status));
  hx.expectingErrors = true;
  const badDay = await pageFetch(pp, 'GET', 'web/v1/dispenses?day=yesterday');
  hx.expectingErrors = false;
  check(badDay.status === 400, 'API: a malformed day is refused (400)', JSON.stringify(badDay));
  const truncated = await fetch(`${(await newCustomer(pp))}/presentation`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"presentation": {"type": ["VerifiablePresentation"' });
  check(truncated.status === 400, 'API: a truncated presentation is refused (400) and the request stays open', String(truncated.status));

  // With her license revoked, the physician cannot connect: Alice's container refuses the
  // license, and the workspace says why.
  await visit(dp, 'patients', 'Patients');
  await dp.getByLabel('The address of her container').fill(alice.url);
  await dp.getByRole('button', { name: 'Connect' }).click();
  await dp.locator('.patient .grant-status', { hasText: 'revoked' }).first().waitFor({ timeout: 20000 }).catch(() => {});
  check(/revoked/.test(await dp.locator('.patient').first().innerText().catch(() => '')), 'Patients: after the revocation her container refuses the license, and the page says why', await dp.locator('.patient').first().innerText().catch(() => ''));

  await hx.finalChecks();
  await browser.close();
}

try {
  await main();
} catch (err) {
  notOk('the flow ran to its end', err && err.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : String(err));
}
clearTimeout(deadline);
const code = summary() ? 1 : 0;
await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
process.exit(code);
