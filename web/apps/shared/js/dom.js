// Building DOM without innerHTML: every piece of text (server data above all) goes through
// textContent, so nothing the server or a requester sends can become markup.

// h('p', {class: 'x', onclick: fn, hidden: true}, 'text', child, [more]) → Element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected') {
      // The default too, so that form.reset() comes back to it.
      el[k] = Boolean(v);
      el[k === 'checked' ? 'defaultChecked' : 'defaultSelected'] = Boolean(v);
    } else if (k === 'disabled' || k === 'required' || k === 'readOnly') {
      el[k] = Boolean(v);
    } else if (k === 'style') {
      throw new Error('no inline styles (CSP style-src self)');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function newId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field: <div class="field"><label for>…</label>control<p class="hint"></p></div>.
export function field(label, control, hint) {
  if (!control.id) control.id = newId('f');
  const parts = [h('label', { for: control.id }, label)];
  if (hint) {
    const hid = newId('hint');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  parts.push(control);
  return h('div', { class: 'field' }, parts);
}

// A group of checkboxes or radios in a fieldset with a legend.
export function choices(legend, name, type, options, selected = []) {
  const boxes = options.map(([value, text, hint]) => {
    const input = h('input', { type, name, value, id: newId(name), checked: selected.includes(value) });
    return h('div', { class: 'choice' }, input, h('label', { for: input.id }, text, hint ? h('span', { class: 'hint' }, ' — ', hint) : null));
  });
  return h('fieldset', { class: 'choices' }, h('legend', {}, legend), boxes);
}

// Technical details behind a disclosure widget.
export function details(summary, ...content) {
  return h('details', { class: 'tech' }, h('summary', {}, summary), content);
}

export function code(text) {
  return h('code', { class: 'mono' }, text);
}

// A server-rendered QR code (SVG text) as an <img> with a data: URL (the CSP allows img data:).
export function qrImage(svg, alt, id) {
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return h('img', { class: 'qr', id, src: `data:image/svg+xml;base64,${btoa(bin)}`, alt, width: '240', height: '240' });
}
