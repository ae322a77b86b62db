#!/usr/bin/env bash
# `medallion host serve` with host.json "database": two containers whose consent and record
# stores share one PostgreSQL schema (docs/scale-out.md §"The container host on PostgreSQL"):
# nothing is written to their directories' consent.db / records.db, each owner signs in to hers
# only, a session is useless at the other container, both containers' rows are in the shared
# tables, and a restarted host finds its sessions again. The owners' key stores are imported into
# the database on first start (sealed records only, per tenant, invisible to the other tenant), so
# the host restarts with the key store files gone, even after kill -9. Usage: host_pg_test.sh <medallion>
# <pg-state-dir>. Exit 77 (skipped) without a cluster (tests/pg/pg_cluster.sh new-schema).
set -euo pipefail
M="${1:?usage}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
STATE="${2:?usage}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! ADMIN=$(bash "$HERE/../pg/pg_cluster.sh" new-schema "$STATE" hostpg 2>/dev/null); then
  echo "PostgreSQL run skipped: no cluster (MEDALLION_PG_URL, the ctest fixture pg; MEDALLION_NO_POSTGRES=1 turns it off)"
  exit 77
fi
WORK="$(mktemp -d)"
PID=""
trap '[[ -n "$PID" ]] && kill $PID 2>/dev/null; wait 2>/dev/null; bash "$HERE/../pg/pg_cluster.sh" drop-schema "$ADMIN" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export MEDALLION_ALLOW_TEST_KDF=1
source "$HERE/lib.sh"
PSQL="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
SCHEMA="${ADMIN##*search_path%3D}"
SCHEMA="${SCHEMA%%&*}"
sql() { "$PSQL" "$ADMIN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
# An ordinary role: sql::Db refuses a superuser (row-level security would not bind it).
sql "DO \$\$ BEGIN CREATE ROLE medallion_app LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END \$\$"
sql "GRANT ALL ON SCHEMA $SCHEMA TO medallion_app"
APP="$(sed -E 's/([?&])user=[^&]*/\1user=medallion_app/' <<<"$ADMIN")"
# Named, so that the host's connections can be counted apart from other tests' (same role).
APP="$APP&application_name=hostpg_$$"
cd "$WORK"
for who in alice bob; do
  echo "pass-$who" >"$who.pass"
  MEDALLION_PASSPHRASE="pass-$who" "$M" wallet init --store "$who.db" --kdf test --mnemonic-out "$who.words" >/dev/null
done
cat >host.json <<JSON
{"listen": "127.0.0.1:0", "database": "$APP", "database_pool": 2, "containers": [
  {"name": "alice", "dir": "$WORK/alice-box", "store": "$WORK/alice.db", "passphrase_file": "$WORK/alice.pass"},
  {"name": "bob", "dir": "$WORK/bob-box", "store": "$WORK/bob.db", "passphrase_file": "$WORK/bob.pass"}
]}
JSON
start_host() {
  : >host.out
  "$M" host serve --config host.json >host.out 2>host.err &
  PID=$!
  wait_for host.out || { bad "host banner"; cat host.err; }
  A="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host.out","utf8")).containers[0].url)')"
  B="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host.out","utf8")).containers[1].url)')"
  OWNER_A="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host.out","utf8")).containers[0].owner)')"
}
# As the application's role, fixed to `$1`'s tenant as the host's connections are: `$2`.
as_tenant() { "$PSQL" "$APP" -XAtq -v ON_ERROR_STOP=1 -c "SET medallion.container = '$1'" -c "$2"; }
stop_host() {
  kill -TERM $PID
  set +e; wait $PID 2>/dev/null; rc=$?; set -e
  PID=""
}
start_host
[[ "$A" == */c/alice && "$B" == */c/bob ]] && ok "two containers on PostgreSQL: $A $B" || { bad "banner: $A $B"; cat host.err; }
[[ ! -e alice-box/consent.db && ! -e alice-box/records.db && ! -e bob-box/consent.db ]] && ok "no consent.db or records.db in their directories" || bad "SQLite files: $(ls alice-box bob-box)"
MEDALLION_PASSPHRASE=pass-alice "$M" consent signin --url "$A" --store alice.db --session-file a.txt >/dev/null && ok "Alice signs in to hers" || bad "alice signin"
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$B" --store bob.db --session-file b.txt >/dev/null && ok "Bob signs in to his" || bad "bob signin"
set +e
MEDALLION_PASSPHRASE=pass-bob "$M" consent signin --url "$A" --store bob.db --session-file x.txt >/dev/null 2>&1; rc=$?
set -e
[[ $rc != 0 ]] && ok "Bob cannot sign in to Alice's container" || bad "bob at alice"
[[ "$(http_status "$A/owner/v1/policies" "$(cat a.txt)")" == 200 ]] && ok "Alice's session works at hers" || bad "alice session"
[[ "$(http_status "$B/owner/v1/policies" "$(cat a.txt)")" == 401 ]] && ok "Alice's session is useless at Bob's" || bad "isolation"
got="$(sql "SELECT string_agg(DISTINCT container_id, ',' ORDER BY container_id) FROM $SCHEMA.tokens")"
want="alice.$(cat alice-box/tenant-id),bob.$(cat bob-box/tenant-id)"
[[ "$got" == "$want" ]] && ok "both containers' tokens in the one tokens table, by name and tenant id ($got)" || bad "tokens by container: $got (want $want)"
# One pool for the host (host.json "database_pool": 2): two containers' consent, record and key
# stores (six connections without it) over at most two server connections.
conns="$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hostpg_$$'")"
[[ "$conns" -ge 1 && "$conns" -le 2 ]] && ok "the host's stores share its pool: $conns server connections" || bad "server connections: $conns (pool of 2)"
# The key stores: imported into the database (sealed records only), none in the directories.
got="$(sql "SELECT string_agg(container_id || ':' || name, ',' ORDER BY container_id) FROM $SCHEMA.keystore_sealed_secrets")"
[[ "$got" == "alice.$(cat alice-box/tenant-id):wallet-seed,bob.$(cat bob-box/tenant-id):wallet-seed" ]] && ok "both owners' sealed key records in the database, by tenant ($got)" || bad "key records: $got"
! grep -rlq sealed_secrets alice-box bob-box && ok "no key store file in the containers' directories" || bad "key store files: $(grep -rl sealed_secrets alice-box bob-box)"
TA="alice.$(cat alice-box/tenant-id)"; TB="bob.$(cat bob-box/tenant-id)"
[[ "$(as_tenant "$TB" "SELECT count(*) FROM keystore_sealed_secrets WHERE container_id = '$TA'")" == 0 &&
   "$(as_tenant "$TB" "SELECT count(*) FROM keystore_sealed_secrets")" == 1 ]] && ok "Bob's tenant sees only its own key record, none of Alice's" || bad "key records visible across tenants"
[[ "$(as_tenant "$TB" "DELETE FROM keystore_sealed_secrets WHERE container_id = '$TA'" ; as_tenant "$TA" "SELECT count(*) FROM keystore_sealed_secrets")" == 1 ]] && ok "Bob's tenant cannot delete Alice's key record" || bad "cross-tenant delete"
stop_host
[[ $rc == 0 ]] && ok "the host stops cleanly (exit 0)" || bad "host exit $rc"
# The key store files away: the containers unlock their owners' keys from the database.
FIRST_OWNER="$OWNER_A"
mv alice.db alice.away.db; mv bob.db bob.away.db
start_host
[[ "$OWNER_A" == "$FIRST_OWNER" ]] && ok "restarted without the key store files: Alice's container has her keys ($OWNER_A)" || bad "owner after restart: $OWNER_A (was $FIRST_OWNER)"
mv alice.away.db alice.db; mv bob.away.db bob.db
[[ "$(http_status "$A/owner/v1/policies" "$(cat a.txt)")" == 200 ]] && ok "restarted: Alice's session is still there (kept in PostgreSQL)" || bad "alice after restart"
[[ "$(http_status "$B/owner/v1/policies" "$(cat b.txt)")" == 200 ]] && ok "restarted: Bob's too" || bad "bob after restart"
stop_host
# The name "alice" given to a new container (a new directory): a new tenant, which sees none of
# the rows the first one left in the shared tables.
rm -rf alice-box
start_host
[[ "$(http_status "$A/owner/v1/policies" "$(cat a.txt)")" == 401 ]] && ok "a new container under the name alice does not know the old one's session" || bad "old session valid in the new alice"
[[ "$(http_status "$B/owner/v1/policies" "$(cat b.txt)")" == 200 ]] && ok "Bob's container is unaffected" || bad "bob after alice was replaced"
# The new alice imported her key store once more, as a new tenant; kill -9 right after the
# banner (the import was acknowledged: committed), then start without the file.
TA2="alice.$(cat alice-box/tenant-id)"
[[ "$(sql "SELECT count(*) FROM $SCHEMA.keystore_sealed_secrets WHERE container_id IN ('$TA', '$TA2')")" == 2 ]] && ok "the new alice has her own imported key record" || bad "new tenant's key record"
kill -KILL $PID; wait $PID 2>/dev/null || true; PID=""
mv alice.db alice.away.db
start_host
[[ "$OWNER_A" == "$FIRST_OWNER" ]] && ok "after kill -9, without the file: the new alice's keys are in the database" || bad "after kill -9: $OWNER_A"
mv alice.away.db alice.db
stop_host
# A wrong passphrase file imports nothing: the container does not open and no row is left.
echo "pass-carol" >carol.pass
MEDALLION_PASSPHRASE=pass-carol "$M" wallet init --store carol.db --kdf test --mnemonic-out carol.words >/dev/null
echo "not-carols" >wrong.pass
cat >host2.json <<JSON
{"listen": "127.0.0.1:0", "database": "$APP", "containers": [
  {"name": "carol", "dir": "$WORK/carol-box", "store": "$WORK/carol.db", "passphrase_file": "$WORK/wrong.pass"}
]}
JSON
"$M" host serve --config host2.json >host2.out 2>host2.err &
PID=$!
wait_for host2.out || { bad "host2 banner"; cat host2.err; }
err="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("host2.out","utf8")).containers[0].error || "")')"
[[ "$err" == *"wrong passphrase"* ]] && ok "a wrong passphrase file: carol's container does not open ($err)" || bad "carol opened: $err"
stop_host
[[ "$(sql "SELECT count(*) FROM $SCHEMA.keystore_sealed_secrets WHERE container_id LIKE 'carol.%'")" == 0 ]] && ok "and nothing of carol's key store was imported" || bad "carol rows imported"
# A pool of no connection is refused by name.
sed 's/"database": "[^"]*"/&, "database_pool": 0/' host2.json >host3.json
set +e
"$M" host serve --config host3.json >host3.out 2>host3.err; rc=$?
set -e
[[ $rc != 0 ]] && grep -q "database_pool" host3.err && ok "\"database_pool\": 0 is refused ($(head -c 120 host3.err))" || bad "database_pool 0: rc $rc $(cat host3.err)"
finish
