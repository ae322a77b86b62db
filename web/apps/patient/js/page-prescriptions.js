// Prescriptions: the PrescriptionCredentials in the owner's container (owner/v1/credentials) —
// medication, prescriber and her license's status now, fills used on the ledger out of those
// allowed (web/v1/prescriptions), the postmark — and "present to a pharmacy": her container
// shows it to the pharmacy at the address she gives (or the pharmacy's link), her phone
// approves a controlled substance's fill, and the pharmacy's answer appears check by check
// (web/v1/prescriptions/present, .../poll).
import { h, clear, field, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { didWords, when, isoAttr, capital, errorWords, errorDetail, rxStepWords } from './words.js';

const LICENSE_WORDS = {
  active: 'License active (checked just now)',
  revoked: 'License revoked: a pharmacy will refuse this prescription',
  suspended: 'License suspended: a pharmacy will refuse this prescription for now',
  unknown: 'License status could not be checked now',
};

function subjectOf(vc) {
  const s = vc && vc.credentialSubject;
  return Array.isArray(s) ? s[0] || {} : s || {};
}

function fillsWords(facts, fills) {
  if (!facts || facts.fills_used === undefined) return `${fills} in all`;
  const left = Math.max(facts.fills_allowed - facts.fills_used, 0);
  return `${facts.fills_used} of ${facts.fills_allowed} used — ${left === 0 ? 'none left' : `${left} left`} (the public ledger’s count)`;
}

// What the pharmacy received: the pharmacy copy with only what dispensing needs, or the whole
// prescription.
const HIDDEN_WORDS = {
  '/sub': 'your identifier',
  '/prescription/subject': 'your name in the prescription',
  '/prescription/dosageInstruction': 'how to take it',
  '/prescription/requester': 'who wrote it',
  '/prescription/authoredOn': 'when it was written',
  '/prescription/reasonCode': 'why it was prescribed',
  '/prescription/note': 'the physician’s notes',
};
function disclosureWords(d) {
  if (!d || !d.form) return null;
  if (d.form === 'full') return h('p', { class: 'disclosure' }, 'The pharmacy received the whole prescription, your identifier included.');
  const kept = (d.hidden || []).map((p) => HIDDEN_WORDS[p]).filter(Boolean);
  return h('p', { class: 'disclosure' }, 'The pharmacy received only what dispensing needs (the medication, quantity, fills and the physician’s license)',
    kept.length ? `; it did not see ${[...new Set(kept)].join(', ')}.` : '.');
}

// After a refusal: tell the physician why (her container signs a notice and sends it to the
// address the physician gave with the prescription; web/v1/prescriptions/tell).
function tellPhysician(refusal, ctx) {
  if (!refusal) return null;
  if (!refusal.can_tell) return h('p', { class: 'hint' }, 'This prescription does not say how to reach its physician’s workspace: tell them yourself if you want them to know.');
  const button = h('button', { type: 'button', class: 'button', id: 'tell-physician' }, 'Tell your physician why');
  const said = h('p', { class: 'message', role: 'status' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    said.replaceChildren('Telling your physician…');
    try {
      await api.post('web/v1/prescriptions/tell', { refusal: refusal.id });
      said.replaceChildren(h('span', { class: 'ok', id: 'told-physician' }, 'Your physician’s workspace now shows this refusal and its reason. Nothing else about you was sent.'));
      ctx.announce('Your physician was told why the pharmacy refused.');
      button.remove();
    } catch (err) {
      button.disabled = false;
      said.replaceChildren(h('span', { class: 'error' }, (err.body && err.body.error_description) ? `Your physician could not be told: ${err.body.error_description}` : errorWords(err)));
    }
  });
  return h('div', { class: 'stack tell' },
    h('p', { class: 'hint' }, 'Your physician does not hear of a refusal unless you tell them. Your container sends the pharmacy’s reason, signed by you, to their workspace.'),
    h('div', { class: 'actions' }, button), said);
}

// The pharmacy's answer, check by check.
function outcome(answer, ctx) {
  const result = answer.result || {};
  const steps = result.steps || [];
  const ok = answer.status === 'dispensed';
  const head = ok
    ? h('p', { class: 'ok' }, `Dispensed: fill ${result.fill} of ${result.fills_allowed}. ${answer.receipt_id ? 'The pharmacy’s signed receipt is in your Receipts.' : 'The receipt could not be kept in your container.'}`)
    : h('p', { class: 'error' }, 'The pharmacy refused: ', answer.error_description || answer.error || 'no reason given');
  return h('div', { class: 'rx-outcome' }, head, ok ? null : tellPhysician(answer.refusal, ctx), disclosureWords(answer.disclosure),
    h('ol', { class: 'checks' }, steps.map((s) => h('li', { class: s.ok ? 'ok' : 'error' },
      h('strong', {}, s.ok ? 'Passed: ' : 'Failed: '), rxStepWords(s.step), s.detail ? h('span', { class: 'hint' }, ` — ${s.detail}`) : null))),
    details('Technical details', h('pre', { class: 'mono' }, JSON.stringify(answer, null, 2))));
}

// While the pharmacist looks: the checks so far.
function pharmacistWaiting(answer) {
  const steps = ((answer.result || {}).steps) || [];
  return h('div', { class: 'rx-outcome', id: 'rx-awaiting-pharmacist' },
    h('p', { class: 'notice' }, 'Every check passed. The pharmacist is reviewing your prescription; this page continues when they decide.'),
    disclosureWords(answer.disclosure),
    h('ol', { class: 'checks' }, steps.map((s) => h('li', { class: s.ok ? 'ok' : 'error' },
      h('strong', {}, s.ok ? 'Passed: ' : 'Failed: '), rxStepWords(s.step), s.detail ? h('span', { class: 'hint' }, ` — ${s.detail}`) : null))));
}

function presentForm(item, facts, ctx, reload) {
  const url = h('input', { type: 'text', inputmode: 'url', name: 'pharmacy', autocomplete: 'url', spellcheck: 'false', placeholder: 'https://pharmacy.example', required: true, value: ctx.pharmacyLink || '' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Present');
  const status = h('div', { class: 'message', role: 'status' });
  const controlled = facts && facts.controlled;
  const form = h('form', { class: 'stack present-form', novalidate: true },
    field('The pharmacy’s address or link', url, 'From the pharmacy’s screen or the QR code at its counter (your phone’s camera opens it as a link).'),
    h('p', { class: 'notice' },
      facts && facts.minimal_disclosure
        ? `The pharmacy sees only what dispensing needs (the medication, quantity, fills and the physician’s license${controlled ? ', and your identifier, to check your phone’s approval' : ''}), not your name or how to take it, and records the fill on the public ledger without your name.`
        : 'The pharmacy sees the whole prescription, your identifier included, and records the fill on the public ledger without your name.',
      controlled ? ' This is a controlled substance: your phone will ask you to approve this fill.' : ''),
    h('div', { class: 'actions' }, submit), status);
  let timer = null;
  const done = (answer) => {
    status.replaceChildren(outcome(answer, ctx));
    ctx.announce(answer.status === 'dispensed' ? 'The pharmacy dispensed your prescription.' : 'The pharmacy refused your prescription.');
    submit.disabled = false;
    reload();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!url.value.trim()) {
      status.replaceChildren(h('p', { class: 'error' }, 'Enter the pharmacy’s address.'));
      url.focus();
      return;
    }
    submit.disabled = true;
    if (timer) window.clearTimeout(timer);
    status.replaceChildren(h('p', {}, 'Showing your prescription to the pharmacy…'));
    try {
      const answer = await api.post('web/v1/prescriptions/present', { credential: item.id, pharmacy: url.value.trim() });
      if (answer.status !== 'awaiting_phone' && answer.status !== 'awaiting_pharmacist') return done(answer);
      if (answer.status === 'awaiting_phone') {
        status.replaceChildren(h('p', { class: 'notice', id: 'rx-awaiting-phone' }, 'Approve this fill on your phone. This page continues when you do.'));
        ctx.announce('Approve this fill on your phone.');
      } else {
        status.replaceChildren(pharmacistWaiting(answer));
        ctx.announce('The pharmacist is reviewing your prescription.');
      }
      let toldPharmacist = answer.status === 'awaiting_pharmacist';
      const poll = async () => {
        try {
          const r = await api.post('web/v1/prescriptions/present/poll', { attempt: answer.attempt });
          if (r.status === 'pending') {
            timer = window.setTimeout(poll, 1500);
            return;
          }
          if (r.status === 'awaiting_pharmacist') {
            if (!toldPharmacist) {
              status.replaceChildren(pharmacistWaiting(r));
              ctx.announce('Your phone approved. The pharmacist is reviewing your prescription.');
              toldPharmacist = true;
            }
            timer = window.setTimeout(poll, 1500);
            return;
          }
          if (r.status === 'denied' || r.status === 'expired') {
            submit.disabled = false;
            status.replaceChildren(h('p', { class: 'error' }, r.status === 'denied' ? 'You declined the fill on your phone; nothing was sent.' : 'The pharmacy’s request expired before your phone approved. Start again.'));
            return;
          }
          done(r);
        } catch (err) {
          submit.disabled = false;
          status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
        }
      };
      timer = window.setTimeout(poll, 1500);
    } catch (err) {
      submit.disabled = false;
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
    }
  });
  return form;
}

function rxCard(item, facts, ctx, canPresent, reload) {
  const vc = item.credential || {};
  const s = subjectOf(vc);
  const mr = s.prescription || {};
  const med = (mr.medicationCodeableConcept && (mr.medicationCodeableConcept.text || ((mr.medicationCodeableConcept.coding || [])[0] || {}).display)) || 'A medication';
  const license = ((vc.evidence || [])[0] || {}).licenseCredential || {};
  const ls = subjectOf(license);
  const prescriber = ls.licenseType
    ? `${ls.name ? `${ls.name}, a` : 'A'} licensed ${ls.licenseType}${ls.specialty ? ` (${ls.specialty})` : ''}${ls.jurisdiction ? `, ${ls.jurisdiction}` : ''}`
    : capital(didWords(typeof vc.issuer === 'string' ? vc.issuer : (vc.issuer || {}).id, ctx.ownerDid));
  const repeats = ((mr.dispenseRequest || {}).numberOfRepeatsAllowed) || 0;
  const fills = 1 + repeats;
  const dosage = (mr.dosageInstruction || []).map((d) => d.text).filter(Boolean);
  const schedule = s.controlledSubstanceSchedule;
  const lic = (facts && facts.license) || { status: 'unknown' };
  const present = h('div', { class: 'present' });
  const open = h('button', { type: 'button', class: 'button', 'aria-expanded': 'false' }, 'Present to a pharmacy');
  open.addEventListener('click', () => {
    const shown = open.getAttribute('aria-expanded') === 'true';
    open.setAttribute('aria-expanded', String(!shown));
    clear(present);
    if (!shown) {
      present.append(presentForm(item, facts, ctx, reload));
      present.querySelector('input').focus();
    }
  });
  return h('li', { class: 'card rx', dataset: { rx: item.id } },
    h('h2', { class: 'card-title' }, med),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Prescribed by'), h('dd', {}, prescriber, ls.licenseNumber ? ` — license ${ls.licenseNumber}` : ''),
      h('dt', {}, 'License'), h('dd', { class: `license ${lic.status}` }, LICENSE_WORDS[lic.status] || lic.status),
      h('dt', {}, 'Fills'), h('dd', { class: 'fills' }, fillsWords(facts, fills), ` (${repeats === 0 ? 'no refills' : `${repeats} refill${repeats === 1 ? '' : 's'}`})`),
      dosage.length ? [h('dt', {}, 'How to take it'), h('dd', {}, dosage.join(' '))] : null,
      schedule ? [h('dt', {}, 'Controlled substance'), h('dd', {}, `Schedule ${schedule}: each fill needs your phone’s approval`)] : null,
      h('dt', {}, 'Valid'), h('dd', {}, vc.validFrom ? ['from ', h('time', { datetime: isoAttr(vc.validFrom) }, when(vc.validFrom))] : '', vc.validUntil ? [' until ', h('time', { datetime: isoAttr(vc.validUntil) }, when(vc.validUntil))] : ''),
      h('dt', {}, 'Postmark'), h('dd', {}, 'Its fingerprint is stamped on the public ledger, so any pharmacy can check it is genuine and not filled too often.'),
      h('dt', {}, 'Received'), h('dd', {}, h('time', { datetime: isoAttr(item.received) }, when(item.received)), item.source === 'inbox' ? ' in your inbox' : '')),
    canPresent ? h('div', { class: 'actions' }, open) : h('p', { class: 'meta' }, 'To present it from here, your container needs your wallet (serve it with --store).'),
    present,
    details('Technical details',
      h('p', {}, 'Postmark (digest): ', h('code', { class: 'mono' }, item.id)),
      lic.detail ? h('p', {}, 'License check: ', h('code', { class: 'mono' }, lic.detail)) : null,
      facts && facts.fills ? h('p', {}, 'Fills on the ledger: ', h('code', { class: 'mono' }, JSON.stringify(facts.fills))) : null,
      h('p', {}, 'Prescriber: ', h('code', { class: 'mono' }, typeof vc.issuer === 'string' ? vc.issuer : JSON.stringify(vc.issuer))),
      h('pre', { class: 'mono' }, JSON.stringify(vc, null, 2))));
}

// A pharmacy's request opened from its QR code (web+medallion:present?request=…, through the
// protocol handler) or a link: #prescriptions?open=<the URI> or ?present=<the link>.
function pharmacyLinkFromHash() {
  const q = window.location.hash.split('?')[1] || '';
  const params = new URLSearchParams(q);
  return params.get('open') || params.get('present') || '';
}

function handlerButton() {
  if (typeof navigator.registerProtocolHandler !== 'function') return null;
  const button = h('button', { type: 'button', class: 'button quiet', id: 'register-handler' }, 'Open pharmacies’ QR codes with this container');
  const msg = h('span', { class: 'hint', role: 'status' });
  button.addEventListener('click', () => {
    try {
      navigator.registerProtocolHandler('web+medallion', `${window.location.origin}${window.location.pathname}#prescriptions?open=%s`);
      msg.textContent = ' Your browser asks to confirm: then a pharmacy’s QR code opens here.';
    } catch (err) {
      msg.textContent = ` This browser refused: ${err.message}`;
    }
  });
  return h('p', {}, button, msg);
}

export async function render(main, ctx) {
  const box = h('div', { id: 'prescriptions' });
  ctx.pharmacyLink = pharmacyLinkFromHash();
  main.append(
    h('h1', {}, 'Prescriptions'),
    h('p', { class: 'lead' }, 'Prescriptions your physicians sent to your container. Present one to a pharmacy from here or from your phone.'),
    ctx.pharmacyLink ? h('p', { class: 'notice', id: 'pharmacy-request', role: 'status' }, 'A pharmacy is ready for your prescription: choose “Present to a pharmacy” on the one to fill — its address is filled in.') : null,
    handlerButton(),
    box);
  const reload = async () => {
    const [list, facts] = await Promise.all([
      api.get('owner/v1/credentials'),
      api.get('web/v1/prescriptions').catch(() => ({ prescriptions: [], can_present: false })),
    ]);
    const byId = new Map((facts.prescriptions || []).map((p) => [p.id, p]));
    const rx = (list || []).filter((c) => (c.types || []).includes('PrescriptionCredential'));
    const others = (list || []).filter((c) => !(c.types || []).includes('PrescriptionCredential') && !(c.types || []).includes('DispenseReceipt'));
    // Keep an open "present" form (and its outcome) across a refresh of the facts.
    const open = box.querySelector('.present-form');
    if (open) {
      for (const p of byId.values()) {
        const fillsDd = box.querySelector(`li[data-rx="${CSS.escape(p.id)}"] .fills`);
        if (fillsDd && p.fills_used !== undefined) fillsDd.firstChild.textContent = fillsWords(p, p.fills_allowed);
      }
      return;
    }
    clear(box);
    if (!rx.length) box.append(h('p', { class: 'empty' }, 'No prescription yet.'));
    else box.append(h('ul', { class: 'cards' }, rx.slice().reverse().map((c) => rxCard(c, byId.get(c.id), ctx, facts.can_present, reload))));
    if (others.length) {
      box.append(h('h2', {}, 'Other credentials'),
        h('ul', { class: 'plain-list' }, others.map((c) => h('li', {}, (c.types || []).filter((t) => t !== 'VerifiableCredential').join(', ') || 'Credential', ' from ', didWords(c.issuer, ctx.ownerDid), ' — ', h('time', { datetime: isoAttr(c.received) }, when(c.received))))));
    }
  };
  await reload();
}
