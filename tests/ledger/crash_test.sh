#!/usr/bin/env bash
# Crash safety of the ledger node (issue 3, "Proof"): a `medallion ledger serve` process on
# 127.0.0.1 takes concurrent appends (single entries and batches) while a client records every
# acknowledged (index, leaf_hash); the node is killed with SIGKILL at a random moment and
# restarted on the same database. After each kill:
#   - `medallion ledger verify` (offline) recomputes the tree and every checkpoint: ok;
#   - every acknowledged entry (of every round so far) is at its index with the same leaf hash;
#   - the new checkpoint is consistent with the last one seen before the kill:
#     `medallion ledger checkpoint --state` carries the trusted checkpoint across the restart
#     and refuses a rollback or a split view; its size covers every acknowledged entry;
#   - the last acknowledged entry has a verified inclusion proof (`medallion ledger proof`).
#
# Usage: crash_test.sh path/to/medallion      ROUNDS (default 3), CRASH_SEED to reproduce.
# CRASH_PG_STATE=DIR: the same on PostgreSQL, in a fresh schema of the test cluster
# (tests/pg/pg_cluster.sh new-schema DIR; ctest ledger:crash-pg); exit 77 (skipped) without one.
# Needs node (20+) for the concurrent client (tests/ledger/crash_client.mjs); curl is not used.
set -euo pipefail

MEDALLION=${1:?usage: crash_test.sh path/to/medallion}
ROUNDS=${ROUNDS:-3}
CRASH_SEED=${CRASH_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$CRASH_SEED
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT="$HERE/crash_client.mjs"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
finish() {
  echo "$pass passed, $fail failed"
  if [[ $fail -eq 0 ]]; then exit 0; else exit 1; fi
}

if ! command -v node >/dev/null 2>&1; then
  bad "node (20+) is needed for the concurrent client"
  finish
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/medallion-crash.XXXXXX")
DB="$TMP/ledger.db"
if [[ -n ${CRASH_PG_STATE:-} ]]; then
  if ! DB=$(bash "$HERE/../pg/pg_cluster.sh" new-schema "$CRASH_PG_STATE" crash 2>/dev/null); then
    rm -rf "$TMP"
    echo "SKIP: no PostgreSQL cluster (MEDALLION_PG_URL unset and none started by ctest's pg:start, or MEDALLION_NO_POSTGRES=1)"
    exit 77
  fi
fi
KEY="$TMP/ledger.key"
STATE="$TMP/trusted.note"
ACKS="$TMP/acks.txt"
ORIGIN="crash.medallion.example/ledger"
SERVER_PID=""
CLIENT_PID=""
URL=""
LOG_KEY=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if [[ -n $CLIENT_PID ]] && kill -0 "$CLIENT_PID" 2>/dev/null; then kill "$CLIENT_PID" 2>/dev/null || true; fi
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n ${CRASH_PG_STATE:-} ]]; then bash "$HERE/../pg/pg_cluster.sh" drop-schema "$DB" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# jget FILE FIELD: a top-level field of the JSON document in FILE ("" if absent or not JSON).
jget() {
  node -e 'let v; try { v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]; } catch {}
           process.stdout.write(v === undefined ? "" : String(v));' "$1" "$2"
}

# Random milliseconds in [lo, hi].
rand_ms() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

start_server() {
  local banner="$TMP/banner.json"
  : >"$banner"
  "$MEDALLION" ledger serve --db "$DB" --key-file "$KEY" --origin "$ORIGIN" --listen 127.0.0.1:0 --json \
    >"$banner" 2>>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 400); do
    if grep -q '}' "$banner" 2>/dev/null; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.025
  done
  if ! grep -q '}' "$banner" 2>/dev/null; then
    cat "$TMP/server.err" >&2 || true
    return 1
  fi
  URL=$(jget "$banner" url)
  local key
  key=$(jget "$banner" verifier_key)
  if [[ -n $LOG_KEY && $key != "$LOG_KEY" ]]; then
    echo "the log key changed across a restart" >&2
    return 1
  fi
  LOG_KEY=$key
  [[ -n $URL && -n $LOG_KEY ]]
}

# checkpoint OUT: fetch and verify the checkpoint against $STATE (rollback/split view refused).
checkpoint() {
  "$MEDALLION" ledger checkpoint --url "$URL" --log-key "$LOG_KEY" --state "$STATE" --json >"$1" 2>>"$TMP/cli.err"
}

echo "# crash test: ROUNDS=$ROUNDS CRASH_SEED=$CRASH_SEED${CRASH_PG_STATE:+ (PostgreSQL)}"
: >"$ACKS"
if start_server; then ok "ledger serve starts on a free port ($URL)"; else
  bad "ledger serve starts"
  finish
fi
if checkpoint "$TMP/cp0.json" && [[ $(jget "$TMP/cp0.json" size) == 0 ]]; then ok "empty log: checkpoint of size 0 trusted"; else bad "empty log checkpoint"; fi

for round in $(seq 1 "$ROUNDS"); do
  : >"$TMP/client.out"
  node "$CLIENT" append "$URL" "$ACKS" "r$round-$CRASH_SEED" 60 4 >"$TMP/client.out" 2>&1 &
  CLIENT_PID=$!

  # Mid-run: a checkpoint verified against the one trusted so far (consistency proof).
  sleep_ms "$(rand_ms 200 1500)"
  if checkpoint "$TMP/before.json"; then
    seen=$(jget "$TMP/before.json" size)
  else
    seen=-1
    bad "round $round: checkpoint during appends (see below)"
    cat "$TMP/cli.err"
  fi
  # Then SIGKILL at a random moment while appends continue.
  sleep_ms "$(rand_ms 0 400)"
  if ! kill -KILL "$SERVER_PID" 2>/dev/null; then
    bad "round $round: the node had died before the SIGKILL"
    cat "$TMP/server.err"
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  client_rc=0
  wait "$CLIENT_PID" || client_rc=$?
  CLIENT_PID=""
  acked=$(grep -c . "$ACKS" 2>/dev/null || true)
  if [[ $client_rc -eq 0 && $acked -gt 0 ]]; then
    ok "round $round: $(tail -n 1 "$TMP/client.out") before SIGKILL (checkpoint seen at size $seen)"
  else
    bad "round $round: client (rc $client_rc, $acked acknowledged so far)"
    cat "$TMP/client.out"
  fi

  # Offline: the stored tree and every stored checkpoint verify.
  if "$MEDALLION" ledger verify --db "$DB" --key-file "$KEY" --origin "$ORIGIN" --json >"$TMP/verify.json" 2>>"$TMP/cli.err" &&
    [[ $(jget "$TMP/verify.json" ok) == true ]]; then
    ok "round $round: ledger verify after SIGKILL: $(jget "$TMP/verify.json" leaves) leaves, $(jget "$TMP/verify.json" checkpoints) checkpoints"
  else
    bad "round $round: ledger verify after SIGKILL: $(cat "$TMP/verify.json")"
  fi

  if ! start_server; then
    bad "round $round: restart on the same database"
    break
  fi
  # Every acknowledged entry, of every round so far, is there with its leaf hash.
  if node "$CLIENT" check "$URL" "$ACKS" >"$TMP/check.out" 2>&1; then
    ok "round $round: $(tail -n 1 "$TMP/check.out")"
  else
    bad "round $round: acknowledged entries after restart"
    cat "$TMP/check.out"
  fi
  # The restarted node's checkpoint is consistent with the last one trusted before the kill,
  # and covers every acknowledged entry.
  max_index=$(awk 'BEGIN { m = -1 } $1 > m { m = $1 } END { print m }' "$ACKS")
  if checkpoint "$TMP/after.json"; then
    size=$(jget "$TMP/after.json" size)
    if [[ $size -ge $seen && $size -gt $max_index ]]; then
      ok "round $round: checkpoint after restart (size $size) consistent with size $seen, covers index $max_index"
    else
      bad "round $round: checkpoint after restart has size $size (seen $seen, highest acknowledged index $max_index)"
    fi
  else
    bad "round $round: checkpoint after restart refused:"
    cat "$TMP/cli.err"
  fi
  # The last acknowledged entry has a verified inclusion proof.
  last_index=0
  last_hash=none
  if [[ -s $ACKS ]]; then read -r last_index last_hash < <(tail -n 1 "$ACKS"); fi
  if "$MEDALLION" ledger proof --url "$URL" --log-key "$LOG_KEY" --state "$STATE" --index "$last_index" \
    --leaf-hash "$last_hash" >"$TMP/proof.out" 2>>"$TMP/cli.err"; then
    ok "round $round: $(cat "$TMP/proof.out")"
  else
    bad "round $round: inclusion proof of entry $last_index"
    cat "$TMP/cli.err"
  fi
done

# A graceful stop and a last offline check.
if [[ -n $SERVER_PID ]]; then
  kill -TERM "$SERVER_PID"
  stop_rc=0
  wait "$SERVER_PID" || stop_rc=$?
  SERVER_PID=""
  if [[ $stop_rc -eq 0 ]]; then ok "ledger serve stops on SIGTERM"; else bad "ledger serve exit code $stop_rc on SIGTERM"; fi
fi
if "$MEDALLION" ledger verify --db "$DB" --key-file "$KEY" --origin "$ORIGIN" >"$TMP/verify.out" 2>&1; then
  ok "final $(cat "$TMP/verify.out")"
else
  bad "final ledger verify: $(cat "$TMP/verify.out")"
fi
finish
