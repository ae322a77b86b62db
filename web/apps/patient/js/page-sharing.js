// Sharing: the owner's private policies (owner/v1/policies) — listed as plain sentences,
// created, edited and revoked. The container has no update endpoint, so an edit adds the new
// rule and then revokes the old one (the page says so).
import { h, clear, field, choices, details, qrImage } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { RECORD_TYPES, SCOPES, PURPOSES, policySentence, relationshipWords, errorWords, errorDetail, when, isoAttr } from './words.js';

function dateInputValue(seconds) {
  if (!seconds) return '';
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function secondsFromDate(value, endOfDay) {
  if (!value) return 0;
  const [y, m, d] = value.split('-').map(Number);
  const date = endOfDay ? new Date(y, m - 1, d + 1, 0, 0, 0) : new Date(y, m - 1, d, 0, 0, 0);
  return Math.floor(date.getTime() / 1000);
}

function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

// The policy JSON (docs/uma.md §Policies) from the form; throws a sentence if incomplete.
function policyFromForm(form) {
  const effect = checked(form, 'effect')[0] || 'permit';
  const whoKind = checked(form, 'who')[0] || 'physicians';
  const subjects = [];
  if (whoKind === 'physicians') subjects.push({ credential_type: 'MedicalLicenseCredential' });
  else if (whoKind === 'relationship') {
    const rel = form.querySelector('[name="relationship"]').value;
    if (!rel) throw new Error('Choose the relationship.');
    subjects.push({ relationship: rel });
  } else {
    const did = form.querySelector('[name="did"]').value.trim();
    if (!/^did:[a-z0-9]+:.+/.test(did)) throw new Error('Enter the identifier (DID) of the person or organisation, starting with “did:”.');
    subjects.push({ did });
  }
  let types = checked(form, 'types');
  if (types.includes('*')) types = ['*'];
  if (!types.length) throw new Error('Choose at least one kind of record.');
  const scopes = checked(form, 'scopes');
  if (!scopes.length) throw new Error('Choose at least one thing they may do.');
  const purposes = checked(form, 'purposes');
  if (effect === 'permit' && !purposes.length) throw new Error('Choose at least one reason (purpose) for which they may use your records.');
  const p = { effect, subjects, resource_types: types, scopes: scopes.length === SCOPES.length ? [] : scopes };
  if (!p.scopes.length) delete p.scopes;
  if (purposes.length) p.purposes = purposes;
  const nb = secondsFromDate(form.querySelector('[name="not_before"]').value, false);
  const na = secondsFromDate(form.querySelector('[name="not_after"]').value, true);
  if (nb) p.not_before = nb;
  if (na) p.not_after = na;
  if (nb && na && na <= nb) throw new Error('The end date must be after the start date.');
  if (effect === 'permit' && form.querySelector('[name="owner_approval"]').checked) p.owner_approval = true;
  const note = form.querySelector('[name="note"]').value.trim();
  if (note) p.note = note;
  return p;
}

function policyForm(ctx, existing, onDone, onCancel) {
  const p = existing || { effect: 'permit', subjects: [{ credential_type: 'MedicalLicenseCredential' }], resource_types: ['MedicationRequest'], scopes: ['read', 'search'], purposes: ['treatment'] };
  const subjectDid = (p.subjects || []).find((s) => s.did);
  const subjectRel = (p.subjects || []).find((s) => s.relationship);
  // Her relationships (from her seed and the ledger) fill the list once known; "any" is always
  // there, and a rule's own relationship stays selectable even if the list cannot be read.
  const relSelect = h('select', { name: 'relationship' },
    h('option', { value: '*' }, 'Any provider I have accepted a relationship with'));
  if (subjectRel && subjectRel.relationship !== '*') relSelect.append(h('option', { value: subjectRel.relationship }, relationshipWords(subjectRel.relationship)));
  if (subjectRel) relSelect.value = subjectRel.relationship;
  api.get('web/v1/relationships').then((out) => {
    for (const r of out.relationships || []) {
      if (r.deleted || r.patient_decision !== 'accepted' || [...relSelect.options].some((o) => o.value === r.rel)) continue;
      relSelect.append(h('option', { value: r.rel }, relationshipWords(r.rel, r)));
    }
  }).catch(() => {});
  const didInput = h('input', { type: 'text', name: 'did', value: subjectDid ? subjectDid.did : '', autocomplete: 'off', spellcheck: 'false' });
  const notBefore = h('input', { type: 'date', name: 'not_before', value: dateInputValue(p.not_before) });
  const notAfter = h('input', { type: 'date', name: 'not_after', value: dateInputValue(p.not_after ? p.not_after - 1 : 0) });
  const approval = h('input', { type: 'checkbox', name: 'owner_approval', id: 'owner-approval', checked: Boolean(p.owner_approval) });
  const note = h('input', { type: 'text', name: 'note', value: p.note || '', maxlength: '200', autocomplete: 'off' });
  const preview = h('p', { class: 'preview', id: 'policy-preview', 'aria-live': 'polite' });
  const status = h('div', { class: 'message', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, existing ? 'Save changes' : 'Add this rule');
  const cancel = h('button', { type: 'button', class: 'button quiet' }, 'Cancel');
  cancel.addEventListener('click', onCancel);
  const allScopes = p.scopes && p.scopes.length ? p.scopes : SCOPES.map(([k]) => k);
  const form = h('form', { class: 'card stack policy-form', id: 'policy-form', novalidate: true },
    h('h2', {}, existing ? 'Change a sharing rule' : 'New sharing rule'),
    existing ? h('p', { class: 'notice' }, 'Your container cannot change a rule in place: saving adds the changed rule and then revokes the old one. Both steps are written in your receipts, and any access given under the old rule stops.') : null,
    choices('Allow or refuse?', 'effect', 'radio', [['permit', 'Allow'], ['deny', 'Never allow (overrides any rule that allows)']], [p.effect]),
    choices('Who?', 'who', 'radio', [['physicians', 'Any licensed physician', 'with a license from a medical society your container trusts'], ['did', 'One person or organisation', 'by their identifier (DID)'], ['relationship', 'A provider you have a relationship with', 'they sign in with the private key of that relationship (see Relationships)']], [subjectDid ? 'did' : subjectRel ? 'relationship' : 'physicians']),
    field('Their identifier (DID)', didInput, 'Only for “one person or organisation”. It starts with “did:”.'),
    field('The relationship', relSelect, 'Only for “a provider you have a relationship with”. It counts while the relationship is active and accepted by you.'),
    choices('Which records?', 'types', 'checkbox', [...RECORD_TYPES.map(([k, label]) => [k, label]), ['*', 'All my records']], p.resource_types || []),
    choices('What may they do?', 'scopes', 'checkbox', SCOPES.map(([k, label]) => [k, label]), allScopes),
    choices('For what reason?', 'purposes', 'checkbox', PURPOSES.map(([k, label]) => [k, label]), p.purposes || []),
    h('div', { class: 'two' }, field('From (optional)', notBefore), field('Until (optional, included)', notAfter)),
    h('div', { class: 'choice' }, approval, h('label', { for: approval.id }, 'Ask me before each access')),
    field('Your own note (optional, only you see it)', note),
    h('div', { class: 'preview-box' }, h('h3', {}, 'In plain words'), preview),
    status,
    h('div', { class: 'actions' }, submit, cancel));
  const update = () => {
    const whoDid = checked(form, 'who')[0] === 'did';
    didInput.disabled = !whoDid;
    relSelect.disabled = checked(form, 'who')[0] !== 'relationship';
    const deny = checked(form, 'effect')[0] === 'deny';
    approval.disabled = deny;
    try {
      preview.textContent = policySentence(policyFromForm(form), ctx.ownerDid);
      preview.classList.remove('incomplete');
    } catch (err) {
      preview.textContent = err.message;
      preview.classList.add('incomplete');
    }
  };
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let policy;
    try {
      policy = policyFromForm(form);
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error' }, err.message));
      return;
    }
    submit.disabled = true;
    try {
      const created = await api.post('owner/v1/policies', policy);
      if (existing) {
        try {
          await api.del(`owner/v1/policies/${encodeURIComponent(existing.id)}`);
        } catch (err) {
          status.replaceChildren(h('p', { class: 'error' }, `The new rule was added, but the old one could not be revoked: ${errorWords(err)} Revoke it from the list.`));
          submit.disabled = false;
          await onDone(created, true);
          return;
        }
      }
      await onDone(created, false);
    } catch (err) {
      submit.disabled = false;
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
    }
  });
  update();
  return form;
}

function policyItem(p, ctx, { onEdit, onRevoke }) {
  const sentence = policySentence(p, ctx.ownerDid);
  const edit = h('button', { type: 'button', class: 'button', 'aria-label': `Change: ${sentence}` }, 'Change');
  const revoke = h('button', { type: 'button', class: 'button danger', 'aria-label': `Revoke: ${sentence}` }, 'Revoke');
  edit.addEventListener('click', () => onEdit(p));
  revoke.addEventListener('click', () => onRevoke(p, revoke));
  return h('li', { class: `card policy ${p.effect}`, dataset: { policy: p.id } },
    h('p', { class: 'sentence' }, sentence),
    p.note ? h('p', { class: 'meta' }, 'Your note: ', p.note) : null,
    h('div', { class: 'actions' }, edit, revoke),
    details('Technical details', h('p', {}, 'Rule id: ', h('code', { class: 'mono' }, p.id)), h('pre', { class: 'mono' }, JSON.stringify(p, null, 2))));
}

export async function render(main, ctx) {
  const listBox = h('div', { id: 'policy-list' });
  const formBox = h('div', {});
  const status = h('div', { role: 'status', class: 'message', id: 'sharing-status' });
  const addButton = h('button', { type: 'button', class: 'button primary', id: 'new-policy' }, 'New sharing rule');
  // Her container's address for a physician (text and QR code): the physician's workspace
  // connects to it and asks for access under these rules.
  const addressBox = h('div', { id: 'address-box' });
  const showAddress = h('button', { type: 'button', class: 'button', id: 'show-address' }, 'Show my container’s address');
  showAddress.addEventListener('click', async () => {
    try {
      const a = await api.get('web/v1/address');
      addressBox.replaceChildren(
        qrImage(a.qr_svg, 'QR code of your container’s address, for a physician to scan', 'address-qr'),
        field('Your container’s address', h('input', { type: 'text', readOnly: true, value: a.url, class: 'mono', id: 'address-url' })));
    } catch (err) {
      addressBox.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
    }
  });
  main.append(
    h('h1', {}, 'Sharing'),
    h('p', { class: 'lead' }, 'Your rules decide who may use your records, and why. They are private: nobody else can see them. Anything no rule allows is refused.'),
    status, addButton, formBox,
    h('h2', {}, 'Your rules'), listBox,
    h('section', { class: 'card stack', 'aria-labelledby': 'address-title' },
      h('h2', { id: 'address-title' }, 'For a physician'),
      h('p', {}, 'A physician connects to your container with its address (she scans the QR code or types it); she sees only what your rules allow.'),
      h('div', { class: 'actions' }, showAddress), addressBox));

  const closeForm = () => {
    clear(formBox);
    addButton.hidden = false;
    addButton.focus();
  };
  const openForm = (existing) => {
    addButton.hidden = true;
    clear(formBox).append(policyForm(ctx, existing, async (created, partial) => {
      const text = existing ? 'Your rule was changed (the old one is revoked).' : 'Your new rule is in force.';
      if (!partial) {
        clear(formBox);
        addButton.hidden = false;
        status.replaceChildren(h('p', { class: 'ok' }, text, ` It reads: ${policySentence(created, ctx.ownerDid)}`));
        ctx.announce(text);
      }
      await reload();
    }, closeForm));
    const first = formBox.querySelector('input');
    if (first) first.focus();
  };
  addButton.addEventListener('click', () => openForm(null));

  async function reload() {
    const list = await api.get('owner/v1/policies');
    clear(listBox);
    if (!list || !list.length) {
      listBox.append(h('p', { class: 'empty' }, 'You have no sharing rules: nobody can use your records.'));
      return;
    }
    listBox.append(h('ul', { class: 'cards' }, list.map((p) => policyItem(p, ctx, {
      onEdit: openForm,
      onRevoke: async (pol, button) => {
        if (!window.confirm(`Revoke this rule?\n\n${policySentence(pol, ctx.ownerDid)}\n\nAccess given under it stops now.`)) return;
        button.disabled = true;
        try {
          const r = await api.del(`owner/v1/policies/${encodeURIComponent(pol.id)}`);
          const n = r && r.tokens_revoked ? ` ${r.tokens_revoked} access pass${r.tokens_revoked === 1 ? '' : 'es'} stopped working.` : '';
          status.replaceChildren(h('p', { class: 'ok' }, `The rule is revoked.${n}`));
          ctx.announce(`The rule is revoked.${n}`);
          await reload();
          addButton.focus();
        } catch (err) {
          button.disabled = false;
          status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
        }
      },
    }))));
  }
  await reload();
}
