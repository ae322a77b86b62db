// Home: the records in the container, one tab per FHIR type, newest first, with who wrote each
// and when (local time); and a form to add a symptom report (a FHIR Observation).
import { h, clear, field, details, newId } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { RECORD_TYPES, didWords, when, isoAttr, errorWords, errorDetail, capital } from './words.js';
import { loadLog, authors } from './log.js';

let selected = 'MedicationRequest';

function title(r) {
  const cc = r.medicationCodeableConcept || r.code || r.type || {};
  if (cc.text) return cc.text;
  const c = (cc.coding || [])[0];
  if (c && (c.display || c.code)) return c.display || c.code;
  if (r.description) return r.description;
  return `${r.resourceType} ${r.id}`;
}

function whenWritten(r) {
  return r.authoredOn || r.recordedDate || r.effectiveDateTime || r.issued || r.date || r.onsetDateTime || (r.meta && r.meta.lastUpdated);
}

function lastUpdated(r) {
  return (r.meta && r.meta.lastUpdated) || whenWritten(r) || '';
}

function extraLines(r) {
  const lines = [];
  if (r.resourceType === 'MedicationRequest') {
    for (const d of r.dosageInstruction || []) if (d.text) lines.push(`How to take it: ${d.text}`);
    const dr = r.dispenseRequest || {};
    if (dr.quantity) lines.push(`Quantity: ${dr.quantity.value} ${dr.quantity.unit || ''}`.trim());
    if (dr.numberOfRepeatsAllowed !== undefined) lines.push(`Refills: ${dr.numberOfRepeatsAllowed}`);
  }
  if (r.resourceType === 'Observation') {
    if (r.valueCodeableConcept && r.valueCodeableConcept.text) lines.push(`Severity: ${r.valueCodeableConcept.text}`);
    if (r.valueString) lines.push(r.valueString);
    if (r.valueQuantity) lines.push(`${r.valueQuantity.value} ${r.valueQuantity.unit || ''}`.trim());
    for (const n of r.note || []) if (n.text) lines.push(`Note: ${n.text}`);
  }
  if (r.resourceType === 'AllergyIntolerance' && r.criticality) lines.push(`Criticality: ${r.criticality}`);
  if (r.resourceType === 'Condition' && r.clinicalStatus && r.clinicalStatus.coding) {
    lines.push(`Status: ${r.clinicalStatus.coding.map((c) => c.code).join(', ')}`);
  }
  return lines;
}

function writer(r, written, ownerDid) {
  const who = written.get(`${r.resourceType}/${r.id}`);
  const named = (r.requester && r.requester.display) || (r.recorder && r.recorder.display) || (r.asserter && r.asserter.display) ||
    ((r.performer || [])[0] && r.performer[0].display) || ((r.author || [])[0] && r.author[0].display);
  if (who) return capital(didWords(who.party, ownerDid)) + (named ? ` (${named})` : '');
  if (named) return named;
  return 'Unknown (written before the log began)';
}

function recordCard(r, written, ownerDid) {
  const by = writer(r, written, ownerDid);
  const t = whenWritten(r);
  const who = written.get(`${r.resourceType}/${r.id}`);
  return h('li', { class: 'card record' },
    h('h3', {}, title(r)),
    h('p', { class: 'meta' },
      'Written by ', h('strong', {}, by), ' · ',
      h('time', { datetime: isoAttr(t) }, when(t)),
      r.status ? ` · ${r.status}` : ''),
    extraLines(r).map((l) => h('p', {}, l)),
    details('Technical details',
      who && who.party ? h('p', {}, 'Writer’s identifier: ', h('code', { class: 'mono' }, who.party)) : null,
      h('pre', { class: 'mono' }, JSON.stringify(r, null, 2))));
}

async function loadType(type) {
  const bundle = await api.get(`fhir/${type}?_count=1000`);
  const list = ((bundle && bundle.entry) || []).map((e) => e.resource);
  list.sort((a, b) => String(lastUpdated(b)).localeCompare(String(lastUpdated(a))));
  return list;
}

function symptomForm(ctx, onAdded) {
  const what = h('input', { type: 'text', name: 'symptom', required: true, maxlength: '200', autocomplete: 'off' });
  const severity = h('select', { name: 'severity' },
    h('option', { value: 'mild' }, 'Mild'), h('option', { value: 'moderate', selected: true }, 'Moderate'), h('option', { value: 'severe' }, 'Severe'));
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '2000' });
  const status = h('div', { role: 'status', class: 'message' });
  const button = h('button', { type: 'submit', class: 'button primary' }, 'Add to my records');
  const form = h('form', { class: 'card stack', id: 'symptom-form', novalidate: true },
    h('h2', {}, 'Add a symptom report'),
    h('p', {}, 'Write down how you feel. It is kept in your records as an observation; only people you share observations with can see it.'),
    field('What are you feeling?', what, 'For example: headache, nausea, dizziness.'),
    field('How strong is it?', severity),
    field('Since when? (optional)', since),
    field('Anything else? (optional)', notes),
    button, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!what.value.trim()) {
      status.replaceChildren(h('p', { class: 'error' }, 'Say what you are feeling.'));
      what.setAttribute('aria-invalid', 'true');
      what.focus();
      return;
    }
    what.removeAttribute('aria-invalid');
    const now = new Date();
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' }] }],
      code: { text: what.value.trim() },
      effectiveDateTime: (since.value ? new Date(since.value) : now).toISOString(),
      issued: now.toISOString(),
      valueCodeableConcept: { text: severity.value },
    };
    if (notes.value.trim()) obs.note = [{ text: notes.value.trim() }];
    button.disabled = true;
    try {
      await api.call('POST', 'fhir/Observation', obs, { contentType: 'application/fhir+json' });
      form.reset();
      // Show the new entry first (the Observations tab), then say so.
      await onAdded();
      status.replaceChildren(h('p', { class: 'ok' }, 'Added to your observations.'));
      ctx.announce('Your symptom report was added to your observations.');
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function render(main, ctx) {
  const heading = h('h1', {}, 'Your records');
  const tablist = h('div', { role: 'tablist', 'aria-label': 'Kinds of records', class: 'tabs' });
  const panel = h('div', { role: 'tabpanel', class: 'tabpanel', tabindex: '0', id: newId('panel') });
  const tabs = RECORD_TYPES.map(([type, label]) => {
    const tab = h('button', { type: 'button', role: 'tab', id: `tab-${type}`, 'aria-controls': panel.id, dataset: { type } }, label);
    tab.addEventListener('click', () => select(type, false));
    tab.addEventListener('keydown', (ev) => {
      const i = RECORD_TYPES.findIndex(([t]) => t === type);
      let j = -1;
      if (ev.key === 'ArrowRight') j = (i + 1) % RECORD_TYPES.length;
      if (ev.key === 'ArrowLeft') j = (i - 1 + RECORD_TYPES.length) % RECORD_TYPES.length;
      if (ev.key === 'Home') j = 0;
      if (ev.key === 'End') j = RECORD_TYPES.length - 1;
      if (j >= 0) {
        ev.preventDefault();
        select(RECORD_TYPES[j][0], true);
      }
    });
    return tab;
  });
  tablist.append(...tabs);

  let written = new Map();
  async function refreshAuthors() {
    try {
      written = authors((await loadLog()).entries);
    } catch {
      written = new Map();
    }
  }

  async function select(type, focus) {
    selected = type;
    for (const t of tabs) {
      const on = t.dataset.type === type;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
    }
    panel.setAttribute('aria-labelledby', `tab-${type}`);
    panel.setAttribute('aria-busy', 'true');
    clear(panel).append(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const list = await loadType(type);
      if (selected !== type) return;
      clear(panel);
      const label = (RECORD_TYPES.find(([t]) => t === type) || [type, type])[1];
      panel.append(h('h2', { class: 'panel-title' }, `${label}: ${list.length || 'none yet'}`));
      if (list.length) panel.append(h('ul', { class: 'cards', 'aria-label': `${list.length} records, newest first` }, list.map((r) => recordCard(r, written, ctx.ownerDid))));
    } catch (err) {
      clear(panel).append(h('p', { class: 'error' }, errorWords(err)));
    } finally {
      panel.removeAttribute('aria-busy');
    }
  }

  main.append(heading,
    h('p', { class: 'lead' }, 'Everything your caregivers wrote into your container, and what you added yourself. Newest first; times are in your local time.'),
    tablist, panel,
    symptomForm(ctx, async () => {
      await refreshAuthors();
      await select('Observation', false);
    }));
  await refreshAuthors();
  await select(selected, false);
}
