// Staff: who can sign in to this app; a manager (a pharmacist, a clerk) adds someone with a
// one-time setup link. The app gives its roles in words (ctx.app.roleWords) and its manager role.
import { h, clear, field } from './dom.js';
import * as api from './api.js';
import { errorBox } from './staff.js';

export async function render(main, ctx) {
  main.append(h('h1', {}, 'Staff'));
  const words = ctx.app.roleWords || {};
  if (ctx.state.account.role !== ctx.app.managerRole) {
    main.append(h('p', { class: 'notice' }, `Only a ${ctx.app.managerRole} manages staff.`));
    return;
  }
  const list = h('div', { id: 'staff-list' });
  const name = h('input', { type: 'text', name: 'name', maxlength: '32', autocomplete: 'off', pattern: '[a-z0-9._-]+', required: true });
  const display = h('input', { type: 'text', name: 'display_name', maxlength: '64', autocomplete: 'off' });
  const role = h('select', { name: 'role' }, Object.entries(words).map(([value, text]) => h('option', { value }, text)));
  const msg = h('div', { class: 'message', role: 'status', id: 'staff-message' });
  const form = h('form', { class: 'card stack', id: 'add-staff', novalidate: true },
    h('h2', {}, 'Add someone'),
    field('Account name', name, 'Lower-case letters, digits, dot, dash or underscore.'),
    field('Full name', display), field('Role', role),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Create a setup link')), msg);
  const load = async () => {
    clear(list);
    const r = await api.get('web/v1/staff');
    list.append(h('ul', { class: 'plain-list' }, (r.staff || []).map((a) => h('li', {}, `${a.display_name} — ${a.role} (${a.name})`))));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.post('web/v1/staff', { name: name.value.trim(), display_name: display.value.trim(), role: role.value });
      form.reset();
      msg.replaceChildren(h('p', { class: 'ok' }, `Give ${r.account.display_name} this one-time link (valid ${Math.round(r.expires_in / 60)} minutes): `),
        h('input', { type: 'text', readOnly: true, value: r.setup_link, class: 'mono', 'aria-label': 'Setup link', id: 'setup-link' }));
      await load();
    } catch (err) {
      msg.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  });
  main.append(list, form);
  await load();
}
