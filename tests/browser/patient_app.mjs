// Browser test of the patient's container web app (issue 14; docs/web.md). Starts its own
// ledger, society, the patient's (Alice's) container and a physician's (Dr. Rivera's)
// container in a temp folder, drives Debian's chromium (headless, a CDP virtual authenticator)
// through every page as a person would, runs the security checks (CSRF, cookie flags, CSP on
// every response, no CSP violation or console error, replayed WebAuthn responses, a signature
// counter regression, another owner's session), axe-core on every page, and screenshots every
// page at 390 px and 1280 px. One line per check; exit 1 if any failed.
// Usage: node patient_app.mjs <path-to-medallion>
// Env: MEDALLION_SCREENSHOTS (default <build>/browser-screenshots), MEDALLION_KEEP_TMP=1 keeps
// the temp folder (logs of every role) for debugging.
import { chromium, request as pwRequest } from 'playwright-core';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { ok, notOk, check, summary, work, freePort, startRole, run, json, cleanup, sleep, waitFor, onStop } from './lib.mjs';
import { makeHarness, CSP } from './harness.mjs';

const M = resolve(process.argv[2] || '');
if (!process.argv[2]) {
  console.error('usage: node patient_app.mjs <path-to-medallion>');
  process.exit(2);
}
const SHOTS = resolve(process.env.MEDALLION_SCREENSHOTS || join(dirname(M), '..', 'browser-screenshots'));
mkdirSync(SHOTS, { recursive: true });
const ENV = { MEDALLION_PASSPHRASE: 'browser-test-pass', MEDALLION_ALLOW_TEST_KDF: '1' };
const CHROMIUM = process.env.MEDALLION_CHROMIUM || '/usr/bin/chromium';

const deadline = setTimeout(async () => {
  notOk('the suite finished within 540 s');
  summary();
  await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
  process.exit(1);
}, 540000);

let browser = null;

async function cli(args, what) {
  const r = await run(M, args, ENV);
  if (r.code !== 0 && what) notOk(what, `exit ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

// --- the roles ---------------------------------------------------------------------------------

async function startRoles() {
  const ledger = await startRole(M, 'ledger', ['ledger', 'serve', '--db', 'ledger.db', '--key-file', 'ledger.key', '--origin', 'browser.test/ledger', '--listen', '127.0.0.1:0', '--json'], ENV);
  const L = ['--ledger', ledger.banner.url, '--log-key', ledger.banner.verifier_key];
  for (const w of ['alice', 'dr', 'society']) await cli(['wallet', 'init', '--store', `${w}.wallet`, '--kdf', 'test', '--mnemonic-out', `${w}.words`], `wallet init ${w}`);
  const aliceDid = (await cli(['did', 'create', '--store', 'alice.wallet', ...L], 'did create alice')).stdout.trim();
  const drDid = (await cli(['did', 'create', '--store', 'dr.wallet', ...L], 'did create dr')).stdout.trim();
  writeFileSync(join(work, 'directory.json'), JSON.stringify([{ license_number: 'MA-MD-204812', name: 'Dr. Elena Rivera', jurisdiction: 'US-MA', license_type: 'MD', specialty: 'Internal Medicine', schedules: ['II', 'III', 'IV', 'V'], valid_until: new Date(Date.now() + 2 * 365 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z') }]));
  const society = await startRole(M, 'society', ['issuer', 'serve', '--dir', 'society', '--store', 'society.wallet', '--directory', 'directory.json', '--listen', '127.0.0.1:0', '--status-ttl-ms', '1000', '--json', ...L], ENV);
  const box = async (name, store, did) => {
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const r = await startRole(M, name, ['container', 'serve', '--dir', `${name}-box`, '--store', store, '--owner', did, '--listen', `127.0.0.1:${port}`, '--public-url', url, '--json', '--ledger-receipts', '--trust', society.banner.did, '--allow-insecure-loopback', ...L], ENV);
    return { ...r, url, did, store };
  };
  const alice = await box('alice', 'alice.wallet', aliceDid);
  const dr = await box('dr', 'dr.wallet', drDid);
  await cli(['wallet', 'init', '--store', 'pharmacy.wallet', '--kdf', 'test', '--mnemonic-out', 'pharmacy.words'], 'wallet init pharmacy');
  const pharmacy = await startRole(M, 'pharmacy', ['pharmacy', 'serve', '--dir', 'pharmacy', '--store', 'pharmacy.wallet', '--listen', '127.0.0.1:0', '--json', '--trust', society.banner.did, '--allow-insecure-loopback', ...L], ENV);
  return { ledger, L, society, alice, dr, aliceDid, drDid, pharmacy };
}

// A one-time setup link: the line `container serve` prints, else `container login-link`.
async function setupLink(role) {
  const printed = `${role.output()}\n${role.errors()}`.match(/https?:\/\/[^\s"]+#setup=[A-Za-z0-9_-]+/);
  if (printed) return printed[0];
  const r = await cli(['container', 'login-link', '--url', role.url, '--store', role.store, '--did', role.did, '--json']);
  const j = json(r.stdout);
  return j && j.link ? j.link : '';
}

// --- the browser -------------------------------------------------------------------------------

// The pages' watchers (console errors, CSP violations, the CSP header on every response), axe
// and screenshots: harness.mjs, shared with browser:flow.
const hx = makeHarness(SHOTS);
const newPage = hx.newPage;
const axe = hx.axe;
const shoot = hx.shoot;
async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations || []).catch(() => []);
}

// Whether `text` reached the live region (#announce) or a notification within 15 s.
async function notified(page, text) {
  return page.waitForFunction((t) => {
    window.__heard = window.__heard || '';
    const a = document.getElementById('announce').textContent;
    if (a && !window.__heard.includes(a)) window.__heard += `${a}\n`;
    return window.__heard.includes(t) || document.getElementById('toasts').textContent.includes(t);
  }, text, { timeout: 15000, polling: 50 }).then(() => true, () => false);
}

// Goes to a page of the app and waits for its heading.
async function visit(page, route, heading) {
  await page.evaluate((r) => {
    window.location.hash = r;
  }, route);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 15000 });
  await page.locator('#main:not([aria-busy])').waitFor({ timeout: 15000 });
}

async function pageCheck(page, route, heading, name) {
  await visit(page, route, heading);
  const current = await page.locator('#nav a[aria-current="page"]').getAttribute('data-route').catch(() => null);
  check(current === route, `${name}: the nav marks it aria-current`, `aria-current on ${current}`);
  check(await page.locator('main').count() === 1, `${name}: one <main> landmark`);
  await axe(page, name);
  await shoot(page, name);
  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize({ width: 1280, height: 900 });
  check(overflow <= 0, `${name}: nothing scrolls sideways at 360 px`, `${overflow} px too wide`);
}

// --- the walk ----------------------------------------------------------------------------------

async function main() {
  const roles = await startRoles();
  const { alice, dr, L } = roles;
  ok(`ledger, society and two containers started (Alice at ${alice.url}, Dr. Rivera at ${dr.url})`);
  const origin = alice.url;

  // Dr. Rivera: her license and her own container's owner session (for prescribing).
  await cli(['issuer', 'onboard', '--url', roles.society.banner.url, '--store', 'dr.wallet', '--did', roles.drDid, '--license-number', 'MA-MD-204812', '--name', 'Dr. Elena Rivera', '--out', 'license.json'], 'Dr. Rivera onboards at the society');
  await cli(['consent', 'signin', '--url', dr.url, '--store', 'dr.wallet', '--did', roles.drDid, '--session-file', 'dr.session'], 'Dr. Rivera signs in to her own container');
  // Alice's owner session by her wallet (CLI), to see that "sign out everywhere" ends it too.
  await cli(['consent', 'signin', '--url', alice.url, '--store', 'alice.wallet', '--did', roles.aliceDid, '--session-file', 'alice.session'], 'Alice signs in with her wallet (CLI)');
  const aliceBearer = readFileSync(join(work, 'alice.session'), 'utf8').trim();

  const link = await setupLink(alice);
  check(link.startsWith(`${origin}/#setup=`), 'a setup link for the browser (container serve / container login-link)', link);

  // Our own signal handlers (lib.mjs) stop the browser, the roles and remove the folder.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  onStop(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  const { page, cdp, authenticatorId } = await newPage(context, origin, 'alice');

  // The setup page: register this device's passkey from the link.
  let registrationBody = null;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url() === `${origin}/web/v1/passkeys/register` && !registrationBody) registrationBody = r.postData();
  });
  const first = await page.goto(link);
  const headers = first.headers();
  check(headers['content-security-policy'] === CSP, 'GET / carries the CSP', headers['content-security-policy']);
  check(headers['x-content-type-options'] === 'nosniff' && headers['x-frame-options'] === 'DENY' && headers['referrer-policy'] === 'no-referrer',
    'GET / carries nosniff, X-Frame-Options DENY and Referrer-Policy no-referrer', JSON.stringify(headers));
  await page.getByRole('heading', { level: 1, name: 'Welcome to your health container' }).waitFor();
  await page.keyboard.press('Tab');
  const skip = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
  check(skip === 'Skip to content' && focused === 'H1', 'keyboard: the first Tab reaches the skip link, Enter moves focus to the page’s heading', `${skip} → ${focused}`);
  check(!page.url().includes('setup='), 'the setup token leaves the address bar at once', page.url());
  await axe(page, 'setup');
  await shoot(page, 'setup');
  await page.getByLabel('Name for this passkey').fill('Test laptop');
  const regResponse = page.waitForResponse((r) => r.url() === `${origin}/web/v1/passkeys/register`);
  await page.getByRole('button', { name: 'Create a passkey on this device' }).click();
  const reg = await regResponse;
  check(reg.status() === 201, 'POST web/v1/passkeys/register → 201', reg.status());
  const setCookie = (await reg.headerValue('set-cookie')) || '';
  check(/mdl_session_\d+=/.test(setCookie) && /HttpOnly/i.test(setCookie) && /SameSite=Strict/i.test(setCookie) && !/;\s*Secure/i.test(setCookie),
    'the session cookie: HttpOnly; SameSite=Strict; not Secure on http', setCookie.replace(/(mdl_session_\d+)=[^;]+/, '$1=…'));
  await page.getByRole('heading', { level: 1, name: 'Your records' }).waitFor({ timeout: 15000 });
  ok('the passkey is registered and the browser signed in (setup link)');
  const cookies = await context.cookies(origin);
  const session = cookies.find((c) => c.name.startsWith('mdl_session_'));
  check(session && session.httpOnly && session.sameSite === 'Strict' && !session.secure, 'the browser holds mdl_session as HttpOnly, SameSite=Strict, not Secure', JSON.stringify(session && { ...session, value: '…' }));
  check(!(await page.evaluate(() => document.cookie)).includes('mdl_session'), 'the page cannot read the session cookie');

  const stateNow = await page.evaluate(() => fetch('web/v1/state').then((r) => r.json()));
  check(stateNow.signed_in === true && stateNow.owner && stateNow.owner.did === roles.aliceDid && stateNow.rp_id === 'localhost',
    'web/v1/state: signed in, the owner, rp_id localhost', JSON.stringify({ ...stateNow, csrf: stateNow.csrf ? '…' : undefined }));

  // A replayed registration (the browser's own POST body, sent again) is refused.
  {
    const rc = await pwRequest.newContext({ extraHTTPHeaders: { Origin: origin } });
    const again = await rc.post(`${origin}/web/v1/passkeys/register`, { headers: { 'Content-Type': 'application/json' }, data: registrationBody || '{}' });
    check(again.status() >= 400 && again.status() < 500 && !(again.headers()['set-cookie'] || '').includes('mdl_session_'),
      'a replayed registration (same attestation, same challenge) is refused, and signs nobody in', `${again.status()} ${await again.text()}`);
    await rc.dispose();
  }

  // Sign out, sign in with the passkey.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to your health container' }).waitFor();
  ok('sign out (header button) returns to the sign-in page');
  await axe(page, 'signin');
  await shoot(page, 'signin');
  let assertionBody = null;
  const grab = (r) => {
    if (r.method() === 'POST' && r.url() === `${origin}/web/v1/signin` && !assertionBody) assertionBody = r.postData();
  };
  page.on('request', grab);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your records' }).waitFor({ timeout: 15000 });
  page.off('request', grab);
  ok('sign in with the passkey (navigator.credentials.get, discoverable)');
  {
    const rc = await pwRequest.newContext({ extraHTTPHeaders: { Origin: origin } });
    const again = await rc.post(`${origin}/web/v1/signin`, { headers: { 'Content-Type': 'application/json' }, data: assertionBody || '{}' });
    check(again.status() >= 400 && again.status() < 500 && !(again.headers()['set-cookie'] || '').includes('mdl_session_'),
      'a replayed assertion (the same signed challenge) is refused', `${again.status()} ${await again.text()}`);
    await rc.dispose();
  }

  // Home: add a symptom report; it shows under Observations, newest first, written by "you".
  await page.getByLabel('What are you feeling?').fill('Headache behind the eyes');
  await page.getByLabel('How strong is it?').selectOption('severe');
  await page.getByLabel('Anything else? (optional)').fill('Worse in the evening');
  await page.getByRole('button', { name: 'Add to my records' }).click();
  await page.locator('main').getByText('Added to your observations.').waitFor({ timeout: 10000 });
  const obsTab = page.getByRole('tab', { name: 'Observations' });
  check(await obsTab.getAttribute('aria-selected') === 'true', 'after adding, the Observations tab is selected');
  const card = page.locator('.record', { hasText: 'Headache behind the eyes' });
  await card.waitFor({ timeout: 10000 });
  check(/Written by\s+You/.test(await card.locator('.meta').innerText()), 'the symptom report is shown, written by “You”', await card.locator('.meta').innerText());
  await page.getByRole('tab', { name: 'Medications' }).focus();
  await page.keyboard.press('ArrowRight');
  check(await page.getByRole('tab', { name: 'Allergies' }).getAttribute('aria-selected') === 'true', 'the record tabs work with the arrow keys');
  await page.getByRole('tab', { name: 'Observations' }).click();
  await pageCheck(page, 'home', 'Your records', 'home');

  // A POST without the CSRF token is refused (403, csrf_invalid) and changes nothing.
  {
    const before = await page.evaluate(() => fetch('owner/v1/policies').then((r) => r.json()));
    hx.expectingErrors = true;
    const policy = { effect: 'permit', subjects: [{ did: roles.drDid }], resource_types: ['*'], purposes: ['treatment'] };
    const r = await page.evaluate((p) => fetch('owner/v1/policies', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(p) })
      .then(async (res) => ({ status: res.status, body: await res.json().catch(() => null) })), policy);
    const wrongToken = await page.evaluate((p) => fetch('owner/v1/policies', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body: JSON.stringify(p) })
      .then((res) => res.status), policy);
    hx.expectingErrors = false;
    const after = await page.evaluate(() => fetch('owner/v1/policies').then((res) => res.json()));
    check(r.status === 403 && r.body && r.body.reason === 'csrf_invalid', 'a POST with the cookie but without X-CSRF-Token → 403 csrf_invalid', JSON.stringify(r));
    check(wrongToken === 403, 'a POST with a wrong X-CSRF-Token → 403', wrongToken);
    check(JSON.stringify(before) === JSON.stringify(after), '… and nothing changed (the policies are the same)');
    // The right token from another origin (no same-origin Origin, no Sec-Fetch-Site) is refused too.
    const csrf = stateNow.csrf;
    const cookie = (await context.cookies(origin)).find((c) => c.name.startsWith('mdl_session_'));
    const cross = await fetch(`${origin}/owner/v1/policies`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: `${cookie.name}=${cookie.value}`, 'X-CSRF-Token': csrf || '', Origin: 'http://evil.example' }, body: JSON.stringify(policy) }).catch((e) => ({ status: String(e) }));
    check(cross.status === 403, 'the right token from another Origin → 403', cross.status);
  }

  // Sharing: a rule that waits for Alice's approval.
  await visit(page, 'sharing', 'Sharing');
  await page.getByRole('button', { name: 'New sharing rule' }).click();
  const form = page.locator('#policy-form');
  await form.getByLabel('Any licensed physician').check();
  await form.getByRole('checkbox', { name: 'Medications' }).check();
  for (const s of ['Open a record', 'List and search records', 'Add new records']) await form.getByRole('checkbox', { name: s }).check();
  await form.getByRole('checkbox', { name: 'Change existing records' }).uncheck();
  await form.getByRole('checkbox', { name: 'Treatment' }).check();
  await form.getByLabel('Until (optional, included)').fill('2027-03-01');
  await form.getByLabel('Ask me before each access').check();
  const preview = await page.locator('#policy-preview').innerText();
  check(preview === 'Licensed physicians may read and write your medication requests for your treatment until 1 March 2027, once you approve each request.',
    'the policy preview reads as a plain sentence', preview);
  await axe(page, 'sharing-form');
  await shoot(page, 'sharing-form');
  await form.getByRole('button', { name: 'Add this rule' }).click();
  await page.locator('main').getByText('Your new rule is in force.').waitFor({ timeout: 15000 });
  const policies1 = await page.evaluate(() => fetch('owner/v1/policies').then((r) => r.json()));
  check(policies1.length === 1 && policies1[0].owner_approval === true && policies1[0].not_after > 0 && policies1[0].subjects[0].credential_type === 'MedicalLicenseCredential',
    'the rule is stored as the policy JSON the container takes', JSON.stringify(policies1));
  await pageCheck(page, 'sharing', 'Sharing', 'sharing');

  // Requests: the physician asks; the request arrives live (SSE), Alice approves; again, denies.
  await visit(page, 'requests', 'Requests');
  check(await page.locator('main').getByText('No request is waiting for you.').isVisible(), 'no request waits at first');
  const ask = (file) => run(M, ['physician', 'signin', '--url', origin, '--store', 'dr.wallet', '--did', roles.drDid, '--license', 'license.json', '--session-file', file, '--scope', 'read', '--json'], ENV);
  // The physician's client waits for Alice's decision (--wait: UMA Grant §3.3.6 polling).
  const waiting = run(M, ['physician', 'signin', '--url', origin, '--store', 'dr.wallet', '--did', roles.drDid, '--license', 'license.json', '--session-file', 'dr-uma-1.json', '--scope', 'read', '--wait', '90', '--json'], ENV);
  check(await notified(page, 'New request'), 'the request is announced live (Server-Sent Events → a polite live region)');
  const reqCard = page.locator('.request').first();
  check(await reqCard.waitFor({ timeout: 15000 }).then(() => true, () => false), 'the pending request appears without reloading');
  const cardText = await reqCard.innerText().catch(() => '');
  check(/medical license/.test(cardText) && /medication requests/.test(cardText) && /treatment/i.test(cardText) && /How long/.test(cardText),
    'the request says who (a license holder), what, why and how long in plain words', cardText);
  check(/^Dr\. Elena Rivera asks for access/.test(cardText) && /Licensed MD \(Internal Medicine\), US-MA, license MA-MD-204812/.test(cardText) && /License active/.test(cardText),
    'the request names the physician from her license credential, with the license and its status', cardText);
  check(/\d+ waiting/.test(await page.locator('#requests-badge').innerText()), 'the nav shows how many requests wait');
  await axe(page, 'requests');
  await shoot(page, 'requests');
  await reqCard.getByRole('button', { name: 'Approve' }).click();
  await page.locator('main').getByText('No request is waiting for you.').waitFor({ timeout: 10000 });
  const decided1 = await page.evaluate(() => fetch('owner/v1/requests').then((r) => r.json()));
  check(decided1.length === 1 && decided1[0].status === 'approved', 'Approve → the request is approved', JSON.stringify(decided1.map((r) => r.status)));
  const asked = await waiting;
  let session1 = {};
  try { session1 = json(readFileSync(join(work, 'dr-uma-1.json'), 'utf8')) || {}; } catch { /* reported below */ }
  check(asked.code === 0 && typeof session1.rpt === 'string' && session1.rpt.length > 0,
    'the physician’s waiting client (physician signin --wait) gets its RPT once Alice approves', `${asked.code} ${asked.stdout} ${asked.stderr}`);
  const asked2 = await ask('dr-uma-2.json');
  check(asked2.code !== 0 && /request_submitted/.test(asked2.stdout + asked2.stderr), 'a second request waits as well (request_submitted, without --wait the client returns at once)', `${asked2.code} ${asked2.stderr}`);
  await page.locator('.request').first().waitFor({ timeout: 15000 });
  await page.locator('.request').first().getByRole('button', { name: 'Deny' }).click();
  await page.locator('main').getByText('No request is waiting for you.').waitFor({ timeout: 10000 });
  const decided2 = await page.evaluate(() => fetch('owner/v1/requests').then((r) => r.json()));
  const statuses = decided2.map((r) => r.status).sort().join(',');
  check(statuses === 'approved,denied', 'Deny → the request is denied', statuses);
  check(await page.locator('main').getByText(/^Denied/).count() >= 1 && await page.locator('main').getByText(/^Approved/).count() >= 1, 'both decisions are listed under “Decided”');
  await pageCheck(page, 'requests', 'Requests', 'requests');

  // Edit the rule (no more approval): the next request is granted at once; revoke it: refused.
  await visit(page, 'sharing', 'Sharing');
  await page.locator('.policy').first().getByRole('button', { name: /^Change/ }).click();
  check(await page.locator('main').getByText('Your container cannot change a rule in place').isVisible(), 'editing says it is revoke + create');
  await page.locator('#policy-form').getByLabel('Ask me before each access').uncheck();
  await page.locator('#policy-form').getByRole('button', { name: 'Save changes' }).click();
  await page.locator('main').getByText('Your rule was changed').waitFor({ timeout: 15000 });
  const policies2 = await page.evaluate(() => fetch('owner/v1/policies').then((r) => r.json()));
  check(policies2.length === 1 && policies2[0].id !== policies1[0].id && !policies2[0].owner_approval, 'the edit replaced the rule (a new id, the old one revoked)', JSON.stringify(policies2));
  const granted = await ask('dr-uma-3.json');
  check(granted.code === 0, 'after the edit, the physician’s request is granted without waiting', `${granted.code} ${granted.stderr}`);
  const wrote = await run(M, ['physician', 'write', '--session-file', 'dr-uma-3.json', '--store', 'dr.wallet', '--in', await medicationRequestFile(), '--out', 'stored.json', '--json'], ENV);
  check(wrote.code === 0, 'the physician writes a MedicationRequest into Alice’s records', wrote.stderr);
  await visit(page, 'sharing', 'Sharing');
  await page.locator('.policy').first().getByRole('button', { name: /^Revoke/ }).click();
  await page.locator('main').getByText('The rule is revoked.').waitFor({ timeout: 15000 });
  // The page says "revoked" and then reloads the list: wait for the list.
  check(await page.locator('main').getByText('You have no sharing rules').waitFor({ timeout: 10000 }).then(() => true, () => false), 'after revoking, no rule is left');
  const refused = await ask('dr-uma-4.json');
  check(refused.code !== 0 && /request_denied|need_info/.test(refused.stdout + refused.stderr), 'after revoking, a new request is refused', `${refused.code} ${refused.stdout} ${refused.stderr}`);

  // Home again: the physician's record, written by her.
  await visit(page, 'home', 'Your records');
  await page.getByRole('tab', { name: 'Medications' }).click();
  const mr = page.locator('.record', { hasText: 'amoxicillin' });
  check(await mr.waitFor({ timeout: 10000 }).then(() => true, () => false), 'the physician’s MedicationRequest is listed under Medications');
  check(/Written by\s+A person with a Medallion identity/.test(await mr.locator('.meta').innerText().catch(() => '')), '… written by her (from the disclosure log), not by “You”', await mr.locator('.meta').innerText().catch(() => ''));

  // A prescription delivered to Alice's inbox arrives live and is listed.
  {
    const pr = await run(M, ['physician', 'prescribe', '--store', 'dr.wallet', '--did', roles.drDid, '--license', 'license.json', '--request', 'stored.json', '--patient', roles.aliceDid, '--container', dr.url, '--session-file', 'dr.session', '--out', 'draft.json', ...L], ENV);
    const dl = pr.code === 0 ? await run(M, ['physician', 'deliver', '--draft', 'draft.json', '--store', 'dr.wallet', '--did', roles.drDid, '--session-file', 'dr.session', '--patient-container', origin, '--out', 'rx.json', ...L], ENV) : pr;
    check(dl.code === 0, 'the physician prescribes and delivers to Alice’s inbox (CLI)', `${dl.code} ${dl.stderr}`);
    check(await page.locator('#toasts .toast', { hasText: 'prescription' }).first().waitFor({ timeout: 15000 }).then(() => true, () => false), 'the new prescription arrives live as a notification (on another page)');
    await visit(page, 'prescriptions', 'Prescriptions');
    const rx = page.locator('.rx').first();
    const rxText = await rx.innerText().catch(() => '');
    check(/amoxicillin/.test(rxText) && /Prescribed by/.test(rxText) && /Fills/.test(rxText) && /Postmark/.test(rxText), 'Prescriptions: medication, prescriber, fills, postmark', rxText);
    check(/License active/.test(rxText) && /0 of \d+ used/.test(rxText), 'Prescriptions: the prescriber’s license checked active now, no fill used on the ledger yet', rxText);
    await pageCheck(page, 'prescriptions', 'Prescriptions', 'prescriptions');
    // Present it to a pharmacy: a bad address is refused in words, nothing sent; the pharmacy's
    // address dispenses it, check by check; the ledger's count of fills moves.
    await rx.getByRole('button', { name: 'Present to a pharmacy' }).click();
    const where = rx.getByLabel('The pharmacy’s address or link');
    await where.fill('ftp://pharmacy.example');
    hx.expectingErrors = true;
    await rx.getByRole('button', { name: 'Present', exact: true }).click();
    await rx.locator('.present-form .error').waitFor({ timeout: 10000 }).catch(() => {});
    check(/https:\/\/ or http:\/\//.test(await rx.locator('.present-form .message').innerText().catch(() => '')), 'Present: a non-web address is refused with a clear error', await rx.locator('.present-form .message').innerText().catch(() => ''));
    hx.expectingErrors = false;
    await where.fill(`${roles.pharmacy.banner.url}/#present`);
    await shoot(page, 'prescriptions-present');
    await rx.getByRole('button', { name: 'Present', exact: true }).click();
    const outcomeBox = rx.locator('.rx-outcome');
    check(await outcomeBox.waitFor({ timeout: 30000 }).then(() => true, () => false), 'Present: the pharmacy answers on the page');
    const outcomeText = await outcomeBox.innerText().catch(() => '');
    const checks = await outcomeBox.locator('.checks li').allInnerTexts();
    check(/^Dispensed: fill 1 of \d+/.test(outcomeText) && checks.length >= 8 && checks.every((t) => /^Passed:/.test(t)) && checks.some((t) => /license is active/.test(t)),
      'Present: dispensed, with each of the pharmacy’s checks shown passed in words', outcomeText);
    await axe(page, 'prescriptions-dispensed');
    await shoot(page, 'prescriptions-dispensed');
    await visit(page, 'prescriptions', 'Prescriptions');
    check(/1 of \d+ used/.test(await page.locator('.rx').first().locator('.fills').innerText().catch(() => '')), 'Prescriptions: the fill now counts as used (the ledger’s nullifier found by her container)', await page.locator('.rx').first().locator('.fills').innerText().catch(() => ''));
  }

  // Who saw what: the timeline, filters, export, verify.
  await visit(page, 'disclosures', 'Who saw what');
  const total = await page.locator('.timeline .event').count();
  check(total > 5, `the timeline lists the log (${total} entries)`);
  const partyOption = await page.locator('#filter-party option').evaluateAll((os) => os.map((o) => o.value));
  check(partyOption.includes(roles.drDid), 'the party filter offers the physician', JSON.stringify(partyOption));
  await page.getByLabel('Who').selectOption(roles.drDid);
  await page.getByLabel('What').selectOption('release');
  const filtered = await page.locator('.timeline .event').allInnerTexts();
  check(filtered.length >= 1 && filtered.every((t) => /added|opened|listed|changed/.test(t)), 'filtering by party and kind shows her releases only', JSON.stringify(filtered.slice(0, 3)));
  await page.getByLabel('Who').selectOption('');
  await page.getByLabel('What').selectOption('');
  await page.getByRole('button', { name: 'Verify the log' }).click();
  const verified = await page.locator('#verify-result p').first().innerText({ timeout: 15000 }).catch(() => '');
  await page.locator('#verify-result p.ok, #verify-result p.error').first().waitFor({ timeout: 15000 }).catch(() => {});
  const verifiedText = await page.locator('#verify-result').innerText().catch(() => verified);
  check(/The log is intact/.test(verifiedText), 'Verify: the server checks the chain and anchors, and the page says so', verifiedText);
  const exportHref = await page.getByRole('link', { name: /Download the whole log/ }).getAttribute('href');
  const exported = await page.evaluate((href) => fetch(href).then((r) => r.json()), exportHref);
  check(exported && exported.format === 'medallion-disclosure-log/1' && exported.entries.length >= total, 'the export link gives the whole log (medallion-disclosure-log/1)', exported && exported.format);
  writeFileSync(join(work, 'export.json'), JSON.stringify(exported));
  const offline = await run(M, ['consent', 'verify-export', 'export.json'], ENV);
  check(offline.code === 0, 'the exported log verifies offline (medallion consent verify-export)', offline.stderr || offline.stdout);
  await pageCheck(page, 'disclosures', 'Who saw what', 'disclosures');

  // Receipts.
  await visit(page, 'receipts', 'Receipts');
  const dispenseProof = page.locator('.receipt.dispense .proof');
  await page.waitForFunction(() => ![...document.querySelectorAll('.receipt.dispense .proof')].some((p) => /Checking/.test(p.textContent)), null, { timeout: 15000 }).catch(() => {});
  check(await page.locator('.receipt.dispense').count() === 1 && /amoxicillin/.test(await page.locator('.receipt.dispense').innerText()) && /^Verified: the ledger holds the dispense record/.test(await dispenseProof.innerText().catch(() => '')),
    'Receipts: the pharmacy’s dispense receipt, its ledger record proven and shown as verified', await page.locator('.receipt.dispense').innerText().catch(() => ''));
  const receipts = await page.locator('.receipt:not(.dispense)').allInnerTexts();
  check(receipts.length === 4 && receipts.filter((t) => /You allowed access/.test(t)).length === 2 && receipts.some((t) => /public ledger at position/.test(t)),
    'Receipts: two grants and two revocations, with their ledger positions', `${receipts.length}: ${receipts.map((t) => t.split('\n')[0]).join(', ')}`);
  await page.locator('.receipt .proof.ok, .receipt .proof.error').first().waitFor({ timeout: 15000 }).catch(() => {});
  await page.waitForFunction(() => ![...document.querySelectorAll('.receipt .proof')].some((p) => /Checking/.test(p.textContent)), null, { timeout: 15000 }).catch(() => {});
  const proofs = await page.locator('.receipt:not(.dispense) .proof').allInnerTexts();
  check(proofs.length === 4 && proofs.every((t) => /^Verified: the ledger holds/.test(t)),
    'Receipts: each receipt\u2019s ledger entries are proven in the log and shown as verified', proofs.join(' | '));
  await pageCheck(page, 'receipts', 'Receipts', 'receipts');

  // Relationships: she gives a new provider a fresh pseudonym; the provider opens a relationship
  // with it on the ledger (CLI); her container finds it from her seed; she accepts it.
  await visit(page, 'relationships', 'Relationships');
  check(await page.getByText('No provider has opened a relationship with you yet.').count() === 1, 'Relationships: none yet');
  await page.getByRole('button', { name: 'A new pseudonym for a provider' }).click();
  const pseudonymCode = page.locator('section code.mono').first();
  await pseudonymCode.waitFor({ timeout: 10000 });
  const pseudonym = (await pseudonymCode.innerText()).trim();
  check(/^[A-Za-z0-9_-]{43}$/.test(pseudonym), 'Relationships: a fresh pairwise pseudonym to give a provider', pseudonym);
  writeFileSync(join(work, 'shared.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection' }));
  await cli(['relationship', 'open', '--store', 'dr.wallet', '--patient', pseudonym, '--location', 'https://dr-rivera.example/records/alice',
    '--data-file', 'shared.json', ...roles.L], 'relationship open (the provider)');
  await visit(page, 'home', 'Your records');
  await visit(page, 'relationships', 'Relationships');
  const relCard = page.locator('#relationships .card');
  check(await relCard.count() === 1 && /Waiting for your answer/.test(await relCard.first().innerText()),
    'Relationships: the provider\u2019s relationship is found from her seed and the ledger, waiting for her', await page.locator('#relationships').innerText());
  check(/dr-rivera\.example/.test(await relCard.first().innerText()), 'Relationships: the sealed location is opened for her');
  await relCard.first().getByRole('button', { name: 'Accept' }).click();
  check(await notified(page, 'recorded on the ledger'), 'Relationships: accepting is recorded on the ledger');
  await page.getByText('You accepted it.').waitFor({ timeout: 10000 }).catch(() => {});
  check(await page.getByText('You accepted it.').count() === 1, 'Relationships: the card says she accepted it');
  await pageCheck(page, 'relationships', 'Relationships', 'relationships');

  // Sharing with a relationship: the provider signs in with the pairwise key of that
  // relationship (no license); refused until Alice's rule names the relationship, then granted.
  const relAsk = (file) => run(M, ['physician', 'signin', '--url', origin, '--store', 'dr.wallet', '--did', roles.drDid, '--relationship-index', '0',
    '--session-file', file, '--scope', 'read', '--json'], ENV);
  const relBefore = await relAsk('dr-rel-1.json');
  check(relBefore.code !== 0, 'Sharing: the provider of a relationship gets nothing before a rule names it', `${relBefore.code} ${relBefore.stdout} ${relBefore.stderr}`);
  await visit(page, 'sharing', 'Sharing');
  await page.getByRole('button', { name: 'New sharing rule' }).click();
  const relForm = page.locator('#policy-form');
  await relForm.getByLabel('A provider you have a relationship with').check();
  const relOption = relForm.locator('select[name="relationship"] option').nth(1);
  check(await relOption.waitFor({ state: 'attached', timeout: 15000 }).then(() => true, () => false),
    'Sharing: her accepted relationship is offered as who', await relForm.locator('select[name="relationship"]').innerText().catch(() => ''));
  const relValue = await relOption.getAttribute('value');
  await relForm.getByLabel('The relationship').selectOption(relValue);
  await relForm.getByRole('checkbox', { name: 'Medications' }).check();
  for (const sc of ['Add new records', 'Change existing records']) await relForm.getByRole('checkbox', { name: sc }).uncheck();
  for (const sc of ['Open a record', 'List and search records']) await relForm.getByRole('checkbox', { name: sc }).check();
  await relForm.getByRole('checkbox', { name: 'Treatment' }).check();
  const relPreview = await page.locator('#policy-preview').innerText();
  check(relPreview === `The provider of your relationship ${relValue.slice(0, 6)}… may read your medication requests for your treatment.`,
    'Sharing: the relationship rule reads as a plain sentence', relPreview);
  await relForm.getByRole('button', { name: 'Add this rule' }).click();
  await page.locator('main').getByText('Your new rule is in force.').waitFor({ timeout: 15000 });
  const relPolicies = await page.evaluate(() => fetch('owner/v1/policies').then((r) => r.json()));
  check(relPolicies.some((p) => p.subjects.some((x) => x.relationship === relValue)), 'Sharing: the rule names the relationship', JSON.stringify(relPolicies));
  const relAfter = await relAsk('dr-rel-2.json');
  let relDid = '';
  try { relDid = JSON.parse(relAfter.stdout).did || ''; } catch { /* reported below */ }
  check(relAfter.code === 0 && /^did:key:z6Mk/.test(relDid) && relDid !== roles.drDid,
    'Sharing: the provider signed in with the relationship’s pairwise key is granted (no license, not her DID)', `${relAfter.code} ${relAfter.stdout} ${relAfter.stderr}`);

  // Devices: her recovery — no guardian shares, then split (CLI) into 2 of 3 and shown.
  await visit(page, 'devices', 'Devices and sign-in');
  await page.locator('#recovery').waitFor({ timeout: 10000 }).catch(() => {});
  check(await page.locator('#guardians-none').count() === 1, 'Devices: her key is not split among guardians yet, said plainly', await page.locator('#recovery').innerText().catch(() => ''));
  await cli(['wallet', 'split', '--store', 'alice.wallet', '--groups', '2of3', '--out-dir', 'alice-shares'], 'wallet split (guardian shares)');
  await visit(page, 'home', 'Your records');
  await visit(page, 'devices', 'Devices and sign-in');
  await page.locator('#recovery').waitFor({ timeout: 10000 }).catch(() => {});
  check(/3 guardians hold a share each of your key; any 2 of them together can restore it/.test(await page.locator('#guardians-state').innerText().catch(() => '')),
    'Devices: the guardian shares’ state (how many, threshold) and how to recover', await page.locator('#recovery').innerText().catch(() => ''));
  // Devices: pair a phone with the QR code's URI; the device appears (live).
  check(await page.locator('main').getByText('No phone is paired.').isVisible(), 'no phone is paired at first');
  await page.getByRole('button', { name: 'Pair a phone' }).click();
  const qr = page.locator('#pairing-qr');
  await qr.waitFor({ timeout: 10000 });
  const qrSrc = await qr.getAttribute('src');
  const qrAlt = await qr.getAttribute('alt');
  check(qrSrc.startsWith('data:image/svg+xml;base64,') && qrAlt && qrAlt.length > 10, 'the pairing QR code is an <img> (SVG data URL) with alt text');
  check(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR image renders under the CSP (img-src data:)');
  const uri = await page.locator('#pairing-uri').inputValue();
  check(uri.startsWith('medallion-pair://v1?'), 'the pairing URI is shown as text to copy', uri.slice(0, 40));
  await axe(page, 'devices-pairing');
  await shoot(page, 'devices-pairing');
  await cli(['phone', 'init', '--store', 'alice-phone.db', '--kdf', 'test', '--mnemonic-out', 'alice-phone.words'], 'phone init');
  const paired = await cli(['phone', 'pair', '--store', 'alice-phone.db', '--uri', uri, '--name', 'Alice’s phone'], 'medallion phone pair with the URI from the page');
  check(paired.code === 0, 'the phone pairs with the URI shown on the page');
  check(await page.locator('.device', { hasText: 'Alice’s phone' }).waitFor({ timeout: 15000 }).then(() => true, () => false), 'the phone appears in the device list without reloading');
  check(await notified(page, 'new device was paired'), 'the new device is announced live');
  // Another passkey (from a signed-in session), then removed. The authenticator holds one
  // credential per site and the container excludes it, so it is set aside meanwhile.
  {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const first = credentials[0];
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: first.credentialId });
    await page.getByLabel('Name for the new passkey').fill('Spare key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const added = await page.locator('.passkey', { hasText: 'Spare key' }).waitFor({ timeout: 15000 }).then(() => true, () => false);
    check(added && await page.locator('.passkey').count() === 2, 'a second passkey is added from the Devices page (signed-in ceremony)', await page.locator('#devices-status').innerText().catch(() => ''));
    await page.locator('.passkey', { hasText: 'Spare key' }).getByRole('button', { name: /^Remove/ }).click();
    await page.locator('main').getByText('The passkey “Spare key” was removed.').waitFor({ timeout: 10000 }).catch(() => {});
    const left = (await page.evaluate(() => fetch('web/v1/passkeys').then((r) => r.json()))).passkeys || [];
    check(left.length === 1 && left[0].name === 'Test laptop', 'removing it leaves only the first passkey', JSON.stringify(left.map((p) => p.name)));
    const spare = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    for (const c of spare) await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: first });
  }
  await pageCheck(page, 'devices', 'Devices and sign-in', 'devices');

  // A controlled substance through the page: the physician's phone co-signs it (CLI); Alice
  // presents it from the page; her container asks her phone (202 awaiting_phone), the page waits
  // and polls; her phone approves; the pharmacy dispenses with every check passed.
  {
    const drPair = await cli(['consent', 'pair', '--url', dr.url, '--session-file', 'dr.session'], 'consent pair (the physician’s phone)');
    const drUri = (json(drPair.stdout) || {}).uri || '';
    await cli(['phone', 'init', '--store', 'dr-phone.db', '--kdf', 'test', '--mnemonic-out', 'dr-phone.words'], 'phone init (the physician)');
    await cli(['phone', 'pair', '--store', 'dr-phone.db', '--uri', drUri, '--name', 'Dr. Rivera’s phone'], 'phone pair (the physician)');
    const base = JSON.parse(readFileSync(join(work, 'stored.json'), 'utf8'));
    const oxy = { ...base, id: 'oxy-1', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1049621', display: 'oxycodone hydrochloride 5 MG Oral Tablet' }], text: 'oxycodone 5 mg oral tablet' } };
    writeFileSync(join(work, 'oxy.json'), JSON.stringify(oxy));
    // With the pharmacy copy (SD-JWT VC) bound to the pseudonym Alice gave this provider: it
    // reaches her container with the prescription, so the page presents only what dispensing needs.
    const pr = await cli(['physician', 'prescribe', '--store', 'dr.wallet', '--did', roles.drDid, '--license', 'license.json', '--request', 'oxy.json', '--patient', roles.aliceDid,
      '--schedule', 'II', '--holder', pseudonym, '--container', dr.url, '--session-file', 'dr.session', '--out', 'draft-oxy.json', '--json', ...L], 'physician prescribe --schedule II --holder');
    const approvals = (json(pr.stdout) || {}).approvals || [];
    for (const id of approvals) await cli(['phone', 'approve', '--store', 'dr-phone.db', '--', id], 'phone approve (the physician co-signs)');
    const dl = await cli(['physician', 'deliver', '--draft', 'draft-oxy.json', '--store', 'dr.wallet', '--did', roles.drDid, '--session-file', 'dr.session', '--patient-container', origin,
      '--out', 'rx-oxy.json', '--copy-out', 'rx-oxy.copy.json', ...L], 'physician deliver (controlled, with its pharmacy copy)');
    check(approvals.length === 2 && dl.code === 0, 'a controlled prescription and its pharmacy copy, each co-signed by the physician’s phone, reach Alice', `${approvals.length} ${dl.stderr}`);
    const keptOxy = (await page.evaluate(() => fetch('owner/v1/credentials').then((r) => r.json()))).find((c) => JSON.stringify(c.credential).includes('oxycodone'));
    check(keptOxy && typeof keptOxy.pharmacy_copy?.sd_jwt === 'string' && typeof keptOxy.pharmacy_copy?.cosignature === 'string',
      'her container keeps the pharmacy copy (and its co-signature) with the prescription', JSON.stringify(Object.keys(keptOxy || {})));
    await visit(page, 'prescriptions', 'Prescriptions');
    const rxOxy = page.locator('.rx', { hasText: 'oxycodone' }).first();
    check(/Schedule II/.test(await rxOxy.innerText().catch(() => '')), 'Prescriptions: the controlled substance says each fill needs her phone', await rxOxy.innerText().catch(() => ''));
    await rxOxy.getByRole('button', { name: 'Present to a pharmacy' }).click();
    check(/sees only what dispensing needs/.test(await rxOxy.locator('.present-form .notice').innerText().catch(() => '')),
      'Present: the page says the pharmacy sees only what dispensing needs', await rxOxy.locator('.present-form .notice').innerText().catch(() => ''));
    await rxOxy.getByLabel('The pharmacy’s address or link').fill(roles.pharmacy.banner.url);
    await rxOxy.getByRole('button', { name: 'Present', exact: true }).click();
    check(await rxOxy.locator('#rx-awaiting-phone').waitFor({ timeout: 20000 }).then(() => true, () => false), 'Present (controlled): the page asks her to approve the fill on her phone and waits',
      await rxOxy.innerText().catch(() => ''));
    await shoot(page, 'prescriptions-awaiting-phone');
    const fillToast = await page.locator('#toasts .toast', { hasText: 'Approve this fill on your phone' }).first().waitFor({ timeout: 10000 }).then(() => true, () => false);
    check(fillToast && await page.locator('#toasts .toast', { hasText: 'has not proven who they are' }).count() === 0,
      'the fill request is announced as hers to approve on her phone, not as someone asking for her records', await page.locator('#toasts').innerText().catch(() => ''));
    const fillReq = await waitFor(async () => {
      const list = json((await run(M, ['phone', 'pending', '--store', 'alice-phone.db'], ENV)).stdout) || [];
      return list.find((x) => JSON.stringify(x).includes('fill')) || null;
    }, { timeout: 15000, interval: 500 });
    check(Boolean(fillReq), 'her phone shows the fill to authorize', JSON.stringify(fillReq));
    if (fillReq) await cli(['phone', 'approve', '--store', 'alice-phone.db', '--', fillReq.id || fillReq.request_id], 'phone approve (the fill)');
    const outOxy = rxOxy.locator('.rx-outcome');
    check(await outOxy.waitFor({ timeout: 30000 }).then(() => true, () => false), 'Present (controlled): the page continues once her phone approves');
    const oxyText = await outOxy.innerText().catch(() => '');
    const oxyChecks = await outOxy.locator('.checks li').allInnerTexts();
    check(/^Dispensed: fill 1 of \d+/.test(oxyText) && oxyChecks.length >= 8 && oxyChecks.every((t) => /^Passed:/.test(t)),
      'Present (controlled): dispensed after her phone’s approval, every check passed', oxyText);
    await shoot(page, 'prescriptions-dispensed-minimal');
    const oxyAnswer = json(await outOxy.locator('details pre').textContent().catch(() => '')) || {};
    const seen = (oxyAnswer.result || {}).disclosed || [];
    check(/received only what dispensing needs/.test(oxyText) && /your name in the prescription/.test(oxyText) && /how to take it/.test(oxyText)
      && oxyAnswer.disclosure?.form === 'sd-jwt' && seen.length === 1 && seen[0] === '/sub',
      'Present (controlled): the pharmacy received the SD-JWT VC copy — it reports only /sub disclosed (for the phone check); her name in the prescription and the dosage stayed hidden', `${oxyText} | ${JSON.stringify(seen)}`);
    // Through the API and the ledger, not the page's words: her container finds the fill's
    // nullifier on the ledger, and the pharmacy's receipt is kept among her credentials.
    const listed = await page.evaluate(() => fetch('web/v1/prescriptions').then((r) => r.json()));
    const oxyRow = (listed.prescriptions || []).find((r) => /oxycodone/i.test(JSON.stringify(r.medication)));
    check(oxyRow && oxyRow.controlled === true && oxyRow.fills_used === 1, 'the ledger counts the controlled fill (GET web/v1/prescriptions)', JSON.stringify(oxyRow));
  }

  // Sign in by approving on the phone.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to your health container' }).waitFor();
  await page.getByRole('button', { name: 'Approve on my phone' }).click();
  const pending = await waitFor(async () => {
    const r = await run(M, ['phone', 'pending', '--store', 'alice-phone.db'], ENV);
    const list = json(r.stdout) || [];
    return list.find((x) => JSON.stringify(x).includes('browser_signin')) || null;
  }, { timeout: 15000, interval: 500 });
  check(Boolean(pending), 'the phone shows the browser sign-in request', JSON.stringify(pending));
  if (pending) {
    await cli(['phone', 'approve', '--store', 'alice-phone.db', '--', pending.id || pending.request_id], 'phone approve (browser sign-in)');
    check(await page.locator('#nav').waitFor({ state: 'visible', timeout: 20000 }).then(() => true, () => false), 'approving on the phone signs the browser in');
  }
  if (!(await page.locator('#nav').isVisible())) {
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#nav').waitFor({ state: 'visible', timeout: 15000 });
  }

  // Another owner's session cannot read this container.
  {
    const drLink = await setupLink(dr);
    const drContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page: drPage } = await newPage(drContext, dr.url, 'dr');
    await drPage.goto(drLink);
    await drPage.getByLabel('Name for this passkey').fill('Dr. Rivera’s laptop');
    await drPage.getByRole('button', { name: 'Create a passkey on this device' }).click();
    await drPage.getByRole('heading', { level: 1, name: 'Your records' }).waitFor({ timeout: 15000 });
    const drCookie = (await drContext.cookies(dr.url)).find((c) => c.name.startsWith('mdl_session_'));
    const drState = await drPage.evaluate(() => fetch('web/v1/state').then((r) => r.json()));
    const h = { Cookie: `${drCookie.name}=${drCookie.value}` };
    const st = await fetch(`${origin}/web/v1/state`, { headers: h }).then((r) => r.json());
    const pol = await fetch(`${origin}/owner/v1/policies`, { headers: h });
    const rec = await fetch(`${origin}/fhir/Observation`, { headers: h });
    const post = await fetch(`${origin}/owner/v1/policies`, { method: 'POST', headers: { ...h, 'X-CSRF-Token': drState.csrf, Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ effect: 'permit', subjects: [{ did: roles.drDid }], resource_types: ['*'], purposes: ['treatment'] }) });
    check(!st.signed_in && pol.status === 401 && (rec.status === 401 || rec.status === 403) && post.status >= 400,
      'another owner’s browser session (Dr. Rivera’s, at her container) means nothing at Alice’s: state signed out, policies 401, records refused, writes refused',
      `state ${st.signed_in}, policies ${pol.status}, fhir ${rec.status}, post ${post.status}`);
    await drContext.close();
  }

  // Counter regression: the authenticator's copy of the passkey with a lower signCount.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to your health container' }).waitFor();
  {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const c = credentials[0];
    check(credentials.length >= 1 && c.signCount >= 1, `the authenticator's passkey has a signature counter (${c && c.signCount})`);
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...c, signCount: 0 } });
    hx.expectingErrors = true;
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const err = await page.locator('#signin-message .error').innerText({ timeout: 15000 }).catch(() => '');
    hx.expectingErrors = false;
    const st = await page.evaluate(() => fetch('web/v1/state').then((r) => r.json()));
    check(!st.signed_in && err.length > 0, 'a passkey whose counter went back (a cloned authenticator) is refused, and the page says so', `signed_in ${st.signed_in}; ${err}`);
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...c, signCount: c.signCount + 100 } });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const back = await page.locator('#nav').waitFor({ state: 'visible', timeout: 15000 }).then(() => true, () => false);
    if (!back) {
      console.log(`# after the counter regression the passkey no longer signs in: ${await page.locator('#signin-message').innerText().catch(() => '')}`);
      // The server may disable a passkey after a regression; sign in with the phone instead.
      await page.getByRole('button', { name: 'Approve on my phone' }).click();
      const p2 = await waitFor(async () => (json((await run(M, ['phone', 'pending', '--store', 'alice-phone.db'], ENV)).stdout) || []).find((x) => JSON.stringify(x).includes('browser_signin')), { timeout: 15000, interval: 500 });
      if (p2) await run(M, ['phone', 'approve', '--store', 'alice-phone.db', '--', p2.id || p2.request_id], ENV);
      await page.locator('#nav').waitFor({ state: 'visible', timeout: 20000 }).catch(() => {});
    }
    check(await page.locator('#nav').isVisible(), 'signed in again after the counter check');
  }

  // Sign out everywhere: this browser, and the owner's bearer sessions, all end.
  await visit(page, 'devices', 'Devices and sign-in');
  const oldCookie = (await context.cookies(origin)).find((c) => c.name.startsWith('mdl_session_'));
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to your health container' }).waitFor({ timeout: 10000 });
  check(await page.locator('main').getByText('You are signed out everywhere').isVisible(), 'Sign out everywhere: the page says so');
  const oldState = await fetch(`${origin}/owner/v1/policies`, { headers: { Cookie: `${oldCookie && oldCookie.name}=${oldCookie && oldCookie.value}` } });
  check(oldState.status === 401, 'the old browser session no longer opens anything', oldState.status);
  const bearer = await fetch(`${origin}/owner/v1/policies`, { headers: { Authorization: `Bearer ${aliceBearer}` } });
  check(bearer.status === 401, 'the owner session of her wallet (CLI) ended too', bearer.status);

  // The same app mounted under /c/<name>/ on a shared host listener: every URL is relative.
  {
    await cli(['wallet', 'init', '--store', 'carol.wallet', '--kdf', 'test', '--mnemonic-out', 'carol.words'], 'wallet init carol');
    writeFileSync(join(work, 'carol.pass'), ENV.MEDALLION_PASSPHRASE);
    const port = await freePort();
    const base = `http://localhost:${port}/c/carol`;
    writeFileSync(join(work, 'host.json'), JSON.stringify({ listen: `127.0.0.1:${port}`, containers: [{ name: 'carol', dir: join(work, 'carol-box'), store: join(work, 'carol.wallet'), passphrase_file: join(work, 'carol.pass'), public_url: base }] }));
    const host = await startRole(M, 'host', ['host', 'serve', '--config', 'host.json'], ENV);
    const carol = (host.banner.containers || [])[0] || {};
    const hostLink = carol.setup_link || '';
    check(hostLink.startsWith(`${base}/#setup=`), 'host serve: the mounted container prints its setup link', hostLink);
    const hctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page: hp } = await newPage(hctx, `http://localhost:${port}`, 'carol');
    const paths = [];
    hp.on('request', (r) => paths.push(new URL(r.url()).pathname));
    await hp.goto(hostLink);
    await hp.getByRole('button', { name: 'Create a passkey on this device' }).click();
    const ok2 = await hp.getByRole('heading', { level: 1, name: 'Your records' }).waitFor({ timeout: 15000 }).then(() => true, () => false);
    await hp.locator('#main:not([aria-busy])').waitFor({ timeout: 15000 }).catch(() => {});
    const outside = paths.filter((p) => !p.startsWith('/c/carol/'));
    check(ok2 && outside.length === 0, 'under /c/carol/ the app loads, registers and signs in, and asks nothing outside its base', outside.slice(0, 5).join(' '));
    const hc = (await hctx.cookies(`http://localhost:${port}/c/carol/`)).find((c) => c.name.startsWith('mdl_session_'));
    check(hc && hc.path === '/c/carol/', 'the mounted container’s cookie is scoped to its base path', hc && hc.path);
    await axe(hp, 'home under /c/<name>/');
    // The event stream is served by the shared listener itself: it streams (its greeting comes
    // while the response is still open) rather than answering one finished replay.
    const streamed = await hp.evaluate(async () => {
      const ctl = new AbortController();
      const r = await fetch('web/v1/events', { signal: ctl.signal });
      const { value } = await r.body.getReader().read();
      ctl.abort();
      return { status: r.status, type: r.headers.get('content-type'), first: new TextDecoder().decode(value || new Uint8Array()) };
    });
    check(streamed.status === 200 && /text\/event-stream/.test(streamed.type || '') && streamed.first.includes(': medallion events'), 'under /c/carol/ the event stream streams', JSON.stringify(streamed));
    await hctx.close();
  }

  // Every response of the container carried the CSP; no CSP violation; no console error.
  check(hx.responsesWithoutCsp.length === 0 && hx.responses > 20, `the CSP header on every response the browser got (${hx.responses})`, hx.responsesWithoutCsp.slice(0, 5).join(' | '));
  const violations = await cspViolations(page);
  check(violations.length === 0, 'no CSP violation', violations.join(' | '));
  check(hx.consoleErrors.length === 0, 'no console error and no uncaught exception', hx.consoleErrors.slice(0, 5).join(' | '));
  check(['setup', 'signin', 'home', 'sharing', 'requests', 'prescriptions', 'disclosures', 'receipts', 'relationships', 'devices'].every((n) => hx.axeSeen.includes(n)), 'axe ran on every page');
  console.log(`# screenshots in ${SHOTS}`);
}

async function medicationRequestFile() {
  const mr = {
    resourceType: 'MedicationRequest', status: 'active', intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '308182', display: 'amoxicillin 500 mg oral capsule' }], text: 'amoxicillin 500 mg oral capsule' },
    subject: { reference: 'Patient/alice' }, requester: { reference: 'Practitioner/dr-rivera' }, authoredOn: new Date().toISOString().slice(0, 10),
    dosageInstruction: [{ text: '1 capsule three times a day for 7 days' }],
    dispenseRequest: { quantity: { value: 21, unit: 'capsule' }, numberOfRepeatsAllowed: 1 },
  };
  const p = join(work, 'medication-request.json');
  writeFileSync(p, JSON.stringify(mr));
  return p;
}

let code = 0;
try {
  await main();
} catch (err) {
  notOk('the walk-through ran to its end', err && err.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : String(err));
}
try {
  if (browser) await browser.close();
} catch {
  /* already gone */
}
clearTimeout(deadline);
code = summary() ? 1 : 0;
await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
if (process.env.MEDALLION_KEEP_TMP) console.log(`# kept ${work}`);
process.exit(code);
