#!/usr/bin/env bash
# The container's browser sign-in from the command line (docs/web.md): `container serve`
# prints the app and a one-time setup link; `medallion container login-link` signs in with the
# wallet (DID-auth) and prints another; each link works once; a browser sign-in approved on the
# paired phone (`medallion phone approve`) opens a session whose cookie reads the owner API,
# a denied one does not; requests without the app's origin are refused.
# Usage: web_signin_test.sh <path-to-medallion>. Ends with "N passed, M failed".
set -euo pipefail

M="${1:?usage: web_signin_test.sh <path-to-medallion>}"
M="$(cd "$(dirname "$M")" && pwd)/$(basename "$M")"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export MEDALLION_PASSPHRASE=web-signin-test MEDALLION_ALLOW_TEST_KDF=1

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# web METHOD URL ORIGIN [JSON] [COOKIE] [CSRF]: prints {"status","cookie","body"} (node fetch).
web() {
  node -e '
    const [m, url, origin, body, cookie, csrf] = process.argv.slice(1);
    const headers = {"content-type": "application/json"};
    if (origin) headers.origin = origin;
    if (cookie) headers.cookie = "mdl_session_" + new URL(url).port + "=" + cookie;
    if (csrf) headers["x-csrf-token"] = csrf;
    fetch(url, {method: m, headers, body: m === "GET" ? undefined : (body || "{}")}).then(async r => {
      const set = r.headers.get("set-cookie") || "";
      const c = /^mdl_session_[0-9]+=([^;]*)/.exec(set);
      let b = await r.text(); try { b = JSON.parse(b); } catch {}
      console.log(JSON.stringify({status: r.status, cookie: c ? c[1] : "", set_cookie: set, body: b}));
    });' "$@"
}

cd "$WORK"
"$M" wallet init --store owner.db --kdf test --mnemonic-out words.txt >/dev/null
"$M" container serve --dir box --store owner.db --listen 127.0.0.1:0 --json >box.out 2>box.err &
PIDS+=($!)
wait_for box.out || { cat box.err; exit 1; }
URL="$(json_get url <box.out)"
APP="$(json_get app <box.out)"
LINK="$(json_get setup_link <box.out)"
PORT="${URL##*:}"
ORIGIN="http://localhost:$PORT"
[[ "$APP" == "$ORIGIN/" ]] && ok "serve prints the app on localhost ($APP)" || bad "app ($APP)"
[[ "$LINK" == "$ORIGIN/#setup="* ]] && ok "serve prints a one-time setup link" || bad "setup_link ($LINK)"

# The link works once, and only from the app's origin.
TOKEN="${LINK#*#setup=}"
web POST "$URL/web/v1/passkeys/register/options" "" "{\"link\":\"$TOKEN\"}" >r0.json
[[ "$(json_get status <r0.json)" == 403 && "$(json_get body.reason <r0.json)" == csrf_invalid ]] \
  && ok "a link used without the app's origin is refused" || bad "no origin: $(cat r0.json)"
web POST "$URL/web/v1/passkeys/register/options" "$ORIGIN" "{\"link\":\"$TOKEN\"}" >r1.json
[[ "$(json_get status <r1.json)" == 200 && "$(json_get body.rp.id <r1.json)" == localhost ]] \
  && ok "the link starts a passkey registration for RP ID localhost" || bad "options: $(cat r1.json)"
web POST "$URL/web/v1/passkeys/register/options" "$ORIGIN" "{\"link\":\"$TOKEN\"}" >r2.json
[[ "$(json_get status <r2.json)" == 401 && "$(json_get body.reason <r2.json)" == link_used ]] \
  && ok "the same link again: link_used" || bad "reuse: $(cat r2.json)"

# container login-link: DID-auth with the wallet, a new link.
"$M" container login-link --url "$URL" --store owner.db --json >ll.json && ok "container login-link" || bad "login-link"
LINK2="$(json_get link <ll.json)"
[[ "$LINK2" == "$ORIGIN/#setup="* && "$LINK2" != "$LINK" ]] && ok "login-link prints a new link" || bad "link2 ($LINK2)"
web POST "$URL/web/v1/passkeys/register/options" "$ORIGIN" "{\"link\":\"${LINK2#*#setup=}\"}" >r3.json
[[ "$(json_get status <r3.json)" == 200 ]] && ok "the login-link's link works" || bad "link2 options: $(cat r3.json)"
"$M" container login-link --url "$URL" --store owner.db | head -1 | grep -q "^$ORIGIN/#setup=" \
  && ok "login-link's text output starts with the link" || bad "login-link text"
"$M" wallet init --store stranger.db --kdf test --mnemonic-out w2.txt >/dev/null
set +e
"$M" container login-link --url "$URL" --store stranger.db >/dev/null 2>err.txt; rc=$?
set -e
[[ $rc != 0 ]] && ok "another wallet gets no link (exit $rc)" || bad "stranger got a link"

# Sign-in approved on her phone.
"$M" consent signin --url "$URL" --store owner.db --session-file s.txt >/dev/null
"$M" consent pair --url "$URL" --session-file s.txt >offer.json
"$M" phone init --store phone.db --kdf test --mnemonic-out phone-words.txt >/dev/null
"$M" phone pair --store phone.db --uri "$(json_get uri <offer.json)" --name "Alice's phone" >/dev/null && ok "phone paired" || bad "pair"

web POST "$URL/web/v1/signin/phone" "$ORIGIN" >p1.json
[[ "$(json_get status <p1.json)" == 202 ]] && ok "a browser asks to sign in with the phone" || bad "signin/phone: $(cat p1.json)"
ATTEMPT="$(json_get body.attempt <p1.json)"
REQ="$(json_get body.request_id <p1.json)"
"$M" phone pending --store phone.db >pending.json
grep -q "Sign in to your container from a browser?" pending.json && ok "the phone shows \"Sign in to your container from a browser?\"" \
  || bad "pending: $(cat pending.json)"
web POST "$URL/web/v1/signin/phone/poll" "$ORIGIN" "{\"attempt\":\"$ATTEMPT\"}" >p2.json
[[ "$(json_get body.status <p2.json)" == pending ]] && ok "pending until the phone decides" || bad "poll: $(cat p2.json)"
"$M" phone approve --store phone.db --id "$REQ" >/dev/null && ok "the phone approves" || bad "approve"
web POST "$URL/web/v1/signin/phone/poll" "$ORIGIN" "{\"attempt\":\"$ATTEMPT\"}" >p3.json
COOKIE="$(json_get cookie <p3.json)"
CSRF="$(json_get body.csrf <p3.json)"
[[ "$(json_get body.signed_in <p3.json)" == true && -n "$COOKIE" ]] && ok "approved: the browser is signed in" || bad "poll after approve: $(cat p3.json)"
json_get set_cookie <p3.json | grep -q "HttpOnly" && json_get set_cookie <p3.json | grep -q "SameSite=Strict" \
  && ok "the cookie is HttpOnly and SameSite=Strict" || bad "cookie flags: $(json_get set_cookie <p3.json)"
web POST "$URL/web/v1/signin/phone/poll" "$ORIGIN" "{\"attempt\":\"$ATTEMPT\"}" >p4.json
[[ "$(json_get status <p4.json)" == 401 ]] && ok "the attempt signs in once" || bad "second poll: $(cat p4.json)"
web GET "$URL/owner/v1/devices" "$ORIGIN" "" "$COOKIE" >d.json
[[ "$(json_get status <d.json)" == 200 && "$(json_get body.0.name <d.json)" == "Alice's phone" ]] \
  && ok "the cookie reads the owner API" || bad "devices with cookie: $(cat d.json)"
web POST "$URL/owner/v1/policies" "$ORIGIN" '{"effect":"permit"}' "$COOKIE" >c1.json
[[ "$(json_get status <c1.json)" == 403 && "$(json_get body.reason <c1.json)" == csrf_invalid ]] \
  && ok "a state change without the CSRF token is refused" || bad "no csrf: $(cat c1.json)"

web POST "$URL/web/v1/signin/phone" "$ORIGIN" >p5.json
"$M" phone deny --store phone.db --id "$(json_get body.request_id <p5.json)" >/dev/null
web POST "$URL/web/v1/signin/phone/poll" "$ORIGIN" "{\"attempt\":\"$(json_get body.attempt <p5.json)\"}" >p6.json
[[ "$(json_get body.status <p6.json)" == denied && -z "$(json_get cookie <p6.json)" ]] && ok "denied on the phone: no session" \
  || bad "denied: $(cat p6.json)"

web POST "$URL/web/v1/signout-all" "$ORIGIN" "{}" "$COOKIE" "$CSRF" >o.json
[[ "$(json_get status <o.json)" == 200 ]] && ok "sign out everywhere" || bad "signout-all: $(cat o.json)"
[[ "$(web GET "$URL/owner/v1/devices" "$ORIGIN" "" "$COOKIE" | json_get status)" == 401 ]] && ok "the browser session ended" || bad "cookie after signout-all"
[[ "$(http_status "$URL/owner/v1/devices" "$(cat s.txt)")" == 401 ]] && ok "the CLI's owner session ended too" || bad "cli session after signout-all"

finish
