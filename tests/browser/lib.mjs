// Helpers of the browser suites: "ok - / not ok -" checks, the roles as child processes (each
// killed at the end, also on failure), CLI runs, free ports, a temp folder removed at exit.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

let passed = 0;
let failed = 0;
const failures = [];

export function ok(name) {
  passed += 1;
  console.log(`ok - ${name}`);
}

export function notOk(name, detail) {
  failed += 1;
  failures.push(name);
  console.log(`not ok - ${name}${detail ? ` (${String(detail).replace(/\s+/g, ' ').slice(0, 600)})` : ''}`);
}

export function check(cond, name, detail) {
  if (cond) ok(name);
  else notOk(name, detail);
  return Boolean(cond);
}

export function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  if (failures.length) console.log(`failed: ${failures.join('; ')}`);
  return failed;
}

export const work = mkdtempSync(join(tmpdir(), 'medallion-browser-'));
const children = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `medallion args...`; resolves with the first stdout line that is JSON (the --json
// banner) and keeps the process until cleanup().
export function startRole(bin, name, args, env) {
  const logDir = join(work, 'logs');
  mkdirSync(logDir, { recursive: true });
  const child = spawn(bin, args, { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    appendFileSync(join(logDir, `${name}.err`), d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not print its banner in 60 s: ${err.slice(-500)}`)), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      appendFileSync(join(logDir, `${name}.out`), d);
      for (const line of out.split('\n')) {
        const t = line.trim();
        if (!t.startsWith('{')) continue;
        try {
          const banner = JSON.parse(t);
          clearTimeout(timer);
          resolve({ child, banner, output: () => out, errors: () => err });
          return;
        } catch {
          /* not yet a whole line */
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before its banner: ${err.slice(-800)}`));
    });
  });
}

// Runs `medallion args...` to completion: {code, stdout, stderr}.
export function run(bin, args, env, { timeout = 120000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: work, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      children.delete(child);
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    children.add(child);
  });
}

export function json(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function writeJson(name, value) {
  const p = join(work, name);
  writeFileSync(p, JSON.stringify(value, null, 2));
  return p;
}

let cleaned = false;
let cleaning = null;
// Stops every process started here and removes the temp folder; every caller waits for the
// same work (the walk and a signal handler may both call it).
export function cleanup(opts = {}) {
  if (!cleaning) cleaning = stopAll(opts);
  return cleaning;
}

async function stopAll({ keep = false }) {
  cleaned = true;
  const waits = [];
  for (const c of children) {
    if (c.exitCode !== null) continue;
    waits.push(new Promise((resolve) => {
      const t = setTimeout(() => {
        try {
          c.kill('SIGKILL');
        } catch {
          /* gone */
        }
        resolve();
      }, 3000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      try {
        c.kill('SIGTERM');
      } catch {
        clearTimeout(t);
        resolve();
      }
    }));
  }
  await Promise.all(waits);
  if (!keep) {
    try {
      rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      console.log(`# could not remove ${work}: ${err.message}`);
    }
  }
}

// Last resort: a synchronous kill when node exits without cleanup() having run.
process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (!cleaned && !process.env.MEDALLION_KEEP_TMP) rmSync(work, { recursive: true, force: true });
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, { timeout = 15000, interval = 200 } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch {
      /* try again */
    }
    await sleep(interval);
  }
  return last;
}

const stopHooks = [];
// Something to stop first when the suite is stopped from outside (the browser).
export function onStop(fn) {
  stopHooks.push(fn);
}

// Stopped from outside (Ctrl-C, ctest's kill): stop the browser and the roles, remove the folder.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, async () => {
    console.log(`not ok - stopped by ${sig}`);
    for (const fn of stopHooks) await Promise.resolve().then(fn).catch(() => {});
    await cleanup({ keep: Boolean(process.env.MEDALLION_KEEP_TMP) });
    process.exit(1);
  });
}
