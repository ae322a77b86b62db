// Dates and statuses in words for the desk.
export function when(t) {
  if (!t) return 'never';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const STATUS_WORDS = {
  active: 'Active',
  suspended: 'Suspended',
  revoked: 'Revoked',
  pending: 'Waiting for a decision',
  approved: 'Approved: license issued',
  rejected: 'Rejected',
};

export const ACTION_WORDS = { revoke: 'Revoked', suspend: 'Suspended', reinstate: 'Reinstated' };
