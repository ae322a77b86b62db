#!/usr/bin/env bash
# End-to-end test of `medallion did ...` against a real `medallion ledger serve` on 127.0.0.1:
# create a did:mdl from a wallet, resolve it (also by version), rotate, add a device key,
# add a service, recover with the recovery key, deactivate; refusals for bad input.
# Usage: did_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail

M="${1:?usage: did_cli_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export MEDALLION_PASSPHRASE=did-cli-test MEDALLION_ALLOW_TEST_KDF=1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { local what="$1"; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
json_get() { node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));let v=j;for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v)' "$1"; }

cd "$WORK"
"$M" ledger serve --db ledger.db --key-file ledger.key --origin did-cli.test/ledger --listen 127.0.0.1:0 --json >serve.out 2>serve.err &
SERVER_PID=$!
for _ in $(seq 1 100); do [[ -s serve.out ]] && break; sleep 0.05; done
URL="$(json_get url <serve.out)"
VK="$(json_get verifier_key <serve.out)"
L=(--ledger "$URL" --log-key "$VK" --state trusted.txt)

"$M" wallet init --store alice.db --kdf test --mnemonic-out words.txt >/dev/null
DID="$("$M" did create --store alice.db "${L[@]}" --service https://container.example/alice)"
[[ "$DID" == did:mdl:* ]] && ok "create prints a did:mdl" || bad "create prints a did:mdl ($DID)"
"$M" did resolve "$DID" "${L[@]}" >r0.json && ok "resolve exits 0" || bad "resolve exits 0"
[[ "$(json_get didDocument.id <r0.json)" == "$DID" ]] && ok "resolved document id" || bad "resolved document id"
[[ "$(json_get didDocumentMetadata.versionId <r0.json)" == 0 ]] && ok "versionId 0 after create" || bad "versionId 0 after create"
ASSERT0="$(json_get 'didDocument.assertionMethod' <r0.json)"

check "rotate" "$M" did rotate --store alice.db "${L[@]}"
"$M" did resolve "$DID" "${L[@]}" >r1.json
[[ "$(json_get didDocumentMetadata.versionId <r1.json)" == 1 ]] && ok "versionId 1 after rotate" || bad "versionId 1 after rotate"
[[ "$(json_get 'didDocument.assertionMethod' <r1.json)" != "$ASSERT0" ]] && ok "rotation replaced the assertion key" || bad "rotation replaced the assertion key"
"$M" did resolve "$DID" "${L[@]}" --version-id 0 >v0.json
[[ "$(json_get 'didDocument.assertionMethod' <v0.json)" == "$ASSERT0" ]] && ok "version 0 still has the old key" || bad "version 0 still has the old key"
[[ "$(json_get didDocumentMetadata.nextVersionId <v0.json)" == 1 ]] && ok "nextVersionId of version 0" || bad "nextVersionId of version 0"

check "add-key (device)" "$M" did add-key --store alice.db "${L[@]}" --public-key z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK
"$M" did resolve "$DID" "${L[@]}" --document >doc.json
grep -q z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK doc.json && ok "device key published" || bad "device key published"
check "add-service" "$M" did add-service --store alice.db "${L[@]}" --url https://new-home.example/alice
grep -q new-home.example "$("$M" did resolve "$DID" "${L[@]}" --document >doc2.json; echo doc2.json)" && ok "service moved" || bad "service moved"

# Someone else's wallet cannot update the DID.
"$M" wallet init --store mallory.db --kdf test --mnemonic-out m.txt >/dev/null
if "$M" did rotate --store mallory.db "${L[@]}" --did "$DID" >/dev/null 2>&1; then bad "another wallet cannot rotate"; else ok "another wallet cannot rotate"; fi

# Recovery from the mnemonic (e.g. restored from SLIP-39 shares) with the recovery key.
"$M" wallet restore --store restored.db --kdf test --mnemonic-file words.txt >/dev/null
check "recover" "$M" did recover --store restored.db "${L[@]}" --did "$DID"
"$M" did resolve "$DID" "${L[@]}" >r2.json
[[ "$(json_get didDocumentMetadata.versionId <r2.json)" == 4 ]] && ok "versionId 4 after recovery" || bad "versionId 4 after recovery"
[[ "$(json_get 'didDocumentMetadata.ledger.ignoredOperations' <r2.json)" == "[]" ]] && ok "no ignored operations" || bad "no ignored operations"

check "deactivate" "$M" did deactivate --store restored.db "${L[@]}"
"$M" did resolve "$DID" "${L[@]}" >r3.json
[[ "$(json_get didDocumentMetadata.deactivated <r3.json)" == true ]] && ok "deactivated" || bad "deactivated"
if "$M" did rotate --store restored.db "${L[@]}" >/dev/null 2>&1; then bad "no update after deactivation"; else ok "no update after deactivation"; fi

# Refusals.
set +e
"$M" did resolve did:mdl:0OIl "${L[@]}" >/dev/null 2>&1; rc=$?
[[ $rc == 2 ]] && ok "malformed did:mdl exits 2" || bad "malformed did:mdl exits 2 (got $rc)"
"$M" did resolve "did:mdl:$(printf '1%.0s' {1..32})" "${L[@]}" >nf.json 2>/dev/null; rc=$?
[[ $rc == 1 && "$(json_get didResolutionMetadata.error <nf.json)" == notFound ]] && ok "unknown did:mdl is notFound" || bad "unknown did:mdl is notFound"
"$M" did resolve "$DID" --ledger "$URL" --log-key "did-cli.test/ledger+00000000+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=" >/dev/null 2>&1; rc=$?
[[ $rc != 0 ]] && ok "a wrong log key refuses to resolve" || bad "a wrong log key refuses to resolve"
"$M" did resolve did:example:123 >/dev/null 2>&1; rc=$?
[[ $rc == 1 ]] && ok "unsupported method exits 1" || bad "unsupported method exits 1 (got $rc)"
"$M" did resolve did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK --document >k.json 2>/dev/null; rc=$?
[[ $rc == 0 ]] && grep -q keyAgreement k.json && ok "did:key resolves offline" || bad "did:key resolves offline"
set -e

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
