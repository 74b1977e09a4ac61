#!/usr/bin/env bash
# Runs every test shopchat has: formatting, lints, the Rust unit and
# integration tests (real server, real binary, Debian's nginx and Caddy in
# front of it), schemathesis against the OpenAPI document, and the browser
# tests in headless Chromium. Installs what it needs on a fresh Debian
# machine (nginx, caddy and chromium from apt, playwright-core from npm,
# aiosmtpd and schemathesis from PyPI).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

# Installs Debian's PACKAGE when PROGRAM is missing (as root), else says how.
need() {
    if command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; then
        return
    fi
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        echo "error: the tests need Debian's $2: sudo apt-get install $2" >&2
        exit 1
    fi
}

step "formatting and lints"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

step "Rust tests (unit, HTTP API, CLI, Telegram fake, SMTP server, nginx and Caddy in front)"
# The deploy tests start Debian's nginx and Caddy with the shipped files.
need nginx nginx
need caddy caddy
# The email tests start a real SMTP server on loopback (aiosmtpd, PyPI).
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    if ! python3 -m pip --version >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
    fi
    python3 -m pip install --quiet aiosmtpd 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages aiosmtpd \
        || { echo "error: the email tests need aiosmtpd: python3 -m pip install aiosmtpd" >&2; exit 1; }
fi
cargo test --quiet 2>&1 | tee -a "$LOG"

step "the vendored tiny_http's own tests (vendor/tiny_http/PATCHED.md)"
cargo test --quiet -p tiny_http 2>&1 | tee -a "$LOG"

step "schemathesis: the live server against docs/openapi.json"
tests/schemathesis/run.sh 2>&1 | tee -a "$LOG"

step "browser tests (headless Chromium)"
need chromium chromium
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
    npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi
cargo build --release --quiet
SHOPCHAT_BIN="$PWD/target/release/shopchat" node --test --test-concurrency=1 tests/e2e/*.test.mjs 2>&1 | tee -a "$LOG"

# One closing line for everything above (a failure has already stopped us).
awk '/^test result:/ {p += $4; f += $6} /^# pass / {p += $3} /^# fail / {f += $3}
     END {printf "\nall tests: %d passed, %d failed\n", p, f}' "$LOG"
