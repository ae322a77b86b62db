#!/usr/bin/env bash
# End-to-end test of `medallion phone` (the command-line phone on the bridge's C ABI) with a
# did:mdl owner's container on a live ledger: pairing publishes the phone's key in her DID,
# a reused offer is refused, a lost phone is revoked (its key leaves the DID, it can no longer
# act), the seed comes back from SLIP-39 guardian shares, the DID is recovered with its
# recovery key, and a restored phone pairs again.
# Usage: phone_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail

M="${1:?usage: phone_cli_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export MEDALLION_PASSPHRASE=phone-cli-test MEDALLION_ALLOW_TEST_KDF=1

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$WORK"
"$M" ledger serve --db ledger.db --key-file ledger.key --origin phone-cli.test/ledger --listen 127.0.0.1:0 --json >ledger.out 2>ledger.err &
PIDS+=($!)
wait_for ledger.out
LURL="$(json_get url <ledger.out)"
VK="$(json_get verifier_key <ledger.out)"
L=(--ledger "$LURL" --log-key "$VK")

"$M" wallet init --store owner.db --kdf test --mnemonic-out words.txt >/dev/null
DID="$("$M" did create --store owner.db "${L[@]}")"
[[ "$DID" == did:mdl:* ]] && ok "the owner has a did:mdl" || bad "did create ($DID)"
"$M" container serve --dir box --store owner.db --owner "$DID" --listen 127.0.0.1:0 --json --ledger-receipts "${L[@]}" >box.out 2>box.err &
PIDS+=($!)
wait_for box.out || { cat box.err; exit 1; }
URL="$(json_get url <box.out)"
"$M" consent signin --url "$URL" --store owner.db --did "$DID" --session-file s.txt >/dev/null && ok "the did:mdl owner signs in" || bad "signin"
S=(--url "$URL" --session-file s.txt)

"$M" consent pair "${S[@]}" >offer.json && ok "a pairing offer" || bad "pair offer"
URI="$(json_get uri <offer.json)"
[[ "$URI" == medallion-pair://v1?* ]] && ok "the offer's URI (the QR code)" || bad "uri ($URI)"
"$M" phone init --store phone.db --kdf test --mnemonic-out phone-words.txt >phone.json && ok "phone init" || bad "phone init"
KEY="$(json_get device_key <phone.json)"
"$M" phone pair --store phone.db --uri "$URI" --name "Alice's phone" >paired.json && ok "phone pair" || bad "phone pair"
DEVICE="$(json_get device_id <paired.json)"
"$M" did resolve "$DID" "${L[@]}" --document >doc.json
grep -q "$KEY" doc.json && ok "the phone's key is a verification method of the owner's DID" || bad "device key not in DID"
[[ "$("$M" consent devices "${S[@]}" | json_get 0.id)" == "$DEVICE" ]] && ok "the owner sees the device" || bad "devices"
[[ "$("$M" phone pending --store phone.db)" == "[]" ]] && ok "nothing pending" || bad "pending"
[[ "$("$M" phone show --store phone.db | json_get pairing.device_id)" == "$DEVICE" ]] && ok "the phone remembers its pairing" || bad "show"

set +e
"$M" phone init --store phone2.db --kdf test --mnemonic-out w2.txt >/dev/null
"$M" phone pair --store phone2.db --uri "$URI" >/dev/null 2>&1; rc=$?
[[ $rc == 1 ]] && ok "a used offer is refused (exit 1)" || bad "reused offer (rc $rc)"
BAD_URI="$(echo "$URI" | sed -E 's/secret=[^&]+/secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')"
"$M" consent pair "${S[@]}" >offer2.json
URI2="$(json_get uri <offer2.json)"
BAD_URI="$(echo "$URI2" | sed -E 's/secret=[^&]+/secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')"
"$M" phone pair --store phone2.db --uri "$BAD_URI" >/dev/null 2>&1; rc=$?
[[ $rc == 1 ]] && ok "a guessed secret is refused" || bad "guessed secret (rc $rc)"
"$M" phone pair --store phone2.db --uri "not-a-uri" >/dev/null 2>&1; rc=$?
[[ $rc == 2 ]] && ok "a malformed URI exits 2" || bad "malformed URI (rc $rc)"
set -e

# The phone is lost: revoked, its key leaves the DID, it can no longer act.
"$M" consent revoke-device "${S[@]}" "$DEVICE" >/dev/null && ok "revoke the lost phone" || bad "revoke-device"
"$M" did resolve "$DID" "${L[@]}" --document >doc2.json
! grep -q "$KEY" doc2.json && ok "its key left the DID" || bad "device key still in DID"
set +e
"$M" phone pending --store phone.db >/dev/null 2>&1; rc=$?
[[ $rc == 1 ]] && ok "the revoked phone is refused" || bad "revoked phone (rc $rc)"
set -e

# The seed is lost too: back from two of three guardian shares; the DID recovered with its
# recovery key; a new phone restored from the mnemonic pairs again.
mkdir shares
"$M" wallet split --store owner.db --groups 2of3 --out-dir shares >/dev/null && ok "guardian shares" || bad "split"
SHARES=(shares/*)
"$M" wallet combine --share-file "${SHARES[0]}" --share-file "${SHARES[2]}" --store restored.db >/dev/null && ok "the seed from two shares" || bad "combine"
"$M" did recover --store restored.db "${L[@]}" --did "$DID" >/dev/null && ok "the DID recovered with the recovery key" || bad "did recover"
"$M" phone restore --store phone3.db --kdf test --mnemonic-file words.txt >phone3.json && ok "a new phone from the mnemonic" || bad "phone restore"
[[ "$(json_get did <phone3.json)" == "$("$M" wallet show --store owner.db --json | json_get dids.ed25519)" ]] && ok "the restored phone has the owner's did:key" || bad "restored did"
"$M" consent pair "${S[@]}" >offer3.json
"$M" phone pair --store phone3.db --uri "$(json_get uri <offer3.json)" >/dev/null && ok "the new phone pairs" || bad "pair new phone"
[[ "$("$M" phone pending --store phone3.db)" == "[]" ]] && ok "and can act" || bad "new phone pending"

finish
