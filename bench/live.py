#!/usr/bin/env python3
"""Live-chat benchmark: N widgets parked in long-polls (wait=25) on one
server while managers reply to random chats at R replies/s. Measures the
delivery latency from the reply's 2xx (API writer) or the exit of
`shopchat reply` (CLI writer) to the widget's answer, and proves every
reply reached its widget exactly once.

    bench/live.py URL KEY TOKEN [--widgets 1000] [--rate 20] [--seconds 30]
                  [--writer api|cli --bin PATH --db PATH --manager ID] [--pid PID]

Prints one Markdown table row. Standard library only (asyncio).
"""
import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
import urllib.parse


class Conn:
    """One keep-alive HTTP/1.1 connection (a browser tab's)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.r = self.w = None

    async def request(self, method, path, headers, body=None):
        for attempt in range(3):
            try:
                if self.w is None:
                    self.r, self.w = await asyncio.open_connection(self.host, self.port)
                data = b"" if body is None else json.dumps(body).encode()
                head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
                for k, v in headers.items():
                    head += f"{k}: {v}\r\n"
                if body is not None:
                    head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                self.w.write(head.encode() + b"\r\n" + data)
                await self.w.drain()
                status_line = await self.r.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await self.r.readline()
                    if line in (b"\r\n", b""):
                        break
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                    if k.lower() == "connection" and "close" in v.lower():
                        close = True
                payload = await self.r.readexactly(length) if length else b""
                if close:
                    self.w.close()
                    self.w = None
                return status, (json.loads(payload) if payload else None)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                # The idle timeout closed it between requests: reconnect.
                self.w = None
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(q * len(v) + 0.999999) - 1))]


def proc(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("key")
    ap.add_argument("token")
    ap.add_argument("--widgets", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--writer", choices=["api", "cli"], default="api")
    ap.add_argument("--bin")
    ap.add_argument("--db")
    ap.add_argument("--manager", help="--as for `shopchat reply`")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--plain", action="store_true",
                    help="widgets poll every 2.5 s without waiting (the old widget), for comparison")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    host, port = u.hostname, u.port

    # The chats, each with the visitor's first message.
    setup = Conn(host, port)
    chats = []
    for i in range(a.widgets):
        st, b = await setup.request("POST", "/api/public/chat/sessions", {"X-API-Key": a.key}, {"userName": f"W{i}"})
        assert st in (200, 201), (st, b)
        s = b["session"]
        st, b = await setup.request(
            "POST", f"/api/public/chat/sessions/{s['id']}/messages",
            {"X-API-Key": a.key, "X-User-Session-Id": s["userSessionId"]}, {"messageText": f"hello {i}"})
        assert st in (200, 201), (st, b)
        chats.append((s["id"], s["userSessionId"], b["message"]["seq"]))

    replied_at = {}   # text -> time its writer saw it committed
    got_at = {}       # text -> time a widget got it
    dupes = 0
    stop = asyncio.Event()

    async def widget(sid, usid, cursor):
        nonlocal dupes
        c = Conn(host, port)
        h = {"X-API-Key": a.key, "X-User-Session-Id": usid}
        state = ""
        while not stop.is_set():
            if a.plain:
                await asyncio.sleep(2.5 * random.random() if state == "" else 2.5)
                state = "plain"
                st, b = await c.request("GET", f"/api/public/chat/sessions/{sid}/messages?since={cursor}", h)
            else:
                st, b = await c.request("GET", f"/api/public/chat/sessions/{sid}/messages?since={cursor}&wait=25&state={state}", h)
            now = time.monotonic()
            if st != 200:
                await asyncio.sleep(1)
                continue
            for m in b["messages"]:
                if m["sender"] == "manager":
                    if m["messageText"] in got_at:
                        dupes += 1
                    got_at[m["messageText"]] = now
            cursor = b["cursor"]
            if not a.plain:
                state = b.get("state", "")

    tasks = [asyncio.create_task(widget(*c)) for c in chats]
    # Let every widget park.
    await asyncio.sleep(3)
    threads_parked = proc(a.pid, "Threads") if a.pid else 0
    rss_parked = proc(a.pid, "VmRSS") if a.pid else 0

    admin = Conn(host, port)
    sent = 0
    started = time.monotonic()
    if a.rate <= 0:  # only hold the widgets parked (for measuring others beside them)
        await asyncio.sleep(a.seconds)
    while a.rate > 0 and time.monotonic() - started < a.seconds:
        due = started + sent / a.rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        sid = random.choice(chats)[0]
        text = f"reply {sent} {random.random():.9f}"
        if a.writer == "api":
            st, _ = await admin.request("POST", f"/api/chat/sessions/{sid}/messages",
                                        {"Authorization": f"Bearer {a.token}"}, {"messageText": text})
            assert st == 201, st
            replied_at[text] = time.monotonic()
        else:
            p = await asyncio.create_subprocess_exec(a.bin, "--db", a.db, "--as", a.manager, "reply", sid, text,
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert await p.wait() == 0
            replied_at[text] = time.monotonic()
        sent += 1
    # A late duplicate or delivery shows within a few seconds.
    await asyncio.sleep(3)
    stop.set()
    rss_peak = proc(a.pid, "VmHWM") if a.pid else 0
    for t in tasks:
        t.cancel()

    lat = [max(0.0, got_at[t] - replied_at[t]) * 1000 for t in replied_at if t in got_at]
    missing = sum(1 for t in replied_at if t not in got_at)
    writer = "API (POST reply)" if a.writer == "api" else "`shopchat reply` (another process)"
    how = "polling every 2.5 s" if a.plain else "parked in long-polls"
    print(f"| {a.widgets} widgets {how}, {a.rate:g} replies/s via {writer} | {sent} | {sent - missing} | {dupes} "
          f"| {pct(lat, 0.5):.2f} ms | {pct(lat, 0.99):.2f} ms | {pct(lat, 1.0):.2f} ms "
          f"| {rss_parked / 1024:.1f} MiB (peak {rss_peak / 1024:.1f}) | {threads_parked} |", flush=True)
    if missing or dupes:
        sys.exit(f"{missing} replies never reached their widget, {dupes} arrived twice")


asyncio.run(main())
