#!/usr/bin/env bash
# End-to-end test of `medallion phone` (the command-line phone on the bridge's C ABI) with a
# did:mdl owner's container on a live ledger: pairing publishes the phone's key in her DID,
# a reused offer is refused, `phone watch` shows what awaits her and decides each at a y/n
# prompt, a lost phone is revoked (its key leaves the DID, it can no longer act), the seed comes back from SLIP-39 guardian shares, the DID is recovered with its
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

# `phone watch`: the owner queues requests for her phone (POST /owner/v1/approvals); the watch
# shows each with its sentence, kind and id and reads y/n from stdin.
# queue TEXT: prints the new request's id. approval_status ID: pending, approved or denied.
queue() {
  node -e 'const [u, t, text] = process.argv.slice(1);
    fetch(u + "/owner/v1/approvals", {method: "POST",
      headers: {authorization: "Bearer " + t, "content-type": "application/json"},
      body: JSON.stringify({kind: "recovery", summary: {text}, payload: {}})})
      .then(r => r.json()).then(j => console.log(j.id))' "$URL" "$(cat s.txt)" "$1"
}
approval_status() {
  node -e 'fetch(process.argv[1] + "/owner/v1/approvals/" + process.argv[2],
      {headers: {authorization: "Bearer " + process.argv[3]}})
      .then(r => r.json()).then(j => console.log(j.status))' "$URL" "$1" "$(cat s.txt)"
}
R1="$(queue "Let the first test helper in?")"
R2="$(queue "Let the second test helper in?")"
"$M" phone pending --store phone.db >pending.json
FIRST="$(json_get 0.id <pending.json)"; SECOND="$(json_get 1.id <pending.json)"
[[ -n "$R1" && -n "$R2" && "$(json_get length <pending.json)" == 2 ]] && ok "two requests pending" || bad "queued: $(cat pending.json)"
set +e
printf 'maybe\ny\nn\n' | "$M" phone watch --store phone.db --once >watch.out 2>watch.err; rc=$?
set -e
[[ $rc == 0 ]] && ok "phone watch --once exits 0" || bad "watch rc $rc: $(cat watch.err)"
grep -q "Let the first test helper in?" watch.out && grep -q "Let the second test helper in?" watch.out \
  && ok "watch shows each request's sentence" || bad "watch text: $(cat watch.out)"
grep -q "kind:    recovery" watch.out && grep -q "id:      $FIRST" watch.out && grep -q "id:      $SECOND" watch.out \
  && grep -q "expires: " watch.out && ok "and its kind, id and expiry" || bad "watch details: $(cat watch.out)"
[[ "$(grep -o 'Approve? \[y/n\]' watch.out | wc -l)" == 3 ]] && grep -q "Please answer y (approve) or n (deny)." watch.out \
  && ok "\"maybe\" asks again" || bad "re-ask: $(cat watch.out)"
grep -q "^Approved\." watch.out && grep -q "^Denied\." watch.out && ok "watch prints each outcome" || bad "outcomes: $(cat watch.out)"
[[ "$(approval_status "$FIRST")" == approved && "$(approval_status "$SECOND")" == denied ]] \
  && ok "the first is approved, the second denied (the container's view)" \
  || bad "statuses: $(approval_status "$FIRST") $(approval_status "$SECOND")"
[[ "$("$M" phone pending --store phone.db)" == "[]" ]] && ok "nothing pending after the watch" || bad "pending after watch"
! grep -q "$(json_get 0.hash <pending.json)" watch.out && ! grep -q "$(cat s.txt)" watch.out \
  && ! grep -q "$MEDALLION_PASSPHRASE" watch.out watch.err && ok "no hash, token or passphrase in the output" || bad "watch leaks"

# A decision that fails (the owner denied it elsewhere first) is reported and the watch goes on.
R3="$(queue "Let the third test helper in?")"
R4="$(queue "Let the fourth test helper in?")"
"$M" phone pending --store phone.db >pending2.json
FIRST="$(json_get 0.id <pending2.json)"; SECOND="$(json_get 1.id <pending2.json)"
mkfifo answers
"$M" phone watch --store phone.db --once <answers >watch2.out 2>watch2.err &
WATCH=$!
exec 3>answers
for _ in $(seq 1 200); do grep -q 'Approve?' watch2.out && break; sleep 0.05; done
"$M" consent deny "${S[@]}" -- "$FIRST" >/dev/null
printf 'y\ny\n' >&3
exec 3>&-
set +e
wait "$WATCH"; rc=$?
set -e
[[ $rc == 0 ]] && grep -q "^Not approved: not_found" watch2.out && grep -q "^Approved\." watch2.out \
  && ok "a failed decision is reported, the next one still made" || bad "failed decision (rc $rc): $(cat watch2.out watch2.err)"
[[ "$(approval_status "$FIRST")" == denied && "$(approval_status "$SECOND")" == approved ]] \
  && ok "the container kept the owner's denial and the phone's approval" || bad "statuses 2"

# The end of input ends the watch (exit 0), the request left pending; a bad interval is exit 2.
R5="$(queue "Let the fifth test helper in?")"
set +e
"$M" phone watch --store phone.db --once </dev/null >watch3.out 2>&1; rc=$?
[[ $rc == 0 ]] && grep -q "Let the fifth test helper in?" watch3.out && ok "watch --once at EOF exits 0" || bad "EOF --once (rc $rc)"
timeout 30 "$M" phone watch --store phone.db --interval 0.2 </dev/null >watch4.out 2>&1; rc=$?
[[ $rc == 0 ]] && ok "watch (polling) at EOF exits 0" || bad "EOF polling (rc $rc): $(cat watch4.out)"
[[ "$(approval_status "$R5")" == pending ]] && ok "an unanswered request stays pending" || bad "R5 $(approval_status "$R5")"
"$M" consent deny "${S[@]}" -- "$R5" >/dev/null
for i in 0.1 61 abc; do
  "$M" phone watch --store phone.db --interval "$i" </dev/null >/dev/null 2>&1; rc=$?
  [[ $rc == 2 ]] && ok "--interval $i exits 2" || bad "--interval $i (rc $rc)"
done
"$M" phone watch --store phone.db --once </dev/null >watch5.out 2>&1; rc=$?
[[ $rc == 0 ]] && grep -q "Nothing awaits your decision." watch5.out && ok "nothing pending: --once says so, exit 0" || bad "empty --once (rc $rc)"
set -e

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
