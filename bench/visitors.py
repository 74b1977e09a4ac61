#!/usr/bin/env python3
"""A calm load: V visitors, each in its own chat on its own keep-alive
connection, posting messages back to back for S seconds. Proves that every
request got its answer and reports the slowest; then checks the database
holds exactly the acknowledged messages (no loss, no duplicates).

    bench/visitors.py URL KEY DB [VISITORS=50] [SECONDS=10]

The server should run with CHAT_SESSION_RATE=0 CHAT_MESSAGE_RATE=0.
"""
import http.client
import json
import sqlite3
import sys
import threading
import time
import urllib.parse

url, key, db = sys.argv[1], sys.argv[2], sys.argv[3]
visitors = int(sys.argv[4]) if len(sys.argv) > 4 else 50
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
u = urllib.parse.urlparse(url)


def chat():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("POST", "/api/public/chat/sessions", json.dumps({}), {"X-API-Key": key, "Content-Type": "application/json"})
    r = c.getresponse()
    s = json.loads(r.read())["session"]
    return c, s["id"], s["userSessionId"]


results = []
lock = threading.Lock()
run = f"{time.time_ns():x}"  # texts unique to this run
end = time.monotonic() + seconds


def visitor(v):
    c, sid, usid = chat()
    sent = answered = 0
    slowest = 0.0
    acked = []
    n = 0
    while time.monotonic() < end:
        n += 1
        cid = f"{run}-v{v}-{n}"
        body = json.dumps({"messageText": cid, "clientMessageId": cid})
        t = time.monotonic()
        sent += 1
        try:
            c.request("POST", f"/api/public/chat/sessions/{sid}/messages", body,
                      {"X-API-Key": key, "X-User-Session-Id": usid, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
        except Exception as e:  # no answer within 30 s, or the connection died
            with lock:
                results.append((sent, answered, slowest, acked, f"{type(e).__name__}: {e}"))
            return
        answered += 1
        slowest = max(slowest, time.monotonic() - t)
        if r.status in (200, 201):
            acked.append(cid)
    with lock:
        results.append((sent, answered, slowest, acked, None))


threads = [threading.Thread(target=visitor, args=(v,)) for v in range(visitors)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sent = sum(r[0] for r in results)
answered = sum(r[1] for r in results)
slowest = max(r[2] for r in results)
acked = [cid for r in results for cid in r[3]]
errors = [r[4] for r in results if r[4]]
con = sqlite3.connect(db)
stored = {row[0]: row[1] for row in con.execute(
    "SELECT message_text, count(*) FROM chat_messages WHERE message_text LIKE ? GROUP BY message_text",
    (run + "-%",))}
lost = sum(1 for cid in acked if stored.get(cid, 0) == 0)
twice = sum(1 for cid in acked if stored.get(cid, 0) > 1)
print(f"| {visitors} visitors posting back to back, {seconds:g} s | {sent} | {answered} | {sent - answered} "
      f"| {slowest * 1000:.0f} ms | {lost} | {twice} |", flush=True)
for e in errors[:5]:
    print(f"  unanswered: {e}", file=sys.stderr)
sys.exit(1 if sent != answered or slowest > 1.0 or lost or twice else 0)
