#!/usr/bin/env bash
# Arguments and errors of the id-taking commands (issue 12): an id that begins with '-' passes
# after `--` or as `--id=...` (about 1 random id in 64 did, and the demo failed on it), a remote
# error is printed once with its meaning (not_found, not invalid_argument), a phone store that
# does not open names the store and the passphrase, and a container that fails to start leaves
# no --dir behind.
# Usage: args_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail
M="${1:?usage}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export MEDALLION_PASSPHRASE=args-cli-test MEDALLION_ALLOW_TEST_KDF=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WORK"

"$M" wallet init --store owner.db --kdf test --mnemonic-out words.txt >/dev/null
"$M" container serve --dir box --store owner.db --listen 127.0.0.1:0 --json >box.out 2>box.err &
PIDS+=($!)
wait_for box.out || { cat box.err; exit 1; }
URL="$(json_get url <box.out)"
PORT="${URL##*:}"
"$M" consent signin --url "$URL" --store owner.db --session-file session.txt >/dev/null
S=(--url "$URL" --session-file session.txt)

# An id beginning with '-': parsed as the id, so the container answers not_found (exit 2), and the
# message says so once.
for verb in approve deny; do
  set +e
  "$M" consent "$verb" "${S[@]}" -- -z361UEg6iZOpIzKe3n4GA >out.txt 2>err.txt
  code=$?
  set -e
  [[ $code == 2 ]] && grep -q "not_found" err.txt && ! grep -q "id is required" err.txt \
    && ok "consent $verb -- -ID: the id reaches the container (not_found, exit 2)" || bad "consent $verb -- -ID: exit $code $(cat err.txt)"
  [[ "$(grep -o not_found err.txt | wc -l)" == 1 ]] && ok "consent $verb: the error code is printed once" || bad "printed $(cat err.txt)"
  ! grep -q invalid_argument err.txt && ok "consent $verb: a missing request is not called invalid_argument" || bad "code $(cat err.txt)"
  set +e
  "$M" consent "$verb" "${S[@]}" --id=-z361UEg6iZOpIzKe3n4GA >out.txt 2>err.txt
  code=$?
  set -e
  [[ $code == 2 ]] && grep -q "not_found" err.txt && ok "consent $verb --id=-ID" || bad "consent $verb --id=-ID: exit $code $(cat err.txt)"
done
set +e
"$M" consent revoke-device "${S[@]}" -- -abcDEF >out.txt 2>err.txt
code=$?
set -e
[[ $code == 2 ]] && ! grep -q "is required" err.txt && ok "consent revoke-device -- -ID reaches the container" || bad "revoke-device: exit $code $(cat err.txt)"
set +e
"$M" consent revoke-device "${S[@]}" --id=-abcDEF >out.txt 2>err.txt
code=$?
set -e
[[ $code == 2 ]] && ! grep -q "is required" err.txt && ok "consent revoke-device --id=-ID reaches the container" || bad "revoke-device --id: exit $code $(cat err.txt)"

# The phone: an id beginning with '-' is parsed as the id (the phone is not paired, so the bridge
# refuses with failed_precondition, not a usage error about the id).
echo "phone-pass" >phone.pass
MEDALLION_PASSPHRASE=phone-pass "$M" phone init --store phone.db --kdf test >/dev/null 2>&1 || MEDALLION_PASSPHRASE=phone-pass "$M" phone init --store phone.db >/dev/null
for verb in approve deny; do
  set +e
  "$M" phone "$verb" --store phone.db --passphrase-file phone.pass -- -z361UEg6iZOpIzKe3n4GA >out.txt 2>err.txt
  code=$?
  set -e
  ! grep -q "is required" err.txt && grep -q "phone $verb" err.txt && [[ "$(grep -o failed_precondition err.txt | wc -l)" == 1 ]] && ok "phone $verb -- -ID reaches the bridge ($(head -c 80 err.txt))" || bad "phone $verb: exit $code $(cat err.txt)"
  set +e
  "$M" phone "$verb" --store phone.db --passphrase-file phone.pass --id=-z361UEg6iZOpIzKe3n4GA >out.txt 2>err.txt
  code=$?
  set -e
  ! grep -q "is required" err.txt && grep -q "failed_precondition" err.txt && ok "phone $verb --id=-ID reaches the bridge" || bad "phone $verb --id: exit $code $(cat err.txt)"
done
# A wrong passphrase names the store and the passphrase file.
echo "wrong" >wrong.pass
set +e
"$M" phone pending --store phone.db --passphrase-file wrong.pass >out.txt 2>err.txt
code=$?
set -e
[[ $code != 0 ]] && grep -q "phone.db" err.txt && grep -q "wrong.pass" err.txt && ok "a wrong phone passphrase names the store and the file" || bad "phone error: $(cat err.txt)"

# A container that cannot start (its port is taken) leaves no --dir behind.
set +e
"$M" container serve --dir newbox --store owner.db --listen "127.0.0.1:$PORT" >out.txt 2>err.txt
code=$?
set -e
[[ $code == 2 ]] && grep -q "already in use" err.txt && ok "a taken port: exit 2, said so" || bad "taken port: exit $code $(cat err.txt)"
[[ ! -e newbox ]] && ok "the failed container left no --dir" || bad "newbox left behind"

# Every other role refuses a taken port the same way (no SO_REUSEPORT): the resolver, the
# pharmacy, the society and a witness, each on the ledger's port.
"$M" ledger serve --db l.db --key-file l.key --origin args.test/l --listen 127.0.0.1:0 --json >ledger.out 2>ledger.err &
PIDS+=($!)
wait_for ledger.out || { cat ledger.err; exit 1; }
LURL="$(json_get url <ledger.out)"
LKEY="$(json_get verifier_key <ledger.out)"
LPORT="${LURL##*:}"
echo '[]' >directory.json
taken() { # taken NAME ARGS...: the role exits 2 and says the port is in use
  local name="$1"; shift
  set +e
  "$M" "$@" --listen "127.0.0.1:$LPORT" >out.txt 2>err.txt
  local code=$?
  set -e
  [[ $code == 2 ]] && grep -q "already in use" err.txt && ok "$name on a taken port: exit 2, said so" || bad "$name taken port: exit $code $(cat err.txt)"
}
taken "did resolver" did resolver --ledger "$LURL" --log-key "$LKEY"
taken "pharmacy serve" pharmacy serve --dir ph --store owner.db --ledger "$LURL" --log-key "$LKEY"
taken "issuer serve" issuer serve --dir soc --store owner.db --directory directory.json --ledger "$LURL" --log-key "$LKEY"
taken "ledger witness" ledger witness --db w.db --key-file w.key --log "$LKEY"
finish
