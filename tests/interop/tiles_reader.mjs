#!/usr/bin/env node
// An independent C2SP tlog-tiles reader against the ledger node, written from the texts alone
// and sharing no code with Medallion (node:crypto, node:fs and fetch only):
//   - c2sp.org/signed-note: the note text, the blank line, "— <name> base64(key ID || sig)"
//     lines; key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]; Ed25519 over the text.
//     The verifier key is "<name>+<hex key ID>+base64(0x01 || public key)".
//   - c2sp.org/tlog-checkpoint: origin line, decimal tree size, base64 root hash.
//   - c2sp.org/tlog-tiles: <prefix>/tile/<L>/<N>[.p/<W>] (N in 3-digit elements, all but the last
//     prefixed with x), 256 hashes per full tile, hash i of tile (L, N) being
//     MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]); the partial tile at level L of a tree of size s
//     has floor(s / 256^L) mod 256 hashes; entry bundles of big-endian uint16 length-prefixed
//     entries at <prefix>/tile/entries/<N>[.p/<W>].
//   - RFC 9162 §2.1.1 (leaf 0x00, node 0x01), §2.1.3.1/§2.1.3.2 (inclusion proofs: PATH and
//     its verification), §2.1.4.1/§2.1.4.2 (consistency proofs: SUBPROOF and its verification).
//
//   node tests/interop/tiles_reader.mjs <path-to-medallion>
//
// It runs `medallion ledger serve`, appends TILES_A entries (default 1000), exports the tiles
// (`ledger export-tiles`), appends up to TILES_B (default 66,000: a level-2 tile), exports again,
// and from both exported directories and from the live server (prefix /tlog/): verifies each
// checkpoint's signature, recomputes its root from tiles, verifies the inclusion of every entry of
// the exported trees (a sample from the server) and the consistency of the two checkpoints, and
// checks that the proofs it computes equal the node's /ledger/v1/proof answers. Negative checks:
// a tampered tile byte, entry byte or checkpoint signature must fail verification.
// The last line printed is exactly "N passed, M failed"; the exit code is non-zero on failure.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const MEDALLION = process.argv[2];
if (!MEDALLION) {
  console.error('usage: tiles_reader.mjs <medallion>');
  process.exit(2);
}
const SIZE_A = Number(process.env.TILES_A || 1000);
const SIZE_B = Number(process.env.TILES_B || 66000);
const ORIGIN = 'tiles.test/tlog';

let passed = 0;
const failures = [];
function check(cond, what, detail = '') {
  if (cond) {
    passed++;
    console.log(`ok - ${what}`);
  } else {
    failures.push(what);
    console.log(`not ok - ${what}${detail ? `: ${detail}` : ''}`);
  }
}
async function throws(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return e;
  }
}

// ---- RFC 9162 §2.1.1 ------------------------------------------------------------------------
const sha256 = (...parts) => {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (entry) => sha256(Buffer.from([0]), entry);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
// The largest power of two smaller than n (n > 1).
const splitPoint = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

// ---- signed note and checkpoint -------------------------------------------------------------
function parseVerifierKey(vkey) {
  // The name holds no '+'; the base64 key may.
  const a = vkey.indexOf('+'), b = vkey.indexOf('+', a + 1);
  if (a <= 0 || b < 0) throw new Error('verifier key: not name+id+key');
  const [name, idHex, keyB64] = [vkey.slice(0, a), vkey.slice(a + 1, b), vkey.slice(b + 1)];
  const key = Buffer.from(keyB64, 'base64');
  if (!/^[0-9a-f]{8}$/.test(idHex) || key.length !== 33 || key[0] !== 0x01) throw new Error('verifier key: malformed');
  const id = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a]), key).subarray(0, 4);
  if (id.toString('hex') !== idHex) throw new Error('verifier key: key ID does not match');
  const publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  return { name, id, publicKey };
}

// Verifies a signed note under `vkey` and parses the checkpoint in it: {origin, size, root, text}.
function openCheckpoint(note, vkey) {
  const key = parseVerifierKey(vkey);
  const sep = note.indexOf('\n\n');
  if (sep < 0) throw new Error('note: no blank line');
  const text = note.slice(0, sep + 1);
  const sigLines = note.slice(sep + 2).split('\n');
  if (sigLines.pop() !== '') throw new Error('note: no final newline');
  let verified = false;
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error(`note: malformed signature line ${JSON.stringify(line)}`);
    const blob = Buffer.from(m[2], 'base64');
    if (m[1] !== key.name || blob.length < 4 || !blob.subarray(0, 4).equals(key.id)) continue;
    if (blob.length === 68 && crypto.verify(null, Buffer.from(text, 'utf8'), key.publicKey, blob.subarray(4))) verified = true;
  }
  if (!verified) throw new Error('checkpoint: no valid signature by the log key');
  const lines = text.split('\n');
  if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error('checkpoint: malformed');
  const root = Buffer.from(lines[2], 'base64');
  if (root.length !== 32 || root.toString('base64') !== lines[2]) throw new Error('checkpoint: bad root hash');
  return { origin: lines[0], size: Number(lines[1]), root, text };
}

// ---- tlog-tiles -----------------------------------------------------------------------------
function indexPath(n) {
  const groups = [];
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}
function tilePath(level, n, width) {
  return `tile/${level}/${indexPath(n)}${width < 256 ? `.p/${width}` : ''}`;
}
function bundlePath(n, width) {
  return `tile/entries/${indexPath(n)}${width < 256 ? `.p/${width}` : ''}`;
}
// The width of tile (level, n) in the tree of `size` leaves (0: no such tile).
function tileWidth(level, n, size) {
  const hashes = Math.floor(size / 256 ** level);
  const full = Math.floor(hashes / 256);
  if (n < full) return 256;
  if (n === full) return hashes % 256;
  return 0;
}

// A reader of one tree (size, root) from a source of tiles: get(path) -> Buffer.
class TiledTree {
  constructor(get, size) {
    this.get = get;
    this.size = size;
    this.tiles = new Map();
    this.nodes = new Map();
    this.fetches = 0;
  }
  async tile(level, n) {
    const key = `${level}/${n}`;
    if (!this.tiles.has(key)) {
      const w = tileWidth(level, n, this.size);
      if (w === 0) throw new Error(`tile ${key} is not in the tree of size ${this.size}`);
      this.fetches++;
      const bytes = await this.get(tilePath(level, n, w));
      if (bytes.length !== 32 * w) throw new Error(`${tilePath(level, n, w)}: ${bytes.length} bytes, expected ${32 * w}`);
      this.tiles.set(key, bytes);
    }
    return this.tiles.get(key);
  }
  // The hash of the complete subtree at tree level `level`, number `index`: a tile hash at
  // level 8*L, else hashed up from the tile hashes below it.
  async node(level, index) {
    const key = `${level}:${index}`;
    if (this.nodes.has(key)) return this.nodes.get(key);
    let h;
    if (level % 8 === 0) {
      const L = level / 8;
      const t = await this.tile(L, Math.floor(index / 256));
      const i = index % 256;
      if (32 * (i + 1) > t.length) throw new Error(`node ${key} is not in the tree of size ${this.size}`);
      h = t.subarray(32 * i, 32 * (i + 1));
    } else {
      h = nodeHash(await this.node(level - 1, 2 * index), await this.node(level - 1, 2 * index + 1));
    }
    this.nodes.set(key, h);
    return h;
  }
  // MTH(D[start : start + n]) (RFC 9162 §2.1.1) for the ranges proofs use.
  async mth(start, n) {
    if (n === 0) return sha256();
    if ((n & (n - 1)) === 0 && start % n === 0) return this.node(Math.log2(n), start / n);
    const k = splitPoint(n);
    return nodeHash(await this.mth(start, k), await this.mth(start + k, n - k));
  }
  async root() {
    return this.mth(0, this.size);
  }
  // RFC 9162 §2.1.3.1 PATH(m, D[start : start + n]).
  async path(m, start, n) {
    if (n <= 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...(await this.path(m, start, k)), await this.mth(start + k, n - k)];
    return [...(await this.path(m - k, start + k, n - k)), await this.mth(start, k)];
  }
  async inclusion(m) {
    return this.path(m, 0, this.size);
  }
  // RFC 9162 §2.1.4.1 SUBPROOF(m, D[start : start + n], b).
  async subproof(m, start, n, b) {
    if (m === n) return b ? [] : [await this.mth(start, n)];
    const k = splitPoint(n);
    if (m <= k) return [...(await this.subproof(m, start, k, b)), await this.mth(start + k, n - k)];
    return [...(await this.subproof(m - k, start + k, n - k, false)), await this.mth(start, k)];
  }
  async consistency(m) {
    return this.subproof(m, 0, this.size, true);
  }
  // The entries of bundle n (at this tree's width), each checked against its level-0 hash.
  async entries(n) {
    const w = tileWidth(0, n, this.size);
    const bundle = await this.get(bundlePath(n, w));
    const out = [];
    let at = 0;
    while (at < bundle.length) {
      if (at + 2 > bundle.length) throw new Error('bundle: truncated length');
      const len = bundle.readUInt16BE(at);
      if (at + 2 + len > bundle.length) throw new Error('bundle: truncated entry');
      out.push(bundle.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    if (out.length !== w) throw new Error(`bundle ${n}: ${out.length} entries, expected ${w}`);
    return out;
  }
}

// RFC 9162 §2.1.3.2: verifying an inclusion proof.
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

// RFC 9162 §2.1.4.2: verifying a consistency proof.
function verifyConsistency(first, second, proof, firstRoot, secondRoot) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || proof.length === 0) return false;
  let p = proof;
  if ((first & (first - 1)) === 0) p = [firstRoot, ...proof];
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = p[0], sr = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

// Verifies a whole tree from tiles: the root, and the inclusion of each entry at `indices` (all
// when null) whose leaf hash is recomputed from its bundle. Returns the number of entries checked.
async function verifyTree(tree, root, indices = null) {
  const computed = await tree.root();
  if (!computed.equals(root)) throw new Error(`root from tiles ${computed.toString('hex')} differs from the checkpoint's`);
  let count = 0;
  const bundles = Math.ceil(tree.size / 256);
  for (let n = 0; n < bundles; n++) {
    const want = indices ? indices.filter((i) => Math.floor(i / 256) === n) : null;
    if (want && want.length === 0) continue;
    const entries = await tree.entries(n);
    for (let i = 0; i < entries.length; i++) {
      const index = n * 256 + i;
      if (want && !want.includes(index)) continue;
      const proof = await tree.inclusion(index);
      if (!verifyInclusion(index, tree.size, leafHash(entries[i]), proof, root)) throw new Error(`entry ${index}: inclusion proof does not verify`);
      count++;
    }
  }
  return count;
}

// One HTTP exchange on a fresh connection (no keep-alive: the reader pauses between requests
// longer than the server keeps an idle connection). {status, headers, body (Buffer)}; the
// `text()`/`json()` helpers read the body.
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: { get: (h) => res.headers[h.toLowerCase()] ?? null },
          body: buf, text: async () => buf.toString('utf8'), json: async () => JSON.parse(buf.toString('utf8')),
          arrayBuffer: async () => buf });
      });
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.end(body);
  });
}
const fetch = request;

const fromDir = (dir) => async (p) => fs.readFileSync(path.join(dir, p));
const fromUrl = (prefix, seen) => async (p) => {
  const r = await fetch(`${prefix}/${p}`);
  if (seen) seen.push([p, r.status, r.headers.get('content-type'), r.headers.get('cache-control')]);
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
  return Buffer.from(await r.arrayBuffer());
};

// ---- the node under test --------------------------------------------------------------------
async function startLedger(work) {
  const child = spawn(MEDALLION, ['ledger', 'serve', '--db', path.join(work, 'ledger.db'), '--key-file', path.join(work, 'ledger.key'),
    '--origin', ORIGIN, '--listen', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Its request log (one info line per request) is left out; anything else is shown.
  child.stderr.on('data', (d) => {
    for (const line of String(d).split('\n')) if (line && !line.includes('"level":"info"')) console.error(`# ledger: ${line}`);
  });
  const banner = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.on('exit', (code) => reject(new Error(`ledger serve exited with ${code}`)));
    child.on('error', reject);
    setTimeout(() => reject(new Error('ledger serve: no banner')), 20000);
  });
  return { child, url: banner.url, vkey: banner.verifier_key };
}

async function appendUpTo(url, from, to) {
  for (let i = from; i < to; i += 1000) {
    const entries = [];
    for (let j = i; j < Math.min(to, i + 1000); j++) {
      entries.push({ type: 'anchor', v: 1, hash: sha256(Buffer.from(`tiles reader ${j}`)).toString('hex'), kind: 'document', ts: 1700000000 + j });
    }
    const r = await fetch(`${url}/ledger/v1/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entries }) });
    const body = await r.json();
    if (r.status !== 200 || body.results.some((x) => x.error)) throw new Error(`append: ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
}

function exportTiles(db, out) {
  return JSON.parse(execFileSync(MEDALLION, ['ledger', 'export-tiles', '--db', db, '--out', out, '--json'], { encoding: 'utf8' }));
}

async function apiProof(url, query) {
  const r = await fetch(`${url}/ledger/v1/proof/${query}`);
  if (r.status !== 200) throw new Error(`proof ${query}: ${r.status}`);
  return (await r.json()).hashes;
}
const hex = (proof) => proof.map((h) => h.toString('hex'));
const sample = (size, n) => {
  const s = new Set([0, size - 1, Math.floor(size / 2), 255, 256, 65535, 65536].filter((i) => i < size));
  let x = 12345;
  while (s.size < Math.min(size, n)) { x = (x * 48271) % 2147483647; s.add(x % size); } // MINSTD
  return [...s].sort((a, b) => a - b);
};

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'medallion-tiles-'));
  const db = path.join(work, 'ledger.db');
  const node = await startLedger(work);
  const prefix = `${node.url}/tlog`;
  try {
    console.log(`# ledger ${node.url}, sizes ${SIZE_A} and ${SIZE_B}, work ${work}`);
    await appendUpTo(node.url, 0, SIZE_A);
    const dirA = path.join(work, 'a');
    const exportedA = exportTiles(db, dirA);
    check(exportedA.size === SIZE_A, `export-tiles wrote the tree of size ${SIZE_A}`, JSON.stringify(exportedA));
    const noteA = fs.readFileSync(path.join(dirA, 'checkpoint'), 'utf8');
    const cpA = openCheckpoint(noteA, node.vkey);
    check(cpA.origin === ORIGIN && cpA.size === SIZE_A, 'checkpoint A: signature verified, origin and size');

    await appendUpTo(node.url, SIZE_A, SIZE_B);
    const dirB = path.join(work, 'b');
    exportTiles(db, dirB);
    const cpB = openCheckpoint(fs.readFileSync(path.join(dirB, 'checkpoint'), 'utf8'), node.vkey);
    check(cpB.size === SIZE_B, `checkpoint B: signature verified, size ${SIZE_B}`);

    // From the exported directories: every entry of both trees.
    const treeA = new TiledTree(fromDir(dirA), cpA.size);
    const nA = await verifyTree(treeA, cpA.root);
    check(nA === SIZE_A, `directory A: root recomputed from tiles, inclusion of all ${nA} entries verified (${treeA.fetches} tiles)`);
    const treeB = new TiledTree(fromDir(dirB), cpB.size);
    const nB = await verifyTree(treeB, cpB.root);
    check(nB === SIZE_B, `directory B: root recomputed from tiles, inclusion of all ${nB} entries verified (${treeB.fetches} tiles)`);
    const consistency = await treeB.consistency(SIZE_A);
    check(verifyConsistency(SIZE_A, SIZE_B, consistency, cpA.root, cpB.root), `consistency ${SIZE_A} -> ${SIZE_B} from B's tiles verifies against both checkpoints (${consistency.length} hashes)`);
    check(JSON.stringify(hex(consistency)) === JSON.stringify(await apiProof(node.url, `consistency?first=${SIZE_A}&second=${SIZE_B}`)),
      'the consistency proof from tiles equals /ledger/v1/proof/consistency');
    // Re-exporting B into A's directory keeps A's partial tiles: the size-A reader still works.
    exportTiles(db, dirA);
    const treeA2 = new TiledTree(fromDir(dirA), cpA.size);
    check((await verifyTree(treeA2, cpA.root)) === SIZE_A, 'after re-exporting B into directory A, the tree of checkpoint A still verifies from it');
    check(openCheckpoint(fs.readFileSync(path.join(dirA, 'checkpoint'), 'utf8'), node.vkey).size === SIZE_B, 'directory A now carries checkpoint B');

    // Proofs from tiles equal the node's API, at both sizes.
    let same = 0, differ = [];
    for (const [tree, size] of [[treeA, SIZE_A], [treeB, SIZE_B]]) {
      for (const i of sample(size, 60)) {
        const api = await apiProof(node.url, `inclusion?index=${i}&size=${size}`);
        if (JSON.stringify(hex(await tree.inclusion(i))) === JSON.stringify(api)) same++;
        else differ.push(`${i}@${size}`);
      }
    }
    check(differ.length === 0, `inclusion proofs from tiles equal /ledger/v1/proof/inclusion (${same} compared)`, differ.slice(0, 5).join(', '));
    const mid = Math.floor((SIZE_A + SIZE_B) / 3);
    const c2 = await treeB.consistency(mid);
    check(JSON.stringify(hex(c2)) === JSON.stringify(await apiProof(node.url, `consistency?first=${mid}&second=${SIZE_B}`)), `consistency ${mid} -> ${SIZE_B} from tiles equals the API's`);

    // From the live server (/tlog/): the checkpoint, tiles and bundles, with their headers.
    const seen = [];
    const cr = await fetch(`${prefix}/checkpoint`);
    const liveNote = await cr.text();
    check(cr.status === 200 && cr.headers.get('content-type') === 'text/plain; charset=utf-8' && /no-cache|no-store|max-age=[0-9]\b/.test(cr.headers.get('cache-control') || ''),
      'GET /tlog/checkpoint: 200 text/plain; charset=utf-8, not cached beyond a few seconds', `${cr.status} ${cr.headers.get('content-type')} ${cr.headers.get('cache-control')}`);
    const cpLive = openCheckpoint(liveNote, node.vkey);
    check(cpLive.size === SIZE_B && cpLive.root.equals(cpB.root), 'live checkpoint: signature verified, same tree as the export');
    const live = new TiledTree(fromUrl(prefix, seen), cpLive.size);
    const nLive = await verifyTree(live, cpLive.root, sample(SIZE_B, 300));
    check(nLive === Math.min(300, SIZE_B), `live server: root recomputed from tiles, inclusion of ${nLive} sampled entries verified (${live.fetches} tiles)`);
    const liveA = new TiledTree(fromUrl(prefix, seen), SIZE_A);
    check((await verifyTree(liveA, cpA.root, sample(SIZE_A, 100))) > 0, `live server still serves the partial tiles of checkpoint A (size ${SIZE_A})`);
    const liveC = await live.consistency(SIZE_A);
    check(verifyConsistency(SIZE_A, SIZE_B, liveC, cpA.root, cpLive.root) && JSON.stringify(hex(liveC)) === JSON.stringify(hex(consistency)),
      'live server: consistency from tiles verifies and equals the one from the export');
    const octet = seen.filter(([, s]) => s === 200).every(([, , ct]) => ct === 'application/octet-stream');
    const immutable = seen.filter(([, s]) => s === 200).every(([, , , cc]) => /immutable/.test(cc || '') && /max-age=[1-9][0-9]{4,}/.test(cc || ''));
    check(seen.length > 0 && octet && immutable, `tiles and bundles: application/octet-stream, long-lived immutable caching (${seen.length} fetched)`);
    for (const p of [tilePath(0, Math.ceil(SIZE_B / 256), 1), tilePath(0, Math.floor(SIZE_B / 256), 256), tilePath(0, Math.floor(SIZE_B / 256), (SIZE_B % 256) + 1),
      bundlePath(Math.floor(SIZE_B / 256) + 5, 256), tilePath(3, 0, 1), 'tile/0/x000/001', 'tile/0/1', 'tile/64/000', 'tile/entries/000.p/256']) {
      const r = await fetch(`${prefix}/${p}`);
      let body = null;
      try { body = await r.json(); } catch { /* checked below */ }
      check(r.status === 404 && body && typeof body.error === 'string' && typeof body.error_description === 'string' && !/immutable/.test(r.headers.get('cache-control') || ''),
        `GET /tlog/${p}: 404 JSON error, not cached as immutable`, `${r.status} ${JSON.stringify(body)}`);
    }

    // Negative checks: a tampered tile byte, entry byte or signature fails.
    const bad = path.join(work, 'tampered');
    fs.cpSync(dirB, bad, { recursive: true });
    const flip = (rel, at) => {
      const f = path.join(bad, rel);
      const b = fs.readFileSync(f);
      b[at] ^= 0x01;
      fs.writeFileSync(f, b);
      return () => { b[at] ^= 0x01; fs.writeFileSync(f, b); };
    };
    let undo = flip(tilePath(0, 1, 256), 32 * 7 + 3); // leaf 263's hash
    let e = await throws(() => verifyTree(new TiledTree(fromDir(bad), cpB.size), cpB.root));
    check(e && /inclusion|root/.test(e.message), 'a tampered level-0 tile byte fails verification', e ? e.message : 'verified');
    undo();
    undo = flip(tilePath(1, 0, 256), 32 * 100);
    e = await throws(() => verifyTree(new TiledTree(fromDir(bad), cpB.size), cpB.root));
    check(e && /inclusion|root/.test(e.message), 'a tampered level-1 tile byte fails verification', e ? e.message : 'verified');
    undo();
    undo = flip(bundlePath(2, 256), 40);
    e = await throws(() => verifyTree(new TiledTree(fromDir(bad), cpB.size), cpB.root));
    check(e && /entry 5\d\d: inclusion/.test(e.message), 'a tampered entry bundle byte fails verification', e ? e.message : 'verified');
    undo();
    check((await verifyTree(new TiledTree(fromDir(bad), cpB.size), cpB.root, sample(SIZE_B, 50))) > 0, 'the copy verifies again once restored');
    const sigTampered = noteA.slice(0, -10) + (noteA.slice(-10, -9) === 'A' ? 'B' : 'A') + noteA.slice(-9);
    check(!!(await throws(async () => openCheckpoint(sigTampered, node.vkey))), 'a tampered checkpoint signature is refused');
    check(!!(await throws(async () => openCheckpoint(noteA.replace(`\n${SIZE_A}\n`, `\n${SIZE_A + 1}\n`), node.vkey))), 'a checkpoint with an edited size is refused');
    const otherKey = `${ORIGIN}+${'0'.repeat(8)}+${Buffer.concat([Buffer.from([1]), crypto.randomBytes(32)]).toString('base64')}`;
    check(!!(await throws(async () => openCheckpoint(noteA, otherKey))), 'a checkpoint under another verifier key is refused');
  } finally {
    node.child.kill('SIGTERM');
  }
  await new Promise((resolve) => (node.child.exitCode !== null ? resolve() : node.child.on('exit', resolve)));

  // export-tiles refuses what it cannot use (exit 2) and a stored tree that is not the one its
  // checkpoint signs (exit 1), writing no checkpoint.
  const exitOf = (args) => {
    try {
      execFileSync(MEDALLION, ['ledger', 'export-tiles', ...args], { stdio: 'pipe' });
      return 0;
    } catch (e) {
      return e.status;
    }
  };
  check(exitOf(['--db', path.join(work, 'missing.db'), '--out', path.join(work, 'm')]) === 2, 'export-tiles: a missing database is exit 2');
  fs.writeFileSync(path.join(work, 'a-file'), 'x');
  check(exitOf(['--db', db, '--out', path.join(work, 'a-file')]) === 2, 'export-tiles: --out naming a file is exit 2');
  check(exitOf(['--db', db]) === 2, 'export-tiles: no --out is exit 2');
  // Node (16, 0): the first hash of the stored tile row (2, 0) (docs/ledger.md: one row per tile).
  execFileSync('sqlite3', [db, 'UPDATE tiles SET hashes = zeroblob(32) || substr(hashes, 33) WHERE level = 2 AND idx = 0']);
  const damaged = path.join(work, 'damaged');
  check(exitOf(['--db', db, '--out', damaged]) === 1 && !fs.existsSync(path.join(damaged, 'checkpoint')),
    'export-tiles: a stored node edited under the checkpoint is exit 1, and no checkpoint is written');
  fs.rmSync(work, { recursive: true, force: true });
}

main().then(() => {
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exitCode = failures.length ? 1 : 0;
}, (e) => {
  console.log(`not ok - ${e.stack || e}${e.cause ? ` (cause: ${e.cause.stack || e.cause})` : ""}`);
  console.log(`${passed} passed, ${failures.length + 1} failed`);
  process.exit(1);
});
