#!/usr/bin/env bash
# The uma module speaks OAuth/UMA, not HTTP: it names no HTTP status and includes no httplib
# (issue 13). Its answers carry a Status with the protocol's error code as reason; the HTTP
# binding (roles/src/uma_http.cpp) maps it through the one Status → HTTP table.
set -u
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
hits=$(grep -rnE '\b(Error|Reply|Json)\([0-9]{3}|status *[=!]?= *[0-9]{3}|httplib' "$root/uma/")
if [ -n "$hits" ]; then
  echo "uma/ names an HTTP status or httplib:"
  echo "$hits"
  exit 1
fi
echo "uma/ is free of HTTP"
