#!/usr/bin/env bash
# Checks the `medallion wallet` command contract (issue 2, "Command contract") with the official
# BIP-39 trezor vectors, without any npm package:
#
#   bash tests/cli/contract_test.sh <path-to-medallion>
#
# Mnemonic from entropy, seed (passphrase TREZOR), master xprv via `derive --path m`; passphrase
# file handling (one trailing "\n" stripped, NFKD); derive JSON shapes; sign/verify round trips,
# exit 1 for tampered signatures or messages, the high-S twin of an ES256K signature accepted,
# exit 2 for bad hex, missing files and non-hardened ed25519 paths; --help on every subcommand.
# Node (guaranteed on the CI machine) is used only to read the vector file and for the 256-bit
# subtraction n - s. The last line is exactly "N passed, M failed"; exit code non-zero on failure.
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/medallion-contract.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

PASSED=0
FAILED=0
OUT='' ERR='' RC=0 LAST_CMD=''

# run ARGS...: runs the CLI, never aborts the script; sets OUT, ERR, RC.
run() {
  set +e
  OUT=$("$BIN" "$@" 2>"$TMP/stderr")
  RC=$?
  set -e
  ERR=$(<"$TMP/stderr")
  LAST_CMD="medallion $*"
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

# A clear error: exit 2 and stderr naming the missing file or saying what is wrong.
expect_missing_file_error() {
  local name=$1 file=$2
  if [[ $RC != 2 ]]; then
    bad "$name" "expected exit 2"
  elif [[ -z $ERR ]]; then
    bad "$name" "expected an error message on stderr"
  elif [[ $ERR == *"$(basename "$file")"* ]] || grep -qiE "no such file|does not exist|not found|cannot (open|read)|can't (open|read)|unable to (open|read)" <<<"$ERR"; then
    ok "$name"
  else
    bad "$name" "stderr does not name the missing file"
  fi
}

# jfield NAME: the string value of "NAME" in the JSON on stdin (flat objects of strings only).
jfield() {
  sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1
}

is_hex() { [[ $1 =~ ^[0-9a-fA-F]+$ ]] && (( ${#1} % 2 == 0 )); }

# flip_bit HEX BYTE_INDEX: the hex string with the lowest bit of that byte flipped.
flip_bit() {
  local h=$1 i=$2 b
  b=${h:$((2 * i)):2}
  printf '%s%02x%s' "${h:0:$((2 * i))}" $((16#$b ^ 1)) "${h:$((2 * i + 2))}"
}

# high_s_twin SIG64HEX: r || (n - s)
high_s_twin() {
  node -e '
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const sig = process.argv[1];
    const s = BigInt("0x" + sig.slice(64));
    process.stdout.write(sig.slice(0, 64) + (n - s).toString(16).padStart(64, "0"));
  ' "$1"
}

# ------------------------------------------------------------------------------------------------
# BIP-39 trezor vectors (English rows: entropy, mnemonic, seed with passphrase TREZOR, master xprv).

if ! command -v node >/dev/null; then
  echo "node is required to read $VECTORS/bip39/trezor-vectors.json"
  echo "0 passed, 1 failed"
  exit 2
fi

printf 'TREZOR\n' >"$TMP/trezor.txt"
printf 'TREZOR' >"$TMP/trezor-no-newline.txt"
printf 'TREZOR\n\n' >"$TMP/trezor-double-newline.txt"

for row in 0 3 23; do
  mapfile -t V < <(node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).english[Number(process.argv[2])];
    console.log(v.join("\n"));
  ' "$VECTORS/bip39/trezor-vectors.json" "$row")
  if [[ ${#V[@]} != 4 ]]; then
    echo "cannot read row $row of $VECTORS/bip39/trezor-vectors.json"
    echo "$PASSED passed, $((FAILED + 1)) failed"
    exit 1
  fi
  entropy=${V[0]} mnemonic=${V[1]} seed=${V[2]} xprv=${V[3]}
  words=$(wc -w <<<"$mnemonic")
  tag="trezor english[$row] ($words words)"
  printf '%s\n' "$mnemonic" >"$TMP/mnemonic-$row.txt"

  run wallet mnemonic --words "$words" --entropy "$entropy" --json
  if [[ $RC == 0 ]]; then
    expect_eq "$tag: mnemonic from entropy" "$(jfield mnemonic <<<"$OUT")" "$mnemonic"
    expect_eq "$tag: entropy echoed" "$(jfield entropy <<<"$OUT")" "$entropy"
  else
    bad "$tag: wallet mnemonic --entropy exits 0"
  fi

  run wallet seed --mnemonic-file "$TMP/mnemonic-$row.txt" --passphrase-file "$TMP/trezor.txt" --json
  if [[ $RC == 0 ]]; then expect_eq "$tag: seed (passphrase TREZOR)" "$(jfield seed <<<"$OUT")" "$seed"
  else bad "$tag: wallet seed exits 0"; fi

  run wallet derive --mnemonic-file "$TMP/mnemonic-$row.txt" --passphrase-file "$TMP/trezor.txt" --curve secp256k1 --path m --json
  if [[ $RC == 0 ]]; then expect_eq "$tag: master xprv (derive --curve secp256k1 --path m)" "$(jfield xprv <<<"$OUT")" "$xprv"
  else bad "$tag: wallet derive --path m exits 0"; fi
done

M0=$TMP/mnemonic-0.txt
SEED0=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).english[0][2])' "$VECTORS/bip39/trezor-vectors.json")

# ------------------------------------------------------------------------------------------------
# Passphrase file handling.

run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/trezor-no-newline.txt" --json
expect_eq "passphrase file without trailing newline" "$(jfield seed <<<"$OUT")" "$SEED0"

run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/trezor-double-newline.txt" --json
s_dbl=$(jfield seed <<<"$OUT")
if [[ $RC == 0 && -n $s_dbl && ${s_dbl,,} != "${SEED0,,}" ]]; then ok "only one trailing newline is stripped (\"TREZOR\\n\\n\" is passphrase \"TREZOR\\n\")"
else bad "only one trailing newline is stripped (\"TREZOR\\n\\n\" is passphrase \"TREZOR\\n\")" "expected a seed different from the TREZOR one"; fi

run wallet seed --mnemonic-file "$M0" --json
s_none=$(jfield seed <<<"$OUT")
printf '\n' >"$TMP/empty-pass.txt"
run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/empty-pass.txt" --json
expect_eq "passphrase file holding only a newline = no passphrase" "$(jfield seed <<<"$OUT")" "$s_none"

# "Ñandú" composed (U+00D1, U+00FA) and decomposed (N U+0303, u U+0301) must give one seed.
# Known answer: @scure/bip39 mnemonicToSeedSync("abandon x11 about", "Ñandú"), which agrees with
# Python's hashlib.pbkdf2_hmac("sha512", mnemonic, NFKD("mnemonicÑandú"), 2048).
NANDU_SEED=f20eed5d4f69027fa057fb07e9f3741e999ac4428597b24c5b3ee7c09b6d6cc6c0babcb162c45a86f91003c91a3d5a51566d70ef6dadf97b1bc34acbfe8f1560
printf 'N\xcc\x83andu\xcc\x81\n' >"$TMP/nandu-nfd.txt"
printf '\xc3\x91and\xc3\xba\n' >"$TMP/nandu-nfc.txt"
run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/nandu-nfc.txt" --json
s_nfc=$(jfield seed <<<"$OUT")
run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/nandu-nfd.txt" --json
s_nfd=$(jfield seed <<<"$OUT")
if [[ -n $s_nfc && ${s_nfc,,} == "${s_nfd,,}" ]]; then ok "passphrase NFKD: composed and decomposed \"Ñandú\" give the same seed"
else bad "passphrase NFKD: composed and decomposed \"Ñandú\" give the same seed" "NFC $s_nfc vs NFD $s_nfd"; fi
expect_eq "passphrase \"Ñandú\": known seed" "$s_nfc" "$NANDU_SEED"

# ------------------------------------------------------------------------------------------------
# Random mnemonics.

run wallet mnemonic --words 24 --json
m1=$(jfield mnemonic <<<"$OUT")
if [[ $RC == 0 && $(wc -w <<<"$m1") == 24 ]]; then ok "wallet mnemonic --words 24 gives 24 words"; else bad "wallet mnemonic --words 24 gives 24 words"; fi
run wallet mnemonic --words 12 --json
m2=$(jfield mnemonic <<<"$OUT")
e2=$(jfield entropy <<<"$OUT")
if [[ $RC == 0 && $(wc -w <<<"$m2") == 12 ]] && is_hex "$e2" && [[ ${#e2} == 32 ]]; then ok "wallet mnemonic --words 12 gives 12 words and 16 bytes of entropy"
else bad "wallet mnemonic --words 12 gives 12 words and 16 bytes of entropy"; fi
run wallet mnemonic --words 12 --json
if [[ $(jfield mnemonic <<<"$OUT") != "$m2" ]]; then ok "two random mnemonics differ"; else bad "two random mnemonics differ"; fi
run wallet mnemonic --words 13 --json
if [[ $RC != 0 ]]; then ok "wallet mnemonic --words 13 is refused"; else bad "wallet mnemonic --words 13 is refused" "expected a non-zero exit"; fi

printf 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon\n' >"$TMP/bad-checksum.txt"
run wallet seed --mnemonic-file "$TMP/bad-checksum.txt" --json
if [[ $RC != 0 && -n $ERR ]]; then ok "mnemonic with a bad checksum is refused with a message"; else bad "mnemonic with a bad checksum is refused with a message"; fi

# ------------------------------------------------------------------------------------------------
# derive output shapes.

KEYS=(--mnemonic-file "$M0" --passphrase-file "$TMP/trezor.txt")
ED_PATH="m/44'/0'/0'"
SECP_PATH="m/44'/0'/0'/0/1"

run wallet derive "${KEYS[@]}" --curve ed25519 --path "$ED_PATH" --json
if [[ $RC == 0 ]]; then
  ED_PUB=$(jfield public_key <<<"$OUT")
  priv=$(jfield private_key <<<"$OUT") cc=$(jfield chain_code <<<"$OUT")
  expect_eq "derive ed25519: path" "$(jfield path <<<"$OUT")" "$ED_PATH"
  expect_eq "derive ed25519: curve" "$(jfield curve <<<"$OUT")" ed25519
  if is_hex "$ED_PUB" && [[ ${#ED_PUB} == 64 ]] && is_hex "$priv" && [[ ${#priv} == 64 ]] && is_hex "$cc" && [[ ${#cc} == 64 ]]; then
    ok "derive ed25519: 32-byte hex private_key, raw 32-byte public_key, chain_code"
  else bad "derive ed25519: 32-byte hex private_key, raw 32-byte public_key, chain_code"; fi
else
  ED_PUB=
  bad "wallet derive --curve ed25519 exits 0"
fi

run wallet derive "${KEYS[@]}" --curve ed25519 --path "m/44'/0'/0" --json
expect_rc "derive ed25519 with a non-hardened index exits 2" 2

run wallet derive "${KEYS[@]}" --curve secp256k1 --path "$SECP_PATH" --json
if [[ $RC == 0 ]]; then
  SECP_PUB=$(jfield public_key <<<"$OUT")
  priv=$(jfield private_key <<<"$OUT") cc=$(jfield chain_code <<<"$OUT")
  xp=$(jfield xprv <<<"$OUT") xb=$(jfield xpub <<<"$OUT")
  expect_eq "derive secp256k1: path" "$(jfield path <<<"$OUT")" "$SECP_PATH"
  expect_eq "derive secp256k1: curve" "$(jfield curve <<<"$OUT")" secp256k1
  if is_hex "$SECP_PUB" && [[ ${#SECP_PUB} == 66 && ${SECP_PUB:0:2} =~ ^0[23]$ ]]; then ok "derive secp256k1: compressed 33-byte public_key"
  else bad "derive secp256k1: compressed 33-byte public_key"; fi
  if is_hex "$priv" && [[ ${#priv} == 64 ]] && is_hex "$cc" && [[ ${#cc} == 64 ]]; then ok "derive secp256k1: 32-byte private_key and chain_code"
  else bad "derive secp256k1: 32-byte private_key and chain_code"; fi
  if [[ $xp == xprv* && $xb == xpub* && ${#xp} == 111 && ${#xb} == 111 ]]; then ok "derive secp256k1: xprv and xpub"
  else bad "derive secp256k1: xprv and xpub" "got xprv '$xp' xpub '$xb'"; fi
else
  SECP_PUB=
  bad "wallet derive --curve secp256k1 exits 0"
fi

# ------------------------------------------------------------------------------------------------
# sign / verify.

printf 'Medallion contract test message\n' >"$TMP/msg.bin"
printf 'Medallion contract test message!\n' >"$TMP/msg-tampered.bin"

for alg in EdDSA ES256K; do
  if [[ $alg == EdDSA ]]; then path=$ED_PATH pub=$ED_PUB sbyte=32; else path=$SECP_PATH pub=$SECP_PUB sbyte=63; fi

  run wallet sign --alg "$alg" "${KEYS[@]}" --path "$path" --in "$TMP/msg.bin" --json
  sig=$(jfield signature <<<"$OUT")
  if [[ $RC == 0 ]] && is_hex "$sig" && [[ ${#sig} == 128 ]]; then ok "$alg: sign --json gives a 64-byte hex signature"
  else bad "$alg: sign --json gives a 64-byte hex signature"; continue; fi
  expect_eq "$alg: sign --json: alg" "$(jfield alg <<<"$OUT")" "$alg"
  expect_eq "$alg: sign --json: public_key is the derived key" "$(jfield public_key <<<"$OUT")" "$pub"

  run wallet sign --alg "$alg" "${KEYS[@]}" --path "$path" --in "$TMP/msg.bin"
  expect_eq "$alg: sign without --json prints the same (deterministic) signature" "$(tr -d '[:space:]' <<<"$OUT")" "$sig"

  [[ -n $pub ]] || { bad "$alg: no public key from derive, verify checks skipped"; continue; }
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg.bin" --signature "$sig"
  expect_rc "$alg: verify accepts the signature (exit 0)" 0
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg.bin" --signature "$(flip_bit "$sig" "$sbyte")"
  expect_rc "$alg: verify rejects a tampered signature (exit 1)" 1
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg-tampered.bin" --signature "$sig"
  expect_rc "$alg: verify rejects a tampered message (exit 1)" 1
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg.bin" --signature "zz${sig:2}"
  expect_rc "$alg: verify with a non-hex signature exits 2" 2
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg.bin" --signature "${sig:1}"
  expect_rc "$alg: verify with an odd-length hex signature exits 2" 2
  run wallet verify --alg "$alg" --public-key "xy${pub:2}" --in "$TMP/msg.bin" --signature "$sig"
  expect_rc "$alg: verify with a non-hex public key exits 2" 2
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/does-not-exist.bin" --signature "$sig"
  expect_missing_file_error "$alg: verify with a missing --in file: clear error, exit 2" "$TMP/does-not-exist.bin"
  run wallet verify --alg "$alg" --public-key "$pub" --in "$TMP/msg.bin"
  expect_rc "$alg: verify without --signature exits 2" 2

  if [[ $alg == ES256K ]]; then
    high=$(high_s_twin "$sig")
    run wallet verify --alg ES256K --public-key "$pub" --in "$TMP/msg.bin" --signature "$high"
    expect_rc "ES256K: verify accepts the high-S twin (n - s) (exit 0)" 0
    run wallet verify --alg ES256K --public-key "$pub" --in "$TMP/msg-tampered.bin" --signature "$high"
    expect_rc "ES256K: verify rejects the high-S twin over a tampered message (exit 1)" 1
  fi
done

run wallet verify --alg RS256 --public-key "${ED_PUB:-00}" --in "$TMP/msg.bin" --signature 00
expect_rc "verify with an unknown --alg exits 2" 2

run wallet sign --alg EdDSA "${KEYS[@]}" --path "m/44'/0'/0" --in "$TMP/msg.bin"
expect_rc "sign EdDSA with a non-hardened path exits 2" 2

# ------------------------------------------------------------------------------------------------
# Missing files.

NOFILE=$TMP/no-such-mnemonic.txt
run wallet seed --mnemonic-file "$NOFILE" --json
expect_missing_file_error "seed with a missing mnemonic file: clear error, exit 2" "$NOFILE"
run wallet derive --mnemonic-file "$NOFILE" --curve secp256k1 --path m --json
expect_missing_file_error "derive with a missing mnemonic file: clear error, exit 2" "$NOFILE"
run wallet sign --alg EdDSA --mnemonic-file "$NOFILE" --path "$ED_PATH" --in "$TMP/msg.bin"
expect_missing_file_error "sign with a missing mnemonic file: clear error, exit 2" "$NOFILE"
run wallet seed --mnemonic-file "$M0" --passphrase-file "$TMP/no-such-passphrase.txt" --json
expect_missing_file_error "seed with a missing passphrase file: clear error, exit 2" "$TMP/no-such-passphrase.txt"
run wallet sign --alg ES256K "${KEYS[@]}" --path "$SECP_PATH" --in "$TMP/no-such-message.bin"
expect_missing_file_error "sign with a missing --in file: clear error, exit 2" "$TMP/no-such-message.bin"

# ------------------------------------------------------------------------------------------------
# --help on every subcommand: the contract's wallet commands plus whatever the help lists.

# subcommands_of ARGS...: names listed under "Subcommands:" in `medallion ARGS --help`.
subcommands_of() {
  "$BIN" "$@" --help 2>/dev/null | awk '
    tolower($0) ~ /^subcommands:/ { on = 1; next }
    on && /^[^ \t]/ { on = 0 }
    on && match($0, /^[ \t]+[a-z][a-z0-9_-]*/) { name = substr($0, RSTART, RLENGTH); gsub(/[ \t]/, "", name); print name }
  ' || true
}

run --help
expect_rc "medallion --help exits 0" 0
run wallet --help
expect_rc "medallion wallet --help exits 0" 0

declare -A SEEN=()
HELP_CMDS=()
for c in mnemonic seed derive sign verify $(subcommands_of wallet); do
  [[ -n ${SEEN[wallet $c]:-} ]] && continue
  SEEN[wallet $c]=1
  HELP_CMDS+=("wallet $c")
done
for c in $(subcommands_of); do
  [[ $c == wallet || -n ${SEEN[$c]:-} ]] && continue
  SEEN[$c]=1
  HELP_CMDS+=("$c")
done
for c in "${HELP_CMDS[@]}"; do
  # shellcheck disable=SC2086 # word splitting of "wallet derive" is intended
  run $c --help
  if [[ $RC == 0 && -n $OUT ]]; then ok "medallion $c --help"; else bad "medallion $c --help" "expected exit 0 and help text"; fi
done


# ------------------------------------------------------------------------------------------------
# Unknown words (issue 12): named in the error, exit 2, never the parent's help.

run bogus
if [[ $RC == 2 && $ERR == *"'bogus'"* ]]; then ok "medallion bogus: exit 2 naming 'bogus'"; else bad "medallion bogus: exit 2 naming 'bogus'"; fi
run wallet bogus
if [[ $RC == 2 && $ERR == *"'bogus'"* ]]; then ok "medallion wallet bogus: exit 2 naming 'bogus'"; else bad "medallion wallet bogus: exit 2 naming 'bogus'"; fi
run wallet bogus --help
if [[ $RC == 2 && $ERR == *"'bogus'"* && $OUT != *Usage* ]]; then
  ok "medallion wallet bogus --help: exit 2 naming 'bogus', no help"
else
  bad "medallion wallet bogus --help: exit 2 naming 'bogus', no help"
fi
run --help bogus
if [[ $RC == 2 && $ERR == *"'bogus'"* && $OUT != *Usage* ]]; then ok "medallion --help bogus: exit 2 naming 'bogus'"; else bad "medallion --help bogus: exit 2 naming 'bogus'"; fi
run ledger bogus-sub --help
if [[ $RC == 2 && $ERR == *"'bogus-sub'"* ]]; then ok "medallion ledger bogus-sub --help: exit 2 naming it"; else bad "medallion ledger bogus-sub --help: exit 2 naming it"; fi
# Every command group's --help is its own help, not the top-level one.
for g in $(subcommands_of); do
  run "$g" --help
  usage_line=$(grep -m1 '^Usage:' <<<"$OUT" || true)
  if [[ $RC == 0 && "$usage_line " == *" $g "* ]]; then ok "medallion $g --help is $g's help"; else bad "medallion $g --help is $g's help"; fi
done
run vc --help
if [[ $RC == 0 && $OUT == *issue* && $OUT == *verify* && $OUT == *present* && $OUT == *status* ]]; then
  ok "medallion vc --help lists issue, verify, present, status"
else
  bad "medallion vc --help lists issue, verify, present, status"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
