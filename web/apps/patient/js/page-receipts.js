// Receipts: the pharmacies' signed dispense receipts kept in her container (owner/v1/credentials,
// type DispenseReceipt) and the consent receipts of every rule added or revoked
// (owner/v1/receipts), each with its ledger position and the proof her container checked
// (web/v1/receipts/verify).
import { h, clear, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { policySentence, when, isoAttr, didWords } from './words.js';

function dispenseCard(item, rxById, ctx) {
  const vc = item.credential || {};
  const s = vc.credentialSubject || {};
  const rx = rxById.get(s.prescriptionDigest);
  const med = rx ? (((rx.credentialSubject || {}).prescription || {}).medicationCodeableConcept || {}).text : '';
  return h('li', { class: 'card receipt dispense', dataset: { dispense: item.id } },
    h('h2', { class: 'card-title' }, `A pharmacy dispensed ${med || 'your prescription'}`),
    h('p', { class: 'meta' }, h('time', { datetime: isoAttr(vc.validFrom) }, when(vc.validFrom))),
    h('p', {}, `Fill ${s.fill} of ${s.fillsAllowed}, by ${didWords(typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer || {}).id, ctx.ownerDid)}.`),
    h('p', { class: 'proof', role: 'status' }, 'Checking the ledger…'),
    h('p', {}, `Recorded on the public ledger at position ${s.ledgerIndex}, without your name or the medicine: only a holder of the prescription can tell which fill it is.`),
    details('Technical details',
      h('p', {}, 'Prescription (digest): ', h('code', { class: 'mono' }, s.prescriptionDigest || '—')),
      h('pre', { class: 'mono' }, JSON.stringify(vc, null, 2))));
}

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
    h('p', { class: 'lead' }, 'A receipt for every prescription a pharmacy dispensed and every sharing rule you added or revoked. Keep them: they prove what happened, and when.'),
    box);
  const [list, credentials] = await Promise.all([api.get('owner/v1/receipts'), api.get('owner/v1/credentials')]);
  const kept = credentials || [];
  const rxById = new Map(kept.filter((c) => (c.types || []).includes('PrescriptionCredential')).map((c) => [c.id, c.credential]));
  const dispensed = kept.filter((c) => (c.types || []).includes('DispenseReceipt'));
  clear(box);
  box.append(h('h2', {}, 'From pharmacies'));
  if (!dispensed.length) box.append(h('p', { class: 'empty' }, 'No prescription dispensed yet.'));
  else box.append(h('ul', { class: 'cards', id: 'dispense-receipts' }, dispensed.slice().reverse().map((c) => dispenseCard(c, rxById, ctx))));
  box.append(h('h2', {}, 'Your sharing rules'));
  if (!list || !list.length) box.append(h('p', { class: 'empty' }, 'No receipt yet.'));
  else box.append(h('ul', { class: 'cards' }, list.slice().reverse().map((r) => receiptCard(r, ctx))));
  if ((!list || !list.length) && !dispensed.length) return;
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
  for (const d of checked.dispense_receipts || []) {
    const card = box.querySelector(`li[data-dispense="${CSS.escape(d.id)}"] .proof`);
    if (!card) continue;
    card.textContent = d.valid
      ? 'Verified: the ledger holds the dispense record of exactly this fill of your prescription, in the log every witness signed.'
      : `Not verified: ${d.detail || 'the ledger does not hold this fill as the receipt says'}.`;
    card.classList.add(d.valid ? 'ok' : 'error');
  }
  if (checked.ledger === false) for (const p of box.querySelectorAll('.dispense .proof')) p.textContent = 'This container has no ledger to check against.';
}
