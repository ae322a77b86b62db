// What the browser suites share besides lib.mjs: pages with a CDP virtual authenticator and
// watchers (console errors, CSP violations, the CSP header on every response), axe-core, and
// screenshots at 390 px and 1280 px.
import { AxeBuilder } from '@axe-core/playwright';
import { join } from 'node:path';
import { check, notOk, sleep } from './lib.mjs';

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function makeHarness(shots) {
  const hx = {
    consoleErrors: [],
    responsesWithoutCsp: [],
    responses: 0,
    axeSeen: [],
    expectingErrors: false,  // deliberate refusals (4xx) log "Failed to load resource"
    pages: [],
  };

  // A page in `context` (one person), watched, with a virtual authenticator (CTAP2, internal,
  // resident keys, user verification).
  hx.newPage = async (context, origin, label) => {
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (hx.expectingErrors && /Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
      hx.consoleErrors.push(`${label}: ${text}`);
    });
    page.on('pageerror', (err) => hx.consoleErrors.push(`${label}: pageerror ${err.message}`));
    page.on('dialog', (d) => d.accept());
    page.on('response', (r) => {
      if (!r.url().startsWith(origin)) return;
      hx.responses += 1;
      const csp = r.headers()['content-security-policy'];
      if (csp !== CSP) hx.responsesWithoutCsp.push(`${r.status()} ${r.url()} → ${csp}`);
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    hx.pages.push({ page, label });
    return { page, cdp, authenticatorId };
  };

  hx.axe = async (page, name) => {
    try {
      const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
      const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      hx.axeSeen.push(name);
      check(bad.length === 0, `axe: no serious or critical violation on ${name}`,
        bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('; '));
    } catch (err) {
      notOk(`axe ran on ${name}`, err.message);
    }
  };

  hx.shoot = async (page, name) => {
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await sleep(150);
      await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  // Every page's CSP violations so far, and the console errors: none allowed.
  hx.finalChecks = async () => {
    const violations = [];
    for (const { page, label } of hx.pages) {
      const v = await page.evaluate(() => window.__cspViolations || []).catch(() => []);
      for (const x of v) violations.push(`${label}: ${x}`);
    }
    check(violations.length === 0, 'no CSP violation in any page', violations.join('; '));
    check(hx.consoleErrors.length === 0, 'no console error or uncaught exception in any page', hx.consoleErrors.slice(0, 5).join(' | '));
    check(hx.responses > 0 && hx.responsesWithoutCsp.length === 0, `the CSP header on every response the browsers received (${hx.responses})`, hx.responsesWithoutCsp.slice(0, 3).join(' | '));
  };
  return hx;
}

// Goes to a route of an app and waits for its heading.
export async function visit(page, route, heading) {
  await page.evaluate((r) => {
    window.location.hash = r;
  }, route);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 15000 });
}

// A fetch from the page (its cookie, its origin), with the CSRF token when asked.
export async function pageFetch(page, method, path, body, { csrf = true } = {}) {
  return page.evaluate(async ({ method, path, body, csrf }) => {
    const headers = { 'Content-Type': 'application/json' };
    if (csrf) {
      const s = await fetch('web/v1/state').then((r) => r.json());
      if (s.csrf) headers['X-CSRF-Token'] = s.csrf;
    }
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch { data = null; }
    return { status: r.status, body: data };
  }, { method, path, body, csrf });
}
