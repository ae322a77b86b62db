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
# Many containers opened on first use ("open": "lazy", at most "max_open" at once): the host is
# ready before any container opens; one broken container (its database replaced by garbage)
# answers 503 for itself only, and the others go on, closed and reopened as the LRU needs.
OWNER="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("shared.out","utf8")).containers[0].owner)')"
mkdir -p mallory-box && head -c 65536 /dev/urandom >mallory-box/consent.db && chmod 700 mallory-box
cat >lazy.json <<JSON
{"listen": "127.0.0.1:0", "open": "lazy", "max_open": 2, "containers": [
  {"name": "alice", "dir": "$WORK/alice-box", "store": "$WORK/alice.db", "passphrase_file": "$WORK/alice.pass"},
  {"name": "mallory", "dir": "$WORK/mallory-box", "owner": "$OWNER"},
  {"name": "bob", "dir": "$WORK/bob-box", "store": "$WORK/bob.db", "passphrase_file": "$WORK/bob.pass"},
  {"name": "dave", "dir": "$WORK/dave-box", "owner": "$OWNER"},
  {"name": "erin", "dir": "$WORK/erin-box", "owner": "$OWNER", "host": "erin.localhost"}
]}
JSON
"$M" host serve --config lazy.json >lazy.out 2>lazy.err &
PID=$!
wait_for lazy.out || { bad "lazy host banner"; cat lazy.err; }
url_of() { node -e 'const c=JSON.parse(require("fs").readFileSync("lazy.out","utf8")).containers.find(c=>c.name===process.argv[1]);console.log(c.url)' "$1"; }
A="$(url_of alice)"; MAL="$(url_of mallory)"; B="$(url_of bob)"; D="$(url_of dave)"
[[ "$A" == */c/alice && "$D" == */c/dave && ! -e dave-box ]] && ok "lazy: listed at once, nothing opened yet ($D)" || bad "lazy banner: $A $D $(ls)"
body="$(http_get "$MAL/.well-known/uma2-configuration")"
[[ "$(http_status "$MAL/.well-known/uma2-configuration")" == 503 && "$body" == *temporarily_unavailable* ]] && ok "the broken container answers 503 temporarily_unavailable" || bad "broken: $body"
grep -q "container mallory" lazy.err && ok "the operator is told why: $(grep -m1 mallory lazy.err | head -c 120)" || bad "no log line for mallory"
MEDALLION_PASSPHRASE=pass-alice "$M" consent signin --url "$A" --store alice.db --session-file la.txt >/dev/null && ok "Alice signs in next to the broken one" || bad "alice lazy signin"
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$B" --store bob.db --session-file lb.txt >/dev/null && ok "Bob signs in too" || bad "bob lazy signin"
[[ "$(http_status "$D/.well-known/uma2-configuration")" == 200 && -f dave-box/consent.db ]] && ok "Dave's container opens on its first request" || bad "dave"
[[ "$(http_status "$A/owner/v1/policies" "$(cat la.txt)")" == 200 ]] && ok "Alice's session after her container was closed (max_open 2) and reopened" || bad "alice after LRU"
[[ "$(http_status "$B/owner/v1/policies" "$(cat la.txt)")" == 401 ]] && ok "still isolated: Alice's session is useless at Bob's" || bad "lazy isolation"
[[ "$(http_status "$MAL/.well-known/uma2-configuration")" == 503 ]] && ok "the broken one still answers 503, the host still serves" || bad "mallory again"
[[ "$(http_status "${A%/c/alice}/c/nobody/.well-known/uma2-configuration")" == 404 ]] && ok "an unknown container: 404" || bad "unknown container"
# Routing by host name: "host" serves a container at the root of that name on the same port.
PORT="${A%/c/alice}"; PORT="${PORT##*:}"
E="$(url_of erin)"
by_host() { node -e 'require("http").get({host:"127.0.0.1",port:process.argv[1],path:process.argv[2],headers:{host:process.argv[3]}},r=>{let b="";r.on("data",d=>b+=d);r.on("end",()=>console.log(r.statusCode+" "+b))})' "$PORT" "$1" "$2"; }
got="$(by_host /.well-known/uma2-configuration "erin.localhost:$PORT")"
[[ "$E" == "http://erin.localhost:$PORT" && "$got" == 200* && "$got" == *"\"issuer\":\"http://erin.localhost:$PORT\""* ]] && ok "by host name: erin.localhost is Erin's container, issuer $E" || bad "virtual host: $E $got"
[[ "$(by_host /.well-known/uma2-configuration "ERIN.localhost:$PORT" | cut -c1-3)" == 200 ]] && ok "the host name is matched without regard to case" || bad "host case"
[[ "$(http_status "${A%/c/alice}/c/erin/.well-known/uma2-configuration")" == 404 ]] && ok "a host-named container has no /c/ path" || bad "erin under /c/"
[[ "$(by_host /c/alice/.well-known/uma2-configuration "127.0.0.1:$PORT" | cut -c1-3)" == 200 ]] && ok "other host names still reach /c/<name>" || bad "path routing with another Host"
kill -TERM $PID
set +e; wait $PID 2>/dev/null; rc=$?; set -e
[[ $rc == 0 ]] && ok "the lazy host stops cleanly on SIGTERM (exit 0)" || bad "lazy host exit $rc"
PID=""
# A name that is not a path segment is refused before anything starts.
sed 's/"name": "bob"/"name": "b\/ob"/' shared.json >badname.json
set +e; "$M" host serve --config badname.json >/dev/null 2>bad.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "path" bad.err && ok "a container name that is not a path segment: exit 2" || bad "bad name rc=$rc $(cat bad.err)"
# "host" needs the shared listener, and a DNS name.
sed 's/"name": "bob", /"name": "bob", "host": "bob.example", /' host.json >badhost.json
set +e; "$M" host serve --config badhost.json >/dev/null 2>badhost.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "shared 'listen'" badhost.err && ok "'host' without a shared listener: exit 2" || bad "host without listen rc=$rc $(cat badhost.err)"
sed 's/"name": "bob", /"name": "bob", "host": "Bob_Example", /' shared.json >badhost2.json
set +e; "$M" host serve --config badhost2.json >/dev/null 2>badhost2.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "DNS name" badhost2.err && ok "a 'host' that is not a DNS name: exit 2" || bad "bad host rc=$rc $(cat badhost2.err)"
# A member of the wrong type is refused by name (was an exception from a throwing accessor).
sed 's/"dir": "[^"]*alice-box"/"dir": 5/' shared.json >badtype.json
set +e; "$M" host serve --config badtype.json >/dev/null 2>badtype.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "'dir'" badtype.err && ok "a wrong-typed member is named: $(head -c 100 badtype.err)" || bad "wrong type rc=$rc $(cat badtype.err)"
finish
