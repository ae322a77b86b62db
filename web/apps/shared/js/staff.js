// The shell of a staff app (the pharmacy counter, the society's desk): boot, sign-in with a
// passkey (or a one-time setup link that creates this device's passkey for a staff account),
// hash routing, sign-out, the announcer. Each app gives its routes and words.
import { h, clear, field, details } from './dom.js';
import * as api from './api.js';
import * as b64 from './b64.js';

// A sentence for an error; the technical detail goes in a <details>.
export function staffErrorWords(err, reasons = {}) {
  if (!err) return 'Something went wrong.';
  if (err.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out.';
  if (err.name === 'InvalidStateError') return 'This device already has a passkey for this account.';
  const r = err.reason || '';
  if (reasons[r]) return reasons[r];
  if (r === 'insufficient_role') return `Your role does not allow this. ${err.message || ''}`.trim();
  if (r === 'csrf_invalid') return 'This request did not come from this page. Reload and try again.';
  if (r === 'link_used') return 'This setup link was already used. Ask for a new one.';
  if (r === 'link_expired') return 'This setup link has expired. Ask for a new one.';
  if (r === 'link_unknown') return 'This setup link is not valid here.';
  if (r === 'passkey_unknown') return 'This passkey is not registered here (or was removed).';
  if (r === 'rate_limited') return 'Too many sign-in attempts. Wait a few minutes.';
  if (err.status === 401) return 'You are signed out.';
  if (err instanceof TypeError) return 'The server could not be reached.';
  return err.message || 'Something went wrong.';
}

export function errorBox(err, reasons) {
  return h('div', { class: 'message', role: 'alert' },
    h('p', { class: 'error' }, staffErrorWords(err, reasons)),
    details('Technical details', h('pre', { class: 'mono' }, err && err.body ? JSON.stringify(err.body) : String(err))));
}

function defaultDeviceName() {
  const ua = navigator.userAgent || '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iPhone or iPad' : /Mac/.test(ua) ? 'Mac' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'this device';
  return `Browser on ${os}`;
}

function signinPage(main, app, ctx) {
  const box = h('div', { class: 'message', id: 'signin-message', role: 'alert' });
  const supported = typeof window.PublicKeyCredential !== 'undefined' && navigator.credentials;
  const fail = (err) => box.replaceChildren(errorBox(err, app.reasons));
  const info = (text) => box.replaceChildren(h('p', { class: 'info' }, text));
  if (ctx.setupToken) {
    const name = h('input', { type: 'text', name: 'passkey-name', value: defaultDeviceName(), maxlength: '64', autocomplete: 'off', required: true });
    const button = h('button', { type: 'submit', class: 'button primary' }, 'Create a passkey on this device');
    const form = h('form', { class: 'card stack', id: 'setup-form', novalidate: true },
      h('h2', {}, app.setupTitle || 'Set up your staff account on this device'),
      h('p', {}, 'A passkey lets you sign in with this device’s screen lock. Nothing secret leaves the device.'),
      field('Name for this passkey', name, 'So you can recognise it later.'),
      button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      info('Follow your browser’s prompt to create the passkey…');
      try {
        const options = await api.post('web/v1/passkeys/register/options', { link: ctx.setupToken }, { allow401: true });
        const cred = await navigator.credentials.create({ publicKey: b64.creationOptions(options) });
        if (!cred) throw new Error('no passkey was created');
        await api.post('web/v1/passkeys/register', { name: name.value.trim() || 'Passkey', credential: b64.attestationJson(cred) }, { allow401: true });
        ctx.setupToken = '';
        announce('Your passkey is set up. You are signed in.');
        await ctx.signedIn();
      } catch (err) {
        button.disabled = false;
        fail(err);
      }
    });
    main.append(h('h1', {}, `Welcome to ${app.title}`), supported ? form : h('p', { class: 'error' }, 'This browser cannot use passkeys.'), box);
    return;
  }
  const button = h('button', { type: 'button', class: 'button primary', id: 'passkey-signin' }, 'Sign in with a passkey');
  button.addEventListener('click', async () => {
    button.disabled = true;
    info('Follow your browser’s prompt to use your passkey…');
    try {
      const options = await api.post('web/v1/signin/options', {}, { allow401: true });
      const cred = await navigator.credentials.get({ publicKey: b64.requestOptions(options), mediation: 'optional' });
      if (!cred) throw new Error('no passkey was chosen');
      await api.post('web/v1/signin', { credential: b64.assertionJson(cred) }, { allow401: true });
      announce('You are signed in.');
      await ctx.signedIn();
    } catch (err) {
      button.disabled = false;
      fail(err);
    }
  });
  main.append(
    h('h1', {}, `Sign in to ${app.title}`),
    ctx.message ? h('p', { class: 'notice', role: 'status' }, ctx.message) : null,
    h('div', { class: 'card stack' },
      h('h2', {}, app.signinTitle || 'Staff sign-in'),
      h('p', {}, 'Use the passkey you set up on this device.'),
      supported ? button : h('p', { class: 'error' }, 'This browser cannot use passkeys.')),
    box,
    h('p', { class: 'hint' }, app.newcomerHint));
}

export function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// app: {title, routes: {name: {title, page}}, home, reasons, newcomerHint, who?(state),
// setupTitle?} — also the physician's workspace (one person, her own container's sign-in).
export function startStaffApp(app) {
  const main = document.getElementById('main');
  const ctx = { state: null, setupToken: '', message: '', announce, signedIn, render, go, app };

  function go(route) {
    if (window.location.hash === `#${route}`) render();
    else window.location.hash = route;
  }
  function currentRoute() {
    const r = window.location.hash.replace(/^#/, '').split('?')[0];
    return app.routes[r] ? r : app.home;
  }
  async function render({ focus = true } = {}) {
    const signed = ctx.state && ctx.state.signed_in;
    document.getElementById('nav').hidden = !signed;
    document.getElementById('top-actions').hidden = !signed;
    const who = document.getElementById('who');
    if (who) who.textContent = !signed ? '' : app.who ? app.who(ctx.state) : `${ctx.state.account.display_name} (${ctx.state.account.role})`;
    if (ctx.stop) ctx.stop();
    ctx.stop = null;
    clear(main);
    if (!signed) {
      document.title = `Sign in — ${app.title}`;
      signinPage(main, app, ctx);
    } else {
      const route = currentRoute();
      for (const a of document.querySelectorAll('#nav a')) {
        if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
      document.title = `${app.routes[route].title} — ${app.title}`;
      try {
        await app.routes[route].page.render(main, ctx);
      } catch (err) {
        clear(main);
        main.append(h('h1', {}, app.routes[route].title), errorBox(err, app.reasons));
      }
    }
    if (focus) {
      const h1 = main.querySelector('h1');
      if (h1) {
        h1.setAttribute('tabindex', '-1');
        h1.focus();
      }
    }
  }
  async function signedIn() {
    ctx.state = await api.state();
    ctx.message = '';
    await render();
  }
  function signedOut(message) {
    api.setCsrf('');
    ctx.state = { ...(ctx.state || {}), signed_in: false };
    ctx.message = message;
    render();
  }
  api.onSignedOut(() => {
    if (ctx.state && ctx.state.signed_in) signedOut('Your session has ended. Sign in again.');
  });
  async function boot() {
    const m = window.location.hash.match(/^#setup=([A-Za-z0-9_-]+)/);
    if (m) {
      ctx.setupToken = m[1];
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    }
    document.getElementById('skip-link').addEventListener('click', (ev) => {
      ev.preventDefault();
      const target = main.querySelector('h1') || main;
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus();
    });
    document.getElementById('signout-button').addEventListener('click', async () => {
      try {
        await api.post('web/v1/signout', {});
      } catch (err) {
        if (err.status !== 401) return;
      }
      signedOut('You are signed out.');
    });
    window.addEventListener('hashchange', () => {
      if (/^#setup=/.test(window.location.hash)) {
        window.location.reload();
        return;
      }
      render();
    });
    try {
      ctx.state = await api.state();
    } catch (err) {
      clear(main);
      main.append(h('h1', {}, `${app.title} cannot be reached`), errorBox(err, app.reasons));
      return;
    }
    await render({ focus: false });
  }
  boot();
  return ctx;
}
