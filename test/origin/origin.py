#!/usr/bin/env python3
"""Test origin for Steer: a small threaded HTTP(S) or TCP server whose behaviour is driven
by a JSON control file that is re-read on every request, so tests can flip an origin from
healthy to failing without restarting it.

    origin.py --listen 127.0.0.11:8080 [--tls-cert C --tls-key K] [--control FILE]
              [--log FILE] [--tcp-banner TEXT]

Control file (missing or unreadable = defaults):
    {"status": 200, "body": "ok", "mode": "normal" | "hang" | "close" | "redirect",
     "location": "/healthz-ok", "require_host": "api.example.test", "delay_ms": 0}

Port 0 picks a free port. Prints "listening HOST:PORT" on stdout once ready; one line per
request goes to --log: "<unix time> <method> <path> host=<Host> sni=<SNI> mode=<mode>".
SIGTERM exits at once. Python 3 standard library only.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {
    "status": 200,
    "body": "ok",
    "mode": "normal",
    "location": "/healthz-ok",
    "require_host": None,
    "delay_ms": 0,
}
HANG_MAX_S = 60.0

_log_lock = threading.Lock()
_log_file = None


def log_line(text):
    if _log_file is None:
        return
    with _log_lock:
        _log_file.write("%.3f %s\n" % (time.time(), text))
        _log_file.flush()


def read_control(path):
    ctl = dict(DEFAULTS)
    if path is None:
        return ctl
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            ctl.update(data)
    except (OSError, ValueError):
        pass
    return ctl


def parse_listen(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return socket.AF_INET6, host, int(port)
    host, _, port = text.rpartition(":")
    return socket.AF_INET, host, int(port)


def strip_port(host):
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "steer-test-origin/1"

    def setup(self):
        self.sni = None
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.sni = getattr(self.request, "steer_sni", None)
            self.request.settimeout(None)
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        pass

    def do_GET(self):
        self.respond(send_body=True)

    def do_HEAD(self):
        self.respond(send_body=False)

    def do_POST(self):
        self.respond(send_body=True)

    def reply(self, status, body, send_body, headers=()):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def respond(self, send_body):
        ctl = read_control(self.server.control)
        host = self.headers.get("Host")
        mode = ctl.get("mode", "normal")
        log_line("%s %s host=%s sni=%s mode=%s" % (self.command, self.path, host or "-",
                                                    self.sni or "-", mode))
        delay = float(ctl.get("delay_ms") or 0) / 1000.0
        if delay > 0:
            time.sleep(delay)
        if mode == "hang":
            self.close_connection = True
            time.sleep(HANG_MAX_S)
            return
        if mode == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        want = ctl.get("require_host")
        if want:
            bad_host = host is None or strip_port(host).lower() != want.lower()
            bad_sni = self.server.tls and (self.sni or "").lower() != want.lower()
            if bad_host or bad_sni:
                self.reply(421, "misdirected request", send_body)
                return
        location = ctl.get("location") or "/"
        if mode == "redirect":
            if self.path == location:
                self.reply(200, "ok", send_body)
            else:
                self.reply(302, "moved", send_body, [("Location", location)])
            return
        self.reply(int(ctl.get("status", 200)), str(ctl.get("body", "")), send_body)


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, family, addr, control, tls_ctx):
        self.address_family = family
        self.control = control
        self.tls_ctx = tls_ctx
        self.tls = tls_ctx is not None
        super().__init__(addr, Handler)

    def server_bind(self):
        # http.server's version calls socket.getfqdn(), a DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_ctx is not None:
            # The handshake runs in the request thread (Handler.setup), never here.
            sock = self.tls_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        log_line("error %s" % (sys.exc_info()[1],))


class BannerHandler(socketserver.BaseRequestHandler):
    def handle(self):
        log_line("tcp connect banner=%r" % (self.server.banner,))
        try:
            self.request.sendall(self.server.banner.encode("utf-8"))
            self.request.settimeout(1.0)
            data = self.request.recv(65536)
            log_line("tcp recv=%r" % (data.decode("utf-8", "replace"),))
        except OSError:
            pass


class BannerServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, family, addr, banner):
        self.address_family = family
        self.banner = banner
        super().__init__(addr, BannerHandler)

    def handle_error(self, request, client_address):
        log_line("error %s" % (sys.exc_info()[1],))


def make_tls(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def on_sni(sslsock, name, _ctx):
        sslsock.steer_sni = name
        return None

    ctx.sni_callback = on_sni
    return ctx


def main():
    global _log_file
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT or [V6]:PORT (port 0 = any)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--control")
    ap.add_argument("--log")
    ap.add_argument("--tcp-banner")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.log:
        _log_file = open(args.log, "a", encoding="utf-8")
    family, host, port = parse_listen(args.listen)
    if args.tcp_banner is not None:
        srv = BannerServer(family, (host, port), args.tcp_banner)
    else:
        tls = None
        if args.tls_cert:
            tls = make_tls(args.tls_cert, args.tls_key or args.tls_cert)
        srv = HTTPServer(family, (host, port), args.control, tls)
    real_port = srv.server_address[1]
    shown = "[%s]" % host if family == socket.AF_INET6 else host
    print("listening %s:%d" % (shown, real_port), flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
