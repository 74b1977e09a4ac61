#!/usr/bin/env python3
"""A real SMTP server on loopback for shopchat's email tests (aiosmtpd).

Usage: server.py [--refuse N] [--mode plain|starttls|tls --cert PEM --key PEM]
                 [--auth USER:PASSWORD]

Prints "listening PORT" once it accepts connections, then one JSON line per
message it accepted: {"from", "to", "data", "tls", "tls_version", "login"}
("tls": whether the session was encrypted when the message came; "login":
the user it authenticated, or null). With --refuse N it answers the first
N deliveries "451 4.3.0 try again later", as a greylisting or busy server
does, and prints {"refused": [...]} for each.

--mode (default plain) is how a production server is reached:
  plain     no TLS (a relay on the same machine);
  starttls  a submission server (port 587): STARTTLS offered and required
            before anything else ("530 Must issue a STARTTLS command first");
  tls       implicit TLS (SMTPS, port 465): TLS from the first byte.
--cert is the certificate chain (PEM) and --key its private key; both are
needed for starttls and tls.

--auth USER:PASSWORD requires that login (AUTH PLAIN or LOGIN) before
MAIL, and only over TLS, as submission servers do. Wrong credentials get
"535 5.7.8 Authentication credentials invalid" and a line
{"auth_failed": LOGIN}.

Stops when its standard input closes (the test ended).
"""
import argparse
import json
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def emit(obj):
    print(json.dumps(obj), flush=True)


class Handler:
    def __init__(self, refuse):
        self.refuse = refuse
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                emit({"refused": envelope.rcpt_tos})
                return "451 4.3.0 try again later"
        # After STARTTLS the server's transport is the TLS one; with implicit
        # TLS it is TLS from the start (aiosmtpd sets session.ssl only for
        # STARTTLS, so ask the transport).
        tls = server.transport.get_extra_info("ssl_object")
        emit({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "tls": tls is not None,
            "tls_version": tls.version() if tls is not None else None,
            "login": session.auth_data if session.authenticated else None,
        })
        return "250 OK"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == self.user
                and auth_data.password == self.password):
            return AuthResult(success=True, auth_data=auth_data.login.decode())
        login = auth_data.login if isinstance(auth_data, LoginPassword) else b""
        emit({"auth_failed": login.decode("utf-8", "replace")})
        # handled=False: aiosmtpd answers 535 itself (handled=True would
        # leave the client waiting for an answer).
        return AuthResult(success=False, handled=False)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--refuse", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    args = p.parse_args()

    kwargs = {}
    if args.mode != "plain":
        if not (args.cert and args.key):
            p.error(f"--mode {args.mode} needs --cert and --key")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            kwargs.update(ssl_context=context)
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep:
            p.error("--auth takes USER:PASSWORD")
        kwargs.update(
            authenticator=Authenticator(user, password),
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS for AUTH: with implicit
            # TLS every byte is already encrypted, so the check is off there
            # (else it would never offer AUTH). Plain text: AUTH refused.
            auth_require_tls=args.mode != "tls",
        )

    port = free_port()
    controller = Controller(Handler(args.refuse), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
