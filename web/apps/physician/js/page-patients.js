// Patients: connect to a patient's container by its address (or the QR code she shows); her
// container runs the UMA grant with your DID and license, and this page shows where it stands.
// A granted patient's record, as far as the grant allows.
import { h, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { when, GRANT_WORDS, scopesWords } from './words.js';

const TYPES = [['MedicationRequest', 'Medications'], ['Observation', 'Observations'], ['Condition', 'Conditions'], ['AllergyIntolerance', 'Allergies']];

function recordView() {
  const select = h('select', { name: 'type' }, TYPES.map(([v, t]) => h('option', { value: v }, t)));
  return h('div', { class: 'stack' }, field('Show', select), h('div', { class: 'records' }));
}

function patientCard(p, ctx, refresh) {
  const items = [
    h('h2', { class: 'card-title' }, 'A patient’s container'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Where it stands'), h('dd', { class: 'grant-status', dataset: { status: p.status } }, GRANT_WORDS[p.status] || p.status,
        p.status === 'granted' ? ` — you may ${scopesWords(p.scopes)}${p.expires ? ` until ${when(p.expires)}` : ''}` : '',
        p.detail && p.status !== 'granted' ? h('span', { class: 'hint' }, ` (${p.detail})`) : null),
      h('dt', {}, 'Address'), h('dd', {}, h('code', { class: 'mono' }, p.url)),
      h('dt', {}, 'Patient'), h('dd', {}, h('code', { class: 'mono' }, p.did))),
  ];
  if (p.status === 'granted') {
    const view = recordView();
    const open = h('button', { type: 'button', class: 'button' }, 'Read her record');
    const area = h('div');
    open.addEventListener('click', () => area.replaceChildren(view));
    view.querySelector('select').addEventListener('change', () => viewLoad());
    const viewLoad = async () => {
      const box = view.querySelector('.records');
      const select = view.querySelector('select');
      box.replaceChildren(h('p', {}, 'Reading her record…'));
      try {
        const r = await api.get(`web/v1/physician/patients/${p.id}/records?type=${select.value}`);
        if (!r.allowed) {
          box.replaceChildren(h('p', { class: 'notice' }, `Not allowed: ${r.detail}.`));
          return;
        }
        const entries = ((r.bundle && r.bundle.entry) || []).map((e) => e.resource || {});
        box.replaceChildren(entries.length ? h('ul', { class: 'plain-list' }, entries.map((res) => h('li', {},
          (res.medicationCodeableConcept && res.medicationCodeableConcept.text) || (res.code && res.code.text) || res.resourceType,
          (res.dosageInstruction || [])[0] ? ` — ${res.dosageInstruction[0].text}` : ''))) : h('p', { class: 'empty' }, 'Nothing of this kind in her record.'));
      } catch (err) {
        box.replaceChildren(errorBox(err, ctx.app.reasons));
      }
    };
    open.addEventListener('click', viewLoad);
    items.push(h('div', { class: 'actions' }, open, h('a', { class: 'button primary', href: `#prescribe?patient=${p.id}` }, 'Prescribe')), area);
  }
  return h('li', { class: 'card stack patient', dataset: { patient: p.id, status: p.status } }, items);
}

export async function render(main, ctx) {
  const url = h('input', { type: 'text', inputmode: 'url', name: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://…', required: true });
  const msg = h('div', { class: 'message', role: 'status', id: 'connect-message' });
  const list = h('div', { id: 'patients' });
  const form = h('form', { class: 'card stack', id: 'connect-form', novalidate: true },
    h('h2', {}, 'Connect to a patient'),
    field('The address of her container', url, 'She reads it out or shows it as a QR code in her app; your container asks hers for access with your license.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Connect')), msg);
  main.append(h('h1', {}, 'Patients'), form, list);
  let timer = null;
  ctx.stop = () => timer && window.clearTimeout(timer);
  const refresh = async () => {
    const r = await api.get('web/v1/physician/patients');
    const patients = r.patients || [];
    list.replaceChildren(patients.length ? h('ul', { class: 'cards' }, patients.map((p) => patientCard(p, ctx, refresh))) : h('p', { class: 'empty' }, 'No patient connected yet.'));
    const waiting = patients.filter((p) => p.status === 'request_submitted');
    if (waiting.length) {
      timer = window.setTimeout(async () => {
        for (const p of waiting) {
          const now = await api.post(`web/v1/physician/patients/${p.id}/poll`, {}).catch(() => p);
          if (now.status !== p.status) ctx.announce(now.status === 'granted' ? 'The patient granted access.' : 'The patient decided.');
        }
        refresh();
      }, 2000);
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!url.value.trim()) {
      msg.replaceChildren(h('p', { class: 'error' }, 'Enter the address of her container.'));
      url.focus();
      return;
    }
    msg.replaceChildren(h('p', {}, 'Asking her container…'));
    try {
      const p = await api.post('web/v1/physician/patients', { url: url.value.trim() });
      msg.replaceChildren(h('p', { class: p.status === 'error' || p.status === 'denied' ? 'error' : 'info' }, GRANT_WORDS[p.status] || p.status));
      form.reset();
      ctx.stop();
      await refresh();
    } catch (err) {
      msg.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  });
  await refresh();
}
