#!/usr/bin/env bash
# `medallion host serve`: two personal containers in one process, each with its own databases,
# keys and port; each owner signs in to hers only, and one container's session is useless at
# the other. Usage: host_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail
M="${1:?usage}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PID=""
trap '[[ -n "$PID" ]] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export MEDALLION_ALLOW_TEST_KDF=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WORK"
for who in alice bob; do
  echo "pass-$who" >"$who.pass"
  MEDALLION_PASSPHRASE="pass-$who" "$M" wallet init --store "$who.db" --kdf test --mnemonic-out "$who.words" >/dev/null
done
cat >host.json <<JSON
{"containers": [
  {"name": "alice", "dir": "$WORK/alice-box", "store": "$WORK/alice.db", "passphrase_file": "$WORK/alice.pass"},
  {"name": "bob", "dir": "$WORK/bob-box", "store": "$WORK/bob.db", "passphrase_file": "$WORK/bob.pass"}
]}
JSON
"$M" host serve --config host.json >host.out 2>host.err &
PID=$!
for _ in $(seq 1 200); do [[ -s host.out ]] && break; sleep 0.05; done
A="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host.out","utf8")).containers[0].url)')"
B="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host.out","utf8")).containers[1].url)')"
[[ -n "$A" && -n "$B" && "$A" != "$B" ]] && ok "two containers, two ports" || { bad "host banner"; cat host.err; }
[[ -f alice-box/consent.db && -f bob-box/consent.db ]] && ok "each its own databases" || bad "databases"
MEDALLION_PASSPHRASE=pass-alice "$M" consent signin --url "$A" --store alice.db --session-file a.txt >/dev/null && ok "Alice signs in to hers" || bad "alice signin"
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$B" --store bob.db --session-file b.txt >/dev/null && ok "Bob signs in to his" || bad "bob signin"
set +e
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$A" --store bob.db --session-file x.txt >/dev/null 2>&1; rc=$?
set -e
[[ $rc != 0 ]] && ok "Bob cannot sign in to Alice's container" || bad "bob at alice"
[[ "$(http_status "$A/owner/v1/policies" "$(cat a.txt)")" == 200 ]] && ok "Alice's session works at hers" || bad "alice session"
[[ "$(http_status "$B/owner/v1/policies" "$(cat a.txt)")" == 401 ]] && ok "Alice's session is useless at Bob's" || bad "isolation"
kill -TERM $PID
set +e; wait $PID 2>/dev/null; rc=$?; set -e
[[ $rc == 0 ]] && ok "the host stops cleanly on SIGTERM (exit 0)" || bad "host exit $rc"
PID=""

# One listener for both (host.json "listen"): each container under /c/<name> on the same port,
# as isolated as before.
cat >shared.json <<JSON
{"listen": "127.0.0.1:0", "containers": [
  {"name": "alice", "dir": "$WORK/alice-box", "store": "$WORK/alice.db", "passphrase_file": "$WORK/alice.pass"},
  {"name": "bob", "dir": "$WORK/bob-box", "store": "$WORK/bob.db", "passphrase_file": "$WORK/bob.pass"}
]}
JSON
"$M" host serve --config shared.json >shared.out 2>shared.err &
PID=$!
for _ in $(seq 1 200); do [[ -s shared.out ]] && break; sleep 0.05; done
A="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("shared.out","utf8")).containers[0].url)')"
B="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("shared.out","utf8")).containers[1].url)')"
[[ "$A" == */c/alice && "$B" == */c/bob && "${A%/c/alice}" == "${B%/c/bob}" ]] && ok "one listener: $A and $B" || { bad "shared banner: $A $B"; cat shared.err; }
MEDALLION_PASSPHRASE=pass-alice "$M" consent signin --url "$A" --store alice.db --session-file sa.txt >/dev/null && ok "Alice signs in to hers under /c/alice" || bad "alice shared signin"
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$B" --store bob.db --session-file sb.txt >/dev/null && ok "Bob signs in to his under /c/bob" || bad "bob shared signin"
set +e
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$A" --store bob.db --session-file sx.txt >/dev/null 2>&1; rc=$?
set -e
[[ $rc != 0 ]] && ok "Bob cannot sign in to Alice's container on the shared listener" || bad "bob at alice (shared)"
[[ "$(http_status "$A/owner/v1/policies" "$(cat sa.txt)")" == 200 ]] && ok "Alice's session works at hers" || bad "alice shared session"
[[ "$(http_status "$B/owner/v1/policies" "$(cat sa.txt)")" == 401 ]] && ok "Alice's session is useless at Bob's on the same port" || bad "shared isolation"
[[ "$(http_status "${A%/c/alice}/owner/v1/policies" "$(cat sa.txt)")" == 404 ]] && ok "outside every container: 404" || bad "outside"
kill -TERM $PID
set +e; wait $PID 2>/dev/null; rc=$?; set -e
[[ $rc == 0 ]] && ok "the shared host stops cleanly on SIGTERM (exit 0)" || bad "shared host exit $rc"
PID=""
# A name that is not a path segment is refused before anything starts.
sed 's/"name": "bob"/"name": "b\/ob"/' shared.json >badname.json
set +e; "$M" host serve --config badname.json >/dev/null 2>bad.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "path" bad.err && ok "a container name that is not a path segment: exit 2" || bad "bad name rc=$rc $(cat bad.err)"
# A member of the wrong type is refused by name (was an exception from a throwing accessor).
sed 's/"dir": "[^"]*alice-box"/"dir": 5/' shared.json >badtype.json
set +e; "$M" host serve --config badtype.json >/dev/null 2>badtype.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "'dir'" badtype.err && ok "a wrong-typed member is named: $(head -c 100 badtype.err)" || bad "wrong type rc=$rc $(cat badtype.err)"
finish
