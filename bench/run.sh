#!/usr/bin/env bash
# shopchat load benchmark: polls, sends, and the admin list, with wrk on
# loopback against the release binary on a temporary database.
#   bench/run.sh [SECONDS]         (default 10 s per scenario)
# Needs wrk and python3 (apt-get install wrk). Prints a Markdown report.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
cargo build --release --quiet
BIN=$PWD/target/release/shopchat
DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
export CHAT_DB=$DIR/chat.db CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0
$BIN create-tables >/dev/null
TOKEN=$($BIN managers add bench 2>/dev/null)
API_KEY=$($BIN keys add bench 2>/dev/null)
export TOKEN API_KEY

$BIN serve --bind 127.0.0.1:0 --threads "${THREADS:-8}" >"$DIR/out" 2>/dev/null &
SERVER=$!
for _ in $(seq 50); do grep -q listening "$DIR/out" 2>/dev/null && break; sleep 0.1; done
URL=$(head -1 "$DIR/out" | awk '{print $NF}')

CHATS=${CHATS:-2000}
eval "$(python3 bench/seed.py "$URL" "$API_KEY" "$CHATS" 10)"
export POLL_PATHS POLL_SECRETS POST_PATHS POST_SECRETS

run() { # name, connections, script
    wrk -t2 -c"$2" -d"${SECS}s" --latency -s "bench/$3" "$URL" 2>&1 |
        awk -v name="$1" -v c="$2" '
            /Requests\/sec/ {rps=$2}
            /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
            /Non-2xx/ {bad=$NF}
            /Socket errors/ {err=$0; sub(/.*Socket errors: /, "", err)}
            END {printf "| %s | %s | %.0f | %s | %s | %s | %s |\n", name, c, rps, p50, p99, (bad==""?0:bad), (err==""?"none":err)}'
}

echo "## shopchat benchmark"
echo
echo "- date: $(date -u +%F)"
echo "- machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "- command: \`bench/run.sh $SECS\` (wrk -t2, ${SECS} s per row, server --threads ${THREADS:-8}, $CHATS chats x 10 messages)"
echo "- server and wrk share the machine: compare rows of one run, not runs"
echo
echo "| scenario | connections | req/s | p50 | p99 | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|"
run "poll (widget, since=seq)" 50 poll.lua
run "send (visitor message, fsync each)" 10 post.lua
run "admin list + search" 10 list.lua
# Polls while visitors write: how much do writes slow the pollers?
wrk -t1 -c10 -d"${SECS}s" -s bench/post.lua "$URL" >/dev/null 2>&1 &
WRITER=$!
run "poll while 10 writers send" 50 poll.lua
wait $WRITER || true
