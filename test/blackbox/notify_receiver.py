#!/usr/bin/env python3
"""Notification receiver for the black-box tests: an HTTP server on loopback that
records every POST as one JSON line (path, the X-Steer-* and auth headers, the body) and
answers 200. With --secret FILE it checks the webhook signature (HMAC-SHA256 of the body,
X-Steer-Signature: sha256=<hex>) and that X-Steer-Timestamp equals the body's "sent";
a bad or missing signature is answered 401 and recorded with "sig_ok": false.

  notify_receiver.py --listen 127.0.0.1:PORT --out FILE [--secret FILE]
"""
import argparse
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEEP = ("x-steer-id", "x-steer-timestamp", "x-steer-signature", "authorization",
        "x-gotify-key", "title", "content-type")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--secret")
    args = ap.parse_args()
    secret = open(args.secret, "rb").read().strip() if args.secret else None
    host, port = args.listen.rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            rec = {"path": self.path,
                   "headers": {k: self.headers[k] for k in self.headers.keys()
                               if k.lower() in KEEP},
                   "body": body.decode("utf-8", "replace")}
            status = 200
            if secret is not None:
                want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
                got = self.headers.get("X-Steer-Signature", "")
                ok = hmac.compare_digest(want, got)
                try:
                    ok = ok and str(json.loads(body)["sent"]) == \
                        self.headers.get("X-Steer-Timestamp")
                except (ValueError, KeyError):
                    ok = False
                rec["sig_ok"] = ok
                status = 200 if ok else 401
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    srv = ThreadingHTTPServer((host, int(port)), Handler)
    print("listening %s" % args.listen, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
