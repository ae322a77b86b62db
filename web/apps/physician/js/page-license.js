// Her license: the credential, its issuer, its live status, the schedules it covers; without
// one, ask a society for it (onboarding, maybe waiting for its clerk).
import { h, field, details, qrImage } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorBox } from '../shared/js/staff.js';
import { when } from './words.js';

const STATUS = { active: 'Active (checked just now on the society’s status list)', revoked: 'Revoked', suspended: 'Suspended', unknown: 'Could not be checked now' };

export async function render(main, ctx) {
  main.append(h('h1', {}, 'My license'));
  const state = await api.get('web/v1/physician/state');
  const l = state.license;
  if (l) {
    main.append(h('section', { class: 'card stack', id: 'license' },
      h('h2', {}, `${l.name} — ${l.license_type} ${l.license_number}`),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Status'), h('dd', { id: 'license-status', class: `license ${l.status.status}` }, STATUS[l.status.status] || l.status.status),
        h('dt', {}, 'Issued by'), h('dd', {}, h('code', { class: 'mono' }, l.issuer)),
        h('dt', {}, 'Specialty'), h('dd', {}, l.specialty),
        h('dt', {}, 'Jurisdiction'), h('dd', {}, l.jurisdiction),
        h('dt', {}, 'Controlled substances'), h('dd', { id: 'license-schedules' }, (l.schedules || []).length ? `Schedules ${l.schedules.join(', ')}` : 'None'),
        h('dt', {}, 'Valid until'), h('dd', {}, when(l.valid_until))),
      details('The credential', h('pre', { class: 'mono' }, JSON.stringify(l.credential, null, 2)))));
  }
  const society = h('input', { type: 'url', name: 'society', autocomplete: 'url', required: true });
  const number = h('input', { type: 'text', name: 'license_number', autocomplete: 'off', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name', required: true });
  const msg = h('div', { class: 'message', id: 'onboard-message', role: 'status' });
  const form = h('form', { class: 'card stack', id: 'onboard-form', novalidate: true },
    h('h2', {}, l ? 'Ask for a new license credential' : 'Get your license credential'),
    h('p', {}, 'Your container proves to the medical society that this identity is yours; the society checks its directory and issues your license.'),
    field('The society’s address', society), field('License number', number), field('Your name as in the society’s directory', name),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Ask the society')), msg);
  let timer = null;
  ctx.stop = () => timer && window.clearTimeout(timer);
  const poll = async () => {
    try {
      const r = await api.post('web/v1/physician/onboard/poll', {});
      if (r.status === 'approved') {
        ctx.announce('The society issued your license.');
        ctx.render();
        return;
      }
      if (r.status === 'rejected') {
        msg.replaceChildren(h('p', { class: 'error' }, `The society’s clerk rejected the request${r.reason ? `: ${r.reason}` : '.'}`));
        return;
      }
      timer = window.setTimeout(poll, 1500);
    } catch (err) {
      msg.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!society.value.trim() || !number.value.trim() || !name.value.trim()) {
      msg.replaceChildren(h('p', { class: 'error' }, 'Fill in the society’s address, your license number and your name.'));
      return;
    }
    msg.replaceChildren(h('p', {}, 'Asking the society…'));
    try {
      const r = await api.post('web/v1/physician/onboard', { society: society.value.trim(), license_number: number.value.trim(), name: name.value.trim() });
      if (r.status === 'issued') {
        ctx.announce('The society issued your license.');
        ctx.render();
      } else if (r.status === 'pending') {
        msg.replaceChildren(h('p', { class: 'notice', id: 'onboard-pending' }, 'The society’s clerk reviews your request. This page continues when they decide.'));
        timer = window.setTimeout(poll, 1500);
      } else {
        msg.replaceChildren(h('p', { class: 'error' }, `The society refused: ${r.error_description || r.error}`));
      }
    } catch (err) {
      msg.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  });
  // Her phone co-signs controlled substances: pair it from here (the pairing QR code).
  const phoneBox = h('div', { id: 'phone-pairing' });
  const pair = h('button', { type: 'button', class: 'button' }, 'Pair a phone');
  pair.addEventListener('click', async () => {
    try {
      const offer = await api.post('web/v1/pairing', {});
      phoneBox.replaceChildren(
        qrImage(offer.qr_svg, 'QR code to pair your phone with your container', 'pairing-qr'),
        field('Or copy this pairing address into your phone', h('input', { type: 'text', readOnly: true, value: offer.uri, class: 'mono', id: 'pairing-uri' })));
    } catch (err) {
      phoneBox.replaceChildren(errorBox(err, ctx.app.reasons));
    }
  });
  main.append(form, h('section', { class: 'card stack', 'aria-labelledby': 'phone-title' },
    h('h2', { id: 'phone-title' }, 'Your phone'),
    h('p', {}, state.phone ? 'A phone is paired: it co-signs your controlled-substance prescriptions.' : 'No phone is paired yet. Controlled substances need its co-signature.'),
    h('div', { class: 'actions' }, pair), phoneBox));
  if (state.onboarding) {
    msg.replaceChildren(h('p', { class: 'notice', id: 'onboard-pending' }, 'Your request waits for the society’s clerk. This page continues when they decide.'));
    timer = window.setTimeout(poll, 1500);
  }
}
