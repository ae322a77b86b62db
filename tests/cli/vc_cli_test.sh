#!/usr/bin/env bash
# End-to-end test of `medallion vc issue | verify | present | status` (issue 12):
#
#   bash tests/cli/vc_cli_test.sh <path-to-medallion>
#
# Every format (di, jwt, sd-jwt) issued from a key store purpose key and from a mnemonic path,
# verified (exit 0, "valid": true, "reason": "ok"); each tampered (exit 1 with its reason code);
# unusable input (missing, empty, not JSON, JSON that is no credential, 100,000 nested arrays:
# exit 2, no crash); presentations of each format verified with the right challenge and domain
# and refused with a wrong one; a Bitstring Status List credential signed with `vc issue`, served
# over loopback HTTP by a small Node server on a free port, and `vc status` answering active
# (0), revoked (1), a list signed by someone else (1), an unreachable list (1) and a credential
# without status (2); `vc --help` is the vc help. Key stores use --kdf test.
# The last line is exactly "N passed, M failed"; exit code non-zero on failure.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 <path-to-medallion>" >&2
  echo "0 passed, 1 failed"
  exit 2
fi
BIN=$1
if [[ ! -x $BIN ]]; then
  echo "medallion binary not found or not executable: $BIN"
  echo "0 passed, 1 failed"
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/medallion-vc-cli.XXXXXX")
SERVER_PID=''
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
export MEDALLION_ALLOW_TEST_KDF=1 MEDALLION_PASSPHRASE=vc-cli-test

PASSED=0
FAILED=0
OUT='' ERR='' RC=0 LAST_CMD=''

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
  [[ -n $OUT ]] && echo "       stdout: ${OUT:0:600}"
  [[ -n $ERR ]] && echo "       stderr: ${ERR:0:400}"
  return 0
}
# field NAME: a top-level member of the last run's JSON output ("" if none).
field() { node -e 'try{const v=JSON.parse(process.argv[1])[process.argv[2]];console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):v)}catch(e){console.log("")}' "$OUT" "$1"; }
# expect_valid NAME: exit 0, valid true, reason ok.
expect_valid() {
  if [[ $RC == 0 && $(field valid) == true && $(field reason) == ok ]]; then ok "$1"; else bad "$1" "expected exit 0, valid, reason ok"; fi
}
# expect_invalid NAME REASON: exit 1, valid false, the reason code.
expect_invalid() {
  local got
  got=$(field reason)
  if [[ $RC == 1 && $(field valid) == false && $got == "$2" ]]; then ok "$1"; else bad "$1" "expected exit 1, valid false, reason $2 (got '$got')"; fi
}
# expect_usage NAME: exit 2 with a message on stderr.
expect_usage() {
  if [[ $RC == 2 && -n $ERR ]]; then ok "$1"; else bad "$1" "expected exit 2 and an error on stderr"; fi
}
# save FILE: writes the last run's stdout to FILE.
save() { printf '%s\n' "$OUT" >"$1"; }

cd "$TMP"

# ------------------------------------------------------------------------------------------------
# Keys: an issuer store, a holder store, and a mnemonic for the path-based key source.

run wallet init --store issuer.db --kdf test --mnemonic-out issuer.words
[[ $RC == 0 ]] || bad "wallet init issuer"
run wallet init --store holder.db --kdf test --mnemonic-out holder.words
[[ $RC == 0 ]] || bad "wallet init holder"
run wallet show --store holder.db --json
HOLDER_DID=$(node -e 'console.log(JSON.parse(process.argv[1]).dids.ed25519)' "$OUT")
[[ $HOLDER_DID == did:key:z6Mk* ]] && ok "holder did:key from wallet show" || bad "holder did:key from wallet show" "got '$HOLDER_DID'"
ISSUER=(--store issuer.db --purpose assertion)
HOLDER=(--store holder.db)

cat >unsigned.json <<EOF
{
  "@context": ["https://www.w3.org/ns/credentials/v2"],
  "type": ["VerifiableCredential"],
  "validFrom": "2026-01-01T00:00:00Z",
  "credentialSubject": {"id": "$HOLDER_DID", "name": "Alice Example", "degree": {"type": "BachelorDegree", "name": "Bachelor of Science"}}
}
EOF

# ------------------------------------------------------------------------------------------------
# Issue and verify, every format.

run vc issue --format di --in unsigned.json "${ISSUER[@]}"
save cred.di.json
if [[ $RC == 0 && $(field proof) == *eddsa-jcs-2022* ]]; then ok "issue di: an eddsa-jcs-2022 proof"; else bad "issue di: an eddsa-jcs-2022 proof"; fi
ISSUER_DID=$(field issuer)
[[ $ISSUER_DID == did:key:z6Mk* ]] && ok "issue di: issuer is the key's did:key" || bad "issue di: issuer is the key's did:key"
run vc verify --in cred.di.json
expect_valid "verify di"
[[ $(field format) == di && $(field issuer) == "$ISSUER_DID" && $(field kind) == credential ]] && ok "verify di: format, kind, issuer" || bad "verify di: format, kind, issuer"

run vc issue --format jwt --in unsigned.json "${ISSUER[@]}"
save cred.jwt
[[ $RC == 0 && $OUT =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] && ok "issue jwt: a compact JWS" || bad "issue jwt: a compact JWS"
run vc verify --in cred.jwt
expect_valid "verify jwt"
[[ $(field format) == jwt && $(field issuer) == "$ISSUER_DID" ]] && ok "verify jwt: format and issuer" || bad "verify jwt: format and issuer"

run vc verify --in cred.di.json --trust "$ISSUER_DID"
expect_valid "verify di --trust the issuer"
run vc verify --in cred.di.json --trust "$HOLDER_DID"
expect_invalid "verify di --trust someone else: issuer_untrusted" issuer_untrusted

run vc issue --format jwt --in unsigned.json --store issuer.db --purpose es256k
save cred.es256k.jwt
run vc verify --in cred.es256k.jwt
expect_valid "issue and verify jwt with ES256K (purpose es256k)"

run vc issue --format sd-jwt --in unsigned.json "${ISSUER[@]}" --vct https://example.org/degree \
  --sd /credentialSubject/name --sd /credentialSubject/degree --holder "$HOLDER_DID"
save cred.sd-jwt
[[ $RC == 0 && $OUT == *~ ]] && ok "issue sd-jwt: an SD-JWT ending in ~" || bad "issue sd-jwt: an SD-JWT ending in ~"
run vc verify --in cred.sd-jwt
expect_valid "verify sd-jwt"
[[ $(field format) == sd-jwt && $(field disclosed) == *"/credentialSubject/name"* && $(field vct) == https://example.org/degree ]] &&
  ok "verify sd-jwt: format, disclosed claims, vct" || bad "verify sd-jwt: format, disclosed claims, vct"

# The mnemonic key source: the assertion key's path gives the same issuer as the store.
run vc issue --format di --in unsigned.json --mnemonic-file issuer.words --path "m/5063756'/0'/1'/0'"
save cred.mnemonic.json
run vc verify --in cred.mnemonic.json
expect_valid "issue di from --mnemonic-file --path, verify"
[[ $(field issuer) == "$ISSUER_DID" ]] && ok "mnemonic path of the assertion key = the store's assertion key" || bad "mnemonic path of the assertion key = the store's assertion key"

run vc issue --format di --in unsigned.json "${ISSUER[@]}" --out written.json
[[ $RC == 0 && -s written.json ]] && ok "issue --out writes the file" || bad "issue --out writes the file"
run vc issue --format di --in unsigned.json "${ISSUER[@]}" --out written.json
expect_usage "issue --out an existing file: exit 2"
run vc issue --format jwt --in unsigned.json --store issuer.db --purpose key-agreement
expect_usage "issue with a key-agreement key: exit 2"
run vc issue --format di --in unsigned.json "${ISSUER[@]}" --sd /credentialSubject/name
expect_usage "issue di with --sd: exit 2"
run vc issue --format sd-jwt --in unsigned.json "${ISSUER[@]}"
expect_usage "issue sd-jwt without a vct: exit 2"
MEDALLION_PASSPHRASE=wrong run vc issue --format di --in unsigned.json "${ISSUER[@]}"
[[ $RC == 1 ]] && ok "issue with a wrong passphrase: exit 1" || bad "issue with a wrong passphrase: exit 1"

# ------------------------------------------------------------------------------------------------
# Tampering: exit 1 with a reason.

node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync("cred.di.json"));j.credentialSubject.name="Mallory";fs.writeFileSync("tampered.di.json",JSON.stringify(j))'
run vc verify --in tampered.di.json
expect_invalid "tampered di: exit 1, signature_invalid" signature_invalid

node -e 'const fs=require("fs");const [h,p,s]=fs.readFileSync("cred.jwt","utf8").trim().split(".");const j=JSON.parse(Buffer.from(p,"base64url"));j.credentialSubject.name="Mallory";fs.writeFileSync("tampered.jwt",[h,Buffer.from(JSON.stringify(j)).toString("base64url"),s].join("."))'
run vc verify --in tampered.jwt
expect_invalid "tampered jwt: exit 1, signature_invalid" signature_invalid

node -e 'const fs=require("fs");const t=fs.readFileSync("cred.jwt","utf8").trim();const s=t.split(".");const sig=Buffer.from(s[2],"base64url");sig[5]^=1;s[2]=sig.toString("base64url");fs.writeFileSync("badsig.jwt",s.join("."))'
run vc verify --in badsig.jwt
expect_invalid "jwt with a flipped signature bit: exit 1, signature_invalid" signature_invalid

node -e 'const fs=require("fs");const parts=fs.readFileSync("cred.sd-jwt","utf8").trim().split("~");const d=JSON.parse(Buffer.from(parts[1],"base64url"));d[d.length-1]="Mallory";parts[1]=Buffer.from(JSON.stringify(d)).toString("base64url");fs.writeFileSync("tampered.sd-jwt",parts.join("~"))'
run vc verify --in tampered.sd-jwt
expect_invalid "sd-jwt with a forged disclosure: exit 1, disclosure_unreferenced" disclosure_unreferenced

node -e 'const fs=require("fs");const parts=fs.readFileSync("cred.sd-jwt","utf8").trim().split("~");const [h,p,s]=parts[0].split(".");const j=JSON.parse(Buffer.from(p,"base64url"));j.vct="https://example.org/other";parts[0]=[h,Buffer.from(JSON.stringify(j)).toString("base64url"),s].join(".");fs.writeFileSync("tampered2.sd-jwt",parts.join("~"))'
run vc verify --in tampered2.sd-jwt
expect_invalid "sd-jwt with an edited payload: exit 1, signature_invalid" signature_invalid

node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync("cred.di.json"));delete j.proof;fs.writeFileSync("unproven.json",JSON.stringify(j))'
run vc verify --in unproven.json
expect_invalid "a credential without a proof: exit 1, proof_missing" proof_missing

node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync("unsigned.json"));j.validUntil="2026-01-02T00:00:00Z";fs.writeFileSync("expired.unsigned.json",JSON.stringify(j))'
run vc issue --format di --in expired.unsigned.json "${ISSUER[@]}"
save expired.json
run vc verify --in expired.json
expect_invalid "an expired credential: exit 1, vc_expired" vc_expired

# ------------------------------------------------------------------------------------------------
# Unusable input: exit 2, nothing on stdout that says valid.

run vc verify --in no-such-file.json
expect_usage "verify a missing file: exit 2"
[[ $ERR == *no-such-file.json* ]] && ok "verify a missing file: the error names it" || bad "verify a missing file: the error names it"
: >empty.txt
run vc verify --in empty.txt
expect_usage "verify an empty file: exit 2"
echo 'hello world' >hello.txt
run vc verify --in hello.txt
expect_usage "verify a text file: exit 2"
echo '{"a": 1}' >plain.json
run vc verify --in plain.json
expect_usage "verify JSON that is not a credential: exit 2"
echo '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ' >truncated.json
run vc verify --in truncated.json
expect_usage "verify truncated JSON: exit 2"
node -e 'process.stdout.write("{\"@context\":"+"[".repeat(100000)+"]".repeat(100000)+"}")' >deep.json
run vc verify --in deep.json
expect_usage "verify 100,000 nested arrays: exit 2, no crash"
run vc verify --in .
expect_usage "verify a directory: exit 2"
run vc issue --format di --in no-such-file.json "${ISSUER[@]}"
expect_usage "issue from a missing file: exit 2"
run vc issue --format xml --in unsigned.json "${ISSUER[@]}"
expect_usage "issue --format xml: exit 2"

# ------------------------------------------------------------------------------------------------
# Presentations: holder-bound, with the verifier's challenge and domain.

for f in di jwt sd-jwt; do
  case $f in di) cred=cred.di.json ;; jwt) cred=cred.jwt ;; sd-jwt) cred=cred.sd-jwt ;; esac
  run vc present --in "$cred" --challenge "c-$f-123" --domain verifier.example "${HOLDER[@]}"
  save "vp.$f"
  [[ $RC == 0 ]] && ok "present $f" || bad "present $f"
  run vc verify --in "vp.$f" --challenge "c-$f-123" --domain verifier.example
  expect_valid "verify $f presentation with the right challenge and domain"
  [[ $(field kind) == presentation ]] && ok "verify $f presentation: kind presentation" || bad "verify $f presentation: kind presentation"
  run vc verify --in "vp.$f" --challenge "c-$f-999" --domain verifier.example
  case $f in di) want=challenge_mismatch ;; jwt) want=nonce_mismatch ;; sd-jwt) want=nonce_mismatch ;; esac
  expect_invalid "verify $f presentation with a wrong challenge: $want" $want
  run vc verify --in "vp.$f" --challenge "c-$f-123" --domain other.example
  case $f in di) want=domain_mismatch ;; jwt) want=audience_mismatch ;; sd-jwt) want=aud_mismatch ;; esac
  expect_invalid "verify $f presentation for another domain: $want" $want
  run vc verify --in "vp.$f"
  expect_usage "verify a $f presentation without --challenge/--domain: exit 2"
done
[[ $(node -e 'console.log(JSON.parse(require("fs").readFileSync("vp.di","utf8")).holder)') == "$HOLDER_DID" ]] &&
  ok "the di presentation's holder is the holder's did:key" || bad "the di presentation's holder is the holder's did:key"

# SD-JWT: reveal one claim only; the other stays hidden.
run vc present --in cred.sd-jwt --reveal /credentialSubject/name --challenge n1 --domain verifier.example "${HOLDER[@]}"
save vp.partial.sd-jwt
run vc verify --in vp.partial.sd-jwt --challenge n1 --domain verifier.example
expect_valid "sd-jwt presentation revealing one claim"
[[ $(field disclosed) == *name* && $(field disclosed) != *degree* ]] && ok "sd-jwt: only the revealed claim is disclosed" || bad "sd-jwt: only the revealed claim is disclosed"
# Key binding to another key: the issuer's store is not the cnf key.
run vc present --in cred.sd-jwt --challenge n2 --domain verifier.example --store issuer.db
[[ $RC != 0 ]] && ok "sd-jwt presentation by a key that is not cnf: refused" || bad "sd-jwt presentation by a key that is not cnf: refused"
# A presentation whose credential was tampered with fails as a whole.
run vc present --in tampered.di.json --challenge c9 --domain verifier.example "${HOLDER[@]}"
save vp.tampered
run vc verify --in vp.tampered --challenge c9 --domain verifier.example
expect_invalid "a di presentation of a tampered credential: exit 1, signature_invalid" signature_invalid
# A presentation that someone else signed as the holder.
node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync("vp.di","utf8"));j.holder="'"$ISSUER_DID"'";fs.writeFileSync("vp.otherholder",JSON.stringify(j))'
run vc verify --in vp.otherholder --challenge c-di-123 --domain verifier.example
[[ $RC == 1 && $(field valid) == false ]] && ok "a di presentation naming another holder: exit 1" || bad "a di presentation naming another holder: exit 1"

# ------------------------------------------------------------------------------------------------
# Status: a Bitstring Status List served over loopback HTTP.

mkdir -p www
cat >server.mjs <<'EOF'
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
const dir = process.argv[2];
const srv = http.createServer((req, res) => {
  const f = path.join(dir, path.basename(req.url));
  if (!fs.existsSync(f)) { res.writeHead(404); res.end('not found'); return; }
  res.writeHead(200, { 'content-type': 'application/vc+ld+json' });
  res.end(fs.readFileSync(f));
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[3], String(srv.address().port)));
EOF
node server.mjs "$TMP/www" "$TMP/port" &
SERVER_PID=$!
for _ in $(seq 1 100); do [[ -s port ]] && break; sleep 0.05; done
PORT=$(<port)
BASE="http://127.0.0.1:$PORT"
# mklist NAME SETBITS...: an unsigned BitstringStatusListCredential at $BASE/NAME (131,072 entries).
mklist() {
  node -e '
    const zlib=require("zlib");const [url,...bits]=process.argv.slice(1);
    const b=Buffer.alloc(131072/8);for(const i of bits){b[i>>3]|=0x80>>(i&7);}
    console.log(JSON.stringify({"@context":["https://www.w3.org/ns/credentials/v2"],id:url,
      type:["VerifiableCredential","BitstringStatusListCredential"],validFrom:"2026-01-01T00:00:00Z",
      credentialSubject:{id:url+"#list",type:"BitstringStatusList",statusPurpose:"revocation",
      encodedList:"u"+zlib.gzipSync(b).toString("base64url")}}));' "$BASE/$1" "${@:2}"
}
# mkcred FILE LIST INDEX: an unsigned credential with a revocation entry on LIST at INDEX.
mkcred() {
  node -e '
    const fs=require("fs");const [out,url,i]=process.argv.slice(1);const j=JSON.parse(fs.readFileSync("unsigned.json"));
    j.credentialStatus={id:url+"#"+i,type:"BitstringStatusListEntry",statusPurpose:"revocation",statusListIndex:String(i),statusListCredential:url};
    fs.writeFileSync(out,JSON.stringify(j));' "$1" "$BASE/$2" "$3"
}
mklist list1 42 1000 >list1.unsigned.json
run vc issue --format di --in list1.unsigned.json "${ISSUER[@]}" --out www/list1
[[ $RC == 0 ]] && ok "status list credential signed with vc issue" || bad "status list credential signed with vc issue"
# The same list signed by another key (the holder): not the credential issuer's list.
mklist list2 >list2.unsigned.json
run vc issue --format di --in list2.unsigned.json --store holder.db --purpose assertion --out www/list2

mkcred active.unsigned.json list1 7
mkcred revoked.unsigned.json list1 42
mkcred foreign.unsigned.json list2 7
mkcred missing.unsigned.json nothing-here 7
for c in active revoked foreign missing; do
  run vc issue --format di --in $c.unsigned.json "${ISSUER[@]}" --out $c.json
done
run vc issue --format jwt --in revoked.unsigned.json "${ISSUER[@]}" --out revoked.jwt

run vc status --in active.json --allow-insecure-loopback
expect_valid "status: an unset entry is active (exit 0)"
run vc status --in revoked.json --allow-insecure-loopback
expect_invalid "status: a set revocation bit (exit 1, revoked)" revoked
run vc status --in revoked.jwt --allow-insecure-loopback
expect_invalid "status of a vc+jwt: revoked" revoked
run vc status --in foreign.json --allow-insecure-loopback
expect_invalid "status: a list signed by another DID (exit 1)" status_verification_error
run vc status --in missing.json --allow-insecure-loopback
expect_invalid "status: an unreachable list (exit 1)" status_retrieval_error
run vc status --in active.json
[[ $RC == 1 ]] && ok "status over plain HTTP without --allow-insecure-loopback: refused (exit 1)" || bad "status over plain HTTP without --allow-insecure-loopback: refused (exit 1)"
run vc status --in cred.di.json --allow-insecure-loopback
expect_usage "status of a credential without credentialStatus: exit 2"
run vc status --in no-such-file.json
expect_usage "status of a missing file: exit 2"
# The credential itself still verifies: status is a separate question.
run vc verify --in revoked.json
expect_valid "a revoked credential's proof still verifies (vc verify does not fetch)"

# ------------------------------------------------------------------------------------------------
# Help.

run vc --help
usage_line=$(grep -m1 '^Usage:' <<<"$OUT" || true)
if [[ $RC == 0 && "$usage_line " == *" vc "* && $OUT == *issue* && $OUT == *present* ]]; then
  ok "vc --help is the vc help"
else
  bad "vc --help is the vc help"
fi
for c in issue verify present status; do
  run vc $c --help
  usage_line=$(grep -m1 '^Usage:' <<<"$OUT" || true)
  [[ $RC == 0 && $usage_line == *"vc $c"* ]] && ok "vc $c --help" || bad "vc $c --help"
done
run vc bogus --help
[[ $RC == 2 && $ERR == *bogus* ]] && ok "vc bogus --help: exit 2 naming it" || bad "vc bogus --help: exit 2 naming it"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
