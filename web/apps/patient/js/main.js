// The patient's container as a web app: boot, sign-in state, hash routing, the live event
// stream (Server-Sent Events) and the shared announcer. Plain ES modules, no framework.
import { h, clear } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorWords, typePlural, didWords } from './words.js';
import * as signin from './page-signin.js';
import * as home from './page-home.js';
import * as requests from './page-requests.js';
import * as sharing from './page-sharing.js';
import * as disclosures from './page-disclosures.js';
import * as prescriptions from './page-prescriptions.js';
import * as devices from './page-devices.js';
import * as receipts from './page-receipts.js';
import * as relationships from './page-relationships.js';
import * as present from './page-present.js';

const ROUTES = {
  home: { title: 'Your records', page: home },
  requests: { title: 'Requests', page: requests },
  sharing: { title: 'Sharing', page: sharing },
  disclosures: { title: 'Who saw what', page: disclosures },
  prescriptions: { title: 'Prescriptions', page: prescriptions },
  devices: { title: 'Devices and sign-in', page: devices },
  receipts: { title: 'Receipts', page: receipts },
  relationships: { title: 'Relationships', page: relationships },
  present: { title: 'Show credentials', page: present },
};

const main = document.getElementById('main');
const ctx = {
  state: null,
  ownerDid: '',
  setupToken: '',
  events: null,
  announce,
  toast,
  go,
  refreshBadge,
  signedIn,
  signOut,
  render,
};

// Screen-reader announcements (a polite live region; the text is replaced each time).
function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// A visible notification (kept in a role=log region, newest last, at most five).
function toast(text, link) {
  const box = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss notification' }, '×');
  const item = h('div', { class: 'toast' }, h('p', {}, text, link ? [' ', h('a', { href: link[0] }, link[1])] : null), close);
  close.addEventListener('click', () => item.remove());
  box.append(item);
  while (box.children.length > 3) box.firstElementChild.remove();
  window.setTimeout(() => item.remove(), 15000);
}

function go(route) {
  if (window.location.hash === `#${route}`) render();
  else window.location.hash = route;
}

function currentRoute() {
  const r = window.location.hash.replace(/^#/, '').split('?')[0];
  return ROUTES[r] ? r : 'home';
}

let renderSeq = 0;
async function render({ focus = true } = {}) {
  renderSeq += 1;
  const seq = renderSeq;
  const signed = ctx.state && ctx.state.signed_in;
  document.getElementById('nav').hidden = !signed;
  document.getElementById('top-actions').hidden = !signed;
  clear(main);
  main.setAttribute('aria-busy', 'true');
  try {
    await renderPage(signed, seq);
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  if (seq !== renderSeq) return;
  if (focus) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: false });
    }
  }
}

async function renderPage(signed, seq) {
  if (!signed) {
    document.title = 'Sign in — Medallion';
    await signin.render(main, ctx);
  } else {
    const route = currentRoute();
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${ROUTES[route].title} — Medallion`;
    try {
      await ROUTES[route].page.render(main, ctx);
    } catch (err) {
      if (seq !== renderSeq) return;
      clear(main);
      main.append(h('h1', { tabindex: '-1' }, ROUTES[route].title), h('p', { class: 'error', role: 'alert' }, errorWords(err)));
    }
  }
}

// The live stream of the owner's notifications (docs/web.md: GET web/v1/events).
const EVENT_TYPES = ['request_awaiting_approval', 'new_disclosure', 'new_prescription', 'new_credential', 'relationship', 'new_device'];

const PHONE_APPROVAL_WORDS = {
  browser_signin: 'A browser asks to sign in to your container: decide on your phone.',
  fill: 'Approve this fill on your phone.',
  prescription_cosign: 'Your phone asks you to co-sign a prescription.',
  recovery: 'Your phone asks you to approve a recovery.',
  consent: 'Your phone has a consent request for you to approve.',
};

function eventText(type, d) {
  switch (type) {
    case 'request_awaiting_approval':
      // Her own approvals, queued for her phone, are not someone's access request.
      if (d.event === 'approval.queued') return PHONE_APPROVAL_WORDS[d.kind] || 'Your phone has a request for you to approve.';
      return `New request: ${didWords(d.requesting_party, ctx.ownerDid)} asks to see your records. It waits for your decision.`;
    case 'new_disclosure':
      return `${capitalize(didWords(d.requesting_party, ctx.ownerDid))} used ${typeFromRecords(d)}.`;
    case 'new_prescription':
      return 'A new prescription arrived in your inbox.';
    case 'new_credential':
      return 'A new credential arrived in your inbox.';
    case 'relationship':
      return 'A care relationship changed.';
    case 'new_device':
      return `A new device was paired${d.device_name ? `: ${d.device_name}` : ''}.`;
    default:
      return 'Something happened in your container.';
  }
}

function typeFromRecords(d) {
  const r = (d.records || [])[0] || '';
  return r ? typePlural(r.split('/')[0]) : 'your records';
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

const LINKS = {
  request_awaiting_approval: ['#requests', 'Review requests'],
  new_disclosure: ['#disclosures', 'See the log'],
  new_prescription: ['#prescriptions', 'See prescriptions'],
  new_device: ['#devices', 'See devices'],
};

async function startEvents() {
  stopEvents();
  if (typeof EventSource === 'undefined') return;
  if (!ctx.eventsSince) ctx.eventsSince = Math.floor(Date.now() / 1000) - 2;
  // Start at the log's head: without Last-Event-ID the stream would replay every event.
  let after = '';
  try {
    const page = await api.get('owner/v1/disclosures?after=9007199254740991&limit=1');
    if (page && page.head && Number.isInteger(page.head.seq)) after = `?after=${page.head.seq}`;
  } catch {
    after = '';
  }
  if (ctx.events || !(ctx.state && ctx.state.signed_in)) return;
  const es = new EventSource(`web/v1/events${after}`);
  ctx.events = es;
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (ev) => {
      let detail = {};
      try {
        const data = JSON.parse(ev.data);
        detail = data.detail || data;
      } catch {
        detail = {};
      }
      // Only what happened after this page opened is news (the stream may replay older events).
      if (typeof detail.ts === 'number' && detail.ts < ctx.eventsSince) return;
      // Her own reads and writes from this page are not news to her.
      if (type === 'new_disclosure' && detail.requesting_party === ctx.ownerDid) {
        window.dispatchEvent(new CustomEvent('medallion:event', { detail: { type, detail } }));
        return;
      }
      const text = eventText(type, detail);
      // On the page the news belongs to, the page itself updates: announce it, no notification.
      const here = LINKS[type] && currentRoute() === LINKS[type][0].slice(1);
      // Her own phone approvals are decided on the phone: no link to the Requests page.
      if (!here) toast(text, detail.event === 'approval.queued' ? null : LINKS[type] || null);
      announce(text);
      refreshBadge();
      window.dispatchEvent(new CustomEvent('medallion:event', { detail: { type, detail } }));
    });
  }
  // The server ends the stream with `signed_out` when the session is gone.
  es.addEventListener('signed_out', () => {
    es.close();
    if (ctx.state && ctx.state.signed_in) onSignedOut();
  });
  es.addEventListener('error', async () => {
    if (es.readyState === EventSource.CLOSED) {
      try {
        const s = await api.state();
        if (!s.signed_in) onSignedOut();
        else window.setTimeout(startEvents, 3000);
      } catch {
        /* the container is away; the browser does not retry a closed stream: try later */
        window.setTimeout(startEvents, 5000);
      }
    }
  });
}

function stopEvents() {
  if (ctx.events) ctx.events.close();
  ctx.events = null;
}

async function refreshBadge() {
  const badge = document.getElementById('requests-badge');
  try {
    const pending = await api.get('owner/v1/requests?status=pending');
    // Consent requests only: the phone decides the others (sign-ins, co-signatures, fills).
    const n = Array.isArray(pending) ? pending.filter((r) => !r.summary || !r.summary.kind || r.summary.kind === 'consent').length : 0;
    badge.hidden = n === 0;
    badge.textContent = n ? `${n} waiting` : '';
  } catch {
    badge.hidden = true;
  }
}

async function signedIn() {
  ctx.state = await api.state();
  ctx.ownerDid = (ctx.state.owner && ctx.state.owner.did) || '';
  ctx.setupToken = '';
  if (ctx.state.signed_in) {
    ctx.eventsSince = Math.floor(Date.now() / 1000) - 2;
    startEvents();
    refreshBadge();
    const route = currentRoute();
    if (window.location.hash !== `#${route}`) window.history.replaceState(null, '', `#${route}`);
  }
  await render();
}

async function signOut(everywhere = false) {
  try {
    await api.post(everywhere ? 'web/v1/signout-all' : 'web/v1/signout', {});
  } catch (err) {
    if (err.status !== 401) {
      toast(errorWords(err));
      return;
    }
  }
  onSignedOut(everywhere ? 'You are signed out everywhere: every browser and every owner session has ended.' : 'You are signed out.');
}

function onSignedOut(message = 'Your session has ended. Sign in again.') {
  stopEvents();
  // Notifications name people and records: they leave with the session.
  clear(document.getElementById('toasts'));
  clear(document.getElementById('announce'));
  document.getElementById('requests-badge').hidden = true;
  api.setCsrf('');
  ctx.state = { ...(ctx.state || {}), signed_in: false };
  ctx.signinMessage = message;
  render();
}

api.onSignedOut(() => {
  if (ctx.state && ctx.state.signed_in) onSignedOut();
});

async function boot() {
  // A setup link (#setup=<token>) registers this device's passkey. The token leaves the
  // address bar at once (it is single use and must not stay in the history).
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
  document.getElementById('signout-button').addEventListener('click', () => signOut(false));
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
    main.append(h('h1', {}, 'Your container cannot be reached'), h('p', { class: 'error', role: 'alert' }, errorWords(err)));
    return;
  }
  ctx.ownerDid = (ctx.state.owner && ctx.state.owner.did) || '';
  if (ctx.state.signed_in) {
    startEvents();
    refreshBadge();
  }
  await render({ focus: false });
}

boot();
