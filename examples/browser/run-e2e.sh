#!/usr/bin/env bash
# The browser end-to-end test, as CI runs it: the demo page with the official supertokens-web-js SDK in
# headless Chromium against auth-server (once per framework adapter), with a real OpenID Connect provider
# (server/tests/oidc-provider) for third-party sign-in. Installs what it needs, builds
# auth-server, runs `node --test`, and exits non-zero on any failure.
#
#   bash examples/browser/run-e2e.sh
#
# Needs Node.js 20+ and npm. Installs Debian's chromium when /usr/bin/chromium is missing (as root, or
# through sudo). Environment: CHROMIUM_BIN, AUTH_SERVER_BIN (a binary to test instead of the one built
# here; the build still runs), E2E_WEB_PORT / E2E_API_PORT / E2E_THIRD_PORT, E2E_FRAMEWORKS,
# E2E_SCREENSHOT, E2E_VERBOSE (see test/e2e.test.mjs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
step() { printf '\n=== browser e2e: %s\n' "$*"; }

step "chromium"
chromium_bin="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$chromium_bin" ]]; then
  if [[ "$chromium_bin" != /usr/bin/chromium ]]; then
    echo "CHROMIUM_BIN=$chromium_bin is not an executable" >&2
    exit 1
  fi
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi
"$chromium_bin" --version

step "npm ci"
node --version
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)
# The OpenID Connect provider the third-party sign-in tests run (oidc-provider).
(cd "$repo/server/tests/oidc-provider" && npm ci --ignore-scripts --no-audit --no-fund)

step "cargo build -p auth-server"
(cd "$repo" && cargo build --locked -p auth-server)
if [[ -z "${AUTH_SERVER_BIN:-}" ]]; then
  # Wherever cargo put it (CARGO_TARGET_DIR or the workspace's target/).
  target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  export AUTH_SERVER_BIN="$target_dir/debug/auth-server"
fi
echo "AUTH_SERVER_BIN=$AUTH_SERVER_BIN"

step "node --test"
export CHROMIUM_BIN="$chromium_bin"
cd "$here"
# Bounded: the suites have their own timeouts; this is the last resort.
timeout --kill-after=30s 15m node --test test/e2e.test.mjs
