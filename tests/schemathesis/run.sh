#!/usr/bin/env bash
# schemathesis (PyPI, pinned) against the real binary on
# 127.0.0.1 with docs/openapi.json as the server serves it: every check, a
# fixed seed, a bounded number of examples (schemathesis.toml), rate limits
# off, a real API key, manager token, webhook secret and chats. Installs
# schemathesis into target/schemathesis-venv the first time. Extra
# arguments go to `st run` (e.g. --max-examples 200 --seed 7).
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'echo "error: tests/schemathesis/run.sh stopped at line $LINENO" >&2' ERR

# The pinned set in requirements.txt, installed again when it changes.
VENV=target/schemathesis-venv
REQS=tests/schemathesis/requirements.txt
if ! cmp -s "$REQS" "$VENV/requirements.txt"; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null && [ "$(id -u)" = 0 ]; then
        # Debian's python3 keeps venv in a package of its own.
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        rm -rf "$VENV"
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
    cp "$REQS" "$VENV/requirements.txt"
fi
if [ "${1:-}" = --install-only ]; then
    exit 0
fi

# The binary to test: $SHOPCHAT_BIN (./test.sh passes the debug build), else
# a release build.
BIN=${SHOPCHAT_BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release --quiet
    BIN="$PWD/target/release/shopchat"
fi
TMP=$(mktemp -d)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

export CHAT_DB="$TMP/chat.db"
"$BIN" create-tables >/dev/null 2>&1
SHOPCHAT_TOKEN=$("$BIN" managers add ci --name "CI" --telegram-id 123456789 2>/dev/null)
"$BIN" managers add alice --name "Alice" >/dev/null 2>&1
SHOPCHAT_KEY=$("$BIN" keys add ci 2>/dev/null)
# A shop that is nearly always closed, so chats get the away auto-reply and
# the answers show it (`auto`, `away`, `opensAt`).
"$BIN" settings set timezone Europe/Kyiv >/dev/null
"$BIN" settings set hours "mon 03:00-03:01" >/dev/null
"$BIN" settings set away-after 1 >/dev/null
SHOPCHAT_WEBHOOK_SECRET=ci-webhook-secret
export SHOPCHAT_TOKEN SHOPCHAT_KEY SHOPCHAT_WEBHOOK_SECRET

# Telegram in webhook mode, so the webhook is reached (the examples in the
# document come from this chat and this manager); its Bot API is a closed
# port on loopback, so notifications fail and stay queued.
CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0 \
    TELEGRAM_BOT_TOKEN=123456:ci-token TELEGRAM_CHAT_ID=-1001234567890 \
    TELEGRAM_WEBHOOK_SECRET="$SHOPCHAT_WEBHOOK_SECRET" TELEGRAM_API_BASE=http://127.0.0.1:9 \
    "$BIN" serve --bind 127.0.0.1:0 >"$TMP/out" 2>"$TMP/log" &
SERVER=$!
URL=
for _ in $(seq 100); do
    URL=$(sed -n 's/^shopchat listening on //p' "$TMP/out")
    [ -n "$URL" ] && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "error: the server did not start" >&2; cat "$TMP/log" >&2; exit 1; }

# A chat opened by its first message, as a visitor sees it: id and secret.
open_chat() {
    python3 - "$URL" "$SHOPCHAT_KEY" "$1" <<'PY'
import json, sys, urllib.request
url, key, name = sys.argv[1:]
body = json.dumps({"userName": name, "messageText": "Hello"}).encode()
req = urllib.request.Request(f"{url}/api/public/chat/sessions", data=body, method="POST",
                             headers={"X-API-Key": key, "Content-Type": "application/json"})
session = json.load(urllib.request.urlopen(req, timeout=10))["session"]
print(session["id"], session["userSessionId"])
PY
}
read -r SHOPCHAT_VISITOR_CHAT SHOPCHAT_USID < <(open_chat Visitor)
read -r SHOPCHAT_MANAGER_CHAT _ < <(open_chat Managed)
read -r SHOPCHAT_CLOSED_CHAT _ < <(open_chat Closing)
export SHOPCHAT_VISITOR_CHAT SHOPCHAT_USID SHOPCHAT_MANAGER_CHAT SHOPCHAT_CLOSED_CHAT
export SHOPCHAT_HOOKS="$PWD/tests/schemathesis/hooks.py"
# Hypothesis keeps its files there, not in the work tree.
export HYPOTHESIS_STORAGE_DIRECTORY="$TMP/hypothesis"

status=0
"$VENV/bin/st" --config-file tests/schemathesis/schemathesis.toml run "$URL/api/openapi.json" \
    --wait-for-schema 10 "$@" || status=$?
if grep -q "panicked" "$TMP/log"; then
    echo "error: the server logged a panic:" >&2
    grep -B2 -A2 "panicked" "$TMP/log" >&2
    status=1
fi
if [ "$status" != 0 ]; then
    echo "-- the server's log, last 40 lines:" >&2
    tail -n 40 "$TMP/log" >&2
fi
exit "$status"
