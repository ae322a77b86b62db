// Client side of tests/ledger/crash_test.sh (Node 20, no packages).
//
//   node crash_client.mjs append URL ACK_FILE PREFIX MAX_SECONDS [WORKERS]
//     Appends entries from WORKERS concurrent loops (single entries and batches) until the
//     node stops answering (it is killed) or MAX_SECONDS pass. Every acknowledged entry is
//     written to ACK_FILE as "index leaf_hash" before the next request of that loop, after
//     checking that the leaf hash is SHA-256(0x00 || canonical entry). Exit 1 on any answer
//     other than 200 or 503 (queue full), or on a wrong leaf hash.
//     URL may be a comma-separated list of nodes on one database (tests/ledger/pg_failover_test.sh):
//     a worker then moves to the next node on a 503 (a standby) or a broken connection, and
//     keeps appending until MAX_SECONDS pass (the standby takes over when the active dies).
//
//   node crash_client.mjs check URL ACK_FILE
//     Reads the node's entries and checks that every acknowledged entry is at its index with
//     the same leaf hash, and that the stored entry hashes to it. Prints a summary; exit 1 on
//     any mismatch.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { appendFileSync, readFileSync, existsSync } from 'node:fs';

const [mode, url, ackFile, ...rest] = process.argv.slice(2);
const urls = (url ?? '').split(',');

function leafHash(canonical) {
  return createHash('sha256').update(Buffer.from([0])).update(Buffer.from(canonical, 'utf8')).digest('hex');
}

// RFC 8785 for these entries: ASCII strings and small non-negative integers, keys sorted.
function canonical(entry) {
  const keys = Object.keys(entry).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + JSON.stringify(entry[k])).join(',') + '}';
}

function sha256hex(s) {
  return createHash('sha256').update(s).digest('hex');
}

// A did:key pharmacy (multicodec ed25519-pub 0xed01, base58btc multibase).
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let v = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while (v > 0n) { out = B58[Number(v % 58n)] + out; v /= 58n; }
  for (const b of bytes) { if (b === 0) out = '1' + out; else break; }
  return out;
}
const PHARMACY = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, did: 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw])) };
})();

function makeEntry(tag, n) {
  if (n % 7 === 3) {
    // The node checks that `pharmacy` signed it (docs/ledger.md): a did:key pharmacy signs.
    const entry = {
      type: 'dispense', v: 1, nullifier: sha256hex('nullifier ' + tag), rx: sha256hex('rx ' + tag),
      pharmacy: PHARMACY.did, qty: 1 + (n % 90), ts: 1700000000 + n,
    };
    entry.sig = sign(null, Buffer.from(canonical(entry)), PHARMACY.privateKey).toString('base64url');
    return entry;
  }
  return { type: 'anchor', v: 1, hash: sha256hex('anchor ' + tag), kind: 'document', ts: 1700000000 + n };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function append(prefix, maxSeconds, workers) {
  const deadline = Date.now() + maxSeconds * 1000;
  let acked = 0;
  let unexpected = 0;
  async function worker(w) {
    let n = 0;
    let failures = 0;
    let node = 0;
    while (Date.now() < deadline) {
      const size = (n + w) % 4 === 0 ? 2 + ((n * 7 + w) % 15) : 1;  // a quarter are batches of 2..16
      const entries = [];
      for (let i = 0; i < size; ++i, ++n) entries.push(makeEntry(`${prefix}/${w}/${n}`, n));
      const body = size === 1 ? entries[0] : { entries };
      let res;
      let text;
      try {
        res = await fetch(urls[node] + '/ledger/v1/entries', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
          signal: AbortSignal.timeout(10000),
        });
        text = await res.text();
      } catch {
        // The node is gone (killed) or the connection broke: not acknowledged. Stop once the
        // node has not answered for about a second (with several nodes: try the next one).
        if (urls.length > 1) {
          node = (node + 1) % urls.length;
          await sleep(50);
          continue;
        }
        if (++failures >= 20) return;
        await sleep(50);
        continue;
      }
      failures = 0;
      if (res.status === 503) {
        node = (node + 1) % urls.length;  // a standby (or a full queue): elsewhere, or later
        await sleep(20);
        continue;
      }
      if (res.status !== 200) {
        ++unexpected;
        console.error(`unexpected HTTP ${res.status}: ${text}`);
        continue;
      }
      const j = JSON.parse(text);
      const results = size === 1 ? [j] : j.results;
      let lines = '';
      results.forEach((r, i) => {
        if (r.error !== undefined) {
          ++unexpected;
          console.error(`unexpected per-entry error: ${JSON.stringify(r)}`);
          return;
        }
        if (r.leaf_hash !== leafHash(canonical(entries[i]))) {
          ++unexpected;
          console.error(`leaf hash of index ${r.index} is not SHA-256(0x00 || canonical entry)`);
        }
        lines += `${r.index} ${r.leaf_hash}\n`;
      });
      if (lines) appendFileSync(ackFile, lines);
      acked += results.length;
    }
  }
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  console.log(`acknowledged ${acked} entries`);
  process.exit(unexpected === 0 ? 0 : 1);
}

async function getJson(path) {
  const res = await fetch(url + path, { signal: AbortSignal.timeout(30000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function check() {
  const acks = new Map();
  let duplicates = 0;
  if (existsSync(ackFile)) {
    for (const line of readFileSync(ackFile, 'utf8').split('\n')) {
      if (!line) continue;
      const [i, h] = line.split(' ');
      const index = Number(i);
      if (acks.has(index) && acks.get(index) !== h) ++duplicates;  // two acks for one index
      acks.set(index, h);
    }
  }
  let max = -1;
  for (const k of acks.keys()) max = Math.max(max, k);
  let missing = 0;
  let wrong = 0;
  for (let start = 0; start <= max; start += 1000) {
    const end = Math.min(start + 1000, max + 1);
    let page;
    try {
      page = await getJson(`/ledger/v1/entries?start=${start}&end=${end}`);
    } catch (e) {
      console.error(String(e));
      missing += [...acks.keys()].filter((k) => k >= start).length;
      break;
    }
    for (const e of page.entries) {
      if (!acks.has(e.index)) continue;
      if (e.leaf_hash !== acks.get(e.index) || leafHash(e.entry) !== e.leaf_hash) {
        ++wrong;
        console.error(`index ${e.index}: acknowledged ${acks.get(e.index)}, stored ${e.leaf_hash}`);
      }
    }
  }
  console.log(`acknowledged ${acks.size} entries (highest index ${max}): ${missing} missing, ${wrong} wrong, ` +
              `${duplicates} indices acknowledged twice`);
  process.exit(missing === 0 && wrong === 0 && duplicates === 0 ? 0 : 1);
}

if (mode === 'append') {
  await append(rest[0], Number(rest[1]), Number(rest[2] ?? 4));
} else if (mode === 'check') {
  await check();
} else {
  console.error('usage: crash_client.mjs append URL ACK_FILE PREFIX MAX_SECONDS [WORKERS] | check URL ACK_FILE');
  process.exit(2);
}
