#!/usr/bin/env bash
# The prescription flow by commands only, against the servers `medallion up` starts: the
# patient signs in, pairs her phone and sets her policy; the physician onboards at the society,
# pairs her phone, signs in to the patient's container with her license (UMA), writes the
# MedicationRequest, prescribes a controlled substance (her phone co-signs), postmarks and
# delivers it; the patient presents it at the pharmacy (her phone approves each fill) and it is
# dispensed twice; then the refusals: the same presentation again, a third fill, a prescription
# after the society revoked the license; suspend/reinstate. Every process is stopped at the end.
# Usage: flow_cli_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -uo pipefail
M="${1:?usage: flow_cli_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
source "$(dirname "$0")/lib.sh"
WORK="$(mktemp -d)"
export MEDALLION_ALLOW_TEST_KDF=1
UP_PID=""
cleanup() {
  [[ -n "$UP_PID" ]] && kill -TERM "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

"$M" up --out "$WORK/up" >"$WORK/up.out" 2>&1 &
UP_PID=$!
for _ in $(seq 1 600); do grep -q "Ctrl-C stops everything" "$WORK/up.out" && break; sleep 0.1; done
grep -q "Ctrl-C stops everything" "$WORK/up.out" && ok "medallion up is running" || { bad "medallion up did not start"; cat "$WORK/up.out"; finish; exit 1; }
RUN="$(ls -d "$WORK"/up/run-* | head -1)"
for role in "# the patient" "# the physician" "# the patient at the pharmacy" "# the society"; do
  grep -q "$role" "$WORK/up.out" && ok "up prints a Try block: $role" || bad "no Try block for $role"
done
for c in "issuer onboard" "physician signin" "physician write" "physician prescribe" "physician deliver" "pharmacy present" "pharmacy dispense" "issuer revoke"; do
  grep -q "medallion $c " "$WORK/up.out" || bad "Try block lacks medallion $c"
done
# Each person's app and one-time sign-in link (issue 15), and the phone commands.
for who in "Alice, the patient" "Dr. Rivera, the physician" "the pharmacist" "the society's clerk"; do
  grep -A2 "^  $who\$" "$WORK/up.out" | grep -q "sign-in link: http://localhost:[0-9]*/#setup=" \
    && ok "up prints $who's app and sign-in link" || bad "no app or sign-in link for $who"
done
grep -q "medallion phone watch --store alice-phone.db" "$WORK/up.out" && grep -q "medallion phone watch --store dr-phone.db" "$WORK/up.out" \
  && ok "up prints the phones' commands (phone watch)" || bad "no phone commands"
for kind in patient physician; do
  link="$(grep -A2 "^  .*the $kind\$" "$WORK/up.out" | sed -n 's/.*app: *//p' | head -1)"
  curl -s "$link" | grep -q "<title>Medallion" && ok "the $kind's app answers at $link" || bad "no app at $link"
done
curl -s "$(grep -A2 "^  Dr. Rivera" "$WORK/up.out" | sed -n 's/.*app: *//p')" | grep -q "physician’s workspace" \
  && ok "the physician's container serves her workspace" || bad "the physician's container does not serve her workspace"
field() { node -e 'const t=JSON.parse(require("fs").readFileSync(process.argv[1]));const r=t.find(x=>x.role===process.argv[2]);console.log(r[process.argv[3]])' "$RUN/up.json" "$1" "$2"; }
LEDGER="$(field ledger url)"; KEY="$(field ledger log_key)"
SOCIETY="$(field 'society (issuer)' url)"; SOCIETY_DID="$(field 'society (issuer)' did)"
PB="$(field "patient's container" url)"; PD="$(field "patient's container" owner)"
DB="$(field "physician's container" url)"; DD="$(field "physician's container" owner)"
PHARMACY="$(field pharmacy url)"
ALICE=(--store "$RUN/patient/patient.wallet" --passphrase-file "$RUN/patient/passphrase.txt" --did "$PD")
DR=(--store "$RUN/physician/physician.wallet" --passphrase-file "$RUN/physician/passphrase.txt" --did "$DD")
LED=(--ledger "$LEDGER" --log-key "$KEY")
ADMIN="$RUN/society/data/admin.token"

# pair_phone URL SESSION PHONE_STORE: a phone paired with the owner's container.
pair_phone() {
  local uri
  uri="$("$M" consent pair --url "$1" --session-file "$2" | json_get uri)" &&
    MEDALLION_PASSPHRASE=phone-pass "$M" phone init --store "$3" --kdf test --mnemonic-out "$3.words" >/dev/null &&
    MEDALLION_PASSPHRASE=phone-pass "$M" phone pair --store "$3" --uri "$uri" >/dev/null
}
approve() { MEDALLION_PASSPHRASE=phone-pass "$M" phone approve --store "$1" -- "$2" >/dev/null; }

# --- the patient ---
"$M" consent signin --url "$PB" "${ALICE[@]}" --session-file alice.session >/dev/null && ok "Alice signs in to her container" || bad "alice signin"
pair_phone "$PB" alice.session alice-phone.db && ok "Alice pairs her phone" || bad "alice phone"
POLICY='{"effect":"permit","subjects":[{"credential_type":"MedicalLicenseCredential","issuers":["'"$SOCIETY_DID"'"]}],"resource_types":["MedicationRequest"],"scopes":["read","search","create"],"purposes":["treatment"]}'
"$M" consent add-policy --url "$PB" --session-file alice.session --policy "$POLICY" >/dev/null && ok "Alice's policy" || bad "policy"

# --- the physician ---
"$M" issuer onboard --help | grep -q -- "--license-number" && ok "issuer onboard --help" || bad "onboard help"
"$M" issuer onboard --url "$SOCIETY" "${DR[@]}" --license-number MA-MD-000000 --name "Dr. Elena Rivera" --out nolicense.json 2>err.txt
rc=$?; [[ $rc == 1 && ! -e nolicense.json ]] && ok "an unknown license number is refused (exit 1): $(head -c 80 err.txt)" || bad "unknown license rc=$rc"
"$M" issuer onboard --url "$SOCIETY" "${DR[@]}" --license-number MA-MD-204812 --name "Dr. Elena Rivera" --out license.json --json >onboard.json &&
  [[ "$(json_get credentialSubject.id <license.json)" == "$DD" ]] && ok "issuer onboard: the license is hers" || bad "onboard"
"$M" consent signin --url "$DB" "${DR[@]}" --session-file dr.session >/dev/null && pair_phone "$DB" dr.session dr-phone.db && ok "Dr. Rivera: her container and phone" || bad "dr container/phone"
"$M" physician signin --url "$PB" "${DR[@]}" --license license.json --session-file dr-uma.json --json >signin.json && [[ -n "$(json_get rpt <dr-uma.json)" ]] &&
  ok "physician signin: UMA grant with her license presentation → RPT" || bad "physician signin"
# The same sign-in with her license as an SD-JWT VC from the society (OpenID4VCI), presented by
# OpenID4VP in the container's UMA claims interaction (issue 19; UMA Grant §3.3.2).
"$M" oid4vci offer --url "$SOCIETY" --admin-token-file "$ADMIN" --license-id "$(json_get license_id <onboard.json)" --json >offer.json &&
  "$M" oid4vci accept "$(json_get offer_uri <offer.json)" --tx-code "$(json_get tx_code <offer.json)" "${DR[@]}" --out license.sd-jwt --allow-insecure-loopback >/dev/null &&
  node -e 'const p=JSON.parse(Buffer.from(require("fs").readFileSync("license.sd-jwt","utf8").split("~")[0].split(".")[1],"base64url"));process.exit(p.status&&p.status.bitstring_status_list?0:1)' &&
  ok "oid4vci offer/accept: her license as an SD-JWT VC, its status entry always visible" || bad "SD-JWT license"
"$M" physician signin --url "$PB" "${DR[@]}" --license-sd-jwt license.sd-jwt --session-file dr-vp.json --json >signin-vp.json 2>signin-vp.err && [[ -n "$(json_get rpt <dr-vp.json)" ]] &&
  ok "physician signin --license-sd-jwt: UMA claims interaction by OpenID4VP → RPT" || bad "physician signin --license-sd-jwt: $(cat signin-vp.err)"
"$M" physician write --session-file dr-uma.json --in "$RUN/medication-request.json" --out stored.json --json >written.json &&
  [[ "$(json_get resourceType <stored.json)" == MedicationRequest && -n "$(json_get id <stored.json)" ]] && ok "physician write: MedicationRequest/$(json_get id <stored.json)" || bad "physician write"
HOLDER="$("$M" relationship pseudonym --store "$RUN/patient/patient.wallet" --passphrase-file "$RUN/patient/passphrase.txt" | json_get pseudonym)"
"$M" physician prescribe "${DR[@]}" --license license.json --request stored.json --patient "$PD" --schedule II --holder "$HOLDER" --container "$DB" --session-file dr.session --out draft.json "${LED[@]}" --json >prescribe.json &&
  [[ "$(json_get approvals <prescribe.json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).length)')" == 2 ]] &&
  ok "physician prescribe: signed, with a pharmacy copy bound to Alice's pseudonym; two phone co-signatures queued" || bad "prescribe"
"$M" physician deliver --draft draft.json "${DR[@]}" --session-file dr.session --patient-container "$PB" --out rx.json "${LED[@]}" 2>err.txt
rc=$?; [[ $rc != 0 ]] && grep -q "approve it on the phone" err.txt && ok "deliver waits for the phone's co-signature (exit $rc)" || bad "deliver before approval rc=$rc"
approve dr-phone.db "$(json_get approvals.0 <prescribe.json)" && approve dr-phone.db "$(json_get approvals.1 <prescribe.json)" &&
  ok "her phone co-signs both (medallion phone approve)" || bad "phone co-sign"
"$M" physician deliver --draft draft.json "${DR[@]}" --session-file dr.session --patient-container "$PB" --out rx.json --copy-out rx.copy.json "${LED[@]}" --json >deliver.json &&
  [[ "$(node -e 'const v=JSON.parse(require("fs").readFileSync("rx.json"));console.log(v.proof.length)')" == 2 && -n "$(json_get cosignature <rx.copy.json)" ]] &&
  ok "physician deliver: two proofs, postmarked at index $(json_get postmark_index <deliver.json) (its copy at $(json_get copy_postmark_index <deliver.json)), delivered" || bad "deliver"

# --- at the pharmacy ---
fill() { # fill LABEL [--copy FILE]: present (default the newest prescription in her container), the phone approves, dispense
  local label="$1"; shift
  "$M" pharmacy present --url "$PHARMACY" "${ALICE[@]}" --container "$PB" --session-file alice.session --out "p-$label.json" "${LED[@]}" "$@" --json >"present-$label.json" &&
    approve alice-phone.db "$(json_get approval <"present-$label.json")" &&
    "$M" pharmacy dispense --presentation "p-$label.json" --session-file alice.session --out "receipt-$label.json" --json >"dispense-$label.json" 2>"dispense-$label.err"
}
fill 1 --copy rx.copy.json && [[ "$(json_get fill <dispense-1.json)" == 1 && "$(json_get disclosed <dispense-1.json)" == '["/sub"]' ]] &&
  ok "pharmacy present --copy (SD-JWT VC, only /sub of the hidden claims revealed) + phone + dispense: fill 1 of $(json_get fills_allowed <dispense-1.json)" || bad "fill 1: $(cat dispense-1.err)"
grep -q dosageInstruction present-1.json && grep -q '"/prescription/subject"' present-1.json && ok "present names what stayed hidden" || bad "hidden list"
"$M" pharmacy dispense --presentation p-1.json --session-file alice.session >/dev/null 2>again.err
rc=$?; [[ $rc == 1 ]] && grep -q challenge_refused again.err && ok "the same presentation again is refused (challenge_refused)" || bad "replay rc=$rc $(cat again.err)"
fill 2 && [[ "$(json_get fill <dispense-2.json)" == 2 ]] && ok "the refill from the full credential in her container: fill 2 of 2 (one set of nullifiers)" || bad "fill 2: $(cat dispense-2.err)"
grep -Eq '"warning": ?"the full prescription' present-2.json && ! grep -q '"warning"' present-1.json &&
  ok "presenting the full credential says that every claim is disclosed (none said for the copy)" || bad "no full-disclosure warning: $(cat present-2.json)"
fill 3 --copy rx.copy.json; rc=$?
[[ $rc == 1 ]] && grep -q already_dispensed dispense-3.err && ok "a third fill is refused: already_dispensed" || bad "third fill rc=$rc $(cat dispense-3.err)"

# --- the society ---
"$M" issuer suspend --url "$SOCIETY" --admin-token-file "$ADMIN" --license license.json >/dev/null &&
  "$M" issuer reinstate --url "$SOCIETY" --admin-token-file "$ADMIN" --license license.json >/dev/null && ok "issuer suspend, reinstate" || bad "suspend/reinstate"
"$M" issuer revoke --url "$SOCIETY" --license license.json --admin-token-file /dev/null >/dev/null 2>&1
[[ $? != 0 ]] && ok "revoke without the admin token is refused" || bad "revoke without token"
"$M" issuer revoke --url "$SOCIETY" --admin-token-file "$ADMIN" --license license.json --json >revoke.json && [[ "$(json_get action <revoke.json)" == revoke ]] && ok "issuer revoke" || bad "revoke"
sleep 1.5  # the status lists' ttl under `up`: 1 s
node -e 'const r=JSON.parse(require("fs").readFileSync("stored.json"));r.medicationCodeableConcept={coding:[{system:"http://www.nlm.nih.gov/research/umls/rxnorm",code:"308182",display:"amoxicillin 500 mg oral capsule"}],text:"amoxicillin 500 mg oral capsule"};r.dispenseRequest.numberOfRepeatsAllowed=0;require("fs").writeFileSync("stored2.json",JSON.stringify(r))'
"$M" physician prescribe "${DR[@]}" --license license.json --request stored2.json --patient "$PD" --container "$DB" --session-file dr.session --out draft2.json >/dev/null &&
  "$M" physician deliver --draft draft2.json "${DR[@]}" --session-file dr.session --patient-container "$PB" --out rx2.json "${LED[@]}" >/dev/null &&
  ok "a new (non-controlled) prescription after the revocation: no phone needed" || bad "prescribe after revocation"
"$M" pharmacy present --url "$PHARMACY" "${ALICE[@]}" --container "$PB" --session-file alice.session --rx rx2.json --out p-rev.json >/dev/null &&
  "$M" pharmacy dispense --presentation p-rev.json >/dev/null 2>rev.err
rc=$?; [[ $rc == 1 ]] && grep -q license_revoked rev.err && ok "the pharmacy refuses it: license_revoked" || bad "revoked rc=$rc $(cat rev.err)"

"$M" physician signin --url "$PB" "${DR[@]}" --license-sd-jwt license.sd-jwt --session-file dr-vp2.json 2>vp-rev.err
rc=$?; [[ $rc != 0 && ! -s dr-vp2.json ]] && grep -q "license_status" vp-rev.err && ok "the patient's container refuses her revoked SD-JWT license: $(grep -o 'license_status[^"]*' vp-rev.err | head -1 | cut -c1-60)" || bad "revoked SD-JWT sign-in rc=$rc $(cat vp-rev.err)"

# --- stop everything ---
kill -TERM "$UP_PID"; wait "$UP_PID"; UP_PID=""
sleep 0.5
left="$(pgrep -f -- "$WORK/up" | wc -l)"
[[ "$left" == 0 ]] && ok "medallion up stopped every role" || bad "$left processes left"
finish
