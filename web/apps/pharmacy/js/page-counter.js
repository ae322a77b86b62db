// The counter: "new customer" makes a presentation request (a QR code and a link her container
// opens); her presentation arrives checked, every check of the pipeline a row; a pharmacist
// dispenses (the ledger's dispense record, her signed receipt) or refuses with a reason.
import { h, clear, field, details, qrImage } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { rxStepWords, rxReasonWords } from '../shared/js/rx-words.js';
import { errorBox } from '../shared/js/staff.js';

const STATUS_WORDS = {
  waiting: 'Waiting for the patient to present a prescription',
  checking: 'Checking the presentation…',
  held: 'Verified — waiting for the pharmacist',
  dispensing: 'Dispensing…',
  dispensed: 'Dispensed',
  refused: 'Refused',
  expired: 'Expired before anything was presented',
};

const POINTER_WORDS = {
  '/sub': 'the patient’s identifier',
  '/prescription/subject': 'the patient’s name',
  '/prescription/dosageInstruction': 'how to take it',
  '/prescription/requester': 'who wrote it',
  '/prescription/authoredOn': 'when it was written',
  '/prescription/reasonCode': 'why it was prescribed',
  '/prescription/note': 'the physician’s notes',
};


function checksList(result) {
  const steps = (result && result.steps) || [];
  return h('ol', { class: 'checks', 'aria-label': 'Checks of the presentation' }, steps.map((s) => h('li', { class: s.ok ? 'ok' : 'error', dataset: { step: s.step } },
    h('strong', {}, s.ok ? 'Passed: ' : 'Failed: '), rxStepWords(s.step), s.detail ? h('span', { class: 'hint' }, ` — ${s.detail}`) : null)));
}

function presented(result) {
  const p = (result && result.presented) || {};
  const disclosed = (result && result.disclosed) || null;
  return h('dl', { class: 'facts' },
    h('dt', {}, 'Medication'), h('dd', { id: 'rx-medication' }, p.medication || 'not shown'),
    p.quantity ? [h('dt', {}, 'Quantity'), h('dd', {}, String(p.quantity))] : null,
    h('dt', {}, 'Controlled substance'), h('dd', {}, p.schedule ? `Schedule ${p.schedule}` : 'No'),
    result && result.fills_allowed ? [h('dt', {}, 'Fill'), h('dd', { id: 'rx-fill' }, `${result.fill} of ${result.fills_allowed}`)] : null,
    h('dt', {}, 'Prescriber'), h('dd', {}, h('code', { class: 'mono' }, p.prescriber || 'unknown')),
    h('dt', {}, 'Patient'), h('dd', {}, p.holder ? h('code', { class: 'mono' }, p.holder) : 'not disclosed (a pseudonymous key proves she holds it)'),
    h('dt', {}, 'What was disclosed'), h('dd', { id: 'rx-disclosed' }, disclosed
      ? `Only what dispensing needs (the medication, quantity, fills and the license)${disclosed.length ? `, and ${disclosed.map((d) => POINTER_WORDS[d] || d).join(', ')}` : ''}; the rest stayed hidden.`
      : 'The whole prescription.'));
}

function requestView(r, ctx, refresh) {
  const role = ctx.state.account.role;
  const result = r.result || {};
  const box = h('section', { class: 'card stack', id: 'counter-request', dataset: { status: r.status }, 'aria-labelledby': 'req-title' },
    h('h2', { id: 'req-title' }, STATUS_WORDS[r.status] || r.status));
  if (r.status === 'refused') {
    box.append(h('p', { class: 'error', id: 'refusal' }, rxReasonWords(r.refusal), result.detail ? h('span', { class: 'hint' }, ` (${result.detail})`) : null),
      h('p', {}, 'Nothing was dispensed and nothing was written.'));
  }
  if (r.status === 'dispensed') {
    box.append(h('p', { class: 'ok', id: 'dispensed' }, `Dispensed fill ${result.fill} of ${result.fills_allowed}; the dispense record is at ledger index ${result.dispense_index}. The patient’s container received the signed receipt.`));
  }
  if (r.result) box.append(presented(result), h('h3', {}, 'Checks'), checksList(result));
  if (r.status === 'held') {
    if (role !== 'pharmacist') {
      box.append(h('p', { class: 'notice' }, 'A pharmacist must dispense or refuse.'));
    } else {
      const dispense = h('button', { type: 'button', class: 'button primary', id: 'dispense-button' }, 'Dispense');
      const reason = h('input', { type: 'text', name: 'refusal', maxlength: '200', autocomplete: 'off' });
      const refuse = h('button', { type: 'submit', class: 'button danger', id: 'refuse-button' }, 'Refuse');
      const msg = h('div', { class: 'message', role: 'status' });
      dispense.addEventListener('click', async () => {
        dispense.disabled = true;
        refuse.disabled = true;
        msg.replaceChildren(h('p', {}, 'Writing the dispense record…'));
        try {
          await api.post(`web/v1/counter/requests/${r.id}/dispense`, {});
          ctx.announce('Dispensed.');
        } catch (err) {
          ctx.announce('Not dispensed.');
        }
        refresh();
      });
      const form = h('form', { class: 'stack', id: 'refuse-form', novalidate: true }, field('Reason for refusing', reason, 'Told to the patient. One line, at most 200 characters.'), h('div', { class: 'actions' }, refuse));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (!reason.value.trim()) {
          msg.replaceChildren(h('p', { class: 'error' }, 'Give a reason for refusing.'));
          reason.focus();
          return;
        }
        refuse.disabled = true;
        try {
          await api.post(`web/v1/counter/requests/${r.id}/refuse`, { reason: reason.value.trim() });
          ctx.announce('Refused.');
          refresh();
        } catch (err) {
          refuse.disabled = false;
          msg.replaceChildren(errorBox(err, ctx.app.reasons));
        }
      });
      box.append(h('div', { class: 'actions' }, dispense), form, msg);
    }
  }
  if (r.result) box.append(details('Technical details', h('pre', { class: 'mono' }, JSON.stringify(r.result, null, 2))));
  return box;
}

export async function render(main, ctx) {
  const area = h('div', { id: 'counter-area' });
  const recent = h('div', { id: 'recent' });
  const start = h('button', { type: 'button', class: 'button primary', id: 'new-customer' }, 'New customer');
  main.append(h('h1', {}, 'Counter'),
    h('p', { class: 'lead' }, 'For each customer, show a new request: her container presents the prescription to it, and every check appears here.'),
    h('div', { class: 'actions' }, start), area, h('h2', {}, 'Recent requests'), recent);
  let timer = null;
  let shown = '';
  ctx.stop = () => {
    if (timer) window.clearTimeout(timer);
    timer = null;
  };
  const loadRecent = async () => {
    try {
      const list = await api.get('web/v1/counter/requests');
      clear(recent);
      const rows = (list.requests || []);
      if (!rows.length) recent.append(h('p', { class: 'empty' }, 'No request in the last 24 hours.'));
      else recent.append(h('ul', { class: 'plain-list' }, rows.map((r) => h('li', {}, h('a', { href: `#counter?r=${r.id}` }, new Date(r.created_at * 1000).toLocaleTimeString()), ` — ${STATUS_WORDS[r.status] || r.status}${r.result && r.result.presented && r.result.presented.medication ? `: ${r.result.presented.medication}` : ''} (by ${r.created_by})`))));
    } catch {
      /* shown elsewhere */
    }
  };
  const follow = async (id, offer) => {
    ctx.stop();
    shown = id;
    const poll = async () => {
      if (shown !== id) return;
      try {
        const r = await api.get(`web/v1/counter/requests/${id}`);
        clear(area);
        if (offer && (r.status === 'waiting' || r.status === 'checking')) {
          area.append(offer);
        }
        area.append(requestView(r, ctx, () => follow(id, null)));
        if (['waiting', 'checking', 'dispensing'].includes(r.status)) {
          timer = window.setTimeout(poll, 1200);
        } else {
          if (r.status === 'held') ctx.announce('A prescription was presented and checked.');
          loadRecent();
        }
      } catch (err) {
        clear(area);
        area.append(errorBox(err, ctx.app.reasons));
      }
    };
    await poll();
  };
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const req = await api.post('web/v1/counter/requests', {});
      const link = h('input', { type: 'text', readOnly: true, value: req.link, id: 'request-link', class: 'mono' });
      const offer = h('section', { class: 'card stack offer', 'aria-labelledby': 'offer-title' },
        h('h2', { id: 'offer-title' }, 'Ask the patient to scan this'),
        qrImage(req.qr_svg, 'QR code the patient scans with her phone to present a prescription'),
        field('Or give her this link for her container’s Prescriptions page', link),
        h('p', { class: 'hint' }, `Valid for ${Math.round(req.expires_in / 60)} minutes, for one prescription.`));
      ctx.announce('New request ready: show the QR code to the patient.');
      await follow(req.id, offer);
      loadRecent();
    } catch (err) {
      area.replaceChildren(errorBox(err, ctx.app.reasons));
    } finally {
      start.disabled = false;
    }
  });
  const m = window.location.hash.match(/[?&]r=([A-Za-z0-9_-]+)/);
  if (m) await follow(m[1], null);
  await loadRecent();
}
