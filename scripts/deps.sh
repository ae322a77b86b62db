#!/usr/bin/env bash
# Installs what building and testing Medallion needs on Debian 12 (run as root, or with sudo
# available). Idempotent: it installs only what is missing. Usage: scripts/deps.sh [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config ccache git
  libsodium-dev libsecp256k1-dev libcpp-httplib-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
  catch2 libssl-dev libcli11-dev libutf8proc-dev libbenchmark-dev zlib1g-dev valgrind
  libcbor-dev libqrencode-dev
  postgresql libpq-dev
  clang libclang-rt-14-dev
  chromium fonts-dejavu-core
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node 20 + npm run the interop suites; install Debian's only when none is present.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" != "--no-npm" ]; then
  # Independent implementations for the interop suites, and Playwright + axe-core for the browser
  # tests (which drive Debian's chromium), pinned by package-lock.json.
  for dir in tests/interop tests/browser; do
    [ -f "$dir/package.json" ] || continue
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      echo "deps: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  done
fi
