// Show credentials: her container as an OpenID4VP wallet (docs/openid4vc.md). She pastes a
// verifier's openid4vp:// link; her container reads it and matches its DCQL query against the
// SD-JWT VCs she keeps (web/v1/oid4vp/plan); the page says who asks (client_id), and per
// credential what would be disclosed and what any presentation of it shows anyway; she approves
// (web/v1/oid4vp/<id>/approve: only those claims, signed by her key, posted to the verifier) or
// declines (…/decline: the verifier is told access_denied, nothing else).
import { h, clear, field, details, code } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { errorWords, errorDetail } from './words.js';

// Member names of the issuer-signed payload, in words (the rest is shown as its name).
const ALWAYS_WORDS = {
  iss: 'who issued it',
  vct: 'the kind of credential',
  iat: 'when it was issued',
  nbf: 'from when it is valid',
  exp: 'when it expires',
  cnf: 'the public key it is bound to (your key for this credential)',
  status: 'where its revocation status is published',
  sub: 'the identifier it names',
};

function verifierWords(clientId) {
  // §5.9.3: redirect_uri:<url> — the verifier is known only by where the answer goes.
  if (clientId.startsWith('redirect_uri:')) {
    try {
      const u = new URL(clientId.slice('redirect_uri:'.length));
      return u.host;
    } catch {
      return clientId;
    }
  }
  return clientId;
}

function pointerWords(p) {
  return p.replace(/^\//, '').split('/').join(' › ') || '(the whole credential)';
}

function valueWords(v) {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function credentialCard(d) {
  const disclosed = d.disclosed_claims || [];
  const values = d.disclosed_values || {};
  return h('li', { class: 'card present-credential', dataset: { query: d.query_id } },
    h('h3', { class: 'card-title' }, d.vct ? code(d.vct) : 'A credential'),
    h('p', { class: 'meta' }, 'Issued by ', code(d.issuer || 'unknown')),
    h('h4', {}, 'Shown only because this request asks'),
    disclosed.length
      ? h('ul', { class: 'disclosed-claims' }, disclosed.map((p) => {
        const v = valueWords(values[p]);
        return h('li', { dataset: { pointer: p } }, h('strong', {}, pointerWords(p)), v === null ? '' : [': ', v]);
      }))
      : h('p', { class: 'hint' }, 'Nothing you could hide: only what every presentation of this credential shows.'),
    h('h4', {}, 'Always visible in any presentation of it'),
    h('ul', { class: 'always-visible' }, (d.always_visible || []).map((k) => h('li', {}, ALWAYS_WORDS[k] ? `${ALWAYS_WORDS[k]} (${k})` : k))),
    h('p', { class: 'hint' }, 'Everything else in this credential stays hidden.'));
}

function outcomeWords(answer, declined) {
  const who = verifierWords(answer.client_id || '');
  if (declined) return h('p', { class: 'ok', id: 'present-outcome' }, `You declined. ${who} was told you refused (access_denied); nothing else was sent.`);
  const parts = [h('p', { class: 'ok', id: 'present-outcome' }, `Sent to ${who}. The verifier answered ${answer.status}.`)];
  if (answer.redirect_uri) parts.push(h('p', {}, 'The verifier asks you to continue at ', h('a', { href: answer.redirect_uri, rel: 'noreferrer' }, answer.redirect_uri), '.'));
  parts.push(details('Technical details', h('pre', { class: 'mono' }, JSON.stringify(answer.verifier_answer, null, 2))));
  return h('div', { class: 'stack' }, parts);
}

function planView(plan, ctx, reset) {
  const who = verifierWords(plan.client_id);
  const status = h('div', { class: 'message', role: 'status' });
  const approve = h('button', { type: 'button', class: 'button primary', id: 'present-approve' }, 'Share');
  const decline = h('button', { type: 'button', class: 'button danger', id: 'present-decline' }, 'Decline');
  const cancel = h('button', { type: 'button', class: 'button quiet' }, 'Another request');
  cancel.addEventListener('click', reset);
  const decide = async (yes) => {
    approve.disabled = true;
    decline.disabled = true;
    status.replaceChildren(h('p', {}, yes ? `Sending to ${who}…` : `Telling ${who} you decline…`));
    try {
      const answer = await api.post(`web/v1/oid4vp/${encodeURIComponent(plan.id)}/${yes ? 'approve' : 'decline'}`, {});
      status.replaceChildren(outcomeWords(answer, !yes));
      ctx.announce(yes ? `Your credentials were shared with ${who}.` : `You declined ${who}'s request.`);
      approve.remove();
      decline.remove();
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error', id: 'present-error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
      ctx.announce('The answer could not be sent.');
    }
  };
  approve.addEventListener('click', () => decide(true));
  decline.addEventListener('click', () => decide(false));
  const canShare = plan.can_answer && plan.can_sign;
  const asked = (plan.asked || []).map((q) => h('li', {}, `${(q.vct_values || []).join(' or ')}: `, (q.claims || []).map((c) => c.join(' › ')).join(', ') || 'no claim'));
  return h('section', { class: 'card stack', id: 'present-plan', 'aria-labelledby': 'present-plan-title' },
    h('h2', { id: 'present-plan-title' }, `${who} asks to see`),
    h('p', {}, 'Verifier: ', code(plan.client_id)),
    plan.verifier_did ? h('p', { class: 'hint', id: 'present-verifier-did' }, 'Its request is signed by a key of ', code(plan.verifier_did), ' (checked).') : null,
    h('p', { class: 'hint' }, 'Your answer goes to ', code(plan.response_uri), '.'),
    plan.can_answer
      ? h('ul', { class: 'cards', id: 'present-credentials' }, (plan.disclosures || []).map(credentialCard))
      : h('div', { class: 'stack' },
        h('p', { class: 'notice', id: 'present-unmet' }, 'Nothing you keep answers this request, so nothing can be shared. You can tell the verifier you decline.'),
        h('ul', {}, asked)),
    plan.can_answer && !plan.can_sign ? h('p', { class: 'notice' }, 'Your container runs without your wallet, so it cannot sign a presentation now.') : null,
    plan.can_answer ? h('p', { class: 'notice' }, 'Sharing signs the presentation with your key for this verifier’s request only; the verifier cannot reuse it elsewhere.') : null,
    h('div', { class: 'actions' }, canShare ? approve : null, decline, cancel),
    status);
}

export async function render(main, ctx) {
  const link = h('textarea', { name: 'request', rows: '4', spellcheck: 'false', autocomplete: 'off', required: true, placeholder: 'openid4vp://?client_id=…' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Read the request');
  const status = h('div', { class: 'message', role: 'status' });
  const box = h('div', { id: 'present-box' });
  const form = h('form', { class: 'stack', id: 'present-form', novalidate: true },
    field('The verifier’s request link', link, 'From the verifier’s screen: copy its link (openid4vp://…) and paste it here. Nothing is sent until you decide.'),
    h('div', { class: 'actions' }, submit), status);
  const reset = () => {
    clear(box);
    link.value = '';
    form.hidden = false;
    link.focus();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!link.value.trim()) {
      status.replaceChildren(h('p', { class: 'error' }, 'Paste the verifier’s link first.'));
      link.focus();
      return;
    }
    submit.disabled = true;
    status.replaceChildren(h('p', {}, 'Reading the request…'));
    try {
      const plan = await api.post('web/v1/oid4vp/plan', { request: link.value.trim() });
      status.replaceChildren();
      form.hidden = true;
      clear(box).append(planView(plan, ctx, reset));
      const heading = box.querySelector('h2');
      heading.setAttribute('tabindex', '-1');
      heading.focus();
      ctx.announce(`${verifierWords(plan.client_id)} asks to see your credentials.`);
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error', id: 'present-error' }, `This request cannot be answered: ${err.body && err.body.error_description ? err.body.error_description : errorWords(err)}`));
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h('h1', {}, 'Show credentials'),
    h('p', { class: 'lead' }, 'A verifier (a pharmacy, a clinic, an employer) can ask to see credentials you keep in your container. You see exactly what it asks for and what would be shown, and you decide.'),
    form, box);
}
