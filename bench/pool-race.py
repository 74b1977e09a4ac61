#!/usr/bin/env python3
"""Opens N connections at once to a running shopchat, sends one keep-alive
request on each, keeps them all open, and counts how many got their answer
within the deadline. Before the HTTP hardening, connections beyond the idle
pool threads waited for another connection to close (the tiny_http pool
race, vendor/tiny_http/PATCHED.md).

    bench/pool-race.py 127.0.0.1:8080 [N=64] [DEADLINE_S=10] [ROUNDS=5]
"""
import socket
import sys
import time

addr = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
deadline_s = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
host, port = addr.rsplit(":", 1)
req = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"

for r in range(rounds):
    conns = [socket.create_connection((host, int(port))) for _ in range(n)]
    for c in conns:
        c.sendall(req)
    end = time.monotonic() + deadline_s
    answered = 0
    for c in conns:
        left = end - time.monotonic()
        if left <= 0:
            break
        c.settimeout(left)
        try:
            if c.recv(64).startswith(b"HTTP/1.1 200"):
                answered += 1
        except OSError:
            pass
    print(f"round {r + 1}: {answered} of {n} connections answered within {deadline_s:g} s", flush=True)
    for c in conns:
        c.close()
    time.sleep(1)
