#!/usr/bin/env bash
# Failover of the ledger's sequencer on PostgreSQL (issue 18, "Proof"; docs/ledger.md §Sequencer
# lease): two `medallion ledger serve` processes on one PostgreSQL database (a fresh schema), the
# first the sequencer, the second a hot standby. A client (crash_client.mjs) appends single
# entries and batches through whichever node answers, moving on at a 503 or a broken
# connection, and records every acknowledged (index, leaf_hash). In each round the active node is
# killed with SIGKILL under that load; then:
#   - the standby takes the lease over (its /metrics says medallion_ledger_sequencer_active 1)
#     and the client's appends go on through it;
#   - every acknowledged entry, before and after the kill, is at its index with its leaf hash;
#   - the checkpoint after the takeover is consistent with the last one trusted before the kill
#     (`ledger checkpoint --state` checks the consistency proof, refusing rollback/split view);
#   - the killed node restarts as the standby (banner "sequencer": "standby");
#   - `medallion ledger verify --db postgresql://...` recomputes the whole stored tree: ok.
#
# Usage: pg_failover_test.sh path/to/medallion STATE_DIR   (STATE_DIR: tests/pg/pg_cluster.sh's,
# for the cluster ctest's fixture started; $MEDALLION_PG_URL wins.) ROUNDS (default 2),
# FAILOVER_SEED to reproduce. Exit 77 (ctest: skipped) without a PostgreSQL cluster.
set -euo pipefail

MEDALLION=${1:?usage: pg_failover_test.sh path/to/medallion STATE_DIR}
STATE_DIR=${2:?usage: pg_failover_test.sh path/to/medallion STATE_DIR}
ROUNDS=${ROUNDS:-2}
FAILOVER_SEED=${FAILOVER_SEED:-$(($(date +%s) % 32768))}
RANDOM=$FAILOVER_SEED
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT="$HERE/crash_client.mjs"
PG="$HERE/../pg/pg_cluster.sh"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
finish() {
  echo "$pass passed, $fail failed"
  if [[ $fail -eq 0 ]]; then exit 0; else exit 1; fi
}

if ! DB=$(bash "$PG" new-schema "$STATE_DIR" failover 2>/dev/null); then
  echo "SKIP: no PostgreSQL cluster (MEDALLION_PG_URL unset and none started by ctest's pg:start, or MEDALLION_NO_POSTGRES=1)"
  exit 77
fi
if ! command -v node >/dev/null 2>&1; then
  bad "node (20+) is needed for the concurrent client"
  finish
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/medallion-failover.XXXXXX")
KEY="$TMP/ledger.key"
STATE="$TMP/trusted.note"
ACKS="$TMP/acks.txt"
ORIGIN="failover.medallion.example/ledger"
declare -A PID URL
ROLE=""
CLIENT_PID=""
LOG_KEY=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if [[ -n $CLIENT_PID ]] && kill -0 "$CLIENT_PID" 2>/dev/null; then kill "$CLIENT_PID" 2>/dev/null || true; fi
  for n in a b; do
    if [[ -n ${PID[$n]:-} ]] && kill -0 "${PID[$n]}" 2>/dev/null; then
      kill -TERM "${PID[$n]}" 2>/dev/null || true
      wait "${PID[$n]}" 2>/dev/null || true
    fi
  done
  bash "$PG" drop-schema "$DB" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

jget() {
  node -e 'let v; try { v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]; } catch {}
           process.stdout.write(v === undefined ? "" : String(v));' "$1" "$2"
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# start_node NODE: `ledger serve` on the shared database; sets PID[NODE], URL[NODE], and ROLE
# (the banner's "sequencer": active or standby).
start_node() {
  local n=$1 banner="$TMP/banner-$1.json"
  : >"$banner"
  "$MEDALLION" ledger serve --db "$DB" --key-file "$KEY" --origin "$ORIGIN" --listen 127.0.0.1:0 --json \
    >"$banner" 2>>"$TMP/server-$n.err" &
  PID[$n]=$!
  for _ in $(seq 1 400); do
    if grep -q '}' "$banner" 2>/dev/null; then break; fi
    if ! kill -0 "${PID[$n]}" 2>/dev/null; then break; fi
    sleep 0.025
  done
  if ! grep -q '}' "$banner" 2>/dev/null; then
    cat "$TMP/server-$n.err" >&2 || true
    return 1
  fi
  URL[$n]=$(jget "$banner" url)
  local key
  key=$(jget "$banner" verifier_key)
  if [[ -n $LOG_KEY && $key != "$LOG_KEY" ]]; then
    echo "the log key differs between the nodes" >&2
    return 1
  fi
  LOG_KEY=$key
  ROLE=$(jget "$banner" sequencer)
}

# active NODE: 0 if the node's /metrics says it sequences.
active() {
  node -e 'fetch(process.argv[1] + "/metrics").then(r => r.text()).then(t => {
             process.exit(/^medallion_ledger_sequencer_active 1$/m.test(t) ? 0 : 1); }).catch(() => process.exit(1));' \
    "${URL[$1]}"
}

checkpoint() {
  "$MEDALLION" ledger checkpoint --url "$1" --log-key "$LOG_KEY" --state "$STATE" --json >"$2" 2>>"$TMP/cli.err"
}

echo "# failover test: ROUNDS=$ROUNDS FAILOVER_SEED=$FAILOVER_SEED"
: >"$ACKS"
start_node a || { bad "first ledger serve on PostgreSQL starts"; finish; }
if [[ $ROLE == active ]]; then ok "node a sequences (${URL[a]})"; else bad "node a: sequencer $ROLE"; fi
start_node b || { bad "second ledger serve on the same database starts"; finish; }
if [[ $ROLE == standby ]]; then ok "node b is a hot standby (${URL[b]})"; else bad "node b: sequencer $ROLE"; fi
if active a && ! active b; then ok "/metrics: a active, b standby"; else bad "/metrics sequencer gauges"; fi
code=$(node -e 'fetch(process.argv[1] + "/ledger/v1/entries", {method: "POST", headers: {"content-type": "application/json"},
  body: JSON.stringify({type: "anchor", v: 1, hash: "ab".repeat(32), kind: "document", ts: 1700000000})})
  .then(async r => console.log(r.status, r.headers.get("retry-after"), JSON.parse(await r.text()).error))' "${URL[b]}")
if [[ $code == "503 1 temporarily_unavailable" ]]; then ok "the standby refuses appends: $code"; else bad "append at the standby: $code"; fi
if checkpoint "${URL[a]}" "$TMP/cp0.json"; then ok "empty log: checkpoint trusted"; else bad "first checkpoint"; fi

victim=a
survivor=b
for round in $(seq 1 "$ROUNDS"); do
  : >"$TMP/client.out"
  node "$CLIENT" append "${URL[$victim]},${URL[$survivor]}" "$ACKS" "f$round-$FAILOVER_SEED" 6 4 >"$TMP/client.out" 2>&1 &
  CLIENT_PID=$!
  sleep_ms $((800 + RANDOM % 1200))
  # The last checkpoint trusted before the crash (consistent with every earlier one).
  if checkpoint "${URL[$victim]}" "$TMP/before.json"; then
    seen=$(jget "$TMP/before.json" size)
  else
    seen=-1
    bad "round $round: checkpoint before the kill"
    cat "$TMP/cli.err"
  fi
  sleep_ms $((RANDOM % 300))
  acked_at_kill=$(grep -c . "$ACKS" || true)
  kill -KILL "${PID[$victim]}"
  wait "${PID[$victim]}" 2>/dev/null || true
  PID[$victim]=""
  t0=$(date +%s%N)
  took=0
  for _ in $(seq 1 300); do
    if active "$survivor"; then took=1; break; fi
    sleep 0.05
  done
  if [[ $took == 1 ]]; then
    ok "round $round: $survivor took over $(( ($(date +%s%N) - t0) / 1000000 )) ms after the SIGKILL of $victim (checkpoint seen at size $seen, $acked_at_kill acknowledged)"
  else
    bad "round $round: $survivor did not take over"
    cat "$TMP/server-$survivor.err"
  fi
  client_rc=0
  wait "$CLIENT_PID" || client_rc=$?
  CLIENT_PID=""
  acked=$(grep -c . "$ACKS" || true)
  if [[ $client_rc -eq 0 && $acked -gt $acked_at_kill ]]; then
    ok "round $round: $(tail -n 1 "$TMP/client.out"), $((acked - acked_at_kill)) of them after the kill"
  else
    bad "round $round: client rc $client_rc, $acked acknowledged ($acked_at_kill at the kill)"
    cat "$TMP/client.out"
  fi
  if node "$CLIENT" check "${URL[$survivor]}" "$ACKS" >"$TMP/check.out" 2>&1; then
    ok "round $round: $(tail -n 1 "$TMP/check.out")"
  else
    bad "round $round: acknowledged entries after the takeover"
    cat "$TMP/check.out"
  fi
  max_index=$(awk 'BEGIN { m = -1 } $1 > m { m = $1 } END { print m }' "$ACKS")
  if checkpoint "${URL[$survivor]}" "$TMP/after.json"; then
    size=$(jget "$TMP/after.json" size)
    if [[ $size -ge $seen && $size -gt $max_index ]]; then
      ok "round $round: checkpoint of $survivor (size $size) consistent with size $seen, covers index $max_index"
    else
      bad "round $round: checkpoint of $survivor has size $size (seen $seen, highest acknowledged $max_index)"
    fi
  else
    bad "round $round: checkpoint after the takeover refused"
    cat "$TMP/cli.err"
  fi
  read -r last_index last_hash < <(tail -n 1 "$ACKS")
  if "$MEDALLION" ledger proof --url "${URL[$survivor]}" --log-key "$LOG_KEY" --state "$STATE" \
    --index "$last_index" --leaf-hash "$last_hash" >"$TMP/proof.out" 2>>"$TMP/cli.err"; then
    ok "round $round: $(cat "$TMP/proof.out")"
  else
    bad "round $round: inclusion proof of entry $last_index"
    cat "$TMP/cli.err"
  fi
  start_node "$victim" || ROLE=failed
  if [[ $ROLE == standby ]]; then
    ok "round $round: $victim restarts as the standby"
  else
    bad "round $round: $victim restarted as $ROLE"
  fi
  # The restarted standby serves the same tree (its own consistency check against the trusted state).
  sleep 0.5
  if checkpoint "${URL[$victim]}" "$TMP/standby.json"; then
    ok "round $round: the standby's checkpoint (size $(jget "$TMP/standby.json" size)) is consistent"
  else
    bad "round $round: the standby's checkpoint"
    cat "$TMP/cli.err"
  fi
  tmp=$victim
  victim=$survivor
  survivor=$tmp
done

if "$MEDALLION" ledger verify --db "$DB" --key-file "$KEY" --origin "$ORIGIN" --json >"$TMP/verify.json" 2>>"$TMP/cli.err" &&
  [[ $(jget "$TMP/verify.json" ok) == true ]]; then
  ok "ledger verify --db postgresql://...: $(jget "$TMP/verify.json" leaves) leaves, $(jget "$TMP/verify.json" checkpoints) checkpoints"
else
  bad "ledger verify: $(cat "$TMP/verify.json" 2>/dev/null) $(cat "$TMP/cli.err")"
fi
# The URL's password never reaches the output; a wrong one is a clear error (exit 2 or 1, no crash).
if "$MEDALLION" ledger verify --db "postgresql://u:n0tlogged@127.0.0.1:1/x?connect_timeout=2" --key-file "$KEY" \
  --origin "$ORIGIN" >"$TMP/unreachable.out" 2>&1; then
  bad "verify against an unreachable server succeeded"
elif grep -q n0tlogged "$TMP/unreachable.out"; then
  bad "the password is in the error: $(cat "$TMP/unreachable.out")"
else
  ok "unreachable database: $(head -c 200 "$TMP/unreachable.out" | tr '\n' ' ')"
fi
for n in a b; do
  if [[ -n ${PID[$n]:-} ]]; then
    kill -TERM "${PID[$n]}"
    rc=0
    wait "${PID[$n]}" || rc=$?
    PID[$n]=""
    if [[ $rc -eq 0 ]]; then ok "node $n stops on SIGTERM"; else bad "node $n exit code $rc on SIGTERM"; fi
  fi
done
finish
