#!/usr/bin/env bash
# The module boundaries (docs/architecture.md §Modules), checked over the include graph and the
# CMake link lists. Fails, naming each offending line, if a forbidden dependency appears:
#   - the lower modules (core storage wallet ledger did claims oid4vc uma) never include or link
#     medallion/http, medallion/web, medallion/roles or medallion/cli;
#   - http/ includes and links none of roles, cli, uma, claims, web;
#   - web/ (the browser foundation) includes and links none of roles, cli, uma, claims: only
#     core, storage and http;
#   - roles/ never includes or links cli;
#   - mobile-bridge/ includes and links neither roles nor cli (only http's client and the
#     domain modules);
#   - storage/ includes and links core alone (wallet links storage: core <- storage <- wallet, so
#     anything more would be a cycle);
#   - webauthn/ includes and links only core and wallet among our modules;
#   - chain/ includes and links only core, wallet and http among our modules;
#   - httplib.h is included only in http/, web/ and roles/ (and tests/, bench/).
# Usage: boundaries.sh [SOURCE_DIR (default: the repository holding this script)]
set -u
ROOT="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 2
failures=0

fail() {
  echo "boundary violated: $1"
  echo "$2" | sed 's/^/    /'
  failures=$((failures + 1))
}

# Include lines in a module's sources matching an extended regex.
includes() {  # folder regex
  local dir="$1" re="$2"
  [ -d "$dir" ] || return 0
  grep -rEn --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc' --include='*.c' --include='*.inc' \
    "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($re)" "$dir" 2>/dev/null
}

# Lines of a module's CMakeLists.txt naming one of the targets (medallion::<name>).
links() {  # folder name-regex
  local file="$1/CMakeLists.txt" re="$2"
  [ -f "$file" ] || return 0
  grep -En "medallion::($re)\b|medallion_($re)\b" "$file" | grep -v '^[0-9]*:[[:space:]]*#'
}

check() {  # description output
  [ -z "$2" ] || fail "$1" "$2"
}

# The lower modules never reach the served layers.
for m in core storage wallet ledger did claims oid4vc uma; do
  check "$m/ includes an upper layer (http, web, roles, cli)" "$(includes "$m" 'medallion/(http|web|roles|cli|server)/')"
  check "$m/ links an upper layer (http, web, roles, cli)" "$(links "$m" 'http|web|roles|cli|server')"
  check "$m/ includes or links chain (only roles and cli use it)" \
    "$(includes "$m" 'medallion/chain/')$(links "$m" 'chain')"
done

# storage/: core and SQLite only; wallet, and every module above it, links storage.
check "storage/ includes a module other than core" \
  "$(includes storage 'medallion/(wallet|ledger|did|claims|uma|http|roles|cli|server|web|webauthn)/|medallion/bridge\.h')"
check "storage/ links a module other than core" \
  "$(links storage 'wallet|ledger|did|claims|uma|http|roles|cli|server|web|webauthn|bridge')"

# http/: core, cpp-httplib, OpenSSL and nlohmann only.
check "http/ includes roles, cli, uma, claims or web" "$(includes http 'medallion/(roles|cli|server|uma|claims|web)/')"
check "http/ links roles, cli, uma, claims or web" "$(links http 'roles|cli|server|uma|claims|web')"

# web/: core, storage, http (and cpp-httplib, libqrencode, nlohmann) only.
check "web/ includes roles, cli, uma or claims" "$(includes web 'medallion/(roles|cli|server|uma|claims)/')"
check "web/ links roles, cli, uma or claims" "$(links web 'roles|cli|server|uma|claims')"

# roles/ never depends on the command line.
check "roles/ includes cli" "$(includes roles 'medallion/cli/|cli_[a-z_]+\.h|CLI/')"
check "roles/ links cli" "$(links roles 'cli|server')"

# The phone's bridge: http's client and the domain modules, never the roles or the CLI.
check "mobile-bridge/ includes roles or cli" "$(includes mobile-bridge 'medallion/(roles|cli|server)/|cli_[a-z_]+\.h')"
check "mobile-bridge/ links roles or cli" "$(links mobile-bridge 'roles|cli|server')"

# webauthn/: pure relying-party checks over core and wallet (the crypto boundary), nothing else.
check "webauthn/ includes a module other than core and wallet" \
  "$(includes webauthn 'medallion/(storage|ledger|did|claims|uma|http|roles|cli|server|web|bridge)/|medallion/bridge\.h')"
check "webauthn/ links a module other than core and wallet" \
  "$(links webauthn 'storage|ledger|did|claims|uma|http|roles|cli|server|web|bridge')"
# Only wallet/ and core/ reach the crypto libraries.
check "webauthn/ includes a crypto library (only wallet/ and core/ may)" \
  "$(includes webauthn 'sodium\.h|secp256k1|openssl/')"

# chain/ (EVM anchoring): core, wallet (its signing) and http (its client) only; what an anchor
# means for a log is checked in roles/.
check "chain/ includes a module other than core, wallet and http" \
  "$(includes chain 'medallion/(storage|ledger|did|claims|uma|roles|cli|server|web|webauthn)/|medallion/bridge\.h')"
check "chain/ links a module other than core, wallet and http" \
  "$(links chain 'storage|ledger|did|claims|uma|roles|cli|server|web|webauthn|bridge')"

# libsodium and libsecp256k1 only in core/ and wallet/ (docs/architecture.md "Crypto").
for m in storage ledger did claims oid4vc uma http web roles cli mobile-bridge chain; do
  check "$m/ includes sodium.h or secp256k1 (only core/ and wallet/ may)" \
    "$(includes "$m" 'sodium\.h|secp256k1\.h|secp256k1_[a-z]+\.h')"
done

# cpp-httplib only behind http/, web/ and roles/.
for m in core storage wallet ledger did claims oid4vc uma cli mobile-bridge webauthn chain; do
  check "$m/ includes httplib.h (only http/, web/ and roles/ may)" "$(includes "$m" 'httplib\.h')"
done

# libpq only in ledger/ (PgLeafStore, pg_store.cpp) and storage/ (sql::Db's PostgreSQL side, a
# private header): every other module reaches PostgreSQL, if at all, through ledger::LeafStore
# or sql::Db (docs/ledger.md §Storage backends, docs/scale-out.md).
for m in core wallet did claims uma http web roles cli mobile-bridge webauthn chain; do
  check "$m/ includes libpq-fe.h (only ledger/ and storage/ may)" "$(includes "$m" 'libpq-fe\.h|libpq/')"
done
check "storage/include/ includes libpq-fe.h (its PostgreSQL side stays private)" \
  "$(grep -rlE '#include *[<"](libpq-fe\.h|libpq/)' storage/include 2>/dev/null || true)"

# uma/ names no HTTP status either: that rule is its own test, arch:uma-no-http
# (tests/arch/uma_no_http.sh).

if [ "$failures" -ne 0 ]; then
  echo "$failures boundary violation(s)"
  exit 1
fi
echo "module boundaries hold"
