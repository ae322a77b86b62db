// The directory of licensed physicians: the entries, and an import from a CSV or JSON file with
// every problem listed by line (nothing is imported while one remains).
import { h, field } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { when } from './words.js';

export async function render(main, ctx) {
  const table = h('div', { id: 'directory' });
  const parts = [h('h1', {}, 'Directory'), h('p', { class: 'lead' }, 'Physicians this society licenses. An onboarding request is approved only when its license number and name match an entry here.')];
  if (ctx.state.account.role === 'clerk') {
    const file = h('input', { type: 'file', name: 'file', accept: '.csv,.json,text/csv,application/json' });
    const msg = h('div', { class: 'message', id: 'import-result', role: 'status' });
    const form = h('form', { class: 'card stack', id: 'import-form', novalidate: true },
      h('h2', {}, 'Import'),
      field('A CSV or JSON file', file, 'CSV columns: license_number, name, jurisdiction, license_type, specialty, schedules (e.g. “II III”), valid_until (e.g. 2028-01-01T00:00:00Z). Entries with a license number already here are replaced.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Import')), msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = file.files && file.files[0];
      if (!f) {
        msg.replaceChildren(h('p', { class: 'error' }, 'Choose a file.'));
        file.focus();
        return;
      }
      msg.replaceChildren(h('p', {}, `Importing ${f.name}…`));
      const content = await f.text();
      const format = /\.json$/i.test(f.name) || /^\s*\[/.test(content) ? 'json' : 'csv';
      try {
        const r = await api.post('web/v1/desk/directory/import', { format, content });
        msg.replaceChildren(h('p', { class: 'ok' }, `Imported ${f.name}: ${r.added} added, ${r.updated} replaced.`));
        ctx.announce('Directory imported.');
        await load();
      } catch (err) {
        const errors = (err.body && err.body.errors) || [];
        msg.replaceChildren(errorBox(err, ctx.app.reasons),
          errors.length ? h('ul', { class: 'errors', id: 'import-errors' }, errors.map((e) => h('li', {}, e.line ? `Line ${e.line}: ${e.message}` : e.message))) : null);
      }
    });
    parts.push(form);
  }
  main.append(...parts, table);
  const load = async () => {
    try {
      const d = await api.get('web/v1/desk/directory');
      const rows = d.directory || [];
      table.replaceChildren(!rows.length ? h('p', { class: 'empty' }, 'The directory is empty.') : h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('caption', {}, `${rows.length} licensed physician${rows.length === 1 ? '' : 's'}`),
        h('thead', {}, h('tr', {}, ['License', 'Name', 'Type', 'Specialty', 'Jurisdiction', 'Schedules', 'Valid until', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((e) => h('tr', {},
          h('td', {}, e.license_number), h('td', {}, e.name), h('td', {}, e.license_type), h('td', {}, e.specialty), h('td', {}, e.jurisdiction),
          h('td', {}, (e.schedules || []).join(' ') || '—'), h('td', {}, e.valid_until.slice(0, 10)), h('td', {}, `${when(e.updated_at)} (${e.source})`)))))));
    } catch (err) {
      table.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  };
  await load();
}
