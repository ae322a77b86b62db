# Helpers shared by the end-to-end shell suites (sourced, not run): pass/fail counting with the
# "N passed, M failed" summary, JSON field access and HTTP through Node 20 (no curl on a fresh
# Debian), and waiting for a server's banner file.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
# json_get a.b.c < file: a field (objects and arrays as JSON).
json_get() { node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));let v=j;for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v)' "$1"; }
http_get() { node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>process.stdout.write(t))' "$1"; }
# http_status URL [BEARER]
http_status() { node -e 'fetch(process.argv[1],{headers:{authorization:"Bearer "+(process.argv[2]||"")}}).then(r=>console.log(r.status))' "$1" "${2:-}"; }
wait_for() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; return 1; }
# The summary line and the exit status.
finish() {
  echo "$pass passed, $fail failed"
  [[ $fail == 0 ]]
}
