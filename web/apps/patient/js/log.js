// The accounting of disclosures, read page by page (GET owner/v1/disclosures?after=&limit=).
import * as api from '../shared/js/api.js';

export async function loadLog(maxPages = 20) {
  const all = [];
  let after = 0;
  let head = null;
  for (let i = 0; i < maxPages; i += 1) {
    const page = await api.get(`owner/v1/disclosures?after=${after}&limit=1000`);
    const entries = (page && page.entries) || [];
    head = page && page.head;
    all.push(...entries);
    if (entries.length < 1000) break;
    after = entries[entries.length - 1].seq;
  }
  return { entries: all, head };
}

// Who wrote each record ("Type/id" → the requesting party's DID), from the create and update
// releases in the log.
export function authors(entries) {
  const out = new Map();
  for (const e of entries) {
    if (e.event !== 'release' || (e.scope !== 'create' && e.scope !== 'update')) continue;
    for (const r of e.records || []) {
      if (!out.has(r)) out.set(r, { party: e.requesting_party, ts: e.ts, scope: e.scope });
    }
  }
  return out;
}
