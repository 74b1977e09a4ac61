#!/usr/bin/env bash
# shopchat on a busy shop's whole history: builds, makes 100,000 chats with
# about 1,000,000 messages (demo-data), and measures every figure of the
# table in bench/README.md ("The big benchmark"), printing it as Markdown:
#   bench/big.sh                       (about 5 minutes on 2 cores)
# Variables: CHATS (100000), MESSAGES (10), ROUNDS (3), SECS (5 per poll
# round), WIDGETS (1000), KEEP_DIR (keep the database there), SHOPCHAT (a
# binary to measure instead of this tree's, e.g. an older build: the
# "before" column). Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
CHATS=${CHATS:-100000} MESSAGES=${MESSAGES:-10} ROUNDS=${ROUNDS:-3} SECS=${SECS:-5}
WIDGETS=${WIDGETS:-1000}
cargo build --release --quiet --bin shopchat --example ceiling --example loadgen
BIN=${SHOPCHAT:-$PWD/target/release/shopchat}
EX=$PWD/target/release/examples
DIR=${KEEP_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${KEEP_DIR:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
DB=$DIR/chat.db
export CHAT_DB=$DB CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log() { printf '%s\n' "$*" >&2; }
# p50/p99/min/max of numbers on stdin, in the unit given (ms).
stats() { sort -g | awk '{v[NR]=$1} END {
    p50=v[int((NR+1)/2)]; i=int(NR*0.99+0.999); if (i<1) i=1; if (i>NR) i=NR;
    printf "%.1f %.1f %.1f %.1f\n", p50, v[i], v[1], v[NR]}'; }
# Runs "$@" N times, prints the wall time of each in ms.
times_ms() { local n=$1; shift; for _ in $(seq "$n"); do
    local t0; t0=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000 )) | awk '{print $1/1000}'; done; }

log "== demo-data: $CHATS chats x ~$MESSAGES messages into $DB"
rm -f "$DB" "$DB-wal" "$DB-shm"
# Older builds refuse a missing database; create-tables is harmless either way.
[ -n "${SHOPCHAT:-}" ] && "$BIN" create-tables >/dev/null
/usr/bin/time -f '%e %M' -o "$DIR/demo.time" "$BIN" demo-data --sessions "$CHATS" \
    --messages "$MESSAGES" --seed 7 >"$DIR/demo.out"
read -r DEMO_S DEMO_KIB <"$DIR/demo.time"
log "$(cat "$DIR/demo.out")"
TOKEN=$("$BIN" managers add bench 2>/dev/null)
KEY=$("$BIN" keys add bench 2>/dev/null)
DB_MIB=$(du -m "$DB" | cut -f1)
MSG_COUNT=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM chat_messages').fetchone()[0])" "$DB")

start() { # name, command...: starts a server, sets URL and PID
    local out=$DIR/$1.out; shift
    "$@" >"$out" 2>/dev/null &
    PID=$!; PIDS+=("$PID")
    for _ in $(seq 100); do grep -q listening "$out" 2>/dev/null && break; sleep 0.1; done
    URL=$(head -1 "$out" | awk '{print $NF}')
}
start serve "$BIN" serve --bind 127.0.0.1:0 --no-demo
SURL=$URL SPID=$PID
start ceiling "$EX/ceiling" "$DB" 8
CURL=$URL CPID=$PID

get() { curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$SURL$1"; }
# N requests to PATH, each one's time as curl measures it (ms).
lat_ms() { for _ in $(seq "$1"); do curl -sf -o /dev/null -w '%{time_total}\n' \
    -H "Authorization: Bearer $TOKEN" "$SURL$2" | awk '{print $1*1000}'; done; }
total() { curl -sf -H "Authorization: Bearer $TOKEN" "$SURL$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
urlenc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

log "== stats"
get /api/chat/stats
read -r STATS_P50 STATS_P99 _ _ < <(lat_ms 20 /api/chat/stats | stats)
read -r CLI_P50 _ _ _ < <(times_ms 5 "$BIN" stats | stats)

log "== search"
# An order number that occurs in the messages (demo texts carry 5 digits).
ORDER=$(python3 - "$DB" <<'EOF'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (t,) in db.execute("SELECT message_text FROM chat_messages WHERE message_text LIKE '%№%' LIMIT 50"):
    m = re.search(r"\d{5}", t)
    if m:
        print(m.group(0)); break
EOF
)
search_row() { # label, query
    local q; q=$(urlenc "$2")
    local hits; hits=$(total "/api/chat/sessions?search=$q")
    get "/api/chat/sessions?search=$q"
    read -r p50 p99 _ _ < <(lat_ms 30 "/api/chat/sessions?search=$q" | stats)
    echo "| $1 | \`$2\` | $hits | $p50 ms | $p99 ms |"
}
SEARCH_ROWS=$(
    search_row "name fragment" "олен"
    search_row "phone digits" "+380 67 12"
    search_row "message text (an order number)" "$ORDER"
)

log "== polls: shopchat vs the ceiling, $ROUNDS interleaved rounds of $SECS s"
"$EX/loadgen" pick "$DB" 50 >"$DIR/chats50"
"$EX/loadgen" pick "$DB" "$WIDGETS" >"$DIR/chatsW"
: >"$DIR/ratios"
POLL_LINES=""
for r in $(seq "$ROUNDS"); do
    c=$("$EX/loadgen" poll "$CURL" "$KEY" "$DIR/chats50" "$CPID" 50 "$SECS" 0)
    s=$("$EX/loadgen" poll "$SURL" "$KEY" "$DIR/chats50" "$SPID" 50 "$SECS" 0)
    cc=$(echo "$c" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu_us_per_req"])')
    sc=$(echo "$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu_us_per_req"])')
    echo "$cc $sc" | awk '{printf "%.3f\n", $1/$2}' >>"$DIR/ratios"
    POLL_LINES+="| $r | ceiling | $c |"$'\n'"| $r | shopchat | $s |"$'\n'
done
read -r RATIO_MED RATIO_MIN RATIO_MAX < <(sort -g "$DIR/ratios" |
    awk '{v[NR]=$1} END {printf "%.2f %.2f %.2f\n", v[int((NR+1)/2)], v[1], v[NR]}')

log "== memory: $WIDGETS widgets polling every 2.5 s, on a freshly started server"
# The widgets' steady state on its own: after the bursts above, malloc's
# per-thread arenas keep a few MiB more (bench/README.md).
kill "$SPID"; wait "$SPID" 2>/dev/null || true
start serve2 "$BIN" serve --bind 127.0.0.1:0 --no-demo
MEM=$("$EX/loadgen" poll "$URL" "$KEY" "$DIR/chatsW" "$PID" "$WIDGETS" 20 2500)
MEM_MIB=$(echo "$MEM" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["rss_kib"]/1024, 1))')

echo "## The big benchmark: $CHATS chats, $MSG_COUNT messages"
echo
echo "- date: $(date -u +%F)"
echo "- machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- command: \`bench/big.sh\` (ROUNDS=$ROUNDS SECS=$SECS WIDGETS=$WIDGETS)${SHOPCHAT:+, SHOPCHAT=$SHOPCHAT}"
echo "- database: $DB_MIB MiB"
echo
echo "| what | measured | target |"
echo "|---|---|---|"
echo "| \`GET /api/chat/stats\` | $STATS_P50 ms p50, $STATS_P99 ms p99 (20 requests) | under 50 ms |"
echo "| \`shopchat stats\` (whole process) | $CLI_P50 ms p50 (5 runs) | under 50 ms |"
echo "$SEARCH_ROWS" | awk -F' *[|] *' '{printf "| admin search: %s, %s (%s hits) | %s p50, %s p99 (30 requests) | %s |\n", $2, $3, $4, $5, $6,
    ($2 ~ /text/ ? "under 20 ms" : "under 10 ms")}'
echo "| widget poll vs the ceiling (CPU per poll, interleaved) | ${RATIO_MED}x median, ${RATIO_MIN}-${RATIO_MAX}x over $ROUNDS rounds | 0.8x or better |"
echo "| RSS with $WIDGETS widgets polling every 2.5 s | $MEM_MIB MiB | under 40 MiB |"
echo "| \`demo-data\` $CHATS chats | $DEMO_S s, $((DEMO_KIB / 1024)) MiB peak RSS | under 15 s, under 64 MiB |"
echo
echo "Poll rounds (loadgen: 50 connections, every answer checked, every connection served):"
echo
echo "| round | server | result |"
echo "|---|---|---|"
printf '%s' "$POLL_LINES"
echo
echo "Memory run: $MEM"
