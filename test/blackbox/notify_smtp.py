#!/usr/bin/env python3
"""SMTP server for the black-box tests (aiosmtpd, Debian python3-aiosmtpd) on loopback:
every message is appended to FILE as one JSON line (envelope from, recipients, the
Message-ID, Subject and the decoded text).

  notify_smtp.py --listen 127.0.0.1:PORT --out FILE
"""
import argparse
import email
import email.header
import email.policy
import json
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        rec = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
               "message_id": msg["Message-ID"], "subject": str(msg["Subject"]),
               "text": msg.get_content()}
        with open(self.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    ctl = Controller(Handler(args.out), hostname=host, port=int(port))
    ctl.start()
    print("listening %s" % args.listen, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    done.wait(170)
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
