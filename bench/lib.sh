# Sourced by bench/calm.sh, live.sh and slow.sh (from the repository's
# root): builds the release binary, makes a temporary database with a
# widget key and a manager, starts `serve` on it with the environment the
# script set, and sets BIN, DIR, SERVER (its pid), URL, KEY (the widget
# key) and TOKEN (the manager's). The server and the directory go at exit.
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet
BIN=$PWD/target/release/shopchat
DIR=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
export CHAT_DB=$DIR/chat.db
$BIN create-tables >/dev/null
KEY=$($BIN keys add bench 2>/dev/null)
TOKEN=$($BIN managers add bench 2>/dev/null)
$BIN serve --bind 127.0.0.1:0 --no-demo >"$DIR/out" 2>/dev/null &
SERVER=$!
# Until it says where it listens (it prints that once it accepts), or 10 s.
for _ in $(seq 100); do
    grep -q "admin panel" "$DIR/out" 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { echo "serve exited at start" >&2; exit 1; }
    sleep 0.1
done
grep -q "admin panel" "$DIR/out" || { echo "serve did not start within 10 s" >&2; exit 1; }
URL=$(head -1 "$DIR/out" | awk '{print $NF}')
