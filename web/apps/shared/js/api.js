// The page's calls to its own container. Every URL is relative (the container may be mounted
// under /c/<name>/); the session rides in the HttpOnly cookie, and every state-changing call
// carries the CSRF token the server handed to this page (GET web/v1/state).

let csrf = '';
const listeners = new Set();

export function setCsrf(token) {
  csrf = token || '';
}

// Called with no argument when the server says the session is gone (401).
export function onSignedOut(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.error_description || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.reason = this.body.reason || this.body.error || '';
  }
}

export async function call(method, path, body, { allow401 = false, contentType = 'application/json' } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, init);
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: 'unreadable_answer', error_description: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !allow401) for (const fn of listeners) fn();
    throw new ApiError(res.status, data);
  }
  return data;
}

export const get = (path, opts) => call('GET', path, undefined, opts);
export const post = (path, body = {}, opts) => call('POST', path, body, opts);
export const del = (path, opts) => call('DELETE', path, undefined, opts);

export async function state() {
  const s = await get('web/v1/state', { allow401: true });
  setCsrf(s && s.signed_in ? s.csrf : '');
  return s;
}
