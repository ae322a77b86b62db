// Prescribe: a medication from the coded list (RxNorm, with its DEA schedule), dose and
// instructions, quantity, refills, substitution; a preview in plain words; "Sign" signs it with
// your key, waits for your phone's co-signature for a controlled substance, then postmarks,
// keeps, delivers and opens the relationship — each step shown as done or failed.
import { h, field, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { STEP_WORDS } from './words.js';

let medications = null;
async function medicationList() {
  if (!medications) {
    const r = await fetch('app/data/medications.json', { credentials: 'same-origin' });
    medications = (await r.json()).medications || [];
  }
  return medications;
}

function stepsList(job) {
  return h('ol', { class: 'checks', id: 'prescribe-steps' }, (job.steps || []).map((s) => h('li', { class: s.ok ? 'ok' : (job.status === 'awaiting_cosign' && s.step === 'cosign' ? 'pending' : 'error'), dataset: { step: s.step } },
    h('strong', {}, s.ok ? 'Done: ' : job.status === 'awaiting_cosign' && s.step === 'cosign' ? 'Waiting: ' : 'Failed: '), STEP_WORDS[s.step] || s.step, s.detail ? h('span', { class: 'hint' }, ` — ${s.detail}`) : null)));
}

export async function render(main, ctx) {
  main.append(h('h1', {}, 'Prescribe'));
  const [list, patientsAnswer, state] = await Promise.all([medicationList(), api.get('web/v1/physician/patients'), api.get('web/v1/physician/state')]);
  const granted = (patientsAnswer.patients || []).filter((p) => p.status === 'granted');
  if (!state.license) {
    main.append(h('p', { class: 'notice' }, 'Get your license credential first: ', h('a', { href: '#license' }, 'My license'), '.'));
    return;
  }
  if (!granted.length) {
    main.append(h('p', { class: 'notice' }, 'Connect to a patient who grants you access first: ', h('a', { href: '#patients' }, 'Patients'), '.'));
    return;
  }
  const wanted = (window.location.hash.match(/[?&]patient=([0-9a-f]+)/) || [])[1];
  const covered = new Set((state.license.schedules) || []);
  const patient = h('select', { name: 'patient' }, granted.map((p) => h('option', { value: p.id, selected: p.id === wanted }, p.did)));
  const med = h('select', { name: 'medication', required: true }, h('option', { value: '' }, 'Choose a medication…'),
    list.map((m) => h('option', { value: m.rxcui, disabled: Boolean(m.schedule) && !covered.has(m.schedule) }, `${m.display}${m.schedule ? ` — schedule ${m.schedule}` : ''}`)));
  const instructions = h('textarea', { name: 'instructions', rows: '2', maxlength: '500', required: true });
  const quantity = h('input', { type: 'number', name: 'quantity', min: '1', max: '1000', step: '1', required: true });
  const refills = h('input', { type: 'number', name: 'refills', min: '0', step: '1', value: '0', required: true });
  const substitution = h('input', { type: 'checkbox', name: 'substitution', id: 'substitution', checked: true });
  const pseudonym = h('input', { type: 'text', name: 'pseudonym', autocomplete: 'off', spellcheck: 'false', maxlength: '43' });
  const preview = h('p', { class: 'preview', id: 'rx-preview', 'aria-live': 'polite' });
  const msg = h('div', { class: 'message', id: 'prescribe-message', role: 'status' });
  const sign = h('button', { type: 'submit', class: 'button primary', id: 'sign-button' }, 'Sign');
  const chosen = () => list.find((m) => m.rxcui === med.value);
  const update = () => {
    const m = chosen();
    if (!m) {
      preview.textContent = 'Choose a medication to see the prescription in words.';
      return;
    }
    refills.max = String(m.max_refills);
    const n = Number(refills.value || 0);
    preview.textContent = `${m.display} (RxNorm ${m.rxcui}): ${instructions.value.trim() || '…'}. Dispense ${quantity.value || '…'} ${m.unit}${Number(quantity.value) === 1 ? '' : 's'}, ${n === 0 ? 'no refills' : `${n} refill${n === 1 ? '' : 's'}`} (${1 + n} fill${n === 0 ? '' : 's'} in all). ${substitution.checked ? 'A generic may be substituted.' : 'Dispense as written.'}${m.schedule ? ` Schedule ${m.schedule} controlled substance: your phone co-signs it, and the patient’s phone approves each fill.` : ''}`;
  };
  med.addEventListener('change', () => {
    msg.replaceChildren();
    const m = chosen();
    if (m) {
      instructions.value = m.default_sig;
      quantity.value = String(m.default_quantity);
      refills.value = '0';
    }
    update();
  });
  for (const el of [instructions, quantity, refills, substitution]) el.addEventListener('input', update);
  const form = h('form', { class: 'card stack', id: 'prescribe-form', novalidate: true },
    field('Patient', patient),
    field('Medication', med, `${list.length} common medications with their RxNorm codes; controlled substances your license does not cover cannot be chosen.`),
    field('Dose and instructions', instructions),
    field('Quantity', quantity),
    field('Refills', refills, 'Schedule II substances cannot be refilled (21 CFR 1306.12); schedules III–V at most 5.'),
    h('div', { class: 'choice' }, substitution, h('label', { for: 'substitution' }, 'A generic may be substituted')),
    field('The patient’s pseudonym for you (optional)', pseudonym, 'If she gave you one: the pharmacy then sees only what dispensing needs, and a care relationship is opened on the ledger.'),
    h('h2', {}, 'Preview'), preview,
    h('div', { class: 'actions' }, sign), msg);
  update();
  let timer = null;
  ctx.stop = () => timer && window.clearTimeout(timer);
  const show = (job) => {
    const head = job.status === 'delivered' ? h('p', { class: 'ok', id: 'prescribe-done' }, 'Delivered to the patient.')
      : job.status === 'awaiting_cosign' ? h('p', { class: 'notice', id: 'prescribe-cosign' }, 'Approve the co-signature on your phone. This page continues when you do.')
        : job.status === 'failed' ? h('p', { class: 'error', id: 'prescribe-failed' }, 'The prescription was not completed.') : h('p', {}, 'Working…');
    msg.replaceChildren(head, stepsList(job));
    if (job.status === 'delivered') msg.append(writeRecord(job));
  };
  // "Add it to her record": the MedicationRequest written into her FHIR record (UMA, the create
  // scope); her container may ask her first.
  const writeRecord = (job) => {
    const out = h('p', { role: 'status', id: 'record-status' });
    const add = h('button', { type: 'button', class: 'button', id: 'add-to-record' }, 'Add it to her record');
    add.addEventListener('click', async () => {
      add.disabled = true;
      try {
        const r = await api.post(`web/v1/physician/patients/${job.patient}/records`, { prescription: job.id });
        out.textContent = r.status === 'written' ? 'Added to her record.'
          : r.status === 'request_submitted' ? 'Her container asked her first: try again once she approves.'
            : `Not added: ${r.detail || r.status}.`;
        add.disabled = r.status === 'written';
      } catch (err) {
        add.disabled = false;
        out.textContent = err.message;
      }
    });
    return h('div', { class: 'stack' }, h('div', { class: 'actions' }, add), out);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!med.value) {
      msg.replaceChildren(h('p', { class: 'error' }, 'Choose a medication.'));
      med.focus();
      return;
    }
    sign.disabled = true;
    msg.replaceChildren(h('p', {}, 'Signing…'));
    try {
      let job = await api.post('web/v1/physician/prescriptions', {
        patient: patient.value, rxcui: med.value, instructions: instructions.value.trim(),
        quantity: Number(quantity.value), refills: Number(refills.value), substitution: substitution.checked,
        ...(pseudonym.value.trim() ? { pseudonym: pseudonym.value.trim() } : {}),
      });
      show(job);
      const poll = async () => {
        job = await api.post(`web/v1/physician/prescriptions/${job.id}/poll`, {});
        if (job.status === 'awaiting_cosign') {
          timer = window.setTimeout(poll, 1500);
          return;
        }
        show(job);
        ctx.announce(job.status === 'delivered' ? 'Your phone co-signed. The prescription was delivered.' : 'The prescription was not completed.');
        sign.disabled = false;
      };
      if (job.status === 'awaiting_cosign') {
        ctx.announce('Approve the co-signature on your phone.');
        timer = window.setTimeout(poll, 1500);
      } else {
        ctx.announce(job.status === 'delivered' ? 'The prescription was delivered.' : 'The prescription was not completed.');
        sign.disabled = false;
      }
    } catch (err) {
      sign.disabled = false;
      msg.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  });
  main.append(form, details('About the list', h('p', {}, 'RxNorm semantic clinical drug codes (US National Library of Medicine) with DEA schedules; the source of each entry is in the app’s data/medications.json.')));
}
