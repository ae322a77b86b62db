// The day's dispenses: what the pharmacy keeps (medication, quantity, fill, prescriber, the
// ledger's record) and no patient identity beyond what she presented.
import { h, clear, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';

function today() {
  return new Date().toISOString().slice(0, 10);
}

export async function render(main, ctx) {
  const dayInput = h('input', { type: 'date', name: 'day', value: today(), id: 'dispense-day' });
  const table = h('div', { id: 'dispenses' });
  const form = h('form', { class: 'inline-form', novalidate: true }, field('Day (UTC)', dayInput), h('button', { type: 'submit', class: 'button' }, 'Show'));
  main.append(h('h1', {}, 'Today’s dispenses'),
    h('p', { class: 'lead' }, 'What this pharmacy dispensed, with the ledger’s record of each fill. Patients appear only as they presented themselves.'),
    form, table);
  const load = async () => {
    clear(table);
    try {
      const list = await api.get(`web/v1/dispenses?day=${encodeURIComponent(dayInput.value || today())}`);
      const rows = list.dispenses || [];
      if (!rows.length) {
        table.append(h('p', { class: 'empty' }, 'Nothing dispensed that day.'));
        return;
      }
      table.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('caption', {}, `${rows.length} dispense${rows.length === 1 ? '' : 's'} on ${list.day}`),
        h('thead', {}, h('tr', {}, ['Time', 'Medication', 'Quantity', 'Fill', 'Schedule', 'Staff', 'Ledger index'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('td', {}, new Date(r.at * 1000).toLocaleTimeString()),
          h('td', {}, r.medication || '—'),
          h('td', {}, String(r.quantity)),
          h('td', {}, `${r.fill} of ${r.fills_allowed}`),
          h('td', {}, r.schedule ? `Schedule ${r.schedule}` : '—'),
          h('td', {}, r.staff || 'API'),
          h('td', {}, String(r.ledger_index))))))));
    } catch (err) {
      table.append(errorBox(err, ctx.app.reasons));
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  await load();
}
