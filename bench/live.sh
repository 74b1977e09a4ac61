#!/usr/bin/env bash
# Live-chat benchmark (issue: replies in milliseconds over plain HTTP).
#   bench/live.sh [WIDGETS=1000] [RATE=20] [SECONDS=30]
# 1. Delivery latency, reply -> widget, with N widgets parked in long-polls
#    (writer: the API; then `shopchat reply` from another process), and the
#    same with N widgets polling every 2.5 s (the old way), for comparison.
# 2. Poll throughput of non-waiting requests (wrk, 50 connections) with and
#    without N parked widgets, interleaved, 3 rounds.
# Needs python3 and wrk (apt-get install wrk). Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
WIDGETS=${1:-1000} RATE=${2:-20} SECS=${3:-30}
export CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0
. bench/lib.sh
API_KEY=$KEY
export TOKEN API_KEY
eval "$(python3 bench/seed.py "$URL" "$API_KEY" 50 10)"
export POLL_PATHS POLL_SECRETS
threads() { awk '/^Threads/ {print $2}' /proc/$SERVER/status; }
IDLE=$(threads)
# After a run, wait until the widgets' connections are gone (a closed connection is
# noticed within a second, even while its long-poll waits).
settle() { for _ in $(seq 120); do [ "$(threads)" -le $((IDLE + 20)) ] && return; sleep 0.5; done; }

echo "## live chat: delivery latency and poll throughput"
echo
echo "- date: $(date -u +%F)"
echo "- machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "- command: \`bench/live.sh $WIDGETS $RATE $SECS\` (server and load generators share the machine)"
echo
echo "| scenario | replies | delivered | twice | p50 | p99 | max | server RSS | server threads |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 bench/live.py "$URL" "$API_KEY" "$TOKEN" --widgets "$WIDGETS" --rate "$RATE" --seconds "$SECS" --pid $SERVER
settle
python3 bench/live.py "$URL" "$API_KEY" "$TOKEN" --widgets "$WIDGETS" --rate "$RATE" --seconds "$SECS" --pid $SERVER \
    --writer cli --bin "$BIN" --db "$CHAT_DB" --manager bench
settle
python3 bench/live.py "$URL" "$API_KEY" "$TOKEN" --widgets "$WIDGETS" --rate "$RATE" --seconds "$SECS" --pid $SERVER --plain
settle

wrk_rps() { wrk -t2 -c50 -d10s -s bench/poll.lua "$URL" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
echo
echo "| round | polls/s, nothing parked | polls/s, $WIDGETS parked (waiting, no replies) | ratio |"
echo "|---|---|---|---|"
for round in 1 2 3; do
    alone=$(wrk_rps)
    # The widgets only wait (no replies): the load generator then needs no CPU
    # beside wrk, and the rounds compare the server alone with the server
    # holding them.
    python3 bench/live.py "$URL" "$API_KEY" "$TOKEN" --widgets "$WIDGETS" --rate 0 --seconds 20 --pid $SERVER >/dev/null &
    LIVE=$!
    # Wait until the widgets are parked (their chats are made first).
    sleep $(( WIDGETS / 100 + 6 ))
    parked=$(wrk_rps)
    wait $LIVE || true
    settle
    echo "| $round | $alone | $parked | $(awk -v a="$alone" -v b="$parked" 'BEGIN {printf "%.2f", b / a}') |"
done
