// Prescriptions: the PrescriptionCredentials in the owner's inbox (owner/v1/credentials) —
// medication, prescriber, how many fills, and the postmark (the digest anchored on the ledger).
import { h, clear, details } from './dom.js';
import * as api from './api.js';
import { didWords, when, isoAttr, capital } from './words.js';

function subjectOf(vc) {
  const s = vc && vc.credentialSubject;
  return Array.isArray(s) ? s[0] || {} : s || {};
}

function rxCard(item, ctx) {
  const vc = item.credential || {};
  const s = subjectOf(vc);
  const mr = s.prescription || {};
  const med = (mr.medicationCodeableConcept && (mr.medicationCodeableConcept.text || ((mr.medicationCodeableConcept.coding || [])[0] || {}).display)) || 'A medication';
  const license = ((vc.evidence || [])[0] || {}).licenseCredential || {};
  const ls = subjectOf(license);
  const prescriber = ls.licenseType
    ? `A licensed ${ls.licenseType}${ls.specialty ? ` (${ls.specialty})` : ''}${ls.jurisdiction ? `, ${ls.jurisdiction}` : ''}`
    : capital(didWords(typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer || {}).id, ctx.ownerDid));
  const repeats = ((mr.dispenseRequest || {}).numberOfRepeatsAllowed) || 0;
  const fills = 1 + repeats;
  const dosage = (mr.dosageInstruction || []).map((d) => d.text).filter(Boolean);
  const schedule = s.controlledSubstanceSchedule;
  return h('li', { class: 'card rx' },
    h('h2', { class: 'card-title' }, med),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Prescribed by'), h('dd', {}, prescriber, ls.licenseNumber ? ` — license ${ls.licenseNumber}` : ''),
      h('dt', {}, 'Fills'), h('dd', {}, `${fills} in all (${repeats === 0 ? 'no refills' : `${repeats} refill${repeats === 1 ? '' : 's'}`})`),
      dosage.length ? [h('dt', {}, 'How to take it'), h('dd', {}, dosage.join(' '))] : null,
      schedule ? [h('dt', {}, 'Controlled substance'), h('dd', {}, `Schedule ${schedule}: each fill needs your phone’s approval`)] : null,
      h('dt', {}, 'Valid'), h('dd', {}, vc.validFrom ? ['from ', h('time', { datetime: isoAttr(vc.validFrom) }, when(vc.validFrom))] : '', vc.validUntil ? [' until ', h('time', { datetime: isoAttr(vc.validUntil) }, when(vc.validUntil))] : ''),
      h('dt', {}, 'Postmark'), h('dd', {}, 'Its fingerprint is stamped on the public ledger, so any pharmacy can check it is genuine and not filled too often.'),
      h('dt', {}, 'Received'), h('dd', {}, h('time', { datetime: isoAttr(item.received) }, when(item.received)), item.source === 'inbox' ? ' in your inbox' : '')),
    details('Technical details',
      h('p', {}, 'Postmark (digest): ', h('code', { class: 'mono' }, item.id)),
      h('p', {}, 'Prescriber: ', h('code', { class: 'mono' }, typeof vc.issuer === 'string' ? vc.issuer : JSON.stringify(vc.issuer))),
      h('pre', { class: 'mono' }, JSON.stringify(vc, null, 2))));
}

export async function render(main, ctx) {
  const box = h('div', { id: 'prescriptions' });
  main.append(
    h('h1', {}, 'Prescriptions'),
    h('p', { class: 'lead' }, 'Prescriptions your physicians sent to your container. You show them at a pharmacy from your phone or with Medallion.'),
    box);
  const list = await api.get('owner/v1/credentials');
  const rx = (list || []).filter((c) => (c.types || []).includes('PrescriptionCredential'));
  const others = (list || []).filter((c) => !(c.types || []).includes('PrescriptionCredential'));
  clear(box);
  if (!rx.length) box.append(h('p', { class: 'empty' }, 'No prescription yet.'));
  else box.append(h('ul', { class: 'cards' }, rx.slice().reverse().map((c) => rxCard(c, ctx))));
  if (others.length) {
    box.append(h('h2', {}, 'Other credentials'),
      h('ul', { class: 'plain-list' }, others.map((c) => h('li', {}, (c.types || []).filter((t) => t !== 'VerifiableCredential').join(', ') || 'Credential', ' from ', didWords(c.issuer, ctx.ownerDid), ' — ', h('time', { datetime: isoAttr(c.received) }, when(c.received))))));
  }
}
