// Onboarding requests: a physician proved her DID and named her license number; a clerk checks
// it against the directory and approves (the license is issued) or rejects with a reason.
import { h, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { when, STATUS_WORDS } from './words.js';

function requestCard(r, ctx, reload) {
  const clerk = ctx.state.account.role === 'clerk';
  const msg = h('div', { class: 'message', role: 'status' });
  const actions = [];
  if (r.status === 'pending' && clerk) {
    const approve = h('button', { type: 'button', class: 'button primary', disabled: !r.directory_match }, 'Approve and issue the license');
    approve.addEventListener('click', async () => {
      approve.disabled = true;
      try {
        await api.post(`web/v1/desk/onboarding/${r.id}`, { action: 'approve' });
        ctx.announce(`License issued to ${r.name}.`);
        reload();
      } catch (err) {
        approve.disabled = false;
        msg.replaceChildren(errorBox(err, ctx.app.reasons));
      }
    });
    const reason = h('input', { type: 'text', name: 'reason', maxlength: '200', autocomplete: 'off' });
    const reject = h('button', { type: 'submit', class: 'button danger' }, 'Reject');
    const form = h('form', { class: 'stack', novalidate: true }, field('Reason for rejecting', reason, 'The physician sees it. One line.'), h('div', { class: 'actions' }, reject));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.post(`web/v1/desk/onboarding/${r.id}`, { action: 'reject', reason: reason.value.trim() });
        ctx.announce('Request rejected.');
        reload();
      } catch (err) {
        msg.replaceChildren(errorBox(err, ctx.app.reasons));
        reason.focus();
      }
    });
    actions.push(h('div', { class: 'actions' }, approve), form);
  }
  return h('li', { class: 'card stack onboarding', dataset: { request: r.id, status: r.status } },
    h('h2', { class: 'card-title' }, `${r.name} — license ${r.license_number}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { class: 'status' }, STATUS_WORDS[r.status] || r.status, r.reason ? ` (${r.reason})` : ''),
      h('dt', {}, 'Directory'), h('dd', {}, r.directory_match ? 'The number and name match a directory entry.' : 'No directory entry matches this number and name.'),
      h('dt', {}, 'Asked'), h('dd', {}, when(r.created)),
      r.decided_by ? [h('dt', {}, 'Decided by'), h('dd', {}, `${r.decided_by}, ${when(r.decided_at)}`)] : null,
      h('dt', {}, 'Her DID'), h('dd', {}, h('code', { class: 'mono' }, r.did))),
    actions, msg);
}

export async function render(main, ctx) {
  const box = h('div', { id: 'onboarding' });
  main.append(h('h1', {}, 'Onboarding'),
    h('p', { class: 'lead' }, ctx.state.society && ctx.state.society.review
      ? 'Physicians who asked for their license credential. Check each against the directory, then approve or reject.'
      : 'This society issues licenses at once when a request matches the directory; requests appear here only when it reviews them (issuer serve --review).'),
    box);
  const reload = async () => {
    const list = await api.get('web/v1/desk/onboarding');
    const rows = list.requests || [];
    box.replaceChildren(rows.length ? h('ul', { class: 'cards' }, rows.map((r) => requestCard(r, ctx, reload))) : h('p', { class: 'empty' }, 'No onboarding request.'));
  };
  await reload();
  // New requests appear without a reload while the page is open.
  const timer = window.setInterval(async () => {
    if (!box.querySelector('input:focus')) await reload().catch(() => {});
  }, 4000);
  ctx.stop = () => window.clearInterval(timer);
}
