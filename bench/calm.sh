#!/usr/bin/env bash
# A calm load that once lost answers: 50 visitors, each posting messages back
# to back on a keep-alive connection, 3 rounds. Every request must get its
# answer within 1 s, and the database must hold exactly the acknowledged
# messages.
#   bench/calm.sh [VISITORS=50] [SECONDS=30] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:-50} SECS=${2:-30} ROUNDS=${3:-3}
export CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0
. bench/lib.sh
echo "## a calm load: every request answered"
echo
echo "- date: $(date -u +%F); machine: $(nproc) cores; command: \`bench/calm.sh $V $SECS $ROUNDS\`"
echo
echo "| round | requests | answered | unanswered | slowest | acknowledged but lost | stored twice |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
    printf '| %s ' "$r"
    python3 bench/visitors.py "$URL" "$KEY" "$CHAT_DB" "$V" "$SECS" | sed 's/^| [^|]* |/|/'
done
