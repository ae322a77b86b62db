// The npm packages the Node benchmarks compare against live in tests/interop (one package-lock
// for every Node suite; scripts/deps.sh runs npm ci there). This resolves a package's ESM entry
// point from its package.json, as Node would from inside tests/interop, and imports it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MODULES = path.resolve(HERE, '..', 'tests', 'interop', 'node_modules');

export function packageJson(name) {
  return JSON.parse(fs.readFileSync(path.join(MODULES, name, 'package.json'), 'utf8'));
}

export async function load(name) {
  const pj = packageJson(name);
  const pick = (e) => {
    if (typeof e === 'string') return e;
    if (Array.isArray(e)) return pick(e[0]);
    if (e && typeof e === 'object') {
      for (const k of ['node', 'import', 'default']) {
        if (e[k] !== undefined) {
          const r = pick(e[k]);
          if (r) return r;
        }
      }
    }
    return null;
  };
  let entry = null;
  if (pj.exports !== undefined) entry = pick(typeof pj.exports === 'object' && pj.exports['.'] !== undefined ? pj.exports['.'] : pj.exports);
  entry = entry || pj.module || pj.main || 'index.js';
  return import(pathToFileURL(path.join(MODULES, name, entry)).href);
}
