#!/usr/bin/env bash
# Slow clients at scale: slowhttptest (Debian's package) holds N slow
# connections (slow headers, then slow bodies) while one normal widget
# polls; the widget's poll p99 must stay under 500 ms.
#   bench/slow.sh [CONNECTIONS=3000] [SECONDS=40]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000} SECS=${2:-40}
. bench/lib.sh
echo "## slow clients: $N slowhttptest connections"
echo
echo "- date: $(date -u +%F); machine: $(nproc) cores; command: \`bench/slow.sh $N $SECS\`"
echo "- server: $(sed -n 2p "$DIR/out" | sed 's/^ *//')"
echo
echo "| attack | slowhttptest's verdict at the end | widget polls during it | server threads at peak | server RSS peak |"
echo "|---|---|---|---|---|"
for mode in H B; do
    slowhttptest -$mode -c "$N" -r 1000 -i 2 -x 10 -s 8000 -l "$SECS" -p 3 \
        -u "$URL/api/public/chat/sessions" >"$DIR/slow.$mode" 2>&1 &
    ATTACK=$!
    sleep 5
    threads=0
    ( while kill -0 $ATTACK 2>/dev/null; do awk '/^Threads/ {print $2}' /proc/$SERVER/status; sleep 1; done ) >"$DIR/threads.$mode" &
    polls=$(python3 bench/poller.py "$URL" "$KEY" $(( SECS - 10 )) || true)
    wait $ATTACK || true
    verdict=$(grep -a "service available" "$DIR/slow.$mode" | tail -1 | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/.*service available: *//')
    peak=$(sort -n "$DIR/threads.$mode" | tail -1)
    rss=$(awk '/^VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$SERVER/status)
    name=$([ $mode = H ] && echo "slow headers (-H)" || echo "slow bodies (-B)")
    echo "| $name | ${verdict:-?} | $polls | $peak | $rss |"
done
