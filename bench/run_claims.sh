#!/usr/bin/env bash
# Credential benchmarks in one run (issue 12): bench/claims_bench.cpp (the claims module over
# libsodium) and bench/claims_bench.mjs (the npm implementations over node:crypto), then one
# table of operations per second with two ratios per row: ours / npm (the peer), and each side's
# rate as a fraction of its own raw Ed25519 sign (issue) or verify (verify) rate.
#
#   bash bench/run_claims.sh [path-to-claims_bench] [seconds-per-benchmark]
#
# Build claims_bench in Release first, e.g.
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target claims_bench
# The npm packages come from tests/interop/node_modules (npm ci there, or scripts/deps.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${1:-$HERE/../build-rel/bench/claims_bench}
SECONDS_PER=${2:-2}
if [[ ! -x $BIN ]]; then
  echo "claims_bench not found: $BIN (build it in Release first)" >&2
  exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/claims-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$BIN" --benchmark_min_time="$SECONDS_PER" --benchmark_format=json >"$TMP/ours.json" 2>"$TMP/ours.err"
node "$HERE/claims_bench.mjs" --seconds "$SECONDS_PER" >"$TMP/npm.json"

node - "$TMP/ours.json" "$TMP/npm.json" <<'EOF'
const fs = require('fs');
const ours = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const npm = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const rate = {};
for (const b of ours.benchmarks) rate[b.name] = 1e9 / (b.cpu_time * ({ ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[b.time_unit] || 1));
const map = {
  raw_ed25519_sign: 'BM_RawEd25519Sign',
  raw_ed25519_verify: 'BM_RawEd25519Verify',
  did_key_dereference: 'BM_DidKeyDereference',
  did_key_dereference_uncached: 'BM_DidKeyDereferenceUncached',
  di_issue: 'BM_DiIssue',
  di_verify: 'BM_DiVerify',
  jwt_issue: 'BM_JwtIssue',
  jwt_verify: 'BM_JwtVerify',
  sdjwt_issue: 'BM_SdJwtIssue',
  sdjwt_verify: 'BM_SdJwtVerify',
};
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const pct = (x) => (100 * x).toFixed(0) + ' %';
console.log(`# medallion: ${ours.context.host_name}, ${ours.context.num_cpus} CPUs, library build ${ours.context.library_build_type}; npm side: node ${npm.node}`);
console.log('| operation | medallion ops/s | npm ops/s | medallion / npm | medallion / raw Ed25519 | npm / raw Ed25519 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [k, b] of Object.entries(map)) {
  const o = rate[b];
  const n = npm.results[k];
  const raw = k.endsWith('sign') || k.endsWith('issue') ? 'raw_ed25519_sign' : 'raw_ed25519_verify';
  if (k.startsWith('did_key_dereference')) {
    console.log(`| ${k} | ${fmt(o)} | ${fmt(n)} | ${(o / n).toFixed(2)}× | – | – |`);
    continue;
  }
  const oRaw = rate[map[raw]];
  const nRaw = npm.results[raw];
  console.log(`| ${k} | ${fmt(o)} | ${fmt(n)} | ${(o / n).toFixed(2)}× | ${pct(o / oRaw)} | ${pct(n / nRaw)} |`);
}
EOF
