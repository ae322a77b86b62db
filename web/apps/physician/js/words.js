// Words for the workspace.
export function when(t) {
  if (!t) return '';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const GRANT_WORDS = {
  connecting: 'Connecting…',
  need_info: 'Her container asks who you are (your license is being shown)',
  request_submitted: 'Request sent — waiting for the patient to decide',
  granted: 'Access granted',
  denied: 'The patient said no',
  error: 'The connection failed',
};

export const STEP_WORDS = {
  sign: 'Signed with your key',
  cosign: 'Co-signed on your phone',
  postmark: 'Stamped on the public ledger',
  store: 'Kept in your container',
  deliver: 'Delivered to the patient’s inbox',
  relationship: 'Care relationship opened',
};

export function scopesWords(scopes) {
  const s = new Set(scopes || []);
  const parts = [];
  if (s.has('read') || s.has('search')) parts.push('read');
  if (s.has('create') || s.has('update') || s.has('write')) parts.push('write');
  return parts.length ? parts.join(' and ') : (scopes || []).join(', ') || 'nothing';
}
