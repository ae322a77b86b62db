#!/usr/bin/env bash
# The consent server's HTTP load next to panva's oidc-provider in one run (issue 16): the same
# client (bench/uma_http_load, N keep-alive threads) against `medallion`'s authorization server
# (data on the real disk, WAL, synchronous=FULL) and against oidc-provider (bench/oidc_provider.mjs,
# Node, in-memory), interleaved round by round, for client_credentials tokens and RFC 7662
# introspection; then the UMA-only modes (the full grant round trip, protected-resource reads).
# Prints one Markdown table of medians (min–max over the rounds) and the ratio ours / theirs.
#
#   bash bench/run_uma_peers.sh [path-to-uma_http_load] [threads] [seconds] [rounds]
#
# Build uma_http_load first (cmake --build build --target uma_http_load); oidc-provider comes from
# tests/interop/node_modules (scripts/deps.sh runs npm ci there).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${1:-$HERE/../build/bench/uma_http_load}
THREADS=${2:-16}
SECS=${3:-5}
ROUNDS=${4:-3}
if [[ ! -x $BIN ]]; then
  echo "uma_http_load not found: $BIN" >&2
  exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/uma-peers.XXXXXX")
PEER_PID=
cleanup() {
  [[ -n $PEER_PID ]] && kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

node "$HERE/oidc_provider.mjs" >"$TMP/peer.json" 2>"$TMP/peer.err" &
PEER_PID=$!
for _ in $(seq 100); do [[ -s $TMP/peer.json ]] && break; sleep 0.1; done
PEER=$(head -1 "$TMP/peer.json")
[[ -n $PEER ]] || { echo "oidc-provider did not start:" >&2; cat "$TMP/peer.err" >&2; exit 1; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $THREADS client threads, ${SECS} s per run, $ROUNDS rounds; peer: oidc-provider $(node -e 'console.log(JSON.parse(process.argv[1]).version)' "$PEER")"
for r in $(seq "$ROUNDS"); do
  for mode in token introspect; do
    "$BIN" --mode "$mode" --threads "$THREADS" --seconds "$SECS" >>"$TMP/results.jsonl"
    "$BIN" --mode "$mode" --threads "$THREADS" --seconds "$SECS" --peer "$PEER" >>"$TMP/results.jsonl"
  done
  for mode in grant resource; do
    "$BIN" --mode "$mode" --threads "$THREADS" --seconds "$SECS" >>"$TMP/results.jsonl"
  done
done

node - "$TMP/results.jsonl" <<'EOF'
const fs = require('fs');
const runs = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const by = {};
for (const r of runs) (by[`${r.target}/${r.mode}`] ||= []).push(r);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const cell = (k) => {
  const v = (by[k] || []).map((r) => r.ops_per_s);
  if (!v.length) return ['–', null];
  return [`${fmt(median(v))} (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})`, median(v)];
};
const busy = (k) => (by[k] ? median(by[k].map((r) => r.cpu_cores_busy)).toFixed(2) : '–');
const errors = runs.reduce((n, r) => n + r.errors, 0);
console.log('| operation | medallion ops/s | oidc-provider ops/s | medallion / oidc-provider | medallion p50 | medallion cores busy |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const mode of ['token', 'introspect', 'grant', 'resource']) {
  const [o, om] = cell(`medallion/${mode}`);
  const [p, pm] = cell(`peer/${mode}`);
  const p50 = by[`medallion/${mode}`] ? median(by[`medallion/${mode}`].map((r) => r.p50_ms)).toFixed(2) + ' ms' : '–';
  console.log(`| ${mode} | ${o} | ${p} | ${pm ? (om / pm).toFixed(2) + '×' : '–'} | ${p50} | ${busy(`medallion/${mode}`)} |`);
}
console.log(`\nerrors across all runs: ${errors}`);
EOF
