#!/usr/bin/env bash
# `medallion relationship` against a live ledger: the patient gives a pseudonym, the provider
# opens (location sealed to her, data hashed) and sets the status, the patient accepts; her
# wallet is lost and restored from the mnemonic, and her relationships come back from the
# ledger; entries in another party's name are refused by the ledger.
# Usage: relationship_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail
M="${1:?usage}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PID=""
trap '[[ -n "$PID" ]] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export MEDALLION_PASSPHRASE=rel-cli-test MEDALLION_ALLOW_TEST_KDF=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WORK"
"$M" ledger serve --db l.db --key-file l.key --origin rel.test/ledger --listen 127.0.0.1:0 --json >l.out 2>l.err &
PID=$!
for _ in $(seq 1 100); do [[ -s l.out ]] && break; sleep 0.05; done
L=(--ledger "$(json_get url <l.out)" --log-key "$(json_get verifier_key <l.out)")
"$M" wallet init --store alice.db --kdf test --mnemonic-out alice.words >/dev/null
"$M" wallet init --store dr.db --kdf test --mnemonic-out dr.words >/dev/null
P="$("$M" relationship pseudonym --store alice.db --index 4 | json_get pseudonym)"
D="$("$M" relationship pseudonym --store dr.db | json_get pseudonym)"
[[ ${#P} == 43 ]] && ok "the patient's pairwise pseudonym" || bad "pseudonym ($P)"
echo '{"resourceType":"Bundle","type":"collection"}' >shared.json
"$M" relationship open --store dr.db "${L[@]}" --patient "$P" --location https://dr.example/fhir/alice --data-file shared.json >/dev/null && ok "the provider opens it" || bad "open"
"$M" relationship status --store dr.db "${L[@]}" --patient "$P" --status suspended >/dev/null && ok "the provider sets its status" || bad "status"
"$M" relationship accept --store alice.db --index 4 "${L[@]}" --provider "$D" >/dev/null && ok "the patient accepts" || bad "accept"
"$M" ledger get --url "$(json_get url <l.out)" --log-key "$(json_get verifier_key <l.out)" --start 0 --end 3 >entries.json
! grep -q dr.example entries.json && ok "the ledger holds no readable location" || bad "location in clear"
# The wallet is lost: restored from the mnemonic, the list comes back from the ledger.
"$M" wallet restore --store restored.db --kdf test --mnemonic-file alice.words >/dev/null
"$M" relationship list --store restored.db "${L[@]}" >list.json && ok "list from the restored seed" || bad "list"
[[ "$(json_get 0.location <list.json)" == https://dr.example/fhir/alice ]] && ok "the sealed location opens for her" || bad "location $(cat list.json)"
[[ "$(json_get 0.status <list.json)" == suspended && "$(json_get 0.patient_decision <list.json)" == accepted ]] && ok "status set by the provider, decision by the patient" || bad "state"
[[ "$(node -e 'console.log(JSON.parse(require("fs").readFileSync("list.json")).length)')" == 1 ]] && ok "exactly her relationship" || bad "count"
"$M" relationship list --store dr.db "${L[@]}" >dr-list.json
[[ "$(cat dr-list.json)" == "[]" ]] && ok "the provider's seed finds none of hers" || bad "provider list"
finish
