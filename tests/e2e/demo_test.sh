#!/usr/bin/env bash
# End-to-end: `medallion demo --restart` runs the whole prescription flow through separate
# processes over HTTP (ledger, society, two containers, two pharmacies, two phones), including
# the refusals and a restart of every process after step 4; then the run is re-verified from
# its artifacts alone with independent commands: the disclosure log offline, and the
# prescription's postmark against the ledger's final checkpoint; every other inclusion proof;
# the receipt's checkpoint; what the SD-JWT VC presentation disclosed; --quiet naming a failed
# check; and no process left behind after SIGTERM to `demo` or SIGKILL to `up`.
# Usage: demo_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -uo pipefail
M="${1:?usage: demo_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
trap 'pkill -KILL -f -- "$WORK/" 2>/dev/null; rm -rf "$WORK"' EXIT
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
# The servers' logs (docs/observability.md): every request line is JSON with time, request id,
# route template, status and latency; no log holds a DID, a token or credential (any compact JWS
# or SD-JWT segment of the run), a medication, or a nullifier/digest from the run's artifacts.
node -e '
const fs=require("fs"),path=require("path");const run=process.argv[1];const logs=path.join(run,"logs");
const names=fs.readdirSync(logs).filter(f=>f.endsWith(".log"));const text=names.map(f=>fs.readFileSync(path.join(logs,f),"utf8")).join("\n");
let bad=[];let requests=0;
for(const line of text.split("\n")){if(!line.startsWith("{"))continue;let o;try{o=JSON.parse(line)}catch{bad.push("not JSON: "+line.slice(0,80));continue}
 if(o.route!==undefined){requests++;for(const k of ["time","request_id","method","route","status","latency_ms"])if(o[k]===undefined)bad.push("no "+k+": "+line.slice(0,80));}}
if(requests<100)bad.push("only "+requests+" request lines");
const secrets=new Set();
for(const f of fs.readdirSync(run)){const p=path.join(run,f);if(!fs.statSync(p).isFile()||f==="index.json"||f==="transcript.txt")continue;const t=fs.readFileSync(p,"utf8");
 for(const m of t.matchAll(/did:(key|mdl|web):[A-Za-z0-9._%:-]{8,}/g))secrets.add(m[0]);
 for(const m of t.matchAll(/eyJ[A-Za-z0-9_-]{10,}(\.[A-Za-z0-9_-]{10,})*/g))for(const seg of m[0].split("."))if(seg.length>=16)secrets.add(seg);
 for(const m of t.matchAll(/~([A-Za-z0-9_-]{20,})/g))secrets.add(m[1]);
 for(const m of t.matchAll(/\b[0-9a-f]{64}\b/g))secrets.add(m[0]);}
const mr=JSON.parse(fs.readFileSync(path.join(run,"medication-request.json"),"utf8"));
const med=(mr.medicationCodeableConcept||{});for(const c of (med.coding||[])){if(c.display)secrets.add(c.display);if(c.code)secrets.add("\""+c.code+"\"");}if(med.text)secrets.add(med.text);
let found=[...secrets].filter(s=>text.includes(s));
if(found.length)bad.push("the logs hold: "+found.slice(0,5).join(", "));
if(secrets.size<20)bad.push("only "+secrets.size+" identifiers collected");
if(bad.length){console.error(bad.join("\n"));process.exit(1)}
console.log(requests+" request lines in "+names.length+" logs; none of "+secrets.size+" identifiers");' "$RUN" > "$WORK/logcheck.out" 2>&1 && ok "server logs: $(cat "$WORK/logcheck.out")" || { bad "server logs"; cat "$WORK/logcheck.out"; }
grep -q "after the restart" "$RUN/transcript.txt" && ok "the run restarted every process mid-flow" || bad "no restart in the transcript"
for r in "already_dispensed" "dispensed_elsewhere" "license_revoked" "request_denied"; do
  grep -rq "\"$r\"" "$RUN"/refusal-*.json && ok "refusal recorded: $r" || bad "refusal $r"
done
"$M" consent verify-export "$RUN/disclosure-log.json" >/dev/null && ok "the disclosure log verifies offline" || bad "verify-export"
# Every inclusion proof in the run (the postmark, the dispense record, the consent receipts, both
# parties' DID operations) against the checkpoint it names, recomputed by node (RFC 9162
# §2.1.3.2), with the leaf hash recomputed from the entry (RFC 9162 §2.1.1).
node -e '
const fs=require("fs"),crypto=require("crypto"),path=require("path");const run=process.argv[1];
const ix=JSON.parse(fs.readFileSync(path.join(run,"index.json")));
const h=(...b)=>crypto.createHash("sha256").update(Buffer.concat(b)).digest();
const names=[];let bad=[];
for(const f of ix.files.filter(f=>f.kind==="inclusion-proof")){
 const p=JSON.parse(fs.readFileSync(path.join(run,f.file)));
 const note=fs.readFileSync(path.join(run,p.checkpoint||"postmark-checkpoint.txt"),"utf8").split("\n");
 const size=BigInt(note[1]);const root=Buffer.from(note[2],"base64");
 const leaf=h(Buffer.from([0]),Buffer.from(JSON.stringify(p.entry)));
 if(!leaf.equals(Buffer.from(p.leaf_hash,"hex"))){bad.push(f.file+": leaf hash");continue;}
 let fn=BigInt(p.index),sn=BigInt(p.tree_size)-1n;let r=leaf;let ok=true;
 for(const x of p.inclusion_proof.map(s=>Buffer.from(s,"hex"))){ if(sn===0n){ok=false;break;}
  if((fn&1n)===1n||fn===sn){ r=h(Buffer.from([1]),x,r); if((fn&1n)===0n){ while((fn&1n)===0n&&fn!==0n){fn>>=1n;sn>>=1n;} } }
  else { r=h(Buffer.from([1]),r,x); } fn>>=1n; sn>>=1n; }
 if(!ok||sn!==0n||BigInt(p.tree_size)!==size||!r.equals(root)){bad.push(f.file+": proof");continue;}
 names.push(f.file);}
for(const want of [/^postmark-proof/,/^dispense-proof/,/^consent-receipt-proof/,/^physician-did-op-proof/,/^patient-did-op-proof/])
 if(!names.some(n=>want.test(n)))bad.push("no verified proof matching "+want);
if(bad.length){console.error(bad.join("\n"));process.exit(1)}
console.log(names.length+" proofs");' "$RUN" >"$WORK/proofs.out" 2>&1 && ok "every inclusion proof recomputes in node (RFC 9162): $(cat "$WORK/proofs.out")" || { bad "inclusion proofs"; cat "$WORK/proofs.out"; }
# The dispense receipt proves its own record: its checkpoint includes its ledgerIndex.
node -e '
const s=JSON.parse(require("fs").readFileSync(process.argv[1])).credentialSubject;
const size=BigInt(s.checkpoint.split("\n")[1]);process.exit(size>BigInt(s.ledgerIndex)?0:1)' "$RUN/dispense-receipt-1.json" &&
  ok "the dispense receipt's checkpoint includes its record" || bad "receipt checkpoint does not include its record"
# Minimal disclosure: the SD-JWT VC presentation carries no disclosure of what stays hidden.
node -e '
const fs=require("fs"),path=require("path");const run=process.argv[1];
const d=JSON.parse(fs.readFileSync(path.join(run,"disclosed-fill-1.json")));
const pres=fs.readFileSync(path.join(run,"presentation-fill-1.sd-jwt"),"utf8").trim().split("~");
const names=pres.slice(1,-1).map(x=>JSON.parse(Buffer.from(x,"base64url").toString())).map(a=>a.length===3?a[1]:null);
let bad=[];
for(const h of ["/prescription/subject","/prescription/dosageInstruction","/prescription/requester"]) if(!d.hidden.includes(h))bad.push("not hidden: "+h);
for(const n of ["subject","dosageInstruction","requester","authoredOn"]) if(names.includes(n))bad.push("disclosed: "+n);
for(const n of ["/prescription/medicationCodeableConcept","/prescription/dispenseRequest","/license","/jti","/iss"]) if(!d.pharmacy_receives.includes(n))bad.push("not received: "+n);
if(!pres[pres.length-1].includes("."))bad.push("no KB-JWT");
// No pharmacy ever received the full prescription: every presentation is an SD-JWT VC.
for(const f of fs.readdirSync(run)) if(/^presentation-.*\.json$/.test(f))bad.push("a full presentation was sent: "+f);
for(const l of ["fill-1","fill-2","fill-3","elsewhere","after-revocation"]) if(!fs.existsSync(path.join(run,"presentation-"+l+".sd-jwt")))bad.push("no SD-JWT presentation: "+l);
if(bad.length){console.error(bad.join("\n"));process.exit(1)}' "$RUN" && ok "the pharmacy received an SD-JWT VC with the medication, quantity, license and nullifier input, key-bound; the patient and dosage stayed hidden" || bad "minimal disclosure"

# --quiet names the failed check: the ledger dies under a running demo.
mkdir -p "$WORK/q"
"$M" demo --quiet --out "$WORK/q" >"$WORK/q.out" 2>"$WORK/q.err" &
QPID=$!
for _ in $(seq 1 200); do pgrep -f -- "$WORK/q/run-.*/ledger/ledger.db" >/dev/null && break; sleep 0.05; done
sleep 0.5
pkill -KILL -f -- "$WORK/q/run-.*/ledger/ledger.db"
wait "$QPID"; qrc=$?
[[ $qrc == 1 ]] && grep -q "\[FAIL\] step" "$WORK/q.err" && ok "demo --quiet prints the failed check: $(head -1 "$WORK/q.err" | cut -c1-100)" || { bad "demo --quiet failure rc=$qrc"; cat "$WORK/q.err"; }
# No orphans: SIGTERM to a running demo, SIGKILL to `up`.
mkdir -p "$WORK/t" "$WORK/u"
"$M" demo --quiet --out "$WORK/t" >/dev/null 2>&1 &
TPID=$!
for _ in $(seq 1 400); do [[ "$(pgrep -f -- "$WORK/t/run-" | wc -l)" -ge 3 ]] && break; sleep 0.05; done
before="$(pgrep -f -- "$WORK/t/run-" | wc -l)"
kill -TERM "$TPID"; wait "$TPID" 2>/dev/null
for _ in $(seq 1 100); do [[ "$(pgrep -f -- "$WORK/t/run-" | wc -l)" == 0 ]] && break; sleep 0.05; done
after="$(pgrep -f -- "$WORK/t/run-" | wc -l)"
[[ $before -ge 3 && $after == 0 ]] && ok "SIGTERM to demo: $before child processes before, none after" || bad "SIGTERM to demo: $before before, $after after"
"$M" up --out "$WORK/u" >"$WORK/u.out" 2>&1 &
UPID=$!
for _ in $(seq 1 600); do grep -q "Ctrl-C stops everything" "$WORK/u.out" && break; sleep 0.05; done
before="$(pgrep -f -- "$WORK/u/run-" | wc -l)"
kill -KILL "$UPID"; wait "$UPID" 2>/dev/null
for _ in $(seq 1 100); do [[ "$(pgrep -f -- "$WORK/u/run-" | wc -l)" == 0 ]] && break; sleep 0.05; done
after="$(pgrep -f -- "$WORK/u/run-" | wc -l)"
[[ $before -ge 5 && $after == 0 ]] && ok "SIGKILL to up: $before roles before, none after" || { bad "SIGKILL to up: $before before, $after after"; pkill -KILL -f -- "$WORK/u/run-"; }
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
