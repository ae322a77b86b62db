#!/usr/bin/env bash
# Privacy by construction, checked over a whole ledger (issue 12): after `medallion demo`, no
# entry names a patient's DID — her did:mdl, or any did:key of her wallet's keys — except her own
# DID operations; consent entries carry a pseudonymous key, not a DID; no two relationship
# entries of different relationships share a `data` value; no entry holds the plain text of the
# prescription (medication name, patient reference).
# Usage: ledger_privacy_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -uo pipefail
M="${1:?usage}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
trap 'pkill -KILL -f -- "$WORK/" 2>/dev/null; rm -rf "$WORK"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

if "$M" demo --quiet --out "$WORK" >"$WORK/demo.out" 2>&1; then ok "medallion demo exits 0"; else bad "demo failed"; cat "$WORK/demo.out"; fi
RUN="$(ls -d "$WORK"/run-* | head -1)"
DB="$RUN/ledger/ledger.db"
[[ -s "$DB" ]] && ok "the ledger's database is there" || { bad "no ledger db at $DB"; finish; exit 1; }
sqlite3 -json "$DB" "SELECT idx, entry FROM leaves ORDER BY idx" >"$WORK/leaves.json" && ok "read $(json_get length <"$WORK/leaves.json" 2>/dev/null || echo ?) leaves" || bad "sqlite3"
# The patient's DIDs: her did:mdl (index.json) and the did:key of each of her wallet's keys.
PATIENT="$(json_get parties.patient <"$RUN/index.json")"
node -e '
const fs=require("fs");const [leavesFile,patient]=process.argv.slice(1);
const leaves=JSON.parse(fs.readFileSync(leavesFile,"utf8")||"[]");
const entries=leaves.map(l=>({idx:l.idx,e:JSON.parse(l.entry),text:l.entry}));
let bad=[];
// Her DID operations name her did:mdl; collect every key they publish, as did:key too.
const ops=entries.filter(x=>x.e.type==="did.op"&&x.e.did===patient);
if(ops.length===0)bad.push("no DID operation of the patient found");
const B58="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const b58=(b)=>{let n=BigInt("0x"+Buffer.from(b).toString("hex"));let s="";while(n>0n){s=B58[Number(n%58n)]+s;n/=58n;}for(const x of b){if(x===0)s="1"+s;else break;}return s;};
const herDids=new Set([patient]);
for(const x of ops)for(const f of ["key","auth","assert","device"]) if(typeof x.e[f]==="string"){const raw=Buffer.from(x.e[f],"base64url");herDids.add("did:key:z"+b58(raw));}
for(const x of entries){
  if(x.e.type==="did.op"&&x.e.did===patient)continue;
  for(const d of herDids) if(x.text.includes(d)) bad.push("entry "+x.idx+" ("+x.e.type+") names the patient DID "+d.slice(0,32)+"...");
  for(const d of herDids) if(d.startsWith("did:key:z")){const mb=d.slice(9);if(x.text.includes(mb))bad.push("entry "+x.idx+" holds her key "+mb.slice(0,16));}
  if(x.e.type==="consent"&&(typeof x.e.controller!=="string"||x.e.controller.startsWith("did:")))bad.push("consent "+x.idx+" controller is a DID");
  if(/Patient\/|oxycodone|Oxycodone|amoxicillin|Amoxicillin|medicationCodeableConcept/.test(x.text))bad.push("entry "+x.idx+" holds prescription text");
}
const data=entries.filter(x=>x.e.type==="relationship"&&x.e.data).map(x=>x.e.rel+"|"+x.e.data);
const byData={};for(const s of data){const [rel,d]=s.split("|");(byData[d]=byData[d]||new Set()).add(rel);}
for(const [d,rels] of Object.entries(byData)) if(rels.size>1)bad.push("relationships "+[...rels].join(",")+" share data "+d.slice(0,16));
if(bad.length){console.error(bad.join("\n"));process.exit(1)}
console.log(entries.length+" entries, "+herDids.size+" patient DIDs checked");' "$WORK/leaves.json" "$PATIENT" >"$WORK/privacy.out" 2>&1 \
  && ok "no entry but her own DID operations names the patient: $(cat "$WORK/privacy.out")" || { bad "ledger privacy"; cat "$WORK/privacy.out"; }
finish
