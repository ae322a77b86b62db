// Issued licenses with their status and the reason of each change; revoke, suspend or
// reinstate after a confirmation and with a reason; the status lists' state.
import { h, clear, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { when, STATUS_WORDS, ACTION_WORDS } from './words.js';

const VERBS = { revoke: 'Revoke', suspend: 'Suspend', reinstate: 'Reinstate' };

function changeForm(l, ctx, reload) {
  const actions = l.status === 'revoked' ? [] : l.status === 'suspended' ? ['reinstate', 'revoke'] : ['suspend', 'revoke'];
  if (!actions.length || ctx.state.account.role !== 'clerk' || l.superseded) return null;
  const action = h('select', { name: 'action' }, actions.map((a) => h('option', { value: a }, VERBS[a])));
  const reason = h('input', { type: 'text', name: 'reason', maxlength: '200', autocomplete: 'off' });
  const msg = h('div', { class: 'message', role: 'status' });
  const confirmBox = h('div', { class: 'confirm' });
  const go = h('button', { type: 'submit', class: 'button' }, 'Change the status…');
  const form = h('form', { class: 'stack change-status', novalidate: true }, field('Change', action), field('Reason', reason, 'Kept with the license’s history. One line.'), h('div', { class: 'actions' }, go), confirmBox, msg);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!reason.value.trim()) {
      msg.replaceChildren(h('p', { class: 'error' }, 'Give a reason.'));
      reason.focus();
      return;
    }
    const verb = VERBS[action.value];
    const yes = h('button', { type: 'button', class: 'button danger' }, `Yes, ${verb.toLowerCase()} license ${l.license_number}`);
    const no = h('button', { type: 'button', class: 'button quiet' }, 'Cancel');
    confirmBox.replaceChildren(h('p', { class: 'notice', role: 'alert' }, `${verb} the license of ${l.name || l.did} (${l.license_number})? ${action.value === 'revoke' ? 'A revocation is final: every pharmacy will refuse her prescriptions from now on.' : ''}`), h('div', { class: 'actions' }, yes, no));
    yes.focus();
    no.addEventListener('click', () => clear(confirmBox));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await api.post(`web/v1/desk/licenses/${encodeURIComponent(l.id)}/status`, { action: action.value, reason: reason.value.trim(), confirm: l.license_number });
        ctx.announce(`License ${l.license_number}: ${ACTION_WORDS[action.value].toLowerCase()}.`);
        reload();
      } catch (err) {
        yes.disabled = false;
        msg.replaceChildren(errorBox(err, ctx.app.reasons));
      }
    });
  });
  return form;
}

function licenseCard(l, ctx, reload) {
  return h('li', { class: 'card stack license', dataset: { license: l.id, status: l.status } },
    h('h2', { class: 'card-title' }, `${l.name || 'A physician'} — ${l.license_number}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { class: `status ${l.status}` }, l.superseded ? 'Replaced by a newer license' : STATUS_WORDS[l.status] || l.status),
      h('dt', {}, 'Issued'), h('dd', {}, when(l.issued)),
      h('dt', {}, 'Holder'), h('dd', {}, h('code', { class: 'mono' }, l.did)),
      (l.events || []).length ? [h('dt', {}, 'History'), h('dd', {}, h('ul', { class: 'plain-list' }, l.events.map((e) => h('li', {}, `${ACTION_WORDS[e.action] || e.action} by ${e.by}, ${when(e.at)}${e.reason ? `: ${e.reason}` : ''}`))))] : null),
    changeForm(l, ctx, reload));
}

export async function render(main, ctx) {
  const lists = h('section', { class: 'card stack', id: 'status-lists', 'aria-labelledby': 'lists-title' });
  const box = h('div', { id: 'licenses' });
  main.append(h('h1', {}, 'Licenses'), h('p', { class: 'lead' }, 'Every license this society issued. Pharmacies read its status from the public status lists below.'), lists, box);
  const reload = async () => {
    const [state, list] = await Promise.all([api.get('web/v1/desk/status-lists'), api.get('web/v1/desk/licenses')]);
    lists.replaceChildren(h('h2', { id: 'lists-title' }, 'Status lists'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Revocation list'), h('dd', {}, `${state.revocation.set} revoked of ${state.revocation.length} entries — `, h('code', { class: 'mono' }, state.revocation.url)),
        h('dt', {}, 'Suspension list'), h('dd', {}, `${state.suspension.set} suspended — `, h('code', { class: 'mono' }, state.suspension.url)),
        h('dt', {}, 'Last changed'), h('dd', { id: 'lists-updated' }, when(state.updated_at)),
        h('dt', {}, 'Pharmacies see a change within'), h('dd', {}, `${Math.round(state.ttl_ms / 1000)} s (the lists’ time to live)`)));
    const rows = (list.licenses || []).slice().reverse();
    box.replaceChildren(rows.length ? h('ul', { class: 'cards' }, rows.map((l) => licenseCard(l, ctx, reload))) : h('p', { class: 'empty' }, 'No license issued yet.'));
  };
  await reload();
}
