// Her prescriptions: medication, patient, fills used of those allowed (the ledger's dispense
// records), the postmark proven in the ledger.
import { h } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { when } from './words.js';

// A pharmacy's reason code in words, when the notice carries no words of its own.
const REASONS = {
  already_dispensed: 'every fill was already dispensed',
  dispensed_elsewhere: 'dispensed at another pharmacy',
  license_revoked: 'your license was revoked',
  license_suspended: 'your license was suspended',
  prescription_expired: 'the prescription had expired',
  schedule_not_covered: 'your license does not cover its schedule',
  license_expired: 'your license had expired',
  refused_by_pharmacist: 'the pharmacist refused to dispense',
};

export async function render(main) {
  const box = h('div', { id: 'my-prescriptions' });
  main.append(h('h1', {}, 'My prescriptions'), h('p', { class: 'lead' }, 'What you prescribed, and what the public ledger says about each: its postmark and how many fills pharmacies dispensed. Pharmacies never tell the ledger who the patient is; a refusal appears here when the patient chooses to tell you.'), box);
  const r = await api.get('web/v1/physician/prescriptions');
  const rows = r.prescriptions || [];
  box.replaceChildren(!rows.length ? h('p', { class: 'empty' }, 'No prescription yet.') : h('ul', { class: 'cards' }, rows.map((p) => h('li', { class: 'card stack my-rx', dataset: { rx: p.id } },
    h('h2', { class: 'card-title' }, p.medication || 'A medication'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Patient'), h('dd', {}, h('code', { class: 'mono' }, p.patient)),
      h('dt', {}, 'Status'), h('dd', { class: 'rx-status' }, p.fills_used === undefined ? 'Delivered' : p.fills_used === 0 ? 'Delivered — not filled yet' : `Filled ${p.fills_used} of ${p.fills_allowed}`),
      (p.refusals || []).length ? [h('dt', {}, 'Refused'), h('dd', { class: 'rx-refusals' }, h('ul', { class: 'plain' }, p.refusals.map((r) => h('li', { class: 'refusal' },
        `Refused at ${r.pharmacy} on ${when(r.at)}: ${r.description || REASONS[r.reason] || r.reason}`,
        h('span', { class: 'hint' }, ' (as the patient’s container reported it)')))))] : null,
      p.schedule ? [h('dt', {}, 'Controlled substance'), h('dd', {}, `Schedule ${p.schedule}`)] : null,
      h('dt', {}, 'Issued'), h('dd', {}, when(p.issued)),
      h('dt', {}, 'Postmark'), h('dd', { class: 'postmark' }, p.postmark && p.postmark.proven ? `Ledger index ${p.postmark.index}, proven included in the ledger’s checkpoint (size ${p.postmark.tree_size})` : `Not proven${p.postmark && p.postmark.detail ? `: ${p.postmark.detail}` : p.ledger_detail ? `: ${p.ledger_detail}` : ''}`))))));
}
