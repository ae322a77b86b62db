// Her prescriptions: medication, patient, fills used of those allowed (the ledger's dispense
// records), the postmark proven in the ledger; each sent on request to a patient's wallet as an
// OpenID4VCI credential offer (docs/openid4vc.md): QR code, link, transaction code.
import { h, field, newId, qrImage } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
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

// "Send to a wallet": her container makes a pre-authorized credential offer of the prescription
// (OpenID4VCI §4.1) with a transaction code (§4.1.1) she tells the patient by another channel.
function walletOffer(p, titleId, ctx) {
  const out = h('div', { class: 'stack wallet-offer' });
  const button = h('button', { type: 'button', class: 'button', 'aria-describedby': titleId }, 'Send to a wallet');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const offer = await api.post(`web/v1/physician/prescriptions/${encodeURIComponent(p.id)}/offer`, {});
      const heading = h('h3', { id: newId('offer'), tabindex: '-1' }, 'Offer to the patient’s wallet');
      const link = h('input', { type: 'text', readOnly: true, value: offer.offer_uri_by_reference, class: 'mono offer-uri', spellcheck: 'false' });
      const status = h('div', { role: 'status', class: 'message' });
      const copy = h('button', { type: 'button', class: 'button' }, 'Copy the link');
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(offer.offer_uri_by_reference);
          status.replaceChildren(h('p', { class: 'ok' }, 'The link is copied.'));
        } catch {
          link.select();
          status.replaceChildren(h('p', {}, 'Select the link and copy it yourself.'));
        }
      });
      out.replaceChildren(heading,
        h('ol', { class: 'steps' },
          h('li', {}, 'The patient scans this code with her wallet app, or opens the link below in it.'),
          h('li', {}, 'Tell her the transaction code yourself — say it or print it, not in the same message as the link. Her wallet asks for it.')),
        qrImage(offer.qr_svg, `QR code of the offer of ${p.medication || 'this prescription'} for the patient’s wallet. If it cannot be scanned, use the link below.`, newId('offer-qr')),
        field('Link to the offer', link),
        h('div', { class: 'actions' }, copy), status,
        h('dl', { class: 'facts' },
          h('dt', {}, 'Transaction code'), h('dd', {}, h('strong', { class: 'mono tx-code' }, offer.tx_code)),
          h('dt', {}, 'Expires'), h('dd', { class: 'offer-expires' }, `${when(offer.expires)} — it works once; send again for a new one.`)));
      heading.focus();
      if (ctx) ctx.announce('The offer is ready: its QR code, link and transaction code are shown.');
      button.textContent = 'Send again (a new offer)';
    } catch (err) {
      out.replaceChildren(errorBox(err, REASONS_OFFER));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'stack' },
    p.schedule ? h('p', { class: 'hint' }, 'A controlled substance goes only to the patient’s own container, which proves the key you prescribed it for.') : null,
    h('div', { class: 'actions' }, button), out);
}

const REASONS_OFFER = {
  no_issuer: 'This workspace cannot send to wallets: it needs your wallet (serve it with --store).',
};

export async function render(main, ctx) {
  const box = h('div', { id: 'my-prescriptions' });
  main.append(h('h1', {}, 'My prescriptions'), h('p', { class: 'lead' }, 'What you prescribed, and what the public ledger says about each: its postmark and how many fills pharmacies dispensed. Pharmacies never tell the ledger who the patient is; a refusal appears here when the patient chooses to tell you.'), box);
  const r = await api.get('web/v1/physician/prescriptions');
  const rows = r.prescriptions || [];
  const titles = rows.map(() => newId('rx-title'));
  box.replaceChildren(!rows.length ? h('p', { class: 'empty' }, 'No prescription yet.') : h('ul', { class: 'cards' }, rows.map((p, i) => h('li', { class: 'card stack my-rx', dataset: { rx: p.id } },
    h('h2', { class: 'card-title', id: titles[i] }, p.medication || 'A medication'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Patient'), h('dd', {}, h('code', { class: 'mono' }, p.patient)),
      h('dt', {}, 'Status'), h('dd', { class: 'rx-status' }, p.fills_used === undefined ? 'Delivered' : p.fills_used === 0 ? 'Delivered — not filled yet' : `Filled ${p.fills_used} of ${p.fills_allowed}`),
      (p.refusals || []).length ? [h('dt', {}, 'Refused'), h('dd', { class: 'rx-refusals' }, h('ul', { class: 'plain' }, p.refusals.map((r) => h('li', { class: 'refusal' },
        `Refused at ${r.pharmacy} on ${when(r.at)}: ${r.description || REASONS[r.reason] || r.reason}`,
        h('span', { class: 'hint' }, ' (as the patient’s container reported it)')))))] : null,
      p.schedule ? [h('dt', {}, 'Controlled substance'), h('dd', {}, `Schedule ${p.schedule}`)] : null,
      h('dt', {}, 'Issued'), h('dd', {}, when(p.issued)),
      h('dt', {}, 'Postmark'), h('dd', { class: 'postmark' }, p.postmark && p.postmark.proven ? `Ledger index ${p.postmark.index}, proven included in the ledger’s checkpoint (size ${p.postmark.tree_size})` : `Not proven${p.postmark && p.postmark.detail ? `: ${p.postmark.detail}` : p.ledger_detail ? `: ${p.ledger_detail}` : ''}`)),
    r.wallet_offers ? walletOffer(p, titles[i], ctx) : null))));
}
