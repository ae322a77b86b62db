// Receipts: the consent receipts of every rule added or revoked (owner/v1/receipts), with
// their ledger indexes and the proof that binds the ledger's pseudonymous signer to the owner.
import { h, clear, details } from './dom.js';
import * as api from './api.js';
import { policySentence, when, isoAttr } from './words.js';

function receiptCard(r, ctx) {
  const policy = (r.receipt || {}).policy;
  const grant = r.action === 'grant';
  const idx = r.ledger_indexes || [];
  return h('li', { class: 'card receipt', dataset: { hash: r.hash } },
    h('h2', { class: 'card-title' }, grant ? 'You allowed access' : 'You revoked a rule'),
    h('p', { class: 'meta' }, h('time', { datetime: isoAttr(r.created) }, when(r.created))),
    policy ? h('p', {}, policySentence(policy, ctx.ownerDid)) : h('p', {}, 'Rule ', h('code', { class: 'mono' }, r.policy_id), ' stopped applying.'),
    h('p', { class: 'proof', role: 'status' }, idx.length ? 'Checking the ledger…' : ''),
    h('p', {}, idx.length ? `Recorded on the public ledger at position${idx.length === 1 ? '' : 's'} ${idx.join(', ')}, without your name: only you can prove it is yours.` : 'Not recorded on a ledger (this container has no ledger, or the rule only refuses access).'),
    details('Technical details',
      h('p', {}, 'Receipt hash: ', h('code', { class: 'mono' }, r.hash)),
      r.signer ? h('p', {}, 'Ledger signer: ', h('code', { class: 'mono' }, r.signer)) : null,
      h('pre', { class: 'mono' }, JSON.stringify(r, null, 2))));
}

export async function render(main, ctx) {
  const box = h('div', { id: 'receipts' });
  main.append(
    h('h1', {}, 'Receipts'),
    h('p', { class: 'lead' }, 'A receipt for every sharing rule you added or revoked. Keep them: they prove what you agreed to, and when.'),
    box);
  const list = await api.get('owner/v1/receipts');
  clear(box);
  if (!list || !list.length) box.append(h('p', { class: 'empty' }, 'No receipt yet.'));
  else box.append(h('ul', { class: 'cards' }, list.slice().reverse().map((r) => receiptCard(r, ctx))));
  if (!list || !list.length) return;
  // Each receipt's ledger entries, proven in the log by her container (web/v1/receipts/verify).
  let checked;
  try {
    checked = await api.post('web/v1/receipts/verify', {});
  } catch (err) {
    for (const p of box.querySelectorAll('.proof')) p.textContent = 'The ledger could not be checked now.';
    return;
  }
  for (const r of checked.receipts || []) {
    const card = box.querySelector(`li[data-hash="${CSS.escape(r.hash)}"] .proof`);
    if (!card || !(r.entries || []).length) continue;
    card.textContent = r.valid
      ? `Verified: the ledger holds ${r.entries.length === 1 ? 'its entry' : 'its entries'}, signed by your private key for it, in the log every witness signed.`
      : 'Not verified: the ledger does not hold this receipt as recorded.';
    card.classList.add(r.valid ? 'ok' : 'error');
  }
}
