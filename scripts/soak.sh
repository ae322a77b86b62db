#!/usr/bin/env bash
# The soak (docs/soak.md): every role in its own process, the whole flow driven at a steady rate
# (UMA grants and reads against the patient's container, prescriptions signed by the physician
# and delivered to the patient, dispenses at the pharmacy, ledger appends) for N minutes, with
# random kill -9 of the ledger and of a container (each restarted on the same data and port);
# then every acknowledged write is checked, every proof verified, the RSS and open file
# descriptors of every long-running process judged flat, and every failure classified by
# whether it overlapped a kill. Exit 0 only if there was no violation.
#
# Usage: scripts/soak.sh [--minutes N] [--out DIR] [--rate R] [--seed S] [--medallion PATH]
#                        [--sample-seconds S] [--kill-every MIN:MAX] [--grace S]
#   --minutes N     how long the load runs (default 5; the checks come after)
#   --out DIR       where the state, logs, samples and report go (default
#                   ./medallion-soak/run-<UTC time>); an earlier soak's DIR is replaced
#   --rate R        operations started per second, all kinds together (default 2)
# The report is printed and written to DIR/report.txt and DIR/report.json; the RSS/fd curves to
# DIR/samples.csv. Needs node 20+ (built-ins only). Uses MEDALLION_ALLOW_TEST_KDF=1 for the
# phone-less test wallets it creates, as the test suites do.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
if ! command -v node >/dev/null 2>&1; then
  echo "soak: node (20+) is needed" >&2
  exit 2
fi
export MEDALLION_ALLOW_TEST_KDF=1
# The driver records every process it starts in DIR/pids.txt; if it dies without stopping them
# (it stops them itself on every normal or signalled exit), they are stopped here.
OUT=""
for ((i = 1; i <= $#; i++)); do
  if [[ ${!i} == --out ]]; then j=$((i + 1)); OUT="${!j:-}"; fi
done
EXTRA=()
if [[ -z $OUT ]]; then
  OUT="medallion-soak/run-$(date -u +%Y%m%d-%H%M%S)"
  EXTRA=(--out "$OUT")
fi
PIDS_FILE="$OUT/pids.txt"
rc=0
node "$HERE/soak.mjs" --repo "$ROOT" "$@" "${EXTRA[@]}" || rc=$?
if [[ -f $PIDS_FILE ]]; then
  while read -r pid start; do
    # Only a process that is still the one started (same start time in /proc/<pid>/stat).
    if [[ -r /proc/$pid/stat ]] && [[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" == "$start" ]]; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$PIDS_FILE"
fi
exit "$rc"
