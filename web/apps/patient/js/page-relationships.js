// Relationships: the providers who opened a relationship with one of her pairwise pseudonyms on
// the ledger (docs/relationships.md), rebuilt by her container from her seed
// (GET web/v1/relationships); accept, reject or delete each (POST web/v1/relationships/decision),
// and a fresh pseudonym to give a new provider (POST web/v1/relationships/pseudonym).
import { h, clear, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorWords, errorDetail, capital } from './words.js';

const KIND_WORDS = { patient_provider: 'care relationship' };
const STATUS_WORDS = { active: 'active', suspended: 'paused by the provider', ended: 'ended by the provider' };

function short(p) { return p ? `…${String(p).slice(-6)}` : '?'; }

function decisionWords(r) {
  if (r.deleted) return 'You deleted it.';
  if (r.patient_decision === 'accepted') return 'You accepted it.';
  if (r.patient_decision === 'rejected') return 'You rejected it.';
  return 'Waiting for your answer.';
}

function card(r, ctx, reload) {
  const status = h('p', { class: 'status', role: 'status' });
  const act = (action, label) => h('button', {
    type: 'button',
    class: action === 'accept' ? 'button primary' : action === 'delete' ? 'button danger' : 'button',
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        const out = await api.post('web/v1/relationships/decision', { rel: r.rel, action });
        ctx.announce(`${label}: recorded on the ledger at position ${out.ledger_index}.`);
        await reload();
      } catch (err) {
        status.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
        ev.target.disabled = false;
      }
    },
  }, label);
  const buttons = [];
  if (!r.deleted) {
    if (r.patient_decision !== 'accepted') buttons.push(act('accept', 'Accept'));
    if (r.patient_decision !== 'rejected') buttons.push(act('reject', 'Reject'));
    buttons.push(act('delete', 'Delete'));
  }
  return h('li', { class: 'card' },
    h('h2', { class: 'card-title' }, `A provider (${short(r.provider)})`),
    h('p', { class: 'meta' }, `${capital(KIND_WORDS[r.kind] || r.kind)} · ${STATUS_WORDS[r.status] || r.status || 'opened'}`),
    h('p', {}, decisionWords(r)),
    r.location ? h('p', {}, 'Where the provider keeps your records: ', h('code', { class: 'mono' }, r.location)) : null,
    buttons.length ? h('div', { class: 'actions' }, ...buttons) : null,
    status,
    details('Technical details',
      h('p', {}, 'Relationship: ', h('code', { class: 'mono' }, r.rel)),
      h('p', {}, 'The provider\u2019s pseudonym: ', h('code', { class: 'mono' }, r.provider)),
      h('p', {}, 'Your pseudonym in it: ', h('code', { class: 'mono' }, r.pseudonym)),
      h('p', {}, 'Ledger positions: ', (r.ledger_indexes || []).join(', '))));
}

export async function render(main, ctx) {
  const box = h('div', { id: 'relationships' });
  const fresh = h('div', { class: 'status', role: 'status' });
  const give = h('button', {
    type: 'button',
    class: 'button',
    onclick: async () => {
      try {
        const out = await api.post('web/v1/relationships/pseudonym', {});
        fresh.replaceChildren(h('p', {}, 'Give this to your new provider. It is new, and links to nothing else of yours:'),
          h('p', {}, h('code', { class: 'mono' }, out.pseudonym)));
      } catch (err) {
        fresh.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
      }
    },
  }, 'A new pseudonym for a provider');
  main.append(
    h('h1', {}, 'Relationships'),
    h('p', { class: 'lead' }, 'Providers who opened a care relationship with you on the public ledger. The ledger shows only pseudonyms: nobody can tell they are you.'),
    box,
    h('section', { 'aria-labelledby': 'new-rel' }, h('h2', { id: 'new-rel' }, 'A new provider'), give, fresh));
  const reload = async () => {
    clear(box);
    let list;
    try {
      list = (await api.get('web/v1/relationships')).relationships || [];
    } catch (err) {
      box.append(h('p', { class: err.status === 409 ? 'empty' : 'error' },
        err.status === 409 ? 'This container keeps no relationships: it runs without your wallet or without a ledger.' : errorWords(err)));
      give.disabled = err.status === 409;
      return;
    }
    if (!list.length) box.append(h('p', { class: 'empty' }, 'No provider has opened a relationship with you yet.'));
    else box.append(h('ul', { class: 'cards' }, list.map((r) => card(r, ctx, reload))));
  };
  await reload();
}
