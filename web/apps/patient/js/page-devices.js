// Devices and sign-in: paired phones (owner/v1/devices: list, revoke, pair with a QR code from
// web/v1/pairing), passkeys (web/v1/passkeys: list, add, revoke), sign out, sign out everywhere.
import { h, clear, field, details } from '../shared/js/dom.js';
import * as api from '../shared/js/api.js';
import { textToBase64 } from '../shared/js/b64.js';
import { when, isoAttr, errorWords, errorDetail } from './words.js';
import { registerPasskey } from './page-signin.js';

let countdown = null;

function deviceItem(d, ctx, reload, status) {
  const revoke = h('button', { type: 'button', class: 'button danger', 'aria-label': `Remove ${d.name}` }, 'Remove');
  revoke.addEventListener('click', async () => {
    if (!window.confirm(`Remove “${d.name}”? It will no longer approve anything for you, and its key leaves your identity.`)) return;
    revoke.disabled = true;
    try {
      await api.del(`owner/v1/devices/${encodeURIComponent(d.id)}`);
      status.replaceChildren(h('p', { class: 'ok' }, `“${d.name}” was removed.`));
      ctx.announce(`${d.name} was removed.`);
      await reload();
    } catch (err) {
      revoke.disabled = false;
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
    }
  });
  return h('li', { class: 'card device', dataset: { device: d.id } },
    h('h3', {}, d.name),
    h('p', { class: 'meta' }, 'Paired ', h('time', { datetime: isoAttr(d.created) }, when(d.created))),
    h('div', { class: 'actions' }, revoke),
    details('Technical details', h('p', {}, 'Device key: ', h('code', { class: 'mono' }, d.device_key)), h('p', {}, 'Device id: ', h('code', { class: 'mono' }, d.id))));
}

function passkeyItem(p, ctx, reload, status) {
  const revoke = h('button', { type: 'button', class: 'button danger', 'aria-label': `Remove passkey ${p.name}` }, 'Remove');
  revoke.addEventListener('click', async () => {
    if (!window.confirm(`Remove the passkey “${p.name}”? Browsers signed in with it are signed out.`)) return;
    revoke.disabled = true;
    try {
      await api.del(`web/v1/passkeys/${encodeURIComponent(p.id)}`);
      status.replaceChildren(h('p', { class: 'ok' }, `The passkey “${p.name}” was removed.`));
      ctx.announce(`The passkey ${p.name} was removed.`);
      await reload();
    } catch (err) {
      revoke.disabled = false;
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
    }
  });
  return h('li', { class: 'card passkey', dataset: { passkey: p.id } },
    h('h3', {}, p.name || 'Passkey'),
    h('p', { class: 'meta' }, 'Added ', h('time', { datetime: isoAttr(p.created_at) }, when(p.created_at)), ' · ',
      p.last_used_at ? ['last used ', h('time', { datetime: isoAttr(p.last_used_at) }, when(p.last_used_at))] : 'never used yet',
      p.backed_up ? ' · synced to your account' : ''),
    h('div', { class: 'actions' }, revoke),
    details('Technical details', h('p', {}, 'Credential id: ', h('code', { class: 'mono' }, p.id)), h('p', {}, 'Algorithm: ', String(p.alg))));
}

function pairingBox(ctx, onPaired) {
  const box = h('div', { class: 'card stack', id: 'pairing' });
  const button = h('button', { type: 'button', class: 'button primary', id: 'pair-phone' }, 'Pair a phone');
  const out = h('div', { class: 'pairing-offer' });
  const status = h('div', { role: 'status', class: 'message' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    if (countdown) window.clearInterval(countdown);
    try {
      const offer = await api.post('web/v1/pairing', {});
      const img = h('img', { class: 'qr', id: 'pairing-qr', src: `data:image/svg+xml;base64,${textToBase64(offer.qr_svg)}`, alt: 'QR code to pair your phone with your container. If you cannot scan it, copy the pairing link below.', width: '240', height: '240' });
      const uri = h('input', { type: 'text', id: 'pairing-uri', value: offer.uri, readOnly: true, spellcheck: 'false' });
      const copy = h('button', { type: 'button', class: 'button' }, 'Copy the link');
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(offer.uri);
          status.replaceChildren(h('p', { class: 'ok' }, 'The pairing link is copied.'));
        } catch {
          uri.select();
          status.replaceChildren(h('p', {}, 'Select the link and copy it yourself.'));
        }
      });
      const left = h('p', { class: 'meta', id: 'pairing-expiry' });
      const tick = () => {
        const s = Math.max(0, Math.round(offer.expires - Date.now() / 1000));
        left.textContent = s > 0 ? `This code works once, for ${Math.floor(s / 60)} min ${s % 60} s more.` : 'This code has expired. Make a new one.';
        if (s <= 0 && countdown) {
          window.clearInterval(countdown);
          img.hidden = true;
        }
      };
      tick();
      countdown = window.setInterval(tick, 1000);
      clear(out).append(
        h('ol', { class: 'steps' },
          h('li', {}, 'Open Medallion on your phone and choose “Pair with my container”.'),
          h('li', {}, 'Scan this code. Your phone’s key becomes one of your identity’s keys, so it can approve requests for you.')),
        img,
        field('Or copy this pairing link to the phone', uri),
        h('div', { class: 'actions' }, copy),
        left);
      ctx.announce('A pairing code is ready. Scan it with your phone.');
      button.textContent = 'Make a new code';
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)), details('Technical details', h('pre', { class: 'mono' }, errorDetail(err))));
    } finally {
      button.disabled = false;
    }
  });
  const listener = (ev) => {
    if (!document.body.contains(box)) {
      window.removeEventListener('medallion:event', listener);
      return;
    }
    if (ev.detail.type === 'new_device') {
      if (countdown) window.clearInterval(countdown);
      clear(out);
      button.textContent = 'Pair a phone';
      status.replaceChildren(h('p', { class: 'ok' }, `Paired: ${ev.detail.detail.device_name || 'your phone'}.`));
      onPaired();
    }
  };
  window.addEventListener('medallion:event', listener);
  box.append(h('h2', {}, 'Pair a phone'), h('p', {}, 'A paired phone approves requests, prescriptions to co-sign and fills, and can sign you in here.'), button, out, status);
  return box;
}

// Her recovery (web/v1/recovery): the layout of her guardian shares (never a share) and how
// she gets her identity back if she loses this container's wallet or her phone.
function recoveryBox(r, devices) {
  const g = r && r.guardian_shares;
  const groups = (g && g.groups) || [];
  const total = groups.reduce((n, x) => n + x.count, 0);
  let state;
  if (!r || !r.wallet) {
    state = h('p', {}, 'This container does not hold your wallet, so it cannot tell whether your key is split among guardians.');
  } else if (!g) {
    state = h('p', { class: 'notice', id: 'guardians-none' }, 'Your key is not split among guardians yet. If you lose your wallet and its recovery words, nobody can give your identity back.');
  } else if (groups.length === 1) {
    state = h('p', { class: 'ok', id: 'guardians-state' }, `${total} guardian${total === 1 ? ' holds a share' : 's hold a share each'} of your key; any ${groups[0].threshold} of them together can restore it. Split `, h('time', { datetime: isoAttr(g.created) }, when(g.created)), '.');
  } else {
    state = h('p', { class: 'ok', id: 'guardians-state' }, `${total} guardians in ${groups.length} groups hold shares of your key; ${g.group_threshold} group${g.group_threshold === 1 ? '' : 's'} must take part (`,
      groups.map((x, i) => `${i ? ', ' : ''}${x.threshold} of ${x.count}`).join(''), '). Split ', h('time', { datetime: isoAttr(g.created) }, when(g.created)), '.');
  }
  return h('div', { class: 'card stack', id: 'recovery' },
    state,
    h('h3', {}, 'How to recover'),
    h('ol', { class: 'steps' },
      h('li', {}, 'With your recovery words: restore your wallet from them on a new computer (', h('code', { class: 'mono' }, 'medallion wallet restore'), ').'),
      h('li', {}, g ? 'Without them: ask enough of your guardians for their shares and combine them (' : 'To let guardians help later: split your key into shares for people you trust (', h('code', { class: 'mono' }, g ? 'medallion wallet combine --share-file …' : 'medallion wallet split --store … --groups 2of3'), ').'),
      h('li', {}, devices ? 'Lost a phone? Remove it above: its key leaves your identity at once, and nothing it signs is accepted after that.' : 'Pair a phone, so a lost computer is not the only key that approves for you.')),
    h('p', { class: 'meta' }, 'Your container never holds a guardian’s share; it only remembers how many you made.'));
}

export async function render(main, ctx) {
  const recoveryHolder = h('div', {});
  const deviceBox = h('div', { id: 'device-list' });
  const passkeyBox = h('div', { id: 'passkey-list' });
  const status = h('div', { role: 'status', class: 'message', id: 'devices-status' });
  const addName = h('input', { type: 'text', name: 'passkey-name', value: 'Another passkey', maxlength: '64', autocomplete: 'off' });
  const addButton = h('button', { type: 'submit', class: 'button' }, 'Add a passkey');
  const addForm = h('form', { class: 'inline-form', novalidate: true }, field('Name for the new passkey', addName), addButton);
  const signout = h('button', { type: 'button', class: 'button', id: 'signout-here' }, 'Sign out of this browser');
  const signoutAll = h('button', { type: 'button', class: 'button danger', id: 'signout-everywhere' }, 'Sign out everywhere');
  signout.addEventListener('click', () => ctx.signOut(false));
  signoutAll.addEventListener('click', () => {
    if (window.confirm('Sign out every browser and every app signed in as you?')) ctx.signOut(true);
  });

  async function reloadDevices() {
    const list = (await api.get('owner/v1/devices')) || [];
    const live = list.filter((d) => !d.revoked);
    clear(deviceBox);
    if (!live.length) deviceBox.append(h('p', { class: 'empty' }, 'No phone is paired.'));
    else deviceBox.append(h('ul', { class: 'cards' }, live.map((d) => deviceItem(d, ctx, reloadDevices, status))));
  }
  async function reloadPasskeys() {
    const r = await api.get('web/v1/passkeys');
    const list = (r && r.passkeys) || [];
    clear(passkeyBox);
    if (!list.length) passkeyBox.append(h('p', { class: 'empty' }, 'No passkey.'));
    else passkeyBox.append(h('ul', { class: 'cards' }, list.map((p) => passkeyItem(p, ctx, reloadPasskeys, status))));
  }
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    addButton.disabled = true;
    try {
      await registerPasskey(addName.value.trim() || 'Passkey', '');
      status.replaceChildren(h('p', { class: 'ok' }, 'The new passkey is added.'));
      ctx.announce('The new passkey is added.');
      await reloadPasskeys();
    } catch (err) {
      status.replaceChildren(h('p', { class: 'error' }, errorWords(err)));
    } finally {
      addButton.disabled = false;
    }
  });

  const reloadRecovery = async () => {
    const [r, list] = await Promise.all([api.get('web/v1/recovery').catch(() => null), api.get('owner/v1/devices')]);
    clear(recoveryHolder).append(recoveryBox(r, (list || []).filter((d) => !d.revoked).length));
  };  const session = ctx.state && ctx.state.session;
  main.append(
    h('h1', {}, 'Devices and sign-in'),
    status,
    h('h2', {}, 'Your phones'), deviceBox,
    pairingBox(ctx, () => Promise.all([reloadDevices(), reloadRecovery()]).catch(() => {})),
    h('h2', {}, 'Your passkeys'),
    h('p', {}, 'Passkeys sign you in to this page. Remove one you no longer use.'),
    passkeyBox, addForm,
    h('h2', {}, 'Recovery'),
    recoveryHolder,
    h('h2', {}, 'This browser'),
    session ? h('p', {}, 'Signed in ', h('time', { datetime: isoAttr(session.created_at) }, when(session.created_at)), session.expires_at ? [', until ', h('time', { datetime: isoAttr(session.expires_at) }, when(session.expires_at)), ' at the latest'] : '', '.') : null,
    h('div', { class: 'actions' }, signout, signoutAll),
    ctx.ownerDid ? details('Your identity (DID)', h('code', { class: 'mono' }, ctx.ownerDid)) : null);

  await Promise.all([reloadDevices(), reloadPasskeys(), reloadRecovery()]);
}
