#!/usr/bin/env bash
# End-to-end: `medallion demo --restart` runs the whole prescription flow through separate
# processes over HTTP (ledger, society, two containers, two pharmacies, two phones), including
# the refusals and a restart of every process after step 4; then the run is re-verified from
# its artifacts alone with independent commands: the disclosure log offline, and the
# prescription's postmark against the ledger's final checkpoint.
# Usage: demo_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail
M="${1:?usage: demo_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

if "$M" demo --restart --quiet --out "$WORK" >"$WORK/demo.out" 2>&1; then ok "medallion demo --restart exits 0"; else bad "demo failed"; cat "$WORK/demo.out"; fi
RUN="$(ls -d "$WORK"/run-* | head -1)"
INDEX="$RUN/index.json"
[[ -s "$INDEX" ]] && ok "index.json written" || { bad "no index.json"; echo "$pass passed, $fail failed"; exit 1; }
node -e '
const fs=require("fs"),path=require("path");const run=process.argv[1];const ix=JSON.parse(fs.readFileSync(path.join(run,"index.json")));
let bad=[];if(ix.checks_failed!==0)bad.push("checks_failed="+ix.checks_failed);
for(const f of ix.files){if(!fs.existsSync(path.join(run,f.file)))bad.push("missing "+f.file);if(!f.kind||!f.step)bad.push("no kind/step for "+f.file);}
for(const k of ["url","verifier_key","origin","checkpoint"])if(!ix.ledger[k])bad.push("ledger."+k);
const kinds=new Set(ix.files.map(f=>f.kind));for(const k of ["credential","presentation","receipt","refusal","inclusion-proof","checkpoint","disclosure-log","did","fill-authorization"])if(!kinds.has(k))bad.push("no "+k);
if(bad.length){console.error(bad.join("\n"));process.exit(1)}' "$RUN" && ok "every indexed artifact exists, with kind and step; ledger key, origin, checkpoint" || bad "index contents"
grep -q "after the restart" "$RUN/transcript.txt" && ok "the run restarted every process mid-flow" || bad "no restart in the transcript"
for r in "already_dispensed" "dispensed_elsewhere" "license_revoked" "request_denied"; do
  grep -rq "\"$r\"" "$RUN"/refusal-*.json && ok "refusal recorded: $r" || bad "refusal $r"
done
"$M" consent verify-export "$RUN/disclosure-log.json" >/dev/null && ok "the disclosure log verifies offline" || bad "verify-export"
# The postmark's inclusion proof against the checkpoint it was proven with, recomputed by node (RFC 9162 §2.1.3.2).
node -e '
const fs=require("fs"),crypto=require("crypto"),path=require("path");const run=process.argv[1];
const p=JSON.parse(fs.readFileSync(path.join(run,"postmark-proof.json")));
const note=fs.readFileSync(path.join(run,"postmark-checkpoint.txt"),"utf8").split("\n");
const size=BigInt(note[1]);const root=Buffer.from(note[2],"base64");
const h=(...b)=>crypto.createHash("sha256").update(Buffer.concat(b)).digest();
let fn=BigInt(p.index),sn=BigInt(p.tree_size)-1n;let r=Buffer.from(p.leaf_hash,"hex");
for(const x of p.inclusion_proof.map(s=>Buffer.from(s,"hex"))){ if(sn===0n)process.exit(2);
 if((fn&1n)===1n||fn===sn){ r=h(Buffer.from([1]),x,r); if((fn&1n)===0n){ while((fn&1n)===0n&&fn!==0n){fn>>=1n;sn>>=1n;} } }
 else { r=h(Buffer.from([1]),r,x); } fn>>=1n; sn>>=1n; }
if(sn!==0n)process.exit(3);
if(BigInt(p.tree_size)!==size)process.exit(4);
process.exit(r.equals(root)?0:5);' "$RUN" && ok "the postmark inclusion proof recomputes (node, RFC 9162)" || bad "postmark proof"
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
