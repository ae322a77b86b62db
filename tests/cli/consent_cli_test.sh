#!/usr/bin/env bash
# End-to-end test of `medallion container serve` and `medallion consent ...` against a real
# `medallion ledger serve` on 127.0.0.1: the owner signs in with her wallet, adds and revokes a
# policy (consent receipts on the ledger), reads, anchors, exports and verifies the disclosure
# log; refusals for another wallet, no session, bad input and an edited export.
# Usage: consent_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail

M="${1:?usage: consent_cli_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export MEDALLION_PASSPHRASE=consent-cli-test MEDALLION_ALLOW_TEST_KDF=1

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$WORK"
"$M" ledger serve --db ledger.db --key-file ledger.key --origin consent-cli.test/ledger --listen 127.0.0.1:0 --json >ledger.out 2>ledger.err &
PIDS+=($!)
wait_for ledger.out
LURL="$(json_get url <ledger.out)"
VK="$(json_get verifier_key <ledger.out)"

"$M" wallet init --store owner.db --kdf test --mnemonic-out words.txt >/dev/null
"$M" container serve --dir box --store owner.db --listen 127.0.0.1:0 --json --ledger-receipts \
  --ledger "$LURL" --log-key "$VK" --trust did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp >box.out 2>box.err &
PIDS+=($!)
wait_for box.out || { cat box.err; exit 1; }
URL="$(json_get url <box.out)"
OWNER="$(json_get owner <box.out)"
[[ "$OWNER" == did:key:* ]] && ok "the container's owner is the wallet's did:key" || bad "owner ($OWNER)"
[[ "$(stat -c %a box)" == 700 ]] && ok "data folder is 0700" || bad "data folder mode"
[[ "$(http_get "$URL/.well-known/uma2-configuration" | json_get issuer)" == "$URL" ]] && ok "discovery issuer" || bad "discovery issuer"

"$M" consent signin --url "$URL" --store owner.db --session-file session.txt >signin.json && ok "signin" || bad "signin"
[[ "$(stat -c %a session.txt)" == 600 ]] && ok "session file is 0600" || bad "session file mode"
S=(--url "$URL" --session-file session.txt)

POLICY='{"effect":"permit","subjects":[{"credential_type":"MedicalLicenseCredential"}],"resource_types":["MedicationRequest"],"scopes":["read"],"purposes":["treatment","emergency"]}'
"$M" consent add-policy "${S[@]}" --policy "$POLICY" >added.json && ok "add-policy" || bad "add-policy"
PID_="$(json_get id <added.json)"
[[ "$(json_get receipt.ledger_indexes <added.json)" == "[0,1]" ]] && ok "two consent receipts (one per purpose) on the ledger" || bad "receipts $(cat added.json)"
"$M" ledger get --url "$LURL" --log-key "$VK" --start 0 --end 2 >entries.json && ok "the ledger proves the receipts" || bad "ledger get"
"$M" consent receipts "${S[@]}" >receipts0.json
node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync(0,"utf8"));const r=JSON.parse(fs.readFileSync("receipts0.json","utf8"));process.exit(j.entries.length===2&&j.entries.every(e=>{const x=typeof e.entry==="string"?JSON.parse(e.entry):e.entry;const t=JSON.stringify(x);return x.type==="consent"&&x.controller===r[0].signer&&!t.includes(process.argv[1])&&!t.includes("did:")&&x.action==="grant"})?0:1)' "$OWNER" <entries.json \
  && ok "the entries are grants signed by the receipt's pseudonymous key, naming no DID" || bad "consent entries"
[[ "$("$M" consent policies "${S[@]}" | json_get 0.id)" == "$PID_" ]] && ok "policies lists it" || bad "policies"
echo "$POLICY" >policy.json
"$M" consent add-policy "${S[@]}" --policy @policy.json >/dev/null && ok "add-policy from a file" || bad "add-policy @file"
[[ "$("$M" consent receipts "${S[@]}" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).length)')" == 2 ]] && ok "receipts" || bad "receipts"
"$M" consent revoke-policy "${S[@]}" "$PID_" >revoked.json && ok "revoke-policy" || bad "revoke-policy"
[[ "$(json_get revoked <revoked.json)" == true ]] && ok "revoked" || bad "revoked"
"$M" consent requests "${S[@]}" >/dev/null && ok "requests" || bad "requests"
"$M" consent anchor "${S[@]}" >anchor.json && ok "anchor the disclosure log" || bad "anchor"
[[ -n "$(json_get ledger_index <anchor.json)" ]] && ok "anchor has a ledger index" || bad "anchor index"
"$M" consent log "${S[@]}" >log.json && ok "log" || bad "log"
grep -q policy.revoke log.json && ok "the log records the revocation" || bad "log content"
"$M" consent export "${S[@]}" >export.json && ok "export" || bad "export"
"$M" consent verify-export export.json >/dev/null && ok "verify-export" || bad "verify-export"
sed 's/policy.revoke/policy.other/' export.json >edited.json
set +e
"$M" consent verify-export edited.json >/dev/null 2>&1; rc=$?
[[ $rc != 0 ]] && ok "an edited export is refused" || bad "edited export accepted"

# Refusals.
"$M" wallet init --store mallory.db --kdf test --mnemonic-out m.txt >/dev/null
"$M" consent signin --url "$URL" --store mallory.db --session-file m-session.txt >/dev/null 2>&1; rc=$?
[[ $rc != 0 && ! -e m-session.txt ]] && ok "another wallet cannot sign in" || bad "another wallet signed in (rc $rc)"
echo "forged-token" >forged.txt
"$M" consent policies --url "$URL" --session-file forged.txt >/dev/null 2>&1; rc=$?
[[ $rc == 1 ]] && ok "a forged session is refused (exit 1)" || bad "forged session (rc $rc)"
"$M" consent add-policy "${S[@]}" --policy '{"effect":"permit"' >/dev/null 2>&1; rc=$?
[[ $rc == 2 ]] && ok "malformed policy JSON exits 2" || bad "malformed JSON (rc $rc)"
"$M" consent add-policy "${S[@]}" --policy '{"effect":"permit","subjects":[]}' >/dev/null 2>&1; rc=$?
[[ $rc == 2 ]] && ok "an invalid policy exits 2" || bad "invalid policy (rc $rc)"
"$M" consent policies --url "$URL" --session-file missing.txt >/dev/null 2>&1; rc=$?
[[ $rc != 0 ]] && ok "a missing session file is an error" || bad "missing session file"
"$M" container serve --dir box2 --listen 127.0.0.1:0 >/dev/null 2>&1; rc=$?
[[ $rc == 2 ]] && ok "serve without an owner exits 2" || bad "serve without owner (rc $rc)"
[[ "$(http_status "$URL/owner/v1/disclosures")" == 401 ]] && ok "the owner API needs a session" || bad "owner API open"
set -e

finish
