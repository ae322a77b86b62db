// Staff: who can sign in at this counter; a pharmacist adds someone with a one-time setup link.
import { h, clear, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';

export async function render(main, ctx) {
  main.append(h('h1', {}, 'Staff'));
  if (ctx.state.account.role !== 'pharmacist') {
    main.append(h('p', { class: 'notice' }, 'Only a pharmacist manages staff.'));
    return;
  }
  const list = h('div', { id: 'staff-list' });
  const name = h('input', { type: 'text', name: 'name', maxlength: '32', autocomplete: 'off', pattern: '[a-z0-9._-]+', required: true });
  const display = h('input', { type: 'text', name: 'display_name', maxlength: '64', autocomplete: 'off' });
  const role = h('select', { name: 'role' }, h('option', { value: 'technician' }, 'Technician (prepares, cannot dispense)'), h('option', { value: 'pharmacist' }, 'Pharmacist (dispenses)'));
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
