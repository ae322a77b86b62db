#!/usr/bin/env bash
# HTTP append load (issue 3): starts `medallion ledger serve` on 127.0.0.1:0 with a fresh
# database under <build>/bench-data (a real disk: every acknowledged append is fsynced), runs
# bench/ledger_http_load against POST /ledger/v1/entries for single entries and batches, and
# stops the server. Results and the commands: docs/benchmarks.md.
#
#   bench/run_ledger_http.sh [BUILD_DIR]        (default: ./build)
#
# Environment: THREADS (client connections, default 8; the server has 128 workers, and the
# epoll engine opens 32 connections per client address 127.0.0.x, below the connection guard's
# 48), ENGINE (the load generator's engine: epoll, the default, one thread for all connections;
# threads, one blocking httplib client per connection, as measured before 2026-12-07),
# SECONDS_PER_RUN (default 10), BATCHES (default "1 64 1000"; the server takes at most 1000
# entries per request), COUNT (entries per run at most, default 2000000), VERIFY (1: run
# `medallion ledger verify` on the database after each run, which recomputes the tree and
# prints its leaf count; default 1), NODELAY (1: diagnostic only, run the same server binary
# with LD_PRELOAD=<build>/bench/nodelay_preload.so, which sets TCP_NODELAY on the sockets it
# accepts; default 0), BACKENDS (default "sqlite"; "sqlite postgresql" runs every batch size on
# both, PostgreSQL in a fresh schema of $MEDALLION_PG_URL's database, or of a throwaway cluster
# tests/pg/pg_cluster.sh starts for the run and removes afterwards; issue 18).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="$(cd "${1:-build}" && pwd)"
MEDALLION="$BUILD_DIR/cli/medallion"
LOAD="$BUILD_DIR/bench/ledger_http_load"
THREADS="${THREADS:-8}"
ENGINE="${ENGINE:-epoll}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
BATCHES="${BATCHES:-1 64 1000}"
COUNT="${COUNT:-2000000}"
NEEDED=("$MEDALLION" "$LOAD")
[[ "${NODELAY:-0}" == 1 ]] && NEEDED+=("$BUILD_DIR/bench/nodelay_preload.so")
for b in "${NEEDED[@]}"; do
  [[ -e "$b" ]] || { echo "missing $b (build the medallion, ledger_http_load and nodelay_preload targets)" >&2; exit 1; }
done

DATA="$BUILD_DIR/bench-data/http"
mkdir -p "$DATA"

SERVER_PID=""
PG_STATE=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  if [[ -n "$PG_STATE" ]]; then bash tests/pg/pg_cluster.sh stop "$PG_STATE"; fi
}
trap cleanup EXIT
BACKENDS="${BACKENDS:-sqlite}"
if [[ " $BACKENDS " == *" postgresql "* && -z "${MEDALLION_PG_URL:-}" ]]; then
  PG_STATE="$DATA/pg-state"
  MEDALLION_PG_URL="$(bash tests/pg/pg_cluster.sh start "$PG_STATE")"
  export MEDALLION_PG_URL
fi

echo "# $(date -u +%FT%TZ)  $(nproc) cores  load: $(cut -d' ' -f1-3 /proc/loadavg)  threads=$THREADS engine=$ENGINE seconds=$SECONDS_PER_RUN nodelay=${NODELAY:-0}"
for backend in $BACKENDS; do
for batch in $BATCHES; do
  # A fresh log per run, so every run starts from the same (empty) tree.
  rm -f "$DATA"/ledger.db "$DATA"/ledger.db-wal "$DATA"/ledger.db-shm
  DB="$DATA/ledger.db"
  if [[ "$backend" == postgresql ]]; then
    DB="$(MEDALLION_PG_URL="$MEDALLION_PG_URL" bash tests/pg/pg_cluster.sh new-schema "$DATA" bench)"
  fi
  BANNER="$DATA/banner.json"
  rm -f "$BANNER"
  PRELOAD=""
  [[ "${NODELAY:-0}" == 1 ]] && PRELOAD="$BUILD_DIR/bench/nodelay_preload.so"
  LD_PRELOAD="$PRELOAD" "$MEDALLION" ledger serve --db "$DB" --key-file "$DATA/ledger.key" \
    --origin bench.medallion.example/ledger --listen 127.0.0.1:0 --json >"$BANNER" 2>"$DATA/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    [[ -s "$BANNER" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.err" >&2; exit 1; }
    sleep 0.05
  done
  URL="$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$BANNER")"
  [[ -n "$URL" ]] || { echo "no URL in the server banner" >&2; exit 1; }
  printf '%-10s batch %-5s ' "$backend" "$batch"
  "$LOAD" --url "$URL" --threads "$THREADS" --engine "$ENGINE" --batch "$batch" --count "$COUNT" \
    --seconds "$SECONDS_PER_RUN" --json
  stop_server
  if [[ "${VERIFY:-1}" == 1 ]]; then
    # The stored log must be intact and hold every acknowledged entry (offline recomputation).
    printf '            verify: '
    "$MEDALLION" ledger verify --db "$DB" --key-file "$DATA/ledger.key" \
      --origin bench.medallion.example/ledger --json | tr -d ' \n'
    echo
  fi
  if [[ "$backend" == postgresql ]]; then bash tests/pg/pg_cluster.sh drop-schema "$DB"; fi
done
done
