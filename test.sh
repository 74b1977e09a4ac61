#!/usr/bin/env bash
# Runs every test shopchat has: formatting, lints, the Rust unit and
# integration tests (real server, real binary, Debian's nginx and Caddy in
# front of it, a real SMTP server), the vendored tiny_http's tests,
# schemathesis against the OpenAPI document, and the browser tests in
# headless Chromium. On a fresh Debian machine it installs what it needs
# (nginx, caddy, chromium and python3-venv from apt, playwright-core from
# npm, aiosmtpd and schemathesis from PyPI) while the Rust code compiles.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }
LOG=$(mktemp)
PREP_LOG=$(mktemp)
trap 'rm -f "$LOG" "$PREP_LOG"' EXIT

# Installs Debian's packages (as root), else says how.
install() {
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        echo "error: the tests need Debian's $*: sudo apt-get install $*" >&2
        return 1
    fi
}
# Installs Debian's PACKAGE when PROGRAM is missing.
need() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || install "$2"
}

# Everything the tests need besides Rust; runs beside the compiler.
prepare() {
    if [ "$(id -u)" = 0 ] && ! { command -v chromium && command -v caddy && command -v systemd-analyze && [ -x /usr/sbin/nginx ] \
            && python3 -c 'import venv, ensurepip'; } >/dev/null 2>&1; then
        apt-get update -qq
    fi
    need nginx nginx            # the deploy tests run the shipped nginx site
    need caddy caddy            # ... and the shipped Caddyfile
    need chromium chromium      # the browser tests
    need systemd-analyze systemd  # the shipped systemd units are verified
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || install python3-venv python3-pip
    # The email tests start a real SMTP server on loopback (aiosmtpd).
    if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
        python3 -m pip install --quiet aiosmtpd 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages aiosmtpd
    fi
    if [ ! -d tests/e2e/node_modules/playwright-core ]; then
        npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
    fi
    tests/schemathesis/run.sh --install-only
}
prepare >"$PREP_LOG" 2>&1 &
PREP=$!

step "formatting and lints"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

step "building the tests"
cargo test --quiet --no-run
cargo build --quiet  # the binary the browser tests and schemathesis run

step "installing the test tools (started at the beginning)"
if ! wait $PREP; then
    cat "$PREP_LOG" >&2
    echo "error: could not install what the tests need (above)" >&2
    exit 1
fi
echo "ready"

step "Rust tests (unit, HTTP API, CLI, Telegram fake, SMTP server, nginx and Caddy in front)"
# Most tests wait on sockets and timers, so more of them run at once than
# there are cores; the load tests take a lock and run one at a time.
RUST_TEST_THREADS=${RUST_TEST_THREADS:-6} cargo test --quiet 2>&1 | tee -a "$LOG"

step "the vendored tiny_http's own tests (vendor/tiny_http/PATCHED.md)"
cargo test --quiet -p tiny_http 2>&1 | tee -a "$LOG"

step "schemathesis: the live server against docs/openapi.json"
SHOPCHAT_BIN="$PWD/target/debug/shopchat" tests/schemathesis/run.sh 2>&1 | tee -a "$LOG"

step "browser tests (headless Chromium)"
# Each test file starts its own server and browser, so files run three at a time.
SHOPCHAT_BIN="$PWD/target/debug/shopchat" \
    node --test --test-concurrency=3 tests/e2e/*.test.mjs 2>&1 | tee -a "$LOG"

# One closing line for everything above (a failure has already stopped us).
awk '/^test result:/ {p += $4; f += $6} /^# pass / {p += $3} /^# fail / {f += $3}
     END {printf "\nall tests: %d passed, %d failed\n", p, f}' "$LOG"
