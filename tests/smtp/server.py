#!/usr/bin/env python3
"""A real SMTP server on loopback for shopchat's email tests (aiosmtpd).

Usage: server.py [--refuse N]

Prints "listening PORT" once it accepts connections, then one JSON line per
message it accepted: {"from", "to", "data"}. With --refuse N it answers the
first N deliveries "451 4.3.0 try again later", as a greylisting or busy
server does. Stops when its standard input closes (the test ended).
"""
import argparse
import json
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, refuse):
        self.refuse = refuse
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                print(json.dumps({"refused": envelope.rcpt_tos}), flush=True)
                return "451 4.3.0 try again later"
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--refuse", type=int, default=0)
    args = p.parse_args()
    port = free_port()
    controller = Controller(Handler(args.refuse), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
