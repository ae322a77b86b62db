// Who saw what: the accounting of disclosures as a timeline (owner/v1/disclosures), filtered by
// party and kind; the export (owner/v1/disclosures/export) and its verification
// (web/v1/disclosures/verify).
import { h, clear, field, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { didWords, typePlural, scopeWords, when, isoAttr, errorWords, errorDetail, capital, purposeWords } from './words.js';
import { loadLog } from './log.js';

const KINDS = [
  ['release', 'Records seen or written'],
  ['decision', 'Access decisions'],
  ['approval', 'Approvals'],
  ['policy', 'Sharing rules'],
  ['owner', 'Your sign-ins'],
  ['device', 'Devices'],
  ['credential', 'Credentials received'],
  ['client', 'Apps registered'],
  ['token', 'Access passes revoked'],
  ['other', 'Other'],
];

function kindOf(e) {
  const ev = String(e.event || '');
  const head = ev.split('.')[0];
  return KINDS.some(([k]) => k === head) ? head : 'other';
}

function partyOf(e) {
  return e.requesting_party || (e.event === 'owner.signin' ? e.did : '') || (e.event === 'approval' && e.approver !== 'owner' ? e.approver : '') || '';
}

const RELEASE_VERBS = { read: 'opened', search: 'listed', create: 'added', update: 'changed' };

function describe(e, ctx) {
  const who = capital(didWords(e.requesting_party, ctx.ownerDid));
  switch (e.event) {
    case 'release': {
      const recs = e.records || [];
      const type = recs.length ? typePlural(recs[0].split('/')[0]) : 'your records';
      const n = recs.length;
      return `${who} ${RELEASE_VERBS[e.scope] || e.scope} ${n === 1 ? 'one of' : n ? `${n} of` : ''} ${type}`.replace(/\s+/g, ' ');
    }
    case 'decision': {
      const o = e.outcome || '';
      const why = e.purpose ? ` ${purposeWords(e.purpose)}` : '';
      if (o === 'granted') return `${who} was given access${why}`;
      if (o === 'request_submitted') return `${who} asked for access${why}; it waits for approval`;
      if (o === 'request_denied') return `${who} was refused access${why}`;
      if (o === 'need_info') return `An app was asked to show who it acts for`;
      return `Access decision for ${didWords(e.requesting_party, ctx.ownerDid)}: ${o.replace(/_/g, ' ') || 'recorded'}`;
    }
    case 'approval':
      return `${e.approver === 'owner' ? 'You' : capital(didWords(e.approver, ctx.ownerDid))} ${e.decision === 'approve' ? 'approved' : 'denied'} a request`;
    case 'approval.queued':
      return 'A request was sent to your phone';
    case 'policy.add':
      return 'You added a sharing rule';
    case 'policy.revoke':
      return `You revoked a sharing rule${e.tokens_revoked ? ` (${e.tokens_revoked} access pass${e.tokens_revoked === 1 ? '' : 'es'} stopped)` : ''}`;
    case 'owner.signin':
      return e.outcome === 'refused' ? 'A sign-in as you was refused' : 'You signed in';
    case 'owner.signout':
      return e.everywhere ? 'You signed out everywhere' : 'You signed out';
    case 'device.pairing_offer':
      return 'You asked to pair a phone';
    case 'device.paired':
      return `A phone was paired${e.device_name ? `: ${e.device_name}` : ''}`;
    case 'device.revoked':
      return 'You removed a device';
    case 'device.pairing_refused':
      return 'A pairing attempt was refused';
    case 'credential.received':
      return `A credential arrived in your inbox from ${didWords(e.issuer, ctx.ownerDid)}`;
    case 'credential.stored':
      return 'You kept a credential';
    case 'client.register':
      return `An app registered${e.client_name ? `: ${e.client_name}` : ''}`;
    case 'token.revoke':
      return 'An access pass was revoked';
    default:
      return capital(String(e.event || 'event').replace(/[._]/g, ' '));
  }
}

function entryItem(e, ctx) {
  const scopeLine = e.event === 'release' && e.scope ? ` (${scopeWords(e.scope)})` : '';
  return h('li', { class: `event kind-${kindOf(e)}`, dataset: { seq: String(e.seq) } },
    h('p', { class: 'event-when' }, h('time', { datetime: isoAttr(e.ts) }, when(e.ts))),
    h('p', { class: 'event-what' }, describe(e, ctx), scopeLine),
    details('Technical details', h('pre', { class: 'mono' }, JSON.stringify(e, null, 2))));
}

export async function render(main, ctx) {
  const partySelect = h('select', { name: 'party', id: 'filter-party' }, h('option', { value: '' }, 'Everyone'));
  const kindSelect = h('select', { name: 'kind', id: 'filter-kind' }, h('option', { value: '' }, 'Everything'), KINDS.map(([k, label]) => h('option', { value: k }, label)));
  const timeline = h('div', { id: 'timeline' });
  const count = h('p', { class: 'meta', role: 'status' });
  const verifyButton = h('button', { type: 'button', class: 'button primary', id: 'verify-log' }, 'Verify the log');
  const verifyResult = h('div', { class: 'message', id: 'verify-result', role: 'status' });
  const exportLink = h('a', { href: 'owner/v1/disclosures/export', download: 'disclosure-log.json', class: 'button', id: 'export-log' }, 'Download the whole log (JSON)');

  verifyButton.addEventListener('click', async () => {
    verifyButton.disabled = true;
    verifyResult.replaceChildren(h('p', {}, 'Checking every entry and its anchors on the ledger…'));
    try {
      const r = await api.post('web/v1/disclosures/verify', {});
      const anchors = r.anchors || [];
      const included = anchors.filter((a) => a.included).length;
      const text = r.valid
        ? `The log is intact: ${r.entries} entries, each chained to the one before${anchors.length ? `; ${included} of ${anchors.length} anchors found on the ledger` : '; it has no ledger anchor yet'}.`
        : `The log does NOT verify${r.reason ? ` (${String(r.reason).replace(/_/g, ' ')})` : ''}. Keep a copy and contact your container’s host.`;
      verifyResult.replaceChildren(h('p', { class: r.valid ? 'ok' : 'error' }, text), details('Technical details', h('pre', { class: 'mono' }, JSON.stringify(r, null, 2))));
      ctx.announce(text);
    } catch (err) {
      verifyResult.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
    } finally {
      verifyButton.disabled = false;
    }
  });

  main.append(
    h('h1', {}, 'Who saw what'),
    h('p', { class: 'lead' }, 'Every time anyone asks for, sees or writes your records, your container writes it here first. Each entry is chained to the one before, and the chain is anchored on a public ledger, so it cannot be changed quietly.'),
    h('div', { class: 'card stack' }, h('h2', {}, 'Check and keep'), h('div', { class: 'actions' }, verifyButton, exportLink), verifyResult),
    h('h2', {}, 'Timeline'),
    h('div', { class: 'filters' }, field('Who', partySelect), field('What', kindSelect)),
    count, timeline);

  const { entries } = await loadLog();
  const parties = [...new Set(entries.map(partyOf).filter(Boolean))];
  for (const p of parties) partySelect.append(h('option', { value: p }, capital(didWords(p, ctx.ownerDid))));

  const draw = () => {
    const party = partySelect.value;
    const kind = kindSelect.value;
    const shown = entries.filter((e) => (!party || partyOf(e) === party) && (!kind || kindOf(e) === kind)).slice().reverse();
    count.textContent = `${shown.length} of ${entries.length} entries, newest first.`;
    clear(timeline);
    if (!shown.length) timeline.append(h('p', { class: 'empty' }, 'Nothing matches.'));
    else timeline.append(h('ol', { class: 'timeline', reversed: true }, shown.slice(0, 500).map((e) => entryItem(e, ctx))));
  };
  partySelect.addEventListener('change', draw);
  kindSelect.addEventListener('change', draw);
  draw();
}
