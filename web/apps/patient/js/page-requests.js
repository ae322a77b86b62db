// Requests: access requests waiting for the owner's decision — who asks, for what, why, and
// for how long — approved or denied with owner/v1/requests/<id>/decision; live through the
// event stream.
import { h, clear, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { didWords, credentialWords, typePlural, scopeWords, purposeWords, listWords, when, isoAttr, errorWords, capital } from './words.js';

let listener = null;

const KINDS = {
  browser_signin: 'A browser asks to sign in to your container',
  prescription_cosign: 'A prescription to co-sign',
  fill: 'A pharmacy fill to authorize',
  recovery: 'A recovery of your identity',
};

function requestCard(r, ctx, reload, done) {
  const s = r.summary || {};
  // A physician's license names her (the society's directory) and was checked active — not
  // revoked or suspended — when she asked.
  const license = (s.credentials || []).find((c) => (c.types || []).includes('MedicalLicenseCredential'));
  const lf = (license && license.facts) || {};
  const who = lf.name || capital(didWords(s.requesting_party, ctx.ownerDid));
  const creds = (s.credentials || []).map(credentialWords);
  const licenseLine = license
    ? [`Licensed ${lf.licenseType || 'physician'}${lf.specialty ? ` (${lf.specialty})` : ''}${lf.jurisdiction ? `, ${lf.jurisdiction}` : ''}${lf.licenseNumber ? `, license ${lf.licenseNumber}` : ''}, from ${didWords(license.issuer)}. `,
      h('strong', { class: 'license-status' }, lf.status === 'active' ? 'License active' : 'License status unknown'), lf.status === 'active' ? ' (checked when they asked: not revoked, not suspended).' : '.']
    : null;
  const perms = s.permissions || [];
  const what = perms.map((p) => `${listWords((p.resource_scopes || []).map(scopeWords))} in ${typePlural(p.type || p.name)}`);
  const others = (s.approvers || []).filter((a) => a !== 'owner');
  const status = h('div', { role: 'status', class: 'message' });
  const decide = async (decision, button) => {
    for (const b of buttons) b.disabled = true;
    try {
      await api.post(`owner/v1/requests/${encodeURIComponent(r.id)}/decision`, { decision });
      const text = decision === 'approve' ? `You approved the request from ${didWords(s.requesting_party, ctx.ownerDid)}.` : `You denied the request from ${didWords(s.requesting_party, ctx.ownerDid)}.`;
      ctx.announce(text);
      done.replaceChildren(h('p', { class: 'ok' }, text));
      ctx.refreshBadge();
      await reload();
    } catch (err) {
      for (const b of buttons) b.disabled = false;
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
      button.focus();
    }
  };
  const approve = h('button', { type: 'button', class: 'button primary', 'aria-describedby': `req-${r.id}-title` }, 'Approve');
  const deny = h('button', { type: 'button', class: 'button danger', 'aria-describedby': `req-${r.id}-title` }, 'Deny');
  const buttons = [approve, deny];
  approve.addEventListener('click', () => decide('approve', approve));
  deny.addEventListener('click', () => decide('deny', deny));
  return h('li', { class: 'card request', dataset: { request: r.id } },
    h('h3', { id: `req-${r.id}-title` }, `${who} asks for access`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Who'), h('dd', {}, who, creds.length ? `, who showed ${listWords(creds)}` : ', who showed no credential'),
      licenseLine ? [h('dt', {}, 'License'), h('dd', {}, licenseLine)] : null,
      h('dt', {}, 'Identifier'), h('dd', {}, capital(didWords(s.requesting_party, ctx.ownerDid))),
      h('dt', {}, 'What'), h('dd', {}, what.length ? `To ${listWords(what)}` : 'Nothing specific'),
      h('dt', {}, 'Why'), h('dd', {}, capital(purposeWords(s.purpose))),
      h('dt', {}, 'How long'), h('dd', {}, 'Until you revoke the sharing rule it falls under; each access pass lasts at most one hour and is renewed only while your rules allow it.'),
      h('dt', {}, 'Asked'), h('dd', {}, h('time', { datetime: isoAttr(r.created) }, when(r.created))),
      others.length ? [h('dt', {}, 'Also needs'), h('dd', {}, `The approval of ${listWords(others.map((d) => didWords(d, ctx.ownerDid)))}`)] : null),
    h('div', { class: 'actions' }, approve, deny),
    status,
    details('Technical details',
      h('p', {}, 'Request id: ', h('code', { class: 'mono' }, r.id)),
      h('p', {}, 'Requester: ', h('code', { class: 'mono' }, s.requesting_party || '—')),
      h('p', {}, 'App (client id): ', h('code', { class: 'mono' }, s.client_id || '—')),
      h('pre', { class: 'mono' }, JSON.stringify(s, null, 2))));
}

function decidedItem(r, ctx) {
  const s = r.summary || {};
  return h('li', {},
    h('strong', {}, r.status === 'approved' ? 'Approved' : 'Denied'), ': ',
    capital(didWords(s.requesting_party, ctx.ownerDid)), ' — ',
    listWords((s.permissions || []).map((p) => typePlural(p.type || p.name))), ' ',
    purposeWords(s.purpose), ' (asked ', h('time', { datetime: isoAttr(r.created) }, when(r.created)), ')');
}

export async function render(main, ctx) {
  const pendingBox = h('div', { id: 'pending-requests', 'aria-live': 'polite' });
  const done = h('div', { class: 'message', id: 'requests-status' });
  const decidedBox = h('div', {});
  const phoneBox = h('div', {});
  main.append(
    h('h1', {}, 'Requests'),
    h('p', { class: 'lead' }, 'When a sharing rule says “ask me first”, requests wait here for you. New ones appear on their own.'),
    done,
    h('h2', {}, 'Waiting for you'), pendingBox,
    phoneBox,
    h('h2', {}, 'Decided'), decidedBox);

  async function reload() {
    const all = await api.get('owner/v1/requests');
    const list = Array.isArray(all) ? all : [];
    const isConsent = (r) => !(r.summary || {}).kind || r.summary.kind === 'consent';
    const pending = list.filter((r) => r.status === 'pending' && isConsent(r));
    const onPhone = list.filter((r) => r.status === 'pending' && !isConsent(r));
    const decided = list.filter((r) => r.status !== 'pending').slice(-20).reverse();
    clear(pendingBox);
    if (!pending.length) pendingBox.append(h('p', { class: 'empty' }, 'No request is waiting for you.'));
    else pendingBox.append(h('ul', { class: 'cards' }, pending.slice().reverse().map((r) => requestCard(r, ctx, reload, done))));
    clear(phoneBox);
    if (onPhone.length) {
      phoneBox.append(h('h2', {}, 'Waiting for your phone'),
        h('p', {}, 'These need a signature from your paired phone: open Medallion on the phone to decide.'),
        h('ul', { class: 'plain-list' }, onPhone.map((r) => h('li', {}, KINDS[r.summary.kind] || r.summary.kind, ' (since ', h('time', { datetime: isoAttr(r.created) }, when(r.created)), ')'))));
    }
    clear(decidedBox);
    if (!decided.length) decidedBox.append(h('p', { class: 'empty' }, 'Nothing decided yet.'));
    else decidedBox.append(h('ul', { class: 'plain-list' }, decided.map((r) => decidedItem(r, ctx))));
  }

  if (listener) window.removeEventListener('medallion:event', listener);
  listener = (ev) => {
    if (!main.contains(pendingBox)) {
      window.removeEventListener('medallion:event', listener);
      listener = null;
      return;
    }
    if (ev.detail.type === 'request_awaiting_approval') reload().catch(() => {});
  };
  window.addEventListener('medallion:event', listener);
  await reload();
}
