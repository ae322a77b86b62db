#!/usr/bin/env bash
# End-to-end test of the `medallion wallet` key-store commands (issue 2, "Encrypted key store"
# and "CLI"), in the style of contract_test.sh:
#
#   bash tests/cli/wallet_cli_test.sh <path-to-medallion>
#
# init (0600 store, mnemonic on stdout / --mnemonic-out 0600, --json shape), show from the store
# = show from the mnemonic, restore, no overwrite of an existing store (exit 2), wrong passphrase
# (exit 1, file byte-identical), sign --store --purpose assertion checked by verify against the
# key that show publishes, SLIP-39 split/combine (one group, two groups, share passphrase),
# passwd, a store readable by others refused, garbage and tampered stores refused, and the seed,
# entropy, mnemonic and passphrase never in the store files. Every key store uses --kdf test.
# Passphrases come from --passphrase-file and from $MEDALLION_PASSPHRASE; commands run without a
# controlling terminal (setsid) so that a missing passphrase fails instead of prompting.
# The sqlite3 shell, when installed, is used only to tamper with stores and read back ciphertext.
# The last line is exactly "N passed, M failed"; exit code non-zero on failure.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 <path-to-medallion>" >&2
  echo "0 passed, 1 failed"
  exit 2
fi
BIN=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VECTORS=$HERE/../vectors
if [[ ! -x $BIN ]]; then
  echo "medallion binary not found or not executable: $BIN"
  echo "0 passed, 1 failed"
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/medallion-wallet-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
umask 022 # so that "created 0600" is the CLI's doing, not the umask's
unset MEDALLION_PASSPHRASE MEDALLION_NEW_PASSPHRASE
# --kdf test (the libsodium minimum) is refused unless a test suite asks for it explicitly.
export MEDALLION_ALLOW_TEST_KDF=1

PASSED=0
FAILED=0
OUT='' ERR='' RC=0 LAST_CMD=''

# No controlling terminal for the CLI: a command that would prompt fails instead of hanging.
NOTTY=()
if command -v setsid >/dev/null; then NOTTY=(setsid -w); fi

# run ARGS...: runs the CLI, never aborts the script; sets OUT, ERR, RC.
run() {
  set +e
  OUT=$("${NOTTY[@]}" "$BIN" "$@" 2>"$TMP/stderr" </dev/null)
  RC=$?
  set -e
  ERR=$(<"$TMP/stderr")
  LAST_CMD="medallion $*"
}

# run_env PASSPHRASE ARGS...: run with $MEDALLION_PASSPHRASE set to PASSPHRASE.
run_env() {
  local pass=$1
  shift
  MEDALLION_PASSPHRASE=$pass run "$@"
  LAST_CMD="MEDALLION_PASSPHRASE=... medallion $*"
}

ok() {
  PASSED=$((PASSED + 1))
  echo "ok   - $1"
}

bad() {
  FAILED=$((FAILED + 1))
  echo "FAIL - $1"
  [[ -n ${2:-} ]] && echo "       $2"
  echo "       command: ${LAST_CMD:-}"
  echo "       exit: $RC"
  [[ -n $OUT ]] && echo "       stdout: ${OUT:0:400}"
  [[ -n $ERR ]] && echo "       stderr: ${ERR:0:400}"
  return 0
}

# expect_eq NAME GOT EXPECTED (hex compared case-insensitively)
expect_eq() {
  if [[ ${2,,} == "${3,,}" ]]; then ok "$1"; else bad "$1" "expected '$3', got '$2'"; fi
}

# expect_rc NAME CODE: the last run's exit code
expect_rc() {
  if [[ $RC == "$2" ]]; then ok "$1"; else bad "$1" "expected exit $2"; fi
}

# expect_ok NAME: exit 0 (no output check)
expect_ok() { expect_rc "$1" 0; }

# expect_error NAME CODE REGEX: exit CODE ("nonzero" for any failure) and stderr matching REGEX
# (case-insensitive extended regex), and no secret-looking output on stdout.
expect_error() {
  local name=$1 code=$2 re=$3
  if [[ $code == nonzero && $RC == 0 ]] || [[ $code != nonzero && $RC != "$code" ]]; then
    bad "$name" "expected exit $code"
  elif ! grep -qiE -- "$re" <<<"$ERR"; then
    bad "$name" "stderr does not match /$re/"
  elif [[ -n $OUT ]]; then
    bad "$name" "expected nothing on stdout"
  else
    ok "$name"
  fi
}

# jfield NAME: the string value of "NAME" in the JSON on stdin (first occurrence, strings only).
jfield() {
  sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1
}

# purpose_key PURPOSE: the public_key of the entry of `show --json` (stdin, pretty-printed) whose
# purpose is PURPOSE.
purpose_key() {
  awk -v want="$1" '
    /^[[:space:]]*\{[[:space:]]*$/ { pk = ""; p = "" }
    /"public_key"[[:space:]]*:/ { v = $0; sub(/.*"public_key"[[:space:]]*:[[:space:]]*"/, "", v); sub(/".*/, "", v); pk = v }
    /"purpose"[[:space:]]*:/ { v = $0; sub(/.*"purpose"[[:space:]]*:[[:space:]]*"/, "", v); sub(/".*/, "", v); p = v }
    /^[[:space:]]*\}/ { if (p == want && pk != "") { print pk; exit } pk = ""; p = "" }
  '
}

is_hex() { [[ $1 =~ ^[0-9a-fA-F]+$ ]] && (( ${#1} % 2 == 0 )); }

mode_of() { stat -c '%a' "$1"; }
digest_of() { { sha256sum "$1" 2>/dev/null || echo missing; } | cut -d' ' -f1; }
# count_files DIR GLOB: how many files in DIR match GLOB (0 if DIR does not exist).
count_files() { { find "$1" -name "$2" 2>/dev/null || true; } | wc -l; }

# expect_mode NAME FILE MODE
expect_mode() {
  local m
  m=$(mode_of "$2" 2>/dev/null || echo missing)
  if [[ $m == "$3" ]]; then ok "$1"; else bad "$1" "$2 has mode $m, expected $3"; fi
}

# expect_unchanged NAME FILE DIGEST: FILE still has sha256 DIGEST.
expect_unchanged() {
  local d
  d=$(digest_of "$2" 2>/dev/null || echo missing)
  if [[ $d == "$3" ]]; then ok "$1"; else bad "$1" "$2 changed (sha256 $3 -> $d)"; fi
}

# BIP-39 entropy of the mnemonic in FILE, decoded here from the official English wordlist
# (independent of the CLI; cross-checked below with `wallet mnemonic --entropy`).
declare -A WORD_INDEX=()
i=0
while IFS= read -r w; do
  WORD_INDEX[$w]=$i
  i=$((i + 1))
done <"$VECTORS/bip39/english.txt"
mnemonic_entropy() {
  local words w idx b n ent i bits='' hex=''
  read -ra words <"$1"
  for w in "${words[@]}"; do
    idx=${WORD_INDEX[$w]:-}
    [[ -n $idx ]] || return 1
    for ((b = 10; b >= 0; b--)); do bits+=$(((idx >> b) & 1)); done
  done
  n=${#words[@]}
  ent=$((n * 11 * 32 / 33))
  for ((i = 0; i < ent; i += 4)); do hex+=$(printf '%x' $((2#${bits:i:4}))); done
  printf '%s\n' "$hex"
}

# store_files DB: the database and whichever of its -wal / -shm / -journal files exist.
store_files() {
  local f
  for f in "$1" "$1-wal" "$1-shm" "$1-journal"; do [[ -e $f ]] && printf '%s\n' "$f"; done
  return 0
}

# hex_found HEX DB: where the bytes HEX appear raw or as hex text (either case) in DB or its
# -wal/-shm/-journal files; prints nothing if nowhere.
hex_found() {
  local needle=${1,,} f dump
  while IFS= read -r f; do
    dump=$(xxd -p "$f" | tr -d '\n')
    [[ $dump == *"$needle"* ]] && printf ' %s (raw bytes)' "$(basename "$f")"
    grep -aqiF -- "$needle" "$f" && printf ' %s (hex text)' "$(basename "$f")"
  done < <(store_files "$2")
  return 0
}

# expect_hex_absent NAME HEX DB: the bytes HEX appear neither raw nor as hex text in DB's files.
expect_hex_absent() {
  local found
  if [[ -z $2 ]]; then bad "$1" "no secret to look for"; return 0; fi
  found=$(hex_found "$2" "$3")
  if [[ -z $found ]]; then ok "$1"; else bad "$1" "found in:$found"; fi
}

# expect_text_absent NAME TEXT DB: TEXT does not appear in DB or its -wal/-shm/-journal files.
expect_text_absent() {
  local name=$1 needle=$2 db=$3 f found=''
  while IFS= read -r f; do
    grep -aqF -- "$needle" "$f" && found+=" $(basename "$f")"
  done < <(store_files "$db")
  if [[ -z $found ]]; then ok "$name"; else bad "$name" "found in:$found"; fi
}

# ------------------------------------------------------------------------------------------------
# Passphrases.

PASS1='Medallion store passphrase #1 (file)'
PASS_ENV='Medallion store passphrase #2 (env)'
PASS_NEW='Medallion store passphrase #3 (passwd)'
BIP39_PASS='Medallion BIP-39 passphrase'
printf '%s\n' "$PASS1" >"$TMP/pass1.txt"
printf '%s\n' "$PASS_NEW" >"$TMP/pass-new.txt"
printf 'not the passphrase\n' >"$TMP/wrong.txt"
printf '\n' >"$TMP/empty.txt"
printf '%s\n' "$BIP39_PASS" >"$TMP/bip39-pass.txt"
printf 'Medallion message signed with the assertion key\n' >"$TMP/msg.bin"
printf 'Medallion message signed with the assertion key!\n' >"$TMP/msg-tampered.bin"

# ------------------------------------------------------------------------------------------------
# wallet init: passphrase from a file, mnemonic in the JSON output.

S1=$TMP/s1.db
run wallet init --store "$S1" --kdf test --passphrase-file "$TMP/pass1.txt" --json
M1_WORDS=$(jfield mnemonic <<<"$OUT")
if [[ $RC == 0 ]]; then ok "init --passphrase-file --json exits 0"; else bad "init --passphrase-file --json exits 0"; fi
expect_eq "init --json: \"store\" is the store path" "$(jfield store <<<"$OUT")" "$S1"
if [[ $(wc -w <<<"$M1_WORDS") == 24 ]]; then ok "init --json: \"mnemonic\" has 24 words (the default)"
else bad "init --json: \"mnemonic\" has 24 words (the default)"; fi
if grep -qE '^[[:space:]]*[{}]' <<<"$OUT" && [[ $(grep -c '":' <<<"$OUT") == 2 ]]; then ok "init --json: an object with exactly \"store\" and \"mnemonic\""
else bad "init --json: an object with exactly \"store\" and \"mnemonic\""; fi
expect_mode "init: store created with mode 0600 (umask 022)" "$S1" 600
M1=$TMP/m1.txt
printf '%s\n' "$M1_WORDS" >"$M1"
S1_DIGEST=$(digest_of "$S1")

E1=$(mnemonic_entropy "$M1" || true)
run wallet mnemonic --words 24 --entropy "${E1:-00}" --json
expect_eq "init: the printed mnemonic is valid BIP-39 (entropy round trip)" "$(jfield mnemonic <<<"$OUT")" "$M1_WORDS"
run wallet seed --mnemonic-file "$M1" --json
SEED1=$(jfield seed <<<"$OUT")
if [[ $RC == 0 ]] && is_hex "$SEED1" && [[ ${#SEED1} == 128 ]]; then ok "seed of the init mnemonic: 64 bytes"
else bad "seed of the init mnemonic: 64 bytes"; fi

# wallet init: passphrase from $MEDALLION_PASSPHRASE, mnemonic to --mnemonic-out.
S2=$TMP/s2.db
M2=$TMP/m2.txt
run_env "$PASS_ENV" wallet init --store "$S2" --kdf test --mnemonic-out "$M2" --json
expect_ok "init with \$MEDALLION_PASSPHRASE and --mnemonic-out exits 0"
expect_mode "init: store created with mode 0600" "$S2" 600
expect_mode "init: --mnemonic-out file created with mode 0600" "$M2" 600
M2_WORDS=$(cat "$M2" 2>/dev/null || true)
if [[ $(wc -w <<<"$M2_WORDS") == 24 ]]; then ok "--mnemonic-out file holds 24 words"; else bad "--mnemonic-out file holds 24 words"; fi
if [[ -z $(jfield mnemonic <<<"$OUT") && $OUT != *"${M2_WORDS%% *} "* ]]; then ok "init --mnemonic-out --json: no mnemonic on stdout"
else bad "init --mnemonic-out --json: no mnemonic on stdout"; fi
expect_eq "init --mnemonic-out --json: \"store\"" "$(jfield store <<<"$OUT")" "$S2"
if [[ $M2_WORDS != "$M1_WORDS" ]]; then ok "two inits give different mnemonics"; else bad "two inits give different mnemonics"; fi

# Everything below needs these two wallets.
if [[ ! -s $S1 || ! -s $S2 || -z $M1_WORDS || -z $M2_WORDS ]]; then
  echo "cannot continue without the two wallets from wallet init"
  echo "$PASSED passed, $((FAILED + 1)) failed"
  exit 1
fi

# wallet init: text output, --words 12.
S3=$TMP/s3.db
run wallet init --store "$S3" --kdf test --passphrase-file "$TMP/pass1.txt" --words 12
m3=$(grep -E '^[a-z]+( [a-z]+){11}$' <<<"$OUT" || true)
if [[ $RC == 0 && -n $m3 ]]; then ok "init --words 12 (text): prints a 12-word mnemonic"; else bad "init --words 12 (text): prints a 12-word mnemonic"; fi
if [[ $OUT == *"$S3"* ]]; then ok "init (text): names the store it created"; else bad "init (text): names the store it created"; fi

run wallet init --store "$TMP/s-bad-words.db" --kdf test --passphrase-file "$TMP/pass1.txt" --words 13
if [[ $RC != 0 && ! -e $TMP/s-bad-words.db ]]; then ok "init --words 13 is refused and creates nothing"; else bad "init --words 13 is refused and creates nothing"; fi
run wallet init --store "$TMP/s-bad-kdf.db" --kdf fast --passphrase-file "$TMP/pass1.txt"
if [[ $RC == 2 && ! -e $TMP/s-bad-kdf.db ]]; then ok "init --kdf fast is refused (exit 2) and creates nothing"; else bad "init --kdf fast is refused (exit 2) and creates nothing"; fi
run wallet init --store "$TMP/s-empty-pass.db" --kdf test --passphrase-file "$TMP/empty.txt"
if [[ $RC == 2 && ! -e $TMP/s-empty-pass.db ]]; then ok "init with an empty passphrase is refused (exit 2) and creates nothing"
else bad "init with an empty passphrase is refused (exit 2) and creates nothing"; fi
run wallet init --store "$TMP/s-no-pass.db" --kdf test
if [[ $RC == 2 && -n $ERR && ! -e $TMP/s-no-pass.db ]]; then ok "init without any passphrase source or terminal: error, exit 2, nothing created"
else bad "init without any passphrase source or terminal: error, exit 2, nothing created"; fi
# The mnemonic is the only backup: if it cannot be written, no store may be left behind with
# words the user never saw.
run wallet init --store "$TMP/s-lost.db" --kdf test --passphrase-file "$TMP/pass1.txt" --mnemonic-out "$TMP/no-such-dir/m.txt"
if [[ $RC != 0 && ! -e $TMP/s-lost.db ]]; then ok "init with an unwritable --mnemonic-out fails and leaves no store"
elif [[ $RC == 0 ]]; then bad "init with an unwritable --mnemonic-out fails and leaves no store" "exit 0"
else bad "init with an unwritable --mnemonic-out fails and leaves no store" "$TMP/s-lost.db was left behind; its mnemonic was never shown"; fi

# A store path that is not UTF-8 (legal on Linux): either a store and its mnemonic, or neither.
U=$TMP/$'latin1-\xe9.db'
run wallet init --store "$U" --kdf test --passphrase-file "$TMP/pass1.txt" --json
u_words=$(jfield mnemonic <<<"$OUT")
if [[ $RC == 0 && $(wc -w <<<"$u_words") == 24 && -e $U ]]; then ok "init --json with a non-UTF-8 store path: store created and mnemonic printed"
elif [[ ($RC == 1 || $RC == 2) && ! -e $U ]]; then ok "init --json with a non-UTF-8 store path: refused, no store left"
elif [[ -e $U ]]; then bad "init --json with a non-UTF-8 store path: store created and mnemonic printed" "the store exists but no mnemonic was printed (exit $RC)"
else bad "init --json with a non-UTF-8 store path: store created and mnemonic printed"; fi

# ------------------------------------------------------------------------------------------------
# wallet show: the store and the mnemonic give the same identity.

run wallet show --store "$S1" --passphrase-file "$TMP/pass1.txt" --json
SHOW1=$OUT
expect_ok "show --store --passphrase-file --json exits 0"
run wallet show --mnemonic-file "$M1" --json
expect_ok "show --mnemonic-file --json exits 0"
if [[ -n $SHOW1 && $SHOW1 == "$OUT" ]]; then ok "show --json: store and mnemonic file give the same DIDs and keys"
else bad "show --json: store and mnemonic file give the same DIDs and keys" "store: ${SHOW1:0:300}"; fi
DID_ED=$(jfield ed25519 <<<"$SHOW1")
DID_SECP=$(jfield secp256k1 <<<"$SHOW1")
if [[ $DID_ED == did:key:z6Mk* && $DID_SECP == did:key:zQ3s* ]]; then ok "show --json: dids.ed25519 is did:key:z6Mk..., dids.secp256k1 is did:key:zQ3s..."
else bad "show --json: dids.ed25519 is did:key:z6Mk..., dids.secp256k1 is did:key:zQ3s..." "got '$DID_ED' and '$DID_SECP'"; fi
n_ok=0
for p in authentication assertion key-agreement did-update recovery es256k; do
  k=$(purpose_key "$p" <<<"$SHOW1")
  if is_hex "$k" && [[ ${#k} == 64 || ${#k} == 66 ]]; then n_ok=$((n_ok + 1)); fi
done
if [[ $n_ok == 6 ]]; then ok "show --json: a public key for each of the six purposes"; else bad "show --json: a public key for each of the six purposes" "$n_ok of 6"; fi
ASSERT_PUB=$(purpose_key assertion <<<"$SHOW1")
AUTH_PUB=$(purpose_key authentication <<<"$SHOW1")
ES256K_PUB=$(purpose_key es256k <<<"$SHOW1")
run wallet derive --mnemonic-file "$M1" --curve ed25519 --path "m/5063756'/0'/0'/0'" --json
AUTH_PRIV=$(jfield private_key <<<"$OUT")
expect_eq "show: the authentication key is m/5063756'/0'/0'/0' (docs/wallet.md)" "$(jfield public_key <<<"$OUT")" "$AUTH_PUB"

run_env "$PASS1" wallet show --store "$S1" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "show --store with \$MEDALLION_PASSPHRASE: same output"; else bad "show --store with \$MEDALLION_PASSPHRASE: same output"; fi
run_env "not the passphrase" wallet show --store "$S1" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "--passphrase-file wins over \$MEDALLION_PASSPHRASE"; else bad "--passphrase-file wins over \$MEDALLION_PASSPHRASE"; fi
run wallet show --store "$S1" --passphrase-file "$TMP/pass1.txt"
if [[ $RC == 0 && $OUT == *"$DID_ED"* && $OUT == *"$DID_SECP"* ]]; then ok "show (text) lists both DIDs"; else bad "show (text) lists both DIDs"; fi
run wallet show --store "$S1" --json
expect_error "show without any passphrase source or terminal: clear error, exit 2" 2 "passphrase|terminal"

run_env "$PASS_ENV" wallet show --store "$S2" --json
SHOW2=$OUT
run wallet show --mnemonic-file "$M2" --json
if [[ -n $SHOW2 && $SHOW2 == "$OUT" ]]; then ok "show --json (store from \$MEDALLION_PASSPHRASE, --mnemonic-out) = show --mnemonic-file"
else bad "show --json (store from \$MEDALLION_PASSPHRASE, --mnemonic-out) = show --mnemonic-file"; fi
if [[ $SHOW2 != "$SHOW1" ]]; then ok "different wallets have different DIDs"; else bad "different wallets have different DIDs"; fi

# ------------------------------------------------------------------------------------------------
# wallet restore, and no overwriting of an existing store.

R1=$TMP/r1.db
run wallet restore --store "$R1" --mnemonic-file "$M1" --kdf test --passphrase-file "$TMP/pass-new.txt"
expect_ok "restore --mnemonic-file exits 0"
expect_mode "restore: store created with mode 0600" "$R1" 600
run wallet show --store "$R1" --passphrase-file "$TMP/pass-new.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "restore: show --json equals the original store's"; else bad "restore: show --json equals the original store's"; fi
R2=$TMP/r2.db
run_env "$PASS_ENV" wallet restore --store "$R2" --mnemonic-file "$M2" --kdf test
run_env "$PASS_ENV" wallet show --store "$R2" --json
if [[ $OUT == "$SHOW2" ]]; then ok "restore with \$MEDALLION_PASSPHRASE: same show --json"; else bad "restore with \$MEDALLION_PASSPHRASE: same show --json"; fi

run wallet init --store "$S1" --kdf test --passphrase-file "$TMP/pass-new.txt" --json
expect_error "init over an existing store: refused, exit 2" 2 "exist"
expect_unchanged "init over an existing store: store byte-identical" "$S1" "$S1_DIGEST"
run wallet restore --store "$S1" --mnemonic-file "$M2" --kdf test --passphrase-file "$TMP/pass-new.txt"
expect_error "restore over an existing store: refused, exit 2" 2 "exist"
expect_unchanged "restore over an existing store: store byte-identical" "$S1" "$S1_DIGEST"
run wallet show --store "$S1" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "after the refused overwrites the store still opens with its passphrase"; else bad "after the refused overwrites the store still opens with its passphrase"; fi
printf 'not a mnemonic at all\n' >"$TMP/not-mnemonic.txt"
run wallet restore --store "$TMP/r-bad.db" --mnemonic-file "$TMP/not-mnemonic.txt" --kdf test --passphrase-file "$TMP/pass1.txt"
if [[ $RC == 2 && ! -e $TMP/r-bad.db ]]; then ok "restore from an invalid mnemonic: exit 2, nothing created"; else bad "restore from an invalid mnemonic: exit 2, nothing created"; fi

# ------------------------------------------------------------------------------------------------
# Wrong passphrase: exit 1, nothing changes.

run wallet show --store "$S1" --passphrase-file "$TMP/wrong.txt" --json
expect_error "show with a wrong passphrase file: exit 1, clear message" 1 "passphrase"
run_env "not the passphrase" wallet show --store "$S1" --json
expect_error "show with a wrong \$MEDALLION_PASSPHRASE: exit 1, clear message" 1 "passphrase"
run wallet show --store "$S1" --passphrase-file "$TMP/empty.txt" --json
expect_rc "show with an empty passphrase: exit 1" 1
run wallet sign --alg EdDSA --store "$S1" --passphrase-file "$TMP/wrong.txt" --purpose assertion --in "$TMP/msg.bin"
expect_error "sign --store with a wrong passphrase: exit 1, no signature" 1 "passphrase"
run wallet split --store "$S1" --passphrase-file "$TMP/wrong.txt" --groups 2of3
expect_error "split --store with a wrong passphrase: exit 1, no shares" 1 "passphrase"
if [[ $ERR != *"$PASS1"* && $ERR != *"not the passphrase"* ]]; then ok "error messages do not echo passphrases"; else bad "error messages do not echo passphrases"; fi
expect_unchanged "wrong passphrases leave the store byte-identical" "$S1" "$S1_DIGEST"
run wallet show --store "$S1" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "after wrong passphrases the store still opens with the right one"; else bad "after wrong passphrases the store still opens with the right one"; fi

# ------------------------------------------------------------------------------------------------
# sign --store --purpose assertion, verified with the key show publishes.

run wallet sign --alg EdDSA --store "$S1" --passphrase-file "$TMP/pass1.txt" --purpose assertion --in "$TMP/msg.bin" --json
SIG=$(jfield signature <<<"$OUT")
if [[ $RC == 0 ]] && is_hex "$SIG" && [[ ${#SIG} == 128 ]]; then ok "sign --store --purpose assertion --json: 64-byte signature"
else bad "sign --store --purpose assertion --json: 64-byte signature"; fi
expect_eq "sign --json: public_key is show's assertion key" "$(jfield public_key <<<"$OUT")" "$ASSERT_PUB"
expect_eq "sign --json: alg" "$(jfield alg <<<"$OUT")" EdDSA
run wallet verify --alg EdDSA --public-key "${ASSERT_PUB:-00}" --in "$TMP/msg.bin" --signature "${SIG:-00}"
expect_rc "verify with show's assertion key accepts it (exit 0)" 0
run wallet verify --alg EdDSA --public-key "${AUTH_PUB:-00}" --in "$TMP/msg.bin" --signature "${SIG:-00}"
expect_rc "verify with show's authentication key rejects it (exit 1)" 1
run wallet verify --alg EdDSA --public-key "${ASSERT_PUB:-00}" --in "$TMP/msg-tampered.bin" --signature "${SIG:-00}"
expect_rc "verify of a tampered message rejects it (exit 1)" 1
run_env "$PASS1" wallet sign --alg EdDSA --store "$S1" --purpose assertion --in "$TMP/msg.bin"
expect_eq "sign --store with \$MEDALLION_PASSPHRASE (text): the same signature" "$(tr -d '[:space:]' <<<"$OUT")" "$SIG"
run wallet sign --alg EdDSA --mnemonic-file "$M1" --purpose assertion --in "$TMP/msg.bin"
expect_eq "sign --mnemonic-file --purpose assertion: the same signature" "$(tr -d '[:space:]' <<<"$OUT")" "$SIG"
run wallet sign --alg EdDSA --store "$R1" --passphrase-file "$TMP/pass-new.txt" --purpose assertion --in "$TMP/msg.bin"
expect_eq "sign with the restored store: the same signature" "$(tr -d '[:space:]' <<<"$OUT")" "$SIG"

run wallet sign --alg ES256K --store "$S1" --passphrase-file "$TMP/pass1.txt" --purpose es256k --in "$TMP/msg.bin" --json
ES_SIG=$(jfield signature <<<"$OUT")
expect_eq "sign --purpose es256k --alg ES256K: public_key is show's es256k key" "$(jfield public_key <<<"$OUT")" "$ES256K_PUB"
run wallet verify --alg ES256K --public-key "${ES256K_PUB:-00}" --in "$TMP/msg.bin" --signature "${ES_SIG:-00}"
expect_rc "verify ES256K with show's es256k key (exit 0)" 0

# A purpose key has one curve: signing "as the assertion key" with another algorithm must not
# quietly use a key that show never published.
ALL_KEYS=$(sed -n 's/.*"public_key"[[:space:]]*:[[:space:]]*"\([0-9a-fA-F]*\)".*/\1/p' <<<"$SHOW1")
for combo in "assertion ES256K" "es256k EdDSA" "key-agreement EdDSA"; do
  read -r p a <<<"$combo"
  run wallet sign --alg "$a" --store "$S1" --passphrase-file "$TMP/pass1.txt" --purpose "$p" --in "$TMP/msg.bin" --json
  pk=$(jfield public_key <<<"$OUT")
  name="sign --purpose $p --alg $a: refused (exit 2) or signs with a key show publishes"
  if [[ $RC == 2 ]]; then ok "$name"
  elif [[ $RC == 0 && -n $pk ]] && grep -qixF -- "$pk" <<<"$ALL_KEYS"; then ok "$name"
  else bad "$name" "signed with $pk, which is not among show's keys"; fi
done
mkdir -p "$TMP/a-directory"
run wallet sign --alg EdDSA --store "$S1" --passphrase-file "$TMP/pass1.txt" --purpose assertion --in "$TMP/a-directory"
expect_error "sign --in a directory: refused (exit 2), no signature of an empty message" 2 "a-directory|directory|cannot read"
run wallet sign --alg EdDSA --store "$S1" --passphrase-file "$TMP/pass1.txt" --purpose nonsense --in "$TMP/msg.bin"
expect_rc "sign --purpose nonsense: exit 2" 2
run wallet sign --alg EdDSA --store "$S1" --passphrase-file "$TMP/pass1.txt" --in "$TMP/msg.bin"
expect_rc "sign --store without --purpose or --path: exit 2" 2
run wallet sign --alg EdDSA --store "$S1" --mnemonic-file "$M1" --purpose assertion --in "$TMP/msg.bin"
expect_rc "sign with both --store and --mnemonic-file: exit 2" 2

# ------------------------------------------------------------------------------------------------
# SLIP-39: split --groups 2of3, combine.

SH=$TMP/shares
run wallet split --store "$S1" --passphrase-file "$TMP/pass1.txt" --groups 2of3 --out-dir "$SH" --json
expect_ok "split --store --groups 2of3 --out-dir exits 0"
n=$(count_files "$SH" 'share-1-*.txt')
expect_eq "split 2of3: three share files" "$n" 3
modes=$({ stat -c '%a' "$SH"/share-*.txt 2>/dev/null || true; } | sort -u | tr '\n' ' ')
expect_eq "split: share files have mode 0600" "$modes" "600 "
if [[ $(wc -w <"$SH/share-1-1.txt") == 33 ]]; then ok "split: a share of 256-bit entropy has 33 words"; else bad "split: a share of 256-bit entropy has 33 words"; fi

run wallet combine --share-file "$SH/share-1-1.txt" --share-file "$SH/share-1-3.txt" --json
expect_eq "combine shares 1 and 3 --json: the original mnemonic" "$(jfield mnemonic <<<"$OUT")" "$M1_WORDS"
run wallet combine --share-file "$SH/share-1-3.txt" --share-file "$SH/share-1-2.txt"
expect_eq "combine shares 3 and 2 (text): the original mnemonic" "$OUT" "$M1_WORDS"
run wallet combine --share-file "$SH/share-1-2.txt" --share-file "$SH/share-1-1.txt" --mnemonic-out "$TMP/m1-combined.txt"
if [[ $RC == 0 && $(<"$TMP/m1-combined.txt") == "$M1_WORDS" && $OUT != *"$M1_WORDS"* ]]; then ok "combine --mnemonic-out: the mnemonic in the file, not on stdout"
else bad "combine --mnemonic-out: the mnemonic in the file, not on stdout"; fi
expect_mode "combine --mnemonic-out: file mode 0600" "$TMP/m1-combined.txt" 600

C1=$TMP/c1.db
run_env "$PASS_ENV" wallet combine --share-file "$SH/share-1-1.txt" --share-file "$SH/share-1-2.txt" --store "$C1" --kdf test
expect_ok "combine --store exits 0"
expect_mode "combine --store: store mode 0600" "$C1" 600
if [[ $OUT != *"${M1_WORDS%% *} "* ]]; then ok "combine --store: no mnemonic on stdout"; else bad "combine --store: no mnemonic on stdout"; fi
run_env "$PASS_ENV" wallet show --store "$C1" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "combine --store: the same DIDs and keys as the original"; else bad "combine --store: the same DIDs and keys as the original"; fi
run_env "$PASS_ENV" wallet combine --share-file "$SH/share-1-1.txt" --share-file "$SH/share-1-2.txt" --store "$C1" --kdf test
expect_error "combine --store over an existing store: refused, exit 2" 2 "exist"

run wallet combine --share-file "$SH/share-1-1.txt"
expect_error "combine with 1 of 2 needed shares: fails with a message" nonzero "share"
run wallet combine --share-file "$SH/share-1-2.txt" --share-file "$SH/share-1-2.txt"
expect_error "combine with the same share twice: fails" nonzero "share|member|duplicate"
run wallet combine --share-file "$SH/share-1-1.txt" --store "$TMP/c-one.db" --passphrase-file "$TMP/pass1.txt" --kdf test
if [[ $RC != 0 && ! -e $TMP/c-one.db ]]; then ok "combine --store with 1 share: fails, no store created"; else bad "combine --store with 1 share: fails, no store created"; fi
# One word of a share changed: the RS1024 checksum must catch it.
sw=()
read -ra sw <"$SH/share-1-3.txt" || true
if [[ ${sw[5]:-} == academic ]]; then sw[5]=acid; else sw[5]=academic; fi
printf '%s\n' "${sw[*]}" >"$TMP/share-corrupt.txt"
run wallet combine --share-file "$SH/share-1-1.txt" --share-file "$TMP/share-corrupt.txt"
expect_error "combine with a corrupted share word: fails (checksum)" nonzero "checksum|invalid|share"
run wallet combine --share-file "$SH/share-1-1.txt" --share-file "$TMP/no-such-share.txt"
expect_error "combine with a missing share file: exit 2, names the file" 2 "no-such-share|no such file"

# Shares from the mnemonic file are interchangeable with shares from the store (same secret).
run wallet split --mnemonic-file "$M1" --groups 2of3 --json
first=$(sed -n 's/^[[:space:]]*"\([a-z][a-z ]*\)",\{0,1\}$/\1/p' <<<"$OUT" | head -n 1)
printf '%s\n' "$first" >"$TMP/share-from-mnemonic.txt"
run wallet combine --share-file "$TMP/share-from-mnemonic.txt" --share-file "$SH/share-1-2.txt"
if [[ $RC != 0 ]]; then ok "shares of two different splits do not combine"; else bad "shares of two different splits do not combine" "expected a failure (different identifiers)"; fi

# Shares protected by a SLIP-39 passphrase.
SHP=$TMP/shares-pass
printf 'TREZOR\n' >"$TMP/share-pass.txt"
printf 'NOT TREZOR\n' >"$TMP/share-pass-wrong.txt"
run_env "$PASS1" wallet split --store "$S1" --groups 2of3 --share-passphrase-file "$TMP/share-pass.txt" --out-dir "$SHP"
expect_ok "split --share-passphrase-file exits 0"
run wallet combine --share-file "$SHP/share-1-1.txt" --share-file "$SHP/share-1-3.txt" --share-passphrase-file "$TMP/share-pass.txt" --json
expect_eq "combine with the share passphrase: the original mnemonic" "$(jfield mnemonic <<<"$OUT")" "$M1_WORDS"
run wallet combine --share-file "$SHP/share-1-1.txt" --share-file "$SHP/share-1-3.txt" --json
m=$(jfield mnemonic <<<"$OUT")
if [[ $m != "$M1_WORDS" ]]; then ok "combine without the share passphrase: not the original mnemonic"; else bad "combine without the share passphrase: not the original mnemonic"; fi
run wallet combine --share-file "$SHP/share-1-1.txt" --share-file "$SHP/share-1-3.txt" --share-passphrase-file "$TMP/share-pass-wrong.txt" --json
m=$(jfield mnemonic <<<"$OUT")
if [[ $m != "$M1_WORDS" ]]; then ok "combine with a wrong share passphrase: not the original mnemonic"; else bad "combine with a wrong share passphrase: not the original mnemonic"; fi
C2=$TMP/c2.db
run wallet combine --share-file "$SHP/share-1-2.txt" --share-file "$SHP/share-1-3.txt" --share-passphrase-file "$TMP/share-pass.txt" \
  --store "$C2" --passphrase-file "$TMP/pass1.txt" --kdf test
run wallet show --store "$C2" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "combine --store with the share passphrase: the same DIDs"; else bad "combine --store with the share passphrase: the same DIDs"; fi

# Two groups: --groups 2of3 --groups 3of5 --group-threshold 2.
SHG=$TMP/shares-groups
run_env "$PASS_ENV" wallet split --store "$S2" --groups 2of3 --groups 3of5 --group-threshold 2 --out-dir "$SHG" --json
expect_ok "split --groups 2of3 --groups 3of5 --group-threshold 2 exits 0"
expect_eq "split --json: group_threshold" "$(sed -n 's/.*"group_threshold"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$OUT")" 2
g1=$(count_files "$SHG" 'share-1-*.txt')
g2=$(count_files "$SHG" 'share-2-*.txt')
if [[ $g1 == 3 && $g2 == 5 ]]; then ok "two groups: 3 and 5 share files"; else bad "two groups: 3 and 5 share files" "got $g1 and $g2"; fi
run wallet combine --share-file "$SHG/share-1-1.txt" --share-file "$SHG/share-1-3.txt" \
  --share-file "$SHG/share-2-2.txt" --share-file "$SHG/share-2-4.txt" --share-file "$SHG/share-2-5.txt" --json
expect_eq "two groups: 2 of group 1 + 3 of group 2 give the mnemonic" "$(jfield mnemonic <<<"$OUT")" "$M2_WORDS"
run wallet combine --share-file "$SHG/share-2-5.txt" --share-file "$SHG/share-1-2.txt" \
  --share-file "$SHG/share-2-1.txt" --share-file "$SHG/share-1-3.txt" --share-file "$SHG/share-2-3.txt" --json
expect_eq "two groups: shares in any order" "$(jfield mnemonic <<<"$OUT")" "$M2_WORDS"
run wallet combine --share-file "$SHG/share-1-1.txt" --share-file "$SHG/share-1-2.txt" \
  --share-file "$SHG/share-2-1.txt" --share-file "$SHG/share-2-2.txt" --json
expect_error "two groups: 2 + 2 (group 2 short of its threshold) fails" nonzero "share|group"
run wallet combine --share-file "$SHG/share-1-1.txt" --share-file "$SHG/share-1-2.txt" --share-file "$SHG/share-1-3.txt" --json
expect_error "two groups: all of group 1 alone (1 of 2 groups) fails" nonzero "share|group"
C3=$TMP/c3.db
run wallet combine --share-file "$SHG/share-1-1.txt" --share-file "$SHG/share-1-2.txt" \
  --share-file "$SHG/share-2-1.txt" --share-file "$SHG/share-2-2.txt" --share-file "$SHG/share-2-3.txt" \
  --store "$C3" --passphrase-file "$TMP/pass1.txt" --kdf test
run wallet show --store "$C3" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW2" ]]; then ok "two groups: combine --store gives the same DIDs"; else bad "two groups: combine --store gives the same DIDs"; fi

run_env "$PASS_ENV" wallet split --store "$S2" --groups 2of3 --groups 3of5 --group-threshold 3
if [[ $RC != 0 && -n $ERR ]]; then ok "split --group-threshold 3 with 2 groups: refused with a message"; else bad "split --group-threshold 3 with 2 groups: refused with a message"; fi
for gt in 0 257; do
  rm -rf "$TMP/shares-gt"
  run_env "$PASS_ENV" wallet split --store "$S2" --groups 2of3 --groups 3of5 --group-threshold "$gt" --out-dir "$TMP/shares-gt"
  n=$(count_files "$TMP/shares-gt" 'share-*')
  if [[ $RC == 2 && $n == 0 ]]; then ok "split --group-threshold $gt: refused (exit 2), no shares written"
  else bad "split --group-threshold $gt: refused (exit 2), no shares written" "$n share files written"; fi
done
: >"$TMP/a-file"
run_env "$PASS_ENV" wallet split --store "$S2" --groups 2of3 --out-dir "$TMP/a-file/shares"
if [[ ($RC == 1 || $RC == 2) && -n $ERR ]]; then ok "split --out-dir that cannot be created: an error (exit 1 or 2), not a crash"
else bad "split --out-dir that cannot be created: an error (exit 1 or 2), not a crash"; fi
for g in 4of3 0of3 2of17 2-3 2of3x; do
  run_env "$PASS_ENV" wallet split --store "$S2" --groups "$g"
  expect_rc "split --groups $g: refused (exit 2)" 2
done

# ------------------------------------------------------------------------------------------------
# wallet passwd.

P=$TMP/p.db
cp "$S1" "$P"
chmod 600 "$P"
P_DIGEST=$(digest_of "$P")
run wallet passwd --store "$P" --passphrase-file "$TMP/wrong.txt" --new-passphrase-file "$TMP/pass-new.txt" --kdf test
expect_error "passwd with a wrong old passphrase: exit 1, clear message" 1 "passphrase"
expect_unchanged "passwd with a wrong old passphrase: store byte-identical" "$P" "$P_DIGEST"
run wallet passwd --store "$P" --passphrase-file "$TMP/pass1.txt" --new-passphrase-file "$TMP/empty.txt" --kdf test
if [[ $RC == 2 ]]; then ok "passwd to an empty passphrase: refused (exit 2)"; else bad "passwd to an empty passphrase: refused (exit 2)"; fi
expect_unchanged "passwd to an empty passphrase: store byte-identical" "$P" "$P_DIGEST"
run wallet show --store "$P" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "after the failed passwd attempts the old passphrase still works"; else bad "after the failed passwd attempts the old passphrase still works"; fi

OLD_CT=''
if command -v sqlite3 >/dev/null; then OLD_CT=$(sqlite3 "$P" "SELECT hex(ciphertext) FROM sealed_secrets" 2>/dev/null || true); fi
run wallet passwd --store "$P" --passphrase-file "$TMP/pass1.txt" --new-passphrase-file "$TMP/pass-new.txt" --kdf test
expect_ok "passwd --passphrase-file --new-passphrase-file exits 0"
expect_mode "passwd: store keeps mode 0600" "$P" 600
run wallet show --store "$P" --passphrase-file "$TMP/pass1.txt" --json
expect_error "passwd: the old passphrase no longer opens the store (exit 1)" 1 "passphrase"
run wallet show --store "$P" --passphrase-file "$TMP/pass-new.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "passwd: the new passphrase opens the store, same identity"; else bad "passwd: the new passphrase opens the store, same identity"; fi
if [[ -n $OLD_CT ]]; then
  expect_hex_absent "passwd: the record sealed under the old passphrase is gone from the files" "$OLD_CT" "$P"
else
  echo "skip - passwd: old sealed record gone (needs the sqlite3 shell)"
fi
P_DIGEST=$(digest_of "$P")
run wallet passwd --store "$P" --passphrase-file "$TMP/pass1.txt" --new-passphrase-file "$TMP/wrong.txt" --kdf test
expect_rc "passwd with the pre-change passphrase as old: exit 1" 1
expect_unchanged "  ... and the store is byte-identical" "$P" "$P_DIGEST"
# Through the environment: MEDALLION_PASSPHRASE (old) and MEDALLION_NEW_PASSPHRASE (new).
MEDALLION_NEW_PASSPHRASE=$PASS_ENV run_env "$PASS_NEW" wallet passwd --store "$P" --kdf test
expect_ok "passwd with \$MEDALLION_PASSPHRASE and \$MEDALLION_NEW_PASSPHRASE exits 0"
run_env "$PASS_ENV" wallet show --store "$P" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "passwd via the environment: the new passphrase works"; else bad "passwd via the environment: the new passphrase works"; fi
run_env "$PASS_NEW" wallet show --store "$P" --json
expect_rc "passwd via the environment: the previous passphrase fails (exit 1)" 1

# ------------------------------------------------------------------------------------------------
# File mode: a store others can read is refused, before any passphrase is used.

for m in 644 640 604; do
  X=$TMP/mode-$m.db
  cp "$S1" "$X"
  chmod "$m" "$X"
  run wallet show --store "$X" --passphrase-file "$TMP/pass1.txt" --json
  expect_error "a store with mode $m is refused with a clear message" nonzero "mode|chmod|permission|readable"
done
X=$TMP/mode-644.db
run wallet sign --alg EdDSA --store "$X" --passphrase-file "$TMP/pass1.txt" --purpose assertion --in "$TMP/msg.bin"
expect_error "sign with a mode-644 store: refused, no signature" nonzero "mode|chmod|permission|readable"
run wallet split --store "$X" --passphrase-file "$TMP/pass1.txt" --groups 2of3
expect_error "split with a mode-644 store: refused, no shares" nonzero "mode|chmod|permission|readable"
run wallet passwd --store "$X" --passphrase-file "$TMP/pass1.txt" --new-passphrase-file "$TMP/pass-new.txt" --kdf test
expect_error "passwd with a mode-644 store: refused" nonzero "mode|chmod|permission|readable"
chmod 600 "$X"
run wallet show --store "$X" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "after chmod 600 the same store opens"; else bad "after chmod 600 the same store opens"; fi
chmod 400 "$X"
run wallet show --store "$X" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW1" ]]; then ok "a read-only (0400) store can be shown"; else bad "a read-only (0400) store can be shown"; fi

# ------------------------------------------------------------------------------------------------
# Garbage and tampered stores: a clear error, a non-zero exit, the file left as it was.

run wallet show --store "$TMP/no-such-store.db" --passphrase-file "$TMP/pass1.txt"
expect_error "a missing store: exit 2, names the file" 2 "no-such-store|does not exist|not found"

G=$TMP/garbage.db
head -c 8192 /dev/urandom >"$G"
chmod 600 "$G"
G_DIGEST=$(digest_of "$G")
run wallet show --store "$G" --passphrase-file "$TMP/pass1.txt" --json
expect_error "a store file of random bytes: clear error, exit != 0" nonzero "not a key store|not a database|corrupt|invalid"
expect_unchanged "a store file of random bytes: left untouched" "$G" "$G_DIGEST"
printf 'SQLite format 3\0 but not really a database\n' >"$TMP/garbage2.db"
chmod 600 "$TMP/garbage2.db"
run wallet show --store "$TMP/garbage2.db" --passphrase-file "$TMP/pass1.txt" --json
expect_error "a store file with a fake SQLite header: clear error, exit != 0" nonzero "not a key store|not a database|corrupt|invalid"
head -c 4096 "$S1" >"$TMP/truncated.db"
chmod 600 "$TMP/truncated.db"
run wallet show --store "$TMP/truncated.db" --passphrase-file "$TMP/pass1.txt" --json
expect_error "a truncated store: clear error, exit != 0" nonzero "not a key store|not a database|corrupt|malformed|missing|tamper"
run wallet passwd --store "$G" --passphrase-file "$TMP/pass1.txt" --new-passphrase-file "$TMP/pass-new.txt" --kdf test
expect_error "passwd on a garbage store: clear error, exit != 0" nonzero "not a key store|not a database"
: >"$TMP/empty.db"
chmod 600 "$TMP/empty.db"
run wallet show --store "$TMP/empty.db" --passphrase-file "$TMP/pass1.txt" --json
expect_error "an empty store file: clear error, exit != 0" nonzero "not a key store"
sz=$(stat -c '%s' "$TMP/empty.db")
if [[ $sz == 0 ]]; then ok "an empty store file is left empty (a refused file is not modified)"
else bad "an empty store file is left empty (a refused file is not modified)" "show turned it into a $sz-byte file"; fi

if command -v sqlite3 >/dev/null; then
  # An unrelated SQLite database must be refused and left exactly as it was.
  F=$TMP/foreign.db
  sqlite3 "$F" "CREATE TABLE notes (x); INSERT INTO notes VALUES ('hello');"
  chmod 600 "$F"
  F_DIGEST=$(digest_of "$F")
  run wallet show --store "$F" --passphrase-file "$TMP/pass1.txt" --json
  expect_error "an unrelated SQLite database: 'not a key store', exit != 0" nonzero "not a key store"
  expect_unchanged "an unrelated SQLite database: left byte-identical (no WAL switch, no tables)" "$F" "$F_DIGEST"

  # Tampering with the sealed record: each edit gives a clear error and exit 1 (a tampered
  # store). A schema newer than this build is refused when the file is opened, before any
  # passphrase is used: unusable input, exit 2 (README, exit codes).
  tamper() { # NAME SQL REGEX [EXIT]
    local T=$TMP/tampered.db code=${4:-1}
    rm -f "$T" "$T-wal" "$T-shm"
    cp "$S1" "$T"
    chmod 600 "$T"
    sqlite3 "$T" "$2"
    run wallet show --store "$T" --passphrase-file "$TMP/pass1.txt" --json
    expect_error "tampered store ($1): clear error, exit $code" "$code" "$3"
  }
  tamper "one ciphertext byte flipped" \
    "UPDATE sealed_secrets SET ciphertext = substr(ciphertext, 1, 10) || CAST(x'ff' AS BLOB) || substr(ciphertext, 12)" "tamper"
  tamper "nonce replaced" "UPDATE sealed_secrets SET nonce = randomblob(24)" "tamper"
  tamper "salt replaced" "UPDATE sealed_secrets SET salt = randomblob(16)" "tamper"
  tamper "opslimit changed (bound in the associated data)" "UPDATE sealed_secrets SET opslimit = opslimit + 1" "tamper"
  tamper "purpose relabelled" "UPDATE sealed_secrets SET purpose = 'something-else'" "tamper"
  tamper "memlimit of 1 TiB" "UPDATE sealed_secrets SET memlimit = 1099511627776" "malformed|bounds|tamper"
  tamper "negative opslimit" "UPDATE sealed_secrets SET opslimit = -1" "malformed|bounds|tamper"
  tamper "format version 2" "UPDATE sealed_secrets SET format_version = 2" "format|version"
  tamper "seed record deleted" "DELETE FROM sealed_secrets" "missing"
  tamper "ciphertext truncated" "UPDATE sealed_secrets SET ciphertext = substr(ciphertext, 1, 8)" "malformed|tamper"
  tamper "schema from the future" "INSERT INTO schema_migrations (version) VALUES (99)" "newer|version" 2
else
  echo "skip - unrelated SQLite database and tampered records (need the sqlite3 shell)"
fi

# ------------------------------------------------------------------------------------------------
# Secrets never in plaintext in the store files.

E2=$(mnemonic_entropy "$M2" || true)
run wallet mnemonic --words 24 --entropy "${E2:-00}" --json
expect_eq "entropy decoded from the --mnemonic-out mnemonic round-trips" "$(jfield mnemonic <<<"$OUT")" "$M2_WORDS"
run wallet seed --mnemonic-file "$M2" --json
SEED2=$(jfield seed <<<"$OUT")

# A known entropy restored, for a check that does not depend on decoding a random mnemonic.
KNOWN_E=7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f8080808080808080808080808080808f
run wallet mnemonic --words 24 --entropy "$KNOWN_E" --json
printf '%s\n' "$(jfield mnemonic <<<"$OUT")" >"$TMP/m-known.txt"
K=$TMP/known.db
run wallet restore --store "$K" --mnemonic-file "$TMP/m-known.txt" --passphrase-file "$TMP/pass1.txt" --kdf test
run wallet seed --mnemonic-file "$TMP/m-known.txt" --json
SEED_K=$(jfield seed <<<"$OUT")

# A wallet with a BIP-39 passphrase: the store holds that seed (and show agrees).
B=$TMP/bip39.db
run wallet restore --store "$B" --mnemonic-file "$M1" --bip39-passphrase-file "$TMP/bip39-pass.txt" --passphrase-file "$TMP/pass1.txt" --kdf test
expect_ok "restore --bip39-passphrase-file exits 0"
run wallet show --store "$B" --passphrase-file "$TMP/pass1.txt" --json
SHOW_B=$OUT
run wallet show --mnemonic-file "$M1" --passphrase-file "$TMP/bip39-pass.txt" --json
if [[ -n $SHOW_B && $SHOW_B == "$OUT" && $SHOW_B != "$SHOW1" ]]; then ok "BIP-39 passphrase: show --store = show --mnemonic-file --passphrase-file, and differs from no passphrase"
else bad "BIP-39 passphrase: show --store = show --mnemonic-file --passphrase-file, and differs from no passphrase"; fi
run wallet seed --mnemonic-file "$M1" --passphrase-file "$TMP/bip39-pass.txt" --json
SEED_B=$(jfield seed <<<"$OUT")
# The shares hold the entropy, not the BIP-39 passphrase (docs/wallet.md): the owner adds it back.
SHB=$TMP/shares-bip39
run wallet split --store "$B" --passphrase-file "$TMP/pass1.txt" --groups 2of3 --out-dir "$SHB"
run wallet combine --share-file "$SHB/share-1-1.txt" --share-file "$SHB/share-1-2.txt" --mnemonic-out "$TMP/m-bip39-combined.txt"
B2=$TMP/bip39-restored.db
run wallet restore --store "$B2" --mnemonic-file "$TMP/m-bip39-combined.txt" --bip39-passphrase-file "$TMP/bip39-pass.txt" --passphrase-file "$TMP/pass1.txt" --kdf test
run wallet show --store "$B2" --passphrase-file "$TMP/pass1.txt" --json
if [[ $RC == 0 && $OUT == "$SHOW_B" ]]; then ok "BIP-39 passphrase wallet: split, combine --mnemonic-out, restore --bip39-passphrase-file: same DIDs"
else bad "BIP-39 passphrase wallet: split, combine --mnemonic-out, restore --bip39-passphrase-file: same DIDs"; fi

# Control: the scan does find a seed stored raw (in a -wal file) or as upper-case hex text.
CTL=$TMP/control.db
head -c 1000 /dev/urandom >"$CTL"
{ head -c 777 /dev/urandom; xxd -r -p <<<"$SEED1"; head -c 100 /dev/urandom; } >"$CTL-wal"
printf 'x%sx' "${SEED_K^^}" >"$CTL-shm"
ctl_raw=$(hex_found "$SEED1" "$CTL")
ctl_text=$(hex_found "$SEED_K" "$CTL")
if [[ $ctl_raw == *"control.db-wal (raw bytes)"* && $ctl_text == *"control.db-shm (hex text)"* ]]; then ok "control: the scan finds a seed stored raw or as hex text"
else bad "control: the scan finds a seed stored raw or as hex text" "got '$ctl_raw' and '$ctl_text'"; fi

check_store_secrets() { # LABEL DB ENTROPY SEED MNEMONIC_FILE STORE_PASSPHRASE
  local label=$1 db=$2 ent=$3 seed=$4 words
  words=$(<"$5")
  expect_hex_absent "$label: entropy not in the files (raw or hex)" "$ent" "$db"
  expect_hex_absent "$label: seed not in the files (raw or hex)" "$seed" "$db"
  expect_hex_absent "$label: no 16-byte piece of the seed in the files" "${seed:64:32}" "$db"
  expect_text_absent "$label: mnemonic not in the files" "$(cut -d' ' -f1-4 <<<"$words")" "$db"
  expect_text_absent "$label: store passphrase not in the files" "$6" "$db"
}
check_store_secrets "init store" "$S1" "$E1" "$SEED1" "$M1" "$PASS1"
check_store_secrets "init store (--mnemonic-out)" "$S2" "$E2" "$SEED2" "$M2" "$PASS_ENV"
check_store_secrets "restored store" "$R1" "$E1" "$SEED1" "$M1" "$PASS_NEW"
check_store_secrets "restored store (known entropy)" "$K" "$KNOWN_E" "$SEED_K" "$TMP/m-known.txt" "$PASS1"
check_store_secrets "combined store" "$C1" "$E1" "$SEED1" "$M1" "$PASS_ENV"
check_store_secrets "store after passwd" "$P" "$E1" "$SEED1" "$M1" "$PASS_ENV"
check_store_secrets "BIP-39-passphrase store" "$B" "$E1" "$SEED_B" "$M1" "$PASS1"
expect_text_absent "BIP-39-passphrase store: BIP-39 passphrase not in the files" "$BIP39_PASS" "$B"
expect_hex_absent "init store: the authentication private key not in the files" "$AUTH_PRIV" "$S1"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
