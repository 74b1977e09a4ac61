#!/usr/bin/env python3
"""One normal widget polling on a keep-alive connection every 50 ms for
S seconds; prints the latency of its polls (and fails if one was not
answered within 5 s). Run it beside an attack.

    bench/poller.py URL KEY SECONDS
"""
import http.client
import json
import sys
import time
import urllib.parse

url, key, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
u = urllib.parse.urlparse(url)


def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=5)


c = conn()
c.request("POST", "/api/public/chat/sessions", json.dumps({}), {"X-API-Key": key, "Content-Type": "application/json"})
s = json.loads(c.getresponse().read())["session"]
path = f"/api/public/chat/sessions/{s['id']}/messages?since=0"
hdr = {"X-API-Key": key, "X-User-Session-Id": s["userSessionId"]}
lat, failed = [], 0
end = time.monotonic() + secs
while time.monotonic() < end:
    t = time.monotonic()
    try:
        c.request("GET", path, headers=hdr)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            failed += 1
        lat.append(time.monotonic() - t)
    except (OSError, http.client.HTTPException):
        failed += 1
        c = conn()
    time.sleep(0.05)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
print(f"{len(lat)} polls, {failed} failed; p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms")
sys.exit(1 if failed else 0)
