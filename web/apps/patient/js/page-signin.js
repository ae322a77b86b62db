// Sign-in: a passkey (WebAuthn, discoverable credentials), "approve on my phone", and the
// first passkey of this device from a one-time setup link (#setup=<token>).
import { h, field, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import * as b64 from '../shared/js/b64.js';
import { errorWords, errorDetail } from './words.js';

let phonePoll = null;

function stopPhonePoll() {
  if (phonePoll) window.clearTimeout(phonePoll);
  phonePoll = null;
}

function messageBox() {
  return h('div', { class: 'message', id: 'signin-message', role: 'alert' });
}

function showError(box, err) {
  box.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
}

function showInfo(box, text) {
  box.replaceChildren(h('p', { class: 'info' }, text));
}

function defaultDeviceName() {
  const ua = navigator.userAgent || '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iPhone or iPad' : /Mac/.test(ua) ? 'Mac' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'this device';
  return `Browser on ${os}`;
}

// Creates a passkey: with a setup link's token, or (signed in) for another device.
export async function registerPasskey(name, link) {
  const options = await api.post('web/v1/passkeys/register/options', link ? { link } : {});
  const cred = await navigator.credentials.create({ publicKey: b64.creationOptions(options) });
  if (!cred) throw new Error('no passkey was created');
  return api.post('web/v1/passkeys/register', { name, credential: b64.attestationJson(cred) });
}

async function passkeySignIn() {
  const options = await api.post('web/v1/signin/options', {}, { allow401: true });
  const cred = await navigator.credentials.get({ publicKey: b64.requestOptions(options), mediation: 'optional' });
  if (!cred) throw new Error('no passkey was chosen');
  return api.post('web/v1/signin', { credential: b64.assertionJson(cred) }, { allow401: true });
}

export async function render(main, ctx) {
  stopPhonePoll();
  const box = messageBox();
  const supported = typeof window.PublicKeyCredential !== 'undefined' && navigator.credentials;

  if (ctx.setupToken) {
    const name = h('input', { type: 'text', name: 'passkey-name', value: defaultDeviceName(), maxlength: '64', autocomplete: 'off', required: true });
    const button = h('button', { type: 'submit', class: 'button primary' }, 'Create a passkey on this device');
    const form = h('form', { class: 'card stack', id: 'setup-form', novalidate: true },
      h('h2', {}, 'Set up this device'),
      h('p', {}, 'A passkey lets you sign in with this device’s screen lock (fingerprint, face or PIN). Nothing secret leaves the device: your container keeps only its public key.'),
      field('Name for this passkey', name, 'So you can recognise it later in your list of devices.'),
      button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!name.value.trim()) {
        showError(box, new Error('Give the passkey a name.'));
        name.focus();
        return;
      }
      button.disabled = true;
      showInfo(box, 'Follow your browser’s prompt to create the passkey…');
      try {
        await registerPasskey(name.value.trim(), ctx.setupToken);
        ctx.setupToken = '';
        ctx.signinMessage = '';
        ctx.announce('Your passkey is set up. You are signed in.');
        await ctx.signedIn();
      } catch (err) {
        button.disabled = false;
        showError(box, err);
      }
    });
    main.append(
      h('h1', {}, 'Welcome to your health container'),
      supported ? form : h('p', { class: 'error' }, 'This browser cannot use passkeys. Open the link in an up-to-date browser.'),
      box);
    return;
  }

  const passkeyButton = h('button', { type: 'button', class: 'button primary', id: 'passkey-signin' }, 'Sign in with a passkey');
  const phoneButton = h('button', { type: 'button', class: 'button', id: 'phone-signin' }, 'Approve on my phone');
  passkeyButton.addEventListener('click', async () => {
    stopPhonePoll();
    passkeyButton.disabled = true;
    showInfo(box, 'Follow your browser’s prompt to use your passkey…');
    try {
      await passkeySignIn();
      ctx.signinMessage = '';
      ctx.announce('You are signed in.');
      await ctx.signedIn();
    } catch (err) {
      passkeyButton.disabled = false;
      showError(box, err);
    }
  });
  phoneButton.addEventListener('click', async () => {
    stopPhonePoll();
    phoneButton.disabled = true;
    try {
      const started = await api.post('web/v1/signin/phone', {}, { allow401: true });
      showInfo(box, 'Open Medallion on your phone and approve “Sign in to your container from a browser?”. This page waits for your answer.');
      const started_at = Date.now();
      const poll = async () => {
        try {
          const r = await api.post('web/v1/signin/phone/poll', { attempt: started.attempt }, { allow401: true });
          if (r.signed_in) {
            ctx.signinMessage = '';
            ctx.announce('Your phone approved. You are signed in.');
            await ctx.signedIn();
            return;
          }
          if (r.status === 'denied' || r.status === 'expired') {
            phoneButton.disabled = false;
            showInfo(box, r.status === 'denied' ? 'Your phone said no. You are not signed in.' : 'The request to your phone expired. Try again.');
            return;
          }
          if (Date.now() - started_at > 5 * 60 * 1000) {
            phoneButton.disabled = false;
            showInfo(box, 'No answer from your phone. Try again.');
            return;
          }
          phonePoll = window.setTimeout(poll, 1500);
        } catch (err) {
          phoneButton.disabled = false;
          showError(box, err);
        }
      };
      phonePoll = window.setTimeout(poll, 1000);
    } catch (err) {
      phoneButton.disabled = false;
      showError(box, err);
    }
  });

  main.append(
    h('h1', {}, 'Sign in to your health container'),
    ctx.signinMessage ? h('p', { class: 'notice', role: 'status' }, ctx.signinMessage) : null,
    h('div', { class: 'card stack' },
      h('h2', {}, 'With a passkey'),
      h('p', {}, 'Use the passkey you set up on this device (or on a phone nearby).'),
      supported ? passkeyButton : h('p', { class: 'error' }, 'This browser cannot use passkeys.')),
    h('div', { class: 'card stack' },
      h('h2', {}, 'With your phone'),
      h('p', {}, 'Your paired phone asks you to approve this sign-in.'),
      phoneButton),
    box,
    h('p', { class: 'hint' }, 'New here? Open the setup link your container printed (or run “medallion container login-link”) on this device.'));
}
