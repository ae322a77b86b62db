// Every page of the app against mock_container.mjs: axe findings (all impacts) and screenshots
// at 390 and 1280 px into $OUT (default /tmp/mockshots). For working on the look; not a test.
// Usage: node mock_container.mjs 8099 & node mock_walk.mjs 8099
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
const O = `http://localhost:${process.argv[2] || 8099}`;
const OUT = process.env.OUT || '/tmp/mockshots';
mkdirSync(OUT, { recursive: true });
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.log('CONSOLE', m.text()); });
page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
page.on('dialog', (d) => d.accept());
await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error('CSP ' + e.violatedDirective + ' ' + e.blockedURI)));
const cdp = await ctx.newCDPSession(page);
await cdp.send('WebAuthn.enable');
await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
async function axe(name) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  for (const v of r.violations) console.log(`AXE ${name}: ${v.id} ${v.impact} ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}
async function shot(name) {
  for (const w of [390, 1280]) { await page.setViewportSize({ width: w, height: 844 }); await page.waitForTimeout(150); await page.screenshot({ path: `${OUT}/${name}-${w}.png`, fullPage: true }); }
  await page.setViewportSize({ width: 1280, height: 900 });
}
await page.goto(O + '/#setup=abc');
await page.getByRole('heading', { level: 1 }).waitFor();
await axe('setup'); await shot('setup');
await page.getByRole('button', { name: 'Create a passkey on this device' }).click();
await page.getByRole('heading', { level: 1, name: 'Your records' }).waitFor();
await page.waitForTimeout(500);
await axe('home'); await shot('home');
for (const [r, hd] of [['requests', 'Requests'], ['sharing', 'Sharing'], ['disclosures', 'Who saw what'], ['prescriptions', 'Prescriptions'], ['devices', 'Devices and sign-in'], ['receipts', 'Receipts']]) {
  await page.evaluate((x) => { location.hash = x; }, r);
  await page.getByRole('heading', { level: 1, name: hd }).waitFor();
  await page.waitForTimeout(400);
  if (r === 'sharing') { await page.getByRole('button', { name: 'New sharing rule' }).click(); }
  if (r === 'devices') { await page.getByRole('button', { name: 'Pair a phone' }).click(); await page.locator('#pairing-qr').waitFor(); }
  if (r === 'disclosures') { await page.getByRole('button', { name: 'Verify the log' }).click(); await page.waitForTimeout(300); }
  await axe(r); await shot(r);
}
await page.evaluate(() => fetch('mock/request', { method: 'POST' }));
await page.waitForTimeout(800);
console.log('toasts:', await page.locator('#toasts').innerText());
await page.getByRole('button', { name: 'Sign out', exact: true }).click();
await page.getByRole('heading', { level: 1, name: 'Sign in to your health container' }).waitFor();
await axe('signin'); await shot('signin');
await b.close();
