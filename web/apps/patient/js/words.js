// Plain words for what the container speaks in codes: record types, scopes, purposes of use,
// reason codes, DIDs, times. The technical value is always shown too, behind a <details>.

export const RECORD_TYPES = [
  ['MedicationRequest', 'Medications', 'medication requests'],
  ['AllergyIntolerance', 'Allergies', 'allergy records'],
  ['Condition', 'Conditions', 'conditions'],
  ['Observation', 'Observations', 'observations and symptom reports'],
  ['DocumentReference', 'Documents', 'documents'],
];

export function typeTitle(type) {
  const t = shortType(type);
  const row = RECORD_TYPES.find(([k]) => k === t);
  return row ? row[1] : t;
}

export function typePlural(type) {
  const t = shortType(type);
  if (t === '*') return 'all your records';
  const row = RECORD_TYPES.find(([k]) => k === t);
  return row ? `your ${row[2]}` : `your ${t} records`;
}

export function shortType(type) {
  const s = String(type || '');
  return s.slice(s.lastIndexOf('/') + 1);
}

export const SCOPES = [
  ['read', 'Open a record'],
  ['search', 'List and search records'],
  ['create', 'Add new records'],
  ['update', 'Change existing records'],
];

export function scopeWords(scope) {
  const row = SCOPES.find(([k]) => k === scope);
  return row ? row[1].toLowerCase() : scope;
}

export const PURPOSES = [
  ['treatment', 'Treatment', 'for your treatment'],
  ['research', 'Research', 'for research'],
  ['payment', 'Payment', 'for payment and insurance'],
  ['operations', 'Healthcare operations', 'for running the practice (healthcare operations)'],
  ['public_health', 'Public health', 'for public health'],
  ['emergency', 'Emergency', 'in an emergency'],
];

export function purposeWords(p) {
  const row = PURPOSES.find(([k]) => k === p);
  return row ? row[2] : p ? `for “${p}”` : 'without saying why';
}

// "read and write" from a scope list (empty = every scope).
export function verbs(scopes) {
  const s = scopes && scopes.length ? scopes : ['read', 'search', 'create', 'update'];
  const read = s.includes('read') || s.includes('search');
  const write = s.includes('create') || s.includes('update');
  if (read && write) return 'read and write';
  if (write) return 'write';
  return 'read';
}

export function listWords(items, joiner = 'and') {
  const a = items.filter(Boolean);
  if (a.length <= 1) return a.join('');
  return `${a.slice(0, -1).join(', ')} ${joiner} ${a[a.length - 1]}`;
}

// A DID in words: whose it is where we know, else its method and a short form.
export function didWords(did, ownerDid) {
  if (!did) return 'someone who has not proven who they are';
  if (ownerDid && did === ownerDid) return 'you';
  if (did.startsWith('did:web:')) {
    const host = decodeURIComponent(did.slice(8).split(':')[0]);
    return `the organisation at ${host}`;
  }
  if (did.startsWith('did:mdl:')) return `a person with a Medallion identity (…${did.slice(-6)})`;
  if (did.startsWith('did:key:')) return `a key-based identity (…${did.slice(-6)})`;
  return `an identity (…${did.slice(-6)})`;
}

export function credentialWords(c) {
  const types = (c && c.types) || [];
  if (types.includes('MedicalLicenseCredential')) return `a medical license from ${didWords(c.issuer)}`;
  const t = types.filter((x) => x !== 'VerifiableCredential');
  return `a ${t.join(', ') || 'credential'} from ${didWords(c && c.issuer)}`;
}

const REASONS = {
  csrf_invalid: 'The page could not prove it is yours. Reload it and try again.',
  rate_limited: 'Too many sign-in attempts. Wait a few minutes and try again.',
  link_unknown: 'This setup link is not valid. Ask for a new one.',
  link_used: 'This setup link was already used. Ask for a new one.',
  link_expired: 'This setup link has expired. Ask for a new one.',
  challenge_unknown: 'The sign-in attempt is not known. Start again.',
  challenge_used: 'This sign-in attempt was already used. Start again.',
  challenge_expired: 'The sign-in attempt took too long. Start again.',
  session_unknown: 'You are signed out.',
  session_idle: 'You were signed out after 30 minutes without activity.',
  session_expired: 'You were signed out: sessions last at most 12 hours.',
  passkey_unknown: 'This passkey is not registered here (or was removed).',
  already_decided: 'This request was already decided.',
  not_found: 'It no longer exists.',
  temporarily_unavailable: 'The ledger could not be reached; nothing was changed. Try again shortly.',
  invalid_request: 'The container refused the request.',
  access_denied: 'The container refused the request.',
  no_paired_phone: 'No phone is paired with your container yet.',
  pairing_used: 'That pairing code was already used.',
  pairing_expired: 'That pairing code has expired.',
  no_wallet: 'Your container does not hold your wallet, so it cannot show a prescription for you.',
  no_phone: 'This is a controlled substance: pair your phone first (Devices), so it can approve each fill.',
  pharmacy_unavailable: 'The pharmacy could not be reached. Check its address and try again.',
};

// A pharmacy's checks in plain words (shared with the pharmacy's counter).
export { RX_STEPS, rxStepWords } from '../shared/js/rx-words.js';

// A sentence for an error; the technical detail is kept for a <details>.
export function errorWords(err) {
  if (!err) return 'Something went wrong.';
  if (err.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out.';
  if (err.name === 'InvalidStateError') return 'This device already has a passkey for your container.';
  if (err.name === 'SecurityError') return 'This browser refused to use a passkey on this address.';
  const r = err.reason || '';
  if (REASONS[r]) return REASONS[r];
  if (err.status === 401) return 'You are signed out.';
  if (err.status === 403) return 'The container refused this.';
  if (err.status >= 500) return 'The container had a problem. Try again.';
  if (err instanceof TypeError) return 'Your container could not be reached.';
  return err.message || 'Something went wrong.';
}

export function errorDetail(err) {
  if (!err) return '';
  if (err.body) return JSON.stringify(err.body);
  return `${err.name || 'Error'}: ${err.message || ''}`;
}

// Times: POSIX seconds or ISO text → local time in words.
export function toDate(t) {
  if (t === undefined || t === null || t === '') return null;
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function when(t) {
  // A FHIR date without a time ("2026-12-01") is a day, not midnight UTC.
  if (typeof t === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const [y, m, dd] = t.split('-').map(Number);
    return new Date(y, m - 1, dd).toLocaleDateString(undefined, { dateStyle: 'medium' });
  }
  const d = toDate(t);
  if (!d) return 'unknown time';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function day(t) {
  const d = toDate(t);
  if (!d) return '';
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

export function isoAttr(t) {
  const d = toDate(t);
  return d ? d.toISOString() : '';
}

// "Licensed physicians may read and write your medication requests for treatment until
// 1 March 2027" — one sentence for a policy (docs/uma.md §Policies).
export function policySentence(p, ownerDid) {
  const who = listWords((p.subjects || []).map((s) => subjectWords(s, ownerDid)), 'or');
  const what = listWords((p.resource_types || []).map(typePlural).concat((p.resource_ids || []).map((id) => `record set ${id}`)));
  const why = p.effect === 'deny' && !(p.purposes || []).length ? 'for any reason' : listWords((p.purposes || []).map(purposeWords), 'or');
  let when = '';
  if (p.not_before) when += ` from ${day(p.not_before)}`;
  if (p.not_after) when += ` until ${day(p.not_after - 1)}`; // not_after is exclusive: the last second allowed
  let s;
  if (p.effect === 'deny') {
    s = `${capital(who)} may never ${verbs(p.scopes)} ${what} ${why}${when}`;
  } else {
    s = `${capital(who)} may ${verbs(p.scopes)} ${what} ${why}${when}`;
    const approvers = [];
    if (p.owner_approval) approvers.push('you');
    for (const d of p.co_approvers || []) approvers.push(didWords(d, ownerDid));
    if (approvers.length) s += `, once ${listWords(approvers)} approve${approvers.length === 1 && approvers[0] !== 'you' ? 's' : ''} each request`;
  }
  return `${s}.`;
}

// A relationship (docs/relationships.md) by its id, and its provider's pseudonym when known.
export function relationshipWords(rel, r) {
  const who = r && r.provider ? ` (provider …${String(r.provider).slice(-6)})` : '';
  return `The provider of relationship ${String(rel).slice(0, 6)}…${who}`;
}

export function subjectWords(s, ownerDid) {
  if (s.did) return didWords(s.did, ownerDid);
  if (s.relationship === '*') return 'the providers you have accepted a relationship with';
  if (s.relationship) return `the provider of your relationship ${String(s.relationship).slice(0, 6)}…`;
  if (s.credential_type === 'MedicalLicenseCredential') {
    return s.issuers && s.issuers.length
      ? `physicians licensed by ${listWords(s.issuers.map((i) => didWords(i)), 'or')}`
      : 'licensed physicians';
  }
  return `holders of a ${s.credential_type}`;
}

export function capital(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
