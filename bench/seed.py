"""Seeds a running shopchat over its public API: N chats with M visitor
messages each, over keep-alive connections. Prints shell assignments for
bench/run.sh. Usage: seed.py URL KEY N M"""
import http.client, json, sys, urllib.parse

url, key, n, m = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port)

def call(method, path, body, headers):
    conn.request(method, path, json.dumps(body), {"X-API-Key": key, "Content-Type": "application/json", **headers})
    r = conn.getresponse()
    data = r.read()
    if r.status not in (200, 201):
        sys.exit(f"{method} {path}: {r.status} {data!r}")
    return json.loads(data)

chats = []
for i in range(n):
    s = call("POST", "/api/public/chat/sessions", {"userName": f"Visitor {i}", "userPhone": f"+380 67 {i:07d}"}, {})["session"]
    for j in range(m):
        call("POST", f"/api/public/chat/sessions/{s['id']}/messages", {"messageText": f"message {j} of chat {i}"}, {"X-User-Session-Id": s["userSessionId"]})
    chats.append(s)

sample = chats[: min(50, len(chats))]
print("POLL_PATHS='" + " ".join(f"/api/public/chat/sessions/{s['id']}/messages?since={m - 2}" for s in sample) + "'")
print("POLL_SECRETS='" + " ".join(s["userSessionId"] for s in sample) + "'")
print("POST_PATHS='" + " ".join(f"/api/public/chat/sessions/{s['id']}/messages" for s in sample) + "'")
print("POST_SECRETS='" + " ".join(s["userSessionId"] for s in sample) + "'")
